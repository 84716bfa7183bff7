/* fuzz_frontend.c: libFuzzer target over rpx's front end: lexer, parser,
 * checker, automaton, emitter and formatter. Any input must give
 * diagnostics or C, never a crash, a hang or a leak; an input that parses
 * must format to text that parses and that formats to itself. (Imports are
 * off for in-memory sources, so no input reads a file.) */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "compile.h"
#include "emit_c.h"
#include "fmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Formats the parsed c; checks the result parses and is a fixed point. */
static void fuzz_fmt(struct compilation *c)
{
    struct buf once = {0}, twice = {0};
    fmt_policy(&once, &c->src);
    struct compilation d;
    compile_open_string(&d, "fuzz.rp", once.data ? once.data : "", once.len);
    if (!compile_parse(&d, NULL, NULL))
        abort(); /* fmt produced text that does not parse */
    fmt_policy(&twice, &d.src);
    if (twice.len != once.len || (once.len && memcmp(once.data, twice.data, once.len) != 0))
        abort(); /* fmt is not idempotent */
    compile_free(&d);
    buf_free(&once);
    buf_free(&twice);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct compilation c;
    compile_open_string(&c, "fuzz.rp", (const char *)data, size);
    struct compile_opts opts = {.allow_shadowed = (size & 1) != 0};
    if (compile_parse(&c, &opts, NULL)) {
        compile_free(&c);
        compile_open_string(&c, "fuzz.rp", (const char *)data, size);
        fuzz_fmt(&c);
        compile_free(&c);
        compile_open_string(&c, "fuzz.rp", (const char *)data, size);
    }
    if (compile_run(&c, &opts, NULL)) {
        struct buf out = {0};
        emit_c(&out, c.ir, &c.src);
        buf_free(&out);
    }
    compile_free(&c);
    return 0;
}
