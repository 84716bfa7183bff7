/* emit_c.c: prints the program descriptor and its tables as C.
 *
 * As in Varnish's libvcc, output goes to section buffers that are joined in
 * a fixed order at the end (banner and includes, then the tables, then the
 * descriptor), so each part can be written when its data is at hand. Every
 * table entry is preceded by a comment naming the .rp line it came from. */
#include "emit_c.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "arena.h"
#include "check.h"
#include "ir.h"
#include "lower.h"
#include "policy_hash.h"
#include "regex.h"

struct emit {
    const struct src *src;
    struct buf head;   /* banner, includes */
    struct buf tables; /* static const tables, in dependency order */
    struct buf code;   /* functions: the decision */
    struct buf prog;   /* the exported descriptor */
    struct arena scratch;
    const struct ir_program *ir;
    char hash[POLICY_HASH_SIZE];
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

/* The base name of the file a span is in (an imported file's, for what it
 * defines). */
static const char *emit_file_name_at(const struct emit *e, struct span at)
{
    const char *name = src_name_at(e->src, at.off);
    const char *slash = strrchr(name, '/');
    return slash ? slash + 1 : name;
}

/* A comment on its own line naming the source line ("file.rp:12: ") and what. */
static void emit_comment(struct emit *e, struct buf *b, int indent, struct span at,
                         const char *what, size_t what_len)
{
    buf_printf(b, "%*s/* ", indent, "");
    buf_comment_safe(b, emit_file_name_at(e, at), strlen(emit_file_name_at(e, at)));
    buf_printf(b, ":%u: ", emit_line_of(e, at));
    buf_comment_safe(b, what, what_len);
    buf_puts(b, " */\n");
}

/* The string literal "file.rp:12" for the line of at. */
static void emit_where(struct emit *e, struct buf *b, struct span at)
{
    struct buf w = {0};
    buf_printf(&w, "%s:%u", emit_file_name_at(e, at), emit_line_of(e, at));
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
    FIELD(tunnel_ms)
    FIELD(header_size)
    FIELD(header_count)
    FIELD(uri_length)
    FIELD(body_size)
    FIELD(connections)
    FIELD(connections_per_client)
    FIELD(memory)
    FIELD(http2_streams)
    FIELD(http2_window)
    FIELD(http2_frame)
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

static void emit_opt_string(struct buf *b, const char *field, const char *s)
{
    if (!s)
        return;
    buf_printf(b, "    .%s = ", field);
    emit_string(b, s, strlen(s), 4);
    buf_puts(b, ",\n");
}

/* A listener's `tls { }`: its pairs and settings (rp_tls_def). */
static void emit_tls(struct emit *e, const struct ast_listen *l, unsigned i)
{
    struct buf *b = &e->tables;
    const struct ast_tls *t = l->tls;
    buf_printf(b, "static const struct rp_tls_pair rpg_tls_pairs_%u[] = {\n", i);
    for (const struct ast_tls_pair *p = t->pairs; p; p = p->next) {
        buf_puts(b, "    {.where = ");
        emit_where(e, b, p->at);
        buf_puts(b, ",\n     .cert = ");
        emit_string(b, p->cert, strlen(p->cert), 5);
        buf_puts(b, ",\n     .key = ");
        emit_string(b, p->key, strlen(p->key), 5);
        if (p->ocsp) {
            buf_puts(b, ",\n     .ocsp = ");
            emit_string(b, p->ocsp, strlen(p->ocsp), 5);
        }
        buf_puts(b, "},\n");
    }
    buf_puts(b, "};\n\n");
    buf_printf(b, "static const struct rp_tls_def rpg_tls_%u = {\n    .where = ", i);
    emit_where(e, b, t->at);
    buf_printf(b, ",\n    .n_pairs = %u,\n    .pairs = rpg_tls_pairs_%u,\n", t->n_pairs, i);
    if (t->min_version)
        buf_printf(b, "    .min_version = 0x%04x,\n    .max_version = 0x%04x,\n",
                   t->min_version, t->max_version);
    emit_opt_string(b, "ciphers", t->ciphers);
    emit_opt_string(b, "curves", t->curves);
    /* ALPN: h2, then http/1.1, unless the block says otherwise; a layer 4
     * listener relays bytes to a server that may not speak h2. */
    bool l4 = l->tcp_backend_name.len != 0;
    const char *alpn = t->alpn_len ? t->alpn : l4 ? "\x08http/1.1" : "\x02h2\x08http/1.1";
    size_t alpn_len = t->alpn_len ? t->alpn_len : l4 ? 9 : 12;
    buf_puts(b, "    .alpn = ");
    emit_string(b, alpn, alpn_len, 4);
    buf_printf(b, ",\n    .alpn_len = %zu,\n", alpn_len);
    emit_opt_string(b, "client_ca", t->client_ca);
    if (t->client_ca)
        buf_printf(b, "    .verify = %s,\n",
                   t->verify == RP_TLS_VERIFY_OPTIONAL   ? "RP_TLS_VERIFY_OPTIONAL"
                   : t->verify == RP_TLS_VERIFY_REQUIRED ? "RP_TLS_VERIFY_REQUIRED"
                                                         : "RP_TLS_VERIFY_NONE");
    if (t->ticket_rotate_s == UINT32_MAX)
        buf_puts(b, "    .no_tickets = true,\n");
    else
        buf_printf(b, "    .ticket_rotate_s = %u,\n",
                   t->ticket_rotate_s ? t->ticket_rotate_s : 3600);
    emit_opt_string(b, "ticket_key_file", t->ticket_key_file);
    buf_printf(b, "    .session_cache = %u,\n",
               t->session_cache == UINT32_MAX ? 0 : t->session_cache ? t->session_cache : 20480);
    buf_printf(b, "    .session_timeout_s = %u,\n",
               t->session_timeout_s ? t->session_timeout_s : 3600);
    buf_puts(b, "};\n\n");
}

static void emit_listeners(struct emit *e, const struct ast_program *p)
{
    struct buf *b = &e->tables;
    unsigned i = 0;
    for (const struct ast_listen *l = p->listens; l; l = l->next, i++)
        if (l->tls)
            emit_tls(e, l, i);
    buf_puts(b, "static const struct rp_listener_def rpg_listeners[] = {\n");
    i = 0;
    for (const struct ast_listen *l = p->listens; l; l = l->next, i++) {
        struct buf what = {0};
        buf_puts(&what, "listen ");
        buf_append(&what, emit_text(e, l->addr.tok), l->addr.tok.len);
        emit_comment(e, b, 4, l->kw, what.data, what.len);
        buf_free(&what);
        buf_puts(b, "    {.where = ");
        emit_where(e, b, l->kw);
        buf_puts(b, ", .host = ");
        emit_string(b, l->addr.host, strlen(l->addr.host), 0);
        buf_printf(b, ", .port = %u", l->addr.port);
        if (l->max_conns)
            buf_printf(b, ", .max_conns = %u", l->max_conns);
        if (l->proxy_protocol)
            buf_puts(b, ", .proxy_protocol = true");
        if (l->h2c)
            buf_puts(b, ", .h2c = true");
        if (l->tcp_backend)
            buf_printf(b, ", .tcp = true, .tcp_backend = %u", l->tcp_backend->index);
        if (l->tls)
            buf_printf(b, ", .tls = &rpg_tls_%u", i);
        buf_puts(b, "},\n");
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
    unsigned k = 0;
    for (const struct ast_server *s = be->servers; s; s = s->next, k++) {
        const struct ast_tls_client *t = s->tls;
        if (!t)
            continue;
        buf_printf(b, "static const struct rp_tls_client_def rpg_tlsc_%u_%u = {\n    .where = ",
                   be->index, k);
        emit_where(e, b, t->at);
        buf_puts(b, ",\n");
        emit_opt_string(b, "ca", t->ca);
        emit_opt_string(b, "sni", t->sni);
        buf_printf(b, "    .verify = %s,\n", t->no_verify ? "false" : "true");
        emit_opt_string(b, "cert", t->cert);
        emit_opt_string(b, "key", t->key);
        buf_puts(b, "};\n\n");
    }
    buf_printf(b, "static const struct rp_server_def rpg_servers_%u[] = {\n", be->index);
    k = 0;
    for (const struct ast_server *s = be->servers; s; s = s->next, k++) {
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
        if (s->tls)
            buf_puts(&w, " tls");
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
        if (s->proxy_protocol)
            buf_printf(b, ", .proxy_protocol = %u", s->proxy_protocol);
        if (s->h2)
            buf_puts(b, ", .h2 = true");
        if (s->tls)
            buf_printf(b, ", .tls = &rpg_tlsc_%u_%u", be->index, k);
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
                                            "RP_RETRY_502",           "RP_RETRY_503",
                                            "RP_RETRY_504",           "RP_RETRY_RESET"};
        buf_printf(b, "        .retries = %u,\n        .retry_on = ", be->retries);
        bool any = false;
        for (int i = 0; i < 6; i++)
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
    static const char *const when_down[] = {"RP_WHEN_DOWN_QUEUE", "RP_WHEN_DOWN_PANIC",
                                            "RP_WHEN_DOWN_FAIL"};
    if (be->when_down)
        buf_printf(b, "        .when_down = %s,\n", when_down[be->when_down]);
    if (be->eject_after == UINT32_MAX)
        buf_puts(b, "        .eject_after = RP_EJECT_OFF,\n");
    else if (be->eject_after)
        buf_printf(b, "        .eject_after = %u,\n", be->eject_after);
    if (be->eject_ms)
        buf_printf(b, "        .eject_ms = %u,\n", be->eject_ms);
    if (be->eject_max_ms)
        buf_printf(b, "        .eject_max_ms = %u,\n", be->eject_max_ms);
    if (be->intercept)
        buf_printf(b, "        .intercept = %s%s%s,\n",
                   be->intercept & 1u ? "RP_INTERCEPT_4XX" : "",
                   be->intercept == 3u ? " | " : "", be->intercept & 2u ? "RP_INTERCEPT_5XX" : "");
    if (be->hdr_actions)
        buf_printf(b, "        .headers = &rpg_hdrs_b%u,\n", be->index);
}

static void emit_hdr_table(struct emit *e, const char *tag, const struct ast_hdr_action *list);

static void emit_backends(struct emit *e, const struct ast_program *p)
{
    for (const struct ast_backend *be = p->backends; be; be = be->next) {
        emit_servers(e, be);
        if (be->hdr_actions) {
            char tag[32];
            snprintf(tag, sizeof tag, "b%u", be->index);
            emit_hdr_table(e, tag, be->hdr_actions);
        }
    }
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

static const char *const emit_piece_names[] = {
    [RP_PIECE_TEXT] = "RP_PIECE_TEXT",       [RP_PIECE_VALUE] = "RP_PIECE_VALUE",
    [RP_PIECE_CLIENT_IP] = "RP_PIECE_CLIENT_IP", [RP_PIECE_CLIENT_PORT] = "RP_PIECE_CLIENT_PORT",
    [RP_PIECE_URI] = "RP_PIECE_URI",         [RP_PIECE_REQ_ID] = "RP_PIECE_REQ_ID",
    [RP_PIECE_CAPTURE] = "RP_PIECE_CAPTURE", [RP_PIECE_SERVER] = "RP_PIECE_SERVER",
    [RP_PIECE_BACKEND] = "RP_PIECE_BACKEND", [RP_PIECE_QUERY] = "RP_PIECE_QUERY",
};

/* A table of value pieces, `static const struct rp_piece NAME[]` (one
 * empty text piece when there are none: C has no empty arrays). */
static void emit_rp_pieces(struct buf *b, const char *name, const struct rp_piece *pcs,
                           uint32_t n)
{
    buf_printf(b, "static const struct rp_piece %s[] = {\n", name);
    for (uint32_t i = 0; i < n; i++) {
        const struct rp_piece *pc = &pcs[i];
        const char *what = pc->kind == RP_PIECE_VALUE ? ir_value_name((enum rp_value)pc->what)
                           : NULL;
        buf_printf(b, "    {%s, ", emit_piece_names[pc->kind]);
        if (what)
            buf_printf(b, "%s, ", what);
        else
            buf_printf(b, "%u, ", pc->what);
        if (pc->s) {
            buf_printf(b, "%u, ", pc->len);
            emit_string(b, pc->s, pc->len, 4);
        } else {
            buf_puts(b, "0, NULL");
        }
        buf_puts(b, "},\n");
    }
    if (!n)
        buf_puts(b, "    {RP_PIECE_TEXT, 0, 0, \"\"},\n");
    buf_puts(b, "};\n");
}

/* The pieces of a value as written, as emit_rp_pieces prints them. */
static void emit_pieces(struct emit *e, const char *name, const struct ast_piece *list)
{
    uint32_t n;
    const struct rp_piece *pcs = ir_pieces(&e->scratch, list, &n);
    emit_rp_pieces(&e->tables, name, pcs, n);
}

/* A table of header actions, rpg_hdrs_TAG, with its pieces. */
static void emit_hdr_table(struct emit *e, const char *tag, const struct ast_hdr_action *list)
{
    struct buf *b = &e->tables;
    uint32_t i = 0;
    for (const struct ast_hdr_action *h = list; h; h = h->next, i++) {
        if (!h->value)
            continue;
        char name[48];
        snprintf(name, sizeof name, "rpg_hdr_%s_%u", tag, i);
        emit_pieces(e, name, h->value);
    }
    buf_printf(b, "static const struct rp_header_action rpg_hdr_actions_%s[] = {\n", tag);
    static const char *const ops[] = {"", "RP_HDR_SET", "RP_HDR_ADD", "RP_HDR_REMOVE"};
    i = 0;
    for (const struct ast_hdr_action *h = list; h; h = h->next, i++) {
        buf_puts(b, "    /* ");
        emit_where(e, b, h->where);
        buf_puts(b, " */\n");
        buf_printf(b, "    {.op = %s, .response = %s, %s.name_len = %zu, .name = ", ops[h->op],
                   h->response ? "true" : "false", h->replaces ? ".replaces = true, " : "",
                   h->name_len);
        emit_string(b, h->name, h->name_len, 0);
        buf_puts(b, ", .lname = ");
        emit_string(b, h->lname, h->name_len, 0);
        if (h->value) {
            uint32_t n = 0;
            for (const struct ast_piece *pc = h->value; pc; pc = pc->next)
                n++;
            buf_printf(b, ", .n_pieces = %u, .pieces = rpg_hdr_%s_%u", n, tag, i);
        }
        buf_puts(b, "},\n");
    }
    buf_printf(b, "};\nstatic const struct rp_header_actions rpg_hdrs_%s = {%u, "
                  "rpg_hdr_actions_%s};\n\n", tag, i, tag);
}

static bool route_proxies(const struct ast_route *r)
{
    for (const struct ast_action *a = r->actions; a; a = a->next)
        if (a->kind == AST_ACTION_PROXY)
            return true;
    return false;
}

/* Whether a backend the route may proxy to has header actions. */
static bool route_backend_headers(const struct ast_route *r)
{
    for (const struct ast_action *a = r->actions; a; a = a->next)
        if (a->kind == AST_ACTION_PROXY && a->backend && a->backend->hdr_actions)
            return true;
    return false;
}

/* Whether a route has steps: it proxies and compresses, caches, rewrites, or has
 * header actions (its own, its backends', or the top level's). */
static bool route_has_steps(const struct ast_program *p, const struct ast_route *r)
{
    if (r->hdr_actions || p->hdr_actions)
        return true; /* the proxy's own answers on it take the response actions */
    return route_proxies(r) &&
           (r->compress || r->cache || r->rewrite || route_backend_headers(r));
}

/* The header steps every route's table starts with: top level, backend,
 * route, in that order. */
static void emit_header_steps(struct buf *b, const struct ast_program *p, const struct ast_route *r)
{
    if (p->hdr_actions)
        buf_puts(b, "    {RP_STEP_HEADERS, &rpg_hdrs_top},\n");
    if (route_backend_headers(r))
        buf_puts(b, "    {RP_STEP_BACKEND_HEADERS, NULL},\n");
    if (r->hdr_actions)
        buf_printf(b, "    {RP_STEP_HEADERS, &rpg_hdrs_%u},\n", r->index);
}

/* A route's strip or rewrite: rpg_rewrite_N (and its pieces). */
static void emit_rewrite(struct emit *e, const struct ast_route *r)
{
    struct buf *b = &e->tables;
    const struct ast_rewrite *rw = r->rewrite;
    uint32_t n = 0;
    if (!rw->prefix) {
        buf_printf(b, "static const struct rp_regex rpg_re_%u; /* below */\n", rw->regex_id);
        char name[40];
        snprintf(name, sizeof name, "rpg_rewrite_%u_pieces", r->index);
        const struct rp_piece *pcs = ir_pieces(&e->scratch, rw->pieces, &n);
        emit_rp_pieces(b, name, pcs, n);
    }
    buf_printf(b, "static const struct rp_rewrite_def rpg_rewrite_%u = {\n    .where = ", r->index);
    emit_where(e, b, rw->kw);
    if (rw->prefix) {
        buf_puts(b, ",\n    .prefix = ");
        emit_string(b, rw->prefix, rw->prefix_len, 4);
        buf_printf(b, ",\n    .prefix_len = %zu,\n};\n", rw->prefix_len);
    } else {
        buf_printf(b, ",\n    .re = &rpg_re_%u,\n    .n_pieces = %u,\n"
                      "    .pieces = rpg_rewrite_%u_pieces,\n};\n", rw->regex_id, n, r->index);
    }
}

/* A route's cache: rpg_cache_N and its key's pieces. */
static void emit_cache(struct emit *e, const struct ast_route *r)
{
    struct buf *b = &e->tables;
    const struct ast_cache *ca = r->cache;
    char name[32];
    snprintf(name, sizeof name, "rpg_cache_key_%u", r->index);
    emit_pieces(e, name, ca->key);
    uint32_t n = 0;
    for (const struct ast_piece *pc = ca->key; pc; pc = pc->next)
        n++;
    buf_printf(b, "static const struct rp_cache_def rpg_cache_%u = {\n    .where = ", r->index);
    emit_where(e, b, ca->kw);
    buf_printf(b, ",\n    .ttl_s = %u,\n    .max_ttl_s = %u,\n    .heuristic_max_s = %u,\n"
                  "    .swr_s = %u,\n    .sie_s = %u,\n    .max_size = %llu,\n"
                  "    .max_object = %llu,\n    .status_header = ",
               ca->ttl_s, ca->max_ttl_s, ca->heuristic_max_s, ca->swr_s, ca->sie_s,
               (unsigned long long)ca->max_size, (unsigned long long)ca->max_object);
    if (ca->status_header)
        emit_string(b, ca->status_header, strlen(ca->status_header), 4);
    else
        buf_puts(b, "NULL");
    buf_printf(b, ",\n    .n_key = %u,\n    .key = %s,\n};\n", n, name);
}

/* A route's steps (rp/program.h): its table, named rpg_steps_N. */
static void emit_route_steps(struct emit *e, const struct ast_program *p,
                             const struct ast_route *r)
{
    struct buf *b = &e->tables;
    if (!route_has_steps(p, r))
        return;
    char tag[32];
    snprintf(tag, sizeof tag, "%u", r->index);
    if (r->hdr_actions)
        emit_hdr_table(e, tag, r->hdr_actions);
    if (r->rewrite)
        emit_rewrite(e, r);
    const struct ast_compress *cp = r->compress;
    if (cp) {
        buf_printf(b, "static const char *const rpg_compress_types_%u[] = {\n", r->index);
        for (uint32_t i = 0; i < cp->n_types; i++) {
            buf_puts(b, "    ");
            emit_string(b, cp->types[i], strlen(cp->types[i]), 4);
            buf_puts(b, ",\n");
        }
        buf_puts(b, "};\n");
        buf_printf(b, "static const struct rp_compress_def rpg_compress_%u = {\n    .where = ",
                   r->index);
        emit_where(e, b, cp->kw);
        buf_printf(b, ",\n    .codings = %s%s%s,\n    .level = %u,\n    .min_length = %llu,\n"
                      "    .n_types = %u,\n    .types = rpg_compress_types_%u,\n};\n",
                   cp->coding_bits & RP_CODING_GZIP ? "RP_CODING_GZIP" : "",
                   cp->coding_bits == (RP_CODING_GZIP | RP_CODING_BR) ? " | " : "",
                   cp->coding_bits & RP_CODING_BR ? "RP_CODING_BR" : "", cp->level,
                   (unsigned long long)cp->min_length, cp->n_types, r->index);
    }
    if (r->cache)
        emit_cache(e, r);
    buf_printf(b, "static const struct rp_step rpg_steps_%u[] = {\n", r->index);
    emit_header_steps(b, p, r);
    if (r->rewrite)
        buf_printf(b, "    {RP_STEP_REWRITE, &rpg_rewrite_%u},\n", r->index);
    /* the cache before compress: it stores (and serves) the body as the
     * server sent it; compression comes after, per client */
    if (r->cache)
        buf_printf(b, "    {RP_STEP_CACHE, &rpg_cache_%u},\n", r->index);
    if (cp)
        buf_printf(b, "    {RP_STEP_COMPRESS, &rpg_compress_%u},\n", r->index);
    buf_puts(b, "    {RP_STEP_END, NULL},\n};\n\n");
}

/* The `limit` definitions: rpg_limit_N, their keys, and rpg_limits. */
static void emit_limits(struct emit *e, const struct ast_program *p)
{
    struct buf *b = &e->tables;
    for (const struct ast_limit *l = p->limits; l; l = l->next) {
        char name[40];
        snprintf(name, sizeof name, "rpg_limit_key_%u", l->index);
        uint32_t n = 0;
        for (const struct ast_piece *pc = l->key; pc; pc = pc->next)
            n++;
        if (n)
            emit_pieces(e, name, l->key);
        buf_printf(b, "static const struct rp_limit_def rpg_limit_%u = {\n    .where = ", l->index);
        emit_where(e, b, l->kw);
        buf_puts(b, ",\n    .name = ");
        emit_string(b, emit_text(e, l->name), l->name.len, 4);
        buf_printf(b, ",\n    .index = %u,\n    .interval_ns = %lluu,\n    .burst = %u,\n"
                      "    .quota = %u,\n    .window_s = %u,\n    .keys = %u,\n",
                   l->index, (unsigned long long)l->interval_ns, l->burst, l->quota, l->window_s,
                   l->keys);
        if (l->concurrent)
            buf_printf(b, "    .concurrent = %u,\n", l->concurrent);
        if (l->redis.tok.len)
            buf_printf(b, "    .redis_host = \"%s\",\n    .redis_port = %u,\n%s", l->redis.host,
                       l->redis.port, l->fail_closed ? "    .fail_closed = true,\n" : "");
        if (l->ban_ns)
            buf_printf(b, "    .ban_ns = %lluu,\n    .status_min = %u,\n    .status_max = %u,\n",
                       (unsigned long long)l->ban_ns, l->status_min, l->status_max);
        if (l->by_route)
            buf_puts(b, "    .by_route = true,\n");
        buf_printf(b, "    .n_key = %u,\n    .key = %s,\n};\n", n, n ? name : "NULL");
    }
    buf_puts(b, "static const struct rp_limit_def *const rpg_limits[] = {\n");
    for (const struct ast_limit *l = p->limits; l; l = l->next)
        buf_printf(b, "    &rpg_limit_%u,\n", l->index);
    buf_puts(b, "};\n\n");
}

/* Whether a route has an access phase: methods, body size, limits, auth. */
static bool route_has_access(const struct ast_route *r)
{
    return r->limits || r->auth || r->methods_kw.len || r->body_size_kw.len;
}

/* A route's access phase: rpg_access_N, in the order it runs: what the
 * request is (methods, body size), then limits (before auth: a flood of
 * guesses is refused before a hash is computed), then auth. */
static void emit_route_access(struct emit *e, const struct ast_route *r)
{
    bool p_jwt_values = e->ir->ast->jwt_values || e->ir->ast->jwt_condition.len;
    struct buf *b = &e->tables;
    uint32_t k = 0;
    for (const struct ast_limit_use *u = r->limits; u; u = u->next, k++)
        buf_printf(b, "static const struct rp_limit_use rpg_limit_use_%u_%u = {&rpg_limit_%u, %s};\n",
                   r->index, k, u->limit->index, u->delay ? "true" : "false");
    const struct ast_auth *au = r->auth;
    if (au && au->backend) {
        if (au->n_copy) {
            buf_printf(b, "static const char *const rpg_authreq_%u_copy[] = {", r->index);
            for (uint32_t i = 0; i < au->n_copy; i++)
                buf_printf(b, "%s\"%s\"", i ? ", " : "", au->copy[i]);
            buf_puts(b, "};\n");
        }
        buf_printf(b, "static const struct rp_auth_request_def rpg_authreq_%u = {\n    .where = ",
                   r->index);
        emit_where(e, b, au->kw);
        buf_printf(b, ",\n    .backend = %u,\n    .path = ", au->backend->index);
        emit_string(b, au->path, strlen(au->path), 4);
        if (au->n_copy)
            buf_printf(b, ",\n    .n_copy = %u,\n    .copy = rpg_authreq_%u_copy", au->n_copy,
                       r->index);
        buf_puts(b, ",\n};\n");
    } else if (au && au->jwt) {
        if (au->n_audiences) {
            buf_printf(b, "static const char *const rpg_jwt_%u_aud[] = {", au->index);
            for (uint32_t i = 0; i < au->n_audiences; i++) {
                buf_puts(b, i ? ", " : "");
                emit_string(b, au->audiences[i], strlen(au->audiences[i]), 4);
            }
            buf_puts(b, "};\n");
        }
        buf_printf(b, "static const struct rp_jwt_def rpg_jwt_%u = {\n    .where = ", au->index);
        emit_where(e, b, au->kw);
        buf_printf(b, ",\n    .index = %u,\n    .key_file = ", au->index);
        emit_string(b, au->file, strlen(au->file), 4);
        buf_printf(b, ",\n    .algs = 0x%xu,\n", au->jwt_algs);
        if (au->issuer) {
            buf_puts(b, "    .issuer = ");
            emit_string(b, au->issuer, strlen(au->issuer), 4);
            buf_puts(b, ",\n");
        }
        if (au->n_audiences)
            buf_printf(b, "    .n_audiences = %u,\n    .audiences = rpg_jwt_%u_aud,\n",
                       au->n_audiences, au->index);
        buf_printf(b, "    .leeway_s = %u,\n", au->leeway_s);
        if (au->from) {
            buf_printf(b, "    .from = %s,\n    .from_name = ",
                       au->from == RP_JWT_FROM_COOKIE ? "RP_JWT_FROM_COOKIE" : "RP_JWT_FROM_QUERY");
            emit_string(b, au->from_name, strlen(au->from_name), 4);
            buf_puts(b, ",\n");
        }
        if (au->forward_token)
            buf_puts(b, "    .forward_token = true,\n");
        if (au->jwks)
            buf_puts(b, "    .jwks = true,\n");
        if (p_jwt_values)
            buf_puts(b, "    .claims = true,\n");
        buf_puts(b, "};\n");
    } else if (au) {
        buf_printf(b, "static const struct rp_auth_basic_def rpg_auth_%u = {\n    .where = ",
                   au->index);
        emit_where(e, b, au->kw);
        buf_puts(b, ",\n    .realm = ");
        emit_string(b, au->realm, strlen(au->realm), 4);
        buf_puts(b, ",\n    .file = ");
        emit_string(b, au->file, strlen(au->file), 4);
        buf_printf(b, ",\n    .index = %u,\n", au->index);
        if (au->forward_credentials)
            buf_puts(b, "    .forward_credentials = true,\n");
        buf_puts(b, "};\n");
    }
    if (r->methods_kw.len) {
        buf_printf(b, "static const char *const rpg_methods_%u_names[] = {", r->index);
        for (uint32_t i = 0; i < r->n_allow; i++)
            buf_printf(b, "%s\"%s\"", i ? ", " : "", r->allow[i]);
        buf_printf(b, "};\nstatic const struct rp_methods_def rpg_methods_%u = {\n    .where = ",
                   r->index);
        emit_where(e, b, r->methods_kw);
        buf_printf(b, ",\n    .n = %u,\n    .names = rpg_methods_%u_names,\n    .allow = ",
                   r->n_allow, r->index);
        emit_string(b, r->allow_text, strlen(r->allow_text), 4);
        buf_puts(b, ",\n};\n");
    }
    if (r->body_size_kw.len) {
        buf_printf(b, "static const struct rp_body_size_def rpg_body_size_%u = {", r->index);
        emit_where(e, b, r->body_size_kw);
        buf_printf(b, ", %lluu};\n", (unsigned long long)r->body_size);
    }
    buf_printf(b, "static const struct rp_step rpg_access_%u[] = {\n", r->index);
    if (r->methods_kw.len)
        buf_printf(b, "    {RP_STEP_METHODS, &rpg_methods_%u},\n", r->index);
    if (r->body_size_kw.len)
        buf_printf(b, "    {RP_STEP_BODY_SIZE, &rpg_body_size_%u},\n", r->index);
    k = 0;
    for (const struct ast_limit_use *u = r->limits; u; u = u->next, k++)
        buf_printf(b, "    {RP_STEP_LIMIT, &rpg_limit_use_%u_%u},\n", r->index, k);
    if (au && au->backend)
        buf_printf(b, "    {RP_STEP_AUTH_REQUEST, &rpg_authreq_%u},\n", r->index);
    else if (au && au->jwt)
        buf_printf(b, "    {RP_STEP_AUTH_JWT, &rpg_jwt_%u},\n", au->index);
    else if (au)
        buf_printf(b, "    {RP_STEP_AUTH_BASIC, &rpg_auth_%u},\n", au->index);
    buf_puts(b, "    {RP_STEP_END, NULL},\n};\n\n");
}

static void emit_routes(struct emit *e, const struct ast_program *p)
{
    struct buf *b = &e->tables;
    if (p->hdr_actions)
        emit_hdr_table(e, "top", p->hdr_actions);
    for (const struct ast_route *r = p->routes; r; r = r->next) {
        emit_route_steps(e, p, r);
        if (route_has_access(r))
            emit_route_access(e, r);
    }
    if (p->n_auths) {
        buf_puts(b, "static const struct rp_auth_basic_def *const rpg_auths[] = {\n");
        for (const struct ast_route *r = p->routes; r; r = r->next)
            if (r->auth && !r->auth->backend && !r->auth->jwt)
                buf_printf(b, "    &rpg_auth_%u,\n", r->auth->index);
        buf_puts(b, "};\n\n");
    }
    if (p->n_jwts) {
        buf_puts(b, "static const struct rp_jwt_def *const rpg_jwts[] = {\n");
        for (const struct ast_route *r = p->routes; r; r = r->next)
            if (r->auth && r->auth->jwt)
                buf_printf(b, "    &rpg_jwt_%u,\n", r->auth->index);
        buf_puts(b, "};\n\n");
    }
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
        if (route_has_steps(p, r))
            buf_printf(b, ", .steps = rpg_steps_%u", r->index);
        if (r->log_off.len)
            buf_puts(b, ", .log_off = true");
        if (route_has_access(r))
            buf_printf(b, ", .access = rpg_access_%u", r->index);
        buf_puts(b, "},\n");
    }
    buf_puts(b, "};\n\n");
}

/* ---- regexes, CIDR sets, string sets ---------------------------------------- */

static void emit_regexes(struct emit *e, const struct ast_program *p)
{
    struct buf *b = &e->tables;
    static const char *const ops[] = {"RP_RE_CHAR", "RP_RE_ANY",  "RP_RE_CLASS",
                                      "RP_RE_SPLIT", "RP_RE_JMP", "RP_RE_SAVE",
                                      "RP_RE_BOL",  "RP_RE_EOL",  "RP_RE_MATCH"};
    for (uint32_t i = 0; i < p->n_regexes; i++) {
        const struct regex_prog *re = p->regexes[i];
        buf_puts(b, "/* regex ");
        buf_comment_safe(b, re->source, re->source_len);
        buf_puts(b, " */\n");
        if (re->n_classes) {
            buf_printf(b, "static const uint8_t rpg_re_%u_classes[][32] = {\n", i);
            for (uint32_t k = 0; k < re->n_classes; k++) {
                buf_puts(b, "    {");
                for (int j = 0; j < 32; j++)
                    buf_printf(b, "%s0x%02x", j ? ", " : "", re->classes[k][j]);
                buf_puts(b, "},\n");
            }
            buf_puts(b, "};\n");
        }
        buf_printf(b, "static const struct rp_re_inst rpg_re_%u_insts[] = {\n", i);
        for (uint32_t k = 0; k < re->n_insts; k++) {
            const struct rp_re_inst *in = &re->insts[k];
            buf_printf(b, "    {%s, %u, %u, %u},\n", ops[in->op], in->c, in->x, in->y);
        }
        buf_puts(b, "};\n");
        buf_printf(b, "static const struct rp_regex rpg_re_%u = {%u, rpg_re_%u_insts, ", i,
                   re->n_insts, i);
        if (re->n_classes)
            buf_printf(b, "rpg_re_%u_classes", i);
        else
            buf_puts(b, "NULL");
        buf_printf(b, ", %u};\n\n", re->n_caps);
    }
}

static void emit_bytes16(struct buf *b, const uint8_t *v)
{
    buf_putc(b, '{');
    for (int i = 0; i < 16; i++)
        buf_printf(b, "%s%u", i ? "," : "", v[i]);
    buf_putc(b, '}');
}

/* CIDR sets as check.c merged them. */
static void emit_cidr_sets(struct emit *e, const struct ast_program *p)
{
    struct buf *b = &e->tables;
    for (uint32_t i = 0; i < p->n_cidr_sets; i++) {
        const struct ast_cidr_set *set = &p->cidr_sets[i];
        buf_puts(b, "/* ");
        buf_comment_safe(b, emit_text(e, set->what), set->what.len);
        buf_puts(b, " */\n");
        buf_printf(b, "static const struct rp_ip_range rpg_cidr_%u[] = {\n", i);
        for (uint32_t k = 0; k < set->n; k++) {
            buf_puts(b, "    {");
            emit_bytes16(b, set->ranges[k].lo);
            buf_puts(b, ", ");
            emit_bytes16(b, set->ranges[k].hi);
            buf_puts(b, "},\n");
        }
        if (!set->n)
            buf_puts(b, "    {{0}, {0}}, /* none: n is 0 */\n");
        buf_puts(b, "};\n\n");
        if (set->n >= RP_IP_INDEX_MIN) {
            /* filled when the proxy starts (rp_ip_index_build) */
            buf_printf(b, "static uint32_t rpg_cidr_%u_v4[RP_IP_INDEX_SLOTS], "
                          "rpg_cidr_%u_v6[RP_IP_INDEX_SLOTS];\n", i, i);
            buf_printf(b, "static const struct rp_ip_index rpg_cidr_%u_index = "
                          "{rpg_cidr_%u, %u, rpg_cidr_%u_v4, rpg_cidr_%u_v6};\n\n",
                       i, i, set->n, i, i);
        }
    }
    uint32_t n_index = 0;
    for (uint32_t i = 0; i < p->n_cidr_sets; i++)
        n_index += p->cidr_sets[i].n >= RP_IP_INDEX_MIN;
    if (n_index) {
        buf_puts(b, "static const struct rp_ip_index *const rpg_ip_indexes[] = {\n");
        for (uint32_t i = 0; i < p->n_cidr_sets; i++)
            if (p->cidr_sets[i].n >= RP_IP_INDEX_MIN)
                buf_printf(b, "    &rpg_cidr_%u_index,\n", i);
        buf_puts(b, "};\n\n");
    }
}


/* `what, "name", len` for a request value. */
static void emit_value_args(struct buf *b, enum rp_value value, const char *key, uint32_t key_len)
{
    buf_printf(b, "%s, ", ir_value_name(value));
    if (key) {
        emit_string(b, key, key_len, 0);
        buf_printf(b, ", %u", key_len);
    } else {
        buf_puts(b, "NULL, 0");
    }
}

/* A test as the one runtime call that decides it (ir_test_holds makes the
 * same call for explain). */
static void emit_test(struct buf *b, const struct ir_program *ir, const struct ir_test *t)
{
    switch (t->kind) {
    case IR_IP_IN:
        if (ir->ast->cidr_sets[t->set].n >= RP_IP_INDEX_MIN) {
            buf_printf(b, "%srp_ip_in_index(req->client_ip, &rpg_cidr_%u_index)",
                       t->negate ? "!" : "", t->set);
            return;
        }
        buf_printf(b, "%srp_ip_in(req->client_ip, rpg_cidr_%u, %u)", t->negate ? "!" : "", t->set,
                   ir->ast->cidr_sets[t->set].n);
        return;
    case IR_VALUE_IN:
        buf_puts(b, "rp_req_in(req, ");
        emit_value_args(b, t->value, t->key, t->key_len);
        buf_puts(b, ", (const struct rp_str[]){");
        for (uint32_t i = 0; i < t->n_list; i++) {
            buf_puts(b, i ? ", {" : "{");
            emit_string(b, t->list[i].s, t->list[i].len, 0);
            buf_printf(b, ", %u}", t->list[i].len);
        }
        buf_printf(b, "}, %u)", t->n_list);
        return;
    case IR_VALUE:
        buf_puts(b, "rp_req_test(req, ");
        emit_value_args(b, t->value, t->key, t->key_len);
        buf_printf(b, ", %s, ", ir_op_name(t->op));
        if (t->lit) {
            emit_string(b, t->lit, t->lit_len, 0);
            buf_printf(b, ", %u, NULL)", t->lit_len);
        } else if (t->op == RP_CMP_RE) {
            buf_printf(b, "NULL, 0, &rpg_re_%u)", t->regex);
        } else {
            buf_puts(b, "NULL, 0, NULL)");
        }
        return;
    }
}

/* An expression as a C expression over `req`. */
static void emit_expr(struct emit *e, struct buf *b, const struct ast_expr *x)
{
    switch (x->kind) {
    case AST_E_OR:
    case AST_E_AND:
        buf_putc(b, '(');
        emit_expr(e, b, x->l);
        buf_puts(b, x->kind == AST_E_OR ? " || " : " && ");
        emit_expr(e, b, x->r);
        buf_putc(b, ')');
        return;
    case AST_E_NOT:
        buf_puts(b, "!");
        emit_expr(e, b, x->l);
        return;
    case AST_E_CMP:
        break;
    }
    if (x->subj == AST_SUBJ_ACL) {
        buf_printf(b, "rpg_acl_%u(req)", x->acl->index);
        return;
    }
    emit_test(b, e->ir, ir_expr_test(e->ir, x));
}

/* Marks in called[] the acls an expression calls (not those it only takes
 * a list from, as in `client.ip in NAME`). */
static void emit_mark_calls(const struct ast_expr *x, bool *called)
{
    if (!x)
        return;
    if (x->kind != AST_E_CMP) {
        emit_mark_calls(x->l, called);
        emit_mark_calls(x->r, called);
    } else if (x->subj == AST_SUBJ_ACL) {
        called[x->acl->index] = true;
    }
}

static void emit_acls(struct emit *e, const struct ast_program *p)
{
    struct buf *b = &e->code;
    /* An acl nothing uses (an imported module's, typically) is still
     * emitted, marked so the C compiler does not warn about it. */
    bool *called = arena_alloc(&e->scratch, (p->n_acls + 1) * sizeof *called);
    for (const struct ast_acl *a = p->acls; a; a = a->next)
        emit_mark_calls(a->expr, called);
    for (const struct ast_route *r = p->routes; r; r = r->next) {
        emit_mark_calls(r->cond, called);
        for (const struct ast_action *x = r->actions; x; x = x->next)
            emit_mark_calls(x->guard, called);
    }
    for (const struct ast_acl *a = p->acls; a; a = a->next)
        buf_printf(b, "static bool rpg_acl_%u(const struct rp_request_view *req)%s;\n", a->index,
                   called[a->index] ? "" : " __attribute__((unused))");
    if (p->acls)
        buf_putc(b, '\n');
    for (const struct ast_acl *a = p->acls; a; a = a->next) {
        struct buf what = {0};
        buf_puts(&what, "acl ");
        buf_append(&what, emit_text(e, a->name), a->name.len);
        emit_comment(e, b, 0, a->kw, what.data, what.len);
        buf_free(&what);
        buf_printf(b, "static bool rpg_acl_%u(const struct rp_request_view *req)\n{\n"
                      "    (void)req;\n    return ",
                   a->index);
        emit_expr(e, b, a->expr);
        buf_puts(b, ";\n}\n\n");
    }
}

/* Step i's Location, rpg_location_R_I, when its answer is a redirect. */
static void emit_location(struct emit *e, const struct ir_route *rt, uint32_t i)
{
    const struct rp_answer *an = &rt->steps[i].answer;
    if (an->action != RP_ACTION_REDIRECT)
        return;
    char name[48];
    snprintf(name, sizeof name, "rpg_location_%u_%u", rt->ast->index, i);
    emit_rp_pieces(&e->code, name, an->location, an->n_location);
}

/* Step i's answer, as a designated initializer of struct rp_answer. */
static void emit_answer_fields(struct emit *e, struct buf *b, const struct ir_route *rt,
                               uint32_t i, int ind)
{
    const struct ir_step *st = &rt->steps[i];
    const struct rp_answer *an = &st->answer;
    buf_printf(b, "{.action = %s", ir_action_name(an->action));
    if (an->action == RP_ACTION_PROXY) {
        buf_printf(b, ", .backend = %u /* ", an->backend);
        buf_comment_safe(b, emit_text(e, st->act->backend->name), st->act->backend->name.len);
        buf_puts(b, an->tunnel ? " */, .tunnel = true}" : " */}");
        return;
    }
    if (an->status)
        buf_printf(b, ", .status = %u", an->status);
    if (an->action == RP_ACTION_RESPOND) {
        buf_puts(b, ", .body = ");
        emit_string(b, an->body, an->body_len, ind + 4);
        buf_printf(b, ", .body_len = %u", an->body_len);
        if (an->content_type)
            buf_printf(b, ", .content_type = \"%s\"", an->content_type);
    }
    if (an->action == RP_ACTION_REDIRECT)
        buf_printf(b, ", .n_location = %u, .location = rpg_location_%u_%u", an->n_location,
                   rt->ast->index, i);
    buf_putc(b, '}');
}

/* A step's answer as a table, rpg_answer_R_I (after its Location's
 * pieces), for the route's function to set. */
static void emit_answer(struct emit *e, const struct ir_route *rt, uint32_t i)
{
    struct buf *b = &e->code;
    emit_location(e, rt, i);
    buf_printf(b, "static const struct rp_answer rpg_answer_%u_%u = ", rt->ast->index, i);
    emit_answer_fields(e, b, rt, i, 0);
    buf_puts(b, ";\n");
}

/* One function per route that is not a table row: the checks the
 * automaton cannot decide (method, path regex, if), then the actions in
 * order. Returns false if the route does not match, so the next candidate
 * is tried. (A route that always answers one way needs no code, only a row
 * of rpg_route_tab: C compilers take far longer over 10,000 small functions
 * than over 10,000 table rows.) */
static void emit_route_fns(struct emit *e, const struct ir_program *ir)
{
    struct buf *b = &e->code;
    for (uint32_t ri = 0; ri < ir->ast->n_routes; ri++) {
        const struct ir_route *rt = &ir->route_ir[ri];
        const struct ast_route *r = rt->ast;
        if (rt->table_row) {
            emit_location(e, rt, 0); /* its row's, ahead of the table */
            continue;
        }
        struct buf what = {0};
        buf_printf(&what, "route %s", r->label);
        emit_comment(e, b, 0, r->kw, what.data, what.len);
        buf_free(&what);
        for (uint32_t i = 0; i < rt->n_steps; i++)
            emit_answer(e, rt, i);
        buf_printf(b, "static bool rpg_route_%u(const struct rp_request_view *req, "
                      "struct rp_decision *d)\n{\n    (void)req;\n",
                   r->index);
        const char *cap = "NULL";
        for (uint32_t i = 0; i < rt->n_checks; i++) {
            const struct ir_check *ck = &rt->checks[i];
            switch (ck->kind) {
            case IR_CHECK_HOST:
            case IR_CHECK_PATH:
                break; /* the automaton's */
            case IR_CHECK_METHOD:
                buf_puts(b, "    if (!");
                emit_test(b, ir, &ir->tests[ck->test]);
                buf_puts(b, ")\n        return false;\n");
                break;
            case IR_CHECK_REGEX:
                if (rt->captures) {
                    cap = "cap";
                    buf_puts(b, "    uint32_t cap[2 * RP_RE_MAX_CAPS];\n");
                }
                buf_printf(b, "    if (!rp_regex_match(&rpg_re_%u, req->path, req->path_len, %s))\n"
                              "        return false;\n",
                           ck->regex, cap);
                break;
            case IR_CHECK_COND:
                buf_puts(b, "    if (!");
                emit_expr(e, b, ck->cond);
                buf_puts(b, ")\n        return false;\n");
                break;
            }
        }
        for (uint32_t i = 0; i < rt->n_steps; i++) {
            const struct ir_step *st = &rt->steps[i];
            int ind = 4;
            if (st->guard) {
                buf_printf(b, "    if (%s", st->unless ? "!" : "");
                emit_expr(e, b, st->guard);
                buf_puts(b, ") {\n");
                ind = 8;
            }
            buf_printf(b, "%*srp_answer_set(d, &rpg_answer_%u_%u, req, %s);\n%*sreturn true;\n",
                       ind, "", r->index, i, cap, ind, "");
            if (st->guard)
                buf_puts(b, "    }\n");
        }
        if (rt->n_steps == 0 || rt->steps[rt->n_steps - 1].guard)
            buf_puts(b, "    return false;\n");
        buf_puts(b, "}\n\n");
    }
}

/* The decision function: the automaton gives the candidate routes for the
 * host and path, each tried in order until one matches. */
static void emit_decide(struct emit *e, const struct ast_program *p)
{
    struct buf *b = &e->code;
    const struct ir_program *ir = e->ir;
    emit_acls(e, p);
    emit_route_fns(e, ir);
    if (p->n_routes) {
        buf_puts(b, "/* Per route: the function that decides it, or (fn NULL) what it always\n"
                    " * answers. */\n"
                    "struct rpg_route {\n"
                    "    bool (*fn)(const struct rp_request_view *, struct rp_decision *);\n"
                    "    struct rp_answer answer;\n"
                    "};\n\n"
                    "static const struct rpg_route rpg_route_tab[] = {\n");
        for (uint32_t ri = 0; ri < p->n_routes; ri++) {
            const struct ir_route *rt = &ir->route_ir[ri];
            if (!rt->table_row) {
                buf_printf(b, "    {.fn = rpg_route_%u},\n", ri);
                continue;
            }
            buf_printf(b, "    /* %u, ", ri);
            const char *file = emit_file_name_at(e, rt->ast->kw);
            buf_comment_safe(b, file, strlen(file));
            buf_printf(b, ":%u */ {NULL, ", emit_line_of(e, rt->ast->kw));
            emit_answer_fields(e, b, rt, 0, 4);
            buf_puts(b, "},\n");
        }
        buf_puts(b, "};\n\n");
    }
    buf_puts(b, "static void rpg_decide(const struct rp_request_view *req, struct rp_decision *d)\n"
                "{\n"
                "    const uint32_t *c;\n"
                "    uint32_t n = rp_match_routes(&rpg_matcher, req->host, req->host_len, "
                "req->path,\n"
                "                                 req->path_len, &c);\n");
    if (p->n_routes)
        buf_puts(b, "    for (uint32_t i = 0; i < n; i++) {\n"
                    "        const struct rpg_route *rt = &rpg_route_tab[c[i]];\n"
                    "        if (rt->fn) {\n"
                    "            if (!rt->fn(req, d))\n"
                    "                continue;\n"
                    "        } else {\n"
                    "            rp_answer_set(d, &rt->answer, req, NULL);\n"
                    "        }\n"
                    "        d->route = c[i];\n"
                    "        return;\n"
                    "    }\n");
    else
        buf_puts(b, "    (void)n;\n    (void)d;\n");
    buf_puts(b, "}\n\n");
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
    (void)emit_route_index;
    buf_puts(b, "/* The route automaton: host states read the host backwards from state 0,\n"
                " * then the path part for the host patterns that matched; each state's\n"
                " * edges are a slice of rpg_match_edges, sorted by byte, and its\n"
                " * candidate routes a slice of rpg_match_cands. */\n");
    buf_puts(b, "static const struct rp_match_state rpg_match_states[] = {\n");
    for (uint32_t i = 0; i < d->n_states; i++) {
        const struct rp_match_state *s = &d->states[i];
        struct buf what = {0};
        uint32_t n = d->state_len[i];
        const char *w = d->state_what[i];
        if (d->state_host[i]) {
            /* the host suffix read so far */
            buf_puts(&what, "host \"");
            size_t L = strlen(w);
            buf_c_escape(&what, w + L - n, n);
        } else {
            buf_puts(&what, "path \"");
            buf_c_escape(&what, w, n);
        }
        buf_putc(&what, '"');
        buf_printf(b, "    /* %u: ", i);
        buf_comment_safe(b, what.data, what.len);
        buf_puts(b, " */\n");
        buf_free(&what);
        buf_printf(b, "    {%u, %u, %u, %u, %u, %u, %u, %u},\n", s->first_edge, s->n_edges,
                   s->end_first, s->end_n, s->stop_first, s->stop_n, s->path_root,
                   s->path_root_more);
    }
    buf_puts(b, "};\n\n");

    buf_puts(b, "static const struct rp_match_edge rpg_match_edges[] = {\n");
    for (uint32_t i = 0; i < d->n_states; i++) {
        const struct rp_match_state *s = &d->states[i];
        for (uint32_t j = 0; j < s->n_edges; j++) {
            const struct rp_match_edge *ed = &d->edges[s->first_edge + j];
            if (j % 6 == 0)
                buf_printf(b, "%s    /* %u */", j ? "\n" : "", i);
            buf_puts(b, " {");
            emit_byte(b, ed->byte);
            buf_printf(b, ", %u},", ed->next);
        }
        if (s->n_edges)
            buf_putc(b, '\n');
    }
    if (!d->n_edges)
        buf_puts(b, "    {0, 0},\n");
    buf_puts(b, "};\n\n");

    buf_puts(b, "static const uint32_t rpg_match_cands[] = {");
    for (uint32_t i = 0; i < d->n_cands; i++)
        buf_printf(b, "%s%u,", i % 16 == 0 ? "\n    " : " ", d->cands[i]);
    if (!d->n_cands)
        buf_puts(b, "\n    0,");
    buf_puts(b, "\n};\n\n");

    buf_puts(b, "static const struct rp_matcher rpg_matcher = {\n");
    buf_printf(b, "    .host_root = %u,\n    .n_states = %u,\n    .states = rpg_match_states,\n",
               d->host_root, d->n_states);
    buf_puts(b, "    .edges = rpg_match_edges,\n    .cands = rpg_match_cands,\n};\n\n");
}

/* Test tables go only into `rpx test` builds, which define RP_POLICY_TEST:
 * a production proxy carries no test data. */
static void emit_tests(struct emit *e, const struct ast_program *p)
{
    struct buf *b = &e->tables;
    uint32_t i = 0;
    buf_puts(b, "#ifdef RP_POLICY_TEST\n");
    for (const struct ast_test *t = p->tests; t; t = t->next, i++) {
        uint32_t nh = 0;
        for (const struct ast_arg *a = t->req_args; a; a = a->next)
            if (a->kind == AST_ARG_STRING)
                nh++;
        if (nh) {
            buf_printf(b, "static const struct rp_test_header rpg_test_%u_headers[] = {\n", i);
            for (const struct ast_arg *a = t->req_args; a; a = a->next) {
                if (a->kind != AST_ARG_STRING)
                    continue;
                const char *colon = memchr(a->str, ':', a->str_len);
                const char *v = colon + 1;
                while (*v == ' ' || *v == '\t')
                    v++;
                buf_puts(b, "    {");
                emit_string(b, a->str, (size_t)(colon - a->str), 0);
                buf_puts(b, ", ");
                emit_string(b, v, strlen(v), 0);
                buf_puts(b, "},\n");
            }
            buf_puts(b, "};\n");
        }
        buf_printf(b, "static const struct rp_test_expect rpg_test_%u_expects[] = {\n", i);
        for (const struct ast_stmt *st = t->expects; st; st = st->next) {
            const struct ast_arg *k = st->args, *v = k->next;
            buf_puts(b, "    {.where = ");
            emit_where(e, b, st->kw);
            const char *kt = emit_text(e, k->tok);
            if (kt[0] == 's') {
                buf_printf(b, ", .kind = RP_EXPECT_STATUS, .value = %.*s},\n", (int)v->tok.len,
                           emit_text(e, v->tok));
            } else if (kt[0] == 'p') {
                uint32_t idx = 0;
                for (const struct ast_backend *be = p->backends; be; be = be->next)
                    if (be->name.len == v->tok.len &&
                        memcmp(emit_text(e, be->name), emit_text(e, v->tok), v->tok.len) == 0) {
                        idx = be->index;
                        break;
                    }
                buf_printf(b, ", .kind = RP_EXPECT_PROXY, .value = %u}, /* ", idx);
                buf_comment_safe(b, emit_text(e, v->tok), v->tok.len);
                buf_puts(b, " */\n");
            } else {
                buf_puts(b, ", .kind = RP_EXPECT_LOCATION, .text = ");
                emit_string(b, v->str, v->str_len, 0);
                buf_puts(b, "},\n");
            }
        }
        buf_puts(b, "};\n");
    }
    buf_puts(b, "static const struct rp_test_def rpg_tests[] = {\n");
    i = 0;
    for (const struct ast_test *t = p->tests; t; t = t->next, i++) {
        uint32_t nh = 0, ne = 0;
        for (const struct ast_arg *a = t->req_args; a; a = a->next)
            nh += a->kind == AST_ARG_STRING;
        for (const struct ast_stmt *st = t->expects; st; st = st->next)
            ne++;
        emit_comment(e, b, 4, t->kw, t->name, strlen(t->name));
        buf_puts(b, "    {.where = ");
        emit_where(e, b, t->kw);
        buf_puts(b, ", .name = ");
        emit_string(b, t->name, strlen(t->name), 0);
        buf_puts(b, ",\n     .method = ");
        emit_string(b, emit_text(e, t->method), t->method.len, 0);
        buf_puts(b, ", .url = ");
        emit_string(b, t->url, strlen(t->url), 0);
        buf_puts(b, ", .client_ip = ");
        if (t->from)
            emit_string(b, t->from, strlen(t->from), 0);
        else
            buf_puts(b, "NULL");
        buf_printf(b, ",\n     .n_headers = %u, .headers = ", nh);
        if (nh)
            buf_printf(b, "rpg_test_%u_headers", i);
        else
            buf_puts(b, "NULL");
        buf_printf(b, ", .n_expects = %u, .expects = rpg_test_%u_expects},\n", ne, i);
    }
    buf_puts(b, "};\n#endif\n\n");
}

/* `error STATUS... file|"TEXT"`: the proxy's own error bodies. */
static void emit_error_pages(struct emit *e, const struct ast_program *p)
{
    if (!p->n_error_pages)
        return;
    struct buf *b = &e->tables;
    buf_puts(b, "static const struct rp_error_page rpg_error_pages[] = {\n");
    for (uint32_t i = 0; i < p->n_error_pages; i++) {
        const struct ast_error_page *ep = &p->error_pages[i];
        buf_printf(b, "    {%u, \"%s\", ", ep->status, ep->content_type);
        emit_string(b, ep->body, ep->body_len, 8);
        buf_printf(b, ", %zu},\n", ep->body_len);
    }
    buf_puts(b, "};\n\n");
}

/* `forwarded { }`: the fields sent and the trusted peers (a CIDR set). */
static void emit_forwarding(struct emit *e, const struct ast_program *p)
{
    if (!p->has_forwarded)
        return;
    struct buf *b = &e->tables;
    static const char *const names[] = {"RP_FWD_XFF", "RP_FWD_PROTO", "RP_FWD_HOST",
                                        "RP_FWD_REAL_IP", "RP_FWD_FORWARDED"};
    buf_puts(b, "static const struct rp_forwarding rpg_forwarding = {\n    .send = ");
    bool any = false;
    for (unsigned i = 0; i < 5; i++)
        if (p->fwd_send & (1u << i)) {
            buf_printf(b, "%s%s", any ? " | " : "", names[i]);
            any = true;
        }
    if (!any)
        buf_puts(b, "0");
    buf_puts(b, ",\n");
    if (p->fwd_trusted_set != UINT32_MAX)
        buf_printf(b, "    .n_trusted = %u,\n    .trusted = rpg_cidr_%u,\n",
                   p->cidr_sets[p->fwd_trusted_set].n, p->fwd_trusted_set);
    buf_puts(b, "};\n\n");
}

/* `log access ...`: rpg_access_log. */
static void emit_access_log(struct emit *e, const struct ast_program *p)
{
    struct buf *b = &e->tables;
    if (p->access_log_n_pieces) {
        buf_puts(b, "static const struct rp_log_piece rpg_log_pieces[] = {\n");
        for (uint32_t i = 0; i < p->access_log_n_pieces; i++) {
            const struct ast_log_piece *lp = &p->access_log_pieces[i];
            if (!lp->field) {
                buf_puts(b, "    {.field = RP_LOG_TEXT, .text = ");
                emit_string(b, lp->text, lp->len, 4);
                buf_printf(b, ", .len = %u},\n", lp->len);
                continue;
            }
            buf_puts(b, "    {.field = RP_LOG_");
            for (const char *n = log_field_names[lp->field]; *n; n++)
                buf_putc(b, (char)(*n >= 'a' && *n <= 'z' ? *n - 'a' + 'A' : *n));
            buf_puts(b, "},\n");
        }
        buf_puts(b, "};\n\n");
    }
    buf_puts(b, "static const struct rp_access_log rpg_access_log = {\n    .where = ");
    emit_where(e, b, p->access_log_kw);
    buf_puts(b, ",\n    .path = ");
    if (p->access_log_path)
        emit_string(b, p->access_log_path, strlen(p->access_log_path), 4);
    else
        buf_puts(b, "NULL");
    buf_printf(b, ",\n    .format = %s,\n",
               p->access_log_format == RP_ACCESS_LOG_JSON     ? "RP_ACCESS_LOG_JSON"
               : p->access_log_format == RP_ACCESS_LOG_CUSTOM ? "RP_ACCESS_LOG_CUSTOM"
                                                              : "RP_ACCESS_LOG_COMBINED");
    if (p->access_log_n_pieces)
        buf_printf(b, "    .pieces = rpg_log_pieces,\n    .n_pieces = %u,\n",
                   p->access_log_n_pieces);
    if (p->access_log_syslog) {
        buf_puts(b, "    .syslog = ");
        emit_string(b, p->access_log_syslog, strlen(p->access_log_syslog), 4);
        buf_printf(b, ",\n    .syslog_port = %u,\n    .facility = %u,\n",
                   p->access_log_syslog_port, p->access_log_facility);
    }
    if (p->access_log_status_min)
        buf_printf(b, "    .status_min = %u,\n    .status_max = %u,\n",
                   p->access_log_status_min, p->access_log_status_max);
    if (p->access_log_sample_ppm)
        buf_printf(b, "    .sample_ppm = %u, /* of a million */\n", p->access_log_sample_ppm);
    buf_puts(b, "};\n\n");
}

static void emit_program(struct emit *e, const struct ast_program *p)
{
    struct buf *b = &e->prog;
    if (p->access_log_kw.len)
        emit_access_log(e, p);
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
    buf_puts(b, "    .decide = rpg_decide,\n");
    if (p->allow_trace)
        buf_puts(b, "    .allow_trace = true,\n");
    if (p->has_forwarded)
        buf_puts(b, "    .forwarding = &rpg_forwarding,\n");
    if (p->n_error_pages)
        buf_printf(b, "    .n_error_pages = %u,\n    .error_pages = rpg_error_pages,\n",
                   p->n_error_pages);
    if (p->hdr_actions)
        buf_puts(b, "    .headers = &rpg_hdrs_top,\n");
    if (p->upstream_path_original)
        buf_puts(b, "    .upstream_path_original = true,\n");
    if (p->access_log_kw.len)
        buf_puts(b, "    .access_log = &rpg_access_log,\n");
    for (const struct ast_route *r = p->routes; r; r = r->next) {
        const struct ast_action *a = r->actions;
        while (a && a->kind != AST_ACTION_METRICS && a->kind != AST_ACTION_STATUS)
            a = a->next;
        if (a) {
            buf_puts(b, "    .metrics = true,\n");
            break;
        }
    }
    if (p->via) {
        buf_puts(b, "    .via = ");
        emit_string(b, p->via, strlen(p->via), 4);
        buf_puts(b, ",\n");
    }
    if (p->n_tests)
        buf_printf(b, "#ifdef RP_POLICY_TEST\n    .n_tests = %u,\n    .tests = rpg_tests,\n"
                      "#endif\n", p->n_tests);
    if (p->n_limits)
        buf_printf(b, "    .n_limits = %u,\n    .limits = rpg_limits,\n", p->n_limits);
    if (p->n_auths)
        buf_printf(b, "    .n_auths = %u,\n    .auths = rpg_auths,\n", p->n_auths);
    if (p->n_jwts)
        buf_printf(b, "    .n_jwts = %u,\n    .jwts = rpg_jwts,\n", p->n_jwts);
    if (p->n_jwts == 1 && p->jwt_condition.len)
        buf_puts(b, "    .jwt_before_routes = &rpg_jwt_0,\n");
    uint32_t n_index = 0;
    for (uint32_t i = 0; i < p->n_cidr_sets; i++)
        n_index += p->cidr_sets[i].n >= RP_IP_INDEX_MIN;
    if (n_index)
        buf_printf(b, "    .n_ip_indexes = %u,\n    .ip_indexes = rpg_ip_indexes,\n", n_index);
    buf_printf(b, "    .policy_hash = \"%s\",\n", e->hash);
    buf_puts(b, "    .build_flags = RP_BUILD_FLAGS,\n};\n");
}

void emit_c(struct buf *out, const struct ir_program *ir, const struct src *s)
{
    const struct ast_program *prog = ir->ast;
    struct emit e = {.src = s, .ir = ir};
    buf_puts(&e.head, "/* Generated by rpx " RPX_VERSION " from ");
    buf_comment_safe(&e.head, emit_file_name(&e), strlen(emit_file_name(&e)));
    buf_puts(&e.head, ". DO NOT EDIT. */\n");
    buf_puts(&e.head, "#include <stdbool.h>\n#include <stddef.h>\n#include <stdint.h>\n#include <string.h>\n\n"
                      "#include <rp/rpx.h>\n\n"
                      "#ifndef RP_BUILD_FLAGS /* rpx build defines it */\n"
                      "#define RP_BUILD_FLAGS \"\"\n#endif\n\n");
    policy_hash(s, e.hash);
    emit_settings(&e, prog);

    if (prog->n_listens)
        emit_listeners(&e, prog);
    if (prog->n_backends)
        emit_backends(&e, prog);
    if (prog->n_limits)
        emit_limits(&e, prog);
    if (prog->n_routes)
        emit_routes(&e, prog);
    emit_regexes(&e, prog);
    emit_cidr_sets(&e, prog);
    emit_forwarding(&e, prog);
    emit_error_pages(&e, prog);
    emit_dfa(&e, ir->dfa);
    emit_decide(&e, prog);
    if (prog->n_tests)
        emit_tests(&e, prog);
    emit_program(&e, prog);

    buf_append(out, e.head.data, e.head.len);
    buf_append(out, e.tables.data, e.tables.len);
    buf_append(out, e.code.data, e.code.len);
    buf_append(out, e.prog.data, e.prog.len);
    buf_free(&e.head);
    buf_free(&e.tables);
    buf_free(&e.code);
    buf_free(&e.prog);
    arena_free(&e.scratch);
}
