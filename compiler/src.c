/* src.c: loading policy text, offsets to line:col. */
#include "src.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

int src_read(struct src *s, const char *path)
{
    memset(s, 0, sizeof *s);
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    struct buf b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(&b, chunk, n);
    int err = ferror(f) ? errno : 0;
    fclose(f);
    if (err) {
        buf_free(&b);
        errno = err ? err : EIO;
        return -1;
    }
    if (b.len > UINT32_MAX - 16) {
        buf_free(&b);
        errno = EFBIG;
        return -1;
    }
    buf_append(&b, "", 0); /* guarantees the NUL sentinel */
    s->name = path;
    s->text = b.data;
    s->len = b.len;
    return 0;
}

void src_from_string(struct src *s, const char *name, const char *text, size_t len)
{
    struct buf b = {0};
    buf_append(&b, text, len);
    s->name = name;
    s->text = b.data;
    s->len = b.len;
}

void src_free(struct src *s)
{
    free(s->text);
    s->text = NULL;
    s->len = 0;
}

void src_line_col(const struct src *s, size_t off, unsigned *line, unsigned *col)
{
    unsigned l = 1, c = 1;
    if (off > s->len)
        off = s->len;
    for (size_t i = 0; i < off; i++) {
        unsigned char ch = (unsigned char)s->text[i];
        if (ch == '\n') {
            l++;
            c = 1;
        } else if ((ch & 0xc0) != 0x80) {
            c++;
        }
    }
    *line = l;
    *col = c;
}

size_t src_line_at(const struct src *s, size_t off, size_t *start)
{
    if (off > s->len)
        off = s->len;
    size_t a = off;
    while (a > 0 && s->text[a - 1] != '\n')
        a--;
    size_t e = off;
    while (e < s->len && s->text[e] != '\n')
        e++;
    *start = a;
    return e - a;
}
