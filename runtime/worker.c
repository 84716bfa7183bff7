/* worker.c: listening sockets, worker threads, signals and stopping.
 *
 * Stopping: the first SIGINT or SIGTERM stops accepting, closes idle
 * connections and lets in-flight exchanges finish (their connections close
 * after the response), up to drain_timeout. A second signal closes
 * everything at once.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accesslog.h"
#include "auth.h"
#include "jwt.h"
#include "cache_refresh.h"
#include "compress.h"
#include "conn.h"
#include "h2.h"
#include "h2up.h"
#include "health.h"
#include "limit_redis.h"
#include "log.h"
#include "proxy.h"
#include "sock.h"
#include "upstream.h"
#include "upgrade.h"
#include "tls.h"
#include "worker.h"

/* The main thread's loop: signals, and workers reporting that they ended. */
static struct {
    struct rp_proc *proc;
    struct ev_loop *loop;
    ev_async worker_done;
    unsigned n_running;
    pthread_mutex_t lock; /* guards n_running */
} main_ctx;

static int open_listener(const struct sockaddr_storage *sa, socklen_t len, const char *where,
                         const char *shown)
{
    int fd = socket(sa->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        rp_error("cannot listen on %s (%s): socket: %s", shown, where, strerror(errno));
        return -1;
    }
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) {
        rp_error("cannot listen on %s (%s): setsockopt: %s", shown, where, strerror(errno));
        close(fd);
        return -1;
    }
    if (sa->ss_family == AF_INET6)
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    /* Accepted sockets inherit TCP_NODELAY on Linux: one call here instead of
     * one per connection. TCP_DEFER_ACCEPT hands over a connection only once
     * its first bytes are in, so the request can be read at once. */
    rp_sock_nodelay(fd);
    int defer = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer, sizeof defer);
    if (bind(fd, (const struct sockaddr *)sa, len) < 0 || listen(fd, 1024) < 0) {
        rp_error("cannot listen on %s (%s): %s", shown, where, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* Whether another process already listens on sa. The workers' sockets share
 * their port through SO_REUSEPORT, which would as gladly share it with a
 * second copy of the proxy started by mistake (splitting the traffic
 * between two versions without a word): a socket bound first without it
 * finds out. Port 0 (any port) is never taken. */
static bool address_taken(const struct sockaddr_storage *sa, socklen_t len)
{
    bool any_port = sa->ss_family == AF_INET6
                        ? ((const struct sockaddr_in6 *)sa)->sin6_port == 0
                        : ((const struct sockaddr_in *)sa)->sin_port == 0;
    if (any_port)
        return false;
    int fd = socket(sa->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one); /* TIME_WAIT is fine */
    if (sa->ss_family == AF_INET6)
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    bool taken = bind(fd, (const struct sockaddr *)sa, len) < 0 && errno == EADDRINUSE;
    close(fd);
    return taken;
}

/* Parses "host:port", ":port" or "[v6]:port". Returns 0 or -1. */
static int parse_listen(const char *s, struct sockaddr_storage *sa, socklen_t *len)
{
    char host[64];
    const char *colon;
    if (s[0] == '[') {
        const char *close_br = strchr(s, ']');
        if (!close_br || close_br[1] != ':' || (size_t)(close_br - s - 1) >= sizeof host)
            return -1;
        memcpy(host, s + 1, (size_t)(close_br - s - 1));
        host[close_br - s - 1] = 0;
        colon = close_br + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon || (size_t)(colon - s) >= sizeof host)
            return -1;
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = 0;
        if (!host[0])
            strcpy(host, "0.0.0.0");
    }
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || end == colon + 1 || port < 0 || port > 65535)
        return -1;
    return rp_sock_addr(host, (unsigned)port, sa, len);
}

/* Adds a listening socket to worker w's accept slots. */
static int worker_add_accept(struct rp_worker *w, int fd, unsigned listener)
{
    struct rp_accept *a = realloc(w->accepts, (w->n_accepts + 1) * sizeof *a);
    if (!a)
        return -1;
    w->accepts = a;
    memset(&a[w->n_accepts], 0, sizeof *a);
    a[w->n_accepts].io.fd = fd;
    a[w->n_accepts].listener = listener;
    w->n_accepts++;
    return 0;
}

