/**
 * @file hashmap.h
 * @brief libhashmap: an open-addressing hash map for C11.
 *
 * A map stores fixed-size keys and values inline, in one flat table per map:
 * no allocation per entry. Keys are hashed with SipHash-1-3 under a 128-bit
 * key drawn from the operating system for each map, as Rust's HashMap does,
 * so that an attacker who chooses the keys cannot choose the collisions.
 *
 * Memory management. hm_insert() and hm_entry() copy the key and value bytes
 * into the table; the caller keeps its own copies. If the bytes are themselves
 * handles to something (a `char *`, a file descriptor), the map owns that
 * thing from then on when `key_drop` / `value_drop` are set: the map calls
 * them exactly once for every key and value it lets go of, namely
 *  - hm_insert() (and each key of hm_insert_many()) replacing a value: the
 *    old value, and the caller's key (the stored key is kept);
 *  - hm_remove() without an out-parameter for that part, hm_remove_many() for
 *    each key it removes, hm_retain() for each rejected entry, hm_clear() and
 *    hm_free() for every entry.
 * Bytes handed back through hm_remove()'s `key_out` / `value_out` are the
 * caller's again and are not dropped. A call that fails drops nothing.
 *
 * Invalidation. A pointer returned or handed back by hm_get(), hm_get_many(),
 * hm_entry(), hm_iter_next() or hm_iter_many() stays valid until the next call
 * that changes the map (insert, insert_many, entry, remove, remove_many,
 * retain, clear, reserve, resize, free). During an iteration the entry just
 * returned may be removed; any insertion ends the iteration's guarantees
 * (entries may then be missed or seen twice). Such a pointer may be passed to
 * that next call as a key or value of hm_insert() or hm_entry(), which copy a
 * key or value that lies in the table before they grow it; hm_insert() given
 * an entry's own stored key or value keeps it (it drops neither).
 * hm_insert_many() refuses arrays that lie in the table.
 *
 * Callbacks. The hash, equality and drop functions, `on_resize` and
 * hm_retain()'s `keep` run inside the call that uses them, while the map may
 * be half way through a change (a rehash, a clear, a free): they must not
 * change or free the map they were called for, and only `on_resize`, called
 * once a resize is complete, may read it (a hash function may still call
 * hm_hash_bytes() on it, which reads only the map's SipHash state).
 *
 * Errors are negative status codes (HM_ENOMEM, HM_EINVAL, HM_ERANGE);
 * hm_strerror() describes them. A call that fails leaves the map exactly as
 * it was.
 *
 * Threads. Readers (hm_get(), hm_contains(), hm_get_many(), hm_len(),
 * hm_capacity(), hm_buckets(), hm_iter_next(), hm_iter_many(), hm_get_stats(),
 * hm_hash_bytes()) may run in parallel with each other on one map; anything
 * that changes the map needs the map to itself.
 */
#ifndef HASHMAP_H
#define HASHMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hashmap/export.h"
#include "hashmap/siphash.h"
#include "hashmap/version.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief A hash map; opaque, created by hm_new() and released by hm_free(). */
typedef struct hm hm_t;

/** @brief Return codes: zero or positive for success, negative for an error. */
enum {
    HM_OK = 0,       /**< success; for hm_insert(), the key was new */
    HM_REPLACED = 1, /**< hm_insert() found the key and replaced its value; hm_entry()
                          found it and left its value untouched */
    HM_ENOMEM = -1,  /**< an allocation failed; the map is exactly as before */
    HM_EINVAL = -2,  /**< a bad argument; the map is exactly as before */
    HM_ERANGE = -3   /**< a requested size that overflows */
};

/** @brief Hashes the key at @p key; @p map gives access to hm_hash_bytes(). */
typedef uint64_t (*hm_hash_fn)(const void *key, const hm_t *map, void *udata);
/** @brief Tells whether the keys at @p a and @p b are equal. */
typedef bool (*hm_equal_fn)(const void *a, const void *b, void *udata);
/** @brief Releases what the key or value bytes at @p item refer to. */
typedef void (*hm_drop_fn)(void *item, void *udata);

/**
 * @brief A per-map allocator; all three functions must be set.
 *
 * Returned memory must be aligned to `alignof(max_align_t)`. `realloc` keeps
 * the first `min(old_size, new_size)` bytes; `free` receives the size that was
 * asked for.
 */
