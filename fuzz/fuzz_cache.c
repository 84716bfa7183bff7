/* fuzz_cache.c: libFuzzer target over the HTTP cache's readers of header
 * values a client or a server sent (runtime/cache_rfc.c): Cache-Control,
 * HTTP-dates, preconditions, Vary keys, ranges, and the storing, freshness
 * and reuse rules built on them.
 *
 * Input: a subject byte, then segments separated by NUL bytes. The first
 * segment is a list of decimal numbers (times, lengths, a status; missing
 * ones are 0), each later one a field "Name: value" (OWS around the value
 * removed, as the HTTP/1 parser does; without a colon, a name with an empty
 * value). Where a subject needs two heads (a request and a response), an
 * empty segment ends the first. The date subject reads everything after
 * the subject byte as one date, and as a number. Every name and value is
 * copied to a heap block of exactly its size, so ASan reports a read one
 * byte past a slice. Invariants, by subject:
 *
 *  - Cache-Control: values are absent or delta-seconds within 2^31 (or an
 *    unbounded max-stale); a head means the same with its directives in one
 *    field or in several (split at the commas outside quoted-strings, or
 *    joined with ", ") and in any letter case; a request reads what a
 *    response reads but for s-maxage and Pragma; a prefix of the fields
 *    has a subset of the flags and the same values where it has one;
 *  - dates: whatever parses lies in 1970..9999 and its IMF-fixdate has the
 *    same day, month, year and time and parses back to it; any time
 *    formats as the C library's gmtime/strftime say (clamped to
 *    1970..9999) and parses back; letter case does not matter;
 *  - preconditions: never a 304 for a method other than GET and HEAD; a
 *    412 for GET is one for any method; no precondition field, no answer;
 *    If-Match with no "*" fails for a weak or missing stored tag; field
 *    order and name case do not matter, and without a modification date
 *    neither do the date preconditions;
 *  - Vary: the key never exceeds cap, is the same for any larger cap (or
 *    -1 when it does not fit), for a copy of the request, for other letter
 *    case in names and Vary, and for other whitespace around list
 *    elements; no Vary, empty key;
 *  - ranges: equal, range for range and in the request's order, to an
 *    independent reading of RFC 9110 14.1 (ranges within the length,
 *    merged when they overlap or adjoin, at most RP_RANGES_MAX, none unless
 *    a 206); an If-Range that lets ranges through changes nothing;
 *  - storing, freshness, reuse: a stored response is a final GET response
 *    without no-store, private, Vary: * or unwarranted Authorization; the
 *    lifetime follows s-maxage, max-age, Expires, then the capped
 *    heuristic; the current age is RFC 9111 4.2.3's formula exactly
 *    (saturated), non-decreasing in now and growing no faster than it;
 *    fresh means current age under the lifetime (so now before both
 *    request_time and response_time + lifetime) and no no-cache; served
 *    stale only as max-stale or stale-while-revalidate allow and never
 *    when forbidden; freshness, any reuse and stale-if-error, once lost,
 *    never come back as now advances; fresh implies stale-if-error.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache_rfc.h"
#include "fuzz_http1.h" /* CHECK, fz_ieq, fz_ows, the entry point's prototype */

#define DELTA_MAX ((int64_t)1 << 31)     /* RFC 9111 1.2.2 */
#define DATE_MAX ((int64_t)253402300799) /* 9999-12-31 23:59:59, the last IMF-fixdate */
#define MAX_NUMS 12

typedef __int128 i128; /* exact sums of int64_t times, for the references */

/* ---- heap blocks ------------------------------------------------------------- */

/* Every block of an input, freed after it: the functions keep no pointer. */
static void **blocks;
static size_t n_blocks, cap_blocks;

static void *alloc(size_t n)
{
    void *p = malloc(n); /* ASan's malloc(0) is a block of its own too */
    CHECK(p != NULL);
    if (n_blocks == cap_blocks) {
        cap_blocks = cap_blocks ? 2 * cap_blocks : 256;
        blocks = realloc(blocks, cap_blocks * sizeof *blocks);
        CHECK(blocks != NULL);
    }
    blocks[n_blocks++] = p;
    return p;
}

static char *copy(const void *p, size_t n)
{
    char *c = alloc(n);
    if (n)
        memcpy(c, p, n);
    return c;
}

static char flip(char c)
{
    if (c >= 'a' && c <= 'z')
        return (char)(c - 32);
    if (c >= 'A' && c <= 'Z')
        return (char)(c + 32);
    return c;
}

/* A copy of p[0..n) with the case of every ASCII letter swapped. */
static char *flipped(const char *p, size_t n)
{
    char *c = alloc(n);
    for (size_t i = 0; i < n; i++)
        c[i] = flip(p[i]);
    return c;
}

/* ---- heads -------------------------------------------------------------------- */

struct fields {
    struct rp_http1_header *h;
    uint32_t n, cap;
};

