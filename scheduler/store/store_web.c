/*
 * store_web.c - the read-only views the web pages and /metrics need beyond
 * API.md's first set (store_read.c): dataset progress, throughput, the
 * hosts leaderboard, credit histories, a host's or account's recent
 * results, the newest signals, and the database's gauges and health.
 *
 * Like store_read.c, every list is bounded (limit 1..500) and paged by an
 * opaque decimal cursor (an offset for lists ordered by credit, the last id
 * for lists ordered by id), recent credit is decayed to `now` as it is
 * read, and nothing here writes.  Each query walks an index or a small
 * table except where noted at the query (the dataset progress looks at each
 * active unit's replicas; a project with millions of units would keep
 * counters instead).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "credit.h"
#include "pg.h"
#include "store_internal.h"

/* ---- datasets ------------------------------------------------------------------------------ */

static json_t *dataset_row(oz_sql_stmt *st, int64_t now)
{
    (void)now;
    return json_pack(
        "{sI ss ss sf sf sI sI sI sI sI sI sI sI}", "id", (json_int_t)oz_sql_column_int64(st, 0),
        "name", oz_store_col_text(st, 1), "recording", oz_store_col_text(st, 2), "sample_rate",
        oz_sql_column_double(st, 3), "center_hz", oz_sql_column_double(st, 4), "created",
        (json_int_t)oz_sql_column_int64(st, 5), "units", (json_int_t)oz_sql_column_int64(st, 6),
        "validated", (json_int_t)oz_sql_column_int64(st, 7), "error",
        (json_int_t)oz_sql_column_int64(st, 8), "validating",
        (json_int_t)oz_sql_column_int64(st, 9), "in_progress",
        (json_int_t)oz_sql_column_int64(st, 10), "unsent",
        (json_int_t)oz_sql_column_int64(st, 11), "signals",
        (json_int_t)oz_sql_column_int64(st, 12));
}

int oz_store_datasets_json(oz_store *s, int limit, const char *after, json_t **out)
{
    *out = NULL;
    limit = oz_store_clamp(limit, 1, OZ_STORE_LIMIT_MAX, 50);
    long long from = oz_store_cursor_parse(after);
    if (from < 0)
        return OZ_SCHED_EINVAL;
    /* The per-class counters are kept by a trigger (sqlite.c, migration 16). */
    oz_sql_stmt *st =
        oz_store_stmt(s,
                      "SELECT d.id, d.name, d.recording, d.sample_rate, d.center_hz, d.created,"
                      " p.n_units, p.n_validated, p.n_error, p.n_validating, p.n_running,"
                      " p.n_unsent, (SELECT count(*) FROM signals g WHERE g.dataset_id = d.id)"
                      " FROM datasets d JOIN dataset_progress p ON p.dataset_id = d.id"
                      " WHERE d.ready = 1 AND d.id > ?1 ORDER BY d.id LIMIT ?2",
                      NULL, 0);
    if (!st)
        return OZ_SCHED_EDB;
    oz_sql_bind_int64(st, 1, from);
    oz_sql_bind_int(st, 2, limit + 1);
    json_t *arr;
    bool more;
    long long last = from;
    int rc = oz_store_rows_json(st, limit, dataset_row, 0, &arr, &more, &last);
    return rc == OZ_SCHED_OK ? oz_store_paged("datasets", arr, more, last, out) : rc;
}

/* ---- throughput ---------------------------------------------------------------------------- */

