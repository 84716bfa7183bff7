/* t.h: the unit-test harness. A suite is a function declared with T_SUITE;
 * it registers itself at start-up, so adding a test file needs no other edit.
 * Checks print TAP-style lines; the runner's last line is
 * "N passed, N failed" (one per check). */
#ifndef T_H
#define T_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

typedef void t_suite_fn(void);

void t_register(const char *name, t_suite_fn *fn);
bool t_check(bool ok, const char *what, const char *file, int line);
bool t_check_int(long long got, long long want, const char *what, const char *file, int line);
bool t_check_str(const char *got, size_t got_len, const char *want, const char *what,
                 const char *file, int line);

#define T_SUITE(name)                                                                              \
    static void t_suite_##name(void);                                                              \
    __attribute__((constructor)) static void t_register_##name(void)                               \
    {                                                                                              \
        t_register(#name, t_suite_##name);                                                         \
    }                                                                                              \
    static void t_suite_##name(void)

#define T_OK(cond) t_check((cond), #cond, __FILE__, __LINE__)
#define T_EQ(got, want) t_check_int((long long)(got), (long long)(want), #got, __FILE__, __LINE__)
/* Compares a (pointer, length) slice with a NUL-terminated string. */
#define T_SLICE(ptr, len, want) t_check_str((ptr), (len), (want), #ptr, __FILE__, __LINE__)
#define T_STR(got, want) t_check_str((got), (got) ? strlen(got) : 0, (want), #got, __FILE__, __LINE__)

#endif
