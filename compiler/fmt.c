/* fmt.c: the canonical layout of a policy (see fmt.h).
 *
 * Works on tokens, not on the tree: the lexer gives every token's place in
 * the text, comments and blank lines are found in the gaps between tokens,
 * and whether a block or a list was written over several lines is read from
 * the text between its brackets. Output is collected as lines first so that
 * trailing comments can be aligned at the end. */
#include "fmt.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "grammar.h"
#include "lex.h"

struct fmt_line {
    char *code;    /* indentation included; owned (may hold NULs: strings can) */
    size_t code_len;
    char *comment; /* trailing comment or NULL; owned */
    size_t comment_len;
    bool blank;
};

struct fmt_ctx {
    int kind;   /* TK_LBRACE, TK_LPAREN or TK_LBRACKET */
    bool multi; /* written over several lines */
};

struct fmt {
    const struct src *src;
    struct fmt_line *lines;
    size_t n_lines, cap_lines;
    struct buf cur;     /* the line being built, without indentation */
    int cur_indent;
    struct fmt_ctx stack[256];
    int depth;
    bool brk;           /* the next token starts a new line */
    bool sep;           /* a `;` is due before the next statement of a one-line block */
    int prev, prev2;    /* kinds of the last two tokens output */
};

static int fmt_indent(const struct fmt *f)
{
    int n = 0;
    for (int i = 0; i < f->depth; i++)
        n += f->stack[i].multi;
    return n;
}

static struct fmt_line *fmt_push_line(struct fmt *f)
{
    if (f->n_lines == f->cap_lines) {
        f->cap_lines = f->cap_lines ? 2 * f->cap_lines : 64;
        f->lines = realloc(f->lines, f->cap_lines * sizeof *f->lines);
        if (!f->lines)
            rpx_oom();
    }
    struct fmt_line *l = &f->lines[f->n_lines++];
    memset(l, 0, sizeof *l);
    return l;
}

static char *fmt_strdup(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d)
        rpx_oom();
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

/* Ends the line being built, if any. */
static void fmt_flush(struct fmt *f)
{
    if (!f->cur.len)
        return;
    struct buf b = {0};
    for (int i = 0; i < f->cur_indent; i++)
        buf_puts(&b, "    ");
    buf_append(&b, f->cur.data, f->cur.len);
    struct fmt_line *l = fmt_push_line(f);
    l->code = fmt_strdup(b.data, b.len);
    l->code_len = b.len;
    buf_free(&b);
    f->cur.len = 0;
}

/* A blank line, unless at the start, after a blank or after a line that
 * opens a block or list. */
static void fmt_blank(struct fmt *f)
{
    fmt_flush(f);
    if (!f->n_lines)
        return;
    const struct fmt_line *last = &f->lines[f->n_lines - 1];
    if (last->blank)
        return;
    size_t n = last->code_len;
    if (!last->comment && n && (last->code[n - 1] == '{' || last->code[n - 1] == '[' ||
                                last->code[n - 1] == '('))
        return;
    fmt_push_line(f)->blank = true;
}

static void fmt_put(struct fmt *f, const char *s, size_t n, bool space)
{
    if (!f->cur.len)
        f->cur_indent = fmt_indent(f);
    else if (space)
        buf_putc(&f->cur, ' ');
    buf_append(&f->cur, s, n);
}

static bool fmt_is_opener(int k)
{
    return k == TK_LPAREN || k == TK_LBRACKET;
}

/* Reads the comments and blank lines in text[from, to): own-line comments
 * become lines, a comment after code on the same line becomes that line's
 * trailing comment. Returns true if the gap holds a newline. *blank is set
 * if a blank line comes after the last comment (before what follows). */
static bool fmt_gap(struct fmt *f, size_t from, size_t to, bool at_start, bool *blank)
{
    const char *t = f->src->text;
    unsigned nl = 0; /* newlines since the last code or comment */
    bool any_nl = false;
    *blank = false;
    for (size_t i = from; i < to; i++) {
        if (t[i] == '\n') {
            nl++;
            any_nl = true;
            continue;
        }
        if (t[i] != '#')
            continue;
        size_t e = i;
        while (e < to && t[e] != '\n')
            e++;
        size_t n = e - i;
        while (n > 0 && (t[i + n - 1] == ' ' || t[i + n - 1] == '\t' || t[i + n - 1] == '\r'))
            n--;
        if (nl == 0 && !at_start) {
            /* after code: this line's (or, if it was just ended, the last
             * line's) trailing comment */
            if (f->cur.len) {
                fmt_flush(f);
            }
            if (f->n_lines && !f->lines[f->n_lines - 1].comment &&
                !f->lines[f->n_lines - 1].blank) {
                f->lines[f->n_lines - 1].comment = fmt_strdup(t + i, n);
                f->lines[f->n_lines - 1].comment_len = n;
            } else {
                fmt_put(f, t + i, n, false);
                fmt_flush(f);
            }
        } else {
            if (nl >= 2 && !at_start)
                fmt_blank(f);
            fmt_flush(f);
            fmt_put(f, t + i, n, false);
            fmt_flush(f);
        }
        at_start = false;
        f->brk = true;
        nl = 0;
        i = e - 1;
    }
    *blank = nl >= 2 && !at_start;
    return any_nl;
}

/* Whether text[from, to) holds a newline. */
static bool fmt_has_nl(const struct fmt *f, size_t from, size_t to)
{
    return memchr(f->src->text + from, '\n', to - from) != NULL;
}

