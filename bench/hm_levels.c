/*
 * hm_levels: BENCH.md's one-key phases of u64 or flat (insert, get_hit,
 * get_miss, remove, reinsert), each run with SipHash capped at a level of
 * this build, so that one run compares how a map hashes on processors with
 * less than this one has:
 *
 *   scalar  the one-key calls hash in general registers, 8 keys at once too
 *   avx2    in a register pair with AVX2 (hm__siphash13_pair_avx2), 8 keys at
 *           once with AVX2
 *   avx512  in a register pair with AVX-512VL, 8 keys at once with AVX-512F
 *
 * The cap is the tests' (hm__sip_x8_max_level), which is why this links the
 * static library. A level the processor lacks is left out. Each repetition
 * runs every level once, in an order that rotates, each on a map of its own;
 * lookups check what they find. Output: one JSON object per level and phase,
 * the median over the repetitions, and its ratio to the first level's median
 * (the lowest asked for).
 *
 *   hm_levels [--workload u64|flat] [--items N] [--repeat R] [--levels LIST]
 *
 * LIST is comma-separated names from the table above (default: all three).
 * The insert phase grows the map, and a growth's rehash hashes 8 keys at
 * once: it compares both ways of hashing, not the one-key hash alone.
 */
#define _POSIX_C_SOURCE 200809L
#include <hashmap.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "siphash_impl.h"
#include "bench_keys.h"

enum { PHASES = 5, MAX_REPEAT = 101 };
static const char *const phase_names[PHASES] = {"insert", "get_hit", "get_miss", "remove",
                                                "reinsert"};
