/*
 * origin: the test and demo origin server of rpx.
 *
 * It is kept independent of the proxy on purpose: its own small, strict
 * HTTP/1.1 request parser, so a parsing bug in the proxy cannot hide behind
 * the same bug here. One detached thread per connection with blocking I/O;
 * memory per connection is constant whatever the size of a body.
 *
 *   cc -std=c11 -D_GNU_SOURCE -O2 -o origin tests/origin/origin.c -lpthread -lz
 *
 * Commands, endpoints and the log format are described in usage() below and
 * in tests/origin/README.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define RBUF_SIZE (32 * 1024) /* read buffer: request heads, body slices */
#define WBUF_SIZE (64 * 1024) /* write buffer: response heads and body blocks */
#define HEAD_MAX (16 * 1024)  /* a longer request head is answered 431 */
#define CHUNK_LINE_MAX 4096   /* chunk-size line or trailer field line */
#define TRAILER_MAX (16 * 1024)
#define NAME_MAX_LEN 64
#define LOGBUF_SIZE (NAME_MAX_LEN + 6 * HEAD_MAX + 64)
#define IDLE_TIMEOUT_S 60 /* per blocking read or write */
#define LINGER_MS 2000    /* how long a closing connection drains the client */
#define LINGER_BYTES (4u << 20)
#define SLOW_MAX_MS 600000
#define THREAD_STACK (512 * 1024)

static const char *g_name = "origin";
static int g_log_fd = -1;
static int g_raw_fd = -1;       /* --raw-log: every byte read, per connection */
static unsigned g_conn_seq;     /* connection numbers for the raw log */
static pthread_mutex_t g_log_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile sig_atomic_t g_stop;

/* ---- small helpers ------------------------------------------------------ */

/* Byte i of the test pattern: cheap and deterministic; the i >> 13 term makes
 * every 8 KB block differ, so a repeated or misplaced block changes the CRC. */
static void pattern_fill(unsigned char *dst, uint64_t off, size_t n)
{
    while (n > 0) {
        /* Within an aligned 8 KB block i >> 13 is constant, so the bytes
         * are an arithmetic progression mod 256: a loop compilers vectorize. */
        size_t seg = 8192 - (size_t)(off & 8191);
        unsigned char base = (unsigned char)(off * 7 + (off >> 13));
        if (seg > n)
            seg = n;
        for (size_t j = 0; j < seg; j++)
            dst[j] = (unsigned char)(base + 7 * j);
        dst += seg;
        off += seg;
        n -= seg;
    }
}

/* Parses DIGITS[k|m|g] (1024-based, either case) from s[0..n). Returns 0 and
 * stores the value in *out, or -1 on an empty string, a stray byte or overflow. */
