/* accesslog.c: the access log (accesslog.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "accesslog.h"
#include "log.h"
#include "sock.h"

#define BLOCK_SIZE (64 * 1024)      /* a thread's buffer */
#define QUEUE_MAX_BLOCKS 128        /* 8 MB waiting for the file at most */
/* The longest line: the request's parts are captured cut (conn.c, under
 * 2 KB in all), escaping makes a byte six at most, and the policy's names
 * are cut at NAME_MAX_LEN. A line is made in place in the thread's buffer,
 * which keeps this much room, so the formatting needs no bounds checks. */
#define NAME_MAX_LEN 256
#define LINE_MAX_LEN RP_ACCESS_LINE_MAX

struct block {
    struct block *next;
    size_t len;
    uint64_t lines;
    char data[BLOCK_SIZE];
};

/* The request's protocol as nginx logs it: HTTP/1.0, HTTP/1.1, HTTP/2.0
 * (minor_version 2: an HTTP/2 stream's exchange). Eight bytes each. */
static const char *protocol_text(unsigned minor_version)
{
    return minor_version == 2 ? "HTTP/2.0" : minor_version ? "HTTP/1.1" : "HTTP/1.0";
}

static struct {
    const struct rp_access_log *def;
    int fd;
    pthread_t writer;
    bool running;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct block *head, **tail; /* full buffers, oldest first */
    unsigned queued;
    bool stopping;
    atomic_bool reopen;
    atomic_ullong dropped; /* lines */
} g = {.fd = -1, .lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

static _Thread_local struct block *t_block;

bool rp_access_log_active;

/* English, whatever the locale: syslog's header and the combined time. */
static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* A datagram socket connected to the syslog daemon (a unix socket or
 * host:port over UDP). */
static int open_syslog(const struct rp_access_log *def)
{
    struct sockaddr_storage sa;
    socklen_t len;
    if (rp_sock_addr(def->syslog, def->syslog_port, &sa, &len) < 0) { /* "unix:/path" too */
        errno = EINVAL;
        return -1;
    }
    int fd = rp_sock_open_connected(&sa, len, SOCK_DGRAM);
    /* The writer may wait for the daemon as for a slow disk (a local
     * socket queues only max_dgram_qlen messages, often 10): requests do
     * not, the queue before the writer is bounded. A daemon that takes
     * nothing for a second loses the line. */
    struct timeval tv = {1, 0};
    if (fd >= 0)
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return fd;
}

static int open_log(const struct rp_access_log *def)
{
    if (def->syslog)
        return open_syslog(def);
    if (!def->path)
        return fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 0); /* not into a successor */
    return open(def->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}

static const char *log_target(const struct rp_access_log *def)
{
    return def->syslog ? def->syslog : def->path ? def->path : "stdout";
}

/* Each line of a block as one syslog message (RFC 3164, as syslog(3)
 * writes them: "<PRI>Mmm dd hh:mm:ss TAG[PID]: ", with the host name when
 * it goes over the network). Returns the lines the daemon did not take. */
static uint64_t send_syslog(int fd, const struct rp_access_log *def, const char *p, size_t n)
{
    static char host[64]; /* the writer's alone */
    bool network = strncmp(def->syslog, "unix:", 5) != 0;
    if (network && !host[0] && gethostname(host, sizeof host) < 0)
        strcpy(host, "-");
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    char head[160];
    int hl = snprintf(head, sizeof head, "<%u>%s %2d %02d:%02d:%02d %s%srpx[%d]: ",
                      def->facility * 8 + 6, months[tm.tm_mon], tm.tm_mday, tm.tm_hour,
                      tm.tm_min, tm.tm_sec, host, host[0] ? " " : "", (int)getpid());
    uint64_t lost = 0;
    for (const char *end = p + n; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        struct iovec iov[2] = {{head, (size_t)hl}, {(void *)p, len}};
        struct msghdr m = {.msg_iov = iov, .msg_iovlen = 2};
        ssize_t r;
        do
            r = sendmsg(fd, &m, MSG_NOSIGNAL);
        while (r < 0 && errno == EINTR);
        lost += r < 0;
        p += len + 1;
    }
    return lost;
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return; /* a full disk: the lines are lost, the proxy goes on */
        }
        p += w;
        n -= (size_t)w;
    }
}

