/* filter.h: body filters, a chain over a message's decoded body bytes.
 *
 * A route with no filter relays bodies as they were framed, zero copy: the
 * fast path. A filter (compression today; a cache store or a rewriter
 * later) needs the body itself, so the relay decodes it (chunked framing
 * off), runs it through the chain, and frames what comes out again for the
 * client: chunked for HTTP/1.1, until close for HTTP/1.0. The chain owns its
 * filters' states and the buffers between them; output goes to the caller's
 * buffer, so back-pressure is the caller's as for any relay: a full output
 * buffer stops the chain, and the chain stops taking input.
 */
#ifndef RP_FILTER_H
#define RP_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

/* What a filter is asked to do with the input it is given. */
enum rp_filter_mode {
    RP_FILTER_MORE,   /* more input follows: keep what helps the output */
    RP_FILTER_FLUSH,  /* the input stalls: put out everything it allows so far */
    RP_FILTER_FINISH, /* the input ends here */
};

/* A filter: `run` reads in[0..in_len) and writes to out[0..room), setting
 * *used and *made. Returns 1 once `finish` was asked and every byte is out,
 * 0 to go on (also when it could not move: no room, nothing to read), -1 on
 * an error (the exchange fails). */
struct rp_filter_ops {
    const char *name;
    int (*run)(void *st, const char *in, size_t in_len, size_t *used, char *out, size_t room,
               size_t *made, enum rp_filter_mode mode);
    void (*free)(void *st);
};

#define RP_FILTERS_MAX 4

struct rp_body_filters {
    uint32_t n;
    struct rp_filter_stage {
        const struct rp_filter_ops *ops;
        void *st;
        struct rp_buf *out;   /* its output, the next stage's input (not the last's) */
        enum rp_filter_mode given; /* the mode its input last came with */
        bool finished;
    } stage[RP_FILTERS_MAX];
    bool chunked;  /* the output is framed in chunks; otherwise raw, ended by a close */
    bool finished; /* the last stage finished and, when chunked, the last chunk is out */
    struct rp_buf_pool *pool;
};

/* An empty chain; `chunked`: how the output is framed. */
void rp_filters_init(struct rp_body_filters *ch, struct rp_buf_pool *pool, bool chunked);

/* Appends a filter with its state (the chain frees it). Returns -1 when the
 * chain is full or a buffer is not to be had; the state is freed then too. */
int rp_filters_add(struct rp_body_filters *ch, const struct rp_filter_ops *ops, void *st);

/* Moves decoded body bytes in[0..n) through the chain, appending its framed
 * output to `out` while there is room. `mode` applies to these bytes: FINISH
 * with the body's last ones (n may be 0). Returns how many bytes of `in`
 * were taken (the rest must be offered again), or -1 on a filter's error.
 * ch->finished tells when the body is complete in `out`. */
ssize_t rp_filters_run(struct rp_body_filters *ch, const char *in, size_t n,
                       enum rp_filter_mode mode, struct rp_buf *out);

/* Frees the filters' states and buffers. */
void rp_filters_free(struct rp_body_filters *ch);

#endif
