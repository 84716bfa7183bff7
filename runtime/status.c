/* status.c: the status page, its JSON twin and the admin actions
 * (status.h). The page is one static document; its script reads the JSON
 * every second, so the numbers a person sees are those a script gets. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "limit.h"
#include "health.h"
#include "metrics.h"
#include "sock.h"
#include "status.h"
#include "text.h"
#include "worker.h"

/* ---- the JSON ------------------------------------------------------------------------------ */

static void by_class(struct rp_text *t, const struct rp_proc *proc, size_t field, size_t row,
                     uint64_t *total)
{
    rp_text_add(t, "{");
    *total = 0;
    for (unsigned c = 0; c < RP_METRICS_CLASSES; c++) {
        uint64_t v = rp_metrics_sum(proc, field, row * RP_METRICS_CLASSES + c);
        *total += v;
        rp_text_add(t, "%s\"%s\":%llu", c ? "," : "", rp_metrics_class_names[c], (unsigned long long)v);
    }
    rp_text_add(t, "}");
}

static const char *server_state(const struct rp_server_state *st)
{
    unsigned admin = atomic_load_explicit(&st->admin, memory_order_relaxed);
    if (admin == RP_ADMIN_MAINT)
        return "maint";
    if (admin == RP_ADMIN_DRAIN)
        return "drain";
    if (!atomic_load_explicit(&st->check_up, memory_order_relaxed))
        return "down";
    if (atomic_load_explicit(&st->down_until_ms, memory_order_relaxed))
        return "ejected";
    return "up";
}

static void json_listeners(struct rp_text *t, const struct rp_proc *proc)
{
    const struct rp_program *prog = proc->prog;
    rp_text_add(t, "\"listeners\":[");
    for (unsigned l = 0; l < proc->n_listeners; l++) {
        char shown[80] = "";
        const struct rp_worker *w = &proc->workers[0];
        for (unsigned k = 0; k < w->n_accepts; k++) {
            struct sockaddr_storage sa;
            socklen_t len = sizeof sa;
            if (w->accepts[k].listener == l && w->accepts[k].io.fd >= 0 &&
                getsockname(w->accepts[k].io.fd, (struct sockaddr *)&sa, &len) == 0) {
                rp_sock_format(&sa, shown, sizeof shown);
                break;
            }
        }
        const struct rp_listener_def *ld = l < prog->n_listeners ? &prog->listeners[l] : NULL;
        rp_text_add(t, "%s{\"address\":", l ? "," : "");
        rp_text_json(t, shown);
        rp_text_add(t, ",\"where\":");
        rp_text_json(t, ld ? ld->where : "--listen");
        rp_text_add(t, ",\"tls\":%s,\"tcp\":%s,\"connections\":%u}",
                    ld && ld->tls ? "true" : "false", ld && ld->tcp ? "true" : "false",
                    atomic_load_explicit(&proc->listener_conns[l], memory_order_relaxed));
    }
    rp_text_add(t, "]");
}

static void json_backends(struct rp_text *t, const struct rp_proc *proc)
{
    const struct rp_program *prog = proc->prog;
    rp_text_add(t, "\"backends\":[");
    uint32_t i = 0;
    for (uint32_t b = 0; b < prog->n_backends; b++) {
        const struct rp_backend_def *be = &prog->backends[b];
        rp_text_add(t, "%s{\"name\":", b ? "," : "");
        rp_text_json(t, be->name);
        rp_text_add(t, ",\"where\":");
        rp_text_json(t, be->where);
        rp_text_add(t, ",\"servers\":[");
        for (uint32_t s = 0; s < be->n_servers; s++, i++) {
            const struct rp_server_def *sd = &be->servers[s];
            const struct rp_server_state *st = &proc->server_state[b][s];
            char addr[128];
            rp_sock_format(&proc->server_addrs[b][s].sa, addr, sizeof addr);
            rp_text_add(t, "%s{\"name\":", s ? "," : "");
            rp_text_json(t, sd->name);
            rp_text_add(t, ",\"address\":");
            rp_text_json(t, addr);
            uint64_t requests;
            rp_text_add(t, ",\"state\":\"%s\",\"backup\":%s,\"weight\":%u,\"policy_weight\":%u,"
                           "\"active\":%u,\"transitions\":%u,\"by_class\":",
                        server_state(st), sd->backup ? "true" : "false",
                        atomic_load_explicit(&st->weight, memory_order_relaxed), sd->weight,
                        atomic_load_explicit(&st->active, memory_order_relaxed),
                        atomic_load_explicit(&st->transitions, memory_order_relaxed));
            by_class(t, proc, offsetof(struct rp_metrics, by_server), i, &requests);
            rp_text_add(t, ",\"requests\":%llu,\"time_s\":%.6f}", (unsigned long long)requests,
                        (double)rp_metrics_sum(proc, offsetof(struct rp_metrics, by_server_us),
                                               i) /
                            1e6);
        }
        rp_text_add(t, "],\"queued\":%llu}", rp_metrics_queued(proc, b));
    }
    rp_text_add(t, "]");
}

