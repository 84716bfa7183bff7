/* steps.c: a route's steps in the exchange's phases (steps.h). */
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "auth.h"
#include "compress.h"
#include "jwt.h"
#include "limit.h"
#include "rp/match.h"
#include "steps.h"

/* The access table's kinds (rp_steps_access): nothing for them to do in an
 * exchange's other phases. */
#define ACCESS_STEPS                                                                               \
    case RP_STEP_LIMIT:                                                                            \
    case RP_STEP_AUTH_BASIC:                                                                       \
    case RP_STEP_METHODS:                                                                          \
    case RP_STEP_BODY_SIZE:                                                                        \
    case RP_STEP_AUTH_REQUEST:                                                                     \
    case RP_STEP_AUTH_JWT:

static bool access_kind(enum rp_step_kind kind)
{
    switch (kind) {
    ACCESS_STEPS
        return true;
    default:
        return false;
    }
}

uint32_t rp_steps_unknown(const struct rp_program *prog)
{
    for (uint32_t r = 0; r < prog->n_routes; r++) {
        for (const struct rp_step *st = prog->routes[r].steps; st && st->kind != RP_STEP_END; st++)
            if (st->kind == RP_STEP_BACKEND_HEADERS)
                continue;
            else if ((st->kind != RP_STEP_COMPRESS && st->kind != RP_STEP_HEADERS &&
                      st->kind != RP_STEP_REWRITE && st->kind != RP_STEP_CACHE) ||
                     !st->arg)
                return r;
        for (const struct rp_step *st = prog->routes[r].access; st && st->kind != RP_STEP_END; st++)
            if (!access_kind(st->kind) || !st->arg)
                return r;
    }
    return RP_NO_ROUTE;
}

const char rp_limit_banned_reason[] = "limit: banned after errors";


enum rp_access_result rp_steps_access(const struct rp_step *access,
                                      const struct rp_access_ctx *ctx,
                                      const struct rp_request_view *v, uint32_t route,
                                      uint64_t content_length, struct rp_access_verdict *out)
{
    enum rp_access_result result = RP_ACCESS_PASS;
    uint64_t now = 0;
    out->wait_ns = 0;
    out->limit = NULL;
    out->auth = NULL;
    out->reason = NULL;
    out->strip_credentials = false;
    out->n_holds = 0;
    out->methods = NULL;
    out->authreq = NULL;
    out->jwt = NULL;
    out->max_body = 0;
    out->user[0] = '\0';
    for (const struct rp_step *st = access; st->kind != RP_STEP_END; st++) {
        if (st->kind == RP_STEP_METHODS) {
            const struct rp_methods_def *m = st->arg;
            uint32_t i = 0;
            while (i < m->n && !(strlen(m->names[i]) == v->method_len &&
                                 memcmp(m->names[i], v->method, v->method_len) == 0))
                i++;
            if (i == m->n) {
                out->methods = m;
                out->reason = "method not allowed here";
                return RP_ACCESS_METHOD;
            }
            continue;
        }
        if (st->kind == RP_STEP_BODY_SIZE) {
            const struct rp_body_size_def *b = st->arg;
            out->max_body = b->max;
            if (content_length > b->max) {
                out->reason = "body larger than the route's body_size";
                return RP_ACCESS_TOO_LARGE;
            }
            continue;
        }
        if (st->kind == RP_STEP_AUTH_JWT) {
            const struct rp_jwt_def *def = st->arg;
            enum rp_jwt_verdict jv = rp_jwt_check(def, v, ctx->jwt_cache, ctx->now, out->user);
            if (jv != RP_JWT_OK) {
                out->jwt = def;
                out->jwt_verdict = jv;
                out->reason = rp_jwt_reason(jv);
                return RP_ACCESS_UNAUTHORIZED;
            }
            out->strip_credentials |= !def->forward_token && def->from == RP_JWT_FROM_BEARER;
            out->jwt = def;
            continue;
        }
        if (st->kind == RP_STEP_AUTH_REQUEST) {
            out->authreq = st->arg; /* the last step: the subrequest decides */
            return RP_ACCESS_SUBREQUEST;
        }
        if (st->kind == RP_STEP_AUTH_BASIC) {
            const struct rp_auth_basic_def *def = st->arg;
            const char *field = NULL;
            uint32_t len = 0;
            rp_req_header(v, "authorization", 13, &field, &len);
            enum rp_auth_verdict av =
                rp_auth_basic_check(def, field, len, ctx->auth_cache, ctx->now, out->user);
            out->auth = def;
            if (av != RP_AUTH_OK) {
                out->reason = rp_auth_reason(av);
                return RP_ACCESS_UNAUTHORIZED;
            }
            out->strip_credentials |= !def->forward_credentials;
            continue;
        }
        const struct rp_limit_use *use = st->arg;
        uint64_t key, wait = 0;
        if (!rp_limit_key(use->limit, v, route, &key))
            continue;
        if (use->limit->ban_ns) {
            if (!now)
                now = rp_limit_now();
            if (rp_limit_banned(ctx->limits, use->limit, key, now, &wait)) {
                out->wait_ns = wait;
                out->limit = use->limit;
                out->reason = rp_limit_banned_reason;
                return RP_ACCESS_LIMITED;
            }
            if (out->n_holds < RP_ACCESS_HOLDS) /* its answer will be counted */
                out->holds[out->n_holds++] = (struct rp_limit_hold){use->limit, key};
            continue;
        }
        if (use->limit->concurrent) {
            if (out->n_holds == RP_ACCESS_HOLDS)
                continue; /* the compiler allows no more per route */
            if (!rp_limit_acquire(ctx->limits, use->limit, key)) {
                out->limit = use->limit;
                out->reason = "limit: too many at once";
                return RP_ACCESS_BUSY;
            }
            out->holds[out->n_holds++] = (struct rp_limit_hold){use->limit, key};
            continue;
        }
        if (!now)
            now = rp_limit_now();
        int r = rp_limit_take(ctx->limits, use->limit, use->delay, key, now, &wait);
        if (r == RP_LIMIT_DOWN) {
            out->limit = use->limit;
            out->reason = "limit: its shared state (Redis) is unreachable";
            return RP_ACCESS_BUSY;
        }
        if (r == RP_LIMIT_REJECT) {
            out->wait_ns = wait;
            out->limit = use->limit;
            out->reason = "limit: over the rate";
            return RP_ACCESS_LIMITED;
        }
        if (r == RP_LIMIT_DELAY) {
            result = RP_ACCESS_DELAY;
            if (wait > out->wait_ns)
                out->wait_ns = wait;
        }
    }
    return result;
}

