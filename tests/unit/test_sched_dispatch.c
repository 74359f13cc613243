/*
 * test_sched_dispatch.c - the dispatch rule (scheduler/dispatch.c) without
 * a database: a host gets work until the seconds it asked for are covered
 * at its speed, never past its in-progress cap or the reply's room; a host
 * asking for nothing, or at its cap, gets nothing; a host of unknown speed
 * gets one unit per request.
 */
#include "support.h"
#include "dispatch.h"

/* Replicas of units of unit_flops a request gets when every one qualifies. */
static size_t given(int64_t in_progress, int cap, size_t max, double want_s, double flops,
                    int ncpus, uint64_t unit_flops)
{
    oz_dispatch d;
    oz_dispatch_begin(&d, in_progress, cap, max, want_s, flops, ncpus);
    while (oz_dispatch_wants_more(&d))
        oz_dispatch_take(&d, unit_flops);
    return d.got;
}

static void work_covers_the_seconds_asked(void **state)
{
    (void)state;
    /* 1 GFLOPS x 4 CPUs, units of 100 GFLOP: 25 s each; 100 s asked */
    assert_int_equal(given(0, 64, 64, 100.0, 1e9, 4, 100000000000ull), 4);
    /* 101 s: a fifth unit, since four fall short */
    assert_int_equal(given(0, 64, 64, 101.0, 1e9, 4, 100000000000ull), 5);
    /* ncpus 0 counts as one CPU */
    assert_int_equal(given(0, 64, 64, 100.0, 1e9, 0, 100000000000ull), 1);
}

static void never_past_the_cap_or_the_room(void **state)
{
    (void)state;
    assert_int_equal(given(6, 8, 64, 1e6, 1e9, 1, 1000000000ull), 2);
    assert_int_equal(given(8, 8, 64, 1e6, 1e9, 1, 1000000000ull), 0);
    assert_int_equal(given(9, 8, 64, 1e6, 1e9, 1, 1000000000ull), 0); /* over: nothing, no wrap */
    assert_int_equal(given(0, 1000, 16, 1e6, 1e9, 1, 1000000000ull), 16);
}

static void nothing_asked_nothing_given(void **state)
{
    (void)state;
    assert_int_equal(given(0, 8, 64, 0.0, 1e9, 1, 1000000000ull), 0);
    assert_int_equal(given(0, 8, 64, -5.0, 1e9, 1, 1000000000ull), 0);
}

static void unknown_speed_gets_one_unit(void **state)
{
    (void)state;
    assert_int_equal(given(0, 8, 64, 3600.0, 0.0, 4, 1000000000ull), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(work_covers_the_seconds_asked),
        cmocka_unit_test(never_past_the_cap_or_the_room),
        cmocka_unit_test(nothing_asked_nothing_given),
        cmocka_unit_test(unknown_speed_gets_one_unit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
