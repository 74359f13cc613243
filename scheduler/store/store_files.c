/*
 * store_files.c - what the store knows of the unit files on the server's
 * disk (store.h, "unit files"): each unit's file name and SHA-256, recorded
 * by its load, and the mark of a file found not to match them (issue 21,
 * hole 8).
 *
 * A unit whose file is marked bad (units.file_bad: the reason, with
 * file_bad_time) is withdrawn until the operator puts the file right: the
 * mark deletes its unsent replicas in the same transaction, dispatch sends
 * none of its replicas (store_dispatch.c, which also keeps a lost one from
 * being sent again), and the transitioner leaves it alone (store_jobs.c),
 * so it neither burns its error budget nor ends in error.  Clearing the
 * mark flags the unit for the transitioner, which makes its replicas
 * again.  Checking a file (hashing it) is unit_check.c's, outside any
 * transaction.
 *
 * A finished dataset's unit files are deleted by the file deleter
 * (lifecycle.h), which records it in datasets.files_gone: from then on no
 * scrub checks them and a request for one is told it is gone.
 */
#include <stdio.h>
#include <string.h>

#include "store_internal.h"

/* Fills f from columns col.. : unit id, name, dataset name, file, sha256,
 * file_bad IS NOT NULL. */
static void unit_file_row(oz_sql_stmt *st, int col, oz_unit_file *f)
{
    memset(f, 0, sizeof *f);
    f->unit_rowid = oz_sql_column_int64(st, col);
    snprintf(f->unit_id, sizeof f->unit_id, "%s", oz_store_col_text(st, col + 1));
    snprintf(f->dataset, sizeof f->dataset, "%s", oz_store_col_text(st, col + 2));
    snprintf(f->file, sizeof f->file, "%s", oz_store_col_text(st, col + 3));
    if (oz_sql_column_bytes(st, col + 4) == 32)
        memcpy(f->sha256, oz_sql_column_blob(st, col + 4), 32);
    f->bad = oz_sql_column_int(st, col + 5) != 0;
}

#define UNIT_FILE_COLS "u.id, u.name, d.name, u.file, u.sha256, u.file_bad IS NOT NULL"

int oz_store_replica_unit_file(oz_store *s, int64_t replica_id, int64_t host_id, oz_unit_file *out,
                               char *why, size_t whylen)
{
    oz_sql_stmt *st =
        oz_store_stmt(s,
                      "SELECT " UNIT_FILE_COLS " FROM replicas r"
                      " JOIN units u ON u.id = r.unit_id"
                      " JOIN datasets d ON d.id = u.dataset_id"
                      " WHERE r.id = ? AND r.host_id = ? AND r.state = {REPLICA_IN_PROGRESS}",
                      why, whylen);
    if (!st)
        return OZ_SCHED_EDB;
    oz_sql_bind_int64(st, 1, replica_id);
    oz_sql_bind_int64(st, 2, host_id);
    int step = oz_sql_step(st), rc = OZ_SCHED_OK;
    if (step == OZ_SQL_ROW)
        unit_file_row(st, 0, out);
    else if (step == OZ_SQL_DONE)
        rc = oz_sched_fail(OZ_SCHED_ENOTFOUND, why, whylen,
                           "replica %lld is not in progress on host %lld", (long long)replica_id,
                           (long long)host_id);
    else
        rc = oz_store_dberr(s, "replica's unit", why, whylen);
    oz_sql_reset(st);
    return rc;
}

typedef struct mark_args {
    int64_t unit, now;
    const char *reason;
} mark_args;

static int mark_body(oz_store *s, void *arg, char *why, size_t whylen)
{
    const mark_args *A = arg;
    oz_sql_stmt *st;
    int rc;
    if (A->reason) {
        if (!(st = oz_store_stmt(s,
                                 "UPDATE units SET file_bad = coalesce(file_bad, ?2),"
                                 " file_bad_time = coalesce(file_bad_time, ?3) WHERE id = ?1",
                                 why, whylen)))
            return OZ_SCHED_EDB;
        oz_sql_bind_text(st, 2, A->reason, -1);
        oz_sql_bind_int64(st, 3, A->now);
    } else if (!(st = oz_store_stmt(s,
                                    "UPDATE units SET file_bad = NULL, file_bad_time = NULL,"
                                    " need_transition = 1 WHERE id = ?1 AND file_bad IS NOT NULL",
                                    why, whylen))) {
        return OZ_SCHED_EDB;
    }
    oz_sql_bind_int64(st, 1, A->unit);
    if ((rc = oz_store_exec_stmt(s, st, why, whylen)) != OZ_SCHED_OK || !A->reason)
        return rc;
    /* Unsent replicas hold nothing of anyone's (no host, no result): gone,
     * so that dispatch never walks past them; the transitioner makes them
     * again once the file is good. */
    if (!(st = oz_store_stmt(s,
                             "DELETE FROM replicas WHERE unit_id = ? AND state = {REPLICA_UNSENT}",
                             why, whylen)))
        return OZ_SCHED_EDB;
    oz_sql_bind_int64(st, 1, A->unit);
    return oz_store_exec_stmt(s, st, why, whylen);
}

