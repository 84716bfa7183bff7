/* check_log.c: the top-level `log access TARGET [format FORMAT] [status S]
 * [sample P%]` statement. */
#include <string.h>

#include "diag.h"

#include <rp/program.h> /* RP_ACCESS_LOG_* */

#include "check_int.h"

#define LOG_USAGE                                                                                  \
    "the form is 'log access \"PATH\"|stdout [format combined|json] [status 5xx|400..599] "      \
    "[sample 10%]'"

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
    const char *path = NULL;
    if (arg_is_word(c, target, "stdout")) {
        path = NULL;
    } else if (target->kind == AST_ARG_STRING && target->str_len > 0 &&
               strlen(target->str) == target->str_len) {
        path = target->str;
    } else {
        diag_error(c->diag, target->tok, "an access log goes to a file (\"PATH\") or stdout");
        return;
    }
    uint32_t format = RP_ACCESS_LOG_COMBINED, status_min = 0, status_max = 0, sample = 0;
    bool seen[3] = {false, false, false};
    /* options, each a word and its value, in any order, once each */
    for (const struct ast_arg *o = target->next; o; o = o->next->next) {
        static const char *const options[] = {"format", "status", "sample"};
        int k = o->kind == AST_ARG_WORD ? word_index(c, o->tok, options, 3) : -2;
        if (k == -1) {
            check_unknown(c, o->tok, "log option", options, 3);
            return;
        }
        if (k < 0 || !o->next) {
            diag_error(c->diag, o->tok, "%s", LOG_USAGE);
            return;
        }
        if (seen[k]) {
            diag_error(c->diag, o->tok, "'%s' is given twice", options[k]);
            return;
        }
        seen[k] = true;
        const struct ast_arg *v = o->next;
        if (k == 0) {
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
        } else if (!check_percent(c, v, "log sample", &sample)) {
            return;
        }
    }
    if (p->access_log_kw.len) { /* after the options: each mistake is named first */
        diag_error(c->diag, st->kw, "there is already an access log");
        diag_note(c->diag, p->access_log_kw, "it is here");
        return;
    }
    p->access_log_kw = st->kw;
    p->access_log_path = path;
    p->access_log_format = format;
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
