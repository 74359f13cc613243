/*
 * jobs.c - the transitioner, validator and assimilator threads (jobs.h).
 *
 * Each thread owns one store connection and loops: do every piece of work
 * its flags show, then sleep until the tick or a kick.  The validator and
 * the assimilator read and decide up to JOB_BATCH units and write them in
 * one short transaction: one wait for the writer per unit held the
 * validator to ~900 units/s while hosts returned 2,600.  A fourth thread,
 * the checkpointer, copies the WAL into the database every 0.2 s, off the
 * request path.  While the jobs run, the database's writer thread runs too
 * (store.h: oz_db_batching_start), so the jobs' and the requests'
 * transactions are batched on one connection.  The decisions that need
 * science live here - the validator reads results as the upload packed
 * them (result_bin.h: no JSON parsed again) and compares them with
 * oz_sci_result_compare; the assimilator turns the canonical result into
 * signal rows on the dataset's clock, less any hidden canary (canary.h),
 * each placed in the sky (sky.h), and groups them into candidates
 * (candidates.h) - and the store only records them.
 * For an adaptive dataset the validator first spot-checks each new result
 * (spot.h): a re-run chirp step of the host's search, off the HTTP
 * threads.
 *
 * The validator's rule is validate.c's; the transitioner's and the
 * dispatcher's rules are transition.c's and dispatch.c's.
 */
#include "jobs.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "canary.h"
#include "credit.h"
#include "project.h"
#include "result_bin.h"
#include "spot.h"
#include "sky.h"
#include "validate.h"

enum { JOB_TRANSITION, JOB_VALIDATE, JOB_ASSIMILATE, JOB_CHECKPOINT, JOB_COUNT };
_Static_assert(JOB_COUNT == OZ_JOBS_COUNT, "jobs.h counts the jobs");
static const char *const job_names[JOB_COUNT] = {"transitioner", "validator", "assimilator",
                                                 "checkpointer"};

/* The checkpointer copies the WAL into the database this often, so that no
 * commit on the request path has to (store.h: oz_db_compact_deferred). */
#define CHECKPOINT_PERIOD_S 0.2

struct oz_jobs;

typedef struct job {
    struct oz_jobs *owner;
    int kind;
    pthread_t thread;
    bool started;
    /* Health, for the status page (under the owner's lock). */
    int64_t last_pass;     /* Unix time its last pass over its work ended; 0: none yet */
    uint64_t passes, done; /* passes made, items done in them */
    uint64_t errors;       /* failed steps */
    int64_t last_error_at;
    char last_error[256];
} job;

struct oz_jobs {
    oz_db *db;
    char units_dir[OZ_PROJECT_PATH_MAX]; /* the spot checks' unit files (spot.h) */
    double tick_s;
    oz_cand_config cand;
    oz_log_level log_level; /* OZ_LOG_OFF when quiet */
    pthread_mutex_t lock;   /* guards stop, kicks and the jobs' health */
    pthread_cond_t wake;
    bool stop;
    unsigned kicks; /* bumped by oz_jobs_kick; threads compare with what they saw */
    job jobs[JOB_COUNT];
};

/* A job's failure rc: one error line (log.h), `what` the message and arg
 * the reason; kept as the job's last error for the status page.  A full
 * disk is not logged here: the store logs once that the disk is full (and
 * once that it is not), where each job would log every tick. */
static void job_log(oz_jobs *j, int rc, const char *who, const char *what, const char *arg)
{
    if (rc != OZ_SCHED_ENOSPC)
        oz_log(j->log_level, OZ_LOG_ERROR, *what ? what : "job step failed", "job", who, "error",
               arg, (const char *)NULL);
    pthread_mutex_lock(&j->lock);
    for (int k = 0; k < JOB_COUNT; k++) {
        if (strcmp(job_names[k], who) != 0)
            continue;
        j->jobs[k].errors++;
        j->jobs[k].last_error_at = (int64_t)time(NULL);
        snprintf(j->jobs[k].last_error, sizeof j->jobs[k].last_error, "%.40s%s%.200s", what,
                 *what && arg ? ": " : "", arg ? arg : ""); /* the log line has it whole */
    }
    pthread_mutex_unlock(&j->lock);
}

/* ---- one round of each job ------------------------------------------------------------------- */

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

/* Runs job kind once over all its work; returns the number of items done,
 * or a negative error. */
