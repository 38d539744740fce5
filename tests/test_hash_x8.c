/* SipHash-1-3 of eight keys at once (siphash.c, "Eight keys at once"): each
 * way this processor runs against the one-key hash, and maps built through
 * each way against one another. Internal functions: linked with the static
 * libraries only, whose hidden symbols a test can reach. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hashmap.h"
#include "le_bytes.h"
#include "hashmap/siphash.h"
#include "../src/siphash_impl.h"

static const char *const level_names[HM__SIP_X8_LEVELS] = {"scalar", "AVX2", "AVX-512F"};

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void fill_random(unsigned char *p, size_t n, uint64_t *s)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(next_rand(s) >> 24);
}

/* Every level this build and processor run gives, for each of the 8 keys,
 * what hm__siphash13_from gives for it alone: keys of 4, 8 and 16 bytes, under
 * many map keys, from buffers at every alignment, back to back or `stride`
 * bytes apart as the keys of a map's slots are (the loads of each way differ
 * by stride: 16 for 8-byte keys is a path of its own with AVX-512F). */
static void test_x8_equals_one_key(void **state)
{
    (void)state;
    uint64_t s = 0x0123456789abcdefu;
    int ran = 0;
    for (int level = 0; level < HM__SIP_X8_LEVELS; level++) {
        hm__sip13_x8_fn *f = hm__sip13_x8_at(level);
        if (!f) {
            printf("# %s: not run on this processor or build\n", level_names[level]);
            continue;
        }
        ran++;
        static const size_t sizes[] = {4, 8, 16};
        static const size_t strides[] = {0, 12, 16, 20, 24, 32, 40, 48}; /* 0: key size */
        for (size_t z = 0; z < 3; z++) {
            size_t ks = sizes[z];
            for (size_t t = 0; t < sizeof strides / sizeof strides[0]; t++) {
                size_t stride = strides[t] ? strides[t] : ks;
                if (stride < ks)
                    continue;
                for (int round = 0; round < 200; round++) {
                    uint8_t key[16];
                    unsigned char buf[8 * 48 + 63];
                    fill_random(key, sizeof key, &s);
                    fill_random(buf, sizeof buf, &s);
                    unsigned char *keys = buf + round % 64;
                    hm__sipv start;
                    hm__sip_start_key(&start, key);
                    uint64_t out[8];
                    f(&start, keys, ks, stride, out);
                    for (size_t j = 0; j < 8; j++)
                        assert_true(out[j] == hm__siphash13_from(&start, keys + j * stride, ks));
                }
            }
        }
    }
    assert_true(ran >= 1);
}

/* The same map, made at each level: a fixed seed, keys that take it through
 * many growths (each a rehash that hashes the keys of 8 slots at a time, read
 * slot_size apart), batched and one-key calls, values of 8 and 32 bytes. Each
 * level's map must hold the same entries in the same slots, which iteration
 * order shows, and find every key. */
enum { LEVEL_KEYS = 20000 };

enum { MAX_VALUE = 32 };

