/* cache.c: the cache step (cache.h). */
#include <malloc.h>
#include <pthread.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cache.h"
#include "cache_rfc.h"
#include "cache_store.h"
#include "compress.h"
#include "rp/match.h"
#include "reason.h"

/* The store all routes share; NULL until rp_cache_init. */
static struct rp_cache_store *g_store;
/* The program it serves: purge looks for every route's key. */
static const struct rp_program *g_prog;

/* Marks the requests of this process's background refreshes
 * (cache_refresh.c): random, so no client can send it. */
static char g_refresh_token[33];

static struct {
    atomic_ullong hits, misses, stale, revalidated, stored, bypass;
} g_counts;

#define CACHE_SHARDS 16
#define CACHE_KEY_MAX 2048
/* A stored head larger than this is not kept (it must fit a buffer with
 * the rest of the answer's head). */
#define CACHE_FIELDS_MAX (12 * 1024)

int rp_cache_init(const struct rp_program *prog)
{
    uint64_t size = 0, object = 0;
    for (uint32_t r = 0; r < prog->n_routes; r++)
        for (const struct rp_step *st = prog->routes[r].steps; st && st->kind != RP_STEP_END;
             st++)
            if (st->kind == RP_STEP_CACHE) {
                const struct rp_cache_def *d = st->arg;
                if (d->max_size > size)
                    size = d->max_size;
                if (d->max_object > object)
                    object = d->max_object;
            }
    if (!size || g_store)
        return 0;
    g_prog = prog;
    uint8_t r[16];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        for (size_t i = 0; i < sizeof r; i++)
            r[i] = (uint8_t)(rand() ^ (int)time(NULL) ^ (int)getpid());
    for (size_t i = 0; i < sizeof r; i++)
        snprintf(g_refresh_token + 2 * i, 3, "%02x", r[i]);
    /* Fewer shards for a small store: a shard takes objects up to an eighth
     * of its bytes, and the largest max_object must fit one. */
    /* Objects are made by one worker and freed by another (eviction,
     * replacement): with an arena per thread, glibc keeps freed memory in
     * the arena it came from, and a 2-worker soak held 60 MB for a 32 MB
     * store (bench/soak.sh -C); with one arena it held 43 MB. The hot
     * path's small allocations still come from each thread's cache. */
    mallopt(M_ARENA_MAX, 1);
    unsigned shards = CACHE_SHARDS;
    while (shards > 1 && size / shards / 8 < object)
        shards /= 2;
    g_store = rp_cache_store_new(size, shards);
    return g_store ? 0 : -1;
}

void rp_cache_shutdown(void)
{
    rp_cache_store_free(g_store);
    g_store = NULL;
}

void rp_cache_counts(struct rp_cache_counts *out)
{
    out->hits = g_counts.hits;
    out->misses = g_counts.misses;
    out->stale = g_counts.stale;
    out->revalidated = g_counts.revalidated;
    out->stored = g_counts.stored;
    out->bypass = g_counts.bypass;
    out->objects = out->bytes = 0;
    if (g_store) {
        struct rp_cache_stats st;
        rp_cache_store_stats(g_store, &st);
        out->objects = st.objects;
        out->bytes = st.bytes;
    }
}

/* ---- fetches in flight (request coalescing) ----------------------------------------------
 *
 * A miss that goes to the server registers its key here; a request for the
 * same key meanwhile waits (rp_cache_request says RP_CACHE_WAIT, the proxy
 * looks again shortly) instead of asking the server too. The fetch ends:
 * stored (the waiters find it), not storable (the entry says PASS for a
 * while: requests for that key go to the server at once, none waits), or
 * failed (the entry goes; the next request fetches). One table for all
 * workers; keys are told apart by their 64-bit hash. */

#define PENDING_SLOTS 4096 /* fetches in flight at once, at most */
#define PENDING_PASS_S 10.0 /* how long a response found not storable makes
                                requests for its key skip the wait */
#define PENDING_STALE_S 60.0 /* a fetch older than this is taken for lost */

enum { PENDING_FREE, PENDING_FETCHING, PENDING_PASS };

struct pending {
    uint64_t hash;
    const void *owner; /* the exchange state fetching */
    double since;
    int state;
};
/* Fetches of misses; and, apart (a refresh's own request must not wait for
 * it), stale-while-revalidate's background refreshes (cache_refresh.c). */
static struct pending g_pending[PENDING_SLOTS], g_refreshing[PENDING_SLOTS];
static pthread_mutex_t g_pending_lock = PTHREAD_MUTEX_INITIALIZER;

/* The slot of hash in table t, or NULL; with `take`, a free or expired
 * slot for it. */
static struct pending *table_slot(struct pending *t, uint64_t hash, double now, bool take)
{
    struct pending *free_slot = NULL;
    for (unsigned i = 0; i < 16; i++) {
        struct pending *p = &t[(hash + i) & (PENDING_SLOTS - 1)];
        bool expired = p->state == PENDING_FREE ||
                       (p->state == PENDING_PASS && now - p->since > PENDING_PASS_S) ||
                       (p->state == PENDING_FETCHING && now - p->since > PENDING_STALE_S);
        if (!expired && p->hash == hash)
            return p;
        if (expired && !free_slot)
            free_slot = p;
    }
    return take ? free_slot : NULL;
}

static struct pending *pending_slot(uint64_t hash, double now, bool take)
{
    return table_slot(g_pending, hash, now, take);
}

bool rp_cache_refresh_claim(uint64_t hash, const void *owner, double now)
{
    pthread_mutex_lock(&g_pending_lock);
    struct pending *p = table_slot(g_refreshing, hash, now, false);
    bool mine = !p && (p = table_slot(g_refreshing, hash, now, true));
    if (mine)
        *p = (struct pending){hash, owner, now, PENDING_FETCHING};
    pthread_mutex_unlock(&g_pending_lock);
    return mine;
}

void rp_cache_refresh_done(uint64_t hash, const void *owner, double now)
{
    pthread_mutex_lock(&g_pending_lock);
    struct pending *p = table_slot(g_refreshing, hash, now, false);
    if (p && p->owner == owner)
        p->state = PENDING_FREE;
    pthread_mutex_unlock(&g_pending_lock);
}

/* A miss for hash: RP_CACHE_WAIT when another fetch has it in flight,
 * RP_CACHE_BYPASS when it was found not storable lately, else RP_CACHE_MISS
 * (registered as this owner's fetch when it may be). */
static enum rp_cache_answer pending_miss(uint64_t hash, const void *owner, double now,
                                         bool may_wait, bool *registered)
{
    enum rp_cache_answer a = RP_CACHE_MISS;
    *registered = false;
    pthread_mutex_lock(&g_pending_lock);
    struct pending *p = pending_slot(hash, now, false);
    if (p && p->state == PENDING_PASS)
        a = RP_CACHE_BYPASS;
    else if (p && p->state == PENDING_FETCHING)
        a = may_wait ? RP_CACHE_WAIT : RP_CACHE_MISS;
    else if ((p = pending_slot(hash, now, true))) {
        *p = (struct pending){hash, owner, now, PENDING_FETCHING};
        *registered = true;
    }
    pthread_mutex_unlock(&g_pending_lock);
    return a;
}

/* The owner's fetch is over: stored or failed (gone), or not storable
 * (PASS). */
