/* test_compiler.c: the policy compiler's lexer, diagnostics, parser, checks,
 * path automaton and emitter, driven through the same calls rpx makes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "ast.h"
#include "buf.h"
#include "compile.h"
#include "diag.h"
#include "emit_c.h"
#include "explain.h"
#include "lower.h"
#include "fmt.h"
#include "lex.h"
#include "rp/match.h"
#include "t.h"

/* Lexes text and returns the token kinds' names joined by spaces, with the
 * text of names and numbers: `'listen' address(:80) ;`. Caller frees. */
static char *lex_all(const char *text, unsigned *n_errors)
{
    struct src s;
    src_from_string(&s, "t.rp", text, strlen(text));
    struct diag d;
    diag_init(&d, &s, NULL);
    struct lexer lx;
    lex_init(&lx, &s, &d, 0);
    struct buf b = {0};
    struct lex_token t;
    for (int i = 0; i < 1000 && lex_next(&lx, &t) != 0; i++) {
        if (b.len)
            buf_putc(&b, ' ');
        const char *name = lex_kind_name(t.kind);
        if (strcmp(name, "';' or newline") == 0)
            buf_puts(&b, t.flags & LEX_F_VIRT_NL ? "NL" : t.flags ? "VSEMI" : ";");
        else if (name[0] == '\'')
            buf_puts(&b, name);
        else
            buf_printf(&b, "%s(%.*s)", name, (int)t.len, s.text + t.off);
    }
    *n_errors = d.n_errors;
    src_free(&s);
    buf_append(&b, "", 0);
    return b.data;
}

T_SUITE(compiler_lex)
{
    unsigned errs;
    char *got = lex_all("listen :8080 # comment\nlisten [::1]:9000;", &errs);
    T_STR(got, "'listen' address(:8080) NL 'listen' address([::1]:9000) ; VSEMI");
    T_EQ(errs, 0);
    free(got);

    got = lex_all("x 250ms 16k 100/s 10.0.0.0/8 2001:db8::/32 ::1 127.0.0.1 a-b_c", &errs);
    T_STR(got, "name(x) number with unit(250ms) number with unit(16k) rate(100/s) CIDR(10.0.0.0/8) "
               "CIDR(2001:db8::/32) IP address(::1) IP address(127.0.0.1) name(a-b_c) VSEMI");
    T_EQ(errs, 0);
    free(got);

    /* newlines inside ( ) and [ ] do not end statements; `}` brings a `;` */
    got = lex_all("a [1,\n2] (\n) { b }", &errs);
    T_STR(got, "name(a) '[' integer(1) ',' integer(2) ']' '(' ')' '{' name(b) VSEMI '}' VSEMI");
    free(got);

    got = lex_all("== != ~ ^= . = unix:/run/a.sock", &errs);
    T_STR(got, "'==' '!=' '~' '^=' '.' '=' address(unix:/run/a.sock) VSEMI");
    free(got);

    got = lex_all("\"a\\\"b\" \"${x}\"", &errs);
    T_STR(got, "string(\"a\\\"b\") string(\"${x}\") VSEMI");
    T_EQ(errs, 0);
    free(got);

    /* malformed tokens are reported and still returned */
    got = lex_all("10q 2x 5/q \"\\q\" \"open", &errs);
    T_EQ(errs, 5);
    free(got);
    got = lex_all("@ \x01 \xc3\xa9", &errs);
    T_STR(got, "VSEMI");
    T_EQ(errs, 3);
    free(got);

    struct arena a = {0};
    size_t n;
    const char *v = lex_string_value(&a, "\"a\\n\\t\\\\\\\"z\"", 12, &n);
    T_EQ(n, 6);
    T_OK(memcmp(v, "a\n\t\\\"z", 6) == 0);
    arena_free(&a);
}

/* Compiles text as "t.rp"; the diagnostics go to *out (caller frees). */
static bool compile_text(struct compilation *c, const char *text, const struct compile_opts *o,
                         char **out)
{
    size_t len;
    FILE *f = open_memstream(out, &len);
    compile_open_string(c, "t.rp", text, strlen(text));
    bool ok = compile_run(c, o, f);
    fclose(f);
    return ok;
}

