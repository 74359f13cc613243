/*
 * bench_sched_sql_pg.c - what one statement costs through the PostgreSQL
 * driver (scheduler/store/sql_pg.c), against a server given by URI: the
 * floor under the store's figures on PostgreSQL.  Each line is one kind of
 * statement run N times on one connection:
 *   select    a kept SELECT by primary key (one round trip)
 *   oneshot   the same SELECT prepared, run and finalized each time
 *   insert    a kept INSERT in its own transaction (a commit: a WAL flush)
 *   batch     kept INSERTs, 100 to a transaction
 *   rows      a kept SELECT of 100 rows, every column read
 * with the microseconds per statement (per row for rows) and statements per
 * second.  Not run by ctest.
 *
 * Usage: bench_sched_sql_pg URI [N]   (N: 20000 by default)
 * e.g. with a throwaway cluster:
 *   source tests/support/pg_cluster.sh; pg_cluster_start /tmp/b/pg
 *   build/release/tests/bench_sched_sql_pg "$PG_URI"; pg_cluster_stop /tmp/b/pg
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sql.h"
#include "sql_pg.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int must(oz_sql *c, int rc, int want, const char *what)
{
    if (rc != want) {
        fprintf(stderr, "bench_sched_sql_pg: %s: %s\n", what, oz_sql_errmsg(c));
        exit(1);
    }
    return rc;
}

static oz_sql_stmt *prep(oz_sql *c, const char *sql, bool persistent)
{
    oz_sql_stmt *st = NULL;
    must(c, oz_sql_prepare(c, sql, persistent, &st), 0, sql);
    return st;
}

static void report(const char *what, long n, double secs)
{
    printf("%-8s %8ld  %8.1f us each  %9.0f /s\n", what, n, secs / (double)n * 1e6,
           (double)n / secs);
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help")) {
        printf("usage: bench_sched_sql_pg URI [N]\n");
        return argc < 2 ? 2 : 0;
    }
    long n = argc > 2 ? strtol(argv[2], NULL, 10) : 20000;
    if (n < 100 || n > 10000000) {
        fprintf(stderr, "bench_sched_sql_pg: N must be 100 to 10000000\n");
        return 2;
    }
    char why[512];
    oz_sql *c = NULL;
    if (oz_sql_pg_open(argv[1], &c, why, sizeof why) != 0) {
        fprintf(stderr, "bench_sched_sql_pg: %s\n", why);
        return 1;
    }
    must(c,
         oz_sql_exec(c, "DROP TABLE IF EXISTS bench_sql;"
                        "CREATE TABLE bench_sql (id bigint PRIMARY KEY, host bigint, name text,"
                        " score double precision, blob bytea)"),
         0, "create");

    /* batch: 100 inserts a transaction, which also fills the table */
    oz_sql_stmt *ins = prep(c, "INSERT INTO bench_sql VALUES (?, ?, ?, ?, ?)", true);
    unsigned char blob[64] = {0};
    double t = now();
    for (long i = 0; i < n; i++) {
        if (i % 100 == 0)
            must(c, oz_sql_exec(c, "BEGIN"), 0, "begin");
        oz_sql_reset(ins);
        oz_sql_bind_int64(ins, 1, i);
        oz_sql_bind_int64(ins, 2, i % 1000);
        oz_sql_bind_text(ins, 3, "a host's name", -1);
        oz_sql_bind_double(ins, 4, (double)i / 7);
        oz_sql_bind_blob(ins, 5, blob, sizeof blob);
        must(c, oz_sql_step(ins), OZ_SQL_DONE, "insert");
        if (i % 100 == 99 || i == n - 1)
            must(c, oz_sql_exec(c, "COMMIT"), 0, "commit");
    }
    report("batch", n, now() - t);

    long commits = n / 10; /* each one waits for a WAL flush */
    t = now();
    for (long i = 0; i < commits; i++) {
        oz_sql_reset(ins);
        oz_sql_bind_int64(ins, 1, n + i);
        must(c, oz_sql_step(ins), OZ_SQL_DONE, "insert");
    }
    report("insert", commits, now() - t);
    oz_sql_finalize(ins);

    oz_sql_stmt *sel = prep(c, "SELECT host, name, score FROM bench_sql WHERE id = ?", true);
    int64_t sum = 0;
    t = now();
    for (long i = 0; i < n; i++) {
        oz_sql_reset(sel);
        oz_sql_bind_int64(sel, 1, (i * 7919) % n);
        must(c, oz_sql_step(sel), OZ_SQL_ROW, "select");
        sum += oz_sql_column_int64(sel, 0);
    }
    report("select", n, now() - t);
    oz_sql_finalize(sel);

    t = now();
    for (long i = 0; i < n / 10; i++) {
        oz_sql_stmt *one = prep(c, "SELECT host FROM bench_sql WHERE id = ?", false);
        oz_sql_bind_int64(one, 1, i);
        must(c, oz_sql_step(one), OZ_SQL_ROW, "oneshot");
        sum += oz_sql_column_int64(one, 0);
        oz_sql_finalize(one);
    }
    report("oneshot", n / 10, now() - t);

    oz_sql_stmt *rows = prep(c,
                             "SELECT id, host, name, score, blob FROM bench_sql"
                             " WHERE id >= ? ORDER BY id LIMIT 100",
                             true);
    long nrows = 0;
    t = now();
    for (long i = 0; i < n / 100; i++) {
        oz_sql_reset(rows);
        oz_sql_bind_int64(rows, 1, (i * 100) % n);
        while (oz_sql_step(rows) == OZ_SQL_ROW) {
            sum += oz_sql_column_int64(rows, 0) + oz_sql_column_int64(rows, 1) +
                   oz_sql_column_bytes(rows, 2) + (int64_t)oz_sql_column_double(rows, 3) +
                   oz_sql_column_bytes(rows, 4);
            nrows++;
        }
    }
    report("rows", nrows, now() - t);
    oz_sql_finalize(rows);
    must(c, oz_sql_exec(c, "DROP TABLE bench_sql"), 0, "drop");
    oz_sql_close(c);
    printf("(checksum %" PRId64 ")\n", sum);
    return 0;
}