/* The sockets of one listener: those a predecessor handed over for its
 * address, and new ones up to one per worker. Socket j goes to worker
 * j % n_workers, so every inherited queue is served. */
static int listen_one(struct rp_proc *proc, unsigned l, struct sockaddr_storage *sa,
                      socklen_t *len, const char *where)
{
    char shown[80];
    rp_sock_format(sa, shown, sizeof shown);
    unsigned n = 0;
    int fd;
    while (proc->upgrade && (fd = rp_upgrade_take_socket(proc->upgrade, sa, len)) >= 0) {
        if (worker_add_accept(&proc->workers[n % proc->n_workers], fd, l) < 0) {
            close(fd);
            return -1;
        }
        n++;
    }
    if (n == 0 && address_taken(sa, *len)) {
        rp_error("cannot listen on %s (%s): another process listens there (a second copy "
                 "of this proxy? to replace it, start this one with --upgrade-from)",
                 shown, where);
        return -1;
    }
    for (; n < proc->n_workers; n++) {
        fd = open_listener(sa, *len, where, shown);
        if (fd < 0)
            return -1;
        if (worker_add_accept(&proc->workers[n], fd, l) < 0) {
            close(fd);
            return -1;
        }
        /* Port 0 asks for any port: the other workers share the one the
         * first one got. */
        if (n == 0 && getsockname(fd, (struct sockaddr *)sa, len) < 0)
            return -1;
    }
    return 0;
}

int rp_proc_listen(struct rp_proc *proc, const char *const *listen_override, unsigned n_override)
{
    const struct rp_program *prog = proc->prog;
    unsigned n = listen_override ? n_override : prog->n_listeners;
    proc->n_listeners = n;
    proc->listener_conns = calloc(n ? n : 1, sizeof *proc->listener_conns);
    proc->listener_max = calloc(n ? n : 1, sizeof *proc->listener_max);
    if (!proc->listener_conns || !proc->listener_max)
        return -1;
    /* --listen replaces the policy's addresses in order; a listener's
     * options stay with its position. */
    for (unsigned l = 0; l < n && l < prog->n_listeners; l++)
        proc->listener_max[l] = prog->listeners[l].max_conns;
    for (unsigned l = 0; l < n; l++) {
        struct sockaddr_storage sa;
        socklen_t len;
        const char *where = listen_override ? "--listen" : prog->listeners[l].where;
        if (listen_override) {
            if (parse_listen(listen_override[l], &sa, &len) < 0) {
                rp_error("--listen %s: expected HOST:PORT, :PORT or [V6]:PORT",
                         listen_override[l]);
                return -1;
            }
        } else if (rp_sock_addr(prog->listeners[l].host, prog->listeners[l].port, &sa, &len) < 0) {
            rp_error("bad listen address %s (%s)", prog->listeners[l].host, where);
            return -1;
        }
        if (listen_one(proc, l, &sa, &len, where) < 0)
            return -1;
        if (l == 0)
            proc->first_port = ntohs(((struct sockaddr_in *)&sa)->sin_port);
        char shown[80];
        rp_sock_format(&sa, shown, sizeof shown);
        rp_info("listening on %s (%s)", shown, where);
    }
    if (proc->upgrade)
        rp_upgrade_close_unused(proc->upgrade);
    return 0;
}

/* Closes the worker's listening sockets still open and forgets them. */
static void accepts_free(struct rp_worker *w)
{
    for (unsigned k = 0; k < w->n_accepts; k++)
        if (w->accepts[k].io.fd >= 0)
            close(w->accepts[k].io.fd);
    free(w->accepts);
    w->accepts = NULL;
    w->n_accepts = 0;
}

void rp_proc_close_listeners(struct rp_proc *proc)
{
    for (unsigned i = 0; proc->workers && i < proc->n_workers; i++)
        accepts_free(&proc->workers[i]);
}

void rp_worker_maybe_exit(struct rp_worker *w)
{
    if (w->stopping && w->n_conns == 0)
        ev_break(w->loop, EVBREAK_ALL);
}

/* Stops accepting. The sockets close too, unless a successor took them
 * over: then they stay open until the end (closing a socket another
 * process also holds would leave it in this loop's epoll set). */
