/* test_date.c: the Date line (runtime/date.c). */
#include "date.h"
#include "t.h"

T_SUITE(date_line)
{
    struct rp_date d = {0};
    uint32_t len;
    const char *line = rp_date_line(&d, 784111777.25, &len); /* RFC 9110's example */
    T_SLICE(line, len, "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n");
    line = rp_date_line(&d, 784111777.9, &len); /* same second: the cached line */
    T_SLICE(line, len, "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n");
    line = rp_date_line(&d, 951782400, &len); /* a leap day */
    T_SLICE(line, len, "Date: Tue, 29 Feb 2000 00:00:00 GMT\r\n");
}
