/* test_compress.c: body decoding, the filter chain, and the `compress` step:
 * Accept-Encoding, media types, which responses are compressed and how
 * their heads change, and gzip output that inflates to the input whatever
 * the slicing and back-pressure. */
#define ZLIB_CONST
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "body.h"
#include "compress.h"
#include "filter.h"
#include "steps.h"
#include "t.h"

/* ---- Accept-Encoding and media types --------------------------------------- */

/* Whether gzip is acceptable (the tests below were written for it). */
static uint32_t accepts(const char *value)
{
    struct rp_http1_header h = {.name = "Accept-Encoding", .name_len = 15, .value = value,
                                .value_len = (uint32_t)strlen(value)};
    return rp_accept_codings(&h, 1) & RP_CODING_GZIP;
}

/* The coding chosen among gzip and br. */
static uint32_t choose(const char *value)
{
    struct rp_http1_header h = {.name = "Accept-Encoding", .name_len = 15, .value = value,
                                .value_len = (uint32_t)strlen(value)};
    return rp_accept_choose(&h, 1, RP_CODING_GZIP | RP_CODING_BR);
}

T_SUITE(accept_choose)
{
    const uint32_t gz = RP_CODING_GZIP, br = RP_CODING_BR;
    T_EQ(choose("gzip, deflate, br"), br); /* a tie: br */
    T_EQ(choose("gzip;q=1, br;q=0.5"), gz);
    T_EQ(choose("br;q=0.9, gzip;q=0.8"), br);
    T_EQ(choose("gzip"), gz);
    T_EQ(choose("br"), br);
    T_EQ(choose("br;q=0, gzip;q=0.1"), gz);
    T_EQ(choose("*"), br);
    T_EQ(choose("*;q=0.5, gzip"), gz);
    T_EQ(choose("identity"), 0);
    T_EQ(choose(""), 0);
    struct rp_http1_header h = {.name = "Accept-Encoding", .name_len = 15, .value = "br, gzip",
                                .value_len = 8};
    T_EQ(rp_accept_choose(&h, 1, gz), gz); /* the route compresses with gzip only */
    T_EQ(rp_accept_choose(&h, 1, br), br);
    T_EQ(rp_accept_codings(&h, 1), gz | br);
}

T_SUITE(accept_encoding)
{
    T_EQ(accepts("gzip"), RP_CODING_GZIP);
    T_EQ(accepts("GZip"), RP_CODING_GZIP);
    T_EQ(accepts("x-gzip"), RP_CODING_GZIP);
    T_EQ(accepts("gzip, deflate, br"), RP_CODING_GZIP);
    T_EQ(accepts("br;q=1.0, gzip;q=0.8, *;q=0.1"), RP_CODING_GZIP);
    T_EQ(accepts("gzip;q=0"), 0);
    T_EQ(accepts("gzip; q=0.000"), 0);
    T_EQ(accepts("gzip;q=0.001"), RP_CODING_GZIP);
    T_EQ(accepts("gzip ; Q=0.5"), RP_CODING_GZIP);
    T_EQ(accepts("gzip;q=1.001"), 0); /* malformed weights count as 0 */
    T_EQ(accepts("gzip;q=0.5000"), 0);
    T_EQ(accepts("br, deflate"), 0);
    T_EQ(accepts("*"), RP_CODING_GZIP);
    T_EQ(accepts("*;q=0"), 0);
    T_EQ(accepts("gzip;q=0, *"), 0); /* named beats the wildcard */
    T_EQ(accepts("*;q=0, gzip"), RP_CODING_GZIP);
    T_EQ(accepts("identity"), 0);
    T_EQ(accepts(""), 0);
    T_EQ(accepts(" , ,gzip,"), RP_CODING_GZIP);
    T_EQ(accepts("gzipx"), 0);
    /* No field at all: identity only. */
    T_EQ(rp_accept_codings(NULL, 0), 0);
    /* Several fields make one list. */
    struct rp_http1_header two[2] = {
        {.name = "accept-encoding", .name_len = 15, .value = "br", .value_len = 2},
        {.name = "ACCEPT-ENCODING", .name_len = 15, .value = "gzip", .value_len = 4}};
    T_EQ(rp_accept_codings(two, 2), RP_CODING_GZIP | RP_CODING_BR);
}

