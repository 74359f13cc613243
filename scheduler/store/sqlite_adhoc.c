/*
 * sqlite_adhoc.c - the SQLite backend's answer to SQL written elsewhere
 * (store.h: oz_store_sql_exec, oz_store_sql_int, oz_store_sql_text): what
 * the tests and benchmarks ask of the database beyond the store's calls,
 * so that nothing outside store/ needs sqlite3.h.  Each call prepares its
 * text afresh (the statement cache is keyed by string literals) and, like
 * every statement of the store, has its state tokens expanded first.
 */
#include <stdio.h>
#include <stdlib.h>

#include "sql_states.h"
#include "sqlite_internal.h"

int oz_store_sql_exec(oz_store *s, const char *sql, char *why, size_t whylen)
{
    char *text = oz_sql_states_expand(sql, why, whylen), *err = NULL;
    if (!text)
        return OZ_SCHED_EDB;
    int rc = OZ_SCHED_OK;
    if (sqlite3_exec(s->conn, text, NULL, NULL, &err) != SQLITE_OK)
        rc = oz_store_dberr(s, "SQL", why, whylen);
    sqlite3_free(err);
    free(text);
    return rc;
}

/* Prepares sql and steps to its first row: *st then holds it (finalize
 * it); OZ_SCHED_ENOTFOUND when there is none. */
static int first_row(oz_store *s, const char *sql, sqlite3_stmt **st, char *why, size_t whylen)
{
    *st = NULL;
    char *text = oz_sql_states_expand(sql, why, whylen);
    if (!text)
        return OZ_SCHED_EDB;
    int rc = sqlite3_prepare_v2(s->conn, text, -1, st, NULL);
    free(text);
    if (rc != SQLITE_OK)
        return oz_store_dberr(s, "SQL", why, whylen);
    rc = sqlite3_step(*st);
    if (rc == SQLITE_ROW)
        return OZ_SCHED_OK;
    rc = rc == SQLITE_DONE ? oz_sched_fail(OZ_SCHED_ENOTFOUND, why, whylen, "no row")
                           : oz_store_dberr(s, "SQL", why, whylen);
    sqlite3_finalize(*st);
    *st = NULL;
    return rc;
}

int oz_store_sql_int(oz_store *s, const char *sql, int64_t *out, char *why, size_t whylen)
{
    sqlite3_stmt *st;
    int rc = first_row(s, sql, &st, why, whylen);
    if (rc == OZ_SCHED_OK)
        *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc;
}

int oz_store_sql_text(oz_store *s, const char *sql, char *out, size_t outlen, char *why,
                      size_t whylen)
{
    sqlite3_stmt *st;
    int rc = first_row(s, sql, &st, why, whylen);
    if (rc == OZ_SCHED_OK)
        snprintf(out, outlen, "%s", oz_store_col_text(st, 0));
    sqlite3_finalize(st);
    return rc;
}