T_SUITE(compiler_diag)
{
    struct compilation c;
    char *out;
    bool ok = compile_text(&c,
                           "listen :8080\n"
                           "backend biling { server a 127.0.0.1:1 }\n"
                           "route path \"/pay\" {\tproxy billing }\n",
                           NULL, &out);
    T_OK(!ok);
    /* the tab shows as one space, so the caret lines up */
    T_STR(out, "t.rp:3:27: error: unknown backend 'billing'\n"
               "    route path \"/pay\" { proxy billing }\n"
               "                              ^~~~~~~\n"
               "t.rp:2:9: note: did you mean 'biling'?\n"
               "    backend biling { server a 127.0.0.1:1 }\n"
               "            ^~~~~~\n");
    /* one mistake, one error: the backend it suggests is not also "never used" */
    T_EQ(c.diag.n_errors, 1);
    T_EQ(c.diag.n_warnings, 0);
    free(out);
    compile_free(&c);

    /* a column counts characters, not bytes */
    ok = compile_text(&c, "# \xc3\xa9\n\"\xc3\xa9\" @\n", NULL, &out);
    T_OK(!ok);
    T_OK(strstr(out, "t.rp:2:5: error: unexpected character '@'\n"
                     "    \"\xc3\xa9\" @\n"
                     "        ^\n") != NULL);
    free(out);
    compile_free(&c);

    T_EQ(diag_edit_distance("sever", 5, "server", 6), 1);
    T_EQ(diag_edit_distance("wieght", 6, "weight", 6), 1); /* a swap is one edit */
    const char *const cands[] = {"listen", "backend", "route"};
    T_EQ(diag_closest("lisen", 5, cands, 3), 0);
    T_EQ(diag_closest("rout", 4, cands, 3), 2);
    T_EQ(diag_closest("xyz", 3, cands, 3), -1);
}

static const char quickstart[] = "listen :8080\n"
                                 "backend app {\n"
                                 "    balance round_robin\n"
                                 "    server a 127.0.0.1:9001\n"
                                 "    server b 127.0.0.1:9002 weight 2\n"
                                 "}\n"
                                 "route path \"/api/\" { proxy app }\n"
                                 "route path = \"/health\" { respond 200 \"ok\" }\n"
                                 "route default { respond 404 \"not found\" }\n";

T_SUITE(compiler_parse)
{
    struct compilation c;
    char *out;
    T_OK(compile_text(&c, quickstart, NULL, &out));
    T_STR(out, "");
    free(out);
    struct ast_program *p = c.prog;
    T_EQ(p->n_listens, 1);
    T_STR(p->listens->addr.host, "0.0.0.0");
    T_EQ(p->listens->addr.port, 8080);
    T_EQ(p->n_backends, 1);
    T_EQ(p->backends->n_servers, 2);
    T_EQ(p->backends->servers->weight, 1);
    T_EQ(p->backends->servers->next->weight, 2);
    T_STR(p->backends->servers->next->addr.host, "127.0.0.1");
    T_EQ(p->n_routes, 3);
    T_EQ(p->routes->path_kind, AST_PATH_PREFIX);
    T_SLICE(p->routes->path, p->routes->path_len, "/api/");
    T_STR(p->routes->label, "path \"/api/\"");
    T_OK(p->routes->actions->backend == p->backends);
    T_EQ(p->routes->next->path_kind, AST_PATH_EXACT);
    T_EQ(p->routes->next->actions->status, 200);
    T_SLICE(p->routes->next->actions->body, p->routes->next->actions->body_len, "ok");
    T_OK(p->routes->next->next->is_default);
    compile_free(&c);

    /* keywords are names where a name is expected */
    T_OK(compile_text(&c,
                      "listen :1\nbackend route { server backup 127.0.0.1:2 }\n"
                      "route default { proxy route }\n",
                      NULL, &out));
    T_STR(out, "");
    free(out);
    compile_free(&c);

    /* a syntax error suggests the keyword valid there */
    T_OK(!compile_text(&c, "listen :1\nbackend b {\n  sever a 1.2.3.4:5\n}\n", NULL, &out));
    T_OK(strstr(out, "t.rp:3:3: error: unknown backend statement 'sever'; did you mean 'server'?\n") ==
         out);
    free(out);
    compile_free(&c);

    /* every statement's syntax error is reported */
    T_OK(!compile_text(&c, "listen 80\nlisten 81\nroute path { }\n", NULL, &out));
    T_EQ(c.diag.n_errors, 3);
    free(out);
    compile_free(&c);
}