static int round_transition(oz_jobs *j, oz_store *s)
{
    char why[512];
    size_t done, total = 0;
    do {
        int rc = oz_store_transition(s, now_s(), 256, &done, why, sizeof why);
        if (rc != OZ_SCHED_OK) {
            job_log(j, rc, "transitioner", "", why);
            return rc;
        }
        total += done;
    } while (done > 0);
    return (int)(total > 1000000 ? 1000000 : total);
}

/* Units the validator and the assimilator take per transaction: each
 * gathers a batch (reading and deciding on its own thread) and then waits
 * for the writer once.  A wait lasts about one of the writer's batches,
 * in which each of 256 busy hosts may return a result: at 64 units the
 * validator fell behind them (3,300 units/s validated while results came
 * in for 6,300). */
#define JOB_BATCH OZ_STORE_BATCH_MAX

/* The analysis configuration last parsed, by its text: the units of a
 * round mostly share their dataset's, and parsing it again for each unit
 * was two thirds of the validator's own time at 1,200 units/s. */
typedef struct config_cache {
    char *text; /* owned: the JSON parsed, or NULL */
    int rc;     /* oz_validate_config's */
    oz_sci_config cfg;
} config_cache;

/* text's configuration into *cfg, parsed unless it is the last one's. */
static int config_of(config_cache *c, const char *text, const oz_sci_config **cfg)
{
    if (!c->text || strcmp(c->text, text) != 0) {
        free(c->text);
        c->rc = oz_validate_config(text, &c->cfg);
        if (!(c->text = strdup(text)))
            return OZ_SCHED_ENOMEM;
    }
    *cfg = &c->cfg;
    return c->rc;
}

static int round_validate(oz_jobs *j, oz_store *s)
{
    char why[512];
    int total = 0;
    int64_t after = 0;
    config_cache cc = {.text = NULL};
    size_t n;
    int rc;
    for (;;) {
        oz_validate_unit v[JOB_BATCH];
        int *states[JOB_BATCH];
        oz_verdict d[JOB_BATCH];
        size_t got = 0;
        n = 0;
        rc = oz_store_validate_batch(s, after, v, JOB_BATCH, &got, why, sizeof why);
        for (size_t i = 0; i < got; i++) {
            after = v[i].unit_rowid;
            if (n < i) /* move it to its place among those decided */
                v[n] = v[i];
            states[n] = calloc(v[n].nreplicas ? v[n].nreplicas : 1, sizeof *states[n]);
            int64_t canonical = 0;
            int found = 0, missed = 0;
            double spot_cpu = 0;
            char swhy[300] = "";
            /* an adaptive dataset's fresh results are spot-checked first */
            int drc = v[n].adaptive ? oz_spot_unit(j->units_dir, &v[n], &spot_cpu, swhy,
                                                   sizeof swhy)
                                    : OZ_SCHED_OK;
            const oz_sci_config *cfg;
            if (drc == OZ_SCHED_OK && (drc = config_of(&cc, v[n].config_json, &cfg)) == OZ_SCHED_OK)
                drc = states[n] ? oz_validate_decide_in(&v[n], cfg, states[n], &canonical, &found,
                                                        &missed)
                                : OZ_SCHED_ENOMEM;
            if (drc != OZ_SCHED_OK) { /* this one waits for the next round; the others go on */
                char msg[400];
                snprintf(msg, sizeof msg, "unit %lld: %s", (long long)v[n].unit_rowid,
                         swhy[0] ? swhy : oz_sched_strerror(drc));
                job_log(j, drc, "validator", "", msg);
                free(states[n]);
                oz_validate_unit_clear(&v[n]);
                continue;
            }
            d[n] = (oz_verdict){.v = &v[n],
                                .states = states[n],
                                .canonical = canonical,
                                .credit = oz_credit_from_flops(v[n].flops),
                                .canary_found = found,
                                .canary_missed = missed,
                                .spot_cpu_s = spot_cpu};
            n++;
        }
        int wrc = n ? oz_store_validate_commit(s, d, n, now_s(), why, sizeof why) : OZ_SCHED_OK;
        for (size_t i = 0; i < n; i++) {
            free(states[i]);
            oz_validate_unit_clear(&v[i]);
        }
        if (wrc != OZ_SCHED_OK)
            rc = wrc;
        if (rc != OZ_SCHED_OK)
            break;
        total += (int)n;
    }
    free(cc.text);
    if (rc == OZ_SCHED_ENOTFOUND)
        return total + (int)n;
    /* a read or the write failed: the next round tries again */
    job_log(j, rc, "validator", "", why);
    return rc;
}

