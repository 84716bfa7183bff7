/* conn.c: client connections. Accepts them, reads request heads, routes,
 * answers locally or hands the request to proxy.c, and handles keep-alive,
 * pipelining, timeouts and closing. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "accesslog.h"
#include "auth.h"
#include "cache.h"
#include "conn.h"
#include "forward.h"
#include "h2.h" /* the preface only: HTTP/2 is reached through c->proto */
#include "hash.h"
#include "jwt.h"
#include "log.h"
#include "proxyproto.h"
#include "rp/match.h"
#include "reason.h"
#include "limit.h"
#include "sock.h"
#include "status.h"
#include "subreq.h"
#include "steps.h"
#include "tls.h"
#include "worker.h"

static void conn_io_cb(struct ev_loop *loop, ev_io *io, int revents);
static void conn_timer_cb(struct ev_loop *loop, ev_timer *t, int revents);
static void conn_process(struct rp_conn *c);
static void exchange_end(struct rp_conn *c, const char *how);
static void log_exchange(struct rp_conn *c, const struct rp_exchange_record *rec);
static void conn_begin(struct rp_conn *c);
static void conn_start(struct rp_conn *c);
static void conn_preface(struct rp_conn *c);
static void conn_handshake(struct rp_conn *c);
static void trusted_request_id(struct rp_exchange *x);

void rp_conn_want(struct rp_conn *c, int events)
{
    /* On every request's path, mostly changing nothing: that is seen
     * before the loop is looked up. */
    ev_io *io = &c->io;
    if (!c->tr.ops && (ev_is_active(io) ? (io->events & (EV_READ | EV_WRITE)) : 0) == events)
        return;
    rp_transport_want(c->w->loop, io, &c->tr, events);
}

void rp_conn_set_timer(struct rp_conn *c, double seconds)
{
    c->timer.repeat = seconds;
    ev_timer_again(c->w->loop, &c->timer);
}

#define RP_MAX_FREE_EXCHANGES 1024

static struct rp_exchange *exchange_get(struct rp_worker *w)
{
    struct rp_exchange *x = w->free_x;
    if (x) {
        w->free_x = x->next_free;
        w->n_free_x--;
    } else if (!(x = malloc(sizeof *x))) {
        return NULL;
    }
    x->path = NULL;
    x->path_rewritten = false;
    x->px.steps.cache = NULL;
    x->px.cache_wait_until = 0;
    x->logged = false;
    x->owned = NULL;
    return x;
}

static void exchange_put(struct rp_worker *w, struct rp_exchange *x)
{
    if (!x)
        return;
    rp_steps_release(&x->px.steps);
    rp_buf_put(&w->bufs, x->path);
    x->path = NULL;
    free(x->owned);
    x->owned = NULL;
    if (!RP_POOLS_KEEP || w->n_free_x >= RP_MAX_FREE_EXCHANGES) {
        free(x);
        return;
    }
    x->next_free = w->free_x;
    w->free_x = x;
    w->n_free_x++;
}

void rp_exchange_pool_clear(struct rp_worker *w)
{
    while (w->free_conns) {
        struct rp_conn *c = w->free_conns;
        w->free_conns = c->next;
        free(c);
    }
    w->n_free_conns = 0;
    while (w->free_x) {
        struct rp_exchange *x = w->free_x;
        w->free_x = x->next_free;
        free(x);
    }
    w->n_free_x = 0;
}

#define RP_MAX_FREE_CONNS 4096

/* A new connection on listener, set up; NULL (fd closed) when out of
 * memory. */
static struct rp_conn *conn_alloc(struct rp_worker *w, int fd, const struct sockaddr_storage *peer,
                                  unsigned listener)
{
    /* Connections come from the worker's free list: a new connection per
     * request costs no allocation once the pool is warm. */
    struct rp_conn *c = w->free_conns;
    if (c) {
        w->free_conns = c->next;
        w->n_free_conns--;
        memset(c, 0, sizeof *c);
    } else if (!(c = calloc(1, sizeof *c))) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    c->listener = listener;
    rp_transport_init(&c->tr, fd);
    c->w = w;
    c->peer = *peer;
    c->state = RP_CONN_IDLE;
    c->next = w->conns;
    if (w->conns)
        w->conns->prev = c;
    w->conns = c;
    w->n_conns++;
    ev_io_init(&c->io, conn_io_cb, fd, EV_READ);
    ev_init(&c->timer, conn_timer_cb);
    rp_conn_set_timer(c, w->cfg->client_header_timeout);
    return c;
}

/* A new connection on listener, counted and reading. */
static struct rp_conn *conn_new(struct rp_worker *w, int fd, const struct sockaddr_storage *peer,
                                unsigned listener)
{
    struct rp_conn *c = conn_alloc(w, fd, peer, listener);
    if (!c)
        return NULL;
    atomic_fetch_add_explicit(&w->proc->n_client_conns, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&w->proc->listener_conns[listener], 1, memory_order_relaxed);
    ev_io_start(w->loop, &c->io);
    return c;
}

struct rp_conn *rp_conn_open_stream(struct rp_conn *parent, const struct rp_transport_ops *ops,
                                    struct rp_h2_stream *s)
{
    struct rp_worker *w = parent->w;
    struct rp_conn *c = conn_alloc(w, -1, &parent->peer, parent->listener);
    if (!c)
        return NULL;
    c->tr.ops = ops;
    c->tr.tls = parent->tr.tls; /* its facts (tls.* values, logs); owned by the parent */
    c->h2s = s;
    c->h2_stream = true;
    c->https = parent->https;
    if (!parent->local_known) {
        socklen_t len = sizeof parent->local;
        parent->local_known = getsockname(parent->tr.fd, (struct sockaddr *)&parent->local,
                                          &len) == 0;
    }
    c->local = parent->local;
    c->local_known = parent->local_known;
    /* Its request is read on the next loop turn: never inside nghttp2's
     * callbacks, which called this. */
    ev_feed_event(w->loop, &c->io, EV_READ);
    return c;
}

void rp_conn_open_internal(struct rp_worker *w, int fd, const struct sockaddr_storage *peer,
                           unsigned listener, bool https)
{
    struct rp_conn *c = conn_new(w, fd, peer, listener);
    if (!c)
        return;
    c->https = https;
    conn_begin(c); /* no PROXY header, no TLS: the proxy speaks to itself */
}

void rp_conn_open_subrequest(struct rp_worker *w, int fd, const struct sockaddr_storage *peer,
                             unsigned listener, bool https, uint32_t backend)
{
    struct rp_conn *c = conn_new(w, fd, peer, listener);
    if (!c)
        return;
    c->https = https;
    c->subrequest_backend = backend + 1;
    conn_begin(c);
}

void rp_conn_open(struct rp_worker *w, int fd, const struct sockaddr_storage *peer,
                  unsigned listener)
{
    struct rp_conn *c = conn_new(w, fd, peer, listener);
    if (!c)
        return;
    const struct rp_program *prog = w->prog;
    if (listener < prog->n_listeners && prog->listeners[listener].proxy_protocol) {
        /* Only a trusted peer may say who the client is: anyone else on
         * such a listener is refused before a byte is read. */
        const struct rp_forwarding *fw = prog->forwarding;
        uint8_t ip[16];
        rp_ip_from_sockaddr(peer, ip);
        if (!fw || !rp_ip_in(ip, fw->trusted, fw->n_trusted)) {
            if (rp_log_limit_pass(&w->accept_log, ev_now(w->loop)))
                rp_warn("listener %s: a connection from an untrusted peer where a PROXY "
                        "header is expected: closed", prog->listeners[listener].where);
            rp_conn_close(c);
            return;
        }
        /* The header comes first, before TLS or a layer 4 stream. */
        c->state = RP_CONN_PREFACE;
        conn_preface(c);
        return;
    }
    conn_start(c);
}

/* Reads the PROXY header a trusted proxy in front sends first: from here on
 * the client it names is this connection's peer. What follows it stays in
 * `in` (or goes to TLS, whose first bytes it is). */
