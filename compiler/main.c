/* main.c: the rpx command line.
 *
 * Exit status: 0 ok, 1 the policy has errors, 2 usage or I/O error (or the
 * runtime is missing), 70 internal error. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "build.h"
#include "compile.h"
#include "diff.h"
#include "emit_c.h"
#include "explain.h"
#include "fmt.h"

#define EXIT_POLICY 1
#define EXIT_USAGE 2
#define EXIT_INTERNAL 70

static const char usage_text[] =
    "usage: rpx check FILE [--Werror] [--allow-shadowed]\n"
    "       rpx emit FILE -o DIR [--Werror] [--allow-shadowed]\n"
    "       rpx build FILE -o BINARY [--dynamic] [--debug] [--cc-flag FLAG]... [--Werror]\n"
    "                 [--allow-shadowed]\n"
    "       rpx test FILE [--cc-flag FLAG]...\n"
    "       rpx explain FILE METHOD URL [--from IP] [--header 'Name: value']...\n"
    "       rpx fmt FILE [--check | -w]\n"
    "       rpx diff OLD NEW\n"
    "       rpx COMMAND --help\n"
    "       rpx --help | --version\n"
    "\n"
    "  check   parse and check the policy; print diagnostics\n"
    "  emit    write the generated C to DIR/NAME.c (NAME: FILE without .rp)\n"
    "  build   emit, then compile and link with the runtime into BINARY: static and\n"
    "          stripped unless --dynamic or --debug (-g, symbols kept)\n"
    "          (runtime: $RPX_HOME, else ../lib/rpx beside rpx; compiler: $CC, else cc)\n"
    "  test    build the policy with a test driver and run its test blocks\n"
    "  explain which route a request takes, which conditions held, and why\n"
    "          earlier routes did not match (URL: http://host/path or /path)\n"
    "  diff    the requests two versions of a policy decide differently (exit 1 if any)\n"
    "  fmt     print the policy in canonical layout; --check: exit 1 if it is not;\n"
    "          -w: rewrite the file in place\n"
    "\n"
    "exit status: 0 ok, 1 the policy has errors, 2 usage or I/O error, 70 internal error\n";

/* `rpx COMMAND --help`: the command's synopsis, then what it does. */
static const struct {
    const char *cmd, *text;
} command_help[] = {
    {"check", "usage: rpx check FILE [--Werror] [--allow-shadowed]\n\n"
              "Parses and checks the policy and prints its diagnostics\n"
              "(file:line:column: error|warning|note: ...). Nothing is written.\n\n"
              "  --Werror          warnings are errors\n"
              "  --allow-shadowed  a route that can never match is a warning, not an error\n"},
    {"emit", "usage: rpx emit FILE -o DIR [--Werror] [--allow-shadowed]\n\n"
             "Writes the generated C to DIR/NAME.c (NAME: FILE without .rp). The same\n"
             "policy gives the same bytes on every machine.\n"},
    {"build", "usage: rpx build FILE -o BINARY [--dynamic] [--debug] [--cc-flag FLAG]...\n"
              "                 [--Werror] [--allow-shadowed]\n\n"
              "Emits the C, then compiles and links it with the runtime into BINARY: one\n"
              "static, stripped executable that needs no shared library and no policy file\n"
              "at run time. The same policy builds to the same bytes.\n\n"
              "  --dynamic      link libc, libev and zlib as shared libraries\n"
              "  --debug        -O1 -g, symbols kept\n"
              "  --symbols      -O2 as released, symbols kept (for profilers)\n"
              "  --cc-flag F    pass F to the C compiler (repeatable)\n\n"
              "The runtime is $RPX_HOME, else ../lib/rpx beside rpx; the C compiler is $CC,\n"
              "else cc. BINARY --version prints the policy's hash and how it was built.\n"},
    {"test", "usage: rpx test FILE [--cc-flag FLAG]...\n\n"
             "Builds the policy with a test driver and runs its test blocks against the\n"
             "decision the proxy makes. Exit 0 if all pass, 1 if any fails.\n"},
    {"explain", "usage: rpx explain FILE METHOD URL [--from IP] [--header 'Name: value']...\n\n"
                "Shows how the policy decides one request: each route tried in order, each\n"
                "matcher and condition with its value, each action's guard, the answer and\n"
                "the steps after it. URL is http://host/path?query, or /path with a Host\n"
                "header. --from sets the client address (default 127.0.0.1).\n"},
    {"diff", "usage: rpx diff OLD NEW [--allow-shadowed]\n\n"
             "Lists the classes of requests the two policies decide differently (route,\n"
             "backend, status, Location, body, steps after the answer), each with an example\n"
             "request and both outcomes. The classes come from the product of the two route\n"
             "automata and, within each, the values the routes' conditions tell apart.\n"
             "Exit 0 if no request is decided differently, 1 if some is, 2 on an error\n"
             "(either policy has errors, a file cannot be read).\n"},
    {"fmt", "usage: rpx fmt FILE [--check | -w]\n\n"
            "Prints the policy in canonical layout (comments kept).\n\n"
            "  --check  print nothing; exit 1 if the file is not in canonical layout\n"
            "  -w       rewrite the file in place (untouched if already canonical)\n"},
};

