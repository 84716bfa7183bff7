/* parse.h: parsing a policy into an AST (parse_program), and the builder
 * functions the grammar's actions call (dsl/grammar.y). */
#ifndef RPX_PARSE_H
#define RPX_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "ast.h"
#include "lex.h"

struct arena;
struct diag;

/* Parses the whole source, reporting every lexical and syntax error it can
 * (the parser resynchronizes at the end of a statement). Returns the tree,
 * allocated in the arena; it is complete only if no error was reported. */
struct parse_opts {
    bool imports;        /* `import` may read files (not for in-memory sources) */
    const char *std_dir; /* where `import "std/NAME"` looks; NULL: not found */
};

/* Imports are parsed where they stand, as if the imported file's statements
 * were written there; their text is appended to s (see src_add_file). opts
 * may be NULL (no imports). */
struct ast_program *parse_program(struct arena *a, struct src *s, struct diag *d,
                                  const struct parse_opts *opts);

/* The words a policy's top level holds (for messages). */
extern const char *const parse_top_words[];
extern const size_t parse_n_top_words;
/* ... and a route. */
extern const char *const parse_route_words[];
extern const size_t parse_n_route_words;

/* ---- for the grammar's actions only ---------------------------------- */

struct parse_ctx {
    struct arena *arena;
    struct src *src;
    uint32_t file;                   /* the file being parsed (index in src->files) */
    const struct parse_opts *opts;
    struct diag *diag;
    struct ast_program *prog;
    struct ast_backend *cur_backend; /* inside `backend NAME { }` */
    struct ast_listen *cur_listen;   /* the last `listen`, whose block may follow */
    struct ast_server *cur_server;   /* the server whose options follow */
    struct ast_route *cur_route;     /* inside `route ... { }` */
    struct ast_stmt ***block_tail;   /* where the statements of the last `compress` or
                                        `cache` block begun go */
    enum ast_setting_block cur_block; /* inside `timeouts { }` or `limits { }` */
    struct ast_test *cur_test;       /* inside `test "..." { }` */
    uint32_t import_file;            /* an import to read next (0: none) */

    /* Tokens fed so far, replayed into a scratch parser to learn which
     * tokens a syntax error's position would have accepted. */
    struct lex_token *toks;
    size_t n_toks, cap_toks;
    unsigned n_syntax; /* syntax errors reported */
    bool bad_in_stmt;  /* the statement so far has a malformed token */
    bool probe;        /* this is the scratch parser */
    bool probe_failed; /* the scratch parser hit a syntax error */
};

enum parse_path_kind {
    PARSE_PATH_PREFIX = AST_PATH_PREFIX,
    PARSE_PATH_EXACT = AST_PATH_EXACT,
    PARSE_PATH_REGEX = AST_PATH_REGEX,
};

enum parse_action_kind {
    PARSE_ACT_PROXY = AST_ACTION_PROXY,
    PARSE_ACT_RESPOND = AST_ACTION_RESPOND,
    PARSE_ACT_DENY = AST_ACTION_DENY,
    PARSE_ACT_REDIRECT = AST_ACTION_REDIRECT,
    PARSE_ACT_PURGE = AST_ACTION_PURGE,
    PARSE_ACT_METRICS = AST_ACTION_METRICS,
    PARSE_ACT_STATUS = AST_ACTION_STATUS,
};

void parse_syntax_error(struct parse_ctx *p, const struct lex_token *t);
void parse_stack_overflow(struct parse_ctx *p);
void parse_listen(struct parse_ctx *p, const struct lex_token *kw, const struct lex_token *addr,
                  struct ast_arg *opts);
struct ast_arg *parse_ref3(struct parse_ctx *p, const struct lex_token *obj,
                           const struct lex_token *field, const struct lex_token *sub);
void parse_server_stmt(struct parse_ctx *p, const struct lex_token *kw, struct ast_arg *args);
void parse_server_end(struct parse_ctx *p);
/* `status [admin]` (word: admin, or NULL). */
void parse_status(struct parse_ctx *p, const struct lex_token *kw, const struct lex_token *word,
                  struct ast_expr *guard);
void parse_redirect_https(struct parse_ctx *p, const struct lex_token *kw,
                          const struct lex_token *word, const struct lex_token *status,
                          struct ast_expr *guard);
void parse_listen_stmt(struct parse_ctx *p, const struct lex_token *kw, struct ast_arg *args);
void parse_listen_end(struct parse_ctx *p);
void parse_backend_begin(struct parse_ctx *p, const struct lex_token *kw,
                         const struct lex_token *name);
void parse_backend_end(struct parse_ctx *p);
void parse_bstmt(struct parse_ctx *p, const struct lex_token *kw, struct ast_arg *args);
void parse_server(struct parse_ctx *p, const struct lex_token *kw, const struct lex_token *name,
                  const struct lex_token *addr, struct ast_arg *opts);
void parse_tunnel(struct parse_ctx *p, const struct lex_token *kw);
void parse_compress(struct parse_ctx *p, const struct lex_token *kw, struct ast_arg *codings);
/* A statement known by its first word (set, add, remove), in a route or at
 * top level. */
