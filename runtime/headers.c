/* headers.c: the header actions step (headers.h). */
#include <stdio.h>
#include <string.h>

#include "headers.h"
#include "rp/match.h"

/* The longest value a header action writes; a longer one is cut there. */
#define VALUE_MAX 1024

int rp_headers_apply(const struct rp_header_actions *ha, bool response,
                     const struct rp_value_ctx *vc, struct rp_head_edit *edit)
{
    char value[VALUE_MAX];
    for (uint32_t i = 0; i < ha->n; i++) {
        const struct rp_header_action *a = &ha->a[i];
        if (a->response != response)
            continue;
        int rc = 0;
        if (a->op == RP_HDR_SET || a->op == RP_HDR_REMOVE) {
            rc |= rp_head_edit_drop_n(edit, a->lname, a->name_len);
            if (a->replaces)
                rp_head_edit_unadd(edit, a->lname, a->name_len);
        }
        if (a->op == RP_HDR_SET || a->op == RP_HDR_ADD)
            rc |= rp_head_edit_add(edit, a->name, value,
                                   rp_pieces_eval(a->pieces, a->n_pieces, vc, value, VALUE_MAX));
        if (rc)
            return -1;
    }
    return 0;
}