static void close_listeners(struct rp_worker *w, bool close_fds)
{
    for (unsigned k = 0; k < w->n_accepts; k++) {
        struct rp_accept *a = &w->accepts[k];
        if (a->io.fd < 0)
            continue;
        ev_io_stop(w->loop, &a->io);
        if (close_fds) {
            close(a->io.fd);
            a->io.fd = -1;
        }
    }
}

/* Draining after an upgrade: a connection idle at two sweeps in a row
 * (a second or more) closes. Closing every idle keep-alive connection at
 * once, as a plain stop does, races clients that are sending their next
 * request at that moment: they would see the connection reset instead of
 * an answer. Busy ones close after their next response (Connection: close).
 * HTTP/2 connections get their GOAWAY at once: it tells clients to go on
 * elsewhere without losing a stream. */
static void close_long_idle(struct rp_worker *w)
{
    struct rp_conn *c = w->conns, *next;
    for (; c; c = next) {
        next = c->next;
        if (c->state == RP_CONN_H2) {
            rp_conn_close_if_idle(c); /* its GOAWAY */
            continue;
        }
        bool idle = c->state == RP_CONN_IDLE && !(c->in && rp_buf_len(c->in) > 0) &&
                    !c->h2_stream;
        if (idle && c->drain_idle)
            rp_conn_close(c);
        else
            c->drain_idle = idle;
    }
}

static void close_all(struct rp_worker *w, bool idle_only)
{
    if (!idle_only) {
        /* From the head each time: closing an HTTP/2 connection closes
         * its streams' connections, wherever they are in the list. */
        while (w->conns)
            rp_conn_close(w->conns);
        return;
    }
    struct rp_conn *c = w->conns, *next;
    for (; c; c = next) {
        next = c->next;
        if (!c->h2_stream)
            rp_conn_close_if_idle(c);
    }
}

/* ---- accepting under limits ---------------------------------------------------- */

static uint64_t buffer_bytes_in_use(const struct rp_proc *proc)
{
    uint64_t n = 0, other = 0;
    for (unsigned i = 0; i < proc->n_workers; i++) {
        n += rp_buf_in_use(&proc->workers[i].bufs);
        other += atomic_load_explicit(&proc->workers[i].bufs.other_bytes, memory_order_relaxed);
    }
    return n * sizeof(struct rp_buf) + other;
}

bool rp_worker_may_accept(struct rp_worker *w)
{
    const struct rp_proc *proc = w->proc;
    /* Its own count fresh; the other workers' as of their last accept or
     * sweep (at most a second old). */
    rp_buf_publish(&w->bufs);
    if (atomic_load_explicit(&proc->n_client_conns, memory_order_relaxed) >= proc->cfg.max_conns)
        return false;
    return buffer_bytes_in_use(proc) < proc->cfg.max_buf_bytes;
}

/* Closes up to `n` of this worker's idle keep-alive connections, the room
 * nginx also makes when it runs out of connections: an idle client can
 * reconnect, a waiting new one cannot get in. */
static void close_some_idle(struct rp_worker *w, unsigned n)
{
    struct rp_conn *c = w->conns, *next;
    for (; c && n; c = next) {
        next = c->next;
        if (rp_conn_close_if_kept_alive(c))
            n--;
    }
}

bool rp_listener_has_room(const struct rp_proc *proc, unsigned l)
{
    return proc->listener_max[l] == 0 ||
           atomic_load_explicit(&proc->listener_conns[l], memory_order_relaxed) <
               proc->listener_max[l];
}

/* Runs the accept watchers that may run now (under the global limits, on
 * listeners under their own) and stops the others. True when all run. */
static bool refresh_accepting(struct rp_worker *w)
{
    bool global = rp_worker_may_accept(w), all = true;
    for (unsigned k = 0; k < w->n_accepts; k++) {
        struct rp_accept *a = &w->accepts[k];
        if (a->io.fd < 0)
            continue;
        bool run = global && rp_listener_has_room(w->proc, a->listener);
        if (run)
            ev_io_start(w->loop, &a->io);
        else
            ev_io_stop(w->loop, &a->io);
        all &= run;
    }
    w->accept_paused = !all;
    return all;
}

