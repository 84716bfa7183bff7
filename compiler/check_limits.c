/* check_limits.c: `limit NAME = rate N/UNIT [burst B] [by KEY] [keys N]`
 * definitions, and the routes' `limit NAME [delay]`. */
#include <stdlib.h>
#include <sys/socket.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "diag.h"

#include "check_int.h"

#define LIMIT_USAGE                                                                                \
    "the form is 'limit NAME = rate N/s|m|h [burst B] [by KEY] [keys N]', 'limit NAME = "       \
    "concurrent N [by KEY] [keys N]' or 'limit NAME = errors N/s|m|h ban DURATION [status S] "  \
    "[by KEY]'"
#define KEYS_DEFAULT 100000u

/* `N/s`, `N/m`, `N/h`: the quota and its window. */
static bool check_rate(struct check *c, const struct ast_arg *a, struct ast_limit *l)
{
    if (!a || a->kind != AST_ARG_RATE) {
        diag_error(c->diag, a ? a->tok : l->kw, "'rate' takes requests per unit, e.g. "
                   "'rate 100/s', '600/m' or '10000/h'");
        return false;
    }
    if (a->bad)
        return false;
    const char *t = text_at(c, a->tok);
    char *end;
    unsigned long n = strtoul(t, &end, 10);
    if (end == t || *end != '/' || n == 0 || n > 1000000000ul) {
        diag_error(c->diag, a->tok, "a rate counts 1 to 1000000000 requests per unit, "
                   "not '%.*s'", arg_len(a), t);
        return false;
    }
    l->quota = (uint32_t)n;
    l->window_s = end[1] == 's' ? 1 : end[1] == 'm' ? 60 : 3600;
    l->interval_ns = (uint64_t)l->window_s * 1000000000ull / n;
    if (l->interval_ns == 0) {
        diag_error(c->diag, a->tok, "'%.*s' is more than one request a nanosecond",
                   arg_len(a), t);
        return false;
    }
    return true;
}

/* One part of a key: a request value, client.ip, or the word `route`. */
static bool check_key_part(struct check *c, struct ast_limit *l, const struct ast_arg *a,
                           struct ast_piece ***tail)
{
    if (a->kind == AST_ARG_WORD && arg_is_word(c, a, "route")) {
        if (l->by_route)
            diag_error(c->diag, a->tok, "'route' is in the key twice");
        l->by_route = true;
        return true;
    }
    if (a->kind != AST_ARG_REF) {
        diag_error(c->diag, a->tok, "a limit's key is client.ip, a request value such as "
                   "req.header[\"X-Api-Key\"], or route; not '%.*s'", arg_len(a),
                   text_at(c, a->tok));
        return false;
    }
    struct ast_piece *pc = check_value_ref(c, a);
    if (!pc)
        return false;
    if (pc->subj == AST_SUBJ_JWT && !c->prog->jwt_condition.len)
        c->prog->jwt_condition = a->tok; /* the token is checked before the routes */
    if (pc->subj == AST_SUBJ_REQ_ID || pc->subj == AST_SUBJ_CLIENT_PORT ||
        pc->subj == AST_SUBJ_SERVER_NAME || pc->subj == AST_SUBJ_BACKEND_NAME) {
        diag_error(c->diag, a->tok, "'%.*s' differs for every request or is known only after "
                   "the server answers: each request would have a key of its own",
                   arg_len(a), text_at(c, a->tok));
        return false;
    }
    **tail = pc;
    *tail = &pc->next;
    return true;
}

