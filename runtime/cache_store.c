/* cache_store.c: the shared, byte-bounded object store (cache_store.h).
 *
 * Each shard is a chained hash table (buckets doubled when the objects
 * outnumber them, so chains stay about one long), two FIFOs (small, main)
 * threaded through the objects, and a ghost table of recently evicted
 * hashes. Everything but an object's refcount and hit counter changes under
 * the shard's mutex; the memory of objects that leave is released after the
 * mutex is dropped, so free() never runs under it.
 *
 * An object's charge is its one allocation plus RP_CACHE_OBJ_OVERHEAD (64
 * bytes), the memory it costs the store besides itself: malloc's header and
 * rounding (~16), its share of the bucket array (at most 2 pointers, 16:
 * the load factor stays between 1/2 and 1), and its share of the ghost
 * table (at most 4 slots of 8 bytes, 32). Without it a store of many tiny
 * objects would use far more memory than its bound says.
 *
 * The ghost is set-associative rather than a real FIFO: sets of GHOST_WAYS
 * slots, each a 32-bit fingerprint of a hash and the ghost insertion count
 * it entered at. A hash is a ghost while fewer than ghost_cap hashes
 * entered after it (ghost_cap: 9/10 of the shard's objects, what main
 * holds when the store is full, as in the paper); a full set drops its
 * oldest. So membership is a scan of one set, and expiry costs nothing.
 * It has twice as many slots as the index has buckets and is emptied when
 * the index grows (a fingerprint cannot be refiled), which happens only
 * when the shard reaches a new high in objects: a few times while warming.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cache_store.h"

#define RP_CACHE_OBJ_OVERHEAD 64
#define FREQ_MAX 3
#define MIN_BUCKETS 64
#define GHOST_WAYS 8
/* The slack of the shard index over the bucket index bits: shard bits come
 * from the hash's top, bucket bits from its bottom, so they never overlap
 * for any sane table. */
#define SHARD_SHIFT 40

/* Q_GONE: left a store. Such an object is never linked again, because its
 * qnext may still chain it on the list of the thread that unlinked it. */
enum { Q_NONE, Q_SMALL, Q_MAIN, Q_GONE };

struct fifo {
    struct rp_cache_obj *head; /* oldest: the next to go */
    struct rp_cache_obj *tail; /* newest */
    uint64_t bytes, n;
};

struct ghost_slot {
    uint32_t fp;  /* the hash's low half (the set comes from all of it) */
    uint32_t seq; /* 0: empty; ages compare modulo 2^32 */
};

struct shard {
    _Alignas(64) pthread_mutex_t mu; /* own cache line: no false sharing between shards */
    struct rp_cache_obj **buckets;
    size_t n_buckets; /* a power of two */
    struct fifo small, main;
    uint64_t budget;
    struct ghost_slot *ghost;
    size_t ghost_sets; /* a power of two */
    uint32_t ghost_seq;
    uint64_t lookups, hits, inserts, evictions, purged;
};

struct rp_cache_store {
    struct shard *shards;
    unsigned n_shards;
    uint64_t max_bytes;
    uint64_t shard_budget;
};

/* ---- objects ------------------------------------------------------------------ */

/* Offsets within the allocation: meta and body first and aligned (the
 * cache step may lay a struct over meta), then the byte strings. */
#define ALIGN16(x) (((x) + 15) & ~(uint64_t)15)

