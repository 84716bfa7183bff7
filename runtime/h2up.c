/* h2up.c: HTTP/2 to servers (h2up.h). */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <nghttp2/nghttp2.h>

#include "bytes.h"
#include "h2fields.h"
#include "h2up.h"
#include "log.h"
#include "reason.h"
#include "sock.h"
#include "tls.h"
#include "upstream.h"
#include "worker.h"

#define H2UP_OUT_MAX (64 * 1024)  /* frames for the socket held before streams wait */
#define H2UP_BODY_MAX (64 * 1024) /* a request's body bytes held for the server's window */
#define H2UP_HEAD_MAX (64 * 1024) /* a head, either way */

struct h2up_stream;

/* One HTTP/2 connection to a server, per worker. */
struct rp_h2up {
    ev_io io;
    ev_prepare flush; /* frames to send: sent once the loop turn's events are handled */
    struct rp_transport tr;
    struct rp_worker *w;
    struct rp_pool *pool; /* whose connection it is; NULL once it failed or goes away */
    nghttp2_session *ng;  /* NULL once closed */
    struct h2up_stream *streams;
    uint32_t n_streams;
    bool connecting;      /* connect(), then TLS's handshake */
    bool tcp_connecting;  /* ... connect() itself */
    int hs_want;          /* the events TLS's handshake waits for */
    uint32_t backend, server;
    int error;            /* why it failed (an errno); 0 while it works */
    double idle_since;    /* when its last stream ended */
    struct bytes out;     /* frames for the socket */
};

enum req_state { Q_HEAD, Q_BODY, Q_DONE };

/* A request on it: an upstream connection of proxy.c's. */
struct h2up_stream {
    struct rp_h2up *h;
    struct h2up_stream *prev, *next;
    struct rp_upstream *up; /* NULL once proxy.c let it go */
    int32_t id;             /* 0 until its HEADERS are queued */
    int want;               /* the events proxy.c waits for */
    int error;              /* it failed (an errno), before its response ended */
    bool closed;            /* nghttp2 closed it */
    /* The request, from proxy.c's HTTP/1.1. */
    enum req_state qstate;
    struct rp_h2_body qb; /* Q_BODY: its framing */
    struct bytes qhead, qbody, qtrailers;
    bool qbody_end, deferred;
    /* The response, as HTTP/1.1 for proxy.c. */
    struct bytes resp, rtrailers;
    uint16_t status;
    bool has_length, resp_chunked, resp_final, resp_done;
    size_t unconsumed; /* DATA bytes proxy.c has not read yet */
};

static struct rp_upstream *up_of(struct rp_transport *t)
{
    return (struct rp_upstream *)((char *)t - offsetof(struct rp_upstream, tr));
}

static void h2up_kick(struct rp_h2up *h)
{
    if (h->ng && !ev_is_active(&h->flush))
        ev_prepare_start(h->w->loop, &h->flush);
}

static void stream_feed(struct h2up_stream *s, int events)
{
    if (s->up && (s->want & events))
        ev_feed_event(s->h->w->loop, &s->up->io, s->want & events);
}

static void h2up_free_if_done(struct rp_h2up *h)
{
    if (h->ng || h->n_streams)
        return;
    bytes_free(&h->out);
    free(h);
}

static void stream_free(struct h2up_stream *s)
{
    struct rp_h2up *h = s->h;
    if (s->prev)
        s->prev->next = s->next;
    else
        h->streams = s->next;
    if (s->next)
        s->next->prev = s->prev;
    if (--h->n_streams == 0)
        h->idle_since = ev_now(h->w->loop);
    bytes_free(&s->qhead);
    bytes_free(&s->qbody);
    bytes_free(&s->qtrailers);
    bytes_free(&s->resp);
    bytes_free(&s->rtrailers);
    free(s);
    h2up_free_if_done(h);
}

/* The connection is done for: new requests go to a new one. */
static void h2up_detach(struct rp_h2up *h)
{
    if (h->pool && h->pool->h2 == h)
        h->pool->h2 = NULL;
    h->pool = NULL;
}

/* Closes the connection; its streams that have no whole response fail with
 * `err` (proxy.c sees it on its next read or connect check). */
