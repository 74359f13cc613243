/*
 * store_jobs.c - the database side of the transitioner, validator and
 * assimilator (store.h; the threads are in jobs.c).
 *
 * Work is found through flags on units (need_transition, need_validate,
 * state VALIDATED and not assimilated), set in the same transaction as the
 * change that calls for the work and cleared in the same transaction as the
 * work itself, so a crash in between only means the work is done again, and
 * every job's step is written so that doing it again changes nothing.  For
 * the same reason the jobs' transactions do not wait for an fsync (store.h):
 * one lost to a power cut is simply done again from the durable uploads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "credit.h"
#include "store_internal.h"
#include "transition.h"
#include "validate.h"

/* ---- transitioner -----------------------------------------------------------------------------
 */

#define TIMEOUTS_PER_CALL 256

int oz_store_replica_time_out(oz_store *s, int64_t replica, int64_t unit, int64_t host, char *why,
                              size_t whylen)
{
    oz_sql_stmt *rep = oz_store_stmt(s,
                                     "UPDATE replicas SET state = {REPLICA_OVER},"
                                     " outcome = {OUTCOME_NO_REPLY} WHERE id = ?"
                                     " AND state = {REPLICA_IN_PROGRESS}",
                                     why, whylen);
    oz_sql_stmt *hst = oz_store_stmt(s,
                                     "UPDATE hosts SET in_progress = greatest(in_progress - 1, 0)"
                                     " WHERE id = ?",
                                     why, whylen);
    oz_sql_stmt *unt =
        oz_store_stmt(s,
                      "UPDATE units SET need_transition = 1, n_running = n_running - 1"
                      " WHERE id = ?",
                      why, whylen);
    if (!rep || !hst || !unt)
        return OZ_SCHED_EDB;
    int rc;
    oz_sql_bind_int64(rep, 1, replica);
    oz_sql_bind_int64(hst, 1, host);
    oz_sql_bind_int64(unt, 1, unit);
    if ((rc = oz_store_exec_stmt(s, rep, why, whylen)) != OZ_SCHED_OK)
        return rc;
    if (oz_sql_changes(s->conn) != 1) /* closed meanwhile: its counts moved with it */
        return OZ_SCHED_OK;
    if ((rc = oz_store_exec_stmt(s, hst, why, whylen)) != OZ_SCHED_OK)
        return rc;
    return oz_store_exec_stmt(s, unt, why, whylen);
}

/* Replicas past their deadline: OVER / NO_REPLY, host count lowered, unit flagged. */
static int time_out(oz_store *s, int64_t now, char *why, size_t whylen)
{
    oz_sql_stmt *sel =
        oz_store_stmt(s,
                      "SELECT id, unit_id, host_id FROM replicas"
                      " WHERE state = {REPLICA_IN_PROGRESS} AND deadline < ? LIMIT ?",
                      why, whylen);
    if (!sel)
        return OZ_SCHED_EDB;
    int64_t rows[TIMEOUTS_PER_CALL][3];
    size_t n = 0;
    oz_sql_bind_int64(sel, 1, now);
    oz_sql_bind_int(sel, 2, TIMEOUTS_PER_CALL);
    while (n < TIMEOUTS_PER_CALL && oz_sql_step(sel) == OZ_SQL_ROW) {
        for (int c = 0; c < 3; c++)
            rows[n][c] = oz_sql_column_int64(sel, c);
        n++;
    }
    oz_sql_reset(sel);
    for (size_t i = 0; i < n; i++) {
        int rc = oz_store_replica_time_out(s, rows[i][0], rows[i][1], rows[i][2], why, whylen);
        if (rc != OZ_SCHED_OK)
            return rc;
    }
    return OZ_SCHED_OK;
}

/* The unit ends in error: reason kept, unsent replicas no longer needed. */
static int end_in_error(oz_store *s, int64_t unit, const char *reason, int64_t now, char *why,
                        size_t whylen)
{
    oz_sql_stmt *st = oz_store_stmt(s,
                                    "UPDATE units SET state = {UNIT_ERROR}, error = ?, finished = ?"
                                    " WHERE id = ?",
                                    why, whylen);
    if (!st)
        return OZ_SCHED_EDB;
    oz_sql_bind_text(st, 1, reason, -1);
    oz_sql_bind_int64(st, 2, now);
    oz_sql_bind_int64(st, 3, unit);
    int rc = oz_store_exec_stmt(s, st, why, whylen);
    if (rc != OZ_SCHED_OK)
        return rc;
    if (!(st = oz_store_stmt(s,
                             "UPDATE replicas SET state = {REPLICA_OVER},"
                             " outcome = {OUTCOME_DIDNT_NEED} WHERE unit_id = ?"
                             " AND state = {REPLICA_UNSENT}",
                             why, whylen)))
        return OZ_SCHED_EDB;
    oz_sql_bind_int64(st, 1, unit);
    return oz_store_exec_stmt(s, st, why, whylen);
}

