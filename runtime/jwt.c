/* jwt.c: signed bearer tokens (jwt.h). */
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "hash.h"
#include "json.h"
#include "jwt.h"
#include "log.h"
#include "rp/match.h"
#include "tls.h"

/* ---- keys ------------------------------------------------------------------------ */

struct jwt_keys {
    const struct rp_jwt_def *def;
    _Atomic(struct rp_jws_key *) key;
    struct rp_jws_key *old; /* the one before the last reload: out of use by the next */
    _Atomic uint64_t generation;
};

static struct jwt_keys *keys;
static uint32_t n_keys;

static struct rp_jws_key *key_load(const struct rp_jwt_def *def, char *err, size_t cap)
{
    FILE *f = fopen(def->key_file, "rb");
    if (!f) {
        snprintf(err, cap, "%s: %s", def->key_file, strerror(errno));
        return NULL;
    }
    char buf[65536];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    if (n == sizeof buf) {
        snprintf(err, cap, "%s: larger than 64k", def->key_file);
        return NULL;
    }
    bool hmac = def->algs & ((1u << RP_JWS_HS256) | (1u << RP_JWS_HS384) | (1u << RP_JWS_HS512));
    if (hmac) {
        while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
            n--;
        struct rp_jws_key *k = rp_jws_key_secret(buf, n);
        memset(buf, 0, sizeof buf);
        if (!k)
            snprintf(err, cap, "out of memory");
        return k;
    }
    char why[128];
    struct rp_jws_key *k = rp_jws_key_pem(buf, n, why, sizeof why);
    if (!k)
        snprintf(err, cap, "%s: %s", def->key_file, why);
    return k;
}

int rp_jwt_load(const struct rp_program *prog)
{
    if (!prog->n_jwts)
        return 0;
    if (!(keys = calloc(prog->n_jwts, sizeof *keys)))
        return -1;
    n_keys = prog->n_jwts;
    for (uint32_t i = 0; i < n_keys; i++) {
        char err[512];
        keys[i].def = prog->jwts[i];
        struct rp_jws_key *k = key_load(prog->jwts[i], err, sizeof err);
        if (!k) {
            rp_error("auth jwt %s: %s", prog->jwts[i]->where, err);
            return -1;
        }
        atomic_store(&keys[i].key, k);
        atomic_store(&keys[i].generation, 1);
    }
    return 0;
}

void rp_jwt_reload(void)
{
    for (uint32_t i = 0; i < n_keys; i++) {
        char err[512];
        struct rp_jws_key *k = key_load(keys[i].def, err, sizeof err);
        if (!k) {
            rp_warn("auth jwt %s: reload failed, the key in use stays: %s", keys[i].def->where,
                    err);
            continue;
        }
        rp_jws_key_free(keys[i].old);
        keys[i].old = atomic_exchange(&keys[i].key, k);
        atomic_fetch_add(&keys[i].generation, 1);
        rp_info("auth jwt %s: key reloaded from %s", keys[i].def->where, keys[i].def->key_file);
    }
}

void rp_jwt_shutdown(void)
{
    for (uint32_t i = 0; i < n_keys; i++) {
        rp_jws_key_free(keys[i].old);
        rp_jws_key_free(atomic_load(&keys[i].key));
    }
    free(keys);
    keys = NULL;
    n_keys = 0;
}

bool rp_jwt_keys(void)
{
    return n_keys > 0;
}

/* ---- checking ------------------------------------------------------------------------ */

static const struct {
    const char *name;
    enum rp_jws_alg alg;
} algs[] = {
    {"HS256", RP_JWS_HS256}, {"HS384", RP_JWS_HS384}, {"HS512", RP_JWS_HS512},
    {"RS256", RP_JWS_RS256}, {"RS384", RP_JWS_RS384}, {"RS512", RP_JWS_RS512},
    {"PS256", RP_JWS_PS256}, {"PS384", RP_JWS_PS384}, {"PS512", RP_JWS_PS512},
    {"ES256", RP_JWS_ES256}, {"ES384", RP_JWS_ES384}, {"EdDSA", RP_JWS_EDDSA},
};

