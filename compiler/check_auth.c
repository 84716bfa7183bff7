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

#include "arena.h"
#include "diag.h"

#include "check_int.h"

#define AUTH_USAGE "the form is 'auth basic \"REALM\" file \"USERS\" [forward_credentials]'"
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
    unsigned lineno = 0, users = 0, bad = 0;
    for (char *line = text; line && *line;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        size_t n = strlen(line);
        if (n && line[n - 1] == '\r')
            line[--n] = '\0';
        char *colon = strchr(line, ':');
        const char *problem = NULL;
        if (!n || line[0] == '#') {
            line = next;
            continue;
        }
        if (!colon || colon == line)
            problem = "is not 'user:hash'";
        else
            problem = hash_problem(colon + 1);
        if (problem && bad++ < 5) {
            if (!colon || colon == line)
                diag_error(c->diag, file_arg->tok, "%s:%u: not 'user:hash' (htpasswd's lines)",
                           shown, lineno);
            else
                diag_error(c->diag, file_arg->tok, "%s:%u: the hash of '%.*s' %s: make it with "
                           "'htpasswd -B' (bcrypt) or 'mkpasswd -m yescrypt'", shown, lineno,
                           (int)(colon - line), line, problem);
        }
        users += !problem;
        line = next;
    }
    if (bad > 5)
        diag_note(c->diag, file_arg->tok, "%u more lines of '%s' are wrong", bad - 5, shown);
    if (!users && !bad)
        diag_warning(c->diag, file_arg->tok, "'%s' has no users: nobody can log in", shown);
    free(text);
}

void check_route_auth(struct check *c, struct ast_route *r, const struct ast_stmt *st)
{
    const struct ast_arg *a = st->args;
    if (r->auth) {
        diag_error(c->diag, st->kw, "a route takes one 'auth'");
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