/* Brings one flagged unit up to date (store.h: oz_store_transition). */
static int transition_unit(oz_store *s, int64_t unit, int64_t now, char *why, size_t whylen)
{
    bool got; /* held by another transaction: the next pass (store.c) */
    int rc = oz_store_unit_lock_try(s, unit, &got, why, whylen);
    if (rc != OZ_SCHED_OK || !got)
        return rc;
    oz_sql_stmt *st = oz_store_stmt(
        s,
        "SELECT u.state, u.target, d.max_error_results, d.max_total_results,"
        " count(CASE WHEN r.outcome != {OUTCOME_DIDNT_NEED} THEN 1 END),"
        " count(CASE WHEN r.outcome = {OUTCOME_CLIENT_ERROR} THEN 1 END),"
        " count(CASE WHEN r.state < {REPLICA_OVER} THEN 1 END),"
        " count(CASE WHEN r.outcome = {OUTCOME_SUCCESS}"
        "   AND r.validate_state != {VALIDATE_INVALID} THEN 1 END),"
        " (SELECT error FROM replicas WHERE unit_id = u.id AND outcome = {OUTCOME_CLIENT_ERROR}"
        "   ORDER BY received DESC, id DESC LIMIT 1), u.file_bad IS NOT NULL"
        " FROM units u JOIN datasets d ON d.id = u.dataset_id"
        " LEFT JOIN replicas r ON r.unit_id = u.id WHERE u.id = ? GROUP BY u.id, d.id",
        why, whylen);
    if (!st)
        return OZ_SCHED_EDB;
    oz_sql_bind_int64(st, 1, unit);
    if (oz_sql_step(st) != OZ_SQL_ROW) {
        oz_sql_reset(st);
        return OZ_SCHED_OK; /* deleted meanwhile */
    }
    int state = oz_sql_column_int(st, 0);
    oz_unit_tally t = {
        .target = oz_sql_column_int64(st, 1),
        .max_error = oz_sql_column_int64(st, 2),
        .max_total = oz_sql_column_int64(st, 3),
        .total = oz_sql_column_int64(st, 4),
        .errors = oz_sql_column_int64(st, 5),
        .live = oz_sql_column_int64(st, 6) + oz_sql_column_int64(st, 7),
    };
    char last[160];
    snprintf(last, sizeof last, "%s", oz_store_col_text(st, 8));
    bool file_bad = oz_sql_column_int(st, 9) != 0;
    oz_sql_reset(st);
    /* A unit whose file is bad waits for the operator (store_files.c):
     * neither replicas nor an end; clearing the mark flags it again. */
    if (state == OZ_UNIT_ACTIVE && !file_bad) {
        oz_transition tr;
        oz_transition_decide(&t, last, &tr);
        if (tr.kind == OZ_TRANSITION_ERROR) {
            rc = end_in_error(s, unit, tr.reason, now, why, whylen);
        } else if (tr.kind == OZ_TRANSITION_ADD) {
            oz_sql_stmt *ins =
                oz_store_stmt(s, "INSERT INTO replicas(unit_id) VALUES(?)", why, whylen);
            if (!ins)
                return OZ_SCHED_EDB;
            for (int64_t i = 0; i < tr.add && rc == OZ_SCHED_OK; i++) {
                oz_sql_bind_int64(ins, 1, unit);
                rc = oz_store_exec_stmt(s, ins, why, whylen);
            }
        }
        if (rc != OZ_SCHED_OK)
            return rc;
    }
    if (!(st = oz_store_stmt(s, "UPDATE units SET need_transition = 0 WHERE id = ?", why, whylen)))
        return OZ_SCHED_EDB;
    oz_sql_bind_int64(st, 1, unit);
    return oz_store_exec_stmt(s, st, why, whylen);
}

typedef struct transition_args {
    int64_t now;
    size_t max, *done;
} transition_args;

static int transition_body(oz_store *s, void *arg, char *why, size_t whylen)
{
    transition_args *A = arg;
    int rc = time_out(s, A->now, why, whylen);
    if (rc != OZ_SCHED_OK)
        return rc;
    oz_sql_stmt *st =
        oz_store_stmt(s, "SELECT id FROM units WHERE need_transition = 1 LIMIT ?", why, whylen);
    if (!st)
        return OZ_SCHED_EDB;
    int64_t units[TIMEOUTS_PER_CALL];
    size_t n = 0, max = A->max > TIMEOUTS_PER_CALL ? TIMEOUTS_PER_CALL : A->max;
    oz_sql_bind_int64(st, 1, (int64_t)max);
    while (n < max && oz_sql_step(st) == OZ_SQL_ROW)
        units[n++] = oz_sql_column_int64(st, 0);
    oz_sql_reset(st);
    for (size_t i = 0; i < n; i++)
        if ((rc = transition_unit(s, units[i], A->now, why, whylen)) != OZ_SCHED_OK)
            return rc;
    *A->done = n;
    return OZ_SCHED_OK;
}

