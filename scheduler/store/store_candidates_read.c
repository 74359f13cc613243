/*
 * store_candidates_read.c - candidates as the API shows them (store.h:
 * oz_store_candidates_json, oz_store_candidate_json; API.md).
 *
 * The list is ranked: unflagged candidates first, then by score, then by id
 * (candidates_rank is that order), paged by an offset cursor.
 */
#include <stdio.h>
#include <string.h>

#include "store_internal.h"

/* The columns of C, from candidates c joined with datasets d. */
#define CAND_COLS                                                                                  \
    "c.id, c.key, c.type, c.score, c.rfi, c.freq_hz, c.freq_bary_hz, c.chirp_hz_s, c.ra_deg,"      \
    " c.dec_deg, c.pixel, c.observations, c.detections, c.power, c.time_s, c.time_ns, d.name,"     \
    " c.best_score, c.rfi_pixels"

static json_t *cand_row(oz_sql_stmt *st, int64_t now)
{
    (void)now;
    json_t *utc = json_null();
    if (oz_sql_column_type(st, 15) != OZ_SQL_NULL) {
        char buf[48];
        if (oz_wu_time_format(oz_sql_column_int64(st, 15), 6, buf, sizeof buf) == OZ_WU_OK)
            utc = json_string(buf);
    }
    return json_pack(
        "{sI ss ss sf so sf so sf so so so sI sI sf sf so ss sf sI}", "id",
        (json_int_t)oz_sql_column_int64(st, 0), "key", oz_store_col_text(st, 1), "type",
        oz_store_col_text(st, 2), "score", oz_sql_column_double(st, 3), "rfi",
        oz_store_col_json(st, 4), "freq_hz", oz_sql_column_double(st, 5), "freq_bary_hz",
        oz_store_col_json(st, 6), "chirp_hz_s", oz_sql_column_double(st, 7), "ra_deg",
        oz_store_col_json(st, 8), "dec_deg", oz_store_col_json(st, 9), "pixel",
        oz_store_col_json(st, 10), "observations", (json_int_t)oz_sql_column_int64(st, 11),
        "detections", (json_int_t)oz_sql_column_int64(st, 12), "power",
        oz_sql_column_double(st, 13), "time_s", oz_sql_column_double(st, 14), "time_utc", utc,
        "dataset", oz_store_col_text(st, 16), "best_score", oz_sql_column_double(st, 17),
        "rfi_pixels", (json_int_t)oz_sql_column_int64(st, 18));
}

int oz_store_candidates_json(oz_store *s, const oz_cand_query *q, json_t **out)
{
    *out = NULL;
    int limit = oz_store_clamp(q->limit, 1, OZ_STORE_LIMIT_MAX, 50);
    long long after = oz_store_cursor_parse(q->after);
    if (after < 0)
        return OZ_SCHED_EINVAL;
    oz_sql_stmt *st =
        oz_store_stmt(s,
                      "SELECT " CAND_COLS " FROM candidates c INDEXED BY candidates_rank"
                      " JOIN datasets d ON d.id = c.dataset_id"
                      " WHERE (?1 < 0 OR (c.rfi IS NOT NULL) = (?1 = 1))"
                      " AND (CAST(?2 AS BIGINT) < 0 OR c.pixel = ?2)"
                      " AND (CAST(?3 AS TEXT) IS NULL OR EXISTS (SELECT 1 FROM signals g"
                      "  JOIN datasets e"
                      "  ON e.id = g.dataset_id WHERE g.candidate_id = c.id AND e.name = ?3))"
                      " ORDER BY (c.rfi IS NOT NULL), c.score DESC, c.id LIMIT ?4 OFFSET ?5",
                      NULL, 0);
    if (!st)
        return OZ_SCHED_EDB;
    oz_sql_bind_int(st, 1, q->rfi);
    oz_sql_bind_int64(st, 2, q->pixel);
    if (q->dataset)
        oz_sql_bind_text(st, 3, q->dataset, -1);
    oz_sql_bind_int(st, 4, limit + 1);
    oz_sql_bind_int64(st, 5, after);
    json_t *arr;
    bool more;
    int rc = oz_store_rows_json(st, limit, cand_row, 0, &arr, &more, NULL);
    return rc == OZ_SCHED_OK ? oz_store_paged("candidates", arr, more, after + limit, out) : rc;
}