static int parse_size(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0, mult = 1;

    if (n == 0)
        return -1;
    switch (s[n - 1]) {
    case 'k':
    case 'K':
        mult = 1ull << 10;
        n--;
        break;
    case 'm':
    case 'M':
        mult = 1ull << 20;
        n--;
        break;
    case 'g':
    case 'G':
        mult = 1ull << 30;
        n--;
        break;
    default:
        break;
    }
    if (n == 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (v > UINT64_MAX / mult)
        return -1;
    *out = v * mult;
    return 0;
}

/* Writes all of buf to fd, retrying on EINTR and short writes. Returns 0, or
 * -1 when the peer is gone, the write timed out or fd is broken. */
static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static bool is_tchar(unsigned char ch)
{
    if ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'))
        return true;
    return ch != 0 && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

static bool is_ows(char ch)
{
    return ch == ' ' || ch == '\t';
}

/* Case-insensitive comparison of s[0..n) with the NUL-terminated literal lit. */
static bool ieq(const char *s, size_t n, const char *lit)
{
    if (strlen(lit) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char a = (unsigned char)s[i], b = (unsigned char)lit[i];
        if (a >= 'A' && a <= 'Z')
            a = (unsigned char)(a + 32);
        if (b >= 'A' && b <= 'Z')
            b = (unsigned char)(b + 32);
        if (a != b)
            return false;
    }
    return true;
}

/* Sleeps ms milliseconds, resuming after signals. */
static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- connection state --------------------------------------------------- */

enum body_state {
    BS_DONE,       /* no body, or all of it read */
    BS_DATA,       /* conn.remaining bytes of Content-Length body or of a chunk */
    BS_CHUNK_SIZE, /* expecting a chunk-size line */
    BS_CHUNK_END,  /* expecting the CRLF after chunk data */
    BS_TRAILER,    /* expecting trailer fields or the final empty line */
};

/* What a handler wants done with the connection once it has answered. */
enum after {
    AFTER_KEEP,  /* read the next request if the request allows keep-alive */
    AFTER_CLOSE, /* flush, half-close, drain the client, close */
    AFTER_DROP,  /* close at once: nothing more can or should be sent */
};

struct req {
    const char *method; /* slices of conn.head, valid for the whole request */
    size_t method_len;
    const char *target;
    size_t target_len;
    const char *path; /* target without scheme://authority and ?query */
    size_t path_len;
    size_t head_len; /* bytes of conn.head in use, final empty line included */
    int minor;       /* HTTP/1.minor */
    bool keep_alive;
    bool is_head;
    bool expect_continue;
    bool chunked;
    uint64_t content_length;
    uint64_t body_len; /* decoded body bytes read */
    uLong body_crc;
};

struct conn {
    int fd;
    unsigned id;       /* connection number, for the raw log */
    bool dead;         /* a write failed: stop producing output */
    size_t rpos, rlen; /* unconsumed input is rbuf[rpos..rlen) */
    size_t wlen;       /* pending output is wbuf[0..wlen) */
    enum body_state bstate;
    uint64_t remaining; /* bytes left in the current body or chunk, in BS_DATA */
    size_t trailer_bytes;
    const char *err; /* why the request is rejected; static string */
    struct req req;
    char *logbuf; /* LOGBUF_SIZE bytes when --log is given, else NULL */
    unsigned char rbuf[RBUF_SIZE];
    unsigned char wbuf[WBUF_SIZE];
    char head[HEAD_MAX]; /* copy of the current request head */
};

/* ---- output ------------------------------------------------------------- */

/* Sends the pending output. After a failed write the connection is marked
 * dead and every later output call does nothing. */
static void out_flush(struct conn *c)
{
    if (c->wlen > 0 && !c->dead && write_all(c->fd, c->wbuf, c->wlen) < 0)
        c->dead = true;
    c->wlen = 0;
}

static void out_put(struct conn *c, const void *p, size_t n)
{
    if (c->dead)
        return;
    if (c->wlen + n > WBUF_SIZE) {
        out_flush(c);
        if (n >= WBUF_SIZE) {
            if (!c->dead && write_all(c->fd, p, n) < 0)
                c->dead = true;
            return;
        }
    }
    memcpy(c->wbuf + c->wlen, p, n);
    c->wlen += n;
}

static void out_str(struct conn *c, const char *s)
{
    out_put(c, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void out_fmt(struct conn *c, const char *fmt, ...)
{
    for (int tries = 0; tries < 2 && !c->dead; tries++) {
        size_t room = WBUF_SIZE - c->wlen;
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf((char *)c->wbuf + c->wlen, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
            c->dead = true;
            return;
        }
        if ((size_t)n < room) {
            c->wlen += (size_t)n;
            return;
        }
        out_flush(c);
    }
    c->dead = true; /* longer than the whole buffer: a bug, give up on the connection */
}

/* Appends n bytes of the pattern starting at pattern offset off, generating
 * them straight into the write buffer. */
static void out_pattern(struct conn *c, uint64_t off, uint64_t n)
{
    while (n > 0 && !c->dead) {
        if (c->wlen == WBUF_SIZE)
            out_flush(c);
        size_t k = WBUF_SIZE - c->wlen;
        if (k > n)
            k = (size_t)n;
        pattern_fill(c->wbuf + c->wlen, off, k);
        c->wlen += k;
        off += k;
        n -= k;
    }
}

/* ---- input -------------------------------------------------------------- */

static char *escape(char *o, const void *src, size_t n);

/* With --raw-log, appends "NAME conn=ID LEN ESCAPED\n" for bytes just read,
 * in one write, so tests can prove that no byte at all (not even one inside
 * a body) reached the server. Test tooling: a malloc per read is fine. */
static void raw_log(const struct conn *c, const void *p, size_t n)
{
    if (g_raw_fd < 0 || n == 0)
        return;
    char *buf = malloc(4 * n + NAME_MAX_LEN + 48);
    if (buf == NULL)
        return;
    char *o = buf + sprintf(buf, "%s conn=%u %zu ", g_name, c->id, n);
    o = escape(o, p, n);
    *o++ = '\n';
    pthread_mutex_lock(&g_log_lock);
    (void)write_all(g_raw_fd, buf, (size_t)(o - buf));
    pthread_mutex_unlock(&g_log_lock);
    free(buf);
}

/* Reads more input into rbuf, first sending pending output so that a client
 * waiting for a response never deadlocks against us, and so that responses to
 * pipelined requests already buffered leave in one write. Returns the number
 * of bytes read, 0 on EOF, -1 on error or timeout, -2 if rbuf is full. */
static ssize_t conn_fill(struct conn *c)
{
    out_flush(c);
    if (c->rpos == c->rlen) {
        c->rpos = c->rlen = 0;
    } else if (c->rpos > 0) {
        memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
        c->rlen -= c->rpos;
        c->rpos = 0;
    }
    if (c->rlen == RBUF_SIZE)
        return -2;
    for (;;) {
        ssize_t n = read(c->fd, c->rbuf + c->rlen, RBUF_SIZE - c->rlen);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        raw_log(c, c->rbuf + c->rlen, (size_t)n);
        c->rlen += (size_t)n;
        return n;
    }
}

enum { HEAD_CLOSED = 0, HEAD_TOO_LARGE = -1, HEAD_TRUNCATED = -2 };

/* Waits until rbuf holds a complete request head at rpos, first skipping the
 * empty lines a client may send between requests. Returns the head length
 * (final empty line included), HEAD_CLOSED when the client went away between
 * requests, HEAD_TOO_LARGE, or HEAD_TRUNCATED when it went away mid-head. */
static long read_head(struct conn *c)
{
    size_t line = 0; /* offset from rpos of the first line not yet seen whole */

    for (;;) {
        while (line == 0 && c->rlen - c->rpos >= 2 && c->rbuf[c->rpos] == '\r' &&
               c->rbuf[c->rpos + 1] == '\n')
            c->rpos += 2;
        const unsigned char *b = c->rbuf + c->rpos;
        size_t avail = c->rlen - c->rpos;
        const unsigned char *lf;
        while ((lf = memchr(b + line, '\n', avail - line)) != NULL) {
            size_t len = (size_t)(lf - (b + line));
            size_t end = (size_t)(lf - b) + 1;
            if (len == 0 || (len == 1 && b[line] == '\r'))
                return end > HEAD_MAX ? HEAD_TOO_LARGE : (long)end;
            line = end;
        }
        if (avail >= HEAD_MAX)
            return HEAD_TOO_LARGE;
        ssize_t n = conn_fill(c);
        if (n <= 0)
            return c->rlen > c->rpos && n != -1 ? HEAD_TRUNCATED : HEAD_CLOSED;
    }
}

/* Takes one CRLF-terminated line of a chunked body from rbuf. On success
 * returns 0 with *s and *len the line without its CRLF, valid until the next
 * read; returns -1 with c->err set otherwise. */
static int get_line(struct conn *c, const char **s, size_t *len)
{
    for (;;) {
        size_t avail = c->rlen - c->rpos;
        const unsigned char *b = c->rbuf + c->rpos;
        const unsigned char *lf = memchr(b, '\n', avail);
        if (lf != NULL) {
            size_t l = (size_t)(lf - b);
            if (l == 0 || lf[-1] != '\r') {
                c->err = "bare LF in chunked body";
                return -1;
            }
            *s = (const char *)b;
            *len = l - 1;
            c->rpos += l + 1;
            return 0;
        }
        if (avail > CHUNK_LINE_MAX) {
            c->err = "chunk line too long";
            return -1;
        }
        if (conn_fill(c) <= 0) {
            c->err = "chunked body truncated";
            return -1;
        }
    }
}

/* Checks a header or trailer field line (no CRLF): token ":" OWS value OWS,
 * the value free of control characters other than HTAB. Returns the length of
 * the name, or 0 if the line is invalid. */
static size_t check_field(const char *s, size_t len)
{
    size_t i = 0;

    while (i < len && is_tchar((unsigned char)s[i]))
        i++;
    if (i == 0 || i == len || s[i] != ':')
        return 0;
    for (size_t j = i + 1; j < len; j++) {
        unsigned char ch = (unsigned char)s[j];
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
            return 0;
    }
    return i;
}

/* Parses a chunk-size line: 1*HEXDIG, optional BWS and chunk extensions.
 * Returns 0 and the size, or -1 with c->err set. */
static int parse_chunk_size(struct conn *c, const char *s, size_t len, uint64_t *size)
{
    uint64_t v = 0;
    size_t i = 0;

    for (; i < len; i++) {
        char ch = s[i];
        unsigned d;
        if (ch >= '0' && ch <= '9')
            d = (unsigned)(ch - '0');
        else if (ch >= 'a' && ch <= 'f')
            d = (unsigned)(ch - 'a' + 10);
        else if (ch >= 'A' && ch <= 'F')
            d = (unsigned)(ch - 'A' + 10);
        else
            break;
        if (v >> 59) {
            c->err = "chunk size overflows";
            return -1;
        }
        v = v * 16 + d;
    }
    if (i == 0) {
        c->err = "bad chunk size";
        return -1;
    }
    while (i < len && is_ows(s[i]))
        i++;
    if (i < len && s[i] != ';') {
        c->err = "bad chunk size";
        return -1;
    }
    for (; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
            c->err = "bad chunk extension";
            return -1;
        }
    }
    *size = v;
    return 0;
}

/* Returns the next slice of the decoded request body in *p and *n, valid
 * until the next call: 1 with a slice, 0 at the end of the body, -1 when the
 * body is malformed or truncated (c->err says which). */
static int body_next(struct conn *c, const unsigned char **p, size_t *n)
{
    const char *s;
    size_t len;

    for (;;) {
        switch (c->bstate) {
        case BS_DONE:
            return 0;
        case BS_DATA: {
            if (c->remaining == 0) {
                c->bstate = c->req.chunked ? BS_CHUNK_END : BS_DONE;
                continue;
            }
            size_t avail = c->rlen - c->rpos;
            if (avail == 0) {
                if (conn_fill(c) <= 0) {
                    c->err = "body truncated";
                    return -1;
                }
                continue;
            }
            size_t k = avail < c->remaining ? avail : (size_t)c->remaining;
            *p = c->rbuf + c->rpos;
            *n = k;
            c->rpos += k;
            c->remaining -= k;
            return 1;
        }
        case BS_CHUNK_SIZE: {
            uint64_t size;
            if (get_line(c, &s, &len) < 0 || parse_chunk_size(c, s, len, &size) < 0)
                return -1;
            c->remaining = size;
            c->bstate = size > 0 ? BS_DATA : BS_TRAILER;
            continue;
        }
        case BS_CHUNK_END:
            if (get_line(c, &s, &len) < 0)
                return -1;
            if (len != 0) {
                c->err = "chunk data longer than its size";
                return -1;
            }
            c->bstate = BS_CHUNK_SIZE;
            continue;
        case BS_TRAILER:
            if (get_line(c, &s, &len) < 0)
                return -1;
            if (len == 0) {
                c->bstate = BS_DONE;
                return 0;
            }
            c->trailer_bytes += len;
            if (c->trailer_bytes > TRAILER_MAX) {
                c->err = "trailer section too large";
                return -1;
            }
            if (check_field(s, len) == 0) {
                c->err = "bad trailer field";
                return -1;
            }
            continue;
        }
    }
}

/* ---- request head ------------------------------------------------------- */

/* Calls fn on each element of a comma-separated header list, trimmed of OWS.
 * Returns false as soon as fn does, or on an empty element. */
static bool for_each_token(const char *v, size_t n, bool (*fn)(void *, const char *, size_t),
                           void *arg)
{
    size_t i = 0;

    for (;;) {
        size_t start = i;
        while (i < n && v[i] != ',')
            i++;
        size_t a = start, b = i;
        while (a < b && is_ows(v[a]))
            a++;
        while (b > a && is_ows(v[b - 1]))
            b--;
        if (a == b || !fn(arg, v + a, b - a))
            return false;
        if (i == n)
            return true;
        i++;
    }
}

struct head_info {
    int te_chunked; /* how many times "chunked" was listed */
    bool te_other;  /* a transfer coding other than chunked */
    bool te_seen;
    bool conn_close;
    bool conn_keep_alive;
};

static bool te_token(void *arg, const char *t, size_t n)
{
    struct head_info *hi = arg;

    if (ieq(t, n, "chunked"))
        hi->te_chunked++;
    else
        hi->te_other = true;
    return true;
}

static bool conn_token(void *arg, const char *t, size_t n)
{
    struct head_info *hi = arg;

    if (ieq(t, n, "close"))
        hi->conn_close = true;
    else if (ieq(t, n, "keep-alive"))
        hi->conn_keep_alive = true;
    return true;
}

/* Parses the request head copied to c->head into c->req. Strict on purpose:
 * single SP in the request line, CRLF line ends, no obs-fold, no space before
 * ':', one Content-Length value, Transfer-Encoding only "chunked" and never
 * with Content-Length or HTTP/1.0, exactly one Host in HTTP/1.1. Returns NULL,
 * or why the request is malformed. */
static const char *parse_head(struct conn *c, size_t hlen)
{
    struct req *r = &c->req;
    struct head_info hi = {0};
    const char *p = c->head, *end = c->head + hlen;
    const char *eol, *le, *q;
    bool have_cl = false;
    int hosts = 0;

    eol = memchr(p, '\n', (size_t)(end - p));
    if (eol == p || eol[-1] != '\r')
        return "request line does not end in CRLF";
    le = eol - 1;
    for (q = p; q < le && is_tchar((unsigned char)*q); q++)
        ;
    if (q == p || q == le || *q != ' ')
        return "bad method";
    r->method = p;
    r->method_len = (size_t)(q - p);
    p = q + 1;
    for (q = p; q < le && (unsigned char)*q > 0x20 && (unsigned char)*q < 0x7f; q++)
        ;
    if (q == p || q == le || *q != ' ')
        return "bad request target";
    r->target = p;
    r->target_len = (size_t)(q - p);
    p = q + 1;
    if (le - p != 8 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1'))
        return "bad HTTP version";
    r->minor = p[7] - '0';

    for (p = eol + 1; p < end; p = eol + 1) {
        eol = memchr(p, '\n', (size_t)(end - p));
        if (eol == p || eol[-1] != '\r')
            return "header line does not end in CRLF";
        if (eol - p == 1)
            break;
        le = eol - 1;
        if (is_ows(*p))
            return "obsolete line folding";
        size_t nlen = check_field(p, (size_t)(le - p));
        if (nlen == 0)
            return "bad header field";
        const char *v = p + nlen + 1, *ve = le;
        while (v < ve && is_ows(*v))
            v++;
        while (ve > v && is_ows(ve[-1]))
            ve--;
        size_t vlen = (size_t)(ve - v);

        if (ieq(p, nlen, "content-length")) {
            uint64_t cl = 0;
            if (vlen == 0)
                return "bad Content-Length";
            for (size_t i = 0; i < vlen; i++) {
                if (v[i] < '0' || v[i] > '9' || cl > (UINT64_MAX - 9) / 10)
                    return "bad Content-Length";
                cl = cl * 10 + (uint64_t)(v[i] - '0');
            }
            if (have_cl && cl != r->content_length)
                return "conflicting Content-Length";
            have_cl = true;
            r->content_length = cl;
        } else if (ieq(p, nlen, "transfer-encoding")) {
            hi.te_seen = true;
            if (!for_each_token(v, vlen, te_token, &hi))
                return "bad Transfer-Encoding";
        } else if (ieq(p, nlen, "connection")) {
            if (!for_each_token(v, vlen, conn_token, &hi))
                return "bad Connection";
        } else if (ieq(p, nlen, "host")) {
            hosts++;
        } else if (ieq(p, nlen, "expect")) {
            if (ieq(v, vlen, "100-continue"))
                r->expect_continue = true;
        }
    }

    if (hi.te_seen) {
        if (r->minor == 0)
            return "Transfer-Encoding in HTTP/1.0";
        if (have_cl)
            return "both Content-Length and Transfer-Encoding";
        if (hi.te_other || hi.te_chunked != 1)
            return "unsupported Transfer-Encoding";
        r->chunked = true;
    }
    if (r->minor == 1 && hosts != 1)
        return "HTTP/1.1 request needs exactly one Host";
    if (hosts > 1)
        return "more than one Host";

    r->keep_alive = r->minor == 1 ? !hi.conn_close : hi.conn_keep_alive && !hi.conn_close;
    r->is_head = r->method_len == 4 && memcmp(r->method, "HEAD", 4) == 0;
    r->head_len = hlen;

    /* Route on the path alone: drop an absolute-form scheme://authority and the query. */
    const char *t = r->target, *te = r->target + r->target_len;
    const char *sep = memchr(t, ':', (size_t)(te - t));
    if (*t != '/' && sep != NULL && te - sep > 2 && sep[1] == '/' && sep[2] == '/') {
        t = memchr(sep + 3, '/', (size_t)(te - sep - 3));
        if (t == NULL)
            t = te;
    }
    const char *qm = memchr(t, '?', (size_t)(te - t));
    r->path = t;
    r->path_len = (size_t)((qm ? qm : te) - t);
    return NULL;
}

/* ---- log ---------------------------------------------------------------- */

static char *escape(char *o, const void *src, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = src;

    for (size_t i = 0; i < n; i++) {
        unsigned char ch = s[i];
        if (ch == '\r') {
            *o++ = '\\';
            *o++ = 'r';
        } else if (ch == '\n') {
            *o++ = '\\';
            *o++ = 'n';
        } else if (ch == '\t') {
            *o++ = '\\';
            *o++ = 't';
        } else if (ch == '\\') {
            *o++ = '\\';
            *o++ = '\\';
        } else if (ch < 0x20 || ch >= 0x7f) {
            *o++ = '\\';
            *o++ = 'x';
            *o++ = hex[ch >> 4];
            *o++ = hex[ch & 15];
        } else {
            *o++ = (char)ch;
        }
    }
    return o;
}

/* Appends "NAME METHOD TARGET body=LEN RAWHEAD\n" to the log with one write.
 * body is NULL when the body was malformed (logged as body=ERR). Method and
 * target are at most HEAD_MAX bytes together, raw is at most HEAD_MAX. */
static void log_request(struct conn *c, const char *method, size_t mlen, const char *target,
                        size_t tlen, const uint64_t *body, const void *raw, size_t rawlen)
{
    if (g_log_fd < 0 || c->logbuf == NULL)
        return;
    char *o = c->logbuf;
    o = escape(o, g_name, strlen(g_name));
    *o++ = ' ';
    o = escape(o, method, mlen);
    *o++ = ' ';
    o = escape(o, target, tlen);
    if (body != NULL)
        o += sprintf(o, " body=%llu ", (unsigned long long)*body);
    else
        o += sprintf(o, " body=ERR ");
    o = escape(o, raw, rawlen);
    *o++ = '\n';
    pthread_mutex_lock(&g_log_lock);
    (void)write_all(g_log_fd, c->logbuf, (size_t)(o - c->logbuf));
    pthread_mutex_unlock(&g_log_lock);
}

/* ---- responses ---------------------------------------------------------- */

static const char *reason(int code)
{
    static const struct {
        int code;
        const char *text;
    } reasons[] = {
        {100, "Continue"},
        {102, "Processing"},
        {103, "Early Hints"},
        {200, "OK"},
        {201, "Created"},
        {202, "Accepted"},
        {204, "No Content"},
        {206, "Partial Content"},
        {301, "Moved Permanently"},
        {302, "Found"},
        {303, "See Other"},
        {304, "Not Modified"},
        {307, "Temporary Redirect"},
        {308, "Permanent Redirect"},
        {400, "Bad Request"},
        {401, "Unauthorized"},
        {403, "Forbidden"},
        {404, "Not Found"},
        {405, "Method Not Allowed"},
        {408, "Request Timeout"},
        {413, "Content Too Large"},
        {429, "Too Many Requests"},
        {431, "Request Header Fields Too Large"},
        {500, "Internal Server Error"},
        {501, "Not Implemented"},
        {502, "Bad Gateway"},
        {503, "Service Unavailable"},
        {504, "Gateway Timeout"},
    };

    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (reasons[i].code == code)
            return reasons[i].text;
    return "Status";
}

/* Emits the status line and headers. clen < 0 means no Content-Length;
 * extra is NULL or more header lines, each ending in CRLF. */
static void resp_head(struct conn *c, int code, int64_t clen, const char *extra)
{
    const struct req *r = &c->req;
    char cl[48] = "";

    if (clen >= 0)
        snprintf(cl, sizeof cl, "Content-Length: %lld\r\n", (long long)clen);
    out_fmt(c, "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nX-Origin: %s\r\n%s%s%s\r\n", code,
            reason(code), g_name, cl, extra ? extra : "",
            !r->keep_alive  ? "Connection: close\r\n"
            : r->minor == 0 ? "Connection: keep-alive\r\n"
                            : "");
}

/* A complete response with a Content-Length body (left out for HEAD). */
static void resp_text(struct conn *c, int code, const void *body, size_t len)
{
    resp_head(c, code, (int64_t)len, NULL);
    if (!c->req.is_head)
        out_put(c, body, len);
}

/* Answers a malformed request and says the connection must close. */
static enum after resp_bad(struct conn *c, int code, const char *why)
{
    char body[160];
    int n = snprintf(body, sizeof body, "bad request: %s\n", why);

    c->req.keep_alive = false;
    c->req.is_head = false;
    resp_text(c, code, body, (size_t)n);
    return AFTER_CLOSE;
}

/* ---- endpoints ---------------------------------------------------------- */

static bool path_is(const struct req *r, const char *lit)
{
    return r->path_len == strlen(lit) && memcmp(r->path, lit, r->path_len) == 0;
}

/* If the path is prefix followed by a size, stores the size in *n and
 * returns 1; returns -1 for the prefix with a bad size, 0 otherwise. */
static int path_size(const struct req *r, const char *prefix, uint64_t *n)
{
    size_t pl = strlen(prefix);

    if (r->path_len < pl || memcmp(r->path, prefix, pl) != 0)
        return 0;
    return parse_size(r->path + pl, r->path_len - pl, n) == 0 ? 1 : -1;
}

static enum after bad_arg(struct conn *c)
{
    static const char msg[] = "bad number in path\n";

    resp_text(c, 400, msg, sizeof msg - 1);
    return AFTER_KEEP;
}

/* /chunked/N: chunks of varying size, an extension on the first, a trailer.
 * HTTP/1.0 cannot take chunked, so it gets a close-delimited body instead. */
static enum after ep_chunked(struct conn *c, uint64_t n)
{
    static const size_t sizes[] = {1000, 4096, 17, 1, 65536, 333, 8192, 2, 30000};
    uint64_t off = 0;

    if (c->req.minor == 0) {
        c->req.keep_alive = false;
        resp_head(c, 200, -1, NULL);
        if (!c->req.is_head)
            out_pattern(c, 0, n);
        return AFTER_CLOSE;
    }
    resp_head(c, 200, -1, "Transfer-Encoding: chunked\r\nTrailer: X-Origin-Trailer\r\n");
    if (c->req.is_head)
        return AFTER_KEEP;
    for (size_t i = 0; off < n && !c->dead; i++) {
        uint64_t k = sizes[i % (sizeof sizes / sizeof sizes[0])];
        if (k > n - off)
            k = n - off;
        out_fmt(c, "%llX%s\r\n", (unsigned long long)k,
                i == 0 ? ";origin-ext=\"first chunk\"" : "");
        out_pattern(c, off, k);
        out_str(c, "\r\n");
        off += k;
    }
    out_str(c, "0\r\nX-Origin-Trailer: done\r\n\r\n");
    return AFTER_KEEP;
}

static enum after ep_status(struct conn *c)
{
    const struct req *r = &c->req;
    const char *d = r->path + 8;
    size_t dl = r->path_len - 8;
    char body[32];

    if (dl != 3 || d[0] < '1' || d[0] > '5' || d[1] < '0' || d[1] > '9' || d[2] < '0' || d[2] > '9')
        return bad_arg(c);
    int code = (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
    int n = snprintf(body, sizeof body, "status %d\n", code);
    if (code == 101)
        return bad_arg(c); /* a switch of protocols is not something we can follow up on */
    if (code < 200) {
        /* An interim response, then a final 200; HTTP/1.0 clients get no interim. */
        if (r->minor == 1)
            out_fmt(c, "HTTP/1.1 %d %s\r\nX-Origin: %s\r\n%s\r\n", code, reason(code), g_name,
                    code == 103 ? "Link: </style.css>; rel=preload\r\n" : "");
        resp_text(c, 200, body, (size_t)n);
    } else if (code == 204 || code == 304) {
        resp_head(c, code, -1, NULL);
    } else {
        resp_text(c, code, body, (size_t)n);
    }
    return AFTER_KEEP;
}

/* The second response a /raw/ endpoint leaves on a kept-alive connection
 * after a malformed first one: a proxy that reuses the connection, or reads
 * past the broken response, hands it to the wrong client request. */
/* 512 bytes of text, for the bodies of compressible canned responses. */
#define TEXT64 "<p>The quick brown fox jumps over the lazy dog, again.</p>\n\n\n\n\n\n"
#define TEXT512 TEXT64 TEXT64 TEXT64 TEXT64 TEXT64 TEXT64 TEXT64 TEXT64

#define POISON "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nPOISONED\n"

/* /raw/NAME: canned responses, written byte for byte whatever the request,
 * for what a well-behaved server never sends. The connection stays open. */
static const struct {
    const char *name;
    const char *bytes;
} raw_responses[] = {
    {"badstatus", "HTTP/1.1 2OO OK\r\nContent-Length: 2\r\n\r\nok" POISON},
    {"badversion", "HTTP/2.0 200 OK\r\nContent-Length: 2\r\n\r\nok" POISON},
    {"clte", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
             "0\r\n\r\n" POISON},
    {"dupcl", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 45\r\n\r\nok" POISON},
    {"badcl", "HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok" POISON},
    {"badchunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n" POISON},
    {"obsfold", "HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 2\r\n\r\nok" POISON},
    {"barelf", "HTTP/1.1 200 OK\nContent-Length: 2\n\nok" POISON},
    {"spacecolon", "HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok" POISON},
    /* No body after 204/304/HEAD, whatever Content-Length says: bytes that
     * follow are not part of this response. */
    {"204body", "HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\nPOISONED\n"},
    {"304body", "HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\nPOISONED\n"},
    {"headbody", "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nPOISONED\n"},
    /* Hop-by-hop fields a proxy must not pass on to its client. */
    {"hop", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: X-Hop-Named, keep-alive\r\n"
            "X-Hop-Named: secret\r\nKeep-Alive: timeout=5, max=100\r\n"
            "Proxy-Connection: keep-alive\r\nUpgrade: h2c\r\nX-End-To-End: kept\r\n\r\nhop"},
    /* A chunked body whose trailer section holds fields that may not be
     * trailers (RFC 9110 6.5.1) beside one that may. */
    {"trailers", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n"
                 "5\r\nhello\r\n0\r\nX-Checksum: abc\r\nContent-Length: 99\r\nHost: evil\r\n"
                 "Set-Cookie: s=1\r\nTransfer-Encoding: gzip\r\n\r\n"},
    /* Content-Length on an interim response and a 204: no message of theirs
     * has a body, so it says nothing a client could use. */
    {"103cl", "HTTP/1.1 103 Early Hints\r\nContent-Length: 7\r\nLink: </a.css>\r\n\r\n"
              "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n103"},
    /* A response with its own Date, which a proxy passes on unchanged. */
    {"dated", "HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Length: 5\r\n\r\n"
              "dated"},
    /* For `compress`: responses a proxy may compress and ones it must
     * not (already coded, no-transform, a type not listed, too small). */
    {"etag", "HTTP/1.1 200 OK\r\nContent-Type: Text/HTML; charset=utf-8\r\nETag: \"v1\"\r\n"
             "Accept-Ranges: bytes\r\nVary: Cookie\r\nContent-Length: 512\r\n\r\n" TEXT512},
    {"weaketag", "HTTP/1.1 200 OK\r\nContent-Type: text/css\r\nETag: W/\"v2\"\r\n"
                 "Vary: Accept-Encoding\r\nContent-Length: 512\r\n\r\n" TEXT512},
    {"identity", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                 "Content-Encoding: identity\r\nContent-Length: 512\r\n\r\n" TEXT512},
    {"coded", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: br\r\n"
              "Content-Length: 512\r\n\r\n" TEXT512},
    {"notransform", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                    "Cache-Control: public, No-Transform\r\nContent-Length: 512\r\n\r\n" TEXT512},
    {"png", "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 512\r\n\r\n" TEXT512},
    {"small", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\r\n"
              "0123456789"},
    {"chunkedhtml", "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n"
                    "7\r\n, world\r\n0\r\nX-Checksum: abc\r\n\r\n"},
    /* Fields that tell the world what runs behind the proxy. */
    {"server", "HTTP/1.1 200 OK\r\nServer: Apache/2.4.1 (Unix)\r\nX-Powered-By: PHP/5.6.40\r\n"
               "X-Frame-Options: ALLOW\r\nX-Kept: yes\r\nContent-Length: 2\r\n\r\nok"},
    /* Several interim responses before the final one. */
    {"1xx", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n"
            "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
            "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n1xx"},
};

static enum after ep_raw(struct conn *c)
{
    const struct req *r = &c->req;
    const char *name = r->path + 5;
    size_t nl = r->path_len - 5;

    for (size_t i = 0; i < sizeof raw_responses / sizeof raw_responses[0]; i++)
        if (strlen(raw_responses[i].name) == nl && memcmp(raw_responses[i].name, name, nl) == 0) {
            out_str(c, raw_responses[i].bytes);
            return AFTER_KEEP;
        }
    return bad_arg(c);
}

/* /stall: never answers; waits (up to SLOW_MAX_MS) until the client closes. */
static enum after ep_stall(struct conn *c)
{
    long deadline = now_ms() + SLOW_MAX_MS;

    out_flush(c);
    while (!c->dead && now_ms() < deadline) {
        struct pollfd pfd = {c->fd, POLLIN, 0};
        int k = poll(&pfd, 1, 1000);
        if (k < 0 && errno != EINTR)
            break;
        if (k > 0) {
            ssize_t n = read(c->fd, c->rbuf, RBUF_SIZE);
            if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
                break;
            if (n > 0)
                raw_log(c, c->rbuf, (size_t)n);
        }
    }
    return AFTER_DROP;
}

/* /upgrade: with an Upgrade field, switches protocols (101, "Upgrade: echo")
 * and echoes every byte back until the client closes, the way a WebSocket
 * server keeps the connection; without one, 426. */
static enum after ep_upgrade(struct conn *c, const struct req *r)
{
    bool asked = false;
    for (size_t i = 0; i + 9 <= r->head_len; i++)
        if ((i == 0 || c->head[i - 1] == '\n') && strncasecmp(c->head + i, "upgrade:", 8) == 0)
            asked = true;
    if (!asked) {
        static const char msg[] = "upgrade required\n";
        resp_text(c, 426, msg, sizeof msg - 1);
        return AFTER_KEEP;
    }
    out_str(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n");
    out_flush(c);
    /* Bytes the client sent right after its head are tunnel data too. */
    if (c->rlen > c->rpos && write(c->fd, c->rbuf + c->rpos, c->rlen - c->rpos) < 0)
        return AFTER_DROP;
    c->rpos = c->rlen = 0;
    for (;;) {
        ssize_t n = read(c->fd, c->rbuf, RBUF_SIZE);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (write(c->fd, c->rbuf, (size_t)n) != n)
            break;
    }
    return AFTER_DROP;
}

/* /slowbody/N: N pattern bytes with Content-Length, one every SLOWBODY_MS. */
#define SLOWBODY_MS 250
static enum after ep_slowbody(struct conn *c, uint64_t n)
{
    resp_head(c, 200, (int64_t)n, NULL);
    out_flush(c);
    if (c->req.is_head)
        return AFTER_KEEP;
    for (uint64_t i = 0; i < n && !c->dead; i++) {
        sleep_ms(SLOWBODY_MS);
        out_pattern(c, i, 1);
        out_flush(c);
    }
    return AFTER_KEEP;
}

/* ---- /cache/: a scripted response, for the cache's tests ------------------ */

static unsigned long g_cache_seq; /* /cache/ requests answered, all connections */
static pthread_mutex_t g_cache_lock = PTHREAD_MUTEX_INITIALIZER;

static int hexval(char ch)
{
    return ch >= '0' && ch <= '9'   ? ch - '0'
           : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
           : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                    : -1;
}

/* Percent-decodes s[0..n) into out (at most cap-1 bytes, NUL-terminated). */
static size_t pct_decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < cap; i++) {
        if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            out[k++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else {
            out[k++] = s[i] == '+' ? ' ' : s[i];
        }
    }
    out[k] = '\0';
    return k;
}

/* The value of the request's field `name` (first of that name), or NULL;
 * *len its length. */
static const char *req_field(struct conn *c, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    const char *h = c->head, *end = c->head + c->req.head_len;
    for (const char *line = memchr(h, '\n', (size_t)(end - h)); line && line + 1 < end;
         line = memchr(line + 1, '\n', (size_t)(end - line - 1))) {
        const char *f = line + 1;
        if ((size_t)(end - f) > nl && strncasecmp(f, name, nl) == 0 && f[nl] == ':') {
            const char *v = f + nl + 1, *e = memchr(v, '\r', (size_t)(end - v));
            while (v < e && (*v == ' ' || *v == '\t'))
                v++;
            *len = (size_t)(e - v);
            return v;
        }
    }
    return NULL;
}

/* Any method on /cache/...?QUERY answers as the query says, each parameter
 * percent-decoded: s=CODE (200), h=NAME:VALUE (a header; repeatable),
 * n=N (a body of N pattern bytes), e=NAME (the body names the request's
 * field NAME: "NAME=VALUE\n" or "NAME absent\n"), d=SECONDS (Date that
 * long ago; d=none: no Date), w=MS (answer after MS milliseconds). The
 * default body is "NAME METHOD PATH
 * seq=K\n", K counting /cache/ requests, so a test tells a fresh answer
 * from a stored one. A request whose If-None-Match holds the ETag given by
 * h= (or whose If-Modified-Since equals the Last-Modified given) gets 304
 * with the same headers. */
static enum after ep_cache(struct conn *c)
{
    const struct req *r = &c->req;
    const char *q = memchr(r->target, '?', r->target_len);
    const char *qend = r->target + r->target_len;
    int code = 200;
    uint64_t n = 0;
    bool have_n = false, date = true;
    long ago = 0, wait_ms = 0;
    char extra[4096] = "", etag[256] = "", lastmod[128] = "", echo[128] = "";
    size_t el = 0;
    for (const char *p = q ? q + 1 : qend; p < qend;) {
        const char *amp = memchr(p, '&', (size_t)(qend - p));
        const char *pe = amp ? amp : qend;
        char v[1024];
        if (pe - p > 2 && p[1] == '=') {
            pct_decode(p + 2, (size_t)(pe - p - 2), v, sizeof v);
            if (p[0] == 's')
                code = atoi(v);
            else if (p[0] == 'n')
                n = strtoull(v, NULL, 10), have_n = true;
            else if (p[0] == 'e')
                snprintf(echo, sizeof echo, "%.127s", v);
            else if (p[0] == 'd')
                date = strcmp(v, "none") != 0, ago = atol(v);
            else if (p[0] == 'w')
                wait_ms = atol(v);
            else if (p[0] == 'h' && strchr(v, ':')) {
                char *colon = strchr(v, ':');
                if (strncasecmp(v, "etag:", 5) == 0)
                    snprintf(etag, sizeof etag, "%.255s", colon + 1);
                if (strncasecmp(v, "last-modified:", 14) == 0)
                    snprintf(lastmod, sizeof lastmod, "%.127s", colon + 1);
                int k = snprintf(extra + el, sizeof extra - el, "%.*s: %s\r\n", (int)(colon - v),
                                 v, colon + 1);
                if (k > 0 && (size_t)k < sizeof extra - el)
                    el += (size_t)k;
            }
        }
        p = amp ? amp + 1 : qend;
    }
    if (date) {
        char d[64];
        time_t t = time(NULL) - ago;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(d, sizeof d, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
        snprintf(extra + el, sizeof extra - el, "%s", d);
    }
    if (wait_ms > 0 && wait_ms <= SLOW_MAX_MS) {
        out_flush(c);
        sleep_ms(wait_ms);
    }
    pthread_mutex_lock(&g_cache_lock);
    unsigned long seq = ++g_cache_seq;
    pthread_mutex_unlock(&g_cache_lock);
    size_t inm_len, ims_len;
    const char *inm = req_field(c, "if-none-match", &inm_len);
    const char *ims = req_field(c, "if-modified-since", &ims_len);
    bool not_modified =
        (*etag && inm && memmem(inm, inm_len, etag, strlen(etag))) ||
        (!inm && *lastmod && ims && ims_len == strlen(lastmod) && memcmp(ims, lastmod, ims_len) == 0);
    if (not_modified) {
        out_fmt(c, "HTTP/1.1 304 Not Modified\r\nX-Origin: %s\r\nX-Seq: %lu\r\n%s%s\r\n", g_name,
                seq, extra, r->keep_alive ? "" : "Connection: close\r\n");
        return AFTER_KEEP;
    }
    char body[512];
    size_t bl;
    if (*echo) {
        size_t vl;
        const char *v = req_field(c, echo, &vl);
        bl = v ? (size_t)snprintf(body, sizeof body, "%s=%.*s seq=%lu\n", echo, (int)vl, v, seq)
               : (size_t)snprintf(body, sizeof body, "%s absent seq=%lu\n", echo, seq);
    } else {
        bl = (size_t)snprintf(body, sizeof body, "%s %.*s %.*s seq=%lu\n", g_name,
                              (int)r->method_len, r->method, (int)r->path_len, r->path, seq);
    }
    bool no_body = code == 204 || code == 304 || (code >= 100 && code < 200);
    char seqf[48];
    snprintf(seqf, sizeof seqf, "X-Seq: %lu\r\n", seq);
    strncat(extra, seqf, sizeof extra - strlen(extra) - 1);
    resp_head(c, code, no_body ? -1 : have_n ? (int64_t)n : (int64_t)bl, extra);
    if (!r->is_head && !no_body) {
        if (have_n)
            out_pattern(c, 0, n);
        else
            out_put(c, body, bl);
    }
    return AFTER_KEEP;
}

/* Answers the request whose head and body have been read. */
static enum after handle(struct conn *c)
{
    struct req *r = &c->req;
    bool get = r->is_head || (r->method_len == 3 && memcmp(r->method, "GET", 3) == 0);
    bool post = (r->method_len == 4 && memcmp(r->method, "POST", 4) == 0) ||
                (r->method_len == 3 && memcmp(r->method, "PUT", 3) == 0);
    uint64_t n;
    int k;

    if (get) {
        if ((k = path_size(r, "/bytes/", &n)) != 0) {
            if (k < 0 || n > INT64_MAX)
                return bad_arg(c);
            resp_head(c, 200, (int64_t)n, NULL);
            if (!r->is_head)
                out_pattern(c, 0, n);
            return AFTER_KEEP;
        }
        if ((k = path_size(r, "/chunked/", &n)) != 0)
            return k < 0 ? bad_arg(c) : ep_chunked(c, n);
        if ((k = path_size(r, "/close/", &n)) != 0) {
            if (k < 0)
                return bad_arg(c);
            r->keep_alive = false;
            resp_head(c, 200, -1, NULL);
            if (!r->is_head)
                out_pattern(c, 0, n);
            return AFTER_CLOSE;
        }
        if (r->path_len >= 8 && memcmp(r->path, "/status/", 8) == 0)
            return ep_status(c);
        if ((k = path_size(r, "/slow/", &n)) != 0) {
            static const char msg[] = "slow\n";
            if (k < 0 || n > SLOW_MAX_MS)
                return bad_arg(c);
            out_flush(c);
            sleep_ms((long)n);
            resp_text(c, 200, msg, sizeof msg - 1);
            return AFTER_KEEP;
        }
        if (path_is(r, "/drop")) {
            out_flush(c); /* answers to earlier pipelined requests still go out */
            return AFTER_DROP;
        }
        if (path_is(r, "/garbage")) {
            out_str(c, "this is not http\r\n\r\n");
            return AFTER_CLOSE;
        }
        if (path_is(r, "/headers")) {
            resp_text(c, 200, c->head, r->head_len);
            return AFTER_KEEP;
        }
        if (path_is(r, "/stall"))
            return ep_stall(c);
        if (path_is(r, "/upgrade"))
            return ep_upgrade(c, r);
        if ((k = path_size(r, "/slowbody/", &n)) != 0) {
            if (k < 0 || n > 1000)
                return bad_arg(c);
            return ep_slowbody(c, n);
        }
    }
    if (r->path_len > 5 && memcmp(r->path, "/raw/", 5) == 0)
        return ep_raw(c);
    if (r->path_len >= 7 && memcmp(r->path, "/cache/", 7) == 0)
        return ep_cache(c);
    if (post && path_is(r, "/echo")) {
        char body[64];
        int len = snprintf(body, sizeof body, "%llu %08lx\n", (unsigned long long)r->body_len,
                           (unsigned long)r->body_crc);
        resp_text(c, 200, body, (size_t)len);
        return AFTER_KEEP;
    }
    /* Anything else: say who answered what. */
    size_t nl = strlen(g_name);
    resp_head(c, 200, (int64_t)(nl + r->method_len + r->target_len + 3), NULL);
    if (!r->is_head) {
        out_put(c, g_name, nl);
        out_str(c, " ");
        out_put(c, r->method, r->method_len);
        out_str(c, " ");
        out_put(c, r->target, r->target_len);
        out_str(c, "\n");
    }
    return AFTER_KEEP;
}

/* ---- connection --------------------------------------------------------- */

/* Closes our side politely: flush, half-close, then read and discard what
 * the client still sends for a while, so that its unread pipelined requests
 * do not turn our close into a reset that destroys the response in flight. */
static void linger_close(struct conn *c)
{
    long deadline = now_ms() + LINGER_MS;
    struct timeval tv = {0, 200 * 1000};
    size_t total = 0;

    out_flush(c);
    if (c->dead || shutdown(c->fd, SHUT_WR) < 0)
        return;
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    while (total < LINGER_BYTES && now_ms() < deadline) {
        ssize_t n = read(c->fd, c->rbuf, RBUF_SIZE);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            continue;
        if (n <= 0)
            break;
        raw_log(c, c->rbuf, (size_t)n);
        total += (size_t)n;
    }
}

static void conn_run(struct conn *c)
{
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

    for (;;) {
        long hl = read_head(c);
        if (hl == HEAD_CLOSED)
            return;
        memset(&c->req, 0, sizeof c->req);
        c->err = NULL;
        if (hl < 0) {
            size_t avail = c->rlen - c->rpos;
            log_request(c, "BAD", 3, "-", 1, &c->req.body_len, c->rbuf + c->rpos,
                        avail < HEAD_MAX ? avail : HEAD_MAX);
            if (hl == HEAD_TOO_LARGE)
                resp_bad(c, 431, "request head too large");
            else
                resp_bad(c, 400, "request head truncated");
            linger_close(c);
            return;
        }
        memcpy(c->head, c->rbuf + c->rpos, (size_t)hl);
        c->rpos += (size_t)hl;
        const char *why = parse_head(c, (size_t)hl);
        if (why != NULL) {
            memset(&c->req, 0, sizeof c->req);
            log_request(c, "BAD", 3, "-", 1, &c->req.body_len, c->head, (size_t)hl);
            resp_bad(c, 400, why);
            linger_close(c);
            return;
        }

        struct req *r = &c->req;
        r->body_crc = crc32(0L, Z_NULL, 0);
        c->trailer_bytes = 0;
        c->remaining = r->content_length;
        c->bstate = r->chunked ? BS_CHUNK_SIZE : r->content_length > 0 ? BS_DATA : BS_DONE;
        if (r->expect_continue && r->minor == 1 && c->bstate != BS_DONE)
            out_put(c, cont, sizeof cont - 1);
        const unsigned char *p;
        size_t n;
        int rc;
        while ((rc = body_next(c, &p, &n)) > 0) {
            r->body_len += n;
            r->body_crc = crc32(r->body_crc, p, (uInt)n);
        }
        if (rc < 0) {
            log_request(c, r->method, r->method_len, r->target, r->target_len, NULL, c->head,
                        r->head_len);
            resp_bad(c, 400, c->err);
            linger_close(c);
            return;
        }
        log_request(c, r->method, r->method_len, r->target, r->target_len, &r->body_len, c->head,
                    r->head_len);

        enum after a = handle(c);
        if (c->dead || a == AFTER_DROP)
            return;
        if (a == AFTER_CLOSE || !r->keep_alive) {
            linger_close(c);
            return;
        }
    }
}

static void *conn_thread(void *arg)
{
    struct conn *c = arg;

    conn_run(c);
    close(c->fd);
    free(c->logbuf);
    free(c);
    return NULL;
}

/* ---- commands ----------------------------------------------------------- */

static void on_stop(int sig)
{
    (void)sig;
    g_stop = 1;
}

/* Writes the port to path through a temporary file and rename(), so a test
 * script polling for the file never reads it half written. Returns 0 or -1. */
static int write_port_file(const char *path, unsigned port)
{
    char tmp[4096];
    FILE *f;

    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return -1;
    if ((f = fopen(tmp, "w")) == NULL)
        return -1;
    fprintf(f, "%u\n", port);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static int usage(void)
{
    fputs("usage: origin serve [--port N | --unix PATH] [--name NAME] [--log FILE] [--port-file FILE]\n"
          "                    [--raw-log FILE]\n"
          "       origin gen N          write N bytes (suffix k, m, g) of the test pattern\n"
          "       origin crc32          print \"LEN CRC32HEX\" of stdin\n"
          "endpoints: GET /bytes/N /chunked/N /close/N /status/CODE /slow/MS /drop\n"
          "           /garbage /headers /stall /slowbody/N /upgrade; any method /raw/NAME;\n"
          "           POST|PUT /echo; anything else names the server\n",
          stderr);
    return 2;
}

static int cmd_serve(int argc, char **argv)
{
    const char *log_path = NULL, *port_file = NULL, *raw_path = NULL, *unix_path = NULL;
    uint64_t port = 0;
    int lfd, one = 1;

    for (int i = 2; i < argc; i += 2) {
        const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (val == NULL)
            return usage();
        if (strcmp(opt, "--port") == 0) {
            if (parse_size(val, strlen(val), &port) < 0 || port > 65535 ||
                strspn(val, "0123456789") != strlen(val))
                return usage();
        } else if (strcmp(opt, "--name") == 0) {
            size_t nl = strlen(val);
            if (nl == 0 || nl > NAME_MAX_LEN ||
                strspn(val, "abcdefghijklmnopqrstuvwxyz"
                            "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                            "0123456789._-") != nl) {
                fprintf(stderr, "origin: --name wants 1-%d of [A-Za-z0-9._-]\n", NAME_MAX_LEN);
                return 2;
            }
            g_name = val;
        } else if (strcmp(opt, "--log") == 0) {
            log_path = val;
        } else if (strcmp(opt, "--port-file") == 0) {
            port_file = val;
        } else if (strcmp(opt, "--raw-log") == 0) {
            raw_path = val;
        } else if (strcmp(opt, "--unix") == 0) {
            unix_path = val;
        } else {
            return usage();
        }
    }

    if (log_path != NULL) {
        g_log_fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (g_log_fd < 0) {
            fprintf(stderr, "origin: %s: %s\n", log_path, strerror(errno));
            return 2;
        }
    }

    if (raw_path != NULL) {
        g_raw_fd = open(raw_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (g_raw_fd < 0) {
            fprintf(stderr, "origin: %s: %s\n", raw_path, strerror(errno));
            return 2;
        }
    }

    /* SIGTERM and SIGINT stay blocked everywhere except inside ppoll() in the
     * accept loop, so they can only interrupt that one call: no race between
     * testing g_stop and blocking, and no worker thread ever sees them. */
    sigset_t stop_set, run_mask;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&stop_set);
    sigaddset(&stop_set, SIGTERM);
    sigaddset(&stop_set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_set, &run_mask);
    sigdelset(&run_mask, SIGTERM);
    sigdelset(&run_mask, SIGINT);

    if (unix_path != NULL) {
        /* A unix socket instead of TCP: for servers reached by path. */
        struct sockaddr_un sun;
        memset(&sun, 0, sizeof sun);
        sun.sun_family = AF_UNIX;
        if (strlen(unix_path) >= sizeof sun.sun_path)
            return usage();
        strcpy(sun.sun_path, unix_path);
        unlink(unix_path);
        lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (lfd < 0 || bind(lfd, (struct sockaddr *)&sun, sizeof sun) < 0 ||
            listen(lfd, SOMAXCONN) < 0) {
            fprintf(stderr, "origin: unix:%s: %s\n", unix_path, strerror(errno));
            return 1;
        }
        if (port_file != NULL && write_port_file(port_file, 0) < 0)
            return 1;
        fprintf(stderr, "origin %s listening on unix:%s\n", g_name, unix_path);
        goto serve;
    }
    struct sockaddr_in sin;
    socklen_t slen = sizeof sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(lfd, (struct sockaddr *)&sin, sizeof sin) < 0 || listen(lfd, SOMAXCONN) < 0 ||
        getsockname(lfd, (struct sockaddr *)&sin, &slen) < 0) {
        fprintf(stderr, "origin: 127.0.0.1:%u: %s\n", (unsigned)port, strerror(errno));
        return 1;
    }
    unsigned bound = ntohs(sin.sin_port);
    if (port_file != NULL && write_port_file(port_file, bound) < 0) {
        fprintf(stderr, "origin: %s: %s\n", port_file, strerror(errno));
        return 1;
    }
    fprintf(stderr, "origin %s listening on 127.0.0.1:%u\n", g_name, bound);
serve:;

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, THREAD_STACK);

    while (!g_stop) {
        struct pollfd pfd = {lfd, POLLIN, 0};
        if (ppoll(&pfd, 1, NULL, &run_mask) < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "origin: poll: %s\n", strerror(errno));
            return 1;
        }
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                sleep_ms(10); /* out of resources: let connections finish */
            continue;         /* EAGAIN, ECONNABORTED, EINTR: next one */
        }
        struct timeval tv = {IDLE_TIMEOUT_S, 0};
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);

        struct conn *c = malloc(sizeof *c);
        pthread_t t;
        if (c == NULL) {
            close(fd);
            continue;
        }
        c->fd = fd;
        c->id = ++g_conn_seq;
        c->dead = false;
        c->rpos = c->rlen = c->wlen = 0;
        c->logbuf = g_log_fd >= 0 ? malloc(LOGBUF_SIZE) : NULL;
        if ((g_log_fd >= 0 && c->logbuf == NULL) ||
            pthread_create(&t, &attr, conn_thread, c) != 0) {
            close(fd);
            free(c->logbuf);
            free(c);
        }
    }
    pthread_attr_destroy(&attr);
    close(lfd);
    return 0;
}

static int cmd_gen(const char *arg)
{
    static unsigned char buf[64 * 1024];
    uint64_t n, off = 0;

    if (parse_size(arg, strlen(arg), &n) < 0)
        return usage();
    while (off < n) {
        size_t k = n - off < sizeof buf ? (size_t)(n - off) : sizeof buf;
        pattern_fill(buf, off, k);
        if (write_all(STDOUT_FILENO, buf, k) < 0) {
            fprintf(stderr, "origin gen: %s\n", strerror(errno));
            return 1;
        }
        off += k;
    }
    return 0;
}

static int cmd_crc32(void)
{
    static unsigned char buf[64 * 1024];
    uLong crc = crc32(0L, Z_NULL, 0);
    unsigned long long len = 0;

    for (;;) {
        ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fprintf(stderr, "origin crc32: %s\n", strerror(errno));
            return 1;
        }
        if (n == 0)
            break;
        crc = crc32(crc, buf, (uInt)n);
        len += (unsigned long long)n;
    }
    printf("%llu %08lx\n", len, (unsigned long)crc);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "serve") == 0)
        return cmd_serve(argc, argv);
    if (argc == 3 && strcmp(argv[1], "gen") == 0)
        return cmd_gen(argv[2]);
    if (argc == 2 && strcmp(argv[1], "crc32") == 0)
        return cmd_crc32();
    return usage();
}
