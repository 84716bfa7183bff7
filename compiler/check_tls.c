/* check_tls.c: `listen ADDR tls { ... }`.
 *
 *   cert "C" key "K" [ocsp "O"]   a pair; several, picked by SNI (the first
 *                                 is the default); RSA and ECDSA side by side
 *   protocols tls1.2 tls1.3       the versions (TLS 1.0 and 1.1 are refused)
 *   ciphers "..."                 TLS 1.2 suites, OpenSSL syntax
 *   curves "X25519:P-256"         key exchange groups
 *   alpn h2 http/1.1              protocols offered by ALPN
 *   client_ca "CA" [verify optional|required]
 *   tickets rotate 1h | tickets file "KEYS" | tickets off
 *   session_cache N|off           TLS 1.2 sessions kept by id
 *   session_timeout 1h            how long a session may be resumed
 *
 * `server NAME ADDR tls [{ ... }]`: TLS to a server, verified by default.
 *
 *   ca "CA.pem"                   the CAs its certificate must chain to
 *                                 (default: the system's)
 *   sni "NAME"                    sent as SNI and checked in its certificate
 *                                 (default: none; the address is checked)
 *   verify required|none
 *   cert "C" key "K"              a client certificate to present
 *
 * Certificate files are read now, as the proxy will read them: a file that
 * is unreadable, a key that does not match, a chain out of order, an expired
 * certificate are errors at the statement; one that expires within 30 days
 * is a warning. The paths are emitted absolute: the proxy reads the files
 * again when it starts and on SIGHUP.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "check_int.h"
#include "diag.h"
#include "rp/program.h"
#include "rp/tls_inspect.h"

#define TLS_WARN_DAYS 30

const char *const tls_fields[] = {
    "sni", "version", "cipher", "alpn", "resumed", "client_cert.subject", "client_cert.issuer",
    "client_cert.serial", "client_cert.fingerprint", "client_cert.san", "client_cert.verified",
};
const size_t n_tls_fields = sizeof tls_fields / sizeof tls_fields[0];

int tls_field_index(const char *s, size_t n)
{
    for (size_t i = 0; i < n_tls_fields; i++)
        if (strlen(tls_fields[i]) == n && memcmp(tls_fields[i], s, n) == 0)
            return (int)i;
    return -1;
}

const char *check_policy_file(struct check *c, const struct ast_arg *a, const char *what,
                              const char **shown_out)
{
    if (!a || a->kind != AST_ARG_STRING) {
        diag_error(c->diag, a ? a->tok : (struct span){0, 0},
                   "%s wants a file name in quotes", what);
        return NULL;
    }
    char full[PATH_MAX], shown[PATH_MAX];
    const char *path = arena_strndup(c->arena, a->str, a->str_len);
    policy_file_path(c, a->tok, path, full, shown, sizeof full);
    char *abs = realpath(full, NULL);
    if (!abs) {
        diag_error(c->diag, a->tok, "cannot read '%s': %s", shown, strerror(errno));
        return NULL;
    }
    const char *out = arena_strndup(c->arena, abs, strlen(abs));
    free(abs);
    if (shown_out)
        *shown_out = arena_strndup(c->arena, shown, strlen(shown));
    return out;
}

static const char *tls_file(struct check *c, const struct ast_arg *a, const char *what)
{
    return check_policy_file(c, a, what, NULL);
}

static void tls_pair(struct check *c, struct ast_tls *t, const struct ast_stmt *st)
{
    const struct ast_arg *a = st->args;
    static const char usage[] = "the form is 'cert \"CERT.pem\" key \"KEY.pem\" [ocsp \"FILE\"]'";
    if (!a || a->kind != AST_ARG_STRING || !arg_is_word(c, a->next, "key") || !a->next->next) {
        diag_error(c->diag, st->kw, "%s", usage);
        return;
    }
    const struct ast_arg *k = a->next->next, *o = k->next;
    if (o && (!arg_is_word(c, o, "ocsp") || !o->next || o->next->next)) {
        diag_error(c->diag, o->tok, "%s", usage);
        return;
    }
    const char *cert_shown = NULL, *key_shown = NULL;
    const char *cert = check_policy_file(c, a, "cert", &cert_shown);
    const char *key = check_policy_file(c, k, "key", &key_shown);
    const char *ocsp = o ? tls_file(c, o->next, "ocsp") : NULL;
    if (!cert || !key || (o && !ocsp))
        return;
    struct rp_tls_cert_info info;
    rp_tls_inspect_pair(cert, key, cert_shown, key_shown, &info);
    if (info.error[0]) {
        diag_error(c->diag, st->kw, "%s", info.error);
        return;
    }
    if (info.chain_error[0])
        diag_error(c->diag, a->tok, "%s", info.chain_error);
    time_t now = time(NULL);
    char when[32];
    struct tm tm;
    gmtime_r(&info.not_after, &tm);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", &tm);
    if (info.not_after <= now) {
        diag_error(c->diag, a->tok, "the certificate expired on %s", when);
    } else if (info.not_after - now < (time_t)TLS_WARN_DAYS * 86400) {
        diag_warning(c->diag, a->tok, "the certificate expires in %lld days (%s)",
                     (long long)((info.not_after - now) / 86400), when);
    }
    if (info.not_before > now) {
        gmtime_r(&info.not_before, &tm);
        strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", &tm);
        diag_warning(c->diag, a->tok, "the certificate is not valid before %s", when);
    }
    if (!info.names[0])
        diag_warning(c->diag, a->tok, "the certificate names no host (no DNS name in its SAN "
                     "nor a CN): only clients without SNI will get it by default");
    struct ast_tls_pair *p = arena_alloc(c->arena, sizeof *p);
    p->at = st->kw;
    p->cert = cert;
    p->key = key;
    p->ocsp = ocsp;
    p->names = arena_strndup(c->arena, info.names, strlen(info.names));
    p->ecdsa = strncmp(info.key_type, "ECDSA", 5) == 0;
    /* Two pairs of one key type for the same names: the second is never
     * chosen. */
    for (const struct ast_tls_pair *q = t->pairs; q; q = q->next)
        if (q->ecdsa == p->ecdsa && p->names[0] && strcmp(q->names, p->names) == 0) {
            diag_warning(c->diag, st->kw, "this pair has the same names and key type as an "
                         "earlier one: it is never chosen");
            diag_note(c->diag, q->at, "the earlier pair");
            break;
        }
    struct ast_tls_pair **tail = &t->pairs;
    while (*tail)
        tail = &(*tail)->next;
    *tail = p;
    t->n_pairs++;
}

