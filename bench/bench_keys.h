/*
 * BENCH.md's key generation, shared by hm_bench and hm_levels: mix(i) is
 * splitmix64, and keys and values are stored as little-endian words.
 */
#ifndef HM_BENCH_KEYS_H
#define HM_BENCH_KEYS_H

#include <stdint.h>
#include <string.h>

static inline uint64_t mix(uint64_t i)
{
    uint64_t z = i + 0x9e3779b97f4a7c15u;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* One 8-byte store and load, as the peers' drivers do with their uint64_t
 * keys: byte-by-byte stores followed by the map's 8-byte load of the key
 * defeat store-to-load forwarding and stall every lookup, which would charge
 * the harness's cost to libhashmap (hm_levels, which stored its keys a byte
 * at a time at first, measured get_hit at 1M u64 3x as long). */
static inline void put_le64(unsigned char *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    memcpy(p, &v, sizeof v);
}

static inline uint64_t get_le64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

#endif /* HM_BENCH_KEYS_H */