/* A block to syslog. A daemon that went away (restarted: its socket is a
 * new one) is connected to again, at most once a second, as syslog(3)
 * does; meanwhile its lines are counted as dropped. */
static void syslog_block(const struct block *b)
{
    static time_t last_try;
    uint64_t lost = g.fd >= 0 ? send_syslog(g.fd, g.def, b->data, b->len) : b->lines;
    if (lost && time(NULL) != last_try) {
        last_try = time(NULL);
        int fd = open_log(g.def);
        if (fd >= 0) {
            if (g.fd >= 0)
                close(g.fd);
            g.fd = fd;
        }
    }
    atomic_fetch_add(&g.dropped, lost);
}

/* The writer thread: empties the queue to the file, reopening it when
 * asked, and says how many lines were dropped. */
static void *writer_main(void *arg)
{
    (void)arg;
    uint64_t reported = 0;
    pthread_mutex_lock(&g.lock);
    for (;;) {
        while (!g.head && !g.stopping && !atomic_load(&g.reopen))
            pthread_cond_wait(&g.wake, &g.lock);
        struct block *list = g.head;
        g.head = NULL;
        g.tail = &g.head;
        g.queued = 0;
        bool stop = g.stopping;
        pthread_mutex_unlock(&g.lock);
        if (atomic_exchange(&g.reopen, false) && (g.def->path || g.def->syslog)) {
            int fd = open_log(g.def);
            if (fd < 0) {
                rp_error("access log %s: cannot reopen: %s", log_target(g.def), strerror(errno));
            } else {
                if (g.fd >= 0)
                    close(g.fd);
                g.fd = fd;
            }
        }
        while (list) {
            struct block *b = list;
            list = b->next;
            if (!g.def->syslog)
                write_all(g.fd, b->data, b->len);
            else
                syslog_block(b);
            free(b);
        }
        uint64_t dropped = atomic_load(&g.dropped);
        if (dropped != reported) {
            rp_warn("access log: %llu lines dropped (%s did not take them fast enough)",
                    (unsigned long long)(dropped - reported),
                    g.def->syslog ? "the syslog daemon" : "the file");
            reported = dropped;
        }
        pthread_mutex_lock(&g.lock);
        if (stop && !g.head)
            break;
    }
    pthread_mutex_unlock(&g.lock);
    return NULL;
}

int rp_access_log_start(const struct rp_program *prog)
{
    if (!prog->access_log)
        return 0;
    g.def = prog->access_log;
    g.tail = &g.head;
    g.fd = open_log(g.def);
    if (g.fd < 0 && g.def->syslog) {
        /* a syslog daemon restarting must not keep the proxy down: lines
         * are counted as dropped until it answers (syslog_block) */
        rp_warn("access log %s (%s): cannot connect: %s; lines are dropped until it answers",
                log_target(g.def), g.def->where, strerror(errno));
    } else if (g.fd < 0) {
        rp_error("access log %s (%s): cannot open: %s", log_target(g.def), g.def->where,
                 strerror(errno));
        g.def = NULL;
        return -1;
    }
    /* the writer takes no signal: the main thread's loop handles them */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&g.writer, NULL, writer_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        rp_error("access log: no writer thread");
        if (g.fd >= 0)
            close(g.fd);
        g.def = NULL;
        return -1;
    }
    g.running = true;
    rp_access_log_active = true;
    return 0;
}

void rp_access_log_stop(void)
{
    if (!g.running)
        return;
    rp_access_log_flush(); /* the main thread's, if any */
    rp_access_log_active = false;
    pthread_mutex_lock(&g.lock);
    g.stopping = true;
    pthread_cond_signal(&g.wake);
    pthread_mutex_unlock(&g.lock);
    /* A file that takes nothing (a pipe nobody reads) must not keep the
     * process from exiting: the writer gets a few seconds. */
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 3;
    if (pthread_timedjoin_np(g.writer, NULL, &until) != 0) {
        rp_warn("access log: the file took nothing for 3 s at exit; lines still queued are lost");
        g.running = false;
        g.def = NULL;
        return; /* the writer stays blocked; the process ends */
    }
    g.running = false;
    if (g.fd >= 0)
        close(g.fd);
    g.fd = -1;
    g.def = NULL;
}

