/* fuzz_diff.c: libFuzzer target over `rpx diff`. The input is two policies
 * separated by a line "====" (or one policy, compared with itself). Any pair
 * must diff without a crash, a hang or a leak; a policy compared with itself
 * differs in nothing; the two directions find as many classes; and every
 * request the diff says is decided differently is, per `rpx explain` with
 * its full trace (explain_request: another rendering of the decision), answered
 * differently by the two policies. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "compile.h"
#include "diff.h"
#include "explain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* explain's answer, without the route's number and line (which may differ
 * while the answer is the same): its "answer:" and "then:" lines. */
static void answer_of(struct buf *out, struct compilation *p, const struct explain_req *rq)
{
    struct buf full = {0};
    explain_request(&full, p->ir, &p->src, rq);
    buf_append(&full, "", 0);
    for (char *line = full.data; line && *line;) {
        char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        if ((n >= 7 && !memcmp(line, "answer:", 7)) || (n >= 5 && !memcmp(line, "then:", 5))) {
            /* " (route N, file:line)" and a trailing " (file:line)" go */
            const char *cut = memmem(line, n, " (route ", 8);
            size_t keep = cut ? (size_t)(cut - line) : n;
            if (!cut && keep && line[keep - 1] == ')') {
                const char *open = memrchr(line, '(', keep);
                if (open && open > line && open[-1] == ' ' && memmem(open, keep - (size_t)(open - line), ".rp:", 4))
                    keep = (size_t)(open - line) - 1;
            }
            buf_append(out, line, keep);
            buf_putc(out, '\n');
        }
        line = nl ? nl + 1 : NULL;
    }
    buf_free(&full);
}

struct pair {
    struct compilation *a, *b;
};

static void check_example(void *ctx, const struct explain_req *rq, const char *old_outcome,
                          const char *new_outcome)
{
    (void)old_outcome;
    (void)new_outcome;
    struct pair *p = ctx;
    struct buf x = {0}, y = {0};
    answer_of(&x, p->a, rq);
    answer_of(&y, p->b, rq);
    buf_append(&x, "", 0);
    buf_append(&y, "", 0);
    if (strcmp(x.data, y.data) == 0)
        abort(); /* diff says they differ; explain answers alike */
    buf_free(&x);
    buf_free(&y);
}

static unsigned diff_count(struct compilation *a, struct compilation *b)
{
    struct buf out = {0};
    struct pair p = {a, b};
    unsigned n = diff_policies_each(&out, a->ir, &a->src, b->ir, &b->src, check_example, &p);
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
