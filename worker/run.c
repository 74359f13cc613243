/*
 * run.c - `ozma-worker run`, the service loop (DESIGN.md §5).
 *
 * One loop thread owns everything: the task list, the account, the
 * preferences, the HTTP handle.  Compute threads (compute.c) each own one
 * task's search and share only an oz_wk_compute with the loop.  The loop
 * turns about ten times a second:
 *
 *   housekeeping  reload worker.conf after SIGHUP; decide whether computing
 *                 is suspended (user active, on battery); reap finished
 *                 compute threads (result.json -> DONE, failure -> ERROR);
 *                 start a thread for each queued task while fewer than the
 *                 allowed CPUs run, or ask the newest to checkpoint and quit
 *                 when fewer are allowed now; rewrite status.json.
 *   network       at most one scheduler call per turn, in this order: return
 *                 finished results, report a failed task, download (or
 *                 resume) a unit, ask for work when the queue holds less
 *                 than work_buffer_s of estimated work.  Finished results
 *                 ride in the next work request (as in BOINC, one call
 *                 reports and asks: DESIGN.md §4), asking for no work if
 *                 the queue is full, when next_rpc_delay lets one be made
 *                 within CARRY_WAIT_S; otherwise, or when one is too large
 *                 to carry, or the scheduler refuses results there, each
 *                 goes up by itself (PUT).
 *
 * Network failures never stop computing: a failed call (no answer, 5xx, 429)
 * sets one retry time for all calls, jittered and doubling from
 * backoff_min_s to backoff_max_s (backoff.c), and Retry-After when the
 * server gives one; a success resets it.  Work requests also wait for the
 * scheduler's next_rpc_delay.  Results, errors and partial downloads are on
 * disk, so nothing is lost however long the outage or however the worker
 * ends.  While a transfer runs, libcurl ticks housekeeping every 100 ms
 * (http.c), so compute threads are fed and SIGTERM is seen at once.
 *
 * On stop (SIGTERM/SIGINT) every compute thread is asked to quit; each
 * finishes its current kernel step (milliseconds to a fraction of a second),
 * writes its checkpoint and returns; the loop joins them, writes status.json
 * and returns.  A thread that cannot finish within STOP_GRACE_S (starved at
 * SCHED_IDLE on a busy machine) is left behind: its last periodic checkpoint
 * is on disk, so the promise "exit within a second" holds and at most one
 * interval of its work is lost.  Tasks resume from their checkpoints on the
 * next run.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runner.h"

#define TASKS_MAX 256u   /* tasks held at once; the server caps far lower */
#define STOP_GRACE_S 0.7 /* on SIGTERM, wait this long for final checkpoints */

/* ---- compute threads ---------------------------------------------------------------- */

static void *compute_main(void *arg)
{
    oz_wk_compute *c = arg;
    oz_wk_thread_name("ozma-compute");
    char why[256];
    if (oz_wk_priority_lower(why, sizeof why) != OZ_WK_OK)
        oz_wk_log("replica %lld: could not lower the compute thread's priority: %s",
                  (long long)c->replica_id, why);
    oz_wk_compute_run(c);
    return NULL;
}

static void apply_prefs(oz_wk_runner *r, oz_wk_compute *c)
{
    int pct = (int)(r->prefs.cpu_throttle + 0.5);
    atomic_store(&c->throttle_pct, pct < 1 ? 1 : pct > 100 ? 100 : pct);
    atomic_store(&c->checkpoint_ms, (int)(r->prefs.checkpoint_interval_s * 1000.0 + 0.5));
}

static void job_start(oz_wk_runner *r, oz_wk_job *j)
{
    oz_wk_compute *c = malloc(sizeof *c);
    if (!c || oz_wk_compute_init(c, j->dir, j->t.replica_id, r->o->stop, &r->suspend) != OZ_WK_OK) {
        free(c);
        oz_wk_log("replica %lld: cannot start a compute thread: out of memory",
                  (long long)j->t.replica_id);
        return;
    }
    apply_prefs(r, c);
    /* compute threads never take the signals: the loop thread must */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int e = pthread_create(&j->thread, NULL, compute_main, c);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e != 0) {
        oz_wk_compute_destroy(c);
        free(c);
        oz_wk_log("replica %lld: cannot start a compute thread: %s", (long long)j->t.replica_id,
                  strerror(e));
        return;
    }
    j->c = c;
    j->started_at = oz_wk_mono();
}

