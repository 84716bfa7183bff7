/* limit.c: the rate limits' shared tables (limit.h). */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hash.h"
#include "limit.h"
#include "rp/match.h"

#define WAYS 7

/* One set: 128 bytes, two cache lines, its lock beside its keys. A tag is
 * a key with its low bit set, so 0 marks a slot never used. */
struct set {
    atomic_uint lock;
    uint32_t unused;
    uint64_t tag[WAYS];
    uint64_t tat[WAYS];
} __attribute__((aligned(128)));

struct table {
    struct set *sets;              /* a rate's (and an error rate's) times */
    struct set *bans;              /* `errors ... ban`: when each key's ban ends */
    uint64_t mask;
    /* `shared redis`: per slot (set * WAYS + way), requests passed since the
     * last push, and the fleet's total as last heard */
    uint32_t *pending;
    uint64_t *heard;
    atomic_bool down;              /* Redis is unreachable */
    struct rp_key_counts *counts;  /* `concurrent N`'s */
    _Alignas(64) atomic_ullong delayed, rejected, evicted, bans_made;
};

struct rp_limits {
    uint32_t n;
    struct table t[];
};

struct rp_limits *rp_limits_new(const struct rp_program *prog)
{
    if (!prog->n_limits)
        return NULL;
    struct rp_limits *ls = calloc(1, sizeof *ls + prog->n_limits * sizeof ls->t[0]);
    if (!ls)
        return NULL;
    ls->n = prog->n_limits;
    for (uint32_t i = 0; i < prog->n_limits; i++) {
        const struct rp_limit_def *def = prog->limits[i];
        uint64_t want = (def->keys + WAYS - 1) / WAYS, n = 1;
        while (n < want)
            n <<= 1;
        struct table *t = &ls->t[def->index];
        if (def->concurrent) {
            if (!(t->counts = rp_key_counts_new(def->keys))) {
                rp_limits_free(ls);
                return NULL;
            }
            continue;
        }
        t->sets = aligned_alloc(128, n * sizeof *t->sets);
        if (def->ban_ns)
            t->bans = aligned_alloc(128, n * sizeof *t->bans);
        if (def->redis_host) {
            t->pending = calloc(n * WAYS, sizeof *t->pending);
            t->heard = calloc(n * WAYS, sizeof *t->heard);
            atomic_store(&t->down, def->fail_closed); /* closed until it is reached */
        }
        if (!t->sets || (def->ban_ns && !t->bans) ||
            (def->redis_host && (!t->pending || !t->heard))) {
            rp_limits_free(ls);
            return NULL;
        }
        memset(t->sets, 0, n * sizeof *t->sets);
        if (t->bans)
            memset(t->bans, 0, n * sizeof *t->bans);
        t->mask = n - 1;
    }
    return ls;
}

void rp_limits_free(struct rp_limits *ls)
{
    if (!ls)
        return;
    for (uint32_t i = 0; i < ls->n; i++) {
        free(ls->t[i].sets);
        free(ls->t[i].bans);
        free(ls->t[i].pending);
        free(ls->t[i].heard);
        rp_key_counts_free(ls->t[i].counts);
    }
    free(ls);
}

bool rp_limit_key(const struct rp_limit_def *def, const struct rp_request_view *v,
                  uint32_t route, uint64_t *key)
{
    /* Each part's hash seeds the next: ["ab", "c"] and ["a", "bc"] differ
     * (the length is hashed too). */
    uint64_t h = def->by_route ? (uint64_t)route + 1 : 0;
    for (uint32_t i = 0; i < def->n_key; i++) {
        const struct rp_piece *pc = &def->key[i];
        if (pc->kind == RP_PIECE_CLIENT_IP) {
            h = rp_hash16(v->client_ip, h);
            continue;
        }
        if (pc->kind == RP_PIECE_URI) {
            h = rp_hash_bytes(v->path, v->path_len, h + i);
            if (v->query)
                h = rp_hash_bytes(v->query, v->query_len, h + 1);
            continue;
        }
        const char *s;
        uint32_t len;
        if (!rp_req_value(v, (enum rp_value)pc->what, pc->s, pc->len, &s, &len))
            return false;
        h = rp_hash_bytes(s, len, h + i);
    }
    *key = h;
    return true;
}

