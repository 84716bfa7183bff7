/* compress.c: the `compress` step (compress.h). */
#define ZLIB_CONST
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <brotli/encode.h>
#include <zlib.h>

#include "compress.h"
#include "edit.h"

/* ---- reading the request and response fields ------------------------------ */

static bool is_ows(char ch)
{
    return ch == ' ' || ch == '\t';
}

/* A qvalue (RFC 9110 12.4.2) in thousandths: "1" and "1.000" are 1000,
 * "0.5" 500, "0.001" 1; anything malformed is 0 (not acceptable). */
static int qvalue(const char *p, const char *end)
{
    if (p == end)
        return 0;
    if (*p == '1') {
        for (p++; p < end; p++)
            if (*p != '.' && *p != '0')
                return 0;
        return 1000;
    }
    if (*p != '0')
        return 0;
    if (++p < end && *p++ != '.')
        return 0;
    int q = 0, digits = 0;
    for (; p < end; p++, digits++) {
        if (*p < '0' || *p > '9' || digits == 3)
            return 0;
        q = q * 10 + (*p - '0');
    }
    for (; digits < 3; digits++)
        q *= 10;
    return q;
}

static bool token_is(const char *p, size_t n, const char *lit)
{
    return strlen(lit) == n && strncasecmp(p, lit, n) == 0;
}

/* Calls fn for each element of a comma-separated list field: the element
 * without surrounding white space. */
static void each_element(const struct rp_http1_header *h,
                         void (*fn)(const char *p, const char *end, void *arg), void *arg)
{
    const char *p = h->value, *end = h->value + h->value_len;
    while (p < end) {
        while (p < end && (is_ows(*p) || *p == ','))
            p++;
        const char *s = p;
        while (p < end && *p != ',')
            p++;
        const char *e = p;
        while (e > s && is_ows(e[-1]))
            e--;
        if (e > s)
            fn(s, e, arg);
    }
}

struct accept_scan {
    int gzip, br, star; /* weights in thousandths; -1: not named */
};

static void accept_element(const char *p, const char *end, void *arg)
{
    struct accept_scan *a = arg;
    const char *semi = memchr(p, ';', (size_t)(end - p));
    const char *name_end = semi ? semi : end;
    while (name_end > p && is_ows(name_end[-1]))
        name_end--;
    int weight = 1000;
    /* Parameters: only q means anything to a coding. */
    const char *q = semi;
    while (q && q < end) {
        q++; /* past the ';' */
        while (q < end && is_ows(*q))
            q++;
        const char *pe = q;
        while (pe < end && *pe != ';')
            pe++;
        const char *next = pe < end ? pe : NULL;
        while (pe > q && is_ows(pe[-1]))
            pe--;
        if (pe - q >= 2 && (q[0] == 'q' || q[0] == 'Q') && q[1] == '=')
            weight = qvalue(q + 2, pe);
        q = next;
    }
    size_t n = (size_t)(name_end - p);
    /* "x-gzip" is gzip (RFC 9110 8.4.1.3); a coding named twice keeps its
     * best weight. */
    int *slot = token_is(p, n, "gzip") || token_is(p, n, "x-gzip") ? &a->gzip
                : token_is(p, n, "br")                             ? &a->br
                : token_is(p, n, "*")                              ? &a->star
                                                                   : NULL;
    if (slot && weight > *slot)
        *slot = weight;
}

/* The request's weights for gzip and br (a coding not named takes "*"'s;
 * no field: none accepted). */
static void accept_weights(const struct rp_http1_header *h, uint32_t n, int *gzip, int *br)
{
    struct accept_scan a = {-1, -1, -1};
    for (uint32_t i = 0; i < n; i++)
        if (rp_http1_name_is(&h[i], "accept-encoding", 15))
            each_element(&h[i], accept_element, &a);
    int star = a.star > 0 ? a.star : 0;
    *gzip = a.gzip >= 0 ? a.gzip : star;
    *br = a.br >= 0 ? a.br : star;
}

uint32_t rp_accept_codings(const struct rp_http1_header *h, uint32_t n)
{
    int gzip, br;
    accept_weights(h, n, &gzip, &br);
    return (gzip > 0 ? RP_CODING_GZIP : 0) | (br > 0 ? RP_CODING_BR : 0);
}

