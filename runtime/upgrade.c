/* upgrade.c: handing a running proxy's sockets and state to its successor
 * (upgrade.h).
 *
 * The wire: messages of an 8-byte head (type, payload length; host byte
 * order, both ends run on one machine) and a payload, over a UNIX stream
 * socket, a descriptor riding with the messages that carry one. Both
 * sides say HELLO first (magic, protocol version, the sizes they must
 * agree on); then the old process sends SOCKET, CONTROL, HEALTH and CACHE
 * messages and END, and the new one answers READY once its workers run.
 * The old side talks with blocking calls under a timeout, on the main
 * thread (which only handles signals and health checks): the workers go on
 * serving throughout.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "cache_store.h"
#include "health.h"
#include "log.h"
#include "sock.h"
#include "tls.h"
#include "upgrade.h"
#include "worker.h"

#define WIRE_MAGIC 0x55585052u /* "RPXU" */
#define WIRE_VERSION 1
#define WIRE_TIMEOUT_S 10
#define WIRE_MAX_PAYLOAD (UINT32_C(1) << 31)

enum msg_type {
    MSG_HELLO = 1,
    MSG_SOCKET,  /* payload: the socket's address; with its descriptor */
    MSG_CONTROL, /* payload: the control socket's path; with its descriptor */
    MSG_HEALTH,  /* struct wire_health, then the three names */
    MSG_CACHE,   /* struct wire_object, then key, variant, tags, meta, body */
    MSG_TICKETS, /* struct wire_tickets, then the listener's host */
    MSG_END,
    MSG_READY,
};

struct msg_head {
    uint32_t type, len;
};

struct wire_hello {
    uint32_t magic, version, pid;
    uint32_t health_size; /* sizeof(struct rp_health_snapshot) */
    uint32_t tickets_size; /* sizeof(struct wire_tickets) */
    uint32_t cache_format; /* rp_cache_format(): 0, no cache */
};

struct wire_health {
    struct rp_health_snapshot state;
    uint32_t port;
    uint16_t backend_len, server_len, host_len;
};

struct wire_tickets {
    struct rp_tls_ticket_keys keys;
    uint32_t port, host_len;
};

struct wire_object {
    uint32_t key_len, variant_len, tags_len, meta_len;
    uint64_t body_len;
};

struct inherited {
    struct sockaddr_storage sa;
    socklen_t len;
    int fd; /* -1 once taken */
};

struct rp_upgrade {
    struct rp_proc *proc;
    /* from a predecessor: the connection until ready, its sockets */
    int from_fd;
    struct inherited *socks;
    unsigned n_socks;
    /* the control socket */
    int control_fd;
    bool control_ours; /* made here, or taken over and served: remove it at exit
                          (unless handed on); one received by a process that
                          then failed to start is still its predecessor's */
    char control_path[sizeof ((struct sockaddr_un *)0)->sun_path];
    ev_io control_io;
    /* to a successor: the connection while it starts, and its process
     * when this one started it (SIGUSR2) */
    int succ_fd;
    ev_io succ_io;
    ev_child child;
    pid_t succ_pid;
};

/* How this process was started, for SIGUSR2. */
static struct {
    int argc;
    char **argv;
    char exe[PATH_MAX];
} g_self;

void rp_upgrade_remember(int argc, char **argv)
{
    g_self.argc = argc;
    g_self.argv = argv;
    /* The path, not the file: a newer build deployed at the same path is
     * what SIGUSR2 should start. */
    ssize_t n = readlink("/proc/self/exe", g_self.exe, sizeof g_self.exe - 1);
    if (n > 0)
        g_self.exe[n] = '\0';
    else
        snprintf(g_self.exe, sizeof g_self.exe, "%s", argv[0]);
}

/* ---- the wire ------------------------------------------------------------------------ */

static int read_all(int fd, void *p, size_t n)
{
    char *b = p;
    while (n) {
        ssize_t r = read(fd, b, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0)
                errno = ECONNRESET;
            return -1;
        }
        b += r;
        n -= (size_t)r;
    }
    return 0;
}

/* Sends iov[0..n) whole, the descriptor (when pass_fd >= 0) with its first
 * bytes: sendmsg may take less than all, and the rest follows. */
