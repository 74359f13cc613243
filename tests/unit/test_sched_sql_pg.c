/*
 * test_sched_sql_pg.c - the PostgreSQL driver of the store's SQL interface
 * (scheduler/store/sql_pg.c) against a real server, through sql.h as the
 * store calls it: SQLite's ? and ?N rewritten, every value type there and
 * back (bytea blobs, NULLs, int64's extremes, doubles bit for bit), RETURNING,
 * changes, statements stepped, reset and bound again, errors and their
 * kinds, transactions, and a server restarted or stopped under a connection
 * that then revives with its prepared statements.
 *
 * Run by tests/integration/test_sched_sql_pg.sh, which starts a throwaway
 * cluster and passes OZ_TEST_PG_URI, and the commands OZ_TEST_PG_RESTART
 * (pg_ctl restart -m immediate), OZ_TEST_PG_STOP and OZ_TEST_PG_START.
 * Without OZ_TEST_PG_URI it is skipped (exit 77); ctest runs only the
 * wrapper.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql.h"
#include "sql_pg.h"

static const char *uri;

static oz_sql *connect_ok(void)
{
    char why[512] = "";
    oz_sql *c = NULL;
    if (oz_sql_pg_open(uri, &c, why, sizeof why) != 0)
        fail_msg("open %s: %s", uri, why);
    return c;
}

static int setup(void **state)
{
    *state = connect_ok();
    return 0;
}

static int teardown(void **state)
{
    oz_sql_close(*state);
    return 0;
}

static void exec_ok(oz_sql *c, const char *sql)
{
    if (oz_sql_exec(c, sql) != 0)
        fail_msg("%s: %s", sql, oz_sql_errmsg(c));
}

static oz_sql_stmt *prep(oz_sql *c, const char *sql, bool persistent)
{
    oz_sql_stmt *st = NULL;
    if (oz_sql_prepare(c, sql, persistent, &st) != 0)
        fail_msg("prepare %s: %s", sql, oz_sql_errmsg(c));
    return st;
}

static void step_is(oz_sql *c, oz_sql_stmt *st, int want)
{
    int rc = oz_sql_step(st);
    if (rc != want)
        fail_msg("step gave %d, expected %d (%s)", rc, want, oz_sql_errmsg(c));
}

/* The one integer sql's one row holds. */
static int64_t scalar(oz_sql *c, const char *sql)
{
    oz_sql_stmt *st = prep(c, sql, false);
    step_is(c, st, OZ_SQL_ROW);
    int64_t v = oz_sql_column_int64(st, 0);
    step_is(c, st, OZ_SQL_DONE);
    oz_sql_finalize(st);
    return v;
}

/* A shell command from the environment (pg_ctl as the cluster's owner). */
static void run_env(const char *name)
{
    const char *cmd = getenv(name);
    if (!cmd || !*cmd)
        fail_msg("%s is not set (tests/integration/test_sched_sql_pg.sh sets it)", name);
    if (system(cmd) != 0)
        fail_msg("%s failed: %s", name, cmd);
}

