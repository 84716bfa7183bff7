/* balance.c: choosing a server for a request.
 *
 * Every algorithm works over the servers that are usable now (health.h) and
 * have room (under max_conns), primaries first; backups are considered only
 * when no primary is usable. A server coming back with slow_start gets a
 * weight that grows from 1 to its own over that time.
 */
#include <stdlib.h>
#include <string.h>

#include "balance.h"
#include "health.h"
#include "worker.h"

uint64_t rp_hash64(const void *p, size_t n, uint64_t seed)
{
    /* FNV-1a, then murmur3's finalizer so that nearby inputs land far apart
     * on the ring. */
    const unsigned char *s = p;
    uint64_t h = 0xcbf29ce484222325ull;
    /* The seed goes in as eight bytes of input: XORed into the start value
     * it would cancel against the data ("a" with seed 3 = "b" with seed 0). */
    for (int i = 0; i < 8; i++) {
        h ^= (seed >> (8 * i)) & 0xff;
        h *= 0x100000001b3ull;
    }
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 0x100000001b3ull;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

/* ---- the consistent-hash ring ------------------------------------------------ */

#define RP_RING_POINTS_PER_WEIGHT 40

struct ring_point {
    uint64_t at;
    uint32_t server;
};

static int by_point(const void *a, const void *b)
{
    const struct ring_point *x = a, *y = b;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    return x->server < y->server ? -1 : x->server > y->server;
}

int rp_ring_build(struct rp_ring *ring, const struct rp_backend_def *be)
{
    uint32_t n = 0;
    for (uint32_t s = 0; s < be->n_servers; s++)
        n += be->servers[s].weight * RP_RING_POINTS_PER_WEIGHT;
    struct ring_point *pts = malloc((n ? n : 1) * sizeof *pts);
    if (!pts)
        return -1;
    uint32_t k = 0;
    for (uint32_t s = 0; s < be->n_servers; s++) {
        /* Points come from the server's name, not its position, so adding or
         * removing another server moves only the keys near its points. */
        const char *name = be->servers[s].name;
        uint32_t replicas = be->servers[s].weight * RP_RING_POINTS_PER_WEIGHT;
        for (uint32_t i = 0; i < replicas; i++) {
            pts[k].at = rp_hash64(name, strlen(name), i);
            pts[k].server = s;
            k++;
        }
    }
    qsort(pts, n, sizeof *pts, by_point);
    ring->n = n;
    ring->at = malloc((n ? n : 1) * sizeof *ring->at);
    ring->server = malloc((n ? n : 1) * sizeof *ring->server);
    if (!ring->at || !ring->server) {
        free(pts);
        return -1;
    }
    for (uint32_t i = 0; i < n; i++) {
        ring->at[i] = pts[i].at;
        ring->server[i] = pts[i].server;
    }
    free(pts);
    return 0;
}

void rp_ring_free(struct rp_ring *ring)
{
    free(ring->at);
    free(ring->server);
    ring->at = NULL;
    ring->server = NULL;
}

/* The first ring position at or after `h` (wrapping). */
static uint32_t ring_find(const struct rp_ring *ring, uint64_t h)
{
    uint32_t lo = 0, hi = ring->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (ring->at[mid] < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == ring->n ? 0 : lo;
}

/* ---- picking ------------------------------------------------------------------ */

struct pick_ctx {
    struct rp_worker *w;
    const struct rp_backend_def *be;
    struct rp_server_state *st;
    long long now;
    uint64_t exclude;
    bool panic;   /* usable or not, every server counts (RP_PICK_F_PANIC) */
    bool backups; /* this pass looks at backups, not primaries */
    bool any_usable;
};

static bool in_pass(const struct pick_ctx *p, uint32_t s)
{
    if (p->be->servers[s].backup != p->backups)
        return false;
    if (s < 64 && (p->exclude >> s) & 1)
        return false;
    if (!rp_server_admitted(&p->st[s])) /* an operator's word beats panic mode */
        return false;
    return p->panic || rp_server_usable(&p->st[s]);
}

/* An ejected server whose backoff is over, claimed for this request to
 * probe, or RP_PICK_NONE. Primaries before backups. */
static uint32_t claim_probe(struct pick_ctx *p)
{
    for (int pass = 0; pass < 2; pass++)
        for (uint32_t s = 0; s < p->be->n_servers; s++) {
            if (p->be->servers[s].backup != (pass == 1) || (s < 64 && (p->exclude >> s) & 1) ||
                !rp_server_admitted(&p->st[s]))
                continue;
            if (rp_health_claim_probe(&p->st[s], p->now))
                return s;
        }
    return RP_PICK_NONE;
}

/* Usable and under max_conns. Notes that some server was usable. */
static bool eligible(struct pick_ctx *p, uint32_t s)
{
    if (!in_pass(p, s))
        return false;
    p->any_usable = true;
    uint32_t max = p->be->servers[s].max_conns;
    return max == 0 || atomic_load_explicit(&p->st[s].active, memory_order_relaxed) < max;
}

/* Weights are used multiplied by this, so that slow start can give even a
 * weight-1 server a small fraction of its share. */
#define WEIGHT_SCALE 16

/* The weight now (scaled): ramps up linearly over slow_start after a
 * recovery, from 1/WEIGHT_SCALE of a unit. */
static uint32_t effective_weight(const struct pick_ctx *p, uint32_t s)
{
    const struct rp_server_def *sd = &p->be->servers[s];
    uint32_t full = atomic_load_explicit(&p->st[s].weight, memory_order_relaxed) * WEIGHT_SCALE;
    if (!full) /* an admin set 0 after eligible() looked: never divide by it */
        full = 1;
    if (!sd->slow_start_ms)
        return full;
    long long since = atomic_load_explicit(&p->st[s].up_since_ms, memory_order_relaxed);
    long long age = p->now - since;
    if (since == 0 || age >= (long long)sd->slow_start_ms)
        return full;
    uint32_t wgt = (uint32_t)((long long)full * (age > 0 ? age : 0) / sd->slow_start_ms);
    return wgt ? wgt : 1;
}

/* Requests in flight per unit of weight, scaled to compare as integers. */
static uint64_t load_of(const struct pick_ctx *p, uint32_t s)
{
    uint64_t active = atomic_load_explicit(&p->st[s].active, memory_order_relaxed);
    return ((active + 1) << 16) / effective_weight(p, s);
}

static uint32_t pick_round_robin(struct pick_ctx *p, int32_t *current_weight)
{
    int32_t total = 0;
    uint32_t best = RP_PICK_NONE;
    for (uint32_t s = 0; s < p->be->n_servers; s++) {
        if (!eligible(p, s))
            continue;
        int32_t wgt = (int32_t)effective_weight(p, s);
        current_weight[s] += wgt;
        total += wgt;
        if (best == RP_PICK_NONE || current_weight[s] > current_weight[best])
            best = s;
    }
    if (best != RP_PICK_NONE)
        current_weight[best] -= total;
    return best;
}

static uint32_t pick_least_conn(struct pick_ctx *p, uint32_t *rotor)
{
    /* Ties go round: start the scan one further each time. */
    uint32_t n = p->be->n_servers, best = RP_PICK_NONE;
    uint64_t best_load = 0;
    uint32_t start = (*rotor)++ % n;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t s = (start + i) % n;
        if (!eligible(p, s))
            continue;
        uint64_t load = load_of(p, s);
        if (best == RP_PICK_NONE || load < best_load) {
            best = s;
            best_load = load;
        }
    }
    return best;
}

static uint64_t next_random(uint64_t *state)
{
    /* xorshift64*: per worker, so no shared state. */
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545f4914f6cdd1dull;
}

static uint32_t random_eligible(struct pick_ctx *p, uint64_t *rng)
{
    uint32_t n = p->be->n_servers;
    uint32_t start = (uint32_t)(next_random(rng) % n);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t s = (start + i) % n;
        if (eligible(p, s))
            return s;
    }
    return RP_PICK_NONE;
}

