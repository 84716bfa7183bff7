/* test_accesslog.c: access log lines (runtime/accesslog.c): JSON strings
 * escaped byte for byte as RFC 8259 wants (the word-at-a-time scan agrees
 * with a byte-wise reference on every byte value and position), combined
 * lines escaped as nginx does. */
#include <stdio.h>
#include <stdlib.h>

#include "accesslog.h"
#include "rp/program.h"
#include "t.h"

/* The reference: byte by byte. */
static size_t json_ref(char *out, const unsigned char *s, size_t n)
{
    size_t k = 0;
    out[k++] = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (c == '"' || c == '\\') {
            out[k++] = '\\';
            out[k++] = (char)c;
        } else if (c < 0x20 || c >= 0x7f) {
            k += (size_t)sprintf(out + k, "\\u00%02x", c);
        } else {
            out[k++] = (char)c;
        }
    }
    out[k++] = '"';
    return k;
}

/* The user_agent field of a JSON line for ua. */
static bool ua_field(const unsigned char *ua, size_t n, char *line, size_t *len, const char **field,
                     size_t *field_len)
{
    struct rp_access_entry e = {.client = "127.0.0.1", .client_len = 9, .method = "GET",
                                .method_len = 3, .target = "/", .target_len = 1,
                                .user_agent = (const char *)ua, .user_agent_len = n,
                                .minor_version = 1, .status = 200, .end = "done"};
    static const struct rp_access_log def = {.format = RP_ACCESS_LOG_JSON};
    *len = rp_access_log_format(line, &def, &e);
    const char *k = strstr(line, "\"user_agent\":");
    const char *end = k ? strstr(k, ",\"end\":") : NULL;
    if (!k || !end)
        return false;
    *field = k + 13;
    *field_len = (size_t)(end - *field);
    return true;
}

/* Whether ua's field in a line is what the reference makes of it. */
static bool escapes_as_reference(const unsigned char *ua, size_t n)
{
    static char line[RP_ACCESS_LINE_MAX], want[64 * 6 + 8];
    size_t len, fl;
    const char *f;
    size_t wl = json_ref(want, ua, n);
    return ua_field(ua, n, line, &len, &f, &fl) && fl == wl && memcmp(f, want, wl) == 0;
}

T_SUITE(accesslog_json_escapes)
{
    unsigned char s[64];
    unsigned bad = 0, checked = 0;
    /* every byte value at every position of strings of 1..20 bytes */
    for (size_t n = 1; n <= 20; n++)
        for (size_t pos = 0; pos < n; pos++)
            for (unsigned c = 0; c < 256; c++) {
                memset(s, 'a', n);
                s[pos] = (unsigned char)c;
                checked++;
                bad += !escapes_as_reference(s, n);
            }
    /* random strings, long enough for several words */
    srand(7);
    for (int r = 0; r < 20000; r++) {
        size_t n = 1 + (size_t)rand() % 60;
        for (size_t i = 0; i < n; i++)
            s[i] = (unsigned char)(rand() % 4 ? 32 + rand() % 95 : rand() % 256);
        checked++;
        bad += !escapes_as_reference(s, n);
    }
    T_OK(checked > 70000);
    T_EQ(bad, 0);
}

T_SUITE(accesslog_combined)
{
    static char line[RP_ACCESS_LINE_MAX];
    struct rp_access_entry e = {.client = "10.0.0.1", .client_len = 8, .method = "GET",
                                .method_len = 3, .target = "/a\"b", .target_len = 4,
                                .user_agent = "curl/8\x01", .user_agent_len = 7,
                                .minor_version = 1, .status = 404, .bytes_out = 12,
                                .t_end = 784111777.25};
    static const struct rp_access_log def = {.format = RP_ACCESS_LOG_COMBINED};
    size_t n = rp_access_log_format(line, &def, &e);
    T_SLICE(line, n, "10.0.0.1 - - [06/Nov/1994:08:49:37 +0000] \"GET /a\\x22b HTTP/1.1\" 404 12 "
                     "\"-\" \"curl/8\\x01\"");
}

T_SUITE(accesslog_custom)
{
    static char line[RP_ACCESS_LINE_MAX];
    static const struct rp_log_piece pieces[] = {
        {.field = RP_LOG_TEXT, .text = "ip=", .len = 3}, {.field = RP_LOG_CLIENT},
        {.field = RP_LOG_TEXT, .text = " st=", .len = 4}, {.field = RP_LOG_STATUS},
        {.field = RP_LOG_TEXT, .text = " be=", .len = 4}, {.field = RP_LOG_BACKEND},
        {.field = RP_LOG_TEXT, .text = " ua=", .len = 4}, {.field = RP_LOG_USER_AGENT},
        {.field = RP_LOG_TEXT, .text = " t=", .len = 3}, {.field = RP_LOG_DURATION_MS},
        {.field = RP_LOG_TEXT, .text = " c=", .len = 3}, {.field = RP_LOG_CONNECT_MS}};
    static const struct rp_access_log def = {.format = RP_ACCESS_LOG_CUSTOM, .pieces = pieces,
                                             .n_pieces = sizeof pieces / sizeof pieces[0]};
    struct rp_access_entry e = {.client = "10.0.0.1", .client_len = 8, .status = 502,
                                .user_agent = "a \"b\"", .user_agent_len = 5,
                                .t_start = 100.0, .t_end = 100.0125};
    size_t n = rp_access_log_format(line, &def, &e);
    T_SLICE(line, n, "ip=10.0.0.1 st=502 be=- ua=a \\x22b\\x22 t=12.500 c=-");
    /* a format naming a long field again and again ends with "..." in bounds */
    static struct rp_log_piece many[4096];
    for (size_t i = 0; i < 4096; i++)
        many[i] = (struct rp_log_piece){.field = RP_LOG_USER_AGENT};
    static char ua[2000];
    memset(ua, '"', sizeof ua);
    struct rp_access_log big = {.format = RP_ACCESS_LOG_CUSTOM, .pieces = many, .n_pieces = 4096};
    e.user_agent = ua;
    e.user_agent_len = sizeof ua;
    n = rp_access_log_format(line, &big, &e);
    T_OK(n <= RP_ACCESS_LINE_MAX && n > RP_ACCESS_LINE_MAX / 2);
    T_SLICE(line + n - 3, 3, "...");
}