static void add(struct fields *f, const char *name, size_t name_len, const char *value,
                size_t value_len)
{
    if (f->n == f->cap) {
        f->cap = f->cap ? 2 * f->cap : 16;
        struct rp_http1_header *h = alloc(f->cap * sizeof *h);
        if (f->n)
            memcpy(h, f->h, f->n * sizeof *h);
        f->h = h;
    }
    f->h[f->n++] = (struct rp_http1_header){.name = copy(name, name_len),
                                            .value = copy(value, value_len),
                                            .name_len = (uint32_t)name_len,
                                            .value_len = (uint32_t)value_len};
}

static bool named(const struct rp_http1_header *h, const char *lower)
{
    return fz_ieq(h->name, h->name_len, lower);
}

static bool has(const struct fields *f, const char *lower)
{
    for (uint32_t i = 0; i < f->n; i++)
        if (named(&f->h[i], lower))
            return true;
    return false;
}

/* The value of the first field called lower, or NULL. */
static const char *value_of(const struct fields *f, const char *lower, size_t *len)
{
    for (uint32_t i = 0; i < f->n; i++) {
        if (named(&f->h[i], lower)) {
            *len = f->h[i].value_len;
            return f->h[i].value;
        }
    }
    *len = 0;
    return NULL;
}

/* Splits the list v[0..n) where RFC 9110 5.6.1 does: at the commas outside
 * quoted-strings (in which a backslash escapes the next byte, 5.6.4). Each
 * element's [start, end), OWS around it removed and empty ones kept, goes
 * to at (room for n + 1); returns how many. *open: a quoted-string is still
 * open at the end, so anything appended to the value would join its last
 * element. */
static size_t split_list(const char *v, size_t n, size_t (*at)[2], bool *open)
{
    size_t k = 0, s = 0;
    bool quoted = false;
    for (size_t i = 0; i <= n; i++) {
        if (i < n) {
            if (quoted && v[i] == '\\' && i + 1 < n) {
                i++;
                continue;
            }
            if (v[i] == '"')
                quoted = !quoted;
            if (v[i] != ',' || quoted)
                continue;
        }
        size_t a = s, b = i;
        while (a < b && fz_ows((unsigned char)v[a]))
            a++;
        while (b > a && fz_ows((unsigned char)v[b - 1]))
            b--;
        at[k][0] = a;
        at[k][1] = b;
        k++;
        s = i + 1;
    }
    *open = quoted;
    return k;
}

/* ---- the input ---------------------------------------------------------------- */

struct input {
    int64_t num[MAX_NUMS];
    struct fields a, b;
};

/* Decimal integers, optionally negative, separated by anything else;
 * saturating at the int64_t range. */
static void read_numbers(const char *p, size_t n, int64_t *num)
{
    size_t i = 0;
    for (int k = 0; k < MAX_NUMS && i < n;) {
        bool neg = p[i] == '-' && i + 1 < n && p[i + 1] >= '0' && p[i + 1] <= '9';
        i += neg;
        if (p[i] < '0' || p[i] > '9') {
            i++;
            continue;
        }
        uint64_t v = 0, lim = (uint64_t)INT64_MAX + 1;
        for (; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
            uint64_t dig = (uint64_t)(p[i] - '0');
            v = v > (lim - dig) / 10 ? lim : v * 10 + dig;
        }
        num[k++] = neg ? (v == lim ? INT64_MIN : -(int64_t)v) : (v == lim ? INT64_MAX : (int64_t)v);
    }
}

/* Fields beyond the parser's RP_HTTP1_MAX_HEADERS are dropped; two: an
 * empty segment starts the second head. */
static void read_input(const char *d, size_t n, bool two, struct input *in)
{
    memset(in, 0, sizeof *in);
    const char *end = d + n, *z = memchr(d, 0, n);
    read_numbers(d, (size_t)((z ? z : end) - d), in->num);
    struct fields *f = &in->a;
    while (z) {
        const char *p = z + 1;
        z = memchr(p, 0, (size_t)(end - p));
        const char *e = z ? z : end;
        if (e == p) {
            if (two)
                f = &in->b;
            continue;
        }
        if (f->n == RP_HTTP1_MAX_HEADERS)
            continue;
        const char *colon = memchr(p, ':', (size_t)(e - p));
        const char *v = colon ? colon + 1 : e, *ve = e;
        while (v < ve && fz_ows((unsigned char)*v))
            v++;
        while (ve > v && fz_ows((unsigned char)ve[-1]))
            ve--;
        add(f, p, (size_t)((colon ? colon : e) - p), v, (size_t)(ve - v));
    }
}

/* ---- Cache-Control -------------------------------------------------------------- */

static bool cc_equal(const struct rp_cache_control *a, const struct rp_cache_control *b)
{
    return a->flags == b->flags && a->max_age == b->max_age && a->s_maxage == b->s_maxage &&
           a->max_stale == b->max_stale && a->min_fresh == b->min_fresh &&
           a->stale_while_revalidate == b->stale_while_revalidate &&
           a->stale_if_error == b->stale_if_error && a->present == b->present;
}

static void check_cc(const struct rp_cache_control *cc, bool request)
{
    const int64_t d[] = {cc->max_age,        cc->s_maxage,
                         cc->min_fresh,      cc->stale_while_revalidate,
                         cc->stale_if_error, cc->max_stale};
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++)
        CHECK(d[i] == RP_CC_ABSENT || (d[i] >= 0 && d[i] <= DELTA_MAX) ||
              (d[i] == RP_CC_INFINITE && i == 5)); /* max-stale without a value */
    CHECK(cc->flags < (uint32_t)RP_CC_INVALID << 1);
    if (request)
        CHECK(cc->s_maxage == RP_CC_ABSENT);
}

