/* parse.c: drives the lexer and the Lemon push parser, and holds the
 * builders the grammar's actions call. */
#include "parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "diag.h"
#include "grammar.h"

/* Lemon's entry points (dsl/grammar.y, %name rpxParse); it declares none. */
void *rpxParseAlloc(void *(*alloc)(size_t), struct parse_ctx *p);
void rpxParse(void *parser, int kind, struct lex_token tok);
void rpxParseFree(void *parser, void (*dealloc)(void *));

/* Syntax errors beyond this many get no "expected ..." hint: each hint
 * replays the tokens so far once per token kind. */
#define PARSE_MAX_HINTS 10

static struct span tok_span(const struct lex_token *t)
{
    struct span s = {t->off, t->len};
    return s;
}

static void parse_record(struct parse_ctx *p, const struct lex_token *t)
{
    if (p->n_toks == p->cap_toks) {
        size_t cap = p->cap_toks ? p->cap_toks * 2 : 256;
        struct lex_token *n = realloc(p->toks, cap * sizeof *n);
        if (!n)
            rpx_oom();
        p->toks = n;
        p->cap_toks = cap;
    }
    p->toks[p->n_toks++] = *t;
}

static void parse_ctx_init(struct parse_ctx *p, struct arena *a, const struct src *s,
                           struct diag *d)
{
    memset(p, 0, sizeof *p);
    p->arena = a;
    p->src = s;
    p->diag = d;
    p->prog = arena_alloc(a, sizeof *p->prog);
    p->prog->listens_tail = &p->prog->listens;
    p->prog->backends_tail = &p->prog->backends;
    p->prog->routes_tail = &p->prog->routes;
    p->prog->settings_tail = &p->prog->settings;
}

struct ast_program *parse_program(struct arena *a, const struct src *s, struct diag *d)
{
    struct parse_ctx p;
    parse_ctx_init(&p, a, s, d);
    struct lexer lx;
    lex_init(&lx, s, d);
    void *parser = rpxParseAlloc(malloc, &p);
    if (!parser)
        rpx_oom();
    struct lex_token t;
    int kind;
    do {
        kind = lex_next(&lx, &t);
        parse_record(&p, &t);
        rpxParse(parser, kind, t);
        if (t.flags & LEX_F_BAD)
            p.bad_in_stmt = true;
        else if (kind == TK_SEMI || kind == TK_LBRACE || kind == TK_RBRACE)
            p.bad_in_stmt = false;
        if (d->n_errors >= DIAG_MAX_ERRORS)
            break;
    } while (kind != 0);
    rpxParseFree(parser, free);
    free(p.toks);
    return p.prog;
}

/* Would the parser, having read the first n recorded tokens, accept a token
 * of this kind next? Replays them into a scratch parser that reports
 * nothing. */
static bool parse_accepts(const struct parse_ctx *p, size_t n, int kind)
{
    struct arena scratch = {0};
    struct diag quiet;
    diag_init(&quiet, p->src, NULL);
    struct parse_ctx q;
    parse_ctx_init(&q, &scratch, p->src, &quiet);
    q.probe = true;
    void *parser = rpxParseAlloc(malloc, &q);
    if (!parser)
        rpx_oom();
    for (size_t i = 0; i < n; i++)
        rpxParse(parser, p->toks[i].kind, p->toks[i]);
    q.probe_failed = false;
    struct lex_token t = p->toks[n];
    t.kind = kind;
    rpxParse(parser, kind, t);
    bool ok = !q.probe_failed;
    rpxParseFree(parser, free);
    arena_free(&scratch);
    return ok;
}

