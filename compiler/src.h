/* src.h: a policy's source text, and turning byte offsets into line:col
 * (done only when a diagnostic is printed). */
#ifndef RPX_SRC_H
#define RPX_SRC_H

#include <stddef.h>
#include <stdint.h>

struct src {
    const char *name; /* as given on the command line; borrowed */
    char *text;       /* len bytes plus a NUL sentinel; owned */
    size_t len;
};

/* A stretch of the source: tokens, names, sub-parts of tokens. */
struct span {
    uint32_t off;
    uint32_t len;
};

/* Reads the whole file. Returns 0, or -1 with errno set. Release with src_free. */
int src_read(struct src *s, const char *path);
/* Copies text (which may contain NULs) into s. */
void src_from_string(struct src *s, const char *name, const char *text, size_t len);
void src_free(struct src *s);

/* 1-based line and column of offset (columns count characters: UTF-8
 * continuation bytes do not advance the column). */
void src_line_col(const struct src *s, size_t off, unsigned *line, unsigned *col);
/* The line holding offset: sets *start and returns its length without '\n'. */
size_t src_line_at(const struct src *s, size_t off, size_t *start);

#endif
