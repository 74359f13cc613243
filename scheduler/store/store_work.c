/*
 * store_work.c - datasets and units coming in (load), a host's visit (its
 * results coming back and, through store_dispatch.c, work going out) and
 * error reports: the store.h calls on the request path.
 *
 * Invariants kept here, by store_dispatch.c and by store_jobs.c:
 * - a replica exists only for a unit of a ready dataset, so every UNSENT
 *   replica may be sent (dispatch needs no join on datasets' state);
 * - hosts.in_progress counts the host's replicas in state IN_PROGRESS: it
 *   is raised on dispatch and lowered whenever one leaves that state;
 * - hosts.returned counts the host's replicas with outcome SUCCESS (raised
 *   as a result is accepted), and hosts.quota_sent the replicas sent to it
 *   on the UTC day hosts.quota_day: what its cap and quota grow and shrink
 *   with (dispatch.h);
 * - a replica has a result (result_sha256 not NULL) exactly when its
 *   outcome is SUCCESS, and then it never changes again; result_bin, the
 *   same result packed (result_bin.h), is written with it by the same
 *   UPDATE from the one parse (NULL only in rows from before migration 17).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "result_bin.h"
#include "store_internal.h"
#include "validate.h"

/* ---- load ------------------------------------------------------------------------------------ */

