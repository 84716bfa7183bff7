/* health.c: shared server state, passive ejection, and active checks.
 *
 * An active check is one connection per interval: connect (TCP checks stop
 * there), send a small HTTP/1.1 request with Connection: close, read the
 * status line, compare it with the expected range. `rise` successes in a row
 * mark a down server up, `fall` failures in a row mark an up server down;
 * transitions are logged.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "health.h"
#include "proxyproto.h"
#include "log.h"
#include "sock.h"
#include "tls.h"
#include "transport.h"
#include "worker.h"

struct rp_checker {
    ev_timer every;   /* the interval */
    ev_timer timeout; /* the check in progress */
    ev_io io;
    struct rp_transport tr; /* tr.fd -1 between checks */
    bool tcp_done;          /* connect() is done */
    bool connected;         /* ... and TLS's handshake, to a server with tls */
    struct rp_proc *proc;
    uint32_t b, s;
    uint32_t ok_streak, fail_streak;
    uint32_t req_len, req_sent;
    uint32_t got;
    char req[512];
    char *resp; /* RP_HEAD_MAX bytes while an HTTP check reads its answer */
};

int rp_health_init(struct rp_proc *proc)
{
    const struct rp_program *prog = proc->prog;
    uint32_t n_b = prog->n_backends ? prog->n_backends : 1;
    proc->server_state = calloc(n_b, sizeof *proc->server_state);
    proc->checkers = calloc(n_b, sizeof *proc->checkers);
    proc->backend_state = aligned_alloc(64, n_b * sizeof(struct rp_backend_state));
    if (!proc->server_state || !proc->checkers || !proc->backend_state)
        return -1;
    memset(proc->backend_state, 0, n_b * sizeof(struct rp_backend_state));
    for (uint32_t b = 0; b < prog->n_backends; b++) {
        uint32_t n = prog->backends[b].n_servers;
        proc->server_state[b] = aligned_alloc(64, n * sizeof(struct rp_server_state));
        if (!proc->server_state[b])
            return -1;
        memset(proc->server_state[b], 0, n * sizeof(struct rp_server_state));
        for (uint32_t s = 0; s < n; s++) {
            atomic_store(&proc->server_state[b][s].check_up, true);
            atomic_store(&proc->server_state[b][s].weight, prog->backends[b].servers[s].weight);
        }
        if (prog->backends[b].health.kind == RP_HEALTH_NONE)
            continue;
        proc->checkers[b] = calloc(n, sizeof(struct rp_checker));
        if (!proc->checkers[b])
            return -1;
    }
    return 0;
}

static bool restore(struct rp_proc *proc, uint32_t b, uint32_t s, long long now_ms);

/* A server's state change, in one form: "server B/S (HOST:PORT) WHAT[, last: WHY]". */
static void log_server(const struct rp_proc *proc, uint32_t b, uint32_t s, const char *what,
                       const char *why)
{
    const struct rp_backend_def *be = &proc->prog->backends[b];
    const struct rp_server_def *sd = &be->servers[s];
    rp_warn("server %s/%s (%s:%u) %s%s%s", be->name, sd->name, sd->host, sd->port, what,
            why ? ", last: " : "", why ? why : "");
}

/* A change between usable and not: counted (rpx_server_transitions_total)
 * and logged. */
static void transition(const struct rp_proc *proc, uint32_t b, uint32_t s, const char *what,
                       const char *why)
{
    atomic_fetch_add(&proc->server_state[b][s].transitions, 1);
    log_server(proc, b, s, what, why);
}

static void check_close(struct rp_checker *k, struct ev_loop *loop)
{
    ev_timer_stop(loop, &k->timeout);
    if (k->tr.fd >= 0) {
        ev_io_stop(loop, &k->io);
        rp_transport_close(&k->tr);
    }
    free(k->resp);
    k->resp = NULL;
}

