/*
 * The benchmark workloads (BENCH.md: seed, flat, u64, sweep), written once
 * for every C and C++ peer, with hm_bench's options and JSON lines. A peer supplies a class template
 * Map<K, V> with this shape and calls peer::run<Map>("name", argc, argv):
 *
 *   explicit Map(size_t initial);      // room for `initial` entries; 0: the map's default
 *   bool insert(const K &k, const V &v);            // true when the key was new
 *   bool get(const K &k, uint64_t &first) const;    // found? first 8 bytes of the value
 *   bool erase(const K &k);                          // true when removed
 *   template <class F> void for_each(F f) const;     // f(const K &, const V &)
 *   size_t size() const;
 *   ~Map();                            // frees everything, owned strings included
 *
 * K and V are uint64_t (u64), FlatKey / FlatValue (flat, sweep) or RString
 * (seed). A Map<RString, RString> owns the strings it was given: its
 * destructor frees them, and that destruction is the seed's "free" phase.
 * The seed uses only the constructor, insert, size and the destructor.
 *
 * Every map hashes with SipHash-1-3 under a random key of its own, through
 * the project's hm_siphash13 (hm_sip for the seed's strings), so that only
 * the table designs differ. Built with PEER_SIP_PAIR, a peer is named
 * <name>-pair and hashes as libhashmap's maps do where the processor has
 * AVX-512VL (PEER_SIP_PAIR=1, built for it: hm__siphash13_pair) or AVX2 alone
 * (PEER_SIP_PAIR=2, built for it: hm__siphash13_pair_avx2), in a register
 * pair, inlined.
 * Exit status, as hm_bench's: 0, 1 on a wrong answer, 2 on bad usage.
 */
#ifndef HASHMAP_PEER_DRIVER_HPP
#define HASHMAP_PEER_DRIVER_HPP

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <type_traits>
#include <vector>

#include <fcntl.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <sys/random.h>
#include <unistd.h>

#include "hashmap/siphash.h"
#include "siphash_impl.h" /* src/: SipHash inlined, as libhashmap's own maps hash */

/* The register pair a -pair peer hashes in, and whether the processor runs it. */
#ifdef PEER_SIP_PAIR
#if PEER_SIP_PAIR == 2
#define PEER_PAIR_HASH hm__siphash13_pair_avx2
#define PEER_PAIR_RUNS hm__sip_pair_avx2_runs
#define PEER_PAIR_NEEDS "AVX2"
#else
#define PEER_PAIR_HASH hm__siphash13_pair
#define PEER_PAIR_RUNS hm__sip_pair_runs
#define PEER_PAIR_NEEDS "AVX-512VL"
#endif
#endif

namespace peer {

/* A key of 16 random bytes, drawn for each map, and SipHash's start state
 * under it, made once as a libhashmap map makes it (hm_new). */
struct SipKey {
    uint8_t b[16];
    hm__sipv start;
    uint64_t pair[4]; /* the start state for the register pair (PEER_PAIR_HASH) */

    static SipKey random()
    {
        SipKey k;
        size_t got = 0;
        while (got < sizeof k.b) {
            ssize_t n = getrandom(k.b + got, sizeof k.b - got, 0);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                std::perror("getrandom");
                std::exit(1);
            }
            got += (size_t)n;
        }
        hm__sip_start_key(&k.start, k.b);
#if HM__SIP_PAIR
        hm__sip_pair_of(&k.start, k.pair);
#endif
        return k;
    }
};

struct FlatKey {
    uint64_t a, b; /* mix(i), i */
};
struct FlatValue {
    uint64_t v[4]; /* i, 0, 0, 0 */
};
/* Rust's String: a heap buffer the map owns. */
struct RString {
    char *ptr;
    size_t len;
    size_t cap;
};
static_assert(sizeof(FlatKey) == 16 && sizeof(FlatValue) == 32, "flat entries are 48 bytes");
static_assert(sizeof(RString) == 24, "seed entries are 48 bytes");

