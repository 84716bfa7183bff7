/* regex.c: parses a policy's regular expression and compiles it for the
 * runtime's Pike VM. Parsing builds a small tree; code generation expands
 * counted repetition into copies, so the VM needs no counters. */
#include "regex.h"

#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"

enum node_kind { N_CHAR, N_ANY, N_CLASS, N_BOL, N_EOL, N_CAT, N_ALT, N_REPEAT, N_GROUP, N_EMPTY };

struct node {
    enum node_kind kind;
    uint8_t c;
    uint32_t cls;
    struct node *a, *b; /* CAT: a then b; ALT: a | b; REPEAT, GROUP: a */
    int min, max;       /* REPEAT; max -1: unbounded */
    int cap;            /* GROUP: group number, -1 for (?: ) */
};

struct rx {
    struct arena *arena;
    const char *s;
    size_t n, i;
    const char *err;
    size_t err_off, err_len;
    int n_caps;
    uint32_t n_classes, cap_classes;
    uint8_t (*classes)[32];
    uint32_t n_insts, cap_insts;
    struct rp_re_inst *insts;
};

static struct node *rx_node(struct rx *r, enum node_kind k)
{
    struct node *n = arena_alloc(r->arena, sizeof *n);
    n->kind = k;
    n->cap = -1;
    return n;
}

static void *rx_fail(struct rx *r, const char *msg, size_t off, size_t len)
{
    if (!r->err) {
        r->err = msg;
        r->err_off = off;
        r->err_len = len ? len : 1;
    }
    return NULL;
}

static uint32_t rx_class_new(struct rx *r)
{
    if (r->n_classes == r->cap_classes) {
        uint32_t cap = r->cap_classes ? r->cap_classes * 2 : 4;
        r->classes = arena_grow(r->arena, r->classes, r->cap_classes, cap, sizeof *r->classes);
        r->cap_classes = cap;
    }
    return r->n_classes++;
}

static void set_bit(uint8_t *set, unsigned c)
{
    set[c >> 3] |= (uint8_t)(1u << (c & 7));
}

/* \d \w \s and their negations into set; false if e is not one of them. */
static bool rx_shorthand(char e, uint8_t *set)
{
    uint8_t tmp[32] = {0};
    char lower = (char)(e | 0x20);
    if (lower == 'd') {
        for (unsigned c = '0'; c <= '9'; c++)
            set_bit(tmp, c);
    } else if (lower == 'w') {
        for (unsigned c = 0; c < 256; c++)
            if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                c == '_')
                set_bit(tmp, c);
    } else if (lower == 's') {
        const char *sp = " \t\n\r\f\v";
        for (; *sp; sp++)
            set_bit(tmp, (unsigned char)*sp);
    } else {
        return false;
    }
    bool neg = e >= 'A' && e <= 'Z';
    for (int i = 0; i < 32; i++)
        set[i] |= neg ? (uint8_t)~tmp[i] : tmp[i];
    return true;
}

/* A literal escape (\n \t \r or \ before punctuation); -1 if unknown. */
static int rx_literal_escape(char e)
{
    if (e == 'n')
        return '\n';
    if (e == 't')
        return '\t';
    if (e == 'r')
        return '\r';
    unsigned char c = (unsigned char)e;
    if (c >= 0x21 && c < 0x7f && !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                                   (c >= 'A' && c <= 'Z')))
        return c;
    return -1;
}

static struct node *rx_alt(struct rx *r);

