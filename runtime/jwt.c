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
#include "rp/auth.h"
#include "rp/match.h"
#include "tls.h"

/* ---- keys ------------------------------------------------------------------------ */

/* The keys a token may be signed with: one (a PEM key or a secret), or a
 * JWKS file's, each with its kid. */
struct keyset {
    size_t n;
    struct key_entry {
        char kid[128];
        size_t kid_len;
        struct rp_jws_key *key;
    } e[];
};

struct jwt_keys {
    const struct rp_jwt_def *def;
    _Atomic(struct keyset *) set;
    struct keyset *old; /* the one before the last reload: out of use by the next */
    _Atomic uint64_t generation;
};

static struct jwt_keys *keys;
static uint32_t n_keys;

static void keyset_free(struct keyset *ks)
{
    if (!ks)
        return;
    for (size_t i = 0; i < ks->n; i++)
        rp_jws_key_free(ks->e[i].key);
    free(ks);
}

#define HMAC_ALGS ((1u << RP_JWS_HS256) | (1u << RP_JWS_HS384) | (1u << RP_JWS_HS512))

/* A member that is a base64url string, decoded into out. */
static int jwk_bytes(const char *obj, size_t n, const char *name, uint8_t *out, size_t cap)
{
    struct rp_json_value v;
    if (!rp_json_get(obj, n, name, &v) || v.kind != 's')
        return -1;
    return rp_base64url_decode(v.p, (size_t)(v.end - v.p), out, cap);
}

/* One JWK (RFC 7517): its key, or NULL with why (a key of another use or
 * kind: *skip). */
static struct rp_jws_key *jwk_key(const char *obj, size_t n, bool *skip, const char **why)
{
    struct rp_json_value kty, use, crv;
    *skip = false;
    if (!rp_json_get(obj, n, "kty", &kty) || kty.kind != 's') {
        *why = "a key without kty";
        return NULL;
    }
    if (rp_json_get(obj, n, "use", &use) && !rp_json_is(&use, "sig")) {
        *skip = true; /* an encryption key */
        return NULL;
    }
    static uint8_t a[1024], b[1024];
    int al, bl;
    struct rp_jws_key *k = NULL;
    if (rp_json_is(&kty, "RSA")) {
        al = jwk_bytes(obj, n, "n", a, sizeof a);
        bl = jwk_bytes(obj, n, "e", b, sizeof b);
        k = al > 0 && bl > 0 ? rp_jws_key_rsa(a, (size_t)al, b, (size_t)bl) : NULL;
        *why = "an RSA key without n and e, or under 2048 bits";
    } else if (rp_json_is(&kty, "EC")) {
        bool p256 = rp_json_get(obj, n, "crv", &crv) && rp_json_is(&crv, "P-256");
        bool p384 = !p256 && rp_json_is(&crv, "P-384");
        al = jwk_bytes(obj, n, "x", a, sizeof a);
        bl = jwk_bytes(obj, n, "y", b, sizeof b);
        k = (p256 || p384) && al > 0 && bl > 0
                ? rp_jws_key_ec(p256 ? 256 : 384, a, (size_t)al, b, (size_t)bl) : NULL;
        *why = "an EC key that is not a P-256 or P-384 point";
    } else if (rp_json_is(&kty, "OKP")) {
        al = jwk_bytes(obj, n, "x", a, sizeof a);
        k = rp_json_get(obj, n, "crv", &crv) && rp_json_is(&crv, "Ed25519") && al > 0
                ? rp_jws_key_ed25519(a, (size_t)al) : NULL;
        *why = "an OKP key that is not Ed25519";
    } else if (rp_json_is(&kty, "oct")) {
        al = jwk_bytes(obj, n, "k", a, sizeof a);
        k = al >= 32 ? rp_jws_key_secret(a, (size_t)al) : NULL;
        *why = "an oct key of fewer than 32 bytes";
    } else {
        *skip = true; /* a kind this proxy does not verify with */
    }
    return k;
}

/* A JWKS document's keys (RFC 7517 5): {"keys": [JWK, ...]}. */
static struct keyset *jwks_parse(const char *text, size_t len, char *err, size_t cap)
{
    struct rp_json_value arr;
    if (!rp_json_object(text, len) || !rp_json_get(text, len, "keys", &arr) || arr.kind != 'a') {
        snprintf(err, cap, "not a JWKS document ({\"keys\": [...]})");
        return NULL;
    }
    size_t most = 0;
    for (const char *q = arr.p; q < arr.end; q++)
        most += *q == '{';
    struct keyset *ks = calloc(1, sizeof *ks + most * sizeof ks->e[0]);
    if (!ks) {
        snprintf(err, cap, "out of memory");
        return NULL;
    }
    const char *p = rp_json_ws(arr.p + 1, arr.end);
    struct rp_json_value item;
    unsigned index = 0;
    while (p < arr.end && *p != ']' && (p = rp_json_skip(p, arr.end, 1, &item))) {
        index++;
        if (item.kind == 'o' && ks->n < most) {
            bool skip;
            const char *why = "";
            size_t n = (size_t)(item.end - item.p);
            struct rp_jws_key *k = jwk_key(item.p, n, &skip, &why);
            if (!k && !skip) {
                snprintf(err, cap, "key %u: %s", index, why);
                keyset_free(ks);
                return NULL;
            }
            if (k) {
                struct key_entry *e = &ks->e[ks->n++];
                e->key = k;
                struct rp_json_value kid;
                if (rp_json_get(item.p, n, "kid", &kid) && kid.kind == 's' &&
                    (size_t)(kid.end - kid.p) < sizeof e->kid) {
                    e->kid_len = (size_t)(kid.end - kid.p);
                    memcpy(e->kid, kid.p, e->kid_len);
                }
            }
        }
        p = rp_json_ws(p, arr.end);
        if (p < arr.end && *p == ',')
            p = rp_json_ws(p + 1, arr.end);
    }
    if (!ks->n) {
        snprintf(err, cap, "no signing key in it");
        keyset_free(ks);
        return NULL;
    }
    return ks;
}