/* Joins a finished compute thread and moves its task on. */
static void job_reap(oz_wk_job *j)
{
    oz_wk_compute *c = j->c;
    pthread_join(j->thread, NULL);
    j->c = NULL;
    pthread_mutex_lock(&c->lock);
    j->done = c->done;
    j->steps = c->steps;
    j->elapsed_s = c->elapsed_s;
    pthread_mutex_unlock(&c->lock);
    j->held = false;
    if (c->rc == OZ_WK_OK) {
        j->t.state = OZ_TASK_DONE;
        oz_wk_job_save(j);
    } else if (c->rc == OZ_WK_ESTOPPED || c->rc == OZ_WK_ENOMEM) {
        if (c->rc == OZ_WK_ENOMEM)
            oz_wk_log("replica %lld: %s; will retry", (long long)j->t.replica_id, c->why);
    } else
        oz_wk_job_fail(j, "search failed: %s", c->why);
    oz_wk_compute_destroy(c);
    free(c);
}

static unsigned count_running(const oz_wk_runner *r)
{
    unsigned n = 0;
    for (size_t i = 0; i < r->jobs.n; i++)
        n += r->jobs.v[i].c != NULL && !atomic_load(&r->jobs.v[i].c->quit);
    return n;
}

static void schedule(oz_wk_runner *r)
{
    for (size_t i = 0; i < r->jobs.n; i++) {
        oz_wk_job *j = &r->jobs.v[i];
        if (j->c && atomic_load(&j->c->finished))
            job_reap(j);
        else if (j->c) {
            pthread_mutex_lock(&j->c->lock);
            j->done = j->c->done;
            j->steps = j->c->steps;
            j->elapsed_s = j->c->elapsed_s;
            j->held = j->c->held;
            pthread_mutex_unlock(&j->c->lock);
        }
    }
    unsigned running = count_running(r);
    while (running > r->ncpus) { /* fewer CPUs allowed now: the newest checkpoints and quits */
        oz_wk_job *newest = NULL;
        for (size_t i = 0; i < r->jobs.n; i++) {
            oz_wk_job *j = &r->jobs.v[i];
            if (j->c && !atomic_load(&j->c->quit) &&
                (!newest || j->started_at > newest->started_at))
                newest = j;
        }
        if (!newest)
            break;
        atomic_store(&newest->c->quit, 1);
        running--;
    }
    if (atomic_load(&r->suspend))
        return;
    unsigned busy = 0;
    for (size_t i = 0; i < r->jobs.n; i++)
        busy += r->jobs.v[i].c != NULL;
    for (size_t i = 0; i < r->jobs.n && busy < r->ncpus; i++) {
        oz_wk_job *j = &r->jobs.v[i];
        if (j->t.state == OZ_TASK_READY && !j->c) {
            job_start(r, j);
            busy += j->c != NULL;
        }
    }
}

/* ---- preferences and suspension ------------------------------------------------------- */

static void reload_prefs(oz_wk_runner *r)
{
    oz_wk_prefs p;
    char why[512];
    if (oz_wk_prefs_load(r->conf_path, &p, why, sizeof why) != OZ_WK_OK) {
        oz_wk_log("SIGHUP: keeping the current preferences: %s", why);
        return;
    }
    r->prefs = p;
    r->ncpus = oz_wk_prefs_ncpus(&p, r->host.ncpus);
    oz_wk_http_set_timeout(r->http, p.net_timeout_s);
    for (size_t i = 0; i < r->jobs.n; i++)
        if (r->jobs.v[i].c)
            apply_prefs(r, r->jobs.v[i].c);
    oz_wk_log("preferences reloaded from %s: %u CPUs, throttle %g%%, buffer %g s", r->conf_path,
              r->ncpus, p.cpu_throttle, p.work_buffer_s);
}

