/* body.h: a message body's framing as it streams through a buffer: where
 * it ends (relayed as framed), or its bytes decoded (for body filters).
 * Types and inline functions only; body.c has the chunked cases. */
#ifndef RP_BODY_H
#define RP_BODY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "rp/http1.h"

/* How a message body is delimited, and how much of it has been seen. */
struct rp_body {
    enum rp_http1_body kind;
    bool done;
    uint64_t left; /* RP_HTTP1_BODY_LENGTH: bytes still to come */
    struct rp_chunked chunked;
    /* Bytes of a chunked body's trailer section scanned but not yet ready:
     * they wait until the section is complete, to be filtered. */
    uint32_t held;
};

/* The longest trailer section relayed; a longer one is malformed. */
#define RP_TRAILER_MAX (8 * 1024)

/* Reads the body bytes that arrived in `buf` after its first `ready` bytes
 * (body bytes scanned before and not yet sent) and returns how many more are
 * ready to send, or -1 for a malformed body. Bytes after the body's end are
 * left unread in buf. A chunked body's trailer section is held back until
 * it is complete, then stripped of the fields that may not be trailers
 * (rp_trailer_filter), so what follows in buf moves down. */
static inline ssize_t rp_body_advance(struct rp_body *b, struct rp_buf *buf, uint32_t ready);

/* rp_body_advance for RP_HTTP1_BODY_CHUNKED. */
ssize_t rp_body_advance_chunked(struct rp_body *b, struct rp_buf *buf, uint32_t ready);

/* Inline: every request and response goes through it, and the framings
 * other than chunked are a few instructions. */
static inline ssize_t rp_body_advance(struct rp_body *b, struct rp_buf *buf, uint32_t ready)
{
    if (b->kind == RP_HTTP1_BODY_CHUNKED)
        return rp_body_advance_chunked(b, buf, ready);
    uint32_t n = buf->end - buf->start - ready;
    if (b->done || n == 0)
        return 0;
    switch (b->kind) {
    case RP_HTTP1_BODY_NONE:
        b->done = true;
        return 0;
    case RP_HTTP1_BODY_LENGTH: {
        uint32_t take = n < b->left ? n : (uint32_t)b->left;
        b->left -= take;
        b->done = b->left == 0;
        return (ssize_t)take;
    }
    case RP_HTTP1_BODY_CLOSE:
        return (ssize_t)n; /* done only when the sender closes */
    case RP_HTTP1_BODY_CHUNKED:
        break;
    }
    return -1;
}

/* Decodes, in place, the body bytes that arrived in `buf` after its first
 * `ready` bytes (decoded body bytes not yet used): chunk framing and
 * trailers are dropped, data moves down to follow the ready bytes, and
 * bytes after the body's end move down behind them. Returns how many more
 * decoded bytes are ready, or -1 for a malformed body. */
ssize_t rp_body_decode(struct rp_body *b, struct rp_buf *buf, uint32_t ready);

#endif