static void tls_protocols(struct check *c, struct ast_tls *t, const struct ast_stmt *st)
{
    static const char *const names[] = {"tls1.2", "tls1.3"};
    unsigned seen = 0;
    for (const struct ast_arg *a = st->args; a; a = a->next) {
        int k = a->kind == AST_ARG_WORD ? word_index(c, a->tok, names, 2) : -1;
        if (k < 0) {
            if (arg_is_word(c, a, "tls1.0") || arg_is_word(c, a, "tls1.1") ||
                arg_is_word(c, a, "ssl3") || arg_is_word(c, a, "tls1"))
                diag_error(c->diag, a->tok, "%.*s is not offered: TLS 1.0 and 1.1 are "
                           "deprecated (RFC 8996), SSL is broken", arg_len(a), text_at(c, a->tok));
            else
                check_unknown(c, a->tok, "TLS version", names, 2);
            return;
        }
        seen |= 1u << k;
    }
    if (!seen) {
        diag_error(c->diag, st->kw, "the form is 'protocols tls1.2 tls1.3'");
        return;
    }
    t->min_version = (seen & 1) ? 0x0303 : 0x0304;
    t->max_version = (seen & 2) ? 0x0304 : 0x0303;
}

static const char *tls_string(struct check *c, const struct ast_stmt *st, const char *usage)
{
    if (!st->args || st->args->kind != AST_ARG_STRING || st->args->next) {
        diag_error(c->diag, st->kw, "the form is '%s'", usage);
        return NULL;
    }
    return arena_strndup(c->arena, st->args->str, st->args->str_len);
}

