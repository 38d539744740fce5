/* The batched calls, hm_get_many, hm_remove_many, hm_insert_many and
 * hm_iter_many, against their one-at-a-time counterparts on the same maps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hashmap.h"
#include "le_bytes.h"

/* hm_iter_many's table of the set bits of each byte (internal). */
#include "../src/byte_bits.h"

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* A map made with c, filled with n keys 0, 2, 4, ... (so odd keys are
 * absent), key_size bytes each, the value of key 2i being i. */
static hm_t *even_map_with(const hm_config *c, size_t n)
{
    hm_t *m = hm_new(c);
    assert_non_null(m);
    unsigned char key[32] = {0}, value[32] = {0};
    for (uint64_t i = 0; i < n; i++) {
        uint64_t k = 2 * i;
        le_put(key, k, c->key_size);
        le_put(value, i, c->value_size);
        assert_int_equal(hm_insert(m, key, value), HM_OK);
    }
    return m;
}

static hm_t *even_map(size_t key_size, size_t value_size, size_t n)
{
    hm_config c = {.key_size = key_size, .value_size = value_size};
    return even_map_with(&c, n);
}

static void check_get_many(size_t key_size, size_t value_size, size_t n)
{
    hm_t *m = even_map(key_size, value_size, n);
    enum { COUNT = 1000 };
    unsigned char *keys = calloc(COUNT, key_size);
    void *values[COUNT];
    assert_non_null(keys);
    uint64_t seed = 0x9e3779b97f4a7c15u;
    size_t want = 0;
    for (size_t i = 0; i < COUNT; i++) {
        uint64_t k = next_rand(&seed) % (2 * n + 2);
        le_put(keys + i * key_size, k, key_size);
    }
    for (size_t i = 0; i < COUNT; i++)
        want += hm_get(m, keys + i * key_size) != NULL;
    /* Every batch length to past twice the keys hm_get_many keeps in flight
     * (32), so that a call shorter than its pipeline and one that refills it
     * more than once are both covered. */
    for (size_t len = 0; len <= 70; len++) {
        size_t found = hm_get_many(m, keys, len, values), expect = 0;
        for (size_t i = 0; i < len; i++) {
            void *one = hm_get(m, keys + i * key_size);
            assert_ptr_equal(values[i], one);
            expect += one != NULL;
        }
        assert_int_equal(found, expect);
    }
    assert_int_equal(hm_get_many(m, keys, COUNT, values), want);
    for (size_t i = 0; i < COUNT; i++)
        assert_ptr_equal(values[i], hm_get(m, keys + i * key_size));
    free(keys);
    hm_free(m);
}

/* check(key_size, value_size, n) for key kinds 8 with 8-byte values (a kind
 * of their own), 8 with 24-byte values, 16, 4 (a set) and generic,
 * each at map sizes from empty to 40,000 entries, whose tables pass 1 MiB,
 * where the batched calls prefetch the keys ahead. */
static void for_each_shape(void (*check)(size_t, size_t, size_t))
{
    const size_t sizes[][2] = {{8, 8}, {8, 24}, {16, 32}, {4, 0}, {3, 5}, {24, 24}};
    const size_t counts[] = {0, 1, 15, 100, 5000, 40000};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++)
            check(sizes[s][0], sizes[s][1], counts[c]);
}

static void test_hm_get_many_equals_hm_get(void **state)
{
    (void)state;
    for_each_shape(check_get_many);
}

static void test_hm_get_many_null_args(void **state)
{
    (void)state;
    hm_t *m = even_map(8, 8, 10);
    uint64_t k = 2;
    void *v[1];
    assert_int_equal(hm_get_many(NULL, &k, 1, v), 0);
    assert_int_equal(hm_get_many(m, NULL, 1, v), 0);
    assert_int_equal(hm_get_many(m, &k, 1, NULL), 0);
    hm_free(m);
}

/* What the drop callbacks of even_map_dropping's map saw. */
struct drops {
    size_t key_size, value_size; /* of the map */
    size_t keys, values;         /* drops seen */
    uint64_t key_sum, value_sum; /* of the first word of each */
};

