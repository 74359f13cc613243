/*
 * unitwriter.c - writing a dataset's units: a recording into .ozwu files, a
 * few units in memory at a time.
 *
 * This is what `ozma-split` and the scheduler's `load` run.  Units come from
 * the streaming iterator (unitstream.c) in the reader's stored format, so a ci8
 * or ci16 recording stays compact in its units; each is written durably
 * (ozwu.c) and reported to the caller's on_unit callback with its file hash,
 * which is the moment a scheduler may record it.  Unit ids are DATASET-NNNNNN
 * (at least six digits), unique within a dataset and sortable by position.
 *
 * SHA-256 dominates the cost (every payload byte is hashed twice: for the
 * header's payload hash and for the file's hash), so units are hashed and
 * written by a small pool of threads while the calling thread reads the
 * next ones.  The pipeline is a ring of `nslots` jobs, each with its own
 * copy of a unit; the calling thread fills slot k, hands it to the pool, and
 * before refilling a slot waits for that slot's job and reports it - so
 * on_unit sees units in order, at most nslots units are in memory, and the
 * first error (a failed write or a callback that says stop) ends the split
 * after the jobs in flight finish.  With threads = 1 everything runs in the
 * calling thread.
 *
 * Locking: one mutex guards the queue and every job's state; workers wait on
 * `work`, the calling thread on `done`.  A job's buffer and header belong to
 * the calling thread while FREE, to one worker while QUEUED/RUNNING, and to
 * the calling thread again once DONE.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define THREADS_MAX 16

enum job_state { FREE = 0, QUEUED, RUNNING, DONE };

struct job {
    enum job_state state;
    unsigned char *buf; /* one unit in the stored format */
    oz_wu_header h;
    char *path;
    unsigned char sha[32];
    uint64_t bytes;
    int rc;
    char why[512];
};

struct pool {
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    struct job *jobs;
    size_t nslots;
    size_t next_queued; /* ring index of the oldest queued job */
    size_t nqueued;
    bool quit;
    pthread_t threads[THREADS_MAX];
    unsigned nthreads;
};

static void run_job(struct job *j)
{
    j->rc = oz_wu_unit_write_ex(j->path, &j->h, j->buf, j->sha, &j->bytes, j->why, sizeof j->why);
}