uint32_t rp_accept_choose(const struct rp_http1_header *h, uint32_t n, uint32_t enabled)
{
    int gzip, br;
    accept_weights(h, n, &gzip, &br);
    if (!(enabled & RP_CODING_GZIP))
        gzip = 0;
    if (!(enabled & RP_CODING_BR))
        br = 0;
    /* The client's preference; on a tie br, which makes smaller bodies. */
    if (br > 0 && br >= gzip)
        return RP_CODING_BR;
    return gzip > 0 ? RP_CODING_GZIP : 0;
}

bool rp_compress_type_ok(const struct rp_compress_def *def, const char *ct, size_t len)
{
    size_t n = 0;
    while (n < len && ct[n] != ';' && !is_ows(ct[n]))
        n++;
    const char *slash = memchr(ct, '/', n);
    if (!slash)
        return false;
    size_t type_len = (size_t)(slash - ct);
    for (uint32_t i = 0; i < def->n_types; i++) {
        const char *t = def->types[i];
        size_t tl = strlen(t);
        if (tl == n && strncasecmp(t, ct, n) == 0)
            return true;
        /* type/ and a star: every subtype */
        if (tl == type_len + 2 && t[tl - 1] == '*' && strncasecmp(t, ct, type_len + 1) == 0)
            return true;
        if (tl == 3 && memcmp(t, "*/*", 3) == 0)
            return true;
    }
    return false;
}

static void no_transform_element(const char *p, const char *end, void *arg)
{
    const char *eq = memchr(p, '=', (size_t)(end - p));
    if (token_is(p, (size_t)((eq ? eq : end) - p), "no-transform"))
        *(bool *)arg = true;
}

static const struct rp_http1_header *find_field(const struct rp_http1_response *r,
                                                const char *lname, size_t len)
{
    for (uint32_t i = 0; i < r->n_headers; i++)
        if (rp_http1_name_is(&r->headers[i], lname, len))
            return &r->headers[i];
    return NULL;
}

/* The length a response declares, also for a response to HEAD (which has
 * no body to frame); false when it declares none. */
