/* edit.c: changes to a message head (edit.h). */
#include <string.h>
#include <strings.h>

#include "edit.h"

int rp_head_edit_drop(struct rp_head_edit *e, const char *lname)
{
    if (rp_head_edit_drops_name(e, lname, strlen(lname)))
        return 0;
    if (e->n_drop == RP_HEAD_EDIT_DROP_MAX)
        return -1;
    e->drop[e->n_drop] = lname;
    e->drop_len[e->n_drop] = (uint8_t)strlen(lname);
    e->n_drop++;
    return 0;
}

int rp_head_edit_add(struct rp_head_edit *e, const char *name, const char *value,
                     size_t value_len)
{
    size_t name_len = strlen(name);
    if (e->extra_len + name_len + 2 + value_len + 2 > sizeof e->extra)
        return -1;
    char *p = e->extra + e->extra_len;
    memcpy(p, name, name_len);
    p += name_len;
    memcpy(p, ": ", 2);
    memcpy(p + 2, value, value_len);
    memcpy(p + 2 + value_len, "\r\n", 2);
    e->extra_len += (uint32_t)(name_len + 2 + value_len + 2);
    return 0;
}

bool rp_head_edit_drops(const struct rp_head_edit *e, const struct rp_http1_header *h)
{
    /* Lengths first: every field of the head is asked, and most differ. */
    for (uint32_t i = 0; i < e->n_drop; i++)
        if (e->drop_len[i] == h->name_len && rp_http1_name_is(h, e->drop[i], e->drop_len[i]))
            return true;
    return false;
}

void rp_head_edit_unadd(struct rp_head_edit *e, const char *lname, size_t len)
{
    uint32_t in = 0, out = 0;
    while (in < e->extra_len) {
        const char *line = e->extra + in;
        const char *end = memchr(line, '\n', e->extra_len - in);
        uint32_t line_len = end ? (uint32_t)(end - line) + 1 : e->extra_len - in;
        bool same = line_len > len && line[len] == ':' && strncasecmp(line, lname, len) == 0;
        if (!same) {
            memmove(e->extra + out, line, line_len);
            out += line_len;
        }
        in += line_len;
    }
    e->extra_len = out;
}

bool rp_head_edit_drops_name(const struct rp_head_edit *e, const char *lname, size_t len)
{
    for (uint32_t i = 0; i < e->n_drop; i++)
        if (e->drop_len[i] == len && memcmp(e->drop[i], lname, len) == 0)
            return true;
    return false;
}
