/* cache_refresh.h: stale-while-revalidate's background refresh: the
 * request again, sent by the proxy to its own listener (cache_refresh.c). */
#ifndef RP_CACHE_REFRESH_H
#define RP_CACHE_REFRESH_H

#include <ev.h>
#include <stdint.h>
#include <sys/socket.h>

/* Sends req (req_len bytes, malloc'd: taken) to addr, the proxy's own
 * listener, and reads the answer to its end, within timeout seconds;
 * nothing if a refresh of the key (hash) is already running. */
void rp_cache_refresh_start(struct ev_loop *loop, const struct sockaddr_storage *addr,
                            socklen_t addr_len, char *req, size_t req_len, uint64_t hash,
                            double timeout);

/* Ends this thread's refreshes (the worker stops). */
void rp_cache_refresh_clear(void);

#endif