T_SUITE(compiler_check)
{
    static const struct {
        const char *text;
        unsigned errors;
    } cases[] = {
        {"route default { respond 200 }", 1},                              /* no listen */
        {"listen :1\nlisten 0.0.0.0:1\n", 1},                              /* same address */
        {"listen :0\nlisten :65536\nlisten 1.2.3.256:1\n", 3},             /* ports, address */
        {"listen :1\nbackend b { server s 1.2.3.4:5 weight 257 }\nroute default { proxy b }", 1},
        {"listen :1\nbackend b { }\nroute default { proxy b }", 1},        /* no servers */
        {"listen :1\nroute default { respond 1 }\n", 1},
        {"listen :1\nroute default { respond 100 }\n", 1},
        {"listen :1\nroute default { respond 599 }\n", 0},
        {"listen :1\nroute path \"/a\" { respond 200 }\nroute path \"/a/b\" { respond 200 }", 1},
        {"listen :1\nroute path = \"/a\" { respond 200 }\nroute path \"/a\" { respond 200 }", 0},
        {"listen :1\nroute default { respond 200 }\nroute default { respond 200 }", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct compilation c;
        char *out;
        compile_text(&c, cases[i].text, NULL, &out);
        if (!T_EQ(c.diag.n_errors, cases[i].errors))
            printf("# case %zu:\n%s", i, out);
        free(out);
        compile_free(&c);
    }

    /* warnings pass unless promoted */
    const char *unused = "listen :1\nbackend b { server s 1.2.3.4:5 }\n";
    struct compilation c;
    char *out;
    T_OK(compile_text(&c, unused, NULL, &out));
    T_EQ(c.diag.n_warnings, 1);
    free(out);
    compile_free(&c);
    struct compile_opts werror = {.werror = true};
    T_OK(!compile_text(&c, unused, &werror, &out));
    T_OK(strstr(out, "error: backend 'b' is never used [-Werror]") != NULL);
    free(out);
    compile_free(&c);
}

/* Walks the automaton with the runtime's rp_match_routes() (no host) and
 * returns the first candidate: these routes have no other condition. */
static uint32_t walk_host(const struct lower_dfa *d, const char *host, const char *path,
                          size_t len)
{
    struct rp_matcher m = {d->host_root, d->n_states, d->states, d->edges, d->cands};
    const uint32_t *c;
    uint32_t n = rp_match_routes(&m, host, strlen(host), path, len, &c);
    return n ? c[0] : RP_NO_ROUTE;
}

static uint32_t walk(const struct lower_dfa *d, const char *path, size_t len)
{
    return walk_host(d, "", path, len);
}

/* First-match semantics, route by route. */
static uint32_t brute(const struct ast_program *p, const char *path, size_t len)
{
    for (const struct ast_route *r = p->routes; r; r = r->next) {
        if (r->path_kind == AST_PATH_EXACT ? r->path_len == len && memcmp(r->path, path, len) == 0
                                           : r->path_len <= len && memcmp(r->path, path, r->path_len) == 0)
            return r->index;
    }
    return RP_NO_ROUTE;
}

/* The automaton's invariants, as one check per automaton (not one per
 * state and edge, which would drown the count in thousands). */
static void check_dfa_shape(const struct lower_dfa *d)
{
    uint32_t edges = 0;
    const char *broken = NULL;
    for (uint32_t s = 0; s < d->n_states && !broken; s++) {
        const struct rp_match_state *st = &d->states[s];
        if (st->first_edge != edges)
            broken = "edge slices are contiguous, in state order";
        for (uint32_t e = 1; e < st->n_edges; e++)
            if (d->edges[st->first_edge + e - 1].byte >= d->edges[st->first_edge + e].byte)
                broken = "edges are sorted by byte";
        for (uint32_t e = 0; e < st->n_edges; e++)
            if (d->edges[st->first_edge + e].next <= s ||
                d->edges[st->first_edge + e].next >= d->n_states)
                broken = "edges lead forward to a state that exists";
        if (st->end_n != 0 && st->end_first + st->end_n > d->n_cands)
            broken = "end candidates are in range";
        if (st->stop_n != 0 && st->stop_first + st->stop_n > d->n_cands)
            broken = "stop candidates are in range";
        edges += st->n_edges;
    }
    if (!broken && edges != d->n_edges)
        broken = "every edge belongs to a state";
    if (broken)
        printf("# automaton shape: %s\n", broken);
    T_OK(broken == NULL);
}

T_SUITE(compiler_dfa)
{
    struct compilation c;
    char *out;
    T_OK(compile_text(&c,
                      "listen :1\n"
                      "route path = \"/\" { respond 200 }\n"            /* 0 */
                      "route path = \"/api\" { respond 200 }\n"         /* 1 */
                      "route path \"/api/v2/\" { respond 200 }\n"       /* 2 */
                      "route path \"/api/\" { respond 200 }\n"          /* 3 */
                      "route path \"/st\" { respond 200 }\n"            /* 4 */
                      "route path = \"/health\" { respond 200 }\n"      /* 5 */
                      "route default { respond 404 }\n",                /* 6 */
                      NULL, &out));
    T_STR(out, "");
    free(out);
    const struct lower_dfa *d = c.ir->dfa;
    check_dfa_shape(d);
    static const struct {
        const char *path;
        uint32_t route;
    } want[] = {
        {"/", 0},         {"", 6},          {"/api", 1},   {"/api/", 3},    {"/api/v2/", 2},
        {"/api/v2/x", 2}, {"/api/v2", 3},   {"/apix", 6},  {"/ap", 6},      {"/st", 4},
        {"/static", 4},   {"/health", 5},   {"/health/", 6}, {"/healt", 6}, {"/x", 6},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!T_EQ(walk(d, want[i].path, strlen(want[i].path)), want[i].route))
            printf("# path \"%s\"\n", want[i].path);
    compile_free(&c);

    /* without a default route, an unmatched path has no route */
    T_OK(compile_text(&c, "listen :1\nroute path = \"/a\" { respond 200 }\n", NULL, &out));
    free(out);
    T_EQ(walk(c.ir->dfa, "/a", 2), 0);
    T_EQ(walk(c.ir->dfa, "/ab", 3), RP_NO_ROUTE);
    T_EQ(walk(c.ir->dfa, "/", 1), RP_NO_ROUTE);
    compile_free(&c);

    /* random route sets against first-match semantics (shadowed routes allowed) */
    srand(42);
    struct compile_opts allow = {.allow_shadowed = true};
    unsigned mismatches = 0;
    for (int round = 0; round < 200; round++) {
        struct buf text = {0};
        buf_puts(&text, "listen :1\n");
        int n = 1 + rand() % 8;
        for (int r = 0; r < n; r++) {
            char path[8] = "/";
            int len = rand() % 4;
            for (int k = 0; k < len; k++)
                path[1 + k] = "ab/"[rand() % 3];
            path[1 + len] = '\0';
            buf_printf(&text, "route path %s\"%s\" { respond 200 }\n", rand() % 2 ? "= " : "",
                       path);
        }
        if (rand() % 2)
            buf_puts(&text, "route default { respond 404 }\n");
        bool ok = compile_text(&c, text.data, &allow, &out);
        free(out);
        if (!T_OK(ok)) {
            printf("# %s", text.data);
        } else {
            check_dfa_shape(c.ir->dfa);
            for (int q = 0; q < 40; q++) {
                char path[8] = "";
                int len = rand() % 6;
                for (int k = 0; k < len; k++)
                    path[k] = "ab/"[rand() % 3];
                if (walk(c.ir->dfa, path, (size_t)len) != brute(c.prog, path, (size_t)len))
                    mismatches++;
            }
        }
        compile_free(&c);
        buf_free(&text);
    }
    T_EQ(mismatches, 0);
}

T_SUITE(compiler_emit)
{
    struct compilation c;
    char *out;
    T_OK(compile_text(&c, quickstart, NULL, &out));
    free(out);
    struct buf a = {0}, b = {0};
    emit_c(&a, c.ir, &c.src);
    emit_c(&b, c.ir, &c.src);
    T_OK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0); /* deterministic */
    T_OK(strncmp(a.data, "/* Generated by rpx " RPX_VERSION " from t.rp. DO NOT EDIT. */\n", 40) == 0);
    T_OK(strstr(a.data, "\nconst struct rp_program rp_program = {\n") != NULL);
    T_OK(strstr(a.data, "/* t.rp:7: route path \"/api/\" */") != NULL);
    /* one exported symbol: every other definition is static */
    size_t defs = 0;
    for (const char *p = a.data; (p = strstr(p, "\nconst ")) != NULL; p++)
        defs++;
    T_EQ(defs, 1);
    buf_free(&a);
    buf_free(&b);
    compile_free(&c);

    /* C escapes: octal for bytes (never running into a following digit), no trigraphs */
    struct buf e = {0};
    buf_c_escape(&e, "\x01" "7\"\\?\?/\n\xff", 9);
    T_STR(e.data, "\\0017\\\"\\\\?\\?/\\n\\377");
    buf_free(&e);
    buf_comment_safe(&e, "a*/b/*c??", 9);
    T_STR(e.data, "a* /b/ *c? ?");
    buf_free(&e);
}

