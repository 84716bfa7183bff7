/* upstream.h: connections to servers, and the per-worker pools that keep
 * them open between requests.
 *
 * A connection belongs to at most one client exchange at a time (`owner`).
 * Between exchanges it sits in its server's idle list, watched for reading:
 * a server that closes or writes to an idle connection has it closed, so a
 * pooled connection is usually alive when taken. "Usually" is why the proxy
 * retries an idempotent request once when a reused connection fails before
 * any response byte.
 */
#ifndef RP_UPSTREAM_H
#define RP_UPSTREAM_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "transport.h"

struct rp_worker;
struct rp_conn;
struct rp_h2up;
struct h2up_stream;

/* Per worker, per server: its idle connections, most recent first; for an
 * `h2` server, the HTTP/2 connection every request goes on instead. */
struct rp_pool {
    struct rp_upstream *idle;
    uint32_t n_idle;
    struct rp_h2up *h2; /* h2up.c */
};

struct rp_upstream {
    ev_io io;
    struct rp_transport tr; /* the server socket's bytes (tr.fd for the watcher) */
    struct rp_worker *w;
    uint32_t backend, server;
    struct rp_conn *owner;             /* NULL while pooled */
    struct rp_upstream *prev, *next;   /* the server's idle list */
    struct rp_buf *in;                 /* bytes from the server */
    ev_tstamp idle_since;
    bool connecting; /* connect() (and TLS's handshake) in progress */
    bool tcp_connecting; /* ... connect() itself */
    int hs_want;     /* the events TLS's handshake waits for (0: none yet) */
    bool reused;     /* taken from the pool: may be stale */
    struct h2up_stream *h2s; /* an `h2` server's: its stream (h2up.c); no socket
                                (tr.fd -1), never pooled */
};

/* Returns a connection to the server for `owner`: a pooled one if any, else a
 * new one with connect() in progress (`connecting`). Its watcher calls `cb`.
 * Returns NULL with errno set when no socket could be made or connect()
 * failed at once. */
struct rp_upstream *rp_upstream_get(struct rp_worker *w, uint32_t backend, uint32_t server,
                                    struct rp_conn *owner, void (*cb)(struct ev_loop *, ev_io *, int));

/* Opens a new connection even if the pool has one (for a retry). */
struct rp_upstream *rp_upstream_connect(struct rp_worker *w, uint32_t backend, uint32_t server,
                                        struct rp_conn *owner,
                                        void (*cb)(struct ev_loop *, ev_io *, int));

/* Ends an exchange's use of a connection: back to the pool when `reuse` and
 * there is room, closed otherwise. */
void rp_upstream_release(struct rp_upstream *up, bool reuse);

/* Closes a connection (owned or pooled) and frees it. */
void rp_upstream_close(struct rp_upstream *up);

/* Closes pooled connections idle for longer than the configured time, or
 * all of them when `all`. */
void rp_upstream_sweep(struct rp_worker *w, bool all);

#endif