static uint64_t first_word(const void *p, size_t size)
{
    return le_get(p, size);
}

static void count_key_drop(void *item, void *udata)
{
    struct drops *d = udata;
    d->keys++;
    d->key_sum += first_word(item, d->key_size);
}

static void count_value_drop(void *item, void *udata)
{
    struct drops *d = udata;
    d->values++;
    d->value_sum += first_word(item, d->value_size);
}

/* even_map's map with drop callbacks that count into *d, and a fixed seed, so
 * that two such maps lay their entries out alike. */
static hm_t *even_map_dropping(size_t key_size, size_t value_size, size_t n, struct drops *d)
{
    static const uint8_t seed[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    *d = (struct drops){.key_size = key_size, .value_size = value_size};
    hm_config c = {.key_size = key_size, .value_size = value_size, .seed = seed,
                   .key_drop = count_key_drop, .value_drop = count_value_drop, .udata = d};
    return even_map_with(&c, n);
}

/* Two like maps, one emptied in part by hm_remove_many, in calls of every
 * length through 70 (past twice the keys it keeps in flight) and then in one
 * call of the rest, the other by hm_remove of the same keys in the same
 * order: the same counts, the same drops, the same keys left, the same room.
 * The keys are drawn at random among present and absent ones, so that some
 * come again after their removal, within a call or in a later one. */
static void check_remove_many(size_t key_size, size_t value_size, size_t n)
{
    struct drops da, db;
    hm_t *a = even_map_dropping(key_size, value_size, n, &da);
    hm_t *b = even_map_dropping(key_size, value_size, n, &db);
    enum { COUNT = 4000 };
    unsigned char *keys = calloc(COUNT, key_size);
    assert_non_null(keys);
    uint64_t seed = 0x2545f4914f6cdd1du;
    for (size_t i = 0; i < COUNT; i++) {
        uint64_t k = next_rand(&seed) % (2 * n + 2);
        le_put(keys + i * key_size, k, key_size);
    }
    size_t at = 0, total = 0;
    for (size_t len = 0; at < COUNT; len++) {
        size_t count = len <= 70 ? len : COUNT - at, removed = 99, expect = 0;
        assert_int_equal(hm_remove_many(a, keys + at * key_size, count, &removed), HM_OK);
        for (size_t i = at; i < at + count; i++)
            expect += (size_t)hm_remove(b, keys + i * key_size, NULL, NULL);
        assert_int_equal(removed, expect);
        total += removed;
        at += count;
        assert_int_equal(hm_len(a), hm_len(b));
        assert_int_equal(hm_capacity(a), hm_capacity(b));
        assert_memory_equal(&da, &db, sizeof da);
    }
    assert_int_equal(hm_len(a), n - total);
    assert_int_equal(da.keys, total);
    assert_int_equal(da.values, value_size ? total : 0);
    for (size_t i = 0; i < COUNT; i++)
        assert_null(hm_get(a, keys + i * key_size));
    size_t cursor = 0, left = 0;
    const void *key;
    void *value;
    while (hm_iter_next(a, &cursor, &key, &value)) {
        void *other = hm_get(b, key);
        assert_non_null(other);
        assert_true(value_size == 0 || memcmp(value, other, value_size) == 0);
        left++;
    }
    assert_int_equal(left, hm_len(b));
    free(keys);
    hm_free(a);
    hm_free(b);
}

static void test_hm_remove_many_equals_hm_remove(void **state)
{
    (void)state;
    for_each_shape(check_remove_many);
}

/* Two maps made with room for n keys, filled with the same n keys (every
 * fifth one a key given before, with another value), one by hm_insert and the
 * other by hm_insert_many in calls of 1 to 70 keys: the same count of new
 * keys, the same length, the same value for every key. */
static void check_insert_many(size_t key_size, size_t value_size, size_t n)
{
    hm_config c = {.key_size = key_size, .value_size = value_size, .capacity = n};
    hm_t *a = hm_new(&c), *b = hm_new(&c);
    assert_non_null(a);
    assert_non_null(b);
    unsigned char *keys = calloc(n + 1, key_size), *values = calloc(n + 1, value_size + 1);
    assert_non_null(keys);
    assert_non_null(values);
    uint64_t seed = 0x5851f42d4c957f2du;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t k = i % 5 == 4 ? next_rand(&seed) % i : i, v = i + 1;
        le_put(keys + i * key_size, k, key_size);
        le_put(values + i * value_size, v, value_size);
    }
    size_t want = 0, added = 0;
    for (size_t i = 0; i < n; i++)
        want += hm_insert(a, keys + i * key_size, values + i * value_size) == HM_OK;
    for (size_t i = 0, len = 1; i < n; i += len, len = len % 70 + 1) {
        size_t count = n - i < len ? n - i : len, got = 0;
        assert_int_equal(hm_insert_many(b, keys + i * key_size, values + i * value_size, count,
                                        &got),
                         HM_OK);
        added += got;
    }
    assert_int_equal(added, want);
    assert_int_equal(hm_len(b), hm_len(a));
    for (size_t i = 0; i < n; i++) {
        const void *va = hm_get(a, keys + i * key_size), *vb = hm_get(b, keys + i * key_size);
        assert_non_null(va);
        assert_non_null(vb);
        assert_true(value_size == 0 || memcmp(va, vb, value_size) == 0);
    }
    free(keys);
    free(values);
    hm_free(a);
    hm_free(b);
}

