/*
 * fetch.c - the work-fetch policy: how much work to ask the scheduler for,
 * and when any call may be made.
 *
 * How much: the worker keeps work_buffer_s of estimated computing queued,
 * spread over the CPUs it may use.  It asks for the shortfall once that is
 * at least a tenth of the buffer (at least a second), so that it does not
 * ask for crumbs every turn, or at once whenever a CPU would otherwise have
 * nothing to do; never beyond OZ_WK_TASKS_MAX tasks held, nor while the task
 * directories fill disk_limit_mb, nor after `ozma-worker nomorework`.
 *
 * When: a failed call (transfer.c) sets one retry time for every call,
 * jittered and doubling from backoff_min_s to backoff_max_s (backoff.c), or
 * the server's Retry-After when that is longer; a call that works clears it.
 * Work requests wait, besides, for the scheduler's next_rpc_delay (at most a
 * day, whatever it says).  A finished result waits for the next work request
 * when one can be made within OZ_WK_CARRY_WAIT_S, to ride in it; otherwise
 * it goes up by itself.
 *
 * The rules themselves (the oz_wk_fetch_* functions) are pure: numbers in,
 * numbers out, the clock passed in, so tests need no server and no loop.
 * oz_wk_work_want applies them to the running loop's table.
 */
#include "runner.h"

#define NEXT_RPC_DELAY_MAX 86400.0 /* a scheduler's next_rpc_delay is capped at a day */

bool oz_wk_fetch_want(const oz_wk_fetch_queue *q, double *want_s)
{
    *want_s = q->work_buffer_s - q->queued_s;
    if (q->held >= OZ_WK_TASKS_MAX)
        return false;
    double low = q->work_buffer_s * 0.1 > 1 ? q->work_buffer_s * 0.1 : 1;
    if (!(q->unfinished < q->ncpus || *want_s >= low))
        return false;
    if (*want_s < 1)
        *want_s = 1;
    return true;
}

double oz_wk_fetch_failed(oz_wk_fetch *f, const oz_wk_prefs *p, double retry_after, double u,
                          double mono, double wall)
{
    f->failures++;
    double d = oz_wk_backoff_delay(p->backoff_min_s, p->backoff_max_s, f->failures, u);
    if (retry_after > d)
        d = retry_after;
    f->retry_at = mono + d;
    f->retry_wall = wall + d;
    return d;
}

unsigned oz_wk_fetch_worked(oz_wk_fetch *f)
{
    unsigned n = f->failures;
    f->failures = 0;
    f->retry_at = 0;
    return n;
}

double oz_wk_fetch_replied(oz_wk_fetch *f, double next_rpc_delay, double mono, double wall)
{
    double d = next_rpc_delay;
    if (!(d >= 0))
        d = 0;
    if (d > NEXT_RPC_DELAY_MAX)
        d = NEXT_RPC_DELAY_MAX;
    f->work_at = mono + d;
    f->work_wall = wall + d;
    return d;
}

bool oz_wk_fetch_may_call(const oz_wk_fetch *f, double now)
{
    return !(now < f->retry_at);
}

bool oz_wk_fetch_work_due(const oz_wk_fetch *f, double now)
{
    return now >= f->work_at;
}

bool oz_wk_fetch_result_waits(const oz_wk_fetch *f, double now)
{
    return !(!oz_wk_fetch_work_due(f, now) && f->work_at - now > OZ_WK_CARRY_WAIT_S);
}

/* ---- the running loop's queue ------------------------------------------------------ */

/* The table as the buffer rule sees it: estimated seconds of computing
 * queued, spread over the allowed CPUs. */
static oz_wk_fetch_queue queue_of(const oz_wk_runner *r)
{
    oz_wk_fetch_queue q = {
        .held = r->jobs.n, .ncpus = r->ncpus, .work_buffer_s = r->prefs.work_buffer_s};
    double s = 0;
    for (size_t i = 0; i < r->jobs.n; i++) {
        const oz_wk_job *j = &r->jobs.v[i];
        if (j->t.state == OZ_TASK_DOWNLOADING || j->t.state == OZ_TASK_READY) {
            s += oz_wk_job_remaining(j, r->acct.flops);
            q.unfinished++;
        }
    }
    q.queued_s = s / (r->ncpus ? r->ncpus : 1);
    return q;
}

bool oz_wk_work_want(oz_wk_runner *r, double *want_s)
{
    oz_wk_fetch_queue q = queue_of(r);
    if (r->ctl.no_more_work) /* `ozma-worker nomorework` */
        return false;
    if (!oz_wk_fetch_want(&q, want_s))
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
    return true;
}
