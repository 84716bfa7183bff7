/* diff.c: `rpx diff` (see diff.h). */
#include "diff.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <rp/http1.h>
#include <rp/match.h>

#include "arena.h"
#include "explain.h"
#include "lower.h"

/* ---- the product of the two route automata --------------------------------
 *
 * One side's place in rp_match_routes' walk: reading the host (backwards)
 * at a host state; past the host's end of the automaton with the path root
 * chosen; reading the path at a path state; or stopped at a path state (a
 * byte without an edge: its stop candidates hold whatever follows). */
enum side_kind { SIDE_HOST, SIDE_HOST_MORE, SIDE_PATH, SIDE_STOP };

struct side {
    uint8_t kind; /* enum side_kind */
    uint32_t s;   /* the state (HOST_MORE: the path root) */
};

/* Phases of the product walk: the host, then the path's first byte (always
 * '/'), then the rest of the path. */
enum { PH_HOST, PH_PATH0, PH_PATH };

struct pnode {
    struct side a, b;
    uint8_t phase;
    uint32_t parent; /* UINT32_MAX for the start */
    int byte;        /* read to get here; -1 for the end of the host */
};

struct product {
    const struct rp_matcher *ma, *mb;
    struct pnode *nodes;
    uint32_t n, cap;
    uint32_t *slot; /* open addressing: node index + 1, 0 empty */
    uint32_t n_slots;
};

static uint64_t pnode_key(const struct pnode *p)
{
    return (uint64_t)p->phase << 62 | (uint64_t)p->a.kind << 60 | (uint64_t)p->b.kind << 58 |
           (uint64_t)(p->a.s & 0x1fffffff) << 29 | (p->b.s & 0x1fffffff);
}

static void product_grow(struct product *pr)
{
    uint32_t n_slots = pr->n_slots ? pr->n_slots * 2 : 4096;
    uint32_t *slot = calloc(n_slots, sizeof *slot);
    if (!slot)
        rpx_oom();
    for (uint32_t i = 0; i < pr->n; i++) {
        uint64_t k = pnode_key(&pr->nodes[i]);
        uint32_t h = (uint32_t)((k * 0x9e3779b97f4a7c15ull) >> 32) & (n_slots - 1);
        while (slot[h])
            h = (h + 1) & (n_slots - 1);
        slot[h] = i + 1;
    }
    free(pr->slot);
    pr->slot = slot;
    pr->n_slots = n_slots;
}

/* Adds the node unless an equal one is there (found by breadth first, the
 * first has the shortest example). */
static void product_add(struct product *pr, const struct pnode *p)
{
    if (2 * (pr->n + 1) > pr->n_slots)
        product_grow(pr);
    uint64_t k = pnode_key(p);
    uint32_t h = (uint32_t)((k * 0x9e3779b97f4a7c15ull) >> 32) & (pr->n_slots - 1);
    while (pr->slot[h]) {
        if (pnode_key(&pr->nodes[pr->slot[h] - 1]) == k)
            return;
        h = (h + 1) & (pr->n_slots - 1);
    }
    if (pr->n == pr->cap) {
        pr->cap = pr->cap ? 2 * pr->cap : 4096;
        pr->nodes = realloc(pr->nodes, pr->cap * sizeof *pr->nodes);
        if (!pr->nodes)
            rpx_oom();
    }
    pr->nodes[pr->n] = *p;
    pr->slot[h] = ++pr->n;
}

static const struct rp_match_edge *edge_of(const struct rp_matcher *m, uint32_t s, uint8_t c)
{
    const struct rp_match_state *st = &m->states[s];
    for (uint32_t i = 0; i < st->n_edges; i++)
        if (m->edges[st->first_edge + i].byte == c)
            return &m->edges[st->first_edge + i];
    return NULL;
}

static struct side side_step(const struct rp_matcher *m, struct side x, uint8_t c)
{
    const struct rp_match_edge *e;
    switch (x.kind) {
    case SIDE_HOST:
        e = edge_of(m, x.s, c);
        return e ? (struct side){SIDE_HOST, e->next}
                 : (struct side){SIDE_HOST_MORE, m->states[x.s].path_root_more};
    case SIDE_PATH:
        e = edge_of(m, x.s, c);
        return e ? (struct side){SIDE_PATH, e->next} : (struct side){SIDE_STOP, x.s};
    default:
        return x;
    }
}

static struct side side_host_end(const struct rp_matcher *m, struct side x)
{
    return x.kind == SIDE_HOST ? (struct side){SIDE_PATH, m->states[x.s].path_root}
                               : (struct side){SIDE_PATH, x.s};
}

