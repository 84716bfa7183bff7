/* proxyproto.c: the PROXY protocol, versions 1 and 2 (proxyproto.h), as
 * HAProxy's proxy-protocol.txt specifies them. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxyproto.h"

static const char v2_sig[12] = "\r\n\r\n\0\r\nQUIT\n";

#define V1_MAX 107 /* "PROXY UNKNOWN" with the longest addresses and CRLF */

/* One space-separated field of a v1 line, NUL-terminated into out. */
static const char *v1_field(const char *p, const char *end, char *out, size_t cap)
{
    size_t n = 0;
    while (p < end && *p != ' ') {
        if (n + 1 >= cap)
            return NULL;
        out[n++] = *p++;
    }
    out[n] = '\0';
    if (n == 0)
        return NULL;
    return p < end ? p + 1 : p;
}

static bool v1_port(const char *s, uint16_t *port)
{
    /* 0..65535, no sign, no leading zero */
    size_t n = strlen(s);
    if (n == 0 || n > 5 || (n > 1 && s[0] == '0'))
        return false;
    unsigned long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    if (v > 65535)
        return false;
    *port = (uint16_t)v;
    return true;
}

static int parse_v1(const char *p, size_t n, struct sockaddr_storage *src)
{
    const char *crlf = NULL;
    for (size_t i = 0; i < n && i + 1 < V1_MAX; i++) {
        if (p[i] == '\n')
            return -1; /* a bare LF */
        if (p[i] == '\r' && i + 1 == n)
            return 0;
        if (p[i] == '\r') {
            if (p[i + 1] != '\n')
                return -1;
            crlf = p + i;
            break;
        }
    }
    if (!crlf)
        return n >= V1_MAX ? -1 : 0;
    int len = (int)(crlf - p) + 2;
    const char *s = p + 6, *end = crlf; /* after "PROXY " */
    char proto[8], sa[64], da[64], sp[8], dp[8];
    memset(src, 0, sizeof *src);
    if (!(s = v1_field(s, end, proto, sizeof proto)))
        return -1;
    if (strcmp(proto, "UNKNOWN") == 0) {
        src->ss_family = AF_UNSPEC; /* the rest of the line is ignored */
        return len;
    }
    bool v6 = strcmp(proto, "TCP6") == 0;
    if (!v6 && strcmp(proto, "TCP4") != 0)
        return -1;
    uint16_t sport, dport;
    if (!(s = v1_field(s, end, sa, sizeof sa)) || !(s = v1_field(s, end, da, sizeof da)) ||
        !(s = v1_field(s, end, sp, sizeof sp)) || !v1_field(s, end, dp, sizeof dp) ||
        memchr(s, ' ', (size_t)(end - s)) || !v1_port(sp, &sport) || !v1_port(dp, &dport))
        return -1;
    if (v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)src;
        struct in6_addr dst;
        if (inet_pton(AF_INET6, sa, &a->sin6_addr) != 1 || inet_pton(AF_INET6, da, &dst) != 1)
            return -1;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(sport);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)src;
        struct in_addr dst;
        if (inet_pton(AF_INET, sa, &a->sin_addr) != 1 || inet_pton(AF_INET, da, &dst) != 1)
            return -1;
        a->sin_family = AF_INET;
        a->sin_port = htons(sport);
    }
    return len;
}

static int parse_v2(const unsigned char *p, size_t n, struct sockaddr_storage *src)
{
    if (n < 16)
        return 0;
    unsigned ver_cmd = p[12], fam = p[13];
    size_t len = (size_t)p[14] << 8 | p[15];
    if ((ver_cmd >> 4) != 2 || (ver_cmd & 0xf) > 1 || len > RP_PROXY_HEADER_MAX - 16)
        return -1;
    if (n < 16 + len)
        return 0;
    memset(src, 0, sizeof *src);
    src->ss_family = AF_UNSPEC;
    if ((ver_cmd & 0xf) == 0) /* LOCAL: the proxy's own connection (a health check) */
        return (int)(16 + len);
    const unsigned char *a = p + 16;
    if (fam == 0x11) { /* TCP over IPv4 */
        if (len < 12)
            return -1;
        struct sockaddr_in *s4 = (struct sockaddr_in *)src;
        s4->sin_family = AF_INET;
        memcpy(&s4->sin_addr, a, 4);
        memcpy(&s4->sin_port, a + 8, 2);
    } else if (fam == 0x21) { /* TCP over IPv6 */
        if (len < 36)
            return -1;
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)src;
        s6->sin6_family = AF_INET6;
        memcpy(&s6->sin6_addr, a, 16);
        memcpy(&s6->sin6_port, a + 32, 2);
    }
    /* Other families (UDP, unix, unspecified) name no TCP client: the
     * connection's address stands. TLVs are skipped. */
    return (int)(16 + len);
}

