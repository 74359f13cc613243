/*
 * plan.c - Ozma's search plan: which chirp rates, which FFT lengths at each,
 * which detectors at each length, and the FLOPs it all costs.
 *
 * FFT lengths L run over the powers of two fft_min..fft_max.  The chirp step
 * at length L is chirp_resolution * (fs/L)^2, so a tone drifts well under a
 * bin over one spectrum at the nearest searched rate.  Every step is a
 * multiple of the finest one, `base` (at fft_max): step_L = base *
 * (fft_max/L)^2.  Chirp rates are i * base for |i| <= imax = floor(limit /
 * base), visited in the order 0, +1, -1, +2, -2, ...; at rate i the lengths
 * searched are those whose step divides it (i % (fft_max/L)^2 == 0) and
 * whose own chirp limit (chirp_limit, at most fft_max's) reaches it.  At
 * each length the detectors are the rows of search.c's table that the
 * configuration has run there (oz_detector); a length keeps its powers only
 * when one of them reads more than each spectrum's peak.
 *
 * FLOPs are counted from the plan alone (5 L log2 L per FFT, 6 per sample
 * per dechirp, 3 per power, and what each detector's plan adds), so every
 * host reports the same number for the same unit and configuration, and
 * oz_sci_plan_flops gives it without samples: it fills the plan of a search
 * that is never run.  The plan allocates nothing; oz_sci_search_new builds
 * the work arrays and FFTW plans for it.
 */
#include <math.h>
#include <stdlib.h>

#include "search.h"

int oz_search_check_unit(const oz_sci_config *cfg, size_t n, double sample_rate, double center_hz,
                         char *why, size_t whylen)
{
    int rc = oz_sci_config_check(cfg, why, whylen);
    if (rc)
        return rc;
    if (!(isfinite(sample_rate) && sample_rate > 0 && sample_rate <= 1e10))
        return oz_sci_fail(OZ_SCI_EINVAL, why, whylen, "sample rate %g Hz is not in (0, 1e10]",
                           sample_rate);
    if (!(isfinite(center_hz) && fabs(center_hz) <= 1e12))
        return oz_sci_fail(OZ_SCI_EINVAL, why, whylen,
                           "centre frequency %g Hz is not within +-1e12", center_hz);
    if (n > OZ_SCI_SAMPLES_MAX)
        return oz_sci_fail(OZ_SCI_EINVAL, why, whylen, "%zu samples is more than the limit of %u",
                           n, OZ_SCI_SAMPLES_MAX);
    if ((double)n / sample_rate > 1e7 || fabs(center_hz) + sample_rate > 1e12)
        return oz_sci_fail(OZ_SCI_EINVAL, why, whylen,
                           "a unit of %zu samples at %g Hz around %g Hz reaches beyond 1e7 s or "
                           "1e12 Hz, which results cannot carry",
                           n, sample_rate, center_hz);
    if (n < cfg->fft_max)
        return oz_sci_fail(OZ_SCI_EINVAL, why, whylen,
                           "fft_max %u is longer than the unit's %zu samples", cfg->fft_max, n);
    return OZ_SCI_OK;
}

/* Band flattening's chunk and boxcar for this unit: the configuration's,
 * or for a unit shorter than a chunk, one chunk with its boxcar shrunk
 * alike. */
static int fit_bsmooth(oz_sci_search *s, char *why, size_t whylen)
{
    const oz_sci_config *cfg = &s->cfg;
    uint32_t chunk = cfg->bsmooth_chunk, boxcar = cfg->bsmooth_boxcar;
    if (!boxcar)
        return OZ_SCI_OK;
    while (chunk > s->n && chunk > 8 && boxcar > 2) {
        chunk /= 2;
        boxcar = (boxcar / 2 + 1) & ~1u;
    }
    if (s->n < chunk)
        return oz_sci_fail(OZ_SCI_EINVAL, why, whylen,
                           "bsmooth_chunk %u is longer than the unit's %zu samples",
                           cfg->bsmooth_chunk, s->n);
    s->bsmooth_chunk = chunk;
    s->bsmooth_boxcar = boxcar;
    return OZ_SCI_OK;
}

/* FLOPs of `runs` blocks of spectra of `samples` samples at length L: the
 * transform and squaring of each, and the dechirp, which rate 0 skips
 * unless the spectra are shifted in frequency. */
static uint64_t spectra_flops(uint32_t L, uint64_t samples, uint64_t runs, bool shifted)
{
    return runs * samples * (5u * oz_log2u(L) + 3u) + (shifted ? runs : runs - 1) * 6u * samples;
}

/* The detectors at length lp->L (searched at lp->runs steps): which run,
 * what they need, and what their plans add. */
