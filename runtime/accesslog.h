/* accesslog.h: the access log (`log access ...`): a line per exchange, from
 * its record, written without ever making a worker wait.
 *
 * Each worker thread fills a buffer of its own; full, or once a second
 * (the worker's sweep), the buffer goes to a queue that one writer thread
 * empties to the file. The queue is bounded: when the file does not take
 * lines fast enough (a stalled disk, a full pipe), further buffers are
 * dropped and counted, and the count is reported in the error log. SIGUSR1
 * reopens the file (after logrotate moved it).
 */
#ifndef RP_ACCESSLOG_H
#define RP_ACCESSLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rp/program.h"

/* Opens the log the program names (none: nothing to do) and starts the
 * writer. Returns -1 (logged) when the file cannot be opened. */
int rp_access_log_start(const struct rp_program *prog);
/* Writes what is queued and stops the writer (the process exits). */
void rp_access_log_stop(void);
/* Reopens the file at its path, before the next write (SIGUSR1). */
void rp_access_log_reopen(void);
/* Whether an access log is written. */
extern bool rp_access_log_active; /* set by rp_access_log_start: read per request */
static inline bool rp_access_log_on(void)
{
    return rp_access_log_active;
}

/* One exchange, as a line says it. Strings are (pointer, length) slices;
 * NULL or length 0: absent. Times are seconds since the epoch (ev_now);
 * a time of 0 did not happen. */
struct rp_access_entry {
    const char *client;
    size_t client_len;
    const char *method, *target, *host, *user_agent, *referer;
    size_t method_len, target_len, host_len, user_agent_len, referer_len;
    unsigned minor_version; /* HTTP/1.x; 2: HTTP/2 */
    unsigned status;        /* 0: nothing was answered */
    uint64_t bytes_in, bytes_out;
    double t_start, t_connect, t_first_byte, t_end;
    const char *route;      /* "file:line" of the route, or NULL */
    const char *backend, *server;
    unsigned attempts;
    const char *cache;      /* HIT, MISS, ... or NULL */
    const char *request_id;
    size_t request_id_len;
    const char *end;        /* "done", or why the exchange ended early */
    const char *user;       /* the user name of Basic credentials, as sent; NULL: none */
    size_t user_len;
    bool tls;
    /* over TLS: the protocol version, the cipher, the name the client asked
     * for (SNI); (pointer, length), absent when not known */
    const char *tls_version, *tls_cipher, *sni;
    uint32_t tls_version_len, tls_cipher_len, sni_len;
};

/* The longest line (strings beyond their caps are cut, so a line fits). */
#define RP_ACCESS_LINE_MAX (24 * 1024)

/* Writes e's line (without the newline) as def says (its format, its
 * pieces for a custom one) to out, which has room for RP_ACCESS_LINE_MAX
 * bytes; returns its length. */
size_t rp_access_log_format(char *out, const struct rp_access_log *def,
                            const struct rp_access_entry *e);

/* Formats e as the log's format says and appends it to this thread's
 * buffer. */
void rp_access_log_entry(const struct rp_access_entry *e);

/* Hands this thread's buffer to the writer (the sweep timer; a worker's
 * exit). */
void rp_access_log_flush(void);

#endif
