/*
 * store_dispatch.c - work going out: the store's side of a host's work
 * request (store.h, oz_store_work_report and oz_store_visit_held), run as
 * one body of the host's visit in the writer (store_work.c has the visit).
 *
 * In one transaction it reads the host's counts (what it holds, has
 * returned and was sent today), sends again the replicas the host lost
 * (when it listed what it holds), then walks the oldest unsent replicas of
 * units its account holds nothing of, asking the dispatch rule
 * (dispatch.c) when to stop, and records what it gave.  For a dataset
 * loaded with --adaptive it also decides, as a unit's first replica goes
 * out, whether the unit runs alone (adaptive_decide; trust.h).  The
 * invariants on hosts' and units' counts are store_work.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "dispatch.h"
#include "store_internal.h"

/* The sibling checks below name replicas_unit: a unit has a handful of
 * replicas, an account may have millions, and the planner cannot tell
 * which index is the short walk.
 *
 * Candidates per unit wanted: two unsent replicas of one unit both qualify
 * until one is given out, so look a little further than needed. */
#define CANDIDATES_PER_WANTED 2
#define CANDIDATES_FIRST 4 /* the first batch: most requests want one unit */
#define CANDIDATES_MAX 128

#define LOST_MAX 256 /* lost replicas dealt with in one request; the rest in the next */

/* Fills a from st's row, columns col.. (u.name, u.file, u.bytes,
 * u.sha256, u.flops, d.delay_bound, u.file_bad IS NOT NULL), for replica_id of unit unit_rowid;
 * *delay_bound is the dataset's, *bad whether the unit's file is marked bad (store_files.c: then it
 * is not to be sent). */
static void assignment_read(oz_sql_stmt *st, int col, int64_t replica_id, int64_t unit_rowid,
                            oz_assignment *a, int64_t *delay_bound, bool *bad)
{
    memset(a, 0, sizeof *a);
    a->replica_id = replica_id;
    a->unit_rowid = unit_rowid;
    snprintf(a->unit_id, sizeof a->unit_id, "%s", oz_store_col_text(st, col));
    snprintf(a->file, sizeof a->file, "%s", oz_store_col_text(st, col + 1));
    a->bytes = (uint64_t)oz_sql_column_int64(st, col + 2);
    if (oz_sql_column_bytes(st, col + 3) == 32)
        oz_wu_sha256_hex(oz_sql_column_blob(st, col + 3), a->sha256);
    a->flops = (uint64_t)oz_sql_column_int64(st, col + 4);
    *delay_bound = oz_sql_column_int64(st, col + 5);
    *bad = oz_sql_column_int(st, col + 6) != 0;
}

/* assignment_read from the unit row `unit` (those columns, WHERE u.id = ?)
 * of unit_rowid. */
static int unit_assignment(oz_store *s, oz_sql_stmt *unit, int64_t replica_id, int64_t unit_rowid,
                           oz_assignment *a, int64_t *delay_bound, bool *bad, char *why,
                           size_t whylen)
{
    oz_sql_bind_int64(unit, 1, unit_rowid);
    if (oz_sql_step(unit) != OZ_SQL_ROW) {
        int rc = oz_store_dberr(s, "unit of replica", why, whylen);
        oz_sql_reset(unit);
        return rc;
    }
    assignment_read(unit, 0, replica_id, unit_rowid, a, delay_bound, bad);
    oz_sql_reset(unit);
    return OZ_SCHED_OK;
}

/* A candidate replica as the dispatch's scan read it, with its unit. */
typedef struct candidate {
    oz_assignment a;
    int64_t delay;
    bool bad, adaptive; /* adaptive: its dataset's (adaptive_decide) */
} candidate;

