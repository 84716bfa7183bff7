/* test_balance.c: server selection over a hand-made program and worker. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "balance.h"
#include "health.h"
#include "t.h"
#include "worker.h"

#define MAX_SERVERS 8

/* A program with one backend of n servers, and the process and worker
 * state rp_balance_pick reads. */
struct fixture {
    struct rp_server_def servers[MAX_SERVERS];
    struct rp_backend_def backend;
    struct rp_program prog;
    struct rp_proc proc;
    struct rp_worker w;
    int32_t current_weight[MAX_SERVERS];
    struct rp_backend_rt brt;
    struct rp_server_state *state_row;
    struct rp_server_state *state_rows[1];
    struct rp_backend_state bstate;
    struct rp_ring ring;
};

static const char *const names[MAX_SERVERS] = {"a", "b", "c", "d", "e", "f", "g", "h"};

static void fixture_init(struct fixture *f, enum rp_balance_algo algo, uint32_t n,
                         const uint16_t *weights)
{
    memset(f, 0, sizeof *f);
    for (uint32_t i = 0; i < n; i++) {
        f->servers[i] = (struct rp_server_def){
            .name = names[i], .host = "127.0.0.1", .port = (uint16_t)(9000 + i),
            .weight = weights ? weights[i] : 1};
    }
    f->backend = (struct rp_backend_def){.name = "app", .balance = algo, .n_servers = n,
                                         .servers = f->servers};
    f->prog = (struct rp_program){.n_backends = 1, .backends = &f->backend};
    f->state_row = aligned_alloc(64, MAX_SERVERS * sizeof(struct rp_server_state));
    memset(f->state_row, 0, MAX_SERVERS * sizeof(struct rp_server_state));
    for (uint32_t i = 0; i < MAX_SERVERS; i++) {
        atomic_store(&f->state_row[i].check_up, true);
        atomic_store(&f->state_row[i].weight, i < n ? f->servers[i].weight : 1);
    }
    f->state_rows[0] = f->state_row;
    f->proc.prog = &f->prog;
    f->proc.server_state = f->state_rows;
    f->proc.backend_state = &f->bstate;
    f->proc.rings = &f->ring;
    f->brt.balance.current_weight = f->current_weight;
    f->w.prog = &f->prog;
    f->w.proc = &f->proc;
    f->w.backends = &f->brt;
    f->w.loop = ev_loop_new(EVFLAG_AUTO);
    f->w.rng = 12345;
    if (algo == RP_BALANCE_HASH)
        rp_ring_build(&f->ring, &f->backend);
}

static void fixture_free(struct fixture *f)
{
    rp_ring_free(&f->ring);
    free(f->state_row);
    ev_loop_destroy(f->w.loop);
}

static void set_usable(struct fixture *f, uint32_t s, bool up)
{
    atomic_store(&f->state_row[s].check_up, up);
}

T_SUITE(balance_round_robin)
{
    static const uint16_t w31[] = {3, 1};
    struct fixture f;
    fixture_init(&f, RP_BALANCE_ROUND_ROBIN, 2, w31);
    uint32_t count[2] = {0};
    for (int i = 0; i < 4000; i++)
        count[rp_balance_pick(&f.w, 0, 0, 0, 0, NULL)]++;
    T_EQ(count[0], 3000);
    T_EQ(count[1], 1000);
    /* Smooth: the light server is never picked twice in a row, and the
     * heavy one at most three times in a row. */
    uint32_t prev = 2, run = 0, worst_a = 0;
    bool b_twice = false;
    for (int i = 0; i < 400; i++) {
        uint32_t s = rp_balance_pick(&f.w, 0, 0, 0, 0, NULL);
        run = s == prev ? run + 1 : 1;
        if (s == 0 && run > worst_a)
            worst_a = run;
        if (s == 1 && run > 1)
            b_twice = true;
        prev = s;
    }
    T_OK(!b_twice);
    T_OK(worst_a <= 3);
    /* A server that is down gets nothing; the other gets everything. */
    set_usable(&f, 0, false);
    for (int i = 0; i < 10; i++)
        T_EQ(rp_balance_pick(&f.w, 0, 0, 0, 0, NULL), 1);
    set_usable(&f, 1, false);
    T_EQ(rp_balance_pick(&f.w, 0, 0, 0, 0, NULL), RP_PICK_NONE);
    fixture_free(&f);
}

