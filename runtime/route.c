/* route.c: walks the path automaton the compiler built (see rp/program.h). */
#include "rp/route.h"

/* Finds the edge for byte c among a state's edges, which are sorted by byte.
 * States near the root of a big policy can have many edges, so this is a
 * binary search rather than a scan. */
static const struct rp_dfa_edge *find_edge(const struct rp_dfa *dfa,
                                           const struct rp_dfa_state *s, uint8_t c)
{
    uint32_t lo = s->first_edge, hi = s->first_edge + s->n_edges;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        uint8_t b = dfa->edges[mid].byte;
        if (b == c)
            return &dfa->edges[mid];
        if (b < c)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

uint32_t rp_route_match(const struct rp_dfa *dfa, const char *path, size_t len)
{
    if (!dfa || dfa->n_states == 0)
        return RP_NO_ROUTE;
    const struct rp_dfa_state *s = &dfa->states[0];
    uint32_t best = s->prefix_route;
    for (size_t i = 0; i < len; i++) {
        const struct rp_dfa_edge *e = find_edge(dfa, s, (uint8_t)path[i]);
        if (!e)
            return best;
        s = &dfa->states[e->next];
        if (s->prefix_route < best)
            best = s->prefix_route;
    }
    return s->exact_route < best ? s->exact_route : best;
}