static void conn_preface(struct rp_conn *c)
{
    struct rp_worker *w = c->w;
    ssize_t n = rp_conn_read(c);
    if (n == -2 || n == 0 || (n == -1 && rp_buf_room(c->in) == 0)) {
        rp_conn_close(c);
        return;
    }
    if (!c->in || rp_buf_len(c->in) == 0)
        return;
    struct sockaddr_storage src;
    int r = rp_proxy_header_parse(c->in->data + c->in->start, rp_buf_len(c->in), &src);
    if (r == 0)
        return; /* more to come */
    if (r < 0) {
        if (rp_log_limit_pass(&w->accept_log, ev_now(w->loop)))
            rp_warn("listener %s: no valid PROXY header: connection closed",
                    w->prog->listeners[c->listener].where);
        rp_conn_close(c);
        return;
    }
    c->in->start += (uint32_t)r;
    if (src.ss_family != AF_UNSPEC) {
        c->peer = src;
        c->peer_text_len = 0;
        c->fwd_cache_len = 0;
    }
    c->state = RP_CONN_IDLE;
    conn_start(c);
}

/* `limits { connections_per_client N }`: counts the connection against its
 * client's address (after a PROXY header, the client it names); false
 * when that address has N open already. */
static bool conn_count_client(struct rp_conn *c)
{
    struct rp_proc *proc = c->w->proc;
    uint8_t ip[16];
    rp_ip_from_sockaddr(&c->peer, ip);
    uint64_t key = rp_hash16(ip, 0);
    if (!rp_key_counts_acquire(proc->client_conns, key, proc->prog->settings->connections_per_client)) {
        if (rp_log_limit_pass(&c->w->accept_log, ev_now(c->w->loop))) {
            uint32_t n;
            const char *who = rp_conn_peer_text(c, &n);
            rp_warn("%.*s has %u connections open: another was refused "
                    "(limits { connections_per_client })",
                    (int)n, who, proc->prog->settings->connections_per_client);
        }
        return false;
    }
    c->client_key = key;
    c->client_counted = true;
    return true;
}

/* TLS's handshake on a TLS listener, then the protocol. */
static void conn_start(struct rp_conn *c)
{
    const struct rp_program *prog = c->w->prog;
    if (c->w->proc->client_conns && !conn_count_client(c)) {
        rp_conn_close(c);
        return;
    }
    if (c->listener < prog->n_listeners && prog->listeners[c->listener].tls) {
        /* Bytes read already (after a PROXY header) are TLS's first. */
        uint32_t pre = c->in ? rp_buf_len(c->in) : 0;
        if (rp_tls_server(&c->tr, c->listener, pre ? c->in->data + c->in->start : NULL, pre) < 0) {
            rp_conn_close(c);
            return;
        }
        c->https = true;
        rp_buf_put(&c->w->bufs, c->in);
        c->in = NULL;
        /* The handshake runs under the header timeout: a client that
         * stalls in it is closed like one that stalls in its head. */
        c->state = RP_CONN_HANDSHAKE;
        conn_handshake(c);
        return;
    }
    conn_begin(c);
}

/* A connection is ready for its protocol (after TLS's handshake, if any). */
static void conn_begin(struct rp_conn *c)
{
    struct rp_worker *w = c->w;
    const struct rp_program *prog = w->prog;
    if (c->listener < prog->n_listeners && prog->listeners[c->listener].tcp) {
        /* Layer 4: the connection is one exchange, bytes to a server. */
        if (!(c->x = exchange_get(w))) {
            rp_conn_close(c);
            return;
        }
        c->x->rec = (struct rp_exchange_record){
            .open = true, .t_start = ev_now(w->loop), .route = RP_NO_ROUTE,
            .backend = (int32_t)prog->listeners[c->listener].tcp_backend, .server = -1};
        c->x->decision.route = RP_NO_ROUTE;
        c->x->id_len = 0;
        c->x->peer_trusted = false;
        c->x->client_text = NULL;
        rp_ip_from_sockaddr(&c->peer, c->x->client_ip);
        w->start_tcp(c, prog->listeners[c->listener].tcp_backend);
        return;
    }
    if (c->tr.tls) {
        const char *proto;
        uint32_t len;
        if (rp_tls_value(c->tr.tls, "alpn", 4, &proto, &len) && len == 2 &&
            memcmp(proto, "h2", 2) == 0) {
            c->w->start_h2(c, NULL, 0);
            return;
        }
    }
    /* Bytes after a PROXY header are the first request's. */
    if (c->in && rp_buf_len(c->in)) {
        conn_process(c);
        return;
    }
    /* With TCP_DEFER_ACCEPT the request is usually there already: read it
     * now rather than after another trip through epoll. */
    conn_io_cb(w->loop, &c->io, EV_READ);
}

static void conn_handshake(struct rp_conn *c)
{
    int want;
    const char *why = "";
    int r = rp_tls_handshake(&c->tr, &want, &why);
    if (r != 0)
        rp_metrics_bump(r > 0 ? &c->w->metrics.tls_handshakes : &c->w->metrics.tls_failures, 1);
    if (r < 0) {
        if (rp_log_max >= RP_LOG_DEBUG) {
            uint32_t n;
            const char *peer = rp_conn_peer_text(c, &n);
            rp_debug("tls handshake with %.*s failed: %s", (int)n, peer, why);
        }
        rp_conn_close(c);
        return;
    }
    if (r == 0) {
        rp_conn_want(c, want);
        return;
    }
    c->state = RP_CONN_IDLE;
    rp_conn_want(c, EV_READ);
    conn_begin(c);
}

void rp_conn_close(struct rp_conn *c)
{
    struct rp_worker *w = c->w;
    if (c->state == RP_CONN_CLOSED)
        return;
    if (c->state == RP_CONN_PROXYING)
        c->handler->abort(c);
    if (c->proto)
        c->proto->free(c);
    if (c->x && c->x->subreq) {
        rp_subreq_cancel(c->x->subreq);
        c->x->subreq = NULL;
    }
    exchange_end(c, c->state == RP_CONN_HEAD ? "closed during the request head"
                    : c->state == RP_CONN_PROXYING ? "closed while proxying"
                                                   : "closed while answering");
    ev_io_stop(w->loop, &c->io);
    ev_timer_stop(w->loop, &c->timer);
    rp_transport_close(&c->tr);
    if (!c->h2_stream) {
        atomic_fetch_sub_explicit(&w->proc->n_client_conns, 1, memory_order_relaxed);
        atomic_fetch_sub_explicit(&w->proc->listener_conns[c->listener], 1, memory_order_relaxed);
    }
    if (c->client_counted)
        rp_key_counts_release(w->proc->client_conns, c->client_key);
    rp_buf_put(&w->bufs, c->in);
    rp_buf_put(&w->bufs, c->out);
    c->in = c->out = NULL;
    exchange_put(w, c->x);
    c->x = NULL;
    c->state = RP_CONN_CLOSED;
    /* Unlinked from the live list now, freed once the current callbacks are
     * over (rp_conn_free_closed), so code up the stack may still look at
     * c->state after calling something that closed it. */
    if (c->prev)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = NULL;
    c->next = w->closed;
    w->closed = c;
}

void rp_conn_free_closed(struct rp_worker *w)
{
    if (!w->closed)
        return;
    while (w->closed) {
        struct rp_conn *c = w->closed;
        w->closed = c->next;
        w->n_conns--;
        if (RP_POOLS_KEEP && w->n_free_conns < RP_MAX_FREE_CONNS && !w->stopping) {
            c->next = w->free_conns;
            w->free_conns = c;
            w->n_free_conns++;
        } else {
            free(c);
        }
    }
}

bool rp_conn_close_if_idle(struct rp_conn *c)
{
    if (c->state == RP_CONN_H2) {
        c->proto->drain(c); /* GOAWAY: it closes once its streams are done */
        return false;
    }
    if (c->state != RP_CONN_IDLE && c->state != RP_CONN_HANDSHAKE && c->state != RP_CONN_PREFACE)
        return false;
    rp_conn_close(c);
    return true;
}

bool rp_conn_close_if_kept_alive(struct rp_conn *c)
{
    if (c->state == RP_CONN_H2 && c->proto->idle(c) && c->exchanges) {
        rp_conn_close(c);
        return true;
    }
    if (c->state != RP_CONN_IDLE || c->exchanges == 0 || (c->in && rp_buf_len(c->in) > 0))
        return false;
    rp_conn_close(c);
    return true;
}

