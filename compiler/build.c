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

/* Whether the directory that will hold path can be written. */
static bool build_dir_writable(const char *path)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    return access(dir, W_OK | X_OK) == 0;
}

/* Whether a program is on $PATH. */
static bool build_on_path(const char *prog)
{
    const char *p = getenv("PATH");
    if (!p || !*p)
        p = "/usr/bin:/bin";
    while (*p) {
        const char *e = strchr(p, ':');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char path[PATH_MAX];
        if (n && snprintf(path, sizeof path, "%.*s/%s", (int)n, p, prog) < (int)sizeof path &&
            access(path, X_OK) == 0)
            return true;
        p += n + (e ? 1 : 0);
    }
    return false;
}

/* Moves the linked binary to where it was asked for (copied when that is
 * on another file system). 0, or 2 with the reason. */
static int build_place(const char *linked, const char *binary)
{
    struct stat st;
    if (stat(binary, &st) == 0 && S_ISDIR(st.st_mode)) {
        fprintf(stderr, "rpx: cannot write '%s': it is a directory (name the binary: -o %s/proxy)\n",
                binary, binary);
        return 2;
    }
    if (rename(linked, binary) == 0)
        return 0;
    if (errno != EXDEV) {
        fprintf(stderr, "rpx: cannot write '%s': %s\n", binary, strerror(errno));
        return 2;
    }
    FILE *in = fopen(linked, "rb"), *out = in ? fopen(binary, "wb") : NULL;
    int rc = in && out ? 0 : 2;
    char chunk[65536];
    size_t got;
    while (rc == 0 && (got = fread(chunk, 1, sizeof chunk, in)) > 0)
        if (fwrite(chunk, 1, got, out) != got)
            rc = 2;
    int err = errno;
    if (out && fclose(out) != 0)
        rc = 2, err = errno;
    if (in)
        fclose(in);
    if (rc == 0 && chmod(binary, 0755) != 0)
        rc = 2, err = errno;
    if (rc)
        fprintf(stderr, "rpx: cannot write '%s': %s\n", binary, strerror(err));
    unlink(linked);
    return rc;
}

int build_link(const char *rt, const char *c_file, const char *extra_c, const char *binary,
               const struct build_mode *mode, char *const *extra, size_t n_extra)
{
    if (!build_dir_writable(binary)) {
        fprintf(stderr, "rpx: cannot write '%s': %s\n", binary, strerror(errno));
        return 2;
    }
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
    /* sanitizers need their shared runtime */
    bool is_static = !mode->dynamic && !strstr(flags.data, "-fsanitize");

    struct buf said = {0}; /* RP_BUILD_FLAGS */
    buf_puts(&said, "-DRP_BUILD_FLAGS=\"");
    buf_puts(&said, is_static ? "static" : "dynamic");
    buf_puts(&said, mode->debug ? " debug" : mode->symbols ? " -O2 symbols" : " stripped -O2");
    for (size_t i = 0; i < n_extra; i++)
        for (const char *c = extra[i], *sp = " "; *c; c++, sp = "") {
            buf_puts(&said, sp);
            if (*c == '"' || *c == '\\')
                buf_putc(&said, '\\');
            buf_putc(&said, *c);
        }
    buf_append(&said, "\"", 2);

    char **argv = NULL;
    size_t n = 0, cap = 0;
    const char *cc = getenv("CC");
    build_words(cc && *cc ? cc : "cc", &argv, &n, &cap);
    if (n == 0)
        build_arg("cc", &argv, &n, &cap);
    build_arg("-std=c11", &argv, &n, &cap);
    build_arg(mode->debug ? "-O1" : "-O2", &argv, &n, &cap);
    if (mode->debug)
        build_arg("-g", &argv, &n, &cap);
    build_arg(said.data, &argv, &n, &cap);
    buf_free(&said);
    if (mode->policy_test)
        build_arg("-DRP_POLICY_TEST", &argv, &n, &cap);
    /* the temporary directory's name stays out of debug information, so
     * --debug builds are reproducible too */
    const char *slash = strrchr(c_file, '/');
    if (slash) {
        snprintf(path, sizeof path, "-ffile-prefix-map=%.*s=.", (int)(slash - c_file), c_file);
        build_arg(path, &argv, &n, &cap);
    }
    snprintf(path, sizeof path, "-I%s/include", rt);
    build_arg(path, &argv, &n, &cap);
    build_arg(c_file, &argv, &n, &cap);
    if (extra_c)
        build_arg(extra_c, &argv, &n, &cap);
    snprintf(path, sizeof path, "%s/librpx.a", rt);
    build_arg(path, &argv, &n, &cap);
    build_words(flags.data, &argv, &n, &cap);
    buf_free(&flags);
    if (is_static)
        build_arg("-static", &argv, &n, &cap);
    /* gold links a proxy in half the time of ld.bfd (0.22 s against 0.45 s
     * for the 10,000-route policy: libcrypto.a is large); it comes with
     * binutils, so it is nearly always there */
    if (build_on_path("ld.gold"))
        build_arg("-fuse-ld=gold", &argv, &n, &cap);
    if (!mode->debug && !mode->symbols)
        build_arg("-s", &argv, &n, &cap);
    for (size_t i = 0; i < n_extra; i++)
        build_arg(extra[i], &argv, &n, &cap);
    /* linked beside the generated C, then moved into place: a binary that
     * cannot be written there (a directory, no permission, another
     * file system's trouble) is the environment's fault, said as such,
     * never the C compiler's */
    char linked[PATH_MAX + 16];
    if (slash)
        snprintf(linked, sizeof linked, "%.*s/proxy.out", (int)(slash - c_file), c_file);
    else
        snprintf(linked, sizeof linked, "proxy.out");
    build_arg("-o", &argv, &n, &cap);
    build_arg(linked, &argv, &n, &cap);

    int rc = 70;
    pid_t pid;
    int err = posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ);
    if (err != 0) {
        fprintf(stderr, "rpx: cannot run the C compiler '%s': %s%s\n", argv[0], strerror(err),
                err == ENOENT ? " (install one, or name it in $CC)" : "");
        rc = 2;
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
        rc = build_place(linked, binary);
    } else if (n_extra) {
        fprintf(stderr, "rpx: the C compiler failed (%s %d) with the --cc-flag given:",
                WIFEXITED(status) ? "exit status" : "signal",
                WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        for (size_t i = 0; i < n_extra; i++)
            fprintf(stderr, " %s", extra[i]);
        fputs("\nrpx: its messages above say why (a checked policy builds without extra flags)\n",
              stderr);
        rc = 2;
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
