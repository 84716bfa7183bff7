/* cache_rfc.c: the rules of HTTP caching for a shared cache (cache_rfc.h).
 *
 * Every input is untrusted bytes in (pointer, length) slices: nothing here
 * reads past a slice's end, assumes a NUL, or lets arithmetic overflow
 * (durations saturate at 2^31 as RFC 9111 1.2.2 asks, times saturate at
 * the int64_t range). */
#include <limits.h>
#include <string.h>
#include <strings.h>

#include "cache_rfc.h"

/* RFC 9111 1.2.2: a delta-seconds too large to represent is 2^31. */
#define DELTA_MAX ((int64_t)1 << 31)

/* ---- bytes ------------------------------------------------------------------ */

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static char to_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

/* tchar (RFC 9110 5.6.2): the characters of a token. */
static bool is_tchar(char ch)
{
    unsigned char c = (unsigned char)ch;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* p[0..n) equals lit, ignoring ASCII case. */
static bool ci_is(const char *p, size_t n, const char *lit)
{
    return strlen(lit) == n && strncasecmp(p, lit, n) == 0;
}

static bool field_is(const struct rp_http1_header *h, const char *name)
{
    return ci_is(h->name, h->name_len, name);
}

static int64_t sat_add(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}

static int64_t sat_sub(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_sub_overflow(a, b, &r))
        return b < 0 ? INT64_MAX : INT64_MIN;
    return r;
}

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

/* delta-seconds (RFC 9111 1.2.2): 1*DIGIT, saturating at 2^31; -1 when
 * p[0..n) is anything else (empty, a sign, a fraction, letters). */
static int64_t delta_seconds(const char *p, size_t n)
{
    if (n == 0)
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(p[i]))
            return -1;
        if (v < DELTA_MAX) /* past it the value no longer matters */
            v = v * 10 + (p[i] - '0');
    }
    return v > DELTA_MAX ? DELTA_MAX : v;
}

/* The end of a list element starting at p: the next comma that is not
 * inside a quoted-string, or end. Quoted commas (no-cache="a, b",
 * ext="max-age=1, x") must not split an element. */
static const char *element_end(const char *p, const char *end)
{
    bool quoted = false;
    for (; p < end; p++) {
        if (quoted && *p == '\\' && p + 1 < end)
            p++;
        else if (*p == '"')
            quoted = !quoted;
        else if (*p == ',' && !quoted)
            break;
    }
    return p;
}

/* The next element of a comma-separated list at *pp (empty elements, which
 * RFC 9110 5.6.1.2 says to ignore, skipped), without surrounding OWS, in
 * [*s, *e). False at the end of the list. */
static bool next_element(const char **pp, const char *end, const char **s, const char **e)
{
    const char *p = *pp;
    for (;;) {
        while (p < end && (is_ows(*p) || *p == ','))
            p++;
        if (p == end) {
            *pp = p;
            return false;
        }
        const char *q = element_end(p, end);
        const char *t = q;
        while (t > p && is_ows(t[-1]))
            t--;
        *s = p;
        *e = t;
        *pp = q;
        return true;
    }
}

/* ---- Cache-Control (RFC 9111 5.2) -------------------------------------------- */

/* One directive: name, and its argument when it had one (the inside of a
 * quoted-string, quoted-pairs still escaped). `ok`: the element was
 * well-formed (token [ "=" ( token / quoted-string ) ] and nothing else). */
struct directive {
    const char *name, *arg;
    size_t name_len, arg_len;
    bool has_arg, quoted, ok;
};

/* Parses the element [p, end) (no surrounding OWS) as a cache-directive.
 * No OWS is allowed around '=': `max-age =5` is not a max-age of 5. */
static void directive_parse(const char *p, const char *end, struct directive *d)
{
    memset(d, 0, sizeof *d);
    d->name = p;
    while (p < end && is_tchar(*p))
        p++;
    d->name_len = (size_t)(p - d->name);
    d->ok = d->name_len > 0;
    if (p < end && *p == '=') {
        p++;
        d->has_arg = true;
        if (p < end && *p == '"') {
            d->quoted = true;
            d->arg = ++p;
            while (p < end && *p != '"')
                p += *p == '\\' && p + 1 < end ? 2 : 1;
            if (p == end) {
                d->ok = false; /* unterminated */
            } else {
                d->arg_len = (size_t)(p - d->arg);
                p++;
            }
        } else {
            d->arg = p;
            while (p < end && is_tchar(*p))
                p++;
            d->arg_len = (size_t)(p - d->arg);
            if (d->arg_len == 0)
                d->ok = false; /* `max-age=` */
        }
    }
    if (p != end)
        d->ok = false;
}

/* The delta-seconds argument of d, accepting the quoted form too (RFC 9111
 * 5.2: recipients ought to accept both); -1 when there is none or it is
 * malformed. */
