/*
 * api_work.c - the host's calls: asking for work, uploading a result,
 * reporting a failure (API.md "Work").
 *
 * POST /api/v1/work is the hot path (the load benchmark drives it at
 * 10^4 requests a second): one store call, and the assignments are
 * formatted straight into one buffer instead of through a jansson tree.
 * That is safe because every string in them is checked to be an id or hex
 * digits (nothing to escape); an assignment that is not is refused as a
 * server error rather than sent.
 *
 * A host returns its results either in its next work request (DESIGN.md
 * §4: the reports ride along, as in BOINC's scheduler RPC, so a visit is
 * one request, one wait for the writer and one fsync) or one by one with
 * PUT.  Either way the store checks each result in full before it takes
 * it: the replica must exist (404) and be this host's (403); the text must
 * pass the strict result parser (run in the request's thread) and fit the
 * unit as the database describes it (400, checked in the writer against
 * the rows it reads anyway: a read of its own here took 20 us of CPU, a
 * tenth of the request's); only then is it accepted with the SHA-256 of the
 * exact text, which is what makes a repeated report recognisable (accepted
 * again, counted once, by either way) and a different one a conflict
 * (409).  In a work request each result stands alone: a refused one is
 * named in the reply's "results" with its status, and the others and the
 * assignments go ahead.
 *
 * A work request may also list the replicas the host holds ("held"): the
 * store then sends again those it has in progress on the host and the host
 * does not list, lost with an earlier reply (BOINC's "resend lost
 * results"; store.h, oz_store_visit_held).  Without the list (an older
 * worker) nothing is sent again.
 *
 * An error report saying the unit's download did not match its SHA-256
 * makes the server hash its own copy (unit_check.h): a bad copy withholds
 * the unit and is logged at error level for the operator, and the host's
 * report does not count against the unit.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "sched_errors.h"
#include "text.h"
#include "unit_check.h"

#define WANT_SECONDS_MAX 864000.0

/* {"assignments":[...],"results":RESULTS,"next_rpc_delay":N} into a
 * malloc'd buffer; RESULTS (JSON text) only when results is not NULL.  Each
 * url is units_url + NAME.ozwu, or /units/NAME.ozwu when units_url is ""
 * (project.h: it holds no character JSON would have to escape). */
static char *work_reply(const oz_assignment *a, size_t n, const char *results, int delay,
                        const char *units_url, size_t *len)
{
    const char *base = *units_url ? units_url : "/units/";
    /* per assignment: keys and punctuation ~120, ids <= 2 * 103, hex 64,
     * five numbers <= 20 each, the base of the url */
    size_t cap = 64 + n * (120 + 2 * (OZ_WU_ID_MAX + 8) + 64 + 5 * 21 + strlen(base)) +
                 (results ? strlen(results) + 16 : 0);
    char *buf = malloc(cap);
    if (!buf)
        return NULL;
    size_t off = 0;
    int k = snprintf(buf, cap, "{\"assignments\":[");
    off += (size_t)k;
    for (size_t i = 0; i < n; i++) {
        k = snprintf(buf + off, cap - off,
                     "%s{\"replica_id\":%" PRId64 ",\"unit_id\":\"%s\",\"url\":\"%s%s\","
                     "\"bytes\":%" PRIu64 ",\"sha256\":\"%s\",\"deadline\":%" PRId64
                     ",\"flops\":%" PRIu64 "}",
                     i ? "," : "", a[i].replica_id, a[i].unit_id, base, a[i].file, a[i].bytes,
                     a[i].sha256, a[i].deadline, a[i].flops);
        if (k < 0 || (size_t)k >= cap - off)
            goto fail;
        off += (size_t)k;
    }
    k = snprintf(buf + off, cap - off, "],%s%s%s\"next_rpc_delay\":%d}",
                 results ? "\"results\":" : "", results ? results : "", results ? "," : "", delay);
    if (k < 0 || (size_t)k >= cap - off)
        goto fail;
    *len = off + (size_t)k;
    return buf;
fail:
    free(buf);
    return NULL;
}

