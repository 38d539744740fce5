/*
 * SipHash (Aumasson and Bernstein, 2012): one-shot, reference-style and
 * streaming interfaces. The rounds themselves live in siphash_impl.h, which
 * hashmap.c includes too.
 */
#include "hashmap/siphash.h"

#include "hashmap.h"
#include "siphash_impl.h"

static void store64_le(uint8_t *out, uint64_t w)
{
    for (int i = 0; i < 8; i++)
        out[i] = (uint8_t)(w >> (8 * i));
}

static int at_least_one(int rounds)
{
    return rounds < 1 ? 1 : rounds;
}

HM_API uint64_t hm_siphash13(const void *data, size_t len, const uint8_t key[16])
{
    uint64_t k0, k1;
    hm__sip_key_words(key, &k0, &k1);
    return hm__siphash_cd(data, len, k0, k1, 1, 3);
}

HM_API uint64_t hm_siphash24(const void *data, size_t len, const uint8_t key[16])
{
    uint64_t k0, k1;
    hm__sip_key_words(key, &k0, &k1);
    return hm__siphash_cd(data, len, k0, k1, 2, 4);
}

HM_API int hm_siphash(const void *in, size_t inlen, const uint8_t key[16],
                      uint8_t *out, size_t outlen, int c_rounds, int d_rounds)
{
    if ((outlen != 8 && outlen != 16) || c_rounds < 1 || d_rounds < 1 || key == NULL ||
        out == NULL || (in == NULL && inlen > 0))
        return HM_EINVAL;

    hm__sipv s;
    hm__sip_start_key(&s, key);
    /* SipHash-128 differs from the 64-bit function only in these constants. */
    if (outlen == 16)
        s.v1 ^= 0xee;
    hm__sip_absorb(&s, in, inlen, c_rounds);
    store64_le(out, hm__sip_finalize(&s, outlen == 16 ? 0xee : 0xff, d_rounds));
    if (outlen == 16) {
        s.v1 ^= 0xdd;
        store64_le(out + 8, hm__sip_finalize(&s, 0, d_rounds));
    }
    return 0;
}

HM_API void hm_sip_init(hm_sip *s, const uint8_t key[16], int c_rounds, int d_rounds)
{
    hm__sipv v;
    hm__sip_start_key(&v, key);
    s->v0 = v.v0;
    s->v1 = v.v1;
    s->v2 = v.v2;
    s->v3 = v.v3;
    s->tail = 0;
    s->total = 0;
    s->c_rounds = at_least_one(c_rounds);
    s->d_rounds = at_least_one(d_rounds);
}

/* hm_sip_write's body; inlined with a constant c_rounds for SipHash-1-3, whose
 * rounds then unroll, and with the state's count for the rest. */
HM__SIP_INLINE void sip_write(hm_sip *s, const void *data, size_t len, int c_rounds)
{
    if (len == 0)
        return;

    const unsigned char *p = (const unsigned char *)data;
    hm__sipv v = {s->v0, s->v1, s->v2, s->v3};
    unsigned pending = (unsigned)(s->total & 7);
    uint64_t tail = s->tail;
    size_t i = 0;

    s->total += (uint64_t)len;

    /* Top up a partial word from an earlier write first. */
    if (pending > 0) {
        while (pending < 8 && i < len)
            tail |= (uint64_t)p[i++] << (8 * pending++);
        if (pending < 8) {
            s->tail = tail;
            return;
        }
        hm__sip_compress(&v, tail, c_rounds);
        tail = 0;
    }

    size_t whole = i + ((len - i) & ~(size_t)7);
    for (; i < whole; i += 8)
        hm__sip_compress(&v, hm__load64_le(p + i), c_rounds);
    if (len > whole)
        tail = hm__load_tail_le(p + whole, len - whole);

    s->tail = tail;
    s->v0 = v.v0;
    s->v1 = v.v1;
    s->v2 = v.v2;
    s->v3 = v.v3;
}

HM_API void hm_sip_write(hm_sip *s, const void *data, size_t len)
{
    if (s->c_rounds == 1)
        sip_write(s, data, len, 1);
    else
        sip_write(s, data, len, s->c_rounds);
}

HM_API uint64_t hm_sip_finish(const hm_sip *s)
{
    /* A copy: finishing must leave *s able to take more bytes. */
    hm__sipv v = {s->v0, s->v1, s->v2, s->v3};
    uint64_t last = hm__sip_last_word(s->tail, s->total);
    if (s->c_rounds == 1 && s->d_rounds == 3) { /* SipHash-1-3, its rounds unrolled */
        hm__sip_compress(&v, last, 1);
        return hm__sip_finalize(&v, 0xff, 3);
    }
    hm__sip_compress(&v, last, s->c_rounds);
    return hm__sip_finalize(&v, 0xff, s->d_rounds);
}

