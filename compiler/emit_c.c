/* emit_c.c: prints the program descriptor and its tables as C.
 *
 * As in Varnish's libvcc, output goes to section buffers that are joined in
 * a fixed order at the end (banner and includes, then the tables, then the
 * descriptor), so each part can be written when its data is at hand. Every
 * table entry is preceded by a comment naming the .rp line it came from. */
#include "emit_c.h"

#include <stdint.h>
#include <string.h>

struct emit {
    const struct src *src;
    struct buf head;   /* banner, includes */
    struct buf tables; /* static const tables, in dependency order */
    struct buf code;   /* functions: the decision */
    struct buf prog;   /* the exported descriptor */
};

static unsigned emit_line_of(const struct emit *e, struct span at)
{
    unsigned line, col;
    src_line_col(e->src, at.off, &line, &col);
    return line;
}

static const char *emit_text(const struct emit *e, struct span s)
{
    return e->src->text + s.off;
}

/* A C string literal. Text with line breaks inside is split into one
 * literal per line, continued at the given indent, so bodies stay readable. */
static void emit_string(struct buf *b, const char *s, size_t n, int indent)
{
    size_t start = 0;
    bool first = true;
    do {
        size_t end = start;
        while (end < n && s[end] != '\n')
            end++;
        if (end < n)
            end++; /* keep the newline with its line */
        if (!first)
            buf_printf(b, "\n%*s", indent, "");
        buf_putc(b, '"');
        buf_c_escape(b, s + start, end - start);
        buf_putc(b, '"');
        first = false;
        start = end;
    } while (start < n);
}

/* The policy's file name without its directories: generated C names it so
 * that the same policy gives the same bytes wherever it is built. */
static const char *emit_file_name(const struct emit *e)
{
    const char *slash = strrchr(e->src->name, '/');
    return slash ? slash + 1 : e->src->name;
}

/* A comment on its own line naming the source line ("file.rp:12: ") and what. */
static void emit_comment(struct emit *e, struct buf *b, int indent, struct span at,
                         const char *what, size_t what_len)
{
    buf_printf(b, "%*s/* ", indent, "");
    buf_comment_safe(b, emit_file_name(e), strlen(emit_file_name(e)));
    buf_printf(b, ":%u: ", emit_line_of(e, at));
    buf_comment_safe(b, what, what_len);
    buf_puts(b, " */\n");
}

/* The string literal "file.rp:12" for the line of at. */
static void emit_where(struct emit *e, struct buf *b, struct span at)
{
    struct buf w = {0};
    buf_printf(&w, "%s:%u", emit_file_name(e), emit_line_of(e, at));
    emit_string(b, w.data, w.len, 0);
    buf_free(&w);
}

