/* proxy.h: the exchange with a server, for a request routed to `proxy`. */
#ifndef RP_PROXY_H
#define RP_PROXY_H

#include <stdint.h>

#include "log.h"

struct rp_conn;

/* Per worker, per backend: the requests waiting for a server, and the
 * retry budget. */
struct rp_proxy_backend_rt {
    struct rp_conn *queue; /* waiting for room under max_conns or a server to return */
    struct rp_conn **queue_tail;
    uint32_t queued;
    double retry_tokens;   /* earned by requests, spent by retries */
    struct rp_log_limit warn_limit; /* per-request warnings about this backend */
};

/* Retries a backend can have saved up, per worker; each request earns a
 * tenth of one (see can_retry in proxy.c). Workers start with it full. */
#define RP_RETRY_RESERVE 10.0

/* Starts forwarding the parsed request in c->req (whose head is the first
 * head_len bytes of c->in) to a server of `backend`. */
void rp_proxy_start(struct rp_conn *c, uint32_t backend, uint32_t head_len);

/* Relays a layer 4 connection (listen ... tcp) to a server of `backend`:
 * bytes both ways until either side closes. */
void rp_proxy_start_tcp(struct rp_conn *c, uint32_t backend);

/* The connection reaches the exchange through c->handler (conn.h), which
 * rp_proxy_start sets to proxy.c's handler. */

/* Retries dispatching queued requests (room may have been freed by another
 * worker); stops the worker's queue timer when none waits. */
struct rp_worker;
void rp_proxy_queue_poll(struct rp_worker *w);


#endif
