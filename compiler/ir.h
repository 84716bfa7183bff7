/* ir.h: a policy's meaning in one place, between the checked tree and the
 * tools that use it.
 *
 * Every condition of the policy becomes an ir_test: the request value it
 * reads (the runtime's enum rp_value, its key normalized), the operator
 * (enum rp_cmp_op), the literal, the regex in the runtime's shape and the
 * merged address ranges. emit_c.c prints each test as the one runtime call
 * that decides it; explain.c makes that same call (ir_test_holds), on a
 * request view built by the runtime's own code and routed by the real
 * automaton. So the generated proxy, `rpx test` and `rpx explain` cannot
 * read a condition differently: the meaning is in librpx, once. */
#ifndef RPX_IR_H
#define RPX_IR_H

#include <stdbool.h>
#include <stdint.h>

#include <rp/match.h>
#include <rp/program.h>

#include "ast.h"

struct arena;
struct lower_dfa;

enum ir_test_kind {
    IR_IP_IN,    /* client.ip in a set: rp_ip_in */
    IR_VALUE_IN, /* a request value equals one of a list: rp_req_in */
    IR_VALUE,    /* a request value compared with a literal or regex: rp_req_test */
};

struct ir_test {
    enum ir_test_kind kind;
    bool negate;          /* IP_IN: `client.ip != A` */
    uint32_t set;         /* IP_IN: index in ast_program.cidr_sets */
    enum rp_value value;  /* VALUE_IN, VALUE */
    const char *key;      /* the header (lower case), parameter, cookie or TLS fact; NULL */
    uint32_t key_len;
    enum rp_cmp_op op;    /* VALUE */
    const char *lit;      /* VALUE: EQ, NE, PREFIX */
    uint32_t lit_len;
    uint32_t regex;       /* VALUE: RE, index in ir_program.regexes */
    const struct rp_str *list; /* VALUE_IN */
    uint32_t n_list;
};

/* A request value as a piece of a redirect's Location. */
struct ir_value {
    enum rp_value value;
    const char *key; /* normalized as in ir_test */
    uint32_t key_len;
};

/* What a route checks before its actions, in the order the proxy does. */
enum ir_check_kind {
    IR_CHECK_HOST,   /* the host: the route automaton's (a candidate or not) */
    IR_CHECK_PATH,   /* a literal path (= or prefix): the route automaton's */
    IR_CHECK_METHOD, /* tests[test] */
    IR_CHECK_REGEX,  /* the path matches regexes[regex]; its groups are the captures */
    IR_CHECK_COND,   /* `if EXPR` */
};

struct ir_check {
    enum ir_check_kind kind;
    uint32_t test;               /* METHOD */
    uint32_t regex;              /* REGEX */
    const struct ast_expr *cond; /* COND */
};

/* An action: when it applies, and what it answers. The first that applies
 * decides; a route whose every action is guarded and none applies does not
 * match (the next candidate is tried). */
struct ir_step {
    const struct ast_action *act;
    const struct ast_expr *guard; /* NULL: always (and the last step) */
    bool unless;
    struct rp_answer answer;      /* rp_answer_set's; the Location's pieces in the arena */
};

struct ir_route {
    const struct ast_route *ast;
    const struct ir_check *checks;
    uint32_t n_checks;
    const struct ir_step *steps;
    uint32_t n_steps;
    bool captures;  /* a Location reads the path regex's groups */
    bool table_row; /* only host and path to check and one unguarded step: the
                       generated code needs no function, only a table row */
};

struct ir_program {
    const struct ast_program *ast;
    const struct lower_dfa *dfa;
    struct rp_matcher matcher;   /* the route automaton, as the proxy runs it */
    struct rp_regex *regexes;    /* ast->regexes in the runtime's shape */
    uint32_t n_regexes;
    struct ir_test *tests;       /* every leaf condition, and every method matcher */
    uint32_t n_tests;
    uint32_t *route_method;      /* per route: the test of its method matcher; UINT32_MAX */
    const struct ast_route **routes; /* by index */
    struct ir_route *route_ir;   /* by index: what deciding it takes */
    struct rp_ip_index *ip_index; /* per CIDR set: the index of a large one (as the
                                     proxy builds it at start); n 0 for the others */
};

/* Lowers a checked program without errors (arrays in the arena) and numbers
 * each leaf comparison's test in its ast_expr.ir. */
struct ir_program *ir_lower(struct arena *a, struct ast_program *prog, const struct src *s);

/* A value's pieces in the runtime's shape (*n of them). */
struct rp_piece *ir_pieces(struct arena *a, const struct ast_piece *list, uint32_t *n);

/* The test of a leaf comparison (not an acl reference). */
const struct ir_test *ir_expr_test(const struct ir_program *ir, const struct ast_expr *e);

/* Whether a test holds for a request: the call the generated code makes. */
bool ir_test_holds(const struct ir_program *ir, const struct ir_test *t,
                   const struct rp_request_view *req);

/* A request value of a redirect piece (subject and key as written). */
struct ir_value ir_value_of(struct arena *a, enum ast_subject subj, const char *key,
                            size_t key_len);

/* The runtime's name for a request value (RP_VAL_*), for the emitter. */
const char *ir_value_name(enum rp_value v);
/* The runtime's name for an operator (RP_CMP_*), for the emitter. */
const char *ir_op_name(enum rp_cmp_op op);
/* The runtime's name for an action (RP_ACTION_*), for the emitter. */
const char *ir_action_name(enum rp_action_kind k);

#endif
