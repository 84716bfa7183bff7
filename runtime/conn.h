/* conn.h: a client connection, and the exchange (one request and its
 * response) in progress on it.
 *
 * Requests on a connection are handled one at a time in arrival order;
 * pipelined requests wait, unparsed, in `in` until the current response is
 * complete. Bytes move through fixed buffers: client bytes in `in`, a head
 * the proxy writes (a rebuilt request head for the server, or a response head
 * for the client) in `head`; a server's bytes in its own `in` (upstream.h).
 */
#ifndef RP_CONN_H
#define RP_CONN_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "body.h"
#include "buf.h"
#include "steps.h"
#include "transport.h"
#include "rp/http1.h"
#include "rp/program.h"

struct rp_worker;
struct rp_upstream;

enum rp_conn_state {
    RP_CONN_IDLE,       /* between requests, nothing buffered */
    RP_CONN_HEAD,       /* reading a request head */
    RP_CONN_RESPONDING, /* writing a response the proxy made itself */
    RP_CONN_PROXYING,   /* an exchange handler (c->handler) has the exchange */
    RP_CONN_LINGER,     /* our side shut; discarding what the client still sends */
    RP_CONN_CLOSED,     /* closed; freed after the current callbacks */
    RP_CONN_HANDSHAKE,  /* TLS: the handshake, before any request */
    RP_CONN_PREFACE,    /* reading a PROXY header (listen ... proxy_protocol) */
    RP_CONN_DELAYED,    /* a decided request waiting for a limit (`limit NAME delay`) */
    RP_CONN_H2,         /* HTTP/2 (h2.c): its streams are connections of their own */
};

struct rp_conn;
struct rp_subreq;
struct rp_h2;
struct rp_h2_stream;

/* What carries an exchange after its head is decided, when the proxy does
 * not answer it itself: the proxy to a server today (proxy.c), later a
 * cache lookup or an authentication subrequest. The connection knows them
 * only through this: while one has the exchange (RP_CONN_PROXYING), the
 * connection hands it its events, and it ends the exchange with
 * rp_conn_exchange_done or answers with rp_conn_respond. */
struct rp_exchange_handler {
    const char *name;
    void (*readable)(struct rp_conn *c); /* the client socket is readable */
    void (*writable)(struct rp_conn *c); /* ... writable */
    void (*timeout)(struct rp_conn *c);  /* the connection's timer fired */
    void (*abort)(struct rp_conn *c);    /* the connection closes under it */
};

/* A protocol that takes a connection over after its handshake (HTTP/2,
 * h2.c), reached through these (it is the higher module: it makes
 * connections of its own for its streams). In RP_CONN_H2 the connection
 * hands it its events. */
struct rp_conn_protocol {
    const char *name;
    void (*io)(struct rp_conn *c, int revents);
    void (*timeout)(struct rp_conn *c);
    void (*drain)(struct rp_conn *c);      /* graceful stop: it closes when done */
    bool (*idle)(const struct rp_conn *c); /* nothing in progress */
    void (*free)(struct rp_conn *c);       /* the connection closes under it */
};

/* What a request needs while it is parsed and decided; pooled per worker. */
/* What happened to one exchange, filled in as it goes and closed in one
 * place (rp_conn_exchange_done, or the connection closing under it): what
 * the access log and metrics will read. Times are the loop's (ev_now). */
struct rp_exchange_record {
    bool open;            /* begun and not yet ended */
    double t_start;       /* the first byte of the request head was there */
    double t_head;        /* the head was complete and valid */
    double t_connect;     /* the last attempt's server connection was ready */
    double t_first_byte;  /* the first response byte from the server */
    double t_end;
    uint64_t bytes_in0, bytes_out0; /* the connection's counts at t_start */
    uint64_t bytes_in, bytes_out;   /* from and to the client, this exchange */
    uint16_t status;      /* what the client was answered; 0: nothing */
    uint32_t route;       /* RP_NO_ROUTE before or without a decision */
    int32_t backend, server; /* -1: none */
    uint32_t attempts;    /* servers tried */
    const char *end;      /* "done", or why it ended early */
};

/* What proxy.c keeps for a proxied exchange: the attempt(s) on servers,
 * both bodies in flight, the queue. Only proxy.c reads or writes it. */
