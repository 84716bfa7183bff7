/* diag.h: compiler diagnostics in the one format the golden tests pin:
 *
 *     file.rp:12:17: error: unknown backend 'billing'
 *         route path "/pay" { proxy billing }
 *                                   ^~~~~~~
 *
 * The source line is indented by 4 spaces (tabs and control bytes shown as
 * one space so the caret lines up), `^` under the first character of the
 * span and `~` under the rest. A diagnostic without a location prints as
 * `file.rp: error: ...` with no source line. */
#ifndef RPX_DIAG_H
#define RPX_DIAG_H

#include <stdbool.h>
#include <stdio.h>

#include "src.h"

/* After this many errors a stage stops early; the count is still exact. */
#define DIAG_MAX_ERRORS 100

struct diag {
    FILE *out;             /* where diagnostics go (stderr); NULL = count only */
    const struct src *src; /* borrowed for the compilation */
    bool werror;           /* warnings count, and print, as errors */
    unsigned n_errors;
    unsigned n_warnings;
};

void diag_init(struct diag *d, const struct src *src, FILE *out);
void diag_error(struct diag *d, struct span at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void diag_warning(struct diag *d, struct span at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A note belongs to the diagnostic printed just before it. */
void diag_note(struct diag *d, struct span at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A diagnostic about the whole file: no line, no caret. */
void diag_file_error(struct diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The closest of n candidates to word by edit distance (insert, delete,
 * substitute, swap neighbours), or -1 if none is close enough to suggest. */
int diag_closest(const char *word, size_t len, const char *const *cands, size_t n);
/* Edit distance between two byte strings (optimal string alignment). */
size_t diag_edit_distance(const char *a, size_t alen, const char *b, size_t blen);

#endif