int oz_store_throughput_json(oz_store *s, int64_t now, int bucket_s, int n, json_t **out)
{
    *out = NULL;
    bucket_s = oz_store_clamp(bucket_s, 1, 86400 * 7, 3600);
    n = oz_store_clamp(n, 1, OZ_STORE_LIMIT_MAX, 48);
    int64_t last = now / bucket_s; /* the bucket now is in */
    int64_t first = last - n + 1;
    int64_t *counts = calloc((size_t)n, sizeof *counts);
    json_t *buckets = json_array();
    int rc = OZ_SCHED_ENOMEM;
    if (!counts || !buckets)
        goto fail;
    oz_sql_stmt *st =
        oz_store_stmt(s,
                      "SELECT received / ?1, count(*) FROM replicas"
                      " WHERE received >= ?2 AND outcome = {OUTCOME_SUCCESS} GROUP BY 1",
                      NULL, 0);
    rc = OZ_SCHED_EDB;
    if (!st)
        goto fail;
    oz_sql_bind_int64(st, 1, bucket_s);
    oz_sql_bind_int64(st, 2, first * bucket_s);
    int step;
    while ((step = oz_sql_step(st)) == OZ_SQL_ROW) {
        int64_t b = oz_sql_column_int64(st, 0);
        if (b >= first && b <= last)
            counts[b - first] += oz_sql_column_int64(st, 1);
    }
    oz_sql_reset(st);
    if (step != OZ_SQL_DONE)
        goto fail;
    rc = OZ_SCHED_ENOMEM;
    for (int i = 0; i < n; i++)
        if (json_array_append_new(buckets,
                                  json_pack("{sI sI}", "t", (json_int_t)((first + i) * bucket_s),
                                            "results", (json_int_t)counts[i])))
            goto fail;
    free(counts);
    *out = json_pack("{sI so}", "bucket_s", (json_int_t)bucket_s, "buckets", buckets);
    return *out ? OZ_SCHED_OK : OZ_SCHED_ENOMEM;
fail:
    free(counts);
    json_decref(buckets);
    return rc;
}

/* ---- leaderboards -------------------------------------------------------------------------- */

static json_t *host_row(oz_sql_stmt *st, int64_t now)
{
    return json_pack(
        "{sI ss sI ss ss sI sf sf sI}", "id", (json_int_t)oz_sql_column_int64(st, 0), "name",
        oz_store_col_text(st, 1), "user_id", (json_int_t)oz_sql_column_int64(st, 5), "user_name",
        oz_store_col_text(st, 6), "os", oz_store_col_text(st, 7), "ncpus",
        (json_int_t)oz_sql_column_int64(st, 8), "total_credit", oz_sql_column_double(st, 2),
        "recent_credit",
        oz_credit_decay(oz_sql_column_double(st, 3), oz_sql_column_int64(st, 4), now), "last_rpc",
        (json_int_t)oz_sql_column_int64(st, 9));
}

int oz_store_hosts_json(oz_store *s, bool by_recent, int limit, const char *after, int64_t now,
                        json_t **out)
{
    *out = NULL;
    limit = oz_store_clamp(limit, 1, OZ_STORE_LIMIT_MAX, 50);
    long long off = oz_store_cursor_parse(after);
    if (off < 0)
        return OZ_SCHED_EINVAL;
    oz_sql_stmt *st =
        by_recent
            ? oz_store_stmt(s,
                            "SELECT h.id, h.name, h.total_credit, h.recent_credit, h.recent_time,"
                            " h.account_id, a.name, h.os, h.ncpus, h.last_rpc FROM hosts h"
                            " JOIN accounts a ON a.id = h.account_id ORDER BY"
                            " decay(h.recent_credit, h.recent_time, ?1) DESC, h.id"
                            " LIMIT ?2 OFFSET ?3",
                            NULL, 0)
            : oz_store_stmt(s,
                            "SELECT h.id, h.name, h.total_credit, h.recent_credit, h.recent_time,"
                            " h.account_id, a.name, h.os, h.ncpus, h.last_rpc FROM hosts h"
                            " JOIN accounts a ON a.id = h.account_id"
                            " WHERE CAST(?1 AS BIGINT) IS NOT NULL"
                            " ORDER BY h.total_credit DESC, h.id LIMIT ?2 OFFSET ?3",
                            NULL, 0);
    if (!st)
        return OZ_SCHED_EDB;
    oz_sql_bind_int64(st, 1, now);
    oz_sql_bind_int(st, 2, limit + 1);
    oz_sql_bind_int64(st, 3, off);
    json_t *arr;
    bool more;
    int rc = oz_store_rows_json(st, limit, host_row, now, &arr, &more, NULL);
    return rc == OZ_SCHED_OK ? oz_store_paged("hosts", arr, more, off + limit, out) : rc;
}

