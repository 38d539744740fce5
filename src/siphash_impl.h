/*
 * SipHash internals shared by siphash.c and hashmap.c.
 *
 * Everything here is static inline so that the map's hot path can hash a key
 * without a call through the exported functions, and so that a caller passing
 * constant round counts (1 and 3) gets the rounds unrolled.
 */
#ifndef HM_SIPHASH_IMPL_H
#define HM_SIPHASH_IMPL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * On a little-endian host a memcpy of 8 bytes is the little-endian word and
 * compiles to one unaligned load. Elsewhere, and when HM_PORTABLE asks for the
 * plain-C code, the word is assembled byte by byte, which is right on any host.
 */
#if !defined(HM_PORTABLE) && defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HM__SIP_LE_MEMCPY 1
#else
#define HM__SIP_LE_MEMCPY 0
#endif

/*
 * GCC declines to inline the absorb loop into each caller, which leaves the
 * round counts as runtime values and the rounds rolled up in loops; forcing
 * it lets constant counts (1 and 3) unroll.
 */
#if defined(__GNUC__) || defined(__clang__)
#define HM__SIP_INLINE static inline __attribute__((always_inline))
#else
#define HM__SIP_INLINE static inline
#endif

/* The four state words, kept together so that helpers can update them in place. */
typedef struct hm__sipv {
    uint64_t v0, v1, v2, v3;
} hm__sipv;

HM__SIP_INLINE uint64_t hm__rotl64(uint64_t x, unsigned b)
{
    return (x << b) | (x >> (64u - b));
}

