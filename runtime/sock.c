/* sock.c: socket helpers. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/un.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sock.h"

int rp_sock_addr(const char *host, unsigned port, struct sockaddr_storage *sa, socklen_t *len)
{
    memset(sa, 0, sizeof *sa);
    if (strncmp(host, "unix:", 5) == 0) {
        struct sockaddr_un *un = (struct sockaddr_un *)sa;
        size_t n = strlen(host + 5);
        if (n == 0 || n >= sizeof un->sun_path)
            return -1;
        un->sun_family = AF_UNIX;
        memcpy(un->sun_path, host + 5, n + 1);
        *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
        return 0;
    }
    struct sockaddr_in *v4 = (struct sockaddr_in *)sa;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)sa;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        *len = sizeof *v4;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        *len = sizeof *v6;
        return 0;
    }
    return -1;
}

void rp_sock_format(const struct sockaddr_storage *sa, char *out, size_t size)
{
    char host[INET6_ADDRSTRLEN] = "?";
    if (sa->ss_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &v4->sin_addr, host, sizeof host);
        snprintf(out, size, "%s:%u", host, ntohs(v4->sin_port));
    } else if (sa->ss_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof host);
        snprintf(out, size, "[%s]:%u", host, ntohs(v6->sin6_port));
    } else if (sa->ss_family == AF_UNIX) {
        snprintf(out, size, "unix:%s", ((const struct sockaddr_un *)sa)->sun_path);
    } else {
        snprintf(out, size, "?");
    }
}

void rp_sock_nodelay(int fd)
{
    int one = 1;
    /* Fails only on non-TCP sockets, where there is nothing to set. */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

ssize_t rp_sock_writev(int fd, const struct iovec *iov, int n)
{
    for (;;) {
        ssize_t w = n == 1 ? write(fd, iov[0].iov_base, iov[0].iov_len) : writev(fd, iov, n);
        if (w >= 0 || errno != EINTR)
            return w;
    }
}

int rp_sock_connect(const struct sockaddr_storage *sa, socklen_t len, bool *connecting)
{
    int fd = socket(sa->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    rp_sock_nodelay(fd);
    *connecting = false;
    if (connect(fd, (const struct sockaddr *)sa, len) < 0) {
        if (errno != EINPROGRESS) {
            int saved = errno;
            close(fd);
            errno = saved;
            return -1;
        }
        *connecting = true;
    }
    return fd;
}

int rp_sock_connect_result(int fd)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        return errno;
    return err;
}

int rp_sock_open_connected(const struct sockaddr_storage *sa, socklen_t len, int type)
{
    int fd = socket(sa->ss_family, type | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (const struct sockaddr *)sa, len) < 0) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}
