/* check_auth.c: a route's `auth basic "REALM" file "USERS"
 * [forward_credentials]`: the realm, and the user file read and judged
 * line by line, so that a hash the proxy could never check fails the
 * build, not a login. */
#include <crypt.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rp/auth.h>
#include <rp/program.h>
#include <rp/tls_inspect.h>

#include "arena.h"
#include "diag.h"

#include "check_int.h"

#define AUTH_USAGE                                                                                 \
    "the form is 'auth basic \"REALM\" file \"USERS\" [forward_credentials]', 'auth request "    \
    "BACKEND \"/PATH\" [copy [NAME, ...]]' or 'auth jwt key|jwks \"FILE\" alg [ES256, ...] [issuer "   \
    "\"I\"] [audience \"A\"|[...]] [leeway DURATION] [from cookie|query \"NAME\"] "               \
    "[forward_token]'"
#define USERS_FILE_MAX (16u << 20)

/* What is wrong with a hash libcrypt would not take, as advice. */
static const char *hash_problem(const char *hash)
{
    if (strncmp(hash, "$apr1$", 6) == 0)
        return "is Apache's MD5 ($apr1$, htpasswd's default), which libcrypt does not check";
    if (strncmp(hash, "{SHA}", 5) == 0)
        return "is an unsalted SHA-1 ({SHA})";
    if (!hash[0])
        return "is empty";
    if (rp_auth_hash_usable(hash))
        return NULL;
    if (hash[0] != '$')
        return "is not a crypt(3) hash (a plain password, or DES)";
    switch (crypt_checksalt(hash)) {
    case CRYPT_SALT_METHOD_LEGACY: return "uses a legacy method (MD5 or DES crypt) too weak to keep";
    case CRYPT_SALT_METHOD_DISABLED: return "uses a method this libcrypt has disabled";
    default: return "is not a hash libcrypt knows";
    }
}

struct users_ctx {
    struct check *c;
    const struct ast_arg *file_arg;
    const char *shown;
    unsigned users, bad;
};

/* One line of a user file, judged as the proxy will judge it; the first
 * few wrong ones are reported. */
static void judge_user(void *ctx, unsigned lineno, char *user, char *hash)
{
    struct users_ctx *uc = ctx;
    const char *problem = user ? hash_problem(hash) : "is not 'user:hash'";
    uc->users += !problem;
    if (!problem || uc->bad++ >= 5)
        return;
    if (!user)
        diag_error(uc->c->diag, uc->file_arg->tok, "%s:%u: not 'user:hash' (htpasswd's lines)",
                   uc->shown, lineno);
    else
        diag_error(uc->c->diag, uc->file_arg->tok, "%s:%u: the hash of '%s' %s: make it with "
                   "'htpasswd -B' (bcrypt) or 'mkpasswd -m yescrypt'", uc->shown, lineno, user,
                   problem);
}

/* Reads the user file and reports, at its name in the policy, each line
 * the proxy would skip. */
static void check_users(struct check *c, const struct ast_arg *file_arg, const char *path,
                        const char *shown)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        diag_error(c->diag, file_arg->tok, "cannot read '%s': %s", shown, strerror(errno));
        return;
    }
    char *text = malloc(USERS_FILE_MAX + 1);
    size_t len = text ? fread(text, 1, USERS_FILE_MAX + 1, f) : 0;
    fclose(f);
    if (!text || len > USERS_FILE_MAX) {
        diag_error(c->diag, file_arg->tok, "'%s' is larger than 16m", shown);
        free(text);
        return;
    }
    text[len] = '\0';
    struct users_ctx uc = {c, file_arg, shown, 0, 0};
    rp_auth_users_each(text, judge_user, &uc);
    unsigned users = uc.users, bad = uc.bad;
    if (bad > 5)
        diag_note(c->diag, file_arg->tok, "%u more lines of '%s' are wrong", bad - 5, shown);
    if (!users && !bad)
        diag_warning(c->diag, file_arg->tok, "'%s' has no users: nobody can log in", shown);
    free(text);
}

