/* src.c: loading policy text (the main file and its imports), offsets to
 * file:line:col. */
#include "src.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* Reads the whole file into b (appending). Returns 0 or -1 with errno. */
static int src_slurp(struct buf *b, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(b, chunk, n);
    int err = ferror(f) ? errno : 0;
    fclose(f);
    if (err) {
        errno = err;
        return -1;
    }
    if (b->len > UINT32_MAX - 16) {
        errno = EFBIG;
        return -1;
    }
    return 0;
}

/* Registers text[off .. s->len - 1) (the last byte is its NUL) as a file. */
static int src_register(struct src *s, const char *name, size_t off, int parent, struct span at)
{
    struct src_file *fs = realloc(s->files, (s->n_files + 1) * sizeof *fs);
    if (!fs)
        rpx_oom();
    s->files = fs;
    struct src_file *f = &fs[s->n_files];
    memset(f, 0, sizeof *f);
    f->name = strdup(name);
    if (!f->name)
        rpx_oom();
    f->off = off;
    f->len = s->len - 1 - off;
    f->parent = parent;
    f->import = at;
    /* the line table: one entry per line start */
    uint32_t cap = 64;
    f->lines = malloc(cap * sizeof *f->lines);
    if (!f->lines)
        rpx_oom();
    f->lines[f->n_lines++] = (uint32_t)off;
    for (size_t i = off; i < off + f->len; i++) {
        if (s->text[i] != '\n')
            continue;
        if (f->n_lines == cap) {
            cap *= 2;
            uint32_t *l = realloc(f->lines, cap * sizeof *l);
            if (!l)
                rpx_oom();
            f->lines = l;
        }
        f->lines[f->n_lines++] = (uint32_t)(i + 1);
    }
    return (int)s->n_files++;
}

int src_read(struct src *s, const char *path)
{
    memset(s, 0, sizeof *s);
    struct buf b = {0};
    if (src_slurp(&b, path) != 0) {
        int err = errno;
        buf_free(&b);
        errno = err;
        return -1;
    }
    buf_append(&b, "", 1); /* the sentinel */
    s->name = path;
    s->text = b.data;
    s->len = b.len;
    struct span none = {0, 0};
    src_register(s, path, 0, -1, none);
    s->files[0].real = realpath(path, NULL);
    return 0;
}

void src_from_string(struct src *s, const char *name, const char *text, size_t len)
{
    memset(s, 0, sizeof *s);
    struct buf b = {0};
    buf_append(&b, text, len);
    buf_append(&b, "", 1);
    s->name = name;
    s->text = b.data;
    s->len = b.len;
    struct span none = {0, 0};
    src_register(s, name, 0, -1, none);
}

int src_add_file(struct src *s, const char *path, const char *name, int parent, struct span at)
{
    struct buf b = {0};
    if (src_slurp(&b, path) != 0 || s->len + b.len + 1 > UINT32_MAX - 16) {
        int err = errno ? errno : EFBIG;
        buf_free(&b);
        errno = err;
        return -1;
    }
    char *t = realloc(s->text, s->len + b.len + 1);
    if (!t)
        rpx_oom();
    s->text = t;
    size_t off = s->len;
    if (b.len)
        memcpy(t + off, b.data, b.len);
    t[off + b.len] = '\0';
    s->len = off + b.len + 1;
    buf_free(&b);
    int i = src_register(s, name, off, parent, at);
    s->files[i].real = realpath(path, NULL);
    return i;
}

void src_free(struct src *s)
{
    for (uint32_t i = 0; i < s->n_files; i++) {
        free(s->files[i].name);
        free(s->files[i].real);
        free(s->files[i].lines);
    }
    free(s->files);
    s->files = NULL;
    s->n_files = 0;
    free(s->text);
    s->text = NULL;
    s->len = 0;
}

uint32_t src_file_of(const struct src *s, size_t off)
{
    uint32_t lo = 0, hi = s->n_files;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (s->files[mid].off <= off)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

const char *src_name_at(const struct src *s, size_t off)
{
    if (!s->n_files)
        return s->name;
    return s->files[src_file_of(s, off)].name;
}

void src_line_col(const struct src *s, size_t off, unsigned *line, unsigned *col)
{
    if (!s->n_files) {
        *line = *col = 1;
        return;
    }
    const struct src_file *f = &s->files[src_file_of(s, off)];
    if (off > f->off + f->len)
        off = f->off + f->len;
    /* the last line start at or before off */
    uint32_t lo = 0, hi = f->n_lines;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (f->lines[mid] <= off)
            lo = mid;
        else
            hi = mid;
    }
    unsigned c = 1;
    for (size_t i = f->lines[lo]; i < off; i++)
        if (((unsigned char)s->text[i] & 0xc0) != 0x80)
            c++;
    *line = lo + 1;
    *col = c;
}

size_t src_line_at(const struct src *s, size_t off, size_t *start)
{
    size_t fo = 0, fe = s->len;
    if (s->n_files) {
        const struct src_file *f = &s->files[src_file_of(s, off)];
        fo = f->off;
        fe = f->off + f->len;
    }
    if (off > fe)
        off = fe;
    size_t a = off;
    while (a > fo && s->text[a - 1] != '\n')
        a--;
    size_t e = off;
    while (e < fe && s->text[e] != '\n')
        e++;
    *start = a;
    return e - a;
}

size_t src_utf8_bad(const char *text, size_t n)
{
    const unsigned char *u = (const unsigned char *)text;
    size_t i = 0;
    while (i < n) {
        unsigned c = u[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        unsigned lo = 0x80, hi = 0xbf; /* the second byte's range */
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            if (c == 0xe0)
                lo = 0xa0; /* overlong */
            else if (c == 0xed)
                hi = 0x9f; /* surrogates */
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            if (c == 0xf0)
                lo = 0x90; /* overlong */
            else if (c == 0xf4)
                hi = 0x8f; /* past U+10FFFF */
        } else {
            return i;
        }
        if (i + len > n || u[i + 1] < lo || u[i + 1] > hi)
            return i;
        for (size_t k = 2; k < len; k++)
            if (u[i + k] < 0x80 || u[i + k] > 0xbf)
                return i;
        i += len;
    }
    return n;
}
