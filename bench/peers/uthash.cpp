/*
 * uthash under the common workloads: an intrusive chained table, one heap
 * node per entry that holds the key, the value and the UT_hash_handle.
 * uthash keeps 32-bit hashes and starts at 32 buckets (a fixed #define, so
 * the seed's 16 cannot be asked for); it doubles the buckets when a chain
 * grows past 10 nodes. HASH_FUNCTION has no user data, so the map's SipHash
 * key is a global: a peer process holds one map at a time.
 */
#include "peer_driver.hpp"

namespace {

peer::SipKey ut_sip;
bool ut_str_keys; /* seed: hash as Rust hashes a str (the bytes, then 0xff) */

unsigned ut_hash(const void *p, unsigned len)
{
    if (ut_str_keys)
        return (unsigned)peer::hash_str(ut_sip, (const char *)p, len);
    return (unsigned)hm__siphash13_from(&ut_sip.start, p, len);
}

} // namespace

#define HASH_FUNCTION(keyptr, keylen, hashv) ((hashv) = ut_hash((keyptr), (unsigned)(keylen)))
#define uthash_fatal(msg) std::abort()
#include <uthash.h>

namespace {

template <class K, class V>
class UtMap {
    struct Node {
        K key;
        V value;
        UT_hash_handle hh;
    };
    Node *head_ = nullptr;

    Node *find(const K &k, unsigned hv) const
    {
        Node *n;
        HASH_FIND_BYHASHVALUE(hh, head_, peer::key_ptr(k), (unsigned)peer::key_len(k), hv, n);
        return n;
    }
    static unsigned hash(const K &k) { return ut_hash(peer::key_ptr(k), (unsigned)peer::key_len(k)); }

public:
    explicit UtMap(size_t)
    {
        ut_sip = peer::SipKey::random();
        ut_str_keys = std::is_same<K, peer::RString>::value;
    }
    UtMap(const UtMap &) = delete;
    UtMap &operator=(const UtMap &) = delete;
    ~UtMap()
    {
        Node *n, *tmp;
        HASH_ITER(hh, head_, n, tmp) {
            HASH_DEL(head_, n);
            peer::drop(n->key);
            peer::drop(n->value);
            std::free(n);
        }
    }
    bool insert(const K &k, const V &v)
    {
        unsigned hv = hash(k);
        Node *n = find(k, hv);
        if (n) {
            peer::drop(n->value);
            peer::drop(k);
            n->value = v;
            return false;
        }
        n = (Node *)std::malloc(sizeof *n);
        if (!n)
            std::abort();
        n->key = k;
        n->value = v;
        HASH_ADD_KEYPTR_BYHASHVALUE(hh, head_, peer::key_ptr(n->key), (unsigned)peer::key_len(n->key), hv, n);
        return true;
    }
    bool get(const K &k, uint64_t &first) const
    {
        const Node *n = find(k, hash(k));
        if (!n)
            return false;
        first = peer::first_word(n->value);
        return true;
    }
    bool erase(const K &k)
    {
        Node *n = find(k, hash(k));
        if (!n)
            return false;
        HASH_DEL(head_, n);
        peer::drop(n->key);
        peer::drop(n->value);
        std::free(n);
        return true;
    }
    template <class F> void for_each(F f) const
    {
        for (const Node *n = head_; n; n = (const Node *)n->hh.next)
            f(n->key, n->value);
    }
    size_t size() const { return HASH_COUNT(head_); }
};

} // namespace

int main(int argc, char **argv) { return peer::run<UtMap>("uthash", argc, argv); }