static void retry_accept_in(struct rp_worker *w, double seconds)
{
    ev_timer_stop(w->loop, &w->accept_retry);
    ev_timer_set(&w->accept_retry, seconds, 0);
    ev_timer_start(w->loop, &w->accept_retry);
}

void rp_worker_accept_pause(struct rp_worker *w, double seconds)
{
    if (seconds == 0) {
        close_some_idle(w, 32);
        if (refresh_accepting(w))
            return;
    } else {
        for (unsigned k = 0; k < w->n_accepts; k++)
            ev_io_stop(w->loop, &w->accepts[k].io);
        w->accept_paused = true;
    }
    /* At a limit, a close resumes at the end of its loop turn (reaper_cb);
     * the timer covers room freed by other workers and descriptor
     * shortages, which no close of ours announces. */
    retry_accept_in(w, seconds > 0 ? seconds : 0.05);
}

void rp_worker_listener_full(struct rp_worker *w, unsigned l)
{
    for (unsigned k = 0; k < w->n_accepts; k++)
        if (w->accepts[k].listener == l)
            ev_io_stop(w->loop, &w->accepts[k].io);
    w->accept_paused = true;
    if (!ev_is_active(&w->accept_retry))
        retry_accept_in(w, 0.05);
}

void rp_worker_accept_resume(struct rp_worker *w)
{
    if (!w->accept_paused || w->stopping)
        return;
    if (refresh_accepting(w))
        ev_timer_stop(w->loop, &w->accept_retry);
}

static void accept_retry_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop;
    (void)revents;
    struct rp_worker *w =
        (struct rp_worker *)((char *)t - offsetof(struct rp_worker, accept_retry));
    if (w->stopping)
        return;
    if (!refresh_accepting(w))
        rp_worker_accept_pause(w, 0);
}

/* Accepts a connection on a listening socket (one per readiness event). */
static void accept_cb(struct ev_loop *loop, ev_io *lw, int revents)
{
    (void)revents;
    struct rp_worker *w = ev_userdata(loop);
    struct sockaddr_storage peer;
    socklen_t len = sizeof peer;
    /* One accept per readiness event, as nginx does by default: with
     * SO_REUSEPORT each worker has its own queue, and a second accept would
     * usually cost a system call only to learn the queue is empty. */
    if (!rp_worker_may_accept(w)) {
        /* At the connection or memory limit: new clients wait in the
         * listen queue until a connection closes. */
        if (rp_log_limit_pass(&w->accept_log, ev_now(loop)))
            rp_warn("worker %u: at the limit of %u connections or %llu MB of buffers; "
                    "new connections wait",
                    w->id, w->cfg->max_conns, (unsigned long long)(w->cfg->max_buf_bytes >> 20));
        rp_worker_accept_pause(w, 0);
        return;
    }
    unsigned l = ((struct rp_accept *)lw)->listener;
    if (!rp_listener_has_room(w->proc, l)) {
        if (rp_log_limit_pass(&w->accept_log, ev_now(loop)))
            rp_warn("worker %u: listener %s at its limit of %u connections; new connections "
                    "wait",
                    w->id, l < w->prog->n_listeners ? w->prog->listeners[l].where : "",
                    w->proc->listener_max[l]);
        rp_worker_listener_full(w, l);
        return;
    }
    int fd = accept4(lw->fd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        if (err == EAGAIN || err == EINTR || err == ECONNABORTED)
            return;
        if (rp_log_limit_pass(&w->accept_log, ev_now(loop)))
            rp_warn("accept: %s; pausing new connections for 100 ms", strerror(err));
        /* Out of descriptors or memory: the connection stays queued and the
         * listener stays readable, so retrying at once would spin. */
        rp_worker_accept_pause(w, 0.1);
        return;
    }
    rp_conn_open(w, fd, &peer, l);
}

