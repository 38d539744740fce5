/*
 * libFuzzer target for the map (include/hashmap.h).
 *
 * The input is decoded into a map configuration and a sequence of operations.
 * Every operation runs on the map and on a trivially correct model (a direct
 * index of a small key universe) and its result is checked against the
 * model; after every operation the length, the key it touched and the drop
 * callbacks are compared, and the whole map (every key, hm_get_stats(), the
 * memory held) after operations that touch many entries, after a refused
 * allocation and every FULL_CHECK_EVERY operations. The first difference
 * aborts with a message naming the operation, which libFuzzer reports as a
 * crash and keeps as a reproducer.
 *
 * Input layout (missing bytes read as zero, so every input is valid):
 *   byte 0   key size (bits 0-2), value size (bits 3-5), hash (bits 6-7:
 *            SipHash, SipHash through a custom hash function (so that the map
 *            keeps tags), every key the same hash, a weak hash whose high
 *            bits are all zero)
 *   byte 1   max_load (bits 0-2), key universe (bits 3-5), drop callbacks
 *            (bit 6), a custom equal function (bit 7)
 *   byte 2   initial capacity: 0 below 128, else (byte - 128) * 4, and at 255
 *            a table of 2^20 buckets, where hm_get counts the thread's
 *            misses in a row (miss_run in hashmap.c; fuzz/corpus-large/),
 *            for the first MAX_LARGE_MAPS maps of the input
 *   byte 3   first byte of the seed; also, as byte % 3, the most a map of 4-,
 *            8- or 16-byte keys under the default hash may use to hash 8
 *            keys at once (scalar, AVX2, AVX-512F: hm__sip_x8_max_level),
 *            and one key in a register pair at AVX2 and at AVX-512F where
 *            AVX-512VL runs (hm__sip_pair_level), so that each way the
 *            processor has gets fuzzed
 *   then     operations: one opcode byte and its arguments each
 *
 * The allocator fails on command: an opcode arms a failure of the k-th
 * allocation from now, or of every allocation during the next operation.
 * Whatever fails must fail with HM_ENOMEM and leave the map exactly as it was.
 *
 * fuzz/replay.c turns this into a plain program that replays files, so that
 * the corpus runs in ctest without clang.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hashmap.h"
#include "../src/siphash_impl.h" /* internal: hm__sip_x8_max_level */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
    MAX_OPS = 2000,
    MAX_KEY = 24,
    MAX_VALUE = 32,
    MAX_UNIVERSE = 512,
    COLLIDING_UNIVERSE = 128, /* every key on one hash: lookups are linear */
    MAX_BATCH = 40,
    FULL_CHECK_EVERY = 32,
    /* Capacity byte 255's table, whose hm_get counts the thread's misses in a
     * row. check_all leaves out hm_get_stats there: it walks every bucket, and
     * under the fuzzer's instrumentation an input took 4 s with it. */
    LARGE_TABLE = 1 << 20,
    /* How many maps of capacity byte 255's size one input may make: each is
     * some 34 MiB of fresh memory that the fuzz allocator fills. Later
     * recreations make the map without the initial capacity. An input that
     * recreated its map 107 times ran 15 s, past the fuzzer's timeout. */
    MAX_LARGE_MAPS = 4,
};

static const size_t key_sizes[8] = {1, 2, 3, 4, 8, 12, 16, 24};
static const size_t value_sizes[8] = {0, 1, 4, 5, 8, 16, 24, 32};
static const double max_loads[8] = {0, 0.5, 0.875, 0.99, 0.25, 0.75, 0.9375, 0.1};

enum hash_mode { HASH_SIP, HASH_CUSTOM, HASH_CONSTANT, HASH_WEAK };

/* ---- input -------------------------------------------------------------- */

typedef struct reader {
    const uint8_t *p;
    size_t n;
} reader;

static unsigned rd8(reader *r)
{
    if (r->n == 0)
        return 0;
    r->n--;
    return *r->p++;
}

static unsigned rd16(reader *r)
{
    unsigned lo = rd8(r);
    return lo | rd8(r) << 8;
}

/* ---- an allocator that counts and fails on command ----------------------- */

/* The header keeps the size, so that frees and reallocs can be checked
 * against what was allocated; it is max_align_t-sized so blocks stay aligned. */
typedef union header {
    max_align_t align;
    size_t size;
} header;

typedef struct fuzz_alloc {
    hm_allocator a;
    size_t live_bytes, live_blocks;
    size_t bad_frees; /* a size handed back that differs from the block's */
    size_t calls, failures;
    size_t countdown; /* > 0: the countdown-th call from now fails */
    bool fail_all;    /* every call fails while set */
} fuzz_alloc;

/* Far more than any input can ask for; refused as an OS would refuse it. */
#define FA_LIMIT ((size_t)1 << (SIZE_MAX > 0xFFFFFFFFu ? 32 : 30)) /* 1 GiB on 32 bits */

static bool fa_fails(fuzz_alloc *f, size_t size)
{
    f->calls++;
    if (f->countdown > 0 && --f->countdown == 0) {
        f->failures++;
        return true;
    }
    if (f->fail_all) {
        f->failures++;
        return true;
    }
    return size > FA_LIMIT;
}

static void *fa_alloc(size_t size, void *ctx)
{
    fuzz_alloc *f = ctx;
    if (fa_fails(f, size))
        return NULL;
    header *h = malloc(sizeof *h + size);
    if (h == NULL)
        return NULL;
    h->size = size;
    memset(h + 1, 0xA5, size); /* garbage: nothing may rely on zeroed memory */
    f->live_bytes += size;
    f->live_blocks++;
    return h + 1;
}

