/* rp/program.h: the program descriptor, the one contract between the code
 * `rpx` generates from a policy and the runtime it links against.
 *
 * Generated code defines exactly one exported symbol, `rp_program`, a
 * `const struct rp_program` that points at `static const` tables and at the
 * generated decision function. The split of work: the generated code makes
 * every policy decision (which route, which guards hold, what to answer);
 * the runtime owns every mechanism (sockets, parsing, balancing, health,
 * timers). The runtime never parses a policy. Strings are NUL-terminated C
 * literals; lengths are given where the request path needs them.
 *
 * Bump RP_PROGRAM_ABI whenever a struct here changes shape, so a proxy built
 * against another runtime fails at start instead of misreading tables.
 */
#ifndef RP_PROGRAM_H
#define RP_PROGRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RP_PROGRAM_ABI 14

/* A route index meaning "no route matched": the runtime answers 404. */
#define RP_NO_ROUTE UINT32_MAX

/* ---- listeners ----------------------------------------------------------- */

/* TLS on a listener (`listen ADDR tls { ... }`). Files are read when the
 * proxy starts and again on SIGHUP (certificates rotate more often than
 * policies change); the compiler has checked them once already. Paths are
 * absolute. */
struct rp_tls_pair {
    const char *where;
    const char *cert; /* PEM: the certificate, then its chain */
    const char *key;  /* PEM: its private key */
    const char *ocsp; /* DER OCSP response to staple, or NULL */
};

enum rp_tls_verify {
    RP_TLS_VERIFY_NONE = 0,     /* no client certificate is asked for */
    RP_TLS_VERIFY_OPTIONAL = 1, /* asked for; none is fine, a bad one is refused */
    RP_TLS_VERIFY_REQUIRED = 2, /* a valid one or no connection */
};

struct rp_tls_def {
    const char *where;
    uint32_t n_pairs;
    const struct rp_tls_pair *pairs; /* the first is the default (no or unknown SNI) */
    uint16_t min_version, max_version; /* 0x0303 (TLS 1.2), 0x0304 (TLS 1.3) */
    const char *ciphers;   /* TLS 1.2 suites in OpenSSL syntax; NULL: the runtime's */
    const char *curves;    /* key exchange groups, "X25519:P-256"; NULL: the runtime's */
    const char *alpn;      /* ALPN protocols, wire format (length-prefixed) */
    uint32_t alpn_len;
    const char *client_ca; /* PEM CAs client certificates must chain to; NULL: none */
    enum rp_tls_verify verify;
    bool no_tickets;            /* session tickets off (`tickets off`) */
    uint32_t ticket_rotate_s;   /* a new session ticket key this often */
    const char *ticket_key_file; /* NULL: keys made here; else 80-byte keys read
                                    from it (shared with other processes) */
    uint32_t session_cache;     /* TLS 1.2 sessions kept; 0: none */
    uint32_t session_timeout_s; /* how long a session or ticket may be resumed */
};

/* `where` says where an entry came from, for log lines: "site.rp:12". */
struct rp_listener_def {
    const char *where;
    const char *host; /* numeric address to bind, "0.0.0.0" or "::" for any */
    uint16_t port;
    uint32_t max_conns; /* client connections at once on it; 0: only the global limit */
    bool proxy_protocol; /* each connection opens with a PROXY header (v1 or v2), from a
                            trusted peer only */
    bool tcp;            /* layer 4: each connection is relayed to tcp_backend as bytes */
    uint32_t tcp_backend;
    const struct rp_tls_def *tls; /* NULL: plain */
    bool h2c;            /* HTTP/2 with prior knowledge in cleartext, beside HTTP/1.1 (ABI 13) */
};

/* ---- backends ------------------------------------------------------------- */

enum rp_balance_algo {
    RP_BALANCE_ROUND_ROBIN = 0, /* smooth weighted round robin */
    RP_BALANCE_LEAST_CONN = 1,  /* fewest active requests, weighted */
    RP_BALANCE_RANDOM2 = 2,     /* power of two random choices */
    RP_BALANCE_HASH = 3,        /* consistent hash of `hash_key` */
    RP_BALANCE_FIRST = 4,       /* the first server (in order) with room */
};

