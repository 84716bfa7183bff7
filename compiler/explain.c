/* explain.c: `rpx explain` (see explain.h).
 *
 * Nothing here decides what a request gets: the request is built by the
 * runtime's rp_test_request_build (as `rpx test` builds it), the candidate
 * routes come from the real route automaton (rp_match_routes), every
 * condition is decided by ir_test_holds (the call the generated code makes)
 * and a redirect's Location is put together by the runtime's rp_location_*
 * functions. What explain adds is the trace: which matcher, condition and
 * guard held, in words. */
#include "explain.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rp/http1.h>
#include <rp/match.h>
#include <rp/policy_test.h>
#include <rp/program.h>

#include "arena.h"
#include "policy_hash.h"

#define EX_MAX_HEADERS RP_TEST_MAX_HEADERS

struct ex {
    struct buf *out;
    const struct ir_program *ir;
    const struct ast_program *p;
    const struct src *s;
    struct rp_test_request rq;
    const struct rp_request_view *v; /* &rq.view */
    const uint32_t *cands;           /* the routes the automaton gives for the request */
    uint32_t n_cands;                /* (in policy order) */
    struct arena scratch;
    bool quiet; /* decide only, print nothing */
};

/* What a request gets. */
struct ex_answer {
    const struct ast_route *route; /* NULL: no route, 404 */
    const struct ast_action *action;
    enum ast_action_kind kind;
    uint32_t status;
    struct rp_decision d; /* REDIRECT: the Location, built as the proxy builds it */
};

static const char *ex_text(const struct ex *x, struct span s)
{
    return x->s->text + s.off;
}

static void ex_where(const struct ex *x, struct buf *b, struct span at)
{
    const char *name = src_name_at(x->s, at.off);
    const char *slash = strrchr(name, '/');
    unsigned line, col;
    src_line_col(x->s, at.off, &line, &col);
    buf_printf(b, "%s:%u", slash ? slash + 1 : name, line);
}

/* Shows bytes as a quoted string, escaped the way .rp strings are. */
static void ex_quote(struct buf *b, const char *s, size_t n)
{
    buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            buf_printf(b, "\\%c", c);
        else if (c == '\n')
            buf_puts(b, "\\n");
        else if (c == '\t')
            buf_puts(b, "\\t");
        else
            buf_putc(b, (char)c);
    }
    buf_putc(b, '"');
}

const char *explain_validate(const struct explain_req *rq)
{
    if (!rq->method[0])
        return "the method is empty";
    for (const char *m = rq->method; *m; m++)
        if (!(*m >= 'A' && *m <= 'Z'))
            return "methods are upper case letters";
    const char *u = rq->url;
    if (!(strncmp(u, "http://", 7) == 0 && u[7] && u[7] != '/') && u[0] != '/')
        return "a URL is \"http://host/path\" or \"/path\" (then give a Host header)";
    for (size_t i = 0; u[i]; i++)
        if ((unsigned char)u[i] <= 0x20 || u[i] == 0x7f)
            return "a URL cannot hold spaces or control characters";
    if (rq->from) {
        unsigned char a[16];
        if (inet_pton(AF_INET, rq->from, a) != 1 && inet_pton(AF_INET6, rq->from, a) != 1)
            return "--from takes an IPv4 or IPv6 address";
    }
    for (size_t i = 0; i < rq->n_headers; i++) {
        const char *c = strchr(rq->headers[i], ':');
        if (!c || c == rq->headers[i])
            return "a header is \"Name: value\"";
    }
    if (rq->n_headers > EX_MAX_HEADERS)
        return "too many headers";
    return NULL;
}

/* The request as the proxy sees it, and the routes the automaton gives
 * for it. */
