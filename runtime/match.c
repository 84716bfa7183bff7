/* match.c: the route automaton walk, the regex VM and CIDR lookups that
 * generated decision code calls (see rp/match.h). */
#include <string.h>

#include "json.h"
#include "rp/match.h"
#include "tls.h"

static const struct rp_match_edge *match_edge(const struct rp_matcher *m,
                                              const struct rp_match_state *s, uint8_t c)
{
    uint32_t lo = s->first_edge, hi = s->first_edge + s->n_edges;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        uint8_t b = m->edges[mid].byte;
        if (b == c)
            return &m->edges[mid];
        if (b < c)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

uint32_t rp_match_routes(const struct rp_matcher *m, const char *host, size_t host_len,
                         const char *path, size_t path_len, const uint32_t **cands)
{
    *cands = m->cands;
    if (!m->n_states)
        return 0;
    /* the host, backwards */
    const struct rp_match_state *s = &m->states[m->host_root];
    uint32_t root = s->path_root;
    size_t i = host_len;
    while (i > 0) {
        const struct rp_match_edge *e = match_edge(m, s, (uint8_t)host[i - 1]);
        if (!e) {
            root = s->path_root_more;
            break;
        }
        s = &m->states[e->next];
        i--;
    }
    if (i == 0)
        root = s->path_root;
    /* the path */
    s = &m->states[root];
    for (i = 0; i < path_len; i++) {
        const struct rp_match_edge *e = match_edge(m, s, (uint8_t)path[i]);
        if (!e) {
            *cands = m->cands + s->stop_first;
            return s->stop_n;
        }
        s = &m->states[e->next];
    }
    *cands = m->cands + s->end_first;
    return s->end_n;
}

/* ---- the Pike VM ----------------------------------------------------------- */

struct re_thread {
    uint32_t pc;
    uint32_t caps[2 * RP_RE_MAX_CAPS];
};

struct re_list {
    uint32_t n;
    struct re_thread t[RP_RE_MAX_INSTS];
};

/* Adds the thread at pc, following jumps, splits, saves and assertions, in
 * priority order. mark[pc] == gen means pc is already on the list. */
static void re_add(const struct rp_regex *re, struct re_list *l, uint32_t *mark, uint32_t gen,
                   uint32_t pc, uint32_t *caps, size_t sp, size_t n)
{
    if (pc >= re->n_insts || mark[pc] == gen)
        return;
    mark[pc] = gen;
    const struct rp_re_inst *in = &re->insts[pc];
    switch (in->op) {
    case RP_RE_JMP:
        re_add(re, l, mark, gen, in->x, caps, sp, n);
        return;
    case RP_RE_SPLIT:
        re_add(re, l, mark, gen, in->x, caps, sp, n);
        re_add(re, l, mark, gen, in->y, caps, sp, n);
        return;
    case RP_RE_SAVE: {
        uint32_t old = UINT32_MAX;
        if (in->x < 2 * RP_RE_MAX_CAPS) {
            old = caps[in->x];
            caps[in->x] = (uint32_t)sp;
        }
        re_add(re, l, mark, gen, pc + 1, caps, sp, n);
        if (in->x < 2 * RP_RE_MAX_CAPS)
            caps[in->x] = old;
        return;
    }
    case RP_RE_BOL:
        if (sp == 0)
            re_add(re, l, mark, gen, pc + 1, caps, sp, n);
        return;
    case RP_RE_EOL:
        if (sp == n)
            re_add(re, l, mark, gen, pc + 1, caps, sp, n);
        return;
    default: {
        struct re_thread *t = &l->t[l->n++];
        t->pc = pc;
        memcpy(t->caps, caps, sizeof t->caps);
        return;
    }
    }
}

bool rp_regex_match(const struct rp_regex *re, const char *s, size_t n, uint32_t *caps)
{
    static _Thread_local struct re_list lists[2];
    static _Thread_local uint32_t mark[RP_RE_MAX_INSTS];
    static _Thread_local uint32_t gen;
    if (re->n_insts == 0 || re->n_insts > RP_RE_MAX_INSTS)
        return false;
    struct re_list *cl = &lists[0], *nl = &lists[1];
    uint32_t tc[2 * RP_RE_MAX_CAPS], found[2 * RP_RE_MAX_CAPS];
    bool matched = false;
    memset(tc, 0xff, sizeof tc);
    cl->n = 0;
    if (++gen == 0) {
        memset(mark, 0, sizeof mark);
        gen = 1;
    }
    re_add(re, cl, mark, gen, 0, tc, 0, n);
    for (size_t sp = 0;; sp++) {
        nl->n = 0;
        if (++gen == 0) {
            memset(mark, 0, sizeof mark);
            gen = 1;
        }
        for (uint32_t i = 0; i < cl->n; i++) {
            struct re_thread *t = &cl->t[i];
            const struct rp_re_inst *in = &re->insts[t->pc];
            bool step = false;
            switch (in->op) {
            case RP_RE_MATCH:
                matched = true;
                memcpy(found, t->caps, sizeof found);
                i = cl->n; /* lower-priority threads are cut */
                continue;
            case RP_RE_CHAR:
                step = sp < n && (uint8_t)s[sp] == in->c;
                break;
            case RP_RE_ANY:
                step = sp < n;
                break;
            case RP_RE_CLASS:
                step = sp < n && (re->classes[in->x][(uint8_t)s[sp] >> 3] >> ((uint8_t)s[sp] & 7) & 1);
                break;
            default:
                break;
            }
            if (step)
                re_add(re, nl, mark, gen, t->pc + 1, t->caps, sp + 1, n);
        }
        /* not yet matched: a new attempt starts at the next position */
        if (!matched && sp < n) {
            memset(tc, 0xff, sizeof tc);
            re_add(re, nl, mark, gen, 0, tc, sp + 1, n);
        }
        if (sp >= n || nl->n == 0)
            break;
        struct re_list *tmp = cl;
        cl = nl;
        nl = tmp;
    }
    if (matched && caps)
        memcpy(caps, found, 2 * (re->n_caps + 1) * sizeof *caps);
    return matched;
}

/* ---- CIDR sets -------------------------------------------------------------- */

bool rp_ip_in(const uint8_t ip[16], const struct rp_ip_range *set, uint32_t n)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (memcmp(ip, set[mid].lo, 16) < 0)
            hi = mid;
        else if (memcmp(ip, set[mid].hi, 16) > 0)
            lo = mid + 1;
        else
            return true;
    }
    return false;
}

