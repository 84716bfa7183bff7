/* fuzz_diff.c: libFuzzer target over `rpx diff`. The input is two policies
 * separated by a line "====" (or one policy, compared with itself). Any pair
 * must diff without a crash, a hang or a leak; a policy compared with itself
 * differs in nothing; and the two directions find as many classes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "compile.h"
#include "diff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned diff_count(struct compilation *a, struct compilation *b)
{
    struct buf out = {0};
    unsigned n = diff_policies(&out, a->ir, &a->src, b->ir, &b->src);
    buf_free(&out);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    const char *sep = memmem(text, size, "\n====\n", 6);
    size_t a_len = sep ? (size_t)(sep - text) : size;
    const char *b_text = sep ? sep + 6 : text;
    size_t b_len = sep ? size - a_len - 6 : size;

    struct compile_opts opts = {.allow_shadowed = true};
    struct compilation a, b;
    compile_open_string(&a, "old.rp", text, a_len);
    compile_open_string(&b, "new.rp", b_text, b_len);
    if (compile_run(&a, &opts, NULL) && compile_run(&b, &opts, NULL)) {
        if (diff_count(&a, &a) != 0 || diff_count(&b, &b) != 0)
            abort(); /* a policy differs from itself */
        if (diff_count(&a, &b) != diff_count(&b, &a))
            abort(); /* the two directions disagree */
    }
    compile_free(&a);
    compile_free(&b);
    return 0;
}
