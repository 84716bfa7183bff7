/* chunked.c: the chunked transfer-coding scanner (RFC 9112 7.1).
 *
 * A proxy relays a chunked body unchanged but must know where it ends, so
 * this only reads the framing: chunk sizes, extensions, CRLFs and trailer
 * lines. It is a byte state machine rather than a re2c lexer because its
 * input arrives in arbitrary slices and it must stop anywhere, even between
 * the CR and LF of a line; chunk data is skipped in bulk without being read.
 *
 * Every framing byte is checked strictly: a size the server behind us reads
 * differently from us would let a client smuggle a request inside a body.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "rp/http1.h"

/* Where the scanner is. The zero value is the start of a chunk-size line, so
 * a zero-initialised struct rp_chunked is ready to use. */
enum {
    CH_SIZE_FIRST = 0, /* expecting the first hex digit of a chunk size */
    CH_SIZE,           /* in the hex digits */
    CH_SIZE_WS,        /* BWS after the size: only ';' may follow */
    CH_EXT,            /* in chunk extensions, up to the CR */
    CH_LINE_LF,        /* CR of a size or trailer line read, LF must follow */
    CH_DATA,           /* `remaining` bytes of chunk data to skip */
    CH_DATA_CR,        /* the CRLF that must end chunk data */
    CH_DATA_LF,
    CH_TRAILER_START, /* start of a trailer line, or the CR of the last line */
    CH_TRAILER_NAME,
    CH_TRAILER_VALUE,
    CH_END_LF, /* the LF of the empty line that ends the body */
    CH_DONE,
    CH_ERROR,
};

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* RFC 9110 5.6.2 tchar, for trailer field names. */
static bool is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Fields a recipient must find in the header section, so a trailer copy is
 * either ignored or, worse, read by a next hop as if it were there. */
static bool trailer_forbidden(const char *name, size_t len)
{
    static const char *const names[] = {
        /* framing and routing */
        "content-length", "transfer-encoding", "trailer", "host",
        /* hop-by-hop */
        "connection", "keep-alive", "proxy-connection", "te", "upgrade",
        /* authentication and state */
        "authorization", "proxy-authorization", "www-authenticate", "proxy-authenticate",
        "cookie", "set-cookie",
        /* request modifiers */
        "expect", "max-forwards", "range", "if-match", "if-none-match", "if-modified-since",
        "if-unmodified-since", "if-range",
        /* response controls */
        "cache-control", "expires", "age", "pragma", "vary", "location", "retry-after",
        /* content format */
        "content-type", "content-encoding", "content-range", "content-language",
        "content-location"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i]) == len && strncasecmp(names[i], name, len) == 0)
            return true;
    return false;
}

size_t rp_trailer_filter(char *p, size_t n)
{
    size_t in = 0, out = 0;
    while (in < n) {
        const char *line = p + in;
        const char *crlf = memchr(line, '\r', n - in);
        size_t line_len = crlf ? (size_t)(crlf - line) + 2 : n - in;
        if (line_len > n - in)
            line_len = n - in;
        const char *colon = memchr(line, ':', line_len);
        bool keep = !colon || !trailer_forbidden(line, (size_t)(colon - line));
        if (keep) {
            memmove(p + out, line, line_len);
            out += line_len;
        }
        in += line_len;
    }
    return out;
}

/* The scanner, and the decoder when `out` is set: chunk data is then also
 * copied to out[*out_len...]. Inlined into both, so the relay's scan pays
 * nothing for the decoder. */
