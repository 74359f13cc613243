/*
 * store_work.c - datasets and units coming in (load), work going out
 * (dispatch) and results coming back (upload, error report): the store.h
 * calls on the request path.
 *
 * Invariants kept here and by store_jobs.c:
 * - a replica exists only for a unit of a ready dataset, so every UNSENT
 *   replica may be sent (dispatch needs no join on datasets' state);
 * - hosts.in_progress counts the host's replicas in state IN_PROGRESS: it
 *   is raised on dispatch and lowered whenever one leaves that state;
 * - hosts.returned counts the host's replicas with outcome SUCCESS (raised
 *   as a result is accepted), and hosts.quota_sent the replicas sent to it
 *   on the UTC day hosts.quota_day: what its cap and quota grow and shrink
 *   with (dispatch.h);
 * - a replica has a result (result_sha256 not NULL) exactly when its
 *   outcome is SUCCESS, and then it never changes again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "store_internal.h"

/* ---- load ------------------------------------------------------------------------------------ */

int oz_store_dataset_begin(oz_store *s, const oz_dataset_info *d, int64_t now, int64_t *dataset_id,
                           char *why, size_t whylen)
{
    int rc = oz_store_wbegin(s, 1, why, whylen);
    if (rc != OZ_SCHED_OK)
        return rc;
    sqlite3_stmt *st = oz_store_stmt(s, "SELECT ready FROM datasets WHERE name = ?", why, whylen);
    if (!st)
        goto dberr;
    sqlite3_bind_text(st, 1, d->name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        int ready = sqlite3_column_int(st, 0);
        sqlite3_reset(st);
        rc = oz_sched_fail(ready ? OZ_SCHED_EEXIST : OZ_SCHED_ECONFLICT, why, whylen,
                           ready ? "dataset \"%s\" is already loaded"
                                 : "dataset \"%s\" was left half-loaded by an earlier load",
                           d->name);
        goto fail;
    }
    sqlite3_reset(st);
    if (!(st = oz_store_stmt(s,
                             "INSERT INTO datasets(name, recording, sample_rate, center_hz,"
                             " start_ns, config, min_quorum, target_nresults, max_error_results,"
                             " max_total_results, delay_bound, created)"
                             " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             why, whylen)))
        goto dberr;
    sqlite3_bind_text(st, 1, d->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, d->recording, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 3, d->sample_rate);
    sqlite3_bind_double(st, 4, d->center_hz);
    if (d->has_time)
        sqlite3_bind_int64(st, 5, d->start_ns);
    sqlite3_bind_text(st, 6, d->config_json, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 7, d->min_quorum);
    sqlite3_bind_int(st, 8, d->target_nresults);
    sqlite3_bind_int(st, 9, d->max_error_results);
    sqlite3_bind_int(st, 10, d->max_total_results);
    sqlite3_bind_int64(st, 11, d->delay_bound);
    sqlite3_bind_int64(st, 12, now);
    if ((rc = oz_store_exec_stmt(s, st, why, whylen)) != OZ_SCHED_OK)
        goto fail;
    *dataset_id = sqlite3_last_insert_rowid(s->conn);
    return oz_store_wcommit(s, why, whylen);
dberr:
    rc = OZ_SCHED_EDB;
fail:
    oz_store_wrollback(s);
    return rc;
}

int oz_store_units_add(oz_store *s, int64_t dataset_id, const oz_unit_row *rows, size_t n,
                       char *why, size_t whylen)
{
    int rc = oz_store_wbegin(s, 1, why, whylen);
    if (rc != OZ_SCHED_OK)
        return rc;
    sqlite3_stmt *st = oz_store_stmt(
        s,
        "INSERT INTO units(dataset_id, name, file, bytes, sha256, flops, idx, start_s, nsamples,"
        " target) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, target_nresults FROM datasets"
        " WHERE id = ?1 AND ready = 0",
        why, whylen);
    if (!st)
        goto dberr;
    for (size_t i = 0; i < n; i++) {
        const oz_unit_row *u = &rows[i];
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, dataset_id);
        sqlite3_bind_text(st, 2, u->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, u->file, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)u->bytes);
        sqlite3_bind_blob(st, 5, u->sha256, 32, SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, (sqlite3_int64)u->flops);
        sqlite3_bind_int64(st, 7, (sqlite3_int64)u->index);
        sqlite3_bind_double(st, 8, u->start_s);
        sqlite3_bind_int64(st, 9, (sqlite3_int64)u->nsamples);
        if ((rc = oz_store_exec_stmt(s, st, why, whylen)) != OZ_SCHED_OK)
            goto fail;
        if (sqlite3_changes(s->conn) != 1) {
            rc = oz_sched_fail(OZ_SCHED_ENOTFOUND, why, whylen, "dataset %lld is not being loaded",
                               (long long)dataset_id);
            goto fail;
        }
    }
    return oz_store_wcommit(s, why, whylen);
dberr:
    rc = OZ_SCHED_EDB;
fail:
    oz_store_wrollback(s);
    return rc;
}

int oz_store_dataset_finish(oz_store *s, int64_t dataset_id, char *why, size_t whylen)
{
    int rc = oz_store_wbegin(s, 1, why, whylen);
    if (rc != OZ_SCHED_OK)
        return rc;
    sqlite3_stmt *st =
        oz_store_stmt(s,
                      "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k"
                      " WHERE i < (SELECT target_nresults FROM datasets WHERE id = ?1))"
                      " INSERT INTO replicas(unit_id) SELECT u.id FROM units u, k"
                      " WHERE u.dataset_id = ?1 ORDER BY u.idx, k.i",
                      why, whylen);
    if (!st)
        goto dberr;
    sqlite3_bind_int64(st, 1, dataset_id);
    if ((rc = oz_store_exec_stmt(s, st, why, whylen)) != OZ_SCHED_OK)
        goto fail;
    if (!(st = oz_store_stmt(s,
                             "UPDATE datasets SET ready = 1, nunits = (SELECT count(*) FROM units"
                             " WHERE dataset_id = ?1) WHERE id = ?1 AND ready = 0",
                             why, whylen)))
        goto dberr;
    sqlite3_bind_int64(st, 1, dataset_id);
    if ((rc = oz_store_exec_stmt(s, st, why, whylen)) != OZ_SCHED_OK)
        goto fail;
    if (sqlite3_changes(s->conn) != 1) {
        rc = oz_sched_fail(OZ_SCHED_ENOTFOUND, why, whylen, "dataset %lld is not being loaded",
                           (long long)dataset_id);
        goto fail;
    }
    return oz_store_wcommit(s, why, whylen);
dberr:
    rc = OZ_SCHED_EDB;
fail:
    oz_store_wrollback(s);
    return rc;
}

int oz_store_dataset_remove(oz_store *s, const char *name,
                            void (*each_file)(void *arg, const char *file), void *arg, char *why,
                            size_t whylen)
{
    int rc = oz_store_wbegin(s, 1, why, whylen);
    if (rc != OZ_SCHED_OK)
        return rc;
    sqlite3_stmt *st = oz_store_stmt(s, "SELECT id FROM datasets WHERE name = ?", why, whylen);
    if (!st)
        goto dberr;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        rc = oz_sched_fail(OZ_SCHED_ENOTFOUND, why, whylen, "no dataset \"%s\"", name);
        goto fail;
    }
    int64_t id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (each_file) {
        if (!(st = oz_store_stmt(s, "SELECT file FROM units WHERE dataset_id = ?", why, whylen)))
            goto dberr;
        sqlite3_bind_int64(st, 1, id);
        while (sqlite3_step(st) == SQLITE_ROW)
            each_file(arg, oz_store_col_text(st, 0));
        sqlite3_reset(st);
    }
    /* Cascades to units, their replicas and signals. */
    if (!(st = oz_store_stmt(s, "DELETE FROM datasets WHERE id = ?", why, whylen)))
        goto dberr;
    sqlite3_bind_int64(st, 1, id);
    if ((rc = oz_store_exec_stmt(s, st, why, whylen)) != OZ_SCHED_OK)
        goto fail;
    return oz_store_wcommit(s, why, whylen);
dberr:
    rc = OZ_SCHED_EDB;
fail:
    oz_store_wrollback(s);
    return rc;
}