/* Formats text (which must parse) and returns the result; caller frees. */
static char *fmt_text(const char *text, size_t len, size_t *out_len)
{
    struct compilation c;
    compile_open_string(&c, "t.rp", text, len);
    T_OK(compile_parse(&c, NULL, NULL));
    struct buf out = {0};
    fmt_policy(&out, &c.src);
    compile_free(&c);
    buf_append(&out, "", 0);
    *out_len = out.len;
    return out.data;
}

T_SUITE(compiler_fmt)
{
    size_t n;
    char *s;
    const char *in = "listen   :8080;listen :8081  # two\n\n\n"
                     "backend app {   server a 127.0.0.1:1 ;}\n"
                     "acl a = client.ip in [\n10.0.0.0/8,  # ten\n::1]\n"
                     "acl h = req.header[ \"X\" ] ~ \"y\"\n"
                     "route path \"/\" if a and h {\nproxy app;\n}\n\n";
    s = fmt_text(in, strlen(in), &n);
    T_STR(s, "listen :8080; listen :8081 # two\n"
             "\n"
             "backend app { server a 127.0.0.1:1 }\n"
             "acl a = client.ip in [\n"
             "    10.0.0.0/8, # ten\n"
             "    ::1\n"
             "]\n"
             "acl h = req.header[\"X\"] ~ \"y\"\n"
             "route path \"/\" if a and h {\n"
             "    proxy app\n"
             "}\n");
    size_t n2;
    char *again = fmt_text(s, n, &n2);
    T_STR(again, s); /* idempotent */
    free(again);
    free(s);

    /* a NUL byte inside a string is kept (the line is not cut there) */
    static const char nul[] = "listen :8080\nroute path \"/a\0b\" { respond 200 }\n";
    s = fmt_text(nul, sizeof nul - 1, &n);
    T_EQ(n, sizeof nul - 1);
    T_OK(memcmp(s, nul, sizeof nul - 1) == 0);
    free(s);
}

