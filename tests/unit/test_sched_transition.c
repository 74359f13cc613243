/*
 * test_sched_transition.c - the transitioner's rule (scheduler/transition.c)
 * without a database: a unit short of live replicas gets exactly the
 * missing ones; max_error_results ends it and says why, quoting the last
 * client error; running out of max_total_results ends it for lack of
 * consensus; a unit with enough live replicas is left alone.
 */
#include <string.h>

#include "support.h"
#include "transition.h"

static oz_unit_tally quorum2(int64_t total, int64_t errors, int64_t live)
{
    return (oz_unit_tally){.target = 2, .max_error = 3, .max_total = 6, .total = total,
                           .errors = errors, .live = live};
}

static void short_units_get_the_missing_replicas(void **state)
{
    (void)state;
    oz_transition t;
    oz_unit_tally u = quorum2(0, 0, 0);
    oz_transition_decide(&u, "", &t);
    assert_int_equal(t.kind, OZ_TRANSITION_ADD);
    assert_int_equal(t.add, 2);
    u = quorum2(3, 1, 1); /* one error, one inconclusive pair lost one */
    oz_transition_decide(&u, "x", &t);
    assert_int_equal(t.kind, OZ_TRANSITION_ADD);
    assert_int_equal(t.add, 1);
}

static void enough_live_replicas_need_nothing(void **state)
{
    (void)state;
    oz_transition t;
    oz_unit_tally u = quorum2(2, 0, 2);
    oz_transition_decide(&u, "", &t);
    assert_int_equal(t.kind, OZ_TRANSITION_NONE);
    u = quorum2(3, 0, 3); /* more than the target: still nothing */
    oz_transition_decide(&u, "", &t);
    assert_int_equal(t.kind, OZ_TRANSITION_NONE);
    assert_int_equal(t.add, 0);
}

static void too_many_errors_end_the_unit_with_the_last_error(void **state)
{
    (void)state;
    oz_transition t;
    oz_unit_tally u = quorum2(3, 3, 0);
    oz_transition_decide(&u, "unit file hash mismatch", &t);
    assert_int_equal(t.kind, OZ_TRANSITION_ERROR);
    assert_non_null(strstr(t.reason, "3 client errors reached max_error_results 3"));
    assert_non_null(strstr(t.reason, "unit file hash mismatch"));
    /* errors win over anything live */
    u = quorum2(5, 3, 2);
    oz_transition_decide(&u, NULL, &t);
    assert_int_equal(t.kind, OZ_TRANSITION_ERROR);
    assert_non_null(strstr(t.reason, "(no message)"));
}

static void no_consensus_within_max_total_ends_the_unit(void **state)
{
    (void)state;
    oz_transition t;
    oz_unit_tally u = quorum2(6, 0, 1); /* 6 made, one more would be the 7th */
    oz_transition_decide(&u, "", &t);
    assert_int_equal(t.kind, OZ_TRANSITION_ERROR);
    assert_non_null(strstr(t.reason, "no consensus after 6 replicas (max_total_results 6)"));
    u = quorum2(5, 0, 1); /* the 6th is still allowed */
    oz_transition_decide(&u, "", &t);
    assert_int_equal(t.kind, OZ_TRANSITION_ADD);
    assert_int_equal(t.add, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(short_units_get_the_missing_replicas),
        cmocka_unit_test(enough_live_replicas_need_nothing),
        cmocka_unit_test(too_many_errors_end_the_unit_with_the_last_error),
        cmocka_unit_test(no_consensus_within_max_total_ends_the_unit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