int oz_store_transition(oz_store *s, int64_t now, size_t max, size_t *done, char *why,
                        size_t whylen)
{
    size_t n = 0;
    transition_args A = {.now = now, .max = max, .done = &n};
    int rc = oz_store_write(s, 0, transition_body, &A, why, whylen);
    *done = rc == OZ_SCHED_OK ? n : 0;
    return rc;
}

/* ---- validator --------------------------------------------------------------------------------
 */

void oz_validate_unit_clear(oz_validate_unit *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->nreplicas; i++) {
        free(v->replicas[i].json);
        free(v->replicas[i].bin);
    }
    free(v->replicas);
    free(v->config_json);
    free(v->canary_json);
    free(v->file);
    memset(v, 0, sizeof *v);
}

/* Loads unit `unit` for validation into v; *ready is false when there is
 * nothing to decide yet (too few results, or nothing new for a validated
 * unit). */
static int validate_load(oz_store *s, int64_t unit, oz_validate_unit *v, bool *ready, char *why,
                         size_t whylen)
{
    *ready = false;
    oz_sql_stmt *st = oz_store_stmt(
        s,
        "SELECT u.state, coalesce(u.canonical, 0), d.min_quorum,"
        " d.sample_rate, d.config, u.flops, u.single, c.truth, d.center_hz, d.adaptive, u.file,"
        " u.target, d.target_nresults"
        " FROM units u JOIN datasets d ON d.id = u.dataset_id"
        " LEFT JOIN canaries c ON c.unit_id = u.id WHERE u.id = ?",
        why, whylen);
    if (!st)
        return OZ_SCHED_EDB;
    oz_sql_bind_int64(st, 1, unit);
    if (oz_sql_step(st) != OZ_SQL_ROW) {
        oz_sql_reset(st);
        return OZ_SCHED_OK;
    }
    int state = oz_sql_column_int(st, 0);
    v->unit_rowid = unit;
    v->canonical = oz_sql_column_int64(st, 1);
    v->min_quorum = oz_sql_column_int(st, 2);
    v->sample_rate = oz_sql_column_double(st, 3);
    v->config_json = strdup(oz_store_col_text(st, 4));
    v->flops = (uint64_t)oz_sql_column_int64(st, 5);
    v->single = oz_sql_column_int(st, 6);
    v->center_hz = oz_sql_column_double(st, 8);
    v->adaptive = oz_sql_column_int(st, 9) != 0;
    v->file = strdup(oz_store_col_text(st, 10));
    v->target = oz_sql_column_int64(st, 11);
    v->target_nresults = oz_sql_column_int64(st, 12);
    v->min_quorum = oz_validate_quorum(v->min_quorum, v->single);
    bool canary = oz_sql_column_type(st, 7) != OZ_SQL_NULL;
    v->canary_json = canary ? strdup(oz_store_col_text(st, 7)) : NULL;
    oz_sql_reset(st);
    if (!v->config_json || !v->file || (canary && !v->canary_json))
        return oz_sched_fail(OZ_SCHED_ENOMEM, why, whylen, "out of memory");
    if (state == OZ_UNIT_ERROR)
        return OZ_SCHED_OK;
    if (!(st = oz_store_stmt(
              s,
              /* the packed result when it has one, else its text (result_bin.h) */
              "SELECT id, validate_state, CASE WHEN result_bin IS NULL THEN result END, spot,"
              " result_bin FROM replicas WHERE unit_id = ?"
              " AND outcome = {OUTCOME_SUCCESS} AND validate_state != {VALIDATE_INVALID}"
              " ORDER BY id",
              why, whylen)))
        return OZ_SCHED_EDB;
    oz_sql_bind_int64(st, 1, unit);
    size_t fresh = 0;
    int rc = OZ_SCHED_OK;
    while (rc == OZ_SCHED_OK && oz_sql_step(st) == OZ_SQL_ROW) {
        oz_validate_replica *grown = realloc(v->replicas, (v->nreplicas + 1) * sizeof *v->replicas);
        if (!grown) {
            rc = oz_sched_fail(OZ_SCHED_ENOMEM, why, whylen, "out of memory");
            break;
        }
        v->replicas = grown;
        oz_validate_replica *r = &v->replicas[v->nreplicas];
        r->replica_id = oz_sql_column_int64(st, 0);
        r->validate_state = oz_sql_column_int(st, 1);
        r->spot = oz_sql_column_int(st, 3);
        r->json = NULL;
        if (!oz_store_col_bin(st, 4, &r->bin, &r->binlen) ||
            (!r->bin && !(r->json = strdup(oz_store_col_text(st, 2))))) {
            free(r->bin);
            rc = oz_sched_fail(OZ_SCHED_ENOMEM, why, whylen, "out of memory");
        } else
            v->nreplicas++;
        fresh += r->validate_state == OZ_VALIDATE_INIT;
    }
    oz_sql_reset(st);
    if (rc != OZ_SCHED_OK)
        return rc;
    /* something new to judge, and validate.c's rule says it is time */
    *ready = fresh > 0 &&
             oz_validate_due(state == OZ_UNIT_VALIDATED, (int64_t)v->nreplicas, v->min_quorum);
    return OZ_SCHED_OK;
}