ssize_t rp_conn_read(struct rp_conn *c)
{
    struct rp_worker *w = c->w;
    if (!c->in && !(c->in = rp_buf_get(&w->bufs)))
        return -2;
    if (rp_buf_room(c->in) == 0)
        rp_buf_compact(c->in);
    if (rp_buf_room(c->in) == 0)
        return -1;
    ssize_t n = rp_transport_read(&c->tr, c->in->data + c->in->end, rp_buf_room(c->in));
    if (n < 0)
        return errno == EAGAIN ? -1 : -2;
    if (n == 0) {
        c->client_eof = true;
        return 0;
    }
    c->in->end += (uint32_t)n;
    c->bytes_in += (uint64_t)n;
    return n;
}

/* Writes a local response's head to c->out. A fresh buffer always has room
 * for it (a few hundred bytes). Returns -1 (the connection closed) when no
 * buffer can be had. */
static const char *request_id_of(void *owner, uint32_t *len)
{
    struct rp_conn *c = owner;
    if (!c->x) {
        *len = 0;
        return "";
    }
    return rp_conn_request_id(c, len);
}

static int respond_head(struct rp_conn *c, int status, const char *content_type,
                        size_t body_len, const char *extra, size_t extra_len)
{
    struct rp_worker *w = c->w;
    if (!c->out && !(c->out = rp_buf_get(&w->bufs))) {
        rp_conn_close(c);
        return -1;
    }
    if (w->stopping)
        c->keep_alive = false;
    struct rp_exchange_record *rec = rp_conn_record(c);
    if (rec)
        rec->status = (uint16_t)status;
    struct rp_buf *b = c->out;
    /* The policy's response header actions apply to the proxy's own answers
     * too: the route's, or the top level's without one. */
    const struct rp_program *prog = w->prog;
    uint32_t route = c->x ? c->x->decision.route : RP_NO_ROUTE;
    bool has_steps = route < prog->n_routes && prog->routes[route].steps;
    struct rp_head_edit edit;
    rp_head_edit_init(&edit);
    if (has_steps || prog->headers) {
        struct rp_value_ctx vc = {.request_id = request_id_of, .owner = c};
        rp_steps_local_answer(prog, route, &vc, &edit);
    }
    const char *reason = rp_reason(status);
    RP_BUF_ADD_LIT(b, "HTTP/1.1 ");
    rp_buf_add_u64(b, (uint64_t)status);
    rp_buf_add(b, " ", 1);
    rp_buf_add(b, reason, strlen(reason));
    if (!rp_head_edit_drops_name(&edit, "content-type", 12)) {
        RP_BUF_ADD_LIT(b, "\r\nContent-Type: ");
        rp_buf_add(b, content_type, strlen(content_type));
    }
    RP_BUF_ADD_LIT(b, "\r\nContent-Length: ");
    rp_buf_add_u64(b, body_len);
    RP_BUF_ADD_LIT(b, "\r\n");
    rp_date_add(&w->date, ev_now(w->loop), b);
    if (!c->keep_alive)
        RP_BUF_ADD_LIT(b, "Connection: close\r\n");
    else if (c->client_http10)
        RP_BUF_ADD_LIT(b, "Connection: keep-alive\r\n");
    if (extra && extra_len + 2 < rp_buf_room(b))
        rp_buf_add(b, extra, extra_len);
    if (edit.extra_len && edit.extra_len + 2 < rp_buf_room(b))
        rp_buf_add(b, edit.extra, edit.extra_len);
    RP_BUF_ADD_LIT(b, "\r\n");
    return 0;
}

static void respond_start(struct rp_conn *c, const char *body, size_t body_len)
{
    c->lbody = body;
    c->lbody_left = c->head_request ? 0 : (uint32_t)body_len;
    c->state = RP_CONN_RESPONDING;
    rp_conn_set_timer(c, c->w->cfg->backend_timeout);
    rp_conn_client_write(c);
}

void rp_conn_respond(struct rp_conn *c, int status, const char *body, size_t body_len,
                     const char *extra, size_t extra_len)
{
    if (respond_head(c, status, "text/plain", body_len, extra, extra_len) == 0)
        respond_start(c, body, body_len);
}

void rp_conn_respond_written(struct rp_conn *c, const char *body, size_t body_len)
{
    c->lbody = body;
    c->lbody_left = (uint32_t)body_len;
    c->state = RP_CONN_RESPONDING;
    rp_conn_set_timer(c, c->w->cfg->backend_timeout);
    rp_conn_client_write(c);
}

void rp_conn_respond_typed(struct rp_conn *c, int status, const char *content_type,
                           const char *body, size_t body_len)
{
    rp_conn_respond_typed_with(c, status, content_type, body, body_len, NULL, 0);
}

void rp_conn_respond_typed_with(struct rp_conn *c, int status, const char *content_type,
                                const char *body, size_t body_len, const char *extra,
                                size_t extra_len)
{
    if (respond_head(c, status, content_type ? content_type : "text/plain", body_len, extra,
                     extra_len) == 0)
        respond_start(c, body, body_len);
}

/* An error answer: the policy's page for the status (`error ... file`),
 * else `body` as text/plain. */
static void respond_error_or(struct rp_conn *c, int status, const char *body, size_t body_len,
                             const char *extra, size_t extra_len)
{
    const struct rp_program *prog = c->w->prog;
    for (uint32_t i = 0; i < prog->n_error_pages; i++) {
        const struct rp_error_page *ep = &prog->error_pages[i];
        if (ep->status == status) {
            if (respond_head(c, status, ep->content_type, ep->body_len, extra, extra_len) == 0)
                respond_start(c, ep->body, ep->body_len);
            return;
        }
    }
    rp_conn_respond(c, status, body, body_len, extra, extra_len);
}

void rp_conn_respond_error_with(struct rp_conn *c, int status, const char *extra, size_t extra_len)
{
    const char *reason = rp_reason(status);
    respond_error_or(c, status, reason, strlen(reason), extra, extra_len);
}

void rp_conn_respond_error(struct rp_conn *c, int status)
{
    rp_conn_respond_error_with(c, status, NULL, 0);
}

ssize_t rp_conn_send(struct rp_conn *c, const char *body, size_t body_len, bool end)
{
    struct iovec iov[2];
    int n = 0;
    uint32_t head_left = c->out ? rp_buf_len(c->out) : 0;
    if (head_left)
        iov[n++] = (struct iovec){c->out->data + c->out->start, head_left};
    if (body_len)
        iov[n++] = (struct iovec){(void *)body, body_len};
    if (n == 0)
        return 0;
    ssize_t wr = end ? rp_transport_writev_end(&c->tr, iov, n) : rp_transport_writev(&c->tr, iov, n);
    if (wr < 0) {
        if (errno != EAGAIN) {
            rp_conn_close(c);
            return -1;
        }
        wr = 0;
    }
    c->bytes_out += (uint64_t)wr;
    size_t k = (size_t)wr < head_left ? (size_t)wr : head_left;
    if (k)
        c->out->start += (uint32_t)k;
    if (c->out && rp_buf_len(c->out) == 0)
        c->out->start = c->out->end = 0;
    return wr - (ssize_t)k;
}

void rp_conn_client_write(struct rp_conn *c)
{
    if (c->state == RP_CONN_PROXYING) {
        c->handler->writable(c);
        return;
    }
    /* A local answer's bytes are all here: to a client that closes after
     * it, they are the last. */
    ssize_t body = rp_conn_send(c, c->lbody, c->lbody_left, !c->keep_alive);
    if (body < 0)
        return;
    c->lbody += body;
    c->lbody_left -= (uint32_t)body;
    if ((c->out && rp_buf_len(c->out)) || c->lbody_left) {
        rp_conn_want(c, EV_WRITE);
        return;
    }
    rp_conn_exchange_done(c, !c->keep_alive);
}

/* How long a closing connection keeps reading what the client still sends. */
#define RP_LINGER_SECONDS 2.0

/* Closes after a response while the client may still be sending (a body we
 * did not read, pipelined requests after an error). close() with unread
 * bytes makes the kernel send a reset, which can destroy the response
 * before the client reads it; so shut our side, discard input until the
 * client closes or RP_LINGER_SECONDS pass, then close. */
