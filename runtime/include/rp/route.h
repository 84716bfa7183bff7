/* rp/route.h: the path automaton generated code may use to select a route
 * (see rp_decide_fn in rp/program.h), and the walker for it. */
#ifndef RP_ROUTE_H
#define RP_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "rp/program.h"

/* A DFA over the request path, built by the compiler. The walk starts at
 * state 0. Each state lists its out edges, sorted by byte, as a slice of
 * `edges`. `prefix_route` is the first route (lowest index) whose path
 * prefix is a prefix of the bytes read so far (RP_NO_ROUTE if none);
 * `exact_route` is the first route whose exact path is exactly the bytes
 * read so far. The answer is the lower of the last state's exact_route (only
 * if the whole path was read) and the last prefix_route seen. */
struct rp_dfa_edge {
    uint8_t byte;
    uint32_t next;
};

struct rp_dfa_state {
    uint32_t first_edge;
    uint32_t n_edges;
    uint32_t prefix_route;
    uint32_t exact_route;
};

struct rp_dfa {
    uint32_t n_states;
    const struct rp_dfa_state *states;
    uint32_t n_edges;
    const struct rp_dfa_edge *edges;
};

/* Walks `dfa` over path[0..len) and returns the index of the first route (in
 * policy order) whose path matcher accepts the path, or RP_NO_ROUTE. The cost
 * is one step per path byte, whatever the number of routes. */
uint32_t rp_route_match(const struct rp_dfa *dfa, const char *path, size_t len);

#endif