const char *rp_jwt_reason(enum rp_jwt_verdict v)
{
    switch (v) {
    case RP_JWT_OK: return "done";
    case RP_JWT_MISSING: return "auth: no token";
    case RP_JWT_MALFORMED: return "auth: malformed token";
    case RP_JWT_ALG: return "auth: token algorithm not allowed";
    case RP_JWT_SIGNATURE: return "auth: token signature invalid";
    case RP_JWT_EXPIRED: return "auth: token expired";
    case RP_JWT_EARLY: return "auth: token not valid yet";
    case RP_JWT_ISSUER: return "auth: token issuer not accepted";
    case RP_JWT_AUDIENCE: return "auth: token audience not accepted";
    }
    return "auth";
}

#define TOKEN_MAX 8192

enum rp_jwt_verdict rp_jwt_check_token(const struct rp_jwt_def *def, const char *token,
                                       size_t len, double now, char *sub, double *exp)
{
    sub[0] = '\0';
    *exp = INFINITY;
    const char *dot1 = memchr(token, '.', len);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    if (!dot2 || len > TOKEN_MAX || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)))
        return RP_JWT_MALFORMED;
    static _Thread_local unsigned char head[TOKEN_MAX], body[TOKEN_MAX], sig[1024];
    int hn = rp_base64url_decode(token, (size_t)(dot1 - token), head, sizeof head);
    int bn = rp_base64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), body, sizeof body);
    int sn = rp_base64url_decode(dot2 + 1, len - (size_t)(dot2 + 1 - token), sig, sizeof sig);
    if (hn <= 0 || bn <= 0 || sn < 0 || !rp_json_object((char *)head, (size_t)hn) ||
        !rp_json_object((char *)body, (size_t)bn))
        return RP_JWT_MALFORMED;
    /* the algorithm: named in the header, allowed by the route, fit for the key */
    struct rp_json_value v;
    if (!rp_json_get((char *)head, (size_t)hn, "alg", &v))
        return RP_JWT_MALFORMED;
    enum rp_jws_alg alg = 0;
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++)
        if (rp_json_is(&v, algs[i].name))
            alg = algs[i].alg;
    if (!alg || !(def->algs & (1u << alg)))
        return RP_JWT_ALG; /* "none" among them */
    if (rp_json_get((char *)head, (size_t)hn, "crit", &v))
        return RP_JWT_MALFORMED; /* no extension is understood here (RFC 7515 4.1.11) */
    const struct rp_jws_key *key = atomic_load_explicit(&keys[def->index].key, memory_order_acquire);
    if (!rp_jws_verify(key, alg, token, (size_t)(dot2 - token), sig, (size_t)sn))
        return RP_JWT_SIGNATURE;
    /* the claims */
    const char *c = (const char *)body;
    size_t cn = (size_t)bn;
    if (rp_json_get(c, cn, "sub", &v) && v.kind == 's') {
        size_t n = (size_t)(v.end - v.p) < 63 ? (size_t)(v.end - v.p) : 63;
        memcpy(sub, v.p, n);
        sub[n] = '\0';
    }
    double t;
    if (rp_json_get(c, cn, "exp", &v)) {
        if (!rp_json_number(&v, &t))
            return RP_JWT_MALFORMED;
        *exp = t;
        if (now > t + def->leeway_s)
            return RP_JWT_EXPIRED;
    }
    if (rp_json_get(c, cn, "nbf", &v)) {
        if (!rp_json_number(&v, &t))
            return RP_JWT_MALFORMED;
        if (now + def->leeway_s < t)
            return RP_JWT_EARLY;
    }
    if (def->issuer && !(rp_json_get(c, cn, "iss", &v) && rp_json_is(&v, def->issuer)))
        return RP_JWT_ISSUER;
    if (def->n_audiences) {
        /* aud: one string, or an array of them (RFC 7519 4.1.3) */
        bool ok = false;
        if (rp_json_get(c, cn, "aud", &v)) {
            if (v.kind == 's') {
                for (uint32_t i = 0; i < def->n_audiences && !ok; i++)
                    ok = rp_json_is(&v, def->audiences[i]);
            } else if (v.kind == 'a') {
                const char *p = rp_json_ws(v.p + 1, v.end);
                struct rp_json_value item;
                while (!ok && p < v.end && *p != ']' && (p = rp_json_skip(p, v.end, 1, &item))) {
                    for (uint32_t i = 0; i < def->n_audiences && !ok; i++)
                        ok = rp_json_is(&item, def->audiences[i]);
                    p = rp_json_ws(p, v.end);
                    if (p < v.end && *p == ',')
                        p++;
                }
            }
        }
        if (!ok)
            return RP_JWT_AUDIENCE;
    }
    return RP_JWT_OK;
}