/* ---- dispatch ---------------------------------------------------------------------------------
 */

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

typedef struct assign_args {
    const oz_host_auth *h;
    double want_seconds;
    oz_dispatch_limits lim;
    int64_t now;
    oz_assignment *out;
    size_t max, *n;
    bool listed;         /* the host listed the replicas it holds: */
    const int64_t *held; /* ascending */
    size_t nheld;
} assign_args;

/* Fills a from the unit row `unit` (SELECT u.name, u.file, u.bytes,
 * u.sha256, u.flops, d.delay_bound, u.file_bad IS NOT NULL ... WHERE u.id
 * = ?) for replica_id of unit unit_rowid; *delay_bound is the dataset's,
 * *bad whether the unit's file is marked bad (store_files.c: then it is
 * not to be sent). */
static int unit_assignment(oz_store *s, sqlite3_stmt *unit, int64_t replica_id, int64_t unit_rowid,
                           oz_assignment *a, int64_t *delay_bound, bool *bad, char *why,
                           size_t whylen)
{
    sqlite3_bind_int64(unit, 1, unit_rowid);
    if (sqlite3_step(unit) != SQLITE_ROW) {
        int rc = oz_store_dberr(s, "unit of replica", why, whylen);
        sqlite3_reset(unit);
        return rc;
    }
    memset(a, 0, sizeof *a);
    a->replica_id = replica_id;
    a->unit_rowid = unit_rowid;
    snprintf(a->unit_id, sizeof a->unit_id, "%s", oz_store_col_text(unit, 0));
    snprintf(a->file, sizeof a->file, "%s", oz_store_col_text(unit, 1));
    a->bytes = (uint64_t)sqlite3_column_int64(unit, 2);
    if (sqlite3_column_bytes(unit, 3) == 32)
        oz_wu_sha256_hex(sqlite3_column_blob(unit, 3), a->sha256);
    a->flops = (uint64_t)sqlite3_column_int64(unit, 4);
    *delay_bound = sqlite3_column_int64(unit, 5);
    *bad = sqlite3_column_int(unit, 6) != 0;
    sqlite3_reset(unit);
    return OZ_SCHED_OK;
}

