/* rp/http1.h: strict HTTP/1.1 message-head parsing (RFC 9110, RFC 9112) and
 * the chunked transfer-coding scanner.
 *
 * Parsing is zero-copy and resumable by re-parsing: the caller hands the whole
 * bytes received so far; the parser either finds a complete head and returns
 * its length, or says it needs more. Parsed fields are slices into the
 * caller's buffer and stay valid until the caller moves or reuses the bytes.
 *
 * Strictness is deliberate, because a proxy that reads a message differently
 * from the server behind it can be used to smuggle requests. Anything that is
 * ambiguous is an error, never guessed at.
 */
#ifndef RP_HTTP1_H
#define RP_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#define RP_HTTP1_MAX_HEADERS 100

/* Return values of the head parsers other than a length (> 0). Errors are the
 * negated HTTP status a server should answer with. */
#define RP_HTTP1_INCOMPLETE (-1)
#define RP_HTTP1_E400 (-400) /* malformed or ambiguous */
#define RP_HTTP1_E414 (-414) /* request target longer than limits.max_uri */
#define RP_HTTP1_E431 (-431) /* head longer than max_head or too many fields */
#define RP_HTTP1_E501 (-501) /* a transfer coding other than chunked */
#define RP_HTTP1_E505 (-505) /* an HTTP version other than 1.0 or 1.1 */
#define RP_HTTP1_E502 (-502) /* (responses) malformed response from a server */

struct rp_http1_limits {
    uint32_t max_uri;     /* longest request target accepted */
    uint32_t max_head;    /* longest head (start line + fields + CRLFs) */
    uint32_t max_headers; /* most header fields, <= RP_HTTP1_MAX_HEADERS */
};

struct rp_http1_header {
    const char *name; /* as received; compare case-insensitively */
    const char *value; /* leading and trailing whitespace removed */
    uint32_t name_len;
    uint32_t value_len;
};

/* How the body that follows a head is delimited. */
enum rp_http1_body {
    RP_HTTP1_BODY_NONE = 0,   /* no body (length 0, HEAD, 1xx, 204, 304) */
    RP_HTTP1_BODY_LENGTH = 1, /* exactly content_length bytes */
    RP_HTTP1_BODY_CHUNKED = 2,
    RP_HTTP1_BODY_CLOSE = 3, /* responses only: until the server closes */
};

/* Flags found while reading the fields (RP_HTTP1_F_*). */
#define RP_HTTP1_F_CONN_CLOSE (1u << 0)      /* Connection: close */
#define RP_HTTP1_F_CONN_KEEPALIVE (1u << 1)  /* Connection: keep-alive */
#define RP_HTTP1_F_CONN_UPGRADE (1u << 2)    /* Connection: upgrade */
#define RP_HTTP1_F_EXPECT_CONTINUE (1u << 3) /* Expect: 100-continue */
#define RP_HTTP1_F_HAS_HOST (1u << 4)
#define RP_HTTP1_F_HAS_UPGRADE (1u << 5) /* an Upgrade field is present */
#define RP_HTTP1_F_HAS_DATE (1u << 6)    /* a Date field is present */

struct rp_http1_request {
    const char *method;
    const char *target; /* as received: origin form or absolute form */
    const char *path;   /* the path, without the query; for absolute form the
                           path part of the URI ("/" when it is empty) */
    const char *query;  /* after '?', or NULL */
    const char *host;   /* Host field value, or the authority of an
                           absolute-form target; NULL if neither */
    uint32_t method_len, target_len, path_len, query_len, host_len;
    uint8_t minor_version; /* HTTP/1.<minor_version>: 0 or 1 */
    uint32_t flags;        /* RP_HTTP1_F_* */
    enum rp_http1_body body; /* NONE, LENGTH or CHUNKED */
    uint64_t content_length; /* when body == LENGTH */
    uint32_t n_headers;
    struct rp_http1_header headers[RP_HTTP1_MAX_HEADERS];
};

