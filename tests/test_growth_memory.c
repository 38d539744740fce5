/* Growth in place: for every resize to a table of 64 MiB or more, the peak
 * resident memory of the process while it ran stays within 1.1 times the new
 * table's bytes. Growth that copied into a fresh table would hold the old and
 * the new table at once (1.5 times the new table); a copy-out first, 2 times.
 *
 * Growth only adds memory (nothing is freed during an in-place resize), so
 * the process's high-water mark read right after a resize is the peak reached
 * during it. The test is its own executable: nothing else has run in the
 * process before it. Memory figures, not times.
 *
 * Also here, as they too are about the table's own mappings: a table that
 * grows by mremap keeps its entries and its advice for huge pages, and a
 * growth that the kernel refuses (a limit on the address space, in a child
 * process) returns HM_ENOMEM and leaves the map as it was. */
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

#if defined(__linux__)
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

enum { BIG_TABLE = 64 << 20 };

/* The number on the first line of the file at `path` that `format` (one %ld,
 * such as "VmHWM: %ld kB") reads; -1 when unreadable or absent. */
static long proc_field(const char *path, const char *format)
{
    FILE *f = fopen(path, "r");
    char line[256];
    long v = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, format, &v) == 1)
            break;
    fclose(f);
    return v;
}

/* A field of /proc/self/status in kB (`format`, as for proc_field), in bytes;
 * 0 when unreadable. */
static size_t status_bytes(const char *format)
{
    long kib = proc_field("/proc/self/status", format);
    return kib > 0 ? (size_t)kib * 1024 : 0;
}

/* The process's peak resident memory (VmHWM), in bytes; 0 when unreadable. */
static size_t peak_rss(void) { return status_bytes("VmHWM: %ld kB"); }

/* The flat workload's key i, as every test here makes its keys. */
static void flat_key(uint64_t i, uint64_t key[2])
{
    key[0] = i * 0x9e3779b97f4a7c15u;
    key[1] = i;
}

struct watch {
    size_t big_resizes;
    size_t worst_permille; /* peak / new_bytes, in thousandths */
};

static void on_resize(const hm_resize_info *info, void *udata)
{
    struct watch *w = udata;
    if (info->new_bytes < BIG_TABLE)
        return;
    size_t peak = peak_rss();
    size_t permille = (size_t)((double)peak * 1000.0 / (double)info->new_bytes);
    printf("resize %zu -> %zu buckets: new table %zu bytes, peak RSS %zu bytes (%.3fx)\n",
           info->old_buckets, info->new_buckets, info->new_bytes, peak, permille / 1000.0);
    w->big_resizes++;
    if (permille > w->worst_permille)
        w->worst_permille = permille;
}

static void test_hm_insert_growth_peak_is_new_table(void **state)
{
    (void)state;
#ifdef UNDER_ASAN
    skip(); /* ASan's shadow and quarantine inflate RSS: the bound means nothing there */
#endif
    struct watch w = {0};
    /* flat's 48-byte entries; 2.5M of them grow the table through 128 MiB and
     * 256 MiB. */
    hm_config c = {.key_size = 16, .value_size = 32, .on_resize = on_resize, .udata = &w};
    hm_t *m = hm_new(&c);
    assert_non_null(m);
    uint64_t key[2], value[4] = {0};
    for (uint64_t i = 0; i < 2500000; i++) {
        flat_key(i, key);
        value[0] = i;
        assert_int_equal(hm_insert(m, key, value), HM_OK);
    }
    assert_true(w.big_resizes >= 2);
    assert_true(peak_rss() > 0);
    assert_in_range(w.worst_permille, 1, 1100);
    hm_free(m);
}

/* What /proc/self/smaps says of the mapping that holds p (one area to the
 * kernel, as smaps lists them). */
struct mapping {
    int advised;    /* VmFlags has "hg" (madvised MADV_HUGEPAGE): 1 or 0; -1: unknown */
    size_t length;  /* bytes */
    long huge_kib;  /* AnonHugePages; -1: unknown */
};

