/* proxy.c: one exchange with a server: rebuild the request head, stream the
 * request body up and the response down, with back-pressure both ways.
 *
 * Bodies are relayed as they are framed on the wire (a chunked body stays
 * chunked); the proxy scans the framing only to know where each message
 * ends. Watchers follow one rule, applied by proxy_watch() at the end of
 * every event: read from a side only while the other side is not blocked and
 * the buffer has room; write to a side only while it is blocked.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cache_refresh.h"
#include "cache.h"
#include "balance.h"
#include "conn.h"
#include "filter.h"
#include "forward.h"
#include "health.h"
#include "log.h"
#include "proxy.h"
#include "proxyproto.h"
#include "reason.h"
#include "sock.h"
#include "tls.h"
#include "upstream.h"
#include "worker.h"

static void proxy_client_readable(struct rp_conn *c);
static void proxy_client_writable(struct rp_conn *c);
static void proxy_timeout(struct rp_conn *c);
static void proxy_abort(struct rp_conn *c);

/* How the client connection reaches a proxied exchange (conn.h). */
static const struct rp_exchange_handler proxy_handler = {
    .name = "proxy",
    .readable = proxy_client_readable,
    .writable = proxy_client_writable,
    .timeout = proxy_timeout,
    .abort = proxy_abort,
};

static void up_io_cb(struct ev_loop *loop, ev_io *io, int revents);
static void proxy_cache_wait(struct rp_conn *c, uint32_t backend, uint32_t head_len);

/* Reads of a body in a row on one readiness event: a read that filled the
 * buffer says more is waiting, and reading it now saves an epoll_wait per
 * buffer on large bodies; the bound keeps one transfer from starving the
 * other connections of the worker. */
#define RP_READS_PER_EVENT 8

/* Requests waiting for room under max_conns, per worker and backend, and
 * how long one waits unless the backend says (queue_timeout). */
#define RP_QUEUE_MAX 4096
#define RP_QUEUE_TIMEOUT_DEFAULT 5.0

static void proxy_send_request(struct rp_conn *c);
static void proxy_send_response(struct rp_conn *c);
static void proxy_shut_upstream_when_sent(struct rp_conn *c);

/* ---- head rebuilding ------------------------------------------------------- */

/* Whether field h is named `lit` (a lower-case literal). The length is
 * compared here, inline, so most fields cost no call: add_fields asks
 * several names of every field of every message. */
#define NAME_IS(h, lit) ((h)->name_len == sizeof(lit) - 1 && rp_http1_name_is((h), (lit), sizeof(lit) - 1))

/* The field names listed in Connection fields: hop-by-hop for this message. */
struct conn_tokens {
    uint32_t n;
    const char *name[16];
    uint32_t len[16];
};

static bool is_tchar_sep(char ch)
{
    return ch == ',' || ch == ' ' || ch == '\t';
}

static void collect_connection_tokens(const struct rp_http1_header *h, uint32_t n,
                                      struct conn_tokens *t)
{
    t->n = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (!NAME_IS(&h[i], "connection"))
            continue;
        const char *p = h[i].value, *end = p + h[i].value_len;
        while (p < end) {
            while (p < end && is_tchar_sep(*p))
                p++;
            const char *s = p;
            while (p < end && !is_tchar_sep(*p))
                p++;
            /* Connection may not take away what frames or routes the
             * message: a sender naming Host, Content-Length or
             * Transfer-Encoding there is ignored for those names, so the
             * next hop never gets a request without Host or a body
             * without its length. */
            size_t tok_len = (size_t)(p - s);
            bool framing = (tok_len == 4 && strncasecmp(s, "host", 4) == 0) ||
                           (tok_len == 14 && strncasecmp(s, "content-length", 14) == 0) ||
                           (tok_len == 17 && strncasecmp(s, "transfer-encoding", 17) == 0);
            if (p > s && !framing && t->n < 16) {
                t->name[t->n] = s;
                t->len[t->n] = (uint32_t)(p - s);
                t->n++;
            }
        }
    }
}

/* True if a field must not be forwarded: hop-by-hop by definition, or named
 * by the message's Connection field. */
static bool is_hop(const struct rp_http1_header *h, const struct conn_tokens *t)
{
    if (rp_http1_is_hop_by_hop(h->name, h->name_len))
        return true;
    for (uint32_t i = 0; i < t->n; i++)
        if (t->len[i] == h->name_len && strncasecmp(t->name[i], h->name, h->name_len) == 0)
            return true;
    return false;
}

static int add(struct rp_buf *b, const char *p, size_t n)
{
    return rp_buf_add(b, p, n);
}

/* Appends one field line "Name: value\r\n". */
static int add_field(struct rp_buf *b, const struct rp_http1_header *h)
{
    int rc = add(b, h->name, h->name_len);
    rc |= add(b, ": ", 2);
    rc |= add(b, h->value, h->value_len);
    return rc | add(b, "\r\n", 2);
}

/* add_fields' choices. */
#define F_SKIP_HOST 1u   /* the caller writes its own Host */
#define F_SKIP_EXPECT 2u /* the proxy answered 100-continue itself */
#define F_KEEP_TE 4u     /* a response body relayed as it was coded */
#define F_NO_LENGTH 8u   /* 1xx and 204 have no body: Content-Length goes */
#define F_MAX_FWD 16u    /* Max-Forwards is rewritten (TRACE, OPTIONS) */
#define F_REFRAME 32u    /* the body is re-framed: no Content-Length or
                            Transfer-Encoding from the server */

/* Copies the fields a proxy forwards: not hop-by-hop, not Host when the
 * caller writes its own. Content-Length, which may have come as several
 * equal values or a list of them, goes out once, as the single value the
 * parser settled on, so the next hop cannot read it differently.
 * Transfer-Encoding is hop-by-hop, but F_KEEP_TE forwards it unchanged for
 * a response whose body is relayed as it was coded. */
static int add_fields(struct rp_buf *b, const struct rp_http1_header *h, uint32_t n,
                      uint64_t content_length, unsigned flags, const struct rp_head_edit *edit,
                      uint32_t fwd_drop)
{
    struct conn_tokens tokens;
    collect_connection_tokens(h, n, &tokens);
    bool length_sent = false;
    int rc = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (NAME_IS(&h[i], "content-length")) {
            if (!length_sent && !(flags & (F_NO_LENGTH | F_REFRAME))) {
                rc |= RP_BUF_ADD_LIT(b, "Content-Length: ");
                rc |= rp_buf_add_u64(b, content_length);
                rc |= RP_BUF_ADD_LIT(b, "\r\n");
                length_sent = true;
            }
            continue;
        }
        bool te = (flags & F_KEEP_TE) && NAME_IS(&h[i], "transfer-encoding");
        if (!te && is_hop(&h[i], &tokens))
            continue;
        if (edit && edit->n_drop && rp_head_edit_drops(edit, &h[i]))
            continue;
        if (fwd_drop && (rp_forward_field(&h[i]) & fwd_drop))
            continue; /* the proxy writes its own (forward.h) */
        if ((flags & F_SKIP_HOST) && NAME_IS(&h[i], "host"))
            continue;
        if ((flags & F_SKIP_EXPECT) && NAME_IS(&h[i], "expect"))
            continue;
        if ((flags & F_MAX_FWD) && NAME_IS(&h[i], "max-forwards"))
            continue; /* the caller writes it, one less */
        rc |= add_field(b, &h[i]);
    }
    return rc;
}

/* Copies the fields called `lname` (lower case) as they are. */
static int add_named(struct rp_buf *b, const struct rp_http1_header *h, uint32_t n,
                     const char *lname, size_t lname_len)
{
    int rc = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (rp_http1_name_is(&h[i], lname, lname_len))
            rc |= add_field(b, &h[i]);
    }
    return rc;
}

static const struct rp_backend_def *backend_of(const struct rp_conn *c)
{
    return &c->w->prog->backends[c->x->px.backend];
}

static const char *request_id(void *owner, uint32_t *len)
{
    return rp_conn_request_id(owner, len);
}

/* The request as the policy saw it, and the client, for the values header
 * actions put in (headers.h). */
static void value_ctx(struct rp_conn *c, struct rp_request_view *v, struct rp_value_ctx *vc)
{
    const struct rp_http1_request *req = &c->x->req;
    const struct rp_buf *norm = c->x->path;
    *v = (struct rp_request_view){
        .method = req->method, .method_len = req->method_len,
        .host = c->x->host_lc, .host_len = (uint32_t)strlen(c->x->host_lc),
        .path = norm ? norm->data : req->path, .path_len = norm ? norm->end : req->path_len,
        .query = req->query, .query_len = req->query_len,
        .headers = req->headers, .n_headers = req->n_headers, .tls = c->tr.tls,
        .https = c->https, .jwt = c->x->jwt_claims_len ? c->x->jwt_claims : NULL,
        .jwt_len = c->x->jwt_claims_len};
    memcpy(v->client_ip, c->x->client_ip, 16);
    vc->view = v;
    vc->request_id = request_id;
    vc->owner = c;
    vc->backend_name = backend_of(c)->name;
    if (c->x->client_text) {
        vc->client_ip = c->x->client_text;
        vc->client_ip_len = c->x->client_text_len;
        vc->client_port = 0; /* a port of the chain's client is not known */
    } else {
        vc->client_ip = rp_conn_peer_text(c, &vc->client_ip_len);
        vc->client_port = ntohs(c->peer.ss_family == AF_INET6
                                    ? ((const struct sockaddr_in6 *)&c->peer)->sin6_port
                                    : ((const struct sockaddr_in *)&c->peer)->sin_port);
    }
}

/* Writes the request head the server gets into c->x->px.up_head, with the
 * route's header actions (edit; NULL: none). Returns -1 if it does not
 * fit. */
