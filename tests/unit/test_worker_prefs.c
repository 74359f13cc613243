/*
 * test_worker_prefs.c - worker.conf (worker/prefs.c): defaults, every key,
 * counts and percentages of CPUs, and the all-or-nothing rule that keeps a
 * running worker's preferences when an edited file has a mistake.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"
#include "worker.h"

static void defaults_are_the_documented_ones(void **state)
{
    (void)state;
    oz_wk_prefs p;
    oz_wk_prefs_default(&p);
    assert_int_equal(oz_wk_prefs_ncpus(&p, 8), 8);
    assert_true(p.cpu_throttle == 100);
    assert_true(p.checkpoint_interval_s == 60);
    assert_true(p.backoff_min_s == 60 && p.backoff_max_s == 14400);
    assert_true(p.suspend_on_battery);
    assert_true(p.idle_minutes == 0);
    /* the template parses to the defaults */
    oz_wk_prefs q;
    oz_wk_prefs_default(&q);
    char why[256] = "";
    assert_int_equal(oz_wk_prefs_parse(oz_wk_prefs_template(), "t", &q, why, sizeof why), 0);
    assert_memory_equal(&p, &q, sizeof p);
}

static void every_key_is_read(void **state)
{
    (void)state;
    oz_wk_prefs p;
    oz_wk_prefs_default(&p);
    const char *text = "[worker]\nmax_cpus = 3\ncpu_throttle = 40\nidle_minutes = 5\n"
                       "idle_watch = /tmp/x /tmp/y\nsuspend_on_battery = no\n"
                       "power_supply_dir = /tmp/ps\ndisk_limit_mb = 10\nwork_buffer_s = 7\n"
                       "checkpoint_interval_s = 0.5\nbackoff_min_s = 1\nbackoff_max_s = 8\n"
                       "status_interval_s = 0.25\nnet_timeout_s = 5\nkeep_results = yes\n";
    char why[256] = "";
    assert_int_equal(oz_wk_prefs_parse(text, "w.conf", &p, why, sizeof why), 0);
    assert_int_equal(p.max_cpus, 3);
    assert_true(p.cpu_throttle == 40 && p.idle_minutes == 5);
    assert_string_equal(p.idle_watch, "/tmp/x /tmp/y");
    assert_false(p.suspend_on_battery);
    assert_string_equal(p.power_supply_dir, "/tmp/ps");
    assert_true(p.disk_limit_mb == 10 && p.work_buffer_s == 7);
    assert_true(p.checkpoint_interval_s == 0.5 && p.backoff_min_s == 1 && p.backoff_max_s == 8);
    assert_true(p.status_interval_s == 0.25 && p.net_timeout_s == 5 && p.keep_results);
}

static void max_cpus_takes_a_count_or_a_share(void **state)
{
    (void)state;
    oz_wk_prefs p;
    char why[256];
    oz_wk_prefs_default(&p);
    assert_int_equal(oz_wk_prefs_parse("max_cpus = 50%\n", "t", &p, why, sizeof why), 0);
    assert_int_equal(oz_wk_prefs_ncpus(&p, 8), 4);
    assert_int_equal(oz_wk_prefs_ncpus(&p, 3), 1);
    assert_int_equal(oz_wk_prefs_ncpus(&p, 1), 1); /* never zero */
    assert_int_equal(oz_wk_prefs_parse("max_cpus = 6\n", "t", &p, why, sizeof why), 0);
    assert_int_equal(oz_wk_prefs_ncpus(&p, 8), 6);
    assert_int_equal(oz_wk_prefs_ncpus(&p, 2), 2); /* never more than there are */
}

static void a_bad_line_names_itself_and_changes_nothing(void **state)
{
    (void)state;
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"cpu_throttle = 0\n", "cpu_throttle"},
        {"cpu_throttle = 101\n", "outside"},
        {"max_cpus = 1.5\n", "whole number"},
        {"max_cpus = 0\n", "max_cpus"},
        {"max_cpus = 150%\n", "max_cpus"},
        {"keep_results = maybe\n", "yes or no"},
        {"work_buffer_s = soon\n", "not a number"},
        {"colour = blue\n", "not a known key"},
        {"[other]\nmax_cpus = 1\n", "unknown section"},
        {"max_cpus = 1\nthis line has no equals\n", ":2:"},
        {"backoff_min_s = 10\nbackoff_max_s = 5\n", "backoff_max_s"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        oz_wk_prefs p, before;
        oz_wk_prefs_default(&p);
        before = p;
        char why[256] = "";
        assert_int_equal(oz_wk_prefs_parse(cases[i].text, "w.conf", &p, why, sizeof why),
                         OZ_WK_EINVAL);
        if (!strstr(why, cases[i].want))
            fail_msg("case %zu: \"%s\" does not mention %s", i, why, cases[i].want);
        assert_memory_equal(&p, &before, sizeof p);
    }
}

static void a_missing_file_means_defaults(void **state)
{
    (void)state;
    oz_wk_prefs p, d;
    char why[256];
    oz_wk_prefs_default(&d);
    assert_int_equal(oz_wk_prefs_load("/nonexistent/worker.conf", &p, why, sizeof why), 0);
    assert_memory_equal(&p, &d, sizeof p);
    char path[] = "/tmp/oz_prefs_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "cpu_throttle = 25\n", 18), 18);
    close(fd);
    assert_int_equal(oz_wk_prefs_load(path, &p, why, sizeof why), 0);
    assert_true(p.cpu_throttle == 25);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_are_the_documented_ones),
        cmocka_unit_test(every_key_is_read),
        cmocka_unit_test(max_cpus_takes_a_count_or_a_share),
        cmocka_unit_test(a_bad_line_names_itself_and_changes_nothing),
        cmocka_unit_test(a_missing_file_means_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
