/* fmt.h: `rpx fmt`, the canonical layout of a policy file. */
#ifndef RPX_FMT_H
#define RPX_FMT_H

#include "buf.h"
#include "src.h"

/* Appends to out the canonical formatting of the main file of s, which must
 * have parsed without errors. The layout:
 *
 * - one statement per line, indented by four spaces per open block;
 *   explicit `;` between statements become line breaks;
 * - a block `{ ... }` written on one line stays on one line, as
 *   `{ a; b }`; one written over several lines gets one statement a line
 *   and its `}` on a line of its own;
 * - a list or parenthesis written over several lines gets one item a line
 *   (a break after `[`, after each `,` and before `]`); one written on one
 *   line stays on one line;
 * - one space between tokens, none inside brackets, before `,`, around
 *   `.`, between a name and the `(` of a call or a `.field` and its `[`;
 * - comments are kept: those on a line of their own at the indentation of
 *   what follows, those after code aligned in a column with the trailing
 *   comments of the lines around them;
 * - blank lines between statements are kept, runs of them become one;
 *   none at the start or end of the file or of a block.
 *
 * The result parses to the same policy, and formatting it again changes
 * nothing. */
void fmt_policy(struct buf *out, const struct src *s);

#endif
