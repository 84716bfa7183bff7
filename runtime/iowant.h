/* iowant.h: which events a socket's watcher waits for, and the same for a
 * transport's socket, which may hold readable bytes of its own (TLS). */
#ifndef RP_IOWANT_H
#define RP_IOWANT_H

#include <ev.h>

#include "tls.h"
#include "transport.h"

/* Sets which events (EV_READ, EV_WRITE, both or 0) `io` is watched for.
 * Stopping and starting within one loop iteration costs no system call:
 * libev tells the kernel only when the final mask differs. */
static inline void rp_io_want(struct ev_loop *loop, ev_io *io, int events)
{
    int now = ev_is_active(io) ? (io->events & (EV_READ | EV_WRITE)) : 0;
    if (now == events)
        return;
    ev_io_stop(loop, io);
    if (events) {
        ev_io_modify(io, events);
        ev_io_start(loop, io);
    }
}

_Static_assert(RP_TLS_WANT_READ == EV_READ && RP_TLS_WANT_WRITE == EV_WRITE,
               "a TLS handshake's wants are libev's events");

/* The part of rp_transport_want for transports with ops (iowant.c). */
void rp_transport_want_ops(struct ev_loop *loop, ev_io *io, const struct rp_transport *t,
                           int events);

/* rp_io_want for a transport's socket: a transport that holds readable
 * bytes the socket will not signal (TLS) gets its read event fed. A plain
 * socket pays one test (this is on every request's path). */
static inline void rp_transport_want(struct ev_loop *loop, ev_io *io,
                                     const struct rp_transport *t, int events)
{
    if (__builtin_expect(t->ops != NULL, 0))
        rp_transport_want_ops(loop, io, t, events);
    else
        rp_io_want(loop, io, events);
}

#endif