struct rp_cache_obj *rp_cache_obj_new(const char *key, uint32_t key_len, const char *variant,
                                      uint32_t variant_len, uint32_t tags_len, uint32_t meta_len,
                                      uint64_t body_len)
{
    /* The store is not known here, so its bound cannot be checked: callers
     * ask rp_cache_store_fits, and rp_cache_insert refuses what does not
     * fit. This only refuses sizes that would overflow. */
    if (body_len > (UINT64_MAX >> 2))
        return NULL;
    uint64_t meta_off = ALIGN16(sizeof(struct rp_cache_obj));
    uint64_t body_off = ALIGN16(meta_off + meta_len);
    uint64_t key_off = body_off + body_len;
    uint64_t variant_off = key_off + key_len + 1; /* NUL-terminated, for debuggers and logs */
    uint64_t tags_off = variant_off + variant_len + 1;
    uint64_t size = tags_off + tags_len;
    if ((uint64_t)(size_t)size != size)
        return NULL;
    char *m = malloc((size_t)size);
    if (!m)
        return NULL;
    struct rp_cache_obj *o = (struct rp_cache_obj *)m;
    memset(o, 0, sizeof *o);
    atomic_init(&o->refs, 1);
    atomic_init(&o->freq, 0);
    o->queue = Q_NONE;
    o->charge = (size_t)size + RP_CACHE_OBJ_OVERHEAD;
    o->key = m + key_off;
    o->key_len = key_len;
    if (key_len)
        memcpy(o->key, key, key_len);
    o->key[key_len] = '\0';
    o->variant = m + variant_off;
    o->variant_len = variant_len;
    if (variant_len)
        memcpy(o->variant, variant, variant_len);
    o->variant[variant_len] = '\0';
    o->tags = m + tags_off;
    o->tags_len = tags_len;
    o->meta = m + meta_off;
    o->meta_len = meta_len;
    o->body = m + body_off;
    o->body_len = body_len;
    o->hash = rp_cache_hash(o->key, key_len);
    return o;
}

void rp_cache_obj_ref(struct rp_cache_obj *o)
{
    /* Relaxed: a new reference is made from an existing one, which already
     * orders everything before it. */
    atomic_fetch_add_explicit(&o->refs, 1, memory_order_relaxed);
}

void rp_cache_obj_unref(struct rp_cache_obj *o)
{
    /* Release so whatever a holder did with the object happens before the
     * free; acquire for the last drop, which frees. (acq_rel on every drop
     * rather than a fence after the last: the same instruction on x86, and
     * ThreadSanitizer understands it.) */
    if (atomic_fetch_sub_explicit(&o->refs, 1, memory_order_acq_rel) == 1)
        free(o);
}

/* Objects unlinked under a shard's lock, dropped after it (chained through
 * qnext, which the store no longer uses for them). */
struct victims {
    struct rp_cache_obj *head;
};

static void victims_drop(struct victims *v)
{
    struct rp_cache_obj *o = v->head;
    while (o) {
        struct rp_cache_obj *next = o->qnext;
        rp_cache_obj_unref(o);
        o = next;
    }
    v->head = NULL;
}

/* ---- FIFOs -------------------------------------------------------------------- */

static struct fifo *fifo_of(struct shard *sh, const struct rp_cache_obj *o)
{
    return o->queue == Q_MAIN ? &sh->main : &sh->small;
}

static void fifo_push(struct shard *sh, struct rp_cache_obj *o, uint8_t q)
{
    o->queue = q;
    struct fifo *f = fifo_of(sh, o);
    o->qnext = NULL;
    o->qprev = f->tail;
    if (f->tail)
        f->tail->qnext = o;
    else
        f->head = o;
    f->tail = o;
    f->bytes += o->charge;
    f->n++;
}

static void fifo_remove(struct shard *sh, struct rp_cache_obj *o)
{
    struct fifo *f = fifo_of(sh, o);
    if (o->qprev)
        o->qprev->qnext = o->qnext;
    else
        f->head = o->qnext;
    if (o->qnext)
        o->qnext->qprev = o->qprev;
    else
        f->tail = o->qprev;
    o->qnext = o->qprev = NULL;
    f->bytes -= o->charge;
    f->n--;
    o->queue = Q_NONE;
}

/* ---- the ghost ---------------------------------------------------------------- */

static size_t ghost_set(const struct shard *sh, uint64_t h)
{
    /* Fibonacci hashing: the top bits of a multiply depend on all of h, not
     * just the bits the shard and bucket indexes already used. */
    return (size_t)((h * 0x9e3779b97f4a7c15ull) >> 32) & (sh->ghost_sets - 1);
}

