/*
 * test_worker_host.c - the host probes (worker/host.c): idle time from the
 * newest access/modification time of the watched paths, battery from a
 * power_supply directory, the facts registered with the scheduler, and the
 * compute thread's priority read back from /proc (worker/priority.c).
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "support.h"
#include "worker.h"

static void touch_ago(const char *path, double seconds)
{
    FILE *f = fopen(path, "a");
    assert_non_null(f);
    fclose(f);
    struct timespec ts[2];
    clock_gettime(CLOCK_REALTIME, &ts[0]);
    ts[0].tv_sec -= (time_t)seconds;
    ts[1] = ts[0];
    assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void idle_time_is_the_newest_input(void **state)
{
    (void)state;
    char dir[] = "/tmp/oz_idle_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char a[128], b[128], watch[300];
    snprintf(a, sizeof a, "%s/event0", dir);
    snprintf(b, sizeof b, "%s/event1", dir);
    touch_ago(a, 600);
    touch_ago(b, 120);
    double idle;
    assert_int_equal(oz_wk_idle_seconds(dir, &idle), 0); /* a directory: its entries */
    assert_true(idle >= 119 && idle < 130);
    snprintf(watch, sizeof watch, "%s /nonexistent", a);
    assert_int_equal(oz_wk_idle_seconds(watch, &idle), 0);
    assert_true(idle >= 599 && idle < 610);
    touch_ago(a, 0);
    assert_int_equal(oz_wk_idle_seconds(dir, &idle), 0);
    assert_true(idle < 5);
    assert_int_equal(oz_wk_idle_seconds("/nonexistent /also-not", &idle), OZ_WK_EIO);
    oz_wk_remove_tree(dir);
}

static void supply(const char *dir, const char *name, const char *type, const char *online)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/%s/type", dir, name);
    FILE *f = fopen(p, "w");
    fprintf(f, "%s\n", type);
    fclose(f);
    if (online) {
        snprintf(p, sizeof p, "%s/%s/online", dir, name);
        f = fopen(p, "w");
        fprintf(f, "%s\n", online);
        fclose(f);
    }
}

static void battery_means_a_battery_and_no_mains(void **state)
{
    (void)state;
    char dir[] = "/tmp/oz_power_XXXXXX";
    assert_non_null(mkdtemp(dir));
    assert_false(oz_wk_on_battery(dir)); /* a desktop: no supplies at all */
    assert_false(oz_wk_on_battery("/nonexistent"));
    supply(dir, "BAT0", "Battery", NULL);
    assert_true(oz_wk_on_battery(dir));
    supply(dir, "AC", "Mains", "0");
    assert_true(oz_wk_on_battery(dir));
    supply(dir, "AC", "Mains", "1");
    assert_false(oz_wk_on_battery(dir));
    supply(dir, "AC", "Mains", "0");
    supply(dir, "ucsi-source-psy-1", "USB", "1");
    assert_false(oz_wk_on_battery(dir));
    oz_wk_remove_tree(dir);
}

static void the_host_facts_fit_the_api(void **state)
{
    (void)state;
    oz_wk_host_info h;
    assert_int_equal(oz_wk_host_probe(&h), 0);
    assert_true(strlen(h.name) >= 1 && strlen(h.name) <= 64);
    assert_true(strlen(h.os) >= 1 && strlen(h.os) <= 64);
    assert_true(h.ncpus >= 1 && h.ncpus <= 1024);
    assert_true(h.memory_mb >= 1);
}

/* /proc/self/task/TID/stat: fields 19 (nice) and 41 (policy). */
static void read_sched(long tid, long *nice, long *policy)
{
    char p[64], buf[1024];
    snprintf(p, sizeof p, "/proc/self/task/%ld/stat", tid);
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    assert_non_null(fgets(buf, sizeof buf, f));
    fclose(f);
    char *s = strrchr(buf, ')'); /* the name may hold spaces */
    assert_non_null(s);
    int field = 2;
    *nice = *policy = -1;
    for (char *tok = strtok(s + 1, " "); tok; tok = strtok(NULL, " ")) {
        field++;
        if (field == 19)
            *nice = strtol(tok, NULL, 10);
        if (field == 41)
            *policy = strtol(tok, NULL, 10);
    }
}

typedef struct probe {
    long tid, nice, policy;
    int rc;
    atomic_int ready, done;
} probe;

static void *lowered(void *arg)
{
    probe *p = arg;
    char path[64];
    p->rc = oz_wk_priority_lower(NULL, 0);
    /* our tid: the newest entry whose comm we set */
    oz_wk_thread_name("oz-test-low");
    for (long t = 1; t < 4194304 && !p->tid; t++) {
        snprintf(path, sizeof path, "/proc/self/task/%ld/comm", t);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        char comm[32] = "";
        if (fgets(comm, sizeof comm, f) && strncmp(comm, "oz-test-low", 11) == 0)
            p->tid = t;
        fclose(f);
    }
    atomic_store(&p->ready, 1);
    while (!atomic_load(&p->done))
        oz_wk_nap(0.01, NULL, NULL);
    return NULL;
}

static void a_compute_thread_runs_at_nice_19_and_sched_idle(void **state)
{
    (void)state;
    probe p = {0};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, lowered, &p), 0);
    while (!atomic_load(&p.ready))
        oz_wk_nap(0.01, NULL, NULL);
    assert_int_equal(p.rc, 0);
    assert_true(p.tid > 0);
    long nice, policy;
    read_sched(p.tid, &nice, &policy);
    assert_int_equal(nice, 19);
    assert_int_equal(policy, 5); /* SCHED_IDLE */
    /* only that thread: the calling one is untouched */
    read_sched((long)getpid(), &nice, &policy);
    assert_int_equal(policy, 0);
    assert_true(nice < 19);
    atomic_store(&p.done, 1);
    pthread_join(t, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(idle_time_is_the_newest_input),
        cmocka_unit_test(battery_means_a_battery_and_no_mains),
        cmocka_unit_test(the_host_facts_fit_the_api),
        cmocka_unit_test(a_compute_thread_runs_at_nice_19_and_sched_idle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
