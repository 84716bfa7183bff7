/* headers.h: the header actions step (RP_STEP_HEADERS): `set`, `add` and
 * `remove` on the request to the server and on the response to the client,
 * as edits (edit.h) of the heads the proxy copies. Values may hold request
 * values (`${client.ip}`, `${req.header["X"]}`...), put in when the
 * request's head is read. */
#ifndef RP_HEADERS_H
#define RP_HEADERS_H

#include <stdbool.h>
#include <stdint.h>

#include "edit.h"
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
};

/* Renders a value's pieces into out (at most cap bytes: a longer value is
 * cut); returns its length. Values the context lacks render as nothing. */
size_t rp_pieces_eval(const struct rp_piece *pieces, uint32_t n_pieces,
                      const struct rp_value_ctx *vc, char *out, size_t cap);

/* Applies the actions on one side (`response`) to edit, in order: a later
 * `set` or `remove` of a name replaces what an earlier action added. On
 * the response side vc has no view (the request is gone): only req.id.
 * Returns -1 when the edit is full (the rest is not applied). */
int rp_headers_apply(const struct rp_header_actions *ha, bool response,
                     const struct rp_value_ctx *vc, struct rp_head_edit *edit);

#endif
