/* date.h: the Date field (RFC 9110 6.6.1) the proxy writes on its own
 * responses and adds to relayed ones that lack it. Formatting a date costs
 * more than the rest of a small response head, so each worker keeps the
 * line for the current second. */
#ifndef RP_DATE_H
#define RP_DATE_H

#include <stdint.h>
#include <time.h>

#include "buf.h"

struct rp_date {
    time_t second;  /* the second `line` shows; 0: none yet */
    uint32_t len;
    char line[48];  /* "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n" */
};

/* The Date line for `now` (seconds since the epoch, e.g. ev_now), made
 * again only when the second changes. Sets *len. */
const char *rp_date_line(struct rp_date *d, double now, uint32_t *len);

/* Appends that line to b; returns 0, or -1 when it does not fit. */
static inline int rp_date_add(struct rp_date *d, double now, struct rp_buf *b)
{
    uint32_t len;
    const char *line = rp_date_line(d, now, &len);
    return rp_buf_add(b, line, len);
}

#endif
