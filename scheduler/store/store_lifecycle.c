/*
 * store_lifecycle.c - the store's side of the data lifecycle (lifecycle.h):
 * which datasets are done with their unit files, which finished units'
 * result texts are old enough to leave the live database, and the durable
 * marks of both (migration 13: datasets.files_gone, units.purged).
 *
 * A dataset is done when its progress counters (migration 4) say every unit
 * is validated or in error, none of the validated ones waits for the
 * assimilator and no replica is out (a late result of an adaptive dataset
 * is spot-checked against the unit file): from then on nothing reads its
 * unit files.  A unit is purged only when nothing
 * can touch its results again: no replica unsent or in progress (so no
 * upload can arrive), no validation pending, and the assimilator done with
 * it.  Purging keeps every row and column the pages read - states,
 * outcomes, credit, the result's SHA-256, the canonical signals - and
 * drops only the result text.
 */
#include "store_internal.h"

int oz_store_datasets_done(oz_store *s, int64_t *ids, size_t max, size_t *n, char *why,
                           size_t whylen)
{
    *n = 0;
    oz_sql_stmt *st = oz_store_stmt(
        s,
        "SELECT d.id FROM datasets d JOIN dataset_progress p ON p.dataset_id = d.id"
        " WHERE d.ready = 1 AND d.files_gone IS NULL"
        " AND p.n_validated + p.n_error >= p.n_units AND NOT EXISTS (SELECT 1 FROM units u"
        " INDEXED BY units_assimilate WHERE u.state = {UNIT_VALIDATED} AND u.assimilated = 0"
        " AND u.dataset_id = d.id) AND NOT EXISTS (SELECT 1 FROM units u"
        " JOIN replicas r ON r.unit_id = u.id WHERE u.dataset_id = d.id AND r.state < "
        "{REPLICA_OVER})"
        " ORDER BY d.id LIMIT ?",
        why, whylen);
    if (!st)
        return OZ_SCHED_EDB;
    oz_sql_bind_int64(st, 1, (int64_t)max);
    int step = OZ_SQL_DONE;
    while (*n < max && (step = oz_sql_step(st)) == OZ_SQL_ROW)
        ids[(*n)++] = oz_sql_column_int64(st, 0);
    int rc = *n < max && step != OZ_SQL_DONE ? oz_store_dberr(s, "datasets done", why, whylen)
                                             : OZ_SCHED_OK;
    oz_sql_reset(st);
    return rc;
}

typedef struct gone_args {
    int64_t id, now;
} gone_args;

static int gone_body(oz_store *s, void *arg, char *why, size_t whylen)
{
    const gone_args *A = arg;
    oz_sql_stmt *st = oz_store_stmt(
        s, "UPDATE datasets SET files_gone = ?2 WHERE id = ?1 AND files_gone IS NULL", why, whylen);
    if (!st)
        return OZ_SCHED_EDB;
    oz_sql_bind_int64(st, 1, A->id);
    oz_sql_bind_int64(st, 2, A->now);
    return oz_store_exec_stmt(s, st, why, whylen);
}

int oz_store_dataset_files_gone(oz_store *s, int64_t dataset_id, int64_t now, char *why,
                                size_t whylen)
{
    gone_args A = {.id = dataset_id, .now = now};
    return oz_store_write(s, 1, gone_body, &A, why, whylen);
}

