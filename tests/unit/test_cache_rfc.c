/* test_cache_rfc.c: the rules of HTTP caching (runtime/cache_rfc.c):
 * Cache-Control both sides, HTTP-dates, storability, freshness and age,
 * reuse and stale serving, conditional requests, Vary keys and ranges.
 * Each case names the rule it would catch the absence of. */
#include <stdio.h>
#include <string.h>

#include "cache_rfc.h"
#include "t.h"

/* The checks are grouped in plain functions run by two suites: the runner
 * holds a fixed number of suites (T_MAX_SUITES). */

/* ---- heads ------------------------------------------------------------------ */

/* Fills h from "Name", "value" pairs ending in NULL; returns the count. */
static uint32_t head(struct rp_http1_header *h, const char *const *kv)
{
    uint32_t n = 0;
    for (; kv[2 * n]; n++)
        h[n] = (struct rp_http1_header){.name = kv[2 * n],
                                        .value = kv[2 * n + 1],
                                        .name_len = (uint32_t)strlen(kv[2 * n]),
                                        .value_len = (uint32_t)strlen(kv[2 * n + 1])};
    return n;
}
#define HEAD(h, ...) head((h), (const char *const[]){__VA_ARGS__, NULL})

static struct rp_http1_response resp_buf;

static const struct rp_http1_response *resp_of(unsigned status, const char *const *kv)
{
    memset(&resp_buf, 0, sizeof resp_buf);
    resp_buf.status = (uint16_t)status;
    resp_buf.n_headers = head(resp_buf.headers, kv);
    return &resp_buf;
}
#define RESP(status, ...) resp_of((status), (const char *const[]){__VA_ARGS__, NULL})

/* The Cache-Control of one field with value v. */
static struct rp_cache_control cc1(const char *v, bool request)
{
    struct rp_http1_header h[1];
    HEAD(h, "Cache-Control", v);
    struct rp_cache_control cc;
    rp_cc_parse(h, 1, request, &cc);
    return cc;
}

static struct rp_cache_control rcc(const char *v)
{
    return cc1(v, false);
}

static struct rp_cache_control qcc(const char *v)
{
    return cc1(v, true);
}

static struct rp_cache_control none(void)
{
    struct rp_cache_control cc;
    rp_cc_parse(NULL, 0, true, &cc);
    return cc;
}

/* An IMF-fixdate of t, in one of a few rotating buffers. */
static const char *date(int64_t t)
{
    static char buf[8][30];
    static unsigned i;
    char *b = buf[i++ % 8];
    rp_http_date_format(t, b);
    return b;
}

static int64_t parse_date(const char *s)
{
    return rp_http_date_parse(s, strlen(s));
}

#define T0 784111777 /* Sun, 06 Nov 1994 08:49:37 GMT, RFC 9110's example */

/* ---- Cache-Control -------------------------------------------------------- */

static void cc_parse_basic(void)
{
    struct rp_cache_control cc = rcc("max-age=3600, public");
    T_OK(cc.present);
    T_EQ(cc.max_age, 3600);
    T_EQ(cc.flags, RP_CC_PUBLIC);
    T_EQ(cc.s_maxage, RP_CC_ABSENT);
    T_EQ(cc.max_stale, RP_CC_ABSENT);
    T_EQ(cc.min_fresh, RP_CC_ABSENT);
    T_EQ(cc.stale_while_revalidate, RP_CC_ABSENT);
    T_EQ(cc.stale_if_error, RP_CC_ABSENT);

    /* names are case-insensitive; OWS around elements, empty elements */
    cc = rcc("  ,MAX-AGE=60 ,\tNo-Store,, S-MaxAge=5  ,");
    T_EQ(cc.max_age, 60);
    T_EQ(cc.s_maxage, 5);
    T_EQ(cc.flags, RP_CC_NO_STORE);

    /* every flag */
    cc = rcc("no-store, no-cache, private, public, must-revalidate, proxy-revalidate, "
             "no-transform, only-if-cached, immutable, must-understand");
    T_EQ(cc.flags, RP_CC_NO_STORE | RP_CC_NO_CACHE | RP_CC_PRIVATE | RP_CC_PUBLIC |
                       RP_CC_MUST_REVALIDATE | RP_CC_PROXY_REVALIDATE | RP_CC_NO_TRANSFORM |
                       RP_CC_ONLY_IF_CACHED | RP_CC_IMMUTABLE | RP_CC_MUST_UNDERSTAND);

    /* unknown directives, with or without values, are ignored */
    cc = rcc("foo, bar=baz, qux=\"a b\", max-age=7");
    T_EQ(cc.flags, 0);
    T_EQ(cc.max_age, 7);

    /* an empty field is still a Cache-Control field */
    cc = rcc("");
    T_OK(cc.present);
    T_EQ(cc.flags, 0);
    cc = none();
    T_OK(!cc.present);
    T_EQ(cc.max_age, RP_CC_ABSENT);

    /* RFC 5861 directives */
    cc = rcc("max-age=1, stale-while-revalidate=30, stale-if-error=600");
    T_EQ(cc.stale_while_revalidate, 30);
    T_EQ(cc.stale_if_error, 600);
    T_EQ(cc.flags, 0);
}

static void cc_parse_values(void)
{
    /* max-age=0 is a value, not an absence */
    T_EQ(rcc("max-age=0").max_age, 0);
    T_EQ(rcc("max-age=0").flags, 0);
    /* leading zeros are digits */
    T_EQ(rcc("max-age=003600").max_age, 3600);
    /* the quoted form is accepted too (RFC 9111 5.2) */
    T_EQ(rcc("max-age=\"3600\"").max_age, 3600);
    T_EQ(rcc("max-age=\"3600\"").flags, 0);
    T_EQ(rcc("s-maxage=\"\\12\"").s_maxage, 12); /* a quoted-pair */
    /* delta-seconds saturate at 2^31 (RFC 9111 1.2.2) */
    T_EQ(rcc("max-age=2147483647").max_age, 2147483647);
    T_EQ(rcc("max-age=2147483648").max_age, 2147483648LL);
    T_EQ(rcc("max-age=99999999999999999999999999").max_age, 2147483648LL);
    T_EQ(rcc("max-age=99999999999999999999999999").flags, 0);

    /* malformed values: invalid freshness, the response is stale */
    const char *bad[] = {
        "max-age=abc",    "max-age=a3600", "max-age=3600a", "max-age=-1",
        "max-age=3600.0", "max-age=",      "max-age",       "max-age=''",
        "max-age='3600'", "max-age=\"\"",  "max-age =3600", "max-age= 3600",
        "max-age=\"36",   "s-maxage=x",    "max-age=1 2",   "max-age=\"1\"x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct rp_cache_control cc = rcc(bad[i]);
        if (!T_OK(cc.flags & RP_CC_INVALID))
            fprintf(stderr, "# not invalid: %s\n", bad[i]);
        T_EQ(cc.max_age, RP_CC_ABSENT);
    }
    /* a bad max-age leaves the others alone */
    struct rp_cache_control cc = rcc("max-age=x, public, s-maxage=9");
    T_EQ(cc.s_maxage, 9);
    T_OK(cc.flags & RP_CC_PUBLIC);

    /* stale-while-revalidate and stale-if-error only widen what may be
     * served: a malformed one is ignored, not invalid freshness */
    cc = rcc("max-age=5, stale-while-revalidate=abc, stale-if-error=-1");
    T_EQ(cc.flags, 0);
    T_EQ(cc.max_age, 5);
    T_EQ(cc.stale_while_revalidate, RP_CC_ABSENT);
    T_EQ(cc.stale_if_error, RP_CC_ABSENT);
}

static void cc_parse_quoting(void)
{
    /* a max-age inside a quoted string is not a directive */
    struct rp_cache_control cc = rcc("extension=\"max-age=3600\", max-age=1");
    T_EQ(cc.max_age, 1);
    T_EQ(cc.flags, 0);
    cc = rcc("max-age=1, extension=\"max-age=3600\"");
    T_EQ(cc.max_age, 1);
    T_EQ(cc.flags, 0);
    /* a comma inside quotes does not end the element */
    cc = rcc("foo=\"a, no-store, b\", max-age=2");
    T_EQ(cc.flags, 0);
    T_EQ(cc.max_age, 2);
    /* an escaped quote does not end the string */
    cc = rcc("foo=\"a\\\", no-store\", max-age=3");
    T_EQ(cc.flags, 0);
    T_EQ(cc.max_age, 3);
    /* qualified no-cache and private count as unqualified */
    cc = rcc("no-cache=\"Set-Cookie, X-Foo\", max-age=60");
    T_EQ(cc.flags, RP_CC_NO_CACHE);
    T_EQ(cc.max_age, 60);
    cc = rcc("private=\"X-User\"");
    T_EQ(cc.flags, RP_CC_PRIVATE);
    cc = rcc("no-cache=Set-Cookie");
    T_EQ(cc.flags, RP_CC_NO_CACHE);
    /* restrictive directives hold even when malformed; permissive ones not */
    T_OK(rcc("no-store junk").flags & RP_CC_NO_STORE);
    T_OK(rcc("no-store=1").flags & RP_CC_NO_STORE);
    T_OK(!(rcc("public=yes").flags & RP_CC_PUBLIC));
    T_OK(!(rcc("public junk").flags & RP_CC_PUBLIC));
}

