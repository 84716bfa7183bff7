/* transport.h: how bytes move on a connection, client or server side.
 *
 * conn.c and proxy.c read, write and shut down through these calls, never
 * on a file descriptor, so a transport that is not a plain socket can slot
 * in beneath them. A transport is either plain (ops NULL: the calls below
 * are the system calls themselves, inline, so the common path costs
 * nothing) or carries ops:
 *
 *   - the chaos transport (transport.c), a testing aid: with the
 *     environment variable RPX_CHAOS_SEED set, every connection returns
 *     short reads and writes and spurious EAGAIN at points drawn from that
 *     seed, to prove the state machines byte-exact under any segmentation;
 *   - TLS (issue 12) will be the next: it adds a handshake, the events it
 *     needs to progress (a TLS write may need the socket readable) and the
 *     bytes it holds decrypted, which are readable without the socket.
 *
 * Errors follow the system calls: -1 with errno (EAGAIN: wait for the
 * socket's readiness), read 0 at the end of the stream.
 */
#ifndef RP_TRANSPORT_H
#define RP_TRANSPORT_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include "sock.h"

struct rp_transport;

struct rp_transport_ops {
    const char *name;
    ssize_t (*read)(struct rp_transport *t, void *buf, size_t n);
    ssize_t (*writev)(struct rp_transport *t, const struct iovec *iov, int n);
    int (*shutdown)(struct rp_transport *t); /* the sending side */
};

struct rp_transport {
    int fd;
    const struct rp_transport_ops *ops; /* NULL: a plain socket */
    uint64_t rng;                       /* the chaos transport's state */
};

/* Makes `t` the transport of a new connection on `fd`: plain, or chaos
 * under RPX_CHAOS_SEED. */
void rp_transport_init(struct rp_transport *t, int fd);

/* Reads RPX_CHAOS_SEED once, at start-up, before any worker runs. */
void rp_transport_setup(void);

static inline ssize_t rp_transport_read(struct rp_transport *t, void *buf, size_t n)
{
    if (t->ops)
        return t->ops->read(t, buf, n);
    ssize_t r;
    do
        r = read(t->fd, buf, n);
    while (r < 0 && errno == EINTR);
    return r;
}

static inline ssize_t rp_transport_writev(struct rp_transport *t, const struct iovec *iov, int n)
{
    if (t->ops)
        return t->ops->writev(t, iov, n);
    return rp_sock_writev(t->fd, iov, n);
}

static inline int rp_transport_shutdown(struct rp_transport *t)
{
    if (t->ops)
        return t->ops->shutdown(t);
    return shutdown(t->fd, SHUT_WR);
}

#endif