static int build_request_head(struct rp_conn *c, const struct rp_head_edit *edit)
{
    struct rp_proxy_state *px = &c->x->px;
    const struct rp_http1_request *req = &c->x->req;
    struct rp_buf *b = px->up_head;
    /* An absolute-form target is sent in origin form, its authority as Host. */
    bool absolute = req->target[0] != '/' && req->target[0] != '*';
    bool continue_sent = (req->flags & RP_HTTP1_F_EXPECT_CONTINUE) != 0;
    int rc = add(b, req->method, req->method_len);
    rc |= add(b, " ", 1);
    /* The server gets the path the routes saw: normalized when it had to
     * be (conn.c request_view). */
    const struct rp_buf *norm = c->x->path;
    if (norm && !c->x->path_rewritten && c->w->prog->upstream_path_original)
        norm = NULL; /* `upstream_path original`: routed normalized, sent as received */
    if (absolute || norm) {
        if (norm)
            rc |= add(b, norm->data, norm->end);
        else
            rc |= add(b, req->path, req->path_len);
        if (req->query) {
            rc |= add(b, "?", 1);
            rc |= add(b, req->query, req->query_len);
        }
    } else {
        rc |= add(b, req->target, req->target_len);
    }
    /* An HTTP/1.0 client cannot read a chunked response, so its request goes
     * to the server as 1.0 too: the server then delimits the body by length
     * or by closing. */
    rc |= c->client_http10 ? RP_BUF_ADD_LIT(b, " HTTP/1.0\r\n") : RP_BUF_ADD_LIT(b, " HTTP/1.1\r\n");
    /* A `set header Host` replaces the request's (and is in edit->extra). */
    bool host_set = edit && rp_head_edit_drops_name(edit, "host", 4);
    if (absolute && req->host && !host_set) {
        rc |= RP_BUF_ADD_LIT(b, "Host: ");
        rc |= add(b, req->host, req->host_len);
        rc |= add(b, "\r\n", 2);
    }
    /* Max-Forwards of a TRACE or OPTIONS counts the hops left (RFC 9110
     * 7.6.2): 0 was answered here, so what goes on is one less. */
    int64_t max_fwd = rp_request_max_forwards(req);
    unsigned flags = (absolute ? F_SKIP_HOST : 0) | (continue_sent ? F_SKIP_EXPECT : 0) |
                     (max_fwd > 0 ? F_MAX_FWD : 0);
    const struct rp_forwarding *fw =
        c->w->prog->forwarding ? c->w->prog->forwarding : &rp_forwarding_default;
    rc |= add_fields(b, req->headers, req->n_headers, req->content_length, flags, edit,
                     rp_forward_drops(fw, c->x->peer_trusted));
    struct rp_forward_ctx fc = {.fw = fw, .trusted = c->x->peer_trusted, .req = req,
                                .https = c->https,
                                .cache = c->fwd_cache, .cache_len = &c->fwd_cache_len,
                                .cache_size = sizeof c->fwd_cache};
    /* The peer's text is needed unless the connection's cached lines are
     * all there is to write (the common case). */
    if (fc.trusted || !c->fwd_cache_len || (fw->send & ~(uint32_t)(RP_FWD_XFF | RP_FWD_PROTO)))
        fc.peer = rp_conn_peer_text(c, &fc.peer_len);
    fc.client = c->x->client_text ? c->x->client_text : fc.peer;
    fc.client_len = c->x->client_text ? c->x->client_text_len : fc.peer_len;
    rc |= rp_forward_write(b, &fc);
    if (max_fwd > 0) {
        rc |= RP_BUF_ADD_LIT(b, "Max-Forwards: ");
        rc |= rp_buf_add_u64(b, (uint64_t)max_fwd - 1);
        rc |= add(b, "\r\n", 2);
    }
    if (edit && edit->extra_len)
        rc |= add(b, edit->extra, edit->extra_len);
    if (!req->host && !host_set) {
        /* HTTP/1.0 allows a request without Host; the server still gets
         * one, the backend's name (as nginx sends its upstream's). */
        rc |= RP_BUF_ADD_LIT(b, "Host: ");
        rc |= add(b, backend_of(c)->name, strlen(backend_of(c)->name));
        rc |= add(b, "\r\n", 2);
    }
    if (req->body == RP_HTTP1_BODY_CHUNKED)
        rc |= RP_BUF_ADD_LIT(b, "Transfer-Encoding: chunked\r\n");
    if (px->upgrade) {
        /* Upgrade is hop-by-hop: it goes on only when the route tunnels. */
        rc |= add_named(b, req->headers, req->n_headers, "upgrade", 7);
        rc |= RP_BUF_ADD_LIT(b, "Connection: upgrade\r\n");
    }
    const struct rp_proc *proc = c->w->proc;
    /* The protocol the request came in (RFC 9110 7.6.3). */
    if (__builtin_expect(c->h2_stream, 0))
        rc |= add(b, proc->via_end2, proc->via_end2_len);
    else if (proc->via_default) /* a constant copy: every request pays it */
        rc |= c->client_http10 ? RP_BUF_ADD_LIT(b, "Via: 1.0 rpx\r\n\r\n")
                               : RP_BUF_ADD_LIT(b, "Via: 1.1 rpx\r\n\r\n");
    else if (c->client_http10)
        rc |= add(b, proc->via_end10, proc->via_end10_len);
    else
        rc |= add(b, proc->via_end11, proc->via_end11_len);
    return rc ? -1 : 0;
}

/* Appends the response head the client gets to c->out, with the route's
 * steps' edits (final heads only; NULL: none). */
static int build_response_head(struct rp_conn *c, const struct rp_http1_response *resp,
                               bool final, const struct rp_head_edit *edit)
{
    struct rp_proxy_state *px = &c->x->px;
    struct rp_buf *b = c->out;
    int rc = RP_BUF_ADD_LIT(b, "HTTP/1.1 ");
    rc |= rp_buf_add_u64(b, resp->status);
    rc |= add(b, " ", 1);
    if (resp->reason_len)
        rc |= add(b, resp->reason, resp->reason_len);
    else
        rc |= add(b, rp_reason(resp->status), strlen(rp_reason(resp->status)));
    rc |= add(b, "\r\n", 2);
    /* The body is relayed as the server coded it, so its Transfer-Encoding
     * (chunked, or e.g. "gzip, chunked") goes with it unchanged. */
    bool no_body = resp->status < 200 || resp->status == 204;
    bool reframe = edit && edit->reframe;
    unsigned flags = (final && !no_body && !reframe ? F_KEEP_TE : 0) | (no_body ? F_NO_LENGTH : 0) |
                     (reframe ? F_REFRAME : 0);
    rc |= add_fields(b, resp->headers, resp->n_headers, resp->content_length, flags, edit, 0);
    if (edit && edit->extra_len)
        rc |= add(b, edit->extra, edit->extra_len);
    /* Filters' output is framed in chunks for an HTTP/1.1 client (an
     * HTTP/1.0 one reads it until the close). */
    if (px->filters && px->filters->chunked)
        rc |= RP_BUF_ADD_LIT(b, "Transfer-Encoding: chunked\r\n");
    if (final) {
        c->x->rec.status = resp->status;
        /* A recipient with a clock adds the Date a response lacks (RFC 9110
         * 6.6.1). */
        if (!(resp->flags & RP_HTTP1_F_HAS_DATE))
            rc |= rp_date_add(&c->w->date, ev_now(c->w->loop), b);
        if (!c->keep_alive)
            rc |= RP_BUF_ADD_LIT(b, "Connection: close\r\n");
        else if (c->client_http10)
            rc |= RP_BUF_ADD_LIT(b, "Connection: keep-alive\r\n");
    }
    if (c->w->proc->via_default)
        rc |= RP_BUF_ADD_LIT(b, "Via: 1.1 rpx\r\n\r\n");
    else
        rc |= add(b, c->w->proc->via_end11, c->w->proc->via_end11_len);
    return rc ? -1 : 0;
}

/* ---- watchers ---------------------------------------------------------------- */

/* Sets both sockets' watchers from the exchange's state. */
static void proxy_watch(struct rp_conn *c)
{
    if (c->state != RP_CONN_PROXYING)
        return; /* closed or answered: nothing to watch, and c->x may be gone */
    struct rp_proxy_state *px = &c->x->px;
    int client = 0, server = 0;
    if (c->client_blocked)
        client |= EV_WRITE;
    if (!c->client_eof && (!c->in || rp_buf_room(c->in) > 0 || c->in->start > 0))
        client |= EV_READ;
    if (px->up) {
        if (px->up->connecting) {
            server = px->up->hs_want ? px->up->hs_want : EV_WRITE;
        } else {
            if (px->up_blocked)
                server |= EV_WRITE;
            /* Back-pressure: a client that does not read stops the server. */
            if (!c->client_blocked && !px->up_eof)
                server |= EV_READ;
        }
        rp_transport_want(c->w->loop, &px->up->io, &px->up->tr, server);
    }
    rp_conn_want(c, client);
}

/* ---- attempts: one server connection each ------------------------------------------- */

/* Per-request warnings (a refused connect, a timeout) come at request rate
 * during an outage: at most one line a second per backend and worker is
 * printed, with a count of those held back. Returns false to skip one. */
static bool warn_allowed(struct rp_conn *c)
{
    return rp_log_limit_pass(&c->w->backends[c->x->px.backend].proxy.warn_limit, ev_now(c->w->loop));
}

/* Arms the exchange's timer for whoever it now waits on: the connect, the
 * client (the rest of the request body), or the server. Called after
 * progress, so a slow but moving transfer never times out. */
/* How long the exchange may wait on a server, or on either side of a
 * tunnel (after a 101, or layer 4: `timeouts { tunnel }` when set). */
