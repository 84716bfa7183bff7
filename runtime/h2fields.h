/* h2fields.h: header fields between HTTP/1.1 text and HTTP/2 header lists,
 * the part both directions share: h2.c turns servers' responses into
 * HEADERS for clients, h2up.c turns requests into HEADERS for servers. */
#ifndef RP_H2FIELDS_H
#define RP_H2FIELDS_H

#include <nghttp2/nghttp2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "bytes.h"
#include "rp/http1.h"

/* ---- fields ---------------------------------------------------------------------------------- */

/* The fields of a parsed HTTP/1.1 head as header list entries at nva[0..]:
 * names lower-cased in place (the head's bytes must be the caller's),
 * connection-specific fields left out (RFC 9113 8.2.2), and any named in
 * `skip` (lower case, NULL-terminated list; may be NULL). Returns the count. */
size_t rp_h2_nv_from_fields(const struct rp_http1_header *f, uint32_t n, const char *const *skip,
                            nghttp2_nv *nva, size_t max);

/* A trailer section's lines ("name: value\r\n" ..., then "\r\n") as entries,
 * names lower-cased in place. Returns the count. */
size_t rp_h2_nv_from_lines(char *p, size_t len, nghttp2_nv *nva, size_t max);

/* Appends "name: value\r\n"; false when out of memory. */
bool rp_h2_line_add(struct bytes *out, const uint8_t *name, size_t name_len, const uint8_t *value,
                    size_t value_len);


/* ---- bodies ---------------------------------------------------------------------------------- */

/* A body framed as HTTP/1.1 frames it (a length, or chunked), decoded into
 * bytes as it comes: what DATA frames carry. */
struct rp_h2_body {
    bool chunked;  /* else a length */
    bool done;     /* its last byte (and trailer section) taken */
    uint64_t left; /* a length's bytes still to come */
    struct rp_chunked chunk;
};

void rp_h2_body_init(struct rp_h2_body *b, bool chunked, uint64_t length);

/* Takes up to n bytes of the framed body at p: its data is appended to
 * `data` while that holds fewer than `max` bytes, a chunked body's trailer
 * section to `trailers`. Returns the bytes taken (0: data is full), or -1
 * when the framing is malformed or memory runs out. */
ssize_t rp_h2_body_take(struct rp_h2_body *b, const char *p, size_t n, struct bytes *data,
                        size_t max, struct bytes *trailers);

/* Where a session's bytes are read into before nghttp2 takes them all
 * (nghttp2_session_mem_recv keeps nothing of its input): one buffer per
 * thread, so an idle HTTP/2 connection holds none. */
#define RP_H2_READ_SIZE (16 * 1024)
char *rp_h2_read_buffer(void);

/* Sends a session's frames through a transport: nghttp2's output gathered
 * in `out` (up to half of `max` at a time, so a write carries many frames),
 * written until the socket is full. Adds what went to *written. Returns 0,
 * or an errno (the connection is broken). */
struct rp_transport;
int rp_h2_send(nghttp2_session *ng, struct rp_transport *tr, struct bytes *out, size_t max,
               uint64_t *written);

/* What a memory transport's writev does with each run of bytes: takes
 * what it can (0: no room now), or fails (-1). */
typedef ssize_t rp_h2_take_fn(void *owner, const char *p, size_t n);

/* Offers iov[0..n) to take, in order, until it takes nothing. Returns the
 * bytes taken, or -1 (errno EAGAIN when it took none of them, EPROTO when
 * take failed). */
ssize_t rp_h2_writev(const struct iovec *iov, int n, rp_h2_take_fn *take, void *owner);

#endif