static const char *const level_names[HM__SIP_X8_LEVELS] = {"scalar", "avx2", "avx512"};

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("hm_levels: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* BENCH.md's keys and values: u64 key mix(i), value i; flat key mix(i), i
 * and a 32-byte value whose first 8 bytes are i. */
struct kind {
    size_t key_size, value_size;
};

static inline void make_key(const struct kind *k, uint64_t i, unsigned char *key)
{
    put_le64(key, mix(i));
    if (k->key_size == 16)
        put_le64(key + 8, i);
}

static inline void make_value(const struct kind *k, uint64_t i, unsigned char *value)
{
    memset(value, 0, k->value_size);
    put_le64(value, i);
}

/* One map through the five phases at the current cap: ns per operation. */
static void run_phases(const struct kind *k, size_t n, double ns[PHASES])
{
    hm_config c = {.key_size = k->key_size, .value_size = k->value_size};
    hm_t *m = hm_new(&c);
    if (!m)
        die("hm_new: %s", strerror(errno));
    unsigned char key[16], value[32];
    uint64_t sum = 0, want = 0, found = 0;

    uint64_t t = now_ns();
    for (size_t i = 0; i < n; i++) {
        make_key(k, i, key);
        make_value(k, i, value);
        if (hm_insert(m, key, value) != HM_OK)
            die("insert of key %zu failed", i);
    }
    ns[0] = (double)(now_ns() - t) / (double)n;

    for (size_t j = 0; j < n; j++)
        want += mix(j ^ 0x55) % n;
    t = now_ns();
    for (size_t j = 0; j < n; j++) {
        make_key(k, mix(j ^ 0x55) % n, key);
        const unsigned char *v = hm_get(m, key);
        if (v) {
            sum += get_le64(v);
            found++;
        }
    }
    ns[1] = (double)(now_ns() - t) / (double)n;
    if (found != n || sum != want)
        die("get_hit found %" PRIu64 " of %zu, value sum %" PRIu64 " for %" PRIu64, found, n,
            sum, want);

    found = 0;
    t = now_ns();
    for (size_t i = n; i < 2 * n; i++) {
        make_key(k, i, key);
        found += hm_get(m, key) != NULL;
    }
    ns[2] = (double)(now_ns() - t) / (double)n;
    if (found)
        die("get_miss found %" PRIu64 " absent keys", found);

    const size_t half = (n + 1) / 2;
    t = now_ns();
    for (size_t i = 0; i < n; i += 2) {
        make_key(k, i, key);
        if (hm_remove(m, key, NULL, NULL) != 1)
            die("remove of key %zu failed", i);
    }
    ns[3] = (double)(now_ns() - t) / (double)half;

    t = now_ns();
    for (size_t i = 0; i < n; i += 2) {
        make_key(k, i, key);
        make_value(k, i, value);
        if (hm_insert(m, key, value) != HM_OK)
            die("reinsert of key %zu failed", i);
    }
    ns[4] = (double)(now_ns() - t) / (double)half;
    if (hm_len(m) != n)
        die("%zu entries after reinsert, expected %zu", hm_len(m), n);
    hm_free(m);
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int count)
{
    qsort(v, (size_t)count, sizeof *v, by_value);
    return count % 2 ? v[count / 2] : (v[count / 2 - 1] + v[count / 2]) / 2;
}

/* Whether this build and processor run the level: the cap must give it. */
static bool level_runs(int level)
{
    hm__sip_x8_max_level = level;
    bool ok = hm__sip_pair_level() == level || level == HM__SIP_X8_SCALAR;
    hm__sip_x8_max_level = HM__SIP_X8_AVX512;
    return ok;
}

int main(int argc, char **argv)
{
    const char *workload = "u64", *levels = "scalar,avx2,avx512";
    size_t n = 1000000;
    int repeat = 5;
    for (int a = 1; a < argc; a++) {
        const char *arg = argv[a], *val = a + 1 < argc ? argv[a + 1] : NULL;
        if (!val)
            die("%s needs a value", arg);
        if (!strcmp(arg, "--workload"))
            workload = val;
        else if (!strcmp(arg, "--items"))
            n = strtoull(val, NULL, 10);
        else if (!strcmp(arg, "--repeat"))
            repeat = atoi(val);
        else if (!strcmp(arg, "--levels"))
            levels = val;
        else
            die("unknown option %s", arg);
        a++;
    }
    struct kind k;
    if (!strcmp(workload, "u64"))
        k = (struct kind){8, 8};
    else if (!strcmp(workload, "flat"))
        k = (struct kind){16, 32};
    else
        die("workload %s: u64 or flat", workload);
    if (n < 2 || repeat < 1 || repeat > MAX_REPEAT)
        die("--items at least 2, --repeat 1 to %d", MAX_REPEAT);

    int chosen[HM__SIP_X8_LEVELS], count = 0;
    for (int level = 0; level < HM__SIP_X8_LEVELS; level++) {
        const char *name = level_names[level], *at = strstr(levels, name);
        const size_t len = strlen(name);
        if (at && (at == levels || at[-1] == ',') && (at[len] == ',' || !at[len])) {
            if (level_runs(level))
                chosen[count++] = level;
            else
                fprintf(stderr, "hm_levels: %s does not run here: left out\n", name);
        }
    }
    if (!count)
        die("no level of %s runs here", levels);

    static double ns[HM__SIP_X8_LEVELS][PHASES][MAX_REPEAT];
    for (int r = 0; r < repeat; r++) {
        for (int q = 0; q < count; q++) {
            const int c = (q + r) % count; /* rotate which level goes first */
            double got[PHASES];
            hm__sip_x8_max_level = chosen[c];
            run_phases(&k, n, got);
            for (int p = 0; p < PHASES; p++)
                ns[c][p][r] = got[p];
        }
    }
    hm__sip_x8_max_level = HM__SIP_X8_AVX512;

    double first[PHASES];
    for (int c = 0; c < count; c++) {
        for (int p = 0; p < PHASES; p++) {
            const double med = median(ns[c][p], repeat);
            if (c == 0)
                first[p] = med;
            printf("{\"map\":\"libhashmap\",\"hash\":\"%s\",\"workload\":\"%s\",\"items\":%zu,"
                   "\"phase\":\"%s\",\"ns_per_op\":%.1f,\"ratio_to_%s\":%.3f}\n",
                   level_names[chosen[c]], workload, n, phase_names[p], med,
                   level_names[chosen[0]], med / first[p]);
        }
    }
    return 0;
}
