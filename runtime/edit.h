/* edit.h: changes to a message head, made by the phases that decide them
 * (steps.c and the steps' modules) and applied by the code that copies the
 * head (proxy.c): fields to leave out, fields to add, new framing. */
#ifndef RP_EDIT_H
#define RP_EDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rp/http1.h"

/* Changes to a head, applied while it is copied for the next hop. */
#define RP_HEAD_EDIT_DROP_MAX 16
#define RP_HEAD_EDIT_EXTRA_MAX 2048
struct rp_head_edit {
    uint32_t n_drop;
    const char *drop[RP_HEAD_EDIT_DROP_MAX]; /* field names not copied, lower case */
    uint8_t drop_len[RP_HEAD_EDIT_DROP_MAX];
    bool reframe; /* the body goes through filters: its framing fields go, new
                     framing comes (chunked, or until close) */
    uint32_t extra_len;
    char extra[RP_HEAD_EDIT_EXTRA_MAX]; /* field lines added, each ending in CRLF */
};

static inline void rp_head_edit_init(struct rp_head_edit *e)
{
    e->n_drop = 0;
    e->reframe = false;
    e->extra_len = 0;
}

/* Adds a field name (lower case) not to copy. Returns -1 when full. */
int rp_head_edit_drop(struct rp_head_edit *e, const char *lname);

/* rp_head_edit_drop for a name of known length (lname must outlive e). */
static inline int rp_head_edit_drop_n(struct rp_head_edit *e, const char *lname, size_t len)
{
    if (e->n_drop == RP_HEAD_EDIT_DROP_MAX)
        return -1;
    e->drop[e->n_drop] = lname;
    e->drop_len[e->n_drop] = (uint8_t)len;
    e->n_drop++;
    return 0;
}

/* Adds a field line "name: value\r\n". Returns -1 (nothing added) when it
 * does not fit. */
int rp_head_edit_add(struct rp_head_edit *e, const char *name, const char *value,
                     size_t value_len);

/* Takes back the lines added so far for a field name (lower case): a later
 * `set` or `remove` replaces an earlier `add` or `set`. */
void rp_head_edit_unadd(struct rp_head_edit *e, const char *lname, size_t len);

/* True if the edit drops fields named lname (lower case). */
bool rp_head_edit_drops_name(const struct rp_head_edit *e, const char *lname, size_t len);

/* True if the field is one the edit drops. */
bool rp_head_edit_drops(const struct rp_head_edit *e, const struct rp_http1_header *h);

#endif