/* Clears a unit's need_validate unless it became ready meanwhile. */
static int unflag_body(oz_store *s, void *arg, char *why, size_t whylen)
{
    int64_t unit = *(int64_t *)arg;
    oz_validate_unit v;
    memset(&v, 0, sizeof v);
    bool ready, got; /* no result comes in meanwhile; held: the next pass */
    int rc = oz_store_unit_lock_try(s, unit, &got, why, whylen);
    if (rc != OZ_SCHED_OK || !got)
        return rc;
    rc = validate_load(s, unit, &v, &ready, why, whylen);
    oz_validate_unit_clear(&v);
    if (rc != OZ_SCHED_OK || ready)
        return rc;
    oz_sql_stmt *st =
        oz_store_stmt(s, "UPDATE units SET need_validate = 0 WHERE id = ?", why, whylen);
    if (!st)
        return OZ_SCHED_EDB;
    oz_sql_bind_int64(st, 1, unit);
    return oz_store_exec_stmt(s, st, why, whylen);
}

int oz_store_validate_batch(oz_store *s, int64_t after, oz_validate_unit *out, size_t max,
                            size_t *n, char *why, size_t whylen)
{
    *n = 0;
    if (max > OZ_STORE_BATCH_MAX)
        max = OZ_STORE_BATCH_MAX;
    while (*n < max) {
        /* Look in one read transaction (a snapshot: a connection reads its
         * pages afresh at each one, after the writer's commits): uploads
         * flag a unit only once it has a quorum, so a unit found is nearly
         * always ready. */
        int64_t ids[OZ_STORE_BATCH_MAX], idle[OZ_STORE_BATCH_MAX];
        size_t want = max - *n, nids = 0, nidle = 0;
        int rc = oz_store_rbegin(s, why, whylen);
        if (rc != OZ_SCHED_OK)
            return rc;
        oz_sql_stmt *st = oz_store_stmt(
            s, "SELECT id FROM units WHERE need_validate = 1 AND id > ? ORDER BY id LIMIT ?", why,
            whylen);
        if (!st) {
            oz_store_rend(s);
            return OZ_SCHED_EDB;
        }
        oz_sql_bind_int64(st, 1, after);
        oz_sql_bind_int64(st, 2, (int64_t)want);
        while (nids < want && oz_sql_step(st) == OZ_SQL_ROW)
            ids[nids++] = oz_sql_column_int64(st, 0);
        oz_sql_reset(st);
        for (size_t i = 0; i < nids && rc == OZ_SCHED_OK; i++) {
            bool ready = false;
            oz_validate_unit *v = &out[*n];
            memset(v, 0, sizeof *v);
            rc = validate_load(s, ids[i], v, &ready, why, whylen);
            after = ids[i];
            if (rc == OZ_SCHED_OK && ready) {
                (*n)++;
                continue;
            }
            oz_validate_unit_clear(v);
            if (rc == OZ_SCHED_OK)
                idle[nidle++] = ids[i];
        }
        oz_store_rend(s);
        /* Nothing to decide: clear the flag, looking again inside the write
         * transaction so that no upload slips in between. */
        for (size_t i = 0; i < nidle && rc == OZ_SCHED_OK; i++)
            rc = oz_store_write(s, 0, unflag_body, &idle[i], why, whylen);
        if (rc != OZ_SCHED_OK)
            return rc;
        if (nids < want) /* no more: else fill the places of the units not ready */
            break;
    }
    return *n ? OZ_SCHED_OK : OZ_SCHED_ENOTFOUND;
}

/* Credit granted by one batch of verdicts, summed per owner (host, user
 * or team) before it is written: an owner with several valid replicas in
 * the batch costs one row update and one credit-history row, not one each.
 * Recent credit adds linearly at one time, so the sums are exact. */
typedef struct credit_sum {
    int kind; /* 0 host, 1 user (account), 2 team; -1: an empty slot */
    int64_t owner;
    double credit;
} credit_sum;

typedef struct credit_sums {
    credit_sum *slot; /* open addressing, cap a power of two */
    size_t cap, n;
} credit_sums;

static void credit_sums_add(credit_sums *c, int kind, int64_t owner, double credit)
{
    uint64_t key = (uint64_t)owner << 2 | (uint64_t)(unsigned)kind;
    size_t h = (size_t)((key * UINT64_C(0x9E3779B97F4A7C15)) >> 20) & (c->cap - 1);
    while (c->slot[h].kind >= 0 && (c->slot[h].kind != kind || c->slot[h].owner != owner))
        h = (h + 1) & (c->cap - 1);
    if (c->slot[h].kind < 0) {
        c->slot[h] = (credit_sum){.kind = kind, .owner = owner};
        c->n++;
    }
    c->slot[h].credit += credit;
}