static uint32_t ghost_cap(const struct shard *sh)
{
    uint64_t n = sh->small.n + sh->main.n;
    n = n - n / 10 + 1;
    return n > UINT32_MAX / 2 ? UINT32_MAX / 2 : (uint32_t)n;
}

static uint32_t ghost_age(const struct shard *sh, const struct ghost_slot *g)
{
    return (uint32_t)(sh->ghost_seq - g->seq);
}

static bool ghost_live(const struct shard *sh, const struct ghost_slot *g)
{
    return g->seq != 0 && ghost_age(sh, g) < ghost_cap(sh);
}

static void ghost_add(struct shard *sh, uint64_t h)
{
    if (++sh->ghost_seq == 0)
        sh->ghost_seq = 1;
    struct ghost_slot *set = sh->ghost + ghost_set(sh, h) * GHOST_WAYS;
    /* An empty or expired slot, else the oldest. */
    struct ghost_slot *pick = &set[0];
    for (int i = 0; i < GHOST_WAYS && ghost_live(sh, pick); i++)
        if (!ghost_live(sh, &set[i]) || ghost_age(sh, &set[i]) > ghost_age(sh, pick))
            pick = &set[i];
    pick->fp = (uint32_t)h;
    pick->seq = sh->ghost_seq;
}

/* Is h a ghost? It stops being one (it is coming back). */
static bool ghost_take(struct shard *sh, uint64_t h)
{
    struct ghost_slot *set = sh->ghost + ghost_set(sh, h) * GHOST_WAYS;
    for (int i = 0; i < GHOST_WAYS; i++) {
        if (set[i].fp == (uint32_t)h && ghost_live(sh, &set[i])) {
            set[i].seq = 0;
            return true;
        }
    }
    return false;
}

/* ---- the index ---------------------------------------------------------------- */

static size_t bucket_of(const struct shard *sh, uint64_t h)
{
    return (size_t)h & (sh->n_buckets - 1);
}

static struct shard *shard_of(const struct rp_cache_store *s, uint64_t h)
{
    return &s->shards[(h >> SHARD_SHIFT) & (s->n_shards - 1)];
}

/* Doubles the buckets and the ghost. On allocation failure it keeps the old
 * ones: longer chains, still correct. */
static void grow(struct shard *sh)
{
    size_t nb = sh->n_buckets * 2, ns = sh->ghost_sets * 2;
    struct rp_cache_obj **b = calloc(nb, sizeof *b);
    struct ghost_slot *g = calloc(ns * GHOST_WAYS, sizeof *g);
    if (!b || !g) {
        free(b);
        free(g);
        return;
    }
    for (size_t i = 0; i < sh->n_buckets; i++) {
        struct rp_cache_obj *o = sh->buckets[i];
        while (o) {
            struct rp_cache_obj *next = o->hnext;
            size_t j = (size_t)o->hash & (nb - 1);
            o->hnext = b[j];
            b[j] = o;
            o = next;
        }
    }
    free(sh->buckets);
    sh->buckets = b;
    sh->n_buckets = nb;
    free(sh->ghost);
    sh->ghost = g;
    sh->ghost_sets = ns;
}

static void link_obj(struct shard *sh, struct rp_cache_obj *o, uint8_t q)
{
    if (sh->small.n + sh->main.n >= sh->n_buckets)
        grow(sh);
    size_t i = bucket_of(sh, o->hash);
    o->hnext = sh->buckets[i];
    sh->buckets[i] = o;
    fifo_push(sh, o, q);
    o->linked = true;
}

/* Takes o out of the table and its FIFO; the store's reference goes to v. */
static void unlink_obj(struct shard *sh, struct rp_cache_obj *o, struct victims *v)
{
    struct rp_cache_obj **pp = &sh->buckets[bucket_of(sh, o->hash)];
    while (*pp != o)
        pp = &(*pp)->hnext;
    *pp = o->hnext;
    o->hnext = NULL;
    fifo_remove(sh, o);
    o->linked = false;
    o->queue = Q_GONE;
    o->qnext = v->head;
    v->head = o;
}