static inline void set_lock(struct set *s)
{
    while (atomic_exchange_explicit(&s->lock, 1, memory_order_acquire))
        while (atomic_load_explicit(&s->lock, memory_order_relaxed))
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#else
            ;
#endif
}

static inline void set_unlock(struct set *s)
{
    atomic_store_explicit(&s->lock, 0, memory_order_release);
}

/* Locks key's set and finds its slot, or gives it the slot whose time is
 * earliest: free (0), or a quiet key's (its time passed, so it is as good
 * as forgotten); a busy key pushed out is counted in evicted. */
static struct set *slot_of(struct set *sets, uint64_t mask, uint64_t key, uint64_t now_ns,
                           atomic_ullong *evicted, int *at_out, bool *claimed)
{
    uint64_t tag = key | 1;
    struct set *s = &sets[(key >> 1) & mask];
    set_lock(s);
    int at = -1, oldest = 0;
    for (int i = 0; i < WAYS; i++) {
        if (s->tag[i] == tag) {
            at = i;
            break;
        }
        if (s->tat[i] < s->tat[oldest])
            oldest = i;
    }
    if (at < 0) {
        at = oldest;
        if (s->tat[at] > now_ns)
            atomic_fetch_add_explicit(evicted, 1, memory_order_relaxed);
        s->tag[at] = tag;
        s->tat[at] = 0;
    }
    *claimed = at >= 0 && s->tat[at] == 0;
    *at_out = at;
    return s;
}

enum rp_limit_verdict rp_limit_take(struct rp_limits *ls, const struct rp_limit_def *def,
                                    bool delay, uint64_t key, uint64_t now_ns,
                                    uint64_t *wait_ns)
{
    struct table *t = &ls->t[def->index];
    uint64_t T = def->interval_ns;
    /* how far ahead of now a key's time may be for a request to go: at
     * once, the burst less the request itself; delayed, the whole burst */
    uint64_t ahead = (delay ? def->burst : def->burst - 1) * T;
    if (def->fail_closed && atomic_load_explicit(&t->down, memory_order_relaxed))
        return RP_LIMIT_DOWN;
    int at;
    bool claimed;
    struct set *s = slot_of(t->sets, t->mask, key, now_ns, &t->evicted, &at, &claimed);
    size_t slot = (size_t)(s - t->sets) * WAYS + (size_t)at;
    if (claimed && t->pending) {
        t->pending[slot] = 0; /* a new key in this slot: nothing of the old one's */
        t->heard[slot] = 0;
    }
    uint64_t tat = s->tat[at] > now_ns ? s->tat[at] : now_ns;
    if (tat - now_ns > ahead) {
        set_unlock(s);
        *wait_ns = tat - now_ns - ahead;
        atomic_fetch_add_explicit(&t->rejected, 1, memory_order_relaxed);
        return RP_LIMIT_REJECT;
    }
    s->tat[at] = tat + T;
    if (t->pending && t->pending[slot] < UINT32_MAX)
        t->pending[slot]++;
    set_unlock(s);
    if (!delay || tat == now_ns)
        return RP_LIMIT_PASS;
    *wait_ns = tat - now_ns;
    atomic_fetch_add_explicit(&t->delayed, 1, memory_order_relaxed);
    return RP_LIMIT_DELAY;
}

/* ---- bans: `errors N/UNIT ban DURATION` ------------------------------------- */

bool rp_limit_banned(struct rp_limits *ls, const struct rp_limit_def *def, uint64_t key,
                     uint64_t now_ns, uint64_t *wait_ns)
{
    struct table *t = &ls->t[def->index];
    uint64_t tag = key | 1;
    struct set *s = &t->bans[(key >> 1) & t->mask];
    uint64_t until = 0;
    set_lock(s);
    for (int i = 0; i < WAYS; i++)
        if (s->tag[i] == tag) {
            until = s->tat[i];
            break;
        }
    set_unlock(s);
    if (until <= now_ns)
        return false;
    *wait_ns = until - now_ns;
    atomic_fetch_add_explicit(&t->rejected, 1, memory_order_relaxed);
    return true;
}