enum rp_hash_key {
    RP_HASH_NONE = 0,
    RP_HASH_CLIENT_IP = 1,
    RP_HASH_PATH = 2,
    RP_HASH_HOST = 3,
    RP_HASH_HEADER = 4, /* hash_name: the header field name, lower case */
    RP_HASH_COOKIE = 5, /* hash_name: the cookie name */
    RP_HASH_QUERY = 6,  /* hash_name: the query parameter name */
};

/* TLS to a server (`server NAME ADDR tls { ... }`). */
struct rp_tls_client_def {
    const char *where;
    const char *ca;     /* PEM CAs the server's certificate must chain to; NULL: the
                           system's (/etc/ssl/certs/ca-certificates.crt) */
    const char *sni;    /* the name sent as SNI and checked in the certificate; NULL:
                           no SNI, and the certificate must name the server's address */
    bool verify;        /* false: `verify none`, any certificate is taken */
    const char *cert, *key; /* a client certificate to present, or NULL */
};

struct rp_server_def {
    const char *where;
    const char *name; /* unique within its backend */
    const char *host; /* numeric IPv4 or IPv6 address */
    uint16_t port;
    uint16_t weight;        /* 1..256 */
    bool backup;            /* used only when no primary server is up */
    uint32_t max_conns;     /* concurrent requests; 0: no limit */
    uint32_t slow_start_ms; /* ramp-up after recovery; 0: none */
    uint8_t proxy_protocol; /* 1, 2: each connection opens with a PROXY header of that
                               version naming the client; 0: none */
    const struct rp_tls_client_def *tls; /* NULL: plain */
    bool h2; /* HTTP/2 with prior knowledge: one connection per worker carries the
                requests as streams (h2up.c) (ABI 13) */
};

enum rp_health_kind {
    RP_HEALTH_NONE = 0,
    RP_HEALTH_TCP = 1,  /* a connect succeeds */
    RP_HEALTH_HTTP = 2, /* a request gets a status in [expect_min, expect_max] */
};

struct rp_health_def {
    enum rp_health_kind kind;
    const char *method; /* RP_HEALTH_HTTP: "GET" or "HEAD" */
    const char *path;   /* RP_HEALTH_HTTP: request target */
    uint32_t interval_ms, timeout_ms;
    uint32_t rise, fall; /* successes to mark up, failures to mark down */
    uint16_t expect_min, expect_max;
};

/* Conditions a request may be retried on (rp_backend_def.retry_on). */
#define RP_RETRY_CONNECT_ERROR (1u << 0)
#define RP_RETRY_TIMEOUT (1u << 1)
#define RP_RETRY_502 (1u << 2)
#define RP_RETRY_503 (1u << 3)
#define RP_RETRY_504 (1u << 4)
#define RP_RETRY_RESET (1u << 5) /* closed or reset before any response byte */

/* What a request does when no server of its backend is usable. */
enum rp_when_down {
    RP_WHEN_DOWN_QUEUE = 0, /* wait (queue_timeout) for a server to come back */
    RP_WHEN_DOWN_PANIC = 1, /* spread over every server, usable or not */
    RP_WHEN_DOWN_FAIL = 2,  /* answer 503 at once */
};

/* rp_backend_def.eject_after: passive ejection switched off. */
#define RP_EJECT_OFF UINT32_MAX

struct rp_header_actions; /* below */
struct rp_ip_index;       /* rp/match.h */

struct rp_backend_def {
    const char *where;
    const char *name;
    enum rp_balance_algo balance;
    enum rp_hash_key hash_key; /* RP_BALANCE_HASH */
    const char *hash_name;     /* RP_HASH_HEADER/COOKIE/QUERY */
    uint32_t n_servers;
    const struct rp_server_def *servers;
    struct rp_health_def health;
    uint32_t retries;          /* extra attempts (the compiler fills in defaults) */
    uint32_t retry_on;         /* RP_RETRY_* */
    uint32_t queue_timeout_ms; /* wait for a server under max_conns; 0: default */
    uint32_t keepalive;        /* idle server connections kept per worker; 0: default */
    uint32_t keepalive_idle_ms; /* 0: default */
    enum rp_when_down when_down;
    uint32_t eject_after;       /* failures in a row; 0: default, RP_EJECT_OFF */
    uint32_t eject_ms, eject_max_ms; /* first and longest ejection; 0: default */
    uint32_t intercept;          /* RP_INTERCEPT_*: the servers' error answers replaced */
    const struct rp_header_actions *headers; /* the backend's header actions; NULL: none */
};

