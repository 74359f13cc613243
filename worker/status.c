/*
 * status.c - status.json, both sides: the running worker writes it, and
 * `ozma-worker status` reads it.
 *
 * A running worker rewrites DIR/status.json every status_interval_s, and
 * once more as it stops (run.c calls oz_wk_status_write): every task held
 * with its state as a person would say it, its progress and estimates, and
 * the loop's own state (suspension, backoff, the next work request).  When
 * the lock says a worker runs, that file is the truth.  When none runs, the
 * task files are: each task's state from task.json and its progress from its
 * checkpoint, in the same shape of row.  Credit is the scheduler's to say
 * (API.md: GET /api/v1/hosts/ID and /api/v1/users/ID, no authentication); it
 * is fetched with a short timeout and left out, with the reason, when the
 * scheduler does not answer, so status works offline.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runner.h"

int oz_wk_status_path(const char *dir, char *buf, size_t len)
{
    return oz_wk_path(buf, len, "%s/status.json", dir);
}

/* One task's row, whichever side writes it. */
static json_t *task_row(const oz_wk_task *t, const char *state, double progress, size_t done,
                        size_t steps, double elapsed_s, double remaining_s)
{
    json_t *o = json_pack("{s:I, s:s, s:s, s:f, s:I, s:I, s:f, s:f, s:I, s:I}", "replica_id",
                          (json_int_t)t->replica_id, "unit_id", t->unit_id, "state", state,
                          "progress", progress, "done", (json_int_t)done, "steps",
                          (json_int_t)steps, "elapsed_s", elapsed_s, "remaining_s", remaining_s,
                          "deadline", (json_int_t)t->deadline, "flops", (json_int_t)t->flops);
    if (o && t->state == OZ_TASK_ERROR)
        json_object_set_new(o, "error", json_string(t->error));
    return o;
}

/* ---- writing: the running worker -------------------------------------------------------- */

/* A task's state as a person would say it; *why gets the reason when it is
 * suspended. */
static const char *job_state(const oz_wk_runner *r, const oz_wk_job *j, const char **why)
{
    *why = NULL;
    bool waiting = r->fetch.retry_at > oz_wk_mono();
    switch (j->t.state) {
    case OZ_TASK_DOWNLOADING:
        return waiting && !j->busy ? "download pending" : "downloading";
    case OZ_TASK_READY:
        if (j->c && (j->held || atomic_load(&r->suspend))) {
            *why = oz_wk_suspend_name(atomic_load(&r->suspend));
            return "suspended";
        }
        if (j->c)
            return "running";
        if (atomic_load(&r->suspend)) {
            *why = oz_wk_suspend_name(atomic_load(&r->suspend));
            return "suspended";
        }
        return "queued";
    case OZ_TASK_DONE:
        return waiting && !j->busy ? "upload pending" : "uploading";
    default:
        return waiting && !j->busy ? "error report pending" : "reporting error";
    }
}

static json_t *status_json(oz_wk_runner *r, bool running)
{
    json_t *tasks = json_array();
    for (size_t i = 0; tasks && i < r->jobs.n; i++) {
        oz_wk_job *j = &r->jobs.v[i];
        const char *why;
        const char *state = job_state(r, j, &why);
        json_t *t = task_row(&j->t, state, oz_wk_job_fraction(j), j->done, j->steps, j->elapsed_s,
                             oz_wk_job_remaining(j, r->acct.flops));
        if (t && why)
            json_object_set_new(t, "why", json_string(why));
        if (t && !running && j->t.state == OZ_TASK_READY)
            json_object_set_new(t, "state", json_string("stopped"));
        json_array_append_new(tasks, t);
    }
    double now = oz_wk_mono();
    json_t *st = json_pack("{s:i, s:b, s:I, s:f, s:s, s:I, s:I, s:i, s:o}", "version", 1, "running",
                           running, "pid", (json_int_t)getpid(), "updated", oz_wk_wall(), "url",
                           r->acct.url, "account_id", (json_int_t)r->acct.account_id, "host_id",
                           (json_int_t)r->acct.host_id, "ncpus", (int)r->ncpus, "tasks", tasks);
    if (!st)
        return NULL;
    int s = atomic_load(&r->suspend);
    json_object_set_new(st, "suspended", s ? json_string(oz_wk_suspend_name(s)) : json_null());
    json_object_set_new(st, "backoff_until",
                        r->fetch.retry_at > now ? json_real(r->fetch.retry_wall) : json_null());
    json_object_set_new(st, "failures", json_integer(r->fetch.failures));
    json_object_set_new(st, "last_error",
                        r->last_error[0] ? json_string(r->last_error) : json_null());
    json_object_set_new(st, "next_work_request",
                        r->fetch.work_at > now ? json_real(r->fetch.work_wall) : json_null());
    json_object_set_new(st, "cpu_throttle", json_real(r->prefs.cpu_throttle));
    json_object_set_new(st, "control_seq", json_integer((json_int_t)r->ctl.seq));
    json_object_set_new(st, "no_more_work", json_boolean(r->ctl.no_more_work));
    return st;
}

