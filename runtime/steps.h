/* steps.h: what a route's steps (rp/program.h, `struct rp_step`) do in an
 * exchange's phases. The proxy calls one function per phase; each walks the
 * route's steps and runs the hook of every kind present, so a new feature
 * is a hook here (and its own module), not a branch in proxy.c.
 *
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
#include "filter.h"
#include "rp/http1.h"
#include "rp/program.h"

/* Per exchange: what the request phase learnt for the later ones. */
struct rp_steps_state {
    const struct rp_step *steps; /* the route's; NULL: none */
    uint32_t accept_codings;     /* RP_CODING_*: what the client takes (compress) */
};

/* Changes to a response head, applied while it is copied for the client. */
#define RP_HEAD_EDIT_DROP_MAX 8
#define RP_HEAD_EDIT_EXTRA_MAX 1024
struct rp_head_edit {
    uint32_t n_drop;
    const char *drop[RP_HEAD_EDIT_DROP_MAX]; /* field names not copied, lower case */
    uint8_t drop_len[RP_HEAD_EDIT_DROP_MAX];
    bool reframe; /* the body goes through filters: its framing fields go, new
                     framing comes (chunked, or until close) */
    uint32_t extra_len;
    char extra[RP_HEAD_EDIT_EXTRA_MAX]; /* field lines added, each ending in CRLF */
};

static inline void rp_head_edit_init(struct rp_head_edit *e)
{
    e->n_drop = 0;
    e->reframe = false;
    e->extra_len = 0;
}

/* Adds a field name (lower case) not to copy. Returns -1 when full. */
int rp_head_edit_drop(struct rp_head_edit *e, const char *lname);

/* Adds a field line "name: value\r\n". Returns -1 (nothing added) when it
 * does not fit. */
int rp_head_edit_add(struct rp_head_edit *e, const char *name, const char *value,
                     size_t value_len);

/* True if the field is one the edit drops. */
bool rp_head_edit_drops(const struct rp_head_edit *e, const struct rp_http1_header *h);

/* The first route with a step of a kind this runtime does not know, or
 * RP_NO_ROUTE. */
uint32_t rp_steps_unknown(const struct rp_program *prog);

/* The request head phase. */
void rp_steps_request(struct rp_steps_state *s, const struct rp_step *steps,
                      const struct rp_http1_request *req);

/* What the response phase knows of the exchange beside the response. */
struct rp_response_ctx {
    bool head_request;     /* the request was HEAD: no body follows */
    bool chunked_ok;       /* the client reads chunked framing (HTTP/1.1) */
    struct rp_buf_pool *pool;
};

/* The response head phase: fills `edit`, and when the body is to be
 * filtered, returns a chain (*filters, to free with rp_filters_free and
 * free()). Returns -1 when a step cannot run (no memory): the response
 * then goes as it came, which is always correct. */
int rp_steps_response_head(struct rp_steps_state *s, const struct rp_http1_response *resp,
                           const struct rp_response_ctx *ctx, struct rp_head_edit *edit,
                           struct rp_body_filters **filters);

#endif