static void parameters_are_numbered_as_sqlite_numbers_them(void **state)
{
    oz_sql *c = *state;
    /* ?2 -> $2, ?1 -> $1 (twice), a bare ? -> $3 (largest so far + 1);
     * the ? in literals, identifiers and comments are no parameters */
    oz_sql_stmt *st = prep(c,
                           "SELECT CAST(?2 AS bigint), CAST(?1 AS text) || CAST(?1 AS text),"
                           " CAST(? AS bigint) AS \"why?\", '?', 'it''s ?1' -- what ?9\n"
                           " /* ?7 */ , ?1 IS NULL",
                           true);
    assert_int_equal(oz_sql_bind_parameter_count(st), 3);
    assert_int_equal(oz_sql_bind_text(st, 1, "ab", -1), 0);
    assert_int_equal(oz_sql_bind_int64(st, 2, 22), 0);
    assert_int_equal(oz_sql_bind_int(st, 3, 33), 0);
    step_is(c, st, OZ_SQL_ROW);
    assert_int_equal(oz_sql_column_int64(st, 0), 22);
    assert_string_equal(oz_sql_column_text(st, 1), "abab");
    assert_int_equal(oz_sql_column_int64(st, 2), 33);
    assert_string_equal(oz_sql_column_text(st, 3), "?");
    assert_string_equal(oz_sql_column_text(st, 4), "it's ?1");
    assert_int_equal(oz_sql_column_int(st, 5), 0); /* false */
    step_is(c, st, OZ_SQL_DONE);
    oz_sql_finalize(st);

    /* a gap: ?1 and ?2 never named, still bindable */
    st = prep(c, "SELECT CAST(?3 AS integer) * 2", false);
    assert_int_equal(oz_sql_bind_parameter_count(st), 3);
    assert_int_equal(oz_sql_bind_int(st, 3, 21), 0);
    step_is(c, st, OZ_SQL_ROW);
    assert_int_equal(oz_sql_column_int(st, 0), 42);
    oz_sql_finalize(st);

    /* numbers SQLite refuses, refused with a sentence */
    st = NULL;
    assert_int_equal(oz_sql_prepare(c, "SELECT ?0", true, &st), OZ_SQL_FAIL);
    assert_null(st);
    assert_non_null(strstr(oz_sql_errmsg(c), "?0"));
    assert_int_equal(oz_sql_prepare(c, "SELECT ?99999999999999999999", true, &st), OZ_SQL_FAIL);
    assert_non_null(strstr(oz_sql_errmsg(c), "out of range"));
    /* binding a number the statement lacks */
    st = prep(c, "SELECT ?", true);
    assert_int_equal(oz_sql_bind_int(st, 2, 1), OZ_SQL_FAIL);
    assert_int_equal(oz_sql_bind_int(st, 0, 1), OZ_SQL_FAIL);
    oz_sql_finalize(st);
}

