/*
 * sql_sqlite.c - the SQLite driver of sql.h: each call is the sqlite3_
 * function of the same name on the handle beneath, plus greatest() and
 * least(), which PostgreSQL has and SQLite lacks, so that the store's SQL
 * is one text for both.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql_driver.h"
#include "sql_sqlite.h"

typedef struct lite_conn {
    oz_sql base;
    sqlite3 *db;
} lite_conn;

typedef struct lite_stmt {
    oz_sql_stmt base;
    sqlite3_stmt *st;
} lite_stmt;

static sqlite3_stmt *ST(oz_sql_stmt *st)
{
    return ((lite_stmt *)st)->st;
}

static sqlite3 *DB(oz_sql *c)
{
    return ((lite_conn *)c)->db;
}

sqlite3 *oz_sql_sqlite_handle(oz_sql *c)
{
    return DB(c);
}

static const oz_sql_driver lite_driver;

static int lite_prepare(oz_sql *c, const char *text, bool persistent, oz_sql_stmt **out)
{
    *out = NULL;
    lite_stmt *l = malloc(sizeof *l);
    if (!l)
        return OZ_SQL_FAIL;
    int rc = sqlite3_prepare_v3(DB(c), text, -1, persistent ? SQLITE_PREPARE_PERSISTENT : 0, &l->st,
                                NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(l->st);
        free(l);
        return OZ_SQL_FAIL;
    }
    l->base.drv = &lite_driver;
    *out = &l->base;
    return 0;
}

static void lite_finalize(oz_sql_stmt *st)
{
    sqlite3_finalize(ST(st));
    free(st);
}

static void lite_reset(oz_sql_stmt *st)
{
    sqlite3_reset(ST(st));
}

static void lite_clear_bindings(oz_sql_stmt *st)
{
    sqlite3_clear_bindings(ST(st));
}

static int lite_parameter_count(oz_sql_stmt *st)
{
    return sqlite3_bind_parameter_count(ST(st));
}

static int lite_bind_int64(oz_sql_stmt *st, int i, int64_t v)
{
    return sqlite3_bind_int64(ST(st), i, v) == SQLITE_OK ? 0 : OZ_SQL_FAIL;
}

static int lite_bind_double(oz_sql_stmt *st, int i, double v)
{
    return sqlite3_bind_double(ST(st), i, v) == SQLITE_OK ? 0 : OZ_SQL_FAIL;
}

static int lite_bind_text(oz_sql_stmt *st, int i, const char *text, int len)
{
    return sqlite3_bind_text(ST(st), i, text, len, SQLITE_STATIC) == SQLITE_OK ? 0 : OZ_SQL_FAIL;
}

static int lite_bind_blob(oz_sql_stmt *st, int i, const void *p, int len)
{
    return sqlite3_bind_blob(ST(st), i, p, len, SQLITE_STATIC) == SQLITE_OK ? 0 : OZ_SQL_FAIL;
}

static int lite_bind_null(oz_sql_stmt *st, int i)
{
    return sqlite3_bind_null(ST(st), i) == SQLITE_OK ? 0 : OZ_SQL_FAIL;
}

static int lite_step(oz_sql_stmt *st)
{
    switch (sqlite3_step(ST(st))) {
    case SQLITE_ROW:
        return OZ_SQL_ROW;
    case SQLITE_DONE:
        return OZ_SQL_DONE;
    default:
        return OZ_SQL_FAIL;
    }
}

static oz_sql_type lite_column_type(oz_sql_stmt *st, int col)
{
    switch (sqlite3_column_type(ST(st), col)) {
    case SQLITE_INTEGER:
        return OZ_SQL_INTEGER;
    case SQLITE_FLOAT:
        return OZ_SQL_FLOAT;
    case SQLITE_TEXT:
        return OZ_SQL_TEXT;
    case SQLITE_BLOB:
        return OZ_SQL_BLOB;
    default:
        return OZ_SQL_NULL;
    }
}

static int64_t lite_column_int64(oz_sql_stmt *st, int col)
{
    return sqlite3_column_int64(ST(st), col);
}

static double lite_column_double(oz_sql_stmt *st, int col)
{
    return sqlite3_column_double(ST(st), col);
}

static const unsigned char *lite_column_text(oz_sql_stmt *st, int col)
{
    return sqlite3_column_text(ST(st), col);
}

static const void *lite_column_blob(oz_sql_stmt *st, int col)
{
    return sqlite3_column_blob(ST(st), col);
}

static int lite_column_bytes(oz_sql_stmt *st, int col)
{
    return sqlite3_column_bytes(ST(st), col);
}

static void lite_close(oz_sql *c)
{
    sqlite3_close(DB(c));
    free(c);
}

static int lite_exec(oz_sql *c, const char *text)
{
    return sqlite3_exec(DB(c), text, NULL, NULL, NULL) == SQLITE_OK ? 0 : OZ_SQL_FAIL;
}

static int64_t lite_changes(oz_sql *c)
{
    return sqlite3_changes64(DB(c));
}

static int64_t lite_total_changes(oz_sql *c)
{
    return sqlite3_total_changes64(DB(c));
}

static bool lite_in_transaction(oz_sql *c)
{
    return !sqlite3_get_autocommit(DB(c));
}

static const char *lite_errmsg(oz_sql *c)
{
    return sqlite3_errmsg(DB(c));
}

static oz_sql_errkind lite_errkind(oz_sql *c)
{
    int code = sqlite3_errcode(DB(c));
    if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
        return OZ_SQL_EBUSY;
    /* SQLITE_FULL is SQLite's word for ENOSPC; an I/O error carries the
     * system's (the -shm file, a truncation) */
    int e = sqlite3_system_errno(DB(c));
    if (code == SQLITE_FULL ||
        ((code == SQLITE_IOERR || code == SQLITE_CANTOPEN) && (e == ENOSPC || e == EDQUOT)))
        return OZ_SQL_ENOSPC;
    return OZ_SQL_EOTHER;
}