/* Records one check's result and logs a transition. */
static void check_done(struct rp_checker *k, struct ev_loop *loop, bool ok, const char *why)
{
    check_close(k, loop);
    const struct rp_backend_def *be = &k->proc->prog->backends[k->b];
    struct rp_server_state *st = &k->proc->server_state[k->b][k->s];
    bool up = atomic_load(&st->check_up);
    if (ok) {
        k->fail_streak = 0;
        k->ok_streak++;
        /* A passing check ends a passive ejection: the server answers. */
        if (restore(k->proc, k->b, k->s, rp_now_ms(loop)))
            transition(k->proc, k->b, k->s, "is back in service: its health check passed", NULL);
        if (!up && k->ok_streak >= be->health.rise) {
            atomic_store(&st->up_since_ms, rp_now_ms(loop));
            atomic_store(&st->check_up, true);
            char what[48];
            snprintf(what, sizeof what, "is UP: %u checks passed", k->ok_streak);
            transition(k->proc, k->b, k->s, what, NULL);
        }
    } else {
        k->ok_streak = 0;
        k->fail_streak++;
        if (up && k->fail_streak >= be->health.fall) {
            atomic_store(&st->check_up, false);
            char what[48];
            snprintf(what, sizeof what, "is DOWN: %u checks failed", k->fail_streak);
            transition(k->proc, k->b, k->s, what, why);
        }
    }
}

/* Reads the response head and judges its status. The head is read with
 * the parser that reads servers' answers to clients' requests, so a server
 * whose answers the proxy would refuse (502) does not pass its check. */
static void check_read(struct rp_checker *k, struct ev_loop *loop)
{
    const struct rp_health_def *h = &k->proc->prog->backends[k->b].health;
    if (!k->resp && !(k->resp = malloc(RP_HEAD_MAX))) {
        check_done(k, loop, false, "out of memory");
        return;
    }
    ssize_t n = rp_transport_read(&k->tr, k->resp + k->got, RP_HEAD_MAX - k->got);
    if (n < 0 && errno == EAGAIN)
        return;
    if (n <= 0) {
        check_done(k, loop, false, n == 0 ? "closed before a response" : strerror(errno));
        return;
    }
    k->got += (uint32_t)n;
    struct rp_http1_response resp;
    bool head = h->method && strcmp(h->method, "HEAD") == 0;
    const struct rp_http1_limits *limits = &k->proc->cfg.resp_limits;
    int r = rp_http1_parse_response(k->resp, k->got, limits, head, &resp);
    /* Interim answers (100, 103) come before the final one. */
    while (r > 0 && resp.status < 200 && resp.status != 101) {
        k->got -= (uint32_t)r;
        memmove(k->resp, k->resp + r, k->got);
        r = k->got ? rp_http1_parse_response(k->resp, k->got, limits, head, &resp)
                   : RP_HTTP1_INCOMPLETE;
    }
    if (r == RP_HTTP1_INCOMPLETE && k->got < RP_HEAD_MAX)
        return;
    if (r < 0) {
        check_done(k, loop, false,
                   r == RP_HTTP1_INCOMPLETE ? "response head too large" : "not a valid HTTP response");
        return;
    }
    unsigned status = resp.status;
    if (status < h->expect_min || status > h->expect_max) {
        char why[64];
        snprintf(why, sizeof why, "status %u", status);
        check_done(k, loop, false, why);
        return;
    }
    check_done(k, loop, true, NULL);
}

static void check_want(struct rp_checker *k, struct ev_loop *loop, int events)
{
    rp_io_want(loop, &k->io, events); /* the watcher is on k->tr.fd since the check began */
}

/* The connection is made when connect() is done and, to a server with
 * `tls`, the handshake too (a check over TLS verifies the server as
 * requests do). Returns true when it is. */
static bool check_connect(struct rp_checker *k, struct ev_loop *loop)
{
    if (!k->tcp_done) {
        int err = rp_sock_connect_result(k->tr.fd);
        if (err) {
            check_done(k, loop, false, strerror(err));
            return false;
        }
        k->tcp_done = true;
        if (k->proc->prog->backends[k->b].servers[k->s].tls &&
            rp_tls_client(&k->tr, k->b, k->s) < 0) {
            check_done(k, loop, false, "out of memory");
            return false;
        }
    }
    if (k->tr.tls) {
        int want;
        const char *why = "";
        int r = rp_tls_handshake(&k->tr, &want, &why);
        if (r < 0) {
            char what[160];
            snprintf(what, sizeof what, "TLS handshake failed: %s", why);
            check_done(k, loop, false, what);
            return false;
        }
        if (r == 0) {
            check_want(k, loop, want);
            return false;
        }
    }
    k->connected = true;
    check_want(k, loop, EV_WRITE);
    return true;
}

