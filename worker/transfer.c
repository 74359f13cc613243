/*
 * transfer.c - the loop's calls to the scheduler: downloading units,
 * uploading results, reporting failed tasks, and the work request that
 * carries finished results (API.md).
 *
 * Each call is made by the loop thread for one task of the table (jobs.c),
 * which it marks busy for the call's length; while a transfer runs, libcurl
 * ticks the loop's housekeeping (http.c), so an entry may be reaped or a
 * compute thread started meanwhile, but none is added or removed: the entry
 * is looked up again by index afterwards.  Every call ends in call_failed or
 * call_worked.  A failure (no answer, a transient status: 401, 408, 429,
 * 5xx) sets one retry time for all calls, jittered and doubling from
 * backoff_min_s to backoff_max_s (backoff.c), or Retry-After when the server
 * gives a longer one; a success resets it.  Any other refusal settles the
 * task: a refused error report is dropped, a refused result or download
 * makes the task an error to report.
 *
 * Downloads resume from the .part file and are verified against the
 * assignment's SHA-256 before the task becomes READY; a unit that fails
 * verification twice is reported as an error rather than fetched forever.
 * Finished results ride in the next work request (as in BOINC, one call
 * reports and asks: DESIGN.md §4) up to CARRY_MAX of them and CARRY_BYTES of
 * text; one too large to carry, or every one once the scheduler has refused
 * results there, goes up by itself (PUT).  Every work request also lists
 * the replicas the worker holds ("held"), so that the scheduler sends again
 * at once any it has in progress for this host that a lost reply (a
 * timeout, a dropped connection, a crash) never delivered; a scheduler that
 * does not know the key refuses it once and is asked without it after.
 * With keep_results on, every result sent is copied to DIR/uploaded/.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runner.h"

static void call_failed(oz_wk_runner *r, const char *what, const char *why, double retry_after)
{
    double d = oz_wk_fetch_failed(&r->fetch, &r->prefs, retry_after, oz_wk_backoff_random(),
                                  oz_wk_mono(), oz_wk_wall());
    snprintf(r->last_error, sizeof r->last_error, "%.150s: %.350s", what, why);
    oz_wk_log("%s failed: %s; retrying in %.2f s (failure %u)", what, why, d, r->fetch.failures);
}

static void call_worked(oz_wk_runner *r)
{
    unsigned failures = oz_wk_fetch_worked(&r->fetch);
    if (failures)
        oz_wk_log("the scheduler answers again after %u failed call%s", failures,
                  failures == 1 ? "" : "s");
    r->last_error[0] = '\0';
}

/* Statuses worth retrying: the server or the path to it is unwell. */
static bool transient(long status)
{
    return status == 408 || status == 429 || status >= 500 || status == 401;
}

static void keep_copy(oz_wk_runner *r, const oz_wk_job *j, const char *text, const char *suffix)
{
    if (!r->prefs.keep_results)
        return;
    char d[OZ_WK_PATH_MAX], p[OZ_WK_PATH_MAX], why[512];
    if (oz_wk_path(d, sizeof d, "%s/uploaded", r->o->dir) != OZ_WK_OK ||
        oz_wk_path(p, sizeof p, "%s/%lld%s.json", d, (long long)j->t.replica_id, suffix) !=
            OZ_WK_OK)
        return;
    if (mkdir(d, 0700) != 0 && errno != EEXIST)
        return;
    if (oz_wk_file_write(p, text, strlen(text), 0644, why, sizeof why) != OZ_WK_OK)
        oz_wk_log("keep_results: %s", why);
}

/* The scheduler refused a task's result for good (400, 403, 404, 409): the
 * task becomes an error, reported next (oz_wk_error_report) so that the
 * replica is closed on the scheduler too - else, still in progress there
 * and no longer held here, it would be sent again (a lost one, to the
 * scheduler) and computed again, to be refused again. */
static void refused(oz_wk_job *j, long status, const char *why)
{
    oz_wk_job_fail(j, "the scheduler refused the result (HTTP %ld): %.700s", status, why);
}

