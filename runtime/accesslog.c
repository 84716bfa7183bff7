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
#include <unistd.h>

#include "accesslog.h"
#include "log.h"

#define BLOCK_SIZE (64 * 1024)      /* a thread's buffer */
#define QUEUE_MAX_BLOCKS 128        /* 8 MB waiting for the file at most */
#define LINE_MAX_LEN (16 * 1024)    /* a longer line is cut (captures are bounded below it) */

struct block {
    struct block *next;
    size_t len;
    uint64_t lines;
    char data[BLOCK_SIZE];
};

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

bool rp_access_log_on(void)
{
    return g.def != NULL;
}

static int open_log(const char *path)
{
    if (!path)
        return dup(STDOUT_FILENO);
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
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
        if (atomic_exchange(&g.reopen, false) && g.def->path) {
            int fd = open_log(g.def->path);
            if (fd < 0) {
                rp_error("access log %s: cannot reopen: %s", g.def->path, strerror(errno));
            } else {
                close(g.fd);
                g.fd = fd;
            }
        }
        while (list) {
            struct block *b = list;
            list = b->next;
            write_all(g.fd, b->data, b->len);
            free(b);
        }
        uint64_t dropped = atomic_load(&g.dropped);
        if (dropped != reported) {
            rp_warn("access log: %llu lines dropped (the file did not take them fast enough)",
                    (unsigned long long)(dropped - reported));
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
    g.fd = open_log(g.def->path);
    if (g.fd < 0) {
        rp_error("access log %s (%s): cannot open: %s", g.def->path ? g.def->path : "stdout",
                 g.def->where, strerror(errno));
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
        close(g.fd);
        g.def = NULL;
        return -1;
    }
    g.running = true;
    return 0;
}

void rp_access_log_stop(void)
{
    if (!g.running)
        return;
    rp_access_log_flush(); /* the main thread's, if any */
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

static void put(struct out *o, const char *s, size_t n)
{
    if (n > o->cap - o->n)
        n = o->cap - o->n;
    memcpy(o->p + o->n, s, n);
    o->n += n;
}

static void puts_(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

static void put_ms(struct out *o, double seconds)
{
    char t[32];
    int k = snprintf(t, sizeof t, "%.3f", seconds * 1e3);
    if (k > 0)
        put(o, t, (size_t)k);
}

static void put_u(struct out *o, unsigned long long v)
{
    char t[24];
    int k = snprintf(t, sizeof t, "%llu", v);
    put(o, t, (size_t)k);
}

/* A string in a combined line's quotes: '"' and '\' escaped, control and
 * non-ASCII bytes as \xHH (as nginx does), so a line stays one line. */
static void put_quoted_text(struct out *o, const char *s, size_t n)
{
    if (!s || !n) {
        put(o, "-", 1);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\' || ch < 0x20 || ch >= 0x7f) {
            char t[5];
            snprintf(t, sizeof t, "\\x%02X", ch);
            put(o, t, 4);
        } else {
            put(o, (const char *)&ch, 1);
        }
    }
}

/* A JSON string (RFC 8259): quotes, backslash and control characters
 * escaped; bytes that are not UTF-8 text (header values may hold any) as
 * \u00XX of the byte, so the line always parses. */
static void put_json(struct out *o, const char *s, size_t n)
{
    if (!s) {
        put(o, "null", 4);
        return;
    }
    put(o, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\') {
            char t[2] = {'\\', (char)ch};
            put(o, t, 2);
        } else if (ch < 0x20 || ch >= 0x7f) {
            char t[8];
            snprintf(t, sizeof t, "\\u%04x", ch);
            put(o, t, 6);
        } else {
            put(o, (const char *)&ch, 1);
        }
    }
    put(o, "\"", 1);
}

static void put_json_str(struct out *o, const char *key, const char *s, size_t n)
{
    put(o, ",\"", 2);
    puts_(o, key);
    put(o, "\":", 2);
    put_json(o, s, n);
}

static void put_json_ms(struct out *o, const char *key, double from, double to)
{
    put(o, ",\"", 2);
    puts_(o, key);
    put(o, "\":", 2);
    if (to > 0 && from > 0)
        put_ms(o, to - from);
    else
        put(o, "null", 4);
}

static void combined(struct out *o, const struct rp_access_entry *e)
{
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    put(o, e->client, e->client_len);
    time_t t = (time_t)e->t_end;
    struct tm tm;
    gmtime_r(&t, &tm);
    char when[40];
    int k = snprintf(when, sizeof when, " - - [%02d/%s/%04d:%02d:%02d:%02d +0000] \"", tm.tm_mday,
                     months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    put(o, when, (size_t)k);
    if (e->method_len) {
        put_quoted_text(o, e->method, e->method_len);
        put(o, " ", 1);
        put_quoted_text(o, e->target, e->target_len);
        put(o, e->minor_version ? " HTTP/1.1\" " : " HTTP/1.0\" ", 11);
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
}

static void json(struct out *o, const struct rp_access_entry *e)
{
    time_t t = (time_t)e->t_end;
    struct tm tm;
    gmtime_r(&t, &tm);
    char when[48];
    int k = snprintf(when, sizeof when, "{\"time\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\"",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, (int)((e->t_end - (double)t) * 1000) % 1000);
    put(o, when, (size_t)k);
    put_json_str(o, "client", e->client, e->client_len);
    put_json_str(o, "method", e->method_len ? e->method : NULL, e->method_len);
    put_json_str(o, "uri", e->target_len ? e->target : NULL, e->target_len);
    put_json_str(o, "host", e->host_len ? e->host : NULL, e->host_len);
    put(o, ",\"protocol\":", 12);
    put_json(o, e->method_len ? (e->minor_version ? "HTTP/1.1" : "HTTP/1.0") : NULL, 8);
    put(o, ",\"tls\":", 7);
    puts_(o, e->tls ? "true" : "false");
    put(o, ",\"status\":", 10);
    put_u(o, e->status);
    put(o, ",\"bytes_in\":", 12);
    put_u(o, e->bytes_in);
    put(o, ",\"bytes_out\":", 13);
    put_u(o, e->bytes_out);
    put_json_ms(o, "duration_ms", e->t_start, e->t_end);
    put_json_ms(o, "connect_ms", e->t_start, e->t_connect);
    put_json_ms(o, "first_byte_ms", e->t_start, e->t_first_byte);
    put_json_str(o, "route", e->route, e->route ? strlen(e->route) : 0);
    put_json_str(o, "backend", e->backend, e->backend ? strlen(e->backend) : 0);
    put_json_str(o, "server", e->server, e->server ? strlen(e->server) : 0);
    put(o, ",\"attempts\":", 12);
    put_u(o, e->attempts);
    put_json_str(o, "cache", e->cache, e->cache ? strlen(e->cache) : 0);
    put_json_str(o, "request_id", e->request_id_len ? e->request_id : NULL, e->request_id_len);
    put_json_str(o, "referer", e->referer_len ? e->referer : NULL, e->referer_len);
    put_json_str(o, "user_agent", e->user_agent_len ? e->user_agent : NULL, e->user_agent_len);
    put_json_str(o, "end", e->end, e->end ? strlen(e->end) : 0);
    put(o, "}", 1);
}

void rp_access_log_entry(const struct rp_access_entry *e)
{
    if (!g.def)
        return;
    char line[LINE_MAX_LEN];
    struct out o = {line, 0, sizeof line - 1};
    if (g.def->format == RP_ACCESS_LOG_JSON)
        json(&o, e);
    else
        combined(&o, e);
    line[o.n++] = '\n';
    if (t_block && t_block->len + o.n > BLOCK_SIZE)
        rp_access_log_flush();
    if (!t_block) {
        if (!(t_block = malloc(sizeof *t_block))) {
            atomic_fetch_add(&g.dropped, 1);
            return;
        }
        t_block->len = 0;
        t_block->lines = 0;
    }
    memcpy(t_block->data + t_block->len, line, o.n);
    t_block->len += o.n;
    t_block->lines++;
}
