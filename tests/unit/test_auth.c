/* test_auth.c: Basic credentials: base64 as RFC 4648 has it (padding,
 * alphabet, no garbage), the verdicts of a check, the hashes the proxy
 * takes, and the cache (a second check of the same credentials costs no
 * hash; a reload forgets what was remembered). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "base64.h"
#include "t.h"

T_SUITE(auth_base64)
{
    unsigned char out[64];
    T_EQ(rp_base64_decode("YWxpY2U6d29uZGVybGFuZA==", 24, out, sizeof out), 16);
    T_OK(memcmp(out, "alice:wonderland", 16) == 0);
    T_EQ(rp_base64_decode("YTpi", 4, out, sizeof out), 3);
    T_EQ(rp_base64_decode("YTo=", 4, out, sizeof out), 2);
    T_EQ(rp_base64_decode("", 0, out, sizeof out), 0);
    T_EQ(rp_base64_decode("YTo", 3, out, sizeof out), -1);    /* no padding */
    T_EQ(rp_base64_decode("Y=o=", 4, out, sizeof out), -1);   /* padding inside */
    T_EQ(rp_base64_decode("YTo=YTo=", 8, out, sizeof out), -1); /* padding before the end */
    T_EQ(rp_base64_decode("YT-_", 4, out, sizeof out), -1);   /* base64url is another alphabet */
    T_EQ(rp_base64_decode("YTp=", 4, out, sizeof out), -1);   /* bits under the padding */
    T_EQ(rp_base64_decode("YWxpY2U6d29uZGVybGFuZA==", 24, out, 8), -1); /* does not fit */
}

T_SUITE(auth_hashes)
{
    T_OK(rp_auth_hash_usable("$2b$05$LPlaZcokMDlZFtBdyrB6YenSX9omL0pJeFuiT.YFLdVec5QiS2X8e"));
    T_OK(rp_auth_hash_usable("$y$j9T$PaFDSMU/wmaT0vyJ9Mvmy.$ldWn4ocrn9pngfR4TUPyaWFGmA3FBjZWNdLH0Qxqba5"));
    T_OK(rp_auth_hash_usable("$5$VLeW8l166p/6fLzC$A/jRNdFcs8BJK5unk05OWeaZdmOIVFeA1fu68WjGV/3"));
    T_OK(!rp_auth_hash_usable("$1$saltsalt$abcdefghijklmnopqrstuv"));
    T_OK(!rp_auth_hash_usable("$apr1$abc$defghijklmnopqrstuv"));
    T_OK(!rp_auth_hash_usable("secret"));
}

static const char *basic(const char *cred, char *buf, size_t cap)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(cred), o = (size_t)snprintf(buf, cap, "Basic ");
    for (size_t i = 0; i < n; i += 3) {
        uint32_t w = (uint32_t)(unsigned char)cred[i] << 16;
        if (i + 1 < n)
            w |= (uint32_t)(unsigned char)cred[i + 1] << 8;
        if (i + 2 < n)
            w |= (unsigned char)cred[i + 2];
        buf[o++] = tbl[w >> 18];
        buf[o++] = tbl[(w >> 12) & 63];
        buf[o++] = i + 1 < n ? tbl[(w >> 6) & 63] : '=';
        buf[o++] = i + 2 < n ? tbl[w & 63] : '=';
    }
    buf[o] = '\0';
    return buf;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static enum rp_auth_verdict check(const struct rp_auth_basic_def *def, const char *field,
                                  struct rp_auth_cache *cache, char *user)
{
    return rp_auth_basic_check(def, field, field ? (uint32_t)strlen(field) : 0, cache, 100.0, user);
}