/* Each value a prefix of the head set is the one the whole head has: a
 * later field never overrides an earlier value (a conflict only adds
 * RP_CC_INVALID). */
static bool same_where_set(int64_t part, int64_t whole)
{
    return part == RP_CC_ABSENT || part == whole;
}

static void parse_both(const struct fields *f, struct rp_cache_control *q,
                       struct rp_cache_control *r)
{
    rp_cc_parse(f->h, f->n, true, q);
    rp_cc_parse(f->h, f->n, false, r);
}

static void cache_control(const struct input *in)
{
    const struct fields *f = &in->a;
    struct rp_cache_control q, r, x, y;
    parse_both(f, &q, &r);
    check_cc(&q, true);
    check_cc(&r, false);
    CHECK(q.present == has(f, "cache-control") && r.present == q.present);
    /* A request reads the same directives but s-maxage (a response's only,
     * so only there can its bad value invalidate the head) and, without
     * Cache-Control, Pragma's no-cache (RFC 9111 5.4). */
    CHECK(q.max_age == r.max_age && q.max_stale == r.max_stale && q.min_fresh == r.min_fresh &&
          q.stale_while_revalidate == r.stale_while_revalidate &&
          q.stale_if_error == r.stale_if_error);
    CHECK(((q.flags ^ r.flags) & ~(uint32_t)(RP_CC_NO_CACHE | RP_CC_INVALID)) == 0);
    CHECK(!(q.flags & RP_CC_INVALID) || (r.flags & RP_CC_INVALID));
    if (q.present || !has(f, "pragma"))
        CHECK((q.flags & RP_CC_NO_CACHE) == (r.flags & RP_CC_NO_CACHE));

    uint32_t ks[3] = {1, f->n / 2, f->n ? f->n - 1 : 0};
    for (int i = 0; i < 3; i++) {
        if (ks[i] >= f->n)
            continue;
        rp_cc_parse(f->h, ks[i], false, &x);
        CHECK((x.flags & ~r.flags) == 0);
        CHECK(same_where_set(x.max_age, r.max_age) && same_where_set(x.s_maxage, r.s_maxage) &&
              same_where_set(x.max_stale, r.max_stale) &&
              same_where_set(x.min_fresh, r.min_fresh) &&
              same_where_set(x.stale_while_revalidate, r.stale_while_revalidate) &&
              same_where_set(x.stale_if_error, r.stale_if_error));
    }

    /* The same directives one to a field, and all in one field in other
     * letter case (RFC 9111 5.2: directives are case-insensitive; 5.3 of
     * RFC 9110: a list may be split across fields). */
    struct fields split = {0}, joined = {0};
    size_t total = 0;
    for (uint32_t i = 0; i < f->n; i++)
        total += f->h[i].value_len + 2;
    char *buf = alloc(total);
    size_t len = 0;
    uint32_t at_joined = UINT32_MAX;
    bool joinable = true, open = false;
    for (uint32_t i = 0; i < f->n; i++) {
        const struct rp_http1_header *h = &f->h[i];
        if (!named(h, "cache-control")) {
            add(&split, h->name, h->name_len, h->value, h->value_len);
            add(&joined, flipped(h->name, h->name_len), h->name_len,
                flipped(h->value, h->value_len), h->value_len);
            continue;
        }
        size_t(*at)[2] = alloc((h->value_len + 1) * sizeof *at);
        /* A field ending inside a quoted-string would swallow the next. */
        joinable = joinable && !open;
        size_t k = split_list(h->value, h->value_len, at, &open);
        for (size_t j = 0; j < k; j++)
            add(&split, h->name, h->name_len, h->value + at[j][0], at[j][1] - at[j][0]);
        if (at_joined == UINT32_MAX) {
            at_joined = joined.n;
            add(&joined, "", 0, "", 0);
        } else {
            memcpy(buf + len, ", ", 2);
            len += 2;
        }
        memcpy(buf + len, h->value, h->value_len);
        len += h->value_len;
    }
    parse_both(&split, &x, &y);
    CHECK(cc_equal(&x, &q) && cc_equal(&y, &r));
    if (!joinable)
        return;
    if (at_joined != UINT32_MAX)
        joined.h[at_joined] = (struct rp_http1_header){.name = flipped("Cache-Control", 13),
                                                       .value = flipped(buf, len),
                                                       .name_len = 13,
                                                       .value_len = (uint32_t)len};
    parse_both(&joined, &x, &y);
    CHECK(cc_equal(&x, &q) && cc_equal(&y, &r));
}

/* ---- HTTP-dates ------------------------------------------------------------------ */

/* format(t) is gmtime's reading of t, clamped to what an IMF-fixdate can
 * show, and parses back to the clamped time. */