static void probe_suspend(oz_wk_runner *r)
{
    int reason = OZ_SUSPEND_NONE;
    if (r->prefs.suspend_on_battery && oz_wk_on_battery(r->prefs.power_supply_dir))
        reason = OZ_SUSPEND_BATTERY;
    if (!reason && r->prefs.idle_minutes > 0) {
        double idle;
        if (oz_wk_idle_seconds(r->prefs.idle_watch, &idle) == OZ_WK_OK) {
            if (idle < r->prefs.idle_minutes * 60.0)
                reason = OZ_SUSPEND_USER_ACTIVE;
        } else if (!r->idle_unreadable_logged) {
            oz_wk_log("idle_watch: nothing readable in \"%s\"; treating the host as idle",
                      r->prefs.idle_watch);
            r->idle_unreadable_logged = true;
        }
    }
    int old = atomic_exchange(&r->suspend, reason);
    if (old != reason) {
        if (reason)
            oz_wk_log("suspending computation: %s", oz_wk_suspend_name(reason));
        else
            oz_wk_log("resuming computation");
    }
}

/* Everything but the network; also libcurl's tick during transfers.  Returns
 * non-zero when the worker must stop. */
static int housekeeping(void *arg)
{
    oz_wk_runner *r = arg;
    if (atomic_load(r->o->stop))
        return 1;
    if (r->in_housekeeping)
        return 0;
    r->in_housekeeping = true;
    if (r->o->reload && atomic_exchange(r->o->reload, 0))
        reload_prefs(r);
    double now = oz_wk_mono();
    if (now - r->last_probe >= 1.0) {
        probe_suspend(r);
        r->last_probe = now;
    }
    schedule(r);
    if (now - r->last_status >= r->prefs.status_interval_s)
        oz_wk_status_write(r, true);
    r->in_housekeeping = false;
    return atomic_load(r->o->stop) ? 1 : 0;
}

/* ---- the scheduler ------------------------------------------------------------------- */

static void call_failed(oz_wk_runner *r, const char *what, const char *why, double retry_after)
{
    r->failures++;
    double d = oz_wk_backoff_delay(r->prefs.backoff_min_s, r->prefs.backoff_max_s, r->failures,
                                   oz_wk_backoff_random());
    if (retry_after > d)
        d = retry_after;
    r->retry_at = oz_wk_mono() + d;
    r->retry_wall = oz_wk_wall() + d;
    snprintf(r->last_error, sizeof r->last_error, "%.150s: %.350s", what, why);
    oz_wk_log("%s failed: %s; retrying in %.2f s (failure %u)", what, why, d, r->failures);
}

static void call_worked(oz_wk_runner *r)
{
    if (r->failures)
        oz_wk_log("the scheduler answers again after %u failed call%s", r->failures,
                  r->failures == 1 ? "" : "s");
    r->failures = 0;
    r->retry_at = 0;
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

static void upload(oz_wk_runner *r, size_t i)
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
    } else {
        oz_wk_log("replica %lld: the scheduler refused the result (%s); dropping it",
                  (long long)j->t.replica_id, why);
        keep_copy(r, j, text, ".refused");
    }
    oz_wk_jobs_remove(&r->jobs, i);
out:
    json_decref(body);
    json_decref(reply);
    free(text);
}

static void report_error(oz_wk_runner *r, size_t i)
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

static void download(oz_wk_runner *r, size_t i)
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
            if (rename(part, dest) != 0) {
                oz_wk_job_fail(j, "cannot keep the unit: %s", strerror(errno));
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

/* Estimated seconds of computing queued, spread over the allowed CPUs. */
static double queued_seconds(const oz_wk_runner *r, unsigned *unfinished)
{
    double s = 0;
    *unfinished = 0;
    for (size_t i = 0; i < r->jobs.n; i++) {
        const oz_wk_job *j = &r->jobs.v[i];
        if (j->t.state == OZ_TASK_DOWNLOADING || j->t.state == OZ_TASK_READY) {
            s += oz_wk_job_remaining(j, r->acct.flops);
            (*unfinished)++;
        }
    }
    return s / (r->ncpus ? r->ncpus : 1);
}

static bool want_work(oz_wk_runner *r, double *want)
{
    unsigned unfinished;
    double queued = queued_seconds(r, &unfinished);
    *want = r->prefs.work_buffer_s - queued;
    if (r->jobs.n >= TASKS_MAX)
        return false;
    if (!(unfinished < r->ncpus ||
          *want >= (r->prefs.work_buffer_s * 0.1 > 1 ? r->prefs.work_buffer_s * 0.1 : 1)))
        return false;
    char tasks[OZ_WK_PATH_MAX];
    if (oz_wk_path(tasks, sizeof tasks, "%s/tasks", r->o->dir) == OZ_WK_OK &&
        (double)oz_wk_disk_usage(tasks) >= r->prefs.disk_limit_mb * 1048576.0) {
        if (!r->disk_full_logged)
            oz_wk_log("disk_limit_mb (%g) reached: no new work until tasks finish",
                      r->prefs.disk_limit_mb);
        r->disk_full_logged = true;
        return false;
    }
    r->disk_full_logged = false;
    if (*want < 1)
        *want = 1;
    return true;
}

#define CARRY_MAX 64           /* results in one work request (API.md) */
#define CARRY_BYTES (1u << 20) /* of result text in one; a larger result goes by itself */
#define CARRY_WAIT_S 60.0      /* a finished result waits at most this for a work request */

/* Finished results to return with a work request. */
typedef struct carried {
    int64_t id[CARRY_MAX];
    char *text[CARRY_MAX];
    size_t n;
} carried;

/* Adds the finished results that fit to body's "results" (and to c).  One
 * that can never go this way - unreadable (upload() deals with that), over
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
 * accepted or refused, the task ends; a transient refusal (busy) leaves
 * it to be returned again. */
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
            } else if (status < 400 || transient((long)status)) {
                break; /* busy, or no reason given: it goes again */
            } else {
                oz_wk_log("replica %lld: the scheduler refused the result (HTTP %lld: %s); "
                          "dropping it",
                          (long long)j->t.replica_id, (long long)status, msg ? msg : "no reason");
                keep_copy(r, j, c->text[k], ".refused");
            }
            oz_wk_jobs_remove(&r->jobs, (size_t)(j - r->jobs.v));
            break;
        }
    }
}

