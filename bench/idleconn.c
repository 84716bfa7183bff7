/* idleconn.c: opens N keep-alive connections to 127.0.0.1:PORT, sends one
 * small GET on each and reads its answer, then keeps them all open and idle
 * for HOLD seconds (or until SIGTERM/SIGINT), so that the proxy's memory
 * with N idle client connections can be read meanwhile.
 *
 *   cc -O2 -o idleconn bench/idleconn.c
 *   idleconn PORT N HOLD [PATH]
 *
 * Connections are opened in batches of 200 (each batch answered before the
 * next starts) so the proxy never faces 10,000 requests at once. Prints
 * "ready N" on stdout once N connections have their answers (the caller
 * measures then), "closed K" if the server closed K of them while idle, and
 * exits 0 if all N were answered and still open at the end, else 1. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 200

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: idleconn PORT N HOLD_SECONDS [PATH]\n");
        return 2;
    }
    int port = atoi(argv[1]), n = atoi(argv[2]), hold = atoi(argv[3]);
    const char *path = argc > 4 ? argv[4] : "/bytes/6";
    char req[512];
    int rlen = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: bench\r\n\r\n", path);
    int *fds = calloc((size_t)n, sizeof *fds);
    char *answered = calloc((size_t)n, 1);
    int ep = epoll_create1(0);
    if (!fds || !answered || ep < 0)
        return 1;
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGPIPE, SIG_IGN);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    int done = 0;
    char buf[4096];
    for (int b = 0; b < n && !stop; b += BATCH) {
        int e = b + BATCH < n ? b + BATCH : n;
        for (int i = b; i < e; i++) {
            /* Blocking connect and write: loopback, small. */
            fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (fds[i] < 0 || connect(fds[i], (struct sockaddr *)&sin, sizeof sin) < 0 ||
                write(fds[i], req, (size_t)rlen) != rlen) {
                fprintf(stderr, "idleconn: connection %d: %s\n", i, strerror(errno));
                return 1;
            }
            struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
            epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
        }
        int want = e, t0 = (int)now();
        while (done < want && !stop && now() - t0 < 30) {
            struct epoll_event evs[256];
            int k = epoll_wait(ep, evs, 256, 1000);
            for (int j = 0; j < k; j++) {
                int i = (int)evs[j].data.u32;
                ssize_t r = read(fds[i], buf, sizeof buf);
                if (r <= 0) {
                    fprintf(stderr, "idleconn: connection %d closed before its answer\n", i);
                    return 1;
                }
                /* The answer to a small GET comes in one read on loopback. */
                if (!answered[i]) {
                    answered[i] = 1;
                    done++;
                }
            }
        }
        if (done < want) {
            fprintf(stderr, "idleconn: %d of %d answered after 30 s\n", done, want);
            return 1;
        }
    }
    printf("ready %d\n", done);
    fflush(stdout);

    /* Idle: any readiness now is the server closing (or misbehaving). */
    int closed = 0;
    double end = now() + hold;
    while (!stop && now() < end) {
        struct epoll_event evs[256];
        int k = epoll_wait(ep, evs, 256, 200);
        for (int j = 0; j < k; j++) {
            int i = (int)evs[j].data.u32;
            if (read(fds[i], buf, sizeof buf) <= 0) {
                closed++;
                epoll_ctl(ep, EPOLL_CTL_DEL, fds[i], NULL);
            }
        }
    }
    if (closed)
        printf("closed %d\n", closed);
    for (int i = 0; i < n; i++)
        close(fds[i]);
    return closed == 0 && done == n ? 0 : 1;
}