static void round_trip(int64_t t)
{
    char out[30];
    memset(out, '?', sizeof out);
    CHECK(rp_http_date_format(t, out) == 29 && out[29] == '\0');
    int64_t c = t < 0 ? 0 : t > DATE_MAX ? DATE_MAX : t;
    CHECK(rp_http_date_parse(copy(out, 29), 29) == c);
    /* An independent calendar: the C library's, in the C locale. */
    time_t tt = (time_t)c;
    struct tm tm;
    CHECK(gmtime_r(&tt, &tm) != NULL);
    char ref[64];
    CHECK(strftime(ref, sizeof ref, "%a, %d %b %Y %H:%M:%S GMT", &tm) == 29);
    CHECK(memcmp(ref, out, 30) == 0);
}

/* The date s (parsed to t in 1970..9999, not at a leap second, which is
 * the next minute) names the day, month, year and time that its
 * IMF-fixdate out shows. The day name is not compared: the parser does not
 * check it against the date. */
static void same_date(const char *s, size_t n, const char *out)
{
    char day[2], year[4];
    const char *mon, *tod;
    if (n == 29 && s[3] == ',') { /* IMF-fixdate */
        memcpy(day, s + 5, 2);
        mon = s + 8;
        memcpy(year, s + 12, 4);
        tod = s + 17;
    } else if (n == 24 && s[3] == ' ') { /* asctime, its day space-padded */
        day[0] = s[8] == ' ' ? '0' : s[8];
        day[1] = s[9];
        mon = s + 4;
        memcpy(year, s + 20, 4);
        tod = s + 11;
    } else { /* RFC 850: two-digit years 70-99 are 19xx, 00-69 20xx */
        const char *d = memchr(s, ',', n);
        CHECK(d != NULL);
        d++;
        memcpy(day, d + 1, 2);
        mon = d + 4;
        memcpy(year, d[8] < '7' ? "20" : "19", 2);
        memcpy(year + 2, d + 8, 2);
        tod = d + 11;
    }
    if (tod[6] == '6') /* :60 */
        return;
    CHECK(memcmp(out + 5, day, 2) == 0);
    const char lower[4] = {(char)(out[8] | 32), (char)(out[9] | 32), (char)(out[10] | 32), 0};
    CHECK(fz_ieq(mon, 3, lower)); /* names are matched case-insensitively */
    CHECK(memcmp(out + 12, year, 4) == 0);
    CHECK(memcmp(out + 17, tod, 8) == 0);
}

static void date(const char *d, size_t n)
{
    const char *s = copy(d, n);
    int64_t t = rp_http_date_parse(s, n);
    /* The year has four digits; a leap second at the end of 9999 is one
     * past the last time an IMF-fixdate shows. */
    CHECK(t == -1 || (t >= 0 && t <= DATE_MAX + 1));
    CHECK(rp_http_date_parse(flipped(s, n), n) == t);
    if (t >= 0) {
        char out[30];
        rp_http_date_format(t, out);
        CHECK(rp_http_date_parse(copy(out, 29), 29) == (t > DATE_MAX ? DATE_MAX : t));
        if (t > 0 && t <= DATE_MAX)
            same_date(s, n, out);
    }
    int64_t num[MAX_NUMS] = {0};
    read_numbers(s, n, num);
    round_trip(num[0]);
    round_trip(num[1]);
}

/* ---- preconditions ------------------------------------------------------------------ */

static void cond(const struct input *in)
{
    const struct fields *f = &in->a;
    size_t etag_len;
    const char *etag = value_of(f, "etag", &etag_len);
    int64_t lm = in->num[0];
    enum rp_cond_result get = rp_cond_evaluate(f->h, f->n, true, etag, etag_len, lm);
    enum rp_cond_result post = rp_cond_evaluate(f->h, f->n, false, etag, etag_len, lm);
    CHECK(get <= RP_COND_FAILED && post <= RP_COND_FAILED);
    /* 304 only answers GET and HEAD (RFC 9110 13.2.2 step 3) */
    CHECK(post != RP_COND_NOT_MODIFIED);
    /* If-Match and If-Unmodified-Since do not depend on the method */
    CHECK(get != RP_COND_FAILED || post == RP_COND_FAILED);
    bool any = has(f, "if-match") || has(f, "if-none-match") || has(f, "if-modified-since") ||
               has(f, "if-unmodified-since");
    if (!any)
        CHECK(get == RP_COND_NONE && post == RP_COND_NONE);
    /* If-Match compares strongly (13.1.1): a weak or missing stored tag
     * matches only "*". */
    bool star = false;
    for (uint32_t i = 0; i < f->n; i++)
        if (named(&f->h[i], "if-match"))
            star = star || memchr(f->h[i].value, '*', f->h[i].value_len) != NULL;
    if (has(f, "if-match") && !star &&
        (!etag || (etag_len >= 2 && etag[0] == 'W' && etag[1] == '/')))
        CHECK(get == RP_COND_FAILED && post == RP_COND_FAILED);

    /* The fields in reverse order, names in other case: the same. Without a
     * modification date, also without the date preconditions. */
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1 && lm >= 0)
            break;
        struct fields v = {0};
        for (uint32_t i = f->n; i-- > 0;) {
            const struct rp_http1_header *h = &f->h[i];
            if (pass == 1 && (named(h, "if-modified-since") || named(h, "if-unmodified-since")))
                continue;
            add(&v, flipped(h->name, h->name_len), h->name_len, h->value, h->value_len);
        }
        CHECK(rp_cond_evaluate(v.h, v.n, true, etag, etag_len, lm) == get);
        CHECK(rp_cond_evaluate(v.h, v.n, false, etag, etag_len, lm) == post);
    }
}

