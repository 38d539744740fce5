/*
 * hm_bench: the workloads of docs/BENCH.md (seed, flat, u64 and the scale sweep)
 * run against libhashmap, each beside its "floor".
 *
 * Usage: hm_bench [--workload seed|flat|u64|sweep|all] [--items N] [--repeat R]
 *                 [--max-load X] [--seed HEX32] [--text] [--no-floor] [--batched]
 *                 [--strace-marks] [-h | --help]
 * (hm_bench --help says more.)
 *
 * Output: JSON lines on stdout, one object per line, every value a string or a
 * number; the keys always come in the order shown.
 *
 *  A phase, for map "libhashmap", "floor", "floor-serial" and (seed) "strings":
 *    {"map":"libhashmap","workload":"flat","items":1000000,"phase":"insert",
 *     "ns_per_op":31.200,"peak_rss_bytes":123456789}
 *    workload: "seed", "flat", "u64", or "sweep" (flat's phases at each N of
 *    the sweep; its own name so that `all` never prints one key twice).
 *    phase: seed: "insert" (per insert, making the strings included), "free"
 *    (hm_free of the map with its strings, per entry); flat, u64 and sweep:
 *    "insert", "get_hit", "get_many" (get_hit's keys in batches of 32 through
 *    hm_get_many; libhashmap only, no peer has it), "get_miss", "remove"
 *    (per removal, N/2 of them), "reinsert" (N/2), "iterate" (per entry, through
 *    hm_iter_many in batches of up to 64).
 *    With --batched the map is "libhashmap-batched" and the phases of flat,
 *    u64 and sweep are "insert" (insert's keys and values in batches of 32
 *    through hm_insert_many, the map growing from empty as insert's does),
 *    "get_hit" and "get_miss" (their keys in batches of 32 through
 *    hm_get_many), "remove" (remove's keys in batches of 32 through
 *    hm_remove_many) and "reinsert" (reinsert's keys in batches of 32 through
 *    hm_insert_many), with no floor. seed's "insert" makes the same strings
 *    32 pairs at a time and hands each 32 to hm_insert_many, which grows the
 *    map before it inserts them (the first call takes it from 16 buckets to
 *    64, the others double it; a resize's at_item is then the count once that
 *    call is done); "free" as without --batched. A process of its own, as a
 *    peer's is, so that compare.sh runs it in turn with the others: each
 *    run's growth then meets the host's memory in the same state as theirs.
 *    ns_per_op: the median over --repeat runs. The clock stops while the
 *    bench's own on_resize hook reads /proc (see below): that is
 *    instrumentation the peers do not carry, and at small N it would be most
 *    of an insert phase.
 *    peak_rss_bytes: the highest VmHWM from the start of the map's run (or of
 *    the floor's) to the end of the phase, the largest over the runs. The
 *    runs of flat, u64 and sweep follow one another in this process, as a
 *    peer's do in its own; each run of seed, the map's and then its floor, is
 *    a child process of its own (see run_forked). The bench resets VmHWM
 *    (echo 5 > /proc/self/clear_refs) at the start of each run and after each
 *    resize, and keeps the maximum of what it read before each reset, so this
 *    is the peak of that run alone. Where the reset is refused it is the
 *    process's VmHWM.
 *
 *  A resize of the map (through hm_config.on_resize; libhashmap's, or with
 *  --batched seed's libhashmap-batched), after the phase lines of its workload:
 *    {"map":"libhashmap","workload":"seed","items":10000000,"phase":"resize",
 *     "index":19,"during":"insert","at_item":734004,"old_buckets":1048576,
 *     "new_buckets":2097152,"entry_size":48,"new_bytes":102760464,
 *     "len":734003,"ns":52345678,"peak_rss_bytes":345678901,
 *     "rss_bytes":234567890,"peak_scope":"resize"}
 *    index: 0-based, in the order of the resizes. during: the phase that grew
 *    the map. at_item: the number of items in the map once the insert that
 *    triggered the resize is done (i + 1 for the 0-based insert i).
 *    old_buckets 0 is the first table of a map created empty.
 *    entry_size, new_bytes, len: from hm_resize_info (len before that insert).
 *    ns: hm_resize_info.nanoseconds, the median over the runs.
 *    peak_rss_bytes: VmHWM read in the callback, right after the resize; with
 *    peak_scope "resize" it was reset after the previous resize (or at the
 *    start of the run), and as RSS between two resizes only grows, it is the
 *    peak reached during this resize (old and new table both resident, if the
 *    resize copies); with peak_scope "process" the reset was refused and it
 *    is the process's VmHWM. With peak_scope "none", for a new table under
 *    1 MiB (PROC_READ_MIN_TABLE), nothing was read and both figures are 0.
 *    rss_bytes: VmRSS read in the callback (the old table freed).
 *    Both are the largest over the runs.
 *
 * The floor, measured in the same process after each run of the map: per
 * operation of a phase, SipHash-1-3 of the same keys (made the same way; for
 * seed "key_{i}" in a stack buffer plus the 0xff byte, no heap string) plus
 * one read of a random cache line in a buffer of the table's size
 * (new_bytes of its last resize) cut into as many slots as the table has
 * buckets. Keys are made 32 at a time, each in a buffer of its own, and
 * hashed (SipHash inlined from a start state, as the library hashes keys of
 * 8 and 16 bytes) before their lines are read, so that the hashes and the
 * reads overlap as far as the machine allows: what no table can beat. For
 * "iterate" and "free", which hash nothing, it is one sequential pass over
 * that buffer, per entry. A miss ("get_miss") may need only a table's control
 * bytes, a fraction of the table, and can come closer to its floor.
 *
 * "floor-serial" is the same floor one key at a time (hash a key, read its
 * line, then the next key), as a caller of a one-key function such as hm_get
 * or hm_insert makes the calls; only the processor's own look-ahead overlaps
 * the reads. It is measured for the phases that go one key at a time (not
 * get_many, iterate or free).
 *
 * "strings", for seed only (with the floor): the workload's strings made and
 * freed with no map, their handles kept in an array allocated up front
 * (strings_seed). Its insert is the share of a seed insert that is the
 * workload's own, the same for every map. Its free frees the strings in the
 * order they were made, where a map frees them in its table's order, which
 * is random against that one: no share of a map's free, only a bound.
 *
 * --text prints to stderr, for every resize, the seed experiment's block
 *   Resize Stats:
 *     Old capacity: 1048576, New capacity: 2097152
 *     Entry size: 48 bytes
 *     New vec size: 100663296 bytes          (new_buckets * entry_size)
 *     Current size (items): 734004           (at_item)
 * then its time, the table's bytes with metadata and the peak RSS, and a
 * summary table at the end. Blocks are printed after a workload's runs (with
 * the median time), never while the clock runs.
 *
 * Exit status: 0, 1 when the map fails or gives a wrong answer, 2 on bad usage.
 */
#define _GNU_SOURCE /* getrandom, madvise, clock_gettime under -std=c11 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hashmap.h"
#include "siphash_impl.h" /* src/: the floor hashes as the library does */
#include "bench_keys.h"   /* BENCH.md's keys: mix, put_le64, get_le64 */

#ifndef HM_BENCH_BUILD_TYPE
#define HM_BENCH_BUILD_TYPE ""
#endif

/* For a function that takes a workload's kind: inlined where the kind is a
 * constant, it gets a copy for that kind (see run_fixed). */
#if defined(__GNUC__)
#define PER_KIND static inline __attribute__((always_inline))
#else
#define PER_KIND static inline
#endif

enum { MAX_REPEAT = 100, MAX_PHASES = 12, MAX_RESIZES = 64, MAX_BLOCKS = 16, BATCH = 32,
       ITER_BATCH = 64 };

/* The library's documented default, needed to size the seed map's first table. */
#define LIB_DEFAULT_MAX_LOAD 0.875

/* ---- small helpers ------------------------------------------------------- */

