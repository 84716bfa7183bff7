/* compress.h: the `compress` step: response compression as a body filter
 * (gzip through zlib), and the rules for when a response may be compressed
 * (RFC 9110 8.4 and 12.5.3, as nginx's gzip module applies them). */
#ifndef RP_COMPRESS_H
#define RP_COMPRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "filter.h"
#include "rp/http1.h"
#include "rp/program.h"

struct rp_head_edit;

/* The codings (RP_CODING_*) a request's Accept-Encoding fields accept with
 * a non-zero weight, by name or through "*". No field: none. */
uint32_t rp_accept_codings(const struct rp_http1_header *h, uint32_t n);

/* The one coding to use among `enabled` (RP_CODING_*): the client's most
 * preferred by weight, br on a tie; 0 for none. */
uint32_t rp_accept_choose(const struct rp_http1_header *h, uint32_t n, uint32_t enabled);

/* Whether a Content-Type value names one of the def's media types
 * (text/ with a star takes every text subtype); parameters are ignored. */
bool rp_compress_type_ok(const struct rp_compress_def *def, const char *ct, size_t len);

/* The response head phase of `compress`. When the response is of a kind
 * that is compressed (status, type, size, no other coding, no
 * no-transform), Vary gets Accept-Encoding; when the client also accepts a
 * coding, the head is edited (Content-Encoding, no Content-Length, a weak
 * ETag, no Accept-Ranges) and, if a body follows, a filter is added to
 * `filters`. Returns 1 when compressing, 0 when not, -1 when it should but
 * cannot (no memory; the edit is then left as it was). */
int rp_compress_response(const struct rp_compress_def *def, uint32_t accepted,
                         const struct rp_http1_response *resp, bool head_request,
                         struct rp_head_edit *edit, struct rp_body_filters *filters);

/* A gzip filter's state (for rp_filters_add with rp_gzip_filter), sized for
 * a body of `length` bytes when known (0: unknown): zlib's window shrinks
 * for small bodies as nginx does. Its memory counts in `pool`'s other_bytes.
 * NULL when out of memory. */
void *rp_gzip_new(int level, uint64_t length, struct rp_buf_pool *pool);
extern const struct rp_filter_ops rp_gzip_filter;

/* A brotli filter's state (rp_brotli_filter): quality `level`, the window
 * sized for a body of `length` bytes when known. Its memory counts in
 * `pool`'s other_bytes. NULL when out of memory. */
void *rp_brotli_new(int level, uint64_t length, struct rp_buf_pool *pool);
extern const struct rp_filter_ops rp_brotli_filter;

/* Frees the compressors (and brotli's memory blocks) the calling thread
 * keeps for reuse (at a worker's exit). */
void rp_gzip_clear_kept(void);

#endif
