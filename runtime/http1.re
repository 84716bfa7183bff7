/* http1.re: strict HTTP/1.1 head parsing (RFC 9110, RFC 9112) with re2c.
 *
 * re2c generates $(O)/gen/runtime/http1.c from this file. Do not edit the
 * generated C: edit runtime/http1.re and rebuild.
 *
 * How the lexers stay inside a buffer that has no sentinel after it: a parse
 * first finds the last LF among the bytes that may belong to the head
 * (memrchr), and lexes only lines that start before it. In every rule '\n'
 * appears only as the final byte (re2c:sentinel = 10 makes re2c check this),
 * so a DFA stops at the first LF of a line at the latest and never reads past
 * that last LF. The unfinished line after it is only looked at with memchr.
 * The small lexers run on parts of a field value rely on the same idea: a
 * value or list element is always followed, inside its line, by white space,
 * a comma or the line's CR, and the rules they run stop at those.
 *
 * Errors are never guessed around: a proxy that reads a message differently
 * from the server behind it lets a client smuggle requests past it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memrchr */
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "rp/http1.h"

/*!re2c
    re2c:define:YYCTYPE = "unsigned char";
    re2c:yyfill:enable = 0;
    re2c:tags = 1;
    // Class tests as bitmap lookups: twice as fast on long field values.
    re2c:bit-vectors = 1;
    // No rule may continue past an LF (see the top of the file); with the
    // sentinel set to LF, re2c refuses to generate a lexer where one does.
    re2c:sentinel = 10;

    tchar   = [-!#$%&'*+.^_`|~0-9A-Za-z];
    token   = tchar+;
    vchar   = [\x21-\x7e];
    fvchar  = [\x21-\x7e\x80-\xff];
    fvtext  = [\t\x20-\x7e\x80-\xff];
    ows     = [ \t]*;
    crlf    = "\r\n";
    digit   = [0-9];
    hexdig  = [0-9A-Fa-f];

    pathc   = vchar \ [?#];
    queryc  = vchar \ [#];
    regname = ([-A-Za-z0-9._~!$&'()*+,;=] | "%" hexdig hexdig)+;
    iplit   = "[" [0-9A-Fa-f:.]+ "]";
    port    = digit{1,5};
    uhost   = regname | iplit;
    version = " HTTP/" digit "." digit crlf;
*/

/* Request-target forms (RFC 9112 3.2) the request-line lexer tells apart. */
enum target_form { FORM_ORIGIN, FORM_ABSOLUTE, FORM_ASTERISK, FORM_AUTHORITY, FORM_OTHER };

/* Field names whose values the parser reads; all others are only stored. */
enum field_kind { FK_OTHER, FK_CL, FK_TE, FK_HOST, FK_CONNECTION, FK_EXPECT, FK_UPGRADE, FK_DATE };

/* What the field lines of a head say, gathered while they are read and
 * judged once the head is complete. */
struct fields {
    struct rp_http1_header *hdr; /* the caller's array, max entries */
    uint32_t n;
    uint32_t max;
    uint32_t flags;  /* RP_HTTP1_F_* */
    bool is_request; /* read Host (responses' Host means nothing) */
    bool has_cl;
    uint64_t cl; /* the Content-Length every CL value agreed on */
    uint32_t n_host;
    const unsigned char *host; /* the last Host value; valid when n_host */
    uint32_t host_len;
    uint32_t te_codings;  /* codings in all Transfer-Encoding fields */
    uint32_t te_chunked;  /* how many of them are "chunked" */
    bool te_last_chunked; /* the last coding read is "chunked" */
};

/* Slices with no bytes in the buffer to point at. */
static const char slash[] = "/";
static const char empty[] = "";

/* Eight bytes in lower case at once (ASCII letters only; every other byte
 * as it is), as SWAR tolower does it: a byte is upper case when adding
 * 0x3f carries it past 0x7f ('A' and up) and adding 0x25 does not ('Z' and
 * down), for bytes under 0x80. */