static void pending_end(uint64_t hash, const void *owner, double now, bool pass)
{
    pthread_mutex_lock(&g_pending_lock);
    struct pending *p = pending_slot(hash, now, false);
    if (p && p->state == PENDING_FETCHING && p->owner == owner) {
        if (pass) {
            p->state = PENDING_PASS;
            p->since = now;
        } else {
            p->state = PENDING_FREE;
        }
    }
    pthread_mutex_unlock(&g_pending_lock);
}

/* ---- what an object's meta holds ------------------------------------------------------- */

/* Copied in and out with memcpy: the store does not align meta. The
 * fields (each "Name: value\r\n", as the server sent them minus those a
 * cache does not keep) follow it. */
struct cache_meta {
    struct rp_cache_times times;
    struct rp_cache_control rcc;
    int64_t last_modified; /* -1: none */
    uint16_t status;
    uint32_t etag_off, etag_len; /* the ETag value within the fields */
    uint32_t vary_off, vary_len; /* the Vary value(s), joined with ", " */
    uint32_t fields_len;
    uint8_t coding; /* RP_CODING_*: an encoded copy (compress) of the answer stored
                       at response_time (no ranges of it are served); 0: as sent */
    bool vary_ae;   /* compressible: served with Vary: Accept-Encoding */
};

static void meta_get(const struct rp_cache_obj *o, struct cache_meta *m)
{
    memcpy(m, o->meta, sizeof *m);
}

static const char *meta_fields(const struct rp_cache_obj *o)
{
    return o->meta + sizeof(struct cache_meta);
}

/* ---- handing the store to a successor (upgrade.h), purging it all -------------------------- */

/* Bumped whenever struct cache_meta or the fields after it change meaning
 * without changing size. */
#define CACHE_META_VERSION 1

uint64_t rp_cache_purge_everything(void)
{
    return g_store ? rp_cache_purge_prefix(g_store, "", 0) : 0;
}

uint32_t rp_cache_format(void)
{
    return g_store ? (uint32_t)(sizeof(struct cache_meta) << 8 | CACHE_META_VERSION) : 0;
}

size_t rp_cache_snapshot(struct rp_cache_obj ***out)
{
    *out = NULL;
    return g_store ? rp_cache_store_snapshot(g_store, out) : 0;
}

bool rp_cache_adopt(struct rp_cache_obj *o)
{
    return g_store && o->meta_len >= sizeof(struct cache_meta) && rp_cache_insert(g_store, o);
}


/* ---- the exchange's state --------------------------------------------------------------- */

struct rp_cache_x {
    const struct rp_cache_def *def;
    enum rp_cache_answer answer;
    const char *verdict; /* for the status header: HIT, MISS, STALE, ... */
    uint32_t key_len;
    uint64_t hash;
    bool get, head, unsafe;
    int64_t request_time;
    struct rp_cache_control qcc;
    struct rp_cache_obj *obj; /* the stored response found (a reference), or NULL */
    bool obj_usable_stale;    /* obj may be served on an error (stale-if-error) */
    bool client_conditional;  /* the client sent its own validators */
    /* the request: the head itself while it is there (a hit answered at
     * once), else req, a copy (Vary at store time, preconditions and Range
     * when the answer comes after the head is gone) */
    const struct rp_http1_request *req_view;
    char *req_copy;
    /* the response being stored */
    bool storing;
    char *body;
    uint64_t body_len, body_cap;
    char *meta;          /* cache_meta + fields, made at the response head */
    uint32_t meta_len;
    char *variant;       /* rp_vary_key of the request for the response's Vary */
    int variant_len;
    char *tags;          /* Surrogate-Key / Cache-Tag names, NUL after each */
    uint32_t tags_len;
    struct rp_cache_obj *served; /* what the answer is written from (a reference) */
    bool fetching;       /* registered as the fetch others wait for */
    bool unstorable;     /* the response itself is not storable (not this request) */
    bool vary_ae;        /* the answer gets Vary: Accept-Encoding (compress) */
    char *multipart;     /* several ranges: the multipart/byteranges body */
    size_t multipart_len;
    char *refresh;       /* stale-while-revalidate: the request to refresh it with */
    size_t refresh_len;
    double now;          /* when the request came */
    /* the bulky part last: the state is not zeroed past here */
    char key[CACHE_KEY_MAX];
    struct rp_http1_request req;
};

enum rp_cache_answer rp_cache_answer_of(const struct rp_cache_x *x)
{
    return x ? x->answer : RP_CACHE_BYPASS;
}

const struct rp_http1_request *rp_cache_request_copy(const struct rp_cache_x *x)
{
    return x->req_view;
}

void rp_cache_x_free(void *p)
{
    struct rp_cache_x *x = p;
    if (!x)
        return;
    if (x->fetching)
        pending_end(x->hash, x, x->now, false); /* ended without storing */
    if (x->obj)
        rp_cache_obj_unref(x->obj);
    if (x->served)
        rp_cache_obj_unref(x->served);
    free(x->req_copy);
    free(x->refresh);
    free(x->multipart);
    free(x->body);
    free(x->meta);
    free(x->variant);
    free(x->tags);
    free(x);
}

static bool method_is(const struct rp_http1_request *r, const char *m)
{
    size_t n = strlen(m);
    return r->method_len == n && memcmp(r->method, m, n) == 0;
}

/* Copies the request's method, target and fields into x (one block). */
static int copy_request(struct rp_cache_x *x, const struct rp_http1_request *req)
{
    size_t need = req->method_len + req->target_len;
    for (uint32_t i = 0; i < req->n_headers; i++)
        need += req->headers[i].name_len + req->headers[i].value_len;
    char *p = malloc(need + 1);
    if (!p)
        return -1;
    x->req_copy = p;
    x->req = *req;
    x->req_view = &x->req;
    memcpy(p, req->method, req->method_len);
    x->req.method = p;
    p += req->method_len;
    memcpy(p, req->target, req->target_len);
    x->req.target = p;
    p += req->target_len;
    x->req.path = x->req.query = x->req.host = NULL;
    x->req.path_len = x->req.query_len = x->req.host_len = 0;
    for (uint32_t i = 0; i < req->n_headers; i++) {
        const struct rp_http1_header *h = &req->headers[i];
        memcpy(p, h->name, h->name_len);
        x->req.headers[i].name = p;
        p += h->name_len;
        memcpy(p, h->value, h->value_len);
        x->req.headers[i].value = p;
        p += h->value_len;
    }
    return 0;
}

/* Under the shard's lock: does the stored variant o answer this request
 * (the request's values of the fields its Vary names are the stored
 * ones)? */
struct vary_arg {
    const struct rp_http1_request *req;
};

static bool variant_matches(const struct rp_cache_obj *o, void *arg)
{
    const struct vary_arg *va = arg;
    struct cache_meta m;
    meta_get(o, &m);
    if (!m.vary_len)
        return o->variant_len == 0;
    struct rp_http1_header vary = {"vary", meta_fields(o) + m.vary_off, 4, m.vary_len};
    char key[2048];
    int n = rp_vary_key(&vary, 1, va->req->headers, va->req->n_headers, key, sizeof key);
    return n >= 0 && (uint32_t)n == o->variant_len && memcmp(key, o->variant, (size_t)n) == 0;
}

/* The request carries validators or a precondition of its own. */
static bool has_conditionals(const struct rp_http1_request *req)
{
    for (uint32_t i = 0; i < req->n_headers; i++) {
        const struct rp_http1_header *h = &req->headers[i];
        if (rp_http1_name_is(h, "if-none-match", 13) || rp_http1_name_is(h, "if-modified-since", 17) ||
            rp_http1_name_is(h, "if-match", 8) || rp_http1_name_is(h, "if-unmodified-since", 19) ||
            rp_http1_name_is(h, "if-range", 8))
            return true;
    }
    return false;
}

