/* check_routes.c: routes: their host and path patterns, matchers, actions
 * (status, location, compress) and the routes no request can reach because
 * an earlier one takes all of theirs (shadowing). */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "arena.h"
#include "buf.h"
#include "diag.h"
#include "parse.h"
#include "regex.h"

#include <rp/program.h> /* RP_CODING_* */

#include "check_int.h"

static struct span route_span(const struct ast_route *r)
{
    return r->match.len ? span_join(r->kw, r->match) : r->kw;
}

/* ---- routes -------------------------------------------------------------- */

/* The routes that always answer, indexed by (host matcher, path matcher):
 * instead of comparing a route with every earlier one (quadratic in the
 * number of routes), the shadow check looks up each host and path matcher
 * that would cover it, a number that depends on the lengths of its host and
 * path only. The first route stored under a key is the earliest. */
struct shadow_index {
    struct names by_key;
    struct buf key; /* scratch */
};

static void shadow_key(struct buf *k, enum ast_host_kind hk, const char *h, size_t hl,
                       enum ast_path_kind pk, const char *p, size_t pl)
{
    uint32_t n = (uint32_t)hl;
    k->len = 0;
    buf_putc(k, (char)('0' + hk));
    buf_append(k, &n, sizeof n);
    buf_append(k, h, hl);
    buf_putc(k, (char)('0' + pk));
    buf_append(k, p, pl);
}

static void shadow_add(struct check *c, struct shadow_index *x, const struct ast_route *e)
{
    if (e->bad || e->is_default || !e->always || e->path_kind == AST_PATH_REGEX)
        return;
    shadow_key(&x->key, e->host_kind, e->host, e->host_len, e->path_kind, e->path, e->path_len);
    if (names_get(&x->by_key, x->key.data, x->key.len))
        return;
    char *k = arena_alloc(c->arena, x->key.len);
    memcpy(k, x->key.data, x->key.len);
    names_put(&x->by_key, k, x->key.len, (void *)e);
}

/* The earliest route stored under (hk, h, pk, p), if earlier than best. */
static const struct ast_route *shadow_find(struct shadow_index *x, const struct ast_route *best,
                                           enum ast_host_kind hk, const char *h, size_t hl,
                                           enum ast_path_kind pk, const char *p, size_t pl)
{
    shadow_key(&x->key, hk, h, hl, pk, p, pl);
    const struct ast_route *e = names_get(&x->by_key, x->key.data, x->key.len);
    return e && (!best || e->index < best->index) ? e : best;
}

/* The earliest route whose path matchers (with the host matcher given)
 * cover every path r matches. */
static const struct ast_route *shadow_paths(struct shadow_index *x, const struct ast_route *best,
                                            const struct ast_route *r, enum ast_host_kind hk,
                                            const char *h, size_t hl)
{
    best = shadow_find(x, best, hk, h, hl, AST_PATH_ANY, "", 0);
    if (r->path_kind == AST_PATH_PREFIX || r->path_kind == AST_PATH_EXACT) {
        for (size_t n = 1; n <= r->path_len; n++)
            best = shadow_find(x, best, hk, h, hl, AST_PATH_PREFIX, r->path, n);
        if (r->path_kind == AST_PATH_EXACT)
            best = shadow_find(x, best, hk, h, hl, AST_PATH_EXACT, r->path, r->path_len);
    } else {
        /* every request path starts with '/' */
        best = shadow_find(x, best, hk, h, hl, AST_PATH_PREFIX, "/", 1);
    }
    return best;
}

/* Returns the first earlier route that answers every request r would match. */
static const struct ast_route *check_shadowed_by(struct shadow_index *x, const struct ast_route *r)
{
    if (r->bad || r->is_default)
        return NULL;
    const struct ast_route *best = shadow_paths(x, NULL, r, AST_HOST_ANY, "", 0);
    if (r->host_kind == AST_HOST_EXACT) {
        best = shadow_paths(x, best, r, AST_HOST_EXACT, r->host, r->host_len);
        /* *.S covers a.S: S is a suffix from a dot with a label before it */
        for (size_t i = 1; i < r->host_len; i++)
            if (r->host[i] == '.')
                best = shadow_paths(x, best, r, AST_HOST_WILD, r->host + i, r->host_len - i);
    } else if (r->host_kind == AST_HOST_WILD) {
        for (size_t i = 0; i < r->host_len; i++)
            if (r->host[i] == '.')
                best = shadow_paths(x, best, r, AST_HOST_WILD, r->host + i, r->host_len - i);
    }
    return best;
}