static struct mapping mapping_of(const void *p)
{
    struct mapping out = {.advised = -1, .length = 0, .huge_kib = -1};
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f)
        return out;
    char line[512];
    int inside = 0;
    const uintptr_t at = (uintptr_t)p;
    while (out.advised < 0 && fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
            inside = at >= lo && at < hi;
            if (inside)
                out.length = hi - lo;
        } else if (inside && sscanf(line, "AnonHugePages: %ld kB", &out.huge_kib) == 1) {
            continue;
        } else if (inside && strncmp(line, "VmFlags:", 8) == 0) { /* the area's last line */
            out.advised = 0;
            for (char *tok = strtok(line + 8, " \n"); tok; tok = strtok(NULL, " \n"))
                if (strcmp(tok, "hg") == 0)
                    out.advised = 1;
        }
    }
    fclose(f);
    return out;
}

/* A table that becomes a mapping of its own (2 MiB) and grows by mremap keeps
 * every entry, and is madvised for huge pages exactly when the build's
 * threshold (HASHMAP_HUGE_PAGE_MIN_MIB, passed here as HM_HUGE_PAGE_MIN_MIB)
 * says: yes at the default 2 MiB and in CI's clang build at 16 MiB, no in a
 * build with 0. The advice is given to and taken back from the whole mapping,
 * never part of it: the table stays one area to the kernel, which its next
 * mremap needs.
 * Unlike the test above this one runs under the sanitizers too. */
static void test_hm_insert_mapped_growth_keeps_entries(void **state)
{
    (void)state;
    const uint64_t n = 400000; /* 2^19 buckets of 49 bytes: 24.5 MiB */
    hm_config c = {.key_size = 16, .value_size = 32};
    hm_t *m = hm_new(&c);
    assert_non_null(m);
    uint64_t key[2], value[4] = {0};
    for (uint64_t i = 0; i < n; i++) {
        flat_key(i, key);
        value[0] = i;
        value[3] = ~i;
        assert_int_equal(hm_insert(m, key, value), HM_OK);
    }
    assert_true(hm_buckets(m) * 49 > (size_t)16 << 20);
    assert_int_equal(hm_len(m), n);
#if defined(__linux__) && defined(HM_HUGE_PAGE_MIN_MIB)
    {
        hm_stats st;
        hm_get_stats(m, &st);
        key[0] = 0;
        key[1] = 0;
        const void *slot = hm_get(m, key);
        assert_non_null(slot);
        FILE *thp = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
        const size_t min_mib = HM_HUGE_PAGE_MIN_MIB; /* a variable: no always-true warning at 0 */
        bool want = thp && min_mib > 0 && st.bytes >= min_mib << 20;
        if (thp)
            fclose(thp);
        struct mapping area = mapping_of(slot);
        printf("table of %zu bytes in an area of %zu: MADV_HUGEPAGE %s (threshold %d MiB)\n",
               st.bytes, area.length,
               area.advised == 1 ? "set" : area.advised == 0 ? "not set" : "unknown",
               HM_HUGE_PAGE_MIN_MIB);
        if (area.advised >= 0) {
            assert_int_equal(area.advised, want);
            assert_true(area.length >= hm_buckets(m) * 49); /* every slot and control byte */
        }
    }
#endif
    for (uint64_t i = 0; i < n; i++) {
        flat_key(i, key);
        const uint64_t *v = hm_get(m, key);
        assert_non_null(v);
        assert_int_equal(v[0], i);
        assert_int_equal(v[3], ~i);
    }
    hm_free(m);
}

/* Whether this build's threshold is within reach of a test (the default 2 MiB,
 * CI's clang build 16 MiB). */
#if defined(__linux__) && defined(HM_HUGE_PAGE_MIN_MIB) && HM_HUGE_PAGE_MIN_MIB > 0 && \
    HM_HUGE_PAGE_MIN_MIB <= 32
#define THRESHOLD_IN_REACH 1
#else
#define THRESHOLD_IN_REACH 0
#endif

#if THRESHOLD_IN_REACH
struct crossing {
    hm_t *m;
    uint64_t key[2];       /* a key inserted first, to find the table by */
    long fallback;         /* thp_fault_fallback at the resize before */
    bool seen, fell_back;  /* the growth past the threshold; a huge fault failed in it */
    struct mapping table;  /* the table's mapping right after it */
};

