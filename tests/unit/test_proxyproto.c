/* test_proxyproto.c: reading and writing PROXY protocol headers, v1 and v2. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "proxyproto.h"
#include "t.h"

static int parse(const char *p, size_t n, struct sockaddr_storage *src)
{
    return rp_proxy_header_parse(p, n, src);
}

static const char *addr_of(const struct sockaddr_storage *s)
{
    static char out[80];
    char ip[INET6_ADDRSTRLEN];
    if (s->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const void *)s;
        inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
        snprintf(out, sizeof out, "%s:%u", ip, ntohs(a->sin_port));
    } else if (s->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const void *)s;
        inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
        snprintf(out, sizeof out, "[%s]:%u", ip, ntohs(a->sin6_port));
    } else {
        snprintf(out, sizeof out, "unspec");
    }
    return out;
}

T_SUITE(proxyproto_v1)
{
    struct sockaddr_storage s;
    const char *h = "PROXY TCP4 203.0.113.7 10.0.0.1 5555 80\r\nGET / HTTP/1.1\r\n";
    T_EQ(parse(h, strlen(h), &s), 41);
    T_STR(addr_of(&s), "203.0.113.7:5555");
    h = "PROXY TCP6 2001:db8::7 2001:db8::1 65535 443\r\n";
    T_EQ(parse(h, strlen(h), &s), (int)strlen(h));
    T_STR(addr_of(&s), "[2001:db8::7]:65535");
    h = "PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n";
    T_EQ(parse(h, strlen(h), &s), (int)strlen(h));
    T_STR(addr_of(&s), "unspec");
    /* Any prefix waits for more. */
    h = "PROXY TCP4 203.0.113.7 10.0.0.1 5555 80\r\n";
    bool waits = true;
    for (size_t k = 0; k < strlen(h); k++)
        waits &= parse(h, k, &s) == 0;
    T_OK(waits);
    const char *bad[] = {
        "GET / HTTP/1.1\r\n\r\n",
        "PROXY TCP4 203.0.113.7 10.0.0.1 5555\r\n",
        "PROXY TCP4 203.0.113.7 10.0.0.1 5555 80 9\r\n",
        "PROXY TCP4 2001:db8::7 10.0.0.1 5555 80\r\n",
        "PROXY TCP4 203.0.113.7 10.0.0.1 65536 80\r\n",
        "PROXY TCP4 203.0.113.7 10.0.0.1 05555 80\r\n",
        "PROXY TCP5 203.0.113.7 10.0.0.1 5555 80\r\n",
        "PROXY TCP4 203.0.113.7 10.0.0.1 5555 80\n",
        "PROXY TCP4  203.0.113.7 10.0.0.1 5555 80\r\n",
    };
    bool all_bad = true;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        all_bad &= parse(bad[i], strlen(bad[i]), &s) < 0;
    T_OK(all_bad);
    /* No CRLF within the longest line: refused, not waited for. */
    char long_line[200];
    memset(long_line, 'x', sizeof long_line);
    memcpy(long_line, "PROXY TCP4 ", 11);
    T_EQ(parse(long_line, sizeof long_line, &s), -1);
}

T_SUITE(proxyproto_v2)
{
    struct sockaddr_storage src = {0}, dst = {0}, got;
    struct sockaddr_in *s4 = (void *)&src, *d4 = (void *)&dst;
    s4->sin_family = d4->sin_family = AF_INET;
    inet_pton(AF_INET, "198.51.100.9", &s4->sin_addr);
    inet_pton(AF_INET, "10.0.0.1", &d4->sin_addr);
    s4->sin_port = htons(40000);
    d4->sin_port = htons(8080);
    char buf[128];
    size_t n = rp_proxy_header_write(buf, sizeof buf, 2, &src, &dst);
    T_EQ(n, 28);
    T_EQ(parse(buf, n, &got), 28);
    T_STR(addr_of(&got), "198.51.100.9:40000");
    bool waits = true;
    for (size_t k = 0; k < n; k++)
        waits &= parse(buf, k, &got) == 0;
    T_OK(waits);
    /* v1 written, read back. */
    n = rp_proxy_header_write(buf, sizeof buf, 1, &src, &dst);
    T_SLICE(buf, n, "PROXY TCP4 198.51.100.9 10.0.0.1 40000 8080\r\n");
    /* IPv6 client, IPv4 local address: both as IPv6. */
    struct sockaddr_storage src6 = {0};
    struct sockaddr_in6 *s6 = (void *)&src6;
    s6->sin6_family = AF_INET6;
    inet_pton(AF_INET6, "2001:db8::9", &s6->sin6_addr);
    s6->sin6_port = htons(1234);
    n = rp_proxy_header_write(buf, sizeof buf, 2, &src6, &dst);
    T_EQ(n, 52);
    T_EQ(parse(buf, n, &got), 52);
    T_STR(addr_of(&got), "[2001:db8::9]:1234");
    n = rp_proxy_header_write(buf, sizeof buf, 1, &src6, &dst);
    T_SLICE(buf, n, "PROXY TCP6 2001:db8::9 ::ffff:10.0.0.1 1234 8080\r\n");
    /* LOCAL (a health check): no client named. */
    struct sockaddr_storage none = {.ss_family = AF_UNSPEC};
    n = rp_proxy_header_write(buf, sizeof buf, 2, &none, &none);
    T_EQ(n, 16);
    T_EQ(parse(buf, n, &got), 16);
    T_STR(addr_of(&got), "unspec");
    n = rp_proxy_header_write(buf, sizeof buf, 1, &none, &none);
    T_SLICE(buf, n, "PROXY UNKNOWN\r\n");
    /* A wrong version, and a length over the bound. */
    rp_proxy_header_write(buf, sizeof buf, 2, &src, &dst);
    buf[12] = 0x31;
    T_EQ(parse(buf, 28, &got), -1);
    rp_proxy_header_write(buf, sizeof buf, 2, &src, &dst);
    buf[14] = 0x7f;
    T_EQ(parse(buf, 28, &got), -1);
    /* TLVs after the addresses are skipped. */
    n = rp_proxy_header_write(buf, sizeof buf, 2, &src, &dst);
    buf[15] = 12 + 5;
    memcpy(buf + n, "\x04\x00\x02hi", 5);
    T_EQ(parse(buf, n + 5, &got), 33);
    T_STR(addr_of(&got), "198.51.100.9:40000");
}
