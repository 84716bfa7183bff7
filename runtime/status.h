/* status.h: the live status page (`status`, RP_ACTION_STATUS) and its
 * admin actions (`status admin`, RP_ACTION_STATUS_ADMIN).
 *
 * Under the route's path:
 *   GET                       an HTML page, no external assets, that shows
 *                             the policy, listeners, each backend's servers
 *                             (health, operator state, weight, load,
 *                             requests, latency) and the routes' counts,
 *                             refreshed every second from ...
 *   GET ?format=json          ... its JSON twin (also for Accept:
 *                             application/json), for scripts;
 *   POST .../server/B/S/drain|disable|enable, .../server/B/S/weight/N
 *                             an operator's word on server S of backend B
 *                             (health.h's RP_ADMIN_*), without a rebuild;
 *   POST .../cache/purge      empties the cache.
 * POSTs need `status admin`; the route's guards say who may ask.
 */
#ifndef RP_STATUS_H
#define RP_STATUS_H

#include <stdbool.h>
#include <stddef.h>

struct rp_proc;
struct rp_http1_request;

struct rp_status_answer {
    int status;
    const char *content_type;
    const char *body; /* len bytes to send, valid until `owned` is freed */
    size_t len;
    char *owned;      /* malloc'd (the body, when made for this answer): free it */
    const char *extra; /* header lines to add ("Name: value\r\n"...) */
};

/* The answer to req. Returns -1 when out of memory. */
int rp_status_answer(struct rp_proc *proc, const struct rp_http1_request *req, bool admin,
                     struct rp_status_answer *out);

#endif
