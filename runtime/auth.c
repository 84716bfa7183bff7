/* auth.c: Basic authentication against user files (auth.h). */
#include <crypt.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "base64.h"
#include "hash.h"
#include "log.h"

/* ---- user files ------------------------------------------------------------ */

struct user {
    const char *name, *hash; /* into the file's text, NUL-terminated */
    uint32_t name_len;
};

/* One generation of a file's users, sorted by name. */
struct users {
    char *text;
    struct user *u;
    size_t n;
    uint64_t generation;
};

struct auth_file {
    const struct rp_auth_basic_def *def;
    _Atomic(struct users *) cur;
    struct users *old; /* the generation before: out of use by the next reload */
};

static struct auth_file *files;
static uint32_t n_files;
static _Atomic uint64_t generations;

bool rp_auth_hash_usable(const char *hash)
{
    int r = crypt_checksalt(hash);
    return r == CRYPT_SALT_OK || (r == CRYPT_SALT_METHOD_LEGACY && strncmp(hash, "$5$", 3) == 0);
}

static int by_name(const void *a, const void *b)
{
    const struct user *x = a, *y = b;
    uint32_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp(x->name, y->name, n);
    return c ? c : (x->name_len > y->name_len) - (x->name_len < y->name_len);
}

static void users_free(struct users *us)
{
    if (!us)
        return;
    free(us->text);
    free(us->u);
    free(us);
}

unsigned rp_auth_users_each(char *text, void (*entry)(void *ctx, unsigned lineno, char *user,
                                                      char *hash),
                            void *ctx)
{
    unsigned lineno = 0;
    for (char *line = text; line && *line;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        size_t n = strlen(line);
        if (n && line[n - 1] == '\r')
            line[--n] = '\0';
        if (n && line[0] != '#') {
            char *colon = strchr(line, ':');
            if (colon && colon != line) {
                *colon = '\0';
                entry(ctx, lineno, line, colon + 1);
            } else {
                entry(ctx, lineno, NULL, line);
            }
        }
        line = next;
    }
    return lineno;
}

struct load_ctx {
    const struct rp_auth_basic_def *def;
    struct users *us;
};

static void load_entry(void *ctx, unsigned lineno, char *user, char *hash)
{
    struct load_ctx *lc = ctx;
    if (!user || !rp_auth_hash_usable(hash)) {
        rp_warn("auth %s: %s:%u: not 'user:hash' with a hash libcrypt takes; skipped",
                lc->def->where, lc->def->file, lineno);
        return;
    }
    lc->us->u[lc->us->n++] = (struct user){user, hash, (uint32_t)strlen(user)};
}

/* Reads a user file. Lines: "user:hash"; blank lines and '#' comments are
 * skipped; a hash libcrypt would not take is skipped with a warning (the
 * compiler refused it already: the file changed since). */
static struct users *users_load(const struct rp_auth_basic_def *def, char *err, size_t cap)
{
    FILE *f = fopen(def->file, "rb");
    if (!f) {
        snprintf(err, cap, "%s: %s", def->file, strerror(errno));
        return NULL;
    }
    struct users *us = calloc(1, sizeof *us);
    size_t len = 0, size = 4096;
    char *text = malloc(size + 1);
    size_t got;
    while (text && (got = fread(text + len, 1, size - len, f)) > 0) {
        len += got;
        if (len == size) {
            char *more = size < (64u << 20) ? realloc(text, 2 * size + 1) : NULL;
            if (!more) {
                free(text);
                text = NULL;
                break;
            }
            text = more;
            size *= 2;
        }
    }
    bool failed = ferror(f);
    fclose(f);
    if (!us || !text || failed) {
        snprintf(err, cap, "%s: %s", def->file, failed ? "read error" : "out of memory");
        free(text);
        free(us);
        return NULL;
    }
    text[len] = '\0';
    us->text = text;
    size_t lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    us->u = calloc(lines, sizeof *us->u);
    if (!us->u) {
        users_free(us);
        snprintf(err, cap, "%s: out of memory", def->file);
        return NULL;
    }
    struct load_ctx lc = {def, us};
    rp_auth_users_each(text, load_entry, &lc);
    qsort(us->u, us->n, sizeof *us->u, by_name);
    us->generation = atomic_fetch_add(&generations, 1) + 1;
    return us;
}

int rp_auth_load(const struct rp_program *prog)
{
    if (!prog->n_auths)
        return 0;
    files = calloc(prog->n_auths, sizeof *files);
    if (!files)
        return -1;
    n_files = prog->n_auths;
    for (uint32_t i = 0; i < n_files; i++) {
        char err[512];
        files[i].def = prog->auths[i];
        struct users *us = users_load(prog->auths[i], err, sizeof err);
        if (!us) {
            rp_error("auth %s: %s", prog->auths[i]->where, err);
            return -1;
        }
        atomic_store(&files[i].cur, us);
    }
    return 0;
}

void rp_auth_reload(void)
{
    for (uint32_t i = 0; i < n_files; i++) {
        struct auth_file *af = &files[i];
        char err[512];
        struct users *us = users_load(af->def, err, sizeof err);
        if (!us) {
            rp_warn("auth %s: reload failed, the users in use stay: %s", af->def->where, err);
            continue;
        }
        /* a check holds a generation for one lookup: the one before the
         * last reload is long out of use */
        users_free(af->old);
        af->old = atomic_exchange(&af->cur, us);
        rp_info("auth %s: %zu user%s reloaded from %s", af->def->where, us->n,
                us->n == 1 ? "" : "s", af->def->file);
    }
}