typedef struct hm_allocator {
    void *(*alloc)(size_t size, void *ctx);                                  /**< like malloc */
    void *(*realloc)(void *ptr, size_t old_size, size_t new_size, void *ctx); /**< like realloc */
    void (*free)(void *ptr, size_t size, void *ctx);                          /**< like free */
    void *ctx; /**< handed to each function */
} hm_allocator;

/** @brief What on_resize is told after each change of the bucket count. */
typedef struct hm_resize_info {
    size_t old_buckets; /**< slots before the resize */
    size_t new_buckets; /**< slots after the resize */
    size_t entry_size;  /**< key + value + padding per slot, metadata not counted */
    size_t new_bytes;   /**< bytes of the new table, metadata included */
    size_t len;         /**< entries in the map */
    uint64_t nanoseconds; /**< time the resize took */
} hm_resize_info;

/** @brief How to build a map; zero-initialise it and set what you need. */
typedef struct hm_config {
    size_t key_size;   /**< bytes per key, > 0 */
    size_t value_size; /**< bytes per value; 0 makes a set */
    size_t capacity;   /**< entries to hold before the first growth; 0: none yet.
                            Through hm_insert() and hm_entry(), the first
                            `capacity` new keys allocate nothing, whatever is
                            removed between them (hm_insert_many() asks for room
                            for all of its keys, present ones too). A removal may
                            keep its room until a rehash (see hm_capacity()), so
                            a map that goes on removing and inserting so may
                            still grow once, to double its buckets, while it
                            holds no more than `capacity` entries, and then
                            never again. A map that never holds more than half
                            its `capacity` never grows so. */
    double max_load;   /**< 0: the default (0.875); else in (0, 1), and not so small
                            that no table that can be sized holds one entry (on
                            64-bit targets, under a few times 1e-18 by the slot's
                            size), which hm_new() refuses with EINVAL */
    hm_hash_fn hash;   /**< NULL: SipHash-1-3 over the key bytes under the map's key;
                            a custom hash makes the map keep a tag byte per slot (where
                            the entry's home slot is, and up to 3 more hash bits), so
                            that growth calls it again for about 1 entry in 9 */
    hm_equal_fn equal; /**< NULL: memcmp over the key bytes */
    hm_drop_fn key_drop;   /**< optional: called on each key the map lets go of */
    hm_drop_fn value_drop; /**< optional: as key_drop, for values; never for a set */
    void *udata;           /**< handed to every callback */
    const hm_allocator *allocator; /**< NULL: malloc, realloc, free; copied by hm_new() */
    const uint8_t *seed; /**< NULL: 16 random bytes from the OS (getrandom; where that
                              fails, a weaker mix of the time, an address and the
                              process id: docs/security.md); else 16 bytes, copied */
    void (*on_resize)(const hm_resize_info *info, void *udata); /**< optional */
} hm_config;

/** @brief Counters from hm_get_stats(). */
typedef struct hm_stats {
    size_t len;        /**< entries */
    size_t buckets;    /**< slots */
    size_t tombstones; /**< room removals gave up until the next rehash (see hm_capacity) */
    size_t bytes;      /**< bytes the map and its table take now (with the default allocator a
                            table of 2 MiB or more is a mapping of its own, whose rounding up
                            to whole 2 MiB this does not count) */
    size_t resizes;    /**< changes of the bucket count since hm_new() */
    size_t max_probe;  /**< most slot groups any present key's lookup examines */
    double mean_probe; /**< mean groups examined over present keys (0 when empty) */
    size_t max_miss_probe;  /**< most groups a lookup of an absent key examines, over every home slot */
    double mean_miss_probe; /**< mean groups a lookup of an absent key examines, over every home
                                 slot and the 8 overflow bits a key may have (0 without a table) */
} hm_stats;

/**
 * @brief Creates a map as @p config describes.
 *
 * The configuration is copied, and so are the allocator and the seed.
 * @return the map, or NULL with errno EINVAL for a bad configuration (a NULL
 * @p config, key_size 0, max_load outside (0, 1), an allocator missing a
 * function, sizes whose table would overflow) or ENOMEM when memory cannot be
 * had.
 */
HM_API hm_t *hm_new(const hm_config *config);

/** @brief Drops every entry and releases the map; NULL is a no-op. */
HM_API void hm_free(hm_t *map);

