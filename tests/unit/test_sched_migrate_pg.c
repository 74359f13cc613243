/*
 * test_sched_migrate_pg.c - the PostgreSQL schema's runner
 * (store/pg_schema.c: oz_pg_schema_migrate) through the libpq driver, on
 * the throwaway cluster test_sched_pg_schema.sh starts (its URI in
 * OZ_TEST_PG_URI; each case works in a schema of its own): init creates
 * version OZ_STORE_SCHEMA_VERSION and only on an empty database, open
 * accepts a current schema and refuses none or a newer one, a failed
 * creation leaves nothing behind, two servers creating at once create
 * once, and migration 16 carries a schema-15 database's progress counts
 * over to its shards.  Exit 77 (skipped) without the URI, or in a build without the
 * PostgreSQL driver (sql_pg.h).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

#if __has_include("sql_pg.h")
#include "pg_schema.h"
#include "sched_errors.h"
#include "sql_pg.h"
#include "sql_states.h"
#include "store.h"

static const char *uri;

/* A connection whose tables live in a fresh schema called name. */
static oz_sql *connect_in(const char *name, bool fresh)
{
    char why[512], sql[256];
    oz_sql *c = NULL;
    if (oz_sql_pg_open(uri, &c, why, sizeof why) != 0)
        fail_msg("%s", why);
    if (fresh) {
        snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s", name,
                 name);
        assert_int_equal(oz_sql_exec(c, sql), 0);
    }
    snprintf(sql, sizeof sql, "SET search_path = %s", name);
    assert_int_equal(oz_sql_exec(c, sql), 0);
    return c;
}

static int64_t query_int(oz_sql *c, const char *text)
{
    oz_sql_stmt *st = NULL;
    assert_int_equal(oz_sql_prepare(c, text, false, &st), 0);
    assert_int_equal(oz_sql_step(st), OZ_SQL_ROW);
    int64_t v = oz_sql_column_int64(st, 0);
    oz_sql_finalize(st);
    return v;
}

static void init_creates_the_current_version_once(void **state)
{
    (void)state;
    char why[512];
    oz_sql *c = connect_in("m_init", true);
    assert_int_equal(oz_pg_schema_migrate(c, true, why, sizeof why), OZ_SCHED_OK);
    assert_int_equal(query_int(c, "SELECT version FROM schema_version"), OZ_STORE_SCHEMA_VERSION);
    assert_int_equal(query_int(c, "SELECT count(*) FROM spot_stats"), 1);
    assert_false(oz_sql_in_transaction(c));
    assert_int_equal(oz_pg_schema_migrate(c, true, why, sizeof why), OZ_SCHED_EEXIST);
    assert_non_null(strstr(why, "already holds an Ozma schema"));
    assert_false(oz_sql_in_transaction(c));
    oz_sql_close(c);
}

static void open_takes_a_current_schema_and_refuses_others(void **state)
{
    (void)state;
    char why[512];
    oz_sql *c = connect_in("m_open", true);
    assert_int_equal(oz_pg_schema_migrate(c, false, why, sizeof why), OZ_SCHED_EDB);
    assert_non_null(strstr(why, "not an Ozma database"));
    assert_int_equal(oz_pg_schema_migrate(c, true, why, sizeof why), OZ_SCHED_OK);
    assert_int_equal(oz_pg_schema_migrate(c, false, why, sizeof why), OZ_SCHED_OK);
    assert_int_equal(oz_sql_exec(c, "UPDATE schema_version SET version = 99"), 0);
    assert_int_equal(oz_pg_schema_migrate(c, false, why, sizeof why), OZ_SCHED_EDB);
    assert_non_null(strstr(why, "schema version 99"));
    assert_false(oz_sql_in_transaction(c));
    oz_sql_close(c);
}

static void a_failed_creation_leaves_nothing(void **state)
{
    (void)state;
    char why[512];
    oz_sql *c = connect_in("m_fail", true);
    /* a table in the way: the migration fails half way through */
    assert_int_equal(oz_sql_exec(c, "CREATE TABLE signals(x BIGINT)"), 0);
    assert_int_equal(oz_pg_schema_migrate(c, true, why, sizeof why), OZ_SCHED_EDB);
    assert_non_null(strstr(why, "signals"));
    assert_false(oz_sql_in_transaction(c));
    assert_int_equal(query_int(c, "SELECT count(*) FROM pg_catalog.pg_tables"
                                  " WHERE schemaname = 'm_fail'"),
                     1);
    oz_sql_close(c);
}