/* A store error as the sentence a reply carries (oz_reply_store's words). */
static void store_why(int rc, const char *sub, char *why, size_t whylen)
{
    const char *m = *sub ? sub : oz_sched_strerror(rc);
    unsigned status = oz_reply_store_status(rc);
    if (status == 503)
        snprintf(why, whylen, "the database is busy: %s", m);
    else if (status == 500)
        snprintf(why, whylen, "%s: %s", oz_sched_strerror(rc), m);
    else
        snprintf(why, whylen, "%s", m);
}

/* The SHA-256 of a result's exact text, which the store keeps to know a
 * re-sent result.  The store checks the rest (API.md): the replica exists
 * (404) and was sent to this host (403); the text passes the strict result
 * parser, in this thread, and fits the unit (400).  Returns 0, or 500. */
static unsigned result_sha(const char *text, size_t len, unsigned char sha[32], char *why,
                           size_t whylen)
{
    if (oz_wu_sha256(text, len, sha) != OZ_WU_OK) {
        snprintf(why, whylen, "out of memory");
        return 500;
    }
    return 0;
}

/* What became of one result carried in a work request. */
typedef struct reported {
    int64_t replica_id;
    const char *text;
    size_t len;
    unsigned status; /* 0: accepted */
    char why[640];   /* the store's why (512) with a prefix */
} reported;

/* The body's "results": [{"replica_id": N, "result": "TEXT"}, ...] into
 * rep (at most OZ_WORK_RESULTS_MAX, each replica once).  0, 1 when absent,
 * or -1 with a 400 queued. */
static int results_read(oz_req *r, const json_t *o, reported *rep, size_t *n)
{
    *n = 0;
    const json_t *list = json_object_get(o, "results");
    if (!list)
        return 1;
    if (!json_is_array(list) || json_array_size(list) > OZ_WORK_RESULTS_MAX) {
        oz_reply_error(r, 400, "results: expected an array of at most %d results",
                       OZ_WORK_RESULTS_MAX);
        return -1;
    }
    size_t i;
    const json_t *item;
    json_array_foreach(list, i, item)
    {
        const json_t *id = json_object_get(item, "replica_id");
        const json_t *text = json_object_get(item, "result");
        if (!json_is_object(item) || json_object_size(item) != 2 || !json_is_integer(id) ||
            json_integer_value(id) < 1 || !json_is_string(text)) {
            oz_reply_error(r, 400,
                           "results[%zu]: expected {\"replica_id\": N, \"result\": \"the result "
                           "file's text\"}",
                           i);
            return -1;
        }
        reported *p = &rep[i];
        memset(p, 0, sizeof *p);
        p->replica_id = json_integer_value(id);
        p->text = json_string_value(text);
        p->len = json_string_length(text);
        for (size_t j = 0; j < i; j++) {
            if (rep[j].replica_id == p->replica_id) {
                oz_reply_error(r, 400, "results[%zu]: replica %" PRId64 " is reported twice", i,
                               p->replica_id);
                return -1;
            }
        }
    }
    *n = json_array_size(list);
    return 0;
}

/* The body's "held": [REPLICA_ID, ...] (the replicas the host holds; at
 * most OZ_WORK_HELD_MAX positive integers) into a malloc'd *out.  0, 1 when
 * absent, or -1 with a 400 queued (or a 500 when out of memory). */
static int held_read(oz_req *r, const json_t *o, int64_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    const json_t *list = json_object_get(o, "held");
    if (!list)
        return 1;
    if (!json_is_array(list) || json_array_size(list) > OZ_WORK_HELD_MAX) {
        oz_reply_error(r, 400, "held: expected an array of at most %d replica ids",
                       OZ_WORK_HELD_MAX);
        return -1;
    }
    size_t i, len = json_array_size(list);
    int64_t *ids = malloc((len ? len : 1) * sizeof *ids);
    if (!ids) {
        oz_reply_error(r, 500, "out of memory");
        return -1;
    }
    const json_t *item;
    json_array_foreach(list, i, item)
    {
        if (!json_is_integer(item) || json_integer_value(item) < 1) {
            free(ids);
            oz_reply_error(r, 400, "held[%zu]: expected a replica id (a positive integer)", i);
            return -1;
        }
        ids[i] = json_integer_value(item);
    }
    *out = ids;
    *n = len;
    return 0;
}

