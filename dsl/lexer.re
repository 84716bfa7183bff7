/* lexer.re: the .rp lexer. This is the source: the C file in the build tree
 * is generated from it by re2c; edit this one.
 *
 * Tokens borrow the source text (offset and length); line:col is computed
 * only when a diagnostic is printed. The source buffer ends with a NUL
 * sentinel; NUL bytes inside the text are ordinary (and illegal) characters,
 * re2c's end-of-input rule tells the two apart by the limit. */
#include <string.h>

#include "arena.h"
#include "diag.h"
#include "grammar.h"
#include "lex.h"

void lex_init(struct lexer *lx, const struct src *src, struct diag *diag, uint32_t file)
{
    memset(lx, 0, sizeof *lx);
    lx->src = src;
    lx->diag = diag;
    lx->start = src->files[file].off;
    lx->end = src->files[file].off + src->files[file].len;
    lx->pos = lx->start;
    lx->last_end = (uint32_t)lx->start;
}

static const struct {
    const char *word;
    const char *quoted; /* for messages */
    int kind;
} lex_keywords[] = {
    {"backend", "'backend'", TK_BACKEND}, {"balance", "'balance'", TK_BALANCE},
    {"default", "'default'", TK_DEFAULT}, {"listen", "'listen'", TK_LISTEN},
    {"path", "'path'", TK_PATH},          {"proxy", "'proxy'", TK_PROXY},
    {"respond", "'respond'", TK_RESPOND}, {"route", "'route'", TK_ROUTE},
    {"server", "'server'", TK_SERVER},    {"weight", "'weight'", TK_WEIGHT},
    {"workers", "'workers'", TK_WORKERS}, {"timeouts", "'timeouts'", TK_TIMEOUTS},
    {"limits", "'limits'", TK_LIMITS},    {"tunnel", "'tunnel'", TK_TUNNEL},
    {"acl", "'acl'", TK_ACL},             {"host", "'host'", TK_HOST},
    {"method", "'method'", TK_METHOD},    {"if", "'if'", TK_IF},
    {"unless", "'unless'", TK_UNLESS},    {"deny", "'deny'", TK_DENY},
    {"redirect", "'redirect'", TK_REDIRECT}, {"import", "'import'", TK_IMPORT},
    {"test", "'test'", TK_TEST},          {"request", "'request'", TK_REQUEST},
    {"expect", "'expect'", TK_EXPECT},    {"and", "'and'", TK_AND},
    {"or", "'or'", TK_OR},                {"not", "'not'", TK_NOT},
    {"in", "'in'", TK_IN},                {"from", "'from'", TK_FROM},
    {"header", "'header'", TK_HEADER},    {"compress", "'compress'", TK_COMPRESS},
    {"forwarded", "'forwarded'", TK_FORWARDED}, {"cache", "'cache'", TK_CACHE},
    {"purge", "'purge'", TK_PURGE},       {"metrics", "'metrics'", TK_METRICS},
    {"status", "'status'", TK_STATUS},
};

static int lex_keyword(const char *s, size_t n)
{
    for (size_t i = 0; i < sizeof lex_keywords / sizeof lex_keywords[0]; i++)
        if (strlen(lex_keywords[i].word) == n && memcmp(lex_keywords[i].word, s, n) == 0)
            return lex_keywords[i].kind;
    return TK_ID;
}

const char *lex_keyword_word(int kind)
{
    for (size_t i = 0; i < sizeof lex_keywords / sizeof lex_keywords[0]; i++)
        if (lex_keywords[i].kind == kind)
            return lex_keywords[i].word;
    return NULL;
}

bool lex_kind_is_keyword(int kind)
{
    return lex_keyword_word(kind) != NULL;
}

