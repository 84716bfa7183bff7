/* subreq.c: requests the proxy sends to itself (subreq.h). */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "subreq.h"

#define SUBREQ_HEAD_MAX 16384

struct rp_subreq {
    ev_io io;
    ev_timer timer;
    struct ev_loop *loop;
    int fd;
    char *req;
    size_t len, sent;
    const struct rp_http1_limits *limits;
    rp_subreq_done_fn *done;
    void *owner;
    size_t got;
    char head[SUBREQ_HEAD_MAX];
    struct rp_http1_response resp;
};

static void subreq_free(struct rp_subreq *s)
{
    ev_io_stop(s->loop, &s->io);
    ev_timer_stop(s->loop, &s->timer);
    if (s->fd >= 0)
        close(s->fd);
    free(s->req);
    free(s);
}

/* Calls the owner back once, then ends. */
static void subreq_finish(struct rp_subreq *s, int status, const struct rp_http1_response *resp)
{
    rp_subreq_done_fn *done = s->done;
    void *owner = s->owner;
    ev_io_stop(s->loop, &s->io);
    ev_timer_stop(s->loop, &s->timer);
    if (done)
        done(owner, status, resp);
    subreq_free(s);
}

static void subreq_timeout(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop;
    (void)revents;
    subreq_finish((struct rp_subreq *)((char *)t - offsetof(struct rp_subreq, timer)), 0, NULL);
}

static void subreq_io(struct ev_loop *loop, ev_io *io, int revents)
{
    (void)revents;
    struct rp_subreq *s = (struct rp_subreq *)io;
    while (s->sent < s->len) {
        ssize_t n = write(s->fd, s->req + s->sent, s->len - s->sent);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return;
            subreq_finish(s, 0, NULL);
            return;
        }
        s->sent += (size_t)n;
        if (s->sent == s->len) {
            ev_io_stop(loop, &s->io);
            ev_io_set(&s->io, s->fd, EV_READ);
            ev_io_start(loop, &s->io);
            return;
        }
    }
    for (;;) {
        ssize_t n = read(s->fd, s->head + s->got, sizeof s->head - s->got);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n <= 0) {
            subreq_finish(s, 0, NULL);
            return;
        }
        s->got += (size_t)n;
        int r = rp_http1_parse_response(s->head, s->got, s->limits, false, &s->resp);
        if (r == RP_HTTP1_INCOMPLETE && s->got < sizeof s->head)
            continue;
        if (r < 0) {
            subreq_finish(s, 0, NULL);
            return;
        }
        if (s->resp.status < 200)
            continue; /* not 1xx: the proxy answers its own Expect, and sends none */
        subreq_finish(s, s->resp.status, &s->resp);
        return;
    }
}

struct rp_subreq *rp_subreq_start(struct ev_loop *loop, int fd, char *req, size_t req_len,
                                  double timeout, const struct rp_http1_limits *limits,
                                  rp_subreq_done_fn *done, void *owner)
{
    struct rp_subreq *s = malloc(sizeof *s);
    if (!s) {
        free(req);
        close(fd);
        return NULL;
    }
    memset(s, 0, offsetof(struct rp_subreq, head));
    s->loop = loop;
    s->fd = fd;
    s->req = req;
    s->len = req_len;
    s->limits = limits;
    s->done = done;
    s->owner = owner;
    ev_io_init(&s->io, subreq_io, fd, EV_WRITE);
    ev_timer_init(&s->timer, subreq_timeout, timeout, 0);
    ev_io_start(loop, &s->io);
    ev_timer_start(loop, &s->timer);
    return s;
}

void rp_subreq_cancel(struct rp_subreq *s)
{
    if (s)
        subreq_free(s);
}