static const char *const test_types[] = {"text/*", "application/json", "image/svg+xml"};
static const struct rp_compress_def test_def = {
    .where = "t.rp:1", .codings = RP_CODING_GZIP, .level = 6, .min_length = 100,
    .n_types = 3, .types = test_types};

static bool type_ok(const char *ct)
{
    return rp_compress_type_ok(&test_def, ct, strlen(ct));
}

T_SUITE(compress_types)
{
    T_OK(type_ok("text/html"));
    T_OK(type_ok("Text/HTML; charset=utf-8"));
    T_OK(type_ok("text/plain;charset=utf-8"));
    T_OK(type_ok("application/json"));
    T_OK(type_ok("APPLICATION/JSON ; x=y"));
    T_OK(type_ok("image/svg+xml"));
    T_OK(!type_ok("image/png"));
    T_OK(!type_ok("application/jsonx"));
    T_OK(!type_ok("application/jso"));
    T_OK(!type_ok("textual/html"));
    T_OK(!type_ok("text"));
    T_OK(!type_ok(""));
}

/* ---- decoding a chunked body in place ---------------------------------------- */

static const char chunked_wire[] =
    "5;ext=\"a b\"\r\nhello\r\n1\r\n,\r\n000006\r\n world\r\n0\r\nX-Sum: 1\r\n\r\n";

T_SUITE(chunked_decode)
{
    /* Fed in every pair of slices, the data comes out whole. */
    size_t len = strlen(chunked_wire);
    bool all_ok = true;
    for (size_t cut = 0; cut <= len; cut++) {
        char buf[128], out[128];
        size_t n_out = 0;
        struct rp_chunked c = {0};
        bool done = false;
        memcpy(buf, chunked_wire, len);
        size_t parts[2][2] = {{0, cut}, {cut, len}};
        for (int i = 0; i < 2; i++) {
            size_t data;
            ssize_t used = rp_chunked_decode(&c, buf + parts[i][0], parts[i][1] - parts[i][0],
                                             &data, &done);
            all_ok &= used == (ssize_t)(parts[i][1] - parts[i][0]);
            memcpy(out + n_out, buf + parts[i][0], data);
            n_out += data;
        }
        all_ok &= done && n_out == 12 && memcmp(out, "hello, world", 12) == 0;
    }
    T_OK(all_ok);
    /* Malformed framing is refused as by the scanner. */
    char bad[] = "5\r\nhelloX\r\n";
    size_t data;
    bool done;
    struct rp_chunked c = {0};
    T_EQ(rp_chunked_decode(&c, bad, strlen(bad), &data, &done), -1);
}

T_SUITE(body_decode)
{
    /* What follows the body (another response) stays right behind its data. */
    struct rp_buf *buf = calloc(1, sizeof *buf);
    struct rp_body b = {.kind = RP_HTTP1_BODY_CHUNKED};
    const char *wire = "3\r\nabc\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n";
    rp_buf_add(buf, "xy", 2); /* decoded bytes not yet used */
    rp_buf_add(buf, wire, strlen(wire));
    ssize_t r = rp_body_decode(&b, buf, 2);
    T_EQ(r, 3);
    T_OK(b.done);
    T_SLICE(buf->data + buf->start, rp_buf_len(buf), "xyabcHTTP/1.1 200 OK\r\n");
    /* Length-delimited: the bytes are the data, up to the length. */
    struct rp_body l = {.kind = RP_HTTP1_BODY_LENGTH, .left = 4};
    buf->start = buf->end = 0;
    rp_buf_add(buf, "abcdef", 6);
    T_EQ(rp_body_decode(&l, buf, 0), 4);
    T_OK(l.done);
    free(buf);
}

/* ---- the filter chain ------------------------------------------------------------ */

static uint64_t rng_state = 88172645463325252ull;
static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % n);
}