static void cc_parse_fields(void)
{
    /* several fields make one list */
    struct rp_http1_header h[4];
    uint32_t n =
        HEAD(h, "Cache-Control", "public", "X-Other", "max-age=9", "cache-control", "max-age=60");
    struct rp_cache_control cc;
    rp_cc_parse(h, n, false, &cc);
    T_EQ(cc.flags, RP_CC_PUBLIC);
    T_EQ(cc.max_age, 60); /* not the X-Other field's */

    /* the same directive twice with one value is fine; with two values the
     * freshness is invalid (RFC 9111 4.2.1), in one field or in two */
    cc = rcc("max-age=60, max-age=60");
    T_EQ(cc.flags, 0);
    T_EQ(cc.max_age, 60);
    cc = rcc("max-age=60, max-age=060");
    T_EQ(cc.flags, 0);
    cc = rcc("max-age=1800, max-age=1");
    T_EQ(cc.flags, RP_CC_INVALID);
    T_EQ(cc.max_age, 1800); /* the first is kept */
    n = HEAD(h, "Cache-Control", "max-age=1", "Cache-Control", "max-age=1800");
    rp_cc_parse(h, n, false, &cc);
    T_EQ(cc.flags, RP_CC_INVALID);
    cc = rcc("s-maxage=1, s-maxage=2");
    T_EQ(cc.flags, RP_CC_INVALID);
    /* stale-while-revalidate twice: the first */
    cc = rcc("stale-while-revalidate=10, stale-while-revalidate=20");
    T_EQ(cc.stale_while_revalidate, 10);
    T_EQ(cc.flags, 0);
    /* conflicting flags are both kept: the most restrictive wins later */
    cc = rcc("public, private, no-cache, max-age=10");
    T_EQ(cc.flags, RP_CC_PUBLIC | RP_CC_PRIVATE | RP_CC_NO_CACHE);
}

static void cc_parse_request(void)
{
    struct rp_cache_control cc = qcc("max-stale");
    T_EQ(cc.max_stale, RP_CC_INFINITE);
    cc = qcc("max-stale=30, min-fresh=10, max-age=0, only-if-cached");
    T_EQ(cc.max_stale, 30);
    T_EQ(cc.min_fresh, 10);
    T_EQ(cc.max_age, 0);
    T_EQ(cc.flags, RP_CC_ONLY_IF_CACHED);
    cc = qcc("max-stale=abc");
    T_EQ(cc.max_stale, RP_CC_ABSENT);
    T_OK(cc.flags & RP_CC_INVALID);
    /* s-maxage means nothing in a request */
    T_EQ(qcc("s-maxage=5").s_maxage, RP_CC_ABSENT);

    /* Pragma: no-cache, only without Cache-Control, only in requests */
    struct rp_http1_header h[3];
    uint32_t n = HEAD(h, "Pragma", "no-cache");
    rp_cc_parse(h, n, true, &cc);
    T_EQ(cc.flags, RP_CC_NO_CACHE);
    T_OK(!cc.present);
    n = HEAD(h, "pragma", "foo, NO-CACHE");
    rp_cc_parse(h, n, true, &cc);
    T_EQ(cc.flags, RP_CC_NO_CACHE);
    n = HEAD(h, "Pragma", "no-cache", "Cache-Control", "max-age=5");
    rp_cc_parse(h, n, true, &cc);
    T_EQ(cc.flags, 0); /* Cache-Control is there: Pragma is ignored */
    T_EQ(cc.max_age, 5);
    n = HEAD(h, "Pragma", "no-cache");
    rp_cc_parse(h, n, false, &cc);
    T_EQ(cc.flags, 0); /* a response's Pragma */
    n = HEAD(h, "Pragma", "no-cache-please");
    rp_cc_parse(h, n, true, &cc);
    T_EQ(cc.flags, 0);
}

/* ---- HTTP-date ------------------------------------------------------------ */

