/* check.c: resolves names and checks a parsed policy. Each check reports
 * every instance it finds; nothing here stops early. */
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
        /* A server reached by path. Listeners are TCP: each worker has its
         * own SO_REUSEPORT socket, which unix sockets do not share. */
        if (!need_host) {
            diag_error(c->diag, a->tok, "listening on a unix socket is not supported");
            return;
        }
        if (n == 5 || t[5] != '/' || n >= sizeof a->host) {
            diag_error(c->diag, a->tok,
                       "a unix socket path must be absolute and at most %zu bytes",
                       sizeof a->host - 6);
            return;
        }
        memcpy(a->host, t, n);
        a->host[n] = '\0';
        a->family = AF_UNIX;
        a->port = 0;
        a->ok = true;
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
    if (x->family == AF_UNIX || y->family == AF_UNIX)
        return x->ok && y->ok && strcmp(x->host, y->host) == 0;
    size_t len = x->family == AF_INET ? 4 : 16;
    return x->ok && y->ok && x->family == y->family && x->port == y->port &&
           memcmp(x->bin, y->bin, len) == 0;
}

/* ---- values ------------------------------------------------------------ */

int arg_len(const struct ast_arg *a)
{
    return (int)a->tok.len;
}

static bool word_is(const struct check *c, struct span s, const char *w)
{
    return strlen(w) == s.len && memcmp(text_at(c, s), w, s.len) == 0;
}

/* The index of the word at s among n words, or -1. */
int word_index(const struct check *c, struct span s, const char *const *words, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (word_is(c, s, words[i]))
            return (int)i;
    return -1;
}

/* "unknown WHAT 'x'; did you mean 'y'?" or "... (expected one of: a, b)". */
void check_unknown(struct check *c, struct span at, const char *what,
                          const char *const *words, size_t n)
{
    const char *t = text_at(c, at);
    int close = diag_closest(t, at.len, words, n);
    if (close >= 0) {
        diag_error(c->diag, at, "unknown %s '%.*s'; did you mean '%s'?", what, (int)at.len, t,
                   words[close]);
        return;
    }
    struct buf list = {0};
    for (size_t i = 0; i < n; i++)
        buf_printf(&list, "%s%s", i ? ", " : "", words[i]);
    diag_error(c->diag, at, "unknown %s '%.*s' (expected one of: %s)", what, (int)at.len, t,
               list.data);
    buf_free(&list);
}

/* Parses a number with an optional unit (from a table); the value times the
 * unit's factor goes to *out. Returns false (reported) when it does not fit. */
struct unit {
    const char *suffix;
    uint64_t factor;
};

static bool check_quantity(struct check *c, const struct ast_arg *a, const char *what,
                           const struct unit *units, size_t n_units, bool need_unit,
                           const char *example, uint64_t max, uint64_t *out)
{
    if (a->bad)
        return false;
    if (a->kind != AST_ARG_INT && a->kind != AST_ARG_QUANTITY) {
        diag_error(c->diag, a->tok, "%s must be %s, e.g. %s; not '%.*s'", what,
                   need_unit ? "a duration" : "a number", example, arg_len(a),
                   text_at(c, a->tok));
        return false;
    }
    const char *t = text_at(c, a->tok);
    size_t d = 0;
    uint64_t v = 0;
    bool overflow = false;
    while (d < a->tok.len && t[d] >= '0' && t[d] <= '9') {
        v = v * 10 + (uint64_t)(t[d] - '0');
        if (v > (UINT64_C(1) << 50))
            overflow = true;
        d++;
    }
    uint64_t factor = 1;
    if (d < a->tok.len) {
        size_t i;
        for (i = 0; i < n_units; i++)
            if (strlen(units[i].suffix) == a->tok.len - d &&
                memcmp(units[i].suffix, t + d, a->tok.len - d) == 0)
                break;
        if (i == n_units) {
            diag_error(c->diag, a->tok, "%s cannot be '%.*s': %s", what, arg_len(a), t,
                       need_unit ? "durations are in ms, s, m, h or d"
                                 : "sizes are a number of bytes, or k, m or g");
            return false;
        }
        factor = units[i].factor;
    } else if (need_unit) {
        diag_error(c->diag, a->tok, "%s '%.*s' needs a unit, e.g. %s", what, arg_len(a), t,
                   example);
        return false;
    }
    if (overflow || v > max / factor) {
        diag_error(c->diag, a->tok, "%s %.*s is too large", what, arg_len(a), t);
        return false;
    }
    *out = v * factor;
    return true;
}

