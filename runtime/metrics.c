/* metrics.c: counters and their Prometheus exposition (metrics.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "limit.h"
#include "conn.h"
#include "health.h"
#include "metrics.h"
#include "text.h"
#include "worker.h"

static const double bucket_le[RP_METRICS_BUCKETS] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                     0.5,   1,    2.5,   5,    10};
const char *const rp_metrics_class_names[RP_METRICS_CLASSES] = {"none", "1xx", "2xx",
                                                               "3xx",  "4xx", "5xx"};

int rp_metrics_init(struct rp_metrics *m, const struct rp_program *prog)
{
    memset(m, 0, sizeof *m);
    m->n_routes = prog->n_routes;
    for (uint32_t b = 0; b < prog->n_backends; b++)
        m->n_servers += prog->backends[b].n_servers;
    m->by_route = calloc((size_t)(m->n_routes + 1) * RP_METRICS_CLASSES, sizeof *m->by_route);
    m->by_server = calloc((size_t)(m->n_servers ? m->n_servers : 1) * RP_METRICS_CLASSES,
                          sizeof *m->by_server);
    m->by_server_us = calloc(m->n_servers ? m->n_servers : 1, sizeof *m->by_server_us);
    if (!m->by_route || !m->by_server || !m->by_server_us) {
        rp_metrics_free(m);
        return -1;
    }
    return 0;
}

void rp_metrics_free(struct rp_metrics *m)
{
    free(m->by_route);
    free(m->by_server);
    free(m->by_server_us);
    m->by_route = m->by_server = m->by_server_us = NULL;
}


static uint32_t server_index(const struct rp_program *prog, uint32_t backend, uint32_t server)
{
    uint32_t i = 0;
    for (uint32_t b = 0; b < backend; b++)
        i += prog->backends[b].n_servers;
    return i + server;
}

void rp_metrics_count(struct rp_metrics *m, const struct rp_program *prog,
                      const struct rp_exchange_record *rec)
{
    if (!m->by_route)
        return;
    unsigned cls = rec->status >= 100 && rec->status < 600 ? rec->status / 100 : 0;
    uint32_t route = rec->route < m->n_routes ? rec->route : m->n_routes;
    rp_metrics_bump(&m->by_route[route * RP_METRICS_CLASSES + cls], 1);
    double d = rec->t_end > rec->t_start ? rec->t_end - rec->t_start : 0;
    uint64_t us = (uint64_t)(d * 1e6);
    if (rec->backend >= 0 && rec->server >= 0 && (uint32_t)rec->backend < prog->n_backends) {
        uint32_t i = server_index(prog, (uint32_t)rec->backend, (uint32_t)rec->server);
        rp_metrics_bump(&m->by_server[i * RP_METRICS_CLASSES + cls], 1);
        rp_metrics_bump(&m->by_server_us[i], us);
    }
    unsigned b = 0;
    while (b < RP_METRICS_BUCKETS && d > bucket_le[b])
        b++;
    rp_metrics_bump(&m->latency[b], 1);
    rp_metrics_bump(&m->latency_sum_us, us);
    rp_metrics_bump(&m->bytes_in, rec->bytes_in);
    rp_metrics_bump(&m->bytes_out, rec->bytes_out);
    if (rec->attempts > 1)
        rp_metrics_bump(&m->retries, rec->attempts - 1);
}

/* ---- exposition ----------------------------------------------------------------------------- */