static int64_t directive_delta(const struct directive *d)
{
    if (!d->ok || !d->has_arg)
        return -1;
    if (!d->quoted)
        return delta_seconds(d->arg, d->arg_len);
    /* Unescape quoted-pairs into a small buffer; a value that long is not a
     * number anyway (2^31 has ten digits, leading zeros aside). */
    char buf[64];
    size_t n = 0;
    for (size_t i = 0; i < d->arg_len; i++) {
        if (d->arg[i] == '\\' && i + 1 < d->arg_len)
            i++;
        if (n == sizeof buf)
            return -1;
        buf[n++] = d->arg[i];
    }
    return delta_seconds(buf, n);
}

/* Records a duration directive. A malformed value, or a second occurrence
 * with a different value, is invalid freshness information (RFC 9111
 * 4.2.1); the first value is kept. `strict` (freshness directives) marks
 * the whole head RP_CC_INVALID; for the others (stale-while-revalidate,
 * stale-if-error, which only widen what may be served) a malformed value
 * is ignored and a conflicting one loses to the first. */
static void set_duration(int64_t *slot, int64_t v, uint32_t *flags, bool strict)
{
    if (v < 0) {
        if (strict)
            *flags |= RP_CC_INVALID;
        return;
    }
    if (*slot == RP_CC_ABSENT)
        *slot = v;
    else if (*slot != v && strict)
        *flags |= RP_CC_INVALID;
}

static void directive_apply(const struct directive *d, bool request, struct rp_cache_control *cc)
{
    const char *n = d->name;
    size_t len = d->name_len;
    /* Directives that restrict are honoured even with an odd argument or
     * trailing junk (the safe reading of a malformed field); those that
     * permit only when well-formed. no-cache and private may carry a field
     * list, which a shared cache treats as unqualified (cache_rfc.h). */
    static const struct {
        const char *name;
        uint32_t flag;
        bool restricts;
    } flags[] = {
        {"no-store", RP_CC_NO_STORE, true},
        {"no-cache", RP_CC_NO_CACHE, true},
        {"private", RP_CC_PRIVATE, true},
        {"must-revalidate", RP_CC_MUST_REVALIDATE, true},
        {"proxy-revalidate", RP_CC_PROXY_REVALIDATE, true},
        {"no-transform", RP_CC_NO_TRANSFORM, true},
        {"only-if-cached", RP_CC_ONLY_IF_CACHED, true},
        {"public", RP_CC_PUBLIC, false},
        {"immutable", RP_CC_IMMUTABLE, false},
        {"must-understand", RP_CC_MUST_UNDERSTAND, false},
    };
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        if (ci_is(n, len, flags[i].name)) {
            if (flags[i].restricts || (d->ok && !d->has_arg))
                cc->flags |= flags[i].flag;
            return;
        }
    }
    if (ci_is(n, len, "max-age")) {
        set_duration(&cc->max_age, directive_delta(d), &cc->flags, true);
    } else if (ci_is(n, len, "s-maxage")) {
        /* Only a response's s-maxage means anything. */
        if (!request)
            set_duration(&cc->s_maxage, directive_delta(d), &cc->flags, true);
    } else if (ci_is(n, len, "max-stale")) {
        /* Without a value: any staleness (RFC 9111 5.2.1.2). */
        int64_t v = d->ok && !d->has_arg ? RP_CC_INFINITE : directive_delta(d);
        set_duration(&cc->max_stale, v, &cc->flags, true);
    } else if (ci_is(n, len, "min-fresh")) {
        set_duration(&cc->min_fresh, directive_delta(d), &cc->flags, true);
    } else if (ci_is(n, len, "stale-while-revalidate")) {
        set_duration(&cc->stale_while_revalidate, directive_delta(d), &cc->flags, false);
    } else if (ci_is(n, len, "stale-if-error")) {
        set_duration(&cc->stale_if_error, directive_delta(d), &cc->flags, false);
    }
    /* anything else is an extension this cache does not know: ignored */
}

void rp_cc_parse(const struct rp_http1_header *h, uint32_t n, bool request,
                 struct rp_cache_control *cc)
{
    *cc = (struct rp_cache_control){
        .max_age = RP_CC_ABSENT,
        .s_maxage = RP_CC_ABSENT,
        .max_stale = RP_CC_ABSENT,
        .min_fresh = RP_CC_ABSENT,
        .stale_while_revalidate = RP_CC_ABSENT,
        .stale_if_error = RP_CC_ABSENT,
    };
    for (uint32_t i = 0; i < n; i++) {
        if (!field_is(&h[i], "cache-control"))
            continue;
        cc->present = true;
        const char *p = h[i].value, *end = h[i].value + h[i].value_len, *s, *e;
        while (next_element(&p, end, &s, &e)) {
            struct directive d;
            directive_parse(s, e, &d);
            directive_apply(&d, request, cc);
        }
    }
    /* RFC 9111 5.4: Pragma: no-cache is no-cache, for requests without
     * Cache-Control (HTTP/1.0 clients). Responses' Pragma means nothing. */
    if (!request || cc->present)
        return;
    for (uint32_t i = 0; i < n; i++) {
        if (!field_is(&h[i], "pragma"))
            continue;
        const char *p = h[i].value, *end = h[i].value + h[i].value_len, *s, *e;
        while (next_element(&p, end, &s, &e))
            if (ci_is(s, (size_t)(e - s), "no-cache"))
                cc->flags |= RP_CC_NO_CACHE;
    }
}