/* ---- Eight keys at once -------------------------------------------------
 *
 * A SipHash round is four chains of dependent additions, rotations and xors:
 * one key at a time, the processor runs little else beside them, and a hash
 * of an 8-byte key took about 8 ns here (2026-11-30). Eight keys hashed in the
 * lanes of vector registers run the same instructions once for all eight:
 * 3.7 ns a key with AVX2 (two registers of four lanes a state word) and 1.7 ns
 * with AVX-512F (one of eight, whose vprolq rotates in one instruction).
 * Each lane does exactly what hm__siphash13_from does for its key.
 *
 * Keys `stride` bytes apart are read where they lie, one load each (8-byte
 * keys in 16-byte slots, a u64 map's, in two 64-byte loads and a
 * permutation). The rehash used to copy a group's keys into a buffer first,
 * and the vector load of that buffer, which spans eight recent stores, could
 * not be served from the store buffer: it waited for all eight to reach the
 * cache. Reading the slots, resizes took 0.86x-0.97x the time (u64 and flat
 * at 10,000 to 10,000,000 entries, docs/design.md, "Growing in place"). */

int hm__sip_x8_max_level = HM__SIP_X8_AVX512;

static void sip13_x8_scalar(const hm__sipv *start, const void *keys, size_t key_size,
                            size_t stride, uint64_t out[8])
{
    const unsigned char *k = (const unsigned char *)keys;
    for (size_t j = 0; j < 8; j++)
        out[j] = hm__siphash13_from(start, k + j * stride, key_size);
}

#if !defined(HM_PORTABLE) && defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HM__SIP_X86 1
#include <immintrin.h>

static inline __m128i load128(const unsigned char *p)
{
    return _mm_loadu_si128((const __m128i *)(const void *)p);
}

/* -- AVX2: four lanes a register, eight keys in two sets of registers. */

#define X2_ATTR __attribute__((target("avx2"), always_inline)) static inline

typedef struct {
    __m256i v0, v1, v2, v3;
} sip_x4;

X2_ATTR __m256i x2_rotl(__m256i x, int b)
{
    return _mm256_or_si256(_mm256_slli_epi64(x, b), _mm256_srli_epi64(x, 64 - b));
}

/* A rotation by 16 bits moves whole bytes: one shuffle. */
X2_ATTR __m256i x2_rotl16(__m256i x)
{
    const __m256i by = _mm256_setr_epi8(6, 7, 0, 1, 2, 3, 4, 5, 14, 15, 8, 9, 10, 11, 12, 13, 6,
                                        7, 0, 1, 2, 3, 4, 5, 14, 15, 8, 9, 10, 11, 12, 13);
    return _mm256_shuffle_epi8(x, by);
}

/* A rotation by 32 bits swaps the halves of each lane. */
X2_ATTR __m256i x2_rotl32(__m256i x) { return _mm256_shuffle_epi32(x, 0xB1); }

X2_ATTR void x2_round(sip_x4 *s)
{
    s->v0 = _mm256_add_epi64(s->v0, s->v1);
    s->v1 = _mm256_xor_si256(x2_rotl(s->v1, 13), s->v0);
    s->v0 = x2_rotl32(s->v0);
    s->v2 = _mm256_add_epi64(s->v2, s->v3);
    s->v3 = _mm256_xor_si256(x2_rotl16(s->v3), s->v2);
    s->v0 = _mm256_add_epi64(s->v0, s->v3);
    s->v3 = _mm256_xor_si256(x2_rotl(s->v3, 21), s->v0);
    s->v2 = _mm256_add_epi64(s->v2, s->v1);
    s->v1 = _mm256_xor_si256(x2_rotl(s->v1, 17), s->v2);
    s->v2 = x2_rotl32(s->v2);
}

X2_ATTR void x2_compress(sip_x4 *s, __m256i m)
{
    s->v3 = _mm256_xor_si256(s->v3, m);
    x2_round(s);
    s->v0 = _mm256_xor_si256(s->v0, m);
}

/* Two 16-byte keys, p and p + stride, in one register. */
X2_ATTR __m256i x2_load_pair(const unsigned char *p, size_t stride)
{
    if (stride == 16)
        return _mm256_loadu_si256((const __m256i *)(const void *)p);
    return _mm256_inserti128_si256(_mm256_castsi128_si256(load128(p)), load128(p + stride),
                                   1);
}

/* Four keys from k, stride bytes apart: their words (w1 only for 16-byte
 * keys) and closing word. */