static void json_routes(struct rp_text *t, const struct rp_proc *proc, uint64_t *total)
{
    const struct rp_program *prog = proc->prog;
    rp_text_add(t, "\"routes\":[");
    *total = 0;
    for (uint32_t r = 0; r <= prog->n_routes; r++) {
        uint64_t n;
        rp_text_add(t, "%s{\"where\":", r ? "," : "");
        rp_text_json(t, r < prog->n_routes ? prog->routes[r].where : "");
        rp_text_add(t, ",\"label\":");
        rp_text_json(t, r < prog->n_routes ? (prog->routes[r].label ? prog->routes[r].label : "")
                                           : "(no route: 404)");
        rp_text_add(t, ",\"by_class\":");
        by_class(t, proc, offsetof(struct rp_metrics, by_route), r, &n);
        rp_text_add(t, ",\"requests\":%llu}", (unsigned long long)n);
        *total += n;
    }
    rp_text_add(t, "]");
}

static void json_cache(struct rp_text *t)
{
    struct rp_cache_counts cc;
    rp_cache_counts(&cc);
    rp_text_add(t,
                "\"cache\":{\"enabled\":%s,\"hits\":%llu,\"misses\":%llu,\"stale\":%llu,"
                "\"revalidated\":%llu,\"stored\":%llu,\"bypass\":%llu,\"objects\":%llu,"
                "\"bytes\":%llu}",
                rp_cache_format() ? "true" : "false", (unsigned long long)cc.hits,
                (unsigned long long)cc.misses, (unsigned long long)cc.stale,
                (unsigned long long)cc.revalidated, (unsigned long long)cc.stored,
                (unsigned long long)cc.bypass, (unsigned long long)cc.objects,
                (unsigned long long)cc.bytes);
}

/* Each limit: what it is, and what it refused, delayed and banned. */
static void json_limits(struct rp_text *t, const struct rp_proc *proc)
{
    const struct rp_program *prog = proc->prog;
    rp_text_add(t, "\"limits\":[");
    for (uint32_t i = 0; i < prog->n_limits && proc->limits; i++) {
        const struct rp_limit_def *l = prog->limits[i];
        struct rp_limit_counts lc;
        rp_limit_counts(proc->limits, l->index, &lc);
        rp_text_add(t, "%s{\"name\":", i ? "," : "");
        rp_text_json(t, l->name);
        rp_text_add(t, ",\"where\":");
        rp_text_json(t, l->where);
        const char *kind = l->concurrent ? "concurrent" : l->ban_ns ? "errors" : "rate";
        rp_text_add(t, ",\"kind\":\"%s\",\"shared\":%s,\"rejected\":%llu,\"delayed\":%llu,"
                       "\"bans\":%llu,\"evicted\":%llu}",
                    kind, l->redis_host ? "true" : "false", (unsigned long long)lc.rejected,
                    (unsigned long long)lc.delayed, (unsigned long long)lc.bans,
                    (unsigned long long)lc.evicted);
    }
    rp_text_add(t, "]");
}

