/* hash.c: rp_hash_bytes (hash.h). */
#include <string.h>

#include "hash.h"

/* wyhash's construction (Wang Yi, public domain): 128-bit multiplies folded
 * to 64, reading 8 bytes at a time. Cache keys are URLs of 20-200 bytes;
 * this is several times faster than byte-wise FNV on those and mixes every
 * input bit into every output bit. */
static inline uint64_t mum(uint64_t a, uint64_t b)
{
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/* The full product, low half in a and high half in b. */
static inline void mum2(uint64_t *a, uint64_t *b)
{
    __uint128_t r = (__uint128_t)*a * *b;
    *a = (uint64_t)r;
    *b = (uint64_t)(r >> 64);
}

static inline uint64_t rd64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint64_t rd32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

uint64_t rp_hash_bytes(const void *key, size_t len, uint64_t seed)
{
    static const uint64_t k0 = 0xa0761d6478bd642full, k1 = 0xe7037ed1a0b428dbull,
                          k2 = 0x8ebc6af09c88c6e3ull, k3 = 0x589965cc75374cc3ull;
    const unsigned char *p = (const unsigned char *)key;
    uint64_t a, b;
    seed ^= 0x2d358dccaa6c78a5ull;
    if (len <= 16) {
        if (len >= 4) {
            /* Two overlapping 4-byte reads from each end cover 4..16 bytes. */
            size_t q = (len >> 3) << 2;
            a = (rd32(p) << 32) | rd32(p + q);
            b = (rd32(p + len - 4) << 32) | rd32(p + len - 4 - q);
        } else if (len > 0) {
            a = ((uint64_t)p[0] << 16) | ((uint64_t)p[len >> 1] << 8) | p[len - 1];
            b = 0;
        } else {
            a = b = 0;
        }
    } else {
        size_t i = len;
        if (i > 48) {
            /* Three independent lanes, so the multiplies overlap. */
            uint64_t s1 = seed, s2 = seed;
            do {
                seed = mum(rd64(p) ^ k1, rd64(p + 8) ^ seed);
                s1 = mum(rd64(p + 16) ^ k2, rd64(p + 24) ^ s1);
                s2 = mum(rd64(p + 32) ^ k3, rd64(p + 40) ^ s2);
                p += 48;
                i -= 48;
            } while (i > 48);
            seed ^= s1 ^ s2;
        }
        while (i > 16) {
            seed = mum(rd64(p) ^ k1, rd64(p + 8) ^ seed);
            p += 16;
            i -= 16;
        }
        /* The last 16 bytes, overlapping what came before when i < 16. */
        a = rd64(p + i - 16);
        b = rd64(p + i - 8);
    }
    a ^= k1;
    b ^= seed;
    mum2(&a, &b);
    return mum(a ^ k0 ^ len, b ^ k1);
}
