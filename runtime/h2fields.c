/* h2fields.c: header fields between HTTP/1.1 and HTTP/2 (h2fields.h). */
#include <string.h>

#include "h2fields.h"

static void lower(char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] >= 'A' && p[i] <= 'Z')
            p[i] = (char)(p[i] + 32);
}

static bool listed(const char *name, size_t n, const char *const *skip)
{
    for (; skip && *skip; skip++)
        if (strlen(*skip) == n && memcmp(*skip, name, n) == 0)
            return true;
    return false;
}

size_t rp_h2_nv_from_fields(const struct rp_http1_header *f, uint32_t n, const char *const *skip,
                            nghttp2_nv *nva, size_t max)
{
    size_t k = 0;
    for (uint32_t i = 0; i < n && k < max; i++) {
        if (rp_http1_is_hop_by_hop(f[i].name, f[i].name_len))
            continue;
        char *name = (char *)f[i].name;
        lower(name, f[i].name_len);
        if (listed(name, f[i].name_len, skip))
            continue;
        nva[k++] = (nghttp2_nv){(uint8_t *)name, (uint8_t *)f[i].value, f[i].name_len,
                                f[i].value_len, NGHTTP2_NV_FLAG_NONE};
    }
    return k;
}

size_t rp_h2_nv_from_lines(char *p, size_t len, nghttp2_nv *nva, size_t max)
{
    char *end = p + len;
    size_t k = 0;
    while (p < end && k < max) {
        char *eol = memchr(p, '\r', (size_t)(end - p));
        if (!eol || eol == p)
            break; /* the final CRLF */
        char *colon = memchr(p, ':', (size_t)(eol - p));
        if (colon && colon > p) {
            lower(p, (size_t)(colon - p));
            char *v = colon + 1, *ve = eol;
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            nva[k++] = (nghttp2_nv){(uint8_t *)p, (uint8_t *)v, (size_t)(colon - p),
                                    (size_t)(ve - v), NGHTTP2_NV_FLAG_NONE};
        }
        p = eol + 2;
    }
    return k;
}

bool rp_h2_line_add(struct bytes *out, const uint8_t *name, size_t name_len, const uint8_t *value,
                    size_t value_len)
{
    return bytes_add(out, name, name_len) && bytes_add(out, ": ", 2) &&
           bytes_add(out, value, value_len) && bytes_add(out, "\r\n", 2);
}
