/* json.c: the little JSON the runtime reads (json.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

const char *rp_json_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* Past a string starting at p (its opening quote); NULL if it is not one. */
static const char *skip_string(const char *p, const char *end)
{
    for (p++; p < end; p++) {
        if (*p == '\\') {
            p++;
            continue;
        }
        if (*p == '"')
            return p + 1;
        if ((unsigned char)*p < 0x20)
            return NULL;
    }
    return NULL;
}

/* Past one value at p; NULL if it is not one. Nesting is bounded. */
const char *rp_json_skip(const char *p, const char *end, int depth, struct rp_json_value *v)
{
    p = rp_json_ws(p, end);
    if (p >= end || depth > 16)
        return NULL;
    const char *start = p;
    if (*p == '"') {
        const char *q = skip_string(p, end);
        if (v && q)
            *v = (struct rp_json_value){'s', p + 1, q - 1};
        return q;
    }
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        p = rp_json_ws(p + 1, end);
        if (p < end && *p == close) {
            if (v)
                *v = (struct rp_json_value){close == '}' ? 'o' : 'a', start, p + 1};
            return p + 1;
        }
        for (;;) {
            if (close == '}') {
                if (p >= end || *p != '"' || !(p = skip_string(p, end)))
                    return NULL;
                p = rp_json_ws(p, end);
                if (p >= end || *p++ != ':')
                    return NULL;
            }
            if (!(p = rp_json_skip(p, end, depth + 1, NULL)))
                return NULL;
            p = rp_json_ws(p, end);
            if (p < end && *p == ',') {
                p = rp_json_ws(p + 1, end);
                continue;
            }
            if (p < end && *p == close)
                break;
            return NULL;
        }
        if (v)
            *v = (struct rp_json_value){close == '}' ? 'o' : 'a', start, p + 1};
        return p + 1;
    }
    const char *q = p;
    while (q < end && (*q == '-' || *q == '+' || *q == '.' || *q == 'e' || *q == 'E' ||
                       (*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'z')))
        q++;
    char kind = 0;
    if (q - p == 4 && !memcmp(p, "true", 4))
        kind = 't';
    else if (q - p == 5 && !memcmp(p, "false", 5))
        kind = 'f';
    else if (q - p == 4 && !memcmp(p, "null", 4))
        kind = 'z';
    else if (q > p && (*p == '-' || (*p >= '0' && *p <= '9')))
        kind = 'n';
    if (!kind)
        return NULL;
    if (v)
        *v = (struct rp_json_value){kind, p, q};
    return q;
}

/* Whether obj[0..n) is one JSON object (nothing after it). */
bool rp_json_object(const char *obj, size_t n)
{
    struct rp_json_value v;
    const char *q = rp_json_skip(obj, obj + n, 0, &v);
    return q && v.kind == 'o' && rp_json_ws(q, obj + n) == obj + n;
}

/* A member of a (valid) object by name, names compared as written (a
 * name with escapes never matches: the claims asked for have none). */
bool rp_json_get(const char *obj, size_t n, const char *name, struct rp_json_value *out)
{
    return rp_json_get_n(obj, n, name, strlen(name), out);
}

bool rp_json_get_n(const char *obj, size_t n, const char *name, size_t nl,
                   struct rp_json_value *out)
{
    const char *p = rp_json_ws(obj, obj + n) + 1, *end = obj + n;
    for (;;) {
        p = rp_json_ws(p, end);
        if (p >= end || *p != '"')
            return false;
        const char *q = skip_string(p, end);
        bool match = q && (size_t)(q - p - 2) == nl && !memcmp(p + 1, name, nl);
        p = rp_json_ws(q, end) + 1; /* the ':' */
        struct rp_json_value v;
        p = rp_json_skip(p, end, 1, &v);
        if (!p)
            return false;
        if (match) {
            *out = v;
            return true;
        }
        p = rp_json_ws(p, end);
        if (p >= end || *p != ',')
            return false;
        p++;
    }
}

bool rp_json_is(const struct rp_json_value *v, const char *s)
{
    size_t n = strlen(s);
    return v->kind == 's' && (size_t)(v->end - v->p) == n && !memcmp(v->p, s, n);
}

/* A NumericDate (seconds since the epoch, RFC 7519 2). */
bool rp_json_number(const struct rp_json_value *v, double *out)
{
    if (v->kind != 'n' || v->end - v->p > 30)
        return false;
    char buf[32];
    memcpy(buf, v->p, (size_t)(v->end - v->p));
    buf[v->end - v->p] = '\0';
    char *e;
    *out = strtod(buf, &e);
    return *e == '\0' && isfinite(*out);
}
