/*
 * test_sched_dispatch.c - the dispatch rule (scheduler/dispatch.c) without
 * a database: a host gets work until the seconds it asked for are covered
 * at its speed, never past its in-progress cap, its daily quota or the
 * reply's room; a host asking for nothing, or at its cap, gets nothing; a
 * host of unknown speed gets one unit per request.  What a host claims
 * counts only as far as its returned work bears it out (issue 21, hole 2):
 * its CPUs are clamped to max_ncpus, and to new_host_ncpus plus the results
 * it has returned.
 */
#include "support.h"
#include "dispatch.h"

/* Limits under which a host of `ncpus` CPUs has an in-progress cap of
 * cap: the CPU limits out of the way, no daily quota. */
static oz_dispatch_limits cap_of(int cap, int ncpus)
{
    return (oz_dispatch_limits){.per_cpu = cap / (ncpus > 0 ? ncpus : 1),
                                .ncpus_max = 1024,
                                .new_host_ncpus = 1024,
                                .daily_per_cpu = 0};
}

/* The project's defaults (project.c). */
static const oz_dispatch_limits defaults = {
    .per_cpu = 4, .ncpus_max = 64, .new_host_ncpus = 4, .daily_per_cpu = 100};

/* Replicas of units of unit_flops a request gets when every one qualifies. */
static size_t given_to(const oz_dispatch_limits *l, const oz_dispatch_host *h, size_t max,
                       double want_s, uint64_t unit_flops)
{
    oz_dispatch d;
    oz_dispatch_begin(&d, l, h, max, want_s);
    while (oz_dispatch_wants_more(&d))
        oz_dispatch_take(&d, unit_flops);
    return d.got;
}

static size_t given(int64_t in_progress, int cap, size_t max, double want_s, double flops,
                    int ncpus, uint64_t unit_flops)
{
    oz_dispatch_limits l = cap_of(cap, ncpus);
    oz_dispatch_host h = {.ncpus = ncpus, .flops = flops, .in_progress = in_progress};
    return given_to(&l, &h, max, want_s, unit_flops);
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

/* The hoarder of issue 21: 1,024 CPUs claimed, nothing returned. */
static void a_new_hosts_claim_counts_for_a_few_cpus(void **state)
{
    (void)state;
    assert_int_equal(oz_dispatch_cpus(&defaults, 1024, 0), 4);
    assert_int_equal(oz_dispatch_cpus(&defaults, 2, 0), 2); /* below: as claimed */
    assert_int_equal(oz_dispatch_cpus(&defaults, 0, 0), 1);
    oz_dispatch_host h = {.ncpus = 1024, .flops = 1e12};
    assert_int_equal(oz_dispatch_allowed(&defaults, &h), 16);
    assert_int_equal(given_to(&defaults, &h, 64, 864000.0, 1000000000ull), 16);
    h.in_progress = 16;
    assert_int_equal(given_to(&defaults, &h, 64, 864000.0, 1000000000ull), 0);
}

static void the_cap_grows_only_with_returned_work(void **state)
{
    (void)state;
    oz_dispatch_host h = {.ncpus = 1024, .flops = 1e9, .in_progress = 14, .returned = 2};
    /* 4 x (4 + 2) = 24 in progress, 14 held */
    assert_int_equal(oz_dispatch_cpus(&defaults, 1024, 2), 6);
    assert_int_equal(given_to(&defaults, &h, 64, 864000.0, 1000000000ull), 10);
    /* a proven host counts its claim, up to max_ncpus */
    assert_int_equal(oz_dispatch_cpus(&defaults, 16, 1000), 16);
    assert_int_equal(oz_dispatch_cpus(&defaults, 1024, 1000), 64);
    assert_int_equal(oz_dispatch_cpus(&defaults, 1024, INT64_MAX), 64); /* no overflow */
    assert_int_equal(oz_dispatch_cpus(&defaults, 1024, -5), 4);
    h = (oz_dispatch_host){.ncpus = 1024, .flops = 1e9, .returned = 1000000};
    assert_int_equal(oz_dispatch_allowed(&defaults, &h), 256);
}

static void the_daily_quota_counts_what_was_sent_today(void **state)
{
    (void)state;
    oz_dispatch_limits l = {
        .per_cpu = 100, .ncpus_max = 64, .new_host_ncpus = 2, .daily_per_cpu = 5};
    /* 2 CPUs counted: 10 a day, 200 in progress */
    oz_dispatch_host h = {.ncpus = 8, .flops = 1e9, .sent_today = 7};
    assert_int_equal(oz_dispatch_allowed(&l, &h), 3);
    h.sent_today = 10;
    assert_int_equal(given_to(&l, &h, 64, 864000.0, 1000000000ull), 0);
    h.sent_today = 12; /* past it (the limits changed): nothing, no wrap */
    assert_int_equal(oz_dispatch_allowed(&l, &h), 0);
    l.daily_per_cpu = 0; /* none */
    assert_int_equal(oz_dispatch_allowed(&l, &h), 200);
}

static void the_speed_counts_the_clamped_claim(void **state)
{
    (void)state;
    /* 1 GFLOPS a CPU, 1,024 claimed but 64 counted; units of 64 GFLOP: 1 s
     * each at 64 CPUs, so 3 s asked take 3 */
    oz_dispatch_limits l = {.per_cpu = 100, .ncpus_max = 64, .new_host_ncpus = 1024};
    oz_dispatch_host h = {.ncpus = 1024, .flops = 1e9};
    assert_int_equal(given_to(&l, &h, 64, 3.0, 64000000000ull), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(work_covers_the_seconds_asked),
        cmocka_unit_test(never_past_the_cap_or_the_room),
        cmocka_unit_test(nothing_asked_nothing_given),
        cmocka_unit_test(unknown_speed_gets_one_unit),
        cmocka_unit_test(a_new_hosts_claim_counts_for_a_few_cpus),
        cmocka_unit_test(the_cap_grows_only_with_returned_work),
        cmocka_unit_test(the_daily_quota_counts_what_was_sent_today),
        cmocka_unit_test(the_speed_counts_the_clamped_claim),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
