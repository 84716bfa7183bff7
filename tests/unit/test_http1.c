/* test_http1.c: the HTTP/1 head parsers and the chunked scanner.
 *
 * Every input is copied into a heap block of exactly its length, so a
 * sanitizer or valgrind reports any read past the end of the buffer: the
 * parsers get no NUL or other sentinel after the bytes they are given. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rp/http1.h"
#include "t.h"

static const struct rp_http1_limits lim = {.max_uri = 64, .max_head = 1024, .max_headers = 10};

static char *held; /* the last input; parsed slices point into it */
static struct rp_http1_request rq;
static struct rp_http1_response rs;

static void release(void)
{
    free(held);
    held = NULL;
}

static const char *exact(const char *s, size_t n)
{
    free(held);
    held = malloc(n ? n : 1);
    if (!held)
        abort();
    memcpy(held, s, n);
    return held;
}

static int req_nl(const char *s, size_t n, const struct rp_http1_limits *l)
{
    return rp_http1_parse_request(exact(s, n), n, l, &rq);
}

static int req(const char *s)
{
    return req_nl(s, strlen(s), &lim);
}

static int req_l(const char *s, const struct rp_http1_limits *l)
{
    return req_nl(s, strlen(s), l);
}

static int resp_n(const char *s, size_t n, bool head)
{
    return rp_http1_parse_response(exact(s, n), n, &lim, head, &rs);
}

static int resp(const char *s)
{
    return resp_n(s, strlen(s), false);
}

/* A header value by name, or NULL. */
static const struct rp_http1_header *field(const struct rp_http1_header *h, uint32_t n,
                                           const char *lower)
{
    for (uint32_t i = 0; i < n; i++)
        if (rp_http1_name_is(&h[i], lower, strlen(lower)))
            return &h[i];
    return NULL;
}

/* Every proper prefix of a valid head must be INCOMPLETE, never an error or
 * a length; the whole must give its length. Returns the first bad prefix
 * length, or -1. */
static long request_prefixes(const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++)
        if (req_nl(s, i, &lim) != RP_HTTP1_INCOMPLETE)
            return (long)i;
    return req(s) == (int)n ? -1 : (long)n;
}

static long response_prefixes(const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++)
        if (resp_n(s, i, false) != RP_HTTP1_INCOMPLETE)
            return (long)i;
    return resp(s) == (int)n ? -1 : (long)n;
}

T_SUITE(http1_request)
{
    const char *get = "GET /a/b?x=1&y=2 HTTP/1.1\r\n"
                      "Host: example.com\r\n"
                      "User-Agent:  curl/8 \t \r\n"
                      "X-Empty:\r\n"
                      "\r\n";
    T_EQ(req(get), strlen(get));
    T_SLICE(rq.method, rq.method_len, "GET");
    T_SLICE(rq.target, rq.target_len, "/a/b?x=1&y=2");
    T_SLICE(rq.path, rq.path_len, "/a/b");
    T_SLICE(rq.query, rq.query_len, "x=1&y=2");
    T_SLICE(rq.host, rq.host_len, "example.com");
    T_EQ(rq.minor_version, 1);
    T_EQ(rq.body, RP_HTTP1_BODY_NONE);
    T_EQ(rq.flags, RP_HTTP1_F_HAS_HOST);
    T_EQ(rq.n_headers, 3);
    T_SLICE(rq.headers[1].name, rq.headers[1].name_len, "User-Agent");
    T_SLICE(rq.headers[1].value, rq.headers[1].value_len, "curl/8");
    T_SLICE(rq.headers[2].name, rq.headers[2].name_len, "X-Empty");
    T_EQ(rq.headers[2].value_len, 0);
    T_EQ(request_prefixes(get), -1);

    /* Inner white space is kept, only the ends are trimmed; HTAB and
     * obs-text are allowed in values. */
    const char *ws = "GET / HTTP/1.1\r\nHost: h\r\nX: \t a \t b\x80\xff \r\n\r\n";
    T_EQ(req(ws), strlen(ws));
    T_SLICE(rq.headers[1].value, rq.headers[1].value_len, "a \t b\x80\xff");
    T_OK(rq.query == NULL);

    /* Only the first '?' splits; an empty query is not a missing one. */
    T_OK(req("GET /p?a?b HTTP/1.1\r\nHost: h\r\n\r\n") > 0);
    T_SLICE(rq.path, rq.path_len, "/p");
    T_SLICE(rq.query, rq.query_len, "a?b");
    T_OK(req("GET /p? HTTP/1.1\r\nHost: h\r\n\r\n") > 0);
    T_OK(rq.query != NULL);
    T_EQ(rq.query_len, 0);

    const char *post = "POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello";
    T_EQ(req(post), strlen(post) - 5);
    T_EQ(rq.body, RP_HTTP1_BODY_LENGTH);
    T_EQ(rq.content_length, 5);
    T_EQ(request_prefixes("POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n"), -1);

    T_OK(req("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n") > 0);
    T_EQ(rq.body, RP_HTTP1_BODY_CHUNKED);
    T_OK(req("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:  CHUNKED \r\n\r\n") > 0);
    T_EQ(rq.body, RP_HTTP1_BODY_CHUNKED);

    T_OK(req("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n") > 0);
    T_EQ(rq.body, RP_HTTP1_BODY_NONE);
    T_EQ(rq.content_length, 0);

    /* HTTP/1.0 needs no Host. */
    T_OK(req("GET / HTTP/1.0\r\n\r\n") > 0);
    T_EQ(rq.minor_version, 0);
    T_OK(rq.host == NULL);
    T_EQ(rq.flags & RP_HTTP1_F_HAS_HOST, 0);

    /* Methods are tokens, compared case-sensitively by the caller. */
    T_OK(req("M-SEARCH * HTTP/1.1\r\nHost: h\r\n\r\n") == RP_HTTP1_E400);
    T_OK(req("PROPFIND /x HTTP/1.1\r\nHost: h\r\n\r\n") > 0);
    T_SLICE(rq.method, rq.method_len, "PROPFIND");
    T_EQ(req("G(T / HTTP/1.1\r\nHost: h\r\n\r\n"), RP_HTTP1_E400);
    T_EQ(req(" GET / HTTP/1.1\r\nHost: h\r\n\r\n"), RP_HTTP1_E400);

    /* Leading empty lines are skipped and counted. */
    const char *lead = "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n";
    T_EQ(req(lead), strlen(lead));
    T_SLICE(rq.method, rq.method_len, "GET");
    T_EQ(request_prefixes(lead), -1);
    T_EQ(req("\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"), RP_HTTP1_E400);
    T_EQ(req("\r\rGET / HTTP/1.1\r\nHost: h\r\n\r\n"), RP_HTTP1_E400);

    /* Pipelining: the first head's length, then the second parses at it. */
    const char *two = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n";
    int first = req(two);
    T_EQ(first, strlen(two) / 2);
    T_SLICE(rq.path, rq.path_len, "/1");
    T_EQ(rp_http1_parse_request(held + first, strlen(two) - (size_t)first, &lim, &rq), first);
    T_SLICE(rq.path, rq.path_len, "/2");
    release();
}

