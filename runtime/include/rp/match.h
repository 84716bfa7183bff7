/* rp/match.h: the matchers generated decision code uses, all built by the
 * compiler as constant tables: the route automaton over host and path,
 * compiled regular expressions (with captures, for `$1`), and CIDR sets.
 * Nothing here parses policy text at run time. */
#ifndef RP_MATCH_H
#define RP_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rp/program.h"

/* ---- the route automaton --------------------------------------------------
 *
 * One automaton for the host and path matchers of every route. The walk
 * reads the host backwards (so `*.example.com` is a suffix, i.e. a prefix of
 * the reversed host), then jumps to the path part for the set of host
 * patterns that matched, and reads the path forwards. Each state lists its
 * out edges sorted by byte as a slice of `edges`. When the input ends at a
 * state, or has no edge to follow, the state names a slice of `cands`: the
 * routes (in policy order) whose host and path matchers accept, cut after the
 * first route that always answers. The decision function tries them in order
 * against the route's remaining conditions (method, if, regex). The cost is
 * one step per host and path byte, whatever the number of routes. */
struct rp_match_edge {
    uint8_t byte;
    uint32_t next;
};

struct rp_match_state {
    uint32_t first_edge, n_edges;
    uint32_t end_first, end_n;   /* candidates when the input ends here */
    uint32_t stop_first, stop_n; /* candidates when the next byte has no edge */
    uint32_t path_root;          /* host states: the path part's start when the host
                                    ends here (host fully read) */
    uint32_t path_root_more;     /* host states: ... when the host goes on but has no
                                    edge here */
};

struct rp_matcher {
    uint32_t host_root;  /* start state of the host part */
    uint32_t n_states;
    const struct rp_match_state *states;
    const struct rp_match_edge *edges;
    const uint32_t *cands;
};

/* Walks the automaton over the request's host and path; sets *cands to the
 * candidate routes (valid as long as the matcher) and returns their count. */
uint32_t rp_match_routes(const struct rp_matcher *m, const char *host, size_t host_len,
                         const char *path, size_t path_len, const uint32_t **cands);

/* ---- regular expressions -------------------------------------------------
 *
 * A program for a Pike VM (Thompson NFA simulation with captures): linear
 * time in the subject, no backtracking, leftmost-first like Perl. */
enum rp_re_op {
    RP_RE_CHAR = 0,  /* byte c */
    RP_RE_ANY = 1,   /* any byte */
    RP_RE_CLASS = 2, /* a byte in class x (a 256-bit set) */
    RP_RE_SPLIT = 3, /* go on at x, and (lower priority) at y */
    RP_RE_JMP = 4,   /* go on at x */
    RP_RE_SAVE = 5,  /* record the position in slot x */
    RP_RE_BOL = 6,   /* at the start of the subject */
    RP_RE_EOL = 7,   /* at the end of the subject */
    RP_RE_MATCH = 8,
};

#define RP_RE_MAX_INSTS 1024
#define RP_RE_MAX_CAPS 10 /* $0 (the whole match) .. $9 */

struct rp_re_inst {
    uint8_t op; /* enum rp_re_op */
    uint8_t c;
    uint32_t x, y;
};

struct rp_regex {
    uint32_t n_insts;
    const struct rp_re_inst *insts;
    const uint8_t (*classes)[32];
    uint32_t n_caps; /* groups, not counting $0 */
};

/* Searches s[0..n) for re. Returns true on a match and, if caps is not
 * NULL, fills caps[2*i], caps[2*i+1] with the start and end of group i
 * (0: the whole match) for i <= re->n_caps, UINT32_MAX for a group that did
 * not take part. */
bool rp_regex_match(const struct rp_regex *re, const char *s, size_t n, uint32_t *caps);

/* ---- CIDR sets ------------------------------------------------------------ */

/* Whether ip is in a set of ranges (struct rp_ip_range, rp/program.h). */
bool rp_ip_in(const uint8_t ip[16], const struct rp_ip_range *set, uint32_t n);

/* A large set (RP_IP_INDEX_MIN ranges or more: a list read from a file)
 * is searched through an index: for the first 16 bits of an IPv4 address
 * (v4) or of an IPv6 one (v6), the first of its ranges that can hold such
 * an address. A lookup then searches the few ranges of one slot, however
 * long the list. rp_ip_index_build fills v4 and v6 (RP_IP_INDEX_SLOTS
 * entries each) from the ranges; the runtime does it at start for the
 * program's (rp_program.ip_indexes), rpx for explain. */