static const struct unit duration_units[] = {
    {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
static const struct unit size_units[] = {
    {"k", 1024}, {"m", 1024 * 1024}, {"g", 1024 * 1024 * 1024}};

/* A duration in milliseconds, 1ms..24d; zero is refused: every duration here
 * bounds a wait, and a wait of zero would fail everything. */
bool check_duration(struct check *c, const struct ast_arg *a, const char *what,
                           uint32_t *ms)
{
    uint64_t v;
    if (!check_quantity(c, a, what, duration_units, 5, true, "10s", UINT32_MAX - 1, &v))
        return false;
    if (v == 0) {
        diag_error(c->diag, a->tok, "%s cannot be zero", what);
        return false;
    }
    *ms = (uint32_t)v;
    return true;
}

static bool check_size(struct check *c, const struct ast_arg *a, const char *what, uint64_t max,
                       uint64_t *bytes)
{
    if (!check_quantity(c, a, what, size_units, 3, false, "16k", UINT64_C(1) << 50, bytes))
        return false;
    if (*bytes == 0) {
        diag_error(c->diag, a->tok, "%s cannot be zero", what);
        return false;
    }
    if (*bytes > max) {
        diag_error(c->diag, a->tok, "%s %.*s is out of range (1..%llu)", what, arg_len(a),
                   text_at(c, a->tok), (unsigned long long)max);
        return false;
    }
    return true;
}

/* A plain integer in lo..hi. */
bool check_int(struct check *c, const struct ast_arg *a, const char *what, uint32_t lo,
                      uint32_t hi, uint32_t *out)
{
    if (a->bad)
        return false;
    uint32_t v;
    if (a->kind != AST_ARG_INT) {
        diag_error(c->diag, a->tok, "%s must be a number (%u..%u), not '%.*s'", what, lo, hi,
                   arg_len(a), text_at(c, a->tok));
        return false;
    }
    if (!parse_uint(text_at(c, a->tok), a->tok.len, hi, &v) || v < lo) {
        diag_error(c->diag, a->tok, "%s %.*s is out of range (%u..%u)", what, arg_len(a),
                   text_at(c, a->tok), lo, hi);
        return false;
    }
    *out = v;
    return true;
}

/* The statement's arguments must be exactly n (reported otherwise). */
bool check_nargs(struct check *c, struct span kw, const struct ast_arg *args, unsigned n,
                        const char *usage)
{
    unsigned got = 0;
    const struct ast_arg *extra = NULL;
    for (const struct ast_arg *a = args; a; a = a->next)
        if (++got == n + 1)
            extra = a;
    if (got == n)
        return true;
    if (extra)
        diag_error(c->diag, extra->tok, "unexpected '%.*s': the form is '%s'", arg_len(extra),
                   text_at(c, extra->tok), usage);
    else
        diag_error(c->diag, kw, "'%.*s' needs a value: the form is '%s'", (int)kw.len,
                   text_at(c, kw), usage);
    return false;
}

/* ---- settings ------------------------------------------------------------ */

static const char *const timeout_keys[] = {"client_header", "client_idle", "client_body",
                                           "connect",       "backend",     "drain",
                                           "tunnel"};
static const char *const limit_keys[] = {"header_size", "header_count", "uri_length",
                                         "body_size",   "connections",  "memory"};

/* The runtime reads a request head into one buffer of this size
 * (runtime/buf.h RP_BUF_SIZE), and keeps this many header fields at most
 * (RP_HTTP1_MAX_HEADERS). */
#define CHECK_HEAD_MAX (16 * 1024)
#define CHECK_HEADERS_MAX 100

static void check_ip_set(struct check *c, struct ast_expr *e);
static bool check_cidr(struct check *c, const struct ast_arg *x, struct rp_ip_range *out);

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

static void check_settings(struct check *c)
{
    struct ast_settings *set = &c->prog->set;
    const struct ast_setting *seen_fwd[2] = {0};
    c->prog->fwd_send = RP_FWD_DEFAULT;
    c->prog->fwd_trusted_set = UINT32_MAX;
    const struct ast_setting *seen_workers = NULL;
    const struct ast_setting *seen_t[7] = {0}, *seen_l[6] = {0};
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
        size_t n_keys = timeouts ? 7 : 6;
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
                 timeouts ? "DURATION" : k == 1 || k == 4 ? "N" : "SIZE");
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
        case 5:
            /* At least a few buffers per worker, or nothing could be served. */
            if (check_size(c, a, "memory", UINT64_C(1) << 50, &v)) {
                if (v < (UINT64_C(1) << 20))
                    diag_error(c->diag, a->tok,
                               "memory %.*s is too small: the proxy needs at least 1m of "
                               "buffers (32k each, up to 4 per request in flight)",
                               arg_len(a), text_at(c, a->tok));
                else
                    set->memory = v;
            }
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
    static const char *const opts[] = {"max_conns", "proxy_protocol", "tcp", "tls"};
    const struct ast_arg *tls = NULL;
    for (const struct ast_arg *a = l->opts; a; a = a->next) {
        if (a->kind != AST_ARG_WORD) {
            diag_error(c->diag, a->tok, "unexpected '%.*s': the form is 'listen ADDRESS "
                       "[max_conns N] [proxy_protocol] [tcp proxy BACKEND] [tls { ... }]'",
                       arg_len(a), text_at(c, a->tok));
            return;
        }
        int k = word_index(c, a->tok, opts, 4);
        if (k < 0) {
            check_unknown(c, a->tok, "listen option", opts, 4);
            return;
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
            const char *t = text_at(c, v->tok);
            if (v->kind == AST_ARG_INT) {
                if (!check_int(c, v, "expected status", 100, 599, &lo)) {
                    ok = false;
                    break;
                }
                hi = lo;
            } else if (v->kind == AST_ARG_RANGE) {
                const char *dots = memchr(t, '.', v->tok.len);
                size_t n1 = (size_t)(dots - t);
                if (!parse_uint(t, n1, 599, &lo) || lo < 100 ||
                    !parse_uint(dots + 2, v->tok.len - n1 - 2, 599, &hi) || hi < 100) {
                    diag_error(c->diag, v->tok, "status range %.*s is out of range (100..599)",
                               arg_len(v), t);
                    ok = false;
                    break;
                }
                if (lo > hi) {
                    diag_error(c->diag, v->tok, "status range %.*s is empty", arg_len(v), t);
                    ok = false;
                    break;
                }
            } else {
                diag_error(c->diag, v->tok, "expect takes a status or a range, e.g. 200..399");
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
        return;
    }
    if (k == 5) { /* `server` with a malformed address got here as a word */
        diag_error(c->diag, st->kw, "the form is 'server NAME ADDRESS [OPTIONS]'");
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
                                       "proxy_protocol", "tls"};
    const struct ast_arg *seen[6] = {0};
    for (const struct ast_arg *a = s->opts; a; a = a->next) {
        if (a->kind != AST_ARG_WORD) {
            diag_error(c->diag, a->tok, "unexpected '%.*s': server options are weight N, backup, "
                                        "max_conns N, slow_start DURATION, proxy_protocol v1|v2 "
                                        "and tls [{ ... }]",
                       arg_len(a), text_at(c, a->tok));
            return;
        }
        int k = word_index(c, a->tok, opts, 6);
        if (k < 0) {
            check_unknown(c, a->tok, "server option", opts, 6);
            return;
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
    }
    if (!any_primary)
        diag_error(c->diag, b->name,
                   "every server of backend '%.*s' is a backup: backups serve only when a "
                   "primary server is down, so it would never serve",
                   (int)b->name.len, text_at(c, b->name));
}

/* `listen ... tcp proxy NAME`: the backend, once backends are known. */
static void check_tcp_listeners(struct check *c, const struct names *backends)
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
    return r->match.len ? span_join(r->kw, r->match) : r->kw;
}

/* The source span of decoded bytes [off, off+len) of a string token (escapes
 * take two source bytes for one). */
struct span string_sub(const struct check *c, struct span tok, size_t off, size_t len)
{
    const char *t = text_at(c, tok);
    size_t i = 1, d = 0, s_off = 1, s_end = tok.len > 1 ? tok.len - 1 : tok.len;
    bool have_start = false;
    while (i < tok.len - 1) {
        if (d == off && !have_start) {
            s_off = i;
            have_start = true;
        }
        if (d == off + len) {
            s_end = i;
            break;
        }
        i += t[i] == '\\' ? 2 : 1;
        d++;
    }
    if (!have_start)
        s_off = i < tok.len ? i : tok.len - 1;
    if (s_end < s_off)
        s_end = s_off;
    struct span r = {tok.off + (uint32_t)s_off, (uint32_t)(s_end - s_off)};
    if (r.len == 0)
        r.len = 1;
    return r;
}

/* Compiles a regex written as a string argument; reports errors under the
 * offending part of the string. Returns its number, or UINT32_MAX. */
uint32_t check_regex(struct check *c, struct span tok, const char *pat, size_t len,
                     uint32_t *n_caps)
{
    const char *err;
    size_t eo, el;
    struct regex_prog *re = regex_compile(c->arena, pat, len, &err, &eo, &el);
    if (!re) {
        diag_error(c->diag, string_sub(c, tok, eo, el), "invalid regular expression: %s", err);
        return UINT32_MAX;
    }
    struct ast_program *p = c->prog;
    p->regexes = arena_grow(c->arena, p->regexes, p->n_regexes, p->n_regexes + 1,
                            sizeof *p->regexes);
    p->regexes[p->n_regexes] = re;
    if (n_caps)
        *n_caps = re->n_caps;
    return p->n_regexes++;
}

/* ---- expressions ------------------------------------------------------------ */

static const char *const subject_names[] = {"client.ip",  "req.method", "req.host",  "req.path",
                                            "req.query",  "req.header", "req.cookie"};

static struct ast_acl *acl_lookup(const struct check *c, struct span name)
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

static const char *arg_kind_name(enum ast_arg_kind k)
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

/* Parses an IP or CIDR argument into an inclusive range; reports errors. */
static bool check_cidr(struct check *c, const struct ast_arg *x, struct rp_ip_range *out)
{
    char buf[64];
    const char *t = text_at(c, x->tok);
    if (x->tok.len >= sizeof buf) {
        diag_error(c->diag, x->tok, "invalid address '%.*s'", arg_len(x), t);
        return false;
    }
    memcpy(buf, t, x->tok.len);
    buf[x->tok.len] = '\0';
    uint32_t bits = 128;
    char *slash = strchr(buf, '/');
    if (slash) {
        *slash = '\0';
        if (!parse_uint(slash + 1, strlen(slash + 1), 128, &bits)) {
            diag_error(c->diag, x->tok, "invalid prefix length in '%.*s'", arg_len(x), t);
            return false;
        }
    }
    uint8_t a[16] = {0};
    unsigned char v4[4];
    if (inet_pton(AF_INET, buf, v4) == 1) {
        if (slash && bits > 32) {
            diag_error(c->diag, x->tok, "an IPv4 prefix length is at most 32");
            return false;
        }
        a[10] = a[11] = 0xff;
        memcpy(a + 12, v4, 4);
        bits = slash ? bits + 96 : 128;
    } else if (inet_pton(AF_INET6, buf, a) != 1) {
        diag_error(c->diag, x->tok, "invalid IP address '%s'", buf);
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
        diag_error(c->diag, x->tok, "'%.*s' has bits set past its prefix length", arg_len(x), t);
        return false;
    }
    memcpy(out->lo, lo, 16);
    memcpy(out->hi, hi, 16);
    return true;
}

static void check_expr(struct check *c, struct ast_expr *e);

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
static void check_ip_set(struct check *c, struct ast_expr *e)
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
    if (r->kind != AST_ARG_LIST) {
        diag_error(c->diag, r->tok, "expected a list of addresses and CIDRs, not %s",
                   arg_kind_name(r->kind));
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

static void check_expr(struct check *c, struct ast_expr *e)
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

static void check_acls(struct check *c)
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

/* ---- routes -------------------------------------------------------------- */

/* The routes that always answer, indexed by (host matcher, path matcher):
 * instead of comparing a route with every earlier one (quadratic in the
 * number of routes), the shadow check looks up each host and path matcher
 * that would cover it, a number that depends on the lengths of its host and
 * path only. The first route stored under a key is the earliest. */
struct shadow_index {
    struct names by_key;
    struct buf key; /* scratch */
};

static void shadow_key(struct buf *k, enum ast_host_kind hk, const char *h, size_t hl,
                       enum ast_path_kind pk, const char *p, size_t pl)
{
    uint32_t n = (uint32_t)hl;
    k->len = 0;
    buf_putc(k, (char)('0' + hk));
    buf_append(k, &n, sizeof n);
    buf_append(k, h, hl);
    buf_putc(k, (char)('0' + pk));
    buf_append(k, p, pl);
}

static void shadow_add(struct check *c, struct shadow_index *x, const struct ast_route *e)
{
    if (e->bad || e->is_default || !e->always || e->path_kind == AST_PATH_REGEX)
        return;
    shadow_key(&x->key, e->host_kind, e->host, e->host_len, e->path_kind, e->path, e->path_len);
    if (names_get(&x->by_key, x->key.data, x->key.len))
        return;
    char *k = arena_alloc(c->arena, x->key.len);
    memcpy(k, x->key.data, x->key.len);
    names_put(&x->by_key, k, x->key.len, (void *)e);
}

/* The earliest route stored under (hk, h, pk, p), if earlier than best. */
static const struct ast_route *shadow_find(struct shadow_index *x, const struct ast_route *best,
                                           enum ast_host_kind hk, const char *h, size_t hl,
                                           enum ast_path_kind pk, const char *p, size_t pl)
{
    shadow_key(&x->key, hk, h, hl, pk, p, pl);
    const struct ast_route *e = names_get(&x->by_key, x->key.data, x->key.len);
    return e && (!best || e->index < best->index) ? e : best;
}

/* The earliest route whose path matchers (with the host matcher given)
 * cover every path r matches. */
static const struct ast_route *shadow_paths(struct shadow_index *x, const struct ast_route *best,
                                            const struct ast_route *r, enum ast_host_kind hk,
                                            const char *h, size_t hl)
{
    best = shadow_find(x, best, hk, h, hl, AST_PATH_ANY, "", 0);
    if (r->path_kind == AST_PATH_PREFIX || r->path_kind == AST_PATH_EXACT) {
        for (size_t n = 1; n <= r->path_len; n++)
            best = shadow_find(x, best, hk, h, hl, AST_PATH_PREFIX, r->path, n);
        if (r->path_kind == AST_PATH_EXACT)
            best = shadow_find(x, best, hk, h, hl, AST_PATH_EXACT, r->path, r->path_len);
    } else {
        /* every request path starts with '/' */
        best = shadow_find(x, best, hk, h, hl, AST_PATH_PREFIX, "/", 1);
    }
    return best;
}

/* Returns the first earlier route that answers every request r would match. */
static const struct ast_route *check_shadowed_by(struct shadow_index *x, const struct ast_route *r)
{
    if (r->bad || r->is_default)
        return NULL;
    const struct ast_route *best = shadow_paths(x, NULL, r, AST_HOST_ANY, "", 0);
    if (r->host_kind == AST_HOST_EXACT) {
        best = shadow_paths(x, best, r, AST_HOST_EXACT, r->host, r->host_len);
        /* *.S covers a.S: S is a suffix from a dot with a label before it */
        for (size_t i = 1; i < r->host_len; i++)
            if (r->host[i] == '.')
                best = shadow_paths(x, best, r, AST_HOST_WILD, r->host + i, r->host_len - i);
    } else if (r->host_kind == AST_HOST_WILD) {
        for (size_t i = 0; i < r->host_len; i++)
            if (r->host[i] == '.')
                best = shadow_paths(x, best, r, AST_HOST_WILD, r->host + i, r->host_len - i);
    }
    return best;
}

static void check_status(struct check *c, struct ast_action *a)
{
    if (a->status_bad)
        return;
    const char *t = text_at(c, a->status_tok);
    int n = (int)a->status_tok.len;
    switch (a->kind) {
    case AST_ACTION_RESPOND:
        if (a->status < 100 || a->status > 599)
            diag_error(c->diag, a->status_tok, "status %.*s is out of range (100..599)", n, t);
        else if (a->status < 200)
            diag_error(c->diag, a->status_tok,
                       "respond cannot send an informational (1xx) status; use 200..599");
        else if ((a->status == 204 || a->status == 304) && a->has_body)
            diag_error(c->diag, a->body_tok, "a %u response cannot have a body", a->status);
        break;
    case AST_ACTION_DENY:
        if (a->status < 400 || a->status > 599)
            diag_error(c->diag, a->status_tok, "deny takes an error status (400..599), not %.*s",
                       n, t);
        break;
    case AST_ACTION_REDIRECT:
        if (a->status != 301 && a->status != 302 && a->status != 303 && a->status != 307 &&
            a->status != 308)
            diag_error(c->diag, a->status_tok,
                       "a redirect status is 301, 302, 303, 307 or 308, not %.*s", n, t);
        break;
    default:
        break;
    }
}

/* Splits a redirect location into text, $N captures and ${value}s. */
static void check_location(struct check *c, struct ast_route *r, struct ast_action *a)
{
    const char *s = a->body;
    size_t n = a->body_len, i = 0, lit = 0;
    struct ast_piece **tail = &a->location;
    /* The request's query goes on to the new location (as nginx's rewrite
     * does) unless the location places it (${req.query}, ${req.uri}), has a
     * query of its own ('?'), or ends in a '?' that says to drop it. */
    bool query_written = memchr(s, '?', n) != NULL;
    if (n > 1 && s[n - 1] == '?')
        n--;
    if (n == 0) {
        diag_error(c->diag, a->body_tok, "a redirect needs a location");
        return;
    }
    for (size_t k = 0; k < n; k++)
        if ((unsigned char)s[k] < 0x21 || s[k] == 0x7f) {
            diag_error(c->diag, string_sub(c, a->body_tok, k, 1),
                       "a location cannot hold spaces or control characters");
            return;
        }
#define FLUSH(end)                                                                                 \
    do {                                                                                           \
        if ((end) > lit) {                                                                         \
            struct ast_piece *pc = arena_alloc(c->arena, sizeof *pc);                              \
            pc->text = s + lit;                                                                    \
            pc->len = (end) - lit;                                                                 \
            *tail = pc;                                                                            \
            tail = &pc->next;                                                                      \
        }                                                                                          \
    } while (0)
    while (i < n) {
        if (s[i] != '$') {
            i++;
            continue;
        }
        FLUSH(i);
        if (i + 1 < n && s[i + 1] == '$') { /* $$: a dollar */
            lit = i + 1;
            i += 2;
            continue;
        }
        struct ast_piece *pc = arena_alloc(c->arena, sizeof *pc);
        if (i + 1 < n && s[i + 1] >= '0' && s[i + 1] <= '9') {
            pc->capture = (uint32_t)(s[i + 1] - '0');
            if (r->path_kind != AST_PATH_REGEX)
                diag_error(c->diag, string_sub(c, a->body_tok, i, 2),
                           "$%u needs a 'path ~ \"regex\"' matcher on the route", pc->capture);
            else if (pc->capture > r->n_caps)
                diag_error(c->diag, string_sub(c, a->body_tok, i, 2),
                           "$%u: the path regex has %u group%s", pc->capture, r->n_caps,
                           r->n_caps == 1 ? "" : "s");
            i += 2;
        } else if (i + 1 < n && s[i + 1] == '{') {
            const char *close = memchr(s + i, '}', n - i);
            if (!close) {
                diag_error(c->diag, string_sub(c, a->body_tok, i, 2), "'${' without '}'");
                return;
            }
            size_t end = (size_t)(close - s) + 1;
            static const char *const vals[] = {"req.host", "req.path", "req.method",
                                               "req.query", "req.uri"};
            static const enum ast_subject subj[] = {AST_SUBJ_HOST, AST_SUBJ_PATH,
                                                    AST_SUBJ_METHOD, AST_SUBJ_QUERY_ALL,
                                                    AST_SUBJ_PATH};
            const char *name = s + i + 2;
            size_t name_len = end - i - 3;
            int k;
            for (k = 0; k < 5; k++)
                if (strlen(vals[k]) == name_len && memcmp(vals[k], name, name_len) == 0)
                    break;
            if (k < 5) {
                pc->subj = subj[k];
                query_written |= k >= 3;
                if (k == 4) { /* ${req.uri}: the path, then "?query" when there is one */
                    struct ast_piece *q = arena_alloc(c->arena, sizeof *q);
                    q->subj = AST_SUBJ_QUERY_SUFFIX;
                    pc->next = q;
                    *tail = pc;
                    tail = &q->next;
                    i = end;
                    lit = i;
                    continue;
                }
            } else if (name_len > 12 && memcmp(name, "req.query[\"", 11) == 0 &&
                       name[name_len - 1] == ']' && name[name_len - 2] == '"') {
                pc->subj = AST_SUBJ_QUERY;
                pc->key = name + 11;
                pc->key_len = name_len - 13;
            } else {
                diag_error(c->diag, string_sub(c, a->body_tok, i, end - i),
                           "unknown value in '${...}' (known here: ${req.host}, ${req.path}, "
                           "${req.method}, ${req.query}, ${req.uri}, ${req.query[\"k\"]})");
            }
            i = end;
        } else {
            diag_error(c->diag, string_sub(c, a->body_tok, i, 1),
                       "'$' starts $1..$9 or ${value}; write $$ for a dollar sign");
            i++;
        }
        *tail = pc;
        tail = &pc->next;
        lit = i;
    }
    FLUSH(n);
#undef FLUSH
    if (!query_written) {
        struct ast_piece *q = arena_alloc(c->arena, sizeof *q);
        q->subj = AST_SUBJ_QUERY_SUFFIX;
        *tail = q;
    }
}

static void check_compress(struct check *c, struct ast_route *r, bool has_proxy);

static void check_route_actions(struct check *c, struct ast_route *r, const struct names *backends)
{
    if (r->n_actions == 0) {
        diag_error(c->diag, route_span(r),
                   "route has no action: add 'proxy BACKEND' or 'respond STATUS'");
        return;
    }
    bool has_proxy = false;
    struct ast_action *unguarded = NULL;
    for (struct ast_action *a = r->actions; a; a = a->next) {
        if (unguarded) {
            if (unguarded->guard == NULL && !a->guard && a == unguarded->next &&
                a->kind != AST_ACTION_NONE) {
                diag_error(c->diag, a->kw, "a route takes one action, and this one has two");
                diag_note(c->diag, unguarded->kw, "its first action is here");
            } else {
                diag_error(c->diag, a->kw, "this action can never run");
                diag_note(c->diag, unguarded->kw, "the action before it always answers");
            }
            break;
        }
        if (!a->guard)
            unguarded = a;
        else
            check_expr(c, a->guard);
        if (a->kind == AST_ACTION_PROXY) {
            has_proxy = true;
            const char *name = text_at(c, a->backend_name);
            size_t len = a->backend_name.len;
            a->backend = names_get(backends, name, len);
            if (a->backend) {
                a->backend->used = true;
                continue;
            }
            diag_error(c->diag, a->backend_name, "unknown backend '%.*s'", (int)len, name);
            const char **cands = arena_alloc(c->arena, (c->prog->n_backends + 1) * sizeof *cands);
            struct ast_backend **defs =
                arena_alloc(c->arena, (c->prog->n_backends + 1) * sizeof *defs);
            size_t n = 0;
            for (struct ast_backend *b = c->prog->backends; b; b = b->next) {
                cands[n] = arena_strndup(c->arena, text_at(c, b->name), b->name.len);
                defs[n++] = b;
            }
            int close = diag_closest(name, len, cands, n);
            if (close >= 0)
                diag_note(c->diag, defs[close]->name, "did you mean '%s'?", cands[close]);
            continue;
        }
        check_status(c, a);
        if (a->kind == AST_ACTION_REDIRECT && !a->status_bad)
            check_location(c, r, a);
    }
    if (!unguarded) {
        struct ast_action *last = r->actions;
        while (last->next)
            last = last->next;
        diag_error(c->diag, last->guard_kw,
                   "every action of this route has a condition: when none holds the request "
                   "would get no answer; end the route with an action that has none");
    }
    if (r->tunnel_kw.len && !has_proxy)
        diag_error(c->diag, r->tunnel_kw,
                   "'tunnel' lets a proxied connection be upgraded; this route does not proxy");
    if (r->compress)
        check_compress(c, r, has_proxy);
}

/* ---- compress ------------------------------------------------------------- */

/* What `compress gzip` takes without a `types` statement: text formats and
 * the structured ones sent as text, as CDNs and Caddy compress them. */
static const char *const compress_default_types[] = {
    "text/html", "text/plain", "text/css", "text/javascript", "text/xml", "text/csv",
    "text/markdown", "application/javascript", "application/json", "application/ld+json",
    "application/manifest+json", "application/xml", "application/xhtml+xml",
    "application/rss+xml", "application/atom+xml", "application/wasm", "image/svg+xml",
    "image/x-icon", "font/ttf", "font/otf", "application/vnd.ms-fontobject"};
#define COMPRESS_DEFAULT_LEVEL 5
#define COMPRESS_DEFAULT_MIN 256

static bool media_tchar(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || strchr("!#$&-^_.+", ch);
}

/* A media type for `types`: "type/subtype", or a star for the subtype or both, lower
 * cased; NULL (reported) when malformed. */
static const char *check_media_type(struct check *c, const struct ast_arg *a)
{
    if (a->kind != AST_ARG_STRING) {
        diag_error(c->diag, a->tok, "a media type is a string such as \"text/html\", not '%.*s'",
                   arg_len(a), text_at(c, a->tok));
        return NULL;
    }
    char *t = arena_strndup(c->arena, a->str, a->str_len);
    for (size_t i = 0; t[i]; i++)
        if (t[i] >= 'A' && t[i] <= 'Z')
            t[i] = (char)(t[i] + 32);
    if (strchr(t, ';')) {
        diag_error(c->diag, a->tok, "a media type here takes no parameters: responses are "
                   "matched on type/subtype alone");
        return NULL;
    }
    const char *slash = strchr(t, '/');
    bool ok = slash && slash > t && slash[1];
    bool star_sub = ok && strcmp(slash + 1, "*") == 0;
    bool star_all = strcmp(t, "*/*") == 0;
    for (const char *p = t; ok && *p && !star_all; p++) {
        if (p == slash || (star_sub && p == slash + 1))
            continue;
        ok = media_tchar(*p);
    }
    if (!ok) {
        diag_error(c->diag, a->tok, "%.*s is not a media type: the form is \"type/subtype\" or "
                   "\"type/*\"", arg_len(a), text_at(c, a->tok));
        return NULL;
    }
    return t;
}

static void check_compress(struct check *c, struct ast_route *r, bool has_proxy)
{
    struct ast_compress *cp = r->compress;
    if (r->dup_compress.len) {
        diag_error(c->diag, r->dup_compress, "route already has a 'compress' statement");
        diag_note(c->diag, cp->kw, "the first one is here");
    }
    if (!has_proxy)
        diag_error(c->diag, cp->kw, "'compress' compresses what a backend answers; this route "
                   "does not proxy");
    static const char *const codings[] = {"gzip", "br"};
    static const char *const later[] = {"zstd", "deflate"};
    if (!cp->codings)
        diag_error(c->diag, cp->kw, "'compress' needs a coding: the form is 'compress gzip "
                   "[br] [{ types [...]; min SIZE; level N }]'");
    for (const struct ast_arg *a = cp->codings; a; a = a->next) {
        if (a->kind != AST_ARG_WORD) {
            diag_error(c->diag, a->tok, "a coding is a name such as gzip, not '%.*s'",
                       arg_len(a), text_at(c, a->tok));
            continue;
        }
        if (word_index(c, a->tok, later, 2) >= 0) {
            diag_error(c->diag, a->tok, "rpx does not compress with '%.*s' yet; it knows gzip "
                       "and br", arg_len(a), text_at(c, a->tok));
            continue;
        }
        int k = word_index(c, a->tok, codings, 2);
        if (k < 0) {
            check_unknown(c, a->tok, "coding", codings, 2);
            continue;
        }
        uint32_t bit = k == 0 ? RP_CODING_GZIP : RP_CODING_BR;
        if (cp->coding_bits & bit)
            diag_error(c->diag, a->tok, "%s is already named", codings[k]);
        cp->coding_bits |= bit;
    }
    static const char *const keys[] = {"types", "min", "level"};
    const struct ast_stmt *seen[3] = {0};
    cp->level = COMPRESS_DEFAULT_LEVEL;
    cp->min_length = COMPRESS_DEFAULT_MIN;
    for (const struct ast_stmt *st = cp->stmts; st; st = st->next) {
        int k = word_index(c, st->kw, keys, 3);
        if (k < 0) {
            check_unknown(c, st->kw, "compress setting", keys, 3);
            continue;
        }
        if (seen[k]) {
            diag_error(c->diag, st->kw, "'%s' is already set", keys[k]);
            diag_note(c->diag, seen[k]->kw, "set here");
            continue;
        }
        seen[k] = st;
        static const char *const usage[] = {"types [\"text/html\", ...]", "min SIZE", "level N"};
        if (!check_nargs(c, st->kw, st->args, 1, usage[k]))
            continue;
        const struct ast_arg *a = st->args;
        if (k == 1) {
            uint64_t v;
            if (check_quantity(c, a, "min", size_units, 3, false, "1k", UINT64_C(1) << 40, &v))
                cp->min_length = v;
        } else if (k == 2) {
            check_int(c, a, "level", 1, 9, &cp->level);
        } else if (a->kind != AST_ARG_LIST) {
            diag_error(c->diag, a->tok, "types is a list of media types, e.g. [\"text/html\", "
                       "\"application/json\"]");
        } else {
            uint32_t n = 0;
            for (const struct ast_arg *t = a->sub; t; t = t->next)
                n++;
            if (n == 0)
                diag_error(c->diag, a->tok, "an empty types list would compress nothing; remove "
                           "'compress' instead");
            cp->types = arena_alloc(c->arena, (n ? n : 1) * sizeof *cp->types);
            for (const struct ast_arg *t = a->sub; t; t = t->next) {
                const char *mt = check_media_type(c, t);
                if (mt)
                    cp->types[cp->n_types++] = mt;
            }
        }
    }
    if (!seen[0]) {
        cp->n_types = sizeof compress_default_types / sizeof compress_default_types[0];
        cp->types = (const char **)compress_default_types;
    }
}

/* Checks host, path, method and if matchers, and sets conditional/always. */
static void check_matchers(struct check *c, struct ast_route *r)
{
    if (r->dup_matcher.len) {
        diag_error(c->diag, r->dup_matcher, "route already has a '%.*s' matcher",
                   (int)r->dup_matcher.len, text_at(c, r->dup_matcher));
        diag_note(c->diag, r->dup_first, "the first one is here");
    }
    if (r->is_default && (r->path_kw.len || r->host_kw.len || r->method_kw.len || r->if_kw.len))
        diag_error(c->diag, route_span(r),
                   "'default' matches every request: it takes no other matcher");
    if (r->bad)
        return;
    if ((r->path_kind == AST_PATH_PREFIX || r->path_kind == AST_PATH_EXACT) &&
        (r->path_len == 0 || r->path[0] != '/'))
        diag_error(c->diag, r->path_tok, "a path must start with '/'");
    if (r->path_kind == AST_PATH_REGEX)
        r->regex_id = check_regex(c, r->path_tok, r->path, r->path_len, &r->n_caps);
    if (r->host_kind == AST_HOST_EXACT) {
        char *h = arena_strndup(c->arena, r->host, r->host_len);
        bool ok = r->host_len > 0;
        for (size_t i = 0; i < r->host_len; i++) {
            char ch = h[i];
            if (ch >= 'A' && ch <= 'Z')
                h[i] = (char)(ch + 32);
            else if (ch == '*' && i == 0 && r->host_len > 2 && h[1] == '.')
                continue;
            else if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
                       ch == '.'))
                ok = false;
        }
        if (!ok) {
            diag_error(c->diag, r->host_tok,
                       "a host is a name such as \"example.com\" or \"*.example.com\" (no port, "
                       "no scheme)");
            r->bad = true;
        } else if (h[0] == '*') {
            r->host_kind = AST_HOST_WILD;
            r->host = h + 1;
            r->host_len--;
        } else {
            r->host = h;
        }
    }
    if (r->methods) {
        const struct ast_arg *m = r->methods;
        const struct ast_arg *one = m->kind == AST_ARG_LIST ? m->sub : m;
        if (m->kind == AST_ARG_LIST && !m->sub)
            diag_error(c->diag, m->tok, "the list of methods is empty");
        for (const struct ast_arg *x = one; x; x = m->kind == AST_ARG_LIST ? x->next : NULL) {
            if (x->kind != AST_ARG_WORD) {
                diag_error(c->diag, x->tok, "expected a method such as GET, not %s",
                           arg_kind_name(x->kind));
                continue;
            }
            const char *t = text_at(c, x->tok);
            bool upper = true;
            for (size_t i = 0; i < x->tok.len; i++)
                upper &= (t[i] >= 'A' && t[i] <= 'Z') || t[i] == '-' || t[i] == '_';
            if (!upper)
                diag_error(c->diag, x->tok, "methods are upper case: '%.*s'", arg_len(x), t);
            /* TRACE reflects a request back (cookies and all): the proxy
             * refuses it unless a route names it. */
            if (x->tok.len == 5 && memcmp(t, "TRACE", 5) == 0)
                c->prog->allow_trace = true;
        }
    }
    if (r->cond)
        check_expr(c, r->cond);
    r->conditional = r->methods || r->cond || r->path_kind == AST_PATH_REGEX;
}

static void check_routes(struct check *c, const struct names *backends)
{
    const struct ast_route *dflt = NULL;
    struct shadow_index shadow = {0};
    names_init(&shadow.by_key, c->arena, c->prog->n_routes);
    for (struct ast_route *r = c->prog->routes; r; r = r->next) {
        check_matchers(c, r);
        check_route_actions(c, r, backends);
        struct ast_action *last = r->actions;
        while (last && last->next)
            last = last->next;
        bool unguarded_end = false;
        for (struct ast_action *a = r->actions; a; a = a->next)
            unguarded_end |= a->guard == NULL;
        r->always = !r->conditional && unguarded_end;
        if (dflt) {
            if (r->is_default) {
                diag_error(c->diag, route_span(r), "duplicate 'route default'");
                diag_note(c->diag, route_span(dflt), "the first 'route default' is here");
            } else {
                diag_error(c->diag, route_span(r),
                           "route after 'route default' can never match");
                diag_note(c->diag, route_span(dflt), "'route default' matches every request");
            }
            continue;
        }
        if (r->is_default)
            dflt = r;
        const struct ast_route *by = check_shadowed_by(&shadow, r);
        shadow_add(c, &shadow, r);
        if (!by)
            continue;
        bool same = by->path_kind == r->path_kind && by->path_len == r->path_len &&
                    by->host_kind == r->host_kind && by->host_len == r->host_len &&
                    !r->conditional;
        if (c->opts && c->opts->allow_shadowed)
            diag_warning(c->diag, route_span(r), "route '%s' can never match", r->label);
        else if (same)
            diag_error(c->diag, route_span(r), "duplicate route '%s' can never match", r->label);
        else
            diag_error(c->diag, route_span(r), "route '%s' can never match", r->label);
        if (same)
            diag_note(c->diag, route_span(by), "the same path is routed here first");
        else
            diag_note(c->diag, route_span(by),
                      "every request it matches is taken first by this route");
    }
    buf_free(&shadow.key);
}

/* ---- tests ----------------------------------------------------------------- */

static void check_tests(struct check *c, const struct names *backends)
{
    static const char *const expects[] = {"status", "proxy", "location"};
    for (struct ast_test *t = c->prog->tests; t; t = t->next) {
        if (t->extra_req.len) {
            diag_error(c->diag, t->extra_req, "a test sends one request");
        }
        if (!t->req_kw.len) {
            diag_error(c->diag, t->kw, "test '%s' has no request: add 'request GET \"/path\"'",
                       t->name);
            continue;
        }
        const char *m = text_at(c, t->method);
        for (size_t i = 0; i < t->method.len; i++)
            if (!(m[i] >= 'A' && m[i] <= 'Z')) {
                diag_error(c->diag, t->method, "methods are upper case: '%.*s'",
                           (int)t->method.len, m);
                break;
            }
        const char *u = t->url;
        if (!(strncmp(u, "http://", 7) == 0 && u[7] && u[7] != '/' && strchr(u + 7, '/')) &&
            u[0] != '/')
            diag_error(c->diag, t->url_tok,
                       "a test URL is \"http://host/path\" or \"/path\" (then give a Host "
                       "header)");
        for (size_t i = 0; u[i]; i++)
            if ((unsigned char)u[i] <= 0x20 || u[i] == 0x7f) {
                diag_error(c->diag, t->url_tok, "a URL cannot hold spaces or control characters");
                break;
            }
        for (const struct ast_arg *a = t->req_args; a; a = a->next) {
            const struct ast_arg *v = a->next;
            if (a->kind == AST_ARG_WORD && word_is(c, a->tok, "from") && v &&
                v->kind == AST_ARG_IP) {
                struct rp_ip_range rg;
                if (check_cidr(c, v, &rg))
                    t->from = arena_strndup(c->arena, text_at(c, v->tok), v->tok.len);
                a = v;
            } else if (a->kind == AST_ARG_WORD && word_is(c, a->tok, "header") && v &&
                       v->kind == AST_ARG_STRING) {
                const char *colon = memchr(v->str, ':', v->str_len);
                if (!colon || colon == v->str || memchr(v->str, '\n', v->str_len) ||
                    memchr(v->str, '\r', v->str_len) || strlen(v->str) != v->str_len)
                    diag_error(c->diag, v->tok, "a test header is \"Name: value\"");
                a = v;
            } else {
                diag_error(c->diag, a->tok,
                           "unexpected '%.*s': a request takes 'from IP' and 'header \"Name: "
                           "value\"'",
                           arg_len(a), text_at(c, a->tok));
                break;
            }
        }
        if (!t->expects)
            diag_error(c->diag, t->kw, "test '%s' expects nothing: add 'expect status 200' or "
                                       "'expect proxy BACKEND'",
                       t->name);
        for (struct ast_stmt *st = t->expects; st; st = st->next) {
            const struct ast_arg *a = st->args;
            if (!a || a->kind != AST_ARG_WORD) {
                diag_error(c->diag, st->kw,
                           "expect what? 'expect status N', 'expect proxy BACKEND' or 'expect "
                           "location \"URL\"'");
                continue;
            }
            int k = word_index(c, a->tok, expects, 3);
            if (k < 0) {
                check_unknown(c, a->tok, "expectation", expects, 3);
                continue;
            }
            const struct ast_arg *v = a->next;
            if (!v || v->next) {
                diag_error(c->diag, v ? v->next->tok : a->tok, "'expect %s' takes one value",
                           expects[k]);
                continue;
            }
            uint32_t status;
            if (k == 0) {
                check_int(c, v, "status", 100, 599, &status);
            } else if (k == 1) {
                if (v->kind != AST_ARG_WORD) {
                    diag_error(c->diag, v->tok, "expected a backend name");
                } else if (!names_get(backends, text_at(c, v->tok), v->tok.len)) {
                    diag_error(c->diag, v->tok, "unknown backend '%.*s'", arg_len(v),
                               text_at(c, v->tok));
                }
            } else if (v->kind != AST_ARG_STRING) {
                diag_error(c->diag, v->tok, "expected a location string");
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
    check_tcp_listeners(&c, &backends);
    check_routes(&c, &backends);
    check_tls_hosts(&c);
    check_header_stmts(&c);
    check_answer_files(&c);
    check_tests(&c, &backends);
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
