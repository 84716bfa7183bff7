/* main.c: the proxy's main(). The policy is compiled in (rp_program); the
 * command line only says how to run it. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "accesslog.h"
#include "auth.h"
#include "jwt.h"
#include "cache.h"
#include "health.h"
#include "limit.h"
#include "log.h"
#include "rp/match.h"
#include "sock.h"
#include "tls.h"
#include "transport.h"
#include "steps.h"
#include "upgrade.h"
#include "worker.h"

#define RP_MAX_LISTEN_OVERRIDES 16

static void usage(FILE *out, const char *argv0)
{
    fprintf(out,
            "usage: %s [options]\n"
            "A reverse proxy built by rpx from %s.\n"
            "\n"
            "  -w, --workers N       worker threads (default: the policy's, else one per core)\n"
            "  -l, --listen ADDR     listen on ADDR (HOST:PORT, :PORT or [V6]:PORT) instead\n"
            "                        of the policy's listeners; repeatable; port 0 = any\n"
            "  -p, --port-file FILE  write the first listener's port to FILE once listening\n"
            "  -c, --control PATH    answer upgrades on the UNIX socket PATH\n"
            "  -u, --upgrade-from PATH\n"
            "                        take over from the proxy whose control socket is PATH:\n"
            "                        its listening sockets, servers' health and cache\n"
            "  -q, --quiet           log errors and warnings only\n"
            "  -v, --verbose         log debugging detail\n"
            "  -V, --version         print the version and the policy's name\n"
            "  -h, --help            this text\n",
            argv0, rp_program.source);
}

/* The runtime's defaults, then what the policy sets (rp_settings: 0 keeps
 * the default). */
static void configure(struct rp_config *cfg, const struct rp_settings *set)
{
    cfg->req_limits = (struct rp_http1_limits){
        .max_uri = 8192, .max_head = RP_HEAD_MAX, .max_headers = RP_HTTP1_MAX_HEADERS};
    cfg->resp_limits = cfg->req_limits;
    cfg->client_header_timeout = 10;
    cfg->client_idle_timeout = 60;
    cfg->client_body_timeout = 60;
    cfg->connect_timeout = 5;
    cfg->backend_timeout = 60;
    cfg->drain_timeout = 30;
    cfg->upstream_idle_timeout = 30;
    cfg->upstream_max_idle = 64;
    cfg->max_body = 0;
    cfg->h2_streams = 100;
    cfg->h2_window = 65535;
    cfg->h2_frame = 16384;
    if (!set)
        return;
#define MS(field, into)                                                                            \
    if (set->field)                                                                                \
        cfg->into = set->field / 1000.0;
    MS(client_header_ms, client_header_timeout)
    MS(client_idle_ms, client_idle_timeout)
    MS(client_body_ms, client_body_timeout)
    MS(connect_ms, connect_timeout)
    MS(backend_ms, backend_timeout)
    MS(drain_ms, drain_timeout)
    MS(tunnel_ms, tunnel_timeout)
#undef MS
    /* A head must fit in one buffer: the compiler refuses larger limits. */
    if (set->header_size && set->header_size <= RP_HEAD_MAX)
        cfg->req_limits.max_head = set->header_size;
    if (set->header_count && set->header_count < RP_HTTP1_MAX_HEADERS)
        cfg->req_limits.max_headers = set->header_count;
    if (set->uri_length && set->uri_length < cfg->req_limits.max_head)
        cfg->req_limits.max_uri = set->uri_length;
    cfg->max_body = set->body_size;
    if (set->http2_streams)
        cfg->h2_streams = set->http2_streams;
    if (set->http2_window)
        cfg->h2_window = set->http2_window;
    if (set->http2_frame)
        cfg->h2_frame = set->http2_frame;
}

/* Raises the soft descriptor limit to the hard one, as nginx's
 * worker_rlimit_nofile and HAProxy do: the soft default (often 1024) is a
 * compatibility setting for select(), not a budget for a proxy. Returns the
 * limit in force. */
static rlim_t raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return 1024;
    if (rl.rlim_cur < rl.rlim_max) {
        struct rlimit want = rl;
        /* An unlimited hard limit cannot be the soft one; the kernel's
         * per-process ceiling can. */
        if (want.rlim_max == RLIM_INFINITY)
            want.rlim_max = 1048576;
        want.rlim_cur = want.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &want) == 0)
            rl.rlim_cur = want.rlim_cur;
    }
    return rl.rlim_cur == RLIM_INFINITY ? 1048576 : rl.rlim_cur;
}