static inline ssize_t chunked_run(struct rp_chunked *c, const char *buf, size_t len, bool *done,
                                  char *out, size_t *out_len)
{
    const unsigned char *p = (const unsigned char *)buf;
    const unsigned char *end = p + len;

    *done = false;
    if (c->state == CH_DONE) {
        *done = true;
        return 0;
    }
    if (c->state == CH_ERROR)
        return -1;

    while (p < end) {
        if (c->state == CH_DATA) {
            size_t n = (size_t)(end - p);
            if (n > c->remaining)
                n = (size_t)c->remaining;
            if (out) {
                memmove(out + *out_len, p, n);
                *out_len += n;
            }
            p += n;
            c->remaining -= n;
            if (c->remaining == 0)
                c->state = CH_DATA_CR;
            continue;
        }

        unsigned char ch = *p++;
        int d;

        /* Size and trailer lines are bounded; CR and LF are not counted. */
        if ((c->state <= CH_EXT ||
             (c->state >= CH_TRAILER_START && c->state <= CH_TRAILER_VALUE)) &&
            ch != '\r' && ++c->line_len > RP_CHUNKED_MAX_LINE)
            goto fail;

        switch (c->state) {
        case CH_SIZE_FIRST:
        case CH_SIZE:
            d = hex_value(ch);
            if (d >= 0) {
                /* Refuse sizes from 2^63 up: they overflow a signed 64-bit
                 * size in many servers, which would then disagree with us. */
                if (c->remaining >> 59)
                    goto fail;
                c->remaining = c->remaining << 4 | (uint64_t)d;
                c->state = CH_SIZE;
            } else if (c->state == CH_SIZE_FIRST) {
                goto fail;
            } else if (ch == '\r') {
                c->state = CH_LINE_LF;
            } else if (ch == ';') {
                c->state = CH_EXT;
            } else if (ch == ' ' || ch == '\t') {
                c->state = CH_SIZE_WS;
            } else {
                goto fail;
            }
            break;
        case CH_SIZE_WS:
            if (ch == ';')
                c->state = CH_EXT;
            else if (ch != ' ' && ch != '\t')
                goto fail;
            break;
        case CH_EXT:
            /* Extensions are ignored, so their syntax is read loosely; only
             * bytes that could end or split the line are refused. */
            if (ch == '\r')
                c->state = CH_LINE_LF;
            else if (ch != '\t' && (ch < 0x20 || ch > 0x7e))
                goto fail;
            break;
        case CH_LINE_LF:
            if (ch != '\n')
                goto fail;
            c->line_len = 0;
            if (c->in_trailer) {
                c->state = CH_TRAILER_START;
            } else if (c->remaining == 0) {
                /* last-chunk: the trailer section follows. */
                c->in_trailer = 1;
                c->trailer_at = (uint32_t)(p - (const unsigned char *)buf);
                c->state = CH_TRAILER_START;
            } else {
                c->state = CH_DATA;
            }
            break;
        case CH_DATA_CR:
            if (ch != '\r')
                goto fail;
            c->state = CH_DATA_LF;
            break;
        case CH_DATA_LF:
            if (ch != '\n')
                goto fail;
            c->line_len = 0;
            c->state = CH_SIZE_FIRST;
            break;
        case CH_TRAILER_START:
            /* A line starting with white space would be obs-fold. */
            if (ch == '\r')
                c->state = CH_END_LF;
            else if (is_tchar(ch))
                c->state = CH_TRAILER_NAME;
            else
                goto fail;
            break;
        case CH_TRAILER_NAME:
            if (ch == ':')
                c->state = CH_TRAILER_VALUE;
            else if (!is_tchar(ch))
                goto fail;
            break;
        case CH_TRAILER_VALUE:
            if (ch == '\r')
                c->state = CH_LINE_LF;
            else if (ch != '\t' && (ch < 0x20 || ch == 0x7f))
                goto fail;
            break;
        case CH_END_LF:
            if (ch != '\n')
                goto fail;
            c->state = CH_DONE;
            *done = true;
            return (ssize_t)(p - (const unsigned char *)buf);
        default:
            goto fail;
        }
    }
    return (ssize_t)len;

fail:
    c->state = CH_ERROR;
    return -1;
}

ssize_t rp_chunked_scan(struct rp_chunked *c, const char *buf, size_t len, bool *done)
{
    return chunked_run(c, buf, len, done, NULL, NULL);
}

ssize_t rp_chunked_decode(struct rp_chunked *c, char *buf, size_t len, size_t *data_len,
                          bool *done)
{
    /* Data never moves forward: what is written lags what is read by the
     * framing bytes read so far. */
    *data_len = 0;
    return chunked_run(c, buf, len, done, buf, data_len);
}
