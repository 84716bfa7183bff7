/* explain.c: `rpx explain` (see explain.h).
 *
 * The request is taken apart as policy_test.c does for `rpx test` (host
 * from the URL or the Host header, without its port, lower case; path
 * without the query), then each route is tried in order with the rules of
 * the generated code: host and path matchers (the automaton), then method,
 * path regex and `if`, then the actions' guards. Request values are looked
 * up as runtime/reqview.c does. */
#include "explain.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rp/http1.h>
#include <rp/program.h>
#include <strings.h>
#include <sys/socket.h>

#include <rp/match.h>

#include "regex.h"

#define EX_MAX_HEADERS 64

struct ex_req {
    const char *method;
    size_t method_len;
    char host[256];
    size_t host_len;
    const char *path;  /* normalized, as the proxy routes it */
    size_t path_len;
    bool path_changed; /* normalizing changed it */
    bool refused;      /* the proxy answers 400 before any route */
    bool from_chain;   /* client.ip came from a trusted peer's X-Forwarded-For */
    char client_text[64];
    char path_buf[4096];
    const char *query; /* NULL if none */
    size_t query_len;
    uint8_t ip[16];
    const char *hname[EX_MAX_HEADERS], *hval[EX_MAX_HEADERS];
    size_t hname_len[EX_MAX_HEADERS], hval_len[EX_MAX_HEADERS];
    size_t n_headers;
};

struct ex {
    struct buf *out;
    const struct ast_program *p;
    const struct src *s;
    struct ex_req rq;
    bool quiet; /* decide only, print nothing */
};

