/*
 * store_unit.c - one unit as the web pages show it (store.h:
 * oz_store_unit_json; API.md GET /api/v1/units/NAME): its dataset and
 * state, its replicas with their hosts (by name) and states, and the
 * canonical signals its validated result gave.  Read in one transaction,
 * so the replicas and signals agree with the unit's state.
 */
#include <string.h>

#include "store_internal.h"

static json_t *unit_row(oz_sql_stmt *st, int64_t now)
{
    (void)now;
    static const char *const states[] = {"pending", "validated", "error"};
    int64_t state = oz_sql_column_int64(st, 2);
    return json_pack("{ss ss ss so so sf sI sI so}", "unit_id", oz_store_col_text(st, 0), "dataset",
                     oz_store_col_text(st, 1), "state",
                     state >= 0 && state < 3 ? states[state] : "unknown", "error",
                     oz_store_col_json(st, 3), "canonical_replica_id", oz_store_col_json(st, 4),
                     "start_s", oz_sql_column_double(st, 5), "nsamples",
                     (json_int_t)oz_sql_column_int64(st, 6), "target",
                     (json_int_t)oz_sql_column_int64(st, 7), "finished", oz_store_col_json(st, 8));
}

/* Appends what `sql` (the unit's row id as ?1, a limit as ?2) yields to
 * o[key]. */
static int add_rows(oz_store *s, json_t *o, const char *key, const char *sql, int64_t unit,
                    oz_store_row_fn make)
{
    oz_sql_stmt *st = oz_store_stmt(s, sql, NULL, 0);
    if (!st)
        return OZ_SCHED_EDB;
    oz_sql_bind_int64(st, 1, unit);
    oz_sql_bind_int(st, 2, OZ_STORE_LIMIT_MAX);
    json_t *arr;
    bool more;
    int rc = oz_store_rows_json(st, OZ_STORE_LIMIT_MAX, make, 0, &arr, &more, NULL);
    if (rc != OZ_SCHED_OK)
        return rc;
    return json_object_set_new(o, key, arr) ? OZ_SCHED_ENOMEM : OZ_SCHED_OK;
}

int oz_store_unit_json(oz_store *s, const char *name, json_t **out)
{
    *out = NULL;
    json_t *o = NULL;
    int rc = oz_store_rbegin(s, NULL, 0);
    if (rc != OZ_SCHED_OK)
        return rc;
    oz_sql_stmt *st = oz_store_stmt(s,
                                     "SELECT u.name, d.name, u.state, u.error, u.canonical,"
                                     " u.start_s, u.nsamples, u.target, u.finished, u.id"
                                     " FROM units u JOIN datasets d ON d.id = u.dataset_id"
                                     " WHERE u.name = ?1",
                                     NULL, 0);
    rc = OZ_SCHED_EDB;
    if (!st)
        goto fail;
    oz_sql_bind_text(st, 1, name, -1);
    int step = oz_sql_step(st);
    if (step != OZ_SQL_ROW) {
        oz_sql_reset(st);
        rc = step == OZ_SQL_DONE ? OZ_SCHED_ENOTFOUND : OZ_SCHED_EDB;
        goto fail;
    }
    int64_t unit = oz_sql_column_int64(st, 9);
    o = unit_row(st, 0);
    oz_sql_reset(st);
    rc = OZ_SCHED_ENOMEM;
    if (!o)
        goto fail;
    rc = add_rows(s, o, "replicas",
                  "SELECT " OZ_RESULT_COLS " FROM replicas r JOIN units u ON u.id = r.unit_id"
                  " JOIN datasets d ON d.id = u.dataset_id WHERE r.unit_id = ?1"
                  " ORDER BY r.id LIMIT ?2",
                  unit, oz_store_result_row);
    if (rc == OZ_SCHED_OK)
        rc = add_rows(s, o, "signals",
                      "SELECT " OZ_SIGNAL_COLS " FROM signals g JOIN units u ON u.id = g.unit_id"
                      " JOIN datasets d ON d.id = g.dataset_id WHERE g.unit_id = ?1"
                      " ORDER BY g.score DESC, g.id LIMIT ?2",
                      unit, oz_store_signal_row);
    if (rc != OZ_SCHED_OK)
        goto fail;
    oz_store_rend(s);
    *out = o;
    return OZ_SCHED_OK;
fail:
    oz_store_rend(s);
    json_decref(o);
    return rc;
}
