/**
 * @file hashmap/siphash.h
 * @brief SipHash, the keyed hash that libhashmap uses by default.
 *
 * SipHash (Aumasson and Bernstein, 2012) is a pseudo-random function keyed by
 * 128 bits: without the key an attacker cannot predict which inputs collide,
 * which is what keeps hash-flooding out of a table that hashes untrusted keys.
 * SipHash-c-d runs c compression rounds per 8-byte word and d finalisation
 * rounds. SipHash-2-4 is the reference; SipHash-1-3 is Rust's default hasher
 * and libhashmap's.
 *
 * The 16 key bytes are k0 (bytes 0..7, little-endian) and k1 (bytes 8..15),
 * as in the reference implementation. A 64-bit result is the reference's
 * 8 output bytes read little-endian, on every host.
 *
 * Nothing here allocates, and every function is safe to call from any thread
 * on distinct state.
 */
#ifndef HASHMAP_SIPHASH_H
#define HASHMAP_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#include "hashmap/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief SipHash-1-3 of @p len bytes at @p data under @p key.
 *
 * With an all-zero key this equals Rust's `DefaultHasher::new()` after
 * `write(data)`. @p data may be NULL when @p len is 0.
 * @return the 64-bit hash; this function cannot fail.
 */
HM_API uint64_t hm_siphash13(const void *data, size_t len, const uint8_t key[16]);

/**
 * @brief SipHash-2-4 of @p len bytes at @p data under @p key, the reference variant.
 * @return the 64-bit hash; this function cannot fail.
 */
HM_API uint64_t hm_siphash24(const void *data, size_t len, const uint8_t key[16]);

/**
 * @brief SipHash with any round counts and a 64- or 128-bit output, with the
 * reference implementation's interface.
 *
 * Writes @p outlen bytes to @p out: 8 for the 64-bit function, 16 for
 * SipHash-128.
 * @return 0, or HM_EINVAL (-2) when @p outlen is not 8 or 16, a round count is
 * below 1, or @p key or @p out is NULL (or @p in is NULL with @p inlen > 0).
 */
HM_API int hm_siphash(const void *in, size_t inlen, const uint8_t key[16],
                      uint8_t *out, size_t outlen, int c_rounds, int d_rounds);

/**
 * @brief Streaming SipHash state (64-bit output).
 *
 * Its fields are visible only so that it can live on the stack; treat them as
 * private. Feeding a message in any number of pieces gives the one-shot result.
 */
typedef struct hm_sip {
    uint64_t v0;             /**< state word 0 */
    uint64_t v1;             /**< state word 1 */
    uint64_t v2;             /**< state word 2 */
    uint64_t v3;             /**< state word 3 */
    uint64_t tail;           /**< bytes not yet compressed, little-endian */
    uint64_t total;          /**< bytes written so far */
    int c_rounds;            /**< compression rounds per word */
    int d_rounds;            /**< finalisation rounds */
} hm_sip;

/**
 * @brief Starts a streaming hash under @p key with the given round counts
 * (1 and 3 for SipHash-1-3, 2 and 4 for SipHash-2-4).
 *
 * Round counts below 1 are treated as 1.
 */
HM_API void hm_sip_init(hm_sip *s, const uint8_t key[16], int c_rounds, int d_rounds);

/** @brief Feeds @p len bytes at @p data; any split of a message gives the same result. */
HM_API void hm_sip_write(hm_sip *s, const void *data, size_t len);

/**
 * @brief The hash of everything written so far.
 *
 * @p s is not changed, so writing may go on afterwards.
 * @return the 64-bit hash; this function cannot fail.
 */
HM_API uint64_t hm_sip_finish(const hm_sip *s);

#ifdef __cplusplus
}
#endif

#endif /* HASHMAP_SIPHASH_H */