static void check_io_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct rp_checker *k = (struct rp_checker *)((char *)io - offsetof(struct rp_checker, io));
    const struct rp_health_def *h = &k->proc->prog->backends[k->b].health;
    if (!k->connected) {
        if (!check_connect(k, loop))
            return;
        if (h->kind == RP_HEALTH_TCP) {
            check_done(k, loop, true, NULL);
            return;
        }
        revents = EV_WRITE;
    }
    if (revents & EV_WRITE) {
        struct iovec iov = {k->req + k->req_sent, k->req_len - k->req_sent};
        ssize_t n = rp_transport_writev(&k->tr, &iov, 1);
        if (n < 0) {
            if (errno != EAGAIN)
                check_done(k, loop, false, strerror(errno));
            return;
        }
        k->req_sent += (uint32_t)n;
        if (k->req_sent == k->req_len)
            check_want(k, loop, EV_READ);
        return;
    }
    check_read(k, loop);
}

static void check_timeout_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)revents;
    struct rp_checker *k =
        (struct rp_checker *)((char *)t - offsetof(struct rp_checker, timeout));
    check_done(k, loop, false, "timed out");
}

static void check_start_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)revents;
    struct rp_checker *k = (struct rp_checker *)((char *)t - offsetof(struct rp_checker, every));
    if (k->tr.fd >= 0)
        return; /* the previous check is still running (timeout > interval) */
    if (atomic_load(&k->proc->server_state[k->b][k->s].admin) == RP_ADMIN_MAINT)
        return; /* disabled: not checked until enabled */
    const struct rp_health_def *h = &k->proc->prog->backends[k->b].health;
    const struct rp_server_addr *a = &k->proc->server_addrs[k->b][k->s];
    k->got = k->req_sent = 0;
    k->tcp_done = k->connected = false;
    bool connecting;
    int fd = rp_sock_connect(&a->sa, a->len, &connecting);
    if (fd < 0) {
        check_done(k, loop, false, strerror(errno));
        return;
    }
    rp_transport_init(&k->tr, fd);
    ev_io_init(&k->io, check_io_cb, k->tr.fd, EV_WRITE);
    ev_io_start(loop, &k->io);
    ev_timer_set(&k->timeout, h->timeout_ms / 1000.0, 0.);
    ev_timer_start(loop, &k->timeout);
}

void rp_health_start(struct rp_proc *proc, struct ev_loop *loop)
{
    const struct rp_program *prog = proc->prog;
    for (uint32_t b = 0; b < prog->n_backends; b++) {
        const struct rp_backend_def *be = &prog->backends[b];
        if (!proc->checkers[b])
            continue;
        const struct rp_health_def *h = &be->health;
        for (uint32_t s = 0; s < be->n_servers; s++) {
            struct rp_checker *k = &proc->checkers[b][s];
            const struct rp_server_def *sd = &be->servers[s];
            k->proc = proc;
            k->b = b;
            k->s = s;
            k->tr.fd = -1;
            if (h->kind == RP_HEALTH_HTTP) {
                /* A server that reads a PROXY header first gets one that
                 * names no client (v1 UNKNOWN, v2 LOCAL): the check is the
                 * proxy's own connection. */
                size_t pre = 0;
                if (sd->proxy_protocol) {
                    struct sockaddr_storage none = {.ss_family = AF_UNSPEC};
                    pre = rp_proxy_header_write(k->req, sizeof k->req, sd->proxy_protocol, &none,
                                                &none);
                }
                int n = snprintf(k->req + pre, sizeof k->req - pre,
                                 "%s %s HTTP/1.1\r\nHost: %s:%u\r\nUser-Agent: rpx-health\r\n"
                                 "Connection: close\r\n\r\n",
                                 h->method ? h->method : "GET", h->path ? h->path : "/",
                                 sd->port ? sd->host : "localhost", sd->port ? sd->port : 80);
                k->req_len = n > 0 && (size_t)n < sizeof k->req - pre ? (uint32_t)(pre + (size_t)n) : 0;
            }
            /* Spread the first checks over the interval so that many
             * servers are not all checked in the same instant. */
            double every = h->interval_ms / 1000.0;
            double first = 0.05 + every * (double)s / (double)be->n_servers;
            ev_timer_init(&k->every, check_start_cb, first, every);
            ev_init(&k->timeout, check_timeout_cb);
            ev_timer_start(loop, &k->every);
        }
    }
}

