/* parse.c: drives the lexer and the Lemon push parser, and holds the
 * builders the grammar's actions call. */
#include "parse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "diag.h"
#include "grammar.h"
#include "resolve.h"

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

static void parse_ctx_init(struct parse_ctx *p, struct arena *a, struct src *s, struct diag *d,
                           struct ast_program *prog)
{
    memset(p, 0, sizeof *p);
    p->arena = a;
    p->src = s;
    p->diag = d;
    p->prog = prog;
}

static struct ast_program *parse_new_program(struct arena *a)
{
    struct ast_program *prog = arena_alloc(a, sizeof *prog);
    prog->listens_tail = &prog->listens;
    prog->backends_tail = &prog->backends;
    prog->routes_tail = &prog->routes;
    prog->settings_tail = &prog->settings;
    prog->stmts_tail = &prog->stmts;
    prog->acls_tail = &prog->acls;
    prog->limits_tail = &prog->limits;
    prog->tests_tail = &prog->tests;
    prog->imports_tail = &prog->imports;
    return prog;
}

/* One file being parsed: an import opens another on top of the one that
 * names it, so the imported statements come where the import stands. */
struct parse_frame {
    struct parse_ctx p;
    struct lexer lx;
    void *parser;
    bool at_end; /* the end of the file was fed to the parser */
};

static void parse_frame_open(struct parse_frame *f, struct arena *a, struct src *s, struct diag *d,
                             struct ast_program *prog, uint32_t file, const struct parse_opts *opts)
{
    memset(f, 0, sizeof *f); /* the slot may have held a file read before */
    parse_ctx_init(&f->p, a, s, d, prog);
    f->p.file = file;
    f->p.opts = opts;
    /* One error for the first bad byte: a file in another encoding has
     * many, and each would say the same. */
    const struct src_file *sf = &s->files[file];
    size_t bad = src_utf8_bad(s->text + sf->off, sf->len);
    if (bad < sf->len)
        diag_error(d, (struct span){(uint32_t)(sf->off + bad), 1},
                   "byte 0x%02X is not UTF-8: policy files are UTF-8 (from Latin-1: "
                   "iconv -f latin1 -t utf-8)",
                   (unsigned char)s->text[sf->off + bad]);
    lex_init(&f->lx, s, d, file);
    f->parser = rpxParseAlloc(malloc, &f->p);
    if (!f->parser)
        rpx_oom();
}

static void parse_frame_close(struct parse_frame *f)
{
    rpxParseFree(f->parser, free);
    free(f->p.toks);
}

/* Parses the main file and, where each import stands, the file it names:
 * a stack of open files (resolve_import bounds its depth), not recursion
 * from inside a grammar action. */