static void h2up_close(struct rp_h2up *h, int err)
{
    h2up_detach(h);
    if (!h->ng)
        return;
    if (!h->error)
        h->error = err;
    ev_io_stop(h->w->loop, &h->io);
    ev_prepare_stop(h->w->loop, &h->flush);
    rp_transport_close(&h->tr);
    nghttp2_session_del(h->ng);
    h->ng = NULL;
    h->n_streams++; /* h outlives the loop */
    for (struct h2up_stream *s = h->streams, *next; s; s = next) {
        next = s->next;
        s->closed = true;
        if (!s->resp_done && !s->error)
            s->error = err;
        stream_feed(s, EV_READ | EV_WRITE);
        if (!s->up)
            stream_free(s);
    }
    h->n_streams--;
    h2up_free_if_done(h); /* streams proxy.c still holds free it later */
}

/* ---- the upstream connection's transport -------------------------------------------------- */

static ssize_t stream_read(struct rp_transport *t, void *buf, size_t n)
{
    struct h2up_stream *s = up_of(t)->h2s;
    if (!s) {
        errno = ECONNRESET;
        return -1;
    }
    if (!s->resp.len) {
        if (s->error) {
            errno = s->error;
            return -1;
        }
        if (s->resp_done)
            return 0;
        errno = EAGAIN;
        return -1;
    }
    size_t k = n < s->resp.len ? n : s->resp.len;
    memcpy(buf, bytes_at(&s->resp), k);
    bytes_take(&s->resp, k);
    if (s->unconsumed && s->resp.len < RP_H2_READ_SIZE && s->h->ng && !s->closed) {
        nghttp2_session_consume(s->h->ng, s->id, s->unconsumed);
        s->unconsumed = 0;
        h2up_kick(s->h);
    }
    return (ssize_t)k;
}

static ssize_t body_read(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t length,
                         uint32_t *flags, nghttp2_data_source *src, void *user)
{
    (void)id;
    (void)user;
    struct h2up_stream *s = src->ptr;
    size_t k = length < s->qbody.len ? length : s->qbody.len;
    if (!k && !s->qbody_end) {
        s->deferred = true;
        return NGHTTP2_ERR_DEFERRED;
    }
    memcpy(buf, bytes_at(&s->qbody), k);
    bytes_take(&s->qbody, k);
    if (!s->qbody.len && s->qbody_end) {
        *flags |= NGHTTP2_DATA_FLAG_EOF;
        nghttp2_nv nva[RP_HTTP1_MAX_HEADERS];
        size_t n = rp_h2_nv_from_lines(bytes_at(&s->qtrailers), s->qtrailers.len, nva,
                                       RP_HTTP1_MAX_HEADERS);
        if (n && nghttp2_submit_trailer(ng, s->id, nva, n) == 0)
            *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
    }
    stream_feed(s, EV_WRITE);
    return (ssize_t)k;
}

