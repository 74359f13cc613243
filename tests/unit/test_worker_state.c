/*
 * test_worker_state.c - the state directory (worker/state.c): where it is by
 * default, account.json readable by its owner only and round-tripping, the
 * lock that keeps a second worker out (and names the first), and status with
 * no worker running reading the task files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.h"
#include "worker.h"

static void the_default_directory_follows_systemd_and_xdg(void **state)
{
    (void)state;
    char buf[256], why[256];
    setenv("STATE_DIRECTORY", "/var/lib/ozma-worker:/other", 1);
    assert_int_equal(oz_wk_dir_default(buf, sizeof buf, why, sizeof why), 0);
    assert_string_equal(buf, "/var/lib/ozma-worker");
    unsetenv("STATE_DIRECTORY");
    if (geteuid() == 0) {
        assert_int_equal(oz_wk_dir_default(buf, sizeof buf, why, sizeof why), 0);
        assert_string_equal(buf, "/var/lib/ozma-worker");
    } else {
        setenv("XDG_DATA_HOME", "/home/u/.data", 1);
        assert_int_equal(oz_wk_dir_default(buf, sizeof buf, why, sizeof why), 0);
        assert_string_equal(buf, "/home/u/.data/ozma-worker");
    }
}

static void the_account_file_is_private_and_round_trips(void **state)
{
    (void)state;
    char dir[] = "/tmp/oz_state_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char why[512] = "", path[256];
    oz_wk_account a, b;
    assert_int_equal(oz_wk_account_load(dir, &b, why, sizeof why), OZ_WK_ESTATE);
    assert_non_null(strstr(why, "not attached"));
    memset(&a, 0, sizeof a);
    snprintf(a.url, sizeof a.url, "http://127.0.0.1:8080");
    a.account_id = 3;
    memset(a.authenticator, 'a', 64);
    a.host_id = 9;
    memset(a.host_key, 'b', 64);
    snprintf(a.host_name, sizeof a.host_name, "box");
    a.flops = 2.5e9;
    umask(022);
    assert_int_equal(oz_wk_account_save(dir, &a, why, sizeof why), 0);
    snprintf(path, sizeof path, "%s/account.json", dir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(oz_wk_account_load(dir, &b, why, sizeof why), 0);
    assert_memory_equal(&a, &b, sizeof a);
    /* a damaged file is an error naming it, not a crash */
    FILE *f = fopen(path, "w");
    fputs("{\"version\": 1, \"url\": 5}", f);
    fclose(f);
    assert_int_equal(oz_wk_account_load(dir, &b, why, sizeof why), OZ_WK_EFORMAT);
    assert_non_null(strstr(why, "account.json"));
    oz_wk_remove_tree(dir);
}

static void a_second_worker_is_kept_out(void **state)
{
    (void)state;
    char dir[] = "/tmp/oz_lock_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char why[512] = "";
    int fd;
    assert_int_equal(oz_wk_lock_holder(dir), 0);
    assert_int_equal(oz_wk_lock(dir, &fd, why, sizeof why), 0);
    pid_t child = fork();
    if (child == 0) {
        /* another process: refused, told who holds it */
        int cfd;
        char w[512] = "", want[64];
        int rc = oz_wk_lock(dir, &cfd, w, sizeof w);
        snprintf(want, sizeof want, "pid %ld", (long)getppid());
        _exit(rc == OZ_WK_ESTATE && strstr(w, want) && oz_wk_lock_holder(dir) == getppid() ? 0 : 1);
    }
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(fd); /* released: the next worker gets it */
    child = fork();
    if (child == 0) {
        int cfd;
        _exit(oz_wk_lock(dir, &cfd, NULL, 0) == 0 ? 0 : 1);
    }
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    oz_wk_remove_tree(dir);
}

static void status_without_a_worker_reads_the_tasks(void **state)
{
    (void)state;
    char dir[] = "/tmp/oz_status_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char why[512] = "";
    assert_int_equal(oz_wk_dir_prepare(dir, why, sizeof why), 0);
    oz_wk_account a;
    memset(&a, 0, sizeof a);
    snprintf(a.url, sizeof a.url, "http://127.0.0.1:1");
    memset(a.authenticator, 'a', 64);
    a.host_id = 1;
    memset(a.host_key, 'b', 64);
    a.flops = 1e9;
    assert_int_equal(oz_wk_account_save(dir, &a, why, sizeof why), 0);
    json_t *as = json_pack("{s:i, s:s, s:s, s:i, s:s, s:i, s:I}", "replica_id", 5, "unit_id", "u-1",
                           "url", "/units/u-1.ozwu", "bytes", 1000, "sha256",
                           "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                           "deadline", 2000000000, "flops", (json_int_t)30000000000);
    oz_wk_task t;
    assert_int_equal(oz_wk_task_from_json(as, &t, why, sizeof why), 0);
    json_decref(as);
    t.state = OZ_TASK_READY;
    char td[256], cp[300];
    oz_wk_task_dir(dir, 5, td, sizeof td);
    mkdir(td, 0700);
    assert_int_equal(oz_wk_task_save(td, &t, why, sizeof why), 0);
    snprintf(cp, sizeof cp, "%s/checkpoint.json", td);
    FILE *f = fopen(cp, "w");
    fputs("{\"done\": 25, \"steps\": 100, \"elapsed_s\": 10.0}", f);
    fclose(f);
    json_t *st;
    assert_int_equal(oz_wk_status_collect(dir, 1.0, &st, why, sizeof why), 0);
    assert_false(json_is_true(json_object_get(st, "running")));
    json_t *task = json_array_get(json_object_get(st, "tasks"), 0);
    assert_non_null(task);
    assert_string_equal(json_string_value(json_object_get(task, "state")), "stopped");
    assert_true(json_real_value(json_object_get(task, "progress")) == 0.25);
    assert_true(json_real_value(json_object_get(task, "remaining_s")) == 30.0);
    /* the scheduler is down: credit is unknown, status still works */
    assert_non_null(json_object_get(st, "credit_error"));
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    oz_wk_status_print(st, mem);
    fclose(mem);
    assert_non_null(strstr(text, "25.0%"));
    assert_non_null(strstr(text, "not running"));
    free(text);
    json_decref(st);
    oz_wk_remove_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_default_directory_follows_systemd_and_xdg),
        cmocka_unit_test(the_account_file_is_private_and_round_trips),
        cmocka_unit_test(a_second_worker_is_kept_out),
        cmocka_unit_test(status_without_a_worker_reads_the_tasks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
