/* body.c: the chunked cases of body.h: relaying a chunked body with its
 * trailer section filtered, and decoding a body for filters. */
#include <string.h>

#include "body.h"

ssize_t rp_body_advance_chunked(struct rp_body *b, struct rp_buf *buf, uint32_t ready)
{
    char *fresh = buf->data + buf->start + ready + b->held;
    size_t n_fresh = (size_t)(buf->data + buf->end - fresh);
    if (b->done || n_fresh == 0)
        return 0;
    bool was_trailer = b->chunked.in_trailer;
    ssize_t n = rp_chunked_scan(&b->chunked, fresh, n_fresh, &b->done);
    if (n < 0 || !b->chunked.in_trailer)
        return n;
    /* Bytes from the trailer section's start on are held. */
    size_t released = was_trailer ? 0 : b->chunked.trailer_at;
    b->held += (uint32_t)((size_t)n - released);
    if (!b->done)
        return b->held > RP_TRAILER_MAX ? -1 : (ssize_t)released;
    /* The section begins where this call's released bytes end (at ready
     * itself when it began in an earlier call). */
    char *section = buf->data + buf->start + ready + released;
    size_t kept = rp_trailer_filter(section, b->held);
    if (kept < b->held) {
        char *after = section + b->held;
        memmove(section + kept, after, (size_t)(buf->data + buf->end - after));
        buf->end -= b->held - (uint32_t)kept;
    }
    released += kept;
    b->held = 0;
    return (ssize_t)released;
}

ssize_t rp_body_decode(struct rp_body *b, struct rp_buf *buf, uint32_t ready)
{
    if (b->kind != RP_HTTP1_BODY_CHUNKED)
        return rp_body_advance(b, buf, ready); /* the bytes are the data */
    char *p = buf->data + buf->start + ready;
    size_t n = (size_t)(buf->data + buf->end - p);
    if (b->done || n == 0)
        return 0;
    size_t data;
    ssize_t used = rp_chunked_decode(&b->chunked, p, n, &data, &b->done);
    if (used < 0)
        return -1;
    /* What follows the body (the next response, which makes the server
     * connection unusable) stays right behind the data. */
    memmove(p + data, p + used, n - (size_t)used);
    buf->end -= (uint32_t)((size_t)used - data);
    return (ssize_t)data;
}