/* The reply's "results": [{"replica_id", "accepted": true} or
 * {"replica_id", "accepted": false, "error": {"status", "code", "message"}}]
 * as JSON text (malloc'd), each refusal logged as a failed upload is. */
static char *results_reply(oz_req *r, const reported *rep, size_t n)
{
    json_t *list = json_array();
    for (size_t i = 0; list && i < n; i++) {
        const reported *p = &rep[i];
        char why[sizeof p->why]; /* it may quote the host's bytes: valid UTF-8 for JSON */
        oz_reply_clean(why, sizeof why, p->why);
        json_t *e =
            p->status
                ? json_pack("{s:I, s:b, s:{s:i, s:s, s:s}}", "replica_id",
                            (json_int_t)p->replica_id, "accepted", 0, "error", "status",
                            (int)p->status, "code", oz_reply_code(p->status), "message", why)
                : json_pack("{s:I, s:b}", "replica_id", (json_int_t)p->replica_id, "accepted", 1);
        if (!e || json_array_append_new(list, e) != 0) {
            json_decref(list);
            return NULL;
        }
        if (p->status) {
            char id[24], st[8];
            snprintf(id, sizeof id, "%" PRId64, p->replica_id);
            snprintf(st, sizeof st, "%u", p->status);
            oz_log(r->srv->log_level, p->status >= 500 ? OZ_LOG_ERROR : OZ_LOG_INFO,
                   "reported result refused", "replica", id, "status", st, "error", why,
                   (const char *)NULL);
        }
    }
    char *text = list ? json_dumps(list, JSON_COMPACT) : NULL;
    json_decref(list);
    return text;
}

/* A work request or an upload while the writer has it (r->work). */
typedef struct visit_state {
    json_t *body;     /* the parsed body, which rep's texts point into */
    reported *rep;    /* the results reported, with what became of them */
    oz_result_in *in; /* those passed to the store */
    size_t nrep, nin;
    oz_visit *visit;
} visit_state;

static void visit_state_free(void *p)
{
    visit_state *w = p;
    if (!w)
        return;
    oz_store_visit_free(w->visit);
    free(w->in);
    free(w->rep);
    json_decref(w->body);
    free(w);
}

/* Hands r's visit to the writer; the reply comes from then(r) once it is
 * done (oz_req_suspend), or at once while the server stops. */
static enum MHD_Result visit_submit(oz_req *r, visit_state *w, oz_handler then)
{
    r->work = w;
    r->work_free = visit_state_free;
    if (oz_req_suspend(r, then)) {
        oz_store_visit_submit(r->store, w->visit, oz_req_resume, r);
        return MHD_YES;
    }
    oz_store_visit_wait(r->store, w->visit);
    return then(r);
}

/* Results that became new (not re-sent) counted and announced to the jobs. */
static void results_arrived(oz_req *r, uint64_t fresh, bool in_work)
{
    if (fresh && r->srv->metrics)
        oz_metrics_results(r->srv->metrics, in_work, fresh);
    if (fresh && r->srv->jobs)
        oz_jobs_kick(r->srv->jobs);
}

/* The second half of a work request: the reply once the writer is done. */
static enum MHD_Result work_done(oz_req *r)
{
    visit_state *w = r->work;
    oz_assignment a[OZ_WORK_BATCH_MAX];
    size_t n = 0;
    char why[256] = "";
    int rc = oz_store_visit_end(w->visit, a, &n, why, sizeof why);
    uint64_t fresh = 0;
    for (size_t i = 0, j = 0; i < w->nrep; i++) {
        if (w->rep[i].status)
            continue;
        oz_result_in *q = &w->in[j++];
        fresh += q->rc == OZ_SCHED_OK && !q->duplicate;
        if (q->rc != OZ_SCHED_OK) {
            w->rep[i].status = oz_reply_store_status(q->rc);
            store_why(q->rc, q->why, w->rep[i].why, sizeof w->rep[i].why);
        }
    }
    results_arrived(r, fresh, true);
    if (rc != 0) /* the results it took count; the host sends them again */
        return oz_reply_store(r, rc, why);
    for (size_t i = 0; i < n; i++) {
        if (!oz_wu_id_valid(a[i].unit_id, OZ_WU_ID_MAX) || !oz_units_file_name_valid(a[i].file) ||
            !oz_wu_hex64_valid(a[i].sha256))
            return oz_reply_error(r, 500, "replica %" PRId64 " has a malformed unit row",
                                  a[i].replica_id);
    }
    char *results = NULL;
    if (w->rep && !(results = results_reply(r, w->rep, w->nrep)))
        return oz_reply_error(r, 500, "out of memory");
    size_t len = 0;
    char *text = work_reply(a, n, results, r->srv->cfg.next_rpc_delay, r->srv->cfg.units_url, &len);
    free(results);
    return text ? oz_reply_text(r, 200, text, len) : oz_reply_error(r, 500, "out of memory");
}