/* The first range of set[0..n) whose end is at or after a. */
static uint32_t first_ending_at_or_after(const struct rp_ip_range *set, uint32_t n,
                                         const uint8_t a[16])
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (memcmp(set[mid].hi, a, 16) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void rp_ip_index_build(const struct rp_ip_index *x)
{
    uint8_t a[16];
    for (uint32_t p = 0; p < RP_IP_INDEX_SLOTS; p++) {
        /* IPv4 slot p starts at ::ffff:P1.P2.0.0; the one past the last
         * at ::1:0:0:0, where IPv4-mapped addresses end */
        memset(a, 0, sizeof a);
        if (p < RP_IP_INDEX_SLOTS - 1) {
            a[10] = a[11] = 0xff;
            a[12] = (uint8_t)(p >> 8);
            a[13] = (uint8_t)p;
        } else {
            a[9] = 1;
        }
        x->v4[p] = first_ending_at_or_after(x->ranges, x->n, a);
        memset(a, 0, sizeof a);
        a[0] = (uint8_t)(p >> 8);
        a[1] = (uint8_t)p;
        x->v6[p] = p < RP_IP_INDEX_SLOTS - 1 ? first_ending_at_or_after(x->ranges, x->n, a) : x->n;
    }
}

bool rp_ip_in_index(const uint8_t ip[16], const struct rp_ip_index *x)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    const uint32_t *slots = x->v6;
    uint32_t p = (uint32_t)ip[0] << 8 | ip[1];
    if (memcmp(ip, mapped, 12) == 0) {
        slots = x->v4;
        p = (uint32_t)ip[12] << 8 | ip[13];
    }
    /* the slot's ranges, and the one that may start in it and end in the
     * next (ranges do not overlap: there is at most one) */
    uint32_t from = slots[p], to = slots[p + 1] + 1;
    if (to > x->n)
        to = x->n;
    return from < to && rp_ip_in(ip, x->ranges + from, to - from);
}

bool rp_req_value(const struct rp_request_view *req, enum rp_value what, const char *name,
                  size_t name_len, const char **v, uint32_t *len)
{
    switch (what) {
    case RP_VAL_METHOD:
        *v = req->method;
        *len = req->method_len;
        return true;
    case RP_VAL_HOST:
        *v = req->host;
        *len = req->host_len;
        return true;
    case RP_VAL_PATH:
        *v = req->path;
        *len = req->path_len;
        return true;
    case RP_VAL_QUERY:
        return rp_req_query(req, name, name_len, v, len);
    case RP_VAL_HEADER:
        return rp_req_header(req, name, name_len, v, len);
    case RP_VAL_COOKIE:
        return rp_req_cookie(req, name, name_len, v, len);
    case RP_VAL_QUERY_STRING:
        *v = req->query;
        *len = req->query_len;
        return req->query != NULL;
    case RP_VAL_SCHEME:
        *v = req->https ? "https" : "http";
        *len = req->https ? 5 : 4;
        return true;
    case RP_VAL_TLS:
        return rp_tls_value(req->tls, name, name_len, v, len);
    case RP_VAL_JWT: {
        struct rp_json_value j;
        if (!req->jwt || !rp_json_get_n(req->jwt, req->jwt_len, name, name_len, &j) ||
            j.kind == 'z')
            return false;
        *v = j.p;
        *len = (uint32_t)(j.end - j.p);
        return true;
    }
    }
    return false;
}

bool rp_req_test(const struct rp_request_view *req, enum rp_value what, const char *name,
                 size_t name_len, enum rp_cmp_op op, const char *lit, size_t lit_len,
                 const struct rp_regex *re)
{
    const char *v;
    uint32_t n;
    if (!rp_req_value(req, what, name, name_len, &v, &n))
        return op == RP_CMP_NE;
    switch (op) {
    case RP_CMP_PRESENT:
        return true;
    case RP_CMP_EQ:
        return n == lit_len && memcmp(v, lit, n) == 0;
    case RP_CMP_NE:
        return !(n == lit_len && memcmp(v, lit, n) == 0);
    case RP_CMP_PREFIX:
        return n >= lit_len && memcmp(v, lit, lit_len) == 0;
    case RP_CMP_RE:
        return rp_regex_match(re, v, n, NULL);
    }
    return false;
}

bool rp_req_in(const struct rp_request_view *req, enum rp_value what, const char *name,
               size_t name_len, const struct rp_str *set, uint32_t n)
{
    const char *v;
    uint32_t len;
    if (!rp_req_value(req, what, name, name_len, &v, &len))
        return false;
    for (uint32_t i = 0; i < n; i++)
        if (set[i].len == len && memcmp(set[i].s, v, len) == 0)
            return true;
    return false;
}
