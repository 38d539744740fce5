/*
 * libhashmap: open addressing over one flat allocation per map.
 *
 * Table layout (one block from the map's allocator):
 *
 *     [ slot 0 | slot 1 | ... | slot B-1 ][ ctrl 0 ... ctrl B-1 | ctrl 0 ... ctrl W-1 ]
 *
 * B (the bucket count) is a power of two, at least W, the group width (16 with
 * SSE2, 8 on the portable path). A slot holds the key, padding, the value. Each
 * slot has one control byte: EMPTY, or, for a full slot, the top 8 bits of its
 * key's hash (h2; 7 in a map with a custom hash, see h2_for); a rehash marks
 * the entries it has still to place DELETED. The first W control bytes are
 * mirrored after the last one, so that a group of W bytes can be loaded at any
 * position without wrapping. Overflow bits, a byte per 16 slots after the
 * mirror, tell a search when to stop (see overflow_note).
 *
 * Slots come first and control bytes last so that growth can be a realloc of the
 * whole block (tables of 2 MiB or more, with the default allocator, are
 * mappings of their own that grow with mremap, copying nothing) followed by a
 * rehash in place: the old slots stay where they are and only the small
 * control array (and, for a custom hash, the tag bytes) moves to the end of
 * the grown block.
 */
#define _GNU_SOURCE /* madvise, mremap, getrandom */

#include "hashmap.h"

#include <errno.h>
#include <limits.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "byte_bits.h"
#include "h2_words.h"
#include "siphash_impl.h"

#if defined(__SSE2__) && !defined(HM_PORTABLE)
#include <emmintrin.h>
#define HM_SSE2 1
#define GROUP_WIDTH 16
#else
#define HM_SSE2 0
#define GROUP_WIDTH 8
#endif

/* Control bytes: EMPTY, DELETED, or a full slot's h2, any other value (see
 * h2_for). DELETED marks a slot that a removal freed (see erase_at_bit) and,
 * during a rehash, an entry still to be placed (see mark_pending). As signed
 * bytes EMPTY and DELETED are -128 and -127, the two smallest, so one signed
 * compare finds the free slots. */
enum { CTRL_EMPTY = 0x80, CTRL_DELETED = 0x81 };

static inline bool is_full(uint8_t c) { return (uint8_t)(c - CTRL_EMPTY) > 1; }

#define DEFAULT_MAX_LOAD 0.875
#define CACHE_LINE 64 /* bytes; only for choosing what to prefetch */
#define OVERFLOW_SPAN 16 /* home slots per overflow byte (see overflow_note) */
#define HUGE_PAGE_BYTES ((size_t)2 << 20)
/* Mapped tables from this many MiB on ask for transparent huge pages; 0 never
 * asks (see is_mapped). CMake: HASHMAP_HUGE_PAGE_MIN_MIB. */
#ifndef HM_HUGE_PAGE_MIN_MIB
#define HM_HUGE_PAGE_MIN_MIB 2
#endif
#if HM_HUGE_PAGE_MIN_MIB < 0 || HM_HUGE_PAGE_MIN_MIB > (SIZE_MAX >> 20)
#error "HM_HUGE_PAGE_MIN_MIB is a number of MiB, from 0 to SIZE_MAX >> 20"
#endif
#define HUGE_PAGE_MIN_TABLE ((size_t)HM_HUGE_PAGE_MIN_MIB << 20)
/* Iteration prefetches ahead in tables whose slots pass this (see hm_iter_many).
 * Below it the slots sit in the L2 and L3 caches and the hardware prefetcher
 * keeps up with the scan: with the threshold at 1 MiB, prefetching made
 * iteration 1.06x-1.08x as slow for slots of 2-3 MiB (u64 at 100,000 and
 * 200,000 entries, flat at 50,000; pinned, 20-30 runs a process). */
#define ITER_PREFETCH_MIN_TABLE ((size_t)4 << 20)
/* The batched calls prefetch each key's home slot in tables whose slots pass
 * this: in smaller ones, which the L2 cache holds, the prefetches only cost
 * (hm_get_many took 1.04x-1.05x the time at 1,000 and 10,000 entries with
 * them), while tables of 2-3 MiB gained 5-8% from them. */
#define BATCH_PREFETCH_MIN_TABLE ((size_t)1 << 20)
/* A plain insertion asks for its home slot before it reads the control bytes
 * only in tables whose slots pass this (set_kind_functions picks
 * insert_plain_small_K below it): see insert_k. */
#define INSERT_PREFETCH_MIN_TABLE ((size_t)4 << 20)
/* A table of 2^20 buckets or more is large: its control bytes (1 MiB and more)
 * outgrow the L2 cache, and a lookup that reads them is a cache miss more
 * often than not. Its lookups keep miss_run and, in a run of misses, compare
 * only the candidates before a group's first EMPTY byte (see
 * group_match_bounded and get_k). */
#define LARGE_MIN_MASK (((size_t)1 << 20) - 1)

#if defined(__linux__) && defined(MREMAP_MAYMOVE)
#define HM_MAP_TABLES 1
#else
#define HM_MAP_TABLES 0
#endif

/* One control byte per group member; a bitmask has a set bit (SSE2) or a set
 * top bit of a byte (portable) for each member that matches. */
typedef uint64_t bitmask;

#if HM_SSE2
typedef __m128i group;
enum { BITMASK_SHIFT = 0 };

static inline group group_load(const uint8_t *p) { return _mm_loadu_si128((const __m128i *)p); }

/* h2 in every byte, from h2 as a 32-bit int: from _mm_set1_epi8, GCC may
 * store h2 as a byte and load it back with a 4-byte movd, a load store
 * forwarding cannot serve (in hm_insert_many's loop, batched reinserts of
 * flat at 1,000 entries took 1.19x the time). */
static inline group group_splat(uint8_t h2)
{
    __m128i v = _mm_cvtsi32_si128((int)h2);
    v = _mm_unpacklo_epi8(v, v);
    v = _mm_unpacklo_epi16(v, v);
    return _mm_shuffle_epi32(v, 0);
}

static inline bitmask group_match(group g, uint8_t h2)
{
    return (bitmask)_mm_movemask_epi8(_mm_cmpeq_epi8(g, group_splat(h2)));
}

/* group_splat from h2 in every byte of a 32-bit word (see h2_and_word). */
static inline group group_splat_word(uint32_t w)
{
    return _mm_shuffle_epi32(_mm_cvtsi32_si128((int)w), 0);
}

static inline bitmask group_match_splat(group g, group splat)
{
    return (bitmask)_mm_movemask_epi8(_mm_cmpeq_epi8(g, splat));
}

/* Signed bytes below -126: EMPTY (-128) and DELETED (-127). */
static inline bitmask group_match_empty_or_deleted(group g)
{
    return (bitmask)_mm_movemask_epi8(_mm_cmpgt_epi8(_mm_set1_epi8(-126), g));
}

static inline bitmask group_match_empty(group g)
{
    return (bitmask)_mm_movemask_epi8(_mm_cmpeq_epi8(g, _mm_set1_epi8((char)CTRL_EMPTY)));
}

static inline bitmask group_match_full(group g)
{
    return group_match_empty_or_deleted(g) ^ 0xFFFFu;
}

/* Bytes with the top bit set: the free and pending slots of a rehash in a map
 * with tags, whose full slots hold 1..127 (see mark_pending). */
static inline bitmask group_match_top_bit(group g) { return (bitmask)_mm_movemask_epi8(g); }
#else
typedef uint64_t group;
enum { BITMASK_SHIFT = 3 };
#define LSB_EACH 0x0101010101010101ull
#define MSB_EACH 0x8080808080808080ull

static inline group group_load(const uint8_t *p)
{
    uint64_t g;
    memcpy(&g, p, sizeof g);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    g = __builtin_bswap64(g); /* byte i of the group is bits 8i..8i+7 */
#endif
    return g;
}

static inline group group_splat(uint8_t h2) { return LSB_EACH * h2; }

/* group_splat from h2 in every byte of a 32-bit word (see h2_and_word). */
static inline group group_splat_word(uint32_t w) { return group_splat((uint8_t)w); }

/* May report a byte above a true match as matching too (the borrow of the
 * subtraction); callers compare keys, so a false candidate costs only time. */
static inline bitmask group_match_splat(group g, group splat)
{
    uint64_t x = g ^ splat;
    return (x - LSB_EACH) & ~x & MSB_EACH;
}

static inline bitmask group_match(group g, uint8_t h2)
{
    return group_match_splat(g, group_splat(h2));
}

/* Exact, with no borrow between bytes: the top bit of each byte that is 0.
 * (x & 0x7F) + 0x7F has the top bit set unless the low 7 bits are 0. */
static inline bitmask bytes_zero(uint64_t x)
{
    return ~(((x & ~MSB_EACH) + ~MSB_EACH) | x) & MSB_EACH;
}

/* 0x80 and 0x81: with the top bit flipped, 0 and 1. */
static inline bitmask group_match_empty_or_deleted(group g)
{
    return bytes_zero((g ^ MSB_EACH) & ~LSB_EACH);
}
static inline bitmask group_match_full(group g)
{
    return ~group_match_empty_or_deleted(g) & MSB_EACH;
}
static inline bitmask group_match_empty(group g) { return bytes_zero(g ^ MSB_EACH); }
static inline bitmask group_match_top_bit(group g) { return g & MSB_EACH; }
#endif

static inline size_t ctz64(uint64_t x)
{
#if defined(__GNUC__)
    return (size_t)__builtin_ctzll(x);
#else
    size_t n = 0;
    while (!(x & 1)) {
        x >>= 1;
        n++;
    }
    return n;
#endif
}

static inline size_t clz64(uint64_t x)
{
#if defined(__GNUC__)
    return (size_t)__builtin_clzll(x);
#else
    size_t n = 0;
    while (!(x & (1ull << 63))) {
        x <<= 1;
        n++;
    }
    return n;
#endif
}

/* Position in the group of the lowest member a non-zero bitmask names. */
static inline size_t bitmask_lowest(bitmask b) { return ctz64(b) >> BITMASK_SHIFT; }
static inline bitmask bitmask_next(bitmask b) { return b & (b - 1); }

/* Overflow bytes of a map with no table: no bit set, so a lookup ends at its
 * first group. Never written. */
static const uint8_t no_overflow[1];

/* Control bytes of a map with no table: one group of EMPTY, so a lookup needs no
 * special case. It is never written. */
static const uint8_t empty_group[GROUP_WIDTH] = {
    CTRL_EMPTY, CTRL_EMPTY, CTRL_EMPTY, CTRL_EMPTY, CTRL_EMPTY, CTRL_EMPTY, CTRL_EMPTY, CTRL_EMPTY,
#if GROUP_WIDTH == 16
    CTRL_EMPTY, CTRL_EMPTY, CTRL_EMPTY, CTRL_EMPTY, CTRL_EMPTY, CTRL_EMPTY, CTRL_EMPTY, CTRL_EMPTY,
#endif
};

struct hm {
    uint8_t *ctrl;        /* buckets + GROUP_WIDTH control bytes */
    unsigned char *slots; /* the table block; empty_group when there is none (set_table) */
    uint8_t *tags;        /* with keep_tags: each slot's tag (see tag_make) */
    uint8_t *overflow;    /* one byte per OVERFLOW_SPAN home slots: see overflow_note */
    size_t mask;          /* buckets - 1; 0 when there is no table */
    size_t buckets;
    size_t len;
    size_t cap;         /* entries the table holds: floor(buckets * max_load) */
    size_t growth_left; /* free slots that may still be filled before a rehash */
    size_t resizes;
    size_t key_size, value_size, value_offset, slot_size;
    size_t slot_tail; /* slot_size - 1 if it does not divide a cache line, else 0 */
    size_t key_kind;  /* see key_kind_of() */
    hm__sipv sip; /* SipHash's start state under the map's key (hm__sip_start_key) */
    uint64_t sip_pair[4]; /* the same for the register pair (hm__sip_pair_of) */
    /* hm_get's, hm_insert's and hm_remove's bodies for this map and its table
     * (see set_kind_functions), next to the hash state they go on to read. */
    void *(*get_fn)(const hm_t *m, const void *key);
    int (*insert_plain_fn)(hm_t *m, const void *key, const void *value);
    int (*remove_fn)(hm_t *m, const void *key); /* with no out-parameters */
    hm__sip13_x8_fn *hash_x8; /* a map of a constant kind: 8 keys at once, if faster */
    double max_load;
    hm_hash_fn hash;
    hm_equal_fn equal;
    hm_drop_fn key_drop, value_drop;
    void *udata;
    void (*on_resize)(const hm_resize_info *info, void *udata);
    hm_allocator alloc;
    bool default_alloc;
    bool keep_tags; /* a custom hash may chase pointers: keep tags for growth */
    bool plain_insert; /* no drop callbacks, values copy_inline copies: see insert_k */
    bool huge_advised; /* the table's mapping has the advice for huge pages (table_grow) */
    uint8_t sip_pair_level; /* the register pair hm__sip_pair_level() gave, or 0 */
    /* Two slots: the first for swaps during a rehash in place, the second to
     * hold a key and value that lay in the table while it grows (grow_for_new_key). */
    unsigned char scratch[];
};

enum { SCRATCH_SLOTS = 2 }; /* struct hm's scratch[], in slots */

/* Bytes of the map's own block: the struct and its scratch slots (hm_new
 * checked that they can be sized). */
static size_t map_bytes(size_t slot_size)
{
    return sizeof(struct hm) + SCRATCH_SLOTS * slot_size;
}

/* ---- the default allocator ---------------------------------------------- */

static void *std_alloc(size_t size, void *ctx)
{
    (void)ctx;
    return malloc(size);
}

static void *std_realloc(void *ptr, size_t old_size, size_t new_size, void *ctx)
{
    (void)old_size;
    (void)ctx;
    return realloc(ptr, new_size);
}

static void std_free(void *ptr, size_t size, void *ctx)
{
    (void)size;
    (void)ctx;
    free(ptr);
}

/* ---- sizes -------------------------------------------------------------- */

/* The alignment the API promises for an object of this size: the largest power
 * of two dividing it, at most alignof(max_align_t). */
static size_t natural_align(size_t size)
{
    size_t a = size ? (size & -size) : 1;
    return a < alignof(max_align_t) ? a : alignof(max_align_t);
}

static bool add_ok(size_t a, size_t b, size_t *out)
{
    if (a > SIZE_MAX - b)
        return false;
    *out = a + b;
    return true;
}

static bool mul_ok(size_t a, size_t b, size_t *out)
{
    if (b && a > SIZE_MAX / b)
        return false;
    *out = a * b;
    return true;
}

static bool round_up_ok(size_t n, size_t align, size_t *out)
{
    if (!add_ok(n, align - 1, out))
        return false;
    *out &= ~(align - 1);
    return true;
}

static size_t cap_for_buckets(size_t buckets, double max_load)
{
    if (buckets == 0)
        return 0;
    double c = (double)buckets * max_load;
    /* At least one slot stays free (EMPTY or DELETED), where an insertion's
     * search for a free slot (find_insert_slot) ends. */
    return c >= (double)buckets ? buckets - 1 : (size_t)c;
}

/* Overflow bytes of a table of `buckets` slots (see overflow_note). */
static size_t overflow_bytes(size_t buckets)
{
    return (buckets + OVERFLOW_SPAN - 1) / OVERFLOW_SPAN;
}

/* Bytes of a table of `buckets` slots, control bytes included:
 * [slots][tags, with keep_tags][control bytes, mirror][overflow bytes]. */
static bool table_bytes(const hm_t *m, size_t buckets, size_t *out)
{
    size_t slots, per_slot = 1 + (size_t)m->keep_tags, meta;
    return mul_ok(buckets, m->slot_size, &slots) && mul_ok(buckets, per_slot, &meta) &&
           add_ok(slots, meta, out) && add_ok(*out, GROUP_WIDTH, out) &&
           add_ok(*out, overflow_bytes(buckets), out) && *out <= PTRDIFF_MAX;
}

/* Where the control bytes start; only for a size table_bytes() accepted. */
static size_t ctrl_offset(const hm_t *m, size_t buckets)
{
    return buckets * (m->slot_size + (size_t)m->keep_tags);
}

/* The smallest bucket count whose capacity is at least `want`. */
static int buckets_for(const hm_t *m, size_t want, size_t *out)
{
    size_t b = GROUP_WIDTH, bytes;
    while (cap_for_buckets(b, m->max_load) < want) {
        if (b > SIZE_MAX / 2)
            return HM_ERANGE;
        b *= 2;
    }
    if (!table_bytes(m, b, &bytes))
        return HM_ERANGE;
    *out = b;
    return HM_OK;
}

/* ---- slots and control bytes -------------------------------------------- */

static inline unsigned char *slot_at(const hm_t *m, size_t i) { return m->slots + i * m->slot_size; }

static inline void *value_of(const hm_t *m, unsigned char *slot)
{
    /* A set hands back the stored key, a non-NULL pointer that means
     * "present": its value_offset is 0. */
    return slot + m->value_offset;
}

/* Whether the map keeps tags: never for a constant kind other than 0, whose
 * functions then leave out the code for tags (kind 0 serves any map). */
static inline bool has_tags(const hm_t *m, size_t kind) { return kind == 0 && m->keep_tags; }

/*
 * The kind of a map with the default hash and equality, 8-byte keys and 8-byte
 * values (u64 -> u64, or pointers), the commonest map: kind 8's code with the
 * slot's size (16) and the value's place (8) constants too, so that finding a
 * slot takes a shift for a multiply by a field, and its value an add of a
 * constant (see key_kind_of). Through bench/ab.sh, u64 at 1,000 and 10,000
 * entries: hits took 0.969x-0.973x the time, removals 0.969x-0.978x, reinserts
 * 0.938x-0.940x; at 1M inserts 0.953x and reinserts 0.926x (design.md,
 * "Probing"). The library's code grew by 22 KB.
 */
