/* compile.h: one compilation of one policy: source, arena, diagnostics, and
 * the stages run in order (parse, check, lower), each only if the one
 * before reported no error. */
#ifndef RPX_COMPILE_H
#define RPX_COMPILE_H

#include <stdbool.h>
#include <stdio.h>

#include "arena.h"
#include "ast.h"
#include "diag.h"
#include "ir.h"
#include "src.h"

struct compile_opts {
    bool werror;         /* warnings are errors */
    bool allow_shadowed; /* a route that can never match is only a warning */
    const char *std_dir; /* where `import "std/NAME"` looks; NULL: nowhere */
};

struct compilation {
    struct src src;     /* owned */
    struct arena arena; /* everything below lives here */
    struct diag diag;
    struct ast_program *prog;
    struct ir_program *ir; /* set when the policy has no errors */
    bool from_file;        /* opened by compile_open: imports may read files */
};

/* Reads path into c. Returns 0, or -1 with errno set (c needs no free). */
int compile_open(struct compilation *c, const char *path);
/* Takes a copy of text (len bytes, NULs allowed) named name. */
void compile_open_string(struct compilation *c, const char *name, const char *text, size_t len);
/* Runs the stages, printing diagnostics to out (NULL: only count them).
 * Returns true if the policy has no errors; c->prog and c->ir are then
 * ready for the emitter. */
bool compile_run(struct compilation *c, const struct compile_opts *opts, FILE *out);
/* Only the first stage (parsing, imports included): for `rpx fmt`. */
bool compile_parse(struct compilation *c, const struct compile_opts *opts, FILE *out);
void compile_free(struct compilation *c);

#endif
