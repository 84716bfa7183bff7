/* rp/program.h: the program descriptor, the one contract between the code
 * `rpx` generates from a policy and the runtime it links against.
 *
 * Generated code defines exactly one exported symbol, `rp_program`, a
 * `const struct rp_program` that points at `static const` tables. Everything
 * here is plain data: the runtime never parses a policy. Strings are
 * NUL-terminated C literals; lengths are given where the runtime needs them on
 * the request path so it never calls strlen there.
 *
 * Bump RP_PROGRAM_ABI whenever a struct here changes shape, so a proxy built
 * against an older runtime fails at link time instead of misreading tables.
 */
#ifndef RP_PROGRAM_H
#define RP_PROGRAM_H

#include <stddef.h>
#include <stdint.h>

#define RP_PROGRAM_ABI 1

/* A route index meaning "no route matched": the runtime answers 404. */
#define RP_NO_ROUTE UINT32_MAX

/* Where a table entry came from, for log lines and messages: "site.rp:12". */
struct rp_listener_def {
    const char *where;
    const char *host; /* numeric address to bind, "0.0.0.0" or "::" for any */
    uint16_t port;
};

struct rp_server_def {
    const char *where;
    const char *name; /* unique within its backend */
    const char *host; /* numeric IPv4 or IPv6 address */
    uint16_t port;
    uint16_t weight; /* 1..256 */
};

enum rp_balance_algo {
    RP_BALANCE_ROUND_ROBIN = 0, /* smooth weighted round robin */
};

struct rp_backend_def {
    const char *where;
    const char *name;
    enum rp_balance_algo balance;
    uint32_t n_servers;
    const struct rp_server_def *servers;
};

enum rp_action_kind {
    RP_ACTION_PROXY = 1,   /* forward to backend `backend` */
    RP_ACTION_RESPOND = 2, /* answer `status` with `body` */
};

struct rp_route_def {
    const char *where;
    const char *label; /* the route's matcher as written, e.g. `path "/api/"` */
    enum rp_action_kind action;
    uint32_t backend; /* RP_ACTION_PROXY: index into rp_program.backends */
    uint16_t status;  /* RP_ACTION_RESPOND: 100..599 */
    uint32_t body_len;
    const char *body; /* RP_ACTION_RESPOND: body_len bytes, may contain NULs */
};

/* Route selection is a DFA over the request path, built by the compiler.
 * The walk starts at state 0. Each state lists its out edges, sorted by byte,
 * as a slice of `edges`. `prefix_route` is the first route (lowest index)
 * whose path prefix is a prefix of the bytes read so far (RP_NO_ROUTE if
 * none); `exact_route` is the first route whose exact path is exactly the
 * bytes read so far. The answer is the lower of the last state's exact_route
 * (only if the whole path was read) and the last prefix_route seen. See
 * rp_route_match() in rp/route.h. */
struct rp_dfa_edge {
    uint8_t byte;
    uint32_t next;
};

struct rp_dfa_state {
    uint32_t first_edge;
    uint32_t n_edges;
    uint32_t prefix_route;
    uint32_t exact_route;
};

struct rp_dfa {
    uint32_t n_states;
    const struct rp_dfa_state *states;
    uint32_t n_edges;
    const struct rp_dfa_edge *edges;
};

struct rp_program {
    uint32_t abi;       /* RP_PROGRAM_ABI */
    const char *source; /* the policy's file name, as given to rpx */
    uint32_t n_listeners;
    const struct rp_listener_def *listeners;
    uint32_t n_backends;
    const struct rp_backend_def *backends;
    uint32_t n_routes;
    const struct rp_route_def *routes;
    const struct rp_dfa *path_dfa;
};

/* Defined by the generated code, read by the runtime's main(). */
extern const struct rp_program rp_program;

#endif
