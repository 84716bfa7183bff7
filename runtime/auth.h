/* auth.h: HTTP Basic authentication (`auth basic "realm" file "users"`,
 * RFC 7617) against user files in htpasswd's form ("user:hash" lines),
 * hashes checked by libcrypt (bcrypt, yescrypt, sha512crypt, sha256crypt).
 *
 * The files are read when the proxy starts and again on SIGHUP (a file
 * that fails to load leaves the users in use). A hash costs milliseconds
 * on purpose, so each worker keeps the credentials it verified, and those
 * it refused, for a short while: a client sending the same Authorization
 * on every request pays for one verification. */
#ifndef RP_AUTH_H
#define RP_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "rp/auth.h"
#include "rp/program.h"

/* Reads every user file of prog. Returns -1 (logged) when one cannot be
 * read: the proxy does not start without its users. */
int rp_auth_load(const struct rp_program *prog);
/* SIGHUP: reads them again; a file that fails keeps its users in use. */
void rp_auth_reload(void);
void rp_auth_shutdown(void);
/* Whether the program has user files (SIGHUP has something to reload). */
bool rp_auth_files(void);

/* A worker's memory of verified and refused credentials. */
struct rp_auth_cache;
struct rp_auth_cache *rp_auth_cache_new(void);
void rp_auth_cache_free(struct rp_auth_cache *c);

enum rp_auth_verdict {
    RP_AUTH_OK = 0,
    RP_AUTH_MISSING,   /* no Authorization, or another scheme */
    RP_AUTH_MALFORMED, /* Basic, but not base64 of "user:password" */
    RP_AUTH_UNKNOWN,   /* no such user */
    RP_AUTH_WRONG,     /* the password does not match */
};

/* Why, for logs: "auth: no credentials", ... */
const char *rp_auth_reason(enum rp_auth_verdict v);

#define RP_AUTH_USER_MAX 64

/* Checks an Authorization field's value (NULL: none) against def's users.
 * The user name as sent is copied to user (at most RP_AUTH_USER_MAX - 1
 * bytes, NUL-terminated) whenever one could be read. */
enum rp_auth_verdict rp_auth_basic_check(const struct rp_auth_basic_def *def, const char *field,
                                         uint32_t field_len, struct rp_auth_cache *cache,
                                         double now, char *user);

#endif