int oz_store_id_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* BOINC's "resend lost results": the host listed the replicas it holds, so
 * those it has in progress here and does not list were lost on the way
 * (a reply lost after its commit: a timeout, a dropped connection, a
 * crash).  Each whose deadline has not passed is sent again, as it was
 * (same deadline), into out[0 .. *again) (at most A->max); each past it, or
 * of a unit whose file is marked bad, is over (NO_REPLY), as the
 * transitioner would make it, so that it no longer holds a place under the
 * host's cap (dh->in_progress is lowered). */
static int resend_lost(oz_store *s, const oz_assign_args *A, oz_sql_stmt *unit,
                       oz_dispatch_host *dh, size_t *again, char *why, size_t whylen)
{
    *again = 0;
    oz_sql_stmt *st =
        oz_store_stmt(s,
                      "SELECT id, unit_id, deadline FROM replicas"
                      " INDEXED BY replicas_host_running"
                      " WHERE host_id = ? AND state = {REPLICA_IN_PROGRESS} ORDER BY id",
                      why, whylen);
    if (!st)
        return OZ_SCHED_EDB;
    int64_t lost[LOST_MAX][3];
    size_t n = 0;
    int step = OZ_SQL_DONE;
    oz_sql_bind_int64(st, 1, A->h->host_id);
    while (n < LOST_MAX && (step = oz_sql_step(st)) == OZ_SQL_ROW) {
        int64_t id = oz_sql_column_int64(st, 0);
        if (A->nheld && bsearch(&id, A->held, A->nheld, sizeof *A->held, oz_store_id_cmp))
            continue;
        lost[n][0] = id;
        lost[n][1] = oz_sql_column_int64(st, 1);
        lost[n][2] = oz_sql_column_int64(st, 2);
        n++;
    }
    oz_sql_reset(st);
    if (n < LOST_MAX && step != OZ_SQL_DONE)
        return oz_store_dberr(s, "the host's replicas in progress", why, whylen);
    for (size_t i = 0; i < n; i++) {
        int rc = OZ_SCHED_OK;
        int64_t delay;
        bool bad = false, past = lost[i][2] < A->now;
        if (!past && *again < A->max) {
            oz_assignment *a = &A->out[*again];
            rc = unit_assignment(s, unit, lost[i][0], lost[i][1], a, &delay, &bad, why, whylen);
            a->deadline = lost[i][2];
            *again += rc == OZ_SCHED_OK && !bad;
        }
        if (rc == OZ_SCHED_OK && (past || bad)) { /* a bad file is not sent again either */
            rc = oz_store_replica_time_out(s, lost[i][0], lost[i][1], A->h->host_id, why, whylen);
            dh->in_progress--;
        }
        if (rc != OZ_SCHED_OK)
            return rc;
    }
    return OZ_SCHED_OK;
}

/* Runs sql on unit ?1 (and replica ?2, when it names one). */
static int exec_unit_replica(oz_store *s, const char *sql, int64_t unit, int64_t replica, char *why,
                             size_t whylen)
{
    oz_sql_stmt *st = oz_store_stmt(s, sql, why, whylen);
    if (!st)
        return OZ_SCHED_EDB;
    oz_sql_bind_int64(st, 1, unit);
    if (oz_sql_bind_parameter_count(st) >= 2)
        oz_sql_bind_int64(st, 2, replica);
    return oz_store_exec_stmt(s, st, why, whylen);
}

/* Adaptive replication (trust.h): replica `replica` of unit has just gone
 * to a host with consecutive_valid valid results in a row.  When the unit's
 * dataset is adaptive, the unit is not replicated for good and no other
 * replica of it is out or has a result that counts, this is the unit's
 * first: a trusted host runs it alone (unless the random floor picks it),
 * its other unsent replicas withdrawn (OVER / DIDNT_NEED); anyone else's
 * unit is replicated (the dataset's number of replicas, made by the
 * transitioner if a unit out alone came back without a result).  The
 * draw is libsodium's, so no host can predict it. */