static void conn_linger(struct rp_conn *c)
{
    struct rp_worker *w = c->w;
    int shut = c->client_eof ? -1 : rp_transport_shutdown(&c->tr);
    if (shut < 0) {
        rp_conn_close(c);
        return;
    }
    rp_buf_put(&w->bufs, c->out);
    rp_buf_put(&w->bufs, c->in);
    c->out = c->in = NULL;
    c->state = RP_CONN_LINGER;
    rp_conn_want(c, EV_READ | (shut ? EV_WRITE : 0)); /* TLS: close_notify to send */
    rp_conn_set_timer(c, RP_LINGER_SECONDS);
}

static void conn_linger_read(struct rp_conn *c)
{
    char sink[4096];
    ssize_t n = rp_transport_read(&c->tr, sink, sizeof sink);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
        rp_conn_close(c);
}

/* Bytes read from the client and taken by exchanges: not those still
 * waiting in `in` (a pipelined request's). */
static uint64_t conn_bytes_taken(const struct rp_conn *c)
{
    return c->bytes_in - (c->in ? rp_buf_len(c->in) : 0);
}

/* The one place an exchange ends: its record is closed (and, with -v,
 * logged; the access log will read it here). */
static void exchange_end(struct rp_conn *c, const char *how)
{
    struct rp_exchange_record *rec = rp_conn_record(c);
    if (!rec)
        return;
    rec->open = false;
    rec->t_end = ev_now(c->w->loop);
    for (uint32_t i = 0; i < c->x->n_holds; i++) {
        const struct rp_limit_hold *h = &c->x->holds[i];
        if (h->limit->concurrent)
            rp_limit_release(c->w->proc->limits, h->limit, h->key);
        else if (rec->status >= h->limit->status_min && rec->status <= h->limit->status_max &&
                 c->x->reason != rp_limit_banned_reason)
            rp_limit_error(c->w->proc->limits, h->limit, h->key, rp_limit_now());
    }
    c->x->n_holds = 0;
    rp_buf_put(&c->w->bufs, c->x->path);
    c->x->path = NULL;
    c->x->path_rewritten = false;
    rec->end = how;
    rec->bytes_in = conn_bytes_taken(c) - rec->bytes_in0;
    rec->bytes_out = c->bytes_out - rec->bytes_out0;
    if (c->w->prog->metrics) /* nobody reads counts a policy does not expose */
        rp_metrics_count(&c->w->metrics, c->w->prog, rec);
    if (rp_access_log_on() &&
        !(rec->route < c->w->prog->n_routes && c->w->prog->routes[rec->route].log_off))
        log_exchange(c, rec);
    /* what the route's steps made, a cache object the answer was written
     * from among it, goes with the exchange */
    rp_steps_release(&c->x->px.steps);
    if (rp_log_max < RP_LOG_DEBUG)
        return;
    const struct rp_program *prog = c->w->prog;
    const struct rp_backend_def *be = rec->backend >= 0 ? &prog->backends[rec->backend] : NULL;
    rp_debug("exchange: %u route %d backend %s server %s attempts %u in %llu out %llu "
             "head %.1f ms connect %.1f ms first byte %.1f ms total %.1f ms: %s",
             rec->status, rec->route == RP_NO_ROUTE ? -1 : (int)rec->route + 1,
             be ? be->name : "-", be && rec->server >= 0 ? be->servers[rec->server].name : "-",
             rec->attempts, (unsigned long long)rec->bytes_in,
             (unsigned long long)rec->bytes_out,
             rec->t_head ? (rec->t_head - rec->t_start) * 1e3 : -1.0,
             rec->t_connect ? (rec->t_connect - rec->t_start) * 1e3 : -1.0,
             rec->t_first_byte ? (rec->t_first_byte - rec->t_start) * 1e3 : -1.0,
             (rec->t_end - rec->t_start) * 1e3, how);
}

void rp_conn_exchange_done(struct rp_conn *c, bool close_client)
{
    struct rp_worker *w = c->w;
    if (c->state == RP_CONN_CLOSED)
        return;
    exchange_end(c, c->x->reason ? c->x->reason : "done");
    c->exchanges++;
    if (c->h2s) {
        /* An HTTP/2 stream's one exchange: its end is the stream's. */
        rp_conn_close(c); /* its transport tells the stream (h2.c) */
        return;
    }
    /* A client that shut its side after pipelined requests gets answers to
     * those it sent; then the connection closes. */
    bool more = c->in && rp_buf_len(c->in) > 0;
    if (close_client || !c->keep_alive || (c->client_eof && !more) || w->stopping) {
        /* With nothing more to read, a close at once (over TLS after the
         * close_notify, when the socket takes it); else a lingering one. */
        if (c->linger || more || rp_transport_goodbye(&c->tr) == 0)
            conn_linger(c);
        else
            rp_conn_close(c);
        return;
    }
    rp_buf_put(&w->bufs, c->out);
    c->out = NULL;
    c->lbody = NULL;
    c->lbody_left = 0;
    c->state = RP_CONN_IDLE;
    rp_conn_want(c, EV_READ);
    if (c->in && rp_buf_len(c->in) == 0) {
        rp_buf_put(&w->bufs, c->in);
        c->in = NULL;
    }
    if (!c->in) {
        exchange_put(w, c->x);
        c->x = NULL;
        rp_conn_set_timer(c, w->cfg->client_idle_timeout);
        return;
    }
    /* A pipelined request is waiting: take it now unless we are inside the
     * request loop already, which goes on by itself. */
    if (!c->busy)
        conn_process(c);
}

/* Fills the view the policy's decision function reads, with the path
 * normalized (rp_path_normalize). Returns -1 for a path that is refused
 * or a host that cannot be a host name (too long to be one): both get
 * 400. */
__attribute__((always_inline)) static inline int request_view(struct rp_conn *c, struct rp_request_view *v)
{
    struct rp_exchange *x = c->x;
    const struct rp_http1_request *req = &x->req;
    v->path = req->path;
    v->path_len = req->path_len;
    int check = rp_path_check(req->path, req->path_len);
    if (check < 0)
        return -1;
    if (check > 0) {
        /* Rare: the normalized path goes to a buffer of its own, which the
         * server's request head is written from too (proxy.c). */
        if (!(x->path = rp_buf_get(&c->w->bufs)))
            return -1;
        int n = rp_path_normalize(req->path, req->path_len, x->path->data);
        if (n < 0)
            return -1;
        x->path->end = (uint32_t)n;
        v->path = x->path->data;
        v->path_len = (uint32_t)n;
    }
    v->method = req->method;
    v->method_len = req->method_len;
    v->query = req->query;
    v->query_len = req->query_len;
    v->headers = req->headers;
    v->n_headers = req->n_headers;
    v->tls = c->tr.tls;
    v->https = c->https;
    v->jwt = NULL; /* a verified token's claims, once checked */
    v->jwt_len = 0;
    /* Host is matched without its port and case-insensitively: lower-case
     * it once here so generated matchers compare bytes. */
    int n = rp_host_key(req->host ? req->host : "", req->host_len, c->x->host_lc,
                        sizeof c->x->host_lc);
    if (n < 0)
        return -1;
    v->host = c->x->host_lc;
    v->host_len = (uint32_t)n;
    /* Who the client is: the peer, unless it is a trusted proxy that
     * names another (forward.h). Acls, hashing and the server's fields all
     * use this one answer. */
    const struct rp_forwarding *fw = c->w->prog->forwarding;
    rp_ip_from_sockaddr(&c->peer, x->client_ip);
    x->peer_trusted = false;
    x->client_text = NULL;
    if (fw && fw->n_trusted) {
        x->peer_trusted = rp_forward_client(fw, x->client_ip, req->headers, req->n_headers,
                                            x->client_ip, &x->client_text, &x->client_text_len);
        if (x->peer_trusted)
            trusted_request_id(x);
    }
    memcpy(v->client_ip, x->client_ip, 16);
    return 0;
}

const char *rp_conn_request_id(struct rp_conn *c, uint32_t *len)
{
    struct rp_exchange *x = c->x;
    if (!x->id_len) {
        int n = snprintf(x->id, sizeof x->id, "%s%02x%010llx", c->w->proc->id_prefix,
                         c->w->id & 0xff, (unsigned long long)(++c->w->next_id & 0xffffffffffull));
        x->id_len = (uint8_t)(n > 0 ? n : 0);
    }
    *len = x->id_len;
    return x->id;
}