static double proxy_idle_timeout(const struct rp_conn *c)
{
    const struct rp_config *cfg = c->w->cfg;
    double t = c->x->px.tunneling && cfg->tunnel_timeout ? cfg->tunnel_timeout
                                                         : cfg->backend_timeout;
    if (__builtin_expect(c->x->px.deadline != 0, 0)) {
        double left = c->x->px.deadline - ev_now(c->w->loop);
        if (left < t)
            t = left > 0.001 ? left : 0.001;
    }
    return t;
}

/* A gRPC call's deadline (grpc-timeout: 1 to 8 digits and a unit, H M S m
 * u n), as an absolute time; 0 without one. */
static double grpc_deadline(const struct rp_http1_request *req, double now)
{
    static const struct { char unit; double secs; } units[] = {
        {'H', 3600}, {'M', 60}, {'S', 1}, {'m', 1e-3}, {'u', 1e-6}, {'n', 1e-9}};
    for (uint32_t i = 0; i < req->n_headers; i++) {
        const struct rp_http1_header *h = &req->headers[i];
        if (!rp_http1_name_is(h, "grpc-timeout", 12) || h->value_len < 2 || h->value_len > 9)
            continue;
        double v = 0;
        for (uint32_t j = 0; j + 1 < h->value_len; j++) {
            if (h->value[j] < '0' || h->value[j] > '9')
                return 0;
            v = v * 10 + (h->value[j] - '0');
        }
        for (size_t u = 0; u < sizeof units / sizeof units[0]; u++)
            if (h->value[h->value_len - 1] == units[u].unit)
                return now + v * units[u].secs;
        return 0;
    }
    return 0;
}

static void proxy_arm_timer(struct rp_conn *c)
{
    struct rp_proxy_state *px = &c->x->px;
    const struct rp_config *cfg = c->w->cfg;
    double t;
    if (px->up && px->up->connecting)
        t = cfg->connect_timeout;
    else if (!px->req_body.done && px->req_ready == 0 && !px->up_blocked && !px->resp_head_parsed)
        t = cfg->client_body_timeout;
    else
        t = proxy_idle_timeout(c);
    rp_conn_set_timer(c, t);
}

/* Counts the request against its server (least_conn, max_conns), and
 * notes the server's generation so that a failure is counted only if the
 * server was in the same state when the attempt began (health.h). */
static void attempt_begin(struct rp_conn *c, uint32_t server, bool probe)
{
    struct rp_proxy_state *px = &c->x->px;
    struct rp_server_state *st = &c->w->proc->server_state[px->backend][server];
    px->server = server;
    px->counted = true;
    struct rp_exchange_record *rec = &c->x->rec;
    rec->server = (int32_t)server;
    rec->attempts++;
    rec->t_connect = 0;
    px->probe = probe;
    px->gen = rp_server_gen(st);
    if (server < 64)
        px->tried |= 1ull << server;
    atomic_fetch_add_explicit(&st->active, 1, memory_order_relaxed);
}

/* A probe's outcome (see rp_balance_pick): given once, at connect. */
static void probe_verdict(struct rp_conn *c, bool ok, const char *why)
{
    struct rp_proxy_state *px = &c->x->px;
    if (!px->probe)
        return;
    px->probe = false;
    rp_health_probe_done(c->w->proc, px->backend, px->server, ok, rp_now_ms(c->w->loop), why);
}

/* The attempt's server connection is ready (fresh or pooled). */
static void attempt_connected(struct rp_conn *c)
{
    c->x->rec.t_connect = ev_now(c->w->loop);
    probe_verdict(c, true, NULL);
}

/* The attempt failed for a reason that counts against the server. */
static void server_failed(struct rp_conn *c, const char *why)
{
    struct rp_proxy_state *px = &c->x->px;
    if (px->probe)
        probe_verdict(c, false, why);
    else
        rp_health_failed(c->w->proc, px->backend, px->server, px->gen, rp_now_ms(c->w->loop), why);
}

static void dispatch_queue(struct rp_worker *w, uint32_t backend);

/* The request no longer occupies its server: let a queued one have it. */
static void attempt_end(struct rp_conn *c)
{
    struct rp_proxy_state *px = &c->x->px;
    if (!px->counted)
        return;
    px->counted = false;
    if (px->probe) {
        /* Gone before the connect said anything: the next request probes. */
        px->probe = false;
        rp_health_probe_abandoned(c->w->proc, px->backend, px->server);
    }
    atomic_fetch_sub_explicit(&c->w->proc->server_state[px->backend][px->server].active, 1,
                              memory_order_relaxed);
    if (c->w->backends[px->backend].proxy.queued)
        dispatch_queue(c->w, px->backend);
}

static void queue_remove(struct rp_conn *c)
{
    struct rp_proxy_state *px = &c->x->px;
    struct rp_proxy_backend_rt *rt = &c->w->backends[px->backend].proxy;
    struct rp_conn **pp = &rt->queue;
    while (*pp && *pp != c)
        pp = &(*pp)->x->px.queue_next;
    if (!*pp)
        return;
    *pp = px->queue_next;
    if (rt->queue_tail == &px->queue_next)
        rt->queue_tail = pp;
    px->queue_next = NULL;
    px->queued = false;
    rt->queued--;
}

/* ---- ending an exchange ------------------------------------------------------------ */

static void release_buffers(struct rp_conn *c)
{
    struct rp_proxy_state *px = &c->x->px;
    rp_buf_put(&c->w->bufs, px->up_head);
    px->up_head = NULL;
    if (px->filters) {
        rp_filters_free(px->filters);
        free(px->filters);
        px->filters = NULL;
    }
}

static void proxy_abort(struct rp_conn *c)
{
    struct rp_proxy_state *px = &c->x->px;
    if (px->queued)
        queue_remove(c);
    if (px->up) {
        rp_upstream_close(px->up);
        px->up = NULL;
    }
    attempt_end(c);
    release_buffers(c);
}

/* The response is complete and written: pool the server connection if it
 * can carry another request, and go on with the client. */
static void proxy_finish(struct rp_conn *c)
{
    struct rp_proxy_state *px = &c->x->px;
    bool request_complete = px->req_body.done && px->req_ready == 0 && px->up_head &&
                            rp_buf_len(px->up_head) == 0;
    bool reuse = px->up_keep_alive && request_complete && !px->up_eof &&
                 px->resp_body.kind != RP_HTTP1_BODY_CLOSE &&
                 !backend_of(c)->servers[px->server].proxy_protocol; /* one client's */
    rp_upstream_release(px->up, reuse);
    px->up = NULL;
    release_buffers(c);
    /* If the client's body was not all read, where its next request starts
     * is unknown: close. */
    bool close_client = !px->req_body.done || px->resp_body.kind == RP_HTTP1_BODY_CLOSE;
    c->linger = !px->req_body.done;
    c->state = RP_CONN_RESPONDING; /* leave PROXYING before exchange_done */
    attempt_end(c);
    if (c->state == RP_CONN_CLOSED)
        return;
    rp_conn_exchange_done(c, close_client);
}

/* The address the client connected to (asked once per connection;
 * AF_UNSPEC when it cannot be had). */
static const struct sockaddr_storage *conn_local(struct rp_conn *c)
{
    if (!c->local_known) {
        socklen_t len = sizeof c->local;
        if (getsockname(c->tr.fd, (struct sockaddr *)&c->local, &len) < 0)
            c->local.ss_family = AF_UNSPEC;
        c->local_known = true;
    }
    return &c->local;
}

/* Answers from the cache's store: a hit (no server was asked), a stored
 * response the server validated (its 304), or a stale one in place of an
 * error. What is left of the server's part ends first; its connection is
 * pooled when the answer it gave is all read. */
static void proxy_serve_stored(struct rp_conn *c)
{
    struct rp_proxy_state *px = &c->x->px;
    struct rp_worker *w = c->w;
    if (px->queued)
        queue_remove(c);
    if (px->up) {
        bool reuse = px->resp_head_parsed && px->resp_body.done && px->up_keep_alive &&
                     !px->up_eof && px->req_body.done && px->up->in &&
                     rp_buf_len(px->up->in) == 0;
        rp_upstream_release(px->up, reuse);
        px->up = NULL;
    }
    release_buffers(c);
    c->state = RP_CONN_RESPONDING;
    attempt_end(c);
    if (px->resp_started) {
        rp_conn_close(c);
        return;
    }
    if (!px->req_body.done) {
        c->keep_alive = false;
        c->linger = true;
    }
    if (!c->out && !(c->out = rp_buf_get(&w->bufs))) {
        rp_conn_close(c);
        return;
    }
    c->out->start = c->out->end = 0;
    c->client_blocked = false;
    if (w->stopping)
        c->keep_alive = false;
    struct rp_head_edit edit;
    rp_head_edit_init(&edit);
    struct rp_value_ctx vc = {.request_id = request_id, .owner = c,
                              .backend_name = backend_of(c)->name};
    rp_steps_stored_answer(px->steps.steps, &vc, backend_of(c)->headers, &edit);
    char tail[160];
    size_t tl = 0;
    if (!c->keep_alive)
        tl = (size_t)snprintf(tail, sizeof tail, "Connection: close\r\n");
    else if (c->client_http10)
        tl = (size_t)snprintf(tail, sizeof tail, "Connection: keep-alive\r\n");
    const char *via = w->proc->via_default ? "Via: 1.1 rpx\r\n\r\n" : w->proc->via_end11;
    size_t via_len = w->proc->via_default ? 16 : w->proc->via_end11_len;
    if (tl + via_len < sizeof tail) {
        memcpy(tail + tl, via, via_len);
        tl += via_len;
    }
    const char *body;
    uint64_t body_len;
    int status = rp_cache_serve_head(px->steps.cache, rp_cache_request_copy(px->steps.cache),
                                     c->head_request, &edit, ev_now(w->loop), tail, tl, c->out,
                                     &body, &body_len);
    if (status < 0) {
        c->out->start = c->out->end = 0;
        rp_conn_respond_error(c, 502);
        return;
    }
    c->x->rec.status = (uint16_t)status;
    /* stale-while-revalidate: refreshed in the background, by the request
     * again on a connection the proxy opens to itself, on this listener, as
     * this client (TLS or not: the pair speaks plain HTTP) */
    size_t rlen;
    uint64_t rhash;
    char *refresh = rp_cache_refresh_take(px->steps.cache, &rlen, &rhash);
    int pair[2];
    if (refresh &&
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) == 0) {
        if (rp_cache_refresh_start(w->loop, pair[1], refresh, rlen, rhash,
                                   w->cfg->backend_timeout))
            rp_conn_open_internal(w, pair[0], &c->peer, c->listener,
                                  c->https);
        else
            close(pair[0]);
        refresh = NULL; /* taken either way */
    }
    free(refresh);
    rp_conn_respond_written(c, body, body_len);
}

