/* lower.c: builds the route automaton (rp/match.h) from the routes.
 *
 * Host patterns (exact names and `*.suffix`) go into a trie over reversed
 * names. Every host trie node knows which patterns hold when the host ends
 * there (exact names there, wildcards strictly above) or goes on with no edge
 * (wildcards there and above). Each distinct such set of host patterns gets
 * one path trie holding the routes of those patterns and of routes with no
 * host matcher, in policy order. A path trie node's candidates are the prefix
 * routes at or above it (and, when the path ends there, the exact routes
 * there), sorted, cut after the first route that always answers: later ones
 * could never be reached. Routes without a path matcher, and regex routes,
 * are prefix routes of "" whose regex the decision function checks. */
#include "lower.h"

#include <string.h>

#include "arena.h"

struct trie {
    struct trie *child, *sibling;
    uint8_t byte;
    uint32_t depth;
    const char *text;  /* some pattern through here (for comments) */
    uint32_t *own;     /* host: pattern ids ending here; path: prefix routes ending here */
    uint32_t n_own, cap_own;
    uint32_t *exact;   /* path: exact routes ending here */
    uint32_t n_exact, cap_exact;
    uint32_t id;
};

struct vec {
    uint32_t *v;
    uint32_t n, cap;
};

static void vec_push(struct arena *a, struct vec *x, uint32_t v)
{
    if (x->n == x->cap) {
        uint32_t cap = x->cap ? x->cap * 2 : 8;
        x->v = arena_grow(a, x->v, x->cap, cap, sizeof *x->v);
        x->cap = cap;
    }
    x->v[x->n++] = v;
}

static void list_push(struct arena *a, uint32_t **v, uint32_t *n, uint32_t *cap, uint32_t x)
{
    if (*n == *cap) {
        uint32_t c = *cap ? *cap * 2 : 2;
        *v = arena_grow(a, *v, *cap, c, sizeof **v);
        *cap = c;
    }
    (*v)[(*n)++] = x;
}

static struct trie *trie_step(struct arena *a, struct trie *t, uint8_t byte, const char *text,
                              uint32_t *n_nodes)
{
    struct trie **link = &t->child;
    while (*link && (*link)->byte < byte)
        link = &(*link)->sibling;
    if (*link && (*link)->byte == byte)
        return *link;
    struct trie *n = arena_alloc(a, sizeof *n);
    n->byte = byte;
    n->depth = t->depth + 1;
    n->text = text;
    n->sibling = *link;
    *link = n;
    (*n_nodes)++;
    return n;
}

/* ---- interning sorted id lists ----------------------------------------- */

struct interner {
    struct vec store;    /* lists, back to back */
    uint32_t *slot_off;  /* hash slots: offset+1 (0 empty) */
    uint32_t *slot_len;
    uint32_t mask;
    uint32_t n;
};

static void intern_init(struct arena *a, struct interner *in, uint32_t expect)
{
    uint32_t cap = 64;
    while (cap < expect * 2)
        cap *= 2;
    in->slot_off = arena_alloc(a, cap * sizeof *in->slot_off);
    in->slot_len = arena_alloc(a, cap * sizeof *in->slot_len);
    in->mask = cap - 1;
}

/* Returns the offset of the list in in->store, adding it if new. */
static uint32_t intern(struct arena *a, struct interner *in, const uint32_t *v, uint32_t n)
{
    uint32_t h = 2166136261u ^ n;
    for (uint32_t i = 0; i < n; i++)
        h = (h ^ v[i]) * 16777619u;
    for (uint32_t i = h & in->mask;; i = (i + 1) & in->mask) {
        if (!in->slot_off[i]) {
            if (2 * (in->n + 1) > in->mask + 1) { /* grow and retry */
                uint32_t old = in->mask + 1;
                uint32_t *oo = in->slot_off, *ol = in->slot_len;
                intern_init(a, in, old);
                for (uint32_t j = 0; j < old; j++) {
                    if (!oo[j])
                        continue;
                    const uint32_t *lv = in->store.v + oo[j] - 1;
                    uint32_t hh = 2166136261u ^ ol[j];
                    for (uint32_t k = 0; k < ol[j]; k++)
                        hh = (hh ^ lv[k]) * 16777619u;
                    uint32_t s = hh & in->mask;
                    while (in->slot_off[s])
                        s = (s + 1) & in->mask;
                    in->slot_off[s] = oo[j];
                    in->slot_len[s] = ol[j];
                }
                return intern(a, in, v, n);
            }
            uint32_t off = in->store.n;
            for (uint32_t k = 0; k < n; k++)
                vec_push(a, &in->store, v[k]);
            in->slot_off[i] = off + 1;
            in->slot_len[i] = n;
            in->n++;
            return off;
        }
        if (in->slot_len[i] == n &&
            (n == 0 || memcmp(in->store.v + in->slot_off[i] - 1, v, n * sizeof *v) == 0))
            return in->slot_off[i] - 1;
    }
}

