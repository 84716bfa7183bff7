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
 *   - TLS (tls.c): a handshake first (rp_tls_handshake), then records.
 *     Its writes never wait on reads (no renegotiation; what a read must
 *     answer, such as a KeyUpdate, is queued with the next write), and it
 *     may hold decrypted bytes the socket no longer signals:
 *     rp_transport_want() (worker.h) turns those into a read event.
 *
 * Beneath TLS, the chaos transport still cuts the encrypted bytes
 * (rp_transport_raw_read/write), so the handshake and record paths are
 * tested under short reads too.
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
    int (*shutdown)(struct rp_transport *t); /* the sending side; 1: under way (flush) */
    int (*flush)(struct rp_transport *t);    /* sends what it holds: 1 done, 0 not yet */
    bool (*pending)(const struct rp_transport *t); /* bytes readable without the socket */
    /* The protocol's own goodbye before a close (TLS: close_notify), as far
     * as the socket takes it: 1 all sent, 0 the socket is full. */
    int (*goodbye)(struct rp_transport *t);
    /* writev of a connection's last bytes: the goodbye goes behind them,
     * in the same write, once they are all taken. NULL: writev. */
    ssize_t (*writev_end)(struct rp_transport *t, const struct iovec *iov, int n);
    void (*close)(struct rp_transport *t);   /* frees the transport's state */
    /* A transport without a socket (an HTTP/2 stream's, h2.c): told what
     * its connection waits for, it raises the events itself. */
    void (*want)(struct rp_transport *t, int events);
    /* A connect in progress without a socket of its own (a stream on an
     * HTTP/2 connection to a server, h2up.c): 0, or the errno it failed with. */
    int (*connect_result)(struct rp_transport *t);
};

struct rp_tls_conn;

struct rp_transport {
    int fd;
    const struct rp_transport_ops *ops; /* NULL: a plain socket */
    bool chaos;                         /* the bytes on the socket go through chaos */
    uint64_t rng;                       /* the chaos transport's state */
    struct rp_tls_conn *tls;            /* TLS's state (tls.c), or NULL */
};

/* The worker thread's loop (NULL in threads without one: health checks
 * run on the main loop). TLS asks it for the loop's turn (ev_iteration:
 * one poll each): a socket that gave a short read this turn has nothing
 * more until the next poll says so (libev's epoll is level-triggered), so
 * the read that would only meet EAGAIN is skipped. */
struct ev_loop;
extern _Thread_local struct ev_loop *rp_transport_loop;
/* ev_iteration, given by the worker (the compiler links this code without
 * libev). */
extern unsigned (*rp_transport_iteration)(struct ev_loop *loop);

/* Makes `t` the transport of a new connection on `fd`: plain, or chaos
 * under RPX_CHAOS_SEED. */
void rp_transport_init(struct rp_transport *t, int fd);

/* The socket's bytes as they are, through chaos when it is on: what TLS
 * reads and writes its records with. */
ssize_t rp_transport_raw_read(struct rp_transport *t, void *buf, size_t n);
ssize_t rp_transport_raw_write(struct rp_transport *t, const void *buf, size_t n);

/* Frees the transport's state and closes the socket. */
void rp_transport_close(struct rp_transport *t);

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

/* Writes the connection's last bytes (a close follows): as
 * rp_transport_writev, and over TLS the close_notify goes in the same
 * write as the last of them, a system call fewer. The caller offers the
 * same bytes again after a partial write, as with writev. */
static inline ssize_t rp_transport_writev_end(struct rp_transport *t, const struct iovec *iov,
                                              int n)
{
    if (t->ops && t->ops->writev_end)
        return t->ops->writev_end(t, iov, n);
    return rp_transport_writev(t, iov, n);
}

/* Sends what the transport holds of its own (TLS's close_notify after a
 * shutdown that returned 1): 1 when all went (and the shutdown is done),
 * 0 when the socket is full, -1 on an error. */
static inline int rp_transport_flush(struct rp_transport *t)
{
    return t->ops && t->ops->flush ? t->ops->flush(t) : 1;
}

/* Shuts the sending side: 0 done, 1 under way (rp_transport_flush when
 * the socket is writable finishes it), -1 on an error. */
static inline int rp_transport_shutdown(struct rp_transport *t)
{
    if (t->ops)
        return t->ops->shutdown(t);
    return shutdown(t->fd, SHUT_WR);
}

/* The outcome of a connect in progress once the transport is writable: 0,
 * or the errno it failed with. */
static inline int rp_transport_connect_result(struct rp_transport *t)
{
    if (t->ops && t->ops->connect_result)
        return t->ops->connect_result(t);
    return rp_sock_connect_result(t->fd);
}

/* Says the transport's goodbye before a close with nothing left to read
 * (TLS's close_notify; nothing on a plain socket): 1 when it is all on the
 * socket and a close may follow at once, 0 when the socket is full (shut
 * down and flush instead), -1 on an error. */
static inline int rp_transport_goodbye(struct rp_transport *t)
{
    return t->ops && t->ops->goodbye ? t->ops->goodbye(t) : 1;
}

static inline bool rp_transport_pending(const struct rp_transport *t)
{
    return t->ops && t->ops->pending && t->ops->pending(t);
}

#endif
