/* test_cache_store.c: the shared object store: lookups by key and variant,
 * references outliving replacement, the byte bound, purges, S3-FIFO's
 * choices, threads, and its hit ratio against LRU on a Zipf trace. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache_store.h"
#include "t.h"

/* An object with body_len bytes of fill and tags given as one string with
 * the NULs written as '|' (so "a|b|" is two tags). */
static struct rp_cache_obj *mk(const char *key, const char *variant, const char *tags,
                               uint64_t body_len, char fill)
{
    uint32_t tl = tags ? (uint32_t)strlen(tags) : 0;
    struct rp_cache_obj *o =
        rp_cache_obj_new(key, (uint32_t)strlen(key), variant,
                         variant ? (uint32_t)strlen(variant) : 0, tl, 4, body_len);
    if (!o)
        return NULL;
    for (uint32_t i = 0; i < tl; i++)
        o->tags[i] = tags[i] == '|' ? '\0' : tags[i];
    memset(o->meta, 0, 4);
    memset(o->body, fill, body_len);
    return o;
}

/* Inserts a new object and drops the caller's reference. */
static bool put(struct rp_cache_store *s, const char *key, const char *variant, const char *tags,
                uint64_t body_len, char fill)
{
    struct rp_cache_obj *o = mk(key, variant, tags, body_len, fill);
    if (!o)
        return false;
    bool ok = rp_cache_insert(s, o);
    rp_cache_obj_unref(o);
    return ok;
}

static struct rp_cache_obj *get(struct rp_cache_store *s, const char *key)
{
    return rp_cache_lookup(s, key, strlen(key), rp_cache_hash(key, strlen(key)), NULL, NULL);
}

static bool present(struct rp_cache_store *s, const char *key)
{
    struct rp_cache_obj *o = get(s, key);
    if (o)
        rp_cache_obj_unref(o);
    return o != NULL;
}

static bool variant_is(const struct rp_cache_obj *o, void *arg)
{
    const char *v = arg;
    return o->variant_len == strlen(v) && memcmp(o->variant, v, o->variant_len) == 0;
}

static uint64_t stat_bytes(struct rp_cache_store *s)
{
    struct rp_cache_stats st;
    rp_cache_store_stats(s, &st);
    return st.bytes;
}

static uint64_t stat_objects(struct rp_cache_store *s)
{
    struct rp_cache_stats st;
    rp_cache_store_stats(s, &st);
    return st.objects;
}