/* The candidate's signals, strongest first, as S of /api/v1/signals: the
 * 501 strongest picked from signals_candidate alone, then only they are
 * read and joined (joining all of a tone's 50,000 detections before the
 * sort took 0.5 s at 10^6 signals: bench_sched_candidates). */
static int members(oz_store *s, int64_t id, json_t **arr)
{
    oz_sql_stmt *st = oz_store_stmt(
        s,
        "SELECT g.id, g.type, g.freq_hz, g.chirp_hz_s, g.time_s, g.period_s, g.time_ns, g.score,"
        " g.power, g.fft_len, u.name, d.name, " OZ_SIGNAL_SKY_COLS " FROM"
        " (SELECT id FROM signals INDEXED BY signals_candidate WHERE candidate_id = ?"
        " ORDER BY power DESC, id LIMIT 501) top JOIN signals g ON g.id = top.id"
        " JOIN units u ON u.id = g.unit_id JOIN datasets d ON d.id = g.dataset_id"
        " ORDER BY g.power DESC, g.id",
        NULL, 0);
    if (!st)
        return OZ_SCHED_EDB;
    oz_sql_bind_int64(st, 1, id);
    bool more;
    return oz_store_rows_json(st, 500, oz_store_signal_row, 0, arr, &more, NULL);
}

/* [{"dataset", "detections", "time_utc" (its first)}], by dataset id. */
static int observations(oz_store *s, int64_t id, json_t **arr)
{
    oz_sql_stmt *st = oz_store_stmt(
        s,
        "SELECT d.name, x.n, x.t FROM (SELECT dataset_id, count(*) AS n, min(time_ns) AS t"
        " FROM signals INDEXED BY signals_candidate WHERE candidate_id = ? GROUP BY dataset_id)"
        " x JOIN datasets d ON d.id = x.dataset_id ORDER BY x.dataset_id",
        NULL, 0);
    if (!st)
        return OZ_SCHED_EDB;
    oz_sql_bind_int64(st, 1, id);
    json_t *a = json_array();
    int step;
    while (a && (step = oz_sql_step(st)) == OZ_SQL_ROW) {
        json_t *utc = json_null();
        if (oz_sql_column_type(st, 2) != OZ_SQL_NULL) {
            char buf[48];
            if (oz_wu_time_format(oz_sql_column_int64(st, 2), 3, buf, sizeof buf) == OZ_WU_OK)
                utc = json_string(buf);
        }
        if (json_array_append_new(
                a, json_pack("{ss sI so}", "dataset", oz_store_col_text(st, 0), "detections",
                             (json_int_t)oz_sql_column_int64(st, 1), "time_utc", utc)) != 0) {
            json_decref(a);
            a = NULL;
        }
    }
    oz_sql_reset(st);
    if (!a)
        return OZ_SCHED_ENOMEM;
    if (step != OZ_SQL_DONE) {
        json_decref(a);
        return OZ_SCHED_EDB;
    }
    *arr = a;
    return OZ_SCHED_OK;
}

int oz_store_candidate_json(oz_store *s, int64_t id, json_t **out)
{
    *out = NULL;
    oz_sql_stmt *st = oz_store_stmt(s,
                                     "SELECT " CAND_COLS " FROM candidates c"
                                     " JOIN datasets d ON d.id = c.dataset_id WHERE c.id = ?",
                                     NULL, 0);
    if (!st)
        return OZ_SCHED_EDB;
    oz_sql_bind_int64(st, 1, id);
    int step = oz_sql_step(st);
    json_t *o = step == OZ_SQL_ROW ? cand_row(st, 0) : NULL;
    oz_sql_reset(st);
    if (step == OZ_SQL_DONE)
        return OZ_SCHED_ENOTFOUND;
    if (step != OZ_SQL_ROW)
        return OZ_SCHED_EDB;
    if (!o)
        return OZ_SCHED_ENOMEM;
    json_t *sig = NULL, *obs = NULL;
    int rc = members(s, id, &sig);
    if (rc == OZ_SCHED_OK)
        rc = observations(s, id, &obs);
    if (rc == OZ_SCHED_OK && (json_object_set_new(o, "signals", sig) != 0 ||
                              json_object_set_new(o, "datasets", obs) != 0))
        rc = OZ_SCHED_ENOMEM;
    else if (rc != OZ_SCHED_OK) {
        json_decref(sig);
        json_decref(obs);
    }
    if (rc != OZ_SCHED_OK) {
        json_decref(o);
        return rc;
    }
    *out = o;
    return OZ_SCHED_OK;
}
