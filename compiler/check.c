/* check.c: resolves names and checks a parsed policy. Each check reports
 * every instance it finds; nothing here stops early. */
#include "check.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "arena.h"
#include "diag.h"
#include "parse.h"

struct check {
    struct ast_program *prog;
    const struct src *src;
    struct diag *diag;
    struct arena *arena;
    const struct check_opts *opts;
};

static const char *text_at(const struct check *c, struct span s)
{
    return c->src->text + s.off;
}

static struct span span_sub(struct span s, size_t from, size_t len)
{
    struct span r = {s.off + (uint32_t)from, (uint32_t)len};
    return r;
}

static struct span span_join(struct span a, struct span b)
{
    struct span r = {a.off, b.off + b.len - a.off};
    return r;
}

/* ---- a small name table: open addressing over (text, length) ---------- */

struct name_slot {
    const char *s;
    size_t len;
    void *item;
};

struct names {
    struct name_slot *slots;
    size_t mask;
};

static void names_init(struct names *t, struct arena *a, size_t n)
{
    size_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    t->slots = arena_alloc(a, cap * sizeof *t->slots);
    t->mask = cap - 1;
}

static size_t names_hash(const char *s, size_t len)
{
    size_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

/* Returns the item already stored under the name, or stores item and
 * returns NULL. */
static void *names_put(struct names *t, const char *s, size_t len, void *item)
{
    for (size_t i = names_hash(s, len) & t->mask;; i = (i + 1) & t->mask) {
        struct name_slot *e = &t->slots[i];
        if (!e->s) {
            e->s = s;
            e->len = len;
            e->item = item;
            return NULL;
        }
        if (e->len == len && memcmp(e->s, s, len) == 0)
            return e->item;
    }
}

static void *names_get(const struct names *t, const char *s, size_t len)
{
    for (size_t i = names_hash(s, len) & t->mask;; i = (i + 1) & t->mask) {
        const struct name_slot *e = &t->slots[i];
        if (!e->s)
            return NULL;
        if (e->len == len && memcmp(e->s, s, len) == 0)
            return e->item;
    }
}

/* ---- addresses ---------------------------------------------------------- */

/* Parses `[host]:port`, `host:port` or `:port` into a. need_host: a server
 * must say where it is; a listener without a host binds every address. */
static void check_addr(struct check *c, struct ast_addr *a, bool need_host)
{
    const char *t = text_at(c, a->tok);
    size_t n = a->tok.len;
    a->ok = false;
    if (n >= 5 && memcmp(t, "unix:", 5) == 0) {
        diag_error(c->diag, a->tok, "unix socket addresses are not supported yet");
        return;
    }
    size_t host_off, host_len, port_off;
    if (t[0] == '[') {
        const char *close = memchr(t, ']', n);
        host_off = 1;
        host_len = (size_t)(close - t) - 1;
        port_off = (size_t)(close - t) + 2;
        a->family = AF_INET6;
    } else {
        size_t colon = n;
        while (colon > 0 && t[colon - 1] != ':')
            colon--;
        host_off = 0;
        host_len = colon - 1;
        port_off = colon;
        a->family = AF_INET;
    }

    bool ok = true;
    if (host_len == 0) {
        if (need_host) {
            diag_error(c->diag, a->tok, "a server address needs a host, e.g. 127.0.0.1%.*s",
                       (int)n, t);
            ok = false;
        }
        a->any_host = true;
        memset(a->bin, 0, sizeof a->bin);
    } else {
        char host[64];
        if (host_len >= sizeof host ||
            (memcpy(host, t + host_off, host_len), host[host_len] = '\0',
             inet_pton(a->family, host, a->bin) != 1)) {
            diag_error(c->diag, span_sub(a->tok, host_off, host_len), "invalid %s address '%.*s'",
                       a->family == AF_INET ? "IPv4" : "IPv6", (int)host_len, t + host_off);
            ok = false;
        }
    }
    uint32_t port = 0;
    size_t port_len = n - port_off;
    if (!parse_uint(t + port_off, port_len, 65535, &port) || port == 0) {
        diag_error(c->diag, span_sub(a->tok, port_off, port_len),
                   "port %.*s is out of range (1..65535)", (int)port_len, t + port_off);
        ok = false;
    }
    if (!ok)
        return;
    a->port = (uint16_t)port;
    if (!inet_ntop(a->family, a->bin, a->host, sizeof a->host))
        return;
    a->ok = true;
}

static bool addr_same(const struct ast_addr *x, const struct ast_addr *y)
{
    size_t len = x->family == AF_INET ? 4 : 16;
    return x->ok && y->ok && x->family == y->family && x->port == y->port &&
           memcmp(x->bin, y->bin, len) == 0;
}

/* ---- the checks ----------------------------------------------------------- */

static void check_listeners(struct check *c)
{
    if (c->prog->n_listens == 0)
        diag_file_error(c->diag, "no 'listen' statement: the proxy would accept no connections");
    for (struct ast_listen *l = c->prog->listens; l; l = l->next) {
        check_addr(c, &l->addr, false);
        for (struct ast_listen *e = c->prog->listens; e != l; e = e->next) {
            if (addr_same(&e->addr, &l->addr)) {
                bool v6 = l->addr.family == AF_INET6;
                char where[80];
                snprintf(where, sizeof where, "%s%s%s:%u", v6 ? "[" : "", l->addr.host,
                         v6 ? "]" : "", l->addr.port);
                diag_error(c->diag, l->addr.tok, "duplicate listener on %s", where);
                diag_note(c->diag, e->addr.tok, "first listener on this address");
                break;
            }
        }
    }
}

static const char *const balance_names[] = {"round_robin"};

static void check_backend(struct check *c, struct ast_backend *b)
{
    if (b->extra_balance_tok.len) {
        diag_error(c->diag, b->extra_balance_tok, "backend '%.*s' already has a balance algorithm",
                   (int)b->name.len, text_at(c, b->name));
        diag_note(c->diag, b->balance_tok, "set here");
    }
    if (b->balance_tok.len) {
        const char *t = text_at(c, b->balance_tok);
        size_t n = b->balance_tok.len;
        size_t nb = sizeof balance_names / sizeof balance_names[0];
        size_t i;
        for (i = 0; i < nb; i++)
            if (strlen(balance_names[i]) == n && memcmp(balance_names[i], t, n) == 0)
                break;
        if (i < nb) {
            b->balance = (enum ast_balance)i;
        } else {
            int close = diag_closest(t, n, balance_names, nb);
            if (close >= 0)
                diag_error(c->diag, b->balance_tok,
                           "unknown balance algorithm '%.*s'; did you mean '%s'?", (int)n, t,
                           balance_names[close]);
            else
                diag_error(c->diag, b->balance_tok,
                           "unknown balance algorithm '%.*s' (supported: round_robin)", (int)n,
                           t);
        }
    }
    if (b->n_servers == 0) {
        diag_error(c->diag, b->name, "backend '%.*s' has no servers", (int)b->name.len,
                   text_at(c, b->name));
        return;
    }
    struct names servers;
    names_init(&servers, c->arena, b->n_servers);
    for (struct ast_server *s = b->servers; s; s = s->next) {
        struct ast_server *first = names_put(&servers, text_at(c, s->name), s->name.len, s);
        if (first) {
            diag_error(c->diag, s->name, "duplicate server '%.*s' in backend '%.*s'",
                       (int)s->name.len, text_at(c, s->name), (int)b->name.len,
                       text_at(c, b->name));
            diag_note(c->diag, first->name, "first defined here");
        }
        check_addr(c, &s->addr, true);
        if (s->extra_weight_tok.len) {
            diag_error(c->diag, s->extra_weight_tok, "server '%.*s' already has a weight",
                       (int)s->name.len, text_at(c, s->name));
            diag_note(c->diag, s->weight_tok, "set here");
        }
        if (s->weight_tok.len && !s->weight_bad) {
            if (!parse_uint(text_at(c, s->weight_tok), s->weight_tok.len, 256, &s->weight) ||
                s->weight == 0)
                diag_error(c->diag, s->weight_tok, "weight %.*s is out of range (1..256)",
                           (int)s->weight_tok.len, text_at(c, s->weight_tok));
        }
    }
}

static void check_backends(struct check *c, struct names *backends)
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

static struct span route_span(const struct ast_route *r)
{
    return span_join(r->kw, r->match);
}

/* Returns the first earlier route that takes every request r would match. */
static const struct ast_route *check_shadowed_by(const struct check *c, const struct ast_route *r)
{
    if (r->bad || r->kind == AST_ROUTE_DEFAULT)
        return NULL;
    for (const struct ast_route *e = c->prog->routes; e != r; e = e->next) {
        if (e->bad || e->kind == AST_ROUTE_DEFAULT)
            continue;
        if (e->kind == AST_ROUTE_PREFIX && e->path_len <= r->path_len &&
            memcmp(e->path, r->path, e->path_len) == 0)
            return e;
        if (e->kind == AST_ROUTE_EXACT && r->kind == AST_ROUTE_EXACT &&
            e->path_len == r->path_len && memcmp(e->path, r->path, e->path_len) == 0)
            return e;
    }
    return NULL;
}

static void check_route_action(struct check *c, struct ast_route *r, const struct names *backends)
{
    if (r->extra_action_kw.len) {
        diag_error(c->diag, r->extra_action_kw, "a route takes one action, and this one has two");
        diag_note(c->diag, r->action_kw, "its first action is here");
    }
    switch (r->action) {
    case AST_ACTION_NONE:
        diag_error(c->diag, route_span(r),
                   "route has no action: add 'proxy BACKEND' or 'respond STATUS'");
        break;
    case AST_ACTION_PROXY: {
        const char *name = text_at(c, r->backend_name);
        size_t len = r->backend_name.len;
        r->backend = names_get(backends, name, len);
        if (r->backend) {
            r->backend->used = true;
            break;
        }
        diag_error(c->diag, r->backend_name, "unknown backend '%.*s'", (int)len, name);
        /* suggest the closest name, pointing at its definition */
        const char **cands = arena_alloc(c->arena, (c->prog->n_backends + 1) * sizeof *cands);
        struct ast_backend **defs = arena_alloc(c->arena, (c->prog->n_backends + 1) * sizeof *defs);
        size_t n = 0;
        for (struct ast_backend *b = c->prog->backends; b; b = b->next) {
            cands[n] = arena_strndup(c->arena, text_at(c, b->name), b->name.len);
            defs[n++] = b;
        }
        int close = diag_closest(name, len, cands, n);
        if (close >= 0)
            diag_note(c->diag, defs[close]->name, "did you mean '%s'?", cands[close]);
        break;
    }
    case AST_ACTION_RESPOND:
        if (r->status_bad)
            break;
        if (r->status < 100 || r->status > 599)
            diag_error(c->diag, r->status_tok, "status %.*s is out of range (100..599)",
                       (int)r->status_tok.len, text_at(c, r->status_tok));
        else if (r->status < 200)
            diag_error(c->diag, r->status_tok,
                       "respond cannot send an informational (1xx) status; use 200..599");
        else if ((r->status == 204 || r->status == 304) && r->has_body)
            diag_error(c->diag, r->body_tok, "a %u response cannot have a body", r->status);
        break;
    }
}

static void check_routes(struct check *c, const struct names *backends)
{
    const struct ast_route *dflt = NULL;
    for (struct ast_route *r = c->prog->routes; r; r = r->next) {
        if (dflt) {
            if (r->kind == AST_ROUTE_DEFAULT) {
                diag_error(c->diag, route_span(r), "duplicate 'route default'");
                diag_note(c->diag, route_span(dflt), "the first 'route default' is here");
            } else {
                diag_error(c->diag, route_span(r),
                           "route after 'route default' can never match");
                diag_note(c->diag, route_span(dflt), "'route default' matches every request");
            }
        } else if (r->kind == AST_ROUTE_DEFAULT) {
            dflt = r;
        }
        if (!r->bad && r->kind != AST_ROUTE_DEFAULT &&
            (r->path_len == 0 || r->path[0] != '/'))
            diag_error(c->diag, r->path_tok, "a path must start with '/'");
        const struct ast_route *by = dflt && dflt != r ? NULL : check_shadowed_by(c, r);
        if (by) {
            bool same = by->kind == r->kind && by->path_len == r->path_len;
            if (c->opts && c->opts->allow_shadowed)
                diag_warning(c->diag, route_span(r), "route '%s' can never match", r->label);
            else if (same)
                diag_error(c->diag, route_span(r), "duplicate route '%s' can never match",
                           r->label);
            else
                diag_error(c->diag, route_span(r), "route '%s' can never match", r->label);
            if (same)
                diag_note(c->diag, route_span(by), "the same path is routed here first");
            else
                diag_note(c->diag, route_span(by),
                          "every path it matches is taken first by this route");
        }
        check_route_action(c, r, backends);
    }
}

bool check_program(struct ast_program *prog, const struct src *s, struct diag *d,
                   struct arena *a, const struct check_opts *opts)
{
    struct check c = {prog, s, d, a, opts};
    unsigned before = d->n_errors;
    struct names backends;
    names_init(&backends, a, prog->n_backends);

    check_listeners(&c);
    check_backends(&c, &backends);
    check_routes(&c, &backends);
    for (struct ast_backend *b = prog->backends; b; b = b->next)
        if (!b->used && names_get(&backends, text_at(&c, b->name), b->name.len) == b)
            diag_warning(d, b->name, "backend '%.*s' is never used", (int)b->name.len,
                         text_at(&c, b->name));
    return d->n_errors == before;
}