/* Writes each owner's summed credit: its totals and recent average, and
 * its line for the day in the credit history. */
static int credit_sums_write(oz_store *s, const credit_sums *c, int64_t now, char *why,
                             size_t whylen)
{
    static const char *const owners[] = {
        "UPDATE hosts SET total_credit = total_credit + ?1,"
        " recent_credit = decay(recent_credit, recent_time, ?2) + ?3, recent_time = ?2"
        " WHERE id = ?4",
        "UPDATE accounts SET total_credit = total_credit + ?1,"
        " recent_credit = decay(recent_credit, recent_time, ?2) + ?3, recent_time = ?2"
        " WHERE id = ?4",
        "UPDATE teams SET total_credit = total_credit + ?1,"
        " recent_credit = decay(recent_credit, recent_time, ?2) + ?3, recent_time = ?2"
        " WHERE id = ?4",
    };
    static const char *const kinds[] = {"host", "user", "team"};
    for (size_t i = 0; i < c->cap; i++) {
        const credit_sum *e = &c->slot[i];
        if (e->kind < 0)
            continue;
        oz_sql_stmt *st = oz_store_stmt(s, owners[e->kind], why, whylen);
        if (!st)
            return OZ_SCHED_EDB;
        oz_sql_bind_double(st, 1, e->credit);
        oz_sql_bind_int64(st, 2, now);
        oz_sql_bind_double(st, 3, oz_credit_rac_add(0, now, now, e->credit));
        oz_sql_bind_int64(st, 4, e->owner);
        int rc = oz_store_exec_stmt(s, st, why, whylen);
        if (rc != OZ_SCHED_OK)
            return rc;
        if (!(st = oz_store_stmt(s,
                                 "INSERT INTO credit_daily(kind, owner, day, credit)"
                                 " VALUES(?, ?, CAST(? AS BIGINT) / 86400, ?)"
                                 " ON CONFLICT(kind, owner, day)"
                                 " DO UPDATE SET credit = credit_daily.credit + excluded.credit",
                                 why, whylen)))
            return OZ_SCHED_EDB;
        oz_sql_bind_text(st, 1, kinds[e->kind], -1);
        oz_sql_bind_int64(st, 2, e->owner);
        oz_sql_bind_int64(st, 3, now);
        oz_sql_bind_double(st, 4, e->credit);
        if ((rc = oz_store_exec_stmt(s, st, why, whylen)) != OZ_SCHED_OK)
            return rc;
    }
    return OZ_SCHED_OK;
}

/* One unit's verdict (oz_store_validate_commit); the credit it grants
 * goes into sums. */
