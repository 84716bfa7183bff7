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

#include "rp/program.h"

struct rp_proc;

/* One per server, shared by every worker; a cache line each so that
 * counters of different servers do not contend.
 *
 * Passive ejection: after `eject_after` failures in a row (connect errors,
 * resets before a response, timeouts, 500/502/503/504) a server is ejected
 * until `down_until_ms`. When that time comes, one request (or one connect)
 * probes it: a connect that succeeds restores the server at once; one that
 * fails ejects it again for twice as long (up to the maximum), so the
 * backoff grows within one outage, and starts again from the base at the
 * next. `gen` changes at every ejection and restoration: a failure of an
 * attempt that began under another generation (a request already in flight
 * when the server was ejected) says nothing new and is not counted. */
struct rp_server_state {
    atomic_uint active;           /* requests in flight to it, all workers */
    atomic_bool check_up;         /* the active check's verdict */
    atomic_bool probing;          /* an ejected server's probe is in flight */
    atomic_uint fails;            /* consecutive passive failures */
    atomic_uint gen;              /* ejection/restoration generation */
    atomic_uint ejections;        /* failed probes in this outage (backoff) */
    atomic_llong down_until_ms;   /* 0, or ejected until then (ms, ev_time) */
    atomic_llong up_since_ms;     /* came (back) up: slow start reference */
    atomic_uint weight;           /* the weight in force: the policy's, or an admin's */
    atomic_uint transitions;      /* up to down and back, by checks or ejection */
    atomic_uchar admin;           /* RP_ADMIN_*: what an operator said (status admin) */
} __attribute__((aligned(64)));

/* An operator's word on a server (the status page's admin actions), beside
 * what health checks find. READY: as health says. DRAIN: no new requests;
 * those in flight finish; checks go on. MAINT (disabled): no new requests
 * and no checks, until enabled again. */
enum rp_admin_state { RP_ADMIN_READY = 0, RP_ADMIN_DRAIN = 1, RP_ADMIN_MAINT = 2 };

/* True when the balancer may pick the server at all: an operator did not
 * take it out, and its weight is not 0. */
static inline bool rp_server_admitted(const struct rp_server_state *st)
{
    return atomic_load_explicit(&st->admin, memory_order_relaxed) == RP_ADMIN_READY &&
           atomic_load_explicit(&st->weight, memory_order_relaxed) != 0;
}

/* One per backend, shared: how many of its servers are passively ejected,
 * so the request path looks for a probe to send only when there may be one. */
struct rp_backend_state {
    atomic_uint n_ejected;
} __attribute__((aligned(64)));

/* Defaults for the backend's `eject after N for D max D`. */
#define RP_EJECT_AFTER 3
#define RP_EJECT_MS 1000
#define RP_EJECT_MAX_MS 30000

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

/* True when the server may get requests now: its check says up and it is
 * not ejected. */
static inline bool rp_server_usable(const struct rp_server_state *st)
{
    return atomic_load_explicit(&st->check_up, memory_order_relaxed) &&
           atomic_load_explicit(&st->down_until_ms, memory_order_relaxed) == 0;
}

/* True when an ejected server's backoff is over and nobody probes it yet. */
static inline bool rp_server_probe_due(const struct rp_server_state *st, long long now_ms)
{
    long long until = atomic_load_explicit(&st->down_until_ms, memory_order_relaxed);
    return until != 0 && now_ms >= until &&
           atomic_load_explicit(&st->check_up, memory_order_relaxed) &&
           !atomic_load_explicit(&st->probing, memory_order_relaxed);
}

/* Claims the probe of a server whose backoff is over; true for the one
 * caller that gets it. */
bool rp_health_claim_probe(struct rp_server_state *st, long long now_ms);

/* The generation an attempt starts under (see struct rp_server_state). */
static inline unsigned rp_server_gen(const struct rp_server_state *st)
{
    return atomic_load_explicit(&st->gen, memory_order_relaxed);
}

/* Passive health: an attempt on server (backend b, server s) that began
 * under generation `gen` failed (`why` for the log) or succeeded. */
void rp_health_failed(struct rp_proc *proc, uint32_t b, uint32_t s, unsigned gen, long long now_ms,
                      const char *why);
void rp_health_succeeded(struct rp_proc *proc, uint32_t b, uint32_t s);

/* The verdict of a probe claimed with rp_health_claim_probe: `ok` restores
 * the server, otherwise it is ejected again with a doubled backoff. */
void rp_health_probe_done(struct rp_proc *proc, uint32_t b, uint32_t s, bool ok, long long now_ms,
                          const char *why);

/* A claimed probe gave no verdict (its request went away first, or this
 * process ran short): the claim is released and the next request probes. */
void rp_health_probe_abandoned(struct rp_proc *proc, uint32_t b, uint32_t s);

/* The server named `server` (slice) of the backend named `backend`, in
 * prog: true and its indices in *b, *s; false when there is none. For
 * names that come from outside (the admin actions, a predecessor). */
bool rp_server_find(const struct rp_program *prog, const char *backend, size_t backend_len,
                    const char *server, size_t server_len, uint32_t *b, uint32_t *s);

/* A server's health as a successor process takes it over (upgrade.h):
 * what the checks and the passive ejection have learnt, so an upgrade
 * neither sends traffic to a server known to be down nor forgets an
 * outage's backoff. Times are ev_time milliseconds (wall clock). */
struct rp_health_snapshot {
    bool check_up;
    uint32_t fails, ejections, ok_streak, fail_streak;
    int64_t down_until_ms, up_since_ms;
    uint32_t weight; /* an admin's weight, 0 among them; UINT32_MAX: the policy's */
    uint8_t admin;   /* RP_ADMIN_* */
};
void rp_health_save(const struct rp_proc *proc, uint32_t b, uint32_t s,
                    struct rp_health_snapshot *out);

/* Takes a predecessor's state for server (b, s), before the workers and
 * checkers start. The active check's verdict is kept only when this
 * backend is checked too (else nothing would ever bring it back up). */
void rp_health_restore(struct rp_proc *proc, uint32_t b, uint32_t s,
                       const struct rp_health_snapshot *in);

#endif