T_SUITE(auth_check)
{
    char path[] = "/tmp/rpx-auth-test.XXXXXX";
    int fd = mkstemp(path);
    /* alice/wonderland at bcrypt cost 5; slow/slowpw at cost 10 */
    static const char users[] =
        "# users\n"
        "alice:$2b$05$LPlaZcokMDlZFtBdyrB6YenSX9omL0pJeFuiT.YFLdVec5QiS2X8e\r\n"
        "\n"
        "broken:$1$saltsalt$abcdefghijklmnopqrstuv\n"
        "bob:$6$Kjuna8KXJEZPyFkD$tVGlnB3qGtOPkanQFuvfZjOKd45AOVlhhqBjZKzHxUBCBwhjqVp1h4LiTARlM3vlKHY9IUyLn/ubylAka0CkL/\n";
    T_EQ(write(fd, users, sizeof users - 1), (long long)(sizeof users - 1));
    close(fd);
    struct rp_auth_basic_def def = {.where = "t:1", .realm = "R", .file = path, .index = 0};
    const struct rp_auth_basic_def *defs[] = {&def};
    struct rp_program prog = {.n_auths = 1, .auths = defs};
    T_EQ(rp_auth_load(&prog), 0);
    struct rp_auth_cache *cache = rp_auth_cache_new();
    char user[RP_AUTH_USER_MAX], f[256];
#define CHECK(field) check(&def, (field), cache, user)
    T_EQ(CHECK(basic("alice:wonderland", f, sizeof f)), RP_AUTH_OK);
    T_SLICE(user, strlen(user), "alice");
    T_EQ(CHECK(basic("bob:builder", f, sizeof f)), RP_AUTH_OK);
    T_EQ(CHECK(basic("alice:wrong", f, sizeof f)), RP_AUTH_WRONG);
    T_EQ(CHECK(basic("mallory:x", f, sizeof f)), RP_AUTH_UNKNOWN);
    T_EQ(CHECK(basic("broken:x", f, sizeof f)), RP_AUTH_UNKNOWN); /* its line was skipped */
    T_EQ(CHECK(basic("nocolon", f, sizeof f)), RP_AUTH_MALFORMED);
    T_EQ(CHECK(basic("a\x01:b", f, sizeof f)), RP_AUTH_MALFORMED);
    T_EQ(CHECK((const char *)NULL), RP_AUTH_MISSING);
    T_EQ(CHECK("Bearer abc"), RP_AUTH_MISSING);
    T_EQ(CHECK("Basic"), RP_AUTH_MISSING);
    T_EQ(CHECK("Basic !!!!"), RP_AUTH_MALFORMED);
    T_EQ(CHECK("basic   YWxpY2U6d29uZGVybGFuZA==  "), RP_AUTH_OK);
    /* remembered: the second check of the same credentials hashes nothing */
    static const char slow[] = "slow:$2b$10$LPlaZcokMDlZFtBdyrB6YenSX9omL0pJeFuiT.YFLdVec5QiS2X8e\n";
    FILE *fp = fopen(path, "a");
    fputs(slow, fp);
    fclose(fp);
    rp_auth_reload();
    basic("slow:guess", f, sizeof f);
    double t0 = now_s();
    T_EQ(CHECK(f), RP_AUTH_WRONG);
    double first = now_s() - t0;
    t0 = now_s();
    for (int i = 0; i < 100; i++)
        T_EQ(CHECK(f), RP_AUTH_WRONG);
    double hundred = now_s() - t0;
    printf("# auth_check: a bcrypt-10 check %.1f ms, 100 remembered ones %.3f ms\n", first * 1e3,
           hundred * 1e3);
    T_OK(hundred < first);
    /* a reload forgets: alice's line goes, her remembered OK with it */
    fp = fopen(path, "w");
    fputs("bob:$6$Kjuna8KXJEZPyFkD$tVGlnB3qGtOPkanQFuvfZjOKd45AOVlhhqBjZKzHxUBCBwhjqVp1h4LiTARlM3vlKHY9IUyLn/ubylAka0CkL/\n", fp);
    fclose(fp);
    rp_auth_reload();
    T_EQ(CHECK(basic("alice:wonderland", f, sizeof f)), RP_AUTH_UNKNOWN);
    T_EQ(CHECK(basic("bob:builder", f, sizeof f)), RP_AUTH_OK);
#undef CHECK
    rp_auth_cache_free(cache);
    rp_auth_shutdown();
    unlink(path);
}