/* Ends the exchange with an error response (plus `extra` header lines), or
 * by closing the client if part of the response was sent already. */
static void proxy_fail_with(struct rp_conn *c, int status, const char *extra)
{
    if (c->x->px.l4) {
        /* Layer 4 has no way to say why: the client's connection closes. */
        rp_conn_close(c);
        return;
    }
    struct rp_proxy_state *px = &c->x->px;
    /* No server answered: a stale stored response may (stale-if-error). */
    if (status >= 500 && !px->resp_started && rp_cache_on_error(px->steps.cache, ev_now(c->w->loop))) {
        if (px->up) {
            rp_upstream_close(px->up);
            px->up = NULL;
        }
        proxy_serve_stored(c);
        return;
    }
    if (px->queued)
        queue_remove(c);
    if (px->up) {
        rp_upstream_close(px->up);
        px->up = NULL;
    }
    release_buffers(c);
    c->state = RP_CONN_RESPONDING;
    attempt_end(c);
    if (px->resp_started) {
        rp_conn_close(c);
        return;
    }
    /* What remains of the request body is unread, so the connection cannot
     * be reused. */
    if (!px->req_body.done) {
        c->keep_alive = false;
        c->linger = true;
    }
    if (c->out)
        c->out->start = c->out->end = 0;
    c->client_blocked = false;
    rp_conn_respond_error_with(c, status, extra, extra ? strlen(extra) : 0);
}

static void proxy_fail(struct rp_conn *c, int status)
{
    proxy_fail_with(c, status, NULL);
}

/* No server can take the request at all: 503, and a hint when to come back
 * (the soonest a passive ejection or a health check could change that). */
static void proxy_fail_unavailable(struct rp_conn *c)
{
    const struct rp_backend_def *be = backend_of(c);
    unsigned after = be->health.kind != RP_HEALTH_NONE
                         ? (be->health.interval_ms * be->health.rise + 999) / 1000
                         : ((be->eject_ms ? be->eject_ms : RP_EJECT_MS) + 999) / 1000;
    char extra[48];
    snprintf(extra, sizeof extra, "Retry-After: %u\r\n", after ? after : 1);
    if (warn_allowed(c))
        rp_warn("backend %s: no server available", be->name);
    proxy_fail_with(c, 503, extra);
}

/* ---- starting and retrying attempts ------------------------------------------------- */

static void proxy_connect(struct rp_conn *c, uint32_t server, bool fresh, bool probe);
static void proxy_dispatch(struct rp_conn *c, uint64_t exclude, bool fresh);

/* May the request go to another server after failing with `why`
 * (RP_RETRY_*)? Only when the policy allows that condition, attempts are
 * left and nothing reached the client. A request that never left (`unsent`:
 * the connect failed) may always go again; one that was sent only when its
 * method is idempotent and it had no body (which could not be replayed).
 * Retries that add load to a server that did work (timeouts, 5xx) come out
 * of the backend's budget, earned at one per ten requests plus a small
 * reserve, so an overload is not multiplied; a refused connect or a broken
 * connection cost the server nothing and are not rationed. */
static bool can_retry(struct rp_conn *c, uint32_t why, bool unsent)
{
    struct rp_proxy_state *px = &c->x->px;
    const struct rp_backend_def *be = backend_of(c);
    struct rp_proxy_backend_rt *rt = &c->w->backends[px->backend].proxy;
    if (!(be->retry_on & why) || px->attempts > be->retries || px->resp_started)
        return false;
    if (!unsent && (!c->idempotent || px->req_body.kind != RP_HTTP1_BODY_NONE))
        return false;
    if (unsent || why == RP_RETRY_RESET)
        return true;
    if (rt->retry_tokens < 1.0)
        return false;
    rt->retry_tokens -= 1.0;
    return true;
}

/* Drops the attempt in progress and sends the request again, to another
 * server if one can take it. `counted`: the attempt used one of the
 * request's retries (a failed probe does not: it was the proxy's gamble). */
static void proxy_retry(struct rp_conn *c, bool counted)
{
    struct rp_proxy_state *px = &c->x->px;
    if (px->up) {
        rp_upstream_close(px->up);
        px->up = NULL;
    }
    attempt_end(c);
    if (counted)
        px->attempts++;
    proxy_dispatch(c, px->tried, true);
}

/* errno values that say this process ran short (descriptors, memory, local
 * ports), not that the server failed. */
static bool local_shortage(int err)
{
    return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM ||
           err == EADDRNOTAVAIL;
}

/* A connect failed (`err`; ETIMEDOUT for our own timeout): nothing was
 * sent, so the request may go again whatever its method. */
/* A connection to a server could not be made: `err` (errno), `why` the
 * reason to log (NULL: err's). */
static void proxy_connect_failed_why(struct rp_conn *c, int err, const char *why)
{
    struct rp_proxy_state *px = &c->x->px;
    const struct rp_backend_def *be = backend_of(c);
    const struct rp_server_def *sd = &be->servers[px->server];
    if (!why)
        why = err == ETIMEDOUT ? "connect timed out" : strerror(err);
    if (local_shortage(err)) {
        /* Not the server's fault: no health verdict (a probe is given up
         * by attempt_end, through proxy_fail), and no retry that would only
         * meet the same shortage. */
        if (warn_allowed(c))
            rp_warn("backend %s: cannot connect to %s: %s", be->name, sd->name, why);
        proxy_fail(c, 503);
        return;
    }
    if (!px->probe && warn_allowed(c))
        rp_warn("server %s/%s (%s:%u): %s", be->name, sd->name, sd->host, sd->port, why);
    if (px->probe) {
        probe_verdict(c, false, why);
        proxy_retry(c, false);
        return;
    }
    server_failed(c, why);
    uint32_t cond = err == ETIMEDOUT ? RP_RETRY_CONNECT_ERROR | RP_RETRY_TIMEOUT
                                     : RP_RETRY_CONNECT_ERROR;
    if (can_retry(c, cond, true)) {
        proxy_retry(c, true);
        return;
    }
    proxy_fail(c, err == ETIMEDOUT ? 504 : 502);
}

static void proxy_connect_failed(struct rp_conn *c, int err)
{
    proxy_connect_failed_why(c, err, NULL);
}

/* A server connection failed (refused, reset, closed early, `err` 0 for a
 * close). A request that went out on a pooled connection may have met a
 * close the pool had not seen yet: it is replayed once on a fresh
 * connection to the same server if that is safe. Otherwise the failure
 * counts against the server, and the policy's retries may move on. */
static void proxy_upstream_failed(struct rp_conn *c, int err)
{
    struct rp_proxy_state *px = &c->x->px;
    struct rp_upstream *up = px->up;
    if (up->connecting) {
        proxy_connect_failed(c, err ? err : ECONNREFUSED);
        return;
    }
    bool nothing_received = !px->resp_head_parsed && (!up->in || rp_buf_len(up->in) == 0);
    if (nothing_received && up->reused && !px->retried && c->idempotent &&
        px->req_body.kind == RP_HTTP1_BODY_NONE) {
        px->retried = true;
        rp_upstream_close(up);
        px->up = NULL;
        attempt_end(c);
        proxy_connect(c, px->server, true, false);
        return;
    }
    const struct rp_backend_def *be = backend_of(c);
    const struct rp_server_def *def = &be->servers[px->server];
    const char *why = err ? strerror(err) : "connection closed before a response";
    if (warn_allowed(c))
        rp_warn("server %s/%s (%s:%u): %s", be->name, def->name, def->host, def->port, why);
    server_failed(c, why);
    if (nothing_received && can_retry(c, RP_RETRY_RESET, false)) {
        proxy_retry(c, true);
        return;
    }
    proxy_fail(c, 502);
}

/* Starts an attempt on `server`: a pooled connection unless `fresh`; a
 * `probe` (always fresh) tells health.h whether the server is back. */
/* The PROXY header a server with `proxy_protocol v1|v2` reads first on a
 * new connection: the client's address and the one it connected to. */
static void proxy_header_for(struct rp_conn *c, int version)
{
    struct rp_proxy_state *px = &c->x->px;
    px->pp_len = (uint16_t)rp_proxy_header_write(px->pp, sizeof px->pp, version, &c->peer,
                                                 conn_local(c));
}