static void ex_start(struct ex *x, const struct explain_req *rq)
{
    struct rp_test_header h[EX_MAX_HEADERS];
    size_t n = 0;
    for (; n < rq->n_headers && n < EX_MAX_HEADERS; n++) {
        const char *c = strchr(rq->headers[n], ':');
        const char *val = c + 1;
        while (*val == ' ' || *val == '\t')
            val++;
        h[n].name = arena_strndup(&x->scratch, rq->headers[n], (size_t)(c - rq->headers[n]));
        h[n].value = val;
    }
    const struct ast_program *p = x->p;
    const struct rp_forwarding fw = {
        .send = p->fwd_send,
        .n_trusted = p->fwd_trusted_set != UINT32_MAX ? p->cidr_sets[p->fwd_trusted_set].n : 0,
        .trusted = p->fwd_trusted_set != UINT32_MAX ? p->cidr_sets[p->fwd_trusted_set].ranges
                                                    : NULL};
    rp_test_request_build(&x->rq, &fw, rq->method, rq->url, rq->from, h, (uint32_t)n);
    x->v = &x->rq.view;
    x->n_cands = rp_match_routes(&x->ir->matcher, x->v->host, x->v->host_len, x->v->path,
                                 x->v->path_len, &x->cands);
}

static void ex_indent(struct ex *x, int depth)
{
    buf_printf(x->out, "%*s", 2 * depth, "");
}

/* Evaluates e, printing each part with its value at depth (when not quiet).
 * Both sides of `and`/`or` are shown, though the code stops at the first
 * that decides: the value is the same. */
static bool ex_eval(struct ex *x, const struct ast_expr *e, int depth)
{
    bool v;
    bool leaf = e->kind == AST_E_CMP && e->subj != AST_SUBJ_ACL;
    if (e->kind == AST_E_CMP && e->subj == AST_SUBJ_ACL) {
        if (!x->quiet) {
            ex_indent(x, depth);
            buf_printf(x->out, "%.*s: acl at ", (int)e->tok.len, ex_text(x, e->tok));
            ex_where(x, x->out, e->acl->kw);
            buf_putc(x->out, '\n');
        }
        v = ex_eval(x, e->acl->expr, depth + 1);
    } else if (leaf) {
        v = ir_test_holds(x->ir, ir_expr_test(x->ir, e), x->v);
    } else {
        if (!x->quiet) {
            ex_indent(x, depth);
            buf_printf(x->out, "%.*s\n", (int)e->tok.len, ex_text(x, e->tok));
        }
        if (e->kind == AST_E_NOT) {
            v = !ex_eval(x, e->l, depth + 1);
        } else {
            bool a = ex_eval(x, e->l, depth + 1);
            bool b = ex_eval(x, e->r, depth + 1);
            v = e->kind == AST_E_AND ? a && b : a || b;
        }
    }
    if (!x->quiet) {
        ex_indent(x, depth);
        if (leaf)
            buf_printf(x->out, "%.*s: ", (int)e->tok.len, ex_text(x, e->tok));
        else
            buf_puts(x->out, "=> ");
        buf_puts(x->out, v ? "true\n" : "false\n");
    }
    return v;
}