static void die(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("hm_bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(status);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Nanoseconds spent in the bench's own on_resize hook (reading
 * /proc/self/status, resetting VmHWM): instrumentation, not map work. */
static uint64_t g_hook_ns;

/* The clock that phases are timed with: now_ns() stopped while the hook runs,
 * so that a map's phase time holds what the map did and the peers, which have
 * no such hook, are timed on the same terms. */
static uint64_t phase_clock(void) { return now_ns() - g_hook_ns; }

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *v, unsigned n)
{
    double s[MAX_REPEAT];
    memcpy(s, v, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* Keeps the floor's reads from being optimised away. */
static volatile uint64_t g_sink;

/* ---- resident memory ----------------------------------------------------- */

struct mem {
    uint64_t hwm, rss; /* bytes */
};

static uint64_t status_field(const char *buf, const char *name)
{
    const char *p = strstr(buf, name);
    return p ? strtoull(p + strlen(name), NULL, 10) * 1024 : 0;
}

/* open/read rather than stdio: no allocation, so no mapping call of our own
 * shows up among the library's under strace. */
static struct mem read_mem(void)
{
    struct mem m = {0, 0};
    char buf[8192];
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return m;
    size_t got = 0;
    ssize_t r;
    while (got < sizeof buf - 1 && (r = read(fd, buf + got, sizeof buf - 1 - got)) > 0)
        got += (size_t)r;
    close(fd);
    buf[got] = '\0';
    m.hwm = status_field(buf, "VmHWM:");
    m.rss = status_field(buf, "VmRSS:");
    return m;
}

static bool g_hwm_reset_ok;
static uint64_t g_run_peak; /* the highest VmHWM read since the run started */

static bool hwm_reset(void)
{
    int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = write(fd, "5", 1) == 1;
    close(fd);
    return ok;
}

static void note_peak(uint64_t hwm)
{
    if (hwm > g_run_peak)
        g_run_peak = hwm;
}

static void run_peak_start(void)
{
#ifdef __GLIBC__
    /* Hand back what the map freed before the floor runs, so that the
     * floor's peak is its own. */
    (void)malloc_trim(0);
#endif
    if (g_hwm_reset_ok)
        (void)hwm_reset();
    g_run_peak = 0;
    note_peak(read_mem().hwm);
}

static uint64_t run_peak_now(void)
{
    note_peak(read_mem().hwm);
    return g_run_peak;
}

/* ---- options ------------------------------------------------------------- */

enum workload { W_SEED, W_FLAT, W_U64, W_SWEEP, W_ALL };
static const char *const workload_names[] = {"seed", "flat", "u64", "sweep", "all"};

struct options {
    enum workload workload;
    size_t items; /* 0: each workload's default */
    unsigned repeat;
    double max_load; /* 0: the library's default */
    bool fixed_seed;
    uint8_t seed[16];
    bool text, floor, marks, batched;
};

static void usage(FILE *out)
{
    fputs("usage: hm_bench [options]\n"
          "Runs docs/BENCH.md's workloads on libhashmap; JSON lines on stdout.\n"
          "  --workload W   seed, flat, u64, sweep or all (default seed)\n"
          "  --items N      items per map (seed 10000000, flat and u64 1000000);\n"
          "                 for sweep the largest N of 1e3..1e7 (default 1e7).\n"
          "                 Digits, or a form like 1e6.\n"
          "  --repeat R     runs of each workload, 1..100; the median is reported (default 1)\n"
          "  --max-load X   the maps' max_load, in (0, 1) (default: the library's, 0.875)\n"
          "  --seed HEX     32 hex digits: a fixed SipHash key (byte 0 first) for every map,\n"
          "                 for reproducible tables (default: 16 random bytes per map)\n"
          "  --text         print the Resize Stats blocks and a summary on stderr\n"
          "  --no-floor     skip the floor measurements (and seed's strings line)\n"
          "  --batched      as map libhashmap-batched, with no floor: flat, u64 and sweep\n"
          "                 through hm_insert_many, hm_get_many and hm_remove_many\n"
          "                 (every phase but get_many and iterate), seed's inserts\n"
          "                 through hm_insert_many\n"
          "  --strace-marks mark the seed's insert phase and each resize with a\n"
          "                 madvise(NULL, 0, MADV_NORMAL) call, for the strace test\n"
          "  -h, --help     this text\n",
          out);
}

static void bad_usage(const char *fmt, const char *arg)
{
    fputs("hm_bench: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n(hm_bench --help lists the options)\n", stderr);
    exit(2);
}

static bool parse_count(const char *s, uint64_t max, uint64_t *out)
{
    if (*s < '0' || *s > '9')
        return false;
    uint64_t v = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (v > (max - (uint64_t)(*s - '0')) / 10)
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s < '0' || *s > '9' || s[1] != '\0')
            return false;
        for (int e = *s - '0'; e > 0; e--) {
            if (v > max / 10)
                return false;
            v *= 10;
        }
        s++;
    }
    if (*s != '\0')
        return false;
    *out = v;
    return true;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static void parse_args(int argc, char **argv, struct options *o)
{
    *o = (struct options){.workload = W_SEED, .repeat = 1, .floor = true};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *val = NULL;
        char name[32];
        const char *eq = strchr(arg, '=');
        size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
        if (len >= sizeof name)
            bad_usage("unknown option '%s'", arg);
        memcpy(name, arg, len);
        name[len] = '\0';

        bool takes_value = !strcmp(name, "--workload") || !strcmp(name, "--items") ||
                           !strcmp(name, "--repeat") || !strcmp(name, "--max-load") ||
                           !strcmp(name, "--seed");
        if (takes_value) {
            if (eq)
                val = eq + 1;
            else if (i + 1 < argc)
                val = argv[++i];
            else
                bad_usage("%s needs a value", name);
        } else if (eq) {
            bad_usage("%s takes no value", name);
        }

        if (!strcmp(name, "-h") || !strcmp(name, "--help")) {
            usage(stdout);
            exit(0);
        } else if (!strcmp(name, "--workload")) {
            size_t w = 0;
            while (w <= W_ALL && strcmp(val, workload_names[w]))
                w++;
            if (w > W_ALL)
                bad_usage("unknown workload '%s' (seed, flat, u64, sweep or all)", val);
            o->workload = (enum workload)w;
        } else if (!strcmp(name, "--items")) {
            uint64_t n;
            /* Beyond 4e9 items the tables alone outgrow any machine of this kind. */
            if (!parse_count(val, 4000000000u, &n) || n == 0)
                bad_usage("--items wants a whole number from 1 to 4e9, not '%s'", val);
            o->items = (size_t)n;
        } else if (!strcmp(name, "--repeat")) {
            uint64_t r;
            if (!parse_count(val, MAX_REPEAT, &r) || r == 0)
                bad_usage("--repeat wants a whole number from 1 to 100, not '%s'", val);
            o->repeat = (unsigned)r;
        } else if (!strcmp(name, "--max-load")) {
            char *end;
            errno = 0;
            double x = strtod(val, &end);
            if (end == val || *end != '\0' || errno || !(x > 0 && x < 1))
                bad_usage("--max-load wants a number strictly between 0 and 1, not '%s'", val);
            o->max_load = x;
        } else if (!strcmp(name, "--seed")) {
            if (strlen(val) != 32)
                bad_usage("--seed wants exactly 32 hex digits, not '%s'", val);
            for (int k = 0; k < 16; k++) {
                int hi = hex_digit(val[2 * k]), lo = hex_digit(val[2 * k + 1]);
                if (hi < 0 || lo < 0)
                    bad_usage("--seed wants exactly 32 hex digits, not '%s'", val);
                o->seed[k] = (uint8_t)(hi << 4 | lo);
            }
            o->fixed_seed = true;
        } else if (!strcmp(name, "--text")) {
            o->text = true;
        } else if (!strcmp(name, "--no-floor")) {
            o->floor = false;
        } else if (!strcmp(name, "--batched")) {
            o->batched = true;
        } else if (!strcmp(name, "--strace-marks")) {
            o->marks = true;
        } else {
            bad_usage("unknown option '%s'", arg);
        }
    }
}

/* ---- results ------------------------------------------------------------- */

struct resize_rec {
    size_t old_buckets, new_buckets, entry_size, new_bytes, len, at_item;
    const char *during;
    uint64_t ns, peak, rss;
    bool read; /* peak and rss were read (see PROC_READ_MIN_TABLE) */
};

struct series {
    double ns[MAX_REPEAT]; /* per operation, one per run */
    uint64_t peak;
};