static void http_date_parse(void)
{
    /* the three forms of RFC 9110 5.6.7 */
    T_EQ(parse_date("Sun, 06 Nov 1994 08:49:37 GMT"), T0);
    T_EQ(parse_date("Sunday, 06-Nov-94 08:49:37 GMT"), T0);
    T_EQ(parse_date("Sun Nov  6 08:49:37 1994"), T0);
    T_EQ(parse_date("Sun Nov 06 08:49:37 1994"), T0);
    T_EQ(parse_date("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
    T_EQ(parse_date("Tue, 29 Feb 2000 00:00:00 GMT"), 951782400);
    T_EQ(parse_date("Wednesday, 09-Nov-99 23:12:40 GMT"), 942189160);
    T_EQ(parse_date("Thu, 18 Aug 2050 02:01:18 GMT"), 2544400878LL);
    /* a cache matches names case-insensitively (RFC 9111 4.2) */
    T_EQ(parse_date("THU, 18 AUG 2050 02:01:18 gmt"), 2544400878LL);
    T_EQ(parse_date("sunday, 06-nov-94 08:49:37 Gmt"), T0);
    /* RFC 850's two-digit years: 70-99 are 19xx, 00-69 20xx */
    T_EQ(parse_date("Thursday, 01-Jan-70 00:00:00 GMT"), 0);
    T_EQ(parse_date("Saturday, 01-Jan-00 00:00:00 GMT"), 946684800);
    T_EQ(parse_date("Tuesday, 01-Jan-69 00:00:00 GMT"),
         parse_date("Tue, 01 Jan 2069 00:00:00 GMT"));
    /* a leap second is in the grammar: it is the next second */
    T_EQ(parse_date("Sat, 31 Dec 2016 23:59:60 GMT"), 1483228800);
    /* before the epoch: 0, so -1 still means "not a date" */
    T_EQ(parse_date("Wed, 31 Dec 1969 23:59:59 GMT"), 0);
    T_EQ(parse_date("Mon, 01 Jan 1900 00:00:00 GMT"), 0);
    /* not dates */
    const char *bad[] = {
        "",
        "0",
        "-1",
        "Thu, 18 Aug 2050 02:01:18 UTC",
        "Thu, 18 Aug 50 02:01:18 GMT",
        "Thu 18 Aug 2050 02:01:18 GMT",
        "Thu, 18  Aug  2050 02:01:18 GMT",
        "Thu, 18-Aug-2050 02:01:18 GMT",
        "Thu, 18 Aug 2050 02.01.18 GMT",
        "Thu, 18 Aug 2050 2:01:18 GMT",
        "Thu, 18 Aug 2050 02:01:18 +0000",
        " Thu, 18 Aug 2050 02:01:18 GMT",
        "Thu, 18 Aug 2050 02:01:18 GMT ",
        "Thu, 18 Aug 2050 02:01:18 GMTX",
        "Xyz, 18 Aug 2050 02:01:18 GMT",
        "Thu, 18 Foo 2050 02:01:18 GMT",
        "Thu, 30 Feb 2050 02:01:18 GMT",
        "Thu, 29 Feb 2100 02:01:18 GMT",
        "Thu, 00 Aug 2050 02:01:18 GMT",
        "Thu, 32 Aug 2050 02:01:18 GMT",
        "Thu, 18 Aug 2050 24:00:00 GMT",
        "Thu, 18 Aug 2050 23:60:00 GMT",
        "Thu, 18 Aug 2050 23:00:61 GMT",
        "Thu, 1a Aug 2050 02:01:18 GMT",
        "Thu, 18 Aug 20x0 02:01:18 GMT",
        "Sun, 06 Nov 1994 08:49:37 GMT, Mon, 07 Nov 1994 08:49:37 GMT",
        "Sunday, 06-Nov-1994 08:49:37 GMT",
        "Sun, 06-Nov-94 08:49:37 GMT",
        "Sundae, 06-Nov-94 08:49:37 GMT",
        "Sunday, 06-Nov-94 08:49:37 UTC",
        "Sun Nov  6 08:49:37 94",
        "Sun Nov 6  08:49:37 1994",
        "Sun Nov  6 08:49:37 1994 GMT",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (!T_EQ(parse_date(bad[i]), -1))
            fprintf(stderr, "# a date: \"%s\"\n", bad[i]);
    /* a slice: the bytes after it are not read */
    const char *s = "Sun, 06 Nov 1994 08:49:37 GMTxxxx";
    T_EQ(rp_http_date_parse(s, 29), T0);
    T_EQ(rp_http_date_parse(s, 28), -1);
    T_EQ(rp_http_date_parse(NULL, 0), -1);
}

static void http_date_format(void)
{
    char out[30];
    T_EQ(rp_http_date_format(T0, out), 29);
    T_SLICE(out, 29, "Sun, 06 Nov 1994 08:49:37 GMT");
    rp_http_date_format(0, out);
    T_SLICE(out, 29, "Thu, 01 Jan 1970 00:00:00 GMT");
    rp_http_date_format(951782400, out);
    T_SLICE(out, 29, "Tue, 29 Feb 2000 00:00:00 GMT");
    rp_http_date_format(-5, out); /* clamped */
    T_SLICE(out, 29, "Thu, 01 Jan 1970 00:00:00 GMT");
    rp_http_date_format(INT64_MAX, out);
    T_SLICE(out, 29, "Fri, 31 Dec 9999 23:59:59 GMT");
    /* round trips, across a year's days */
    int bad = 0;
    for (int64_t t = 1700000000; t < 1700000000 + 400 * 86400; t += 86400 + 3607)
        bad += parse_date(date(t)) != t;
    T_EQ(bad, 0);
}

static void head_field(void)
{
    struct rp_http1_header h[3];
    uint32_t n = HEAD(h, "ETag", "\"a\"", "etag", "\"b\"", "Date", "x");
    T_OK(rp_head_field(h, n, "etag") == &h[0]);
    T_OK(rp_head_field(h, n, "DATE") == &h[2]);
    T_OK(rp_head_field(h, n, "age") == NULL);
    T_OK(rp_head_field(h, n, "eta") == NULL);
}

/* ---- storing -------------------------------------------------------------- */

static struct rp_cache_request get_req(const char *cc)
{
    struct rp_cache_request rq = {.get = true};
    rq.cc = cc ? qcc(cc) : none();
    return rq;
}

/* Storability of resp for rq, its Cache-Control parsed from its fields. */
static enum rp_cache_store_verdict storable(const struct rp_cache_request *rq,
                                            const struct rp_http1_response *resp)
{
    struct rp_cache_control cc;
    rp_cc_parse(resp->headers, resp->n_headers, false, &cc);
    return rp_cache_storable(rq, resp, &cc);
}

static void cache_storable(void)
{
    struct rp_cache_request rq = get_req(NULL);
    T_EQ(storable(&rq, RESP(200, "Cache-Control", "max-age=60")), RP_CACHE_STORE_OK);
    /* only GET */
    struct rp_cache_request head_rq = {.head = true}, post = {.unsafe = true};
    head_rq.cc = post.cc = none();
    T_EQ(storable(&head_rq, RESP(200, "Cache-Control", "max-age=60")), RP_CACHE_NOT_GET);
    T_EQ(storable(&post, RESP(200, "Cache-Control", "max-age=60")), RP_CACHE_NOT_GET);
    /* final, understood statuses; not a part nor a 304 */
    T_EQ(storable(&rq, RESP(100, "Cache-Control", "max-age=60")), RP_CACHE_STATUS);
    T_EQ(storable(&rq, RESP(206, "Cache-Control", "max-age=60")), RP_CACHE_STATUS);
    T_EQ(storable(&rq, RESP(304, "Cache-Control", "max-age=60")), RP_CACHE_STATUS);
    T_EQ(storable(&rq, RESP(600, "Cache-Control", "max-age=60")), RP_CACHE_STATUS);
    /* an unknown final status with explicit freshness may be stored... */
    T_EQ(storable(&rq, RESP(299, "Cache-Control", "max-age=60")), RP_CACHE_STORE_OK);
    /* ...but not under must-understand */
    T_EQ(storable(&rq, RESP(299, "Cache-Control", "max-age=60, must-understand, no-store")),
         RP_CACHE_STATUS);
    /* no-store, either side; must-understand with a known status lifts the
     * response's */
    T_EQ(storable(&rq, RESP(200, "Cache-Control", "max-age=60, no-store")), RP_CACHE_NO_STORE);
    T_EQ(storable(&rq, RESP(200, "Cache-Control", "max-age=60, No-StOrE")), RP_CACHE_NO_STORE);
    T_EQ(storable(&rq, RESP(200, "Cache-Control", "max-age=60, must-understand, no-store")),
         RP_CACHE_STORE_OK);
    struct rp_cache_request nostore = get_req("no-store");
    T_EQ(storable(&nostore, RESP(200, "Cache-Control", "max-age=60")), RP_CACHE_NO_STORE);
    T_EQ(storable(&nostore, RESP(200, "Cache-Control", "max-age=60, must-understand")),
         RP_CACHE_NO_STORE);
    /* a request's no-cache does not stop storing */
    struct rp_cache_request nocache = get_req("no-cache");
    T_EQ(storable(&nocache, RESP(200, "Cache-Control", "max-age=60")), RP_CACHE_STORE_OK);
    /* private, qualified or not */
    T_EQ(storable(&rq, RESP(200, "Cache-Control", "private, max-age=60")), RP_CACHE_PRIVATE);
    T_EQ(storable(&rq, RESP(200, "Cache-Control", "private=\"Set-Cookie\", max-age=60")),
         RP_CACHE_PRIVATE);
    T_EQ(storable(&rq, RESP(200, "Cache-Control", "public, private, max-age=60")),
         RP_CACHE_PRIVATE);
}

static void cache_storable_authorization(void)
{
    struct rp_cache_request rq = get_req(NULL);
    rq.authorization = true;
    T_EQ(storable(&rq, RESP(200, "Cache-Control", "max-age=60")), RP_CACHE_AUTHORIZATION);
    T_EQ(storable(&rq, RESP(200, "Expires", date(T0 + 60), "Date", date(T0))),
         RP_CACHE_AUTHORIZATION);
    T_EQ(storable(&rq, RESP(200, "Cache-Control", "max-age=60, public")), RP_CACHE_STORE_OK);
    T_EQ(storable(&rq, RESP(200, "Cache-Control", "s-maxage=60")), RP_CACHE_STORE_OK);
    T_EQ(storable(&rq, RESP(200, "Cache-Control", "max-age=60, must-revalidate")),
         RP_CACHE_STORE_OK);
    /* proxy-revalidate is not among them (RFC 9111 3.5) */
    T_EQ(storable(&rq, RESP(200, "Cache-Control", "max-age=60, proxy-revalidate")),
         RP_CACHE_AUTHORIZATION);
}

static void cache_storable_vary_star(void)
{
    struct rp_cache_request rq = get_req(NULL);
    T_EQ(storable(&rq, RESP(200, "Cache-Control", "max-age=60", "Vary", "*")), RP_CACHE_VARY_STAR);
    T_EQ(storable(&rq, RESP(200, "Cache-Control", "max-age=60", "Vary", "Accept, *")),
         RP_CACHE_VARY_STAR);
    T_EQ(storable(&rq, RESP(200, "Cache-Control", "max-age=60", "Vary", ", *")),
         RP_CACHE_VARY_STAR);
    T_EQ(storable(&rq, RESP(200, "Cache-Control", "max-age=60", "Vary", "Accept", "Vary", "*")),
         RP_CACHE_VARY_STAR);
    T_EQ(storable(&rq, RESP(200, "Cache-Control", "max-age=60", "Vary", "Accept-Encoding")),
         RP_CACHE_STORE_OK);
}

static void cache_storable_freshness(void)
{
    struct rp_cache_request rq = get_req(NULL);
    /* heuristically cacheable statuses need nothing explicit */
    T_EQ(storable(&rq, RESP(200, NULL)), RP_CACHE_STORE_OK);
    T_EQ(storable(&rq, RESP(404, "ETag", "\"x\"")), RP_CACHE_STORE_OK);
    T_EQ(storable(&rq, RESP(200, "Cache-Control", "no-cache", "ETag", "\"x\"")), RP_CACHE_STORE_OK);
    /* others need explicit freshness or public; a validator is not enough
     * (RFC 9111 3) */
    T_EQ(storable(&rq, RESP(302, "Location", "/x")), RP_CACHE_NOT_CACHEABLE);
    T_EQ(storable(&rq, RESP(302, "ETag", "\"x\"", "Last-Modified", date(T0))),
         RP_CACHE_NOT_CACHEABLE);
    T_EQ(storable(&rq, RESP(403, "Last-Modified", date(T0))), RP_CACHE_NOT_CACHEABLE);
    T_EQ(storable(&rq, RESP(503, NULL)), RP_CACHE_NOT_CACHEABLE);
    T_EQ(storable(&rq, RESP(302, "Cache-Control", "max-age=60")), RP_CACHE_STORE_OK);
    T_EQ(storable(&rq, RESP(302, "Cache-Control", "s-maxage=60")), RP_CACHE_STORE_OK);
    T_EQ(storable(&rq, RESP(503, "Cache-Control", "public")), RP_CACHE_STORE_OK);
    T_EQ(storable(&rq, RESP(599, "Cache-Control", "public")), RP_CACHE_STORE_OK);
    /* an Expires field, even one that is not a date (stored stale) */
    T_EQ(storable(&rq, RESP(302, "Expires", date(T0))), RP_CACHE_STORE_OK);
    T_EQ(storable(&rq, RESP(302, "Expires", "0")), RP_CACHE_STORE_OK);
}

static void cache_status_heuristic(void)
{
    const unsigned yes[] = {200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501};
    const unsigned no[] = {201, 202, 205, 302, 303, 304, 307, 400, 401, 403, 500, 502, 503, 504};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        T_OK(rp_cache_status_heuristic(yes[i]));
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        T_OK(!rp_cache_status_heuristic(no[i]));
}

/* ---- freshness lifetime --------------------------------------------------- */

static int64_t lifetime(const struct rp_http1_response *resp, int64_t date_value,
                        int64_t heuristic_max)
{
    struct rp_cache_control cc;
    rp_cc_parse(resp->headers, resp->n_headers, false, &cc);
    return rp_cache_lifetime(resp, &cc, date_value, heuristic_max);
}

static void cache_lifetime_explicit(void)
{
    const int64_t D = T0, HM = 86400;
    /* s-maxage beats max-age beats Expires */
    T_EQ(lifetime(RESP(200, "Cache-Control", "max-age=60, s-maxage=600"), D, HM), 600);
    T_EQ(lifetime(RESP(200, "Cache-Control", "s-maxage=0, max-age=600"), D, HM), 0);
    T_EQ(lifetime(RESP(200, "Cache-Control", "max-age=60", "Expires", date(D + 3600)), D, HM), 60);
    T_EQ(lifetime(RESP(200, "Cache-Control", "max-age=60", "Expires", "0"), D, HM), 60);
    T_EQ(lifetime(RESP(200, "Cache-Control", "max-age=0"), D, HM), 0);
    /* Expires minus Date */
    T_EQ(lifetime(RESP(200, "Expires", date(D + 3600)), D, HM), 3600);
    /* Expires without Date: the caller's date_value is the response time */
    T_EQ(lifetime(RESP(200, "Expires", date(D + 3600)), D + 100, HM), 3500);
    /* in the past, equal, invalid: already expired, and no heuristic */
    T_EQ(lifetime(RESP(200, "Expires", date(D - 10), "Last-Modified", date(D - 86400)), D, HM), 0);
    T_EQ(lifetime(RESP(200, "Expires", date(D)), D, HM), 0);
    T_EQ(lifetime(RESP(200, "Expires", "0", "Last-Modified", date(D - 86400)), D, HM), 0);
    T_EQ(lifetime(RESP(200, "Expires", "Thu, 18 Aug 2050 02:01:18 UTC"), D, HM), 0);
    T_EQ(lifetime(RESP(200, "Expires", "Thursday, 01-Jan-70 00:00:00 GMT"), D, HM), 0);
    /* two Expires that disagree: stale; that agree: fine */
    T_EQ(lifetime(RESP(200, "Expires", date(D + 60), "Expires", date(D + 120)), D, HM), 0);
    T_EQ(lifetime(RESP(200, "Expires", date(D + 60), "Expires", date(D + 60)), D, HM), 60);
    /* invalid freshness information: stale, whatever else there is */
    T_EQ(lifetime(RESP(200, "Cache-Control", "max-age=abc", "Expires", date(D + 60)), D, HM), 0);
    T_EQ(lifetime(RESP(200, "Cache-Control", "max-age=1800, max-age=1"), D, HM), 0);
    T_EQ(lifetime(RESP(200, "Cache-Control", "max-age=abc", "Last-Modified", date(D - 86400)), D,
                  HM),
         0);
    /* quoted and huge values */
    T_EQ(lifetime(RESP(200, "Cache-Control", "max-age=\"3600\""), D, HM), 3600);
    T_EQ(lifetime(RESP(200, "Cache-Control", "max-age=99999999999"), D, HM), 2147483648LL);
}

static void cache_lifetime_heuristic(void)
{
    const int64_t D = T0, HM = 86400;
    /* a tenth of the time since Last-Modified */
    T_EQ(lifetime(RESP(200, "Last-Modified", date(D - 36000)), D, HM), 3600);
    T_EQ(lifetime(RESP(404, "Last-Modified", date(D - 1000)), D, HM), 100);
    /* capped */
    T_EQ(lifetime(RESP(200, "Last-Modified", date(D - 10 * 86400 * 10)), D, HM), HM);
    T_EQ(lifetime(RESP(200, "Last-Modified", date(D - 36000)), D, 60), 60);
    T_EQ(lifetime(RESP(200, "Last-Modified", date(D - 36000)), D, 0), 0);
    /* only with a Last-Modified that is a date before Date */
    T_EQ(lifetime(RESP(200, NULL), D, HM), 0);
    T_EQ(lifetime(RESP(200, "ETag", "\"x\""), D, HM), 0);
    T_EQ(lifetime(RESP(200, "Last-Modified", "yesterday"), D, HM), 0);
    T_EQ(lifetime(RESP(200, "Last-Modified", date(D + 3600)), D, HM), 0);
    /* only for a status cacheable by default, or public */
    T_EQ(lifetime(RESP(403, "Last-Modified", date(D - 36000)), D, HM), 0);
    T_EQ(lifetime(RESP(302, "Last-Modified", date(D - 36000)), D, HM), 0);
    T_EQ(lifetime(RESP(599, "Last-Modified", date(D - 36000), "Cache-Control", "public"), D, HM),
         3600);
    /* not when explicit freshness is there, even zero */
    T_EQ(lifetime(RESP(200, "Last-Modified", date(D - 36000), "Cache-Control", "max-age=0"), D, HM),
         0);
}

/* ---- age ------------------------------------------------------------------ */

static struct rp_cache_times times(const struct rp_http1_response *resp, int64_t request_time,
                                   int64_t response_time)
{
    struct rp_cache_control cc;
    rp_cc_parse(resp->headers, resp->n_headers, false, &cc);
    struct rp_cache_times t;
    rp_cache_times_init(&t, resp, &cc, request_time, response_time, 86400);
    return t;
}

static void cache_age(void)
{
    /* RFC 9111 4.2.3, worked: sent at 100, received at 102 with a Date of
     * 90 (apparent age 12) and Age 5 (corrected 5 + 2 = 7): initial age
     * 12; at 110 it has been resident 8 more seconds: 20 */
    const int64_t B = T0;
    struct rp_cache_times t = times(RESP(200, "Date", date(B + 90), "Age", "5"), B + 100, B + 102);
    T_EQ(t.request_time, B + 100);
    T_EQ(t.response_time, B + 102);
    T_EQ(t.date_value, B + 90);
    T_EQ(t.age_value, 5);
    T_EQ(rp_cache_current_age(&t, B + 110), 20);
    T_EQ(rp_cache_current_age(&t, B + 102), 12);
    /* an Age larger than the apparent age wins, with the delay added */
    t = times(RESP(200, "Date", date(B + 90), "Age", "20"), B + 100, B + 102);
    T_EQ(rp_cache_current_age(&t, B + 110), 30);
    /* a Date in the future (clock skew) makes no negative age */
    t = times(RESP(200, "Date", date(B + 500)), B + 100, B + 100);
    T_EQ(rp_cache_current_age(&t, B + 100), 0);
    T_EQ(rp_cache_current_age(&t, B + 160), 60);
    /* no Date, or not a date: the response time */
    t = times(RESP(200, "Age", "7"), B, B);
    T_EQ(t.date_value, B);
    T_EQ(rp_cache_current_age(&t, B + 3), 10);
    t = times(RESP(200, "Date", "soon"), B, B + 1);
    T_EQ(t.date_value, B + 1);
    /* now before the response arrived counts as no residence */
    T_EQ(rp_cache_current_age(&t, B - 100), 1);
    /* Age: a list's first member; invalid ones ignored (RFC 9111 5.1) */
    T_EQ(times(RESP(200, "Age", "7200, 0"), B, B).age_value, 7200);
    T_EQ(times(RESP(200, "Age", "0,7200"), B, B).age_value, 0);
    T_EQ(times(RESP(200, "Age", "30", "Age", "0"), B, B).age_value, 30);
    T_EQ(times(RESP(200, "Age", "abc"), B, B).age_value, 0);
    T_EQ(times(RESP(200, "Age", "-7200"), B, B).age_value, 0);
    T_EQ(times(RESP(200, "Age", "7200.0"), B, B).age_value, 0);
    T_EQ(times(RESP(200, "Age", "99999999999999999999"), B, B).age_value, 2147483648LL);
    /* the lifetime is computed against Date */
    t = times(RESP(200, "Date", date(B), "Expires", date(B + 600)), B + 50, B + 50);
    T_EQ(t.lifetime, 600);
    t = times(RESP(200, "Cache-Control", "max-age=3600", "Age", "1800"), B, B);
    T_EQ(t.lifetime, 3600);
    T_EQ(rp_cache_current_age(&t, B), 1800);
    /* extremes saturate, never wrap */
    struct rp_cache_times x = {.request_time = INT64_MIN,
                               .response_time = INT64_MAX,
                               .date_value = INT64_MIN,
                               .age_value = INT64_MAX,
                               .lifetime = 0};
    T_EQ(rp_cache_current_age(&x, INT64_MAX), INT64_MAX);
}

/* ---- reuse ---------------------------------------------------------------- */

/* A response stored at time 1000 (Date 1000, no Age) with lifetime from its
 * Cache-Control rc; the reuse verdict at `now` for request directives q. */
static enum rp_cache_reuse reuse_at(const char *rc, const char *q, int64_t now, int64_t swr_default)
{
    struct rp_cache_control r = rcc(rc), rq = q ? qcc(q) : none();
    struct rp_cache_times t = {.request_time = 1000,
                               .response_time = 1000,
                               .date_value = 1000,
                               .age_value = 0,
                               .lifetime = r.max_age >= 0 ? r.max_age : 0};
    if (r.s_maxage >= 0)
        t.lifetime = r.s_maxage;
    if (r.flags & RP_CC_INVALID)
        t.lifetime = 0;
    return rp_cache_reuse(&t, &r, &rq, now, swr_default);
}

static void cache_reuse(void)
{
    /* fresh while lifetime > age; stale from age == lifetime */
    T_EQ(reuse_at("max-age=100", NULL, 1000, 0), RP_CACHE_FRESH);
    T_EQ(reuse_at("max-age=100", NULL, 1099, 0), RP_CACHE_FRESH);
    T_EQ(reuse_at("max-age=100", NULL, 1100, 0), RP_CACHE_REVALIDATE);
    T_EQ(reuse_at("max-age=0", NULL, 1000, 0), RP_CACHE_REVALIDATE);
    T_EQ(reuse_at("max-age=abc", NULL, 1000, 0), RP_CACHE_REVALIDATE);
    /* no-cache, either side, even fresh */
    T_EQ(reuse_at("max-age=100, no-cache", NULL, 1001, 0), RP_CACHE_REVALIDATE);
    T_EQ(reuse_at("max-age=100, no-cache=\"Set-Cookie\"", NULL, 1001, 0), RP_CACHE_REVALIDATE);
    T_EQ(reuse_at("max-age=100", "no-cache", 1001, 0), RP_CACHE_REVALIDATE);
    T_EQ(reuse_at("max-age=100, immutable", "no-cache", 1001, 0), RP_CACHE_REVALIDATE);
    /* Pragma: no-cache of a request */
    {
        struct rp_http1_header h[1];
        HEAD(h, "Pragma", "no-cache");
        struct rp_cache_control r = rcc("max-age=100"), q;
        rp_cc_parse(h, 1, true, &q);
        struct rp_cache_times t = {1000, 1000, 1000, 0, 100};
        T_EQ(rp_cache_reuse(&t, &r, &q, 1001, 0), RP_CACHE_REVALIDATE);
    }
    /* request max-age bounds the age */
    T_EQ(reuse_at("max-age=3600", "max-age=600", 1000 + 600, 0), RP_CACHE_FRESH);
    T_EQ(reuse_at("max-age=3600", "max-age=600", 1000 + 601, 0), RP_CACHE_REVALIDATE);
    T_EQ(reuse_at("max-age=3600", "max-age=0", 1000, 0), RP_CACHE_REVALIDATE);
    /* request min-fresh: still fresh for that long */
    T_EQ(reuse_at("max-age=1500", "min-fresh=1000", 1000 + 500, 0), RP_CACHE_FRESH);
    T_EQ(reuse_at("max-age=1500", "min-fresh=1000", 1000 + 501, 0), RP_CACHE_REVALIDATE);
    T_EQ(reuse_at("max-age=1500", "min-fresh=2000", 1000, 0), RP_CACHE_REVALIDATE);
}

static void cache_reuse_stale(void)
{
    /* max-stale widens: "exceeded by no more than" N */
    T_EQ(reuse_at("max-age=100", "max-stale=50", 1150, 0), RP_CACHE_STALE_SERVE);
    T_EQ(reuse_at("max-age=100", "max-stale=50", 1151, 0), RP_CACHE_REVALIDATE);
    T_EQ(reuse_at("max-age=100", "max-stale", 1000 + 100000000, 0), RP_CACHE_STALE_SERVE);
    T_EQ(reuse_at("max-age=100", "max-stale=50", 1050, 0), RP_CACHE_FRESH);
    /* ...unless the response forbids serving it stale */
    T_EQ(reuse_at("max-age=100, must-revalidate", "max-stale", 1101, 0), RP_CACHE_REVALIDATE);
    T_EQ(reuse_at("max-age=100, proxy-revalidate", "max-stale", 1101, 0), RP_CACHE_REVALIDATE);
    T_EQ(reuse_at("s-maxage=100", "max-stale", 1101, 0), RP_CACHE_REVALIDATE);
    T_EQ(reuse_at("max-age=100, no-cache", "max-stale", 1101, 0), RP_CACHE_REVALIDATE);
    /* ...but they do not matter while fresh */
    T_EQ(reuse_at("max-age=100, must-revalidate", NULL, 1050, 0), RP_CACHE_FRESH);
    T_EQ(reuse_at("s-maxage=100, proxy-revalidate", NULL, 1050, 0), RP_CACHE_FRESH);
    /* request max-age still bounds the age under max-stale */
    T_EQ(reuse_at("max-age=100", "max-stale=1000, max-age=120", 1110, 0), RP_CACHE_STALE_SERVE);
    T_EQ(reuse_at("max-age=100", "max-stale=1000, max-age=120", 1121, 0), RP_CACHE_REVALIDATE);
    /* min-fresh wants freshness left: no stale */
    T_EQ(reuse_at("max-age=100", "max-stale, min-fresh=1", 1150, 0), RP_CACHE_REVALIDATE);

    /* stale-while-revalidate: the response's, else the default */
    T_EQ(reuse_at("max-age=100, stale-while-revalidate=60", NULL, 1100, 0),
         RP_CACHE_STALE_REVALIDATE_BG);
    T_EQ(reuse_at("max-age=100, stale-while-revalidate=60", NULL, 1160, 0),
         RP_CACHE_STALE_REVALIDATE_BG);
    T_EQ(reuse_at("max-age=100, stale-while-revalidate=60", NULL, 1161, 0), RP_CACHE_REVALIDATE);
    T_EQ(reuse_at("max-age=100", NULL, 1130, 60), RP_CACHE_STALE_REVALIDATE_BG);
    T_EQ(reuse_at("max-age=100", NULL, 1161, 60), RP_CACHE_REVALIDATE);
    T_EQ(reuse_at("max-age=100, stale-while-revalidate=0", NULL, 1100, 60), RP_CACHE_REVALIDATE);
    T_EQ(reuse_at("max-age=100, stale-while-revalidate=10", NULL, 1130, 60), RP_CACHE_REVALIDATE);
    T_EQ(reuse_at("max-age=100", NULL, 1100, 0), RP_CACHE_REVALIDATE);
    /* never when stale is forbidden, nor to a client that set max-age */
    T_EQ(reuse_at("max-age=100, stale-while-revalidate=60, must-revalidate", NULL, 1110, 0),
         RP_CACHE_REVALIDATE);
    T_EQ(reuse_at("s-maxage=100, stale-while-revalidate=60", NULL, 1110, 0), RP_CACHE_REVALIDATE);
    T_EQ(reuse_at("max-age=100, stale-while-revalidate=60", "max-age=1000", 1110, 0),
         RP_CACHE_REVALIDATE);
    /* max-stale beats it: the client asked for no revalidation */
    T_EQ(reuse_at("max-age=100, stale-while-revalidate=60", "max-stale=30", 1110, 0),
         RP_CACHE_STALE_SERVE);
    T_EQ(reuse_at("max-age=100, stale-while-revalidate=60", "max-stale=5", 1110, 0),
         RP_CACHE_STALE_REVALIDATE_BG);
}

/* ---- stale-if-error ------------------------------------------------------- */

static bool sie_at(const char *rc, const char *q, int64_t now, int64_t sie_default)
{
    struct rp_cache_control r = rcc(rc), rq = q ? qcc(q) : none();
    struct rp_cache_times t = {1000, 1000, 1000, 0, r.max_age >= 0 ? r.max_age : 0};
    if (r.s_maxage >= 0)
        t.lifetime = r.s_maxage;
    return rp_cache_stale_if_error(&t, &r, &rq, now, sie_default);
}

static void cache_stale_if_error(void)
{
    /* the response's window */
    T_OK(sie_at("max-age=100, stale-if-error=60", NULL, 1100, 0));
    T_OK(sie_at("max-age=100, stale-if-error=60", NULL, 1160, 0));
    T_OK(!sie_at("max-age=100, stale-if-error=60", NULL, 1161, 0));
    /* else the request's */
    T_OK(sie_at("max-age=100", "stale-if-error=30", 1130, 0));
    T_OK(!sie_at("max-age=100", "stale-if-error=30", 1131, 0));
    T_OK(!sie_at("max-age=100, stale-if-error=10", "stale-if-error=30", 1120, 0));
    /* else the default; none at all: no */
    T_OK(sie_at("max-age=100", NULL, 1200, 100));
    T_OK(!sie_at("max-age=100", NULL, 1201, 100));
    T_OK(!sie_at("max-age=100", NULL, 1100, 0));
    T_OK(!sie_at("max-age=100, stale-if-error=0", NULL, 1100, 100));
    /* never when stale is forbidden */
    T_OK(!sie_at("max-age=100, stale-if-error=60, must-revalidate", NULL, 1110, 0));
    T_OK(!sie_at("max-age=100, stale-if-error=60, proxy-revalidate", NULL, 1110, 0));
    T_OK(!sie_at("s-maxage=100, stale-if-error=60", NULL, 1110, 0));
    T_OK(!sie_at("max-age=100, stale-if-error=60, no-cache", NULL, 1110, 0));
    T_OK(!sie_at("max-age=100, no-cache", NULL, 1010, 0));
    /* still fresh (a request forced the revalidation): it may be served */
    T_OK(sie_at("max-age=100", "no-cache", 1050, 0));
    T_OK(sie_at("max-age=100, must-revalidate", "no-cache", 1050, 0));
}

/* ---- conditional requests ------------------------------------------------- */

static enum rp_cond_result cond(const char *const *kv, bool get_or_head, const char *etag,
                                int64_t last_modified)
{
    struct rp_http1_header h[8];
    uint32_t n = head(h, kv);
    return rp_cond_evaluate(h, n, get_or_head, etag, etag ? strlen(etag) : 0, last_modified);
}
#define COND(get, etag, lm, ...) cond((const char *const[]){__VA_ARGS__, NULL}, (get), (etag), (lm))

static void cond_if_none_match(void)
{
    const char *E = "\"v1\"", *W = "W/\"v1\"";
    T_EQ(COND(true, E, -1, NULL), RP_COND_NONE);
    T_EQ(COND(true, E, -1, "If-None-Match", "\"v1\""), RP_COND_NOT_MODIFIED);
    T_EQ(COND(true, E, -1, "If-None-Match", "\"v2\""), RP_COND_NONE);
    /* weak comparison, either side weak */
    T_EQ(COND(true, E, -1, "If-None-Match", "W/\"v1\""), RP_COND_NOT_MODIFIED);
    T_EQ(COND(true, W, -1, "If-None-Match", "\"v1\""), RP_COND_NOT_MODIFIED);
    T_EQ(COND(true, W, -1, "If-None-Match", "W/\"v1\""), RP_COND_NOT_MODIFIED);
    /* lists, several fields, "*" */
    T_EQ(COND(true, E, -1, "If-None-Match", "\"a\", \"b\",\"v1\""), RP_COND_NOT_MODIFIED);
    T_EQ(COND(true, E, -1, "If-None-Match", "\"a\"", "if-none-match", "\"v1\""),
         RP_COND_NOT_MODIFIED);
    T_EQ(COND(true, E, -1, "If-None-Match", "*"), RP_COND_NOT_MODIFIED);
    T_EQ(COND(true, NULL, -1, "If-None-Match", "*"), RP_COND_NOT_MODIFIED);
    T_EQ(COND(true, NULL, -1, "If-None-Match", "\"v1\""), RP_COND_NONE);
    /* opaque-tags compare exactly: case, quotes */
    T_EQ(COND(true, E, -1, "If-None-Match", "\"V1\""), RP_COND_NONE);
    T_EQ(COND(true, E, -1, "If-None-Match", "v1"), RP_COND_NONE);
    T_EQ(COND(true, E, -1, "If-None-Match", "w/\"v1\""), RP_COND_NONE); /* W/ is case-sensitive */
    T_EQ(COND(true, E, -1, "If-None-Match", "\"v1"), RP_COND_NONE);
    /* a malformed member does not hide the others */
    T_EQ(COND(true, E, -1, "If-None-Match", "junk, \"v1\""), RP_COND_NOT_MODIFIED);
    /* a comma inside a tag is part of it */
    T_EQ(COND(true, "\"a,b\"", -1, "If-None-Match", "\"a,b\""), RP_COND_NOT_MODIFIED);
    /* not GET or HEAD: 412 */
    T_EQ(COND(false, E, -1, "If-None-Match", "\"v1\""), RP_COND_FAILED);
    T_EQ(COND(false, E, -1, "If-None-Match", "*"), RP_COND_FAILED);
    T_EQ(COND(false, E, -1, "If-None-Match", "\"v2\""), RP_COND_NONE);
}

static void cond_if_match(void)
{
    const char *E = "\"v1\"", *W = "W/\"v1\"";
    T_EQ(COND(false, E, -1, "If-Match", "\"v1\""), RP_COND_NONE);
    T_EQ(COND(true, E, -1, "If-Match", "\"v2\""), RP_COND_FAILED);
    T_EQ(COND(false, E, -1, "If-Match", "\"v2\", \"v1\""), RP_COND_NONE);
    T_EQ(COND(false, E, -1, "If-Match", "*"), RP_COND_NONE);
    T_EQ(COND(false, NULL, -1, "If-Match", "*"), RP_COND_NONE);
    T_EQ(COND(false, NULL, -1, "If-Match", "\"v1\""), RP_COND_FAILED);
    /* strong comparison: a weak tag on either side never matches */
    T_EQ(COND(false, E, -1, "If-Match", "W/\"v1\""), RP_COND_FAILED);
    T_EQ(COND(false, W, -1, "If-Match", "\"v1\""), RP_COND_FAILED);
    T_EQ(COND(false, W, -1, "If-Match", "W/\"v1\""), RP_COND_FAILED);
    T_EQ(COND(false, E, -1, "If-Match", ""), RP_COND_FAILED);
}

static void cond_dates(void)
{
    const int64_t LM = T0;
    const char *at = date(LM), *before = date(LM - 1), *after = date(LM + 1);
    /* If-Modified-Since: not modified when last_modified <= date */
    T_EQ(COND(true, NULL, LM, "If-Modified-Since", at), RP_COND_NOT_MODIFIED);
    T_EQ(COND(true, NULL, LM, "If-Modified-Since", after), RP_COND_NOT_MODIFIED);
    T_EQ(COND(true, NULL, LM, "If-Modified-Since", before), RP_COND_NONE);
    /* the obsolete forms are dates too */
    T_EQ(COND(true, NULL, LM, "If-Modified-Since", "Sunday, 06-Nov-94 08:49:37 GMT"),
         RP_COND_NOT_MODIFIED);
    /* ignored: not a date, a list, two fields, no Last-Modified, not
     * GET/HEAD */
    T_EQ(COND(true, NULL, LM, "If-Modified-Since", "yesterday"), RP_COND_NONE);
    T_EQ(COND(true, NULL, LM, "If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT, x"),
         RP_COND_NONE);
    T_EQ(COND(true, NULL, LM, "If-Modified-Since", at, "If-Modified-Since", at), RP_COND_NONE);
    T_EQ(COND(true, NULL, -1, "If-Modified-Since", at), RP_COND_NONE);
    T_EQ(COND(false, NULL, LM, "If-Modified-Since", at), RP_COND_NONE);

    /* If-Unmodified-Since: 412 when modified after the date */
    T_EQ(COND(false, NULL, LM, "If-Unmodified-Since", at), RP_COND_NONE);
    T_EQ(COND(false, NULL, LM, "If-Unmodified-Since", after), RP_COND_NONE);
    T_EQ(COND(false, NULL, LM, "If-Unmodified-Since", before), RP_COND_FAILED);
    T_EQ(COND(true, NULL, LM, "If-Unmodified-Since", before), RP_COND_FAILED);
    T_EQ(COND(false, NULL, LM, "If-Unmodified-Since", "garbage"), RP_COND_NONE);
    T_EQ(COND(false, NULL, -1, "If-Unmodified-Since", before), RP_COND_NONE);
}

static void cond_precedence(void)
{
    const int64_t LM = T0;
    const char *E = "\"v1\"", *at = date(LM), *before = date(LM - 1);
    /* If-Match decides and If-Unmodified-Since is then ignored */
    T_EQ(COND(false, E, LM, "If-Match", "\"v1\"", "If-Unmodified-Since", before), RP_COND_NONE);
    T_EQ(COND(false, E, LM, "If-Match", "\"v2\"", "If-Unmodified-Since", at), RP_COND_FAILED);
    /* a failed If-Match beats a matching If-None-Match */
    T_EQ(COND(true, E, LM, "If-None-Match", "\"v1\"", "If-Match", "\"v2\""), RP_COND_FAILED);
    /* a failed If-Unmodified-Since beats If-None-Match and If-Modified-Since */
    T_EQ(COND(true, E, LM, "If-None-Match", "\"v1\"", "If-Unmodified-Since", before),
         RP_COND_FAILED);
    T_EQ(COND(true, E, LM, "If-Modified-Since", at, "If-Unmodified-Since", before), RP_COND_FAILED);
    /* If-None-Match present: If-Modified-Since is ignored both ways */
    T_EQ(COND(true, E, LM, "If-None-Match", "\"v2\"", "If-Modified-Since", at), RP_COND_NONE);
    T_EQ(COND(true, E, LM, "If-None-Match", "\"v1\"", "If-Modified-Since", before),
         RP_COND_NOT_MODIFIED);
    T_EQ(COND(true, E, LM, "If-None-Match", "junk", "If-Modified-Since", at), RP_COND_NONE);
    /* both true: a 304 from If-None-Match */
    T_EQ(COND(true, E, LM, "If-Match", "\"v1\"", "If-None-Match", "W/\"v1\""),
         RP_COND_NOT_MODIFIED);
}

/* ---- Vary ----------------------------------------------------------------- */

/* The Vary key of a response with Vary value(s) vary (a NULL-ended list)
 * for a request with fields kv, as a string ("<-1>" when it does not fit
 * in cap). */
static const char *vkey(const char *const *vary, const char *const *kv, size_t cap)
{
    static char bufs[2][256]; /* two keys may be compared */
    static unsigned k;
    char *out = bufs[k++ % 2];
    struct rp_http1_header rh[8], qh[8];
    uint32_t rn = 0;
    for (; vary[rn]; rn++)
        rh[rn] = (struct rp_http1_header){"Vary", vary[rn], 4, (uint32_t)strlen(vary[rn])};
    uint32_t qn = head(qh, kv);
    int n = rp_vary_key(rh, rn, qh, qn, out, cap);
    if (n < 0)
        return "<-1>";
    out[n] = '\0';
    return out;
}
#define VARY(...) ((const char *const[]){__VA_ARGS__, NULL})
#define VKEY(vary, ...) vkey(vary, (const char *const[]){__VA_ARGS__, NULL}, 255)

static void vary_key(void)
{
    T_STR(VKEY(VARY(NULL), "Accept", "x"), "");
    T_STR(VKEY(VARY("Accept-Encoding"), "Accept-Encoding", "gzip"), "accept-encoding:gzip\n");
    /* names in Vary order, lower-cased; request names case-insensitive */
    T_STR(VKEY(VARY("Accept-Language, ACCEPT"), "accept", "text/html", "Accept-Language", "en"),
          "accept-language:en\naccept:text/html\n");
    /* several Vary fields */
    T_STR(VKEY(VARY("Accept", "X-Foo"), "X-Foo", "1", "Accept", "a"), "accept:a\nx-foo:1\n");
    /* several request fields of one name, whitespace around elements */
    T_STR(VKEY(VARY("Accept-Encoding"), "Accept-Encoding", "gzip ,  br", "accept-encoding", "zstd"),
          "accept-encoding:gzip,br,zstd\n");
    T_STR(VKEY(VARY("Accept-Encoding"), "Accept-Encoding", "gzip, br"),
          VKEY(VARY("accept-encoding"), "accept-encoding", "gzip,br"));
    /* values keep their case and inner spaces */
    T_STR(VKEY(VARY("Accept"), "Accept", "Text/HTML; q=0.5"), "accept:Text/HTML; q=0.5\n");
    /* an absent field differs from an empty one */
    T_STR(VKEY(VARY("X-Foo"), "Other", "1"), "x-foo\n");
    T_STR(VKEY(VARY("X-Foo"), "X-Foo", ""), "x-foo:\n");
    /* Vary's empty members are skipped, other fields ignored */
    T_STR(VKEY(VARY(" , Accept ,"), "Accept", "a", "Cookie", "c"), "accept:a\n");
    /* values that differ give keys that differ */
    T_OK(strcmp(VKEY(VARY("Accept"), "Accept", "a,b"), VKEY(VARY("Accept"), "Accept", "a;b")) != 0);
}

static void vary_key_cap(void)
{
    /* "accept:a\n" is 9 bytes */
    T_STR(vkey(VARY("Accept"), (const char *const[]){"Accept", "a", NULL}, 9), "accept:a\n");
    T_STR(vkey(VARY("Accept"), (const char *const[]){"Accept", "a", NULL}, 8), "<-1>");
    T_STR(vkey(VARY("Accept"), (const char *const[]){"Accept", "a", NULL}, 0), "<-1>");
    T_STR(vkey(VARY(NULL), (const char *const[]){NULL}, 0), "");
}

/* ---- ranges --------------------------------------------------------------- */

static struct rp_ranges rs;

static enum rp_range_result range_of(const char *const *kv, uint64_t length, const char *etag,
                                     int64_t last_modified)
{
    struct rp_http1_header h[8];
    uint32_t n = head(h, kv);
    memset(&rs, 0xa5, sizeof rs);
    return rp_range_parse(h, n, length, etag, etag ? strlen(etag) : 0, last_modified, &rs);
}
#define RANGE(len, ...) range_of((const char *const[]){__VA_ARGS__, NULL}, (len), NULL, -1)
#define R(i, f, l)                                                                                 \
    do {                                                                                           \
        T_EQ(rs.r[i].first, f);                                                                    \
        T_EQ(rs.r[i].last, l);                                                                     \
    } while (0)

static void range_forms(void)
{
    T_EQ(RANGE(100, NULL), RP_RANGE_NONE);
    T_EQ(rs.n, 0);
    T_EQ(RANGE(100, "Range", "bytes=0-9"), RP_RANGE_OK);
    T_EQ(rs.n, 1);
    R(0, 0, 9);
    T_EQ(RANGE(100, "Range", "bytes=90-"), RP_RANGE_OK);
    R(0, 90, 99);
    T_EQ(RANGE(100, "Range", "bytes=-10"), RP_RANGE_OK);
    R(0, 90, 99);
    T_EQ(RANGE(100, "range", "BYTES=5-5"), RP_RANGE_OK); /* the unit is case-insensitive */
    R(0, 5, 5);
    /* last past the end is clamped; a suffix longer than the whole is it */
    T_EQ(RANGE(100, "Range", "bytes=50-1000"), RP_RANGE_OK);
    R(0, 50, 99);
    T_EQ(RANGE(100, "Range", "bytes=-1000"), RP_RANGE_OK);
    R(0, 0, 99);
    T_EQ(RANGE(100, "Range", "bytes=0-99999999999999999999999"), RP_RANGE_OK);
    R(0, 0, 99);
    /* the whole representation as a range is still a 206 */
    T_EQ(RANGE(100, "Range", "bytes=0-"), RP_RANGE_OK);
    R(0, 0, 99);
}

static void range_invalid(void)
{
    /* not bytes, malformed, invalid: the whole (200) */
    const char *bad[] = {
        "items=0-9",  "bytes",     "bytes=",      "bytes=,",     "bytes=a-b",     "bytes=5",
        "bytes=-",    "bytes=9-0", "bytes=0-9 x", "bytes=0 - 9", "bytes=--5",     "bytes=0-9,junk",
        "bytes=0-9;", "bytes 0-9", "bytes=+1-2",  "bytes=1-+2",  "bytes=0-9,9-0",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (!T_EQ(RANGE(100, "Range", bad[i]), RP_RANGE_NONE))
            fprintf(stderr, "# accepted: %s\n", bad[i]);
        T_EQ(rs.n, 0);
    }
    /* two Range fields */
    T_EQ(RANGE(100, "Range", "bytes=0-1", "Range", "bytes=2-3"), RP_RANGE_NONE);
    /* OWS around elements and empty elements are list syntax */
    T_EQ(RANGE(100, "Range", "bytes=0-1 , ,2-3,"), RP_RANGE_OK);
}

static void range_unsatisfiable(void)
{
    /* first beyond the length: 416 */
    T_EQ(RANGE(100, "Range", "bytes=100-"), RP_RANGE_UNSATISFIABLE);
    T_EQ(rs.n, 0);
    T_EQ(RANGE(100, "Range", "bytes=100-200"), RP_RANGE_UNSATISFIABLE);
    T_EQ(RANGE(100, "Range", "bytes=99999999999999999999999-"), RP_RANGE_UNSATISFIABLE);
    /* an empty suffix */
    T_EQ(RANGE(100, "Range", "bytes=-0"), RP_RANGE_UNSATISFIABLE);
    /* one satisfiable among several is enough */
    T_EQ(RANGE(100, "Range", "bytes=200-300, 10-19, -0"), RP_RANGE_OK);
    T_EQ(rs.n, 1);
    R(0, 10, 19);
    /* an empty representation: no int-range fits; a suffix would be all
     * of nothing, sent as the whole */
    T_EQ(RANGE(0, "Range", "bytes=0-"), RP_RANGE_UNSATISFIABLE);
    T_EQ(RANGE(0, "Range", "bytes=0-0"), RP_RANGE_UNSATISFIABLE);
    T_EQ(RANGE(0, "Range", "bytes=-5"), RP_RANGE_NONE);
    T_EQ(RANGE(0, "Range", "bytes=-0"), RP_RANGE_UNSATISFIABLE);
}

static void range_lists(void)
{
    T_EQ(RANGE(100, "Range", "bytes=0-9, 20-29, -5"), RP_RANGE_OK);
    T_EQ(rs.n, 3);
    R(0, 0, 9);
    R(1, 20, 29);
    R(2, 95, 99);
    /* overlapping ranges merge, in the place of the first one */
    T_EQ(RANGE(100, "Range", "bytes=50-59, 0-9, 55-70"), RP_RANGE_OK);
    T_EQ(rs.n, 2);
    R(0, 50, 70);
    R(1, 0, 9);
    /* adjacent ones too */
    T_EQ(RANGE(100, "Range", "bytes=0-9,10-19"), RP_RANGE_OK);
    T_EQ(rs.n, 1);
    R(0, 0, 19);
    /* a range that bridges two earlier ones */
    T_EQ(RANGE(100, "Range", "bytes=0-9, 30-39, 60-69, 5-35"), RP_RANGE_OK);
    T_EQ(rs.n, 2);
    R(0, 0, 39);
    R(1, 60, 69);
    /* a suffix overlapping an int-range */
    T_EQ(RANGE(100, "Range", "bytes=80-89, -15"), RP_RANGE_OK);
    T_EQ(rs.n, 1);
    R(0, 80, 99);
    /* duplicates */
    T_EQ(RANGE(100, "Range", "bytes=0-0,0-0,0-0,0-0,0-0,0-0,0-0,0-0,0-0,0-0"), RP_RANGE_OK);
    T_EQ(rs.n, 1);
    /* RP_RANGES_MAX disjoint ranges are fine, one more is too many */
    T_EQ(RANGE(100, "Range", "bytes=0-0,2-2,4-4,6-6,8-8,10-10,12-12,14-14"), RP_RANGE_OK);
    T_EQ(rs.n, RP_RANGES_MAX);
    R(7, 14, 14);
    T_EQ(RANGE(100, "Range", "bytes=0-0,2-2,4-4,6-6,8-8,10-10,12-12,14-14,16-16"), RP_RANGE_NONE);
    T_EQ(rs.n, 0);
    /* ...counted after merging */
    T_EQ(RANGE(100, "Range", "bytes=0-0,2-2,4-4,6-6,8-8,10-10,12-12,14-14,1-3"), RP_RANGE_OK);
    T_EQ(rs.n, 6);
    R(0, 0, 4);
}

static void range_if_range(void)
{
    const char *E = "\"v1\"";
    const int64_t LM = T0;
    const char *at = date(LM);
#define IFR(etag, lm, ...) range_of((const char *const[]){__VA_ARGS__, NULL}, 100, (etag), (lm))
    /* a strong tag equal to the stored one */
    T_EQ(IFR(E, LM, "Range", "bytes=0-9", "If-Range", "\"v1\""), RP_RANGE_OK);
    T_EQ(IFR(E, LM, "Range", "bytes=0-9", "If-Range", "\"v2\""), RP_RANGE_NONE);
    /* weak tags never match */
    T_EQ(IFR(E, LM, "Range", "bytes=0-9", "If-Range", "W/\"v1\""), RP_RANGE_NONE);
    T_EQ(IFR("W/\"v1\"", LM, "Range", "bytes=0-9", "If-Range", "\"v1\""), RP_RANGE_NONE);
    T_EQ(IFR(NULL, LM, "Range", "bytes=0-9", "If-Range", "\"v1\""), RP_RANGE_NONE);
    /* a date exactly the last modification */
    T_EQ(IFR(E, LM, "Range", "bytes=0-9", "If-Range", at), RP_RANGE_OK);
    T_EQ(IFR(E, LM, "Range", "bytes=0-9", "If-Range", "Sunday, 06-Nov-94 08:49:37 GMT"),
         RP_RANGE_OK);
    T_EQ(IFR(E, LM + 1, "Range", "bytes=0-9", "If-Range", at), RP_RANGE_NONE);
    T_EQ(IFR(E, LM - 1, "Range", "bytes=0-9", "If-Range", at), RP_RANGE_NONE);
    T_EQ(IFR(E, -1, "Range", "bytes=0-9", "If-Range", at), RP_RANGE_NONE);
    /* a date on a "W..." day is a date, not a weak tag */
    T_EQ(IFR(E, 1000080000, "Range", "bytes=0-9", "If-Range", "Mon, 10 Sep 2001 00:00:00 GMT"),
         RP_RANGE_OK);
    T_EQ(IFR(E, 1000166400, "Range", "bytes=0-9", "If-Range", "Tue, 11 Sep 2001 00:00:00 GMT"),
         RP_RANGE_OK);
    T_EQ(IFR(E, 1000252800, "Range", "bytes=0-9", "If-Range", "Wed, 12 Sep 2001 00:00:00 GMT"),
         RP_RANGE_OK);
    /* neither, or two: false */
    T_EQ(IFR(E, LM, "Range", "bytes=0-9", "If-Range", "v1"), RP_RANGE_NONE);
    T_EQ(IFR(E, LM, "Range", "bytes=0-9", "If-Range", "\"v1\", \"v2\""), RP_RANGE_NONE);
    T_EQ(IFR(E, LM, "Range", "bytes=0-9", "If-Range", "\"v1\"", "If-Range", "\"v1\""),
         RP_RANGE_NONE);
    /* a true If-Range does not make an unsatisfiable range satisfiable */
    T_EQ(IFR(E, LM, "Range", "bytes=200-", "If-Range", "\"v1\""), RP_RANGE_UNSATISFIABLE);
    /* a false one sends the whole even then */
    T_EQ(IFR(E, LM, "Range", "bytes=200-", "If-Range", "\"v2\""), RP_RANGE_NONE);
    /* If-Range without Range: nothing */
    T_EQ(IFR(E, LM, "If-Range", "\"v1\""), RP_RANGE_NONE);
#undef IFR
}

/* ---- untrusted bytes ------------------------------------------------------ */

/* Every function over every prefix of a few nasty values: under the
 * sanitizers this is where an out-of-bounds read would show. Each prefix
 * is copied to the very end of a buffer, so a read past the slice leaves
 * the buffer. */
static void cache_rfc_slices(void)
{
    static const char *values[] = {
        "max-age=\"",
        "no-cache=\"a\\",
        "\"",
        "W/",
        "W/\"",
        "bytes=",
        "bytes=-",
        "bytes=1-",
        "Sun, 06 Nov 1994 08:49:37 GMT",
        "Sunday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 1994",
        "a, \"b, c\\\", d\", e",
        ",,,,",
        "*",
    };
    int ran = 0;
    for (size_t v = 0; v < sizeof values / sizeof values[0]; v++) {
        size_t len = strlen(values[v]);
        for (size_t cut = 0; cut <= len; cut++) {
            char buf[64];
            /* the slice at the very end of buf: a read past it leaves buf */
            char *p = buf + sizeof buf - cut;
            memcpy(p, values[v], cut);
            const char *names[] = {"Cache-Control", "Pragma",        "Range",
                                   "If-Range",      "If-None-Match", "If-Match",
                                   "Vary",          "Age",           "Expires",
                                   "Date",          "Last-Modified", "If-Modified-Since"};
            struct rp_http1_header h[12];
            for (int i = 0; i < 12; i++)
                h[i] = (struct rp_http1_header){names[i], p, (uint32_t)strlen(names[i]),
                                                (uint32_t)cut};
            struct rp_cache_control cc;
            rp_cc_parse(h, 12, true, &cc);
            rp_cc_parse(h, 12, false, &cc);
            (void)rp_http_date_parse(p, cut);
            (void)rp_cond_evaluate(h, 12, true, p, cut, 0);
            struct rp_ranges r;
            (void)rp_range_parse(h, 12, 100, p, cut, 0, &r);
            char out[512];
            (void)rp_vary_key(h, 12, h, 12, out, sizeof out);
            memset(&resp_buf, 0, sizeof resp_buf);
            resp_buf.status = 200;
            resp_buf.n_headers = 12;
            memcpy(resp_buf.headers, h, sizeof h);
            struct rp_cache_times t;
            rp_cache_times_init(&t, &resp_buf, &cc, 0, 0, 100);
            ran++;
        }
    }
    T_OK(ran > 100);
}

/* ---- the suites ------------------------------------------------------------ */

/* Reading fields: Cache-Control, dates, preconditions, Vary, Range. */
T_SUITE(cache_rfc_fields)
{
    cc_parse_basic();
    cc_parse_values();
    cc_parse_quoting();
    cc_parse_fields();
    cc_parse_request();
    http_date_parse();
    http_date_format();
    head_field();
    cond_if_none_match();
    cond_if_match();
    cond_dates();
    cond_precedence();
    vary_key();
    vary_key_cap();
    range_forms();
    range_invalid();
    range_unsatisfiable();
    range_lists();
    range_if_range();
}

/* The caching rules: storing, freshness, age, reuse, stale serving. */
T_SUITE(cache_rfc_rules)
{
    cache_storable();
    cache_storable_authorization();
    cache_storable_vary_star();
    cache_storable_freshness();
    cache_status_heuristic();
    cache_lifetime_explicit();
    cache_lifetime_heuristic();
    cache_age();
    cache_reuse();
    cache_reuse_stale();
    cache_stale_if_error();
    cache_rfc_slices();
}