/* ---- HTTP-date (RFC 9110 5.6.7) ---------------------------------------------- */

static const char day_names[7][10] = {"sunday",   "monday", "tuesday", "wednesday",
                                      "thursday", "friday", "saturday"};
static const char month_names[12][4] = {"jan", "feb", "mar", "apr", "may", "jun",
                                        "jul", "aug", "sep", "oct", "nov", "dec"};

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; m 1..12), after
 * Howard Hinnant's days_from_civil: no table, no time_t, no locale. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* n digits at p as a number, or -1. */
static int digits(const char *p, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(p[i]))
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

/* The month named by the three letters at p (1..12), or 0. RFC 9111 4.2:
 * a cache matches the names case-insensitively. */
static unsigned month_at(const char *p)
{
    for (unsigned i = 0; i < 12; i++)
        if (strncasecmp(p, month_names[i], 3) == 0)
            return i + 1;
    return 0;
}

/* Whether the n bytes at p are a day name: its three-letter form (short)
 * or the whole of it (the RFC 850 form). */
static bool day_name_at(const char *p, size_t n, bool short_form)
{
    for (unsigned i = 0; i < 7; i++) {
        size_t len = short_form ? 3 : strlen(day_names[i]);
        if (n == len && strncasecmp(p, day_names[i], len) == 0)
            return true;
    }
    return false;
}

/* "hh:mm:ss" at p (8 bytes); -1 unless a time-of-day. A leap second (60)
 * is allowed by the grammar and counts as the next second. */
static int64_t time_of_day(const char *p)
{
    if (p[2] != ':' || p[5] != ':')
        return -1;
    int h = digits(p, 2), m = digits(p + 3, 2), s = digits(p + 6, 2);
    if (h < 0 || h > 23 || m < 0 || m > 59 || s < 0 || s > 60)
        return -1;
    return h * 3600 + m * 60 + s;
}

static int64_t make_time(int64_t year, unsigned month, int day, int64_t tod)
{
    static const unsigned char mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12 || day < 1 || tod < 0)
        return -1;
    unsigned last = mdays[month - 1] + (month == 2 && leap(year));
    if ((unsigned)day > last)
        return -1;
    int64_t t = days_from_civil(year, month, (unsigned)day) * 86400 + tod;
    /* Before the epoch: 0, which is as much "long ago" as any caller needs
     * and keeps -1 meaning "not a date". */
    return t < 0 ? 0 : t;
}

int64_t rp_http_date_parse(const char *s, size_t n)
{
    if (!s)
        return -1;
    /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
    if (n == 29 && s[3] == ',' && s[4] == ' ' && s[7] == ' ' && s[11] == ' ' && s[16] == ' ' &&
        s[25] == ' ' && day_name_at(s, 3, true) && strncasecmp(s + 26, "GMT", 3) == 0) {
        int year = digits(s + 12, 4);
        if (year < 0)
            return -1;
        return make_time(year, month_at(s + 8), digits(s + 5, 2), time_of_day(s + 17));
    }
    /* asctime: "Sun Nov  6 08:49:37 1994" (the day is space-padded) */
    if (n == 24 && s[3] == ' ' && s[7] == ' ' && s[10] == ' ' && s[19] == ' ' &&
        day_name_at(s, 3, true)) {
        int day = s[8] == ' ' ? digits(s + 9, 1) : digits(s + 8, 2);
        int year = digits(s + 20, 4);
        if (year < 0)
            return -1;
        return make_time(year, month_at(s + 4), day, time_of_day(s + 11));
    }
    /* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" */
    const char *comma = memchr(s, ',', n);
    if (comma && (size_t)(s + n - comma) == 24) {
        const char *d = comma + 1;
        if (!day_name_at(s, (size_t)(comma - s), false) || d[0] != ' ' || d[3] != '-' ||
            d[7] != '-' || d[10] != ' ' || d[19] != ' ' || strncasecmp(d + 20, "GMT", 3) != 0)
            return -1;
        int yy = digits(d + 8, 2);
        if (yy < 0)
            return -1;
        /* RFC 9110 5.6.7 reads a two-digit year more than 50 years ahead as
         * the past; that needs a clock, so the window is fixed as POSIX and
         * RFC 6265 fix it: 70-99 are 19xx, 00-69 are 20xx. (Right until
         * 2020 and from then only off for years 70-75 -- which in practice
         * are the epoch of old "expired" stamps.) */
        return make_time(yy < 70 ? 2000 + yy : 1900 + yy, month_at(d + 4), digits(d + 1, 2),
                         time_of_day(d + 11));
    }
    return -1;
}

