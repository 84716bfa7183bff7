/* headers.c: the header actions step (headers.h). */
#include <stdio.h>
#include <string.h>

#include "headers.h"
#include "rp/match.h"

/* The longest value a header action writes; a longer one is cut there. */
#define VALUE_MAX 1024

static size_t put(char *out, size_t cap, size_t at, const char *s, size_t n)
{
    if (n > cap - at)
        n = cap - at;
    memcpy(out + at, s, n);
    return at + n;
}

size_t rp_pieces_eval(const struct rp_piece *pieces, uint32_t n_pieces,
                      const struct rp_value_ctx *vc, char *out, size_t cap)
{
    size_t n = 0;
    for (uint32_t i = 0; i < n_pieces; i++) {
        const struct rp_piece *pc = &pieces[i];
        const struct rp_request_view *v = vc ? vc->view : NULL;
        const char *s;
        uint32_t len;
        switch (pc->kind) {
        case RP_PIECE_TEXT:
            n = put(out, cap, n, pc->s, pc->len);
            break;
        case RP_PIECE_VALUE:
            if (v && rp_req_value(v, (enum rp_value)pc->what, pc->s, pc->len, &s, &len))
                n = put(out, cap, n, s, len);
            break;
        case RP_PIECE_CLIENT_IP:
            if (vc && vc->client_ip)
                n = put(out, cap, n, vc->client_ip, vc->client_ip_len);
            break;
        case RP_PIECE_CLIENT_PORT:
            if (vc && vc->client_port) {
                char port[8];
                int k = snprintf(port, sizeof port, "%u", vc->client_port);
                n = put(out, cap, n, port, (size_t)k);
            }
            break;
        case RP_PIECE_REQ_ID:
            if (vc && vc->request_id) {
                s = vc->request_id(vc->owner, &len);
                n = put(out, cap, n, s, len);
            }
            break;
        case RP_PIECE_SERVER:
        case RP_PIECE_BACKEND:
            s = !vc ? NULL : pc->kind == RP_PIECE_SERVER ? vc->server_name : vc->backend_name;
            if (s)
                n = put(out, cap, n, s, strlen(s));
            break;
        case RP_PIECE_URI:
            if (v) {
                n = put(out, cap, n, v->path, v->path_len);
                if (v->query) {
                    n = put(out, cap, n, "?", 1);
                    n = put(out, cap, n, v->query, v->query_len);
                }
            }
            break;
        default:
            break;
        }
    }
    return n;
}

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