static int verdict_write(oz_store *s, const oz_verdict *d, int64_t now, credit_sums *sums,
                         char *why, size_t whylen)
{
    const oz_validate_unit *v = d->v;
    const int *states = d->states;
    int64_t canonical = d->canonical;
    double credit = d->credit;
    /* No result comes in, nor replica goes out, until the commit: the
     * flags below are read from what is (PostgreSQL, store.c).  A unit
     * another transaction holds keeps need_validate for the next pass. */
    bool got;
    int rc = oz_store_unit_lock_try(s, v->unit_rowid, &got, why, whylen);
    if (rc != OZ_SCHED_OK || !got)
        return rc;
    /* A valid replica's credit is set with its state, which names its
     * owners (host, account, team) for grant in the same statement. */
    oz_sql_stmt *st = oz_store_stmt(s,
                                    "UPDATE replicas SET validate_state = ?2,"
                                    " credit = CASE WHEN ?4 = 1 THEN ?5 ELSE credit END"
                                    " WHERE id = ?1 AND validate_state = ?3"
                                    " RETURNING host_id, account_id,"
                                    " (SELECT team_id FROM accounts WHERE id = account_id)",
                                    why, whylen);
    if (!st)
        goto dberr;
    for (size_t i = 0; i < v->nreplicas; i++) {
        const oz_validate_replica *r = &v->replicas[i];
        if (states[i] == r->validate_state)
            continue;
        bool valid = states[i] == OZ_VALIDATE_VALID;
        oz_sql_bind_int64(st, 1, r->replica_id);
        oz_sql_bind_int(st, 2, states[i]);
        oz_sql_bind_int(st, 3, r->validate_state);
        oz_sql_bind_int(st, 4, valid);
        oz_sql_bind_double(st, 5, credit);
        int64_t id[3] = {0, 0, 0};
        int step = oz_sql_step(st);
        if (step == OZ_SQL_ROW) {
            for (int k = 0; k < 3; k++)
                id[k] = oz_sql_column_int64(st, k);
            rc = oz_store_exec_stmt(s, st, why, whylen); /* to its end */
        } else {
            rc = step == OZ_SQL_DONE ? OZ_SCHED_OK
                                     : oz_store_dberr(s, "replica verdict", why, whylen);
            oz_sql_reset(st);
        }
        if (rc != OZ_SCHED_OK)
            goto fail;
        /* Changed by nobody else meanwhile (the validator is one thread),
         * but never grant twice even if it were: no row, no grant. */
        for (int k = 0; step == OZ_SQL_ROW && valid && k < 3; k++)
            if (id[k])
                credit_sums_add(sums, k, id[k], credit);
        bool invalid = states[i] == OZ_VALIDATE_INVALID;
        if (step == OZ_SQL_ROW && id[0] && (valid || invalid) &&
            (rc = oz_store_trust_write(s, id[0], valid, why, whylen)) != OZ_SCHED_OK)
            goto fail;
    }
    if ((rc = oz_store_spot_write(s, v, d->spot_cpu_s, why, whylen)) != OZ_SCHED_OK)
        goto fail;
    if ((d->canary_found || d->canary_missed) &&
        (rc = oz_store_canary_count(s, v->unit_rowid, d->canary_found, d->canary_missed, why,
                                    whylen)) != OZ_SCHED_OK)
        goto fail;
    if (canonical && !v->canonical) {
        if (!(st = oz_store_stmt(
                  s,
                  "UPDATE units SET state = {UNIT_VALIDATED}, canonical = ?2, finished = ?3,"
                  " need_transition = 0 WHERE id = ?1 AND state = {UNIT_ACTIVE}",
                  why, whylen)))
            goto dberr;
        oz_sql_bind_int64(st, 1, v->unit_rowid);
        oz_sql_bind_int64(st, 2, canonical);
        oz_sql_bind_int64(st, 3, now);
        if ((rc = oz_store_exec_stmt(s, st, why, whylen)) != OZ_SCHED_OK)
            goto fail;
        if (!(st = oz_store_stmt(s,
                                 "UPDATE replicas SET state = {REPLICA_OVER},"
                                 " outcome = {OUTCOME_DIDNT_NEED} WHERE unit_id = ?"
                                 " AND state = {REPLICA_UNSENT}",
                                 why, whylen)))
            goto dberr;
        oz_sql_bind_int64(st, 1, v->unit_rowid);
        if ((rc = oz_store_exec_stmt(s, st, why, whylen)) != OZ_SCHED_OK)
            goto fail;
    } else if (!canonical) {
        /* No consensus: what the unit asks for is validate.c's rule */
        int64_t target;
        int single;
        oz_validate_retry(v, v->nreplicas, &target, &single);
        if (!(st = oz_store_stmt(s,
                                 "UPDATE units SET target = greatest(target, ?2), single = ?3,"
                                 " need_transition = 1 WHERE id = ?1 AND state = {UNIT_ACTIVE}",
                                 why, whylen)))
            goto dberr;
        oz_sql_bind_int64(st, 1, v->unit_rowid);
        oz_sql_bind_int64(st, 2, target);
        oz_sql_bind_int(st, 3, single);
        if ((rc = oz_store_exec_stmt(s, st, why, whylen)) != OZ_SCHED_OK)
            goto fail;
    }
    if (!(st = oz_store_stmt(s,
                             "UPDATE units SET need_validate = CASE WHEN EXISTS(SELECT 1"
                             " FROM replicas WHERE unit_id = ?1 AND outcome = {OUTCOME_SUCCESS}"
                             " AND validate_state = {VALIDATE_INIT}) THEN 1 ELSE 0 END"
                             " WHERE id = ?1",
                             why, whylen)))
        goto dberr;
    oz_sql_bind_int64(st, 1, v->unit_rowid);
    if ((rc = oz_store_exec_stmt(s, st, why, whylen)) != OZ_SCHED_OK)
        goto fail;
    return OZ_SCHED_OK;
dberr:
    rc = OZ_SCHED_EDB;
fail:
    return rc;
}

typedef struct verdicts_args {
    const oz_verdict *d;
    size_t n;
    int64_t now;
} verdicts_args;

static int verdicts_body(oz_store *s, void *arg, char *why, size_t whylen)
{
    verdicts_args *A = arg;
    size_t most = 0; /* owners credited at most: three per replica */
    for (size_t i = 0; i < A->n; i++)
        most += 3 * A->d[i].v->nreplicas;
    credit_sums sums = {.cap = 16};
    while (sums.cap < 2 * most)
        sums.cap *= 2;
    if (!(sums.slot = malloc(sums.cap * sizeof *sums.slot)))
        return oz_sched_fail(OZ_SCHED_ENOMEM, why, whylen, "out of memory");
    for (size_t i = 0; i < sums.cap; i++)
        sums.slot[i].kind = -1;
    int rc = OZ_SCHED_OK;
    for (size_t i = 0; i < A->n && rc == OZ_SCHED_OK; i++)
        rc = verdict_write(s, &A->d[i], A->now, &sums, why, whylen);
    if (rc == OZ_SCHED_OK)
        rc = credit_sums_write(s, &sums, A->now, why, whylen);
    free(sums.slot);
    return rc;
}

