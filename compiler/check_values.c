/* check_values.c: the values statements hold: addresses, quantities with
 * units (durations, sizes), integers, argument counts, regexes written as
 * strings, and the "did you mean" for unknown words. */
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

/* ---- addresses ---------------------------------------------------------- */

/* Parses `[host]:port`, `host:port` or `:port` into a. need_host: a server
 * must say where it is; a listener without a host binds every address. */
void check_addr(struct check *c, struct ast_addr *a, bool need_host)
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

bool addr_same(const struct ast_addr *x, const struct ast_addr *y)
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

bool word_is(const struct check *c, struct span s, const char *w)
{
    return strlen(w) == s.len && memcmp(text_at(c, s), w, s.len) == 0;
}

bool arg_is_word(const struct check *c, const struct ast_arg *a, const char *w)
{
    return a && a->kind == AST_ARG_WORD && a->tok.len == strlen(w) &&
           memcmp(text_at(c, a->tok), w, a->tok.len) == 0;
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
bool check_duration(struct check *c, const struct ast_arg *a, const char *what, uint32_t *ms)
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

/* A size that may be zero (a threshold such as compress's min), up to 1 TB. */
bool check_size_or_zero(struct check *c, const struct ast_arg *a, const char *what,
                        uint64_t *bytes)
{
    return check_quantity(c, a, what, size_units, 3, false, "1k", UINT64_C(1) << 40, bytes);
}

bool check_size(struct check *c, const struct ast_arg *a, const char *what, uint64_t max,
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

bool check_status_range(struct check *c, const struct ast_arg *a, const char *what, uint32_t *lo,
                        uint32_t *hi)
{
    if (a->bad)
        return false;
    const char *t = text_at(c, a->tok);
    if (a->kind == AST_ARG_INT) {
        if (!check_int(c, a, what, 100, 599, lo))
            return false;
        *hi = *lo;
        return true;
    }
    if (a->kind == AST_ARG_QUANTITY && a->tok.len == 3 && t[1] == 'x' && t[2] == 'x') {
        *lo = (uint32_t)(t[0] - '0') * 100; /* the lexer let only 1xx..5xx through */
        *hi = *lo + 99;
        return true;
    }
    if (a->kind == AST_ARG_RANGE) {
        const char *dots = memchr(t, '.', a->tok.len);
        size_t n1 = (size_t)(dots - t);
        if (!parse_uint(t, n1, 599, lo) || *lo < 100 ||
            !parse_uint(dots + 2, a->tok.len - n1 - 2, 599, hi) || *hi < 100) {
            diag_error(c->diag, a->tok, "%s %.*s is out of range (100..599)", what, arg_len(a), t);
            return false;
        }
        if (*lo > *hi) {
            diag_error(c->diag, a->tok, "%s %.*s is empty", what, arg_len(a), t);
            return false;
        }
        return true;
    }
    diag_error(c->diag, a->tok, "%s takes a status, a range or a class: 503, 500..599 or 5xx",
               what);
    return false;
}

bool check_percent(struct check *c, const struct ast_arg *a, const char *what, uint32_t *ppm)
{
    if (a->bad)
        return false;
    const char *t = text_at(c, a->tok);
    size_t n = a->tok.len;
    if (a->kind != AST_ARG_QUANTITY || n < 2 || t[n - 1] != '%') {
        diag_error(c->diag, a->tok, "%s is a percentage, e.g. 10%% or 0.5%%", what);
        return false;
    }
    /* whole part, then up to four decimals: parts per million exactly */
    uint64_t whole = 0, frac = 0;
    size_t i = 0, decimals = 0;
    for (; i < n - 1 && t[i] != '.'; i++)
        whole = whole * 10 + (uint64_t)(t[i] - '0');
    if (i < n - 1)
        for (i++; i < n - 1; i++, decimals++)
            frac = frac * 10 + (uint64_t)(t[i] - '0');
    if (whole > 100 || decimals > 4) {
        diag_error(c->diag, a->tok, "%s %.*s: a percentage is 0.0001%% to 100%%, four decimals "
                   "at most", what, arg_len(a), t);
        return false;
    }
    while (decimals < 4)
        frac *= 10, decimals++;
    uint64_t v = whole * 10000 + frac;
    if (v == 0 || v > 1000000) {
        diag_error(c->diag, a->tok, "%s %.*s: a percentage is 0.0001%% to 100%%", what,
                   arg_len(a), t);
        return false;
    }
    *ppm = (uint32_t)v;
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
