/* check.h: name resolution and the checks that need the whole policy. */
#ifndef RPX_CHECK_H
#define RPX_CHECK_H

#include <stdbool.h>

#include "ast.h"

struct arena;
struct diag;

struct check_opts {
    bool allow_shadowed; /* a route that can never match is a warning, not an error */
};

struct rp_ip_range;

/* Sorts n address ranges and merges those that overlap or touch, in place,
 * into the form rp_ip_in() searches. Returns how many are left. */
uint32_t ip_ranges_merge(struct rp_ip_range *r, uint32_t n);

/* Resolves names in prog (backends, routes' targets), parses addresses,
 * fills the fields ast.h marks "check", and reports every problem to d.
 * Returns true if no error was reported. */
bool check_program(struct ast_program *prog, const struct src *s, struct diag *d,
                   struct arena *a, const struct check_opts *opts);

#endif