/* One workload at one N: every run's figures. */
struct block {
    const char *map; /* "libhashmap", or "libhashmap-batched" */
    const char *workload;
    size_t items;
    const char *const *phases;
    size_t nphases;
    unsigned runs;
    bool floor;
    struct series lib[MAX_PHASES], flr[MAX_PHASES];
    struct series serial[MAX_PHASES]; /* the floor one key at a time */
    bool has_serial[MAX_PHASES];
    struct series strs[MAX_PHASES]; /* seed: its strings without a map */
    bool has_strs;
    size_t nresizes;
    struct resize_rec resizes[MAX_RESIZES]; /* run 0's, peaks the largest of all runs */
    double resize_ns[MAX_RESIZES][MAX_REPEAT];
};

static struct block *g_blocks[MAX_BLOCKS];
static size_t g_nblocks;

/* What the map's callbacks share, through hm_config.udata. */
struct bench_ctx {
    uint8_t seed[16];
    size_t item;       /* items in the map once the insert in progress is done */
    const char *phase; /* the phase in progress */
    bool marks;
    size_t nrecs;
    bool overflow;
    struct resize_rec recs[MAX_RESIZES];
};

/* A call that strace -e trace=memory shows and that nothing else makes. */
static void strace_mark(void) { (void)madvise(NULL, 0, MADV_NORMAL); }

/*
 * The smallest new table (hm_resize_info.new_bytes) whose resize the hook reads
 * /proc for. The clock stops while the hook runs, but what the reading and the
 * reset do to the caches does not. At 1,000 entries, where 8 resizes of
 * tables under 64 KiB fall in an insert phase of some 60 us, libhashmap's
 * inserts took 0.980x (u64) and 0.973x (flat) the time once the hook read
 * from 1 MiB on rather than at every resize, 0.991x at 10,000 (u64; ten and
 * six rounds, the two hm_bench alternated, pinned): a cost the peers, which
 * have no hook, never paid. Below 1 MiB the process is most of the figure; the
 * phase's peak (read once the phase's clock has stopped) still covers these
 * resizes, since VmHWM is only reset after a resize that was read.
 */
enum { PROC_READ_MIN_TABLE = 1 << 20 };

static void on_resize(const hm_resize_info *info, void *udata)
{
    uint64_t start = now_ns();
    struct bench_ctx *ctx = udata;
    if (ctx->marks)
        strace_mark();
    const bool read = info->new_bytes >= PROC_READ_MIN_TABLE;
    struct mem m = {0};
    if (read) {
        m = read_mem();
        note_peak(m.hwm);
    }
    if (ctx->nrecs == MAX_RESIZES) {
        ctx->overflow = true;
    } else {
        ctx->recs[ctx->nrecs++] = (struct resize_rec){
            .old_buckets = info->old_buckets,
            .new_buckets = info->new_buckets,
            .entry_size = info->entry_size,
            .new_bytes = info->new_bytes,
            .len = info->len,
            .at_item = ctx->item,
            .during = ctx->phase,
            .ns = info->nanoseconds,
            .peak = m.hwm,
            .rss = m.rss,
            .read = read,
        };
    }
    if (read && g_hwm_reset_ok)
        (void)hwm_reset();
    g_hook_ns += now_ns() - start;
}

static void draw_seed(struct bench_ctx *ctx, const struct options *o)
{
    if (o->fixed_seed) {
        memcpy(ctx->seed, o->seed, 16);
        return;
    }
    size_t got = 0;
    while (got < 16) {
        ssize_t r = getrandom(ctx->seed + got, 16 - got, 0);
        if (r < 0 && errno != EINTR)
            die(1, "getrandom: %s", strerror(errno));
        if (r > 0)
            got += (size_t)r;
    }
}

static void ctx_start(struct bench_ctx *ctx, const struct options *o)
{
    ctx->item = 0;
    ctx->phase = "new";
    ctx->marks = o->marks;
    ctx->nrecs = 0;
    ctx->overflow = false;
    draw_seed(ctx, o);
}

/* Folds run r's resizes into the block. */
static void collect_resizes(struct block *b, const struct bench_ctx *ctx, unsigned r)
{
    if (ctx->overflow)
        die(1, "%s N=%zu: more than %d resizes", b->workload, b->items, MAX_RESIZES);
    if (r == 0) {
        b->nresizes = ctx->nrecs;
        memcpy(b->resizes, ctx->recs, ctx->nrecs * sizeof ctx->recs[0]);
    } else if (ctx->nrecs != b->nresizes) {
        die(1, "%s N=%zu: run %u resized %zu times, run 1 %zu times", b->workload, b->items,
            r + 1, ctx->nrecs, b->nresizes);
    }
    for (size_t k = 0; k < ctx->nrecs; k++) {
        const struct resize_rec *c = &ctx->recs[k];
        struct resize_rec *d = &b->resizes[k];
        if (c->old_buckets != d->old_buckets || c->new_buckets != d->new_buckets)
            die(1, "%s N=%zu: resize %zu differs between runs", b->workload, b->items, k);
        if (c->peak > d->peak)
            d->peak = c->peak;
        if (c->rss > d->rss)
            d->rss = c->rss;
        b->resize_ns[k][r] = (double)c->ns;
    }
}

static struct block *new_block(const char *workload, size_t items, const char *const *phases,
                               size_t nphases, const struct options *o)
{
    if (g_nblocks == MAX_BLOCKS)
        die(1, "too many workloads in one run");
    struct block *b = calloc(1, sizeof *b);
    if (!b)
        die(1, "out of memory");
    b->map = o->batched ? "libhashmap-batched" : "libhashmap";
    b->workload = workload;
    b->items = items;
    b->phases = phases;
    b->nphases = nphases;
    b->runs = o->repeat;
    b->floor = o->floor && !o->batched;
    g_blocks[g_nblocks++] = b;
    return b;
}

static void record(struct series *s, unsigned run, uint64_t ns, size_t ops, uint64_t peak)
{
    s->ns[run] = (double)ns / (double)(ops ? ops : 1);
    if (peak > s->peak)
        s->peak = peak;
}

/* Stops the clock, then reads the peak: as arguments of one call the two
 * could be evaluated in either order (gcc takes the last first), and reading
 * /proc/self/status inside the timed span adds tens of microseconds to it,
 * which at N = 1000 is tens of nanoseconds per operation. */
static void record_since(struct series *s, unsigned run, uint64_t start, size_t ops)
{
    uint64_t ns = phase_clock() - start;
    record(s, run, ns, ops, run_peak_now());
}

static void print_phase(const char *map, const struct block *b, size_t p, const struct series *s)
{
    printf("{\"map\":\"%s\",\"workload\":\"%s\",\"items\":%zu,\"phase\":\"%s\","
           "\"ns_per_op\":%.3f,\"peak_rss_bytes\":%" PRIu64 "}\n",
           map, b->workload, b->items, b->phases[p], median(s->ns, b->runs), s->peak);
}

static double mib(uint64_t bytes) { return (double)bytes / (1024.0 * 1024.0); }

/* What a resize line's peak_rss_bytes covers (see the top of this file). */
static const char *peak_scope(const struct resize_rec *r)
{
    return !r->read ? "none" : g_hwm_reset_ok ? "resize" : "process";
}