static int id_cmp(const void *a, const void *b)
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
static int resend_lost(oz_store *s, const assign_args *A, sqlite3_stmt *unit, oz_dispatch_host *dh,
                       size_t *again, char *why, size_t whylen)
{
    *again = 0;
    sqlite3_stmt *st = oz_store_stmt(s,
                                     "SELECT id, unit_id, deadline FROM replicas"
                                     " INDEXED BY replicas_host_running"
                                     " WHERE host_id = ? AND state = 1 ORDER BY id",
                                     why, whylen);
    if (!st)
        return OZ_SCHED_EDB;
    int64_t lost[LOST_MAX][3];
    size_t n = 0;
    int step = SQLITE_DONE;
    sqlite3_bind_int64(st, 1, A->h->host_id);
    while (n < LOST_MAX && (step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        if (A->nheld && bsearch(&id, A->held, A->nheld, sizeof *A->held, id_cmp))
            continue;
        lost[n][0] = id;
        lost[n][1] = sqlite3_column_int64(st, 1);
        lost[n][2] = sqlite3_column_int64(st, 2);
        n++;
    }
    sqlite3_reset(st);
    if (n < LOST_MAX && step != SQLITE_DONE)
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

/* The UTC day of a Unix time (days since 1970-01-01). */
static int64_t utc_day(int64_t t)
{
    return t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
}

static int assign_body(oz_store *s, void *arg, char *why, size_t whylen)
{
    assign_args *A = arg;
    const oz_host_auth *h = A->h;
    double want_seconds = A->want_seconds;
    int64_t now = A->now, today = utc_day(now);
    oz_assignment *out = A->out;
    size_t max = A->max;
    *A->n = 0;
    int rc;
    /* What the host holds, has returned and was sent today: its cap and
     * quota (dispatch.h) */
    sqlite3_stmt *st = oz_store_stmt(s,
                                     "SELECT in_progress, returned, quota_day, quota_sent"
                                     " FROM hosts WHERE id = ?",
                                     why, whylen);
    if (!st)
        goto dberr;
    sqlite3_bind_int64(st, 1, h->host_id);
    oz_dispatch_host dh = {.ncpus = h->ncpus, .flops = h->flops};
    if (sqlite3_step(st) == SQLITE_ROW) {
        dh.in_progress = sqlite3_column_int64(st, 0);
        dh.returned = sqlite3_column_int64(st, 1);
        dh.sent_today = sqlite3_column_int64(st, 2) == today ? sqlite3_column_int64(st, 3) : 0;
    }
    sqlite3_reset(st);
    sqlite3_stmt *unit = oz_store_stmt(s,
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
        sqlite3_stmt *cand =
            oz_store_stmt(s,
                          "SELECT r.id, r.unit_id FROM replicas r WHERE r.state = 0 AND r.id > ?3"
                          " AND NOT EXISTS (SELECT 1 FROM replicas x INDEXED BY replicas_unit"
                          " WHERE x.unit_id = r.unit_id AND x.account_id = ?1)"
                          " ORDER BY r.id LIMIT ?2",
                          why, whylen);
        sqlite3_stmt *upd =
            oz_store_stmt(s,
                          "UPDATE replicas SET state = 1, host_id = ?, account_id = ?,"
                          " sent = ?, deadline = ? WHERE id = ?",
                          why, whylen);
        sqlite3_stmt *running = oz_store_stmt(
            s, "UPDATE units SET n_running = n_running + 1 WHERE id = ?", why, whylen);
        if (!cand || !upd || !running)
            goto dberr;
        int64_t after = 0;
        bool more = true;
        while (more && oz_dispatch_wants_more(&d)) {
            /* A batch of the oldest unsent replicas of units this account
             * holds nothing of, after the last batch (ids only: the scan
             * ends before any row it walks is changed).  Skipping held
             * units in SQL means an account with many hosts never starves
             * while work remains.  Batches start small: most requests want
             * one unit or a few. */
            int64_t ids[CANDIDATES_MAX][2];
            size_t ncand = 0, limit = (d.room - d.got) * CANDIDATES_PER_WANTED;
            if (limit > CANDIDATES_MAX)
                limit = CANDIDATES_MAX;
            if (d.got == 0 && limit > CANDIDATES_FIRST)
                limit = CANDIDATES_FIRST;
            sqlite3_bind_int64(cand, 1, h->account_id);
            sqlite3_bind_int64(cand, 2, (sqlite3_int64)limit);
            sqlite3_bind_int64(cand, 3, after);
            while (ncand < limit && sqlite3_step(cand) == SQLITE_ROW) {
                ids[ncand][0] = sqlite3_column_int64(cand, 0);
                ids[ncand][1] = sqlite3_column_int64(cand, 1);
                ncand++;
            }
            sqlite3_reset(cand);
            more = ncand == limit;
            if (ncand)
                after = ids[ncand - 1][0];
            /* Give them out; two unsent replicas of one unit may both be in
             * the batch, so each is checked against the units this visit
             * has taken (the scan saw everything else the account holds). */
            for (size_t c = 0; c < ncand && oz_dispatch_wants_more(&d); c++) {
                bool held = false;
                for (size_t k = 0; k < d.got && !held; k++)
                    held = fresh[k].unit_rowid == ids[c][1];
                if (held)
                    continue;
                oz_assignment *a = &fresh[d.got];
                int64_t delay;
                bool bad;
                if ((rc = unit_assignment(s, unit, ids[c][0], ids[c][1], a, &delay, &bad, why,
                                          whylen)) != OZ_SCHED_OK)
                    goto fail;
                if (bad) /* none is left unsent once marked: only in a race with the mark */
                    continue;
                a->deadline = now + delay;
                sqlite3_bind_int64(upd, 1, h->host_id);
                sqlite3_bind_int64(upd, 2, h->account_id);
                sqlite3_bind_int64(upd, 3, now);
                sqlite3_bind_int64(upd, 4, a->deadline);
                sqlite3_bind_int64(upd, 5, a->replica_id);
                sqlite3_bind_int64(running, 1, a->unit_rowid);
                if ((rc = oz_store_exec_stmt(s, upd, why, whylen)) != OZ_SCHED_OK ||
                    (rc = oz_store_exec_stmt(s, running, why, whylen)) != OZ_SCHED_OK)
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
    sqlite3_bind_int64(st, 1, (sqlite3_int64)d.got);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_int64(st, 3, h->host_id);
    sqlite3_bind_int64(st, 4, today);
    if ((rc = oz_store_exec_stmt(s, st, why, whylen)) != OZ_SCHED_OK)
        return rc;
    *A->n = again + d.got;
    return OZ_SCHED_OK;
dberr:
    return OZ_SCHED_EDB;
fail:
    return rc;
}

int oz_store_work_assign(oz_store *s, const oz_host_auth *h, double want_seconds,
                         const oz_dispatch_limits *lim, int64_t now, oz_assignment *out, size_t max,
                         size_t *n, char *why, size_t whylen)
{
    return oz_store_work_report(s, h, NULL, 0, want_seconds, lim, now, out, max, n, why, whylen);
}

/* ---- uploads ----------------------------------------------------------------------------------
 */

/* The analysis configuration stored as `text`, parsed once per text (a
 * dataset's never changes; the cache is keyed by the text itself, so a
 * dataset removed and loaded again under the same id cannot be confused). */
static int config_of(oz_db *db, const char *text, oz_sci_config *out)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const char *p = text; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    struct oz_cfg_slot *slot = &db->cfg_cache[h % (sizeof db->cfg_cache / sizeof db->cfg_cache[0])];
    pthread_mutex_lock(&db->cfg_lock);
    bool hit = slot->text && strcmp(slot->text, text) == 0;
    if (hit)
        *out = slot->cfg;
    pthread_mutex_unlock(&db->cfg_lock);
    if (hit)
        return OZ_SCI_OK;
    json_error_t jerr;
    json_t *cfg = json_loads(text, 0, &jerr);
    oz_sci_config_default(out);
    char sub[200];
    int rc = cfg ? oz_sci_config_from_json(cfg, out, sub, sizeof sub) : OZ_SCI_EINVAL;
    json_decref(cfg);
    char *copy = rc == OZ_SCI_OK ? strdup(text) : NULL;
    if (copy) {
        pthread_mutex_lock(&db->cfg_lock);
        free(slot->text);
        slot->text = copy;
        slot->cfg = *out;
        pthread_mutex_unlock(&db->cfg_lock);
    }
    return rc;
}

/* The columns a unit's header is rebuilt from (a result is checked against
 * it), from units u joined with datasets d. */
#define UNIT_HEADER_COLS                                                                           \
    "u.name, u.sha256, u.idx, u.start_s, u.nsamples, d.name, d.sample_rate, d.center_hz,"          \
    " d.start_ns, d.config"

/* The header of a unit from UNIT_HEADER_COLS at column `at` of st. */
static int unit_header(oz_store *s, sqlite3_stmt *st, int at, oz_wu_header *h,
                       unsigned char sha[32], char *why, size_t whylen)
{
    h->version = OZ_WU_FORMAT_VERSION;
    snprintf(h->unit_id, sizeof h->unit_id, "%s", oz_store_col_text(st, at));
    if (sqlite3_column_bytes(st, at + 1) == 32)
        memcpy(sha, sqlite3_column_blob(st, at + 1), 32);
    h->unit_index = (uint64_t)sqlite3_column_int64(st, at + 2);
    h->start_s = sqlite3_column_double(st, at + 3);
    h->nsamples = (uint64_t)sqlite3_column_int64(st, at + 4);
    snprintf(h->dataset, sizeof h->dataset, "%s", oz_store_col_text(st, at + 5));
    h->sample_rate = sqlite3_column_double(st, at + 6);
    h->center_hz = sqlite3_column_double(st, at + 7);
    if (sqlite3_column_type(st, at + 8) != SQLITE_NULL) {
        h->has_time = true;
        h->start_ns = oz_wu_time_add(sqlite3_column_int64(st, at + 8), h->start_s);
    }
    if (config_of(s->db, oz_store_col_text(st, at + 9), &h->config) != OZ_SCI_OK)
        return oz_sched_fail(OZ_SCHED_EDB, why, whylen,
                             "unit %s: the stored analysis configuration is unreadable",
                             h->unit_id);
    return OZ_SCHED_OK;
}

/* Reads the replica row an upload or error report is about, inside the
 * write transaction, and checks it belongs to host_id; with `header`, its
 * unit's header too (unit_header), for a result to be checked against. */
typedef struct replica_row {
    int64_t unit;
    int state, outcome, unit_state;
    bool has_result;
    unsigned char sha[32];
    oz_wu_header header;
    unsigned char unit_sha[32];
} replica_row;

static int replica_lock(oz_store *s, int64_t replica_id, int64_t host_id, bool header,
                        replica_row *r, char *why, size_t whylen)
{
    memset(r, 0, sizeof *r);
    sqlite3_stmt *st = oz_store_stmt(s,
                                     "SELECT r.unit_id, r.host_id, r.state, r.outcome,"
                                     " r.result_sha256, u.state, " UNIT_HEADER_COLS
                                     " FROM replicas r JOIN units u ON u.id = r.unit_id"
                                     " JOIN datasets d ON d.id = u.dataset_id WHERE r.id = ?",
                                     why, whylen);
    if (!st)
        return OZ_SCHED_EDB;
    sqlite3_bind_int64(st, 1, replica_id);
    int step = sqlite3_step(st);
    if (step != SQLITE_ROW) {
        int rc = step == SQLITE_DONE ? oz_sched_fail(OZ_SCHED_ENOTFOUND, why, whylen,
                                                     "no replica %lld", (long long)replica_id)
                                     : oz_store_dberr(s, "replica", why, whylen);
        sqlite3_reset(st);
        return rc;
    }
    int64_t owner = sqlite3_column_int64(st, 1);
    r->unit = sqlite3_column_int64(st, 0);
    r->state = sqlite3_column_int(st, 2);
    r->outcome = sqlite3_column_int(st, 3);
    if (sqlite3_column_bytes(st, 4) == 32) {
        r->has_result = true;
        memcpy(r->sha, sqlite3_column_blob(st, 4), 32);
    }
    r->unit_state = sqlite3_column_int(st, 5);
    int rc = OZ_SCHED_OK;
    if (r->state == OZ_REPLICA_UNSENT || owner != host_id)
        rc = oz_sched_fail(OZ_SCHED_EFORBIDDEN, why, whylen,
                           "replica %lld was not sent to this host", (long long)replica_id);
    else if (header)
        rc = unit_header(s, st, 6, &r->header, r->unit_sha, why, whylen);
    sqlite3_reset(st);
    return rc;
}

/* What a host sends to close its replica: a result (its text and SHA-256)
 * or an error message. */
typedef struct replica_end {
    int outcome;
    const char *json; /* OZ_OUTCOME_SUCCESS */
    size_t len;
    const unsigned char *sha256;
    const char *message; /* OZ_OUTCOME_CLIENT_ERROR */
} replica_end;

/* The replica leaves IN_PROGRESS: state OVER with e's outcome and what came
 * with it (one row write), the host's in-progress count lowered and, for a
 * result, its count of returned results raised (which its cap grows with:
 * dispatch.h), the unit flagged for the jobs. */
static int replica_close(oz_store *s, int64_t replica_id, int64_t host_id, const replica_row *r,
                         const replica_end *e, int64_t now, char *why, size_t whylen)
{
    int outcome = e->outcome;
    bool running = r->state == OZ_REPLICA_IN_PROGRESS, success = outcome == OZ_OUTCOME_SUCCESS;
    sqlite3_stmt *st;
    if (running || success) {
        if (!(st = oz_store_stmt(s,
                                 "UPDATE hosts SET in_progress = max(in_progress - ?2, 0),"
                                 " returned = returned + ?3 WHERE id = ?1",
                                 why, whylen)))
            return OZ_SCHED_EDB;
        sqlite3_bind_int64(st, 1, host_id);
        sqlite3_bind_int(st, 2, running);
        sqlite3_bind_int(st, 3, success);
        int rc = oz_store_exec_stmt(s, st, why, whylen);
        if (rc != OZ_SCHED_OK)
            return rc;
    }
    if (!(st = oz_store_stmt(s,
                             "UPDATE replicas SET state = 2, outcome = ?, received = ?, result = ?,"
                             " result_sha256 = ?, error = ? WHERE id = ?",
                             why, whylen)))
        return OZ_SCHED_EDB;
    sqlite3_bind_int(st, 1, outcome);
    sqlite3_bind_int64(st, 2, now);
    if (e->json) {
        sqlite3_bind_text(st, 3, e->json, (int)e->len, SQLITE_STATIC);
        sqlite3_bind_blob(st, 4, e->sha256, 32, SQLITE_STATIC);
    }
    if (e->message)
        sqlite3_bind_text(st, 5, e->message, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, replica_id);
    int rc = oz_store_exec_stmt(s, st, why, whylen);
    if (rc != OZ_SCHED_OK)
        return rc;
    /* A failure calls for the transitioner (a new replica, or the end); a
     * success calls for the validator once the unit has a quorum of them
     * (or is validated already: a late result is checked against the
     * canonical one).  Flagging no sooner spares the jobs a transaction
     * per upload.  The unit's counts of running and successful replicas
     * move with it (migration 5). */
    if (!(st = oz_store_stmt(s,
                             "UPDATE units SET need_transition = need_transition OR NOT ?2,"
                             " need_validate = need_validate OR (?2 AND (state = 1 OR"
                             " (SELECT count(*) FROM replicas WHERE unit_id = ?1 AND outcome = 1"
                             " AND validate_state != 2) >= (SELECT min_quorum FROM datasets d"
                             " WHERE d.id = units.dataset_id))),"
                             " n_running = n_running - ?3, n_success = n_success + ?2"
                             " WHERE id = ?1",
                             why, whylen)))
        return OZ_SCHED_EDB;
    sqlite3_bind_int64(st, 1, r->unit);
    sqlite3_bind_int(st, 2, outcome == OZ_OUTCOME_SUCCESS);
    sqlite3_bind_int(st, 3, r->state == OZ_REPLICA_IN_PROGRESS);
    return oz_store_exec_stmt(s, st, why, whylen);
}

/* A result as the caller's thread read it (result_read), so that the
 * writer only checks it against its unit. */
typedef struct accept_args {
    int64_t replica_id, host_id, now;
    const char *json;
    size_t len;
    const unsigned char *sha256;
    bool *duplicate;
    const oz_wu_result *parsed; /* NULL when the text is not a result file: */
    char bad[300];              /* why */
} accept_args;

/* Parses A's text with the strict result parser, outside the writer. */
static void result_read(accept_args *A, oz_wu_result *res)
{
    char sub[256] = "";
    A->parsed = NULL;
    if (oz_wu_result_parse(A->json, A->len, res, sub, sizeof sub) == OZ_WU_OK)
        A->parsed = res;
    else
        snprintf(A->bad, sizeof A->bad, "result: %s", sub);
}

/* A's fields for the result `in` that host_id returns, and its text
 * parsed into res (result_read). */
static void accept_prepare(accept_args *A, oz_result_in *in, int64_t host_id, int64_t now,
                           oz_wu_result *res)
{
    in->duplicate = false;
    *A = (accept_args){.replica_id = in->replica_id,
                       .host_id = host_id,
                       .now = now,
                       .json = in->json,
                       .len = in->len,
                       .sha256 = in->sha256,
                       .duplicate = &in->duplicate};
    result_read(A, res);
}

/* Does the parsed result fit the unit of replica r (read with its
 * header)?  OZ_SCHED_EINVAL (400) when it does not. */
static int result_fits(const accept_args *A, const replica_row *r, char *why, size_t whylen)
{
    if (!A->parsed)
        return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen, "%s", A->bad);
    char sub[256] = "";
    if (oz_wu_result_check(A->parsed, &r->header, r->unit_sha, sub, sizeof sub) != OZ_WU_OK)
        return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen, "result does not fit replica %lld: %s",
                             (long long)A->replica_id, sub);
    return OZ_SCHED_OK;
}

static int accept_body(oz_store *s, void *arg, char *why, size_t whylen)
{
    accept_args *A = arg;
    *A->duplicate = false; /* afresh: the writer may run a body twice */
    replica_row r;
    int rc = replica_lock(s, A->replica_id, A->host_id, true, &r, why, whylen);
    if (rc != OZ_SCHED_OK || (rc = result_fits(A, &r, why, whylen)) != OZ_SCHED_OK)
        return rc;
    if (r.has_result) {
        if (memcmp(r.sha, A->sha256, 32) == 0) {
            *A->duplicate = true;
            return OZ_SCHED_OK;
        }
        return oz_sched_fail(OZ_SCHED_ECONFLICT, why, whylen,
                             "replica %lld already has a different result",
                             (long long)A->replica_id);
    }
    if (r.outcome == OZ_OUTCOME_CLIENT_ERROR || r.outcome == OZ_OUTCOME_DIDNT_NEED)
        return oz_sched_fail(
            OZ_SCHED_ECONFLICT, why, whylen, "replica %lld is over (%s)", (long long)A->replica_id,
            r.outcome == OZ_OUTCOME_CLIENT_ERROR ? "reported as an error" : "no longer needed");
    if (r.unit_state == OZ_UNIT_ERROR)
        return oz_sched_fail(OZ_SCHED_ECONFLICT, why, whylen, "replica %lld's unit ended in error",
                             (long long)A->replica_id);
    replica_end e = {
        .outcome = OZ_OUTCOME_SUCCESS, .json = A->json, .len = A->len, .sha256 = A->sha256};
    return replica_close(s, A->replica_id, A->host_id, &r, &e, A->now, why, whylen);
}

/* A host's visit in flight: what the writer works on and fills in. */
struct oz_visit {
    oz_result_in *res; /* the caller's */
    size_t nres, njobs;
    bool durable; /* a text that is not a result is refused: no fsync for it */
    accept_args *acc;
    oz_wu_result *parsed;
    oz_store_job *jobs; /* an accept per result, then the dispatch if asked for */
    oz_wop *ops;
    assign_args assign;
    int64_t *held; /* the host's list of what it holds, sorted (oz_store_visit_held) */
    size_t got;
    oz_assignment *out;
    char why[sizeof((oz_result_in *)0)->why]; /* the dispatch's failure, or the fsync's */
};

int oz_store_visit_held(oz_visit *v, const int64_t *held, size_t n)
{
    int64_t *copy = malloc((n ? n : 1) * sizeof *copy);
    if (!copy)
        return OZ_SCHED_ENOMEM;
    if (n)
        memcpy(copy, held, n * sizeof *copy);
    qsort(copy, n, sizeof *copy, id_cmp);
    free(v->held);
    v->held = copy;
    v->assign.listed = true;
    v->assign.held = copy;
    v->assign.nheld = n;
    return OZ_SCHED_OK;
}

void oz_store_visit_free(oz_visit *v)
{
    if (!v)
        return;
    free(v->held);
    for (size_t i = 0; v->parsed && i < v->nres; i++)
        oz_wu_result_clear(&v->parsed[i]);
    free(v->acc);
    free(v->parsed);
    free(v->jobs);
    free(v->ops);
    free(v->out);
    free(v);
}

int oz_store_visit_new(const oz_host_auth *h, oz_result_in *res, size_t nres, bool dispatch,
                       double want_seconds, const oz_dispatch_limits *lim, int64_t now, size_t max,
                       oz_visit **out, char *why, size_t whylen)
{
    *out = NULL;
    if (nres > OZ_WORK_RESULTS_MAX)
        return oz_sched_fail(OZ_SCHED_ELIMIT, why, whylen, "more than %d results in one request",
                             OZ_WORK_RESULTS_MAX);
    oz_visit *v = calloc(1, sizeof *v);
    size_t njobs = nres + dispatch;
    if (!v || !(v->acc = calloc(nres + 1, sizeof *v->acc)) ||
        !(v->parsed = calloc(nres + 1, sizeof *v->parsed)) ||
        !(v->jobs = calloc(njobs + 1, sizeof *v->jobs)) ||
        !(v->ops = calloc(njobs + 1, sizeof *v->ops)) ||
        !(v->out = calloc(max + 1, sizeof *v->out))) {
        oz_store_visit_free(v);
        return oz_sched_fail(OZ_SCHED_ENOMEM, why, whylen, "out of memory");
    }
    v->res = res;
    v->nres = nres;
    v->njobs = njobs;
    for (size_t i = 0; i < nres; i++) {
        oz_result_in *r = &res[i];
        r->why[0] = '\0';
        accept_prepare(&v->acc[i], r, h->host_id, now, &v->parsed[i]);
        v->jobs[i] = (oz_store_job){
            .body = accept_body, .arg = &v->acc[i], .why = r->why, .whylen = sizeof r->why};
        v->durable |= v->acc[i].parsed != NULL;
    }
    if (dispatch) {
        v->assign = (assign_args){.h = h,
                                  .want_seconds = want_seconds,
                                  .lim = *lim,
                                  .now = now,
                                  .out = v->out,
                                  .max = max,
                                  .n = &v->got};
        v->jobs[nres] = (oz_store_job){
            .body = assign_body, .arg = &v->assign, .why = v->why, .whylen = sizeof v->why};
    }
    *out = v;
    return OZ_SCHED_OK;
}

void oz_store_visit_submit(oz_store *s, oz_visit *v, void (*done)(void *arg), void *arg)
{
    oz_store_write_submit(s, v->durable, v->jobs, v->ops, v->njobs, v->why, sizeof v->why, done,
                          arg);
}

void oz_store_visit_wait(oz_store *s, oz_visit *v)
{
    oz_store_write_wait(s, v->durable, v->jobs, v->ops, v->njobs, v->why, sizeof v->why);
}

int oz_store_visit_end(oz_visit *v, oz_assignment *out, size_t *n, char *why, size_t whylen)
{
    *n = 0;
    int sync = oz_store_write_collect(v->jobs, v->ops, v->njobs);
    for (size_t i = 0; i < v->nres; i++) {
        oz_result_in *r = &v->res[i];
        r->rc = v->jobs[i].rc;
        if (sync != OZ_SCHED_OK && r->rc == OZ_SCHED_OK) { /* committed, maybe not durable */
            r->rc = sync;
            snprintf(r->why, sizeof r->why, "%s", v->why);
        }
    }
    if (v->njobs == v->nres) /* no dispatch */
        return OZ_SCHED_OK;
    /* The assignments stand either way: dispatch is never promised durable. */
    int rc = v->jobs[v->nres].rc;
    if (rc != OZ_SCHED_OK) {
        snprintf(why, whylen, "%s", v->why);
        return rc;
    }
    memcpy(out, v->out, v->got * sizeof *out);
    *n = v->got;
    return OZ_SCHED_OK;
}

/* A visit, waiting for it. */
static int visit(oz_store *s, const oz_host_auth *h, oz_result_in *res, size_t nres, bool dispatch,
                 double want_seconds, const oz_dispatch_limits *lim, int64_t now,
                 oz_assignment *out, size_t max, size_t *n, char *why, size_t whylen)
{
    oz_visit *v;
    *n = 0;
    int rc =
        oz_store_visit_new(h, res, nres, dispatch, want_seconds, lim, now, max, &v, why, whylen);
    if (rc != OZ_SCHED_OK)
        return rc;
    oz_store_visit_wait(s, v);
    rc = oz_store_visit_end(v, out, n, why, whylen);
    oz_store_visit_free(v);
    return rc;
}

int oz_store_result_accept(oz_store *s, int64_t replica_id, int64_t host_id, const char *json,
                           size_t len, const unsigned char sha256[32], int64_t now, bool *duplicate,
                           char *why, size_t whylen)
{
    oz_result_in in = {.replica_id = replica_id, .json = json, .len = len};
    memcpy(in.sha256, sha256, sizeof in.sha256);
    oz_host_auth h = {.host_id = host_id};
    size_t n;
    int rc = visit(s, &h, &in, 1, false, 0, NULL, now, NULL, 0, &n, why, whylen);
    *duplicate = in.duplicate;
    if (rc == OZ_SCHED_OK && in.rc != OZ_SCHED_OK) {
        snprintf(why, whylen, "%s", in.why);
        rc = in.rc;
    }
    return rc;
}

int oz_store_work_report(oz_store *s, const oz_host_auth *h, oz_result_in *res, size_t nres,
                         double want_seconds, const oz_dispatch_limits *lim, int64_t now,
                         oz_assignment *out, size_t max, size_t *n, char *why, size_t whylen)
{
    return visit(s, h, res, nres, true, want_seconds, lim, now, out, max, n, why, whylen);
}

typedef struct error_args {
    int64_t replica_id, host_id, now;
    const char *message;
    bool mismatch; /* the host says the unit's file did not match its SHA-256 */
} error_args;

/* Whether unit's file is marked bad (store_files.c); -1 on a failed read. */
static int unit_file_bad(oz_store *s, int64_t unit, char *why, size_t whylen)
{
    sqlite3_stmt *st =
        oz_store_stmt(s, "SELECT file_bad IS NOT NULL FROM units WHERE id = ?", why, whylen);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, unit);
    int bad = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_reset(st);
    if (bad < 0)
        oz_store_dberr(s, "unit", why, whylen);
    return bad;
}

static int error_body(oz_store *s, void *arg, char *why, size_t whylen)
{
    error_args *A = arg;
    replica_row r;
    int rc = replica_lock(s, A->replica_id, A->host_id, false, &r, why, whylen);
    if (rc != OZ_SCHED_OK)
        return rc;
    if (r.outcome == OZ_OUTCOME_CLIENT_ERROR) /* reported before */
        return OZ_SCHED_OK;
    /* A replica of this host's that is DIDNT_NEED was reported before as
     * a mismatch on a bad file: no unsent replica is ever anyone's. */
    if (r.outcome == OZ_OUTCOME_DIDNT_NEED && A->mismatch)
        return OZ_SCHED_OK;
    if (r.has_result || r.outcome == OZ_OUTCOME_DIDNT_NEED)
        return oz_sched_fail(OZ_SCHED_ECONFLICT, why, whylen, "replica %lld is already over",
                             (long long)A->replica_id);
    replica_end e = {.outcome = OZ_OUTCOME_CLIENT_ERROR, .message = A->message};
    if (A->mismatch) { /* the server's own file is bad: not the host's error */
        int bad = unit_file_bad(s, r.unit, why, whylen);
        if (bad < 0)
            return OZ_SCHED_EDB;
        if (bad)
            e.outcome = OZ_OUTCOME_DIDNT_NEED;
    }
    return replica_close(s, A->replica_id, A->host_id, &r, &e, A->now, why, whylen);
}

int oz_store_replica_error(oz_store *s, int64_t replica_id, int64_t host_id, const char *message,
                           bool mismatch, int64_t now, char *why, size_t whylen)
{
    error_args A = {.replica_id = replica_id,
                    .host_id = host_id,
                    .now = now,
                    .message = message,
                    .mismatch = mismatch};
    return oz_store_write(s, 1, error_body, &A, why, whylen);
}