static void test_hm_insert_many_equals_hm_insert(void **state)
{
    (void)state;
    for_each_shape(check_insert_many);
}

/* The three checks in tables of 2^20 buckets at load 0.84, where hm_get_many,
 * hm_remove_many and hm_insert_many of the 4-, 8- and 16-byte key kinds ask
 * for the slot each key's home group points to (its first candidate, or for
 * an insertion of a new key the first free slot) instead of its home slot
 * (get_many_k in hashmap.c); at that load some keys sit past their home
 * group. */
static void test_batched_calls_in_a_large_table(void **state)
{
    (void)state;
    enum { N = 880000 };
    hm_t *m = even_map(4, 0, N);
    assert_int_equal(hm_buckets(m), (size_t)1 << 20);
    hm_free(m);
    hm_config c = {.key_size = 4, .capacity = N};
    m = hm_new(&c);
    assert_int_equal(hm_buckets(m), (size_t)1 << 20);
    hm_free(m);
    const size_t sizes[][2] = {{8, 8}, {16, 32}, {4, 0}};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        check_get_many(sizes[s][0], sizes[s][1], N);
        check_remove_many(sizes[s][0], sizes[s][1], N);
        check_insert_many(sizes[s][0], sizes[s][1], N);
    }
}

static void test_hm_remove_many_args(void **state)
{
    (void)state;
    struct drops d;
    hm_t *m = even_map_dropping(8, 8, 10, &d);
    unsigned char keys[3 * 8]; /* 2, 3 and 2, as even_map writes its keys */
    le_put(keys, 2, 8);
    le_put(keys + 8, 3, 8);
    le_put(keys + 16, 2, 8);
    size_t removed = 99;
    assert_int_equal(hm_remove_many(NULL, keys, 1, &removed), HM_EINVAL);
    assert_int_equal(removed, 0);
    removed = 99;
    assert_int_equal(hm_remove_many(m, NULL, 1, &removed), HM_EINVAL);
    assert_int_equal(removed, 0);
    assert_int_equal(hm_remove_many(m, NULL, 0, &removed), HM_OK);
    assert_int_equal(hm_len(m), 10);
    assert_int_equal(d.keys, 0);
    /* 2 is removed once, 3 is absent, and removed may be NULL */
    assert_int_equal(hm_remove_many(m, keys, 3, NULL), HM_OK);
    assert_int_equal(hm_len(m), 9);
    assert_int_equal(d.keys, 1);
    assert_int_equal(d.key_sum, 2);
    assert_int_equal(d.values, 1);
    assert_int_equal(d.value_sum, 1);
    assert_null(hm_get(m, keys));
    hm_free(m);
    /* a map that never had a table */
    hm_config c = {.key_size = 8, .value_size = 8};
    hm_t *empty = hm_new(&c);
    assert_non_null(empty);
    assert_int_equal(hm_remove_many(empty, keys, 3, &removed), HM_OK);
    assert_int_equal(removed, 0);
    assert_int_equal(hm_buckets(empty), 0);
    hm_free(empty);
}