static void proxy_connect(struct rp_conn *c, uint32_t server, bool fresh, bool probe)
{
    struct rp_proxy_state *px = &c->x->px;
    struct rp_worker *w = c->w;
    /* A PROXY header names one client: such a server's connections are not
     * shared (pooled) between clients. */
    uint8_t pp = backend_of(c)->servers[server].proxy_protocol;
    fresh |= pp != 0 || px->l4; /* a byte stream never goes on a pooled connection */
    px->pp_len = px->pp_sent = 0;
    px->up_shut = false;
    attempt_begin(c, server, probe);
    px->up_head->start = 0;
    px->up_blocked = false;
    px->up_eof = false;
    px->up = fresh || probe ? rp_upstream_connect(w, px->backend, server, c, up_io_cb)
                           : rp_upstream_get(w, px->backend, server, c, up_io_cb);
    if (!px->up) {
        proxy_connect_failed(c, errno);
        return;
    }
    if (pp)
        proxy_header_for(c, pp);
    if (!px->up->connecting)
        attempt_connected(c);
    proxy_arm_timer(c);
    if (!px->up->connecting)
        proxy_send_request(c);
    proxy_watch(c);
}

/* The server for the request's next attempt (*probe: it probes an ejected
 * one), RP_PICK_FULL or RP_PICK_NONE. Servers in `exclude` (tried already)
 * are avoided while others can take it; with `when_down panic`, a backend
 * with no usable server spreads over all of them. */
static inline uint32_t choose_server(struct rp_conn *c, uint64_t exclude, bool *probe)
{
    struct rp_proxy_state *px = &c->x->px;
    struct rp_worker *w = c->w;
    uint32_t s = rp_balance_pick(w, px->backend, px->hash, exclude, 0, probe);
    if (s < RP_PICK_FULL)
        return s; /* the common case: a server */
    if (exclude)
        s = rp_balance_pick(w, px->backend, px->hash, 0, 0, probe); /* the same server, then */
    if (s == RP_PICK_NONE && backend_of(c)->when_down == RP_WHEN_DOWN_PANIC) {
        s = rp_balance_pick(w, px->backend, px->hash, exclude, RP_PICK_F_PANIC, probe);
        if (exclude && s == RP_PICK_NONE)
            s = rp_balance_pick(w, px->backend, px->hash, 0, RP_PICK_F_PANIC, probe);
    }
    return s;
}

/* Puts the request in its backend's line: it waits for room under
 * max_conns or (`down`) for a server to come back, until its deadline. */
static void proxy_enqueue(struct rp_conn *c, bool down)
{
    struct rp_proxy_state *px = &c->x->px;
    struct rp_worker *w = c->w;
    struct rp_proxy_backend_rt *rt = &w->backends[px->backend].proxy;
    /* Every server down is an error a stale stored answer may cover. */
    if (down && rp_cache_on_error(px->steps.cache, ev_now(w->loop))) {
        proxy_serve_stored(c);
        return;
    }
    if (rt->queued >= RP_QUEUE_MAX) {
        if (warn_allowed(c))
            rp_warn("backend %s: queue full (%u waiting)", backend_of(c)->name, rt->queued);
        if (down)
            proxy_fail_unavailable(c);
        else
            proxy_fail(c, 503);
        return;
    }
    px->queued = true;
    px->queued_down = down;
    px->queue_next = NULL;
    if (!rt->queue)
        rt->queue_tail = &rt->queue;
    *rt->queue_tail = c;
    rt->queue_tail = &px->queue_next;
    rt->queued++;
    /* One deadline per request, however often it comes back to the line. */
    ev_tstamp now = ev_now(w->loop);
    if (px->queue_deadline == 0) {
        uint32_t ms = backend_of(c)->queue_timeout_ms;
        px->queue_deadline = now + (ms ? ms / 1000.0 : RP_QUEUE_TIMEOUT_DEFAULT);
    }
    double left = px->queue_deadline - now;
    rp_conn_set_timer(c, left > 0.001 ? left : 0.001);
    if (!ev_is_active(&w->queue_timer))
        ev_timer_again(w->loop, &w->queue_timer);
    proxy_watch(c);
}

/* Picks a server and starts, queues, or answers 503. */
static void proxy_dispatch(struct rp_conn *c, uint64_t exclude, bool fresh)
{
    bool probe;
    uint32_t s = choose_server(c, exclude, &probe);
    if (s == RP_PICK_NONE && backend_of(c)->when_down != RP_WHEN_DOWN_QUEUE) {
        proxy_fail_unavailable(c);
        return;
    }
    if (s == RP_PICK_NONE || s == RP_PICK_FULL) {
        proxy_enqueue(c, s == RP_PICK_NONE);
        return;
    }
    proxy_connect(c, s, fresh, probe);
}

/* Gives freed room, or a server back from an outage, to queued requests in
 * arrival order. */
static void dispatch_queue(struct rp_worker *w, uint32_t backend)
{
    struct rp_proxy_backend_rt *rt = &w->backends[backend].proxy;
    bool fail_when_down = w->prog->backends[backend].when_down != RP_WHEN_DOWN_QUEUE;
    while (rt->queue) {
        struct rp_conn *c = rt->queue;
        bool probe;
        uint32_t s = choose_server(c, 0, &probe);
        if (s == RP_PICK_FULL || (s == RP_PICK_NONE && !fail_when_down))
            return;
        queue_remove(c);
        if (s == RP_PICK_NONE)
            proxy_fail_unavailable(c);
        else
            proxy_connect(c, s, probe, probe);
    }
}

void rp_proxy_queue_poll(struct rp_worker *w)
{
    /* Room freed by other workers, and the end of an ejection, are not
     * announced here: look regularly while anything waits. */
    bool waiting = false;
    for (uint32_t b = 0; b < w->prog->n_backends; b++) {
        if (w->backends[b].proxy.queued)
            dispatch_queue(w, b);
        waiting |= w->backends[b].proxy.queued != 0;
    }
    if (!waiting)
        ev_timer_stop(w->loop, &w->queue_timer);
}

/* ---- request: client -> server ----------------------------------------------------------- */

/* Methods RFC 9110 9.2.2 calls idempotent: a request with one may be sent
 * again when the first attempt failed before an answer. */
static bool idempotent_method(const struct rp_http1_request *r)
{
    const char *m = r->method;
    switch (r->method_len) {
    case 3: return memcmp(m, "GET", 3) == 0 || memcmp(m, "PUT", 3) == 0;
    case 4: return memcmp(m, "HEAD", 4) == 0;
    case 5: return memcmp(m, "TRACE", 5) == 0;
    case 6: return memcmp(m, "DELETE", 6) == 0;
    case 7: return memcmp(m, "OPTIONS", 7) == 0;
    default: return false;
    }
}

/* The request's balancing key for `balance hash(...)`. */
static uint64_t request_hash(struct rp_conn *c, const struct rp_backend_def *be)
{
    const struct rp_http1_request *req = &c->x->req;
    const char *v = NULL;
    uint32_t n = 0;
    struct rp_request_view view = {.query = req->query, .query_len = req->query_len,
                                   .headers = req->headers, .n_headers = req->n_headers};
    switch (be->hash_key) {
    case RP_HASH_CLIENT_IP: /* the client as the policy sees it (forward.h) */
        v = (const char *)c->x->client_ip;
        n = 16;
        break;
    case RP_HASH_PATH: v = req->path; n = req->path_len; break;
    case RP_HASH_HOST: v = c->x->host_lc; n = (uint32_t)strlen(c->x->host_lc); break;
    case RP_HASH_HEADER:
        rp_req_header(&view, be->hash_name, strlen(be->hash_name), &v, &n);
        break;
    case RP_HASH_COOKIE:
        rp_req_cookie(&view, be->hash_name, strlen(be->hash_name), &v, &n);
        break;
    case RP_HASH_QUERY:
        rp_req_query(&view, be->hash_name, strlen(be->hash_name), &v, &n);
        break;
    case RP_HASH_NONE: break;
    }
    return v ? rp_hash64(v, n, 0) : 0;
}

/* The exchange's proxy state, fresh for an exchange with `backend`. */
static void proxy_state_reset(struct rp_conn *c, uint32_t backend)
{
    struct rp_proxy_state *px = &c->x->px;
    c->state = RP_CONN_PROXYING;
    c->handler = &proxy_handler;
    px->backend = backend;
    /* pooled exchanges are not zeroed: an answer from the cache ends the
     * exchange before a server connection or request head is had */
    px->up = NULL;
    px->up_head = NULL;
    px->l4 = false;
    px->tunneling = false;
    px->up_shut = false;
    px->retried = px->resp_started = px->resp_head_parsed = false;
    px->up_blocked = c->client_blocked = px->up_eof = false;
    px->up_keep_alive = false;
    px->counted = px->queued = px->probe = false;
    px->queue_deadline = 0;
    px->deadline = 0;
    px->attempts = 1;
    px->tried = 0;
    px->resp_ready = 0;
    px->resp_stalled = false;
    px->filters = NULL;
    px->steps.steps = NULL;
    memset(&px->resp_body, 0, sizeof px->resp_body);
    memset(&px->req_body, 0, sizeof px->req_body);
}

/* The exchange's buffers: the server's request head, and the client's
 * head (emptied). False after failing the exchange (no memory). */
static bool proxy_get_buffers(struct rp_conn *c)
{
    struct rp_buf_pool *pool = &c->w->bufs;
    if (!(c->x->px.up_head = rp_buf_get(pool)) || !(c->out || (c->out = rp_buf_get(pool)))) {
        proxy_fail(c, 503);
        return false;
    }
    c->out->start = c->out->end = 0;
    return true;
}

void rp_proxy_start_tcp(struct rp_conn *c, uint32_t backend)
{
    struct rp_proxy_state *px = &c->x->px;
    proxy_state_reset(c, backend);
    /* Layer 4: no heads either way; the client's bytes and the server's are
     * streams that end when their sender closes. */
    px->l4 = true;
    px->tunneling = true;
    c->idempotent = false;
    c->keep_alive = false;
    px->req_body.kind = RP_HTTP1_BODY_CLOSE;
    px->resp_body.kind = RP_HTTP1_BODY_CLOSE;
    px->resp_head_parsed = true;
    px->req_ready = c->in ? rp_buf_len(c->in) : 0;
    px->req_seen = 0;
    px->upgrade = false;
    px->hash = 0;
    const struct rp_backend_def *be = backend_of(c);
    if (be->balance == RP_BALANCE_HASH && be->hash_key == RP_HASH_CLIENT_IP)
        px->hash = rp_hash64(c->x->client_ip, 16, 0);
    if (!proxy_get_buffers(c))
        return;
    proxy_dispatch(c, 0, true);
}

