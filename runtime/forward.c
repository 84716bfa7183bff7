/* forward.c: client identity (forward.h). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "forward.h"
#include "rp/match.h"

const struct rp_forwarding rp_forwarding_default = {.send = RP_FWD_DEFAULT};


bool rp_ip_parse(const char *p, size_t n, uint8_t out[16])
{
    if (n >= 2 && p[0] == '[' && p[n - 1] == ']') {
        p++;
        n -= 2;
    }
    char text[INET6_ADDRSTRLEN];
    if (n == 0 || n >= sizeof text)
        return false;
    memcpy(text, p, n);
    text[n] = '\0';
    unsigned char v4[4];
    if (inet_pton(AF_INET, text, v4) == 1) {
        memset(out, 0, 10);
        out[10] = out[11] = 0xff;
        memcpy(out + 12, v4, 4);
        return true;
    }
    return inet_pton(AF_INET6, text, out) == 1;
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

bool rp_forward_client(const struct rp_forwarding *fw, const uint8_t peer[16],
                       const struct rp_http1_header *h, uint32_t n, uint8_t client[16],
                       const char **text, uint32_t *text_len)
{
    memcpy(client, peer, 16);
    *text = NULL;
    *text_len = 0;
    if (!fw->n_trusted || !rp_ip_in(peer, fw->trusted, fw->n_trusted))
        return false;
    /* Several fields are one list: the last field's last entry is the
     * nearest hop. */
    for (uint32_t i = n; i-- > 0;) {
        if (!rp_http1_name_is(&h[i], "x-forwarded-for", 15))
            continue;
        const char *v = h[i].value, *end = v + h[i].value_len;
        while (end > v) {
            const char *e = end;
            while (e > v && is_ows(e[-1]))
                e--;
            const char *s = e;
            while (s > v && s[-1] != ',')
                s--;
            end = s > v ? s - 1 : v; /* before the comma */
            while (s < e && is_ows(*s))
                s++;
            if (s == e)
                continue; /* an empty element */
            uint8_t ip[16];
            if (!rp_ip_parse(s, (size_t)(e - s), ip))
                return true; /* not an address: the hop before it is the client */
            memcpy(client, ip, 16);
            *text = s;
            *text_len = (uint32_t)(e - s);
            if (!rp_ip_in(ip, fw->trusted, fw->n_trusted))
                return true;
        }
    }
    return true;
}

static bool has_field(const struct rp_http1_request *req, uint32_t which)
{
    for (uint32_t i = 0; i < req->n_headers; i++)
        if (rp_forward_field(&req->headers[i]) == which)
            return true;
    return false;
}

/* Appends the values of the request's fields of one kind, as one list
 * followed by ", ", when there are any. */
static int add_chain(struct rp_buf *b, const struct rp_http1_request *req, uint32_t which)
{
    int rc = 0;
    for (uint32_t i = 0; i < req->n_headers; i++) {
        const struct rp_http1_header *h = &req->headers[i];
        if (h->value_len == 0 || rp_forward_field(h) != which)
            continue;
        rc |= rp_buf_add(b, h->value, h->value_len);
        rc |= RP_BUF_ADD_LIT(b, ", ");
    }
    return rc;
}

/* A Forwarded node (RFC 7239 6): an IPv6 address in brackets, quoted. */
static int add_node(struct rp_buf *b, const char *ip, size_t n)
{
    if (!memchr(ip, ':', n))
        return rp_buf_add(b, ip, n);
    int rc = RP_BUF_ADD_LIT(b, "\"[");
    rc |= rp_buf_add(b, ip, n);
    return rc | RP_BUF_ADD_LIT(b, "]\"");
}

/* A quoted-string (RFC 9110 5.6.4). */
static int add_quoted(struct rp_buf *b, const char *s, size_t n)
{
    int rc = RP_BUF_ADD_LIT(b, "\"");
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"' || s[i] == '\\')
            rc |= RP_BUF_ADD_LIT(b, "\\");
        rc |= rp_buf_add(b, s + i, 1);
    }
    return rc | RP_BUF_ADD_LIT(b, "\"");
}

int rp_forward_write(struct rp_buf *b, const struct rp_forward_ctx *fc)
{
    const struct rp_http1_request *req = fc->req;
    uint32_t send = fc->fw->send;
    int rc = 0;
    if (!fc->trusted && fc->cache) {
        /* The common case, in one copy: the same lines for every request of
         * a connection from an untrusted peer. */
        if (!*fc->cache_len) {
            size_t n = 0;
            char *c = fc->cache;
            if (send & RP_FWD_XFF) {
                n = (size_t)snprintf(c, fc->cache_size, "X-Forwarded-For: %.*s\r\n",
                                     (int)fc->peer_len, fc->peer);
            }
            if ((send & RP_FWD_PROTO) && n < fc->cache_size)
                n += (size_t)snprintf(c + n, fc->cache_size - n, "X-Forwarded-Proto: %s\r\n",
                                      fc->https ? "https" : "http");
            if (n >= fc->cache_size)
                return -1;
            *fc->cache_len = (uint8_t)n;
        }
        rc |= rp_buf_add(b, fc->cache, *fc->cache_len);
        send &= ~(uint32_t)(RP_FWD_XFF | RP_FWD_PROTO);
    }
    if (send & RP_FWD_XFF) {
        rc |= RP_BUF_ADD_LIT(b, "X-Forwarded-For: ");
        if (fc->trusted)
            rc |= add_chain(b, req, RP_FWD_XFF);
        rc |= rp_buf_add(b, fc->peer, fc->peer_len);
        rc |= RP_BUF_ADD_LIT(b, "\r\n");
    }
    /* A trusted peer's Proto and Host describe the first hop: they stay. */
    if ((send & RP_FWD_PROTO) && !(fc->trusted && has_field(req, RP_FWD_PROTO)))
        rc |= fc->https ? RP_BUF_ADD_LIT(b, "X-Forwarded-Proto: https\r\n")
                        : RP_BUF_ADD_LIT(b, "X-Forwarded-Proto: http\r\n");
    if ((send & RP_FWD_HOST) && req->host && !(fc->trusted && has_field(req, RP_FWD_HOST))) {
        rc |= RP_BUF_ADD_LIT(b, "X-Forwarded-Host: ");
        rc |= rp_buf_add(b, req->host, req->host_len);
        rc |= RP_BUF_ADD_LIT(b, "\r\n");
    }
    if (send & RP_FWD_REAL_IP) {
        rc |= RP_BUF_ADD_LIT(b, "X-Real-IP: ");
        rc |= rp_buf_add(b, fc->client, fc->client_len);
        rc |= RP_BUF_ADD_LIT(b, "\r\n");
    }
    if (send & RP_FWD_FORWARDED) {
        rc |= RP_BUF_ADD_LIT(b, "Forwarded: ");
        if (fc->trusted)
            rc |= add_chain(b, req, RP_FWD_FORWARDED);
        rc |= RP_BUF_ADD_LIT(b, "for=");
        rc |= add_node(b, fc->peer, fc->peer_len);
        if (req->host) {
            rc |= RP_BUF_ADD_LIT(b, ";host=");
            rc |= add_quoted(b, req->host, req->host_len);
        }
        rc |= fc->https ? RP_BUF_ADD_LIT(b, ";proto=https\r\n")
                        : RP_BUF_ADD_LIT(b, ";proto=http\r\n");
    }
    return rc ? -1 : 0;
}
