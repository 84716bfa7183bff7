/* cache_rfc.h: the rules of HTTP caching for a shared cache (RFC 9111, and
 * the conditional and range requests of RFC 9110 13 and 14), as pure
 * functions over parsed heads. No I/O, no clock: callers pass the times.
 * cache.c (the cache step) applies them; cache_store.c keeps the objects.
 *
 * Times are seconds since the epoch (int64_t). Durations are seconds. A
 * duration that is absent is RP_CC_ABSENT. */
#ifndef RP_CACHE_RFC_H
#define RP_CACHE_RFC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rp/http1.h"

#define RP_CC_ABSENT (-1)
#define RP_CC_INFINITE INT64_MAX /* max-stale without a value */

/* Cache-Control directives (RFC 9111 5.2), both sides. */
enum {
    RP_CC_NO_STORE = 1u << 0,
    RP_CC_NO_CACHE = 1u << 1,      /* qualified (no-cache="F") counts as unqualified */
    RP_CC_PRIVATE = 1u << 2,       /* qualified likewise: a shared cache stores neither */
    RP_CC_PUBLIC = 1u << 3,
    RP_CC_MUST_REVALIDATE = 1u << 4,
    RP_CC_PROXY_REVALIDATE = 1u << 5,
    RP_CC_NO_TRANSFORM = 1u << 6,
    RP_CC_ONLY_IF_CACHED = 1u << 7,
    RP_CC_IMMUTABLE = 1u << 8,
    RP_CC_MUST_UNDERSTAND = 1u << 9,
    RP_CC_INVALID = 1u << 10,      /* a directive with a malformed or conflicting
                                      value (e.g. max-age=abc, two different
                                      max-age): treat the response as stale */
};

struct rp_cache_control {
    uint32_t flags;
    int64_t max_age, s_maxage, max_stale, min_fresh; /* RP_CC_ABSENT when absent */
    int64_t stale_while_revalidate, stale_if_error;  /* RFC 5861 */
    bool present;                                    /* some Cache-Control field was there */
};

/* Reads every Cache-Control field of a head (case-insensitive names and
 * directives, comma lists across several fields, quoted values, delta-
 * seconds saturating at 2^31 as RFC 9111 1.2.2 says; unknown directives
 * ignored). Request heads: a `Pragma: no-cache` counts as no-cache when no
 * Cache-Control is present (RFC 9111 5.4). */
void rp_cc_parse(const struct rp_http1_header *h, uint32_t n, bool request,
                 struct rp_cache_control *cc);

/* HTTP-date (RFC 9110 5.6.7): IMF-fixdate, and the obsolete RFC 850 and
 * asctime forms. Returns the time, or -1 when the text is not a date. */
int64_t rp_http_date_parse(const char *s, size_t n);

/* Writes the IMF-fixdate of t ("Sun, 06 Nov 1994 08:49:37 GMT", 29 bytes
 * and a NUL) to out; returns 29. */
size_t rp_http_date_format(int64_t t, char out[30]);

/* The first field named `name` (case-insensitive), or NULL. */
const struct rp_http1_header *rp_head_field(const struct rp_http1_header *h, uint32_t n,
                                            const char *name);

/* ---- storing (RFC 9111 3) ---------------------------------------------- */

/* What the request said that matters for storing and reuse. */
struct rp_cache_request {
    bool get, head;             /* the method */
    bool unsafe;                /* POST, PUT, DELETE, PATCH, ...: invalidates */
    bool authorization;         /* an Authorization field */
    struct rp_cache_control cc; /* request directives */
};

/* Why a response is not stored (RP_CACHE_STORE_OK when it is). */
enum rp_cache_store_verdict {
    RP_CACHE_STORE_OK = 0,
    RP_CACHE_NOT_GET,          /* only GET responses are stored (HEAD is served from them) */
    RP_CACHE_STATUS,           /* a status not final, not understood, or 206 */
    RP_CACHE_NO_STORE,         /* no-store in the request or the response */
    RP_CACHE_PRIVATE,
    RP_CACHE_AUTHORIZATION,    /* Authorization without public, s-maxage or must-revalidate */
    RP_CACHE_VARY_STAR,        /* Vary: * can never be reused */
    RP_CACHE_NOT_CACHEABLE,    /* no explicit freshness (max-age, s-maxage, Expires),
                                  not public, and a status that is not heuristically
                                  cacheable; a validator alone does not count */
};

/* RFC 9111 3 for a shared cache. A response with no freshness (e.g. a 200
 * with only an ETag) is storable when its status is heuristically cacheable
 * or it is public: it is served after a revalidation. rcc: the response's
 * Cache-Control. */
enum rp_cache_store_verdict rp_cache_storable(const struct rp_cache_request *rq,
                                              const struct rp_http1_response *resp,
                                              const struct rp_cache_control *rcc);

/* Statuses cacheable by default (RFC 9110 15.1): 200 203 204 206 300 301
 * 308 404 405 410 414 501. */
bool rp_cache_status_heuristic(unsigned status);

/* ---- freshness and age (RFC 9111 4.2) ---------------------------------- */

/* What is kept of a stored response to judge it later. */
struct rp_cache_times {
    int64_t request_time;  /* when the request that got it was sent */
    int64_t response_time; /* when the response came */
    int64_t date_value;    /* its Date (response_time when absent or invalid) */
    int64_t age_value;     /* its Age (0 when absent or invalid) */
    int64_t lifetime;      /* freshness lifetime, rp_cache_lifetime */
};