static json_t *team_row(oz_sql_stmt *st, int64_t now)
{
    return json_pack(
        "{sI ss sf sf sI ss}", "id", (json_int_t)oz_sql_column_int64(st, 0), "name",
        oz_store_col_text(st, 1), "total_credit", oz_sql_column_double(st, 2), "recent_credit",
        oz_credit_decay(oz_sql_column_double(st, 3), oz_sql_column_int64(st, 4), now), "nusers",
        (json_int_t)oz_sql_column_int64(st, 5), "description", oz_store_col_text(st, 6));
}

int oz_store_teams_rac_json(oz_store *s, int limit, const char *after, int64_t now, json_t **out)
{
    *out = NULL;
    limit = oz_store_clamp(limit, 1, OZ_STORE_LIMIT_MAX, 50);
    long long off = oz_store_cursor_parse(after);
    if (off < 0)
        return OZ_SCHED_EINVAL;
    oz_sql_stmt *st = oz_store_stmt(s,
                                     "SELECT id, name, total_credit, recent_credit, recent_time,"
                                     " (SELECT count(*) FROM accounts a WHERE a.team_id = t.id),"
                                     " description FROM teams t ORDER BY"
                                     " decay(recent_credit, recent_time, ?1) DESC, id"
                                     " LIMIT ?2 OFFSET ?3",
                                     NULL, 0);
    if (!st)
        return OZ_SCHED_EDB;
    oz_sql_bind_int64(st, 1, now);
    oz_sql_bind_int(st, 2, limit + 1);
    oz_sql_bind_int64(st, 3, off);
    json_t *arr;
    bool more;
    int rc = oz_store_rows_json(st, limit, team_row, now, &arr, &more, NULL);
    return rc == OZ_SCHED_OK ? oz_store_paged("teams", arr, more, off + limit, out) : rc;
}

/* ---- credit history ------------------------------------------------------------------------ */

static const char *const owner_kind[] = {"host", "user", "team"};
static const char *const owner_exists[] = {
    "SELECT count(*) FROM hosts WHERE id = ?",
    "SELECT count(*) FROM accounts WHERE id = ?",
    "SELECT count(*) FROM teams WHERE id = ?",
};

int oz_store_credit_history_json(oz_store *s, oz_credit_owner kind, int64_t id, int64_t now,
                                 int days, json_t **out)
{
    *out = NULL;
    if (kind < OZ_CREDIT_HOST || kind > OZ_CREDIT_TEAM)
        return OZ_SCHED_EINVAL;
    days = oz_store_clamp(days, 1, 3650, 90);
    int64_t found = oz_store_one_int(s, owner_exists[kind], id, true);
    if (found < 0)
        return OZ_SCHED_EDB;
    if (found == 0)
        return OZ_SCHED_ENOTFOUND;
    int64_t today = now / 86400, first = today - days + 1;
    double *credit = calloc((size_t)days, sizeof *credit);
    json_t *arr = json_array();
    int rc = OZ_SCHED_ENOMEM;
    if (!credit || !arr)
        goto fail;
    oz_sql_stmt *st = oz_store_stmt(s,
                                     "SELECT day, credit FROM credit_daily"
                                     " WHERE kind = ?1 AND owner = ?2 AND day >= ?3 AND day <= ?4",
                                     NULL, 0);
    rc = OZ_SCHED_EDB;
    if (!st)
        goto fail;
    oz_sql_bind_text(st, 1, owner_kind[kind], -1);
    oz_sql_bind_int64(st, 2, id);
    oz_sql_bind_int64(st, 3, first);
    oz_sql_bind_int64(st, 4, today);
    int step;
    while ((step = oz_sql_step(st)) == OZ_SQL_ROW)
        credit[oz_sql_column_int64(st, 0) - first] += oz_sql_column_double(st, 1);
    oz_sql_reset(st);
    if (step != OZ_SQL_DONE)
        goto fail;
    rc = OZ_SCHED_ENOMEM;
    for (int i = 0; i < days; i++) {
        char date[32];
        if (oz_wu_time_format((first + i) * 86400 * (int64_t)1000000000, 0, date, sizeof date) !=
            OZ_WU_OK)
            snprintf(date, sizeof date, "?");
        if (strlen(date) > 10)
            date[10] = '\0'; /* YYYY-MM-DD */
        if (json_array_append_new(arr, json_pack("{sI ss sf}", "day", (json_int_t)(first + i),
                                                 "date", date, "credit", credit[i])))
            goto fail;
    }
    free(credit);
    *out = json_pack("{ss sI so}", "kind", owner_kind[kind], "id", (json_int_t)id, "days", arr);
    return *out ? OZ_SCHED_OK : OZ_SCHED_ENOMEM;
fail:
    free(credit);
    json_decref(arr);
    return rc;
}

