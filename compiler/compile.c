/* compile.c: runs the compiler's stages over one policy. */
#include "compile.h"

#include <string.h>

#include "check.h"
#include "parse.h"

int compile_open(struct compilation *c, const char *path)
{
    memset(c, 0, sizeof *c);
    c->from_file = true;
    return src_read(&c->src, path);
}

void compile_open_string(struct compilation *c, const char *name, const char *text, size_t len)
{
    memset(c, 0, sizeof *c);
    src_from_string(&c->src, name, text, len);
}

bool compile_parse(struct compilation *c, const struct compile_opts *opts, FILE *out)
{
    static const struct compile_opts defaults;
    if (!opts)
        opts = &defaults;
    diag_init(&c->diag, &c->src, out);
    c->diag.werror = opts->werror;
    struct parse_opts po = {.imports = c->from_file, .std_dir = opts->std_dir};
    c->prog = parse_program(&c->arena, &c->src, &c->diag, &po);
    return c->diag.n_errors == 0;
}

bool compile_run(struct compilation *c, const struct compile_opts *opts, FILE *out)
{
    static const struct compile_opts defaults;
    if (!opts)
        opts = &defaults;
    if (!compile_parse(c, opts, out))
        return false;
    struct check_opts co = {.allow_shadowed = opts->allow_shadowed};
    if (!check_program(c->prog, &c->src, &c->diag, &c->arena, &co))
        return false;
    c->ir = ir_lower(&c->arena, c->prog, &c->src);
    return true;
}

void compile_free(struct compilation *c)
{
    arena_free(&c->arena);
    src_free(&c->src);
}