static int adaptive_decide(oz_store *s, const oz_trust_policy *p, int64_t consecutive_valid,
                           int64_t replica, int64_t unit, char *why, size_t whylen)
{
    oz_sql_stmt *st = oz_store_stmt(
        s,
        "SELECT d.adaptive, u.single, (SELECT count(*) FROM replicas x INDEXED BY replicas_unit"
        " WHERE x.unit_id = u.id AND x.id != ?2 AND (x.state = {REPLICA_IN_PROGRESS}"
        " OR (x.outcome = {OUTCOME_SUCCESS} AND x.validate_state != {VALIDATE_INVALID})))"
        " FROM units u JOIN datasets d ON d.id = u.dataset_id"
        " WHERE u.id = ?1",
        why, whylen);
    if (!st)
        return OZ_SCHED_EDB;
    oz_sql_bind_int64(st, 1, unit);
    oz_sql_bind_int64(st, 2, replica);
    if (oz_sql_step(st) != OZ_SQL_ROW) {
        int rc = oz_store_dberr(s, "unit of replica", why, whylen);
        oz_sql_reset(st);
        return rc;
    }
    bool adaptive = oz_sql_column_int(st, 0) != 0;
    int single = oz_sql_column_int(st, 1);
    int64_t others = oz_sql_column_int64(st, 2);
    oz_sql_reset(st);
    double u = (double)randombytes_uniform(1u << 30) / (double)(1u << 30);
    oz_trust_first what = oz_trust_first_replica(p, adaptive, single, others, consecutive_valid, u);
    if (what == OZ_TRUST_FIRST_ALONE) {
        int rc = exec_unit_replica(s, "UPDATE units SET single = 1, target = 1 WHERE id = ?1", unit,
                                   replica, why, whylen);
        if (rc != OZ_SCHED_OK)
            return rc;
        return exec_unit_replica(s,
                                 "UPDATE replicas SET state = {REPLICA_OVER},"
                                 " outcome = {OUTCOME_DIDNT_NEED} WHERE unit_id = ?1"
                                 " AND state = {REPLICA_UNSENT} AND id != ?2",
                                 unit, replica, why, whylen);
    }
    if (what != OZ_TRUST_FIRST_REPLICATE)
        return OZ_SCHED_OK;
    return exec_unit_replica(s,
                             "UPDATE units SET single = 0, need_transition = 1,"
                             " target = greatest(target, (SELECT target_nresults FROM datasets d"
                             " WHERE d.id = units.dataset_id)) WHERE id = ?1",
                             unit, replica, why, whylen);
}

/* The UTC day of a Unix time (days since 1970-01-01). */
static int64_t utc_day(int64_t t)
{
    return t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
}