#define RP_INTERCEPT_4XX (1u << 0)
#define RP_INTERCEPT_5XX (1u << 1)

/* ---- settings (top-level workers, timeouts { }, limits { }) --------------- */

/* Every field: 0 means "the runtime's default". */
struct rp_settings {
    uint32_t workers; /* threads; RP_WORKERS_AUTO: one per core */
    uint32_t client_header_ms, client_idle_ms, client_body_ms;
    uint32_t connect_ms, backend_ms, drain_ms;
    uint32_t tunnel_ms;    /* a tunnel's or layer 4 stream's inactivity; 0: backend_ms */
    uint32_t header_size;  /* bytes of a request head */
    uint32_t header_count; /* fields in a request head */
    uint32_t uri_length;   /* bytes of a request target */
    uint64_t body_size;    /* bytes of a request body; 0: no limit */
    uint32_t connections;  /* client connections at once; 0: from the fd limit */
    uint32_t connections_per_client; /* ... from one client address; 0: no limit (ABI 12) */
    uint64_t memory;       /* bytes of I/O buffers in use; 0: a quarter of RAM */
    uint32_t http2_streams; /* HTTP/2 streams open at once per connection; 0: 100 (ABI 13) */
    uint32_t http2_window;  /* HTTP/2 initial stream window; 0: 65535 (ABI 13) */
    uint32_t http2_frame;   /* HTTP/2 largest frame taken; 0: 16384 (ABI 13) */
};

#define RP_WORKERS_AUTO UINT32_MAX

/* ---- client identity (`forwarded { }`) ------------------------------------- */

/* An inclusive range of IPv6 addresses (IPv4 as ::ffff:a.b.c.d). A set is
 * sorted, ranges do not overlap. */
struct rp_ip_range {
    uint8_t lo[16], hi[16];
};

/* The forwarding fields the proxy sends to servers (rp_forwarding.send). */
#define RP_FWD_XFF (1u << 0)       /* X-Forwarded-For */
#define RP_FWD_PROTO (1u << 1)     /* X-Forwarded-Proto */
#define RP_FWD_HOST (1u << 2)      /* X-Forwarded-Host */
#define RP_FWD_REAL_IP (1u << 3)   /* X-Real-IP */
#define RP_FWD_FORWARDED (1u << 4) /* Forwarded (RFC 7239) */
/* The request's Host goes to the server unchanged, so X-Forwarded-Host
 * says something only where a header action replaces Host: asked for. */
#define RP_FWD_DEFAULT (RP_FWD_XFF | RP_FWD_PROTO)

/* Which forwarding fields go to servers, and which peers' own are believed:
 * from a trusted peer the chain is kept and the client is the last
 * untrusted address in it; from any other peer they are replaced. */
struct rp_forwarding {
    uint32_t send; /* RP_FWD_* */
    uint32_t n_trusted;
    const struct rp_ip_range *trusted;
};

/* `error 502 503 504 file "oops.html"`: the body of the proxy's own answer
 * with that status, instead of its reason phrase. */
struct rp_error_page {
    uint16_t status;
    const char *content_type;
    const char *body;
    uint32_t body_len;
};

/* ---- the access log (`log access ...`) ------------------------------------ */

enum rp_access_log_format {
    RP_ACCESS_LOG_COMBINED = 1, /* Apache's and nginx's "combined" */
    RP_ACCESS_LOG_JSON = 2,     /* one JSON object a line, every field of the record */
    RP_ACCESS_LOG_CUSTOM = 3,   /* the policy's `format "..."`: pieces */
};

/* What a custom log format puts in a line: the names of `${...}`. */
enum rp_log_field {
    RP_LOG_TEXT = 0, /* a piece of the format as written */
    RP_LOG_CLIENT, RP_LOG_TIME, RP_LOG_TIME_LOCAL, RP_LOG_METHOD, RP_LOG_URI, RP_LOG_HOST,
    RP_LOG_PROTOCOL, RP_LOG_TLS, RP_LOG_STATUS, RP_LOG_BYTES_IN, RP_LOG_BYTES_OUT,
    RP_LOG_DURATION_MS, RP_LOG_CONNECT_MS, RP_LOG_FIRST_BYTE_MS, RP_LOG_ROUTE, RP_LOG_BACKEND,
    RP_LOG_SERVER, RP_LOG_ATTEMPTS, RP_LOG_CACHE, RP_LOG_REQUEST_ID, RP_LOG_REFERER,
    RP_LOG_USER_AGENT, RP_LOG_END, RP_LOG_TLS_VERSION, RP_LOG_TLS_CIPHER, RP_LOG_SNI,
    RP_LOG_USER, /* the user of Basic credentials (ABI 12) */
    RP_LOG_N_FIELDS
};