int oz_store_unit_file_mark(oz_store *s, int64_t unit_rowid, const char *reason, int64_t now,
                            char *why, size_t whylen)
{
    mark_args A = {.unit = unit_rowid, .now = now, .reason = reason};
    return oz_store_write(s, 1, mark_body, &A, why, whylen);
}

int oz_store_unit_files(oz_store *s, bool bad_only, int64_t after, oz_unit_file *out, size_t max,
                        size_t *n, char *why, size_t whylen)
{
    *n = 0;
    oz_sql_stmt *st =
        bad_only ? oz_store_stmt(s,
                                 "SELECT " UNIT_FILE_COLS " FROM units u INDEXED BY units_file_bad"
                                 " JOIN datasets d ON d.id = u.dataset_id"
                                 " WHERE u.file_bad IS NOT NULL AND u.id > ? ORDER BY u.id LIMIT ?",
                                 why, whylen)
                 : oz_store_stmt(s,
                                 "SELECT " UNIT_FILE_COLS " FROM units u"
                                 " JOIN datasets d ON d.id = u.dataset_id"
                                 " WHERE u.id > ? AND d.ready = 1 AND d.files_gone IS NULL"
                                 " ORDER BY u.id LIMIT ?",
                                 why, whylen);
    if (!st)
        return OZ_SCHED_EDB;
    oz_sql_bind_int64(st, 1, after);
    oz_sql_bind_int64(st, 2, (int64_t)max);
    int step = OZ_SQL_DONE;
    while (*n < max && (step = oz_sql_step(st)) == OZ_SQL_ROW)
        unit_file_row(st, 0, &out[(*n)++]);
    int rc = *n < max && step != OZ_SQL_DONE ? oz_store_dberr(s, "unit files", why, whylen)
                                             : OZ_SCHED_OK;
    oz_sql_reset(st);
    return rc;
}

static json_t *file_bad_row(oz_sql_stmt *st, int64_t now)
{
    (void)now;
    return json_pack("{ss ss sI ss}", "unit_id", oz_store_col_text(st, 1), "dataset",
                     oz_store_col_text(st, 2), "time", (json_int_t)oz_sql_column_int64(st, 3),
                     "reason", oz_store_col_text(st, 4));
}

int oz_store_unit_files_bad_json(oz_store *s, int limit, json_t **out)
{
    *out = NULL;
    limit = oz_store_clamp(limit, 1, OZ_STORE_LIMIT_MAX, 10);
    oz_sql_stmt *st = oz_store_stmt(s,
                                     "SELECT u.id, u.name, d.name, coalesce(u.file_bad_time, 0),"
                                     " u.file_bad FROM units u INDEXED BY units_file_bad"
                                     " JOIN datasets d ON d.id = u.dataset_id"
                                     " WHERE u.file_bad IS NOT NULL"
                                     " ORDER BY u.file_bad_time DESC, u.id DESC LIMIT ?1",
                                     NULL, 0);
    if (!st)
        return OZ_SCHED_EDB;
    oz_sql_bind_int(st, 1, limit + 1);
    bool more;
    return oz_store_rows_json(st, limit, file_bad_row, 0, out, &more, NULL);
}

int oz_store_dataset_files(oz_store *s, int64_t dataset_id,
                           void (*each_file)(void *arg, const char *file), void *arg, char *why,
                           size_t whylen)
{
    oz_sql_stmt *st =
        oz_store_stmt(s, "SELECT file FROM units WHERE dataset_id = ? ORDER BY idx", why, whylen);
    if (!st)
        return OZ_SCHED_EDB;
    oz_sql_bind_int64(st, 1, dataset_id);
    int step;
    while ((step = oz_sql_step(st)) == OZ_SQL_ROW)
        each_file(arg, oz_store_col_text(st, 0));
    int rc = step == OZ_SQL_DONE ? OZ_SCHED_OK : oz_store_dberr(s, "unit files", why, whylen);
    oz_sql_reset(st);
    return rc;
}

int oz_store_unit_file_gone(oz_store *s, const char *unit_id, int64_t *when, char *why,
                            size_t whylen)
{
    *when = 0;
    oz_sql_stmt *st = oz_store_stmt(s,
                                     "SELECT d.files_gone FROM units u"
                                     " JOIN datasets d ON d.id = u.dataset_id"
                                     " WHERE u.name = ? AND d.files_gone IS NOT NULL",
                                     why, whylen);
    if (!st)
        return OZ_SCHED_EDB;
    oz_sql_bind_text(st, 1, unit_id, -1);
    int step = oz_sql_step(st), rc = OZ_SCHED_OK;
    if (step == OZ_SQL_ROW)
        *when = oz_sql_column_int64(st, 0);
    else if (step != OZ_SQL_DONE)
        rc = oz_store_dberr(s, "unit file", why, whylen);
    oz_sql_reset(st);
    return rc;
}
