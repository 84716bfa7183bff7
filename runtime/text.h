/* text.h: a growing text for answers the proxy writes itself (the metrics
 * exposition, the status page's JSON). Out of memory is remembered, not
 * reported at each step: the caller checks once, at the end. */
#ifndef RP_TEXT_H
#define RP_TEXT_H

#include <stdbool.h>
#include <stddef.h>

struct rp_text {
    char *p;
    size_t n, cap;
    bool oom;
};

/* An empty text with room for cap bytes (oom set when even that fails). */
void rp_text_init(struct rp_text *t, size_t cap);

__attribute__((format(printf, 2, 3))) void rp_text_add(struct rp_text *t, const char *fmt, ...);

/* s as a JSON string, quotes included (RFC 8259: ", \ and controls escaped). */
void rp_text_json(struct rp_text *t, const char *s);

/* The malloc'd bytes (*len of them), or NULL (and freed) when memory ran out. */
char *rp_text_take(struct rp_text *t, size_t *len);

#endif
