/* routes_bench.c: the cost of one decision (route matching included) for
 * the policy it is linked with: rp_program.decide over a set of request
 * paths, nanoseconds per call. Built by bench/routes.sh. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rp/program.h>

int main(int argc, char **argv)
{
    long iters = argc > 1 ? atol(argv[1]) : 5000000;
    static const char *const paths[] = {"/api/v1/users/42", "/static/app.js", "/r/4999/x",
                                        "/r/123/profile",   "/health",        "/nothing/here"};
    struct rp_request_view v;
    memset(&v, 0, sizeof v);
    v.method = "GET";
    v.method_len = 3;
    v.host = "example.com";
    v.host_len = 11;
    static struct rp_decision d;
    unsigned long sink = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < iters; i++) {
        const char *p = paths[i % 6];
        v.path = p;
        v.path_len = (uint32_t)strlen(p);
        d.route = RP_NO_ROUTE;
        rp_program.decide(&v, &d);
        sink += d.route;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / iters;
    printf("%.1f ns/decision (sink %lu)\n", ns, sink);
    return 0;
}
