/* test_limit.c: the rate limits' shared tables: the generic cell rate
 * algorithm at once and delayed, keys apart, the bound on keys and what a
 * full table forgets, request keys (values, absent values, routes), and
 * exactness under two threads. */
#include <pthread.h>
#include <string.h>

#include "limit.h"
#include "rp/match.h"
#include "t.h"

#define MS 1000000ull
#define SEC 1000000000ull

static struct rp_limit_def def_of(uint32_t per_s, uint32_t burst, uint32_t keys)
{
    return (struct rp_limit_def){.name = "t", .index = 0, .interval_ns = SEC / per_s,
                                 .burst = burst, .quota = per_s, .window_s = 1, .keys = keys};
}

static struct rp_limits *limits_of(const struct rp_limit_def *def)
{
    static const struct rp_limit_def *list[1];
    list[0] = def;
    struct rp_program prog = {.n_limits = 1, .limits = list};
    return rp_limits_new(&prog);
}

T_SUITE(limit_at_once)
{
    struct rp_limit_def d = def_of(10, 3, 1000); /* 100 ms apart, 3 at once */
    struct rp_limits *ls = limits_of(&d);
    uint64_t now = 1000 * SEC, wait = 0;
    for (int i = 0; i < 3; i++)
        T_EQ(rp_limit_take(ls, &d, false, 42, now, &wait), RP_LIMIT_PASS);
    T_EQ(rp_limit_take(ls, &d, false, 42, now, &wait), RP_LIMIT_REJECT);
    T_EQ(wait, 100 * MS); /* the next token */
    T_EQ(rp_limit_take(ls, &d, false, 7, now, &wait), RP_LIMIT_PASS); /* another key */
    T_EQ(rp_limit_take(ls, &d, false, 42, now + 99 * MS, &wait), RP_LIMIT_REJECT);
    T_EQ(wait, 1 * MS);
    T_EQ(rp_limit_take(ls, &d, false, 42, now + 100 * MS, &wait), RP_LIMIT_PASS);
    T_EQ(rp_limit_take(ls, &d, false, 42, now + 100 * MS, &wait), RP_LIMIT_REJECT);
    /* quiet for long: the burst is back, no more */
    for (int i = 0; i < 3; i++)
        T_EQ(rp_limit_take(ls, &d, false, 42, now + 60 * SEC, &wait), RP_LIMIT_PASS);
    T_EQ(rp_limit_take(ls, &d, false, 42, now + 60 * SEC, &wait), RP_LIMIT_REJECT);
    /* over a long run the rate is exact: a request every ms for 10 s */
    int passed = 0;
    uint64_t t0 = now + 120 * SEC;
    for (uint64_t t = 0; t < 10 * SEC; t += MS)
        passed += rp_limit_take(ls, &d, false, 99, t0 + t, &wait) == RP_LIMIT_PASS;
    T_EQ(passed, 3 + 99); /* the burst, then one per 100 ms after the first */
    struct rp_limit_counts c;
    rp_limit_counts(ls, 0, &c);
    T_EQ(c.delayed, 0);
    T_OK(c.rejected > 9000);
    rp_limits_free(ls);
}

T_SUITE(limit_delay)
{
    struct rp_limit_def d = def_of(10, 3, 1000);
    struct rp_limits *ls = limits_of(&d);
    uint64_t now = 5 * SEC, wait = 0;
    T_EQ(rp_limit_take(ls, &d, true, 1, now, &wait), RP_LIMIT_PASS);
    for (uint64_t i = 1; i <= 3; i++) {
        T_EQ(rp_limit_take(ls, &d, true, 1, now, &wait), RP_LIMIT_DELAY);
        T_EQ(wait, i * 100 * MS);
    }
    T_EQ(rp_limit_take(ls, &d, true, 1, now, &wait), RP_LIMIT_REJECT);
    T_EQ(wait, 100 * MS);
    struct rp_limit_counts c;
    rp_limit_counts(ls, 0, &c);
    T_EQ(c.delayed, 3);
    T_EQ(c.rejected, 1);
    rp_limits_free(ls);
}

