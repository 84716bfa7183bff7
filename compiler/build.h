/* build.h: turning generated C into a proxy binary with the system's cc. */
#ifndef RPX_BUILD_H
#define RPX_BUILD_H

#include <stddef.h>

/* Finds the runtime: $RPX_HOME if set, else ../lib/rpx beside the running
 * rpx (via /proc/self/exe). Writes its path to out and returns 0; if it is
 * missing or incomplete, prints why to stderr and returns 2. */
int build_find_runtime(char *out, size_t size);

/* Finds the standard library (`import "std/NAME"`): $RPX_HOME/std if
 * RPX_HOME is set, else ../lib/rpx/std beside the running rpx. Writes it to
 * out and returns 0, or returns -1 (out untouched) if there is none. */
int build_find_std(char *out, size_t size);

/* Runs `$CC -std=c11 -O2 -I<rt>/include c_file <rt>/librpx.a <link.flags>
 * <extra...> -o binary` (CC defaults to cc; it may hold several words).
 * Returns 0, 2 if the runtime's link.flags cannot be read, or 70 if cc could
 * not run or failed (a checked policy must always compile, so that is our
 * bug); messages go to stderr. */
int build_link(const char *rt, const char *c_file, const char *extra_c, const char *binary,
               char *const *extra, size_t n_extra);

#endif