struct cli {
    const char *cmd;
    const char *file;
    const char *out;
    char **cc_flags; /* borrowed from argv */
    size_t n_cc_flags;
    struct build_mode mode;
    struct compile_opts opts;
};

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        fputs("rpx: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
    }
    fputs(usage_text, stderr);
    return EXIT_USAGE;
}

/* Returns 0, or the exit status for a usage error (already printed). */
static int cli_parse(struct cli *c, int argc, char **argv)
{
    c->cmd = argv[1];
    bool wants_out = strcmp(c->cmd, "check") != 0 && strcmp(c->cmd, "test") != 0;
    bool builds = strcmp(c->cmd, "build") == 0 || strcmp(c->cmd, "test") == 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-o") == 0 && wants_out) {
            if (++i == argc)
                return usage_error("'%s' needs an argument", a);
            c->out = argv[i];
        } else if (strcmp(a, "--cc-flag") == 0 && builds) {
            if (++i == argc)
                return usage_error("'%s' needs an argument", a);
            c->cc_flags[c->n_cc_flags++] = argv[i];
        } else if (strncmp(a, "--cc-flag=", 10) == 0 && builds) {
            c->cc_flags[c->n_cc_flags++] = argv[i] + 10;
        } else if (strcmp(a, "--dynamic") == 0 && strcmp(c->cmd, "build") == 0) {
            c->mode.dynamic = true;
        } else if (strcmp(a, "--debug") == 0 && strcmp(c->cmd, "build") == 0) {
            c->mode.debug = true;
        } else if (strcmp(a, "--symbols") == 0 && strcmp(c->cmd, "build") == 0) {
            c->mode.symbols = true;
        } else if (strcmp(a, "--Werror") == 0) {
            c->opts.werror = true;
        } else if (strcmp(a, "--allow-shadowed") == 0) {
            c->opts.allow_shadowed = true;
        } else if (a[0] == '-' && a[1] != '\0') {
            return usage_error("unknown option '%s'", a);
        } else if (c->file) {
            return usage_error("unexpected argument '%s'", a);
        } else {
            c->file = a;
        }
    }
    if (!c->file)
        return usage_error("'%s' needs a policy file", c->cmd);
    if (wants_out && !c->out)
        return usage_error("'%s' needs -o", c->cmd);
    return 0;
}

/* mkdir -p */
static int make_dirs(const char *dir)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

/* The C file's name: the policy's base name, `.rp` replaced by `.c`. */
static void c_name(const char *file, char *out, size_t size)
{
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    size_t n = strlen(base);
    if (n > 3 && strcmp(base + n - 3, ".rp") == 0)
        n -= 3;
    snprintf(out, size, "%.*s.c", (int)n, base);
}

static int write_file(const char *path, const struct buf *b)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        goto fail;
    size_t n = b->len ? fwrite(b->data, 1, b->len, f) : 0;
    if (fclose(f) != 0 || n != b->len)
        goto fail;
    return 0;
fail:
    fprintf(stderr, "rpx: cannot write '%s': %s\n", path, strerror(errno));
    return EXIT_USAGE;
}

/* Writes dir/NAME.c for the compiled policy; the path written goes to
 * c_path. */