void oz_wk_result_upload(oz_wk_runner *r, size_t i)
{
    oz_wk_job *j = &r->jobs.v[i];
    char path[OZ_WK_PATH_MAX], url[128], why[1024], what[96];
    char *text = NULL;
    json_t *body = NULL, *reply = NULL;
    snprintf(what, sizeof what, "uploading replica %lld", (long long)j->t.replica_id);
    if (oz_wk_path(path, sizeof path, "%s/result.json", j->dir) != OZ_WK_OK ||
        oz_wk_read_file(path, OZ_WU_RESULT_MAX, &text, NULL, why, sizeof why) != OZ_WK_OK ||
        !(body = json_loads(text, JSON_REJECT_DUPLICATES, NULL))) {
        /* the result is gone or damaged: compute it again */
        oz_wk_log("replica %lld: result.json unreadable, searching again",
                  (long long)j->t.replica_id);
        unlink(path);
        j->t.state = OZ_TASK_READY;
        oz_wk_job_save(j);
        goto out;
    }
    snprintf(url, sizeof url, "/api/v1/replicas/%lld/result", (long long)j->t.replica_id);
    long status;
    double ra;
    j->busy = true;
    int rc = oz_wk_http_call(r->http, "PUT", url, r->acct.host_key, body, &status, &reply, &ra, why,
                             sizeof why);
    j = &r->jobs.v[i];
    j->busy = false;
    if (rc == OZ_WK_ESTOPPED)
        goto out;
    if (rc != OZ_WK_OK || transient(status)) {
        call_failed(r, what, why, ra);
        goto out;
    }
    call_worked(r);
    if (status == 200) {
        oz_wk_log("replica %lld: result for %s uploaded", (long long)j->t.replica_id, j->t.unit_id);
        keep_copy(r, j, text, "");
        oz_wk_jobs_remove(&r->jobs, i);
    } else {
        keep_copy(r, j, text, ".refused");
        refused(j, status, why);
    }
out:
    json_decref(body);
    json_decref(reply);
    free(text);
}

void oz_wk_error_report(oz_wk_runner *r, size_t i)
{
    oz_wk_job *j = &r->jobs.v[i];
    char url[128], why[1024], what[96];
    snprintf(what, sizeof what, "reporting replica %lld's error", (long long)j->t.replica_id);
    snprintf(url, sizeof url, "/api/v1/replicas/%lld/error", (long long)j->t.replica_id);
    json_t *body = json_pack("{s:s}", "message", j->t.error[0] ? j->t.error : "failed"), *reply;
    long status;
    double ra;
    j->busy = true;
    int rc = oz_wk_http_call(r->http, "POST", url, r->acct.host_key, body, &status, &reply, &ra,
                             why, sizeof why);
    json_decref(body);
    json_decref(reply);
    j = &r->jobs.v[i];
    j->busy = false;
    if (rc == OZ_WK_ESTOPPED)
        return;
    if (rc != OZ_WK_OK || transient(status)) {
        call_failed(r, what, why, ra);
        return;
    }
    call_worked(r);
    oz_wk_log("replica %lld: error reported%s%s", (long long)j->t.replica_id,
              status == 200 ? "" : ", the scheduler said: ", status == 200 ? "" : why);
    oz_wk_jobs_remove(&r->jobs, i);
}

/* The verified download (part, fsynced by oz_wk_http_download) becomes the
 * task's unit file: renamed over dest only when dest is a regular file or
 * absent (never over a device, FIFO or directory someone put there), then
 * the task directory is fsynced so the name survives a power cut. */
static int keep_download(const char *part, const char *dest, const char *dir, char *why,
                         size_t whylen)
{
    struct stat st;
    if (lstat(dest, &st) == 0 && !S_ISREG(st.st_mode))
        return oz_wk_fail(OZ_WK_EIO, why, whylen, "%s is not a regular file", dest);
    if (rename(part, dest) != 0)
        return oz_wk_fail(OZ_WK_EIO, why, whylen, "%s: %s", dest, strerror(errno));
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return oz_wk_fail(OZ_WK_EIO, why, whylen, "%s: fsync: %s", dir, strerror(e));
    }
    close(fd);
    return OZ_WK_OK;
}

