/*
 * GLib's GHashTable under the common workloads. It stores pointers, so each
 * workload takes the shape a GLib user would give it: u64 keys and values
 * live in the pointers themselves, a flat entry is one heap block stored as
 * a key of a set, and seed's strings are NUL-terminated char pointers.
 * GHashFunc has no user data, so the map's SipHash key is a global: a peer
 * process holds one map at a time.
 */
#include <glib.h>

#include "peer_driver.hpp"

namespace {

peer::SipKey sip;

template <class K, class V> class GlibMap;

template <>
class GlibMap<uint64_t, uint64_t> {
    GHashTable *h_;

    static guint hash(gconstpointer p)
    {
        uint64_t k = (uint64_t)(uintptr_t)p;
        return (guint)peer::hash_key(sip, k);
    }
    static gboolean equal(gconstpointer a, gconstpointer b) { return a == b; }
    static gpointer ptr(uint64_t x) { return (gpointer)(uintptr_t)x; }

public:
    explicit GlibMap(size_t)
    {
        sip = peer::SipKey::random();
        h_ = g_hash_table_new(hash, equal);
    }
    GlibMap(const GlibMap &) = delete;
    GlibMap &operator=(const GlibMap &) = delete;
    ~GlibMap() { g_hash_table_destroy(h_); }
    bool insert(uint64_t k, uint64_t v) { return g_hash_table_insert(h_, ptr(k), ptr(v)); }
    bool get(uint64_t k, uint64_t &first) const
    {
        gpointer v;
        if (!g_hash_table_lookup_extended(h_, ptr(k), nullptr, &v))
            return false;
        first = (uint64_t)(uintptr_t)v;
        return true;
    }
    bool erase(uint64_t k) { return g_hash_table_remove(h_, ptr(k)); }
    template <class F> void for_each(F f) const
    {
        GHashTableIter it;
        gpointer k, v;
        g_hash_table_iter_init(&it, h_);
        while (g_hash_table_iter_next(&it, &k, &v))
            f((uint64_t)(uintptr_t)k, (uint64_t)(uintptr_t)v);
    }
    size_t size() const { return g_hash_table_size(h_); }
};

template <>
class GlibMap<peer::FlatKey, peer::FlatValue> {
    struct Entry {
        peer::FlatKey key; /* first, so a FlatKey* can stand for an Entry* in lookups */
        peer::FlatValue value;
    };
    GHashTable *h_;

    static guint hash(gconstpointer p) { return (guint)peer::hash_key(sip, *(const peer::FlatKey *)p); }
    static gboolean equal(gconstpointer a, gconstpointer b)
    {
        return peer::key_equal(*(const peer::FlatKey *)a, *(const peer::FlatKey *)b);
    }

public:
    explicit GlibMap(size_t)
    {
        sip = peer::SipKey::random();
        h_ = g_hash_table_new_full(hash, equal, std::free, nullptr);
    }
    GlibMap(const GlibMap &) = delete;
    GlibMap &operator=(const GlibMap &) = delete;
    ~GlibMap() { g_hash_table_destroy(h_); }
    bool insert(const peer::FlatKey &k, const peer::FlatValue &v)
    {
        Entry *e = (Entry *)std::malloc(sizeof *e);
        if (!e)
            std::abort();
        e->key = k;
        e->value = v;
        return g_hash_table_add(h_, e); /* a present entry is replaced and freed */
    }
    bool get(const peer::FlatKey &k, uint64_t &first) const
    {
        const Entry *e = (const Entry *)g_hash_table_lookup(h_, &k);
        if (!e)
            return false;
        first = e->value.v[0];
        return true;
    }
    bool erase(const peer::FlatKey &k) { return g_hash_table_remove(h_, &k); }
    template <class F> void for_each(F f) const
    {
        GHashTableIter it;
        gpointer k;
        g_hash_table_iter_init(&it, h_);
        while (g_hash_table_iter_next(&it, &k, nullptr)) {
            const Entry *e = (const Entry *)k;
            f(e->key, e->value);
        }
    }
    size_t size() const { return g_hash_table_size(h_); }
};

template <>
class GlibMap<peer::RString, peer::RString> {
    GHashTable *h_;

    static guint hash(gconstpointer p)
    {
        const char *s = (const char *)p;
        return (guint)peer::hash_str(sip, s, std::strlen(s));
    }
    static gboolean equal(gconstpointer a, gconstpointer b)
    {
        return std::strcmp((const char *)a, (const char *)b) == 0;
    }

public:
    /* GHashTable has no way to size itself ahead: it starts at 8 buckets. */
    explicit GlibMap(size_t)
    {
        sip = peer::SipKey::random();
        h_ = g_hash_table_new_full(hash, equal, std::free, std::free);
    }
    GlibMap(const GlibMap &) = delete;
    GlibMap &operator=(const GlibMap &) = delete;
    ~GlibMap() { g_hash_table_destroy(h_); }
    bool insert(const peer::RString &k, const peer::RString &v) { return g_hash_table_insert(h_, k.ptr, v.ptr); }
    size_t size() const { return g_hash_table_size(h_); }
};

} // namespace

int main(int argc, char **argv) { return peer::run<GlibMap>("glib", argc, argv); }