enum { KIND_8_8 = 24 };

/* A key's size in a map of this kind: the constant kind's, or for kind 0 the
 * map's own. */
static inline size_t key_size_of(const hm_t *m, size_t kind)
{
    return kind == KIND_8_8 ? 8 : kind ? kind : m->key_size;
}

/* A slot's size, and the place and size of its value, in a map of this kind:
 * constants for KIND_8_8, else the map's own. */
static inline size_t slot_size_of(const hm_t *m, size_t kind)
{
    return kind == KIND_8_8 ? 16 : m->slot_size;
}

static inline size_t value_offset_of(const hm_t *m, size_t kind)
{
    return kind == KIND_8_8 ? 8 : m->value_offset;
}

static inline size_t value_size_of(const hm_t *m, size_t kind)
{
    return kind == KIND_8_8 ? 8 : m->value_size;
}

/* slot_at and value_of for a map of this kind. */
static inline unsigned char *slot_at_k(const hm_t *m, size_t i, size_t kind)
{
    return m->slots + i * slot_size_of(m, kind);
}

static inline void *value_of_k(const hm_t *m, unsigned char *slot, size_t kind)
{
    return slot + value_offset_of(m, kind);
}

/*
 * h2, a full slot's control byte: the top 8 bits of the hash, 0x80 and 0x81
 * (EMPTY and DELETED) folded onto 0 and 1, so that a lookup's false candidates
 * are about 1 in 254 per full slot.
 *
 * A map that keeps tags uses the top 7 bits only, and never 0: a pending slot
 * of its rehash holds 0x80 | h2, which must keep h2 for the tag to be read with
 * and still differ from EMPTY (see mark_pending). 0 becomes 1, which costs
 * lookups of those keys a little filtering. A constant kind other than 0 (never
 * a map with tags) compiles the test away; kind 0 is also the code for any
 * map (hm_entry).
 */
static inline uint8_t h2_for(const hm_t *m, uint64_t hash, size_t kind)
{
    if (has_tags(m, kind)) {
        uint8_t h2 = (uint8_t)(hash >> 57);
        return h2 == 0 ? 1 : h2;
    }
    uint8_t h2 = (uint8_t)(hash >> 56);
    return is_full(h2) ? h2 : h2 & 0x7F;
}

/* h2_for, or with `by_word` (a constant; only for a map of a constant kind,
 * which has no tags) h2 from one load of HM_H2_WORDS, whose word (h2 in each
 * byte of the low half, h2's overflow bit above) goes to *word for the vector
 * of h2 and the end of the search (see find_k); else *word is 0. */
static inline uint8_t h2_and_word(const hm_t *m, uint64_t hash, size_t kind, bool by_word,
                                  uint64_t *word)
{
    *word = by_word ? HM_H2_WORDS[hash >> 56] : 0;
    return by_word ? (uint8_t)*word : h2_for(m, hash, kind);
}

/* overflow_bit of the h2 whose word of HM_H2_WORDS this is. */
static inline uint8_t word_overflow_bit(uint64_t word) { return (uint8_t)(word >> 32); }

/* The members of g that hold the key's h2, from its vector when `by_word`. */
static inline bitmask group_match_key(group g, group splat, uint8_t h2, bool by_word)
{
    return by_word ? group_match_splat(g, splat) : group_match(g, h2);
}

static inline size_t position_bits(size_t mask) { return ctz64((uint64_t)mask + 1); }

/*
 * A map with a custom hash keeps a tag byte per slot, so that growth seldom
 * calls the hash function again: for keys behind pointers (strings) each call
 * is a cache miss. The tag tells where the entry's home slot is and holds up to
 * three hash bits beyond the table's position bits; each doubling uses one.
 *
 *   high nibble: the entry's distance from its home slot, 0..15;
 *   low nibble:  1 << r | the next r bits of the hash above the position
 *                bits (r = 0..3), or 0 when the tag knows nothing.
 *
 * An entry 16 or more slots from home (about 5% of them at the default maximum
 * load) gets tag 0, which knows nothing. One whose extra bits have run out
 * (r = 0) knows its home slot but not the position bit the next growth adds
 * (about 1 in 16 entries when a map grows by doubling). Growth hashes both
 * kinds again.
 */
enum { TAG_MAX_DISTANCE = 15, TAG_MAX_BITS = 3 };

/* The tag of an entry in slot i of a table with `mask` whose low `known` bits
 * of `hash` are true (64: all of them). */
static inline uint8_t tag_make(uint64_t hash, unsigned known, size_t i, size_t mask)
{
    size_t distance = (i - hash) & mask, b = position_bits(mask);
    if (distance > TAG_MAX_DISTANCE || known < b)
        return 0;
    unsigned r = known - b < TAG_MAX_BITS ? (unsigned)(known - b) : TAG_MAX_BITS;
    unsigned more = (unsigned)(hash >> b) & ((1u << r) - 1);
    return (uint8_t)(distance << 4 | 1u << r | more);
}

/* tag_make for a hash known in full: its 3 bits always exist, since a table
 * with tags has fewer than 2^62 buckets (3 bytes each at least). */
static inline uint8_t tag_full(uint64_t hash, size_t i, size_t mask)
{
    size_t distance = (i - hash) & mask;
    unsigned more = (unsigned)(hash >> position_bits(mask)) & ((1u << TAG_MAX_BITS) - 1);
    return distance > TAG_MAX_DISTANCE ? 0 : (uint8_t)(distance << 4 | 1u << TAG_MAX_BITS | more);
}

/* What the tag of slot i in a table with `mask` knows of the entry's hash, and
 * h2, its control byte: returns how many low bits of *hash are true. */
static inline unsigned tag_read(uint8_t tag, size_t i, size_t mask, uint8_t h2, uint64_t *hash)
{
    unsigned low = tag & 15u;
    if (low == 0)
        return 0;
    size_t b = position_bits(mask);
    unsigned r = 63u - (unsigned)clz64(low); /* log2(low) */
    uint64_t home = (i - (tag >> 4)) & mask;
    *hash = home | (uint64_t)(low ^ 1u << r) << b | (uint64_t)h2 << 57;
    return (unsigned)b + r;
}

/* Whether the entry in slot i of a table with `mask`, tag t, may have this
 * hash. A tag other than 0 knows the entry's distance from its home slot and
 * 0-3 hash bits above the position bits: an entry with another home, or other
 * bits, is not the key. Of the entries that share a new key's 7-bit h2 it
 * turns away all but about 1 in 30 (test_custom_hash_insert_asks_tags_first),
 * each of which would cost a call of the equality function and, for keys
 * behind pointers, a cache miss. Tag 0 knows nothing, and so passes. */
static inline bool tag_may_match(uint8_t t, uint64_t hash, size_t i, size_t mask)
{
    unsigned low = t & 15u, r = 63u - (unsigned)clz64(low | 1u); /* log2(low); 0 for 0 */
    unsigned more = (unsigned)(hash >> position_bits(mask));
    return t == 0 || ((t >> 4) == ((i - hash) & mask) && ((low ^ more) & ((1u << r) - 1)) == 0);
}

/*
 * Overflow bits end every search: a search for a key goes on past a group
 * only when some entry passed over a group there. Each byte covers the groups
 * that start at OVERFLOW_SPAN consecutive slots, and an entry placed past the
 * group at position p of its probe sequence sets bit h2 & 7 of p's byte, for
 * every such p: h2, its control byte, which a rehash knows even where a tag
 * stands in for the rest of the hash (tag_read). Bits are set by insertions
 * and cleared only when every entry is placed again (a rehash, growth,
 * hm_clear), so a clear bit proves that the key is not past that group.
 *
 * The idea is boost's (each of its groups has an overflow byte). It makes
 * EMPTY bytes no part of a search's end, so that a removal frees its slot
 * without looking at its neighbours, where a lookup that stopped at an EMPTY
 * needed a tombstone wherever a search may have passed (see erase_at_bit).
 * Until then the bits covered the first group only: without any, an absent
 * key's lookup went on whenever its first group was full, as a quarter of
 * first groups are at 0.76 load (u64 in 131,072 buckets: a miss took 11.2 ns
 * there against 7.2 at 0.46 load; with them, 8.5).
 */
static inline uint8_t overflow_bit(uint8_t h2) { return (uint8_t)(1u << (h2 & 7)); }

/* Records that the entry with this hash and h2 now sits in slot i: in the
 * byte of every group of its probe sequence before the one that holds i. */
static inline void overflow_note(uint8_t *overflow, size_t mask, uint64_t hash, uint8_t h2,
                                 size_t i)
{
    size_t pos = hash & mask, stride = 0;
    while (((i - pos) & mask) >= GROUP_WIDTH) {
        overflow[pos / OVERFLOW_SPAN] |= overflow_bit(h2);
        stride += GROUP_WIDTH;
        pos = (pos + stride) & mask;
    }
}

/* Writes a control byte, and its mirror when it has one (i < GROUP_WIDTH). A
 * branch that is nearly always not taken, rather than a second store to
 * ((i - W) & mask) + W, which is i itself for every other slot: inserts and
 * reinserts at 1,000 to 1,000,000 entries took 0.94x-0.98x the time without
 * that store (bench/ab.sh, four rounds of three copies). */
static inline void set_ctrl(uint8_t *ctrl, size_t mask, size_t i, uint8_t v)
{
    ctrl[i] = v;
    if (i < GROUP_WIDTH)
        ctrl[i + mask + 1] = v;
}

#if defined(__GNUC__)
#define HM_INLINE static inline __attribute__((always_inline))
#define HM_NOINLINE __attribute__((noinline))
#else
#define HM_INLINE static inline
#define HM_NOINLINE
#endif

/* Tells the compiler that memory may have changed here, so that it reads the
 * map's fields again where they are used after this point rather than hold
 * them in registers across it (see insert_k). Emits no instruction. */
static inline void reread_map_fields(void)
{
#if defined(__GNUC__)
    __asm__ volatile("" ::: "memory");
#endif
}

/* Copies n <= 48 bytes through registers: all loads, then all stores, so dst
 * may be src (n a constant: the two memcpy calls compile to a few moves). */
HM_INLINE void copy_small(void *dst, const void *src, size_t n)
{
    unsigned char tmp[48];
    memcpy(tmp, src, n);
    memcpy(dst, tmp, n);
}

/* Copies n bytes of a value or a slot, dst possibly src (a rehash copies an
 * entry that stays in its slot onto itself), when n is one of the common sizes,
 * which compile to a few moves; returns false, copying nothing, for any other
 * n (see copies_inline). 8, 16 and 32 are asked first, one compare each: a
 * switch over all seven sizes became a jump table, an indirect jump with six
 * instructions to set it up, and without it reinserts at 1,000 to 100,000
 * entries took 0.97x-0.99x the time (bench/ab.sh, eight rounds). */
HM_INLINE bool copy_inline(void *dst, const void *src, size_t n)
{
    if (n == 8) {
        copy_small(dst, src, 8);
        return true;
    }
    if (n == 16) {
        copy_small(dst, src, 16);
        return true;
    }
    if (n == 32) {
        copy_small(dst, src, 32);
        return true;
    }
    switch (n) {
    case 0:
        break;
    case 4:
        copy_small(dst, src, 4);
        break;
    case 24:
        copy_small(dst, src, 24);
        break;
    case 48:
        copy_small(dst, src, 48);
        break;
    default:
        return false;
    }
    return true;
}

/* Whether copy_inline copies n bytes, asked of copy_inline itself so that the
 * list of sizes is written once (hm_new asks, once per map; copy_inline never
 * copies more than 48 bytes). */
static bool copies_inline(size_t n)
{
    unsigned char probe[48] = {0};
    return n <= sizeof probe && copy_inline(probe, probe, n);
}

/* memmove for a value or a slot, with no call into libc for the common sizes. */
HM_INLINE void copy_bytes(void *dst, const void *src, size_t n)
{
    if (!copy_inline(dst, src, n))
        memmove(dst, src, n);
}

/*
 * The key kind: a map with the default hash and equality and a key of 4, 8 or
 * 16 bytes has kind = its key size (KIND_8_8 for 8-byte keys with 8-byte
 * values), and every other map kind 0 (generic). The
 * functions below take the kind as a constant and are instantiated once per
 * kind, so that the common maps hash and compare with sizes the compiler can
 * see (SipHash unrolled, memcmp as one or two compares) and make no indirect
 * call.
 */
static size_t key_kind_of(const hm_config *c)
{
    bool plain = !c->hash && !c->equal;
    if (plain && c->key_size == 8 && c->value_size == 8)
        return KIND_8_8;
    return plain && (c->key_size == 4 || c->key_size == 8 || c->key_size == 16) ? c->key_size : 0;
}

/* What a map of this kind hashes 8 keys at once with (see hash_slots_x8 and
 * the batched calls): the processor's fastest way when the kind is constant,
 * else NULL, and NULL too where that way would be one key at a time. */
static hm__sip13_x8_fn *hash_x8_for(size_t kind) { return kind ? hm__sip13_x8_best() : NULL; }

HM_INLINE uint64_t hash_key_k(const hm_t *m, const void *key, size_t kind)
{
    if (kind)
        return hm__siphash13_from(&m->sip, key, key_size_of(m, kind));
    if (m->hash)
        return m->hash(key, m, m->udata);
    return hm__siphash13_from(&m->sip, key, m->key_size);
}

HM_INLINE bool key_equal_k(const hm_t *m, const void *a, const void *b, size_t kind)
{
#if HM_SSE2
    /* One vector compare. memcmp's two 8-byte compares held the caller's key
     * in two general registers for the whole probe, for which get_16 saved
     * two more and spilled two: 9 instructions more per lookup, 13 per
     * removal. Through bench/ab.sh, flat at 1,000 to 100,000 entries:
     * get_hit 0.966x-0.972x the time, get_many 0.935x-0.939x, removals at
     * 1,000 and 10,000 0.972x-0.983x; at 1M get_many 0.943x, the rest
     * 0.977x-0.997x. */
    if (kind == 16)
        return _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)a),
                                                _mm_loadu_si128((const __m128i *)b))) == 0xFFFF;
#endif
    if (kind)
        return memcmp(a, b, key_size_of(m, kind)) == 0;
    if (m->equal)
        return m->equal(a, b, m->udata);
    return memcmp(a, b, m->key_size) == 0;
}

#define NOT_FOUND SIZE_MAX

/* The first free slot on the probe sequence of a key with this hash: EMPTY
 * or DELETED, or with `tagged_rehash` any byte with the top bit set (see
 * mark_pending). The table always has a free slot (cap_for_buckets) and the
 * probe sequence visits every group, so the search ends. */
static inline size_t find_insert_slot(const uint8_t *ctrl, size_t mask, uint64_t hash,
                                      bool tagged_rehash)
{
    size_t pos = hash & mask, stride = 0;
    for (;;) {
        group g = group_load(ctrl + pos);
        bitmask b = tagged_rehash ? group_match_top_bit(g) : group_match_empty_or_deleted(g);
        if (b)
            return (pos + bitmask_lowest(b)) & mask;
        stride += GROUP_WIDTH;
        pos = (pos + stride) & mask;
    }
}

/*
 * The candidates of group g that stand before its first EMPTY byte. A key
 * whose search reaches the group at this position stands there, if anywhere:
 * its insertion took the first free slot of the group, and a removal leaves
 * DELETED, never EMPTY (see erase_at_bit). So a search that drops the other
 * candidates compares fewer keys in vain.
 * Each candidate that is not the key costs a comparison and a mispredicted
 * branch, and in a large table the comparison reads a slot no one asked for:
 * a cache miss that the processor cannot overlap with the next lookup's,
 * since it must first undo what it did past the branch. Counted over 2M
 * absent u64 keys: in 16,777,216 buckets at load 0.60 a home group holds 9.5
 * full bytes, 2.4 of them before its first EMPTY, and a miss meets a false
 * candidate once in 27 lookups, once in 104 with the bound; at load 0.48 (1M
 * entries), 7.6 and 1.3 bytes, once in 33 and once in 190. A removal brings
 * no EMPTY byte nearer, so under churn the bound widens, to the whole group
 * at worst (what every search compared before), until the next rehash.
 */
static inline bitmask group_match_bounded(group g, bitmask candidates)
{
    const bitmask empty = group_match_empty(g);
    return candidates & (empty ^ (empty - 1)); /* every bit when no EMPTY */
}

/* Whether a search that did not find its key in the group at pos of its
 * probe sequence, `stride` into it, ends there: when no entry with the key's
 * overflow bit (`bit`, overflow_bit of its h2) went past that group (see
 * overflow_note), and in any case once it has seen every group of the table
 * (the last of them twice), whose bits may all be set. The bound tests
 * stride alone: with `stride + GROUP_WIDTH > mask`, which sees no group
 * twice, GCC computed the overflow bit before the loop, on the hits' path too
 * (u64 lookups at 1,000 to 100,000 entries took 1.01x-1.02x the time). */
static inline bool search_ends_bit(const hm_t *m, size_t pos, size_t stride, uint8_t bit)
{
    return !(m->overflow[pos / OVERFLOW_SPAN] & bit) || stride > m->mask;
}

/* search_ends_bit for a key whose control byte is h2. */
static inline bool search_ends(const hm_t *m, size_t pos, size_t stride, uint8_t h2)
{
    return search_ends_bit(m, pos, stride, overflow_bit(h2));
}

