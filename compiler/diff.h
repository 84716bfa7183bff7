/* diff.h: `rpx diff OLD NEW`, what changed between two versions of a
 * policy, in requests.
 *
 * The requests are split into classes, then each class is decided by both
 * policies and the outcomes (explain_outcome) compared:
 *
 * - host and path: the product of the two route automata. Every state pair
 *   reachable by some host and path is visited once (bytes that label no
 *   edge of either automaton behave alike, so one stands for all), and the
 *   pairs are grouped by the two candidate route lists they end on. Within
 *   a group both policies consider the same routes, in the same order, for
 *   every host and path, so the rest of the decision depends only on the
 *   other request values.
 * - the other values (method, client address, headers, query parameters,
 *   cookies, and the path again for path regexes): for each value the
 *   candidate routes test, the values that tell the tests apart (each
 *   literal, a prefix and a string past it, a string each regex matches,
 *   the edges of each address range, absence, and one value nothing
 *   names), and their combinations.
 *
 * Requests over TLS are not explored (tls.* values are absent, req.scheme
 * is http), as in `rpx explain`. */
#ifndef RPX_DIFF_H
#define RPX_DIFF_H

#include "buf.h"
#include "ir.h"
#include "src.h"

/* Appends one entry per class of requests whose outcome differs (an
 * example request, the old and the new outcome) and a summary line.
 * Returns the number of classes that differ. */
unsigned diff_policies(struct buf *out, const struct ir_program *old_ir, const struct src *old_src,
                       const struct ir_program *new_ir, const struct src *new_src);

/* The same, telling on_example (when not NULL) of every request it found
 * decided differently, with the two outcomes (explain_outcome's), so a
 * test can ask explain about it independently. */
struct explain_req;
typedef void diff_example_fn(void *ctx, const struct explain_req *rq, const char *old_outcome,
                             const char *new_outcome);
unsigned diff_policies_each(struct buf *out, const struct ir_program *old_ir,
                            const struct src *old_src, const struct ir_program *new_ir,
                            const struct src *new_src, diff_example_fn *on_example, void *ctx);

#endif
