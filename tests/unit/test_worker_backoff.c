/*
 * test_worker_backoff.c - the retry schedule (worker/backoff.c): starts at
 * the minimum, grows by at least 4/3 each failure whatever the jitter, never
 * passes the cap, and the jitter really spreads clients apart.
 */
#include <math.h>

#include "support.h"
#include "worker.h"

static void the_schedule_runs_from_one_minute_to_four_hours(void **state)
{
    (void)state;
    assert_true(oz_wk_backoff_delay(60, 14400, 0, 0.3) == 0);
    assert_true(oz_wk_backoff_delay(60, 14400, 1, 0) == 60);
    assert_true(oz_wk_backoff_delay(60, 14400, 2, 0) == 120);
    for (unsigned f = 1; f < 200; f++)
        for (double u = 0; u < 1; u += 0.125) {
            double d = oz_wk_backoff_delay(60, 14400, f, u);
            assert_true(d >= 60 && d <= 14400);
        }
    assert_true(oz_wk_backoff_delay(60, 14400, 100, 0.9) == 14400);
    assert_true(oz_wk_backoff_delay(60, 14400, 4000000000u, 0.5) == 14400);
}

static void each_delay_grows_whatever_the_jitter(void **state)
{
    (void)state;
    /* worst case: the largest jitter, then the smallest */
    for (unsigned f = 1; f < 8; f++) {
        double a = oz_wk_backoff_delay(1, 1e6, f, 0.999999);
        double b = oz_wk_backoff_delay(1, 1e6, f + 1, 0);
        assert_true(b >= a * 4.0 / 3.0 - 1e-9);
    }
}

static void jitter_spreads_clients(void **state)
{
    (void)state;
    double lo = 1e9, hi = 0;
    for (int i = 0; i < 200; i++) {
        double u = oz_wk_backoff_random();
        assert_true(u >= 0 && u < 1);
        double d = oz_wk_backoff_delay(60, 14400, 3, u);
        lo = fmin(lo, d);
        hi = fmax(hi, d);
    }
    assert_true(lo >= 240 && hi < 360);
    assert_true(hi - lo > 60); /* 200 draws cover most of [240, 360) */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_schedule_runs_from_one_minute_to_four_hours),
        cmocka_unit_test(each_delay_grows_whatever_the_jitter),
        cmocka_unit_test(jitter_spreads_clients),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