static void wakeup_cb(struct ev_loop *loop, ev_async *a, int revents)
{
    (void)revents;
    struct rp_worker *w = (struct rp_worker *)((char *)a - offsetof(struct rp_worker, wakeup));
    int level = w->proc->stop_level;
    if (level >= 1 && !w->stopping) {
        w->stopping = true;
        w->stop_deadline = ev_now(loop) + w->proc->cfg.drain_timeout;
        ev_timer_stop(loop, &w->accept_retry);
        close_listeners(w, !w->proc->handed_over);
        rp_upstream_sweep(w, true);
        if (!w->proc->handed_over) /* else close_long_idle, from the sweep */
            close_all(w, true);
    }
    if (level >= 2)
        close_all(w, false);
    rp_conn_free_closed(w);
    rp_worker_maybe_exit(w);
}

static void sweep_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)revents;
    struct rp_worker *w = (struct rp_worker *)((char *)t - offsetof(struct rp_worker, sweep));
    rp_upstream_sweep(w, false);
    rp_buf_publish(&w->bufs);
    rp_access_log_flush(); /* lines reach the file within a second */
    if (w->stopping && w->proc->handed_over)
        close_long_idle(w);
    if (w->stopping && ev_now(loop) >= w->stop_deadline) {
        rp_warn("worker %u: drain timeout, closing %u connections", w->id, w->n_conns);
        close_all(w, false);
    }
}

static void queue_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop;
    (void)revents;
    struct rp_worker *w =
        (struct rp_worker *)((char *)t - offsetof(struct rp_worker, queue_timer));
    rp_proxy_queue_poll(w);
}

static void reaper_cb(struct ev_loop *loop, ev_prepare *p, int revents)
{
    (void)loop;
    (void)revents;
    struct rp_worker *w = (struct rp_worker *)((char *)p - offsetof(struct rp_worker, reaper));
    if (!w->closed)
        return;
    /* Connections closed this turn: free them, and let the room they made
     * resume accepting if a limit had paused it. */
    rp_conn_free_closed(w);
    rp_worker_accept_resume(w);
    rp_worker_maybe_exit(w);
}

static int worker_init(struct rp_proc *proc, struct rp_worker *w, unsigned id)
{
    const struct rp_program *prog = proc->prog;
    w->id = id;
    w->proc = proc;
    w->prog = prog;
    w->cfg = &proc->cfg;
    w->start_proxy = rp_proxy_start;
    w->start_tcp = rp_proxy_start_tcp;
    w->start_h2 = rp_h2_start;
    w->bufs.max_free = 1024;
    if (rp_metrics_init(&w->metrics, prog) < 0)
        return -1;
    if (prog->n_auths && !(w->auth_cache = rp_auth_cache_new()))
        return -1;
    if (prog->n_jwts && !(w->jwt_cache = rp_jwt_cache_new()))
        return -1;
    w->loop = ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOENV | EVFLAG_NOSIGMASK);
    if (!w->loop)
        return -1;
    ev_set_userdata(w->loop, w);
    w->backends = calloc(prog->n_backends ? prog->n_backends : 1, sizeof *w->backends);
    if (!w->backends)
        return -1;
    for (uint32_t b = 0; b < prog->n_backends; b++) {
        struct rp_backend_rt *rt = &w->backends[b];
        uint32_t n = prog->backends[b].n_servers;
        rt->pools = calloc(n, sizeof *rt->pools);
        rt->balance.current_weight = calloc(n, sizeof *rt->balance.current_weight);
        for (uint32_t s = 0; s < n; s++)
            rt->h2 |= prog->backends[b].servers[s].h2;
        if (!rt->pools || !rt->balance.current_weight)
            return -1;
        /* Start with the reserve: the first failures may be retried. */
        rt->proxy.retry_tokens = RP_RETRY_RESERVE;
    }
    for (unsigned k = 0; k < w->n_accepts; k++) {
        struct rp_accept *a = &w->accepts[k];
        ev_io_init(&a->io, accept_cb, a->io.fd, EV_READ);
        ev_io_start(w->loop, &a->io);
    }
    ev_async_init(&w->wakeup, wakeup_cb);
    ev_async_start(w->loop, &w->wakeup);
    ev_timer_init(&w->sweep, sweep_cb, 1.0, 1.0);
    ev_timer_start(w->loop, &w->sweep);
    ev_prepare_init(&w->reaper, reaper_cb);
    ev_prepare_start(w->loop, &w->reaper);
    /* 5 ms: how soon a queued request notices room another worker freed. */
    ev_init(&w->queue_timer, queue_timer_cb);
    w->queue_timer.repeat = 0.005;
    ev_init(&w->accept_retry, accept_retry_cb);
    w->rng = 0x9e3779b97f4a7c15ull * (id + 1) ^ (uint64_t)ev_time();
    return 0;
}