static void emit_settings(struct emit *e, const struct ast_program *p)
{
    struct buf *b = &e->tables;
    const struct ast_settings *s = &p->set;
    struct buf f = {0};
#define FIELD(name)                                                                                \
    if (s->name)                                                                                   \
        buf_printf(&f, "    ." #name " = %llu,\n", (unsigned long long)s->name);
    if (s->workers == UINT32_MAX)
        buf_puts(&f, "    .workers = RP_WORKERS_AUTO,\n");
    else
        FIELD(workers)
    FIELD(client_header_ms)
    FIELD(client_idle_ms)
    FIELD(client_body_ms)
    FIELD(connect_ms)
    FIELD(backend_ms)
    FIELD(drain_ms)
    FIELD(header_size)
    FIELD(header_count)
    FIELD(uri_length)
    FIELD(body_size)
#undef FIELD
    if (!f.len) {
        buf_puts(b, "static const struct rp_settings rpg_settings = {0};\n\n");
        return;
    }
    for (const struct ast_setting *st = p->settings; st; st = st->next) {
        struct buf what = {0};
        buf_append(&what, emit_text(e, st->stmt.kw), st->stmt.kw.len);
        for (const struct ast_arg *a = st->stmt.args; a; a = a->next) {
            buf_putc(&what, ' ');
            buf_append(&what, emit_text(e, a->tok), a->tok.len);
        }
        emit_comment(e, b, 0, st->stmt.kw, what.data, what.len);
        buf_free(&what);
    }
    buf_puts(b, "static const struct rp_settings rpg_settings = {\n");
    buf_append(b, f.data, f.len);
    buf_puts(b, "};\n\n");
    buf_free(&f);
}

static void emit_listeners(struct emit *e, const struct ast_program *p)
{
    struct buf *b = &e->tables;
    buf_puts(b, "static const struct rp_listener_def rpg_listeners[] = {\n");
    for (const struct ast_listen *l = p->listens; l; l = l->next) {
        struct buf what = {0};
        buf_puts(&what, "listen ");
        buf_append(&what, emit_text(e, l->addr.tok), l->addr.tok.len);
        emit_comment(e, b, 4, l->kw, what.data, what.len);
        buf_free(&what);
        buf_puts(b, "    {.where = ");
        emit_where(e, b, l->kw);
        buf_puts(b, ", .host = ");
        emit_string(b, l->addr.host, strlen(l->addr.host), 0);
        buf_printf(b, ", .port = %u},\n", l->addr.port);
    }
    buf_puts(b, "};\n\n");
}

static void emit_servers(struct emit *e, const struct ast_backend *be)
{
    struct buf *b = &e->tables;
    struct buf what = {0};
    buf_puts(&what, "backend ");
    buf_append(&what, emit_text(e, be->name), be->name.len);
    emit_comment(e, b, 0, be->kw, what.data, what.len);
    buf_free(&what);
    buf_printf(b, "static const struct rp_server_def rpg_servers_%u[] = {\n", be->index);
    for (const struct ast_server *s = be->servers; s; s = s->next) {
        struct buf w = {0};
        buf_puts(&w, "server ");
        buf_append(&w, emit_text(e, s->name), s->name.len);
        buf_putc(&w, ' ');
        buf_append(&w, emit_text(e, s->addr.tok), s->addr.tok.len);
        if (s->has_weight)
            buf_printf(&w, " weight %u", s->weight);
        if (s->backup)
            buf_puts(&w, " backup");
        if (s->max_conns)
            buf_printf(&w, " max_conns %u", s->max_conns);
        if (s->slow_start_ms)
            buf_printf(&w, " slow_start %ums", s->slow_start_ms);
        emit_comment(e, b, 4, s->kw, w.data, w.len);
        buf_free(&w);
        buf_puts(b, "    {.where = ");
        emit_where(e, b, s->kw);
        buf_puts(b, ", .name = ");
        emit_string(b, emit_text(e, s->name), s->name.len, 0);
        buf_puts(b, ", .host = ");
        emit_string(b, s->addr.host, strlen(s->addr.host), 0);
        buf_printf(b, ", .port = %u, .weight = %u", s->addr.port, s->weight);
        if (s->backup)
            buf_puts(b, ", .backup = true");
        if (s->max_conns)
            buf_printf(b, ", .max_conns = %u", s->max_conns);
        if (s->slow_start_ms)
            buf_printf(b, ", .slow_start_ms = %u", s->slow_start_ms);
        buf_puts(b, "},\n");
    }
    buf_puts(b, "};\n\n");
}

static const char *const emit_balance_names[] = {
    [AST_BALANCE_ROUND_ROBIN] = "RP_BALANCE_ROUND_ROBIN",
    [AST_BALANCE_LEAST_CONN] = "RP_BALANCE_LEAST_CONN",
    [AST_BALANCE_RANDOM2] = "RP_BALANCE_RANDOM2",
    [AST_BALANCE_HASH] = "RP_BALANCE_HASH",
    [AST_BALANCE_FIRST] = "RP_BALANCE_FIRST",
};

static const char *const emit_hash_names[] = {
    [AST_HASH_NONE] = "RP_HASH_NONE",     [AST_HASH_CLIENT_IP] = "RP_HASH_CLIENT_IP",
    [AST_HASH_PATH] = "RP_HASH_PATH",     [AST_HASH_HOST] = "RP_HASH_HOST",
    [AST_HASH_HEADER] = "RP_HASH_HEADER", [AST_HASH_COOKIE] = "RP_HASH_COOKIE",
    [AST_HASH_QUERY] = "RP_HASH_QUERY",
};

/* The options after the server table: only those the policy sets, so a
 * plain backend stays short. */
static void emit_backend_opts(struct buf *b, const struct ast_backend *be)
{
    if (be->balance == AST_BALANCE_HASH) {
        buf_printf(b, "        .hash_key = %s,\n", emit_hash_names[be->hash_key]);
        if (be->hash_name) {
            buf_puts(b, "        .hash_name = ");
            emit_string(b, be->hash_name, strlen(be->hash_name), 0);
            buf_puts(b, ",\n");
        }
    }
    if (be->health != AST_HEALTH_NONE) {
        buf_printf(b, "        .health = {\n            .kind = %s,\n",
                   be->health == AST_HEALTH_TCP ? "RP_HEALTH_TCP" : "RP_HEALTH_HTTP");
        if (be->health == AST_HEALTH_HTTP) {
            buf_printf(b, "            .method = \"%s\",\n            .path = ", be->health_method);
            emit_string(b, be->health_path, strlen(be->health_path), 0);
            buf_puts(b, ",\n");
        }
        buf_printf(b, "            .interval_ms = %u,\n            .timeout_ms = %u,\n",
                   be->health_interval_ms, be->health_timeout_ms);
        buf_printf(b, "            .rise = %u,\n            .fall = %u,\n", be->health_rise,
                   be->health_fall);
        if (be->health == AST_HEALTH_HTTP)
            buf_printf(b, "            .expect_min = %u,\n            .expect_max = %u,\n",
                       be->expect_min, be->expect_max);
        buf_puts(b, "        },\n");
    }
    if (be->retries || be->retry_on) {
        static const char *const conds[] = {"RP_RETRY_CONNECT_ERROR", "RP_RETRY_TIMEOUT",
                                            "RP_RETRY_502", "RP_RETRY_503", "RP_RETRY_504"};
        buf_printf(b, "        .retries = %u,\n        .retry_on = ", be->retries);
        bool any = false;
        for (int i = 0; i < 5; i++)
            if (be->retry_on & (1u << i)) {
                buf_printf(b, "%s%s", any ? " | " : "", conds[i]);
                any = true;
            }
        buf_puts(b, any ? ",\n" : "0,\n");
    }
    if (be->queue_timeout_ms)
        buf_printf(b, "        .queue_timeout_ms = %u,\n", be->queue_timeout_ms);
    if (be->keepalive)
        buf_printf(b, "        .keepalive = %u,\n", be->keepalive);
    if (be->keepalive_idle_ms)
        buf_printf(b, "        .keepalive_idle_ms = %u,\n", be->keepalive_idle_ms);
}

static void emit_backends(struct emit *e, const struct ast_program *p)
{
    for (const struct ast_backend *be = p->backends; be; be = be->next)
        emit_servers(e, be);
    struct buf *b = &e->tables;
    buf_puts(b, "static const struct rp_backend_def rpg_backends[] = {\n");
    for (const struct ast_backend *be = p->backends; be; be = be->next) {
        struct buf what = {0};
        buf_puts(&what, "backend ");
        buf_append(&what, emit_text(e, be->name), be->name.len);
        emit_comment(e, b, 4, be->kw, what.data, what.len);
        buf_free(&what);
        buf_puts(b, "    {\n        .where = ");
        emit_where(e, b, be->kw);
        buf_puts(b, ",\n        .name = ");
        emit_string(b, emit_text(e, be->name), be->name.len, 0);
        buf_printf(b, ",\n        .balance = %s,\n", emit_balance_names[be->balance]);
        buf_printf(b, "        .n_servers = %u,\n", be->n_servers);
        buf_printf(b, "        .servers = rpg_servers_%u,\n", be->index);
        emit_backend_opts(b, be);
        buf_puts(b, "    },\n");
    }
    buf_puts(b, "};\n\n");
}

static void emit_routes(struct emit *e, const struct ast_program *p)
{
    struct buf *b = &e->tables;
    buf_puts(b, "static const struct rp_route_def rpg_routes[] = {\n");
    for (const struct ast_route *r = p->routes; r; r = r->next) {
        struct buf what = {0};
        buf_printf(&what, "route %s", r->label);
        emit_comment(e, b, 4, r->kw, what.data, what.len);
        buf_free(&what);
        buf_puts(b, "    {.where = ");
        emit_where(e, b, r->kw);
        buf_puts(b, ", .label = ");
        emit_string(b, r->label, strlen(r->label), 18);
        buf_puts(b, "},\n");
    }
    buf_puts(b, "};\n\n");
}

/* The decision function: the path automaton picks the route, then a case
 * per route sets its action. */
static void emit_decide(struct emit *e, const struct ast_program *p)
{
    struct buf *b = &e->code;
    buf_puts(b, "static void rpg_decide(const struct rp_request_view *req, struct rp_decision *d)\n"
                "{\n"
                "    d->route = rp_route_match(&rpg_path_dfa, req->path, req->path_len);\n"
                "    switch (d->route) {\n");
    for (const struct ast_route *r = p->routes; r; r = r->next) {
        if (r->action == AST_ACTION_NONE)
            continue;
        struct buf what = {0};
        buf_printf(&what, "route %s", r->label);
        buf_printf(b, "    case %u:\n", r->index);
        emit_comment(e, b, 8, r->kw, what.data, what.len);
        buf_free(&what);
        switch (r->action) {
        case AST_ACTION_PROXY:
            buf_puts(b, "        d->action = RP_ACTION_PROXY;\n");
            buf_printf(b, "        d->backend = %u; /* ", r->backend->index);
            buf_comment_safe(b, emit_text(e, r->backend->name), r->backend->name.len);
            buf_puts(b, " */\n");
            if (r->tunnel_kw.len)
                buf_puts(b, "        d->tunnel = true;\n");
            break;
        case AST_ACTION_RESPOND:
            buf_puts(b, "        d->action = RP_ACTION_RESPOND;\n");
            buf_printf(b, "        d->status = %u;\n", r->status);
            buf_puts(b, "        d->body = ");
            emit_string(b, r->body, r->body_len, 18);
            buf_printf(b, ";\n        d->body_len = %zu;\n", r->body_len);
            break;
        case AST_ACTION_NONE:
            break;
        }
        buf_puts(b, "        return;\n");
    }
    buf_puts(b, "    default:\n        return;\n    }\n}\n\n");
}

static void emit_route_index(struct buf *b, uint32_t r)
{
    if (r == RP_NO_ROUTE)
        buf_puts(b, "RP_NO_ROUTE");
    else
        buf_printf(b, "%u", r);
}

static void emit_byte(struct buf *b, uint8_t c)
{
    if (c == '\'' || c == '\\')
        buf_printf(b, "'\\%c'", c);
    else if (c >= 0x20 && c < 0x7f)
        buf_printf(b, "'%c'", c);
    else
        buf_printf(b, "0x%02x", c);
}

static void emit_dfa(struct emit *e, const struct lower_dfa *d)
{
    struct buf *b = &e->tables;
    buf_puts(b, "/* The path automaton: state 0 is the start; each state's edges are a\n"
                " * slice of rpg_path_edges, sorted by byte. */\n");
    buf_puts(b, "static const struct rp_dfa_state rpg_path_states[] = {\n");
    for (uint32_t i = 0; i < d->n_states; i++) {
        const struct rp_dfa_state *s = &d->states[i];
        struct buf path = {0};
        buf_putc(&path, '"');
        buf_c_escape(&path, d->state_path[i], d->state_depth[i]);
        buf_putc(&path, '"');
        buf_printf(b, "    /* %u: ", i);
        buf_comment_safe(b, path.data, path.len);
        buf_puts(b, " */\n");
        buf_free(&path);
        buf_printf(b, "    {.first_edge = %u, .n_edges = %u, .prefix_route = ", s->first_edge,
                   s->n_edges);
        emit_route_index(b, s->prefix_route);
        buf_puts(b, ", .exact_route = ");
        emit_route_index(b, s->exact_route);
        buf_puts(b, "},\n");
    }
    buf_puts(b, "};\n\n");

    if (d->n_edges) {
        buf_puts(b, "static const struct rp_dfa_edge rpg_path_edges[] = {\n");
        for (uint32_t i = 0; i < d->n_states; i++) {
            const struct rp_dfa_state *s = &d->states[i];
            for (uint32_t j = 0; j < s->n_edges; j++) {
                const struct rp_dfa_edge *ed = &d->edges[s->first_edge + j];
                if (j % 6 == 0)
                    buf_printf(b, "%s    /* %u */", j ? "\n" : "", i);
                buf_puts(b, " {");
                emit_byte(b, ed->byte);
                buf_printf(b, ", %u},", ed->next);
            }
            if (s->n_edges)
                buf_putc(b, '\n');
        }
        buf_puts(b, "};\n\n");
    }

    buf_puts(b, "static const struct rp_dfa rpg_path_dfa = {\n");
    buf_printf(b, "    .n_states = %u,\n    .states = rpg_path_states,\n", d->n_states);
    buf_printf(b, "    .n_edges = %u,\n    .edges = %s,\n", d->n_edges,
               d->n_edges ? "rpg_path_edges" : "NULL");
    buf_puts(b, "};\n\n");
}

static void emit_program(struct emit *e, const struct ast_program *p)
{
    struct buf *b = &e->prog;
    buf_puts(b, "const struct rp_program rp_program = {\n");
    buf_puts(b, "    .abi = RP_PROGRAM_ABI,\n    .source = ");
    emit_string(b, emit_file_name(e), strlen(emit_file_name(e)), 0);
    buf_puts(b, ",\n    .settings = &rpg_settings,\n");
    buf_printf(b, "    .n_listeners = %u,\n    .listeners = %s,\n", p->n_listens,
               p->n_listens ? "rpg_listeners" : "NULL");
    buf_printf(b, "    .n_backends = %u,\n    .backends = %s,\n", p->n_backends,
               p->n_backends ? "rpg_backends" : "NULL");
    buf_printf(b, "    .n_routes = %u,\n    .routes = %s,\n", p->n_routes,
               p->n_routes ? "rpg_routes" : "NULL");
    buf_puts(b, "    .decide = rpg_decide,\n};\n");
}

void emit_c(struct buf *out, const struct ast_program *prog, const struct lower_dfa *dfa,
            const struct src *s)
{
    struct emit e = {.src = s};
    buf_puts(&e.head, "/* Generated by rpx " RPX_VERSION " from ");
    buf_comment_safe(&e.head, emit_file_name(&e), strlen(emit_file_name(&e)));
    buf_puts(&e.head, ". DO NOT EDIT. */\n");
    buf_puts(&e.head, "#include <stddef.h>\n\n#include <rp/program.h>\n#include <rp/route.h>\n\n");
    emit_settings(&e, prog);

    if (prog->n_listens)
        emit_listeners(&e, prog);
    if (prog->n_backends)
        emit_backends(&e, prog);
    if (prog->n_routes)
        emit_routes(&e, prog);
    emit_dfa(&e, dfa);
    emit_decide(&e, prog);
    emit_program(&e, prog);

    buf_append(out, e.head.data, e.head.len);
    buf_append(out, e.tables.data, e.tables.len);
    buf_append(out, e.code.data, e.code.len);
    buf_append(out, e.prog.data, e.prog.len);
    buf_free(&e.head);
    buf_free(&e.tables);
    buf_free(&e.code);
    buf_free(&e.prog);
}
