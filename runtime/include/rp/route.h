/* rp/route.h: route selection over the tables of rp/program.h. */
#ifndef RP_ROUTE_H
#define RP_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "rp/program.h"

/* Walks `dfa` over path[0..len) and returns the index of the first route (in
 * policy order) whose path matcher accepts the path, or RP_NO_ROUTE. The cost
 * is one step per path byte, whatever the number of routes. */
uint32_t rp_route_match(const struct rp_dfa *dfa, const char *path, size_t len);

#endif
