/* iowant.c: the transports with ops' side of rp_transport_want (iowant.h),
 * kept out of transport.c, which rpx links (through tls.c) without libev. */
#include "iowant.h"

void rp_transport_want_ops(struct ev_loop *loop, ev_io *io, const struct rp_transport *t,
                           int events)
{
    if (t->ops->want) {
        t->ops->want((struct rp_transport *)t, events);
        return;
    }
    rp_io_want(loop, io, events);
    if ((events & EV_READ) && rp_transport_pending(t))
        ev_feed_event(loop, io, EV_READ);
}
