/* steps.c: a route's steps in the exchange's phases (steps.h). */
#include <stdlib.h>
#include <string.h>

#include "compress.h"
#include "steps.h"

uint32_t rp_steps_unknown(const struct rp_program *prog)
{
    for (uint32_t r = 0; r < prog->n_routes; r++)
        for (const struct rp_step *st = prog->routes[r].steps; st && st->kind != RP_STEP_END; st++)
            if ((st->kind != RP_STEP_COMPRESS && st->kind != RP_STEP_HEADERS) || !st->arg)
                return r;
    return RP_NO_ROUTE;
}

void rp_steps_request(struct rp_steps_state *s, const struct rp_step *steps,
                      const struct rp_http1_request *req, const struct rp_value_ctx *vc,
                      struct rp_head_edit *req_edit)
{
    s->steps = steps;
    s->accept_codings = 0;
    for (const struct rp_step *st = steps; st && st->kind != RP_STEP_END; st++) {
        switch (st->kind) {
        case RP_STEP_COMPRESS:
            s->accept_codings = rp_accept_codings(req->headers, req->n_headers);
            break;
        case RP_STEP_HEADERS:
            rp_headers_apply(st->arg, false, vc, req_edit);
            break;
        case RP_STEP_END:
            break;
        }
    }
}

int rp_steps_response_head(struct rp_steps_state *s, const struct rp_http1_response *resp,
                           const struct rp_response_ctx *ctx, struct rp_head_edit *edit,
                           struct rp_body_filters **filters)
{
    *filters = NULL;
    if (!s->steps)
        return 0;
    struct rp_body_filters *chain = NULL;
    int rc = 0;
    for (const struct rp_step *st = s->steps; st->kind != RP_STEP_END; st++) {
        switch (st->kind) {
        case RP_STEP_COMPRESS:
            /* The chain exists only for routes with a filter step. */
            if (!chain) {
                if (!(chain = malloc(sizeof *chain))) {
                    rc = -1;
                    break;
                }
                rp_filters_init(chain, ctx->pool, ctx->chunked_ok);
            }
            if (rp_compress_response(st->arg, s->accept_codings, resp, ctx->head_request, edit,
                                     chain) < 0)
                rc = -1;
            break;
        case RP_STEP_HEADERS:
            if (rp_headers_apply(st->arg, true, ctx->vc, edit) < 0)
                rc = -1;
            break;
        case RP_STEP_END:
            break;
        }
    }
    if (chain && chain->n == 0) {
        free(chain);
        return rc;
    }
    *filters = chain;
    return rc;
}
