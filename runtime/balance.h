/* balance.h: choosing a server of a backend for a request. */
#ifndef RP_BALANCE_H
#define RP_BALANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rp/program.h"

struct rp_worker;

/* Per worker, per backend: what the balancer remembers between picks. */
struct rp_balance_rt {
    int32_t *current_weight; /* [server]: smooth weighted round robin state */
    uint32_t rotor;          /* least_conn: where the next tie-break scan starts */
};

/* rp_balance_pick's answers besides a server index. */
#define RP_PICK_NONE UINT32_MAX       /* no server is usable: 503 */
#define RP_PICK_FULL (UINT32_MAX - 1) /* usable servers are all at max_conns: queue */

/* A consistent-hash ring: points sorted by position, each naming a server.
 * Built once per backend at start-up and shared read-only by the workers. */
struct rp_ring {
    uint32_t n;
    uint64_t *at;
    uint32_t *server;
};

/* Builds the ring for a backend (weight * 40 points per server, placed by
 * the server's name). Returns 0, or -1 when out of memory. */
int rp_ring_build(struct rp_ring *ring, const struct rp_backend_def *be);
void rp_ring_free(struct rp_ring *ring);

/* A 64-bit hash with good dispersion, for ring points and request keys. */
uint64_t rp_hash64(const void *p, size_t n, uint64_t seed);

/* rp_balance_pick's flags. */
#define RP_PICK_F_PANIC 1u /* no server is usable: spread over all of them */

/* Returns the server of `backend` for the next request, RP_PICK_FULL or
 * RP_PICK_NONE. `key` is the request's hash (RP_BALANCE_HASH only);
 * servers whose bit is set in `exclude` (the first 64) are skipped, so a
 * retry goes elsewhere. When an ejected server is due for a probe, the
 * request becomes that probe: it gets that server and *probe is set (the
 * caller must report the outcome, health.h). Per-worker state only; shared
 * counters are read with relaxed atomics. */
uint32_t rp_balance_pick(struct rp_worker *w, uint32_t backend, uint64_t key, uint64_t exclude,
                         unsigned flags, bool *probe);

#endif