/* ---- building ------------------------------------------------------------- */

struct build {
    struct arena *a;
    const struct ast_program *prog;
    const struct ast_route **routes; /* by index */
    uint32_t *route_hostpat;         /* pattern id or UINT32_MAX (any host) */
    struct lower_dfa *d;
    struct interner cands;
    struct interner hostsets;
    uint32_t *hostset_root; /* by hostset offset: path root state, or UINT32_MAX */
    uint32_t hostset_cap;
    uint32_t empty_root; /* the path root for the empty host set */
    struct rp_match_state *st;
    uint32_t st_cap;
    struct rp_match_edge *ed;
    uint32_t ed_cap;
    const char **what;
    uint32_t *what_len;
    uint8_t *is_host;
};

static uint32_t new_state(struct build *b, const char *what, uint32_t len, bool host)
{
    struct lower_dfa *d = b->d;
    if (d->n_states == b->st_cap) {
        uint32_t cap = b->st_cap ? b->st_cap * 2 : 64;
        b->st = arena_grow(b->a, b->st, b->st_cap, cap, sizeof *b->st);
        b->what = arena_grow(b->a, b->what, b->st_cap, cap, sizeof *b->what);
        b->what_len = arena_grow(b->a, b->what_len, b->st_cap, cap, sizeof *b->what_len);
        b->is_host = arena_grow(b->a, b->is_host, b->st_cap, cap, sizeof *b->is_host);
        b->st_cap = cap;
    }
    b->what[d->n_states] = what;
    b->what_len[d->n_states] = len;
    b->is_host[d->n_states] = host;
    return d->n_states++;
}

static void new_edge(struct build *b, uint8_t byte, uint32_t next)
{
    struct lower_dfa *d = b->d;
    if (d->n_edges == b->ed_cap) {
        uint32_t cap = b->ed_cap ? b->ed_cap * 2 : 64;
        b->ed = arena_grow(b->a, b->ed, b->ed_cap, cap, sizeof *b->ed);
        b->ed_cap = cap;
    }
    b->ed[d->n_edges].byte = byte;
    b->ed[d->n_edges].next = next;
    d->n_edges++;
}

/* Sorted merge of two sorted lists into out (deduplicated); returns count. */
static uint32_t merge(const uint32_t *x, uint32_t nx, const uint32_t *y, uint32_t ny,
                      uint32_t *out)
{
    uint32_t i = 0, j = 0, n = 0;
    while (i < nx || j < ny) {
        uint32_t v;
        if (j >= ny || (i < nx && x[i] < y[j]))
            v = x[i++];
        else if (i >= nx || y[j] < x[i])
            v = y[j++];
        else
            v = x[i++], j++;
        out[n++] = v;
    }
    return n;
}

/* Cuts a sorted candidate list after the first route that always answers. */
static uint32_t cut(const struct build *b, const uint32_t *v, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (b->routes[v[i]]->always)
            return i + 1;
    return n;
}

static bool in_set(const uint32_t *set, uint32_t n, uint32_t x)
{
    for (uint32_t i = 0; i < n; i++)
        if (set[i] == x)
            return true;
    return false;
}