int oz_store_dataset_begin(oz_store *s, const oz_dataset_info *d, int64_t now, int64_t *dataset_id,
                           char *why, size_t whylen)
{
    int rc = oz_store_wbegin(s, 1, why, whylen);
    if (rc != OZ_SCHED_OK)
        return rc;
    oz_sql_stmt *st = oz_store_stmt(s, "SELECT ready FROM datasets WHERE name = ?", why, whylen);
    if (!st)
        goto dberr;
    oz_sql_bind_text(st, 1, d->name, -1);
    if (oz_sql_step(st) == OZ_SQL_ROW) {
        int ready = oz_sql_column_int(st, 0);
        oz_sql_reset(st);
        rc = oz_sched_fail(ready ? OZ_SCHED_EEXIST : OZ_SCHED_ECONFLICT, why, whylen,
                           ready ? "dataset \"%s\" is already loaded"
                                 : "dataset \"%s\" was left half-loaded by an earlier load",
                           d->name);
        goto fail;
    }
    oz_sql_reset(st);
    if (!(st = oz_store_stmt(s,
                             "INSERT INTO datasets(name, recording, sample_rate, center_hz,"
                             " start_ns, config, min_quorum, target_nresults, max_error_results,"
                             " max_total_results, delay_bound, created, adaptive, sky)"
                             " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                             why, whylen)))
        goto dberr;
    oz_sql_bind_text(st, 1, d->name, -1);
    oz_sql_bind_text(st, 2, d->recording, -1);
    oz_sql_bind_double(st, 3, d->sample_rate);
    oz_sql_bind_double(st, 4, d->center_hz);
    if (d->has_time)
        oz_sql_bind_int64(st, 5, d->start_ns);
    oz_sql_bind_text(st, 6, d->config_json, -1);
    oz_sql_bind_int(st, 7, d->min_quorum);
    oz_sql_bind_int(st, 8, d->target_nresults);
    oz_sql_bind_int(st, 9, d->max_error_results);
    oz_sql_bind_int(st, 10, d->max_total_results);
    oz_sql_bind_int64(st, 11, d->delay_bound);
    oz_sql_bind_int64(st, 12, now);
    oz_sql_bind_int(st, 13, d->adaptive);
    if (d->sky_json)
        oz_sql_bind_text(st, 14, d->sky_json, -1);
    else
        oz_sql_bind_null(st, 14);
    if ((rc = oz_store_insert_id(s, st, dataset_id, why, whylen)) != OZ_SCHED_OK)
        goto fail;
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
    oz_sql_stmt *st = oz_store_stmt(
        s,
        "INSERT INTO units(dataset_id, name, file, bytes, sha256, flops, idx, start_s, nsamples,"
        " sky, target) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, target_nresults"
        " FROM datasets"
        " WHERE id = ?1 AND ready = 0 RETURNING id",
        why, whylen);
    if (!st)
        goto dberr;
    for (size_t i = 0; i < n; i++) {
        const oz_unit_row *u = &rows[i];
        oz_sql_reset(st);
        oz_sql_bind_int64(st, 1, dataset_id);
        oz_sql_bind_text(st, 2, u->name, -1);
        oz_sql_bind_text(st, 3, u->file, -1);
        oz_sql_bind_int64(st, 4, (int64_t)u->bytes);
        oz_sql_bind_blob(st, 5, u->sha256, 32);
        oz_sql_bind_int64(st, 6, (int64_t)u->flops);
        oz_sql_bind_int64(st, 7, (int64_t)u->index);
        oz_sql_bind_double(st, 8, u->start_s);
        oz_sql_bind_int64(st, 9, (int64_t)u->nsamples);
        if (u->sky)
            oz_sql_bind_text(st, 10, u->sky, -1);
        else
            oz_sql_bind_null(st, 10);
        int64_t unit = 0;
        rc = oz_store_insert_id(s, st, &unit, why, whylen);
        if (rc == OZ_SCHED_ENOTFOUND)
            rc = oz_sched_fail(OZ_SCHED_ENOTFOUND, why, whylen, "dataset %lld is not being loaded",
                               (long long)dataset_id);
        if (rc != OZ_SCHED_OK)
            goto fail;
        if (u->canary) {
            oz_sql_stmt *c = oz_store_stmt(
                s, "INSERT INTO canaries(unit_id, truth) VALUES(?, ?)", why,
                whylen);
            if (!c)
                goto dberr;
            oz_sql_bind_int64(c, 1, unit);
            oz_sql_bind_text(c, 2, u->canary, -1);
            if ((rc = oz_store_exec_stmt(s, c, why, whylen)) != OZ_SCHED_OK)
                goto fail;
        }
    }
    /* the units the progress counts as unsent until they move (migration
     * 16): one update per batch, not a trigger's per unit */
    if (!(st = oz_store_stmt(s, "UPDATE datasets SET nunits = nunits + ?2 WHERE id = ?1", why,
                             whylen)))
        goto dberr;
    oz_sql_bind_int64(st, 1, dataset_id);
    oz_sql_bind_int64(st, 2, (int64_t)n);
    if ((rc = oz_store_exec_stmt(s, st, why, whylen)) != OZ_SCHED_OK)
        goto fail;
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
    oz_sql_stmt *st =
        oz_store_stmt(s,
                      "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k"
                      " WHERE i < (SELECT target_nresults FROM datasets WHERE id = ?1))"
                      " INSERT INTO replicas(unit_id) SELECT u.id FROM units u, k"
                      " WHERE u.dataset_id = ?1 ORDER BY u.idx, k.i",
                      why, whylen);
    if (!st)
        goto dberr;
    oz_sql_bind_int64(st, 1, dataset_id);
    if ((rc = oz_store_exec_stmt(s, st, why, whylen)) != OZ_SCHED_OK)
        goto fail;
    if (!(st = oz_store_stmt(s,
                             "UPDATE datasets SET ready = 1 WHERE id = ?1 AND ready = 0",
                             why, whylen)))
        goto dberr;
    oz_sql_bind_int64(st, 1, dataset_id);
    if ((rc = oz_store_exec_stmt(s, st, why, whylen)) != OZ_SCHED_OK)
        goto fail;
    if (oz_sql_changes(s->conn) != 1) {
        rc = oz_sched_fail(OZ_SCHED_ENOTFOUND, why, whylen, "dataset %lld is not being loaded",
                           (long long)dataset_id);
        goto fail;
    }
    if ((rc = oz_store_wcommit(s, why, whylen)) == OZ_SCHED_OK && s->db->pg)
        /* PostgreSQL plans by statistics, and until autovacuum comes by
         * (a minute or more) it has none for the rows just loaded: with
         * equal guesses for both, it answered "this unit's unsent
         * replicas" by walking the whole replicas_unsent index beside
         * replicas_unit, 1.6 ms instead of 0.1 ms per validated unit.  A
         * failure here costs only that, so it is not the load's. */
        oz_store_exec_literal(s, "ANALYZE units, replicas", NULL, 0);
    return rc;
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
    int rc = oz_store_wbegin_serial(s, 1, why, whylen); /* counts, then a cascade */
    if (rc != OZ_SCHED_OK)
        return rc;
    oz_sql_stmt *st = oz_store_stmt(s, "SELECT id FROM datasets WHERE name = ?", why, whylen);
    if (!st)
        goto dberr;
    oz_sql_bind_text(st, 1, name, -1);
    if (oz_sql_step(st) != OZ_SQL_ROW) {
        oz_sql_reset(st);
        rc = oz_sched_fail(OZ_SCHED_ENOTFOUND, why, whylen, "no dataset \"%s\"", name);
        goto fail;
    }
    int64_t id = oz_sql_column_int64(st, 0);
    oz_sql_reset(st);
    if (each_file && (rc = oz_store_dataset_files(s, id, each_file, arg, why, whylen)) != 0)
        goto fail;
    /* Replicas in progress leave their hosts' caps first: the cascade
     * below deletes them without the counts. */
    if (!(st = oz_store_stmt(
              s,
              "UPDATE hosts SET in_progress = greatest(in_progress - (SELECT count(*)"
              " FROM replicas r JOIN units u ON u.id = r.unit_id"
              " WHERE r.host_id = hosts.id AND r.state = {REPLICA_IN_PROGRESS}"
              " AND u.dataset_id = ?1), 0)"
              " WHERE id IN (SELECT r.host_id FROM replicas r JOIN units u"
              " ON u.id = r.unit_id WHERE r.state = {REPLICA_IN_PROGRESS} AND u.dataset_id = ?1)",
              why, whylen)))
        goto dberr;
    oz_sql_bind_int64(st, 1, id);
    if ((rc = oz_store_exec_stmt(s, st, why, whylen)) != OZ_SCHED_OK)
        goto fail;
    /* Cascades to units, their replicas and signals. */
    if (!(st = oz_store_stmt(s, "DELETE FROM datasets WHERE id = ?", why, whylen)))
        goto dberr;
    oz_sql_bind_int64(st, 1, id);
    if ((rc = oz_store_exec_stmt(s, st, why, whylen)) != OZ_SCHED_OK)
        goto fail;
    return oz_store_wcommit(s, why, whylen);
dberr:
    rc = OZ_SCHED_EDB;
fail:
    oz_store_wrollback(s);
    return rc;
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
static int unit_header(oz_store *s, oz_sql_stmt *st, int at, oz_wu_header *h,
                       unsigned char sha[32], char *why, size_t whylen)
{
    h->version = OZ_WU_FORMAT_VERSION;
    snprintf(h->unit_id, sizeof h->unit_id, "%s", oz_store_col_text(st, at));
    if (oz_sql_column_bytes(st, at + 1) == 32)
        memcpy(sha, oz_sql_column_blob(st, at + 1), 32);
    h->unit_index = (uint64_t)oz_sql_column_int64(st, at + 2);
    h->start_s = oz_sql_column_double(st, at + 3);
    h->nsamples = (uint64_t)oz_sql_column_int64(st, at + 4);
    snprintf(h->dataset, sizeof h->dataset, "%s", oz_store_col_text(st, at + 5));
    h->sample_rate = oz_sql_column_double(st, at + 6);
    h->center_hz = oz_sql_column_double(st, at + 7);
    if (oz_sql_column_type(st, at + 8) != OZ_SQL_NULL) {
        h->has_time = true;
        h->start_ns = oz_wu_time_add(oz_sql_column_int64(st, at + 8), h->start_s);
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
    int quorum;       /* the unit's (oz_validate_quorum) */
    int64_t counting; /* its other results that count toward it (oz_validate_due) */
    bool has_result;
    unsigned char sha[32];
    oz_wu_header header;
    unsigned char unit_sha[32];
} replica_row;

static int replica_lock(oz_store *s, int64_t replica_id, int64_t host_id, bool header,
                        replica_row *r, char *why, size_t whylen)
{
    memset(r, 0, sizeof *r);
    /* PostgreSQL: the replica and its unit locked first, so that what is
     * read next (its state, its unit's other results) stays so until the
     * commit; a replica not found is reported by the read. */
    bool got;
    int lrc = oz_store_lock(s,
                            "SELECT r.id FROM replicas r JOIN units u ON u.id = r.unit_id"
                            " WHERE r.id = ? /*PG: FOR UPDATE */",
                            replica_id, &got, why, whylen);
    if (lrc != OZ_SCHED_OK)
        return lrc;
    oz_sql_stmt *st = oz_store_stmt(s,
                                     "SELECT r.unit_id, r.host_id, r.state, r.outcome,"
                                     " r.result_sha256, u.state, " UNIT_HEADER_COLS
                                     ", u.single, d.min_quorum, (SELECT count(*)"
                                     " FROM replicas x INDEXED BY replicas_unit"
                                     " WHERE x.unit_id = u.id AND x.id != r.id"
                                     " AND x.outcome = {OUTCOME_SUCCESS}"
                                     " AND x.validate_state != {VALIDATE_INVALID})"
                                     " FROM replicas r JOIN units u ON u.id = r.unit_id"
                                     " JOIN datasets d ON d.id = u.dataset_id WHERE r.id = ?",
                                     why, whylen);
    if (!st)
        return OZ_SCHED_EDB;
    oz_sql_bind_int64(st, 1, replica_id);
    int step = oz_sql_step(st);
    if (step != OZ_SQL_ROW) {
        int rc = step == OZ_SQL_DONE ? oz_sched_fail(OZ_SCHED_ENOTFOUND, why, whylen,
                                                     "no replica %lld", (long long)replica_id)
                                     : oz_store_dberr(s, "replica", why, whylen);
        oz_sql_reset(st);
        return rc;
    }
    int64_t owner = oz_sql_column_int64(st, 1);
    r->unit = oz_sql_column_int64(st, 0);
    r->state = oz_sql_column_int(st, 2);
    r->outcome = oz_sql_column_int(st, 3);
    if (oz_sql_column_bytes(st, 4) == 32) {
        r->has_result = true;
        memcpy(r->sha, oz_sql_column_blob(st, 4), 32);
    }
    r->unit_state = oz_sql_column_int(st, 5);
    r->quorum = oz_validate_quorum(oz_sql_column_int(st, 17), oz_sql_column_int(st, 16));
    r->counting = oz_sql_column_int64(st, 18);
    int rc = OZ_SCHED_OK;
    if (r->state == OZ_REPLICA_UNSENT || owner != host_id)
        rc = oz_sched_fail(OZ_SCHED_EFORBIDDEN, why, whylen,
                           "replica %lld was not sent to this host", (long long)replica_id);
    else if (header)
        rc = unit_header(s, st, 6, &r->header, r->unit_sha, why, whylen);
    oz_sql_reset(st);
    return rc;
}

/* What a host sends to close its replica: a result (its text and SHA-256)
 * or an error message. */
typedef struct replica_end {
    int outcome;
    const char *json; /* OZ_OUTCOME_SUCCESS */
    size_t len;
    const unsigned char *bin; /* json packed, or NULL (out of memory) */
    size_t binlen;
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
    bool error = outcome == OZ_OUTCOME_CLIENT_ERROR;
    oz_sql_stmt *st;
    if (running || success || error) {
        /* A client error costs the host its trust and halves its daily
         * quota (trust.h). */
        if (!(st = oz_store_stmt(s,
                                 "UPDATE hosts SET in_progress = greatest(in_progress - ?2, 0),"
                                 " returned = returned + ?3,"
                                 " consecutive_valid = CASE WHEN ?4 = 1 THEN 0"
                                 " ELSE consecutive_valid END,"
                                 " n_error = n_error + ?4,"
                                 " quota_halvings = least(quota_halvings + ?4, ?5) WHERE id = ?1",
                                 why, whylen)))
            return OZ_SCHED_EDB;
        oz_sql_bind_int64(st, 1, host_id);
        oz_sql_bind_int(st, 2, running);
        oz_sql_bind_int(st, 3, success);
        oz_sql_bind_int(st, 4, error);
        oz_sql_bind_int(st, 5, OZ_TRUST_HALVINGS_MAX);
        int rc = oz_store_exec_stmt(s, st, why, whylen);
        if (rc != OZ_SCHED_OK)
            return rc;
    }
    if (!(st = oz_store_stmt(
              s,
              "UPDATE replicas SET state = {REPLICA_OVER}, outcome = ?1, received = ?2,"
              " result = ?3, result_sha256 = ?4, error = ?5, result_bin = ?7 WHERE id = ?6",
              why, whylen)))
        return OZ_SCHED_EDB;
    oz_sql_bind_int(st, 1, outcome);
    oz_sql_bind_int64(st, 2, now);
    if (e->json) {
        oz_sql_bind_text(st, 3, e->json, (int)e->len);
        oz_sql_bind_blob(st, 4, e->sha256, 32);
        if (e->bin)
            oz_sql_bind_blob(st, 7, e->bin, (int)e->binlen);
    }
    if (e->message)
        oz_sql_bind_text(st, 5, e->message, -1);
    oz_sql_bind_int64(st, 6, replica_id);
    int rc = oz_store_exec_stmt(s, st, why, whylen);
    if (rc != OZ_SCHED_OK)
        return rc;
    /* A failure calls for the transitioner (a new replica, or the end); a
     * success calls for the validator when validate.c's rule says it is due
     * (oz_validate_due: a quorum, or a late result).  The unit's counts of
     * running and successful replicas move with it (migration 5). */
    bool due =
        success && oz_validate_due(r->unit_state == OZ_UNIT_VALIDATED, r->counting + 1, r->quorum);
    if (!(st = oz_store_stmt(s,
                             "UPDATE units SET"
                             " need_transition = CASE WHEN ?2 = 0 THEN 1 ELSE need_transition END,"
                             " need_validate = CASE WHEN ?4 = 1 THEN 1 ELSE need_validate END,"
                             " n_running = n_running - ?3, n_success = n_success + ?2"
                             " WHERE id = ?1",
                             why, whylen)))
        return OZ_SCHED_EDB;
    oz_sql_bind_int64(st, 1, r->unit);
    oz_sql_bind_int(st, 2, success);
    oz_sql_bind_int(st, 3, r->state == OZ_REPLICA_IN_PROGRESS);
    oz_sql_bind_int(st, 4, due);
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
    unsigned char *bin;         /* owned: parsed, packed (result_bin.h), or NULL */
    size_t binlen;
} accept_args;

/* Parses A's text with the strict result parser, outside the writer, and
 * packs what it read for the jobs (out of memory: they parse the text). */
static void result_read(accept_args *A, oz_wu_result *res)
{
    char sub[256] = "";
    A->parsed = NULL;
    if (oz_wu_result_parse(A->json, A->len, res, sub, sizeof sub) == OZ_WU_OK) {
        A->parsed = res;
        oz_result_bin_pack(res, &A->bin, &A->binlen);
    } else
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
    replica_end e = {.outcome = OZ_OUTCOME_SUCCESS,
                     .json = A->json,
                     .len = A->len,
                     .sha256 = A->sha256,
                     .bin = A->bin,
                     .binlen = A->binlen};
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
    oz_assign_args assign;
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
    qsort(copy, n, sizeof *copy, oz_store_id_cmp);
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
    for (size_t i = 0; v->acc && i < v->nres; i++)
        free(v->acc[i].bin);
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
        /* not zeroed: each assignment is filled whole as it is made, and
         * only those made are read (64 of them zeroed cost 20 KB of
         * memset on every work request) */
        !(v->out = malloc((max + 1) * sizeof *v->out))) {
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
        v->assign = (oz_assign_args){.h = h,
                                     .want_seconds = want_seconds,
                                     .lim = *lim,
                                     .now = now,
                                     .out = v->out,
                                     .max = max,
                                     .n = &v->got};
        v->jobs[nres] = (oz_store_job){.body = oz_store_assign_body,
                                       .arg = &v->assign,
                                       .why = v->why,
                                       .whylen = sizeof v->why};
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

int oz_store_work_assign(oz_store *s, const oz_host_auth *h, double want_seconds,
                         const oz_dispatch_limits *lim, int64_t now, oz_assignment *out, size_t max,
                         size_t *n, char *why, size_t whylen)
{
    return oz_store_work_report(s, h, NULL, 0, want_seconds, lim, now, out, max, n, why, whylen);
}

typedef struct error_args {
    int64_t replica_id, host_id, now;
    const char *message;
    bool mismatch; /* the host says the unit's file did not match its SHA-256 */
} error_args;

/* Whether unit's file is marked bad (store_files.c); -1 on a failed read. */
static int unit_file_bad(oz_store *s, int64_t unit, char *why, size_t whylen)
{
    oz_sql_stmt *st =
        oz_store_stmt(s, "SELECT file_bad IS NOT NULL FROM units WHERE id = ?", why, whylen);
    if (!st)
        return -1;
    oz_sql_bind_int64(st, 1, unit);
    int bad = oz_sql_step(st) == OZ_SQL_ROW ? oz_sql_column_int(st, 0) : -1;
    oz_sql_reset(st);
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
