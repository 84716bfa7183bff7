/* ir.c: lowering the checked tree's conditions into tests the runtime
 * decides (see ir.h), and deciding them with the runtime's own calls. */
#include "ir.h"

#include <string.h>

#include "arena.h"
#include "lower.h"
#include "regex.h"

static const enum rp_value ir_values[] = {
    [AST_SUBJ_METHOD] = RP_VAL_METHOD, [AST_SUBJ_HOST] = RP_VAL_HOST,
    [AST_SUBJ_PATH] = RP_VAL_PATH,     [AST_SUBJ_QUERY] = RP_VAL_QUERY,
    [AST_SUBJ_HEADER] = RP_VAL_HEADER, [AST_SUBJ_COOKIE] = RP_VAL_COOKIE,
    [AST_SUBJ_QUERY_ALL] = RP_VAL_QUERY_STRING, [AST_SUBJ_SCHEME] = RP_VAL_SCHEME,
    [AST_SUBJ_TLS] = RP_VAL_TLS, [AST_SUBJ_JWT] = RP_VAL_JWT,
};

const char *ir_value_name(enum rp_value v)
{
    static const char *const names[] = {
        [RP_VAL_METHOD] = "RP_VAL_METHOD", [RP_VAL_HOST] = "RP_VAL_HOST",
        [RP_VAL_PATH] = "RP_VAL_PATH",     [RP_VAL_QUERY] = "RP_VAL_QUERY",
        [RP_VAL_HEADER] = "RP_VAL_HEADER", [RP_VAL_COOKIE] = "RP_VAL_COOKIE",
        [RP_VAL_QUERY_STRING] = "RP_VAL_QUERY_STRING", [RP_VAL_SCHEME] = "RP_VAL_SCHEME",
        [RP_VAL_TLS] = "RP_VAL_TLS", [RP_VAL_JWT] = "RP_VAL_JWT",
    };
    return (unsigned)v < sizeof names / sizeof names[0] && names[v] ? names[v] : "0";
}

const char *ir_action_name(enum rp_action_kind k)
{
    static const char *const names[] = {
        [RP_ACTION_PROXY] = "RP_ACTION_PROXY",       [RP_ACTION_RESPOND] = "RP_ACTION_RESPOND",
        [RP_ACTION_REDIRECT] = "RP_ACTION_REDIRECT", [RP_ACTION_PURGE] = "RP_ACTION_PURGE",
        [RP_ACTION_METRICS] = "RP_ACTION_METRICS",   [RP_ACTION_STATUS] = "RP_ACTION_STATUS",
        [RP_ACTION_STATUS_ADMIN] = "RP_ACTION_STATUS_ADMIN",
    };
    return (unsigned)k < sizeof names / sizeof names[0] && names[k] ? names[k] : "0";
}

const char *ir_op_name(enum rp_cmp_op op)
{
    static const char *const names[] = {
        [RP_CMP_PRESENT] = "RP_CMP_PRESENT", [RP_CMP_EQ] = "RP_CMP_EQ",
        [RP_CMP_NE] = "RP_CMP_NE",           [RP_CMP_PREFIX] = "RP_CMP_PREFIX",
        [RP_CMP_RE] = "RP_CMP_RE",
    };
    return names[op];
}

struct ir_value ir_value_of(struct arena *a, enum ast_subject subj, const char *key,
                            size_t key_len)
{
    struct ir_value v = {.value = ir_values[subj]};
    if (!ast_subj_keyed(subj))
        return v;
    char *k = arena_strndup(a, key, key_len);
    /* field names are case-insensitive: the runtime looks them up lower case */
    if (subj == AST_SUBJ_HEADER)
        for (size_t i = 0; i < key_len; i++)
            if (k[i] >= 'A' && k[i] <= 'Z')
                k[i] = (char)(k[i] + 32);
    v.key = k;
    v.key_len = (uint32_t)key_len;
    return v;
}

struct lowering {
    struct arena *a;
    const struct src *s;
    struct ir_program *ir;
};

static uint32_t ir_add(struct lowering *lw, const struct ir_test *t)
{
    struct ir_program *ir = lw->ir;
    ir->tests = arena_grow(lw->a, ir->tests, ir->n_tests, ir->n_tests + 1, sizeof *ir->tests);
    ir->tests[ir->n_tests] = *t;
    return ir->n_tests++;
}