static void *fa_realloc(void *ptr, size_t old_size, size_t new_size, void *ctx)
{
    fuzz_alloc *f = ctx;
    if (ptr == NULL)
        return fa_alloc(new_size, ctx);
    if (fa_fails(f, new_size))
        return NULL;
    header *h = (header *)ptr - 1;
    size_t had = h->size;
    if (had != old_size)
        f->bad_frees++;
    header *nh = realloc(h, sizeof *nh + new_size);
    if (nh == NULL)
        return NULL;
    nh->size = new_size;
    if (new_size > had)
        memset((unsigned char *)(nh + 1) + had, 0xA5, new_size - had);
    f->live_bytes = f->live_bytes - had + new_size;
    return nh + 1;
}

static void fa_free(void *ptr, size_t size, void *ctx)
{
    fuzz_alloc *f = ctx;
    if (ptr == NULL)
        return;
    header *h = (header *)ptr - 1;
    if (h->size != size)
        f->bad_frees++;
    f->live_bytes -= h->size;
    f->live_blocks--;
    free(h);
}

/* ---- the run's state: the map, the model, what the callbacks saw ---------- */

typedef struct run {
    hm_config cfg;
    uint8_t seed[16];
    enum hash_mode hash_mode;
    size_t ks, vs, n; /* key size, value size, key universe */
    hm_t *m;
    fuzz_alloc fa;

    /* the model */
    unsigned char present[MAX_UNIVERSE];
    unsigned char vals[MAX_UNIVERSE][MAX_VALUE];
    size_t len;
    size_t reserved_left; /* new keys that hm_reserve promised room for */

    /* drops: per key id, and for values a count and a checksum of the bytes */
    uint32_t key_drops[MAX_UNIVERSE], want_key_drops[MAX_UNIVERSE];
    size_t value_drops, want_value_drops;
    uint64_t value_sum, want_value_sum;
    const void *last_key_ptr;
    size_t bad_drops; /* a dropped key that is no key of the universe */

    size_t resizes;
    hm_resize_info last_resize;

    size_t retain_mod, retain_rem, retain_bad; /* hm_retain's predicate and its complaints */
    unsigned char seen[MAX_UNIVERSE];           /* ids an iteration has returned */

    bool large;        /* capacity byte 255 */
    size_t large_maps; /* maps made with its capacity */

    size_t op;
    const char *what;
} run;

static void check_failed(const run *r, const char *cond, int line)
{
    fprintf(stderr,
            "fuzz_map: check `%s` failed (fuzz_map.c:%d) at operation %zu (%s); key_size %zu, "
            "value_size %zu, hash mode %d, universe %zu, len %zu\n",
            cond, line, r->op, r->what, r->ks, r->vs, (int)r->hash_mode, r->n, r->len);
    abort();
}

/* Not assert(): it must hold in every build, NDEBUG or not. */
#define CHECK(r, cond)                                 \
    do {                                               \
        if (!(cond))                                   \
            check_failed((r), #cond, __LINE__);        \
    } while (0)

/* Keys share their leading bytes and carry the id in their last ones, so that
 * the comparison must look at every byte. */
static void make_key(const run *r, size_t id, unsigned char *out)
{
    for (size_t i = 0; i < r->ks; i++)
        out[i] = (unsigned char)(0xA0 + i);
    for (size_t j = 0; j < r->ks && j < 2; j++)
        out[r->ks - 1 - j] = (unsigned char)(id >> (8 * j));
}

static size_t key_id(size_t ks, const unsigned char *key)
{
    size_t id = 0;
    for (size_t j = 0; j < ks && j < 2; j++)
        id |= (size_t)key[ks - 1 - j] << (8 * j);
    return id;
}

static bool key_valid(const run *r, const void *key, size_t *id_out)
{
    unsigned char want[MAX_KEY];
    size_t id = key_id(r->ks, key);
    if (id >= r->n)
        return false;
    make_key(r, id, want);
    *id_out = id;
    return memcmp(want, key, r->ks) == 0;
}

static uint64_t bytes_sum(const unsigned char *p, size_t n)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * UINT64_C(0x100000001b3);
    return h;
}

static void drop_key(void *item, void *udata)
{
    run *r = udata;
    size_t id;
    r->last_key_ptr = item;
    if (key_valid(r, item, &id))
        r->key_drops[id]++;
    else
        r->bad_drops++;
}

static void drop_value(void *item, void *udata)
{
    run *r = udata;
    r->value_drops++;
    r->value_sum += bytes_sum(item, r->vs);
}

static uint64_t hash_constant(const void *key, const hm_t *map, void *udata)
{
    (void)key;
    (void)map;
    (void)udata;
    return UINT64_C(0x0123456789abcdef);
}

/* The map's own SipHash, called as a custom hash: the map keeps a tag per slot
 * and places most entries from it when it rehashes. */
static uint64_t hash_custom(const void *key, const hm_t *map, void *udata)
{
    return hm_hash_bytes(map, key, ((const run *)udata)->ks);
}

/* The key id: every top bit (the part a control byte keeps) is zero. */
static uint64_t hash_weak(const void *key, const hm_t *map, void *udata)
{
    (void)map;
    return key_id(((const run *)udata)->ks, key);
}

static bool equal_bytes(const void *a, const void *b, void *udata)
{
    return memcmp(a, b, ((const run *)udata)->ks) == 0;
}

static void on_resize(const hm_resize_info *info, void *udata)
{
    run *r = udata;
    r->resizes++;
    r->last_resize = *info;
}

/* The model's expectation when the map lets go of entry id. */
static void expect_key_drop(run *r, size_t id)
{
    if (r->cfg.key_drop)
        r->want_key_drops[id]++;
}