#if defined(__GNUC__)
/* An insertion into a map with tags writes the new key's tag, and hm_insert's
 * reads its candidates' (see find_k): the tags at the home slot are asked for.
 * So is the home slot's last byte where a slot may span two cache lines
 * (slot_tail), since the insertion writes all of it. With that, the seed
 * workload's inserts (string keys behind pointers, 48-byte slots) took 0.952x
 * and 0.966x the time at 10,000,000 entries, 0.970x at 1,000,000 and 0.894x
 * at 100,000 (medians of the ratios of alternated pairs of runs); the same
 * prefetch on flat's insert path, tried before, gained nothing
 * (docs/design.md, "Tags on insertion"). Not in a map with no table (mask 0),
 * whose slots are the empty group: slot_tail bytes on would point past it. */
HM_INLINE void prefetch_tagged_insertion(const hm_t *m, size_t pos)
{
    __builtin_prefetch(m->tags + pos, 1);
    if (m->slot_tail && m->mask)
        __builtin_prefetch(slot_at(m, pos) + m->slot_tail, 1);
}
#endif

/* Triangular probing over groups: offsets W, 3W, 6W, ... visit every group of
 * a power-of-two table once before repeating. With `ins` (a constant NULL
 * compiles it away) a miss also reports where the key would go: the first
 * free slot on its probe sequence, which find_insert_slot looks for once the
 * search has ended, from the home group again (in the L1 cache by then).
 * Before 8e54eb7 the search noted it on its way, which took a register and a
 * test per group more: without them, reinserts at 1,000 to 1,000,000 entries
 * took 0.97x-0.99x the time (bench/ab.sh, four rounds of three copies).
 * `ask_tags` (a constant) is for a search whose key is mostly absent,
 * hm_insert's: in a map with tags, a candidate's tag is asked before its key
 * (see tag_may_match). A search whose key is mostly there, a lookup's or
 * hm_entry's, does not ask: there the tag's load cost more than it saved
 * (string keys at 1,000,000 entries: hm_insert replacing values took 1.04x-1.15x
 * the time with it, hm_entry of present keys 1.04x-1.12x, hm_get 1.06x-1.09x;
 * hm_insert of new keys 0.78x-0.96x). `ask_slot` (false only for
 * hm_get_many in a table that keeps miss_run, which decided for itself)
 * prefetches the home slot. `bounded` (true only for hm_get_many in a large
 * table) compares only each group's candidates before its first EMPTY
 * (group_match_bounded). */
HM_INLINE size_t find_k(const hm_t *m, const void *key, uint64_t hash, size_t *ins,
                        bool ask_tags, bool ask_slot, bool bounded, size_t kind)
{
    size_t mask = m->mask, pos = hash & mask, stride = 0;
    /* With SSE2 a lookup or removal in a map of a constant kind takes h2 and
     * its vector from one load of HM_H2_WORDS instead of folding and spreading
     * h2 itself: about 7 fewer instructions, and at 1,000 to 100,000 entries,
     * where these calls are bound by how many instructions they run, u64
     * lookups and removals took 0.96x-0.99x the time and flat's hits 0.98x
     * (bench/ab.sh). An insertion (`ins`) keeps the fold: the table there
     * too, read again by occupy, took reinserts at 1,000 to 100,000 entries
     * to 0.98x-0.99x the time but u64's at 1M to 1.04x-1.09x in three runs.
     * The word's upper half holds h2's overflow bit, which a miss tests
     * (search_ends_bit): 2 instructions fewer than shifting 1 by h2 & 7, and
     * through bench/ab.sh (four rounds of three copies) u64 misses at 1,000
     * and 10,000 entries took 0.968x-0.973x the time, at 100,000 0.984x, at
     * 1M 0.989x; flat's 0.987x-0.994x; the other phases within 1.2% at 1,000
     * and 10,000 (design.md, "Control bytes"). */
    const bool by_word = HM_SSE2 && kind && !ins;
    uint64_t word;
    const uint8_t h2 = h2_and_word(m, hash, kind, by_word, &word);
    const group splat = group_splat_word((uint32_t)word); /* used only with by_word */
#if defined(__GNUC__)
    /* Most keys sit at or just after their home slot: fetching it now overlaps
     * the slot's cache miss with the control bytes' instead of following it.
     * A map with no table has mask 0 and its slots at the empty group. An
     * insertion into a map with tags: see prefetch_tagged_insertion. */
    if (ask_slot)
        __builtin_prefetch(slot_at_k(m, pos, kind));
    if (ins && has_tags(m, kind))
        prefetch_tagged_insertion(m, pos);
#endif
    for (;;) {
        group g = group_load(m->ctrl + pos);
        bitmask b = group_match_key(g, splat, h2, by_word);
        if (bounded)
            b = group_match_bounded(g, b);
        for (; b; b = bitmask_next(b)) {
            size_t i = (pos + bitmask_lowest(b)) & mask;
            if (ask_tags && has_tags(m, kind) && !tag_may_match(m->tags[i], hash, i, mask))
                continue;
            if (key_equal_k(m, key, slot_at_k(m, i, kind), kind))
                return i;
        }
        if (search_ends_bit(m, pos, stride, by_word ? word_overflow_bit(word) : overflow_bit(h2))) {
            if (ins)
                *ins = find_insert_slot(m->ctrl, mask, hash, false);
            return NOT_FOUND;
        }
        stride += GROUP_WIDTH;
        pos = (pos + stride) & mask;
    }
}

/* A key's home group, for a map of a constant kind with SSE2: where it starts,
 * the key's word of HM_H2_WORDS (h2, its vector, its overflow bit), the
 * group's control bytes and its candidates for the key, only those before the
 * first EMPTY when `bounded` (a constant: see group_match_bounded).
 * home_group_of asks for the home slot too when `ask_slot` (a constant, or
 * hm_get's guess: see miss_run). */
struct home_group {
    size_t pos;
    uint64_t word;
    group ctrl;
    bitmask candidates;
};

HM_INLINE struct home_group home_group_of(const hm_t *m, uint64_t hash, bool ask_slot,
                                          bool bounded, size_t kind)
{
    struct home_group h;
    h.pos = hash & m->mask;
    h.word = HM_H2_WORDS[hash >> 56];
    if (ask_slot)
        __builtin_prefetch(slot_at_k(m, h.pos, kind)); /* as find_k does */
    h.ctrl = group_load(m->ctrl + h.pos);
    h.candidates =
        group_match_key(h.ctrl, group_splat_word((uint32_t)h.word), (uint8_t)h.word, true);
    if (bounded)
        h.candidates = group_match_bounded(h.ctrl, h.candidates);
    return h;
}

/* Whether a search whose home group, h, held no key ends there. */
HM_INLINE bool home_group_ends(const hm_t *m, struct home_group h)
{
    return !(m->overflow[h.pos / OVERFLOW_SPAN] & word_overflow_bit(h.word));
}

/*
 * Returns F(args..., K), K the map's key kind: a constant in each branch, so
 * that every kind gets its own copy of the inline function F. The dispatch
 * for callers that are not themselves instantiated per kind.
 */
#define BY_KIND(m, F, ...)               \
    switch ((m)->key_kind) {             \
    case 4:                              \
        return F(__VA_ARGS__, 4);        \
    case 8:                              \
        return F(__VA_ARGS__, 8);        \
    case 16:                             \
        return F(__VA_ARGS__, 16);       \
    case KIND_8_8:                       \
        return F(__VA_ARGS__, KIND_8_8); \
    default:                             \
        return F(__VA_ARGS__, 0);        \
    }

/* Hashes key and finds its slot (NOT_FOUND when absent); *hash_out gets the
 * hash, and *ins (see find_k) the slot, for an insertion that follows. */
HM_INLINE size_t lookup_k(const hm_t *m, const void *key, uint64_t *hash_out, size_t *ins,
                          size_t kind)
{
    *hash_out = hash_key_k(m, key, kind);
    return find_k(m, key, *hash_out, ins, false, true, false, kind);
}

static size_t lookup(const hm_t *m, const void *key, uint64_t *hash_out, size_t *ins)
{
    BY_KIND(m, lookup_k, m, key, hash_out, ins)
}

static uint64_t hash_key(const hm_t *m, const void *key) { BY_KIND(m, hash_key_k, m, key) }

/* The hash of the entry in slot i of a table with old_mask, h2 its control
 * byte, as far as placing it in a table with new_mask needs: from its tag when
 * that knows enough, else from the hash function. *known gets how many low
 * bits of the result are true (64: all). */
HM_INLINE uint64_t slot_hash_k(const hm_t *m, size_t i, uint8_t h2, size_t old_mask,
                               size_t new_mask, unsigned *known, size_t kind)
{
    if (has_tags(m, kind)) {
        uint64_t hash = 0;
        *known = tag_read(m->tags[i], i, old_mask, h2, &hash);
        if (*known >= position_bits(new_mask))
            return hash;
    }
    *known = 64;
    return hash_key_k(m, slot_at_k(m, i, kind), kind);
}

static uint64_t slot_hash(const hm_t *m, size_t i, uint8_t h2, size_t old_mask, size_t new_mask,
                          unsigned *known)
{
    BY_KIND(m, slot_hash_k, m, i, h2, old_mask, new_mask, known)
}

/* ---- memory ------------------------------------------------------------- */

/* With the default allocator, a table of 2 MiB or more is a mapping of its own,
 * a whole number of huge pages long, so that it grows with mremap and the
 * kernel puts it, and each mremap of it, on a 2 MiB boundary. From
 * HM_HUGE_PAGE_MIN_MIB on (2 MiB, every mapped table; 0: never), a doubling
 * gives the table the advice for transparent huge pages before it faults in
 * the new half (advise_then_populate), so that the growth gets huge pages
 * straight from the fault, one per 2 MiB. On this project's machine class (an
 * AMD EPYC guest, 2026-12-01) a small page costs about 5 us per 4 KiB even
 * populated, a huge page 0.2-6.6 us per 4 KiB, and u64 and flat inserts at
 * 1M took 0.30x-0.40x the time. The advice used to come after the growth,
 * from 512 MiB, for khugepaged to merge the pages in the background; there,
 * every lookup that met a merged page faulted (flat at 10M: hits 1-5 us
 * against 0.1). See docs/design.md, "Huge pages". A user's allocator decides
 * about its own memory. */
#if HM_MAP_TABLES
static bool is_mapped(const hm_t *m, size_t bytes)
{
    return m->default_alloc && bytes >= HUGE_PAGE_BYTES;
}

static size_t mapped_length(size_t bytes)
{
    return (bytes + HUGE_PAGE_BYTES - 1) & ~(HUGE_PAGE_BYTES - 1);
}

/* Whether a mapped table of this many bytes asks for huge pages. */
static bool wants_huge(size_t bytes)
{
#if HM_HUGE_PAGE_MIN_MIB > 0 && defined(MADV_HUGEPAGE)
    return bytes >= HUGE_PAGE_MIN_TABLE;
#else
    (void)bytes;
    return false;
#endif
}

/* Gives (`on`) or takes back the advice for huge pages of a mapped table of
 * this many bytes that wants it; the advice covers the whole mapping, which
 * so stays one area for the kernel, as mremap needs. Advice only. */
