/*
 * store_stats.c - the rows of the statistics exports (stats.c): every user,
 * team and host with credit, in id order, for the BOINC-compatible files
 * aggregator sites read.
 *
 * As BOINC's db_dump, only rows with credit are listed (a host that never
 * returned a valid result is of no interest to a stats site), and recent
 * average credit is decayed to `now` as it is read, so expavg_time is `now`
 * for every row.  The walk is one read transaction: the files describe one
 * moment, however long they take to write, and writers are not held up
 * (WAL readers block nobody).
 */
#include <string.h>

#include "credit.h"
#include "store_internal.h"

/* Column order of each query: id, name, total, recent, recent_time, created,
 * then per kind: users team_id; teams founder, founder's name, description;
 * hosts account_id, os, ncpus, flops. */
static const char *const stats_sql[] = {
    [OZ_CREDIT_USER] = "SELECT id, name, total_credit, recent_credit, recent_time, created,"
                       " team_id FROM accounts WHERE total_credit > 0 ORDER BY id",
    [OZ_CREDIT_TEAM] = "SELECT t.id, t.name, t.total_credit, t.recent_credit, t.recent_time,"
                       " t.created, t.founder, a.name, t.description FROM teams t"
                       " LEFT JOIN accounts a ON a.id = t.founder WHERE t.total_credit > 0"
                       " ORDER BY t.id",
    [OZ_CREDIT_HOST] = "SELECT id, name, total_credit, recent_credit, recent_time, created,"
                       " account_id, os, ncpus, flops FROM hosts WHERE total_credit > 0"
                       " ORDER BY id",
};

int oz_store_stats_each(oz_store *s, oz_credit_owner kind, int64_t now, oz_stats_row_fn fn,
                        void *arg, char *why, size_t whylen)
{
    if (kind != OZ_CREDIT_USER && kind != OZ_CREDIT_TEAM && kind != OZ_CREDIT_HOST)
        return OZ_SCHED_EINVAL;
    int rc = oz_store_rbegin(s, why, whylen);
    if (rc != OZ_SCHED_OK)
        return rc;
    oz_sql_stmt *st = oz_store_stmt(s, stats_sql[kind], why, whylen);
    if (!st) {
        oz_store_rend(s);
        return OZ_SCHED_EDB;
    }
    int step;
    rc = OZ_SCHED_OK;
    while (rc == OZ_SCHED_OK && (step = oz_sql_step(st)) == OZ_SQL_ROW) {
        oz_stats_row r;
        memset(&r, 0, sizeof r);
        r.id = oz_sql_column_int64(st, 0);
        r.name = oz_store_col_text(st, 1);
        r.total_credit = oz_sql_column_double(st, 2);
        r.expavg_credit =
            oz_credit_decay(oz_sql_column_double(st, 3), oz_sql_column_int64(st, 4), now);
        r.created = oz_sql_column_int64(st, 5);
        if (kind == OZ_CREDIT_USER)
            r.team_id = oz_sql_column_int64(st, 6); /* NULL reads as 0: no team */
        else if (kind == OZ_CREDIT_TEAM) {
            r.user_id = oz_sql_column_int64(st, 6);
            r.founder_name =
                oz_sql_column_type(st, 7) == OZ_SQL_NULL ? NULL : oz_store_col_text(st, 7);
            r.description = oz_store_col_text(st, 8);
        } else {
            r.user_id = oz_sql_column_int64(st, 6);
            r.os = oz_store_col_text(st, 7);
            r.ncpus = oz_sql_column_int(st, 8);
            r.flops = oz_sql_column_double(st, 9);
        }
        rc = fn(arg, &r);
    }
    if (rc == OZ_SCHED_OK && step != OZ_SQL_DONE)
        rc = oz_store_dberr(s, "reading the statistics", why, whylen);
    oz_sql_reset(st);
    oz_store_rend(s);
    return rc;
}