/* A trusted peer's X-Request-Id, kept as the request's id when it is a
 * plain token of at most 64 bytes. */
static void trusted_request_id(struct rp_exchange *x)
{
    const struct rp_http1_request *req = &x->req;
    for (uint32_t i = 0; i < req->n_headers; i++) {
        const struct rp_http1_header *h = &req->headers[i];
        if (h->name_len != 12 || !rp_http1_name_is(h, "x-request-id", 12))
            continue;
        if (h->value_len == 0 || h->value_len >= sizeof x->id)
            return;
        for (uint32_t k = 0; k < h->value_len; k++) {
            char ch = h->value[k];
            if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                  ch == '-' || ch == '_' || ch == '.' || ch == ':'))
                return;
        }
        memcpy(x->id, h->value, h->value_len);
        x->id_len = (uint8_t)h->value_len;
        return;
    }
}

const char *rp_conn_peer_text(struct rp_conn *c, uint32_t *len)
{
    if (!c->peer_text_len) {
        const void *a = c->peer.ss_family == AF_INET6
                            ? (const void *)&((const struct sockaddr_in6 *)&c->peer)->sin6_addr
                            : (const void *)&((const struct sockaddr_in *)&c->peer)->sin_addr;
        if (!inet_ntop(c->peer.ss_family == AF_INET6 ? AF_INET6 : AF_INET, a, c->peer_text,
                       sizeof c->peer_text))
            strcpy(c->peer_text, "unknown");
        c->peer_text_len = (uint8_t)strlen(c->peer_text);
    }
    *len = c->peer_text_len;
    return c->peer_text;
}

static bool method_is(const struct rp_http1_request *req, const char *m, size_t n)
{
    return req->method_len == n && memcmp(req->method, m, n) == 0;
}

int64_t rp_request_max_forwards_field(const struct rp_http1_request *req)
{
    if (!method_is(req, "TRACE", 5) && !method_is(req, "OPTIONS", 7))
        return -1;
    for (uint32_t i = 0; i < req->n_headers; i++) {
        const struct rp_http1_header *h = &req->headers[i];
        if (!rp_http1_name_is(h, "max-forwards", 12))
            continue;
        /* 1*DIGIT; anything else is not a count and is passed on as is. */
        if (h->value_len == 0 || h->value_len > 9)
            return -1;
        int64_t v = 0;
        for (uint32_t k = 0; k < h->value_len; k++) {
            if (h->value[k] < '0' || h->value[k] > '9')
                return -1;
            v = v * 10 + (h->value[k] - '0');
        }
        return v;
    }
    return -1;
}

/* Fields a TRACE echo leaves out: credentials a script in the page could
 * otherwise read back (cross-site tracing). */
static bool trace_hides(const struct rp_http1_header *h)
{
    return rp_http1_name_is(h, "cookie", 6) || rp_http1_name_is(h, "authorization", 13) ||
           rp_http1_name_is(h, "proxy-authorization", 19);
}

/* Appends the received request head as a message/http body, or measures it
 * when `b` is NULL. */
static size_t trace_echo(const struct rp_http1_request *req, struct rp_buf *b)
{
    size_t n = req->method_len + 1 + req->target_len + 11;
    if (b) {
        rp_buf_add(b, req->method, req->method_len);
        rp_buf_add(b, " ", 1);
        rp_buf_add(b, req->target, req->target_len);
        rp_buf_add(b, req->minor_version ? " HTTP/1.1\r\n" : " HTTP/1.0\r\n", 11);
    }
    for (uint32_t i = 0; i < req->n_headers; i++) {
        const struct rp_http1_header *h = &req->headers[i];
        if (trace_hides(h))
            continue;
        n += h->name_len + 2 + h->value_len + 2;
        if (b) {
            rp_buf_add(b, h->name, h->name_len);
            rp_buf_add(b, ": ", 2);
            rp_buf_add(b, h->value, h->value_len);
            rp_buf_add(b, "\r\n", 2);
        }
    }
    if (b)
        rp_buf_add(b, "\r\n", 2);
    return n + 2;
}

#define ALLOW_METHODS "Allow: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS\r\n"

/* Answers a TRACE or OPTIONS whose Max-Forwards reached 0 here, as the final
 * recipient (RFC 9110 7.6.2). */
static void respond_max_forwards(struct rp_conn *c)
{
    const struct rp_http1_request *req = &c->x->req;
    if (method_is(req, "OPTIONS", 7)) {
        rp_conn_respond(c, 200, NULL, 0, ALLOW_METHODS, sizeof ALLOW_METHODS - 1);
        return;
    }
    size_t n = trace_echo(req, NULL);
    if (n + 512 > RP_BUF_SIZE) {
        rp_conn_respond_error(c, 431);
        return;
    }
    if (respond_head(c, 200, "message/http", n, NULL, 0) < 0)
        return;
    trace_echo(req, c->out);
    respond_start(c, NULL, 0);
}

/* Decides what to do with a complete, valid request head. */
/* The access log's copy of the request's parts: method, target, Host,
 * User-Agent, Referer (each cut to its share of x->log_text). */
static const uint16_t log_caps[6] = {16, 1024, 256, 256, 256, 48};

static size_t log_slot(int k)
{
    size_t off = 0;
    for (int i = 0; i < k; i++)
        off += log_caps[i];
    return off;
}

static void log_put(struct rp_exchange *x, int k, const char *s, size_t n)
{
    if (n > log_caps[k])
        n = log_caps[k];
    if (s && n)
        memcpy(x->log_text + log_slot(k), s, n);
    x->log_len[k] = (uint16_t)(s ? n : 0);
}

static void log_capture(struct rp_exchange *x, const struct rp_http1_request *req, bool h2)
{
    x->logged = true;
    x->log_minor = h2 ? 2 : req->minor_version;
    log_put(x, 0, req->method, req->method_len);
    log_put(x, 1, req->target, req->target_len);
    log_put(x, 2, req->host, req->host ? req->host_len : 0);
    const char *ua = NULL, *ref = NULL;
    size_t ua_len = 0, ref_len = 0;
    for (uint32_t i = 0; i < req->n_headers; i++) {
        const struct rp_http1_header *h = &req->headers[i];
        /* the length first: most fields are neither, and this is per request;
         * then 8 bytes at once, case folded (OR 0x20 leaves '-' as it is) */
        if (h->name_len != 10 && h->name_len != 7)
            continue;
        if (h->name_len == 10) {
            uint64_t head, want;
            memcpy(&head, h->name, 8);
            memcpy(&want, "user-age", 8);
            if ((head | 0x2020202020202020ull) == want && (h->name[8] | 0x20) == 'n' &&
                (h->name[9] | 0x20) == 't')
                ua = h->value, ua_len = h->value_len;
        } else if (rp_http1_name_is(h, "referer", 7)) {
            ref = h->value, ref_len = h->value_len;
        }
    }
    log_put(x, 3, ua, ua_len);
    log_put(x, 4, ref, ref_len);
    x->log_len[5] = 0; /* the client: after the decision */
}

/* The exchange's access log line, while its state is all there. */
/* The TLS facts of a line: out of line, so that log_exchange stays small
 * enough to be inlined where the exchange ends. Made once per connection
 * by the TLS module, then kept. */
static __attribute__((noinline)) void log_tls_facts(struct rp_conn *c, struct rp_access_entry *e)
{
    rp_tls_value(c->tr.tls, "version", 7, &e->tls_version, &e->tls_version_len);
    rp_tls_value(c->tr.tls, "cipher", 6, &e->tls_cipher, &e->tls_cipher_len);
    rp_tls_value(c->tr.tls, "sni", 3, &e->sni, &e->sni_len);
}

