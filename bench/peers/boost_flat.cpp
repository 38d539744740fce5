/* boost::unordered_flat_map (open addressing, SIMD groups) under the common workloads. */
#include <boost/unordered/unordered_flat_map.hpp>

#include "peer_driver.hpp"

namespace {

template <class K, class V>
class BoostMap {
    struct Hash {
        /* SipHash's output is already well mixed: spare boost its own post-mix. */
        using is_avalanching = void;
        peer::SipKey key;
        size_t operator()(const K &k) const { return peer::hash_key(key, k); }
    };
    struct Equal {
        bool operator()(const K &a, const K &b) const { return peer::key_equal(a, b); }
    };
    boost::unordered_flat_map<K, V, Hash, Equal> m_;

public:
    explicit BoostMap(size_t initial) : m_(0, Hash{peer::SipKey::random()})
    {
        if (initial)
            m_.reserve(initial);
    }
    BoostMap(const BoostMap &) = delete;
    BoostMap &operator=(const BoostMap &) = delete;
    ~BoostMap()
    {
        if constexpr (peer::owns_heap<K> || peer::owns_heap<V>)
            for (const auto &kv : m_) {
                peer::drop(kv.first);
                peer::drop(kv.second);
            }
    }
    bool insert(const K &k, const V &v) { return m_.try_emplace(k, v).second; }
    bool get(const K &k, uint64_t &first) const
    {
        auto it = m_.find(k);
        if (it == m_.end())
            return false;
        first = peer::first_word(it->second);
        return true;
    }
    bool erase(const K &k) { return m_.erase(k) != 0; }
    template <class F> void for_each(F f) const
    {
        for (const auto &kv : m_)
            f(kv.first, kv.second);
    }
    size_t size() const { return m_.size(); }
};

} // namespace

int main(int argc, char **argv) { return peer::run<BoostMap>("boost-flat", argc, argv); }