/* a's canary and the analysis configuration it is matched under. */
static int canary_of(const oz_assimilate_unit *a, oz_canary *c, oz_sci_config *cfg, char *why,
                     size_t whylen)
{
    if (oz_validate_config(a->config_json, cfg) != OZ_SCHED_OK)
        return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen, "the dataset's configuration");
    return oz_canary_parse(a->canary_json, c, why, whylen);
}

/* The last dataset's site and pointing, parsed once for its units, and
 * the last unit's own pointing (a .sah's track) under that site. */
typedef struct sky_cache {
    int64_t dataset_id; /* 0: none yet */
    oz_sky sky;
    oz_sky unit;
} sky_cache;

/* The sky a's signals are placed in: its own track when it has one (a
 * pointing that does not parse is unknown), under its dataset's site. */
static oz_sky *unit_sky(sky_cache *sc, const oz_assimilate_unit *a)
{
    if (sc->dataset_id != a->dataset_id) { /* a sky that does not parse is unknown */
        oz_sky_parse(a->sky, &sc->sky);
        sc->dataset_id = a->dataset_id;
    }
    if (!a->unit_sky)
        return &sc->sky;
    oz_sky_parse(a->unit_sky, &sc->unit);
    sc->unit.has_site = sc->sky.has_site;
    sc->unit.site = sc->sky.site;
    sc->unit.cache = sc->sky.cache; /* the observer depends on the site and time only */
    return &sc->unit;
}

/* The canonical result of a as signal rows into *rows (malloc'd), each
 * placed in the sky of its dataset (k), less the signals of its canary. */
static int assimilation_rows(const oz_assimilate_unit *a, oz_sky *k, int nside,
                             oz_signal_row **rows, size_t *n, oz_wu_result *res, char *why,
                             size_t whylen)
{
    *rows = NULL;
    *n = 0;
    if (oz_result_bin_read(a->bin, a->binlen, a->json, res, why, whylen) != OZ_SCHED_OK)
        return OZ_SCHED_EINVAL;
    oz_canary c;
    oz_sci_config cfg;
    int rc = a->canary_json ? canary_of(a, &c, &cfg, why, whylen) : OZ_SCHED_OK;
    if (rc != OZ_SCHED_OK)
        return rc;
    size_t count = 0;
    oz_signal_row *out = calloc(res->result.nsignals ? res->result.nsignals : 1, sizeof *out);
    if (!out)
        return oz_sched_fail(OZ_SCHED_ENOMEM, why, whylen, "out of memory");
    for (size_t i = 0; i < res->result.nsignals; i++) {
        const oz_signal *g = &res->result.signals[i];
        /* the canary never reaches the signal table (canary.h) */
        if (a->canary_json && oz_canary_matches(&c, g, a->center_hz, a->sample_rate, &cfg))
            continue;
        oz_signal_row *r = &out[count++];
        r->type = oz_sig_type_name(g->type);
        r->freq_hz = g->freq_hz;
        r->chirp_hz_s = g->chirp_hz_s;
        r->time_s = a->unit_start_s + g->time_s;
        r->score = g->score;
        r->power = g->power;
        r->period_s = g->period_s;
        r->fft_len = g->fft_len;
        r->has_time = a->has_time;
        if (a->has_time)
            r->time_ns = oz_wu_time_add(a->dataset_start_ns, r->time_s);
        oz_sky_at at;
        oz_sky_locate(k, nside, r->time_s, r->has_time, r->time_ns, r->freq_hz, &at);
        r->has_pos = at.has_pos;
        r->ra_deg = at.ra_deg;
        r->dec_deg = at.dec_deg;
        r->pixel = at.pixel;
        r->has_bary = at.has_bary;
        r->freq_bary_hz = at.freq_bary_hz;
    }
    *rows = out;
    *n = count;
    return OZ_SCHED_OK;
}

