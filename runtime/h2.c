/* h2.c: HTTP/2 to clients (h2.h). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <nghttp2/nghttp2.h>

#include "bytes.h"
#include "conn.h"
#include "h2.h"
#include "h2fields.h"
#include "iowant.h"
#include "log.h"
#include "metrics.h"
#include "reason.h"
#include "worker.h"

#define H2_OUT_MAX (64 * 1024)  /* frames for the socket held before reading stops */
#define H2_BODY_MAX (64 * 1024) /* a stream's response bytes held for the client's window */
#define H2_RESP_HEAD_MAX (64 * 1024)
#define H2_RECENT 64 /* closed streams remembered (h2_on_begin_frame) */
#define H2_SPARE_STREAMS 16      /* a connection's streams kept for reuse ... */
#define H2_SPARE_CAP (16 * 1024) /* ... with their buffers up to this size each */

struct rp_h2_stream;

static void h2_io(struct rp_conn *c, int revents);

struct rp_h2 {
    struct rp_conn *c; /* the client connection (state RP_CONN_H2) */
    ev_prepare flush;  /* frames to send: sent once the loop's events are handled */
    nghttp2_session *ng;
    struct rp_h2_stream *streams; /* open streams, to end them with the session */
    uint32_t n_streams;
    struct rp_h2_stream *spare;   /* closed streams' memory, for the next ones */
    uint32_t n_spare;
    bool freeing;                 /* h2_free: nothing is kept */
    struct bytes out; /* frames for the socket */
    bool draining;    /* GOAWAY sent (a notice first, then the last stream id) */
    bool goaway_final;
    bool broken;      /* a callback found the connection unusable: close after sending */
    uint32_t max_head;
    int32_t max_id;   /* the highest stream the client opened */
    int32_t recent[H2_RECENT]; /* streams closed lately, whose HEADERS may still come */
    uint32_t n_recent;
};

enum resp_state { R_HEAD, R_BODY, R_CLOSE, R_DONE };

struct rp_h2_stream {
    struct rp_h2 *h;
    struct rp_h2_stream *prev, *next;
    int32_t id;
    struct rp_conn *sc; /* the stream's exchange; NULL before its head or after */
    int want;           /* the events sc waits for */

    /* Its bytes (kept with their capacity when the stream's memory is used
     * again, so a busy connection's streams cost no allocation):
     *   hb       the values of the pseudo-header fields and Host, by offset
     *   fields   the request's other fields as HTTP/1.1 lines
     *   cookie   cookie crumbs joined with "; "
     *   trailers the request's trailer fields, for a chunked body
     *   req      the request as HTTP/1.1, for sc to read
     *   rhead    a response head being gathered
     *   body     response body bytes, decoded, for DATA frames
     *   rtrailers the response's trailer section, for trailing HEADERS */
    struct stream_bytes {
        struct bytes hb, fields, cookie, trailers, req, rhead, body, rtrailers;
    } b;
    uint32_t method_off, method_len, path_off, path_len, auth_off, auth_len, host_off, host_len;
    bool has_method, has_path, has_auth, has_host, has_length;
    bool too_big;       /* the head's fields passed the limit: answered 431 */
    bool head_done;     /* its request head ended (END_HEADERS) */
    double t_begin;     /* when its HEADERS began: the head must end in
                           timeouts { client_header } */
    bool bad;           /* a field no HTTP/1.1 request could carry: answered 400 */
    uint32_t head_bytes; /* RFC 9113's size of the head: names, values, 32 each */

    bool req_chunked;   /* the body goes chunked (its length was not given) */
    bool req_end;       /* END_STREAM seen; the request is all in req */
    size_t unconsumed;  /* DATA bytes not yet acknowledged (read by sc) */

    /* The response as sc writes it, turned into frames. */
    enum resp_state rstate;
    struct rp_h2_body rbody; /* R_BODY: its framing */
    bool head_request;
    bool submitted;     /* the final response's HEADERS are queued */
    bool deferred;      /* the DATA source waits for bytes */
    bool body_end;      /* body holds the response's last bytes */
    bool exchange_done; /* sc wrote its whole response */
    bool closed;        /* nghttp2 closed the stream */
};

static struct rp_conn *conn_of_transport(struct rp_transport *t)
{
    return (struct rp_conn *)((char *)t - offsetof(struct rp_conn, tr));
}

/* More to send: sent once the loop has handled the events it has, so
 * the responses of many streams that became ready in one turn go out in
 * one write (and one TLS record) rather than one each. */
static void h2_kick(struct rp_h2 *h)
{
    if (!ev_is_active(&h->flush))
        ev_prepare_start(h->c->w->loop, &h->flush);
}