static void expect_value_drop(run *r, size_t id)
{
    if (r->cfg.value_drop && r->vs > 0) {
        r->want_value_drops++;
        r->want_value_sum += bytes_sum(r->vals[id], r->vs);
    }
}

static void model_remove(run *r, size_t id, bool drop_key_too, bool drop_value_too)
{
    if (drop_key_too)
        expect_key_drop(r, id);
    if (drop_value_too)
        expect_value_drop(r, id);
    r->present[id] = 0;
    r->len--;
}

static void model_drop_all(run *r)
{
    for (size_t id = 0; id < r->n; id++)
        if (r->present[id])
            model_remove(r, id, true, true);
}

/* ---- comparing the map with the model ----------------------------------- */

static bool is_pow2(size_t x) { return (x & (x - 1)) == 0; }

/* API.md: a value is aligned to the largest power of two dividing its size,
 * at most alignof(max_align_t). */
static bool value_aligned(const run *r, const void *p)
{
    size_t a = r->vs & (~r->vs + 1);
    if (a == 0 || a > _Alignof(max_align_t))
        a = _Alignof(max_align_t);
    return r->vs == 0 || (uintptr_t)p % a == 0;
}

static void check_drops(run *r)
{
    CHECK(r, r->bad_drops == 0);
    CHECK(r, memcmp(r->key_drops, r->want_key_drops, r->n * sizeof r->key_drops[0]) == 0);
    CHECK(r, r->value_drops == r->want_value_drops);
    CHECK(r, r->value_sum == r->want_value_sum);
}

static void check_all(run *r)
{
    unsigned char key[MAX_KEY];
    for (size_t id = 0; id < r->n; id++) {
        make_key(r, id, key);
        const unsigned char *p = hm_get(r->m, key);
        CHECK(r, (p != NULL) == (r->present[id] != 0));
        if (p != NULL && r->vs > 0)
            CHECK(r, memcmp(p, r->vals[id], r->vs) == 0);
    }
    CHECK(r, hm_len(r->m) == r->len);
    CHECK(r, hm_len(r->m) <= hm_capacity(r->m));
    CHECK(r, is_pow2(hm_buckets(r->m)));
    CHECK(r, hm_capacity(r->m) < hm_buckets(r->m) || hm_buckets(r->m) == 0);
    if (hm_buckets(r->m) >= LARGE_TABLE) { /* stats walk every bucket: see LARGE_TABLE */
        CHECK(r, r->fa.bad_frees == 0);
        check_drops(r);
        return;
    }
    hm_stats st;
    hm_get_stats(r->m, &st);
    CHECK(r, st.len == r->len);
    CHECK(r, st.buckets == hm_buckets(r->m));
    CHECK(r, st.bytes == r->fa.live_bytes);
    CHECK(r, st.len + st.tombstones < st.buckets || st.buckets == 0);
    CHECK(r, (st.max_probe == 0) == (r->len == 0));
    CHECK(r, st.buckets == 0 || st.max_miss_probe >= 1);
    CHECK(r, st.resizes == r->resizes);
    CHECK(r, r->fa.bad_frees == 0);
    check_drops(r);
}

/* After each operation: the key it touched, the length and the drops; the
 * full comparison (check_all) runs after operations that touch many entries
 * and every FULL_CHECK_EVERY operations, which keeps a run fast enough for
 * the fuzzer to try many inputs. */
static void check_light(run *r, size_t id)
{
    unsigned char key[MAX_KEY];
    make_key(r, id, key);
    const unsigned char *p = hm_get(r->m, key);
    CHECK(r, (p != NULL) == (r->present[id] != 0));
    if (p != NULL && r->vs > 0)
        CHECK(r, memcmp(p, r->vals[id], r->vs) == 0);
    CHECK(r, p == NULL || value_aligned(r, p));
    CHECK(r, hm_contains(r->m, key) == (p != NULL));
    CHECK(r, hm_len(r->m) == r->len);
    CHECK(r, hm_len(r->m) <= hm_capacity(r->m));
    CHECK(r, r->fa.bad_frees == 0);
    check_drops(r);
}

/* What an allocating call must leave behind when the allocator refuses it:
 * the same table with the same entries in the same slots, which the sequence
 * of entry addresses in iteration order shows. */
typedef struct snapshot {
    size_t len, buckets, cap, count;
    const void *where[MAX_UNIVERSE];
} snapshot;

/* Only the call that is refused needs a snapshot, and each guarded call
 * allocates at most once. */
static bool failure_next(const run *r) { return r->fa.countdown == 1 || r->fa.fail_all; }

static void take_snapshot(run *r, snapshot *s)
{
    s->len = hm_len(r->m);
    s->buckets = hm_buckets(r->m);
    s->cap = hm_capacity(r->m);
    s->count = 0;
    size_t cursor = 0;
    const void *key;
    while (hm_iter_next(r->m, &cursor, &key, NULL)) {
        CHECK(r, s->count < MAX_UNIVERSE);
        s->where[s->count++] = key;
    }
}

static void check_unchanged(run *r, const snapshot *s)
{
    CHECK(r, hm_len(r->m) == s->len);
    CHECK(r, hm_buckets(r->m) == s->buckets);
    CHECK(r, hm_capacity(r->m) == s->cap);
    size_t cursor = 0, i = 0;
    const void *key;
    while (hm_iter_next(r->m, &cursor, &key, NULL)) {
        CHECK(r, i < s->count);
        CHECK(r, key == s->where[i]);
        i++;
    }
    CHECK(r, i == s->count);
    check_all(r); /* and the same contents, compared with the model */
}

