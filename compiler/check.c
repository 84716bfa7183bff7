/* check.c: resolves names and checks a parsed policy: the order of the
 * checks, the name table they share, settings and listeners. Each check
 * reports every instance it finds; nothing here stops early. The other
 * check_*.c files each check one concern (check_int.h lists them). */
#include "check.h"

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

const char *text_at(const struct check *c, struct span s)
{
    return c->src->text + s.off;
}

/* ---- a small name table: open addressing over (text, length) ---------- */

void names_init(struct names *t, struct arena *a, size_t n)
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
void *names_put(struct names *t, const char *s, size_t len, void *item)
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

void *names_get(const struct names *t, const char *s, size_t len)
{
    for (size_t i = names_hash(s, len) & t->mask;; i = (i + 1) & t->mask) {
        const struct name_slot *e = &t->slots[i];
        if (!e->s)
            return NULL;
        if (e->len == len && memcmp(e->s, s, len) == 0)
            return e->item;
    }
}


/* ---- settings ------------------------------------------------------------ */

static const char *const timeout_keys[] = {"client_header", "client_idle", "client_body",
                                           "connect",       "backend",     "drain",
                                           "tunnel"};
static const char *const limit_keys[] = {"header_size", "header_count", "uri_length",
                                         "body_size",   "connections",  "memory",
                                         "connections_per_client", "http2_streams",
                                         "http2_window", "http2_frame"};

/* The runtime reads a request head into one buffer of this size
 * (runtime/buf.h RP_BUF_SIZE), and keeps this many header fields at most
 * (RP_HTTP1_MAX_HEADERS). */
#define CHECK_HEAD_MAX (16 * 1024)
#define CHECK_HEADERS_MAX 100


static int range_order(const void *a, const void *b)
{
    return memcmp(((const struct rp_ip_range *)a)->lo, ((const struct rp_ip_range *)b)->lo, 16);
}

uint32_t ip_ranges_merge(struct rp_ip_range *r, uint32_t n)
{
    qsort(r, n, sizeof *r, range_order);
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (m && memcmp(r[i].lo, r[m - 1].hi, 16) <= 0) {
            if (memcmp(r[i].hi, r[m - 1].hi, 16) > 0)
                memcpy(r[m - 1].hi, r[i].hi, 16);
            continue;
        }
        r[m++] = r[i];
    }
    return m;
}

/* `forwarded { trusted [...]; send [...] }`: which peers' forwarding
 * fields are believed, and which fields the proxy sends. */
static void check_forwarded(struct check *c, const struct ast_setting *st,
                            const struct ast_setting **seen)
{
    static const char *const keys[] = {"trusted", "send"};
    static const char *const fields[] = {"x-forwarded-for", "x-forwarded-proto",
                                         "x-forwarded-host", "x-real-ip", "forwarded"};
    static const uint32_t bits[] = {RP_FWD_XFF, RP_FWD_PROTO, RP_FWD_HOST, RP_FWD_REAL_IP,
                                    RP_FWD_FORWARDED};
    struct ast_program *p = c->prog;
    struct span kw = st->stmt.kw;
    int k = word_index(c, kw, keys, 2);
    if (k < 0) {
        check_unknown(c, kw, "forwarded setting", keys, 2);
        return;
    }
    if (seen[k]) {
        diag_error(c->diag, kw, "'%s' is already set", keys[k]);
        diag_note(c->diag, seen[k]->stmt.kw, "set here");
        return;
    }
    seen[k] = st;
    if (!check_nargs(c, kw, st->stmt.args, 1, k == 0 ? "trusted [ADDRESS|CIDR, ...] or trusted ACL"
                                                     : "send [FIELD, ...]"))
        return;
    struct ast_arg *a = st->stmt.args;
    if (k == 0) {
        /* The same sets as `client.ip in X` takes: a list, or an acl of one. */
        struct ast_expr e = {.rhs = a, .id = UINT32_MAX};
        check_ip_set(c, &e);
        if (!e.list)
            return;
        p->fwd_trusted_set = e.id;
        return;
    }
    if (a->kind != AST_ARG_LIST) {
        diag_error(c->diag, a->tok, "send takes a list of fields, e.g. [x-forwarded-for, "
                   "x-real-ip]; [] sends none");
        return;
    }
    p->fwd_send = 0;
    for (const struct ast_arg *x = a->sub; x; x = x->next) {
        int f = x->kind == AST_ARG_WORD ? word_index(c, x->tok, fields, 5) : -1;
        if (f < 0) {
            if (x->kind == AST_ARG_WORD)
                check_unknown(c, x->tok, "forwarding field", fields, 5);
            else
                diag_error(c->diag, x->tok, "a forwarding field is a name such as "
                           "x-forwarded-for, not '%.*s'", arg_len(x), text_at(c, x->tok));
            continue;
        }
        if (p->fwd_send & bits[f])
            diag_error(c->diag, x->tok, "'%s' is already in the list", fields[f]);
        p->fwd_send |= bits[f];
    }
}

