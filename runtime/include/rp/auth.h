/* rp/auth.h: what the compiler and the runtime share about `auth basic`'s
 * user files, so that a hash the proxy would skip fails the build. */
#ifndef RP_AUTH_PUBLIC_H
#define RP_AUTH_PUBLIC_H

#include <stdbool.h>
#include <stddef.h>

/* Whether the proxy verifies passwords against a hash of this form:
 * libcrypt's strong methods (bcrypt, yescrypt, gost-yescrypt, scrypt,
 * sha512crypt) and sha256crypt, which libcrypt counts as legacy but which
 * is still strong enough; not MD5 or DES crypt. */
bool rp_auth_hash_usable(const char *hash);

/* The lines of a user file (text, NUL-terminated, split in place): for
 * each line that is neither blank nor a `#` comment, entry(ctx, its
 * number, the user, the hash), user and hash NUL-terminated; user NULL
 * when the line is not "user:hash" (then hash is the line). CRLF line
 * ends are taken. Returns the number of lines. */
unsigned rp_auth_users_each(char *text, void (*entry)(void *ctx, unsigned lineno, char *user,
                                                      char *hash),
                            void *ctx);

/* `auth jwt jwks "FILE"`: whether the JWKS document at path holds keys,
 * each well formed, one at least for an algorithm in algs (1u << enum
 * rp_jws_alg). False with error (naming the file as shown) when not. */
bool rp_jwks_inspect(const char *path, const char *shown, unsigned algs, char *error,
                     size_t size);

#endif