static struct node *rx_class(struct rx *r)
{
    size_t start = r->i++; /* '[' */
    uint32_t k = rx_class_new(r);
    uint8_t *set = r->classes[k];
    bool neg = false;
    if (r->i < r->n && r->s[r->i] == '^') {
        neg = true;
        r->i++;
    }
    bool first = true;
    for (;;) {
        if (r->i >= r->n)
            return rx_fail(r, "missing ']'", start, r->n - start);
        char ch = r->s[r->i];
        if (ch == ']' && !first)
            break;
        first = false;
        size_t at = r->i;
        int lo;
        if (ch == '\\') {
            if (r->i + 1 >= r->n)
                return rx_fail(r, "trailing '\\'", at, 1);
            char e = r->s[r->i + 1];
            r->i += 2;
            if (rx_shorthand(e, set))
                continue;
            lo = rx_literal_escape(e);
            if (lo < 0)
                return rx_fail(r, "unknown escape", at, 2);
        } else {
            lo = (unsigned char)ch;
            r->i++;
        }
        int hi = lo;
        if (r->i + 1 < r->n && r->s[r->i] == '-' && r->s[r->i + 1] != ']') {
            char h = r->s[r->i + 1];
            r->i += 2;
            if (h == '\\') {
                if (r->i >= r->n)
                    return rx_fail(r, "trailing '\\'", r->i - 1, 1);
                hi = rx_literal_escape(r->s[r->i++]);
                if (hi < 0)
                    return rx_fail(r, "unknown escape", r->i - 2, 2);
            } else {
                hi = (unsigned char)h;
            }
            if (hi < lo)
                return rx_fail(r, "range out of order", at, r->i - at);
        }
        for (int c = lo; c <= hi; c++)
            set_bit(set, (unsigned)c);
    }
    r->i++; /* ']' */
    if (neg)
        for (int i = 0; i < 32; i++)
            set[i] = (uint8_t)~set[i];
    struct node *n = rx_node(r, N_CLASS);
    n->cls = k;
    return n;
}

static struct node *rx_atom(struct rx *r)
{
    size_t at = r->i;
    char ch = r->s[r->i];
    switch (ch) {
    case '(': {
        r->i++;
        int cap = -1;
        if (r->i + 1 < r->n && r->s[r->i] == '?' && r->s[r->i + 1] == ':') {
            r->i += 2;
        } else if (r->i < r->n && r->s[r->i] == '?') {
            return rx_fail(r, "only (?: ) groups are supported", at, 2);
        } else {
            cap = ++r->n_caps;
            if (cap >= RP_RE_MAX_CAPS)
                return rx_fail(r, "at most 9 capture groups", at, 1);
        }
        struct node *in = rx_alt(r);
        if (!in)
            return NULL;
        if (r->i >= r->n || r->s[r->i] != ')')
            return rx_fail(r, "missing ')'", at, 1);
        r->i++;
        struct node *g = rx_node(r, N_GROUP);
        g->a = in;
        g->cap = cap;
        return g;
    }
    case '[':
        return rx_class(r);
    case '.':
        r->i++;
        return rx_node(r, N_ANY);
    case '^':
        r->i++;
        return rx_node(r, N_BOL);
    case '$':
        r->i++;
        return rx_node(r, N_EOL);
    case '*':
    case '+':
    case '?':
    case '{':
        return rx_fail(r, "nothing to repeat", at, 1);
    case '\\': {
        if (r->i + 1 >= r->n)
            return rx_fail(r, "trailing '\\'", at, 1);
        char e = r->s[r->i + 1];
        r->i += 2;
        uint8_t set[32] = {0};
        if (rx_shorthand(e, set)) {
            uint32_t k = rx_class_new(r);
            memcpy(r->classes[k], set, 32);
            struct node *n = rx_node(r, N_CLASS);
            n->cls = k;
            return n;
        }
        int c = rx_literal_escape(e);
        if (c < 0)
            return rx_fail(r, "unknown escape", at, 2);
        struct node *n = rx_node(r, N_CHAR);
        n->c = (uint8_t)c;
        return n;
    }
    default: {
        r->i++;
        struct node *n = rx_node(r, N_CHAR);
        n->c = (uint8_t)ch;
        return n;
    }
    }
}