/* ---- recent results ------------------------------------------------------------------------ */

static const char *name_of(const char *const *names, size_t n, int64_t v)
{
    return v >= 0 && (size_t)v < n ? names[v] : "unknown";
}

json_t *oz_store_result_row(oz_sql_stmt *st, int64_t now)
{
    (void)now;
    static const char *const states[] = {"unsent", "in_progress", "over"};
    static const char *const outcomes[] = {"init", "success", "client_error", "no_reply",
                                           "didnt_need"};
    static const char *const validate[] = {"init", "valid", "invalid", "inconclusive"};
    json_t *o = json_pack(
        "{sI ss ss sI sI ss ss ss sf ss}", "replica_id", (json_int_t)oz_sql_column_int64(st, 0),
        "unit_id", oz_store_col_text(st, 1), "dataset", oz_store_col_text(st, 2), "host_id",
        (json_int_t)oz_sql_column_int64(st, 3), "user_id", (json_int_t)oz_sql_column_int64(st, 4),
        "state", name_of(states, 3, oz_sql_column_int64(st, 5)), "outcome",
        name_of(outcomes, 5, oz_sql_column_int64(st, 6)), "validate_state",
        name_of(validate, 4, oz_sql_column_int64(st, 7)), "credit", oz_sql_column_double(st, 11),
        "host_name", oz_store_col_text(st, 12));
    /* the uploaded text moved to the archives (lifecycle.h) */
    if (o && json_object_set_new(o, "archived", json_boolean(oz_sql_column_int(st, 13)))) {
        json_decref(o);
        o = NULL;
    }
    /* sent, received, deadline: Unix seconds or null */
    static const char *const times[] = {"sent", "received", "deadline"};
    static const int cols[] = {8, 9, 10};
    for (int i = 0; o && i < 3; i++)
        if (json_object_set_new(o, times[i],
                                oz_sql_column_type(st, cols[i]) == OZ_SQL_NULL
                                    ? json_null()
                                    : json_integer(oz_sql_column_int64(st, cols[i])))) {
            json_decref(o);
            o = NULL;
        }
    return o;
}

int oz_store_results_json(oz_store *s, bool of_host, int64_t id, int limit, const char *after,
                          json_t **out)
{
    *out = NULL;
    limit = oz_store_clamp(limit, 1, OZ_STORE_LIMIT_MAX, 50);
    long long before = oz_store_cursor_parse(after);
    if (before < 0)
        return OZ_SCHED_EINVAL;
    int64_t found =
        oz_store_one_int(s, owner_exists[of_host ? OZ_CREDIT_HOST : OZ_CREDIT_USER], id, true);
    if (found < 0)
        return OZ_SCHED_EDB;
    if (found == 0)
        return OZ_SCHED_ENOTFOUND;
    /* Newest first by replica id.  (No index on host_id/account_id yet:
     * this walks replicas from the newest until it has a page.) */
    oz_sql_stmt *st =
        of_host ? oz_store_stmt(s,
                                "SELECT " OZ_RESULT_COLS " FROM replicas r"
                                " JOIN units u ON u.id = r.unit_id"
                                " JOIN datasets d ON d.id = u.dataset_id"
                                " WHERE r.host_id = ?1 AND (CAST(?2 AS BIGINT) = 0 OR r.id < ?2)"
                                " ORDER BY r.id DESC LIMIT ?3",
                                NULL, 0)
                : oz_store_stmt(s,
                                "SELECT " OZ_RESULT_COLS " FROM replicas r"
                                " JOIN units u ON u.id = r.unit_id"
                                " JOIN datasets d ON d.id = u.dataset_id"
                                " WHERE r.account_id = ?1 AND (CAST(?2 AS BIGINT) = 0 OR r.id < ?2)"
                                " ORDER BY r.id DESC LIMIT ?3",
                                NULL, 0);
    if (!st)
        return OZ_SCHED_EDB;
    oz_sql_bind_int64(st, 1, id);
    oz_sql_bind_int64(st, 2, before);
    oz_sql_bind_int(st, 3, limit + 1);
    json_t *arr;
    bool more;
    long long last = before;
    int rc = oz_store_rows_json(st, limit, oz_store_result_row, 0, &arr, &more, &last);
    return rc == OZ_SCHED_OK ? oz_store_paged("results", arr, more, last, out) : rc;
}

