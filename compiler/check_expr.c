/* check_expr.c: conditions: value references (client.ip, req.*, tls.*),
 * comparisons and their operands, address sets merged into ranges, and
 * acls, resolved by name. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "arena.h"
#include "buf.h"
#include "diag.h"
#include "parse.h"
#include "regex.h"

#include <rp/program.h> /* RP_CODING_* */

#include "check_int.h"

/* ---- expressions ------------------------------------------------------------ */

static const char *const subject_names[] = {"client.ip",  "req.method", "req.host",  "req.path",
                                            "req.query",  "req.header", "req.cookie"};

struct ast_acl *acl_lookup(const struct check *c, struct span name)
{
    for (struct ast_acl *a = c->prog->acls; a; a = a->next)
        if (a->name.len == name.len && memcmp(text_at(c, a->name), text_at(c, name), name.len) == 0)
            return a;
    return NULL;
}

static void check_unknown_acl(struct check *c, struct span at)
{
    diag_error(c->diag, at, "unknown acl '%.*s'", (int)at.len, text_at(c, at));
    const char **cands = arena_alloc(c->arena, (c->prog->n_acls + 1) * sizeof *cands);
    struct ast_acl **defs = arena_alloc(c->arena, (c->prog->n_acls + 1) * sizeof *defs);
    size_t n = 0;
    for (struct ast_acl *a = c->prog->acls; a; a = a->next) {
        cands[n] = arena_strndup(c->arena, text_at(c, a->name), a->name.len);
        defs[n++] = a;
    }
    int close = diag_closest(text_at(c, at), at.len, cands, n);
    if (close >= 0)
        diag_note(c->diag, defs[close]->name, "did you mean '%s'?", cands[close]);
}

static void check_acl(struct check *c, struct ast_acl *a);

/* Which request value a reference reads; AST_SUBJ_NONE (reported) if none. */
static enum ast_subject check_ref(struct check *c, const struct ast_arg *x)
{
    char key[128];
    snprintf(key, sizeof key, "%.*s.%.*s", (int)x->name.len, text_at(c, x->name),
             (int)x->field.len, text_at(c, x->field));
    if (x->name.len == 3 && memcmp(text_at(c, x->name), "tls", 3) == 0) {
        /* tls.FIELD: the connection's TLS; absent on a plain one. */
        if (x->has_key) {
            diag_error(c->diag, x->key_tok, "'%s' takes no name", key);
            return AST_SUBJ_NONE;
        }
        if (tls_field_index(text_at(c, x->field), x->field.len) < 0) {
            const char *full[16];
            char names[16][40];
            for (size_t k = 0; k < n_tls_fields && k < 16; k++) {
                snprintf(names[k], sizeof names[k], "tls.%s", tls_fields[k]);
                full[k] = names[k];
            }
            int close = diag_closest(key, strlen(key), full, n_tls_fields);
            if (close >= 0)
                diag_error(c->diag, x->tok, "unknown value '%s'; did you mean '%s'?", key,
                           full[close]);
            else
                diag_error(c->diag, x->tok, "unknown value '%s' (known: tls.sni, tls.version, "
                           "tls.cipher, tls.alpn, tls.resumed, tls.client_cert.subject, .issuer, "
                           ".serial, .fingerprint, .san, .verified)", key);
            return AST_SUBJ_NONE;
        }
        struct ast_arg *m = (struct ast_arg *)x; /* the key the emitter reads */
        m->str = arena_strndup(c->arena, text_at(c, x->field), x->field.len);
        m->str_len = x->field.len;
        return AST_SUBJ_TLS;
    }
    if (x->name.len == 3 && memcmp(text_at(c, x->name), "jwt", 3) == 0) {
        /* jwt.sub, jwt.claim["c"]: the claims of the token the policy's one
         * `auth jwt` verifies before routing */
        bool sub = strcmp(key, "jwt.sub") == 0 && !x->has_key;
        bool claim = strcmp(key, "jwt.claim") == 0 && x->has_key && x->str_len;
        if (!sub && !claim) {
            diag_error(c->diag, x->tok, "unknown value '%s' (known: jwt.sub, jwt.claim[\"c\"])",
                       key);
            return AST_SUBJ_NONE;
        }
        if (sub) {
            struct ast_arg *m = (struct ast_arg *)x; /* the key the emitter reads */
            m->str = "sub";
            m->str_len = 3;
        }
        if (!c->prog->jwt_condition.len)
            c->prog->jwt_condition = x->tok;
        return AST_SUBJ_JWT;
    }
    if (strcmp(key, "req.scheme") == 0) {
        if (x->has_key) {
            diag_error(c->diag, x->key_tok, "'%s' takes no name", key);
            return AST_SUBJ_NONE;
        }
        return AST_SUBJ_SCHEME;
    }
    int i;
    for (i = 0; i < 7; i++)
        if (strcmp(key, subject_names[i]) == 0)
            break;
    if (i == 7) {
        int close = diag_closest(key, strlen(key), subject_names, 7);
        if (close >= 0)
            diag_error(c->diag, x->tok, "unknown value '%s'; did you mean '%s'?", key,
                       subject_names[close]);
        else
            diag_error(c->diag, x->tok,
                       "unknown value '%s' (known: client.ip, req.method, req.host, req.path, "
                       "req.query[\"k\"], req.header[\"H\"], req.cookie[\"c\"])",
                       key);
        return AST_SUBJ_NONE;
    }
    bool keyed = i >= 4;
    if (keyed && !x->has_key) {
        diag_error(c->diag, x->tok, "'%s' needs a name, e.g. %s[\"%s\"]", key, key,
                   i == 4 ? "k" : i == 5 ? "Authorization" : "session");
        return AST_SUBJ_NONE;
    }
    if (!keyed && x->has_key) {
        diag_error(c->diag, x->key_tok, "'%s' takes no name", key);
        return AST_SUBJ_NONE;
    }
    if (keyed && x->str_len == 0) {
        diag_error(c->diag, x->key_tok, "the name in %s[...] cannot be empty", key);
        return AST_SUBJ_NONE;
    }
    return (enum ast_subject)(i + 1);
}