static void advise_huge(void *p, size_t bytes, bool on)
{
#if defined(MADV_HUGEPAGE) && defined(MADV_NOHUGEPAGE)
    if (wants_huge(bytes))
        (void)madvise(p, mapped_length(bytes), on ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
#else
    (void)p;
    (void)bytes;
    (void)on;
#endif
}

static void *map_table(size_t bytes)
{
    void *p = mmap(NULL, mapped_length(bytes), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}
#endif

static void *table_alloc(const hm_t *m, size_t bytes)
{
#if HM_MAP_TABLES
    if (is_mapped(m, bytes))
        return map_table(bytes);
#endif
    return m->alloc.alloc(bytes, m->alloc.ctx);
}

static void table_free(const hm_t *m, void *p, size_t bytes)
{
#if HM_MAP_TABLES
    if (is_mapped(m, bytes)) {
        munmap(p, mapped_length(bytes));
        return;
    }
#endif
    m->alloc.free(p, bytes, m->alloc.ctx);
}

/* Faults in the pages of a mapping from old_bytes to bytes in one call,
 * which costs about 0.75x what the first writes to them cost one page at a
 * time (1.1-1.2 against 1.5-1.6 us per 4 KiB here). Where the kernel lacks
 * it (before Linux 5.14), the pages are faulted in as written. */
#if HM_MAP_TABLES
static void populate_grown(void *p, size_t old_bytes, size_t bytes)
{
#if defined(MADV_POPULATE_WRITE)
    /* Not up to the mapping's end: the table never touches the rest of its
     * last 2 MiB, and neither must this. */
    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0)
        return;
    size_t from = old_bytes & ~((size_t)page - 1);
    (void)madvise((unsigned char *)p + from, bytes - from, MADV_POPULATE_WRITE);
#else
    (void)p;
    (void)old_bytes;
    (void)bytes;
#endif
}

/* After a growth of the table to the mapping q, with `populate`: gives it the
 * advice for huge pages if it wants them, then faults in its pages from
 * old_bytes on, on huge pages where the kernel has them; records whether it
 * gave the advice (huge_advised). A growth without `populate` gets no advice:
 * its pages would be faulted in a huge page at a time as entries come, each
 * fault a pause of up to milliseconds inside one insert. Where the population
 * fails (a kernel before 5.14), the advice stays: the rehash faults the
 * pages in. */
static void advise_then_populate(hm_t *m, void *q, size_t old_bytes, size_t new_bytes,
                                 bool populate)
{
    m->huge_advised = populate && wants_huge(new_bytes);
    if (m->huge_advised)
        advise_huge(q, new_bytes, true);
    if (populate)
        populate_grown(q, old_bytes, new_bytes);
}
#endif

/* Grows a table block, keeping its first old_bytes; NULL leaves it as it was.
 * A mapping grows with mremap, which moves pages and copies nothing; with
 * `populate`, the pages it gains are faulted in at once (see grow_in_place),
 * and so are all the pages of the mapping that a block of the allocator's
 * grows into, before the copy (u64 inserts at 100,000 entries, whose table
 * crosses 2 MiB in its last growth: 0.904x the time, pinned, 10 processes).
 * Only a table so faulted in gets the advice for huge pages, given before
 * the population; one that grows without `populate` (hm_reserve far past its
 * entries) goes without it until a doubling faults it in. */
static void *table_grow(hm_t *m, void *p, size_t old_bytes, size_t new_bytes, bool populate)
{
#if HM_MAP_TABLES
    if (is_mapped(m, new_bytes)) {
        if (is_mapped(m, old_bytes)) {
            /* The advice for huge pages is taken back for the mremap and
             * given again by advise_then_populate only to a growth that it
             * populates: a growth that leaves its pages to the inserts must
             * not fault them in a huge page at a time. A failed mremap gives
             * it back only to a table that had it: one never populated whole
             * (sized at creation, grown by hm_reserve) goes without. */
            advise_huge(p, old_bytes, false);
            void *q = mremap(p, mapped_length(old_bytes), mapped_length(new_bytes), MREMAP_MAYMOVE);
            if (q == MAP_FAILED) {
                if (m->huge_advised)
                    advise_huge(p, old_bytes, true);
                return NULL;
            }
            advise_then_populate(m, q, old_bytes, new_bytes, populate);
            return q;
        }
        void *q = map_table(new_bytes);
        if (q) {
            advise_then_populate(m, q, 0, new_bytes, populate);
            memcpy(q, p, old_bytes);
            m->alloc.free(p, old_bytes, m->alloc.ctx);
        }
        return q;
    }
#endif
    (void)populate;
    return m->alloc.realloc(p, old_bytes, new_bytes, m->alloc.ctx);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void report_resize(hm_t *m, size_t old_buckets, uint64_t start)
{
    m->resizes++;
    if (!m->on_resize)
        return;
    size_t bytes = 0;
    if (m->buckets)
        table_bytes(m, m->buckets, &bytes);
    hm_resize_info info = {
        .old_buckets = old_buckets,
        .new_buckets = m->buckets,
        .entry_size = m->slot_size,
        .new_bytes = bytes,
        .len = m->len,
        .nanoseconds = now_ns() - start,
    };
    m->on_resize(&info, m->udata);
}

/* Slots that removals gave up until the next rehash (see erase_at_bit). Not
 * kept: the entries, the free slots that may still be filled and these make
 * up cap, so a removal and an insert update one counter fewer. */
static inline size_t tombstones_of(const hm_t *m) { return m->cap - m->len - m->growth_left; }

static void set_kind_functions(hm_t *m);

/* A map with no table (buckets 0) has the empty group for control bytes and
 * for slots alike: nothing reads a slot there, and the home-slot prefetch of
 * find_k then needs no test for a table. */
static void set_table(hm_t *m, unsigned char *base, size_t buckets)
{
    m->slots = base ? base : (unsigned char *)empty_group;
    m->buckets = buckets;
    m->mask = buckets ? buckets - 1 : 0;
    m->ctrl = base ? base + ctrl_offset(m, buckets) : (uint8_t *)empty_group;
    m->tags = !m->keep_tags ? NULL : base ? base + buckets * m->slot_size : (uint8_t *)empty_group;
    m->overflow = base ? m->ctrl + buckets + GROUP_WIDTH : (uint8_t *)no_overflow;
    m->cap = cap_for_buckets(buckets, m->max_load);
    m->growth_left = m->cap - m->len;
    set_kind_functions(m);
}

static void release_table(hm_t *m)
{
    if (m->buckets) {
        size_t bytes = 0;
        table_bytes(m, m->buckets, &bytes);
        table_free(m, m->slots, bytes);
    }
}

/* ---- rehashing ---------------------------------------------------------- */

/* A slot still to be placed by a rehash: see mark_pending. */
static inline bool is_pending(const hm_t *m, uint8_t c, size_t kind)
{
    return has_tags(m, kind) ? (c & 0x80) && c != CTRL_EMPTY : c == CTRL_DELETED;
}

/* The hashes of the keys in slots i to i + 7 into out[], 8 at once by x8
 * (hm__sip13_x8_fn), for a map of a constant kind (which has no tags). Every
 * slot's bytes are hashed, full or not, with no branch on which: a slot that
 * holds no entry gives a hash nobody reads. A pending slot keeps its entry
 * until the rehash reaches it, since whatever moves into a slot leaves it
 * placed, no longer pending: the hash stays right while it is needed.
 * The keys are read in the slots, slot_size apart. Copied into a buffer
 * first, as they were before 6837d0d, they made x8's vector load wait for the
 * eight stores of the copy to reach the cache (a load that spans several
 * stores is not served from the store buffer); read in place, the resizes of
 * u64 and flat maps took 0.86x-0.97x the time (docs/design.md, "Growing in
 * place"). */
HM_INLINE void hash_slots_x8(const hm_t *m, hm__sip13_x8_fn *x8, size_t i, uint64_t out[8],
                             size_t kind)
{
    x8(&m->sip, slot_at_k(m, i, kind), key_size_of(m, kind), slot_size_of(m, kind), out);
}

#if defined(__GNUC__)
/* How many slots ahead of the one it places a rehash asks for a key's bytes
 * (see prefetch_key_target). */
enum { KEY_AHEAD = 8 };

/*
 * In a map with tags, the rehash calls the hash function again for an entry
 * whose tag knows fewer bits than the new table needs (low nibble below
 * `need`: see tag_read), about 1 in 9 when the table doubles; `need` is 0 in
 * a map that keeps no tags or whose keys are narrower than a pointer. For
 * keys behind pointers, a C string (hm_hash_cstr) or a { ptr, len } handle
 * like the seed's, that call waits for a cache miss in the heap. So for the
 * pending entry in slot j, KEY_AHEAD slots before the rehash reaches it, the
 * first pointer-sized bytes of its key are taken for an address and that line
 * is asked for. It is a hint: a prefetch never faults
 * (test_custom_hash_keys_no_pointers), and for a key whose first bytes are no
 * pointer it is one wasted request. The seed workload's resizes took 0.79x
 * the time at 10,000,000 entries and 0.81x at 4,000,000, its inserts 0.95x
 * (old and new library alternated, pinned; docs/design.md, "Growing in
 * place").
 */
HM_INLINE void prefetch_key_target(const hm_t *m, size_t j, size_t limit, unsigned need)
{
    if (need && j < limit && is_pending(m, m->ctrl[j], 0) && (m->tags[j] & 15u) < need) {
        const void *p;
        memcpy(&p, slot_at(m, j), sizeof p);
        __builtin_prefetch(p);
    }
}
#endif

/* What a rehash reads of the map at every entry, kept apart from it: the
 * compiler must assume that a store into the table may change the map's
 * fields, and would load them again after each (callgrind, the seed at
 * 100,000 entries: 12% more instructions in its rehash). */
struct rehash_walk {
    uint8_t *ctrl;
    size_t mask, old_mask, slot_size;
};

/*
 * Places the pending entry of slot i, whose hash is `hash` (`known` of its
 * bits, see tag_make), at the first free slot of its probe sequence; when
 * that slot holds another pending entry the two are swapped and the newcomer
 * is placed in turn. Returns whether it swapped. `tagged` is has_tags(m,
 * kind), a constant for each caller.
 *
 * The entry in hand frees its own slot, which the search may return: staying
 * and moving are then one path, with no branch on which it is. When a table
 * doubles, that is a coin toss per entry, and the mispredicted branch made
 * growth 10-20% slower (inserts at 1,000 to 10,000 entries).
 */
HM_INLINE bool place_pending(hm_t *m, const struct rehash_walk *w, size_t i, uint64_t hash,
                             unsigned known, size_t kind, bool tagged)
{
    uint8_t *ctrl = w->ctrl;
    const size_t mask = w->mask, slot_size = w->slot_size, old_mask = w->old_mask;
    unsigned char *cur = slot_at_k(m, i, kind);
    bool swapped = false;
    for (;;) {
        /* Slot i counts as free for the search already (a pending byte does:
         * see mark_pending); it is marked EMPTY only after the search has
         * loaded its group, which would otherwise wait for that one-byte
         * store to reach the cache. */
        size_t dst = find_insert_slot(ctrl, mask, hash, tagged);
        set_ctrl(ctrl, mask, i, CTRL_EMPTY);
        uint8_t h2 = h2_for(m, hash, kind);
        uint8_t prev = ctrl[dst];
        overflow_note(m->overflow, mask, hash, h2, dst);
        if (prev == CTRL_EMPTY) { /* dst may be i itself */
            set_ctrl(ctrl, mask, dst, h2);
            if (tagged)
                m->tags[dst] = tag_make(hash, known, dst, mask);
            copy_bytes(slot_at_k(m, dst, kind), cur, slot_size);
            return swapped;
        }
        /* dst is pending: learn its hash before its tag and bytes move. */
        unsigned other_known;
        uint64_t other = slot_hash_k(m, dst, prev & 0x7F, old_mask, mask, &other_known, kind);
        set_ctrl(ctrl, mask, dst, h2);
        if (tagged)
            m->tags[dst] = tag_make(hash, known, dst, mask);
        unsigned char *to = slot_at_k(m, dst, kind);
        copy_bytes(m->scratch, to, slot_size);
        copy_bytes(to, cur, slot_size);
        copy_bytes(cur, m->scratch, slot_size);
        hash = other;
        known = other_known;
        swapped = true;
    }
}

/*
 * Rehashes, without allocating, a table in which the entries still to be placed
 * are pending (see mark_pending) and every other slot is EMPTY or already
 * placed, each by place_pending, in the order of their slots. Only slots below
 * `limit` can be pending, and their tags are those of a table with old_mask.
 * This walk serves the maps with tags (kind 0): one slot at a time, since it
 * asks for the keys of the slots ahead (prefetch_key_target).
 */
static void rehash_tagged(hm_t *m, size_t limit, size_t old_mask)
{
    const size_t kind = 0;
    const struct rehash_walk w = {m->ctrl, m->mask, old_mask, m->slot_size};
#if defined(__GNUC__)
    /* Keys behind pointers: see prefetch_key_target; 0 where keys cannot be. */
    const size_t more_bits = position_bits(w.mask) - position_bits(old_mask);
    unsigned need = more_bits > TAG_MAX_BITS ? 16u : 1u << more_bits;
    if (m->key_size < sizeof(void *))
        need = 0;
#endif
    for (size_t i = 0; i < limit; i++) {
#if defined(__GNUC__)
        prefetch_key_target(m, i + KEY_AHEAD, limit, need);
#endif
        uint8_t c = w.ctrl[i];
        if (!is_pending(m, c, kind))
            continue;
        unsigned known;
        uint64_t hash = slot_hash_k(m, i, c & 0x7F, old_mask, w.mask, &known, kind);
        place_pending(m, &w, i, hash, known, kind, true);
    }
}

/* The pending slots of a group in a map without tags: during its rehash an old
 * slot is EMPTY, pending (DELETED) or placed (full). */
static inline bitmask group_match_pending(group g)
{
    return group_match_empty_or_deleted(g) & ~group_match_empty(g);
}

/*
 * The same walk for a map without tags, a group of slots at a time: the
 * pending slots of a group come from one match of its control bytes, and
 * where the kind has a way to hash 8 keys at once, the group's keys are
 * hashed together (hash_slots_x8); a group with none pending is passed by. A
 * swap may place an entry in a pending slot further on in the group, so the
 * group's pending slots are matched again after one. No branch per slot on
 * whether it is pending, which at a doubling seven slots in eight are, at
 * random: the resizes of u64 and flat maps took 0.89x-0.94x the time of the
 * walk one slot at a time (docs/design.md, "Growing in place").
 */
HM_INLINE void rehash_untagged_k(hm_t *m, size_t limit, size_t kind)
{
    hm__sip13_x8_fn *const x8 = kind ? m->hash_x8 : NULL;
    const struct rehash_walk w = {m->ctrl, m->mask, m->mask, slot_size_of(m, kind)}; /* no tags */
    uint64_t ahead[GROUP_WIDTH];
    for (size_t g = 0; g < limit; g += GROUP_WIDTH) {
        bitmask pending = group_match_pending(group_load(w.ctrl + g));
        if (!pending)
            continue;
        if (x8)
            for (size_t q = 0; q < GROUP_WIDTH; q += 8)
                hash_slots_x8(m, x8, g + q, ahead + q, kind);
        do {
            size_t i = g + bitmask_lowest(pending);
            pending = bitmask_next(pending);
            uint64_t hash = x8 ? ahead[i - g] : hash_key_k(m, slot_at_k(m, i, kind), kind);
            if (place_pending(m, &w, i, hash, 64, kind, false))
                pending = group_match_pending(group_load(w.ctrl + g));
        } while (pending);
    }
}

static void rehash_pending(hm_t *m, size_t limit, size_t old_mask)
{
    if (m->keep_tags)
        rehash_tagged(m, limit, old_mask);
    else if (m->key_kind == 4)
        rehash_untagged_k(m, limit, 4);
    else if (m->key_kind == 8)
        rehash_untagged_k(m, limit, 8);
    else if (m->key_kind == 16)
        rehash_untagged_k(m, limit, 16);
    else if (m->key_kind == KIND_8_8)
        rehash_untagged_k(m, limit, KIND_8_8);
    else
        rehash_untagged_k(m, limit, 0);
    m->growth_left = m->cap - m->len;
}

/* Marks full slots pending and frees the rest, in [0, n). A pending slot is
 * DELETED, a free slot to the rehash's search for one, or in a map with tags
 * 0x80 | h2 (never EMPTY, since such a map has no h2 of 0), which keeps h2
 * for the tag to be read with: such a map's full slots are 1..127, so its
 * rehash takes any byte with the top bit set for free (find_insert_slot). */
static void mark_pending(const hm_t *m, uint8_t *ctrl, size_t n)
{
    /* No branch in the loop: whether a slot is full is a coin toss. A group
     * at a time (n is a multiple of GROUP_WIDTH), since a loop of a constant
     * count is one that GCC turns into vector instructions at -O2. */
    const uint8_t keep = m->keep_tags ? 0x7F : 0, set = m->keep_tags ? 0x80 : CTRL_DELETED;
    for (size_t g = 0; g < n; g += GROUP_WIDTH) {
        uint8_t *c = ctrl + g;
        for (size_t i = 0; i < GROUP_WIDTH; i++)
            c[i] = is_full(c[i]) ? (uint8_t)((c[i] & keep) | set) : CTRL_EMPTY;
    }
}

static void fix_mirror(uint8_t *ctrl, size_t buckets)
{
    memcpy(ctrl + buckets, ctrl, GROUP_WIDTH);
}

/* Clears the overflow bits of a table at its size and gives back the room
 * that removals gave up (see erase_at_bit). */
static void rehash_same_size(hm_t *m)
{
    memset(m->overflow, 0, overflow_bytes(m->buckets));
    mark_pending(m, m->ctrl, m->buckets);
    fix_mirror(m->ctrl, m->buckets);
    rehash_pending(m, m->buckets, m->mask);
}

/* Grows the table block with the allocator's realloc and rehashes in place: at
 * no point do two copies of the entries exist. */
static int grow_in_place(hm_t *m, size_t new_buckets)
{
    size_t old_buckets = m->buckets, old_bytes, new_bytes;
    if (!table_bytes(m, old_buckets, &old_bytes) || !table_bytes(m, new_buckets, &new_bytes))
        return HM_ERANGE;
    uint64_t start = m->on_resize ? now_ns() : 0;
    /* A doubling of a table at least half full: the rehash below moves about
     * half the entries into the new half (at the default load, a fifth or
     * more of its slots), and inserts fill it further before the next growth,
     * so every page of it is written now or soon. Not for a growth by
     * hm_reserve or hm_resize far past the entries, whose pages are left to
     * be faulted in as entries come. */
    bool populate = new_buckets == 2 * old_buckets && m->len >= m->cap / 2;
    unsigned char *base = table_grow(m, m->slots, old_bytes, new_bytes, populate);
    if (!base)
        return HM_ENOMEM;

    /* The control bytes move first: their new place lies past the old slots,
     * tags and control bytes (only a set of 1-byte keys without tags reaches
     * into the old mirror bytes, which are rewritten), while the tags' new
     * place may overlap the old control bytes. */
    uint8_t *ctrl = base + ctrl_offset(m, new_buckets);
    memmove(ctrl, base + ctrl_offset(m, old_buckets), old_buckets);
    if (m->keep_tags)
        memmove(base + new_buckets * m->slot_size, base + old_buckets * m->slot_size, old_buckets);
    mark_pending(m, ctrl, old_buckets);
    memset(ctrl + old_buckets, CTRL_EMPTY, new_buckets - old_buckets + GROUP_WIDTH);
    fix_mirror(ctrl, new_buckets);

    set_table(m, base, new_buckets);
    memset(m->overflow, 0, overflow_bytes(new_buckets));
    rehash_pending(m, old_buckets, old_buckets - 1);
    report_resize(m, old_buckets, start);
    return HM_OK;
}

/* Moves every entry into a newly allocated table of `new_buckets` (0: none),
 * then frees the old one: for the first table and for shrinking. */
static int move_to_new(hm_t *m, size_t new_buckets)
{
    size_t old_buckets = m->buckets, new_bytes = 0;
    unsigned char *base = NULL;
    uint64_t start = m->on_resize ? now_ns() : 0;
    if (new_buckets) {
        if (!table_bytes(m, new_buckets, &new_bytes))
            return HM_ERANGE;
        base = table_alloc(m, new_bytes);
        if (!base)
            return HM_ENOMEM;
        size_t new_mask = new_buckets - 1;
        uint8_t *ctrl = base + ctrl_offset(m, new_buckets);
        uint8_t *tags = base + new_buckets * m->slot_size;
        uint8_t *overflow = ctrl + new_buckets + GROUP_WIDTH;
        memset(ctrl, CTRL_EMPTY, new_buckets + GROUP_WIDTH);
        memset(overflow, 0, overflow_bytes(new_buckets));
        for (size_t i = 0; i < old_buckets; i++) {
            if (!is_full(m->ctrl[i]))
                continue;
            unsigned known;
            uint64_t hash = slot_hash(m, i, m->ctrl[i], m->mask, new_mask, &known);
            size_t dst = find_insert_slot(ctrl, new_mask, hash, false);
            uint8_t h2 = h2_for(m, hash, m->key_kind);
            set_ctrl(ctrl, new_mask, dst, h2);
            overflow_note(overflow, new_mask, hash, h2, dst);
            copy_bytes(base + dst * m->slot_size, slot_at(m, i), m->slot_size);
            if (m->keep_tags)
                tags[dst] = tag_make(hash, known, dst, new_mask);
        }
    }
    release_table(m);
    set_table(m, base, new_buckets);
    m->huge_advised = false; /* a new table, or none: see table_grow */
    if (new_buckets != old_buckets)
        report_resize(m, old_buckets, start);
    return HM_OK;
}

static int resize_buckets(hm_t *m, size_t new_buckets)
{
    if (new_buckets == m->buckets) {
        if (tombstones_of(m))
            rehash_same_size(m);
        return HM_OK;
    }
    if (m->buckets && new_buckets > m->buckets)
        return grow_in_place(m, new_buckets);
    return move_to_new(m, new_buckets);
}

/* Makes growth_left >= additional: by a rehash at the same size when the table
 * is at most half full, which gives back the room that removals gave up, else
 * by growing to at least double. */
static int reserve_rehash(hm_t *m, size_t additional)
{
    size_t want, nb;
    if (!add_ok(m->len, additional, &want))
        return HM_ERANGE;
    if (m->buckets && want <= m->cap / 2) {
        rehash_same_size(m);
        return HM_OK;
    }
    if (want < m->cap + 1)
        want = m->cap + 1;
    int rc = buckets_for(m, want, &nb);
    if (rc < 0)
        return rc;
    return resize_buckets(m, nb);
}

/* ---- creation ----------------------------------------------------------- */

static void random_seed(uint8_t seed[16])
{
    size_t got = 0;
    while (got < 16) {
        ssize_t n = getrandom(seed + got, 16 - got, 0);
        if (n > 0)
            got += (size_t)n;
        else if (errno != EINTR)
            break;
    }
    if (got == 16)
        return;
    /* No getrandom (a kernel before 3.17): mix what differs between maps and
     * runs. Weaker than OS randomness, and documented as such. */
    static const uint8_t zero[16];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t mix[4] = {(uint64_t)ts.tv_sec, (uint64_t)ts.tv_nsec, (uint64_t)(uintptr_t)seed,
                       (uint64_t)getpid()};
    uint64_t a = hm_siphash24(mix, sizeof mix, zero);
    uint64_t b = hm_siphash24(&a, sizeof a, zero);
    memcpy(seed, &a, 8);
    memcpy(seed + 8, &b, 8);
}

static hm_t *fail_new(int err)
{
    errno = err;
    return NULL;
}

hm_t *hm_new(const hm_config *c)
{
    if (!c || c->key_size == 0)
        return fail_new(EINVAL);
    double max_load = c->max_load == 0 ? DEFAULT_MAX_LOAD : c->max_load;
    if (!(max_load > 0 && max_load < 1))
        return fail_new(EINVAL);
    const hm_allocator *a = c->allocator;
    if (a && (!a->alloc || !a->realloc || !a->free))
        return fail_new(EINVAL);

    size_t key_align = natural_align(c->key_size), value_align = natural_align(c->value_size);
    size_t slot_align = key_align > value_align ? key_align : value_align;
    size_t value_offset, slot_end, slot_size, scratch_size, struct_size;
    if (!round_up_ok(c->key_size, value_align, &value_offset) ||
        !add_ok(value_offset, c->value_size, &slot_end) ||
        !round_up_ok(slot_end, slot_align, &slot_size) ||
        !mul_ok(slot_size, SCRATCH_SLOTS, &scratch_size) ||
        !add_ok(sizeof(struct hm), scratch_size, &struct_size) || slot_size > PTRDIFF_MAX)
        return fail_new(EINVAL);

    /* Every size is checked before anything is allocated: a configuration
     * whose smallest table, the smallest that holds one entry (which a tiny
     * max_load can put past every size), or the table for config.capacity
     * cannot be sized is EINVAL, never ENOMEM. */
    struct hm layout = {.slot_size = slot_size, .max_load = max_load, .keep_tags = c->hash != NULL};
    size_t buckets = 0, one, bytes;
    if (!table_bytes(&layout, GROUP_WIDTH, &bytes) || buckets_for(&layout, 1, &one) < 0 ||
        (c->capacity && buckets_for(&layout, c->capacity, &buckets) < 0))
        return fail_new(EINVAL);

    hm_allocator alloc = a ? *a : (hm_allocator){std_alloc, std_realloc, std_free, NULL};
    hm_t *m = alloc.alloc(struct_size, alloc.ctx);
    if (!m)
        return fail_new(ENOMEM);
    *m = (hm_t){
        .key_size = c->key_size,
        .value_size = c->value_size,
        .value_offset = c->value_size ? value_offset : 0, /* see value_of() */
        .slot_size = slot_size,
        .slot_tail = CACHE_LINE % slot_size ? slot_size - 1 : 0,
        .max_load = max_load,
        .hash = c->hash,
        .equal = c->equal,
        .key_drop = c->key_drop,
        .value_drop = c->value_size ? c->value_drop : NULL,
        .udata = c->udata,
        .alloc = alloc,
        .default_alloc = a == NULL,
        .keep_tags = layout.keep_tags,
        .key_kind = key_kind_of(c),
        .hash_x8 = hash_x8_for(key_kind_of(c)),
        .plain_insert = !c->key_drop && !(c->value_size && c->value_drop) &&
                        copies_inline(c->value_size),
    };
    /* The key itself is not kept: every hash starts from the state made here. */
    uint8_t seed[16];
    if (c->seed)
        memcpy(seed, c->seed, 16);
    else
        random_seed(seed);
    hm__sip_start_key(&m->sip, seed);
#if HM__SIP_PAIR
    hm__sip_pair_of(&m->sip, m->sip_pair);
    m->sip_pair_level = (uint8_t)hm__sip_pair_level();
#endif
    set_table(m, NULL, 0);

    if (buckets) {
        if (move_to_new(m, buckets) < 0) {
            alloc.free(m, struct_size, alloc.ctx);
            return fail_new(ENOMEM);
        }
        m->resizes = 0; /* sizing at creation is not a resize */
    }
    m->on_resize = c->on_resize;
    return m;
}

static void drop_all(hm_t *m)
{
    if (!m->key_drop && !m->value_drop)
        return;
    /* A group of control bytes at a time (a table has a whole number of
     * groups: see buckets_for). A branch on each slot's byte is close to a
     * coin toss in a table between half and seven eighths full; with a
     * callback that only adds up values, hm_free took 2.2x the time that way
     * at 1,000,000 entries and 2.7x at 10,000. */
    for (size_t pos = 0; pos < m->buckets; pos += GROUP_WIDTH) {
        for (bitmask b = group_match_full(group_load(m->ctrl + pos)); b; b = bitmask_next(b)) {
            unsigned char *slot = slot_at(m, pos + bitmask_lowest(b));
            if (m->key_drop)
                m->key_drop(slot, m->udata);
            if (m->value_drop)
                m->value_drop(slot + m->value_offset, m->udata);
        }
    }
}

void hm_free(hm_t *m)
{
    if (!m)
        return;
    drop_all(m);
    release_table(m);
    m->alloc.free(m, map_bytes(m->slot_size), m->alloc.ctx);
}

/* ---- changes ------------------------------------------------------------ */

/* Claims slot i, free (EMPTY or DELETED), for a new key with the given hash
 * and h2 (h2_for's) as its control byte. `home` (a constant) when slot i is in
 * the key's home group, where overflow_note has nothing to note. */
static inline unsigned char *occupy_at(hm_t *m, size_t i, uint64_t hash, uint8_t h2,
                                       const void *key, size_t kind, bool home)
{
    /* The fields are read before the first byte store, which the compiler
     * must assume may change them: read after it, they were loaded again
     * (9 instructions more per insert of flat keys; through bench/ab.sh,
     * flat's reinserts at 1,000 and 10,000 entries took 0.98x the time). */
    uint8_t *const ctrl = m->ctrl, *const overflow = m->overflow, *const tags = m->tags;
    const size_t mask = m->mask, key_size = key_size_of(m, kind);
    unsigned char *const slot = slot_at_k(m, i, kind);
    m->growth_left--;
    m->len++;
    set_ctrl(ctrl, mask, i, h2);
    if (!home)
        overflow_note(overflow, mask, hash, h2, i);
    if (has_tags(m, kind))
        tags[i] = tag_full(hash, i, mask);
    memcpy(slot, key, key_size);
    return slot;
}

static inline unsigned char *occupy(hm_t *m, size_t i, uint64_t hash, const void *key, size_t kind)
{
    return occupy_at(m, i, hash, h2_for(m, hash, kind), key, kind, false);
}

/* Whether the n bytes at p overlap the table's block: a key or value that a
 * caller took from the map (hm_get's value, an iterator's key) and passed back
 * in. Compared as integers, since p may belong to another object. */
static bool in_table(const hm_t *m, const void *p, size_t n)
{
    if (!m->buckets || !p || !n)
        return false;
    /* the overflow bytes end the block (table_bytes) */
    uintptr_t a = (uintptr_t)p, start = (uintptr_t)m->slots,
              end = (uintptr_t)(m->overflow + overflow_bytes(m->buckets));
    return a >= start ? a < end : start - a < n;
}

/* A new key's slot, and the key and value to copy into it. */
struct new_slot {
    int rc;
    size_t slot;
    const void *key, *value;
};

/*
 * The slot for a new key when the table has no room: grows it (or rehashes it
 * in place), the one path by which hm_insert and hm_entry grow. A key or value
 * (NULL for none) that lies in the table would move or be overwritten under
 * the rehash, so it is first copied into the map's second scratch slot, and
 * the copy is what the caller then inserts. Out of line: one insertion in
 * many comes here.
 */
static HM_NOINLINE struct new_slot grow_for_new_key(hm_t *m, uint64_t hash, const void *key,
                                                    const void *value)
{
    unsigned char *held = m->scratch + m->slot_size;
    if (in_table(m, key, m->key_size)) {
        memcpy(held, key, m->key_size);
        key = held;
    }
    if (value && in_table(m, value, m->value_size)) {
        memcpy(held + m->value_offset, value, m->value_size);
        value = held + m->value_offset;
    }
    struct new_slot s = {reserve_rehash(m, 1), 0, key, value};
    if (s.rc == HM_OK)
        s.slot = find_insert_slot(m->ctrl, m->mask, hash, false);
    return s;
}

/*
 * Frees slot i. It becomes DELETED, whatever its neighbours, and insertions
 * may fill it at once: searches end by the overflow bits, not at EMPTY
 * slots (see overflow_note), so a freed slot where a search once went on past
 * a full group loses no key. Until they did, such a slot had to become a
 * tombstone that held its room back, which took reading the groups on both
 * sides of it: removals at 1,000 and 10,000 entries took 0.93x-0.96x the time
 * without that (bench/ab.sh).
 *
 * DELETED rather than EMPTY keeps what group_match_bounded relies on: an entry
 * sits before the first EMPTY byte of the group where its search finds it,
 * since it went to the first free slot there and no slot before it has
 * become EMPTY since. Only a rehash (or hm_clear, which empties the table)
 * writes EMPTY into a table again.
 *
 * Its room is given back unless its overflow byte has the entry's own bit,
 * that is unless an entry like it went past a group that starts near it
 * (boost's rule): bits are cleared only by a rehash, and a map that keeps
 * replacing its keys would otherwise set more and more of them until its
 * misses searched the whole table (test_hm_churn_keeps_misses_short). Room
 * not given back brings the next rehash nearer, which clears them. `bit` is
 * that entry's overflow bit (overflow_bit of its control byte).
 */
static inline void erase_at_bit(hm_t *m, size_t i, uint8_t bit)
{
    set_ctrl(m->ctrl, m->mask, i, CTRL_DELETED);
    m->growth_left += !(m->overflow[i / OVERFLOW_SPAN] & bit);
    m->len--;
}

/* erase_at_bit with the bit of slot i's control byte. */
static inline void erase_at(hm_t *m, size_t i) { erase_at_bit(m, i, overflow_bit(m->ctrl[i])); }

/*
 * The bodies of hm_insert, hm_remove and hm_get, arguments already checked,
 * for one key kind. Each kind gets functions of its own (below) rather than a
 * dispatch inside one: a lookup then runs in a small leaf function that saves
 * no registers for the generic kind's calls to user callbacks.
 */
HM_INLINE int insert_hashed_k(hm_t *m, const void *key, const void *value, uint64_t hash,
                              size_t kind, bool plain)
{
    size_t ins = 0;
    size_t i = find_k(m, key, hash, &ins, true, true, false, kind);
    const size_t value_size = value_size_of(m, kind);
    unsigned char *v;
    if (i != NOT_FOUND) {
        v = value_of_k(m, slot_at_k(m, i, kind), kind);
        /* A caller may hand back the entry's own value (hm_get's): it stays. */
        if (!plain && m->value_drop && value != v)
            m->value_drop(v, m->udata);
    } else {
        if (!plain && m->growth_left == 0) {
            struct new_slot s = grow_for_new_key(m, hash, key, value);
            if (s.rc < 0)
                return s.rc;
            ins = s.slot;
            key = s.key;
            value = s.value;
        }
        v = value_of_k(m, occupy(m, ins, hash, key, kind), kind);
    }
    if (value_size && value) { /* hm_insert checked; said again for the analyser */
        if (plain)
            copy_inline(v, value, value_size);
        else
            copy_bytes(v, value, value_size);
    }
    if (i == NOT_FOUND)
        return HM_OK;
    /* The caller's key is dropped, unless it is the stored key itself (an
     * iterator's), which the map keeps. */
    if (!plain && m->key_drop && key != slot_at_k(m, i, kind))
        m->key_drop((void *)key, m->udata);
    return HM_REPLACED;
}

HM_INLINE int insert_plain_hashed_k(hm_t *m, const void *key, const void *value, uint64_t hash,
                                    size_t kind)
{
    return insert_hashed_k(m, key, value, hash, kind, true);
}

/* A plain insertion that insert_k's home group did not settle, out of line. */
static HM_NOINLINE int insert_on(hm_t *m, const void *key, const void *value, uint64_t hash)
{
    BY_KIND(m, insert_plain_hashed_k, m, key, value, hash)
}

/*
 * hm_insert's body. `plain` (a constant) for a map with plain_insert whose
 * table has room (growth_left > 0): nothing to drop, no growth, no memmove,
 * and so fewer tests and registers (through bench/ab.sh, reinserts at 1,000 to
 * 100,000 entries took 0.96x-0.97x the time for u64 and 0.98x-0.99x for flat,
 * inserts 0.98x-1.00x; at 1M no change beyond the noise).
 *
 * A plain insertion of a constant kind with SSE2 (the build it was measured
 * in) looks at its home group alone first, as lookups do (find_first_k): a
 * key in the group's first candidate has its value replaced, and a new key,
 * when the group has no candidate, the key's overflow bit is clear there and
 * the group has room, takes the group's first free slot, as find_insert_slot
 * would. Anything else (11% of u64 inserts into a growing map, at up to 7/8
 * load) goes to insert_on, which starts again. callgrind, u64 at 1,000
 * entries: 17 instructions fewer a new key into a map with room, 14 a
 * replaced value. bench/ab.sh (four rounds of three copies): reinserts at
 * 1,000 to 100,000 entries took 0.964x-1.000x the time, at 1M 0.944x-0.973x;
 * inserts, which fall back more often as the table fills, 0.995x-1.008x.
 * h2, its vector and its overflow bit come from HM_H2_WORDS here, as for
 * lookups, though find_k keeps the fold for insertions: 5.8 to 8.6
 * instructions fewer, and reinserts 0.959x-0.997x the time (design.md,
 * "Control bytes").
 *
 * `ask_slot` (a constant): whether that look asks for the home slot before
 * the control bytes arrive, as lookups do. Only in tables whose slots pass
 * INSERT_PREFETCH_MIN_TABLE: below it the request cost more than it saved,
 * its instructions and the two registers it kept busy (the body pushes 3
 * registers without it, 5 with it): callgrind, u64 at 1,000 entries, 61
 * instructions a call of the body against 69. Through bench/ab.sh (three
 * rounds of three copies, 2026-12-01), reinserts took 0.93x-0.96x the time at
 * 1,000 to 200,000 entries (u64 with up to 4 MiB of slots, flat up to 3 MiB),
 * the other phases within the noise. Past 4 MiB, going without took u64's
 * reinserts with 8 and 16 MiB of slots to 0.98x, flat's with 6 MiB to 0.98x,
 * but flat's with 12 and 24 MiB to 1.06x-1.10x and at 1M, u64's to 1.02x and
 * flat's to 1.10x.
 *
 * A new key tests its overflow bit before the group's room, and the map's
 * fields (mask, control bytes) are read again after the first test rather
 * than held across both (reread_map_fields): with the group, the hash (kept
 * for insert_on) and the key's word in registers, the tests had no free
 * register left, and the bodies saved three more registers on the stack
 * than they now do (flat's for small tables: 3 pushes to none, for large
 * ones 5 to 2). Through bench/ab.sh (eight rounds of three copies,
 * 2026-12-02), reinserts took 0.961x (flat) and 0.982x (u64) the time at
 * 1,000 entries, 0.972x and 0.988x at 10,000, 1.008x and 0.992x at 100,000,
 * 1.017x and 0.925x at 1M (flat's from 100,000 up, in the body for large
 * tables, 0.983x-0.987x in a build that laid the same code out otherwise);
 * inserts 0.958x-1.007x, the other phases 0.987x-1.013x. The order of the
 * tests alone took flat's reinserts at 1,000 and 10,000 entries to
 * 0.972x-0.975x.
 */
HM_INLINE int insert_k(hm_t *m, const void *key, const void *value, uint64_t hash, size_t kind,
                       bool plain, bool ask_slot)
{
    if (!(HM_SSE2 && kind && plain))
        return insert_hashed_k(m, key, value, hash, kind, plain);
    const struct home_group h = home_group_of(m, hash, ask_slot, true, kind);
    if (h.candidates) {
        unsigned char *slot = slot_at_k(m, (h.pos + bitmask_lowest(h.candidates)) & m->mask, kind);
        if (!key_equal_k(m, key, slot, kind))
            return insert_on(m, key, value, hash);
        copy_inline(value_of_k(m, slot, kind), value, value_size_of(m, kind));
        return HM_REPLACED;
    }
    reread_map_fields();
    if (!home_group_ends(m, h))
        return insert_on(m, key, value, hash);
    const bitmask room = group_match_empty_or_deleted(h.ctrl);
    if (!room)
        return insert_on(m, key, value, hash);
    unsigned char *slot = occupy_at(m, (h.pos + bitmask_lowest(room)) & m->mask, hash,
                                    (uint8_t)h.word, key, kind, true);
    copy_inline(value_of_k(m, slot, kind), value, value_size_of(m, kind));
    return HM_OK;
}

/* Keys a batched call hashes ahead. Inserts: 32. Until 99ad374 16 did better
 * than 8 or 32, and than hashing the next batch while inserting this one; with
 * prefetch_pointed_slot's step, 32 took batched inserts at 10M to 0.954x-0.975x
 * the time of 16 and reinserts to 0.936x-0.984x, at 1M 0.984x-0.988x and
 * 0.898x-0.938x, at 1,000 to 100,000 entries 0.970x-1.018x and 0.954x-0.986x
 * (bench/ab.sh, 2026-12-01). Lookups: 32, the bench's keys per call, so that a
 * call of 32 has every cache miss asked for before its first probe (at
 * 10,000,000 entries: 0.89x-0.91x the time of 16). */
enum { KEY_BATCH = 32, LOOKUP_AHEAD = 32 };

/* Keys ahead of the probe whose candidate slot hm_get_many and hm_remove_many
 * ask for (see get_many_k). */
enum { CANDIDATE_AHEAD = 24 };

/* Whether a table is large (LARGE_MIN_MASK): its lookups keep miss_run. */
static inline bool is_large(const hm_t *m) { return m->mask >= LARGE_MIN_MASK; }

/* Whether the batched calls of this kind read each key's home group ahead and
 * ask for the slot it points to (prefetch_pointed_slot) rather than the home
 * slot: a key kind with SSE2, in a large table. */
HM_INLINE bool asks_pointed_slot(const hm_t *m, size_t kind)
{
    return HM_SSE2 && kind && is_large(m);
}

/* The hashes a lookup pipeline keeps: LOOKUP_AHEAD keys ahead, and the 8 that
 * hash_x8 adds at a time past them, in a ring whose length is a power of two. */
enum { HASH_RING = 64 };

/* Whether the batched calls prefetch: past BATCH_PREFETCH_MIN_TABLE. */
HM_INLINE bool batch_prefetches(const hm_t *m)
{
    return m->buckets * m->slot_size > BATCH_PREFETCH_MIN_TABLE;
}

/* Prefetches the home slot at p, both of its cache lines when a slot of this
 * map may span two (slot_tail): a 48-byte slot does at every other position,
 * and the caller of a batched call reads the value soon after. `write` gives
 * the hint for a line about to be written, which GCC emits as prefetchw only
 * for a target that has it (-mprfchw); for the x86-64 baseline it is the same
 * prefetcht0 as a read. Built with -mprfchw, u64 at 1M through the batched
 * calls took 0.994x the time to insert and 1.025x to reinsert, and the one-key
 * inserts asking for writing 0.990x and 0.995x (2026-11-30): nothing to gain
 * from a build for newer processors. */
#if defined(__GNUC__)
HM_INLINE void prefetch_slot(const hm_t *m, const unsigned char *p, bool write)
{
    if (write) {
        __builtin_prefetch(p, 1);
        if (m->slot_tail)
            __builtin_prefetch(p + m->slot_tail, 1);
    } else {
        __builtin_prefetch(p);
        if (m->slot_tail)
            __builtin_prefetch(p + m->slot_tail);
    }
}

/* Asks for the control bytes and the home slot of the key with this hash: both
 * ends of the group, since a group (16 bytes with SSE2) at any position spans
 * two cache lines 15 times in 64, and a line not asked for is a cache miss at
 * the probe. With the second prefetch, u64 and flat at 10,000,000 entries,
 * batched lookups took 0.82x-0.87x the time, batched reinserts 0.77x-0.85x and
 * batched inserts 0.83x-0.94x (1,000,000: 0.96x-1.01x). The slot only when
 * `ask_slot` (see get_many_k). */
HM_INLINE void prefetch_home(const hm_t *m, uint64_t hash, bool write, bool ask_slot)
{
    const size_t pos = hash & m->mask;
    __builtin_prefetch(m->ctrl + pos);
    __builtin_prefetch(m->ctrl + pos + GROUP_WIDTH - 1);
    if (ask_slot)
        prefetch_slot(m, slot_at(m, pos), write);
}

/* The middle step of the batched calls' pipelines where asks_pointed_slot:
 * reads the home group of the key with this hash, whose control bytes
 * prefetch_home asked for, and asks for the slot of its first candidate, if it
 * has one before the group's first EMPTY (group_match_bounded). An absent key
 * mostly has none and asks for no slot; a present one asks for the line it is
 * in, which is the home slot's only when the key sits there or close by (see
 * get_many_k). For an insertion (`insert`, a constant) the slot is asked for
 * writing, and with no candidate the group's first free slot is, where a new
 * key goes; keys inserted before it in the batch may take that slot first:
 * the request is a hint. In a large table (u64 and flat at 1M and 10M,
 * bench/ab.sh, 2026-12-01), batched inserts took 0.91x-0.99x the time with it
 * and reinserts 0.82x-1.03x (medians 0.955x and 0.943x). */
HM_INLINE void prefetch_pointed_slot(const hm_t *m, uint64_t hash, bool insert, size_t kind)
{
    const struct home_group h = home_group_of(m, hash, false, true, kind);
    bitmask target = h.candidates;
    if (insert && !target)
        target = group_match_empty_or_deleted(h.ctrl);
    if (target)
        prefetch_slot(m, slot_at_k(m, (h.pos + bitmask_lowest(target)) & m->mask, kind), insert);
}
#endif

/* The first half of a batched call: hashes the first `ahead` (or fewer) of
 * `left` keys stored back to back into hashes[] (8 at a time in a map with
 * hash_x8, see design.md, "Eight keys at once") and, in a table past
 * BATCH_PREFETCH_MIN_TABLE, asks for the control bytes and home slot of each
 * (the slot for writing when `write`, a constant; not at all unless
 * `ask_slot`), so that the cache misses of the batch overlap. Returns how many
 * it hashed. */
HM_INLINE size_t hash_batch_k(const hm_t *m, const unsigned char *keys, size_t left,
                              size_t ahead, uint64_t *hashes, bool write, bool ask_slot,
                              size_t kind)
{
    const size_t key_size = key_size_of(m, kind);
    size_t count = left < ahead ? left : ahead;
#if defined(__GNUC__)
    /* Once, not per key: the stores to hashes[] may alias the map's fields. */
    const bool prefetch = batch_prefetches(m);
#endif
    size_t j = 0;
    if (kind && m->hash_x8) {
        for (; j + 8 <= count; j += 8) {
            m->hash_x8(&m->sip, keys + j * key_size, key_size, key_size, hashes + j);
#if defined(__GNUC__)
            if (prefetch)
                for (size_t q = j; q < j + 8; q++)
                    prefetch_home(m, hashes[q], write, ask_slot);
#endif
        }
    }
    for (; j < count; j++) {
        uint64_t h = hash_key_k(m, keys + j * key_size, kind);
        hashes[j] = h;
#if defined(__GNUC__)
        if (prefetch)
            prefetch_home(m, h, write, ask_slot);
#endif
    }
    return count;
}

/* A lookup pipeline's next hashes: of key `hashed` of the n at keys, or of
 * the 8 from it when the map hashes 8 at a time (hash_x8) and 8 are left, into
 * the ring hashes[] of HASH_RING (where 8 never wrap: the first LOOKUP_AHEAD
 * come from hash_batch_k, then 8 at a time), their control bytes and home
 * slots asked for when `prefetch`, as hash_batch_k does. Returns the count
 * hashed so far. */
HM_INLINE size_t hash_ahead_k(const hm_t *m, const unsigned char *keys, size_t n, size_t hashed,
                              uint64_t *hashes, bool prefetch, bool ask_slot, size_t kind)
{
    const size_t key_size = key_size_of(m, kind);
    hm__sip13_x8_fn *const x8 = kind ? m->hash_x8 : NULL;
    size_t more = x8 && n - hashed >= 8 ? 8 : 1;
    if (more == 8)
        x8(&m->sip, keys + hashed * key_size, key_size, key_size, hashes + hashed % HASH_RING);
    else
        hashes[hashed % HASH_RING] = hash_key_k(m, keys + hashed * key_size, kind);
#if defined(__GNUC__)
    if (prefetch)
        for (size_t q = hashed; q < hashed + more; q++)
            prefetch_home(m, hashes[q % HASH_RING], false, ask_slot);
#else
    (void)prefetch;
    (void)ask_slot;
#endif
    return hashed + more;
}

/* hm_insert_many's body, once the table has room for n new keys: hashes a
 * batch of keys and asks for the control bytes and home slot of each (in a
 * large table of a key kind with SSE2, the control bytes, and then the slot
 * each home group points to: prefetch_pointed_slot), then inserts them in
 * order, so that the cache misses of a batch overlap. Returns how many keys
 * were new. */
HM_INLINE size_t insert_many_k(hm_t *m, const unsigned char *keys, const unsigned char *values,
                               size_t n, size_t kind)
{
    const size_t key_size = key_size_of(m, kind), value_size = value_size_of(m, kind);
    size_t added = 0;
    const bool by_target = asks_pointed_slot(m, kind);
    for (size_t start = 0, count; start < n; start += count) {
        uint64_t hashes[KEY_BATCH];
        count = hash_batch_k(m, keys + start * key_size, n - start, KEY_BATCH, hashes, true,
                             !by_target, kind);
#if defined(__GNUC__)
        if (by_target)
            for (size_t j = 0; j < count; j++)
                prefetch_pointed_slot(m, hashes[j], true, kind);
#endif
        for (size_t j = 0; j < count; j++) {
            const void *value = value_size ? values + (start + j) * value_size : NULL;
            added += insert_hashed_k(m, keys + (start + j) * key_size, value, hashes[j], kind,
                                     false) ==
                     HM_OK;
        }
    }
    return added;
}

/* What hm_remove does with the entry in slot before it goes: copies it out
 * or drops it. Out of line: most removals want neither, and their path then
 * holds only the four tests (at 1,000 u64 entries it took 0.95x the time). */
static HM_NOINLINE void hand_over(const hm_t *m, unsigned char *slot, void *key_out,
                                  void *value_out)
{
    if (key_out)
        memcpy(key_out, slot, m->key_size);
    else if (m->key_drop)
        m->key_drop(slot, m->udata);
    if (m->value_size) {
        if (value_out)
            memcpy(value_out, slot + m->value_offset, m->value_size);
        else if (m->value_drop)
            m->value_drop(slot + m->value_offset, m->udata);
    }
}

/* How find_first_k's search ended. */
enum first_group { FIRST_FOUND, FIRST_ABSENT, FIRST_GOES_ON };

/*
 * find_k's first group alone, for a lookup or removal in a map of a constant
 * kind with SSE2: FIRST_FOUND, the slot in *slot, when the group's first
 * candidate holds the key; FIRST_ABSENT when the group has no candidate and
 * the key's overflow bit is clear there; else FIRST_GOES_ON, and the caller
 * runs the whole search again out of line (get_on, remove_on). Nearly every
 * search ends in its first group, and this much of it keeps few enough values
 * that GCC holds them all in registers a function need not save: hm_get of a
 * u64 key then saves none (find_k's loop saved four) and hm_remove one, 9 and
 * 13 instructions fewer a call at 1,000 entries (callgrind). Through
 * bench/ab.sh, at 1,000 and 10,000 entries u64 and flat misses took
 * 0.981x-0.985x the time and hits 0.972x-0.994x (design.md, "Probing").
 */
HM_INLINE enum first_group find_first_k(const hm_t *m, const void *key, uint64_t hash,
                                        size_t kind, size_t *slot, bool ask_slot, bool bounded)
{
    const struct home_group h = home_group_of(m, hash, ask_slot, bounded, kind);
    if (h.candidates) {
        *slot = (h.pos + bitmask_lowest(h.candidates)) & m->mask;
        return key_equal_k(m, key, slot_at_k(m, *slot, kind), kind) ? FIRST_FOUND : FIRST_GOES_ON;
    }
    return home_group_ends(m, h) ? FIRST_ABSENT : FIRST_GOES_ON;
}

/* hm_remove's end, the key found in slot i. A constant kind takes the entry's
 * overflow bit from HM_H2_WORDS, where the search has just read h2 (the found
 * entry's h2 is the key's), instead of shifting 1 by its control byte: 4
 * fewer instructions a u64 removal, which took 0.961x-0.972x the time at 1,000
 * to 100,000 entries and 0.990x at 1M, flat's 0.981x-1.000x (bench/ab.sh). */
HM_INLINE int remove_found_k(hm_t *m, size_t i, uint64_t hash, void *key_out, void *value_out,
                             size_t kind, bool plain)
{
    const uint8_t bit = HM_SSE2 && kind ? word_overflow_bit(HM_H2_WORDS[hash >> 56])
                                        : overflow_bit(m->ctrl[i]);
    if (!plain && (key_out || value_out || m->key_drop || m->value_drop))
        hand_over(m, slot_at_k(m, i, kind), key_out, value_out);
    erase_at_bit(m, i, bit);
    return 1;
}

/* A removal by find_k alone. */
HM_INLINE int remove_searched_k(hm_t *m, const void *key, void *key_out, void *value_out,
                                uint64_t hash, size_t kind, bool plain)
{
    size_t i = find_k(m, key, hash, NULL, false, true, false, kind);
    return i == NOT_FOUND ? 0 : remove_found_k(m, i, hash, key_out, value_out, kind, plain);
}

/* remove_searched_k as hm_remove's every caller may take it, plain or not:
 * the one body remove_on needs. */
HM_INLINE int remove_searched_any_k(hm_t *m, const void *key, void *key_out, void *value_out,
                                    uint64_t hash, size_t kind)
{
    return remove_searched_k(m, key, key_out, value_out, hash, kind, false);
}

/* A removal that find_first_k could not settle, out of line. */
static HM_NOINLINE int remove_on(hm_t *m, const void *key, void *key_out, void *value_out,
                                 uint64_t hash)
{
    BY_KIND(m, remove_searched_any_k, m, key, key_out, value_out, hash)
}

/* hm_remove's body. `plain` (a constant) for a removal with no out-parameters
 * from a map with no drop callbacks: the copy without the call of hand_over
 * is a leaf function with two fewer registers to save (through bench/ab.sh,
 * six rounds of three copies, removals at 1,000 and 10,000 entries took
 * 0.98x-0.99x the time for u64 and 0.97x for flat, the other phases moving by
 * under 1.5%; at 1M and 10M, 0.98x-1.01x). */
HM_INLINE int remove_k(hm_t *m, const void *key, void *key_out, void *value_out, uint64_t hash,
                       size_t kind, bool plain)
{
    if (!(HM_SSE2 && kind))
        return remove_searched_k(m, key, key_out, value_out, hash, kind, plain);
    size_t i;
    switch (find_first_k(m, key, hash, kind, &i, true, false)) {
    case FIRST_FOUND:
        return remove_found_k(m, i, hash, key_out, value_out, kind, plain);
    case FIRST_ABSENT:
        return 0;
    default:
        return remove_on(m, key, key_out, value_out, hash);
    }
}

/* A lookup by find_k alone. */
HM_INLINE void *get_searched_k(const hm_t *m, const void *key, uint64_t hash, size_t kind)
{
    size_t i = find_k(m, key, hash, NULL, false, true, false, kind);
    return i == NOT_FOUND ? NULL : value_of_k(m, slot_at_k(m, i, kind), kind);
}

/* A lookup that find_first_k could not settle, out of line. */
static HM_NOINLINE void *get_on(const hm_t *m, const void *key, uint64_t hash)
{
    BY_KIND(m, get_searched_k, m, key, hash)
}

/*
 * The lookups in a row that the calling thread's hm_get found absent in their
 * home group (or hm_get_many absent), up to MISS_RUN_LIMIT, in large tables
 * (LARGE_MIN_MASK). A lookup asks for its home slot before its control bytes
 * arrive, so that a hit's two cache misses overlap; a miss never reads that
 * line, and in a large table it pushes control bytes out of the L3 cache. So once a
 * thread's last MISS_RUN_LIMIT lookups in such tables were misses, its lookups
 * stop asking until one hits. In a random mix of hits (a share p) and misses,
 * (1 - p)^8 of the lookups go without: 0.4% at p = 1/2, 43% at p = 1/10.
 * Through bench/ab.sh, u64 and flat misses at 1M took 0.875x and 0.817x the
 * time, at 10M 0.894x and 0.816x, the other phases within the spread (at 10M,
 * no request at all: misses 0.50x-0.75x, but hits 1.48x-1.52x and removals
 * 1.44x-1.53x). Per thread, since hm_get only reads the map: a count in
 * the map would be a data race between readers. initial-exec, so that it is
 * one load through %fs rather than a call of __tls_get_addr (a library that
 * dlopen() loads takes it from glibc's spare static TLS). Tables below the
 * threshold, whose control bytes the L2 cache holds, keep asking and never
 * touch it: at 100,000 entries the count cost more (misses 1.01x-1.03x the
 * time) than dropping the request gave (0.97x).
 */
#if defined(__GNUC__)
static _Thread_local unsigned miss_run __attribute__((tls_model("initial-exec")));
#else
static _Thread_local unsigned miss_run;
#endif
enum { MISS_RUN_LIMIT = 8 };

/* miss_run after one more miss: it stops counting at MISS_RUN_LIMIT. */
static inline unsigned miss_run_after_miss(unsigned run) { return run + (run < MISS_RUN_LIMIT); }

/* hm_get's body. `watch` (a constant) for a table past LARGE_MIN_MASK,
 * whose lookups keep miss_run and, in a run of misses, when they do not ask
 * for the home slot, bound their candidates (group_match_bounded: misses at
 * 1M took 0.78x-0.87x the time, at 10M 0.56x-0.68x). A lookup that asks for
 * the slot compares every candidate: there the bound cost every hit 5
 * instructions to spare the odd miss a compare of a slot already asked for,
 * and u64 hits at 1M took 0.990x the time without it (bench/ab.sh). */
HM_INLINE void *get_k(const hm_t *m, const void *key, uint64_t hash, size_t kind, bool watch)
{
    if (!(HM_SSE2 && kind))
        return get_searched_k(m, key, hash, kind);
    size_t i;
    const unsigned run = watch ? miss_run : 0;
    const bool ask = run < MISS_RUN_LIMIT;
    switch (find_first_k(m, key, hash, kind, &i, ask, watch && !ask)) {
    case FIRST_FOUND:
        if (watch && run)
            miss_run = 0;
        return value_of_k(m, slot_at_k(m, i, kind), kind);
    case FIRST_ABSENT:
        if (watch)
            miss_run = miss_run_after_miss(run);
        return NULL;
    default:
        return get_on(m, key, hash);
    }
}

/* Key j's probe in a pipeline with prefetch_pointed_slot's step, `hashed` keys
 * hashed into the ring `hashes` and *asked of them asked for: first asks for
 * the candidates of those up to CANDIDATE_AHEAD past j, then finds key j from
 * its home group (find_first_k, as hm_get), then by find_k's search. */
HM_INLINE size_t find_next_asked_k(const hm_t *m, const void *key, const uint64_t *hashes,
                                   size_t j, size_t hashed, size_t *asked, size_t kind)
{
#if defined(__GNUC__)
    for (; *asked < hashed && *asked <= j + CANDIDATE_AHEAD; ++*asked)
        prefetch_pointed_slot(m, hashes[*asked % HASH_RING], false, kind);
#else
    (void)hashed;
    (void)asked;
#endif
    const uint64_t hash = hashes[j % HASH_RING];
    size_t i;
    switch (find_first_k(m, key, hash, kind, &i, false, true)) {
    case FIRST_FOUND:
        return i;
    case FIRST_ABSENT:
        return NOT_FOUND;
    default:
        return find_k(m, key, hash, NULL, false, false, true, kind);
    }
}

/* hm_get_many's body: a pipeline LOOKUP_AHEAD keys deep. The first
 * LOOKUP_AHEAD keys are hashed (and their control bytes asked for) before any
 * is probed; then, whenever the keys hashed are no more than LOOKUP_AHEAD
 * ahead of the probe, hash_ahead_k hashes the next one, or the next 8 at once
 * in a map with hash_x8. The cache misses of the keys ahead keep overlapping
 * instead of draining every LOOKUP_AHEAD keys.
 *
 * For a map of a constant kind with SSE2, in a table past LARGE_MIN_MASK,
 * the pipeline has a middle step CANDIDATE_AHEAD keys ahead of the probe:
 * prefetch_pointed_slot reads the key's home group, by then mostly in the cache,
 * and asks for the slot of its first candidate alone (find_next_asked_k). A
 * key present and not in its home slot's line gets its own line, a key absent
 * gets none, and no line is asked for that the probe will not read.
 * Against asking for the home slot with the control bytes (2026-12-01,
 * bench/ab.sh and one hm_bench alternating libraries, 10M entries), batches of
 * present u64 keys took 0.82x-0.89x the time and flat's 0.80x-0.86x, absent
 * u64 keys 1.04x; asking for the home slot too (so that its page walk came
 * early) took 1.07x-1.27x the time of asking for the candidate alone. 24 keys
 * ahead did as well as 32; 16 took 1.04x-1.07x the time, 8 1.11x-1.18x. In
 * tables below LARGE_MIN_MASK the step cost more than it saved (u64 at
 * 100,000 entries, a 2 MiB table: 1.12x the time).
 *
 * Otherwise the home slot is asked for with the control bytes, and in a table
 * past LARGE_MIN_MASK only while the thread's miss_run is under
 * MISS_RUN_LIMIT: a call of 32 keys asks for every line before its first
 * result, so the count it starts with, carried over from the thread's earlier
 * calls, decides for all of them (design.md, "Misses in a row"). In a large
 * table the call keeps miss_run either way, as hm_get does (each key absent a
 * miss, each key found a hit), and compares only the candidates before a
 * group's first EMPTY (group_match_bounded). */
HM_INLINE size_t get_many_k(const hm_t *m, const unsigned char *keys, size_t n, void **values,
                            size_t kind)
{
    const size_t key_size = key_size_of(m, kind);
    uint64_t hashes[HASH_RING];
    size_t found = 0;
    const bool watch = is_large(m);
    unsigned run = watch ? miss_run : 0;
    const bool prefetch = batch_prefetches(m);
    const bool by_candidate = asks_pointed_slot(m, kind);
    const bool ask_home = !by_candidate && run < MISS_RUN_LIMIT;
    size_t hashed = hash_batch_k(m, keys, n, LOOKUP_AHEAD, hashes, false, ask_home, kind);
    size_t asked = 0; /* keys whose candidate's slot was asked for */
    for (size_t j = 0; j < n; j++) {
        uint64_t h = hashes[j % HASH_RING];
        if (hashed < n && hashed <= j + LOOKUP_AHEAD)
            hashed = hash_ahead_k(m, keys, n, hashed, hashes, prefetch, ask_home, kind);
        const void *key = keys + j * key_size;
        const size_t i = by_candidate
                             ? find_next_asked_k(m, key, hashes, j, hashed, &asked, kind)
                             : find_k(m, key, h, NULL, false, !watch, watch, kind);
        values[j] = i == NOT_FOUND ? NULL : value_of_k(m, slot_at_k(m, i, kind), kind);
        found += i != NOT_FOUND;
        if (watch)
            run = i == NOT_FOUND ? miss_run_after_miss(run) : 0;
    }
    if (watch)
        miss_run = run;
    return found;
}

/* hm_remove_many's body: get_many_k's pipeline, LOOKUP_AHEAD keys deep (in a
 * large table, of a key kind with SSE2, with its middle step asking for each
 * key's candidate slot), each key found removed (its entry dropped) before the
 * next is probed. A removal moves no other entry and never resizes, so the
 * lines asked for ahead stay where they were; one that turns a candidate's
 * byte DELETED only makes a request needless. With the middle step, batched
 * removals at 10M took 0.870x (u64) and 0.856x (flat) the time, at 1M 0.923x
 * and 0.908x (bench/ab.sh, 2026-12-01). Without miss_run: a removal's key is
 * mostly present, and hm_remove does not keep it either. Returns how many keys
 * were removed. */
HM_INLINE size_t remove_many_k(hm_t *m, const unsigned char *keys, size_t n, size_t kind)
{
    const size_t key_size = key_size_of(m, kind);
    uint64_t hashes[HASH_RING];
    size_t removed = 0;
    const bool by_candidate = asks_pointed_slot(m, kind);
    size_t hashed = hash_batch_k(m, keys, n, LOOKUP_AHEAD, hashes, false, !by_candidate, kind);
    const bool prefetch = batch_prefetches(m);
    size_t asked = 0; /* keys whose candidate's slot was asked for */
    for (size_t j = 0; j < n; j++) {
        uint64_t h = hashes[j % HASH_RING];
        if (hashed < n && hashed <= j + LOOKUP_AHEAD)
            hashed = hash_ahead_k(m, keys, n, hashed, hashes, prefetch, !by_candidate, kind);
        const void *key = keys + j * key_size;
        const size_t i = by_candidate
                             ? find_next_asked_k(m, key, hashes, j, hashed, &asked, kind)
                             : find_k(m, key, h, NULL, false, !prefetch, false, kind);
        if (i != NOT_FOUND)
            removed += remove_found_k(m, i, h, NULL, NULL, kind, false);
    }
    return removed;
}

#define HM_KIND_FUNCTIONS(K)                                                                    \
    static HM_NOINLINE int insert_##K(hm_t *m, const void *key, const void *value)              \
    {                                                                                           \
        return insert_k(m, key, value, hash_key_k(m, key, K), K, false, true);                  \
    }                                                                                           \
    static HM_NOINLINE int insert_plain_##K(hm_t *m, const void *key, const void *value)        \
    {                                                                                           \
        return insert_k(m, key, value, hash_key_k(m, key, K), K, true, true);                   \
    }                                                                                           \
    static HM_NOINLINE int insert_plain_small_##K(hm_t *m, const void *key, const void *value)  \
    {                                                                                           \
        return insert_k(m, key, value, hash_key_k(m, key, K), K, true, false);                  \
    }                                                                                           \
    static HM_NOINLINE int remove_##K(hm_t *m, const void *key, void *key_out, void *value_out) \
    {                                                                                           \
        return remove_k(m, key, key_out, value_out, hash_key_k(m, key, K), K, false);           \
    }                                                                                           \
    static HM_NOINLINE int remove_plain_##K(hm_t *m, const void *key)                           \
    {                                                                                           \
        return remove_k(m, key, NULL, NULL, hash_key_k(m, key, K), K, true);                    \
    }                                                                                           \
    static HM_NOINLINE void *get_##K(const hm_t *m, const void *key)                            \
    {                                                                                           \
        return get_k(m, key, hash_key_k(m, key, K), K, false);                                  \
    }                                                                                           \
    static HM_NOINLINE void *get_watched_##K(const hm_t *m, const void *key)                    \
    {                                                                                           \
        return get_k(m, key, hash_key_k(m, key, K), K, true);                                   \
    }                                                                                           \
    static HM_NOINLINE size_t insert_many_##K(hm_t *m, const void *keys, const void *values,      \
                                              size_t n)                                         \
    {                                                                                           \
        return insert_many_k(m, keys, values, n, K);                                            \
    }                                                                                           \
    static HM_NOINLINE size_t get_many_##K(const hm_t *m, const void *keys, size_t n,             \
                                           void **values)                                       \
    {                                                                                           \
        return get_many_k(m, keys, n, values, K);                                               \
    }                                                                                           \
    static HM_NOINLINE size_t remove_many_##K(hm_t *m, const void *keys, size_t n)               \
    {                                                                                           \
        return remove_many_k(m, keys, n, K);                                                    \
    }                                                                                           \
    static const struct kind_functions kind_functions_##K = {                                   \
        get_##K, get_watched_##K, insert_plain_##K, insert_plain_small_##K, remove_plain_##K};

