/* bytes.h: a growable run of bytes, for what has no fixed bound (the
 * HTTP/2 modules' heads and bodies in conversion). The fixed buffers of
 * buf.h stay the proxy's own I/O path. */
#ifndef RP_BYTES_H
#define RP_BYTES_H

#include <stdbool.h>
#include <stddef.h>

/* [start, start + len) of p, cap bytes allocated. Zeroed: empty. */
struct bytes {
    char *p;
    size_t start, len, cap;
};

/* Appends n bytes; false when out of memory (nothing appended). */
bool bytes_add(struct bytes *b, const void *data, size_t n);
bool bytes_str(struct bytes *b, const char *s);

/* Drops n bytes from the front. */
void bytes_take(struct bytes *b, size_t n);

/* Empty, its memory kept. */
void bytes_clear(struct bytes *b);

/* Empty, its memory freed. */
void bytes_free(struct bytes *b);

/* Its first byte; never NULL (an empty run that never held any gives a
 * place to read nothing from). */
static inline char *bytes_at(const struct bytes *b)
{
    static char none[1];
    return b->p ? b->p + b->start : none;
}

/* n in lower-case hexadecimal at out (16 bytes at most); its length. */
size_t hex_put(char *out, size_t n);

#endif