/* splitmix64, BENCH.md's mix(i). */
inline uint64_t mix(uint64_t i)
{
    uint64_t z = i + 0x9e3779b97f4a7c15u;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* What Rust's `impl Hash for str` feeds the hasher: the bytes, then 0xff,
 * hashed the way hm_bench's str_hash hashes them, so both sides pay the same:
 * a key shorter than 32 bytes in one buffer with its 0xff, in one call from
 * the map's start state; a longer one streamed. */
inline uint64_t hash_str(const SipKey &key, const char *p, size_t n)
{
    static const unsigned char ff = 0xff;
    unsigned char buf[32];
    if (n < sizeof buf) {
        std::memcpy(buf, p, n);
        buf[n] = ff;
#ifdef PEER_SIP_PAIR
        return PEER_PAIR_HASH(key.pair, buf, n + 1);
#else
        return hm__siphash13_from(&key.start, buf, n + 1);
#endif
    }
    hm_sip s;
    hm_sip_init(&s, key.b, 1, 3);
    hm_sip_write(&s, p, n);
    hm_sip_write(&s, &ff, 1);
    return hm_sip_finish(&s);
}

/* The in-memory bytes of the key (little-endian words on the hosts we bench),
 * hashed the way libhashmap hashes a key of 8 or 16 bytes: inlined, from the
 * map's start state, the length a constant (the exported hm_siphash13, which
 * the peers called before, cost them about 1 ns a hash more). */
#ifdef PEER_SIP_PAIR
inline uint64_t hash_key(const SipKey &key, const uint64_t &k)
{
    return PEER_PAIR_HASH(key.pair, &k, sizeof k);
}
inline uint64_t hash_key(const SipKey &key, const FlatKey &k)
{
    return PEER_PAIR_HASH(key.pair, &k, sizeof k);
}
#else
inline uint64_t hash_key(const SipKey &key, const uint64_t &k)
{
    return hm__siphash13_from(&key.start, &k, sizeof k);
}
inline uint64_t hash_key(const SipKey &key, const FlatKey &k)
{
    return hm__siphash13_from(&key.start, &k, sizeof k);
}
#endif
inline uint64_t hash_key(const SipKey &key, const RString &k) { return hash_str(key, k.ptr, k.len); }

inline bool key_equal(uint64_t a, uint64_t b) { return a == b; }
inline bool key_equal(const FlatKey &a, const FlatKey &b) { return a.a == b.a && a.b == b.b; }
inline bool key_equal(const RString &a, const RString &b)
{
    return a.len == b.len && std::memcmp(a.ptr, b.ptr, a.len) == 0;
}

inline uint64_t first_word(uint64_t v) { return v; }
inline uint64_t first_word(const FlatValue &v) { return v.v[0]; }
inline uint64_t first_word(const RString &) { return 0; }

/* Whether a Map<K, V> must free what K or V points to. */
template <class T> constexpr bool owns_heap = std::is_same<T, RString>::value;
inline void drop(uint64_t) {}
inline void drop(const FlatKey &) {}
inline void drop(const FlatValue &) {}
inline void drop(const RString &s) { std::free(s.ptr); }

/* Key bytes as C hash tables take them: a pointer and a length. */
inline const void *key_ptr(const uint64_t &k) { return &k; }
inline const void *key_ptr(const FlatKey &k) { return &k; }
inline const void *key_ptr(const RString &k) { return k.ptr; }
inline size_t key_len(const uint64_t &k) { return sizeof k; }
inline size_t key_len(const FlatKey &k) { return sizeof k; }
inline size_t key_len(const RString &k) { return k.len; }

inline uint64_t now_ns()
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* VmHWM, the peak resident set, in bytes; 0 when /proc is not there. */
inline size_t peak_rss()
{
    FILE *f = std::fopen("/proc/self/status", "r");
    if (!f)
        return 0;
    char line[256];
    size_t kb = 0;
    while (std::fgets(line, sizeof line, f))
        if (std::sscanf(line, "VmHWM: %zu kB", &kb) == 1)
            break;
    std::fclose(f);
    return kb * 1024;
}

/* Lowers VmHWM to the current RSS, so that each repetition reports its own
 * peak and not one left by an earlier, larger run (Linux 4.0+). The memory
 * that the earlier run freed is handed back first, or it would still count. */
inline void reset_peak_rss()
{
#ifdef __GLIBC__
    malloc_trim(0);
#endif
    int fd = open("/proc/self/clear_refs", O_WRONLY);
    if (fd < 0)
        return;
    if (write(fd, "5", 1) != 1) {
        /* an old kernel: the peak then covers the whole process */
    }
    close(fd);
}

[[noreturn]] inline void fail(const char *map, const char *what)
{
    std::fprintf(stderr, "%s: wrong result: %s\n", map, what);
    std::exit(1);
}

/* One phase's numbers over the repetitions. */
struct Phase {
    const char *name;
    std::vector<double> ns_per_op;
    size_t peak = 0;

    void add(uint64_t ns, size_t ops)
    {
        ns_per_op.push_back(ops ? (double)ns / (double)ops : 0.0);
        peak = std::max(peak, peak_rss());
    }
    double median() const
    {
        std::vector<double> v = ns_per_op;
        std::sort(v.begin(), v.end());
        size_t n = v.size();
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }
};

inline void emit(const char *map, const char *workload, size_t items, const std::vector<Phase> &phases)
{
    for (const Phase &p : phases)
        std::printf("{\"map\":\"%s\",\"workload\":\"%s\",\"items\":%zu,\"phase\":\"%s\","
                    "\"ns_per_op\":%.3f,\"peak_rss_bytes\":%zu}\n",
                    map, workload, items, p.name, p.median(), p.peak);
    std::fflush(stdout);
}

/* "key_{i}" the way Rust's format! writes it, without printf's parsing. */
inline RString make_key(uint64_t i)
{
    char digits[20];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + i % 10);
        i /= 10;
    } while (i);
    RString s;
    s.len = 4 + n;
    s.cap = s.len + 1; /* NUL-terminated, for the maps that hash C strings */
    s.ptr = (char *)std::malloc(s.cap);
    if (!s.ptr) {
        std::perror("malloc");
        std::exit(1);
    }
    std::memcpy(s.ptr, "key_", 4);
    for (size_t j = 0; j < n; j++)
        s.ptr[4 + j] = digits[n - 1 - j];
    s.ptr[s.len] = '\0';
    return s;
}