void parse_route_stmt(struct parse_ctx *p, const struct lex_token *kw, struct ast_arg *args);
void parse_top_stmt(struct parse_ctx *p, const struct lex_token *kw, struct ast_arg *args);
void parse_cache(struct parse_ctx *p, const struct lex_token *kw, struct ast_arg *args);
void parse_block_stmt(struct parse_ctx *p, const struct lex_token *kw, struct ast_arg *args);

enum parse_setting_block {
    PARSE_SET_WORKERS = AST_SET_WORKERS,
    PARSE_SET_TIMEOUTS = AST_SET_TIMEOUTS,
    PARSE_SET_LIMITS = AST_SET_LIMITS,
    PARSE_SET_FORWARDED = AST_SET_FORWARDED,
    PARSE_SET_BLOCK, /* a statement inside the block begun last */
};
void parse_settings_begin(struct parse_ctx *p, enum parse_setting_block which,
                          const struct lex_token *kw);
void parse_setting(struct parse_ctx *p, enum parse_setting_block which, const struct lex_token *kw,
                   struct ast_arg *args);

struct ast_arg *parse_arg(struct parse_ctx *p, enum ast_arg_kind kind, const struct lex_token *t);
/* LIST ([items]) or CALL (name(items)), from first to last token. */
struct ast_arg *parse_arg_group(struct parse_ctx *p, enum ast_arg_kind kind,
                                const struct lex_token *first, struct ast_arg *items,
                                const struct lex_token *last);
struct ast_arg *parse_ref(struct parse_ctx *p, const struct lex_token *obj,
                          const struct lex_token *field, const struct lex_token *key,
                          const struct lex_token *last);
/* Appends x to the list starting at head; returns the head. */
struct ast_arg *parse_arg_append(struct ast_arg *head, struct ast_arg *x);
void parse_route_begin(struct parse_ctx *p, const struct lex_token *kw);
void parse_match_path(struct parse_ctx *p, const struct lex_token *kw, enum parse_path_kind kind,
                      const struct lex_token *str);
void parse_match_host(struct parse_ctx *p, const struct lex_token *kw, const struct lex_token *str);
void parse_match_method(struct parse_ctx *p, const struct lex_token *kw, struct ast_arg *methods);
void parse_match_if(struct parse_ctx *p, const struct lex_token *kw, struct ast_expr *e);
void parse_match_default(struct parse_ctx *p, const struct lex_token *kw);
void parse_route_end(struct parse_ctx *p);
/* arg: the backend name (proxy) or the status; body: the body or location. */
void parse_action(struct parse_ctx *p, const struct lex_token *kw, enum parse_action_kind kind,
                  const struct lex_token *arg, const struct lex_token *body, struct ast_expr *guard);
/* respond/deny STATUS file "PATH": the body is read from a file when checking. */
void parse_action_file(struct parse_ctx *p, const struct lex_token *kw, enum parse_action_kind kind,
                       const struct lex_token *arg, const struct lex_token *file_kw,
                       const struct lex_token *path, struct ast_expr *guard);
/* Returns the guard expression, remembering the keyword for the action. */
struct ast_expr *parse_guard(struct parse_ctx *p, const struct lex_token *kw, struct ast_expr *e,
                             bool unless);
struct ast_expr *parse_expr_bin(struct parse_ctx *p, enum ast_expr_kind kind, struct ast_expr *l,
                                struct ast_expr *r);
struct ast_expr *parse_expr_not(struct parse_ctx *p, const struct lex_token *kw,
                                struct ast_expr *e);
struct ast_expr *parse_expr_paren(struct parse_ctx *p, const struct lex_token *open,
                                  struct ast_expr *e, const struct lex_token *close);
struct ast_expr *parse_expr_cmp(struct parse_ctx *p, enum ast_cmp cmp, struct ast_arg *lhs,
                                const struct lex_token *op, struct ast_arg *rhs);
/* `WORD NAME = ARGS`: a definition (`limit`). */
void parse_definition(struct parse_ctx *p, const struct lex_token *kw,
                      const struct lex_token *name, struct ast_arg *args);
void parse_acl(struct parse_ctx *p, const struct lex_token *kw, const struct lex_token *name,
               struct ast_expr *e);
void parse_import(struct parse_ctx *p, const struct lex_token *kw, const struct lex_token *path);
void parse_test_begin(struct parse_ctx *p, const struct lex_token *kw, const struct lex_token *name);
void parse_test_request(struct parse_ctx *p, const struct lex_token *kw,
                        const struct lex_token *method, const struct lex_token *url,
                        struct ast_arg *args);
void parse_test_expect(struct parse_ctx *p, const struct lex_token *kw, struct ast_arg *args);
void parse_test_end(struct parse_ctx *p);

/* Parses the decimal digits of s[0..n) into *out; false if not all digits
 * or the value exceeds max. */
bool parse_uint(const char *s, size_t n, uint32_t max, uint32_t *out);

#endif