size_t rp_http_date_format(int64_t t, char out[30])
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    /* The IMF-fixdate has a four-digit year: clamp to what it can show. */
    const int64_t max = 253402300799; /* 9999-12-31 23:59:59 */
    if (t < 0)
        t = 0;
    if (t > max)
        t = max;
    int64_t days_since = t / 86400, sec = t % 86400, year;
    unsigned month, day;
    civil_from_days(days_since, &year, &month, &day);
    const char *wd = days[(days_since + 4) % 7]; /* 1970-01-01 was a Thursday */
    const char *mo = months[month - 1];
    char *o = out;
    memcpy(o, wd, 3);
    o += 3;
    *o++ = ',';
    *o++ = ' ';
    *o++ = (char)('0' + day / 10);
    *o++ = (char)('0' + day % 10);
    *o++ = ' ';
    memcpy(o, mo, 3);
    o += 3;
    *o++ = ' ';
    for (int64_t div = 1000; div; div /= 10)
        *o++ = (char)('0' + year / div % 10);
    *o++ = ' ';
    int64_t parts[3] = {sec / 3600, sec / 60 % 60, sec % 60};
    for (int i = 0; i < 3; i++) {
        *o++ = (char)('0' + parts[i] / 10);
        *o++ = (char)('0' + parts[i] % 10);
        *o++ = i < 2 ? ':' : ' ';
    }
    memcpy(o, "GMT", 4);
    return 29;
}

const struct rp_http1_header *rp_head_field(const struct rp_http1_header *h, uint32_t n,
                                            const char *name)
{
    for (uint32_t i = 0; i < n; i++)
        if (field_is(&h[i], name))
            return &h[i];
    return NULL;
}

/* The date of the only field named `name`; -1 when there is none, it is
 * not a date, or there are several (a list of dates is no date). */
static int64_t single_date(const struct rp_http1_header *h, uint32_t n, const char *name)
{
    const struct rp_http1_header *f = NULL;
    for (uint32_t i = 0; i < n; i++) {
        if (!field_is(&h[i], name))
            continue;
        if (f)
            return -1;
        f = &h[i];
    }
    return f ? rp_http_date_parse(f->value, f->value_len) : -1;
}

/* ---- storing (RFC 9111 3) ---------------------------------------------------- */

bool rp_cache_status_heuristic(unsigned status)
{
    switch (status) {
    case 200:
    case 203:
    case 204:
    case 206:
    case 300:
    case 301:
    case 308:
    case 404:
    case 405:
    case 410:
    case 414:
    case 501:
        return true;
    default:
        return false;
    }
}

/* The statuses whose caching rules this cache knows (those RFC 9110 15
 * defines), for must-understand (RFC 9111 5.2.2.3). */
static bool status_understood(unsigned s)
{
    return (s >= 200 && s <= 206) || (s >= 300 && s <= 305) || s == 307 || s == 308 ||
           (s >= 400 && s <= 417) || s == 421 || s == 422 || s == 426 || (s >= 500 && s <= 505);
}

static bool vary_star(const struct rp_http1_response *resp)
{
    for (uint32_t i = 0; i < resp->n_headers; i++) {
        const struct rp_http1_header *f = &resp->headers[i];
        if (!field_is(f, "vary"))
            continue;
        const char *p = f->value, *end = f->value + f->value_len, *s, *e;
        while (next_element(&p, end, &s, &e))
            if (e - s == 1 && *s == '*')
                return true;
    }
    return false;
}

enum rp_cache_store_verdict rp_cache_storable(const struct rp_cache_request *rq,
                                              const struct rp_http1_response *resp,
                                              const struct rp_cache_control *rcc)
{
    if (!rq->get)
        return RP_CACHE_NOT_GET;
    unsigned status = resp->status;
    /* Final statuses only; 304 answers a validation and 206 is a part, and
     * under must-understand only a status whose rules the cache knows. */
    bool understood = status_understood(status);
    if (status < 200 || status > 599 || status == 206 || status == 304 ||
        ((rcc->flags & RP_CC_MUST_UNDERSTAND) && !understood))
        return RP_CACHE_STATUS;
    /* must-understand lets a cache that knows the status ignore the no-store
     * sent along for older caches (RFC 9111 5.2.2.3). */
    if ((rq->cc.flags & RP_CC_NO_STORE) ||
        ((rcc->flags & RP_CC_NO_STORE) && !(rcc->flags & RP_CC_MUST_UNDERSTAND)))
        return RP_CACHE_NO_STORE;
    if (rcc->flags & RP_CC_PRIVATE)
        return RP_CACHE_PRIVATE;
    /* RFC 9111 3.5 */
    if (rq->authorization && !(rcc->flags & (RP_CC_PUBLIC | RP_CC_MUST_REVALIDATE)) &&
        rcc->s_maxage < 0)
        return RP_CACHE_AUTHORIZATION;
    if (vary_star(resp))
        return RP_CACHE_VARY_STAR;
    /* RFC 9111 3's last condition: explicit freshness (an Expires field
     * counts even when it is not a date: such a response is stored stale;
     * so does a malformed max-age), public, or a heuristically cacheable
     * status. A validator alone does not make other statuses storable. */
    bool explicit_fresh = rcc->max_age >= 0 || rcc->s_maxage >= 0 ||
                          (rcc->flags & (RP_CC_PUBLIC | RP_CC_INVALID)) ||
                          rp_head_field(resp->headers, resp->n_headers, "expires");
    if (!explicit_fresh && !rp_cache_status_heuristic(status))
        return RP_CACHE_NOT_CACHEABLE;
    return RP_CACHE_STORE_OK;
}

