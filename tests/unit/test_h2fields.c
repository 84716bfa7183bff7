/* test_h2fields.c: what the HTTP/2 modules do with HTTP/1.1 bytes
 * (runtime/h2fields.c, runtime/bytes.c): bodies framed by a length or
 * chunked decoded into DATA's bytes with the trailer section apart, the
 * room they may take, field lines and heads as header lists, and the
 * memory transports' writev. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "h2fields.h"
#include "t.h"

static bool nv_is(const nghttp2_nv *nv, const char *name, const char *value)
{
    return nv->namelen == strlen(name) && memcmp(nv->name, name, nv->namelen) == 0 &&
           nv->valuelen == strlen(value) && memcmp(nv->value, value, nv->valuelen) == 0;
}

T_SUITE(h2_bytes)
{
    struct bytes b = {0};
    T_OK(bytes_at(&b) != NULL); /* never NULL, even before a byte */
    T_OK(bytes_add(&b, "hello", 5));
    T_OK(bytes_str(&b, " world"));
    T_SLICE(bytes_at(&b), b.len, "hello world");
    bytes_take(&b, 6);
    T_SLICE(bytes_at(&b), b.len, "world");
    /* appending after a take moves what is left to the front, once */
    for (int i = 0; i < 300; i++)
        T_OK(bytes_add(&b, "0123456789", 10));
    T_EQ(b.len, 5 + 3000);
    T_OK(memcmp(bytes_at(&b), "world0123", 9) == 0);
    size_t cap = b.cap;
    bytes_clear(&b);
    T_EQ(b.len, 0);
    T_EQ(b.cap, cap); /* kept */
    bytes_free(&b);
    T_EQ(b.cap, 0);
    char hex[16];
    T_SLICE(hex, hex_put(hex, 0), "0");
    T_SLICE(hex, hex_put(hex, 255), "ff");
    T_SLICE(hex, hex_put(hex, 0x10000), "10000");
}

T_SUITE(h2_body_length)
{
    struct rp_h2_body b;
    struct bytes data = {0}, tr = {0};
    rp_h2_body_init(&b, false, 5);
    T_OK(!b.done);
    /* the body's 5 bytes; what follows is taken too (the stream says no more) */
    T_EQ(rp_h2_body_take(&b, "hel", 3, &data, 100, &tr), 3);
    T_EQ(rp_h2_body_take(&b, "lo, and more", 12, &data, 100, &tr), 2);
    T_OK(b.done);
    T_EQ(rp_h2_body_take(&b, ", and more", 10, &data, 100, &tr), 10);
    T_SLICE(bytes_at(&data), data.len, "hello");
    T_EQ(tr.len, 0);
    /* a length of 0 is done at once */
    rp_h2_body_init(&b, false, 0);
    T_OK(b.done);
    /* the room: at most max bytes held; 0 when full */
    bytes_clear(&data);
    rp_h2_body_init(&b, false, 10);
    T_EQ(rp_h2_body_take(&b, "0123456789", 10, &data, 4, &tr), 4);
    T_EQ(rp_h2_body_take(&b, "456789", 6, &data, 4, &tr), 0);
    bytes_take(&data, 4);
    T_EQ(rp_h2_body_take(&b, "456789", 6, &data, 4, &tr), 4);
    bytes_free(&data);
    bytes_free(&tr);
}