inline RString make_value()
{
    RString s;
    s.len = s.cap = 100;
    s.ptr = (char *)std::malloc(s.cap);
    if (!s.ptr) {
        std::perror("malloc");
        std::exit(1);
    }
    std::memset(s.ptr, 'x', s.len);
    return s;
}

template <template <class, class> class Map>
void run_seed(const char *name, size_t n, int repeat)
{
    std::vector<Phase> ph{{"insert", {}}, {"free", {}}};
    for (int r = 0; r < repeat; r++) {
        reset_peak_rss();
        auto *m = new Map<RString, RString>(16);
        uint64_t t0 = now_ns();
        for (size_t i = 0; i < n; i++)
            if (!m->insert(make_key(i), make_value()))
                fail(name, "seed: a new key was found present");
        uint64_t t1 = now_ns();
        ph[0].add(t1 - t0, n);
        if (m->size() != n)
            fail(name, "seed: size after insert");
        t0 = now_ns();
        delete m;
        t1 = now_ns();
        ph[1].add(t1 - t0, n);
    }
    emit(name, "seed", n, ph);
}

inline FlatKey flat_key(uint64_t i) { return FlatKey{mix(i), i}; }
inline FlatValue flat_value(uint64_t i) { return FlatValue{{i, 0, 0, 0}}; }
inline uint64_t u64_key(uint64_t i) { return mix(i); }
inline uint64_t u64_value(uint64_t i) { return i; }

/* The six phases of flat, u64 and sweep. Keys are made inside the timed
 * loops (a few multiplications each) so that no key array adds to the RSS.
 * key and value are template arguments, so that every loop calls them
 * directly and inlines them, as hm_bench makes its keys: passed as function
 * pointers, until this was noticed on 2026-12-01, GCC called them through
 * the pointer in every timed loop, one indirect call an operation that the
 * peers paid and libhashmap did not. */
template <template <class, class> class Map, auto key, auto value>
void run_phases(const char *name, const char *workload, size_t n, int repeat)
{
    using K = decltype(key(0));
    using V = decltype(value(0));
    std::vector<Phase> ph{{"insert", {}},   {"get_hit", {}},  {"get_miss", {}},
                          {"remove", {}},   {"reinsert", {}}, {"iterate", {}}};
    const size_t half = (n + 1) / 2;
    const uint64_t total = n ? (uint64_t)n * (n - 1) / 2 : 0;
    for (int r = 0; r < repeat; r++) {
        reset_peak_rss();
        auto *m = new Map<K, V>(0);
        size_t count = 0;
        uint64_t sum = 0, w = 0;

        uint64_t t0 = now_ns();
        for (size_t i = 0; i < n; i++)
            count += m->insert(key(i), value(i));
        uint64_t t1 = now_ns();
        ph[0].add(t1 - t0, n);
        if (count != n || m->size() != n)
            fail(name, "insert count");

        count = 0;
        t0 = now_ns();
        for (size_t j = 0; j < n; j++) {
            uint64_t i = mix(j ^ 0x55) % n;
            if (m->get(key(i), w)) {
                count++;
                sum += w;
            }
        }
        t1 = now_ns();
        ph[1].add(t1 - t0, n);
        uint64_t expect = 0;
        for (size_t j = 0; j < n; j++)
            expect += mix(j ^ 0x55) % n; /* each value's first word is its i */
        if (count != n || sum != expect)
            fail(name, "get_hit count or sum");

        count = 0;
        t0 = now_ns();
        for (size_t i = n; i < 2 * n; i++)
            count += m->get(key(i), w);
        t1 = now_ns();
        ph[2].add(t1 - t0, n);
        if (count != 0)
            fail(name, "get_miss found a key");

        count = 0;
        t0 = now_ns();
        for (size_t i = 0; i < n; i += 2)
            count += m->erase(key(i));
        t1 = now_ns();
        ph[3].add(t1 - t0, half);
        if (count != half || m->size() != n - half)
            fail(name, "remove count");

        count = 0;
        t0 = now_ns();
        for (size_t i = 0; i < n; i += 2)
            count += m->insert(key(i), value(i));
        t1 = now_ns();
        ph[4].add(t1 - t0, half);
        if (count != half || m->size() != n)
            fail(name, "reinsert count");

        count = 0;
        sum = 0;
        t0 = now_ns();
        m->for_each([&](const K &, const V &v) {
            count++;
            sum += first_word(v);
        });
        t1 = now_ns();
        ph[5].add(t1 - t0, n);
        if (count != n || sum != total)
            fail(name, "iterate count or sum");

        delete m;
    }
    emit(name, workload, n, ph);
}

