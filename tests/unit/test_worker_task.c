/*
 * test_worker_task.c - assignments and task files (worker/task.c): every
 * field of an assignment from the scheduler is checked before it names a
 * directory or a request; task.json round-trips; a scan finds the tasks in
 * deadline order and skips damaged ones.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support.h"
#include "worker.h"

#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static json_t *assignment(void)
{
    return json_pack("{s:I, s:s, s:s, s:I, s:s, s:I, s:I, s:s}", "replica_id", (json_int_t)7,
                     "unit_id", "demo-000003", "url", "/units/demo-000003.ozwu", "bytes",
                     (json_int_t)262220, "sha256", SHA, "deadline", (json_int_t)1900000000, "flops",
                     (json_int_t)123456789, "future_field", "ignored");
}

static void a_good_assignment_becomes_a_task(void **state)
{
    (void)state;
    json_t *a = assignment();
    oz_wk_task t;
    char why[256] = "";
    assert_int_equal(oz_wk_task_from_json(a, &t, why, sizeof why), 0);
    assert_int_equal(t.replica_id, 7);
    assert_string_equal(t.unit_id, "demo-000003");
    assert_string_equal(t.url, "/units/demo-000003.ozwu");
    assert_int_equal(t.bytes, 262220);
    assert_string_equal(t.sha256, SHA);
    assert_int_equal(t.flops, 123456789);
    assert_int_equal(t.state, OZ_TASK_DOWNLOADING);
    json_decref(a);
}

/* A project with units_url names a file server: an absolute http(s) URL. */
static void a_file_server_url_is_taken(void **state)
{
    (void)state;
    static const char *const ok[] = {"https://files.example.org/units/demo-000003.ozwu",
                                     "http://127.0.0.1:8081/u/demo-000003.ozwu",
                                     "http://[::1]:80/~ozma/units%2B/demo-000003.ozwu"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        json_t *a = assignment();
        json_object_set_new(a, "url", json_string(ok[i]));
        oz_wk_task t;
        char why[256] = "";
        if (oz_wk_task_from_json(a, &t, why, sizeof why) != 0)
            fail_msg("%s refused: %s", ok[i], why);
        assert_string_equal(t.url, ok[i]);
        json_decref(a);
    }
}

static void a_hostile_assignment_is_refused(void **state)
{
    (void)state;
    static const struct {
        const char *key;
        const char *str;
        json_int_t num;
        const char *want;
    } cases[] = {
        {"replica_id", NULL, 0, "replica_id"},
        {"replica_id", NULL, -4, "replica_id"},
        {"unit_id", "../../etc", 0, "unit_id"},
        {"url", "ftp://elsewhere.example/x.ozwu", 0, "url"},
        {"url", "http://", 0, "url"},
        {"url", "http:///x.ozwu", 0, "url"},
        {"url", "http://elsewhere.example", 0, "url"},
        {"url", "http://elsewhere.example/x.ozwu?a=b", 0, "url"},
        {"url", "http://user@elsewhere.example/x.ozwu", 0, "url"},
        {"url", "https://elsewhere.example/../x.ozwu", 0, "url"},
        {"url", "units/x.ozwu", 0, "url"},
        {"url", "/units/../../secret", 0, "url"},
        {"url", "/units/a b.ozwu", 0, "url"},
        {"bytes", NULL, 0, "bytes"},
        {"bytes", NULL, (json_int_t)1 << 40, "bytes"},
        {"sha256", "ABCDEF", 0, "sha256"},
        {"sha256", NULL, 5, "sha256"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *a = assignment();
        json_object_set_new(a, cases[i].key,
                            cases[i].str ? json_string(cases[i].str) : json_integer(cases[i].num));
        oz_wk_task t;
        char why[256] = "";
        assert_int_equal(oz_wk_task_from_json(a, &t, why, sizeof why), OZ_WK_EFORMAT);
        if (!strstr(why, cases[i].want))
            fail_msg("case %zu: \"%s\" does not name %s", i, why, cases[i].want);
        json_decref(a);
    }
    json_t *a = assignment();
    json_object_del(a, "deadline");
    oz_wk_task t;
    assert_int_equal(oz_wk_task_from_json(a, &t, NULL, 0), OZ_WK_EFORMAT);
    json_decref(a);
}

static void tasks_round_trip_and_scan_in_deadline_order(void **state)
{
    (void)state;
    char dir[] = "/tmp/oz_task_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char why[512] = "";
    assert_int_equal(oz_wk_dir_prepare(dir, why, sizeof why), 0);
    json_int_t deadlines[3] = {300, 100, 200};
    for (int i = 0; i < 3; i++) {
        json_t *a = assignment();
        json_object_set_new(a, "replica_id", json_integer(10 + i));
        json_object_set_new(a, "deadline", json_integer(deadlines[i]));
        oz_wk_task t;
        assert_int_equal(oz_wk_task_from_json(a, &t, why, sizeof why), 0);
        json_decref(a);
        if (i == 1) {
            t.state = OZ_TASK_ERROR;
            snprintf(t.error, sizeof t.error, "unit: \"bad\"\nhash");
            t.bad_downloads = 2;
        }
        char td[256];
        assert_int_equal(oz_wk_task_dir(dir, t.replica_id, td, sizeof td), 0);
        assert_int_equal(mkdir(td, 0700), 0);
        assert_int_equal(oz_wk_task_save(td, &t, why, sizeof why), 0);
        oz_wk_task back;
        assert_int_equal(oz_wk_task_load(td, &back, why, sizeof why), 0);
        assert_memory_equal(&t, &back, sizeof t);
    }
    /* a damaged task directory is skipped, not fatal */
    char bad[256];
    snprintf(bad, sizeof bad, "%s/tasks/99", dir);
    assert_int_equal(mkdir(bad, 0700), 0);
    snprintf(bad, sizeof bad, "%s/tasks/99/task.json", dir);
    FILE *f = fopen(bad, "w");
    fputs("{\"version\": 1}", f);
    fclose(f);
    oz_wk_task *v;
    size_t n;
    assert_int_equal(oz_wk_tasks_scan(dir, &v, &n, why, sizeof why), 0);
    assert_int_equal(n, 3);
    assert_int_equal(v[0].replica_id, 11);
    assert_int_equal(v[1].replica_id, 12);
    assert_int_equal(v[2].replica_id, 10);
    assert_int_equal(v[0].state, OZ_TASK_ERROR);
    assert_int_equal(v[0].bad_downloads, 2);
    free(v);
    assert_int_equal(oz_wk_remove_tree(dir), 0);
    assert_int_not_equal(access(dir, F_OK), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_good_assignment_becomes_a_task),
        cmocka_unit_test(a_file_server_url_is_taken),
        cmocka_unit_test(a_hostile_assignment_is_refused),
        cmocka_unit_test(tasks_round_trip_and_scan_in_deadline_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
