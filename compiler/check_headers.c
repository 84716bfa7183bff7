/* check_headers.c: header actions, `set|add|remove [response] header NAME
 * ["VALUE"]`, at top level (for every proxying route) and in routes. */
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "check_int.h"
#include "parse.h"
#include "diag.h"

#include <rp/http1.h>   /* rp_http1_is_hop_by_hop */
#include <rp/program.h> /* RP_HDR_* */

#define USAGE "the form is 'set|add [response] header NAME \"VALUE\"' or 'remove [response] header NAME...'"

static bool is_tchar(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/* Why a field may not be named by a header action on that side, or NULL. */
static const char *refused(const char *lname, size_t n, bool response, uint8_t op)
{
    if (rp_http1_is_hop_by_hop(lname, n))
        return "it is hop-by-hop: it concerns one connection and the proxy manages it";
    if (n == 14 && memcmp(lname, "content-length", 14) == 0)
        return "the proxy frames bodies itself";
    if (!response) {
        static const char *const fwd[] = {"x-forwarded-for", "x-forwarded-proto",
                                          "x-forwarded-host", "x-real-ip", "forwarded"};
        for (size_t i = 0; i < sizeof fwd / sizeof fwd[0]; i++)
            if (strlen(fwd[i]) == n && memcmp(fwd[i], lname, n) == 0)
                return "forwarding fields are written by 'forwarded { send [...] }', from "
                       "what the proxy knows of the client";
        if (n == 4 && memcmp(lname, "host", 4) == 0 && op != RP_HDR_SET)
            return "a request has one Host: 'set header Host \"...\"' replaces it";
    } else if (n == 4 && memcmp(lname, "date", 4) == 0) {
        return "every response carries the Date its origin or the proxy gave it";
    }
    return NULL;
}

/* The values a header value may use: `${NAME}`. */
static const struct {
    const char *name;
    enum ast_subject subj;
} values[] = {
    {"client.ip", AST_SUBJ_CLIENT_IP}, {"client.port", AST_SUBJ_CLIENT_PORT},
    {"req.host", AST_SUBJ_HOST},       {"req.path", AST_SUBJ_PATH},
    {"req.query", AST_SUBJ_QUERY_ALL}, {"req.uri", AST_SUBJ_URI},
    {"req.method", AST_SUBJ_METHOD},   {"req.id", AST_SUBJ_REQ_ID},
    {"req.scheme", AST_SUBJ_SCHEME},   {"server.name", AST_SUBJ_SERVER_NAME},
    {"backend.name", AST_SUBJ_BACKEND_NAME},
};

/* `${...}` keyed forms: req.header["X"], req.cookie["c"], req.query["k"]. */
static bool keyed(const char *name, size_t n, const char *prefix, enum ast_subject subj,
                  struct ast_piece *pc)
{
    size_t pl = strlen(prefix);
    if (n < pl + 3 || memcmp(name, prefix, pl) != 0 || name[n - 1] != ']' || name[n - 2] != '"')
        return false;
    pc->subj = subj;
    pc->key = name + pl;
    pc->key_len = n - pl - 2;
    return true;
}

/* Appends a text piece at *tail; returns the new tail. */
static struct ast_piece **text_piece(struct check *c, struct ast_piece **tail, const char *s,
                                     size_t len)
{
    struct ast_piece *pc = arena_alloc(c->arena, sizeof *pc);
    pc->text = s;
    pc->len = len;
    *tail = pc;
    return &pc->next;
}

/* The piece for the value NAME (as in ${NAME}): a plain value, tls.FIELD,
 * or a keyed one (req.header["X"] ...). NULL, reported at `at`, when it is
 * no value. */
static struct ast_piece *value_piece(struct check *c, struct span at, const char *name,
                                     size_t name_len)
{
    struct ast_piece *pc = arena_alloc(c->arena, sizeof *pc);
    size_t k;
    for (k = 0; k < sizeof values / sizeof values[0]; k++)
        if (strlen(values[k].name) == name_len && memcmp(values[k].name, name, name_len) == 0)
            break;
    if (k < sizeof values / sizeof values[0]) {
        pc->subj = values[k].subj;
    } else if (name_len > 4 && memcmp(name, "tls.", 4) == 0 &&
               tls_field_index(name + 4, name_len - 4) >= 0) {
        pc->subj = AST_SUBJ_TLS;
        pc->key = name + 4;
        pc->key_len = name_len - 4;
    } else if (name_len == 7 && memcmp(name, "jwt.sub", 7) == 0) {
        pc->subj = AST_SUBJ_JWT;
        pc->key = "sub";
        pc->key_len = 3;
        c->prog->jwt_values = true;
    } else if (keyed(name, name_len, "jwt.claim[\"", AST_SUBJ_JWT, pc)) {
        c->prog->jwt_values = true;
    } else if (!keyed(name, name_len, "req.header[\"", AST_SUBJ_HEADER, pc) &&
               !keyed(name, name_len, "req.cookie[\"", AST_SUBJ_COOKIE, pc) &&
               !keyed(name, name_len, "req.query[\"", AST_SUBJ_QUERY, pc)) {
        const char *names[sizeof values / sizeof values[0]];
        for (k = 0; k < sizeof values / sizeof values[0]; k++)
            names[k] = values[k].name;
        int close_k = diag_closest(name, name_len, names, sizeof values / sizeof values[0]);
        if (close_k >= 0)
            diag_error(c->diag, at, "unknown value '%.*s'; did you mean '%s'?", (int)name_len,
                       name, names[close_k]);
        else
            diag_error(c->diag, at, "unknown value '%.*s' (known here: client.ip, "
                       "client.port, req.host, req.path, req.query, req.uri, req.method, req.id, "
                       "req.scheme, req.header[\"X\"], req.cookie[\"c\"], "
                       "req.query[\"k\"], tls.sni, tls.client_cert.subject, jwt.sub, "
                       "jwt.claim[\"c\"] ...)",
                       (int)name_len, name);
        return NULL;
    }
    return pc;
}

/* Splits a value into text and ${...} pieces. `literal`: no ${} allowed. */
static struct ast_piece *check_value(struct check *c, const struct ast_arg *a, bool literal)
{
    const char *s = a->str;
    size_t n = a->str_len, lit = 0, i = 0;
    struct ast_piece *head = NULL, **tail = &head;
    for (size_t k = 0; k < n; k++)
        if ((unsigned char)s[k] < 0x20 ? s[k] != '\t' : s[k] == 0x7f) {
            diag_error(c->diag, string_sub(c, a->tok, k, 1),
                       "a header value cannot hold control characters");
            return NULL;
        }
    while (i <= n) {
        bool value = i + 1 < n && s[i] == '$' && s[i + 1] == '{';
        if (i < n && !value) {
            i++;
            continue;
        }
        if (i > lit)
            tail = text_piece(c, tail, s + lit, i - lit);
        if (i == n)
            break;
        const char *close = memchr(s + i, '}', n - i);
        if (!close) {
            diag_error(c->diag, string_sub(c, a->tok, i, 2), "'${' without '}'");
            return NULL;
        }
        size_t end = (size_t)(close - s) + 1;
        const char *name = s + i + 2;
        size_t name_len = end - i - 3;
        struct span at = string_sub(c, a->tok, i, end - i);
        bool req_id = name_len == 6 && memcmp(name, "req.id", 6) == 0;
        bool server = name_len == 11 && memcmp(name, "server.name", 11) == 0;
        bool backend = name_len == 12 && memcmp(name, "backend.name", 12) == 0;
        if (literal && !req_id && !server && !backend) {
            diag_error(c->diag, at, "the request's values are not kept until the response: "
                       "a response header's value may use ${req.id}, ${backend.name} and "
                       "${server.name}");
            return NULL;
        }
        if (!literal && server) {
            diag_error(c->diag, at, "the server is chosen after the request's head is made: "
                       "${server.name} is for response headers");
            return NULL;
        }
        struct ast_piece *pc = value_piece(c, at, name, name_len);
        if (!pc)
            return NULL;
        *tail = pc;
        tail = &pc->next;
        i = lit = end;
    }
    return head;
}

struct ast_piece *check_value_ref(struct check *c, const struct ast_arg *a)
{
    return value_piece(c, a->tok, text_at(c, a->tok), a->tok.len);
}

/* Checks one statement; appends its actions at *tail. Returns the new tail. */
static struct ast_hdr_action **check_stmt(struct check *c, const struct ast_stmt *st,
                                          struct ast_hdr_action **tail, const char *const *words,
                                          size_t n_words, const char *where)
{
    static const char *const ops[] = {"set", "add", "remove"};
    int op = word_index(c, st->kw, ops, 3);
    if (op < 0) {
        char what[64];
        snprintf(what, sizeof what, "statement %s", where);
        check_unknown(c, st->kw, what, words, n_words);
        return tail;
    }
    const struct ast_arg *a = st->args;
    bool response = false;
    if (a && a->kind == AST_ARG_WORD && a->tok.len == 8 && !memcmp(text_at(c, a->tok), "response", 8)) {
        response = true;
        a = a->next;
    }
    if (!a || a->kind != AST_ARG_WORD || a->tok.len != 6 || memcmp(text_at(c, a->tok), "header", 6)) {
        diag_error(c->diag, a ? a->tok : st->kw, "'%s' takes a header: %s", ops[op], USAGE);
        return tail;
    }
    a = a->next;
    if (!a) {
        diag_error(c->diag, st->kw, "'%s' needs a header name: %s", ops[op], USAGE);
        return tail;
    }
    const struct ast_arg *names = a, *value = NULL;
    size_t n_names = 0;
    for (; a; a = a->next) {
        if (op != 2 && n_names == 1) {
            value = a;
            if (a->next)
                diag_error(c->diag, a->next->tok, "unexpected '%.*s': %s", arg_len(a->next),
                           text_at(c, a->next->tok), USAGE);
            break;
        }
        n_names++;
    }
    if (op != 2 && (!value || value->kind != AST_ARG_STRING)) {
        diag_error(c->diag, value ? value->tok : st->kw, "'%s header' needs a value in quotes: %s",
                   ops[op], USAGE);
        return tail;
    }
    for (a = names; n_names--; a = a->next) {
        const char *t = a->kind == AST_ARG_STRING ? a->str : text_at(c, a->tok);
        size_t len = a->kind == AST_ARG_STRING ? a->str_len : a->tok.len;
        bool ok = (a->kind == AST_ARG_WORD || a->kind == AST_ARG_STRING) && len > 0;
        for (size_t k = 0; ok && k < len; k++)
            ok = is_tchar(t[k]);
        if (!ok) {
            diag_error(c->diag, a->tok, "'%.*s' is not a header name (letters, digits and "
                       "!#$%%&'*+-.^_`|~)", arg_len(a), text_at(c, a->tok));
            continue;
        }
        char *lname = arena_strndup(c->arena, t, len);
        for (size_t k = 0; k < len; k++)
            if (lname[k] >= 'A' && lname[k] <= 'Z')
                lname[k] = (char)(lname[k] + 32);
        uint8_t rp_op = op == 0 ? RP_HDR_SET : op == 1 ? RP_HDR_ADD : RP_HDR_REMOVE;
        const char *why = refused(lname, len, response, rp_op);
        if (why) {
            diag_error(c->diag, a->tok, "'%s%s header %.*s' is not allowed: %s", ops[op],
                       response ? " response" : "", (int)len, t, why);
            continue;
        }
        struct ast_hdr_action *h = arena_alloc(c->arena, sizeof *h);
        h->op = rp_op;
        h->response = response;
        h->name = arena_strndup(c->arena, t, len);
        h->lname = lname;
        h->name_len = len;
        h->where = st->kw;
        if (value) {
            h->value_tok = value->tok;
            h->value = check_value(c, value, response);
            if (!h->value && value->str_len)
                continue;
        }
        *tail = h;
        tail = &h->next;
    }
    return tail;
}

/* Whether an action before h, in the lists that apply before it (top
 * level, a backend's, the route's own), adds a field of h's name on h's
 * side. A route's actions count every backend it may proxy to. */
static bool added_before(const struct ast_hdr_action *const *lists, size_t n,
                         const struct ast_hdr_action *h)
{
    if (h->op == RP_HDR_ADD)
        return false;
    for (size_t l = 0; l < n; l++)
        for (const struct ast_hdr_action *x = lists[l]; x; x = x->next) {
            if (x == h)
                return false;
            if (x->op != RP_HDR_REMOVE && x->response == h->response &&
                x->name_len == h->name_len && memcmp(x->lname, h->lname, h->name_len) == 0)
                return true;
        }
    return false;
}

static bool route_proxies(const struct ast_route *r);

/* Whether route r surely takes a request for `path` on the guarded route's
 * host (only matchers known from the text count: a method, an `if` or a
 * regex make a route "maybe", and maybe is not reported). */
static bool takes_path(const struct ast_route *r, const struct ast_route *g, const char *path,
                       size_t n)
{
    if (r->bad || r->conditional || r->path_kind == AST_PATH_REGEX)
        return false;
    if (r->host_kind != AST_HOST_ANY &&
        (r->host_kind != g->host_kind || r->host_len != g->host_len ||
         memcmp(r->host, g->host, r->host_len) != 0))
        return false;
    switch (r->path_kind) {
    case AST_PATH_ANY: return true;
    case AST_PATH_PREFIX: return n >= r->path_len && memcmp(path, r->path, r->path_len) == 0;
    case AST_PATH_EXACT: return n == r->path_len && memcmp(path, r->path, n) == 0;
    default: return false;
    }
}

/* A guard on `path "/x/"` does not cover "/x": when another route that
 * proxies takes "/x", a backend that serves /x/ at /x too is reached past
 * the guard. A warning names the route that takes it. */
static void check_guard_gaps(struct check *c)
{
    for (const struct ast_route *g = c->prog->routes; g; g = g->next) {
        if (g->bad || g->path_kind != AST_PATH_PREFIX || g->path_len < 2 ||
            g->path[g->path_len - 1] != '/')
            continue;
        const struct ast_action *guard = NULL;
        for (const struct ast_action *a = g->actions; a && !guard; a = a->next)
            if (a->kind == AST_ACTION_DENY && a->guard)
                guard = a;
        if (!guard)
            continue;
        size_t n = g->path_len - 1;
        for (const struct ast_route *r = c->prog->routes; r; r = r->next) {
            if (r == g || !takes_path(r, g, g->path, n))
                continue;
            if (route_proxies(r)) {
                unsigned line, col;
                src_line_col(c->src, r->kw.off, &line, &col);
                diag_warning(c->diag, guard->kw,
                             "this guard does not cover \"%.*s\": route '%s' (line %u) takes it "
                             "and proxies it; match path \"%.*s\" here to guard both",
                             (int)n, g->path, r->label, line, (int)n, g->path);
            }
            break;
        }
    }
}

bool check_backend_header_stmt(struct check *c, struct ast_backend *b, const struct ast_stmt *st)
{
    static const char *const ops[] = {"set", "add", "remove"};
    if (word_index(c, st->kw, ops, 3) < 0)
        return false;
    struct ast_hdr_action **tail = &b->hdr_actions;
    while (*tail)
        tail = &(*tail)->next;
    check_stmt(c, st, tail, ops, 3, "in a backend");
    return true;
}

#define REWRITE_USAGE "the forms are 'strip prefix \"/PREFIX\"' and 'rewrite path \"REGEX\" \"REPLACEMENT\"'"

/* `strip prefix "/api"` or `rewrite path "REGEX" "REPLACEMENT"` ($1..$9). */
static void check_rewrite(struct check *c, struct ast_route *r, const struct ast_stmt *st)
{
    bool strip = st->kw.len == 5;
    if (r->rewrite) {
        diag_error(c->diag, st->kw, "route already rewrites its path: one 'strip' or 'rewrite' "
                   "per route");
        diag_note(c->diag, r->rewrite->kw, "the first one is here");
        return;
    }
    const struct ast_arg *a = st->args;
    const char *what = strip ? "prefix" : "path";
    if (!a || a->kind != AST_ARG_WORD || a->tok.len != strlen(what) ||
        memcmp(text_at(c, a->tok), what, a->tok.len) != 0) {
        diag_error(c->diag, a ? a->tok : st->kw, "%s", REWRITE_USAGE);
        return;
    }
    a = a->next;
    unsigned want = strip ? 1 : 2, got = 0;
    for (const struct ast_arg *x = a; x; x = x->next)
        got++;
    if (got != want || a->kind != AST_ARG_STRING || (!strip && a->next->kind != AST_ARG_STRING)) {
        diag_error(c->diag, a ? a->tok : st->kw, "%s", REWRITE_USAGE);
        return;
    }
    struct ast_rewrite *rw = arena_alloc(c->arena, sizeof *rw);
    rw->kw = st->kw;
    if (strip) {
        if (a->str_len < 2 || a->str[0] != '/' || a->str[a->str_len - 1] == '/') {
            diag_error(c->diag, a->tok, "the prefix is a path such as \"/api\": it starts with "
                       "'/' and does not end with one");
            return;
        }
        rw->prefix = a->str;
        rw->prefix_len = a->str_len;
        r->rewrite = rw;
        return;
    }
    uint32_t n_caps = 0;
    rw->regex_id = check_regex(c, a->tok, a->str, a->str_len, &n_caps);
    if (rw->regex_id == UINT32_MAX)
        return;
    const struct ast_arg *repl = a->next;
    const char *s = repl->str;
    size_t n = repl->str_len, lit = 0;
    struct ast_piece **tail = &rw->pieces;
    for (size_t i = 0; i <= n; i++) {
        bool cap = i + 1 < n && s[i] == '$' && s[i + 1] >= '0' && s[i + 1] <= '9';
        if (i < n && !cap) {
            if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f || s[i] == '?' || s[i] == '#') {
                diag_error(c->diag, string_sub(c, repl->tok, i, 1),
                           "a path cannot hold spaces, control characters, '?' or '#'");
                return;
            }
            continue;
        }
        if (i > lit)
            tail = text_piece(c, tail, s + lit, i - lit);
        if (i == n)
            break;
        struct ast_piece *pc = arena_alloc(c->arena, sizeof *pc);
        pc->capture = (uint32_t)(s[i + 1] - '0');
        if (pc->capture > n_caps)
            diag_error(c->diag, string_sub(c, repl->tok, i, 2), "$%u: the regex has %u group%s",
                       pc->capture, n_caps, n_caps == 1 ? "" : "s");
        *tail = pc;
        tail = &pc->next;
        i++;
        lit = i + 1;
    }
    r->rewrite = rw;
}

