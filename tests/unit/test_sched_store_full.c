/*
 * test_sched_store_full.c - a full disk as the store sees it (issue 21,
 * hole 10): a write that fails for want of space is OZ_SCHED_ENOSPC (the
 * server's 503), not a database error (500); the database enters the
 * disk-full state with one log line, however many writes fail in it, and
 * leaves it with one line when a write commits with room on the file
 * system again.
 *
 * SQLite answers SQLITE_FULL, as for a full disk, when a database reaches
 * its connection's max_page_count: so the test caps its connection's pages
 * (with the SQLite backend's own PRAGMA, through oz_store_sql_exec) instead
 * of filling a disk,
 * which test_sched_diskfull.sh does on a tmpfs.  The log goes to stderr:
 * the test points descriptor 2 at a file while it runs and counts lines.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"
#include "support.h"

typedef struct captured {
    int saved; /* the real stderr */
    char path[64];
} captured;

static void capture(captured *c)
{
    snprintf(c->path, sizeof c->path, "/tmp/oz-full-log-XXXXXX");
    int fd = mkstemp(c->path);
    assert_true(fd >= 0);
    fflush(stderr);
    c->saved = dup(2);
    assert_true(c->saved >= 0 && dup2(fd, 2) == 2);
    close(fd);
}

/* Restores stderr; the number of lines holding needle. */
static int lines_with(captured *c, const char *needle, bool restore)
{
    if (restore) {
        fflush(stderr);
        dup2(c->saved, 2);
        close(c->saved);
    }
    FILE *f = fopen(c->path, "r");
    assert_non_null(f);
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

static int account(oz_store *s, int i)
{
    unsigned char hash[32];
    memset(hash, 0, sizeof hash);
    memcpy(hash, &i, sizeof i);
    char name[64], why[256];
    snprintf(name, sizeof name, "account number %d with a longer name", i);
    int64_t id;
    return oz_store_account_create(s, name, NULL, 0, NULL, hash, 1700000000, &id, why, sizeof why);
}

static void a_full_disk_is_enospc_and_logged_once_each_way(void **state)
{
    (void)state;
    char dir[64], path[96], why[512];
    snprintf(dir, sizeof dir, "/tmp/oz-full-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/ozma.db", dir);
    assert_int_equal(oz_db_create(path, why, sizeof why), OZ_SCHED_OK);
    oz_db *db;
    oz_store *s;
    assert_int_equal(oz_db_open(path, &db, why, sizeof why), OZ_SCHED_OK);
    assert_int_equal(oz_store_open(db, &s, why, sizeof why), OZ_SCHED_OK);
    oz_db_log_level_set(db, OZ_LOG_INFO);
    assert_false(oz_db_disk_full(db));

    /* no page beyond those the database has */
    int64_t pages = 0;
    assert_int_equal(oz_store_sql_int(s, "PRAGMA page_count", &pages, why, sizeof why),
                     OZ_SCHED_OK);
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA max_page_count = %lld", (long long)pages);
    assert_int_equal(oz_store_sql_exec(s, sql, why, sizeof why), OZ_SCHED_OK);

    /* (asserts wait until stderr is back, so that a failure can be read) */
    captured c;
    capture(&c);
    int i = 0, rc = OZ_SCHED_OK;
    while (i < 10000 && (rc = account(s, i)) == OZ_SCHED_OK)
        i++;
    bool full = oz_db_disk_full(db);
    int more = 0; /* more failures in the state: no more lines */
    for (int k = 0; k < 20; k++)
        more += account(s, i + 1 + k) == OZ_SCHED_ENOSPC;
    int entered = lines_with(&c, "msg=\"disk full", false);
    int errors = lines_with(&c, "level=error", false);
    /* room again (the file system under /tmp has it): the next write that
     * commits ends the state, once */
    snprintf(sql, sizeof sql, "PRAGMA max_page_count = %lld", (long long)pages + 100000);
    int raised = oz_store_sql_exec(s, sql, why, sizeof why);
    int rc2 = account(s, 20000), rc3 = account(s, 20001);
    bool still = oz_db_disk_full(db);
    int left = lines_with(&c, "msg=\"disk space available again", true);
    int entered2 = lines_with(&c, "msg=\"disk full", false);

    assert_int_equal(rc, OZ_SCHED_ENOSPC);
    assert_true(full);
    assert_int_equal(more, 20);
    assert_int_equal(entered, 1);
    assert_int_equal(errors, 1);
    assert_int_equal(raised, OZ_SCHED_OK);
    assert_int_equal(rc2, OZ_SCHED_OK);
    assert_int_equal(rc3, OZ_SCHED_OK);
    assert_false(still);
    assert_int_equal(left, 1);
    assert_int_equal(entered2, 1);
    unlink(c.path);

    oz_store_close(s);
    oz_db_close(db);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void quiet_by_default(void **state)
{
    (void)state;
    /* programs other than serve (load, status) report the failure itself:
     * the state's lines are off unless a threshold is set */
    char dir[64], path[96], why[512];
    snprintf(dir, sizeof dir, "/tmp/oz-full-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/ozma.db", dir);
    assert_int_equal(oz_db_create(path, why, sizeof why), OZ_SCHED_OK);
    oz_db *db;
    oz_store *s;
    assert_int_equal(oz_db_open(path, &db, why, sizeof why), OZ_SCHED_OK);
    assert_int_equal(oz_store_open(db, &s, why, sizeof why), OZ_SCHED_OK);
    /* (never below the pages it has: this is as many) */
    assert_int_equal(oz_store_sql_exec(s, "PRAGMA max_page_count = 1", why, sizeof why),
                     OZ_SCHED_OK);
    captured c;
    capture(&c);
    int i = 0, rc = OZ_SCHED_OK;
    while (i < 10000 && (rc = account(s, i)) == OZ_SCHED_OK)
        i++;
    int lines = lines_with(&c, "disk", true);
    assert_int_equal(rc, OZ_SCHED_ENOSPC);
    assert_int_equal(lines, 0);
    unlink(c.path);
    oz_store_close(s);
    oz_db_close(db);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_full_disk_is_enospc_and_logged_once_each_way),
        cmocka_unit_test(quiet_by_default),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
