/* buf.h: fixed-size I/O buffers and the per-worker pool they come from.
 *
 * A buffer holds the bytes [start, end) of `data`. Buffers never grow: a
 * request head that does not fit is refused (431), and bodies stream through
 * with back-pressure, so a connection's memory is bounded by its buffers.
 * Idle connections give their buffers back to the pool, so ten thousand idle
 * keep-alive clients cost a few hundred bytes each, not a buffer each.
 */
#ifndef RP_BUF_H
#define RP_BUF_H

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

/* 32 KB: on 1 MB bodies, twice HAProxy's 16 KB buffers measured 10-20 %
 * more requests/s here (fewer reads and writes per byte), at 128 KB per
 * exchange in flight; idle connections hold no buffer. */
#define RP_BUF_SIZE (32 * 1024)

/* The default and largest request head (limits { header_size }); the
 * compiler refuses more. Heads above it get 431. */
#define RP_HEAD_MAX (16 * 1024)

/* Under AddressSanitizer the per-worker pools (buffers, exchanges,
 * connections) keep nothing: what is given back is freed, so a use after
 * release is reported instead of reading a pooled object. */
#if defined(__SANITIZE_ADDRESS__)
#define RP_POOLS_KEEP 0
#else
#define RP_POOLS_KEEP 1
#endif

struct rp_buf {
    uint32_t start;        /* first unread byte */
    uint32_t end;          /* one past the last byte */
    struct rp_buf *next;   /* free-list link while in the pool */
    char data[RP_BUF_SIZE];
};

struct rp_buf_pool {
    struct rp_buf *free;
    uint32_t max_free; /* buffers kept for reuse; the rest go back to malloc */
    uint32_t n_free;   /* buffers in the pool */
    uint32_t n_alloc;  /* buffers allocated and not freed: n_alloc - n_free in use */
    /* n_alloc - n_free as the owner last published it (rp_buf_publish), for
     * other threads: the request path pays nothing for the accounting. */
    _Atomic uint32_t in_use;
    /* Other memory the owner's exchanges hold (body filters' states, such as
     * zlib's), counted with the buffers against limits { memory }. */
    _Atomic uint64_t other_bytes;
};

/* Publishes the pool's buffers in use; by its owner. */
static inline void rp_buf_publish(struct rp_buf_pool *pool)
{
    atomic_store_explicit(&pool->in_use, pool->n_alloc - pool->n_free, memory_order_relaxed);
}

/* Buffers of `pool` in use when its owner last published them; any thread. */
static inline uint32_t rp_buf_in_use(const struct rp_buf_pool *pool)
{
    return atomic_load_explicit(&pool->in_use, memory_order_relaxed);
}

/* Returns an empty buffer, or NULL when memory is exhausted. */
struct rp_buf *rp_buf_get(struct rp_buf_pool *pool);

/* Gives a buffer back to the pool; NULL is accepted. */
void rp_buf_put(struct rp_buf_pool *pool, struct rp_buf *b);

/* Frees every pooled buffer (at worker exit). */
void rp_buf_pool_clear(struct rp_buf_pool *pool);

static inline uint32_t rp_buf_len(const struct rp_buf *b)
{
    return b->end - b->start;
}

static inline uint32_t rp_buf_room(const struct rp_buf *b)
{
    return RP_BUF_SIZE - b->end;
}

/* Moves the unread bytes to the front so reads have the most room. */
static inline void rp_buf_compact(struct rp_buf *b)
{
    if (b->start == 0)
        return;
    memmove(b->data, b->data + b->start, b->end - b->start);
    b->end -= b->start;
    b->start = 0;
}

/* Appends n bytes; returns 0, or -1 (nothing written) when they do not fit. */
static inline int rp_buf_add(struct rp_buf *b, const void *p, size_t n)
{
    if (n > rp_buf_room(b))
        return -1;
    memcpy(b->data + b->end, p, n);
    b->end += (uint32_t)n;
    return 0;
}

#define RP_BUF_ADD_LIT(b, lit) rp_buf_add((b), (lit), sizeof(lit) - 1)

/* Appends v in decimal. snprintf costs more than the rest of a small
 * request's head handling, so the hot path formats numbers itself. */
static inline int rp_buf_add_u64(struct rp_buf *b, uint64_t v)
{
    char tmp[20];
    int n = 0;
    do {
        tmp[sizeof tmp - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return rp_buf_add(b, tmp + sizeof tmp - n, (size_t)n);
}

#endif
