/* abseil's flat_hash_map (Swiss table) under the common workloads. */
#include <absl/container/flat_hash_map.h>

#include "peer_driver.hpp"

namespace {

template <class K, class V>
class AbslMap {
    struct Hash {
        peer::SipKey key;
        size_t operator()(const K &k) const { return peer::hash_key(key, k); }
    };
    struct Equal {
        bool operator()(const K &a, const K &b) const { return peer::key_equal(a, b); }
    };
    absl::flat_hash_map<K, V, Hash, Equal> m_;

public:
    explicit AbslMap(size_t initial) : m_(0, Hash{peer::SipKey::random()})
    {
        if (initial)
            m_.reserve(initial);
    }
    AbslMap(const AbslMap &) = delete;
    AbslMap &operator=(const AbslMap &) = delete;
    ~AbslMap()
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

int main(int argc, char **argv) { return peer::run<AbslMap>("absl-flat", argc, argv); }
