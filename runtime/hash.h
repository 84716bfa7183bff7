/* hash.h: one fast 64-bit hash of byte strings, for every table the
 * runtime keys by request data (the cache's objects, the limits' keys),
 * and the constant-time comparison of what such a table keeps secret. */
#ifndef RP_HASH_H
#define RP_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* wyhash's construction: every input bit reaches every output bit; a
 * different seed gives an unrelated function. */
uint64_t rp_hash_bytes(const void *p, size_t len, uint64_t seed);

/* Whether a[0..n) equals b[0..n), in a time that depends on n only: a
 * table holding secrets (verified credentials, tokens) must not tell one
 * byte by byte through response times. Eight bytes at a time. */
static inline bool rp_equal_ct(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    uint64_t d = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t u, v;
        memcpy(&u, x + i, 8);
        memcpy(&v, y + i, 8);
        d |= u ^ v;
    }
    for (; i < n; i++)
        d |= (uint64_t)(x[i] ^ y[i]);
    return d == 0;
}

/* The same construction for exactly 16 bytes (an address), inline: two
 * multiplies, no loop. */
static inline uint64_t rp_hash16(const void *p, uint64_t seed)
{
    uint64_t a, b;
    memcpy(&a, p, 8);
    memcpy(&b, (const char *)p + 8, 8);
    __uint128_t r = (__uint128_t)(a ^ seed ^ 0xa0761d6478bd642full) * (b ^ 0xe7037ed1a0b428dbull);
    r = (__uint128_t)((uint64_t)r ^ 0x8ebc6af09c88c6e3ull) *
        ((uint64_t)(r >> 64) ^ 0x589965cc75374cc3ull);
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

#endif