__attribute__((always_inline)) static inline void log_exchange(struct rp_conn *c,
                                                             const struct rp_exchange_record *rec)
{
    struct rp_exchange *x = c->x;
    const struct rp_program *prog = c->w->prog;
    const struct rp_backend_def *be = rec->backend >= 0 ? &prog->backends[rec->backend] : NULL;
    /* one initializer: the compiler fills the entry once, with no zeroing
     * pass before the fields */
    struct rp_access_entry e = {
        .status = rec->status,
        .bytes_in = rec->bytes_in,
        .bytes_out = rec->bytes_out,
        .t_start = rec->t_start,
        .t_connect = rec->t_connect,
        .t_first_byte = rec->t_first_byte,
        .t_end = rec->t_end,
        .route = rec->route < prog->n_routes ? prog->routes[rec->route].where : NULL,
        .backend = be ? be->name : NULL,
        .server = be && rec->server >= 0 ? be->servers[rec->server].name : NULL,
        .attempts = rec->attempts,
        .cache = rp_cache_verdict(x->px.steps.cache),
        .request_id = x->id,
        .request_id_len = x->id_len,
        .end = rec->end,
        .tls = c->tr.tls != NULL,
    };
    if (x->logged && x->log_len[5]) {
        e.client = x->log_text + log_slot(5);
        e.client_len = x->log_len[5];
    } else {
        uint32_t n;
        e.client = rp_conn_peer_text(c, &n);
        e.client_len = n;
    }
    if (c->tr.tls)
        log_tls_facts(c, &e);
    if (x->user[0]) {
        e.user = x->user;
        e.user_len = strlen(x->user);
    }
    if (x->logged) {
        e.method = x->log_text + log_slot(0), e.method_len = x->log_len[0];
        e.target = x->log_text + log_slot(1), e.target_len = x->log_len[1];
        e.host = x->log_text + log_slot(2), e.host_len = x->log_len[2];
        e.user_agent = x->log_text + log_slot(3), e.user_agent_len = x->log_len[3];
        e.referer = x->log_text + log_slot(4), e.referer_len = x->log_len[4];
        e.minor_version = x->log_minor;
    }
    rp_access_log_entry(&e);
}

static inline void conn_answer(struct rp_conn *c, uint32_t head_len);

/* A local answer: the request body is not read, so the connection cannot be
 * reused (the next request would start somewhere inside the body). */
static void conn_local_answer(struct rp_conn *c, uint32_t head_len)
{
    if (c->x->req.body != RP_HTTP1_BODY_NONE) {
        c->keep_alive = false;
        c->linger = true;
    }
    c->in->start += head_len;
}

/* `auth request`'s answer (subreq.h): the request goes on, or the
 * client gets the authentication server's refusal, or an error. */
static void conn_auth_done(void *owner, int status, const struct rp_http1_response *resp)
{
    struct rp_conn *c = owner;
    struct rp_exchange *x = c->x;
    const struct rp_auth_request_def *def = x->auth_request;
    uint32_t head_len = x->delayed_head_len;
    x->subreq = NULL;
    c->state = RP_CONN_HEAD;
    if (status >= 200 && status < 300) {
        /* the fields it names go to the server, the server's own words */
        uint32_t n = 0;
        for (uint32_t i = 0; i < resp->n_headers; i++) {
            const struct rp_http1_header *h = &resp->headers[i];
            for (uint32_t k = 0; k < def->n_copy; k++)
                if (rp_http1_name_is(h, def->copy[k], strlen(def->copy[k])) &&
                    n + h->name_len + h->value_len + 4 <= sizeof x->auth_fields) {
                    memcpy(x->auth_fields + n, h->name, h->name_len);
                    n += h->name_len;
                    memcpy(x->auth_fields + n, ": ", 2);
                    memcpy(x->auth_fields + n + 2, h->value, h->value_len);
                    n += 2 + h->value_len;
                    memcpy(x->auth_fields + n, "\r\n", 2);
                    n += 2;
                }
        }
        x->auth_fields_len = n;
        conn_answer(c, head_len);
        return;
    }
    conn_local_answer(c, head_len);
    if (status == 401 || status == 403) {
        x->reason = "auth: refused by the authentication server";
        char extra[1024];
        size_t n = 0;
        for (uint32_t i = 0; status == 401 && i < resp->n_headers; i++) {
            const struct rp_http1_header *h = &resp->headers[i];
            if (rp_http1_name_is(h, "www-authenticate", 16) &&
                n + h->value_len + 22 <= sizeof extra)
                n += (size_t)snprintf(extra + n, sizeof extra - n, "WWW-Authenticate: %.*s\r\n",
                                      (int)h->value_len, h->value);
        }
        rp_conn_respond_error_with(c, status, extra, n);
        return;
    }
    /* no answer (or the proxy's own 502-504 for a server it could not
     * reach): 502, as for any server; another answer: 500, as nginx does */
    bool unreachable = status == 0 || (status >= 502 && status <= 504);
    x->reason = unreachable ? "auth: no answer from the authentication server"
                            : "auth: the authentication server answered neither 2xx, 401 nor 403";
    rp_conn_respond_error(c, unreachable ? 502 : 500);
}

/* Starts `auth request`'s subrequest: a GET of its path with the request's
 * fields, on a connection the proxy opens to itself, bound for the
 * backend; the connection waits, reading nothing. */
static bool conn_auth_request(struct rp_conn *c, const struct rp_auth_request_def *def,
                              uint32_t head_len)
{
    struct rp_worker *w = c->w;
    struct rp_exchange *x = c->x;
    const struct rp_http1_request *req = &x->req;
    size_t cap = 512 + strlen(def->path) + 2 * req->target_len + req->method_len;
    for (uint32_t i = 0; i < req->n_headers; i++)
        cap += req->headers[i].name_len + req->headers[i].value_len + 4;
    char *sub = malloc(cap);
    int pair[2];
    if (!sub || socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) < 0) {
        free(sub);
        conn_local_answer(c, head_len);
        rp_conn_respond_error(c, 503);
        return true;
    }
    size_t n = (size_t)snprintf(sub, cap, "GET %s HTTP/1.1\r\n", def->path);
    for (uint32_t i = 0; i < req->n_headers; i++) {
        const struct rp_http1_header *h = &req->headers[i];
        /* the request's fields, but nothing of its body or its hop */
        if (rp_http1_is_hop_by_hop(h->name, h->name_len) ||
            rp_http1_name_is(h, "content-length", 14) || rp_http1_name_is(h, "expect", 6) ||
            rp_http1_name_is(h, "connection", 10))
            continue;
        memcpy(sub + n, h->name, h->name_len);
        n += h->name_len;
        memcpy(sub + n, ": ", 2);
        memcpy(sub + n + 2, h->value, h->value_len);
        n += 2 + h->value_len;
        memcpy(sub + n, "\r\n", 2);
        n += 2;
    }
    n += (size_t)snprintf(sub + n, cap - n,
                          "X-Original-Method: %.*s\r\nX-Original-URI: %.*s\r\n"
                          "Connection: close\r\n\r\n",
                          (int)req->method_len, req->method, (int)req->target_len, req->target);
    x->auth_request = def;
    x->auth_fields_len = 0;
    x->delayed_head_len = head_len;
    double timeout = w->cfg->connect_timeout + w->cfg->backend_timeout;
    x->subreq = rp_subreq_start(w->loop, pair[1], sub, n, timeout, &w->cfg->resp_limits,
                                conn_auth_done, c);
    if (!x->subreq) {
        close(pair[0]);
        conn_local_answer(c, head_len);
        rp_conn_respond_error(c, 503);
        return true;
    }
    rp_conn_open_subrequest(w, pair[0], &c->peer, c->listener, c->https, def->backend);
    c->state = RP_CONN_DELAYED;
    rp_conn_want(c, 0);
    ev_timer_stop(w->loop, &c->timer); /* the subrequest has its own */
    return true;
}

/* The access phase (steps.h): true when it answered the request (429,
 * 401) or made it wait (RP_CONN_DELAYED, then conn_answer from the timer). */
