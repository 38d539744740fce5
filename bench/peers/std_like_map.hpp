/* The adaptor for the peers with the standard container interface, abseil's
 * flat_hash_map and boost's unordered_flat_map: the table template is all
 * that differs between them. */
#pragma once

#include "peer_driver.hpp"

namespace peer {

template <template <class...> class Table>
struct StdLike {
    template <class K, class V>
    class Map {
        struct Hash {
            /* SipHash's output is already well mixed: boost then skips its own
             * post-mix (abseil ignores the marker). */
            using is_avalanching = void;
            SipKey key;
            size_t operator()(const K &k) const { return hash_key(key, k); }
        };
        struct Equal {
            bool operator()(const K &a, const K &b) const { return key_equal(a, b); }
        };
        Table<K, V, Hash, Equal> m_;

    public:
        explicit Map(size_t initial) : m_(0, Hash{SipKey::random()})
        {
            if (initial)
                m_.reserve(initial);
        }
        Map(const Map &) = delete;
        Map &operator=(const Map &) = delete;
        ~Map()
        {
            if constexpr (owns_heap<K> || owns_heap<V>)
                for (const auto &kv : m_) {
                    drop(kv.first);
                    drop(kv.second);
                }
        }
        bool insert(const K &k, const V &v) { return m_.try_emplace(k, v).second; }
        bool get(const K &k, uint64_t &first) const
        {
            auto it = m_.find(k);
            if (it == m_.end())
                return false;
            first = first_word(it->second);
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
};

} // namespace peer
