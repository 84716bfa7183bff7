/* fuzz_h2body.c: libFuzzer target over what the HTTP/2 modules do with the
 * HTTP/1.1 bytes on their memory transports (runtime/h2fields.c): a body
 * framed by a length or chunked, decoded into what DATA frames carry with
 * its trailer section kept apart (rp_h2_body_take, through rp_h2_writev as
 * a transport's writev offers it), and a trailer section or a response
 * head turned into an HTTP/2 header list. The first input byte picks the
 * framing (and a length), the rest is the body as it arrives. Invariants:
 *
 *  - the decoded data, the trailer section, the outcome (done, failed) and
 *    the bytes taken are the same whether the body is offered whole with
 *    room for all of it, or in iovecs of random sizes with the room drained
 *    at random points (the PRNG is seeded with the input);
 *  - a length-framed body's data is its first `length` bytes, never more;
 *    a chunked one's is what rp_chunked_decode gives in one pass;
 *  - writev takes at most what it is offered, says EAGAIN only when it
 *    took nothing (no room, or nothing offered), and once a body is
 *    complete takes whatever follows (its stream has no more to say);
 *  - every header list entry built from the trailer section (or from a
 *    response head the input parses as) lies inside its buffer, names lower
 *    case, no connection-specific field among them.
 */
#include <errno.h>

#include "fuzz_http1.h"
#include "h2fields.h"

#define ROOM 512 /* the most decoded bytes held at once in the split run */

struct run {
    struct rp_h2_body body;
    struct bytes data, trailers, out; /* out: what was drained from data */
    size_t room;
    bool failed;
};

static ssize_t take(void *owner, const char *p, size_t n)
{
    struct run *r = owner;
    return rp_h2_body_take(&r->body, p, n, &r->data, r->room, &r->trailers);
}

static void check_nv(const nghttp2_nv *nv, size_t n, const char *lo, size_t len)
{
    for (size_t i = 0; i < n; i++) {
        CHECK((const char *)nv[i].name >= lo && (const char *)nv[i].name + nv[i].namelen <= lo + len);
        CHECK((const char *)nv[i].value >= lo &&
              (const char *)nv[i].value + nv[i].valuelen <= lo + len);
        for (size_t j = 0; j < nv[i].namelen; j++)
            CHECK(!(nv[i].name[j] >= 'A' && nv[i].name[j] <= 'Z'));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bool chunked = data[0] & 1;
    uint64_t length = data[0] >> 1; /* 0..127 */
    const char *body = (const char *)data + 1;
    size_t n = size - 1;

    /* Whole, with room for everything. */
    struct run whole = {.room = SIZE_MAX};
    rp_h2_body_init(&whole.body, chunked, length);
    struct iovec one = {(void *)body, n};
    ssize_t got = n ? rp_h2_writev(&one, 1, take, &whole) : 0;
    whole.failed = got < 0 && errno == EPROTO;
    CHECK(got >= 0 || whole.failed || n == 0);

    if (!chunked && !whole.failed) {
        size_t want = n < length ? n : (size_t)length;
        CHECK(whole.data.len == want);
        CHECK(memcmp(bytes_at(&whole.data), body, want) == 0);
        CHECK(whole.body.done == (n >= length));
        CHECK(got == (ssize_t)n); /* after the end, the rest is taken too */
    }
    if (chunked) {
        struct rp_chunked c = {0};
        char *copy = malloc(n + 1);
        memcpy(copy, body, n);
        size_t dl = 0;
        bool done = false;
        ssize_t used = n ? rp_chunked_decode(&c, copy, n, &dl, &done) : 0;
        CHECK((used < 0) == whole.failed);
        if (!whole.failed) {
            CHECK(whole.data.len == dl);
            CHECK(memcmp(bytes_at(&whole.data), copy, dl) == 0);
            CHECK(whole.body.done == done);
        }
        free(copy);
    }

    /* Split, the room drained at random points. */
    uint64_t rng = fz_hash(data, size);
    struct run split = {.room = ROOM};
    rp_h2_body_init(&split.body, chunked, length);
    size_t at = 0;
    while (at < n && !split.failed) {
        struct iovec iov[3];
        int k = 0;
        size_t left = n - at, offered = 0;
        for (; k < 3 && left; k++) {
            size_t len = fz_next(&rng) % (left + 1);
            iov[k] = (struct iovec){(void *)(body + n - left), len};
            left -= len;
            offered += len;
        }
        ssize_t t = rp_h2_writev(iov, k, take, &split);
        if (t < 0 && errno == EPROTO) {
            split.failed = true;
            break;
        }
        if (t < 0) {
            /* Nothing taken: no room, or nothing offered. */
            CHECK(errno == EAGAIN);
            CHECK(split.data.len >= ROOM || offered == 0);
            t = 0;
        }
        CHECK((size_t)t <= offered);
        at += (size_t)t;
        /* The reader drains some of what is held (something, when full). */
        size_t drain = split.data.len ? fz_next(&rng) % (split.data.len + 1) : 0;
        if (split.data.len >= ROOM && drain == 0)
            drain = 1;
        bytes_add(&split.out, bytes_at(&split.data), drain);
        bytes_take(&split.data, drain);
    }
    bytes_add(&split.out, bytes_at(&split.data), split.data.len);
    CHECK(split.failed == whole.failed);
    if (!whole.failed) {
        CHECK(split.out.len == whole.data.len);
        CHECK(memcmp(bytes_at(&split.out), bytes_at(&whole.data), whole.data.len) == 0);
        CHECK(split.trailers.len == whole.trailers.len);
        CHECK(memcmp(bytes_at(&split.trailers), bytes_at(&whole.trailers), whole.trailers.len) == 0);
        CHECK(split.body.done == whole.body.done);
    }

    /* The trailer section as a header list. */
    if (whole.trailers.len) {
        nghttp2_nv nv[RP_HTTP1_MAX_HEADERS];
        size_t k = rp_h2_nv_from_lines(bytes_at(&whole.trailers), whole.trailers.len, nv,
                                       RP_HTTP1_MAX_HEADERS);
        check_nv(nv, k, bytes_at(&whole.trailers), whole.trailers.len);
    }

    /* The input as a response head, as h2.c turns one into HEADERS. */
    char *head = malloc(size);
    memcpy(head, data, size);
    static const struct rp_http1_limits limits = {.max_uri = 4096, .max_head = 8192,
                                                  .max_headers = RP_HTTP1_MAX_HEADERS};
    struct rp_http1_response resp;
    if (rp_http1_parse_response(head, size, &limits, false, &resp) > 0) {
        nghttp2_nv nv[RP_HTTP1_MAX_HEADERS];
        size_t k = rp_h2_nv_from_fields(resp.headers, resp.n_headers, NULL, nv,
                                        RP_HTTP1_MAX_HEADERS);
        check_nv(nv, k, head, size);
        for (size_t i = 0; i < k; i++)
            CHECK(!rp_http1_is_hop_by_hop((const char *)nv[i].name, nv[i].namelen));
    }
    free(head);
    bytes_free(&whole.data);
    bytes_free(&whole.trailers);
    bytes_free(&split.data);
    bytes_free(&split.trailers);
    bytes_free(&split.out);
    return 0;
}