T_SUITE(h2_body_chunked)
{
    static const char body[] = "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: abc\r\n"
                               "grpc-status: 0\r\n\r\nGET /next HTTP/1.1\r\n";
    size_t end = strlen(body) - strlen("GET /next HTTP/1.1\r\n");
    /* whole, and byte by byte: the same data and trailer section */
    for (int split = 0; split < 2; split++) {
        struct rp_h2_body b;
        struct bytes data = {0}, tr = {0};
        rp_h2_body_init(&b, true, 0);
        size_t at = 0;
        while (at < end && !b.done) {
            size_t n = split ? 1 : end - at;
            ssize_t k = rp_h2_body_take(&b, body + at, n, &data, 1 << 20, &tr);
            T_OK(k > 0);
            if (k <= 0)
                break;
            at += (size_t)k;
        }
        T_OK(b.done);
        T_EQ(at, end);
        T_SLICE(bytes_at(&data), data.len, "hello world");
        T_SLICE(bytes_at(&tr), tr.len, "X-Checksum: abc\r\ngrpc-status: 0\r\n\r\n");
        /* the section as a header list: names lower case, values trimmed */
        nghttp2_nv nv[4];
        T_EQ(rp_h2_nv_from_lines(bytes_at(&tr), tr.len, nv, 4), 2);
        T_OK(nv_is(&nv[0], "x-checksum", "abc"));
        T_OK(nv_is(&nv[1], "grpc-status", "0"));
        bytes_free(&data);
        bytes_free(&tr);
    }
    /* malformed framing */
    struct rp_h2_body b;
    struct bytes data = {0}, tr = {0};
    rp_h2_body_init(&b, true, 0);
    T_EQ(rp_h2_body_take(&b, "zz\r\n", 4, &data, 100, &tr), -1);
    bytes_free(&data);
    bytes_free(&tr);
}

T_SUITE(h2_nv_from_fields)
{
    char head[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n"
                  "Keep-Alive: timeout=5\r\nTransfer-Encoding: chunked\r\nHost: a.test\r\n"
                  "X-Mixed-Case: Kept As Is\r\n\r\n";
    static const struct rp_http1_limits limits = {.max_uri = 4096, .max_head = 8192,
                                                  .max_headers = RP_HTTP1_MAX_HEADERS};
    struct rp_http1_response resp;
    T_OK(rp_http1_parse_response(head, strlen(head), &limits, false, &resp) > 0);
    static const char *const skip[] = {"host", NULL};
    nghttp2_nv nv[8];
    size_t n = rp_h2_nv_from_fields(resp.headers, resp.n_headers, skip, nv, 8);
    T_EQ(n, 2); /* no connection-specific field, nor Host */
    T_OK(nv_is(&nv[0], "content-type", "text/plain"));
    T_OK(nv_is(&nv[1], "x-mixed-case", "Kept As Is"));
    /* at most max entries */
    T_EQ(rp_h2_nv_from_fields(resp.headers, resp.n_headers, NULL, nv, 1), 1);
}

struct taker {
    size_t per_call, room, taken;
    int fail_at;
};

static ssize_t take(void *owner, const char *p, size_t n)
{
    (void)p;
    struct taker *t = owner;
    if (t->fail_at >= 0 && t->taken >= (size_t)t->fail_at)
        return -1;
    size_t k = n < t->per_call ? n : t->per_call;
    if (k > t->room - t->taken)
        k = t->room - t->taken;
    t->taken += k;
    return (ssize_t)k;
}

T_SUITE(h2_writev)
{
    struct iovec iov[3] = {{"abc", 3}, {"", 0}, {"defgh", 5}};
    struct taker t = {.per_call = 2, .room = 100, .fail_at = -1};
    T_EQ(rp_h2_writev(iov, 3, take, &t), 8); /* everything, two at a time */
    t = (struct taker){.per_call = 2, .room = 4, .fail_at = -1};
    T_EQ(rp_h2_writev(iov, 3, take, &t), 4); /* up to the room */
    t = (struct taker){.per_call = 2, .room = 0, .fail_at = -1};
    errno = 0;
    T_EQ(rp_h2_writev(iov, 3, take, &t), -1); /* nothing taken: EAGAIN */
    T_EQ(errno, EAGAIN);
    t = (struct taker){.per_call = 2, .room = 100, .fail_at = 2};
    T_EQ(rp_h2_writev(iov, 3, take, &t), -1); /* take failed: EPROTO */
    T_EQ(errno, EPROTO);
    T_EQ(rp_h2_writev(iov, 0, take, &t), 0); /* nothing offered: 0 */
}