void rp_access_log_reopen(void)
{
    if (!g.running)
        return;
    atomic_store(&g.reopen, true);
    pthread_mutex_lock(&g.lock);
    pthread_cond_signal(&g.wake);
    pthread_mutex_unlock(&g.lock);
}

void rp_access_log_flush(void)
{
    struct block *b = t_block;
    if (!b || !b->len)
        return;
    t_block = NULL;
    pthread_mutex_lock(&g.lock);
    bool drop = g.queued >= QUEUE_MAX_BLOCKS || !g.running;
    if (!drop) {
        b->next = NULL;
        *g.tail = b;
        g.tail = &b->next;
        g.queued++;
        pthread_cond_signal(&g.wake);
    }
    pthread_mutex_unlock(&g.lock);
    if (drop) {
        atomic_fetch_add(&g.dropped, b->lines);
        free(b);
    }
}

/* ---- formatting ---------------------------------------------------------------------------- */

struct out {
    char *p;
    size_t n, cap;
};

__attribute__((always_inline)) static inline void put(struct out *o, const char *s, size_t n)
{
    memcpy(o->p + o->n, s, n);
    o->n += n;
}

/* Numbers by hand, two digits a step: snprintf costs more than the rest
 * of a line. */
static const char digit_pairs[201] = "00010203040506070809101112131415161718192021222324"
                                     "25262728293031323334353637383940414243444546474849"
                                     "50515253545556575859606162636465666768697071727374"
                                     "75767778798081828384858687888990919293949596979899";

__attribute__((always_inline)) static inline void put_u(struct out *o, unsigned long long v)
{
    if (v < 10) { /* most counts here: one digit */
        o->p[o->n++] = (char)('0' + v);
        return;
    }
    /* the digits counted first, then written in place from the end */
    size_t len = 1;
    for (unsigned long long t = v; t >= 10; t /= 10)
        len++;
    char *d = o->p + o->n + len;
    o->n += len;
    while (v >= 100) {
        unsigned k = (unsigned)(v % 100) * 2;
        v /= 100;
        *--d = digit_pairs[k + 1];
        *--d = digit_pairs[k];
    }
    if (v >= 10) {
        *--d = digit_pairs[v * 2 + 1];
        *--d = digit_pairs[v * 2];
    } else {
        *--d = (char)('0' + v);
    }
}

/* Milliseconds with three decimals (microseconds). */
__attribute__((always_inline)) static inline void put_ms(struct out *o, double seconds)
{
    unsigned long long us = seconds > 0 ? (unsigned long long)(seconds * 1e6 + 0.5) : 0;
    put_u(o, us / 1000);
    unsigned frac = (unsigned)(us % 1000), hi = frac / 10;
    char *d = o->p + o->n;
    d[0] = '.';
    d[1] = digit_pairs[hi * 2];
    d[2] = digit_pairs[hi * 2 + 1];
    d[3] = (char)('0' + frac % 10);
    o->n += 4;
}

/* The time of a line: the text for its second made once per second per
 * thread (gmtime and formatting cost more than the rest of the line). */
struct when {
    time_t second;
    char iso[64];    /* "2026-12-03T07:19:48" */
    char clf[64];    /* "03/Dec/2026:07:19:48 +0000" */
};
static _Thread_local struct when t_when;

