/* text.c: a growing text (text.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "text.h"

void rp_text_init(struct rp_text *t, size_t cap)
{
    t->p = malloc(cap);
    t->n = 0;
    t->cap = t->p ? cap : 0;
    t->oom = !t->p;
}

void rp_text_add(struct rp_text *t, const char *fmt, ...)
{
    if (t->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(t->p + t->n, t->cap - t->n, fmt, ap);
        va_end(ap);
        if (k < 0) {
            t->oom = true;
            return;
        }
        if ((size_t)k < t->cap - t->n) {
            t->n += (size_t)k;
            return;
        }
        size_t cap = t->cap * 2 + (size_t)k;
        char *p = realloc(t->p, cap);
        if (!p) {
            t->oom = true;
            return;
        }
        t->p = p;
        t->cap = cap;
    }
}

void rp_text_json(struct rp_text *t, const char *s)
{
    rp_text_add(t, "\"");
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            rp_text_add(t, "\\%c", c);
        else if (c < 0x20)
            rp_text_add(t, "\\u%04x", c);
        else
            rp_text_add(t, "%c", c);
    }
    rp_text_add(t, "\"");
}

char *rp_text_take(struct rp_text *t, size_t *len)
{
    if (t->oom) {
        free(t->p);
        t->p = NULL;
        return NULL;
    }
    *len = t->n;
    return t->p;
}
