/* bytes.c: growable runs of bytes (bytes.h). */
#include <stdlib.h>
#include <string.h>

#include "bytes.h"

bool bytes_add(struct bytes *b, const void *data, size_t n)
{
    if (!n)
        return true;
    if (b->start + b->len + n > b->cap) {
        if (b->start) {
            memmove(b->p, b->p + b->start, b->len);
            b->start = 0;
        }
        if (b->len + n > b->cap) {
            size_t cap = b->cap ? b->cap : 1024;
            while (cap < b->len + n)
                cap *= 2;
            char *p = realloc(b->p, cap);
            if (!p)
                return false;
            b->p = p;
            b->cap = cap;
        }
    }
    memcpy(b->p + b->start + b->len, data, n);
    b->len += n;
    return true;
}

bool bytes_str(struct bytes *b, const char *s)
{
    return bytes_add(b, s, strlen(s));
}

void bytes_take(struct bytes *b, size_t n)
{
    b->start += n;
    b->len -= n;
    if (!b->len)
        b->start = 0;
}

void bytes_clear(struct bytes *b)
{
    b->start = b->len = 0;
}

void bytes_free(struct bytes *b)
{
    free(b->p);
    *b = (struct bytes){0};
}

size_t hex_put(char *out, size_t n)
{
    char tmp[16];
    size_t k = 0;
    do {
        tmp[k++] = "0123456789abcdef"[n & 15];
        n >>= 4;
    } while (n);
    for (size_t i = 0; i < k; i++)
        out[i] = tmp[k - 1 - i];
    return k;
}
