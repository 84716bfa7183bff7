/* fuzz_frontend.c: libFuzzer target over rpx's front end: lexer, parser,
 * checker, automaton and emitter. Any input must give diagnostics or C,
 * never a crash, a hang or a leak. */
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "compile.h"
#include "emit_c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct compilation c;
    compile_open_string(&c, "fuzz.rp", (const char *)data, size);
    struct compile_opts opts = {.allow_shadowed = (size & 1) != 0};
    if (compile_run(&c, &opts, NULL)) {
        struct buf out = {0};
        emit_c(&out, c.prog, c.dfa, &c.src);
        buf_free(&out);
    }
    compile_free(&c);
    return 0;
}