/* Text that compresses, with some noise so it is not trivial. */
static void make_input(unsigned char *p, size_t n)
{
    static const char words[] = "proxy policy route backend server gzip body filter chunk ";
    for (size_t i = 0; i < n; i++)
        p[i] = rnd(50) == 0 ? (unsigned char)rnd(256) : (unsigned char)words[i % (sizeof words - 1)];
}

/* Inflates a gzip stream (windowBits 16+15); `layers` times for a chain of
 * gzip filters. Returns the length, or -1. */
static long inflate_all(const unsigned char *in, size_t n, unsigned char *out, size_t cap)
{
    z_stream z = {0};
    if (inflateInit2(&z, 16 + 15) != Z_OK)
        return -1;
    z.next_in = in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int rc = inflate(&z, Z_FINISH);
    long len = rc == Z_STREAM_END ? (long)(cap - z.avail_out) : -1;
    inflateEnd(&z);
    return len;
}

/* Runs `n` bytes of input through a chain of `stages` gzip filters, in
 * random slices, draining the output buffer by random amounts (a client
 * that reads slowly), with a FLUSH now and then. Returns the output,
 * chunk framing removed, in *out. */
static bool run_chain(struct rp_buf_pool *pool, int stages, bool chunked, const unsigned char *in,
                      size_t n, unsigned char *out, size_t cap, size_t *out_len)
{
    struct rp_body_filters ch;
    rp_filters_init(&ch, pool, chunked);
    for (int i = 0; i < stages; i++)
        if (rp_filters_add(&ch, &rp_gzip_filter, rp_gzip_new(1 + i, 0, pool)) < 0)
            return false;
    struct rp_buf *o = rp_buf_get(pool);
    struct rp_chunked dec = {0};
    bool dec_done = false;
    size_t off = 0, guard = 0;
    *out_len = 0;
    while (!ch.finished && guard++ < 1000000) {
        size_t slice = n - off < 1 + rnd(9000) ? n - off : 1 + rnd(9000);
        enum rp_filter_mode mode = off + slice == n ? RP_FILTER_FINISH
                                   : rnd(8) == 0    ? RP_FILTER_FLUSH
                                                    : RP_FILTER_MORE;
        ssize_t used = rp_filters_run(&ch, (const char *)in + off, slice, mode, o);
        if (used < 0)
            return false;
        off += (size_t)used;
        /* The client takes some of what is there. */
        uint32_t take = rp_buf_len(o) ? 1 + rnd(rp_buf_len(o)) : 0;
        if (ch.finished || rp_buf_room(o) < 200)
            take = rp_buf_len(o);
        if (*out_len + take > cap)
            return false;
        memcpy(out + *out_len, o->data + o->start, take);
        *out_len += take;
        o->start += take;
        if (rp_buf_len(o) == 0)
            o->start = o->end = 0;
        else
            rp_buf_compact(o);
    }
    rp_buf_put(pool, o);
    rp_filters_free(&ch);
    if (!ch.finished)
        return false;
    if (chunked) {
        size_t data;
        ssize_t used = rp_chunked_decode(&dec, (char *)out, *out_len, &data, &dec_done);
        if (used != (ssize_t)*out_len || !dec_done)
            return false;
        *out_len = data;
    }
    return true;
}

T_SUITE(filter_chain_gzip)
{
    struct rp_buf_pool pool = {.max_free = 8};
    size_t sizes[] = {0, 1, 100, 70000, 300000};
    unsigned char *in = malloc(300000), *out = malloc(1 << 20), *plain = malloc(300000 + 1);
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t n = sizes[s];
        make_input(in, n);
        for (int stages = 1; stages <= 2; stages++) {
            for (int chunked = 0; chunked <= 1; chunked++) {
                size_t got = 0;
                bool ok = run_chain(&pool, stages, chunked, in, n, out, 1 << 20, &got);
                char what[64];
                snprintf(what, sizeof what, "%zu bytes, %d stage(s), chunked %d", n, stages, chunked);
                if (!t_check(ok, what, __FILE__, __LINE__))
                    continue;
                /* Undo each gzip layer. */
                unsigned char *cur = out;
                long len = (long)got;
                unsigned char *tmp = malloc(1 << 20);
                for (int i = 0; i < stages && len >= 0; i++) {
                    len = inflate_all(cur, (size_t)len, tmp, 1 << 20);
                    memcpy(out, tmp, len > 0 ? (size_t)len : 0);
                    cur = out;
                }
                free(tmp);
                t_check(len == (long)n && memcmp(out, in, n) == 0, what, __FILE__, __LINE__);
            }
        }
    }
    /* Every byte zlib held was given back and counted out. */
    rp_gzip_clear_kept();
    T_EQ(atomic_load(&pool.other_bytes), 0);
    T_EQ(pool.n_alloc, pool.n_free);
    rp_buf_pool_clear(&pool);
    free(in);
    free(out);
    free(plain);
}

