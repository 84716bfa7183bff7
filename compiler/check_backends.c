/* check_backends.c: backends and their servers: balancing, health checks,
 * retries, ejection, what happens when all are down; tcp listeners' backends. */
#include <arpa/inet.h>
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

/* ---- backends ------------------------------------------------------------ */

static const char *const balance_names[] = {"round_robin", "least_conn", "random2", "hash",
                                            "first"};
static const char *const hash_keys[] = {"client.ip",        "req.path",         "req.host",
                                        "req.header[\"X\"]", "req.cookie[\"c\"]", "req.query[\"q\"]"};
static const char *const hash_key_words[] = {"client.ip", "req.path",   "req.host",
                                             "req.header", "req.cookie", "req.query"};

static void check_balance(struct check *c, struct ast_backend *b, const struct ast_stmt *st)
{
    const struct ast_arg *a = st->args;
    if (!check_nargs(c, st->kw, a, 1, "balance ALGORITHM"))
        return;
    struct span name = a->kind == AST_ARG_CALL ? a->name : a->tok;
    if (a->kind != AST_ARG_WORD && a->kind != AST_ARG_CALL) {
        diag_error(c->diag, a->tok, "expected a balance algorithm, not '%.*s'", arg_len(a),
                   text_at(c, a->tok));
        return;
    }
    int i = word_index(c, name, balance_names, 5);
    if (i < 0) {
        check_unknown(c, name, "balance algorithm", balance_names, 5);
        return;
    }
    b->balance = (enum ast_balance)i;
    if (i != AST_BALANCE_HASH) {
        if (a->kind == AST_ARG_CALL)
            diag_error(c->diag, a->tok, "'%s' takes no key; only hash(KEY) does",
                       balance_names[i]);
        return;
    }
    if (a->kind != AST_ARG_CALL || !a->sub || a->sub->next) {
        diag_error(c->diag, a->tok,
                   "hash needs one key: hash(client.ip), hash(req.path), hash(req.host), "
                   "hash(req.header[\"X\"]), hash(req.cookie[\"c\"]) or hash(req.query[\"q\"])");
        return;
    }
    const struct ast_arg *k = a->sub;
    if (k->kind != AST_ARG_REF) {
        diag_error(c->diag, k->tok, "unknown hash key '%.*s'", arg_len(k), text_at(c, k->tok));
        return;
    }
    char key[128];
    snprintf(key, sizeof key, "%.*s.%.*s", (int)k->name.len, text_at(c, k->name),
             (int)k->field.len, text_at(c, k->field));
    int j;
    for (j = 0; j < 6; j++)
        if (strcmp(key, hash_key_words[j]) == 0)
            break;
    if (j == 6) {
        struct span ks = span_join(k->name, k->field);
        int close = diag_closest(key, strlen(key), hash_key_words, 6);
        if (close >= 0)
            diag_error(c->diag, ks, "unknown hash key '%s'; did you mean '%s'?", key,
                       hash_keys[close]);
        else
            diag_error(c->diag, ks,
                       "unknown hash key '%s' (expected client.ip, req.path, req.host, "
                       "req.header[\"X\"], req.cookie[\"c\"] or req.query[\"q\"])",
                       key);
        return;
    }
    bool needs_name = j >= 3;
    if (needs_name && !k->has_key) {
        diag_error(c->diag, k->tok, "hash key '%s' needs a name, e.g. %s", key, hash_keys[j]);
        return;
    }
    if (!needs_name && k->has_key) {
        diag_error(c->diag, k->key_tok, "hash key '%s' takes no name", key);
        return;
    }
    if (needs_name && k->str_len == 0) {
        diag_error(c->diag, k->key_tok, "the name in %s[...] cannot be empty", key);
        return;
    }
    b->hash_key = (enum ast_hash_key)(j + 1);
    if (needs_name) {
        char *n = arena_strndup(c->arena, k->str, k->str_len);
        if (j == 3)
            for (char *q = n; *q; q++)
                if (*q >= 'A' && *q <= 'Z')
                    *q = (char)(*q + 32);
        b->hash_name = n;
    }
}