static void on_crossing(const hm_resize_info *info, void *udata)
{
    struct crossing *x = udata;
    const size_t threshold = (size_t)HM_HUGE_PAGE_MIN_MIB << 20;
    long fallback = proc_field("/proc/vmstat", "thp_fault_fallback %ld");
    if (!x->seen && info->new_bytes >= threshold) {
        const void *slot = hm_get(x->m, x->key);
        x->seen = true;
        x->fell_back = fallback < 0 || fallback != x->fallback;
        if (slot)
            x->table = mapping_of(slot);
    }
    x->fallback = fallback;
}

/* The doubling that takes a table past the threshold gives it the advice for
 * huge pages before it faults in the new half: right after it, where
 * transparent huge pages are given to madvised memory only, the table is
 * advised and holds huge pages already, unless the kernel had none to give
 * (its count of huge faults that fell back to small pages moved during the
 * growth). Before, the advice came after the growth had faulted the new half
 * in on small pages, for khugepaged to merge them later. Only in a build
 * whose threshold is small enough to reach here (2 MiB by default, CI's
 * clang build 16 MiB). */
static void test_growth_past_threshold_faults_huge_pages(void **state)
{
    (void)state;
    char mode[128] = "";
    FILE *thp = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (thp) {
        if (!fgets(mode, sizeof mode, thp))
            mode[0] = '\0';
        fclose(thp);
    }
    if (!strstr(mode, "[madvise]"))
        skip(); /* no THP, or THP for all memory: nothing to tell apart */
    struct crossing x = {.fallback = -1, .table = {.advised = -1, .huge_kib = -1}};
    hm_config c = {.key_size = 16, .value_size = 32, .on_resize = on_crossing, .udata = &x};
    x.m = hm_new(&c);
    assert_non_null(x.m);
    uint64_t value[4] = {0};
    assert_int_equal(hm_insert(x.m, x.key, value), HM_OK);
    for (uint64_t i = 1; !x.seen; i++) {
        uint64_t key[2];
        flat_key(i, key);
        assert_int_equal(hm_insert(x.m, key, value), HM_OK);
    }
    printf("past %d MiB: AnonHugePages %ld kB, MADV_HUGEPAGE %s, huge faults %s\n",
           HM_HUGE_PAGE_MIN_MIB, x.table.huge_kib, x.table.advised == 1 ? "set" : "not set",
           x.fell_back ? "fell back (not checked)" : "all given");
    assert_int_equal(x.table.advised, 1);
    if (!x.fell_back)
        assert_true(x.table.huge_kib > 0);
    hm_free(x.m);
}
#endif

#if defined(__linux__)
/* How refused_growth's table came to its size: by doublings, each of which
 * faults its new half in and then advises it for huge pages; sized at
 * hm_new(); or by one hm_reserve() far past the entries. The last two are
 * never faulted in whole, so never advised. */
enum table_origin { DOUBLED, SIZED, RESERVED };

/* Run in a child process. A flat map filled until its next new key must grow
 * a table of `buckets`, whose growth a limit on the address space then
 * refuses. Returns 0 when that insert returned HM_ENOMEM and left the map as
 * it was (length, buckets, every entry; in a build whose huge-page threshold
 * the table passes, advised for huge pages if it was before, the advice taken
 * back for the growth being given again, and not advised if it was not), and
 * the same insert succeeded, doubling the table, once the limit was lifted;
 * else the number of the check that failed. */