struct rp_proxy_state {
    struct rp_upstream *up;
    uint32_t backend, server;
    struct rp_buf *up_head;   /* the rebuilt request head; kept whole for a retry */
    struct rp_body req_body;  /* client -> server */
    uint32_t req_ready;       /* body bytes at in->start scanned and ready to send */
    uint64_t req_seen;        /* body bytes received so far (for limits.body_size) */
    bool up_blocked;          /* the last write to the server would have blocked */
    bool retried;             /* the one replay on a fresh connection was used */
    bool counted;             /* counted in the server's active requests */
    bool upgrade;             /* the Upgrade handshake is forwarded (route has `tunnel`) */
    bool queued;              /* waiting for a server (room under max_conns, or one
                                 to come back) */
    bool queued_down;         /* ... because no server was usable */
    bool probe;               /* this attempt probes an ejected server (health.h) */
    unsigned gen;             /* the server's generation when the attempt began */
    double queue_deadline;    /* when waiting for a server ends in 503 (0: not yet) */
    double deadline;          /* a gRPC call's (grpc-timeout): the exchange ends then,
                                 whatever the backend timeout; 0: none */
    struct rp_conn *queue_next;
    uint32_t attempts;        /* servers tried, for `retries N` */
    uint64_t tried;           /* bit per server (the first 64) already tried */
    uint64_t hash;            /* the request's key for `balance hash(...)` */
    bool resp_started;        /* response bytes have been written to the client */
    bool resp_head_parsed;
    bool up_keep_alive;       /* the server will keep its connection open */
    bool up_eof;              /* the server closed its side */
    struct rp_body resp_body; /* server -> client */
    uint32_t resp_ready;      /* body bytes at up->in->start ready to send (with
                                 filters: decoded, ready to filter) */
    bool resp_stalled;        /* the server's last read took what it had */
    struct rp_steps_state steps;       /* the route's steps (steps.h) */
    bool l4;                  /* a layer 4 exchange (listen ... tcp): bytes, no heads */
    bool tunneling;           /* bytes both ways: after a 101, or layer 4 */
    bool up_shut;             /* the server's side was shut after the client's (half-close) */
    char pp[112];             /* a PROXY header for a fresh server connection ... */
    uint16_t pp_len, pp_sent; /* ... its length, and how much of it went */
    struct rp_body_filters *filters;   /* the response body's, or NULL: relayed as framed */
    double cache_wait_until;  /* waiting for another request's fetch of the same key
                                 (cache.h RP_CACHE_WAIT) ends then; 0: not waiting */
    uint32_t cache_head_len;  /* ... the request head's length, to start again */
};

struct rp_exchange {
    struct rp_exchange *next_free;
    struct rp_exchange_record rec;
    /* Slices in `req` point into the connection's `in` and are valid only
     * until the head is consumed (after deciding and rebuilding). */
    struct rp_http1_request req;
    struct rp_decision decision; /* the policy's answer */
    char host_lc[256];           /* the request's host, lower case, no port */
    struct rp_buf *path;         /* the normalized path when it differs; NULL: as received */
    bool path_rewritten;         /* `path` is a rewrite's (strip prefix, rewrite path) */
    uint8_t client_ip[16];       /* who the client is (forward.h): the peer, or from a
                                    trusted peer the address its chain names */
    bool peer_trusted;           /* the peer is a trusted proxy (forwarded { trusted }) */
    const char *client_text;     /* client_ip as text when it came from the chain (a
                                    slice of the head); NULL: the peer's */
    uint32_t client_text_len;
    char id[65];                 /* req.id once asked for (rp_conn_request_id) */
    char answer[32];             /* a short body made for this request (purge's count) */
    uint32_t delayed_head_len;   /* RP_CONN_DELAYED: the head's length, to go on with */
    bool strip_authorization;    /* `auth basic` took the credentials: not sent on */
    const char *reason;          /* why the access phase refused it (the log's "end") */
    char user[64];               /* the user name of Basic credentials, as sent; "" */
    uint64_t max_body;           /* the route's `body_size`; 0: limits { body_size } */
    const struct rp_auth_request_def *auth_request; /* passed its `auth request` */
    struct rp_subreq *subreq;    /* `auth request`'s subrequest in flight; NULL */
    uint32_t auth_fields_len;
    char auth_fields[1024];      /* the authentication server's fields to send on */
    uint32_t jwt_claims_len;     /* the verified token's claims, for jwt.* values; 0: none */
    char jwt_claims[2048];
    uint32_t n_holds;            /* `concurrent` limits' counts held until it ends */
    struct rp_limit_hold holds[RP_ACCESS_HOLDS];
    char *owned;                 /* a body made for this request (metrics), freed with it */
    /* for the access log: the request line's parts and a few fields, copied
     * (the head is gone by the time the line is written) */
    bool logged;                 /* captured (an access log is on) */
    uint8_t log_minor;
    uint16_t log_len[6];         /* method, target, host, user agent, referer, client */
    char log_text[1024 + 256 * 4 + 16 + 48];
    uint8_t id_len;
    /* proxy.c's part, for an exchange with a server (RP_CONN_PROXYING). */
    struct rp_proxy_state px;
};

