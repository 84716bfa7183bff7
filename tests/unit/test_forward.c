/* test_forward.c: client identity: addresses in X-Forwarded-For, the walk
 * over a trusted peer's chain, and the forwarding fields the server gets. */
#include <stdio.h>
#include <string.h>

#include "forward.h"
#include "t.h"

static void ip4(uint8_t out[16], uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    memset(out, 0, 16);
    out[10] = out[11] = 0xff;
    out[12] = a;
    out[13] = b;
    out[14] = c;
    out[15] = d;
}

T_SUITE(forward_ip_parse)
{
    uint8_t ip[16], want[16];
    ip4(want, 192, 0, 2, 1);
    T_OK(rp_ip_parse("192.0.2.1", 9, ip) && memcmp(ip, want, 16) == 0);
    T_OK(rp_ip_parse("2001:db8::1", 11, ip) && ip[0] == 0x20 && ip[15] == 1);
    T_OK(rp_ip_parse("[2001:db8::1]", 13, ip) && ip[0] == 0x20 && ip[15] == 1);
    T_OK(!rp_ip_parse("192.0.2.1:80", 12, ip));
    T_OK(!rp_ip_parse("unknown", 7, ip));
    T_OK(!rp_ip_parse("", 0, ip));
    T_OK(!rp_ip_parse("1.2.3.4.5", 9, ip));
}

/* 10.0.0.0/8 and 127.0.0.1 trusted. */
static const struct rp_ip_range trusted[] = {
    {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 0},
     {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 255, 255, 255}},
    {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1},
     {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1}},
};
static const struct rp_forwarding fw = {.send = RP_FWD_DEFAULT, .n_trusted = 2, .trusted = trusted};

/* The client rp_forward_client finds behind peer, for XFF values (NULL
 * ends), as text; "peer" when it is the peer itself. */
static const char *client_of(const uint8_t peer[16], const char *const *xff)
{
    struct rp_http1_header h[4];
    uint32_t n = 0;
    h[n++] = (struct rp_http1_header){.name = "Host", .name_len = 4, .value = "x", .value_len = 1};
    for (; *xff; xff++)
        h[n++] = (struct rp_http1_header){.name = "X-Forwarded-For", .name_len = 15,
                                          .value = *xff, .value_len = (uint32_t)strlen(*xff)};
    uint8_t client[16];
    const char *text;
    uint32_t len;
    rp_forward_client(&fw, peer, h, n, client, &text, &len);
    static char out[64];
    if (!text)
        return memcmp(client, peer, 16) == 0 ? "peer" : "?";
    snprintf(out, sizeof out, "%.*s", (int)len, text);
    uint8_t parsed[16];
    if (!rp_ip_parse(text, len, parsed) || memcmp(parsed, client, 16) != 0)
        return "mismatch";
    return out;
}

T_SUITE(forward_client)
{
    uint8_t lb[16], stranger[16];
    ip4(lb, 10, 0, 0, 5);
    ip4(stranger, 198, 51, 100, 1);
    T_STR(client_of(lb, (const char *const[]){"203.0.113.7", NULL}), "203.0.113.7");
    T_STR(client_of(lb, (const char *const[]){"203.0.113.7, 10.1.1.1", NULL}), "203.0.113.7");
    T_STR(client_of(lb, (const char *const[]){"1.1.1.1, 203.0.113.7, 10.1.1.1", NULL}),
          "203.0.113.7");
    T_STR(client_of(lb, (const char *const[]){" 203.0.113.7 ,  10.1.1.1 ", NULL}), "203.0.113.7");
    T_STR(client_of(lb, (const char *const[]){"203.0.113.7", "10.9.9.9", NULL}), "203.0.113.7");
    T_STR(client_of(lb, (const char *const[]){"10.2.2.2, 10.1.1.1", NULL}), "10.2.2.2");
    T_STR(client_of(lb, (const char *const[]){"203.0.113.7, bogus, 10.1.1.1", NULL}), "10.1.1.1");
    T_STR(client_of(lb, (const char *const[]){"bogus", NULL}), "peer");
    T_STR(client_of(lb, (const char *const[]){"2001:db8::7", NULL}), "2001:db8::7");
    T_STR(client_of(lb, (const char *const[]){",,", NULL}), "peer");
    T_STR(client_of(lb, (const char *const[]){NULL}), "peer");
    /* An untrusted peer is the client, whatever it claims. */
    T_STR(client_of(stranger, (const char *const[]){"203.0.113.7", NULL}), "peer");
}

static const char *written(uint32_t send, bool trusted_peer, const char *const *fields)
{
    static struct rp_http1_request req;
    memset(&req, 0, sizeof req);
    req.host = "site.test:8080";
    req.host_len = 14;
    for (; *fields; fields += 2) {
        struct rp_http1_header *h = &req.headers[req.n_headers++];
        *h = (struct rp_http1_header){.name = fields[0], .name_len = (uint32_t)strlen(fields[0]),
                                      .value = fields[1], .value_len = (uint32_t)strlen(fields[1])};
    }
    struct rp_forwarding f = {.send = send};
    struct rp_forward_ctx fc = {.fw = &f, .trusted = trusted_peer, .peer = "10.0.0.5",
                                .peer_len = 8, .client = "203.0.113.7", .client_len = 11,
                                .req = &req};
    static struct rp_buf b;
    b.start = b.end = 0;
    if (rp_forward_write(&b, &fc) < 0)
        return "FAILED";
    b.data[b.end] = 0;
    return b.data;
}

T_SUITE(forward_write)
{
    const uint32_t all = RP_FWD_XFF | RP_FWD_PROTO | RP_FWD_HOST | RP_FWD_REAL_IP | RP_FWD_FORWARDED;
    T_STR(written(RP_FWD_DEFAULT, false, (const char *const[]){"X-Forwarded-For", "1.2.3.4", NULL}),
          "X-Forwarded-For: 10.0.0.5\r\nX-Forwarded-Proto: http\r\n");
    T_STR(written(RP_FWD_XFF | RP_FWD_HOST, false, (const char *const[]){NULL}),
          "X-Forwarded-For: 10.0.0.5\r\nX-Forwarded-Host: site.test:8080\r\n");
    T_STR(written(all, true,
                  (const char *const[]){"X-Forwarded-For", "203.0.113.7", "x-forwarded-for",
                                        "10.9.9.9", "Forwarded", "for=203.0.113.7",
                                        "X-Forwarded-Proto", "https", NULL}),
          "X-Forwarded-For: 203.0.113.7, 10.9.9.9, 10.0.0.5\r\nX-Forwarded-Host: "
          "site.test:8080\r\nX-Real-IP: 203.0.113.7\r\nForwarded: for=203.0.113.7, "
          "for=10.0.0.5;host=\"site.test:8080\";proto=http\r\n");
    T_STR(written(0, false, (const char *const[]){NULL}), "");
    /* Which of the request's own fields are not copied. */
    T_EQ(rp_forward_drops(&fw, false),
         RP_FWD_XFF | RP_FWD_PROTO | RP_FWD_HOST | RP_FWD_REAL_IP | RP_FWD_FORWARDED);
    T_EQ(rp_forward_drops(&fw, true), RP_FWD_XFF);
    struct rp_http1_header h = {.name = "X-Forwarded-PROTO", .name_len = 17};
    T_EQ(rp_forward_field(&h), RP_FWD_PROTO);
    h = (struct rp_http1_header){.name = "X-Forwarded-Fox", .name_len = 15};
    T_EQ(rp_forward_field(&h), 0);
}