bool rp_limit_error(struct rp_limits *ls, const struct rp_limit_def *def, uint64_t key,
                    uint64_t now_ns)
{
    struct table *t = &ls->t[def->index];
    uint64_t wait;
    /* the errors are a rate like any other: past its burst, a ban */
    if (rp_limit_take(ls, def, false, key, now_ns, &wait) != RP_LIMIT_REJECT)
        return false;
    atomic_fetch_sub_explicit(&t->rejected, 1, memory_order_relaxed); /* not a request refused */
    int at;
    bool claimed;
    struct set *s = slot_of(t->bans, t->mask, key, now_ns, &t->evicted, &at, &claimed);
    if (s->tat[at] < now_ns + def->ban_ns)
        s->tat[at] = now_ns + def->ban_ns;
    set_unlock(s);
    atomic_fetch_add_explicit(&t->bans_made, 1, memory_order_relaxed);
    return true;
}

uint64_t rp_limit_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void rp_limit_counts(const struct rp_limits *ls, uint32_t index, struct rp_limit_counts *out)
{
    const struct table *t = &ls->t[index];
    out->delayed = atomic_load_explicit(&t->delayed, memory_order_relaxed);
    out->rejected = atomic_load_explicit(&t->rejected, memory_order_relaxed);
    out->evicted = atomic_load_explicit(&t->evicted, memory_order_relaxed);
    out->bans = atomic_load_explicit(&t->bans_made, memory_order_relaxed);
    if (t->counts) {
        uint64_t refused;
        rp_key_counts_totals(t->counts, &refused, &out->evicted);
        out->rejected += refused;
    }
}

bool rp_limit_acquire(struct rp_limits *ls, const struct rp_limit_def *def, uint64_t key)
{
    return rp_key_counts_acquire(ls->t[def->index].counts, key, def->concurrent);
}

void rp_limit_release(struct rp_limits *ls, const struct rp_limit_def *def, uint64_t key)
{
    rp_key_counts_release(ls->t[def->index].counts, key);
}

/* ---- counts: what is open at once per key -------------------------------------- */

/* The same sets, each slot a count: a slot is free when its count is 0. A
 * count is never pushed out (that would lose what it counts): a key that
 * finds its set full of live counts is let through uncounted, and counted
 * as such (rp_key_counts_overflows). */
struct rp_key_counts {
    struct set *sets;
    uint64_t mask;
    _Alignas(64) atomic_ullong refused, overflows;
};

struct rp_key_counts *rp_key_counts_new(uint32_t keys)
{
    struct rp_key_counts *t = calloc(1, sizeof *t);
    uint64_t want = (keys + WAYS - 1) / WAYS, n = 1;
    while (n < want)
        n <<= 1;
    if (!t || !(t->sets = aligned_alloc(128, n * sizeof *t->sets))) {
        free(t);
        return NULL;
    }
    memset(t->sets, 0, n * sizeof *t->sets);
    t->mask = n - 1;
    return t;
}

void rp_key_counts_free(struct rp_key_counts *t)
{
    if (t)
        free(t->sets);
    free(t);
}

bool rp_key_counts_acquire(struct rp_key_counts *t, uint64_t key, uint32_t cap)
{
    uint64_t tag = key | 1;
    struct set *s = &t->sets[(key >> 1) & t->mask];
    set_lock(s);
    int at = -1, free_slot = -1;
    for (int i = 0; i < WAYS; i++) {
        if (s->tag[i] == tag && s->tat[i]) {
            at = i;
            break;
        }
        if (!s->tat[i] && free_slot < 0)
            free_slot = i;
    }
    if (at < 0 && free_slot < 0) {
        set_unlock(s);
        atomic_fetch_add_explicit(&t->overflows, 1, memory_order_relaxed);
        return true;
    }
    if (at < 0) {
        at = free_slot;
        s->tag[at] = tag;
    }
    if (s->tat[at] >= cap) {
        set_unlock(s);
        atomic_fetch_add_explicit(&t->refused, 1, memory_order_relaxed);
        return false;
    }
    s->tat[at]++;
    set_unlock(s);
    return true;
}