int oz_store_validate_commit(oz_store *s, const oz_verdict *d, size_t n, int64_t now, char *why,
                             size_t whylen)
{
    verdicts_args A = {.d = d, .n = n, .now = now};
    return oz_store_write(s, 0, verdicts_body, &A, why, whylen);
}

/* ---- assimilator ------------------------------------------------------------------------------
 */

void oz_assimilate_unit_clear(oz_assimilate_unit *a)
{
    if (!a)
        return;
    free(a->json);
    free(a->bin);
    free(a->canary_json);
    free(a->config_json);
    free(a->sky);
    free(a->unit_sky);
    memset(a, 0, sizeof *a);
}

int oz_store_assimilate_batch(oz_store *s, int64_t after, oz_assimilate_unit *out, size_t max,
                              size_t *n, char *why, size_t whylen)
{
    *n = 0;
    oz_sql_stmt *st = oz_store_stmt(
        s,
        /* INDEXED BY: the planner would otherwise walk every validated
         * unit through units_state, a cost growing with the project. */
        "SELECT u.id, u.dataset_id, u.canonical, u.start_s, d.start_ns,"
        " CASE WHEN r.result_bin IS NULL THEN r.result END, c.truth, d.config, d.sample_rate,"
        " d.center_hz, d.sky, u.nsamples, u.sky, r.result_bin FROM units u"
        " INDEXED BY units_assimilate JOIN datasets d ON d.id = u.dataset_id"
        " JOIN replicas r ON r.id = u.canonical LEFT JOIN canaries c ON c.unit_id = u.id"
        " WHERE u.state = {UNIT_VALIDATED} AND u.assimilated = 0 AND u.id > ? ORDER BY u.id LIMIT "
        "?",
        why, whylen);
    if (!st)
        return OZ_SCHED_EDB;
    oz_sql_bind_int64(st, 1, after);
    oz_sql_bind_int64(st, 2, (int64_t)max);
    int step = OZ_SQL_DONE, rc = OZ_SCHED_OK;
    while (*n < max && (step = oz_sql_step(st)) == OZ_SQL_ROW) {
        oz_assimilate_unit *a = &out[*n];
        memset(a, 0, sizeof *a);
        a->unit_rowid = oz_sql_column_int64(st, 0);
        a->dataset_id = oz_sql_column_int64(st, 1);
        a->replica_id = oz_sql_column_int64(st, 2);
        a->unit_start_s = oz_sql_column_double(st, 3);
        if (oz_sql_column_type(st, 4) != OZ_SQL_NULL) {
            a->has_time = true;
            a->dataset_start_ns = oz_sql_column_int64(st, 4);
        }
        bool canary = oz_sql_column_type(st, 6) != OZ_SQL_NULL;
        a->sample_rate = oz_sql_column_double(st, 8);
        a->center_hz = oz_sql_column_double(st, 9);
        a->nsamples = (uint64_t)oz_sql_column_int64(st, 11);
        if (canary) {
            a->canary_json = strdup(oz_store_col_text(st, 6));
            a->config_json = strdup(oz_store_col_text(st, 7));
        }
        if (!oz_store_col_bin(st, 13, &a->bin, &a->binlen) ||
            (!a->bin && !(a->json = strdup(oz_store_col_text(st, 5)))) ||
            (canary && (!a->canary_json || !a->config_json)) ||
            (oz_sql_column_type(st, 10) != OZ_SQL_NULL &&
             !(a->sky = strdup(oz_store_col_text(st, 10)))) ||
            (oz_sql_column_type(st, 12) != OZ_SQL_NULL &&
             !(a->unit_sky = strdup(oz_store_col_text(st, 12))))) {
            oz_assimilate_unit_clear(a);
            rc = oz_sched_fail(OZ_SCHED_ENOMEM, why, whylen, "out of memory");
            break;
        }
        (*n)++;
    }
    if (rc == OZ_SCHED_OK && *n < max && step != OZ_SQL_DONE)
        rc = oz_store_dberr(s, "assimilate", why, whylen);
    oz_sql_reset(st);
    if (rc == OZ_SCHED_OK && *n == 0)
        rc = OZ_SCHED_ENOTFOUND;
    return rc;
}