/* ---- signals ------------------------------------------------------------------------------- */

int oz_store_signals_latest_json(oz_store *s, int limit, double min_score, json_t **out)
{
    *out = NULL;
    limit = oz_store_clamp(limit, 1, OZ_STORE_LIMIT_MAX, 10);
    oz_sql_stmt *st = oz_store_stmt(
        s,
        "SELECT g.id, g.type, g.freq_hz, g.chirp_hz_s, g.time_s, g.period_s, g.time_ns, g.score,"
        " g.power, g.fft_len, u.name, d.name, " OZ_SIGNAL_SKY_COLS
        " FROM signals g JOIN units u ON u.id = g.unit_id"
        " JOIN datasets d ON d.id = g.dataset_id WHERE g.score >= ?1"
        " ORDER BY g.id DESC LIMIT ?2",
        NULL, 0);
    if (!st)
        return OZ_SCHED_EDB;
    oz_sql_bind_double(st, 1, min_score);
    oz_sql_bind_int(st, 2, limit);
    json_t *arr;
    bool more;
    int rc = oz_store_rows_json(st, limit, oz_store_signal_row, 0, &arr, &more, NULL);
    if (rc != OZ_SCHED_OK)
        return rc;
    *out = json_pack("{so}", "signals", arr);
    return *out ? OZ_SCHED_OK : OZ_SCHED_ENOMEM;
}

/* ---- gauges and health --------------------------------------------------------------------- */

static int64_t file_bytes(const char *path, const char *suffix)
{
    char p[4096];
    struct stat st;
    if (snprintf(p, sizeof p, "%s%s", path, suffix) >= (int)sizeof p || stat(p, &st) != 0)
        return 0;
    return (int64_t)st.st_size;
}

