/* upgrade.h: replacing a running proxy with a new one without dropping a
 * request, and keeping what the old one knew.
 *
 * A policy is compiled in, so a new policy is a new binary and reloading is
 * upgrading. The new process connects to the old one's control socket
 * (`--upgrade-from PATH`), or is started by the old one itself on SIGUSR2
 * (it re-executes its own binary path, where a newer build may now be,
 * with a socket pair). Over it the old process hands over, in order:
 *
 *   - every listening socket it accepts on (SCM_RIGHTS): the same kernel
 *     sockets, so connections waiting in their queues are not lost, and
 *     the port is never closed;
 *   - its control socket, so the chain of upgrades goes on at one path;
 *   - each server's health (by backend, server and address);
 *   - the TLS session ticket keys it made, so tickets still resume;
 *   - the cache's objects, when both store them the same way.
 *
 * The new process binds only the addresses it did not get, starts its
 * workers and says it is ready. Only then does the old one stop accepting;
 * it finishes its in-flight requests (each connection closes after its
 * response; idle keep-alive connections after a second of silence) within
 * the drain timeout, and exits. If the new process fails before it is
 * ready, the old one goes on serving as if nothing happened.
 *
 * Under systemd (NOTIFY_SOCKET set), a process says READY=1 with its pid
 * once it serves, so `Type=notify` units follow the upgrade.
 */
#ifndef RP_UPGRADE_H
#define RP_UPGRADE_H

#include <ev.h>
#include <stdbool.h>
#include <sys/socket.h>

struct rp_proc;
struct rp_upgrade;

/* Remembers how this process was started, for SIGUSR2's re-execution.
 * Call first in main. */
void rp_upgrade_remember(int argc, char **argv);

/* Takes over from the process behind `from` (a control socket path, or
 * "fd:N" for a connected socket from SIGUSR2): receives its sockets, the
 * servers' health into proc (after rp_health_init) and the cache's objects
 * (after rp_cache_init). `control` is the control socket path to serve
 * upgrades on (NULL: none, unless the old process hands one over). Sets
 * proc->upgrade. Returns 0, or -1 after logging why (the old process then
 * keeps serving). */
int rp_upgrade_begin(struct rp_proc *proc, const char *from, const char *control);

/* A listening socket the predecessor handed over for address sa (port 0
 * matches any port of that host, and sa becomes its address), or -1. Each
 * is taken once. */
int rp_upgrade_take_socket(struct rp_upgrade *u, struct sockaddr_storage *sa, socklen_t *len);

/* Closes the handed-over sockets no listener took (a listener the new
 * policy dropped). */
void rp_upgrade_close_unused(struct rp_upgrade *u);

/* The workers run: tells the predecessor (if any) to stop, tells systemd,
 * and starts answering upgrades on the control socket and SIGUSR2, on the
 * main thread's loop. */
void rp_upgrade_serving(struct rp_proc *proc, struct ev_loop *loop);

/* SIGUSR2: starts a successor from this process's own binary path. */
void rp_upgrade_exec(struct rp_proc *proc, struct ev_loop *loop);

/* At exit: closes the control socket (removing its path unless a
 * successor took it) and frees everything. */
void rp_upgrade_end(struct rp_proc *proc, struct ev_loop *loop);

#endif