/* A literal as written: a string's decoded bytes, or a bare word (a method). */
static struct rp_str ir_literal(const struct lowering *lw, const struct ast_arg *x)
{
    if (x->kind == AST_ARG_STRING)
        return (struct rp_str){x->str, (uint32_t)x->str_len};
    return (struct rp_str){lw->s->text + x->tok.off, x->tok.len};
}

/* The list a method matcher or `in [...]` names, as runtime strings. */
static void ir_list(struct lowering *lw, const struct ast_arg *l, struct ir_test *t)
{
    uint32_t n = 0;
    for (const struct ast_arg *x = l->kind == AST_ARG_LIST ? l->sub : l; x;
         x = l->kind == AST_ARG_LIST ? x->next : NULL)
        n++;
    struct rp_str *set = arena_alloc(lw->a, (n ? n : 1) * sizeof *set);
    n = 0;
    for (const struct ast_arg *x = l->kind == AST_ARG_LIST ? l->sub : l; x;
         x = l->kind == AST_ARG_LIST ? x->next : NULL)
        set[n++] = ir_literal(lw, x);
    t->list = set;
    t->n_list = n;
}

static uint32_t ir_leaf(struct lowering *lw, const struct ast_expr *e)
{
    struct ir_test t = {0};
    if (e->subj == AST_SUBJ_CLIENT_IP) {
        t.kind = IR_IP_IN;
        t.set = e->id;
        t.negate = e->cmp == AST_CMP_NE;
        return ir_add(lw, &t);
    }
    struct ir_value v = ir_value_of(lw->a, e->subj, e->lhs->str, e->lhs->str_len);
    t.value = v.value;
    t.key = v.key;
    t.key_len = v.key_len;
    if (e->cmp == AST_CMP_IN) {
        t.kind = IR_VALUE_IN;
        ir_list(lw, e->list, &t);
        return ir_add(lw, &t);
    }
    static const enum rp_cmp_op ops[] = {
        [AST_CMP_TRUTH] = RP_CMP_PRESENT, [AST_CMP_EQ] = RP_CMP_EQ, [AST_CMP_NE] = RP_CMP_NE,
        [AST_CMP_RE] = RP_CMP_RE,         [AST_CMP_PREFIX] = RP_CMP_PREFIX,
    };
    t.kind = IR_VALUE;
    t.op = ops[e->cmp];
    if (t.op == RP_CMP_EQ || t.op == RP_CMP_NE || t.op == RP_CMP_PREFIX) {
        struct rp_str lit = ir_literal(lw, e->rhs);
        t.lit = lit.s;
        t.lit_len = lit.len;
    } else if (t.op == RP_CMP_RE) {
        t.regex = e->id;
    }
    return ir_add(lw, &t);
}

static void ir_expr(struct lowering *lw, struct ast_expr *e)
{
    if (!e)
        return;
    if (e->kind != AST_E_CMP) {
        ir_expr(lw, e->l);
        ir_expr(lw, e->r);
    } else if (e->subj != AST_SUBJ_ACL) {
        e->ir = ir_leaf(lw, e);
    }
}

struct rp_piece *ir_pieces(struct arena *a, const struct ast_piece *list, uint32_t *n)
{
    uint32_t k = 0;
    for (const struct ast_piece *pc = list; pc; pc = pc->next)
        k++;
    struct rp_piece *out = arena_alloc(a, (k ? k : 1) * sizeof *out);
    k = 0;
    for (const struct ast_piece *pc = list; pc; pc = pc->next) {
        struct rp_piece *o = &out[k++];
        *o = (struct rp_piece){0};
        if (pc->text) {
            o->kind = RP_PIECE_TEXT;
            o->s = pc->text;
            o->len = (uint32_t)pc->len;
            continue;
        }
        /* request facts with a piece of their own; other subjects are
         * request values */
        static const uint8_t kinds[] = {
            [AST_SUBJ_CLIENT_IP] = RP_PIECE_CLIENT_IP,  [AST_SUBJ_CLIENT_PORT] = RP_PIECE_CLIENT_PORT,
            [AST_SUBJ_URI] = RP_PIECE_URI,              [AST_SUBJ_REQ_ID] = RP_PIECE_REQ_ID,
            [AST_SUBJ_SERVER_NAME] = RP_PIECE_SERVER,   [AST_SUBJ_BACKEND_NAME] = RP_PIECE_BACKEND,
            [AST_SUBJ_QUERY_SUFFIX] = RP_PIECE_QUERY,
        };
        if (pc->subj == AST_SUBJ_NONE) {
            o->kind = RP_PIECE_CAPTURE;
            o->what = (uint8_t)pc->capture;
        } else if ((unsigned)pc->subj < sizeof kinds && kinds[pc->subj]) {
            o->kind = kinds[pc->subj];
        } else {
            struct ir_value v = ir_value_of(a, pc->subj, pc->key, pc->key_len);
            o->kind = RP_PIECE_VALUE;
            o->what = (uint8_t)v.value;
            o->s = v.key;
            o->len = v.key_len;
        }
    }
    *n = k;
    return out;
}