int oz_store_gauges_read(oz_store *s, int64_t now, int trust_after, oz_store_gauges *g, char *why,
                         size_t whylen)
{
    memset(g, 0, sizeof *g);
    g->write_conflicts = (int64_t)atomic_load_explicit(&s->db->write_conflicts,
                                                       memory_order_relaxed);
    int rc = oz_store_rbegin(s, why, whylen);
    if (rc != OZ_SCHED_OK)
        return rc;
    rc = OZ_SCHED_EDB;
    /* units by state from the datasets' class counters (migration 16); the
     * replica counts use the partial indexes, "over" is the rest */
    oz_sql_stmt *st = oz_store_stmt(s,
                                     "SELECT coalesce(sum(n_validating + n_running + n_unsent), 0),"
                                     " coalesce(sum(n_validated), 0), coalesce(sum(n_error), 0)"
                                     " FROM dataset_progress",
                                     why, whylen);
    if (!st)
        goto out;
    if (oz_sql_step(st) != OZ_SQL_ROW) {
        oz_sql_reset(st);
        rc = oz_store_dberr(s, "units by state", why, whylen);
        goto out;
    }
    for (int k = 0; k < 3; k++)
        g->units[k] = oz_sql_column_int64(st, k);
    oz_sql_reset(st);
    int64_t total = oz_store_one_int(s, "SELECT count(*) FROM replicas", 0, false);
    g->replicas[0] = oz_store_one_int(
        s, "SELECT count(*) FROM replicas WHERE state = {REPLICA_UNSENT}", 0, false);
    g->replicas[1] = oz_store_one_int(
        s, "SELECT count(*) FROM replicas WHERE state = {REPLICA_IN_PROGRESS}", 0, false);
    g->replicas[2] = total - g->replicas[0] - g->replicas[1];
    g->units_file_bad = oz_store_one_int(
        s, "SELECT count(*) FROM units INDEXED BY units_file_bad WHERE file_bad IS NOT NULL", 0,
        false);
    g->need_transition =
        oz_store_one_int(s, "SELECT count(*) FROM units WHERE need_transition = 1", 0, false);
    g->need_validate =
        oz_store_one_int(s, "SELECT count(*) FROM units WHERE need_validate = 1", 0, false);
    g->need_assimilate = oz_store_one_int(
        s, "SELECT count(*) FROM units WHERE state = {UNIT_VALIDATED} AND assimilated = 0", 0,
        false);
    g->hosts = oz_store_one_int(s, "SELECT count(*) FROM hosts", 0, false);
    g->hosts_active = oz_store_one_int(s, "SELECT count(*) FROM hosts WHERE last_rpc >= ?",
                                       now - 86400 > 0 ? now - 86400 : 1, true);
    g->accounts = oz_store_one_int(s, "SELECT count(*) FROM accounts", 0, false);
    g->teams = oz_store_one_int(s, "SELECT count(*) FROM teams", 0, false);
    g->signals = oz_store_one_int(s, "SELECT count(*) FROM signals", 0, false);
    g->datasets = oz_store_one_int(s, "SELECT count(*) FROM datasets WHERE ready = 1", 0, false);
    if (total < 0 || g->replicas[0] < 0 || g->replicas[1] < 0 || g->units_file_bad < 0 ||
        g->need_transition < 0 || g->need_validate < 0 || g->need_assimilate < 0 || g->hosts < 0 ||
        g->hosts_active < 0 || g->accounts < 0 || g->teams < 0 || g->signals < 0 ||
        g->datasets < 0) {
        rc = oz_store_dberr(s, "counting", why, whylen);
        goto out;
    }
    st = oz_store_stmt(s, "SELECT coalesce(sum(total_credit), 0) FROM accounts", why, whylen);
    if (!st)
        goto out;
    if (oz_sql_step(st) == OZ_SQL_ROW)
        g->credit_total = oz_sql_column_double(st, 0);
    oz_sql_reset(st);
    g->results_validated = oz_store_one_int(
        s,
        "SELECT count(*) FROM units u JOIN replicas r"
        " ON r.unit_id = u.id WHERE u.state = {UNIT_VALIDATED} AND r.outcome = {OUTCOME_SUCCESS}",
        0, false);
    g->hosts_trusted =
        oz_store_one_int(s, "SELECT count(*) FROM hosts WHERE consecutive_valid >= ?",
                         trust_after > 0 ? trust_after : 1, true);
    if (!(st = oz_store_stmt(s,
                             "SELECT coalesce(sum(found), 0), coalesce(sum(missed), 0),"
                             " (SELECT passed FROM spot_stats), (SELECT failed FROM spot_stats),"
                             " (SELECT cpu_s FROM spot_stats) FROM canaries",
                             why, whylen)))
        goto out;
    if (oz_sql_step(st) == OZ_SQL_ROW) {
        g->canaries_found = oz_sql_column_int64(st, 0);
        g->canaries_missed = oz_sql_column_int64(st, 1);
        g->spot_passed = oz_sql_column_int64(st, 2);
        g->spot_failed = oz_sql_column_int64(st, 3);
        g->spot_cpu_s = oz_sql_column_double(st, 4);
    }
    oz_sql_reset(st);
    if (s->db->pg) { /* the server's files: its own count, and no WAL of ours to watch */
        g->db_bytes = oz_pg_database_bytes(s);
    } else {
        g->db_bytes = file_bytes(s->db->path, "");
        g->log_bytes = file_bytes(s->db->path, "-wal");
    }
    rc = OZ_SCHED_OK;
out:
    oz_store_rend(s);
    return rc;
}