/* A flush gives the client everything sent so far: a stream of events
 * does not wait in the compressor. */
T_SUITE(filter_flush)
{
    struct rp_buf_pool pool = {.max_free = 4};
    struct rp_body_filters ch;
    rp_filters_init(&ch, &pool, false);
    T_EQ(rp_filters_add(&ch, &rp_gzip_filter, rp_gzip_new(5, 0, &pool)), 0);
    struct rp_buf *o = rp_buf_get(&pool);
    const char *event = "data: one\n\n";
    T_EQ(rp_filters_run(&ch, event, strlen(event), RP_FILTER_MORE, o), (ssize_t)strlen(event));
    size_t before_flush = rp_buf_len(o);
    T_EQ(rp_filters_run(&ch, "", 0, RP_FILTER_FLUSH, o), 0);
    T_OK(rp_buf_len(o) > before_flush);
    /* What is out so far inflates to the event. */
    z_stream z = {0};
    unsigned char got[64];
    inflateInit2(&z, 16 + 15);
    z.next_in = (const Bytef *)o->data;
    z.avail_in = rp_buf_len(o);
    z.next_out = got;
    z.avail_out = sizeof got;
    inflate(&z, Z_SYNC_FLUSH);
    T_SLICE((const char *)got, sizeof got - z.avail_out, event);
    inflateEnd(&z);
    rp_filters_free(&ch);
    rp_gzip_clear_kept();
    rp_buf_put(&pool, o);
    rp_buf_pool_clear(&pool);
}

/* ---- which responses are compressed, and their heads -------------------------------- */

struct decided {
    int rc;
    bool filtered;
    struct rp_head_edit edit;
};

static struct decided decide(const char *head, uint32_t accepted, bool head_request)
{
    static struct rp_http1_response resp;
    struct rp_http1_limits lim = {.max_uri = 8192, .max_head = 16384, .max_headers = 100};
    struct decided d;
    int r = rp_http1_parse_response(head, strlen(head), &lim, head_request, &resp);
    if (r <= 0) {
        d.rc = -100;
        return d;
    }
    struct rp_buf_pool pool = {.max_free = 0};
    struct rp_body_filters ch;
    rp_filters_init(&ch, &pool, true);
    rp_head_edit_init(&d.edit);
    d.rc = rp_compress_response(&test_def, accepted, &resp, head_request, &d.edit, &ch);
    d.filtered = ch.n == 1;
    rp_filters_free(&ch);
    rp_gzip_clear_kept();
    d.edit.extra[d.edit.extra_len] = 0;
    return d;
}

static bool drops(const struct decided *d, const char *name)
{
    for (uint32_t i = 0; i < d->edit.n_drop; i++)
        if (strcmp(d->edit.drop[i], name) == 0)
            return true;
    return false;
}