inline void usage(const char *argv0)
{
    std::fprintf(stderr,
                 "usage: %s [--workload seed|flat|u64|sweep|all] [--items N] [--repeat R]\n"
                 "  --workload  the workload; all: the four in turn (default seed);\n"
                 "              a comma-separated list also works\n"
                 "  --items     N (default 10000000 for seed, 1000000 for flat and u64);\n"
                 "              for sweep the largest N of 1e3, 1e4, ... 1e7 (default 1e7)\n"
                 "  --repeat    runs of each workload in this process; medians are\n"
                 "              reported (default 1)\n"
                 "Output: one JSON object per line and phase, as BENCH.md describes.\n",
                 argv0);
}

/* Accepts 1000000, 1e6 and 1_000_000. */
inline bool parse_count(const char *s, size_t &out)
{
    std::string digits;
    for (const char *p = s; *p; p++)
        if (*p != '_')
            digits += *p;
    if (digits.empty())
        return false;
    char *end = nullptr;
    errno = 0;
    double d = std::strtod(digits.c_str(), &end);
    if (errno || *end || d < 1 || d > 1e12 || d != (double)(size_t)d)
        return false;
    out = (size_t)d;
    return true;
}

template <template <class, class> class Map>
int run(const char *name, int argc, char **argv)
{
#ifdef PEER_SIP_PAIR
    if (!PEER_PAIR_RUNS()) {
        std::fprintf(stderr, "%s-pair: this processor has no " PEER_PAIR_NEEDS "\n", name);
        return 2;
    }
    const std::string pair_name = std::string(name) + "-pair";
    name = pair_name.c_str();
#endif
    std::string workloads = "seed";
    size_t items = 0;
    size_t repeat = 1;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i], v;
        size_t eq = a.find('=');
        if (a.compare(0, 2, "--") == 0 && eq != std::string::npos) {
            v = a.substr(eq + 1);
            a = a.substr(0, eq);
        } else if (a == "--workload" || a == "--items" || a == "--repeat") {
            if (i + 1 >= argc) {
                usage(argv[0]);
                return 2;
            }
            v = argv[++i];
        }
        if (a == "--workload") {
            workloads = v == "all" ? "seed,flat,u64,sweep" : v;
        } else if (a == "--items") {
            if (!parse_count(v.c_str(), items)) {
                std::fprintf(stderr, "%s: bad --items '%s'\n", argv[0], v.c_str());
                return 2;
            }
        } else if (a == "--repeat") {
            if (!parse_count(v.c_str(), repeat) || repeat > 100) {
                std::fprintf(stderr, "%s: bad --repeat '%s'\n", argv[0], v.c_str());
                return 2;
            }
        } else {
            usage(argv[0]);
            return a == "--help" || a == "-h" ? 0 : 2;
        }
    }

    const int rep = (int)repeat;
    size_t start = 0;
    while (start <= workloads.size()) {
        size_t comma = workloads.find(',', start);
        if (comma == std::string::npos)
            comma = workloads.size();
        std::string w = workloads.substr(start, comma - start);
        start = comma + 1;
        if (w == "seed") {
            run_seed<Map>(name, items ? items : 10000000, rep);
        } else if (w == "flat") {
            run_phases<Map, flat_key, flat_value>(name, "flat", items ? items : 1000000, rep);
        } else if (w == "u64") {
            run_phases<Map, u64_key, u64_value>(name, "u64", items ? items : 1000000, rep);
        } else if (w == "sweep") {
            size_t top = items ? items : 10000000, ran = 0;
            for (size_t n = 1000; n <= 10000000 && n <= top; n *= 10, ran++)
                run_phases<Map, flat_key, flat_value>(name, "sweep", n, rep);
            if (!ran) /* below 1e3: the sweep is that one N, as in hm_bench */
                run_phases<Map, flat_key, flat_value>(name, "sweep", top, rep);
        } else {
            std::fprintf(stderr, "%s: unknown workload '%s'\n", argv[0], w.c_str());
            usage(argv[0]);
            return 2;
        }
    }
    return 0;
}

} // namespace peer

#endif /* HASHMAP_PEER_DRIVER_HPP */