static void every_type_goes_in_and_comes_back(void **state)
{
    oz_sql *c = *state;
    exec_ok(c, "CREATE TABLE types (k integer PRIMARY KEY, i8 bigint, i4 integer, i2 smallint,"
               " b boolean, f8 double precision, f4 real, n numeric, t text, y bytea)");
    oz_sql_stmt *ins = prep(c, "INSERT INTO types VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", true);
    unsigned char bytes[256];
    for (int i = 0; i < 256; i++)
        bytes[i] = (unsigned char)(255 - i); /* every byte, NUL and 0xff among them */
    int64_t k = 1;
    assert_int_equal(oz_sql_bind_int64(ins, 1, k), 0);
    assert_int_equal(oz_sql_bind_int64(ins, 2, INT64_MAX), 0);
    assert_int_equal(oz_sql_bind_int(ins, 3, INT32_MAX), 0);
    assert_int_equal(oz_sql_bind_int(ins, 4, 32767), 0);
    assert_int_equal(oz_sql_bind_int(ins, 5, 1), 0);
    assert_int_equal(oz_sql_bind_double(ins, 6, 0.1), 0);
    assert_int_equal(oz_sql_bind_double(ins, 7, 0.5), 0);
    assert_int_equal(oz_sql_bind_double(ins, 8, 12.25), 0);
    assert_int_equal(oz_sql_bind_text(ins, 9, "h\xc3\xa9llo, world", 6), 0); /* "héllo" */
    assert_int_equal(oz_sql_bind_blob(ins, 10, bytes, sizeof bytes), 0);
    step_is(c, ins, OZ_SQL_DONE);
    /* the other extremes, an empty text and blob */
    oz_sql_reset(ins);
    assert_int_equal(oz_sql_bind_int64(ins, 1, ++k), 0);
    assert_int_equal(oz_sql_bind_int64(ins, 2, INT64_MIN), 0);
    assert_int_equal(oz_sql_bind_int(ins, 3, INT32_MIN), 0);
    assert_int_equal(oz_sql_bind_int(ins, 4, -32768), 0);
    assert_int_equal(oz_sql_bind_int(ins, 5, 0), 0);
    assert_int_equal(oz_sql_bind_double(ins, 6, -DBL_MAX), 0);
    assert_int_equal(oz_sql_bind_double(ins, 7, -0.25), 0);
    assert_int_equal(oz_sql_bind_double(ins, 8, -1e-3), 0);
    assert_int_equal(oz_sql_bind_text(ins, 9, "", -1), 0);
    assert_int_equal(oz_sql_bind_blob(ins, 10, "", 0), 0);
    step_is(c, ins, OZ_SQL_DONE);
    /* all NULL: cleared bindings are NULL */
    oz_sql_reset(ins);
    oz_sql_clear_bindings(ins);
    assert_int_equal(oz_sql_bind_int64(ins, 1, ++k), 0);
    step_is(c, ins, OZ_SQL_DONE);
    oz_sql_finalize(ins);

    oz_sql_stmt *st = prep(c, "SELECT i8, i4, i2, b, f8, f4, n, t, y FROM types ORDER BY k", true);
    step_is(c, st, OZ_SQL_ROW);
    const oz_sql_type want[] = {OZ_SQL_INTEGER, OZ_SQL_INTEGER, OZ_SQL_INTEGER,
                                OZ_SQL_INTEGER, OZ_SQL_FLOAT,   OZ_SQL_FLOAT,
                                OZ_SQL_FLOAT,   OZ_SQL_TEXT,    OZ_SQL_BLOB};
    for (int i = 0; i < 9; i++)
        assert_int_equal(oz_sql_column_type(st, i), want[i]);
    assert_true(oz_sql_column_int64(st, 0) == INT64_MAX);
    assert_int_equal(oz_sql_column_int(st, 1), INT32_MAX);
    assert_int_equal(oz_sql_column_int(st, 2), 32767);
    assert_int_equal(oz_sql_column_int(st, 3), 1);
    assert_true(oz_sql_column_double(st, 4) == 0.1);
    assert_true(oz_sql_column_double(st, 5) == 0.5);
    assert_true(oz_sql_column_double(st, 6) == 12.25);
    assert_int_equal(oz_sql_column_int64(st, 6), 12);
    assert_string_equal(oz_sql_column_text(st, 7), "h\xc3\xa9llo");
    assert_int_equal(oz_sql_column_bytes(st, 7), 6);
    assert_int_equal(oz_sql_column_bytes(st, 8), 256);
    assert_memory_equal(oz_sql_column_blob(st, 8), bytes, sizeof bytes);
    assert_memory_equal(oz_sql_column_blob(st, 8), bytes, sizeof bytes); /* read twice */

    step_is(c, st, OZ_SQL_ROW);
    assert_true(oz_sql_column_int64(st, 0) == INT64_MIN);
    assert_int_equal(oz_sql_column_int(st, 1), INT32_MIN);
    assert_int_equal(oz_sql_column_int(st, 2), -32768);
    assert_int_equal(oz_sql_column_int(st, 3), 0);
    assert_true(oz_sql_column_double(st, 4) == -DBL_MAX);
    assert_true(oz_sql_column_double(st, 5) == -0.25);
    assert_true(oz_sql_column_double(st, 6) == -1e-3);
    assert_int_equal(oz_sql_column_type(st, 7), OZ_SQL_TEXT);
    assert_string_equal(oz_sql_column_text(st, 7), "");
    assert_int_equal(oz_sql_column_type(st, 8), OZ_SQL_BLOB); /* empty, not NULL */
    assert_int_equal(oz_sql_column_bytes(st, 8), 0);

    step_is(c, st, OZ_SQL_ROW);
    for (int i = 0; i < 9; i++) {
        assert_int_equal(oz_sql_column_type(st, i), OZ_SQL_NULL);
        assert_int_equal(oz_sql_column_int64(st, i), 0);
        assert_true(oz_sql_column_double(st, i) == 0);
        assert_int_equal(oz_sql_column_bytes(st, i), 0);
    }
    assert_null(oz_sql_column_text(st, 7));
    assert_null(oz_sql_column_blob(st, 8));
    assert_int_equal(oz_sql_column_type(st, 9), OZ_SQL_NULL); /* no such column */
    step_is(c, st, OZ_SQL_DONE);
    oz_sql_finalize(st);

    /* bytea_output set otherwise behind the driver's back: the escape
     * form is passed through as it is (printable bytes stay themselves) */
    exec_ok(c, "SET bytea_output = escape");
    st = prep(c, "SELECT CAST('Az' AS bytea), CAST('\\x' AS bytea)", false);
    step_is(c, st, OZ_SQL_ROW);
    assert_int_equal(oz_sql_column_bytes(st, 0), 2);
    assert_memory_equal(oz_sql_column_blob(st, 0), "Az", 2);
    assert_int_equal(oz_sql_column_bytes(st, 1), 0);
    oz_sql_finalize(st);
    exec_ok(c, "SET bytea_output = hex");

    /* a NUL inside a text: PostgreSQL's text cannot hold it, refused */
    st = prep(c, "SELECT CAST(? AS text)", false);
    assert_int_equal(oz_sql_bind_text(st, 1, "a\0b", 3), OZ_SQL_FAIL);
    assert_non_null(strstr(oz_sql_errmsg(c), "NUL"));
    oz_sql_finalize(st);
}

