/* policy_hash.c: see policy_hash.h. SHA-256 is BoringSSL's (already linked
 * into rpx and every proxy); this file is the only one of the compiler that
 * sees its headers. */
#include "policy_hash.h"

#include <stdio.h>
#include <string.h>

#include <openssl/sha.h>

#include "diag.h"
#include "grammar.h"
#include "lex.h"

void policy_hash(const struct src *s, char out[POLICY_HASH_SIZE])
{
    SHA256_CTX ctx;
    SHA256_Init(&ctx);
    struct diag quiet;
    diag_init(&quiet, s, NULL);
    for (uint32_t file = 0; file < s->n_files; file++) {
        struct lexer lx;
        lex_init(&lx, s, &quiet, file);
        struct lex_token t;
        /* A statement's end is hashed as one ';' between two statements,
         * whether it was a newline, a ';' or both, and not after a '{' or
         * before a '}': `{ a; b }` and the same over four lines hash alike. */
        bool pending_end = false;
        int last = TK_LBRACE;
        while (lex_next(&lx, &t) != 0) {
            if (t.kind == TK_SEMI) {
                pending_end = true;
                continue;
            }
            if (pending_end && last != TK_LBRACE && t.kind != TK_RBRACE)
                SHA256_Update(&ctx, ";\n", 2);
            pending_end = false;
            last = t.kind;
            /* each token followed by a byte no token holds, so "ab" "c"
             * and "a" "bc" differ */
            SHA256_Update(&ctx, s->text + t.off, t.len);
            SHA256_Update(&ctx, "\n", 1);
        }
        SHA256_Update(&ctx, "\f", 1); /* the end of a file */
    }
    uint8_t md[SHA256_DIGEST_LENGTH];
    SHA256_Final(md, &ctx);
    memcpy(out, "sha256:", 7);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
        snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
}