static void h2_flush_cb(struct ev_loop *loop, ev_prepare *p, int revents)
{
    (void)revents;
    struct rp_h2 *h = (struct rp_h2 *)((char *)p - offsetof(struct rp_h2, flush));
    ev_prepare_stop(loop, p);
    h2_io(h->c, 0);
}

static void stream_feed(struct rp_h2_stream *s, int events)
{
    if (s->sc && (s->want & events))
        ev_feed_event(s->sc->w->loop, &s->sc->io, s->want & events);
}

/* ---- the stream connection's transport ------------------------------------------ */

/* The request's bytes: -1/EAGAIN when none are there, never the end of
 * the stream (the exchange ends with its response, not with the request). */
static ssize_t stream_read(struct rp_transport *t, void *buf, size_t n)
{
    struct rp_conn *sc = conn_of_transport(t);
    struct rp_h2_stream *s = sc->h2s;
    if (!s || !s->b.req.len) {
        errno = EAGAIN;
        return -1;
    }
    size_t k = n < s->b.req.len ? n : s->b.req.len;
    memcpy(buf, bytes_at(&s->b.req), k);
    bytes_take(&s->b.req, k);
    if (s->unconsumed && s->b.req.len < RP_H2_READ_SIZE) {
        /* Read: the client may send as much again (WINDOW_UPDATE). */
        nghttp2_session_consume(s->h->ng, s->id, s->unconsumed);
        s->unconsumed = 0;
        h2_kick(s->h);
    }
    return (ssize_t)k;
}

static void stream_submit_head(struct rp_h2_stream *s, const struct rp_http1_response *resp,
                               bool final);

/* Bytes of the response the exchange writes, taken while there is room
 * (rp_h2_take_fn). */
static ssize_t stream_take(void *owner, const char *p, size_t n)
{
    struct rp_h2_stream *s = owner;
    if (s->rstate == R_HEAD) {
        size_t k = n;
        if (s->b.rhead.len + k > H2_RESP_HEAD_MAX)
            k = H2_RESP_HEAD_MAX - s->b.rhead.len;
        if (!k || !bytes_add(&s->b.rhead, p, k))
            return -1;
        static const struct rp_http1_limits limits = {
            .max_uri = H2_RESP_HEAD_MAX, .max_head = H2_RESP_HEAD_MAX,
            .max_headers = RP_HTTP1_MAX_HEADERS};
        struct rp_http1_response resp;
        int r = rp_http1_parse_response(bytes_at(&s->b.rhead), s->b.rhead.len, &limits,
                                        s->head_request, &resp);
        if (r == RP_HTTP1_INCOMPLETE)
            return (ssize_t)k;
        if (r < 0 || resp.status == 101)
            return -1;
        size_t extra = s->b.rhead.len - (size_t)r; /* body bytes that came with the head */
        bool final = resp.status >= 200;
        stream_submit_head(s, &resp, final);
        bytes_take(&s->b.rhead, s->b.rhead.len);
        if (final) {
            if (resp.body == RP_HTTP1_BODY_CLOSE) {
                s->rstate = R_CLOSE;
            } else {
                rp_h2_body_init(&s->rbody, resp.body == RP_HTTP1_BODY_CHUNKED,
                                resp.body == RP_HTTP1_BODY_LENGTH ? resp.content_length : 0);
                s->body_end = s->rbody.done;
                s->rstate = s->body_end ? R_DONE : R_BODY;
            }
        }
        return (ssize_t)(k - extra);
    }
    if (s->rstate == R_DONE)
        return (ssize_t)n; /* nothing follows a complete response */
    if (s->rstate == R_CLOSE) {
        size_t k = s->b.body.len < H2_BODY_MAX ? H2_BODY_MAX - s->b.body.len : 0;
        if (k > n)
            k = n;
        return bytes_add(&s->b.body, p, k) ? (ssize_t)k : -1;
    }
    ssize_t k = rp_h2_body_take(&s->rbody, p, n, &s->b.body, H2_BODY_MAX, &s->b.rtrailers);
    if (k > 0 && s->rbody.done) {
        s->rstate = R_DONE;
        s->body_end = true;
    }
    return k;
}

static ssize_t stream_writev(struct rp_transport *t, const struct iovec *iov, int n)
{
    struct rp_conn *sc = conn_of_transport(t);
    struct rp_h2_stream *s = sc->h2s;
    if (!s || s->closed) {
        errno = EPIPE;
        return -1;
    }
    ssize_t taken = rp_h2_writev(iov, n, stream_take, s);
    if (taken < 0 && errno == EPROTO)
        return -1;
    if (s->deferred && (s->b.body.len || s->body_end)) {
        s->deferred = false;
        nghttp2_session_resume_data(s->h->ng, s->id);
    }
    h2_kick(s->h);
    return taken;
}

static int stream_shutdown(struct rp_transport *t)
{
    (void)t;
    return 0; /* the response ends with the exchange (stream_close) */
}