/* x's bits, for comparing doubles exactly (-0 and 0 differ). */
static uint64_t bits(double x)
{
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    return b;
}

static void doubles_come_back_bit_for_bit(void **state)
{
    oz_sql *c = *state;
    exec_ok(c, "CREATE TABLE dbl (k integer PRIMARY KEY, x double precision)");
    oz_sql_stmt *ins = prep(c, "INSERT INTO dbl VALUES (?, ?)", true);
    oz_sql_stmt *get = prep(c, "SELECT x FROM dbl WHERE k = ?", true);
    double fixed[] = {0.1,      1.0 / 3,  3.141592653589793, DBL_MAX,
                      -DBL_MAX, DBL_MIN,  4.9e-324,          -0.0,
                      0.0,      1e300,    -1e-300,           1420.40575177,
                      9765.625, INFINITY, -INFINITY,         123456789012345678.0};
    uint64_t seed = 0x9e3779b97f4a7c15u;
    for (int k = 0; k < 1000; k++) {
        double x;
        if (k < (int)(sizeof fixed / sizeof *fixed)) {
            x = fixed[k];
        } else { /* any finite bit pattern */
            do {
                seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
                memcpy(&x, &seed, sizeof x);
            } while (!isfinite(x));
        }
        oz_sql_reset(ins);
        oz_sql_reset(get);
        assert_int_equal(oz_sql_bind_int(ins, 1, k), 0);
        assert_int_equal(oz_sql_bind_double(ins, 2, x), 0);
        step_is(c, ins, OZ_SQL_DONE);
        assert_int_equal(oz_sql_bind_int(get, 1, k), 0);
        step_is(c, get, OZ_SQL_ROW);
        double y = oz_sql_column_double(get, 0);
        if (bits(y) != bits(x))
            fail_msg("%.17g (%016llx) came back as %.17g (%016llx)", x, (unsigned long long)bits(x),
                     y, (unsigned long long)bits(y));
    }
    oz_sql_finalize(ins);
    /* NaN, spelled as PostgreSQL spells it */
    oz_sql_stmt *nan =
        prep(c, "SELECT CAST(? AS double precision), CAST(? AS double precision) = 'NaN'", false);
    assert_int_equal(oz_sql_bind_double(nan, 1, NAN), 0);
    assert_int_equal(oz_sql_bind_double(nan, 2, NAN), 0);
    step_is(c, nan, OZ_SQL_ROW);
    assert_true(isnan(oz_sql_column_double(nan, 0)));
    assert_int_equal(oz_sql_column_int(nan, 1), 1);
    oz_sql_finalize(nan);
    oz_sql_finalize(get);
}

