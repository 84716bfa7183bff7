/* limit.h: rate limits (`limit NAME = rate N/UNIT burst B by KEY`), the
 * state every worker thread shares.
 *
 * Each limit is a table of keys, each key one 64-bit "theoretical arrival
 * time" (the generic cell rate algorithm, GCRA): a request is on time when
 * that time is not further ahead of now than the burst allows, and moves it
 * one interval on. A key whose time has passed is the same as a key never
 * seen, so a slot is free again as soon as its key is quiet: memory is a
 * fixed table, and stale keys need no sweeping. The table is sets of seven
 * keys behind one spin lock each (a few instructions inside), so workers
 * meet only on the same set, never on a global lock. */
#ifndef RP_LIMIT_H
#define RP_LIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "rp/program.h"

struct rp_limits;

/* The state of every limit of prog; NULL when out of memory (or when prog
 * has no limit). */
struct rp_limits *rp_limits_new(const struct rp_program *prog);
void rp_limits_free(struct rp_limits *ls);

/* The key of a request under a limit; false when the request has none (a
 * header or cookie it lacks): such a request is not counted. */
bool rp_limit_key(const struct rp_limit_def *def, const struct rp_request_view *v,
                  uint32_t route, uint64_t *key);

enum rp_limit_verdict {
    RP_LIMIT_PASS = 0,   /* within the rate, or within the burst */
    RP_LIMIT_DELAY = 1,  /* `delay`: go after *wait_ns */
    RP_LIMIT_REJECT = 2, /* over the burst: a request would be on time after *wait_ns */
    RP_LIMIT_DOWN = 3,   /* `shared redis ... on_error closed` and Redis is unreachable */
};

/* One request of `key` at now_ns (rp_limit_now's clock). */
enum rp_limit_verdict rp_limit_take(struct rp_limits *ls, const struct rp_limit_def *def,
                                    bool delay, uint64_t key, uint64_t now_ns,
                                    uint64_t *wait_ns);

/* `concurrent N`: one more request in flight for key (false: it has N
 * already), and one less when it ends. */
bool rp_limit_acquire(struct rp_limits *ls, const struct rp_limit_def *def, uint64_t key);
void rp_limit_release(struct rp_limits *ls, const struct rp_limit_def *def, uint64_t key);

/* `errors N/UNIT ban DURATION`: whether key is banned now (and for how
 * much longer), and one more error of key's, which bans it when it is
 * over the error rate (true: a ban began or grew). */
bool rp_limit_banned(struct rp_limits *ls, const struct rp_limit_def *def, uint64_t key,
                     uint64_t now_ns, uint64_t *wait_ns);
bool rp_limit_error(struct rp_limits *ls, const struct rp_limit_def *def, uint64_t key,
                    uint64_t now_ns);

/* `shared redis`: the requests passed per key since the last call, taken
 * (at most max items; a cursor carries on where the last call stopped),
 * to add to the fleet's counts; then what the fleet's total for a key
 * says the others passed, which moves the key's time on as if they had
 * passed here. limit_redis.c talks to Redis. */
struct rp_limit_sync_item {
    uint64_t tag;   /* the key (its low bit set): the same in every process */
    uint32_t count;
};
uint32_t rp_limit_sync_collect(struct rp_limits *ls, const struct rp_limit_def *def,
                               struct rp_limit_sync_item *out, uint32_t max, uint64_t *cursor);
void rp_limit_sync_apply(struct rp_limits *ls, const struct rp_limit_def *def, uint64_t tag,
                         uint64_t total, uint32_t sent, uint64_t now_ns);
/* Redis reachable or not (on_error closed refuses while it is not). */
void rp_limit_sync_down(struct rp_limits *ls, const struct rp_limit_def *def, bool down);

/* The limits' clock: monotonic nanoseconds, cheap (no system call). */
uint64_t rp_limit_now(void);

/* A limit's counters since the start, for metrics. */
struct rp_limit_counts {
    uint64_t delayed, rejected;
    uint64_t evicted; /* live keys pushed out by new ones, or (concurrent) let through
                         uncounted: the table is too small */
    uint64_t bans;    /* `errors ... ban`: bans begun */
};
void rp_limit_counts(const struct rp_limits *ls, uint32_t index, struct rp_limit_counts *out);

/* Counts of what is open at once per key (connections per client, a
 * `limit NAME = concurrent N` in flight), in the same shared sets. */
struct rp_key_counts;
struct rp_key_counts *rp_key_counts_new(uint32_t keys);
void rp_key_counts_free(struct rp_key_counts *t);
/* One more for key, unless it has cap already (false: refused). */
bool rp_key_counts_acquire(struct rp_key_counts *t, uint64_t key, uint32_t cap);
/* One less, for a key acquire let through. */
void rp_key_counts_release(struct rp_key_counts *t, uint64_t key);
/* key's count now (tests). */
uint32_t rp_key_counts_get(struct rp_key_counts *t, uint64_t key);
/* Refusals, and keys let through uncounted because their set was full. */
void rp_key_counts_totals(const struct rp_key_counts *t, uint64_t *refused, uint64_t *overflows);

#endif