const char *arg_kind_name(enum ast_arg_kind k)
{
    switch (k) {
    case AST_ARG_WORD: return "a name";
    case AST_ARG_INT: return "a number";
    case AST_ARG_QUANTITY: return "a number with a unit";
    case AST_ARG_STRING: return "a string";
    case AST_ARG_RANGE: return "a range";
    case AST_ARG_ADDR: return "an address with a port";
    case AST_ARG_IP: return "an IP address";
    case AST_ARG_CIDR: return "a CIDR";
    case AST_ARG_RATE: return "a rate";
    case AST_ARG_LIST: return "a list";
    case AST_ARG_CALL: return "a call";
    case AST_ARG_REF: return "a request value";
    }
    return "a value";
}

/* Parses an IP or CIDR written as text into an inclusive range; on error
 * says why in why (at most 96 bytes) and returns false. */
static bool cidr_parse(const char *t, size_t len, struct rp_ip_range *out, char *why)
{
    char buf[64];
    if (len >= sizeof buf) {
        snprintf(why, 96, "invalid address '%.40s...'", t);
        return false;
    }
    memcpy(buf, t, len);
    buf[len] = '\0';
    uint32_t bits = 128;
    char *slash = strchr(buf, '/');
    if (slash) {
        *slash = '\0';
        if (!parse_uint(slash + 1, strlen(slash + 1), 128, &bits)) {
            snprintf(why, 96, "invalid prefix length in '%.*s'", (int)len, t);
            return false;
        }
    }
    uint8_t a[16] = {0};
    unsigned char v4[4];
    if (inet_pton(AF_INET, buf, v4) == 1) {
        if (slash && bits > 32) {
            snprintf(why, 96, "an IPv4 prefix length is at most 32");
            return false;
        }
        a[10] = a[11] = 0xff;
        memcpy(a + 12, v4, 4);
        bits = slash ? bits + 96 : 128;
    } else if (inet_pton(AF_INET6, buf, a) != 1) {
        snprintf(why, 96, "invalid IP address '%s'", buf);
        return false;
    }
    uint8_t lo[16], hi[16];
    for (int i = 0; i < 16; i++) {
        int keep = (int)bits - 8 * i;
        uint8_t mask = keep >= 8 ? 0xff : keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));
        lo[i] = a[i] & mask;
        hi[i] = (uint8_t)(a[i] | (uint8_t)~mask);
    }
    if (memcmp(lo, a, 16) != 0 && slash) {
        snprintf(why, 96, "'%.*s' has bits set past its prefix length", (int)len, t);
        return false;
    }
    memcpy(out->lo, lo, 16);
    memcpy(out->hi, hi, 16);
    return true;
}