static bool declared_length(const struct rp_http1_response *r, uint64_t *len)
{
    if (r->body == RP_HTTP1_BODY_LENGTH) {
        *len = r->content_length;
        return true;
    }
    const struct rp_http1_header *h = find_field(r, "content-length", 14);
    if (!h || h->value_len == 0 || h->value_len > 19)
        return false;
    uint64_t v = 0;
    for (uint32_t i = 0; i < h->value_len; i++) {
        if (h->value[i] < '0' || h->value[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(h->value[i] - '0');
    }
    *len = v;
    return true;
}

/* Whether this response is one the route compresses, for any client. */
static bool compressible(const struct rp_compress_def *def, const struct rp_http1_response *r,
                         bool head_request)
{
    /* No body, or a body that is a part of one (206): left alone. */
    if (r->status < 200 || r->status == 204 || r->status == 205 || r->status == 206 ||
        r->status == 304)
        return false;
    if (!head_request && r->body == RP_HTTP1_BODY_NONE)
        return false;
    uint64_t len;
    if (declared_length(r, &len) && (len == 0 || len < def->min_length))
        return false;
    const struct rp_http1_header *h = find_field(r, "content-encoding", 16);
    if (h && !token_is(h->value, h->value_len, "identity"))
        return false;
    /* A body the server coded beyond chunked is relayed as it is. */
    h = find_field(r, "transfer-encoding", 17);
    if (h && !token_is(h->value, h->value_len, "chunked"))
        return false;
    h = find_field(r, "content-type", 12);
    if (!h || !rp_compress_type_ok(def, h->value, h->value_len))
        return false;
    bool no_transform = false;
    for (uint32_t i = 0; i < r->n_headers; i++)
        if (rp_http1_name_is(&r->headers[i], "cache-control", 13))
            each_element(&r->headers[i], no_transform_element, &no_transform);
    return !no_transform;
}

static bool vary_names_encoding(const struct rp_http1_response *r)
{
    for (uint32_t i = 0; i < r->n_headers; i++) {
        const struct rp_http1_header *h = &r->headers[i];
        if (!rp_http1_name_is(h, "vary", 4))
            continue;
        /* "*" or accept-encoding among the names */
        for (const char *p = h->value, *end = p + h->value_len; p < end;) {
            while (p < end && (is_ows(*p) || *p == ','))
                p++;
            const char *s = p;
            while (p < end && *p != ',' && !is_ows(*p))
                p++;
            if (token_is(s, (size_t)(p - s), "*") || token_is(s, (size_t)(p - s), "accept-encoding"))
                return true;
        }
    }
    return false;
}

int rp_compress_response(const struct rp_compress_def *def, uint32_t accepted,
                         const struct rp_http1_response *resp, bool head_request,
                         struct rp_head_edit *edit, struct rp_body_filters *filters)
{
    if (!compressible(def, resp, head_request))
        return 0;
    /* A cache in front must keep the coded and the plain answer apart. */
    if (!vary_names_encoding(resp) && rp_head_edit_add(edit, "Vary", "Accept-Encoding", 15) < 0)
        return 0;
    /* `accepted` is the one coding the request phase chose (rp_accept_choose). */
    bool br = (accepted & def->codings & RP_CODING_BR) != 0;
    if (!br && !(accepted & def->codings & RP_CODING_GZIP))
        return 0;
    struct rp_head_edit saved = *edit;
    int rc = rp_head_edit_add(edit, "Content-Encoding", br ? "br" : "gzip", br ? 2 : 4);
    rc |= rp_head_edit_drop(edit, "content-encoding"); /* "identity" */
    rc |= rp_head_edit_drop(edit, "accept-ranges");    /* ranges of the plain body */
    /* The coded body is another representation: a strong validator of the
     * plain one would be wrong for it; a weak one still revalidates (as
     * nginx does it). */
    const struct rp_http1_header *etag = find_field(resp, "etag", 4);
    if (etag && etag->value_len > 0 && etag->value[0] == '"') {
        char weak[RP_HEAD_EDIT_EXTRA_MAX];
        if (etag->value_len + 2 < sizeof weak) {
            memcpy(weak, "W/", 2);
            memcpy(weak + 2, etag->value, etag->value_len);
            rc |= rp_head_edit_drop(edit, "etag");
            rc |= rp_head_edit_add(edit, "ETag", weak, etag->value_len + 2);
        } else {
            rc = -1;
        }
    }
    edit->reframe = true;
    if (rc == 0 && !head_request) {
        uint64_t len = 0;
        declared_length(resp, &len);
        void *st = br ? rp_brotli_new((int)def->level, len, filters->pool)
                      : rp_gzip_new((int)def->level, len, filters->pool);
        rc = st ? rp_filters_add(filters, br ? &rp_brotli_filter : &rp_gzip_filter, st) : -1;
    }
    if (rc < 0) {
        *edit = saved;
        return -1;
    }
    return 1;
}

/* ---- the gzip filter ----------------------------------------------------------- */

struct gzip_state {
    z_stream z;
    struct rp_buf_pool *pool;
    int wbits, memlevel, level;
    struct gzip_state *next_free;
};

/* Compressors kept for reuse, per worker thread. A fresh zlib state per
 * response costs more than compressing a small body: its 64 KiB blocks go
 * back to the kernel when freed (madvise, a cross-CPU flush on a threaded
 * process) and fault in zeroed next time. A kept one is reset instead, as
 * nginx reuses its per-request pool. Each stays counted in the worker's
 * other_bytes while kept. */
#define GZIP_KEEP 16
static _Thread_local struct gzip_state *gzip_kept;
static _Thread_local unsigned gzip_n_kept;

/* zlib's memory, counted against limits { memory }. Each block carries its
 * size in front, for the count when it is freed. */
static void *gzip_alloc(void *opaque, unsigned items, unsigned size)
{
    struct rp_buf_pool *pool = opaque;
    size_t n = (size_t)items * size;
    max_align_t *p = malloc(sizeof(max_align_t) + n);
    if (!p)
        return NULL;
    *(size_t *)p = n;
    atomic_fetch_add_explicit(&pool->other_bytes, n, memory_order_relaxed);
    return p + 1;
}

static void gzip_free_block(void *opaque, void *block)
{
    struct rp_buf_pool *pool = opaque;
    if (!block)
        return; /* brotli frees NULL, as free() may be asked to */
    max_align_t *p = (max_align_t *)block - 1;
    atomic_fetch_sub_explicit(&pool->other_bytes, *(size_t *)p, memory_order_relaxed);
    free(p);
}

static void gzip_destroy(struct gzip_state *g)
{
    deflateEnd(&g->z);
    free(g);
}

/* A kept compressor of this shape, reset; NULL if none. */
static struct gzip_state *gzip_reuse(int wbits, int memlevel, int level,
                                     struct rp_buf_pool *pool)
{
    for (struct gzip_state **pp = &gzip_kept; *pp; pp = &(*pp)->next_free) {
        struct gzip_state *g = *pp;
        if (g->wbits != wbits || g->memlevel != memlevel || g->pool != pool)
            continue;
        *pp = g->next_free;
        gzip_n_kept--;
        if (deflateReset(&g->z) != Z_OK ||
            (g->level != level && deflateParams(&g->z, level, Z_DEFAULT_STRATEGY) != Z_OK)) {
            gzip_destroy(g);
            return NULL;
        }
        g->level = level;
        return g;
    }
    return NULL;
}

void *rp_gzip_new(int level, uint64_t length, struct rp_buf_pool *pool)
{
    /* A window larger than the body buys nothing: shrink it (and the hash
     * with it) for a body of known length, from 256 KiB of state down to a
     * few KiB for small ones. */
    int wbits = 15, memlevel = 8;
    if (length) {
        while (wbits > 9 && length < (1u << (wbits - 1)) - 262) {
            wbits--;
            memlevel--;
        }
        if (memlevel < 1)
            memlevel = 1;
    }
    if (level < 1 || level > 9)
        level = 6;
    struct gzip_state *g = gzip_reuse(wbits, memlevel, level, pool);
    if (g)
        return g;
    g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->pool = pool;
    g->wbits = wbits;
    g->memlevel = memlevel;
    g->level = level;
    g->z.zalloc = gzip_alloc;
    g->z.zfree = gzip_free_block;
    g->z.opaque = pool;
    /* 16 + wbits: the gzip wrapper (RFC 1952), as Content-Encoding: gzip
     * means. */
    if (deflateInit2(&g->z, level, Z_DEFLATED, 16 + wbits, memlevel, Z_DEFAULT_STRATEGY) != Z_OK) {
        free(g);
        return NULL;
    }
    return g;
}

static void brotli_clear_kept(void);

void rp_gzip_clear_kept(void)
{
    brotli_clear_kept();
    while (gzip_kept) {
        struct gzip_state *g = gzip_kept;
        gzip_kept = g->next_free;
        gzip_destroy(g);
    }
    gzip_n_kept = 0;
}

static int gzip_run(void *st, const char *in, size_t in_len, size_t *used, char *out,
                    size_t room, size_t *made, enum rp_filter_mode mode)
{
    struct gzip_state *g = st;
    /* zlib counts in uInt. */
    uInt in_n = in_len > UINT32_MAX ? UINT32_MAX : (uInt)in_len;
    uInt out_n = room > UINT32_MAX ? UINT32_MAX : (uInt)room;
    g->z.next_in = (const Bytef *)in;
    g->z.avail_in = in_n;
    g->z.next_out = (Bytef *)out;
    g->z.avail_out = out_n;
    bool all_in = in_n == in_len;
    int flush = mode == RP_FILTER_FINISH && all_in  ? Z_FINISH
                : mode == RP_FILTER_FLUSH && all_in ? Z_SYNC_FLUSH
                                                    : Z_NO_FLUSH;
    int rc = deflate(&g->z, flush);
    *used = in_n - g->z.avail_in;
    *made = out_n - g->z.avail_out;
    if (rc == Z_STREAM_END)
        return 1;
    /* Z_BUF_ERROR: nothing could move (no room, or nothing to do). */
    return rc == Z_OK || rc == Z_BUF_ERROR ? 0 : -1;
}

static void gzip_free(void *st)
{
    struct gzip_state *g = st;
    if (!RP_POOLS_KEEP || gzip_n_kept >= GZIP_KEEP) {
        gzip_destroy(g);
        return;
    }
    g->next_free = gzip_kept;
    gzip_kept = g;
    gzip_n_kept++;
}

const struct rp_filter_ops rp_gzip_filter = {
    .name = "gzip",
    .run = gzip_run,
    .free = gzip_free,
};

/* ---- the brotli filter --------------------------------------------------------- */

struct brotli_state {
    BrotliEncoderState *enc;
    struct rp_buf_pool *pool;
};

/* Brotli has no reset: each response makes an encoder, whose blocks (its
 * window, hash tables: up to a few MB) would go back to the kernel at its
 * end and fault in zeroed for the next. Freed blocks are kept per worker
 * thread and handed out again for the same size (an encoder of the same
 * settings asks for the same sizes), still counted in other_bytes. */
#define BROTLI_BLOCKS_KEPT 32
static _Thread_local struct {
    size_t n;
    void *block;
    struct rp_buf_pool *pool;
} brotli_kept[BROTLI_BLOCKS_KEPT];
static _Thread_local unsigned brotli_n_kept;

static void *brotli_alloc(void *opaque, size_t n)
{
    for (unsigned i = 0; i < brotli_n_kept; i++)
        if (brotli_kept[i].n == n && brotli_kept[i].pool == opaque) {
            void *b = brotli_kept[i].block;
            brotli_kept[i] = brotli_kept[--brotli_n_kept];
            return b;
        }
    return gzip_alloc(opaque, 1, (unsigned)n);
}

static void brotli_free_block(void *opaque, void *block)
{
    if (!block)
        return;
    size_t n = *(size_t *)((max_align_t *)block - 1);
    if (RP_POOLS_KEEP && brotli_n_kept < BROTLI_BLOCKS_KEPT && n >= 4096) {
        brotli_kept[brotli_n_kept].n = n;
        brotli_kept[brotli_n_kept].block = block;
        brotli_kept[brotli_n_kept].pool = opaque;
        brotli_n_kept++;
        return;
    }
    gzip_free_block(opaque, block);
}

void *rp_brotli_new(int level, uint64_t length, struct rp_buf_pool *pool)
{
    struct brotli_state *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->pool = pool;
    b->enc = BrotliEncoderCreateInstance(brotli_alloc, brotli_free_block, pool);
    if (!b->enc) {
        free(b);
        return NULL;
    }
    /* A level of `compress` is brotli's quality; the window is 512 KiB (as
     * nginx's brotli module has it), less for a short body of known length:
     * memory per response stays near a megabyte at most. */
    int lgwin = 19;
    while (length && lgwin > 10 && length <= (1ull << (lgwin - 1)))
        lgwin--;
    BrotliEncoderSetParameter(b->enc, BROTLI_PARAM_QUALITY, (uint32_t)(level < 0 ? 5 : level));
    BrotliEncoderSetParameter(b->enc, BROTLI_PARAM_LGWIN, (uint32_t)lgwin);
    BrotliEncoderSetParameter(b->enc, BROTLI_PARAM_MODE, BROTLI_MODE_TEXT);
    if (length && length < UINT32_MAX)
        BrotliEncoderSetParameter(b->enc, BROTLI_PARAM_SIZE_HINT, (uint32_t)length);
    return b;
}

static int brotli_run(void *st, const char *in, size_t in_len, size_t *used, char *out,
                      size_t room, size_t *made, enum rp_filter_mode mode)
{
    struct brotli_state *b = st;
    BrotliEncoderOperation op = mode == RP_FILTER_FINISH  ? BROTLI_OPERATION_FINISH
                                : mode == RP_FILTER_FLUSH ? BROTLI_OPERATION_FLUSH
                                                          : BROTLI_OPERATION_PROCESS;
    size_t avail_in = in_len, avail_out = room;
    const uint8_t *next_in = (const uint8_t *)in;
    uint8_t *next_out = (uint8_t *)out;
    /* A flush with nothing new to flush would only add an empty block. */
    if (op == BROTLI_OPERATION_FLUSH && in_len == 0 && !BrotliEncoderHasMoreOutput(b->enc))
        op = BROTLI_OPERATION_PROCESS;
    if (!BrotliEncoderCompressStream(b->enc, op, &avail_in, &next_in, &avail_out, &next_out, NULL))
        return -1;
    *used = in_len - avail_in;
    *made = room - avail_out;
    return BrotliEncoderIsFinished(b->enc) ? 1 : 0;
}

static void brotli_free(void *st)
{
    struct brotli_state *b = st;
    BrotliEncoderDestroyInstance(b->enc);
    free(b);
}

const struct rp_filter_ops rp_brotli_filter = {
    .name = "br",
    .run = brotli_run,
    .free = brotli_free,
};

static void brotli_clear_kept(void)
{
    while (brotli_n_kept) {
        brotli_n_kept--;
        gzip_free_block(brotli_kept[brotli_n_kept].pool, brotli_kept[brotli_n_kept].block);
    }
}
