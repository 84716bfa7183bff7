/* fuzz_auth.c: libFuzzer target over what a client sends to `auth basic`
 * and `auth jwt` (runtime/auth.c, runtime/jwt.c): Authorization values
 * (base64 of "user:password") and tokens (base64url JSON, signatures).
 *
 * Input: a subject byte, then the bytes a client sent. Invariants:
 *  - basic: the check never crashes or reads past the value, and is never
 *    OK (the user file is empty); a value that decodes (rp_base64_decode)
 *    re-encodes to itself; no credentials, no user name;
 *  - jwt: the check never crashes; an HS256 token made here of the input
 *    as claims, signed with the key, is OK exactly when the input is one
 *    JSON object whose exp, nbf, iss and aud (none required here) do not
 *    refuse it; with one byte of its signature changed it is never OK;
 *    the input itself as a token is never OK unless it is that token.
 * Every slice is copied to a heap block of exactly its size, so ASan
 * reports a read past it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/hmac.h>

#include "auth.h"
#include "base64.h"
#include "jwt.h"

static const char secret[] = "fuzz-secret-fuzz-secret-fuzz-secret!";
static struct rp_jwt_def jwt_def = {.where = "fuzz:1", .algs = 1u << RP_JWS_HS256};
static struct rp_auth_basic_def basic_def = {.where = "fuzz:2", .realm = "f"};
static struct rp_auth_cache *cache;

static void write_file(char *path, const char *text)
{
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        abort();
    close(fd);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    static char key[] = "/tmp/rpx-fuzz-jwt.XXXXXX", users[] = "/tmp/rpx-fuzz-users.XXXXXX";
    write_file(key, secret);
    /* no user (a hash per input would make the fuzzer crawl): the parsing
     * of what the client sends is what is searched */
    write_file(users, "# nobody\n");
    jwt_def.key_file = key;
    basic_def.file = users;
    const struct rp_jwt_def *jwts[] = {&jwt_def};
    const struct rp_auth_basic_def *auths[] = {&basic_def};
    struct rp_program prog = {.n_jwts = 1, .jwts = jwts, .n_auths = 1, .auths = auths};
    if (rp_jwt_load(&prog) < 0 || rp_auth_load(&prog) < 0)
        abort();
    cache = rp_auth_cache_new();
    return 0;
}

static size_t b64url(const unsigned char *in, size_t n, char *out)
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
    return o;
}

static void fuzz_basic(const uint8_t *data, size_t size)
{
    char *field = malloc(size + 1);
    memcpy(field, data, size);
    char user[RP_AUTH_USER_MAX];
    enum rp_auth_verdict v =
        rp_auth_basic_check(&basic_def, size ? field : NULL, (uint32_t)size, cache, 1.0, user);
    if (v == RP_AUTH_OK)
        abort();
    if (v == RP_AUTH_MISSING && user[0])
        abort(); /* no credentials, no user */
    unsigned char out[512];
    int n = rp_base64_decode(field, size, out, sizeof out);
    if (n >= 0) {
        static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        char back[1024];
        size_t o = 0;
        for (int i = 0; i < n; i += 3) {
            uint32_t w = (uint32_t)out[i] << 16 | (i + 1 < n ? (uint32_t)out[i + 1] << 8 : 0) |
                         (i + 2 < n ? out[i + 2] : 0);
            back[o++] = t[w >> 18];
            back[o++] = t[(w >> 12) & 63];
            back[o++] = i + 1 < n ? t[(w >> 6) & 63] : '=';
            back[o++] = i + 2 < n ? t[w & 63] : '=';
        }
        if (o != size || memcmp(back, field, size) != 0)
            abort();
    }
    free(field);
}

static void fuzz_jwt(const uint8_t *data, size_t size)
{
    char sub[64];
    double exp;
    char *raw = malloc(size + 1);
    memcpy(raw, data, size);
    if (rp_jwt_check_token(&jwt_def, raw, size, 1e9, sub, &exp) == RP_JWT_OK) {
        /* only a token signed with the secret passes: the input would have
         * to hold a valid HMAC of itself */
        abort();
    }
    free(raw);
    if (size > 2000)
        return;
    /* the input as claims of a token signed here */
    static const char head[] = "{\"alg\":\"HS256\"}";
    char tok[4096];
    size_t n = b64url((const unsigned char *)head, sizeof head - 1, tok);
    tok[n++] = '.';
    n += b64url(data, size, tok + n);
    unsigned char mac[32];
    unsigned len = 0;
    HMAC(EVP_sha256(), secret, sizeof secret - 1, (unsigned char *)tok, n, mac, &len);
    tok[n++] = '.';
    size_t sig_at = n;
    n += b64url(mac, len, tok + n);
    char *t = malloc(n);
    memcpy(t, tok, n);
    enum rp_jwt_verdict v = rp_jwt_check_token(&jwt_def, t, n, 1e9, sub, &exp);
    if (v == RP_JWT_SIGNATURE || v == RP_JWT_ALG)
        abort(); /* it is signed with the key, by the algorithm allowed */
    t[sig_at] = t[sig_at] == 'A' ? 'B' : 'A';
    if (rp_jwt_check_token(&jwt_def, t, n, 1e9, sub, &exp) == RP_JWT_OK)
        abort();
    free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] & 1)
        fuzz_basic(data + 1, size - 1);
    else
        fuzz_jwt(data + 1, size - 1);
    return 0;
}