/* hm_iter_next's order over a map of n entries: its keys in *order and its
 * values in *vorder, arrays of n + 1 that the caller frees. */
static void iteration_order(const hm_t *m, size_t n, const void ***order, void ***vorder)
{
    *order = calloc(n + 1, sizeof **order);
    *vorder = calloc(n + 1, sizeof **vorder);
    assert_non_null(*order);
    assert_non_null(*vorder);
    size_t cursor = 0, len = 0;
    const void *k;
    void *v;
    while (len <= n && hm_iter_next(m, &cursor, &k, &v)) {
        (*order)[len] = k;
        (*vorder)[len++] = v;
    }
    assert_int_equal(len, n);
}

/* hm_iter_many on a map of value_size-byte values (0: a set), with every
 * batch size through 40 and each of its output arrays left out in turn,
 * returns what hm_iter_next returns, in the same order, and the two can be
 * mixed on one cursor. Entries past the count it returns are not looked at:
 * a batch may stop short of max before the end. */
static void check_iter_many(size_t value_size)
{
    enum { MAX_BATCH = 40 };
    const size_t counts[] = {0, 1, 7, 16, 17, 1000, 5000};
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        size_t n = counts[c];
        hm_t *m = even_map(8, value_size, n);
        const void **order;
        void **vorder;
        iteration_order(m, n, &order, &vorder);
        size_t cursor;
        const void *k;
        void *v;
        for (size_t batch = 1; batch <= MAX_BATCH; batch++) {
            for (int arrays = 0; arrays < 3; arrays++) {
                const void *keys[MAX_BATCH];
                void *values[MAX_BATCH];
                const void **kp = arrays == 1 ? NULL : keys;
                void **vp = arrays == 2 ? NULL : values;
                size_t seen = 0, got;
                cursor = 0;
                while ((got = hm_iter_many(m, &cursor, kp, vp, batch)) > 0) {
                    assert_true(got <= batch);
                    assert_true(seen + got <= n);
                    for (size_t i = 0; i < got; i++) {
                        if (kp)
                            assert_ptr_equal(keys[i], order[seen + i]);
                        if (vp)
                            assert_ptr_equal(values[i], vorder[seen + i]);
                    }
                    seen += got;
                    /* Mixed: one step of hm_iter_next on the same cursor. */
                    if (hm_iter_next(m, &cursor, &k, &v)) {
                        assert_ptr_equal(k, order[seen]);
                        seen++;
                    }
                }
                assert_int_equal(seen, n);
                assert_int_equal(hm_iter_many(m, &cursor, kp, vp, batch), 0);
            }
        }
        free(order);
        free(vorder);
        hm_free(m);
    }
}

static void test_hm_iter_many_equals_hm_iter_next(void **state)
{
    (void)state;
    check_iter_many(8);
    check_iter_many(24);
}

static void test_hm_iter_many_set_equals_hm_iter_next(void **state)
{
    (void)state;
    check_iter_many(0);
}

/* hm_iter_many over a table with more than 4 MiB of slots (the library's
 * ITER_PREFETCH_MIN_TABLE), where it asks for the slots two groups ahead of
 * its scan, up to the table's end: the same entries in the same order as
 * hm_iter_next, at batch sizes that end a call inside a group and at its end. */
static void test_hm_iter_many_large_table_equals_hm_iter_next(void **state)
{
    (void)state;
    enum { MAX_BATCH = 40 };
    /* 2^17 buckets, of slots of at least key and value (48 bytes here, the
     * value aligned to 16): over 5 MiB */
    const size_t n = 60000, slot_bytes = 8 + 32;
    hm_t *m = even_map(8, 32, n);
    assert_true(hm_buckets(m) * slot_bytes > (size_t)4 << 20);
    const void **order;
    void **vorder;
    iteration_order(m, n, &order, &vorder);
    const size_t batches[] = {1, 7, 16, 40};
    for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++) {
        const void *keys[MAX_BATCH];
        void *values[MAX_BATCH];
        size_t cursor = 0, seen = 0, got;
        while ((got = hm_iter_many(m, &cursor, keys, values, batches[b])) > 0) {
            assert_true(got <= batches[b]);
            assert_true(seen + got <= n);
            for (size_t i = 0; i < got; i++) {
                assert_ptr_equal(keys[i], order[seen + i]);
                assert_ptr_equal(values[i], vorder[seen + i]);
            }
            seen += got;
        }
        assert_int_equal(seen, n);
    }
    free(order);
    free(vorder);
    hm_free(m);
}

