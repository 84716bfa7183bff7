/* diag.c: printing diagnostics with the source line and a caret. */
#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

enum diag_kind { DIAG_ERROR, DIAG_WARNING, DIAG_NOTE };

void diag_init(struct diag *d, const struct src *src, FILE *out)
{
    memset(d, 0, sizeof *d);
    d->src = src;
    d->out = out;
}

static void diag_emit(struct diag *d, enum diag_kind kind, const struct span *at, const char *fmt,
                      va_list ap)
{
    const char *label = kind == DIAG_ERROR ? "error" : kind == DIAG_WARNING ? "warning" : "note";
    bool promoted = kind == DIAG_WARNING && d->werror;
    if (kind == DIAG_ERROR || promoted)
        d->n_errors++;
    else if (kind == DIAG_WARNING)
        d->n_warnings++;
    if (promoted)
        label = "error";
    if (!d->out)
        return;

    struct buf b = {0};
    const struct src *s = d->src;
    if (at) {
        unsigned line, col;
        src_line_col(s, at->off, &line, &col);
        buf_printf(&b, "%s:%u:%u: %s: ", src_name_at(s, at->off), line, col, label);
    } else {
        buf_printf(&b, "%s: %s: ", s->name, label);
    }
    buf_vprintf(&b, fmt, ap);
    if (promoted)
        buf_puts(&b, " [-Werror]");
    buf_putc(&b, '\n');

    if (at) {
        size_t start;
        size_t n = src_line_at(s, at->off, &start);
        const unsigned char *line = (const unsigned char *)s->text + start;
        buf_puts(&b, "    ");
        for (size_t i = 0; i < n; i++) {
            unsigned char c = line[i];
            buf_putc(&b, c < 0x20 || c == 0x7f ? ' ' : (char)c);
        }
        buf_puts(&b, "\n    ");
        size_t col_off = at->off - start;
        for (size_t i = 0; i < col_off && i < n; i++)
            if ((line[i] & 0xc0) != 0x80)
                buf_putc(&b, ' ');
        buf_putc(&b, '^');
        /* the rest of the span, clipped to this line */
        size_t end = col_off + at->len;
        if (end > n)
            end = n;
        for (size_t i = col_off + 1; i < end; i++)
            if ((line[i] & 0xc0) != 0x80)
                buf_putc(&b, '~');
        buf_putc(&b, '\n');
    }
    fwrite(b.data, 1, b.len, d->out);
    buf_free(&b);
}

void diag_error(struct diag *d, struct span at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_emit(d, DIAG_ERROR, &at, fmt, ap);
    va_end(ap);
}

void diag_warning(struct diag *d, struct span at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_emit(d, DIAG_WARNING, &at, fmt, ap);
    va_end(ap);
}

void diag_note(struct diag *d, struct span at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_emit(d, DIAG_NOTE, &at, fmt, ap);
    va_end(ap);
}

void diag_file_error(struct diag *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_emit(d, DIAG_ERROR, NULL, fmt, ap);
    va_end(ap);
}

size_t diag_edit_distance(const char *a, size_t alen, const char *b, size_t blen)
{
    /* Names are short; anything long is not worth suggesting for. */
    if (alen > 64 || blen > 64)
        return (size_t)-1;
    size_t d[65][65];
    for (size_t i = 0; i <= alen; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= blen; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= alen; i++) {
        for (size_t j = 1; j <= blen; j++) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < v)
                v = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    }
    return d[alen][blen];
}

int diag_closest(const char *word, size_t len, const char *const *cands, size_t n)
{
    /* one edit per three characters, at least one */
    size_t limit = len / 3 > 1 ? len / 3 : 1;
    int best = -1;
    size_t best_d = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        size_t dist = diag_edit_distance(word, len, cands[i], strlen(cands[i]));
        if (dist > 0 && dist <= limit && dist < best_d) {
            best = (int)i;
            best_d = dist;
        }
    }
    return best;
}