static int send_iov(int fd, struct iovec *iov, int n, int pass_fd)
{
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } cm;
    struct msghdr m = {.msg_iov = iov, .msg_iovlen = (size_t)n};
    if (pass_fd >= 0) {
        memset(&cm, 0, sizeof cm);
        m.msg_control = cm.buf;
        m.msg_controllen = sizeof cm.buf;
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
    }
    while (m.msg_iovlen) {
        ssize_t r = sendmsg(fd, &m, MSG_NOSIGNAL);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        /* the descriptor went with the first bytes; skip what was sent */
        m.msg_control = NULL;
        m.msg_controllen = 0;
        size_t skip = (size_t)r;
        while (m.msg_iovlen && skip >= m.msg_iov[0].iov_len) {
            skip -= m.msg_iov[0].iov_len;
            m.msg_iov++;
            m.msg_iovlen--;
        }
        if (m.msg_iovlen) {
            m.msg_iov[0].iov_base = (char *)m.msg_iov[0].iov_base + skip;
            m.msg_iov[0].iov_len -= skip;
        }
    }
    return 0;
}

/* Sends a message (payload in up to two pieces), with a descriptor when
 * pass_fd >= 0. */
static int send_msg(int fd, uint32_t type, const void *a, size_t a_len, const void *b, size_t b_len,
                    int pass_fd)
{
    struct msg_head h = {type, (uint32_t)(a_len + b_len)};
    struct iovec iov[3] = {{&h, sizeof h}, {(void *)a, a_len}, {(void *)b, b_len}};
    return send_iov(fd, iov, 3, pass_fd);
}

/* Receives a message's head and the descriptor riding with it (-1: none). */
static int recv_head(int fd, struct msg_head *h, int *passed)
{
    *passed = -1;
    char *p = (char *)h;
    size_t got = 0;
    while (got < sizeof *h) {
        union {
            char buf[CMSG_SPACE(sizeof(int))];
            struct cmsghdr align;
        } cm;
        struct iovec iov = {p + got, sizeof *h - got};
        struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf,
                           .msg_controllen = sizeof cm.buf};
        ssize_t r = recvmsg(fd, &m, MSG_CMSG_CLOEXEC);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0)
                errno = ECONNRESET;
            if (*passed >= 0)
                close(*passed);
            *passed = -1;
            return -1;
        }
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
                c->cmsg_len >= CMSG_LEN(sizeof(int))) {
                int d;
                memcpy(&d, CMSG_DATA(c), sizeof d);
                if (*passed >= 0)
                    close(*passed);
                *passed = d;
            }
        got += (size_t)r;
    }
    if (h->len > WIRE_MAX_PAYLOAD) {
        errno = EPROTO;
        return -1;
    }
    return 0;
}

/* Reads and drops n bytes (a payload this side does not want). */
static int skip_bytes(int fd, uint64_t n)
{
    char sink[4096];
    while (n) {
        size_t k = n < sizeof sink ? (size_t)n : sizeof sink;
        if (read_all(fd, sink, k) < 0)
            return -1;
        n -= k;
    }
    return 0;
}

static void set_blocking_with_timeout(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0)
        (void)fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    struct timeval tv = {WIRE_TIMEOUT_S, 0};
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static struct wire_hello hello_of_this_process(void)
{
    return (struct wire_hello){.magic = WIRE_MAGIC,
                               .version = WIRE_VERSION,
                               .pid = (uint32_t)getpid(),
                               .health_size = sizeof(struct rp_health_snapshot),
                               .tickets_size = sizeof(struct wire_tickets),
                               .cache_format = rp_cache_format()};
}

/* Reads the peer's HELLO and checks it speaks this protocol. */
static int recv_hello(int fd, struct wire_hello *peer, const char **why)
{
    struct msg_head h;
    int passed;
    *why = NULL;
    if (recv_head(fd, &h, &passed) < 0)
        return -1;
    if (passed >= 0)
        close(passed);
    if (h.type != MSG_HELLO || h.len != sizeof *peer) {
        *why = "it does not speak rpx's upgrade protocol";
        return -1; /* the connection goes: what it sent is not read */
    }
    if (read_all(fd, peer, sizeof *peer) < 0)
        return -1;
    if (peer->magic != WIRE_MAGIC) {
        *why = "it does not speak rpx's upgrade protocol";
        return -1;
    }
    if (peer->version != WIRE_VERSION || peer->health_size != sizeof(struct rp_health_snapshot) ||
        peer->tickets_size != sizeof(struct wire_tickets)) {
        *why = "it runs another version of the upgrade protocol (its rpx differs too much)";
        return -1;
    }
    return 0;
}