static void build_at(int level, size_t ks, size_t vs, uint64_t *order, size_t *len)
{
    hm__sip_x8_max_level = level;
    static const uint8_t seed[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    hm_config c = {.key_size = ks, .value_size = vs, .seed = seed};
    hm_t *m = hm_new(&c);
    assert_non_null(m);
    unsigned char keys[32 * 16];
    unsigned char values[32 * MAX_VALUE] = {0};
    /* Keys i * 7919 for i below LEVEL_KEYS, 32 a call; the first half one
     * at a time, the second through hm_insert_many. */
    for (uint64_t i = 0; i < LEVEL_KEYS; i += 32) {
        for (uint64_t q = 0; q < 32; q++) {
            uint64_t k = (i + q) * 7919;
            memset(keys + q * ks, 0, ks);
            le_put(keys + q * ks, k, ks);
            uint64_t v = i + q;
            memcpy(values + q * vs, &v, 8);
        }
        if (i < LEVEL_KEYS / 2) {
            for (size_t q = 0; q < 32; q++)
                assert_int_equal(hm_insert(m, keys + q * ks, values + q * vs), HM_OK);
        } else {
            size_t added = 0;
            assert_int_equal(hm_insert_many(m, keys, values, 32, &added), HM_OK);
            assert_int_equal(added, 32);
        }
    }
    /* Every key found through hm_get_many (present) and none of the odd
     * multiples (absent), then every third key removed in batches. */
    for (uint64_t i = 0; i < LEVEL_KEYS; i += 32) {
        void *found[32];
        for (uint64_t q = 0; q < 32; q++) {
            uint64_t k = (i + q) * 7919;
            memset(keys + q * ks, 0, ks);
            le_put(keys + q * ks, k, ks);
        }
        assert_int_equal(hm_get_many(m, keys, 32, found), 32);
        for (uint64_t q = 0; q < 32; q++) {
            assert_non_null(found[q]);
            uint64_t v;
            memcpy(&v, found[q], 8);
            assert_true(v == i + q);
            assert_ptr_equal(hm_get(m, keys + q * ks), found[q]);
        }
        for (uint64_t q = 0; q < 32; q++) {
            uint64_t k = (i + q) * 7919 + 1;
            le_put(keys + q * ks, k, ks);
        }
        assert_int_equal(hm_get_many(m, keys, 32, found), 0);
        unsigned char gone[11 * 16];
        size_t ng = 0;
        for (uint64_t q = 0; q < 32; q += 3, ng++) {
            uint64_t k = (i + q) * 7919;
            memset(gone + ng * ks, 0, ks);
            le_put(gone + ng * ks, k, ks);
        }
        size_t removed = 0;
        assert_int_equal(hm_remove_many(m, gone, ng, &removed), HM_OK);
        assert_int_equal(removed, ng);
    }
    /* A rehash at the same size when removals left slots to give back, then
     * the order. */
    assert_int_equal(hm_resize(m, hm_capacity(m)), HM_OK);
    size_t cursor = 0, n = 0;
    const void *key;
    void *value;
    while (hm_iter_next(m, &cursor, &key, &value)) {
        uint64_t v;
        memcpy(&v, value, 8);
        order[n++] = v;
    }
    assert_int_equal(n, hm_len(m));
    *len = n;
    hm_free(m);
    hm__sip_x8_max_level = HM__SIP_X8_AVX512;
}

static void test_maps_alike_at_every_level(void **state)
{
    (void)state;
    /* 12: a key of no constant kind, hashed over its bytes by the default hash. */
    static const size_t sizes[] = {4, 8, 16, 12}, value_sizes[] = {8, MAX_VALUE};
    uint64_t *want = malloc(LEVEL_KEYS * sizeof *want);
    uint64_t *got = malloc(LEVEL_KEYS * sizeof *got);
    assert_non_null(want);
    assert_non_null(got);
    for (size_t z = 0; z < sizeof sizes / sizeof *sizes; z++) {
        for (size_t y = 0; y < 2; y++) {
            size_t want_len = 0, got_len = 0;
            build_at(HM__SIP_X8_SCALAR, sizes[z], value_sizes[y], want, &want_len);
            for (int level = HM__SIP_X8_AVX2; level < HM__SIP_X8_LEVELS; level++) {
                if (!hm__sip13_x8_at(level))
                    continue;
                build_at(level, sizes[z], value_sizes[y], got, &got_len);
                assert_int_equal(got_len, want_len);
                assert_memory_equal(got, want, want_len * sizeof *want);
            }
        }
    }
    free(want);
    free(got);
}

/* hm_hash_bytes of a map made at each level (in a register pair at AVX2,
 * hm__siphash13_pair_avx2, and at AVX-512F where AVX-512VL runs too,
 * hm__siphash13_pair) is the exported hm_siphash13 under the map's seed, at
 * every length up to 64. */
static void test_hash_bytes_at_every_level(void **state)
{
    (void)state;
    static const uint8_t seed[16] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 11, 22, 33, 44, 55, 66};
    unsigned char buf[64];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)(i * 37 + 5);
    for (int level = HM__SIP_X8_SCALAR; level < HM__SIP_X8_LEVELS; level++) {
        hm__sip_x8_max_level = level;
        hm_config c = {.key_size = 8, .value_size = 8, .seed = seed};
        hm_t *m = hm_new(&c);
        assert_non_null(m);
        for (size_t len = 0; len <= sizeof buf; len++)
            assert_true(hm_hash_bytes(m, buf, len) == hm_siphash13(buf, len, seed));
        hm_free(m);
    }
    hm__sip_x8_max_level = HM__SIP_X8_AVX512;
}

/* The level a map picks is the best one at or under the cap. */
static void test_best_follows_the_cap(void **state)
{
    (void)state;
    for (int cap = 0; cap < HM__SIP_X8_LEVELS; cap++) {
        hm__sip_x8_max_level = cap;
        hm__sip13_x8_fn *want = NULL;
        for (int level = cap; level > HM__SIP_X8_SCALAR && !want; level--)
            want = hm__sip13_x8_at(level);
        assert_ptr_equal(hm__sip13_x8_best(), want);
    }
    hm__sip_x8_max_level = HM__SIP_X8_AVX512;
    assert_null(hm__sip13_x8_at(HM__SIP_X8_LEVELS));
    assert_null(hm__sip13_x8_at(-1));
}

/* The register pair a map's one-key calls hash in follows the same cap:
 * AVX-512VL's where the cap and the processor allow, else AVX2's, else none
 * (the scalar hash). */
static void test_pair_follows_the_cap(void **state)
{
    (void)state;
    hm__sip_x8_max_level = HM__SIP_X8_AVX512;
    if (hm__sip_pair_level() == HM__SIP_X8_SCALAR)
        skip(); /* a library built without the pair, or a processor without AVX2 */
    for (int cap = 0; cap < HM__SIP_X8_LEVELS; cap++) {
        hm__sip_x8_max_level = cap;
        int want = HM__SIP_X8_SCALAR;
#if HM__SIP_PAIR
        if (cap >= HM__SIP_X8_AVX512 && hm__sip_pair_runs())
            want = HM__SIP_X8_AVX512;
        else if (cap >= HM__SIP_X8_AVX2 && hm__sip_pair_avx2_runs())
            want = HM__SIP_X8_AVX2;
#endif
        assert_int_equal(hm__sip_pair_level(), want);
    }
    hm__sip_x8_max_level = HM__SIP_X8_AVX512;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_x8_equals_one_key),
        cmocka_unit_test(test_maps_alike_at_every_level),
        cmocka_unit_test(test_hash_bytes_at_every_level),
        cmocka_unit_test(test_best_follows_the_cap),
        cmocka_unit_test(test_pair_follows_the_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