/* Parses an IP or CIDR argument into an inclusive range; reports errors. */
bool check_cidr(struct check *c, const struct ast_arg *x, struct rp_ip_range *out)
{
    char why[96];
    if (cidr_parse(text_at(c, x->tok), x->tok.len, out, why))
        return true;
    diag_error(c->diag, x->tok, "%s", why);
    return false;
}

#define ADDRESS_FILE_MAX (64u << 20)

/* `client.ip in file "PATH"`: an address or CIDR a line (blank lines and
 * `#` comments skipped, a comment may follow an address), read when the
 * policy compiles. Returns the ranges (in the arena), or NULL after
 * reporting what is wrong, with the file's line, at the file's name. */
static struct rp_ip_range *read_address_file(struct check *c, const struct ast_arg *r,
                                             uint32_t *n_out)
{
    const struct ast_arg *f = r->sub;
    if (!f || f->kind != AST_ARG_STRING || f->next) {
        diag_error(c->diag, r->tok, "the form is 'client.ip in file \"PATH\"'");
        return NULL;
    }
    char full[4096], shown[4096];
    const char *path = arena_strndup(c->arena, f->str, f->str_len);
    policy_file_path(c, f->tok, path, full, shown, sizeof full);
    FILE *fp = fopen(full, "rb");
    if (!fp) {
        diag_error(c->diag, f->tok, "cannot read '%s': %s", shown, strerror(errno));
        return NULL;
    }
    char *text = malloc(ADDRESS_FILE_MAX + 1);
    size_t len = text ? fread(text, 1, ADDRESS_FILE_MAX + 1, fp) : 0;
    fclose(fp);
    if (!text || len > ADDRESS_FILE_MAX) {
        diag_error(c->diag, f->tok, "'%s' is larger than 64m", shown);
        free(text);
        return NULL;
    }
    text[len] = '\0';
    uint32_t lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    struct rp_ip_range *rg = arena_alloc(c->arena, lines * sizeof *rg);
    uint32_t n = 0, lineno = 0, bad = 0;
    for (char *line = text; line && *line;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        while (*line == ' ' || *line == '\t')
            line++;
        size_t k = strlen(line);
        while (k && (line[k - 1] == ' ' || line[k - 1] == '\t' || line[k - 1] == '\r'))
            k--;
        char why[96];
        if (k && !cidr_parse(line, k, &rg[n], why)) {
            if (bad++ < 5)
                diag_error(c->diag, f->tok, "%s:%u: %s", shown, lineno, why);
        } else if (k) {
            n++;
        }
        line = next;
    }
    free(text);
    if (bad > 5)
        diag_note(c->diag, f->tok, "%u more lines of '%s' are wrong", bad - 5, shown);
    if (bad)
        return NULL;
    if (!n)
        diag_warning(c->diag, f->tok, "'%s' holds no address: the set is empty", shown);
    *n_out = n;
    return rg;
}

/* Records a set of address ranges (merged here, once) for the emitter and
 * explain; returns its number. */
static uint32_t check_cidr_set(struct check *c, struct span what, struct rp_ip_range *r,
                               uint32_t n)
{
    struct ast_program *p = c->prog;
    p->cidr_sets = arena_grow(c->arena, p->cidr_sets, p->n_cidr_sets, p->n_cidr_sets + 1,
                              sizeof *p->cidr_sets);
    p->cidr_sets[p->n_cidr_sets] =
        (struct ast_cidr_set){.what = what, .ranges = r, .n = ip_ranges_merge(r, n)};
    return p->n_cidr_sets++;
}