/* The request a background refresh sends for req: the same GET and
 * fields, but none that makes it conditional, partial or cached, and with
 * `Cache-Control: no-cache` (the cache revalidates what it holds) and
 * `Connection: close`. NULL when out of memory. */
static char *refresh_request(const struct rp_http1_request *req, size_t *len)
{
    static const char *const drop[] = {"connection",   "keep-alive",        "te",
                                       "upgrade",      "proxy-connection",  "cache-control",
                                       "pragma",       "if-none-match",     "if-modified-since",
                                       "if-match",     "if-unmodified-since", "if-range",
                                       "range",        "content-length",    "transfer-encoding",
                                       "expect"};
    size_t cap = req->method_len + req->target_len + 120;
    for (uint32_t i = 0; i < req->n_headers; i++)
        cap += req->headers[i].name_len + req->headers[i].value_len + 4;
    char *b = malloc(cap);
    if (!b)
        return NULL;
    size_t o = 0;
    memcpy(b + o, "GET ", 4);
    o += 4;
    memcpy(b + o, req->target, req->target_len);
    o += req->target_len;
    memcpy(b + o, " HTTP/1.1\r\n", 11);
    o += 11;
    for (uint32_t i = 0; i < req->n_headers; i++) {
        const struct rp_http1_header *h = &req->headers[i];
        bool keep = true;
        for (size_t k = 0; keep && k < sizeof drop / sizeof drop[0]; k++)
            keep = !rp_http1_name_is(h, drop[k], strlen(drop[k]));
        if (!keep)
            continue;
        memcpy(b + o, h->name, h->name_len);
        o += h->name_len;
        memcpy(b + o, ": ", 2);
        o += 2;
        memcpy(b + o, h->value, h->value_len);
        o += h->value_len;
        memcpy(b + o, "\r\n", 2);
        o += 2;
    }
    /* the mark of this process's own refresh: revalidate what is stored,
     * and say nothing of it to the server (rp_cache_request) */
    int k = snprintf(b + o, cap - o, "X-Rpx-Refresh: %s\r\nConnection: close\r\n\r\n",
                     g_refresh_token);
    *len = o + (size_t)k;
    return b;
}

char *rp_cache_refresh_take(struct rp_cache_x *x, size_t *len, uint64_t *hash)
{
    char *r = x ? x->refresh : NULL;
    if (r) {
        *len = x->refresh_len;
        *hash = x->hash;
        x->refresh = NULL;
    }
    return r;
}

/* ---- encoded copies (a route that also compresses) ---------------------------------------- */

/* The stored fields, one by one ("Name: value\r\n" each, as the meta
 * holds them): the next in *h, and false after the last. */
static bool next_field(const char **f, const char *fe, struct rp_http1_header *h)
{
    const char *eol = memchr(*f, '\r', (size_t)(fe - *f));
    const char *colon = memchr(*f, ':', (size_t)(fe - *f));
    if (!eol || !colon || colon > eol)
        return false;
    *h = (struct rp_http1_header){*f, colon + 2, (uint32_t)(colon - *f),
                                  (uint32_t)(eol - colon - 2)};
    *f = eol + 2;
    return true;
}

/* The stored answer as a parsed response head, for compress's rules. */
static void stored_response(const struct rp_cache_obj *o, const struct cache_meta *m,
                            struct rp_http1_response *r)
{
    memset(r, 0, offsetof(struct rp_http1_response, headers));
    r->status = m->status;
    r->minor_version = 1;
    r->body = o->body_len ? RP_HTTP1_BODY_LENGTH : RP_HTTP1_BODY_NONE;
    r->content_length = o->body_len;
    const char *f = meta_fields(o), *fe = f + m->fields_len;
    while (r->n_headers < RP_HTTP1_MAX_HEADERS && next_field(&f, fe, &r->headers[r->n_headers]))
        r->n_headers++;
}

/* The variant bytes of o's copy encoded with `coding`. */
static size_t coded_variant(const struct rp_cache_obj *o, uint32_t coding, char *out, size_t cap)
{
    if (o->variant_len + 8 > cap)
        return 0;
    memcpy(out, o->variant, o->variant_len);
    memcpy(out + o->variant_len, coding == RP_CODING_BR ? "\x1f" "br" : "\x1f" "gzip",
           coding == RP_CODING_BR ? 3 : 5);
    return o->variant_len + (coding == RP_CODING_BR ? 3 : 5);
}

struct coded_arg {
    const char *variant;
    size_t len;
    int64_t response_time; /* of the answer it was made from */
};

static bool coded_matches(const struct rp_cache_obj *o, void *arg)
{
    const struct coded_arg *ca = arg;
    if (o->variant_len != ca->len || memcmp(o->variant, ca->variant, ca->len) != 0)
        return false;
    struct cache_meta m;
    meta_get(o, &m);
    return m.times.response_time == ca->response_time;
}

/* Encodes the stored answer o as compress would, once: the copy (its head
 * edited by compress's rules: Content-Encoding, a weak ETag, Vary, no
 * Accept-Ranges) is stored beside it and returned with a reference. NULL
 * when the answer is not one compress codes (m->vary_ae tells whether it
 * still gets Vary), or out of memory. */
static struct rp_cache_obj *encode(const struct rp_cache_obj *o, struct cache_meta *m,
                                   const struct rp_compress_def *cdef, uint32_t coding,
                                   struct rp_buf_pool *pool, const char *variant, size_t vlen)
{
    struct rp_http1_response view;
    stored_response(o, m, &view);
    struct rp_head_edit e;
    rp_head_edit_init(&e);
    struct rp_body_filters chain;
    rp_filters_init(&chain, pool, false);
    int rc = rp_compress_response(cdef, coding, &view, false, &e, &chain);
    m->vary_ae = e.extra_len > 0;
    if (rc != 1 || chain.n == 0) {
        rp_filters_free(&chain);
        return NULL;
    }
    struct rp_buf *out = rp_buf_get(pool);
    char *body = NULL;
    size_t len = 0, cap = 0, off = 0;
    bool ok = out != NULL;
    while (ok && !chain.finished) {
        ssize_t used = rp_filters_run(&chain, o->body + off, o->body_len - off, RP_FILTER_FINISH,
                                      out);
        if (used < 0)
            break;
        off += (size_t)used;
        size_t n = rp_buf_len(out);
        if (len + n > cap) {
            size_t ncap = cap ? cap * 2 : 16384;
            while (ncap < len + n)
                ncap *= 2;
            char *b = realloc(body, ncap);
            if (!b)
                break;
            body = b;
            cap = ncap;
        }
        memcpy(body + len, out->data + out->start, n);
        len += n;
        out->start = out->end = 0;
    }
    ok = ok && chain.finished;
    rp_buf_put(pool, out);
    rp_filters_free(&chain);
    /* the copy's head: the stored fields but those compress drops, then
     * the ones it adds */
    struct cache_meta cm = *m;
    cm.coding = (uint8_t)coding;
    cm.etag_len = cm.vary_len = 0;
    size_t fl = 0;
    for (uint32_t i = 0; i < view.n_headers; i++)
        fl += view.headers[i].name_len + view.headers[i].value_len + 4;
    char *meta = ok ? malloc(sizeof cm + fl + e.extra_len) : NULL;
    struct rp_cache_obj *c = NULL;
    if (meta) {
        char *f = meta + sizeof cm;
        size_t fo = 0;
        for (uint32_t i = 0; i < view.n_headers; i++) {
            const struct rp_http1_header *h = &view.headers[i];
            if (rp_head_edit_drops(&e, h))
                continue;
            if (rp_http1_name_is(h, "vary", 4) && !cm.vary_len) {
                cm.vary_off = (uint32_t)(fo + h->name_len + 2);
                cm.vary_len = h->value_len;
            }
            if (rp_http1_name_is(h, "etag", 4) && !cm.etag_len) {
                cm.etag_off = (uint32_t)(fo + h->name_len + 2);
                cm.etag_len = h->value_len;
            }
            size_t line = h->name_len + h->value_len + 4;
            memcpy(f + fo, h->name, h->name_len + h->value_len + 4); /* "N: v\r\n" as stored */
            fo += line;
        }
        /* the added lines ("ETag: W/..." among them) */
        const char *x = e.extra, *xe = e.extra + e.extra_len, *xline = x;
        struct rp_http1_header xh;
        for (; next_field(&x, xe, &xh); xline = x) {
            if (rp_http1_name_is(&xh, "etag", 4) && !cm.etag_len) {
                cm.etag_off = (uint32_t)(fo + (size_t)(xh.value - xline));
                cm.etag_len = xh.value_len;
            }
            memcpy(f + fo, xline, (size_t)(x - xline)); /* the line, CRLF included */
            fo += (size_t)(x - xline);
        }
        cm.fields_len = (uint32_t)fo;
        memcpy(meta, &cm, sizeof cm);
        c = rp_cache_obj_new(o->key, o->key_len, variant, (uint32_t)vlen, o->tags_len,
                             (uint32_t)(sizeof cm + fo), len);
        if (c) {
            memcpy(c->meta, meta, sizeof cm + fo);
            if (o->tags_len)
                memcpy(c->tags, o->tags, o->tags_len);
            if (len)
                memcpy(c->body, body, len);
            rp_cache_insert(g_store, c); /* if it does not fit, it still serves now */
        }
    }
    free(meta);
    free(body);
    return c;
}

