/* h2up.h: HTTP/2 to servers (`server NAME ADDR h2`): gRPC services and
 * other HTTP/2-only servers, with every request of a worker to that server
 * multiplexed as a stream on one connection (prior knowledge in cleartext,
 * or ALPN "h2" over TLS with `tls`).
 *
 * The mirror of h2.c: proxy.c keeps writing a request as HTTP/1.1 and
 * reading a response as HTTP/1.1 through an upstream connection whose
 * transport is memory (no socket: up->tr.fd is -1); this module turns the
 * request into HEADERS and DATA (and trailing HEADERS from a chunked
 * body's trailer section), and the server's frames back into an HTTP/1.1
 * response (chunked when no length is given, trailing HEADERS as its
 * trailer section), so retries, failover, timeouts, logs and the client's
 * HTTP/2 or HTTP/1.1 all work unchanged. Such an upstream connection is
 * never pooled: the HTTP/2 connection is (one per worker and server,
 * replaced when it fails or says GOAWAY).
 *
 * Flow control both ways: the server's DATA is acknowledged only as
 * proxy.c reads it, and at most H2UP_BODY_MAX bytes of a request body wait
 * for the server's window.
 */
#ifndef RP_H2UP_H
#define RP_H2UP_H

#include <stdbool.h>

struct rp_upstream;
struct rp_pool;
struct rp_server_addr;

/* Makes `up` (its watcher initialised, not started) a stream on its
 * server's HTTP/2 connection in `pool`, opening one when there is none
 * (or it is going away). up is `connecting` until that connection is up;
 * its transport's connect_result then says how that went. Returns -1 with
 * errno when no connection can be made. */
int rp_h2up_attach(struct rp_upstream *up, struct rp_pool *pool, const struct rp_server_addr *addr);

/* Closes the pool's HTTP/2 connection when it carries no stream and has
 * been idle since before `oldest` (or at once when `all`). */
void rp_h2up_sweep(struct rp_pool *pool, double oldest, bool all);

/* Closes it whatever it carries (the worker is ending). */
void rp_h2up_close(struct rp_pool *pool);

#endif