/* The freshness lifetime (4.2.1): s-maxage, else max-age, else Expires
 * minus Date (an invalid Expires is already expired), else heuristic: a
 * tenth of Date minus Last-Modified, capped at heuristic_max, for a status
 * cacheable by default or a public response; else 0. */
int64_t rp_cache_lifetime(const struct rp_http1_response *resp, const struct rp_cache_control *rcc,
                          int64_t date_value, int64_t heuristic_max);

/* Fills t from a response that arrived at response_time for a request sent
 * at request_time (Date, Age and the lifetime). */
void rp_cache_times_init(struct rp_cache_times *t, const struct rp_http1_response *resp,
                         const struct rp_cache_control *rcc, int64_t request_time,
                         int64_t response_time, int64_t heuristic_max);

/* The current age at now (4.2.3), for the Age field of a served response. */
int64_t rp_cache_current_age(const struct rp_cache_times *t, int64_t now);

/* ---- reuse (RFC 9111 4, 5.2.1; RFC 5861) ------------------------------- */

enum rp_cache_reuse {
    RP_CACHE_FRESH,          /* serve it */
    RP_CACHE_STALE_SERVE,    /* stale, but the client's max-stale allows it: serve
                                (with no revalidation, as the client asked) */
    RP_CACHE_STALE_REVALIDATE_BG, /* stale within stale-while-revalidate: serve it
                                     and revalidate in the background */
    RP_CACHE_REVALIDATE,     /* must be validated with the origin first */
};

/* May a stored response (its times, its Cache-Control rcc) answer a request
 * (its directives qcc) at now? Request no-cache, a response no-cache, and
 * a stale response under must-revalidate / proxy-revalidate / s-maxage
 * always revalidate; max-age and min-fresh of the request narrow freshness;
 * max-stale widens it unless the response forbids serving stale;
 * stale-while-revalidate (the response's, else swr_default) allows serving
 * stale for that long past expiry. */
enum rp_cache_reuse rp_cache_reuse(const struct rp_cache_times *t,
                                   const struct rp_cache_control *rcc,
                                   const struct rp_cache_control *qcc, int64_t now,
                                   int64_t swr_default);

/* When revalidation or the origin failed (a 500, 502, 503 or 504, or no
 * server answered): may the stale response be served instead? Within the
 * response's stale-if-error, else the request's, else sie_default, and
 * never under must-revalidate / proxy-revalidate / s-maxage / no-cache. */
bool rp_cache_stale_if_error(const struct rp_cache_times *t, const struct rp_cache_control *rcc,
                             const struct rp_cache_control *qcc, int64_t now, int64_t sie_default);

/* ---- conditional requests (RFC 9110 13) -------------------------------- */

enum rp_cond_result {
    RP_COND_NONE,          /* no precondition applies: send the response */
    RP_COND_NOT_MODIFIED,  /* 304 */
    RP_COND_FAILED,        /* 412 */
};

/* Evaluates the request's preconditions against a stored representation
 * with etag (the field value, e.g. `W/"x"`, or NULL) and last_modified (-1:
 * none), in RFC 9110 13.2.2's order: If-Match (strong comparison; 412),
 * If-Unmodified-Since (when no If-Match), If-None-Match (weak comparison,
 * `*`, lists; 304 for GET and HEAD), If-Modified-Since (when no
 * If-None-Match, GET and HEAD only). */
enum rp_cond_result rp_cond_evaluate(const struct rp_http1_header *h, uint32_t n, bool get_or_head,
                                     const char *etag, size_t etag_len, int64_t last_modified);

/* ---- Vary (RFC 9111 4.1) ----------------------------------------------- */

/* Appends to out (at most cap bytes; returns the length, or -1 when it does
 * not fit) the request's values of the fields a response's Vary names, in a
 * canonical form two requests can be compared by: for each name in Vary
 * order, the lower-cased name, ':', the values of every field of that name
 * joined with ',' with the whitespace around list elements removed, '\n'.
 * An absent field differs from an empty one. */
int rp_vary_key(const struct rp_http1_header *resp_h, uint32_t resp_n,
                const struct rp_http1_header *req_h, uint32_t req_n, char *out, size_t cap);

/* ---- ranges (RFC 9110 14) ---------------------------------------------- */

#define RP_RANGES_MAX 8

struct rp_ranges {
    uint32_t n;
    struct {
        uint64_t first, last; /* inclusive, within the representation */
    } r[RP_RANGES_MAX];
};

enum rp_range_result {
    RP_RANGE_NONE,          /* no Range, not bytes=, malformed, too many ranges, or
                               If-Range does not match: the whole (200) */
    RP_RANGE_OK,            /* 206 with ranges->n ranges (overlapping ranges merged) */
    RP_RANGE_UNSATISFIABLE, /* 416 with Content-Range: bytes X/length */
};

/* The Range (and If-Range: a strong ETag equal to etag, or a date equal to
 * last_modified) of a GET against a representation of `length` bytes. */
enum rp_range_result rp_range_parse(const struct rp_http1_header *h, uint32_t n, uint64_t length,
                                    const char *etag, size_t etag_len, int64_t last_modified,
                                    struct rp_ranges *ranges);

#endif