struct ast_program *parse_program(struct arena *a, struct src *s, struct diag *d,
                                  const struct parse_opts *opts)
{
    struct ast_program *prog = parse_new_program(a);
    struct parse_frame *stack = calloc(RESOLVE_MAX_IMPORT_DEPTH + 2, sizeof *stack);
    if (!stack)
        rpx_oom();
    size_t top = 0;
    parse_frame_open(&stack[0], a, s, d, prog, 0, opts);
    for (;;) {
        struct parse_frame *f = &stack[top];
        if (f->at_end) { /* back from an import named last in this file */
            parse_frame_close(f);
            if (top == 0)
                break;
            top--;
            continue;
        }
        struct lex_token t;
        int kind = lex_next(&f->lx, &t);
        parse_record(&f->p, &t);
        rpxParse(f->parser, kind, t);
        if (t.flags & LEX_F_BAD)
            f->p.bad_in_stmt = true;
        else if (kind == TK_SEMI || kind == TK_LBRACE || kind == TK_RBRACE)
            f->p.bad_in_stmt = false;
        f->at_end = kind == 0;
        if (d->n_errors >= DIAG_MAX_ERRORS) {
            for (size_t i = 0; i <= top; i++)
                parse_frame_close(&stack[i]);
            break;
        }
        if (f->p.import_file) {
            uint32_t file = f->p.import_file;
            f->p.import_file = 0;
            parse_frame_open(&stack[++top], a, s, d, prog, file, opts);
        }
    }
    free(stack);
    return prog;
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
    parse_ctx_init(&q, &scratch, p->src, &quiet, parse_new_program(&scratch));
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

/* The words a policy's top level holds, for "unknown statement" errors. */
const char *const parse_top_words[] = {
    "listen", "backend", "route", "acl",    "import", "test",  "workers",      "timeouts",
    "limits", "forwarded", "set", "add",    "remove", "via",   "error",        "upstream_path",
    "log", "limit"};
#define PARSE_N_TOP_WORDS (sizeof parse_top_words / sizeof parse_top_words[0])
const size_t parse_n_top_words = PARSE_N_TOP_WORDS;

/* Reports an unknown word opening a statement of `where` ("the top
 * level", "a route"): the nearest known word, or all of them. */
static void parse_unknown_word(struct parse_ctx *p, const struct lex_token *kw,
                               const char *const *words, size_t n, const char *where)
{
    const char *t = p->src->text + kw->off;
    int close = diag_closest(t, kw->len, words, n);
    if (close >= 0) {
        diag_error(p->diag, tok_span(kw), "unknown statement '%.*s'; did you mean '%s'?",
                   (int)kw->len, t, words[close]);
        return;
    }
    struct buf list = {0};
    for (size_t i = 0; i < n; i++)
        buf_printf(&list, "%s%s", i == 0 ? "" : i == n - 1 ? " and " : ", ", words[i]);
    diag_error(p->diag, tok_span(kw), "unknown statement '%.*s': %s holds %s", (int)kw->len, t,
               where, list.data);
    buf_free(&list);
}

/* Errors that say more than "unexpected X" because they look at the shape
 * around the failing token: a block left open (the file ends, or a
 * top-level statement turns up inside it) and an unknown word opening a
 * top-level statement. Returns true if it reported one. */
static bool parse_shape_error(struct parse_ctx *p, const struct lex_token *t)
{
    if (p->n_toks == 0)
        return false;
    size_t at = p->n_toks - 1; /* the failing token */
    /* the open blocks before it, innermost last */
    size_t open[64];
    size_t depth = 0;
    for (size_t i = 0; i < at; i++) {
        if (p->toks[i].kind == TK_LBRACE && depth < 64)
            open[depth++] = i;
        else if (p->toks[i].kind == TK_RBRACE && depth > 0)
            depth--;
    }
    size_t start = at;
    while (start > 0 && p->toks[start - 1].kind != TK_SEMI &&
           p->toks[start - 1].kind != TK_LBRACE && p->toks[start - 1].kind != TK_RBRACE)
        start--;
    const struct lex_token *first = &p->toks[start];
    const char *word = p->src->text + first->off;
    bool eof = t->kind == 0 || (t->flags & LEX_F_VIRT_EOF);
    if (depth > 0 && eof) {
        const struct lex_token *o = &p->toks[open[depth - 1]];
        diag_error(p->diag, tok_span(o), "this '{' is not closed: the file ends first");
        return true;
    }
    int k = first->kind;
    bool top_kw = k == TK_ROUTE || k == TK_BACKEND || k == TK_LISTEN || k == TK_ACL ||
                  k == TK_TEST || k == TK_IMPORT;
    if (depth > 0 && top_kw) {
        const struct lex_token *o = &p->toks[open[depth - 1]];
        diag_error(p->diag, tok_span(first),
                   "'%.*s' belongs at the top level, not inside a block: is a '}' missing?",
                   (int)first->len, word);
        diag_note(p->diag, tok_span(o), "the block opened here is not closed before it");
        return true;
    }
    if (depth == 0 && k == TK_ID && start < at) {
        for (size_t i = 0; i < PARSE_N_TOP_WORDS; i++)
            if (strlen(parse_top_words[i]) == first->len &&
                memcmp(parse_top_words[i], word, first->len) == 0)
                return false; /* a known word: the usual message says more */
        parse_unknown_word(p, first, parse_top_words, PARSE_N_TOP_WORDS, "the top level");
        return true;
    }
    return false;
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
    if (parse_shape_error(p, t)) {
        p->n_syntax++;
        return;
    }
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
        /* At the start of a statement a name is a statement word (set,
         * add, remove) the checker knows; the keywords say more. */
        int prev = at > 0 ? p->toks[at - 1].kind : TK_SEMI;
        bool stmt_start = prev == TK_SEMI || prev == TK_LBRACE || prev == TK_RBRACE;
        if (stmt_start)
            name_ok = false;
        /* keywords are names too; when a name fits, list only "name" */
        int shown[64];
        int n_shown = 0, n_other = 0;
        for (int i = 0; i < n_valid; i++) {
            if (name_ok && lex_kind_is_keyword(valid[i]))
                continue;
            if (!name_ok && valid[i] == TK_ID)
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

        bool want_addr = false;
        for (int i = 0; i < n_valid; i++)
            want_addr |= valid[i] == TK_ADDR;
        const char *text = p->src->text + t->off;
        if (want_addr && t->kind == TK_INT) {
            /* `listen 8080`: an address needs its colon */
            diag_error(p->diag, tok_span(t), "a port alone is not an address: write ':%.*s' "
                       "(every interface) or '127.0.0.1:%.*s'", (int)t->len, text, (int)t->len,
                       text);
            buf_free(&msg);
            return;
        }
        if (want_addr && t->kind == TK_ID) {
            /* `server a localhost:9000`: names are not resolved, so a
             * policy builds to the same proxy on every machine */
            uint32_t n = t->len; /* the whole dotted name, which lexes as several tokens */
            while (text[n] == '.' || text[n] == '-' || (text[n] >= '0' && text[n] <= '9') ||
                   ((text[n] | 0x20) >= 'a' && (text[n] | 0x20) <= 'z'))
                n++;
            bool local = n == 9 && memcmp(text, "localhost", 9) == 0;
            diag_error(p->diag, (struct span){t->off, n}, "'%.*s' is a host name, and an "
                       "address is needed here: rpx resolves no names, so a policy means the "
                       "same on every machine; write the IP address%s", (int)n, text,
                       local ? " (127.0.0.1 or [::1])" : "");
            buf_free(&msg);
            return;
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
        } else if (stmt_start && p->cur_route && parse_accepts(p, at, TK_RBRACE)) {
            /* Every keyword fits here as a name: list what a route says. */
            buf_puts(&msg, ", expected '}' or a route statement (proxy, respond, deny, "
                           "redirect, tunnel, compress, set, add, remove)");
        } else if (n_shown > 0 && n_shown <= 8) {
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

void parse_listen(struct parse_ctx *p, const struct lex_token *kw, const struct lex_token *addr,
                  struct ast_arg *opts)
{
    struct ast_listen *l = arena_alloc(p->arena, sizeof *l);
    l->kw = tok_span(kw);
    l->addr.tok = tok_span(addr);
    l->opts = opts;
    l->stmts_tail = &l->stmts;
    *p->prog->listens_tail = l;
    p->prog->listens_tail = &l->next;
    p->prog->n_listens++;
    p->cur_listen = l;
}

void parse_listen_stmt(struct parse_ctx *p, const struct lex_token *kw, struct ast_arg *args)
{
    struct ast_listen *l = p->cur_listen;
    if (!l)
        return;
    struct ast_stmt *st = arena_alloc(p->arena, sizeof *st);
    st->kw = tok_span(kw);
    st->args = args;
    *l->stmts_tail = st;
    l->stmts_tail = &st->next;
}

void parse_listen_end(struct parse_ctx *p)
{
    if (p->cur_listen)
        p->cur_listen->has_block = true;
    p->cur_listen = NULL;
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
    s->stmts_tail = &s->stmts;
    *b->servers_tail = s;
    b->servers_tail = &s->next;
    b->n_servers++;
    p->cur_server = s;
}

void parse_server_stmt(struct parse_ctx *p, const struct lex_token *kw, struct ast_arg *args)
{
    struct ast_server *s = p->cur_server;
    if (!s)
        return;
    struct ast_stmt *st = arena_alloc(p->arena, sizeof *st);
    st->kw = tok_span(kw);
    st->args = args;
    *s->stmts_tail = st;
    s->stmts_tail = &st->next;
}

void parse_server_end(struct parse_ctx *p)
{
    if (p->cur_server)
        p->cur_server->has_block = true;
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

struct ast_arg *parse_ref3(struct parse_ctx *p, const struct lex_token *obj,
                           const struct lex_token *field, const struct lex_token *sub)
{
    /* tls.client_cert.subject: the field is "client_cert.subject". */
    struct ast_arg *a = parse_ref(p, obj, sub, NULL, NULL);
    a->field.off = field->off;
    a->field.len = sub->off + sub->len - field->off;
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

void parse_route_begin(struct parse_ctx *p, const struct lex_token *kw)
{
    struct ast_route *r = arena_alloc(p->arena, sizeof *r);
    r->index = p->prog->n_routes;
    r->kw = tok_span(kw);
    r->match.off = kw->off + kw->len;
    r->path = "";
    r->host = "";
    r->actions_tail = &r->actions;
    r->stmts_tail = &r->stmts;
    *p->prog->routes_tail = r;
    p->prog->routes_tail = &r->next;
    p->prog->n_routes++;
    p->cur_route = r;
}

/* Widens the route's matcher span to the token ending at end. */
static void parse_route_extend(struct parse_ctx *p, const struct lex_token *first, uint32_t end)
{
    struct ast_route *r = p->cur_route;
    if (r->match.len == 0)
        r->match.off = first->off;
    r->match.len = end - r->match.off;
}

/* A matcher of a kind the route already has: remembered for check.c. */
static bool parse_matcher_slot(struct parse_ctx *p, struct span *slot, const struct lex_token *kw)
{
    struct ast_route *r = p->cur_route;
    if (slot->len) {
        if (!r->dup_matcher.len) {
            r->dup_matcher = tok_span(kw);
            r->dup_first = *slot;
        }
        return false;
    }
    *slot = tok_span(kw);
    return true;
}

void parse_match_path(struct parse_ctx *p, const struct lex_token *kw, enum parse_path_kind kind,
                      const struct lex_token *str)
{
    struct ast_route *r = p->cur_route;
    if (!r)
        return;
    parse_route_extend(p, kw, str->off + str->len);
    if (!parse_matcher_slot(p, &r->path_kw, kw))
        return;
    r->path_kind = (enum ast_path_kind)kind;
    r->path_tok = tok_span(str);
    if (str->flags & LEX_F_BAD)
        r->bad = true;
    else
        r->path = lex_string_value(p->arena, p->src->text + str->off, str->len, &r->path_len);
}

void parse_match_host(struct parse_ctx *p, const struct lex_token *kw, const struct lex_token *str)
{
    struct ast_route *r = p->cur_route;
    if (!r)
        return;
    parse_route_extend(p, kw, str->off + str->len);
    if (!parse_matcher_slot(p, &r->host_kw, kw))
        return;
    r->host_kind = AST_HOST_EXACT;
    r->host_tok = tok_span(str);
    if (str->flags & LEX_F_BAD)
        r->bad = true;
    else
        r->host = lex_string_value(p->arena, p->src->text + str->off, str->len, &r->host_len);
}

void parse_match_method(struct parse_ctx *p, const struct lex_token *kw, struct ast_arg *methods)
{
    struct ast_route *r = p->cur_route;
    if (!r)
        return;
    parse_route_extend(p, kw, methods->tok.off + methods->tok.len);
    if (!parse_matcher_slot(p, &r->method_kw, kw))
        return;
    r->methods = methods;
    r->bad |= methods->bad;
}

void parse_match_if(struct parse_ctx *p, const struct lex_token *kw, struct ast_expr *e)
{
    struct ast_route *r = p->cur_route;
    if (!r)
        return;
    parse_route_extend(p, kw, e->tok.off + e->tok.len);
    if (!parse_matcher_slot(p, &r->if_kw, kw))
        return;
    r->cond = e;
}

void parse_match_default(struct parse_ctx *p, const struct lex_token *kw)
{
    struct ast_route *r = p->cur_route;
    if (!r)
        return;
    parse_route_extend(p, kw, kw->off + kw->len);
    struct span dflt = {0, 0};
    if (r->is_default)
        dflt = r->match;
    if (!r->is_default)
        r->is_default = true;
    else if (!r->dup_matcher.len) {
        r->dup_matcher = tok_span(kw);
        r->dup_first = dflt;
    }
}

void parse_route_end(struct parse_ctx *p)
{
    struct ast_route *r = p->cur_route;
    if (r) {
        /* the label: the matchers as written, runs of blanks as one space */
        struct buf label = {0};
        const char *t = p->src->text + r->match.off;
        bool blank = false;
        for (uint32_t i = 0; i < r->match.len; i++) {
            char ch = t[i];
            if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') {
                blank = true;
                continue;
            }
            if (blank && label.len)
                buf_putc(&label, ' ');
            blank = false;
            buf_putc(&label, ch);
        }
        r->label = arena_strndup(p->arena, label.data ? label.data : "", label.len);
        buf_free(&label);
    }
    p->cur_route = NULL;
}

void parse_tunnel(struct parse_ctx *p, const struct lex_token *kw)
{
    struct ast_route *r = p->cur_route;
    if (r && !r->tunnel_kw.len)
        r->tunnel_kw = tok_span(kw);
}

static struct ast_stmt *new_stmt(struct parse_ctx *p, const struct lex_token *kw,
                                 struct ast_arg *args)
{
    struct ast_stmt *st = arena_alloc(p->arena, sizeof *st);
    st->kw = tok_span(kw);
    st->args = args;
    return st;
}

/* A statement word the grammar leaves to the checker must be one it knows:
 * anything else is reported here, as a syntax error would be, with the
 * statement it most looks like. */
static bool stmt_word_known(struct parse_ctx *p, const struct lex_token *kw,
                            const char *const *words, size_t n, const char *where)
{
    static const char *const known[] = {"set",   "add",     "remove", "via",
                                        "strip", "rewrite", "error",  "upstream_path",
                                        "log",   "limit", "auth", "methods", "body_size"};
    const char *t = p->src->text + kw->off;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strlen(known[i]) == kw->len && memcmp(known[i], t, kw->len) == 0)
            return true;
    if (p->probe)
        return false;
    parse_unknown_word(p, kw, words, n, where);
    p->n_syntax++;
    return false;
}

const char *const parse_route_words[] = {"proxy", "respond",  "deny", "redirect", "tunnel",
                                         "cache", "compress", "set",  "add",      "remove",
                                         "strip", "rewrite",  "purge", "metrics", "status", "log",
                                         "limit", "auth", "methods", "body_size"};
const size_t parse_n_route_words = sizeof parse_route_words / sizeof parse_route_words[0];

void parse_route_stmt(struct parse_ctx *p, const struct lex_token *kw, struct ast_arg *args)
{
    struct ast_route *r = p->cur_route;
    if (!r || !stmt_word_known(p, kw, parse_route_words, parse_n_route_words, "a route"))
        return;
    struct ast_stmt *st = new_stmt(p, kw, args);
    *r->stmts_tail = st;
    r->stmts_tail = &st->next;
}

void parse_top_stmt(struct parse_ctx *p, const struct lex_token *kw, struct ast_arg *args)
{
    if (!stmt_word_known(p, kw, parse_top_words, PARSE_N_TOP_WORDS, "the top level"))
        return;
    struct ast_stmt *st = new_stmt(p, kw, args);
    *p->prog->stmts_tail = st;
    p->prog->stmts_tail = &st->next;
}

void parse_compress(struct parse_ctx *p, const struct lex_token *kw, struct ast_arg *codings)
{
    struct ast_route *r = p->cur_route;
    if (!r)
        return;
    if (r->compress) {
        /* The statements of a second block still parse, into a scratch
         * node nobody reads. */
        if (!r->dup_compress.len)
            r->dup_compress = tok_span(kw);
    }
    struct ast_compress *cp = arena_alloc(p->arena, sizeof *cp);
    cp->kw = tok_span(kw);
    cp->codings = codings;
    cp->stmts_tail = &cp->stmts;
    if (!r->compress)
        r->compress = cp;
    p->block_tail = &cp->stmts_tail;
}

void parse_cache(struct parse_ctx *p, const struct lex_token *kw, struct ast_arg *args)
{
    struct ast_route *r = p->cur_route;
    if (!r)
        return;
    if (r->cache && !r->dup_cache.len)
        r->dup_cache = tok_span(kw); /* a second block parses into a scratch node */
    struct ast_cache *ca = arena_alloc(p->arena, sizeof *ca);
    ca->kw = tok_span(kw);
    ca->args = args;
    ca->stmts_tail = &ca->stmts;
    if (!r->cache)
        r->cache = ca;
    p->block_tail = &ca->stmts_tail;
}

void parse_block_stmt(struct parse_ctx *p, const struct lex_token *kw, struct ast_arg *args)
{
    if (!p->block_tail)
        return;
    struct ast_stmt *st = arena_alloc(p->arena, sizeof *st);
    st->kw = tok_span(kw);
    st->args = args;
    **p->block_tail = st;
    *p->block_tail = &st->next;
}

struct ast_expr *parse_guard(struct parse_ctx *p, const struct lex_token *kw, struct ast_expr *e,
                             bool unless)
{
    (void)p;
    e->guard_kw = tok_span(kw);
    e->unless = unless;
    return e;
}

void parse_action(struct parse_ctx *p, const struct lex_token *kw, enum parse_action_kind kind,
                  const struct lex_token *arg, const struct lex_token *body, struct ast_expr *guard)
{
    struct ast_route *r = p->cur_route;
    if (!r)
        return;
    struct ast_action *a = arena_alloc(p->arena, sizeof *a);
    a->kind = (enum ast_action_kind)kind;
    a->kw = tok_span(kw);
    a->status = UINT32_MAX;
    if (guard) {
        a->guard = guard;
        a->unless = guard->unless;
        a->guard_kw = guard->guard_kw;
    }
    if (kind == PARSE_ACT_PROXY) {
        a->backend_name = tok_span(arg);
    } else if (kind == PARSE_ACT_PURGE || kind == PARSE_ACT_METRICS || kind == PARSE_ACT_STATUS) {
        a->status = 200; /* an answer the proxy makes */
    } else {
        a->status_tok = tok_span(arg);
        if (arg->flags & LEX_F_BAD)
            a->status_bad = true;
        else if (!parse_uint(p->src->text + arg->off, arg->len, 99999, &a->status))
            a->status = UINT32_MAX;
    }
    a->body = "";
    if (body) {
        a->has_body = true;
        a->body_tok = tok_span(body);
        if (body->flags & LEX_F_BAD)
            a->status_bad = true;
        else
            a->body = lex_string_value(p->arena, p->src->text + body->off, body->len, &a->body_len);
    }
    *r->actions_tail = a;
    r->actions_tail = &a->next;
    r->n_actions++;
}

void parse_status(struct parse_ctx *p, const struct lex_token *kw, const struct lex_token *word,
                  struct ast_expr *guard)
{
    if (word) {
        const char *t = p->src->text + word->off;
        if (word->len != 5 || memcmp(t, "admin", 5) != 0) {
            if (!p->probe)
                diag_error(p->diag, tok_span(word),
                           "unexpected '%.*s': the form is 'status [admin]'", (int)word->len, t);
            return;
        }
    }
    struct ast_route *r = p->cur_route;
    if (!r)
        return;
    parse_action(p, kw, PARSE_ACT_STATUS, NULL, NULL, guard);
    struct ast_action *a = r->actions;
    while (a && a->next)
        a = a->next;
    if (a && word) {
        a->admin = true;
        a->status_tok = tok_span(word); /* explain shows the action as written */
    }
}

void parse_redirect_https(struct parse_ctx *p, const struct lex_token *kw,
                          const struct lex_token *word, const struct lex_token *status,
                          struct ast_expr *guard)
{
    const char *t = p->src->text + word->off;
    if (word->len != 5 || memcmp(t, "https", 5) != 0) {
        if (!p->probe)
            diag_error(p->diag, tok_span(word), "unexpected '%.*s': the forms are 'redirect "
                       "STATUS \"URL\"' and 'redirect https [STATUS]'", (int)word->len, t);
        return;
    }
    struct ast_route *r = p->cur_route;
    if (!r)
        return;
    parse_action(p, kw, PARSE_ACT_REDIRECT, status ? status : word, NULL, guard);
    struct ast_action *a = r->actions;
    while (a->next)
        a = a->next;
    if (!status) {
        a->status = 301;
        a->status_bad = false;
    }
    static const char url[] = "https://${req.host}${req.uri}";
    a->has_body = true;
    a->body_tok = tok_span(word);
    a->body = url;
    a->body_len = sizeof url - 1;
}

void parse_action_file(struct parse_ctx *p, const struct lex_token *kw, enum parse_action_kind kind,
                       const struct lex_token *arg, const struct lex_token *file_kw,
                       const struct lex_token *path, struct ast_expr *guard)
{
    const char *t = p->src->text + file_kw->off;
    if (file_kw->len != 4 || memcmp(t, "file", 4) != 0) {
        if (!p->probe) {
            diag_error(p->diag, tok_span(file_kw), "unexpected '%.*s': a body is \"TEXT\" or "
                       "file \"PATH\"", (int)file_kw->len, t);
            p->n_syntax++;
        }
        return;
    }
    parse_action(p, kw, kind, arg, path, guard);
    struct ast_route *r = p->cur_route;
    if (r && r->actions_tail != &r->actions) {
        struct ast_action *a = r->actions;
        while (a->next)
            a = a->next;
        a->from_file = true;
    }
}

static struct ast_expr *parse_expr_new(struct parse_ctx *p, enum ast_expr_kind kind)
{
    struct ast_expr *e = arena_alloc(p->arena, sizeof *e);
    e->kind = kind;
    return e;
}

struct ast_expr *parse_expr_bin(struct parse_ctx *p, enum ast_expr_kind kind, struct ast_expr *l,
                                struct ast_expr *r)
{
    struct ast_expr *e = parse_expr_new(p, kind);
    e->l = l;
    e->r = r;
    e->tok.off = l->tok.off;
    e->tok.len = r->tok.off + r->tok.len - l->tok.off;
    return e;
}

struct ast_expr *parse_expr_not(struct parse_ctx *p, const struct lex_token *kw,
                                struct ast_expr *x)
{
    struct ast_expr *e = parse_expr_new(p, AST_E_NOT);
    e->l = x;
    e->op = tok_span(kw);
    e->tok.off = kw->off;
    e->tok.len = x->tok.off + x->tok.len - kw->off;
    return e;
}

struct ast_expr *parse_expr_paren(struct parse_ctx *p, const struct lex_token *open,
                                  struct ast_expr *e, const struct lex_token *close)
{
    (void)p;
    e->tok.off = open->off;
    e->tok.len = close->off + close->len - open->off;
    return e;
}

struct ast_expr *parse_expr_cmp(struct parse_ctx *p, enum ast_cmp cmp, struct ast_arg *lhs,
                                const struct lex_token *op, struct ast_arg *rhs)
{
    struct ast_expr *e = parse_expr_new(p, AST_E_CMP);
    e->cmp = cmp;
    e->lhs = lhs;
    e->rhs = rhs;
    if (op)
        e->op = tok_span(op);
    e->tok.off = lhs->tok.off;
    struct span last = rhs ? rhs->tok : lhs->tok;
    e->tok.len = last.off + last.len - lhs->tok.off;
    return e;
}

void parse_acl(struct parse_ctx *p, const struct lex_token *kw, const struct lex_token *name,
               struct ast_expr *e)
{
    struct ast_acl *a = arena_alloc(p->arena, sizeof *a);
    a->kw = tok_span(kw);
    a->name = tok_span(name);
    a->expr = e;
    *p->prog->acls_tail = a;
    p->prog->acls_tail = &a->next;
    p->prog->n_acls++;
}

void parse_definition(struct parse_ctx *p, const struct lex_token *kw,
                      const struct lex_token *name, struct ast_arg *args)
{
    static const char *const words[] = {"limit"};
    const char *t = p->src->text + kw->off;
    if (!(kw->len == 5 && memcmp(t, "limit", 5) == 0)) {
        if (p->probe)
            return;
        parse_unknown_word(p, kw, words, 1, "a definition 'WORD NAME = ...'");
        p->n_syntax++;
        return;
    }
    struct ast_limit *l = arena_alloc(p->arena, sizeof *l);
    l->kw = tok_span(kw);
    l->name = tok_span(name);
    l->args = args;
    *p->prog->limits_tail = l;
    p->prog->limits_tail = &l->next;
    p->prog->n_limits++;
}

void parse_import(struct parse_ctx *p, const struct lex_token *kw, const struct lex_token *path)
{
    if (p->probe)
        return;
    struct ast_import *im = arena_alloc(p->arena, sizeof *im);
    im->kw = tok_span(kw);
    im->path_tok = tok_span(path);
    size_t n = 0;
    im->path = (path->flags & LEX_F_BAD)
                   ? NULL
                   : lex_string_value(p->arena, p->src->text + path->off, path->len, &n);
    *p->prog->imports_tail = im;
    p->prog->imports_tail = &im->next;
    if (!im->path)
        return;
    if (!p->opts || !p->opts->imports) {
        diag_error(p->diag, im->path_tok,
                   "import is not available for a policy that is not a file");
        return;
    }
    if (n == 0 || strlen(im->path) != n) {
        diag_error(p->diag, im->path_tok, "an import needs a file name");
        return;
    }
    /* parse_program reads the file once the parser is back in its loop:
     * what the file holds stands where the import does */
    int idx = resolve_import(p->src, p->diag, p->opts, p->file, im);
    if (idx > 0)
        p->import_file = (uint32_t)idx;
}

void parse_test_begin(struct parse_ctx *p, const struct lex_token *kw, const struct lex_token *name)
{
    struct ast_test *t = arena_alloc(p->arena, sizeof *t);
    t->kw = tok_span(kw);
    t->name_tok = tok_span(name);
    size_t n;
    t->name = (name->flags & LEX_F_BAD)
                  ? ""
                  : lex_string_value(p->arena, p->src->text + name->off, name->len, &n);
    t->expects_tail = &t->expects;
    *p->prog->tests_tail = t;
    p->prog->tests_tail = &t->next;
    p->prog->n_tests++;
    p->cur_test = t;
}

void parse_test_request(struct parse_ctx *p, const struct lex_token *kw,
                        const struct lex_token *method, const struct lex_token *url,
                        struct ast_arg *args)
{
    struct ast_test *t = p->cur_test;
    if (!t)
        return;
    if (t->req_kw.len) {
        if (!t->extra_req.len)
            t->extra_req = tok_span(kw);
        return;
    }
    t->req_kw = tok_span(kw);
    t->method = tok_span(method);
    t->url_tok = tok_span(url);
    size_t n;
    t->url = (url->flags & LEX_F_BAD)
                 ? ""
                 : lex_string_value(p->arena, p->src->text + url->off, url->len, &n);
    t->req_args = args;
}

void parse_test_expect(struct parse_ctx *p, const struct lex_token *kw, struct ast_arg *args)
{
    struct ast_test *t = p->cur_test;
    if (!t)
        return;
    struct ast_stmt *st = arena_alloc(p->arena, sizeof *st);
    st->kw = tok_span(kw);
    st->args = args;
    *t->expects_tail = st;
    t->expects_tail = &st->next;
}

void parse_test_end(struct parse_ctx *p)
{
    p->cur_test = NULL;
}
