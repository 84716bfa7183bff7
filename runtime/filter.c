/* filter.c: the body filter chain (filter.h) and the framing of its output. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"

/* Room the chunk framing needs around one chunk's data in the output
 * buffer: its size line (at most 8 hex digits for a 32 KiB buffer, and
 * CRLF), the CRLF after it, and the last chunk with an empty trailer
 * section, so finishing never waits for more room. */
#define CHUNK_LINE_MAX 10
#define LAST_CHUNK "0\r\n\r\n"
#define CHUNK_RESERVE (CHUNK_LINE_MAX + 2 + sizeof LAST_CHUNK - 1)

/* Less room than this in the output and the last stage waits for it to
 * drain: chunks of a few bytes would cost more framing than data. */
#define OUT_MIN 64

void rp_filters_init(struct rp_body_filters *ch, struct rp_buf_pool *pool, bool chunked)
{
    memset(ch, 0, sizeof *ch);
    ch->pool = pool;
    ch->chunked = chunked;
}

int rp_filters_add(struct rp_body_filters *ch, const struct rp_filter_ops *ops, void *st)
{
    if (ch->n == RP_FILTERS_MAX) {
        ops->free(st);
        return -1;
    }
    /* The stage that was last now feeds this one, through a buffer. */
    if (ch->n > 0) {
        struct rp_buf *b = rp_buf_get(ch->pool);
        if (!b) {
            ops->free(st);
            return -1;
        }
        ch->stage[ch->n - 1].out = b;
    }
    ch->stage[ch->n++] = (struct rp_filter_stage){.ops = ops, .st = st};
    return 0;
}

void rp_filters_free(struct rp_body_filters *ch)
{
    for (uint32_t i = 0; i < ch->n; i++) {
        ch->stage[i].ops->free(ch->stage[i].st);
        rp_buf_put(ch->pool, ch->stage[i].out);
    }
    ch->n = 0;
}

/* Runs the last stage straight into `out`, each run's output one chunk. */
static int run_last(struct rp_body_filters *ch, struct rp_filter_stage *s, const char *in,
                    size_t n, size_t *used, enum rp_filter_mode mode, struct rp_buf *out,
                    size_t *made)
{
    size_t reserve = ch->chunked ? CHUNK_RESERVE : 0;
    size_t room = rp_buf_room(out);
    *used = *made = 0;
    if (room < reserve + OUT_MIN)
        return 0;
    char *data = out->data + out->end + (ch->chunked ? CHUNK_LINE_MAX : 0);
    int rc = s->ops->run(s->st, in, n, used, data, room - reserve, made, mode);
    if (rc < 0)
        return -1;
    if (*made && ch->chunked) {
        char line[CHUNK_LINE_MAX + 1];
        int k = snprintf(line, sizeof line, "%zx\r\n", *made);
        memcpy(out->data + out->end, line, (size_t)k);
        memmove(out->data + out->end + k, data, *made);
        out->end += (uint32_t)k + (uint32_t)*made;
        memcpy(out->data + out->end, "\r\n", 2);
        out->end += 2;
    } else {
        out->end += (uint32_t)*made;
    }
    if (rc == 1) {
        if (ch->chunked)
            rp_buf_add(out, LAST_CHUNK, sizeof LAST_CHUNK - 1); /* fits: reserved */
        ch->finished = true;
    }
    return rc;
}

ssize_t rp_filters_run(struct rp_body_filters *ch, const char *in, size_t n,
                       enum rp_filter_mode mode, struct rp_buf *out)
{
    size_t taken = 0;
    bool moved = true;
    while (moved && !ch->finished) {
        moved = false;
        for (uint32_t i = 0; i < ch->n && !ch->finished; i++) {
            struct rp_filter_stage *s = &ch->stage[i];
            const char *src;
            size_t src_len;
            struct rp_buf *from = NULL;
            if (i == 0) {
                src = in + taken;
                src_len = n - taken;
                s->given = mode;
            } else {
                /* A stage's input ends when the stage before it finished;
                 * it flushes when that one was asked to. */
                struct rp_filter_stage *prev = &ch->stage[i - 1];
                from = prev->out;
                src = from->data + from->start;
                src_len = rp_buf_len(from);
                s->given = prev->finished                   ? RP_FILTER_FINISH
                           : prev->given == RP_FILTER_FLUSH ? RP_FILTER_FLUSH
                                                            : RP_FILTER_MORE;
            }
            size_t used = 0, made = 0;
            int rc;
            if (i == ch->n - 1) {
                rc = run_last(ch, s, src, src_len, &used, s->given, out, &made);
            } else if (s->finished) {
                continue;
            } else {
                struct rp_buf *o = s->out;
                if (rp_buf_room(o) < RP_BUF_SIZE / 2)
                    rp_buf_compact(o);
                rc = s->ops->run(s->st, src, src_len, &used, o->data + o->end, rp_buf_room(o),
                                 &made, s->given);
                o->end += (uint32_t)made;
            }
            if (rc < 0)
                return -1;
            if (rc == 1 && !s->finished) {
                s->finished = true;
                moved = true;
            }
            if (from) {
                from->start += (uint32_t)used;
                if (rp_buf_len(from) == 0)
                    from->start = from->end = 0;
            } else {
                taken += used;
            }
            moved |= used || made;
        }
    }
    return (ssize_t)taken;
}