#define RP_IP_INDEX_MIN 256
#define RP_IP_INDEX_SLOTS 65537

struct rp_ip_index {
    const struct rp_ip_range *ranges;
    uint32_t n;
    uint32_t *v4, *v6;
};

void rp_ip_index_build(const struct rp_ip_index *x);
bool rp_ip_in_index(const uint8_t ip[16], const struct rp_ip_index *x);

/* ---- client identity (runtime/forward.c) ------------------------------------ */

struct rp_http1_header;

/* Parses an address as X-Forwarded-For writes it ("192.0.2.1", "2001:db8::1"
 * or "[2001:db8::1]"), into 16 bytes. */
bool rp_ip_parse(const char *p, size_t n, uint8_t out[16]);

/* Who the client is. `peer` is the connection's address. When it is
 * trusted, X-Forwarded-For is read from its right end while the address
 * reached is trusted too; the first untrusted one (or the leftmost, or the
 * last before a malformed entry) is the client. Sets client[16] and, when
 * it came from the chain, *text and *text_len to its text in the field (else
 * NULL). Returns whether the peer is trusted. */
bool rp_forward_client(const struct rp_forwarding *fw, const uint8_t peer[16],
                       const struct rp_http1_header *h, uint32_t n, uint8_t client[16],
                       const char **text, uint32_t *text_len);

/* ---- what an action answers ---------------------------------------------- */

/* A redirect's Location, from a->location's pieces (cap: the route's path
 * regex groups, or NULL); one that does not fit makes the answer a 500. */
void rp_answer_redirect(struct rp_decision *d, const struct rp_answer *a,
                        const struct rp_request_view *req, const uint32_t *cap);

/* Sets what an action answers on the decision. Inline: a route that only
 * proxies costs a few stores. */
static inline void rp_answer_set(struct rp_decision *d, const struct rp_answer *a,
                                 const struct rp_request_view *req, const uint32_t *cap)
{
    d->action = a->action;
    d->backend = a->backend;
    d->status = a->status;
    d->tunnel = a->tunnel;
    d->body = a->body;
    d->body_len = a->body_len;
    d->content_type = a->content_type;
    if (a->action == RP_ACTION_REDIRECT)
        rp_answer_redirect(d, a, req, cap);
}

/* ---- request values for conditions ------------------------------------------ */

enum rp_value {
    RP_VAL_METHOD = 1,
    RP_VAL_HOST = 2,
    RP_VAL_PATH = 3,
    RP_VAL_QUERY = 4,  /* name: the parameter */
    RP_VAL_HEADER = 5, /* name: the field, lower case */
    RP_VAL_COOKIE = 6, /* name: the cookie */
    RP_VAL_QUERY_STRING = 7, /* the whole query, absent without a '?' */
    RP_VAL_SCHEME = 8,       /* "https" on a TLS listener, else "http" */
    RP_VAL_TLS = 9,          /* name: "sni", "version", "cipher", "alpn",
                                "client_cert.subject", ".issuer", ".serial",
                                ".fingerprint", ".san", ".verified"; absent on
                                a plain connection or when the handshake had none */
    RP_VAL_JWT = 10,         /* name: a claim of the token `auth jwt` verified ("sub");
                                a string's content, other values as written */
};

enum rp_cmp_op {
    RP_CMP_PRESENT = 0, /* the value exists */
    RP_CMP_EQ = 1,
    RP_CMP_NE = 2, /* also true when the value is absent */
    RP_CMP_PREFIX = 3,
    RP_CMP_RE = 4,
};

struct rp_str {
    const char *s;
    uint32_t len;
};

/* Reads a request value; false if the request has none. */
bool rp_req_value(const struct rp_request_view *req, enum rp_value what, const char *name,
                  size_t name_len, const char **v, uint32_t *len);
/* Compares a request value with lit (EQ, NE, PREFIX) or re (RE). */
bool rp_req_test(const struct rp_request_view *req, enum rp_value what, const char *name,
                 size_t name_len, enum rp_cmp_op op, const char *lit, size_t lit_len,
                 const struct rp_regex *re);
/* True if the request value equals one of set[0..n). */
bool rp_req_in(const struct rp_request_view *req, enum rp_value what, const char *name,
               size_t name_len, const struct rp_str *set, uint32_t n);
#endif