static int round_assimilate(oz_jobs *j, oz_store *s, sky_cache *sc)
{
    char why[512];
    int total = 0;
    int64_t after = 0;
    for (;;) {
        oz_assimilate_unit a[JOB_BATCH];
        oz_wu_result res[JOB_BATCH];
        oz_assimilation items[JOB_BATCH];
        oz_signal_row *rows[JOB_BATCH];
        size_t got = 0, n = 0, done = 0;
        int rc = oz_store_assimilate_batch(s, after, a, JOB_BATCH, &got, why, sizeof why);
        for (size_t i = 0; i < got; i++) {
            after = a[i].unit_rowid;
            if (n < i) /* move it to its place among those made */
                a[n] = a[i];
            size_t nrows;
            char msg[256];
            memset(&res[n], 0, sizeof res[n]);
            oz_sky *k = unit_sky(sc, &a[n]);
            int arc = assimilation_rows(&a[n], k, j->cand.nside, &rows[n], &nrows, &res[n], msg,
                                        sizeof msg);
            if (k == &sc->unit) /* keep the observers it computed for the next unit */
                sc->sky.cache = sc->unit.cache;
            if (arc != OZ_SCHED_OK) { /* this one waits for the next round; the others go on */
                char line[320];
                snprintf(line, sizeof line, "unit %lld: %s", (long long)a[n].unit_rowid, msg);
                job_log(j, OZ_SCHED_EINVAL, "assimilator", "", line);
                free(rows[n]);
                oz_wu_result_clear(&res[n]);
                oz_assimilate_unit_clear(&a[n]);
                continue;
            }
            items[n] = (oz_assimilation){.a = &a[n], .rows = rows[n], .n = nrows};
            n++;
        }
        /* done: less those another scheduler assimilated meanwhile */
        int wrc = n ? oz_store_assimilate_commit(s, items, n, &j->cand, &done, why, sizeof why)
                    : OZ_SCHED_OK;
        for (size_t i = 0; i < n; i++) {
            free(rows[i]);
            oz_wu_result_clear(&res[i]);
            oz_assimilate_unit_clear(&a[i]);
        }
        if (wrc != OZ_SCHED_OK)
            rc = wrc;
        if (rc == OZ_SCHED_ENOTFOUND)
            return total + (int)done;
        if (rc != OZ_SCHED_OK) { /* a read or the write failed: the next round tries again */
            job_log(j, rc, "assimilator", "", why);
            return rc;
        }
        total += (int)done;
    }
}

static int round_checkpoint(oz_jobs *j, oz_store *s)
{
    char why[512];
    int rc = oz_store_compact(s, why, sizeof why);
    if (rc != OZ_SCHED_OK)
        job_log(j, rc, "checkpointer", "", why);
    return rc < 0 ? rc : 0;
}

/* ---- threads ----------------------------------------------------------------------------------
 */