void fmt_policy(struct buf *out, const struct src *s)
{
    struct fmt f;
    memset(&f, 0, sizeof f);
    f.src = s;
    struct diag quiet;
    diag_init(&quiet, s, NULL);

    /* the real tokens (no virtual `;`), then each opener's closer */
    struct lex_token *toks = NULL;
    size_t n = 0, cap = 0;
    struct lexer lx;
    lex_init(&lx, s, &quiet, 0);
    struct lex_token t;
    while (lex_next(&lx, &t) != 0) {
        if (t.flags & (LEX_F_VIRT_NL | LEX_F_VIRT_RB | LEX_F_VIRT_EOF))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            toks = realloc(toks, cap * sizeof *toks);
            if (!toks)
                rpx_oom();
        }
        toks[n++] = t;
    }
    size_t *close = calloc(n + 1, sizeof *close);
    size_t *open = calloc(n + 1, sizeof *open);
    if (!close || !open)
        rpx_oom();
    size_t sp = 0;
    for (size_t i = 0; i < n; i++) {
        int k = toks[i].kind;
        close[i] = n;
        if (k == TK_LBRACE || k == TK_LPAREN || k == TK_LBRACKET)
            open[sp++] = i;
        else if ((k == TK_RBRACE || k == TK_RPAREN || k == TK_RBRACKET) && sp)
            close[open[--sp]] = i;
    }

    const struct src_file *file = &s->files[0];
    size_t prev_end = file->off;
    f.brk = true;
    for (size_t i = 0; i < n; i++) {
        const struct lex_token *tk = &toks[i];
        int k = tk->kind;
        bool blank;
        bool nl = fmt_gap(&f, prev_end, tk->off, i == 0, &blank);
        prev_end = tk->off + tk->len;
        bool in_group = false;
        for (int d = 0; d < f.depth; d++)
            in_group |= f.stack[d].kind != TK_LBRACE;
        const struct fmt_ctx *top = f.depth ? &f.stack[f.depth - 1] : NULL;
        bool block_multi = !top || (top->kind == TK_LBRACE && top->multi);
        bool closes = (k == TK_RBRACE || k == TK_RPAREN || k == TK_RBRACKET) && top;

        if (k == TK_SEMI) {
            /* statements joined by `;` on one line stay so; a `;` at the
             * end of a line or of a block goes */
            f.sep = true;
            continue;
        }
        if ((nl && !in_group && block_multi) || (closes && top->multi))
            f.brk = true;
        if (f.brk) {
            if (blank && !closes)
                fmt_blank(&f);
            fmt_flush(&f);
            f.brk = false;
            f.sep = false;
        }
        if (f.sep) {
            if (k != TK_RBRACE)
                fmt_put(&f, ";", 1, false);
            f.sep = false;
        }

        const char *text = s->text + tk->off;
        switch (k) {
        case TK_LBRACE: {
            fmt_put(&f, "{", 1, true);
            bool multi = fmt_has_nl(&f, tk->off, close[i] < n ? toks[close[i]].off : s->len);
            if (f.depth < 256)
                f.stack[f.depth++] = (struct fmt_ctx){k, multi};
            if (multi)
                f.brk = true;
            break;
        }
        case TK_RBRACE:
            if (f.depth)
                f.depth--;
            fmt_put(&f, "}", 1, true);
            f.brk = true;
            break;
        case TK_LPAREN:
        case TK_LBRACKET: {
            bool call = (k == TK_LPAREN && f.prev == TK_ID) ||
                        (k == TK_LBRACKET && f.prev2 == TK_DOT);
            fmt_put(&f, text, 1, !call && !fmt_is_opener(f.prev));
            bool multi = fmt_has_nl(&f, tk->off, close[i] < n ? toks[close[i]].off : s->len);
            if (f.depth < 256)
                f.stack[f.depth++] = (struct fmt_ctx){k, multi};
            if (multi)
                f.brk = true;
            break;
        }
        case TK_RPAREN:
        case TK_RBRACKET:
            if (f.depth)
                f.depth--;
            fmt_put(&f, text, 1, false);
            break;
        case TK_COMMA:
            fmt_put(&f, ",", 1, false);
            if (top && top->kind != TK_LBRACE && top->multi)
                f.brk = true;
            break;
        default: {
            bool space = !(fmt_is_opener(f.prev) || k == TK_DOT || f.prev == TK_DOT);
            fmt_put(&f, text, tk->len, space);
            break;
        }
        }
        f.prev2 = f.prev;
        f.prev = k;
    }
    bool blank;
    fmt_gap(&f, prev_end, file->off + file->len, n == 0, &blank);
    fmt_flush(&f);
    while (f.n_lines && f.lines[f.n_lines - 1].blank)
        f.n_lines--;

    /* trailing comments: aligned over each run of lines that have them */
    for (size_t i = 0; i < f.n_lines;) {
        if (!f.lines[i].comment) {
            if (!f.lines[i].blank)
                buf_append(out, f.lines[i].code, f.lines[i].code_len);
            buf_putc(out, '\n');
            i++;
            continue;
        }
        size_t j = i, width = 0;
        while (j < f.n_lines && f.lines[j].comment) {
            if (f.lines[j].code_len > width)
                width = f.lines[j].code_len;
            j++;
        }
        for (; i < j; i++) {
            buf_append(out, f.lines[i].code, f.lines[i].code_len);
            buf_printf(out, "%*s", (int)(width - f.lines[i].code_len + 1), "");
            buf_append(out, f.lines[i].comment, f.lines[i].comment_len);
            buf_putc(out, '\n');
        }
    }
    for (size_t i = 0; i < f.n_lines + 0; i++) {
        free(f.lines[i].code);
        free(f.lines[i].comment);
    }
    free(f.lines);
    buf_free(&f.cur);
    free(toks);
    free(close);
    free(open);
}
