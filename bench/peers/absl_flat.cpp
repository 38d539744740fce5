/* abseil's flat_hash_map (Swiss table) under the common workloads. */
#include <absl/container/flat_hash_map.h>

#include "std_like_map.hpp"

int main(int argc, char **argv)
{
    return peer::run<peer::StdLike<absl::flat_hash_map>::Map>("absl-flat", argc, argv);
}