/* Builds the path trie for a host set (sorted pattern ids); returns its root. */
static uint32_t build_paths(struct build *b, const uint32_t *set, uint32_t n_set)
{
    struct arena *a = b->a;
    struct trie *root = arena_alloc(a, sizeof *root);
    root->text = "";
    uint32_t n_nodes = 1;
    for (const struct ast_route *r = b->prog->routes; r; r = r->next) {
        uint32_t hp = b->route_hostpat[r->index];
        if (hp != UINT32_MAX && !in_set(set, n_set, hp))
            continue;
        struct trie *t = root;
        bool literal = r->path_kind == AST_PATH_PREFIX || r->path_kind == AST_PATH_EXACT;
        if (literal)
            for (size_t i = 0; i < r->path_len; i++)
                t = trie_step(a, t, (uint8_t)r->path[i], r->path, &n_nodes);
        if (r->path_kind == AST_PATH_EXACT)
            list_push(a, &t->exact, &t->n_exact, &t->cap_exact, r->index);
        else
            list_push(a, &t->own, &t->n_own, &t->cap_own, r->index);
    }
    /* breadth first */
    struct trie **queue = arena_alloc(a, n_nodes * sizeof *queue);
    uint32_t **inh = arena_alloc(a, n_nodes * sizeof *inh);
    uint32_t *inh_n = arena_alloc(a, n_nodes * sizeof *inh_n);
    uint32_t head = 0, tail = 0;
    queue[tail] = root;
    inh[tail] = NULL;
    inh_n[tail++] = 0;
    uint32_t first = b->d->n_states;
    for (uint32_t i = 0; i < n_nodes; i++)
        new_state(b, queue[0]->text, 0, false); /* placeholders, filled below */
    while (head < tail) {
        uint32_t k = head;
        struct trie *t = queue[head++];
        uint32_t id = first + k;
        b->what[id] = t->text;
        b->what_len[id] = t->depth;
        /* prefix routes at or above, cut */
        uint32_t *pre = arena_alloc(a, (inh_n[k] + t->n_own + 1) * sizeof *pre);
        uint32_t np = cut(b, pre, merge(inh[k], inh_n[k], t->own, t->n_own, pre));
        uint32_t *end = arena_alloc(a, (np + t->n_exact + 1) * sizeof *end);
        uint32_t ne = cut(b, end, merge(pre, np, t->exact, t->n_exact, end));
        struct rp_match_state *s = &b->st[id];
        s->stop_first = intern(a, &b->cands, pre, np);
        s->stop_n = np;
        s->end_first = intern(a, &b->cands, end, ne);
        s->end_n = ne;
        s->first_edge = b->d->n_edges;
        for (struct trie *c = t->child; c; c = c->sibling) {
            queue[tail] = c;
            inh[tail] = pre;
            inh_n[tail] = np;
            new_edge(b, c->byte, first + tail);
            tail++;
            s->n_edges++;
        }
    }
    return first;
}

/* The path root for a host set, building its trie the first time. */
static uint32_t hostset_root(struct build *b, const uint32_t *set, uint32_t n)
{
    if (n == 0) {
        if (b->empty_root == UINT32_MAX)
            b->empty_root = build_paths(b, set, 0);
        return b->empty_root;
    }
    /* nonempty lists occupy disjoint stretches of the store: their ends
     * tell them apart */
    uint32_t key = intern(b->a, &b->hostsets, set, n) + n;
    if (key >= b->hostset_cap) {
        uint32_t cap = b->hostset_cap ? b->hostset_cap : 16;
        while (cap <= key)
            cap *= 2;
        uint32_t *r = arena_alloc(b->a, cap * sizeof *r);
        memset(r, 0xff, cap * sizeof *r);
        if (b->hostset_root)
            memcpy(r, b->hostset_root, b->hostset_cap * sizeof *r);
        b->hostset_root = r;
        b->hostset_cap = cap;
    }
    if (b->hostset_root[key] == UINT32_MAX)
        b->hostset_root[key] = build_paths(b, set, n);
    return b->hostset_root[key];
}

struct lower_dfa *lower_path_dfa(struct arena *a, const struct ast_program *prog)
{
    struct build b = {.a = a, .prog = prog, .empty_root = UINT32_MAX};
    struct lower_dfa *d = arena_alloc(a, sizeof *d);
    b.d = d;
    intern_init(a, &b.cands, 64);
    intern_init(a, &b.hostsets, 16);
    b.routes = arena_alloc(a, (prog->n_routes + 1) * sizeof *b.routes);
    b.route_hostpat = arena_alloc(a, (prog->n_routes + 1) * sizeof *b.route_hostpat);

