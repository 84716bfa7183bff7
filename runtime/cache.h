/* cache.h: the cache step (RP_STEP_CACHE): a shared cache (RFC 9111) in
 * front of a route's backend.
 *
 *   request head   rp_cache_request: the key, the request's directives, a
 *                  lookup; the answer: serve what is stored (fresh, or
 *                  stale where allowed), revalidate it (conditional
 *                  fields added to the server's request), or go on
 *   response head  rp_cache_response: a revalidation's 304 or an error
 *                  turns into the stored response; a storable response
 *                  gets a filter that keeps a copy of its body, stored
 *                  when the body is complete; unsafe methods invalidate
 *   serving        rp_cache_serve_head: the stored head, brought up to
 *                  date (Age), answered as the request asks (304, 412,
 *                  HEAD, a Range)
 *
 * One store for the process (cache_store.h), made at start when a route
 * caches. The rules themselves are in cache_rfc.h.
 */
#ifndef RP_CACHE_H
#define RP_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "edit.h"
#include "filter.h"
#include "headers.h"
#include "rp/http1.h"
#include "rp/program.h"

struct rp_cache_x; /* one exchange's */

/* Makes the store when a route of prog caches (its bound: the largest
 * max_size). Returns -1 when out of memory. */
int rp_cache_init(const struct rp_program *prog);
void rp_cache_shutdown(void);

/* What the request phase found. */
enum rp_cache_answer {
    RP_CACHE_BYPASS,       /* nothing to do with the cache: go on to the server */
    RP_CACHE_MISS,         /* go on; the response may be stored */
    RP_CACHE_VALIDATE,     /* go on with conditional fields; a 304 serves the stored */
    RP_CACHE_SERVE,        /* answer from the store (rp_cache_serve_head) */
    RP_CACHE_ONLY_CACHED,  /* only-if-cached and nothing usable: 504 */
    RP_CACHE_WAIT,         /* another request is fetching it: look again shortly */
};

/* The request head phase: a new state for the exchange (free with
 * rp_cache_x_free), or NULL when out of memory. Conditional fields for a
 * revalidation go into req_edit. may_wait: a request for a key another
 * is fetching may wait for it (RP_CACHE_WAIT) rather than go too. cdef:
 * the route's compress (NULL: none), coding the one the client takes (0:
 * none): a hit is then served from a copy encoded once and stored. */
struct rp_cache_x *rp_cache_request(const struct rp_cache_def *def,
                                    const struct rp_http1_request *req,
                                    const struct rp_value_ctx *vc, double now, bool may_wait,
                                    const struct rp_compress_def *cdef, uint32_t coding,
                                    struct rp_buf_pool *pool, struct rp_head_edit *req_edit);
enum rp_cache_answer rp_cache_answer_of(const struct rp_cache_x *x);
void rp_cache_x_free(void *x);

/* The response head phase (the status header, when the policy names one,
 * goes into edit). Returns true when the client is to get the
 * stored response instead of this one: the server validated it (304 to a
 * revalidation), or failed (a 5xx) within stale-if-error. Otherwise, for a
 * response to store, adds the copying filter to chain and returns false;
 * sets *reframe when the filter needs the body reframed (it came chunked
 * or until close). */
bool rp_cache_response(struct rp_cache_x *x, const struct rp_http1_response *resp, double now,
                       struct rp_head_edit *edit, struct rp_body_filters *chain, bool *reframe);

/* HIT, MISS, STALE, EXPIRED, REVALIDATED or BYPASS: what the cache did. */
const char *rp_cache_verdict(const struct rp_cache_x *x);

/* No server answered (the proxy would answer status, a 502, 503 or 504):
 * true when a stale stored response may be served instead. */
bool rp_cache_on_error(struct rp_cache_x *x, double now);

/* The head of the stored response as this request gets it, into b: the
 * status line, the stored fields but those edit drops, Age, framing (a
 * Content-Length, a Content-Range), the status header, edit's fields, and
 * `tail` (Date, Connection, Via lines the caller makes, each ending in
 * CRLF, then the final CRLF). Sets *body and *body_len to the bytes that
 * follow (none for HEAD, 304, 412, 416). Returns the status, or -1 when it
 * does not fit. */
int rp_cache_serve_head(struct rp_cache_x *x, const struct rp_http1_request *req,
                        bool head_request, const struct rp_head_edit *edit, double now,
                        const char *tail, size_t tail_len, struct rp_buf *b, const char **body,
                        uint64_t *body_len);

/* The request's fields the serving needs after the head is gone: kept by
 * rp_cache_request (a copy), as a request view for rp_cache_serve_head. */
const struct rp_http1_request *rp_cache_request_copy(const struct rp_cache_x *x);

/* `purge` (RP_ACTION_PURGE): removes the stored answers a request names:
 * those tagged with a name its Surrogate-Key (space-separated) or
 * Cache-Tag (comma-separated) fields list; else the one under its URL (the
 * default key: scheme://host/path?query), or, for a URL ending in '*',
 * every one whose key starts with what comes before. Returns how many. */
uint64_t rp_cache_purge_request(const struct rp_http1_request *req,
                                const struct rp_value_ctx *vc);

/* stale-while-revalidate: the request that refreshes the stale answer x
 * was served (to send, and free, with cache_refresh.h), with its key's
 * hash; NULL when none is due. The request carries X-Rpx-Refresh with
 * the process's random token: the cache revalidates for it (as for
 * no-cache) and keeps the field from the server. */
char *rp_cache_refresh_take(struct rp_cache_x *x, size_t *len, uint64_t *hash);

/* The table of refreshes in flight (one per key): claim before starting
 * one (false: one is running), done when it ends. */
bool rp_cache_refresh_claim(uint64_t hash, const void *owner, double now);
void rp_cache_refresh_done(uint64_t hash, const void *owner, double now);

/* Handing the store to a successor process (upgrade.h). The format of
 * stored objects (their meta block's layout): a successor adopts objects
 * only from a predecessor with the same one; 0 when there is no store. */
uint32_t rp_cache_format(void);

/* Every stored object, each with a reference the caller drops (*out is
 * malloc'd); 0 when none. */
struct rp_cache_obj;
size_t rp_cache_snapshot(struct rp_cache_obj ***out);

/* Files an object a predecessor stored (built with rp_cache_obj_new, its
 * meta, tags and body filled in). False when it does not fit or there is
 * no store; the caller keeps its reference either way. */
bool rp_cache_adopt(struct rp_cache_obj *o);

/* Empties the store (the status page's admin purge); how many went. */
uint64_t rp_cache_purge_everything(void);

/* Counts for the status page and tests. */
struct rp_cache_counts {
    uint64_t hits, misses, stale, revalidated, stored, bypass;
    uint64_t objects, bytes; /* in the store now */
};
void rp_cache_counts(struct rp_cache_counts *out);

#endif