static int lite_revive(oz_sql *c)
{
    (void)c;
    return 0;
}

static const oz_sql_driver lite_driver = {
    .name = "sqlite",
    .prepare = lite_prepare,
    .finalize = lite_finalize,
    .reset = lite_reset,
    .clear_bindings = lite_clear_bindings,
    .parameter_count = lite_parameter_count,
    .bind_int64 = lite_bind_int64,
    .bind_double = lite_bind_double,
    .bind_text = lite_bind_text,
    .bind_blob = lite_bind_blob,
    .bind_null = lite_bind_null,
    .step = lite_step,
    .column_type = lite_column_type,
    .column_int64 = lite_column_int64,
    .column_double = lite_column_double,
    .column_text = lite_column_text,
    .column_blob = lite_column_blob,
    .column_bytes = lite_column_bytes,
    .close = lite_close,
    .exec = lite_exec,
    .changes = lite_changes,
    .total_changes = lite_total_changes,
    .in_transaction = lite_in_transaction,
    .errmsg = lite_errmsg,
    .errkind = lite_errkind,
    .revive = lite_revive,
};

/* Orders two non-NULL values as SQLite's own comparison does for the
 * numbers and texts the store compares. */
static int value_cmp(sqlite3_value *a, sqlite3_value *b)
{
    int ta = sqlite3_value_numeric_type(a), tb = sqlite3_value_numeric_type(b);
    if (ta == SQLITE_INTEGER && tb == SQLITE_INTEGER) {
        sqlite3_int64 x = sqlite3_value_int64(a), y = sqlite3_value_int64(b);
        return (x > y) - (x < y);
    }
    if ((ta == SQLITE_INTEGER || ta == SQLITE_FLOAT) &&
        (tb == SQLITE_INTEGER || tb == SQLITE_FLOAT)) {
        double x = sqlite3_value_double(a), y = sqlite3_value_double(b);
        return (x > y) - (x < y);
    }
    const char *x = (const char *)sqlite3_value_text(a), *y = (const char *)sqlite3_value_text(b);
    int c = strcmp(x ? x : "", y ? y : "");
    return (c > 0) - (c < 0);
}

/* greatest(...) / least(...) as PostgreSQL defines them: the largest
 * (smallest) argument, NULLs ignored, NULL when all are. */
static void sql_extreme(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    int sign = *(const int *)sqlite3_user_data(ctx);
    sqlite3_value *best = NULL;
    for (int i = 0; i < argc; i++) {
        if (sqlite3_value_type(argv[i]) == SQLITE_NULL)
            continue;
        if (!best || value_cmp(argv[i], best) * sign > 0)
            best = argv[i];
    }
    if (best)
        sqlite3_result_value(ctx, best);
    else
        sqlite3_result_null(ctx);
}

int oz_sql_sqlite_open(const char *path, int flags, oz_sql **out, char *why, size_t whylen)
{
    static const int greater = 1, less = -1;
    *out = NULL;
    lite_conn *l = calloc(1, sizeof *l);
    if (!l) {
        snprintf(why, whylen, "out of memory");
        return OZ_SQL_FAIL;
    }
    l->base.drv = &lite_driver;
    int rc = sqlite3_open_v2(path, &l->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK) {
        int fl = SQLITE_UTF8 | SQLITE_DETERMINISTIC;
        rc = sqlite3_create_function(l->db, "greatest", -1, fl, (void *)&greater, sql_extreme, NULL,
                                     NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_create_function(l->db, "least", -1, fl, (void *)&less, sql_extreme, NULL,
                                         NULL);
    }
    if (rc != SQLITE_OK) {
        snprintf(why, whylen, "%s: cannot open the database: %s", path,
                 l->db ? sqlite3_errmsg(l->db) : sqlite3_errstr(rc));
        sqlite3_close(l->db);
        free(l);
        return OZ_SQL_FAIL;
    }
    *out = &l->base;
    return 0;
}