/* What set_kind_functions picks from, for one kind. */
struct kind_functions {
    void *(*get)(const hm_t *m, const void *key);
    void *(*get_watched)(const hm_t *m, const void *key);
    int (*insert_plain)(hm_t *m, const void *key, const void *value);
    int (*insert_plain_small)(hm_t *m, const void *key, const void *value);
    int (*remove_plain)(hm_t *m, const void *key);
};

HM_KIND_FUNCTIONS(0)
HM_KIND_FUNCTIONS(4)
HM_KIND_FUNCTIONS(8)
HM_KIND_FUNCTIONS(16)
HM_KIND_FUNCTIONS(24)

#if HM__SIP_PAIR
/*
 * The same for a map whose keys hash in a register pair (sip_pair_level): a
 * front end for each build of the pair, compiled for its instructions
 * (AVX-512VL or AVX2), hashes the key. An insertion's or removal's then jumps
 * to a body that takes the hash, compiled as the rest of the library is.
 * Compiled for AVX-512 themselves, the bodies copied values in 32-byte
 * registers, which made GCC realign the stack of every insertion and clear
 * the registers' upper halves before it returned. A lookup copies no value:
 * get_k is inlined into its front end, which then takes its control bytes'
 * compare straight from memory (a VEX encoding) and needs no jump and no
 * moves of its arguments. flat hits at 1M took 0.977x the time so, u64's
 * 1.002x (bench/ab.sh). HM_HASHED_FUNCTIONS writes the bodies of kind K,
 * HM_PAIR_FUNCTIONS the front ends of one build.
 */