static void check_status(struct check *c, struct ast_action *a)
{
    if (a->status_bad)
        return;
    const char *t = text_at(c, a->status_tok);
    int n = (int)a->status_tok.len;
    switch (a->kind) {
    case AST_ACTION_RESPOND:
        if (a->status < 100 || a->status > 599)
            diag_error(c->diag, a->status_tok, "status %.*s is out of range (100..599)", n, t);
        else if (a->status < 200)
            diag_error(c->diag, a->status_tok,
                       "respond cannot send an informational (1xx) status; use 200..599");
        else if ((a->status == 204 || a->status == 304) && a->has_body)
            diag_error(c->diag, a->body_tok, "a %u response cannot have a body", a->status);
        break;
    case AST_ACTION_DENY:
        if (a->status < 400 || a->status > 599)
            diag_error(c->diag, a->status_tok, "deny takes an error status (400..599), not %.*s",
                       n, t);
        break;
    case AST_ACTION_REDIRECT:
        if (a->status != 301 && a->status != 302 && a->status != 303 && a->status != 307 &&
            a->status != 308)
            diag_error(c->diag, a->status_tok,
                       "a redirect status is 301, 302, 303, 307 or 308, not %.*s", n, t);
        break;
    default:
        break;
    }
}

/* Splits a redirect location into text, $N captures and ${value}s. */
static void check_location(struct check *c, struct ast_route *r, struct ast_action *a)
{
    const char *s = a->body;
    size_t n = a->body_len, i = 0, lit = 0;
    struct ast_piece **tail = &a->location;
    /* The request's query goes on to the new location (as nginx's rewrite
     * does) unless the location places it (${req.query}, ${req.uri}), has a
     * query of its own ('?'), or ends in a '?' that says to drop it. */
    bool query_written = memchr(s, '?', n) != NULL;
    if (n > 1 && s[n - 1] == '?')
        n--;
    if (n == 0) {
        diag_error(c->diag, a->body_tok, "a redirect needs a location");
        return;
    }
    for (size_t k = 0; k < n; k++)
        if ((unsigned char)s[k] < 0x21 || s[k] == 0x7f) {
            diag_error(c->diag, string_sub(c, a->body_tok, k, 1),
                       "a location cannot hold spaces or control characters");
            return;
        }
#define FLUSH(end)                                                                                 \
    do {                                                                                           \
        if ((end) > lit) {                                                                         \
            struct ast_piece *pc = arena_alloc(c->arena, sizeof *pc);                              \
            pc->text = s + lit;                                                                    \
            pc->len = (end) - lit;                                                                 \
            *tail = pc;                                                                            \
            tail = &pc->next;                                                                      \
        }                                                                                          \
    } while (0)
    while (i < n) {
        if (s[i] != '$') {
            i++;
            continue;
        }
        FLUSH(i);
        if (i + 1 < n && s[i + 1] == '$') { /* $$: a dollar */
            lit = i + 1;
            i += 2;
            continue;
        }
        struct ast_piece *pc = arena_alloc(c->arena, sizeof *pc);
        if (i + 1 < n && s[i + 1] >= '0' && s[i + 1] <= '9') {
            pc->capture = (uint32_t)(s[i + 1] - '0');
            if (r->path_kind != AST_PATH_REGEX)
                diag_error(c->diag, string_sub(c, a->body_tok, i, 2),
                           "$%u needs a 'path ~ \"regex\"' matcher on the route", pc->capture);
            else if (pc->capture > r->n_caps)
                diag_error(c->diag, string_sub(c, a->body_tok, i, 2),
                           "$%u: the path regex has %u group%s", pc->capture, r->n_caps,
                           r->n_caps == 1 ? "" : "s");
            i += 2;
        } else if (i + 1 < n && s[i + 1] == '{') {
            const char *close = memchr(s + i, '}', n - i);
            if (!close) {
                diag_error(c->diag, string_sub(c, a->body_tok, i, 2), "'${' without '}'");
                return;
            }
            size_t end = (size_t)(close - s) + 1;
            static const char *const vals[] = {"req.host", "req.path", "req.method",
                                               "req.query", "req.uri"};
            static const enum ast_subject subj[] = {AST_SUBJ_HOST, AST_SUBJ_PATH,
                                                    AST_SUBJ_METHOD, AST_SUBJ_QUERY_ALL,
                                                    AST_SUBJ_PATH};
            const char *name = s + i + 2;
            size_t name_len = end - i - 3;
            int k;
            for (k = 0; k < 5; k++)
                if (strlen(vals[k]) == name_len && memcmp(vals[k], name, name_len) == 0)
                    break;
            if (k < 5) {
                pc->subj = subj[k];
                query_written |= k >= 3;
                if (k == 4) { /* ${req.uri}: the path, then "?query" when there is one */
                    struct ast_piece *q = arena_alloc(c->arena, sizeof *q);
                    q->subj = AST_SUBJ_QUERY_SUFFIX;
                    pc->next = q;
                    *tail = pc;
                    tail = &q->next;
                    i = end;
                    lit = i;
                    continue;
                }
            } else if (name_len > 12 && memcmp(name, "req.query[\"", 11) == 0 &&
                       name[name_len - 1] == ']' && name[name_len - 2] == '"') {
                pc->subj = AST_SUBJ_QUERY;
                pc->key = name + 11;
                pc->key_len = name_len - 13;
            } else {
                diag_error(c->diag, string_sub(c, a->body_tok, i, end - i),
                           "unknown value in '${...}' (known here: ${req.host}, ${req.path}, "
                           "${req.method}, ${req.query}, ${req.uri}, ${req.query[\"k\"]})");
            }
            i = end;
        } else {
            diag_error(c->diag, string_sub(c, a->body_tok, i, 1),
                       "'$' starts $1..$9 or ${value}; write $$ for a dollar sign");
            i++;
        }
        *tail = pc;
        tail = &pc->next;
        lit = i;
    }
    FLUSH(n);
#undef FLUSH
    if (!query_written) {
        struct ast_piece *q = arena_alloc(c->arena, sizeof *q);
        q->subj = AST_SUBJ_QUERY_SUFFIX;
        *tail = q;
    }
}

