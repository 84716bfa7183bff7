/* steps.h: what a route's steps (rp/program.h, `struct rp_step`) do in an
 * exchange's phases. The proxy calls one function per phase; each walks the
 * route's steps and runs the hook of every kind present, so a new feature
 * is a hook here (and its own module), not a branch in proxy.c.
 *
 *   access         rp_steps_access: after routing, before any answer of the
 *                  route (proxied or the proxy's own): limits
 *   request head   rp_steps_request: remember what later phases need from
 *                  the request (its head is gone by the time the response
 *                  comes: it was rebuilt for the server)
 *   response head  rp_steps_response_head: edit the head the client gets
 *                  (struct rp_head_edit), install body filters
 */
#ifndef RP_STEPS_H
#define RP_STEPS_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "edit.h"
#include "filter.h"
#include "headers.h"
#include "rp/http1.h"
#include "rp/program.h"

/* Per exchange: what the request phase learnt for the later ones. */
struct rp_cache_x;

struct rp_steps_state {
    const struct rp_step *steps; /* the route's; NULL: none */
    uint32_t accept_codings;     /* RP_CODING_*: what the client takes (compress) */
    struct rp_cache_x *cache;    /* the cache's (cache.h), owned; freed by rp_steps_release */
};

/* Frees what the request phase made (the exchange ends). */
void rp_steps_release(struct rp_steps_state *s);

/* The first route with a step of a kind this runtime does not know, or
 * RP_NO_ROUTE. */
uint32_t rp_steps_unknown(const struct rp_program *prog);

/* What the request phase may change beside the head's fields: the path the
 * server gets (rewrite), kept in a buffer of the pool. */
struct rp_request_ctx {
    const struct rp_value_ctx *vc;
    struct rp_buf **path;      /* NULL or the normalized path; a rewrite sets it */
    bool *path_rewritten;      /* ... and says so */
    struct rp_buf_pool *pool;
    const struct rp_header_actions *backend_headers; /* the decided backend's */
    double now;                /* the loop's time (the cache's clock) */
    bool cache_may_wait;       /* the cache may make it wait for another's fetch */
};

struct rp_limits;
struct rp_auth_cache;

/* What the access phase works with. */
struct rp_access_ctx {
    struct rp_limits *limits;          /* the process's (never NULL when a route has a limit) */
    struct rp_auth_cache *auth_cache;  /* the worker's (never NULL when a route has auth) */
    struct rp_jwt_cache *jwt_cache;    /* the worker's (never NULL when a route has jwt) */
    double now;                        /* the loop's time: seconds since the epoch (a
                                          token's exp and nbf, the caches' ages) */
};

enum rp_access_result {
    RP_ACCESS_PASS = 0,
    RP_ACCESS_DELAY = 1,        /* a `limit ... delay`: go after wait_ns */
    RP_ACCESS_LIMITED = 2,      /* a limit refused: 429 */
    RP_ACCESS_UNAUTHORIZED = 3, /* no valid credentials: 401 */
    RP_ACCESS_BUSY = 4,         /* a `concurrent` limit is full: 503 */
    RP_ACCESS_METHOD = 5,       /* not one of the route's `methods`: 405 with Allow */
    RP_ACCESS_TOO_LARGE = 6,    /* a Content-Length over the route's `body_size`: 413 */
    RP_ACCESS_SUBREQUEST = 7,   /* `auth request`: its subrequest decides (authreq) */
};

/* The log's reason for a request refused by an `errors ... ban` limit (its
 * own refusal is not counted as another error). */
extern const char rp_limit_banned_reason[];

/* A `concurrent` limit's count an exchange holds until it ends, or an
 * `errors` limit that counts its answer when it ends. */
struct rp_limit_hold {
    const struct rp_limit_def *limit;
    uint64_t key;
};
#define RP_ACCESS_HOLDS 4

/* What the access phase found. */
struct rp_access_verdict {
    uint64_t wait_ns;                 /* DELAY: go after this; LIMITED: retry after */
    const struct rp_limit_def *limit; /* LIMITED: the limit that refused */
    const struct rp_auth_basic_def *auth; /* UNAUTHORIZED: whose realm; PASS: the last
                                             that let it in */
    const struct rp_jwt_def *jwt;     /* UNAUTHORIZED by a token: a Bearer challenge; PASS:
                                         the token's (its claims are read when it says) */
    int jwt_verdict;                  /* ... and why (enum rp_jwt_verdict) */
    const char *reason;               /* LIMITED, UNAUTHORIZED: for the log */
    const struct rp_methods_def *methods; /* METHOD: its Allow */
    const struct rp_auth_request_def *authreq; /* SUBREQUEST */
    uint64_t max_body;                /* the route's `body_size` (0: limits { body_size }) */
    bool strip_credentials;           /* an auth took the credentials: they stay here */
    uint32_t n_holds;                 /* counts taken (whatever the result): release them */
    struct rp_limit_hold holds[RP_ACCESS_HOLDS];
    char user[64];                    /* the user name sent, when one was (RP_AUTH_USER_MAX) */
};

/* Runs a route's access table (rp_route_def.access) in order: its methods
 * and body size, its limits (the first that refuses answers; the longest
 * wait of those that delay is the wait), then its authentication.
 * content_length: the request's (0 when it has none or is chunked). */
enum rp_access_result rp_steps_access(const struct rp_step *access,
                                      const struct rp_access_ctx *ctx,
                                      const struct rp_request_view *v, uint32_t route,
                                      uint64_t content_length, struct rp_access_verdict *out);

/* The request head phase: remembers what later phases need, edits the
 * head the server gets (header actions) in req_edit, and rewrites the
 * path. */
void rp_steps_request(struct rp_steps_state *s, const struct rp_step *steps,
                      const struct rp_http1_request *req, const struct rp_request_ctx *rc,
                      struct rp_head_edit *req_edit);

/* What the response phase knows of the exchange beside the response. */
struct rp_response_ctx {
    bool head_request;     /* the request was HEAD: no body follows */
    bool chunked_ok;       /* the client reads chunked framing (HTTP/1.1) */
    struct rp_buf_pool *pool;
    const struct rp_value_ctx *vc; /* what response values may use (req.id) */
    const struct rp_header_actions *backend_headers; /* the backend's */
    double now;
};

/* The response head phase: fills `edit`, and when the body is to be
 * filtered, returns a chain (*filters, to free with rp_filters_free and
 * free()). Returns -1 when a step cannot run (no memory): the response
 * then goes as it came, which is always correct; 1 when the cache's
 * stored response answers instead (a revalidation's 304, stale-if-error):
 * nothing was put in edit or *filters then. */
int rp_steps_response_head(struct rp_steps_state *s, const struct rp_http1_response *resp,
                           const struct rp_response_ctx *ctx, struct rp_head_edit *edit,
                           struct rp_body_filters **filters);

/* The response header actions for an answer from the cache's store: the
 * route's, the top level's and the backend's (as for a relayed one). */
void rp_steps_stored_answer(const struct rp_step *steps, const struct rp_value_ctx *vc,
                            const struct rp_header_actions *backend_headers,
                            struct rp_head_edit *edit);

/* The response header actions for an answer the proxy makes itself
 * (respond, redirect, errors) on `route` (RP_NO_ROUTE: none): the route's
 * steps, or the top level's actions when it has none. */
void rp_steps_local_answer(const struct rp_program *prog, uint32_t route,
                           const struct rp_value_ctx *vc, struct rp_head_edit *edit);

#endif
