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
        pool->n_alloc++;
    }
    b->start = b->end = 0;
    b->next = NULL;
    return b;
}

void rp_buf_put(struct rp_buf_pool *pool, struct rp_buf *b)
{
    if (!b)
        return;
    if (!RP_POOLS_KEEP || pool->n_free >= pool->max_free) {
        free(b);
        pool->n_alloc--;
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
        pool->n_alloc--;
    }
    pool->n_free = 0;
    rp_buf_publish(pool);
}