static void check_health(struct check *c, struct ast_backend *b, const struct ast_stmt *st)
{
    static const char *const words[] = {"get", "head", "tcp", "every", "timeout", "rise", "fall",
                                        "expect"};
    const struct ast_arg *a = st->args;
    const char *usage = "health get|head \"/path\" [every D] [timeout D] [rise N] [fall N] "
                        "[expect S|S..S]' or 'health tcp [every D] [timeout D] [rise N] [fall N]";
    if (!a) {
        diag_error(c->diag, st->kw, "'health' needs a kind: the form is '%s'", usage);
        return;
    }
    b->health_interval_ms = 2000;
    b->health_timeout_ms = 1000;
    b->health_rise = 2;
    b->health_fall = 3;
    b->expect_min = 200;
    b->expect_max = 399;
    const struct ast_arg *every = NULL, *timeout = NULL, *expect = NULL;
    bool seen[8] = {0};
    bool ok = true;
    for (; a; a = a->next) {
        if (a->kind != AST_ARG_WORD) {
            diag_error(c->diag, a->tok, "unexpected '%.*s' in 'health': the form is '%s'",
                       arg_len(a), text_at(c, a->tok), usage);
            return;
        }
        int w = word_index(c, a->tok, words, 8);
        if (w < 0) {
            check_unknown(c, a->tok, "health option", words, 8);
            return;
        }
        bool is_kind = w <= 2;
        if (is_kind != (a == st->args)) {
            if (is_kind)
                diag_error(c->diag, a->tok, "'%s' must come first in 'health'", words[w]);
            else
                diag_error(c->diag, a->tok, "'health' needs a kind first: get, head or tcp");
            return;
        }
        if (seen[w]) {
            diag_error(c->diag, a->tok, "'%s' is given twice in 'health'", words[w]);
            return;
        }
        seen[w] = true;
        if (w == 2) {
            b->health = AST_HEALTH_TCP;
            continue;
        }
        const struct ast_arg *v = a->next;
        if (!v || (v->kind == AST_ARG_WORD && word_index(c, v->tok, words, 8) >= 0)) {
            diag_error(c->diag, a->tok, "'%s' needs a value", words[w]);
            return;
        }
        a = v;
        switch (w) {
        case 0:
        case 1:
            if (v->kind != AST_ARG_STRING) {
                diag_error(c->diag, v->tok, "health %s needs a path string, e.g. \"/healthz\"",
                           words[w]);
                return;
            }
            if (!v->bad && (v->str_len == 0 || v->str[0] != '/' ||
                            memchr(v->str, ' ', v->str_len) || memchr(v->str, '\n', v->str_len) ||
                            memchr(v->str, '\r', v->str_len) || strlen(v->str) != v->str_len)) {
                diag_error(c->diag, v->tok,
                           "a health check path must start with '/' and hold no spaces or "
                           "control characters");
                ok = false;
            }
            b->health = AST_HEALTH_HTTP;
            b->health_method = w == 0 ? "GET" : "HEAD";
            b->health_path = v->str;
            break;
        case 3:
            every = v;
            ok &= check_duration(c, v, "health interval", &b->health_interval_ms);
            break;
        case 4:
            timeout = v;
            ok &= check_duration(c, v, "health timeout", &b->health_timeout_ms);
            break;
        case 5:
            ok &= check_int(c, v, "rise", 1, 1000, &b->health_rise);
            break;
        case 6:
            ok &= check_int(c, v, "fall", 1, 1000, &b->health_fall);
            break;
        case 7: {
            expect = v;
            if (b->health == AST_HEALTH_TCP) {
                diag_error(c->diag, a->tok, "a tcp health check has no status to expect");
                ok = false;
                break;
            }
            uint32_t lo, hi;
            if (!check_status_range(c, v, "expected status", &lo, &hi)) {
                ok = false;
                break;
            }
            b->expect_min = lo;
            b->expect_max = hi;
            break;
        }
        }
    }
    (void)expect;
    if (ok && b->health_interval_ms < b->health_timeout_ms) {
        struct span at = every ? every->tok : timeout ? timeout->tok : st->kw;
        diag_error(c->diag, at,
                   "health interval (%ums) is shorter than its timeout (%ums): checks would "
                   "overlap",
                   b->health_interval_ms, b->health_timeout_ms);
        if (every && timeout)
            diag_note(c->diag, timeout->tok, "the timeout is set here");
    }
}

