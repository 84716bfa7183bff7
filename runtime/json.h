/* json.h: reading the little JSON the runtime meets: a token's header
 * and claims (jwt.c), claims as request values (match.c). One object,
 * members found by name, values as slices of the text; nesting bounded,
 * nothing allocated. Not a general parser: no number is converted but on
 * request, a string's escapes are left as written. */
#ifndef RP_JSON_H
#define RP_JSON_H

#include <stdbool.h>
#include <stddef.h>

/* A member's value: its kind and its text. */
struct rp_json_value {
    char kind;           /* 's' string, 'n' number, 'a' array, 'o' object, 't' 'f' 'z' (null) */
    const char *p, *end; /* a string's content without quotes (escapes as written); else the
                            value's text */
};

/* Past white space. */
const char *rp_json_ws(const char *p, const char *end);
/* Past one value at p (its kind and text in v when not NULL); NULL if it is
 * not one. depth: how deep it already is (at most 16). */
const char *rp_json_skip(const char *p, const char *end, int depth, struct rp_json_value *v);
/* Whether obj[0..n) is one JSON object and nothing after it. */
bool rp_json_object(const char *obj, size_t n);
/* A member of an object rp_json_object accepted, by name as written. */
bool rp_json_get(const char *obj, size_t n, const char *name, struct rp_json_value *out);
bool rp_json_get_n(const char *obj, size_t n, const char *name, size_t name_len,
                   struct rp_json_value *out);
/* A string value equal to s. */
bool rp_json_is(const struct rp_json_value *v, const char *s);
/* A number value as a double (finite). */
bool rp_json_number(const struct rp_json_value *v, double *out);

#endif
