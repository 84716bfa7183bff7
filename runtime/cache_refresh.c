/* cache_refresh.c: stale-while-revalidate's background refresh (cache.h).
 *
 * A request served a stale answer within stale-while-revalidate starts a
 * refresh of that answer: the same request again, marked with the
 * process's random refresh token (the cache revalidates for it, and drops
 * the mark before the server sees it), sent by the proxy to itself over a
 * socket pair whose other end the worker serves as a connection on the
 * client's listener, from the client's address (plain HTTP even when the
 * client came over TLS). It takes the ordinary path (route, acls, the
 * cache revalidating with the stored validators, retries, TLS to servers,
 * health), so the store is updated exactly as a client's revalidation
 * would update it; the answer is read and dropped. One refresh per key at a time (the
 * cache's table of fetches in flight), each bounded in time. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache.h"
#include "cache_refresh.h"
#include "log.h"

struct refresh {
    ev_io io;
    ev_timer timer;
    struct ev_loop *loop;
    int fd;
    char *req;
    size_t len, sent;
    uint64_t hash;
    struct refresh *prev, *next; /* this thread's refreshes */
};

/* Each worker's refreshes, freed with it (rp_cache_refresh_clear). */
static _Thread_local struct refresh *t_refreshes;

static void refresh_end(struct refresh *r)
{
    ev_io_stop(r->loop, &r->io);
    ev_timer_stop(r->loop, &r->timer);
    if (r->fd >= 0)
        close(r->fd);
    rp_cache_refresh_done(r->hash, r, ev_now(r->loop));
    if (r->prev)
        r->prev->next = r->next;
    else
        t_refreshes = r->next;
    if (r->next)
        r->next->prev = r->prev;
    free(r->req);
    free(r);
}

static void refresh_timeout(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop;
    (void)revents;
    struct refresh *r = (struct refresh *)((char *)t - offsetof(struct refresh, timer));
    rp_debug("cache: a background refresh timed out");
    refresh_end(r);
}

static void refresh_io(struct ev_loop *loop, ev_io *io, int revents)
{
    (void)revents;
    struct refresh *r = (struct refresh *)io;
    while (r->sent < r->len) {
        ssize_t n = write(r->fd, r->req + r->sent, r->len - r->sent);
        if (n < 0) {
            if (errno == EAGAIN)
                return;
            refresh_end(r);
            return;
        }
        r->sent += (size_t)n;
        if (r->sent == r->len) {
            ev_io_stop(loop, &r->io);
            ev_io_set(&r->io, r->fd, EV_READ);
            ev_io_start(loop, &r->io);
            return;
        }
    }
    /* the answer: read to the end (Connection: close) and dropped */
    char sink[16384];
    for (;;) {
        ssize_t n = read(r->fd, sink, sizeof sink);
        if (n > 0)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        refresh_end(r);
        return;
    }
}

bool rp_cache_refresh_start(struct ev_loop *loop, int fd, char *req, size_t req_len,
                            uint64_t hash, double timeout)
{
    struct refresh *r = calloc(1, sizeof *r);
    if (!r || !rp_cache_refresh_claim(hash, r, ev_now(loop))) {
        free(r);
        free(req);
        close(fd);
        return false;
    }
    r->loop = loop;
    r->req = req;
    r->len = req_len;
    r->hash = hash;
    r->fd = fd;
    r->next = t_refreshes;
    if (t_refreshes)
        t_refreshes->prev = r;
    t_refreshes = r;
    ev_io_init(&r->io, refresh_io, r->fd, EV_WRITE);
    ev_timer_init(&r->timer, refresh_timeout, timeout, 0);
    ev_io_start(loop, &r->io);
    ev_timer_start(loop, &r->timer);
    return true;
}

void rp_cache_refresh_clear(void)
{
    while (t_refreshes)
        refresh_end(t_refreshes);
}
