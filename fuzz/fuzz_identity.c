/* fuzz_identity.c: libFuzzer target over what a client (or a proxy in front)
 * says about itself and its request before routing: the PROXY protocol
 * header (runtime/proxyproto.c), the request path's normalization
 * (rp_path_normalize, rp_path_check), X-Forwarded-For walking
 * (runtime/forward.c) and Accept-Encoding (runtime/compress.c). The first
 * input byte picks the subject. Invariants:
 *
 *  - PROXY: a header is found at one length L <= n; every prefix shorter
 *    than L needs more (0), never an answer; an address it names, written
 *    back as v1 and as v2, reads back the same;
 *  - paths: normalizing never grows a path, is idempotent, leaves no "//"
 *    and no escape of '/', '\' or NUL, and agrees with the one-pass check
 *    (0: unchanged, -1: refused);
 *  - X-Forwarded-For: the client text, when there is one, lies inside the
 *    field and parses to the client address;
 *  - Accept-Encoding: the codings accepted are gzip or br, and the one
 *    chosen is one of them (none only when none is accepted).
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compress.h"
#include "forward.h"
#include "fuzz_http1.h" /* CHECK, the entry point's prototype */
#include "proxyproto.h"
#include "rp/match.h"

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return false;
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
    return x->sin6_port == y->sin6_port && memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
}

static void proxy_header(const char *d, size_t n)
{
    struct sockaddr_storage src;
    int r = rp_proxy_header_parse(d, n, &src);
    CHECK(r >= -1 && r <= (int)n);
    if (r <= 0)
        return;
    for (size_t k = 0; k < (size_t)r; k++) {
        struct sockaddr_storage tmp;
        CHECK(rp_proxy_header_parse(d, k, &tmp) == 0);
    }
    if (src.ss_family != AF_INET && src.ss_family != AF_INET6)
        return;
    for (int v = 1; v <= 2; v++) {
        char out[256];
        size_t len = rp_proxy_header_write(out, sizeof out, v, &src, &src);
        CHECK(len > 0);
        struct sockaddr_storage back;
        CHECK(rp_proxy_header_parse(out, len, &back) == (int)len);
        CHECK(same_addr(&src, &back));
    }
}

static void path(const char *d, size_t n)
{
    if (n > 4096)
        return;
    char *out = malloc(n + 1), *again = malloc(n + 1);
    int len = rp_path_normalize(d, n, out);
    int check = rp_path_check(d, n);
    if (check < 0)
        CHECK(len < 0);
    if (check == 0)
        CHECK(len == (int)n && memcmp(out, d, n) == 0);
    if (len >= 0) {
        CHECK(len <= (int)n);
        for (int i = 0; i + 1 < len; i++)
            CHECK(!(out[i] == '/' && out[i + 1] == '/'));
        for (int i = 0; i + 2 < len; i++)
            if (out[i] == '%')
                CHECK(!((out[i + 1] == '2' && out[i + 2] == 'F') ||
                        (out[i + 1] == '5' && out[i + 2] == 'C') ||
                        (out[i + 1] == '0' && out[i + 2] == '0')));
        int len2 = rp_path_normalize(out, (size_t)len, again);
        CHECK(len2 == len && memcmp(again, out, (size_t)len) == 0);
    }
    free(out);
    free(again);
}

static void forwarded_for(const char *d, size_t n)
{
    /* 127.0.0.0/8 and 10.0.0.0/8 trusted; the peer is 10.0.0.1. */
    static const struct rp_ip_range trusted[] = {
        {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 0},
         {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 255, 255, 255}},
        {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 0},
         {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 255, 255, 255}},
    };
    static const struct rp_forwarding fw = {.send = RP_FWD_DEFAULT, .n_trusted = 2,
                                            .trusted = trusted};
    uint8_t peer[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1}, client[16];
    /* Up to three fields: the input split at NUL bytes. */
    struct rp_http1_header h[3];
    uint32_t k = 0;
    const char *p = d, *end = d + n;
    while (k < 3 && p <= end) {
        const char *z = memchr(p, 0, (size_t)(end - p));
        const char *e = z ? z : end;
        h[k++] = (struct rp_http1_header){.name = "X-Forwarded-For", .name_len = 15,
                                          .value = p, .value_len = (uint32_t)(e - p)};
        if (!z)
            break;
        p = z + 1;
    }
    const char *text;
    uint32_t len;
    CHECK(rp_forward_client(&fw, peer, h, k, client, &text, &len));
    if (text) {
        bool inside = false;
        for (uint32_t i = 0; i < k; i++)
            inside |= text >= h[i].value && text + len <= h[i].value + h[i].value_len;
        CHECK(inside);
        uint8_t ip[16];
        CHECK(rp_ip_parse(text, len, ip) && memcmp(ip, client, 16) == 0);
    } else {
        CHECK(memcmp(client, peer, 16) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *d = (const char *)data + 1;
    size_t n = size - 1;
    switch (data[0] % 4) {
    case 0: proxy_header(d, n); break;
    case 1: path(d, n); break;
    case 2: forwarded_for(d, n); break;
    default: {
        struct rp_http1_header h = {.name = "Accept-Encoding", .name_len = 15, .value = d,
                                    .value_len = (uint32_t)n};
        uint32_t ok = rp_accept_codings(&h, 1);
        CHECK((ok & ~(RP_CODING_GZIP | RP_CODING_BR)) == 0);
        /* The chosen coding is one, and one the client accepts. */
        uint32_t pick = rp_accept_choose(&h, 1, RP_CODING_GZIP | RP_CODING_BR);
        CHECK(pick == 0 || pick == RP_CODING_GZIP || pick == RP_CODING_BR);
        CHECK((pick & ok) == pick);
        CHECK(pick != 0 || ok == 0);
        break;
    }
    }
    return 0;
}