static __attribute__((noinline)) void when_make(time_t s)
{
    struct tm tm;
    gmtime_r(&s, &tm);
    snprintf(t_when.iso, sizeof t_when.iso, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    snprintf(t_when.clf, sizeof t_when.clf, "%02d/%s/%04d:%02d:%02d:%02d +0000", tm.tm_mday,
             months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    t_when.second = s;
}

/* The same second as the line before, nearly always: no call then. */
static inline const struct when *when_of(double t)
{
    time_t s = (time_t)t;
    if (s != t_when.second)
        when_make(s);
    return &t_when;
}

/* t as RFC 3339 in UTC with milliseconds: "2026-12-03T07:19:48.123Z". */
__attribute__((always_inline)) static inline void put_iso_time(struct out *o, double t)
{
    put(o, when_of(t)->iso, 19); /* fixed width: "2026-12-03T07:19:48" */
    unsigned ms = (unsigned)((unsigned long long)(t * 1000.0) % 1000), hi = ms / 10;
    char *frac = o->p + o->n;
    frac[0] = '.';
    frac[1] = digit_pairs[hi * 2];
    frac[2] = digit_pairs[hi * 2 + 1];
    frac[3] = (char)('0' + ms % 10);
    frac[4] = 'Z';
    o->n += 5;
}

/* A string in a combined line's quotes: '"' and '\' escaped, control and
 * non-ASCII bytes as \xHH (as nginx does), so a line stays one line. */
__attribute__((always_inline)) static inline void put_quoted_text(struct out *o, const char *s, size_t n)
{
    if (!s || !n) {
        put(o, "-", 1);
        return;
    }
    static const char hex[] = "0123456789ABCDEF";
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\' || ch < 0x20 || ch >= 0x7f) {
            put(o, s + run, i - run);
            char t[4] = {'\\', 'x', hex[ch >> 4], hex[ch & 15]};
            put(o, t, 4);
            run = i + 1;
        }
    }
    put(o, s + run, n - run);
}

/* Bytes a JSON string cannot hold as they are: quote, backslash, control
 * characters, and (header values may hold any byte) everything that is
 * not ASCII text, written as \u00XX of the byte so the line always parses
 * (RFC 8259). */