/* ---- the token cache ---------------------------------------------------------------- */

#define CACHE_SLOTS 512
#define CACHED_TOKEN_MAX 1024
#define REFUSED_TTL_S 30.0

struct cached {
    uint64_t generation; /* the key's; 0: empty */
    uint32_t def;
    uint32_t len;
    double until;        /* an OK: the token's exp; a refusal: a while */
    enum rp_jwt_verdict verdict;
    char sub[64];
    char token[CACHED_TOKEN_MAX];
};

struct rp_jwt_cache {
    struct cached slot[CACHE_SLOTS];
};

struct rp_jwt_cache *rp_jwt_cache_new(void)
{
    return calloc(1, sizeof(struct rp_jwt_cache));
}

void rp_jwt_cache_free(struct rp_jwt_cache *c)
{
    free(c);
}

/* The token where def says it is; false when there is none. */
static bool find_token(const struct rp_jwt_def *def, const struct rp_request_view *v,
                       const char **t, uint32_t *n)
{
    if (def->from == RP_JWT_FROM_COOKIE)
        return rp_req_cookie(v, def->from_name, strlen(def->from_name), t, n) && *n;
    if (def->from == RP_JWT_FROM_QUERY)
        return rp_req_query(v, def->from_name, strlen(def->from_name), t, n) && *n;
    const char *f;
    uint32_t len;
    if (!rp_req_header(v, "authorization", 13, &f, &len) || len < 7 ||
        strncasecmp(f, "bearer ", 7) != 0)
        return false;
    const char *p = f + 7, *end = f + len;
    while (p < end && *p == ' ')
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    *t = p;
    *n = (uint32_t)(end - p);
    return *n > 0;
}

enum rp_jwt_verdict rp_jwt_check(const struct rp_jwt_def *def, const struct rp_request_view *v,
                                 struct rp_jwt_cache *cache, double now, char *sub)
{
    const char *token;
    uint32_t len;
    sub[0] = '\0';
    if (!find_token(def, v, &token, &len))
        return RP_JWT_MISSING;
    uint64_t gen = atomic_load_explicit(&keys[def->index].generation, memory_order_relaxed);
    struct cached *slot = NULL;
    if (len <= CACHED_TOKEN_MAX) {
        slot = &cache->slot[rp_hash_bytes(token, len, def->index) % CACHE_SLOTS];
        if (slot->generation == gen && slot->def == def->index && slot->len == len &&
            rp_equal_ct(slot->token, token, len)) {
            if (slot->verdict == RP_JWT_OK && now > slot->until + def->leeway_s)
                return RP_JWT_EXPIRED; /* it was good; its time is over */
            if (slot->verdict == RP_JWT_OK || now < slot->until) {
                memcpy(sub, slot->sub, sizeof slot->sub);
                return slot->verdict;
            }
        }
    }
    double exp;
    enum rp_jwt_verdict r = rp_jwt_check_token(def, token, len, now, sub, &exp);
    /* remembered: a good token until it expires, a refused one a while
     * (an expired or early one is not, its verdict changes with time) */
    if (slot && r != RP_JWT_EXPIRED && r != RP_JWT_EARLY) {
        slot->generation = gen;
        slot->def = def->index;
        slot->len = len;
        slot->verdict = r;
        slot->until = r == RP_JWT_OK ? exp : now + REFUSED_TTL_S;
        memcpy(slot->sub, sub, sizeof slot->sub);
        memcpy(slot->token, token, len);
    }
    return r;
}

uint32_t rp_jwt_claims(const struct rp_jwt_def *def, const struct rp_request_view *v, char *out,
                       uint32_t cap)
{
    const char *token;
    uint32_t len;
    if (!find_token(def, v, &token, &len))
        return 0;
    const char *dot1 = memchr(token, '.', len);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    if (!dot2)
        return 0;
    int n = rp_base64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), (unsigned char *)out, cap);
    return n > 0 ? (uint32_t)n : 0;
}
