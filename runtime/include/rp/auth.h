/* rp/auth.h: what the compiler and the runtime share about `auth basic`'s
 * user files, so that a hash the proxy would skip fails the build. */
#ifndef RP_AUTH_PUBLIC_H
#define RP_AUTH_PUBLIC_H

#include <stdbool.h>

/* Whether the proxy verifies passwords against a hash of this form:
 * libcrypt's strong methods (bcrypt, yescrypt, gost-yescrypt, scrypt,
 * sha512crypt) and sha256crypt, which libcrypt counts as legacy but which
 * is still strong enough; not MD5 or DES crypt. */
bool rp_auth_hash_usable(const char *hash);

#endif
