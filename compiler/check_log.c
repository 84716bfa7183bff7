/* check_log.c: the top-level `log access TARGET [format FORMAT]` statement. */
#include <string.h>

#include "diag.h"

#include <rp/program.h> /* RP_ACCESS_LOG_* */

#include "check_int.h"

#define LOG_USAGE "the form is 'log access \"PATH\" [format combined|json]' or 'log access stdout'"

void check_log(struct check *c, const struct ast_stmt *st)
{
    struct ast_program *p = c->prog;
    const struct ast_arg *a = st->args;
    if (!a || !arg_is_word(c, a, "access")) {
        diag_error(c->diag, a ? a->tok : st->kw, "%s", LOG_USAGE);
        return;
    }
    if (p->access_log_kw.len) {
        diag_error(c->diag, st->kw, "there is already an access log");
        diag_note(c->diag, p->access_log_kw, "it is here");
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
    uint32_t format = RP_ACCESS_LOG_COMBINED;
    const struct ast_arg *f = target->next;
    if (f) {
        static const char *const formats[] = {"combined", "json"};
        int k = f->next && arg_is_word(c, f, "format") && f->next->kind == AST_ARG_WORD
                    ? word_index(c, f->next->tok, formats, 2)
                    : -2;
        if (k == -2 || f->next->next) {
            diag_error(c->diag, f->tok, "%s", LOG_USAGE);
            return;
        }
        if (k < 0) {
            check_unknown(c, f->next->tok, "log format", formats, 2);
            return;
        }
        format = k == 0 ? RP_ACCESS_LOG_COMBINED : RP_ACCESS_LOG_JSON;
    }
    p->access_log_kw = st->kw;
    p->access_log_path = path;
    p->access_log_format = format;
}