struct rp_log_piece {
    uint32_t field;   /* enum rp_log_field */
    const char *text; /* RP_LOG_TEXT: len bytes */
    uint32_t len;
};

struct rp_access_log {
    const char *where;
    const char *path; /* as written (relative: to the proxy's working directory);
                         NULL: standard output */
    uint32_t format;  /* enum rp_access_log_format */
    const struct rp_log_piece *pieces; /* RP_ACCESS_LOG_CUSTOM: the line, in order */
    uint32_t n_pieces;
    const char *syslog;  /* `syslog`: "unix:/dev/log" or a numeric IP (syslog_port);
                            NULL: path says where */
    uint16_t syslog_port;
    uint8_t facility;    /* syslog's: 1 user, 3 daemon, 16..23 local0..7 */
    uint16_t status_min, status_max; /* `status`: only exchanges answered so; 0, 0: all */
    uint32_t sample_ppm;             /* `sample`: lines kept per million; 0: all */
};

/* ---- routes and decisions ------------------------------------------------- */

enum rp_action_kind {
    RP_ACTION_PROXY = 1,    /* forward to backend `backend` */
    RP_ACTION_RESPOND = 2,  /* answer `status` with `body` (also `deny`) */
    RP_ACTION_REDIRECT = 3, /* answer `status` with Location: `location` */
    RP_ACTION_PURGE = 4,    /* remove the cache's stored answers the request names
                               (its URL; a URL ending in '*': every one it starts;
                               Surrogate-Key / Cache-Tag fields: those tags) and
                               answer 200 with how many went */
    RP_ACTION_METRICS = 5,  /* answer 200 with the Prometheus text exposition */
    RP_ACTION_STATUS = 6,   /* the status page: HTML, or JSON (status.h) */
    RP_ACTION_STATUS_ADMIN = 7, /* ... and its admin actions (POST) */
};

/* What a route does to an exchange beyond the decision's answer: a program
 * of steps the runtime runs in its phases (docs/runtime.md), a const table
 * per route ending in RP_STEP_END. A new kind of step adds a value to the
 * enum and an argument struct; the shapes here stay, and a runtime meeting
 * a kind it does not know refuses the program at start. */
enum rp_step_kind {
    RP_STEP_END = 0,
    RP_STEP_COMPRESS = 1, /* arg: struct rp_compress_def; response body filter */
    RP_STEP_HEADERS = 2,  /* arg: struct rp_header_actions; head edits both ways */
    RP_STEP_REWRITE = 3,  /* arg: struct rp_rewrite_def; the path the server gets */
    RP_STEP_BACKEND_HEADERS = 4, /* arg unused: the decided backend's header actions */
    RP_STEP_CACHE = 5,    /* arg: struct rp_cache_def; lookup, store, serve */
    RP_STEP_LIMIT = 6,    /* arg: struct rp_limit_use; in a route's `access` table:
                             429 or a delay */
    RP_STEP_AUTH_BASIC = 7, /* arg: struct rp_auth_basic_def; in `access`: 401 */
    RP_STEP_METHODS = 8,  /* arg: struct rp_methods_def; in `access`: 405 */
    RP_STEP_BODY_SIZE = 9, /* arg: struct rp_body_size_def; in `access`: 413 */
    RP_STEP_AUTH_REQUEST = 10, /* arg: struct rp_auth_request_def; in `access`, last:
                                  a subrequest decides */
    RP_STEP_AUTH_JWT = 11, /* arg: struct rp_jwt_def; in `access`: 401 */
};

struct rp_step {
    enum rp_step_kind kind;
    const void *arg;
};

/* `set|add|remove [response] header NAME ["VALUE"]`: header actions, in the
 * order they apply (top level first, then the route's). */
enum rp_header_op {
    RP_HDR_SET = 1,    /* replace every field of that name */
    RP_HDR_ADD = 2,    /* add a field beside those there */
    RP_HDR_REMOVE = 3, /* remove every field of that name */
};