#define NV(n, v, vl)                                                                               \
    ((nghttp2_nv){(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, (vl), NGHTTP2_NV_FLAG_NONE})

/* The request head is complete: its HEADERS, queued. False when it cannot
 * be (malformed, or nghttp2 refuses it). */
static bool stream_submit(struct h2up_stream *s, size_t *head_len)
{
    static const struct rp_http1_limits limits = {
        .max_uri = H2UP_HEAD_MAX, .max_head = H2UP_HEAD_MAX, .max_headers = RP_HTTP1_MAX_HEADERS};
    static const char *const skip[] = {"host", NULL};
    struct rp_http1_request req;
    int r = rp_http1_parse_request(bytes_at(&s->qhead), s->qhead.len, &limits, &req);
    if (r == RP_HTTP1_INCOMPLETE) {
        *head_len = 0;
        return true;
    }
    if (r < 0 || !s->h->ng)
        return false;
    *head_len = (size_t)r;
    nghttp2_nv nva[RP_HTTP1_MAX_HEADERS + 5];
    size_t n = 0;
    nva[n++] = NV(":method", req.method, req.method_len);
    nva[n++] = NV(":scheme", "http", 4);
    if (req.host)
        nva[n++] = NV(":authority", req.host, req.host_len);
    nva[n++] = NV(":path", req.target, req.target_len);
    n += rp_h2_nv_from_fields(req.headers, req.n_headers, skip, nva + n, RP_HTTP1_MAX_HEADERS);
    /* gRPC servers want it; any server may ignore it (RFC 9113 8.2.2). */
    nva[n++] = NV("te", "trailers", 8);
    nghttp2_data_provider dp = {.source.ptr = s, .read_callback = body_read};
    bool body = req.body == RP_HTTP1_BODY_CHUNKED ||
                (req.body == RP_HTTP1_BODY_LENGTH && req.content_length > 0);
    s->id = nghttp2_submit_request(s->h->ng, NULL, nva, n, body ? &dp : NULL, s);
    if (s->id < 0) {
        s->id = 0;
        return false;
    }
    rp_h2_body_init(&s->qb, req.body == RP_HTTP1_BODY_CHUNKED,
                    req.body == RP_HTTP1_BODY_LENGTH ? req.content_length : 0);
    s->qstate = body ? Q_BODY : Q_DONE;
    bytes_free(&s->qhead);
    return true;
}

/* Request bytes proxy.c writes, taken while there is room (rp_h2_take_fn). */
static ssize_t stream_take(void *owner, const char *p, size_t n)
{
    struct h2up_stream *s = owner;
    if (s->qstate == Q_HEAD) {
        size_t k = n;
        if (s->qhead.len + k > H2UP_HEAD_MAX)
            k = H2UP_HEAD_MAX - s->qhead.len;
        size_t before = s->qhead.len, head_len;
        if (!k || !bytes_add(&s->qhead, p, k) || !stream_submit(s, &head_len))
            return -1;
        return (ssize_t)(head_len ? head_len - before : k);
    }
    if (s->qstate == Q_DONE)
        return (ssize_t)n;
    ssize_t k = rp_h2_body_take(&s->qb, p, n, &s->qbody, H2UP_BODY_MAX, &s->qtrailers);
    if (k > 0 && s->qb.done) {
        s->qstate = Q_DONE;
        s->qbody_end = true;
    }
    return k;
}

static ssize_t stream_writev(struct rp_transport *t, const struct iovec *iov, int n)
{
    struct h2up_stream *s = up_of(t)->h2s;
    if (!s || s->error || s->closed) {
        errno = s && s->error ? s->error : EPIPE;
        return -1;
    }
    ssize_t taken = rp_h2_writev(iov, n, stream_take, s);
    if (taken < 0 && errno == EPROTO)
        return -1;
    if (s->deferred && s->id > 0 && (s->qbody.len || s->qbody_end)) {
        s->deferred = false;
        nghttp2_session_resume_data(s->h->ng, s->id);
    }
    h2up_kick(s->h);
    return taken;
}

static int stream_shutdown(struct rp_transport *t)
{
    (void)t;
    return 0; /* the request ends with its body's framing */
}

static void stream_close(struct rp_transport *t)
{
    struct rp_upstream *up = up_of(t);
    struct h2up_stream *s = up->h2s;
    if (!s)
        return;
    up->h2s = NULL;
    s->up = NULL;
    s->want = 0;
    struct rp_h2up *h = s->h;
    if (s->closed || !h->ng || s->id == 0) {
        stream_free(s);
        return;
    }
    /* Still open: the exchange ended early (the client left, a timeout). */
    if (!s->resp_done || !s->qbody_end)
        nghttp2_submit_rst_stream(h->ng, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_CANCEL);
    if (s->unconsumed) {
        nghttp2_session_consume(h->ng, s->id, s->unconsumed);
        s->unconsumed = 0;
    }
    h2up_kick(h);
}

static void stream_want(struct rp_transport *t, int events)
{
    struct rp_upstream *up = up_of(t);
    struct h2up_stream *s = up->h2s;
    if (!s)
        return;
    s->want = events;
    int ready = 0;
    bool failed = s->error || s->h->error;
    if ((events & EV_READ) && (s->resp.len || s->resp_done || failed))
        ready |= EV_READ;
    if ((events & EV_WRITE) &&
        (failed || (up->connecting ? !s->h->connecting : s->qbody.len < H2UP_BODY_MAX)))
        ready |= EV_WRITE;
    if (ready)
        ev_feed_event(s->h->w->loop, &up->io, ready);
}

static int stream_connect_result(struct rp_transport *t)
{
    struct h2up_stream *s = up_of(t)->h2s;
    if (!s)
        return ECONNRESET;
    return s->error ? s->error : s->h->error;
}

static const struct rp_transport_ops h2up_ops = {
    .name = "h2 server stream",
    .read = stream_read,
    .writev = stream_writev,
    .shutdown = stream_shutdown,
    .close = stream_close,
    .want = stream_want,
    .connect_result = stream_connect_result,
};

/* ---- the server's frames ------------------------------------------------------------------- */

static struct h2up_stream *stream_of(nghttp2_session *ng, int32_t id)
{
    return id ? nghttp2_session_get_stream_user_data(ng, id) : NULL;
}

static int on_header(nghttp2_session *ng, const nghttp2_frame *frame, const uint8_t *name,
                     size_t name_len, const uint8_t *value, size_t value_len, uint8_t flags,
                     void *user)
{
    (void)flags;
    (void)user;
    struct h2up_stream *s = stream_of(ng, frame->hd.stream_id);
    if (!s || frame->hd.type != NGHTTP2_HEADERS)
        return 0;
    bool ok = true;
    if (s->resp_final) {
        /* Trailing HEADERS: the chunked body's trailer section. */
        if (s->resp_chunked && s->rtrailers.len < H2UP_HEAD_MAX)
            ok = rp_h2_line_add(&s->rtrailers, name, name_len, value, value_len);
        return ok ? 0 : NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    if (s->resp.len > H2UP_HEAD_MAX)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    if (name_len == 7 && memcmp(name, ":status", 7) == 0) {
        /* nghttp2 checked it: three digits, first (pseudo) field. */
        s->status = (uint16_t)((value[0] - '0') * 100 + (value[1] - '0') * 10 + (value[2] - '0'));
        s->has_length = false;
        ok = bytes_str(&s->resp, "HTTP/1.1 ") && bytes_add(&s->resp, value, 3) &&
             bytes_add(&s->resp, " ", 1) && bytes_str(&s->resp, rp_reason(s->status)) &&
             bytes_add(&s->resp, "\r\n", 2);
    } else if (name[0] != ':') {
        if (name_len == 14 && memcmp(name, "content-length", 14) == 0)
            s->has_length = true;
        ok = rp_h2_line_add(&s->resp, name, name_len, value, value_len);
    }
    return ok ? 0 : NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
}

/* The response ends (END_STREAM): the chunked body's last chunk and
 * trailer section. */
static void stream_response_end(struct h2up_stream *s)
{
    if (s->resp_done)
        return;
    if (s->resp_chunked && !(bytes_add(&s->resp, "0\r\n", 3) &&
                             bytes_add(&s->resp, bytes_at(&s->rtrailers), s->rtrailers.len) &&
                             bytes_add(&s->resp, "\r\n", 2)))
        s->error = ENOMEM;
    s->resp_done = true;
    stream_feed(s, EV_READ);
}

static int on_frame_recv(nghttp2_session *ng, const nghttp2_frame *frame, void *user)
{
    struct rp_h2up *h = user;
    if (frame->hd.type == NGHTTP2_GOAWAY) {
        h2up_detach(h); /* new requests go to a new connection */
        return 0;
    }
    struct h2up_stream *s = stream_of(ng, frame->hd.stream_id);
    if (!s)
        return 0;
    bool end = frame->hd.flags & NGHTTP2_FLAG_END_STREAM;
    if (frame->hd.type == NGHTTP2_HEADERS && !s->resp_final) {
        bool ok = true;
        if (s->status < 200) {
            ok = bytes_add(&s->resp, "\r\n", 2); /* an interim response, relayed as one */
        } else {
            s->resp_final = true;
            if (!s->has_length) {
                s->resp_chunked = !end;
                ok = bytes_str(&s->resp, end ? "Content-Length: 0\r\n"
                                             : "Transfer-Encoding: chunked\r\n");
            }
            ok = ok && bytes_add(&s->resp, "\r\n", 2);
        }
        if (!ok)
            return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
        stream_feed(s, EV_READ);
    }
    if (end && (frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA))
        stream_response_end(s);
    return 0;
}

static int on_data_chunk(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *data,
                         size_t len, void *user)
{
    (void)flags;
    (void)user;
    struct h2up_stream *s = stream_of(ng, id);
    if (!s || !s->up) {
        nghttp2_session_consume(ng, id, len);
        return 0;
    }
    bool ok;
    if (s->resp_chunked) {
        char line[24];
        size_t n = hex_put(line, len);
        line[n++] = '\r';
        line[n++] = '\n';
        ok = bytes_add(&s->resp, line, n) && bytes_add(&s->resp, data, len) &&
             bytes_add(&s->resp, "\r\n", 2);
    } else {
        ok = bytes_add(&s->resp, data, len);
    }
    if (!ok)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    s->unconsumed += len;
    stream_feed(s, EV_READ);
    return 0;
}

static int on_stream_close(nghttp2_session *ng, int32_t id, uint32_t error_code, void *user)
{
    (void)user;
    struct h2up_stream *s = stream_of(ng, id);
    if (!s)
        return 0;
    nghttp2_session_set_stream_user_data(ng, id, NULL);
    s->closed = true;
    if (!s->resp_done && !s->error)
        /* Refused (GOAWAY, or too many streams): never processed, so it may
         * go elsewhere as a failed connect would. */
        s->error = error_code == NGHTTP2_REFUSED_STREAM ? ECONNREFUSED : ECONNRESET;
    stream_feed(s, EV_READ | EV_WRITE);
    if (!s->up)
        stream_free(s);
    return 0;
}

/* ---- the connection ------------------------------------------------------------------------ */

static void h2up_send(struct rp_h2up *h)
{
    uint64_t sent = 0;
    int err = rp_h2_send(h->ng, &h->tr, &h->out, H2UP_OUT_MAX, &sent);
    if (err) {
        h2up_close(h, err);
        return;
    }
    if (!nghttp2_session_want_read(h->ng) && !nghttp2_session_want_write(h->ng) && !h->out.len) {
        h2up_close(h, ECONNRESET); /* GOAWAY both ways, nothing open */
        return;
    }
    /* (TLS may hold bytes the socket no longer signals: rp_transport_want) */
    rp_transport_want(h->w->loop, &h->io, &h->tr, EV_READ | (h->out.len ? EV_WRITE : 0));
}

/* TLS's handshake with an `h2 tls` server: true once done and the server
 * agreed to HTTP/2 by ALPN. */
static bool h2up_handshake(struct rp_h2up *h)
{
    int want;
    const char *why = "";
    int r = rp_tls_handshake(&h->tr, &want, &why);
    if (r == 0) {
        rp_io_want(h->w->loop, &h->io, want);
        return false;
    }
    const char *proto = NULL;
    uint32_t len = 0;
    if (r > 0 && !(rp_tls_value(h->tr.tls, "alpn", 4, &proto, &len) && len == 2 &&
                   memcmp(proto, "h2", 2) == 0)) {
        r = -1;
        why = "the server did not agree to HTTP/2 (ALPN h2)";
    }
    if (r < 0) {
        const struct rp_backend_def *be = &h->w->prog->backends[h->backend];
        rp_warn("backend %s, server %s: TLS handshake failed: %s", be->name,
                be->servers[h->server].name, why);
        h2up_close(h, EPROTO);
        return false;
    }
    return true;
}

static void h2up_io(struct ev_loop *loop, ev_io *io, int revents)
{
    (void)loop;
    struct rp_h2up *h = (struct rp_h2up *)io;
    if (h->connecting) {
        if (h->tcp_connecting) {
            if (!(revents & EV_WRITE))
                return;
            int err = rp_sock_connect_result(h->tr.fd);
            if (err) {
                h2up_close(h, err);
                return;
            }
            h->tcp_connecting = false;
        }
        if (h->tr.tls && !h2up_handshake(h))
            return;
        h->connecting = false;
        for (struct h2up_stream *s = h->streams; s; s = s->next)
            stream_feed(s, EV_WRITE); /* connected: their requests go */
    }
    if (revents & EV_READ) {
        for (int i = 0; i < 4; i++) {
            char *rbuf = rp_h2_read_buffer();
            ssize_t n = rp_transport_read(&h->tr, rbuf, RP_H2_READ_SIZE);
            if (n < 0 && errno == EAGAIN)
                break;
            if (n <= 0) {
                h2up_close(h, n == 0 ? ECONNRESET : errno);
                return;
            }
            ssize_t r = nghttp2_session_mem_recv(h->ng, (const uint8_t *)rbuf, (size_t)n);
            if (!h->ng)
                return;
            if (r < 0) {
                h2up_send(h); /* nghttp2's GOAWAY, if it can go */
                if (h->ng)
                    h2up_close(h, EPROTO);
                return;
            }
            if (n < RP_H2_READ_SIZE)
                break;
        }
    }
    h2up_send(h);
}

static void h2up_flush(struct ev_loop *loop, ev_prepare *p, int revents)
{
    (void)revents;
    struct rp_h2up *h = (struct rp_h2up *)((char *)p - offsetof(struct rp_h2up, flush));
    ev_prepare_stop(loop, p);
    if (!h->connecting && h->ng)
        h2up_send(h);
}

static struct rp_h2up *h2up_open(struct rp_worker *w, struct rp_pool *pool,
                                 const struct rp_server_addr *addr, uint32_t backend,
                                 uint32_t server)
{
    struct rp_h2up *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    bool connecting;
    int fd = rp_sock_connect(&addr->sa, addr->len, &connecting);
    if (fd < 0) {
        free(h);
        return NULL;
    }
    nghttp2_session_callbacks *cb = NULL;
    nghttp2_option *opt = NULL;
    if (nghttp2_session_callbacks_new(&cb) != 0 || nghttp2_option_new(&opt) != 0) {
        nghttp2_session_callbacks_del(cb);
        close(fd);
        free(h);
        errno = ENOMEM;
        return NULL;
    }
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
    nghttp2_option_set_no_auto_window_update(opt, 1);
    int rv = nghttp2_session_client_new2(&h->ng, cb, h, opt);
    nghttp2_session_callbacks_del(cb);
    nghttp2_option_del(opt);
    if (rv != 0) {
        close(fd);
        free(h);
        errno = ENOMEM;
        return NULL;
    }
    nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
                                   {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 65535}};
    nghttp2_submit_settings(h->ng, NGHTTP2_FLAG_NONE, iv, 2);
    nghttp2_session_set_local_window_size(h->ng, NGHTTP2_FLAG_NONE, 0, 1 << 20);
    rp_transport_init(&h->tr, fd);
    h->w = w;
    h->pool = pool;
    h->backend = backend;
    h->server = server;
    h->connecting = h->tcp_connecting = connecting;
    if (w->prog->backends[backend].servers[server].tls) {
        /* The handshake is part of connecting: it starts when the socket
         * is writable. */
        if (rp_tls_client(&h->tr, backend, server) < 0) {
            nghttp2_session_del(h->ng);
            rp_transport_close(&h->tr);
            free(h);
            errno = ENOMEM;
            return NULL;
        }
        h->connecting = true;
        connecting = true;
    }
    h->idle_since = ev_now(w->loop);
    ev_io_init(&h->io, h2up_io, fd, connecting ? EV_WRITE : EV_READ | EV_WRITE);
    ev_io_start(w->loop, &h->io);
    ev_prepare_init(&h->flush, h2up_flush);
    pool->h2 = h;
    return h;
}

int rp_h2up_attach(struct rp_upstream *up, struct rp_pool *pool, const struct rp_server_addr *addr)
{
    struct rp_h2up *h = pool->h2;
    if (!h && !(h = h2up_open(up->w, pool, addr, up->backend, up->server)))
        return -1;
    struct h2up_stream *s = calloc(1, sizeof *s);
    if (!s) {
        errno = ENOMEM;
        return -1;
    }
    s->h = h;
    s->up = up;
    s->next = h->streams;
    if (h->streams)
        h->streams->prev = s;
    h->streams = s;
    h->n_streams++;
    up->h2s = s;
    up->tr.fd = -1;
    up->tr.ops = &h2up_ops;
    up->tr.tls = NULL;
    /* Connecting until the HTTP/2 connection is (at once when it is). */
    up->connecting = up->tcp_connecting = true;
    return 0;
}

void rp_h2up_sweep(struct rp_pool *pool, double oldest, bool all)
{
    struct rp_h2up *h = pool->h2;
    /* Never under way streams: a graceful stop lets them finish. */
    if (!h || h->connecting || h->n_streams)
        return;
    if (all || h->idle_since < oldest) {
        if (h->ng) {
            /* Say so first, behind whatever is queued, as far as the
             * socket takes it now. */
            uint64_t sent = 0;
            nghttp2_submit_goaway(h->ng, NGHTTP2_FLAG_NONE, 0, NGHTTP2_NO_ERROR, NULL, 0);
            (void)rp_h2_send(h->ng, &h->tr, &h->out, H2UP_OUT_MAX, &sent);
        }
        h2up_close(h, ECONNRESET);
    }
}

void rp_h2up_close(struct rp_pool *pool)
{
    if (pool->h2)
        h2up_close(pool->h2, ECONNRESET);
}