static const unsigned char json_escaped[256] = {
    [0 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1, [0x7f ... 0xff] = 1,
};

/* Whether any of 8 bytes needs escaping (json_escaped), at once: each
 * test is the exact "some byte is zero" trick ((v - 0x01..) & ~v & 0x80..)
 * on x XOR the byte, or for "below 0x20" on x itself; bytes from 0x80 up
 * have their high bit set already. */
static inline bool word_needs_escape(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\'), d = x ^ (ones * 0x7f);
    uint64_t hit = ((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b) |
                   ((d - ones) & ~d) | x;
    return (hit & high) != 0;
}

/* Writes one byte of a JSON string at d, escaped as it must be; returns
 * the new end. */
static inline char *json_byte(char *d, unsigned char ch)
{
    if (!json_escaped[ch]) {
        *d++ = (char)ch;
    } else if (ch == '"' || ch == '\\') {
        *d++ = '\\';
        *d++ = (char)ch;
    } else {
        static const char hex[] = "0123456789abcdef";
        memcpy(d, "\\u00", 4);
        d[4] = hex[ch >> 4];
        d[5] = hex[ch & 15];
        d += 6;
    }
    return d;
}

/* A JSON string: 8 bytes at a time while none needs escaping (the usual
 * case: a URI, a host, a user agent), the last few as one word that
 * overlaps the one before (rewriting bytes already there with the same
 * values), byte by byte from the first word that holds one to escape.
 * The end is kept in a local: stores through a char pointer would make
 * the compiler reload o->n at every byte. */
__attribute__((always_inline)) static inline void put_json(struct out *o, const char *s, size_t n)
{
    if (!s) {
        put(o, "null", 4);
        return;
    }
    char *d = o->p + o->n;
    *d++ = '"';
    size_t i = 0;
    uint64_t x;
    if (n >= 8) {
        for (; i + 8 <= n; i += 8) {
            memcpy(&x, s + i, 8);
            if (word_needs_escape(x))
                goto bytewise;
            memcpy(d, &x, 8);
            d += 8;
        }
        if (i < n) {
            memcpy(&x, s + n - 8, 8);
            if (word_needs_escape(x))
                goto bytewise;
            memcpy(d - (i - (n - 8)), &x, 8);
            d += n - i;
            i = n;
        }
    }
bytewise:
    for (; i < n; i++)
        d = json_byte(d, (unsigned char)s[i]);
    *d++ = '"';
    o->n = (size_t)(d - o->p);
}

/* A string the proxy made (a backend's or server's name: a token; the
 * cache's verdict; why an exchange ended): nothing to escape, cut at
 * NAME_MAX_LEN. */
__attribute__((always_inline)) static inline void put_plain(struct out *o, const char *s)
{
    if (!s) {
        put(o, "null", 4);
        return;
    }
    /* names are a few bytes: a loop beats strnlen and memcpy calls */
    char *d = o->p + o->n;
    *d++ = '"';
    for (size_t i = 0; i < NAME_MAX_LEN && s[i]; i++)
        *d++ = s[i];
    *d++ = '"';
    o->n = (size_t)(d - o->p);
}

/* ,"KEY": as one constant copy. */
#define KEY(o, k) put((o), ",\"" k "\":", sizeof(",\"" k "\":") - 1)
/* ,"KEY": and a (pointer, length) string, null when it is empty. */
#define KEY_JSON(o, k, s, n)                                                                       \
    do {                                                                                           \
        KEY(o, k);                                                                                 \
        put_json((o), (n) ? (s) : NULL, (n));                                                     \
    } while (0)

/* The milliseconds from one time to another, or `none` when either did
 * not happen (0). */
__attribute__((always_inline)) static inline void put_ms_between(struct out *o, double from,
                                                                 double to, const char *none,
                                                                 size_t none_len)
{
    if (to > 0 && from > 0)
        put_ms(o, to - from);
    else
        put(o, none, none_len);
}

static void combined(struct out *out, const struct rp_access_entry *e)
{
    struct out local = *out, *o = &local; /* as in json() */
    put(o, e->client, e->client_len);
    if (e->user_len) {
        put(o, " - ", 3);
        put_quoted_text(o, e->user, e->user_len);
        put(o, " [", 2);
    } else {
        put(o, " - - [", 6);
    }
    put(o, when_of(e->t_end)->clf, 26); /* fixed width: "03/Dec/2026:07:19:48 +0000" */
    put(o, "] \"", 3);
    if (e->method_len) {
        put_quoted_text(o, e->method, e->method_len);
        put(o, " ", 1);
        put_quoted_text(o, e->target, e->target_len);
        put(o, " ", 1);
        put(o, protocol_text(e->minor_version), 8);
        put(o, "\" ", 2);
    } else {
        put(o, "-\" ", 3);
    }
    put_u(o, e->status);
    put(o, " ", 1);
    put_u(o, e->bytes_out);
    put(o, " \"", 2);
    put_quoted_text(o, e->referer, e->referer_len);
    put(o, "\" \"", 3);
    put_quoted_text(o, e->user_agent, e->user_agent_len);
    put(o, "\"", 1);
    *out = local;
}

/* A custom line: the format's text as written, its fields as combined
 * writes them (strings escaped as \xHH, "-" when absent; times in
 * milliseconds). A format may name fields many times: a piece that might
 * not fit what is left of the line ends it with "..." instead. */
static void custom(struct out *o, const struct rp_access_log *def, const struct rp_access_entry *e)
{
    for (uint32_t i = 0; i < def->n_pieces; i++) {
        const struct rp_log_piece *pc = &def->pieces[i];
        const char *s = NULL;
        size_t n = 0;
        switch (pc->field) {
        case RP_LOG_TEXT: s = pc->text, n = pc->len; break;
        case RP_LOG_CLIENT: s = e->client, n = e->client_len; break;
        case RP_LOG_METHOD: s = e->method, n = e->method_len; break;
        case RP_LOG_URI: s = e->target, n = e->target_len; break;
        case RP_LOG_HOST: s = e->host, n = e->host_len; break;
        case RP_LOG_REQUEST_ID: s = e->request_id, n = e->request_id_len; break;
        case RP_LOG_REFERER: s = e->referer, n = e->referer_len; break;
        case RP_LOG_USER_AGENT: s = e->user_agent, n = e->user_agent_len; break;
        case RP_LOG_ROUTE: s = e->route; break;
        case RP_LOG_BACKEND: s = e->backend; break;
        case RP_LOG_SERVER: s = e->server; break;
        case RP_LOG_CACHE: s = e->cache; break;
        case RP_LOG_END: s = e->end; break;
        case RP_LOG_TLS_VERSION: s = e->tls_version, n = e->tls_version_len; break;
        case RP_LOG_TLS_CIPHER: s = e->tls_cipher, n = e->tls_cipher_len; break;
        case RP_LOG_SNI: s = e->sni, n = e->sni_len; break;
        case RP_LOG_USER: s = e->user, n = e->user_len; break;
        default: break;
        }
        if (s && !n && pc->field != RP_LOG_TEXT)
            n = strnlen(s, NAME_MAX_LEN);
        if (o->n + 4 * n + 64 > o->cap) {
            put(o, "...", 3);
            return;
        }
        switch (pc->field) {
        case RP_LOG_TEXT: put(o, s, n); break;
        case RP_LOG_TIME: put_iso_time(o, e->t_end); break;
        case RP_LOG_TIME_LOCAL: put(o, when_of(e->t_end)->clf, 26); break;
        case RP_LOG_PROTOCOL:
            if (!e->method_len)
                put(o, "-", 1);
            else
                put(o, protocol_text(e->minor_version), 8);
            break;
        case RP_LOG_TLS: put(o, e->tls ? "1" : "0", 1); break;
        case RP_LOG_STATUS: put_u(o, e->status); break;
        case RP_LOG_BYTES_IN: put_u(o, e->bytes_in); break;
        case RP_LOG_BYTES_OUT: put_u(o, e->bytes_out); break;
        case RP_LOG_ATTEMPTS: put_u(o, e->attempts); break;
        case RP_LOG_DURATION_MS:
        case RP_LOG_CONNECT_MS:
        case RP_LOG_FIRST_BYTE_MS: {
            double to = pc->field == RP_LOG_DURATION_MS  ? e->t_end
                        : pc->field == RP_LOG_CONNECT_MS ? e->t_connect
                                                         : e->t_first_byte;
            put_ms_between(o, e->t_start, to, "-", 1);
            break;
        }
        default: put_quoted_text(o, s, n); break;
        }
    }
}

/* `true` and the TLS facts, written at p + n; returns the new length. Out
 * of line, and given the cursor by value, so json()'s own stays in a
 * register. */
static __attribute__((noinline)) size_t json_tls_facts(char *p, size_t n,
                                                       const struct rp_access_entry *e)
{
    struct out local = {p, n, LINE_MAX_LEN}, *o = &local;
    put(o, "true", 4);
    KEY_JSON(o, "tls_version", e->tls_version, e->tls_version_len);
    KEY_JSON(o, "tls_cipher", e->tls_cipher, e->tls_cipher_len);
    KEY_JSON(o, "sni", e->sni, e->sni_len);
    return local.n;
}

static void json(struct out *out, const struct rp_access_entry *e)
{
    /* a local copy, all its writers inlined: its end stays in a register
     * instead of being reloaded after every byte stored through a char * */
    struct out local = *out, *o = &local;
    put(o, "{\"time\":\"", 9);
    put_iso_time(o, e->t_end);
    put(o, "\"", 1);
    KEY(o, "client");
    put_json(o, e->client, e->client_len); /* as text from a trusted chain: scanned */
    KEY(o, "method"); /* tokens (the parser checked): nothing to escape */
    if (e->method_len) {
        put(o, "\"", 1);
        put(o, e->method, e->method_len);
        put(o, "\"", 1);
    } else {
        put(o, "null", 4);
    }
    KEY_JSON(o, "uri", e->target, e->target_len);
    KEY_JSON(o, "host", e->host, e->host_len);
    KEY(o, "protocol");
    if (!e->method_len)
        put(o, "null", 4);
    else {
        put(o, "\"", 1);
        put(o, protocol_text(e->minor_version), 8);
        put(o, "\"", 1);
    }
    KEY(o, "tls");
    if (e->tls) /* its facts only over TLS, out of line: a plain line pays nothing */
        o->n = json_tls_facts(o->p, o->n, e);
    else
        put(o, "false", 5);
    KEY(o, "status");
    if (e->status >= 100 && e->status < 1000) { /* always, but for 0: three digits */
        unsigned lo = e->status % 100;
        char *d = o->p + o->n;
        d[0] = (char)('0' + e->status / 100);
        d[1] = digit_pairs[lo * 2];
        d[2] = digit_pairs[lo * 2 + 1];
        o->n += 3;
    } else {
        put_u(o, e->status);
    }
    KEY(o, "bytes_in");
    put_u(o, e->bytes_in);
    KEY(o, "bytes_out");
    put_u(o, e->bytes_out);
    KEY(o, "duration_ms");
    put_ms_between(o, e->t_start, e->t_end, "null", 4);
    KEY(o, "connect_ms");
    put_ms_between(o, e->t_start, e->t_connect, "null", 4);
    KEY(o, "first_byte_ms");
    put_ms_between(o, e->t_start, e->t_first_byte, "null", 4);
    KEY(o, "route");
    put_json(o, e->route, e->route ? strnlen(e->route, NAME_MAX_LEN) : 0);
    KEY(o, "backend");
    put_plain(o, e->backend);
    KEY(o, "server");
    put_plain(o, e->server);
    KEY(o, "attempts");
    put_u(o, e->attempts);
    KEY(o, "cache");
    put_plain(o, e->cache);
    KEY_JSON(o, "request_id", e->request_id, e->request_id_len);
    KEY_JSON(o, "referer", e->referer, e->referer_len);
    KEY_JSON(o, "user_agent", e->user_agent, e->user_agent_len);
    if (e->user_len)
        KEY_JSON(o, "user", e->user, e->user_len);
    KEY(o, "end");
    put_plain(o, e->end);
    put(o, "}", 1);
    *out = local;
}

/* The line, for rp_access_log_entry (inlined there) and tests. */
__attribute__((always_inline)) static inline size_t format_line(char *out,
                                                                const struct rp_access_log *def,
                                                                const struct rp_access_entry *e)
{
    struct out o = {out, 0, LINE_MAX_LEN};
    if (def->format == RP_ACCESS_LOG_JSON)
        json(&o, e);
    else if (def->format == RP_ACCESS_LOG_CUSTOM)
        custom(&o, def, e);
    else
        combined(&o, e);
    return o.n;
}

/* `sample`: a per-thread xorshift draw (no lock, no system call). */
static _Thread_local uint64_t t_sample_state;

static bool sampled(uint32_t ppm)
{
    uint64_t x = t_sample_state;
    if (!x) /* seeded per thread from its own address and the time */
        x = (((uint64_t)(uintptr_t)&t_sample_state * 0x9e3779b97f4a7c15ull) ^
             (uint64_t)time(NULL)) | 1;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    t_sample_state = x;
    return (x >> 11) % 1000000 < ppm;
}

void rp_access_log_entry(const struct rp_access_entry *e)
{
    if (!g.def)
        return;
    if (g.def->status_min && (e->status < g.def->status_min || e->status > g.def->status_max))
        return;
    if (g.def->sample_ppm && !sampled(g.def->sample_ppm))
        return;
    if (t_block && t_block->len + LINE_MAX_LEN > BLOCK_SIZE)
        rp_access_log_flush();
    if (!t_block) {
        if (!(t_block = malloc(sizeof *t_block))) {
            atomic_fetch_add(&g.dropped, 1);
            return;
        }
        t_block->len = 0;
        t_block->lines = 0;
    }
    size_t n = format_line(t_block->data + t_block->len, g.def, e);
    t_block->data[t_block->len + n] = '\n';
    t_block->len += n + 1;
    t_block->lines++;
}

size_t rp_access_log_format(char *out, const struct rp_access_log *def,
                            const struct rp_access_entry *e)
{
    return format_line(out, def, e);
}