/* Runs before and after a call that may allocate: on a refusal the call must
 * have said HM_ENOMEM and changed nothing. Returns whether it was refused. */
typedef struct guard {
    bool armed;
    size_t failures, calls, resizes;
    snapshot snap;
} guard;

static void guard_begin(run *r, guard *g)
{
    g->armed = failure_next(r);
    g->failures = r->fa.failures;
    g->calls = r->fa.calls;
    g->resizes = r->resizes;
    if (g->armed)
        take_snapshot(r, &g->snap);
}

static bool guard_end(run *r, guard *g, int rc)
{
    if (r->fa.failures == g->failures)
        return false;
    CHECK(r, g->armed);
    CHECK(r, rc == HM_ENOMEM);
    CHECK(r, r->resizes == g->resizes);
    check_unchanged(r, &g->snap);
    return true;
}

/* ---- operations --------------------------------------------------------- */

/* The model's side of one new key inserted by a call that guard g watched:
 * while hm_reserve's room lasts, the call allocated nothing. */
static void model_add(run *r, const guard *g, size_t id)
{
    if (r->reserved_left > 0) {
        CHECK(r, r->fa.calls == g->calls);
        r->reserved_left--;
    }
    r->present[id] = 1;
    r->len++;
}

static void op_insert(run *r, reader *in, size_t id)
{
    unsigned char key[MAX_KEY], val[MAX_VALUE];
    make_key(r, id, key);
    for (size_t i = 0; i < r->vs; i++)
        val[i] = (unsigned char)rd8(in);
    guard g;
    guard_begin(r, &g);
    /* a set may be given a value pointer or none */
    const void *vp = r->vs > 0 || (id & 1) ? val : NULL;
    int rc = hm_insert(r->m, key, vp);
    if (guard_end(r, &g, rc)) {
        CHECK(r, !r->present[id]);
        return;
    }
    if (r->present[id]) {
        CHECK(r, rc == HM_REPLACED);
        CHECK(r, r->fa.calls == g.calls);
        expect_value_drop(r, id);
        expect_key_drop(r, id);
        if (r->cfg.key_drop)
            CHECK(r, r->last_key_ptr == key); /* the caller's key, not the stored one */
    } else {
        CHECK(r, rc == HM_OK);
        model_add(r, &g, id);
    }
    memcpy(r->vals[id], val, r->vs);
}

/* The stored key of a present id, as an iteration hands it out. */
static const void *stored_key(run *r, const unsigned char *key)
{
    size_t cursor = 0;
    const void *k;
    void *v;
    while (hm_iter_next(r->m, &cursor, &k, &v))
        if (memcmp(k, key, r->ks) == 0)
            return k;
    return NULL;
}

/* hm_insert given pointers the map handed out: the value hm_get returns for a
 * present id `from` (id itself at times), and with bit 0 of `how` the stored
 * key of id when it is present. A call that grows the table must copy them
 * first; the entry's own key or value is kept, not dropped. With bit 1,
 * hm_insert_many, which refuses them with nothing changed (but a set's value
 * pointer, which points at no bytes). */
static void op_insert_from_map(run *r, reader *in, size_t id)
{
    const size_t from = rd16(in) % r->n;
    const unsigned how = rd8(in);
    unsigned char key[MAX_KEY], from_key[MAX_KEY], want[MAX_VALUE];
    make_key(r, id, key);
    make_key(r, from, from_key);
    const void *vp = hm_get(r->m, from_key);
    CHECK(r, (vp != NULL) == (r->present[from] != 0));
    if (vp == NULL)
        return;
    const bool own_key = (how & 1) && r->present[id];
    const void *kp = own_key ? stored_key(r, key) : key;
    CHECK(r, kp != NULL);
    memcpy(want, r->vals[from], r->vs);
    size_t added = 99;
    if ((how & 2) && (own_key || r->vs > 0)) { /* a set's values are no bytes at all */
        size_t calls = r->fa.calls;
        CHECK(r, hm_insert_many(r->m, kp, vp, 1, &added) == HM_EINVAL);
        CHECK(r, added == 0 && r->fa.calls == calls);
        return; /* check_all finds the map as the model has it */
    }
    guard g;
    guard_begin(r, &g);
    int rc = (how & 2) ? hm_insert_many(r->m, kp, vp, 1, &added) : hm_insert(r->m, kp, vp);
    if (guard_end(r, &g, rc)) {
        /* hm_insert_many makes room for its key, present or not */
        CHECK(r, (how & 2) ? added == 0 : !r->present[id]);
        return;
    }
    if (how & 2)
        CHECK(r, rc == HM_OK && added == !r->present[id]);
    else
        CHECK(r, rc == (r->present[id] ? HM_REPLACED : HM_OK));
    if (r->present[id]) {
        if (!(how & 2))
            CHECK(r, r->fa.calls == g.calls);
        if (from != id)
            expect_value_drop(r, id);
        if (!own_key)
            expect_key_drop(r, id);
    } else {
        model_add(r, &g, id);
    }
    memcpy(r->vals[id], want, r->vs);
}

/* hm_insert_many of 0 to MAX_BATCH keys, repeats allowed: the same as that
 * many hm_insert calls in order, with at most one allocation, and nothing
 * changed when that allocation fails. */