/* How a token reads in "unexpected ...". */
static void parse_describe(struct buf *b, const struct parse_ctx *p, const struct lex_token *t)
{
    const char *text = p->src->text + t->off;
    if (t->kind == 0 || (t->flags & LEX_F_VIRT_EOF)) {
        buf_puts(b, "end of file");
    } else if (t->kind == TK_SEMI) {
        buf_puts(b, t->flags & LEX_F_VIRT_NL ? "newline" : t->flags & LEX_F_VIRT_RB ? "'}'" : "';'");
    } else if (lex_kind_is_keyword(t->kind)) {
        buf_printf(b, "keyword '%.*s'", (int)t->len, text);
    } else if (t->kind == TK_ID) {
        buf_printf(b, "identifier '%.*s'", (int)t->len, text);
    } else if (t->kind == TK_STRING) {
        int n = t->len > 40 ? 37 : (int)t->len;
        buf_printf(b, "string %.*s%s", n, text, t->len > 40 ? "..." : "");
    } else if (t->kind == TK_INT) {
        buf_printf(b, "number '%.*s'", (int)t->len, text);
    } else if (t->kind == TK_QUANTITY || t->kind == TK_RATE || t->kind == TK_ADDR ||
               t->kind == TK_IP || t->kind == TK_CIDR) {
        buf_printf(b, "%s '%.*s'", lex_kind_name(t->kind), (int)t->len, text);
    } else {
        buf_puts(b, lex_kind_name(t->kind));
    }
}

void parse_syntax_error(struct parse_ctx *p, const struct lex_token *t)
{
    if (p->probe) {
        p->probe_failed = true;
        return;
    }
    /* The lexer has reported a malformed token in this statement; what
     * follows (e.g. after an unterminated string) is likely its echo. */
    if ((t->flags & LEX_F_BAD) || p->bad_in_stmt)
        return;
    struct buf msg = {0};
    buf_puts(&msg, "unexpected ");
    parse_describe(&msg, p, t);

    if (p->n_syntax++ < PARSE_MAX_HINTS && p->n_toks > 0) {
        /* the failing token is the last one recorded */
        size_t at = p->n_toks - 1;
        int n_kinds = lex_kind_count();
        int valid[64];
        int n_valid = 0;
        bool name_ok = false;
        for (int k = 0; k < n_kinds && n_valid < 64; k++) {
            if (k == t->kind || !parse_accepts(p, at, k))
                continue;
            valid[n_valid++] = k;
            name_ok |= k == TK_ID;
        }
        /* keywords are names too; when a name fits, list only "name" */
        int shown[64];
        int n_shown = 0, n_other = 0;
        for (int i = 0; i < n_valid; i++) {
            if (name_ok && lex_kind_is_keyword(valid[i]))
                continue;
            if (valid[i] != TK_SEMI && valid[i] != 0)
                n_other++;
            shown[n_shown++] = valid[i];
        }
        if (n_other > 0) { /* empty statements and the end are always fine */
            int j = 0;
            for (int i = 0; i < n_shown; i++)
                if (shown[i] != TK_SEMI && shown[i] != 0)
                    shown[j++] = shown[i];
            n_shown = j;
        }

        int suggest = -1;
        if (t->kind == TK_ID && !name_ok) {
            const char *cands[64];
            int kinds[64];
            int n = 0;
            for (int i = 0; i < n_valid; i++)
                if (lex_kind_is_keyword(valid[i])) {
                    cands[n] = lex_keyword_word(valid[i]);
                    kinds[n++] = valid[i];
                }
            int c = diag_closest(p->src->text + t->off, t->len, cands, (size_t)n);
            if (c >= 0)
                suggest = kinds[c];
        }
        if (suggest >= 0) {
            buf_printf(&msg, "; did you mean %s?", lex_kind_name(suggest));
        } else if (n_shown > 0 && n_shown <= 4) {
            buf_puts(&msg, ", expected ");
            for (int i = 0; i < n_shown; i++) {
                if (i > 0)
                    buf_puts(&msg, i == n_shown - 1 ? " or " : ", ");
                buf_puts(&msg, lex_kind_name(shown[i]));
            }
        }
    }
    diag_error(p->diag, tok_span(t), "%s", msg.data);
    buf_free(&msg);
}

void parse_stack_overflow(struct parse_ctx *p)
{
    if (p->probe) {
        p->probe_failed = true;
        return;
    }
    diag_file_error(p->diag, "policy nested too deeply");
}

bool parse_uint(const char *s, size_t n, uint32_t max, uint32_t *out)
{
    if (n == 0)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
        if (v > max)
            return false;
    }
    *out = (uint32_t)v;
    return true;
}

