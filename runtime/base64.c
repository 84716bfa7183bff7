/* base64.c: strict base64 and base64url decoding (base64.h). */
#include <stdbool.h>
#include <stdint.h>

#include "base64.h"

/* A character's value in the alphabet whose last two are c62 and c63;
 * -1 outside it. */
static int value_of(unsigned char ch, char c62, char c63)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    if (ch == (unsigned char)c62)
        return 62;
    if (ch == (unsigned char)c63)
        return 63;
    return -1;
}

/* The one decoder: padded (a multiple of 4, '=' only at the end) or not. */
static int decode(const char *s, size_t n, unsigned char *out, size_t cap, char c62, char c63,
                  bool padded)
{
    if (padded) {
        if (n % 4)
            return -1;
        /* at most two '=', at the end */
        size_t pad = n >= 1 && s[n - 1] == '=' ? (n >= 2 && s[n - 2] == '=' ? 2 : 1) : 0;
        n -= pad;
        if (pad && n % 4 < 2)
            return -1;
    } else if (n % 4 == 1) {
        return -1;
    }
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = value_of((unsigned char)s[i], c62, c63);
        if (v < 0)
            return -1;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o == cap)
                return -1;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    /* the bits left over must be zero: one encoding per value */
    if (bits && (acc & ((1u << bits) - 1)))
        return -1;
    return (int)o;
}

int rp_base64_decode(const char *s, size_t n, unsigned char *out, size_t cap)
{
    return decode(s, n, out, cap, '+', '/', true);
}

int rp_base64url_decode(const char *s, size_t n, unsigned char *out, size_t cap)
{
    return decode(s, n, out, cap, '-', '_', false);
}