/* A size setting from min to max; under min, `low` says why not (after
 * "NAME VALUE "). */
static bool check_size_from(struct check *c, const struct ast_arg *a, const char *what,
                            uint64_t min, uint64_t max, const char *low, uint64_t *v)
{
    if (!check_size(c, a, what, max, v))
        return false;
    if (*v >= min)
        return true;
    diag_error(c->diag, a->tok, "%s %.*s %s", what, arg_len(a), text_at(c, a->tok), low);
    return false;
}

static void check_settings(struct check *c)
{
    struct ast_settings *set = &c->prog->set;
    const struct ast_setting *seen_fwd[2] = {0};
    c->prog->fwd_send = RP_FWD_DEFAULT;
    c->prog->fwd_trusted_set = UINT32_MAX;
    const struct ast_setting *seen_workers = NULL;
    const struct ast_setting *seen_t[7] = {0}, *seen_l[10] = {0};
    for (const struct ast_setting *st = c->prog->settings; st; st = st->next) {
        struct span kw = st->stmt.kw;
        const struct ast_arg *a = st->stmt.args;
        const struct ast_setting **seen;
        int k;
        if (st->block == AST_SET_FORWARDED) {
            c->prog->has_forwarded = true;
            check_forwarded(c, st, seen_fwd);
            continue;
        }
        if (st->block == AST_SET_WORKERS) {
            if (seen_workers) {
                diag_error(c->diag, kw, "'workers' is already set");
                diag_note(c->diag, seen_workers->stmt.kw, "set here");
                continue;
            }
            seen_workers = st;
            if (!check_nargs(c, kw, a, 1, "workers N|auto"))
                continue;
            if (a->kind == AST_ARG_WORD && word_is(c, a->tok, "auto"))
                set->workers = UINT32_MAX;
            else if (a->kind == AST_ARG_WORD)
                diag_error(c->diag, a->tok, "workers must be a number (1..1024) or 'auto', not '%.*s'",
                           arg_len(a), text_at(c, a->tok));
            else
                check_int(c, a, "workers", 1, 1024, &set->workers);
            continue;
        }
        bool timeouts = st->block == AST_SET_TIMEOUTS;
        const char *const *keys = timeouts ? timeout_keys : limit_keys;
        size_t n_keys = timeouts ? 7 : 10;
        k = word_index(c, kw, keys, n_keys);
        if (k < 0) {
            check_unknown(c, kw, timeouts ? "timeout" : "limit", keys, n_keys);
            continue;
        }
        seen = timeouts ? &seen_t[k] : &seen_l[k];
        if (*seen) {
            diag_error(c->diag, kw, "'%s' is already set", keys[k]);
            diag_note(c->diag, (*seen)->stmt.kw, "set here");
            continue;
        }
        *seen = st;
        char usage[64];
        snprintf(usage, sizeof usage, "%s %s", keys[k],
                 timeouts ? "DURATION" : k == 1 || k == 4 || k == 6 || k == 7 ? "N" : "SIZE");
        if (!check_nargs(c, kw, a, 1, usage))
            continue;
        if (timeouts) {
            uint32_t *fields[] = {&set->client_header_ms, &set->client_idle_ms,
                                  &set->client_body_ms,   &set->connect_ms,
                                  &set->backend_ms,       &set->drain_ms,
                                  &set->tunnel_ms};
            check_duration(c, a, keys[k], fields[k]);
            continue;
        }
        uint64_t v;
        switch (k) {
        case 0:
            if (check_size(c, a, "header_size", UINT64_MAX, &v)) {
                if (v > CHECK_HEAD_MAX)
                    diag_error(c->diag, a->tok,
                               "header_size %.*s is larger than the runtime's request buffer "
                               "(16k): a head that size could not be read",
                               arg_len(a), text_at(c, a->tok));
                else
                    set->header_size = (uint32_t)v;
            }
            break;
        case 1:
            check_int(c, a, "header_count", 1, CHECK_HEADERS_MAX, &set->header_count);
            break;
        case 2:
            if (check_size(c, a, "uri_length", CHECK_HEAD_MAX, &v))
                set->uri_length = (uint32_t)v;
            break;
        case 3:
            if (check_size(c, a, "body_size", UINT64_C(1) << 50, &v))
                set->body_size = v;
            break;
        case 4:
            check_int(c, a, "connections", 1, 10000000, &set->connections);
            break;
        case 6:
            check_int(c, a, "connections_per_client", 1, 10000000, &set->connections_per_client);
            break;
        case 7:
            check_int(c, a, "http2_streams", 1, 10000, &set->http2_streams);
            break;
        case 8:
            /* RFC 9113 6.5.2: at most 2^31-1; under a frame it would stall. */
            if (check_size_from(c, a, "http2_window", 16384, 0x7fffffff,
                                "is smaller than a frame (16k): uploads would crawl", &v))
                set->http2_window = (uint32_t)v;
            break;
        case 9:
            /* RFC 9113 6.5.2: 2^14 to 2^24-1. */
            if (check_size_from(c, a, "http2_frame", 16384, 16777215,
                                "is under HTTP/2's smallest (16k)", &v))
                set->http2_frame = (uint32_t)v;
            break;
        case 5:
            /* At least a few buffers per worker, or nothing could be served. */
            if (check_size_from(c, a, "memory", UINT64_C(1) << 20, UINT64_C(1) << 50,
                                "is too small: the proxy needs at least 1m of buffers (32k "
                                "each, up to 4 per request in flight)",
                                &v))
                set->memory = v;
            break;
        }
    }
    if (set->uri_length && set->header_size && set->uri_length > set->header_size)
        diag_error(c->diag, seen_l[2]->stmt.args->tok,
                   "uri_length is larger than header_size: the request line is part of the head");
}