/* `via "NAME"` or `via off`: the name the proxy gives itself in Via. */
static void check_via(struct check *c, const struct ast_stmt *st)
{
    if (!check_nargs(c, st->kw, st->args, 1, "via \"NAME\" or via off"))
        return;
    const struct ast_arg *a = st->args;
    if (a->kind == AST_ARG_WORD && a->tok.len == 3 && memcmp(text_at(c, a->tok), "off", 3) == 0) {
        c->prog->via = "";
        return;
    }
    bool ok = a->kind == AST_ARG_STRING && a->str_len > 0 && a->str_len <= 40;
    for (size_t k = 0; ok && k < a->str_len; k++)
        ok = is_tchar(a->str[k]);
    if (!ok) {
        diag_error(c->diag, a->tok, "via takes a name in quotes (a token of at most 40 "
                   "characters, e.g. \"edge\") or off");
        return;
    }
    c->prog->via = a->str;
}

static bool route_proxies(const struct ast_route *r)
{
    for (const struct ast_action *a = r->actions; a; a = a->next)
        if (a->kind == AST_ACTION_PROXY)
            return true;
    return false;
}

void check_header_stmts(struct check *c)
{
    struct ast_program *p = c->prog;
    struct ast_hdr_action **tail = &p->hdr_actions;
    const struct ast_stmt *via = NULL;
    for (const struct ast_stmt *st = p->stmts; st; st = st->next) {
        if (st->kw.len == 13 && memcmp(text_at(c, st->kw), "upstream_path", 13) == 0) {
            static const char *const forms[] = {"normalized", "original"};
            const struct ast_arg *a = st->args;
            int k = a && !a->next && a->kind == AST_ARG_WORD ? word_index(c, a->tok, forms, 2) : -1;
            if (k < 0)
                diag_error(c->diag, a ? a->tok : st->kw, "the form is 'upstream_path normalized' "
                           "(the default) or 'upstream_path original'");
            else
                p->upstream_path_original = k == 1;
            continue;
        }
        if (st->kw.len == 5 && memcmp(text_at(c, st->kw), "error", 5) == 0) {
            check_error_page(c, st);
            continue;
        }
        if (st->kw.len == 3 && memcmp(text_at(c, st->kw), "log", 3) == 0) {
            check_log(c, st);
            continue;
        }
        if (word_is(c, st->kw, "limit")) {
            diag_error(c->diag, st->kw, "a limit is defined with '=': 'limit NAME = rate "
                       "100/s by client.ip', then applied in routes with 'limit NAME'");
            continue;
        }
        if (st->kw.len == 3 && memcmp(text_at(c, st->kw), "via", 3) == 0) {
            if (via) {
                diag_error(c->diag, st->kw, "'via' is already set");
                diag_note(c->diag, via->kw, "set here");
                continue;
            }
            via = st;
            check_via(c, st);
            continue;
        }
        tail = check_stmt(c, st, tail, parse_top_words, parse_n_top_words, "at top level");
    }
    for (struct ast_route *r = p->routes; r; r = r->next) {
        tail = &r->hdr_actions;
        for (const struct ast_stmt *st = r->stmts; st; st = st->next) {
            const char *w = text_at(c, st->kw);
            if ((st->kw.len == 5 && memcmp(w, "strip", 5) == 0) ||
                (st->kw.len == 7 && memcmp(w, "rewrite", 7) == 0)) {
                check_rewrite(c, r, st);
                continue;
            }
            if (st->kw.len == 3 && memcmp(w, "log", 3) == 0) {
                check_route_log(c, r, st);
                continue;
            }
            if (word_is(c, st->kw, "limit")) {
                check_route_limit(c, r, st);
                continue;
            }
            if (word_is(c, st->kw, "auth")) {
                check_route_auth(c, r, st);
                continue;
            }
            if (word_is(c, st->kw, "methods")) {
                check_route_methods(c, r, st);
                continue;
            }
            if (word_is(c, st->kw, "body_size")) {
                check_route_body_size(c, r, st);
                continue;
            }
            tail = check_stmt(c, st, tail, parse_route_words, parse_n_route_words,
                              "in a route");
        }
        if (r->rewrite && !route_proxies(r))
            diag_error(c->diag, r->rewrite->kw, "'%.*s' changes the path a backend gets; this "
                       "route does not proxy", (int)r->rewrite->kw.len,
                       text_at(c, r->rewrite->kw));
        for (const struct ast_hdr_action *h = r->hdr_actions; h; h = h->next)
            if (!h->response && !route_proxies(r)) {
                diag_error(c->diag, h->where, "a request header action changes what a backend "
                           "gets; this route does not proxy (response header actions apply to "
                           "its answers)");
                break;
            }
        for (const struct ast_hdr_action *h = r->hdr_actions; h; h = h->next)
            r->n_hdr_actions++;
    }
    check_guard_gaps(c);
    /* Which set or remove takes back what an earlier action added (top
     * level first, then the backend's, then the route's): the runtime looks
     * only then. */
    for (struct ast_hdr_action *h = p->hdr_actions; h; h = h->next)
        h->replaces = added_before((const struct ast_hdr_action *[]){p->hdr_actions}, 1, h);
    for (struct ast_backend *b = p->backends; b; b = b->next)
        for (struct ast_hdr_action *h = b->hdr_actions; h; h = h->next)
            h->replaces =
                added_before((const struct ast_hdr_action *[]){p->hdr_actions, b->hdr_actions}, 2, h);
    for (struct ast_route *r = p->routes; r; r = r->next) {
        const struct ast_hdr_action *lists[18];
        size_t n = 0;
        lists[n++] = p->hdr_actions;
        for (const struct ast_action *a = r->actions; a && n < 17; a = a->next)
            if (a->kind == AST_ACTION_PROXY && a->backend)
                lists[n++] = a->backend->hdr_actions;
        lists[n++] = r->hdr_actions;
        for (struct ast_hdr_action *h = r->hdr_actions; h; h = h->next)
            h->replaces = added_before(lists, n, h);
    }
}