/* ---- Vary -------------------------------------------------------------------------- */

/* Room for any key of these heads: per Vary element its name, ':', '\n'
 * and at most every request value with a ',' per element; capped, as a key
 * of many elements each naming a long field could be far larger. */
static size_t vary_bound(const struct fields *resp, const struct fields *req)
{
    size_t values = 0, bound = 0;
    for (uint32_t i = 0; i < req->n; i++)
        values += 2 * (size_t)req->h[i].value_len + 1;
    for (uint32_t i = 0; i < resp->n; i++)
        if (named(&resp->h[i], "vary")) /* no more elements than bytes + 1 */
            bound += (resp->h[i].value_len + 1) * (values + 2) + resp->h[i].value_len;
    return bound < (1u << 20) ? bound : 1u << 20;
}

static void vary(const struct input *in)
{
    const struct fields *resp = &in->a, *req = &in->b;
    size_t cap = in->num[0] < 0 ? 0 : in->num[0] > 16384 ? 16384 : (size_t)in->num[0];
    size_t bound = vary_bound(resp, req);
    char *out = alloc(cap), *big = alloc(bound), *again = alloc(bound);
    int r = rp_vary_key(resp->h, resp->n, req->h, req->n, out, cap);
    CHECK(r >= -1 && r <= (int)cap);
    int whole = rp_vary_key(resp->h, resp->n, req->h, req->n, big, bound);
    if (bound < 1u << 20)
        CHECK(whole >= 0); /* the bound is one */
    if (whole >= 0 && (size_t)whole <= cap)
        CHECK(r == whole && memcmp(out, big, (size_t)whole) == 0);
    else
        CHECK(r == -1);
    if (!has(resp, "vary"))
        CHECK(whole == 0);
    if (whole < 0)
        return;

    /* A copy of the request, its names in other case and its list values
     * spaced otherwise (the key drops OWS around elements); the response's
     * names and Vary in other case: the same key. */
    struct fields req2 = {0}, spaced = {0}, resp2 = {0};
    for (uint32_t i = 0; i < req->n; i++) {
        const struct rp_http1_header *h = &req->h[i];
        add(&req2, h->name, h->name_len, h->value, h->value_len);
        size_t(*at)[2] = alloc((h->value_len + 1) * sizeof *at);
        bool open;
        size_t k = split_list(h->value, h->value_len, at, &open);
        char *v = alloc(h->value_len + 4 * k + 2);
        size_t len = 0;
        v[len++] = '\t';
        for (size_t j = 0; j < k; j++) {
            if (j) {
                memcpy(v + len, " ,\t ", 4);
                len += 4;
            }
            memcpy(v + len, h->value + at[j][0], at[j][1] - at[j][0]);
            len += at[j][1] - at[j][0];
        }
        v[len++] = ' ';
        add(&spaced, flipped(h->name, h->name_len), h->name_len, v, len);
    }
    for (uint32_t i = 0; i < resp->n; i++) {
        const struct rp_http1_header *h = &resp->h[i];
        bool is_vary = named(h, "vary");
        add(&resp2, flipped(h->name, h->name_len), h->name_len,
            is_vary ? flipped(h->value, h->value_len) : h->value, h->value_len);
    }
    const struct fields *reqs[2] = {&req2, &spaced};
    for (int i = 0; i < 2; i++) {
        int r2 = rp_vary_key(i ? resp2.h : resp->h, resp->n, reqs[i]->h, reqs[i]->n, again, bound);
        CHECK(r2 == whole && memcmp(again, big, (size_t)whole) == 0);
    }
}

/* ---- ranges ------------------------------------------------------------------------- */

struct span {
    uint64_t first, last;
    size_t from; /* the earliest element of the request it covers */
};

/* 1*DIGIT saturating at UINT64_MAX, as the cache reads a position. */
static bool ref_number(const char **p, const char *end, uint64_t *v)
{
    const char *s = *p;
    *v = 0;
    for (; *p < end && **p >= '0' && **p <= '9'; (*p)++) {
        unsigned d = (unsigned)(**p - '0');
        *v = *v > (UINT64_MAX - d) / 10 ? UINT64_MAX : *v * 10 + d;
    }
    return *p > s;
}

/* An independent reading of one Range value (RFC 9110 14.1, 14.1.1, 14.2):
 * the ranges of a 206 in the order of their earliest element, merged when
 * they overlap or adjoin. */
