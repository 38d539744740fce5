/*
 * Readers share a map (issue 5, point 5). Several threads at once run every
 * read-only function (hm_get, hm_contains, hm_get_many, hm_len,
 * hm_capacity, hm_buckets, iteration, hm_get_stats, hm_hash_bytes) on the
 * same maps and check every answer; afterwards the maps must be exactly as
 * before. Built with -fsanitize=thread (HASHMAP_TSAN, .ci/run), the same
 * test shows that no read path writes shared state: ThreadSanitizer reports
 * any such write as a race. One map holds the same keys as another in a
 * table of 2^21 buckets, where hm_get keeps a count of the thread's misses in
 * a row (miss_run in hashmap.c): a count shared between threads would be a
 * race too.
 *
 * The worker threads only count mismatches; the main thread asserts, since
 * cmocka's asserts are not for use from other threads.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hashmap.h"

enum { THREADS = 4, N = 20000, ROUNDS = 3, BATCH = 64, SET_KEYS = 3000, WORDS = 500 };

static const uint8_t test_seed[16] = {0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78,
                                      0x87, 0x96, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0};

/* The shared maps, built before the readers start and freed after they end. */
typedef struct shared {
    hm_t *u64;   /* keys k * 3 for k < N, every fourth removed */
    hm_t *big;   /* the same in a table of 2^21 buckets */
    hm_t *set;   /* 3-byte keys through a custom hash that calls hm_hash_bytes */
    hm_t *words; /* `const char *` keys: hm_hash_cstr and hm_equal_cstr */
    hm_t *empty; /* no table at all */
    char names[WORDS][16];
    pthread_barrier_t start;
} shared;

typedef struct worker {
    shared *sh;
    unsigned id;
    size_t errors, checks;
    pthread_t thread;
} worker;

static bool u64_present(uint64_t k) { return k % 3 == 0 && k / 3 < N && (k / 3) % 4 != 0; }

static uint64_t hash_3_bytes(const void *key, const hm_t *map, void *udata)
{
    (void)udata;
    return hm_hash_bytes(map, key, 3);
}

static void set_key(unsigned i, unsigned char out[3])
{
    out[0] = (unsigned char)i;
    out[1] = (unsigned char)(i >> 8);
    out[2] = 0x77;
}

#define EXPECT(w, cond)          \
    do {                         \
        (w)->checks++;           \
        if (!(cond))             \
            (w)->errors++;       \
    } while (0)

static void read_u64(worker *w, const hm_t *m, uint64_t salt)
{
    /* hits and misses, in an order of its own per thread */
    for (uint64_t i = 0; i < 3 * N; i++) {
        uint64_t k = (i * 7919 + salt) % (3 * N);
        const uint64_t *v = hm_get(m, &k);
        bool want = u64_present(k);
        EXPECT(w, (v != NULL) == want);
        if (v != NULL)
            EXPECT(w, *v == k + 1);
        EXPECT(w, hm_contains(m, &k) == want);
    }
    uint64_t keys[BATCH];
    void *values[BATCH];
    for (uint64_t start = 0; start < 3 * N; start += BATCH) {
        size_t hits = 0;
        for (size_t j = 0; j < BATCH; j++) {
            keys[j] = (start + j + salt) % (3 * N + 100);
            hits += u64_present(keys[j]);
        }
        EXPECT(w, hm_get_many(m, keys, BATCH, values) == hits);
        for (size_t j = 0; j < BATCH; j++) {
            bool want = u64_present(keys[j]);
            EXPECT(w, (values[j] != NULL) == want);
            if (values[j] != NULL)
                EXPECT(w, *(const uint64_t *)values[j] == keys[j] + 1);
        }
    }
    size_t cursor = 0, count = 0;
    const void *key;
    void *value;
    uint64_t sum = 0, want_sum = 0;
    while (hm_iter_next(m, &cursor, &key, &value)) {
        uint64_t k, v;
        memcpy(&k, key, sizeof k);
        memcpy(&v, value, sizeof v);
        EXPECT(w, u64_present(k) && v == k + 1);
        sum += k;
        count++;
    }
    for (uint64_t k = 0; k < N; k++)
        if (k % 4 != 0)
            want_sum += 3 * k;
    EXPECT(w, count == hm_len(m));
    EXPECT(w, count == N - N / 4);
    EXPECT(w, sum == want_sum);
    EXPECT(w, hm_len(m) <= hm_capacity(m) && hm_capacity(m) < hm_buckets(m));
    hm_stats st;
    hm_get_stats(m, &st);
    EXPECT(w, st.len == count && st.buckets == hm_buckets(m) && st.max_probe >= 1);
    const char msg[] = "reader";
    EXPECT(w, hm_hash_bytes(m, msg, sizeof msg) == hm_siphash13(msg, sizeof msg, test_seed));
}

static void read_set(worker *w)
{
    const hm_t *m = w->sh->set;
    unsigned char k[3];
    for (unsigned i = 0; i < 2 * SET_KEYS; i++) {
        set_key(i, k);
        bool want = i < SET_KEYS && i % 2 == 1;
        EXPECT(w, hm_contains(m, k) == want);
        EXPECT(w, (hm_get(m, k) != NULL) == want);
    }
    size_t cursor = 0, count = 0;
    const void *key;
    void *value = NULL;
    while (hm_iter_next(m, &cursor, &key, &value)) {
        const unsigned char *p = key;
        unsigned i = p[0] | (unsigned)p[1] << 8;
        EXPECT(w, value == NULL && p[2] == 0x77 && i < SET_KEYS && i % 2 == 1);
        count++;
    }
    EXPECT(w, count == SET_KEYS / 2);
}

