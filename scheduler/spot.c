/*
 * spot.c - spot checks (spot.h): a step of the host's search re-run with
 * science/'s step-wise search, and its detections set against the host's
 * result.
 */
#include "spot.h"

#include <sodium.h>
#include <stdlib.h>

#include "project.h"
#include "result_bin.h"
#include "sched_errors.h"
#include "validate.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <stdint.h>
#include <time.h>

/* The detectors that see a step whole (lines and autocorrelations gather
 * over steps or are not run in this mode). */
static bool checkable(oz_sig_type t)
{
    return t == OZ_SIG_SPIKE || t == OZ_SIG_GAUSSIAN || t == OZ_SIG_PULSE || t == OZ_SIG_TRIPLET;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Is spike d, found at a rate far from host spike h's, h's tone smeared
 * over its spectrum?  Dechirped at a rate off by dc, a tone sweeps dc * T
 * Hz in a spectrum of T seconds, and the kernel, searching every rate,
 * absorbs such images into the tone through its tracks (science/found.c);
 * near h's own rate the window is a few bins, so a signal moved away from
 * where it is stays caught. */
static bool smeared_image(const oz_signal *d, const oz_signal *h, double fs)
{
    if (d->type != OZ_SIG_SPIKE || h->type != OZ_SIG_SPIKE || !d->fft_len || !h->fft_len)
        return false;
    double bd = fs / d->fft_len, bh = fs / h->fft_len, T = d->fft_len / fs;
    double at = h->freq_hz + h->chirp_hz_s * (d->time_s - h->time_s);
    return fabs(d->freq_hz - at) <= 2.0 * (bd + bh) + fabs(d->chirp_hz_s - h->chirp_hz_s) * T;
}

/* Compares the re-run of step k (its detections in `run`) with the host's
 * result, whose signal `claim` (or none: SIZE_MAX) chose the step; false
 * with out->why on a mismatch. */
static bool step_agrees(const oz_sci_config *cfg, size_t k, size_t claim, const oz_sci_result *run,
                        const oz_sci_result *host, double fs, oz_spot *out)
{
    if (claim < host->nsignals && host->signals[claim].type != OZ_SIG_SPIKE) {
        /* The claim is on this step's track: some detection of its type
         * here lies on it.  A spike's reported rate is fitted over the
         * steps (science/found.c), so the step nearest it need not see it:
         * a spike claim only chooses the step, whose detections are then
         * checked against the host's list below. */
        const oz_signal *h = &host->signals[claim];
        bool seen = false;
        for (size_t j = 0; j < run->nsignals && !seen; j++)
            seen = oz_sci_signal_same(&run->signals[j], h, fs, cfg->chirp_resolution);
        if (!seen) {
            snprintf(out->why, sizeof out->why,
                     "step %zu: the %s at %.3f Hz (length %u) the host reports is not there", k,
                     oz_sig_type_name(h->type), h->freq_hz, (unsigned)h->fft_len);
            return false;
        }
    }
    if (host->overflow) {
        if (host->nsignals < cfg->max_signals) {
            snprintf(out->why, sizeof out->why, "overflow claimed with %zu of %u signals",
                     host->nsignals, (unsigned)cfg->max_signals);
            return false;
        }
        return true; /* its search ended early: later steps never ran */
    }
    /* Every detection here is in the host's list, or merged into one about
     * as strong: the kernel keeps the merged signal of the best score, so
     * the power it reports may be a little below another detection's. */
    for (size_t j = 0; j < run->nsignals; j++) {
        const oz_signal *d = &run->signals[j];
        if (!checkable(d->type))
            continue;
        bool kept = false;
        for (size_t i = 0; i < host->nsignals && !kept; i++) {
            const oz_signal *h = &host->signals[i];
            kept = (oz_sci_signal_same(d, h, fs, cfg->chirp_resolution) &&
                    h->power >= d->power * OZ_SPOT_POWER_KEPT) ||
                   smeared_image(d, h, fs);
        }
        if (!kept) {
            snprintf(out->why, sizeof out->why,
                     "step %zu: a %s at %.3f Hz (length %u) is missing from the host's result", k,
                     oz_sig_type_name(d->type), d->freq_hz, (unsigned)d->fft_len);
            return false;
        }
    }
    return true;
}

/* Re-runs step k alone on search s and compares it. */
static int run_step(const oz_sci_config *cfg, oz_sci_search *s, double fs,
                    const oz_sci_result *host, size_t k, size_t claim, oz_spot *out, char *why,
                    size_t whylen)
{
    oz_sci_result run;
    memset(&run, 0, sizeof run);
    int rc = oz_sci_search_seek(s, k);
    if (rc != OZ_SCI_OK)
        snprintf(why, whylen, "step %zu: cannot seek there", k);
    if (rc == OZ_SCI_OK)
        rc = oz_sci_search_step(s);
    if (rc == OZ_SCI_OK)
        rc = oz_sci_search_result(s, &run);
    if (rc == OZ_SCI_OK && !step_agrees(cfg, k, claim, &run, host, fs, out))
        out->pass = false;
    oz_sci_result_clear(&run);
    return rc;
}

int oz_spot_check(const oz_sci_config *cfg, const float *iq, size_t n, double sample_rate,
                  double center_hz, const oz_sci_result *host, double u0, oz_spot *out, char *why,
                  size_t whylen)
{
    memset(out, 0, sizeof *out);
    out->pass = true;
    double t0 = cpu_now();
    oz_sci_search *plan = NULL;
    int rc = oz_sci_search_new(cfg, iq, n, sample_rate, center_hz, &plan, why, whylen);
    if (rc != OZ_SCI_OK)
        return rc;
    size_t steps = oz_sci_search_steps(plan);
    out->plan_steps = steps;
    /* a uniformly random step, and the step of a random claim of the host's */
    size_t b = 0, nclaims = 0, claim = SIZE_MAX;
    for (size_t i = 0; i < host->nsignals; i++)
        nclaims += checkable(host->signals[i].type);
    if (nclaims) {
        size_t pick = (size_t)(u0 * (double)nclaims);
        for (size_t i = 0; i < host->nsignals && claim == SIZE_MAX; i++)
            if (checkable(host->signals[i].type) && pick-- == 0)
                claim = i;
        b = oz_sci_search_step_of(plan, host->signals[claim].chirp_hz_s,
                                  host->signals[claim].fft_len);
    } else if (host->has_best[OZ_SIG_SPIKE]) {
        b = oz_sci_search_step_of(plan, host->best[OZ_SIG_SPIKE].chirp_hz_s,
                                  host->best[OZ_SIG_SPIKE].fft_len);
    } else {
        b = (size_t)(u0 * (double)steps) % steps;
    }
    out->steps[out->nsteps++] = b;
    rc = run_step(cfg, plan, sample_rate, host, b, claim, out, why, whylen);
    oz_sci_search_free(plan);
    out->cpu_s = cpu_now() - t0;
    return rc;
}

static double draw(void)
{
    return (double)randombytes_uniform(1u << 30) / (double)(1u << 30);
}

int oz_spot_unit(const char *units_dir, oz_validate_unit *v, double *cpu_s, char *why,
                 size_t whylen)
{
    bool fresh = false;
    for (size_t i = 0; i < v->nreplicas; i++)
        fresh |= v->replicas[i].validate_state == OZ_VALIDATE_INIT && v->replicas[i].spot == 0;
    if (!fresh)
        return OZ_SCHED_OK;
    char path[OZ_PROJECT_PATH_MAX], wwhy[512];
    oz_wu_unit *u = NULL;
    if (oz_project_path(units_dir, v->file, path, sizeof path) != 0)
        return oz_sched_fail(OZ_SCHED_ELIMIT, why, whylen, "unit path too long");
    oz_sci_config cfg;
    int rc = oz_validate_config(v->config_json, &cfg);
    if (rc != OZ_SCHED_OK)
        return oz_sched_fail(rc, why, whylen, "the dataset's configuration does not parse");
    if (oz_wu_unit_load(path, &u, wwhy, sizeof wwhy) != OZ_WU_OK)
        return oz_sched_fail(OZ_SCHED_EIO, why, whylen, "spot check: %s", wwhy);
    const oz_wu_header *h = oz_wu_unit_header(u);
    for (size_t i = 0; i < v->nreplicas && rc == OZ_SCHED_OK; i++) {
        oz_validate_replica *r = &v->replicas[i];
        if (r->validate_state != OZ_VALIDATE_INIT || r->spot != 0)
            continue;
        oz_wu_result res;
        if (oz_result_bin_read(r->bin, r->binlen, r->json, &res, wwhy, sizeof wwhy) != OZ_SCHED_OK)
            continue;
        oz_spot out;
        int src = oz_spot_check(&cfg, oz_wu_unit_samples(u), (size_t)h->nsamples, h->sample_rate,
                                h->center_hz, &res.result, draw(), &out, wwhy, sizeof wwhy);
        oz_wu_result_clear(&res);
        if (src != OZ_SCI_OK) {
            rc = oz_sched_fail(src == OZ_SCI_ENOMEM ? OZ_SCHED_ENOMEM : OZ_SCHED_EINVAL, why,
                               whylen, "spot check: %s", wwhy);
            break;
        }
        r->spot = out.pass ? 1 : 2;
        *cpu_s += out.cpu_s;
    }
    oz_wu_unit_free(u);
    return rc;
}