static enum rp_range_result ref_range(const char *v, size_t n, uint64_t length, struct span *out,
                                      uint32_t *count)
{
    *count = 0;
    if (n < 6 || !fz_ieq(v, 6, "bytes="))
        return RP_RANGE_NONE;
    bool any = false, empty_whole = false;
    size_t element = 0;
    const char *p = v + 6, *end = v + n;
    for (bool more = true; more;) {
        /* the range-set has no quoted-strings: every comma splits */
        const char *e = memchr(p, ',', (size_t)(end - p));
        const char *s = p, *t = e ? e : end;
        more = e != NULL;
        p = more ? e + 1 : end;
        while (s < t && fz_ows((unsigned char)*s))
            s++;
        while (t > s && fz_ows((unsigned char)t[-1]))
            t--;
        if (s == t)
            continue;
        element++;
        uint64_t first, last = UINT64_MAX;
        const char *q = s;
        bool suffix = *q == '-';
        if (suffix) {
            q++;
            if (!ref_number(&q, t, &last) || q != t)
                return RP_RANGE_NONE;
        } else {
            if (!ref_number(&q, t, &first) || q == t || *q++ != '-')
                return RP_RANGE_NONE;
            if (q < t && (!ref_number(&q, t, &last) || last < first))
                return RP_RANGE_NONE;
            if (q != t)
                return RP_RANGE_NONE;
        }
        any = true;
        struct span sp = {0, 0, element};
        if (suffix) { /* the last `last` bytes: none of nothing is all of it */
            if (last == 0)
                continue;
            if (length == 0) {
                empty_whole = true;
                continue;
            }
            sp.first = length - (last < length ? last : length);
            sp.last = length - 1;
        } else { /* satisfiable when it starts inside */
            if (first >= length)
                continue;
            sp.first = first;
            sp.last = last < length - 1 ? last : length - 1;
        }
        /* Absorb what it overlaps or adjoins (sp.last < UINT64_MAX: +1 is safe). */
        uint32_t k = 0;
        for (uint32_t i = 0; i < *count; i++) {
            struct span o = out[i];
            if (o.last + 1 < sp.first || sp.last + 1 < o.first) {
                out[k++] = o;
                continue;
            }
            sp.first = o.first < sp.first ? o.first : sp.first;
            sp.last = o.last > sp.last ? o.last : sp.last;
            sp.from = o.from < sp.from ? o.from : sp.from;
        }
        if (k == RP_RANGES_MAX)
            return RP_RANGE_NONE;
        out[k++] = sp;
        *count = k;
    }
    if (!any || empty_whole)
        return RP_RANGE_NONE;
    if (*count == 0)
        return RP_RANGE_UNSATISFIABLE;
    /* the request's order: by earliest element (an insertion sort of <= 8) */
    for (uint32_t i = 1; i < *count; i++)
        for (uint32_t j = i; j > 0 && out[j].from < out[j - 1].from; j--) {
            struct span tmp = out[j];
            out[j] = out[j - 1];
            out[j - 1] = tmp;
        }
    return RP_RANGE_OK;
}

static void check_ranges(enum rp_range_result r, const struct rp_ranges *rs, uint64_t length)
{
    CHECK(r <= RP_RANGE_UNSATISFIABLE);
    CHECK(rs->n <= RP_RANGES_MAX);
    CHECK(r == RP_RANGE_OK ? rs->n > 0 : rs->n == 0);
    for (uint32_t i = 0; i < rs->n; i++) {
        CHECK(rs->r[i].first <= rs->r[i].last && rs->r[i].last < length);
        for (uint32_t j = 0; j < i; j++) /* apart: neither overlapping nor adjoining */
            CHECK(rs->r[j].last + 1 < rs->r[i].first || rs->r[i].last + 1 < rs->r[j].first);
    }
}

static void range(const struct input *in)
{
    const struct fields *f = &in->a;
    uint64_t length = (uint64_t)in->num[0]; /* -1 is UINT64_MAX */
    int64_t lm = in->num[1];
    size_t etag_len;
    const char *etag = value_of(f, "etag", &etag_len);
    struct rp_ranges rs;
    memset(&rs, 0xa5, sizeof rs);
    enum rp_range_result r = rp_range_parse(f->h, f->n, length, etag, etag_len, lm, &rs);
    check_ranges(r, &rs, length);

    /* Without If-Range, and names in other case: the same, unless the
     * If-Range refused the ranges. */
    struct fields v = {0};
    uint32_t n_range = 0, n_if_range = 0;
    const struct rp_http1_header *rh = NULL;
    for (uint32_t i = 0; i < f->n; i++) {
        const struct rp_http1_header *h = &f->h[i];
        n_if_range += named(h, "if-range");
        if (named(h, "range")) {
            n_range++;
            rh = h;
        }
        if (!named(h, "if-range"))
            add(&v, flipped(h->name, h->name_len), h->name_len, h->value, h->value_len);
    }
    struct rp_ranges vs;
    enum rp_range_result vr = rp_range_parse(v.h, v.n, length, etag, etag_len, lm, &vs);
    check_ranges(vr, &vs, length);
    if (r != RP_RANGE_NONE || n_if_range == 0) {
        CHECK(vr == r && vs.n == rs.n);
        for (uint32_t i = 0; i < rs.n; i++)
            CHECK(vs.r[i].first == rs.r[i].first && vs.r[i].last == rs.r[i].last);
    }
    if (n_if_range > 1)
        CHECK(r == RP_RANGE_NONE);

    /* Against the reference: Range is a singleton, two are none. */
    if (n_range != 1) {
        CHECK(vr == RP_RANGE_NONE);
        return;
    }
    struct span want[RP_RANGES_MAX];
    uint32_t k;
    enum rp_range_result wr = ref_range(rh->value, rh->value_len, length, want, &k);
    CHECK(vr == wr && vs.n == (wr == RP_RANGE_OK ? k : 0));
    for (uint32_t i = 0; i < vs.n; i++)
        CHECK(vs.r[i].first == want[i].first && vs.r[i].last == want[i].last);
}

