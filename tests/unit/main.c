/* main.c: runs every registered suite, or those named on the command line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"

#define T_MAX_SUITES 256

static struct {
    const char *name;
    t_suite_fn *fn;
} suites[T_MAX_SUITES];
static int n_suites;
static int n_passed, n_failed;
static const char *current_suite;

void t_register(const char *name, t_suite_fn *fn)
{
    if (n_suites == T_MAX_SUITES) {
        fprintf(stderr, "t: too many suites, raise T_MAX_SUITES\n");
        exit(70);
    }
    suites[n_suites].name = name;
    suites[n_suites].fn = fn;
    n_suites++;
}

bool t_check(bool ok, const char *what, const char *file, int line)
{
    if (ok) {
        n_passed++;
    } else {
        n_failed++;
        printf("not ok %d - %s: %s (%s:%d)\n", n_passed + n_failed, current_suite, what, file,
               line);
    }
    return ok;
}

bool t_check_int(long long got, long long want, const char *what, const char *file, int line)
{
    if (got == want)
        return t_check(true, what, file, line);
    printf("# %s: got %lld, want %lld\n", what, got, want);
    return t_check(false, what, file, line);
}

bool t_check_str(const char *got, size_t got_len, const char *want, const char *what,
                 const char *file, int line)
{
    if (got && strlen(want) == got_len && memcmp(got, want, got_len) == 0)
        return t_check(true, what, file, line);
    printf("# %s: got \"%.*s\", want \"%s\"\n", what, got ? (int)got_len : 6,
           got ? got : "(null)", want);
    return t_check(false, what, file, line);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int main(int argc, char **argv)
{
    /* Constructors run in link order; sort so the output is stable. */
    qsort(suites, n_suites, sizeof suites[0], by_name);
    for (int i = 0; i < n_suites; i++) {
        bool wanted = argc < 2;
        for (int a = 1; a < argc; a++)
            wanted |= strcmp(argv[a], suites[i].name) == 0;
        if (!wanted)
            continue;
        int before = n_failed;
        current_suite = suites[i].name;
        suites[i].fn();
        printf("%s %s\n", n_failed == before ? "ok" : "FAIL", suites[i].name);
    }
    printf("%d passed, %d failed\n", n_passed, n_failed);
    return n_failed ? 1 : 0;
}