static void returning_changes_and_rows_stepped_to_the_end(void **state)
{
    oz_sql *c = *state;
    exec_ok(c, "CREATE TABLE rows (id bigserial PRIMARY KEY, name text UNIQUE, n integer)");
    int64_t total0 = oz_sql_total_changes(c);
    oz_sql_stmt *ins = prep(c, "INSERT INTO rows (name, n) VALUES (?, ?) RETURNING id", true);
    const char *names[] = {"a", "b", "c", "d", "e"};
    for (int i = 0; i < 5; i++) {
        oz_sql_reset(ins);
        assert_int_equal(oz_sql_bind_text(ins, 1, names[i], -1), 0);
        assert_int_equal(oz_sql_bind_int(ins, 2, i * 10), 0);
        step_is(c, ins, OZ_SQL_ROW);
        assert_int_equal(oz_sql_column_int64(ins, 0), i + 1);
        step_is(c, ins, OZ_SQL_DONE);
        assert_int_equal(oz_sql_changes(c), 1);
    }
    oz_sql_finalize(ins);
    assert_int_equal(oz_sql_total_changes(c) - total0, 5);

    oz_sql_stmt *up = prep(c, "UPDATE rows SET n = n + 1 WHERE n >= ?", true);
    assert_int_equal(oz_sql_bind_int(up, 1, 20), 0);
    step_is(c, up, OZ_SQL_DONE);
    assert_int_equal(oz_sql_changes(c), 3);
    oz_sql_reset(up);
    assert_int_equal(oz_sql_bind_int(up, 1, 1000), 0);
    step_is(c, up, OZ_SQL_DONE);
    assert_int_equal(oz_sql_changes(c), 0);
    oz_sql_finalize(up);
    assert_int_equal(oz_sql_total_changes(c) - total0, 8);

    /* a SELECT changes nothing; its rows in order, then DONE */
    oz_sql_stmt *sel = prep(c, "SELECT name, n FROM rows WHERE n > ? ORDER BY id", true);
    assert_int_equal(oz_sql_bind_int(sel, 1, -1), 0);
    for (int i = 0; i < 5; i++) {
        step_is(c, sel, OZ_SQL_ROW);
        assert_string_equal(oz_sql_column_text(sel, 0), names[i]);
        assert_int_equal(oz_sql_column_int(sel, 1), i * 10 + (i >= 2));
    }
    step_is(c, sel, OZ_SQL_DONE);
    assert_int_equal(oz_sql_changes(c), 0);
    /* reset halfway, bound again: the new bindings, from the first row */
    oz_sql_reset(sel);
    step_is(c, sel, OZ_SQL_ROW);
    assert_string_equal(oz_sql_column_text(sel, 0), "a");
    oz_sql_reset(sel);
    assert_int_equal(oz_sql_bind_int(sel, 1, 25), 0);
    step_is(c, sel, OZ_SQL_ROW);
    assert_string_equal(oz_sql_column_text(sel, 0), "d");
    step_is(c, sel, OZ_SQL_ROW);
    assert_string_equal(oz_sql_column_text(sel, 0), "e");
    step_is(c, sel, OZ_SQL_DONE);
    /* two statements stepped in turn, as SQLite allows */
    oz_sql_stmt *del = prep(c, "DELETE FROM rows WHERE name = ?", false);
    oz_sql_reset(sel);
    assert_int_equal(oz_sql_bind_int(sel, 1, -1), 0);
    int deleted = 0;
    while (oz_sql_step(sel) == OZ_SQL_ROW) {
        oz_sql_reset(del);
        assert_int_equal(oz_sql_bind_text(del, 1, (const char *)oz_sql_column_text(sel, 0), -1), 0);
        step_is(c, del, OZ_SQL_DONE);
        deleted += (int)oz_sql_changes(c);
    }
    assert_int_equal(deleted, 5);
    assert_int_equal(scalar(c, "SELECT count(*) FROM rows"), 0);
    oz_sql_finalize(del);
    oz_sql_finalize(sel);

    /* a script: every statement's changes counted */
    int64_t before = oz_sql_total_changes(c);
    exec_ok(c, "INSERT INTO rows (name, n) VALUES ('x', 1), ('y', 2);"
               "UPDATE rows SET n = 0 WHERE name = 'x'");
    assert_int_equal(oz_sql_changes(c), 1);
    assert_int_equal(oz_sql_total_changes(c) - before, 3);
}