/* ---- freshness and age (RFC 9111 4.2) ---------------------------------------- */

/* Expires (RFC 9111 5.3): the time, or -1 when the response is already
 * expired by it (not a date, or several fields that disagree: RFC 9111
 * 4.2.1 allows treating duplicates as stale); -2 when absent. */
static int64_t expires_of(const struct rp_http1_response *resp)
{
    int64_t t = -2;
    for (uint32_t i = 0; i < resp->n_headers; i++) {
        const struct rp_http1_header *f = &resp->headers[i];
        if (!field_is(f, "expires"))
            continue;
        int64_t v = rp_http_date_parse(f->value, f->value_len);
        if (v < 0 || (t != -2 && v != t))
            return -1;
        t = v;
    }
    return t;
}

int64_t rp_cache_lifetime(const struct rp_http1_response *resp, const struct rp_cache_control *rcc,
                          int64_t date_value, int64_t heuristic_max)
{
    if (rcc->flags & RP_CC_INVALID)
        return 0;
    if (rcc->s_maxage >= 0) /* a shared cache's own */
        return rcc->s_maxage;
    if (rcc->max_age >= 0)
        return rcc->max_age;
    int64_t expires = expires_of(resp);
    if (expires == -1)
        return 0;
    if (expires >= 0)
        return max64(0, sat_sub(expires, date_value));
    /* Heuristic (4.2.2): only without explicit expiry, for a status
     * cacheable by default or a public response, from Last-Modified. */
    if (!rp_cache_status_heuristic(resp->status) && !(rcc->flags & RP_CC_PUBLIC))
        return 0;
    const struct rp_http1_header *lm =
        rp_head_field(resp->headers, resp->n_headers, "last-modified");
    int64_t last_modified = lm ? rp_http_date_parse(lm->value, lm->value_len) : -1;
    if (last_modified < 0 || last_modified >= date_value || heuristic_max <= 0)
        return 0;
    int64_t h = sat_sub(date_value, last_modified) / 10;
    return h < heuristic_max ? h : heuristic_max;
}

void rp_cache_times_init(struct rp_cache_times *t, const struct rp_http1_response *resp,
                         const struct rp_cache_control *rcc, int64_t request_time,
                         int64_t response_time, int64_t heuristic_max)
{
    t->request_time = request_time;
    t->response_time = response_time;
    const struct rp_http1_header *f = rp_head_field(resp->headers, resp->n_headers, "date");
    int64_t date = f ? rp_http_date_parse(f->value, f->value_len) : -1;
    t->date_value = date >= 0 ? date : response_time;
    /* Age (RFC 9111 5.1): a list's first member; an invalid one ignored. */
    t->age_value = 0;
    f = rp_head_field(resp->headers, resp->n_headers, "age");
    if (f) {
        const char *p = f->value, *end = f->value + f->value_len, *s, *e;
        if (next_element(&p, end, &s, &e)) {
            int64_t age = delta_seconds(s, (size_t)(e - s));
            if (age >= 0)
                t->age_value = age;
        }
    }
    t->lifetime = rp_cache_lifetime(resp, rcc, t->date_value, heuristic_max);
}

int64_t rp_cache_current_age(const struct rp_cache_times *t, int64_t now)
{
    /* RFC 9111 4.2.3, with a clock that ran backwards counting as none. */
    int64_t apparent_age = max64(0, sat_sub(t->response_time, t->date_value));
    int64_t response_delay = max64(0, sat_sub(t->response_time, t->request_time));
    int64_t corrected_age_value = sat_add(max64(0, t->age_value), response_delay);
    int64_t corrected_initial_age = max64(apparent_age, corrected_age_value);
    int64_t resident_time = max64(0, sat_sub(now, t->response_time));
    return sat_add(corrected_initial_age, resident_time);
}

/* ---- reuse (RFC 9111 4, 5.2.1; RFC 5861) ------------------------------------- */

static int64_t lifetime_of(const struct rp_cache_times *t, const struct rp_cache_control *rcc)
{
    return rcc->flags & RP_CC_INVALID ? 0 : max64(0, t->lifetime);
}

/* The response forbids serving it stale (RFC 9111 4.2.4): must-revalidate,
 * and for a shared cache proxy-revalidate and s-maxage (5.2.2.10). */
static bool stale_forbidden(const struct rp_cache_control *rcc)
{
    return (rcc->flags & (RP_CC_MUST_REVALIDATE | RP_CC_PROXY_REVALIDATE)) || rcc->s_maxage >= 0;
}

