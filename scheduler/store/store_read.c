/*
 * store_read.c - the read-only views of API.md as JSON: project status,
 * leaderboards, user/host/team pages and the signal browser.  Every list is
 * bounded (limit 1..500) and paginated by an opaque cursor: an offset for
 * lists ordered by credit, the last id for signals (stable while new
 * signals arrive).  Recent credit is decayed to `now` as it is read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "credit.h"
#include "store_internal.h"

/* Adaptive replication's figures (trust.h): the replication factor
 * (successful results per validated unit), trusted hosts, canaries found
 * and missed, spot checks passed and failed. */
json_t *oz_store_adaptive_json(const oz_store_gauges *g)
{
    double factor = g->units[1] > 0 ? (double)g->results_validated / (double)g->units[1] : 0.0;
    return json_pack("{sf sI sI sI sI sI}", "replicas_per_validated", factor, "trusted_hosts",
                     (json_int_t)g->hosts_trusted, "canaries_found", (json_int_t)g->canaries_found,
                     "canaries_missed", (json_int_t)g->canaries_missed, "spot_checks_passed",
                     (json_int_t)g->spot_passed, "spot_checks_failed", (json_int_t)g->spot_failed);
}

int oz_store_status_json(oz_store *s, int64_t now, int trust_after, json_t **out)
{
    *out = NULL;
    oz_store_gauges g;
    int rc = oz_store_gauges_read(s, now, trust_after, &g, NULL, 0);
    if (rc != OZ_SCHED_OK)
        return rc;
    if (oz_store_rbegin(s, NULL, 0) != OZ_SCHED_OK)
        return OZ_SCHED_EDB;
    int64_t hour = oz_store_one_int(
        s, "SELECT count(*) FROM replicas WHERE received >= ? AND outcome = {OUTCOME_SUCCESS}",
        now - 3600 > 0 ? now - 3600 : 1, true);
    int64_t day = oz_store_one_int(
        s, "SELECT count(*) FROM replicas WHERE received >= ? AND outcome = {OUTCOME_SUCCESS}",
        now - 86400 > 0 ? now - 86400 : 1, true);
    oz_store_rend(s);
    if (hour < 0 || day < 0)
        return OZ_SCHED_EDB;
    json_t *o = json_pack(
        "{s{sI sI sI sI sI} s{sI sI sI} sI sI sI sI sI sI s{sI sI} sf}", "units", "total",
        (json_int_t)(g.units[0] + g.units[1] + g.units[2]), "pending", (json_int_t)g.units[0],
        "validated", (json_int_t)g.units[1], "error", (json_int_t)g.units[2], "file_bad",
        (json_int_t)g.units_file_bad, "replicas", "unsent", (json_int_t)g.replicas[0],
        "in_progress", (json_int_t)g.replicas[1], "over", (json_int_t)g.replicas[2], "hosts_active",
        (json_int_t)g.hosts_active, "hosts", (json_int_t)g.hosts, "accounts",
        (json_int_t)g.accounts, "teams", (json_int_t)g.teams, "signals", (json_int_t)g.signals,
        "datasets", (json_int_t)g.datasets, "results", "last_hour", (json_int_t)hour, "last_day",
        (json_int_t)day, "credit_total", g.credit_total);
    /* The public face of the status page: the jobs' backlogs and the
     * replicas waiting, as counts (the rest of /api/v1/server is the
     * operator's). */
    json_t *q =
        json_pack("{sI sI sI sI sI}", "transition", (json_int_t)g.need_transition, "validate",
                  (json_int_t)g.need_validate, "assimilate", (json_int_t)g.need_assimilate,
                  "unsent", (json_int_t)g.replicas[0], "in_progress", (json_int_t)g.replicas[1]);
    json_t *ad = oz_store_adaptive_json(&g);
    if (!o || !q || !ad || json_object_set_new(o, "adaptive", ad) ||
        json_object_set_new(o, "queues", q)) {
        if (!o)
            json_decref(q);
        json_decref(o);
        return OZ_SCHED_ENOMEM;
    }
    *out = o;
    return o ? OZ_SCHED_OK : OZ_SCHED_ENOMEM;
}

/* {"id", "name", "total_credit", "recent_credit"} from columns 0..4 (id, name,
 * total, recent, recent_time). */
static json_t *credit_row(oz_sql_stmt *st, int64_t now)
{
    return json_pack(
        "{sI ss sf sf}", "id", (json_int_t)oz_sql_column_int64(st, 0), "name",
        oz_store_col_text(st, 1), "total_credit", oz_sql_column_double(st, 2), "recent_credit",
        oz_credit_decay(oz_sql_column_double(st, 3), oz_sql_column_int64(st, 4), now));
}

/* A user object: credit_row plus team_id (column 5), created (6) and
 * team_name (7: the team's name, null without a team). */
