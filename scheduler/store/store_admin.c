/*
 * store_admin.c - the operator's commands on the store (ozma-server dataset
 * cancel, host ban; dataset delete is oz_store_dataset_remove): each one
 * durable write transaction that leaves every counter as the jobs expect it.
 *
 * Both end replicas in progress as DIDNT_NEED with the operator's reason:
 * the outcome that counts neither as an error nor against max_total, so a
 * banned host's units are reissued to others without being pushed toward
 * their error limits.  The host's in-progress count (its cap) and the
 * units' running counts (the datasets' progress classes follow by trigger)
 * are adjusted in the same transaction, since no trigger keeps them
 * (sqlite.c, migration 5).
 */
#include "store_internal.h"

typedef struct cancel_args {
    const char *name, *reason;
    int64_t now;
    int64_t units, recalled;
} cancel_args;

/* Binds ?1 (an id), ?2 (text, may be absent) and ?3 (an integer) as the
 * statement uses them, runs it, and returns the rows it changed in *n. */
static int run(oz_store *s, const char *sql, int64_t id, const char *text, int64_t num, int64_t *n,
               char *why, size_t whylen)
{
    oz_sql_stmt *st = oz_store_stmt(s, sql, why, whylen);
    if (!st)
        return OZ_SCHED_EDB;
    oz_sql_bind_int64(st, 1, id);
    if (oz_sql_bind_parameter_count(st) >= 2)
        oz_sql_bind_text(st, 2, text, -1);
    if (oz_sql_bind_parameter_count(st) >= 3)
        oz_sql_bind_int64(st, 3, num);
    int rc = oz_store_exec_stmt(s, st, why, whylen);
    if (n)
        *n = rc == OZ_SCHED_OK ? oz_sql_changes(s->conn) : 0;
    return rc;
}

static int cancel_body(oz_store *s, void *arg, char *why, size_t whylen)
{
    cancel_args *A = arg;
    oz_sql_stmt *st = oz_store_stmt(s, "SELECT id FROM datasets WHERE name = ?", why, whylen);
    if (!st)
        return OZ_SCHED_EDB;
    oz_sql_bind_text(st, 1, A->name, -1);
    if (oz_sql_step(st) != OZ_SQL_ROW) {
        oz_sql_reset(st);
        return oz_sched_fail(OZ_SCHED_ENOTFOUND, why, whylen, "no dataset \"%s\"", A->name);
    }
    int64_t id = oz_sql_column_int64(st, 0);
    oz_sql_reset(st);
    int rc;
    if ((rc = run(s,
                  "UPDATE hosts SET in_progress = greatest(in_progress - (SELECT count(*)"
                  " FROM replicas r JOIN units u ON u.id = r.unit_id WHERE r.host_id = hosts.id"
                  " AND r.state = {REPLICA_IN_PROGRESS} AND u.dataset_id = ?1"
                  " AND u.state = {UNIT_ACTIVE}), 0)"
                  " WHERE id IN (SELECT r.host_id FROM replicas r JOIN units u"
                  " ON u.id = r.unit_id WHERE r.state = {REPLICA_IN_PROGRESS}"
                  " AND u.dataset_id = ?1 AND u.state = {UNIT_ACTIVE})",
                  id, NULL, 0, NULL, why, whylen)) != OZ_SCHED_OK ||
        (rc = run(s,
                  "UPDATE replicas SET state = {REPLICA_OVER}, outcome = {OUTCOME_DIDNT_NEED}, "
                  "error = ?2, received = ?3"
                  " WHERE state = {REPLICA_IN_PROGRESS} AND unit_id IN"
                  " (SELECT id FROM units WHERE dataset_id = ?1 AND state = {UNIT_ACTIVE})",
                  id, A->reason, A->now, &A->recalled, why, whylen)) != OZ_SCHED_OK ||
        (rc = run(s,
                  "DELETE FROM replicas WHERE state = {REPLICA_UNSENT} AND unit_id IN"
                  " (SELECT id FROM units WHERE dataset_id = ?1 AND state = {UNIT_ACTIVE})",
                  id, NULL, 0, NULL, why, whylen)) != OZ_SCHED_OK)
        return rc;
    return run(
        s,
        "UPDATE units SET state = {UNIT_ERROR}, error = ?2, finished = ?3, n_running = 0,"
        " need_transition = 0, need_validate = 0 WHERE dataset_id = ?1 AND state = {UNIT_ACTIVE}",
        id, A->reason, A->now, &A->units, why, whylen);
}

