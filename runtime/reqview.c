/* reqview.c: the lookups generated decision code uses on a request
 * (rp_req_header, rp_req_query, rp_req_cookie in rp/program.h). */
#include <string.h>
#include <strings.h>

#include "rp/http1.h"
#include "rp/program.h"

bool rp_req_header(const struct rp_request_view *req, const char *lname, size_t lname_len,
                   const char **value, uint32_t *len)
{
    const struct rp_http1_header *h = req->headers;
    for (uint32_t i = 0; i < req->n_headers; i++) {
        if (rp_http1_name_is(&h[i], lname, lname_len)) {
            *value = h[i].value;
            *len = h[i].value_len;
            return true;
        }
    }
    return false;
}

bool rp_pair_find(const char *p, const char *end, char sep, const char *name, size_t name_len,
                  const char **value, uint32_t *len)
{
    while (p < end) {
        while (p < end && *p == ' ')
            p++;
        const char *item = p;
        while (p < end && *p != sep)
            p++;
        const char *eq = memchr(item, '=', (size_t)(p - item));
        const char *name_end = eq ? eq : p;
        if ((size_t)(name_end - item) == name_len && memcmp(item, name, name_len) == 0) {
            *value = eq ? eq + 1 : p;
            *len = (uint32_t)(p - *value);
            return true;
        }
        if (p < end)
            p++;
    }
    return false;
}

bool rp_req_query(const struct rp_request_view *req, const char *name, size_t name_len,
                  const char **value, uint32_t *len)
{
    if (!req->query)
        return false;
    return rp_pair_find(req->query, req->query + req->query_len, '&', name, name_len, value, len);
}

bool rp_req_cookie(const struct rp_request_view *req, const char *name, size_t name_len,
                   const char **value, uint32_t *len)
{
    const struct rp_http1_header *h = req->headers;
    for (uint32_t i = 0; i < req->n_headers; i++) {
        if (!rp_http1_name_is(&h[i], "cookie", 6))
            continue;
        if (rp_pair_find(h[i].value, h[i].value + h[i].value_len, ';', name, name_len, value, len))
            return true;
    }
    return false;
}
