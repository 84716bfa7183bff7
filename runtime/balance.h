/* balance.h: choosing a server of a backend for a request. */
#ifndef RP_BALANCE_H
#define RP_BALANCE_H

#include <stdint.h>

struct rp_worker;

/* Returns the index of the server of `backend` to use next. Smooth weighted
 * round robin (as nginx): over any window of sum(weights) picks, each server
 * is picked `weight` times, interleaved rather than in bursts. State is per
 * worker, so no lock is taken. */
uint32_t rp_balance_pick(struct rp_worker *w, uint32_t backend);

#endif
