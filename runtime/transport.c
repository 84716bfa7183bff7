/* transport.c: the chaos transport (see transport.h), which tests run the
 * e2e suite through, and what every transport shares: the raw socket
 * calls beneath TLS, closing. */
#include <stdatomic.h>
#include <stdlib.h>

#include "log.h"
#include "transport.h"

_Thread_local struct ev_loop *rp_transport_loop;
unsigned (*rp_transport_iteration)(struct ev_loop *loop);

static bool chaos_on;
static uint64_t chaos_seed;
static atomic_uint_fast64_t chaos_conns; /* gives each connection its own stream */

static uint64_t chaos_next(struct rp_transport *t)
{
    uint64_t x = t->rng; /* xorshift64 */
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return t->rng = x;
}

/* How many of `n` bytes this call may move: one in four calls none
 * (EAGAIN), one in four a single byte, one in four a few, the rest all. */
static size_t chaos_take(struct rp_transport *t, size_t n)
{
    uint64_t r = chaos_next(t);
    switch (r & 3) {
    case 0: return 0;
    case 1: return 1;
    case 2: return 1 + (size_t)((r >> 8) % (n < 64 ? n : 64));
    default: return n;
    }
}

static ssize_t chaos_read(struct rp_transport *t, void *buf, size_t n)
{
    size_t k = n ? chaos_take(t, n) : 0;
    if (n && k == 0) {
        errno = EAGAIN;
        return -1;
    }
    ssize_t r;
    do
        r = read(t->fd, buf, k);
    while (r < 0 && errno == EINTR);
    return r;
}

static ssize_t chaos_writev(struct rp_transport *t, const struct iovec *iov, int n)
{
    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += iov[i].iov_len;
    size_t k = total ? chaos_take(t, total) : 0;
    if (total && k == 0) {
        errno = EAGAIN;
        return -1;
    }
    /* The first k bytes of the vector. */
    struct iovec cut[8];
    int m = 0;
    for (int i = 0; i < n && m < 8 && k > 0; i++) {
        size_t len = iov[i].iov_len < k ? iov[i].iov_len : k;
        if (len == 0)
            continue;
        cut[m++] = (struct iovec){iov[i].iov_base, len};
        k -= len;
    }
    if (m == 0)
        return 0;
    return rp_sock_writev(t->fd, cut, m);
}

static int chaos_shutdown(struct rp_transport *t)
{
    return shutdown(t->fd, SHUT_WR);
}

static const struct rp_transport_ops chaos_ops = {
    .name = "chaos",
    .read = chaos_read,
    .writev = chaos_writev,
    .shutdown = chaos_shutdown,
};

ssize_t rp_transport_raw_read(struct rp_transport *t, void *buf, size_t n)
{
    if (t->chaos)
        return chaos_read(t, buf, n);
    ssize_t r;
    do
        r = read(t->fd, buf, n);
    while (r < 0 && errno == EINTR);
    return r;
}

ssize_t rp_transport_raw_write(struct rp_transport *t, const void *buf, size_t n)
{
    struct iovec iov = {(void *)buf, n};
    if (t->chaos)
        return chaos_writev(t, &iov, 1);
    return rp_sock_writev(t->fd, &iov, 1);
}

void rp_transport_close(struct rp_transport *t)
{
    if (t->ops && t->ops->close)
        t->ops->close(t);
    if (t->fd >= 0) /* an HTTP/2 stream's has none */
        close(t->fd);
    t->fd = -1;
    t->ops = NULL;
}

void rp_transport_setup(void)
{
    const char *s = getenv("RPX_CHAOS_SEED");
    if (!s || !*s)
        return;
    chaos_on = true;
    chaos_seed = strtoull(s, NULL, 10);
    rp_warn("RPX_CHAOS_SEED=%s: every connection gets short reads and writes and spurious "
            "EAGAIN (a testing aid; unset it in production)",
            s);
}

void rp_transport_init(struct rp_transport *t, int fd)
{
    t->fd = fd;
    t->ops = NULL;
    t->tls = NULL;
    t->chaos = chaos_on;
    if (!chaos_on)
        return;
    t->ops = &chaos_ops;
    uint64_t k = atomic_fetch_add(&chaos_conns, 1) + 1;
    t->rng = (chaos_seed ^ (k * 0x9e3779b97f4a7c15ull)) | 1;
}