void rp_health_free(struct rp_proc *proc, struct ev_loop *loop)
{
    if (!proc->server_state)
        return;
    for (uint32_t b = 0; b < proc->prog->n_backends; b++) {
        if (proc->checkers && proc->checkers[b]) {
            for (uint32_t s = 0; s < proc->prog->backends[b].n_servers; s++) {
                struct rp_checker *k = &proc->checkers[b][s];
                if (!k->proc || !loop)
                    continue;
                ev_timer_stop(loop, &k->every);
                check_close(k, loop);
            }
            free(proc->checkers[b]);
        }
        free(proc->server_state[b]);
    }
    free(proc->checkers);
    free(proc->server_state);
    free(proc->backend_state);
    proc->checkers = NULL;
    proc->server_state = NULL;
    proc->backend_state = NULL;
}

/* Ejection parameters of backend b, defaults filled in. */
static void eject_params(const struct rp_backend_def *be, uint32_t *after, long long *base,
                         long long *max)
{
    *after = be->eject_after ? be->eject_after : RP_EJECT_AFTER;
    *base = be->eject_ms ? be->eject_ms : RP_EJECT_MS;
    *max = be->eject_max_ms ? be->eject_max_ms : RP_EJECT_MAX_MS;
    if (*max < *base)
        *max = *base;
}

static long long backoff_ms(long long base, long long max, unsigned k)
{
    long long t = base;
    while (k-- > 0 && t < max)
        t *= 2;
    return t < max ? t : max;
}

void rp_health_failed(struct rp_proc *proc, uint32_t b, uint32_t s, unsigned gen, long long now_ms,
                      const char *why)
{
    const struct rp_backend_def *be = &proc->prog->backends[b];
    if (be->eject_after == RP_EJECT_OFF)
        return;
    struct rp_server_state *st = &proc->server_state[b][s];
    /* An attempt that began before the last ejection or restoration: its
     * failure is old news (the outage already counted, or is over). */
    if (gen != atomic_load(&st->gen) || atomic_load(&st->down_until_ms) != 0)
        return;
    uint32_t after;
    long long base, max;
    eject_params(be, &after, &base, &max);
    unsigned fails = atomic_fetch_add(&st->fails, 1) + 1;
    if (fails < after)
        return;
    /* The one caller that moves down_until from 0 ejects; the others see it. */
    long long expect = 0, until = now_ms + base;
    if (!atomic_compare_exchange_strong(&st->down_until_ms, &expect, until))
        return;
    atomic_fetch_add(&st->gen, 1);
    atomic_store(&st->fails, 0);
    atomic_fetch_add(&proc->backend_state[b].n_ejected, 1);
    char what[64];
    snprintf(what, sizeof what, "is DOWN for %lld ms: %u failures in a row", base, after);
    transition(proc, b, s, what, why);
}

bool rp_health_claim_probe(struct rp_server_state *st, long long now_ms)
{
    if (!rp_server_probe_due(st, now_ms))
        return false;
    bool expect = false;
    return atomic_compare_exchange_strong(&st->probing, &expect, true);
}

/* Ends an ejection (a probe or an active check passed). Returns true for
 * the caller that ended it. */
static bool restore(struct rp_proc *proc, uint32_t b, uint32_t s, long long now_ms)
{
    struct rp_server_state *st = &proc->server_state[b][s];
    long long until = atomic_load(&st->down_until_ms);
    while (until != 0)
        if (atomic_compare_exchange_weak(&st->down_until_ms, &until, 0))
            break;
    if (until == 0)
        return false;
    atomic_fetch_add(&st->gen, 1);
    atomic_store(&st->fails, 0);
    atomic_store(&st->ejections, 0);
    atomic_store(&st->up_since_ms, now_ms);
    atomic_fetch_sub(&proc->backend_state[b].n_ejected, 1);
    return true;
}

void rp_health_probe_abandoned(struct rp_proc *proc, uint32_t b, uint32_t s)
{
    atomic_store(&proc->server_state[b][s].probing, false);
}

