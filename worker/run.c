/*
 * run.c - `ozma-worker run`, the service loop (DESIGN.md §5).
 *
 * One loop thread owns everything (runner.h): the task table (jobs.c), the
 * account, the preferences, the HTTP handle.  Compute threads (compute.c) each own one
 * task's search and share only an oz_wk_compute with the loop.  The loop
 * turns about ten times a second:
 *
 *   housekeeping  reload worker.conf after SIGHUP; decide whether computing
 *                 is suspended (user active, on battery); reap finished
 *                 compute threads (result.json -> DONE, failure -> ERROR);
 *                 start a thread for each queued task while fewer than the
 *                 allowed CPUs run, or ask the newest to checkpoint and quit
 *                 when fewer are allowed now; rewrite status.json
 *                 (status.c); read control.json when it changed (control.c:
 *                 `ozma-worker suspend`, `update`, `nomorework`, ...).
 *   network       at most one scheduler call per turn, in this order: return
 *                 finished results, report a failed task, download (or
 *                 resume) a unit, ask for work when the queue holds less
 *                 than work_buffer_s of estimated work.  Finished results
 *                 ride in the next work request (as in BOINC, one call
 *                 reports and asks: DESIGN.md §4), asking for no work if
 *                 the queue is full, when next_rpc_delay lets one be made
 *                 within OZ_WK_CARRY_WAIT_S (fetch.c); otherwise, or when one is too large
 *                 to carry, or the scheduler refuses results there, each
 *                 goes up by itself (PUT).  The calls themselves are
 *                 transfer.c's.
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
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner.h"

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
    c->planner = &r->planner;
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
    if (r->ctl.suspended) /* the volunteer's order outranks the probes */
        reason = OZ_SUSPEND_REQUESTED;
    int old = atomic_exchange(&r->suspend, reason);
    if (old != reason) {
        if (reason)
            oz_wk_log("suspending computation: %s", oz_wk_suspend_name(reason));
        else
            oz_wk_log("resuming computation");
    }
}

/* control.json changed: apply it at once (suspend within a second) and
 * acknowledge it in status.json, which the command waits for. */
static void read_control(oz_wk_runner *r)
{
    char why[512];
    int rc = oz_wk_control_watch(r->o->dir, &r->ctl_stamp, &r->ctl, why, sizeof why);
    if (rc < 0 && !r->ctl_bad_logged)
        oz_wk_log("ignoring control.json: %s", why);
    r->ctl_bad_logged = rc < 0;
    if (rc <= 0)
        return;
    oz_wk_log("control: %s, %s%s", r->ctl.suspended ? "suspended" : "computing",
              r->ctl.no_more_work ? "no more work" : "taking work",
              r->ctl.update_seq != r->update_done ? ", contacting the scheduler now" : "");
    if (r->ctl.update_seq != r->update_done) { /* `update`: now, whatever the schedule says */
        r->fetch.retry_at = 0;
        r->fetch.work_at = 0;
    }
    probe_suspend(r);
    r->last_status = -1e9; /* acknowledge in this turn's status.json */
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
    read_control(r);
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

/* At most one scheduler call; true when one was made. */
static bool network(oz_wk_runner *r)
{
    double now = oz_wk_mono();
    if (!oz_wk_fetch_may_call(&r->fetch, now))
        return false;
    double want = 0;
    bool due = oz_wk_fetch_work_due(&r->fetch, now), finished = false;
    for (size_t i = 0; i < r->jobs.n; i++) {
        const oz_wk_job *j = &r->jobs.v[i];
        if (j->t.state != OZ_TASK_DONE)
            continue;
        /* one that cannot ride in a work request, or cannot wait for one */
        if (j->solo || r->no_carry || !oz_wk_fetch_result_waits(&r->fetch, now)) {
            oz_wk_result_upload(r, i);
            return true;
        }
        finished = true; /* it waits for the work request, due soon */
    }
    if (finished && due && oz_wk_work_request(r, oz_wk_work_want(r, &want) ? want : 0, true)) {
        r->update_done = r->ctl.update_seq;
        return true;
    } /* else none could go: each is marked to go by itself */
    for (size_t i = 0; i < r->jobs.n; i++)
        if (r->jobs.v[i].t.state == OZ_TASK_ERROR) {
            oz_wk_error_report(r, i);
            return true;
        }
    for (size_t i = 0; i < r->jobs.n; i++)
        if (r->jobs.v[i].t.state == OZ_TASK_DOWNLOADING) {
            oz_wk_unit_download(r, i);
            return true;
        }
    if (due && oz_wk_work_want(r, &want)) {
        r->update_done = r->ctl.update_seq;
        oz_wk_work_request(r, want, false);
        return true;
    }
    if (r->ctl.update_seq != r->update_done) { /* `update`: report and ask, even for nothing */
        r->update_done = r->ctl.update_seq;
        oz_wk_work_request(r, 0, false);
        return true;
    }
    return false;
}

/* ---- the loop ------------------------------------------------------------------------ */

/* Points the planner at DIR/fftw.wisdom and gives FFTW what it holds.  A
 * file FFTW refuses is set aside: the next save writes a good one. */
static void planner_open(oz_wk_planner *p, const char *dir)
{
    char why[512];
    if (oz_wk_path(p->wisdom_path, sizeof p->wisdom_path, "%s/fftw.wisdom", dir) != OZ_WK_OK) {
        p->wisdom_path[0] = '\0';
        return;
    }
    if (oz_wu_wisdom_load(p->wisdom_path, why, sizeof why) != OZ_WU_OK)
        oz_wk_log("FFTW's wisdom not used (planning from scratch; rewritten after the next plan): %s",
                  why);
}

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
    if (o->config_path && access(o->config_path, F_OK) != 0) {
        rc = oz_wk_fail(OZ_WK_EINVAL, why, whylen, "--config %s: %s", o->config_path,
                        strerror(errno));
        goto out;
    }
    if ((rc = oz_wk_account_load(o->dir, &r->acct, why, whylen)) != OZ_WK_OK ||
        (rc = oz_wk_prefs_load(r->conf_path, &r->prefs, why, whylen)) != OZ_WK_OK ||
        (rc = oz_wk_dir_prepare(o->dir, why, whylen)) != OZ_WK_OK ||
        (rc = oz_wk_lock(o->dir, &lock_fd, why, whylen)) != OZ_WK_OK ||
        (rc = oz_wk_http_new(r->acct.url, r->prefs.net_timeout_s, &r->http, why, whylen)) !=
            OZ_WK_OK)
        goto out;
    if (pthread_mutex_init(&r->planner.lock, NULL) != 0) {
        rc = oz_wk_fail(OZ_WK_ENOMEM, why, whylen, "out of memory");
        goto out;
    }
    r->planner_ready = true;
    planner_open(&r->planner, o->dir);
    oz_wk_http_set_tick(r->http, housekeeping, r);
    if (oz_wk_control_watch(o->dir, &r->ctl_stamp, &r->ctl, why, whylen) < 0)
        oz_wk_log("ignoring control.json: %s", why);
    r->update_done = r->ctl.update_seq; /* the first turn contacts the scheduler anyway */
    if (r->ctl.suspended || r->ctl.no_more_work)
        oz_wk_log("control.json: %s%s%s", r->ctl.suspended ? "suspended" : "",
                  r->ctl.suspended && r->ctl.no_more_work ? ", " : "",
                  r->ctl.no_more_work ? "no more work" : "");
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
    if (r->planner_ready)
        pthread_mutex_destroy(&r->planner.lock);
    if (lock_fd >= 0)
        close(lock_fd);
    free(r);
    return rc;
}