T_SUITE(balance_backup_and_full)
{
    struct fixture f;
    fixture_init(&f, RP_BALANCE_ROUND_ROBIN, 3, NULL);
    f.servers[2].backup = true;
    for (int i = 0; i < 10; i++)
        T_OK(rp_balance_pick(&f.w, 0, 0, 0, 0, NULL) != 2); /* primaries up: no backup */
    set_usable(&f, 0, false);
    set_usable(&f, 1, false);
    T_EQ(rp_balance_pick(&f.w, 0, 0, 0, 0, NULL), 2); /* all primaries down: the backup */
    set_usable(&f, 0, true);
    /* max_conns reached on the only usable primary: wait (FULL), do not
     * spill over to the backup. */
    f.servers[0].max_conns = 2;
    atomic_store(&f.state_row[0].active, 2);
    T_EQ(rp_balance_pick(&f.w, 0, 0, 0, 0, NULL), RP_PICK_FULL);
    atomic_store(&f.state_row[0].active, 1);
    T_EQ(rp_balance_pick(&f.w, 0, 0, 0, 0, NULL), 0);
    /* A retry excludes the server already tried. */
    set_usable(&f, 1, true);
    T_EQ(rp_balance_pick(&f.w, 0, 0, 1u << 0, 0, NULL), 1);
    fixture_free(&f);
}

T_SUITE(balance_least_conn)
{
    struct fixture f;
    fixture_init(&f, RP_BALANCE_LEAST_CONN, 3, NULL);
    atomic_store(&f.state_row[0].active, 5); /* a holds slow requests */
    atomic_store(&f.state_row[1].active, 1);
    atomic_store(&f.state_row[2].active, 0);
    T_EQ(rp_balance_pick(&f.w, 0, 0, 0, 0, NULL), 2);
    atomic_store(&f.state_row[2].active, 3);
    T_EQ(rp_balance_pick(&f.w, 0, 0, 0, 0, NULL), 1);
    /* Equal loads: the choice goes round instead of always the first. */
    for (int i = 0; i < 3; i++)
        atomic_store(&f.state_row[i].active, 0);
    uint32_t seen = 0;
    for (int i = 0; i < 6; i++)
        seen |= 1u << rp_balance_pick(&f.w, 0, 0, 0, 0, NULL);
    T_EQ(seen, 7);
    fixture_free(&f);
}

T_SUITE(balance_random2)
{
    struct fixture f;
    fixture_init(&f, RP_BALANCE_RANDOM2, 4, NULL);
    atomic_store(&f.state_row[3].active, 100);
    uint32_t count[4] = {0};
    for (int i = 0; i < 3000; i++)
        count[rp_balance_pick(&f.w, 0, 0, 0, 0, NULL)]++;
    /* The loaded server loses every comparison it is part of. */
    T_OK(count[3] < count[0] / 4);
    T_OK(count[0] > 500 && count[1] > 500 && count[2] > 500);
    fixture_free(&f);
}

T_SUITE(balance_first)
{
    struct fixture f;
    fixture_init(&f, RP_BALANCE_FIRST, 3, NULL);
    f.servers[0].max_conns = 1;
    T_EQ(rp_balance_pick(&f.w, 0, 0, 0, 0, NULL), 0);
    atomic_store(&f.state_row[0].active, 1);
    T_EQ(rp_balance_pick(&f.w, 0, 0, 0, 0, NULL), 1); /* a is full: fill the next */
    fixture_free(&f);
}

static uint64_t key_hash(int i)
{
    char key[32];
    int n = snprintf(key, sizeof key, "user-%d", i);
    return rp_hash64(key, (size_t)n, 0);
}