T_SUITE(limit_bounded_keys)
{
    /* 7 keys: one set. Quiet keys give their slots up without a count;
     * live ones pushed out are counted (and start again with a burst). */
    struct rp_limit_def d = def_of(1, 1, 7);
    struct rp_limits *ls = limits_of(&d);
    uint64_t now = 100 * SEC, wait;
    for (uint64_t k = 0; k < 7; k++)
        T_EQ(rp_limit_take(ls, &d, false, k << 1, now, &wait), RP_LIMIT_PASS);
    for (uint64_t k = 0; k < 7; k++)
        T_EQ(rp_limit_take(ls, &d, false, k << 1, now, &wait), RP_LIMIT_REJECT);
    struct rp_limit_counts c;
    rp_limit_counts(ls, 0, &c);
    T_EQ(c.evicted, 0);
    T_EQ(rp_limit_take(ls, &d, false, 100 << 1, now, &wait), RP_LIMIT_PASS);
    rp_limit_counts(ls, 0, &c);
    T_EQ(c.evicted, 1);
    /* a second later every key is quiet: new ones evict nothing */
    for (uint64_t k = 200; k < 207; k++)
        T_EQ(rp_limit_take(ls, &d, false, k << 1, now + 2 * SEC, &wait), RP_LIMIT_PASS);
    rp_limit_counts(ls, 0, &c);
    T_EQ(c.evicted, 1);
    rp_limits_free(ls);
}

T_SUITE(limit_keys)
{
    static const struct rp_piece hdr[] = {{RP_PIECE_VALUE, RP_VAL_HEADER, 9, "x-api-key"}};
    static const struct rp_piece ip[] = {{RP_PIECE_CLIENT_IP, 0, 0, NULL}};
    struct rp_limit_def by_hdr = def_of(1, 1, 100), by_ip = def_of(1, 1, 100);
    by_hdr.n_key = 1, by_hdr.key = hdr;
    by_ip.n_key = 1, by_ip.key = ip;
    struct rp_request_view v;
    memset(&v, 0, sizeof v);
    uint64_t k1, k2, k3;
    T_OK(!rp_limit_key(&by_hdr, &v, 0, &k1)); /* no header: not counted */
    T_OK(rp_limit_key(&by_ip, &v, 0, &k1));
    v.client_ip[15] = 1;
    T_OK(rp_limit_key(&by_ip, &v, 0, &k2));
    T_OK(k1 != k2);
    by_ip.by_route = true;
    T_OK(rp_limit_key(&by_ip, &v, 0, &k1));
    T_OK(rp_limit_key(&by_ip, &v, 1, &k3));
    T_OK(k1 != k3 && k1 != k2);
    struct rp_limit_def global = def_of(1, 1, 100);
    T_OK(rp_limit_key(&global, &v, 0, &k1));
    T_OK(rp_limit_key(&global, &v, 5, &k2));
    T_EQ(k1, k2); /* no key, not by route: one count for every request */
}

struct racer {
    struct rp_limits *ls;
    const struct rp_limit_def *d;
    int passed;
};

static void *race(void *arg)
{
    struct racer *r = arg;
    uint64_t wait;
    for (uint64_t t = 0; t < 200000; t++)
        r->passed += rp_limit_take(r->ls, r->d, false, 5, 1000 * SEC + t * 1000, &wait) ==
                     RP_LIMIT_PASS;
    return NULL;
}

T_SUITE(limit_threads)
{
    /* Two threads on one key over the same 200 ms of clock: together they
     * pass exactly the burst plus one per interval, however they interleave. */
    struct rp_limit_def d = def_of(1000, 50, 100);
    struct rp_limits *ls = limits_of(&d);
    struct racer a = {ls, &d, 0}, b = {ls, &d, 0};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, race, &a);
    pthread_create(&tb, NULL, race, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    T_EQ(a.passed + b.passed, 50 + 199);
    rp_limits_free(ls);
}

T_SUITE(limit_counts)
{
    struct rp_key_counts *t = rp_key_counts_new(7);
    T_OK(rp_key_counts_acquire(t, 10, 2));
    T_OK(rp_key_counts_acquire(t, 10, 2));
    T_OK(!rp_key_counts_acquire(t, 10, 2)); /* at its cap */
    T_OK(rp_key_counts_acquire(t, 12, 2)); /* another key */
    T_EQ(rp_key_counts_get(t, 10), 2);
    rp_key_counts_release(t, 10);
    T_EQ(rp_key_counts_get(t, 10), 1);
    T_OK(rp_key_counts_acquire(t, 10, 2));
    /* a full set: the eighth live key goes uncounted, and is counted as such */
    for (uint64_t k = 100; k < 105; k++)
        T_OK(rp_key_counts_acquire(t, k << 1, 1));
    T_OK(rp_key_counts_acquire(t, 999 << 1, 1));
    T_OK(rp_key_counts_acquire(t, 999 << 1, 1)); /* uncounted: not refused */
    uint64_t refused, over;
    rp_key_counts_totals(t, &refused, &over);
    T_EQ(refused, 1);
    T_EQ(over, 2);
    rp_key_counts_release(t, 999 << 1); /* was never counted: nothing happens */
    rp_key_counts_free(t);
}