static const char *const jws_alg_names[] = {"",      "HS256", "HS384", "HS512", "RS256",
                                             "RS384", "RS512", "PS256", "PS384", "PS512",
                                             "ES256", "ES384", "EdDSA"};
#define N_JWS_ALGS (sizeof jws_alg_names / sizeof jws_alg_names[0])

/* A string argument as a NUL-terminated copy, or NULL (reported). */
static const char *string_arg(struct check *c, const struct ast_arg *kw, const struct ast_arg *v)
{
    if (!v || v->kind != AST_ARG_STRING || !v->str_len || memchr(v->str, '\0', v->str_len)) {
        diag_error(c->diag, v ? v->tok : kw->tok, "'%.*s' takes a string in quotes",
                   arg_len(kw), text_at(c, kw->tok));
        return NULL;
    }
    return arena_strndup(c->arena, v->str, v->str_len);
}

/* `auth jwt key "FILE" alg [...] [issuer "I"] [audience ...] [leeway D]
 * [from cookie|query "NAME"] [forward_token]` */
static void check_auth_jwt(struct check *c, struct ast_route *r, const struct ast_stmt *st)
{
    static const char *const opts[] = {"key",    "alg",  "issuer",        "audience",
                                       "leeway", "from", "forward_token", "jwks"};
    struct ast_auth *au = arena_alloc(c->arena, sizeof *au);
    au->jwt = true;
    au->leeway_s = 60;
    const struct ast_arg *key = NULL, *seen[8] = {0};
    for (const struct ast_arg *a = st->args->next; a; a = a->next) {
        int k = a->kind == AST_ARG_WORD ? word_index(c, a->tok, opts, 8) : -1;
        if (k < 0) {
            if (a->kind == AST_ARG_WORD)
                check_unknown(c, a->tok, "auth jwt option", opts, 8);
            else
                diag_error(c->diag, a->tok, "unexpected '%.*s': %s", arg_len(a),
                           text_at(c, a->tok), AUTH_USAGE);
            return;
        }
        if (seen[k]) {
            diag_error(c->diag, a->tok, "'%s' is given twice", opts[k]);
            return;
        }
        seen[k] = a;
        if (k == 6) {
            au->forward_token = true;
            continue;
        }
        const struct ast_arg *v = a->next;
        if (!v) {
            diag_error(c->diag, a->tok, "'%s' needs a value: %s", opts[k], AUTH_USAGE);
            return;
        }
        a = v;
        switch (k) {
        case 0:
        case 7:
            if (key) {
                diag_error(c->diag, a->tok, "'key' and 'jwks' are two ways to give the keys: "
                           "one of them");
                return;
            }
            key = v;
            au->jwks = k == 7;
            break;
        case 1: {
            bool list = v->kind == AST_ARG_LIST;
            for (const struct ast_arg *x = list ? v->sub : v; x; x = list ? x->next : NULL) {
                int alg = x->kind == AST_ARG_WORD ? word_index(c, x->tok, jws_alg_names + 1,
                                                               N_JWS_ALGS - 1) : -1;
                if (alg < 0) {
                    if (x->kind == AST_ARG_WORD && word_is(c, x->tok, "none"))
                        diag_error(c->diag, x->tok, "'none' is an unsigned token: anyone could "
                                   "make one");
                    else
                        check_unknown(c, x->tok, "JWS algorithm", jws_alg_names + 1,
                                      N_JWS_ALGS - 1);
                    return;
                }
                au->jwt_algs |= 1u << (alg + 1);
            }
            break;
        }
        case 2:
            if (!(au->issuer = string_arg(c, seen[2], v)))
                return;
            break;
        case 3: {
            bool list = v->kind == AST_ARG_LIST;
            for (const struct ast_arg *x = list ? v->sub : v; x; x = list ? x->next : NULL)
                au->n_audiences++;
            au->audiences = arena_alloc(c->arena, (au->n_audiences + 1) * sizeof *au->audiences);
            uint32_t i = 0;
            for (const struct ast_arg *x = list ? v->sub : v; x; x = list ? x->next : NULL)
                if (!(au->audiences[i++] = string_arg(c, seen[3], x)))
                    return;
            break;
        }
        case 4: {
            uint32_t ms;
            if (!check_duration(c, v, "leeway", &ms))
                return;
            au->leeway_s = ms / 1000;
            break;
        }
        case 5: {
            bool cookie = arg_is_word(c, v, "cookie"), query = arg_is_word(c, v, "query");
            if ((!cookie && !query) || !v->next) {
                diag_error(c->diag, v->tok, "'from' takes cookie \"NAME\" or query \"NAME\" "
                           "(without it, the token is Authorization: Bearer's)");
                return;
            }
            au->from = cookie ? RP_JWT_FROM_COOKIE : RP_JWT_FROM_QUERY;
            a = v->next;
            if (!(au->from_name = string_arg(c, v, a)))
                return;
            break;
        }
        }
    }
    if (!key || !au->jwt_algs) {
        diag_error(c->diag, st->kw, "'auth jwt' needs its key (or jwks) and algorithms: %s",
                   AUTH_USAGE);
        return;
    }
    const char *shown = NULL;
    const char *path = check_policy_file(c, key, "'key'", &shown);
    if (!path)
        return;
    char err[512];
    if (au->jwks ? !rp_jwks_inspect(path, shown, au->jwt_algs, err, sizeof err)
                 : !rp_tls_inspect_jws_key(path, shown, au->jwt_algs, err, sizeof err)) {
        diag_error(c->diag, key->tok, "%s", err);
        return;
    }
    au->kw = st->kw;
    au->file = path;
    au->shown = shown;
    au->index = c->prog->n_jwts++;
    r->auth = au;
}

