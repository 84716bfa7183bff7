/* cache_refresh.h: stale-while-revalidate's background refresh: the
 * request again, sent by the proxy to itself (cache_refresh.c). */
#ifndef RP_CACHE_REFRESH_H
#define RP_CACHE_REFRESH_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* Sends req (req_len bytes, malloc'd: taken) on fd (taken: one end of a
 * socket pair whose other end the worker serves as a client connection)
 * and reads the answer to its end, within timeout seconds. False (fd
 * closed, req freed) if a refresh of the key (hash) is already running:
 * then the other end is not to be served. */
bool rp_cache_refresh_start(struct ev_loop *loop, int fd, char *req, size_t req_len,
                            uint64_t hash, double timeout);

/* Ends this thread's refreshes (the worker stops). */
void rp_cache_refresh_clear(void);

#endif