/* Runs sql (states such as {UNIT_VALIDATED} expanded) on c. */
static void exec_states(oz_sql *c, const char *sql)
{
    char why[256];
    char *text = oz_sql_states_expand(sql, why, sizeof why);
    assert_non_null(text);
    if (oz_sql_exec(c, text) != 0)
        fail_msg("%s: %s", text, oz_sql_errmsg(c));
    free(text);
}

static void migration_16_carries_the_progress_over(void **state)
{
    (void)state;
    char why[512];
    oz_sql *c = connect_in("m_16", true);
    /* a schema-15 database with a dataset's six units counted by its row */
    for (const char *const *sql = oz_pg_migrations[0]; *sql; sql++)
        exec_states(c, *sql);
    exec_states(c, "UPDATE schema_version SET version = 15;"
                   "INSERT INTO datasets(name, recording, sample_rate, center_hz, config,"
                   " min_quorum, target_nresults, max_error_results, max_total_results,"
                   " delay_bound, created) VALUES('d', 'r', 1, 1, 'c', 2, 2, 3, 6, 100, 0);"
                   "INSERT INTO units(dataset_id, name, file, bytes, sha256, flops, idx, start_s,"
                   " nsamples, target) SELECT 1, 'u' || i, 'f', 1, '\\x00', 1, i, 0, 1, 2"
                   " FROM generate_series(1, 6) i;"
                   "UPDATE units SET state = {UNIT_VALIDATED} WHERE id = 1;"
                   "UPDATE units SET state = {UNIT_ERROR} WHERE id = 2;"
                   "UPDATE units SET n_success = 1 WHERE id = 3;"
                   "UPDATE units SET n_running = 1 WHERE id = 4;");
    assert_int_equal(query_int(c, "SELECT n_unsent FROM datasets"), 2);
    assert_int_equal(oz_pg_schema_migrate(c, false, why, sizeof why), OZ_SCHED_OK);
    assert_int_equal(query_int(c, "SELECT version FROM schema_version"), OZ_STORE_SCHEMA_VERSION);
    const char *progress = "SELECT n_units * 100000 + n_validated * 10000 + n_error * 1000"
                           " + n_validating * 100 + n_running * 10 + n_unsent"
                           " FROM dataset_progress";
    assert_int_equal(query_int(c, progress), 611112); /* 6 units: 1, 1, 1, 1, 2 unsent */
    /* and the counting goes on in the new table */
    exec_states(c, "UPDATE units SET n_running = 1 WHERE id = 5");
    assert_int_equal(query_int(c, progress), 611121);
    oz_sql_close(c);
}

typedef struct racer {
    pthread_barrier_t *go;
    int rc;
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    char why[512];
    oz_sql *c = connect_in("m_race", false);
    pthread_barrier_wait(r->go);
    r->rc = oz_pg_schema_migrate(c, true, why, sizeof why);
    oz_sql_close(c);
    return NULL;
}

static void servers_creating_at_once_create_once(void **state)
{
    (void)state;
    oz_sql_close(connect_in("m_race", true));
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, 2);
    racer r[2] = {{&go, 1}, {&go, 1}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&go);
    assert_true((r[0].rc == OZ_SCHED_OK && r[1].rc == OZ_SCHED_EEXIST) ||
                (r[1].rc == OZ_SCHED_OK && r[0].rc == OZ_SCHED_EEXIST));
}

int main(void)
{
    if (!(uri = getenv("OZ_TEST_PG_URI"))) {
        printf("SKIP: OZ_TEST_PG_URI is not set (test_sched_pg_schema.sh sets it)\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(init_creates_the_current_version_once),
        cmocka_unit_test(open_takes_a_current_schema_and_refuses_others),
        cmocka_unit_test(a_failed_creation_leaves_nothing),
        cmocka_unit_test(servers_creating_at_once_create_once),
        cmocka_unit_test(migration_16_carries_the_progress_over),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
#else
int main(void)
{
    printf("SKIP: this build has no PostgreSQL driver (store/sql_pg.h)\n");
    return 77;
}
#endif
