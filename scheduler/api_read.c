/*
 * api_read.c - the read-only GETs for the web pages and `ozma-worker
 * status` (API.md "Read-only"): no authentication, nothing written; each
 * client address has a bucket of reads (http.c), and the status, which
 * counts the day's replicas, comes from the server's cache (cache.h) when
 * it was made less than read_cache_s ago.
 *
 * Query parameters are validated strictly before the store is asked: an
 * unknown parameter, a limit outside 1..500, a min_score that is not a
 * finite number, a dataset that is not a valid id or an unknown signal
 * type is a 400 naming it.  The JSON objects themselves come whole from the
 * store (oz_store_*_json).
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "sched_errors.h"

#define CURSOR_MAX 64

struct args {
    const char *const *allowed;
    const char *bad; /* the first unknown key, or NULL */
};

static enum MHD_Result each_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
    (void)kind, (void)value;
    struct args *a = cls;
    for (size_t i = 0; a->allowed[i]; i++)
        if (strcmp(a->allowed[i], key) == 0)
            return MHD_YES;
    a->bad = key;
    return MHD_NO;
}

int oz_req_args_check(oz_req *r, const char *const *allowed)
{
    struct args a = {allowed, NULL};
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, each_arg, &a);
    if (a.bad) {
        oz_reply_error(r, 400, "unknown query parameter \"%.40s\"", a.bad);
        return -1;
    }
    return 0;
}

const char *oz_req_arg(oz_req *r, const char *key)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

int oz_http_int_parse(const char *v, long min, long max, long *out)
{
    if (v[0] < '0' || v[0] > '9') /* strtol would take a sign and leading white space */
        return -1;
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (*end || errno || x < min || x > max)
        return -1;
    *out = x;
    return 0;
}

bool oz_http_cursor_valid(const char *s)
{
    size_t n = strnlen(s, CURSOR_MAX + 1);
    bool ok = n >= 1 && n <= CURSOR_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = s[i] > 0x20 && s[i] < 0x7f;
    return ok;
}

int oz_req_args_page(oz_req *r, int *limit, const char **after)
{
    const char *l = oz_req_arg(r, "limit");
    *limit = 50;
    if (l) {
        long v;
        if (oz_http_int_parse(l, 1, 500, &v) != 0) {
            oz_reply_error(r, 400, "limit: \"%.20s\" is not an integer in 1..500", l);
            return -1;
        }
        *limit = (int)v;
    }
    *after = oz_req_arg(r, "after");
    if (*after && !oz_http_cursor_valid(*after)) {
        oz_reply_error(r, 400, "after: not a cursor from a previous \"next\"");
        return -1;
    }
    return 0;
}

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

int oz_api_status_make(oz_req *r, const void *arg, json_t **out)
{
    (void)arg;
    if (!oz_req_read_store(r))
        return -1;
    json_t *o = NULL;
    int rc =
        oz_store_status_json(r->store, (int64_t)time(NULL), r->srv->cfg.adaptive_trust_after, &o);
    if (rc != OZ_SCHED_OK) {
        oz_reply_store(r, rc, "reading failed");
        return -1;
    }
    if (json_object_set_new(o, "name", json_string(r->srv->cfg.name))) {
        json_decref(o);
        oz_reply_error(r, 500, "out of memory");
        return -1;
    }
    *out = o;
    return 0;
}

enum MHD_Result oz_api_status(oz_req *r)
{
    static const char *const allowed[] = {NULL};
    if (oz_req_args_check(r, allowed) < 0)
        return r->ret;
    return oz_reply_cached(r, "status", oz_api_status_make, NULL);
}

enum MHD_Result oz_api_users_list(oz_req *r)
{
    static const char *const allowed[] = {"order", "limit", "after", NULL};
    int limit;
    const char *after;
    if (oz_req_args_check(r, allowed) < 0 || oz_req_args_page(r, &limit, &after) < 0)
        return r->ret;
    const char *order = oz_req_arg(r, "order");
    bool by_recent = false;
    if (order && strcmp(order, "rac") == 0)
        by_recent = true;
    else if (order && strcmp(order, "total") != 0)
        return oz_reply_error(r, 400, "order: must be \"total\" or \"rac\"");
    if (!oz_req_read_store(r))
        return r->ret;
    json_t *o = NULL;
    int rc = oz_store_users_json(r->store, by_recent, limit, after, (int64_t)time(NULL), &o);
    return reply_read(r, rc, o, "users");
}

enum MHD_Result oz_api_users_get(oz_req *r)
{
    static const char *const allowed[] = {NULL};
    if (oz_req_args_check(r, allowed) < 0 || !oz_req_read_store(r))
        return r->ret;
    json_t *o = NULL;
    int rc = oz_store_user_json(r->store, r->id, (int64_t)time(NULL), &o);
    return reply_read(r, rc, o, "user");
}

enum MHD_Result oz_api_hosts_get(oz_req *r)
{
    static const char *const allowed[] = {NULL};
    if (oz_req_args_check(r, allowed) < 0 || !oz_req_read_store(r))
        return r->ret;
    json_t *o = NULL;
    int rc = oz_store_host_json(r->store, r->id, (int64_t)time(NULL), &o);
    return reply_read(r, rc, o, "host");
}

