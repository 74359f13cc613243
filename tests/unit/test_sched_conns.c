/*
 * test_sched_conns.c - the connection table (scheduler/conns.c) that lets
 * slow clients hold no slot for long (issue 21, hole 1): connections are
 * admitted within the total and per-address limits and counted until
 * released; a connection is past its deadline when its headers take longer
 * than header_s, or its body comes slower than body_rate after that grace,
 * and never while busy; the sweep names a connection once, and only one
 * that libmicrohttpd has begun; a descriptor reused without its release
 * frees its old slot.
 */
#include "support.h"
#include "conns.h"

struct named {
    int fds[64];
    size_t n;
};

static void note(int fd, void *arg)
{
    struct named *w = arg;
    if (w->n < 64)
        w->fds[w->n++] = fd;
}

static size_t sweep(oz_conns *c, double now, struct named *w)
{
    w->n = 0;
    return oz_conns_sweep(c, now, note, w);
}

static oz_conns *make(size_t total, size_t per_addr)
{
    oz_conns_limits l = {.total = total, .per_addr = per_addr, .header_s = 10, .body_rate = 100};
    oz_conns *c = NULL;
    assert_int_equal(oz_conns_new(&l, &c), 0);
    return c;
}

static void limits_total_and_per_address(void **state)
{
    (void)state;
    oz_conns *c = make(5, 2);
    assert_int_equal(oz_conns_admit(c, 10, 111, 0), 0);
    assert_int_equal(oz_conns_admit(c, 11, 111, 0), 0);
    assert_int_equal(oz_conns_admit(c, 12, 111, 0), OZ_CONNS_ADDR_FULL);
    assert_int_equal(oz_conns_open_from(c, 111), 2);
    assert_int_equal(oz_conns_admit(c, 12, 222, 0), 0);
    assert_int_equal(oz_conns_admit(c, 13, 222, 0), 0);
    assert_int_equal(oz_conns_admit(c, 14, 333, 0), 0);
    assert_int_equal(oz_conns_open(c), 5);
    assert_int_equal(oz_conns_admit(c, 15, 444, 0), OZ_CONNS_FULL);
    /* the address at its own limit hears about its own limit first */
    assert_int_equal(oz_conns_admit(c, 15, 111, 0), OZ_CONNS_ADDR_FULL);
    oz_conns_release(c, 10);
    oz_conns_release(c, 10); /* twice: nothing more */
    oz_conns_release(c, 99); /* unknown: ignored */
    assert_int_equal(oz_conns_open(c), 4);
    assert_int_equal(oz_conns_open_from(c, 111), 1);
    assert_int_equal(oz_conns_admit(c, 15, 111, 0), 0);
    assert_int_equal(oz_conns_open_from(c, 111), 2);
    for (int fd = 11; fd <= 15; fd++)
        oz_conns_release(c, fd);
    assert_int_equal(oz_conns_open(c), 0);
    assert_int_equal(oz_conns_open_from(c, 111), 0);
    assert_int_equal(oz_conns_open_from(c, 222), 0);
    oz_conns_free(c);
}

static void no_per_address_limit_when_zero(void **state)
{
    (void)state;
    oz_conns *c = make(50, 0);
    for (int fd = 0; fd < 50; fd++)
        assert_int_equal(oz_conns_admit(c, fd, 7, 0), 0);
    assert_int_equal(oz_conns_admit(c, 50, 7, 0), OZ_CONNS_FULL);
    oz_conns_free(c);
}

static void a_reused_descriptor_frees_its_old_slot(void **state)
{
    (void)state;
    oz_conns *c = make(2, 1);
    assert_int_equal(oz_conns_admit(c, 5, 1, 0), 0);
    /* fd 5 closed without a release (libmicrohttpd dropped it early), then
     * accepted again from another address: the old count is gone */
    assert_int_equal(oz_conns_admit(c, 5, 2, 0), 0);
    assert_int_equal(oz_conns_open(c), 1);
    assert_int_equal(oz_conns_open_from(c, 1), 0);
    assert_int_equal(oz_conns_admit(c, 6, 1, 0), 0);
    oz_conns_free(c);
}

static void header_deadline_counts_from_the_start(void **state)
{
    (void)state;
    struct named w;
    oz_conns *c = make(8, 0);
    assert_int_equal(oz_conns_admit(c, 3, 1, 100.0), 0);
    assert_int_equal(oz_conns_admit(c, 4, 1, 100.0), 0);
    oz_conns_begun(c, 3);
    /* 4 is never begun by libmicrohttpd: never named */
    assert_int_equal(sweep(c, 109.9, &w), 0);
    assert_int_equal(sweep(c, 110.1, &w), 1);
    assert_int_equal(w.fds[0], 3);
    assert_int_equal(sweep(c, 200, &w), 0); /* named once */
    oz_conns_free(c);
}