/* ---- the old side: handing over --------------------------------------------------------- */

static void succ_end(struct rp_upgrade *u, struct ev_loop *loop)
{
    if (u->succ_fd < 0)
        return;
    ev_io_stop(loop, &u->succ_io);
    close(u->succ_fd);
    u->succ_fd = -1;
}

/* The successor's word after END: READY (it serves: stop accepting and
 * drain), or the connection ends (it failed: keep serving). */
static void succ_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    (void)revents;
    struct rp_upgrade *u = (struct rp_upgrade *)((char *)io - offsetof(struct rp_upgrade, succ_io));
    struct msg_head h;
    int passed;
    /* the head is 8 bytes, sent at once: a short read here means the peer
     * went away, and the blocking socket has its timeout */
    int r = recv_head(u->succ_fd, &h, &passed);
    if (passed >= 0)
        close(passed);
    if (r == 0 && h.type == MSG_READY && h.len == 0) {
        succ_end(u, loop);
        rp_info("upgrade: the new process serves now; this one stops accepting, finishes its "
                "in-flight requests and exits");
        if (u->control_fd >= 0)
            ev_io_stop(loop, &u->control_io); /* the successor answers there now */
        u->proc->stop(u->proc, true);
        return;
    }
    rp_warn("upgrade: the new process went away before it was ready (%s); this one goes on "
            "serving",
            r < 0 ? strerror(errno) : "unexpected message");
    succ_end(u, loop);
}

static int send_sockets(struct rp_upgrade *u, int fd, unsigned *n)
{
    struct rp_proc *proc = u->proc;
    for (unsigned i = 0; i < proc->n_workers; i++) {
        const struct rp_worker *w = &proc->workers[i];
        for (unsigned k = 0; k < w->n_accepts; k++) {
            int s = w->accepts[k].io.fd;
            struct sockaddr_storage sa;
            socklen_t len = sizeof sa;
            if (s < 0 || getsockname(s, (struct sockaddr *)&sa, &len) < 0)
                continue;
            if (send_msg(fd, MSG_SOCKET, &sa, len, NULL, 0, s) < 0)
                return -1;
            (*n)++;
        }
    }
    return 0;
}

static int send_health(struct rp_upgrade *u, int fd, unsigned *n)
{
    const struct rp_program *prog = u->proc->prog;
    for (uint32_t b = 0; b < prog->n_backends; b++) {
        const struct rp_backend_def *be = &prog->backends[b];
        for (uint32_t s = 0; s < be->n_servers; s++) {
            const struct rp_server_def *sd = &be->servers[s];
            struct wire_health wh = {.port = sd->port,
                                     .backend_len = (uint16_t)strlen(be->name),
                                     .server_len = (uint16_t)strlen(sd->name),
                                     .host_len = (uint16_t)strlen(sd->host)};
            rp_health_save(u->proc, b, s, &wh.state);
            char names[3 * 256];
            int nl = snprintf(names, sizeof names, "%.255s%.255s%.255s", be->name, sd->name,
                              sd->host);
            if (nl < 0 || (size_t)nl != (size_t)wh.backend_len + wh.server_len + wh.host_len)
                continue; /* a name too long to match anyway */
            if (send_msg(fd, MSG_HEALTH, &wh, sizeof wh, names, (size_t)nl, -1) < 0)
                return -1;
            (*n)++;
        }
    }
    return 0;
}

/* The session ticket keys of each TLS listener, by its policy address. */
static int send_tickets(struct rp_upgrade *u, int fd)
{
    const struct rp_program *prog = u->proc->prog;
    for (uint32_t l = 0; l < prog->n_listeners; l++) {
        struct wire_tickets wt = {.port = prog->listeners[l].port};
        const char *host = prog->listeners[l].host ? prog->listeners[l].host : "";
        if (rp_tls_ticket_keys_get(l, &wt.keys) < 0)
            continue;
        wt.host_len = (uint32_t)strlen(host);
        int r = send_msg(fd, MSG_TICKETS, &wt, sizeof wt, host, wt.host_len, -1);
        explicit_bzero(&wt, sizeof wt);
        if (r < 0)
            return -1;
    }
    return 0;
}