static void *worker(void *arg)
{
    struct pool *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->quit && p->nqueued == 0)
            pthread_cond_wait(&p->work, &p->mu);
        if (p->nqueued == 0 && p->quit)
            break;
        struct job *j = &p->jobs[p->next_queued];
        p->next_queued = (p->next_queued + 1) % p->nslots;
        p->nqueued--;
        j->state = RUNNING;
        pthread_mutex_unlock(&p->mu);
        run_job(j);
        pthread_mutex_lock(&p->mu);
        j->state = DONE;
        pthread_cond_broadcast(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Queues job k (the ring's next slot in order). */
static void submit(struct pool *p, size_t k)
{
    if (p->nthreads == 0) {
        run_job(&p->jobs[k]);
        p->jobs[k].state = DONE;
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->jobs[k].state = QUEUED;
    if (p->nqueued == 0)
        p->next_queued = k;
    p->nqueued++;
    pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->mu);
}

static void wait_done(struct pool *p, size_t k)
{
    if (p->nthreads == 0)
        return;
    pthread_mutex_lock(&p->mu);
    while (p->jobs[k].state != DONE)
        pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

static void pool_stop(struct pool *p)
{
    if (p->nthreads > 0) {
        pthread_mutex_lock(&p->mu);
        p->quit = true;
        pthread_cond_broadcast(&p->work);
        pthread_mutex_unlock(&p->mu);
        for (unsigned t = 0; t < p->nthreads; t++)
            pthread_join(p->threads[t], NULL);
    }
    for (size_t k = 0; p->jobs && k < p->nslots; k++) {
        free(p->jobs[k].buf);
        free(p->jobs[k].path);
    }
    free(p->jobs);
    if (p->nthreads > 0) {
        pthread_cond_destroy(&p->work);
        pthread_cond_destroy(&p->done);
        pthread_mutex_destroy(&p->mu);
    }
}

static unsigned pick_threads(unsigned asked)
{
    if (asked == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        asked = n > 0 ? (unsigned)n : 1;
    }
    return asked > THREADS_MAX ? THREADS_MAX : asked;
}

/* Sets up nslots jobs with unit-sized buffers and, for threads > 1, the
 * worker threads.  On failure everything made so far is released. */
static int pool_start(struct pool *p, unsigned threads, size_t unit_bytes, size_t pathcap,
                      char *why, size_t whylen)
{
    memset(p, 0, sizeof *p);
    p->nslots = threads > 1 ? threads + 1 : 1;
    p->jobs = calloc(p->nslots, sizeof *p->jobs);
    if (!p->jobs)
        return oz_wu_fail(OZ_WU_ENOMEM, why, whylen, "out of memory");
    for (size_t k = 0; k < p->nslots; k++) {
        p->jobs[k].buf = malloc(unit_bytes);
        p->jobs[k].path = malloc(pathcap);
        if (!p->jobs[k].buf || !p->jobs[k].path) {
            pool_stop(p);
            return oz_wu_fail(OZ_WU_ENOMEM, why, whylen, "out of memory for %zu units", p->nslots);
        }
    }
    if (threads <= 1)
        return OZ_WU_OK;
    if (pthread_mutex_init(&p->mu, NULL) != 0) {
        pool_stop(p);
        return oz_wu_fail(OZ_WU_ENOMEM, why, whylen, "cannot create a mutex");
    }
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->done, NULL);
    for (unsigned t = 0; t < threads; t++) {
        if (pthread_create(&p->threads[t], NULL, worker, p) != 0)
            break;
        p->nthreads++;
    }
    if (p->nthreads == 0) {
        /* no threads to be had: run in the calling thread */
        pthread_cond_destroy(&p->work);
        pthread_cond_destroy(&p->done);
        pthread_mutex_destroy(&p->mu);
    }
    return OZ_WU_OK;
}

/* Validates the options; fills the configuration and plan to use. */
static int check_opts(oz_wu_reader *r, const oz_wu_split_opts *o, const char **dataset,
                      oz_sci_config *cfg, oz_wu_plan *plan, char *why, size_t whylen)
{
    if (!r || !o || !o->out_dir || !*o->out_dir)
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "no input or output directory given");
    *dataset = o->dataset ? o->dataset : r->info.name;
    if (!oz_wu_id_valid(*dataset, OZ_WU_DATASET_MAX))
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen,
                          "dataset id \"%.70s\" must be 1..%u characters of [A-Za-z0-9._-], "
                          "starting with a letter, digit or '_'",
                          *dataset, OZ_WU_DATASET_MAX);
    if (o->config)
        *cfg = *o->config;
    else
        oz_sci_config_default(cfg);
    char sub[256];
    if (oz_sci_config_check(cfg, sub, sizeof sub) != OZ_SCI_OK)
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "analysis configuration: %s", sub);
    uint64_t unit = o->unit_samples ? o->unit_samples : OZ_WU_UNIT_SAMPLES_DEFAULT;
    if (unit < cfg->fft_max)
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen,
                          "units of %llu samples are shorter than the largest FFT (fft_max "
                          "%u)",
                          (unsigned long long)unit, cfg->fft_max);
    int rc = oz_wu_plan_make(r->info.nsamples, unit, o->overlap, plan, sub, sizeof sub);
    if (rc != OZ_WU_OK)
        return oz_wu_fail(rc, why, whylen, "%s: %s", r->label, sub);
    return OZ_WU_OK;
}

/* The header of the unit in view v. */
static void fill_header(oz_wu_header *h, const oz_wu_info *info, const oz_wu_split_opts *o,
                        const char *dataset, const oz_sci_config *cfg, const oz_wu_unit_view *v)
{
    memset(h, 0, sizeof *h);
    snprintf(h->dataset, sizeof h->dataset, "%s", dataset);
    snprintf(h->unit_id, sizeof h->unit_id, "%s-%06llu", dataset, (unsigned long long)v->index);
    h->unit_index = v->index;
    h->sample_rate = info->sample_rate;
    h->center_hz = info->center_hz;
    h->start_sample = v->start_sample;
    h->start_s = v->start_s;
    h->has_time = info->has_time;
    if (h->has_time)
        h->start_ns = oz_wu_time_add(info->start_ns, v->start_s);
    h->has_sky = o->has_sky || info->has_sky;
    h->ra_deg = o->has_sky ? o->ra_deg : info->ra_deg;
    h->dec_deg = o->has_sky ? o->dec_deg : info->dec_deg;
    h->format = info->format;
    h->nsamples = v->nsamples;
    h->config = *cfg;
}