/* ---- storing, freshness, reuse ------------------------------------------------------ */

static i128 max128(i128 a, i128 b)
{
    return a > b ? a : b;
}

/* RFC 9111 4.2.3 in exact arithmetic, a clock that ran backwards counting
 * as none, capped at INT64_MAX. */
static int64_t ref_age(const struct rp_cache_times *t, int64_t now)
{
    i128 apparent = max128(0, (i128)t->response_time - t->date_value);
    i128 delay = max128(0, (i128)t->response_time - t->request_time);
    i128 corrected = max128(0, t->age_value) + delay;
    i128 age = max128(apparent, corrected) + max128(0, (i128)now - t->response_time);
    return age > INT64_MAX ? INT64_MAX : (int64_t)age;
}

/* must-revalidate, proxy-revalidate and (5.2.2.10) s-maxage */
static bool stale_forbidden(const struct rp_cache_control *rcc)
{
    return (rcc->flags & (RP_CC_MUST_REVALIDATE | RP_CC_PROXY_REVALIDATE)) || rcc->s_maxage >= 0;
}

struct verdict {
    enum rp_cache_reuse reuse;
    bool sie;
};

static struct verdict reuse_at(const struct rp_cache_times *t, const struct rp_cache_control *rcc,
                               const struct rp_cache_control *qcc, int64_t now, int64_t swr_default,
                               int64_t sie_default)
{
    struct verdict v = {rp_cache_reuse(t, rcc, qcc, now, swr_default),
                        rp_cache_stale_if_error(t, rcc, qcc, now, sie_default)};
    enum rp_cache_reuse u = v.reuse;
    int64_t age = rp_cache_current_age(t, now);
    int64_t lifetime = rcc->flags & RP_CC_INVALID ? 0 : t->lifetime > 0 ? t->lifetime : 0;
    CHECK(u <= RP_CACHE_REVALIDATE);
    if ((qcc->flags | rcc->flags) & RP_CC_NO_CACHE)
        CHECK(u == RP_CACHE_REVALIDATE);
    if (rcc->flags & RP_CC_NO_CACHE)
        CHECK(!v.sie);
    /* max-age=0 is an end-to-end revalidation (cache_rfc.c) */
    if (qcc->max_age == 0)
        CHECK(u == RP_CACHE_REVALIDATE);
    if (u == RP_CACHE_FRESH) {
        /* The age is at least the time since the response came, and since
         * the request went (response_delay + resident_time, or more when
         * the clocks disagree): fresh is younger than the lifetime by
         * every clock, without a margin. */
        CHECK(lifetime > age && (i128)now - t->response_time < lifetime &&
              (i128)now - t->request_time < lifetime);
        CHECK(qcc->max_age < 0 || age <= qcc->max_age);
        CHECK(qcc->min_fresh < 0 || lifetime - age >= qcc->min_fresh);
        CHECK(v.sie); /* serving it on an error is not serving stale */
    }
    if (u == RP_CACHE_STALE_SERVE || u == RP_CACHE_STALE_REVALIDATE_BG) {
        CHECK(lifetime <= age && !stale_forbidden(rcc) && qcc->min_fresh < 0);
        CHECK(qcc->max_age < 0 || age <= qcc->max_age);
    }
    if (u == RP_CACHE_STALE_SERVE)
        CHECK(qcc->max_stale >= 0 && age - lifetime <= qcc->max_stale);
    if (u == RP_CACHE_STALE_REVALIDATE_BG) {
        int64_t swr = rcc->stale_while_revalidate >= 0 ? rcc->stale_while_revalidate : swr_default;
        CHECK(qcc->max_age < 0 && swr > 0 && age - lifetime <= swr);
    }
    if (v.sie && lifetime <= age)
        CHECK(!stale_forbidden(rcc));
    return v;
}

static void times_check(const struct rp_cache_times *t, const struct rp_cache_control *rcc,
                        const struct rp_cache_control *qcc, const int64_t *num)
{
    int64_t now1 = num[4] < num[5] ? num[4] : num[5], now2 = num[4] < num[5] ? num[5] : num[4];
    int64_t a1 = rp_cache_current_age(t, now1), a2 = rp_cache_current_age(t, now2);
    CHECK(a1 >= 0 && a1 == ref_age(t, now1) && a2 == ref_age(t, now2));
    CHECK(a1 <= a2 && (i128)a2 - a1 <= (i128)now2 - now1);
    struct verdict v1 = reuse_at(t, rcc, qcc, now1, num[7], num[8]);
    struct verdict v2 = reuse_at(t, rcc, qcc, now2, num[7], num[8]);
    /* the age only grows: what is lost is not regained later */
    if (v2.reuse == RP_CACHE_FRESH)
        CHECK(v1.reuse == RP_CACHE_FRESH);
    if (v2.reuse != RP_CACHE_REVALIDATE)
        CHECK(v1.reuse != RP_CACHE_REVALIDATE);
    if (v2.sie)
        CHECK(v1.sie);
}