/* The exchange's connection closes: the stream's response is complete, or
 * it never will be (reset). */
static void stream_close(struct rp_transport *t)
{
    struct rp_conn *sc = conn_of_transport(t);
    struct rp_h2_stream *s = sc->h2s;
    if (!s)
        return;
    sc->h2s = NULL;
    s->sc = NULL;
    s->want = 0;
    s->exchange_done = sc->exchanges > 0; /* its response written whole */
    struct rp_h2 *h = s->h;
    if (s->closed)
        return;
    if (s->unconsumed) {
        nghttp2_session_consume(h->ng, s->id, s->unconsumed);
        s->unconsumed = 0;
    }
    if (s->exchange_done && s->rstate == R_CLOSE) {
        s->rstate = R_DONE;
        s->body_end = true;
    }
    if (s->submitted && s->body_end) {
        if (s->deferred) {
            s->deferred = false;
            nghttp2_session_resume_data(h->ng, s->id);
        }
    } else {
        nghttp2_submit_rst_stream(h->ng, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_INTERNAL_ERROR);
    }
    h2_kick(h);
}

static void stream_want(struct rp_transport *t, int events)
{
    struct rp_conn *sc = conn_of_transport(t);
    struct rp_h2_stream *s = sc->h2s;
    if (!s)
        return;
    s->want = events;
    int ready = 0;
    if ((events & EV_READ) && s->b.req.len)
        ready |= EV_READ;
    if ((events & EV_WRITE) && s->b.body.len < H2_BODY_MAX)
        ready |= EV_WRITE;
    if (ready)
        ev_feed_event(sc->w->loop, &sc->io, ready);
}

static const struct rp_transport_ops stream_ops = {
    .name = "h2 stream",
    .read = stream_read,
    .writev = stream_writev,
    .shutdown = stream_shutdown,
    .close = stream_close,
    .want = stream_want,
};


/* ---- responses -------------------------------------------------------------------- */

/* The response's trailer section as trailing HEADERS, sent after the
 * last DATA (which then does not end the stream). False: none. */
static bool submit_trailers(struct rp_h2_stream *s)
{
    nghttp2_nv nva[RP_HTTP1_MAX_HEADERS];
    size_t n = rp_h2_nv_from_lines(bytes_at(&s->b.rtrailers), s->b.rtrailers.len, nva,
                                   RP_HTTP1_MAX_HEADERS);
    return n && nghttp2_submit_trailer(s->h->ng, s->id, nva, n) == 0;
}

static ssize_t body_read(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t length,
                         uint32_t *flags, nghttp2_data_source *src, void *user)
{
    (void)ng;
    (void)id;
    (void)user;
    struct rp_h2_stream *s = src->ptr;
    if (!s->b.body.len && !s->body_end) {
        s->deferred = true;
        return NGHTTP2_ERR_DEFERRED;
    }
    size_t k = length < s->b.body.len ? length : s->b.body.len;
    memcpy(buf, bytes_at(&s->b.body), k);
    bytes_take(&s->b.body, k);
    if (!s->b.body.len && s->body_end) {
        *flags |= NGHTTP2_DATA_FLAG_EOF;
        if (s->b.rtrailers.len && submit_trailers(s))
            *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
    }
    if (k)
        stream_feed(s, EV_WRITE); /* room again for the exchange's bytes */
    return (ssize_t)k;
}