static int emit_to_dir(const struct compilation *comp, const char *file, const char *dir,
                       char *c_path, size_t size)
{
    if (make_dirs(dir) != 0) {
        fprintf(stderr, "rpx: cannot create '%s': %s\n", dir, strerror(errno));
        return EXIT_USAGE;
    }
    char name[NAME_MAX + 1];
    c_name(file, name, sizeof name);
    if (snprintf(c_path, size, "%s/%s", dir, name) >= (int)size) {
        fprintf(stderr, "rpx: path too long: '%s/%s'\n", dir, name);
        return EXIT_USAGE;
    }
    struct buf out = {0};
    emit_c(&out, comp->ir, &comp->src);
    int rc = write_file(c_path, &out);
    buf_free(&out);
    return rc;
}

/* Makes a fresh directory under $TMPDIR (else /tmp) for build products.
 * Returns 0, or -1 after saying why. */
static int make_temp_dir(char *dir, size_t size)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = "/tmp";
    snprintf(dir, size, "%s/rpx-XXXXXX", tmp);
    if (!mkdtemp(dir)) {
        fprintf(stderr, "rpx: cannot create a temporary directory in '%s': %s\n", tmp,
                strerror(errno));
        return -1;
    }
    return 0;
}

static int cmd_build(const struct cli *c, const struct compilation *comp)
{
    char rt[PATH_MAX];
    int rc = build_find_runtime(rt, sizeof rt);
    if (rc)
        return rc;
    char dir[PATH_MAX];
    if (make_temp_dir(dir, sizeof dir) < 0)
        return EXIT_USAGE;
    char c_path[PATH_MAX];
    c_path[0] = '\0';
    rc = emit_to_dir(comp, c->file, dir, c_path, sizeof c_path);
    if (rc == 0)
        rc = build_link(rt, c_path, NULL, c->out, &c->mode, c->cc_flags, c->n_cc_flags);
    if (c_path[0])
        unlink(c_path);
    rmdir(dir);
    return rc;
}

/* rpx test: builds the policy with the runtime's test driver into a
 * temporary binary and runs it; its exit status (0 all passed, 1 some
 * failed) is ours. */
static int cmd_test(const struct cli *c, const struct compilation *comp)
{
    if (comp->prog->n_tests == 0) {
        fprintf(stderr, "rpx: %s has no test blocks\n", c->file);
        return 0;
    }
    char rt[PATH_MAX];
    int rc = build_find_runtime(rt, sizeof rt);
    if (rc)
        return rc;
    char dir[PATH_MAX];
    if (make_temp_dir(dir, sizeof dir) < 0)
        return EXIT_USAGE;
    char c_path[PATH_MAX], drv[PATH_MAX + 16], bin[PATH_MAX + 16];
    c_path[0] = '\0';
    snprintf(drv, sizeof drv, "%s/test_main.c", dir);
    snprintf(bin, sizeof bin, "%s/policy-test", dir);
    rc = emit_to_dir(comp, c->file, dir, c_path, sizeof c_path);
    if (rc == 0) {
        struct buf src = {0};
        buf_puts(&src, "#include <rp/policy_test.h>\n\n"
                       "int main(void)\n{\n    return rp_policy_test_run(&rp_program);\n}\n");
        rc = write_file(drv, &src);
        buf_free(&src);
    }
    if (rc == 0) {
        /* dynamic: a test binary runs once, and links faster so */
        const struct build_mode mode = {.dynamic = true, .policy_test = true};
        rc = build_link(rt, c_path, drv, bin, &mode, c->cc_flags, c->n_cc_flags);
    }
    if (rc == 0) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            execl(bin, bin, (char *)NULL);
            _exit(127);
        }
        int status = 0;
        while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        rc = pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0
             : pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 1 ? EXIT_POLICY
                                                                        : EXIT_INTERNAL;
    }
    unlink(bin);
    unlink(drv);
    if (c_path[0])
        unlink(c_path);
    rmdir(dir);
    return rc;
}

/* Replaces path's content with b: written beside it, then renamed over it,
 * so a failure leaves the old file whole. The file keeps its mode. */
static int replace_file(const char *path, const struct buf *b)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.rpx-fmt.tmp", path) >= (int)sizeof tmp) {
        fprintf(stderr, "rpx: path too long: '%s'\n", path);
        return EXIT_USAGE;
    }
    struct stat st;
    int rc = write_file(tmp, b);
    if (rc == 0 && stat(path, &st) == 0)
        chmod(tmp, st.st_mode & 07777);
    if (rc == 0 && rename(tmp, path) != 0) {
        fprintf(stderr, "rpx: cannot replace '%s': %s\n", path, strerror(errno));
        rc = EXIT_USAGE;
    }
    if (rc)
        unlink(tmp);
    return rc;
}

