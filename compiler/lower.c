/* lower.c: builds the path DFA from the routes.
 *
 * Each route contributes its path to a trie. A state's prefix_route is the
 * lowest route index among prefix routes whose path is a prefix of the bytes
 * read to reach it (so it is inherited from the parent); `route default`
 * counts as the prefix "" at the root. exact_route is the lowest exact route
 * whose path ends there. Since routes are numbered in source order, "lowest"
 * is "first match wins". */
#include "lower.h"

#include "arena.h"

struct trie {
    struct trie *child;   /* first child, children sorted by byte */
    struct trie *sibling; /* next child of the same parent */
    uint8_t byte;
    uint32_t own_prefix;  /* lowest prefix route ending exactly here */
    uint32_t exact;       /* lowest exact route ending here */
    const char *path;     /* a route path passing through here */
    uint32_t depth;
    uint32_t id;
};

static struct trie *trie_new(struct arena *a, const char *path, uint32_t depth)
{
    struct trie *t = arena_alloc(a, sizeof *t);
    t->own_prefix = RP_NO_ROUTE;
    t->exact = RP_NO_ROUTE;
    t->path = path;
    t->depth = depth;
    return t;
}

/* Returns t's child for byte, making it (and counting it) if new. */
static struct trie *trie_step(struct arena *a, struct trie *t, uint8_t byte, const char *path,
                              uint32_t *n_nodes)
{
    struct trie **link = &t->child;
    while (*link && (*link)->byte < byte)
        link = &(*link)->sibling;
    if (*link && (*link)->byte == byte)
        return *link;
    struct trie *n = trie_new(a, path, t->depth + 1);
    n->byte = byte;
    n->sibling = *link;
    *link = n;
    (*n_nodes)++;
    return n;
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

struct lower_dfa *lower_path_dfa(struct arena *a, const struct ast_program *prog)
{
    struct trie *root = trie_new(a, "", 0);
    uint32_t n_nodes = 1;
    for (const struct ast_route *r = prog->routes; r; r = r->next) {
        struct trie *t = root;
        for (size_t i = 0; i < r->path_len; i++)
            t = trie_step(a, t, (uint8_t)r->path[i], r->path, &n_nodes);
        if (r->kind == AST_ROUTE_EXACT)
            t->exact = min_u32(t->exact, r->index);
        else
            t->own_prefix = min_u32(t->own_prefix, r->index);
    }

    struct lower_dfa *d = arena_alloc(a, sizeof *d);
    d->n_states = n_nodes;
    d->states = arena_alloc(a, n_nodes * sizeof *d->states);
    d->edges = arena_alloc(a, n_nodes * sizeof *d->edges); /* one edge into each non-root */
    d->state_path = arena_alloc(a, n_nodes * sizeof *d->state_path);
    d->state_depth = arena_alloc(a, n_nodes * sizeof *d->state_depth);

    /* breadth first: a state's children get the next free numbers, in byte
     * order, so its edges are the next slice of the edge array */
    struct trie **queue = arena_alloc(a, n_nodes * sizeof *queue);
    uint32_t *inherited = arena_alloc(a, n_nodes * sizeof *inherited);
    uint32_t head = 0, tail = 0;
    root->id = 0;
    queue[tail] = root;
    inherited[tail++] = RP_NO_ROUTE;
    while (head < tail) {
        uint32_t id = head;
        struct trie *t = queue[head++];
        struct rp_dfa_state *s = &d->states[id];
        uint32_t prefix = min_u32(inherited[id], t->own_prefix);
        s->prefix_route = prefix;
        s->exact_route = t->exact;
        s->first_edge = d->n_edges;
        d->state_path[id] = t->path;
        d->state_depth[id] = t->depth;
        for (struct trie *c = t->child; c; c = c->sibling) {
            c->id = tail;
            inherited[tail] = prefix;
            queue[tail++] = c;
            d->edges[d->n_edges].byte = c->byte;
            d->edges[d->n_edges].next = c->id;
            d->n_edges++;
            s->n_edges++;
        }
    }
    return d;
}