void oz_wk_status_write(oz_wk_runner *r, bool running)
{
    json_t *st = status_json(r, running);
    char *text = st ? json_dumps(st, JSON_INDENT(2)) : NULL;
    json_decref(st);
    char why[512];
    if (!text ||
        oz_wk_file_write(r->status_path, text, strlen(text), 0644, why, sizeof why) != OZ_WK_OK)
        oz_wk_log("status.json: %s", text ? why : "out of memory");
    free(text);
    r->last_status = oz_wk_mono();
}

/* ---- reading: `ozma-worker status` ------------------------------------------------------ */

static json_t *from_tasks(const char *dir, const oz_wk_account *a, char *why, size_t whylen)
{
    oz_wk_task *t = NULL;
    size_t n = 0;
    if (oz_wk_tasks_scan(dir, &t, &n, why, whylen) != OZ_WK_OK)
        return NULL;
    json_t *tasks = json_array();
    for (size_t i = 0; tasks && i < n; i++) {
        char td[OZ_WK_PATH_MAX];
        size_t done = 0, steps = 0;
        double elapsed = 0;
        if (oz_wk_task_dir(dir, t[i].replica_id, td, sizeof td) == OZ_WK_OK)
            oz_wk_checkpoint_progress(td, &done, &steps, &elapsed);
        double frac = t[i].state == OZ_TASK_DONE ? 1.0 : steps ? (double)done / (double)steps : 0;
        double rem = 0;
        if (t[i].state == OZ_TASK_DOWNLOADING || t[i].state == OZ_TASK_READY)
            rem = done && elapsed > 0 ? elapsed * (1 - frac) / frac
                                      : (double)t[i].flops / (a->flops > 0 ? a->flops : 1e9);
        const char *state = t[i].state == OZ_TASK_DOWNLOADING ? "download pending"
                            : t[i].state == OZ_TASK_READY     ? "stopped"
                            : t[i].state == OZ_TASK_DONE      ? "upload pending"
                                                              : "error report pending";
        json_t *o = task_row(&t[i], state, frac, done, steps, elapsed, rem);
        json_array_append_new(tasks, o);
    }
    free(t);
    json_t *st = json_pack("{s:i, s:b, s:s, s:I, s:I, s:o}", "version", 1, "running", 0, "url",
                           a->url, "account_id", (json_int_t)a->account_id, "host_id",
                           (json_int_t)a->host_id, "tasks", tasks);
    if (!st)
        oz_wk_fail(OZ_WK_ENOMEM, why, whylen, "out of memory");
    return st;
}

/* Credit, best effort: "host" and "account" objects, or "credit_error". */
static void add_credit(json_t *st, const oz_wk_account *a, double timeout_s)
{
    oz_wk_http *h = NULL;
    char why[512], path[96];
    json_t *host = NULL, *user = NULL;
    long status = 0;
    if (oz_wk_http_new(a->url, timeout_s, &h, why, sizeof why) != OZ_WK_OK)
        goto fail;
    snprintf(path, sizeof path, "/api/v1/hosts/%lld", (long long)a->host_id);
    if (oz_wk_http_call(h, "GET", path, NULL, NULL, &status, &host, NULL, why, sizeof why) !=
            OZ_WK_OK ||
        status != 200 || !json_is_object(host))
        goto fail;
    json_object_set(st, "host", host);
    json_int_t uid = a->account_id;
    json_t *u = json_object_get(host, "user_id");
    if (json_is_integer(u))
        uid = json_integer_value(u);
    if (uid > 0) {
        snprintf(path, sizeof path, "/api/v1/users/%lld", (long long)uid);
        if (oz_wk_http_call(h, "GET", path, NULL, NULL, &status, &user, NULL, why, sizeof why) ==
                OZ_WK_OK &&
            status == 200 && json_is_object(user)) {
            json_object_del(user, "hosts");
            json_object_set(st, "account", user);
        }
    }
    goto out;
fail:
    if (!why[0] || status == 200)
        snprintf(why, sizeof why, "unexpected reply");
    json_object_set_new(st, "credit_error", json_string(why));
out:
    json_decref(host);
    json_decref(user);
    oz_wk_http_free(h);
}