/* rpx fmt FILE [--check | -w] */
static int cmd_fmt(int argc, char **argv, const struct compile_opts *opts)
{
    const char *file = NULL;
    bool check = false, write = false;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--check") == 0)
            check = true;
        else if (strcmp(argv[i], "-w") == 0 || strcmp(argv[i], "--write") == 0)
            write = true;
        else if (argv[i][0] == '-' && argv[i][1])
            return usage_error("unknown option '%s'", argv[i]);
        else if (file)
            return usage_error("unexpected argument '%s'", argv[i]);
        else
            file = argv[i];
    }
    if (!file)
        return usage_error("'fmt' needs a policy file");
    if (check && write)
        return usage_error("'fmt' takes --check or -w, not both");
    struct compilation comp;
    if (compile_open(&comp, file) != 0) {
        fprintf(stderr, "rpx: cannot read '%s': %s\n", file, strerror(errno));
        return EXIT_USAGE;
    }
    int rc = 0;
    if (!compile_parse(&comp, opts, stderr)) {
        rc = EXIT_POLICY;
    } else {
        struct buf out = {0};
        fmt_policy(&out, &comp.src);
        const struct src_file *f = &comp.src.files[0];
        bool same = out.len == f->len && memcmp(out.data, comp.src.text + f->off, f->len) == 0;
        if (check) {
            if (!same) {
                fprintf(stderr, "%s: not formatted canonically (see rpx fmt %s)\n", file, file);
                rc = EXIT_POLICY;
            }
        } else if (write) {
            if (!same) /* an untouched file keeps its time */
                rc = replace_file(file, &out);
        } else if (out.len) {
            fwrite(out.data, 1, out.len, stdout);
        }
        buf_free(&out);
    }
    compile_free(&comp);
    return rc;
}

/* rpx explain FILE METHOD URL [--from IP] [--header H:V]... [--as-test]
 * rpx explain FILE --all-as-tests (the requests of its tests and one per
 * route, as test blocks expecting what explain decides: golden.sh appends
 * them to the policy and runs them against the compiled decision). */
static int cmd_explain(int argc, char **argv, struct compile_opts *opts)
{
    const char *pos[3] = {NULL, NULL, NULL};
    int n_pos = 0;
    const char *from = NULL;
    const char **headers = calloc((size_t)argc, sizeof *headers);
    if (!headers)
        rpx_oom();
    size_t n_headers = 0;
    bool as_test = false, all = false;
    int rc = 0;
    for (int i = 2; i < argc && rc == 0; i++) {
        const char *a = argv[i];
        if ((strcmp(a, "--from") == 0 || strcmp(a, "--header") == 0) && i + 1 == argc)
            rc = usage_error("'%s' needs an argument", a);
        else if (strcmp(a, "--from") == 0)
            from = argv[++i];
        else if (strcmp(a, "--header") == 0)
            headers[n_headers++] = argv[++i];
        else if (strcmp(a, "--as-test") == 0)
            as_test = true;
        else if (strcmp(a, "--all-as-tests") == 0)
            all = true;
        else if (strcmp(a, "--allow-shadowed") == 0)
            opts->allow_shadowed = true;
        else if (a[0] == '-' && a[1])
            rc = usage_error("unknown option '%s'", a);
        else if (n_pos == 3)
            rc = usage_error("unexpected argument '%s'", a);
        else
            pos[n_pos++] = a;
    }
    if (rc == 0 && (all ? n_pos != 1 : n_pos != 3))
        rc = usage_error(all ? "'explain --all-as-tests' takes a policy file"
                             : "'explain' needs a policy file, a method and a URL");
    struct explain_req rq = {pos[1], pos[2], from, headers, n_headers};
    if (rc == 0 && !all) {
        const char *why = explain_validate(&rq);
        if (why)
            rc = usage_error("%s", why);
    }
    if (rc) {
        free(headers);
        return rc;
    }
    struct compilation comp;
    if (compile_open(&comp, pos[0]) != 0) {
        fprintf(stderr, "rpx: cannot read '%s': %s\n", pos[0], strerror(errno));
        free(headers);
        return EXIT_USAGE;
    }
    if (!compile_run(&comp, opts, stderr)) {
        rc = EXIT_POLICY;
    } else {
        struct buf out = {0};
        if (all)
            explain_all_as_tests(&out, comp.ir, &comp.src);
        else if (as_test)
            explain_as_test(&out, comp.ir, &comp.src, &rq, "explain");
        else
            explain_request(&out, comp.ir, &comp.src, &rq);
        if (out.len)
            fwrite(out.data, 1, out.len, stdout);
        buf_free(&out);
    }
    compile_free(&comp);
    free(headers);
    return rc;
}