static bool conn_access(struct rp_conn *c, const struct rp_request_view *view, uint32_t head_len)
{
    struct rp_worker *w = c->w;
    struct rp_exchange *x = c->x;
    const struct rp_decision *d = &x->decision;
    struct rp_access_ctx ctx = {.limits = w->proc->limits, .auth_cache = w->auth_cache,
                                .jwt_cache = w->jwt_cache, .now = ev_now(w->loop)};
    struct rp_access_verdict v;
    uint64_t length = x->req.body == RP_HTTP1_BODY_LENGTH ? x->req.content_length : 0;
    enum rp_access_result r =
        rp_steps_access(w->prog->routes[d->route].access, &ctx, view, d->route, length, &v);
    x->max_body = v.max_body;
    x->n_holds = v.n_holds;
    memcpy(x->holds, v.holds, v.n_holds * sizeof v.holds[0]);
    if (v.user[0])
        memcpy(x->user, v.user, sizeof x->user);
    x->reason = v.reason;
    if (r == RP_ACCESS_PASS || r == RP_ACCESS_DELAY)
        x->strip_authorization = v.strip_credentials;
    if ((r == RP_ACCESS_PASS || r == RP_ACCESS_DELAY) && v.jwt && v.jwt->claims &&
        !x->jwt_claims_len) /* not decoded already, before the routes */
        x->jwt_claims_len = rp_jwt_claims(v.jwt, view, x->jwt_claims, sizeof x->jwt_claims);
    if (r == RP_ACCESS_PASS)
        return false;
    if (r == RP_ACCESS_SUBREQUEST)
        return conn_auth_request(c, v.authreq, head_len);
    if (r == RP_ACCESS_DELAY) {
        /* nothing is read meanwhile: the head's slices stay where they are */
        x->delayed_head_len = head_len;
        c->state = RP_CONN_DELAYED;
        rp_conn_want(c, 0);
        rp_conn_set_timer(c, (double)v.wait_ns / 1e9);
        return true;
    }
    /* a refusal: the proxy's own answer, with the fields that say why */
    char extra[512];
    int n = 0, status;
    const char *body;
    if (r == RP_ACCESS_UNAUTHORIZED && v.jwt) {
        status = 401, body = "unauthorized\n";
        /* RFC 6750 3: a request without a token gets the bare challenge */
        if (v.jwt_verdict == RP_JWT_MISSING)
            n = snprintf(extra, sizeof extra, "WWW-Authenticate: Bearer\r\n");
        else
            n = snprintf(extra, sizeof extra,
                         "WWW-Authenticate: Bearer error=\"invalid_token\", "
                         "error_description=\"%s\"\r\n", v.reason + 6 /* past "auth: " */);
    } else if (r == RP_ACCESS_UNAUTHORIZED) {
        status = 401, body = "unauthorized\n";
        n = snprintf(extra, sizeof extra,
                     "WWW-Authenticate: Basic realm=\"%s\", charset=\"UTF-8\"\r\n",
                     v.auth->realm);
    } else if (r == RP_ACCESS_METHOD) {
        status = 405, body = "method not allowed\n";
        n = snprintf(extra, sizeof extra, "Allow: %s\r\n", v.methods->allow);
    } else if (r == RP_ACCESS_TOO_LARGE) {
        status = 413, body = rp_reason(413);
        c->keep_alive = false; /* the body it sends anyway is not read */
    } else if (r == RP_ACCESS_BUSY) {
        status = 503, body = "too many requests at once\n";
        n = snprintf(extra, sizeof extra, "Retry-After: 1\r\n");
    } else {
        const struct rp_limit_def *lim = v.limit;
        uint64_t retry_s = (v.wait_ns + 999999999u) / 1000000000u;
        if (retry_s == 0)
            retry_s = 1;
        status = 429, body = "too many requests\n";
        n = snprintf(extra, sizeof extra,
                     "Retry-After: %llu\r\nRateLimit-Policy: \"%s\";q=%u;w=%u\r\n"
                     "RateLimit: \"%s\";r=0;t=%llu\r\n",
                     (unsigned long long)retry_s, lim->name, lim->quota, lim->window_s,
                     lim->name, (unsigned long long)retry_s);
    }
    conn_local_answer(c, head_len);
    respond_error_or(c, status, body, strlen(body), extra,
                     n > 0 && (size_t)n < sizeof extra ? (size_t)n : 0);
    return true;
}

static void conn_dispatch(struct rp_conn *c, uint32_t head_len)
{
    struct rp_worker *w = c->w;
    const struct rp_http1_request *req = &c->x->req;
    if (rp_access_log_on())
        log_capture(c->x, req, c->h2_stream);
    c->linger = false;
    c->client_http10 = req->minor_version == 0;
    c->keep_alive = c->client_http10 ? (req->flags & RP_HTTP1_F_CONN_KEEPALIVE) != 0
                                     : (req->flags & RP_HTTP1_F_CONN_CLOSE) == 0;
    c->head_request = req->method_len == 4 && memcmp(req->method, "HEAD", 4) == 0;
    if (req->method_len == 7 && memcmp(req->method, "CONNECT", 7) == 0) {
        /* A reverse proxy does not open tunnels to arbitrary hosts. */
        c->keep_alive = false;
        c->in->start += head_len;
        rp_conn_respond_error(c, 405);
        return;
    }
    if (!w->prog->allow_trace && method_is(req, "TRACE", 5)) {
        /* TRACE echoes what reached the proxy, credentials included: off
         * unless a policy routes it by name. */
        c->keep_alive = false;
        c->in->start += head_len;
        respond_error_or(c, 405, "method not allowed\n", 19, ALLOW_METHODS,
                         sizeof ALLOW_METHODS - 1);
        return;
    }
    struct rp_request_view view;
    if (request_view(c, &view) < 0) {
        c->keep_alive = false;
        c->linger = true;
        c->in->start += head_len;
        rp_conn_respond_error(c, 400);
        return;
    }
    struct rp_decision *d = &c->x->decision;
    d->route = RP_NO_ROUTE;
    d->action = 0;
    d->backend = 0;
    d->status = 0;
    d->tunnel = false;
    d->body = NULL;
    d->content_type = NULL;
    d->body_len = d->location_len = 0;
    const struct rp_jwt_def *jb = w->prog->jwt_before_routes;
    if (jb) {
        /* conditions read the claims of a token that verifies, or none */
        char sub[64];
        if (rp_jwt_check(jb, &view, w->jwt_cache, ev_now(w->loop), sub) == RP_JWT_OK &&
            (c->x->jwt_claims_len = rp_jwt_claims(jb, &view, c->x->jwt_claims,
                                                  sizeof c->x->jwt_claims))) {
            view.jwt = c->x->jwt_claims;
            view.jwt_len = c->x->jwt_claims_len;
        }
    }
    if (c->subrequest_backend) {
        /* a subrequest of the proxy's own (`auth request`): to its backend,
         * past the routes */
        c->x->rec.t_head = ev_now(w->loop);
        c->x->rec.backend = (int32_t)(c->subrequest_backend - 1);
        d->action = RP_ACTION_PROXY;
        w->start_proxy(c, c->subrequest_backend - 1, head_len);
        return;
    }
    w->prog->decide(&view, d);
    /* the client a trusted chain named lives in the request: kept for the
     * line; the peer's own text is the connection's, read at the end */
    if (c->x->logged && c->x->client_text)
        log_put(c->x, 5, c->x->client_text, c->x->client_text_len);
    c->x->rec.t_head = ev_now(w->loop);
    c->x->rec.route = d->route;
    if (d->route != RP_NO_ROUTE && d->action == RP_ACTION_PROXY)
        c->x->rec.backend = (int32_t)d->backend;
    if (d->route != RP_NO_ROUTE && w->prog->routes[d->route].access &&
        conn_access(c, &view, head_len))
        return;
    conn_answer(c, head_len);
}

/* The decided answer: to the proxy, or the proxy's own. Inlined: on every
 * request's path (a call here and one to request_view cost the plain path
 * about 30 instructions). */