static int send_cache(int fd, uint64_t *n, uint64_t *bytes)
{
    struct rp_cache_obj **objs;
    size_t count = rp_cache_snapshot(&objs);
    int rc = 0;
    for (size_t i = 0; i < count; i++) {
        struct rp_cache_obj *o = objs[i];
        if (rc == 0) {
            struct wire_object wo = {o->key_len, o->variant_len, o->tags_len, o->meta_len,
                                     o->body_len};
            uint64_t total = sizeof wo + (uint64_t)o->key_len + o->variant_len + o->tags_len +
                             o->meta_len + o->body_len;
            if (total <= WIRE_MAX_PAYLOAD) {
                /* head and the small pieces, then the body in place */
                struct msg_head h = {MSG_CACHE, (uint32_t)total};
                struct iovec iov[7] = {{&h, sizeof h},          {&wo, sizeof wo},
                                       {o->key, o->key_len},    {o->variant, o->variant_len},
                                       {o->tags, o->tags_len},  {o->meta, o->meta_len},
                                       {o->body, o->body_len}};
                rc = send_iov(fd, iov, 7, -1);
                if (rc == 0) {
                    (*n)++;
                    *bytes += o->body_len;
                }
            }
        }
        rp_cache_obj_unref(o);
    }
    free(objs);
    return rc;
}

/* Hands everything over on fd, a connection from a new process. On
 * success the successor's READY is awaited on the loop; on failure this
 * process goes on serving. */
static void handover(struct rp_upgrade *u, struct ev_loop *loop, int fd)
{
    struct rp_proc *proc = u->proc;
    if (u->succ_fd >= 0 || proc->handed_over || proc->stop_level) {
        rp_warn("upgrade: refused: %s",
                u->succ_fd >= 0 ? "another upgrade is in progress" : "this process is stopping");
        close(fd);
        return;
    }
    set_blocking_with_timeout(fd);
    double t0 = ev_time();
    struct wire_hello peer, mine = hello_of_this_process();
    const char *why = NULL;
    if (send_msg(fd, MSG_HELLO, &mine, sizeof mine, NULL, 0, -1) < 0 ||
        recv_hello(fd, &peer, &why) < 0) {
        if (!why && errno == ECONNRESET) /* connected and left: a liveness probe */
            rp_debug("upgrade: a connection on the control socket closed without a word");
        else
            rp_warn("upgrade: the new process cannot take over: %s", why ? why : strerror(errno));
        close(fd);
        return;
    }
    unsigned n_socks = 0, n_servers = 0;
    uint64_t n_objects = 0, cache_bytes = 0;
    bool cache = peer.cache_format && peer.cache_format == mine.cache_format;
    if (send_sockets(u, fd, &n_socks) < 0 ||
        (u->control_fd >= 0 && send_msg(fd, MSG_CONTROL, u->control_path,
                                        strlen(u->control_path), NULL, 0, u->control_fd) < 0) ||
        send_health(u, fd, &n_servers) < 0 || send_tickets(u, fd) < 0 || (cache && send_cache(fd, &n_objects, &cache_bytes) < 0) ||
        send_msg(fd, MSG_END, NULL, 0, NULL, 0, -1) < 0) {
        rp_warn("upgrade: handing over to process %u failed: %s; this one goes on serving",
                peer.pid, strerror(errno));
        close(fd);
        return;
    }
    if (mine.cache_format && !cache)
        rp_info("upgrade: the cache stays behind: process %u %s", peer.pid,
                peer.cache_format ? "stores objects another way" : "has no cache");
    rp_info("upgrade: handed %u listening sockets, %u servers' health and %llu cached objects "
            "(%llu KB) to process %u in %.0f ms; waiting for it to serve",
            n_socks, n_servers, (unsigned long long)n_objects,
            (unsigned long long)(cache_bytes >> 10), peer.pid, (ev_time() - t0) * 1e3);
    u->succ_fd = fd;
    ev_io_init(&u->succ_io, succ_cb, fd, EV_READ);
    ev_io_start(loop, &u->succ_io);
}

/* A connection on the control socket: a new process asking to take over.
 * Only the same user (or root) may. */
