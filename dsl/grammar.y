/* grammar.y: the .rp grammar for Lemon. This is the source: grammar.c and
 * grammar.h in the build tree are generated from it; edit this one.
 *
 * As in SQLite's parse.y, the grammar holds no logic: each action calls a
 * builder in compiler/parse.c, which makes AST nodes in the compilation's
 * arena and reports what only it can see. The lexer has already turned
 * newlines into `;` and put a `;` before every `}`, so every statement here
 * ends in SEMI, and empty statements are allowed. */

%name rpxParse
%token_prefix TK_
%token_type {struct lex_token}
%default_type {struct lex_token}
%extra_context {struct parse_ctx *p}
%start_symbol program

%include {
#include <assert.h>
#include <stdlib.h>

#include "lex.h"
#include "parse.h"

/* After a syntax error Lemon stays quiet until three tokens have been
 * shifted. Statements are short, so once one is skipped (`error SEMI`),
 * the next statement's errors are worth reporting at once. */
#define PARSE_RESYNCED (yypParser->yyerrcnt = -1)
}

/* Tokens own nothing (they borrow the source); as in SQLite, this only
 * keeps the context variable used in the generated destructor. */
%token_destructor { (void)p; }

%syntax_error {
    parse_syntax_error(p, &TOKEN);
}

%stack_overflow {
    parse_stack_overflow(p);
}

/* Token numbers are fixed here, in this order, for every token the lexer
 * makes, including those no rule uses yet. */
%token SEMI LBRACE RBRACE LPAREN RPAREN LBRACKET RBRACKET COMMA EQ EQEQ NE TILDE PREFIXEQ DOT.
%token ID STRING INT QUANTITY RATE ADDR IP CIDR RANGE.
%token LISTEN BACKEND BALANCE SERVER WEIGHT ROUTE PATH DEFAULT PROXY RESPOND.
%token WORKERS TIMEOUTS LIMITS TUNNEL ACL HOST METHOD IF UNLESS DENY REDIRECT.
%token IMPORT TEST REQUEST EXPECT AND OR NOT IN FROM HEADER COMPRESS FORWARDED.
%token CACHE PURGE METRICS STATUS.
%token N_KINDS. /* not a token: one past the last kind */

/* A keyword is a name wherever a name is expected: a server may be `backup`. */
%fallback ID LISTEN BACKEND BALANCE SERVER WEIGHT ROUTE PATH DEFAULT PROXY RESPOND
    WORKERS TIMEOUTS LIMITS TUNNEL ACL HOST METHOD IF UNLESS DENY REDIRECT
    IMPORT TEST REQUEST EXPECT AND OR NOT IN FROM HEADER COMPRESS FORWARDED CACHE PURGE METRICS STATUS.

%left OR.
%left AND.
%right NOT.
%nonassoc EQEQ NE TILDE PREFIXEQ IN.
/* `req.header["X"]` followed by `[`: the `[` indexes (shift), it does not
 * start a list. */
%left DOT.
%left LBRACKET.

%type expr {struct ast_expr *}
%type guard {struct ast_expr *}
%type args {struct ast_arg *}
%type nargs {struct ast_arg *}
%type arg {struct ast_arg *}
%type list {struct ast_arg *}
%type ref {struct ast_arg *}

program ::= items.

items ::= .
items ::= items item.

item ::= SEMI.
item ::= error SEMI.                                { PARSE_RESYNCED; }
item ::= error LBRACE skipped RBRACE.               { PARSE_RESYNCED; }
item ::= listen_head SEMI.
item ::= listen_head LBRACE lstmts RBRACE.          { parse_listen_end(p); }
item ::= backend_head LBRACE bstmts RBRACE.         { parse_backend_end(p); }
item ::= route_head matchers LBRACE actions RBRACE. { parse_route_end(p); }
item ::= ACL(K) ID(N) EQ expr(E) SEMI.              { parse_acl(p, &K, &N, E); }
item ::= IMPORT(K) STRING(S) SEMI.                  { parse_import(p, &K, &S); }
item ::= test_head LBRACE tstmts RBRACE.            { parse_test_end(p); }
item ::= WORKERS(K) args(A) SEMI.                   { parse_setting(p, PARSE_SET_WORKERS, &K, A); }
item ::= ID(K) SEMI.                                { parse_top_stmt(p, &K, NULL); }
item ::= ID(K) nargs(A) SEMI.                       { parse_top_stmt(p, &K, A); }
/* `limit NAME = rate ...`: a named definition the checker knows by its word. */
item ::= ID(K) ID(N) EQ args(A) SEMI.               { parse_definition(p, &K, &N, A); }
item ::= settings_head LBRACE settings RBRACE.

