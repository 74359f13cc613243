/*
 * test_sched_trust.c - the trust rule (scheduler/trust.c) and the daily
 * quota it shrinks (dispatch.c): a host is trusted from
 * adaptive_trust_after valid results in a row; only a trusted host's unit
 * may go out alone, and the random floor replicates some of those anyway;
 * each bad result halves the quota (never below one replica a day) and
 * each valid one doubles it back, up to the project's.
 */
#include "support.h"
#include "dispatch.h"
#include "trust.h"

static void trusted_from_the_threshold_on(void **state)
{
    (void)state;
    oz_trust_policy p = {.trust_after = 10, .replicate_floor = 0.05};
    assert_false(oz_trust_trusted(&p, 0));
    assert_false(oz_trust_trusted(&p, 9));
    assert_true(oz_trust_trusted(&p, 10));
    assert_true(oz_trust_trusted(&p, 1000));
}

static void alone_only_when_trusted_and_past_the_floor(void **state)
{
    (void)state;
    oz_trust_policy p = {.trust_after = 10, .replicate_floor = 0.05};
    assert_false(oz_trust_alone(&p, 9, 0.99)); /* untrusted: always replicated */
    assert_true(oz_trust_alone(&p, 10, 0.05));
    assert_true(oz_trust_alone(&p, 10, 0.5));
    assert_false(oz_trust_alone(&p, 10, 0.049)); /* the floor */
    /* over many draws the floor replicates its share */
    int replicated = 0;
    for (int i = 0; i < 10000; i++)
        replicated += !oz_trust_alone(&p, 50, (i + 0.5) / 10000.0);
    assert_int_equal(replicated, 500);
    p.replicate_floor = 1.0; /* everything replicated */
    assert_false(oz_trust_alone(&p, 50, 0.999));
}

/* The rule dispatch asks as a replica of an adaptive unit goes out. */
static void only_an_adaptive_units_first_replica_decides_alone_or_replicated(void **state)
{
    (void)state;
    oz_trust_policy p = {.trust_after = 10, .replicate_floor = 0.05};
    /* a trusted host, past the floor: alone - but only for an adaptive
     * unit, undecided for good, with no other replica out or counting */
    assert_int_equal(oz_trust_first_replica(&p, true, 0, 0, 10, 0.5), OZ_TRUST_FIRST_ALONE);
    assert_int_equal(oz_trust_first_replica(&p, false, 0, 0, 10, 0.5), OZ_TRUST_FIRST_NONE);
    assert_int_equal(oz_trust_first_replica(&p, true, 2, 0, 10, 0.5), OZ_TRUST_FIRST_NONE);
    assert_int_equal(oz_trust_first_replica(&p, true, 0, 1, 10, 0.5), OZ_TRUST_FIRST_NONE);
    /* an untrusted host (or the floor) leaves an undecided unit replicated... */
    assert_int_equal(oz_trust_first_replica(&p, true, 0, 0, 9, 0.5), OZ_TRUST_FIRST_NONE);
    assert_int_equal(oz_trust_first_replica(&p, true, 0, 0, 10, 0.01), OZ_TRUST_FIRST_NONE);
    /* ...and replicates one that was out alone (its result never came) */
    assert_int_equal(oz_trust_first_replica(&p, true, 1, 0, 9, 0.5), OZ_TRUST_FIRST_REPLICATE);
    /* a trusted host may take a unit out alone again */
    assert_int_equal(oz_trust_first_replica(&p, true, 1, 0, 10, 0.5), OZ_TRUST_FIRST_ALONE);
}

static void quota_halves_to_one_and_doubles_back(void **state)
{
    (void)state;
    assert_int_equal(oz_trust_quota(400, 0), 400);
    assert_int_equal(oz_trust_quota(400, 1), 200);
    assert_int_equal(oz_trust_quota(400, 2), 100);
    assert_int_equal(oz_trust_quota(400, 8), 1);
    assert_int_equal(oz_trust_quota(400, OZ_TRUST_HALVINGS_MAX), 1);
    assert_int_equal(oz_trust_quota(400, 62), 1);
    assert_int_equal(oz_trust_quota(400, -3), 400);
}

static void dispatch_counts_the_halved_quota(void **state)
{
    (void)state;
    oz_dispatch_limits l = {
        .per_cpu = 1000, .ncpus_max = 64, .new_host_ncpus = 64, .daily_per_cpu = 100};
    oz_dispatch_host h = {.ncpus = 4, .flops = 1e9, .returned = 100};
    assert_int_equal(oz_dispatch_allowed(&l, &h), 400);
    h.quota_halvings = 3; /* three bad results */
    assert_int_equal(oz_dispatch_allowed(&l, &h), 50);
    h.sent_today = 49;
    assert_int_equal(oz_dispatch_allowed(&l, &h), 1);
    h.sent_today = 50;
    assert_int_equal(oz_dispatch_allowed(&l, &h), 0);
    h.quota_halvings = 2; /* a valid one doubles it back */
    assert_int_equal(oz_dispatch_allowed(&l, &h), 50);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(trusted_from_the_threshold_on),
        cmocka_unit_test(alone_only_when_trusted_and_past_the_floor),
        cmocka_unit_test(only_an_adaptive_units_first_replica_decides_alone_or_replicated),
        cmocka_unit_test(quota_halves_to_one_and_doubles_back),
        cmocka_unit_test(dispatch_counts_the_halved_quota),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
