/* log.c: the error log. */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

enum rp_log_level rp_log_max = RP_LOG_INFO;

static const char *const level_names[] = {"error", "warning", "info", "debug"};

void rp_log(enum rp_log_level level, const char *fmt, ...)
{
    if (level > rp_log_max)
        return;
    char line[1024];
    /* An RFC 3339 time in UTC, to the millisecond, first: lines say when. */
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = (int)strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
    n += snprintf(line + n, sizeof line - (size_t)n, ".%03ldZ rpx[%d]: %s: ",
                  ts.tv_nsec / 1000000, (int)getpid(), level_names[level]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    n += m;
    if (n > (int)sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w; /* nowhere to report a failed write to stderr */
}

bool rp_log_limit_pass(struct rp_log_limit *l, double now)
{
    if (l->last != 0 && now - l->last < 1.0) {
        l->held++;
        return false;
    }
    if (l->held)
        rp_warn("(%u similar lines in the last %.0f s not shown)", l->held, now - l->last);
    l->last = now;
    l->held = 0;
    return true;
}
