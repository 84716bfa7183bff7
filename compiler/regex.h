/* regex.h: regular expressions in policies (`path ~ "..."`, `x ~ "..."`),
 * checked and compiled at build time into a program for the runtime's Pike
 * VM (rp/match.h). The syntax is POSIX ERE with Perl's shorthands:
 * `.`, `[abc]`, `[^a-z]`, `\d \w \s \D \W \S`, groups `( )` and `(?: )`, `|`, the
 * quantifiers star, plus, `?`, `{n}`, `{n,}`, `{n,m}`, and the anchors `^ $`,
 * and `\` before any punctuation to take it literally. */
#ifndef RPX_REGEX_H
#define RPX_REGEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rp/match.h>

struct arena;

struct regex_prog {
    uint32_t n_insts;
    struct rp_re_inst *insts;
    uint32_t n_classes;
    uint8_t (*classes)[32];
    uint32_t n_caps;  /* capture groups */
    bool anchored_start; /* begins with ^ */
    const char *source;  /* the pattern as written (decoded) */
    size_t source_len;
};

/* Compiles pattern[0..len) into the arena. On error returns NULL, sets
 * *err to a message (static or in the arena) and *err_off and *err_len to the
 * offending part of the pattern. */
struct regex_prog *regex_compile(struct arena *a, const char *pattern, size_t len,
                                 const char **err, size_t *err_off, size_t *err_len);

#endif
