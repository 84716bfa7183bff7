/* limit_redis.h: the fleet's counts of `limit ... shared redis` limits,
 * kept in Redis by the main thread (limit_redis.c). */
#ifndef RP_LIMIT_REDIS_H
#define RP_LIMIT_REDIS_H

#include <ev.h>

struct rp_proc;

/* Connects each shared limit to its Redis and syncs it ten times a second
 * on loop (the main thread's). -1 when out of memory. */
int rp_limit_redis_start(struct rp_proc *proc, struct ev_loop *loop);
void rp_limit_redis_stop(struct ev_loop *loop);

#endif