__attribute__((always_inline)) static inline void conn_answer(struct rp_conn *c, uint32_t head_len)
{
    struct rp_worker *w = c->w;
    const struct rp_http1_request *req = &c->x->req;
    struct rp_decision *d = &c->x->decision;
    bool last_hop = d->route != RP_NO_ROUTE && d->action == RP_ACTION_PROXY &&
                    rp_request_max_forwards(req) == 0;
    if (d->route != RP_NO_ROUTE && d->action == RP_ACTION_PROXY && !last_hop) {
        w->start_proxy(c, d->backend, head_len);
        return;
    }
    conn_local_answer(c, head_len);
    if (last_hop) {
        respond_max_forwards(c);
        return;
    }
    if (d->route == RP_NO_ROUTE) {
        respond_error_or(c, 404, "not found\n", 10, NULL, 0);
        return;
    }
    if (d->action == RP_ACTION_METRICS) {
        size_t len;
        char *text = rp_metrics_render(w->proc, &len);
        if (!text) {
            rp_conn_respond_error(c, 503);
            return;
        }
        c->x->owned = text; /* freed when the exchange ends */
        rp_conn_respond_typed(c, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
        return;
    }
    if (d->action == RP_ACTION_STATUS || d->action == RP_ACTION_STATUS_ADMIN) {
        struct rp_status_answer a;
        if (rp_status_answer(w->proc, req, d->action == RP_ACTION_STATUS_ADMIN, &a) < 0) {
            rp_conn_respond_error(c, 503);
            return;
        }
        c->x->owned = a.owned; /* freed when the exchange ends */
        rp_conn_respond_typed_with(c, a.status, a.content_type, a.body, a.len, a.extra,
                                   strlen(a.extra));
        return;
    }
    if (d->action == RP_ACTION_PURGE) {
        struct rp_request_view view;
        request_view(c, &view);
        struct rp_value_ctx vc = {.view = &view};
        uint64_t n = rp_cache_purge_request(req, &vc);
        int len = snprintf(c->x->answer, sizeof c->x->answer, "purged %llu\n",
                           (unsigned long long)n);
        rp_conn_respond(c, 200, c->x->answer, (size_t)len, NULL, 0);
        return;
    }
    if (d->action == RP_ACTION_REDIRECT) {
        char location[RP_DECISION_LOCATION_MAX + 16];
        int n = snprintf(location, sizeof location, "Location: %.*s\r\n", (int)d->location_len,
                         d->location);
        rp_conn_respond(c, d->status, NULL, 0, location, (size_t)n);
    } else
        rp_conn_respond_typed(c, d->status, d->content_type, d->body, d->body_len);
}

/* Parses and handles the requests waiting in `in`, one at a time, until one
 * is in progress, the connection is closed, or more bytes are needed. */
/* `listen ... h2c`: a connection that opens with HTTP/2's preface speaks
 * HTTP/2 from then on. True when it does (or may: the preface is not all
 * there yet). */
static bool conn_h2c(struct rp_conn *c)
{
    uint32_t n = rp_buf_len(c->in);
    if (memcmp(c->in->data + c->in->start, RP_H2_PREFACE,
               n < RP_H2_PREFACE_LEN ? n : RP_H2_PREFACE_LEN) != 0)
        return false;
    if (n < RP_H2_PREFACE_LEN)
        return true;
    struct rp_buf *in = c->in;
    c->in = NULL;
    c->w->start_h2(c, in->data + in->start, n);
    rp_buf_put(&c->w->bufs, in);
    return true;
}

static void conn_process(struct rp_conn *c)
{
    struct rp_worker *w = c->w;
    if (__builtin_expect(c->exchanges == 0, 0) && c->state == RP_CONN_IDLE && !c->x &&
        c->listener < w->prog->n_listeners && w->prog->listeners[c->listener].h2c &&
        !c->h2s && !c->subrequest_backend && c->in && conn_h2c(c))
        return;
    c->busy = true;
    while ((c->state == RP_CONN_IDLE || c->state == RP_CONN_HEAD) && c->in &&
           rp_buf_len(c->in) > 0) {
        if (c->state == RP_CONN_IDLE) {
            if (!c->x && !(c->x = exchange_get(w))) {
                rp_conn_close(c);
                break;
            }
            c->state = RP_CONN_HEAD;
            c->x->rec = (struct rp_exchange_record){
                .open = true, .t_start = ev_now(w->loop), .bytes_in0 = conn_bytes_taken(c),
                .bytes_out0 = c->bytes_out, .route = RP_NO_ROUTE, .backend = -1, .server = -1};
            /* Nothing of the previous request on the connection carries over. */
            c->x->decision.route = RP_NO_ROUTE;
            c->x->strip_authorization = false;
            c->x->n_holds = 0;
            c->x->max_body = 0;
            c->x->auth_request = NULL;
            c->x->jwt_claims_len = 0;
            c->x->auth_fields_len = 0;
            c->x->subreq = NULL;
            c->x->user[0] = '\0';
            c->x->reason = NULL;
            c->x->id_len = 0;
            rp_conn_set_timer(c, w->cfg->client_header_timeout);
        }
        int r = rp_http1_parse_request(c->in->data + c->in->start, rp_buf_len(c->in),
                                       &w->cfg->req_limits, &c->x->req);
        if (r == RP_HTTP1_INCOMPLETE) {
            if (rp_buf_len(c->in) < RP_BUF_SIZE) {
                rp_buf_compact(c->in);
                break;
            }
            r = RP_HTTP1_E431; /* the head does not fit in a buffer */
        }
        if (r < 0) {
            /* Nothing after a bad head can be trusted to be a request. */
            c->keep_alive = false;
            c->linger = true;
            c->in->start = c->in->end;
            c->head_request = false;
            rp_conn_respond_error(c, -r);
            continue;
        }
        conn_dispatch(c, (uint32_t)r);
    }
    c->busy = false;
    /* The client shut its side: no more requests will come, and a partial
     * head will never be completed. */
    if (c->client_eof && (c->state == RP_CONN_IDLE || c->state == RP_CONN_HEAD)) {
        rp_conn_close(c);
        return;
    }
    if (c->state == RP_CONN_IDLE && c->in && rp_buf_len(c->in) == 0) {
        rp_buf_put(&w->bufs, c->in);
        c->in = NULL;
        exchange_put(w, c->x);
        c->x = NULL;
        rp_conn_set_timer(c, w->cfg->client_idle_timeout);
    }
}

static void conn_io_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    (void)loop;
    struct rp_conn *c = (struct rp_conn *)io;
    if (c->state == RP_CONN_PROXYING) {
        if (revents & EV_WRITE)
            c->handler->writable(c);
        else if (revents & EV_READ)
            c->handler->readable(c);
        return;
    }
    if (c->state == RP_CONN_H2) {
        c->proto->io(c, revents);
        return;
    }
    if (c->state == RP_CONN_LINGER) {
        if (revents & EV_WRITE) {
            int f = rp_transport_flush(&c->tr);
            if (f < 0)
                rp_conn_close(c);
            else if (f == 1)
                rp_conn_want(c, EV_READ);
            return;
        }
        conn_linger_read(c);
        return;
    }
    if (c->state == RP_CONN_DELAYED)
        return; /* nothing is read while a limit makes it wait */
    if (c->state == RP_CONN_HANDSHAKE) {
        conn_handshake(c);
        return;
    }
    if (c->state == RP_CONN_PREFACE) {
        conn_preface(c);
        return;
    }
    if (revents & EV_WRITE) {
        rp_conn_client_write(c);
        return;
    }
    ssize_t n = rp_conn_read(c);
    if (n == -2 || (n == 0 && c->state != RP_CONN_RESPONDING)) {
        /* Closed or failed before a complete request: nothing to answer. */
        rp_conn_close(c);
        return;
    }
    if (c->state == RP_CONN_RESPONDING) {
        /* Pipelined bytes wait in `in`; stop reading once it is full. */
        if (n == -1 || n == 0)
            rp_conn_want(c, EV_WRITE);
        return;
    }
    if (n > 0)
        conn_process(c);
}

static void conn_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop;
    (void)revents;
    struct rp_conn *c = (struct rp_conn *)((char *)t - offsetof(struct rp_conn, timer));
    switch (c->state) {
    case RP_CONN_HEAD:
        c->keep_alive = false;
        c->linger = true;
        c->head_request = false;
        if (c->in)
            c->in->start = c->in->end;
        rp_conn_respond_error(c, 408);
        return;
    case RP_CONN_PROXYING:
        c->handler->timeout(c);
        return;
    case RP_CONN_H2:
        c->proto->timeout(c);
        return;
    case RP_CONN_DELAYED:
        /* a limit's wait is over */
        c->state = RP_CONN_HEAD;
        conn_answer(c, c->x->delayed_head_len);
        return;
    case RP_CONN_IDLE:
    case RP_CONN_PREFACE:
    case RP_CONN_HANDSHAKE:
    case RP_CONN_RESPONDING:
    case RP_CONN_LINGER:
    case RP_CONN_CLOSED:
        rp_conn_close(c);
        return;
    }
}