static void read_words(worker *w)
{
    const hm_t *m = w->sh->words;
    for (unsigned i = 0; i < WORDS; i++) {
        char copy[16];
        memcpy(copy, w->sh->names[i], sizeof copy);
        const char *p = copy;
        const unsigned *v = hm_get(m, &p);
        EXPECT(w, v != NULL && *v == i);
        copy[0] = 'X'; /* every stored word starts with "word-" */
        EXPECT(w, !hm_contains(m, &p));
    }
}

static void read_empty(worker *w)
{
    const hm_t *m = w->sh->empty;
    uint64_t k = 5;
    void *values[1];
    size_t cursor = 0;
    EXPECT(w, hm_get(m, &k) == NULL && !hm_contains(m, &k));
    EXPECT(w, hm_get_many(m, &k, 1, values) == 0 && values[0] == NULL);
    EXPECT(w, !hm_iter_next(m, &cursor, NULL, NULL));
    EXPECT(w, hm_len(m) == 0 && hm_buckets(m) == 0);
}

static void *reader(void *arg)
{
    worker *w = arg;
    pthread_barrier_wait(&w->sh->start); /* all start together, to overlap */
    for (unsigned round = 0; round < ROUNDS; round++) {
        read_u64(w, w->sh->u64, (uint64_t)w->id * 1009 + round);
        read_u64(w, w->sh->big, (uint64_t)w->id * 1013 + round);
        read_set(w);
        read_words(w);
        read_empty(w);
    }
    return NULL;
}

static hm_t *new_map(const hm_config *c)
{
    hm_t *m = hm_new(c);
    assert_non_null(m);
    return m;
}

static hm_t *build_u64(size_t capacity)
{
    hm_config c = {.key_size = 8, .value_size = 8, .capacity = capacity, .seed = test_seed};
    hm_t *m = new_map(&c);
    for (uint64_t k = 0; k < N; k++) {
        uint64_t key = 3 * k, value = key + 1;
        assert_int_equal(hm_insert(m, &key, &value), HM_OK);
    }
    for (uint64_t k = 0; k < N; k += 4)
        assert_int_equal(hm_remove(m, &(uint64_t){3 * k}, NULL, NULL), 1);
    return m;
}

static void build(shared *sh)
{
    sh->u64 = build_u64(0);
    sh->big = build_u64((size_t)1 << 20);
    assert_true(hm_buckets(sh->big) >= (size_t)1 << 20);

    hm_config cs = {.key_size = 3, .seed = test_seed, .hash = hash_3_bytes};
    sh->set = new_map(&cs);
    unsigned char k3[3];
    for (unsigned i = 0; i < SET_KEYS; i++) {
        set_key(i, k3);
        assert_int_equal(hm_insert(sh->set, k3, NULL), HM_OK);
    }
    for (unsigned i = 0; i < SET_KEYS; i += 2) {
        set_key(i, k3);
        assert_int_equal(hm_remove(sh->set, k3, NULL, NULL), 1);
    }

    hm_config cw = {.key_size = sizeof(const char *), .value_size = sizeof(unsigned),
                    .hash = hm_hash_cstr, .equal = hm_equal_cstr}; /* random seed */
    sh->words = new_map(&cw);
    for (unsigned i = 0; i < WORDS; i++) {
        snprintf(sh->names[i], sizeof sh->names[i], "word-%u", i);
        const char *p = sh->names[i];
        assert_int_equal(hm_insert(sh->words, &p, &i), HM_OK);
    }

    hm_config ce = {.key_size = 8, .value_size = 8};
    sh->empty = new_map(&ce);
}

/* Everything a reader could have disturbed. */
static void stats_of(const shared *sh, hm_stats out[5])
{
    hm_get_stats(sh->u64, &out[0]);
    hm_get_stats(sh->set, &out[1]);
    hm_get_stats(sh->words, &out[2]);
    hm_get_stats(sh->empty, &out[3]);
    hm_get_stats(sh->big, &out[4]);
}

static void test_readers_share_maps(void **state)
{
    (void)state;
    shared *sh = calloc(1, sizeof *sh);
    assert_non_null(sh);
    build(sh);
    hm_stats before[5], after[5];
    stats_of(sh, before);

    worker w[THREADS];
    assert_int_equal(pthread_barrier_init(&sh->start, NULL, THREADS), 0);
    for (unsigned i = 0; i < THREADS; i++) {
        w[i] = (worker){.sh = sh, .id = i};
        assert_int_equal(pthread_create(&w[i].thread, NULL, reader, &w[i]), 0);
    }
    for (unsigned i = 0; i < THREADS; i++)
        assert_int_equal(pthread_join(w[i].thread, NULL), 0);
    pthread_barrier_destroy(&sh->start);

    for (unsigned i = 0; i < THREADS; i++) {
        assert_int_equal(w[i].errors, 0);
        assert_true(w[i].checks > (size_t)ROUNDS * 6 * N);
    }
    stats_of(sh, after);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(after[i].len, before[i].len);
        assert_int_equal(after[i].buckets, before[i].buckets);
        assert_int_equal(after[i].tombstones, before[i].tombstones);
        assert_int_equal(after[i].bytes, before[i].bytes);
        assert_int_equal(after[i].resizes, before[i].resizes);
        assert_int_equal(after[i].max_probe, before[i].max_probe);
    }
    hm_free(sh->u64);
    hm_free(sh->big);
    hm_free(sh->set);
    hm_free(sh->words);
    hm_free(sh->empty);
    free(sh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_readers_share_maps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