/* The connection and memory limits: the policy's, else derived from the
 * descriptor limit (each client may hold a server connection too; a
 * reserve stays for listeners, health checks and pooled server
 * connections) and from the machine's memory (a quarter of it). */
static void configure_limits(struct rp_config *cfg, const struct rp_settings *set,
                             const struct rp_program *prog, unsigned n_workers)
{
    rlim_t nofile = raise_fd_limit();
    rlim_t reserve = 32 + 4 * (rlim_t)n_workers;
    for (uint32_t b = 0; b < prog->n_backends; b++)
        reserve += prog->backends[b].n_servers * (1 + n_workers); /* checks, pool */
    if (reserve > nofile / 4)
        reserve = nofile / 4;
    rlim_t conns = (nofile - reserve) / 2;
    cfg->max_conns = conns < 1 ? 1 : conns > 10000000 ? 10000000 : (uint32_t)conns;
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    cfg->max_buf_bytes = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page / 4
                                               : UINT64_C(1) << 30;
    if (set && set->connections)
        cfg->max_conns = set->connections;
    if (set && set->memory)
        cfg->max_buf_bytes = set->memory;
    if (set && set->connections && (rlim_t)set->connections * 2 + reserve > nofile)
        rp_warn("limits { connections %u } needs about %llu descriptors with their server "
                "connections; the limit is %llu",
                set->connections, (unsigned long long)(set->connections * 2ull + reserve),
                (unsigned long long)nofile);
    rp_debug("descriptor limit %llu: at most %u client connections, %llu MB of buffers",
             (unsigned long long)nofile, cfg->max_conns,
             (unsigned long long)(cfg->max_buf_bytes >> 20));
}

static int write_port_file(const char *path, unsigned port)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%u\n", port) < 0 || fclose(f) != 0 || rename(tmp, path) < 0) {
        rp_error("cannot write port file %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Resolves every server address once, before any worker starts. */
static int resolve_servers(struct rp_proc *proc)
{
    const struct rp_program *prog = proc->prog;
    proc->server_addrs = calloc(prog->n_backends ? prog->n_backends : 1, sizeof(void *));
    if (!proc->server_addrs)
        return -1;
    for (uint32_t b = 0; b < prog->n_backends; b++) {
        const struct rp_backend_def *be = &prog->backends[b];
        proc->server_addrs[b] = calloc(be->n_servers, sizeof(struct rp_server_addr));
        if (!proc->server_addrs[b])
            return -1;
        for (uint32_t s = 0; s < be->n_servers; s++) {
            struct rp_server_addr *a = &proc->server_addrs[b][s];
            if (rp_sock_addr(be->servers[s].host, be->servers[s].port, &a->sa, &a->len) < 0) {
                rp_error("server %s/%s: bad address %s (%s)", be->name, be->servers[s].name,
                         be->servers[s].host, be->servers[s].where);
                return -1;
            }
        }
    }
    return 0;
}

/* The shared health state and, for `balance hash`, the rings. */
static int prepare_backends(struct rp_proc *proc)
{
    if (rp_health_init(proc) < 0)
        return -1;
    const struct rp_program *prog = proc->prog;
    proc->rings = calloc(prog->n_backends ? prog->n_backends : 1, sizeof *proc->rings);
    if (!proc->rings)
        return -1;
    for (uint32_t b = 0; b < prog->n_backends; b++)
        if (prog->backends[b].balance == RP_BALANCE_HASH &&
            rp_ring_build(&proc->rings[b], &prog->backends[b]) < 0)
            return -1;
    return 0;
}

static void proc_free(struct rp_proc *proc)
{
    if (proc->rings)
        for (uint32_t b = 0; b < proc->prog->n_backends; b++)
            rp_ring_free(&proc->rings[b]);
    free(proc->rings);
    rp_health_free(proc, NULL); /* rp_proc_run frees it when it ran */
    if (proc->server_addrs)
        for (uint32_t b = 0; b < proc->prog->n_backends; b++)
            free(proc->server_addrs[b]);
    free(proc->server_addrs);
    free(proc->workers);
    free(proc->listener_conns);
    free(proc->listener_max);
    rp_limits_free(proc->limits);
    rp_key_counts_free(proc->client_conns);
    rp_tls_teardown();
}

/* A proxy resolves no name at run time: rpx resolved every address at
 * build time. BoringSSL's socket BIO (linked through SSL_set_fd, never used:
 * rpx gives BoringSSL its own BIO) and hiredis refer to getaddrinfo, which
 * would pull glibc's resolver, and NSS's shared libraries with it, into a
 * static binary. These definitions, in the object that holds main so they
 * are always linked, answer that reference instead: numeric addresses are
 * read as they are, a name is refused; the binary stays self-contained. */
int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res)
{
    /* Numeric addresses only, as hiredis asks for the Redis of a shared
     * limit (numeric, checked by rpx): no lookup, no NSS. */
    *res = NULL;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    char *end;
    unsigned long port = service ? strtoul(service, &end, 10) : 0;
    if (!node || (service && (*end || port > 65535)))
        return EAI_NONAME;
    socklen_t len;
    int family;
    struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, node, &in4->sin_addr) == 1) {
        family = in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        len = sizeof *in4;
    } else if (inet_pton(AF_INET6, node, &in6->sin6_addr) == 1) {
        family = in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        len = sizeof *in6;
    } else {
        return EAI_NONAME;
    }
    if (hints && hints->ai_family != AF_UNSPEC && hints->ai_family != family)
        return EAI_FAMILY;
    struct addrinfo *ai = calloc(1, sizeof *ai + sizeof ss);
    if (!ai)
        return EAI_MEMORY;
    ai->ai_family = family;
    ai->ai_socktype = hints && hints->ai_socktype ? hints->ai_socktype : SOCK_STREAM;
    ai->ai_protocol = hints ? hints->ai_protocol : 0;
    ai->ai_addrlen = len;
    ai->ai_addr = (struct sockaddr *)(ai + 1);
    memcpy(ai->ai_addr, &ss, len);
    *res = ai;
    return 0;
}

