/* base64.h: base64 (RFC 4648 section 4, with padding: Basic credentials)
 * and base64url (section 5, without padding: JSON Web Tokens), decoded
 * strictly: one encoding per value (the bits under the padding, or left
 * over at the end, are zero), nothing outside the alphabet. */
#ifndef RP_BASE64_H
#define RP_BASE64_H

#include <stddef.h>

/* Decode into out (at most cap bytes); the length, or -1 when s[0..n) is
 * not that encoding or does not fit. */
int rp_base64_decode(const char *s, size_t n, unsigned char *out, size_t cap);
int rp_base64url_decode(const char *s, size_t n, unsigned char *out, size_t cap);

#endif