/* A hit on a route that compresses, for a client that takes `coding`: the
 * encoded copy in place of x->obj (made now if there is none). */
static void serve_coded(struct rp_cache_x *x, const struct rp_compress_def *cdef, uint32_t coding,
                        struct rp_buf_pool *pool)
{
    struct cache_meta m;
    meta_get(x->obj, &m);
    char variant[2048];
    struct coded_arg ca = {variant, 0, m.times.response_time};
    struct rp_cache_obj *c = NULL;
    if (coding && (ca.len = coded_variant(x->obj, coding, variant, sizeof variant)))
        c = rp_cache_lookup(g_store, x->key, x->key_len, x->hash, coded_matches, &ca);
    if (!c && coding && ca.len)
        c = encode(x->obj, &m, cdef, coding, pool, variant, ca.len);
    else if (!c) {
        struct rp_http1_response view;
        stored_response(x->obj, &m, &view);
        struct rp_head_edit e;
        rp_head_edit_init(&e);
        rp_compress_response(cdef, 0, &view, false, &e, NULL);
        m.vary_ae = e.extra_len > 0;
    }
    if (c) {
        rp_cache_obj_unref(x->obj);
        x->obj = c;
    } else {
        x->vary_ae = m.vary_ae;
    }
}

struct rp_cache_x *rp_cache_request(const struct rp_cache_def *def,
                                    const struct rp_http1_request *req,
                                    const struct rp_value_ctx *vc, double now, bool may_wait,
                                    const struct rp_compress_def *cdef, uint32_t coding,
                                    struct rp_buf_pool *pool, struct rp_head_edit *req_edit)
{
    struct rp_cache_x *x = malloc(sizeof *x);
    if (!x)
        return NULL;
    memset(x, 0, offsetof(struct rp_cache_x, key));
    x->req_view = req; /* until copy_request */
    x->def = def;
    x->answer = RP_CACHE_BYPASS;
    x->verdict = "BYPASS";
    x->request_time = (int64_t)now;
    x->now = now;
    x->get = method_is(req, "GET");
    x->head = method_is(req, "HEAD");
    /* RFC 9111 4.4: a non-error answer to an unsafe method invalidates */
    x->unsafe = !x->get && !x->head && !method_is(req, "OPTIONS") && !method_is(req, "TRACE");
    if (!g_store)
        return x;
    x->key_len = (uint32_t)rp_pieces_eval(def->key, def->n_key, vc, x->key, sizeof x->key);
    x->hash = rp_cache_hash(x->key, x->key_len);
    if (x->unsafe || (!x->get && !x->head) || req->body != RP_HTTP1_BODY_NONE) {
        atomic_fetch_add(&g_counts.bypass, 1);
        return x;
    }
    rp_cc_parse(req->headers, req->n_headers, true, &x->qcc);
    /* this process's background refresh: revalidate, and the mark stays here */
    for (uint32_t i = 0; i < req->n_headers; i++)
        if (rp_http1_name_is(&req->headers[i], "x-rpx-refresh", 13) &&
            req->headers[i].value_len == sizeof g_refresh_token - 1 &&
            memcmp(req->headers[i].value, g_refresh_token, sizeof g_refresh_token - 1) == 0) {
            x->qcc.flags |= RP_CC_NO_CACHE;
            rp_head_edit_drop(req_edit, "x-rpx-refresh");
        }
    x->client_conditional = has_conditionals(req);
    struct vary_arg va = {req};
    x->obj = rp_cache_lookup(g_store, x->key, x->key_len, x->hash, variant_matches, &va);
    if (!x->obj) {
        x->verdict = "MISS";
        if (x->qcc.flags & RP_CC_ONLY_IF_CACHED) {
            x->answer = RP_CACHE_ONLY_CACHED;
            return x;
        }
        x->answer = pending_miss(x->hash, x, now, may_wait, &x->fetching);
        if (x->answer == RP_CACHE_BYPASS)
            x->verdict = "BYPASS"; /* found not storable lately */
        if (x->answer != RP_CACHE_WAIT)
            atomic_fetch_add(&g_counts.misses, 1);
        if (x->answer == RP_CACHE_MISS && copy_request(x, req) < 0) {
            x->answer = RP_CACHE_BYPASS;
            x->verdict = "BYPASS";
        }
        return x;
    }
    struct cache_meta m;
    meta_get(x->obj, &m);
    enum rp_cache_reuse reuse = rp_cache_reuse(&m.times, &m.rcc, &x->qcc, (int64_t)now, def->swr_s);
    switch (reuse) {
    case RP_CACHE_FRESH:
        atomic_fetch_add(&g_counts.hits, 1);
        x->answer = RP_CACHE_SERVE;
        x->verdict = "HIT";
        if (cdef)
            serve_coded(x, cdef, coding, pool);
        return x;
    case RP_CACHE_STALE_REVALIDATE_BG:
    case RP_CACHE_STALE_SERVE:
        /* served stale; within stale-while-revalidate, refreshed in the
         * background */
        if (reuse == RP_CACHE_STALE_REVALIDATE_BG)
            x->refresh = refresh_request(req, &x->refresh_len);
        atomic_fetch_add(&g_counts.stale, 1);
        x->answer = RP_CACHE_SERVE;
        x->verdict = "STALE";
        if (cdef)
            serve_coded(x, cdef, coding, pool);
        return x;
    case RP_CACHE_REVALIDATE:
        break;
    }
    if (x->qcc.flags & RP_CC_ONLY_IF_CACHED) {
        x->answer = RP_CACHE_ONLY_CACHED;
        return x;
    }
    if (copy_request(x, req) < 0) {
        x->answer = RP_CACHE_BYPASS;
        return x;
    }
    x->obj_usable_stale = true;
    x->answer = RP_CACHE_VALIDATE;
    x->verdict = "EXPIRED";
    /* Validators of our own only when the client sent none: a client's
     * conditional request goes as it is, and its 304 is its own. */
    if (!x->client_conditional) {
        const char *fields = meta_fields(x->obj);
        if (m.etag_len)
            rp_head_edit_add(req_edit, "If-None-Match", fields + m.etag_off, m.etag_len);
        else if (m.last_modified >= 0) {
            char d[30];
            size_t n = rp_http_date_format(m.last_modified, d);
            rp_head_edit_add(req_edit, "If-Modified-Since", d, n);
        }
    }
    return x;
}