enum rp_cache_reuse rp_cache_reuse(const struct rp_cache_times *t,
                                   const struct rp_cache_control *rcc,
                                   const struct rp_cache_control *qcc, int64_t now,
                                   int64_t swr_default)
{
    if ((qcc->flags & RP_CC_NO_CACHE) || (rcc->flags & RP_CC_NO_CACHE))
        return RP_CACHE_REVALIDATE;
    int64_t age = rp_cache_current_age(t, now);
    int64_t lifetime = lifetime_of(t, rcc);
    /* Request max-age bounds the age whether fresh or stale (5.2.1.1).
     * max-age=0 always revalidates: it is the end-to-end revalidation of
     * RFC 2616 14.9.4, and with ages in whole seconds a stored response's
     * age of "0" is really some fraction above it. */
    if (qcc->max_age >= 0 && (age > qcc->max_age || qcc->max_age == 0))
        return RP_CACHE_REVALIDATE;
    if (lifetime > age) {
        /* min-fresh: still fresh for that long (5.2.1.3) */
        if (qcc->min_fresh >= 0 && lifetime - age < qcc->min_fresh)
            return RP_CACHE_REVALIDATE;
        return RP_CACHE_FRESH;
    }
    int64_t staleness = age - lifetime;
    /* A client asking for freshness left (min-fresh) wants no stale one. */
    if (stale_forbidden(rcc) || qcc->min_fresh >= 0)
        return RP_CACHE_REVALIDATE;
    /* max-stale: "exceeded its freshness lifetime by no more than" N */
    if (qcc->max_stale >= 0 && staleness <= qcc->max_stale)
        return RP_CACHE_STALE_SERVE;
    /* A request max-age without max-stale says the client wants no stale
     * response (5.2.1.1): no stale-while-revalidate for it. */
    if (qcc->max_age >= 0)
        return RP_CACHE_REVALIDATE;
    int64_t swr = rcc->stale_while_revalidate >= 0 ? rcc->stale_while_revalidate : swr_default;
    /* A window of 0 (e.g. swr_default when disabled) is no window. */
    if (swr > 0 && staleness <= swr)
        return RP_CACHE_STALE_REVALIDATE_BG;
    return RP_CACHE_REVALIDATE;
}

bool rp_cache_stale_if_error(const struct rp_cache_times *t, const struct rp_cache_control *rcc,
                             const struct rp_cache_control *qcc, int64_t now, int64_t sie_default)
{
    /* no-cache: never without a successful validation (5.2.2.4), even fresh */
    if (rcc->flags & RP_CC_NO_CACHE)
        return false;
    int64_t age = rp_cache_current_age(t, now);
    int64_t lifetime = lifetime_of(t, rcc);
    /* Still fresh (the request forced a revalidation): serving it is not
     * serving stale, which is all the rules below restrict (4.3.3). */
    if (lifetime > age)
        return true;
    if (stale_forbidden(rcc))
        return false;
    int64_t sie = rcc->stale_if_error >= 0   ? rcc->stale_if_error
                  : qcc->stale_if_error >= 0 ? qcc->stale_if_error
                                             : sie_default;
    return sie > 0 && age - lifetime <= sie;
}

/* ---- conditional requests (RFC 9110 13) -------------------------------------- */

/* An entity-tag (RFC 9110 8.8.3) split into its weakness and its
 * opaque-tag (with the quotes). */
struct etag {
    const char *opaque;
    size_t len;
    bool weak;
};

/* Reads [s, e) as one entity-tag; false when it is not one. */
static bool etag_parse(const char *s, const char *e, struct etag *t)
{
    t->weak = e - s >= 2 && s[0] == 'W' && s[1] == '/';
    if (t->weak)
        s += 2;
    if (e - s < 2 || s[0] != '"' || e[-1] != '"')
        return false;
    for (const char *p = s + 1; p < e - 1; p++) {
        unsigned char c = (unsigned char)*p;
        /* etagc = %x21 / %x23-7E / obs-text */
        if (c < 0x21 || c == '"' || c == 0x7f)
            return false;
    }
    t->opaque = s;
    t->len = (size_t)(e - s);
    return true;
}

/* Whether a field of `name` (If-Match, If-None-Match: "*" or a list of
 * entity-tags, over every field of the name) matches the stored etag, by
 * strong or weak comparison (RFC 9110 8.8.3.2). "*" matches any stored
 * representation. Malformed elements match nothing. */
static bool etag_list_match(const struct rp_http1_header *h, uint32_t n, const char *name,
                            const char *etag, size_t etag_len, bool strong)
{
    struct etag have;
    bool have_ok = etag && etag_parse(etag, etag + etag_len, &have);
    for (uint32_t i = 0; i < n; i++) {
        if (!field_is(&h[i], name))
            continue;
        const char *p = h[i].value, *end = h[i].value + h[i].value_len, *s, *e;
        while (next_element(&p, end, &s, &e)) {
            if (e - s == 1 && *s == '*')
                return true;
            struct etag want;
            if (!have_ok || !etag_parse(s, e, &want))
                continue;
            if (strong && (want.weak || have.weak))
                continue;
            if (want.len == have.len && memcmp(want.opaque, have.opaque, want.len) == 0)
                return true;
        }
    }
    return false;
}

