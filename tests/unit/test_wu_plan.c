/*
 * test_wu_plan.c - unit boundaries (workunits/plan.c), checked
 * against their promises by brute force on many odd lengths: every sample is
 * in some unit, every stretch no longer than the overlap lies whole inside
 * some unit, units never run past the end, regular units share exactly the
 * overlap, and the tail unit is aligned to the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"
#include "ozma_workunits.h"

static void plan_ok(uint64_t n, uint64_t unit, double ov, oz_wu_plan *p)
{
    char why[200] = "";
    int rc = oz_wu_plan_make(n, unit, ov, p, why, sizeof why);
    if (rc != 0)
        fail_msg("plan(%llu, %llu, %g): %s", (unsigned long long)n, (unsigned long long)unit, ov,
                 why);
}

static void exact_fit_needs_no_tail(void **state)
{
    (void)state;
    oz_wu_plan p;
    /* 1 unit exactly */
    plan_ok(1024, 1024, 0.125, &p);
    assert_int_equal(p.nunits, 1);
    assert_int_equal(oz_wu_plan_start(&p, 0), 0);
    /* 1024 + 3 * 896 = 3712 samples: four regular units end at the end */
    plan_ok(3712, 1024, 0.125, &p);
    assert_int_equal(p.overlap, 128);
    assert_int_equal(p.step, 896);
    assert_int_equal(p.nregular, 4);
    assert_int_equal(p.nunits, 4);
    assert_int_equal(oz_wu_plan_start(&p, 3), 3 * 896);
}

static void odd_length_gets_a_tail_aligned_to_the_end(void **state)
{
    (void)state;
    oz_wu_plan p;
    plan_ok(3713, 1024, 0.125, &p);
    assert_int_equal(p.nregular, 4);
    assert_int_equal(p.nunits, 5);
    assert_int_equal(oz_wu_plan_start(&p, 4), 3713 - 1024);
    /* The SETI@home layout: 2^20 units over a 10-minute recording. */
    uint64_t n = 5859375; /* 600 s at 9765.625 Hz */
    plan_ok(n, 1u << 20, 0.125, &p);
    assert_int_equal(p.overlap, 131072);
    assert_int_equal(p.nregular, 6);
    assert_int_equal(p.nunits, 7);
    assert_int_equal(oz_wu_plan_start(&p, 6), n - (1u << 20));
}

/* The promises, checked sample by sample. */
static void check_promises(uint64_t n, uint64_t unit, double ov)
{
    oz_wu_plan p;
    plan_ok(n, unit, ov, &p);
    unsigned char *covered = calloc(n, 1);
    /* last[a]: the largest end of a unit that starts at or before a */
    uint64_t *best_end = calloc(n, sizeof *best_end);
    assert_non_null(covered);
    assert_non_null(best_end);
    uint64_t prev = 0;
    for (uint64_t i = 0; i < p.nunits; i++) {
        uint64_t s = oz_wu_plan_start(&p, i);
        assert_true(s + unit <= n);
        if (i > 0)
            assert_true(s > prev); /* strictly increasing */
        if (i > 0 && i < p.nregular)
            assert_int_equal(prev + unit - s, p.overlap);
        prev = s;
        for (uint64_t k = s; k < s + unit; k++)
            covered[k] = 1;
        for (uint64_t a = s; a < s + unit; a++)
            if (s + unit > best_end[a])
                best_end[a] = s + unit;
    }
    assert_int_equal(oz_wu_plan_start(&p, 0), 0);
    for (uint64_t k = 0; k < n; k++)
        assert_true(covered[k]);
    /* Any stretch [a, a + overlap) that fits in the recording lies inside a
     * unit: some unit contains a and reaches a + overlap. */
    for (uint64_t a = 0; a < n && a + p.overlap <= n; a++)
        if (best_end[a] < a + p.overlap)
            fail_msg("n=%llu unit=%llu overlap=%g: the stretch at %llu is in no unit",
                     (unsigned long long)n, (unsigned long long)unit, ov, (unsigned long long)a);
    free(covered);
    free(best_end);
}

static void promises_hold_on_many_odd_lengths(void **state)
{
    (void)state;
    const double overlaps[] = {0.0, 0.125, 0.25, 0.5, 0.75, 0.1};
    for (size_t o = 0; o < sizeof overlaps / sizeof overlaps[0]; o++)
        for (uint64_t n = 256; n < 3000; n += 37)
            check_promises(n, 256, overlaps[o]);
    check_promises(65536 * 5 + 12345, 65536, 0.125);
}

static void one_unit_plan_covers_an_ozwu_file(void **state)
{
    (void)state;
    oz_wu_plan p;
    assert_int_equal(oz_wu_plan_whole(1000, &p, NULL, 0), 0);
    assert_int_equal(p.nunits, 1);
    assert_int_equal(p.unit, 1000);
    assert_int_equal(oz_wu_plan_start(&p, 0), 0);
    assert_int_equal(oz_wu_plan_whole(0, &p, NULL, 0), OZ_WU_EINVAL);
}

static void rejects_impossible_plans_with_reasons(void **state)
{
    (void)state;
    oz_wu_plan p;
    char why[200] = "";
    assert_int_equal(oz_wu_plan_make(100000, 1000, 0.125, &p, why, sizeof why), OZ_WU_EINVAL);
    assert_non_null(strstr(why, "power of two"));
    assert_int_equal(oz_wu_plan_make(100000, 128, 0.125, &p, why, sizeof why), OZ_WU_EINVAL);
    assert_int_equal(oz_wu_plan_make(100000, 1024, 0.9, &p, why, sizeof why), OZ_WU_EINVAL);
    assert_non_null(strstr(why, "overlap"));
    assert_int_equal(oz_wu_plan_make(100000, 1024, -0.1, &p, why, sizeof why), OZ_WU_EINVAL);
    assert_int_equal(oz_wu_plan_make(1000, 1024, 0.125, &p, why, sizeof why), OZ_WU_EINVAL);
    assert_non_null(strstr(why, "fewer than one unit"));
}

static void parses_unit_sizes(void **state)
{
    (void)state;
    uint64_t v;
    assert_int_equal(oz_wu_parse_unit_samples("2^20", &v, NULL, 0), 0);
    assert_int_equal(v, 1u << 20);
    assert_int_equal(oz_wu_parse_unit_samples("65536", &v, NULL, 0), 0);
    assert_int_equal(v, 65536);
    const char *bad[] = {"", "2^", "2^7", "2^27", "1000", "-65536", "65536x", "x", "2^16.5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char why[200] = "";
        assert_int_equal(oz_wu_parse_unit_samples(bad[i], &v, why, sizeof why), OZ_WU_EINVAL);
        assert_non_null(strstr(why, "unit"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exact_fit_needs_no_tail),
        cmocka_unit_test(odd_length_gets_a_tail_aligned_to_the_end),
        cmocka_unit_test(promises_hold_on_many_odd_lengths),
        cmocka_unit_test(one_unit_plan_covers_an_ozwu_file),
        cmocka_unit_test(rejects_impossible_plans_with_reasons),
        cmocka_unit_test(parses_unit_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