/* Asks for want seconds of work (0: none, only returning results),
 * carrying the finished results that fit when carry is true.  False when
 * it made no call: carry was asked and no result could go. */
static bool request_work(oz_wk_runner *r, double want, bool carry)
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
    long status;
    double ra;
    int rc = oz_wk_http_call(r->http, "POST", "/api/v1/work", r->acct.host_key, body, &status,
                             &reply, &ra, why, sizeof why);
    json_decref(body);
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
    if (!(delay >= 0))
        delay = 0;
    if (delay > 86400)
        delay = 86400;
    r->work_at = oz_wk_mono() + delay;
    r->work_wall = oz_wk_wall() + delay;
    size_t idx, added = 0;
    json_t *a;
    json_array_foreach(list, idx, a)
    {
        oz_wk_task t;
        if (oz_wk_task_from_json(a, &t, why, sizeof why) != OZ_WK_OK) {
            oz_wk_log("ignoring an assignment: %s", why);
            continue;
        }
        if (oz_wk_jobs_find(&r->jobs, t.replica_id) || r->jobs.n >= TASKS_MAX)
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

/* At most one scheduler call; true when one was made. */
static bool network(oz_wk_runner *r)
{
    double now = oz_wk_mono();
    if (now < r->retry_at)
        return false;
    double want = 0;
    bool due = now >= r->work_at, finished = false;
    for (size_t i = 0; i < r->jobs.n; i++) {
        const oz_wk_job *j = &r->jobs.v[i];
        if (j->t.state != OZ_TASK_DONE)
            continue;
        /* one that cannot ride in a work request, or cannot wait for one */
        if (j->solo || r->no_carry || (!due && r->work_at - now > CARRY_WAIT_S)) {
            upload(r, i);
            return true;
        }
        finished = true; /* it waits for the work request, due soon */
    }
    if (finished && due && request_work(r, want_work(r, &want) ? want : 0, true))
        return true; /* else none could go: each is marked to go by itself */
    for (size_t i = 0; i < r->jobs.n; i++)
        if (r->jobs.v[i].t.state == OZ_TASK_ERROR) {
            report_error(r, i);
            return true;
        }
    for (size_t i = 0; i < r->jobs.n; i++)
        if (r->jobs.v[i].t.state == OZ_TASK_DOWNLOADING) {
            download(r, i);
            return true;
        }
    if (due && want_work(r, &want)) {
        request_work(r, want, false);
        return true;
    }
    return false;
}

/* ---- the loop ------------------------------------------------------------------------ */

int oz_wk_run(const oz_wk_run_opts *o, char *why, size_t whylen)
{
    oz_wk_runner *r = calloc(1, sizeof *r);
    oz_wk_http *http_h = NULL;
    int lock_fd = -1, rc;
    if (!r)
        return oz_wk_fail(OZ_WK_ENOMEM, why, whylen, "out of memory");
    r->o = o;
    atomic_init(&r->suspend, 0);
    if ((o->config_path ? oz_wk_path(r->conf_path, sizeof r->conf_path, "%s", o->config_path)
                        : oz_wk_path(r->conf_path, sizeof r->conf_path, "%s/worker.conf",
                                     o->dir)) != OZ_WK_OK ||
        oz_wk_status_path(o->dir, r->status_path, sizeof r->status_path) != OZ_WK_OK) {
        rc = oz_wk_fail(OZ_WK_EINVAL, why, whylen, "%s: path too long", o->dir);
        goto out;
    }
    if ((rc = oz_wk_account_load(o->dir, &r->acct, why, whylen)) != OZ_WK_OK ||
        (rc = oz_wk_prefs_load(r->conf_path, &r->prefs, why, whylen)) != OZ_WK_OK ||
        (rc = oz_wk_dir_prepare(o->dir, why, whylen)) != OZ_WK_OK ||
        (rc = oz_wk_lock(o->dir, &lock_fd, why, whylen)) != OZ_WK_OK ||
        (rc = oz_wk_http_new(r->acct.url, r->prefs.net_timeout_s, &r->http, why, whylen)) !=
            OZ_WK_OK)
        goto out;
    oz_wk_http_set_tick(r->http, housekeeping, r);
    oz_wk_host_probe(&r->host);
    r->ncpus = oz_wk_prefs_ncpus(&r->prefs, r->host.ncpus);

    oz_wk_task *found = NULL;
    size_t nfound = 0;
    if ((rc = oz_wk_tasks_scan(o->dir, &found, &nfound, why, whylen)) != OZ_WK_OK)
        goto out;
    for (size_t i = 0; i < nfound; i++) {
        oz_wk_job *j = oz_wk_jobs_add(&r->jobs, r->o->dir, &found[i]);
        if (j)
            oz_wk_job_recover(j);
    }
    free(found);
    oz_wk_log("running for %s as host %lld: %u of %u CPUs, %zu task%s on disk, state in %s",
              r->acct.url, (long long)r->acct.host_id, r->ncpus, r->host.ncpus, r->jobs.n,
              r->jobs.n == 1 ? "" : "s", o->dir);

    while (!atomic_load(o->stop)) {
        if (housekeeping(r))
            break;
        if (!network(r))
            oz_wk_nap(0.1, o->stop, NULL);
    }

    /* stop: every thread checkpoints and returns, normally in milliseconds */
    for (size_t i = 0; i < r->jobs.n; i++)
        if (r->jobs.v[i].c)
            atomic_store(&r->jobs.v[i].c->quit, 1);
    unsigned stuck = 0;
    double deadline = oz_wk_mono() + STOP_GRACE_S;
    for (size_t i = 0; i < r->jobs.n; i++) {
        oz_wk_job *j = &r->jobs.v[i];
        while (j->c && !atomic_load(&j->c->finished) && oz_wk_mono() < deadline)
            oz_wk_nap(0.01, NULL, NULL);
        if (j->c && atomic_load(&j->c->finished))
            job_reap(j);
        else if (j->c)
            stuck++;
    }
    oz_wk_status_write(r, false);
    if (stuck) {
        /* A SCHED_IDLE thread on a busy machine may not get the CPU to finish
         * its step in time.  Its last periodic checkpoint is on disk (written
         * atomically), so exiting now loses at most one interval; the runner
         * stays allocated for the threads still using it, and exit ends them. */
        oz_wk_log("stopped; %u task%s will resume from %s last periodic checkpoint", stuck,
                  stuck == 1 ? "" : "s", stuck == 1 ? "its" : "their");
        http_h = r->http;
        r = NULL;
        rc = OZ_WK_OK;
        goto out;
    }
    oz_wk_log("stopped; every task checkpointed");
    rc = OZ_WK_OK;
out:
    if (!r) {
        oz_wk_http_free(http_h);
        if (lock_fd >= 0)
            close(lock_fd);
        return rc;
    }
    if (r->jobs.v)
        for (size_t i = 0; i < r->jobs.n; i++)
            if (r->jobs.v[i].c)
                job_reap(&r->jobs.v[i]);
    oz_wk_jobs_free(&r->jobs);
    oz_wk_http_free(r->http);
    if (lock_fd >= 0)
        close(lock_fd);
    free(r);
    return rc;
}