/* The candidates when the request ends here. */
static uint32_t side_cands(const struct rp_matcher *m, struct side x, const uint32_t **c)
{
    const struct rp_match_state *st = &m->states[x.s];
    if (x.kind == SIDE_STOP) {
        *c = m->cands + st->stop_first;
        return st->stop_n;
    }
    *c = m->cands + st->end_first;
    return st->end_n;
}

/* The bytes worth trying in a phase: those labelling an edge of either
 * automaton, and one that labels none (it stands for all such bytes). */
static uint32_t alphabet(const struct rp_matcher *ma, const struct rp_matcher *mb, bool host,
                         uint8_t *out)
{
    bool used[256] = {0};
    const struct rp_matcher *ms[2] = {ma, mb};
    for (int k = 0; k < 2; k++) {
        const struct rp_matcher *m = ms[k];
        for (uint32_t s = 0; s < m->n_states; s++) {
            const struct rp_match_state *st = &m->states[s];
            /* host states are those the host root reaches before a path root */
            for (uint32_t i = 0; i < st->n_edges; i++)
                used[m->edges[st->first_edge + i].byte] = true;
        }
    }
    uint32_t n = 0;
    const char *plain = host ? "abcdefghijklmnopqrstuvwxyz0123456789-."
                             : "abcdefghijklmnopqrstuvwxyz0123456789-._~";
    /* letters and digits first, so the shortest examples read naturally */
    for (int pass = 0; pass < 2; pass++)
        for (int c = 0; c < 256; c++) {
            bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
            bool ok = host ? (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                                 c == '-' || c == ':' || c == '[' || c == ']'
                           : c > 0x20 && c < 0x7f && c != '?' && c != '#' && c != '%';
            if (used[c] && ok && alnum == (pass == 0))
                out[n++] = (uint8_t)c;
        }
    for (const char *p = plain; *p; p++)
        if (!used[(uint8_t)*p]) {
            out[n++] = (uint8_t)*p;
            break;
        }
    return n;
}

static void product_walk(struct product *pr)
{
    uint8_t host_abc[256], path_abc[256];
    uint32_t n_host = alphabet(pr->ma, pr->mb, true, host_abc);
    uint32_t n_path = alphabet(pr->ma, pr->mb, false, path_abc);
    struct pnode start = {.a = {SIDE_HOST, pr->ma->host_root},
                          .b = {SIDE_HOST, pr->mb->host_root},
                          .phase = PH_HOST,
                          .parent = UINT32_MAX,
                          .byte = -1};
    product_add(pr, &start);
    for (uint32_t i = 0; i < pr->n; i++) {
        struct pnode p = pr->nodes[i];
        struct pnode q = {.parent = i};
        if (p.phase == PH_HOST) {
            /* a host of 255 bytes at most; the automata's host parts are
             * far shorter, and past them both sides stay put */
            for (uint32_t k = 0; k < n_host; k++) {
                q.a = side_step(pr->ma, p.a, host_abc[k]);
                q.b = side_step(pr->mb, p.b, host_abc[k]);
                q.phase = PH_HOST;
                q.byte = host_abc[k];
                product_add(pr, &q);
            }
            q.a = side_host_end(pr->ma, p.a);
            q.b = side_host_end(pr->mb, p.b);
            q.phase = PH_PATH0;
            q.byte = -1;
            product_add(pr, &q);
        } else if (p.phase == PH_PATH0) {
            q.a = side_step(pr->ma, p.a, '/');
            q.b = side_step(pr->mb, p.b, '/');
            q.phase = PH_PATH;
            q.byte = '/';
            product_add(pr, &q);
        } else if (p.a.kind != SIDE_STOP || p.b.kind != SIDE_STOP) {
            for (uint32_t k = 0; k < n_path; k++) {
                q.a = side_step(pr->ma, p.a, path_abc[k]);
                q.b = side_step(pr->mb, p.b, path_abc[k]);
                q.phase = PH_PATH;
                q.byte = path_abc[k];
                product_add(pr, &q);
            }
        }
    }
}

/* The example host and path of a node. */
static void product_example(const struct product *pr, uint32_t i, struct buf *host,
                            struct buf *path)
{
    struct buf h = {0}, pa = {0};
    for (; pr->nodes[i].parent != UINT32_MAX; i = pr->nodes[i].parent) {
        const struct pnode *p = &pr->nodes[i];
        if (p->byte < 0)
            continue;
        if (p->phase == PH_HOST)
            buf_putc(&h, (char)p->byte); /* read backwards: already in order */
        else
            buf_putc(&pa, (char)p->byte);
    }
    /* path bytes were collected last first */
    for (size_t k = pa.len; k > 0; k--)
        buf_putc(path, pa.data[k - 1]);
    buf_append(host, h.data ? h.data : "", h.len);
    buf_append(path, "", 0);
    buf_free(&h);
    buf_free(&pa);
}

/* A host a client would send: no empty label, none starting or ending with
 * '-' (an IPv6 literal in brackets passes as it is). */
static bool host_plausible(const char *h)
{
    if (!*h || *h == '[')
        return true;
    size_t label = 0;
    for (const char *p = h;; p++) {
        if (*p == '.' || !*p) {
            if (label == 0 || p[-1] == '-' || p[-(long)label] == '-')
                return false;
            if (!*p)
                return true;
            label = 0;
        } else {
            label++;
        }
    }
}

/* ---- classes: the pairs of candidate lists -------------------------------- */

struct dclass {
    const uint32_t *ca, *cb;
    uint32_t na, nb;
    uint32_t node; /* its shortest example */
};

static bool same_list(const uint32_t *a, uint32_t na, const uint32_t *b, uint32_t nb)
{
    return na == nb && (na == 0 || memcmp(a, b, na * sizeof *a) == 0);
}

static uint64_t class_hash(const struct dclass *c)
{
    uint64_t h = 1469598103934665603ull;
    for (uint32_t i = 0; i < c->na; i++)
        h = (h ^ c->ca[i]) * 1099511628211ull;
    h = (h ^ 0xffffffffu) * 1099511628211ull;
    for (uint32_t i = 0; i < c->nb; i++)
        h = (h ^ c->cb[i]) * 1099511628211ull;
    return h;
}

/* ---- the other request values ---------------------------------------------- */

enum { GROUP_IP = 100, GROUP_HOST = 101, GROUP_PATH = 102 };

struct group {
    int what;          /* RP_VAL_* or GROUP_* */
    const char *key;   /* header (lower case), parameter or cookie */
    uint32_t key_len;
    const char **vals; /* NULL: absent */
    uint32_t n, cap;
};

struct dctx {
    struct arena *a;
    struct group *groups;
    uint32_t n_groups;
};

static struct group *group_of(struct dctx *d, int what, const char *key, uint32_t key_len)
{
    for (uint32_t i = 0; i < d->n_groups; i++) {
        struct group *g = &d->groups[i];
        if (g->what == what && g->key_len == key_len &&
            (key_len == 0 || memcmp(g->key, key, key_len) == 0))
            return g;
    }
    d->groups = arena_grow(d->a, d->groups, d->n_groups, d->n_groups + 1, sizeof *d->groups);
    struct group *g = &d->groups[d->n_groups++];
    g->what = what;
    g->key = key;
    g->key_len = key_len;
    return g;
}

#define GROUP_MAX_VALUES 24

static void group_add(struct dctx *d, struct group *g, const char *v)
{
    for (uint32_t i = 0; i < g->n; i++)
        if ((!v && !g->vals[i]) || (v && g->vals[i] && strcmp(v, g->vals[i]) == 0))
            return;
    if (g->n >= GROUP_MAX_VALUES)
        return;
    g->vals = arena_grow(d->a, g->vals, g->n, g->n + 1, sizeof *g->vals);
    g->vals[g->n++] = v;
}

static const char *dup_str(struct dctx *d, const char *s, size_t n)
{
    return arena_strndup(d->a, s, n);
}

/* The byte a consuming instruction reads in a sample: its own, a class's
 * first plain member, 'a' for any. -1 if none. */
static int sample_byte(const struct rp_regex *re, const struct rp_re_inst *in)
{
    if (in->op == RP_RE_CHAR)
        return in->c;
    if (in->op == RP_RE_ANY)
        return 'a';
    const uint8_t *set = re->classes[in->x];
    const char *pref = "a0A-_./";
    for (const char *p = pref; *p; p++)
        if (set[(uint8_t)*p >> 3] & (1u << ((uint8_t)*p & 7)))
            return (uint8_t)*p;
    for (int k = 0x21; k < 0x7f; k++)
        if (set[k >> 3] & (1u << (k & 7)))
            return k;
    return -1;
}

/* A shortest string the regex matches, or NULL: a 0-1 breadth-first search
 * over (instruction, bytes read yet, end asserted) where jumps, splits and
 * saves cost nothing and reading a byte costs one. */
static const char *regex_sample(struct dctx *d, const struct rp_regex *re)
{
    uint32_t n = re->n_insts * 4; /* state = pc * 4 + started * 2 + ended */
    uint32_t *dist = malloc(n * sizeof *dist), *prev = malloc(n * sizeof *prev);
    int16_t *byte = malloc(n * sizeof *byte);
    uint32_t *dq = malloc(6 * (size_t)n * sizeof *dq); /* a state is queued at most twice */
    if (!dist || !prev || !byte || !dq)
        rpx_oom();
    for (uint32_t i = 0; i < n; i++)
        dist[i] = UINT32_MAX;
    uint32_t head = 3 * n, tail = 3 * n;
    dist[0] = 0;
    prev[0] = UINT32_MAX;
    byte[0] = -1;
    dq[tail++] = 0;
    uint32_t found = UINT32_MAX;
    while (head < tail) {
        uint32_t st = dq[head++];
        uint32_t pc = st / 4;
        bool started = st & 2, ended = st & 1;
        if (pc >= re->n_insts)
            continue;
        const struct rp_re_inst *in = &re->insts[pc];
        uint32_t next[2];
        int n_next = 0, cost = 0, b = -1;
        switch (in->op) {
        case RP_RE_MATCH:
            found = st;
            head = tail;
            continue;
        case RP_RE_CHAR:
        case RP_RE_ANY:
        case RP_RE_CLASS:
            b = sample_byte(re, in);
            if (ended || b < 0)
                continue;
            next[n_next++] = (pc + 1) * 4 + 2;
            cost = 1;
            break;
        case RP_RE_SPLIT:
            next[n_next++] = in->x * 4 + (st & 3);
            next[n_next++] = in->y * 4 + (st & 3);
            break;
        case RP_RE_JMP:
            next[n_next++] = in->x * 4 + (st & 3);
            break;
        case RP_RE_SAVE:
            next[n_next++] = (pc + 1) * 4 + (st & 3);
            break;
        case RP_RE_BOL:
            if (started)
                continue;
            next[n_next++] = (pc + 1) * 4 + (st & 3);
            break;
        case RP_RE_EOL:
            next[n_next++] = (pc + 1) * 4 + (st & 2) + 1;
            break;
        default:
            continue;
        }
        for (int k = 0; k < n_next; k++) {
            uint32_t q = next[k];
            if (q >= n || dist[q] <= dist[st] + (uint32_t)cost)
                continue;
            dist[q] = dist[st] + (uint32_t)cost;
            prev[q] = st;
            byte[q] = (int16_t)(cost ? b : -1);
            if (cost)
                dq[tail++] = q;
            else
                dq[--head] = q;
        }
    }
    const char *out = NULL;
    if (found != UINT32_MAX && dist[found] < 200) {
        char buf[200];
        size_t len = dist[found];
        size_t at = len;
        for (uint32_t st = found; st != 0 && st != UINT32_MAX; st = prev[st])
            if (byte[st] >= 0)
                buf[--at] = (char)byte[st];
        if (at == 0 && rp_regex_match(re, buf, len, NULL))
            out = dup_str(d, buf, len);
    }
    free(dist);
    free(prev);
    free(byte);
    free(dq);
    return out;
}

static void ip_text(struct dctx *d, const uint8_t ip[16], struct group *g)
{
    char buf[INET6_ADDRSTRLEN];
    static const uint8_t v4[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(ip, v4, 12) == 0)
        inet_ntop(AF_INET, ip + 12, buf, sizeof buf);
    else
        inet_ntop(AF_INET6, ip, buf, sizeof buf);
    group_add(d, g, dup_str(d, buf, strlen(buf)));
}

static void ip_step(uint8_t ip[16], int delta)
{
    for (int i = 15; i >= 0; i--) {
        int v = ip[i] + delta;
        ip[i] = (uint8_t)v;
        if (v >= 0 && v <= 255)
            return;
    }
}

/* The values of a test's group that tell it apart. */
static void test_values(struct dctx *d, const struct ir_program *ir, const struct ir_test *t)
{
    if (t->kind == IR_IP_IN) {
        struct group *g = group_of(d, GROUP_IP, NULL, 0);
        const struct ast_cidr_set *set = &ir->ast->cidr_sets[t->set];
        for (uint32_t i = 0; i < set->n; i++) {
            uint8_t ip[16];
            memcpy(ip, set->ranges[i].lo, 16);
            ip_text(d, ip, g);
            memcpy(ip, set->ranges[i].hi, 16);
            ip_text(d, ip, g);
            memcpy(ip, set->ranges[i].lo, 16);
            ip_step(ip, -1);
            ip_text(d, ip, g);
            memcpy(ip, set->ranges[i].hi, 16);
            ip_step(ip, 1);
            ip_text(d, ip, g);
        }
        return;
    }
    int what = t->value == RP_VAL_HOST ? GROUP_HOST : t->value == RP_VAL_PATH ? GROUP_PATH
                                                                                : (int)t->value;
    struct group *g = group_of(d, what, t->key, t->key_len);
    if (t->kind == IR_VALUE_IN) {
        for (uint32_t i = 0; i < t->n_list; i++)
            group_add(d, g, dup_str(d, t->list[i].s, t->list[i].len));
        return;
    }
    if (t->lit) {
        group_add(d, g, dup_str(d, t->lit, t->lit_len));
        if (t->op == RP_CMP_PREFIX) {
            char *more = arena_alloc(d->a, t->lit_len + 2);
            memcpy(more, t->lit, t->lit_len);
            more[t->lit_len] = 'x';
            group_add(d, g, more);
        }
    } else if (t->op == RP_CMP_RE) {
        const char *s = regex_sample(d, &ir->regexes[t->regex]);
        if (s)
            group_add(d, g, s);
    }
}

static void expr_values(struct dctx *d, const struct ir_program *ir, const struct ast_expr *e)
{
    if (!e)
        return;
    if (e->kind != AST_E_CMP) {
        expr_values(d, ir, e->l);
        expr_values(d, ir, e->r);
    } else if (e->subj == AST_SUBJ_ACL) {
        expr_values(d, ir, e->acl->expr);
    } else {
        test_values(d, ir, ir_expr_test(ir, e));
    }
}

static void route_values(struct dctx *d, const struct ir_program *ir,
                         const struct ast_route *const *routes, const uint32_t *c, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        const struct ast_route *r = c[i] < ir->ast->n_routes ? routes[c[i]] : NULL;
        if (!r)
            continue;
        if (ir->route_method[r->index] != UINT32_MAX)
            test_values(d, ir, &ir->tests[ir->route_method[r->index]]);
        if (r->path_kind == AST_PATH_REGEX) {
            const char *s = regex_sample(d, &ir->regexes[r->regex_id]);
            if (s)
                group_add(d, group_of(d, GROUP_PATH, NULL, 0), s);
        }
        expr_values(d, ir, r->cond);
        for (const struct ast_action *a = r->actions; a; a = a->next)
            expr_values(d, ir, a->guard);
    }
}

