/* check_answers.c: the proxy's own answers from files: `respond|deny STATUS
 * file "PATH"` and the top-level `error STATUS... file "PATH"|"TEXT"` pages,
 * read when the policy compiles (the proxy needs no file at run time). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "check_int.h"
#include "diag.h"

/* The largest body read from a file: it is compiled into the proxy. */
#define BODY_FILE_MAX (1024 * 1024)

static const struct {
    const char *ext;
    const char *type;
} types[] = {
    {"html", "text/html; charset=utf-8"}, {"htm", "text/html; charset=utf-8"},
    {"txt", "text/plain; charset=utf-8"}, {"json", "application/json"},
    {"css", "text/css"},                  {"js", "text/javascript"},
    {"svg", "image/svg+xml"},             {"xml", "application/xml"},
    {"png", "image/png"},                 {"ico", "image/x-icon"},
};

static const char *type_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (dot && (!slash || dot > slash))
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcmp(dot + 1, types[i].ext) == 0)
                return types[i].type;
    return "application/octet-stream";
}

void policy_file_path(const struct check *c, struct span at, const char *path, char *full,
                      char *shown, size_t size)
{
    const struct src_file *f = &c->src->files[src_file_of(c->src, at.off)];
    /* Opened beside the policy's real file; named in messages beside the
     * policy as it was named. */
    const char *bases[2] = {f->real ? f->real : f->name, f->name};
    char *outs[2] = {full, shown};
    for (int i = 0; i < 2; i++) {
        const char *slash = strrchr(bases[i], '/');
        if (path[0] == '/' || !slash)
            snprintf(outs[i], size, "%s", path);
        else
            snprintf(outs[i], size, "%.*s/%s", (int)(slash - bases[i]), bases[i], path);
    }
}

/* Reads PATH, relative to the policy file that names it (at), into the
 * arena. Returns false after reporting why not. */
static bool read_body(struct check *c, struct span at, const char *path, const char **body,
                      size_t *len, const char **ctype)
{
    char full[4096], shown[4096];
    policy_file_path(c, at, path, full, shown, sizeof full);
    FILE *fp = fopen(full, "rb");
    if (!fp) {
        diag_error(c->diag, at, "cannot read '%s': %s", shown, strerror(errno));
        return false;
    }
    char *data = arena_alloc(c->arena, BODY_FILE_MAX + 1);
    size_t n = fread(data, 1, BODY_FILE_MAX + 1, fp);
    bool err = ferror(fp);
    fclose(fp);
    if (err || n > BODY_FILE_MAX) {
        diag_error(c->diag, at, err ? "cannot read '%s'" : "'%s' is larger than 1m: a body from "
                   "a file is compiled into the proxy", shown);
        return false;
    }
    *body = data;
    *len = n;
    *ctype = type_of(path);
    return true;
}

void check_answer_files(struct check *c)
{
    for (struct ast_route *r = c->prog->routes; r; r = r->next)
        for (struct ast_action *a = r->actions; a; a = a->next) {
            if (!a->from_file || a->status_bad)
                continue;
            const char *path = arena_strndup(c->arena, a->body, a->body_len);
            size_t len;
            if (read_body(c, a->body_tok, path, &a->body, &len, &a->content_type))
                a->body_len = len;
        }
}

void check_error_page(struct check *c, const struct ast_stmt *st)
{
    struct ast_program *p = c->prog;
    const char *usage = "the form is 'error STATUS... file \"PATH\"' or 'error STATUS... \"TEXT\"'";
    const struct ast_arg *a = st->args;
    size_t n_status = 0;
    for (; a && a->kind == AST_ARG_INT; a = a->next)
        n_status++;
    bool from_file = a && a->kind == AST_ARG_WORD && a->tok.len == 4 &&
                     memcmp(text_at(c, a->tok), "file", 4) == 0;
    const struct ast_arg *body = from_file ? a->next : a;
    if (!n_status || !body || body->kind != AST_ARG_STRING || body->next) {
        diag_error(c->diag, body && body->next ? body->next->tok : st->kw, "%s", usage);
        return;
    }
    const char *text = body->str, *ctype = "text/plain; charset=utf-8";
    size_t len = body->str_len;
    if (from_file) {
        const char *path = arena_strndup(c->arena, body->str, body->str_len);
        if (!read_body(c, body->tok, path, &text, &len, &ctype))
            return;
    }
    for (a = st->args; a && a->kind == AST_ARG_INT; a = a->next) {
        uint32_t status = 0;
        const char *t = text_at(c, a->tok);
        for (uint32_t k = 0; k < a->tok.len && status < 1000; k++)
            status = status * 10 + (uint32_t)(t[k] - '0');
        if (status < 400 || status > 599) {
            diag_error(c->diag, a->tok, "an error page is for an error status (400..599), not "
                       "%.*s", arg_len(a), t);
            continue;
        }
        for (uint32_t i = 0; i < p->n_error_pages; i++)
            if (p->error_pages[i].status == status) {
                diag_error(c->diag, a->tok, "status %u already has an error page", status);
                status = 0;
            }
        if (!status)
            continue;
        p->error_pages = arena_grow(c->arena, p->error_pages, p->n_error_pages,
                                    p->n_error_pages + 1, sizeof *p->error_pages);
        p->error_pages[p->n_error_pages++] =
            (struct ast_error_page){(uint16_t)status, ctype, text, len};
    }
}