static void plan_detectors(const oz_sci_config *cfg, struct len_plan *lp, uint64_t *flops)
{
    for (size_t d = 0; d < oz_ndetectors; d++) {
        const oz_detector *det = &oz_detectors[d];
        size_t need = det->scratch ? det->scratch(cfg, lp->L, lp->nspec) : 0;
        lp->det_on[d] = !det->scratch || need > 0;
        if (!lp->det_on[d])
            continue;
        lp->power |= need > 0;
        lp->scratch = need > lp->scratch ? need : lp->scratch;
        if (det->plan) {
            det->plan(cfg, lp->L, lp->nspec, lp->runs, &lp->det[d]);
            *flops += lp->det[d].flops;
            lp->half_bin |= lp->det[d].half_bin;
        }
    }
    if (lp->half_bin) /* one more set of spectra, always dechirped */
        *flops += spectra_flops(lp->L, (uint64_t)lp->nspec * lp->L, lp->runs, true);
}

int oz_search_plan_make(oz_sci_search *s, char *why, size_t whylen)
{
    const oz_sci_config *cfg = &s->cfg;
    int rc = fit_bsmooth(s, why, whylen);
    if (rc)
        return rc;
    double bin_min = s->fs / cfg->fft_max;
    s->base = cfg->chirp_resolution * bin_min * bin_min;
    /* fft_max has the widest range (oz_sci_config_check), so it runs at
     * every step, as the pairing of rates needs */
    double imax = floor(oz_sci_chirp_limit(cfg, cfg->fft_max) / s->base);
    if (imax > 1e7)
        return oz_sci_fail(OZ_SCI_EINVAL, why, whylen,
                           "chirp_max %g Hz/s at a chirp step of %g Hz/s needs %.0f chirp rates "
                           "(limit 2e7)",
                           oz_sci_chirp_limit(cfg, cfg->fft_max), s->base, 2 * imax + 1);
    s->imax = (int64_t)imax;
    s->nsteps = (size_t)(2 * s->imax + 1);

    s->flops = 0;
    s->nlens = 0;
    for (uint32_t L = cfg->fft_min; L <= cfg->fft_max; L *= 2) {
        struct len_plan *lp = &s->lens[s->nlens++];
        int64_t r = (int64_t)(cfg->fft_max / L);
        *lp = (struct len_plan){
            .L = L,
            .nspec = (uint32_t)(s->n / L),
            .every = r * r,
            .ilim = (int64_t)floor(oz_sci_chirp_limit(cfg, L) / s->base),
        };
        if (lp->ilim > s->imax)
            lp->ilim = s->imax;
        /* steps at which this L runs: i = 0 and +-every, +-2 every, ... up
         * to its limit; all but i = 0 dechirp */
        lp->runs = 1 + 2 * (uint64_t)(lp->ilim / lp->every);
        s->flops += spectra_flops(L, (uint64_t)lp->nspec * L, lp->runs, false);
        plan_detectors(cfg, lp, &s->flops);
    }
    return OZ_SCI_OK;
}

int oz_sci_plan_flops(const oz_sci_config *cfg, size_t n, double sample_rate, double center_hz,
                      uint64_t *flops, char *why, size_t whylen)
{
    *flops = 0;
    int rc = oz_search_check_unit(cfg, n, sample_rate, center_hz, why, whylen);
    if (rc)
        return rc;
    if (cfg->mode == OZ_MODE_SETI)
        return oz_seti_plan_flops(cfg, n, sample_rate, flops, why, whylen);
    oz_sci_search *s = calloc(1, sizeof *s);
    if (!s)
        return OZ_SCI_ENOMEM;
    s->cfg = *cfg;
    s->n = n;
    s->fs = sample_rate;
    rc = oz_search_plan_make(s, why, whylen);
    if (rc == OZ_SCI_OK)
        *flops = s->flops;
    oz_sci_search_free(s);
    return rc;
}

/* Which bests every search of a unit reports (ozma_science.h): the upload
 * check requires them, so it must follow the plan exactly. */
unsigned oz_sci_best_types(const oz_sci_config *cfg, uint64_t n, double sample_rate)
{
    if (cfg->mode == OZ_MODE_SETI) /* seti_search.c: spikes from ceil(spike_thresh) up */
        return cfg->fft_max >= ceil(cfg->spike_thresh) ? 1u << OZ_SIG_SPIKE : 0;
    unsigned types = 1u << OZ_SIG_SPIKE;
    for (uint32_t L = cfg->fft_min; L >= OZ_SCI_FFT_MIN && L <= cfg->fft_max; L *= 2) {
        uint64_t nspec = n / L;
        if (nspec == 0 || nspec > UINT32_MAX)
            continue;
        if (oz_gauss_runs(cfg, L, (uint32_t)nspec, sample_rate))
            types |= 1u << OZ_SIG_GAUSSIAN;
        if (oz_pulse_scratch(cfg, L, (uint32_t)nspec))
            types |= 1u << OZ_SIG_PULSE;
    }
    return types;
}