#define NV(n, v, vl)                                                                               \
    ((nghttp2_nv){(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, (vl), NGHTTP2_NV_FLAG_NONE})

/* Queues a response head: its fields in lower case, without HTTP/1.1's
 * connection-specific ones (RFC 9113 8.2.2). */
static void stream_submit_head(struct rp_h2_stream *s, const struct rp_http1_response *resp,
                               bool final)
{
    nghttp2_nv nva[RP_HTTP1_MAX_HEADERS + 1];
    char status[3] = {(char)('0' + resp->status / 100 % 10), (char)('0' + resp->status / 10 % 10),
                      (char)('0' + resp->status % 10)};
    nva[0] = NV(":status", status, 3);
    /* (the names are in rhead, ours to lower-case) */
    size_t n = 1 + rp_h2_nv_from_fields(resp->headers, resp->n_headers, NULL, nva + 1,
                                        RP_HTTP1_MAX_HEADERS);
    if (!final) {
        nghttp2_submit_headers(s->h->ng, NGHTTP2_FLAG_NONE, s->id, NULL, nva, n, NULL);
        return;
    }
    bool body = resp->body != RP_HTTP1_BODY_NONE &&
                !(resp->body == RP_HTTP1_BODY_LENGTH && resp->content_length == 0);
    nghttp2_data_provider dp = {.source.ptr = s, .read_callback = body_read};
    nghttp2_submit_response(s->h->ng, s->id, nva, n, body ? &dp : NULL);
    s->submitted = true;
}

/* An answer of this module's own, for a request no exchange could take. */
static void stream_answer(struct rp_h2_stream *s, int status)
{
    bytes_str(&s->b.body, rp_reason(status));
    bytes_add(&s->b.body, "\n", 1);
    s->body_end = true;
    s->rstate = R_DONE;
    char st[4], cl[24];
    snprintf(st, sizeof st, "%03d", status);
    int cl_len = snprintf(cl, sizeof cl, "%zu", s->b.body.len);
    nghttp2_nv nva[] = {NV(":status", st, 3), NV("content-type", "text/plain", 10),
                        NV("content-length", cl, (size_t)cl_len)};
    nghttp2_data_provider dp = {.source.ptr = s, .read_callback = body_read};
    nghttp2_submit_response(s->h->ng, s->id, nva, 3, &dp);
    s->submitted = true;
}

/* ---- requests --------------------------------------------------------------------- */

/* A closed stream's memory goes back to the connection's spares, its
 * buffers emptied but kept (those over H2_SPARE_CAP freed). */
static void stream_free(struct rp_h2_stream *s)
{
    struct rp_h2 *h = s->h;
    struct bytes *all = (struct bytes *)&s->b;
    bool keep = h->n_spare < H2_SPARE_STREAMS && !h->freeing;
    for (size_t i = 0; i < sizeof s->b / sizeof *all; i++) {
        if (!keep || all[i].cap > H2_SPARE_CAP)
            bytes_free(&all[i]);
        else
            bytes_clear(&all[i]);
    }
    if (!keep) {
        free(s);
        return;
    }
    s->next = h->spare;
    h->spare = s;
    h->n_spare++;
}

static struct rp_h2_stream *stream_alloc(struct rp_h2 *h)
{
    struct rp_h2_stream *s = h->spare;
    if (!s)
        return calloc(1, sizeof *s);
    h->spare = s->next;
    h->n_spare--;
    struct stream_bytes b = s->b;
    memset(s, 0, sizeof *s);
    s->b = b;
    return s;
}

static void stream_unlink(struct rp_h2_stream *s)
{
    struct rp_h2 *h = s->h;
    if (s->prev)
        s->prev->next = s->next;
    else
        h->streams = s->next;
    if (s->next)
        s->next->prev = s->prev;
    h->n_streams--;
}

static int on_begin_headers(nghttp2_session *ng, const nghttp2_frame *frame, void *user)
{
    struct rp_h2 *h = user;
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    struct rp_h2_stream *s = stream_alloc(h);
    if (!s)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    s->h = h;
    s->id = frame->hd.stream_id;
    s->t_begin = ev_now(h->c->w->loop);
    s->next = h->streams;
    if (h->streams)
        h->streams->prev = s;
    h->streams = s;
    h->n_streams++;
    nghttp2_session_set_stream_user_data(ng, s->id, s);
    rp_metrics_bump(&h->c->w->metrics.h2_streams, 1);
    return 0;
}

/* A request-target, method or authority byte that HTTP/1.1 could not carry
 * in a request line or Host field (nghttp2 refuses CR, LF and NUL; this
 * refuses the rest of what could split a line). */
static bool line_safe(const uint8_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] <= 0x20 || v[i] == 0x7f)
            return false;
    return n > 0;
}

static bool name_is(const uint8_t *name, size_t len, const char *lit)
{
    return len == strlen(lit) && memcmp(name, lit, len) == 0;
}