T_SUITE(compress_decision)
{
    const uint32_t gz = RP_CODING_GZIP;
    struct decided d = decide("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: "
                              "500\r\nETag: \"x1\"\r\nAccept-Ranges: bytes\r\n\r\n",
                              gz, false);
    T_EQ(d.rc, 1);
    T_OK(d.filtered);
    T_OK(d.edit.reframe);
    T_STR(d.edit.extra, "Vary: Accept-Encoding\r\nContent-Encoding: gzip\r\nETag: W/\"x1\"\r\n");
    T_OK(drops(&d, "etag") && drops(&d, "accept-ranges"));

    /* A client that does not accept gzip: not compressed, but Vary says the
     * answer depends on Accept-Encoding. */
    d = decide("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 500\r\n\r\n", 0,
               false);
    T_EQ(d.rc, 0);
    T_OK(!d.filtered && !d.edit.reframe);
    T_STR(d.edit.extra, "Vary: Accept-Encoding\r\n");

    /* Vary naming it already, and a weak ETag, stay as they are. */
    d = decide("HTTP/1.1 200 OK\r\nContent-Type: text/css\r\nVary: Cookie, accept-encoding\r\n"
               "ETag: W/\"w\"\r\nTransfer-Encoding: chunked\r\n\r\n",
               gz, false);
    T_EQ(d.rc, 1);
    T_STR(d.edit.extra, "Content-Encoding: gzip\r\n");
    T_OK(!drops(&d, "etag"));

    /* Responses left alone entirely. */
    const char *alone[] = {
        "HTTP/1.1 206 Partial Content\r\nContent-Type: text/html\r\nContent-Length: 500\r\n\r\n",
        "HTTP/1.1 304 Not Modified\r\nContent-Type: text/html\r\n\r\n",
        "HTTP/1.1 204 No Content\r\nContent-Type: text/html\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 99\r\n\r\n", /* < min */
        "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 500\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n", /* no type */
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: br\r\n"
        "Content-Length: 500\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nCache-Control: max-age=1, no-transform\r\n"
        "Content-Length: 500\r\n\r\n",
    };
    bool all_alone = true;
    for (size_t i = 0; i < sizeof alone / sizeof alone[0]; i++) {
        d = decide(alone[i], gz, false);
        all_alone &= d.rc == 0 && !d.filtered && d.edit.extra_len == 0 && d.edit.n_drop == 0;
    }
    T_OK(all_alone);

    /* Content-Encoding: identity is no coding: compressed (and replaced). */
    d = decide("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: "
               "identity\r\nContent-Length: 500\r\n\r\n",
               gz, false);
    T_EQ(d.rc, 1);
    T_OK(drops(&d, "content-encoding"));

    /* HEAD: the head says what GET would get, and no filter runs. */
    d = decide("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 500\r\n\r\n", gz,
               true);
    T_EQ(d.rc, 1);
    T_OK(!d.filtered && d.edit.reframe);
    /* ... and a HEAD whose length is under the minimum is left alone. */
    d = decide("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 50\r\n\r\n", gz,
               true);
    T_EQ(d.rc, 0);
}

/* The gzip state for a small body is small: zlib's window follows the
 * length (as nginx sizes it). */
T_SUITE(gzip_memory)
{
    struct rp_buf_pool pool = {0};
    void *big = rp_gzip_new(5, 0, &pool);
    uint64_t big_bytes = atomic_load(&pool.other_bytes);
    rp_gzip_filter.free(big);
    rp_gzip_clear_kept();
    void *small = rp_gzip_new(5, 1000, &pool);
    uint64_t small_bytes = atomic_load(&pool.other_bytes);
    rp_gzip_filter.free(small);
    rp_gzip_clear_kept();
    T_OK(big_bytes > 200 * 1024);
    T_OK(small_bytes < 32 * 1024);
    T_EQ(atomic_load(&pool.other_bytes), 0);
}

/* A compressor given back is reset and used again for the next body of the
 * same shape (a fresh zlib state per response costs more than a small
 * body's compression), and the output is as good as from a new one. */