/* ---- listeners ---------------------------------------------------------- */

/* `listen ADDRESS [max_conns N] [proxy_protocol]`. */
static void check_listen_opts(struct check *c, struct ast_listen *l)
{
    static const char *const opts[] = {"max_conns", "proxy_protocol", "tcp", "tls", "h2c"};
    const struct ast_arg *tls = NULL, *h2c = NULL;
    for (const struct ast_arg *a = l->opts; a; a = a->next) {
        if (a->kind != AST_ARG_WORD) {
            diag_error(c->diag, a->tok, "unexpected '%.*s': the form is 'listen ADDRESS "
                       "[max_conns N] [proxy_protocol] [h2c] [tcp proxy BACKEND] [tls { ... }]'",
                       arg_len(a), text_at(c, a->tok));
            return;
        }
        int k = word_index(c, a->tok, opts, 5);
        if (k < 0) {
            check_unknown(c, a->tok, "listen option", opts, 5);
            return;
        }
        if (k == 4) {
            if (l->h2c)
                diag_error(c->diag, a->tok, "h2c is already set for this listener");
            l->h2c = true;
            h2c = a;
            continue;
        }
        if (k == 3) {
            if (tls)
                diag_error(c->diag, a->tok, "tls is already set for this listener");
            tls = a;
            continue;
        }
        if (k == 2) {
            /* `tcp proxy BACKEND`: bytes both ways, no HTTP (layer 4). */
            const struct ast_arg *p = a->next, *b = p ? p->next : NULL;
            if (!p || !b || p->kind != AST_ARG_WORD || p->tok.len != 5 ||
                memcmp(text_at(c, p->tok), "proxy", 5) != 0 || b->kind != AST_ARG_WORD) {
                diag_error(c->diag, a->tok, "the form is 'listen ADDRESS tcp proxy BACKEND'");
                return;
            }
            l->tcp_backend_name = b->tok;
            a = b;
            continue;
        }
        if (k == 1) {
            if (l->proxy_protocol)
                diag_error(c->diag, a->tok, "proxy_protocol is already set for this listener");
            l->proxy_protocol = true;
            /* Only a trusted peer may say who the client is. */
            if (c->prog->fwd_trusted_set == UINT32_MAX ||
                !c->prog->cidr_sets[c->prog->fwd_trusted_set].n)
                diag_error(c->diag, a->tok, "a PROXY header says who the client is, so only a "
                           "trusted peer may send one: name them in 'forwarded { trusted [...] }'");
            continue;
        }
        if (l->max_conns) {
            diag_error(c->diag, a->tok, "max_conns is already set for this listener");
            return;
        }
        if (!a->next) {
            diag_error(c->diag, a->tok, "'max_conns' needs a value: the form is 'max_conns N'");
            return;
        }
        a = a->next;
        if (!check_int(c, a, "max_conns", 1, 10000000, &l->max_conns))
            return;
    }
    if (h2c && tls)
        diag_error(c->diag, h2c->tok, "h2c is HTTP/2 in cleartext; over TLS, HTTP/2 is offered "
                   "by ALPN (on by default): drop 'h2c'");
    else if (h2c && l->tcp_backend_name.len)
        diag_error(c->diag, h2c->tok, "a 'tcp proxy' listener relays bytes: h2c has no meaning "
                   "there");
    check_listen_tls(c, l, tls);
}

