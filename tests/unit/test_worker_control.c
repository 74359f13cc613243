/*
 * test_worker_control.c - control.json (worker/control.c), the channel of
 * `ozma-worker suspend | resume | update | nomorework | allowmorework`: a
 * directory never controlled reads as "compute, take work"; the file round
 * trips; a damaged one is an error naming it, never a half-read order; the
 * running worker's watch sees each change once (and a removal as the
 * defaults); the commands refuse an unknown verb and a directory that is
 * not attached.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"
#include "worker.h"

static void write_text(const char *dir, const char *name, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void a_directory_never_controlled_computes_and_takes_work(void **state)
{
    (void)state;
    char dir[] = "/tmp/oz_ctl_XXXXXX", why[256] = "";
    assert_non_null(mkdtemp(dir));
    oz_wk_control c = {.seq = 9, .suspended = true};
    assert_int_equal(oz_wk_control_load(dir, &c, why, sizeof why), 0);
    assert_false(c.suspended);
    assert_false(c.no_more_work);
    assert_int_equal(c.seq, 0);
    oz_wk_remove_tree(dir);
}

static void the_file_round_trips_and_garbage_is_refused(void **state)
{
    (void)state;
    char dir[] = "/tmp/oz_ctl_XXXXXX", why[256] = "";
    assert_non_null(mkdtemp(dir));
    oz_wk_control a = {.seq = 3, .update_seq = 2, .suspended = true, .no_more_work = true}, b;
    assert_int_equal(oz_wk_control_save(dir, &a, why, sizeof why), 0);
    assert_int_equal(oz_wk_control_load(dir, &b, why, sizeof why), 0);
    assert_int_equal(b.seq, 3);
    assert_int_equal(b.update_seq, 2);
    assert_true(b.suspended && b.no_more_work);
    static const char *const bad[] = {
        "{\"version\": 1, \"seq\": 1}",                                             /* short */
        "{\"version\": 2, \"seq\": 1, \"suspended\": true, \"no_more_work\": false,"
        " \"update_seq\": 0}",                                                       /* version */
        "{\"version\": 1, \"seq\": -1, \"suspended\": true, \"no_more_work\": false,"
        " \"update_seq\": 0}",                                                       /* range */
        "{\"version\": 1, \"seq\": 1, \"suspended\": \"yes\", \"no_more_work\": false,"
        " \"update_seq\": 0}",                                                       /* type */
        "{\"version\": 1, \"seq\": 1, \"suspended\": true, \"no_more_work\": false,"
        " \"update_seq\": 0, \"extra\": 1}",                                         /* unknown */
        "suspend",                                                                   /* not JSON */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_text(dir, "control.json", bad[i]);
        why[0] = '\0';
        assert_int_equal(oz_wk_control_load(dir, &b, why, sizeof why), OZ_WK_EFORMAT);
        assert_non_null(strstr(why, "control.json"));
    }
    oz_wk_remove_tree(dir);
}

static void the_watch_sees_each_change_once(void **state)
{
    (void)state;
    char dir[] = "/tmp/oz_ctl_XXXXXX", why[256] = "";
    assert_non_null(mkdtemp(dir));
    oz_wk_control_stamp stamp;
    memset(&stamp, 0, sizeof stamp);
    oz_wk_control c;
    memset(&c, 0, sizeof c);
    assert_int_equal(oz_wk_control_watch(dir, &stamp, &c, why, sizeof why), 0);
    oz_wk_control w = {.seq = 1, .suspended = true};
    assert_int_equal(oz_wk_control_save(dir, &w, why, sizeof why), 0);
    assert_int_equal(oz_wk_control_watch(dir, &stamp, &c, why, sizeof why), 1);
    assert_true(c.suspended);
    assert_int_equal(oz_wk_control_watch(dir, &stamp, &c, why, sizeof why), 0);
    w.seq = 2;
    w.suspended = false;
    w.no_more_work = true;
    assert_int_equal(oz_wk_control_save(dir, &w, why, sizeof why), 0);
    assert_int_equal(oz_wk_control_watch(dir, &stamp, &c, why, sizeof why), 1);
    assert_false(c.suspended);
    assert_true(c.no_more_work);
    /* a damaged file leaves the last good order in force */
    write_text(dir, "control.json", "{\"version\": 1, \"seq\": 3, \"suspended\": tru");
    assert_true(oz_wk_control_watch(dir, &stamp, &c, why, sizeof why) < 0);
    assert_true(c.no_more_work);
    char p[512];
    snprintf(p, sizeof p, "%s/control.json", dir);
    assert_int_equal(unlink(p), 0);
    assert_int_equal(oz_wk_control_watch(dir, &stamp, &c, why, sizeof why), 1);
    assert_false(c.no_more_work);
    oz_wk_remove_tree(dir);
}

static void commands_need_an_attached_directory_and_a_known_verb(void **state)
{
    (void)state;
    char dir[] = "/tmp/oz_ctl_XXXXXX", why[256] = "", msg[256];
    assert_non_null(mkdtemp(dir));
    assert_int_equal(oz_wk_control_send(dir, "suspend", 0, msg, sizeof msg, why, sizeof why),
                     OZ_WK_ESTATE);
    assert_non_null(strstr(why, "not attached"));
    oz_wk_account a;
    memset(&a, 0, sizeof a);
    snprintf(a.url, sizeof a.url, "http://127.0.0.1:1");
    memset(a.authenticator, 'a', 64);
    a.host_id = 1;
    memset(a.host_key, 'b', 64);
    assert_int_equal(oz_wk_account_save(dir, &a, why, sizeof why), 0);
    assert_int_equal(oz_wk_control_send(dir, "frobnicate", 0, msg, sizeof msg, why, sizeof why),
                     OZ_WK_EINVAL);
    /* no worker running: recorded, and said so */
    assert_int_equal(oz_wk_control_send(dir, "nomorework", 0, msg, sizeof msg, why, sizeof why), 0);
    assert_non_null(strstr(msg, "no worker is running"));
    oz_wk_control c;
    assert_int_equal(oz_wk_control_load(dir, &c, why, sizeof why), 0);
    assert_true(c.no_more_work);
    assert_int_equal(c.seq, 1);
    oz_wk_remove_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_directory_never_controlled_computes_and_takes_work),
        cmocka_unit_test(the_file_round_trips_and_garbage_is_refused),
        cmocka_unit_test(the_watch_sees_each_change_once),
        cmocka_unit_test(commands_need_an_attached_directory_and_a_known_verb),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