static void check_limit(struct check *c, struct ast_limit *l)
{
    static const char *const opts[] = {"rate",   "burst", "by",    "keys",   "concurrent",
                                       "errors", "ban",   "status", "shared", "on_error"};
    const struct ast_arg *seen[10] = {0};
    bool ok = true;
    struct ast_piece **tail = &l->key;
    l->keys = KEYS_DEFAULT;
    if (!l->args) {
        diag_error(c->diag, l->kw, "'limit' needs a rate: " LIMIT_USAGE);
        return;
    }
    for (const struct ast_arg *a = l->args; a; a = a->next) {
        int k = a->kind == AST_ARG_WORD ? word_index(c, a->tok, opts, 10) : -1;
        if (k < 0) {
            if (a->kind == AST_ARG_WORD)
                check_unknown(c, a->tok, "limit option", opts, 10);
            else
                diag_error(c->diag, a->tok, "unexpected '%.*s': " LIMIT_USAGE, arg_len(a),
                           text_at(c, a->tok));
            ok = false;
            /* its value, if it has one, is not another mistake */
            while (a->next && a->next->kind != AST_ARG_WORD)
                a = a->next;
            continue;
        }
        if (seen[k]) {
            diag_error(c->diag, a->tok, "'%s' is given twice", opts[k]);
            diag_note(c->diag, seen[k]->tok, "first given here");
            ok = false;
        }
        seen[k] = a;
        const struct ast_arg *v = a->next;
        if (!v) {
            diag_error(c->diag, a->tok, "'%s' needs a value: " LIMIT_USAGE, opts[k]);
            ok = false;
            break;
        }
        a = v;
        switch (k) {
        case 0:
            ok &= check_rate(c, v, l);
            break;
        case 1:
            ok &= check_int(c, v, "burst", 1, 1000000000, &l->burst);
            break;
        case 2:
            if (v->kind == AST_ARG_LIST) {
                if (!v->sub) {
                    diag_error(c->diag, v->tok, "'by' needs at least one key part");
                    ok = false;
                }
                for (const struct ast_arg *x = v->sub; x; x = x->next)
                    ok &= check_key_part(c, l, x, &tail);
            } else {
                ok &= check_key_part(c, l, v, &tail);
            }
            break;
        case 3:
            ok &= check_int(c, v, "keys", 7, 100000000, &l->keys);
            break;
        case 4:
            ok &= check_int(c, v, "concurrent", 1, 100000000, &l->concurrent);
            break;
        case 5:
            ok &= check_rate(c, v, l);
            break;
        case 6: {
            uint32_t ms;
            if (check_duration(c, v, "ban", &ms))
                l->ban_ns = (uint64_t)ms * 1000000u;
            else
                ok = false;
            break;
        }
        case 7:
            ok &= check_status_range(c, v, "status", &l->status_min, &l->status_max);
            break;
        case 8: {
            /* shared redis IP:PORT */
            const struct ast_arg *addr = v->next;
            if (!arg_is_word(c, v, "redis") || !addr || addr->kind != AST_ARG_ADDR) {
                diag_error(c->diag, v->tok, "the form is 'shared redis IP:PORT': the Redis the "
                           "fleet's counts live in");
                ok = false;
                break;
            }
            a = addr;
            l->redis.tok = addr->tok;
            check_addr(c, &l->redis, true);
            if (!l->redis.ok || l->redis.family == AF_UNIX)
                ok = false;
            break;
        }
        case 9:
            if (arg_is_word(c, v, "closed"))
                l->fail_closed = true;
            else if (!arg_is_word(c, v, "open")) {
                diag_error(c->diag, v->tok, "on_error is open (each proxy limits alone while "
                           "Redis is unreachable) or closed (they refuse, 503)");
                ok = false;
            }
            break;
        }
    }
    if ((seen[8] || seen[9]) && (seen[4] || seen[5])) {
        diag_error(c->diag, (seen[8] ? seen[8] : seen[9])->tok, "'shared' is for a rate");
        return;
    }
    if (seen[9] && !seen[8]) {
        diag_error(c->diag, seen[9]->tok, "'on_error' says what a shared limit does without "
                   "Redis: add 'shared redis IP:PORT'");
        return;
    }
    if (seen[5] || seen[6] || seen[7]) {
        /* errors N/UNIT ban DURATION [status S] */
        if (seen[0] || seen[4]) {
            diag_error(c->diag, (seen[0] ? seen[0] : seen[4])->tok, "a limit counts requests "
                       "(rate, concurrent) or errors, not both: define two limits");
            return;
        }
        if (!seen[5] || !seen[6]) {
            diag_error(c->diag, l->kw, "an errors limit needs both: 'errors N/UNIT ban DURATION' "
                       "(the errors a key may make, and how long it is refused after)");
            return;
        }
        if (!seen[7]) {
            l->status_min = 400; /* client errors: bad requests, failed logins, 404 scans */
            l->status_max = 499;
        }
        if (!l->burst)
            l->burst = l->quota;
        l->ok = ok;
        return;
    }
    if (seen[0] && seen[4]) {
        diag_error(c->diag, seen[4]->tok, "a limit is a rate or a count of requests at once, "
                   "not both: define two limits");
        return;
    }
    if (seen[4]) {
        if (seen[1])
            diag_error(c->diag, seen[1]->tok, "'burst' is for a rate; 'concurrent N' is the "
                       "most at once already");
        else
            l->ok = ok;
        return;
    }
    if (!seen[0]) {
        if (ok)
            diag_error(c->diag, l->kw, "'limit' needs a rate or a count: " LIMIT_USAGE);
        return;
    }
    if (!l->burst)
        l->burst = l->quota; /* N per unit may come at once */
    l->ok = ok;
}