static void ex_say(struct ex *x, int depth, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void ex_say(struct ex *x, int depth, const char *fmt, ...)
{
    if (x->quiet)
        return;
    ex_indent(x, depth);
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(x->out, fmt, ap);
    va_end(ap);
}

/* Whether route index r is among the request's candidates (sorted). */
static bool ex_is_cand(const struct ex *x, uint32_t r)
{
    uint32_t lo = 0, hi = x->n_cands;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (x->cands[mid] == r)
            return true;
        if (x->cands[mid] < r)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

/* Whether the automaton gives route r for the request's host and the path
 * given. */
static bool ex_reaches(const struct ex *x, const struct ast_route *r, const char *path,
                       size_t path_len)
{
    const uint32_t *c;
    uint32_t n = rp_match_routes(&x->ir->matcher, x->v->host, x->v->host_len, path, path_len, &c);
    for (uint32_t i = 0; i < n; i++)
        if (c[i] == r->index)
            return true;
    return false;
}

/* Whether the route's checks (ir.h) all hold, each traced; caps gets the
 * path regex's groups. Host and path are the automaton's: the route is a
 * candidate or not. When it is not, the host is tried against a path the
 * route's own matcher takes, to say which of the two failed. */
static bool ex_route_matches(struct ex *x, const struct ir_route *rt, uint32_t *caps)
{
    const struct rp_request_view *v = x->v;
    const struct ast_route *r = rt->ast;
    if (r->is_default)
        ex_say(x, 1, "default: matches every request\n");
    bool literal_path = r->path_kind == AST_PATH_PREFIX || r->path_kind == AST_PATH_EXACT;
    for (uint32_t i = 0; i < rt->n_checks; i++) {
        const struct ir_check *ck = &rt->checks[i];
        bool ok = false;
        switch (ck->kind) {
        case IR_CHECK_HOST:
            ok = ex_is_cand(x, r->index) ||
                 (literal_path ? ex_reaches(x, r, r->path, r->path_len)
                               : ex_reaches(x, r, v->path, v->path_len));
            ex_say(x, 1, "host %.*s: %s\n", (int)r->host_tok.len, ex_text(x, r->host_tok),
                   ok ? "yes"
                      : r->host_kind == AST_HOST_EXACT ? "no, the host is another"
                                                       : "no, the host is not a subdomain of it");
            break;
        case IR_CHECK_PATH:
            ok = ex_is_cand(x, r->index);
            ex_say(x, 1, "path %s%.*s: %s\n", r->path_kind == AST_PATH_EXACT ? "= " : "",
                   (int)r->path_tok.len, ex_text(x, r->path_tok),
                   ok ? "yes"
                      : r->path_kind == AST_PATH_PREFIX ? "no, the path does not start with it"
                                                        : "no, the path is another");
            break;
        case IR_CHECK_METHOD:
            ok = ir_test_holds(x->ir, &x->ir->tests[ck->test], v);
            ex_say(x, 1, "method %.*s: %s\n", (int)r->methods->tok.len,
                   ex_text(x, r->methods->tok), ok ? "yes" : "no");
            break;
        case IR_CHECK_REGEX:
            ok = rp_regex_match(&x->ir->regexes[ck->regex], v->path, v->path_len, caps);
            ex_say(x, 1, "path ~ %.*s: %s\n", (int)r->path_tok.len, ex_text(x, r->path_tok),
                   ok ? "yes" : "no, the path does not match");
            break;
        case IR_CHECK_COND:
            ex_say(x, 1, "if %.*s\n", (int)ck->cond->tok.len, ex_text(x, ck->cond->tok));
            ok = ex_eval(x, ck->cond, 2);
            ex_say(x, 1, "if: %s\n", ok ? "holds" : "does not hold");
            break;
        }
        if (!ok)
            return false;
    }
    return true;
}

/* The action as written: its keyword to the end of its last part (to its
 * guard's keyword when it has one). */
static void ex_say_action(struct ex *x, const struct ast_action *act)
{
    size_t kwlen = (size_t)(act->guard ? act->guard_kw.off : act->kw.off) - act->kw.off;
    if (!act->guard) {
        struct span last = act->has_body                  ? act->body_tok
                           : act->kind == AST_ACTION_PROXY ? act->backend_name
                           : act->status_tok.len           ? act->status_tok
                                                           : act->kw; /* purge, metrics */
        kwlen = last.off + last.len - act->kw.off;
    }
    while (kwlen > 0 && x->s->text[act->kw.off + kwlen - 1] == ' ')
        kwlen--;
    ex_say(x, 1, "%.*s", (int)kwlen, ex_text(x, act->kw));
}

/* The candidates in order (or, tracing, every route), each checked, then
 * its steps: the first that applies answers, by rp_answer_set as the
 * generated code does. */
static void ex_decide(struct ex *x, struct ex_answer *a)
{
    memset(a, 0, sizeof *a);
    /* A trace shows every route; a quiet decision needs only the candidates
     * (no other route can match), which keeps `rpx diff` linear. */
    uint32_t n = x->quiet ? x->n_cands : x->p->n_routes;
    for (uint32_t i = 0; i < n; i++) {
        const struct ir_route *rt = &x->ir->route_ir[x->quiet ? x->cands[i] : i];
        const struct ast_route *r = rt->ast;
        if (!x->quiet) {
            buf_printf(x->out, "route %u (", r->index + 1);
            ex_where(x, x->out, r->kw);
            buf_printf(x->out, ") %s\n", r->label);
        }
        uint32_t caps[2 * RP_RE_MAX_CAPS];
        memset(caps, 0xff, sizeof caps);
        if (!ex_route_matches(x, rt, caps)) {
            ex_say(x, 1, "=> no match, next route\n");
            continue;
        }
        for (uint32_t k = 0; k < rt->n_steps; k++) {
            const struct ir_step *st = &rt->steps[k];
            ex_say_action(x, st->act);
            if (st->guard) {
                if (!x->quiet)
                    buf_printf(x->out, " %s %.*s\n", st->unless ? "unless" : "if",
                               (int)st->guard->tok.len, ex_text(x, st->guard->tok));
                bool g = ex_eval(x, st->guard, 2);
                if (g == st->unless) {
                    ex_say(x, 1, "=> skipped: the condition %s; next action\n",
                           g ? "holds" : "does not hold");
                    continue;
                }
                ex_say(x, 1, "=> applies: the condition %s\n", g ? "holds" : "does not hold");
            } else if (!x->quiet) {
                buf_putc(x->out, '\n');
            }
            a->route = r;
            a->action = st->act;
            rp_answer_set(&a->d, &st->answer, x->v, caps);
            /* a Location too long to send made it a 500 */
            a->kind = a->d.action == RP_ACTION_RESPOND && st->act->kind == AST_ACTION_REDIRECT
                          ? AST_ACTION_RESPOND
                          : st->act->kind;
            a->status = a->d.status;
            return;
        }
    }
}

static void ex_answer_text(struct ex *x, struct buf *b, const struct ex_answer *a)
{
    if (!a->route) {
        buf_puts(b, "no route matches: status 404");
        return;
    }
    switch (a->kind) {
    case AST_ACTION_PROXY:
        buf_printf(b, "proxy %.*s", (int)a->action->backend_name.len,
                   ex_text(x, a->action->backend_name));
        break;
    case AST_ACTION_REDIRECT:
        buf_printf(b, "status %u, location ", a->status);
        ex_quote(b, a->d.location, a->d.location_len);
        break;
    case AST_ACTION_PURGE:
        buf_puts(b, "purge the cache's answers it names, status 200");
        break;
    case AST_ACTION_METRICS:
        buf_puts(b, "the metrics (Prometheus text), status 200");
        break;
    case AST_ACTION_STATUS:
        buf_puts(b, a->action && a->action->admin
                        ? "the status page (HTML, JSON) and its admin actions, status 200"
                        : "the status page (HTML, JSON), status 200");
        break;
    default:
        /* the body too, as explain_outcome (and so rpx diff) tells answers apart */
        buf_printf(b, "status %u", a->status);
        if (a->action && a->action->body) {
            buf_putc(b, ' ');
            ex_quote(b, a->action->body, a->action->body_len > 60 ? 60 : a->action->body_len);
        }
        break;
    }
    buf_printf(b, " (route %u, ", a->route->index + 1);
    ex_where(x, b, a->route->kw);
    buf_putc(b, ')');
}

static const char *jws_name(enum rp_jws_alg a)
{
    static const char *const names[] = {"",      "HS256", "HS384", "HS512", "RS256",
                                        "RS384", "RS512", "PS256", "PS384", "PS512",
                                        "ES256", "ES384", "EdDSA"};
    return a < sizeof names / sizeof names[0] ? names[a] : "?";
}

/* The route's access phase (methods, body size, limits, auth), which comes
 * before its answer: "first: ..." lines. */
static void ex_limits(struct ex *x, const struct ex_answer *a, struct buf *out)
{
    static const char *const units[] = {"", "s", "m", "h"};
    const struct ast_route *r = a->route;
    if (r && r->methods_kw.len) {
        bool in = false;
        for (uint32_t i = 0; i < r->n_allow; i++)
            in |= strlen(r->allow[i]) == x->v->method_len &&
                  memcmp(r->allow[i], x->v->method, x->v->method_len) == 0;
        buf_printf(out, "first: methods %s, else 405 (", r->allow_text);
        ex_where(x, out, r->methods_kw);
        buf_printf(out, "): %.*s %s\n", (int)x->v->method_len, x->v->method,
                   in ? "passes" : "gets 405 with Allow, and nothing below happens");
    }
    if (r && r->body_size_kw.len) {
        buf_printf(out, "first: a body of at most %llu bytes, else 413 (",
                   (unsigned long long)r->body_size);
        ex_where(x, out, r->body_size_kw);
        buf_puts(out, ")\n");
    }
    for (const struct ast_limit_use *u = a->route ? a->route->limits : NULL; u; u = u->next) {
        const struct ast_limit *l = u->limit;
        if (l->concurrent)
            buf_printf(out, "first: limit %.*s, %u in flight at once", (int)l->name.len,
                       ex_text(x, l->name), l->concurrent);
        else if (l->ban_ns)
            buf_printf(out, "first: limit %.*s, %u answers %u..%u per %us, then banned for %llus",
                       (int)l->name.len, ex_text(x, l->name), l->burst, l->status_min,
                       l->status_max, l->window_s, (unsigned long long)(l->ban_ns / 1000000000u));
        else
            buf_printf(out, "first: limit %.*s, %u/%s, %u at once", (int)l->name.len,
                       ex_text(x, l->name), l->quota,
                       units[l->window_s == 1 ? 1 : l->window_s == 60 ? 2 : 3], l->burst);
        if (l->key || l->by_route) {
            buf_puts(out, ", for each ");
            for (const struct ast_arg *arg = l->args; arg; arg = arg->next)
                if (arg->kind == AST_ARG_WORD && arg->tok.len == 2 &&
                    memcmp(ex_text(x, arg->tok), "by", 2) == 0 && arg->next)
                    buf_append(out, ex_text(x, arg->next->tok), arg->next->tok.len);
        } else {
            buf_puts(out, ", all requests together");
        }
        buf_puts(out, l->concurrent ? ": beyond that 503 ("
                      : l->ban_ns   ? ": while banned 429 ("
                      : u->delay ? ": over the rate it waits its turn, past the burst 429 ("
                                 : ": past the burst 429 (");
        ex_where(x, out, u->kw);
        buf_puts(out, ")\n");
    }
    const struct ast_auth *au = a->route ? a->route->auth : NULL;
    if (au && au->backend) {
        buf_printf(out, "first: auth request: GET %s with this request's fields to backend "
                        "%.*s; a 2xx lets it through", au->path, (int)au->backend->name.len,
                   ex_text(x, au->backend->name));
        for (uint32_t i = 0; i < au->n_copy; i++)
            buf_printf(out, "%s%s", i ? ", " : " with its ", au->copy[i]);
        buf_puts(out, "; 401 and 403 go to the client; else 500 or 502 (");
        ex_where(x, out, au->kw);
        buf_puts(out, ")\n");
    } else if (au && au->jwt) {
        buf_puts(out, "first: auth jwt: a token signed with");
        for (uint32_t alg = RP_JWS_HS256, n = 0; alg <= RP_JWS_EDDSA; alg++)
            if (au->jwt_algs & (1u << alg))
                buf_printf(out, "%s%s", n++ ? ", " : " ", jws_name((enum rp_jws_alg)alg));
        buf_printf(out, " by the key in %s, not expired (leeway %us)", au->shown, au->leeway_s);
        if (au->issuer)
            buf_printf(out, ", issued by %s", au->issuer);
        for (uint32_t i = 0; i < au->n_audiences; i++)
            buf_printf(out, "%s%s", i ? " or " : ", for ", au->audiences[i]);
        buf_puts(out, ", else 401 (");
        ex_where(x, out, au->kw);
        buf_puts(out, ")\n");
    } else if (au) {
        buf_printf(out, "first: auth basic \"%s\": a user of %s with the right password, "
                        "else 401 (", au->realm, au->shown);
        ex_where(x, out, au->kw);
        buf_puts(out, au->forward_credentials ? "); the credentials go on to the server\n"
                                              : "); the credentials stay here\n");
    }
}

/* The steps that follow the answer, in the order the proxy runs them, as
 * "then: ..." lines (with the policy line of each header action when
 * where). */
static void ex_steps(struct ex *x, const struct ex_answer *a, struct buf *out, bool where)
{
    bool proxied = a->route && a->kind == AST_ACTION_PROXY;
    /* The steps that follow the answer, in the order the proxy runs them. */
    const struct ast_hdr_action *lists[3] = {
        x->p->hdr_actions, proxied && a->action->backend ? a->action->backend->hdr_actions : NULL,
        a->route ? a->route->hdr_actions : NULL};
    static const char *const ops[] = {"", "set", "add", "remove"};
    for (int l = 0; l < 3; l++)
        for (const struct ast_hdr_action *h = lists[l]; h; h = h->next) {
            if (!h->response && !proxied)
                continue;
            buf_printf(out, "then: %s%s header %s", ops[h->op], h->response ? " response" : "",
                       h->name);
            if (h->value)
                buf_printf(out, " %.*s", (int)h->value_tok.len, ex_text(x, h->value_tok));
            if (where) {
                buf_printf(out, " (");
                ex_where(x, out, h->where);
                buf_putc(out, ')');
            }
            buf_putc(out, '\n');
        }
    const struct ast_rewrite *rw = proxied ? a->route->rewrite : NULL;
    if (rw && rw->prefix) {
        bool has = x->v->path_len >= rw->prefix_len &&
                   memcmp(x->v->path, rw->prefix, rw->prefix_len) == 0;
        buf_printf(out, "then: strip prefix \"%.*s\": ", (int)rw->prefix_len, rw->prefix);
        if (!has) {
            buf_puts(out, "not there, the server gets the path as it is\n");
        } else {
            const char *rest = x->v->path + rw->prefix_len;
            size_t n = x->v->path_len - rw->prefix_len;
            buf_puts(out, "the server gets ");
            buf_puts(out, n && rest[0] == '/' ? "\"" : "\"/");
            buf_append(out, rest, n);
            buf_puts(out, "\"\n");
        }
    } else if (rw) {
        buf_puts(out, "then: rewrite path (the server gets the replacement when the regex "
                      "matches)\n");
    }
    const struct ast_cache *ca = proxied ? a->route->cache : NULL;
    if (ca) {
        buf_puts(out, "then: a fresh answer stored under this request's key (");
        if (ca->key_text.len)
            buf_append(out, ex_text(x, ca->key_text), ca->key_text.len);
        else
            buf_puts(out, "its URL");
        buf_puts(out, ") comes from the cache; else the server's is stored when RFC 9111 allows");
        if (ca->ttl_s)
            buf_printf(out, ", fresh for %us when it gives no lifetime", ca->ttl_s);
        if (ca->max_ttl_s)
            buf_printf(out, ", %us at most", ca->max_ttl_s);
        buf_putc(out, '\n');
    }
    const struct ast_compress *cp = proxied ? a->route->compress : NULL;
    if (cp) {
        const char *with = cp->coding_bits == (RP_CODING_GZIP | RP_CODING_BR) ? "br or gzip"
                           : cp->coding_bits == RP_CODING_BR                  ? "br"
                                                                              : "gzip";
        buf_printf(out, "then: the response is compressed with %s (level %u) when the client "
                        "accepts it, it is at least %llu bytes, and its type is one of ",
                   with, cp->level, (unsigned long long)cp->min_length);
        for (uint32_t i = 0; i < cp->n_types; i++)
            buf_printf(out, "%s%s", i ? ", " : "", cp->types[i]);
        buf_putc(out, '\n');
    }
}

void explain_request(struct buf *out, const struct ir_program *ir, const struct src *s,
                     const struct explain_req *rq)
{
    const struct ast_program *p = ir->ast;
    struct ex x = {.out = out, .ir = ir, .p = p, .s = s};
    ex_start(&x, rq);
    char hash[POLICY_HASH_SIZE];
    policy_hash(s, hash);
    buf_printf(out, "policy %s %s\n", s->name, hash);
    buf_printf(out, "request %s %s", rq->method, rq->url);
    if (rq->from)
        buf_printf(out, " from %s", rq->from);
    buf_putc(out, '\n');
    buf_puts(out, "  host ");
    ex_quote(out, x.v->host, x.v->host_len);
    buf_puts(out, ", path ");
    ex_quote(out, x.v->path, x.v->path_len);
    if (x.v->query) {
        buf_puts(out, ", query ");
        ex_quote(out, x.v->query, x.v->query_len);
    }
    buf_putc(out, '\n');
    if (x.rq.refused) {
        buf_puts(out, "  the path is refused before any route: it has an encoded '/', '\\' or "
                      "NUL, a malformed escape, or a \".\" or \"..\" segment\n"
                      "answer: status 400\n");
        arena_free(&x.scratch);
        return;
    }
    if (x.rq.client_text)
        buf_printf(out, "  client.ip %.*s, from X-Forwarded-For (the peer is trusted)\n",
                   (int)x.rq.client_text_len, x.rq.client_text);
    if (x.rq.path_changed) {
        buf_puts(out, "  path normalized to ");
        ex_quote(out, x.v->path, x.v->path_len);
        buf_puts(out, " (what routes, acls and the server see)\n");
    }
    struct ex_answer a;
    ex_decide(&x, &a);
    ex_limits(&x, &a, out);
    buf_puts(out, "answer: ");
    ex_answer_text(&x, out, &a);
    buf_putc(out, '\n');
    ex_steps(&x, &a, out, true);
    arena_free(&x.scratch);
}

void explain_as_test(struct buf *out, const struct ir_program *ir, const struct src *s,
                     const struct explain_req *rq, const char *name)
{
    struct ex x = {.out = out, .ir = ir, .p = ir->ast, .s = s, .quiet = true};
    ex_start(&x, rq);
    struct ex_answer a;
    ex_decide(&x, &a);
    buf_puts(out, "test ");
    ex_quote(out, name, strlen(name));
    buf_printf(out, " {\n    request %s ", rq->method);
    ex_quote(out, rq->url, strlen(rq->url));
    if (rq->from)
        buf_printf(out, " from %s", rq->from);
    for (size_t i = 0; i < rq->n_headers; i++) {
        buf_puts(out, " header ");
        ex_quote(out, rq->headers[i], strlen(rq->headers[i]));
    }
    buf_putc(out, '\n');
    if (x.rq.refused)
        buf_puts(out, "    expect status 400\n");
    else if (!a.route)
        buf_puts(out, "    expect status 404\n");
    else if (a.kind == AST_ACTION_PROXY)
        buf_printf(out, "    expect proxy %.*s\n", (int)a.action->backend_name.len,
                   ex_text(&x, a.action->backend_name));
    else
        buf_printf(out, "    expect status %u\n", a.status);
    if (!x.rq.refused && a.route && a.kind == AST_ACTION_REDIRECT) {
        buf_puts(out, "    expect location ");
        ex_quote(out, a.d.location, a.d.location_len);
        buf_putc(out, '\n');
    }
    buf_puts(out, "}\n");
    arena_free(&x.scratch);
}

void explain_outcome(struct buf *out, struct buf *route, const struct ir_program *ir,
                     const struct src *s, const struct explain_req *rq)
{
    struct ex x = {.out = out, .ir = ir, .p = ir->ast, .s = s, .quiet = true};
    ex_start(&x, rq);
    if (x.rq.refused) {
        buf_puts(out, "status 400 (the path is refused before routing)");
        arena_free(&x.scratch);
        return;
    }
    struct ex_answer a;
    ex_decide(&x, &a);
    if (!a.route) {
        buf_puts(out, "status 404 (no route)");
        arena_free(&x.scratch);
        return;
    }
    switch (a.kind) {
    case AST_ACTION_PROXY:
        buf_printf(out, "proxy %.*s", (int)a.action->backend_name.len,
                   ex_text(&x, a.action->backend_name));
        break;
    case AST_ACTION_REDIRECT:
        buf_printf(out, "status %u, location ", a.status);
        ex_quote(out, a.d.location, a.d.location_len);
        break;
    case AST_ACTION_PURGE:
        buf_puts(out, "purge, status 200");
        break;
    case AST_ACTION_METRICS:
        buf_puts(out, "metrics, status 200");
        break;
    case AST_ACTION_STATUS:
        buf_puts(out, a.action && a.action->admin ? "status admin, status 200" : "status, status 200");
        break;
    default:
        buf_printf(out, "status %u ", a.status);
        if (a.action && a.action->body)
            ex_quote(out, a.action->body, a.action->body_len > 60 ? 60 : a.action->body_len);
        break;
    }
    buf_putc(out, '\n');
    buf_printf(route, "route %s (", a.route->label);
    ex_where(&x, route, a.route->kw);
    buf_putc(route, ')');
    ex_steps(&x, &a, out, false);
    arena_free(&x.scratch);
}

/* A URL byte a test request can carry. */
static bool ex_url_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f || s[i] == '"' || s[i] == '\\' ||
            s[i] == '?')
            return false;
    return true;
}

