/* metrics.h: counters of what the proxy did, and their Prometheus text
 * exposition (`metrics`, RP_ACTION_METRICS).
 *
 * Each worker counts in its own block, updated once per exchange from its
 * record (rp_metrics_count, where the exchange ends), with relaxed atomic
 * stores only its thread makes: no lock, no shared cache line on the
 * request path. A scrape sums the workers' blocks and adds the gauges the
 * process keeps anyway (connections, server health, the cache's store).
 */
#ifndef RP_METRICS_H
#define RP_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "rp/program.h"

struct rp_proc;
struct rp_exchange_record;

/* Latency buckets, in seconds (Prometheus' defaults). */
#define RP_METRICS_BUCKETS 11

/* A status class: 0 (nothing answered), 1xx .. 5xx; their names
 * ("none", "1xx" .. "5xx") for labels and the status JSON. */
#define RP_METRICS_CLASSES 6
extern const char *const rp_metrics_class_names[RP_METRICS_CLASSES];

struct rp_metrics {
    uint32_t n_routes, n_servers;
    _Atomic uint64_t *by_route;  /* [(n_routes + 1) * CLASSES]: the last row, no route */
    _Atomic uint64_t *by_server; /* [n_servers * CLASSES], servers of all backends in order */
    _Atomic uint64_t *by_server_us; /* [n_servers]: their exchanges' time, microseconds */
    _Atomic uint64_t latency[RP_METRICS_BUCKETS + 1]; /* the last: +Inf */
    _Atomic uint64_t latency_sum_us;
    _Atomic uint64_t bytes_in, bytes_out, retries;
    _Atomic uint64_t tls_handshakes, tls_failures; /* client handshakes done, failed */
    _Atomic uint64_t h2_conns, h2_streams; /* HTTP/2 client connections, their streams */
    _Atomic uint64_t h2_resets;  /* streams the client reset before their response ended */
    _Atomic uint64_t h2_errors;  /* HTTP/2 connections ended by a GOAWAY with an error */
};

/* Adds to a counter of this worker's block (its own thread only). */
static inline void rp_metrics_bump(_Atomic uint64_t *c, uint64_t by)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + by,
                          memory_order_relaxed);
}

/* Sizes the block for prog. Returns -1 when out of memory. */
int rp_metrics_init(struct rp_metrics *m, const struct rp_program *prog);
void rp_metrics_free(struct rp_metrics *m);

/* Counts one exchange (by its owning worker only). */
void rp_metrics_count(struct rp_metrics *m, const struct rp_program *prog,
                      const struct rp_exchange_record *rec);

/* A counter summed over the workers: element `index` of the array at
 * field_offset in struct rp_metrics (offsetof), or the scalar there. */
uint64_t rp_metrics_sum(const struct rp_proc *proc, size_t field_offset, size_t index);
uint64_t rp_metrics_sum_scalar(const struct rp_proc *proc, size_t field_offset);

/* Requests waiting in backend's queues, all workers. */
unsigned long long rp_metrics_queued(const struct rp_proc *proc, uint32_t backend);

/* The exposition of every worker's counts and the process's gauges: a
 * malloc'd text (*len bytes), or NULL when out of memory. */
char *rp_metrics_render(const struct rp_proc *proc, size_t *len);

#endif
