/*
 * test_worker_fetch.c - the work-fetch policy (worker/fetch.c), with no
 * server and no loop: how much work the worker asks for given what it
 * holds, and when it may call given its failures and the scheduler's
 * next_rpc_delay.
 */
#include <math.h>

#include "support.h"
#include "worker.h"

/* Two CPUs, an hour's buffer, nothing held. */
static oz_wk_fetch_queue empty_queue(void)
{
    oz_wk_fetch_queue q = {
        .held = 0, .unfinished = 0, .queued_s = 0, .ncpus = 2, .work_buffer_s = 3600};
    return q;
}

static void an_empty_queue_asks_for_the_whole_buffer(void **state)
{
    (void)state;
    oz_wk_fetch_queue q = empty_queue();
    double want = -1;
    assert_true(oz_wk_fetch_want(&q, &want));
    assert_true(want == 3600);
}

static void a_full_buffer_asks_for_nothing(void **state)
{
    (void)state;
    oz_wk_fetch_queue q = empty_queue();
    q.held = q.unfinished = 2;
    q.queued_s = 3600;
    double want;
    assert_false(oz_wk_fetch_want(&q, &want));
    q.queued_s = 5000; /* more than the buffer */
    assert_false(oz_wk_fetch_want(&q, &want));
}

static void asks_again_once_a_tenth_of_the_buffer_is_missing(void **state)
{
    (void)state;
    oz_wk_fetch_queue q = empty_queue();
    q.held = q.unfinished = 4;
    double want;
    q.queued_s = 3300; /* 300 s short: less than a tenth, no crumbs */
    assert_false(oz_wk_fetch_want(&q, &want));
    q.queued_s = 3240; /* 360 s short: a tenth */
    assert_true(oz_wk_fetch_want(&q, &want));
    assert_true(want == 360);
}

static void an_idle_cpu_asks_whatever_the_buffer_holds(void **state)
{
    (void)state;
    oz_wk_fetch_queue q = empty_queue();
    q.held = q.unfinished = 1; /* one task, two CPUs */
    q.queued_s = 7200;
    double want;
    assert_true(oz_wk_fetch_want(&q, &want));
    assert_true(want == 1); /* the buffer is full: the least request */
    q.unfinished = 0;       /* finished tasks held do not keep a CPU busy */
    q.held = 3;
    assert_true(oz_wk_fetch_want(&q, &want));
}

static void a_small_buffer_still_asks_for_at_least_a_second(void **state)
{
    (void)state;
    oz_wk_fetch_queue q = empty_queue();
    q.work_buffer_s = 5; /* a tenth is half a second: the threshold is 1 s */
    q.held = q.unfinished = 2;
    double want;
    q.queued_s = 4.5;
    assert_false(oz_wk_fetch_want(&q, &want));
    q.queued_s = 4;
    assert_true(oz_wk_fetch_want(&q, &want));
    assert_true(want == 1);
    q.work_buffer_s = 0; /* no buffer: only idle CPUs ask */
    q.queued_s = 0;
    assert_false(oz_wk_fetch_want(&q, &want));
    q.unfinished = 1;
    assert_true(oz_wk_fetch_want(&q, &want));
    assert_true(want == 1);
}

static void never_more_than_tasks_max_held(void **state)
{
    (void)state;
    oz_wk_fetch_queue q = empty_queue();
    double want;
    q.held = OZ_WK_TASKS_MAX - 1;
    assert_true(oz_wk_fetch_want(&q, &want));
    q.held = OZ_WK_TASKS_MAX;
    assert_false(oz_wk_fetch_want(&q, &want));
}

static void failures_back_off_doubling_to_the_cap(void **state)
{
    (void)state;
    oz_wk_prefs p;
    oz_wk_prefs_default(&p); /* 60 s doubling to 14400 s */
    oz_wk_fetch f = {0};
    assert_true(oz_wk_fetch_may_call(&f, 0));
    assert_true(oz_wk_fetch_failed(&f, &p, 0, 0, 1000, 2e9) == 60);
    assert_int_equal(f.failures, 1);
    assert_true(f.retry_at == 1060 && f.retry_wall == 2e9 + 60);
    assert_false(oz_wk_fetch_may_call(&f, 1059.9));
    assert_true(oz_wk_fetch_may_call(&f, 1060));
    assert_true(oz_wk_fetch_failed(&f, &p, 0, 0, 1060, 2e9) == 120);
    for (int i = 0; i < 20; i++)
        oz_wk_fetch_failed(&f, &p, 0, 0.999, 1060, 2e9);
    assert_true(oz_wk_fetch_failed(&f, &p, 0, 0.5, 1060, 2e9) == 14400);
    assert_int_equal(f.failures, 23);
}