static void failures_say_what_and_which_kind(void **state)
{
    oz_sql *c = *state;
    exec_ok(c, "CREATE TABLE uniq (name text UNIQUE)");
    oz_sql_stmt *ins = prep(c, "INSERT INTO uniq VALUES (?)", true);
    assert_int_equal(oz_sql_bind_text(ins, 1, "twice", -1), 0);
    step_is(c, ins, OZ_SQL_DONE);
    oz_sql_reset(ins);
    assert_int_equal(oz_sql_step(ins), OZ_SQL_FAIL);
    assert_int_equal(oz_sql_errkind_get(c), OZ_SQL_EOTHER);
    const char *msg = oz_sql_errmsg(c);
    assert_non_null(strstr(msg, "duplicate key value violates unique constraint"));
    assert_non_null(strstr(msg, "(name)=(twice)")); /* the detail too */
    assert_null(strchr(msg, '\n'));
    /* the statement still works */
    oz_sql_reset(ins);
    assert_int_equal(oz_sql_bind_text(ins, 1, "once", -1), 0);
    step_is(c, ins, OZ_SQL_DONE);
    oz_sql_finalize(ins);

    /* a syntax error: at prepare for a kept statement, at step otherwise */
    oz_sql_stmt *st = NULL;
    assert_int_equal(oz_sql_prepare(c, "SELEC 1", true, &st), OZ_SQL_FAIL);
    assert_null(st);
    assert_non_null(strstr(oz_sql_errmsg(c), "syntax error"));
    assert_int_equal(oz_sql_errkind_get(c), OZ_SQL_EOTHER);
    st = prep(c, "SELECT nosuchcolumn FROM uniq", false);
    assert_int_equal(oz_sql_step(st), OZ_SQL_FAIL);
    assert_non_null(strstr(oz_sql_errmsg(c), "nosuchcolumn"));
    oz_sql_finalize(st);
    assert_int_equal(oz_sql_exec(c, "SELECT 1; SELEC 2; SELECT 3"), OZ_SQL_FAIL);
    assert_non_null(strstr(oz_sql_errmsg(c), "syntax error"));

    /* SQLite's index hint is dropped, a column named like one is not */
    assert_int_equal(scalar(c, "SELECT count(*) FROM uniq INDEXED BY uniq_name_key"
                               " WHERE name = 'once'"),
                     1);
    assert_int_equal(scalar(c, "SELECT count(*) FROM (SELECT 1 AS indexed_by) AS x"), 1);

    /* a row locked by another connection, past lock_timeout: try again */
    oz_sql *other = connect_ok();
    exec_ok(c, "BEGIN");
    assert_int_equal(scalar(c, "SELECT count(*) FROM (SELECT name FROM uniq WHERE name = 'once'"
                               " FOR UPDATE) AS l"),
                     1);
    exec_ok(other, "SET lock_timeout = '50ms'");
    oz_sql_stmt *up = prep(other, "UPDATE uniq SET name = ? WHERE name = 'once'", true);
    assert_int_equal(oz_sql_bind_text(up, 1, "taken", -1), 0);
    assert_int_equal(oz_sql_step(up), OZ_SQL_FAIL);
    assert_int_equal(oz_sql_errkind_get(other), OZ_SQL_EBUSY);
    /* in a transaction, what follows fails as the failure that aborted it */
    exec_ok(other, "BEGIN");
    oz_sql_reset(up);
    assert_int_equal(oz_sql_step(up), OZ_SQL_FAIL);
    assert_int_equal(oz_sql_errkind_get(other), OZ_SQL_EBUSY);
    assert_int_equal(oz_sql_exec(other, "SELECT 1"), OZ_SQL_FAIL);
    assert_non_null(strstr(oz_sql_errmsg(other), "aborted"));
    assert_int_equal(oz_sql_errkind_get(other), OZ_SQL_EBUSY);
    /* and its COMMIT, which PostgreSQL turns into a ROLLBACK, fails */
    oz_sql_stmt *commit = prep(other, "COMMIT", true);
    assert_int_equal(oz_sql_step(commit), OZ_SQL_FAIL);
    assert_int_equal(oz_sql_errkind_get(other), OZ_SQL_EBUSY);
    assert_non_null(strstr(oz_sql_errmsg(other), "rolled back"));
    oz_sql_finalize(commit);
    exec_ok(other, "BEGIN");
    assert_int_equal(oz_sql_exec(other, "SELECT 1/0"), OZ_SQL_FAIL);
    assert_int_equal(oz_sql_exec(other, "COMMIT"), OZ_SQL_FAIL);
    assert_int_equal(oz_sql_errkind_get(other), OZ_SQL_EOTHER);
    assert_false(oz_sql_in_transaction(other));
    assert_int_equal(oz_sql_exec(other, "SELECT 1/0"), OZ_SQL_FAIL);
    assert_int_equal(oz_sql_errkind_get(other), OZ_SQL_EOTHER);
    exec_ok(c, "COMMIT");
    oz_sql_reset(up);
    step_is(other, up, OZ_SQL_DONE); /* free now */
    assert_int_equal(oz_sql_changes(other), 1);
    oz_sql_finalize(up);
    oz_sql_close(other);
}

