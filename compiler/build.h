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

#include <stdbool.h>

/* How a binary is linked. */
struct build_mode {
    bool dynamic; /* shared libev, zlib, libc (default: all static) */
    bool debug;   /* -g, symbols kept (default: -O2, stripped) */
    bool symbols; /* -O2 as released, symbols kept (for profilers) */
    bool policy_test; /* `rpx test`: the policy's test tables linked in (RP_POLICY_TEST) */
};

/* Runs `$CC -std=c11 -O2 -I<rt>/include c_file <rt>/librpx.a <link.flags>
 * <extra...> -o binary` (CC defaults to cc; it may hold several words),
 * with -static and -s unless mode says otherwise. The generated code sees
 * RP_BUILD_FLAGS, a string saying how it was built (`proxy --version`).
 * A runtime built with sanitizers links dynamically (they cannot be
 * static). Returns 0; 2 for what the user can fix (the runtime's
 * link.flags unreadable, $CC not found, an output directory that cannot be
 * written, cc failing on the user's --cc-flag); 70 if cc failed on its own,
 * since a checked policy must always compile. Messages go to stderr. */
int build_link(const char *rt, const char *c_file, const char *extra_c, const char *binary,
               const struct build_mode *mode, char *const *extra, size_t n_extra);

#endif