static void check_retries(struct check *c, struct ast_backend *b, const struct ast_stmt *st)
{
    static const char *const conds[] = {"connect_error", "timeout", "502", "503", "504", "reset"};
    const struct ast_arg *a = st->args;
    const char *usage = "retries N [on [connect_error, reset, timeout, 502, 503, 504]]";
    if (!a) {
        diag_error(c->diag, st->kw, "'retries' needs a count: the form is '%s'", usage);
        return;
    }
    if (!check_int(c, a, "retries", 0, 10, &b->retries))
        return;
    b->retry_on = 1u << 0 | 1u << 1 | 1u << 5; /* connect errors, timeouts, resets */
    a = a->next;
    if (!a)
        return;
    if (a->kind != AST_ARG_WORD || !word_is(c, a->tok, "on") || !a->next ||
        a->next->kind != AST_ARG_LIST || a->next->next) {
        diag_error(c->diag, a->tok, "unexpected '%.*s': the form is '%s'", arg_len(a),
                   text_at(c, a->tok), usage);
        return;
    }
    const struct ast_arg *l = a->next;
    if (!l->sub) {
        diag_error(c->diag, l->tok, "the list of retry conditions is empty");
        return;
    }
    b->retry_on = 0;
    for (const struct ast_arg *x = l->sub; x; x = x->next) {
        int i = word_index(c, x->tok, conds, 6);
        if (i < 0 || (x->kind != AST_ARG_WORD && x->kind != AST_ARG_INT)) {
            check_unknown(c, x->tok, "retry condition", conds, 6);
            continue;
        }
        if (b->retry_on & (1u << i))
            diag_error(c->diag, x->tok, "retry condition '%s' is listed twice", conds[i]);
        b->retry_on |= 1u << i;
    }
}

/* `when_down queue|panic|fail`: what a request does when no server is usable. */
static void check_when_down(struct check *c, struct ast_backend *b, const struct ast_stmt *st)
{
    static const char *const modes[] = {"queue", "panic", "fail"};
    const struct ast_arg *a = st->args;
    if (!check_nargs(c, st->kw, a, 1, "when_down queue|panic|fail"))
        return;
    int k = a->kind == AST_ARG_WORD ? word_index(c, a->tok, modes, 3) : -1;
    if (k < 0) {
        check_unknown(c, a->tok, "when_down mode", modes, 3);
        return;
    }
    b->when_down = (uint32_t)k; /* the order of enum rp_when_down */
}

/* `eject after N [for DURATION] [max DURATION]` or `eject off`: passive
 * ejection of servers that fail requests in a row. */
static void check_eject(struct check *c, struct ast_backend *b, const struct ast_stmt *st)
{
    const char *usage = "eject after N [for DURATION] [max DURATION]' or 'eject off";
    const struct ast_arg *a = st->args;
    if (a && a->kind == AST_ARG_WORD && word_is(c, a->tok, "off") && !a->next) {
        b->eject_after = UINT32_MAX;
        return;
    }
    if (!a || a->kind != AST_ARG_WORD || !word_is(c, a->tok, "after") || !a->next) {
        diag_error(c->diag, a ? a->tok : st->kw, "the form is '%s'", usage);
        return;
    }
    a = a->next;
    if (!check_int(c, a, "eject after", 1, 1000, &b->eject_after))
        return;
    bool got_for = false, got_max = false;
    const struct ast_arg *max_arg = NULL;
    for (a = a->next; a; a = a->next) {
        bool is_for = a->kind == AST_ARG_WORD && word_is(c, a->tok, "for");
        bool is_max = a->kind == AST_ARG_WORD && word_is(c, a->tok, "max");
        if ((!is_for && !is_max) || (is_for && got_for) || (is_max && got_max) || !a->next) {
            diag_error(c->diag, a->tok, "unexpected '%.*s': the form is '%s'", arg_len(a),
                       text_at(c, a->tok), usage);
            return;
        }
        a = a->next;
        if (!check_duration(c, a, is_for ? "eject for" : "eject max",
                            is_for ? &b->eject_ms : &b->eject_max_ms))
            return;
        got_for |= is_for;
        got_max |= is_max;
        if (is_max)
            max_arg = a;
    }
    uint32_t first = b->eject_ms ? b->eject_ms : 1000;
    if (max_arg && b->eject_max_ms < first)
        diag_error(c->diag, max_arg->tok,
                   "'max %.*s' is shorter than the first ejection (%u ms); the longest "
                   "ejection must be at least the first",
                   arg_len(max_arg), text_at(c, max_arg->tok), first);
}