/* A piece of a value: text, or a request value put in when it is used. */
enum rp_piece_kind {
    RP_PIECE_TEXT = 0,        /* s, len */
    RP_PIECE_VALUE = 1,       /* what (enum rp_value in rp/match.h), name s, len */
    RP_PIECE_CLIENT_IP = 2,   /* client.ip, as text */
    RP_PIECE_CLIENT_PORT = 3, /* the peer's port */
    RP_PIECE_URI = 4,         /* the path, then "?" and the query when there is one */
    RP_PIECE_REQ_ID = 5,      /* req.id: the request's id */
    RP_PIECE_CAPTURE = 6,     /* a regex's group `what` ($1..$9): a rewrite's, or a
                                 redirect's route path regex's */
    RP_PIECE_SERVER = 7,      /* the name of the server that answered */
    RP_PIECE_BACKEND = 8,     /* the name of the route's backend */
    RP_PIECE_QUERY = 9,       /* "?" and the query, when the request has one (ABI 14) */
};

struct rp_piece {
    uint8_t kind; /* enum rp_piece_kind */
    uint8_t what; /* RP_PIECE_VALUE */
    uint32_t len;
    const char *s;
};

struct rp_header_action {
    uint8_t op;        /* enum rp_header_op */
    bool response;     /* on the response to the client; else the request to the server */
    bool replaces;     /* SET, REMOVE: an earlier action added this name (the compiler
                          knows): take that back too */
    uint32_t name_len;
    const char *name;  /* as written */
    const char *lname; /* lower case */
    uint32_t n_pieces; /* SET, ADD: the value */
    const struct rp_piece *pieces;
};

struct rp_header_actions {
    uint32_t n;
    const struct rp_header_action *a;
};

struct rp_regex; /* rp/match.h */

/* `strip prefix "/api"` or `rewrite path "REGEX" "REPLACEMENT"`: the path
 * the server gets (the query goes as it came). Routes and acls matched the
 * request's own path; header actions before it see that one too. */
struct rp_rewrite_def {
    const char *where;
    const char *prefix;        /* strip: removed from the start when it is there */
    uint32_t prefix_len;
    const struct rp_regex *re; /* rewrite: on a match, the path becomes pieces */
    uint32_t n_pieces;
    const struct rp_piece *pieces; /* RP_PIECE_TEXT and RP_PIECE_CAPTURE */
};

/* Content codings (rp_compress_def.codings). */
#define RP_CODING_GZIP (1u << 0)
#define RP_CODING_BR (1u << 1) /* brotli (RFC 7932) */

/* `compress gzip { types [...]; min SIZE; level N }`: responses of these
 * media types, from min_length bytes, are compressed for clients that
 * accept a coding. */
struct rp_compress_def {
    const char *where;
    uint32_t codings;    /* RP_CODING_* */
    uint32_t level;      /* 1 (fast) .. 9 (small) */
    uint64_t min_length; /* responses known to be shorter go as they are */
    uint32_t n_types;
    const char *const *types; /* lower case "type/subtype", or "type/" then a star */
};

/* `cache { ... }`: responses stored and served again, as a shared cache
 * (RFC 9111) does. Every route's cache is one store of the process. */
struct rp_cache_def {
    const char *where;
    uint32_t ttl_s;           /* the lifetime of a response that gives none (and whose
                                 status is cacheable by default); 0: the RFC's heuristic */
    uint32_t max_ttl_s;       /* no lifetime is longer; 0: no cap */
    uint32_t heuristic_max_s; /* the heuristic (a tenth of the age of Last-Modified) cap */
    uint32_t swr_s, sie_s;    /* stale-while-revalidate, stale-if-error when the response
                                 gives none */
    uint64_t max_size;        /* the store's bound in bytes (the largest of all routes') */
    uint64_t max_object;      /* a larger response is not stored */
    const char *status_header; /* e.g. "X-Cache": HIT, MISS, STALE...; NULL: none */
    uint32_t n_key;
    const struct rp_piece *key; /* the key: these pieces, rendered one after another */
};

/* `limit NAME = rate N/UNIT [burst B] by KEY...`: a token bucket per key
 * (the generic cell rate algorithm: one "theoretical arrival time" per
 * key), shared by every worker. A request whose key has no value (a header
 * it lacks) is not counted. */