static void tls_alpn(struct check *c, struct ast_tls *t, const struct ast_stmt *st)
{
    t->alpn_len = 0;
    for (const struct ast_arg *a = st->args; a; a = a->next) {
        const char *s = a->kind == AST_ARG_STRING ? a->str : text_at(c, a->tok);
        size_t n = a->kind == AST_ARG_STRING ? a->str_len : a->tok.len;
        if (a->kind != AST_ARG_STRING && a->kind != AST_ARG_WORD) {
            diag_error(c->diag, a->tok, "the form is 'alpn h2 http/1.1'");
            return;
        }
        if (!((n == 2 && memcmp(s, "h2", 2) == 0) || (n == 8 && memcmp(s, "http/1.1", 8) == 0) ||
              (n == 8 && memcmp(s, "http/1.0", 8) == 0))) {
            diag_error(c->diag, a->tok, "unknown ALPN protocol '%.*s' (this listener speaks "
                       "h2, http/1.1 and http/1.0)", (int)n, s);
            return;
        }
        if (t->alpn_len + 1 + n > sizeof t->alpn)
            return;
        t->alpn[t->alpn_len++] = (char)n;
        memcpy(t->alpn + t->alpn_len, s, n);
        t->alpn_len += (uint32_t)n;
    }
    if (!t->alpn_len)
        diag_error(c->diag, st->kw, "the form is 'alpn h2 http/1.1'");
}

static void tls_tickets(struct check *c, struct ast_tls *t, const struct ast_stmt *st)
{
    const struct ast_arg *a = st->args;
    static const char usage[] = "the form is 'tickets rotate DURATION', 'tickets file \"KEYS\"' "
                                "or 'tickets off'";
    if (arg_is_word(c, a, "off") && !a->next) {
        t->ticket_rotate_s = UINT32_MAX;
        return;
    }
    if (arg_is_word(c, a, "rotate") && a->next && !a->next->next) {
        uint32_t ms;
        if (check_duration(c, a->next, "tickets rotate", &ms)) {
            if (ms < 60000)
                diag_error(c->diag, a->next->tok, "tickets rotate wants at least 1m");
            t->ticket_rotate_s = ms / 1000;
        }
        return;
    }
    if (arg_is_word(c, a, "file") && a->next && !a->next->next) {
        t->ticket_key_file = tls_file(c, a->next, "tickets file");
        return;
    }
    diag_error(c->diag, st->kw, "%s", usage);
}