/* explain: after the answer, the steps the proxy runs on the exchange, in
 * order, and the client a trusted peer names. */
T_SUITE(compiler_explain_steps)
{
    static const char policy[] =
        "listen :8080\n"
        "backend app { server a 127.0.0.1:9001; set header X-B \"b\" }\n"
        "forwarded { trusted [10.0.0.0/8] }\n"
        "remove response header Server\n"
        "route path \"/api/\" { set header X-C \"${client.ip}\"; strip prefix \"/api\"; "
        "compress gzip br; proxy app }\n"
        "route default { set response header X-R \"1\"; respond 200 }\n";
    struct compilation c;
    char *diags = NULL;
    T_OK(compile_text(&c, policy, NULL, &diags));
    free(diags);
    const char *hdrs[] = {"X-Forwarded-For: 203.0.113.4"};
    struct explain_req rq = {.method = "GET", .url = "http://x/api/users?q=1", .from = "10.1.2.3",
                             .headers = hdrs, .n_headers = 1};
    struct buf out = {0};
    explain_request(&out, c.ir, &c.src, &rq);
    buf_putc(&out, '\0');
    const char *s = out.data;
    T_OK(strstr(s, "client.ip 203.0.113.4, from X-Forwarded-For") != NULL);
    const char *a = strstr(s, "then: remove response header Server");
    const char *b = strstr(s, "then: set header X-B \"b\"");
    const char *cc = strstr(s, "then: set header X-C \"${client.ip}\"");
    const char *d = strstr(s, "then: strip prefix \"/api\": the server gets \"/users\"");
    const char *e = strstr(s, "compressed with br or gzip");
    T_OK(a && b && cc && d && e && a < b && b < cc && cc < d && d < e);
    buf_free(&out);
    /* A local answer: only the response actions. */
    struct explain_req local = {.method = "GET", .url = "/other"};
    explain_request(&out, c.ir, &c.src, &local);
    buf_putc(&out, '\0');
    T_OK(strstr(out.data, "then: set response header X-R \"1\"") != NULL);
    T_OK(strstr(out.data, "then: set header") == NULL);
    buf_free(&out);
    compile_free(&c);
}

