/* worker.h: the process, its worker threads and what each worker owns.
 *
 * One process runs `n_workers` threads. Each has its own ev_loop, its own
 * SO_REUSEPORT listening sockets, its own buffer pool and its own upstream
 * connection pools, so nothing on the request path takes a lock. The main
 * thread only waits for signals and tells the workers to stop.
 */
#ifndef RP_WORKER_H
#define RP_WORKER_H

#include <ev.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "metrics.h"
#include "balance.h"
#include "iowant.h"
#include "proxy.h"
#include "upstream.h"
#include "buf.h"
#include "date.h"
#include "log.h"
#include "rp/http1.h"
#include "rp/program.h"
#include "tls.h"

struct rp_conn;
struct rp_upstream;
struct rp_checker;

/* Settings with defaults; the policy will set them (timeouts { }, limits { }). */
struct rp_config {
    struct rp_http1_limits req_limits;  /* request heads from clients */
    struct rp_http1_limits resp_limits; /* response heads from servers */
    double client_header_timeout; /* seconds to receive a whole request head */
    double client_idle_timeout;   /* keep-alive wait between requests */
    double client_body_timeout;   /* inactivity while reading a request body */
    double connect_timeout;       /* to establish a server connection */
    double backend_timeout;       /* inactivity while waiting on a server */
    double tunnel_timeout;        /* inactivity of a tunnel or layer 4 stream; 0: backend's */
    double drain_timeout;         /* graceful stop: longest wait for in-flight work */
    double upstream_idle_timeout; /* pooled server connections older are closed */
    uint32_t upstream_max_idle;   /* pooled connections per server per worker */
    uint64_t max_body;            /* request body bytes; 0: no limit */
    uint32_t max_conns;           /* client connections at once, all workers */
    uint64_t max_buf_bytes;       /* I/O buffers in use, all workers */
    uint32_t h2_streams;          /* HTTP/2: streams open at once on a connection */
    uint32_t h2_window;           /* HTTP/2: a stream's initial window (request body bytes
                                     buffered before its exchange reads them) */
    uint32_t h2_frame;            /* HTTP/2: the largest frame a client may send */
};

/* A server's address, resolved once at start-up. */
struct rp_server_addr {
    struct sockaddr_storage sa;
    socklen_t len;
};

/* Per worker, per backend: each module's own state, side by side. */
struct rp_backend_rt {
    struct rp_balance_rt balance;     /* balance.c */
    struct rp_pool *pools;            /* [server], upstream.c */
    struct rp_proxy_backend_rt proxy; /* proxy.c */
    bool h2;                          /* a server speaks HTTP/2: requests may carry a
                                         gRPC deadline (grpc-timeout) */
};

/* A listening socket a worker accepts on, and the listener it serves. */
struct rp_accept {
    ev_io io;
    unsigned listener;
};

struct rp_worker {
    unsigned id;
    struct ev_loop *loop;
    pthread_t thread;
    struct rp_proc *proc;
    const struct rp_program *prog;
    const struct rp_config *cfg;
    /* Its listening sockets: one per listener, more after an upgrade from
     * a process with more workers (each socket of a SO_REUSEPORT group has
     * its own queue, and every one must be served). io.fd is owned. */
    struct rp_accept *accepts;
    unsigned n_accepts;
    ev_async wakeup;        /* the main thread asks to stop */
    ev_timer sweep;         /* closes expired pooled connections; checks drains */
    struct rp_buf_pool bufs;
    struct rp_exchange *free_x; /* pooled per-request state */
    struct rp_conn *free_conns; /* pooled connections */
    uint32_t n_free_conns;
    uint32_t n_free_x;
    struct rp_backend_rt *backends;
    struct rp_metrics metrics;  /* this worker's counts (metrics.h) */
    struct rp_auth_cache *auth_cache; /* credentials it verified (auth.h); NULL: no auth */
    struct rp_jwt_cache *jwt_cache;   /* tokens it verified (jwt.h); NULL: no auth jwt */
    uint64_t rng;           /* random2's generator state */
    ev_timer queue_timer;   /* re-dispatches queued requests while any wait */
    struct rp_conn *conns;  /* every open client connection */
    struct rp_conn *closed; /* closed, to be freed when the callbacks are over */
    ev_prepare reaper;      /* frees `closed` before the loop blocks */
    uint32_t n_conns;
    bool stopping;
    ev_tstamp stop_deadline;
    /* Accepting stops while the process is at its connection or memory
     * limit, or out of descriptors; `accept_retry` looks again. */
    bool accept_paused;
    ev_timer accept_retry;
    struct rp_log_limit accept_log;
    struct rp_date date; /* the Date line for this second */
    uint64_t next_id;    /* request ids made by this worker (req.id) */
    /* How a request routed to `proxy` starts (proxy.c): conn.c knows the
     * exchange handlers only through this and struct rp_exchange_handler. */
    void (*start_proxy)(struct rp_conn *c, uint32_t backend, uint32_t head_len);
    void (*start_tcp)(struct rp_conn *c, uint32_t backend); /* listen ... tcp */
    /* HTTP/2 takes the connection over (ALPN h2, or h2c's preface in `pre`) */
    void (*start_h2)(struct rp_conn *c, const char *pre, size_t pre_len);
};

