/* policy_test.c: runs a policy's test blocks (rp_program.tests) against its
 * decision function, the same call the proxy makes for each request. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "rp/http1.h"
#include "rp/match.h"
#include "rp/policy_test.h"

/* A decision's route when the path was refused before routing. */
#define RP_REFUSED (RP_NO_ROUTE - 1)

void rp_test_request_build(struct rp_test_request *r, const struct rp_forwarding *fw,
                           const char *method, const char *url, const char *client_ip,
                           const struct rp_test_header *headers, uint32_t n_headers)
{
    memset(r, 0, sizeof *r);
    struct rp_request_view *v = &r->view;
    v->method = method;
    v->method_len = (uint32_t)strlen(method);
    const char *u = url, *host = NULL;
    size_t host_len = 0;
    if (strncmp(u, "http://", 7) == 0) {
        host = u + 7;
        u = strchr(host, '/');
        if (!u)
            u = host + strlen(host);
        host_len = (size_t)(u - host);
    }
    uint32_t n = 0;
    for (uint32_t i = 0; i < n_headers && n < RP_TEST_MAX_HEADERS; i++, n++) {
        struct rp_http1_header *h = &r->headers[n];
        h->name = headers[i].name;
        h->name_len = (uint32_t)strlen(headers[i].name);
        h->value = headers[i].value;
        h->value_len = (uint32_t)strlen(headers[i].value);
        if (!host && h->name_len == 4 && strncasecmp(h->name, "host", 4) == 0) {
            host = h->value;
            host_len = h->value_len;
        }
    }
    v->headers = r->headers;
    v->n_headers = n;
    /* the host as the proxy matches it (conn.c uses the same function) */
    int k = rp_host_key(host ? host : "", host ? host_len : 0, r->host, sizeof r->host);
    if (k < 0) { /* too long to be a host: the proxy answers 400 */
        k = 0;
        r->host[0] = '\0';
    }
    v->host = r->host;
    v->host_len = (uint32_t)k;
    const char *q = strchr(u, '?');
    v->path = *u ? u : "/";
    v->path_len = (uint32_t)(q ? (size_t)(q - u) : strlen(u));
    if (!*u)
        v->path_len = 1;
    if (q) {
        v->query = q + 1;
        v->query_len = (uint32_t)strlen(q + 1);
    }
    /* the path as the proxy routes it (conn.c uses the same function) */
    int len = v->path_len <= RP_TEST_PATH_MAX ? rp_path_normalize(v->path, v->path_len, r->path)
                                              : -1;
    r->refused = len < 0;
    if (len >= 0) {
        r->path_changed = (uint32_t)len != v->path_len || memcmp(v->path, r->path, (size_t)len);
        v->path = r->path;
        v->path_len = (uint32_t)len;
    }
    const char *ip = client_ip ? client_ip : "127.0.0.1";
    unsigned char v4[4];
    if (inet_pton(AF_INET, ip, v4) == 1) {
        v->client_ip[10] = v->client_ip[11] = 0xff;
        memcpy(v->client_ip + 12, v4, 4);
    } else {
        inet_pton(AF_INET6, ip, v->client_ip);
    }
    /* the client as the proxy sees it (conn.c uses the same function) */
    if (fw && fw->n_trusted)
        rp_forward_client(fw, v->client_ip, r->headers, n, v->client_ip, &r->client_text,
                          &r->client_text_len);
}

/* What the proxy would do with d, in words, for failure messages. */
static void describe(const struct rp_program *p, const struct rp_decision *d, char *out,
                     size_t size)
{
    if (d->route == RP_NO_ROUTE)
        snprintf(out, size, "no route (status 404)");
    else if (d->route == RP_REFUSED)
        snprintf(out, size, "the path refused before routing (status 400)");
    else if (d->action == RP_ACTION_PROXY)
        snprintf(out, size, "proxy %s (route %s)",
                 d->backend < p->n_backends ? p->backends[d->backend].name : "?",
                 p->routes[d->route].where);
    else if (d->action == RP_ACTION_REDIRECT)
        snprintf(out, size, "status %u to \"%.*s\" (route %s)", d->status,
                 (int)d->location_len, d->location, p->routes[d->route].where);
    else
        snprintf(out, size, "status %u (route %s)", d->status, p->routes[d->route].where);
}

static bool expect_holds(const struct rp_decision *d, const struct rp_test_expect *x)
{
    switch (x->kind) {
    case RP_EXPECT_STATUS:
        if (d->route == RP_NO_ROUTE)
            return x->value == 404;
        if (d->route == RP_REFUSED)
            return x->value == 400;
        return d->action != RP_ACTION_PROXY && d->status == x->value;
    case RP_EXPECT_PROXY:
        return d->route != RP_NO_ROUTE && d->action == RP_ACTION_PROXY &&
               d->backend == x->value;
    case RP_EXPECT_ROUTE:
        return d->route == x->value;
    case RP_EXPECT_LOCATION:
        return d->route < RP_REFUSED && d->action == RP_ACTION_REDIRECT && x->text &&
               strlen(x->text) == d->location_len &&
               memcmp(x->text, d->location, d->location_len) == 0;
    }
    return false;
}

int rp_policy_test_run(const struct rp_program *p)
{
    for (uint32_t i = 0; i < p->n_ip_indexes; i++)
        rp_ip_index_build(p->ip_indexes[i]);
    unsigned passed = 0, failed = 0;
    static struct rp_decision d;
    for (uint32_t i = 0; i < p->n_tests; i++) {
        const struct rp_test_def *t = &p->tests[i];
        static struct rp_test_request rq;
        rp_test_request_build(&rq, p->forwarding, t->method, t->url, t->client_ip, t->headers,
                              t->n_headers);
        memset(&d, 0, sizeof d);
        d.route = RP_NO_ROUTE;
        if (!rq.refused) {
            p->decide(&rq.view, &d);
        } else {
            /* Refused before routing, as the proxy does: 400, no route. */
            d.action = RP_ACTION_RESPOND;
            d.status = 400;
            d.route = RP_REFUSED;
        }
        const struct rp_test_expect *bad = NULL;
        for (uint32_t k = 0; k < t->n_expects && !bad; k++)
            if (!expect_holds(&d, &t->expects[k]))
                bad = &t->expects[k];
        if (!bad) {
            printf("ok %u - %s (%s)\n", i + 1, t->name, t->where);
            passed++;
            continue;
        }
        char got[RP_DECISION_LOCATION_MAX + 128], want[RP_DECISION_LOCATION_MAX + 64];
        describe(p, &d, got, sizeof got);
        if (bad->kind == RP_EXPECT_STATUS)
            snprintf(want, sizeof want, "status %u", bad->value);
        else if (bad->kind == RP_EXPECT_PROXY)
            snprintf(want, sizeof want, "proxy %s",
                     bad->value < p->n_backends ? p->backends[bad->value].name : "?");
        else if (bad->kind == RP_EXPECT_LOCATION)
            snprintf(want, sizeof want, "location \"%s\"", bad->text ? bad->text : "");
        else
            snprintf(want, sizeof want, "route %u", bad->value);
        printf("not ok %u - %s (%s)\n#   %s: expected %s, got %s\n", i + 1, t->name, t->where,
               bad->where, want, got);
        failed++;
    }
    printf("%u passed, %u failed\n", passed, failed);
    return failed ? 1 : 0;
}
