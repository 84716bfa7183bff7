/* h2fields.h: header fields between HTTP/1.1 text and HTTP/2 header lists,
 * the part both directions share: h2.c turns servers' responses into
 * HEADERS for clients, h2up.c turns requests into HEADERS for servers. */
#ifndef RP_H2FIELDS_H
#define RP_H2FIELDS_H

#include <nghttp2/nghttp2.h>
#include <stdbool.h>
#include <stddef.h>

#include "bytes.h"
#include "rp/http1.h"

/* The fields of a parsed HTTP/1.1 head as header list entries at nva[0..]:
 * names lower-cased in place (the head's bytes must be the caller's),
 * connection-specific fields left out (RFC 9113 8.2.2), and any named in
 * `skip` (lower case, NULL-terminated list; may be NULL). Returns the count. */
size_t rp_h2_nv_from_fields(const struct rp_http1_header *f, uint32_t n, const char *const *skip,
                            nghttp2_nv *nva, size_t max);

/* A trailer section's lines ("name: value\r\n" ..., then "\r\n") as entries,
 * names lower-cased in place. Returns the count. */
size_t rp_h2_nv_from_lines(char *p, size_t len, nghttp2_nv *nva, size_t max);

/* Appends "name: value\r\n"; false when out of memory. */
bool rp_h2_line_add(struct bytes *out, const uint8_t *name, size_t name_len, const uint8_t *value,
                    size_t value_len);

#endif