static void tls_stmt(struct check *c, struct ast_tls *t, const struct ast_stmt *st,
                     const struct ast_arg **verify_at)
{
    static const char *const kws[] = {"cert", "protocols", "ciphers", "curves", "alpn",
                                      "client_ca", "verify", "tickets", "session_cache",
                                      "session_timeout"};
    int k = word_index(c, st->kw, kws, sizeof kws / sizeof kws[0]);
    char err[256];
    switch (k) {
    case 0: tls_pair(c, t, st); return;
    case 1: tls_protocols(c, t, st); return;
    case 2:
        if ((t->ciphers = tls_string(c, st, "ciphers \"SUITE:SUITE\"")) &&
            !rp_tls_inspect_ciphers(t->ciphers, err, sizeof err))
            diag_error(c->diag, st->args->tok, "%s", err);
        return;
    case 3:
        if ((t->curves = tls_string(c, st, "curves \"X25519:P-256\"")) &&
            !rp_tls_inspect_curves(t->curves, err, sizeof err))
            diag_error(c->diag, st->args->tok, "%s", err);
        return;
    case 4: tls_alpn(c, t, st); return;
    case 5:
        if (!st->args || st->args->next) {
            diag_error(c->diag, st->kw, "the form is 'client_ca \"CA.pem\"'");
            return;
        }
        const char *shown = NULL;
        if ((t->client_ca = check_policy_file(c, st->args, "client_ca", &shown)) &&
            !rp_tls_inspect_ca(t->client_ca, shown, err, sizeof err))
            diag_error(c->diag, st->args->tok, "%s", err);
        if (!t->verify)
            t->verify = RP_TLS_VERIFY_REQUIRED;
        return;
    case 6: {
        static const char *const modes[] = {"none", "optional", "required"};
        const struct ast_arg *a = st->args;
        int m = a && !a->next && a->kind == AST_ARG_WORD ? word_index(c, a->tok, modes, 3) : -1;
        if (m < 0) {
            if (a && a->kind == AST_ARG_WORD && !a->next)
                check_unknown(c, a->tok, "verify mode", modes, 3);
            else
                diag_error(c->diag, st->kw, "the form is 'verify optional|required|none'");
            return;
        }
        t->verify = m;
        *verify_at = a;
        return;
    }
    case 7: tls_tickets(c, t, st); return;
    case 8: {
        const struct ast_arg *a = st->args;
        if (arg_is_word(c, a, "off") && !a->next)
            t->session_cache = UINT32_MAX;
        else if (a && !a->next)
            check_int(c, a, "session_cache", 1, 10000000, &t->session_cache);
        else
            diag_error(c->diag, st->kw, "the form is 'session_cache N|off'");
        return;
    }
    case 9: {
        uint32_t ms;
        if (!st->args || st->args->next)
            diag_error(c->diag, st->kw, "the form is 'session_timeout DURATION'");
        else if (check_duration(c, st->args, "session_timeout", &ms))
            t->session_timeout_s = ms < 1000 ? 1 : ms / 1000;
        return;
    }
    default:
        check_unknown(c, st->kw, "tls setting", kws, sizeof kws / sizeof kws[0]);
    }
}

void check_listen_tls(struct check *c, struct ast_listen *l, const struct ast_arg *tls_opt)
{
    if (!tls_opt) {
        if (l->has_block)
            diag_error(c->diag, l->kw, "a block after 'listen' configures TLS: write "
                       "'listen ADDRESS tls { cert \"...\" key \"...\" }'");
        return;
    }
    if (!l->has_block || !l->stmts) {
        diag_error(c->diag, tls_opt->tok, "tls needs a certificate: 'listen ADDRESS tls { cert "
                   "\"CERT.pem\" key \"KEY.pem\" }'");
        return;
    }
    struct ast_tls *t = arena_alloc(c->arena, sizeof *t);
    t->at = tls_opt->tok;
    const struct ast_arg *verify_at = NULL;
    for (const struct ast_stmt *st = l->stmts; st; st = st->next)
        tls_stmt(c, t, st, &verify_at);
    if (verify_at && !t->client_ca && t->verify != RP_TLS_VERIFY_NONE)
        diag_error(c->diag, verify_at->tok, "verify needs the CAs client certificates must "
                   "chain to: add 'client_ca \"CA.pem\"'");
    if (t->n_pairs == 0 && c->diag->n_errors == 0)
        diag_error(c->diag, tls_opt->tok, "tls needs a certificate: add 'cert \"CERT.pem\" key "
                   "\"KEY.pem\"' to the block");
    l->tls = t;
}

/* A route's host that no certificate of any TLS listener covers: its
 * clients get a default certificate, for another name. */
