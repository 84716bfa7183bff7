/* fuzz_request.c: libFuzzer target over rp_http1_parse_request, the parser
 * every byte a client sends before a body goes through. The input is the
 * bytes received so far; no input may crash, hang, leak or read outside
 * them, and every answer must be one the proxy can rely on:
 *
 *  - an error is one of the documented codes; a length n is <= the input and
 *    <= max_head, and head[0..n) ends with CRLF CRLF and has no bare CR, bare
 *    LF or NUL;
 *  - every slice (method, target, path, query, host, each header name and
 *    value) lies inside head[0..n) (path may be the static "/" or "" the
 *    header documents), and is exactly what an independent line-splitting
 *    reading of the head gives (fuzz_http1.h); so are the flags and the
 *    framing: body == LENGTH only with content_length equal to the value of
 *    the Content-Length field(s), CHUNKED only for one "Transfer-Encoding:
 *    chunked" with no Content-Length in HTTP/1.1; Host present once in 1.1;
 *  - parsing is deterministic and fills every field it documents: the same
 *    bytes parsed into structs full of different garbage agree;
 *  - it is resumable by re-parsing: every strict prefix of an accepted head
 *    is INCOMPLETE, a prefix that is accepted gives the same head as the
 *    whole input, a prefix that is refused stays refused, and the bytes after
 *    a head change nothing;
 *  - limits only ever turn an answer into E414 or E431, and exactly where
 *    the head stops fitting them (checked at limits equal to the head's own
 *    figures and one below each).
 */
#include "fuzz_http1.h"

/* The proxy's defaults (runtime/main.c), except max_headers, set above the
 * size of the headers array to check that the parser clamps it. */
static const struct rp_http1_limits big = {
    .max_uri = 8192, .max_head = 16 * 1024, .max_headers = 1000};

static struct rp_http1_request a, b;

static int parse(const uint8_t *d, size_t n, const struct rp_http1_limits *l,
                 struct rp_http1_request *r, int fill)
{
    memset(r, fill, sizeof *r);
    return rp_http1_parse_request((const char *)d, n, l, r);
}

/* Two accepted parses of the same bytes describe the same head. */
static bool same(const struct rp_http1_request *x, const struct rp_http1_request *y)
{
    return x->method == y->method && x->method_len == y->method_len && x->target == y->target &&
           x->target_len == y->target_len && x->path == y->path && x->path_len == y->path_len &&
           x->query == y->query && x->query_len == y->query_len && x->host == y->host &&
           x->host_len == y->host_len && x->minor_version == y->minor_version &&
           x->flags == y->flags && x->body == y->body && x->content_length == y->content_length &&
           x->n_headers == y->n_headers &&
           memcmp(x->headers, y->headers, x->n_headers * sizeof x->headers[0]) == 0;
}

static bool is_error(int rc)
{
    return rc == RP_HTTP1_E400 || rc == RP_HTTP1_E414 || rc == RP_HTTP1_E431 ||
           rc == RP_HTTP1_E501 || rc == RP_HTTP1_E505;
}

static bool starts_ci(const uint8_t *p, const uint8_t *end, const char *lower)
{
    size_t n = strlen(lower);
    return (size_t)(end - p) >= n && fz_ieq(p, n, lower);
}

/* rp_host_key (the host routes match) on an accepted host: a prefix of it,
 * lower-cased, without a port, without a trailing dot; too long only when
 * it cannot fit; the same for the key itself (a fixed point). */
static void check_host_key(const char *h, size_t len)
{
    char key[256], again[256];
    int n = rp_host_key(h, len, key, sizeof key);
    if (n < 0) {
        CHECK(len >= sizeof key);
        return;
    }
    CHECK((size_t)n <= len && key[n] == '\0');
    bool v6 = len && h[0] == '[';
    for (int i = 0; i < n; i++) {
        CHECK(!(key[i] >= 'A' && key[i] <= 'Z'));
        CHECK(key[i] == h[i] || key[i] == h[i] + 32);
        if (!v6)
            CHECK(key[i] != ':');
    }
    CHECK(n <= 1 || key[n - 1] != '.' || (n < (int)len && h[n] == '.'));
    int m = rp_host_key(key, (size_t)n, again, sizeof again);
    CHECK(m >= 0 && m <= n);
    CHECK(m == n || (key[n - 1] == '.' && m == n - 1));
}

/* A Host value or an authority: uri-host [":" port], as a character set. */
static bool authority_chars(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'z') ||
              (p[i] >= 'A' && p[i] <= 'Z') || strchr("-._~!$&'()*+,;=%:[]", p[i])))
            return false;
    return true;
}