void oz_wk_unit_download(oz_wk_runner *r, size_t i)
{
    oz_wk_job *j = &r->jobs.v[i];
    char part[OZ_WK_PATH_MAX], dest[OZ_WK_PATH_MAX], why[1024], what[160], hex[65];
    snprintf(what, sizeof what, "downloading %s", j->t.unit_id);
    if (oz_wk_path(part, sizeof part, "%s/unit.ozwu.part", j->dir) != OZ_WK_OK ||
        oz_wk_path(dest, sizeof dest, "%s/unit.ozwu", j->dir) != OZ_WK_OK) {
        oz_wk_job_fail(j, "%s: path too long", j->dir);
        return;
    }
    long status;
    j->busy = true;
    int rc = oz_wk_http_download(r->http, j->t.url, part, j->t.bytes, &status, why, sizeof why);
    j = &r->jobs.v[i];
    j->busy = false;
    if (rc == OZ_WK_ESTOPPED)
        return;
    if (rc == OZ_WK_ENET || rc == OZ_WK_EIO || (rc == OZ_WK_EHTTP && transient(status))) {
        call_failed(r, what, why, 0);
        return;
    }
    call_worked(r);
    if (rc == OZ_WK_EHTTP && status == 416) { /* our part is longer than theirs: start over */
        unlink(part);
        return;
    }
    if (rc == OZ_WK_EHTTP) {
        oz_wk_job_fail(j, "unit download failed: %s", why);
        return;
    }
    if (rc == OZ_WK_OK) {
        rc = oz_wk_file_sha256(part, hex, why, sizeof why);
        if (rc != OZ_WK_OK) {
            call_failed(r, what, why, 0);
            return;
        }
        if (strcmp(hex, j->t.sha256) == 0) {
            if (keep_download(part, dest, j->dir, why, sizeof why) != OZ_WK_OK) {
                oz_wk_job_fail(j, "cannot keep the unit: %s", why);
                return;
            }
            j->t.state = OZ_TASK_READY;
            oz_wk_job_save(j);
            oz_wk_log("replica %lld: %s downloaded, SHA-256 verified", (long long)j->t.replica_id,
                      j->t.unit_id);
            return;
        }
        snprintf(why, sizeof why, "SHA-256 %s, the assignment says %s", hex, j->t.sha256);
    }
    /* a file that is not the unit (wrong hash, too long): never searched */
    unlink(part);
    j->t.bad_downloads++;
    if (j->t.bad_downloads >= 2) {
        char msg[1000];
        snprintf(msg, sizeof msg, "%s: download %u does not verify: %.700s", j->t.unit_id,
                 j->t.bad_downloads, why);
        oz_wk_job_fail(j, "%s", msg);
        return;
    }
    oz_wk_log("replica %lld: %s does not verify (%s); fetching it again",
              (long long)j->t.replica_id, j->t.unit_id, why);
    oz_wk_job_save(j);
}

#define CARRY_MAX 64           /* results in one work request (API.md) */
#define CARRY_BYTES (1u << 20) /* of result text in one; a larger result goes by itself */

/* Finished results to return with a work request. */
typedef struct carried {
    int64_t id[CARRY_MAX];
    char *text[CARRY_MAX];
    size_t n;
} carried;

/* Adds the finished results that fit to body's "results" (and to c).  One
 * that can never go this way - unreadable (oz_wk_result_upload deals with that), over
 * CARRY_BYTES by itself, not UTF-8 - is marked to go by itself. */
static void carry_results(oz_wk_runner *r, json_t *body, carried *c)
{
    json_t *list = json_array();
    size_t bytes = 0;
    c->n = 0;
    for (size_t i = 0; list && i < r->jobs.n && c->n < CARRY_MAX; i++) {
        oz_wk_job *j = &r->jobs.v[i];
        char path[OZ_WK_PATH_MAX], why[512];
        char *text = NULL;
        size_t len = 0;
        if (j->t.state != OZ_TASK_DONE || j->solo)
            continue;
        if (oz_wk_path(path, sizeof path, "%s/result.json", j->dir) != OZ_WK_OK ||
            oz_wk_read_file(path, OZ_WU_RESULT_MAX, &text, &len, why, sizeof why) != OZ_WK_OK ||
            len > CARRY_BYTES) {
            j->solo = true;
            free(text);
            continue;
        }
        json_t *item = NULL;
        if (bytes + len > CARRY_BYTES) { /* the next request takes it */
            free(text);
            continue;
        }
        if (!(item = json_pack("{s:I, s:s%}", "replica_id", (json_int_t)j->t.replica_id, "result",
                               text, len)) ||
            json_array_append_new(list, item) != 0) {
            j->solo = true;
            free(text);
            continue;
        }
        bytes += len;
        j->busy = true;
        c->id[c->n] = j->t.replica_id;
        c->text[c->n++] = text;
    }
    if (c->n && list)
        json_object_set_new(body, "results", list);
    else
        json_decref(list);
}

/* What the scheduler said of each carried result (the reply's "results"):
 * accepted, the task ends; refused, it becomes an error to report
 * (refused); a transient refusal (busy) leaves it to be returned again. */
static void carried_done(oz_wk_runner *r, const json_t *reply, const carried *c)
{
    const json_t *list = json_object_get(reply, "results");
    for (size_t k = 0; k < c->n; k++) {
        oz_wk_job *j = oz_wk_jobs_find(&r->jobs, c->id[k]);
        if (j)
            j->busy = false;
        size_t i;
        const json_t *e;
        json_array_foreach(list, i, e)
        {
            const json_t *id = json_object_get(e, "replica_id");
            if (!j || !json_is_integer(id) || json_integer_value(id) != c->id[k])
                continue;
            const json_t *err = json_object_get(e, "error");
            json_int_t status = json_integer_value(json_object_get(err, "status"));
            const char *msg = json_string_value(json_object_get(err, "message"));
            if (json_is_true(json_object_get(e, "accepted"))) {
                oz_wk_log("replica %lld: result for %s returned with the work request",
                          (long long)j->t.replica_id, j->t.unit_id);
                keep_copy(r, j, c->text[k], "");
                oz_wk_jobs_remove(&r->jobs, (size_t)(j - r->jobs.v));
            } else if (status >= 400 && !transient((long)status)) {
                keep_copy(r, j, c->text[k], ".refused");
                refused(j, (long)status, msg ? msg : "no reason given");
            } /* else busy, or no reason given: it goes again */
            break;
        }
    }
}

