/* balance.c: server selection. */
#include "balance.h"
#include "worker.h"

uint32_t rp_balance_pick(struct rp_worker *w, uint32_t backend)
{
    const struct rp_backend_def *def = &w->prog->backends[backend];
    struct rp_server_rt *rt = w->backends[backend].servers;
    if (def->n_servers == 1)
        return 0;
    int32_t total = 0;
    uint32_t best = 0;
    for (uint32_t i = 0; i < def->n_servers; i++) {
        rt[i].current_weight += def->servers[i].weight;
        total += def->servers[i].weight;
        if (rt[i].current_weight > rt[best].current_weight)
            best = i;
    }
    rt[best].current_weight -= total;
    return best;
}