/* ---- the response ------------------------------------------------------------------------- */

/* Fields a cache does not keep: hop-by-hop ones, the framing it makes
 * again, Age (it says its own). */
static bool field_kept(const struct rp_http1_header *h, const struct rp_http1_header *conn)
{
    static const char *const drop[] = {"connection",        "keep-alive", "proxy-connection",
                                       "te",                "trailer",    "transfer-encoding",
                                       "upgrade",           "content-length", "age",
                                       "proxy-authenticate"};
    for (size_t i = 0; i < sizeof drop / sizeof drop[0]; i++)
        if (rp_http1_name_is(h, drop[i], strlen(drop[i])))
            return false;
    /* names the Connection field lists are hop-by-hop too */
    for (; conn; conn = NULL) {
        const char *v = conn->value, *e = v + conn->value_len;
        while (v < e) {
            while (v < e && (*v == ' ' || *v == '\t' || *v == ','))
                v++;
            const char *t = v;
            while (v < e && *v != ',' && *v != ' ' && *v != '\t')
                v++;
            if (v > t && h->name_len == (size_t)(v - t) && strncasecmp(h->name, t, h->name_len) == 0)
                return false;
        }
    }
    return true;
}

/* The meta block for a response to store: times, directives, validators,
 * its kept fields. NULL when it is too large or out of memory. */
static char *make_meta(struct rp_cache_x *x, const struct rp_http1_response *resp,
                       const struct rp_cache_control *rcc, int64_t now, uint32_t *len)
{
    const struct rp_http1_header *conn = rp_head_field(resp->headers, resp->n_headers, "connection");
    size_t fl = 0;
    for (uint32_t i = 0; i < resp->n_headers; i++)
        if (field_kept(&resp->headers[i], conn))
            fl += resp->headers[i].name_len + resp->headers[i].value_len + 4;
    if (fl > CACHE_FIELDS_MAX)
        return NULL;
    struct cache_meta m = {0};
    m.status = resp->status;
    m.rcc = *rcc;
    m.last_modified = -1;
    rp_cache_times_init(&m.times, resp, rcc, x->request_time, now, x->def->heuristic_max_s);
    /* The policy's lifetimes: ttl where the response gives none, max_ttl
     * over all. */
    bool explicit_fresh = rcc->s_maxage != RP_CC_ABSENT || rcc->max_age != RP_CC_ABSENT ||
                          rp_head_field(resp->headers, resp->n_headers, "expires");
    if (!explicit_fresh && x->def->ttl_s && rp_cache_status_heuristic(resp->status))
        m.times.lifetime = x->def->ttl_s;
    if (x->def->max_ttl_s && m.times.lifetime > (int64_t)x->def->max_ttl_s)
        m.times.lifetime = x->def->max_ttl_s;
    if (m.rcc.stale_if_error == RP_CC_ABSENT && x->def->sie_s)
        m.rcc.stale_if_error = x->def->sie_s;
    /* a response without Date gets the time it came (RFC 9110 6.6.1) */
    bool dated = rp_head_field(resp->headers, resp->n_headers, "date") != NULL;
    char *p = malloc(sizeof m + fl + 40);
    if (!p)
        return NULL;
    char *f = p + sizeof m;
    size_t o = 0;
    bool vary_seen = false;
    for (uint32_t i = 0; i < resp->n_headers; i++) {
        const struct rp_http1_header *h = &resp->headers[i];
        if (!field_kept(h, conn))
            continue;
        memcpy(f + o, h->name, h->name_len);
        o += h->name_len;
        memcpy(f + o, ": ", 2);
        o += 2;
        if (rp_http1_name_is(h, "etag", 4) && !m.etag_len) {
            m.etag_off = (uint32_t)o;
            m.etag_len = h->value_len;
        }
        if (rp_http1_name_is(h, "vary", 4) && !vary_seen) {
            /* several Vary fields: the first is what is matched on; the
             * variant key was made from all of them (rp_vary_key) */
            m.vary_off = (uint32_t)o;
            m.vary_len = h->value_len;
            vary_seen = true;
        }
        if (rp_http1_name_is(h, "last-modified", 13))
            m.last_modified = rp_http_date_parse(h->value, h->value_len);
        memcpy(f + o, h->value, h->value_len);
        o += h->value_len;
        memcpy(f + o, "\r\n", 2);
        o += 2;
    }
    if (!dated) {
        memcpy(f + o, "Date: ", 6);
        o += 6;
        o += rp_http_date_format(now, f + o);
        memcpy(f + o, "\r\n", 2);
        o += 2;
    }
    m.fields_len = (uint32_t)o;
    memcpy(p, &m, sizeof m);
    *len = (uint32_t)(sizeof m + o);
    return p;
}

/* Surrogate-Key (space-separated) and Cache-Tag (comma-separated) names,
 * each followed by a NUL. */
static void collect_tags(struct rp_cache_x *x, const struct rp_http1_response *resp)
{
    size_t cap = 0;
    for (uint32_t i = 0; i < resp->n_headers; i++)
        if (rp_http1_name_is(&resp->headers[i], "surrogate-key", 13) ||
            rp_http1_name_is(&resp->headers[i], "cache-tag", 9))
            cap += resp->headers[i].value_len + 1;
    if (!cap || !(x->tags = malloc(cap)))
        return;
    size_t o = 0;
    for (uint32_t i = 0; i < resp->n_headers; i++) {
        const struct rp_http1_header *h = &resp->headers[i];
        bool sk = rp_http1_name_is(h, "surrogate-key", 13);
        if (!sk && !rp_http1_name_is(h, "cache-tag", 9))
            continue;
        const char *v = h->value, *e = v + h->value_len;
        while (v < e) {
            while (v < e && (*v == ' ' || *v == '\t' || (!sk && *v == ',')))
                v++;
            const char *t = v;
            while (v < e && *v != ' ' && *v != '\t' && (sk || *v != ','))
                v++;
            if (v > t) {
                memcpy(x->tags + o, t, (size_t)(v - t));
                o += (size_t)(v - t);
                x->tags[o++] = '\0';
            }
        }
    }
    x->tags_len = (uint32_t)o;
}