int oz_store_purge_next(oz_store *s, int64_t cutoff, int64_t after_finished, int64_t after_id,
                        int (*each)(void *arg, const oz_purge_row *r), void *arg, int64_t *unit,
                        int64_t *finished, char *why, size_t whylen)
{
    oz_sql_stmt *st = oz_store_stmt(
        s,
        "SELECT u.id, u.finished, u.name, d.name, coalesce(u.canonical, 0)"
        " FROM units u INDEXED BY units_purge JOIN datasets d ON d.id = u.dataset_id"
        " WHERE u.finished IS NOT NULL AND u.purged IS NULL AND u.finished <= ?1"
        " AND (u.finished, u.id) > (?2, ?3)"
        " AND (u.state = {UNIT_ERROR} OR (u.state = {UNIT_VALIDATED} AND u.assimilated = 1))"
        " AND u.need_validate = 0"
        " AND NOT EXISTS (SELECT 1 FROM replicas x WHERE x.unit_id = u.id AND x.state < "
        "{REPLICA_OVER})"
        " ORDER BY u.finished, u.id LIMIT 1",
        why, whylen);
    if (!st)
        return OZ_SCHED_EDB;
    oz_sql_bind_int64(st, 1, cutoff);
    oz_sql_bind_int64(st, 2, after_finished);
    oz_sql_bind_int64(st, 3, after_id);
    int step = oz_sql_step(st);
    if (step != OZ_SQL_ROW) {
        oz_sql_reset(st);
        return step == OZ_SQL_DONE ? OZ_SCHED_ENOTFOUND
                                   : oz_store_dberr(s, "units to purge", why, whylen);
    }
    char uname[OZ_WU_ID_MAX + 1], dname[OZ_WU_ID_MAX + 1];
    *unit = oz_sql_column_int64(st, 0);
    *finished = oz_sql_column_int64(st, 1);
    snprintf(uname, sizeof uname, "%s", oz_store_col_text(st, 2));
    snprintf(dname, sizeof dname, "%s", oz_store_col_text(st, 3));
    int64_t canonical = oz_sql_column_int64(st, 4);
    oz_sql_reset(st);
    if (!(st = oz_store_stmt(s,
                             "SELECT id, coalesce(host_id, 0), coalesce(received, 0), result"
                             " FROM replicas WHERE unit_id = ? AND result IS NOT NULL ORDER BY id",
                             why, whylen)))
        return OZ_SCHED_EDB;
    oz_sql_bind_int64(st, 1, *unit);
    int rc = OZ_SCHED_OK;
    while (rc == OZ_SCHED_OK && (step = oz_sql_step(st)) == OZ_SQL_ROW) {
        oz_purge_row r = {.replica_id = oz_sql_column_int64(st, 0),
                          .host_id = oz_sql_column_int64(st, 1),
                          .received = oz_sql_column_int64(st, 2),
                          .finished = *finished,
                          .unit_id = uname,
                          .dataset = dname,
                          .result = oz_store_col_text(st, 3)};
        r.canonical = r.replica_id == canonical;
        rc = each(arg, &r);
    }
    if (rc == OZ_SCHED_OK && step != OZ_SQL_DONE)
        rc = oz_store_dberr(s, "results to purge", why, whylen);
    oz_sql_reset(st);
    return rc;
}

typedef struct purge_args {
    const int64_t *units;
    size_t n;
    int64_t now;
} purge_args;

/* The statements that rewrite one unit's replica rows without their
 * texts, in order; ?1 is the unit.  An UPDATE that shrinks a row never
 * merges the B-tree pages it leaves near empty (SQLite rebalances a page
 * only when a row is deleted from it or it overflows), so the texts' pages
 * would stay allocated, a row or two on each, and the database would grow
 * as if nothing were purged; deleted and inserted again (the same rowid and
 * columns), the rows pack the pages and the rest go to the free list, for
 * the next rows.  The replica count triggers (migration 4) see one delete
 * and one insert of the same row: no net change. */
static const char *const purge_sql[] = {
    "CREATE TEMP TABLE IF NOT EXISTS purge_rows AS SELECT * FROM replicas WHERE 1 = 0",
    "DELETE FROM purge_rows",
    "INSERT INTO purge_rows SELECT * FROM replicas WHERE unit_id = ?1",
    "UPDATE purge_rows SET result = NULL, result_bin = NULL",
    "DELETE FROM replicas WHERE unit_id = ?1",
    "INSERT INTO replicas SELECT * FROM purge_rows",
    "UPDATE units SET purged = ?2 WHERE id = ?1",
};

static int purge_body(oz_store *s, void *arg, char *why, size_t whylen)
{
    const purge_args *A = arg;
    for (size_t i = 0; i < A->n; i++) {
        /* PostgreSQL: nobody else's write to the rows between their copy
         * and their delete (another scheduler purging too, a late spot check) */
        int lrc = oz_store_unit_lock(s, A->units[i], why, whylen);
        if (lrc != OZ_SCHED_OK)
            return lrc;
        for (size_t k = 0; k < sizeof purge_sql / sizeof purge_sql[0]; k++) {
            oz_sql_stmt *st = oz_store_stmt(s, purge_sql[k], why, whylen);
            if (!st)
                return OZ_SCHED_EDB;
            int np = oz_sql_bind_parameter_count(st);
            if (np >= 1)
                oz_sql_bind_int64(st, 1, A->units[i]);
            if (np >= 2)
                oz_sql_bind_int64(st, 2, A->now);
            int rc = oz_store_exec_stmt(s, st, why, whylen);
            if (rc != OZ_SCHED_OK)
                return rc;
        }
    }
    return OZ_SCHED_OK;
}

int oz_store_purge_commit(oz_store *s, const int64_t *units, size_t n, int64_t now, char *why,
                          size_t whylen)
{
    purge_args A = {.units = units, .n = n, .now = now};
    return n ? oz_store_write(s, 1, purge_body, &A, why, whylen) : OZ_SCHED_OK;
}