/* What a request gets. */
struct ex_answer {
    const struct ast_route *route; /* NULL: no route, 404 */
    const struct ast_action *action;
    enum ast_action_kind kind;
    uint32_t status;
    char location[RP_DECISION_LOCATION_MAX];
    size_t location_len;
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

/* The request view, as policy_test.c builds it. */
static void ex_view(struct ex_req *v, const struct explain_req *rq, const struct ast_program *p)
{
    memset(v, 0, sizeof *v);
    v->method = rq->method;
    v->method_len = strlen(rq->method);
    const char *u = rq->url, *host = NULL;
    size_t host_len = 0;
    if (strncmp(u, "http://", 7) == 0) {
        host = u + 7;
        u = strchr(host, '/');
        if (!u)
            u = host + strlen(host);
        host_len = (size_t)(u - host);
    }
    for (size_t i = 0; i < rq->n_headers && i < EX_MAX_HEADERS; i++) {
        const char *h = rq->headers[i];
        const char *c = strchr(h, ':');
        const char *val = c + 1;
        while (*val == ' ' || *val == '\t')
            val++;
        v->hname[i] = h;
        v->hname_len[i] = (size_t)(c - h);
        v->hval[i] = val;
        v->hval_len[i] = strlen(val);
        v->n_headers++;
        if (!host && v->hname_len[i] == 4 && strncasecmp(h, "host", 4) == 0) {
            host = val;
            host_len = v->hval_len[i];
        }
    }
    /* the host as the proxy matches it (runtime/conn.c uses the same function) */
    int k = rp_host_key(host ? host : "", host ? host_len : 0, v->host, sizeof v->host);
    if (k < 0) { /* too long to be a host: the proxy answers 400 */
        k = 0;
        v->host[0] = '\0';
    }
    v->host_len = (size_t)k;
    const char *q = strchr(u, '?');
    v->path = *u ? u : "/";
    v->path_len = q ? (size_t)(q - u) : strlen(u);
    if (!*u)
        v->path_len = 1;
    if (q) {
        v->query = q + 1;
        v->query_len = strlen(q + 1);
    }
    /* the path as the proxy routes it (runtime/conn.c uses the same function) */
    int n = v->path_len <= sizeof v->path_buf
                ? rp_path_normalize(v->path, v->path_len, v->path_buf)
                : -1;
    v->refused = n < 0;
    if (n >= 0) {
        v->path_changed = (size_t)n != v->path_len || memcmp(v->path, v->path_buf, (size_t)n);
        v->path = v->path_buf;
        v->path_len = (size_t)n;
    }
    const char *ip = rq->from ? rq->from : "127.0.0.1";
    unsigned char v4[4];
    if (inet_pton(AF_INET, ip, v4) == 1) {
        v->ip[10] = v->ip[11] = 0xff;
        memcpy(v->ip + 12, v4, 4);
    } else {
        inet_pton(AF_INET6, ip, v->ip);
    }
    /* the client as the proxy sees it (runtime/forward.c, shared) */
    v->from_chain = false;
    if (p->fwd_n_trusted) {
        struct rp_forwarding fw = {.send = p->fwd_send, .n_trusted = p->fwd_n_trusted,
                                   .trusted = p->fwd_trusted};
        struct rp_http1_header h[EX_MAX_HEADERS];
        for (size_t i = 0; i < v->n_headers; i++)
            h[i] = (struct rp_http1_header){.name = v->hname[i], .name_len = (uint32_t)v->hname_len[i],
                                            .value = v->hval[i], .value_len = (uint32_t)v->hval_len[i]};
        const char *text;
        uint32_t text_len;
        rp_forward_client(&fw, v->ip, h, (uint32_t)v->n_headers, v->ip, &text, &text_len);
        if (text) {
            v->from_chain = true;
            snprintf(v->client_text, sizeof v->client_text, "%.*s", (int)text_len, text);
        }
    }
}

/* Finds name=value in pairs separated by sep, with the runtime's reader. */
static bool ex_pair(const char *p, const char *end, char sep, const char *name, size_t name_len,
                    const char **value, size_t *len)
{
    uint32_t n = 0;
    bool found = rp_pair_find(p, end, sep, name, name_len, value, &n);
    *len = n;
    return found;
}

/* Reads a request value; false if the request has none. */
static bool ex_value(const struct ex_req *v, enum ast_subject subj, const char *key,
                     size_t key_len, const char **val, size_t *len)
{
    switch (subj) {
    case AST_SUBJ_METHOD:
        *val = v->method;
        *len = v->method_len;
        return true;
    case AST_SUBJ_HOST:
        *val = v->host;
        *len = v->host_len;
        return true;
    case AST_SUBJ_PATH:
        *val = v->path;
        *len = v->path_len;
        return true;
    case AST_SUBJ_SCHEME: /* explain asks as a plain-text client; TLS values are absent */
        *val = "http";
        *len = 4;
        return true;
    case AST_SUBJ_QUERY_ALL:
        *val = v->query;
        *len = v->query_len;
        return v->query != NULL;
    case AST_SUBJ_QUERY:
        return v->query && ex_pair(v->query, v->query + v->query_len, '&', key, key_len, val, len);
    case AST_SUBJ_HEADER:
        for (size_t i = 0; i < v->n_headers; i++)
            if (v->hname_len[i] == key_len && strncasecmp(v->hname[i], key, key_len) == 0) {
                *val = v->hval[i];
                *len = v->hval_len[i];
                return true;
            }
        return false;
    case AST_SUBJ_COOKIE:
        for (size_t i = 0; i < v->n_headers; i++)
            if (v->hname_len[i] == 6 && strncasecmp(v->hname[i], "cookie", 6) == 0 &&
                ex_pair(v->hval[i], v->hval[i] + v->hval_len[i], ';', key, key_len, val, len))
                return true;
        return false;
    default:
        return false;
    }
}

/* The range an IP or CIDR argument stands for (checked already). */
static void ex_range(const struct ex *x, const struct ast_arg *a, uint8_t lo[16], uint8_t hi[16])
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.*s", (int)a->tok.len, ex_text(x, a->tok));
    unsigned bits = 128;
    char *slash = strchr(buf, '/');
    if (slash) {
        *slash = '\0';
        bits = (unsigned)atoi(slash + 1);
    }
    uint8_t v[16] = {0};
    unsigned char v4[4];
    if (inet_pton(AF_INET, buf, v4) == 1) {
        v[10] = v[11] = 0xff;
        memcpy(v + 12, v4, 4);
        bits = slash ? bits + 96 : 128;
    } else {
        inet_pton(AF_INET6, buf, v);
    }
    for (int i = 0; i < 16; i++) {
        int keep = (int)bits - 8 * i;
        uint8_t mask = keep >= 8 ? 0xff : keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));
        lo[i] = v[i] & mask;
        hi[i] = (uint8_t)(v[i] | (uint8_t)~mask);
    }
}

static bool ex_ip_in(const struct ex *x, const struct ast_arg *a)
{
    uint8_t lo[16], hi[16];
    ex_range(x, a, lo, hi);
    return memcmp(x->rq.ip, lo, 16) >= 0 && memcmp(x->rq.ip, hi, 16) <= 0;
}

static void ex_indent(struct ex *x, int depth)
{
    buf_printf(x->out, "%*s", 2 * depth, "");
}