settings_head ::= TIMEOUTS(K).                      { parse_settings_begin(p, PARSE_SET_TIMEOUTS, &K); }
settings_head ::= LIMITS(K).                        { parse_settings_begin(p, PARSE_SET_LIMITS, &K); }
settings_head ::= FORWARDED(K).                     { parse_settings_begin(p, PARSE_SET_FORWARDED, &K); }

settings ::= .
settings ::= settings setting.

setting ::= SEMI.
setting ::= error SEMI.                             { PARSE_RESYNCED; }
setting ::= ID(K) args(A) SEMI.                     { parse_setting(p, PARSE_SET_BLOCK, &K, A); }

/* Arguments of statements whose shape the checker knows (backend options,
 * settings): words, values, lists, calls such as hash(client.ip), and
 * references such as req.header["X"]. */
args(A) ::= .                                       { A = NULL; }
args(A) ::= args(L) arg(X).                         { A = parse_arg_append(L, X); }

/* At least one argument: after `WORD NAME` the next token tells a statement
 * (`log off`) from a definition (`limit api = ...`). */
nargs(A) ::= arg(X).                                { A = X; }
nargs(A) ::= nargs(L) arg(X).                       { A = parse_arg_append(L, X); }

arg(A) ::= ID(T).                                   { A = parse_arg(p, AST_ARG_WORD, &T); }
arg(A) ::= INT(T).                                  { A = parse_arg(p, AST_ARG_INT, &T); }
arg(A) ::= QUANTITY(T).                             { A = parse_arg(p, AST_ARG_QUANTITY, &T); }
arg(A) ::= STRING(T).                               { A = parse_arg(p, AST_ARG_STRING, &T); }
arg(A) ::= RANGE(T).                                { A = parse_arg(p, AST_ARG_RANGE, &T); }
arg(A) ::= ADDR(T).                                 { A = parse_arg(p, AST_ARG_ADDR, &T); }
arg(A) ::= IP(T).                                   { A = parse_arg(p, AST_ARG_IP, &T); }
arg(A) ::= CIDR(T).                                 { A = parse_arg(p, AST_ARG_CIDR, &T); }
arg(A) ::= RATE(T).                                 { A = parse_arg(p, AST_ARG_RATE, &T); }
arg(A) ::= LBRACKET(L) list(X) RBRACKET(R).         { A = parse_arg_group(p, AST_ARG_LIST, &L, X, &R); }
arg(A) ::= ID(N) LPAREN args(X) RPAREN(R).          { A = parse_arg_group(p, AST_ARG_CALL, &N, X, &R); }
arg(A) ::= ref(X).                                  { A = X; }

ref(A) ::= ID(O) DOT ID(F).                         { A = parse_ref(p, &O, &F, NULL, NULL); }
ref(A) ::= ID(O) DOT ID(F) LBRACKET STRING(K) RBRACKET(R). { A = parse_ref(p, &O, &F, &K, &R); }
ref(A) ::= ID(O) DOT ID(F) DOT ID(G).               { A = parse_ref3(p, &O, &F, &G); }

list(A) ::= .                                       { A = NULL; }
list(A) ::= arg(X).                                 { A = X; }
list(A) ::= list(L) COMMA arg(X).                   { A = parse_arg_append(L, X); }

/* `listen ADDR [options] [tls { cert ...; protocols ...; }]` */
listen_head ::= LISTEN(K) ADDR(A) args(O).          { parse_listen(p, &K, &A, O); }

lstmts ::= .
lstmts ::= lstmts lstmt.

lstmt ::= SEMI.
lstmt ::= error SEMI.                               { PARSE_RESYNCED; }
lstmt ::= ID(K) args(A) SEMI.                       { parse_listen_stmt(p, &K, A); }

backend_head ::= BACKEND(K) ID(N).                  { parse_backend_begin(p, &K, &N); }

