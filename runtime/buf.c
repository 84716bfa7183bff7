/* buf.c: the buffer pool. Each worker owns one, so no locking. */
#include <stdlib.h>

#include "buf.h"

struct rp_buf *rp_buf_get(struct rp_buf_pool *pool)
{
    struct rp_buf *b = pool->free;
    if (b) {
        pool->free = b->next;
        pool->n_free--;
    } else {
        b = malloc(sizeof *b);
        if (!b)
            return NULL;
    }
    b->start = b->end = 0;
    b->next = NULL;
    atomic_store_explicit(&pool->in_use,
                          atomic_load_explicit(&pool->in_use, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    return b;
}

void rp_buf_put(struct rp_buf_pool *pool, struct rp_buf *b)
{
    if (!b)
        return;
    atomic_store_explicit(&pool->in_use,
                          atomic_load_explicit(&pool->in_use, memory_order_relaxed) - 1,
                          memory_order_relaxed);
    if (pool->n_free >= pool->max_free) {
        free(b);
        return;
    }
    b->next = pool->free;
    pool->free = b;
    pool->n_free++;
}

void rp_buf_pool_clear(struct rp_buf_pool *pool)
{
    while (pool->free) {
        struct rp_buf *b = pool->free;
        pool->free = b->next;
        free(b);
    }
    pool->n_free = 0;
}
