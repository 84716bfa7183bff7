/* check_int.h: what the checker's files share (check.c and the files that
 * check one kind of statement each, such as check_headers.c). Not for the
 * rest of the compiler: check.h is its interface. */
#ifndef RPX_CHECK_INT_H
#define RPX_CHECK_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "ast.h"
#include "check.h"

struct check {
    struct ast_program *prog;
    const struct src *src;
    struct diag *diag;
    struct arena *arena;
    const struct check_opts *opts;
};

/* The span of bytes [from, from+len) of s, and the span from a to b's end. */
static inline struct span span_sub(struct span s, size_t from, size_t len)
{
    struct span r = {s.off + (uint32_t)from, (uint32_t)len};
    return r;
}

static inline struct span span_join(struct span a, struct span b)
{
    struct span r = {a.off, b.off + b.len - a.off};
    return r;
}

/* A small name table (open addressing over text and length) for backends
 * and acls: put returns the item already there under that name, or NULL. */
struct name_slot {
    const char *s;
    size_t len;
    void *item;
};

struct names {
    struct name_slot *slots;
    size_t mask;
};

void names_init(struct names *t, struct arena *a, size_t n);
void *names_put(struct names *t, const char *s, size_t len, void *item);
void *names_get(const struct names *t, const char *s, size_t len);

/* The source text a span covers. */
const char *text_at(const struct check *c, struct span s);

/* An argument's length, for "%.*s". */
int arg_len(const struct ast_arg *a);

/* The index of the word at s among n words, or -1. */
int word_index(const struct check *c, struct span s, const char *const *words, size_t n);

/* "unknown WHAT 'x'; did you mean 'y'?" or "... (expected one of: a, b)". */
void check_unknown(struct check *c, struct span at, const char *what, const char *const *words,
                   size_t n);

/* A duration in milliseconds (1ms..24d), reported when it is not one. */
bool check_duration(struct check *c, const struct ast_arg *a, const char *what, uint32_t *ms);

/* HTTP statuses: one (`503`), a range (`500..599`) or a class (`5xx`),
 * each within 100..599; reported (as `what`) when none of these. */
bool check_status_range(struct check *c, const struct ast_arg *a, const char *what, uint32_t *lo,
                        uint32_t *hi);

/* A percentage (`10%`, `0.5%`, 0.0001%..100%) in parts per million. */
bool check_percent(struct check *c, const struct ast_arg *a, const char *what, uint32_t *ppm);

/* A route's `log off` (check_log.c). */
void check_route_log(struct check *c, struct ast_route *r, const struct ast_stmt *st);

/* A plain integer in lo..hi, reported when it is not one. */
bool check_int(struct check *c, const struct ast_arg *a, const char *what, uint32_t lo, uint32_t hi,
               uint32_t *out);

/* A file named in the policy, relative to the policy file that names it
 * (at): the path to open (full) and the path to show in messages (shown,
 * relative as the policy was named). */
void policy_file_path(const struct check *c, struct span at, const char *path, char *full,
                      char *shown, size_t size);

/* The statement's arguments must be exactly n (reported otherwise). */
bool check_nargs(struct check *c, struct span kw, const struct ast_arg *args, unsigned n,
                 const char *usage);

/* The source span of decoded bytes [off, off+len) of a string token. */
struct span string_sub(const struct check *c, struct span tok, size_t off, size_t len);

/* Compiles a regex written as a string argument; reports errors under the
 * offending part of the string. Returns its number, or UINT32_MAX. */
uint32_t check_regex(struct check *c, struct span tok, const char *pat, size_t len,
                     uint32_t *n_caps);

/* check_answers.c: bodies read from files (respond|deny ... file "PATH"),
 * and one top-level `error STATUS... file "PATH"|"TEXT"` statement. */
void check_answer_files(struct check *c);
void check_error_page(struct check *c, const struct ast_stmt *st);

/* check_tls.c: each listener's `tls` option and block, certificates read
 * and judged; then route hosts no certificate covers. */
void check_listen_tls(struct check *c, struct ast_listen *l, const struct ast_arg *tls_opt);
void check_tls_hosts(struct check *c);
void check_server_tls(struct check *c, struct ast_server *s, const struct ast_arg *tls_opt);

/* The fields of tls.FIELD (tls.sni, tls.client_cert.subject, ...), and the
 * index of one among them (-1: none). */
extern const char *const tls_fields[];
extern const size_t n_tls_fields;
int tls_field_index(const char *s, size_t n);

