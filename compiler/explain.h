/* explain.h: `rpx explain`, which route a request takes and why, decided
 * over the IR with the runtime's own calls, so it agrees with the generated
 * decision by construction (tests/golden.sh still checks the two agree on
 * every example). */
#ifndef RPX_EXPLAIN_H
#define RPX_EXPLAIN_H

#include <stdbool.h>
#include <stddef.h>

#include "ast.h"
#include "buf.h"
#include "ir.h"
#include "src.h"

struct explain_req {
    const char *method;
    const char *url;          /* "http://host/path?q" or "/path?q" */
    const char *from;         /* client address, NULL for 127.0.0.1 */
    const char *const *headers; /* "Name: value" each */
    size_t n_headers;
};

/* Checks the request's parts; returns NULL or a message (static). */
const char *explain_validate(const struct explain_req *rq);

/* Appends to out, for a checked program without errors, each route tried in
 * order with the matchers and conditions that held or failed, the actions'
 * guards, and the answer. */
void explain_request(struct buf *out, const struct ir_program *ir, const struct src *s,
                     const struct explain_req *rq);

/* Appends a `test` block that expects what explain_request decides for the
 * request (for checking explain against the compiled decision). */
void explain_as_test(struct buf *out, const struct ir_program *ir, const struct src *s,
                     const struct explain_req *rq, const char *name);

/* Appends to out what the request gets, in words that do not depend on
 * where the policy says it: the answer (proxy NAME, status N with its body
 * or Location) and the steps that follow. Two policies give the same text
 * for a request exactly when they treat it alike (`rpx diff` compares
 * them). Appends to route the route that decided, with its line. */
void explain_outcome(struct buf *out, struct buf *route, const struct ir_program *ir,
                     const struct src *s, const struct explain_req *rq);

/* Appends one `test` block per test block and per route of the program,
 * each expecting what explain decides (see explain_as_test). */
void explain_all_as_tests(struct buf *out, const struct ir_program *ir, const struct src *s);

#endif
