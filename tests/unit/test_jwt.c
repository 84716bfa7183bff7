/* test_jwt.c: tokens as rp_jwt_check_token reads them: base64url, the
 * header's algorithm against the route's, HS256 signatures (the public-key
 * ones are e2e, with openssl's keys), exp and nbf with a leeway, iss, aud
 * as a string or an array, and malformed JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/hmac.h>

#include "base64.h"
#include "jwt.h"
#include "t.h"

static const char secret[] = "0123456789abcdef0123456789abcdef";

static void b64url(const unsigned char *in, size_t n, char *out)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t w = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) |
                     (i + 2 < n ? in[i + 2] : 0);
        out[o++] = t[w >> 18];
        out[o++] = t[(w >> 12) & 63];
        if (i + 1 < n)
            out[o++] = t[(w >> 6) & 63];
        if (i + 2 < n)
            out[o++] = t[w & 63];
    }
    out[o] = '\0';
}

/* An HS256 token of header and claims (JSON as written). */
static char *token(const char *header, const char *claims)
{
    static char tok[4096];
    char h[1024], c[2048];
    b64url((const unsigned char *)header, strlen(header), h);
    b64url((const unsigned char *)claims, strlen(claims), c);
    int n = snprintf(tok, sizeof tok, "%s.%s", h, c);
    unsigned char mac[32];
    unsigned len = 0;
    HMAC(EVP_sha256(), secret, 32, (unsigned char *)tok, (size_t)n, mac, &len);
    tok[n++] = '.';
    b64url(mac, len, tok + n);
    return tok;
}

T_SUITE(jwt_base64url)
{
    unsigned char out[16];
    T_EQ(rp_base64url_decode("YWJj", 4, out, sizeof out), 3);
    T_EQ(rp_base64url_decode("YWI", 3, out, sizeof out), 2);
    T_EQ(rp_base64url_decode("YQ", 2, out, sizeof out), 1);
    T_EQ(rp_base64url_decode("Y", 1, out, sizeof out), -1);
    T_EQ(rp_base64url_decode("YR", 2, out, sizeof out), -1);  /* bits left over */
    T_EQ(rp_base64url_decode("YW+j", 4, out, sizeof out), -1); /* base64's alphabet */
    T_EQ(rp_base64url_decode("YWI=", 4, out, sizeof out), -1); /* padding */
    T_EQ(rp_base64url_decode("-_-_", 4, out, sizeof out), 3);
}

T_SUITE(jwt_claims)
{
    char path[] = "/tmp/rpx-jwt-test.XXXXXX";
    int fd = mkstemp(path);
    T_EQ(write(fd, secret, 32), 32);
    close(fd);
    static const char *const aud[] = {"api", "web"};
    struct rp_jwt_def def = {.where = "t:1", .key_file = path, .algs = 1u << RP_JWS_HS256,
                             .issuer = "https://id", .n_audiences = 2, .audiences = aud,
                             .leeway_s = 5};
    const struct rp_jwt_def *defs[] = {&def};
    struct rp_program prog = {.n_jwts = 1, .jwts = defs};
    T_EQ(rp_jwt_load(&prog), 0);
    const char *hs = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    char sub[64];
    double exp;
#define CHECK(tok, now) rp_jwt_check_token(&def, (tok), strlen(tok), (now), sub, &exp)
    char *t = token(hs, "{\"sub\":\"alice\",\"iss\":\"https://id\",\"aud\":\"api\",\"exp\":1000}");
    T_EQ(CHECK(t, 900), RP_JWT_OK);
    T_SLICE(sub, strlen(sub), "alice");
    T_EQ((long long)exp, 1000);
    T_EQ(CHECK(t, 1004), RP_JWT_OK);     /* within the leeway */
    T_EQ(CHECK(t, 1006), RP_JWT_EXPIRED);
    t[strlen(t) - 2] ^= 1;
    T_EQ(CHECK(t, 900), RP_JWT_SIGNATURE);
    t = token(hs, "{\"iss\":\"https://id\",\"aud\":[\"x\", \"web\"],\"exp\":1000,\"nbf\":950}");
    T_EQ(CHECK(t, 900), RP_JWT_EARLY);
    T_EQ(CHECK(t, 946), RP_JWT_OK);      /* nbf within the leeway */
    t = token(hs, "{\"iss\":\"https://id\",\"aud\":[\"x\",\"y\"]}");
    T_EQ(CHECK(t, 900), RP_JWT_AUDIENCE);
    t = token(hs, "{\"iss\":\"https://other\",\"aud\":\"api\"}");
    T_EQ(CHECK(t, 900), RP_JWT_ISSUER);
    t = token(hs, "{\"aud\":\"api\"}");
    T_EQ(CHECK(t, 900), RP_JWT_ISSUER);  /* required, absent */
    t = token("{\"alg\":\"none\"}", "{\"iss\":\"https://id\",\"aud\":\"api\"}");
    T_EQ(CHECK(t, 900), RP_JWT_ALG);
    t = token("{\"alg\":\"RS256\"}", "{\"iss\":\"https://id\",\"aud\":\"api\"}");
    T_EQ(CHECK(t, 900), RP_JWT_ALG);     /* not allowed here */
    t = token("{\"alg\":\"HS256\",\"crit\":[\"x\"]}", "{\"iss\":\"https://id\",\"aud\":\"api\"}");
    T_EQ(CHECK(t, 900), RP_JWT_MALFORMED);
    t = token(hs, "{\"iss\":\"https://id\",\"aud\":\"api\",\"exp\":\"soon\"}");
    T_EQ(CHECK(t, 900), RP_JWT_MALFORMED);
    t = token(hs, "{\"iss\":\"https://id\",\"aud\":\"api\"");
    T_EQ(CHECK(t, 900), RP_JWT_MALFORMED); /* not an object */
    t = token(hs, "{\"iss\":\"https://id\",\"aud\":\"api\"} x");
    T_EQ(CHECK(t, 900), RP_JWT_MALFORMED); /* something after it */
    t = token(hs, "{\"nested\":{\"a\":[1,2,{\"b\":\"}\"}]},\"iss\":\"https://id\",\"aud\":\"api\"}");
    T_EQ(CHECK(t, 900), RP_JWT_OK);
    T_EQ(CHECK("a.b", 900), RP_JWT_MALFORMED);
    T_EQ(CHECK("a.b.c.d", 900), RP_JWT_MALFORMED);
#undef CHECK
    rp_jwt_shutdown();
    unlink(path);
}