int oz_store_dataset_cancel(oz_store *s, const char *name, const char *reason, int64_t now,
                            int64_t *units, int64_t *recalled, char *why, size_t whylen)
{
    cancel_args A = {.name = name, .reason = reason, .now = now};
    int rc = oz_store_write_serial(s, 1, cancel_body, &A, why, whylen);
    *units = A.units;
    *recalled = A.recalled;
    return rc;
}

typedef struct ban_args {
    int64_t host, now;
    const char *reason;
    int64_t recalled, ignored;
} ban_args;

static int ban_body(oz_store *s, void *arg, char *why, size_t whylen)
{
    ban_args *A = arg;
    int64_t n = 0;
    int rc = run(s,
                 "UPDATE hosts SET banned = coalesce(banned, ?3),"
                 " ban_reason = coalesce(ban_reason, ?2), in_progress = 0 WHERE id = ?1",
                 A->host, A->reason, A->now, &n, why, whylen);
    if (rc != OZ_SCHED_OK)
        return rc;
    if (n == 0)
        return oz_sched_fail(OZ_SCHED_ENOTFOUND, why, whylen, "no host %lld", (long long)A->host);
    /* its replicas in progress: over, and their units reissue them */
    if ((rc = run(
             s,
             "UPDATE units SET need_transition = 1, n_running = n_running - (SELECT count(*)"
             " FROM replicas r WHERE r.unit_id = units.id AND r.host_id = ?1"
             " AND r.state = {REPLICA_IN_PROGRESS}) WHERE id IN"
             " (SELECT unit_id FROM replicas WHERE host_id = ?1 AND state = {REPLICA_IN_PROGRESS})",
             A->host, NULL, 0, NULL, why, whylen)) != OZ_SCHED_OK ||
        (rc = run(s,
                  "UPDATE replicas SET state = {REPLICA_OVER}, outcome = {OUTCOME_DIDNT_NEED}, "
                  "error = ?2, received = ?3"
                  " WHERE host_id = ?1 AND state = {REPLICA_IN_PROGRESS}",
                  A->host, A->reason, A->now, &A->recalled, why, whylen)) != OZ_SCHED_OK)
        return rc;
    /* its results on units still open: no longer successes, so they count
     * for no quorum and the transitioner asks others instead */
    if ((rc = run(
             s,
             "UPDATE units SET need_transition = 1, n_success = n_success - (SELECT count(*)"
             " FROM replicas r WHERE r.unit_id = units.id AND r.host_id = ?1"
             " AND r.outcome = {OUTCOME_SUCCESS}) WHERE state = {UNIT_ACTIVE} AND id IN"
             " (SELECT unit_id FROM replicas WHERE host_id = ?1 AND outcome = {OUTCOME_SUCCESS})",
             A->host, NULL, 0, NULL, why, whylen)) != OZ_SCHED_OK)
        return rc;
    return run(s,
               "UPDATE replicas SET outcome = {OUTCOME_DIDNT_NEED},"
               " validate_state = {VALIDATE_INVALID}, error = ?2"
               " WHERE host_id = ?1 AND outcome = {OUTCOME_SUCCESS} AND unit_id IN"
               " (SELECT id FROM units WHERE state = {UNIT_ACTIVE})",
               A->host, A->reason, 0, &A->ignored, why, whylen);
}

int oz_store_host_ban(oz_store *s, int64_t host_id, const char *reason, int64_t now,
                      int64_t *recalled, int64_t *ignored, char *why, size_t whylen)
{
    ban_args A = {.host = host_id, .now = now, .reason = reason};
    int rc = oz_store_write_serial(s, 1, ban_body, &A, why, whylen);
    *recalled = A.recalled;
    *ignored = A.ignored;
    return rc;
}