struct rp_conn {
    ev_io io;       /* client socket; see rp_conn_want() */
    ev_timer timer; /* header, idle, body or server timeout, by state */
    struct rp_transport tr; /* the client socket's bytes (tr.fd for the watcher) */
    enum rp_conn_state state;
    const struct rp_exchange_handler *handler; /* RP_CONN_PROXYING */
    struct rp_worker *w;
    struct rp_conn *prev, *next; /* the worker's list of connections */
    struct sockaddr_storage peer;
    char peer_text[48];   /* the peer's address as text, once asked (rp_conn_peer_text) */
    uint8_t peer_text_len;
    char fwd_cache[112];  /* its forwarding lines (forward.h rp_forward_ctx.cache) */
    uint8_t fwd_cache_len;
    struct rp_buf *in;  /* bytes from the client: a head, body, pipelined requests */
    struct rp_buf *out; /* a head the proxy made for the client, being written */
    const char *lbody;  /* RESPONDING: the rest of a local response body */
    uint32_t lbody_left;
    bool client_eof;     /* the client shut its side */
    bool client_blocked; /* the last write to the client would have blocked */
    bool keep_alive;     /* the connection stays open after this response */
    bool busy;           /* inside the request loop: do not re-enter it */
    bool linger;         /* the client may still be sending: linger before closing */
    bool local_known;    /* `local` holds the address the client connected to */
    bool drain_idle;     /* draining: found idle by the last sweep (worker.c) */
    bool https;          /* the client's scheme: TLS, or the proxy's own request
                            (rp_conn_open_internal) for a client that came over TLS */
    struct sockaddr_storage local;

    /* The bulky per-request state, held only while a request is in progress
     * so an idle connection stays small. */
    struct rp_exchange *x;
    bool head_request; /* HEAD: the response has no body */
    bool idempotent;   /* may be replayed on a fresh server connection */
    bool client_http10;

    uint32_t listener;        /* the listener it came in on */
    bool client_counted;      /* counted in proc->client_conns under client_key */
    uint32_t subrequest_backend; /* a subrequest's connection: its backend + 1; 0: none */
    uint64_t client_key;
    uint32_t exchanges;       /* requests answered on it */
    const struct rp_conn_protocol *proto; /* RP_CONN_H2: the protocol that has it */
    struct rp_h2 *h2;         /* ... and its state (h2.c) */
    struct rp_h2_stream *h2s; /* an HTTP/2 stream's connection: its stream (h2.c) while
                                 both live */
    bool h2_stream;           /* an HTTP/2 stream's: its transport is memory, it is not
                                 counted among client connections nor swept */
    uint64_t bytes_in, bytes_out; /* from and to the client, all exchanges */
};

/* Starts serving a client connection just accepted on listener `listener`
 * (the worker accepts, under its limits). Closes fd if it cannot. */
void rp_conn_open(struct rp_worker *w, int fd, const struct sockaddr_storage *peer,
                  unsigned listener);

/* A connection the proxy opens to itself (one end of a socket pair), on
 * listener as if a client had connected from peer, without its PROXY
 * header or TLS: a background refresh's requests take the ordinary path
 * (routes, acls, the cache). https: forwarded as the TLS client's was. */
/* The same for a subrequest (`auth request`): its requests go to backend,
 * past the routes. */
void rp_conn_open_subrequest(struct rp_worker *w, int fd, const struct sockaddr_storage *peer,
                             unsigned listener, bool https, uint32_t backend);
void rp_conn_open_internal(struct rp_worker *w, int fd, const struct sockaddr_storage *peer,
                           unsigned listener, bool https);

/* A connection for one HTTP/2 stream of `parent` (h2.c): no socket, its
 * bytes move through `ops`; it has the parent's peer, listener, scheme and
 * TLS facts. Its request is read on the next loop turn. NULL when out of
 * memory. */
struct rp_conn *rp_conn_open_stream(struct rp_conn *parent, const struct rp_transport_ops *ops,
                                    struct rp_h2_stream *s);

/* Closes a connection and whatever exchange it has. The memory stays valid,
 * with state RP_CONN_CLOSED, until rp_conn_free_closed(), so a caller up the
 * stack can still see that it was closed. */
void rp_conn_close(struct rp_conn *c);