const char *lex_kind_name(int kind)
{
    for (size_t i = 0; i < sizeof lex_keywords / sizeof lex_keywords[0]; i++)
        if (lex_keywords[i].kind == kind)
            return lex_keywords[i].quoted;
    switch (kind) {
    case 0: return "end of file";
    case TK_SEMI: return "';' or newline";
    case TK_LBRACE: return "'{'";
    case TK_RBRACE: return "'}'";
    case TK_LPAREN: return "'('";
    case TK_RPAREN: return "')'";
    case TK_LBRACKET: return "'['";
    case TK_RBRACKET: return "']'";
    case TK_COMMA: return "','";
    case TK_EQ: return "'='";
    case TK_EQEQ: return "'=='";
    case TK_NE: return "'!='";
    case TK_TILDE: return "'~'";
    case TK_PREFIXEQ: return "'^='";
    case TK_DOT: return "'.'";
    case TK_ID: return "name";
    case TK_STRING: return "string";
    case TK_INT: return "integer";
    case TK_QUANTITY: return "number with unit";
    case TK_RATE: return "rate";
    case TK_ADDR: return "address";
    case TK_IP: return "IP address";
    case TK_CIDR: return "CIDR";
    case TK_RANGE: return "range";
    default: return "token";
    }
}

int lex_kind_count(void)
{
    return TK_N_KINDS;
}

static struct span lex_span(size_t off, size_t len)
{
    struct span s = {(uint32_t)off, (uint32_t)len};
    return s;
}

/* A hex digit's value, or -1. */
static int lex_hex(char c)
{
    return c >= '0' && c <= '9' ? c - '0'
           : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10
                                                    : -1;
}

/* Scans a string starting at the opening quote; returns its end. Reports a
 * bad escape (and goes on) or a missing closing quote (and stops at the end
 * of the line). */
static size_t lex_string(struct lexer *lx, size_t start, unsigned *flags)
{
    const char *s = lx->src->text;
    size_t n = lx->end, i = start + 1;
    while (i < n && s[i] != '"' && s[i] != '\n') {
        if (s[i] == '\\') {
            if (i + 1 >= n || s[i + 1] == '\n')
                break;
            char e = s[i + 1];
            if (e == 'x') { /* \xHH: any byte, for what UTF-8 text cannot hold */
                if (i + 3 < n && lex_hex(s[i + 2]) >= 0 && lex_hex(s[i + 3]) >= 0) {
                    i += 4;
                    continue;
                }
                diag_error(lx->diag, lex_span(i, 2),
                           "'\\x' takes two hex digits, e.g. \\xff");
                *flags |= LEX_F_BAD;
                i += 2;
                continue;
            }
            if (e != '"' && e != '\\' && e != 'n' && e != 't') {
                unsigned char c = (unsigned char)e;
                if (c >= 0x20 && c < 0x7f)
                    diag_error(lx->diag, lex_span(i, 2), "unknown escape sequence '\\%c' in string", e);
                else
                    diag_error(lx->diag, lex_span(i, 2),
                               "unknown escape sequence in string (only \\\" \\\\ \\n \\t \\xHH)");
                *flags |= LEX_F_BAD;
            }
            i += 2;
            continue;
        }
        i++;
    }
    if (i < n && s[i] == '"')
        return i + 1;
    diag_error(lx->diag, lex_span(start, i - start), "unterminated string");
    *flags |= LEX_F_BAD;
    return i;
}

/* A number with a suffix: only the units of durations and sizes exist. */
static void lex_check_unit(struct lexer *lx, size_t start, size_t end, unsigned *flags)
{
    const char *s = lx->src->text;
    size_t d = start;
    while (d < end && s[d] >= '0' && s[d] <= '9')
        d++;
    /* A status class (`intercept 5xx`) is written like a quantity. */
    if (end - start == 3 && s[start] >= '1' && s[start] <= '5' && s[start + 1] == 'x' &&
        s[start + 2] == 'x')
        return;
    static const char *const units[] = {"ms", "s", "m", "h", "d", "k", "g"};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strlen(units[i]) == end - d && memcmp(units[i], s + d, end - d) == 0)
            return;
    diag_error(lx->diag, lex_span(start, end - start),
               "invalid number '%.*s': unknown unit '%.*s' (durations: ms s m h d; sizes: k m g)",
               (int)(end - start), s + start, (int)(end - d), s + d);
    *flags |= LEX_F_BAD;
}