/* ---- waiting for another request's fetch (cache.h RP_CACHE_WAIT) -------------------------- */

/* How often a waiting request looks again: soon at first (the fetch may be
 * nearly done), then less often. */
#define CACHE_WAIT_FIRST 0.001
#define CACHE_WAIT_MAX 0.05

static void cache_wait_timeout(struct rp_conn *c)
{
    rp_proxy_start(c, c->x->px.backend, c->x->px.cache_head_len);
}

static void cache_wait_nothing(struct rp_conn *c)
{
    (void)c; /* the request head stays unread until the wait ends */
}

static const struct rp_exchange_handler cache_wait_handler = {
    .name = "cache wait",
    .readable = cache_wait_nothing,
    .writable = cache_wait_nothing,
    .timeout = cache_wait_timeout,
    .abort = cache_wait_nothing,
};

/* The request waits, its head unread, and starts again shortly: by then
 * the fetch it waits for has stored the response, or it goes itself (the
 * wait is bounded by the backend's timeout). */
static void proxy_cache_wait(struct rp_conn *c, uint32_t backend, uint32_t head_len)
{
    struct rp_proxy_state *px = &c->x->px;
    double now = ev_now(c->w->loop);
    double waited = 0;
    if (px->cache_wait_until == 0)
        px->cache_wait_until = now + c->w->cfg->backend_timeout;
    else
        waited = now - (px->cache_wait_until - c->w->cfg->backend_timeout);
    px->backend = backend;
    px->cache_head_len = head_len;
    c->handler = &cache_wait_handler;
    rp_conn_want(c, 0);
    double next = waited < CACHE_WAIT_FIRST ? CACHE_WAIT_FIRST : waited / 4;
    rp_conn_set_timer(c, next > CACHE_WAIT_MAX ? CACHE_WAIT_MAX : next);
}

void rp_proxy_start(struct rp_conn *c, uint32_t backend, uint32_t head_len)
{
    struct rp_proxy_state *px = &c->x->px;
    struct rp_worker *w = c->w;
    const struct rp_http1_request *req = &c->x->req;
    proxy_state_reset(c, backend);
    c->idempotent = idempotent_method(req);
    px->deadline = w->backends[backend].h2 ? grpc_deadline(req, ev_now(w->loop)) : 0;
    /* The request head phase of the route's steps, while the head is there. */
    uint32_t route = c->x->decision.route;
    struct rp_head_edit req_edit, *req_editp = NULL;
    if (route < w->prog->n_routes && w->prog->routes[route].steps) {
        struct rp_request_view view;
        struct rp_value_ctx vc;
        value_ctx(c, &view, &vc);
        rp_head_edit_init(&req_edit);
        req_editp = &req_edit;
        struct rp_request_ctx rc = {.vc = &vc, .path = &c->x->path,
                                    .path_rewritten = &c->x->path_rewritten, .pool = &w->bufs,
                                    .backend_headers = w->prog->backends[backend].headers,
                                    .now = ev_now(w->loop),
                                    .cache_may_wait = c->x->px.cache_wait_until == 0 ||
                                                      ev_now(w->loop) < c->x->px.cache_wait_until};
        rp_steps_request(&px->steps, w->prog->routes[route].steps, req, &rc, &req_edit);
        switch (rp_cache_answer_of(px->steps.cache)) {
        case RP_CACHE_SERVE:
            /* a GET or HEAD without a body: nothing of the request is left */
            c->in->start += head_len;
            px->req_body.done = true;
            proxy_serve_stored(c);
            return;
        case RP_CACHE_ONLY_CACHED:
            c->in->start += head_len;
            px->req_body.done = true;
            proxy_fail(c, 504);
            return;
        case RP_CACHE_WAIT:
            proxy_cache_wait(c, backend, head_len);
            return;
        default:
            break;
        }
    }
    if (c->x->strip_authorization) {
        /* the proxy took the credentials (auth basic, auth jwt): they stay */
        if (!req_editp) {
            rp_head_edit_init(&req_edit);
            req_editp = &req_edit;
        }
        rp_head_edit_drop_n(req_editp, "authorization", 13);
    }
    const struct rp_auth_request_def *ar = c->x->auth_request;
    if (ar) {
        /* `auth request`'s fields: the authentication server's, never the
         * client's own of those names */
        if (!req_editp) {
            rp_head_edit_init(&req_edit);
            req_editp = &req_edit;
        }
        for (uint32_t i = 0; i < ar->n_copy; i++)
            rp_head_edit_drop_n(req_editp, ar->copy[i], strlen(ar->copy[i]));
        if (req_editp->extra_len + c->x->auth_fields_len <= sizeof req_editp->extra) {
            memcpy(req_editp->extra + req_editp->extra_len, c->x->auth_fields,
                   c->x->auth_fields_len);
            req_editp->extra_len += c->x->auth_fields_len;
        }
    }
    px->req_body.kind = req->body;
    px->req_body.left = req->content_length;
    px->req_body.done = req->body == RP_HTTP1_BODY_NONE;
    /* An Upgrade (WebSocket) handshake is passed on only on a route that
     * allows tunnels; elsewhere Upgrade is dropped as hop-by-hop. */
    px->upgrade = c->x->decision.tunnel && !c->client_http10 &&
                 (req->flags & RP_HTTP1_F_CONN_UPGRADE) && (req->flags & RP_HTTP1_F_HAS_UPGRADE) &&
                 req->body == RP_HTTP1_BODY_NONE;
    const struct rp_backend_def *be = backend_of(c);
    px->hash = be->balance == RP_BALANCE_HASH ? request_hash(c, be) : 0;
    /* Every request earns a tenth of a retry, up to a reserve. */
    struct rp_proxy_backend_rt *rt = &w->backends[backend].proxy;
    if (rt->retry_tokens < RP_RETRY_RESERVE)
        rt->retry_tokens += 0.1;

    if (!proxy_get_buffers(c))
        return;
    if (build_request_head(c, req_editp) < 0) {
        c->in->start += head_len;
        proxy_fail(c, 431);
        return;
    }
    bool expect_continue = (req->flags & RP_HTTP1_F_EXPECT_CONTINUE) && !c->client_http10 &&
                           req->body != RP_HTTP1_BODY_NONE;
    /* The head is rebuilt: req's slices are not used past this point. */
    c->in->start += head_len;
    ssize_t n = rp_body_advance(&px->req_body, c->in, 0);
    if (n < 0) {
        proxy_fail(c, 400);
        return;
    }
    px->req_ready = (uint32_t)n;
    px->req_seen = (uint64_t)n;
    uint64_t max_body = c->x->max_body ? c->x->max_body : w->cfg->max_body;
    if (max_body && ((req->body == RP_HTTP1_BODY_LENGTH && req->content_length > max_body) ||
                     px->req_seen > max_body)) {
        proxy_fail(c, 413);
        return;
    }
    /* The client waits for our go-ahead before sending its body; the proxy
     * gives it, since it will read the body whatever the server says. */
    if (expect_continue && px->req_ready == 0) {
        RP_BUF_ADD_LIT(c->out, "HTTP/1.1 100 Continue\r\n\r\n");
        proxy_send_response(c);
        if (c->state != RP_CONN_PROXYING)
            return;
    }
    proxy_dispatch(c, 0, false);
}

/* Sends what is ready of the request (head, then body bytes) to the server. */
static void proxy_send_request(struct rp_conn *c)
{
    struct rp_proxy_state *px = &c->x->px;
    struct iovec iov[3];
    int n = 0;
    uint32_t pp_left = (uint32_t)(px->pp_len - px->pp_sent);
    if (pp_left)
        iov[n++] = (struct iovec){px->pp + px->pp_sent, pp_left};
    uint32_t head_left = rp_buf_len(px->up_head);
    if (head_left)
        iov[n++] = (struct iovec){px->up_head->data + px->up_head->start, head_left};
    if (px->req_ready)
        iov[n++] = (struct iovec){c->in->data + c->in->start, px->req_ready};
    if (n == 0) {
        px->up_blocked = false;
        return;
    }
    ssize_t wr = rp_transport_writev(&px->up->tr, iov, n);
    if (wr < 0) {
        if (errno == EAGAIN) {
            px->up_blocked = true;
            return;
        }
        proxy_upstream_failed(c, errno);
        return;
    }
    size_t pp = (size_t)wr < pp_left ? (size_t)wr : pp_left;
    px->pp_sent += (uint16_t)pp;
    wr -= (ssize_t)pp;
    size_t k = (size_t)wr < head_left ? (size_t)wr : head_left;
    px->up_head->start += (uint32_t)k;
    size_t body = (size_t)wr - k;
    c->in->start += (uint32_t)body;
    px->req_ready -= (uint32_t)body;
    if (rp_buf_len(c->in) == 0)
        c->in->start = c->in->end = 0; /* the next read gets the whole buffer */
    px->up_blocked = pp < pp_left || (size_t)wr < head_left + px->req_ready + body;
    if (wr > 0 || pp > 0)
        proxy_arm_timer(c);
    /* Only streams (tunnels, layer 4) half-close: HTTP exchanges skip the call. */
    if (!px->up_blocked && px->req_body.kind == RP_HTTP1_BODY_CLOSE && px->req_body.done)
        proxy_shut_upstream_when_sent(c);
}

/* After a stream's client closed its side (see proxy_client_readable) and
 * all it sent is with the server: shut the server's side too, once. */
