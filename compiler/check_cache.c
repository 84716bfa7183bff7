/* check_cache.c: a route's `cache` statement and block: lifetimes, the
 * stale windows, sizes, the status header and the key. */
#include <string.h>

#include "arena.h"
#include "diag.h"

#include "check_int.h"

/* Without `key`: the scheme, host and target, as nginx's default key. */
static struct ast_piece *default_key(struct check *c)
{
    static const enum ast_subject parts[] = {AST_SUBJ_SCHEME, AST_SUBJ_NONE, AST_SUBJ_HOST,
                                             AST_SUBJ_URI};
    struct ast_piece *head = NULL, **tail = &head;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        struct ast_piece *pc = arena_alloc(c->arena, sizeof *pc);
        pc->subj = parts[i];
        if (parts[i] == AST_SUBJ_NONE) {
            pc->text = "://";
            pc->len = 3;
        }
        *tail = pc;
        tail = &pc->next;
    }
    return head;
}

/* `key VALUE...`: request values, a space between two of them (none before
 * req.path and req.uri, which start with '/'). */
static struct ast_piece *check_key(struct check *c, const struct ast_stmt *st)
{
    struct ast_piece *head = NULL, **tail = &head;
    if (!st->args)
        diag_error(c->diag, st->kw, "'key' needs request values, e.g. 'key req.host req.uri'");
    for (const struct ast_arg *a = st->args; a; a = a->next) {
        if (a->kind != AST_ARG_REF) {
            diag_error(c->diag, a->tok, "a key part is a request value such as req.path or "
                       "req.header[\"Accept-Language\"], not '%.*s'", arg_len(a),
                       text_at(c, a->tok));
            continue;
        }
        struct ast_piece *pc = check_value_ref(c, a);
        if (!pc)
            continue;
        if (pc->subj == AST_SUBJ_JWT) {
            diag_error(c->diag, a->tok, "a cache key of a token's claims: key by the token "
                       "(req.header[\"Authorization\"]) instead");
            continue;
        }
        if (pc->subj == AST_SUBJ_REQ_ID || pc->subj == AST_SUBJ_SERVER_NAME ||
            pc->subj == AST_SUBJ_BACKEND_NAME || pc->subj == AST_SUBJ_CLIENT_PORT) {
            diag_error(c->diag, a->tok, "'%.*s' differs for every request or is known only "
                       "after the server answers: a key made of it would never be found again",
                       arg_len(a), text_at(c, a->tok));
            continue;
        }
        if (head && pc->subj != AST_SUBJ_PATH && pc->subj != AST_SUBJ_URI) {
            struct ast_piece *sep = arena_alloc(c->arena, sizeof *sep);
            sep->text = " ";
            sep->len = 1;
            *tail = sep;
            tail = &sep->next;
        }
        *tail = pc;
        tail = &pc->next;
    }
    return head;
}

/* A duration in whole seconds (the cache's clock), reported if under 1s. */
static bool check_seconds(struct check *c, const struct ast_arg *a, const char *what,
                          uint32_t *s)
{
    uint32_t ms;
    if (!check_duration(c, a, what, &ms))
        return false;
    if (ms < 1000) {
        diag_error(c->diag, a->tok, "%s counts whole seconds (HTTP's Age and max-age do): "
                   "'%.*s' is less than 1s", what, arg_len(a), text_at(c, a->tok));
        return false;
    }
    *s = ms / 1000;
    return true;
}

#define CACHE_DEFAULT_MAX_SIZE (256ull << 20)
#define CACHE_DEFAULT_MAX_OBJECT (1ull << 20)
#define CACHE_DEFAULT_HEURISTIC_MAX (24 * 3600)