T_SUITE(gzip_reuse)
{
    struct rp_buf_pool pool = {.max_free = 4};
    void *a = rp_gzip_new(5, 0, &pool);
    uint64_t one = atomic_load(&pool.other_bytes);
    rp_gzip_filter.free(a);
    void *b = rp_gzip_new(1, 0, &pool); /* another level: same state, new params */
    T_EQ(atomic_load(&pool.other_bytes), one);
    if (RP_POOLS_KEEP)
        T_OK(a == b);
    /* It compresses a body correctly after the reset. */
    struct rp_body_filters ch;
    rp_filters_init(&ch, &pool, false);
    T_EQ(rp_filters_add(&ch, &rp_gzip_filter, b), 0);
    struct rp_buf *o = rp_buf_get(&pool);
    const char *text = "reset and reused, reset and reused, reset and reused";
    T_EQ(rp_filters_run(&ch, text, strlen(text), RP_FILTER_FINISH, o), (ssize_t)strlen(text));
    T_OK(ch.finished);
    unsigned char plain[128];
    T_EQ(inflate_all((const unsigned char *)o->data, rp_buf_len(o), plain, sizeof plain),
         (long)strlen(text));
    T_OK(memcmp(plain, text, strlen(text)) == 0);
    /* A body of another size gets a state of its own shape. */
    void *c = rp_gzip_new(5, 500, &pool);
    T_OK(c != b);
    rp_gzip_filter.free(c);
    rp_filters_free(&ch);
    rp_gzip_clear_kept();
    T_EQ(atomic_load(&pool.other_bytes), 0);
    rp_buf_put(&pool, o);
    rp_buf_pool_clear(&pool);
}

/* br: a body through the brotli filter decodes (libbrotlidec) to itself,
 * whole and flushed. */
#include <brotli/decode.h>

T_SUITE(brotli_filter)
{
    struct rp_buf_pool pool = {.max_free = 4};
    size_t n = 200000;
    unsigned char *in = malloc(n), *out = malloc(1 << 20), *plain = malloc(n + 16);
    make_input(in, n);
    struct rp_body_filters ch;
    rp_filters_init(&ch, &pool, false);
    T_EQ(rp_filters_add(&ch, &rp_brotli_filter, rp_brotli_new(5, 0, &pool)), 0);
    struct rp_buf *o = rp_buf_get(&pool);
    size_t off = 0, got = 0, guard = 0;
    while (!ch.finished && guard++ < 100000) {
        size_t slice = n - off < 7000 ? n - off : 7000;
        enum rp_filter_mode mode = off + slice == n ? RP_FILTER_FINISH
                                   : off % 3 == 0   ? RP_FILTER_FLUSH
                                                    : RP_FILTER_MORE;
        ssize_t used = rp_filters_run(&ch, (const char *)in + off, slice, mode, o);
        if (!t_check(used >= 0, "brotli run", __FILE__, __LINE__))
            break;
        off += (size_t)used;
        memcpy(out + got, o->data + o->start, rp_buf_len(o));
        got += rp_buf_len(o);
        o->start = o->end = 0;
    }
    T_OK(ch.finished);
    size_t plain_len = n + 16;
    T_EQ(BrotliDecoderDecompress(got, out, &plain_len, plain), BROTLI_DECODER_RESULT_SUCCESS);
    T_EQ(plain_len, n);
    T_OK(memcmp(plain, in, n) == 0);
    T_OK(got < n / 4);
    rp_filters_free(&ch);
    rp_gzip_clear_kept();
    T_EQ(atomic_load(&pool.other_bytes), 0);
    rp_buf_put(&pool, o);
    rp_buf_pool_clear(&pool);
    free(in);
    free(out);
    free(plain);
}

/* A runtime refuses a program with a step kind it does not know (built for
 * a newer runtime), naming the route; known kinds pass. */
T_SUITE(steps_unknown)
{
    static const struct rp_compress_def cd = {.codings = RP_CODING_GZIP};
    static const struct rp_step good[] = {{RP_STEP_COMPRESS, &cd},
                                          {RP_STEP_BACKEND_HEADERS, NULL},
                                          {RP_STEP_END, NULL}};
    static const struct rp_step bad[] = {{(enum rp_step_kind)99, &cd}, {RP_STEP_END, NULL}};
    static const struct rp_step no_arg[] = {{RP_STEP_HEADERS, NULL}, {RP_STEP_END, NULL}};
    struct rp_route_def routes[3] = {{.where = "a", .steps = good}, {.where = "b"},
                                     {.where = "c", .steps = bad}};
    struct rp_program prog = {.n_routes = 3, .routes = routes};
    T_EQ(rp_steps_unknown(&prog), 2);
    routes[2].steps = no_arg;
    T_EQ(rp_steps_unknown(&prog), 2);
    routes[2].steps = NULL;
    T_EQ(rp_steps_unknown(&prog), RP_NO_ROUTE);
}