static void check_listeners(struct check *c)
{
    if (c->prog->n_listens == 0)
        diag_file_error(c->diag, "no 'listen' statement: the proxy would accept no connections");
    for (struct ast_listen *l = c->prog->listens; l; l = l->next) {
        check_addr(c, &l->addr, false);
        check_listen_opts(c, l);
        for (struct ast_listen *e = c->prog->listens; e != l; e = e->next) {
            if (addr_same(&e->addr, &l->addr)) {
                bool v6 = l->addr.family == AF_INET6;
                char where[160];
                snprintf(where, sizeof where, "%s%s%s:%u", v6 ? "[" : "", l->addr.host,
                         v6 ? "]" : "", l->addr.port);
                diag_error(c->diag, l->addr.tok, "duplicate listener on %s", where);
                diag_note(c->diag, e->addr.tok, "first listener on this address");
                break;
            }
        }
    }
}


bool check_program(struct ast_program *prog, const struct src *s, struct diag *d,
                   struct arena *a, const struct check_opts *opts)
{
    struct check c = {prog, s, d, a, opts};
    unsigned before = d->n_errors;
    struct names backends;
    names_init(&backends, a, prog->n_backends);

    check_settings(&c);
    check_listeners(&c);
    check_backends(&c, &backends);
    check_acls(&c);
    check_limits(&c);
    check_tcp_listeners(&c, &backends);
    check_routes(&c, &backends);
    check_tls_hosts(&c);
    check_header_stmts(&c);
    check_answer_files(&c);
    check_tests(&c, &backends);
    check_unused_limits(&c);
    if (prog->jwt_condition.len && prog->n_jwts != 1)
        diag_error(d, prog->jwt_condition, "a condition on a token's claims needs exactly one "
                   "'auth jwt' in the policy (it checks the token before the routes; this one "
                   "has %u)", prog->n_jwts);
    for (struct ast_acl *x = prog->acls; x; x = x->next)
        if (!x->used && acl_lookup(&c, x->name) == x && src_file_of(s, x->name.off) == 0)
            diag_warning(d, x->name, "acl '%.*s' is never used", (int)x->name.len,
                         text_at(&c, x->name));
    for (struct ast_backend *b = prog->backends; b; b = b->next)
        if (!b->used && names_get(&backends, text_at(&c, b->name), b->name.len) == b &&
            src_file_of(s, b->name.off) == 0)
            diag_warning(d, b->name, "backend '%.*s' is never used", (int)b->name.len,
                         text_at(&c, b->name));
    return d->n_errors == before;
}
