/*
 * store_adhoc.c - the store's answer to SQL written elsewhere
 * (store.h: oz_store_sql_exec, oz_store_sql_int, oz_store_sql_text): what
 * the tests and benchmarks ask of the database beyond the store's calls,
 * so that nothing outside store/ needs a database's own header.  Each call prepares its
 * text afresh (the statement cache is keyed by string literals) and, like
 * every statement of the store, has its state tokens expanded first.
 */
#include <stdio.h>
#include <stdlib.h>

#include "sql_states.h"
#include "store_internal.h"

int oz_store_sql_exec(oz_store *s, const char *sql, char *why, size_t whylen)
{
    char *text = oz_sql_states_expand(sql, why, whylen);
    if (!text)
        return OZ_SCHED_EDB;
    int rc = OZ_SCHED_OK;
    if (oz_sql_exec(s->conn, text) != 0)
        rc = oz_store_dberr(s, "SQL", why, whylen);
    free(text);
    return rc;
}

/* Prepares sql and steps to its first row: *st then holds it (finalize
 * it); OZ_SCHED_ENOTFOUND when there is none. */
static int first_row(oz_store *s, const char *sql, oz_sql_stmt **st, char *why, size_t whylen)
{
    *st = NULL;
    char *text = oz_sql_states_expand(sql, why, whylen);
    if (!text)
        return OZ_SCHED_EDB;
    int rc = oz_sql_prepare(s->conn, text, false, st);
    free(text);
    if (rc != 0)
        return oz_store_dberr(s, "SQL", why, whylen);
    rc = oz_sql_step(*st);
    if (rc == OZ_SQL_ROW)
        return OZ_SCHED_OK;
    rc = rc == OZ_SQL_DONE ? oz_sched_fail(OZ_SCHED_ENOTFOUND, why, whylen, "no row")
                           : oz_store_dberr(s, "SQL", why, whylen);
    oz_sql_finalize(*st);
    *st = NULL;
    return rc;
}

int oz_store_sql_int(oz_store *s, const char *sql, int64_t *out, char *why, size_t whylen)
{
    oz_sql_stmt *st;
    int rc = first_row(s, sql, &st, why, whylen);
    if (rc == OZ_SCHED_OK)
        *out = oz_sql_column_int64(st, 0);
    oz_sql_finalize(st);
    return rc;
}

int oz_store_sql_text(oz_store *s, const char *sql, char *out, size_t outlen, char *why,
                      size_t whylen)
{
    oz_sql_stmt *st;
    int rc = first_row(s, sql, &st, why, whylen);
    if (rc == OZ_SCHED_OK)
        snprintf(out, outlen, "%s", oz_store_col_text(st, 0));
    oz_sql_finalize(st);
    return rc;
}