enum MHD_Result oz_api_work(oz_req *r)
{
    static const char *const keys[] = {"want_seconds", "results", "held", NULL};
    double want = 0;
    int64_t *held = NULL;
    size_t nheld = 0;
    int listed = 1; /* held_read: 0 when the host listed what it holds */
    visit_state *w = calloc(1, sizeof *w);
    if (!w)
        return oz_reply_error(r, 500, "out of memory");
    if (!(w->body = oz_req_json(r, OZ_REQ_ALLOW_NUL, keys))) /* a result's NUL is its own 400 */
        goto out_replied;
    if (oz_req_num(r, w->body, "want_seconds", true, 0, WANT_SECONDS_MAX, &want) < 0 ||
        (listed = held_read(r, w->body, &held, &nheld)) < 0)
        goto out_replied;
    const json_t *list = json_object_get(w->body, "results");
    if (list) {
        size_t most = json_is_array(list) ? json_array_size(list) : 0;
        most = most < OZ_WORK_RESULTS_MAX ? most : OZ_WORK_RESULTS_MAX;
        w->rep = calloc(most + 1, sizeof *w->rep);
        w->in = calloc(most + 1, sizeof *w->in);
        if (!w->rep || !w->in) {
            oz_reply_error(r, 500, "out of memory");
            goto out_replied;
        }
        if (results_read(r, w->body, w->rep, &w->nrep) < 0)
            goto out_replied;
    }
    for (size_t i = 0; i < w->nrep; i++) {
        reported *p = &w->rep[i];
        oz_result_in *q = &w->in[w->nin];
        p->status = result_sha(p->text, p->len, q->sha256, p->why, sizeof p->why);
        if (p->status)
            continue;
        q->replica_id = p->replica_id;
        q->json = p->text;
        q->len = p->len;
        w->nin++;
    }
    const oz_project_config *cfg = &r->srv->cfg;
    const oz_dispatch_limits lim = {.per_cpu = cfg->max_in_progress_per_cpu,
                                    .ncpus_max = cfg->max_ncpus,
                                    .new_host_ncpus = cfg->new_host_ncpus,
                                    .daily_per_cpu = cfg->daily_result_quota,
                                    .trust = {.trust_after = cfg->adaptive_trust_after,
                                              .replicate_floor = cfg->adaptive_replicate_floor}};
    char why[256] = "";
    int rc = oz_store_visit_new(&r->host, w->in, w->nin, true, want, &lim, (int64_t)time(NULL),
                                OZ_WORK_BATCH_MAX, &w->visit, why, sizeof why);
    if (rc == 0 && listed == 0 && oz_store_visit_held(w->visit, held, nheld) != 0)
        rc = oz_sched_fail(OZ_SCHED_ENOMEM, why, sizeof why, "out of memory");
    if (rc != 0) {
        oz_reply_store(r, rc, why);
        goto out_replied;
    }
    free(held);
    return visit_submit(r, w, work_done);
out_replied:
    free(held);
    visit_state_free(w);
    return r->ret;
}

