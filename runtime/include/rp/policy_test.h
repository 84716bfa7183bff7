/* rp/policy_test.h: the driver `rpx test` links with a policy's generated
 * code to run its `test` blocks against the generated decision function. */
#ifndef RP_POLICY_TEST_H
#define RP_POLICY_TEST_H

#include <stdbool.h>

#include "rp/http1.h"
#include "rp/program.h"

/* Runs every test of prog, printing "ok N - name (file:line)" or
 * "not ok ..." with what differed, then "N passed, N failed". Returns 0 if
 * all passed, 1 otherwise. */
int rp_policy_test_run(const struct rp_program *prog);

#define RP_TEST_MAX_HEADERS 64
#define RP_TEST_PATH_MAX 4096

/* A test's request (or `rpx explain`'s) as the proxy would see it: host from
 * the URL or the Host header, without its port, lower case; the path
 * normalized; client.ip from a trusted peer's X-Forwarded-For. One builder
 * for `rpx test` and `rpx explain`, with the proxy's own functions, so
 * neither reads a request differently from the proxy. */
struct rp_test_request {
    struct rp_request_view view; /* points into this struct and the inputs */
    bool refused;                /* the proxy answers 400 before routing */
    bool path_changed;           /* normalizing changed the path */
    const char *client_text;     /* client.ip as the chain said it; NULL if not from one */
    uint32_t client_text_len;
    struct rp_http1_header headers[RP_TEST_MAX_HEADERS];
    char host[256];
    char path[RP_TEST_PATH_MAX];
};

/* url is "http://host/path?q" or "/path?q"; client_ip NULL for 127.0.0.1;
 * fw NULL when the program has no trusted peers. Headers past
 * RP_TEST_MAX_HEADERS are dropped. */
void rp_test_request_build(struct rp_test_request *r, const struct rp_forwarding *fw,
                           const char *method, const char *url, const char *client_ip,
                           const struct rp_test_header *headers, uint32_t n_headers);

#endif
