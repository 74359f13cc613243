/*
 * api_web.c - the read-only GETs added for the web pages and operators
 * (API.md "Web pages and operators"): dataset progress, throughput, the
 * hosts leaderboard, credit histories, recent results, the newest signals,
 * the server's status and GET /metrics.  No authentication, nothing
 * written, each client address's reads limited (http.c); parameters are
 * checked strictly (api_read.c's rules) and the JSON comes whole from the
 * store (store_web.c).  Throughput, a pass over the replicas of its
 * window, is served from the server's cache (cache.h) under its checked
 * parameters.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "sched_errors.h"

static enum MHD_Result reply_read(oz_req *r, int rc, json_t *obj, const char *what)
{
    if (rc == OZ_SCHED_ENOTFOUND)
        return oz_reply_error(r, 404, "no %s %lld", what, (long long)r->id);
    if (rc == OZ_SCHED_EINVAL)
        return oz_reply_error(r, 400, "after: not a cursor from a previous \"next\"");
    if (rc != 0)
        return oz_reply_store(r, rc, "reading failed");
    return oz_reply_json(r, 200, obj);
}

/* An optional integer parameter in [min, max]; 0 with *out (dflt when
 * absent), -1 after a 400. */
static int int_arg(oz_req *r, const char *key, long min, long max, long dflt, long *out)
{
    const char *v = oz_req_arg(r, key);
    *out = dflt;
    if (!v)
        return 0;
    if (oz_http_int_parse(v, min, max, out) != 0) {
        oz_reply_error(r, 400, "%s: \"%.20s\" is not an integer in %ld..%ld", key, v, min, max);
        return -1;
    }
    return 0;
}

/* order=total|rac (default total); -1 after a 400. */
static int order_arg(oz_req *r, bool *by_recent)
{
    const char *order = oz_req_arg(r, "order");
    *by_recent = order && strcmp(order, "rac") == 0;
    if (order && !*by_recent && strcmp(order, "total") != 0) {
        oz_reply_error(r, 400, "order: must be \"total\" or \"rac\"");
        return -1;
    }
    return 0;
}

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

enum MHD_Result oz_api_datasets(oz_req *r)
{
    static const char *const allowed[] = {"limit", "after", NULL};
    int limit;
    const char *after;
    if (oz_req_args_check(r, allowed) < 0 || oz_req_args_page(r, &limit, &after) < 0 ||
        !oz_req_read_store(r))
        return r->ret;
    json_t *o = NULL;
    int rc = oz_store_datasets_json(r->store, limit, after, &o);
    /* Where a recording lies on the server is the operator's business. */
    if (rc == OZ_SCHED_OK && !oz_req_operator(r)) {
        size_t i;
        json_t *d;
        json_array_foreach(json_object_get(o, "datasets"), i, d) json_object_del(d, "recording");
    }
    return reply_read(r, rc, o, "datasets");
}

enum MHD_Result oz_api_unit_get(oz_req *r)
{
    static const char *const allowed[] = {NULL};
    if (oz_req_args_check(r, allowed) < 0)
        return r->ret;
    if (!oz_wu_id_valid(r->file, OZ_WU_ID_MAX))
        return oz_reply_error(r, 400, "not a unit id");
    if (!oz_req_read_store(r))
        return r->ret;
    json_t *o = NULL;
    int rc = oz_store_unit_json(r->store, r->file, &o);
    if (rc == OZ_SCHED_ENOTFOUND)
        return oz_reply_error(r, 404, "no unit %s", r->file);
    return reply_read(r, rc, o, "unit");
}

struct window {
    long bucket, n;
};

static int throughput_make(oz_req *r, const void *arg, json_t **out)
{
    const struct window *w = arg;
    if (!oz_req_read_store(r))
        return -1;
    int rc = oz_store_throughput_json(r->store, now_s(), (int)w->bucket, (int)w->n, out);
    if (rc != OZ_SCHED_OK) {
        oz_reply_store(r, rc, "reading failed");
        return -1;
    }
    return 0;
}

enum MHD_Result oz_api_throughput(oz_req *r)
{
    static const char *const allowed[] = {"bucket", "n", NULL};
    struct window w;
    if (oz_req_args_check(r, allowed) < 0 || int_arg(r, "bucket", 60, 86400, 3600, &w.bucket) < 0 ||
        int_arg(r, "n", 1, 500, 48, &w.n) < 0)
        return r->ret;
    char key[64];
    snprintf(key, sizeof key, "throughput?bucket=%ld&n=%ld", w.bucket, w.n);
    return oz_reply_cached(r, key, throughput_make, &w);
}

enum MHD_Result oz_api_hosts_list(oz_req *r)
{
    static const char *const allowed[] = {"order", "limit", "after", NULL};
    int limit;
    const char *after;
    bool by_recent;
    if (oz_req_args_check(r, allowed) < 0 || oz_req_args_page(r, &limit, &after) < 0 ||
        order_arg(r, &by_recent) < 0 || !oz_req_read_store(r))
        return r->ret;
    json_t *o = NULL;
    int rc = oz_store_hosts_json(r->store, by_recent, limit, after, now_s(), &o);
    return reply_read(r, rc, o, "hosts");
}

static enum MHD_Result credit(oz_req *r, oz_credit_owner kind, const char *what)
{
    static const char *const allowed[] = {"days", NULL};
    long days;
    if (oz_req_args_check(r, allowed) < 0 || int_arg(r, "days", 1, 3650, 90, &days) < 0 ||
        !oz_req_read_store(r))
        return r->ret;
    json_t *o = NULL;
    int rc = oz_store_credit_history_json(r->store, kind, r->id, now_s(), (int)days, &o);
    return reply_read(r, rc, o, what);
}