static uint32_t pick_random2(struct pick_ctx *p, uint64_t *rng)
{
    uint32_t a = random_eligible(p, rng);
    if (a == RP_PICK_NONE)
        return a;
    uint32_t b = random_eligible(p, rng);
    if (b == RP_PICK_NONE || b == a)
        return a;
    return load_of(p, b) < load_of(p, a) ? b : a;
}

static uint32_t pick_first(struct pick_ctx *p)
{
    for (uint32_t s = 0; s < p->be->n_servers; s++)
        if (eligible(p, s))
            return s;
    return RP_PICK_NONE;
}

static uint32_t pick_hash(struct pick_ctx *p, const struct rp_ring *ring, uint64_t key)
{
    if (ring->n == 0)
        return RP_PICK_NONE;
    /* Walk the ring from the key's point to the first server that can take
     * it: a server that is down hands its keys to its ring neighbours, and
     * only those keys move. */
    uint32_t i = ring_find(ring, key);
    for (uint32_t k = 0; k < ring->n; k++, i = i + 1 == ring->n ? 0 : i + 1)
        if (eligible(p, ring->server[i]))
            return ring->server[i];
    return RP_PICK_NONE;
}

uint32_t rp_balance_pick(struct rp_worker *w, uint32_t backend, uint64_t key, uint64_t exclude,
                         unsigned flags, bool *probe)
{
    struct pick_ctx p = {
        .w = w,
        .be = &w->prog->backends[backend],
        .st = w->proc->server_state[backend],
        .now = rp_now_ms(w->loop),
        .exclude = exclude,
        .panic = (flags & RP_PICK_F_PANIC) != 0,
    };
    struct rp_backend_rt *rt = &w->backends[backend];
    if (probe)
        *probe = false;
    /* An ejected server comes back only through a probe: send one as soon
     * as one is due, so an outage ends as soon as the server is back. */
    if (probe && !p.panic &&
        atomic_load_explicit(&w->proc->backend_state[backend].n_ejected, memory_order_relaxed)) {
        uint32_t s = claim_probe(&p);
        if (s != RP_PICK_NONE) {
            *probe = true;
            return s;
        }
    }
    for (int pass = 0; pass < 2; pass++) {
        p.backups = pass == 1;
        uint32_t s;
        switch (p.be->balance) {
        case RP_BALANCE_LEAST_CONN: s = pick_least_conn(&p, &rt->balance.rotor); break;
        case RP_BALANCE_RANDOM2: s = pick_random2(&p, &w->rng); break;
        case RP_BALANCE_FIRST: s = pick_first(&p); break;
        case RP_BALANCE_HASH: s = pick_hash(&p, &w->proc->rings[backend], key); break;
        case RP_BALANCE_ROUND_ROBIN:
        default: s = pick_round_robin(&p, rt->balance.current_weight); break;
        }
        if (s != RP_PICK_NONE)
            return s;
        /* Usable servers that are all full: the request waits for room
         * rather than spilling over to backups. */
        if (p.any_usable)
            return RP_PICK_FULL;
    }
    return RP_PICK_NONE;
}