/* Evaluates a comparison (no output). */
static bool ex_cmp(struct ex *x, const struct ast_expr *e)
{
    const struct ast_arg *l = e->lhs, *r = e->rhs;
    if (e->subj == AST_SUBJ_CLIENT_IP) {
        if (e->cmp == AST_CMP_IN) {
            for (const struct ast_arg *i = e->list->sub; i; i = i->next)
                if (ex_ip_in(x, i))
                    return true;
            return false;
        }
        bool eq = ex_ip_in(x, r);
        return e->cmp == AST_CMP_NE ? !eq : eq;
    }
    const char *key = ast_subj_keyed(e->subj) ? l->str : NULL;
    size_t key_len = key ? l->str_len : 0;
    const char *v;
    size_t n;
    if (!ex_value(&x->rq, e->subj, key, key_len, &v, &n))
        return e->cmp == AST_CMP_NE;
    switch (e->cmp) {
    case AST_CMP_TRUTH:
        return true;
    case AST_CMP_EQ:
    case AST_CMP_NE:
    case AST_CMP_PREFIX: {
        const char *t = r->kind == AST_ARG_STRING ? r->str : ex_text(x, r->tok);
        size_t tl = r->kind == AST_ARG_STRING ? r->str_len : r->tok.len;
        if (e->cmp == AST_CMP_PREFIX)
            return n >= tl && memcmp(v, t, tl) == 0;
        bool eq = n == tl && memcmp(v, t, n) == 0;
        return e->cmp == AST_CMP_EQ ? eq : !eq;
    }
    case AST_CMP_RE:
        return regex_exec(x->p->regexes[e->id], v, n, NULL);
    case AST_CMP_IN:
        for (const struct ast_arg *i = e->list->sub; i; i = i->next) {
            const char *t = i->kind == AST_ARG_STRING ? i->str : ex_text(x, i->tok);
            size_t tl = i->kind == AST_ARG_STRING ? i->str_len : i->tok.len;
            if (tl == n && memcmp(t, v, n) == 0)
                return true;
        }
        return false;
    }
    return false;
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
        v = ex_cmp(x, e);
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

static bool ex_method_ok(const struct ex *x, const struct ast_route *r)
{
    const struct ast_arg *m = r->methods;
    for (const struct ast_arg *i = m->kind == AST_ARG_LIST ? m->sub : m; i;
         i = m->kind == AST_ARG_LIST ? i->next : NULL)
        if (i->tok.len == x->rq.method_len &&
            memcmp(ex_text(x, i->tok), x->rq.method, x->rq.method_len) == 0)
            return true;
    return false;
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

/* Whether the route's matchers all hold; caps gets the path regex's groups. */
static bool ex_route_matches(struct ex *x, const struct ast_route *r, uint32_t *caps)
{
    const struct ex_req *v = &x->rq;
    if (r->is_default) {
        ex_say(x, 1, "default: matches every request\n");
        return true;
    }
    if (r->host_kind != AST_HOST_ANY) {
        bool ok = r->host_kind == AST_HOST_EXACT
                      ? v->host_len == r->host_len && memcmp(v->host, r->host, r->host_len) == 0
                      : v->host_len > r->host_len &&
                            memcmp(v->host + v->host_len - r->host_len, r->host, r->host_len) == 0;
        ex_say(x, 1, "host %.*s: %s\n", (int)r->host_tok.len, ex_text(x, r->host_tok),
               ok ? "yes"
                  : r->host_kind == AST_HOST_EXACT ? "no, the host is another"
                                                   : "no, the host is not a subdomain of it");
        if (!ok)
            return false;
    }
    if (r->path_kind == AST_PATH_PREFIX || r->path_kind == AST_PATH_EXACT) {
        bool ok = r->path_kind == AST_PATH_PREFIX
                      ? v->path_len >= r->path_len && memcmp(v->path, r->path, r->path_len) == 0
                      : v->path_len == r->path_len && memcmp(v->path, r->path, r->path_len) == 0;
        ex_say(x, 1, "path %s%.*s: %s\n", r->path_kind == AST_PATH_EXACT ? "= " : "",
               (int)r->path_tok.len, ex_text(x, r->path_tok),
               ok ? "yes"
                  : r->path_kind == AST_PATH_PREFIX ? "no, the path does not start with it"
                                                    : "no, the path is another");
        if (!ok)
            return false;
    }
    if (r->methods) {
        bool ok = ex_method_ok(x, r);
        ex_say(x, 1, "method %.*s: %s\n", (int)r->methods->tok.len, ex_text(x, r->methods->tok),
               ok ? "yes" : "no");
        if (!ok)
            return false;
    }
    if (r->path_kind == AST_PATH_REGEX) {
        bool ok = regex_exec(x->p->regexes[r->regex_id], v->path, v->path_len, caps);
        ex_say(x, 1, "path ~ %.*s: %s\n", (int)r->path_tok.len, ex_text(x, r->path_tok),
               ok ? "yes" : "no, the path does not match");
        if (!ok)
            return false;
    }
    if (r->cond) {
        ex_say(x, 1, "if %.*s\n", (int)r->cond->tok.len, ex_text(x, r->cond->tok));
        bool ok = ex_eval(x, r->cond, 2);
        ex_say(x, 1, "if: %s\n", ok ? "holds" : "does not hold");
        if (!ok)
            return false;
    }
    return true;
}

static void ex_put(struct ex_answer *a, const char *s, size_t n, bool *fits)
{
    if (n > RP_DECISION_LOCATION_MAX - 1 - a->location_len) {
        *fits = false;
        return;
    }
    memcpy(a->location + a->location_len, s, n);
    a->location_len += n;
}

/* The answer of an action, as emit_action's code computes it. */
static void ex_action(struct ex *x, const struct ast_action *act, const uint32_t *caps,
                      struct ex_answer *a)
{
    a->action = act;
    a->kind = act->kind;
    a->status = act->status;
    if (act->kind != AST_ACTION_REDIRECT)
        return;
    bool fits = true;
    a->location_len = 0;
    for (const struct ast_piece *pc = act->location; pc && fits; pc = pc->next) {
        if (pc->text) {
            ex_put(a, pc->text, pc->len, &fits);
        } else if (pc->subj == AST_SUBJ_QUERY_SUFFIX) {
            if (x->rq.query) {
                ex_put(a, "?", 1, &fits);
                ex_put(a, x->rq.query, x->rq.query_len, &fits);
            }
        } else if (pc->subj != AST_SUBJ_NONE) {
            const char *v;
            size_t n;
            if (ex_value(&x->rq, pc->subj, pc->key, pc->key_len, &v, &n))
                ex_put(a, v, n, &fits);
        } else if (caps[2 * pc->capture] != UINT32_MAX && caps[2 * pc->capture + 1] != UINT32_MAX) {
            ex_put(a, x->rq.path + caps[2 * pc->capture],
                   caps[2 * pc->capture + 1] - caps[2 * pc->capture], &fits);
        }
    }
    if (!fits) {
        /* too long to send: the generated code answers 500 */
        a->kind = AST_ACTION_RESPOND;
        a->status = 500;
        a->location_len = 0;
    }
}

static void ex_decide(struct ex *x, struct ex_answer *a)
{
    memset(a, 0, sizeof *a);
    for (const struct ast_route *r = x->p->routes; r; r = r->next) {
        if (!x->quiet) {
            buf_printf(x->out, "route %u (", r->index + 1);
            ex_where(x, x->out, r->kw);
            buf_printf(x->out, ") %s\n", r->label);
        }
        uint32_t caps[2 * RP_RE_MAX_CAPS];
        memset(caps, 0xff, sizeof caps);
        if (!ex_route_matches(x, r, caps)) {
            ex_say(x, 1, "=> no match, next route\n");
            continue;
        }
        for (const struct ast_action *act = r->actions; act; act = act->next) {
            size_t kwlen = (size_t)(act->guard ? act->guard_kw.off : act->kw.off) - act->kw.off;
            if (!act->guard) {
                size_t end = act->kw.off;
                /* the action as written: keyword to the end of its last part */
                struct span last = act->has_body ? act->body_tok
                                   : act->kind == AST_ACTION_PROXY ? act->backend_name
                                                                   : act->status_tok;
                end = last.off + last.len;
                kwlen = end - act->kw.off;
            }
            while (kwlen > 0 && x->s->text[act->kw.off + kwlen - 1] == ' ')
                kwlen--;
            ex_say(x, 1, "%.*s", (int)kwlen, ex_text(x, act->kw));
            if (act->guard) {
                if (!x->quiet)
                    buf_printf(x->out, " %s %.*s\n", act->unless ? "unless" : "if",
                               (int)act->guard->tok.len, ex_text(x, act->guard->tok));
                bool g = ex_eval(x, act->guard, 2);
                if (g == act->unless) {
                    ex_say(x, 1, "=> skipped: the condition %s; next action\n",
                           g ? "holds" : "does not hold");
                    continue;
                }
                ex_say(x, 1, "=> applies: the condition %s\n", g ? "holds" : "does not hold");
            } else if (!x->quiet) {
                buf_putc(x->out, '\n');
            }
            a->route = r;
            ex_action(x, act, caps, a);
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
        ex_quote(b, a->location, a->location_len);
        break;
    default:
        buf_printf(b, "status %u", a->status);
        break;
    }
    buf_printf(b, " (route %u, ", a->route->index + 1);
    ex_where(x, b, a->route->kw);
    buf_putc(b, ')');
}

void explain_request(struct buf *out, const struct ast_program *p, const struct src *s,
                     const struct explain_req *rq)
{
    struct ex x = {.out = out, .p = p, .s = s};
    ex_view(&x.rq, rq, p);
    buf_printf(out, "request %s %s", rq->method, rq->url);
    if (rq->from)
        buf_printf(out, " from %s", rq->from);
    buf_putc(out, '\n');
    buf_puts(out, "  host ");
    ex_quote(out, x.rq.host, x.rq.host_len);
    buf_puts(out, ", path ");
    ex_quote(out, x.rq.path, x.rq.path_len);
    if (x.rq.query) {
        buf_puts(out, ", query ");
        ex_quote(out, x.rq.query, x.rq.query_len);
    }
    buf_putc(out, '\n');
    if (x.rq.refused) {
        buf_puts(out, "  the path is refused before any route: it has an encoded '/', '\\' or "
                      "NUL, a malformed escape, or a \".\" or \"..\" segment\n"
                      "answer: status 400\n");
        return;
    }
    if (x.rq.from_chain)
        buf_printf(out, "  client.ip %s, from X-Forwarded-For (the peer is trusted)\n",
                   x.rq.client_text);
    if (x.rq.path_changed) {
        buf_puts(out, "  path normalized to ");
        ex_quote(out, x.rq.path, x.rq.path_len);
        buf_puts(out, " (what routes, acls and the server see)\n");
    }
    struct ex_answer a;
    ex_decide(&x, &a);
    buf_puts(out, "answer: ");
    ex_answer_text(&x, out, &a);
    buf_putc(out, '\n');
    bool proxied = a.route && a.kind == AST_ACTION_PROXY;
    /* The steps that follow the answer, in the order the proxy runs them. */
    const struct ast_hdr_action *lists[3] = {
        p->hdr_actions, proxied && a.action->backend ? a.action->backend->hdr_actions : NULL,
        a.route ? a.route->hdr_actions : NULL};
    static const char *const ops[] = {"", "set", "add", "remove"};
    for (int l = 0; l < 3; l++)
        for (const struct ast_hdr_action *h = lists[l]; h; h = h->next) {
            if (!h->response && !proxied)
                continue;
            buf_printf(out, "then: %s%s header %s", ops[h->op], h->response ? " response" : "",
                       h->name);
            if (h->value)
                buf_printf(out, " %.*s", (int)h->value_tok.len, ex_text(&x, h->value_tok));
            buf_printf(out, " (");
            ex_where(&x, out, h->where);
            buf_puts(out, ")\n");
        }
    const struct ast_rewrite *rw = proxied ? a.route->rewrite : NULL;
    if (rw && rw->prefix) {
        bool has = x.rq.path_len >= rw->prefix_len &&
                   memcmp(x.rq.path, rw->prefix, rw->prefix_len) == 0;
        buf_printf(out, "then: strip prefix \"%.*s\": ", (int)rw->prefix_len, rw->prefix);
        if (!has) {
            buf_puts(out, "not there, the server gets the path as it is\n");
        } else {
            const char *rest = x.rq.path + rw->prefix_len;
            size_t n = x.rq.path_len - rw->prefix_len;
            buf_puts(out, "the server gets ");
            buf_puts(out, n && rest[0] == '/' ? "\"" : "\"/");
            buf_append(out, rest, n);
            buf_puts(out, "\"\n");
        }
    } else if (rw) {
        buf_puts(out, "then: rewrite path (the server gets the replacement when the regex "
                      "matches)\n");
    }
    const struct ast_compress *cp = proxied ? a.route->compress : NULL;
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

void explain_as_test(struct buf *out, const struct ast_program *p, const struct src *s,
                     const struct explain_req *rq, const char *name)
{
    struct ex x = {.out = out, .p = p, .s = s, .quiet = true};
    ex_view(&x.rq, rq, p);
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
        ex_quote(out, a.location, a.location_len);
        buf_putc(out, '\n');
    }
    buf_puts(out, "}\n");
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

void explain_all_as_tests(struct buf *out, const struct ast_program *p, const struct src *s)
{
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
        explain_as_test(out, p, s, &rq, name);
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
                explain_as_test(out, p, s, &rq, name);
            }
        }
        buf_free(&url);
    }
}