/* rpx diff OLD NEW: exit 0 same, 1 different, 2 trouble (as diff(1)). */
static int cmd_diff(int argc, char **argv, struct compile_opts *opts)
{
    const char *files[2] = {NULL, NULL};
    int n = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--allow-shadowed") == 0)
            opts->allow_shadowed = true;
        else if (argv[i][0] == '-' && argv[i][1])
            return usage_error("unknown option '%s'", argv[i]);
        else if (n == 2)
            return usage_error("unexpected argument '%s'", argv[i]);
        else
            files[n++] = argv[i];
    }
    if (n != 2)
        return usage_error("'diff' needs two policy files");
    struct compilation comp[2];
    int rc = 0, opened = 0;
    for (; opened < 2 && rc == 0; opened++) {
        if (compile_open(&comp[opened], files[opened]) != 0) {
            fprintf(stderr, "rpx: cannot read '%s': %s\n", files[opened], strerror(errno));
            rc = EXIT_USAGE;
            break;
        }
        if (!compile_run(&comp[opened], opts, stderr))
            rc = EXIT_USAGE;
    }
    if (rc == 0) {
        struct buf out = {0};
        unsigned changed = diff_policies(&out, comp[0].ir, &comp[0].src, comp[1].ir, &comp[1].src);
        fwrite(out.data, 1, out.len, stdout);
        buf_free(&out);
        rc = changed ? 1 : 0;
    }
    for (int i = 0; i < opened; i++)
        compile_free(&comp[i]);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage_error(NULL);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        puts("rpx " RPX_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof command_help / sizeof command_help[0]; i++)
        if (strcmp(argv[1], command_help[i].cmd) == 0)
            for (int k = 2; k < argc; k++)
                if (strcmp(argv[k], "--help") == 0 || strcmp(argv[k], "-h") == 0) {
                    fputs(command_help[i].text, stdout);
                    return 0;
                }
    char std_dir[PATH_MAX];
    struct compile_opts base = {0};
    if (build_find_std(std_dir, sizeof std_dir) == 0)
        base.std_dir = std_dir;
    if (strcmp(argv[1], "fmt") == 0)
        return cmd_fmt(argc, argv, &base);
    if (strcmp(argv[1], "explain") == 0)
        return cmd_explain(argc, argv, &base);
    if (strcmp(argv[1], "diff") == 0)
        return cmd_diff(argc, argv, &base);
    if (strcmp(argv[1], "check") != 0 && strcmp(argv[1], "emit") != 0 &&
        strcmp(argv[1], "build") != 0 && strcmp(argv[1], "test") != 0)
        return usage_error("unknown command '%s'", argv[1]);

    struct cli c = {0};
    c.cc_flags = calloc((size_t)argc, sizeof *c.cc_flags);
    if (!c.cc_flags)
        rpx_oom();
    int rc = cli_parse(&c, argc, argv);
    if (rc) {
        free(c.cc_flags);
        return rc;
    }

    c.opts.std_dir = base.std_dir;
    struct compilation comp;
    if (compile_open(&comp, c.file) != 0) {
        fprintf(stderr, "rpx: cannot read '%s': %s\n", c.file, strerror(errno));
        free(c.cc_flags);
        return EXIT_USAGE;
    }
    if (!compile_run(&comp, &c.opts, stderr)) {
        rc = EXIT_POLICY;
    } else if (strcmp(c.cmd, "emit") == 0) {
        char c_path[PATH_MAX];
        rc = emit_to_dir(&comp, c.file, c.out, c_path, sizeof c_path);
    } else if (strcmp(c.cmd, "build") == 0) {
        rc = cmd_build(&c, &comp);
    } else if (strcmp(c.cmd, "test") == 0) {
        rc = cmd_test(&c, &comp);
    }
    compile_free(&comp);
    free(c.cc_flags);
    return rc;
}