/**
 * @brief Copies @p key and @p value into the map.
 *
 * @p value may be NULL only for a set.
 * @return HM_OK for a new key; HM_REPLACED when the key was there (its old
 * value is dropped and replaced, the stored key kept and the caller's key
 * dropped; @p value that is the stored value, or @p key that is the stored
 * key, is kept instead); HM_ENOMEM, HM_ERANGE or HM_EINVAL with nothing
 * changed and nothing dropped.
 */
HM_API int hm_insert(hm_t *map, const void *key, const void *value);

/**
 * @brief Inserts @p n keys and their values, each array stored back to back
 * (key_size and value_size bytes apiece), as n calls of hm_insert() in that
 * order would: a key met again replaces the value it was given before.
 *
 * The call first makes room for n new keys, as hm_reserve(map, n) does, so that
 * it either inserts every key or fails with nothing changed; keys that were
 * already present still count in that room. @p keys and @p values must not
 * lie in the map's own table (pointers it handed out: see hm_new(),
 * "Invalidation"), which that growth could move: such a call fails with
 * HM_EINVAL. On large tables it is faster per key than hm_insert(): it hashes
 * ahead and prefetches, as hm_get_many() does.
 * @p values may be NULL only for a set; @p keys and @p values may be NULL when
 * @p n is 0. @p added, when not NULL, receives how many keys were new (0 on
 * failure).
 * @return HM_OK; or HM_ENOMEM, HM_ERANGE or HM_EINVAL with nothing changed and
 * nothing dropped.
 */
HM_API int hm_insert_many(hm_t *map, const void *keys, const void *values, size_t n,
                          size_t *added);

/**
 * @brief Looks @p key up.
 * @return the stored value (valid until the next change to the map), or NULL
 * when absent or on a NULL argument. For a set, a non-NULL pointer when present.
 */
HM_API void *hm_get(const hm_t *map, const void *key);

/** @brief Tells whether @p key is present; false on a NULL argument. */
HM_API bool hm_contains(const hm_t *map, const void *key);

/**
 * @brief The value slot for @p key, inserting the key with a zero-filled value
 * when absent, in one hash and one probe.
 *
 * @p status, when not NULL, receives HM_OK (inserted) or HM_REPLACED (was
 * there, left untouched).
 * @return the value slot (a non-NULL pointer for a set), or NULL with
 * *status < 0 on failure, the map unchanged.
 */
HM_API void *hm_entry(hm_t *map, const void *key, int *status);

/**
 * @brief Removes @p key.
 *
 * A non-NULL @p key_out / @p value_out receives the stored bytes, which the
 * map then does not drop; otherwise they are dropped.
 * @return 1 when removed, 0 when absent, HM_EINVAL on a NULL map or key.
 */
HM_API int hm_remove(hm_t *map, const void *key, void *key_out, void *value_out);

/**
 * @brief Removes @p n keys stored back to back (key_size bytes each), as n
 * calls of hm_remove(map, key, NULL, NULL) in that order would: each entry
 * removed is dropped, and a key met again after its removal is absent.
 *
 * On large tables it is faster per key than hm_remove(): it hashes ahead and
 * prefetches, as hm_get_many() does. @p keys may be NULL when @p n is 0.
 * @p removed, when not NULL, receives how many keys were found and removed
 * (0 on failure).
 * @return HM_OK, or HM_EINVAL on a NULL map, or NULL keys with @p n > 0.
 */
HM_API int hm_remove_many(hm_t *map, const void *keys, size_t n, size_t *removed);

/**
 * @brief Gives the table room for at least max(@p capacity, hm_len()) entries,
 * growing or shrinking it; 0 on an empty map releases the table. The room is
 * what hm_config's `capacity` gives: removals from then on may hold some of
 * it back until a rehash.
 * @return HM_OK, or HM_ENOMEM / HM_ERANGE / HM_EINVAL with the map unchanged.
 */
HM_API int hm_resize(hm_t *map, size_t capacity);

/**
 * @brief Makes room for hm_len() + @p additional entries: after HM_OK the next
 * @p additional inserts of new keys by hm_insert() or hm_entry() allocate
 * nothing and cannot fail. hm_insert_many() asks for room for all of its keys,
 * present ones too.
 * @return HM_OK, or HM_ENOMEM / HM_ERANGE / HM_EINVAL with the map unchanged.
 */
HM_API int hm_reserve(hm_t *map, size_t additional);