/* ---- running both policies ---------------------------------------------- */

struct dpol {
    const struct ir_program *ir;
    const struct src *src;
    const struct ast_route **routes; /* by index */
};

/* A pair of outcomes that differ, with its first example request. */
struct dentry {
    char *example, *old_text, *new_text;
    char *old_route, *new_route;
    unsigned n_classes;  /* host and path classes with requests of this pair */
    uint32_t last_class;
};

struct dreport {
    struct dentry *entries;
    unsigned n_entries;
    unsigned n_partial;
    uint32_t cur_class;
    diff_example_fn *on_example; /* each request found decided differently; NULL */
    void *ctx;
};

static char *take(struct buf *b)
{
    buf_append(b, "", 0);
    char *s = b->data;
    *b = (struct buf){0};
    return s;
}

/* Whether the host and path land on class c in both automata. */
static bool in_class(const struct dpol *p, const struct dclass *c, const char *host,
                     const char *path)
{
    const uint32_t *x;
    uint32_t n = rp_match_routes(&p[0].ir->matcher, host, strlen(host), path, strlen(path), &x);
    if (!same_list(x, n, c->ca, c->na))
        return false;
    n = rp_match_routes(&p[1].ir->matcher, host, strlen(host), path, strlen(path), &x);
    return same_list(x, n, c->cb, c->nb);
}

