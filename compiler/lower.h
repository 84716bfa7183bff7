/* lower.h: from the checked AST to the tables the emitter prints. For now
 * that is the path DFA; listener, backend and route tables are emitted
 * straight from the AST. */
#ifndef RPX_LOWER_H
#define RPX_LOWER_H

#include <stdint.h>

#include <rp/route.h>

#include "ast.h"

struct arena;

/* The route automaton over request paths, in the shape of struct rp_dfa
 * (rp/program.h): a trie of the routes' paths, states numbered breadth
 * first from the root (state 0), children in byte order, so edges of one
 * state are contiguous and sorted. */
struct lower_dfa {
    uint32_t n_states;
    struct rp_dfa_state *states;
    uint32_t n_edges;
    struct rp_dfa_edge *edges;
    const char **state_path; /* bytes read to reach each state (for comments) */
    uint32_t *state_depth;   /* their count */
};

/* Builds the DFA for a checked program without errors; every array is in
 * the arena. */
struct lower_dfa *lower_path_dfa(struct arena *a, const struct ast_program *prog);

#endif