void explain_all_as_tests(struct buf *out, const struct ir_program *ir, const struct src *s)
{
    const struct ast_program *p = ir->ast;
    unsigned n = 0;
    for (const struct ast_test *t = p->tests; t; t = t->next) {
        const char *hdrs[EX_MAX_HEADERS];
        size_t nh = 0;
        for (const struct ast_arg *a = t->req_args; a; a = a->next)
            if (a->kind == AST_ARG_STRING && nh < EX_MAX_HEADERS)
                hdrs[nh++] = a->str;
        char method[32];
        snprintf(method, sizeof method, "%.*s", (int)t->method.len, s->text + t->method.off);
        struct explain_req rq = {method, t->url, t->from, hdrs, nh};
        char name[64];
        snprintf(name, sizeof name, "explain %u", ++n);
        explain_as_test(out, ir, s, &rq, name);
    }
    static const char *const froms[] = {NULL, "203.0.113.9", "10.1.2.3"};
    for (const struct ast_route *r = p->routes; r; r = r->next) {
        struct buf url = {0};
        buf_puts(&url, "http://");
        if (r->host_kind == AST_HOST_EXACT)
            buf_append(&url, r->host, r->host_len);
        else if (r->host_kind == AST_HOST_WILD)
            buf_printf(&url, "x%.*s", (int)r->host_len, r->host);
        else
            buf_puts(&url, "example.com");
        if ((r->path_kind == AST_PATH_PREFIX || r->path_kind == AST_PATH_EXACT) &&
            r->path_len && r->path[0] == '/')
            buf_append(&url, r->path, r->path_len);
        else
            buf_puts(&url, "/");
        char method[32] = "GET";
        if (r->methods) {
            const struct ast_arg *m = r->methods->kind == AST_ARG_LIST ? r->methods->sub
                                                                       : r->methods;
            if (m && m->tok.len < sizeof method)
                snprintf(method, sizeof method, "%.*s", (int)m->tok.len, s->text + m->tok.off);
        }
        if (ex_url_ok(url.data + 7, url.len - 7) && strlen(url.data) == url.len) {
            for (size_t f = 0; f < sizeof froms / sizeof froms[0]; f++) {
                struct explain_req rq = {method, url.data, froms[f], NULL, 0};
                char name[64];
                snprintf(name, sizeof name, "explain %u", ++n);
                explain_as_test(out, ir, s, &rq, name);
            }
        }
        buf_free(&url);
    }
}
