/* pieces.c: rendering values made of pieces (pieces.h), and a redirect's
 * Location (rp/match.h). */
#include <stdio.h>
#include <string.h>

#include "pieces.h"
#include "rp/match.h"

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
        case RP_PIECE_CAPTURE:
            if (vc && vc->cap && vc->cap[2 * pc->what] != UINT32_MAX &&
                vc->cap[2 * pc->what + 1] != UINT32_MAX)
                n = put(out, cap, n, vc->subject + vc->cap[2 * pc->what],
                        vc->cap[2 * pc->what + 1] - vc->cap[2 * pc->what]);
            break;
        case RP_PIECE_QUERY:
            if (v && v->query) {
                n = put(out, cap, n, "?", 1);
                n = put(out, cap, n, v->query, v->query_len);
            }
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

void rp_answer_redirect(struct rp_decision *d, const struct rp_answer *a,
                        const struct rp_request_view *req, const uint32_t *cap)
{
    struct rp_value_ctx vc = {.view = req, .subject = req->path, .cap = cap};
    /* Rendered into the whole buffer: a Location that fills it (no room
     * for its NUL) was cut, and is too long to send. */
    size_t n = rp_pieces_eval(a->location, a->n_location, &vc, d->location, sizeof d->location);
    if (n >= sizeof d->location) {
        d->action = RP_ACTION_RESPOND;
        d->status = 500;
        d->body = "";
        d->body_len = 0;
        n = 0;
    }
    d->location_len = (uint32_t)n;
    d->location[n] = '\0';
}