static void check_backend_stmt(struct check *c, struct ast_backend *b, const struct ast_stmt *st,
                               const struct ast_stmt **seen)
{
    if (check_backend_header_stmt(c, b, st))
        return;
    static const char *const stmts[] = {"balance",   "health", "retries",   "queue_timeout",
                                        "keepalive", "server", "when_down", "eject",
                                        "intercept"};
    int k = word_index(c, st->kw, stmts, 9);
    if (k < 0) {
        check_unknown(c, st->kw, "backend statement", stmts, 9);
        b->had_error = true; /* perhaps a misspelt server: not "no servers" too */
        return;
    }
    if (k == 5) { /* `server` with a malformed address got here as a word */
        diag_error(c->diag, st->kw, "the form is 'server NAME ADDRESS [OPTIONS]'");
        b->had_error = true;
        return;
    }
    if (seen[k]) {
        diag_error(c->diag, st->kw, "backend '%.*s' already has a %s", (int)b->name.len,
                   text_at(c, b->name), k == 0 ? "balance algorithm" : stmts[k]);
        diag_note(c->diag, seen[k]->kw, "set here");
        return;
    }
    seen[k] = st;
    const struct ast_arg *a = st->args;
    switch (k) {
    case 0:
        check_balance(c, b, st);
        break;
    case 1:
        check_health(c, b, st);
        break;
    case 2:
        check_retries(c, b, st);
        break;
    case 3:
        if (check_nargs(c, st->kw, a, 1, "queue_timeout DURATION"))
            check_duration(c, a, "queue_timeout", &b->queue_timeout_ms);
        break;
    case 4:
        if (!a) {
            check_nargs(c, st->kw, a, 1, "keepalive N [idle DURATION]");
            break;
        }
        check_int(c, a, "keepalive", 1, 100000, &b->keepalive);
        if (!a->next)
            break;
        if (a->next->kind != AST_ARG_WORD || !word_is(c, a->next->tok, "idle") ||
            !a->next->next || a->next->next->next) {
            diag_error(c->diag, a->next->tok, "unexpected '%.*s': the form is '%s'",
                       arg_len(a->next), text_at(c, a->next->tok), "keepalive N [idle DURATION]");
            break;
        }
        check_duration(c, a->next->next, "keepalive idle", &b->keepalive_idle_ms);
        break;
    case 6:
        check_when_down(c, b, st);
        break;
    case 7:
        check_eject(c, b, st);
        break;
    case 8:
        /* `intercept 5xx [4xx]`: the server's own error pages never reach a
         * client; the proxy's page for the status (or its reason) does. */
        if (!a)
            diag_error(c->diag, st->kw, "'intercept' needs a class: the form is 'intercept 5xx' "
                       "or 'intercept 4xx 5xx'");
        for (; a; a = a->next) {
            const char *t = text_at(c, a->tok);
            if (a->tok.len == 3 && (t[0] == '4' || t[0] == '5') && t[1] == 'x' && t[2] == 'x')
                b->intercept |= t[0] == '4' ? 1u : 2u;
            else
                diag_error(c->diag, a->tok, "intercept takes 4xx or 5xx, not '%.*s'", arg_len(a),
                           t);
        }
        break;
    }
}

static void check_server_opts(struct check *c, struct ast_server *s)
{
    static const char *const opts[] = {"weight", "backup", "max_conns", "slow_start",
                                       "proxy_protocol", "tls", "h2"};
    const struct ast_arg *seen[7] = {0};
    for (const struct ast_arg *a = s->opts; a; a = a->next) {
        if (a->kind != AST_ARG_WORD) {
            diag_error(c->diag, a->tok, "unexpected '%.*s': server options are weight N, backup, "
                                        "max_conns N, slow_start DURATION, proxy_protocol v1|v2, "
                                        "h2 and tls [{ ... }]",
                       arg_len(a), text_at(c, a->tok));
            return;
        }
        int k = word_index(c, a->tok, opts, 7);
        if (k < 0) {
            check_unknown(c, a->tok, "server option", opts, 7);
            return;
        }
        if (k == 6) {
            if (seen[6])
                diag_error(c->diag, a->tok, "h2 is already set for this server");
            seen[6] = a;
            s->h2 = true;
            continue;
        }
        if (k == 5) {
            if (seen[5])
                diag_error(c->diag, a->tok, "tls is already set for this server");
            seen[5] = a;
            continue;
        }
        if (seen[k]) {
            diag_error(c->diag, a->tok, "server '%.*s' already has a%s %s", (int)s->name.len,
                       text_at(c, s->name), k == 0 ? "" : "", k == 1 ? "backup flag" : opts[k]);
            diag_note(c->diag, seen[k]->tok, "set here");
            if (k != 1)
                a = a->next;
            if (!a)
                return;
            continue;
        }
        seen[k] = a;
        if (k == 1) {
            s->backup = true;
            continue;
        }
        const struct ast_arg *v = a->next;
        if (!v) {
            diag_error(c->diag, a->tok, "'%s' needs a value", opts[k]);
            return;
        }
        a = v;
        if (k == 0) {
            if (!v->bad && v->kind == AST_ARG_INT &&
                (!parse_uint(text_at(c, v->tok), v->tok.len, 256, &s->weight) || s->weight == 0))
                diag_error(c->diag, v->tok, "weight %.*s is out of range (1..256)", arg_len(v),
                           text_at(c, v->tok));
            else if (!v->bad && v->kind != AST_ARG_INT)
                diag_error(c->diag, v->tok, "weight must be a number (1..256), not '%.*s'",
                           arg_len(v), text_at(c, v->tok));
            s->has_weight = true;
        } else if (k == 2) {
            check_int(c, v, "max_conns", 1, 1000000, &s->max_conns);
        } else if (k == 3) {
            check_duration(c, v, "slow_start", &s->slow_start_ms);
        } else {
            static const char *const versions[] = {"v1", "v2"};
            int ver = v->kind == AST_ARG_WORD ? word_index(c, v->tok, versions, 2) : -1;
            if (ver < 0)
                diag_error(c->diag, v->tok, "proxy_protocol is v1 (text) or v2 (binary), not "
                           "'%.*s'", arg_len(v), text_at(c, v->tok));
            else
                s->proxy_protocol = (uint8_t)(ver + 1);
        }
    }
    check_server_tls(c, s, seen[5]);
    if (seen[6] && s->proxy_protocol)
        diag_error(c->diag, seen[6]->tok, "an HTTP/2 connection to a server carries many clients' "
                   "requests: a PROXY header cannot name one of them");
}

