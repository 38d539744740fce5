/* boost::unordered_flat_map (open addressing, SIMD groups) under the common workloads. */
#include <boost/unordered/unordered_flat_map.hpp>

#include "std_like_map.hpp"

int main(int argc, char **argv)
{
    return peer::run<peer::StdLike<boost::unordered_flat_map>::Map>("boost-flat", argc, argv);
}
