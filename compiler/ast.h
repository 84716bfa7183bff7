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

struct rp_ip_range; /* rp/program.h */

struct regex_prog;

/* A socket address as written (`:8080`, `127.0.0.1:9000`, `[::1]:9000`). */
struct ast_addr {
    struct span tok;   /* the whole address token */
    /* check: */
    bool ok;           /* parsed and in range */
    bool any_host;     /* written without a host (`:8080`) */
    int family;        /* AF_INET, AF_INET6 or AF_UNIX (servers only) */
    unsigned char bin[16]; /* the address, network order */
    char host[113];    /* numeric, normalized (inet_ntop); "unix:/path" */
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

/* One `cert "C" key "K" [ocsp "O"]` of a tls block, checked: absolute
 * paths, what the certificate holds. */
struct ast_tls_pair {
    struct ast_tls_pair *next;
    struct span at;   /* the statement's `cert` */
    const char *cert, *key, *ocsp; /* absolute; ocsp NULL if none */
    const char *names; /* the certificate's DNS names, space-separated */
    bool ecdsa;
};

/* A server's `tls { }`, checked (check_tls.c). */
struct ast_tls_client {
    struct span at;
    const char *ca, *sni, *cert, *key; /* absolute paths; NULL: none */
    bool no_verify;
};

/* A listener's `tls { }`, checked (check_tls.c). */
struct ast_tls {
    struct span at; /* the `tls` option */
    struct ast_tls_pair *pairs;
    uint32_t n_pairs;
    uint16_t min_version, max_version; /* 0: the runtime's default */
    const char *ciphers, *curves;      /* NULL: the runtime's default */
    char alpn[64];                     /* wire format */
    uint32_t alpn_len;
    const char *client_ca;             /* absolute, or NULL */
    int verify;                        /* enum rp_tls_verify */
    uint32_t ticket_rotate_s, session_cache, session_timeout_s;
    const char *ticket_key_file;       /* absolute, or NULL */
};

struct ast_listen {
    struct ast_listen *next;
    struct span kw; /* `listen` */
    struct ast_addr addr;
    struct ast_arg *opts; /* options after the address */
    struct ast_stmt *stmts; /* the block's statements (`tls { ... }`) */
    struct ast_stmt **stmts_tail;
    bool has_block;
    struct ast_tls *tls;  /* checked `tls`; NULL: plain */
    uint32_t max_conns;   /* checked `max_conns N`; 0: none */
    bool proxy_protocol;  /* checked `proxy_protocol` */
    bool h2c;             /* checked `h2c`: HTTP/2 with prior knowledge, in cleartext */
    struct span tcp_backend_name; /* `tcp proxy NAME`: layer 4; len 0 if not */
    struct ast_backend *tcp_backend; /* check: resolved */
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
    uint8_t proxy_protocol; /* `proxy_protocol v1|v2`: 1 or 2 */
    bool h2;                /* `h2`: HTTP/2 with prior knowledge, streams multiplexed */
    struct ast_stmt *stmts;  /* the block's statements (`tls { ... }`) */
    struct ast_stmt **stmts_tail;
    bool has_block;
    struct ast_tls_client *tls; /* checked `tls`; NULL: plain */
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
    struct ast_stmt *stmts;  /* balance, health, retries, queue_timeout, keepalive,
                                when_down, eject */
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
    uint32_t when_down;        /* RP_WHEN_DOWN_* */
    uint32_t eject_after;      /* 0: default; UINT32_MAX: off */
    uint32_t eject_ms, eject_max_ms;
    uint32_t intercept;        /* RP_INTERCEPT_* */
    struct ast_hdr_action *hdr_actions; /* set, add, remove in the backend */
    uint32_t index; /* in source order, the index in the emitted table */
    bool used;      /* some route proxies to it */
    bool had_error; /* check: a statement of it was reported (one mistake, one error) */
};

/* ---- expressions (acl bodies, `if`/`unless` guards, `route if`) ---------- */

enum ast_expr_kind {
    AST_E_OR,
    AST_E_AND,
    AST_E_NOT,
    AST_E_CMP, /* lhs OP rhs, or lhs alone (AST_CMP_TRUTH) */
};

enum ast_cmp {
    AST_CMP_TRUTH,  /* `req.header["X"]` (present), `internal` (an acl) */
    AST_CMP_EQ,
    AST_CMP_NE,
    AST_CMP_RE,     /* ~ "regex" */
    AST_CMP_PREFIX, /* ^= "prefix" */
    AST_CMP_IN,     /* in [list] or in ACL (an acl of the form X in [list]) */
};

/* What an operand reads from the request. */
enum ast_subject {
    AST_SUBJ_NONE = 0,
    AST_SUBJ_CLIENT_IP,
    AST_SUBJ_METHOD,
    AST_SUBJ_HOST,
    AST_SUBJ_PATH,
    AST_SUBJ_QUERY,  /* req.query["k"] */
    AST_SUBJ_HEADER, /* req.header["H"] */
    AST_SUBJ_COOKIE, /* req.cookie["c"] */
    AST_SUBJ_ACL,    /* a named acl */
    AST_SUBJ_QUERY_ALL,    /* ${req.query}: the whole query, "" if none */
    AST_SUBJ_QUERY_SUFFIX, /* in a location: "?" and the query, if there is one */
    AST_SUBJ_CLIENT_PORT,  /* in a header value: the peer's port */
    AST_SUBJ_URI,          /* in a header value: the path, "?" and the query */
    AST_SUBJ_REQ_ID,       /* in a header value: the request's id */
    AST_SUBJ_SCHEME,       /* req.scheme: "https" over TLS, else "http" */
    AST_SUBJ_TLS,          /* tls.sni, tls.client_cert.subject...: key is the field */
    AST_SUBJ_SERVER_NAME,  /* in a response header value: the server that answered */
    AST_SUBJ_BACKEND_NAME, /* in a header value: the route's backend */
    AST_SUBJ_JWT,          /* jwt.sub, jwt.claim["c"]: key is the claim */
};

/* Whether a value names something inside it: req.header["X"], tls.sni. */
static inline bool ast_subj_keyed(enum ast_subject s)
{
    return s == AST_SUBJ_QUERY || s == AST_SUBJ_HEADER || s == AST_SUBJ_COOKIE ||
           s == AST_SUBJ_TLS || s == AST_SUBJ_JWT;
}

struct ast_acl;

struct ast_expr {
    enum ast_expr_kind kind;
    struct span tok;          /* the whole expression */
    struct ast_expr *l, *r;   /* OR, AND; NOT uses l */
    enum ast_cmp cmp;         /* CMP */
    struct span op;           /* CMP: the operator token */
    struct ast_arg *lhs, *rhs; /* CMP */
    struct span guard_kw;     /* a guard's `if`/`unless` (the outermost node only) */
    bool unless;
    /* check: */
    enum ast_subject subj;
    struct ast_acl *acl;      /* SUBJ_ACL, or the acl named after `in` */
    const struct ast_arg *list; /* IN: the list (maybe an acl's) */
    uint32_t id;              /* RE: regex number; client.ip: CIDR set number */
    /* lower: */
    uint32_t ir;              /* a leaf comparison's test (ir.h) */
};

struct ast_acl {
    struct ast_acl *next;
    struct span kw, name;
    struct ast_expr *expr;
    /* check: */
    uint32_t index;
    bool used;
    int state; /* 0 unchecked, 1 checking (cycle), 2 done */
};

/* `limit NAME = rate N/UNIT [burst B] [by KEY...] [keys N]`. */
struct ast_limit {
    struct ast_limit *next;
    struct span kw, name;
    struct ast_arg *args;
    /* check: */
    uint32_t index;
    bool used, ok;
    uint64_t interval_ns;
    uint32_t burst, quota, window_s, keys;
    uint32_t concurrent;   /* `concurrent N`; 0: a rate */
    uint64_t ban_ns;       /* `errors N/UNIT ban D`: the ban; 0: not an errors limit */
    uint32_t status_min, status_max; /* the statuses an errors limit counts */
    struct ast_addr redis;   /* `shared redis IP:PORT`; tok.len 0: not shared */
    bool fail_closed;        /* `on_error closed` */
    bool by_route;
    struct ast_piece *key; /* CLIENT_IP and value pieces */
};

/* A route's `limit NAME [delay]`, checked. */
struct ast_limit_use {
    struct ast_limit_use *next;
    struct span kw;
    struct ast_limit *limit;
    bool delay;
};

/* A route's `auth basic "REALM" file "USERS" [forward_credentials]` or
 * `auth request BACKEND "/PATH" [copy [NAME, ...]]`, checked. */
struct ast_backend;
struct ast_auth {
    struct span kw;
    struct ast_backend *backend; /* request: where the subrequest goes; NULL: basic */
    const char *path;            /* request */
    const char **copy;           /* request: lower case */
    uint32_t n_copy;
    bool jwt;                    /* `auth jwt ...` */
    uint32_t jwt_algs;           /* 1u << enum rp_jws_alg */
    const char *issuer;          /* jwt: NULL: any */
    const char **audiences;      /* jwt */
    uint32_t n_audiences;
    uint32_t leeway_s;
    uint8_t from;                /* enum rp_jwt_from */
    const char *from_name;
    bool forward_token;
    bool jwks;                   /* jwt: the file is a JWKS document */
    const char *realm;
    const char *file;          /* absolute */
    const char *shown;         /* as messages name it */
    bool forward_credentials;
    uint32_t index;            /* among the program's (emit order) */
};

/* ---- routes ------------------------------------------------------------- */

enum ast_path_kind {
    AST_PATH_ANY = 0, /* no path matcher, or `default` */
    AST_PATH_PREFIX,  /* path "/api/" */
    AST_PATH_EXACT,   /* path = "/health" */
    AST_PATH_REGEX,   /* path ~ "^/old/(.*)$" */
};

enum ast_host_kind {
    AST_HOST_ANY = 0,
    AST_HOST_EXACT, /* host "example.com" */
    AST_HOST_WILD,  /* host "*.example.com": a subdomain of it */
};

enum ast_action_kind {
    AST_ACTION_NONE = 0,
    AST_ACTION_PROXY,
    AST_ACTION_RESPOND,
    AST_ACTION_DENY,
    AST_ACTION_REDIRECT,
    AST_ACTION_PURGE, /* the cache's stored answers the request names go; 200 */
    AST_ACTION_METRICS, /* the Prometheus exposition; 200 */
    AST_ACTION_STATUS,  /* the status page (HTML, JSON); `admin`: and admin actions */
};

/* A piece of a custom access log format: text as written, or a field
 * (enum rp_log_field; 0 for text). */
struct ast_log_piece {
    uint32_t field;
    const char *text;
    uint32_t len;
};

/* The names of a custom log format's fields, by enum rp_log_field (check_log.c). */
extern const char *const log_field_names[];

/* A piece of a redirect location: literal text, $N, or ${ref}. */
struct ast_piece {
    struct ast_piece *next;
    const char *text; /* literal; NULL for a capture or a reference */
    size_t len;
    uint32_t capture; /* $N */
    enum ast_subject subj; /* ${req.path} ...; AST_SUBJ_NONE for text and $N */
    const char *key;  /* ${req.query["k"]}: the key */
    size_t key_len;
};

struct ast_action {
    struct ast_action *next;
    enum ast_action_kind kind;
    struct span kw;
    struct span backend_name;    /* proxy */
    struct ast_backend *backend; /* check: resolved */
    struct span status_tok;
    uint32_t status;             /* UINT32_MAX if not a number that fits */
    bool status_bad;
    bool has_body;
    bool admin;                  /* `status admin` */
    bool from_file;              /* `file "PATH"`: body_tok is the path; check reads it */
    const char *content_type;    /* check: a file body's, from its extension */
    struct span body_tok;        /* respond/deny body, redirect location */
    const char *body;            /* decoded; may contain NULs */
    size_t body_len;
    struct span guard_kw;        /* `if` or `unless`, len 0 if none */
    struct ast_expr *guard;
    bool unless;
    struct ast_piece *location;  /* check: redirect */
};

/* `compress CODING... [{ types [...]; min SIZE; level N }]` in a route. */
struct ast_compress {
    struct span kw;
    struct ast_arg *codings;   /* words */
    struct ast_stmt *stmts;    /* types, min, level */
    struct ast_stmt **stmts_tail;
    /* check: */
    uint32_t coding_bits;      /* RP_CODING_* */
    uint32_t level;            /* 1..9 */
    uint64_t min_length;
    uint32_t n_types;
    const char **types;        /* lower case */
};

/* `cache [{ ttl DURATION; key VALUE...; ... }]` in a route. */
struct ast_cache {
    struct span kw;
    struct ast_arg *args;      /* none are taken */
    struct ast_stmt *stmts;
    struct ast_stmt **stmts_tail;
    /* check: */
    uint32_t ttl_s, max_ttl_s, heuristic_max_s, swr_s, sie_s;
    uint64_t max_size, max_object;
    const char *status_header; /* NULL: none */
    struct ast_piece *key;     /* the key's parts, in order */
    struct span key_text;      /* `key`'s values as written; len 0: the default */
};

struct ast_route {
    struct ast_route *next;
    uint32_t index;            /* in source order */
    struct span kw;            /* `route` */
    struct span match;         /* the matchers, as written */
    bool is_default;
    enum ast_path_kind path_kind;
    struct span path_kw, path_tok;
    const char *path;          /* decoded, in the arena; "" if none */
    size_t path_len;
    enum ast_host_kind host_kind;
    struct span host_kw, host_tok;
    const char *host;          /* lower case; WILD: the suffix with its dot (".example.com") */
    size_t host_len;
    struct span method_kw;
    struct ast_arg *methods;   /* a word or a list of words */
    struct span if_kw;
    struct ast_expr *cond;
    struct span dup_matcher;   /* a second matcher of one kind (an error) */
    struct span dup_first;
    bool bad;                  /* a matcher had a lexical error: skip checks on it */
    const char *label;         /* the matchers as written, spacing normalized */
    struct span tunnel_kw;     /* `tunnel`, len 0 if not given */
    struct span log_off;       /* `log off`: no access log line; len 0 if not given */
    struct ast_compress *compress; /* NULL if not given */
    struct ast_stmt *stmts;    /* set, add, remove (header actions) */
    struct ast_stmt **stmts_tail;
    /* check: the header actions that apply, top level's first */
    struct ast_hdr_action *hdr_actions;
    uint32_t n_hdr_actions;
    struct ast_rewrite *rewrite; /* strip prefix or rewrite path; NULL if neither */
    struct span dup_compress;  /* a second `compress` (an error) */
    struct ast_cache *cache;   /* NULL if not given */
    struct span dup_cache;     /* a second `cache` (an error) */
    struct ast_limit_use *limits; /* check: `limit NAME`, in order */
    struct ast_auth *auth;     /* check: `auth basic ...`; NULL if none */
    struct span methods_kw;    /* `methods [...]`; len 0 if none */
    const char **allow;        /* check: its methods, upper case (GET brings HEAD) */
    uint32_t n_allow;
    const char *allow_text;    /* check: "GET, HEAD, POST" */
    struct span body_size_kw;  /* `body_size SIZE`; len 0 if none */
    uint64_t body_size;        /* check */
    struct ast_action *actions;
    struct ast_action **actions_tail;
    uint32_t n_actions;
    /* check: */
    uint32_t regex_id;         /* PATH_REGEX */
    uint32_t n_caps;           /* capture groups of the path regex */
    bool conditional;          /* method, if or regex: may not match after host+path */
    bool always;               /* not conditional and ends in an unguarded action */
};

/* ---- policy tests --------------------------------------------------------- */

struct ast_test {
    struct ast_test *next;
    struct span kw, name_tok;
    const char *name;
    struct span req_kw;        /* len 0 if no request */
    struct span method, url_tok;
    const char *url;
    struct ast_arg *req_args;  /* from IP, header "Name: value" */
    struct ast_stmt *expects;
    struct ast_stmt **expects_tail;
    struct span extra_req;     /* a second request (an error) */
    /* check: */
    const char *from;          /* textual client address or NULL */
};

/* ---- imports -------------------------------------------------------------- */

struct ast_import {
    struct ast_import *next;
    struct span kw, path_tok;
    const char *path;
};

/* Where a setting statement was written. */
enum ast_setting_block {
    AST_SET_WORKERS,  /* top-level `workers N` */
    AST_SET_TIMEOUTS, /* inside `timeouts { }` */
    AST_SET_LIMITS,   /* inside `limits { }` */
    AST_SET_FORWARDED, /* inside `forwarded { }` */
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
    uint32_t connect_ms, backend_ms, drain_ms, tunnel_ms;
    uint32_t header_size, header_count, uri_length;
    uint64_t body_size;
    uint32_t connections; /* client connections at once, all workers */
    uint32_t connections_per_client; /* ... from one address */
    uint32_t http2_streams; /* HTTP/2 streams open at once per connection */
    uint32_t http2_window;  /* HTTP/2 initial stream window, bytes */
    uint32_t http2_frame;   /* HTTP/2 largest frame taken, bytes */
    uint64_t memory;      /* bytes of I/O buffers in use */
};

/* A checked `strip prefix "/p"` or `rewrite path "RE" "REPLACEMENT"`. */
struct ast_rewrite {
    struct span kw;
    const char *prefix;        /* strip */
    size_t prefix_len;
    uint32_t regex_id;         /* rewrite */
    struct ast_piece *pieces;  /* rewrite: text and $N captures */
};

/* A checked `set|add|remove [response] header NAME ["VALUE"]`. */
struct ast_hdr_action {
    struct ast_hdr_action *next;
    uint8_t op;               /* RP_HDR_* */
    bool response;
    bool replaces;            /* SET, REMOVE: an earlier action on its side added the name */
    const char *name, *lname;
    size_t name_len;
    struct ast_piece *value;  /* SET, ADD */
    struct span value_tok;    /* SET, ADD: the value's string, as written */
    struct span where;
};

/* A checked `error STATUS... file "PATH"|"TEXT"` page, one per status. */
struct ast_error_page {
    uint16_t status;
    const char *content_type;
    const char *body;
    size_t body_len;
};

/* A set of addresses as check.c parsed it: the ranges sorted and merged,
 * what `client.ip in [...]`, `client.ip == A` and `trusted` test. */
struct ast_cidr_set {
    struct span what; /* the list or the address, as written */
    struct rp_ip_range *ranges;
    uint32_t n;
};

struct ast_program {
    struct ast_stmt *stmts;   /* top-level set, add, remove, via, error */
    struct ast_stmt **stmts_tail;
    struct ast_hdr_action *hdr_actions; /* check: the top-level ones */
    const char *via;          /* check: `via "NAME"` ("" for `via off`); NULL: not said */
    /* check: `log access TARGET [format F]` */
    struct span access_log_kw;  /* len 0: no access log */
    const char *access_log_path; /* NULL: standard output */
    uint32_t access_log_format;  /* RP_ACCESS_LOG_* */
    struct ast_log_piece *access_log_pieces; /* RP_ACCESS_LOG_CUSTOM */
    uint32_t access_log_n_pieces;
    uint32_t access_log_status_min, access_log_status_max; /* 0: every status */
    uint32_t access_log_sample_ppm;                        /* 0: every line */
    const char *access_log_syslog;  /* "unix:/dev/log", a numeric IP; NULL: not syslog */
    uint32_t access_log_syslog_port, access_log_facility;
    bool upstream_path_original; /* check: `upstream_path original` */
    struct ast_error_page *error_pages; /* check */
    uint32_t n_error_pages;
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
    bool allow_trace;          /* some route's method matcher names TRACE */
    struct ast_acl *acls;
    struct ast_acl **acls_tail;
    uint32_t n_acls;
    struct ast_test *tests;
    struct ast_test **tests_tail;
    uint32_t n_tests;
    struct ast_limit *limits;
    struct ast_limit **limits_tail;
    uint32_t n_limits;
    uint32_t n_auths;         /* check: routes with `auth basic` */
    uint32_t n_jwts;          /* check: routes with `auth jwt` */
    bool jwt_values;          /* check: a header value reads jwt.* */
    struct span jwt_condition; /* check: the first condition on jwt.*; len 0: none */
    struct ast_import *imports;
    struct ast_import **imports_tail;
    /* check: regexes and CIDR sets, numbered, for the emitter */
    struct regex_prog **regexes;
    uint32_t n_regexes;
    struct ast_cidr_set *cidr_sets;
    uint32_t n_cidr_sets;
    /* check: `forwarded { }` */
    bool has_forwarded;        /* written: the program carries its own rp_forwarding */
    uint32_t fwd_send;         /* RP_FWD_* */
    uint32_t fwd_trusted_set;  /* the cidr set of `trusted`; UINT32_MAX: none */
};

#endif
