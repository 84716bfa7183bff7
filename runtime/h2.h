/* h2.h: HTTP/2 to clients (RFC 9113): over TLS when ALPN picks "h2", in
 * cleartext with prior knowledge on listeners marked `h2c`.
 *
 * libnghttp2 speaks the protocol: framing, HPACK, flow control, stream
 * states, the message rules of RFC 9113 8.2 (pseudo-header fields,
 * connection-specific fields, content-length against DATA, characters in
 * names and values) and the defences against rapid reset, CONTINUATION,
 * SETTINGS and PING floods. What it leaves to us is what a stream means.
 *
 * Each stream is an exchange on a connection of its own, a stream
 * connection (an rp_conn with h2s set) whose transport is memory: it reads
 * the stream's request as HTTP/1.1 and writes its response as HTTP/1.1,
 * which this module turns into HEADERS and DATA frames. So every phase of
 * an exchange (routes, acls, limits, auth, cache, compression, header
 * actions, logs, the strict request parser itself) runs over HTTP/2 by the
 * same code as over HTTP/1.1, and no feature works on one protocol only.
 * HAProxy 1.8 began the same way. The price is one serialization of each
 * head both ways, measured in bench/.
 *
 * Back-pressure both ways: a stream's DATA is acknowledged (WINDOW_UPDATE)
 * only as its exchange reads it, and a stream's response bytes are taken
 * from its exchange only while fewer than H2_BODY_MAX wait for the client's
 * window, so a slow reader of one stream stalls that stream's server, not
 * the others, and nothing is buffered without bound.
 */
#ifndef RP_H2_H
#define RP_H2_H

#include <stdbool.h>
#include <stddef.h>

struct rp_conn;

/* The client connection preface (RFC 9113 3.4). */
#define RP_H2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define RP_H2_PREFACE_LEN 24

/* Makes c an HTTP/2 connection (state RP_CONN_H2). `pre` holds bytes
 * already read from it (h2c: the preface and what followed). On failure c
 * is closed. */
void rp_h2_start(struct rp_conn *c, const char *pre, size_t pre_len);

/* The rest (its events, timer, drain, close) the connection reaches
 * through c->proto (conn.h: struct rp_conn_protocol). */

#endif
