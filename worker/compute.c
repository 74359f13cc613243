/*
 * compute.c - searching one task: the body of a compute thread.
 *
 * The kernel is a sequence of short steps (one chirp rate each) whose whole
 * state saves to a string and restores bit-identically (DESIGN.md §2), so a
 * task here is: load and verify the unit, make the search, restore the last
 * checkpoint if it is this unit's, then step.  Between steps the thread
 *   - returns after a final checkpoint when the process is stopping (SIGTERM)
 *     or the loop wants the core back (`quit`, fewer CPUs allowed);
 *   - holds, after one checkpoint, while the loop says suspend (user active,
 *     on battery) - holding keeps the planned search in memory so resuming
 *     costs nothing;
 *   - sleeps off its share of the CPU throttle: a step of t seconds earns
 *     t·(100-p)/p seconds of sleep at throttle p %, paid in one nap once it
 *     passes 20 ms, so the duty cycle holds whatever the step length;
 *   - checkpoints when checkpoint_ms have passed since the last one.
 * A checkpoint is checkpoint.json written durably (oz_wu_write_file:
 * temporary file, fsync, rename), so a kill -9 at any instant leaves the
 * previous checkpoint or the new one, never half of one; work lost to a crash
 * is at most one interval.  The result goes to result.json the same way,
 * then the checkpoint is removed; the loop, the task's only other writer,
 * sees result.json and marks the task done.
 *
 * The unit is loaded with oz_wu_unit_load, which verifies its sizes and
 * hashes before any sample is handed out: a unit that does not verify is an
 * error, never searched.
 *
 * Searches are made and freed under the runner's planner lock, and FFTW's
 * wisdom saved there after each one (worker.h: oz_wk_planner).
 *
 * Ownership: the loop owns the oz_wk_compute; this thread writes only the
 * progress fields (under c->lock) and the outcome (before `finished`).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "worker.h"

const char *oz_wk_suspend_name(int why)
{
    switch (why) {
    case OZ_SUSPEND_USER_ACTIVE:
        return "user active";
    case OZ_SUSPEND_BATTERY:
        return "on battery";
    case OZ_SUSPEND_REQUESTED:
        return "by ozma-worker suspend";
    default:
        return "";
    }
}

int oz_wk_compute_init(oz_wk_compute *c, const char *taskdir, int64_t replica_id,
                       const atomic_int *stop, const atomic_int *suspend)
{
    memset(c, 0, sizeof *c);
    if (oz_wk_path(c->taskdir, sizeof c->taskdir, "%s", taskdir) != OZ_WK_OK)
        return OZ_WK_EINVAL;
    c->replica_id = replica_id;
    c->stop = stop;
    c->suspend = suspend;
    atomic_init(&c->quit, 0);
    atomic_init(&c->throttle_pct, 100);
    atomic_init(&c->checkpoint_ms, 60000);
    atomic_init(&c->finished, 0);
    if (pthread_mutex_init(&c->lock, NULL) != 0)
        return OZ_WK_ENOMEM;
    return OZ_WK_OK;
}

void oz_wk_compute_destroy(oz_wk_compute *c)
{
    pthread_mutex_destroy(&c->lock);
}

typedef struct run_state {
    oz_wk_compute *c;
    oz_sci_search *s;
    char unit_sha[65];
    char ckpt_path[OZ_WK_PATH_MAX];
    double elapsed_s; /* wall seconds computing, this run and before */
} run_state;

static int checkpoint_write(run_state *r, char *why, size_t whylen)
{
    char *state = NULL;
    if (oz_sci_search_save(r->s, &state) != OZ_SCI_OK)
        return oz_wk_fail(OZ_WK_ENOMEM, why, whylen, "checkpoint: out of memory");
    json_t *o = json_pack("{s:i, s:I, s:s, s:I, s:I, s:f, s:s}", "version", 1, "replica_id",
                          (json_int_t)r->c->replica_id, "unit_sha256", r->unit_sha, "done",
                          (json_int_t)oz_sci_search_done(r->s), "steps",
                          (json_int_t)oz_sci_search_steps(r->s), "elapsed_s", r->elapsed_s,
                          "search", state);
    free(state);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!text)
        return oz_wk_fail(OZ_WK_ENOMEM, why, whylen, "checkpoint: out of memory");
    char w[512];
    int rc = oz_wu_write_file(r->ckpt_path, text, strlen(text), w, sizeof w);
    free(text);
    if (rc != OZ_WU_OK)
        return oz_wk_fail(OZ_WK_EIO, why, whylen, "checkpoint: %s", w);
    return OZ_WK_OK;
}