/* Puts the complete response in the store. */
static void commit(struct rp_cache_x *x)
{
    struct rp_cache_obj *o =
        rp_cache_obj_new(x->key, x->key_len, x->variant, (uint32_t)x->variant_len, x->tags_len,
                         x->meta_len, x->body_len);
    if (!o)
        return;
    if (x->tags_len)
        memcpy(o->tags, x->tags, x->tags_len);
    memcpy(o->meta, x->meta, x->meta_len);
    if (x->body_len)
        memcpy(o->body, x->body, x->body_len);
    if (rp_cache_insert(g_store, o))
        atomic_fetch_add(&g_counts.stored, 1);
    rp_cache_obj_unref(o);
    if (x->fetching) {
        pending_end(x->hash, x, x->now, false); /* the waiters find it now */
        x->fetching = false;
    }
}

/* The filter that keeps a copy: output is the input, unchanged. */
static int store_run(void *st, const char *in, size_t in_len, size_t *used, char *out,
                     size_t room, size_t *made, enum rp_filter_mode mode)
{
    struct rp_cache_x *x = st;
    size_t n = in_len < room ? in_len : room;
    memcpy(out, in, n);
    *used = *made = n;
    if (x->storing && n) {
        if (x->body_len + n > x->def->max_object) {
            x->storing = false; /* too large: relayed, not kept, and the
                                   requests waiting for it go themselves */
            if (x->fetching) {
                pending_end(x->hash, x, x->now, true);
                x->fetching = false;
            }
        } else {
            if (x->body_len + n > x->body_cap) {
                uint64_t cap = x->body_cap ? x->body_cap * 2 : 16384;
                while (cap < x->body_len + n)
                    cap *= 2;
                if (cap > x->def->max_object)
                    cap = x->def->max_object;
                char *b = realloc(x->body, cap);
                if (!b) {
                    x->storing = false;
                    return 0;
                }
                x->body = b;
                x->body_cap = cap;
            }
            memcpy(x->body + x->body_len, in, n);
            x->body_len += n;
        }
    }
    if (mode == RP_FILTER_FINISH && n == in_len) {
        if (x->storing) {
            x->storing = false;
            commit(x);
        }
        return 1;
    }
    return 0;
}

static void store_free(void *st)
{
    (void)st; /* the exchange owns x */
}

static const struct rp_filter_ops store_ops = {"cache-store", store_run, store_free};

/* Removes what an unsafe request changed: its own key, and the URIs its
 * answer's Location and Content-Location name on the same host (RFC 9111
 * 4.4), when the key is the default one (scheme://host + target). */
static void invalidate(struct rp_cache_x *x, const struct rp_http1_response *resp)
{
    rp_cache_purge_key(g_store, x->key, x->key_len);
    const char *sep = memmem(x->key, x->key_len, "://", 3);
    if (!sep)
        return;
    const char *slash = memchr(sep + 3, '/', x->key_len - (size_t)(sep + 3 - x->key));
    size_t origin_len = slash ? (size_t)(slash - x->key) : x->key_len;
    for (uint32_t i = 0; i < resp->n_headers; i++) {
        const struct rp_http1_header *h = &resp->headers[i];
        if (!rp_http1_name_is(h, "location", 8) && !rp_http1_name_is(h, "content-location", 16))
            continue;
        char k[CACHE_KEY_MAX];
        size_t n;
        if (h->value_len && h->value[0] == '/' && (h->value_len < 2 || h->value[1] != '/')) {
            if (origin_len + h->value_len > sizeof k)
                continue;
            memcpy(k, x->key, origin_len);
            memcpy(k + origin_len, h->value, h->value_len);
            n = origin_len + h->value_len;
        } else if (h->value_len > origin_len && strncasecmp(h->value, x->key, origin_len) == 0 &&
                   h->value[origin_len] == '/' && h->value_len <= sizeof k) {
            memcpy(k, h->value, h->value_len);
            n = h->value_len;
        } else {
            continue; /* another host's: not ours to drop */
        }
        rp_cache_purge_key(g_store, k, n);
    }
}

/* The 304 names a field of this name: its value replaces the stored one. */
static bool has_field(const struct rp_http1_response *resp, const char *name, size_t n)
{
    for (uint32_t i = 0; i < resp->n_headers; i++)
        if (resp->headers[i].name_len == n && strncasecmp(resp->headers[i].name, name, n) == 0)
            return true;
    return false;
}

static bool store_decision(struct rp_cache_x *x, const struct rp_http1_response *resp, double now,
                           struct rp_body_filters *chain, bool *reframe);

bool rp_cache_response(struct rp_cache_x *x, const struct rp_http1_response *resp, double now,
                       struct rp_head_edit *edit, struct rp_body_filters *chain, bool *reframe)
{
    *reframe = false;
    if (!x)
        return false;
    bool serve_stored = g_store && store_decision(x, resp, now, chain, reframe);
    if (x->fetching && !x->storing) {
        /* not stored: requests waiting for it go to the server; for a
         * response that is not storable, later ones too, for a while */
        pending_end(x->hash, x, now, x->unstorable);
        x->fetching = false;
    }
    if (!serve_stored && x->def->status_header)
        rp_head_edit_add(edit, x->def->status_header, x->verdict, strlen(x->verdict));
    return serve_stored;
}