static void control_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    (void)revents;
    struct rp_upgrade *u =
        (struct rp_upgrade *)((char *)io - offsetof(struct rp_upgrade, control_io));
    int fd = accept4(u->control_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        return;
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
        (cred.uid != geteuid() && cred.uid != 0)) {
        rp_warn("upgrade: refused a connection on %s from another user", u->control_path);
        close(fd);
        return;
    }
    handover(u, loop, fd);
}

static void child_cb(struct ev_loop *loop, ev_child *c, int revents)
{
    (void)revents;
    struct rp_upgrade *u = (struct rp_upgrade *)((char *)c - offsetof(struct rp_upgrade, child));
    ev_child_stop(loop, c);
    if (u->succ_pid == c->rpid && !u->proc->handed_over) {
        int st = c->rstatus;
        if (WIFEXITED(st))
            rp_warn("upgrade: the new process exited with status %d before it served; this one "
                    "goes on serving",
                    WEXITSTATUS(st));
        else if (WIFSIGNALED(st))
            rp_warn("upgrade: the new process was killed by %s before it served; this one goes "
                    "on serving",
                    strsignal(WTERMSIG(st)));
    }
    u->succ_pid = 0;
}

void rp_upgrade_exec(struct rp_proc *proc, struct ev_loop *loop)
{
    struct rp_upgrade *u = proc->upgrade;
    if (!u || u->succ_fd >= 0 || u->succ_pid > 0 || proc->handed_over || proc->stop_level) {
        rp_warn("SIGUSR2: no upgrade now: %s",
                proc->handed_over || proc->stop_level ? "this process is stopping"
                                                      : "another upgrade is in progress");
        return;
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        rp_error("SIGUSR2: socketpair: %s", strerror(errno));
        return;
    }
    /* The same arguments, but for --upgrade-from: everything is built
     * before fork, as the child of a threaded process may only exec. */
    char **argv = calloc((size_t)g_self.argc + 3, sizeof *argv);
    char from[32];
    snprintf(from, sizeof from, "fd:%d", sv[1]);
    if (!argv) {
        close(sv[0]);
        close(sv[1]);
        return;
    }
    int n = 0;
    argv[n++] = g_self.exe;
    for (int i = 1; i < g_self.argc; i++) {
        const char *a = g_self.argv[i];
        if (strcmp(a, "--upgrade-from") == 0) {
            i++;
            continue;
        }
        if (strncmp(a, "--upgrade-from=", 15) == 0)
            continue;
        argv[n++] = g_self.argv[i];
    }
    argv[n++] = "--upgrade-from";
    argv[n++] = from;
    argv[n] = NULL;
    rp_info("SIGUSR2: starting %s to take over", g_self.exe);
    pid_t pid = fork();
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        int flags = fcntl(sv[1], F_GETFD);
        fcntl(sv[1], F_SETFD, flags & ~FD_CLOEXEC);
        execv(g_self.exe, argv);
        _exit(127);
    }
    free(argv);
    close(sv[1]);
    if (pid < 0) {
        rp_error("SIGUSR2: fork: %s", strerror(errno));
        close(sv[0]);
        return;
    }
    u->succ_pid = pid;
    ev_child_init(&u->child, child_cb, pid, 0);
    ev_child_start(loop, &u->child);
    handover(u, loop, sv[0]);
}

/* ---- the control socket ------------------------------------------------------------------- */

static int control_addr(const char *path, struct sockaddr_un *sun, socklen_t *len)
{
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof sun->sun_path)
        return -1;
    memset(sun, 0, sizeof *sun);
    sun->sun_family = AF_UNIX;
    memcpy(sun->sun_path, path, n);
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
    return 0;
}

/* Binds the control socket at path (mode 0600). A live one there means
 * another proxy runs: refuse, and say how to replace it; a dead one (left
 * by a crash) is removed. */