/* The right side of `client.ip in X`: a list of addresses and CIDRs, or
 * the name of an acl of the form `client.ip in [...]`. */
void check_ip_set(struct check *c, struct ast_expr *e)
{
    const struct ast_arg *r = e->rhs;
    if (r->kind == AST_ARG_WORD) {
        struct ast_acl *a = acl_lookup(c, r->tok);
        if (!a) {
            check_unknown_acl(c, r->tok);
            return;
        }
        a->used = true;
        check_acl(c, a);
        const struct ast_expr *ae = a->expr;
        if (ae->kind != AST_E_CMP || ae->cmp != AST_CMP_IN || ae->subj != AST_SUBJ_CLIENT_IP) {
            diag_error(c->diag, r->tok,
                       "acl '%.*s' is not a set of addresses: 'in' needs one of the form "
                       "'client.ip in [...]'",
                       arg_len(r), text_at(c, r->tok));
            return;
        }
        e->list = ae->list;
        e->id = ae->id;
        return;
    }
    if (r->kind == AST_ARG_CALL && r->name.len == 4 && !memcmp(text_at(c, r->name), "file", 4)) {
        uint32_t n = 0;
        struct rp_ip_range *rg = read_address_file(c, r, &n);
        if (!rg)
            return;
        e->list = r;
        e->id = check_cidr_set(c, r->tok, rg, n);
        return;
    }
    if (r->kind != AST_ARG_LIST) {
        diag_error(c->diag, r->tok, "expected a list of addresses and CIDRs (or file \"PATH\"), "
                   "not %s", arg_kind_name(r->kind));
        return;
    }
    uint32_t n = 0;
    for (const struct ast_arg *x = r->sub; x; x = x->next)
        n++;
    struct rp_ip_range *rg = arena_alloc(c->arena, (n ? n : 1) * sizeof *rg);
    bool ok = true;
    n = 0;
    for (const struct ast_arg *x = r->sub; x; x = x->next) {
        if (x->kind != AST_ARG_IP && x->kind != AST_ARG_CIDR) {
            diag_error(c->diag, x->tok, "%s where an IP address or CIDR belongs",
                       arg_kind_name(x->kind));
            ok = false;
            continue;
        }
        if (check_cidr(c, x, &rg[n]))
            n++;
        else
            ok = false;
    }
    if (!ok)
        return;
    e->list = r;
    e->id = check_cidr_set(c, r->tok, rg, n);
}

