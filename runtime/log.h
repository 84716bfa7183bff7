/* log.h: the error log (stderr). Access logs come later, in their own module. */
#ifndef RP_LOG_H
#define RP_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum rp_log_level { RP_LOG_ERROR, RP_LOG_WARN, RP_LOG_INFO, RP_LOG_DEBUG };

/* The most verbose level printed; set once at start-up. */
extern enum rp_log_level rp_log_max;

/* Prints one line "2026-12-02T16:08:41.123Z rpx[pid]: LEVEL: message" (the
 * time in UTC, RFC 3339) to stderr, in a single write so lines from several
 * workers do not interleave. */
void rp_log(enum rp_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define rp_error(...) rp_log(RP_LOG_ERROR, __VA_ARGS__)
#define rp_warn(...) rp_log(RP_LOG_WARN, __VA_ARGS__)
#define rp_info(...) rp_log(RP_LOG_INFO, __VA_ARGS__)
#define rp_debug(...)                                                                              \
    do {                                                                                           \
        if (rp_log_max >= RP_LOG_DEBUG)                                                            \
            rp_log(RP_LOG_DEBUG, __VA_ARGS__);                                                     \
    } while (0)

/* A line that can repeat at request rate (a refused connect, EMFILE on
 * accept) goes through one of these: at most one line a second is printed,
 * and the next printed line is preceded by a count of those held back.
 * Not shared between threads: one per worker and cause. */
struct rp_log_limit {
    double last;   /* when a line was last let through (ev_now) */
    uint32_t held; /* lines held back since */
};

/* True when a line may be printed now; if lines were held back, says how
 * many first. */
bool rp_log_limit_pass(struct rp_log_limit *l, double now);

#endif
