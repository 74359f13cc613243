/*
 * store_checks.c - what the validator's verdicts write for adaptive
 * replication (trust.h, canary.h, spot.h): a host's trust and quota moved
 * by each verdict on its results, each result's spot check and the checks'
 * totals, and the counts of results that found and missed a canary.
 * Called inside the verdicts' transaction (store_jobs.c).
 */
#include "store_internal.h"

/* A verdict on one of host's results moves its trust (trust.h): a valid
 * one counts toward trust and doubles back its daily quota, an invalid one
 * resets its trust and halves its quota. */
int oz_store_trust_write(oz_store *s, int64_t host, bool valid, char *why, size_t whylen)
{
    oz_sql_stmt *st = oz_store_stmt(s,
                                     "UPDATE hosts SET"
                                     " consecutive_valid = CASE WHEN ?2 = 1"
                                     " THEN consecutive_valid + 1 ELSE 0 END,"
                                     " n_valid = n_valid + ?2, n_invalid = n_invalid + 1 - ?2,"
                                     " quota_halvings = CASE WHEN ?2 = 1"
                                     " THEN greatest(quota_halvings - 1, 0)"
                                     " ELSE least(quota_halvings + 1, ?3) END WHERE id = ?1",
                                     why, whylen);
    if (!st)
        return OZ_SCHED_EDB;
    oz_sql_bind_int64(st, 1, host);
    oz_sql_bind_int(st, 2, valid);
    oz_sql_bind_int(st, 3, OZ_TRUST_HALVINGS_MAX);
    return oz_store_exec_stmt(s, st, why, whylen);
}

/* The spot checks made for a unit's verdict: each replica's outcome, and
 * the totals for /metrics. */
int oz_store_spot_write(oz_store *s, const oz_validate_unit *v, double cpu_s, char *why,
                        size_t whylen)
{
    int64_t passed = 0, failed = 0;
    oz_sql_stmt *st =
        oz_store_stmt(s, "UPDATE replicas SET spot = ?2 WHERE id = ?1 AND spot = 0", why, whylen);
    if (!st)
        return OZ_SCHED_EDB;
    for (size_t i = 0; i < v->nreplicas; i++) {
        const oz_validate_replica *r = &v->replicas[i];
        if (!r->spot)
            continue;
        oz_sql_bind_int64(st, 1, r->replica_id);
        oz_sql_bind_int(st, 2, r->spot);
        int rc = oz_store_exec_stmt(s, st, why, whylen);
        if (rc != OZ_SCHED_OK)
            return rc;
        if (oz_sql_changes(s->conn) == 1) { /* not counted before */
            passed += r->spot == 1;
            failed += r->spot == 2;
        }
    }
    if (!passed && !failed)
        return OZ_SCHED_OK;
    if (!(st = oz_store_stmt(s,
                             "UPDATE spot_stats SET passed = passed + ?1, failed = failed + ?2,"
                             " cpu_s = cpu_s + ?3 WHERE id = 1",
                             why, whylen)))
        return OZ_SCHED_EDB;
    oz_sql_bind_int64(st, 1, passed);
    oz_sql_bind_int64(st, 2, failed);
    oz_sql_bind_double(st, 3, cpu_s);
    return oz_store_exec_stmt(s, st, why, whylen);
}

/* Results that found and missed unit's canary, for /metrics. */
int oz_store_canary_count(oz_store *s, int64_t unit, int found, int missed, char *why,
                          size_t whylen)
{
    oz_sql_stmt *st = oz_store_stmt(s,
                                     "UPDATE canaries SET found = found + ?2, missed = missed + ?3"
                                     " WHERE unit_id = ?1",
                                     why, whylen);
    if (!st)
        return OZ_SCHED_EDB;
    oz_sql_bind_int64(st, 1, unit);
    oz_sql_bind_int(st, 2, found);
    oz_sql_bind_int(st, 3, missed);
    return oz_store_exec_stmt(s, st, why, whylen);
}
