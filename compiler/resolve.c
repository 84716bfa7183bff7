/* resolve.c: the file an `import` names: the standard library or a path
 * relative to the importing file, checked for cycles, depth and repeats. */
#include "resolve.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* The import chain, for a diagnostic about file `file`: a note at each
 * import that led to it, innermost first. */
static void resolve_chain(const struct src *s, struct diag *d, uint32_t file)
{
    for (int f = (int)file; f > 0 && s->files[f].parent >= 0; f = s->files[f].parent)
        diag_note(d, s->files[f].import, "'%s' is imported from here", s->files[f].name);
}

static bool module_name_ok(const char *m)
{
    if (!*m)
        return false;
    for (const char *c = m; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '_' || *c == '-' || *c == '.'))
            return false;
    return m[0] != '.';
}

/* Where the file is (fs) and how diagnostics name it (shown). False when
 * the name cannot be a file (reported). */
static bool resolve_path(const struct src *s, struct diag *d, const struct parse_opts *opts,
                         uint32_t from, const struct ast_import *im, struct buf *fs,
                         struct buf *shown)
{
    const struct src_file *f = &s->files[from];
    struct span at = im->path_tok;
    if (strncmp(im->path, "std/", 4) == 0) {
        const char *m = im->path + 4;
        size_t mlen = strlen(m);
        bool has_rp = mlen > 3 && strcmp(m + mlen - 3, ".rp") == 0;
        if (!module_name_ok(m)) {
            diag_error(d, at, "'%s' is not a standard module name (std/NAME)", im->path);
            return false;
        }
        if (!opts->std_dir) {
            diag_error(d, at, "cannot import '%s': the standard library is not installed",
                       im->path);
            diag_note(d, at, "rpx looks in $RPX_HOME/std, else ../lib/rpx/std beside rpx");
            return false;
        }
        buf_printf(fs, "%s/%s%s", opts->std_dir, m, has_rp ? "" : ".rp");
        buf_printf(shown, "std/%s%s", m, has_rp ? "" : ".rp");
    } else if (im->path[0] == '/') {
        buf_puts(fs, im->path);
        buf_puts(shown, im->path);
    } else {
        /* relative to the importing file: its real directory, and the
         * directory part of the name it is shown by */
        if (!f->real) {
            diag_error(d, at, "cannot import '%s': the importing file has no directory", im->path);
            return false;
        }
        const char *rs = strrchr(f->real, '/');
        buf_printf(fs, "%.*s/%s", (int)(rs - f->real), f->real, im->path);
        const char *ss = strrchr(f->name, '/');
        if (ss)
            buf_printf(shown, "%.*s/", (int)(ss - f->name), f->name);
        buf_puts(shown, im->path);
    }
    return true;
}

/* Why the file at real is not read again: -1 (reported where it is an
 * error), or 0 when it is new. */
static int resolve_seen(const struct src *s, struct diag *d, uint32_t from,
                        const struct ast_import *im, const char *real)
{
    /* a cycle: the file is on the chain being imported */
    unsigned depth = 0;
    for (int f = (int)from; f >= 0; f = s->files[f].parent, depth++) {
        const char *r = s->files[f].real;
        if (r && strcmp(r, real) == 0) {
            diag_error(d, im->path_tok, "import cycle: '%s' is already being imported",
                       s->files[f].name);
            resolve_chain(s, d, from);
            return -1;
        }
    }
    if (depth > RESOLVE_MAX_IMPORT_DEPTH) {
        diag_error(d, im->path_tok, "imports nested too deeply (more than %d)",
                   RESOLVE_MAX_IMPORT_DEPTH);
        return -1;
    }
    /* imported before: twice by one file is a mistake; by two files (a
     * diamond) it is included once, where it was first imported */
    for (uint32_t f = 1; f < s->n_files; f++) {
        const struct src_file *g = &s->files[f];
        if (!g->real || strcmp(g->real, real) != 0)
            continue;
        if (g->parent == (int)from) {
            diag_error(d, im->path_tok, "duplicate import of '%s'", g->name);
            diag_note(d, g->import, "first imported here");
        }
        return -1;
    }
    return 0;
}

int resolve_import(struct src *s, struct diag *d, const struct parse_opts *opts, uint32_t from,
                   const struct ast_import *im)
{
    struct buf fs = {0}, shown = {0};
    int idx = -1;
    bool is_std = strncmp(im->path, "std/", 4) == 0;
    bool from_std = s->files[from].is_std; /* before src_add_file moves files */
    if (!resolve_path(s, d, opts, from, im, &fs, &shown))
        goto done;
    char *real = realpath(fs.data, NULL);
    if (!real) {
        if (is_std)
            diag_error(d, im->path_tok, "no standard module '%s'", im->path);
        else
            diag_error(d, im->path_tok, "cannot import '%s': %s", shown.data, strerror(errno));
        goto done;
    }
    if (resolve_seen(s, d, from, im, real) == 0) {
        idx = src_add_file(s, fs.data, shown.data, (int)from, im->path_tok);
        if (idx < 0)
            diag_error(d, im->path_tok, "cannot import '%s': %s", shown.data, strerror(errno));
        else
            s->files[idx].is_std = is_std || from_std;
    }
    free(real);
done:
    buf_free(&fs);
    buf_free(&shown);
    return idx;
}