static bool same_key(const struct rp_cache_obj *o, uint64_t h, const char *key, size_t len)
{
    return o->hash == h && o->key_len == len && memcmp(o->key, key, len) == 0;
}

/* ---- eviction ----------------------------------------------------------------- */

/* One step of S3-FIFO: either frees an object or moves one along (small to
 * main, or main's oldest back to its tail with a hit less), so repeated
 * calls free bytes after at most a few passes. False: nothing to evict. */
static bool evict_step(struct shard *sh, struct victims *v)
{
    struct rp_cache_obj *o;
    /* Small gives way while over its tenth, or when main has nothing (then
     * small may fill the shard: no space sits idle while main warms up). */
    if (sh->small.head && (sh->small.bytes > sh->budget / 10 || !sh->main.head)) {
        o = sh->small.head;
        if (atomic_load_explicit(&o->freq, memory_order_relaxed) > 0) {
            /* Hit while on probation: to main, its hits forgotten so that
             * it earns its reinsertions there. */
            fifo_remove(sh, o);
            atomic_store_explicit(&o->freq, 0, memory_order_relaxed);
            fifo_push(sh, o, Q_MAIN);
            return true;
        }
        ghost_add(sh, o->hash);
    } else if (sh->main.head) {
        o = sh->main.head;
        unsigned char f = atomic_load_explicit(&o->freq, memory_order_relaxed);
        if (f > 0) {
            fifo_remove(sh, o);
            atomic_store_explicit(&o->freq, (unsigned char)(f - 1), memory_order_relaxed);
            fifo_push(sh, o, Q_MAIN);
            return true;
        }
    } else {
        return false;
    }
    unlink_obj(sh, o, v);
    sh->evictions++;
    return true;
}

/* ---- the store ---------------------------------------------------------------- */

struct rp_cache_store *rp_cache_store_new(uint64_t max_bytes, unsigned n_shards)
{
    if (n_shards == 0 || (n_shards & (n_shards - 1)) != 0 || n_shards > (1u << 20))
        return NULL;
    struct rp_cache_store *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->shards = aligned_alloc(_Alignof(struct shard), n_shards * sizeof(struct shard));
    if (!s->shards) {
        free(s);
        return NULL;
    }
    memset(s->shards, 0, n_shards * sizeof(struct shard));
    s->n_shards = n_shards;
    s->max_bytes = max_bytes;
    s->shard_budget = max_bytes / n_shards;
    for (unsigned i = 0; i < n_shards; i++) {
        struct shard *sh = &s->shards[i];
        sh->budget = s->shard_budget;
        sh->n_buckets = MIN_BUCKETS;
        sh->ghost_sets = MIN_BUCKETS * 2 / GHOST_WAYS;
        sh->buckets = calloc(sh->n_buckets, sizeof *sh->buckets);
        sh->ghost = calloc(sh->ghost_sets * GHOST_WAYS, sizeof *sh->ghost);
        if (!sh->buckets || !sh->ghost || pthread_mutex_init(&sh->mu, NULL) != 0) {
            free(sh->buckets);
            free(sh->ghost);
            s->n_shards = i; /* free what was made */
            rp_cache_store_free(s);
            return NULL;
        }
    }
    return s;
}

void rp_cache_store_free(struct rp_cache_store *s)
{
    if (!s)
        return;
    for (unsigned i = 0; i < s->n_shards; i++) {
        struct shard *sh = &s->shards[i];
        struct victims v = {NULL};
        while (sh->small.head)
            unlink_obj(sh, sh->small.head, &v);
        while (sh->main.head)
            unlink_obj(sh, sh->main.head, &v);
        victims_drop(&v); /* readers' references keep theirs alive */
        free(sh->buckets);
        free(sh->ghost);
        pthread_mutex_destroy(&sh->mu);
    }
    free(s->shards);
    free(s);
}

