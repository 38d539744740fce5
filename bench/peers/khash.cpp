/*
 * khash (klib, as shipped in htslib) under the common workloads: open
 * addressing with separate key, value and 2-bit flag arrays, quadratic
 * probing, 32-bit hashes (khint_t), growth at a load of 0.77, and deleted
 * slots marked as tombstones. The hash macro has no user data, so the map's
 * SipHash key is a global: a peer process holds one map at a time.
 */
#include "peer_driver.hpp"

#include <htslib/khash.h>

namespace {

peer::SipKey kh_sip;

template <class K> khint_t kh_sip_hash(const K &k) { return (khint_t)peer::hash_key(kh_sip, k); }
template <class K> bool kh_sip_equal(const K &a, const K &b) { return peer::key_equal(a, b); }

} // namespace

KHASH_INIT(pu64, uint64_t, uint64_t, 1, kh_sip_hash, kh_sip_equal)
KHASH_INIT(pflat, peer::FlatKey, peer::FlatValue, 1, kh_sip_hash, kh_sip_equal)
KHASH_INIT(pseed, peer::RString, peer::RString, 1, kh_sip_hash, kh_sip_equal)

namespace {

template <class K, class V> class KhMap;

/* khash names its types and functions after a token, so each key type gets
 * its adaptor from this one macro. */
#define KH_ADAPTOR(name, K, V)                                                            \
    template <>                                                                           \
    class KhMap<K, V> {                                                                   \
        khash_t(name) * h_;                                                               \
                                                                                          \
    public:                                                                               \
        explicit KhMap(size_t initial)                                                    \
        {                                                                                 \
            kh_sip = peer::SipKey::random();                                              \
            h_ = kh_init(name);                                                           \
            if (!h_ || (initial && kh_resize(name, h_, (khint_t)initial) < 0))            \
                std::abort();                                                             \
        }                                                                                 \
        KhMap(const KhMap &) = delete;                                                    \
        KhMap &operator=(const KhMap &) = delete;                                         \
        ~KhMap()                                                                          \
        {                                                                                 \
            if (peer::owns_heap<K> || peer::owns_heap<V>)                                 \
                for (khint_t i = kh_begin(h_); i != kh_end(h_); ++i)                      \
                    if (kh_exist(h_, i)) {                                                \
                        peer::drop(kh_key(h_, i));                                        \
                        peer::drop(kh_val(h_, i));                                        \
                    }                                                                     \
            kh_destroy(name, h_);                                                         \
        }                                                                                 \
        bool insert(const K &k, const V &v)                                               \
        {                                                                                 \
            int ret;                                                                      \
            khint_t i = kh_put(name, h_, k, &ret);                                        \
            if (ret < 0)                                                                  \
                std::abort();                                                             \
            if (ret == 0) {                                                               \
                peer::drop(kh_val(h_, i));                                                \
                peer::drop(k);                                                            \
            }                                                                             \
            kh_val(h_, i) = v;                                                            \
            return ret != 0;                                                              \
        }                                                                                 \
        bool get(const K &k, uint64_t &first) const                                       \
        {                                                                                 \
            khint_t i = kh_get(name, h_, k);                                              \
            if (i == kh_end(h_))                                                          \
                return false;                                                             \
            first = peer::first_word(kh_val(h_, i));                                      \
            return true;                                                                  \
        }                                                                                 \
        bool erase(const K &k)                                                            \
        {                                                                                 \
            khint_t i = kh_get(name, h_, k);                                              \
            if (i == kh_end(h_))                                                          \
                return false;                                                             \
            peer::drop(kh_key(h_, i));                                                    \
            peer::drop(kh_val(h_, i));                                                    \
            kh_del(name, h_, i);                                                          \
            return true;                                                                  \
        }                                                                                 \
        template <class F> void for_each(F f) const                                       \
        {                                                                                 \
            for (khint_t i = kh_begin(h_); i != kh_end(h_); ++i)                          \
                if (kh_exist(h_, i))                                                      \
                    f(kh_key(h_, i), kh_val(h_, i));                                      \
        }                                                                                 \
        size_t size() const { return kh_size(h_); }                                       \
    };

KH_ADAPTOR(pu64, uint64_t, uint64_t)
KH_ADAPTOR(pflat, peer::FlatKey, peer::FlatValue)
KH_ADAPTOR(pseed, peer::RString, peer::RString)

} // namespace

int main(int argc, char **argv) { return peer::run<KhMap>("khash", argc, argv); }