/* What an action answers, as rp_answer_set takes it. */
static struct rp_answer ir_answer(struct lowering *lw, const struct ast_route *r,
                                  const struct ast_action *act)
{
    struct rp_answer an = {0};
    switch (act->kind) {
    case AST_ACTION_PROXY:
        an.action = RP_ACTION_PROXY;
        an.backend = act->backend->index;
        an.tunnel = r->tunnel_kw.len != 0;
        break;
    case AST_ACTION_RESPOND:
    case AST_ACTION_DENY:
        an.action = RP_ACTION_RESPOND;
        an.status = (uint16_t)act->status;
        an.body = act->body ? act->body : "";
        an.body_len = (uint32_t)act->body_len;
        an.content_type = act->content_type;
        break;
    case AST_ACTION_REDIRECT:
        an.action = RP_ACTION_REDIRECT;
        an.status = (uint16_t)act->status;
        an.location = ir_pieces(lw->a, act->location, &an.n_location);
        break;
    case AST_ACTION_PURGE:
        an.action = RP_ACTION_PURGE;
        an.status = 200;
        break;
    case AST_ACTION_METRICS:
        an.action = RP_ACTION_METRICS;
        an.status = 200;
        break;
    case AST_ACTION_STATUS:
        an.action = act->admin ? RP_ACTION_STATUS_ADMIN : RP_ACTION_STATUS;
        an.status = 200;
        break;
    case AST_ACTION_NONE:
        break;
    }
    return an;
}

/* A route's checks and steps (ir.h), in the order the proxy takes them. */
static void ir_route(struct lowering *lw, const struct ast_route *r, struct ir_route *out)
{
    struct ir_check *ck = arena_alloc(lw->a, 5 * sizeof *ck);
    uint32_t n = 0, decided = 0;
    if (!r->is_default && r->host_kind != AST_HOST_ANY)
        ck[n++] = (struct ir_check){.kind = IR_CHECK_HOST};
    if (!r->is_default && (r->path_kind == AST_PATH_PREFIX || r->path_kind == AST_PATH_EXACT))
        ck[n++] = (struct ir_check){.kind = IR_CHECK_PATH};
    decided = n;
    if (r->methods)
        ck[n++] = (struct ir_check){.kind = IR_CHECK_METHOD,
                                    .test = lw->ir->route_method[r->index]};
    if (r->path_kind == AST_PATH_REGEX)
        ck[n++] = (struct ir_check){.kind = IR_CHECK_REGEX, .regex = r->regex_id};
    if (r->cond)
        ck[n++] = (struct ir_check){.kind = IR_CHECK_COND, .cond = r->cond};
    uint32_t n_steps = 0;
    for (const struct ast_action *a = r->actions; a; a = a->next)
        n_steps++;
    struct ir_step *st = arena_alloc(lw->a, (n_steps ? n_steps : 1) * sizeof *st);
    n_steps = 0;
    bool captures = false;
    for (const struct ast_action *a = r->actions; a; a = a->next) {
        struct ir_step *x = &st[n_steps++];
        *x = (struct ir_step){.act = a, .guard = a->guard, .unless = a->unless,
                              .answer = ir_answer(lw, r, a)};
        for (uint32_t i = 0; i < x->answer.n_location; i++)
            captures |= x->answer.location[i].kind == RP_PIECE_CAPTURE;
        if (!a->guard)
            break; /* the actions after it are never reached */
    }
    *out = (struct ir_route){.ast = r, .checks = ck, .n_checks = n, .steps = st,
                             .n_steps = n_steps, .captures = captures,
                             .table_row = n == decided && n_steps == 1 && !st[0].guard};
}