struct rp_limit_def {
    const char *where;
    const char *name;
    uint32_t index;        /* in rp_program.limits: its state's slot */
    uint64_t interval_ns;  /* one request per interval keeps the rate */
    uint32_t burst;        /* requests that may come at once */
    uint32_t quota, window_s; /* the rate as written, N per window_s (RateLimit-Policy) */
    uint32_t keys;         /* keys tracked at once (memory: 16 bytes each) */
    uint32_t concurrent;   /* `concurrent N`: at most N requests in flight per key (no
                              rate: interval_ns and burst are 0); 0: a rate */
    uint64_t ban_ns;       /* `errors N/UNIT ban D`: the rate counts the key's answers
                              with a status in [status_min, status_max]; past its
                              burst, the key's requests are refused for ban_ns */
    uint16_t status_min, status_max;
    const char *redis_host; /* `shared redis "IP:PORT"`: the fleet's counts in Redis,
                               numeric; NULL: this process's alone */
    uint16_t redis_port;
    bool fail_closed;       /* Redis unreachable: refuse (503); else each process
                               limits alone */
    bool by_route;         /* each route that applies it counts apart */
    uint32_t n_key;
    const struct rp_piece *key; /* RP_PIECE_CLIENT_IP and RP_PIECE_VALUE parts */
};

/* A route's `limit NAME [delay]`. */
struct rp_limit_use {
    const struct rp_limit_def *limit;
    bool delay; /* over the rate but within the burst: wait (nginx's limit_req
                   without nodelay) instead of passing at once */
};

/* `auth basic "REALM" file "USERS" [forward_credentials]`: HTTP Basic
 * authentication (RFC 7617) against a user file of "user:hash" lines
 * (htpasswd's form; hashes libcrypt checks). */
struct rp_auth_basic_def {
    const char *where;
    const char *realm;  /* for WWW-Authenticate: no '"' or '\\' (the compiler checked) */
    const char *file;   /* absolute; read at start and on SIGHUP */
    uint32_t index;     /* in rp_program.auths */
    bool forward_credentials; /* Authorization goes on to the server; else it stays here */
};

/* `auth request BACKEND "/PATH" [copy [NAME, ...]]`: forward
 * authentication (nginx's auth_request): a GET of PATH, with the request's
 * fields (and X-Original-Method, X-Original-URI), goes to a server of the
 * backend; a 2xx lets the request through, with the answer's fields named
 * in copy put on it (the client's own of those names dropped); 401 and
 * 403 go to the client (401 with the answer's WWW-Authenticate); anything
 * else, or no answer, is a 500 or 502. */
struct rp_auth_request_def {
    const char *where;
    uint32_t backend;
    const char *path;   /* the request target sent */
    uint32_t n_copy;
    const char *const *copy; /* lower case */
};

/* The JWS algorithms (RFC 7518, RFC 8037) a token may be signed with;
 * rp_jwt_def.algs holds 1u << each allowed. */
enum rp_jws_alg {
    RP_JWS_HS256 = 1, RP_JWS_HS384, RP_JWS_HS512, /* HMAC with a shared secret */
    RP_JWS_RS256, RP_JWS_RS384, RP_JWS_RS512,     /* RSASSA-PKCS1-v1_5 */
    RP_JWS_PS256, RP_JWS_PS384, RP_JWS_PS512,     /* RSASSA-PSS */
    RP_JWS_ES256, RP_JWS_ES384,                   /* ECDSA P-256, P-384 */
    RP_JWS_EDDSA,                                 /* Ed25519 */
};

/* Where `auth jwt` looks for the token. */
enum rp_jwt_from {
    RP_JWT_FROM_BEARER = 0, /* Authorization: Bearer TOKEN (RFC 6750 2.1) */
    RP_JWT_FROM_COOKIE = 1, /* a cookie, from_name */
    RP_JWT_FROM_QUERY = 2,  /* a query parameter, from_name */
};

/* `auth jwt key "FILE" alg [...] [issuer "I"] [audience ...] [leeway D]
 * [from cookie|query "NAME"]`: a signed token (jwt.h). */