static char *status_json(const struct rp_proc *proc, bool admin, size_t *len)
{
    const struct rp_program *prog = proc->prog;
    struct rp_text t;
    rp_text_init(&t, 8192);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    double now_s = (double)now.tv_sec + now.tv_nsec / 1e9;
    rp_text_add(&t, "{\"proxy\":{\"version\":");
    rp_text_json(&t, RPX_VERSION);
    rp_text_add(&t, ",\"policy\":");
    rp_text_json(&t, prog->source);
    rp_text_add(&t, ",\"policy_hash\":");
    rp_text_json(&t, prog->policy_hash ? prog->policy_hash : "");
    rp_text_add(&t, ",\"pid\":%d,\"workers\":%u,\"time\":%.3f,\"uptime_s\":%.3f,\"admin\":%s},",
                (int)getpid(), proc->n_workers, now_s,
                proc->start_time > 0 ? now_s - proc->start_time : 0.0, admin ? "true" : "false");
    json_listeners(&t, proc);
    rp_text_add(&t, ",");
    json_backends(&t, proc);
    rp_text_add(&t, ",");
    uint64_t requests;
    json_routes(&t, proc, &requests);
    rp_text_add(&t, ",");
    json_cache(&t);
    rp_text_add(&t, ",");
    json_limits(&t, proc);
    rp_text_add(&t,
                ",\"totals\":{\"requests\":%llu,\"connections\":%u,\"bytes_in\":%llu,"
                "\"bytes_out\":%llu,\"retries\":%llu,\"time_s\":%.6f}}\n",
                (unsigned long long)requests,
                atomic_load_explicit(&proc->n_client_conns, memory_order_relaxed),
                (unsigned long long)rp_metrics_sum_scalar(proc,
                                                          offsetof(struct rp_metrics, bytes_in)),
                (unsigned long long)rp_metrics_sum_scalar(proc,
                                                          offsetof(struct rp_metrics, bytes_out)),
                (unsigned long long)rp_metrics_sum_scalar(proc,
                                                          offsetof(struct rp_metrics, retries)),
                (double)rp_metrics_sum_scalar(proc, offsetof(struct rp_metrics, latency_sum_us)) /
                    1e6);
    return rp_text_take(&t, len);
}

/* ---- admin actions ------------------------------------------------------------------------ */

/* The next path segment of [*p, end): its bounds, and *p past it. */
static bool segment(const char **p, const char *end, const char **s, size_t *n)
{
    if (*p >= end || **p != '/')
        return false;
    const char *q = ++*p;
    while (q < end && *q != '/')
        q++;
    *s = *p;
    *n = (size_t)(q - *p);
    *p = q;
    return *n > 0;
}

static bool seg_is(const char *s, size_t n, const char *word)
{
    return n == strlen(word) && memcmp(s, word, n) == 0;
}

/* Where an admin action's part of the path starts: the last "/server/" or
 * a "/cache/purge" ending; NULL when the path names none. */
static const char *admin_part(const char *path, size_t n)
{
    static const char srv[] = "/server/", purge[] = "/cache/purge";
    if (n >= sizeof purge - 1 && memcmp(path + n - (sizeof purge - 1), purge, sizeof purge - 1) == 0)
        return path + n - (sizeof purge - 1);
    const char *found = NULL;
    for (const char *p = path; (p = memmem(p, (size_t)(path + n - p), srv, sizeof srv - 1));
         p++)
        found = p;
    return found;
}