/** @brief Drops every entry and keeps the table. */
HM_API void hm_clear(hm_t *map);

/** @brief Entries in the map; 0 for NULL. */
HM_API size_t hm_len(const hm_t *map);

/**
 * @brief Entries the map holds before it must allocate: hm_len() plus the room
 * left. A removal where other keys have overflowed their first slot group
 * gives its room back only at the next rehash, so the figure may drop after
 * removals, as Rust's capacity() does.
 * @return the capacity; 0 for NULL.
 */
HM_API size_t hm_capacity(const hm_t *map);

/** @brief Slots in the table (0 before the first allocation); 0 for NULL. */
HM_API size_t hm_buckets(const hm_t *map);

/**
 * @brief Steps through the entries in table order.
 *
 * Start with *cursor = 0. @p key and @p value (either may be NULL) receive
 * pointers to the entry; for a set *value is NULL.
 * @return true with the next entry, false when done or on a NULL argument.
 */
HM_API bool hm_iter_next(const hm_t *map, size_t *cursor, const void **key, void **value);

/**
 * @brief Steps through up to @p max entries at once, in table order, with the
 * same cursor as hm_iter_next() (the two may be mixed).
 *
 * keys[i] and values[i] (either array may be NULL) receive pointers to the
 * i-th entry returned; for a set values[i] is NULL. Cheaper per entry than
 * hm_iter_next(): one call fills a batch. A batch may stop short of @p max
 * before the end (the call works eight slots at a time), so loop until it
 * returns 0; with max of 64 or more the call costs little per entry. Array
 * elements past the count returned may be overwritten. The same rules hold:
 * the entries returned may be removed, any insertion ends the iteration's
 * guarantees.
 * @return how many entries were returned, 1 to @p max while any remain; 0
 * when done, on a NULL map or cursor, or for @p max 0.
 */
HM_API size_t hm_iter_many(const hm_t *map, size_t *cursor, const void **keys, void **values,
                           size_t max);

/** @brief Removes, and drops, every entry for which @p keep returns false. */
HM_API void hm_retain(hm_t *map, bool (*keep)(const void *key, void *value, void *udata),
                      void *udata);

/**
 * @brief Looks up @p n keys stored back to back (key_size bytes each).
 *
 * values[i] receives what hm_get() would return for key i. On large tables it
 * is faster per key than n calls of hm_get(): it hashes ahead and prefetches.
 * With 4-, 8- or 16-byte keys under the default hash and equality, on an
 * x86-64 processor with AVX2 or AVX-512F, it hashes 8 keys at once, as
 * hm_insert_many() and hm_remove_many() do, which makes it faster per key than
 * hm_get() on small tables too. It keeps up to 32 keys in flight: calls of
 * fewer keys gain less, and calls of 32 to a few hundred do about equally well
 * (docs/benchmarks.md, "hm_get_many: how many keys a call").
 * @return how many keys were found; 0 on a NULL argument.
 */
HM_API size_t hm_get_many(const hm_t *map, const void *keys, size_t n, void **values);

/**
 * @brief The map's seeded SipHash-1-3 of @p len bytes, for custom hash functions.
 * @return the hash (that of the empty input for @p data NULL and @p len 0); 0 for
 * a NULL map, or @p data NULL with @p len > 0.
 */
HM_API uint64_t hm_hash_bytes(const hm_t *map, const void *data, size_t len);

/**
 * @brief Hashes a key that is a `const char *` to a NUL-terminated string, with
 * the map's seeded SipHash-1-3 over the string's bytes.
 * @return the hash; 0 when @p key or the string pointer is NULL.
 */
HM_API uint64_t hm_hash_cstr(const void *key, const hm_t *map, void *udata);

/**
 * @brief Compares two keys that are `const char *` to NUL-terminated strings.
 * @return true when the strings are equal (or both string pointers are NULL);
 * false when they differ or @p a or @p b is NULL.
 */
HM_API bool hm_equal_cstr(const void *a, const void *b, void *udata);

/** @brief A static description of @p status; never NULL. */
HM_API const char *hm_strerror(int status);

/** @brief Fills @p out with the map's counters (all zero for a NULL map; nothing for a
 * NULL @p out); walks the table and every probe sequence, O(buckets) while probes are
 * short, and calls the hash function once per entry. */
HM_API void hm_get_stats(const hm_t *map, hm_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* HASHMAP_H */