X2_ATTR void x2_load(const unsigned char *k, size_t key_size, size_t stride, __m256i *w0,
                     __m256i *w1, __m256i *last)
{
    const uint64_t len_word = (uint64_t)key_size << 56;
    const __m256i len = _mm256_set1_epi64x((long long)len_word);
    if (key_size == 4) {
        __m128i d = stride == 4 ? load128(k)
                                : _mm_setr_epi32((int)hm__load32_le(k),
                                                 (int)hm__load32_le(k + stride),
                                                 (int)hm__load32_le(k + 2 * stride),
                                                 (int)hm__load32_le(k + 3 * stride));
        *last = _mm256_or_si256(_mm256_cvtepu32_epi64(d), len);
    } else if (key_size == 8) {
        *w0 = stride == 8 ? _mm256_loadu_si256((const __m256i *)(const void *)k)
                          : _mm256_setr_epi64x((long long)hm__load64_le(k),
                                               (long long)hm__load64_le(k + stride),
                                               (long long)hm__load64_le(k + 2 * stride),
                                               (long long)hm__load64_le(k + 3 * stride));
        *last = len;
    } else {
        /* Keys 0 and 1, then 2 and 3: the low words come out in the lane
         * order 0, 2, 1, 3, as do the high ones (x2_hash puts it back). */
        __m256i a = x2_load_pair(k, stride);
        __m256i b = x2_load_pair(k + 2 * stride, stride);
        *w0 = _mm256_unpacklo_epi64(a, b);
        *w1 = _mm256_unpackhi_epi64(a, b);
        *last = len;
    }
}

X2_ATTR void x2_hash(const hm__sipv *start, const unsigned char *k, size_t key_size,
                     size_t stride, uint64_t out[4])
{
    sip_x4 s = {_mm256_set1_epi64x((long long)start->v0), _mm256_set1_epi64x((long long)start->v1),
                _mm256_set1_epi64x((long long)start->v2), _mm256_set1_epi64x((long long)start->v3)};
    __m256i w0 = _mm256_setzero_si256(), w1 = w0, last = w0;
    x2_load(k, key_size, stride, &w0, &w1, &last);
    if (key_size >= 8)
        x2_compress(&s, w0);
    if (key_size == 16)
        x2_compress(&s, w1);
    x2_compress(&s, last);
    s.v2 = _mm256_xor_si256(s.v2, _mm256_set1_epi64x(0xff));
    x2_round(&s);
    x2_round(&s);
    x2_round(&s);
    __m256i h = _mm256_xor_si256(_mm256_xor_si256(s.v0, s.v1), _mm256_xor_si256(s.v2, s.v3));
    if (key_size == 16)
        h = _mm256_permute4x64_epi64(h, 0xD8); /* lanes 0, 2, 1, 3 back in order */
    _mm256_storeu_si256((__m256i *)(void *)out, h);
}

__attribute__((target("avx2"))) static void sip13_x8_avx2(const hm__sipv *start, const void *keys,
                                                          size_t key_size, size_t stride,
                                                          uint64_t out[8])
{
    const unsigned char *k = (const unsigned char *)keys;
    x2_hash(start, k, key_size, stride, out);
    x2_hash(start, k + 4 * stride, key_size, stride, out + 4);
}

/* -- AVX-512F: eight lanes a register. */

#define X5_ATTR __attribute__((target("avx512f"), always_inline)) static inline

typedef struct {
    __m512i v0, v1, v2, v3;
} sip_x8;

X5_ATTR void x5_round(sip_x8 *s)
{
    s->v0 = _mm512_add_epi64(s->v0, s->v1);
    s->v1 = _mm512_xor_si512(_mm512_rol_epi64(s->v1, 13), s->v0);
    s->v0 = _mm512_rol_epi64(s->v0, 32);
    s->v2 = _mm512_add_epi64(s->v2, s->v3);
    s->v3 = _mm512_xor_si512(_mm512_rol_epi64(s->v3, 16), s->v2);
    s->v0 = _mm512_add_epi64(s->v0, s->v3);
    s->v3 = _mm512_xor_si512(_mm512_rol_epi64(s->v3, 21), s->v0);
    s->v2 = _mm512_add_epi64(s->v2, s->v1);
    s->v1 = _mm512_xor_si512(_mm512_rol_epi64(s->v1, 17), s->v2);
    s->v2 = _mm512_rol_epi64(s->v2, 32);
}

X5_ATTR void x5_compress(sip_x8 *s, __m512i m)
{
    s->v3 = _mm512_xor_si512(s->v3, m);
    x5_round(s);
    s->v0 = _mm512_xor_si512(s->v0, m);
}

/* Four 16-byte blocks, p + j * stride for j 0 to 3, in one register. */
X5_ATTR __m512i x5_load4x16(const unsigned char *p, size_t stride)
{
    if (stride == 16)
        return _mm512_loadu_si512(p);
    __m512i r = _mm512_castsi128_si512(load128(p));
    r = _mm512_inserti32x4(r, load128(p + stride), 1);
    r = _mm512_inserti32x4(r, load128(p + 2 * stride), 2);
    return _mm512_inserti32x4(r, load128(p + 3 * stride), 3);
}