/* {n}, {n,}, {n,m} after an atom; r->i is at '{'. */
static bool rx_braces(struct rx *r, int *min, int *max)
{
    size_t at = r->i++;
    long lo = 0, hi;
    size_t d = r->i;
    while (r->i < r->n && r->s[r->i] >= '0' && r->s[r->i] <= '9' && lo <= 1000)
        lo = lo * 10 + (r->s[r->i++] - '0');
    if (r->i == d)
        return rx_fail(r, "expected a count after '{'", at, 1), false;
    hi = lo;
    if (r->i < r->n && r->s[r->i] == ',') {
        r->i++;
        if (r->i < r->n && r->s[r->i] == '}') {
            hi = -1;
        } else {
            hi = 0;
            d = r->i;
            while (r->i < r->n && r->s[r->i] >= '0' && r->s[r->i] <= '9' && hi <= 1000)
                hi = hi * 10 + (r->s[r->i++] - '0');
            if (r->i == d)
                return rx_fail(r, "expected a count", at, r->i - at), false;
        }
    }
    if (r->i >= r->n || r->s[r->i] != '}')
        return rx_fail(r, "missing '}'", at, r->i - at), false;
    r->i++;
    if (lo > 1000 || hi > 1000)
        return rx_fail(r, "repetition count too large (at most 1000)", at, r->i - at), false;
    if (hi >= 0 && hi < lo)
        return rx_fail(r, "repetition range out of order", at, r->i - at), false;
    *min = (int)lo;
    *max = (int)hi;
    return true;
}

static struct node *rx_repeat(struct rx *r)
{
    struct node *a = rx_atom(r);
    if (!a)
        return NULL;
    bool quantified = false;
    while (r->i < r->n) {
        char ch = r->s[r->i];
        int min, max;
        size_t at = r->i;
        if (ch == '*') {
            min = 0, max = -1;
            r->i++;
        } else if (ch == '+') {
            min = 1, max = -1;
            r->i++;
        } else if (ch == '?') {
            min = 0, max = 1;
            r->i++;
        } else if (ch == '{') {
            if (!rx_braces(r, &min, &max))
                return NULL;
        } else {
            break;
        }
        if (quantified)
            return rx_fail(r, "a quantifier cannot follow a quantifier", at, r->i - at);
        if (a->kind == N_BOL || a->kind == N_EOL)
            return rx_fail(r, "nothing to repeat", at, r->i - at);
        quantified = true;
        struct node *n = rx_node(r, N_REPEAT);
        n->a = a;
        n->min = min;
        n->max = max;
        a = n;
    }
    return a;
}

static struct node *rx_cat(struct rx *r)
{
    struct node *acc = NULL;
    while (r->i < r->n && r->s[r->i] != '|' && r->s[r->i] != ')') {
        struct node *x = rx_repeat(r);
        if (!x)
            return NULL;
        if (!acc) {
            acc = x;
        } else {
            struct node *c = rx_node(r, N_CAT);
            c->a = acc;
            c->b = x;
            acc = c;
        }
    }
    return acc ? acc : rx_node(r, N_EMPTY);
}

static struct node *rx_alt(struct rx *r)
{
    struct node *a = rx_cat(r);
    if (!a)
        return NULL;
    while (r->i < r->n && r->s[r->i] == '|') {
        r->i++;
        struct node *b = rx_cat(r);
        if (!b)
            return NULL;
        struct node *n = rx_node(r, N_ALT);
        n->a = a;
        n->b = b;
        a = n;
    }
    return a;
}

/* ---- code ------------------------------------------------------------------ */

static uint32_t rx_emit(struct rx *r, uint8_t op, uint8_t c, uint32_t x, uint32_t y)
{
    if (r->n_insts == r->cap_insts) {
        uint32_t cap = r->cap_insts ? r->cap_insts * 2 : 32;
        r->insts = arena_grow(r->arena, r->insts, r->cap_insts, cap, sizeof *r->insts);
        r->cap_insts = cap;
    }
    struct rp_re_inst *in = &r->insts[r->n_insts];
    in->op = op;
    in->c = c;
    in->x = x;
    in->y = y;
    return r->n_insts++;
}