static struct keyset *keyset_load(const char *path, bool jwks, unsigned algs, char *err,
                                  size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, cap, "%s: %s", path, strerror(errno));
        return NULL;
    }
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    if (n == sizeof buf) {
        snprintf(err, cap, "%s: larger than 1m", path);
        return NULL;
    }
    if (jwks) {
        char why[256];
        struct keyset *ks = jwks_parse(buf, n, why, sizeof why);
        if (!ks)
            snprintf(err, cap, "%s: %s", path, why);
        return ks;
    }
    struct keyset *ks = calloc(1, sizeof *ks + sizeof ks->e[0]);
    if (!ks) {
        snprintf(err, cap, "out of memory");
        return NULL;
    }
    if (algs & HMAC_ALGS) {
        while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
            n--;
        ks->e[0].key = rp_jws_key_secret(buf, n);
        memset(buf, 0, n);
        if (!ks->e[0].key)
            snprintf(err, cap, "out of memory");
    } else {
        char why[128];
        ks->e[0].key = rp_jws_key_pem(buf, n, why, sizeof why);
        if (!ks->e[0].key)
            snprintf(err, cap, "%s: %s", path, why);
    }
    if (!ks->e[0].key) {
        free(ks);
        return NULL;
    }
    ks->n = 1;
    return ks;
}

bool rp_jwks_inspect(const char *path, const char *shown, unsigned algs, char *error,
                     size_t size)
{
    char err[512];
    struct keyset *ks = keyset_load(path, true, algs, err, sizeof err);
    if (!ks) {
        snprintf(error, size, "'%s': %s", shown, strchr(err, ':') ? strchr(err, ':') + 2 : err);
        return false;
    }
    bool any = false;
    for (size_t i = 0; i < ks->n; i++)
        for (unsigned a = RP_JWS_HS256; a <= RP_JWS_EDDSA; a++)
            any |= (algs & (1u << a)) && rp_jws_key_fits(ks->e[i].key, (enum rp_jws_alg)a);
    keyset_free(ks);
    if (!any)
        snprintf(error, size, "'%s' has no key for the algorithms given", shown);
    return any;
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
        const struct rp_jwt_def *def = prog->jwts[i];
        keys[i].def = def;
        struct keyset *ks = keyset_load(def->key_file, def->jwks, def->algs, err, sizeof err);
        if (!ks) {
            rp_error("auth jwt %s: %s", def->where, err);
            return -1;
        }
        atomic_store(&keys[i].set, ks);
        atomic_store(&keys[i].generation, 1);
    }
    return 0;
}

void rp_jwt_reload(void)
{
    for (uint32_t i = 0; i < n_keys; i++) {
        char err[512];
        const struct rp_jwt_def *def = keys[i].def;
        struct keyset *ks = keyset_load(def->key_file, def->jwks, def->algs, err, sizeof err);
        if (!ks) {
            rp_warn("auth jwt %s: reload failed, the keys in use stay: %s", def->where, err);
            continue;
        }
        keyset_free(keys[i].old);
        keys[i].old = atomic_exchange(&keys[i].set, ks);
        atomic_fetch_add(&keys[i].generation, 1);
        rp_info("auth jwt %s: %zu key%s reloaded from %s", def->where, ks->n,
                ks->n == 1 ? "" : "s", def->key_file);
    }
}

void rp_jwt_shutdown(void)
{
    for (uint32_t i = 0; i < n_keys; i++) {
        keyset_free(keys[i].old);
        keyset_free(atomic_load(&keys[i].set));
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
    /* the key: the one its kid names, else any that fits the algorithm */
    struct rp_json_value kid;
    bool has_kid = rp_json_get((char *)head, (size_t)hn, "kid", &kid) && kid.kind == 's';
    const struct keyset *ks = atomic_load_explicit(&keys[def->index].set, memory_order_acquire);
    bool verified = false;
    for (size_t i = 0; i < ks->n && !verified; i++) {
        const struct key_entry *e = &ks->e[i];
        if (def->jwks && has_kid &&
            !((size_t)(kid.end - kid.p) == e->kid_len && !memcmp(kid.p, e->kid, e->kid_len)))
            continue;
        verified = rp_jws_verify(e->key, alg, token, (size_t)(dot2 - token), sig, (size_t)sn);
    }
    if (!verified)
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
