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
#include "pieces.h"
#include "rp/program.h"

/* Applies the actions on one side (`response`) to edit, in order: a later
 * `set` or `remove` of a name replaces what an earlier action added. On
 * the response side vc has no view (the request is gone): only req.id.
 * Returns -1 when the edit is full (the rest is not applied). */
int rp_headers_apply(const struct rp_header_actions *ha, bool response,
                     const struct rp_value_ctx *vc, struct rp_head_edit *edit);

#endif