void parse_listen(struct parse_ctx *p, const struct lex_token *kw, const struct lex_token *addr)
{
    struct ast_listen *l = arena_alloc(p->arena, sizeof *l);
    l->kw = tok_span(kw);
    l->addr.tok = tok_span(addr);
    *p->prog->listens_tail = l;
    p->prog->listens_tail = &l->next;
    p->prog->n_listens++;
}

void parse_backend_begin(struct parse_ctx *p, const struct lex_token *kw,
                         const struct lex_token *name)
{
    struct ast_backend *b = arena_alloc(p->arena, sizeof *b);
    b->kw = tok_span(kw);
    b->name = tok_span(name);
    b->servers_tail = &b->servers;
    b->stmts_tail = &b->stmts;
    *p->prog->backends_tail = b;
    p->prog->backends_tail = &b->next;
    p->prog->n_backends++;
    p->cur_backend = b;
    p->cur_server = NULL;
}

void parse_backend_end(struct parse_ctx *p)
{
    p->cur_backend = NULL;
    p->cur_server = NULL;
}

void parse_bstmt(struct parse_ctx *p, const struct lex_token *kw, struct ast_arg *args)
{
    struct ast_backend *b = p->cur_backend;
    if (!b)
        return;
    struct ast_stmt *st = arena_alloc(p->arena, sizeof *st);
    st->kw = tok_span(kw);
    st->args = args;
    *b->stmts_tail = st;
    b->stmts_tail = &st->next;
}

void parse_server(struct parse_ctx *p, const struct lex_token *kw, const struct lex_token *name,
                  const struct lex_token *addr, struct ast_arg *opts)
{
    struct ast_backend *b = p->cur_backend;
    if (!b)
        return;
    struct ast_server *s = arena_alloc(p->arena, sizeof *s);
    s->kw = tok_span(kw);
    s->name = tok_span(name);
    s->addr.tok = tok_span(addr);
    s->opts = opts;
    s->weight = 1;
    *b->servers_tail = s;
    b->servers_tail = &s->next;
    b->n_servers++;
}

void parse_settings_begin(struct parse_ctx *p, enum parse_setting_block which,
                          const struct lex_token *kw)
{
    (void)kw;
    p->cur_block = (enum ast_setting_block)which;
}

void parse_setting(struct parse_ctx *p, enum parse_setting_block which, const struct lex_token *kw,
                   struct ast_arg *args)
{
    struct ast_setting *st = arena_alloc(p->arena, sizeof *st);
    st->block = which == PARSE_SET_BLOCK ? p->cur_block : (enum ast_setting_block)which;
    st->stmt.kw = tok_span(kw);
    st->stmt.args = args;
    *p->prog->settings_tail = st;
    p->prog->settings_tail = &st->next;
}

struct ast_arg *parse_arg(struct parse_ctx *p, enum ast_arg_kind kind, const struct lex_token *t)
{
    struct ast_arg *a = arena_alloc(p->arena, sizeof *a);
    a->kind = kind;
    a->tok = tok_span(t);
    a->bad = (t->flags & LEX_F_BAD) != 0;
    if (kind == AST_ARG_STRING && !a->bad)
        a->str = lex_string_value(p->arena, p->src->text + t->off, t->len, &a->str_len);
    else if (kind == AST_ARG_STRING)
        a->str = "";
    return a;
}

struct ast_arg *parse_arg_group(struct parse_ctx *p, enum ast_arg_kind kind,
                                const struct lex_token *first, struct ast_arg *items,
                                const struct lex_token *last)
{
    struct ast_arg *a = arena_alloc(p->arena, sizeof *a);
    a->kind = kind;
    a->tok.off = first->off;
    a->tok.len = last->off + last->len - first->off;
    a->name = tok_span(first);
    a->sub = items;
    for (struct ast_arg *i = items; i; i = i->next)
        a->bad |= i->bad;
    return a;
}

