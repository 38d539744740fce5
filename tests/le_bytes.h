/*
 * Integers as the low bytes of a key or value, little-endian on every host,
 * for the tests that make keys of 1 to 8 bytes from a counter. A memcpy of
 * the first n bytes of a uint64_t would take its high bytes on a big-endian
 * host (zero for small counters), and every key would be the same.
 */
#ifndef HM_TESTS_LE_BYTES_H
#define HM_TESTS_LE_BYTES_H

#include <stddef.h>
#include <stdint.h>

/* Writes the min(n, 8) low bytes of v to dst, lowest first. */
static inline void le_put(void *dst, uint64_t v, size_t n)
{
    unsigned char *d = dst;
    for (size_t i = 0; i < n && i < 8; i++)
        d[i] = (unsigned char)(v >> (8 * i));
}

/* The integer that le_put(src, v, n) wrote: v's min(n, 8) low bytes. */
static inline uint64_t le_get(const void *src, size_t n)
{
    const unsigned char *s = src;
    uint64_t v = 0;
    for (size_t i = 0; i < n && i < 8; i++)
        v |= (uint64_t)s[i] << (8 * i);
    return v;
}

#endif