static int answer_text(struct rp_status_answer *out, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int answer_text(struct rp_status_answer *out, int status, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (k < 0)
        k = 0;
    if ((size_t)k >= sizeof buf)
        k = sizeof buf - 1;
    out->status = status;
    out->content_type = "text/plain; charset=utf-8";
    out->owned = malloc((size_t)k + 1);
    if (!out->owned)
        return -1;
    memcpy(out->owned, buf, (size_t)k + 1);
    out->body = out->owned;
    out->len = (size_t)k;
    return 0;
}

static const char *const admin_names[] = {"ready", "draining", "disabled"};

/* POST .../server/B/S/ACTION[/ARG] and POST .../cache/purge */
static int admin_action(struct rp_proc *proc, const char *p, const char *end,
                        struct rp_status_answer *out)
{
    const struct rp_program *prog = proc->prog;
    const char *s1, *s2, *s3, *s4, *s5 = NULL;
    size_t n1, n2, n3, n4, n5 = 0;
    if (!segment(&p, end, &s1, &n1))
        return answer_text(out, 404, "no such admin action\n");
    if (seg_is(s1, n1, "cache")) {
        uint64_t n = rp_cache_purge_everything();
        rp_info("status admin: cache purged (%llu objects)", (unsigned long long)n);
        return answer_text(out, 200, "purged %llu\n", (unsigned long long)n);
    }
    if (!segment(&p, end, &s2, &n2) || !segment(&p, end, &s3, &n3) ||
        !segment(&p, end, &s4, &n4))
        return answer_text(out, 404, "the form is .../server/BACKEND/SERVER/drain|disable|"
                                     "enable or .../weight/N\n");
    bool has_arg = segment(&p, end, &s5, &n5);
    if (p != end)
        return answer_text(out, 404, "no such admin action\n");
    uint32_t b, s;
    if (!rp_server_find(prog, s2, n2, s3, n3, &b, &s))
        return answer_text(out, 404, "no server %.*s/%.*s\n", (int)(n2 > 64 ? 64 : n2), s2,
                           (int)(n3 > 64 ? 64 : n3), s3);
    const char *bname = prog->backends[b].name, *sname = prog->backends[b].servers[s].name;
    struct rp_server_state *st = &proc->server_state[b][s];
    int admin;
    if (seg_is(s4, n4, "drain") && !has_arg) {
        admin = RP_ADMIN_DRAIN;
    } else if (seg_is(s4, n4, "disable") && !has_arg) {
        admin = RP_ADMIN_MAINT;
    } else if (seg_is(s4, n4, "enable") && !has_arg) {
        admin = RP_ADMIN_READY;
    } else if (seg_is(s4, n4, "weight") && has_arg) {
        char num[8];
        char *e;
        if (n5 >= sizeof num)
            return answer_text(out, 400, "a weight is 0 to 256\n");
        memcpy(num, s5, n5);
        num[n5] = '\0';
        long v = strtol(num, &e, 10);
        if (*e || v < 0 || v > 256)
            return answer_text(out, 400, "a weight is 0 to 256\n");
        atomic_store(&st->weight, (unsigned)v);
        rp_info("status admin: server %s/%s weight %ld", bname, sname, v);
        return answer_text(out, 200, "server %s/%s weight %ld\n", bname, sname, v);
    } else {
        return answer_text(out, 404, "no such admin action: drain, disable, enable, weight/N\n");
    }
    atomic_store(&st->admin, (unsigned char)admin);
    rp_info("status admin: server %s/%s is %s", bname, sname, admin_names[admin]);
    return answer_text(out, 200, "server %s/%s is %s\n", bname, sname, admin_names[admin]);
}

/* ---- the page ------------------------------------------------------------------------------- */

extern const char rp_status_page[];
extern const size_t rp_status_page_len;

static bool wants_json(const struct rp_http1_request *req)
{
    if (req->query && memmem(req->query, req->query_len, "format=json", 11))
        return true;
    for (uint32_t i = 0; i < req->n_headers; i++)
        if (rp_http1_name_is(&req->headers[i], "accept", 6) &&
            memmem(req->headers[i].value, req->headers[i].value_len, "application/json", 16))
            return true;
    return false;
}

int rp_status_answer(struct rp_proc *proc, const struct rp_http1_request *req, bool admin,
                     struct rp_status_answer *out)
{
    memset(out, 0, sizeof *out);
    out->extra = "Cache-Control: no-store\r\n";
    bool get = (req->method_len == 3 && memcmp(req->method, "GET", 3) == 0) ||
               (req->method_len == 4 && memcmp(req->method, "HEAD", 4) == 0);
    bool post = req->method_len == 4 && memcmp(req->method, "POST", 4) == 0;
    const char *part = admin_part(req->path, req->path_len);
    if (post && part) {
        if (!admin)
            return answer_text(out, 403, "admin actions need `status admin` in the policy\n");
        return admin_action(proc, part, req->path + req->path_len, out);
    }
    if (!get || part) {
        out->extra = part ? "Allow: POST\r\nCache-Control: no-store\r\n"
                          : "Allow: GET, HEAD\r\nCache-Control: no-store\r\n";
        return answer_text(out, 405, part ? "admin actions are POSTs\n"
                                          : "the status page answers GET and HEAD\n");
    }
    if (wants_json(req)) {
        out->status = 200;
        out->content_type = "application/json";
        out->body = out->owned = status_json(proc, admin, &out->len);
        return out->owned ? 0 : -1;
    }
    out->status = 200;
    out->content_type = "text/html; charset=utf-8";
    out->body = rp_status_page;
    out->len = rp_status_page_len;
    return 0;
}