bool rp_cache_store_fits(const struct rp_cache_store *s, uint64_t bytes)
{
    return bytes <= s->shard_budget / 8;
}

bool rp_cache_insert(struct rp_cache_store *s, struct rp_cache_obj *o)
{
    if (!rp_cache_store_fits(s, o->charge))
        return false;
    struct shard *sh = shard_of(s, o->hash);
    struct victims v = {NULL};
    pthread_mutex_lock(&sh->mu);
    if (o->queue != Q_NONE) {
        pthread_mutex_unlock(&sh->mu);
        return false; /* in, or was: an object is inserted once */
    }
    uint8_t q = Q_SMALL;
    struct rp_cache_obj *old = sh->buckets[bucket_of(sh, o->hash)];
    for (; old; old = old->hnext)
        if (same_key(old, o->hash, o->key, o->key_len) && old->variant_len == o->variant_len &&
            memcmp(old->variant, o->variant, o->variant_len) == 0)
            break;
    if (old) {
        /* A new version of a resident object (a refresh) keeps its place in
         * main: it has already shown it is wanted. */
        if (old->queue == Q_MAIN)
            q = Q_MAIN;
        unlink_obj(sh, old, &v);
    }
    if (ghost_take(sh, o->hash))
        q = Q_MAIN;
    while (sh->small.bytes + sh->main.bytes + o->charge > sh->budget)
        if (!evict_step(sh, &v))
            break;
    atomic_store_explicit(&o->freq, 0, memory_order_relaxed);
    rp_cache_obj_ref(o);
    link_obj(sh, o, q);
    sh->inserts++;
    pthread_mutex_unlock(&sh->mu);
    victims_drop(&v);
    return true;
}

struct rp_cache_obj *rp_cache_lookup(struct rp_cache_store *s, const char *key, size_t len,
                                     uint64_t h,
                                     bool (*match)(const struct rp_cache_obj *o, void *arg),
                                     void *arg)
{
    struct shard *sh = shard_of(s, h);
    pthread_mutex_lock(&sh->mu);
    sh->lookups++;
    struct rp_cache_obj *o = sh->buckets[bucket_of(sh, h)];
    for (; o; o = o->hnext)
        if (same_key(o, h, key, len) && (!match || match(o, arg)))
            break;
    if (o) {
        rp_cache_obj_ref(o);
        unsigned char f = atomic_load_explicit(&o->freq, memory_order_relaxed);
        if (f < FREQ_MAX)
            atomic_store_explicit(&o->freq, (unsigned char)(f + 1), memory_order_relaxed);
        sh->hits++;
    }
    pthread_mutex_unlock(&sh->mu);
    return o;
}

void rp_cache_remove(struct rp_cache_store *s, struct rp_cache_obj *o)
{
    struct shard *sh = shard_of(s, o->hash);
    struct victims v = {NULL};
    pthread_mutex_lock(&sh->mu);
    if (o->linked)
        unlink_obj(sh, o, &v);
    pthread_mutex_unlock(&sh->mu);
    victims_drop(&v);
}

uint64_t rp_cache_purge_key(struct rp_cache_store *s, const char *key, size_t len)
{
    uint64_t h = rp_cache_hash(key, len), n = 0;
    struct shard *sh = shard_of(s, h);
    struct victims v = {NULL};
    pthread_mutex_lock(&sh->mu);
    struct rp_cache_obj *o = sh->buckets[bucket_of(sh, h)];
    while (o) {
        struct rp_cache_obj *next = o->hnext;
        if (same_key(o, h, key, len)) {
            unlink_obj(sh, o, &v);
            n++;
        }
        o = next;
    }
    sh->purged += n;
    pthread_mutex_unlock(&sh->mu);
    victims_drop(&v);
    return n;
}

static bool has_prefix(const struct rp_cache_obj *o, const void *arg, size_t len)
{
    return o->key_len >= len && memcmp(o->key, arg, len) == 0;
}

