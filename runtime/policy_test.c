/* policy_test.c: runs a policy's test blocks (rp_program.tests) against its
 * decision function, the same call the proxy makes for each request. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "rp/http1.h"
#include "rp/match.h"
#include "rp/policy_test.h"

#define TEST_MAX_HEADERS 64

/* A decision's route when the path was refused before routing. */
#define RP_REFUSED (RP_NO_ROUTE - 1)

#define TEST_PATH_MAX 4096

/* Builds the request view a proxy would pass for the test's request. The
 * view points into t and into host_buf/path_buf/hdrs. Returns false when the
 * proxy would refuse the path before routing (400). */
static bool test_view(const struct rp_program *p, const struct rp_test_def *t,
                      struct rp_request_view *v, char *host_buf, size_t host_size,
                      char *path_buf, struct rp_http1_header *hdrs)
{
    memset(v, 0, sizeof *v);
    v->method = t->method;
    v->method_len = (uint32_t)strlen(t->method);
    const char *u = t->url, *host = NULL;
    size_t host_len = 0;
    if (strncmp(u, "http://", 7) == 0) {
        host = u + 7;
        u = strchr(host, '/');
        if (!u)
            u = host + strlen(host);
        host_len = (size_t)(u - host);
    }
    uint32_t n = 0;
    for (uint32_t i = 0; i < t->n_headers && n < TEST_MAX_HEADERS; i++, n++) {
        hdrs[n].name = t->headers[i].name;
        hdrs[n].name_len = (uint32_t)strlen(t->headers[i].name);
        hdrs[n].value = t->headers[i].value;
        hdrs[n].value_len = (uint32_t)strlen(t->headers[i].value);
        if (!host && hdrs[n].name_len == 4 && strncasecmp(hdrs[n].name, "host", 4) == 0) {
            host = hdrs[n].value;
            host_len = hdrs[n].value_len;
        }
    }
    v->headers = hdrs;
    v->n_headers = n;
    /* the host as the proxy matches it (conn.c uses the same function) */
    int k = rp_host_key(host ? host : "", host ? host_len : 0, host_buf, host_size);
    if (k < 0) { /* too long to be a host: the proxy answers 400 */
        k = 0;
        host_buf[0] = '\0';
    }
    v->host = host_buf;
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
    int len = v->path_len <= TEST_PATH_MAX ? rp_path_normalize(v->path, v->path_len, path_buf)
                                           : -1;
    bool ok = len >= 0;
    if (ok) {
        v->path = path_buf;
        v->path_len = (uint32_t)len;
    }
    const char *ip = t->client_ip ? t->client_ip : "127.0.0.1";
    unsigned char v4[4];
    if (inet_pton(AF_INET, ip, v4) == 1) {
        v->client_ip[10] = v->client_ip[11] = 0xff;
        memcpy(v->client_ip + 12, v4, 4);
    } else {
        inet_pton(AF_INET6, ip, v->client_ip);
    }
    /* the client as the proxy sees it (conn.c uses the same function) */
    if (p->forwarding && p->forwarding->n_trusted) {
        const char *text;
        uint32_t text_len;
        rp_forward_client(p->forwarding, v->client_ip, hdrs, n, v->client_ip, &text, &text_len);
    }
    return ok;
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
    unsigned passed = 0, failed = 0;
    static struct rp_decision d;
    for (uint32_t i = 0; i < p->n_tests; i++) {
        const struct rp_test_def *t = &p->tests[i];
        struct rp_request_view v;
        struct rp_http1_header hdrs[TEST_MAX_HEADERS];
        char host[256], path[TEST_PATH_MAX];
        bool routed = test_view(p, t, &v, host, sizeof host, path, hdrs);
        memset(&d, 0, sizeof d);
        d.route = RP_NO_ROUTE;
        if (routed) {
            p->decide(&v, &d);
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
