/* date.c: the Date line cache (date.h). */
#include <stdio.h>

#include "date.h"

const char *rp_date_line(struct rp_date *d, double now, uint32_t *len)
{
    time_t t = (time_t)now;
    if (t != d->second) {
        /* IMF-fixdate, always in English and GMT: strftime would follow
         * the locale. */
        static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
        static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
        struct tm tm;
        gmtime_r(&t, &tm);
        int n = snprintf(d->line, sizeof d->line, "Date: %s, %02d %s %04d %02d:%02d:%02d GMT\r\n",
                         days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900,
                         tm.tm_hour, tm.tm_min, tm.tm_sec);
        d->len = n > 0 && (size_t)n < sizeof d->line ? (uint32_t)n : 0;
        d->second = t;
    }
    *len = d->len;
    return d->line;
}
