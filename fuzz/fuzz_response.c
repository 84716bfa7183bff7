/* fuzz_response.c: libFuzzer target over rp_http1_parse_response, the parser
 * of what a server behind the proxy answers. Each input is parsed as the
 * answer to a GET (head_request false) and to a HEAD (true). The invariants
 * are those of fuzz_request.c, for responses:
 *
 *  - the answer is a length, INCOMPLETE or E502; a length n is <= the input
 *    and <= max_head, head[0..n) ends with CRLF CRLF, has no bare CR, bare LF
 *    or NUL;
 *  - the reason and every header name and value lie inside head[0..n) and
 *    are what an independent reading of the lines gives (fuzz_http1.h); the
 *    status is the three digits of the status line, 100-599;
 *  - framing follows RFC 9112 6.3 in its order: no body for HEAD, 1xx, 204
 *    and 304; else chunked when Transfer-Encoding ends in one "chunked",
 *    close-delimited for other codings, Content-Length when there is one
 *    (content_length is the value of the field(s) whenever they are there,
 *    and body == LENGTH only when it is not 0), else until close; a TE with
 *    a CL, a TE in HTTP/1.0, or chunked twice or not last is refused;
 *  - the two parses agree on everything but the body, which is NONE for
 *    HEAD;
 *  - deterministic; resumable by re-parsing (strict prefixes of an accepted
 *    head are INCOMPLETE, an accepted prefix gives the same head, a refused
 *    prefix stays refused, the bytes after a head change nothing); limits
 *    only turn an answer into E502, exactly where the head stops fitting.
 */
#include "fuzz_http1.h"

static const struct rp_http1_limits big = {
    .max_uri = 8192, .max_head = 16 * 1024, .max_headers = 1000};

static struct rp_http1_response a, b;

static int parse(const uint8_t *d, size_t n, const struct rp_http1_limits *l, bool head,
                 struct rp_http1_response *r, int fill)
{
    memset(r, fill, sizeof *r);
    return rp_http1_parse_response((const char *)d, n, l, head, r);
}

/* Two accepted parses of the same bytes describe the same head; the body is
 * compared by the caller, since it depends on head_request. */
static bool same_but_body(const struct rp_http1_response *x, const struct rp_http1_response *y)
{
    return x->reason == y->reason && x->reason_len == y->reason_len && x->status == y->status &&
           x->minor_version == y->minor_version && x->flags == y->flags &&
           x->content_length == y->content_length && x->n_headers == y->n_headers &&
           memcmp(x->headers, y->headers, x->n_headers * sizeof x->headers[0]) == 0;
}

static bool same(const struct rp_http1_response *x, const struct rp_http1_response *y)
{
    return same_but_body(x, y) && x->body == y->body;
}