static inline uint64_t lower8(uint64_t x)
{
    uint64_t h = x & 0x7f7f7f7f7f7f7f7full;
    uint64_t upper = ((h + 0x3f3f3f3f3f3f3f3full) ^ (h + 0x2525252525252525ull)) & ~x &
                     0x8080808080808080ull;
    return x | (upper >> 2);
}

static bool ci_eq(const unsigned char *s, size_t len, const char *lower, size_t lower_len)
{
    if (len != lower_len)
        return false;
    /* Field names are compared on every header of every message: eight
     * bytes a step, then the rest one by one. */
    while (len >= 8) {
        uint64_t a, b;
        memcpy(&a, s, 8);
        memcpy(&b, lower, 8);
        if (lower8(a) != b)
            return false;
        s += 8;
        lower += 8;
        len -= 8;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c += 'a' - 'A';
        if (c != (unsigned char)lower[i])
            return false;
    }
    return true;
}

static bool is_ows(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* Returns the end of the token starting at p, or p when there is none. A
 * byte that is not a tchar must follow inside the buffer. */
static const unsigned char *token_end(const unsigned char *p)
{
    const unsigned char *YYCURSOR = p;
    /*!local:re2c
        token { return YYCURSOR; }
        *     { return p; }
    */
}

/* Returns the end of the uri-host [":" port] starting at p, or p when there
 * is none. A byte that cannot continue it must follow inside the buffer. */
static const unsigned char *authority_end(const unsigned char *p)
{
    const unsigned char *YYCURSOR = p, *YYMARKER;
    /*!local:re2c
        uhost (":" port)? { return YYCURSOR; }
        *                 { return p; }
    */
}

/* Splits off the first element of the comma-separated list in [p, end) and
 * trims OWS around it into [*e0, *e1). Returns where the next element starts,
 * or NULL when this was the last one. */
static const unsigned char *list_elem(const unsigned char *p, const unsigned char *end,
                                      const unsigned char **e0, const unsigned char **e1)
{
    const unsigned char *comma = memchr(p, ',', (size_t)(end - p));
    const unsigned char *stop = comma ? comma : end;

    while (p < stop && is_ows(*p))
        p++;
    *e0 = p;
    while (stop > p && is_ows(stop[-1]))
        stop--;
    *e1 = stop;
    return comma ? comma + 1 : NULL;
}

/* Content-Length = 1*DIGIT (RFC 9110 8.6). A list, or several fields, is
 * accepted only when every value is the same number; 19 digits always fit a
 * uint64_t, 20 might not, so more are refused. */
static int content_length(const unsigned char *p, const unsigned char *end, struct fields *f)
{
    for (;;) {
        const unsigned char *d = p;
        uint64_t v = 0;

        while (p < end && *p >= '0' && *p <= '9') {
            if (p - d == 19)
                return RP_HTTP1_E400;
            v = v * 10 + (uint64_t)(*p - '0');
            p++;
        }
        if (p == d || (f->has_cl && f->cl != v))
            return RP_HTTP1_E400;
        f->has_cl = true;
        f->cl = v;
        while (p < end && is_ows(*p))
            p++;
        if (p == end)
            return 0;
        if (*p != ',')
            return RP_HTTP1_E400;
        p++;
        while (p < end && is_ows(*p))
            p++;
    }
}

/* Counts the codings of one Transfer-Encoding field. Each must be a bare
 * token: transfer parameters and empty list elements are refused, since
 * recipients disagree on them. */
static int transfer_encoding(const unsigned char *p, const unsigned char *end, struct fields *f)
{
    const unsigned char *next = p, *e0, *e1;

    do {
        next = list_elem(next, end, &e0, &e1);
        if (e0 == e1 || token_end(e0) != e1)
            return RP_HTTP1_E400;
        bool chunked = ci_eq(e0, (size_t)(e1 - e0), "chunked", 7);
        f->te_codings++;
        f->te_chunked += chunked;
        f->te_last_chunked = chunked;
    } while (next);
    return 0;
}

/* Connection options matter only for the three we act on; anything else in
 * the list is left to the caller, which must also drop the fields it names. */
static void connection(const unsigned char *p, const unsigned char *end, struct fields *f)
{
    const unsigned char *next = p, *e0, *e1;

    do {
        next = list_elem(next, end, &e0, &e1);
        size_t n = (size_t)(e1 - e0);
        if (ci_eq(e0, n, "close", 5))
            f->flags |= RP_HTTP1_F_CONN_CLOSE;
        else if (ci_eq(e0, n, "keep-alive", 10))
            f->flags |= RP_HTTP1_F_CONN_KEEPALIVE;
        else if (ci_eq(e0, n, "upgrade", 7))
            f->flags |= RP_HTTP1_F_CONN_UPGRADE;
    } while (next);
}

static void expect(const unsigned char *p, const unsigned char *end, struct fields *f)
{
    const unsigned char *next = p, *e0, *e1;

    do {
        next = list_elem(next, end, &e0, &e1);
        if (ci_eq(e0, (size_t)(e1 - e0), "100-continue", 12))
            f->flags |= RP_HTTP1_F_EXPECT_CONTINUE;
    } while (next);
}

/* RFC 9112 3.2: more than one Host, or one that is not uri-host [":" port],
 * is answered with 400. An empty one is judged once the target is known. */
static int host(const unsigned char *v, const unsigned char *ve, struct fields *f)
{
    f->flags |= RP_HTTP1_F_HAS_HOST;
    if (++f->n_host > 1)
        return RP_HTTP1_E400;
    f->host = v;
    f->host_len = (uint32_t)(ve - v);
    if (v != ve && authority_end(v) != ve)
        return RP_HTTP1_E400;
    return 0;
}

/* Reads field lines from *pp up to the empty line that ends the head. Returns
 * 0 with *pp just past that line; RP_HTTP1_INCOMPLETE with *pp at the start of
 * the first line not ending before lines_end; or RP_HTTP1_E400 / E431. */
static int parse_fields(const unsigned char **pp, const unsigned char *lines_end, struct fields *f)
{
    const unsigned char *p = *pp;

    for (;;) {
        const unsigned char *YYCURSOR = p, *YYMARKER, *n, *v;
        /*!stags:re2c:field format = 'const unsigned char *@@;\n'; */
        enum field_kind kind;
        int rc = 0;

        if (p >= lines_end) {
            *pp = p;
            return RP_HTTP1_INCOMPLETE;
        }
        /*!local:re2c:field
            value = ":" ows @v (fvchar fvtext*)? crlf;

            crlf                             { *pp = YYCURSOR; return 0; }
            'content-length' @n value        { kind = FK_CL; goto field; }
            'transfer-encoding' @n value     { kind = FK_TE; goto field; }
            'host' @n value                  { kind = FK_HOST; goto field; }
            'connection' @n value            { kind = FK_CONNECTION; goto field; }
            'expect' @n value                { kind = FK_EXPECT; goto field; }
            'upgrade' @n value               { kind = FK_UPGRADE; goto field; }
            'date' @n value                  { kind = FK_DATE; goto field; }
            token @n value                   { kind = FK_OTHER; goto field; }
            *                                { return RP_HTTP1_E400; }
        */
    field:
        if (f->n == f->max)
            return RP_HTTP1_E431;
        const unsigned char *ve = YYCURSOR - 2;
        while (ve > v && is_ows(ve[-1]))
            ve--;
        struct rp_http1_header *h = &f->hdr[f->n++];
        h->name = (const char *)p;
        h->name_len = (uint32_t)(n - p);
        h->value = (const char *)v;
        h->value_len = (uint32_t)(ve - v);
        switch (kind) {
        case FK_CL:
            rc = content_length(v, ve, f);
            break;
        case FK_TE:
            rc = transfer_encoding(v, ve, f);
            break;
        case FK_HOST:
            if (f->is_request)
                rc = host(v, ve, f);
            break;
        case FK_CONNECTION:
            connection(v, ve, f);
            break;
        case FK_EXPECT:
            expect(v, ve, f);
            break;
        case FK_UPGRADE:
            f->flags |= RP_HTTP1_F_HAS_UPGRADE;
            break;
        case FK_DATE:
            f->flags |= RP_HTTP1_F_HAS_DATE;
            break;
        case FK_OTHER:
            break;
        }
        if (rc)
            return rc;
        p = YYCURSOR;
    }
}

/* Where the lexers must stop: just past the last LF in [p, end), or p. */
static const unsigned char *after_last_lf(const unsigned char *p, const unsigned char *end)
{
    const unsigned char *lf = memrchr(p, '\n', (size_t)(end - p));
    return lf ? lf + 1 : p;
}

/* Judges the unfinished line [p, scan_end) of a head that is not complete.
 * It holds no LF, so a CR anywhere but at its very end is a bare CR. */
static int head_tail(const unsigned char *p, const unsigned char *scan_end, size_t len,
                     size_t max_head)
{
    const unsigned char *cr = memchr(p, '\r', (size_t)(scan_end - p));

    if (cr && cr + 1 < scan_end)
        return RP_HTTP1_E400;
    return len >= max_head ? RP_HTTP1_E431 : RP_HTTP1_INCOMPLETE;
}

/* The headers array holds RP_HTTP1_MAX_HEADERS whatever the limit says. */
static uint32_t max_fields(const struct rp_http1_limits *limits)
{
    return limits->max_headers < RP_HTTP1_MAX_HEADERS ? limits->max_headers : RP_HTTP1_MAX_HEADERS;
}

/* How many bytes parsing may look at: a head must fit in max_head, and its
 * length must fit the int the parsers return. */
static size_t head_scan_len(size_t len, uint32_t max_head)
{
    size_t max = max_head < INT32_MAX ? max_head : INT32_MAX;
    return len < max ? len : max;
}

int rp_http1_parse_request(const char *buf, size_t len, const struct rp_http1_limits *limits,
                           struct rp_http1_request *req)
{
    const unsigned char *start = (const unsigned char *)buf;
    const unsigned char *scan_end = start + head_scan_len(len, limits->max_head);
    const unsigned char *lines_end = after_last_lf(start, scan_end);
    const unsigned char *p = start;
    const unsigned char *YYCURSOR, *YYMARKER, *t, *q = NULL, *a = NULL, *pa = NULL;
    /*!stags:re2c:request_line format = 'const unsigned char *@@;\n'; */
    enum target_form form;

    /* RFC 9112 2.2: empty lines before the request-line are ignored. */
    while (lines_end - p >= 2 && p[0] == '\r' && p[1] == '\n')
        p += 2;
    if (p >= lines_end) {
        /* The target so far can be judged before the line is complete. */
        const unsigned char *sp = memchr(p, ' ', (size_t)(scan_end - p));
        if (sp) {
            const unsigned char *t0 = sp + 1;
            const unsigned char *t1 = memchr(t0, ' ', (size_t)(scan_end - t0));
            if ((size_t)((t1 ? t1 : scan_end) - t0) > limits->max_uri)
                return RP_HTTP1_E414;
        }
        return head_tail(p, scan_end, len, limits->max_head);
    }

    YYCURSOR = p;
    /*!local:re2c:request_line
        token " " @t "/" pathc* ("?" @q queryc*)? version
            { form = FORM_ORIGIN; goto line; }
        token " " @t 'http' 's'? "://" @a uhost (":" port)? @pa ("/" pathc*)? ("?" @q queryc*)?
            version
            { form = FORM_ABSOLUTE; goto line; }
        token " " @t "*" version
            { form = FORM_ASTERISK; goto line; }
        token " " @t uhost ":" port version
            { form = FORM_AUTHORITY; goto line; }
        token " " @t vchar+ version
            { form = FORM_OTHER; goto line; }
        *   { return RP_HTTP1_E400; }
    */
line:;
    /* The line ends with " HTTP/d.d\r\n", 11 bytes. */
    const unsigned char *t_end = YYCURSOR - 11;
    size_t method_len = (size_t)(t - 1 - p);

    if ((size_t)(t_end - t) > limits->max_uri)
        return RP_HTTP1_E414;
    if (YYCURSOR[-5] != '1' || YYCURSOR[-3] > '1')
        return RP_HTTP1_E505;
    req->method = (const char *)p;
    req->method_len = (uint32_t)method_len;
    req->target = (const char *)t;
    req->target_len = (uint32_t)(t_end - t);
    req->minor_version = (uint8_t)(YYCURSOR[-3] - '0');
    req->query = NULL;
    req->query_len = 0;
    req->host = NULL;
    req->host_len = 0;

    /* CONNECT takes only authority-form, and authority-form only CONNECT
     * (RFC 9112 3.2.3); likewise "*" is for OPTIONS alone (3.2.4). */
    bool is_connect = method_len == 7 && memcmp(p, "CONNECT", 7) == 0;
    if (is_connect != (form == FORM_AUTHORITY))
        return RP_HTTP1_E400;
    switch (form) {
    case FORM_ORIGIN:
    case FORM_ABSOLUTE: {
        const unsigned char *path = form == FORM_ORIGIN ? t : pa;
        const unsigned char *path_end = q ? q - 1 : t_end;
        if (form == FORM_ABSOLUTE) {
            req->host = (const char *)a;
            req->host_len = (uint32_t)(pa - a);
        }
        if (path == path_end) {
            req->path = slash;
            req->path_len = 1;
        } else {
            req->path = (const char *)path;
            req->path_len = (uint32_t)(path_end - path);
        }
        if (q) {
            req->query = (const char *)q;
            req->query_len = (uint32_t)(t_end - q);
        }
        break;
    }
    case FORM_ASTERISK:
        if (method_len != 7 || memcmp(p, "OPTIONS", 7) != 0)
            return RP_HTTP1_E400;
        req->path = (const char *)t;
        req->path_len = 1;
        break;
    case FORM_AUTHORITY:
        req->host = (const char *)t;
        req->host_len = (uint32_t)(t_end - t);
        req->path = empty;
        req->path_len = 0;
        break;
    case FORM_OTHER:
        return RP_HTTP1_E400;
    }

    struct fields f = {
        .hdr = req->headers,
        .max = max_fields(limits),
        .is_request = true,
    };
    p = YYCURSOR;
    int rc = parse_fields(&p, lines_end, &f);
    if (rc == RP_HTTP1_INCOMPLETE)
        return head_tail(p, scan_end, len, limits->max_head);
    if (rc)
        return rc;

    /* Host: required in HTTP/1.1; an empty one only where the target itself
     * names the authority, which then overrides it (RFC 9112 3.2, 3.2.2). */
    if (f.n_host == 0 && req->minor_version == 1)
        return RP_HTTP1_E400;
    if (f.n_host && !req->host) {
        if (f.host_len == 0)
            return RP_HTTP1_E400;
        req->host = (const char *)f.host;
        req->host_len = f.host_len;
    }

    /* Framing (RFC 9112 6.1, 6.3): anything a server behind us could read
     * differently is refused. */
    req->content_length = 0;
    if (f.te_codings) {
        if (f.has_cl || req->minor_version == 0)
            return RP_HTTP1_E400;
        /* Chunked not last: the length cannot be known, 400 (6.3 item 4).
         * Chunked last after other codings: framing is clear, but the proxy
         * does not undo those codings, 501 (6.1). */
        if (!f.te_last_chunked || f.te_chunked > 1)
            return RP_HTTP1_E400;
        if (f.te_codings != 1)
            return RP_HTTP1_E501;
        req->body = RP_HTTP1_BODY_CHUNKED;
    } else if (f.has_cl && f.cl) {
        req->body = RP_HTTP1_BODY_LENGTH;
        req->content_length = f.cl;
    } else {
        req->body = RP_HTTP1_BODY_NONE;
    }
    req->flags = f.flags;
    req->n_headers = f.n;
    return (int)(p - start);
}

/* rp_http1_parse_response without the mapping of every error to 502. */
static int parse_response(const char *buf, size_t len, const struct rp_http1_limits *limits,
                          bool head_request, struct rp_http1_response *resp)
{
    const unsigned char *start = (const unsigned char *)buf;
    const unsigned char *scan_end = start + head_scan_len(len, limits->max_head);
    const unsigned char *lines_end = after_last_lf(start, scan_end);
    const unsigned char *p = start;
    const unsigned char *YYCURSOR, *YYMARKER;

    if (p >= lines_end)
        return head_tail(p, scan_end, len, limits->max_head);
    YYCURSOR = p;
    /*!local:re2c:status_line
        "HTTP/" digit "." digit " " digit{3} (" " fvtext*)? crlf { goto status; }
        * { return RP_HTTP1_E502; }
    */
status:;
    /* "HTTP/d.d ddd" then " reason" or nothing before the CRLF. */
    unsigned status =
        (unsigned)(p[9] - '0') * 100 + (unsigned)(p[10] - '0') * 10 + (unsigned)(p[11] - '0');
    if (p[5] != '1' || p[7] > '1' || status < 100 || status > 599)
        return RP_HTTP1_E502;
    resp->minor_version = (uint8_t)(p[7] - '0');
    resp->status = (uint16_t)status;
    if (YYCURSOR - p > 14) {
        resp->reason = (const char *)p + 13;
        resp->reason_len = (uint32_t)(YYCURSOR - 2 - (p + 13));
    } else {
        resp->reason = (const char *)p + 12;
        resp->reason_len = 0;
    }

    struct fields f = {
        .hdr = resp->headers,
        .max = max_fields(limits),
        .is_request = false,
    };
    p = YYCURSOR;
    int rc = parse_fields(&p, lines_end, &f);
    if (rc == RP_HTTP1_INCOMPLETE)
        return head_tail(p, scan_end, len, limits->max_head);
    if (rc)
        return rc;

    /* RFC 9112 6.1: TE with CL, TE in HTTP/1.0, and chunked applied twice or
     * not last are faulty framing, checked even where no body follows. */
    if (f.te_codings && (f.has_cl || resp->minor_version == 0 || f.te_chunked > 1 ||
                         (f.te_chunked && !f.te_last_chunked)))
        return RP_HTTP1_E502;

    /* RFC 9112 6.3, in its order. */
    resp->content_length = f.has_cl ? f.cl : 0;
    if (head_request || status < 200 || status == 204 || status == 304)
        resp->body = RP_HTTP1_BODY_NONE;
    else if (f.te_codings)
        resp->body = f.te_last_chunked ? RP_HTTP1_BODY_CHUNKED : RP_HTTP1_BODY_CLOSE;
    else if (f.has_cl)
        resp->body = f.cl ? RP_HTTP1_BODY_LENGTH : RP_HTTP1_BODY_NONE;
    else
        resp->body = RP_HTTP1_BODY_CLOSE;
    resp->flags = f.flags;
    resp->n_headers = f.n;
    return (int)(p - start);
}

int rp_http1_parse_response(const char *buf, size_t len, const struct rp_http1_limits *limits,
                            bool head_request, struct rp_http1_response *resp)
{
    int rc = parse_response(buf, len, limits, head_request, resp);

    return rc < 0 && rc != RP_HTTP1_INCOMPLETE ? RP_HTTP1_E502 : rc;
}

bool rp_http1_name_is(const struct rp_http1_header *h, const char *lower, size_t lower_len)
{
    return ci_eq((const unsigned char *)h->name, h->name_len, lower, lower_len);
}

bool rp_http1_is_hop_by_hop(const char *name, size_t len)
{
    const unsigned char *s = (const unsigned char *)name;

    switch (len) {
    case 2:
        return ci_eq(s, len, "te", 2);
    case 7:
        return ci_eq(s, len, "trailer", 7) || ci_eq(s, len, "upgrade", 7);
    case 10:
        return ci_eq(s, len, "connection", 10) || ci_eq(s, len, "keep-alive", 10);
    case 16:
        return ci_eq(s, len, "proxy-connection", 16);
    case 17:
        return ci_eq(s, len, "transfer-encoding", 17);
    case 18:
        return ci_eq(s, len, "proxy-authenticate", 18);
    case 19:
        return ci_eq(s, len, "proxy-authorization", 19);
    default:
        return false;
    }
}