int oz_store_signal_insert(oz_store *s, const oz_assimilate_unit *a, const oz_signal_row *r,
                           int64_t id, int64_t candidate_id, char *why, size_t whylen)
{
    oz_sql_stmt *st = oz_store_stmt(
        s,
        "INSERT INTO signals(unit_id, dataset_id, replica_id, type, freq_hz, chirp_hz_s, time_s,"
        " time_ns, score, power, fft_len, period_s, ra_deg, dec_deg, pixel, freq_bary_hz, id,"
        " candidate_id) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
        /* no id: SQLite's next rowid, said so that PostgreSQL can do it too */
        " coalesce(?, (SELECT coalesce(max(id), 0) + 1 FROM signals)), ?)",
        why, whylen);
    if (!st)
        return OZ_SCHED_EDB;
    oz_sql_bind_int64(st, 1, a->unit_rowid);
    oz_sql_bind_int64(st, 2, a->dataset_id);
    oz_sql_bind_int64(st, 3, a->replica_id);
    oz_sql_bind_text(st, 4, r->type, -1);
    oz_sql_bind_double(st, 5, r->freq_hz);
    oz_sql_bind_double(st, 6, r->chirp_hz_s);
    oz_sql_bind_double(st, 7, r->time_s);
    if (r->has_time)
        oz_sql_bind_int64(st, 8, r->time_ns);
    oz_sql_bind_double(st, 9, r->score);
    oz_sql_bind_double(st, 10, r->power);
    oz_sql_bind_int64(st, 11, r->fft_len);
    oz_sql_bind_double(st, 12, r->period_s);
    if (r->has_pos) {
        oz_sql_bind_double(st, 13, r->ra_deg);
        oz_sql_bind_double(st, 14, r->dec_deg);
        oz_sql_bind_int64(st, 15, r->pixel);
    }
    if (r->has_bary)
        oz_sql_bind_double(st, 16, r->freq_bary_hz);
    if (id > 0) /* else NULL: the next rowid */
        oz_sql_bind_int64(st, 17, id);
    if (candidate_id > 0)
        oz_sql_bind_int64(st, 18, candidate_id);
    return oz_store_exec_stmt(s, st, why, whylen); /* oz_store_stmt cleared the bindings */
}

/* One unit's signals (oz_store_assimilate_commit); with candidates, the
 * grouping inserts them (each with its candidate, not updated after).
 * The unit is claimed first: several schedulers' assimilators may read it
 * before one of them commits (PostgreSQL), and a unit another has marked
 * assimilated since is left alone (*done false) - its signals and its
 * candidates' counts would otherwise be made twice. */
static int signals_write(oz_store *s, const oz_assimilation *item, const oz_cand_config *cand,
                         bool *done, char *why, size_t whylen)
{
    const oz_assimilate_unit *a = item->a;
    int rc;
    *done = false;
    oz_sql_stmt *st = oz_store_stmt(
        s, "UPDATE units SET assimilated = 1 WHERE id = ? AND assimilated = 0 RETURNING id", why,
        whylen);
    if (!st)
        goto dberr;
    oz_sql_bind_int64(st, 1, a->unit_rowid);
    int64_t marked;
    if ((rc = oz_store_insert_id(s, st, &marked, why, whylen)) == OZ_SCHED_ENOTFOUND)
        return OZ_SCHED_OK;
    if (rc != OZ_SCHED_OK)
        goto fail;
    *done = true;
    if (!(st = oz_store_stmt(s, "DELETE FROM signals WHERE unit_id = ?", why, whylen)))
        goto dberr;
    oz_sql_bind_int64(st, 1, a->unit_rowid);
    if ((rc = oz_store_exec_stmt(s, st, why, whylen)) != OZ_SCHED_OK)
        goto fail;
    if (cand && item->n > 0) {
        double gap = cand->link_gap_units * (double)a->nsamples / a->sample_rate;
        if ((rc = oz_store_candidates_add(s, cand, a, item->rows, item->n, gap, why, whylen)) !=
            OZ_SCHED_OK)
            goto fail;
    }
    for (size_t i = 0; !cand && i < item->n; i++)
        if ((rc = oz_store_signal_insert(s, a, &item->rows[i], 0, 0, why, whylen)) != OZ_SCHED_OK)
            goto fail;
    return OZ_SCHED_OK;
dberr:
    rc = OZ_SCHED_EDB;
fail:
    return rc;
}

typedef struct assimilations_args {
    const oz_assimilation *items;
    size_t n;
    const oz_cand_config *cand;
    size_t done;
} assimilations_args;

static int assimilations_body(oz_store *s, void *arg, char *why, size_t whylen)
{
    assimilations_args *A = arg;
    A->done = 0; /* a transaction run again counts again */
    for (size_t i = 0; i < A->n; i++) {
        bool done;
        int rc = signals_write(s, &A->items[i], A->cand, &done, why, whylen);
        if (rc != OZ_SCHED_OK)
            return rc;
        A->done += done;
    }
    return OZ_SCHED_OK;
}

int oz_store_assimilate_commit(oz_store *s, const oz_assimilation *items, size_t n,
                               const oz_cand_config *cand, size_t *done, char *why, size_t whylen)
{
    assimilations_args A = {.items = items, .n = n, .cand = cand};
    int rc = oz_store_write(s, 0, assimilations_body, &A, why, whylen);
    if (done)
        *done = rc == OZ_SCHED_OK ? A.done : 0;
    return rc;
}