/* Asks for want seconds of work (0: none, only returning results),
 * carrying the finished results that fit when carry is true.  False when
 * it made no call: carry was asked and no result could go. */
bool oz_wk_work_request(oz_wk_runner *r, double want, bool carry)
{
    char why[1024];
    json_t *body = json_pack("{s:I}", "want_seconds", (json_int_t)(want + 0.5)), *reply = NULL;
    carried c = {.n = 0};
    if (carry && body)
        carry_results(r, body, &c);
    if (carry && c.n == 0) {
        json_decref(body);
        return false;
    }
    bool listed = body && !r->no_held &&
                  json_object_set_new(body, "held", oz_wk_jobs_held_json(&r->jobs)) == 0;
    long status;
    double ra;
    int rc = oz_wk_http_call(r->http, "POST", "/api/v1/work", r->acct.host_key, body, &status,
                             &reply, &ra, why, sizeof why);
    json_decref(body);
    if (listed && rc == OZ_WK_OK && status == 400 && strstr(why, "\"held\"")) {
        /* an older scheduler: ask again without the list */
        oz_wk_log("the scheduler refused \"held\" in a work request (%s); leaving it out", why);
        r->no_held = true;
        carried_done(r, NULL, &c);
        goto out;
    }
    if (c.n && rc == OZ_WK_OK && (status == 400 || status == 413)) {
        /* an older scheduler, or a lower body limit: return them one by one */
        oz_wk_log("the scheduler refused results in a work request (HTTP %ld: %s); uploading "
                  "them one by one",
                  status, why);
        r->no_carry = true;
        carried_done(r, NULL, &c);
        goto out;
    }
    carried_done(r, rc == OZ_WK_OK && status == 200 ? reply : NULL, &c);
    if (rc == OZ_WK_ESTOPPED)
        goto out;
    if (rc != OZ_WK_OK || status != 200) {
        call_failed(r, "asking for work", rc == OZ_WK_OK && !why[0] ? "no reason given" : why, ra);
        goto out;
    }
    json_t *list;
    double delay = 0;
    json_t *d;
    json_error_t err;
    if (!reply || json_unpack_ex(reply, &err, 0, "{s:o}", "assignments", &list) != 0 ||
        !json_is_array(list)) {
        call_failed(r, "asking for work", "the reply has no assignments list", 0);
        goto out;
    }
    call_worked(r);
    if ((d = json_object_get(reply, "next_rpc_delay")) && json_is_number(d))
        delay = json_number_value(d);
    delay = oz_wk_fetch_replied(&r->fetch, delay, oz_wk_mono(), oz_wk_wall());
    size_t idx, added = 0;
    json_t *a;
    json_array_foreach(list, idx, a)
    {
        oz_wk_task t;
        if (oz_wk_task_from_json(a, &t, why, sizeof why) != OZ_WK_OK) {
            oz_wk_log("ignoring an assignment: %s", why);
            continue;
        }
        if (oz_wk_jobs_find(&r->jobs, t.replica_id) || r->jobs.n >= OZ_WK_TASKS_MAX)
            continue;
        oz_wk_job *j = oz_wk_jobs_add(&r->jobs, r->o->dir, &t);
        if (!j) {
            oz_wk_log("out of memory for replica %lld", (long long)t.replica_id);
            continue;
        }
        if (!j->dir[0] || (mkdir(j->dir, 0700) != 0 && errno != EEXIST) ||
            oz_wk_task_save(j->dir, &j->t, why, sizeof why) != OZ_WK_OK) {
            oz_wk_log("replica %lld: cannot store the task: %s", (long long)t.replica_id,
                      j->dir[0] ? why : "path too long");
            oz_wk_jobs_remove(&r->jobs, (size_t)(j - r->jobs.v));
            continue;
        }
        added++;
    }
    if (want <= 0) {
        /* only returning results: no news about work */
    } else if (added) {
        oz_wk_log("got %zu task%s (asked for %.0f s of work); next request in %g s", added,
                  added == 1 ? "" : "s", want, delay);
        r->no_work_logged = false;
    } else if (!r->no_work_logged) {
        oz_wk_log("no work available; asking again in %g s", delay);
        r->no_work_logged = true;
    }
out:
    for (size_t k = 0; k < c.n; k++)
        free(c.text[k]);
    json_decref(reply);
    return true;
}