static void indent_lines(struct buf *out, const char *text, const char *first, const char *rest)
{
    const char *p = text;
    bool start = true;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        buf_printf(out, "%s%.*s\n", start ? first : rest, (int)n, p);
        start = false;
        p += n + (nl ? 1 : 0);
    }
}

#define CLASS_MAX_COMBOS 4096
#define DIFF_MAX_GROUPS 64

/* Builds the request of one combination of values (idx: a value of each
 * group), decides it under both policies, and reports the pair of outcomes
 * when they differ and the pair is new for the class. */
static void diff_try(struct dreport *rep, const struct dpol *pol, const struct dctx *d,
                     uint32_t ng, const uint32_t *idx, const char *host, const char *path)
{
    const char *method = "GET", *from = NULL, *h = host, *pa = path, *qs = NULL;
    struct buf query = {0}, cookie = {0}, url = {0};
    const char *hdr_ptrs[DIFF_MAX_GROUPS + 1];
    struct buf hdrs[DIFF_MAX_GROUPS + 1];
    size_t nh = 0;
    for (uint32_t k = 0; k < ng; k++) {
        const struct group *g = &d->groups[k];
        const char *v = g->n ? g->vals[idx[k]] : NULL;
        if (g->what == GROUP_IP)
            from = v;
        else if (g->what == GROUP_HOST)
            h = v ? v : host;
        else if (g->what == GROUP_PATH)
            pa = v ? v : path;
        else if (g->what == (int)RP_VAL_METHOD)
            method = v ? v : "GET";
        else if (!v)
            continue;
        else if (g->what == (int)RP_VAL_QUERY_STRING)
            qs = v;
        else if (g->what == (int)RP_VAL_QUERY)
            buf_printf(&query, "%s%.*s=%s", query.len ? "&" : "", (int)g->key_len, g->key, v);
        else if (g->what == (int)RP_VAL_COOKIE)
            buf_printf(&cookie, "%s%.*s=%s", cookie.len ? "; " : "", (int)g->key_len, g->key, v);
        else if (g->what == (int)RP_VAL_HEADER) {
            hdrs[nh] = (struct buf){0};
            buf_printf(&hdrs[nh], "%.*s: %s", (int)g->key_len, g->key, v);
            hdr_ptrs[nh] = hdrs[nh].data;
            nh++;
        }
    }
    if (cookie.len) {
        hdrs[nh] = (struct buf){0};
        buf_printf(&hdrs[nh], "cookie: %s", cookie.data);
        hdr_ptrs[nh] = hdrs[nh].data;
        nh++;
    }
    if (*h)
        buf_printf(&url, "http://%s", h);
    buf_puts(&url, pa);
    if (qs)
        buf_printf(&url, "?%s", qs);
    else if (query.len)
        buf_printf(&url, "?%s", query.data);
    struct explain_req rq = {method, url.data, from, hdr_ptrs, nh};
    if (!explain_validate(&rq)) {
        struct buf oa = {0}, ob = {0}, ra = {0}, rb = {0};
        explain_outcome(&oa, &ra, pol[0].ir, pol[0].src, &rq);
        explain_outcome(&ob, &rb, pol[1].ir, pol[1].src, &rq);
        buf_append(&oa, "", 0);
        buf_append(&ob, "", 0);
        if (strcmp(oa.data, ob.data) != 0) {
            if (rep->on_example)
                rep->on_example(rep->ctx, &rq, oa.data, ob.data);
            struct dentry *e = NULL;
            for (unsigned k = 0; k < rep->n_entries && !e; k++)
                if (strcmp(rep->entries[k].old_text, oa.data) == 0 &&
                    strcmp(rep->entries[k].new_text, ob.data) == 0)
                    e = &rep->entries[k];
            if (e) {
                if (e->last_class != rep->cur_class)
                    e->n_classes++;
                e->last_class = rep->cur_class;
            } else {
                struct buf ex = {0};
                buf_printf(&ex, "%s %s", method, url.data);
                if (from && strcmp(from, "127.0.0.1") != 0)
                    buf_printf(&ex, " --from %s", from);
                for (size_t k = 0; k < nh; k++)
                    buf_printf(&ex, " --header '%s'", hdr_ptrs[k]);
                rep->entries = realloc(rep->entries, (rep->n_entries + 1) * sizeof *rep->entries);
                if (!rep->entries)
                    rpx_oom();
                rep->entries[rep->n_entries++] = (struct dentry){
                    take(&ex), take(&oa), take(&ob), take(&ra), take(&rb), 1, rep->cur_class};
            }
        }
        buf_free(&oa);
        buf_free(&ob);
        buf_free(&ra);
        buf_free(&rb);
    }
    for (size_t k = 0; k < nh; k++)
        buf_free(&hdrs[k]);
    buf_free(&query);
    buf_free(&cookie);
    buf_free(&url);
}

