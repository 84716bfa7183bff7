/* src.h: a policy's source text, and turning byte offsets into file:line:col
 * (done only when a diagnostic or a generated comment needs it).
 *
 * A policy may import other files. All of them live in one text buffer, one
 * after the other, each followed by a NUL (the lexer's sentinel), so a span
 * (an offset and a length) names a place in any file of the compilation and
 * the AST needs no file pointer. */
#ifndef RPX_SRC_H
#define RPX_SRC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A stretch of the source: tokens, names, sub-parts of tokens. */
struct span {
    uint32_t off;
    uint32_t len;
};

struct src_file {
    char *name;          /* as shown in diagnostics; owned */
    char *real;          /* realpath (imports: cycle and duplicate checks); owned, may be NULL */
    size_t off, len;     /* the file's text: text[off .. off + len), a NUL follows */
    uint32_t *lines;     /* offsets (into text) of each line's start; owned */
    uint32_t n_lines;
    int parent;          /* index of the importing file; -1 for the main file */
    struct span import;  /* the import's path string in the parent */
    bool is_std;         /* from the standard library */
};

struct src {
    const char *name; /* the main file, as given on the command line; borrowed */
    char *text;       /* every file, each followed by a NUL; owned */
    size_t len;       /* bytes in text, sentinels included */
    struct src_file *files; /* owned; files[0] is the main file */
    uint32_t n_files;
};

/* Reads the whole file as the main file. Returns 0, or -1 with errno set.
 * Release with src_free. */
int src_read(struct src *s, const char *path);
/* Copies text (which may contain NULs) into s as the main file. */
void src_from_string(struct src *s, const char *name, const char *text, size_t len);
/* Appends the file at path, shown as name, imported from parent at span at.
 * Returns its index, or -1 with errno set. s->text may move: pointers into
 * it are invalid afterwards (spans stay valid). */
int src_add_file(struct src *s, const char *path, const char *name, int parent, struct span at);
void src_free(struct src *s);

/* The offset of the first byte of text[0..n) that is not well-formed UTF-8
 * (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF), or n
 * if there is none. */
size_t src_utf8_bad(const char *text, size_t n);

/* The index of the file holding offset off. */
uint32_t src_file_of(const struct src *s, size_t off);
/* The name of the file holding offset off. */
const char *src_name_at(const struct src *s, size_t off);
/* 1-based line and column of offset within its file (columns count
 * characters: UTF-8 continuation bytes do not advance the column). */
void src_line_col(const struct src *s, size_t off, unsigned *line, unsigned *col);
/* The line holding offset: sets *start and returns its length without '\n'. */
size_t src_line_at(const struct src *s, size_t off, size_t *start);

#endif