/* The whole process. */
struct rp_proc {
    const struct rp_program *prog;
    struct rp_config cfg;
    unsigned n_workers;
    struct rp_worker *workers;
    struct rp_server_addr **server_addrs; /* [backend][server] */
    struct rp_server_state **server_state; /* [backend][server], shared (health.h) */
    struct rp_backend_state *backend_state; /* [backend], shared (health.h) */
    struct rp_checker **checkers;          /* [backend][server], main thread */
    struct rp_ring *rings;                 /* [backend], for balance hash */
    unsigned n_listeners;                 /* per worker, from the policy or --listen */
    unsigned first_port;                  /* the first listener's port, once bound */
    double start_time;                    /* when it started (wall clock, seconds) */
    volatile int stop_level;              /* 0 running, 1 graceful, 2 now */
    bool handed_over;                     /* a successor took the listening sockets
                                             (upgrade.h): stop accepting, close none */
    /* rp_proc_stop, for the modules beneath the worker (upgrade.c) */
    void (*stop)(struct rp_proc *proc, bool handed_over);
    struct rp_upgrade *upgrade;           /* upgrade.h: what a predecessor handed over,
                                             the control socket; NULL: none */
    struct rp_limits *limits;             /* limit.h: the rate limits' keys; NULL: none */
    struct rp_key_counts *client_conns;   /* limit.h: connections per client address
                                             (limits { connections_per_client }); NULL */
    atomic_uint n_client_conns;           /* open client connections, all workers */
    atomic_uint *listener_conns;          /* [listener]: open client connections */
    uint32_t *listener_max;               /* [listener]: listen max_conns; 0: none */
    char id_prefix[13];                   /* 48 random bits, hex: this process's
                                             request ids (req.id) start with them */
    /* The Via field and the head's final CRLF, for HTTP/1.0 and 1.1 hops
     * (`via "NAME"|off`), made once. */
    char via_end10[80], via_end11[80], via_end2[80]; /* ... for HTTP/2 clients' requests */
    uint8_t via_end10_len, via_end11_len, via_end2_len;
    bool via_default;                     /* "rpx": the constant lines, copied inline */
};

/* Whether listener `l` is under its own connection limit. */
bool rp_listener_has_room(const struct rp_proc *proc, unsigned l);

/* Listener `l` is at its limit: stops accepting on it until a connection
 * of it closes. */
void rp_worker_listener_full(struct rp_worker *w, unsigned l);

/* Whether a new client connection may be accepted now: under the
 * connection limit and the buffer memory limit. */
bool rp_worker_may_accept(struct rp_worker *w);

/* Stops accepting for `seconds` (after EMFILE and the like), or until
 * rp_worker_accept_resume when `seconds` is 0 (at a limit). */
void rp_worker_accept_pause(struct rp_worker *w, double seconds);

/* A client connection closed: resumes accepting if a limit paused it and
 * there is room again. */
void rp_worker_accept_resume(struct rp_worker *w);


/* Binds every listener for every worker. Returns 0, or -1 after logging why.
 * With `listen_override` (from --listen) those addresses replace the policy's. */
int rp_proc_listen(struct rp_proc *proc, const char *const *listen_override, unsigned n_override);

/* Starts the workers, waits for SIGINT/SIGTERM, stops them and frees them.
 * Returns the process exit status. */
int rp_proc_run(struct rp_proc *proc);

/* Begins a graceful stop (SIGTERM's): the workers stop accepting and
 * finish their in-flight requests. handed_over: a successor took the
 * listening sockets (upgrade.h), which then stay open. */
void rp_proc_stop(struct rp_proc *proc, bool handed_over);

/* Closes every worker's listening sockets (start-up failed). */
void rp_proc_close_listeners(struct rp_proc *proc);

/* Called by a worker when a connection closes, to finish a graceful stop. */
void rp_worker_maybe_exit(struct rp_worker *w);

#endif
