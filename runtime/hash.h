/* hash.h: one fast 64-bit hash of byte strings, for every table the
 * runtime keys by request data (the cache's objects, the limits' keys). */
#ifndef RP_HASH_H
#define RP_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* wyhash's construction: every input bit reaches every output bit; a
 * different seed gives an unrelated function. */
uint64_t rp_hash_bytes(const void *p, size_t len, uint64_t seed);

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