static bool store_decision(struct rp_cache_x *x, const struct rp_http1_response *resp, double now,
                           struct rp_body_filters *chain, bool *reframe)
{
    if (x->unsafe) {
        if (resp->status < 400)
            invalidate(x, resp);
        return false;
    }
    if (x->answer == RP_CACHE_BYPASS || x->answer == RP_CACHE_SERVE)
        return false;
    if (x->answer == RP_CACHE_VALIDATE && x->obj) {
        if (resp->status == 304 && !x->client_conditional) {
            /* RFC 9111 4.3.4: the stored response, its fields updated from
             * the 304's, fresh again. */
            atomic_fetch_add(&g_counts.revalidated, 1);
            x->verdict = "REVALIDATED";
            struct cache_meta m;
            meta_get(x->obj, &m);
            struct rp_cache_control rcc;
            rp_cc_parse(resp->headers, resp->n_headers, false, &rcc);
            /* rebuild: the stored fields with the 304's replacing theirs */
            struct rp_http1_response stored, merged = *resp;
            stored_response(x->obj, &m, &stored);
            merged.status = m.status;
            merged.n_headers = 0;
            for (uint32_t i = 0; i < stored.n_headers; i++)
                if (!has_field(resp, stored.headers[i].name, stored.headers[i].name_len))
                    merged.headers[merged.n_headers++] = stored.headers[i];
            for (uint32_t i = 0; i < resp->n_headers && merged.n_headers < RP_HTTP1_MAX_HEADERS;
                 i++)
                if (!rp_http1_name_is(&resp->headers[i], "content-length", 14))
                    merged.headers[merged.n_headers++] = resp->headers[i];
            struct rp_cache_control mrcc;
            rp_cc_parse(merged.headers, merged.n_headers, false, &mrcc);
            uint32_t ml;
            char *meta = make_meta(x, &merged, &mrcc, (int64_t)now, &ml);
            if (!meta)
                return true; /* served as it was stored, not updated */
            struct rp_cache_obj *o = rp_cache_obj_new(x->key, x->key_len, x->obj->variant,
                                                      x->obj->variant_len, x->obj->tags_len, ml,
                                                      x->obj->body_len);
            if (o) {
                memcpy(o->meta, meta, ml);
                if (x->obj->tags_len)
                    memcpy(o->tags, x->obj->tags, x->obj->tags_len);
                if (x->obj->body_len)
                    memcpy(o->body, x->obj->body, x->obj->body_len);
                rp_cache_insert(g_store, o);
                rp_cache_obj_unref(x->obj);
                x->obj = o; /* serve the updated one */
            }
            free(meta);
            return true;
        }
        if (resp->status >= 500 && x->obj_usable_stale) {
            struct cache_meta m;
            meta_get(x->obj, &m);
            if (rp_cache_stale_if_error(&m.times, &m.rcc, &x->qcc, (int64_t)now, x->def->sie_s)) {
                x->verdict = "STALE";
                atomic_fetch_add(&g_counts.stale, 1);
                return true;
            }
        }
        if (resp->status == 404 || resp->status == 410)
            rp_cache_remove(g_store, x->obj); /* gone: not to be served stale */
    }
    /* A new response: store it if RFC 9111 3 allows and it is whole. */
    if (resp->status == 304 || x->qcc.flags & RP_CC_NO_STORE)
        return false;
    struct rp_cache_control rcc;
    rp_cc_parse(resp->headers, resp->n_headers, false, &rcc);
    struct rp_cache_request rq = {.get = x->get, .head = x->head, .cc = x->qcc};
    rq.authorization =
        rp_head_field(x->req_view->headers, x->req_view->n_headers, "authorization") != NULL;
    enum rp_cache_store_verdict v = rp_cache_storable(&rq, resp, &rcc);
    if (v != RP_CACHE_STORE_OK) {
        /* what the response says holds for every request of the key */
        x->unstorable = v == RP_CACHE_PRIVATE || v == RP_CACHE_VARY_STAR ||
                        (v == RP_CACHE_NO_STORE && (rcc.flags & RP_CC_NO_STORE)) ||
                        (v == RP_CACHE_NOT_CACHEABLE && resp->status < 500);
        return false;
    }
    /* a response that sets cookies is one client's */
    if (rp_head_field(resp->headers, resp->n_headers, "set-cookie") ||
        (resp->body == RP_HTTP1_BODY_LENGTH && resp->content_length > x->def->max_object)) {
        x->unstorable = true;
        return false;
    }
    if (!rp_cache_store_fits(g_store, resp->body == RP_HTTP1_BODY_LENGTH ? resp->content_length
                                                                           : 0))
        return false;
    /* a body coded beyond chunked (Transfer-Encoding: gzip, chunked) is not
     * decoded here */
    const struct rp_http1_header *te =
        rp_head_field(resp->headers, resp->n_headers, "transfer-encoding");
    if (te && !(te->value_len == 7 && strncasecmp(te->value, "chunked", 7) == 0)) {
        x->unstorable = true;
        return false;
    }
    char vk[2048];
    int vl = rp_vary_key(resp->headers, resp->n_headers, x->req_view->headers, x->req_view->n_headers, vk,
                         sizeof vk);
    if (vl < 0)
        return false;
    if (!(x->meta = make_meta(x, resp, &rcc, (int64_t)now, &x->meta_len)))
        return false;
    if (vl && !(x->variant = malloc((size_t)vl)))
        return false;
    if (vl)
        memcpy(x->variant, vk, (size_t)vl);
    x->variant_len = vl;
    collect_tags(x, resp);
    if (resp->body == RP_HTTP1_BODY_NONE || resp->status == 204 || x->head) {
        /* nothing follows: stored now (a HEAD's answer is not stored: it
         * has no body to serve a GET with) */
        if (!x->head)
            commit(x);
        return false;
    }
    if (rp_filters_add(chain, &store_ops, x) < 0)
        return false;
    x->storing = true;
    *reframe = resp->body != RP_HTTP1_BODY_LENGTH;
    return false;
}

bool rp_cache_on_error(struct rp_cache_x *x, double now)
{
    if (!x || !x->obj || !x->obj_usable_stale || !g_store)
        return false;
    struct cache_meta m;
    meta_get(x->obj, &m);
    if (!rp_cache_stale_if_error(&m.times, &m.rcc, &x->qcc, (int64_t)now, x->def->sie_s))
        return false;
    x->verdict = "STALE";
    atomic_fetch_add(&g_counts.stale, 1);
    return true;
}

/* ---- serving ------------------------------------------------------------------------------ */

static int add(struct rp_buf *b, const char *s, size_t n)
{
    return rp_buf_add(b, s, (uint32_t)n);
}

static int add_u64(struct rp_buf *b, uint64_t v)
{
    return rp_buf_add_u64(b, v);
}

/* Fields a 304 carries of the stored response (RFC 9110 15.4.5). */
static bool in_304(const char *name, size_t n)
{
    static const char *const keep[] = {"cache-control", "content-location", "date",
                                       "etag",          "expires",          "vary",
                                       "last-modified"};
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
        if (strlen(keep[i]) == n && strncasecmp(keep[i], name, n) == 0)
            return true;
    return false;
}

/* The boundary of multipart/byteranges answers: a string no body part
 * holds where it matters (RFC 2046 5.1.1 asks that it not appear in the
 * parts' text; each part's length is known, so it only has to be valid). */
#define MULTIPART_BOUNDARY "rpx-byteranges-3a7d1c"

/* Several ranges of the stored answer as one multipart/byteranges body
 * (RFC 9110 14.6) in x->multipart. Returns -1 when out of memory. */
static int multipart(struct rp_cache_x *x, const struct rp_cache_obj *o,
                     const struct cache_meta *m, const struct rp_ranges *rg)
{
    const char *ct = NULL;
    size_t ct_len = 0;
    const char *f = meta_fields(o), *fe = f + m->fields_len;
    struct rp_http1_header h;
    while (next_field(&f, fe, &h))
        if (rp_http1_name_is(&h, "content-type", 12)) {
            ct = h.value;
            ct_len = h.value_len;
        }
    size_t cap = 32;
    for (uint32_t i = 0; i < rg->n; i++)
        cap += 128 + ct_len + (rg->r[i].last - rg->r[i].first + 1);
    char *b = malloc(cap);
    if (!b)
        return -1;
    size_t n = 0;
    for (uint32_t i = 0; i < rg->n; i++) {
        int k = snprintf(b + n, cap - n, "--" MULTIPART_BOUNDARY "\r\n");
        n += (size_t)k;
        if (ct) {
            memcpy(b + n, "Content-Type: ", 14);
            memcpy(b + n + 14, ct, ct_len);
            memcpy(b + n + 14 + ct_len, "\r\n", 2);
            n += 16 + ct_len;
        }
        k = snprintf(b + n, cap - n, "Content-Range: bytes %llu-%llu/%llu\r\n\r\n",
                     (unsigned long long)rg->r[i].first, (unsigned long long)rg->r[i].last,
                     (unsigned long long)o->body_len);
        n += (size_t)k;
        size_t len = rg->r[i].last - rg->r[i].first + 1;
        memcpy(b + n, o->body + rg->r[i].first, len);
        n += len;
        memcpy(b + n, "\r\n", 2);
        n += 2;
    }
    int k = snprintf(b + n, cap - n, "--" MULTIPART_BOUNDARY "--\r\n");
    n += (size_t)k;
    x->multipart = b;
    x->multipart_len = n;
    return 0;
}