/* Frees the connections closed since the last call (once per loop turn, by
 * the worker, which then resumes accepting if a limit paused it). */
void rp_conn_free_closed(struct rp_worker *w);

/* Frees the worker's pooled exchanges and connections (at exit). */
void rp_exchange_pool_clear(struct rp_worker *w);

/* Closes a connection that waits for a request (graceful stop). Returns true
 * if it was idle and is now closed. */
bool rp_conn_close_if_idle(struct rp_conn *c);

/* Closes a keep-alive connection between requests: one that has been
 * answered at least once and holds no unread bytes (making room at a
 * limit). A new connection whose first request has not been read yet is
 * not idle in this sense. Returns true if it closed it. */
bool rp_conn_close_if_kept_alive(struct rp_conn *c);

/* Reads what the client sent into `in`. Returns the byte count, 0 at end of
 * stream (client_eof is set), -1 when nothing can be read now (it would
 * block, or `in` is full), -2 on a socket error (the caller closes). */
ssize_t rp_conn_read(struct rp_conn *c);

/* (Re)starts the connection's one timer. */
void rp_conn_set_timer(struct rp_conn *c, double seconds);

/* The Max-Forwards count of a TRACE or OPTIONS request, or -1 when the
 * method is another or the field is absent or not a number. */
int64_t rp_request_max_forwards_field(const struct rp_http1_request *req);

static inline int64_t rp_request_max_forwards(const struct rp_http1_request *req)
{
    /* Only TRACE (5) and OPTIONS (7) read it: most requests stop here. */
    if (req->method_len != 5 && req->method_len != 7)
        return -1;
    return rp_request_max_forwards_field(req);
}

/* The request's id (req.id): a trusted peer's X-Request-Id, or one made
 * here, unique across workers and restarts; made once, when first asked. */
const char *rp_conn_request_id(struct rp_conn *c, uint32_t *len);

/* The peer's address as text, formatted once per connection. */
const char *rp_conn_peer_text(struct rp_conn *c, uint32_t *len);

/* The exchange's record (NULL between exchanges). */
static inline struct rp_exchange_record *rp_conn_record(struct rp_conn *c)
{
    return c->x && c->x->rec.open ? &c->x->rec : NULL;
}

/* Called when an exchange is over (response complete or failed). Goes on
 * with the next pipelined request, waits for one, or closes. */
void rp_conn_exchange_done(struct rp_conn *c, bool close_client);

/* Answers the current request with a response the proxy makes (errors,
 * `respond`, `redirect`); the request head must already be out of `in`.
 * `extra` holds more header lines, each ending in CRLF (Location:,
 * Retry-After:), copied. `body` must outlive the write: it is static data
 * (policy tables, reason phrases). */
void rp_conn_respond(struct rp_conn *c, int status, const char *body, size_t body_len,
                     const char *extra, size_t extra_len);

/* Answers with a response whose head the caller wrote to c->out and whose
 * body (body_len bytes, less than 4 GB) stays valid until the exchange
 * ends (a cache object the exchange's steps hold). */
void rp_conn_respond_written(struct rp_conn *c, const char *body, size_t body_len);

/* rp_conn_respond with a content type (NULL: text/plain), for the policy's
 * `respond`. */
void rp_conn_respond_typed(struct rp_conn *c, int status, const char *content_type,
                           const char *body, size_t body_len);
/* ... with header lines to add (`extra`, each ending in CRLF). */
void rp_conn_respond_typed_with(struct rp_conn *c, int status, const char *content_type,
                                const char *body, size_t body_len, const char *extra,
                                size_t extra_len);

/* An error of the proxy's own: the policy's page for the status (`error
 * ... file`), else the reason phrase as body. */
void rp_conn_respond_error(struct rp_conn *c, int status);

/* rp_conn_respond_error with more header lines (Retry-After:). */
void rp_conn_respond_error_with(struct rp_conn *c, int status, const char *extra,
                                size_t extra_len);

/* Writes what is left of `out`, then up to body_len bytes of `body`, to
 * the client in one writev. Returns how many body bytes went out (0 when
 * the socket is full), or -1 after closing the connection on a socket
 * error. end: these are the connection's last bytes (a close follows), so
 * the transport's goodbye may go with them (rp_transport_writev_end). */
ssize_t rp_conn_send(struct rp_conn *c, const char *body, size_t body_len, bool end);

/* Writes what is pending for the client (the socket became writable). */
void rp_conn_client_write(struct rp_conn *c);

/* Sets which events (EV_READ, EV_WRITE, both or 0) the client socket is
 * watched for. */
void rp_conn_want(struct rp_conn *c, int events);

#endif