static uint64_t rng_next(uint64_t *x)
{
    /* splitmix64: deterministic, good enough to drive tests. */
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

T_SUITE(cache_store_hash)
{
    T_EQ(rp_cache_hash("abc", 3), rp_cache_hash("abc", 3));
    T_OK(rp_cache_hash("a", 1) != rp_cache_hash("b", 1));
    T_OK(rp_cache_hash("", 0) != rp_cache_hash("\0", 1));
    /* Every prefix of a buffer (all the short and long code paths) hashes
     * differently. */
    char buf[130];
    for (int i = 0; i < 130; i++)
        buf[i] = (char)('a' + i % 26);
    uint64_t hs[131];
    bool distinct = true;
    for (int n = 0; n <= 130; n++) {
        hs[n] = rp_cache_hash(buf, (size_t)n);
        for (int m = 0; m < n; m++)
            distinct = distinct && hs[m] != hs[n];
    }
    T_OK(distinct);
    /* Sequential keys spread evenly over both the low bits (buckets) and
     * the high bits (shards). */
    unsigned lo[256] = {0}, hi[16] = {0};
    char k[32];
    for (int i = 0; i < 65536; i++) {
        int n = snprintf(k, sizeof k, "/img/%d.png", i);
        uint64_t h = rp_cache_hash(k, (size_t)n);
        lo[h & 255]++;
        hi[(h >> 40) & 15]++;
    }
    unsigned lo_min = 65536, lo_max = 0, hi_min = 65536, hi_max = 0;
    for (int i = 0; i < 256; i++) {
        lo_min = lo[i] < lo_min ? lo[i] : lo_min;
        lo_max = lo[i] > lo_max ? lo[i] : lo_max;
    }
    for (int i = 0; i < 16; i++) {
        hi_min = hi[i] < hi_min ? hi[i] : hi_min;
        hi_max = hi[i] > hi_max ? hi[i] : hi_max;
    }
    T_OK(lo_min > 256 * 3 / 4 && lo_max < 256 * 5 / 4);
    T_OK(hi_min > 4096 * 9 / 10 && hi_max < 4096 * 11 / 10);
}

T_SUITE(cache_store_basic)
{
    struct rp_cache_store *s = rp_cache_store_new(1 << 20, 4);
    T_OK(s != NULL);
    T_OK(rp_cache_store_new(1 << 20, 3) == NULL); /* not a power of two */
    T_OK(get(s, "/a") == NULL);

    struct rp_cache_obj *o = mk("/a", NULL, "t1|", 10, 'x');
    T_OK(o != NULL);
    T_SLICE(o->key, o->key_len, "/a");
    T_EQ(o->variant_len, 0);
    T_EQ(o->hash, rp_cache_hash("/a", 2));
    T_OK(o->charge > sizeof *o + 10 + 4 + 2 + 4);
    T_OK(((uintptr_t)o->meta & 15) == 0);
    T_OK(rp_cache_insert(s, o));
    T_OK(o->linked);
    T_OK(!rp_cache_insert(s, o)); /* inserted once */
    struct rp_cache_obj *g = get(s, "/a");
    T_OK(g == o);
    T_EQ(atomic_load(&o->refs), 3); /* mine, the store's, the lookup's */
    T_EQ(atomic_load(&o->freq), 1);
    rp_cache_obj_unref(g);
    rp_cache_obj_unref(o);

    /* Variants of one key live side by side; match tells them apart. */
    T_OK(put(s, "/v", "gzip", NULL, 5, 'g'));
    T_OK(put(s, "/v", "br", NULL, 5, 'b'));
    T_OK(put(s, "/v", "", NULL, 5, 'i'));
    struct rp_cache_obj *v = rp_cache_lookup(s, "/v", 2, rp_cache_hash("/v", 2), variant_is, "br");
    T_OK(v && v->body[0] == 'b');
    if (v)
        rp_cache_obj_unref(v);
    v = rp_cache_lookup(s, "/v", 2, rp_cache_hash("/v", 2), variant_is, "gzip");
    T_OK(v && v->body[0] == 'g');
    if (v)
        rp_cache_obj_unref(v);
    T_OK(rp_cache_lookup(s, "/v", 2, rp_cache_hash("/v", 2), variant_is, "zstd") == NULL);
    /* Same key and variant: replaced, not added. */
    T_OK(put(s, "/v", "br", NULL, 5, 'B'));
    v = rp_cache_lookup(s, "/v", 2, rp_cache_hash("/v", 2), variant_is, "br");
    T_OK(v && v->body[0] == 'B');
    if (v)
        rp_cache_obj_unref(v);
    T_EQ(stat_objects(s), 4);

    /* A key that is a prefix of another is not it. */
    T_OK(put(s, "/ab", NULL, NULL, 1, 'z'));
    g = get(s, "/a");
    T_OK(g && g->body[0] == 'x');
    if (g)
        rp_cache_obj_unref(g);

    struct rp_cache_stats st;
    rp_cache_store_stats(s, &st);
    T_EQ(st.objects, 5);
    T_EQ(st.inserts, 6);
    T_EQ(st.max_bytes, 1 << 20);
    T_EQ(st.hits, 5);
    T_EQ(st.lookups, 7);
    T_EQ(st.evictions, 0);

    /* Remove: once, then a no-op. */
    g = get(s, "/ab");
    rp_cache_remove(s, g);
    T_OK(!g->linked);
    rp_cache_remove(s, g);
    rp_cache_obj_unref(g);
    T_OK(!present(s, "/ab"));
    T_EQ(stat_objects(s), 4);
    rp_cache_store_free(s);
}

T_SUITE(cache_store_refs)
{
    /* One shard of room for about ten 1 KiB objects. */
    struct rp_cache_store *s = rp_cache_store_new(12000, 1);
    T_OK(put(s, "/r", NULL, NULL, 1000, '1'));
    struct rp_cache_obj *old = get(s, "/r");
    T_OK(old != NULL);
    /* Replaced under the reader: the reader keeps the old bytes. */
    T_OK(put(s, "/r", NULL, NULL, 1000, '2'));
    T_OK(!old->linked);
    T_OK(old->body[0] == '1' && old->body[999] == '1');
    struct rp_cache_obj *cur = get(s, "/r");
    T_OK(cur && cur != old && cur->body[0] == '2');
    rp_cache_obj_unref(cur);
    T_OK(!rp_cache_insert(s, old)); /* a replaced object does not come back */
    rp_cache_obj_unref(old);        /* freed here (ASan would see a leak or a reuse) */

    /* Evicted under the holder (here the writer, still sending it: a
     * lookup would count a hit and save it from a scan), likewise. */
    struct rp_cache_obj *e = mk("/e", NULL, NULL, 1000, 'e');
    T_OK(rp_cache_insert(s, e));
    char k[16];
    for (int i = 0; i < 50; i++) {
        snprintf(k, sizeof k, "/f%d", i);
        T_OK(put(s, k, NULL, NULL, 1000, 'f'));
    }
    T_OK(!e->linked);
    T_OK(!present(s, "/e"));
    T_OK(e->body[0] == 'e' && e->body[999] == 'e');
    rp_cache_obj_unref(e);
    T_OK(present(s, "/r")); /* hit: it went to main instead */

    /* The store going away leaves a reader's object intact. */
    struct rp_cache_obj *last = get(s, "/f49");
    T_OK(last != NULL);
    rp_cache_store_free(s);
    T_OK(last->body[0] == 'f');
    rp_cache_obj_unref(last);
}

T_SUITE(cache_store_bound)
{
    const uint64_t max = 1 << 20;
    struct rp_cache_store *s = rp_cache_store_new(max, 4);
    /* fits: an eighth of a shard (256 KiB), no more. */
    T_OK(rp_cache_store_fits(s, max / 4 / 8));
    T_OK(!rp_cache_store_fits(s, max / 4 / 8 + 1));
    struct rp_cache_obj *big = mk("/big", NULL, NULL, max / 4 / 8, 'b');
    T_OK(big && !rp_cache_insert(s, big));
    T_OK(big && !big->linked);
    rp_cache_obj_unref(big);

    uint64_t x = 1;
    bool under = true, sane = true;
    uint64_t peak = 0;
    char k[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(k, sizeof k, "/k%u", (unsigned)(rng_next(&x) % 5000));
        const char *var = rng_next(&x) % 4 == 0 ? "gzip" : NULL;
        uint64_t len = rng_next(&x) % 20000; /* up to ~2/3 of what fits */
        if (!put(s, k, var, NULL, len, 'k'))
            sane = false;
        if (i % 16 == 0) {
            struct rp_cache_stats st;
            rp_cache_store_stats(s, &st);
            under = under && st.bytes <= max;
            peak = st.bytes > peak ? st.bytes : peak;
        }
    }
    T_OK(sane);
    T_OK(under);
    T_OK(peak > max * 3 / 4); /* and the room is used */
    struct rp_cache_stats st;
    rp_cache_store_stats(s, &st);
    T_OK(st.evictions > 0);
    T_EQ(st.inserts, 20000);
    rp_cache_store_free(s);

    /* Tiny objects: the per-object overhead counts, so the bound still
     * holds memory when objects are small. */
    s = rp_cache_store_new(64 * 1024, 1);
    for (int i = 0; i < 5000; i++) {
        snprintf(k, sizeof k, "%d", i);
        put(s, k, NULL, NULL, 0, 0);
    }
    rp_cache_store_stats(s, &st);
    T_OK(st.bytes <= 64 * 1024);
    T_OK(st.objects < 64 * 1024 / 64);
    rp_cache_store_free(s);
}

T_SUITE(cache_store_purge)
{
    struct rp_cache_store *s = rp_cache_store_new(1 << 22, 8);
    char k[32];
    for (int i = 0; i < 100; i++) {
        snprintf(k, sizeof k, "/shop/item/%d", i);
        /* Every item is product-N; the even ones also "sale". */
        char tags[32];
        snprintf(tags, sizeof tags, i % 2 ? "product-%d|" : "product-%d|sale|", i);
        put(s, k, NULL, tags, 100, 's');
        if (i % 10 == 0)
            put(s, k, "gzip", tags, 50, 'z');
    }
    for (int i = 0; i < 30; i++) {
        snprintf(k, sizeof k, "/blog/%d", i);
        put(s, k, NULL, "blog|", 100, 'b');
    }
    T_EQ(stat_objects(s), 140);

    T_EQ(rp_cache_purge_key(s, "/shop/item/10", 13), 2); /* both variants */
    T_EQ(rp_cache_purge_key(s, "/shop/item/11", 13), 1);
    T_EQ(rp_cache_purge_key(s, "/shop/item/11", 13), 0);
    T_EQ(rp_cache_purge_key(s, "/shop/item/1", 12), 1); /* exact key, not a prefix */
    T_OK(present(s, "/shop/item/12"));

    T_EQ(rp_cache_purge_tag(s, "sale", 4), 58); /* 50 even and 10 gzip, minus 10's two */
    T_EQ(rp_cache_purge_tag(s, "sal", 3), 0);   /* whole tags only */
    T_EQ(rp_cache_purge_tag(s, "product-13", 10), 1);
    T_EQ(rp_cache_purge_tag(s, "product-2", 9), 0); /* even: already gone with sale */
    T_OK(!present(s, "/shop/item/2"));
    T_OK(present(s, "/shop/item/3"));

    T_EQ(rp_cache_purge_prefix(s, "/shop/", 6), 140 - 30 - 2 - 1 - 1 - 58 - 1);
    T_EQ(rp_cache_purge_prefix(s, "/blog/1", 7), 11); /* 1, 10..19 */
    T_EQ(rp_cache_purge_prefix(s, "", 0), 19);
    T_EQ(stat_objects(s), 0);
    T_EQ(stat_bytes(s), 0);
    struct rp_cache_stats st;
    rp_cache_store_stats(s, &st);
    T_EQ(st.purged, 140);
    rp_cache_store_free(s);
}

/* A one-shard store of exactly `n` objects like those `fill` makes. */
static struct rp_cache_store *store_of(unsigned n, uint64_t *charge)
{
    struct rp_cache_obj *o = mk("/s00000", NULL, NULL, 200, 0);
    *charge = o->charge;
    rp_cache_obj_unref(o);
    return rp_cache_store_new(n * *charge, 1);
}

static void fill(struct rp_cache_store *s, const char *prefix, int n)
{
    char k[16];
    for (int i = 0; i < n; i++) {
        snprintf(k, sizeof k, "/%s%05d", prefix, i);
        put(s, k, NULL, NULL, 200, 0);
    }
}

static void hit_range(struct rp_cache_store *s, const char *prefix, int from, int to)
{
    char k[16];
    for (int i = from; i < to; i++) {
        snprintf(k, sizeof k, "/%s%05d", prefix, i);
        present(s, k);
    }
}

/* How many of /prefix<from..to> are there. The lookups count hits on
 * them: only those already checked for the last time. */
static int count_range(struct rp_cache_store *s, const char *prefix, int from, int to)
{
    char k[16];
    int n = 0;
    for (int i = from; i < to; i++) {
        snprintf(k, sizeof k, "/%s%05d", prefix, i);
        n += present(s, k);
    }
    return n;
}

T_SUITE(cache_store_s3fifo)
{
    uint64_t c;
    /* Hit once while new, then a scan of one-hit objects ten times the
     * cache: LRU would have dropped it after 100 of them. */
    struct rp_cache_store *s = store_of(100, &c);
    T_OK(put(s, "/hot00", NULL, NULL, 200, 0));
    T_OK(present(s, "/hot00"));
    fill(s, "s", 1000);
    T_OK(present(s, "/hot00"));
    T_OK(!present(s, "/s00000"));
    T_OK(present(s, "/s00999"));
    T_EQ(stat_objects(s), 100);
    rp_cache_store_free(s);

    /* Not hit: it goes with the scan, and becomes a ghost. Back soon
     * after, it goes straight to main and survives the next scan; one
     * that was never seen before does not. */
    s = store_of(100, &c);
    T_OK(put(s, "/b0000", NULL, NULL, 200, 0));
    fill(s, "s", 150);
    T_OK(!present(s, "/b0000"));
    T_OK(put(s, "/b0000", NULL, NULL, 200, 0));
    T_OK(put(s, "/c0000", NULL, NULL, 200, 0));
    fill(s, "t", 1000);
    T_OK(present(s, "/b0000"));
    T_OK(!present(s, "/c0000"));
    rp_cache_store_free(s);

    /* The ghost forgets: gone long enough ago, it is new again. */
    s = store_of(100, &c);
    T_OK(put(s, "/b0000", NULL, NULL, 200, 0));
    fill(s, "s", 1000); /* ~900 ghosts after it: past the ghost's ~90 */
    T_OK(put(s, "/b0000", NULL, NULL, 200, 0));
    fill(s, "t", 1000);
    T_OK(!present(s, "/b0000"));
    rp_cache_store_free(s);

    /* Main: 95 objects hit once move there as a scan comes (their hits
     * forgotten); main gives up its oldest until small is back at a tenth. */
    s = store_of(100, &c);
    fill(s, "m", 95);
    hit_range(s, "m", 0, 95);
    fill(s, "s", 20);
    T_EQ(count_range(s, "m", 0, 6), 0); /* m0..m5: evicted, unhit in main */
    /* Hit some again in main; then ghosts come back (straight to main) and
     * main must evict: it reinserts the hit ones and drops the oldest of
     * the others. */
    hit_range(s, "m", 6, 50);
    fill(s, "s", 9); /* s0..s8 were ghosts */
    T_EQ(count_range(s, "s", 0, 9), 9);
    T_EQ(count_range(s, "m", 6, 50), 44);  /* all kept */
    T_EQ(count_range(s, "m", 50, 58), 0);  /* the oldest unhit, gone */
    T_EQ(count_range(s, "m", 58, 95), 37); /* the newer unhit, still there */
    T_EQ(stat_objects(s), 100);
    rp_cache_store_free(s);
}

/* ---- threads ------------------------------------------------------------------ */

#define ST_KEYS 3000
#define ST_HELD 8

struct stress {
    struct rp_cache_store *s;
    double deadline;
    unsigned seed;
    atomic_ulong ops, corrupt;
};

/* Every body byte is the key's number plus its version, the version in meta:
 * a reader sees one object whole or not at all. */
static char fill_of(unsigned key, uint32_t version)
{
    return (char)((key * 7 + version) & 0xff);
}

static void *stress_run(void *arg)
{
    struct stress *st = arg;
    uint64_t x = st->seed;
    struct rp_cache_obj *held[ST_HELD] = {NULL};
    unsigned n_ops = 0, bad = 0;
    char k[32];
    while ((n_ops & 255) != 0 || now_s() < st->deadline) {
        n_ops++;
        uint64_t r = rng_next(&x);
        unsigned key = (unsigned)(r % ST_KEYS);
        int n = snprintf(k, sizeof k, "/st/%u", key);
        unsigned op = (unsigned)((r >> 32) % 100);
        if (op < 60) {
            struct rp_cache_obj *o =
                rp_cache_lookup(st->s, k, (size_t)n, rp_cache_hash(k, (size_t)n), NULL, NULL);
            if (!o)
                continue;
            uint32_t ver;
            memcpy(&ver, o->meta, 4);
            char want = fill_of(key, ver);
            for (uint64_t i = 0; i < o->body_len; i += 61)
                bad += o->body[i] != want;
            if (op < 3) {
                rp_cache_remove(st->s, o);
            }
            /* Hold some references a while, across others' replacements. */
            unsigned slot = (unsigned)(r >> 48) % ST_HELD;
            if (held[slot])
                rp_cache_obj_unref(held[slot]);
            held[slot] = o;
        } else if (op < 97) {
            uint32_t ver = (uint32_t)(r >> 40);
            uint64_t len = (r >> 8) % 3000;
            struct rp_cache_obj *o =
                rp_cache_obj_new(k, (uint32_t)n, (r & 1) ? "gzip" : "", (r & 1) ? 4 : 0, 4, 4, len);
            if (!o)
                continue;
            memcpy(o->tags, (key % 10) ? "aaa" : "ten", 4);
            memcpy(o->meta, &ver, 4);
            memset(o->body, fill_of(key, ver), len);
            rp_cache_insert(st->s, o);
            rp_cache_obj_unref(o);
        } else if (op < 99) {
            rp_cache_purge_key(st->s, k, (size_t)n);
        } else if ((r >> 20) % 64 == 0) {
            /* Rarely: a scan over every shard, while the others work. */
            if ((r >> 30) & 1)
                rp_cache_purge_tag(st->s, "ten", 3);
            else
                rp_cache_purge_prefix(st->s, "/st/12", 6);
        }
    }
    for (int i = 0; i < ST_HELD; i++)
        if (held[i]) {
            /* Still whole, though most are long replaced or evicted. */
            uint32_t ver;
            memcpy(&ver, held[i]->meta, 4);
            unsigned key = (unsigned)strtoul(held[i]->key + 4, NULL, 10);
            if (held[i]->body_len && held[i]->body[held[i]->body_len - 1] != fill_of(key, ver))
                bad++;
            rp_cache_obj_unref(held[i]);
        }
    atomic_fetch_add(&st->ops, n_ops);
    atomic_fetch_add(&st->corrupt, bad);
    return NULL;
}

T_SUITE(cache_store_threads)
{
    const uint64_t max = 512 * 1024;
    struct stress st[4];
    pthread_t th[4];
    struct rp_cache_store *s = rp_cache_store_new(max, 8);
    double deadline = now_s() + 0.5;
    atomic_ulong ops, corrupt;
    atomic_init(&ops, 0);
    atomic_init(&corrupt, 0);
    for (int i = 0; i < 4; i++) {
        st[i].s = s;
        st[i].deadline = deadline;
        st[i].seed = (unsigned)(i + 1) * 7919;
        atomic_init(&st[i].ops, 0);
        atomic_init(&st[i].corrupt, 0);
        T_EQ(pthread_create(&th[i], NULL, stress_run, &st[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        atomic_fetch_add(&ops, atomic_load(&st[i].ops));
        atomic_fetch_add(&corrupt, atomic_load(&st[i].corrupt));
    }
    T_OK(now_s() < deadline + 1.0); /* bounded */
    T_EQ(atomic_load(&corrupt), 0);
    struct rp_cache_stats cs;
    rp_cache_store_stats(s, &cs);
    T_OK(cs.bytes <= max);
    T_OK(cs.evictions > 0 && cs.hits > 0 && cs.purged > 0);
    printf("# cache_store_threads: %lu ops in 0.5 s over 4 threads, %llu evictions\n",
           atomic_load(&ops), (unsigned long long)cs.evictions);
    rp_cache_store_free(s);
}

/* ---- hit ratio against LRU ---------------------------------------------------- */

#define ZIPF_KEYS 100000
#define ZIPF_REQS 1000000
#define ZIPF_ALPHA 0.9

/* Exact LRU over key numbers, in objects (all objects are one size). */
struct lru {
    int32_t *prev, *next;
    bool *in;
    int32_t head, tail; /* most, least recent */
    uint32_t n, cap;
};

static bool lru_access(struct lru *l, int32_t k)
{
    bool hit = l->in[k];
    if (hit) {
        if (l->head == k)
            return true;
        /* unlink */
        l->next[l->prev[k]] = l->next[k];
        if (l->next[k] >= 0)
            l->prev[l->next[k]] = l->prev[k];
        else
            l->tail = l->prev[k];
    } else {
        l->in[k] = true;
        if (++l->n > l->cap) {
            int32_t t = l->tail;
            l->in[t] = false;
            l->tail = l->prev[t];
            if (l->tail >= 0)
                l->next[l->tail] = -1;
            else
                l->head = -1;
            l->n--;
        }
    }
    /* to the front */
    l->prev[k] = -1;
    l->next[k] = l->head;
    if (l->head >= 0)
        l->prev[l->head] = k;
    l->head = k;
    if (l->tail < 0)
        l->tail = k;
    return hit;
}

/* "/zipf/NNNNNN", without snprintf's cost a million times over. */
static int zipf_key(char *k, int32_t id)
{
    memcpy(k, "/zipf/", 6);
    for (int i = 11; i >= 6; i--, id /= 10)
        k[i] = (char)('0' + id % 10);
    k[12] = '\0';
    return 12;
}

/* Hit ratios of the store and of LRU on the same trace, the cache holding
 * `pct` percent of the keys. */
static void zipf_ratio(const int32_t *trace, double pct, double *s3, double *lru_r)
{
    const unsigned shards = 4;
    struct rp_cache_obj *o = mk("/zipf/000000", NULL, NULL, 100, 0);
    uint64_t c = o->charge;
    rp_cache_obj_unref(o);
    uint64_t per_shard = (uint64_t)(ZIPF_KEYS * pct / 100 / shards) * c;
    struct rp_cache_store *s = rp_cache_store_new(per_shard * shards, shards);
    char k[32];
    for (int i = 0; i < ZIPF_REQS; i++) {
        int n = zipf_key(k, trace[i]);
        uint64_t h = rp_cache_hash(k, (size_t)n);
        struct rp_cache_obj *hit = rp_cache_lookup(s, k, (size_t)n, h, NULL, NULL);
        if (hit) {
            rp_cache_obj_unref(hit);
            continue;
        }
        o = rp_cache_obj_new(k, (uint32_t)n, NULL, 0, 0, 4, 100);
        rp_cache_insert(s, o);
        rp_cache_obj_unref(o);
    }
    struct rp_cache_stats st;
    rp_cache_store_stats(s, &st);
    *s3 = (double)st.hits / ZIPF_REQS;
    rp_cache_store_free(s);

    struct lru l = {.head = -1, .tail = -1, .cap = (uint32_t)(per_shard / c * shards)};
    l.prev = malloc(ZIPF_KEYS * sizeof *l.prev);
    l.next = malloc(ZIPF_KEYS * sizeof *l.next);
    l.in = calloc(ZIPF_KEYS, sizeof *l.in);
    uint64_t hits = 0;
    for (int i = 0; i < ZIPF_REQS; i++)
        hits += lru_access(&l, trace[i]);
    *lru_r = (double)hits / ZIPF_REQS;
    free(l.prev);
    free(l.next);
    free(l.in);
}

T_SUITE(cache_store_zipf)
{
    double t0 = now_s();
    /* The trace: key ranks drawn from Zipf(ALPHA) by inverting its CDF,
     * from a fixed seed. */
    double *cdf = malloc(ZIPF_KEYS * sizeof *cdf);
    int32_t *trace = malloc(ZIPF_REQS * sizeof *trace);
    double sum = 0;
    for (int i = 0; i < ZIPF_KEYS; i++) {
        sum += 1.0 / pow(i + 1, ZIPF_ALPHA);
        cdf[i] = sum;
    }
    uint64_t x = 42;
    for (int i = 0; i < ZIPF_REQS; i++) {
        double u = (double)(rng_next(&x) >> 11) / 9007199254740992.0 * sum;
        int lo = 0, hi = ZIPF_KEYS - 1;
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            if (cdf[mid] < u)
                lo = mid + 1;
            else
                hi = mid;
        }
        trace[i] = lo;
    }
    free(cdf);

    double s1, l1, s10, l10;
    zipf_ratio(trace, 1, &s1, &l1);
    zipf_ratio(trace, 10, &s10, &l10);
    free(trace);
    printf("# cache_store_zipf: Zipf(%.1f), %d keys, %d requests: hit ratio at 1%%: S3-FIFO "
           "%.4f, LRU %.4f; at 10%%: S3-FIFO %.4f, LRU %.4f (%.2f s)\n",
           ZIPF_ALPHA, ZIPF_KEYS, ZIPF_REQS, s1, l1, s10, l10, now_s() - t0);
    T_OK(s1 >= l1);
    T_OK(s10 >= l10);
}