static void transactions_are_seen_and_a_failed_one_keeps_its_error(void **state)
{
    oz_sql *c = *state;
    exec_ok(c, "CREATE TABLE tx (v integer)");
    oz_sql_stmt *ins = prep(c, "INSERT INTO tx VALUES (?)", true);
    assert_false(oz_sql_in_transaction(c));
    exec_ok(c, "BEGIN");
    assert_true(oz_sql_in_transaction(c));
    assert_int_equal(oz_sql_bind_int(ins, 1, 1), 0);
    step_is(c, ins, OZ_SQL_DONE);
    exec_ok(c, "ROLLBACK");
    assert_false(oz_sql_in_transaction(c));
    assert_int_equal(scalar(c, "SELECT count(*) FROM tx"), 0);

    /* a failure inside: the transaction is no longer usable (only a
     * rollback is left, as after SQLite rolled one back), and its error a
     * statement finalized meanwhile does not overwrite */
    oz_sql_stmt *kept = prep(c, "SELECT 1", true);
    exec_ok(c, "BEGIN");
    oz_sql_reset(ins);
    step_is(c, ins, OZ_SQL_DONE);
    assert_int_equal(oz_sql_exec(c, "SELECT 1/0"), OZ_SQL_FAIL);
    assert_false(oz_sql_in_transaction(c));
    char msg[512];
    snprintf(msg, sizeof msg, "%s", oz_sql_errmsg(c));
    assert_non_null(strstr(msg, "division by zero"));
    oz_sql_finalize(kept);
    assert_string_equal(oz_sql_errmsg(c), msg);
    exec_ok(c, "ROLLBACK");
    assert_false(oz_sql_in_transaction(c));
    exec_ok(c, "BEGIN");
    oz_sql_reset(ins);
    step_is(c, ins, OZ_SQL_DONE);
    exec_ok(c, "COMMIT");
    assert_int_equal(scalar(c, "SELECT count(*) FROM tx"), 1);

    /* BEGIN and COMMIT as kept statements, as the store runs them */
    oz_sql_stmt *begin = prep(c, "BEGIN", true), *commit = prep(c, "COMMIT", true);
    for (int round = 0; round < 2; round++) {
        oz_sql_reset(begin);
        oz_sql_reset(commit);
        oz_sql_reset(ins);
        step_is(c, begin, OZ_SQL_DONE);
        assert_true(oz_sql_in_transaction(c));
        step_is(c, ins, OZ_SQL_DONE);
        step_is(c, commit, OZ_SQL_DONE);
        assert_false(oz_sql_in_transaction(c));
    }
    assert_int_equal(scalar(c, "SELECT count(*) FROM tx"), 3);
    oz_sql_finalize(begin);
    oz_sql_finalize(commit);
    oz_sql_finalize(ins);
}

static void the_session_is_set_up(void **state)
{
    oz_sql *c = *state;
    oz_sql_stmt *st = prep(c,
                           "SELECT current_setting('synchronous_commit'),"
                           " current_setting('TimeZone'), current_setting('application_name'),"
                           " current_setting('client_min_messages')",
                           false);
    step_is(c, st, OZ_SQL_ROW);
    assert_string_equal(oz_sql_column_text(st, 0), "on");
    assert_string_equal(oz_sql_column_text(st, 1), "UTC");
    assert_string_equal(oz_sql_column_text(st, 2), "ozma-server");
    assert_string_equal(oz_sql_column_text(st, 3), "warning");
    oz_sql_finalize(st);
    /* a warning (COMMIT with no transaction) is no failure */
    exec_ok(c, "COMMIT");
}

static void an_unreachable_server_is_named_but_never_the_password(void **state)
{
    (void)state;
    char why[512] = "";
    oz_sql *c = NULL;
    assert_int_equal(oz_sql_pg_open("postgresql://ozma:s3cr3t@/ozma?host=/nonexistent/sock", &c,
                                    why, sizeof why),
                     -1);
    assert_null(c);
    assert_non_null(strstr(why, "/nonexistent/sock"));
    assert_null(strstr(why, "s3cr3t"));
    assert_null(strchr(why, '\n'));
    /* libpq quotes a badly encoded password in its complaint */
    assert_int_equal(oz_sql_pg_open("postgresql://ozma:s3%zzcr3t@/ozma", &c, why, sizeof why), -1);
    assert_non_null(strstr(why, "URI"));
    assert_null(strstr(why, "s3%zzcr3t"));
    assert_int_equal(
        oz_sql_pg_open("host=/nonexistent password=hunter2 dbname=x", &c, why, sizeof why), -1);
    assert_null(strstr(why, "hunter2"));
}