int rp_cache_serve_head(struct rp_cache_x *x, const struct rp_http1_request *req,
                        bool head_request, const struct rp_head_edit *edit, double now,
                        const char *tail, size_t tail_len, struct rp_buf *b, const char **body,
                        uint64_t *body_len)
{
    struct rp_cache_obj *o = x->obj;
    struct cache_meta m;
    meta_get(o, &m);
    const char *fields = meta_fields(o);
    const char *etag = m.etag_len ? fields + m.etag_off : NULL;
    uint64_t len = o->body_len;
    int status = m.status;
    uint64_t first = 0, last = len ? len - 1 : 0;
    bool ranged = false;
    *body = o->body;
    *body_len = head_request ? 0 : len;
    /* preconditions apply to a 2xx only (RFC 9110 13.2.1) */
    enum rp_cond_result cond =
        m.status >= 200 && m.status < 300
            ? rp_cond_evaluate(req->headers, req->n_headers, true, etag, m.etag_len,
                               m.last_modified)
            : RP_COND_NONE;
    if (cond == RP_COND_NOT_MODIFIED) {
        status = 304;
    } else if (cond == RP_COND_FAILED) {
        status = 412;
    } else if (m.status == 200 && !head_request && !m.coding) {
        struct rp_ranges rg;
        switch (rp_range_parse(req->headers, req->n_headers, len, etag, m.etag_len,
                               m.last_modified, &rg)) {
        case RP_RANGE_OK:
            status = 206;
            if (rg.n == 1) {
                first = rg.r[0].first;
                last = rg.r[0].last;
                ranged = true;
                *body = o->body + first;
                *body_len = last - first + 1;
            } else if (multipart(x, o, &m, &rg) == 0) {
                *body = x->multipart;
                *body_len = x->multipart_len;
            } else {
                status = m.status; /* out of memory: the whole (RFC 9110 14.2 allows) */
            }
            break;
        case RP_RANGE_UNSATISFIABLE:
            status = 416;
            break;
        case RP_RANGE_NONE:
            break;
        }
    }
    bool bodyless = status == 304 || status == 412 || status == 416 || status == 204;
    if (bodyless)
        *body_len = 0;
    int rc = add(b, "HTTP/1.1 ", 9);
    rc |= add_u64(b, (uint64_t)status);
    rc |= add(b, " ", 1);
    const char *reason = rp_reason(status);
    rc |= add(b, reason, strlen(reason));
    rc |= add(b, "\r\n", 2);
    if (status != 412 && status != 416) {
        const char *f = fields, *fe = fields + m.fields_len, *line = f;
        struct rp_http1_header h;
        for (; next_field(&f, fe, &h); line = f) {
            bool keep = status == 304 ? in_304(h.name, h.name_len) : true;
            if ((ranged || x->multipart) &&
                (rp_http1_name_is(&h, "content-range", 13) ||
                 (x->multipart && rp_http1_name_is(&h, "content-type", 12))))
                keep = false;
            if (keep && !(edit && rp_head_edit_drops(edit, &h)))
                rc |= add(b, line, (size_t)(f - line)); /* the line as stored, CRLF included */
        }
    }
    rc |= add(b, "Age: ", 5);
    int64_t age = rp_cache_current_age(&m.times, (int64_t)now);
    rc |= add_u64(b, age > 0 ? (uint64_t)age : 0);
    rc |= add(b, "\r\n", 2);
    if (status == 416) {
        rc |= add(b, "Content-Range: bytes */", 23);
        rc |= add_u64(b, len);
        rc |= add(b, "\r\nContent-Length: 0\r\n", 21);
    } else if (status != 304 && status != 204 && !(status >= 100 && status < 200)) {
        if (ranged) {
            rc |= add(b, "Content-Range: bytes ", 21);
            rc |= add_u64(b, first);
            rc |= add(b, "-", 1);
            rc |= add_u64(b, last);
            rc |= add(b, "/", 1);
            rc |= add_u64(b, len);
            rc |= add(b, "\r\n", 2);
        }
        if (x->multipart)
            rc |= add(b, "Content-Type: multipart/byteranges; boundary=" MULTIPART_BOUNDARY "\r\n",
                      sizeof "Content-Type: multipart/byteranges; boundary=" MULTIPART_BOUNDARY
                             "\r\n" - 1);
        rc |= add(b, "Content-Length: ", 16);
        rc |= add_u64(b, status == 412   ? 0
                         : ranged        ? last - first + 1
                         : x->multipart ? x->multipart_len
                                         : len);
        rc |= add(b, "\r\n", 2);
    }
    if (x->vary_ae)
        rc |= add(b, "Vary: Accept-Encoding\r\n", 23);
    if (x->def->status_header) {
        rc |= add(b, x->def->status_header, strlen(x->def->status_header));
        rc |= add(b, ": ", 2);
        rc |= add(b, x->verdict, strlen(x->verdict));
        rc |= add(b, "\r\n", 2);
    }
    if (edit && edit->extra_len)
        rc |= add(b, edit->extra, edit->extra_len);
    rc |= add(b, tail, tail_len);
    return rc ? -1 : status;
}

const char *rp_cache_verdict(const struct rp_cache_x *x)
{
    return x ? x->verdict : NULL;
}

/* ---- purge ---------------------------------------------------------------------------------- */

/* The default key (the compiler's, check_cache.c): scheme://host + target. */
static const struct rp_piece default_key[] = {
    {RP_PIECE_VALUE, RP_VAL_SCHEME, 0, NULL},
    {RP_PIECE_TEXT, 0, 3, "://"},
    {RP_PIECE_VALUE, RP_VAL_HOST, 0, NULL},
    {RP_PIECE_URI, 0, 0, NULL},
};

/* Purges the URL (a prefix when it ends in '*') under one way of making
 * keys. */
static uint64_t purge_url(const struct rp_piece *pieces, uint32_t n_pieces,
                          const struct rp_value_ctx *vc)
{
    char key[CACHE_KEY_MAX];
    size_t len = rp_pieces_eval(pieces, n_pieces, vc, key, sizeof key);
    if (!len)
        return 0;
    if (key[len - 1] == '*')
        return rp_cache_purge_prefix(g_store, key, len - 1);
    return rp_cache_purge_key(g_store, key, len);
}

/* Purges each name of a tag list (spaces for Surrogate-Key, commas for
 * Cache-Tag); returns how many objects went. */
static uint64_t purge_tags(const struct rp_http1_header *h, bool commas)
{
    uint64_t n = 0;
    const char *v = h->value, *e = v + h->value_len;
    while (v < e) {
        while (v < e && (*v == ' ' || *v == '\t' || (commas && *v == ',')))
            v++;
        const char *t = v;
        while (v < e && *v != ' ' && *v != '\t' && (!commas || *v != ','))
            v++;
        if (v > t)
            n += rp_cache_purge_tag(g_store, t, (size_t)(v - t));
    }
    return n;
}

uint64_t rp_cache_purge_request(const struct rp_http1_request *req, const struct rp_value_ctx *vc)
{
    if (!g_store)
        return 0;
    uint64_t n = 0;
    bool tagged = false;
    for (uint32_t i = 0; i < req->n_headers; i++) {
        const struct rp_http1_header *h = &req->headers[i];
        bool sk = rp_http1_name_is(h, "surrogate-key", 13);
        if (sk || rp_http1_name_is(h, "cache-tag", 9)) {
            tagged = true;
            n += purge_tags(h, !sk);
        }
    }
    if (tagged)
        return n;
    /* The URL's key as each caching route makes it (a route with a key of
     * its own files the URL under that), and the default one: a key made
     * twice finds nothing the second time, so nothing counts twice. */
    n += purge_url(default_key, 4, vc);
    for (uint32_t r = 0; g_prog && r < g_prog->n_routes; r++)
        for (const struct rp_step *st = g_prog->routes[r].steps; st && st->kind != RP_STEP_END;
             st++)
            if (st->kind == RP_STEP_CACHE) {
                const struct rp_cache_def *d = st->arg;
                n += purge_url(d->key, d->n_key, vc);
            }
    return n;
}