void rp_health_probe_done(struct rp_proc *proc, uint32_t b, uint32_t s, bool ok, long long now_ms,
                          const char *why)
{
    struct rp_server_state *st = &proc->server_state[b][s];
    if (ok) {
        if (restore(proc, b, s, now_ms))
            transition(proc, b, s, "is UP: a probe connected", NULL);
    } else if (atomic_load(&st->down_until_ms) != 0) {
        uint32_t after;
        long long base, max;
        eject_params(&proc->prog->backends[b], &after, &base, &max);
        unsigned k = atomic_fetch_add(&st->ejections, 1) + 1;
        long long t = backoff_ms(base, max, k);
        atomic_store(&st->down_until_ms, now_ms + t);
        char what[64];
        snprintf(what, sizeof what, "is still DOWN: next probe in %lld ms", t);
        log_server(proc, b, s, what, why);
    }
    rp_health_probe_abandoned(proc, b, s);
}

void rp_health_succeeded(struct rp_proc *proc, uint32_t b, uint32_t s)
{
    struct rp_server_state *st = &proc->server_state[b][s];
    /* A plain load first: the common case writes nothing, so the line is
     * not bounced between cores on every request. */
    if (atomic_load_explicit(&st->fails, memory_order_relaxed))
        atomic_store_explicit(&st->fails, 0, memory_order_relaxed);
}

void rp_health_save(const struct rp_proc *proc, uint32_t b, uint32_t s,
                    struct rp_health_snapshot *out)
{
    const struct rp_server_state *st = &proc->server_state[b][s];
    const struct rp_checker *k = proc->checkers[b] ? &proc->checkers[b][s] : NULL;
    *out = (struct rp_health_snapshot){
        .check_up = atomic_load(&st->check_up),
        .fails = atomic_load(&st->fails),
        .ejections = atomic_load(&st->ejections),
        .ok_streak = k ? k->ok_streak : 0,
        .fail_streak = k ? k->fail_streak : 0,
        .down_until_ms = atomic_load(&st->down_until_ms),
        .up_since_ms = atomic_load(&st->up_since_ms),
        .admin = atomic_load(&st->admin),
    };
    uint32_t wgt = atomic_load(&st->weight);
    out->weight = wgt != proc->prog->backends[b].servers[s].weight ? wgt : UINT32_MAX;
}

void rp_health_restore(struct rp_proc *proc, uint32_t b, uint32_t s,
                       const struct rp_health_snapshot *in)
{
    struct rp_server_state *st = &proc->server_state[b][s];
    struct rp_checker *k = proc->checkers[b] ? &proc->checkers[b][s] : NULL;
    if (k) {
        atomic_store(&st->check_up, in->check_up);
        k->ok_streak = in->ok_streak;
        k->fail_streak = in->fail_streak;
    }
    atomic_store(&st->admin, in->admin <= RP_ADMIN_MAINT ? in->admin : RP_ADMIN_READY);
    if (in->weight <= 256) /* an admin's (0 too), not the old policy's */
        atomic_store(&st->weight, in->weight);
    atomic_store(&st->fails, in->fails);
    atomic_store(&st->ejections, in->ejections);
    atomic_store(&st->up_since_ms, in->up_since_ms);
    bool was_ejected = atomic_load(&st->down_until_ms) != 0;
    atomic_store(&st->down_until_ms, in->down_until_ms);
    if (!was_ejected && in->down_until_ms)
        atomic_fetch_add(&proc->backend_state[b].n_ejected, 1);
    else if (was_ejected && !in->down_until_ms)
        atomic_fetch_sub(&proc->backend_state[b].n_ejected, 1);
}

static bool name_eq(const char *name, const char *s, size_t n)
{
    return strlen(name) == n && memcmp(name, s, n) == 0;
}

bool rp_server_find(const struct rp_program *prog, const char *backend, size_t backend_len,
                    const char *server, size_t server_len, uint32_t *b, uint32_t *s)
{
    for (*b = 0; *b < prog->n_backends; (*b)++) {
        const struct rp_backend_def *be = &prog->backends[*b];
        if (!name_eq(be->name, backend, backend_len))
            continue;
        for (*s = 0; *s < be->n_servers; (*s)++)
            if (name_eq(be->servers[*s].name, server, server_len))
                return true;
        return false; /* backend names are unique */
    }
    return false;
}