static int control_open(struct rp_upgrade *u, const char *path)
{
    struct sockaddr_un sun;
    socklen_t len;
    if (control_addr(path, &sun, &len) < 0) {
        rp_error("--control %s: a path of 1 to %zu bytes", path, sizeof sun.sun_path - 1);
        return -1;
    }
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe >= 0) {
        int r = connect(probe, (struct sockaddr *)&sun, len);
        int err = errno;
        close(probe);
        if (r == 0) {
            rp_error("--control %s: another proxy answers there; to replace it, start this one "
                     "with --upgrade-from %s",
                     path, path);
            return -1;
        }
        if (err == ECONNREFUSED)
            unlink(path);
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    mode_t old = umask(0177);
    int r = fd < 0 ? -1 : bind(fd, (struct sockaddr *)&sun, len);
    umask(old);
    if (r < 0 || listen(fd, 4) < 0) {
        rp_error("--control %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    u->control_fd = fd;
    u->control_ours = true;
    snprintf(u->control_path, sizeof u->control_path, "%s", path);
    return 0;
}

/* ---- the new side: taking over ------------------------------------------------------------ */

static int connect_from(const char *from)
{
    if (strncmp(from, "fd:", 3) == 0) {
        char *end;
        long n = strtol(from + 3, &end, 10);
        if (*end || end == from + 3 || n < 0 || n > INT_MAX)
            return -1;
        (void)fcntl((int)n, F_SETFD, FD_CLOEXEC);
        return (int)n;
    }
    struct sockaddr_un sun;
    socklen_t len;
    if (control_addr(from, &sun, &len) < 0) {
        errno = ENAMETOOLONG;
        return -1;
    }
    struct sockaddr_storage sa;
    memcpy(&sa, &sun, sizeof sun);
    return rp_sock_open_connected(&sa, len, SOCK_STREAM);
}

static int take_socket_msg(struct rp_upgrade *u, int fd, uint32_t len, int passed)
{
    struct inherited in = {.fd = passed};
    if (len > sizeof in.sa || passed < 0) {
        if (passed >= 0)
            close(passed);
        errno = EPROTO;
        return -1;
    }
    if (read_all(fd, &in.sa, len) < 0) {
        close(passed);
        return -1;
    }
    in.len = len;
    struct inherited *more = realloc(u->socks, (u->n_socks + 1) * sizeof *more);
    if (!more) {
        close(passed);
        return -1;
    }
    u->socks = more;
    u->socks[u->n_socks++] = in;
    return 0;
}

static int take_control_msg(struct rp_upgrade *u, int fd, uint32_t len, int passed)
{
    if (len == 0 || len >= sizeof u->control_path || passed < 0) {
        if (passed >= 0)
            close(passed);
        errno = EPROTO;
        return -1;
    }
    if (read_all(fd, u->control_path, len) < 0) {
        close(passed);
        return -1;
    }
    u->control_path[len] = '\0';
    (void)fcntl(passed, F_SETFL, fcntl(passed, F_GETFL) | O_NONBLOCK);
    u->control_fd = passed;
    return 0;
}

/* A server's health, matched by backend, server and address: a server
 * that moved is another server. Returns 1 when it matched, 0 if not. */
static int take_health_msg(struct rp_upgrade *u, int fd, uint32_t len)
{
    struct wire_health wh;
    char names[3 * 255]; /* the sender cuts each name at 255 bytes */
    if (len < sizeof wh || read_all(fd, &wh, sizeof wh) < 0) {
        errno = EPROTO;
        return -1;
    }
    size_t nl = (size_t)wh.backend_len + wh.server_len + wh.host_len;
    if (len - sizeof wh != nl || nl > sizeof names || read_all(fd, names, nl) < 0) {
        errno = EPROTO;
        return -1;
    }
    const char *server = names + wh.backend_len, *host = server + wh.server_len;
    uint32_t b, s;
    if (!rp_server_find(u->proc->prog, names, wh.backend_len, server, wh.server_len, &b, &s))
        return 0;
    const struct rp_server_def *sd = &u->proc->prog->backends[b].servers[s];
    if (strlen(sd->host) != wh.host_len || memcmp(sd->host, host, wh.host_len) != 0 ||
        sd->port != wh.port)
        return 0; /* moved: another server */
    rp_health_restore(u->proc, b, s, &wh.state);
    return 1;
}

static int take_tickets_msg(struct rp_upgrade *u, int fd, uint32_t len)
{
    struct wire_tickets wt;
    char host[256];
    if (len < sizeof wt || read_all(fd, &wt, sizeof wt) < 0 || wt.host_len >= sizeof host ||
        len - sizeof wt != wt.host_len || read_all(fd, host, wt.host_len) < 0) {
        errno = EPROTO;
        return -1;
    }
    host[wt.host_len] = '\0';
    const struct rp_program *prog = u->proc->prog;
    for (uint32_t l = 0; l < prog->n_listeners; l++)
        if (prog->listeners[l].port == wt.port &&
            strcmp(prog->listeners[l].host ? prog->listeners[l].host : "", host) == 0)
            rp_tls_ticket_keys_set(l, &wt.keys);
    explicit_bzero(&wt, sizeof wt);
    return 0;
}

static int take_cache_msg(int fd, uint32_t len, uint64_t *bytes)
{
    struct wire_object wo;
    if (len < sizeof wo || read_all(fd, &wo, sizeof wo) < 0) {
        errno = EPROTO;
        return -1;
    }
    uint64_t rest = (uint64_t)wo.key_len + wo.variant_len + wo.tags_len + wo.meta_len + wo.body_len;
    if (rest != len - sizeof wo) {
        errno = EPROTO;
        return -1;
    }
    char *kv = malloc((size_t)wo.key_len + wo.variant_len + 1);
    if (!kv)
        return skip_bytes(fd, rest) < 0 ? -1 : 0;
    if (read_all(fd, kv, (size_t)wo.key_len + wo.variant_len) < 0) {
        free(kv);
        return -1;
    }
    struct rp_cache_obj *o = rp_cache_obj_new(kv, wo.key_len, kv + wo.key_len, wo.variant_len,
                                              wo.tags_len, wo.meta_len, wo.body_len);
    free(kv);
    uint64_t tail = (uint64_t)wo.tags_len + wo.meta_len + wo.body_len;
    if (!o)
        return skip_bytes(fd, tail) < 0 ? -1 : 0;
    int rc = read_all(fd, o->tags, wo.tags_len) < 0 || read_all(fd, o->meta, wo.meta_len) < 0 ||
                     read_all(fd, o->body, (size_t)wo.body_len) < 0
                 ? -1
                 : 0;
    if (rc == 0 && rp_cache_adopt(o))
        *bytes += wo.body_len;
    rp_cache_obj_unref(o);
    return rc == 0 ? 1 : -1;
}

static int receive(struct rp_upgrade *u, int fd, const char *from)
{
    struct wire_hello peer, mine = hello_of_this_process();
    const char *why = NULL;
    if (send_msg(fd, MSG_HELLO, &mine, sizeof mine, NULL, 0, -1) < 0 ||
        recv_hello(fd, &peer, &why) < 0) {
        rp_error("--upgrade-from %s: %s", from, why ? why : strerror(errno));
        return -1;
    }
    unsigned n_servers = 0;
    uint64_t n_objects = 0, bytes = 0;
    for (;;) {
        struct msg_head h;
        int passed, r;
        if (recv_head(fd, &h, &passed) < 0)
            break;
        switch (h.type) {
        case MSG_SOCKET: r = take_socket_msg(u, fd, h.len, passed); break;
        case MSG_CONTROL: r = take_control_msg(u, fd, h.len, passed); break;
        case MSG_HEALTH:
            r = take_health_msg(u, fd, h.len);
            n_servers += r > 0;
            break;
        case MSG_TICKETS: r = take_tickets_msg(u, fd, h.len); break;
        case MSG_CACHE:
            r = take_cache_msg(fd, h.len, &bytes);
            n_objects += r > 0;
            break;
        case MSG_END:
            rp_info("upgrade: took over %u listening sockets, %u servers' health and %llu "
                    "cached objects (%llu KB) from process %u",
                    u->n_socks, n_servers, (unsigned long long)n_objects,
                    (unsigned long long)(bytes >> 10), peer.pid);
            return 0;
        default:
            if (passed >= 0)
                close(passed);
            r = skip_bytes(fd, h.len); /* a newer sender's extra: not for us */
        }
        if (r < 0)
            break;
    }
    rp_error("--upgrade-from %s: the handover broke off: %s", from, strerror(errno));
    return -1;
}

int rp_upgrade_begin(struct rp_proc *proc, const char *from, const char *control)
{
    struct rp_upgrade *u = calloc(1, sizeof *u);
    if (!u)
        return -1;
    u->proc = proc;
    u->from_fd = u->control_fd = u->succ_fd = -1;
    proc->upgrade = u;
    if (from) {
        int fd = connect_from(from);
        if (fd < 0) {
            rp_error("--upgrade-from %s: %s", from,
                     errno == ENOENT || errno == ECONNREFUSED
                         ? "no proxy answers there (was it started with --control?)"
                         : strerror(errno));
            return -1;
        }
        set_blocking_with_timeout(fd);
        u->from_fd = fd;
        if (receive(u, fd, from) < 0)
            return -1;
    }
    if (u->control_fd < 0 && control && control_open(u, control) < 0)
        return -1;
    return 0;
}

int rp_upgrade_take_socket(struct rp_upgrade *u, struct sockaddr_storage *sa, socklen_t *len)
{
    for (unsigned i = 0; i < u->n_socks; i++) {
        struct inherited *in = &u->socks[i];
        if (in->fd < 0 || in->sa.ss_family != sa->ss_family)
            continue;
        bool match;
        if (sa->ss_family == AF_INET) {
            const struct sockaddr_in *a = (const void *)&in->sa, *b = (const void *)sa;
            match = a->sin_addr.s_addr == b->sin_addr.s_addr &&
                    (b->sin_port == 0 || a->sin_port == b->sin_port);
        } else if (sa->ss_family == AF_INET6) {
            const struct sockaddr_in6 *a = (const void *)&in->sa, *b = (const void *)sa;
            match = memcmp(&a->sin6_addr, &b->sin6_addr, sizeof a->sin6_addr) == 0 &&
                    (b->sin6_port == 0 || a->sin6_port == b->sin6_port);
        } else {
            match = in->len == *len && memcmp(&in->sa, sa, *len) == 0;
        }
        if (!match)
            continue;
        int fd = in->fd;
        in->fd = -1;
        memcpy(sa, &in->sa, in->len);
        *len = in->len;
        return fd;
    }
    return -1;
}

void rp_upgrade_close_unused(struct rp_upgrade *u)
{
    for (unsigned i = 0; i < u->n_socks; i++) {
        if (u->socks[i].fd < 0)
            continue;
        char shown[80];
        rp_sock_format(&u->socks[i].sa, shown, sizeof shown);
        rp_info("upgrade: %s is no longer a listener: its socket closes", shown);
        close(u->socks[i].fd);
        u->socks[i].fd = -1;
    }
}

/* sd_notify(3)'s protocol, which is one datagram: no libsystemd needed. */
static void notify_systemd(const char *msg)
{
    const char *path = getenv("NOTIFY_SOCKET");
    struct sockaddr_un sun;
    socklen_t len;
    if (!path || (path[0] != '/' && path[0] != '@') || control_addr(path, &sun, &len) < 0)
        return;
    if (sun.sun_path[0] == '@') { /* abstract namespace: no NUL at the end */
        sun.sun_path[0] = '\0';
        len--;
    }
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    (void)sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sun, len);
    close(fd);
}

void rp_upgrade_serving(struct rp_proc *proc, struct ev_loop *loop)
{
    struct rp_upgrade *u = proc->upgrade;
    if (!u)
        return;
    if (u->from_fd >= 0) {
        if (send_msg(u->from_fd, MSG_READY, NULL, 0, NULL, 0, -1) < 0)
            rp_warn("upgrade: could not tell the old process to stop: %s", strerror(errno));
        close(u->from_fd);
        u->from_fd = -1;
    }
    char msg[64];
    snprintf(msg, sizeof msg, "READY=1\nMAINPID=%d", (int)getpid());
    notify_systemd(msg);
    if (u->control_fd >= 0) {
        u->control_ours = true;
        ev_io_init(&u->control_io, control_cb, u->control_fd, EV_READ);
        ev_io_start(loop, &u->control_io);
    }
}

void rp_upgrade_end(struct rp_proc *proc, struct ev_loop *loop)
{
    struct rp_upgrade *u = proc->upgrade;
    if (!u)
        return;
    if (loop) {
        succ_end(u, loop);
        if (u->control_fd >= 0)
            ev_io_stop(loop, &u->control_io);
        if (u->succ_pid > 0)
            ev_child_stop(loop, &u->child);
    } else if (u->succ_fd >= 0) {
        close(u->succ_fd);
    }
    if (u->control_fd >= 0) {
        close(u->control_fd);
        if (u->control_ours && !proc->handed_over)
            unlink(u->control_path);
    }
    if (u->from_fd >= 0)
        close(u->from_fd);
    for (unsigned i = 0; i < u->n_socks; i++)
        if (u->socks[i].fd >= 0)
            close(u->socks[i].fd);
    free(u->socks);
    free(u);
    proc->upgrade = NULL;
}