static bool rx_code(struct rx *r, const struct node *n)
{
    if (r->n_insts > RP_RE_MAX_INSTS)
        return false;
    switch (n->kind) {
    case N_EMPTY:
        return true;
    case N_CHAR:
        rx_emit(r, RP_RE_CHAR, n->c, 0, 0);
        return true;
    case N_ANY:
        rx_emit(r, RP_RE_ANY, 0, 0, 0);
        return true;
    case N_CLASS:
        rx_emit(r, RP_RE_CLASS, 0, n->cls, 0);
        return true;
    case N_BOL:
        rx_emit(r, RP_RE_BOL, 0, 0, 0);
        return true;
    case N_EOL:
        rx_emit(r, RP_RE_EOL, 0, 0, 0);
        return true;
    case N_CAT:
        return rx_code(r, n->a) && rx_code(r, n->b);
    case N_ALT: {
        uint32_t split = rx_emit(r, RP_RE_SPLIT, 0, 0, 0);
        r->insts[split].x = r->n_insts;
        if (!rx_code(r, n->a))
            return false;
        uint32_t jmp = rx_emit(r, RP_RE_JMP, 0, 0, 0);
        r->insts[split].y = r->n_insts;
        if (!rx_code(r, n->b))
            return false;
        r->insts[jmp].x = r->n_insts;
        return true;
    }
    case N_GROUP:
        if (n->cap >= 0)
            rx_emit(r, RP_RE_SAVE, 0, (uint32_t)(2 * n->cap), 0);
        if (!rx_code(r, n->a))
            return false;
        if (n->cap >= 0)
            rx_emit(r, RP_RE_SAVE, 0, (uint32_t)(2 * n->cap + 1), 0);
        return true;
    case N_REPEAT: {
        for (int i = 0; i < n->min; i++)
            if (!rx_code(r, n->a))
                return false;
        if (n->max < 0) {
            uint32_t split = rx_emit(r, RP_RE_SPLIT, 0, 0, 0);
            r->insts[split].x = r->n_insts;
            if (!rx_code(r, n->a))
                return false;
            rx_emit(r, RP_RE_JMP, 0, split, 0);
            r->insts[split].y = r->n_insts;
            return true;
        }
        /* each optional copy: split into it or past all of them */
        uint32_t splits[1001];
        int k = 0;
        for (int i = n->min; i < n->max; i++) {
            splits[k] = rx_emit(r, RP_RE_SPLIT, 0, 0, 0);
            r->insts[splits[k]].x = r->n_insts;
            k++;
            if (!rx_code(r, n->a) || r->n_insts > RP_RE_MAX_INSTS)
                return false;
        }
        for (int i = 0; i < k; i++)
            r->insts[splits[i]].y = r->n_insts;
        return true;
    }
    }
    return false;
}

struct regex_prog *regex_compile(struct arena *a, const char *pattern, size_t len,
                                 const char **err, size_t *err_off, size_t *err_len)
{
    struct rx r = {.arena = a, .s = pattern, .n = len};
    struct node *root = rx_alt(&r);
    if (root && r.i < r.n)
        rx_fail(&r, "unmatched ')'", r.i, 1);
    if (!root || r.err) {
        *err = r.err;
        *err_off = r.err_off;
        *err_len = r.err_len;
        return NULL;
    }
    rx_emit(&r, RP_RE_SAVE, 0, 0, 0);
    bool ok = rx_code(&r, root);
    rx_emit(&r, RP_RE_SAVE, 0, 1, 0);
    rx_emit(&r, RP_RE_MATCH, 0, 0, 0);
    if (!ok || r.n_insts > RP_RE_MAX_INSTS) {
        *err = "regular expression too large (its repetitions expand beyond 1024 steps)";
        *err_off = 0;
        *err_len = len;
        return NULL;
    }
    struct regex_prog *p = arena_alloc(a, sizeof *p);
    p->n_insts = r.n_insts;
    p->insts = r.insts;
    p->n_classes = r.n_classes;
    p->classes = r.classes;
    p->n_caps = (uint32_t)r.n_caps;
    p->anchored_start = len > 0 && pattern[0] == '^';
    p->source = pattern;
    p->source_len = len;
    return p;
}