    /* host patterns: id 2*k for the exact name, 2*k+1 for the wildcard, k
     * being the host trie node; the trie is over reversed names */
    struct trie *hroot = arena_alloc(a, sizeof *hroot);
    hroot->text = "";
    uint32_t n_hnodes = 1;
    struct trie **hnode_of = arena_alloc(a, (prog->n_routes + 1) * sizeof *hnode_of);
    for (const struct ast_route *r = prog->routes; r; r = r->next) {
        b.routes[r->index] = r;
        b.route_hostpat[r->index] = UINT32_MAX;
        if (r->host_kind == AST_HOST_ANY)
            continue;
        struct trie *t = hroot;
        for (size_t i = r->host_len; i > 0; i--)
            t = trie_step(a, t, (uint8_t)r->host[i - 1], r->host, &n_hnodes);
        hnode_of[r->index] = t;
    }
    /* number host nodes breadth first: they are states 0.. */
    struct trie **queue = arena_alloc(a, n_hnodes * sizeof *queue);
    uint32_t head = 0, tail = 0;
    queue[tail++] = hroot;
    while (head < tail) {
        struct trie *t = queue[head];
        t->id = head++;
        for (struct trie *c = t->child; c; c = c->sibling)
            queue[tail++] = c;
    }
    for (const struct ast_route *r = prog->routes; r; r = r->next)
        if (r->host_kind != AST_HOST_ANY)
            b.route_hostpat[r->index] =
                2 * hnode_of[r->index]->id + (r->host_kind == AST_HOST_WILD);
    for (uint32_t i = 0; i < n_hnodes; i++)
        new_state(&b, queue[i]->text, queue[i]->depth, true);
    d->host_root = 0;
    /* edges of host states, in order */
    for (uint32_t i = 0; i < n_hnodes; i++) {
        b.st[i].first_edge = d->n_edges;
        for (struct trie *c = queue[i]->child; c; c = c->sibling) {
            new_edge(&b, c->byte, c->id);
            b.st[i].n_edges++;
        }
    }
    /* host sets: walk down keeping the wildcards above; which patterns
     * exist at a node is read off route_hostpat */
    bool *exact_at = arena_alloc(a, n_hnodes + 1);
    bool *wild_at = arena_alloc(a, n_hnodes + 1);
    for (const struct ast_route *r = prog->routes; r; r = r->next) {
        uint32_t hp = b.route_hostpat[r->index];
        if (hp == UINT32_MAX)
            continue;
        if (hp & 1)
            wild_at[hp / 2] = true;
        else
            exact_at[hp / 2] = true;
    }
    uint32_t **above = arena_alloc(a, n_hnodes * sizeof *above); /* wild ids strictly above */
    uint32_t *above_n = arena_alloc(a, n_hnodes * sizeof *above_n);
    for (uint32_t i = 0; i < n_hnodes; i++) {
        struct trie *t = queue[i];
        /* wildcards at or above this node */
        uint32_t *here = arena_alloc(a, (above_n[i] + 1) * sizeof *here);
        if (above_n[i]) /* above[i] is NULL at the root */
            memcpy(here, above[i], above_n[i] * sizeof *here);
        uint32_t nh = above_n[i];
        if (wild_at[i])
            here[nh++] = 2 * i + 1;
        for (struct trie *c = t->child; c; c = c->sibling) {
            above[c->id] = here;
            above_n[c->id] = nh;
        }
        /* ends here: exact here + wildcards strictly above (sorted) */
        uint32_t *endset = arena_alloc(a, (above_n[i] + 2) * sizeof *endset);
        uint32_t ne = 0;
        for (uint32_t k = 0; k < above_n[i]; k++)
            endset[ne++] = above[i][k];
        if (exact_at[i])
            endset[ne++] = 2 * i;
        /* sort (small) */
        for (uint32_t x = 1; x < ne; x++)
            for (uint32_t y = x; y > 0 && endset[y - 1] > endset[y]; y--) {
                uint32_t tmp = endset[y];
                endset[y] = endset[y - 1];
                endset[y - 1] = tmp;
            }
        /* building a trie may move b.st: store after the calls */
        uint32_t root_end = hostset_root(&b, endset, ne);
        uint32_t root_more = hostset_root(&b, here, nh);
        b.st[i].path_root = root_end;
        b.st[i].path_root_more = root_more;
    }

    d->states = b.st;
    d->edges = b.ed;
    /* never NULL: readers take `cands + first` even when there are none */
    static uint32_t no_cands[1];
    d->cands = b.cands.store.v ? b.cands.store.v : no_cands;
    d->n_cands = b.cands.store.n;
    d->state_what = b.what;
    d->state_len = b.what_len;
    d->state_host = b.is_host;
    return d;
}