/* Restores checkpoint.json if it is this replica's and this unit's.  1 when
 * restored, 0 when there is none, < 0 when it is unusable (why says why). */
static int checkpoint_restore(run_state *r, char *why, size_t whylen)
{
    if (access(r->ckpt_path, F_OK) != 0)
        return 0;
    json_error_t err;
    json_t *o = json_load_file(r->ckpt_path, JSON_REJECT_DUPLICATES, &err);
    if (!o)
        return oz_wk_fail(OZ_WK_EFORMAT, why, whylen, "%s:%d: %s", r->ckpt_path, err.line,
                          err.text);
    int version, rc = OZ_WK_EFORMAT;
    json_int_t replica, done, steps;
    const char *sha, *state;
    double elapsed;
    if (json_unpack_ex(o, &err, JSON_STRICT, "{s:i, s:I, s:s, s:I, s:I, s:F, s:s}", "version",
                       &version, "replica_id", &replica, "unit_sha256", &sha, "done", &done,
                       "steps", &steps, "elapsed_s", &elapsed, "search", &state) != 0) {
        oz_wk_fail(rc, why, whylen, "%s: %s", r->ckpt_path, err.text);
        goto out;
    }
    if (version != 1 || replica != r->c->replica_id || strcmp(sha, r->unit_sha) != 0) {
        oz_wk_fail(rc, why, whylen, "%s: belongs to another replica or unit", r->ckpt_path);
        goto out;
    }
    char w[512];
    if (oz_sci_search_restore(r->s, state, w, sizeof w) != OZ_SCI_OK) {
        oz_wk_fail(rc, why, whylen, "%s: %s", r->ckpt_path, w);
        goto out;
    }
    r->elapsed_s = elapsed >= 0 ? elapsed : 0;
    rc = 1;
out:
    json_decref(o);
    return rc;
}

static void publish(run_state *r, bool held)
{
    oz_wk_compute *c = r->c;
    pthread_mutex_lock(&c->lock);
    c->done = oz_sci_search_done(r->s);
    c->steps = oz_sci_search_steps(r->s);
    c->elapsed_s = r->elapsed_s;
    c->held = held;
    pthread_mutex_unlock(&c->lock);
}

static int write_result(run_state *r, const oz_wu_unit *u, char *why, size_t whylen)
{
    oz_wu_result res;
    memset(&res, 0, sizeof res);
    const oz_wu_header *h = oz_wu_unit_header(u);
    snprintf(res.unit_id, sizeof res.unit_id, "%s", h->unit_id);
    memcpy(res.unit_sha256, oz_wu_unit_file_sha256(u), 32);
    if (oz_sci_search_result(r->s, &res.result) != OZ_SCI_OK)
        return oz_wk_fail(OZ_WK_ENOMEM, why, whylen, "result: out of memory");
    pthread_mutex_lock(&r->c->lock);
    r->c->cpu_s = res.result.cpu_s;
    pthread_mutex_unlock(&r->c->lock);
    char path[OZ_WK_PATH_MAX], w[512];
    int rc = OZ_WK_OK;
    if (oz_wk_path(path, sizeof path, "%s/result.json", r->c->taskdir) != OZ_WK_OK)
        rc = oz_wk_fail(OZ_WK_EINVAL, why, whylen, "result: path too long");
    else if (oz_wu_result_write(path, &res, w, sizeof w) != OZ_WU_OK)
        rc = oz_wk_fail(OZ_WK_EIO, why, whylen, "result: %s", w);
    oz_wu_result_clear(&res);
    return rc;
}