enum MHD_Result oz_api_users_credit(oz_req *r)
{
    return credit(r, OZ_CREDIT_USER, "user");
}

enum MHD_Result oz_api_hosts_credit(oz_req *r)
{
    return credit(r, OZ_CREDIT_HOST, "host");
}

enum MHD_Result oz_api_teams_credit(oz_req *r)
{
    return credit(r, OZ_CREDIT_TEAM, "team");
}

static enum MHD_Result results(oz_req *r, bool of_host)
{
    static const char *const allowed[] = {"limit", "after", NULL};
    int limit;
    const char *after;
    if (oz_req_args_check(r, allowed) < 0 || oz_req_args_page(r, &limit, &after) < 0 ||
        !oz_req_read_store(r))
        return r->ret;
    json_t *o = NULL;
    int rc = oz_store_results_json(r->store, of_host, r->id, limit, after, &o);
    return reply_read(r, rc, o, of_host ? "host" : "user");
}

enum MHD_Result oz_api_users_results(oz_req *r)
{
    return results(r, false);
}

enum MHD_Result oz_api_hosts_results(oz_req *r)
{
    return results(r, true);
}

enum MHD_Result oz_api_signals_latest(oz_req *r)
{
    static const char *const allowed[] = {"limit", "min_score", NULL};
    long limit;
    double min_score = -DBL_MAX;
    if (oz_req_args_check(r, allowed) < 0 || int_arg(r, "limit", 1, 100, 10, &limit) < 0)
        return r->ret;
    const char *ms = oz_req_arg(r, "min_score");
    if (ms) {
        char *end;
        errno = 0;
        double v = strtod(ms, &end);
        if (end == ms || *end || errno || !isfinite(v))
            return oz_reply_error(r, 400, "min_score: \"%.20s\" is not a finite number", ms);
        min_score = v;
    }
    if (!oz_req_read_store(r))
        return r->ret;
    json_t *o = NULL;
    int rc = oz_store_signals_latest_json(r->store, (int)limit, min_score, &o);
    return reply_read(r, rc, o, "signals");
}

enum MHD_Result oz_api_server(oz_req *r)
{
    static const char *const allowed[] = {NULL};
    if (oz_req_args_check(r, allowed) < 0 || !oz_req_read_store(r))
        return r->ret;
    oz_server *srv = r->srv;
    int64_t now = now_s();
    json_t *o = NULL;
    int rc = oz_store_server_json(r->store, now, 10, srv->cfg.adaptive_trust_after, &o);
    if (rc != OZ_SCHED_OK)
        return reply_read(r, rc, NULL, "server");
    json_t *m = oz_metrics_json(srv->metrics);
    if (!m || json_object_update_new(o, m) ||
        json_object_set_new(o, "name", json_string(srv->cfg.name)) ||
        json_object_set_new(o, "now", json_integer(now)) ||
        json_object_set_new(o, "uptime_s", json_integer(now - srv->started)) ||
        json_object_set_new(o, "draining", json_boolean(atomic_load(&srv->draining))) ||
        json_object_set_new(o, "disk_full", json_boolean(oz_db_disk_full(srv->db))) ||
        json_object_set_new(o, "in_flight", json_integer(atomic_load(&srv->inflight))) ||
        json_object_set_new(o, "http_threads", json_integer(srv->cfg.http_threads)) ||
        json_object_set_new(o, "log_level", json_string(oz_log_level_name(srv->log_level))) ||
        json_object_set_new(o, "jobs", srv->jobs ? oz_jobs_health_json(srv->jobs) : json_null())) {
        json_decref(o);
        return oz_reply_error(r, 500, "out of memory");
    }
    return oz_reply_json(r, 200, o);
}

enum MHD_Result oz_api_metrics(oz_req *r)
{
    static const char *const allowed[] = {NULL};
    if (oz_req_args_check(r, allowed) < 0)
        return r->ret;
    oz_store_gauges g;
    char why[256];
    bool have = false;
    /* A database that cannot be read still leaves the counters to scrape
     * (ozma_database_up 0), and the failure is logged once per scrape. */
    if (!r->store && !(r->store = pthread_getspecific(r->srv->store_key))) {
        oz_store *s;
        if (oz_store_open(r->srv->db, &s, why, sizeof why) == OZ_SCHED_OK) {
            if (pthread_setspecific(r->srv->store_key, s) != 0)
                oz_store_close(s);
            else
                r->store = s;
        }
    }
    if (r->store && oz_store_gauges_read(r->store, now_s(), r->srv->cfg.adaptive_trust_after, &g,
                                         why, sizeof why) == OZ_SCHED_OK)
        have = true;
    else
        oz_log(r->srv->log_level, OZ_LOG_ERROR, "metrics: cannot read the database", "error",
               r->store ? why : "no connection", (const char *)NULL);
    char *text;
    size_t len;
    oz_job_health jobs[OZ_JOBS_COUNT];
    if (r->srv->jobs)
        oz_jobs_health(r->srv->jobs, jobs);
    if (oz_metrics_render(r->srv->metrics, atomic_load(&r->srv->inflight),
                          r->srv->jobs ? jobs : NULL, have ? &g : NULL, now_s(), &text, &len) != 0)
        return oz_reply_error(r, 500, "out of memory");
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(text);
        return r->ret = MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            "text/plain; version=0.0.4; charset=utf-8");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    return oz_reply_response(r, 200, resp);
}
