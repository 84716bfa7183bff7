/* pieces.h: values made of pieces (rp/program.h's struct rp_piece): text,
 * request values, client facts, regex groups, rendered when they are used.
 * One renderer serves header action values, cache keys, and a redirect's
 * Location (rp_answer_set in rp/match.h). */
#ifndef RP_PIECES_H
#define RP_PIECES_H

#include <stddef.h>
#include <stdint.h>

#include "rp/program.h"

/* What a value may be made of, beside text. */
struct rp_value_ctx {
    const struct rp_request_view *view; /* the request as the policy saw it */
    const char *client_ip;              /* client.ip as text */
    uint32_t client_ip_len;
    uint16_t client_port;               /* the peer's port */
    /* req.id, made when first asked (it costs nothing otherwise) */
    const char *(*request_id)(void *owner, uint32_t *len);
    void *owner;
    const char *backend_name, *server_name; /* NULL: none (yet) */
    /* CAPTURE pieces: a regex's groups (as rp_regex_match fills them) over
     * subject; NULL: none */
    const char *subject;
    const uint32_t *cap;
};

/* Renders a value's pieces into out (at most cap bytes: a longer value is
 * cut); returns its length. Values the context lacks render as nothing. */
size_t rp_pieces_eval(const struct rp_piece *pieces, uint32_t n_pieces,
                      const struct rp_value_ctx *vc, char *out, size_t cap);

#endif
