/* resolve.h: the file an `import` names. The parser records each import
 * and asks here which file to read next; parse_program then parses that
 * file where the import stands (a stack of open files, see parse.c). */
#ifndef RPX_RESOLVE_H
#define RPX_RESOLVE_H

#include <stdint.h>

#include "ast.h"
#include "diag.h"
#include "parse.h"
#include "src.h"

/* Imports nested deeper than this are refused (a chain, not a cycle). */
#define RESOLVE_MAX_IMPORT_DEPTH 32

/* Finds the file import im (in file `from`) names: "std/NAME" in the
 * standard library (opts->std_dir), an absolute path, or a path relative to
 * the importing file. Appends it to s and returns its index, or returns -1
 * when there is nothing to read: an error (no such file, a cycle, too deep,
 * the same module twice in one file) was reported, or the file is already
 * included (a diamond: a module imported by two files is read once, where
 * it is first imported). */
int resolve_import(struct src *s, struct diag *d, const struct parse_opts *opts, uint32_t from,
                   const struct ast_import *im);

#endif