static void body_must_keep_the_rate_after_grace(void **state)
{
    (void)state;
    struct named w;
    oz_conns *c = make(8, 0);
    assert_int_equal(oz_conns_admit(c, 3, 1, 0), 0);
    oz_conns_begun(c, 3);
    oz_conns_phase(c, 3, OZ_CONN_BODY, 5.0);
    /* grace 10 s, then 100 bytes/s: 1000 bytes buy 10 s more */
    assert_int_equal(sweep(c, 14.9, &w), 0);
    oz_conns_body(c, 3, 1000);
    assert_int_equal(sweep(c, 24.9, &w), 0);
    assert_int_equal(sweep(c, 25.1, &w), 1);
    oz_conns_free(c);
}

static void busy_has_no_deadline_and_kept_alive_starts_over(void **state)
{
    (void)state;
    struct named w;
    oz_conns *c = make(8, 0);
    assert_int_equal(oz_conns_admit(c, 3, 1, 0), 0);
    oz_conns_begun(c, 3);
    oz_conns_phase(c, 3, OZ_CONN_BODY, 1.0);
    oz_conns_phase(c, 3, OZ_CONN_BUSY, 1.0);
    assert_int_equal(sweep(c, 1000, &w), 0);
    /* answered: the next request's headers have header_s from now */
    oz_conns_phase(c, 3, OZ_CONN_HEADERS, 1000);
    assert_int_equal(sweep(c, 1009, &w), 0);
    assert_int_equal(sweep(c, 1011, &w), 1);
    oz_conns_free(c);
}

static void no_body_rate_means_no_body_deadline(void **state)
{
    (void)state;
    struct named w;
    oz_conns_limits l = {.total = 4, .header_s = 1, .body_rate = 0};
    oz_conns *c = NULL;
    assert_int_equal(oz_conns_new(&l, &c), 0);
    assert_int_equal(oz_conns_admit(c, 3, 1, 0), 0);
    oz_conns_begun(c, 3);
    oz_conns_phase(c, 3, OZ_CONN_BODY, 0);
    assert_int_equal(sweep(c, 1e6, &w), 0);
    oz_conns_free(c);
}

static void many_connections_churn(void **state)
{
    (void)state;
    /* admit and release in a scrambled order, checking the counts stay
     * exact through the tables' deletions */
    enum { N = 1000 };
    oz_conns *c = make(N, 3);
    size_t per[N / 3 + 1] = {0};
    bool open[N] = {false};
    unsigned x = 12345;
    for (int step = 0; step < 20000; step++) {
        x = x * 1103515245u + 12345u;
        int fd = (int)((x >> 8) % N);
        uint64_t key = (uint64_t)(fd / 3) * UINT64_C(0x9e3779b97f4a7c15);
        if (open[fd]) {
            oz_conns_release(c, fd);
            open[fd] = false;
            per[fd / 3]--;
        } else {
            assert_int_equal(oz_conns_admit(c, fd, key, 0), 0);
            open[fd] = true;
            per[fd / 3]++;
        }
        if (step % 997 == 0) {
            size_t total = 0;
            for (int k = 0; k < N; k++)
                total += open[k];
            assert_int_equal(oz_conns_open(c), total);
            for (int a = 0; a < N / 3; a++)
                assert_int_equal(oz_conns_open_from(c, (uint64_t)a * UINT64_C(0x9e3779b97f4a7c15)),
                                 per[a]);
        }
    }
    oz_conns_free(c);
}

static void bad_limits_refused(void **state)
{
    (void)state;
    oz_conns *c = NULL;
    oz_conns_limits none = {.total = 0, .header_s = 1};
    assert_int_not_equal(oz_conns_new(&none, &c), 0);
    oz_conns_limits no_deadline = {.total = 4, .header_s = 0};
    assert_int_not_equal(oz_conns_new(&no_deadline, &c), 0);
    assert_null(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(limits_total_and_per_address),
        cmocka_unit_test(no_per_address_limit_when_zero),
        cmocka_unit_test(a_reused_descriptor_frees_its_old_slot),
        cmocka_unit_test(header_deadline_counts_from_the_start),
        cmocka_unit_test(body_must_keep_the_rate_after_grace),
        cmocka_unit_test(busy_has_no_deadline_and_kept_alive_starts_over),
        cmocka_unit_test(no_body_rate_means_no_body_deadline),
        cmocka_unit_test(many_connections_churn),
        cmocka_unit_test(bad_limits_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