void check_tls_hosts(struct check *c)
{
    const struct ast_listen *first = NULL;
    for (const struct ast_listen *l = c->prog->listens; l && !first; l = l->next)
        if (l->tls && l->tls->n_pairs)
            first = l;
    if (!first)
        return;
    for (const struct ast_route *r = c->prog->routes; r; r = r->next) {
        if (r->host_kind == AST_HOST_ANY || !r->host || r->host_len > 250 ||
            strspn(r->host, "0123456789.") == r->host_len || strchr(r->host, ':'))
            continue; /* no host, or an address: clients send no SNI for one */
        /* A wildcard route is covered when one of its names is. */
        char name[256];
        snprintf(name, sizeof name, "%s%s", r->host_kind == AST_HOST_WILD ? "a" : "", r->host);
        bool covered = false;
        for (const struct ast_listen *l = first; l && !covered; l = l->next)
            for (const struct ast_tls_pair *p = l->tls ? l->tls->pairs : NULL; p && !covered;
                 p = p->next)
                covered = rp_tls_name_covered(p->names, name);
        if (!covered) {
            diag_warning(c->diag, r->host_tok, "no certificate covers '%s%s': its clients over "
                         "TLS get the default certificate, for another name",
                         r->host_kind == AST_HOST_WILD ? "*" : "", r->host);
            diag_note(c->diag, first->tls->at, "the first TLS listener");
        }
    }
}

void check_server_tls(struct check *c, struct ast_server *s, const struct ast_arg *tls_opt)
{
    if (!tls_opt) {
        if (s->has_block)
            diag_error(c->diag, s->kw, "a block after 'server' configures TLS: write 'server "
                       "NAME ADDRESS tls { ca \"...\" }'");
        return;
    }
    struct ast_tls_client *t = arena_alloc(c->arena, sizeof *t);
    t->at = tls_opt->tok;
    static const char *const kws[] = {"ca", "sni", "verify", "cert"};
    for (const struct ast_stmt *st = s->stmts; st; st = st->next) {
        int k = word_index(c, st->kw, kws, 4);
        const struct ast_arg *a = st->args;
        char err[256];
        const char *shown = NULL;
        switch (k) {
        case 0:
            if (!a || a->next) {
                diag_error(c->diag, st->kw, "the form is 'ca \"CA.pem\"'");
                break;
            }
            if ((t->ca = check_policy_file(c, a, "ca", &shown)) &&
                !rp_tls_inspect_ca(t->ca, shown, err, sizeof err))
                diag_error(c->diag, a->tok, "%s", err);
            break;
        case 1:
            if ((t->sni = tls_string(c, st, "sni \"NAME\"")) &&
                (!*t->sni || strspn(t->sni, "abcdefghijklmnopqrstuvwxyz"
                                            "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") !=
                                 strlen(t->sni)))
                diag_error(c->diag, a->tok, "sni wants a host name");
            break;
        case 2:
            if (arg_is_word(c, a, "none") && !a->next)
                t->no_verify = true;
            else if (!(arg_is_word(c, a, "required") && !a->next))
                diag_error(c->diag, st->kw, "the form is 'verify required|none'");
            break;
        case 3: {
            if (!a || a->kind != AST_ARG_STRING || !arg_is_word(c, a->next, "key") ||
                !a->next->next || a->next->next->next) {
                diag_error(c->diag, st->kw, "the form is 'cert \"CERT.pem\" key \"KEY.pem\"'");
                break;
            }
            const char *key_shown = NULL;
            t->cert = check_policy_file(c, a, "cert", &shown);
            t->key = check_policy_file(c, a->next->next, "key", &key_shown);
            if (t->cert && t->key) {
                struct rp_tls_cert_info info;
                rp_tls_inspect_pair(t->cert, t->key, shown, key_shown, &info);
                if (info.error[0])
                    diag_error(c->diag, st->kw, "%s", info.error);
                else if (info.not_after <= time(NULL))
                    diag_error(c->diag, a->tok, "the client certificate has expired");
            }
            break;
        }
        default:
            check_unknown(c, st->kw, "server tls setting", kws, 4);
        }
    }
    if (s->proxy_protocol)
        diag_error(c->diag, t->at, "a PROXY header before TLS to a server is not supported yet");
    if (t->no_verify && (t->ca))
        diag_warning(c->diag, t->at, "verify none: the CAs given are not used");
    s->tls = t;
}
