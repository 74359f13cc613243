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
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "sched_errors.h"
#include "text.h"

#define WANT_SECONDS_MAX 864000.0

static bool hex64(const char *s)
{
    size_t i = 0;
    for (; s[i]; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return i == 64;
}

/* {"assignments":[...],"results":RESULTS,"next_rpc_delay":N} into a
 * malloc'd buffer; RESULTS (JSON text) only when results is not NULL. */
static char *work_reply(const oz_assignment *a, size_t n, const char *results, int delay,
                        size_t *len)
{
    /* per assignment: keys and punctuation ~120, ids <= 2 * 103, hex 64,
     * five numbers <= 20 each */
    size_t cap = 64 + n * (120 + 2 * (OZ_WU_ID_MAX + 8) + 64 + 5 * 21) +
                 (results ? strlen(results) + 16 : 0);
    char *buf = malloc(cap);
    if (!buf)
        return NULL;
    size_t off = 0;
    int k = snprintf(buf, cap, "{\"assignments\":[");
    off += (size_t)k;
    for (size_t i = 0; i < n; i++) {
        k = snprintf(buf + off, cap - off,
                     "%s{\"replica_id\":%" PRId64 ",\"unit_id\":\"%s\",\"url\":\"/units/%s\","
                     "\"bytes\":%" PRIu64 ",\"sha256\":\"%s\",\"deadline\":%" PRId64
                     ",\"flops\":%" PRIu64 "}",
                     i ? "," : "", a[i].replica_id, a[i].unit_id, a[i].file, a[i].bytes,
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
    char why[512];
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

enum MHD_Result oz_api_work(oz_req *r)
{
    static const char *const keys[] = {"want_seconds", "results", NULL};
    double want = 0;
    json_t *o = oz_req_json(r, OZ_REQ_ALLOW_NUL, keys); /* a result's NUL is its own 400 */
    if (!o)
        return r->ret;
    enum MHD_Result ret = r->ret;
    reported *rep = NULL;
    oz_result_in *in = NULL;
    char *results = NULL;
    size_t nrep = 0, nin = 0;
    if (oz_req_num(r, o, "want_seconds", true, 0, WANT_SECONDS_MAX, &want) < 0)
        goto out_replied;
    if (json_object_get(o, "results")) {
        rep = calloc(OZ_WORK_RESULTS_MAX, sizeof *rep);
        in = calloc(OZ_WORK_RESULTS_MAX, sizeof *in);
        if (!rep || !in) {
            ret = oz_reply_error(r, 500, "out of memory");
            goto out;
        }
    }
    if (rep && results_read(r, o, rep, &nrep) < 0)
        goto out_replied;
    for (size_t i = 0; i < nrep; i++) {
        reported *p = &rep[i];
        oz_result_in *q = &in[nin];
        p->status = result_sha(p->text, p->len, q->sha256, p->why, sizeof p->why);
        if (p->status)
            continue;
        q->replica_id = p->replica_id;
        q->json = p->text;
        q->len = p->len;
        nin++;
    }

    const oz_project_config *cfg = &r->srv->cfg;
    int cap = cfg->max_in_progress_per_cpu * r->host.ncpus;
    oz_assignment a[OZ_WORK_BATCH_MAX];
    size_t n = 0;
    char why[256] = "";
    int rc = oz_store_work_report(r->store, &r->host, in, nin, want, cap, (int64_t)time(NULL), a,
                                  OZ_WORK_BATCH_MAX, &n, why, sizeof why);
    uint64_t fresh = 0;
    for (size_t i = 0, j = 0; i < nrep; i++) {
        if (rep[i].status)
            continue;
        oz_result_in *q = &in[j++];
        fresh += q->rc == OZ_SCHED_OK && !q->duplicate;
        if (q->rc != OZ_SCHED_OK) {
            rep[i].status = oz_reply_store_status(q->rc);
            store_why(q->rc, q->why, rep[i].why, sizeof rep[i].why);
        }
    }
    if (fresh && r->srv->metrics)
        oz_metrics_results(r->srv->metrics, true, fresh);
    if (fresh && r->srv->jobs)
        oz_jobs_kick(r->srv->jobs);
    if (rc != 0) { /* the results it took count; the host sends them again */
        ret = oz_reply_store(r, rc, why);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (!oz_wu_id_valid(a[i].unit_id, OZ_WU_ID_MAX) || !oz_units_file_name_valid(a[i].file) ||
            !hex64(a[i].sha256)) {
            ret = oz_reply_error(r, 500, "replica %" PRId64 " has a malformed unit row",
                                 a[i].replica_id);
            goto out;
        }
    }
    if (rep && !(results = results_reply(r, rep, nrep))) {
        ret = oz_reply_error(r, 500, "out of memory");
        goto out;
    }
    size_t len = 0;
    char *text = work_reply(a, n, results, cfg->next_rpc_delay, &len);
    ret = text ? oz_reply_text(r, 200, text, len) : oz_reply_error(r, 500, "out of memory");
    goto out;
out_replied:
    ret = r->ret;
out:
    free(results);
    free(in);
    free(rep);
    json_decref(o);
    return ret;
}

enum MHD_Result oz_api_result_put(oz_req *r)
{
    char why[512] = "";
    unsigned char sha[32];
    unsigned status = result_sha(r->body, r->len, sha, why, sizeof why);
    if (status)
        return oz_reply_error(r, status, "%s", why);
    bool dup = false;
    int rc = oz_store_result_accept(r->store, r->id, r->host.host_id, r->body, r->len, sha,
                                    (int64_t)time(NULL), &dup, why, sizeof why);
    if (rc != 0)
        return oz_reply_store(r, rc, why);
    if (!dup && r->srv->metrics)
        oz_metrics_results(r->srv->metrics, false, 1);
    if (!dup && r->srv->jobs)
        oz_jobs_kick(r->srv->jobs);
    return oz_reply_json(r, 200,
                         json_pack("{s:I, s:b}", "replica_id", (json_int_t)r->id, "accepted", 1));
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
    int rc = oz_store_replica_error(r->store, r->id, r->host.host_id, msg, (int64_t)time(NULL), why,
                                    sizeof why);
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