static void op_insert_many(run *r, reader *in)
{
    unsigned char keys[MAX_BATCH * MAX_KEY], vals[MAX_BATCH * MAX_VALUE];
    size_t ids[MAX_BATCH], n = rd8(in) % (MAX_BATCH + 1), added = 99;
    for (size_t i = 0; i < n; i++) {
        ids[i] = rd16(in) % r->n;
        make_key(r, ids[i], keys + i * r->ks);
        for (size_t b = 0; b < r->vs; b++)
            vals[i * r->vs + b] = (unsigned char)rd8(in);
    }
    guard g;
    guard_begin(r, &g);
    /* a set may be given values or none */
    const void *vp = r->vs > 0 || (n & 1) ? vals : NULL;
    int rc = hm_insert_many(r->m, keys, vp, n, &added);
    if (guard_end(r, &g, rc)) {
        CHECK(r, added == 0);
        return;
    }
    CHECK(r, rc == HM_OK);
    CHECK(r, r->fa.calls - g.calls <= 1);
    if (n <= r->reserved_left)
        CHECK(r, r->fa.calls == g.calls);
    size_t want = 0;
    for (size_t i = 0; i < n; i++) {
        size_t id = ids[i];
        if (r->present[id]) {
            expect_value_drop(r, id);
            expect_key_drop(r, id);
        } else {
            r->present[id] = 1;
            r->len++;
            want++;
        }
        memcpy(r->vals[id], vals + i * r->vs, r->vs);
    }
    CHECK(r, added == want);
    r->reserved_left = r->reserved_left > want ? r->reserved_left - want : 0;
}

static void op_entry(run *r, reader *in, size_t id)
{
    unsigned char key[MAX_KEY];
    make_key(r, id, key);
    unsigned write = rd8(in);
    guard g;
    guard_begin(r, &g);
    int st = 99;
    unsigned char *p = hm_entry(r->m, key, &st);
    if (guard_end(r, &g, st)) {
        CHECK(r, p == NULL);
        CHECK(r, !r->present[id]);
        return;
    }
    CHECK(r, p != NULL);
    CHECK(r, p == hm_get(r->m, key));
    if (r->present[id]) {
        CHECK(r, st == HM_REPLACED);
        CHECK(r, r->fa.calls == g.calls);
        if (r->vs > 0)
            CHECK(r, memcmp(p, r->vals[id], r->vs) == 0);
    } else {
        CHECK(r, st == HM_OK);
        for (size_t i = 0; i < r->vs; i++)
            CHECK(r, p[i] == 0);
        if (r->reserved_left > 0) {
            CHECK(r, r->fa.calls == g.calls);
            r->reserved_left--;
        }
        r->present[id] = 1;
        r->len++;
        memset(r->vals[id], 0, r->vs);
    }
    if (r->vs > 0 && (write & 1)) { /* the slot is the caller's to write */
        for (size_t i = 0; i < r->vs; i++)
            r->vals[id][i] = (unsigned char)(write + i);
        memcpy(p, r->vals[id], r->vs);
    }
}

static void op_remove(run *r, size_t id, unsigned mode)
{
    unsigned char key[MAX_KEY], kout[MAX_KEY + 1], vout[MAX_VALUE + 1];
    make_key(r, id, key);
    memset(kout, 0xEE, sizeof kout);
    memset(vout, 0xEE, sizeof vout);
    size_t calls = r->fa.calls;
    int rc = hm_remove(r->m, key, (mode & 1) ? kout : NULL, (mode & 2) ? vout : NULL);
    CHECK(r, r->fa.calls == calls);
    if (!r->present[id]) {
        CHECK(r, rc == 0);
        for (size_t i = 0; i < sizeof kout; i++)
            CHECK(r, kout[i] == 0xEE);
        for (size_t i = 0; i < sizeof vout; i++)
            CHECK(r, vout[i] == 0xEE);
        return;
    }
    CHECK(r, rc == 1);
    if (mode & 1) {
        CHECK(r, memcmp(kout, key, r->ks) == 0);
        CHECK(r, kout[r->ks] == 0xEE);
    }
    if (mode & 2) {
        if (r->vs > 0)
            CHECK(r, memcmp(vout, r->vals[id], r->vs) == 0);
        CHECK(r, vout[r->vs] == 0xEE); /* nothing written past the value (a set: nothing) */
    }
    model_remove(r, id, !(mode & 1), !(mode & 2));
}

static size_t amount(run *r, reader *in)
{
    unsigned a = rd16(in);
    switch (a >> 14) {
    case 0:
        return a % (r->n + 1);
    case 1:
        return a % (2 * r->n + 64);
    case 2:
        return a & 0x3F;
    default: /* a size that cannot be had */
        return SIZE_MAX - (a & 0xFF);
    }
}

static void op_reserve(run *r, reader *in)
{
    size_t add = amount(r, in);
    guard g;
    guard_begin(r, &g);
    int rc = hm_reserve(r->m, add);
    if (guard_end(r, &g, rc))
        return;
    if (add > SIZE_MAX / 2) {
        CHECK(r, rc == HM_ERANGE);
        return;
    }
    CHECK(r, rc == HM_OK);
    CHECK(r, hm_capacity(r->m) >= r->len + add);
    r->reserved_left = add;
}

static void op_resize(run *r, reader *in)
{
    size_t cap = amount(r, in);
    guard g;
    guard_begin(r, &g);
    int rc = hm_resize(r->m, cap);
    if (guard_end(r, &g, rc))
        return;
    if (cap > SIZE_MAX / 2) {
        CHECK(r, rc == HM_ERANGE);
        return;
    }
    CHECK(r, rc == HM_OK);
    CHECK(r, hm_capacity(r->m) >= (cap > r->len ? cap : r->len));
    if (cap == 0 && r->len == 0)
        CHECK(r, hm_buckets(r->m) == 0);
    if (r->resizes != g.resizes) {
        CHECK(r, r->last_resize.new_buckets == hm_buckets(r->m));
        CHECK(r, r->last_resize.len == r->len);
    }
    /* room for max(cap, len) entries: what is promised now, whatever was before */
    r->reserved_left = cap > r->len ? cap - r->len : 0;
}