static json_t *replica_error_row(oz_sql_stmt *st, int64_t now)
{
    (void)now;
    return json_pack("{sI ss sI sI ss ss}", "replica_id", (json_int_t)oz_sql_column_int64(st, 0),
                     "unit_id", oz_store_col_text(st, 1), "host_id",
                     (json_int_t)oz_sql_column_int64(st, 2), "time",
                     (json_int_t)oz_sql_column_int64(st, 3), "message", oz_store_col_text(st, 4),
                     "host_name", oz_store_col_text(st, 5));
}

static json_t *unit_error_row(oz_sql_stmt *st, int64_t now)
{
    (void)now;
    return json_pack("{ss ss sI ss}", "unit_id", oz_store_col_text(st, 1), "dataset",
                     oz_store_col_text(st, 2), "time", (json_int_t)oz_sql_column_int64(st, 3),
                     "reason", oz_store_col_text(st, 4));
}

int oz_store_server_json(oz_store *s, int64_t now, int limit, int trust_after, json_t **out)
{
    *out = NULL;
    limit = oz_store_clamp(limit, 1, 100, 10);
    oz_store_gauges g;
    char why[256];
    int rc = oz_store_gauges_read(s, now, trust_after, &g, why, sizeof why);
    if (rc != OZ_SCHED_OK)
        return rc;
    json_t *o =
        json_pack("{s{ss sI sI} s{sI sI sI sI sI}}", "database", "path", s->db->path, "bytes",
                  (json_int_t)g.db_bytes, "wal_bytes", (json_int_t)g.log_bytes, "queues",
                  "transition", (json_int_t)g.need_transition, "validate",
                  (json_int_t)g.need_validate, "assimilate", (json_int_t)g.need_assimilate,
                  "unsent", (json_int_t)g.replicas[0], "in_progress", (json_int_t)g.replicas[1]);
    if (!o || json_object_set_new(o, "adaptive", oz_store_adaptive_json(&g))) {
        json_decref(o);
        return OZ_SCHED_ENOMEM;
    }
    /* Client errors, newest first: the partial index on received walks
     * back from now (error reports set received). */
    oz_sql_stmt *st = oz_store_stmt(s,
                                     "SELECT r.id, u.name, r.host_id, r.received, r.error,"
                                     " (SELECT h.name FROM hosts h WHERE h.id = r.host_id)"
                                     " FROM replicas r JOIN units u ON u.id = r.unit_id"
                                     " WHERE r.received IS NOT NULL AND r.outcome = {OUTCOME_CLIENT_ERROR}"
                                     " ORDER BY r.received DESC, r.id DESC LIMIT ?1",
                                     NULL, 0);
    json_t *arr;
    bool more;
    if (!st) {
        json_decref(o);
        return OZ_SCHED_EDB;
    }
    oz_sql_bind_int(st, 1, limit);
    if ((rc = oz_store_rows_json(st, limit, replica_error_row, now, &arr, &more, NULL)) !=
            OZ_SCHED_OK ||
        json_object_set_new(o, "replica_errors", arr)) {
        json_decref(o);
        return rc != OZ_SCHED_OK ? rc : OZ_SCHED_ENOMEM;
    }
    st = oz_store_stmt(
        s,
        "SELECT u.id, u.name, d.name, coalesce(u.finished, 0), coalesce(u.error, '')"
        " FROM units u JOIN datasets d ON d.id = u.dataset_id WHERE u.state = {UNIT_ERROR}"
        " ORDER BY u.finished DESC NULLS LAST, u.id DESC LIMIT ?1",
        NULL, 0);
    if (!st) {
        json_decref(o);
        return OZ_SCHED_EDB;
    }
    oz_sql_bind_int(st, 1, limit);
    if ((rc = oz_store_rows_json(st, limit, unit_error_row, now, &arr, &more, NULL)) !=
            OZ_SCHED_OK ||
        json_object_set_new(o, "unit_errors", arr)) {
        json_decref(o);
        return rc != OZ_SCHED_OK ? rc : OZ_SCHED_ENOMEM;
    }
    if ((rc = oz_store_unit_files_bad_json(s, limit, &arr)) != OZ_SCHED_OK ||
        json_object_set_new(o, "unit_files_bad", arr)) {
        json_decref(o);
        return rc != OZ_SCHED_OK ? rc : OZ_SCHED_ENOMEM;
    }
    *out = o;
    return OZ_SCHED_OK;
}