#define HM_HASHED_FUNCTIONS(K)                                                                     \
    static HM_NOINLINE int insert_plain_hashed_##K(hm_t *m, const void *key, const void *value,    \
                                                   uint64_t hash)                                  \
    {                                                                                              \
        return insert_k(m, key, value, hash, K, true, true);                                       \
    }                                                                                              \
    static HM_NOINLINE int insert_plain_small_hashed_##K(hm_t *m, const void *key,                 \
                                                          const void *value, uint64_t hash)        \
    {                                                                                              \
        return insert_k(m, key, value, hash, K, true, false);                                      \
    }                                                                                              \
    static HM_NOINLINE int remove_plain_hashed_##K(hm_t *m, const void *key, uint64_t hash)        \
    {                                                                                              \
        return remove_k(m, key, NULL, NULL, hash, K, true);                                        \
    }

/* The front ends of kind K for one build of the pair: P prefixes their names,
 * HM__SIP_<T>_TARGET is what they are compiled for and HASH the pair's hash. */
#define HM_PAIR_FUNCTIONS(K, P, T, HASH)                                                           \
    HM__SIP_##T##_TARGET static HM_NOINLINE int P##insert_plain_##K(                               \
        hm_t *m, const void *key, const void *value)                                               \
    {                                                                                              \
        return insert_plain_hashed_##K(m, key, value, HASH(m->sip_pair, key, key_size_of(m, K)));  \
    }                                                                                              \
    HM__SIP_##T##_TARGET static HM_NOINLINE int P##insert_plain_small_##K(                         \
        hm_t *m, const void *key, const void *value)                                               \
    {                                                                                              \
        return insert_plain_small_hashed_##K(m, key, value,                                        \
                                              HASH(m->sip_pair, key, key_size_of(m, K)));          \
    }                                                                                              \
    HM__SIP_##T##_TARGET static HM_NOINLINE int P##remove_plain_##K(hm_t *m, const void *key)      \
    {                                                                                              \
        return remove_plain_hashed_##K(m, key, HASH(m->sip_pair, key, key_size_of(m, K)));         \
    }                                                                                              \
    HM__SIP_##T##_TARGET static HM_NOINLINE void *P##get_##K(const hm_t *m, const void *key)       \
    {                                                                                              \
        return get_k(m, key, HASH(m->sip_pair, key, key_size_of(m, K)), K, false);                 \
    }                                                                                              \
    HM__SIP_##T##_TARGET static HM_NOINLINE void *P##get_watched_##K(const hm_t *m,                \
                                                                     const void *key)              \
    {                                                                                              \
        return get_k(m, key, HASH(m->sip_pair, key, key_size_of(m, K)), K, true);                  \
    }                                                                                              \
    static const struct kind_functions P##kind_functions_##K = {                                   \
        P##get_##K, P##get_watched_##K, P##insert_plain_##K, P##insert_plain_small_##K,            \
        P##remove_plain_##K};

