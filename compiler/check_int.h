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

/* The source text a span covers. */
const char *text_at(const struct check *c, struct span s);

/* An argument's length, for "%.*s". */
int arg_len(const struct ast_arg *a);

/* The index of the word at s among n words, or -1. */
int word_index(const struct check *c, struct span s, const char *const *words, size_t n);

/* "unknown WHAT 'x'; did you mean 'y'?" or "... (expected one of: a, b)". */
void check_unknown(struct check *c, struct span at, const char *what,
                   const char *const *words, size_t n);

/* A duration in milliseconds (1ms..24d), reported when it is not one. */
bool check_duration(struct check *c, const struct ast_arg *a, const char *what, uint32_t *ms);

/* A plain integer in lo..hi, reported when it is not one. */
bool check_int(struct check *c, const struct ast_arg *a, const char *what, uint32_t lo,
               uint32_t hi, uint32_t *out);

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

/* A backend's `set|add|remove [response] header` statement: checked and
 * appended to b->hdr_actions. Returns false when st is another statement. */
bool check_backend_header_stmt(struct check *c, struct ast_backend *b, const struct ast_stmt *st);

#endif
