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
%token ID STRING INT QUANTITY RATE ADDR IP CIDR.
%token LISTEN BACKEND BALANCE SERVER WEIGHT ROUTE PATH DEFAULT PROXY RESPOND.
%token N_KINDS. /* not a token: one past the last kind */

/* A keyword is a name wherever a name is expected: a server may be `backup`. */
%fallback ID LISTEN BACKEND BALANCE SERVER WEIGHT ROUTE PATH DEFAULT PROXY RESPOND.

program ::= items.

items ::= .
items ::= items item.

item ::= SEMI.
item ::= error SEMI.                                { PARSE_RESYNCED; }
item ::= error LBRACE skipped RBRACE.               { PARSE_RESYNCED; }
item ::= LISTEN(K) ADDR(A) SEMI.                    { parse_listen(p, &K, &A); }
item ::= backend_head LBRACE bstmts RBRACE.         { parse_backend_end(p); }
item ::= route_head LBRACE actions RBRACE.          { parse_route_end(p); }

backend_head ::= BACKEND(K) ID(N).                  { parse_backend_begin(p, &K, &N); }

bstmts ::= .
bstmts ::= bstmts bstmt.

bstmt ::= SEMI.
bstmt ::= error SEMI.                               { PARSE_RESYNCED; }
bstmt ::= BALANCE ID(A) SEMI.                       { parse_balance(p, &A); }
bstmt ::= server_head server_opts SEMI.

server_head ::= SERVER(K) ID(N) ADDR(A).            { parse_server(p, &K, &N, &A); }

server_opts ::= .
server_opts ::= server_opts WEIGHT INT(W).          { parse_server_weight(p, &W); }

route_head ::= ROUTE(R) PATH(K) STRING(S).          { parse_route_begin(p, &R, PARSE_ROUTE_PREFIX, &K, &S); }
route_head ::= ROUTE(R) PATH(K) EQ STRING(S).       { parse_route_begin(p, &R, PARSE_ROUTE_EXACT, &K, &S); }
route_head ::= ROUTE(R) DEFAULT(K).                 { parse_route_begin(p, &R, PARSE_ROUTE_DEFAULT, &K, &K); }

actions ::= .
actions ::= actions action.

action ::= SEMI.
action ::= error SEMI.                              { PARSE_RESYNCED; }
action ::= PROXY(K) ID(B) SEMI.                     { parse_proxy(p, &K, &B); }
action ::= RESPOND(K) INT(S) SEMI.                  { parse_respond(p, &K, &S, NULL); }
action ::= RESPOND(K) INT(S) STRING(B) SEMI.        { parse_respond(p, &K, &S, &B); }

/* After an error in a block's head (`backend {`, `route host "x" {`), the
 * whole block is skipped, so its statements do not each fail again. */
%token_class other SEMI|LPAREN|RPAREN|LBRACKET|RBRACKET|COMMA|EQ|EQEQ|NE|TILDE|PREFIXEQ|DOT|ID|STRING|INT|QUANTITY|RATE|ADDR|IP|CIDR.
skipped ::= .
skipped ::= skipped other.
skipped ::= skipped LBRACE skipped RBRACE.