enum rp_cond_result rp_cond_evaluate(const struct rp_http1_header *h, uint32_t n, bool get_or_head,
                                     const char *etag, size_t etag_len, int64_t last_modified)
{
    /* 13.2.2 step 1: If-Match, by strong comparison */
    if (rp_head_field(h, n, "if-match")) {
        if (!etag_list_match(h, n, "if-match", etag, etag_len, true))
            return RP_COND_FAILED;
    } else if (last_modified >= 0) {
        /* step 2: If-Unmodified-Since, ignored when not a single valid date
         * or the representation has no modification date (13.1.4) */
        int64_t since = single_date(h, n, "if-unmodified-since");
        if (since >= 0 && last_modified > since)
            return RP_COND_FAILED;
    }
    /* step 3: If-None-Match, by weak comparison */
    if (rp_head_field(h, n, "if-none-match")) {
        if (etag_list_match(h, n, "if-none-match", etag, etag_len, false))
            return get_or_head ? RP_COND_NOT_MODIFIED : RP_COND_FAILED;
    } else if (get_or_head && last_modified >= 0) {
        /* step 4: If-Modified-Since, GET and HEAD only (13.1.3) */
        int64_t since = single_date(h, n, "if-modified-since");
        if (since >= 0 && last_modified <= since)
            return RP_COND_NOT_MODIFIED;
    }
    return RP_COND_NONE;
}

/* ---- Vary (RFC 9111 4.1) ----------------------------------------------------- */

struct out {
    char *p;
    size_t len, cap;
    bool full;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->full || n > o->cap - o->len) {
        o->full = true;
        return;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
}

/* The request's fields of one name, normalised: every element of every
 * field without the white space around it, joined with ','. Nothing when
 * there is no such field, which the caller marks by leaving out the ':'. */
static void vary_value(const struct rp_http1_header *req_h, uint32_t req_n, const char *name,
                       size_t name_len, struct out *o)
{
    bool first = true;
    for (uint32_t i = 0; i < req_n; i++) {
        const struct rp_http1_header *f = &req_h[i];
        if (f->name_len != name_len || strncasecmp(f->name, name, name_len) != 0)
            continue;
        /* Each element, empty ones included: they are part of the value. */
        const char *p = f->value, *end = f->value + f->value_len;
        for (;;) {
            const char *q = element_end(p, end), *s = p, *e = q;
            while (s < e && is_ows(*s))
                s++;
            while (e > s && is_ows(e[-1]))
                e--;
            if (!first)
                put(o, ",", 1);
            first = false;
            put(o, s, (size_t)(e - s));
            if (q == end)
                break;
            p = q + 1;
        }
    }
}

int rp_vary_key(const struct rp_http1_header *resp_h, uint32_t resp_n,
                const struct rp_http1_header *req_h, uint32_t req_n, char *out, size_t cap)
{
    struct out o = {out, 0, cap, false};
    for (uint32_t i = 0; i < resp_n; i++) {
        if (!field_is(&resp_h[i], "vary"))
            continue;
        const char *p = resp_h[i].value, *end = resp_h[i].value + resp_h[i].value_len, *s, *e;
        while (next_element(&p, end, &s, &e)) {
            size_t len = (size_t)(e - s);
            for (size_t k = 0; k < len; k++) {
                char c = to_lower(s[k]);
                put(&o, &c, 1);
            }
            bool present = false;
            for (uint32_t j = 0; j < req_n && !present; j++)
                present = req_h[j].name_len == len && strncasecmp(req_h[j].name, s, len) == 0;
            if (present) {
                put(&o, ":", 1);
                vary_value(req_h, req_n, s, len, &o);
            }
            put(&o, "\n", 1);
        }
    }
    if (o.full || o.len > INT_MAX)
        return -1;
    return (int)o.len;
}

/* ---- ranges (RFC 9110 14) ---------------------------------------------------- */

/* 1*DIGIT at *pp as a number saturating at UINT64_MAX (a position past any
 * representation); false when there is no digit. */
static bool position(const char **pp, const char *end, uint64_t *v)
{
    const char *p = *pp;
    uint64_t x = 0;
    while (p < end && is_digit(*p)) {
        unsigned d = (unsigned)(*p++ - '0');
        x = x > (UINT64_MAX - d) / 10 ? UINT64_MAX : x * 10 + d;
    }
    if (p == *pp)
        return false;
    *pp = p;
    *v = x;
    return true;
}

/* [a, b] and [first, last] overlap or are adjacent. */
static bool touches(uint64_t a, uint64_t b, uint64_t first, uint64_t last)
{
    return (a <= last || a - 1 == last) && (first <= b || first - 1 == b);
}

/* Adds [first, last], coalescing it with every range it overlaps or
 * adjoins (RFC 9110 14.2 allows it whatever the order). The result takes
 * the place of the earliest range it absorbed, so the parts keep the order
 * of the request (15.3.7.2). False when that makes too many ranges. */
