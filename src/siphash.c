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
