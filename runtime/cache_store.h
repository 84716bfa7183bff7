/* cache_store.h: the cache's objects, shared by every worker thread of the
 * process, bounded in bytes.
 *
 * Sharded by the key's hash, each shard under its own mutex, so no global
 * lock sits on the hit path. An object is one allocation (key, variant,
 * tags, an opaque metadata block the cache step writes, and the body),
 * immutable once inserted and reference counted: a reader streams a hit
 * while another thread replaces or evicts it, and the memory goes when the
 * last reference does.
 *
 * Several objects may share a key: the variants of a response that has
 * Vary, told apart by their `variant` bytes (rp_vary_key). Inserting an
 * object replaces the one with the same key and variant.
 *
 * Eviction is S3-FIFO (Yang et al., SOSP 2023) per shard: new objects enter
 * a small FIFO (10% of the shard's bytes); those hit again while there move
 * to the main FIFO, the others leave and their hashes go to a ghost FIFO;
 * an object whose hash is a ghost enters main directly; main reinserts an
 * object with hits (its count decremented) instead of evicting it. On
 * skewed traffic this keeps more of the hot set than LRU does, and a hit
 * only bumps a small counter (no list moves under the lock).
 */
#ifndef RP_CACHE_STORE_H
#define RP_CACHE_STORE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hash.h"

struct rp_cache_store;

struct rp_cache_obj {
    /* for the store; read-only to others */
    struct rp_cache_obj *hnext;   /* hash chain within the shard */
    struct rp_cache_obj *qnext;   /* its FIFO (small or main), toward the newest */
    struct rp_cache_obj *qprev;   /* ... toward the oldest: purges unlink from the middle */
    atomic_uint refs;
    atomic_uchar freq;            /* hits while resident, saturating at 3 */
    uint8_t queue;                /* which FIFO */
    bool linked;                  /* in the table (false once replaced or evicted) */
    uint64_t hash;                /* of the key */
    size_t charge;                /* bytes counted against the bound */
    /* set by rp_cache_obj_new; contents filled by the caller before insert */
    char *key;
    uint32_t key_len;
    char *variant;                /* rp_vary_key's bytes; empty when no Vary */
    uint32_t variant_len;
    char *tags;                   /* Surrogate-Key / Cache-Tag names, each followed by
                                     a NUL; tags_len bytes in all */
    uint32_t tags_len;
    char *meta;                   /* the cache step's: times, status, head fields */
    uint32_t meta_len;
    char *body;
    uint64_t body_len;
};

/* A store of at most max_bytes (objects' charges: their allocation plus a
 * fixed overhead each) in n_shards shards (a power of two). NULL when out
 * of memory. */
struct rp_cache_store *rp_cache_store_new(uint64_t max_bytes, unsigned n_shards);
void rp_cache_store_free(struct rp_cache_store *s);

/* The hash the store files a key under (callers pass it back, so a key is
 * hashed once per request). */
static inline uint64_t rp_cache_hash(const char *key, size_t len)
{
    return rp_hash_bytes(key, len, 0);
}

/* A new object, not yet in any store, with one reference (the caller's),
 * its buffers allocated with it: key and variant copied in, tags, meta and
 * body of the given sizes to fill. NULL when out of memory. It knows no
 * store: ask rp_cache_store_fits before building a large object
 * (rp_cache_insert refuses one that does not fit). */
struct rp_cache_obj *rp_cache_obj_new(const char *key, uint32_t key_len, const char *variant,
                                      uint32_t variant_len, uint32_t tags_len, uint32_t meta_len,
                                      uint64_t body_len);

/* Could an object of this total size ever be stored (under the bound, with
 * room for others: at most an eighth of a shard)? */
bool rp_cache_store_fits(const struct rp_cache_store *s, uint64_t bytes);

/* Takes and drops a reference. The last drop frees the object. */
void rp_cache_obj_ref(struct rp_cache_obj *o);
void rp_cache_obj_unref(struct rp_cache_obj *o);

/* Inserts o (the store takes its own reference; the caller keeps its own),
 * replacing the object with the same key and variant, evicting as needed.
 * Returns false when o cannot fit, or when o is or was in a store (an
 * object is inserted once); it is not inserted. */
bool rp_cache_insert(struct rp_cache_store *s, struct rp_cache_obj *o);

/* The first object under key (with hash h) for which match(o, arg) is true
 * (match NULL: the first), with a reference the caller drops; counts a hit
 * on it. NULL: none. match runs under the shard's lock: it must be quick
 * and must not call the store. */
struct rp_cache_obj *rp_cache_lookup(struct rp_cache_store *s, const char *key, size_t len,
                                     uint64_t h,
                                     bool (*match)(const struct rp_cache_obj *o, void *arg),
                                     void *arg);

/* Removes one object if it is still in the store (a stale one replaced by
 * nothing, e.g. after a revalidation said it is gone). */
void rp_cache_remove(struct rp_cache_store *s, struct rp_cache_obj *o);

/* Purges: every variant under key; every object whose key starts with
 * prefix; every object carrying tag. Each returns how many objects went. */
uint64_t rp_cache_purge_key(struct rp_cache_store *s, const char *key, size_t len);
uint64_t rp_cache_purge_prefix(struct rp_cache_store *s, const char *prefix, size_t len);
uint64_t rp_cache_purge_tag(struct rp_cache_store *s, const char *tag, size_t len);

/* Every object in the store, oldest first within each shard, each with a
 * reference the caller drops; *out is malloc'd (free it). Returns how many
 * (0 with *out NULL when empty or out of memory). For handing the store to
 * a successor process (upgrade.h). */
size_t rp_cache_store_snapshot(struct rp_cache_store *s, struct rp_cache_obj ***out);

struct rp_cache_stats {
    uint64_t objects, bytes, max_bytes;
    uint64_t lookups, hits, inserts, evictions, purged;
};
void rp_cache_store_stats(struct rp_cache_store *s, struct rp_cache_stats *st);

#endif