void check_cache(struct check *c, struct ast_route *r, bool has_proxy)
{
    struct ast_cache *ca = r->cache;
    if (r->dup_cache.len) {
        diag_error(c->diag, r->dup_cache, "route already has a 'cache' statement");
        diag_note(c->diag, ca->kw, "the first one is here");
    }
    if (!has_proxy)
        diag_error(c->diag, ca->kw, "'cache' stores what a backend answers; this route does not "
                   "proxy");
    if (ca->args)
        diag_error(c->diag, ca->args->tok, "'cache' takes its settings in a block: "
                   "'cache { ttl 10m; key req.host req.uri }'");
    static const char *const keys[] = {"ttl",          "max_ttl",   "stale_while_revalidate",
                                       "stale_if_error", "max_size", "max_object",
                                       "status_header", "key",      "heuristic_max"};
    enum { N_KEYS = sizeof keys / sizeof keys[0] };
    const struct ast_stmt *seen[N_KEYS] = {0};
    ca->max_size = CACHE_DEFAULT_MAX_SIZE;
    ca->max_object = CACHE_DEFAULT_MAX_OBJECT;
    ca->heuristic_max_s = CACHE_DEFAULT_HEURISTIC_MAX;
    for (const struct ast_stmt *st = ca->stmts; st; st = st->next) {
        int k = word_index(c, st->kw, keys, N_KEYS);
        if (k < 0) {
            check_unknown(c, st->kw, "cache setting", keys, N_KEYS);
            continue;
        }
        if (seen[k]) {
            diag_error(c->diag, st->kw, "'%s' is already set", keys[k]);
            diag_note(c->diag, seen[k]->kw, "set here");
            continue;
        }
        seen[k] = st;
        if (k == 7) {
            ca->key = check_key(c, st);
            if (st->args) {
                const struct ast_arg *last = st->args;
                while (last->next)
                    last = last->next;
                ca->key_text = span_join(st->args->tok, last->tok);
            }
            continue;
        }
        static const char *const usage[] = {
            "ttl DURATION",      "max_ttl DURATION",  "stale_while_revalidate DURATION",
            "stale_if_error DURATION", "max_size SIZE", "max_object SIZE",
            "status_header NAME", "",                 "heuristic_max DURATION"};
        if (!check_nargs(c, st->kw, st->args, 1, usage[k]))
            continue;
        const struct ast_arg *a = st->args;
        switch (k) {
        case 0: check_seconds(c, a, "ttl", &ca->ttl_s); break;
        case 1: check_seconds(c, a, "max_ttl", &ca->max_ttl_s); break;
        case 2: check_seconds(c, a, "stale_while_revalidate", &ca->swr_s); break;
        case 3: check_seconds(c, a, "stale_if_error", &ca->sie_s); break;
        case 4: check_size(c, a, "max_size", UINT64_C(1) << 40, &ca->max_size); break;
        case 5: check_size(c, a, "max_object", UINT64_C(1) << 31, &ca->max_object); break;
        case 8: check_seconds(c, a, "heuristic_max", &ca->heuristic_max_s); break;
        case 6: {
            const char *s = a->kind == AST_ARG_STRING ? a->str : text_at(c, a->tok);
            size_t n = a->kind == AST_ARG_STRING ? a->str_len : a->tok.len;
            bool ok = (a->kind == AST_ARG_WORD || a->kind == AST_ARG_STRING) && n > 0;
            for (size_t i = 0; ok && i < n; i++)
                ok = s[i] > 0x20 && s[i] < 0x7f && !strchr("\"(),/:;<=>?@[\\]{}", s[i]);
            if (!ok) {
                diag_error(c->diag, a->tok, "a header name is a token such as X-Cache");
                break;
            }
            char *name = arena_alloc(c->arena, n + 1);
            memcpy(name, s, n);
            ca->status_header = name;
            break;
        }
        }
    }
    if (ca->max_ttl_s && ca->ttl_s > ca->max_ttl_s)
        diag_error(c->diag, seen[0]->args->tok, "ttl is longer than max_ttl");
    /* the store keeps an object only where it leaves room for others */
    if (ca->max_object > ca->max_size / 8)
        diag_error(c->diag, seen[5] ? seen[5]->args->tok : ca->kw,
                   "max_object is more than an eighth of max_size: answers that large would "
                   "never be kept");
    if (!ca->key)
        ca->key = default_key(c);
}
