/* subreq.h: a request the proxy sends to itself and whose answer's head it
 * reads (`auth request`): over a socket pair whose other end the worker
 * serves as an internal connection, so the subrequest takes the ordinary
 * path to a server (balancing, health, retries, pooled connections, TLS
 * to servers) without a line of its own. */
#ifndef RP_SUBREQ_H
#define RP_SUBREQ_H

#include <ev.h>
#include <stddef.h>

#include "rp/http1.h"

struct rp_subreq;

/* The answer's head (status 0 and resp NULL: none came: the connection
 * failed, closed or timed out). resp and its slices live during the call. */
typedef void rp_subreq_done_fn(void *owner, int status, const struct rp_http1_response *resp);

/* Sends req (req_len bytes, malloc'd: taken) on fd (taken) and reads the
 * answer's head, within timeout seconds; then done(owner, ...), once,
 * unless cancelled first. NULL (req freed, fd closed) when out of memory. */
struct rp_subreq *rp_subreq_start(struct ev_loop *loop, int fd, char *req, size_t req_len,
                                  double timeout, const struct rp_http1_limits *limits,
                                  rp_subreq_done_fn *done, void *owner);

/* The owner goes away: no call, the subrequest ends. */
void rp_subreq_cancel(struct rp_subreq *s);

#endif
