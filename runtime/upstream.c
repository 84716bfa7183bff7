/* upstream.c: server connections and their pools. */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "h2up.h"
#include "log.h"
#include "sock.h"
#include "tls.h"
#include "upstream.h"
#include "worker.h"

static void idle_unlink(struct rp_upstream *up)
{
    struct rp_pool *srv = &up->w->backends[up->backend].pools[up->server];
    if (up->prev)
        up->prev->next = up->next;
    else
        srv->idle = up->next;
    if (up->next)
        up->next->prev = up->prev;
    up->prev = up->next = NULL;
    srv->n_idle--;
}

/* A pooled connection became readable: the server closed it, or sent bytes
 * nobody asked for. Either way it cannot carry another request. Over TLS
 * the bytes may be records that carry no data (a session ticket, a key
 * update), which leave it as good as it was. */
static void idle_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    (void)loop;
    (void)revents;
    struct rp_upstream *up = (struct rp_upstream *)io;
    if (up->tr.tls) {
        char b[1];
        if (rp_transport_read(&up->tr, b, sizeof b) < 0 && errno == EAGAIN)
            return;
    }
    rp_upstream_close(up);
}

/* An `h2` server's request: a stream on the worker's HTTP/2 connection to
 * it, with no socket of its own (h2up.h). */
static struct rp_upstream *h2_stream_new(struct rp_worker *w, uint32_t backend, uint32_t server,
                                         struct rp_conn *owner,
                                         void (*cb)(struct ev_loop *, ev_io *, int),
                                         const struct rp_server_addr *addr)
{
    struct rp_upstream *up = calloc(1, sizeof *up);
    if (!up) {
        errno = ENOMEM;
        return NULL;
    }
    up->w = w;
    up->backend = backend;
    up->server = server;
    up->owner = owner;
    ev_io_init(&up->io, cb, -1, EV_WRITE); /* never started: the stream feeds it */
    if (rp_h2up_attach(up, &w->backends[backend].pools[server], addr) < 0) {
        free(up);
        return NULL;
    }
    return up;
}

struct rp_upstream *rp_upstream_connect(struct rp_worker *w, uint32_t backend, uint32_t server,
                                        struct rp_conn *owner,
                                        void (*cb)(struct ev_loop *, ev_io *, int))
{
    const struct rp_server_addr *addr = &w->proc->server_addrs[backend][server];
    if (w->prog->backends[backend].servers[server].h2)
        return h2_stream_new(w, backend, server, owner, cb, addr);
    bool connecting;
    int fd = rp_sock_connect(&addr->sa, addr->len, &connecting);
    if (fd < 0)
        return NULL;
    struct rp_upstream *up = calloc(1, sizeof *up);
    if (!up) {
        close(fd);
        errno = ENOMEM;
        return NULL;
    }
    rp_transport_init(&up->tr, fd);
    up->w = w;
    up->backend = backend;
    up->server = server;
    up->owner = owner;
    up->connecting = up->tcp_connecting = connecting;
    if (w->prog->backends[backend].servers[server].tls) {
        /* The handshake is part of connecting: it starts when the socket
         * is writable. */
        if (rp_tls_client(&up->tr, backend, server) < 0) {
            rp_transport_close(&up->tr);
            free(up);
            errno = ENOMEM;
            return NULL;
        }
        up->connecting = true;
    }
    ev_io_init(&up->io, cb, fd, up->connecting ? EV_WRITE : EV_READ);
    ev_io_start(w->loop, &up->io);
    return up;
}

struct rp_upstream *rp_upstream_get(struct rp_worker *w, uint32_t backend, uint32_t server,
                                    struct rp_conn *owner, void (*cb)(struct ev_loop *, ev_io *, int))
{
    struct rp_pool *srv = &w->backends[backend].pools[server];
    struct rp_upstream *up = srv->idle;
    if (!up)
        return rp_upstream_connect(w, backend, server, owner, cb);
    idle_unlink(up);
    up->owner = owner;
    up->reused = true;
    ev_set_cb(&up->io, cb);
    return up;
}

void rp_upstream_release(struct rp_upstream *up, bool reuse)
{
    struct rp_worker *w = up->w;
    struct rp_pool *srv = &w->backends[up->backend].pools[up->server];
    const struct rp_backend_def *be = &w->prog->backends[up->backend];
    uint32_t max_idle = be->keepalive ? be->keepalive : w->cfg->upstream_max_idle;
    /* (an h2 server's stream has no socket: never pooled, its connection is) */
    if (!reuse || w->stopping || srv->n_idle >= max_idle || up->tr.fd < 0 ||
        (up->in && rp_buf_len(up->in) != 0)) {
        rp_upstream_close(up);
        return;
    }
    rp_buf_put(&w->bufs, up->in);
    up->in = NULL;
    up->owner = NULL;
    up->idle_since = ev_now(w->loop);
    ev_set_cb(&up->io, idle_cb);
    /* Watched for reading while pooled, so a close is noticed. */
    rp_io_want(w->loop, &up->io, EV_READ);
    up->prev = NULL;
    up->next = srv->idle;
    if (srv->idle)
        srv->idle->prev = up;
    srv->idle = up;
    srv->n_idle++;
}

void rp_upstream_close(struct rp_upstream *up)
{
    struct rp_worker *w = up->w;
    if (!up->owner)
        idle_unlink(up);
    ev_io_stop(w->loop, &up->io);
    rp_transport_close(&up->tr);
    rp_buf_put(&w->bufs, up->in);
    free(up);
}

void rp_upstream_sweep(struct rp_worker *w, bool all)
{
    for (uint32_t b = 0; b < w->prog->n_backends; b++) {
        const struct rp_backend_def *def = &w->prog->backends[b];
        /* `keepalive N idle T` in the backend, else the default. */
        double idle = def->keepalive_idle_ms ? def->keepalive_idle_ms / 1000.0
                                             : w->cfg->upstream_idle_timeout;
        ev_tstamp oldest = ev_now(w->loop) - idle;
        for (uint32_t s = 0; s < def->n_servers; s++) {
            rp_h2up_sweep(&w->backends[b].pools[s], oldest, all);
            struct rp_upstream *up = w->backends[b].pools[s].idle, *next;
            for (; up; up = next) {
                next = up->next;
                if (all || up->idle_since < oldest)
                    rp_upstream_close(up);
            }
        }
    }
}