/* Checks an accepted head d[0..n) against r. */
static void check_response(const uint8_t *d, size_t n, const struct rp_http1_response *r,
                           bool head, const struct rp_http1_limits *l)
{
    const uint8_t *end = d + n;

    fz_check_head_bytes(d, n);
    CHECK(n <= l->max_head);
    CHECK(fz_inside(r->reason, r->reason_len, d, end));
    CHECK(r->n_headers <= RP_HTTP1_MAX_HEADERS && r->n_headers <= l->max_headers);
    fz_check_header_slices(d, n, r->headers, r->n_headers);

    /* "HTTP/1." ("0" | "1") SP 3DIGIT [SP reason] */
    const uint8_t *le = fz_line_end(d, end);
    CHECK(le - d >= 12 && memcmp(d, "HTTP/1.", 7) == 0 && d[8] == ' ');
    CHECK(d[7] == '0' + r->minor_version && r->minor_version <= 1);
    for (int i = 9; i < 12; i++)
        CHECK(d[i] >= '0' && d[i] <= '9');
    unsigned status = (unsigned)(d[9] - '0') * 100 + (unsigned)(d[10] - '0') * 10 +
                      (unsigned)(d[11] - '0');
    CHECK(r->status == status && status >= 100 && status <= 599);
    if (le - d == 12) {
        CHECK(r->reason_len == 0);
    } else {
        CHECK(d[12] == ' ');
        CHECK(r->reason_len == (size_t)(le - d - 13));
        if (r->reason_len)
            CHECK((const uint8_t *)r->reason == d + 13);
        for (const uint8_t *c = d + 13; c < le; c++)
            CHECK(fz_fvtext(*c));
    }

    struct fz_fields f;
    fz_check_fields(le + 2, end, r->headers, r->n_headers, &f);
    CHECK(r->flags == f.flags); /* a response's Host means nothing */

    /* Framing: refused whether or not a body follows. */
    if (f.n_te) {
        CHECK(f.n_cl == 0 && r->minor_version == 1 && f.te_ok);
        CHECK(f.te_chunked == 0 || (f.te_chunked == 1 && f.te_last_chunked));
    }
    if (f.n_cl)
        CHECK(!f.cl_bad);
    CHECK(r->content_length == (f.n_cl ? f.cl : 0));
    enum rp_http1_body want;
    if (head || status < 200 || status == 204 || status == 304)
        want = RP_HTTP1_BODY_NONE;
    else if (f.n_te)
        want = f.te_last_chunked ? RP_HTTP1_BODY_CHUNKED : RP_HTTP1_BODY_CLOSE;
    else if (f.n_cl)
        want = f.cl ? RP_HTTP1_BODY_LENGTH : RP_HTTP1_BODY_NONE;
    else
        want = RP_HTTP1_BODY_CLOSE;
    CHECK(r->body == want);
    if (r->body == RP_HTTP1_BODY_LENGTH)
        CHECK(r->content_length == f.cl && f.cl > 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t size)
{
    uint64_t h = fz_hash(d, size), rng = h;
    const struct rp_http1_limits small = {
        .max_uri = 0, /* means nothing for responses */
        .max_head = (uint32_t)(16 + (h >> 8) % 1024),
        .max_headers = (uint32_t)((h >> 24) % 12),
    };
    bool head = (h >> 40) & 1; /* which of the two the later checks use */

    int rc = parse(d, size, &big, head, &a, 0x00);
    CHECK(rc > 0 || rc == RP_HTTP1_INCOMPLETE || rc == RP_HTTP1_E502);
    CHECK(parse(d, size, &big, head, &b, 0xff) == rc);
    if (rc > 0) {
        CHECK((size_t)rc <= size);
        CHECK(same(&a, &b));
        check_response(d, (size_t)rc, &a, head, &big);
    }
    /* The other head_request: same answer, same head, only the body differs. */
    CHECK(parse(d, size, &big, !head, &b, 0x3c) == rc);
    if (rc > 0) {
        CHECK(same_but_body(&a, &b));
        check_response(d, (size_t)rc, &b, !head, &big);
        CHECK((head ? a.body : b.body) == RP_HTTP1_BODY_NONE);
        CHECK(parse(d, (size_t)rc, &big, head, &b, 0x5a) == rc && same(&a, &b));
    }

    size_t ks[100];
    size_t m = fz_prefixes(d, size, &rng, ks);
    for (size_t i = 0; i < m; i++) {
        int rk = parse(d, ks[i], &big, head, &b, 0xa5);
        if (rc > 0 && ks[i] < (size_t)rc)
            CHECK(rk == RP_HTTP1_INCOMPLETE);
        if (rk > 0)
            CHECK(rk == rc && same(&a, &b));
        else if (rk != RP_HTTP1_INCOMPLETE)
            CHECK(rc == RP_HTTP1_E502);
    }

    int rs = parse(d, size, &small, head, &b, 0x11);
    if (rs > 0)
        CHECK(rs == rc && same(&a, &b));
    if (rs == RP_HTTP1_INCOMPLETE)
        CHECK(rc == RP_HTTP1_INCOMPLETE);
    if (rc > 0) {
        bool fits = (uint32_t)rc <= small.max_head && a.n_headers <= small.max_headers;
        CHECK(fits == (rs > 0));

        struct rp_http1_limits own = {0, (uint32_t)rc, a.n_headers};
        CHECK(parse(d, size, &own, head, &b, 0x22) == rc && same(&a, &b));
        own.max_head--;
        CHECK(parse(d, size, &own, head, &b, 0x22) == RP_HTTP1_E502);
        own.max_head++;
        if (own.max_headers) {
            own.max_headers--;
            CHECK(parse(d, size, &own, head, &b, 0x22) == RP_HTTP1_E502);
        }
    }
    return 0;
}