struct rp_jwt_def {
    const char *where;
    uint32_t index;        /* in rp_program.jwts */
    const char *key_file;  /* absolute: a PEM public key or certificate; for HMAC the
                              secret's bytes (a final newline is not part of it); with
                              jwks, a JWKS document (RFC 7517) */
    bool jwks;             /* key_file holds several keys, chosen by the token's kid */
    uint32_t algs;         /* 1u << enum rp_jws_alg, for each allowed */
    const char *issuer;    /* iss must be this; NULL: any */
    uint32_t n_audiences;  /* aud must name one of these; 0: any */
    const char *const *audiences;
    uint32_t leeway_s;     /* clock skew allowed on exp and nbf */
    uint8_t from;          /* enum rp_jwt_from */
    const char *from_name;
    bool forward_token;    /* the token goes on to the server (Authorization, cookie or
                              parameter as it came); else an Authorization stays here */
    bool claims;           /* the policy reads its claims (jwt.sub ...): keep them */
};

/* A route's `methods [GET, POST]`: any other method gets 405 with Allow
 * (GET brings HEAD with it). */
struct rp_methods_def {
    const char *where;
    uint32_t n;
    const char *const *names; /* upper case */
    const char *allow;        /* the Allow field's value: "GET, HEAD, POST" */
};

/* A route's `body_size SIZE`: its requests' bodies, instead of limits {
 * body_size }. */
struct rp_body_size_def {
    const char *where;
    uint64_t max; /* bytes */
};

/* One route as written, for logs, `rpx explain` and `rpx test`. */
struct rp_route_def {
    const char *where;
    const char *label; /* the route's matchers as written, e.g. `path "/api/"` */
    const struct rp_step *steps; /* NULL: none */
    bool log_off;                /* `log off`: no access log line for its exchanges */
    const struct rp_step *access; /* the access phase's steps (limits, then auth), run before
                                     any answer of the route; NULL: none (ABI 12) */
};

/* What the runtime gives the decision function: the request, as slices into
 * the runtime's buffers, valid during the call only. */
struct rp_request_view {
    const char *method;
    const char *host; /* Host (or absolute-form authority) without the port,
                         lower case; "" if none */
    const char *path; /* without the query */
    const char *query; /* after '?', or NULL */
    uint32_t method_len, host_len, path_len, query_len;
    uint8_t client_ip[16]; /* IPv6; IPv4 as ::ffff:a.b.c.d */
    const void *headers; /* runtime's header table: use rp_req_header() */
    uint32_t n_headers;
    const void *tls;     /* the connection's TLS (read with rp_req_value); NULL: plain */
    bool https;          /* the scheme is https: TLS, or the proxy's own request on
                            behalf of a client that came over TLS */
    const char *jwt;     /* the claims (JSON) of the token `auth jwt` verified; NULL */
    uint32_t jwt_len;
};

/* Looks up a request header by lower-case name; returns true and sets
 * *value / *len to the first field's value. */
bool rp_req_header(const struct rp_request_view *req, const char *lname, size_t lname_len,
                   const char **value, uint32_t *len);

/* Looks up a query parameter (raw, not percent-decoded) or a cookie by
 * name. Same convention as rp_req_header. */
bool rp_req_query(const struct rp_request_view *req, const char *name, size_t name_len,
                  const char **value, uint32_t *len);
bool rp_req_cookie(const struct rp_request_view *req, const char *name, size_t name_len,
                   const char **value, uint32_t *len);

/* Finds `name`=value in p[0..end), pairs separated by `sep` (query strings
 * use '&', Cookie fields ';'); spaces before a name are skipped. A name
 * without '=' has an empty value. Shared by the lookups above and by
 * `rpx explain`, so both read requests the same way. */
bool rp_pair_find(const char *p, const char *end, char sep, const char *name, size_t name_len,
                  const char **value, uint32_t *len);

#define RP_DECISION_LOCATION_MAX 2048

/* What the decision function answers. */
struct rp_decision {
    uint32_t route; /* the route that matched, or RP_NO_ROUTE */
    enum rp_action_kind action;
    uint32_t backend; /* PROXY */
    uint16_t status;  /* RESPOND, REDIRECT */
    bool tunnel;      /* PROXY: the route allows Upgrade (WebSocket) tunnels */
    const char *body; /* RESPOND: static data */
    uint32_t body_len;
    const char *content_type; /* RESPOND: NULL for text/plain */
    uint32_t location_len;                        /* REDIRECT */
    char location[RP_DECISION_LOCATION_MAX];      /* REDIRECT, built per request */
};

/* What an action answers, as a table row (ABI 14): every route's actions
 * are these, set on the decision by rp_answer_set (rp/match.h), the one
 * call the generated code, `rpx test` and `rpx explain` share. */