struct rp_http1_response {
    const char *reason;
    uint32_t reason_len;
    uint16_t status;
    uint8_t minor_version;
    uint32_t flags;
    enum rp_http1_body body; /* for a response to HEAD, use rp_http1_parse_response's flag */
    uint64_t content_length;
    uint32_t n_headers;
    struct rp_http1_header headers[RP_HTTP1_MAX_HEADERS];
};

/* Parses the request head at the start of buf[0..len). Returns the head's
 * length in bytes (including the final CRLF CRLF) when complete and valid,
 * RP_HTTP1_INCOMPLETE when more bytes are needed and none of the limits is
 * exceeded yet, or an RP_HTTP1_E* error. On success `req` describes the head
 * and its body framing: Content-Length and Transfer-Encoding are checked
 * (both present, several differing lengths, a malformed length, or a coding
 * other than a final "chunked" are errors), Host is required for HTTP/1.1
 * and may appear once. */
int rp_http1_parse_request(const char *buf, size_t len, const struct rp_http1_limits *limits,
                           struct rp_http1_request *req);

/* Parses a response head from a server. `head_request` says the request was
 * HEAD, so the response has no body whatever its fields say. Returns as
 * rp_http1_parse_request, with RP_HTTP1_E502 for anything malformed. */
int rp_http1_parse_response(const char *buf, size_t len, const struct rp_http1_limits *limits,
                            bool head_request, struct rp_http1_response *resp);

/* Case-insensitive comparison of a header name with a lower-case literal. */
bool rp_http1_name_is(const struct rp_http1_header *h, const char *lower, size_t lower_len);

/* True for the hop-by-hop fields a proxy must not forward (RFC 9110 7.6.1):
 * Connection, Keep-Alive, Proxy-Connection, TE, Trailer, Transfer-Encoding,
 * Upgrade, Proxy-Authenticate, Proxy-Authorization. */
bool rp_http1_is_hop_by_hop(const char *name, size_t len);

/* The host of a Host field or a URL's authority as routes match it: without
 * its port, in lower case, without the trailing dot of a fully qualified
 * name ("Example.COM.:80" gives "example.com", as nginx matches it); an
 * IPv6 literal keeps its brackets ("[::1]:8080" gives "[::1]"). Writes it
 * NUL-terminated to out and returns its length,
 * or -1 when it does not fit in out_size. The one definition the proxy,
 * `rpx test` and `rpx explain` share, so a policy's tests see the host
 * production sees. */
static inline int rp_host_key(const char *host, size_t len, char *out, size_t out_size)
{
    const char *end = host + len;
    const char *from = len && host[0] == '[' ? memchr(host, ']', len) : NULL;
    if (!from)
        from = host;
    const char *colon = memchr(from, ':', (size_t)(end - from));
    size_t n = (size_t)((colon ? colon : end) - host);
    if (n > 1 && host[n - 1] == '.')
        n--;
    if (n >= out_size)
        return -1;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)(host[i] >= 'A' && host[i] <= 'Z' ? host[i] + 32 : host[i]);
    out[n] = '\0';
    return (int)n;
}

/* Incremental scanner for a chunked body, which a proxy relays unchanged but
 * must read to know where the message ends. Zero-initialise before use. */
struct rp_chunked {
    uint8_t state;
    uint8_t in_trailer;
    uint32_t line_len;  /* bytes in the current size or trailer line */
    uint64_t remaining; /* data bytes left in the current chunk */
    /* Set by the call in which the trailer section starts: the offset in
     * that call's buf of its first byte (after the last-chunk line). */
    uint32_t trailer_at;
};

#define RP_CHUNKED_MAX_LINE 4096 /* longest chunk-size line or trailer line */

/* Reads up to len bytes of chunked body. Returns how many of them belong to
 * the body (fewer than len only when the body ended inside buf), or -1 when
 * the coding is malformed (bad hex, size overflow, missing CRLF, a line over
 * RP_CHUNKED_MAX_LINE, bad trailer). Sets *done once the last chunk and the
 * trailer section have been read. */
ssize_t rp_chunked_scan(struct rp_chunked *c, const char *buf, size_t len, bool *done);

/* rp_chunked_scan that also decodes: the chunk data among the bytes it
 * reads is moved, in place, to buf[0..*data_len); the framing, extensions
 * and trailer section are dropped. For a body that is transformed (body
 * filters) rather than relayed as it was framed. */