static bool stopping(const oz_wk_compute *c)
{
    return (c->stop && atomic_load(c->stop)) || atomic_load(&c->quit);
}

/* Makes the search of u (planning its FFTs) under the planner lock, then
 * keeps what the planner learned in the wisdom file. */
static int search_make(oz_wk_compute *c, const oz_sci_config *cfg, const oz_wu_unit *u,
                       oz_sci_search **s, char *why, size_t whylen)
{
    const oz_wu_header *h = oz_wu_unit_header(u);
    oz_wk_planner *p = c->planner;
    if (p)
        pthread_mutex_lock(&p->lock);
    int rc = oz_sci_search_new(cfg, oz_wu_unit_samples(u), (size_t)h->nsamples, h->sample_rate,
                               h->center_hz, s, why, whylen);
    char ww[512];
    if (rc == OZ_SCI_OK && p && p->wisdom_path[0] &&
        oz_wu_wisdom_save(p->wisdom_path, ww, sizeof ww) != OZ_WU_OK)
        oz_wk_log("replica %lld: FFTW's wisdom not kept: %s", (long long)c->replica_id, ww);
    if (p)
        pthread_mutex_unlock(&p->lock);
    return rc;
}

static void search_free(oz_wk_compute *c, oz_sci_search *s)
{
    if (c->planner)
        pthread_mutex_lock(&c->planner->lock);
    oz_sci_search_free(s);
    if (c->planner)
        pthread_mutex_unlock(&c->planner->lock);
}

