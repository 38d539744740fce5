/*
 * core_probe: how much of its core a process gets, read before and after each
 * process of bench/compare.sh (and by hand: `taskset -c 1 core_probe`).
 *
 * On this project's virtual machines a vCPU shares its physical core with a
 * hardware thread that another tenant may keep busy, for minutes at a time.
 * Code that keeps many instructions in flight then runs up to 1.6x slower,
 * while code that waits on one long chain of them does not: a hash map at
 * 1,000 entries, every phase in the caches, took 1.8x the time, and its
 * ratios to the peers moved by 10-30% (docs/benchmarks.md, "The core's other
 * thread"). Frequency moves both loops below alike, so their ratio reads the
 * sharing alone.
 *
 * Prints one line: the median over ROUNDS of throughput_loop's time over
 * latency_loop's, then the two loops' medians in ns per iteration. About 1.0
 * on a core of one's own, 1.4 or more beside a busy thread. About 20 ms.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { ITERS = 1000000, ROUNDS = 7 };

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* The compiler must keep x in a register and may not fold or vectorise the
 * loop around it. */
#if defined(__GNUC__)
#define KEEP(x) __asm__ volatile("" : "+r"(x))
#else
#define KEEP(x) ((void)0)
#endif

/* Six independent chains of one-cycle operations: as many instructions per
 * cycle as the core's share allows. */
static double throughput_loop(uint64_t seed)
{
    uint64_t a = seed, b = seed + 1, c = seed + 2, d = seed + 3, e = seed + 4, f = seed + 5;
    const uint64_t t = now_ns();
    for (uint64_t i = 0; i < ITERS; i++) {
        a += b ^ i;
        b += c ^ i;
        c += d ^ i;
        d += e ^ i;
        e += f ^ i;
        f += a ^ i;
        a ^= a >> 3;
        c ^= c >> 5;
        e ^= e >> 7;
    }
    KEEP(a);
    const double ns = (double)(now_ns() - t) / ITERS;
    return ns + (double)((a ^ c ^ e) & 1) * 1e-12; /* the chains are used */
}

/* One chain of multiplies: latency-bound, so a busy neighbour barely slows it. */
static double latency_loop(uint64_t seed)
{
    uint64_t x = seed;
    const uint64_t t = now_ns();
    for (uint64_t i = 0; i < ITERS; i++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        KEEP(x);
    }
    const double ns = (double)(now_ns() - t) / ITERS;
    return ns + (double)(x & 1) * 1e-12;
}

static int by_value(const void *p, const void *q)
{
    const double x = *(const double *)p, y = *(const double *)q;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, by_value);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(void)
{
    double thr[ROUNDS], lat[ROUNDS], ratio[ROUNDS];
    uint64_t seed = now_ns(); /* unknown to the compiler */
    for (size_t r = 0; r < ROUNDS; r++) {
        thr[r] = throughput_loop(seed + r);
        lat[r] = latency_loop(seed + r);
        ratio[r] = thr[r] / lat[r];
    }
    printf("%.2f %.3f %.3f\n", median(ratio, ROUNDS), median(thr, ROUNDS), median(lat, ROUNDS));
    return 0;
}