T_SUITE(http1_request_target)
{
    T_OK(req("GET http://Example.com:8080/x/y?q HTTP/1.1\r\nHost: other\r\n\r\n") > 0);
    T_SLICE(rq.target, rq.target_len, "http://Example.com:8080/x/y?q");
    T_SLICE(rq.host, rq.host_len, "Example.com:8080");
    T_SLICE(rq.path, rq.path_len, "/x/y");
    T_SLICE(rq.query, rq.query_len, "q");

    T_OK(req("GET HTTPS://h HTTP/1.1\r\nHost: h\r\n\r\n") > 0);
    T_SLICE(rq.host, rq.host_len, "h");
    T_SLICE(rq.path, rq.path_len, "/");
    T_OK(rq.query == NULL);
    T_OK(req("GET http://h?a=b HTTP/1.1\r\nHost: h\r\n\r\n") > 0);
    T_SLICE(rq.path, rq.path_len, "/");
    T_SLICE(rq.query, rq.query_len, "a=b");
    T_OK(req("GET http://[::1]:80/ HTTP/1.1\r\nHost: [::1]:80\r\n\r\n") > 0);
    T_SLICE(rq.host, rq.host_len, "[::1]:80");
    /* The authority stands in for an empty Host (RFC 9112 3.2.2). */
    T_OK(req("GET http://h/ HTTP/1.1\r\nHost:\r\n\r\n") > 0);
    T_SLICE(rq.host, rq.host_len, "h");
    T_OK(req("GET http://h/ HTTP/1.0\r\n\r\n") > 0);
    T_SLICE(rq.host, rq.host_len, "h");

    T_EQ(req("GET ftp://h/ HTTP/1.1\r\nHost: h\r\n\r\n"), RP_HTTP1_E400);
    T_EQ(req("GET http://user@h/ HTTP/1.1\r\nHost: h\r\n\r\n"), RP_HTTP1_E400);
    T_EQ(req("GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n"), RP_HTTP1_E400);
    T_EQ(req("GET http://h:/x HTTP/1.1\r\nHost: h\r\n\r\n"), RP_HTTP1_E400);
    T_EQ(req("GET http://h:123456/ HTTP/1.1\r\nHost: h\r\n\r\n"), RP_HTTP1_E400);

    T_OK(req("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n") > 0);
    T_SLICE(rq.path, rq.path_len, "*");
    T_EQ(req("GET * HTTP/1.1\r\nHost: h\r\n\r\n"), RP_HTTP1_E400);
    T_EQ(req("OPTIONS *x HTTP/1.1\r\nHost: h\r\n\r\n"), RP_HTTP1_E400);

    T_OK(req("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n") > 0);
    T_SLICE(rq.host, rq.host_len, "example.com:443");
    T_EQ(rq.path_len, 0);
    T_EQ(req("CONNECT example.com HTTP/1.1\r\nHost: h\r\n\r\n"), RP_HTTP1_E400);
    T_EQ(req("CONNECT / HTTP/1.1\r\nHost: h\r\n\r\n"), RP_HTTP1_E400);
    T_EQ(req("CONNECT http://h:1/ HTTP/1.1\r\nHost: h\r\n\r\n"), RP_HTTP1_E400);
    T_EQ(req("GET example.com:443 HTTP/1.1\r\nHost: h\r\n\r\n"), RP_HTTP1_E400);

    /* Fragments, bytes outside 0x21-0x7E, and stray spaces. */
    T_EQ(req("GET /a#b HTTP/1.1\r\nHost: h\r\n\r\n"), RP_HTTP1_E400);
    T_EQ(req("GET /a?b#c HTTP/1.1\r\nHost: h\r\n\r\n"), RP_HTTP1_E400);
    T_EQ(req("GET /\x7f HTTP/1.1\r\nHost: h\r\n\r\n"), RP_HTTP1_E400);
    T_EQ(req("GET /\x80 HTTP/1.1\r\nHost: h\r\n\r\n"), RP_HTTP1_E400);
    T_EQ(req("GET /\t HTTP/1.1\r\nHost: h\r\n\r\n"), RP_HTTP1_E400);
    T_EQ(req("GET  / HTTP/1.1\r\nHost: h\r\n\r\n"), RP_HTTP1_E400);
    T_EQ(req("GET /  HTTP/1.1\r\nHost: h\r\n\r\n"), RP_HTTP1_E400);
    T_EQ(req("GET / HTTP/1.1 \r\nHost: h\r\n\r\n"), RP_HTTP1_E400);
    T_EQ(req("GET /\r\nHost: h\r\n\r\n"), RP_HTTP1_E400);
    T_EQ(req("GET a HTTP/1.1\r\nHost: h\r\n\r\n"), RP_HTTP1_E400);

    /* Versions. */
    T_EQ(req("GET / HTTP/2.0\r\nHost: h\r\n\r\n"), RP_HTTP1_E505);
    T_EQ(req("GET / HTTP/1.2\r\nHost: h\r\n\r\n"), RP_HTTP1_E505);
    T_EQ(req("GET / HTTP/0.9\r\nHost: h\r\n\r\n"), RP_HTTP1_E505);
    T_EQ(req("GET / http/1.1\r\nHost: h\r\n\r\n"), RP_HTTP1_E400);
    T_EQ(req("GET / HTTP/1.10\r\nHost: h\r\n\r\n"), RP_HTTP1_E400);
    T_EQ(req("GET / HTTP/1\r\nHost: h\r\n\r\n"), RP_HTTP1_E400);

    /* 414, also before the line is complete; exactly max_uri is fine. */
    char line[256];
    snprintf(line, sizeof line, "GET /%063d HTTP/1.1\r\nHost: h\r\n\r\n", 0);
    T_OK(req(line) > 0);
    T_EQ(rq.target_len, 64);
    snprintf(line, sizeof line, "GET /%064d HTTP/1.1\r\nHost: h\r\n\r\n", 0);
    T_EQ(req(line), RP_HTTP1_E414);
    snprintf(line, sizeof line, "GET /%064d", 0);
    T_EQ(req(line), RP_HTTP1_E414);
    snprintf(line, sizeof line, "\r\nGET /%063d", 0);
    T_EQ(req(line), RP_HTTP1_INCOMPLETE);
    snprintf(line, sizeof line, "GET http://h/%070d HTTP/1.1\r\nHost: h\r\n", 0);
    T_EQ(req(line), RP_HTTP1_E414);
    release();
}