/* Every row of the table hm_iter_many steps by: the set bits of the byte,
 * lowest first, then zeros, and their count. */
static void test_hm_iter_many_byte_bits_table(void **state)
{
    (void)state;
    for (unsigned b = 0; b < 256; b++) {
        unsigned k = 0;
        for (unsigned i = 0; i < 8; i++)
            if (b >> i & 1)
                assert_int_equal(HM_BYTE_BITS[b][k++], i);
        assert_int_equal(HM_BYTE_COUNT[b], k);
        for (; k < 8; k++)
            assert_int_equal(HM_BYTE_BITS[b][k], 0);
    }
}

static void test_hm_iter_many_remove_returned(void **state)
{
    (void)state;
    hm_t *m = even_map(8, 8, 3000);
    size_t cursor = 0, got, seen = 0;
    const void *keys[64];
    while ((got = hm_iter_many(m, &cursor, keys, NULL, 64)) > 0) {
        for (size_t i = 0; i < got; i++) {
            uint64_t k;
            memcpy(&k, keys[i], 8);
            assert_int_equal(hm_remove(m, &k, NULL, NULL), 1);
        }
        seen += got;
    }
    assert_int_equal(seen, 3000);
    assert_int_equal(hm_len(m), 0);
    hm_free(m);
}

static void test_hm_iter_many_set_values_null(void **state)
{
    (void)state;
    hm_t *m = even_map(4, 0, 50);
    size_t cursor = 0, got, seen = 0;
    void *values[64];
    while ((got = hm_iter_many(m, &cursor, NULL, values, 64)) > 0) {
        for (size_t i = 0; i < got; i++)
            assert_null(values[i]);
        seen += got;
    }
    assert_int_equal(seen, 50);
    hm_free(m);
}

static void test_hm_iter_many_null_and_zero(void **state)
{
    (void)state;
    hm_t *m = even_map(8, 8, 5);
    size_t cursor = 0;
    const void *keys[8];
    assert_int_equal(hm_iter_many(NULL, &cursor, keys, NULL, 8), 0);
    assert_int_equal(hm_iter_many(m, NULL, keys, NULL, 8), 0);
    assert_int_equal(hm_iter_many(m, &cursor, keys, NULL, 0), 0);
    size_t got, seen = 0;
    while ((got = hm_iter_many(m, &cursor, keys, NULL, 8)) > 0)
        seen += got;
    assert_int_equal(seen, 5);
    hm_free(m);
    hm_t *empty = even_map(8, 8, 0);
    cursor = 0;
    assert_int_equal(hm_iter_many(empty, &cursor, keys, NULL, 8), 0);
    hm_free(empty);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hm_get_many_equals_hm_get),
        cmocka_unit_test(test_hm_get_many_null_args),
        cmocka_unit_test(test_hm_remove_many_equals_hm_remove),
        cmocka_unit_test(test_hm_remove_many_args),
        cmocka_unit_test(test_hm_insert_many_equals_hm_insert),
        cmocka_unit_test(test_batched_calls_in_a_large_table),
        cmocka_unit_test(test_hm_iter_many_equals_hm_iter_next),
        cmocka_unit_test(test_hm_iter_many_set_equals_hm_iter_next),
        cmocka_unit_test(test_hm_iter_many_large_table_equals_hm_iter_next),
        cmocka_unit_test(test_hm_iter_many_byte_bits_table),
        cmocka_unit_test(test_hm_iter_many_remove_returned),
        cmocka_unit_test(test_hm_iter_many_set_values_null),
        cmocka_unit_test(test_hm_iter_many_null_and_zero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