static void check_compress(struct check *c, struct ast_route *r, bool has_proxy);

static void check_route_actions(struct check *c, struct ast_route *r, const struct names *backends)
{
    if (r->n_actions == 0) {
        diag_error(c->diag, route_span(r),
                   "route has no action: add 'proxy BACKEND' or 'respond STATUS'");
        return;
    }
    bool has_proxy = false;
    struct ast_action *unguarded = NULL;
    for (struct ast_action *a = r->actions; a; a = a->next) {
        if (unguarded) {
            if (unguarded->guard == NULL && !a->guard && a == unguarded->next &&
                a->kind != AST_ACTION_NONE) {
                diag_error(c->diag, a->kw, "a route takes one action, and this one has two");
                diag_note(c->diag, unguarded->kw, "its first action is here");
            } else {
                diag_error(c->diag, a->kw, "this action can never run");
                diag_note(c->diag, unguarded->kw, "the action before it always answers");
            }
            break;
        }
        if (!a->guard)
            unguarded = a;
        else
            check_expr(c, a->guard);
        if (a->kind == AST_ACTION_PROXY) {
            has_proxy = true;
            const char *name = text_at(c, a->backend_name);
            size_t len = a->backend_name.len;
            a->backend = names_get(backends, name, len);
            if (a->backend) {
                a->backend->used = true;
                continue;
            }
            diag_error(c->diag, a->backend_name, "unknown backend '%.*s'", (int)len, name);
            const char **cands = arena_alloc(c->arena, (c->prog->n_backends + 1) * sizeof *cands);
            struct ast_backend **defs =
                arena_alloc(c->arena, (c->prog->n_backends + 1) * sizeof *defs);
            size_t n = 0;
            for (struct ast_backend *b = c->prog->backends; b; b = b->next) {
                cands[n] = arena_strndup(c->arena, text_at(c, b->name), b->name.len);
                defs[n++] = b;
            }
            int close = diag_closest(name, len, cands, n);
            if (close >= 0) {
                diag_note(c->diag, defs[close]->name, "did you mean '%s'?", cands[close]);
                defs[close]->used = true; /* meant: not "never used" as well */
            }
            continue;
        }
        check_status(c, a);
        if (a->kind == AST_ACTION_REDIRECT && !a->status_bad)
            check_location(c, r, a);
    }
    if (!unguarded) {
        struct ast_action *last = r->actions;
        while (last->next)
            last = last->next;
        diag_error(c->diag, last->guard_kw,
                   "every action of this route has a condition: when none holds the request "
                   "would get no answer; end the route with an action that has none");
    }
    if (r->tunnel_kw.len && !has_proxy)
        diag_error(c->diag, r->tunnel_kw,
                   "'tunnel' lets a proxied connection be upgraded; this route does not proxy");
    if (r->compress)
        check_compress(c, r, has_proxy);
    if (r->cache)
        check_cache(c, r, has_proxy);
}