static void proxy_shut_upstream_when_sent(struct rp_conn *c)
{
    struct rp_proxy_state *px = &c->x->px;
    if (px->up_shut || !px->req_body.done || px->req_body.kind != RP_HTTP1_BODY_CLOSE ||
        !px->up || px->up->connecting || px->req_ready || rp_buf_len(px->up_head) ||
        px->pp_sent < px->pp_len)
        return;
    px->up_shut = true;
    (void)rp_transport_shutdown(&px->up->tr);
}

static void proxy_client_readable(struct rp_conn *c)
{
    struct rp_proxy_state *px = &c->x->px;
    if (px->req_body.done) {
        /* Pipelined bytes wait until the response is complete; rp_conn_read
         * stops at a full buffer. A client that shuts its side after a
         * complete request (end of stream: rp_conn_read sets client_eof,
         * and reading stops) still waits for its answer, as HAProxy and the
         * RFC (9112 9.6) have it; only an error (a reset) means it is gone,
         * and then the exchange ends with the server connection. */
        ssize_t n = rp_conn_read(c);
        if (n == -2) {
            rp_conn_close(c);
            return;
        }
        proxy_watch(c);
        return;
    }
    for (int i = 0; i < RP_READS_PER_EVENT && c->state == RP_CONN_PROXYING; i++) {
        ssize_t n = rp_conn_read(c);
        if (n == 0 && px->req_body.kind == RP_HTTP1_BODY_CLOSE) {
            /* A tunnel's or a layer 4 stream's client closed its side: what
             * it sent still goes on, then the server's side is shut, and
             * the server's answer still comes back (a half-close). */
            px->req_body.done = true;
            proxy_shut_upstream_when_sent(c);
            break;
        }
        if (n == -2 || n == 0) {
            /* The client went away in the middle of its body. */
            rp_conn_close(c);
            return;
        }
        if (n < 0)
            break;
        bool filled = c->in->end == RP_BUF_SIZE;
        /* rp_conn_read may have compacted; new bytes follow the old ones. */
        ssize_t body = rp_body_advance(&px->req_body, c->in, px->req_ready);
        if (body < 0) {
            proxy_fail(c, 400);
            return;
        }
        px->req_ready += (uint32_t)body;
        px->req_seen += (uint64_t)body;
        /* A chunked body has no length up front: it is counted as it comes. */
        uint64_t max_body = c->x->max_body ? c->x->max_body : c->w->cfg->max_body;
        if (max_body && px->req_seen > max_body) {
            proxy_fail(c, 413);
            return;
        }
        proxy_arm_timer(c);
        if (!px->up || px->up->connecting || px->up_blocked)
            break;
        proxy_send_request(c);
        /* A read that filled the buffer says more is waiting (see
         * RP_READS_PER_EVENT); go on while the server takes it all. */
        if (c->state != RP_CONN_PROXYING || px->up_blocked || px->req_body.done || !filled)
            break;
    }
    proxy_watch(c);
}

/* ---- response: server -> client --------------------------------------------------------------- */

/* The server agreed to switch protocols (101): relay its head with the
 * Upgrade field, then bytes both ways until either side closes. Both
 * directions become "until close" streams; neither connection is reused. */
static int proxy_switch_protocols(struct rp_conn *c, const struct rp_http1_response *resp)
{
    struct rp_proxy_state *px = &c->x->px;
    struct rp_buf *b = c->out;
    char line[64];
    int n = snprintf(line, sizeof line, "HTTP/1.1 101 %.*s\r\n", (int)resp->reason_len,
                     resp->reason_len ? resp->reason : "Switching Protocols");
    int rc = add(b, line, (size_t)n);
    rc |= add_fields(b, resp->headers, resp->n_headers, resp->content_length, F_NO_LENGTH, NULL, 0);
    rc |= add_named(b, resp->headers, resp->n_headers, "upgrade", 7);
    rc |= RP_BUF_ADD_LIT(b, "Connection: upgrade\r\n");
    rc |= add(b, c->w->proc->via_end11, c->w->proc->via_end11_len);
    c->x->rec.status = 101;
    if (rc) {
        proxy_fail(c, 502);
        return -1;
    }
    rp_health_succeeded(c->w->proc, px->backend, px->server);
    c->keep_alive = false;
    px->up_keep_alive = false;
    px->resp_head_parsed = true;
    px->resp_body.kind = RP_HTTP1_BODY_CLOSE;
    px->resp_body.done = false;
    /* Whatever the client sends from now on is tunnel data. */
    px->req_body.kind = RP_HTTP1_BODY_CLOSE;
    px->req_body.done = false;
    px->req_ready = c->in ? rp_buf_len(c->in) : 0;
    px->tunneling = true;
    return 1;
}

/* Parses response heads in up->in: relays 1xx interim responses, and on the
 * final head prepares the client's head in c->out. Returns 1 when the final
 * head is parsed, 0 when more bytes are needed, -1 after failing the
 * exchange. */
static int proxy_parse_response(struct rp_conn *c)
{
    struct rp_proxy_state *px = &c->x->px;
    struct rp_upstream *up = px->up;
    struct rp_http1_response resp;
    if (!c->x->rec.t_first_byte)
        c->x->rec.t_first_byte = ev_now(c->w->loop);
    for (;;) {
        int r = rp_http1_parse_response(up->in->data + up->in->start, rp_buf_len(up->in),
                                        &c->w->cfg->resp_limits, c->head_request, &resp);
        if (r == RP_HTTP1_INCOMPLETE) {
            if (rp_buf_len(up->in) < RP_BUF_SIZE) {
                rp_buf_compact(up->in);
                return 0;
            }
            r = RP_HTTP1_E502;
        }
        if (r < 0) {
            const struct rp_server_def *s = &c->w->prog->backends[px->backend].servers[px->server];
            if (warn_allowed(c))
                rp_warn("server %s/%s sent a malformed response head",
                        c->w->prog->backends[px->backend].name, s->name);
            proxy_fail(c, 502);
            return -1;
        }
        if (resp.status >= 100 && resp.status < 200) {
            up->in->start += (uint32_t)r;
            if (resp.status == 101) {
                if (!px->upgrade) {
                    /* Upgrade was not forwarded: a switch was never asked for. */
                    proxy_fail(c, 502);
                    return -1;
                }
                return proxy_switch_protocols(c, &resp);
            }
            if (!c->client_http10 && build_response_head(c, &resp, false, NULL) < 0) {
                proxy_fail(c, 502);
                return -1;
            }
            continue;
        }
        if (resp.status == 500 || (resp.status >= 502 && resp.status <= 504)) {
            server_failed(c, rp_reason(resp.status));
            uint32_t why = resp.status == 502   ? RP_RETRY_502
                           : resp.status == 503 ? RP_RETRY_503
                           : resp.status == 504 ? RP_RETRY_504
                                                : 0;
            if (why && can_retry(c, why, false)) {
                /* Not relayed: the request goes to another server. */
                if (c->out)
                    c->out->start = c->out->end = 0;
                proxy_retry(c, true);
                return -1;
            }
        } else {
            rp_health_succeeded(c->w->proc, px->backend, px->server);
        }
        /* `intercept`: the server's own error page (a stack trace, its name)
         * is not relayed; the client gets the proxy's for the status. Its
         * body is not read, so the connection is not reused. */
        uint32_t icpt = backend_of(c)->intercept;
        if (icpt && ((resp.status >= 500 && resp.status <= 599 && (icpt & RP_INTERCEPT_5XX)) ||
                     (resp.status >= 400 && resp.status <= 499 && (icpt & RP_INTERCEPT_4XX)))) {
            proxy_fail(c, resp.status);
            return -1;
        }
        px->up_keep_alive = resp.minor_version == 1 ? !(resp.flags & RP_HTTP1_F_CONN_CLOSE)
                                                   : (resp.flags & RP_HTTP1_F_CONN_KEEPALIVE);
        if (c->w->stopping || resp.body == RP_HTTP1_BODY_CLOSE)
            c->keep_alive = false;
        px->resp_body.kind = resp.body;
        px->resp_body.left = resp.content_length;
        px->resp_body.done = resp.body == RP_HTTP1_BODY_NONE;
        struct rp_head_edit edit, *editp = NULL;
        if (px->steps.steps) {
            /* The response head phase: the route's steps edit the head and
             * may put the body through filters. */
            /* Only req.id is left of the request by now. */
            struct rp_value_ctx vc = {.request_id = request_id, .owner = c,
                                      .backend_name = backend_of(c)->name,
                                      .server_name = backend_of(c)->servers[px->server].name};
            struct rp_response_ctx ctx = {.head_request = c->head_request,
                                          .chunked_ok = !c->client_http10,
                                          .pool = &c->w->bufs, .vc = &vc,
                                          .backend_headers = backend_of(c)->headers,
                                          .now = ev_now(c->w->loop)};
            rp_head_edit_init(&edit);
            editp = &edit;
            if (rp_steps_response_head(&px->steps, &resp, &ctx, &edit, &px->filters) == 1) {
                /* the cache's stored response answers (revalidated, or
                 * stale for an error); this one's body is not read */
                up->in->start += (uint32_t)r;
                if (!px->resp_body.done)
                    px->up_eof = true; /* not reusable */
                proxy_serve_stored(c);
                return -1;
            }
            if (px->filters && c->client_http10)
                c->keep_alive = false; /* the filtered body ends with the connection */
        }
        if (build_response_head(c, &resp, true, editp) < 0) {
            proxy_fail(c, 502);
            return -1;
        }
        up->in->start += (uint32_t)r;
        px->resp_head_parsed = true;
        return 1;
    }
}

static bool proxy_recv_response_once(struct rp_conn *c);