/* Writes text to dir/name. */
static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* Compiles dir/name (a file, so imports read files); diagnostics in *out. */
static bool compile_file(struct compilation *c, const char *dir, const char *name, char **out)
{
    char path[512];
    size_t len;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = open_memstream(out, &len);
    bool ok = compile_open(c, path) == 0 && compile_run(c, &(struct compile_opts){0}, f);
    fclose(f);
    return ok;
}

/* Imports: an imported file's statements stand where the import does (its
 * routes are tried there), including an import that ends its file without
 * a newline; a diamond is read once; a chain deeper than the limit stops
 * with one error at the import that goes too deep. */
T_SUITE(compiler_imports)
{
    char dir[] = "/tmp/rpx-imports-XXXXXX";
    T_OK(mkdtemp(dir) != NULL);
    write_file(dir, "routes.rp",
               "import \"acls.rp\"\n"
               "route path \"/a\" if get { respond 201 }\n"
               "route path \"/b\" { respond 202 }");
    write_file(dir, "acls.rp", "acl get = req.method == GET\n");
    write_file(dir, "main.rp",
               "listen :8080\n"
               "route path \"/b\" { respond 200 }\n"
               "import \"acls.rp\"\n"
               "import \"routes.rp\"");
    struct compilation c;
    char *out = NULL;
    T_OK(!compile_file(&c, dir, "main.rp", &out));
    /* /b in routes.rp comes after main's own /b: shadowed, with a note there */
    T_EQ(c.diag.n_errors, 1);
    T_OK(strstr(out, "routes.rp:3:1: error: duplicate route 'path \"/b\"' can never match") !=
         NULL);
    T_OK(strstr(out, "main.rp:2:1: note: the same path is routed here first") != NULL);
    T_EQ(c.src.n_files, 3); /* acls.rp once, though two files import it */
    T_EQ(c.prog->n_acls, 1);
    free(out);
    compile_free(&c);

    /* f1 imports f2 ... imports f40: too deep past RESOLVE_MAX_IMPORT_DEPTH */
    for (int i = 1; i <= 40; i++) {
        char name[32], text[64];
        snprintf(name, sizeof name, "f%d.rp", i);
        snprintf(text, sizeof text, "import \"f%d.rp\"\n", i + 1);
        write_file(dir, name, text);
    }
    write_file(dir, "f41.rp", "");
    write_file(dir, "deep.rp", "listen :8080\nimport \"f1.rp\"\nroute default { respond 200 }\n");
    T_OK(!compile_file(&c, dir, "deep.rp", &out));
    T_EQ(c.diag.n_errors, 1);
    T_OK(strstr(out, "f32.rp:1:8: error: imports nested too deeply (more than 32)") != NULL);
    free(out);
    compile_free(&c);

    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    T_OK(system(cmd) == 0);
}

/* Every field of a custom log format the runtime knows has its name in the
 * compiler's table (a missing one would be read as NULL). */
T_SUITE(log_field_names)
{
    unsigned missing = 0;
    for (int x = 1; x < RP_LOG_N_FIELDS; x++)
        missing += log_field_names[x] == NULL;
    T_EQ(missing, 0);
}