int oz_wu_split_write(oz_wu_reader *r, const oz_wu_split_opts *o, uint64_t *nunits, char *why,
                      size_t whylen)
{
    if (nunits)
        *nunits = 0;
    const char *dataset = NULL;
    oz_sci_config cfg;
    oz_wu_plan plan;
    int rc = check_opts(r, o, &dataset, &cfg, &plan, why, whylen);
    if (rc != OZ_WU_OK)
        return rc;

    size_t pathcap = strlen(o->out_dir) + OZ_WU_ID_MAX + 16;
    size_t unit_bytes = (size_t)plan.unit * oz_wu_format_size(r->info.format);
    struct pool pool;
    unsigned threads = pick_threads(o->threads);
    if (plan.nunits < threads)
        threads = (unsigned)plan.nunits;
    rc = pool_start(&pool, threads, unit_bytes, pathcap, why, whylen);
    if (rc != OZ_WU_OK)
        return rc;
    oz_wu_units *units = NULL;
    rc = oz_wu_units_new(r, &plan, &units, why, whylen);

    /* Slot k holds units k, k + nslots, ...; before reusing it, report the
     * unit it held.  `reported` counts units handed to on_unit. */
    uint64_t submitted = 0, reported = 0;
    int stop = 0;
    oz_wu_unit_view v;
    while (rc == OZ_WU_OK && stop == 0) {
        size_t k = (size_t)(submitted % pool.nslots);
        if (submitted >= pool.nslots) {
            /* the slot's previous unit: wait for it and report it */
            struct job *j = &pool.jobs[k];
            wait_done(&pool, k);
            if (j->rc != OZ_WU_OK) {
                rc = oz_wu_fail(j->rc, why, whylen, "%s", j->why);
                break;
            }
            oz_wu_unit_written w = {.header = &j->h, .path = j->path, .file_bytes = j->bytes};
            memcpy(w.file_sha256, j->sha, 32);
            reported++;
            if (nunits)
                *nunits = reported;
            stop = o->on_unit ? o->on_unit(o->arg, &w, plan.nunits) : 0;
            j->state = FREE;
            if (stop != 0)
                break;
        }
        int got = oz_wu_units_next(units, &v, why, whylen);
        if (got < 0)
            rc = got;
        if (got != 1)
            break;
        struct job *j = &pool.jobs[k];
        memcpy(j->buf, v.native, v.native_bytes);
        fill_header(&j->h, &r->info, o, dataset, &cfg, &v);
        snprintf(j->path, pathcap, "%s/%s.ozwu", o->out_dir, j->h.unit_id);
        submit(&pool, k);
        submitted++;
    }
    /* Drain: report the units still in flight, in order, unless stopped. */
    for (; reported < submitted; reported++) {
        size_t k = (size_t)(reported % pool.nslots);
        struct job *j = &pool.jobs[k];
        wait_done(&pool, k);
        if (rc != OZ_WU_OK || stop != 0)
            continue;
        if (j->rc != OZ_WU_OK) {
            rc = oz_wu_fail(j->rc, why, whylen, "%s", j->why);
            continue;
        }
        oz_wu_unit_written w = {.header = &j->h, .path = j->path, .file_bytes = j->bytes};
        memcpy(w.file_sha256, j->sha, 32);
        if (nunits)
            *nunits = reported + 1;
        stop = o->on_unit ? o->on_unit(o->arg, &w, plan.nunits) : 0;
    }
    pool_stop(&pool);
    oz_wu_units_free(units);
    if (rc != OZ_WU_OK) {
        /* a failed split leaves no partial set of units behind: remove the
         * ones this run wrote (units are numbered from 0 in order) */
        char *p = malloc(pathcap);
        for (uint64_t i = 0; p && i < submitted; i++) {
            snprintf(p, pathcap, "%s/%s-%06llu.ozwu", o->out_dir, dataset, (unsigned long long)i);
            unlink(p);
        }
        free(p);
    }
    return rc != OZ_WU_OK ? rc : stop; /* 0 once every unit is written */
}