/* Kind K's functions for each level of sip_pair_level (the scalar hash at
 * HM__SIP_X8_SCALAR). */
#define HM_PAIR_LEVELS(K)                                                                          \
    HM_HASHED_FUNCTIONS(K)                                                                         \
    HM_PAIR_FUNCTIONS(K, pair_, PAIR, hm__siphash13_pair)                                          \
    HM_PAIR_FUNCTIONS(K, pair_avx2_, PAIR_AVX2, hm__siphash13_pair_avx2)                           \
    static const struct kind_functions *const kind_functions_at_##K[HM__SIP_X8_LEVELS] = {         \
        [HM__SIP_X8_SCALAR] = &kind_functions_##K,                                                 \
        [HM__SIP_X8_AVX2] = &pair_avx2_kind_functions_##K,                                         \
        [HM__SIP_X8_AVX512] = &pair_kind_functions_##K};

HM_PAIR_LEVELS(0)
HM_PAIR_LEVELS(4)
HM_PAIR_LEVELS(8)
HM_PAIR_LEVELS(16)
HM_PAIR_LEVELS(24)
#endif

/* hm_remove without out-parameters in a map that drops its entries. */
static HM_NOINLINE int remove_dropping(hm_t *m, const void *key);

/*
 * Picks the functions that hm_get, hm_insert and hm_remove jump to, for the
 * map's key kind and its table's size (set_table calls it whenever the table
 * changes). The public call then tests its arguments and makes one indirect
 * jump, where it tested the table's size, or for a removal the two drop
 * callbacks, and then the kind, one compare and branch at a time. Through
 * bench/ab.sh (four rounds of three copies, six runs at 1,000 and 10,000
 * entries), removals took 0.965x-0.990x the time, misses 0.973x-0.997x,
 * reinserts 0.983x-1.002x, hits 0.990x-1.016x, and inserts, whose call still
 * tests plain_insert and growth_left, 0.990x-1.027x (design.md, "Probing").
 */
/* The functions of kind K for map m: under the default hash, those of the
 * register pair it hashes in (sip_pair_level). */