static void op_clear(run *r)
{
    size_t b = hm_buckets(r->m), calls = r->fa.calls;
    model_drop_all(r);
    hm_clear(r->m);
    CHECK(r, hm_buckets(r->m) == b);
    CHECK(r, r->fa.calls == calls);
    /* the table is kept, emptied: hm_capacity() new keys fit in it */
    r->reserved_left = hm_capacity(r->m);
}

static bool retain_keep(const void *key, void *value, void *udata)
{
    run *r = udata;
    size_t id;
    if (!key_valid(r, key, &id) || !r->present[id] ||
        (r->vs > 0 ? memcmp(value, r->vals[id], r->vs) != 0 : value != NULL)) {
        r->retain_bad++;
        return true;
    }
    if (id % r->retain_mod != r->retain_rem)
        return true;
    model_remove(r, id, true, true);
    return false;
}

static void op_retain(run *r, reader *in)
{
    unsigned a = rd8(in);
    r->retain_mod = 1 + a % 7;
    r->retain_rem = (a >> 3) % r->retain_mod;
    size_t calls = r->fa.calls;
    hm_retain(r->m, retain_keep, r);
    CHECK(r, r->retain_bad == 0);
    CHECK(r, r->fa.calls == calls);
}

/* One entry an iteration returned: checked, and removed when its id % mod ==
 * rem (mod 0: never), by the table's own key pointer or by a copy, with or
 * without out-parameters. */
typedef struct iter_rule {
    size_t mod, rem;
    bool by_table_pointer;
    unsigned out_mode;
} iter_rule;

static void iter_visit(run *r, const iter_rule *rule, const void *key, void *value)
{
    size_t id;
    CHECK(r, key_valid(r, key, &id));
    CHECK(r, r->present[id]);
    CHECK(r, !r->seen[id]);
    r->seen[id] = 1;
    if (r->vs > 0)
        CHECK(r, memcmp(value, r->vals[id], r->vs) == 0 && value_aligned(r, value));
    else
        CHECK(r, value == NULL);
    if (rule->mod == 0 || id % rule->mod != rule->rem)
        return;
    unsigned char copy[MAX_KEY], kout[MAX_KEY], vout[MAX_VALUE];
    memcpy(copy, key, r->ks);
    const void *k = rule->by_table_pointer ? key : copy;
    unsigned out = rule->out_mode;
    int rc = hm_remove(r->m, k, (out & 1) ? kout : NULL, (out & 2) ? vout : NULL);
    CHECK(r, rc == 1);
    if (out & 1)
        CHECK(r, memcmp(kout, copy, r->ks) == 0);
    if ((out & 2) && r->vs > 0)
        CHECK(r, memcmp(vout, r->vals[id], r->vs) == 0);
    model_remove(r, id, !(out & 1), !(out & 2));
}

/* Walks the map with hm_iter_next, hm_iter_many or the two mixed on one
 * cursor; every entry must come exactly once, whatever is removed on the way
 * (for hm_iter_many: any entry of the batch just returned). */
static void op_iterate(run *r, reader *in)
{
    unsigned a = rd8(in), b = rd8(in);
    iter_rule rule = {.mod = a % 5, .by_table_pointer = a & 0x10, .out_mode = (a >> 5) & 3};
    rule.rem = rule.mod ? b % rule.mod : 0;
    unsigned style = (b >> 4) & 3;   /* 0: one at a time, 1: batches, 2-3: mixed */
    /* one at a time, under eight (the call's step), two steps, and many */
    static const size_t batches[4] = {1, 6, 16, 40};
    size_t batch = batches[b >> 6];
    memset(r->seen, 0, r->n);
    size_t cursor = 0, count = 0, len = r->len;
    const void *keys[40];
    void *values[40];
    for (size_t step = 0;; step++) {
        bool many = style == 1 || (style >= 2 && step % 2 == 1);
        size_t got;
        if (many) {
            /* either array may be NULL; keys are needed here, values sometimes */
            bool want_values = r->vs > 0 || (step & 2);
            got = hm_iter_many(r->m, &cursor, keys, want_values ? values : NULL, batch);
            CHECK(r, got <= batch);
            if (!want_values)
                for (size_t i = 0; i < got; i++)
                    values[i] = NULL;
        } else {
            got = hm_iter_next(r->m, &cursor, &keys[0], &values[0]) ? 1 : 0;
        }
        if (got == 0)
            break;
        count += got;
        CHECK(r, count <= len);
        for (size_t i = 0; i < got; i++)
            iter_visit(r, &rule, keys[i], values[i]);
    }
    CHECK(r, count == len);
    /* finished stays finished */
    CHECK(r, !hm_iter_next(r->m, &cursor, &keys[0], &values[0]));
    CHECK(r, hm_iter_many(r->m, &cursor, keys, values, 16) == 0);
}

static void op_get_many(run *r, reader *in)
{
    unsigned char keys[MAX_BATCH * MAX_KEY];
    void *values[MAX_BATCH];
    size_t ids[MAX_BATCH], n = 1 + rd8(in) % MAX_BATCH, hits = 0;
    for (size_t i = 0; i < n; i++) {
        ids[i] = rd16(in) % r->n;
        make_key(r, ids[i], keys + i * r->ks);
        hits += r->present[ids[i]];
        values[i] = &values[i];
    }
    CHECK(r, hm_get_many(r->m, keys, n, values) == hits);
    for (size_t i = 0; i < n; i++) {
        CHECK(r, values[i] == hm_get(r->m, keys + i * r->ks));
        CHECK(r, (values[i] != NULL) == (r->present[ids[i]] != 0));
    }
}