/* `auth request BACKEND "/PATH" [copy [NAME, ...]]` */
static void check_auth_request(struct check *c, struct ast_route *r, const struct ast_stmt *st)
{
    const struct ast_arg *a = st->args->next;
    if (!a || a->kind != AST_ARG_WORD) {
        diag_error(c->diag, a ? a->tok : st->args->tok, "'auth request' needs the backend "
                   "that decides: %s", AUTH_USAGE);
        return;
    }
    struct ast_backend *be = NULL;
    for (struct ast_backend *b = c->prog->backends; b && !be; b = b->next)
        if (b->name.len == a->tok.len && !memcmp(text_at(c, b->name), text_at(c, a->tok), a->tok.len))
            be = b;
    if (!be) {
        const char *names[64];
        size_t n = 0;
        for (struct ast_backend *b = c->prog->backends; b && n < 64; b = b->next)
            names[n++] = arena_strndup(c->arena, text_at(c, b->name), b->name.len);
        check_unknown(c, a->tok, "backend", names, n);
        return;
    }
    be->used = true;
    const struct ast_arg *path = a->next;
    if (!path || path->kind != AST_ARG_STRING || !path->str_len || path->str[0] != '/') {
        diag_error(c->diag, path ? path->tok : a->tok, "'auth request' needs the path to ask, "
                   "in quotes, starting with '/': %s", AUTH_USAGE);
        return;
    }
    for (size_t i = 0; i < path->str_len; i++)
        if ((unsigned char)path->str[i] <= 0x20 || path->str[i] == 0x7f) {
            diag_error(c->diag, path->tok, "a request target has no spaces or control "
                       "characters");
            return;
        }
    struct ast_auth *au = arena_alloc(c->arena, sizeof *au);
    const struct ast_arg *copy = path->next;
    if (copy) {
        const struct ast_arg *list = copy->next;
        if (!arg_is_word(c, copy, "copy") || !list || list->next ||
            (list->kind != AST_ARG_LIST && list->kind != AST_ARG_WORD)) {
            diag_error(c->diag, copy->tok, "after the path: 'copy [NAME, ...]', the fields of "
                       "the authentication server's answer that go on to the server");
            return;
        }
        const struct ast_arg *items = list->kind == AST_ARG_LIST ? list->sub : list;
        for (const struct ast_arg *x = items; x; x = x->next)
            au->n_copy++;
        au->copy = arena_alloc(c->arena, (au->n_copy + 1) * sizeof *au->copy);
        uint32_t k = 0;
        for (const struct ast_arg *x = items; x; x = x->next) {
            const char *t = text_at(c, x->tok);
            bool ok = x->kind == AST_ARG_WORD && x->tok.len <= 64;
            for (size_t i = 0; ok && i < x->tok.len; i++)
                ok = (t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z') ||
                     (t[i] >= '0' && t[i] <= '9') || t[i] == '-' || t[i] == '_';
            if (!ok) {
                diag_error(c->diag, x->tok, "a field name such as X-User, not '%.*s'",
                           arg_len(x), t);
                return;
            }
            char *low = arena_strndup(c->arena, t, x->tok.len);
            for (char *q = low; *q; q++)
                if (*q >= 'A' && *q <= 'Z')
                    *q = (char)(*q - 'A' + 'a');
            au->copy[k++] = low;
        }
    }
    au->kw = st->kw;
    au->backend = be;
    au->path = arena_strndup(c->arena, path->str, path->str_len);
    au->index = UINT32_MAX; /* no user file */
    r->auth = au;
}

void check_route_auth(struct check *c, struct ast_route *r, const struct ast_stmt *st)
{
    const struct ast_arg *a = st->args;
    if (r->auth) {
        diag_error(c->diag, st->kw, "a route takes one 'auth'");
        return;
    }
    if (a && arg_is_word(c, a, "request")) {
        check_auth_request(c, r, st);
        return;
    }
    if (a && arg_is_word(c, a, "jwt")) {
        check_auth_jwt(c, r, st);
        return;
    }
    if (!a || !arg_is_word(c, a, "basic")) {
        diag_error(c->diag, a ? a->tok : st->kw, "%s", AUTH_USAGE);
        return;
    }
    const struct ast_arg *realm = a->next;
    if (!realm || realm->kind != AST_ARG_STRING) {
        diag_error(c->diag, realm ? realm->tok : a->tok, "'auth basic' needs a realm in quotes, "
                   "the name a browser shows: %s", AUTH_USAGE);
        return;
    }
    bool ok = realm->str_len > 0 && realm->str_len <= 200;
    for (size_t i = 0; i < realm->str_len; i++)
        if ((unsigned char)realm->str[i] < 0x20 || realm->str[i] == 0x7f || realm->str[i] == '"' ||
            realm->str[i] == '\\')
            ok = false;
    if (!ok) {
        diag_error(c->diag, realm->tok, "a realm is 1 to 200 characters, without quotes, "
                   "backslashes or control characters");
        return;
    }
    const struct ast_arg *kw = realm->next;
    if (!kw || !arg_is_word(c, kw, "file") || !kw->next) {
        diag_error(c->diag, kw ? kw->tok : realm->tok, "'auth basic' needs its users: %s",
                   AUTH_USAGE);
        return;
    }
    const struct ast_arg *file = kw->next;
    bool forward = false;
    if (file->next) {
        if (!arg_is_word(c, file->next, "forward_credentials") || file->next->next) {
            const struct ast_arg *bad =
                arg_is_word(c, file->next, "forward_credentials") ? file->next->next : file->next;
            diag_error(c->diag, bad->tok, "unexpected '%.*s': %s", arg_len(bad),
                       text_at(c, bad->tok), AUTH_USAGE);
            return;
        }
        forward = true;
    }
    const char *shown = NULL;
    const char *path = check_policy_file(c, file, "'file'", &shown);
    if (!path)
        return;
    check_users(c, file, path, shown);
    struct ast_auth *au = arena_alloc(c->arena, sizeof *au);
    au->kw = st->kw;
    au->realm = arena_strndup(c->arena, realm->str, realm->str_len);
    au->file = path;
    au->shown = shown;
    au->forward_credentials = forward;
    au->index = c->prog->n_auths++;
    r->auth = au;
}