void rp_key_counts_release(struct rp_key_counts *t, uint64_t key)
{
    uint64_t tag = key | 1;
    struct set *s = &t->sets[(key >> 1) & t->mask];
    set_lock(s);
    for (int i = 0; i < WAYS; i++)
        if (s->tag[i] == tag && s->tat[i]) {
            s->tat[i]--;
            break;
        }
    /* not found: it was let through uncounted (its set was full) */
    set_unlock(s);
}

uint32_t rp_key_counts_get(struct rp_key_counts *t, uint64_t key)
{
    uint64_t tag = key | 1;
    struct set *s = &t->sets[(key >> 1) & t->mask];
    uint32_t n = 0;
    set_lock(s);
    for (int i = 0; i < WAYS; i++)
        if (s->tag[i] == tag)
            n = (uint32_t)s->tat[i];
    set_unlock(s);
    return n;
}

void rp_key_counts_totals(const struct rp_key_counts *t, uint64_t *refused, uint64_t *overflows)
{
    *refused = atomic_load_explicit(&t->refused, memory_order_relaxed);
    *overflows = atomic_load_explicit(&t->overflows, memory_order_relaxed);
}

/* ---- shared limits: what goes to Redis and what comes back --------------------- */

uint32_t rp_limit_sync_collect(struct rp_limits *ls, const struct rp_limit_def *def,
                               struct rp_limit_sync_item *out, uint32_t max, uint64_t *cursor)
{
    struct table *t = &ls->t[def->index];
    uint32_t n = 0;
    uint64_t sets = t->mask + 1, c = *cursor;
    for (uint64_t visited = 0; visited < sets && n + WAYS <= max; visited++, c = (c + 1) & t->mask) {
        struct set *s = &t->sets[c];
        uint32_t *pending = &t->pending[c * WAYS];
        bool any = false;
        for (int i = 0; i < WAYS; i++)
            any |= pending[i] != 0; /* a glance without the lock: most sets have none */
        if (!any)
            continue;
        set_lock(s);
        for (int i = 0; i < WAYS; i++)
            if (pending[i]) {
                out[n++] = (struct rp_limit_sync_item){s->tag[i], pending[i]};
                pending[i] = 0;
            }
        set_unlock(s);
    }
    *cursor = c;
    return n;
}

void rp_limit_sync_apply(struct rp_limits *ls, const struct rp_limit_def *def, uint64_t tag,
                         uint64_t total, uint32_t sent, uint64_t now_ns)
{
    struct table *t = &ls->t[def->index];
    struct set *s = &t->sets[(tag >> 1) & t->mask];
    set_lock(s);
    for (int i = 0; i < WAYS; i++) {
        if (s->tag[i] != tag)
            continue;
        uint64_t *heard = &t->heard[(size_t)(s - t->sets) * WAYS + (size_t)i];
        /* what the others passed since we last heard: the fleet's total less
         * what we knew and what we just sent (a total lower than that: the
         * key expired in Redis and started again) */
        uint64_t known = *heard + sent;
        uint64_t others = total >= known ? total - known : total >= sent ? total - sent : 0;
        *heard = total;
        if (others) {
            uint64_t tat = s->tat[i] > now_ns ? s->tat[i] : now_ns;
            s->tat[i] = tat + others * def->interval_ns;
        }
        break;
    }
    set_unlock(s);
}

void rp_limit_sync_down(struct rp_limits *ls, const struct rp_limit_def *def, bool down)
{
    atomic_store_explicit(&ls->t[def->index].down, down, memory_order_relaxed);
}