/* ---- compress ------------------------------------------------------------- */

/* What `compress gzip` takes without a `types` statement: text formats and
 * the structured ones sent as text, as CDNs and Caddy compress them. */
static const char *const compress_default_types[] = {
    "text/html", "text/plain", "text/css", "text/javascript", "text/xml", "text/csv",
    "text/markdown", "application/javascript", "application/json", "application/ld+json",
    "application/manifest+json", "application/xml", "application/xhtml+xml",
    "application/rss+xml", "application/atom+xml", "application/wasm", "image/svg+xml",
    "image/x-icon", "font/ttf", "font/otf", "application/vnd.ms-fontobject"};
#define COMPRESS_DEFAULT_LEVEL 5
#define COMPRESS_DEFAULT_MIN 256

static bool media_tchar(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || strchr("!#$&-^_.+", ch);
}

/* A media type for `types`: "type/subtype", or a star for the subtype or both, lower
 * cased; NULL (reported) when malformed. */
static const char *check_media_type(struct check *c, const struct ast_arg *a)
{
    if (a->kind != AST_ARG_STRING) {
        diag_error(c->diag, a->tok, "a media type is a string such as \"text/html\", not '%.*s'",
                   arg_len(a), text_at(c, a->tok));
        return NULL;
    }
    char *t = arena_strndup(c->arena, a->str, a->str_len);
    for (size_t i = 0; t[i]; i++)
        if (t[i] >= 'A' && t[i] <= 'Z')
            t[i] = (char)(t[i] + 32);
    if (strchr(t, ';')) {
        diag_error(c->diag, a->tok, "a media type here takes no parameters: responses are "
                   "matched on type/subtype alone");
        return NULL;
    }
    const char *slash = strchr(t, '/');
    bool ok = slash && slash > t && slash[1];
    bool star_sub = ok && strcmp(slash + 1, "*") == 0;
    bool star_all = strcmp(t, "*/*") == 0;
    for (const char *p = t; ok && *p && !star_all; p++) {
        if (p == slash || (star_sub && p == slash + 1))
            continue;
        ok = media_tchar(*p);
    }
    if (!ok) {
        diag_error(c->diag, a->tok, "%.*s is not a media type: the form is \"type/subtype\" or "
                   "\"type/*\"", arg_len(a), text_at(c, a->tok));
        return NULL;
    }
    return t;
}