struct ast_arg *parse_ref(struct parse_ctx *p, const struct lex_token *obj,
                          const struct lex_token *field, const struct lex_token *key,
                          const struct lex_token *last)
{
    struct ast_arg *a = arena_alloc(p->arena, sizeof *a);
    a->kind = AST_ARG_REF;
    a->name = tok_span(obj);
    a->field = tok_span(field);
    const struct lex_token *end = last ? last : field;
    a->tok.off = obj->off;
    a->tok.len = end->off + end->len - obj->off;
    if (key) {
        a->has_key = true;
        a->key_tok = tok_span(key);
        a->bad = (key->flags & LEX_F_BAD) != 0;
        if (!a->bad)
            a->str = lex_string_value(p->arena, p->src->text + key->off, key->len, &a->str_len);
        else
            a->str = "";
    }
    return a;
}

struct ast_arg *parse_arg_append(struct ast_arg *head, struct ast_arg *x)
{
    if (!x)
        return head;
    if (!head)
        return x;
    struct ast_arg *t = head;
    while (t->next)
        t = t->next;
    t->next = x;
    return head;
}

void parse_route_begin(struct parse_ctx *p, const struct lex_token *kw, enum parse_route_kind kind,
                       const struct lex_token *first, const struct lex_token *str)
{
    struct ast_route *r = arena_alloc(p->arena, sizeof *r);
    r->index = p->prog->n_routes;
    r->kw = tok_span(kw);
    r->kind = (enum ast_route_kind)kind;
    r->match.off = first->off;
    r->match.len = str->off + str->len - first->off;
    r->path_tok = tok_span(str);
    r->status = UINT32_MAX;
    const char *text = p->src->text;
    struct buf label = {0};
    if (kind == PARSE_ROUTE_DEFAULT) {
        r->path = "";
        buf_puts(&label, "default");
    } else {
        r->bad = (str->flags & LEX_F_BAD) != 0;
        if (!r->bad)
            r->path = lex_string_value(p->arena, text + str->off, str->len, &r->path_len);
        else
            r->path = "";
        buf_puts(&label, kind == PARSE_ROUTE_EXACT ? "path = " : "path ");
        buf_append(&label, text + str->off, str->len);
    }
    r->label = arena_strndup(p->arena, label.data, label.len);
    buf_free(&label);
    *p->prog->routes_tail = r;
    p->prog->routes_tail = &r->next;
    p->prog->n_routes++;
    p->cur_route = r;
}

void parse_route_end(struct parse_ctx *p)
{
    p->cur_route = NULL;
}

/* A route takes one action; check.c reports any extra one. */
static bool parse_action_slot(struct parse_ctx *p, const struct lex_token *kw)
{
    struct ast_route *r = p->cur_route;
    if (!r)
        return false;
    if (r->action != AST_ACTION_NONE) {
        if (!r->extra_action_kw.len)
            r->extra_action_kw = tok_span(kw);
        return false;
    }
    r->action_kw = tok_span(kw);
    return true;
}

void parse_tunnel(struct parse_ctx *p, const struct lex_token *kw)
{
    struct ast_route *r = p->cur_route;
    if (r && !r->tunnel_kw.len)
        r->tunnel_kw = tok_span(kw);
}

void parse_proxy(struct parse_ctx *p, const struct lex_token *kw, const struct lex_token *backend)
{
    if (!parse_action_slot(p, kw))
        return;
    struct ast_route *r = p->cur_route;
    r->action = AST_ACTION_PROXY;
    r->backend_name = tok_span(backend);
}

void parse_respond(struct parse_ctx *p, const struct lex_token *kw, const struct lex_token *status,
                   const struct lex_token *body)
{
    if (!parse_action_slot(p, kw))
        return;
    struct ast_route *r = p->cur_route;
    r->action = AST_ACTION_RESPOND;
    r->status_tok = tok_span(status);
    if (status->flags & LEX_F_BAD)
        r->status_bad = true;
    else if (!parse_uint(p->src->text + status->off, status->len, 99999, &r->status))
        r->status = UINT32_MAX;
    r->body = "";
    if (body) {
        r->has_body = true;
        r->body_tok = tok_span(body);
        if (!(body->flags & LEX_F_BAD))
            r->body = lex_string_value(p->arena, p->src->text + body->off, body->len, &r->body_len);
    }
}
