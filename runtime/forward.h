/* forward.h: client identity. Who the client of a request is: its peer, or,
 * when the peer is a trusted proxy, the last untrusted address of the
 * X-Forwarded-For chain it passes on (as nginx's realip with recursion);
 * and the forwarding fields the server gets (X-Forwarded-For, -Proto,
 * -Host, X-Real-IP, Forwarded). From an untrusted peer the request's own
 * forwarding fields are never passed on: what a client claims about its
 * address is not the truth. */
#ifndef RP_FORWARD_H
#define RP_FORWARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "buf.h"
#include "rp/http1.h"
#include "rp/match.h" /* rp_ip_parse, rp_forward_client */
#include "rp/program.h"

/* The runtime's defaults when the policy has no `forwarded { }`. */
extern const struct rp_forwarding rp_forwarding_default;

/* A socket address as 16 bytes (IPv4 as ::ffff:a.b.c.d), as policies see
 * it. Inline: every request asks. */
static inline void rp_ip_from_sockaddr(const struct sockaddr_storage *ss, uint8_t out[16])
{
    if (ss->ss_family == AF_INET6) {
        memcpy(out, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
    } else {
        memset(out, 0, 10);
        out[10] = out[11] = 0xff;
        memcpy(out + 12, &((const struct sockaddr_in *)ss)->sin_addr, 4);
    }
}

/* Which forwarding field h is (RP_FWD_*), or 0. */
static inline uint32_t rp_forward_field(const struct rp_http1_header *h)
{
    switch (h->name_len) {
    case 9:
        return rp_http1_name_is(h, "forwarded", 9)   ? RP_FWD_FORWARDED
               : rp_http1_name_is(h, "x-real-ip", 9) ? RP_FWD_REAL_IP
                                                     : 0;
    case 15: return rp_http1_name_is(h, "x-forwarded-for", 15) ? RP_FWD_XFF : 0;
    case 16: return rp_http1_name_is(h, "x-forwarded-host", 16) ? RP_FWD_HOST : 0;
    case 17: return rp_http1_name_is(h, "x-forwarded-proto", 17) ? RP_FWD_PROTO : 0;
    default: return 0;
    }
}

/* The request's own forwarding fields (RP_FWD_*) the proxy does not copy
 * to the server: all of them from an untrusted peer; from a trusted one,
 * those it writes itself (the chains, extended, and X-Real-IP). */
static inline uint32_t rp_forward_drops(const struct rp_forwarding *fw, bool trusted)
{
    if (!trusted)
        return RP_FWD_XFF | RP_FWD_PROTO | RP_FWD_HOST | RP_FWD_REAL_IP | RP_FWD_FORWARDED;
    return fw->send & (RP_FWD_XFF | RP_FWD_REAL_IP | RP_FWD_FORWARDED);
}

/* What rp_forward_write needs to know of the exchange. */
struct rp_forward_ctx {
    const struct rp_forwarding *fw;
    bool trusted;                 /* the peer is trusted */
    bool https;                   /* the client came over TLS */
    const char *peer, *client;    /* their addresses as text */
    uint32_t peer_len, client_len;
    const struct rp_http1_request *req;
    /* The connection's copy of what depends only on its peer (an untrusted
     * peer's X-Forwarded-For and -Proto lines): made on its first request,
     * copied whole on the next ones. NULL: none. */
    char *cache;
    uint8_t *cache_len;
    size_t cache_size;
};

/* Appends the forwarding fields to the server's request head. Returns -1
 * when they do not fit. */
int rp_forward_write(struct rp_buf *b, const struct rp_forward_ctx *fc);

#endif
