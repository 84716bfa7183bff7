/* jwt.h: `auth jwt`: bearer tokens (RFC 7519) signed with a key the proxy
 * holds (JWS compact serialization, RFC 7515; the algorithms of RFC 7518
 * and EdDSA, verified by tls.c's BoringSSL). A token passes when its
 * header names an algorithm the route allows and the key fits, its
 * signature verifies, and exp, nbf, iss and aud say it may be used now,
 * here. Keys are read from files at start and again on SIGHUP. Each
 * worker remembers the tokens it verified (until they expire) and those it
 * refused, so a client sending the same token pays one verification. */
#ifndef RP_JWT_H
#define RP_JWT_H

#include <stdbool.h>
#include <stdint.h>

#include "rp/program.h"

int rp_jwt_load(const struct rp_program *prog);
void rp_jwt_reload(void);
void rp_jwt_shutdown(void);
bool rp_jwt_keys(void);

struct rp_jwt_cache;
struct rp_jwt_cache *rp_jwt_cache_new(void);
void rp_jwt_cache_free(struct rp_jwt_cache *c);

enum rp_jwt_verdict {
    RP_JWT_OK = 0,
    RP_JWT_MISSING,       /* no token where the route looks */
    RP_JWT_MALFORMED,     /* not three base64url parts of JSON */
    RP_JWT_ALG,           /* an algorithm the route does not take (or "none") */
    RP_JWT_SIGNATURE,     /* the signature does not verify */
    RP_JWT_EXPIRED,       /* exp has passed (beyond the leeway) */
    RP_JWT_EARLY,         /* nbf is still to come */
    RP_JWT_ISSUER,        /* iss is not the one required */
    RP_JWT_AUDIENCE,      /* aud names none of the audiences required */
};

/* For the log's end, and the error_description of WWW-Authenticate. */
const char *rp_jwt_reason(enum rp_jwt_verdict v);

/* Finds the token as def says (Authorization: Bearer, a cookie or a query
 * parameter) and checks it at now (seconds since the epoch). sub gets the
 * token's subject (at most 63 bytes) when it has one. */
enum rp_jwt_verdict rp_jwt_check(const struct rp_jwt_def *def, const struct rp_request_view *v,
                                 struct rp_jwt_cache *cache, double now, char *sub);

/* The claims (decoded JSON) of the token rp_jwt_check found in v, into out
 * (at most cap bytes); 0 when there is none or they do not fit. */
uint32_t rp_jwt_claims(const struct rp_jwt_def *def, const struct rp_request_view *v, char *out,
                       uint32_t cap);

/* The token of a string, for tests: the same checks, no cache. */
enum rp_jwt_verdict rp_jwt_check_token(const struct rp_jwt_def *def, const char *token,
                                       size_t len, double now, char *sub, double *exp);

#endif