static void *job_main(void *arg)
{
    job *me = arg;
    oz_jobs *j = me->owner;
    const char *name = job_names[me->kind];
    char why[512];
    oz_store *s;
    sky_cache *sc = NULL; /* the assimilator's */
    if (oz_store_open(j->db, &s, why, sizeof why) != OZ_SCHED_OK) {
        job_log(j, OZ_SCHED_EDB, name, "cannot open the database", why);
        return NULL;
    }
    pthread_mutex_lock(&j->lock);
    while (!j->stop) {
        unsigned seen = j->kicks;
        pthread_mutex_unlock(&j->lock);
        int rc;
        switch (me->kind) {
        case JOB_TRANSITION:
            rc = round_transition(j, s);
            break;
        case JOB_VALIDATE:
            rc = round_validate(j, s);
            break;
        case JOB_ASSIMILATE:
            if (!sc && !(sc = calloc(1, sizeof *sc))) {
                rc = OZ_SCHED_ENOMEM;
                break;
            }
            rc = round_assimilate(j, s, sc);
            break;
        default:
            rc = round_checkpoint(j, s);
            break;
        }
        pthread_mutex_lock(&j->lock);
        if (rc >= 0) {
            me->last_pass = (int64_t)time(NULL);
            me->passes++;
            me->done += (uint64_t)rc;
        }
        /* Work done may be work for the others (a validation needs an
         * assimilation): wake them.  A failure waits for the tick. */
        if (rc > 0) {
            j->kicks++;
            pthread_cond_broadcast(&j->wake);
        }
        bool timer_only = me->kind == JOB_CHECKPOINT;
        if (j->stop || (!timer_only && j->kicks != seen))
            continue;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        double t = (double)until.tv_sec + (double)until.tv_nsec / 1e9 +
                   (timer_only ? CHECKPOINT_PERIOD_S : j->tick_s);
        until.tv_sec = (time_t)t;
        until.tv_nsec = (long)((t - (double)until.tv_sec) * 1e9);
        while (!j->stop && (timer_only || j->kicks == seen) &&
               pthread_cond_timedwait(&j->wake, &j->lock, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&j->lock);
    free(sc);
    oz_store_close(s);
    return NULL;
}

int oz_jobs_start(const oz_jobs_opts *o, oz_jobs **out, char *why, size_t whylen)
{
    *out = NULL;
    oz_jobs *j = calloc(1, sizeof *j);
    if (!j)
        return oz_sched_fail(OZ_SCHED_ENOMEM, why, whylen, "out of memory");
    j->db = o->db;
    snprintf(j->units_dir, sizeof j->units_dir, "%s", o->units_dir ? o->units_dir : "units");
    j->tick_s = o->tick_s > 0 ? o->tick_s : 1.0;
    if (o->cand)
        j->cand = *o->cand;
    else
        oz_cand_config_default(&j->cand);
    j->log_level = o->quiet ? OZ_LOG_OFF : o->log_level;
    pthread_mutex_init(&j->lock, NULL);
    pthread_cond_init(&j->wake, NULL);
    oz_db_compact_deferred(j->db);
    if (oz_db_batching_start(j->db, why, whylen) != OZ_SCHED_OK) {
        pthread_cond_destroy(&j->wake);
        pthread_mutex_destroy(&j->lock);
        free(j);
        return OZ_SCHED_ENOMEM;
    }
    for (int k = 0; k < JOB_COUNT; k++) {
        j->jobs[k].owner = j;
        j->jobs[k].kind = k;
        if (pthread_create(&j->jobs[k].thread, NULL, job_main, &j->jobs[k]) != 0) {
            oz_jobs_stop(j);
            return oz_sched_fail(OZ_SCHED_ENOMEM, why, whylen, "cannot start the %s thread",
                                 job_names[k]);
        }
        j->jobs[k].started = true;
    }
    *out = j;
    return OZ_SCHED_OK;
}

void oz_jobs_health(oz_jobs *j, oz_job_health h[OZ_JOBS_COUNT])
{
    pthread_mutex_lock(&j->lock);
    for (int k = 0; k < JOB_COUNT; k++) {
        const job *b = &j->jobs[k];
        h[k] = (oz_job_health){.name = job_names[k],
                               .last_pass = b->last_pass,
                               .passes = b->passes,
                               .done = b->done,
                               .errors = b->errors,
                               .last_error_at = b->last_error_at};
        memcpy(h[k].last_error, b->last_error, sizeof h[k].last_error);
    }
    pthread_mutex_unlock(&j->lock);
}

json_t *oz_jobs_health_json(oz_jobs *j)
{
    json_t *o = json_object();
    if (!j || !o)
        return o;
    oz_job_health h[OZ_JOBS_COUNT];
    oz_jobs_health(j, h);
    for (int k = 0; k < JOB_COUNT; k++) {
        json_t *x = json_pack("{sI sI sI sI}", "last_pass", (json_int_t)h[k].last_pass, "passes",
                              (json_int_t)h[k].passes, "done", (json_int_t)h[k].done, "errors",
                              (json_int_t)h[k].errors);
        if (x && h[k].errors &&
            (json_object_set_new(x, "last_error", json_string(h[k].last_error)) ||
             json_object_set_new(x, "last_error_at", json_integer(h[k].last_error_at)))) {
            json_decref(x);
            x = NULL;
        }
        if (!x || json_object_set_new(o, h[k].name, x)) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

void oz_jobs_kick(oz_jobs *j)
{
    if (!j)
        return;
    pthread_mutex_lock(&j->lock);
    j->kicks++;
    pthread_cond_broadcast(&j->wake);
    pthread_mutex_unlock(&j->lock);
}

void oz_jobs_stop(oz_jobs *j)
{
    if (!j)
        return;
    pthread_mutex_lock(&j->lock);
    j->stop = true;
    pthread_cond_broadcast(&j->wake);
    pthread_mutex_unlock(&j->lock);
    for (int k = 0; k < JOB_COUNT; k++)
        if (j->jobs[k].started)
            pthread_join(j->jobs[k].thread, NULL);
    oz_db_batching_stop(j->db);
    pthread_cond_destroy(&j->wake);
    pthread_mutex_destroy(&j->lock);
    free(j);
}
