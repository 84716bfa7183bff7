/* test_answer.c: what an action answers (rp_answer_set), a redirect's
 * Location rendered from its pieces, and the piece renderer's captures and
 * query suffix that rewrites and Locations share. */
#include <string.h>

#include "pieces.h"
#include "rp/match.h"
#include "t.h"

static struct rp_request_view view(const char *path, const char *query)
{
    return (struct rp_request_view){
        .method = "GET", .method_len = 3, .host = "example.com", .host_len = 11,
        .path = path, .path_len = (uint32_t)strlen(path), .query = query,
        .query_len = query ? (uint32_t)strlen(query) : 0,
    };
}

T_SUITE(answer_set)
{
    struct rp_request_view v = view("/a", NULL);
    struct rp_decision d = {0};
    const struct rp_answer proxy = {.action = RP_ACTION_PROXY, .backend = 3, .tunnel = true};
    rp_answer_set(&d, &proxy, &v, NULL);
    T_EQ(d.action, RP_ACTION_PROXY);
    T_EQ(d.backend, 3);
    T_OK(d.tunnel);
    const struct rp_answer respond = {.action = RP_ACTION_RESPOND, .status = 403, .body = "no",
                                      .body_len = 2, .content_type = "text/html"};
    rp_answer_set(&d, &respond, &v, NULL);
    T_EQ(d.action, RP_ACTION_RESPOND);
    T_EQ(d.status, 403);
    T_SLICE(d.body, d.body_len, "no");
    T_STR(d.content_type, "text/html");
}

T_SUITE(answer_redirect)
{
    /* https://${req.host}/new/$1 then the query: what `redirect 301
     * "https://${req.host}/new/$1"` on `path ~ "^/old/(.*)$"` lowers to */
    const struct rp_piece loc[] = {
        {RP_PIECE_TEXT, 0, 8, "https://"},
        {RP_PIECE_VALUE, RP_VAL_HOST, 0, NULL},
        {RP_PIECE_TEXT, 0, 5, "/new/"},
        {RP_PIECE_CAPTURE, 1, 0, NULL},
        {RP_PIECE_QUERY, 0, 0, NULL},
    };
    const struct rp_answer redirect = {.action = RP_ACTION_REDIRECT, .status = 301,
                                       .n_location = 5, .location = loc};
    struct rp_request_view v = view("/old/x/y", "a=1");
    uint32_t cap[2 * RP_RE_MAX_CAPS];
    memset(cap, 0xff, sizeof cap);
    cap[0] = 0, cap[1] = 8, cap[2] = 5, cap[3] = 8;
    struct rp_decision d = {0};
    rp_answer_set(&d, &redirect, &v, cap);
    T_EQ(d.action, RP_ACTION_REDIRECT);
    T_EQ(d.status, 301);
    T_SLICE(d.location, d.location_len, "https://example.com/new/x/y?a=1");
    T_EQ(d.location[d.location_len], '\0');

    /* no query: no '?'; a group that did not take part: nothing */
    v = view("/old/", NULL);
    cap[2] = cap[3] = UINT32_MAX;
    rp_answer_set(&d, &redirect, &v, cap);
    T_SLICE(d.location, d.location_len, "https://example.com/new/");

    /* no groups at all (a route without a path regex) */
    rp_answer_set(&d, &redirect, &v, NULL);
    T_SLICE(d.location, d.location_len, "https://example.com/new/");
}

T_SUITE(answer_redirect_too_long)
{
    static char path[RP_DECISION_LOCATION_MAX + 1];
    const struct rp_piece loc[] = {{RP_PIECE_VALUE, RP_VAL_PATH, 0, NULL}};
    const struct rp_answer redirect = {.action = RP_ACTION_REDIRECT, .status = 302,
                                       .n_location = 1, .location = loc};
    struct rp_decision d = {0};
    /* the longest that fits: all of the buffer but the NUL */
    memset(path, 'p', RP_DECISION_LOCATION_MAX - 1);
    path[0] = '/';
    struct rp_request_view v = view(path, NULL);
    rp_answer_set(&d, &redirect, &v, NULL);
    T_EQ(d.action, RP_ACTION_REDIRECT);
    T_EQ(d.location_len, RP_DECISION_LOCATION_MAX - 1);
    /* one more byte: too long to send, a 500 */
    path[RP_DECISION_LOCATION_MAX - 1] = 'p';
    v = view(path, NULL);
    rp_answer_set(&d, &redirect, &v, NULL);
    T_EQ(d.action, RP_ACTION_RESPOND);
    T_EQ(d.status, 500);
    T_EQ(d.location_len, 0);
    T_EQ(d.body_len, 0);
}

T_SUITE(pieces_cut)
{
    /* header values and cache keys are cut at the buffer's end */
    const struct rp_piece pcs[] = {{RP_PIECE_TEXT, 0, 6, "abcdef"}, {RP_PIECE_URI, 0, 0, NULL}};
    struct rp_request_view v = view("/p", "q");
    struct rp_value_ctx vc = {.view = &v};
    char out[16];
    T_EQ(rp_pieces_eval(pcs, 2, &vc, out, sizeof out), 10);
    T_SLICE(out, 10, "abcdef/p?q");
    T_EQ(rp_pieces_eval(pcs, 2, &vc, out, 8), 8);
    T_SLICE(out, 8, "abcdef/p");
    /* without a context, values render as nothing */
    T_EQ(rp_pieces_eval(pcs, 2, NULL, out, sizeof out), 6);
}
