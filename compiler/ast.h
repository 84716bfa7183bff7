/* ast.h: the syntax tree of one policy, built by the parser's builders
 * (parse.c) in the compilation's arena and completed by check.c, which
 * resolves names and fills the fields marked "check". Spans point into the
 * source text, which outlives the tree. */
#ifndef RPX_AST_H
#define RPX_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src.h"

/* A socket address as written (`:8080`, `127.0.0.1:9000`, `[::1]:9000`). */
struct ast_addr {
    struct span tok;   /* the whole address token */
    /* check: */
    bool ok;           /* parsed and in range */
    bool any_host;     /* written without a host (`:8080`) */
    int family;        /* AF_INET or AF_INET6 */
    unsigned char bin[16]; /* the address, network order */
    char host[64];     /* numeric, normalized (inet_ntop) */
    uint16_t port;
};

struct ast_listen {
    struct ast_listen *next;
    struct span kw; /* `listen` */
    struct ast_addr addr;
};

struct ast_server {
    struct ast_server *next;
    struct span kw;   /* `server` */
    struct span name;
    struct ast_addr addr;
    struct span weight_tok; /* len 0 if not given */
    struct span extra_weight_tok; /* a second `weight` (an error), len 0 if none */
    bool weight_bad;        /* the lexer already reported it */
    uint32_t weight;        /* check: 1..256, default 1 */
};

enum ast_balance {
    AST_BALANCE_ROUND_ROBIN = 0,
};

struct ast_backend {
    struct ast_backend *next;
    struct span kw;          /* `backend` */
    struct span name;
    struct span balance_tok; /* len 0 if not given */
    struct span extra_balance_tok; /* a second `balance` (an error), len 0 if none */
    enum ast_balance balance;
    struct ast_server *servers;
    struct ast_server **servers_tail;
    uint32_t n_servers;
    /* check: */
    uint32_t index; /* in source order, the index in the emitted table */
    bool used;      /* some route proxies to it */
};

enum ast_route_kind {
    AST_ROUTE_PREFIX, /* route path "/api/" */
    AST_ROUTE_EXACT,  /* route path = "/health" */
    AST_ROUTE_DEFAULT /* route default: a prefix "" */
};

enum ast_action_kind {
    AST_ACTION_NONE = 0,
    AST_ACTION_PROXY,
    AST_ACTION_RESPOND,
};

struct ast_route {
    struct ast_route *next;
    uint32_t index;            /* in source order */
    struct span kw;            /* `route` */
    struct span match;         /* `path "/x"`, `path = "/x"` or `default` */
    enum ast_route_kind kind;
    struct span path_tok;      /* the string token (the `default` keyword for default) */
    const char *path;          /* decoded, in the arena; "" for default */
    size_t path_len;
    bool bad;                  /* the matcher had a lexical error: skip checks on it */
    const char *label;         /* `path "/x"` as written, normalized spacing */

    enum ast_action_kind action;
    struct span action_kw;     /* `proxy` or `respond` */
    struct span extra_action_kw; /* a second action (an error), len 0 if none */
    struct span backend_name;  /* proxy */
    struct ast_backend *backend; /* check: resolved */
    struct span status_tok;    /* respond */
    uint32_t status;           /* UINT32_MAX if not a number that fits */
    bool status_bad;           /* the lexer already reported it */
    bool has_body;
    struct span body_tok;
    const char *body;          /* decoded, in the arena; may contain NULs */
    size_t body_len;
};

struct ast_program {
    struct ast_listen *listens;
    struct ast_listen **listens_tail;
    uint32_t n_listens;
    struct ast_backend *backends;
    struct ast_backend **backends_tail;
    uint32_t n_backends;
    struct ast_route *routes;
    struct ast_route **routes_tail;
    uint32_t n_routes;
};

#endif