static void print_block(const struct block *b, const struct options *o)
{
    for (size_t p = 0; p < b->nphases; p++)
        print_phase(b->map, b, p, &b->lib[p]);
    for (size_t k = 0; k < b->nresizes; k++) {
        const struct resize_rec *r = &b->resizes[k];
        printf("{\"map\":\"%s\",\"workload\":\"%s\",\"items\":%zu,\"phase\":\"resize\","
               "\"index\":%zu,\"during\":\"%s\",\"at_item\":%zu,\"old_buckets\":%zu,"
               "\"new_buckets\":%zu,\"entry_size\":%zu,\"new_bytes\":%zu,\"len\":%zu,"
               "\"ns\":%.0f,\"peak_rss_bytes\":%" PRIu64 ",\"rss_bytes\":%" PRIu64
               ",\"peak_scope\":\"%s\"}\n",
               b->map, b->workload, b->items, k, r->during, r->at_item, r->old_buckets,
               r->new_buckets, r->entry_size, r->new_bytes, r->len,
               median(b->resize_ns[k], b->runs), r->peak, r->rss, peak_scope(r));
    }
    if (b->floor) {
        for (size_t p = 0; p < b->nphases; p++)
            print_phase("floor", b, p, &b->flr[p]);
        for (size_t p = 0; p < b->nphases; p++)
            if (b->has_serial[p])
                print_phase("floor-serial", b, p, &b->serial[p]);
        if (b->has_strs)
            for (size_t p = 0; p < b->nphases; p++)
                print_phase("strings", b, p, &b->strs[p]);
    }
    fflush(stdout);

    if (!o->text)
        return;
    for (size_t k = 0; k < b->nresizes; k++) {
        const struct resize_rec *r = &b->resizes[k];
        fprintf(stderr,
                "Resize Stats:\n"
                "  Old capacity: %zu, New capacity: %zu\n"
                "  Entry size: %zu bytes\n"
                "  New vec size: %zu bytes\n"
                "  Current size (items): %zu\n"
                "  Resize time: %.3f ms\n"
                "  New table: %zu bytes (control bytes included)\n",
                r->old_buckets, r->new_buckets, r->entry_size, r->new_buckets * r->entry_size,
                r->at_item, median(b->resize_ns[k], b->runs) / 1e6, r->new_bytes);
        if (r->read)
            fprintf(stderr, "  Peak RSS %s: %.1f MiB (VmRSS after it: %.1f MiB)\n",
                    g_hwm_reset_ok ? "during the resize" : "of the process so far",
                    mib(r->peak), mib(r->rss));
        else
            fprintf(stderr, "  Peak RSS: not read (a table under %d KiB)\n",
                    PROC_READ_MIN_TABLE / 1024);
    }
}

/* A line before each run, so that a long one does not look hung. */
static void progress(const struct options *o, const char *workload, size_t n, unsigned r)
{
    if (o->text)
        fprintf(stderr, "%s: %zu items, run %u of %u%s\n", workload, n, r + 1, o->repeat,
                o->floor ? ", then its floor" : "");
}

static void write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            die(1, "writing to the parent: %s", strerror(errno));
        p += w;
        len -= (size_t)w;
    }
}