static bool vary_star(const struct fields *f)
{
    for (uint32_t i = 0; i < f->n; i++) {
        const struct rp_http1_header *h = &f->h[i];
        if (!named(h, "vary"))
            continue;
        size_t(*at)[2] = alloc((h->value_len + 1) * sizeof *at);
        bool open;
        size_t k = split_list(h->value, h->value_len, at, &open);
        for (size_t j = 0; j < k; j++)
            if (at[j][1] - at[j][0] == 1 && h->value[at[j][0]] == '*')
                return true;
    }
    return false;
}

static void store(const struct input *in)
{
    const struct fields *req = &in->a, *rf = &in->b;
    const int64_t *num = in->num;
    struct rp_http1_response *resp = alloc(sizeof *resp);
    memset(resp, 0, sizeof *resp);
    unsigned status = num[0] < 0 ? 0 : num[0] > 999 ? 999 : (unsigned)num[0];
    resp->status = (uint16_t)status;
    resp->n_headers = rf->n;
    if (rf->n)
        memcpy(resp->headers, rf->h, rf->n * sizeof *rf->h);
    unsigned method = (unsigned)((uint64_t)num[1] % 3); /* GET, HEAD, POST */
    struct rp_cache_request rq = {.get = method == 0,
                                  .head = method == 1,
                                  .unsafe = method == 2,
                                  .authorization = has(req, "authorization")};
    struct rp_cache_control rcc;
    rp_cc_parse(req->h, req->n, true, &rq.cc);
    rp_cc_parse(rf->h, rf->n, false, &rcc);

    enum rp_cache_store_verdict sv = rp_cache_storable(&rq, resp, &rcc);
    CHECK(sv <= RP_CACHE_NOT_CACHEABLE);
    if (!rq.get)
        CHECK(sv == RP_CACHE_NOT_GET);
    if (sv == RP_CACHE_STORE_OK) {
        CHECK(status >= 200 && status <= 599 && status != 206 && status != 304);
        CHECK(!(rq.cc.flags & RP_CC_NO_STORE) && !(rcc.flags & RP_CC_PRIVATE));
        CHECK(!(rcc.flags & RP_CC_NO_STORE) || (rcc.flags & RP_CC_MUST_UNDERSTAND));
        CHECK(!rq.authorization || (rcc.flags & (RP_CC_PUBLIC | RP_CC_MUST_REVALIDATE)) ||
              rcc.s_maxage >= 0); /* RFC 9111 3.5 */
        CHECK(!vary_star(rf));
        CHECK(rcc.max_age >= 0 || rcc.s_maxage >= 0 ||
              (rcc.flags & (RP_CC_PUBLIC | RP_CC_INVALID)) || has(rf, "expires") ||
              rp_cache_status_heuristic(status));
    }

    int64_t hmax = num[6];
    struct rp_cache_times t;
    rp_cache_times_init(&t, resp, &rcc, num[2], num[3], hmax);
    CHECK(t.request_time == num[2] && t.response_time == num[3]);
    CHECK(t.age_value >= 0 && t.age_value <= DELTA_MAX);
    if (!has(rf, "date"))
        CHECK(t.date_value == num[3]);
    CHECK(t.lifetime == rp_cache_lifetime(resp, &rcc, t.date_value, hmax));
    /* RFC 9111 4.2.1's order */
    int64_t lt = t.lifetime;
    CHECK(lt >= 0);
    if (rcc.flags & RP_CC_INVALID) {
        CHECK(lt == 0);
    } else if (rcc.s_maxage >= 0) {
        CHECK(lt == rcc.s_maxage);
    } else if (rcc.max_age >= 0) {
        CHECK(lt == rcc.max_age);
    } else if (!has(rf, "expires")) { /* heuristic (4.2.2), from Last-Modified */
        CHECK(lt <= (hmax > 0 ? hmax : 0));
        if ((!rp_cache_status_heuristic(status) && !(rcc.flags & RP_CC_PUBLIC)) ||
            !has(rf, "last-modified"))
            CHECK(lt == 0);
    }
    times_check(&t, &rcc, &rq.cc, num);

    /* Times no response gives, for the saturating arithmetic. */
    struct rp_cache_times raw = {num[2], num[3], num[9], num[10], num[11]};
    times_check(&raw, &rcc, &rq.cc, num);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *d = (const char *)data + 1;
    size_t n = size - 1;
    struct input in;
    switch (data[0] % 6) {
    case 0:
        read_input(d, n, false, &in);
        cache_control(&in);
        break;
    case 1:
        date(d, n);
        break;
    case 2:
        read_input(d, n, false, &in);
        cond(&in);
        break;
    case 3:
        read_input(d, n, true, &in);
        vary(&in);
        break;
    case 4:
        read_input(d, n, false, &in);
        range(&in);
        break;
    default:
        read_input(d, n, true, &in);
        store(&in);
        break;
    }
    for (size_t i = 0; i < n_blocks; i++)
        free(blocks[i]);
    n_blocks = 0;
    return 0;
}