int oz_wk_status_collect(const char *dir, double timeout_s, json_t **out, char *why, size_t whylen)
{
    *out = NULL;
    oz_wk_account a;
    int rc = oz_wk_account_load(dir, &a, why, whylen);
    if (rc != OZ_WK_OK)
        return rc;
    json_t *st = NULL;
    long pid = oz_wk_lock_holder(dir);
    if (pid > 0) {
        char p[OZ_WK_PATH_MAX];
        json_error_t err;
        if (oz_wk_status_path(dir, p, sizeof p) == OZ_WK_OK)
            st = json_load_file(p, JSON_REJECT_DUPLICATES, &err);
        if (st && !json_is_object(st)) {
            json_decref(st);
            st = NULL;
        }
        if (st) {
            json_object_set_new(st, "running", json_true());
            json_object_set_new(st, "pid", json_integer(pid));
        }
    }
    if (!st) {
        oz_wk_control c;
        char cwhy[256];
        if (!(st = from_tasks(dir, &a, why, whylen)))
            return OZ_WK_ENOMEM;
        if (oz_wk_control_load(dir, &c, cwhy, sizeof cwhy) == OZ_WK_OK) {
            json_object_set_new(st, "suspended",
                                c.suspended ? json_string(oz_wk_suspend_name(OZ_SUSPEND_REQUESTED))
                                            : json_null());
            json_object_set_new(st, "no_more_work", json_boolean(c.no_more_work));
        }
    }
    if (pid > 0 && !json_object_get(st, "pid"))
        json_object_set_new(st, "pid", json_integer(pid));
    json_object_set_new(st, "host_name", json_string(a.host_name));
    json_object_set_new(st, "flops", json_real(a.flops));
    if (timeout_s > 0)
        add_credit(st, &a, timeout_s);
    *out = st;
    return OZ_WK_OK;
}

static void duration(char *buf, size_t len, double s)
{
    if (!isfinite(s) || s < 0)
        s = 0;
    unsigned long t = (unsigned long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, len, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, len, "%lu:%02lu", t / 60, t % 60);
}

static void utc(char *buf, size_t len, double unix_s)
{
    time_t t = (time_t)unix_s;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%SZ", &tm))
        snprintf(buf, len, "?");
}

static double num(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : 0;
}

static const char *str(const json_t *o, const char *key, const char *dflt)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : dflt;
}

void oz_wk_status_print(const json_t *st, FILE *f)
{
    char b1[64], b2[64], b3[64];
    fprintf(f, "Project    %s\n", str(st, "url", "?"));
    fprintf(f, "Host       %s (id %.0f), %.2f GFLOPS per core\n", str(st, "host_name", "?"),
            num(st, "host_id"), num(st, "flops") / 1e9);
    if (json_is_true(json_object_get(st, "running")))
        fprintf(f, "Worker     running (pid %.0f), %.0f CPU%s, throttle %.0f%%\n", num(st, "pid"),
                num(st, "ncpus"), num(st, "ncpus") == 1 ? "" : "s", num(st, "cpu_throttle"));
    else
        fprintf(f, "Worker     not running\n");
    const char *susp = str(st, "suspended", NULL);
    if (susp)
        fprintf(f, "Computing  suspended: %s\n", susp);
    else
        fprintf(f, "Computing  %s\n",
                json_is_true(json_object_get(st, "running")) ? "running" : "not running");
    fprintf(f, "Work fetch %s\n", json_is_true(json_object_get(st, "no_more_work"))
                                      ? "no more work (ozma-worker allowmorework to resume)"
                                      : "allowed");
    json_t *bo = json_object_get(st, "backoff_until");
    if (json_is_number(bo)) {
        utc(b1, sizeof b1, json_number_value(bo));
        fprintf(f, "Scheduler  backing off until %s after %.0f failed call%s: %s\n", b1,
                num(st, "failures"), num(st, "failures") == 1 ? "" : "s",
                str(st, "last_error", "?"));
    }
    json_t *host = json_object_get(st, "host"), *acct = json_object_get(st, "account");
    if (host)
        fprintf(f, "Credit     host %.6g total, %.6g recent average", num(host, "total_credit"),
                num(host, "recent_credit"));
    if (host && acct)
        fprintf(f, "; account %s %.6g total, %.6g recent average", str(acct, "name", "?"),
                num(acct, "total_credit"), num(acct, "recent_credit"));
    if (host)
        fputc('\n', f);
    else
        fprintf(f, "Credit     unknown (%s)\n", str(st, "credit_error", "not asked"));
    json_t *tasks = json_object_get(st, "tasks");
    if (!json_array_size(tasks)) {
        fprintf(f, "Tasks      none\n");
        return;
    }
    fprintf(f, "\n%-9s %-28s %-22s %8s %9s %9s  %s\n", "REPLICA", "UNIT", "STATE", "PROGRESS",
            "ELAPSED", "REMAINING", "DEADLINE");
    size_t i;
    json_t *t;
    json_array_foreach(tasks, i, t)
    {
        char state[64];
        const char *why = str(t, "why", NULL);
        if (why)
            snprintf(state, sizeof state, "%s (%s)", str(t, "state", "?"), why);
        else
            snprintf(state, sizeof state, "%s", str(t, "state", "?"));
        duration(b1, sizeof b1, num(t, "elapsed_s"));
        duration(b2, sizeof b2, num(t, "remaining_s"));
        utc(b3, sizeof b3, num(t, "deadline"));
        fprintf(f, "%-9.0f %-28s %-22s %7.1f%% %9s %9s  %s\n", num(t, "replica_id"),
                str(t, "unit_id", "?"), state, 100.0 * num(t, "progress"), b1, b2, b3);
        if (json_object_get(t, "error"))
            fprintf(f, "          error: %s\n", str(t, "error", ""));
    }
}