HM__SIP_INLINE uint64_t hm__load64_le(const unsigned char *p)
{
#if HM__SIP_LE_MEMCPY
    uint64_t w;
    memcpy(&w, p, sizeof w);
    return w;
#else
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
           (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
           (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
#endif
}

HM__SIP_INLINE uint32_t hm__load32_le(const unsigned char *p)
{
#if HM__SIP_LE_MEMCPY
    uint32_t w;
    memcpy(&w, p, sizeof w);
    return w;
#else
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
#endif
}

/*
 * The last 0..7 bytes of a message as a little-endian word. Three loads of
 * 4, 2 and 1 bytes instead of a byte loop: at most three branches, and no
 * read past the end of the message.
 */
HM__SIP_INLINE uint64_t hm__load_tail_le(const unsigned char *p, size_t n)
{
    uint64_t w = 0;
    size_t i = 0;
    if (n >= 4) {
        w = hm__load32_le(p);
        i = 4;
    }
    if (n - i >= 2) {
        w |= ((uint64_t)p[i] | (uint64_t)p[i + 1] << 8) << (8 * i);
        i += 2;
    }
    if (n > i)
        w |= (uint64_t)p[i] << (8 * i);
    return w;
}

HM__SIP_INLINE void hm__sip_round(hm__sipv *s)
{
    s->v0 += s->v1;
    s->v1 = hm__rotl64(s->v1, 13);
    s->v1 ^= s->v0;
    s->v0 = hm__rotl64(s->v0, 32);
    s->v2 += s->v3;
    s->v3 = hm__rotl64(s->v3, 16);
    s->v3 ^= s->v2;
    s->v0 += s->v3;
    s->v3 = hm__rotl64(s->v3, 21);
    s->v3 ^= s->v0;
    s->v2 += s->v1;
    s->v1 = hm__rotl64(s->v1, 17);
    s->v1 ^= s->v2;
    s->v2 = hm__rotl64(s->v2, 32);
}

/* The initial state: the key xored into "somepseudorandomlygeneratedbytes". */
HM__SIP_INLINE void hm__sip_start(hm__sipv *s, uint64_t k0, uint64_t k1)
{
    s->v0 = k0 ^ UINT64_C(0x736f6d6570736575);
    s->v1 = k1 ^ UINT64_C(0x646f72616e646f6d);
    s->v2 = k0 ^ UINT64_C(0x6c7967656e657261);
    s->v3 = k1 ^ UINT64_C(0x7465646279746573);
}

HM__SIP_INLINE void hm__sip_compress(hm__sipv *s, uint64_t m, int c_rounds)
{
    s->v3 ^= m;
    for (int i = 0; i < c_rounds; i++)
        hm__sip_round(s);
    s->v0 ^= m;
}

/* The word that closes every message: its last len % 8 bytes and len mod 256 on top. */
HM__SIP_INLINE uint64_t hm__sip_last_word(uint64_t tail, uint64_t len)
{
    return tail | (len & 0xffu) << 56;
}

/* The d finalisation rounds after v2 ^= @p flag: 0xff, or 0xee for the first half of
 * a 128-bit output (the second half xors 0xdd into v1 itself and passes 0). */
HM__SIP_INLINE uint64_t hm__sip_finalize(hm__sipv *s, uint64_t flag, int d_rounds)
{
    s->v2 ^= flag;
#if defined(__GNUC__) && !defined(__clang__)
    /* GCC keeps a loop of 3 rounds rolled; as straight-line code the
     * rounds of neighbouring hashes interleave better. */
#pragma GCC unroll 4
#endif
    for (int i = 0; i < d_rounds; i++)
        hm__sip_round(s);
    return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

/*
 * Compresses the @p len bytes at @p p and the closing word, leaving the state
 * ready for finalisation. @p p may be NULL when @p len is 0: it is never
 * offset or read then.
 */
HM__SIP_INLINE void hm__sip_absorb(hm__sipv *s, const void *p, size_t len, int c_rounds)
{
    const unsigned char *b = (const unsigned char *)p;
    size_t whole = len & ~(size_t)7;
    uint64_t tail = 0;

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 2
#endif
    for (size_t i = 0; i < whole; i += 8)
        hm__sip_compress(s, hm__load64_le(b + i), c_rounds);
    if (len > whole)
        tail = hm__load_tail_le(b + whole, len - whole);
    hm__sip_compress(s, hm__sip_last_word(tail, (uint64_t)len), c_rounds);
}

/* SipHash-c-d, 64-bit output, of @p len bytes under the key words k0 and k1. */
HM__SIP_INLINE uint64_t hm__siphash_cd(const void *data, size_t len, uint64_t k0, uint64_t k1,
                                      int c_rounds, int d_rounds)
{
    hm__sipv s;
    hm__sip_start(&s, k0, k1);
    hm__sip_absorb(&s, data, len, c_rounds);
    return hm__sip_finalize(&s, 0xff, d_rounds);
}

/*
 * SipHash-1-3 from a start state that hm__sip_start_key() made once for the key:
 * a caller hashing many messages under one key (a map) saves the four xors of
 * the key into the constants, and one step of each hash's longest chain.
 */
HM__SIP_INLINE uint64_t hm__siphash13_from(const hm__sipv *start, const void *data, size_t len)
{
    hm__sipv s = *start;
    hm__sip_absorb(&s, data, len, 1);
    return hm__sip_finalize(&s, 0xff, 3);
}

/* The 16 key bytes as the words k0 and k1, for callers that hash often under one key. */
HM__SIP_INLINE void hm__sip_key_words(const uint8_t key[16], uint64_t *k0, uint64_t *k1)
{
    *k0 = hm__load64_le(key);
    *k1 = hm__load64_le(key + 8);
}

/* The start state under the 16 key bytes. */
HM__SIP_INLINE void hm__sip_start_key(hm__sipv *s, const uint8_t key[16])
{
    uint64_t k0, k1;
    hm__sip_key_words(key, &k0, &k1);
    hm__sip_start(s, k0, k1);
}

/*
 * SipHash-1-3 of eight keys at once, for the map's batched calls and its
 * rehash: out[j] is hm__siphash13_from(start, keys + j * stride, key_size)
 * for key_size 4, 8 or 16 and stride >= key_size: the caller's keys back to
 * back (stride == key_size) or the keys of 8 slots in a row, read where they
 * lie (stride the slot's size). With AVX-512F the eight run in the lanes of
 * one set of vector registers, with AVX2 in two; one key at a time,
 * SipHash's rounds are a chain of dependent instructions (siphash.c, "Eight
 * keys at once").
 */
typedef void hm__sip13_x8_fn(const hm__sipv *start, const void *keys, size_t key_size,
                             size_t stride, uint64_t out[8]);

/* The ways of hashing eight keys, slowest first. */
enum hm__sip_x8_level { HM__SIP_X8_SCALAR, HM__SIP_X8_AVX2, HM__SIP_X8_AVX512, HM__SIP_X8_LEVELS };

/* The function for `level` when this build has it and the processor runs it,
 * else NULL. The scalar level is always there. */
hm__sip13_x8_fn *hm__sip13_x8_at(int level);

/* The fastest function at or below hm__sip_x8_max_level that this build and
 * processor have, or NULL when that is the scalar one, which a caller does
 * better inlining itself. */
hm__sip13_x8_fn *hm__sip13_x8_best(void);

/* For the tests alone: the highest level hm__sip13_x8_best may pick
 * (HM__SIP_X8_AVX512 unless a test lowers it), so that they reach the AVX2
 * and scalar paths on a processor with AVX-512. */
extern int hm__sip_x8_max_level;

/*
 * SipHash-1-3 of one message in the two 64-bit lanes of an SSE register pair.
 * The state sits as a = {v0, v2} and b = {v1, v3}: each half of a round is
 * then one add, one rotate of each lane by its own count, one xor, and one
 * vpshufd that rotates a lane by 32 and swaps the two lanes at once (so that
 * the next half adds {v1, v3} into {v2, v0}). Built twice:
 * - for AVX-512VL (hm__siphash13_pair), whose vprolvq is the rotate: 8
 *   instructions a round where the scalar code takes 14, about 50 an 8-byte
 *   key where it takes about 78;
 * - for AVX2 alone (hm__siphash13_pair_avx2), whose rotate is three
 *   instructions (vpsllvq, vpsrlvq, vpor): 12 a round.
 * A lookup that misses the cache waits with the processor's window full of
 * the instructions after it; with none of them writing a general register
 * (and with AVX-512VL fewer of them), more lookups overlap (docs/design.md,
 * "One key in a register pair"). Every lane does what hm__siphash13_from
 * does; test_siphash checks each build against it and against the published
 * vectors.
 */
#if !defined(HM_PORTABLE) && defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HM__SIP_PAIR 1
#include <immintrin.h>

/* What a function that hashes in a register pair is compiled for; it may run
 * only at the level hm__sip_pair_level() gave (HM__SIP_X8_AVX512 for the
 * first, HM__SIP_X8_AVX2 for the second). */
#define HM__SIP_PAIR_TARGET __attribute__((target("avx512f,avx512vl")))
#define HM__SIP_PAIR_AVX2_TARGET __attribute__((target("avx2")))
#define HM__SIP_PAIR_INLINE HM__SIP_PAIR_TARGET __attribute__((always_inline)) static inline
#define HM__SIP_PAIR_AVX2_INLINE                                                                   \
    HM__SIP_PAIR_AVX2_TARGET __attribute__((always_inline)) static inline

/* Whether this processor runs the AVX-512 pair: AVX-512F and AVX-512VL. */
static inline int hm__sip_pair_runs(void)
{
    __builtin_cpu_init(); /* for a caller that runs before the constructors */
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
}

/* Whether this processor runs the AVX2 pair. */
static inline int hm__sip_pair_avx2_runs(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2");
}

/* The start state as the pair wants it: {v0, v2} then {v1, v3}. */
HM__SIP_INLINE void hm__sip_pair_of(const hm__sipv *s, uint64_t pair[4])
{
    pair[0] = s->v0;
    pair[1] = s->v2;
    pair[2] = s->v1;
    pair[3] = s->v3;
}

/* Each lane of x rotated left by its lane of `count`. */
HM__SIP_PAIR_INLINE __m128i hm__sip_pair_rotl(__m128i x, __m128i count)
{
    return _mm_rolv_epi64(x, count);
}

HM__SIP_PAIR_AVX2_INLINE __m128i hm__sip_pair_avx2_rotl(__m128i x, __m128i count)
{
    const __m128i back = _mm_sub_epi64(_mm_set1_epi64x(64), count);
    return _mm_or_si128(_mm_sllv_epi64(x, count), _mm_srlv_epi64(x, back));
}

/*
 * The round, c = 1 compression and whole hash of one build: NAME prefixes
 * the first two (hm__sip_pair or hm__sip_pair_avx2, whose _rotl it uses),
 * HASH names the third, and HM__SIP_<T>_INLINE gives their attributes.
 * HASH(pair, data, len) is hm__siphash13_from(start, data, len) from the
 * pair of that start state (hm__sip_pair_of).
 */
#define HM__SIP_PAIR_BUILD(NAME, HASH, T)                                                          \
    HM__SIP_##T##_INLINE void NAME##_round(__m128i *a, __m128i *b)                                 \
    {                                                                                              \
        const __m128i first = _mm_set_epi64x(16, 13), second = _mm_set_epi64x(21, 17);             \
        *a = _mm_add_epi64(*a, *b);       /* v0 += v1, v2 += v3 */                                 \
        *b = NAME##_rotl(*b, first);      /* v1 <<<= 13, v3 <<<= 16 */                             \
        *b = _mm_xor_si128(*b, *a);       /* v1 ^= v0, v3 ^= v2 */                                 \
        *a = _mm_shuffle_epi32(*a, 0x1E); /* {v2, v0 <<< 32} */                                    \
        *a = _mm_add_epi64(*a, *b);       /* v2 += v1, v0 += v3 */                                 \
        *b = NAME##_rotl(*b, second);     /* v1 <<<= 17, v3 <<<= 21 */                             \
        *b = _mm_xor_si128(*b, *a);       /* v1 ^= v2, v3 ^= v0 */                                 \
        *a = _mm_shuffle_epi32(*a, 0x1E); /* {v0, v2 <<< 32} */                                    \
    }                                                                                              \
                                                                                                   \
    /* hm__sip_compress with c = 1: v3 ^= m, a round, v0 ^= m. A constant m (a fixed key           \
     * size's last word) goes in as a constant vector: GCC does not fold the byte shift of one,    \
     * and an 8-byte key's hash took two instructions more for it. */                              \
    HM__SIP_##T##_INLINE void NAME##_compress(__m128i *a, __m128i *b, uint64_t m)                  \
    {                                                                                              \
        const __m128i low = _mm_cvtsi64_si128((long long)m); /* {m, 0} */                          \
        const __m128i high = __builtin_constant_p(m) ? _mm_set_epi64x((long long)m, 0)             \
                                                     : _mm_slli_si128(low, 8);                     \
        *b = _mm_xor_si128(*b, high);                                                              \
        NAME##_round(a, b);                                                                        \
        *a = _mm_xor_si128(*a, low);                                                               \
    }                                                                                              \
                                                                                                   \
    HM__SIP_##T##_INLINE uint64_t HASH(const uint64_t pair[4], const void *data, size_t len)       \
    {                                                                                              \
        const unsigned char *p = (const unsigned char *)data;                                      \
        const size_t whole = len & ~(size_t)7;                                                     \
        __m128i a = _mm_loadu_si128((const __m128i *)(const void *)pair);                          \
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(pair + 2));                    \
        uint64_t tail = 0;                                                                         \
        for (size_t i = 0; i < whole; i += 8)                                                      \
            NAME##_compress(&a, &b, hm__load64_le(p + i));                                         \
        if (len > whole)                                                                           \
            tail = hm__load_tail_le(p + whole, len - whole);                                       \
        NAME##_compress(&a, &b, hm__sip_last_word(tail, (uint64_t)len));                           \
        a = _mm_xor_si128(a, _mm_set_epi64x(0xff, 0)); /* v2 ^= 0xff */                            \
        NAME##_round(&a, &b);                                                                      \
        NAME##_round(&a, &b);                                                                      \
        NAME##_round(&a, &b);                                                                      \
        __m128i x = _mm_xor_si128(a, b);                                                           \
        x = _mm_xor_si128(x, _mm_unpackhi_epi64(x, x));                                            \
        return (uint64_t)_mm_cvtsi128_si64(x);                                                     \
    }

HM__SIP_PAIR_BUILD(hm__sip_pair, hm__siphash13_pair, PAIR)
HM__SIP_PAIR_BUILD(hm__sip_pair_avx2, hm__siphash13_pair_avx2, PAIR_AVX2)
#else
#define HM__SIP_PAIR 0
#endif

/* Which pair the one-key calls of a map made now hash in: HM__SIP_X8_AVX512
 * (hm__siphash13_pair) where the build has it, the processor has AVX-512F and
 * AVX-512VL and hm__sip_x8_max_level (which the tests lower to reach the
 * other paths) allows; else HM__SIP_X8_AVX2 (hm__siphash13_pair_avx2) where
 * the processor has AVX2 and the level allows; else HM__SIP_X8_SCALAR, none. */
int hm__sip_pair_level(void);

#endif /* HM_SIPHASH_IMPL_H */
