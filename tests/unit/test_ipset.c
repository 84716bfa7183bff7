/* test_ipset.c: a large address set's index answers as the plain search
 * does, for random sets of IPv4 and IPv6 ranges (some spanning many
 * slots) and addresses at and around every range's ends. */
#include <stdlib.h>
#include <string.h>

#include "rp/match.h"
#include "t.h"

static uint64_t rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static int by_lo(const void *a, const void *b)
{
    return memcmp(((const struct rp_ip_range *)a)->lo, ((const struct rp_ip_range *)b)->lo, 16);
}

/* a - 1 or a + 1 as a 128-bit number */
static void step(uint8_t a[16], int d)
{
    for (int i = 15; i >= 0; i--) {
        uint8_t old = a[i];
        a[i] = (uint8_t)(a[i] + d);
        if ((d > 0 && a[i] > old) || (d < 0 && a[i] < old))
            break;
    }
}

T_SUITE(ipset_index)
{
    uint64_t s = 88172645463325252ull;
    enum { N = 5000 };
    struct rp_ip_range *r = calloc(N, sizeof *r);
    uint32_t n = 0;
    for (uint32_t i = 0; i < N; i++) {
        uint8_t a[16] = {0};
        bool v4 = rng(&s) % 4 != 0;
        if (v4) {
            a[10] = a[11] = 0xff;
            uint32_t ip = (uint32_t)rng(&s);
            memcpy(a + 12, &ip, 4);
        } else {
            uint64_t x = rng(&s), y = rng(&s);
            memcpy(a, &x, 8);
            memcpy(a + 8, &y, 8);
            a[0] &= 0x3f; /* some in slot 0, beside the IPv4 ones */
        }
        memcpy(r[n].lo, a, 16);
        memcpy(r[n].hi, a, 16);
        /* widths from one address to a /8 of IPv4 */
        unsigned bits = (unsigned)(rng(&s) % (v4 ? 24 : 40));
        for (unsigned b = 0; b < bits; b++)
            r[n].hi[15 - b / 8] |= (uint8_t)(1u << (b % 8));
        for (unsigned b = 0; b < bits; b++)
            r[n].lo[15 - b / 8] &= (uint8_t)~(1u << (b % 8));
        n++;
    }
    qsort(r, n, sizeof *r, by_lo);
    /* merge overlaps as the compiler does */
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (m && memcmp(r[i].lo, r[m - 1].hi, 16) <= 0) {
            if (memcmp(r[i].hi, r[m - 1].hi, 16) > 0)
                memcpy(r[m - 1].hi, r[i].hi, 16);
            continue;
        }
        r[m++] = r[i];
    }
    struct rp_ip_index x = {r, m, malloc(RP_IP_INDEX_SLOTS * 4), malloc(RP_IP_INDEX_SLOTS * 4)};
    rp_ip_index_build(&x);
    unsigned differ = 0, hits = 0, probes = 0;
    for (uint32_t i = 0; i < m; i++)
        for (int end = 0; end < 2; end++)
            for (int d = -1; d <= 1; d++) {
                uint8_t a[16];
                memcpy(a, end ? r[i].hi : r[i].lo, 16);
                if (d)
                    step(a, d);
                bool want = rp_ip_in(a, r, m), got = rp_ip_in_index(a, &x);
                differ += want != got;
                hits += want;
                probes++;
            }
    for (int i = 0; i < 100000; i++) {
        uint8_t a[16] = {0};
        a[10] = a[11] = 0xff;
        uint32_t ip = (uint32_t)rng(&s);
        memcpy(a + 12, &ip, 4);
        differ += rp_ip_in(a, r, m) != rp_ip_in_index(a, &x);
        probes++;
    }
    static const uint8_t lo6[16] = {0}, one[16] = {[15] = 1};
    differ += rp_ip_in(lo6, r, m) != rp_ip_in_index(lo6, &x);
    differ += rp_ip_in(one, r, m) != rp_ip_in_index(one, &x);
    T_EQ(differ, 0);
    T_OK(hits > 0 && hits < probes);
    /* an empty set */
    struct rp_ip_index e = {r, 0, x.v4, x.v6};
    rp_ip_index_build(&e);
    T_OK(!rp_ip_in_index(r[0].lo, &e));
    free(x.v4);
    free(x.v6);
    free(r);
}