T_SUITE(http1_request_fields)
{
    /* The smuggling classics. */
    T_EQ(req("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
             "Transfer-Encoding: chunked\r\n\r\n"),
         RP_HTTP1_E400);
    T_EQ(req("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
             "Content-Length: 5\r\n\r\n"),
         RP_HTTP1_E400);
    /* Chunked not the final coding: the length is unknowable, 400
     * (RFC 9112 6.3 item 4); chunked last after codings the proxy does not
     * undo: 501 (6.1). */
    T_EQ(req("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, identity\r\n\r\n"),
         RP_HTTP1_E400);
    T_EQ(req("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
         RP_HTTP1_E501);
    T_EQ(req("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity\r\n\r\n"), RP_HTTP1_E400);
    T_EQ(req("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n"
             "Transfer-Encoding: chunked\r\n\r\n"),
         RP_HTTP1_E501);
    T_EQ(req("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
             "Transfer-Encoding: chunked\r\n\r\n"),
         RP_HTTP1_E400);
    T_EQ(req("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: xchunked\r\n\r\n"), RP_HTTP1_E400);
    T_EQ(req("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked;a=b\r\n\r\n"),
         RP_HTTP1_E400);
    T_EQ(req("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked,\r\n\r\n"), RP_HTTP1_E400);
    T_EQ(req("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n\r\n"), RP_HTTP1_E400);
    T_EQ(req("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \"chunked\"\r\n\r\n"),
         RP_HTTP1_E400);
    T_EQ(req("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), RP_HTTP1_E400);
    T_EQ(req("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding : chunked\r\n\r\n"), RP_HTTP1_E400);
    T_EQ(req("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding\t: chunked\r\n\r\n"), RP_HTTP1_E400);
    T_EQ(req("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n chunked\r\n\r\n"),
         RP_HTTP1_E400);
    T_EQ(req("POST / HTTP/1.1\r\nHost: h\r\nX: y\r\n\tchunked\r\n\r\n"), RP_HTTP1_E400);
    T_EQ(req("POST / HTTP/1.1\r\n Host: h\r\n\r\n"), RP_HTTP1_E400);
    T_EQ(req("GET / HTTP/1.1\r\nHost: h\r\n: empty\r\n\r\n"), RP_HTTP1_E400);
    T_EQ(req("GET / HTTP/1.1\r\nHost: h\r\nX(: y\r\n\r\n"), RP_HTTP1_E400);
    T_EQ(req("GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n"), RP_HTTP1_E400);

    /* Content-Length. */
    const char *cl_bad[] = {"+5", "-1", "5 5", "5, 6", "0x5",     "",
                            "5,", ",5", "5;",  "1e3",  "5, 5, 6", "99999999999999999999"};
    for (size_t i = 0; i < sizeof cl_bad / sizeof cl_bad[0]; i++) {
        char m[128];
        snprintf(m, sizeof m, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: %s\r\n\r\n",
                 cl_bad[i]);
        if (!T_EQ(req(m), RP_HTTP1_E400))
            printf("# Content-Length: %s\n", cl_bad[i]);
    }
    T_OK(req("POST / HTTP/1.1\r\nHost: h\r\nContent-Length:  5 \r\n\r\n") > 0);
    T_EQ(rq.content_length, 5);
    T_OK(req("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5 ,5\r\n\r\n") > 0);
    T_EQ(rq.body, RP_HTTP1_BODY_LENGTH);
    T_EQ(rq.content_length, 5);
    T_OK(req("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 7\r\ncontent-length: 7\r\n\r\n") > 0);
    T_EQ(rq.content_length, 7);
    T_EQ(req("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 7\r\nContent-Length: 8\r\n\r\n"),
         RP_HTTP1_E400);
    T_OK(req("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9999999999999999999\r\n\r\n") > 0);
    T_OK(rq.content_length == UINT64_C(9999999999999999999));
    T_OK(req("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 007\r\n\r\n") > 0);
    T_EQ(rq.content_length, 7);

    /* Host. */
    T_EQ(req("GET / HTTP/1.1\r\n\r\n"), RP_HTTP1_E400);
    T_EQ(req("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"), RP_HTTP1_E400);
    T_EQ(req("GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n"), RP_HTTP1_E400);
    T_EQ(req("GET / HTTP/1.1\r\nHost:\r\n\r\n"), RP_HTTP1_E400);
    T_EQ(req("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), RP_HTTP1_E400);
    T_EQ(req("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"), RP_HTTP1_E400);
    T_EQ(req("GET / HTTP/1.1\r\nHost: u@a\r\n\r\n"), RP_HTTP1_E400);
    T_EQ(req("GET / HTTP/1.1\r\nHost: a:80x\r\n\r\n"), RP_HTTP1_E400);
    T_EQ(req("GET / HTTP/1.1\r\nHost: a%zz\r\n\r\n"), RP_HTTP1_E400);
    T_OK(req("GET / HTTP/1.1\r\nHost: a%41.example:8080 \r\n\r\n") > 0);
    T_SLICE(rq.host, rq.host_len, "a%41.example:8080");
    T_OK(req("GET / HTTP/1.1\r\nHOST: [2001:db8::1]\r\n\r\n") > 0);
    T_SLICE(rq.host, rq.host_len, "[2001:db8::1]");

    /* Bare CR and bare LF, complete or not; control bytes in values. */
    T_EQ(req("GET / HTTP/1.1\rHost: h\r\n\r\n"), RP_HTTP1_E400);
    T_EQ(req("GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n"), RP_HTTP1_E400);
    T_EQ(req("GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n"), RP_HTTP1_E400);
    T_EQ(req("GET / HTTP/1.1\r\nHost: h\r\n\r\r\n"), RP_HTTP1_E400);
    T_EQ(req("GET / HTTP/1.1\r\nHost: h\r\nX: a\rb"), RP_HTTP1_E400);
    T_EQ(req("GET / HTTP/1.1\r\nHost: h\r\nX: a\r"), RP_HTTP1_INCOMPLETE);
    T_EQ(req("GET / HTTP/1.1\nHost: h\r\n\r\n"), RP_HTTP1_E400);
    T_EQ(req("GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n"), RP_HTTP1_E400);
    T_EQ(req("GET / HTTP/1.1\r\nHost: h\r\n\n"), RP_HTTP1_E400);
    T_EQ(req("GET / HTTP/1.1\r\nHost: h\n"), RP_HTTP1_E400);
    T_EQ(req("GET / HTTP/1.1\r\nHost: h\r\nX: a\n"), RP_HTTP1_E400);
    static const char nul[] = "GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n";
    T_EQ(req_nl(nul, sizeof nul - 1, &lim), RP_HTTP1_E400);
    static const char nul_name[] = "GET / HTTP/1.1\r\nHost: h\r\nX\0: a\r\n\r\n";
    T_EQ(req_nl(nul_name, sizeof nul_name - 1, &lim), RP_HTTP1_E400);
    T_EQ(req("GET / HTTP/1.1\r\nHost: h\r\nX: a\x01\r\n\r\n"), RP_HTTP1_E400);
    T_EQ(req("GET / HTTP/1.1\r\nHost: h\r\nX: a\x7f\r\n\r\n"), RP_HTTP1_E400);
    T_EQ(req("GET / HTTP/1.1\r\nHost: h\r\nX: \x1b[0m\r\n\r\n"), RP_HTTP1_E400);

    /* Flags. */
    T_OK(req("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n") > 0);
    T_EQ(rq.flags, RP_HTTP1_F_HAS_HOST | RP_HTTP1_F_CONN_CLOSE);
    T_OK(req("GET / HTTP/1.1\r\nHost: h\r\nconnection: Keep-Alive ,, UPGRADE\r\n"
             "Connection: foo, Close\r\nUpgrade: websocket\r\n\r\n") > 0);
    T_EQ(rq.flags, RP_HTTP1_F_HAS_HOST | RP_HTTP1_F_CONN_CLOSE | RP_HTTP1_F_CONN_KEEPALIVE |
                       RP_HTTP1_F_CONN_UPGRADE | RP_HTTP1_F_HAS_UPGRADE);
    T_OK(req("GET / HTTP/1.1\r\nHost: h\r\nConnection: closed, keep-alives\r\n\r\n") > 0);
    T_EQ(rq.flags, RP_HTTP1_F_HAS_HOST);
    T_OK(req("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\n\r\n") > 0);
    T_EQ(rq.flags, RP_HTTP1_F_HAS_HOST | RP_HTTP1_F_EXPECT_CONTINUE);
    T_OK(req("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continued\r\n\r\n") > 0);
    T_EQ(rq.flags, RP_HTTP1_F_HAS_HOST);
    T_OK(req("GET / HTTP/1.1\r\nHost: h\r\nUpgradeX: y\r\nX-Connection: close\r\n\r\n") > 0);
    T_EQ(rq.flags, RP_HTTP1_F_HAS_HOST);
    const struct rp_http1_header *h = field(rq.headers, rq.n_headers, "x-connection");
    T_OK(h != NULL);
    T_OK(h && h == &rq.headers[2]);
    release();
}

T_SUITE(http1_request_limits)
{
    /* 431 by count: max_headers fields are fine, one more is not, even
     * before the head is complete. */
    struct rp_http1_limits l = lim;
    l.max_headers = 3;
    T_OK(req_l("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n", &l) > 0);
    T_EQ(req_l("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", &l), RP_HTTP1_E431);
    T_EQ(req_l("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n", &l), RP_HTTP1_E431);
    /* A limit over the array size is capped to it. */
    l.max_headers = RP_HTTP1_MAX_HEADERS + 50;
    l.max_head = 65536;
    char *big = malloc(65536);
    size_t n = (size_t)sprintf(big, "GET / HTTP/1.1\r\nHost: h\r\n");
    for (int i = 1; i < RP_HTTP1_MAX_HEADERS; i++)
        n += (size_t)sprintf(big + n, "X%d: %d\r\n", i, i);
    memcpy(big + n, "\r\n", 3);
    T_EQ(req_l(big, &l), n + 2);
    T_EQ(rq.n_headers, RP_HTTP1_MAX_HEADERS);
    memcpy(big + n, "Y: y\r\n\r\n", 9);
    T_EQ(req_l(big, &l), RP_HTTP1_E431);
    free(big);

    /* 431 by size: a head of exactly max_head bytes is fine. */
    const char *s = "GET / HTTP/1.1\r\nHost: h\r\nX: abc\r\n\r\n";
    size_t len = strlen(s);
    l = lim;
    l.max_head = (uint32_t)len;
    T_EQ(req_l(s, &l), len);
    l.max_head = (uint32_t)len - 1;
    T_EQ(req_l(s, &l), RP_HTTP1_E431);
    /* Incomplete: E431 once len >= max_head, INCOMPLETE before. */
    T_EQ(req_nl(s, len - 1, &l), RP_HTTP1_E431);
    T_EQ(req_nl(s, len - 2, &l), RP_HTTP1_INCOMPLETE);
    /* Body bytes after the head do not count. */
    l.max_head = (uint32_t)len;
    T_EQ(req_l("GET / HTTP/1.1\r\nHost: h\r\nX: abc\r\n\r\nbody bytes", &l), len);
    /* Endless empty lines end in 431 too. */
    char crlfs[2048];
    for (size_t i = 0; i < sizeof crlfs; i += 2)
        memcpy(crlfs + i, "\r\n", 2);
    T_EQ(req_nl(crlfs, sizeof crlfs, &lim), RP_HTTP1_E431);
    T_EQ(req_nl(crlfs, 100, &lim), RP_HTTP1_INCOMPLETE);
    release();
}

T_SUITE(http1_response)
{
    const char *ok = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nServer: x\r\n\r\nabc";
    T_EQ(resp(ok), strlen(ok) - 3);
    T_EQ(rs.status, 200);
    T_EQ(rs.minor_version, 1);
    T_SLICE(rs.reason, rs.reason_len, "OK");
    T_EQ(rs.body, RP_HTTP1_BODY_LENGTH);
    T_EQ(rs.content_length, 3);
    T_EQ(rs.n_headers, 2);
    T_EQ(response_prefixes("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nServer: x\r\n\r\n"), -1);

    T_OK(resp("HTTP/1.1 404 Not  Found \r\n\r\n") > 0);
    T_SLICE(rs.reason, rs.reason_len, "Not  Found ");
    T_OK(resp("HTTP/1.1 200\r\n\r\n") > 0);
    T_EQ(rs.reason_len, 0);
    T_OK(resp("HTTP/1.1 200 \r\n\r\n") > 0);
    T_EQ(rs.reason_len, 0);
    T_OK(resp("HTTP/1.0 599 x\r\n\r\n") > 0);
    T_EQ(rs.minor_version, 0);
    T_EQ(rs.body, RP_HTTP1_BODY_CLOSE);

    T_OK(resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n") > 0);
    T_EQ(rs.body, RP_HTTP1_BODY_CHUNKED);
    T_OK(resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: Chunked\r\n\r\n") >
         0);
    T_EQ(rs.body, RP_HTTP1_BODY_CHUNKED);
    T_OK(resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n") > 0);
    T_EQ(rs.body, RP_HTTP1_BODY_CLOSE);
    T_EQ(resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"), RP_HTTP1_E502);
    T_EQ(resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n"), RP_HTTP1_E502);
    T_EQ(resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"),
         RP_HTTP1_E502);
    T_EQ(resp("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), RP_HTTP1_E502);
    T_EQ(resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: ,chunked\r\n\r\n"), RP_HTTP1_E502);

    T_OK(resp("HTTP/1.1 200 OK\r\nServer: x\r\n\r\nuntil close") > 0);
    T_EQ(rs.body, RP_HTTP1_BODY_CLOSE);
    T_OK(resp("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n") > 0);
    T_EQ(rs.body, RP_HTTP1_BODY_NONE);

    /* No body whatever the fields say. */
    T_OK(resp("HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n") > 0);
    T_EQ(rs.body, RP_HTTP1_BODY_NONE);
    T_OK(resp("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n") > 0);
    T_EQ(rs.body, RP_HTTP1_BODY_NONE);
    T_OK(resp("HTTP/1.1 304 Not Modified\r\n\r\n") > 0);
    T_EQ(rs.body, RP_HTTP1_BODY_NONE);
    T_OK(resp("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n") > 0);
    T_EQ(rs.body, RP_HTTP1_BODY_NONE);
    T_OK(resp("HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\n"
              "Upgrade: websocket\r\n\r\n") > 0);
    T_EQ(rs.body, RP_HTTP1_BODY_NONE);
    T_EQ(rs.flags, RP_HTTP1_F_CONN_UPGRADE | RP_HTTP1_F_HAS_UPGRADE);
    const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";
    T_EQ(resp_n(head, strlen(head), true), strlen(head));
    T_EQ(rs.body, RP_HTTP1_BODY_NONE);
    T_EQ(rs.content_length, 10);
    T_OK(resp_n("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 47, true) > 0);
    T_EQ(rs.body, RP_HTTP1_BODY_NONE);

    /* Malformed status lines and heads: always 502. */
    const char *bad[] = {
        "HTTP/1.1 20 OK\r\n\r\n",
        "HTTP/1.1 2000 OK\r\n\r\n",
        "HTTP/1.1 099 X\r\n\r\n",
        "HTTP/1.1 600 X\r\n\r\n",
        "HTTP/1.1 2x0 OK\r\n\r\n",
        "HTTP/1.1  200 OK\r\n\r\n",
        "HTTP/1.1 200OK\r\n\r\n",
        "HTTP/2.0 200 OK\r\n\r\n",
        "HTTP/1.2 200 OK\r\n\r\n",
        "http/1.1 200 OK\r\n\r\n",
        "HTTP/1.1 200 OK\n\r\n",
        "HTTP/1.1 200 O\rK\r\n\r\n",
        "HTTP/1.1 200 O\x01K\r\n\r\n",
        "\r\nHTTP/1.1 200 OK\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX : y\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX: y\r\n z\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX: y\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: -3\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 3, 4\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX: a\rb",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (!T_EQ(resp(bad[i]), RP_HTTP1_E502))
            printf("# response %zu\n", i);
    static const char nul[] = "HTTP/1.1 200 OK\r\nX: \0\r\n\r\n";
    T_EQ(resp_n(nul, sizeof nul - 1, false), RP_HTTP1_E502);

    /* Limits give 502 as well. */
    char many[1024];
    size_t n = (size_t)sprintf(many, "HTTP/1.1 200 OK\r\n");
    for (int i = 0; i < 11; i++)
        n += (size_t)sprintf(many + n, "X%d: y\r\n", i);
    sprintf(many + n, "\r\n");
    T_EQ(resp(many), RP_HTTP1_E502);
    char long_head[1100];
    memset(long_head, 'a', sizeof long_head);
    memcpy(long_head, "HTTP/1.1 200 ", 13);
    T_EQ(resp_n(long_head, sizeof long_head, false), RP_HTTP1_E502);
    T_EQ(resp_n(long_head, 1023, false), RP_HTTP1_INCOMPLETE);
    release();
}

T_SUITE(http1_names)
{
    const char *hop[] = {"Connection",
                         "keep-alive",
                         "PROXY-CONNECTION",
                         "te",
                         "Trailer",
                         "transfer-encoding",
                         "Upgrade",
                         "Proxy-Authenticate",
                         "proxy-authorization"};
    for (size_t i = 0; i < sizeof hop / sizeof hop[0]; i++)
        if (!T_OK(rp_http1_is_hop_by_hop(hop[i], strlen(hop[i]))))
            printf("# %s\n", hop[i]);
    const char *end_to_end[] = {"Content-Length",
                                "Host",
                                "Tea",
                                "t",
                                "Trailers",
                                "Connections",
                                "Keep-Alive2",
                                "Upgrade-Insecure-Requests",
                                ""};
    for (size_t i = 0; i < sizeof end_to_end / sizeof end_to_end[0]; i++)
        if (!T_OK(!rp_http1_is_hop_by_hop(end_to_end[i], strlen(end_to_end[i]))))
            printf("# %s\n", end_to_end[i]);
    /* The length bounds the comparison: "te" inside "tea" is not TE. */
    T_OK(rp_http1_is_hop_by_hop("tea", 2));

    struct rp_http1_header h = {.name = "Content-TYPE", .name_len = 12};
    T_OK(rp_http1_name_is(&h, "content-type", 12));
    T_OK(!rp_http1_name_is(&h, "content-typ", 11));
    T_OK(!rp_http1_name_is(&h, "content-tape", 12));
    /* '-' must not match CR or other bytes that differ only in bit 5. */
    struct rp_http1_header odd = {.name = "a\rb", .name_len = 3};
    T_OK(!rp_http1_name_is(&odd, "a-b", 3));
    release();
}

/* The chunked scanner's verdict on a whole input: bytes consumed when done,
 * -1 on error, or -2 when it needs more. */
struct verdict {
    long consumed;
    bool done;
};

static struct verdict scan_sliced(const char *s, size_t n, size_t slice)
{
    struct rp_chunked c = {0};
    struct verdict v = {0, false};
    const char *buf = exact(s, n);

    for (size_t off = 0; off < n;) {
        size_t k = n - off < slice ? n - off : slice;
        /* Each slice in its own exact-size block, so reads past it show. */
        char *piece = malloc(k);
        memcpy(piece, buf + off, k);
        bool done = true;
        ssize_t r = rp_chunked_scan(&c, piece, k, &done);
        free(piece);
        if (r < 0) {
            v.consumed = -1;
            return v;
        }
        if ((size_t)r > k || (!done && (size_t)r != k)) {
            v.consumed = -3; /* contract broken */
            return v;
        }
        v.consumed += r;
        off += (size_t)r;
        if (done) {
            v.done = true;
            return v;
        }
    }
    v.consumed = v.done ? v.consumed : -2;
    return v;
}

/* Scans s whole, one byte at a time, and split at every point; all must
 * agree. Returns the verdict, or consumed -4 when they disagree. */
static long scan(const char *s, size_t n)
{
    struct verdict whole = scan_sliced(s, n, n ? n : 1);
    struct verdict bytes = scan_sliced(s, n, 1);
    if (whole.consumed != bytes.consumed || whole.done != bytes.done)
        return -4;
    for (size_t cut = 1; cut < n; cut++) {
        struct rp_chunked c = {0};
        bool done;
        long total = 0;
        ssize_t r = rp_chunked_scan(&c, exact(s, cut), cut, &done);
        if (r >= 0 && !done) {
            total = r;
            char *rest = malloc(n - cut);
            memcpy(rest, s + cut, n - cut);
            r = rp_chunked_scan(&c, rest, n - cut, &done);
            free(rest);
        }
        long got = r < 0 ? -1 : !done ? -2 : total + r;
        if (got != whole.consumed)
            return -4;
    }
    return whole.consumed;
}

static long scan_str(const char *s)
{
    return scan(s, strlen(s));
}

T_SUITE(chunked)
{
    const char *simple = "5\r\nhello\r\n0\r\n\r\n";
    T_EQ(scan_str(simple), strlen(simple));
    T_EQ(scan_str("0\r\n\r\n"), 5);
    const char *multi = "a\r\n0123456789\r\nA\r\n0123456789\r\n1\r\nx\r\n000\r\n\r\n";
    T_EQ(scan_str(multi), strlen(multi));
    const char *ext = "5;name=value;flag ; q=\"a b\"\r\nhello\r\n0;last\r\n\r\n";
    T_EQ(scan_str(ext), strlen(ext));
    const char *bws = "5 ;x\r\nhello\r\n0\t;y\r\n\r\n";
    T_EQ(scan_str(bws), strlen(bws));
    const char *trailers = "3\r\nabc\r\n0\r\nX-Sum: 1\r\nY:\r\nZ: a\tb \x80\r\n\r\n";
    T_EQ(scan_str(trailers), strlen(trailers));
    /* Pipelining: bytes after the body are not consumed. */
    const char *more = "1\r\nz\r\n0\r\n\r\nGET / HTTP/1.1\r\n";
    T_EQ(scan_str(more), 11);
    /* Data may hold anything, CR and LF included. */
    T_EQ(scan("4\r\n\r\n\0\n\r\n0\r\n\r\n", 14), 14);
    /* Incomplete anywhere. */
    T_EQ(scan_str("5\r\nhel"), -2);
    T_EQ(scan_str("5\r\nhello\r"), -2);
    T_EQ(scan_str("0\r\nX: y\r\n"), -2);
    T_EQ(scan_str(""), -2);
    T_EQ(scan_str("7fffffffffffffff\r\nabc"), -2);
    T_EQ(scan_str("07fffffffffffffff\r\n"), -2);

    /* Malformed. */
    const char *bad[] = {
        "\r\n",   /* no size */
        ";x\r\n", /* no size before an extension */
        "g\r\n",  /* not hex */
        "-1\r\n",
        "0x5\r\n",
        "+5\r\n",
        " 5\r\n", /* white space before the size */
        "5 \r\n", /* BWS without an extension */
        "1 2\r\n",
        "8000000000000000\r\n", /* 2^63 */
        "10000000000000000\r\n",
        "5;a\x01\r\n", /* control byte in an extension */
        "5;a\x7f\r\n",
        "5;a\x80\r\n",
        "5;a\nb\r\n",
        "5\nhello\r\n0\r\n\r\n",    /* bare LF */
        "5\rhello\r\n0\r\n\r\n",    /* bare CR */
        "5\r\nhelloX\r\n0\r\n\r\n", /* no CRLF after data */
        "5\r\nhello\n0\r\n\r\n",
        "5\r\nhello\r0\r\n\r\n",
        "5\r\nhelloX\n0\r\n\r\n",
        "5\r\nhello\n\n0\r\n\r\n",
        "5\r\nhello\rX0\r\n\r\n",
        "5\r\nhello\r\r0\r\n\r\n",
        "5\r\nhello\r\n\r\n", /* empty size line */
        "0\r\n\n",
        "0\r\n\r\r",
        "0\n\r\n",
        "0\r\nX-Sum\r\n\r\n", /* trailer without colon */
        "0\r\nX : y\r\n\r\n",
        "0\r\n: y\r\n\r\n",
        "0\r\nX: y\r\n z\r\n\r\n", /* obs-fold */
        "0\r\nX: y\n\r\n",
        "0\r\nX: a\x01\r\n\r\n",
        "0\r\nX: a\rb\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (!T_EQ(scan_str(bad[i]), -1))
            printf("# chunked case %zu\n", i);
    static const char nul[] = "0\r\nX: \0\r\n\r\n";
    T_EQ(scan(nul, sizeof nul - 1), -1);

    /* Line length: RP_CHUNKED_MAX_LINE bytes before the CRLF, no more. */
    char *line = malloc(RP_CHUNKED_MAX_LINE + 64);
    memset(line, '0', RP_CHUNKED_MAX_LINE);
    line[RP_CHUNKED_MAX_LINE - 1] = '1';
    memcpy(line + RP_CHUNKED_MAX_LINE, "\r\nx\r\n0\r\n\r\n", 11);
    struct verdict v = scan_sliced(line, strlen(line), 1);
    T_EQ(v.consumed, RP_CHUNKED_MAX_LINE + 10);
    memset(line, '0', RP_CHUNKED_MAX_LINE + 1);
    line[RP_CHUNKED_MAX_LINE] = '1';
    memcpy(line + RP_CHUNKED_MAX_LINE + 1, "\r\nx\r\n0\r\n\r\n", 11);
    T_EQ(scan_sliced(line, strlen(line), 7).consumed, -1);
    memcpy(line, "1;", 2);
    memset(line + 2, 'e', RP_CHUNKED_MAX_LINE);
    memcpy(line + RP_CHUNKED_MAX_LINE + 2, "\r\nx\r\n0\r\n\r\n", 11);
    T_EQ(scan_sliced(line, strlen(line), 4096).consumed, -1);
    memcpy(line, "0\r\nX:", 5);
    memset(line + 5, 'v', RP_CHUNKED_MAX_LINE - 2);
    memcpy(line + RP_CHUNKED_MAX_LINE + 3, "\r\n\r\n", 5);
    T_EQ(scan_sliced(line, strlen(line), 1000).consumed, RP_CHUNKED_MAX_LINE + 7);
    memcpy(line, "0\r\nX:", 5);
    memset(line + 5, 'v', RP_CHUNKED_MAX_LINE - 1);
    memcpy(line + RP_CHUNKED_MAX_LINE + 4, "\r\n\r\n", 5);
    T_EQ(scan_sliced(line, strlen(line), 1000).consumed, -1);
    free(line);

    /* Once done it stays done; once failed it stays failed. */
    struct rp_chunked c = {0};
    bool done = false;
    T_EQ(rp_chunked_scan(&c, exact("0\r\n\r\nxyz", 8), 8, &done), 5);
    T_OK(done);
    done = false;
    T_EQ(rp_chunked_scan(&c, held + 5, 3, &done), 0);
    T_OK(done);
    struct rp_chunked e = {0};
    T_EQ(rp_chunked_scan(&e, exact("z", 1), 1, &done), -1);
    T_EQ(rp_chunked_scan(&e, exact("0\r\n\r\n", 5), 5, &done), -1);
    /* An empty slice is fine anywhere. */
    struct rp_chunked z = {0};
    T_EQ(rp_chunked_scan(&z, exact("", 0), 0, &done), 0);
    T_OK(!done);
    /* A huge chunk is skipped without reading its bytes. */
    struct rp_chunked g = {0};
    T_EQ(rp_chunked_scan(&g, exact("ffffffff\r\n", 10), 10, &done), 10);
    T_OK(g.remaining == 0xffffffffu);

    release();
}

/* rp_host_key: the host routes match, shared by the proxy, rpx test and
 * rpx explain. */
T_SUITE(host_key)
{
    char out[16];
    T_EQ(rp_host_key("Example.COM:8080", 16, out, sizeof out), 11);
    T_SLICE(out, 11, "example.com");
    T_EQ(rp_host_key("[::1]:8080", 10, out, sizeof out), 5);
    T_SLICE(out, 5, "[::1]");
    T_EQ(rp_host_key("[::1]", 5, out, sizeof out), 5);
    T_SLICE(out, 5, "[::1]");
    T_EQ(rp_host_key("[FE80::A]", 9, out, sizeof out), 9);
    T_SLICE(out, 9, "[fe80::a]");
    T_EQ(rp_host_key("", 0, out, sizeof out), 0);
    T_EQ(rp_host_key("a.b", 3, out, sizeof out), 3);
    T_EQ(rp_host_key("0123456789abcdef", 16, out, sizeof out), -1);
    T_EQ(rp_host_key("0123456789abcde:1", 17, out, sizeof out), 15);
}

T_SUITE(host_key_dot)
{
    char out[32];
    T_EQ(rp_host_key("Example.COM.:80", 15, out, sizeof out), 11);
    T_SLICE(out, 11, "example.com");
    T_EQ(rp_host_key("example.com.", 12, out, sizeof out), 11);
    T_EQ(rp_host_key(".", 1, out, sizeof out), 1); /* not a name; left as sent */
}

/* rp_http1_name_is compares eight bytes at a time: every byte value, at
 * every position of a name long enough for both paths, against a plain
 * case-insensitive reading. */
T_SUITE(http1_name_is_bytes)
{
    const char *lit = "content-length"; /* 14: one word of 8, then 6 bytes */
    bool all = true;
    for (size_t pos = 0; pos < 14; pos++)
        for (int b = 0; b < 256; b++) {
            char name[14];
            memcpy(name, "Content-Length", 14);
            name[pos] = (char)b;
            struct rp_http1_header h = {.name = name, .name_len = 14};
            unsigned char low = (unsigned char)(b >= 'A' && b <= 'Z' ? b + 32 : b);
            bool want = low == (unsigned char)lit[pos];
            all &= rp_http1_name_is(&h, lit, 14) == want;
        }
    T_OK(all);
}