static size_t read_all(int fd, void *buf, size_t len)
{
    char *p = buf;
    size_t got = 0;
    while (got < len) {
        ssize_t r = read(fd, p + got, len - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    return got;
}

/*
 * Runs run r of seed (the map, then its floor) in a child process, so that
 * every run starts from the same small heap. In one process, the heap an
 * earlier run freed (the seed's strings: 1.4 GB at N = 1e7) would serve the
 * next run's tables, which then grow by copying instead of by mremap and keep
 * both copies resident: later runs would not be measuring the same thing.
 * The child hands the block back through a pipe; string pointers in it stay
 * valid, as the child is a copy of this process.
 *
 * flat, u64 and sweep make their keys as they go and free all they allocate,
 * so their runs need no fresh process, and they do not get one: the peers
 * repeat a workload in one process, and a forked child starts each run with
 * every page it writes to still shared with its parent. At 1,000 and 10,000
 * entries that made libhashmap's insert phase 1.06x-1.13x as slow as the same
 * runs made in one process (30 runs a process, pinned to one CPU).
 */
static void run_forked(struct block *b, unsigned r, const struct options *o,
                       void (*run)(struct block *, unsigned, const struct options *, const void *),
                       const void *arg)
{
    int fd[2];
    if (pipe(fd) != 0)
        die(1, "pipe: %s", strerror(errno));
    fflush(NULL); /* or the child would write what is buffered a second time */
    pid_t pid = fork();
    if (pid < 0)
        die(1, "fork: %s", strerror(errno));
    if (pid == 0) {
        close(fd[0]);
        run(b, r, o, arg);
        write_all(fd[1], b, sizeof *b);
        exit(0); /* not _exit: a leak checker then looks at the run's memory */
    }
    close(fd[1]);
    size_t got = read_all(fd[0], b, sizeof *b);
    close(fd[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            die(1, "waitpid: %s", strerror(errno));
    if (WIFSIGNALED(status))
        die(1, "%s N=%zu: run %u killed by signal %d", b->workload, b->items, r + 1,
            WTERMSIG(status));
    if (WEXITSTATUS(status) != 0)
        exit(WEXITSTATUS(status)); /* the child said why */
    if (got != sizeof *b)
        die(1, "%s N=%zu: run %u sent %zu of %zu bytes", b->workload, b->items, r + 1, got,
            sizeof *b);
}

/* ---- the floor ----------------------------------------------------------- */

/* A buffer the size of a table, cut into as many slots as the table has
 * buckets (rounded down to a power of two). */
struct probe_buf {
    unsigned char *p;
    size_t bytes, mask, width;
};

static void probe_buf_init(struct probe_buf *pb, unsigned char *mem, size_t bytes, size_t buckets)
{
    size_t slots = 1;
    while (slots * 2 <= buckets)
        slots *= 2;
    pb->p = mem;
    pb->bytes = bytes;
    pb->mask = slots - 1;
    pb->width = bytes / slots ? bytes / slots : 1;
}

static inline uint64_t probe(const struct probe_buf *pb, uint64_t hash)
{
    return pb->p[(size_t)(hash & pb->mask) * pb->width];
}

static uint64_t scan(const struct probe_buf *pb)
{
    uint64_t acc = 0;
    for (size_t off = 0; off < pb->bytes; off += 64)
        acc += pb->p[off];
    return acc;
}

/* The floor's buffer is given transparent huge pages where the machine offers
 * them only on request: fewer TLB misses, a lower floor. The library asks for
 * them for every table of 2 MiB or more by default, but only from
 * HASHMAP_HUGE_PAGE_MIN_MIB on in a build that sets it; below that the floor
 * has the better pages: it is the machine's limit, not that of the library's
 * choice of pages. */
static unsigned char *floor_alloc(size_t bytes)
{
    const size_t huge = (size_t)2 << 20;
    unsigned char *mem;
    if (bytes >= huge) {
        mem = aligned_alloc(huge, (bytes + huge - 1) / huge * huge);
        if (mem)
            (void)madvise(mem, bytes / huge * huge, MADV_HUGEPAGE); /* advice only */
    } else {
        mem = malloc(bytes ? bytes : 1);
    }
    if (!mem)
        die(1, "out of memory for a floor buffer of %zu bytes", bytes);
    memset(mem, 1, bytes); /* resident before the clock starts */
    return mem;
}

/* ---- flat, u64 and the sweep --------------------------------------------- */

enum { P_INSERT, P_GET_HIT, P_GET_MANY, P_GET_MISS, P_REMOVE, P_REINSERT, P_ITERATE, NFIXED };
static const char *const fixed_phases[NFIXED] = {"insert",   "get_hit",  "get_many", "get_miss",
                                                 "remove",   "reinsert", "iterate"};

/* --batched: the same keys through hm_insert_many, hm_get_many and
 * hm_remove_many. */
enum { B_INSERT, B_GET_HIT, B_GET_MISS, B_REMOVE, B_REINSERT, NBATCHED };
static const char *const batched_phases[NBATCHED] = {"insert", "get_hit", "get_miss", "remove",
                                                     "reinsert"};

struct fixed_kind {
    size_t key_size, value_size;
};
static const struct fixed_kind FLAT = {16, 32}, U64 = {8, 8};

static inline void make_key(const struct fixed_kind *k, uint64_t i, unsigned char *out)
{
    put_le64(out, mix(i));
    if (k->key_size == 16)
        put_le64(out + 8, i);
}

/* Writes value i's first 8 bytes. A flat value's other 24 are zero, and stay so
 * in the caller's buffer, which is zeroed once before its first key: clearing
 * them for every key was a call of memset inside the timed loop (its size is
 * not a constant here), which no peer's driver makes. Without that call flat's
 * reinserts took 0.86x-0.94x the time at 1,000 to 100,000 entries. */
static inline void make_value(uint64_t i, unsigned char *out) { put_le64(out, i); }

static hm_t *new_fixed_map(const struct fixed_kind *k, struct bench_ctx *ctx, const struct options *o)
{
    hm_config c = {
        .key_size = k->key_size,
        .value_size = k->value_size,
        .max_load = o->max_load,
        .udata = ctx,
        .seed = ctx->seed,
        .on_resize = on_resize,
    };
    hm_t *m = hm_new(&c);
    if (!m)
        die(1, "hm_new: %s", strerror(errno));
    return m;
}

static void check(bool ok, const struct block *b, const char *phase, const char *what, uint64_t got,
                  uint64_t want)
{
    if (!ok)
        die(1, "%s N=%zu, %s: %s %" PRIu64 ", expected %" PRIu64, b->workload, b->items, phase,
            what, got, want);
}

static void fail_status(const struct block *b, const char *phase, uint64_t i, int rc)
{
    die(1, "%s N=%zu, %s of key %" PRIu64 ": %s", b->workload, b->items, phase, i,
        rc < 0 ? hm_strerror(rc) : "the key was already there");
}

struct table_shape {
    size_t bytes, buckets;
};

/* The table's size from the last resize record: hm_get_stats would walk the
 * table between two timed phases and warm the cache for the second. */
static struct table_shape shape_of(const hm_t *m, const struct bench_ctx *ctx)
{
    if (ctx->nrecs) {
        const struct resize_rec *r = &ctx->recs[ctx->nrecs - 1];
        return (struct table_shape){r->new_bytes, r->new_buckets};
    }
    hm_stats st; /* a first table that never grew: small */
    hm_get_stats(m, &st);
    return (struct table_shape){st.bytes, st.buckets};
}

/* Keys first .. first + step * (count - 1) and their values into one batch. */
static void make_batch(const struct fixed_kind *k, size_t first, size_t step, size_t count,
                       unsigned char *keys, unsigned char *vals)
{
    for (size_t q = 0; q < count; q++) {
        make_key(k, first + q * step, keys + q * k->key_size);
        make_value(first + q * step, vals + q * k->value_size);
    }
}

/* get_hit's keys (or with `miss` get_miss's) through hm_get_many, BATCH a
 * call: how many were found, and in *sum the sum of their values' first words. */
static uint64_t get_many_pass(hm_t *m, const struct fixed_kind *k, size_t n, bool miss,
                              uint64_t *sum)
{
    unsigned char keys[BATCH * 16];
    void *found[BATCH];
    uint64_t cnt = 0;
    *sum = 0;
    for (size_t j = 0; j < n; j += BATCH) {
        size_t batch = n - j < BATCH ? n - j : BATCH;
        for (size_t q = 0; q < batch; q++)
            make_key(k, miss ? n + j + q : mix((j + q) ^ 0x55) % n, keys + q * k->key_size);
        cnt += hm_get_many(m, keys, batch, found);
        for (size_t q = 0; q < batch; q++)
            if (found[q])
                *sum += get_le64(found[q]);
    }
    return cnt;
}

/* --batched: every phase's keys but iterate's through hm_insert_many,
 * hm_get_many and hm_remove_many, BATCH keys a call, on a map with no resize
 * hook. */
static void run_batched(struct block *b, const struct fixed_kind *k, unsigned r,
                        const struct options *o)
{
    const size_t n = b->items, half = (n + 1) / 2;
    unsigned char keys[BATCH * 16], vals[BATCH * 32] = {0}; /* see make_value */
    struct bench_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        die(1, "out of memory");
    run_peak_start();
    ctx_start(ctx, o);
    hm_config c = {.key_size = k->key_size, .value_size = k->value_size,
                   .max_load = o->max_load, .seed = ctx->seed};
    hm_t *m = hm_new(&c);
    if (!m)
        die(1, "hm_new: %s", strerror(errno));

    size_t added = 0, got;
    uint64_t t = phase_clock();
    for (size_t i = 0; i < n; i += BATCH) {
        size_t batch = n - i < BATCH ? n - i : BATCH;
        make_batch(k, i, 1, batch, keys, vals);
        int rc = hm_insert_many(m, keys, vals, batch, &got);
        if (rc != HM_OK)
            fail_status(b, "insert", i, rc);
        added += got;
    }
    record_since(&b->lib[B_INSERT], r, t, n);
    check(added == n && hm_len(m) == n, b, "insert", "new keys", added, n);

    uint64_t want_hits = 0, sum;
    for (size_t j = 0; j < n; j++)
        want_hits += mix(j ^ 0x55) % n;
    t = phase_clock();
    uint64_t cnt = get_many_pass(m, k, n, false, &sum);
    record_since(&b->lib[B_GET_HIT], r, t, n);
    check(cnt == n, b, "get_hit", "found", cnt, n);
    check(sum == want_hits, b, "get_hit", "value sum", sum, want_hits);

    t = phase_clock();
    cnt = get_many_pass(m, k, n, true, &sum);
    record_since(&b->lib[B_GET_MISS], r, t, n);
    check(cnt == 0, b, "get_miss", "found", cnt, 0);

    size_t removed = 0;
    t = phase_clock();
    for (size_t j = 0; j < half; j += BATCH) {
        size_t batch = half - j < BATCH ? half - j : BATCH;
        for (size_t q = 0; q < batch; q++)
            make_key(k, 2 * (j + q), keys + q * k->key_size);
        int rc = hm_remove_many(m, keys, batch, &got);
        if (rc != HM_OK)
            fail_status(b, "remove", 2 * j, rc);
        removed += got;
    }
    record_since(&b->lib[B_REMOVE], r, t, half);
    check(removed == half && hm_len(m) == n - half, b, "remove", "removed", removed, half);
    added = 0;
    t = phase_clock();
    for (size_t j = 0; j < half; j += BATCH) {
        size_t batch = half - j < BATCH ? half - j : BATCH;
        make_batch(k, 2 * j, 2, batch, keys, vals);
        int rc = hm_insert_many(m, keys, vals, batch, &got);
        if (rc != HM_OK)
            fail_status(b, "reinsert", 2 * j, rc);
        added += got;
    }
    record_since(&b->lib[B_REINSERT], r, t, half);
    check(added == half && hm_len(m) == n, b, "reinsert", "new keys", added, half);
    hm_free(m);
    free(ctx);
}

/* The one-key phases of kind k, inlined into a copy for each kind
 * (fixed_run): make_key's key size is then a constant in the timed loops,
 * as the peers' drivers have their key types at compile time, where every key
 * tested it. The same library at 1M: u64 hits took 0.967x the time, misses
 * 0.980x, reinserts 0.978x; flat inserts 0.966x, hits 0.985x, reinserts
 * 0.937x (two copies of each hm_bench alternated, pinned). */
PER_KIND void run_fixed(struct block *b, const struct fixed_kind *k, unsigned r,
                        const struct options *o, struct table_shape shapes[NFIXED])
{
    struct bench_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        die(1, "out of memory");
    const size_t n = b->items;
    unsigned char key[16], val[32] = {0}; /* see make_value */
    void *vals[ITER_BATCH];
    uint64_t t, sum, cnt;

    run_peak_start();
    ctx_start(ctx, o);
    hm_t *m = new_fixed_map(k, ctx, o);

    ctx->phase = "insert";
    t = phase_clock();
    for (size_t i = 0; i < n; i++) {
        make_key(k, i, key);
        make_value(i, val);
        ctx->item = i + 1;
        int rc = hm_insert(m, key, val);
        if (rc != HM_OK)
            fail_status(b, "insert", i, rc);
    }
    record_since(&b->lib[P_INSERT], r, t, n);
    shapes[P_INSERT] = shape_of(m, ctx);
    check(hm_len(m) == n, b, "insert", "hm_len", hm_len(m), n);

    /* Lookups of present keys sum the values found, checked against the sum of
     * the indexes, so no lookup can be skipped or answer wrongly unseen. */
    uint64_t want_hits = 0;
    for (size_t j = 0; j < n; j++)
        want_hits += mix(j ^ 0x55) % n;

    ctx->phase = "get_hit";
    sum = 0;
    cnt = 0;
    t = phase_clock();
    for (size_t j = 0; j < n; j++) {
        make_key(k, mix(j ^ 0x55) % n, key);
        const unsigned char *v = hm_get(m, key);
        if (v) {
            sum += get_le64(v);
            cnt++;
        }
    }
    record_since(&b->lib[P_GET_HIT], r, t, n);
    shapes[P_GET_HIT] = shape_of(m, ctx);
    check(cnt == n, b, "get_hit", "found", cnt, n);
    check(sum == want_hits, b, "get_hit", "value sum", sum, want_hits);

    ctx->phase = "get_many";
    t = phase_clock();
    cnt = get_many_pass(m, k, n, false, &sum);
    record_since(&b->lib[P_GET_MANY], r, t, n);
    shapes[P_GET_MANY] = shape_of(m, ctx);
    check(cnt == n, b, "get_many", "found", cnt, n);
    check(sum == want_hits, b, "get_many", "value sum", sum, want_hits);

    ctx->phase = "get_miss";
    cnt = 0;
    t = phase_clock();
    for (size_t i = n; i < 2 * n; i++) {
        make_key(k, i, key);
        if (hm_get(m, key))
            cnt++;
    }
    record_since(&b->lib[P_GET_MISS], r, t, n);
    shapes[P_GET_MISS] = shape_of(m, ctx);
    check(cnt == 0, b, "get_miss", "found", cnt, 0);

    const size_t half = (n + 1) / 2;
    ctx->phase = "remove";
    cnt = 0;
    t = phase_clock();
    for (size_t i = 0; i < n; i += 2) {
        make_key(k, i, key);
        cnt += hm_remove(m, key, NULL, NULL) == 1;
    }
    record_since(&b->lib[P_REMOVE], r, t, half);
    shapes[P_REMOVE] = shape_of(m, ctx);
    check(cnt == half, b, "remove", "removed", cnt, half);
    check(hm_len(m) == n - half, b, "remove", "hm_len", hm_len(m), n - half);

    ctx->phase = "reinsert";
    t = phase_clock();
    for (size_t i = 0, done = 0; i < n; i += 2, done++) {
        make_key(k, i, key);
        make_value(i, val);
        ctx->item = n - half + done + 1;
        int rc = hm_insert(m, key, val);
        if (rc != HM_OK)
            fail_status(b, "reinsert", i, rc);
    }
    record_since(&b->lib[P_REINSERT], r, t, half);
    shapes[P_REINSERT] = shape_of(m, ctx);
    check(hm_len(m) == n, b, "reinsert", "hm_len", hm_len(m), n);

    ctx->phase = "iterate";
    sum = 0;
    cnt = 0;
    size_t cursor = 0, got;
    t = phase_clock();
    /* hm_iter_many, the library's fastest way through every entry: one call
     * per batch of up to ITER_BATCH entries instead of one per entry (its
     * header suggests 64 or more: the call's fixed cost is spread wider). */
    while ((got = hm_iter_many(m, &cursor, NULL, vals, ITER_BATCH)) > 0) {
        for (size_t q = 0; q < got; q++)
            sum += get_le64(vals[q]);
        cnt += got;
    }
    record_since(&b->lib[P_ITERATE], r, t, n);
    shapes[P_ITERATE] = shape_of(m, ctx);
    uint64_t want_sum = (uint64_t)n * (uint64_t)(n - 1) / 2;
    check(cnt == n, b, "iterate", "entries", cnt, n);
    check(sum == want_sum, b, "iterate", "value sum", sum, want_sum);

    hm_free(m);
    collect_resizes(b, ctx, r);
    free(ctx);
}

/* Which key the j-th operation of a phase uses. */
static inline uint64_t key_index(int phase, size_t j, size_t n)
{
    switch (phase) {
    case P_GET_HIT:
    case P_GET_MANY:
        return mix(j ^ 0x55) % n;
    case P_GET_MISS:
        return n + j;
    case P_REMOVE:
    case P_REINSERT:
        return 2 * j;
    default:
        return j;
    }
}

/* How the floor hashes: as libhashmap does, from a start state made once,
 * and in a register pair where the processor has AVX-512VL
 * (hm__siphash13_pair) or else AVX2 (hm__siphash13_pair_avx2), as
 * libhashmap's maps then do (hm__sip_pair_level, which the library keeps to
 * itself). */
enum floor_pair { FLOOR_SCALAR, FLOOR_PAIR_AVX2, FLOOR_PAIR };

struct floor_hasher {
    hm__sipv start;
    uint64_t pair[4];
    enum floor_pair pair_build;
};

static void floor_hasher_init(struct floor_hasher *fh, const uint8_t seed[16])
{
    hm__sip_start_key(&fh->start, seed);
    fh->pair_build = FLOOR_SCALAR;
#if HM__SIP_PAIR
    hm__sip_pair_of(&fh->start, fh->pair);
    if (hm__sip_pair_runs())
        fh->pair_build = FLOOR_PAIR;
    else if (hm__sip_pair_avx2_runs())
        fh->pair_build = FLOOR_PAIR_AVX2;
#endif
}

#if HM__SIP_PAIR
/* A call, as a map's hm_get makes one to the function that hashes in the
 * pair; the scalar hash below is inlined. HASH is the pair's build. */
#define FLOOR_HASH_PAIR(NAME, T, HASH)                                                             \
    HM__SIP_##T##_TARGET static __attribute__((noinline)) uint64_t NAME(                           \
        const uint64_t pair[4], const unsigned char *key, size_t ks)                               \
    {                                                                                              \
        if (ks == 8)                                                                               \
            return HASH(pair, key, 8);                                                             \
        if (ks == 16)                                                                              \
            return HASH(pair, key, 16);                                                            \
        return HASH(pair, key, ks);                                                                \
    }
FLOOR_HASH_PAIR(floor_hash_pair, PAIR, hm__siphash13_pair)
FLOOR_HASH_PAIR(floor_hash_pair_avx2, PAIR_AVX2, hm__siphash13_pair_avx2)

/* The floor's hash of a key of ks bytes in its register pair. */
static uint64_t floor_hash_in_pair(const struct floor_hasher *fh, const unsigned char *key,
                                   size_t ks)
{
    return fh->pair_build == FLOOR_PAIR ? floor_hash_pair(fh->pair, key, ks)
                                     : floor_hash_pair_avx2(fh->pair, key, ks);
}
#endif

/* SipHash-1-3 of a key of 8 or 16 bytes, with the length a constant: as
 * cheap as libhashmap's own hashing. */
static inline uint64_t floor_hash(const struct floor_hasher *fh, const unsigned char *key,
                                  size_t ks)
{
#if HM__SIP_PAIR
    if (fh->pair_build)
        return floor_hash_in_pair(fh, key, ks);
#endif
    return ks == 8 ? hm__siphash13_from(&fh->start, key, 8)
                   : hm__siphash13_from(&fh->start, key, 16);
}

/* The floor makes a batch of keys, each in its own buffer, hashes them, and
 * only then reads their lines, so that the hashes and the reads overlap as
 * well as the machine allows: a table that prefetches can come close to
 * this, none can beat it. Until the keys had buffers of their own, one buffer
 * reused for every key held each hash back until the previous one was done,
 * and hm_get_many beat the floor. */
PER_KIND void floor_fixed(struct block *b, const struct fixed_kind *k, unsigned r,
                          const struct table_shape shapes[NFIXED])
{
    const size_t n = b->items, ks = k->key_size;
    uint8_t seed[16];
    unsigned char key[16], keys[BATCH][16];
    uint64_t hashes[BATCH];
    struct floor_hasher fh;
    size_t most = 0;
    for (int p = 0; p < NFIXED; p++)
        if (shapes[p].bytes > most)
            most = shapes[p].bytes;

    run_peak_start();
    if (getrandom(seed, sizeof seed, 0) != (ssize_t)sizeof seed)
        memset(seed, 0x5a, sizeof seed); /* any key does for timing */
    floor_hasher_init(&fh, seed);
    unsigned char *mem = floor_alloc(most);
    struct probe_buf pb;
    uint64_t acc = 0;

    for (int p = 0; p < NFIXED; p++) {
        probe_buf_init(&pb, mem, shapes[p].bytes, shapes[p].buckets);
        size_t ops = p == P_REMOVE || p == P_REINSERT ? (n + 1) / 2 : n;
        uint64_t t = phase_clock();
        if (p == P_ITERATE) {
            acc += scan(&pb);
        } else {
            for (size_t j = 0; j < ops; j += BATCH) {
                size_t batch = ops - j < BATCH ? ops - j : BATCH;
                for (size_t q = 0; q < batch; q++)
                    make_key(k, key_index(p, j + q, n), keys[q]);
                for (size_t q = 0; q < batch; q++)
                    hashes[q] = floor_hash(&fh, keys[q], ks);
                for (size_t q = 0; q < batch; q++)
                    acc += probe(&pb, hashes[q]);
            }
        }
        record_since(&b->flr[p], r, t, ops);
        if (p == P_GET_MANY || p == P_ITERATE)
            continue;
        /* The same keys one at a time, as a caller of a one-key call makes
         * them: hash, read, next key. */
        t = phase_clock();
        for (size_t j = 0; j < ops; j++) {
            make_key(k, key_index(p, j, n), key);
            acc += probe(&pb, floor_hash(&fh, key, ks));
        }
        record_since(&b->serial[p], r, t, ops);
        b->has_serial[p] = true;
    }
    g_sink += acc;
    free(mem);
}

/* run_fixed and floor_fixed for kind k, a constant once inlined. */
PER_KIND void fixed_run_of(struct block *b, const struct fixed_kind *k, unsigned r,
                           const struct options *o)
{
    struct table_shape shapes[NFIXED];
    run_fixed(b, k, r, o, shapes);
    if (o->floor)
        floor_fixed(b, k, r, shapes);
}

static void fixed_run(struct block *b, unsigned r, const struct options *o, const void *arg)
{
    if (arg == &FLAT)
        fixed_run_of(b, &FLAT, r, o);
    else
        fixed_run_of(b, &U64, r, o);
}

static void batched_run(struct block *b, unsigned r, const struct options *o, const void *arg)
{
    run_batched(b, arg, r, o);
}

static void workload_fixed(const char *name, const struct fixed_kind *k, size_t n,
                           const struct options *o)
{
    struct block *b = o->batched ? new_block(name, n, batched_phases, NBATCHED, o)
                                 : new_block(name, n, fixed_phases, NFIXED, o);
    for (unsigned r = 0; r < o->repeat; r++) {
        progress(o, b->workload, b->items, r);
        (o->batched ? batched_run : fixed_run)(b, r, o, k); /* see run_forked */
    }
    print_block(b, o);
}

/* ---- seed: String -> String ---------------------------------------------- */

/* Rust's String: the map stores these 24 bytes and owns what ptr points to. */
struct str {
    char *ptr;
    size_t len, cap;
};

enum { S_INSERT, S_FREE, NSEED };
static const char *const seed_phases[NSEED] = {"insert", "free"};

/* "key_" and i in decimal; returns the length (at most 24). */
static size_t format_key(char *out, uint64_t i)
{
    char digits[20];
    size_t nd = 0;
    do {
        digits[nd++] = (char)('0' + i % 10);
        i /= 10;
    } while (i);
    memcpy(out, "key_", 4);
    for (size_t d = 0; d < nd; d++)
        out[4 + d] = digits[nd - 1 - d];
    return 4 + nd;
}

/* What Rust's `impl Hash for str` feeds the hasher is the bytes, then 0xff.
 * A key shorter than 32 bytes (every key format_key makes: at most 24) goes
 * into one buffer with its 0xff, so that one call hashes it; true when it
 * did. */
static bool str_with_ff(unsigned char buf[32], const char *p, size_t len)
{
    if (len >= 32)
        return false;
    memcpy(buf, p, len);
    buf[len] = 0xff;
    return true;
}

/* The same bytes streamed, for longer keys. */
static uint64_t str_sip_streamed(const uint8_t seed[16], const char *p, size_t len)
{
    static const unsigned char ff = 0xff;
    hm_sip s;
    hm_sip_init(&s, seed, 1, 3);
    hm_sip_write(&s, p, len);
    hm_sip_write(&s, &ff, 1);
    return hm_sip_finish(&s);
}

/* The map's hash of a key, as a C user would write it: hm_hash_bytes is the
 * map's own SipHash-1-3, from the state it made once for its key. */
static uint64_t str_hash(const void *key, const hm_t *map, void *udata)
{
    const struct bench_ctx *ctx = udata;
    struct str s;
    /* The key pointers may be the caller's: copy rather than assume alignment. */
    memcpy(&s, key, sizeof s);
    unsigned char buf[32];
    if (str_with_ff(buf, s.ptr, s.len))
        return hm_hash_bytes(map, buf, s.len + 1);
    return str_sip_streamed(ctx->seed, s.ptr, s.len);
}

static bool str_equal(const void *a, const void *b, void *udata)
{
    (void)udata;
    struct str x, y;
    memcpy(&x, a, sizeof x);
    memcpy(&y, b, sizeof y);
    return x.len == y.len && memcmp(x.ptr, y.ptr, x.len) == 0;
}

static void str_drop(void *item, void *udata)
{
    (void)udata;
    struct str s;
    memcpy(&s, item, sizeof s);
    free(s.ptr);
}

static struct str str_from(const char *bytes, size_t len)
{
    struct str s = {malloc(len), len, len};
    if (!s.ptr)
        die(1, "out of memory for a string");
    memcpy(s.ptr, bytes, len);
    return s;
}

/* Pair i of the seed's strings, as every run makes it: "key_{i}", and the
 * 100 bytes of x100 ("x" 100 times), each in a heap allocation of its own. */
static void seed_pair(const char *x100, size_t i, struct str *key, struct str *value)
{
    char kbuf[24];
    *key = str_from(kbuf, format_key(kbuf, i));
    *value = str_from(x100, 100);
}

static void run_seed(struct block *b, unsigned r, const struct options *o, struct table_shape *shape)
{
    struct bench_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        die(1, "out of memory");
    const size_t n = b->items;
    char x100[100], kbuf[24];
    memset(x100, 'x', sizeof x100);

    run_peak_start();
    ctx_start(ctx, o);
    double ml = o->max_load ? o->max_load : LIB_DEFAULT_MAX_LOAD;
    hm_config c = {
        .key_size = sizeof(struct str),
        .value_size = sizeof(struct str),
        /* The seed's map starts with 16 buckets: room for floor(16 * max_load). */
        .capacity = (size_t)(16 * ml),
        .max_load = o->max_load,
        .hash = str_hash,
        .equal = str_equal,
        .key_drop = str_drop,
        .value_drop = str_drop,
        .udata = ctx,
        .seed = ctx->seed,
        .on_resize = on_resize,
    };
    hm_t *m = hm_new(&c);
    if (!m)
        die(1, "hm_new: %s", strerror(errno));
    if (hm_buckets(m) != 16)
        die(1, "seed: capacity %zu at max_load %g gave %zu buckets, not 16", c.capacity, ml,
            hm_buckets(m));

    ctx->phase = "insert";
    if (o->marks)
        strace_mark();
    uint64_t t = phase_clock();
    if (!o->batched) {
        for (size_t i = 0; i < n; i++) {
            struct str key, value;
            seed_pair(x100, i, &key, &value);
            ctx->item = i + 1;
            int rc = hm_insert(m, &key, &value);
            if (rc != HM_OK)
                fail_status(b, "insert", i, rc);
        }
    } else {
        /* The same strings, made BATCH pairs at a time and handed to
         * hm_insert_many, which grows the map before it inserts any. */
        struct str keys[BATCH], values[BATCH];
        for (size_t i = 0; i < n; i += BATCH) {
            size_t batch = n - i < BATCH ? n - i : BATCH;
            for (size_t q = 0; q < batch; q++)
                seed_pair(x100, i + q, &keys[q], &values[q]);
            ctx->item = i + batch;
            size_t added = 0;
            int rc = hm_insert_many(m, keys, values, batch, &added);
            if (rc != HM_OK)
                fail_status(b, "insert", i, rc);
            check(added == batch, b, "insert", "new keys", added, batch);
        }
    }
    uint64_t dt = phase_clock() - t;
    if (o->marks)
        strace_mark();
    record(&b->lib[S_INSERT], r, dt, n, run_peak_now());
    check(hm_len(m) == n, b, "insert", "hm_len", hm_len(m), n);
    *shape = shape_of(m, ctx);

    /* Spot checks, outside the clock: the first and last keys map to their values. */
    size_t probes[2] = {0, n - 1};
    for (int q = 0; q < 2; q++) {
        struct str key = {kbuf, format_key(kbuf, probes[q]), 0};
        const struct str *v = hm_get(m, &key);
        if (!v || v->len != 100 || memcmp(v->ptr, x100, 100) != 0)
            die(1, "seed N=%zu: key_%zu is missing or has a wrong value", n, probes[q]);
    }

    ctx->phase = "free";
    t = phase_clock();
    hm_free(m);
    record_since(&b->lib[S_FREE], r, t, n);
    collect_resizes(b, ctx, r);
    free(ctx);
}

/* str_hash's hash, inlined from a start state made once. */
static uint64_t floor_str_hash(const uint8_t seed[16], const struct floor_hasher *fh,
                               const char *p, size_t len)
{
    unsigned char buf[32];
    if (str_with_ff(buf, p, len)) {
#if HM__SIP_PAIR
        if (fh->pair_build) /* as hm_hash_bytes hashes */
            return floor_hash_in_pair(fh, buf, len + 1);
#endif
        return hm__siphash13_from(&fh->start, buf, len + 1);
    }
    return str_sip_streamed(seed, p, len);
}

static void floor_seed(struct block *b, unsigned r, struct table_shape shape)
{
    const size_t n = b->items;
    uint8_t seed[16];
    char kbuf[24];
    struct floor_hasher fh;
    run_peak_start();
    if (getrandom(seed, sizeof seed, 0) != (ssize_t)sizeof seed)
        memset(seed, 0x5a, sizeof seed);
    floor_hasher_init(&fh, seed);
    unsigned char *mem = floor_alloc(shape.bytes);
    struct probe_buf pb;
    probe_buf_init(&pb, mem, shape.bytes, shape.buckets);
    uint64_t acc = 0;

    uint64_t hashes[BATCH];
    uint64_t t = phase_clock();
    for (size_t i = 0; i < n; i += BATCH) {
        size_t batch = n - i < BATCH ? n - i : BATCH;
        for (size_t q = 0; q < batch; q++)
            hashes[q] = floor_str_hash(seed, &fh, kbuf, format_key(kbuf, i + q));
        for (size_t q = 0; q < batch; q++)
            acc += probe(&pb, hashes[q]);
    }
    record_since(&b->flr[S_INSERT], r, t, n);

    t = phase_clock();
    for (size_t i = 0; i < n; i++)
        acc += probe(&pb, floor_str_hash(seed, &fh, kbuf, format_key(kbuf, i)));
    record_since(&b->serial[S_INSERT], r, t, n);
    b->has_serial[S_INSERT] = true;

    t = phase_clock();
    acc += scan(&pb);
    record_since(&b->flr[S_FREE], r, t, n);
    g_sink += acc;
    free(mem);
}

/*
 * The seed's own work, which no map can leave out: the N keys and values made
 * as run_seed makes them, each pair's two handles stored in an array of N
 * 48-byte entries allocated up front, in order, with no hash and no table; then
 * every string freed, and the array. What a map's insert costs beyond this
 * line is the map's part, for libhashmap and for a peer alike. It runs last in
 * the run's process, after the map and the floor have freed their memory,
 * which the machine may still hold: if anything it is measured low, and the
 * maps' part high.
 */
static void strings_seed(struct block *b, unsigned r)
{
    const size_t n = b->items;
    char x100[100];
    memset(x100, 'x', sizeof x100);
    run_peak_start();
    struct str(*pairs)[2] = calloc(n, sizeof *pairs);
    if (!pairs)
        die(1, "out of memory for %zu pairs of strings", n);
    uint64_t t = phase_clock();
    for (size_t i = 0; i < n; i++) {
        seed_pair(x100, i, &pairs[i][0], &pairs[i][1]);
    }
    record_since(&b->strs[S_INSERT], r, t, n);

    t = phase_clock();
    for (size_t i = 0; i < n; i++) {
        free(pairs[i][0].ptr);
        free(pairs[i][1].ptr);
    }
    free(pairs);
    record_since(&b->strs[S_FREE], r, t, n);
    b->has_strs = true;
}

static void seed_run(struct block *b, unsigned r, const struct options *o, const void *arg)
{
    (void)arg;
    struct table_shape shape;
    run_seed(b, r, o, &shape);
    if (b->floor) {
        floor_seed(b, r, shape);
        strings_seed(b, r);
    }
}

static void workload_seed(size_t n, const struct options *o)
{
    struct block *b = new_block("seed", n, seed_phases, NSEED, o);
    for (unsigned r = 0; r < o->repeat; r++) {
        progress(o, b->workload, b->items, r);
        run_forked(b, r, o, seed_run, NULL);
    }
    print_block(b, o);
}

/* ---- summary ------------------------------------------------------------- */

static void print_summary(const struct options *o)
{
    fprintf(stderr, "\nSummary: median of %u run%s; ns per operation; floor = SipHash-1-3 of the "
                    "same keys + one random cache-line read in a table-sized buffer\n",
            o->repeat, o->repeat == 1 ? "" : "s");
    fprintf(stderr, "%-8s %10s  %-9s %12s %10s %8s %12s\n", "workload", "items", "phase",
            "libhashmap", "floor", "x floor", "peak RSS MiB");
    for (size_t i = 0; i < g_nblocks; i++) {
        const struct block *b = g_blocks[i];
        for (size_t p = 0; p < b->nphases; p++) {
            double lib = median(b->lib[p].ns, b->runs);
            fprintf(stderr, "%-8s %10zu  %-9s %12.1f", b->workload, b->items, b->phases[p], lib);
            if (b->floor) {
                double fl = median(b->flr[p].ns, b->runs);
                fprintf(stderr, " %10.1f %8.2f", fl, fl > 0 ? lib / fl : 0.0);
            } else {
                fprintf(stderr, " %10s %8s", "-", "-");
            }
            fprintf(stderr, " %12.1f\n", mib(b->lib[p].peak));
        }
    }
    for (size_t i = 0; i < g_nblocks; i++) {
        const struct block *b = g_blocks[i];
        if (strcmp(b->workload, "seed"))
            continue;
        double ins = median(b->lib[S_INSERT].ns, b->runs), fr = median(b->lib[S_FREE].ns, b->runs);
        double rtotal = 0;
        for (size_t k = 0; k < b->nresizes; k++)
            rtotal += median(b->resize_ns[k], b->runs);
        fprintf(stderr,
                "\nseed, %zu items: inserts %.3f s (%.1f ns/insert), free %.3f s (%.1f ns/entry),\n"
                "  %zu resizes taking %.3f s in all, final table %zu buckets, peak RSS %.1f MiB\n",
                b->items, ins * (double)b->items / 1e9, ins, fr * (double)b->items / 1e9, fr,
                b->nresizes, rtotal / 1e9,
                b->nresizes ? b->resizes[b->nresizes - 1].new_buckets : (size_t)16,
                mib(b->lib[S_INSERT].peak));
    }
}

/* ---- main ---------------------------------------------------------------- */

int main(int argc, char **argv)
{
    struct options o;
    parse_args(argc, argv, &o);
    g_hwm_reset_ok = hwm_reset();

    if (o.text) {
        const char *build = HM_BENCH_BUILD_TYPE[0] ? HM_BENCH_BUILD_TYPE : "unnamed";
        fprintf(stderr, "hm_bench: libhashmap, %s build, max_load %g, %u run%s per workload, %s\n",
                build, o.max_load ? o.max_load : LIB_DEFAULT_MAX_LOAD, o.repeat,
                o.repeat == 1 ? "" : "s",
                g_hwm_reset_ok ? "peak RSS per run and per resize"
                               : "peak RSS of the process (VmHWM cannot be reset here)");
    }

    bool all = o.workload == W_ALL;
    if (all || o.workload == W_SEED)
        workload_seed(o.items ? o.items : 10000000, &o);
    if (all || o.workload == W_FLAT)
        workload_fixed("flat", &FLAT, o.items ? o.items : 1000000, &o);
    if (all || o.workload == W_U64)
        workload_fixed("u64", &U64, o.items ? o.items : 1000000, &o);
    if (all || o.workload == W_SWEEP) {
        size_t cap = o.items ? o.items : 10000000, ran = 0;
        for (size_t n = 1000; n <= 10000000 && n <= cap; n *= 10, ran++)
            workload_fixed("sweep", &FLAT, n, &o);
        if (!ran)
            workload_fixed("sweep", &FLAT, cap, &o);
    }

    if (o.text)
        print_summary(&o);
    return 0;
}