static void lex_check_rate(struct lexer *lx, size_t start, size_t end, unsigned *flags)
{
    const char *s = lx->src->text;
    const char *slash = memchr(s + start, '/', end - start);
    size_t u = (size_t)(slash - s) + 1;
    if (end - u == 1 && (s[u] == 's' || s[u] == 'm' || s[u] == 'h'))
        return;
    diag_error(lx->diag, lex_span(start, end - start),
               "invalid rate '%.*s': the unit must be /s, /m or /h", (int)(end - start),
               s + start);
    *flags |= LEX_F_BAD;
}

int lex_next(struct lexer *lx, struct lex_token *t)
{
    if (lx->state == 1) {
        lx->state = 0;
        *t = lx->pending;
        return t->kind;
    }
    if (lx->state == 2) {
        t->kind = 0;
        t->off = lx->last_end;
        t->len = 0;
        t->flags = LEX_F_VIRT_EOF;
        return 0;
    }

    const unsigned char *base = (const unsigned char *)lx->src->text;
    const unsigned char *YYLIMIT = base + lx->end;
    const unsigned char *YYCURSOR, *YYMARKER, *tok;
    unsigned flags;
    int kind;

again:
    YYCURSOR = base + lx->pos;
    tok = YYCURSOR;
    flags = 0;
    /*!re2c
        re2c:yyfill:enable = 0;
        re2c:eof = 0;
        re2c:define:YYCTYPE = "unsigned char";

        dec   = [0-9]+;
        hex   = [0-9a-fA-F];
        ipv4  = dec "." dec "." dec "." dec;
        ipv6  = hex* ":" hex* ":" [0-9a-fA-F:.]*;
        ident = [A-Za-z_][A-Za-z0-9_-]*;

        $ {
            lx->pos = lx->end;
            lx->state = 2;
            t->kind = TK_SEMI;
            t->off = lx->last_end;
            t->len = 0;
            t->flags = LEX_F_VIRT_EOF;
            return TK_SEMI;
        }

        [ \t\r\f\v]+     { lx->pos = (size_t)(YYCURSOR - base); goto again; }
        "#" [^\n]*       { lx->pos = (size_t)(YYCURSOR - base); goto again; }
        "\n" {
            lx->pos = (size_t)(YYCURSOR - base);
            if (lx->depth > 0)
                goto again;
            kind = TK_SEMI;
            flags = LEX_F_VIRT_NL;
            goto out;
        }

        "\"" {
            YYCURSOR = base + lex_string(lx, (size_t)(tok - base), &flags);
            kind = TK_STRING;
            goto token;
        }

        dec                           { kind = TK_INT; goto token; }
        dec ".." dec                  { kind = TK_RANGE; goto token; }
        dec [A-Za-z_][A-Za-z0-9_]*    {
            lex_check_unit(lx, (size_t)(tok - base), (size_t)(YYCURSOR - base), &flags);
            kind = TK_QUANTITY;
            goto token;
        }
        dec ("." [0-9]+)? "%"         { kind = TK_QUANTITY; goto token; } /* a percentage */
        dec "/" [A-Za-z]+             {
            lex_check_rate(lx, (size_t)(tok - base), (size_t)(YYCURSOR - base), &flags);
            kind = TK_RATE;
            goto token;
        }
        ipv4 | ipv6                   { kind = TK_IP; goto token; }
        (ipv4 | ipv6) "/" dec         { kind = TK_CIDR; goto token; }
        ipv4? ":" dec                 { kind = TK_ADDR; goto token; }
        "[" [0-9A-Za-z:.%]+ "]" ":" dec { kind = TK_ADDR; goto token; } /* checked later */
        "unix:" [^ \t\r\n;{}()[\],#"\x00]+ { kind = TK_ADDR; goto token; }
        dec [.] [0-9A-Za-z_.]*        {
            diag_error(lx->diag, lex_span((size_t)(tok - base), (size_t)(YYCURSOR - tok)),
                       "invalid number '%.*s'", (int)(YYCURSOR - tok), (const char *)tok);
            flags = LEX_F_BAD;
            kind = TK_INT;
            goto token;
        }

        ident {
            kind = lex_keyword((const char *)tok, (size_t)(YYCURSOR - tok));
            goto token;
        }
        /* Versioned names are words: tls1.3, http/1.1 (a protocol, an
         * ALPN id). */
        ident ("." dec)+ | ident "/" dec ("." dec)* { kind = TK_ID; goto token; }

        "{"  { kind = TK_LBRACE; goto token; }
        "}"  {
            /* a virtual `;` first, so the last statement of a block needs none */
            lx->pending.kind = TK_RBRACE;
            lx->pending.off = (uint32_t)(tok - base);
            lx->pending.len = 1;
            lx->pending.flags = 0;
            lx->state = 1;
            lx->pos = (size_t)(YYCURSOR - base);
            lx->last_end = (uint32_t)lx->pos;
            t->kind = TK_SEMI;
            t->off = (uint32_t)(tok - base);
            t->len = 1;
            t->flags = LEX_F_VIRT_RB;
            return TK_SEMI;
        }
        "("  { lx->depth++; kind = TK_LPAREN; goto token; }
        ")"  { if (lx->depth) lx->depth--; kind = TK_RPAREN; goto token; }
        "["  { lx->depth++; kind = TK_LBRACKET; goto token; }
        "]"  { if (lx->depth) lx->depth--; kind = TK_RBRACKET; goto token; }
        ","  { kind = TK_COMMA; goto token; }
        ";"  { kind = TK_SEMI; goto token; }
        "="  { kind = TK_EQ; goto token; }
        "==" { kind = TK_EQEQ; goto token; }
        "!=" { kind = TK_NE; goto token; }
        "~"  { kind = TK_TILDE; goto token; }
        "^=" { kind = TK_PREFIXEQ; goto token; }
        "."  { kind = TK_DOT; goto token; }

        [\x80-\xff]+ {
            diag_error(lx->diag, lex_span((size_t)(tok - base), (size_t)(YYCURSOR - tok)),
                       "unexpected character '%.*s'", (int)(YYCURSOR - tok), (const char *)tok);
            lx->pos = (size_t)(YYCURSOR - base);
            if (lx->diag->n_errors >= DIAG_MAX_ERRORS)
                goto stop;
            goto again;
        }
        * {
            unsigned char c = *tok;
            if (c >= 0x20 && c < 0x7f)
                diag_error(lx->diag, lex_span((size_t)(tok - base), 1),
                           "unexpected character '%c'", c);
            else
                diag_error(lx->diag, lex_span((size_t)(tok - base), 1),
                           "unexpected character '\\x%02x'", c);
            lx->pos = (size_t)(YYCURSOR - base);
            if (lx->diag->n_errors >= DIAG_MAX_ERRORS)
                goto stop;
            goto again;
        }
    */

token:
    lx->pos = (size_t)(YYCURSOR - base);
    lx->last_end = (uint32_t)lx->pos;
out:
    t->kind = kind;
    t->off = (uint32_t)(tok - base);
    t->len = (uint32_t)(YYCURSOR - tok);
    t->flags = flags;
    if (flags & LEX_F_VIRT_NL)
        t->len = 0;
    return kind;

stop:
    /* too many errors: pretend the file ends here */
    lx->pos = lx->end;
    goto again;
}

char *lex_string_value(struct arena *a, const char *text, size_t len, size_t *out_len)
{
    char *out = arena_alloc(a, len + 1);
    size_t n = 0;
    size_t end = len;
    if (end > 0 && text[end - 1] == '"' && end > 1)
        end--;
    for (size_t i = 1; i < end; i++) {
        char c = text[i];
        if (c == '\\' && i + 1 < end) {
            char e = text[++i];
            if (e == 'x' && i + 2 < end && lex_hex(text[i + 1]) >= 0 && lex_hex(text[i + 2]) >= 0) {
                c = (char)(lex_hex(text[i + 1]) * 16 + lex_hex(text[i + 2]));
                i += 2;
            } else {
                c = e == 'n' ? '\n' : e == 't' ? '\t' : e;
            }
        }
        out[n++] = c;
    }
    out[n] = '\0';
    *out_len = n;
    return out;
}