int oz_wk_compute_run(oz_wk_compute *c)
{
    char unit_path[OZ_WK_PATH_MAX], why[512] = "";
    oz_wu_unit *u = NULL;
    run_state r = {.c = c};
    int rc;

    if (oz_wk_path(unit_path, sizeof unit_path, "%s/unit.ozwu", c->taskdir) != OZ_WK_OK ||
        oz_wk_path(r.ckpt_path, sizeof r.ckpt_path, "%s/checkpoint.json", c->taskdir) != OZ_WK_OK) {
        rc = oz_wk_fail(OZ_WK_EINVAL, why, sizeof why, "%s: path too long", c->taskdir);
        goto out;
    }
    int wrc = oz_wu_unit_load(unit_path, &u, why, sizeof why);
    if (wrc != OZ_WU_OK) {
        rc = wrc == OZ_WU_ENOMEM ? OZ_WK_ENOMEM : wrc == OZ_WU_EIO ? OZ_WK_EIO : OZ_WK_ESCIENCE;
        goto out;
    }
    const oz_wu_header *h = oz_wu_unit_header(u);
    oz_sci_config cfg = h->config;
    cfg.no_avx2 = oz_wk_host_no_avx2();
    oz_wu_sha256_hex(oz_wu_unit_file_sha256(u), r.unit_sha);
    if (search_make(c, &cfg, u, &r.s, why, sizeof why) != OZ_SCI_OK) {
        rc = OZ_WK_ESCIENCE;
        goto out;
    }
    char cw[512] = "";
    int restored = checkpoint_restore(&r, cw, sizeof cw);
    if (restored < 0) {
        /* a fresh search of the same unit: starting over is always correct */
        oz_wk_log("replica %lld: checkpoint unusable, starting over: %s", (long long)c->replica_id,
                  cw);
        search_free(c, r.s);
        r.s = NULL;
        r.elapsed_s = 0;
        if (search_make(c, &cfg, u, &r.s, why, sizeof why) != OZ_SCI_OK) {
            rc = OZ_WK_ESCIENCE;
            goto out;
        }
        restored = 0;
    }
    pthread_mutex_lock(&c->lock);
    c->resumed_at = oz_sci_search_done(r.s);
    pthread_mutex_unlock(&c->lock);
    if (restored)
        oz_wk_log("replica %lld: resuming %s at step %zu of %zu from its checkpoint",
                  (long long)c->replica_id, h->unit_id, oz_sci_search_done(r.s),
                  oz_sci_search_steps(r.s));
    else
        oz_wk_log("replica %lld: starting %s (%zu steps)", (long long)c->replica_id, h->unit_id,
                  oz_sci_search_steps(r.s));
    publish(&r, false);

    double last_ckpt = oz_wk_mono(), debt = 0;
    unsigned stepped = 0;
    bool held = false;
    rc = OZ_WK_OK;
    while (!oz_sci_search_finished(r.s)) {
        if (stopping(c)) {
            rc = OZ_WK_ESTOPPED;
            break;
        }
        if (c->suspend && atomic_load(c->suspend)) {
            if (!held) {
                held = true;
                publish(&r, true);
                if (checkpoint_write(&r, why, sizeof why) != OZ_WK_OK)
                    oz_wk_log("replica %lld: %s", (long long)c->replica_id, why);
                last_ckpt = oz_wk_mono();
            }
            oz_wk_nap(0.1, c->stop, &c->quit);
            continue;
        }
        if (held) {
            held = false;
            publish(&r, false);
        }
        double t0 = oz_wk_mono();
        if (oz_sci_search_step(r.s) != OZ_SCI_OK) {
            rc = oz_wk_fail(OZ_WK_ESCIENCE, why, sizeof why, "kernel step failed");
            break;
        }
        double busy = oz_wk_mono() - t0;
        int pct = atomic_load(&c->throttle_pct);
        if (pct >= 1 && pct < 100) {
            debt += busy * (100.0 - pct) / pct;
            if (debt >= 0.02) {
                oz_wk_nap(debt, c->stop, &c->quit);
                debt = 0;
            }
        }
        r.elapsed_s += oz_wk_mono() - t0;
        publish(&r, false);
        if (c->stop_after_steps && ++stepped >= c->stop_after_steps) {
            rc = OZ_WK_ESTOPPED;
            break;
        }
        double now = oz_wk_mono();
        if (now - last_ckpt >= atomic_load(&c->checkpoint_ms) / 1000.0 &&
            !oz_sci_search_finished(r.s)) {
            if (checkpoint_write(&r, why, sizeof why) != OZ_WK_OK)
                oz_wk_log("replica %lld: %s", (long long)c->replica_id, why);
            last_ckpt = now;
        }
    }
    if (rc == OZ_WK_ESTOPPED) {
        if (checkpoint_write(&r, why, sizeof why) != OZ_WK_OK)
            oz_wk_log("replica %lld: %s", (long long)c->replica_id, why);
        oz_wk_fail(rc, why, sizeof why, "stopped at step %zu of %zu", oz_sci_search_done(r.s),
                   oz_sci_search_steps(r.s));
        goto out;
    }
    if (rc != OZ_WK_OK)
        goto out;
    rc = write_result(&r, u, why, sizeof why);
    if (rc == OZ_WK_OK) {
        unlink(r.ckpt_path);
        oz_wk_log("replica %lld: finished %s in %.1f s", (long long)c->replica_id, h->unit_id,
                  r.elapsed_s);
    }
out:
    c->rc = rc;
    snprintf(c->why, sizeof c->why, "%s", why);
    search_free(c, r.s);
    oz_wu_unit_free(u);
    atomic_store(&c->finished, 1);
    return rc;
}

int oz_wk_checkpoint_progress(const char *taskdir, size_t *done, size_t *steps, double *elapsed_s)
{
    char p[OZ_WK_PATH_MAX];
    *done = *steps = 0;
    *elapsed_s = 0;
    if (oz_wk_path(p, sizeof p, "%s/checkpoint.json", taskdir) != OZ_WK_OK)
        return OZ_WK_EINVAL;
    json_error_t err;
    json_t *o = json_load_file(p, 0, &err);
    if (!o)
        return OZ_WK_OK;
    json_int_t d = 0, s = 0;
    double e = 0;
    json_unpack(o, "{s:I, s:I, s:F}", "done", &d, "steps", &s, "elapsed_s", &e);
    json_decref(o);
    if (d >= 0 && s >= d) {
        *done = (size_t)d;
        *steps = (size_t)s;
        *elapsed_s = e;
    }
    return OZ_WK_OK;
}