static bool has_tag(const struct rp_cache_obj *o, const void *arg, size_t len)
{
    const char *p = o->tags, *end = o->tags + o->tags_len;
    while (p < end) {
        const char *nul = memchr(p, '\0', (size_t)(end - p));
        size_t n = nul ? (size_t)(nul - p) : (size_t)(end - p);
        if (n == len && memcmp(p, arg, len) == 0)
            return true;
        p += n + 1;
    }
    return false;
}

/* Unlinks every object pred is true for, one shard at a time (a purge
 * never holds two locks, and other shards serve meanwhile). */
static uint64_t purge_scan(struct rp_cache_store *s,
                           bool (*pred)(const struct rp_cache_obj *, const void *, size_t),
                           const void *arg, size_t len)
{
    uint64_t total = 0;
    for (unsigned i = 0; i < s->n_shards; i++) {
        struct shard *sh = &s->shards[i];
        struct victims v = {NULL};
        uint64_t n = 0;
        pthread_mutex_lock(&sh->mu);
        struct fifo *fs[2] = {&sh->small, &sh->main};
        for (int k = 0; k < 2; k++) {
            struct rp_cache_obj *o = fs[k]->head;
            while (o) {
                struct rp_cache_obj *next = o->qnext;
                if (pred(o, arg, len)) {
                    unlink_obj(sh, o, &v);
                    n++;
                }
                o = next;
            }
        }
        sh->purged += n;
        pthread_mutex_unlock(&sh->mu);
        victims_drop(&v);
        total += n;
    }
    return total;
}

uint64_t rp_cache_purge_prefix(struct rp_cache_store *s, const char *prefix, size_t len)
{
    return purge_scan(s, has_prefix, prefix, len);
}

uint64_t rp_cache_purge_tag(struct rp_cache_store *s, const char *tag, size_t len)
{
    return purge_scan(s, has_tag, tag, len);
}

void rp_cache_store_stats(struct rp_cache_store *s, struct rp_cache_stats *st)
{
    memset(st, 0, sizeof *st);
    st->max_bytes = s->max_bytes;
    for (unsigned i = 0; i < s->n_shards; i++) {
        struct shard *sh = &s->shards[i];
        pthread_mutex_lock(&sh->mu);
        st->objects += sh->small.n + sh->main.n;
        st->bytes += sh->small.bytes + sh->main.bytes;
        st->lookups += sh->lookups;
        st->hits += sh->hits;
        st->inserts += sh->inserts;
        st->evictions += sh->evictions;
        st->purged += sh->purged;
        pthread_mutex_unlock(&sh->mu);
    }
}

/* Appends a FIFO's objects, each with a reference. */
static void snapshot_fifo(const struct fifo *q, struct rp_cache_obj **out, size_t *n)
{
    for (struct rp_cache_obj *o = q->head; o; o = o->qnext) {
        rp_cache_obj_ref(o);
        out[(*n)++] = o;
    }
}

size_t rp_cache_store_snapshot(struct rp_cache_store *s, struct rp_cache_obj ***out)
{
    *out = NULL;
    size_t n = 0, cap = 0;
    for (unsigned i = 0; i < s->n_shards; i++) {
        struct shard *sh = &s->shards[i];
        pthread_mutex_lock(&sh->mu);
        size_t need = n + sh->small.n + sh->main.n;
        if (need > cap) {
            size_t want = need + need / 2 + 16;
            struct rp_cache_obj **bigger = realloc(*out, want * sizeof *bigger);
            if (!bigger) {
                pthread_mutex_unlock(&sh->mu);
                break;
            }
            *out = bigger;
            cap = want;
        }
        /* main holds the older survivors: it goes first, so a store that
         * refills in this order keeps the same ones last to go */
        snapshot_fifo(&sh->main, *out, &n);
        snapshot_fifo(&sh->small, *out, &n);
        pthread_mutex_unlock(&sh->mu);
    }
    if (!n) {
        free(*out);
        *out = NULL;
    }
    return n;
}
