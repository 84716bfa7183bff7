/* build.c: drives cc. No shell is involved: arguments go to posix_spawnp
 * as they are, so file names with spaces or quotes need no escaping. */
#include "build.h"

#include <errno.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"

extern char **environ;

static int build_missing(const char *rt, const char *what)
{
    fprintf(stderr,
            "rpx: cannot find the runtime: '%s/%s' is missing\n"
            "rpx: set RPX_HOME to the directory holding librpx.a, include/ and link.flags\n",
            rt, what);
    return 2;
}

int build_find_runtime(char *out, size_t size)
{
    const char *home = getenv("RPX_HOME");
    if (home && *home) {
        snprintf(out, size, "%s", home);
    } else {
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n < 0) {
            fprintf(stderr, "rpx: cannot find the runtime: /proc/self/exe: %s; set RPX_HOME\n",
                    strerror(errno));
            return 2;
        }
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0';
        snprintf(out, size, "%s/../lib/rpx", exe);
    }
    static const char *const need[] = {"librpx.a", "include/rp/program.h", "link.flags"};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
        char path[PATH_MAX + 64];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", out, need[i]);
        if (stat(path, &st) != 0)
            return build_missing(out, need[i]);
    }
    return 0;
}

int build_find_std(char *out, size_t size)
{
    char dir[PATH_MAX + 32];
    const char *home = getenv("RPX_HOME");
    if (home && *home) {
        snprintf(dir, sizeof dir, "%s/std", home);
    } else {
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n < 0)
            return -1;
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0';
        snprintf(dir, sizeof dir, "%s/../lib/rpx/std", exe);
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return -1;
    snprintf(out, size, "%s", dir);
    return 0;
}

/* Splits s at blanks into words appended to *argv (strdup'd). */
static void build_words(const char *s, char ***argv, size_t *n, size_t *cap)
{
    while (*s) {
        while (*s == ' ' || *s == '\t' || *s == '\n')
            s++;
        if (!*s)
            break;
        const char *e = s;
        while (*e && *e != ' ' && *e != '\t' && *e != '\n')
            e++;
        if (*n + 2 > *cap) {
            *cap = *cap ? *cap * 2 : 32;
            char **a = realloc(*argv, *cap * sizeof *a);
            if (!a)
                rpx_oom();
            *argv = a;
        }
        char *w = strndup(s, (size_t)(e - s));
        if (!w)
            rpx_oom();
        (*argv)[(*n)++] = w;
        (*argv)[*n] = NULL;
        s = e;
    }
}

static void build_arg(const char *w, char ***argv, size_t *n, size_t *cap)
{
    if (*n + 2 > *cap) {
        *cap = *cap ? *cap * 2 : 32;
        char **a = realloc(*argv, *cap * sizeof *a);
        if (!a)
            rpx_oom();
        *argv = a;
    }
    char *c = strdup(w);
    if (!c)
        rpx_oom();
    (*argv)[(*n)++] = c;
    (*argv)[*n] = NULL;
}

int build_link(const char *rt, const char *c_file, const char *extra_c, const char *binary,
               char *const *extra, size_t n_extra)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/link.flags", rt);
    FILE *f = fopen(path, "r");
    if (!f)
        return build_missing(rt, "link.flags");
    struct buf flags = {0};
    char chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(&flags, chunk, got);
    fclose(f);
    buf_append(&flags, "", 0);

    char **argv = NULL;
    size_t n = 0, cap = 0;
    const char *cc = getenv("CC");
    build_words(cc && *cc ? cc : "cc", &argv, &n, &cap);
    if (n == 0)
        build_arg("cc", &argv, &n, &cap);
    build_arg("-std=c11", &argv, &n, &cap);
    build_arg("-O2", &argv, &n, &cap);
    snprintf(path, sizeof path, "-I%s/include", rt);
    build_arg(path, &argv, &n, &cap);
    build_arg(c_file, &argv, &n, &cap);
    if (extra_c)
        build_arg(extra_c, &argv, &n, &cap);
    snprintf(path, sizeof path, "%s/librpx.a", rt);
    build_arg(path, &argv, &n, &cap);
    build_words(flags.data, &argv, &n, &cap);
    buf_free(&flags);
    for (size_t i = 0; i < n_extra; i++)
        build_arg(extra[i], &argv, &n, &cap);
    build_arg("-o", &argv, &n, &cap);
    build_arg(binary, &argv, &n, &cap);

    int rc = 70;
    pid_t pid;
    int err = posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ);
    if (err != 0) {
        fprintf(stderr, "rpx: internal error: cannot run the C compiler '%s': %s\n", argv[0],
                strerror(err));
        goto done;
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "rpx: internal error: waiting for '%s': %s\n", argv[0],
                    strerror(errno));
            goto done;
        }
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        rc = 0;
    } else {
        fprintf(stderr,
                "rpx: internal error: the C compiler failed on the generated code (%s %d);\n"
                "rpx: a policy that passes 'rpx check' should always build: please report it\n",
                WIFEXITED(status) ? "exit status" : "signal",
                WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    }
done:
    for (size_t i = 0; i < n; i++)
        free(argv[i]);
    free(argv);
    return rc;
}