T_SUITE(balance_hash)
{
    enum { KEYS = 4000 };
    static uint32_t before[KEYS];
    struct fixture f;
    fixture_init(&f, RP_BALANCE_HASH, 4, NULL);
    uint32_t count[4] = {0};
    for (int i = 0; i < KEYS; i++) {
        before[i] = rp_balance_pick(&f.w, 0, key_hash(i), 0, 0, NULL);
        count[before[i]]++;
    }
    /* Spread: each of 4 equal servers gets its share within a margin. */
    for (int s = 0; s < 4; s++)
        T_OK(count[s] > KEYS / 4 * 6 / 10 && count[s] < KEYS / 4 * 14 / 10);
    /* Stable: the same key goes to the same server. */
    bool stable = true;
    for (int i = 0; i < KEYS; i++)
        stable &= rp_balance_pick(&f.w, 0, key_hash(i), 0, 0, NULL) == before[i];
    T_OK(stable);
    /* One server down: only its keys move. */
    set_usable(&f, 2, false);
    int moved = 0;
    bool only_its_keys = true;
    for (int i = 0; i < KEYS; i++) {
        uint32_t s = rp_balance_pick(&f.w, 0, key_hash(i), 0, 0, NULL);
        if (s != before[i]) {
            moved++;
            only_its_keys &= before[i] == 2;
        }
    }
    T_OK(only_its_keys);
    T_OK(moved <= KEYS / 3);
    fixture_free(&f);

    /* Removed from the policy (a new ring of 3): about a quarter move, at
     * most a third. */
    fixture_init(&f, RP_BALANCE_HASH, 4, NULL);
    f.servers[2] = f.servers[3];
    f.backend.n_servers = 3;
    rp_ring_free(&f.ring);
    rp_ring_build(&f.ring, &f.backend);
    moved = 0;
    for (int i = 0; i < KEYS; i++) {
        uint32_t s = rp_balance_pick(&f.w, 0, key_hash(i), 0, 0, NULL);
        const char *now = f.servers[s].name, *was = names[before[i]];
        moved += strcmp(now, was) != 0;
    }
    printf("# hash: removing 1 of 4 servers moved %d of %d keys\n", moved, KEYS);
    T_OK(moved <= KEYS / 3);
    fixture_free(&f);
}

T_SUITE(balance_slow_start)
{
    static const uint16_t w11[] = {10, 10};
    struct fixture f;
    fixture_init(&f, RP_BALANCE_ROUND_ROBIN, 2, w11);
    f.servers[1].slow_start_ms = 10000;
    /* b came back 1 s ago: a tenth of its weight. */
    long long now = rp_now_ms(f.w.loop);
    atomic_store(&f.state_row[1].up_since_ms, now - 1000);
    uint32_t count[2] = {0};
    for (int i = 0; i < 1100; i++)
        count[rp_balance_pick(&f.w, 0, 0, 0, 0, NULL)]++;
    T_EQ(count[1], 100);
    /* Past slow_start: full weight again. */
    atomic_store(&f.state_row[1].up_since_ms, now - 20000);
    count[0] = count[1] = 0;
    for (int i = 0; i < 1000; i++)
        count[rp_balance_pick(&f.w, 0, 0, 0, 0, NULL)]++;
    T_EQ(count[1], 500);
    fixture_free(&f);
}

/* Passive ejection (health.c): failures of attempts begun before an
 * ejection do not count again; one probe at a time once the backoff ends;
 * backoff doubles per failed probe, not per failure; success restores. */