/* The second half of an upload: the reply once the writer is done. */
static enum MHD_Result upload_done(oz_req *r)
{
    visit_state *w = r->work;
    size_t n;
    char why[256] = "";
    oz_store_visit_end(w->visit, NULL, &n, why, sizeof why); /* no dispatch: its rc is 0 */
    const oz_result_in *q = &w->in[0];
    if (q->rc != 0)
        return oz_reply_store(r, q->rc, q->why);
    results_arrived(r, !q->duplicate, false);
    return oz_reply_json(r, 200,
                         json_pack("{s:I, s:b}", "replica_id", (json_int_t)r->id, "accepted", 1));
}

enum MHD_Result oz_api_result_put(oz_req *r)
{
    char why[512] = "";
    visit_state *w = calloc(1, sizeof *w);
    if (!w || !(w->in = calloc(1, sizeof *w->in))) {
        visit_state_free(w);
        return oz_reply_error(r, 500, "out of memory");
    }
    oz_result_in *q = w->in;
    *q = (oz_result_in){.replica_id = r->id, .json = r->body, .len = r->len};
    unsigned status = result_sha(r->body, r->len, q->sha256, why, sizeof why);
    int rc = status ? 0
                    : oz_store_visit_new(&r->host, q, 1, false, 0, NULL, (int64_t)time(NULL), 0,
                                         &w->visit, why, sizeof why);
    if (status || rc) {
        visit_state_free(w);
        return status ? oz_reply_error(r, status, "%s", why) : oz_reply_store(r, rc, why);
    }
    return visit_submit(r, w, upload_done);
}

/* A host says replica r->id's download did not match its SHA-256: the
 * server hashes its own copy of the unit file (once: only for a replica
 * still in progress on this host, of a unit not already marked), and marks
 * the unit's file bad when it does not match, with an error-level line for
 * the operator (unit_check.h).  A failure here is logged and does not
 * stand in the way of the report. */
static void unit_file_recheck(oz_req *r)
{
    oz_unit_file f;
    char reason[400], why[256] = "";
    if (oz_store_replica_unit_file(r->store, r->id, r->host.host_id, &f, why, sizeof why) != 0 ||
        f.bad)
        return;
    int rc = oz_unit_check_file(r->srv->units_fd, f.file, f.sha256, reason, sizeof reason);
    char replica[24];
    snprintf(replica, sizeof replica, "%" PRId64, r->id);
    if (rc == 0) {
        oz_log(r->srv->log_level, OZ_LOG_INFO,
               "a host's unit download did not verify; the file does", "unit", f.unit_id, "replica",
               replica, (const char *)NULL);
        return;
    }
    if (rc == 1)
        rc = oz_store_unit_file_mark(r->store, f.unit_rowid, reason, (int64_t)time(NULL), why,
                                     sizeof why);
    if (rc == 0)
        oz_log(r->srv->log_level, OZ_LOG_ERROR,
               "unit file does not match its SHA-256; the unit is withheld until it does "
               "(ozma-server verify)",
               "unit", f.unit_id, "dataset", f.dataset, "replica", replica, "error", reason,
               (const char *)NULL);
    else
        oz_log(r->srv->log_level, OZ_LOG_ERROR, "checking a unit file failed", "unit", f.unit_id,
               "error", rc == OZ_SCHED_ENOMEM ? "out of memory" : why, (const char *)NULL);
}

enum MHD_Result oz_api_error_post(oz_req *r)
{
    static const char *const keys[] = {"message", NULL};
    const char *msg = NULL;
    json_t *o = oz_req_json(r, 0, keys);
    if (!o)
        return r->ret;
    enum MHD_Result ret;
    if (oz_req_str(r, o, "message", true, OZ_TEXT_MESSAGE_MAX, &msg) < 0) {
        ret = r->ret;
        goto out;
    }
    char why[256] = "";
    bool mismatch = oz_unit_check_reported(msg);
    if (mismatch)
        unit_file_recheck(r);
    int rc = oz_store_replica_error(r->store, r->id, r->host.host_id, msg, mismatch,
                                    (int64_t)time(NULL), why, sizeof why);
    if (rc != 0) {
        ret = oz_reply_store(r, rc, why);
        goto out;
    }
    if (r->srv->jobs)
        oz_jobs_kick(r->srv->jobs);
    ret = oz_reply_json(r, 200, json_pack("{s:I}", "replica_id", (json_int_t)r->id));
out:
    json_decref(o);
    return ret;
}
