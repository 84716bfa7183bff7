/* lex.h: the policy lexer (dsl/lexer.re). Token kinds are the numbers Lemon
 * assigns in grammar.h; this header does not include it, so code outside the
 * parser names kinds through lex_kind_name(). */
#ifndef RPX_LEX_H
#define RPX_LEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src.h"

struct diag;
struct arena;

/* lex_token.flags */
#define LEX_F_BAD 0x01       /* malformed; already reported, value unusable */
#define LEX_F_VIRT_NL 0x02   /* a `;` that stands for a newline */
#define LEX_F_VIRT_RB 0x04   /* the `;` inserted before a `}` */
#define LEX_F_VIRT_EOF 0x08  /* the `;` or end token at end of file */

struct lex_token {
    int kind;     /* TK_* from grammar.h; 0 at end of file */
    uint32_t off; /* into the source text, which the token borrows */
    uint32_t len;
    unsigned flags; /* LEX_F_* */
};

struct lexer {
    const struct src *src; /* borrowed */
    struct diag *diag;     /* lexical errors are reported here */
    size_t start, end;     /* the file being read: src->text[start..end), a NUL at end */
    size_t pos;
    unsigned depth;        /* open ( and [: newlines inside do not end statements */
    uint32_t last_end;     /* end of the last real token: where EOF is reported */
    int state;             /* 0 normal, 1 a `}` is pending, 2 EOF `;` sent */
    struct lex_token pending;
};

/* Reads file number `file` of src (0: the main file). src->text may move
 * between calls (an import appends to it): the lexer re-reads it each call. */
void lex_init(struct lexer *lx, const struct src *src, struct diag *diag, uint32_t file);
/* Stores the next token in *t and returns its kind (0 at end, repeatedly).
 * Newlines outside ( ) and [ ] come out as `;` tokens, and a `;` precedes
 * every `}` and the end of file, so the grammar sees every statement closed.
 * Malformed tokens are reported to the diag and still returned (LEX_F_BAD)
 * so parsing goes on. */
int lex_next(struct lexer *lx, struct lex_token *t);

/* A short name for a token kind, e.g. "identifier", "'{'", "'listen'". */
const char *lex_kind_name(int kind);
/* The keyword's text ("listen"), or NULL if kind is not a keyword. */
const char *lex_keyword_word(int kind);
/* True if the kind is a keyword (which falls back to an identifier). */
bool lex_kind_is_keyword(int kind);
/* The number of token kinds including 0 (end), for iterating over them. */
int lex_kind_count(void);

/* Decodes a string token's text (quotes included, escapes checked by the
 * lexer) into the arena; sets *out_len (the result may contain NULs). */
char *lex_string_value(struct arena *a, const char *text, size_t len, size_t *out_len);

#endif