bstmts ::= .
bstmts ::= bstmts bstmt.

bstmt ::= SEMI.
bstmt ::= error SEMI.                               { PARSE_RESYNCED; }
bstmt ::= BALANCE(K) args(A) SEMI.                  { parse_bstmt(p, &K, A); }
bstmt ::= ID(K) args(A) SEMI.                       { parse_bstmt(p, &K, A); }
bstmt ::= server_head SEMI.
bstmt ::= server_head LBRACE sstmts RBRACE.         { parse_server_end(p); }

server_head ::= SERVER(K) ID(N) ADDR(A) args(O).    { parse_server(p, &K, &N, &A, O); }

sstmts ::= .
sstmts ::= sstmts sstmt.

sstmt ::= SEMI.
sstmt ::= error SEMI.                               { PARSE_RESYNCED; }
sstmt ::= ID(K) args(A) SEMI.                       { parse_server_stmt(p, &K, A); }

route_head ::= ROUTE(R).                            { parse_route_begin(p, &R); }

matchers ::= matcher.
matchers ::= matchers matcher.

matcher ::= PATH(K) STRING(S).                      { parse_match_path(p, &K, PARSE_PATH_PREFIX, &S); }
matcher ::= PATH(K) EQ STRING(S).                   { parse_match_path(p, &K, PARSE_PATH_EXACT, &S); }
matcher ::= PATH(K) TILDE STRING(S).                { parse_match_path(p, &K, PARSE_PATH_REGEX, &S); }
matcher ::= HOST(K) STRING(S).                      { parse_match_host(p, &K, &S); }
matcher ::= METHOD(K) arg(A).                       { parse_match_method(p, &K, A); }
matcher ::= IF(K) expr(E).                          { parse_match_if(p, &K, E); }
matcher ::= DEFAULT(K).                             { parse_match_default(p, &K); }

actions ::= .
actions ::= actions action.

action ::= SEMI.
action ::= error SEMI.                              { PARSE_RESYNCED; }
action ::= PROXY(K) ID(B) guard(G) SEMI.            { parse_action(p, &K, PARSE_ACT_PROXY, &B, NULL, G); }
action ::= RESPOND(K) INT(S) guard(G) SEMI.         { parse_action(p, &K, PARSE_ACT_RESPOND, &S, NULL, G); }
action ::= RESPOND(K) INT(S) STRING(B) guard(G) SEMI. { parse_action(p, &K, PARSE_ACT_RESPOND, &S, &B, G); }
action ::= DENY(K) INT(S) guard(G) SEMI.            { parse_action(p, &K, PARSE_ACT_DENY, &S, NULL, G); }
action ::= DENY(K) INT(S) STRING(B) guard(G) SEMI.  { parse_action(p, &K, PARSE_ACT_DENY, &S, &B, G); }
action ::= RESPOND(K) INT(S) ID(F) STRING(B) guard(G) SEMI. { parse_action_file(p, &K, PARSE_ACT_RESPOND, &S, &F, &B, G); }
action ::= DENY(K) INT(S) ID(F) STRING(B) guard(G) SEMI. { parse_action_file(p, &K, PARSE_ACT_DENY, &S, &F, &B, G); }
action ::= REDIRECT(K) INT(S) STRING(B) guard(G) SEMI. { parse_action(p, &K, PARSE_ACT_REDIRECT, &S, &B, G); }
/* `redirect https [STATUS]`: the same URL over https. */
action ::= REDIRECT(K) ID(W) guard(G) SEMI.         { parse_redirect_https(p, &K, &W, NULL, G); }
action ::= REDIRECT(K) ID(W) INT(S) guard(G) SEMI.  { parse_redirect_https(p, &K, &W, &S, G); }
action ::= TUNNEL(K) SEMI.                          { parse_tunnel(p, &K); }
/* `purge`: the cache's stored answers the request names go. */
action ::= PURGE(K) guard(G) SEMI.                  { parse_action(p, &K, PARSE_ACT_PURGE, NULL, NULL, G); }
/* `metrics`: the Prometheus text exposition of the proxy's counters. */
action ::= METRICS(K) guard(G) SEMI.                { parse_action(p, &K, PARSE_ACT_METRICS, NULL, NULL, G); }
/* `status [admin]`: the live status page and its JSON; admin: and its actions. */
action ::= STATUS(K) guard(G) SEMI.                 { parse_status(p, &K, NULL, G); }
action ::= STATUS(K) ID(W) guard(G) SEMI.           { parse_status(p, &K, &W, G); }
/* Statements the checker knows by their first word: set, add, remove. */
action ::= ID(K) args(A) SEMI.                      { parse_route_stmt(p, &K, A); }
action ::= compress_head SEMI.
action ::= compress_head LBRACE cstmts RBRACE.
action ::= cache_head SEMI.
action ::= cache_head LBRACE cstmts RBRACE.