#define USER_TEAM_NAME "(SELECT t.name FROM teams t WHERE t.id = accounts.team_id)"

static json_t *user_row(oz_sql_stmt *st, int64_t now)
{
    json_t *u = credit_row(st, now);
    if (!u)
        return NULL;
    json_t *team = oz_sql_column_type(st, 5) == OZ_SQL_NULL
                       ? json_null()
                       : json_integer(oz_sql_column_int64(st, 5));
    if (json_object_set_new(u, "team_id", team) ||
        json_object_set_new(u, "created", json_integer(oz_sql_column_int64(st, 6))) ||
        json_object_set_new(u, "team_name", oz_store_col_json(st, 7))) {
        json_decref(u);
        return NULL;
    }
    return u;
}

int oz_store_users_json(oz_store *s, bool by_recent, int limit, const char *after, int64_t now,
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
                            "SELECT id, name, total_credit, recent_credit, recent_time,"
                            " team_id, created, " USER_TEAM_NAME " FROM accounts ORDER BY"
                            " decay(recent_credit, recent_time, ?1) DESC, id LIMIT ?2 OFFSET ?3",
                            NULL, 0)
            : oz_store_stmt(s,
                            "SELECT id, name, total_credit, recent_credit, recent_time,"
                            " team_id, created, " USER_TEAM_NAME " FROM accounts"
                            " WHERE CAST(?1 AS BIGINT) IS NOT NULL"
                            " ORDER BY total_credit DESC, id LIMIT ?2 OFFSET ?3",
                            NULL, 0);
    if (!st)
        return OZ_SCHED_EDB;
    oz_sql_bind_int64(st, 1, now);
    oz_sql_bind_int(st, 2, limit + 1);
    oz_sql_bind_int64(st, 3, off);
    json_t *arr;
    bool more;
    int rc = oz_store_rows_json(st, limit, user_row, now, &arr, &more, NULL);
    return rc == OZ_SCHED_OK ? oz_store_paged("users", arr, more, off + limit, out) : rc;
}

/* Appends the list `sql` (one id parameter) yields to obj[key]. */
static int add_list(oz_store *s, json_t *obj, const char *key, const char *sql, int64_t id,
                    json_t *(*make)(oz_sql_stmt *, int64_t), int64_t now)
{
    oz_sql_stmt *st = oz_store_stmt(s, sql, NULL, 0);
    if (!st)
        return OZ_SCHED_EDB;
    oz_sql_bind_int64(st, 1, id);
    oz_sql_bind_int(st, 2, OZ_STORE_LIMIT_MAX + 1);
    oz_sql_bind_int(st, 3, 0);
    json_t *arr;
    bool more;
    int rc = oz_store_rows_json(st, OZ_STORE_LIMIT_MAX, make, now, &arr, &more, NULL);
    if (rc != OZ_SCHED_OK)
        return rc;
    return json_object_set_new(obj, key, arr) ? OZ_SCHED_ENOMEM : OZ_SCHED_OK;
}

/* Runs a one-row statement (one id parameter) into make(row). */
static int one_row(oz_store *s, const char *sql, int64_t id,
                   json_t *(*make)(oz_sql_stmt *, int64_t), int64_t now, json_t **out)
{
    oz_sql_stmt *st = oz_store_stmt(s, sql, NULL, 0);
    if (!st)
        return OZ_SCHED_EDB;
    oz_sql_bind_int64(st, 1, id);
    int step = oz_sql_step(st);
    if (step != OZ_SQL_ROW) {
        oz_sql_reset(st);
        return step == OZ_SQL_DONE ? OZ_SCHED_ENOTFOUND : OZ_SCHED_EDB;
    }
    *out = make(st, now);
    oz_sql_reset(st);
    return *out ? OZ_SCHED_OK : OZ_SCHED_ENOMEM;
}

int oz_store_user_json(oz_store *s, int64_t id, int64_t now, json_t **out)
{
    *out = NULL;
    json_t *u;
    int rc = one_row(s,
                     "SELECT id, name, total_credit, recent_credit, recent_time, team_id, created,"
                     " " USER_TEAM_NAME " FROM accounts WHERE id = ?",
                     id, user_row, now, &u);
    if (rc != OZ_SCHED_OK)
        return rc;
    rc = add_list(s, u, "hosts",
                  "SELECT id, name, total_credit, recent_credit, recent_time FROM hosts"
                  " WHERE account_id = ?1 ORDER BY id LIMIT ?2 OFFSET ?3",
                  id, credit_row, now);
    if (rc != OZ_SCHED_OK) {
        json_decref(u);
        return rc;
    }
    *out = u;
    return OZ_SCHED_OK;
}

