/* health.h: what the process knows about each server's health, shared by
 * all workers, and the active checkers that keep it current.
 *
 * A server is usable when its active check says up (always, without a
 * check) and no passive ejection is running. Workers read and update this
 * state with atomics only: no lock on the request path. The active checkers
 * run on the main thread's loop, one per server for the whole process, so
 * adding workers does not multiply check traffic.
 */
#ifndef RP_HEALTH_H
#define RP_HEALTH_H

#include <ev.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct rp_proc;

/* One per server, shared by every worker; a cache line each so that
 * counters of different servers do not contend. */
struct rp_server_state {
    atomic_uint active;           /* requests in flight to it, all workers */
    atomic_bool check_up;         /* the active check's verdict */
    atomic_uint fails;            /* consecutive passive failures */
    atomic_uint ejections;        /* consecutive passive ejections (backoff) */
    atomic_llong down_until_ms;   /* passive ejection ends (ms, ev_time) */
    atomic_llong up_since_ms;     /* came (back) up: slow start reference */
} __attribute__((aligned(64)));

/* Consecutive failures (connect errors, timeouts, 5xx) that eject a server,
 * and the first ejection's length; each further one doubles it, up to the
 * maximum. */
#define RP_PASSIVE_FAILS 3
#define RP_PASSIVE_BACKOFF_MS 2000
#define RP_PASSIVE_BACKOFF_MAX_MS 60000

/* Allocates the shared state (every server up) and the checkers. Returns 0
 * or -1 (out of memory). */
int rp_health_init(struct rp_proc *proc);

/* Starts the active checkers on `loop` (the main thread's). */
void rp_health_start(struct rp_proc *proc, struct ev_loop *loop);

/* Stops the checkers (when started on `loop`; NULL if never started) and
 * frees everything, after the workers ended. Safe to call twice. */
void rp_health_free(struct rp_proc *proc, struct ev_loop *loop);

static inline long long rp_now_ms(struct ev_loop *loop)
{
    return (long long)(ev_now(loop) * 1000.0);
}

/* True when the server may get requests now. */
static inline bool rp_server_usable(const struct rp_server_state *st, long long now_ms)
{
    return atomic_load_explicit(&st->check_up, memory_order_relaxed) &&
           now_ms >= atomic_load_explicit(&st->down_until_ms, memory_order_relaxed);
}

/* Passive health: an exchange with server (backend b, server s) failed
 * (`why` for the log) or succeeded. */
void rp_health_failed(struct rp_proc *proc, uint32_t b, uint32_t s, long long now_ms,
                      const char *why);
void rp_health_succeeded(struct rp_proc *proc, uint32_t b, uint32_t s);

#endif
