/* proxyproto.h: the PROXY protocol (HAProxy's, versions 1 and 2), by which
 * a proxy in front tells the next one who the client is before the first
 * byte of the client's own. Read on listeners that say `proxy_protocol`
 * (from trusted peers only), written on connections to servers that say
 * `proxy_protocol v1|v2`. */
#ifndef RP_PROXYPROTO_H
#define RP_PROXYPROTO_H

#include <stddef.h>
#include <sys/socket.h>

/* The longest header read: v1 is at most 107 bytes; a v2 header with more
 * than this many bytes of addresses and TLVs is refused. */
#define RP_PROXY_HEADER_MAX 1024

/* Reads a PROXY header at the start of p[0..n). Returns its length when
 * complete and valid, 0 when more bytes are needed, -1 when it is malformed
 * or absent. *src gets the client's address and port, or AF_UNSPEC when the
 * header names none (v1 UNKNOWN, v2 LOCAL or another family): the
 * connection's own address stands then. */
int rp_proxy_header_parse(const char *p, size_t n, struct sockaddr_storage *src);

/* Writes a header of `version` (1 or 2) naming src (the client) and dst
 * (the address it connected to) into out. Returns its length, or 0 when it
 * does not fit in cap. */
size_t rp_proxy_header_write(char *out, size_t cap, int version,
                             const struct sockaddr_storage *src,
                             const struct sockaddr_storage *dst);

#endif