static int on_header(nghttp2_session *ng, const nghttp2_frame *frame, const uint8_t *name,
                     size_t name_len, const uint8_t *value, size_t value_len, uint8_t flags,
                     void *user)
{
    (void)flags;
    struct rp_h2 *h = user;
    struct rp_h2_stream *s = nghttp2_session_get_stream_user_data(ng, frame->hd.stream_id);
    if (!s || frame->hd.type != NGHTTP2_HEADERS)
        return 0;
    s->head_bytes += (uint32_t)(name_len + value_len + 32);
    if (s->head_bytes > h->max_head) {
        s->too_big = true;
        return 0;
    }
    bool ok = true;
    if (frame->headers.cat != NGHTTP2_HCAT_REQUEST) {
        /* A trailer section: kept for a chunked body, else dropped. */
        if (s->req_chunked)
            ok = rp_h2_line_add(&s->b.trailers, name, name_len, value, value_len);
        return ok ? 0 : NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    uint32_t at = (uint32_t)s->b.hb.len;
    if (name[0] == ':') {
        if (name_is(name, name_len, ":method")) {
            s->has_method = true, s->method_off = at, s->method_len = (uint32_t)value_len;
        } else if (name_is(name, name_len, ":path")) {
            s->has_path = true, s->path_off = at, s->path_len = (uint32_t)value_len;
        } else if (name_is(name, name_len, ":authority")) {
            s->has_auth = true, s->auth_off = at, s->auth_len = (uint32_t)value_len;
        } else {
            return 0; /* :scheme: the connection says it */
        }
        if (!line_safe(value, value_len))
            s->bad = true;
        return bytes_add(&s->b.hb, value, value_len) ? 0 : NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    if (name_is(name, name_len, "host")) {
        if (s->has_host || !line_safe(value, value_len))
            s->bad = true;
        s->has_host = true, s->host_off = at, s->host_len = (uint32_t)value_len;
        return bytes_add(&s->b.hb, value, value_len) ? 0 : NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    if (name_is(name, name_len, "cookie")) {
        /* Crumbs are one field again on HTTP/1.1 (RFC 9113 8.2.3). */
        ok = (!s->b.cookie.len || bytes_add(&s->b.cookie, "; ", 2)) &&
             bytes_add(&s->b.cookie, value, value_len);
        return ok ? 0 : NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    if (name_is(name, name_len, "te"))
        return 0; /* "trailers" (nghttp2 refuses others): hop-by-hop */
    if (name_is(name, name_len, "content-length"))
        s->has_length = true;
    ok = rp_h2_line_add(&s->b.fields, name, name_len, value, value_len);
    return ok ? 0 : NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
}

/* The request head is complete: written as HTTP/1.1 for an exchange of
 * its own. */
static void stream_begin(struct rp_h2 *h, struct rp_h2_stream *s, bool end_stream)
{
    s->head_done = true;
    if (s->too_big) {
        stream_answer(s, 431);
        return;
    }
    const char *hb = bytes_at(&s->b.hb);
    /* :authority wins over Host; a Host naming another is malformed
     * (RFC 9113 8.3.1), as is a request without a method (nghttp2
     * checks the pseudo-header fields' presence). */
    if (s->bad || !s->has_method ||
        (s->has_auth && s->has_host &&
         !(s->auth_len == s->host_len &&
           strncasecmp(hb + s->auth_off, hb + s->host_off, s->auth_len) == 0))) {
        stream_answer(s, 400);
        return;
    }
    bool connect = s->method_len == 7 && memcmp(hb + s->method_off, "CONNECT", 7) == 0;
    struct bytes *r = &s->b.req;
    bool ok = bytes_add(r, hb + s->method_off, s->method_len) && bytes_add(r, " ", 1);
    if (connect || !s->has_path)
        ok = ok && bytes_add(r, hb + s->auth_off, s->has_auth ? s->auth_len : 0);
    else
        ok = ok && bytes_add(r, hb + s->path_off, s->path_len);
    ok = ok && bytes_str(r, " HTTP/1.1\r\n");
    if (s->has_auth || s->has_host) {
        ok = ok && bytes_str(r, "Host: ") &&
             bytes_add(r, hb + (s->has_auth ? s->auth_off : s->host_off),
                       s->has_auth ? s->auth_len : s->host_len) &&
             bytes_add(r, "\r\n", 2);
    }
    ok = ok && bytes_add(r, bytes_at(&s->b.fields), s->b.fields.len);
    if (s->b.cookie.len)
        ok = ok && bytes_str(r, "Cookie: ") &&
             bytes_add(r, bytes_at(&s->b.cookie), s->b.cookie.len) && bytes_add(r, "\r\n", 2);
    if (!end_stream && !s->has_length) {
        /* A body of a length not given: chunked, as HTTP/1.1 carries it. */
        s->req_chunked = true;
        ok = ok && bytes_str(r, "Transfer-Encoding: chunked\r\n");
    }
    ok = ok && bytes_add(r, "\r\n", 2);
    s->head_request = s->method_len == 4 && memcmp(hb + s->method_off, "HEAD", 4) == 0;
    bytes_clear(&s->b.hb);
    bytes_clear(&s->b.fields);
    bytes_clear(&s->b.cookie);
    s->req_end = end_stream;
    if (!ok || !(s->sc = rp_conn_open_stream(h->c, &stream_ops, s))) {
        nghttp2_submit_rst_stream(h->ng, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_INTERNAL_ERROR);
        return;
    }
    s->sc->h2s = s;
}

static void stream_end_request(struct rp_h2_stream *s)
{
    if (s->req_end)
        return;
    s->req_end = true;
    if (s->req_chunked && s->sc) {
        bool ok = bytes_add(&s->b.req, "0\r\n", 3) &&
                  bytes_add(&s->b.req, bytes_at(&s->b.trailers), s->b.trailers.len) &&
                  bytes_add(&s->b.req, "\r\n", 2);
        if (!ok)
            nghttp2_submit_rst_stream(s->h->ng, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_INTERNAL_ERROR);
    }
    bytes_clear(&s->b.trailers);
    stream_feed(s, EV_READ);
}

static int on_data_chunk(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *data,
                         size_t len, void *user)
{
    (void)flags;
    (void)user;
    struct rp_h2_stream *s = nghttp2_session_get_stream_user_data(ng, id);
    if (!s || !s->sc) {
        /* Nobody reads it (answered already, or reset): the window stays open. */
        nghttp2_session_consume(ng, id, len);
        return 0;
    }
    bool ok = true;
    if (s->req_chunked) {
        char line[24];
        size_t n = hex_put(line, len);
        line[n++] = '\r';
        line[n++] = '\n';
        ok = bytes_add(&s->b.req, line, n) && bytes_add(&s->b.req, data, len) &&
             bytes_add(&s->b.req, "\r\n", 2);
    } else {
        ok = bytes_add(&s->b.req, data, len);
    }
    if (!ok)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    s->unconsumed += len;
    stream_feed(s, EV_READ);
    return 0;
}

static int on_frame_recv(nghttp2_session *ng, const nghttp2_frame *frame, void *user)
{
    struct rp_h2 *h = user;
    struct rp_h2_stream *s = frame->hd.stream_id
                                 ? nghttp2_session_get_stream_user_data(ng, frame->hd.stream_id)
                                 : NULL;
    bool end = frame->hd.flags & NGHTTP2_FLAG_END_STREAM;
    switch (frame->hd.type) {
    case NGHTTP2_HEADERS:
        if (!s)
            return 0;
        if (frame->headers.cat == NGHTTP2_HCAT_REQUEST)
            stream_begin(h, s, end);
        else if (end)
            stream_end_request(s);
        break;
    case NGHTTP2_DATA:
        if (s && end)
            stream_end_request(s);
        break;
    case NGHTTP2_PING:
        /* Draining: the notice's PING came back, so every stream the
         * client sent before seeing it has arrived: the last one. */
        if ((frame->hd.flags & NGHTTP2_FLAG_ACK) && h->draining && !h->goaway_final) {
            h->goaway_final = true;
            nghttp2_submit_goaway(ng, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(ng),
                                  NGHTTP2_NO_ERROR, NULL, 0);
        }
        break;
    default:
        break;
    }
    return 0;
}

/* RFC 9113 5.1.1: a new stream's id is above every one before, and a
 * HEADERS frame on a stream id skipped or long closed is a connection
 * error. nghttp2 ignores such frames instead (it cannot tell them from
 * trailers racing a reset), so the streams closed lately are remembered:
 * HEADERS for one of them are left to nghttp2, any other lower id ends
 * the connection. */
static int on_begin_frame(nghttp2_session *ng, const nghttp2_frame_hd *hd, void *user)
{
    struct rp_h2 *h = user;
    if (hd->type != NGHTTP2_HEADERS || hd->stream_id == 0 || !(hd->stream_id & 1))
        return 0;
    if (hd->stream_id > h->max_id) {
        h->max_id = hd->stream_id;
        return 0;
    }
    if (nghttp2_session_find_stream(ng, hd->stream_id))
        return 0;
    for (uint32_t i = 0; i < H2_RECENT && i < h->n_recent; i++)
        if (h->recent[i] == hd->stream_id)
            return 0;
    nghttp2_session_terminate_session(ng, NGHTTP2_PROTOCOL_ERROR);
    return 0;
}

/* A GOAWAY with an error code ends the connection: counted. */
static int on_frame_send(nghttp2_session *ng, const nghttp2_frame *frame, void *user)
{
    (void)ng;
    struct rp_h2 *h = user;
    if (frame->hd.type == NGHTTP2_GOAWAY && frame->goaway.error_code != NGHTTP2_NO_ERROR)
        rp_metrics_bump(&h->c->w->metrics.h2_errors, 1);
    return 0;
}

static int on_stream_close(nghttp2_session *ng, int32_t id, uint32_t error_code, void *user)
{
    (void)error_code;
    struct rp_h2 *h = user;
    h->recent[h->n_recent++ % H2_RECENT] = id;
    struct rp_h2_stream *s = nghttp2_session_get_stream_user_data(ng, id);
    if (!s)
        return 0;
    nghttp2_session_set_stream_user_data(ng, id, NULL);
    s->closed = true;
    stream_unlink(s);
    if (s->sc) {
        /* Reset by the client (or by us) before its exchange ended. */
        rp_metrics_bump(&h->c->w->metrics.h2_resets, 1);
        struct rp_conn *sc = s->sc;
        sc->h2s = NULL;
        s->sc = NULL;
        rp_conn_close(sc);
    }
    stream_free(s);
    return 0;
}

/* ---- the connection ------------------------------------------------------------ */

static void h2_close(struct rp_h2 *h)
{
    rp_conn_close(h->c);
}

/* Between requests a connection keeps no memory for them: its spare
 * streams and an empty output buffer go (an idle client costs the
 * session's HPACK tables and little else). */
static void h2_idle_trim(struct rp_h2 *h)
{
    bool freeing = h->freeing;
    h->freeing = true; /* stream_free: nothing kept */
    while (h->spare) {
        struct rp_h2_stream *s = h->spare;
        h->spare = s->next;
        h->n_spare--;
        stream_free(s);
    }
    h->freeing = freeing;
    if (!h->out.len)
        bytes_free(&h->out);
}

/* When the oldest request head under way must have ended; 0: none is. */
static double h2_head_deadline(const struct rp_h2 *h)
{
    double oldest = 0;
    for (const struct rp_h2_stream *s = h->streams; s; s = s->next)
        if (!s->head_done && (!oldest || s->t_begin < oldest))
            oldest = s->t_begin;
    return oldest ? oldest + h->c->w->cfg->client_header_timeout : 0;
}

/* Frames to the socket, as many as it takes. */
static void h2_send(struct rp_h2 *h)
{
    struct rp_conn *c = h->c;
    if (rp_h2_send(h->ng, &c->tr, &h->out, H2_OUT_MAX, &c->bytes_out) != 0) {
        h2_close(h);
        return;
    }
    bool want_read = nghttp2_session_want_read(h->ng) && !h->broken;
    if (!want_read && !h->out.len && !nghttp2_session_want_write(h->ng)) {
        h2_close(h); /* GOAWAY both ways and nothing open: done */
        return;
    }
    rp_conn_want(c, (want_read && h->out.len < H2_OUT_MAX ? EV_READ : 0) |
                        (h->out.len ? EV_WRITE : 0));
    const struct rp_config *cfg = c->w->cfg;
    double head_by = h2_head_deadline(h), now = ev_now(c->w->loop);
    if (h->n_streams == 0) {
        rp_conn_set_timer(c, h->draining ? 1.0 : cfg->client_idle_timeout);
        h2_idle_trim(h);
    } else if (head_by || h->out.len) {
        /* A head that does not end (HEADERS, then CONTINUATION never
         * ending it), or a client that stops reading. */
        double t = h->out.len ? cfg->client_body_timeout : head_by - now;
        if (head_by && head_by - now < t)
            t = head_by - now;
        rp_conn_set_timer(c, t > 0.001 ? t : 0.001);
    } else {
        ev_timer_stop(c->w->loop, &c->timer);
    }
}

static void h2_io(struct rp_conn *c, int revents)
{
    struct rp_h2 *h = c->h2;
    if (revents & EV_READ) {
        for (int i = 0; i < 4 && h->out.len < H2_OUT_MAX && !h->broken; i++) {
            char *rbuf = rp_h2_read_buffer();
            ssize_t n = rp_transport_read(&c->tr, rbuf, RP_H2_READ_SIZE);
            if (n < 0 && errno == EAGAIN)
                break;
            if (n <= 0) {
                h2_close(h); /* the client went away: its streams end */
                return;
            }
            c->bytes_in += (uint64_t)n;
            ssize_t r = nghttp2_session_mem_recv(h->ng, (const uint8_t *)rbuf, (size_t)n);
            if (c->state == RP_CONN_CLOSED)
                return;
            if (r < 0) {
                /* A connection error: nghttp2 queued its GOAWAY; send it, then close. */
                if (rp_log_max >= RP_LOG_DEBUG) {
                    uint32_t len;
                    const char *peer = rp_conn_peer_text(c, &len);
                    rp_debug("http/2 connection from %.*s: %s", (int)len, peer,
                             nghttp2_strerror((int)r));
                }
                h->broken = true;
                break;
            }
            if (n < RP_H2_READ_SIZE)
                break;
        }
    }
    h2_send(h);
    if (c->state != RP_CONN_CLOSED && h->broken && !h->out.len)
        h2_close(h);
}

static void h2_timeout(struct rp_conn *c)
{
    struct rp_h2 *h = c->h2;
    double head_by = h2_head_deadline(h);
    if (h->n_streams && !h->out.len && (!head_by || head_by > ev_now(c->w->loop) + 0.001)) {
        h2_send(h); /* nothing overdue: the timer again */
        return;
    }
    if (head_by && rp_log_max >= RP_LOG_DEBUG) {
        uint32_t len;
        const char *peer = rp_conn_peer_text(c, &len);
        rp_debug("http/2 connection from %.*s: a request head did not end in time", (int)len,
                 peer);
    }
    if (h->n_streams == 0 && !h->out.len && !h->draining) {
        /* Idle: say so before closing. The GOAWAY goes by the usual path
         * (a socket that cannot take it now gets it when it can); with it
         * sent and no stream open, h2_send closes, and if the client never
         * reads, the draining timer does. */
        h->draining = true;
        nghttp2_submit_goaway(h->ng, NGHTTP2_FLAG_NONE,
                              nghttp2_session_get_last_proc_stream_id(h->ng), NGHTTP2_NO_ERROR,
                              NULL, 0);
        h2_send(h);
        return;
    }
    h2_close(h);
}

static void h2_drain(struct rp_conn *c)
{
    struct rp_h2 *h = c->h2;
    if (h->draining)
        return;
    h->draining = true;
    /* A notice first (the largest stream id), then, once a PING has come
     * back, the real last stream: no stream the client sent in between is
     * refused (RFC 9113 6.8). */
    nghttp2_submit_shutdown_notice(h->ng);
    nghttp2_submit_ping(h->ng, NGHTTP2_FLAG_NONE, NULL);
    h2_send(h);
}

static bool h2_idle(const struct rp_conn *c)
{
    return c->h2->n_streams == 0;
}

static void h2_free(struct rp_conn *c)
{
    struct rp_h2 *h = c->h2;
    if (!h)
        return;
    c->h2 = NULL;
    c->proto = NULL;
    h->freeing = true;
    ev_prepare_stop(c->w->loop, &h->flush);
    while (h->streams) {
        struct rp_h2_stream *s = h->streams;
        s->closed = true;
        stream_unlink(s);
        if (s->sc) {
            struct rp_conn *sc = s->sc;
            sc->h2s = NULL;
            s->sc = NULL;
            rp_conn_close(sc);
        }
        stream_free(s);
    }
    h2_idle_trim(h);
    nghttp2_session_del(h->ng);
    bytes_free(&h->out);
    free(h);
}

static const struct rp_conn_protocol h2_protocol = {
    .name = "h2",
    .io = h2_io,
    .timeout = h2_timeout,
    .drain = h2_drain,
    .idle = h2_idle,
    .free = h2_free,
};

void rp_h2_start(struct rp_conn *c, const char *pre, size_t pre_len)
{
    const struct rp_config *cfg = c->w->cfg;
    struct rp_h2 *h = calloc(1, sizeof *h);
    nghttp2_session_callbacks *cb = NULL;
    nghttp2_option *opt = NULL;
    if (!h || nghttp2_session_callbacks_new(&cb) != 0 || nghttp2_option_new(&opt) != 0) {
        free(h);
        nghttp2_session_callbacks_del(cb);
        rp_conn_close(c);
        return;
    }
    nghttp2_session_callbacks_set_on_begin_frame_callback(cb, on_begin_frame);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
    nghttp2_session_callbacks_set_on_frame_send_callback(cb, on_frame_send);
    /* Windows open as exchanges read, not as bytes arrive. */
    nghttp2_option_set_no_auto_window_update(opt, 1);
    /* Rapid reset (CVE-2023-44487): a burst of 1000 resets, then 33 a
     * second, before the connection is closed; CONTINUATION floods
     * (CVE-2024-28182): 8 frames a head. Both are nghttp2's defaults in
     * Debian's build; set here so they do not depend on it. */
    nghttp2_option_set_stream_reset_rate_limit(opt, 1000, 33);
    nghttp2_option_set_max_continuations(opt, 8);
    nghttp2_option_set_max_outbound_ack(opt, 1000); /* SETTINGS/PING floods */
    nghttp2_option_set_max_settings(opt, 32);
    int rv = nghttp2_session_server_new2(&h->ng, cb, h, opt);
    nghttp2_session_callbacks_del(cb);
    nghttp2_option_del(opt);
    if (rv != 0) {
        free(h);
        rp_conn_close(c);
        return;
    }
    h->c = c;
    rp_metrics_bump(&c->w->metrics.h2_conns, 1);
    ev_prepare_init(&h->flush, h2_flush_cb);
    h->max_head = cfg->req_limits.max_head;
    c->h2 = h;
    c->proto = &h2_protocol;
    c->state = RP_CONN_H2;
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, cfg->h2_streams},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, cfg->h2_window},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, cfg->req_limits.max_head},
        {NGHTTP2_SETTINGS_MAX_FRAME_SIZE, cfg->h2_frame},
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
    };
    nghttp2_submit_settings(h->ng, NGHTTP2_FLAG_NONE, iv, sizeof iv / sizeof iv[0]);
    /* The connection's window: room for several streams' bodies at once. */
    nghttp2_session_set_local_window_size(h->ng, NGHTTP2_FLAG_NONE, 0, 4 * (int32_t)cfg->h2_window);
    if (pre_len) {
        ssize_t r = nghttp2_session_mem_recv(h->ng, (const uint8_t *)pre, pre_len);
        if (c->state == RP_CONN_CLOSED)
            return;
        if (r < 0)
            h->broken = true;
    }
    h2_io(c, h->broken ? 0 : EV_READ);
}