/* Checks an accepted head d[0..n) against r. */
static void check_request(const uint8_t *d, size_t n, const struct rp_http1_request *r,
                          const struct rp_http1_limits *l)
{
    const uint8_t *end = d + n;

    fz_check_head_bytes(d, n);
    CHECK(n <= l->max_head);

    /* Every slice inside the head, before anything reads through one. */
    CHECK(r->method_len > 0 && fz_inside(r->method, r->method_len, d, end));
    CHECK(r->target_len > 0 && fz_inside(r->target, r->target_len, d, end));
    CHECK(fz_inside(r->path, r->path_len, d, end) ||
          (r->path_len == 1 && r->path && r->path[0] == '/') ||
          (r->path_len == 0 && r->path));
    CHECK(r->query ? fz_inside(r->query, r->query_len, d, end) : r->query_len == 0);
    CHECK(r->host ? fz_inside(r->host, r->host_len, d, end) : r->host_len == 0);
    if (r->host)
        check_host_key(r->host, r->host_len);
    CHECK(r->n_headers <= RP_HTTP1_MAX_HEADERS && r->n_headers <= l->max_headers);
    fz_check_header_slices(d, n, r->headers, r->n_headers);

    /* Empty lines before the request line are skipped (RFC 9112 2.2). */
    const uint8_t *p = d;
    while (p[0] == '\r')
        p += 2;
    const uint8_t *le = fz_line_end(p, end);

    /* method SP target SP "HTTP/1." ("0" | "1") */
    const uint8_t *sp = memchr(p, ' ', (size_t)(le - p));
    CHECK(sp != NULL && sp > p);
    CHECK((const uint8_t *)r->method == p && r->method_len == (size_t)(sp - p));
    for (const uint8_t *c = p; c < sp; c++)
        CHECK(fz_tchar(*c));
    CHECK(le - sp >= 11 && memcmp(le - 9, " HTTP/1.", 8) == 0);
    CHECK(le[-1] == '0' + r->minor_version && r->minor_version <= 1);
    const uint8_t *t = sp + 1, *te = le - 9;
    CHECK((const uint8_t *)r->target == t && r->target_len == (size_t)(te - t));
    CHECK(r->target_len <= l->max_uri);
    for (const uint8_t *c = t; c < te; c++)
        CHECK(*c >= 0x21 && *c <= 0x7e && *c != '#');

    struct fz_fields f;
    fz_check_fields(le + 2, end, r->headers, r->n_headers, &f);

    /* Host: at most one, exactly one in HTTP/1.1 (RFC 9112 3.2). */
    CHECK(f.n_host <= 1);
    CHECK(r->minor_version == 0 || f.n_host == 1);
    CHECK(((r->flags & RP_HTTP1_F_HAS_HOST) != 0) == (f.n_host > 0));
    CHECK((r->flags & ~RP_HTTP1_F_HAS_HOST) == f.flags);
    if (f.n_host)
        CHECK(authority_chars(f.host, f.host_len));

    /* The target's form, and the slices cut from it. */
    size_t tl = (size_t)(te - t);
    bool connect = sp - p == 7 && memcmp(p, "CONNECT", 7) == 0;
    bool host_from_field = false;
    const uint8_t *q = NULL, *path = NULL, *path_end = NULL;
    if (t[0] == '/') {
        CHECK(!connect);
        q = memchr(t, '?', tl);
        path = t;
        path_end = q ? q : te;
        host_from_field = true;
    } else if (tl == 1 && t[0] == '*') {
        CHECK(sp - p == 7 && memcmp(p, "OPTIONS", 7) == 0);
        CHECK((const uint8_t *)r->path == t && r->path_len == 1);
        host_from_field = true;
    } else if (connect) {
        /* authority-form: uri-host ":" port */
        CHECK((const uint8_t *)r->host == t && r->host_len == tl);
        CHECK(r->path_len == 0);
        const uint8_t *colon = te;
        while (colon > t && colon[-1] >= '0' && colon[-1] <= '9')
            colon--;
        CHECK(colon > t + 1 && colon[-1] == ':' && te - colon >= 1 && te - colon <= 5);
        CHECK(authority_chars(t, tl));
    } else {
        /* absolute-form: http[s]://authority[/path][?query] */
        size_t s = starts_ci(t, te, "http://") ? 7 : starts_ci(t, te, "https://") ? 8 : 0;
        CHECK(s > 0);
        const uint8_t *au = t + s, *ae = au;
        while (ae < te && *ae != '/' && *ae != '?')
            ae++;
        CHECK(ae > au && authority_chars(au, (size_t)(ae - au)));
        CHECK((const uint8_t *)r->host == au && r->host_len == (size_t)(ae - au));
        q = memchr(ae, '?', (size_t)(te - ae));
        path = ae;
        path_end = q ? q : te;
    }
    if (path) {
        if (path == path_end)
            CHECK(r->path_len == 1 && r->path[0] == '/');
        else
            CHECK((const uint8_t *)r->path == path && r->path_len == (size_t)(path_end - path));
        CHECK(r->path[0] == '/');
    }
    if (q)
        CHECK((const uint8_t *)r->query == q + 1 && r->query_len == (size_t)(te - q - 1));
    else
        CHECK(r->query == NULL);
    if (host_from_field) {
        if (f.n_host)
            CHECK(f.host_len > 0 && (const uint8_t *)r->host == f.host && r->host_len == f.host_len);
        else
            CHECK(r->host == NULL);
    }

    /* Framing (RFC 9112 6.1, 6.3): one unambiguous reading or none. */
    if (f.n_te) {
        CHECK(f.n_cl == 0 && r->minor_version == 1);
        CHECK(f.te_ok && f.te_codings == 1 && f.te_chunked == 1);
        CHECK(r->body == RP_HTTP1_BODY_CHUNKED && r->content_length == 0);
    } else if (f.n_cl) {
        CHECK(!f.cl_bad);
        if (f.cl)
            CHECK(r->body == RP_HTTP1_BODY_LENGTH && r->content_length == f.cl);
        else
            CHECK(r->body == RP_HTTP1_BODY_NONE && r->content_length == 0);
    } else {
        CHECK(r->body == RP_HTTP1_BODY_NONE && r->content_length == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t size)
{
    uint64_t h = fz_hash(d, size), rng = h;
    /* Small limits chosen by the input, so that every limit is hit, at
     * every place in a head. */
    const struct rp_http1_limits small = {
        .max_uri = (uint32_t)(h % 96),
        .max_head = (uint32_t)(16 + (h >> 8) % 1024),
        .max_headers = (uint32_t)((h >> 24) % 12),
    };

    int rc = parse(d, size, &big, &a, 0x00);
    CHECK(rc > 0 || rc == RP_HTTP1_INCOMPLETE || is_error(rc));
    CHECK(parse(d, size, &big, &b, 0xff) == rc);
    if (rc > 0) {
        CHECK((size_t)rc <= size);
        CHECK(same(&a, &b));
        check_request(d, (size_t)rc, &a, &big);
        /* What follows the head (a body, the next request) changes nothing. */
        CHECK(parse(d, (size_t)rc, &big, &b, 0x5a) == rc && same(&a, &b));
    }

    /* Re-parsing as bytes arrive gives the same answer as parsing at once. */
    size_t ks[100];
    size_t m = fz_prefixes(d, size, &rng, ks);
    for (size_t i = 0; i < m; i++) {
        int rk = parse(d, ks[i], &big, &b, 0xa5);
        if (rc > 0 && ks[i] < (size_t)rc)
            CHECK(rk == RP_HTTP1_INCOMPLETE);
        if (rk > 0)
            CHECK(rk == rc && same(&a, &b));
        else if (rk != RP_HTTP1_INCOMPLETE)
            CHECK(is_error(rc));
    }

    /* Limits: only E414 and E431 depend on them. */
    int rs = parse(d, size, &small, &b, 0x11);
    if (rs > 0)
        CHECK(rs == rc && same(&a, &b));
    if (rs != RP_HTTP1_E414 && rs != RP_HTTP1_E431)
        CHECK(rs == rc);
    if (rc > 0) {
        bool fits = (uint32_t)rc <= small.max_head && a.n_headers <= small.max_headers &&
                    a.target_len <= small.max_uri;
        CHECK(fits == (rs > 0));

        /* A head fits limits equal to its own figures, and not one less. */
        struct rp_http1_limits own = {a.target_len, (uint32_t)rc, a.n_headers};
        CHECK(parse(d, size, &own, &b, 0x22) == rc && same(&a, &b));
        own.max_uri--;
        CHECK(parse(d, size, &own, &b, 0x22) == RP_HTTP1_E414);
        own.max_uri++;
        own.max_head--;
        CHECK(parse(d, size, &own, &b, 0x22) == RP_HTTP1_E431);
        own.max_head++;
        if (own.max_headers) {
            own.max_headers--;
            CHECK(parse(d, size, &own, &b, 0x22) == RP_HTTP1_E431);
        }
    }
    return 0;
}