/* check_headers.c: top-level and route `set|add|remove [response] header`
 * statements, into prog->hdr_actions and each route's. */
void check_header_stmts(struct check *c);

/* A value reference argument (req.host, req.header["X"], ...) as a piece,
 * as `${...}` names it in a header value; NULL (reported) when it is none. */
struct ast_piece *check_value_ref(struct check *c, const struct ast_arg *a);

/* A backend's `set|add|remove [response] header` statement: checked and
 * appended to b->hdr_actions. Returns false when st is another statement. */
bool check_backend_header_stmt(struct check *c, struct ast_backend *b, const struct ast_stmt *st);

/* A file argument the proxy reads at run time: a string naming a readable
 * file, made absolute (reported when not); *shown (when not NULL) is its
 * name as messages give it (check_tls.c). */
const char *check_policy_file(struct check *c, const struct ast_arg *a, const char *what,
                              const char **shown_out);

/* check_auth.c: a route's `auth basic "REALM" file "USERS"`: the realm,
 * the user file read and each hash judged. */
void check_route_auth(struct check *c, struct ast_route *r, const struct ast_stmt *st);

/* check_limits.c: `limit NAME = ...` definitions (before the routes' header
 * statements, which hold their `limit NAME`), a route's use of one, and
 * the warning for those never used. */
void check_limits(struct check *c);
void check_route_limit(struct check *c, struct ast_route *r, const struct ast_stmt *st);
void check_unused_limits(struct check *c);
/* A route's `methods [GET, POST]` and `body_size SIZE`. */
void check_route_methods(struct check *c, struct ast_route *r, const struct ast_stmt *st);
void check_route_body_size(struct check *c, struct ast_route *r, const struct ast_stmt *st);

/* check_values.c ------------------------------------------------------- */

/* The word at s is w; arg_is_word: a is a word argument and it is w. */
bool word_is(const struct check *c, struct span s, const char *w);
bool arg_is_word(const struct check *c, const struct ast_arg *a, const char *w);

/* A size in bytes (B, KB, MB, GB) at most max, reported when it is not one. */
bool check_size(struct check *c, const struct ast_arg *a, const char *what, uint64_t max,
                uint64_t *bytes);
bool check_size_or_zero(struct check *c, const struct ast_arg *a, const char *what,
                        uint64_t *bytes);

/* Parses `[host]:port`, `host:port` or `:port` into a. need_host: a server
 * must say where it is; a listener without a host binds every address. */
void check_addr(struct check *c, struct ast_addr *a, bool need_host);

/* Two addresses name the same socket. */
bool addr_same(const struct ast_addr *x, const struct ast_addr *y);

/* check_backends.c ----------------------------------------------------- */

/* Every backend and its servers, entered into the name table. */
void check_backends(struct check *c, struct names *backends);

/* `listen ... tcp proxy NAME`: the backend, once backends are known. */
void check_tcp_listeners(struct check *c, const struct names *backends);

/* check_expr.c --------------------------------------------------------- */

/* Every acl, its condition resolved. */
void check_acls(struct check *c);

/* The acl a name refers to (the last one defined under it), or NULL. */
struct ast_acl *acl_lookup(const struct check *c, struct span name);

/* The right side of `client.ip in X`: a list of addresses and CIDRs, or
 * the name of an acl of the form `client.ip in [...]`. */
void check_ip_set(struct check *c, struct ast_expr *e);

/* A condition, its references resolved and operands checked. */
void check_expr(struct check *c, struct ast_expr *e);

/* "a word", "a string", ...: an argument's kind for messages. */
const char *arg_kind_name(enum ast_arg_kind k);

/* Parses an IP or CIDR argument into an inclusive range; reports errors. */
bool check_cidr(struct check *c, const struct ast_arg *x, struct rp_ip_range *out);

/* check_log.c: `log access "PATH"|stdout [format combined|json]`. */
void check_log(struct check *c, const struct ast_stmt *st);

/* check_cache.c: a route's `cache`; has_proxy: the route proxies. */
void check_cache(struct check *c, struct ast_route *r, bool has_proxy);

/* check_routes.c, check_tests.c ---------------------------------------- */

/* Every route: patterns, matchers, actions, and shadowing. */
void check_routes(struct check *c, const struct names *backends);

/* Every test block, against the routes and backends. */
void check_tests(struct check *c, const struct names *backends);

#endif