/* Decides every combination of the class's values under both policies;
 * reports each pair of outcomes that differ, once, with its first example. */
static void diff_class(struct dreport *rep, const struct dpol *pol, const struct dclass *c,
                       const char *host, const char *path)
{
    struct arena a = {0};
    struct dctx d = {.a = &a};
    route_values(&d, pol[0].ir, pol[0].routes, c->ca, c->na);
    route_values(&d, pol[1].ir, pol[1].routes, c->cb, c->nb);
    /* defaults first: each group's first value is what a plain request has
     * (group_of may move the array: indices, not pointers) */
    group_of(&d, RP_VAL_METHOD, NULL, 0);
    group_of(&d, GROUP_IP, NULL, 0);
    group_of(&d, GROUP_HOST, NULL, 0);
    group_of(&d, GROUP_PATH, NULL, 0);
    static const char *const methods[] = {"GET", "POST", "HEAD", "PUT", "DELETE", "PATCH",
                                          "OPTIONS"};
    for (uint32_t k = 0; k < d.n_groups; k++) {
        struct group *g = &d.groups[k];
        const char **v = g->vals;
        uint32_t n = g->n;
        g->vals = NULL;
        g->n = 0;
        if (g->what == (int)RP_VAL_METHOD) {
            group_add(&d, g, "GET");
        } else if (g->what == GROUP_IP) {
            group_add(&d, g, "127.0.0.1");
            group_add(&d, g, "203.0.113.9");
        } else if (g->what == GROUP_HOST) {
            group_add(&d, g, host);
        } else if (g->what == GROUP_PATH) {
            group_add(&d, g, path);
        } else {
            group_add(&d, g, NULL); /* absent */
        }
        for (uint32_t i = 0; i < n; i++) {
            /* hosts and paths only where they keep the class */
            if ((g->what == GROUP_HOST && !in_class(pol, c, v[i], path)) ||
                (g->what == GROUP_PATH && (v[i][0] != '/' || !in_class(pol, c, host, v[i]))))
                continue;
            group_add(&d, g, v[i]);
        }
        if (g->what == (int)RP_VAL_METHOD) { /* and a method no test names */
            for (size_t i = 1; i < sizeof methods / sizeof methods[0]; i++) {
                uint32_t before = g->n;
                group_add(&d, g, methods[i]);
                if (g->n > before)
                    break;
            }
        } else if (g->what != GROUP_IP && g->what != GROUP_HOST && g->what != GROUP_PATH &&
                   g->what != (int)RP_VAL_SCHEME && g->what != (int)RP_VAL_TLS &&
                   g->what != (int)RP_VAL_JWT) {
            group_add(&d, g, "rpx-other"); /* a value no test names */
        }
    }
    uint64_t total = 1;
    for (uint32_t k = 0; k < d.n_groups && total <= CLASS_MAX_COMBOS; k++)
        total *= d.groups[k].n ? d.groups[k].n : 1;
    uint32_t ng = d.n_groups < DIFF_MAX_GROUPS ? d.n_groups : DIFF_MAX_GROUPS;
    uint32_t idx[DIFF_MAX_GROUPS] = {0};
    if (total <= CLASS_MAX_COMBOS) {
        for (uint64_t step = 0; step < total; step++) {
            uint64_t r = step;
            for (uint32_t k = 0; k < ng; k++) {
                uint32_t n = d.groups[k].n ? d.groups[k].n : 1;
                idx[k] = (uint32_t)(r % n);
                r /= n;
            }
            diff_try(rep, pol, &d, ng, idx, host, path);
        }
    } else {
        /* too many: every value of each group with every value of each
         * other group, the rest at their first value (pairwise cover) */
        rep->n_partial++;
        diff_try(rep, pol, &d, ng, idx, host, path);
        for (uint32_t i = 0; i < ng; i++)
            for (uint32_t j = i + 1; j <= ng; j++)
                for (uint32_t vi = 0; vi < d.groups[i].n; vi++)
                    for (uint32_t vj = 0; vj < (j < ng ? d.groups[j].n : 1); vj++) {
                        memset(idx, 0, sizeof idx);
                        idx[i] = vi;
                        if (j < ng)
                            idx[j] = vj;
                        diff_try(rep, pol, &d, ng, idx, host, path);
                    }
    }
    arena_free(&a);
}