T_SUITE(health_ejection)
{
    struct fixture f;
    fixture_init(&f, RP_BALANCE_ROUND_ROBIN, 2, NULL);
    enum rp_log_level saved_log = rp_log_max;
    rp_log_max = RP_LOG_ERROR; /* the transitions it logs are expected */
    struct rp_server_state *a = &f.state_row[0];
    long long t = rp_now_ms(f.w.loop); /* rp_balance_pick reads the loop's clock */
    unsigned gen = rp_server_gen(a);
    /* Two failures: still in. The third ejects it for the default second. */
    rp_health_failed(&f.proc, 0, 0, gen, t, "refused");
    rp_health_failed(&f.proc, 0, 0, gen, t, "refused");
    T_OK(rp_server_usable(a));
    rp_health_failed(&f.proc, 0, 0, gen, t, "refused");
    T_OK(!rp_server_usable(a));
    T_EQ(atomic_load(&a->down_until_ms), t + RP_EJECT_MS);
    T_EQ(atomic_load(&f.bstate.n_ejected), 1);
    /* Fifty requests that were in flight fail too: old news, no new ejection. */
    for (int i = 0; i < 50; i++)
        rp_health_failed(&f.proc, 0, 0, gen, t + 1, "reset");
    T_EQ(atomic_load(&a->down_until_ms), t + RP_EJECT_MS);
    T_EQ(atomic_load(&a->ejections), 0);
    /* Requests go to b meanwhile, and no probe is due yet. */
    bool probe = true;
    T_EQ(rp_balance_pick(&f.w, 0, 0, 0, 0, &probe), 1);
    T_OK(!probe);
    T_OK(!rp_health_claim_probe(a, t + RP_EJECT_MS - 1));
    /* Due: exactly one caller gets the probe. */
    T_OK(rp_health_claim_probe(a, t + RP_EJECT_MS));
    T_OK(!rp_health_claim_probe(a, t + RP_EJECT_MS));
    /* It fails: ejected again for twice as long. */
    t += RP_EJECT_MS;
    rp_health_probe_done(&f.proc, 0, 0, false, t, "refused");
    T_EQ(atomic_load(&a->down_until_ms), t + 2 * RP_EJECT_MS);
    /* The next probe succeeds: back at once, and the backoff starts over. */
    t += 2 * RP_EJECT_MS;
    T_OK(rp_health_claim_probe(a, t));
    rp_health_probe_done(&f.proc, 0, 0, true, t, NULL);
    T_OK(rp_server_usable(a));
    T_EQ(atomic_load(&f.bstate.n_ejected), 0);
    /* A failure of an attempt begun before the restore is ignored too. */
    rp_health_failed(&f.proc, 0, 0, gen, t, "reset");
    rp_health_failed(&f.proc, 0, 0, gen, t, "reset");
    rp_health_failed(&f.proc, 0, 0, gen, t, "reset");
    T_OK(rp_server_usable(a));
    /* An abandoned probe (no verdict) frees the claim without a verdict. */
    gen = rp_server_gen(a);
    for (int i = 0; i < 3; i++)
        rp_health_failed(&f.proc, 0, 0, gen, t, "refused");
    T_OK(!rp_server_usable(a));
    T_EQ(atomic_load(&a->down_until_ms), t + RP_EJECT_MS);
    T_OK(rp_health_claim_probe(a, t + RP_EJECT_MS));
    rp_health_probe_abandoned(&f.proc, 0, 0);
    T_OK(rp_health_claim_probe(a, t + RP_EJECT_MS));
    rp_log_max = saved_log;
    fixture_free(&f);
}

/* With every server ejected, a pick finds none; panic ignores health. */
T_SUITE(balance_panic)
{
    struct fixture f;
    fixture_init(&f, RP_BALANCE_ROUND_ROBIN, 2, NULL);
    set_usable(&f, 0, false);
    set_usable(&f, 1, false);
    bool probe;
    T_EQ(rp_balance_pick(&f.w, 0, 0, 0, 0, &probe), RP_PICK_NONE);
    uint32_t seen[2] = {0};
    for (int i = 0; i < 10; i++) {
        uint32_t s = rp_balance_pick(&f.w, 0, 0, 0, RP_PICK_F_PANIC, &probe);
        T_OK(s < 2);
        if (s < 2)
            seen[s]++;
    }
    T_OK(seen[0] > 0 && seen[1] > 0);
    fixture_free(&f);
}

