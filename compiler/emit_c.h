/* emit_c.h: the C emitter. */
#ifndef RPX_EMIT_C_H
#define RPX_EMIT_C_H

#include "ast.h"
#include "buf.h"
#include "ir.h"

#ifndef RPX_VERSION
#error "RPX_VERSION comes from the Makefile"
#endif

/* Appends to out the C source defining `rp_program` (rp/program.h) for a
 * checked, lowered program. The text depends only on its inputs (the
 * source's name as given, never a time or an absolute path of our own), so
 * the same policy gives byte-identical C on every machine. */
void emit_c(struct buf *out, const struct ir_program *ir, const struct src *s);

#endif