static void a_restarted_server_is_reconnected_with_its_statements(void **state)
{
    oz_sql *c = *state;
    exec_ok(c, "CREATE TABLE kept (v integer)");
    oz_sql_stmt *ins = prep(c, "INSERT INTO kept VALUES (?)", true);
    oz_sql_stmt *count =
        prep(c, "SELECT count(*), coalesce(sum(v), 0) FROM kept WHERE v >= ?", true);
    assert_int_equal(oz_sql_bind_int(ins, 1, 7), 0);
    step_is(c, ins, OZ_SQL_DONE);
    assert_int_equal(oz_sql_revive(c), 0); /* up: nothing to do */

    /* a crash and recovery under an open transaction: its row is gone,
     * the committed one is there */
    exec_ok(c, "BEGIN");
    oz_sql_reset(ins);
    assert_int_equal(oz_sql_bind_int(ins, 1, 1000), 0);
    step_is(c, ins, OZ_SQL_DONE);
    run_env("OZ_TEST_PG_RESTART");
    assert_int_equal(oz_sql_exec(c, "COMMIT"), OZ_SQL_FAIL);
    assert_int_equal(oz_sql_errkind_get(c), OZ_SQL_EDOWN);
    assert_non_null(strstr(oz_sql_errmsg(c), "PostgreSQL database \"ozma\""));
    assert_null(strchr(oz_sql_errmsg(c), '\n'));
    assert_false(oz_sql_in_transaction(c));
    assert_int_equal(oz_sql_revive(c), 0);
    assert_int_equal(oz_sql_bind_int(count, 1, 0), 0);
    step_is(c, count, OZ_SQL_ROW); /* prepared again, transparently */
    assert_int_equal(oz_sql_column_int(count, 0), 1);
    assert_int_equal(oz_sql_column_int(count, 1), 7);
    oz_sql_reset(count);

    /* a statement's own step notices the loss; the session is set up again */
    run_env("OZ_TEST_PG_RESTART");
    oz_sql_reset(ins);
    assert_int_equal(oz_sql_bind_int(ins, 1, 7), 0);
    assert_int_equal(oz_sql_step(ins), OZ_SQL_FAIL);
    assert_int_equal(oz_sql_errkind_get(c), OZ_SQL_EDOWN);
    assert_int_equal(oz_sql_revive(c), 0);
    step_is(c, ins, OZ_SQL_DONE);
    assert_int_equal(oz_sql_changes(c), 1);
    oz_sql_stmt *st = prep(c, "SELECT current_setting('TimeZone')", false);
    step_is(c, st, OZ_SQL_ROW);
    assert_string_equal(oz_sql_column_text(st, 0), "UTC");
    oz_sql_finalize(st);

    /* stopped: revive fails until the server is back */
    run_env("OZ_TEST_PG_STOP");
    oz_sql_reset(count);
    assert_int_equal(oz_sql_step(count), OZ_SQL_FAIL);
    assert_int_equal(oz_sql_errkind_get(c), OZ_SQL_EDOWN);
    assert_int_equal(oz_sql_revive(c), OZ_SQL_FAIL);
    assert_int_equal(oz_sql_errkind_get(c), OZ_SQL_EDOWN);
    assert_non_null(strstr(oz_sql_errmsg(c), "still unreachable"));
    /* a kept statement made meanwhile is prepared when it first runs: its
     * run fails as the connection's, and succeeds once that is back */
    oz_sql_stmt *late = prep(c, "SELECT 40 + 2", true);
    assert_int_equal(oz_sql_step(late), OZ_SQL_FAIL);
    assert_int_equal(oz_sql_errkind_get(c), OZ_SQL_EDOWN);
    run_env("OZ_TEST_PG_START");
    assert_int_equal(oz_sql_revive(c), 0);
    oz_sql_reset(late);
    step_is(c, late, OZ_SQL_ROW);
    assert_int_equal(oz_sql_column_int(late, 0), 42);
    oz_sql_finalize(late);
    step_is(c, count, OZ_SQL_ROW);
    assert_int_equal(oz_sql_column_int(count, 0), 2);
    assert_int_equal(oz_sql_column_int(count, 1), 14);
    oz_sql_finalize(count);
    oz_sql_finalize(ins);
}

int main(void)
{
    uri = getenv("OZ_TEST_PG_URI");
    if (!uri || !*uri) {
        printf(
            "SKIP: OZ_TEST_PG_URI is not set (tests/integration/test_sched_sql_pg.sh sets it)\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parameters_are_numbered_as_sqlite_numbers_them),
        cmocka_unit_test(every_type_goes_in_and_comes_back),
        cmocka_unit_test(doubles_come_back_bit_for_bit),
        cmocka_unit_test(returning_changes_and_rows_stepped_to_the_end),
        cmocka_unit_test(failures_say_what_and_which_kind),
        cmocka_unit_test(transactions_are_seen_and_a_failed_one_keeps_its_error),
        cmocka_unit_test(the_session_is_set_up),
        cmocka_unit_test(an_unreachable_server_is_named_but_never_the_password),
        cmocka_unit_test(a_restarted_server_is_reconnected_with_its_statements),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
