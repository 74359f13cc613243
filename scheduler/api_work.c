/*
 * api_work.c - the host's calls: asking for work, uploading a result,
 * reporting a failure (API.md "Work").
 *
 * POST /api/v1/work is the hot path (the load benchmark drives it at
 * 10^4 requests a second): one store call, and the reply is formatted
 * straight into one buffer instead of through a jansson tree.  That is
 * safe because every string in it is checked to be an id or hex digits
 * (nothing to escape); an assignment that is not is refused as a server
 * error rather than sent.
 *
 * A result upload is checked in full before the store sees it: the replica
 * must exist (404) and be this host's (403); the body must pass the strict
 * result parser and fit the unit as the database describes it (400); only
 * then is it accepted with the SHA-256 of the exact bytes received, which
 * is what makes a repeated upload recognisable (200 again) and a different
 * one a conflict (409).
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

/* {"assignments":[...],"next_rpc_delay":N} into a malloc'd buffer. */
static char *work_reply(const oz_assignment *a, size_t n, int delay, size_t *len)
{
    /* per assignment: keys and punctuation ~120, ids <= 2 * 103, hex 64,
     * five numbers <= 20 each */
    size_t cap = 64 + n * (120 + 2 * (OZ_WU_ID_MAX + 8) + 64 + 5 * 21);
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
    k = snprintf(buf + off, cap - off, "],\"next_rpc_delay\":%d}", delay);
    if (k < 0 || (size_t)k >= cap - off)
        goto fail;
    *len = off + (size_t)k;
    return buf;
fail:
    free(buf);
    return NULL;
}

enum MHD_Result oz_api_work(oz_req *r)
{
    static const char *const keys[] = {"want_seconds", NULL};
    double want = 0;
    json_t *o = oz_req_json(r, false, keys);
    if (!o)
        return r->ret;
    int rc = oz_req_num(r, o, "want_seconds", true, 0, WANT_SECONDS_MAX, &want);
    json_decref(o);
    if (rc < 0)
        return r->ret;

    const oz_project_config *cfg = &r->srv->cfg;
    int cap = cfg->max_in_progress_per_cpu * r->host.ncpus;
    oz_assignment a[OZ_WORK_BATCH_MAX];
    size_t n = 0;
    char why[256] = "";
    rc = oz_store_work_assign(r->store, &r->host, want, cap, (int64_t)time(NULL), a,
                              OZ_WORK_BATCH_MAX, &n, why, sizeof why);
    if (rc != 0)
        return oz_reply_store(r, rc, why);
    for (size_t i = 0; i < n; i++)
        if (!oz_wu_id_valid(a[i].unit_id, OZ_WU_ID_MAX) || !oz_units_file_name_valid(a[i].file) ||
            !hex64(a[i].sha256))
            return oz_reply_error(r, 500, "replica %" PRId64 " has a malformed unit row",
                                  a[i].replica_id);
    size_t len = 0;
    char *text = work_reply(a, n, cfg->next_rpc_delay, &len);
    if (!text)
        return oz_reply_error(r, 500, "out of memory");
    return oz_reply_text(r, 200, text, len);
}

enum MHD_Result oz_api_result_put(oz_req *r)
{
    char why[512] = "";
    oz_replica_info info;
    int rc = oz_store_replica_get(r->store, r->id, &info, why, sizeof why);
    if (rc != 0)
        return oz_reply_store(r, rc, why);
    if (info.host_id != r->host.host_id)
        return oz_reply_error(r, 403, "replica %" PRId64 " was not sent to this host", r->id);

    oz_wu_result res;
    memset(&res, 0, sizeof res);
    if (oz_wu_result_parse(r->body, r->len, &res, why, sizeof why) != OZ_WU_OK)
        return oz_reply_error(r, 400, "result: %s", why);
    rc = oz_wu_result_check(&res, &info.unit, info.unit_sha256, why, sizeof why);
    oz_wu_result_clear(&res);
    if (rc != OZ_WU_OK)
        return oz_reply_error(r, 400, "result does not fit replica %" PRId64 ": %s", r->id, why);

    unsigned char sha[32];
    if (oz_wu_sha256(r->body, r->len, sha) != OZ_WU_OK)
        return oz_reply_error(r, 500, "out of memory");
    bool dup = false;
    rc = oz_store_result_accept(r->store, r->id, r->host.host_id, r->body, r->len, sha,
                                (int64_t)time(NULL), &dup, why, sizeof why);
    if (rc != 0)
        return oz_reply_store(r, rc, why);
    if (!dup && r->srv->jobs)
        oz_jobs_kick(r->srv->jobs);
    return oz_reply_json(r, 200,
                         json_pack("{s:I, s:b}", "replica_id", (json_int_t)r->id, "accepted", 1));
}

enum MHD_Result oz_api_error_post(oz_req *r)
{
    static const char *const keys[] = {"message", NULL};
    const char *msg = NULL;
    json_t *o = oz_req_json(r, false, keys);
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