struct rp_answer {
    enum rp_action_kind action;
    uint32_t backend; /* PROXY */
    uint16_t status;  /* RESPOND, REDIRECT */
    bool tunnel;      /* PROXY */
    const char *body; /* RESPOND */
    uint32_t body_len;
    const char *content_type;        /* RESPOND: NULL for text/plain */
    uint32_t n_location;             /* REDIRECT: the Location's pieces */
    const struct rp_piece *location;
};

/* Decides what to do with a request. Must not block or allocate. The runtime
 * clears *d (all but `location`) and sets d->route = RP_NO_ROUTE before the
 * call; the function sets what applies. With RP_NO_ROUTE the runtime
 * answers 404. */
typedef void rp_decide_fn(const struct rp_request_view *req, struct rp_decision *d);

/* ---- policy tests (`test` blocks), run by `rpx test` ------------------------ */

enum rp_expect_kind {
    RP_EXPECT_STATUS = 1, /* the decision answers `status` (RESPOND, REDIRECT) */
    RP_EXPECT_PROXY = 2,  /* the decision proxies to `backend` */
    RP_EXPECT_ROUTE = 3,  /* the decision came from route `route` */
    RP_EXPECT_LOCATION = 4, /* the decision redirects to `text` */
};

struct rp_test_header {
    const char *name; /* as written */
    const char *value;
};

struct rp_test_expect {
    const char *where;
    enum rp_expect_kind kind;
    uint32_t value; /* status, backend index or route index */
    const char *text; /* LOCATION: the expected Location (ABI 3) */
};

struct rp_test_def {
    const char *where;
    const char *name;
    const char *method;
    const char *url;       /* as written: absolute or origin form */
    const char *client_ip; /* textual, or NULL for 127.0.0.1 */
    uint32_t n_headers;
    const struct rp_test_header *headers;
    uint32_t n_expects;
    const struct rp_test_expect *expects;
};

/* ---- the program ---------------------------------------------------------------- */

struct rp_program {
    uint32_t abi;       /* RP_PROGRAM_ABI */
    const char *source; /* the policy's file name */
    const struct rp_settings *settings;
    uint32_t n_listeners;
    const struct rp_listener_def *listeners;
    uint32_t n_backends;
    const struct rp_backend_def *backends;
    uint32_t n_routes;
    const struct rp_route_def *routes;
    rp_decide_fn *decide;
    bool allow_trace;   /* a route names TRACE; else the proxy answers it 405 */
    const struct rp_forwarding *forwarding; /* NULL: RP_FWD_DEFAULT, no trusted peer */
    const char *via;    /* the name in Via fields; NULL: "rpx"; "": no Via */
    bool upstream_path_original; /* servers get the path as received, not normalized
                                    (a rewrite's result still goes) */
    uint32_t n_error_pages;
    const struct rp_error_page *error_pages; /* the proxy's own errors, per status */
    const struct rp_header_actions *headers; /* the top level's header actions, for
                                                answers no route's steps cover */
    uint32_t n_tests;                /* only in `rpx test` builds (RP_POLICY_TEST) */
    const struct rp_test_def *tests;
    const char *policy_hash; /* "sha256:..." of the policy's canonical form (ABI 8) */
    const struct rp_access_log *access_log; /* NULL: none (ABI 10) */
    bool metrics; /* a route answers `metrics`: the workers count (ABI 10) */
    const char *build_flags; /* how rpx built the binary: "static stripped -O2 ..." */
    uint32_t n_limits;       /* `limit` definitions (ABI 12) */
    const struct rp_limit_def *const *limits;
    uint32_t n_auths;        /* `auth basic` statements, for their user files (ABI 12) */
    const struct rp_auth_basic_def *const *auths;
    uint32_t n_jwts;         /* `auth jwt` statements, for their keys (ABI 12) */
    const struct rp_jwt_def *const *jwts;
    const struct rp_jwt_def *jwt_before_routes; /* conditions or limit keys read jwt.*:
                                                   the one auth jwt checks the token before
                                                   the decision (its claims, or none) */
    uint32_t n_ip_indexes;   /* large address sets, indexed at start (rp/match.h; ABI 12) */
    const struct rp_ip_index *const *ip_indexes;
};

/* Defined by the generated code, read by the runtime's main(). */
extern const struct rp_program rp_program;

#endif