/* The path a rewrite makes from `path`, into out (RP_BUF_SIZE). Returns
 * its length, or -1 when it leaves the path as it is. */
static int rewrite(const struct rp_rewrite_def *rw, const char *path, size_t n, char *out)
{
    if (rw->prefix) {
        if (n < rw->prefix_len || memcmp(path, rw->prefix, rw->prefix_len) != 0)
            return -1;
        path += rw->prefix_len;
        n -= rw->prefix_len;
        size_t slash = n == 0 || path[0] != '/';
        out[0] = '/';
        memcpy(out + slash, path, n);
        return (int)(slash + n);
    }
    uint32_t caps[2 * RP_RE_MAX_CAPS];
    memset(caps, 0xff, sizeof caps);
    if (!rp_regex_match(rw->re, path, n, caps))
        return -1;
    /* rendered one byte in, for the '/' a path must start with */
    struct rp_value_ctx vc = {.subject = path, .cap = caps};
    size_t o = rp_pieces_eval(rw->pieces, rw->n_pieces, &vc, out + 1, RP_HEAD_MAX - 1);
    if (o >= RP_HEAD_MAX - 1)
        return -1; /* filled: it may have been cut */
    if (o && out[1] == '/') {
        memmove(out, out + 1, o);
        return (int)o;
    }
    out[0] = '/';
    return (int)o + 1;
}

static void rewrite_path(const struct rp_rewrite_def *rw, const struct rp_http1_request *req,
                         const struct rp_request_ctx *rc)
{
    struct rp_buf *cur = *rc->path;
    const char *path = cur ? cur->data : req->path;
    size_t n = cur ? cur->end : req->path_len;
    struct rp_buf *out = rp_buf_get(rc->pool);
    if (!out)
        return;
    int len = rewrite(rw, path, n, out->data);
    if (len < 0) {
        rp_buf_put(rc->pool, out);
        return;
    }
    out->start = 0;
    out->end = (uint32_t)len;
    rp_buf_put(rc->pool, cur);
    *rc->path = out;
    *rc->path_rewritten = true;
}

