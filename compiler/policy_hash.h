/* policy_hash.h: a policy's identity, the same wherever it is shown
 * (`proxy --version`, `rpx explain`, and later logs and metrics). */
#ifndef RPX_POLICY_HASH_H
#define RPX_POLICY_HASH_H

#include "src.h"

#define POLICY_HASH_SIZE 72 /* "sha256:" + 64 hex digits + NUL */

/* SHA-256 over the policy's canonical form: the tokens of every file (the
 * main file, then its imports in the order they were read), comments and
 * layout left out, statement ends written as one ';'. So reformatting or
 * recommenting a policy keeps its hash and any change that can change its
 * meaning changes it. s must have parsed without errors. */
void policy_hash(const struct src *s, char out[POLICY_HASH_SIZE]);

#endif