static void worker_free(struct rp_worker *w)
{
    if (w->loop) {
        close_all(w, false);
        rp_conn_free_closed(w);
        rp_upstream_sweep(w, true);
        for (uint32_t b = 0; w->backends && b < w->prog->n_backends; b++)
            for (uint32_t s = 0; w->backends[b].pools && s < w->prog->backends[b].n_servers; s++)
                rp_h2up_close(&w->backends[b].pools[s]); /* what a drain left */
        rp_access_log_flush(); /* exchanges closed here logged here */
        close_listeners(w, true);
        ev_loop_destroy(w->loop);
    }
    if (w->backends)
        for (uint32_t b = 0; b < w->prog->n_backends; b++) {
            free(w->backends[b].pools);
            free(w->backends[b].balance.current_weight);
        }
    free(w->backends);
    rp_metrics_free(&w->metrics);
    rp_auth_cache_free(w->auth_cache);
    w->auth_cache = NULL;
    rp_jwt_cache_free(w->jwt_cache);
    w->jwt_cache = NULL;
    accepts_free(w); /* (those of a worker never set up are still open) */
    /* Exchanges closed here (on this thread) left their compressors here. */
    rp_gzip_clear_kept();
    rp_tls_clear_kept();
    rp_buf_pool_clear(&w->bufs);
    rp_exchange_pool_clear(w);
}

static void *worker_main(void *arg)
{
    struct rp_worker *w = arg;
    rp_transport_loop = w->loop; /* TLS reads by its turns */
    ev_run(w->loop, 0);
    rp_gzip_clear_kept(); /* the thread's own, before it ends */
    rp_tls_clear_kept();
    rp_cache_refresh_clear(); /* its watchers are on this thread's loop */
    rp_access_log_flush();
    pthread_mutex_lock(&main_ctx.lock);
    main_ctx.n_running--;
    pthread_mutex_unlock(&main_ctx.lock);
    ev_async_send(main_ctx.loop, &main_ctx.worker_done);
    return NULL;
}

/* SIGHUP reloads what lives in files beside the binary: TLS certificates,
 * keys, OCSP staples and ticket keys (they rotate more often than policies
 * change), and `auth basic`'s user files. The policy itself is compiled in; it says so. */
static void sighup_cb(struct ev_loop *loop, ev_signal *s, int revents)
{
    (void)loop;
    (void)s;
    (void)revents;
    if (rp_tls_listeners() || rp_auth_files() || rp_jwt_keys()) {
        rp_tls_reload();
        rp_auth_reload();
        rp_jwt_reload();
        return;
    }
    rp_warn("SIGHUP: the policy is compiled into this binary; to change it, build a new one "
            "with rpx build, put it in this one's place and send SIGUSR2 (ignored)");
}

/* SIGUSR1 reopens the access log (logrotate moved it). */
static void sigusr1_cb(struct ev_loop *loop, ev_signal *s, int revents)
{
    (void)loop;
    (void)s;
    (void)revents;
    rp_access_log_reopen();
}

/* SIGUSR2 starts a successor from this binary's path (upgrade.h). */
static void sigusr2_cb(struct ev_loop *loop, ev_signal *s, int revents)
{
    (void)s;
    (void)revents;
    rp_upgrade_exec(main_ctx.proc, loop);
}

void rp_proc_stop(struct rp_proc *proc, bool handed_over)
{
    if (handed_over)
        proc->handed_over = true;
    proc->stop_level++;
    for (unsigned i = 0; i < proc->n_workers; i++)
        ev_async_send(proc->workers[i].loop, &proc->workers[i].wakeup);
}

static void signal_cb(struct ev_loop *loop, ev_signal *s, int revents)
{
    (void)loop;
    (void)revents;
    struct rp_proc *proc = main_ctx.proc;
    rp_info("%s: %s", strsignal(s->signum),
            proc->stop_level == 0 ? "finishing in-flight requests, then stopping"
                                  : "stopping now");
    rp_proc_stop(proc, false);
}