void rp_steps_request(struct rp_steps_state *s, const struct rp_step *steps,
                      const struct rp_http1_request *req, const struct rp_request_ctx *rc,
                      struct rp_head_edit *req_edit)
{
    const struct rp_value_ctx *vc = rc->vc;
    s->steps = steps;
    s->accept_codings = 0;
    rp_steps_release(s);
    /* compress's choice first: the cache serves encoded copies by it */
    const struct rp_compress_def *cdef = NULL;
    for (const struct rp_step *st = steps; st && st->kind != RP_STEP_END; st++)
        if (st->kind == RP_STEP_COMPRESS) {
            cdef = st->arg;
            s->accept_codings = rp_accept_choose(req->headers, req->n_headers, cdef->codings);
        }
    for (const struct rp_step *st = steps; st && st->kind != RP_STEP_END; st++) {
        switch (st->kind) {
        case RP_STEP_COMPRESS:
            break; /* chosen above */
        case RP_STEP_HEADERS:
            rp_headers_apply(st->arg, false, vc, req_edit);
            break;
        case RP_STEP_REWRITE:
            rewrite_path(st->arg, req, rc);
            break;
        case RP_STEP_BACKEND_HEADERS:
            if (rc->backend_headers)
                rp_headers_apply(rc->backend_headers, false, vc, req_edit);
            break;
        case RP_STEP_CACHE:
            s->cache = rp_cache_request(st->arg, req, vc, rc->now, rc->cache_may_wait, cdef,
                                        s->accept_codings, rc->pool, req_edit);
            break;
        ACCESS_STEPS
        case RP_STEP_END:
            break;
        }
    }
}

/* A body filter chain, made only for routes with a filter step (cache,
 * compress). NULL when out of memory. */
static struct rp_body_filters *chain_new(const struct rp_response_ctx *ctx)
{
    struct rp_body_filters *chain = malloc(sizeof *chain);
    if (chain)
        rp_filters_init(chain, ctx->pool, ctx->chunked_ok);
    return chain;
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
        case RP_STEP_CACHE:
            if (!chain && !(chain = chain_new(ctx))) {
                rc = -1;
                break;
            }
            bool reframe = false;
            if (rp_cache_response(s->cache, resp, ctx->now, edit, chain, &reframe)) {
                rp_filters_free(chain);
                free(chain);
                rp_head_edit_init(edit);
                return 1;
            }
            if (reframe)
                edit->reframe = true;
            break;
        case RP_STEP_COMPRESS:
            if (!chain && !(chain = chain_new(ctx))) {
                rc = -1;
                break;
            }
            if (rp_compress_response(st->arg, s->accept_codings, resp, ctx->head_request, edit,
                                     chain) < 0)
                rc = -1;
            break;
        case RP_STEP_HEADERS:
            if (rp_headers_apply(st->arg, true, ctx->vc, edit) < 0)
                rc = -1;
            break;
        case RP_STEP_REWRITE:
            break;
        case RP_STEP_BACKEND_HEADERS:
            if (ctx->backend_headers && rp_headers_apply(ctx->backend_headers, true, ctx->vc, edit) < 0)
                rc = -1;
            break;
        ACCESS_STEPS
        case RP_STEP_END:
            break;
        }
    }
    if (chain && chain->n == 0) {
        free(chain);
        return rc;
    }
    /* Filters that keep the length (the cache's copy) leave the server's
     * framing as it was; any that reframes makes the output chunked. */
    if (chain)
        chain->chunked = edit->reframe && ctx->chunked_ok;
    *filters = chain;
    return rc;
}

void rp_steps_release(struct rp_steps_state *s)
{
    rp_cache_x_free(s->cache);
    s->cache = NULL;
}

void rp_steps_stored_answer(const struct rp_step *steps, const struct rp_value_ctx *vc,
                            const struct rp_header_actions *backend_headers,
                            struct rp_head_edit *edit)
{
    for (const struct rp_step *st = steps; st && st->kind != RP_STEP_END; st++)
        if (st->kind == RP_STEP_HEADERS)
            rp_headers_apply(st->arg, true, vc, edit);
        else if (st->kind == RP_STEP_BACKEND_HEADERS && backend_headers)
            rp_headers_apply(backend_headers, true, vc, edit);
}

void rp_steps_local_answer(const struct rp_program *prog, uint32_t route,
                           const struct rp_value_ctx *vc, struct rp_head_edit *edit)
{
    const struct rp_step *steps = route < prog->n_routes ? prog->routes[route].steps : NULL;
    if (!steps) {
        if (prog->headers)
            rp_headers_apply(prog->headers, true, vc, edit);
        return;
    }
    for (const struct rp_step *st = steps; st->kind != RP_STEP_END; st++)
        if (st->kind == RP_STEP_HEADERS)
            rp_headers_apply(st->arg, true, vc, edit);
}