void check_limits(struct check *c)
{
    struct ast_program *p = c->prog;
    uint32_t i = 0;
    for (struct ast_limit *l = p->limits; l; l = l->next) {
        l->index = i++;
        for (struct ast_limit *e = p->limits; e != l; e = e->next)
            if (e->name.len == l->name.len &&
                memcmp(text_at(c, e->name), text_at(c, l->name), l->name.len) == 0) {
                diag_error(c->diag, l->name, "limit '%.*s' is defined twice", (int)l->name.len,
                           text_at(c, l->name));
                diag_note(c->diag, e->name, "first defined here");
                break;
            }
        check_limit(c, l);
    }
}

static struct ast_limit *limit_lookup(struct check *c, struct span name)
{
    for (struct ast_limit *l = c->prog->limits; l; l = l->next)
        if (l->name.len == name.len && memcmp(text_at(c, l->name), text_at(c, name), name.len) == 0)
            return l;
    return NULL;
}

void check_route_limit(struct check *c, struct ast_route *r, const struct ast_stmt *st)
{
    const struct ast_arg *a = st->args;
    if (!a || a->kind != AST_ARG_WORD) {
        diag_error(c->diag, a ? a->tok : st->kw, "'limit' in a route names a limit defined at "
                   "the top level: 'limit NAME' or 'limit NAME delay'");
        return;
    }
    struct ast_limit *l = limit_lookup(c, a->tok);
    if (!l) {
        const char *names[64];
        size_t n = 0;
        for (struct ast_limit *x = c->prog->limits; x && n < 64; x = x->next)
            if (limit_lookup(c, x->name) == x)
                names[n++] = arena_strndup(c->arena, text_at(c, x->name), x->name.len);
        if (n)
            check_unknown(c, a->tok, "limit", names, n);
        else
            diag_error(c->diag, a->tok, "unknown limit '%.*s': define it at the top level "
                       "('limit %.*s = rate 100/s by client.ip')", arg_len(a), text_at(c, a->tok),
                       arg_len(a), text_at(c, a->tok));
        return;
    }
    l->used = true;
    bool delay = false;
    if (a->next) {
        if (!arg_is_word(c, a->next, "delay") || a->next->next) {
            const struct ast_arg *bad = arg_is_word(c, a->next, "delay") ? a->next->next : a->next;
            diag_error(c->diag, bad->tok, "unexpected '%.*s': the form is 'limit NAME' or "
                       "'limit NAME delay'", arg_len(bad), text_at(c, bad->tok));
            return;
        }
        delay = true;
        if (l->concurrent || l->ban_ns) {
            diag_error(c->diag, a->next->tok, "'delay' is for a rate; limit '%.*s' counts "
                       "%s", (int)l->name.len, text_at(c, l->name),
                       l->concurrent ? "requests at once" : "errors");
            return;
        }
    }
    uint32_t n_held = 0;
    for (const struct ast_limit_use *u = r->limits; u; u = u->next)
        n_held += u->limit->concurrent || u->limit->ban_ns;
    if ((l->concurrent || l->ban_ns) && n_held == 4) {
        diag_error(c->diag, st->kw, "a route takes at most 4 'concurrent' and 'errors' limits");
        return;
    }
    struct ast_limit_use **tail = &r->limits;
    for (; *tail; tail = &(*tail)->next)
        if ((*tail)->limit == l) {
            diag_error(c->diag, st->kw, "limit '%.*s' is applied twice in this route",
                       (int)l->name.len, text_at(c, l->name));
            diag_note(c->diag, (*tail)->kw, "first applied here");
            return;
        }
    struct ast_limit_use *u = arena_alloc(c->arena, sizeof *u);
    u->kw = st->kw;
    u->limit = l;
    u->delay = delay;
    *tail = u;
}