#if HM__SIP_PAIR
#define KIND_FUNCTIONS(m, K)                                                                    \
    ((m)->hash ? &kind_functions_##K : kind_functions_at_##K[(m)->sip_pair_level])
#else
#define KIND_FUNCTIONS(m, K) (&kind_functions_##K)
#endif

static void set_kind_functions(hm_t *m)
{
    const struct kind_functions *f = KIND_FUNCTIONS(m, 0);
    switch (m->key_kind) {
    case 4:
        f = KIND_FUNCTIONS(m, 4);
        break;
    case 8:
        f = KIND_FUNCTIONS(m, 8);
        break;
    case 16:
        f = KIND_FUNCTIONS(m, 16);
        break;
    case KIND_8_8:
        f = KIND_FUNCTIONS(m, 24);
        break;
    default:
        break;
    }
    m->get_fn = HM_SSE2 && is_large(m) ? f->get_watched : f->get;
    m->insert_plain_fn = m->buckets * m->slot_size > INSERT_PREFETCH_MIN_TABLE
                             ? f->insert_plain
                             : f->insert_plain_small;
    m->remove_fn = m->key_drop || m->value_drop ? remove_dropping : f->remove_plain;
}

/* Returns F<K>(args...), the map's key kind K picking one of the functions
 * above (F is a name's prefix, such as insert_). */
#define BY_KIND_FUNCTION(m, F, ...)    \
    switch ((m)->key_kind) {           \
    case 4:                            \
        return F##4(__VA_ARGS__);      \
    case 8:                            \
        return F##8(__VA_ARGS__);      \
    case 16:                           \
        return F##16(__VA_ARGS__);     \
    case KIND_8_8:                     \
        return F##24(__VA_ARGS__);     \
    default:                           \
        return F##0(__VA_ARGS__);      \
    }

int hm_insert(hm_t *m, const void *key, const void *value)
{
    if (!m || !key || (!value && m->value_size))
        return HM_EINVAL;
    if (m->plain_insert && m->growth_left)
        return m->insert_plain_fn(m, key, value);
    BY_KIND_FUNCTION(m, insert_, m, key, value)
}

static size_t insert_many(hm_t *m, const void *keys, const void *values, size_t n)
{
    BY_KIND_FUNCTION(m, insert_many_, m, keys, values, n)
}

int hm_insert_many(hm_t *m, const void *keys, const void *values, size_t n, size_t *added)
{
    if (added)
        *added = 0;
    if (!m || (n && (!keys || (!values && m->value_size))))
        return HM_EINVAL;
    /* Arrays in the table itself (pointers the map handed out) would move
     * under the growth below, and a stored key among them could no longer be
     * told from a caller's copy: refused, as the header says. (Sizes that
     * overflow are no arrays in the table; hm_reserve refuses them.) */
    size_t kb, vb;
    if (mul_ok(n, m->key_size, &kb) && mul_ok(n, m->value_size, &vb) &&
        (in_table(m, keys, kb) || in_table(m, values, vb)))
        return HM_EINVAL;
    /* Room for every key first, so that nothing below can fail: the call
     * inserts all n keys or changes nothing. */
    int rc = hm_reserve(m, n);
    if (rc < 0)
        return rc;
    size_t count = insert_many(m, keys, values, n);
    if (added)
        *added = count;
    return HM_OK;
}

void *hm_entry(hm_t *m, const void *key, int *status)
{
    int st = HM_EINVAL;
    void *result = NULL;
    if (m && key) {
        uint64_t hash;
        size_t ins = 0;
        size_t i = lookup(m, key, &hash, &ins);
        if (i != NOT_FOUND) {
            st = HM_REPLACED;
            result = value_of(m, slot_at(m, i));
        } else {
            st = HM_OK;
            if (m->growth_left == 0) {
                struct new_slot s = grow_for_new_key(m, hash, key, NULL);
                st = s.rc;
                ins = s.slot;
                key = s.key;
            }
            if (st == HM_OK) {
                unsigned char *slot = occupy(m, ins, hash, key, 0);
                memset(slot + m->value_offset, 0, m->value_size);
                result = value_of(m, slot);
            }
        }
    }
    if (status)
        *status = st;
    return result;
}

static size_t remove_many(hm_t *m, const void *keys, size_t n)
{
    BY_KIND_FUNCTION(m, remove_many_, m, keys, n)
}

int hm_remove(hm_t *m, const void *key, void *key_out, void *value_out)
{
    if (!m || !key)
        return HM_EINVAL;
    if (!key_out && !value_out)
        return m->remove_fn(m, key);
    BY_KIND_FUNCTION(m, remove_, m, key, key_out, value_out)
}

static HM_NOINLINE int remove_dropping(hm_t *m, const void *key)
{
    BY_KIND_FUNCTION(m, remove_, m, key, NULL, NULL)
}

int hm_remove_many(hm_t *m, const void *keys, size_t n, size_t *removed)
{
    if (removed)
        *removed = 0;
    if (!m || (n && !keys))
        return HM_EINVAL;
    size_t count = remove_many(m, keys, n);
    if (removed)
        *removed = count;
    return HM_OK;
}

int hm_resize(hm_t *m, size_t capacity)
{
    if (!m)
        return HM_EINVAL;
    size_t want = capacity > m->len ? capacity : m->len, nb = 0;
    if (want) {
        int rc = buckets_for(m, want, &nb);
        if (rc < 0)
            return rc;
    }
    return resize_buckets(m, nb);
}

int hm_reserve(hm_t *m, size_t additional)
{
    if (!m)
        return HM_EINVAL;
    if (additional <= m->growth_left)
        return HM_OK;
    return reserve_rehash(m, additional);
}

void hm_clear(hm_t *m)
{
    if (!m || !m->buckets)
        return;
    drop_all(m);
    memset(m->ctrl, CTRL_EMPTY, m->buckets + GROUP_WIDTH);
    memset(m->overflow, 0, overflow_bytes(m->buckets));
    m->len = 0;
    m->growth_left = m->cap;
}

void hm_retain(hm_t *m, bool (*keep)(const void *key, void *value, void *udata), void *udata)
{
    if (!m || !keep)
        return;
    /* A group at a time, as drop_all goes. An erasure changes only its own
     * slot's byte (and a mirror byte past the last group), so the group's
     * mask of full slots stays true while its members are asked. */
    for (size_t pos = 0; pos < m->buckets && m->len; pos += GROUP_WIDTH) {
        for (bitmask b = group_match_full(group_load(m->ctrl + pos)); b; b = bitmask_next(b)) {
            size_t i = pos + bitmask_lowest(b);
            unsigned char *slot = slot_at(m, i);
            void *value = m->value_size ? slot + m->value_offset : NULL;
            if (keep(slot, value, udata))
                continue;
            if (m->key_drop || m->value_drop)
                hand_over(m, slot, NULL, NULL); /* drops it, as hm_remove does */
            erase_at(m, i);
        }
    }
}

/* ---- reading ------------------------------------------------------------ */

void *hm_get(const hm_t *m, const void *key)
{
    if (!m || !key)
        return NULL;
    return m->get_fn(m, key);
}

bool hm_contains(const hm_t *m, const void *key)
{
    return hm_get(m, key) != NULL;
}

size_t hm_get_many(const hm_t *m, const void *keys, size_t n, void **values)
{
    if (!m || !keys || !values)
        return 0;
    BY_KIND_FUNCTION(m, get_many_, m, keys, n, values)
}

size_t hm_len(const hm_t *m) { return m ? m->len : 0; }
/* Like Rust's HashMap::capacity: what the map holds before it must allocate.
 * Room that removals gave up (see erase_at_bit) is missing until a rehash. */
size_t hm_capacity(const hm_t *m) { return m ? m->len + m->growth_left : 0; }
size_t hm_buckets(const hm_t *m) { return m ? m->buckets : 0; }

bool hm_iter_next(const hm_t *m, size_t *cursor, const void **key, void **value)
{
    if (!m || !cursor)
        return false;
    /* A group at a time; a match past the last bucket is a mirror byte, which
     * means every real slot from the cursor on was empty. */
    for (size_t pos = *cursor; pos < m->buckets; pos += GROUP_WIDTH) {
        bitmask full = group_match_full(group_load(m->ctrl + pos));
        if (!full)
            continue;
        size_t i = pos + bitmask_lowest(full);
        if (i >= m->buckets)
            break;
        unsigned char *slot = slot_at(m, i);
        *cursor = i + 1;
        if (key)
            *key = slot;
        if (value)
            *value = m->value_size ? slot + m->value_offset : NULL;
        return true;
    }
    *cursor = m->buckets;
    return false;
}

/* Hands slot back through hm_iter_many's arrays as entry n. */
HM_INLINE void iter_emit(unsigned char *slot, size_t value_offset, const void **keys,
                         void **values, size_t n)
{
    if (keys)
        keys[n] = slot;
    if (values)
        values[n] = value_offset ? slot + value_offset : NULL;
}

/* The full members of a group as one bit each, member i at bit i. */
static inline unsigned group_full_bits(group g)
{
#if HM_SSE2
    return (unsigned)group_match_full(g);
#else
    /* Byte i's top bit moves to bit 56 + i; no two products share a bit. */
    return (unsigned)((((group_match_full(g) >> 7) & LSB_EACH) * 0x0102040810204080ull) >> 56);
#endif
}

/* Pointers are 64-bit lanes of an SSE2 register: eight come from four
 * multiplies (of 32-bit halves, hence the bound on the slot size). */
#if HM_SSE2 && UINTPTR_MAX == UINT64_MAX
#define ITER_SIMD 1
#else
#define ITER_SIMD 0
#endif
#define ITER_SIMD_MAX_SLOT UINT32_MAX

/* Writes out[0..8): first the slots among the eight at base (one slot_size
 * apart) that the bits of full name, then filler past them. No branch per
 * entry: the loop that tests each bit and stops after the last one
 * mispredicts once a group, and at 16-byte slots that stall was a third of
 * the scan. out is an array of void * or of const void *, which share one
 * representation; memcpy, or an unaligned SSE2 store, writes either. */
HM_INLINE void iter_emit8(unsigned char *base, size_t slot_size, unsigned full, void *out,
                          bool simd)
{
    const uint8_t *at = HM_BYTE_BITS[full & 0xff];
#if ITER_SIMD
    if (simd) {
        /* The eight indices widened to 64 bits, times slot_size, plus base. */
        const __m128i zero = _mm_setzero_si128();
        const __m128i size = _mm_set1_epi64x((long long)slot_size);
        const __m128i from = _mm_set1_epi64x((long long)(uintptr_t)base);
        uint64_t row;
        memcpy(&row, at, sizeof row);
        __m128i idx16 = _mm_unpacklo_epi8(_mm_cvtsi64_si128((long long)row), zero);
        __m128i idx32[2] = {_mm_unpacklo_epi16(idx16, zero), _mm_unpackhi_epi16(idx16, zero)};
        __m128i *to = out;
        for (size_t h = 0; h < 2; h++) {
            __m128i idx64[2] = {_mm_unpacklo_epi32(idx32[h], zero),
                                _mm_unpackhi_epi32(idx32[h], zero)};
            for (size_t q = 0; q < 2; q++)
                _mm_storeu_si128(to + 2 * h + q,
                                 _mm_add_epi64(from, _mm_mul_epu32(idx64[q], size)));
        }
        return;
    }
#else
    (void)simd;
#endif
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 8
#endif
    for (size_t k = 0; k < 8; k++) {
        void *p = base + at[k] * slot_size;
        memcpy((unsigned char *)out + k * sizeof p, &p, sizeof p);
    }
}

/* Asks for every cache line of len bytes at p. */
HM_INLINE void prefetch_lines(const unsigned char *p, size_t len)
{
#if defined(__GNUC__)
    for (size_t off = 0; off < len; off += 64)
        __builtin_prefetch(p + off);
#else
    (void)p;
    (void)len;
#endif
}

/* hm_iter_many's arrays, how far they are filled, and what it needs to make
 * an entry's pointers. */
struct iter_batch {
    const void **keys;
    void **values;
    size_t n, max;
    size_t slot_size, value_offset; /* value_offset 0: a set, values are NULL */
    bool simd;
};

/* Hands back the full members of the group at group_slots eight at a time
 * while the arrays have room for eight more. Returns how far into the group
 * it got: GROUP_WIDTH when the whole group is done. */
HM_INLINE size_t iter_steps(struct iter_batch *b, unsigned char *group_slots, unsigned full)
{
    size_t h = 0;
    for (; h < GROUP_WIDTH && b->max - b->n >= 8; h += 8, full >>= 8) {
        unsigned char *at = group_slots + h * b->slot_size;
        if (b->keys)
            iter_emit8(at, b->slot_size, full, b->keys + b->n, b->simd);
        if (b->values && b->value_offset)
            iter_emit8(at + b->value_offset, b->slot_size, full, b->values + b->n, b->simd);
        else if (b->values)
            for (size_t k = 0; k < 8; k++)
                b->values[b->n + k] = NULL;
        b->n += HM_BYTE_COUNT[full & 0xff];
    }
    return h;
}

/* Hands back the full members of the group at pos one at a time, up to the
 * table's end (members past it are mirror bytes) and while there is room.
 * Returns where to resume: pos + GROUP_WIDTH when the group is done. */
static size_t iter_singles(struct iter_batch *b, unsigned char *group_slots, size_t pos,
                           size_t buckets, bitmask full)
{
    for (; full; full = bitmask_next(full)) {
        size_t j = bitmask_lowest(full);
        if (pos + j >= buckets)
            break;
        if (b->n == b->max)
            return pos + j;
        iter_emit(group_slots + j * b->slot_size, b->value_offset, b->keys, b->values, b->n++);
    }
    return pos + GROUP_WIDTH;
}

size_t hm_iter_many(const hm_t *m, size_t *cursor, const void **keys, void **values, size_t max)
{
    if (!m || !cursor)
        return 0;
    const size_t buckets = m->buckets, slot_size = m->slot_size;
    struct iter_batch b = {
        .keys = keys,
        .values = values,
        .max = max,
        .slot_size = slot_size,
        /* 0 for a set (see value_of): a value always starts after its key. */
        .value_offset = m->value_offset,
        .simd = ITER_SIMD && slot_size <= ITER_SIMD_MAX_SLOT,
    };
    /* The caller reads the entries after the batch is back. In a table
     * larger than the caches, ask for the slots two groups ahead, all their
     * lines, so that memory streams in while this scan and the caller's
     * reads go on: for 48-byte slots at N = 1,000,000 that halved the time
     * per entry, against fetching each entry as it is handed back. */
    const size_t group_bytes = GROUP_WIDTH * slot_size;
    const size_t ahead = buckets * slot_size > ITER_PREFETCH_MIN_TABLE ? 2 * GROUP_WIDTH : 0;
    for (size_t pos = *cursor; pos < buckets; pos += GROUP_WIDTH) {
        group g = group_load(m->ctrl + pos);
        unsigned char *group_slots = m->slots + pos * slot_size;
        if (ahead && pos + ahead < buckets)
            prefetch_lines(group_slots + ahead * slot_size, group_bytes);
        size_t resume;
        if (buckets - pos >= GROUP_WIDTH && max - b.n >= 8) /* no mirror byte in the group */
            resume = pos + iter_steps(&b, group_slots, group_full_bits(g));
        else if (b.n)
            /* Too little room for a branch-free step: the caller gets what
             * there is rather than a crawl through one entry at a time. */
            resume = pos;
        else
            resume = iter_singles(&b, group_slots, pos, buckets, group_match_full(g));
        if (resume != pos + GROUP_WIDTH) {
            *cursor = resume;
            return b.n;
        }
    }
    *cursor = buckets;
    return b.n;
}

#if HM__SIP_PAIR
HM__SIP_PAIR_TARGET static HM_NOINLINE uint64_t hash_bytes_pair(const hm_t *m, const void *data,
                                                                 size_t len)
{
    return hm__siphash13_pair(m->sip_pair, data, len);
}

HM__SIP_PAIR_AVX2_TARGET static HM_NOINLINE uint64_t hash_bytes_pair_avx2(const hm_t *m,
                                                                           const void *data,
                                                                           size_t len)
{
    return hm__siphash13_pair_avx2(m->sip_pair, data, len);
}
#endif

uint64_t hm_hash_bytes(const hm_t *m, const void *data, size_t len)
{
    if (!m || (!data && len))
        return 0;
#if HM__SIP_PAIR
    if (m->sip_pair_level == HM__SIP_X8_AVX512)
        return hash_bytes_pair(m, data, len);
    if (m->sip_pair_level == HM__SIP_X8_AVX2)
        return hash_bytes_pair_avx2(m, data, len);
#endif
    return hm__siphash13_from(&m->sip, data, len);
}

uint64_t hm_hash_cstr(const void *key, const hm_t *m, void *udata)
{
    (void)udata;
    if (!key || !*(const char *const *)key)
        return 0; /* never a crash: a NULL string hashes as 0 */
    const char *s = *(const char *const *)key;
    return hm_hash_bytes(m, s, strlen(s));
}

bool hm_equal_cstr(const void *a, const void *b, void *udata)
{
    (void)udata;
    if (!a || !b)
        return false;
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    if (!x || !y)
        return x == y; /* a NULL string equals only another NULL string */
    return strcmp(x, y) == 0;
}

const char *hm_strerror(int status)
{
    switch (status) {
    case HM_OK:
        return "success";
    case HM_REPLACED:
        return "success: the key was already present (hm_insert replaced its value, hm_entry "
               "left it)";
    case HM_ENOMEM:
        return "out of memory: the map is unchanged";
    case HM_EINVAL:
        return "invalid argument: the map is unchanged";
    case HM_ERANGE:
        return "requested size is too large";
    default:
        return "unknown status code";
    }
}

/* Groups a lookup of the key in slot i examines, following its probe sequence
 * from its home position to the group that holds i. */
static size_t probe_length(const hm_t *m, size_t i)
{
    uint64_t hash = hash_key(m, slot_at(m, i));
    size_t pos = hash & m->mask, stride = 0, groups = 1;
    while (((i - pos) & m->mask) >= GROUP_WIDTH) {
        stride += GROUP_WIDTH;
        pos = (pos + stride) & m->mask;
        groups++;
    }
    return groups;
}

/* Groups a lookup of an absent key whose home is slot `home` examines: up to
 * and including the first whose overflow byte has the key's bit clear, or all
 * of them (see search_ends). Returns the most, over the 8 overflow bits a key
 * may have, and *mean the mean over them. */
static size_t miss_length(const hm_t *m, size_t home, double *mean)
{
    size_t most = 0, total = 0;
    for (uint8_t bit = 0; bit < 8; bit++) { /* overflow_bit(bit) is bit `bit` */
        size_t pos = home, stride = 0, groups = 1;
        while (!search_ends(m, pos, stride, bit)) {
            stride += GROUP_WIDTH;
            pos = (pos + stride) & m->mask;
            groups++;
        }
        total += groups;
        if (groups > most)
            most = groups;
    }
    *mean = (double)total / 8;
    return most;
}

void hm_get_stats(const hm_t *m, hm_stats *out)
{
    if (!out)
        return;
    *out = (hm_stats){0};
    if (!m)
        return;
    size_t table = 0, total = 0;
    if (m->buckets)
        table_bytes(m, m->buckets, &table);
    out->len = m->len;
    out->buckets = m->buckets;
    out->bytes = map_bytes(m->slot_size) + table;
    out->resizes = m->resizes;
    out->tombstones = tombstones_of(m);
    for (size_t i = 0; i < m->buckets; i++) {
        if (!is_full(m->ctrl[i]))
            continue;
        size_t p = probe_length(m, i);
        total += p;
        if (p > out->max_probe)
            out->max_probe = p;
    }
    out->mean_probe = m->len ? (double)total / (double)m->len : 0.0;
    double misses = 0;
    for (size_t pos = 0; pos < m->buckets; pos++) {
        double mean;
        size_t p = miss_length(m, pos, &mean);
        misses += mean;
        if (p > out->max_miss_probe)
            out->max_miss_probe = p;
    }
    out->mean_miss_probe = m->buckets ? misses / (double)m->buckets : 0.0;
}