static void check_compress(struct check *c, struct ast_route *r, bool has_proxy)
{
    struct ast_compress *cp = r->compress;
    if (r->dup_compress.len) {
        diag_error(c->diag, r->dup_compress, "route already has a 'compress' statement");
        diag_note(c->diag, cp->kw, "the first one is here");
    }
    if (!has_proxy)
        diag_error(c->diag, cp->kw, "'compress' compresses what a backend answers; this route "
                   "does not proxy");
    static const char *const codings[] = {"gzip", "br"};
    static const char *const later[] = {"zstd", "deflate"};
    if (!cp->codings)
        diag_error(c->diag, cp->kw, "'compress' needs a coding: the form is 'compress gzip "
                   "[br] [{ types [...]; min SIZE; level N }]'");
    for (const struct ast_arg *a = cp->codings; a; a = a->next) {
        if (a->kind != AST_ARG_WORD) {
            diag_error(c->diag, a->tok, "a coding is a name such as gzip, not '%.*s'",
                       arg_len(a), text_at(c, a->tok));
            continue;
        }
        if (word_index(c, a->tok, later, 2) >= 0) {
            diag_error(c->diag, a->tok, "rpx does not compress with '%.*s' yet; it knows gzip "
                       "and br", arg_len(a), text_at(c, a->tok));
            continue;
        }
        int k = word_index(c, a->tok, codings, 2);
        if (k < 0) {
            check_unknown(c, a->tok, "coding", codings, 2);
            continue;
        }
        uint32_t bit = k == 0 ? RP_CODING_GZIP : RP_CODING_BR;
        if (cp->coding_bits & bit)
            diag_error(c->diag, a->tok, "%s is already named", codings[k]);
        cp->coding_bits |= bit;
    }
    static const char *const keys[] = {"types", "min", "level"};
    const struct ast_stmt *seen[3] = {0};
    cp->level = COMPRESS_DEFAULT_LEVEL;
    cp->min_length = COMPRESS_DEFAULT_MIN;
    for (const struct ast_stmt *st = cp->stmts; st; st = st->next) {
        int k = word_index(c, st->kw, keys, 3);
        if (k < 0) {
            check_unknown(c, st->kw, "compress setting", keys, 3);
            continue;
        }
        if (seen[k]) {
            diag_error(c->diag, st->kw, "'%s' is already set", keys[k]);
            diag_note(c->diag, seen[k]->kw, "set here");
            continue;
        }
        seen[k] = st;
        static const char *const usage[] = {"types [\"text/html\", ...]", "min SIZE", "level N"};
        if (!check_nargs(c, st->kw, st->args, 1, usage[k]))
            continue;
        const struct ast_arg *a = st->args;
        if (k == 1) {
            uint64_t v;
            if (check_size_or_zero(c, a, "min", &v))
                cp->min_length = v;
        } else if (k == 2) {
            check_int(c, a, "level", 1, 9, &cp->level);
        } else if (a->kind != AST_ARG_LIST) {
            diag_error(c->diag, a->tok, "types is a list of media types, e.g. [\"text/html\", "
                       "\"application/json\"]");
        } else {
            uint32_t n = 0;
            for (const struct ast_arg *t = a->sub; t; t = t->next)
                n++;
            if (n == 0)
                diag_error(c->diag, a->tok, "an empty types list would compress nothing; remove "
                           "'compress' instead");
            cp->types = arena_alloc(c->arena, (n ? n : 1) * sizeof *cp->types);
            for (const struct ast_arg *t = a->sub; t; t = t->next) {
                const char *mt = check_media_type(c, t);
                if (mt)
                    cp->types[cp->n_types++] = mt;
            }
        }
    }
    if (!seen[0]) {
        cp->n_types = sizeof compress_default_types / sizeof compress_default_types[0];
        cp->types = (const char **)compress_default_types;
    }
}