/* hm_remove_many of 0 to MAX_BATCH keys, repeats allowed: the same as that
 * many hm_remove calls in order without out-parameters, and no allocation. */
static void op_remove_many(run *r, reader *in)
{
    unsigned char keys[MAX_BATCH * MAX_KEY] = {0};
    size_t ids[MAX_BATCH], n = rd8(in) % (MAX_BATCH + 1), removed = 99, want = 0;
    for (size_t i = 0; i < n; i++) {
        ids[i] = rd16(in) % r->n;
        make_key(r, ids[i], keys + i * r->ks);
    }
    size_t calls = r->fa.calls;
    CHECK(r, hm_remove_many(r->m, keys, n, &removed) == HM_OK);
    CHECK(r, r->fa.calls == calls);
    for (size_t i = 0; i < n; i++) {
        if (r->present[ids[i]]) {
            model_remove(r, ids[i], true, true);
            want++;
        }
    }
    CHECK(r, removed == want);
    for (size_t i = 0; i < n; i++)
        CHECK(r, hm_get(r->m, keys + i * r->ks) == NULL);
}

/* Bad arguments: each is refused as documented and changes nothing. */
static void op_bad_arguments(run *r, size_t id)
{
    unsigned char key[MAX_KEY], val[MAX_VALUE] = {0};
    make_key(r, id, key);
    size_t calls = r->fa.calls;
    int st = 99;
    CHECK(r, hm_insert(r->m, NULL, val) == HM_EINVAL);
    CHECK(r, hm_insert(NULL, key, val) == HM_EINVAL);
    if (r->vs > 0)
        CHECK(r, hm_insert(r->m, key, NULL) == HM_EINVAL);
    CHECK(r, hm_get(r->m, NULL) == NULL);
    CHECK(r, !hm_contains(r->m, NULL));
    CHECK(r, hm_entry(r->m, NULL, &st) == NULL && st == HM_EINVAL);
    CHECK(r, hm_remove(r->m, NULL, NULL, NULL) == HM_EINVAL);
    CHECK(r, hm_get_many(r->m, key, 1, NULL) == 0);
    CHECK(r, hm_get_many(r->m, NULL, 1, (void **)&st) == 0);
    size_t removed = 99;
    CHECK(r, hm_remove_many(r->m, NULL, 1, &removed) == HM_EINVAL && removed == 0);
    removed = 99;
    CHECK(r, hm_remove_many(NULL, key, 1, &removed) == HM_EINVAL && removed == 0);
    hm_retain(r->m, NULL, NULL);
    /* a cursor past the end, as a stale or made-up one would be */
    size_t cursor = hm_buckets(r->m) + (id % 40);
    CHECK(r, !hm_iter_next(r->m, &cursor, NULL, NULL));
    cursor = SIZE_MAX - id % 16;
    CHECK(r, !hm_iter_next(r->m, &cursor, NULL, NULL));
    const void *keys[4];
    cursor = hm_buckets(r->m) + (id % 40);
    CHECK(r, hm_iter_many(r->m, &cursor, keys, NULL, 4) == 0);
    cursor = SIZE_MAX - id % 16;
    CHECK(r, hm_iter_many(r->m, &cursor, keys, NULL, 4) == 0);
    CHECK(r, hm_iter_many(r->m, NULL, keys, NULL, 4) == 0);
    CHECK(r, hm_iter_many(NULL, &cursor, keys, NULL, 4) == 0);
    CHECK(r, !hm_iter_next(r->m, NULL, NULL, NULL));
    CHECK(r, r->fa.calls == calls);
}

static void op_arm_failure(run *r, reader *in)
{
    unsigned a = rd8(in);
    if (a & 0x80)
        r->fa.fail_all = true; /* for the next operation only */
    else
        r->fa.countdown = 1 + a % 12;
}

/* hm_hash_bytes is the map's SipHash-1-3 under its seed. */
static void op_hash(run *r, size_t id)
{
    unsigned char key[MAX_KEY];
    make_key(r, id, key);
    CHECK(r, hm_hash_bytes(r->m, key, r->ks) == hm_siphash13(key, r->ks, r->seed));
}

static hm_t *new_map(run *r)
{
    if (r->large && r->large_maps++ == MAX_LARGE_MAPS)
        r->cfg.capacity = 0; /* see MAX_LARGE_MAPS */
    r->resizes = 0;
    r->reserved_left = 0;
    return hm_new(&r->cfg);
}

/* Frees the map (every entry dropped once) and makes a new one, which may be
 * refused first when a failure is armed. */
static void op_recreate(run *r)
{
    model_drop_all(r);
    hm_free(r->m);
    r->m = NULL;
    check_drops(r);
    CHECK(r, r->fa.live_bytes == 0 && r->fa.live_blocks == 0);
    size_t failures = r->fa.failures;
    errno = 0;
    r->m = new_map(r);
    if (r->fa.failures != failures) {
        CHECK(r, r->m == NULL);
        CHECK(r, errno == ENOMEM);
        CHECK(r, r->fa.live_bytes == 0 && r->fa.live_blocks == 0);
        r->fa.countdown = 0;
        r->fa.fail_all = false;
        r->m = new_map(r);
    }
    CHECK(r, r->m != NULL);
    CHECK(r, hm_capacity(r->m) >= r->cfg.capacity);
}

/* ---- the target --------------------------------------------------------- */