void rp_auth_shutdown(void)
{
    for (uint32_t i = 0; i < n_files; i++) {
        users_free(files[i].old);
        users_free(atomic_load(&files[i].cur));
    }
    free(files);
    files = NULL;
    n_files = 0;
}

bool rp_auth_files(void)
{
    return n_files > 0;
}

static const struct user *user_find(const struct users *us, const char *name, uint32_t len)
{
    struct user key = {name, NULL, len};
    return bsearch(&key, us->u, us->n, sizeof *us->u, by_name);
}

/* ---- the credential cache ---------------------------------------------------- */

#define CACHE_SLOTS 256
#define CRED_MAX 128    /* longer credentials are verified every time */
#define CACHE_TTL_S 30.0

struct cached {
    uint64_t generation; /* of the users it was checked against; 0: empty */
    uint32_t file;
    double expires;
    enum rp_auth_verdict verdict;
    uint32_t len;
    unsigned char cred[CRED_MAX]; /* "user:password" as decoded */
};

struct rp_auth_cache {
    struct cached slot[CACHE_SLOTS];
    struct crypt_data cd; /* crypt_r's scratch (tens of KB: once per worker) */
};

struct rp_auth_cache *rp_auth_cache_new(void)
{
    return calloc(1, sizeof(struct rp_auth_cache));
}

void rp_auth_cache_free(struct rp_auth_cache *c)
{
    if (c)
        explicit_bzero(c, sizeof *c);
    free(c);
}

/* ---- checking ----------------------------------------------------------------- */

const char *rp_auth_reason(enum rp_auth_verdict v)
{
    switch (v) {
    case RP_AUTH_OK: return "done";
    case RP_AUTH_MISSING: return "auth: no credentials";
    case RP_AUTH_MALFORMED: return "auth: malformed credentials";
    case RP_AUTH_UNKNOWN: return "auth: unknown user";
    case RP_AUTH_WRONG: return "auth: wrong password";
    }
    return "auth";
}

/* libcrypt's verdict on a password against a hash. */
static bool password_matches(struct rp_auth_cache *cache, const char *password, const char *hash)
{
    const char *out = crypt_r(password, hash, &cache->cd);
    size_t n = strlen(hash);
    return out && out[0] != '*' && strlen(out) == n &&
           rp_equal_ct((const unsigned char *)out, (const unsigned char *)hash, n);
}

enum rp_auth_verdict rp_auth_basic_check(const struct rp_auth_basic_def *def, const char *field,
                                         uint32_t field_len, struct rp_auth_cache *cache,
                                         double now, char *user)
{
    user[0] = '\0';
    /* credentials = "Basic" 1*SP token68 (RFC 7617; the scheme's case
     * does not matter) */
    if (!field || field_len < 6 || strncasecmp(field, "basic ", 6) != 0)
        return RP_AUTH_MISSING;
    const char *p = field + 6, *end = field + field_len;
    while (p < end && *p == ' ')
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    unsigned char cred[512];
    int n = rp_base64_decode(p, (size_t)(end - p), cred, sizeof cred - 1);
    const unsigned char *colon = n > 0 ? memchr(cred, ':', (size_t)n) : NULL;
    if (!colon)
        return RP_AUTH_MALFORMED;
    size_t ulen = (size_t)(colon - cred);
    for (size_t i = 0; i < (size_t)n; i++)
        if (cred[i] < 0x20 || cred[i] == 0x7f)
            return RP_AUTH_MALFORMED; /* no control characters in either (RFC 7617 2) */
    size_t shown = ulen < RP_AUTH_USER_MAX - 1 ? ulen : RP_AUTH_USER_MAX - 1;
    memcpy(user, cred, shown);
    user[shown] = '\0';
    struct auth_file *af = &files[def->index];
    struct users *us = atomic_load_explicit(&af->cur, memory_order_acquire);

    struct cached *slot = NULL;
    if ((size_t)n <= CRED_MAX) {
        uint64_t h = rp_hash_bytes(cred, (size_t)n, def->index);
        slot = &cache->slot[h % CACHE_SLOTS];
        if (slot->generation == us->generation && slot->file == def->index &&
            slot->len == (uint32_t)n && now < slot->expires && rp_equal_ct(slot->cred, cred, (size_t)n))
            return slot->verdict;
    }
    cred[n] = '\0';
    const struct user *u = user_find(us, (const char *)cred, (uint32_t)ulen);
    enum rp_auth_verdict v;
    if (!u) {
        /* the same work as for a user who exists, so that response times
         * do not tell which names do */
        if (us->n)
            password_matches(cache, (const char *)colon + 1, us->u[0].hash);
        v = RP_AUTH_UNKNOWN;
    } else {
        v = password_matches(cache, (const char *)colon + 1, u->hash) ? RP_AUTH_OK : RP_AUTH_WRONG;
    }
    if (slot) {
        slot->generation = us->generation;
        slot->file = def->index;
        slot->expires = now + CACHE_TTL_S;
        slot->verdict = v;
        slot->len = (uint32_t)n;
        memcpy(slot->cred, cred, (size_t)n);
    }
    explicit_bzero(cred, sizeof cred);
    return v;
}