void check_unused_limits(struct check *c)
{
    for (struct ast_limit *l = c->prog->limits; l; l = l->next)
        if (!l->used && l->ok && src_file_of(c->src, l->name.off) == 0 &&
            limit_lookup(c, l->name) == l)
            diag_warning(c->diag, l->name, "limit '%.*s' is never used", (int)l->name.len,
                         text_at(c, l->name));
}

/* A method token (RFC 9110 5.6.2) in upper case, as the route matchers
 * take them. */
static bool method_word(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || s[i] == '-' || s[i] == '_'))
            return false;
    return n > 0;
}

void check_route_methods(struct check *c, struct ast_route *r, const struct ast_stmt *st)
{
    const struct ast_arg *a = st->args;
    if (r->methods_kw.len) {
        diag_error(c->diag, st->kw, "'methods' is already given in this route");
        return;
    }
    if (!a || a->next || (a->kind != AST_ARG_LIST && a->kind != AST_ARG_WORD)) {
        diag_error(c->diag, a ? a->tok : st->kw, "the form is 'methods [GET, POST]': the methods "
                   "the route answers; others get 405");
        return;
    }
    const struct ast_arg *items = a->kind == AST_ARG_LIST ? a->sub : a;
    uint32_t n = 0;
    for (const struct ast_arg *x = items; x; x = x->next)
        n++;
    const char **names = arena_alloc(c->arena, (n + 1) * sizeof *names);
    uint32_t k = 0;
    bool get = false, head = false;
    for (const struct ast_arg *x = items; x; x = x->next) {
        const char *t = text_at(c, x->tok);
        if (x->kind != AST_ARG_WORD || !method_word(t, x->tok.len)) {
            diag_error(c->diag, x->tok, "a method is a word in upper case, such as GET or "
                       "PATCH, not '%.*s'", arg_len(x), t);
            return;
        }
        for (uint32_t i = 0; i < k; i++)
            if (strlen(names[i]) == x->tok.len && !memcmp(names[i], t, x->tok.len)) {
                diag_error(c->diag, x->tok, "'%.*s' is already in the list", arg_len(x), t);
                return;
            }
        get |= x->tok.len == 3 && !memcmp(t, "GET", 3);
        head |= x->tok.len == 4 && !memcmp(t, "HEAD", 4);
        names[k++] = arena_strndup(c->arena, t, x->tok.len);
    }
    if (!k) {
        diag_error(c->diag, a->tok, "'methods' needs at least one method");
        return;
    }
    if (get && !head) {
        names = arena_grow(c->arena, names, n + 1, n + 2, sizeof *names);
        names[k++] = "HEAD"; /* HEAD is GET without the body (RFC 9110 9.3.2) */
    }
    struct buf text = {0};
    for (uint32_t i = 0; i < k; i++)
        buf_printf(&text, "%s%s", i ? ", " : "", names[i]);
    r->allow_text = arena_strndup(c->arena, text.data, text.len);
    buf_free(&text);
    r->methods_kw = st->kw;
    r->allow = names;
    r->n_allow = k;
}

void check_route_body_size(struct check *c, struct ast_route *r, const struct ast_stmt *st)
{
    if (r->body_size_kw.len) {
        diag_error(c->diag, st->kw, "'body_size' is already given in this route");
        return;
    }
    if (!check_nargs(c, st->kw, st->args, 1, "body_size SIZE"))
        return;
    if (check_size(c, st->args, "body_size", UINT64_C(1) << 50, &r->body_size))
        r->body_size_kw = st->kw;
}
