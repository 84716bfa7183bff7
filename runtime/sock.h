/* sock.h: small socket helpers shared by listeners, clients and servers. */
#ifndef RP_SOCK_H
#define RP_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

/* Parses a numeric "host" and port into sa; a host "unix:/path" is a unix
 * socket (port unused). Returns 0, or -1 if host is none of these. */
int rp_sock_addr(const char *host, unsigned port, struct sockaddr_storage *sa, socklen_t *len);

/* A socket of `type` (SOCK_DGRAM, SOCK_STREAM, with SOCK_* flags; CLOEXEC
 * is added) connected to sa at once: for local and datagram peers, whose
 * connect does not wait. Returns it, or -1 with errno. */
int rp_sock_open_connected(const struct sockaddr_storage *sa, socklen_t len, int type);

/* Formats an address as "1.2.3.4:80" or "[::1]:80" into out. */
void rp_sock_format(const struct sockaddr_storage *sa, char *out, size_t size);

/* Sets TCP_NODELAY: heads and small bodies must not wait for Nagle. */
void rp_sock_nodelay(int fd);

/* Opens a non-blocking TCP or unix stream socket and starts connecting it
 * to sa (TCP_NODELAY set). Returns the descriptor, with *connecting true
 * while the connect is in progress, or -1 with errno. The one way the proxy
 * and its health checks reach a server. */
int rp_sock_connect(const struct sockaddr_storage *sa, socklen_t len, bool *connecting);

/* The outcome of a connect in progress once the socket is writable: 0, or
 * the errno it failed with. */
int rp_sock_connect_result(int fd);

/* writev that retries on EINTR; returns bytes written, or -1 with errno
 * (EAGAIN when the socket is full). */
ssize_t rp_sock_writev(int fd, const struct iovec *iov, int n);

#endif
