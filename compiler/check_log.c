/* check_log.c: the top-level `log access TARGET [format FORMAT] [status S]
 * [sample P%]` statement. */
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "diag.h"

#include <rp/program.h> /* RP_ACCESS_LOG_* */

#include "check_int.h"

#define LOG_USAGE                                                                                  \
    "the form is 'log access \"PATH\"|stdout|syslog [ADDRESS] [format combined|json] "           \
    "[status 5xx|400..599] [sample 10%] [facility local0..local7|daemon|user]'; a format is "   \
    "combined, json or \"TEXT ${field}...\""

/* The names of `${...}` in a custom format, by enum rp_log_field. */
const char *const log_field_names[RP_LOG_N_FIELDS] = {
    [RP_LOG_CLIENT] = "client",         [RP_LOG_TIME] = "time",
    [RP_LOG_TIME_LOCAL] = "time_local", [RP_LOG_METHOD] = "method",
    [RP_LOG_URI] = "uri",               [RP_LOG_HOST] = "host",
    [RP_LOG_PROTOCOL] = "protocol",     [RP_LOG_TLS] = "tls",
    [RP_LOG_STATUS] = "status",         [RP_LOG_BYTES_IN] = "bytes_in",
    [RP_LOG_BYTES_OUT] = "bytes_out",   [RP_LOG_DURATION_MS] = "duration_ms",
    [RP_LOG_CONNECT_MS] = "connect_ms", [RP_LOG_FIRST_BYTE_MS] = "first_byte_ms",
    [RP_LOG_ROUTE] = "route",           [RP_LOG_BACKEND] = "backend",
    [RP_LOG_SERVER] = "server",         [RP_LOG_ATTEMPTS] = "attempts",
    [RP_LOG_CACHE] = "cache",           [RP_LOG_REQUEST_ID] = "request_id",
    [RP_LOG_REFERER] = "referer",       [RP_LOG_USER_AGENT] = "user_agent",
    [RP_LOG_END] = "end",               [RP_LOG_TLS_VERSION] = "tls_version",
    [RP_LOG_TLS_CIPHER] = "tls_cipher", [RP_LOG_SNI] = "sni",
    [RP_LOG_USER] = "user",
};

/* A custom format, "... ${name} ...", into pieces: text runs and fields
 * ($$ is a dollar sign). Reported, with the names, when a name is unknown
 * or a reference is not closed. */
static bool parse_format(struct check *c, const struct ast_arg *f, struct ast_log_piece **out,
                         uint32_t *n_out)
{
    const char *s = f->str;
    size_t n = f->str_len, i = 0, run = 0;
    struct ast_log_piece *pieces = arena_alloc(c->arena, (n + 1) * sizeof *pieces);
    uint32_t k = 0;
    char *text = arena_alloc(c->arena, n + 1);
    size_t tn = 0;
    while (i < n) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
            diag_error(c->diag, f->tok, "a log format is one line of text: no control "
                       "characters (\\n, \\t ...)");
            return false;
        }
        if (s[i] != '$') {
            text[tn++] = s[i++];
            continue;
        }
        if (i + 1 < n && s[i + 1] == '$') {
            text[tn++] = '$';
            i += 2;
            continue;
        }
        if (i + 1 >= n || s[i + 1] != '{') {
            diag_error(c->diag, f->tok, "a '$' in a log format starts '${name}' (write '$$' for "
                       "a dollar sign)");
            return false;
        }
        const char *close = memchr(s + i + 2, '}', n - i - 2);
        if (!close) {
            diag_error(c->diag, f->tok, "'${' is not closed with '}' in the log format");
            return false;
        }
        size_t nl = (size_t)(close - (s + i + 2));
        int field = -1;
        for (int x = 1; x < RP_LOG_N_FIELDS; x++)
            if (strlen(log_field_names[x]) == nl && memcmp(log_field_names[x], s + i + 2, nl) == 0)
                field = x;
        if (field < 0) {
            const char *const *names = log_field_names + 1; /* [0] is plain text */
            int near = diag_closest(s + i + 2, nl, names, RP_LOG_N_FIELDS - 1);
            if (near >= 0) {
                diag_error(c->diag, f->tok, "unknown log field '${%.*s}'; did you mean '${%s}'?",
                           (int)nl, s + i + 2, names[near]);
            } else {
                struct buf list = {0};
                for (int x = 0; x < RP_LOG_N_FIELDS - 1; x++)
                    buf_printf(&list, "%s%s", x ? ", " : "", names[x]);
                diag_error(c->diag, f->tok, "unknown log field '${%.*s}' (the fields: %s)",
                           (int)nl, s + i + 2, list.data);
                buf_free(&list);
            }
            return false;
        }
        if (tn > run)
            pieces[k++] = (struct ast_log_piece){0, text + run, (uint32_t)(tn - run)};
        run = tn;
        pieces[k++] = (struct ast_log_piece){(uint32_t)field, NULL, 0};
        i += 2 + nl + 1;
    }
    if (tn > run)
        pieces[k++] = (struct ast_log_piece){0, text + run, (uint32_t)(tn - run)};
    *out = pieces;
    *n_out = k;
    return true;
}

