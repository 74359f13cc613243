/*
 * test_wu_timeutc.c - UTC timestamps (workunits/timeutc.c): SigMF's RFC 3339
 * times to nanoseconds and back, the calendar's edges, and refusal of
 * anything that is not a plain UTC time.
 */
#include <stdio.h>
#include <string.h>

#include "support.h"
#include "ozma_workunits.h"

static int64_t parse_ok(const char *s)
{
    int64_t ns = 0;
    char why[200] = "";
    int rc = oz_wu_time_parse(s, &ns, why, sizeof why);
    if (rc != 0)
        fail_msg("%s: %s", s, why);
    return ns;
}

static void parses_known_instants(void **state)
{
    (void)state;
    assert_true(parse_ok("1970-01-01T00:00:00Z") == 0);
    assert_true(parse_ok("2000-03-01T00:00:00Z") == 951868800LL * 1000000000LL);
    assert_true(parse_ok("2024-05-01T12:00:00Z") == 1714564800LL * 1000000000LL);
    assert_true(parse_ok("2024-05-01T12:00:00.5Z") == 1714564800LL * 1000000000LL + 500000000);
    assert_true(parse_ok("2024-05-01T12:00:00.000000001Z") == 1714564800LL * 1000000000LL + 1);
    /* more than nine digits: truncated to nanoseconds */
    assert_true(parse_ok("2024-05-01T12:00:00.1234567899999Z") ==
                1714564800LL * 1000000000LL + 123456789);
    assert_true(parse_ok("1960-06-15T06:30:00Z") < 0);
    assert_true(parse_ok("2024-02-29T00:00:00Z") > 0); /* leap year */
}

static void formats_and_round_trips(void **state)
{
    (void)state;
    char buf[48];
    int64_t ns = parse_ok("2024-05-01T12:34:56.123456789Z");
    assert_int_equal(oz_wu_time_format(ns, 9, buf, sizeof buf), 0);
    assert_string_equal(buf, "2024-05-01T12:34:56.123456789Z");
    assert_int_equal(oz_wu_time_format(ns, 6, buf, sizeof buf), 0);
    assert_string_equal(buf, "2024-05-01T12:34:56.123456Z");
    assert_int_equal(oz_wu_time_format(ns, 0, buf, sizeof buf), 0);
    assert_string_equal(buf, "2024-05-01T12:34:56Z");
    int64_t old = parse_ok("1960-06-15T06:30:00.25Z");
    assert_int_equal(oz_wu_time_format(old, 3, buf, sizeof buf), 0);
    assert_string_equal(buf, "1960-06-15T06:30:00.250Z");
    assert_int_equal(oz_wu_time_format(ns, 9, buf, 10), OZ_WU_EINVAL);
    assert_int_equal(oz_wu_time_format(ns, 10, buf, sizeof buf), OZ_WU_EINVAL);
}

static void round_trips_every_day_of_two_centuries(void **state)
{
    (void)state;
    char buf[48];
    for (int64_t d = -25000; d < 60000; d += 7) {
        int64_t ns = d * 86400LL * 1000000000LL + 3723LL * 1000000000LL + 42;
        assert_int_equal(oz_wu_time_format(ns, 9, buf, sizeof buf), 0);
        assert_true(parse_ok(buf) == ns);
    }
}

static void adds_offsets_exactly(void **state)
{
    (void)state;
    int64_t t = parse_ok("2024-05-01T12:00:00Z");
    assert_true(oz_wu_time_add(t, 107.3741824) == t + 107374182400LL);
    assert_true(oz_wu_time_add(t, -0.5) == t - 500000000);
}

static void rejects_what_is_not_a_utc_time(void **state)
{
    (void)state;
    const char *bad[] = {
        "",
        "2024-05-01",
        "2024-05-01 12:00:00Z",
        "2024-05-01T12:00:00",
        "2024-05-01T12:00:00+02:00",
        "2024-05-01T12:00:00.Z",
        "2024-13-01T12:00:00Z",
        "2023-02-29T12:00:00Z",
        "2024-04-31T12:00:00Z",
        "2024-05-01T24:00:00Z",
        "2024-05-01T12:60:00Z",
        "1800-01-01T00:00:00Z",
        "9999-01-01T00:00:00Z",
        "2024-05-01T12:00:00Zjunk",
        "24-05-01T12:00:00Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ns;
        char why[200] = "";
        assert_int_equal(oz_wu_time_parse(bad[i], &ns, why, sizeof why), OZ_WU_EFORMAT);
        assert_true(strlen(why) > 10);
    }
    int64_t ns;
    assert_int_equal(oz_wu_time_parse(NULL, &ns, NULL, 0), OZ_WU_EFORMAT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_known_instants),
        cmocka_unit_test(formats_and_round_trips),
        cmocka_unit_test(round_trips_every_day_of_two_centuries),
        cmocka_unit_test(adds_offsets_exactly),
        cmocka_unit_test(rejects_what_is_not_a_utc_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