static void check_cmp(struct check *c, struct ast_expr *e)
{
    const struct ast_arg *l = e->lhs, *r = e->rhs;
    if (l->bad || (r && r->bad))
        return;
    if (e->cmp == AST_CMP_TRUTH) {
        if (l->kind == AST_ARG_WORD) {
            struct ast_acl *a = acl_lookup(c, l->tok);
            if (!a) {
                check_unknown_acl(c, l->tok);
                return;
            }
            a->used = true;
            e->subj = AST_SUBJ_ACL;
            e->acl = a;
            check_acl(c, a);
            return;
        }
        if (l->kind != AST_ARG_REF) {
            diag_error(c->diag, l->tok, "%s is not a condition", arg_kind_name(l->kind));
            return;
        }
        e->subj = check_ref(c, l);
        if (e->subj != AST_SUBJ_NONE && (e->subj < AST_SUBJ_QUERY || e->subj == AST_SUBJ_SCHEME))
            diag_error(c->diag, l->tok,
                       "'%.*s' is always there: compare it (==, !=, ~, ^=, in) to make a "
                       "condition",
                       arg_len(l), text_at(c, l->tok));
        return;
    }
    if (l->kind != AST_ARG_REF) {
        diag_error(c->diag, l->tok,
                   "the left side of '%.*s' must be a request value such as req.path, not %s",
                   (int)e->op.len, text_at(c, e->op), arg_kind_name(l->kind));
        return;
    }
    e->subj = check_ref(c, l);
    if (e->subj == AST_SUBJ_NONE)
        return;
    bool ip = e->subj == AST_SUBJ_CLIENT_IP;
    switch (e->cmp) {
    case AST_CMP_EQ:
    case AST_CMP_NE:
        if (ip) {
            struct rp_ip_range *rg = arena_alloc(c->arena, sizeof *rg);
            if (r->kind != AST_ARG_IP)
                diag_error(c->diag, r->tok, "%s where an IP address belongs (client.ip == 10.0.0.1)",
                           arg_kind_name(r->kind));
            else if (check_cidr(c, r, rg))
                e->id = check_cidr_set(c, r->tok, rg, 1);
        } else if (r->kind != AST_ARG_STRING &&
                   !(e->subj == AST_SUBJ_METHOD && r->kind == AST_ARG_WORD)) {
            diag_error(c->diag, r->tok, "%s where a string belongs", arg_kind_name(r->kind));
        }
        break;
    case AST_CMP_RE:
    case AST_CMP_PREFIX:
        if (ip) {
            diag_error(c->diag, e->op, "client.ip is an address: use 'in [CIDR, ...]' or '=='");
            break;
        }
        if (r->kind != AST_ARG_STRING) {
            diag_error(c->diag, r->tok, "%s where a string belongs", arg_kind_name(r->kind));
            break;
        }
        if (e->cmp == AST_CMP_RE)
            e->id = check_regex(c, r->tok, r->str, r->str_len, NULL);
        break;
    case AST_CMP_IN:
        if (ip) {
            check_ip_set(c, e);
            break;
        }
        if (r->kind == AST_ARG_CALL && r->name.len == 4 && !memcmp(text_at(c, r->name), "file", 4)) {
            diag_error(c->diag, r->tok, "a file of addresses is for client.ip; '%.*s' takes a "
                       "list of values", arg_len(l), text_at(c, l->tok));
            break;
        }
        if (r->kind != AST_ARG_LIST) {
            diag_error(c->diag, r->tok, "expected a list, not %s", arg_kind_name(r->kind));
            break;
        }
        for (const struct ast_arg *x = r->sub; x; x = x->next)
            if (x->kind != AST_ARG_STRING &&
                !(e->subj == AST_SUBJ_METHOD && x->kind == AST_ARG_WORD))
                diag_error(c->diag, x->tok, "%s where a string belongs", arg_kind_name(x->kind));
        e->list = r;
        break;
    case AST_CMP_TRUTH:
        break;
    }
}

void check_expr(struct check *c, struct ast_expr *e)
{
    switch (e->kind) {
    case AST_E_OR:
    case AST_E_AND:
        check_expr(c, e->l);
        check_expr(c, e->r);
        break;
    case AST_E_NOT:
        check_expr(c, e->l);
        break;
    case AST_E_CMP:
        check_cmp(c, e);
        break;
    }
}

static void check_acl(struct check *c, struct ast_acl *a)
{
    if (a->state == 2)
        return;
    if (a->state == 1) {
        diag_error(c->diag, a->name, "acl '%.*s' refers to itself", (int)a->name.len,
                   text_at(c, a->name));
        a->state = 2;
        return;
    }
    a->state = 1;
    check_expr(c, a->expr);
    a->state = 2;
}

void check_acls(struct check *c)
{
    uint32_t i = 0;
    for (struct ast_acl *a = c->prog->acls; a; a = a->next) {
        a->index = i++;
        for (struct ast_acl *e = c->prog->acls; e != a; e = e->next)
            if (e->name.len == a->name.len &&
                memcmp(text_at(c, e->name), text_at(c, a->name), a->name.len) == 0) {
                diag_error(c->diag, a->name, "duplicate acl '%.*s'", (int)a->name.len,
                           text_at(c, a->name));
                diag_note(c->diag, e->name, "first defined here");
                break;
            }
    }
    for (struct ast_acl *a = c->prog->acls; a; a = a->next)
        check_acl(c, a);
}