/* The log limiter: one line a second, then the count of those held. */
T_SUITE(log_limit)
{
    struct rp_log_limit l = {0};
    enum rp_log_level saved_log = rp_log_max;
    rp_log_max = RP_LOG_ERROR;
    T_OK(rp_log_limit_pass(&l, 100.0));
    T_OK(!rp_log_limit_pass(&l, 100.2));
    T_OK(!rp_log_limit_pass(&l, 100.9));
    T_EQ(l.held, 2);
    T_OK(rp_log_limit_pass(&l, 101.1));
    T_EQ(l.held, 0);
    rp_log_max = saved_log;
}

/* An operator's word (status admin): a drained or disabled server gets no
 * new request, even in panic mode; a weight set at run time is followed. */
T_SUITE(balance_admin)
{
    struct fixture f;
    fixture_init(&f, RP_BALANCE_ROUND_ROBIN, 3, NULL);
    atomic_store(&f.state_row[1].admin, RP_ADMIN_DRAIN);
    atomic_store(&f.state_row[2].admin, RP_ADMIN_MAINT);
    bool only_a = true;
    for (int i = 0; i < 30; i++)
        only_a &= rp_balance_pick(&f.w, 0, 0, 0, 0, NULL) == 0;
    T_OK(only_a);
    T_EQ(rp_balance_pick(&f.w, 0, 0, 0, RP_PICK_F_PANIC, NULL), 0);
    atomic_store(&f.state_row[0].admin, RP_ADMIN_MAINT);
    T_EQ(rp_balance_pick(&f.w, 0, 0, 0, RP_PICK_F_PANIC, NULL), RP_PICK_NONE);
    for (int s = 0; s < 3; s++)
        atomic_store(&f.state_row[s].admin, RP_ADMIN_READY);
    atomic_store(&f.state_row[0].weight, 3);
    atomic_store(&f.state_row[2].weight, 0); /* 0: no new requests */
    uint32_t count[3] = {0};
    for (int i = 0; i < 400; i++)
        count[rp_balance_pick(&f.w, 0, 0, 0, 0, NULL)]++;
    T_EQ(count[0], 300);
    T_EQ(count[1], 100);
    T_EQ(count[2], 0);
    fixture_free(&f);
}

/* What an upgrade hands over of a server (rp_health_save, then
 * rp_health_restore in the successor): an operator's word and weights,
 * 0 among them, and a passive ejection, which the successor's balancer
 * then honours. */
T_SUITE(health_handover)
{
    struct rp_checker *unchecked[1] = {NULL}; /* no active checks */
    struct fixture old, next;
    fixture_init(&old, RP_BALANCE_ROUND_ROBIN, 3, NULL);
    old.proc.checkers = unchecked;
    atomic_store(&old.state_row[0].weight, 3);
    atomic_store(&old.state_row[1].weight, 0);
    atomic_store(&old.state_row[2].admin, RP_ADMIN_DRAIN);
    atomic_store(&old.state_row[2].down_until_ms, 1234567);
    struct rp_health_snapshot snap[3];
    for (uint32_t s = 0; s < 3; s++)
        rp_health_save(&old.proc, 0, s, &snap[s]);
    fixture_init(&next, RP_BALANCE_ROUND_ROBIN, 3, NULL);
    next.proc.checkers = unchecked;
    for (uint32_t s = 0; s < 3; s++)
        rp_health_restore(&next.proc, 0, s, &snap[s]);
    T_EQ(atomic_load(&next.state_row[0].weight), 3);
    T_EQ(atomic_load(&next.state_row[1].weight), 0); /* an admin's 0 is not "the policy's" */
    T_EQ(atomic_load(&next.state_row[2].weight), 1);
    T_EQ(atomic_load(&next.state_row[2].admin), RP_ADMIN_DRAIN);
    T_EQ(atomic_load(&next.state_row[2].down_until_ms), 1234567);
    T_EQ(atomic_load(&next.bstate.n_ejected), 1);
    bool only_a = true; /* b weighs 0, c is drained: a takes everything */
    for (int i = 0; i < 10; i++)
        only_a &= rp_balance_pick(&next.w, 0, 0, 0, 0, NULL) == 0;
    T_OK(only_a);
    fixture_free(&old);
    fixture_free(&next);
}