static void configure(run *r, reader *in)
{
    unsigned b0 = rd8(in), b1 = rd8(in), b2 = rd8(in), b3 = rd8(in);
    r->ks = key_sizes[b0 & 7];
    r->vs = value_sizes[(b0 >> 3) & 7];
    r->hash_mode = (enum hash_mode)(b0 >> 6);
    size_t universe = (size_t)4 << ((b1 >> 3) & 7);
    if (r->ks == 1 && universe > 256)
        universe = 256;
    if (r->hash_mode == HASH_CONSTANT && universe > COLLIDING_UNIVERSE)
        universe = COLLIDING_UNIVERSE;
    r->n = universe;
    for (size_t i = 0; i < 16; i++)
        r->seed[i] = (uint8_t)(b3 + 17 * i);
    hm__sip_x8_max_level = (int)(b3 % HM__SIP_X8_LEVELS);

    hm_config c = {.key_size = r->ks, .value_size = r->vs, .max_load = max_loads[b1 & 7],
                   .seed = r->seed, .udata = r, .allocator = &r->fa.a, .on_resize = on_resize};
    c.capacity = b2 < 128 ? 0 : (size_t)(b2 - 128) * 4;
    r->large = b2 == 255;
    if (r->large) { /* 0.9 of the room of 2^20 buckets, at any max_load */
        double load = c.max_load > 0 ? c.max_load : 0.875;
        c.capacity = (size_t)((double)((size_t)1 << 20) * load * 0.9);
    }
    if (r->hash_mode == HASH_CUSTOM)
        c.hash = hash_custom;
    else if (r->hash_mode == HASH_CONSTANT)
        c.hash = hash_constant;
    else if (r->hash_mode == HASH_WEAK)
        c.hash = hash_weak;
    if (b1 & 0x40) {
        c.key_drop = drop_key;
        c.value_drop = drop_value;
    }
    if (b1 & 0x80)
        c.equal = equal_bytes;
    r->cfg = c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    run *r = calloc(1, sizeof *r);
    if (r == NULL)
        return 0;
    reader in = {data, size};
    r->fa.a = (hm_allocator){fa_alloc, fa_realloc, fa_free, &r->fa};
    configure(r, &in);
    r->what = "hm_new";
    r->m = new_map(r);
    CHECK(r, r->m != NULL);

    for (r->op = 1; in.n > 0 && r->op <= MAX_OPS; r->op++) {
        unsigned code = rd8(&in);
        size_t id = rd16(&in) % r->n;
        bool was_fail_all = r->fa.fail_all, full = false;
        size_t failures = r->fa.failures;
        switch (code % 20) {
        case 0: case 1: case 2:
            r->what = "hm_insert";
            op_insert(r, &in, id);
            break;
        case 3:
            r->what = (code & 0x80) ? "hm_insert_many" : "hm_insert";
            if (code & 0x80) {
                op_insert_many(r, &in);
                full = true;
            } else {
                op_insert(r, &in, id);
            }
            break;
        case 4: case 5:
            r->what = "hm_entry";
            op_entry(r, &in, id);
            break;
        case 6: case 7: case 8:
            r->what = "hm_remove";
            op_remove(r, id, code >> 6);
            break;
        case 9:
            r->what = (code & 0x80) ? "hm_insert from the map" : "hm_get";
            if (code & 0x80)
                op_insert_from_map(r, &in, id);
            full = true; /* check_all looks every key up */
            break;
        case 10:
            r->what = "hm_contains";
            {
                unsigned char key[MAX_KEY];
                make_key(r, id, key);
                CHECK(r, hm_contains(r->m, key) == (r->present[id] != 0));
            }
            break;
        case 11:
            r->what = "hm_reserve";
            op_reserve(r, &in);
            full = true;
            break;
        case 12:
            r->what = "hm_resize";
            op_resize(r, &in);
            full = true;
            break;
        case 13:
            r->what = (code & 0x80) ? "hm_clear" : "hm_retain";
            if (code & 0x80)
                op_clear(r);
            else
                op_retain(r, &in);
            full = true;
            break;
        case 14:
            r->what = "iteration with removal";
            op_iterate(r, &in);
            full = true;
            break;
        case 15:
            r->what = (code & 0x80) ? "hm_remove_many" : "hm_get_many";
            if (code & 0x80) {
                op_remove_many(r, &in);
                full = true;
            } else {
                op_get_many(r, &in);
            }
            break;
        case 16:
            r->what = "arm an allocation failure";
            op_arm_failure(r, &in);
            break;
        case 17:
            r->what = "bad arguments";
            op_bad_arguments(r, id);
            full = true;
            break;
        case 18:
            r->what = (code & 0x80) ? "hm_free and hm_new" : "hm_hash_bytes";
            if (code & 0x80)
                op_recreate(r);
            else
                op_hash(r, id);
            full = code & 0x80;
            break;
        default:
            r->what = "hm_resize to fit";
            {
                guard g;
                guard_begin(r, &g);
                int rc = hm_resize(r->m, 0);
                if (!guard_end(r, &g, rc)) {
                    CHECK(r, rc == HM_OK);
                    CHECK(r, hm_capacity(r->m) >= r->len);
                    r->reserved_left = 0;
                }
            }
            full = true;
            break;
        }
        if (was_fail_all)
            r->fa.fail_all = false;
        if (full || r->fa.failures != failures || r->op % FULL_CHECK_EVERY == 0)
            check_all(r);
        else
            check_light(r, id);
    }
    check_all(r);

    r->what = "hm_free";
    model_drop_all(r);
    hm_free(r->m);
    check_drops(r);
    CHECK(r, r->fa.live_bytes == 0 && r->fa.live_blocks == 0 && r->fa.bad_frees == 0);
    free(r);
    return 0;
}