static void worker_done_cb(struct ev_loop *loop, ev_async *a, int revents)
{
    (void)a;
    (void)revents;
    pthread_mutex_lock(&main_ctx.lock);
    unsigned running = main_ctx.n_running;
    pthread_mutex_unlock(&main_ctx.lock);
    if (running == 0)
        ev_break(loop, EVBREAK_ALL);
}

int rp_proc_run(struct rp_proc *proc)
{
    int status = 0;
    main_ctx.proc = proc;
    main_ctx.loop = ev_default_loop(EVFLAG_AUTO);
    proc->stop = rp_proc_stop;
    pthread_mutex_init(&main_ctx.lock, NULL);
    ev_async_init(&main_ctx.worker_done, worker_done_cb);
    ev_async_start(main_ctx.loop, &main_ctx.worker_done);
    ev_signal sigint, sigterm, sighup, sigusr1, sigusr2;
    ev_signal_init(&sigint, signal_cb, SIGINT);
    ev_signal_init(&sigterm, signal_cb, SIGTERM);
    ev_signal_init(&sighup, sighup_cb, SIGHUP);
    ev_signal_init(&sigusr1, sigusr1_cb, SIGUSR1);
    ev_signal_init(&sigusr2, sigusr2_cb, SIGUSR2);
    ev_signal_start(main_ctx.loop, &sigint);
    ev_signal_start(main_ctx.loop, &sigterm);
    ev_signal_start(main_ctx.loop, &sighup);
    ev_signal_start(main_ctx.loop, &sigusr1);
    ev_signal_start(main_ctx.loop, &sigusr2);
    /* Active health checks run here, once for the process; so do the
     * shared limits' talks with Redis. */
    rp_health_start(proc, main_ctx.loop);
    if (rp_limit_redis_start(proc, main_ctx.loop) < 0)
        status = 1;

    unsigned started = 0;
    for (unsigned i = 0; i < proc->n_workers; i++) {
        if (worker_init(proc, &proc->workers[i], i) < 0) {
            rp_error("cannot set up worker %u: %s", i, strerror(errno));
            status = 1;
            break;
        }
    }
    /* Workers never take SIGINT/SIGTERM: the main thread's loop does. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGUSR1);
    sigaddset(&block, SIGUSR2);
    sigaddset(&block, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    main_ctx.n_running = 0;
    rp_transport_iteration = ev_iteration; /* before any worker reads */
    for (unsigned i = 0; status == 0 && i < proc->n_workers; i++) {
        pthread_mutex_lock(&main_ctx.lock);
        main_ctx.n_running++;
        pthread_mutex_unlock(&main_ctx.lock);
        if (pthread_create(&proc->workers[i].thread, NULL, worker_main, &proc->workers[i])) {
            pthread_mutex_lock(&main_ctx.lock);
            main_ctx.n_running--;
            pthread_mutex_unlock(&main_ctx.lock);
            rp_error("cannot start worker %u", i);
            status = 1;
            break;
        }
        started++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (status) {
        proc->stop_level = 2;
        for (unsigned i = 0; i < started; i++)
            ev_async_send(proc->workers[i].loop, &proc->workers[i].wakeup);
    }
    if (started && status == 0)
        rp_upgrade_serving(proc, main_ctx.loop); /* a predecessor stops; systemd hears */
    if (started)
        ev_run(main_ctx.loop, 0);
    for (unsigned i = 0; i < started; i++)
        pthread_join(proc->workers[i].thread, NULL);
    for (unsigned i = 0; i < proc->n_workers; i++)
        worker_free(&proc->workers[i]);
    rp_health_free(proc, main_ctx.loop);
    rp_limit_redis_stop(main_ctx.loop);
    rp_upgrade_end(proc, main_ctx.loop);
    ev_signal_stop(main_ctx.loop, &sigint);
    ev_signal_stop(main_ctx.loop, &sigterm);
    ev_async_stop(main_ctx.loop, &main_ctx.worker_done);
    ev_loop_destroy(main_ctx.loop);
    pthread_mutex_destroy(&main_ctx.lock);
    if (status == 0)
        rp_info("stopped");
    return status;
}