void freeaddrinfo(struct addrinfo *res)
{
    while (res) {
        struct addrinfo *next = res->ai_next;
        free(res);
        res = next;
    }
}

const char *gai_strerror(int code)
{
    (void)code;
    return "names are not resolved at run time (rpx resolves them at build time)";
}

/* What this binary is: the rpx that built it, the policy (its file and the
 * hash of its canonical form, as `rpx explain` shows it) and how it was
 * built. */
static void print_version(void)
{
    printf("rpx proxy %s\npolicy: %s %s\nbuild: %s\n", RPX_VERSION, rp_program.source,
           rp_program.policy_hash ? rp_program.policy_hash : "?",
           rp_program.build_flags && *rp_program.build_flags ? rp_program.build_flags
                                                             : "by hand (not rpx build)");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"workers", required_argument, NULL, 'w'}, {"listen", required_argument, NULL, 'l'},
        {"port-file", required_argument, NULL, 'p'}, {"quiet", no_argument, NULL, 'q'},
        {"control", required_argument, NULL, 'c'}, {"upgrade-from", required_argument, NULL, 'u'},
        {"verbose", no_argument, NULL, 'v'},       {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
    struct rp_proc proc = {.prog = &rp_program};
    const struct rp_settings *set = rp_program.settings;
    long workers = set && set->workers && set->workers != RP_WORKERS_AUTO ? (long)set->workers : 0;
    const char *listen[RP_MAX_LISTEN_OVERRIDES];
    unsigned n_listen = 0;
    const char *port_file = NULL, *control = NULL, *upgrade_from = NULL;
    int o;
    rp_upgrade_remember(argc, argv);
    while ((o = getopt_long(argc, argv, "w:l:p:c:u:qvVh", opts, NULL)) != -1) {
        switch (o) {
        case 'w': {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (*end || n < 1 || n > 256) {
                fprintf(stderr, "%s: --workers wants 1..256, not '%s'\n", argv[0], optarg);
                return 2;
            }
            workers = n;
            break;
        }
        case 'l':
            if (n_listen == RP_MAX_LISTEN_OVERRIDES) {
                fprintf(stderr, "%s: at most %d --listen\n", argv[0], RP_MAX_LISTEN_OVERRIDES);
                return 2;
            }
            listen[n_listen++] = optarg;
            break;
        case 'p': port_file = optarg; break;
        case 'c': control = optarg; break;
        case 'u': upgrade_from = optarg; break;
        case 'q': rp_log_max = RP_LOG_WARN; break;
        case 'v': rp_log_max = RP_LOG_DEBUG; break;
        case 'V': print_version(); return 0;
        case 'h': usage(stdout, argv[0]); return 0;
        default: usage(stderr, argv[0]); return 2;
        }
    }
    if (optind < argc) {
        usage(stderr, argv[0]);
        return 2;
    }
    if (rp_program.abi != RP_PROGRAM_ABI) {
        fprintf(stderr, "%s: built for runtime ABI %u, this runtime is %u: rebuild with rpx\n",
                argv[0], rp_program.abi, RP_PROGRAM_ABI);
        return 70;
    }
    uint32_t bad_route = rp_steps_unknown(&rp_program);
    if (bad_route != RP_NO_ROUTE) {
        fprintf(stderr, "%s: route %s has a step this runtime does not know: rebuild with rpx\n",
                argv[0], rp_program.routes[bad_route].where);
        return 70;
    }
    for (uint32_t i = 0; i < rp_program.n_ip_indexes; i++)
        rp_ip_index_build(rp_program.ip_indexes[i]);
    /* A peer that closes while we write must not kill the process. */
    signal(SIGPIPE, SIG_IGN);
    configure(&proc.cfg, set);
    rp_transport_setup();
    if (workers == 0) /* auto: one per core */
        workers = sysconf(_SC_NPROCESSORS_ONLN) > 0 ? sysconf(_SC_NPROCESSORS_ONLN) : 1;
    proc.n_workers = (unsigned)workers;
    /* The Via line every relayed head ends with (just the CRLF when off). */
    const char *via = rp_program.via ? rp_program.via : "rpx";
    int n10 = *via ? snprintf(proc.via_end10, sizeof proc.via_end10, "Via: 1.0 %s\r\n\r\n", via)
                   : snprintf(proc.via_end10, sizeof proc.via_end10, "\r\n");
    int n11 = *via ? snprintf(proc.via_end11, sizeof proc.via_end11, "Via: 1.1 %s\r\n\r\n", via)
                   : snprintf(proc.via_end11, sizeof proc.via_end11, "\r\n");
    int n2 = *via ? snprintf(proc.via_end2, sizeof proc.via_end2, "Via: 2 %s\r\n\r\n", via)
                  : snprintf(proc.via_end2, sizeof proc.via_end2, "\r\n");
    proc.via_default = !rp_program.via;
    proc.via_end10_len = (uint8_t)n10;
    proc.via_end11_len = (uint8_t)n11;
    proc.via_end2_len = (uint8_t)n2;
    /* Request ids: random per process, so ids stay unique across restarts. */
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed)
        seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    snprintf(proc.id_prefix, sizeof proc.id_prefix, "%012llx",
             (unsigned long long)(seed & 0xffffffffffffull));
    configure_limits(&proc.cfg, set, &rp_program, proc.n_workers);
    struct timespec started;
    clock_gettime(CLOCK_REALTIME, &started);
    proc.start_time = (double)started.tv_sec + started.tv_nsec / 1e9;
    int status = 1;
    proc.workers = calloc(proc.n_workers, sizeof *proc.workers);
    if (!proc.workers || resolve_servers(&proc) < 0 || prepare_backends(&proc) < 0 ||
        rp_tls_setup(&rp_program) < 0)
        goto out;
    if (rp_cache_init(&rp_program) < 0) {
        rp_error("no memory for the cache");
        goto out;
    }
    if (set->connections_per_client &&
        !(proc.client_conns = rp_key_counts_new(proc.cfg.max_conns > 65536 ? proc.cfg.max_conns : 65536))) {
        rp_error("no memory for the connections per client");
        goto out;
    }
    if (rp_program.n_limits && !(proc.limits = rp_limits_new(&rp_program))) {
        rp_error("no memory for the limits' keys");
        goto out;
    }
    if (rp_auth_load(&rp_program) < 0 || rp_jwt_load(&rp_program) < 0)
        goto out;
    if (rp_access_log_start(&rp_program) < 0)
        goto out;
    /* Before binding: a predecessor's sockets are taken, not bound again. */
    if (rp_upgrade_begin(&proc, upgrade_from, control) < 0)
        goto out;
    if (rp_proc_listen(&proc, n_listen ? listen : NULL, n_listen) < 0)
        goto out;
    if (proc.n_listeners == 0) {
        rp_error("%s has no listener", rp_program.source);
        goto out;
    }
    if (port_file && write_port_file(port_file, proc.first_port) < 0)
        goto out;
    rp_info("%s: %u worker%s, %u backend%s, %u route%s", rp_program.source, proc.n_workers,
            proc.n_workers == 1 ? "" : "s", rp_program.n_backends,
            rp_program.n_backends == 1 ? "" : "s", rp_program.n_routes,
            rp_program.n_routes == 1 ? "" : "s");
    /* From here on the workers own (and close) the listening sockets. */
    status = rp_proc_run(&proc);
    proc_free(&proc);
    rp_access_log_stop();
    rp_cache_shutdown();
    rp_auth_shutdown();
    rp_jwt_shutdown();
    return status;
out:
    rp_proc_close_listeners(&proc);
    rp_upgrade_end(&proc, NULL);
    proc_free(&proc);
    return status;
}