int rp_proxy_header_parse(const char *p, size_t n, struct sockaddr_storage *src)
{
    /* Until the bytes tell the versions apart, a prefix of either may still
     * become one. */
    size_t k = n < 12 ? n : 12;
    if (memcmp(p, v2_sig, k) == 0)
        return n < 12 ? 0 : parse_v2((const unsigned char *)p, n, src);
    k = n < 6 ? n : 6;
    if (memcmp(p, "PROXY ", k) == 0)
        return n < 6 ? 0 : parse_v1(p, n, src);
    return -1;
}

/* The two addresses in one family: an IPv4 one is mapped into IPv6 when
 * the other is IPv6. */
static void as_v6(const struct sockaddr_storage *s, struct in6_addr *a, uint16_t *port)
{
    if (s->ss_family == AF_INET6) {
        *a = ((const struct sockaddr_in6 *)s)->sin6_addr;
        *port = ((const struct sockaddr_in6 *)s)->sin6_port;
        return;
    }
    memset(a, 0, sizeof *a);
    a->s6_addr[10] = a->s6_addr[11] = 0xff;
    memcpy(a->s6_addr + 12, &((const struct sockaddr_in *)s)->sin_addr, 4);
    *port = ((const struct sockaddr_in *)s)->sin_port;
}

size_t rp_proxy_header_write(char *out, size_t cap, int version,
                             const struct sockaddr_storage *src,
                             const struct sockaddr_storage *dst)
{
    bool v4 = src->ss_family == AF_INET && dst->ss_family == AF_INET;
    bool known = (src->ss_family == AF_INET || src->ss_family == AF_INET6) &&
                 (dst->ss_family == AF_INET || dst->ss_family == AF_INET6);
    if (version == 1) {
        if (!known) {
            int n = snprintf(out, cap, "PROXY UNKNOWN\r\n");
            return n > 0 && (size_t)n < cap ? (size_t)n : 0;
        }
        char sa[INET6_ADDRSTRLEN], da[INET6_ADDRSTRLEN];
        uint16_t sp, dp;
        if (v4) {
            const struct sockaddr_in *s = (const void *)src, *d = (const void *)dst;
            inet_ntop(AF_INET, &s->sin_addr, sa, sizeof sa);
            inet_ntop(AF_INET, &d->sin_addr, da, sizeof da);
            sp = s->sin_port;
            dp = d->sin_port;
        } else {
            struct in6_addr s6, d6;
            as_v6(src, &s6, &sp);
            as_v6(dst, &d6, &dp);
            inet_ntop(AF_INET6, &s6, sa, sizeof sa);
            inet_ntop(AF_INET6, &d6, da, sizeof da);
        }
        int n = snprintf(out, cap, "PROXY %s %s %s %u %u\r\n", v4 ? "TCP4" : "TCP6", sa, da,
                         ntohs(sp), ntohs(dp));
        return n > 0 && (size_t)n < cap ? (size_t)n : 0;
    }
    size_t len = !known ? 0 : v4 ? 12 : 36;
    if (cap < 16 + len)
        return 0;
    memcpy(out, v2_sig, 12);
    out[12] = known ? 0x21 : 0x20; /* version 2, PROXY (or LOCAL) */
    out[13] = !known ? 0x00 : v4 ? 0x11 : 0x21;
    out[14] = (char)(len >> 8);
    out[15] = (char)(len & 0xff);
    char *a = out + 16;
    if (v4) {
        const struct sockaddr_in *s = (const void *)src, *d = (const void *)dst;
        memcpy(a, &s->sin_addr, 4);
        memcpy(a + 4, &d->sin_addr, 4);
        memcpy(a + 8, &s->sin_port, 2);
        memcpy(a + 10, &d->sin_port, 2);
    } else if (known) {
        struct in6_addr s6, d6;
        uint16_t sp, dp;
        as_v6(src, &s6, &sp);
        as_v6(dst, &d6, &dp);
        memcpy(a, &s6, 16);
        memcpy(a + 16, &d6, 16);
        memcpy(a + 32, &sp, 2);
        memcpy(a + 34, &dp, 2);
    }
    return 16 + len;
}