static int refused_growth(size_t buckets, enum table_origin origin)
{
    hm_config c = {.key_size = 16,
                   .value_size = 32,
                   .capacity = origin == SIZED ? buckets / 8 * 7 : 0};
    hm_t *m = hm_new(&c);
    uint64_t key[2], value[4] = {0}, n = 0;
    if (!m)
        return 1;
    /* A small table first, so that the reserve grows it (table_grow). */
    if (origin == RESERVED &&
        (hm_reserve(m, 1) != HM_OK || hm_reserve(m, buckets / 8 * 7) != HM_OK))
        return 15;
    if (origin != DOUBLED && hm_buckets(m) != buckets)
        return 14;
    while (hm_buckets(m) < buckets || hm_len(m) < hm_capacity(m)) {
        flat_key(n, key);
        value[0] = n;
        if (hm_insert(m, key, value) != HM_OK)
            return 2;
        n++;
    }
    if (hm_buckets(m) != buckets)
        return 3;

    /* Room for 1 MiB more: less than any table of these sizes grows by. */
    struct rlimit old, tight;
    if (getrlimit(RLIMIT_AS, &old) != 0)
        return 4;
    tight = old;
    tight.rlim_cur = status_bytes("VmSize: %ld kB") + ((size_t)1 << 20);
    if (tight.rlim_cur <= ((size_t)1 << 20) ||
        (old.rlim_max != RLIM_INFINITY && tight.rlim_cur > old.rlim_max))
        return 5;
    if (setrlimit(RLIMIT_AS, &tight) != 0)
        return 6;
    flat_key(n, key);
    value[0] = n;
    int rc = hm_insert(m, key, value);
    if (setrlimit(RLIMIT_AS, &old) != 0)
        return 7;
    if (rc != HM_ENOMEM)
        return 8;
    if (hm_len(m) != n || hm_buckets(m) != buckets || hm_get(m, key))
        return 9;
    for (uint64_t i = 0; i < n; i++) {
        flat_key(i, key);
        const uint64_t *v = hm_get(m, key);
        if (!v || v[0] != i)
            return 10;
    }
#if THRESHOLD_IN_REACH
    hm_stats st;
    hm_get_stats(m, &st);
    flat_key(0, key);
    const int advised = mapping_of(hm_get(m, key)).advised; /* -1: smaps unreadable */
    if (st.bytes >= (size_t)HM_HUGE_PAGE_MIN_MIB << 20 && advised >= 0 &&
        advised != (origin == DOUBLED))
        return 11;
#endif

    flat_key(n, key);
    value[0] = n;
    if (hm_insert(m, key, value) != HM_OK || hm_buckets(m) != 2 * buckets || hm_len(m) != n + 1)
        return 12;
    for (uint64_t i = 0; i <= n; i++) {
        flat_key(i, key);
        const uint64_t *v = hm_get(m, key);
        if (!v || v[0] != i)
            return 13;
    }
    hm_free(m);
    return 0;
}

/* A growth that the kernel refuses, as a limit on the address space makes it
 * refuse mmap and mremap, is HM_ENOMEM and loses nothing, both where the
 * table becomes a mapping of its own (2^15 buckets, 1.6 MB, to 3.2 MB) and
 * where a mapping grows by mremap (2^17, 6.4 MB). In a build whose huge-page
 * threshold is within reach (the default 2 MiB, CI's clang build 16 MiB),
 * also a mapping past it (2^19, 25 MiB), whose growth takes back the advice
 * for huge pages before its mremap and must give it again when that fails,
 * and the same table sized at creation or grown by hm_reserve, which never had
 * the advice and must not get it from the failure. Each in a child process, whose limit cannot touch the
 * test runner. */
static void test_hm_insert_refused_growth_keeps_map(void **state)
{
    (void)state;
#ifdef UNDER_ASAN
    skip(); /* ASan reserves terabytes of address space: any such limit stops it */
#endif
    static const char *const origin_names[] = {"", " (sized at creation)",
                                               " (grown by hm_reserve)"};
    const struct {
        size_t buckets;
        enum table_origin origin;
    } cases[] = {{(size_t)1 << 15, DOUBLED},
                 {(size_t)1 << 17, DOUBLED},
                 {(size_t)1 << 19, DOUBLED},
                 {(size_t)1 << 19, SIZED},
                 {(size_t)1 << 19, RESERVED}};
    const size_t count = THRESHOLD_IN_REACH ? 5 : 2;
    for (size_t k = 0; k < count; k++) {
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
            _exit(refused_growth(cases[k].buckets, cases[k].origin));
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        printf("growth from %zu buckets%s refused: child %s %d\n", cases[k].buckets,
               origin_names[cases[k].origin],
               WIFEXITED(status) ? "exited with" : "killed by signal",
               WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hm_insert_growth_peak_is_new_table),
        cmocka_unit_test(test_hm_insert_mapped_growth_keeps_entries),
#if THRESHOLD_IN_REACH
        cmocka_unit_test(test_growth_past_threshold_faults_huge_pages),
#endif
#if defined(__linux__)
        cmocka_unit_test(test_hm_insert_refused_growth_keeps_map),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