unsigned diff_policies(struct buf *out, const struct ir_program *old_ir, const struct src *old_src,
                       const struct ir_program *new_ir, const struct src *new_src)
{
    return diff_policies_each(out, old_ir, old_src, new_ir, new_src, NULL, NULL);
}

unsigned diff_policies_each(struct buf *out, const struct ir_program *old_ir,
                            const struct src *old_src, const struct ir_program *new_ir,
                            const struct src *new_src, diff_example_fn *on_example, void *ctx)
{
    struct product pr = {.ma = &old_ir->matcher, .mb = &new_ir->matcher};
    struct dpol pol[2] = {{old_ir, old_src, old_ir->routes}, {new_ir, new_src, new_ir->routes}};
    struct dreport rep = {.on_example = on_example, .ctx = ctx};
    struct dclass *classes = NULL;
    uint32_t n_classes = 0, cap = 0;
    uint32_t *slot = NULL, n_slots = 0; /* classes by hash: index + 1 */
    if (pr.ma->n_states && pr.mb->n_states) {
        product_walk(&pr);
        for (uint32_t i = 0; i < pr.n; i++) {
            const struct pnode *p = &pr.nodes[i];
            if (p->phase != PH_PATH)
                continue;
            struct dclass c = {.node = i};
            c.na = side_cands(pr.ma, p->a, &c.ca);
            c.nb = side_cands(pr.mb, p->b, &c.cb);
            if (2 * (n_classes + 1) > n_slots) {
                uint32_t ns = n_slots ? 2 * n_slots : 1024;
                uint32_t *sl = calloc(ns, sizeof *sl);
                if (!sl)
                    rpx_oom();
                for (uint32_t k = 0; k < n_classes; k++) {
                    uint32_t h = (uint32_t)class_hash(&classes[k]) & (ns - 1);
                    while (sl[h])
                        h = (h + 1) & (ns - 1);
                    sl[h] = k + 1;
                }
                free(slot);
                slot = sl;
                n_slots = ns;
            }
            uint32_t h = (uint32_t)class_hash(&c) & (n_slots - 1);
            bool known = false;
            for (; slot[h] && !known; h = (h + 1) & (n_slots - 1)) {
                const struct dclass *o = &classes[slot[h] - 1];
                known = same_list(o->ca, o->na, c.ca, c.na) && same_list(o->cb, o->nb, c.cb, c.nb);
            }
            if (known)
                continue;
            /* only what a request can be: a host a client sends and a path
             * the proxy routes as it is */
            struct buf host = {0}, path = {0};
            product_example(&pr, i, &host, &path);
            char norm[4096];
            int n = path.len < sizeof norm ? rp_path_normalize(path.data, path.len, norm) : -1;
            bool real = n >= 0 && (size_t)n == path.len && memcmp(norm, path.data, path.len) == 0 &&
                        host_plausible(host.data ? host.data : "");
            buf_free(&host);
            buf_free(&path);
            if (!real)
                continue;
            if (n_classes == cap) {
                cap = cap ? 2 * cap : 256;
                classes = realloc(classes, cap * sizeof *classes);
                if (!classes)
                    rpx_oom();
            }
            classes[n_classes] = c;
            slot[h] = ++n_classes;
        }
    }
    for (uint32_t k = 0; k < n_classes; k++) {
        struct buf host = {0}, path = {0};
        product_example(&pr, classes[k].node, &host, &path);
        rep.cur_class = k;
        diff_class(&rep, pol, &classes[k], host.data, path.data);
        buf_free(&host);
        buf_free(&path);
    }
    for (unsigned k = 0; k < rep.n_entries; k++) {
        const struct dentry *e = &rep.entries[k];
        buf_printf(out, "%u. %s\n", k + 1, e->example);
        indent_lines(out, e->old_text, "   old: ", "        ");
        if (*e->old_route)
            buf_printf(out, "        by %s\n", e->old_route);
        indent_lines(out, e->new_text, "   new: ", "        ");
        if (*e->new_route)
            buf_printf(out, "        by %s\n", e->new_route);
        if (e->n_classes > 1)
            buf_printf(out, "   (and the like in %u more host and path classes)\n",
                       e->n_classes - 1);
        free(e->example);
        free(e->old_text);
        free(e->new_text);
        free(e->old_route);
        free(e->new_route);
    }
    if (rep.n_entries)
        buf_printf(out, "%u change%s in how requests are decided (%u host and path classes "
                        "compared)\n",
                   rep.n_entries, rep.n_entries == 1 ? "" : "s", n_classes);
    else
        buf_printf(out, "no request is decided differently (%u host and path classes "
                        "compared)\n",
                   n_classes);
    if (rep.n_partial)
        buf_printf(out, "note: in %u class%s the value combinations were too many to try all; "
                        "each value and each pair of values was tried\n",
                   rep.n_partial, rep.n_partial == 1 ? "" : "es");
    free(classes);
    free(slot);
    free(pr.nodes);
    free(pr.slot);
    free(rep.entries);
    return rep.n_entries;
}