struct ir_program *ir_lower(struct arena *a, struct ast_program *prog, const struct src *s)
{
    struct ir_program *ir = arena_alloc(a, sizeof *ir);
    struct lowering lw = {a, s, ir};
    ir->ast = prog;
    const struct lower_dfa *d = lower_path_dfa(a, prog);
    ir->dfa = d;
    ir->matcher = (struct rp_matcher){.host_root = d->host_root, .n_states = d->n_states,
                                      .states = d->states, .edges = d->edges,
                                      .cands = d->cands};
    ir->n_regexes = prog->n_regexes;
    ir->regexes = arena_alloc(a, (prog->n_regexes + 1) * sizeof *ir->regexes);
    for (uint32_t i = 0; i < prog->n_regexes; i++) {
        const struct regex_prog *re = prog->regexes[i];
        ir->regexes[i] = (struct rp_regex){.n_insts = re->n_insts, .insts = re->insts,
                                           .classes = (const uint8_t(*)[32])re->classes,
                                           .n_caps = re->n_caps};
    }
    for (struct ast_acl *acl = prog->acls; acl; acl = acl->next)
        ir_expr(&lw, acl->expr);
    ir->route_method = arena_alloc(a, (prog->n_routes + 1) * sizeof *ir->route_method);
    ir->routes = arena_alloc(a, (prog->n_routes + 1) * sizeof *ir->routes);
    ir->route_ir = arena_alloc(a, (prog->n_routes + 1) * sizeof *ir->route_ir);
    ir->ip_index = arena_alloc(a, (prog->n_cidr_sets + 1) * sizeof *ir->ip_index);
    for (uint32_t i = 0; i < prog->n_cidr_sets; i++) {
        const struct ast_cidr_set *set = &prog->cidr_sets[i];
        if (set->n < RP_IP_INDEX_MIN)
            continue;
        struct rp_ip_index *x = &ir->ip_index[i];
        x->ranges = set->ranges;
        x->n = set->n;
        x->v4 = arena_alloc(a, RP_IP_INDEX_SLOTS * sizeof *x->v4);
        x->v6 = arena_alloc(a, RP_IP_INDEX_SLOTS * sizeof *x->v6);
        rp_ip_index_build(x);
    }
    for (struct ast_route *r = prog->routes; r; r = r->next) {
        ir->routes[r->index] = r;
        ir->route_method[r->index] = UINT32_MAX;
        if (r->methods) {
            struct ir_test t = {.kind = IR_VALUE_IN, .value = RP_VAL_METHOD};
            ir_list(&lw, r->methods, &t);
            ir->route_method[r->index] = ir_add(&lw, &t);
        }
        ir_expr(&lw, r->cond);
        for (struct ast_action *x = r->actions; x; x = x->next)
            ir_expr(&lw, x->guard);
        ir_route(&lw, r, &ir->route_ir[r->index]);
    }
    return ir;
}

const struct ir_test *ir_expr_test(const struct ir_program *ir, const struct ast_expr *e)
{
    return &ir->tests[e->ir];
}

bool ir_test_holds(const struct ir_program *ir, const struct ir_test *t,
                   const struct rp_request_view *req)
{
    switch (t->kind) {
    case IR_IP_IN: {
        const struct ast_cidr_set *set = &ir->ast->cidr_sets[t->set];
        if (set->n >= RP_IP_INDEX_MIN)
            return rp_ip_in_index(req->client_ip, &ir->ip_index[t->set]) != t->negate;
        return rp_ip_in(req->client_ip, set->ranges, set->n) != t->negate;
    }
    case IR_VALUE_IN:
        return rp_req_in(req, t->value, t->key, t->key_len, t->list, t->n_list);
    case IR_VALUE:
        return rp_req_test(req, t->value, t->key, t->key_len, t->op, t->lit, t->lit_len,
                           t->op == RP_CMP_RE ? &ir->regexes[t->regex] : NULL);
    }
    return false;
}