static void check_backend(struct check *c, struct ast_backend *b)
{
    const struct ast_stmt *seen[9] = {0};
    for (const struct ast_stmt *st = b->stmts; st; st = st->next)
        check_backend_stmt(c, b, st, seen);
    if (!seen[2]) {
        /* No `retries`: what nginx and HAProxy do by default, a request
         * that never reached a server (connect error), or an idempotent one
         * whose connection broke before any answer, tries again, once: a
         * request that kills its server is not sent to kill three. */
        b->retries = 1;
        b->retry_on = 1u << 0 | 1u << 5;
    }
    if (b->n_servers == 0) {
        if (!b->had_error)
            diag_error(c->diag, b->name, "backend '%.*s' has no servers", (int)b->name.len,
                       text_at(c, b->name));
        return;
    }
    struct names servers;
    names_init(&servers, c->arena, b->n_servers);
    bool any_primary = false;
    for (struct ast_server *s = b->servers; s; s = s->next) {
        struct ast_server *first = names_put(&servers, text_at(c, s->name), s->name.len, s);
        if (first) {
            diag_error(c->diag, s->name, "duplicate server '%.*s' in backend '%.*s'",
                       (int)s->name.len, text_at(c, s->name), (int)b->name.len,
                       text_at(c, b->name));
            diag_note(c->diag, first->name, "first defined here");
        }
        check_addr(c, &s->addr, true);
        check_server_opts(c, s);
        any_primary |= !s->backup;
        if (s->h2 && b->health == AST_HEALTH_HTTP)
            diag_error(c->diag, s->name, "server '%.*s' speaks HTTP/2, and 'health get|head' "
                       "checks speak HTTP/1.1: use 'health tcp' in backend '%.*s'",
                       (int)s->name.len, text_at(c, s->name), (int)b->name.len,
                       text_at(c, b->name));
    }
    if (!any_primary)
        diag_error(c->diag, b->name,
                   "every server of backend '%.*s' is a backup: backups serve only when a "
                   "primary server is down, so it would never serve",
                   (int)b->name.len, text_at(c, b->name));
}

/* `listen ... tcp proxy NAME`: the backend, once backends are known. */
void check_tcp_listeners(struct check *c, const struct names *backends)
{
    for (struct ast_listen *l = c->prog->listens; l; l = l->next) {
        if (!l->tcp_backend_name.len)
            continue;
        l->tcp_backend = names_get(backends, text_at(c, l->tcp_backend_name),
                                   l->tcp_backend_name.len);
        if (!l->tcp_backend) {
            diag_error(c->diag, l->tcp_backend_name, "unknown backend '%.*s'",
                       (int)l->tcp_backend_name.len, text_at(c, l->tcp_backend_name));
            continue;
        }
        l->tcp_backend->used = true;
    }
}

void check_backends(struct check *c, struct names *backends)
{
    uint32_t i = 0;
    for (struct ast_backend *b = c->prog->backends; b; b = b->next) {
        b->index = i++;
        struct ast_backend *first = names_put(backends, text_at(c, b->name), b->name.len, b);
        if (first) {
            diag_error(c->diag, b->name, "duplicate backend '%.*s'", (int)b->name.len,
                       text_at(c, b->name));
            diag_note(c->diag, first->name, "first defined here");
        }
        check_backend(c, b);
    }
}