static void family(struct rp_text *t, const char *name, const char *type, const char *help)
{
    rp_text_add(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: backslash, quote and newline escaped (the policy's names
 * are tokens, but a route's file name may hold anything). */
static void label(struct rp_text *t, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            rp_text_add(t, "\\%c", *s);
        else if (*s == '\n')
            rp_text_add(t, "\\n");
        else
            rp_text_add(t, "%c", *s);
    }
}

uint64_t rp_metrics_sum(const struct rp_proc *proc, size_t field_offset, size_t index)
{
    uint64_t v = 0;
    for (unsigned w = 0; w < proc->n_workers; w++) {
        const struct rp_metrics *m = &proc->workers[w].metrics;
        _Atomic uint64_t *const *arr =
            (_Atomic uint64_t *const *)((const char *)m + field_offset);
        if (*arr)
            v += atomic_load_explicit(&(*arr)[index], memory_order_relaxed);
    }
    return v;
}

unsigned long long rp_metrics_queued(const struct rp_proc *proc, uint32_t backend)
{
    unsigned long long q = 0;
    for (unsigned w = 0; w < proc->n_workers; w++)
        if (proc->workers[w].backends) /* a word another thread writes: read whole */
            q += __atomic_load_n(&proc->workers[w].backends[backend].proxy.queued,
                                 __ATOMIC_RELAXED);
    return q;
}

uint64_t rp_metrics_sum_scalar(const struct rp_proc *proc, size_t field_offset)
{
    uint64_t v = 0;
    for (unsigned w = 0; w < proc->n_workers; w++) {
        const _Atomic uint64_t *c =
            (const _Atomic uint64_t *)((const char *)&proc->workers[w].metrics + field_offset);
        v += atomic_load_explicit(c, memory_order_relaxed);
    }
    return v;
}

char *rp_metrics_render(const struct rp_proc *proc, size_t *len)
{
    const struct rp_program *prog = proc->prog;
    struct rp_text t;
    rp_text_init(&t, 16384);
    rp_text_add(&t, "# HELP rpx_build_info The proxy's version, policy and build.\n"
            "# TYPE rpx_build_info gauge\n"
            "rpx_build_info{policy=\"");
    label(&t, prog->source);
    rp_text_add(&t, "\",policy_hash=\"%s\",build=\"", prog->policy_hash ? prog->policy_hash : "");
    label(&t, prog->build_flags ? prog->build_flags : "");
    rp_text_add(&t, "\"} 1\n");

    family(&t, "rpx_requests_total", "counter",
           "Requests answered, by the route that decided them and the status class.");
    for (uint32_t r = 0; r <= prog->n_routes; r++)
        for (unsigned c = 0; c < RP_METRICS_CLASSES; c++) {
            uint64_t v = rp_metrics_sum(proc, offsetof(struct rp_metrics, by_route),
                             (size_t)r * RP_METRICS_CLASSES + c);
            if (!v)
                continue;
            rp_text_add(&t, "rpx_requests_total{route=\"");
            label(&t, r < prog->n_routes ? prog->routes[r].where : "none");
            rp_text_add(&t, "\",code=\"%s\"} %llu\n", rp_metrics_class_names[c], (unsigned long long)v);
        }

    family(&t, "rpx_server_responses_total", "counter",
           "Answers relayed from each server, by status class.");
    uint32_t i = 0;
    for (uint32_t b = 0; b < prog->n_backends; b++)
        for (uint32_t s = 0; s < prog->backends[b].n_servers; s++, i++)
            for (unsigned c = 0; c < RP_METRICS_CLASSES; c++) {
                uint64_t v = rp_metrics_sum(proc, offsetof(struct rp_metrics, by_server),
                                 (size_t)i * RP_METRICS_CLASSES + c);
                if (v)
                    rp_text_add(&t,
                        "rpx_server_responses_total{backend=\"%s\",server=\"%s\",code=\"%s\"} "
                        "%llu\n",
                        prog->backends[b].name, prog->backends[b].servers[s].name,
                        rp_metrics_class_names[c], (unsigned long long)v);
            }

    family(&t, "rpx_server_up", "gauge",
           "1 when the server takes requests (its health check passes, not ejected).");
    for (uint32_t b = 0; b < prog->n_backends; b++)
        for (uint32_t s = 0; s < prog->backends[b].n_servers; s++)
            rp_text_add(&t, "rpx_server_up{backend=\"%s\",server=\"%s\"} %d\n", prog->backends[b].name,
                prog->backends[b].servers[s].name,
                rp_server_usable(&proc->server_state[b][s]) ? 1 : 0);
    family(&t, "rpx_server_active_requests", "gauge", "Requests in flight to the server.");
    for (uint32_t b = 0; b < prog->n_backends; b++)
        for (uint32_t s = 0; s < prog->backends[b].n_servers; s++)
            rp_text_add(&t, "rpx_server_active_requests{backend=\"%s\",server=\"%s\"} %u\n",
                prog->backends[b].name, prog->backends[b].servers[s].name,
                atomic_load_explicit(&proc->server_state[b][s].active, memory_order_relaxed));

    family(&t, "rpx_server_transitions_total", "counter",
           "Changes between usable and not (checks, ejections, probes).");
    for (uint32_t b = 0; b < prog->n_backends; b++)
        for (uint32_t s = 0; s < prog->backends[b].n_servers; s++)
            rp_text_add(&t, "rpx_server_transitions_total{backend=\"%s\",server=\"%s\"} %u\n",
                        prog->backends[b].name, prog->backends[b].servers[s].name,
                        atomic_load_explicit(&proc->server_state[b][s].transitions,
                                             memory_order_relaxed));
    family(&t, "rpx_backend_queue_length", "gauge",
           "Requests waiting for a server of the backend (max_conns, all servers down).");
    for (uint32_t b = 0; b < prog->n_backends; b++)
        rp_text_add(&t, "rpx_backend_queue_length{backend=\"%s\"} %llu\n", prog->backends[b].name,
                    rp_metrics_queued(proc, b));

    family(&t, "rpx_request_duration_seconds", "histogram",
           "From a request's first byte to the end of its answer.");
    uint64_t cum = 0;
    for (unsigned b = 0; b <= RP_METRICS_BUCKETS; b++) {
        cum += rp_metrics_sum_scalar(proc, offsetof(struct rp_metrics, latency) +
                                    b * sizeof(_Atomic uint64_t));
        if (b < RP_METRICS_BUCKETS)
            rp_text_add(&t, "rpx_request_duration_seconds_bucket{le=\"%g\"} %llu\n", bucket_le[b],
                (unsigned long long)cum);
        else
            rp_text_add(&t, "rpx_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
                (unsigned long long)cum);
    }
    rp_text_add(&t, "rpx_request_duration_seconds_sum %.6f\nrpx_request_duration_seconds_count %llu\n",
        (double)rp_metrics_sum_scalar(proc, offsetof(struct rp_metrics, latency_sum_us)) / 1e6,
        (unsigned long long)cum);

    family(&t, "rpx_received_bytes_total", "counter", "Bytes read from clients.");
    rp_text_add(&t, "rpx_received_bytes_total %llu\n",
        (unsigned long long)rp_metrics_sum_scalar(proc, offsetof(struct rp_metrics, bytes_in)));
    family(&t, "rpx_sent_bytes_total", "counter", "Bytes written to clients.");
    rp_text_add(&t, "rpx_sent_bytes_total %llu\n",
        (unsigned long long)rp_metrics_sum_scalar(proc, offsetof(struct rp_metrics, bytes_out)));
    family(&t, "rpx_retries_total", "counter", "Requests sent again to another server.");
    rp_text_add(&t, "rpx_retries_total %llu\n",
        (unsigned long long)rp_metrics_sum_scalar(proc, offsetof(struct rp_metrics, retries)));
    family(&t, "rpx_tls_handshakes_total", "counter",
           "TLS handshakes with clients, by result.");
    rp_text_add(&t, "rpx_tls_handshakes_total{result=\"ok\"} %llu\n"
                    "rpx_tls_handshakes_total{result=\"failed\"} %llu\n",
                (unsigned long long)rp_metrics_sum_scalar(proc, offsetof(struct rp_metrics,
                                                                         tls_handshakes)),
                (unsigned long long)rp_metrics_sum_scalar(proc, offsetof(struct rp_metrics,
                                                                         tls_failures)));
    static const struct {
        const char *name, *help;
        size_t field;
    } h2[] = {
        {"rpx_http2_connections_total", "Client connections that spoke HTTP/2.",
         offsetof(struct rp_metrics, h2_conns)},
        {"rpx_http2_streams_total", "HTTP/2 streams clients opened.",
         offsetof(struct rp_metrics, h2_streams)},
        {"rpx_http2_streams_reset_total",
         "HTTP/2 streams clients reset before their response ended.",
         offsetof(struct rp_metrics, h2_resets)},
        {"rpx_http2_connection_errors_total",
         "HTTP/2 connections ended by a GOAWAY with an error (malformed frames, floods, "
         "rapid reset).",
         offsetof(struct rp_metrics, h2_errors)},
    };
    for (size_t k = 0; k < sizeof h2 / sizeof h2[0]; k++) {
        family(&t, h2[k].name, "counter", h2[k].help);
        rp_text_add(&t, "%s %llu\n", h2[k].name,
                    (unsigned long long)rp_metrics_sum_scalar(proc, h2[k].field));
    }
    family(&t, "rpx_client_connections", "gauge", "Client connections open.");
    rp_text_add(&t, "rpx_client_connections %u\n",
        atomic_load_explicit(&proc->n_client_conns, memory_order_relaxed));

    if (proc->client_conns) {
        uint64_t refused, uncounted;
        rp_key_counts_totals(proc->client_conns, &refused, &uncounted);
        family(&t, "rpx_connections_refused_total", "counter",
               "Client connections closed at once, by why.");
        rp_text_add(&t, "rpx_connections_refused_total{reason=\"per_client\"} %llu\n",
                    (unsigned long long)refused);
    }
    if (prog->n_limits && proc->limits) {
        family(&t, "rpx_limit_requests_total", "counter",
               "Requests a rate limit refused (429) or made wait, by limit.");
        for (uint32_t l = 0; l < prog->n_limits; l++) {
            const struct rp_limit_def *ld = prog->limits[l];
            struct rp_limit_counts lc;
            rp_limit_counts(proc->limits, ld->index, &lc);
            rp_text_add(&t, "rpx_limit_requests_total{limit=\"%s\",result=\"rejected\"} %llu\n"
                            "rpx_limit_requests_total{limit=\"%s\",result=\"delayed\"} %llu\n",
                        ld->name, (unsigned long long)lc.rejected, ld->name,
                        (unsigned long long)lc.delayed);
        }
        family(&t, "rpx_limit_bans_total", "counter",
               "Keys an errors limit banned (or whose ban it made longer).");
        for (uint32_t l = 0; l < prog->n_limits; l++) {
            const struct rp_limit_def *ld = prog->limits[l];
            if (!ld->ban_ns)
                continue;
            struct rp_limit_counts lc;
            rp_limit_counts(proc->limits, ld->index, &lc);
            rp_text_add(&t, "rpx_limit_bans_total{limit=\"%s\"} %llu\n", ld->name,
                        (unsigned long long)lc.bans);
        }
        family(&t, "rpx_limit_evicted_keys_total", "counter",
               "Keys a rate limit forgot while they were still counted (its table is full).");
        for (uint32_t l = 0; l < prog->n_limits; l++) {
            const struct rp_limit_def *ld = prog->limits[l];
            struct rp_limit_counts lc;
            rp_limit_counts(proc->limits, ld->index, &lc);
            rp_text_add(&t, "rpx_limit_evicted_keys_total{limit=\"%s\"} %llu\n", ld->name,
                        (unsigned long long)lc.evicted);
        }
    }
    struct rp_cache_counts cc;
    rp_cache_counts(&cc);
    family(&t, "rpx_cache_lookups_total", "counter", "Cache lookups, by what came of them.");
    rp_text_add(&t,
        "rpx_cache_lookups_total{result=\"hit\"} %llu\n"
        "rpx_cache_lookups_total{result=\"miss\"} %llu\n"
        "rpx_cache_lookups_total{result=\"stale\"} %llu\n"
        "rpx_cache_lookups_total{result=\"revalidated\"} %llu\n"
        "rpx_cache_lookups_total{result=\"bypass\"} %llu\n",
        (unsigned long long)cc.hits, (unsigned long long)cc.misses,
        (unsigned long long)cc.stale, (unsigned long long)cc.revalidated,
        (unsigned long long)cc.bypass);
    family(&t, "rpx_cache_stored_total", "counter", "Answers put in the cache.");
    rp_text_add(&t, "rpx_cache_stored_total %llu\n", (unsigned long long)cc.stored);
    family(&t, "rpx_cache_objects", "gauge", "Objects in the cache.");
    rp_text_add(&t, "rpx_cache_objects %llu\n", (unsigned long long)cc.objects);
    family(&t, "rpx_cache_bytes", "gauge", "Bytes the cache's objects take.");
    rp_text_add(&t, "rpx_cache_bytes %llu\n", (unsigned long long)cc.bytes);
    return rp_text_take(&t, len);
}
