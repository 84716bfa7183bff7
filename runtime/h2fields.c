/* h2fields.c: header fields between HTTP/1.1 and HTTP/2 (h2fields.h). */
#include <errno.h>
#include <string.h>

#include "h2fields.h"
#include "transport.h"

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

void rp_h2_body_init(struct rp_h2_body *b, bool chunked, uint64_t length)
{
    memset(b, 0, sizeof *b);
    b->chunked = chunked;
    b->left = length;
    b->done = !chunked && !length;
}

ssize_t rp_h2_body_take(struct rp_h2_body *b, const char *p, size_t n, struct bytes *data,
                        size_t max, struct bytes *trailers)
{
    if (b->done)
        return (ssize_t)n; /* nothing follows a complete body */
    size_t k = data->len < max ? max - data->len : 0;
    if (k > n)
        k = n;
    if (!b->chunked && k > b->left)
        k = (size_t)b->left;
    if (!k)
        return 0;
    size_t before = data->len;
    if (!bytes_add(data, p, k))
        return -1;
    if (!b->chunked) {
        b->left -= k;
        b->done = !b->left;
        return (ssize_t)k;
    }
    size_t data_len;
    bool done = false, was_trailer = b->chunk.in_trailer;
    char *at = bytes_at(data) + before;
    ssize_t used = rp_chunked_decode(&b->chunk, at, k, &data_len, &done);
    if (used < 0)
        return -1;
    if (b->chunk.in_trailer) {
        /* The trailer section, for trailing HEADERS (gRPC's status travels
         * there). Decoding moves data back, never past it. */
        size_t from = was_trailer ? 0 : b->chunk.trailer_at;
        if (!bytes_add(trailers, at + from, (size_t)used - from))
            return -1;
    }
    data->len = before + data_len;
    b->done = done;
    return used;
}

ssize_t rp_h2_writev(const struct iovec *iov, int n, rp_h2_take_fn *take, void *owner)
{
    size_t taken = 0, offered = 0;
    for (int i = 0; i < n; i++) {
        const char *p = iov[i].iov_base;
        size_t left = iov[i].iov_len;
        offered += left;
        while (left) {
            ssize_t k = take(owner, p, left);
            if (k < 0) {
                errno = EPROTO;
                return -1;
            }
            if (!k)
                goto full;
            p += k;
            left -= (size_t)k;
            taken += (size_t)k;
        }
    }
full:
    if (!taken && offered) {
        errno = EAGAIN;
        return -1;
    }
    return (ssize_t)taken;
}

int rp_h2_send(nghttp2_session *ng, struct rp_transport *tr, struct bytes *out, size_t max,
               uint64_t *written)
{
    for (;;) {
        while (out->len < max / 2) {
            const uint8_t *data;
            ssize_t n = nghttp2_session_mem_send(ng, &data);
            if (n < 0)
                return EPROTO;
            if (n == 0)
                break;
            if (!bytes_add(out, data, (size_t)n))
                return ENOMEM;
        }
        if (!out->len)
            return 0;
        struct iovec iov = {bytes_at(out), out->len};
        ssize_t w = rp_transport_writev(tr, &iov, 1);
        if (w < 0)
            return errno == EAGAIN ? 0 : errno;
        *written += (uint64_t)w;
        bytes_take(out, (size_t)w);
        if (out->len)
            return 0; /* the socket is full */
    }
}

char *rp_h2_read_buffer(void)
{
    static _Thread_local char buf[RP_H2_READ_SIZE];
    return buf;
}
