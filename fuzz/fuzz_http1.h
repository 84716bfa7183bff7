/* fuzz_http1.h: what the HTTP/1 fuzz targets (fuzz_request.c,
 * fuzz_response.c, fuzz_chunked.c) share: the invariant check, a
 * deterministic PRNG seeded from the input, and an independent reading of a
 * head that the parsers' answers are compared with.
 *
 * The reference here is deliberately written differently from
 * runtime/http1.re: it splits an accepted head at CRLFs with plain loops and
 * recomputes every slice, flag and framing decision from the lines, so a
 * parser that accepts a head but describes it wrongly is caught, not only
 * one that crashes. */
#ifndef FUZZ_HTTP1_H
#define FUZZ_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rp/http1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant: on violation say which one (libFuzzer then saves the input
 * as crash-*) and abort. */
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "invariant violated: %s (%s:%d)\n", #cond, __FILE__, __LINE__);       \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* ---- input-derived randomness --------------------------------------------- */

static inline uint64_t fz_hash(const uint8_t *d, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ d[i]) * 0x100000001b3u;
    return h ? h : 1;
}

static inline uint64_t fz_next(uint64_t *s)
{
    uint64_t x = *s; /* xorshift64 */
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* ---- bytes and slices --------------------------------------------------------- */

static inline bool fz_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static inline bool fz_ows(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* A field-value byte (RFC 9110 5.5): HTAB, SP, VCHAR, obs-text. */
static inline bool fz_fvtext(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static inline bool fz_ieq(const void *s, size_t n, const char *lower)
{
    const unsigned char *p = s;
    if (n != strlen(lower))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (c >= 'A' && c <= 'Z')
            c += 'a' - 'A';
        if (c != (unsigned char)lower[i])
            return false;
    }
    return true;
}

/* [p, p+n) lies inside [lo, hi). Compared as integers, so a slice pointing
 * anywhere else is reported instead of being undefined behaviour. */
static inline bool fz_inside(const void *p, size_t n, const void *lo, const void *hi)
{
    uintptr_t a = (uintptr_t)p, l = (uintptr_t)lo, h = (uintptr_t)hi;
    return p != NULL && a >= l && a <= h && n <= h - a;
}

/* The prefix lengths worth re-parsing: around every line end (where the
 * parsers' decisions change) and a few chosen by the PRNG, at most 96, all
 * below `n`. Returns how many were written to ks. */
static inline size_t fz_prefixes(const uint8_t *d, size_t n, uint64_t *rng, size_t *ks)
{
    size_t m = 0, ends = 0;
    for (size_t i = 0; i < n; i++)
        ends += d[i] == '\n' || d[i] == '\r';
    size_t stride = ends / 32 + 1; /* about 32 line ends, three prefixes each */
    ends = 0;
    for (size_t i = 0; i < n && m < 90; i++) {
        if (d[i] != '\n' && d[i] != '\r')
            continue;
        if (ends++ % stride)
            continue;
        ks[m++] = i;
        if (i + 1 < n)
            ks[m++] = i + 1;
        if (i > 0)
            ks[m++] = i - 1;
    }
    for (int j = 0; j < 4 && n > 0; j++)
        ks[m++] = (size_t)(fz_next(rng) % n);
    if (n > 0)
        ks[m++] = n - 1;
    ks[m++] = 0;
    return m;
}

/* ---- the head as plain lines ------------------------------------------------- */

/* Bytes every accepted head satisfies: it ends with CRLF CRLF, every CR is
 * followed by LF and every LF preceded by CR (no bare CR or LF a server
 * behind could split differently), and there is no NUL. */
static inline void fz_check_head_bytes(const uint8_t *d, size_t n)
{
    CHECK(n >= 4 && memcmp(d + n - 4, "\r\n\r\n", 4) == 0);
    for (size_t i = 0; i < n; i++) {
        CHECK(d[i] != 0);
        if (d[i] == '\r')
            CHECK(i + 1 < n && d[i + 1] == '\n');
        if (d[i] == '\n')
            CHECK(i > 0 && d[i - 1] == '\r');
    }
}

/* The end of the line starting at p (its CR), inside a head checked above. */
static inline const uint8_t *fz_line_end(const uint8_t *p, const uint8_t *end)
{
    const uint8_t *cr = memchr(p, '\r', (size_t)(end - p));
    CHECK(cr != NULL);
    return cr;
}

/* What the field lines say, recomputed from the lines alone. */
struct fz_fields {
    uint32_t n;
    uint32_t flags; /* RP_HTTP1_F_* except HAS_HOST */
    uint32_t n_host;
    const uint8_t *host; /* the last Host value */
    size_t host_len;
    uint32_t n_cl, n_te; /* Content-Length and Transfer-Encoding fields */
    bool cl_bad; /* a Content-Length element is not 1-19 digits, or two differ */
    bool cl_seen;
    uint64_t cl; /* the (last) Content-Length value */
    uint32_t te_codings, te_chunked;
    bool te_last_chunked;
    bool te_ok; /* every coding is a non-empty token */
};

/* Splits a field value at commas (quotes mean nothing here, as in the
 * parser) and calls fn on each element with OWS trimmed. */
static inline void fz_list(const uint8_t *v, size_t n, void (*fn)(const uint8_t *, size_t, void *),
                           void *arg)
{
    size_t i = 0;
    for (;;) {
        size_t j = i;
        while (j < n && v[j] != ',')
            j++;
        size_t a = i, b = j;
        while (a < b && fz_ows(v[a]))
            a++;
        while (b > a && fz_ows(v[b - 1]))
            b--;
        fn(v + a, b - a, arg);
        if (j == n)
            return;
        i = j + 1;
    }
}

static inline void fz_conn_elem(const uint8_t *e, size_t n, void *arg)
{
    struct fz_fields *f = arg;
    if (fz_ieq(e, n, "close"))
        f->flags |= RP_HTTP1_F_CONN_CLOSE;
    if (fz_ieq(e, n, "keep-alive"))
        f->flags |= RP_HTTP1_F_CONN_KEEPALIVE;
    if (fz_ieq(e, n, "upgrade"))
        f->flags |= RP_HTTP1_F_CONN_UPGRADE;
}

static inline void fz_expect_elem(const uint8_t *e, size_t n, void *arg)
{
    struct fz_fields *f = arg;
    if (fz_ieq(e, n, "100-continue"))
        f->flags |= RP_HTTP1_F_EXPECT_CONTINUE;
}

static inline void fz_te_elem(const uint8_t *e, size_t n, void *arg)
{
    struct fz_fields *f = arg;
    bool token = n > 0;
    for (size_t i = 0; i < n; i++)
        token = token && fz_tchar(e[i]);
    f->te_ok = f->te_ok && token;
    f->te_codings++;
    f->te_last_chunked = fz_ieq(e, n, "chunked");
    f->te_chunked += f->te_last_chunked;
}

static inline void fz_cl_elem(const uint8_t *e, size_t n, void *arg)
{
    struct fz_fields *f = arg;
    uint64_t v = 0;
    bool ok = n >= 1 && n <= 19;
    for (size_t i = 0; i < n && ok; i++) {
        ok = e[i] >= '0' && e[i] <= '9';
        v = v * 10 + (uint64_t)(e[i] - '0');
    }
    if (!ok) {
        f->cl_bad = true;
        return;
    }
    if (f->cl_seen && f->cl != v)
        f->cl_bad = true;
    f->cl_seen = true;
    f->cl = v;
}

/* Checks the field lines from p (just after the start line) to the empty
 * line that ends the head at end, against the parser's headers[0..n), and
 * gathers what they say into f. */
static inline void fz_check_fields(const uint8_t *p, const uint8_t *end,
                                   const struct rp_http1_header *h, uint32_t n,
                                   struct fz_fields *f)
{
    memset(f, 0, sizeof *f);
    f->te_ok = true;
    for (;;) {
        const uint8_t *le = fz_line_end(p, end);
        if (le == p) { /* the empty line: it must end the head */
            CHECK(le + 2 == end);
            break;
        }
        CHECK(f->n < n);
        const struct rp_http1_header *hd = &h[f->n++];
        const uint8_t *colon = memchr(p, ':', (size_t)(le - p));
        CHECK(colon != NULL && colon > p);
        CHECK((const uint8_t *)hd->name == p && hd->name_len == (size_t)(colon - p));
        for (const uint8_t *c = p; c < colon; c++)
            CHECK(fz_tchar(*c));
        const uint8_t *v = colon + 1, *ve = le;
        while (v < ve && fz_ows(*v))
            v++;
        while (ve > v && fz_ows(ve[-1]))
            ve--;
        CHECK(hd->value_len == (size_t)(ve - v));
        CHECK(hd->value != NULL);
        if (v < ve)
            CHECK((const uint8_t *)hd->value == v);
        for (const uint8_t *c = v; c < ve; c++)
            CHECK(fz_fvtext(*c));

        size_t nl = (size_t)(colon - p), vl = (size_t)(ve - v);
        static const char *const hop[] = {"connection", "keep-alive", "proxy-connection",
                                          "te", "trailer", "transfer-encoding", "upgrade",
                                          "proxy-authenticate", "proxy-authorization"};
        bool is_hop = false;
        for (size_t i = 0; i < sizeof hop / sizeof hop[0]; i++)
            is_hop = is_hop || fz_ieq(p, nl, hop[i]);
        CHECK(rp_http1_is_hop_by_hop(hd->name, hd->name_len) == is_hop);
        CHECK(rp_http1_name_is(hd, "host", 4) == fz_ieq(p, nl, "host"));
        if (fz_ieq(p, nl, "host")) {
            f->n_host++;
            f->host = v;
            f->host_len = vl;
        } else if (fz_ieq(p, nl, "connection")) {
            fz_list(v, vl, fz_conn_elem, f);
        } else if (fz_ieq(p, nl, "expect")) {
            fz_list(v, vl, fz_expect_elem, f);
        } else if (fz_ieq(p, nl, "upgrade")) {
            f->flags |= RP_HTTP1_F_HAS_UPGRADE;
        } else if (fz_ieq(p, nl, "date")) {
            f->flags |= RP_HTTP1_F_HAS_DATE;
        } else if (fz_ieq(p, nl, "transfer-encoding")) {
            f->n_te++;
            fz_list(v, vl, fz_te_elem, f);
        } else if (fz_ieq(p, nl, "content-length")) {
            f->n_cl++;
            fz_list(v, vl, fz_cl_elem, f);
        }
        p = le + 2;
    }
    CHECK(f->n == n);
}

/* Every slice of a header array lies inside the head [d, d+n). */
static inline void fz_check_header_slices(const uint8_t *d, size_t n,
                                          const struct rp_http1_header *h, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        CHECK(h[i].name_len > 0 && fz_inside(h[i].name, h[i].name_len, d, d + n));
        CHECK(fz_inside(h[i].value, h[i].value_len, d, d + n));
    }
}

#endif