__attribute__((target("avx512f"))) static void sip13_x8_avx512(const hm__sipv *start,
                                                               const void *keys, size_t key_size,
                                                               size_t stride, uint64_t out[8])
{
    const unsigned char *k = (const unsigned char *)keys;
    const uint64_t len_word = (uint64_t)key_size << 56;
    const __m512i len = _mm512_set1_epi64((long long)len_word);
    sip_x8 s = {_mm512_set1_epi64((long long)start->v0), _mm512_set1_epi64((long long)start->v1),
                _mm512_set1_epi64((long long)start->v2), _mm512_set1_epi64((long long)start->v3)};
    __m512i last = len;
    const __m512i even = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);
    const __m512i odd = _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15);
    if (key_size == 4) {
        __m256i d = stride == 4 ? _mm256_loadu_si256((const __m256i *)(const void *)k)
                                : _mm256_setr_epi32((int)hm__load32_le(k),
                                                    (int)hm__load32_le(k + stride),
                                                    (int)hm__load32_le(k + 2 * stride),
                                                    (int)hm__load32_le(k + 3 * stride),
                                                    (int)hm__load32_le(k + 4 * stride),
                                                    (int)hm__load32_le(k + 5 * stride),
                                                    (int)hm__load32_le(k + 6 * stride),
                                                    (int)hm__load32_le(k + 7 * stride));
        last = _mm512_or_si512(_mm512_cvtepu32_epi64(d), len);
    } else if (key_size == 8 && stride == 8) {
        x5_compress(&s, _mm512_loadu_si512(k));
    } else if (key_size == 8 && stride == 16) {
        /* Slots 0-3 and 4-7 whole: the keys are the even words. */
        x5_compress(&s, _mm512_permutex2var_epi64(_mm512_loadu_si512(k), even,
                                                  _mm512_loadu_si512(k + 64)));
    } else if (key_size == 8) {
        x5_compress(&s, _mm512_setr_epi64(
                            (long long)hm__load64_le(k), (long long)hm__load64_le(k + stride),
                            (long long)hm__load64_le(k + 2 * stride),
                            (long long)hm__load64_le(k + 3 * stride),
                            (long long)hm__load64_le(k + 4 * stride),
                            (long long)hm__load64_le(k + 5 * stride),
                            (long long)hm__load64_le(k + 6 * stride),
                            (long long)hm__load64_le(k + 7 * stride)));
    } else {
        /* Keys 0-3 and 4-7: the even words are the low halves, the odd ones the high. */
        __m512i a = x5_load4x16(k, stride), b = x5_load4x16(k + 4 * stride, stride);
        x5_compress(&s, _mm512_permutex2var_epi64(a, even, b));
        x5_compress(&s, _mm512_permutex2var_epi64(a, odd, b));
    }
    x5_compress(&s, last);
    s.v2 = _mm512_xor_si512(s.v2, _mm512_set1_epi64(0xff));
    x5_round(&s);
    x5_round(&s);
    x5_round(&s);
    __m512i h = _mm512_xor_si512(_mm512_xor_si512(s.v0, s.v1), _mm512_xor_si512(s.v2, s.v3));
    _mm512_storeu_si512(out, h);
}
#else
#define HM__SIP_X86 0
#endif

hm__sip13_x8_fn *hm__sip13_x8_at(int level)
{
#if HM__SIP_X86
    /* For a map made before the constructors ran, in one of the user's own:
     * __builtin_cpu_supports reads what this fills in. */
    __builtin_cpu_init();
#endif
    switch (level) {
    case HM__SIP_X8_SCALAR:
        return sip13_x8_scalar;
#if HM__SIP_X86
    case HM__SIP_X8_AVX2:
        return __builtin_cpu_supports("avx2") ? sip13_x8_avx2 : NULL;
    case HM__SIP_X8_AVX512:
        return __builtin_cpu_supports("avx512f") ? sip13_x8_avx512 : NULL;
#endif
    default:
        return NULL;
    }
}

int hm__sip_pair_level(void)
{
#if HM__SIP_PAIR
    if (hm__sip_x8_max_level >= HM__SIP_X8_AVX512 && hm__sip_pair_runs())
        return HM__SIP_X8_AVX512;
    if (hm__sip_x8_max_level >= HM__SIP_X8_AVX2 && hm__sip_pair_avx2_runs())
        return HM__SIP_X8_AVX2;
#endif
    return HM__SIP_X8_SCALAR;
}

hm__sip13_x8_fn *hm__sip13_x8_best(void)
{
    for (int level = hm__sip_x8_max_level; level > HM__SIP_X8_SCALAR; level--) {
        hm__sip13_x8_fn *f = hm__sip13_x8_at(level);
        if (f)
            return f;
    }
    return NULL;
}
