/* lower.h: from the checked AST to the tables the emitter prints: the
 * route automaton over host and path (struct rp_matcher, rp/match.h).
 * Listener, backend and route tables are emitted straight from the AST. */
#ifndef RPX_LOWER_H
#define RPX_LOWER_H

#include <stdint.h>

#include <rp/match.h>

#include "ast.h"

struct arena;

/* The automaton in the shape of struct rp_matcher. Host states come first
 * (state 0 is the host root), then one path trie per distinct set of host
 * patterns a request's host can match, states numbered breadth first, so a
 * state's edges are contiguous and sorted. */
struct lower_dfa {
    uint32_t host_root;
    uint32_t n_states;
    struct rp_match_state *states;
    uint32_t n_edges;
    struct rp_match_edge *edges;
    uint32_t n_cands;
    uint32_t *cands;
    const char **state_what; /* for comments: the bytes read (host reversed back) */
    uint32_t *state_len;
    uint8_t *state_host;     /* 1 for host states */
};

/* Builds the automaton for a checked program without errors; every array is
 * in the arena. */
struct lower_dfa *lower_path_dfa(struct arena *a, const struct ast_program *prog);

#endif
