/* limit_redis.c: `limit ... shared redis "IP:PORT"`: the fleet's counts.
 *
 * Each process decides on its own, from its table (limit.c), so no request
 * waits for Redis. Ten times a second the main thread sends each key's
 * passes since the last time (INCRBY on the key "rpx:NAME:TAG", which
 * expires once the key is quiet); the total that comes back says how many
 * the other processes passed, and the key's time here moves on as if they
 * had passed here. A limit is then exact across the fleet but for what
 * the processes pass in the same tenth of a second. Redis unreachable:
 * each process limits alone (on_error open, the default) or refuses
 * (on_error closed), and it is tried again every second. */
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <hiredis/adapters/libev.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "limit.h"
#include "limit_redis.h"
#include "log.h"
#include "worker.h"

#define SYNC_PERIOD_S 0.1
#define RECONNECT_S 1.0
#define ITEMS_PER_TICK 4096

struct link {
    const struct rp_limit_def *def;
    struct rp_limits *ls;
    struct ev_loop *loop;
    redisAsyncContext *ac;
    bool up;
    double next_connect;
    uint64_t cursor;
    ev_timer tick;
    uint64_t expire_ms;
};

struct pushed {
    struct link *l;
    uint64_t tag;
    uint32_t sent;
};

static struct link *links;
static uint32_t n_links;

static uint64_t now_ns(void)
{
    return rp_limit_now();
}

static void set_up(struct link *l, bool up)
{
    if (l->up != up)
        rp_info("limit %s: Redis at %s:%u %s", l->def->name, l->def->redis_host,
                l->def->redis_port, up ? "reached" : "unreachable");
    l->up = up;
    rp_limit_sync_down(l->ls, l->def, !up);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    struct link *l = ac->data;
    if (status != REDIS_OK) {
        l->ac = NULL; /* hiredis frees it */
        set_up(l, false);
        return;
    }
    set_up(l, true);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    (void)status;
    struct link *l = ac->data;
    l->ac = NULL;
    set_up(l, false);
}

static void on_total(redisAsyncContext *ac, void *r, void *priv)
{
    (void)ac;
    struct pushed *p = priv;
    redisReply *reply = r;
    if (reply && reply->type == REDIS_REPLY_INTEGER && reply->integer >= 0)
        rp_limit_sync_apply(p->l->ls, p->l->def, p->tag, (uint64_t)reply->integer, p->sent,
                            now_ns());
    else if (reply && reply->type == REDIS_REPLY_ERROR)
        rp_warn("limit %s: Redis: %s", p->l->def->name, reply->str);
    free(p);
}

static void on_pong(redisAsyncContext *ac, void *r, void *priv)
{
    (void)ac;
    redisReply *reply = r;
    if (reply && reply->type == REDIS_REPLY_STATUS)
        set_up(priv, true);
}

static void try_connect(struct link *l)
{
    l->next_connect = ev_now(l->loop) + RECONNECT_S;
    redisAsyncContext *ac = redisAsyncConnect(l->def->redis_host, l->def->redis_port);
    if (!ac || ac->err) {
        if (ac)
            redisAsyncFree(ac);
        set_up(l, false);
        return;
    }
    ac->data = l;
    if (redisLibevAttach(l->loop, ac) != REDIS_OK) {
        redisAsyncFree(ac);
        set_up(l, false);
        return;
    }
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    l->ac = ac;
    /* hiredis 0.14 watches a connecting socket only once a command waits:
     * a PING makes the connection go through (and says it works) */
    redisAsyncCommand(ac, on_pong, l, "PING");
}

static void tick_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)revents;
    struct link *l = (struct link *)((char *)t - offsetof(struct link, tick));
    if (!l->ac) {
        if (ev_now(loop) >= l->next_connect)
            try_connect(l);
        return;
    }
    if (!l->up)
        return; /* connecting: what passed waits in the table */
    static struct rp_limit_sync_item items[ITEMS_PER_TICK];
    uint32_t n = rp_limit_sync_collect(l->ls, l->def, items, ITEMS_PER_TICK, &l->cursor);
    for (uint32_t i = 0; i < n; i++) {
        struct pushed *p = malloc(sizeof *p);
        if (!p)
            break;
        *p = (struct pushed){l, items[i].tag, items[i].count};
        char key[160];
        snprintf(key, sizeof key, "rpx:%s:%016" PRIx64, l->def->name, items[i].tag);
        if (redisAsyncCommand(l->ac, on_total, p, "INCRBY %s %u", key, items[i].count) != REDIS_OK) {
            free(p);
            break;
        }
        redisAsyncCommand(l->ac, NULL, NULL, "PEXPIRE %s %" PRIu64, key, l->expire_ms);
    }
}

int rp_limit_redis_start(struct rp_proc *proc, struct ev_loop *loop)
{
    const struct rp_program *prog = proc->prog;
    for (uint32_t i = 0; i < prog->n_limits; i++)
        n_links += prog->limits[i]->redis_host != NULL;
    if (!n_links)
        return 0;
    links = calloc(n_links, sizeof *links);
    if (!links)
        return -1;
    uint32_t k = 0;
    for (uint32_t i = 0; i < prog->n_limits; i++) {
        const struct rp_limit_def *def = prog->limits[i];
        if (!def->redis_host)
            continue;
        struct link *l = &links[k++];
        l->def = def;
        l->ls = proc->limits;
        l->loop = loop;
        l->up = !def->fail_closed; /* as the table starts */
        /* a key forgotten by Redis once its burst would be back here, and
         * never sooner than a few pushes */
        uint64_t full_ms = (uint64_t)def->burst * def->interval_ns / 1000000u;
        l->expire_ms = full_ms > 10000 ? full_ms : 10000;
        try_connect(l);
        ev_timer_init(&l->tick, tick_cb, SYNC_PERIOD_S, SYNC_PERIOD_S);
        ev_timer_start(loop, &l->tick);
    }
    return 0;
}

void rp_limit_redis_stop(struct ev_loop *loop)
{
    for (uint32_t i = 0; i < n_links; i++) {
        ev_timer_stop(loop, &links[i].tick);
        if (links[i].ac) {
            links[i].ac->data = &links[i];
            redisAsyncSetDisconnectCallback(links[i].ac, NULL);
            redisAsyncFree(links[i].ac);
        }
    }
    free(links);
    links = NULL;
    n_links = 0;
}