ssize_t rp_chunked_decode(struct rp_chunked *c, char *buf, size_t len, size_t *data_len,
                          bool *done);

/* Removes from a complete trailer section p[0..n) (field lines, each ending
 * in CRLF, then the final CRLF, as rp_chunked_scan accepted it) the fields
 * that may not be trailers (RFC 9110 6.5.1: framing, routing, hop-by-hop,
 * authentication, request modifiers, response controls, content format),
 * in place. Returns the new length. */
size_t rp_trailer_filter(char *p, size_t n);

/* True for a path with a "." or ".." segment, written plainly or with %2e.
 * Clients remove such segments (RFC 3986 5.2.4) before sending; a server
 * that resolves "/api/../admin" to "/admin" would serve what a rule on
 * "/admin" was meant to guard, so the proxy refuses them (400), as nginx
 * does paths that climb above the root. */
static inline bool rp_path_has_dot_segment(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (p[i++] != '/')
            continue;
        size_t dots = 0, j = i;
        for (;;) {
            if (j < n && p[j] == '.')
                j++;
            else if (j + 2 < n && p[j] == '%' && p[j + 1] == '2' && (p[j + 2] | 0x20) == 'e')
                j += 3;
            else
                break;
            dots++;
        }
        if ((dots == 1 || dots == 2) && (j == n || p[j] == '/'))
            return true;
    }
    return false;
}

/* One pass over a path as received: 1 when rp_path_normalize could change
 * it (an escape or a "//"), -1 for a dot segment (refused), 0 when it is
 * used as it is (most paths). */
static inline int rp_path_check(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char ch = p[i];
        if (ch == '%')
            return 1;
        if (ch != '/' || i + 1 == n)
            continue;
        char next = p[i + 1];
        if (next == '/')
            return 1;
        if (next == '.' && (i + 2 == n || p[i + 2] == '/' ||
                            (p[i + 2] == '.' && (i + 3 == n || p[i + 3] == '/'))))
            return -1;
    }
    return 0;
}

/* Whether rp_path_normalize could change the path (rp_path_check's 1): it
 * has an escape or a "//". */
static inline bool rp_path_needs_normalizing(const char *p, size_t n)
{
    return rp_path_check(p, n) > 0;
}

static inline int rp_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The path as routes and acls see it and as the server gets it, one
 * meaning per path (RFC 3986 6.2.2): escapes of unreserved characters
 * decoded ("%61dmin" is "admin", "%2E" is "."), other escapes kept with
 * upper-case hex, runs of '/' merged ("/a//b" is "/a/b"). Refused (-1, the
 * proxy answers 400): an encoded '/', '\' or NUL (a server decoding them
 * would see segments the routes did not), a malformed escape, and a dot
 * segment (rp_path_has_dot_segment). Case is kept: "/ADMIN" is another
 * path. Writes at most n bytes to out and returns the length. The one
 * definition the proxy, `rpx test` and `rpx explain` share. */
static inline int rp_path_normalize(const char *p, size_t n, char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        char ch = p[i];
        if (ch == '%') {
            int hi = i + 2 < n ? rp_hex_digit(p[i + 1]) : -1;
            int lo = i + 2 < n ? rp_hex_digit(p[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return -1;
            unsigned char v = (unsigned char)(hi << 4 | lo);
            if (v == '/' || v == '\\' || v == 0)
                return -1;
            bool unreserved = (v >= 'a' && v <= 'z') || (v >= 'A' && v <= 'Z') ||
                              (v >= '0' && v <= '9') || v == '-' || v == '.' || v == '_' ||
                              v == '~';
            if (unreserved) {
                out[o++] = (char)v;
            } else {
                out[o++] = '%';
                out[o++] = hex[hi];
                out[o++] = hex[lo];
            }
            i += 3;
            continue;
        }
        i++;
        if (ch == '/' && o > 0 && out[o - 1] == '/')
            continue;
        out[o++] = ch;
    }
    if (rp_path_has_dot_segment(out, o))
        return -1;
    return (int)o;
}

#endif
