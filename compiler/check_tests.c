/* check_tests.c: `test` blocks: each request and the outcome it expects,
 * checked against the policy's routes and backends. */
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

/* ---- tests ----------------------------------------------------------------- */

void check_tests(struct check *c, const struct names *backends)
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
