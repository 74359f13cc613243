/*
 * test_sched_credit.c - credit (scheduler/credit.c): one cobblestone is
 * 1/200 of a day at 1 GFLOPS, from the unit's FLOP count alone; the recent
 * average halves in 7 days without new credit, and earning R a day steadily
 * converges to a recent average of R.
 */
#include <math.h>

#include "support.h"
#include "credit.h"

static void a_gflops_day_is_200_credits(void **state)
{
    (void)state;
    assert_true(fabs(oz_credit_from_flops(86400ull * 1000000000ull) - 200.0) < 1e-9);
    assert_true(oz_credit_from_flops(0) == 0.0);
    assert_true(fabs(oz_credit_from_flops(432000000000ull) - 1.0) < 1e-9); /* 1/200 day */
}

static void recent_average_halves_in_a_week(void **state)
{
    (void)state;
    int64_t t0 = 1700000000, week = 7 * 86400;
    assert_true(fabs(oz_credit_decay(100.0, t0, t0 + week) - 50.0) < 1e-9);
    assert_true(fabs(oz_credit_decay(100.0, t0, t0 + 2 * week) - 25.0) < 1e-9);
    assert_true(oz_credit_decay(100.0, t0, t0) == 100.0);
}

static void steady_earning_converges_to_its_rate(void **state)
{
    (void)state;
    double rac = 0.0;
    int64_t t = 1700000000;
    for (int day = 0; day < 200; day++) { /* 50 credits a day, in 10 grants */
        for (int k = 0; k < 10; k++) {
            rac = oz_credit_rac_add(rac, t, t + 8640, 5.0);
            t += 8640;
        }
    }
    assert_true(fabs(rac - 50.0) < 0.5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_gflops_day_is_200_credits),
        cmocka_unit_test(recent_average_halves_in_a_week),
        cmocka_unit_test(steady_earning_converges_to_its_rate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