void check_log(struct check *c, const struct ast_stmt *st)
{
    struct ast_program *p = c->prog;
    const struct ast_arg *a = st->args;
    if (!a || !arg_is_word(c, a, "access")) {
        diag_error(c->diag, a ? a->tok : st->kw, "%s", LOG_USAGE);
        return;
    }
    const struct ast_arg *target = a->next;
    if (!target) {
        diag_error(c->diag, a->tok, "%s", LOG_USAGE);
        return;
    }
    const char *path = NULL, *syslog = NULL;
    uint32_t syslog_port = 0, facility = 16; /* local0, HAProxy's habit */
    const struct ast_arg *options = target->next;
    if (arg_is_word(c, target, "stdout")) {
        path = NULL;
    } else if (arg_is_word(c, target, "syslog")) {
        /* where: unix:/dev/log (the local daemon) unless an address follows */
        syslog = "unix:/dev/log";
        if (options && options->kind == AST_ARG_ADDR) {
            struct ast_addr *addr = arena_alloc(c->arena, sizeof *addr);
            addr->tok = options->tok;
            check_addr(c, addr, true);
            if (!addr->ok)
                return;
            syslog = addr->host;
            syslog_port = addr->port;
            options = options->next;
        }
    } else if (target->kind == AST_ARG_STRING && target->str_len > 0 &&
               strlen(target->str) == target->str_len) {
        path = target->str;
    } else {
        diag_error(c->diag, target->tok,
                   "an access log goes to a file (\"PATH\"), stdout or syslog [ADDRESS]");
        return;
    }
    uint32_t format = RP_ACCESS_LOG_COMBINED, status_min = 0, status_max = 0, sample = 0;
    struct ast_log_piece *pieces = NULL;
    uint32_t n_pieces = 0;
    bool seen[4] = {false, false, false, false};
    /* options, each a word and its value, in any order, once each */
    for (const struct ast_arg *o = options; o; o = o->next->next) {
        static const char *const names[] = {"format", "status", "sample", "facility"};
        int k = o->kind == AST_ARG_WORD ? word_index(c, o->tok, names, 4) : -2;
        if (k == -1) {
            check_unknown(c, o->tok, "log option", names, 4);
            return;
        }
        if (k < 0 || !o->next) {
            diag_error(c->diag, o->tok, "%s", LOG_USAGE);
            return;
        }
        if (seen[k]) {
            diag_error(c->diag, o->tok, "'%s' is given twice", names[k]);
            return;
        }
        seen[k] = true;
        const struct ast_arg *v = o->next;
        if (k == 0 && v->kind == AST_ARG_STRING) {
            if (!parse_format(c, v, &pieces, &n_pieces))
                return;
            format = RP_ACCESS_LOG_CUSTOM;
        } else if (k == 0) {
            static const char *const formats[] = {"combined", "json"};
            int f = v->kind == AST_ARG_WORD ? word_index(c, v->tok, formats, 2) : -2;
            if (f < 0) {
                check_unknown(c, v->tok, "log format", formats, 2);
                return;
            }
            format = f == 0 ? RP_ACCESS_LOG_COMBINED : RP_ACCESS_LOG_JSON;
        } else if (k == 1) {
            if (!check_status_range(c, v, "log status", &status_min, &status_max))
                return;
        } else if (k == 2) {
            if (!check_percent(c, v, "log sample", &sample))
                return;
        } else {
            static const char *const facilities[] = {"user",   "daemon", "local0", "local1",
                                                     "local2", "local3", "local4", "local5",
                                                     "local6", "local7"};
            int f = v->kind == AST_ARG_WORD ? word_index(c, v->tok, facilities, 10) : -2;
            if (f < 0) {
                check_unknown(c, v->tok, "syslog facility", facilities, 10);
                return;
            }
            if (!syslog) {
                diag_error(c->diag, o->tok, "a facility is for syslog: 'log access syslog "
                           "facility %s'", facilities[f]);
                return;
            }
            facility = f == 0 ? 1 : f == 1 ? 3 : (uint32_t)(16 + f - 2);
        }
    }
    if (p->access_log_kw.len) { /* after the options: each mistake is named first */
        diag_error(c->diag, st->kw, "there is already an access log");
        diag_note(c->diag, p->access_log_kw, "it is here");
        return;
    }
    p->access_log_kw = st->kw;
    p->access_log_path = path;
    p->access_log_syslog = syslog;
    p->access_log_syslog_port = syslog_port;
    p->access_log_facility = facility;
    p->access_log_format = format;
    p->access_log_pieces = pieces;
    p->access_log_n_pieces = n_pieces;
    p->access_log_status_min = status_min;
    p->access_log_status_max = status_max;
    p->access_log_sample_ppm = sample == 1000000 ? 0 : sample; /* 100%: every line */
}

void check_route_log(struct check *c, struct ast_route *r, const struct ast_stmt *st)
{
    const struct ast_arg *a = st->args;
    if (!a || a->next || !arg_is_word(c, a, "off")) {
        diag_error(c->diag, a ? a->tok : st->kw,
                   "the form is 'log off' in a route (its exchanges get no access log line); the "
                   "access log itself is a top-level 'log access'");
        return;
    }
    if (r->log_off.len) {
        diag_error(c->diag, st->kw, "'log off' is already given");
        diag_note(c->diag, r->log_off, "here");
        return;
    }
    if (!c->prog->access_log_kw.len)
        diag_warning(c->diag, st->kw, "'log off' has nothing to turn off: the policy has no "
                     "'log access'");
    r->log_off = st->kw;
}
