/* test_path.c: rp_path_normalize, the one meaning of a request path that the
 * proxy, `rpx test` and `rpx explain` route on. */
#include <string.h>

#include "rp/http1.h"
#include "t.h"

/* The normalized path, or "REFUSED". */
static const char *norm(const char *in)
{
    static char out[256];
    int n = rp_path_normalize(in, strlen(in), out);
    if (n < 0)
        return "REFUSED";
    out[n] = 0;
    return out;
}

T_SUITE(path_normalize)
{
    T_STR(norm("/plain/path"), "/plain/path");
    T_STR(norm("/%61dmin/"), "/admin/");
    T_STR(norm("/%41%5a%7e%2D%2e%5f"), "/AZ~-._");
    T_STR(norm("/a//b///c"), "/a/b/c");
    T_STR(norm("//"), "/");
    T_STR(norm("/x%3fy%2a%20"), "/x%3Fy%2A%20");
    T_STR(norm("/%25"), "/%25");
    T_STR(norm("/%2561"), "/%2561"); /* decoded once only */
    T_STR(norm("/ADMIN"), "/ADMIN");
    T_STR(norm("/a/..b/.c/c."), "/a/..b/.c/c.");
    T_STR(norm("/a%2Fb"), "REFUSED");
    T_STR(norm("/a%2fb"), "REFUSED");
    T_STR(norm("/a%5cb"), "REFUSED");
    T_STR(norm("/a%00"), "REFUSED");
    T_STR(norm("/a%"), "REFUSED");
    T_STR(norm("/a%4"), "REFUSED");
    T_STR(norm("/a%g0"), "REFUSED");
    T_STR(norm("/a/%2e/b"), "REFUSED");
    T_STR(norm("/a/%2E%2e"), "REFUSED");
    T_STR(norm("/a//../b"), "REFUSED");
    T_STR(norm("/a/."), "REFUSED");
    T_OK(!rp_path_needs_normalizing("/a/b/c", 6));
    T_OK(rp_path_needs_normalizing("/a//b", 5));
    T_OK(rp_path_needs_normalizing("/a%41", 5));
    T_OK(!rp_path_needs_normalizing("/", 1));
    T_OK(rp_path_needs_normalizing("//", 2));
    T_OK(rp_path_has_dot_segment("/a/../b", 7));
    /* The one-pass check the proxy makes before normalizing: it agrees
     * with normalizing on every path of the table. */
    const char *paths[] = {"/plain/path", "/%61dmin/", "/a//b", "/a/../b", "/a/./b", "/a/.",
                           "/a/..", "/..", "/.well-known/x", "/a/..b", "/a/...", "/a/b.",
                           "/a/.%2e/b", "/", "//", "/a%2Fb"};
    bool agree = true;
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        const char *s = paths[i];
        int check = rp_path_check(s, strlen(s));
        char out[64];
        int n = rp_path_normalize(s, strlen(s), out);
        bool unchanged = n == (int)strlen(s) && memcmp(out, s, (size_t)n) == 0;
        if (check < 0)
            agree &= n < 0;
        else if (check == 0)
            agree &= unchanged;
    }
    T_OK(agree);
    T_EQ(rp_path_check("/a/../b", 7), -1);
    T_EQ(rp_path_check("/a/b", 4), 0);
    T_EQ(rp_path_check("/a//b", 5), 1);
    T_OK(!rp_path_has_dot_segment("/a/.../b", 8));
}