int oz_store_assign_body(oz_store *s, void *arg, char *why, size_t whylen)
{
    oz_assign_args *A = arg;
    const oz_host_auth *h = A->h;
    double want_seconds = A->want_seconds;
    int64_t now = A->now, today = utc_day(now);
    oz_assignment *out = A->out;
    size_t max = A->max;
    *A->n = 0;
    int rc;
    /* What the host holds, has returned and was sent today: its cap and
     * quota (dispatch.h) */
    oz_sql_stmt *st = oz_store_stmt(s,
                                    "SELECT in_progress, returned, quota_day, quota_sent,"
                                    " quota_halvings, consecutive_valid, banned IS NOT NULL"
                                    " FROM hosts WHERE id = ? /*PG: FOR UPDATE */",
                                    why, whylen);
    if (!st)
        goto dberr;
    oz_sql_bind_int64(st, 1, h->host_id);
    oz_dispatch_host dh = {.ncpus = h->ncpus, .flops = h->flops};
    int64_t consecutive_valid = 0;
    if (oz_sql_step(st) == OZ_SQL_ROW) {
        dh.in_progress = oz_sql_column_int64(st, 0);
        dh.returned = oz_sql_column_int64(st, 1);
        dh.sent_today = oz_sql_column_int64(st, 2) == today ? oz_sql_column_int64(st, 3) : 0;
        dh.quota_halvings = oz_sql_column_int64(st, 4);
        consecutive_valid = oz_sql_column_int64(st, 5);
        if (oz_sql_column_int(st, 6)) { /* ozma-server host ban */
            oz_sql_reset(st);
            return oz_sched_fail(OZ_SCHED_EFORBIDDEN, why, whylen,
                                 "host %lld is banned by the project", (long long)h->host_id);
        }
    }
    oz_sql_reset(st);
    oz_sql_stmt *unit = oz_store_stmt(s,
                                       "SELECT u.name, u.file, u.bytes, u.sha256, u.flops,"
                                       " d.delay_bound, u.file_bad IS NOT NULL FROM units u"
                                       " JOIN datasets d ON d.id = u.dataset_id WHERE u.id = ?",
                                       why, whylen);
    if (!unit)
        goto dberr;
    /* Lost replicas first: they are the host's already, and count against
     * the seconds asked and the reply's room, not its cap (dispatch.h). */
    size_t again = 0;
    if (A->listed && dh.in_progress > 0 &&
        (rc = resend_lost(s, A, unit, &dh, &again, why, whylen)) != OZ_SCHED_OK)
        goto fail;
    oz_assignment *fresh = out + again;
    oz_dispatch d;
    oz_dispatch_begin(&d, &A->lim, &dh, max - again, want_seconds);
    for (size_t k = 0; k < again; k++)
        oz_dispatch_cover(&d, out[k].flops);
    if (oz_dispatch_wants_more(&d)) {
        /* The oldest unsent replicas of units this account holds nothing
         * of, with what their assignments need.  On PostgreSQL each one's
         * unit row is locked as it is read, and a unit another transaction
         * holds (another scheduler giving out or taking back one of its
         * replicas, a validator) is passed over, not waited for: every
         * claim of a unit's replica is made under the unit's lock. */
        oz_sql_stmt *cand = oz_store_stmt(
            s,
            "SELECT r.id, r.unit_id, u.name, u.file, u.bytes, u.sha256, u.flops, d.delay_bound,"
            " u.file_bad IS NOT NULL, d.adaptive FROM replicas r JOIN units u ON u.id = r.unit_id"
            " JOIN datasets d ON d.id = u.dataset_id"
            " WHERE r.state = {REPLICA_UNSENT} AND r.id > ?3"
            " AND NOT EXISTS (SELECT 1 FROM replicas x INDEXED BY replicas_unit"
            " WHERE x.unit_id = r.unit_id AND x.account_id = ?1)"
            " ORDER BY r.id LIMIT ?2 /*PG: FOR UPDATE OF u SKIP LOCKED */",
            why, whylen);
        /* The claim holds only if the replica is still unsent and the
         * account still holds nothing of its unit: on PostgreSQL another
         * scheduler's claim may have committed between the scan's
         * snapshot and its lock (this statement's snapshot is newer). */
        oz_sql_stmt *upd = oz_store_stmt(
            s,
            "UPDATE replicas SET state = {REPLICA_IN_PROGRESS}, host_id = ?1, account_id = ?2,"
            " sent = ?3, deadline = ?4 WHERE id = ?5 AND state = {REPLICA_UNSENT}"
            " AND NOT EXISTS (SELECT 1 FROM replicas x INDEXED BY replicas_unit"
            " WHERE x.unit_id = ?6 AND x.account_id = ?2)",
            why, whylen);
        oz_sql_stmt *running = oz_store_stmt(
            s, "UPDATE units SET n_running = n_running + 1 WHERE id = ?", why, whylen);
        if (!cand || !upd || !running)
            goto dberr;
        int64_t after = 0;
        bool more = true;
        while (more && oz_dispatch_wants_more(&d)) {
            /* A batch of candidates after the last batch (read whole: the
             * scan ends before any row it walks is changed).  Skipping
             * held units in SQL means an account with many hosts never
             * starves while work remains.  Batches start small: most
             * requests want one unit or a few. */
            candidate cs[CANDIDATES_MAX];
            size_t ncand = 0, limit = (d.room - d.got) * CANDIDATES_PER_WANTED;
            if (limit > CANDIDATES_MAX)
                limit = CANDIDATES_MAX;
            if (d.got == 0 && limit > CANDIDATES_FIRST)
                limit = CANDIDATES_FIRST;
            oz_sql_bind_int64(cand, 1, h->account_id);
            oz_sql_bind_int64(cand, 2, (int64_t)limit);
            oz_sql_bind_int64(cand, 3, after);
            int step = OZ_SQL_DONE;
            while (ncand < limit && (step = oz_sql_step(cand)) == OZ_SQL_ROW) {
                candidate *c = &cs[ncand++];
                assignment_read(cand, 2, oz_sql_column_int64(cand, 0), oz_sql_column_int64(cand, 1),
                                &c->a, &c->delay, &c->bad);
                c->adaptive = oz_sql_column_int(cand, 9) != 0;
            }
            oz_sql_reset(cand);
            if (ncand < limit && step != OZ_SQL_DONE) {
                rc = oz_store_dberr(s, "unsent replicas", why, whylen);
                goto fail;
            }
            more = ncand == limit;
            if (ncand)
                after = cs[ncand - 1].a.replica_id;
            /* Give them out; two unsent replicas of one unit may both be in
             * the batch, so each is checked against the units this visit
             * has taken (the scan saw everything else the account holds). */
            for (size_t c = 0; c < ncand && oz_dispatch_wants_more(&d); c++) {
                bool held = false;
                for (size_t k = 0; k < d.got && !held; k++)
                    held = fresh[k].unit_rowid == cs[c].a.unit_rowid;
                if (held || cs[c].bad) /* none is left unsent once marked: only in a race */
                    continue;
                oz_assignment *a = &fresh[d.got];
                *a = cs[c].a;
                a->deadline = now + cs[c].delay;
                oz_sql_bind_int64(upd, 1, h->host_id);
                oz_sql_bind_int64(upd, 2, h->account_id);
                oz_sql_bind_int64(upd, 3, now);
                oz_sql_bind_int64(upd, 4, a->deadline);
                oz_sql_bind_int64(upd, 5, a->replica_id);
                oz_sql_bind_int64(upd, 6, a->unit_rowid);
                oz_sql_bind_int64(running, 1, a->unit_rowid);
                if ((rc = oz_store_exec_stmt(s, upd, why, whylen)) != OZ_SCHED_OK)
                    goto fail;
                if (oz_sql_changes(s->conn) != 1) /* taken meanwhile: the next one */
                    continue;
                if ((rc = oz_store_exec_stmt(s, running, why, whylen)) != OZ_SCHED_OK ||
                    (cs[c].adaptive &&
                     (rc = adaptive_decide(s, &A->lim.trust, consecutive_valid, a->replica_id,
                                           a->unit_rowid, why, whylen)) != OZ_SCHED_OK))
                    goto fail;
                oz_dispatch_take(&d, a->flops);
            }
        }
    }
    if (!(st = oz_store_stmt(s,
                             "UPDATE hosts SET in_progress = in_progress + ?1, last_rpc = ?2,"
                             " quota_sent = (CASE WHEN quota_day = ?4 THEN quota_sent ELSE 0 END)"
                             " + ?1, quota_day = ?4 WHERE id = ?3",
                             why, whylen)))
        goto dberr;
    oz_sql_bind_int64(st, 1, (int64_t)d.got);
    oz_sql_bind_int64(st, 2, now);
    oz_sql_bind_int64(st, 3, h->host_id);
    oz_sql_bind_int64(st, 4, today);
    if ((rc = oz_store_exec_stmt(s, st, why, whylen)) != OZ_SCHED_OK)
        return rc;
    *A->n = again + d.got;
    return OZ_SCHED_OK;
dberr:
    return OZ_SCHED_EDB;
fail:
    return rc;
}
