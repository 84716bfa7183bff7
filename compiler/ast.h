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

/* An argument of a statement whose shape the checker knows (backend
 * options, settings): `2s`, `auto`, `"/healthz"`, `[502, 503]`,
 * `hash(client.ip)`, `req.header["X"]`. */
enum ast_arg_kind {
    AST_ARG_WORD,
    AST_ARG_INT,
    AST_ARG_QUANTITY,
    AST_ARG_STRING,
    AST_ARG_RANGE,
    AST_ARG_ADDR,
    AST_ARG_IP,
    AST_ARG_CIDR,
    AST_ARG_RATE,
    AST_ARG_LIST, /* [a, b]: items in sub */
    AST_ARG_CALL, /* name(args): name in tok's first word, args in sub */
    AST_ARG_REF,  /* obj.field or obj.field["key"] */
};

struct ast_arg {
    struct ast_arg *next;
    enum ast_arg_kind kind;
    struct span tok;     /* the whole argument */
    bool bad;            /* the lexer already reported it */
    struct ast_arg *sub; /* LIST items, CALL arguments */
    struct span name;    /* CALL: the name; REF: the object (`req`) */
    struct span field;   /* REF: `header` */
    bool has_key;        /* REF: ["key"] given */
    struct span key_tok; /* REF: the key's string token */
    const char *str;     /* STRING: decoded; REF: the key decoded */
    size_t str_len;
};

/* A statement the parser keeps as a keyword and arguments. */
struct ast_stmt {
    struct ast_stmt *next;
    struct span kw;
    struct ast_arg *args;
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
    struct ast_arg *opts;   /* weight N, backup, max_conns N, slow_start D */
    /* check: */
    uint32_t weight;        /* 1..256, default 1 */
    bool has_weight;
    bool backup;
    uint32_t max_conns;
    uint32_t slow_start_ms;
};

/* Same numbers as enum rp_balance_algo. */
enum ast_balance {
    AST_BALANCE_ROUND_ROBIN = 0,
    AST_BALANCE_LEAST_CONN = 1,
    AST_BALANCE_RANDOM2 = 2,
    AST_BALANCE_HASH = 3,
    AST_BALANCE_FIRST = 4,
};

/* Same numbers as enum rp_hash_key. */
enum ast_hash_key {
    AST_HASH_NONE = 0,
    AST_HASH_CLIENT_IP,
    AST_HASH_PATH,
    AST_HASH_HOST,
    AST_HASH_HEADER,
    AST_HASH_COOKIE,
    AST_HASH_QUERY,
};

/* Same numbers as enum rp_health_kind. */
enum ast_health {
    AST_HEALTH_NONE = 0,
    AST_HEALTH_TCP = 1,
    AST_HEALTH_HTTP = 2,
};

struct ast_backend {
    struct ast_backend *next;
    struct span kw;          /* `backend` */
    struct span name;
    struct ast_stmt *stmts;  /* balance, health, retries, queue_timeout, keepalive */
    struct ast_stmt **stmts_tail;
    struct ast_server *servers;
    struct ast_server **servers_tail;
    uint32_t n_servers;
    /* check: */
    enum ast_balance balance;
    enum ast_hash_key hash_key;
    const char *hash_name;   /* header (lower case), cookie or query name */
    enum ast_health health;
    const char *health_method, *health_path;
    uint32_t health_interval_ms, health_timeout_ms, health_rise, health_fall;
    uint32_t expect_min, expect_max;
    uint32_t retries, retry_on;
    uint32_t queue_timeout_ms, keepalive, keepalive_idle_ms;
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
    struct span tunnel_kw;     /* `tunnel`, len 0 if not given */
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

/* Where a setting statement was written. */
enum ast_setting_block {
    AST_SET_WORKERS,  /* top-level `workers N` */
    AST_SET_TIMEOUTS, /* inside `timeouts { }` */
    AST_SET_LIMITS,   /* inside `limits { }` */
};

struct ast_setting {
    struct ast_setting *next;
    enum ast_setting_block block;
    struct ast_stmt stmt;
};

/* The values of rp_settings; 0 means the runtime's default. */
struct ast_settings {
    uint32_t workers;
    uint32_t client_header_ms, client_idle_ms, client_body_ms;
    uint32_t connect_ms, backend_ms, drain_ms;
    uint32_t header_size, header_count, uri_length;
    uint64_t body_size;
};

struct ast_program {
    struct ast_setting *settings;
    struct ast_setting **settings_tail;
    struct ast_settings set; /* check: */
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