/* Checks host, path, method and if matchers, and sets conditional/always. */
static void check_matchers(struct check *c, struct ast_route *r)
{
    if (r->dup_matcher.len) {
        diag_error(c->diag, r->dup_matcher, "route already has a '%.*s' matcher",
                   (int)r->dup_matcher.len, text_at(c, r->dup_matcher));
        diag_note(c->diag, r->dup_first, "the first one is here");
    }
    if (r->is_default && (r->path_kw.len || r->host_kw.len || r->method_kw.len || r->if_kw.len))
        diag_error(c->diag, route_span(r),
                   "'default' matches every request: it takes no other matcher");
    if (r->bad)
        return;
    if ((r->path_kind == AST_PATH_PREFIX || r->path_kind == AST_PATH_EXACT) &&
        (r->path_len == 0 || r->path[0] != '/'))
        diag_error(c->diag, r->path_tok, "a path must start with '/'");
    if (r->path_kind == AST_PATH_REGEX)
        r->regex_id = check_regex(c, r->path_tok, r->path, r->path_len, &r->n_caps);
    if (r->host_kind == AST_HOST_EXACT) {
        char *h = arena_strndup(c->arena, r->host, r->host_len);
        bool ok = r->host_len > 0;
        for (size_t i = 0; i < r->host_len; i++) {
            char ch = h[i];
            if (ch >= 'A' && ch <= 'Z')
                h[i] = (char)(ch + 32);
            else if (ch == '*' && i == 0 && r->host_len > 2 && h[1] == '.')
                continue;
            else if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
                       ch == '.'))
                ok = false;
        }
        if (!ok) {
            diag_error(c->diag, r->host_tok,
                       "a host is a name such as \"example.com\" or \"*.example.com\" (no port, "
                       "no scheme)");
            r->bad = true;
        } else if (h[0] == '*') {
            r->host_kind = AST_HOST_WILD;
            r->host = h + 1;
            r->host_len--;
        } else {
            r->host = h;
        }
    }
    if (r->methods) {
        const struct ast_arg *m = r->methods;
        const struct ast_arg *one = m->kind == AST_ARG_LIST ? m->sub : m;
        if (m->kind == AST_ARG_LIST && !m->sub)
            diag_error(c->diag, m->tok, "the list of methods is empty");
        for (const struct ast_arg *x = one; x; x = m->kind == AST_ARG_LIST ? x->next : NULL) {
            if (x->kind != AST_ARG_WORD) {
                diag_error(c->diag, x->tok, "expected a method such as GET, not %s",
                           arg_kind_name(x->kind));
                continue;
            }
            const char *t = text_at(c, x->tok);
            bool upper = true;
            for (size_t i = 0; i < x->tok.len; i++)
                upper &= (t[i] >= 'A' && t[i] <= 'Z') || t[i] == '-' || t[i] == '_';
            if (!upper)
                diag_error(c->diag, x->tok, "methods are upper case: '%.*s'", arg_len(x), t);
            /* TRACE reflects a request back (cookies and all): the proxy
             * refuses it unless a route names it. */
            if (x->tok.len == 5 && memcmp(t, "TRACE", 5) == 0)
                c->prog->allow_trace = true;
        }
    }
    if (r->cond)
        check_expr(c, r->cond);
    r->conditional = r->methods || r->cond || r->path_kind == AST_PATH_REGEX;
}

void check_routes(struct check *c, const struct names *backends)
{
    const struct ast_route *dflt = NULL;
    struct shadow_index shadow = {0};
    names_init(&shadow.by_key, c->arena, c->prog->n_routes);
    for (struct ast_route *r = c->prog->routes; r; r = r->next) {
        check_matchers(c, r);
        check_route_actions(c, r, backends);
        struct ast_action *last = r->actions;
        while (last && last->next)
            last = last->next;
        bool unguarded_end = false;
        for (struct ast_action *a = r->actions; a; a = a->next)
            unguarded_end |= a->guard == NULL;
        r->always = !r->conditional && unguarded_end;
        if (dflt) {
            if (r->is_default) {
                diag_error(c->diag, route_span(r), "duplicate 'route default'");
                diag_note(c->diag, route_span(dflt), "the first 'route default' is here");
            } else {
                diag_error(c->diag, route_span(r),
                           "route after 'route default' can never match");
                diag_note(c->diag, route_span(dflt), "'route default' matches every request");
            }
            continue;
        }
        if (r->is_default)
            dflt = r;
        const struct ast_route *by = check_shadowed_by(&shadow, r);
        shadow_add(c, &shadow, r);
        if (!by)
            continue;
        bool same = by->path_kind == r->path_kind && by->path_len == r->path_len &&
                    by->host_kind == r->host_kind && by->host_len == r->host_len &&
                    !r->conditional;
        if (c->opts && c->opts->allow_shadowed)
            diag_warning(c->diag, route_span(r), "route '%s' can never match", r->label);
        else if (same)
            diag_error(c->diag, route_span(r), "duplicate route '%s' can never match", r->label);
        else
            diag_error(c->diag, route_span(r), "route '%s' can never match", r->label);
        if (same)
            diag_note(c->diag, route_span(by), "the same path is routed here first");
        else
            diag_note(c->diag, route_span(by),
                      "every request it matches is taken first by this route");
    }
    buf_free(&shadow.key);
}
