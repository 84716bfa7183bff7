/* test_body.c: relaying bodies through a buffer (rp_body_advance): what is
 * ready to send, and trailer fields that may not be trailers removed. */
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "t.h"

T_SUITE(trailer_filter)
{
    char s[256];
    strcpy(s, "X-Sum: 1\r\nContent-Length: 5\r\nhost: evil\r\nX-Ok: 2\r\nTransfer-Encoding: "
              "chunked\r\nSet-Cookie: a=b\r\nCONNECTION: close\r\n\r\n");
    size_t n = rp_trailer_filter(s, strlen(s));
    T_SLICE(s, n, "X-Sum: 1\r\nX-Ok: 2\r\n\r\n");
    strcpy(s, "\r\n");
    T_EQ(rp_trailer_filter(s, 2), 2);
    strcpy(s, "Content-Lengthy: 1\r\nX-Content-Length: 2\r\n\r\n");
    n = rp_trailer_filter(s, strlen(s));
    T_SLICE(s, n, "Content-Lengthy: 1\r\nX-Content-Length: 2\r\n\r\n");
}

/* Feeds `wire` into a buffer in steps of `step` bytes, sending (dropping)
 * ready bytes between steps as a relay would, and returns what was sent
 * plus, after the body, what was left in the buffer. */
static void relay(const char *wire, size_t step, char *sent, size_t *n_sent, char *left)
{
    struct rp_buf *buf = calloc(1, sizeof *buf);
    struct rp_body b = {.kind = RP_HTTP1_BODY_CHUNKED};
    uint32_t ready = 0;
    size_t len = strlen(wire), off = 0;
    *n_sent = 0;
    while (off < len && !b.done) {
        size_t k = len - off < step ? len - off : step;
        rp_buf_add(buf, wire + off, k);
        off += k;
        ssize_t r = rp_body_advance(&b, buf, ready);
        if (r < 0) {
            *n_sent = (size_t)-1;
            left[0] = 0;
            free(buf);
            return;
        }
        ready += (uint32_t)r;
        /* Send half of what is ready, keeping the rest for later. */
        uint32_t send = b.done ? ready : ready / 2;
        memcpy(sent + *n_sent, buf->data + buf->start, send);
        *n_sent += send;
        buf->start += send;
        ready -= send;
    }
    rp_buf_add(buf, wire + off, len - off);
    size_t rest = rp_buf_len(buf);
    memcpy(left, buf->data + buf->start, rest);
    left[rest] = 0;
    free(buf);
}

T_SUITE(body_advance)
{
    const char *wire = "5\r\nhello\r\n0\r\nX-A: 1\r\nContent-Length: 99\r\nHost: h\r\nX-B: 2\r\n"
                       "\r\nGET /next HTTP/1.1\r\n";
    const char *want = "5\r\nhello\r\n0\r\nX-A: 1\r\nX-B: 2\r\n\r\n";
    char sent[512], left[512];
    size_t n;
    for (size_t step = 1; step <= strlen(wire); step++) {
        relay(wire, step, sent, &n, left);
        if (!T_SLICE(sent, n, want) || !T_SLICE(left, strlen(left), "GET /next HTTP/1.1\r\n")) {
            T_EQ(step, 0); /* which step size broke */
            break;
        }
    }
    /* A trailer section over RP_TRAILER_MAX is refused. */
    size_t big = RP_TRAILER_MAX + 100;
    char *huge = malloc(big + 64);
    strcpy(huge, "0\r\n");
    size_t o = 3;
    while (o < big) {
        memcpy(huge + o, "X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n", 58);
        o += 58;
    }
    huge[o] = 0;
    relay(huge, 4096, sent, &n, left);
    T_EQ(n, (size_t)-1);
    free(huge);
}