static void retry_after_wins_when_longer(void **state)
{
    (void)state;
    oz_wk_prefs p;
    oz_wk_prefs_default(&p);
    oz_wk_fetch f = {0};
    assert_true(oz_wk_fetch_failed(&f, &p, 600, 0, 0, 0) == 600);
    assert_true(f.retry_at == 600);
    assert_true(oz_wk_fetch_failed(&f, &p, 30, 0, 0, 0) == 120); /* shorter: the backoff */
}

static void a_call_that_works_ends_the_backoff(void **state)
{
    (void)state;
    oz_wk_prefs p;
    oz_wk_prefs_default(&p);
    oz_wk_fetch f = {0};
    oz_wk_fetch_failed(&f, &p, 0, 0, 100, 100);
    oz_wk_fetch_failed(&f, &p, 0, 0, 100, 100);
    assert_false(oz_wk_fetch_may_call(&f, 101));
    assert_int_equal(oz_wk_fetch_worked(&f), 2);
    assert_int_equal(f.failures, 0);
    assert_true(oz_wk_fetch_may_call(&f, 101));
    assert_int_equal(oz_wk_fetch_worked(&f), 0);
    /* the next failure starts from the minimum again */
    assert_true(oz_wk_fetch_failed(&f, &p, 0, 0, 200, 200) == 60);
}

static void work_requests_wait_for_next_rpc_delay(void **state)
{
    (void)state;
    oz_wk_fetch f = {0};
    assert_true(oz_wk_fetch_work_due(&f, 0));
    assert_true(oz_wk_fetch_replied(&f, 300, 1000, 5000) == 300);
    assert_true(f.work_at == 1300 && f.work_wall == 5300);
    assert_false(oz_wk_fetch_work_due(&f, 1299));
    assert_true(oz_wk_fetch_work_due(&f, 1300));
    /* a next_rpc_delay from the far side of sense is brought back */
    assert_true(oz_wk_fetch_replied(&f, -5, 1000, 0) == 0);
    assert_true(oz_wk_fetch_work_due(&f, 1000));
    assert_true(oz_wk_fetch_replied(&f, NAN, 1000, 0) == 0);
    assert_true(oz_wk_fetch_replied(&f, 1e9, 1000, 0) == 86400);
    assert_false(oz_wk_fetch_work_due(&f, 1000 + 86399));
}

static void a_result_waits_only_for_a_request_due_soon(void **state)
{
    (void)state;
    oz_wk_fetch f = {0};
    assert_true(oz_wk_fetch_result_waits(&f, 50)); /* due now */
    oz_wk_fetch_replied(&f, OZ_WK_CARRY_WAIT_S, 100, 0);
    assert_true(oz_wk_fetch_result_waits(&f, 100)); /* due within the wait */
    oz_wk_fetch_replied(&f, OZ_WK_CARRY_WAIT_S + 1, 100, 0);
    assert_false(oz_wk_fetch_result_waits(&f, 100)); /* too far: it goes by itself */
    assert_true(oz_wk_fetch_result_waits(&f, 101));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(an_empty_queue_asks_for_the_whole_buffer),
        cmocka_unit_test(a_full_buffer_asks_for_nothing),
        cmocka_unit_test(asks_again_once_a_tenth_of_the_buffer_is_missing),
        cmocka_unit_test(an_idle_cpu_asks_whatever_the_buffer_holds),
        cmocka_unit_test(a_small_buffer_still_asks_for_at_least_a_second),
        cmocka_unit_test(never_more_than_tasks_max_held),
        cmocka_unit_test(failures_back_off_doubling_to_the_cap),
        cmocka_unit_test(retry_after_wins_when_longer),
        cmocka_unit_test(a_call_that_works_ends_the_backoff),
        cmocka_unit_test(work_requests_wait_for_next_rpc_delay),
        cmocka_unit_test(a_result_waits_only_for_a_request_due_soon),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