static json_t *host_row(oz_sql_stmt *st, int64_t now)
{
    json_t *h = credit_row(st, now);
    if (h && json_object_update_new(
                 h, json_pack("{ss sI sf sI sI sI sI}", "os", oz_store_col_text(st, 5), "ncpus",
                              (json_int_t)oz_sql_column_int64(st, 6), "flops",
                              oz_sql_column_double(st, 7), "user_id",
                              (json_int_t)oz_sql_column_int64(st, 8), "last_rpc",
                              (json_int_t)oz_sql_column_int64(st, 9), "in_progress",
                              (json_int_t)oz_sql_column_int64(st, 10), "created",
                              (json_int_t)oz_sql_column_int64(st, 11)))) {
        json_decref(h);
        return NULL;
    }
    return h;
}

int oz_store_host_json(oz_store *s, int64_t id, int64_t now, json_t **out)
{
    *out = NULL;
    return one_row(s,
                   "SELECT id, name, total_credit, recent_credit, recent_time, os, ncpus, flops,"
                   " account_id, last_rpc, in_progress, created FROM hosts WHERE id = ?",
                   id, host_row, now, out);
}

static json_t *team_row(oz_sql_stmt *st, int64_t now)
{
    json_t *t = credit_row(st, now);
    if (t && (json_object_set_new(t, "nusers", json_integer(oz_sql_column_int64(st, 5))) ||
              json_object_set_new(t, "description", json_string(oz_store_col_text(st, 6))))) {
        json_decref(t);
        return NULL;
    }
    return t;
}

int oz_store_teams_json(oz_store *s, int limit, const char *after, int64_t now, json_t **out)
{
    *out = NULL;
    limit = oz_store_clamp(limit, 1, OZ_STORE_LIMIT_MAX, 50);
    long long off = oz_store_cursor_parse(after);
    if (off < 0)
        return OZ_SCHED_EINVAL;
    oz_sql_stmt *st = oz_store_stmt(s,
                                     "SELECT id, name, total_credit, recent_credit, recent_time,"
                                     " (SELECT count(*) FROM accounts a WHERE a.team_id = t.id),"
                                     " description FROM teams t"
                                     " WHERE CAST(?1 AS BIGINT) IS NOT NULL"
                                     " ORDER BY total_credit DESC, id LIMIT ?2 OFFSET ?3",
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

int oz_store_team_json(oz_store *s, int64_t id, int64_t now, json_t **out)
{
    *out = NULL;
    json_t *t;
    int rc = one_row(s,
                     "SELECT id, name, total_credit, recent_credit, recent_time,"
                     " (SELECT count(*) FROM accounts a WHERE a.team_id = t.id), description"
                     " FROM teams t WHERE id = ?",
                     id, team_row, now, &t);
    if (rc != OZ_SCHED_OK)
        return rc;
    rc = add_list(s, t, "users",
                  "SELECT id, name, total_credit, recent_credit, recent_time, team_id, created,"
                  " " USER_TEAM_NAME " FROM accounts WHERE team_id = ?1 ORDER BY total_credit DESC, id"
                  " LIMIT ?2 OFFSET ?3",
                  id, user_row, now);
    if (rc != OZ_SCHED_OK) {
        json_decref(t);
        return rc;
    }
    *out = t;
    return OZ_SCHED_OK;
}

int oz_store_signals_json(oz_store *s, const oz_signal_query *q, json_t **out)
{
    *out = NULL;
    int limit = oz_store_clamp(q->limit, 1, OZ_STORE_LIMIT_MAX, 50);
    long long after = oz_store_cursor_parse(q->after);
    if (after < 0)
        return OZ_SCHED_EINVAL;
    oz_sql_stmt *st = oz_store_stmt(
        s,
        "SELECT g.id, g.type, g.freq_hz, g.chirp_hz_s, g.time_s, g.period_s, g.time_ns, g.score,"
        " g.power, g.fft_len, u.name, d.name, " OZ_SIGNAL_SKY_COLS
        " FROM signals g JOIN units u ON u.id = g.unit_id"
        " JOIN datasets d ON d.id = g.dataset_id WHERE g.id > ?1 AND g.score >= ?2"
        " AND (CAST(?3 AS TEXT) IS NULL OR d.name = ?3)"
        " AND (CAST(?4 AS TEXT) IS NULL OR g.type = ?4)"
        " ORDER BY g.id LIMIT ?5",
        NULL, 0);
    if (!st)
        return OZ_SCHED_EDB;
    oz_sql_bind_int64(st, 1, after);
    oz_sql_bind_double(st, 2, q->min_score);
    if (q->dataset)
        oz_sql_bind_text(st, 3, q->dataset, -1);
    if (q->type)
        oz_sql_bind_text(st, 4, q->type, -1);
    oz_sql_bind_int(st, 5, limit + 1);
    json_t *arr;
    bool more;
    long long last = after;
    int rc = oz_store_rows_json(st, limit, oz_store_signal_row, 0, &arr, &more, &last);
    return rc == OZ_SCHED_OK ? oz_store_paged("signals", arr, more, last, out) : rc;
}