/* `compress gzip [{ types [...]; min SIZE; level N }]` */
compress_head ::= COMPRESS(K) args(A).              { parse_compress(p, &K, A); }
/* `cache [{ ttl DURATION; key VALUE...; ... }]` */
cache_head ::= CACHE(K) args(A).                    { parse_cache(p, &K, A); }

cstmts ::= .
cstmts ::= cstmts cstmt.

cstmt ::= SEMI.
cstmt ::= error SEMI.                               { PARSE_RESYNCED; }
cstmt ::= ID(K) args(A) SEMI.                       { parse_block_stmt(p, &K, A); }

guard(G) ::= .                                      { G = NULL; }
guard(G) ::= IF(K) expr(E).                         { G = parse_guard(p, &K, E, false); }
guard(G) ::= UNLESS(K) expr(E).                     { G = parse_guard(p, &K, E, true); }

expr(A) ::= expr(L) OR expr(R).                     { A = parse_expr_bin(p, AST_E_OR, L, R); }
expr(A) ::= expr(L) AND expr(R).                    { A = parse_expr_bin(p, AST_E_AND, L, R); }
expr(A) ::= NOT(K) expr(E).                         { A = parse_expr_not(p, &K, E); }
expr(A) ::= LPAREN(L) expr(E) RPAREN(R).            { A = parse_expr_paren(p, &L, E, &R); }
expr(A) ::= arg(L) EQEQ(K) arg(R).                  { A = parse_expr_cmp(p, AST_CMP_EQ, L, &K, R); }
expr(A) ::= arg(L) NE(K) arg(R).                    { A = parse_expr_cmp(p, AST_CMP_NE, L, &K, R); }
expr(A) ::= arg(L) TILDE(K) arg(R).                 { A = parse_expr_cmp(p, AST_CMP_RE, L, &K, R); }
expr(A) ::= arg(L) PREFIXEQ(K) arg(R).              { A = parse_expr_cmp(p, AST_CMP_PREFIX, L, &K, R); }
expr(A) ::= arg(L) IN(K) arg(R).                    { A = parse_expr_cmp(p, AST_CMP_IN, L, &K, R); }
/* `client.ip in file "deny.txt"`: the set read from a file, as file("...") */
expr(A) ::= arg(L) IN(K) ID(F) STRING(S).           { A = parse_expr_cmp(p, AST_CMP_IN, L, &K, parse_arg_group(p, AST_ARG_CALL, &F, parse_arg(p, AST_ARG_STRING, &S), &S)); }
expr(A) ::= arg(X).                                 { A = parse_expr_cmp(p, AST_CMP_TRUTH, X, NULL, NULL); }

/* Policy tests. */
test_head ::= TEST(K) STRING(N).                    { parse_test_begin(p, &K, &N); }

tstmts ::= .
tstmts ::= tstmts tstmt.

tstmt ::= SEMI.
tstmt ::= error SEMI.                               { PARSE_RESYNCED; }
tstmt ::= REQUEST(K) ID(M) STRING(U) args(A) SEMI.  { parse_test_request(p, &K, &M, &U, A); }
tstmt ::= EXPECT(K) args(A) SEMI.                   { parse_test_expect(p, &K, A); }

/* After an error in a block's head (`backend {`, `route host "x" {`), the
 * whole block is skipped, so its statements do not each fail again. */
%token_class other SEMI|LPAREN|RPAREN|LBRACKET|RBRACKET|COMMA|EQ|EQEQ|NE|TILDE|PREFIXEQ|DOT|ID|STRING|INT|QUANTITY|RATE|ADDR|IP|CIDR|RANGE.
skipped ::= .
skipped ::= skipped other.
skipped ::= skipped LBRACE skipped RBRACE.