enum MHD_Result oz_api_teams_list(oz_req *r)
{
    static const char *const allowed[] = {"order", "limit", "after", NULL};
    int limit;
    const char *after;
    if (oz_req_args_check(r, allowed) < 0 || oz_req_args_page(r, &limit, &after) < 0)
        return r->ret;
    const char *order = oz_req_arg(r, "order");
    bool by_recent = false;
    if (order && strcmp(order, "rac") == 0)
        by_recent = true;
    else if (order && strcmp(order, "total") != 0)
        return oz_reply_error(r, 400, "order: must be \"total\" or \"rac\"");
    if (!oz_req_read_store(r))
        return r->ret;
    json_t *o = NULL;
    int rc = by_recent ? oz_store_teams_rac_json(r->store, limit, after, (int64_t)time(NULL), &o)
                       : oz_store_teams_json(r->store, limit, after, (int64_t)time(NULL), &o);
    return reply_read(r, rc, o, "teams");
}

enum MHD_Result oz_api_teams_get(oz_req *r)
{
    static const char *const allowed[] = {NULL};
    if (oz_req_args_check(r, allowed) < 0 || !oz_req_read_store(r))
        return r->ret;
    json_t *o = NULL;
    int rc = oz_store_team_json(r->store, r->id, (int64_t)time(NULL), &o);
    return reply_read(r, rc, o, "team");
}

enum MHD_Result oz_api_signals(oz_req *r)
{
    static const char *const allowed[] = {"dataset", "min_score", "type", "limit", "after", NULL};
    oz_signal_query q = {.min_score = -DBL_MAX};
    if (oz_req_args_check(r, allowed) < 0 || oz_req_args_page(r, &q.limit, &q.after) < 0)
        return r->ret;
    q.dataset = oz_req_arg(r, "dataset");
    if (q.dataset && !oz_wu_id_valid(q.dataset, OZ_WU_DATASET_MAX))
        return oz_reply_error(r, 400, "dataset: not a valid dataset id");
    q.type = oz_req_arg(r, "type");
    oz_sig_type t;
    if (q.type && oz_sig_type_parse(q.type, &t) != OZ_SCI_OK)
        return oz_reply_error(r, 400, "type: not a signal type");
    const char *ms = oz_req_arg(r, "min_score");
    if (ms) {
        char *end;
        errno = 0;
        double v = strtod(ms, &end);
        if (end == ms || *end || errno || !isfinite(v))
            return oz_reply_error(r, 400, "min_score: \"%.20s\" is not a finite number", ms);
        q.min_score = v;
    }
    if (!oz_req_read_store(r))
        return r->ret;
    json_t *o = NULL;
    int rc = oz_store_signals_json(r->store, &q, &o);
    return reply_read(r, rc, o, "signals");
}

enum MHD_Result oz_api_candidates(oz_req *r)
{
    static const char *const allowed[] = {"order", "rfi",   "dataset", "pixel",
                                          "limit", "after", NULL};
    oz_cand_query q = {.rfi = -1, .pixel = -1};
    if (oz_req_args_check(r, allowed) < 0 || oz_req_args_page(r, &q.limit, &q.after) < 0)
        return r->ret;
    const char *order = oz_req_arg(r, "order"), *rfi = oz_req_arg(r, "rfi"),
               *pixel = oz_req_arg(r, "pixel");
    if (order && strcmp(order, "score") != 0)
        return oz_reply_error(r, 400, "order: only \"score\"");
    if (rfi && strcmp(rfi, "0") != 0 && strcmp(rfi, "1") != 0)
        return oz_reply_error(r, 400, "rfi: 0 (unflagged) or 1 (flagged)");
    if (rfi)
        q.rfi = rfi[0] - '0';
    q.dataset = oz_req_arg(r, "dataset");
    if (q.dataset && !oz_wu_id_valid(q.dataset, OZ_WU_DATASET_MAX))
        return oz_reply_error(r, 400, "dataset: not a valid dataset id");
    if (pixel) {
        char *end;
        errno = 0;
        long long v = strtoll(pixel, &end, 10);
        if (end == pixel || *end || errno || v < 0 ||
            v >= 12LL * OZ_WU_NSIDE_MAX * OZ_WU_NSIDE_MAX)
            return oz_reply_error(r, 400, "pixel: \"%.20s\" is not a HEALPix pixel number", pixel);
        q.pixel = v;
    }
    if (!oz_req_read_store(r))
        return r->ret;
    json_t *o = NULL;
    int rc = oz_store_candidates_json(r->store, &q, &o);
    return reply_read(r, rc, o, "candidates");
}

enum MHD_Result oz_api_candidate_get(oz_req *r)
{
    static const char *const allowed[] = {NULL};
    if (oz_req_args_check(r, allowed) < 0 || !oz_req_read_store(r))
        return r->ret;
    json_t *o = NULL;
    int rc = oz_store_candidate_json(r->store, r->id, &o);
    return reply_read(r, rc, o, "candidate");
}