static void proxy_recv_response(struct rp_conn *c)
{
    struct rp_proxy_state *px = &c->x->px;
    struct rp_upstream *up = px->up;
    for (int i = 0; i < RP_READS_PER_EVENT; i++) {
        if (!proxy_recv_response_once(c))
            return;
        /* Go on only while the exchange is still this one and moving. */
        if (c->state != RP_CONN_PROXYING || px->up != up || c->client_blocked ||
            px->resp_body.done)
            return;
    }
}

/* One read from the server and what follows from it. Returns true when the
 * read filled all the room there was (more is probably waiting). */
static bool proxy_recv_response_once(struct rp_conn *c)
{
    struct rp_proxy_state *px = &c->x->px;
    struct rp_worker *w = c->w;
    struct rp_upstream *up = px->up;
    if (!up->in && !(up->in = rp_buf_get(&w->bufs))) {
        proxy_fail(c, 502);
        return false;
    }
    if (rp_buf_room(up->in) == 0)
        rp_buf_compact(up->in);
    if (rp_buf_room(up->in) == 0)
        return false; /* waiting for the client to take what is there */
    uint32_t room = rp_buf_room(up->in);
    ssize_t n = rp_transport_read(&up->tr, up->in->data + up->in->end, room);
    if (n < 0) {
        if (errno != EAGAIN)
            proxy_upstream_failed(c, errno);
        return false;
    }
    if (n == 0) {
        px->up_eof = true;
        if (!px->resp_head_parsed) {
            proxy_upstream_failed(c, 0);
            return false;
        }
        if (px->resp_body.kind == RP_HTTP1_BODY_CLOSE) {
            px->resp_body.done = true;
        } else if (!px->resp_body.done) {
            /* Truncated: the client must see the connection close too. */
            c->keep_alive = false;
            if (px->resp_ready == 0) {
                rp_conn_close(c);
                return false;
            }
        }
        proxy_send_response(c);
        return false;
    }
    up->in->end += (uint32_t)n;
    rp_conn_set_timer(c, proxy_idle_timeout(c));
    if (!px->resp_head_parsed) {
        int r = proxy_parse_response(c);
        if (r <= 0) {
            if (r == 0 && rp_buf_len(c->out))
                proxy_send_response(c); /* a relayed 1xx */
            return false;
        }
    }
    px->resp_stalled = (uint32_t)n < room;
    ssize_t body = px->filters ? rp_body_decode(&px->resp_body, up->in, px->resp_ready)
                                 : rp_body_advance(&px->resp_body, up->in, px->resp_ready);
    if (body < 0) {
        if (warn_allowed(c))
            rp_warn("server %s/%s sent a malformed chunked body",
                    w->prog->backends[px->backend].name,
                    w->prog->backends[px->backend].servers[px->server].name);
        px->up_eof = true; /* not reusable */
        if (!px->resp_started) {
            /* The client saw nothing of it: it gets a clean 502 and keeps
             * its connection. */
            proxy_fail(c, 502);
            return false;
        }
        c->keep_alive = false;
        body = 0;
    }
    px->resp_ready += (uint32_t)body;
    if (px->resp_body.done && up->in->start + px->resp_ready < up->in->end)
        px->up_keep_alive = false; /* bytes after the response: not ours to guess */
    proxy_send_response(c);
    return (uint32_t)n == room;
}

static void proxy_send_filtered(struct rp_conn *c);

/* Writes the client's head and the ready response body bytes. */
static void proxy_send_response(struct rp_conn *c)
{
    struct rp_proxy_state *px = &c->x->px;
    if (px->filters) {
        proxy_send_filtered(c);
        return;
    }
    uint32_t head_before = c->out ? rp_buf_len(c->out) : 0;
    /* The whole rest of the response is here, and the client closes after
     * it (no tunnel may follow): these are the connection's last bytes. */
    bool end = !c->keep_alive && px->resp_head_parsed && px->resp_body.done && px->up &&
               !px->upgrade;
    ssize_t body = rp_conn_send(c, px->resp_ready ? px->up->in->data + px->up->in->start : NULL,
                                px->resp_ready, end);
    if (body < 0)
        return;
    if (body) {
        px->up->in->start += (uint32_t)body;
        px->resp_ready -= (uint32_t)body;
    }
    uint32_t head_after = c->out ? rp_buf_len(c->out) : 0;
    if (px->resp_head_parsed && (body || head_after < head_before))
        px->resp_started = true;
    c->client_blocked = head_after || px->resp_ready;
    if (c->client_blocked || !px->up)
        return; /* blocked, or only a 100 Continue went out: no server yet */
    if (px->up->in && rp_buf_len(px->up->in) == 0)
        px->up->in->start = px->up->in->end = 0;
    if (px->resp_head_parsed && px->resp_body.done && px->resp_ready == 0)
        proxy_finish(c);
    else if (px->up_eof && px->resp_ready == 0 && !px->resp_body.done)
        rp_conn_close(c); /* truncated response relayed as far as it went */
}

/* proxy_send_response for a body that goes through filters: the decoded
 * bytes ready in the server's buffer go through the chain into c->out, in
 * turns, each written before the next is made. */
static void proxy_send_filtered(struct rp_conn *c)
{
    struct rp_proxy_state *px = &c->x->px;
    struct rp_upstream *up = px->up;
    struct rp_body_filters *f = px->filters;
    for (;;) {
        uint32_t before = rp_buf_len(c->out);
        if (rp_conn_send(c, NULL, 0, false) < 0)
            return;
        if (rp_buf_len(c->out) < before)
            px->resp_started = true;
        if (rp_buf_len(c->out)) {
            c->client_blocked = true;
            return;
        }
        c->client_blocked = false;
        if (f->finished)
            break;
        /* The server's end of the body ends the filters' input; a server
         * that paused gets what it sent so far to the client (a stream of
         * events must not sit in a compressor). */
        enum rp_filter_mode mode = px->resp_body.done ? RP_FILTER_FINISH
                                   : px->resp_stalled ? RP_FILTER_FLUSH
                                                        : RP_FILTER_MORE;
        ssize_t used = rp_filters_run(f, up->in->data + up->in->start, px->resp_ready, mode,
                                      c->out);
        if (used < 0) {
            if (warn_allowed(c))
                rp_warn("backend %s: a response body filter failed", backend_of(c)->name);
            px->up_eof = true; /* not reusable: the body was not all read */
            if (!px->resp_started)
                proxy_fail(c, 502);
            else
                rp_conn_close(c);
            return;
        }
        up->in->start += (uint32_t)used;
        px->resp_ready -= (uint32_t)used;
        if (rp_buf_len(c->out) == 0)
            break; /* the filters want more input */
    }
    if (rp_buf_len(up->in) == 0)
        up->in->start = up->in->end = 0;
    if (f->finished)
        proxy_finish(c);
    else if (px->up_eof && !px->resp_body.done)
        rp_conn_close(c); /* truncated: the client must not take it as whole */
}

static void proxy_client_writable(struct rp_conn *c)
{
    proxy_send_response(c);
    proxy_watch(c);
}

/* ---- events ------------------------------------------------------------------------------ */

static void up_io_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    (void)loop;
    struct rp_upstream *up = (struct rp_upstream *)io;
    struct rp_conn *c = up->owner;
    if (up->connecting) {
        if (up->tcp_connecting) {
            int err = rp_transport_connect_result(&up->tr);
            if (err) {
                proxy_upstream_failed(c, err);
                return;
            }
            up->tcp_connecting = false;
        }
        if (up->tr.tls) {
            int want;
            const char *why = "";
            int r = rp_tls_handshake(&up->tr, &want, &why);
            if (r < 0) {
                char what[160];
                snprintf(what, sizeof what, "TLS handshake failed: %s", why);
                proxy_connect_failed_why(c, EPROTO, what);
                return;
            }
            if (r == 0) {
                up->hs_want = want;
                proxy_watch(c);
                return;
            }
            up->hs_want = 0;
        }
        up->connecting = false;
        attempt_connected(c);
        proxy_arm_timer(c);
        proxy_send_request(c);
        proxy_watch(c);
        return;
    }
    /* One direction per event: sending may fail the connection and replace
     * it, after which this event says nothing about the new one. A pending
     * read is reported again on the next turn (epoll is level-triggered). */
    if (revents & EV_WRITE)
        proxy_send_request(c);
    else if (revents & EV_READ)
        proxy_recv_response(c);
    proxy_watch(c);
}

static void proxy_timeout(struct rp_conn *c)
{
    struct rp_proxy_state *px = &c->x->px;
    if (px->queued) {
        if (px->queued_down) {
            proxy_fail_unavailable(c);
            return;
        }
        if (warn_allowed(c))
            rp_warn("backend %s: no server had room within the queue timeout",
                    backend_of(c)->name);
        proxy_fail(c, 503);
        return;
    }
    bool waiting_for_client = !px->req_body.done && px->req_ready == 0 && px->up &&
                              !px->up->connecting && !px->up_blocked;
    if (waiting_for_client) {
        c->keep_alive = false;
        proxy_fail(c, 408);
        return;
    }
    if (px->up && px->up->connecting) {
        proxy_connect_failed(c, ETIMEDOUT);
        return;
    }
    if (px->up) {
        const struct rp_backend_def *be = backend_of(c);
        const struct rp_server_def *s = &be->servers[px->server];
        const char *what = "response timed out";
        if (warn_allowed(c))
            rp_warn("server %s/%s (%s:%u): %s", be->name, s->name, s->host, s->port, what);
        server_failed(c, what);
        bool nothing_received = !px->resp_head_parsed && (!px->up->in || !rp_buf_len(px->up->in));
        if (nothing_received && can_retry(c, RP_RETRY_TIMEOUT, false)) {
            proxy_retry(c, true);
            return;
        }
    }
    proxy_fail(c, 504);
}