static bool range_add(struct rp_ranges *rs, uint64_t first, uint64_t last)
{
    uint32_t at = rs->n;
    for (;;) {
        uint32_t i = 0;
        while (i < rs->n && !touches(rs->r[i].first, rs->r[i].last, first, last))
            i++;
        if (i == rs->n)
            break;
        if (rs->r[i].first < first)
            first = rs->r[i].first;
        if (rs->r[i].last > last)
            last = rs->r[i].last;
        memmove(&rs->r[i], &rs->r[i + 1], (rs->n - i - 1) * sizeof rs->r[0]);
        rs->n--;
        if (i < at)
            at = i;
    }
    if (at > rs->n)
        at = rs->n;
    if (rs->n == RP_RANGES_MAX)
        return false;
    memmove(&rs->r[at + 1], &rs->r[at], (rs->n - at) * sizeof rs->r[0]);
    rs->r[at].first = first;
    rs->r[at].last = last;
    rs->n++;
    return true;
}

/* If-Range (RFC 9110 13.1.5): an entity-tag equal to etag by strong
 * comparison, or an HTTP-date exactly the last modification date. */
static bool if_range_true(const struct rp_http1_header *f, const char *etag, size_t etag_len,
                          int64_t last_modified)
{
    const char *v = f->value, *end = f->value + f->value_len;
    /* A date starts with a day name, which may start with 'W': "W/" is a tag. */
    if (f->value_len && (v[0] == '"' || (f->value_len >= 2 && v[0] == 'W' && v[1] == '/'))) {
        struct etag want, have;
        return etag_parse(v, end, &want) && !want.weak && etag &&
               etag_parse(etag, etag + etag_len, &have) && !have.weak && want.len == have.len &&
               memcmp(want.opaque, have.opaque, want.len) == 0;
    }
    int64_t date = rp_http_date_parse(v, f->value_len);
    return date >= 0 && last_modified >= 0 && date == last_modified;
}

static enum rp_range_result range_parse(const struct rp_http1_header *h, uint32_t n,
                                        uint64_t length, const char *etag, size_t etag_len,
                                        int64_t last_modified, struct rp_ranges *ranges)
{
    const struct rp_http1_header *range = NULL, *if_range = NULL;
    for (uint32_t i = 0; i < n; i++) {
        const struct rp_http1_header **slot = field_is(&h[i], "range")      ? &range
                                              : field_is(&h[i], "if-range") ? &if_range
                                                                            : NULL;
        if (!slot)
            continue;
        if (*slot) /* both are singletons: two of either is no telling */
            return RP_RANGE_NONE;
        *slot = &h[i];
    }
    if (!range || (if_range && !if_range_true(if_range, etag, etag_len, last_modified)))
        return RP_RANGE_NONE;
    const char *p = range->value, *end = range->value + range->value_len;
    /* ranges-specifier = range-unit "=" range-set; the unit is
     * case-insensitive, and only bytes is known. */
    if (end - p < 6 || strncasecmp(p, "bytes=", 6) != 0)
        return RP_RANGE_NONE;
    p += 6;
    bool any = false, empty_satisfiable = false;
    for (;;) {
        while (p < end && (is_ows(*p) || *p == ','))
            p++;
        if (p == end)
            break;
        uint64_t first = 0, last = UINT64_MAX;
        bool suffix = *p == '-';
        if (suffix) {
            p++;
            if (!position(&p, end, &last)) /* the suffix-length */
                return RP_RANGE_NONE;
        } else {
            if (!position(&p, end, &first) || p == end || *p++ != '-')
                return RP_RANGE_NONE;
            if (p < end && is_digit(*p)) {
                position(&p, end, &last);
                if (last < first) /* an invalid int-range (14.1.1) */
                    return RP_RANGE_NONE;
            }
        }
        while (p < end && is_ows(*p))
            p++;
        if (p < end && *p != ',')
            return RP_RANGE_NONE;
        any = true;
        /* 14.1.1: satisfiable when an int-range starts inside the
         * representation or a suffix-range is not empty */
        if (suffix) {
            if (last == 0)
                continue;
            if (length == 0) {
                /* satisfiable, but the whole is nothing: send that (200) */
                empty_satisfiable = true;
                continue;
            }
            first = length - (last < length ? last : length);
            last = length - 1;
        } else {
            if (first >= length)
                continue;
            if (last > length - 1)
                last = length - 1;
        }
        if (!range_add(ranges, first, last))
            return RP_RANGE_NONE;
    }
    if (!any || empty_satisfiable)
        return RP_RANGE_NONE;
    return ranges->n ? RP_RANGE_OK : RP_RANGE_UNSATISFIABLE;
}

enum rp_range_result rp_range_parse(const struct rp_http1_header *h, uint32_t n, uint64_t length,
                                    const char *etag, size_t etag_len, int64_t last_modified,
                                    struct rp_ranges *ranges)
{
    ranges->n = 0;
    enum rp_range_result r = range_parse(h, n, length, etag, etag_len, last_modified, ranges);
    /* ranges are only ever for a 206 */
    if (r != RP_RANGE_OK)
        ranges->n = 0;
    return r;
}
