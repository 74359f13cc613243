/*
 * seti_search.c - the seti mode: SETI@home v8's search, pair by pair.
 *
 * Plan (v8's chirp/FFT table).  Each FFT length L has its own chirp step,
 * chirp_resolution / (T_analysis * T_fft): T_fft is a spectrum's duration
 * and T_analysis the time over which a drifting tone must stay within a bin
 * for the detectors that run at L: two beam crossings where Gaussians are
 * fitted, one (at most beam_width / pot_min_slew) where pulses or triplets
 * are looked for, else T_fft itself.  Rates run from 0 to the length's chirp
 * limit by adding the step (in double, as v8 does, so the rounding matches),
 * each rounded to a multiple of the smallest step of all lengths, and are
 * searched at both signs.  A (rate, L) pair carries two flags: GaussFit
 * (L short enough for the Gaussian power-over-time and the telescope slewing
 * within pot_min_slew..pot_max_slew) and PulseFind (L in the pulse range;
 * when Gaussians are fitted, only every other rate of the length).  The pairs
 * are visited in v8's order: by |rate|, positive before negative, then by L.
 *
 * Steps.  A step is one rate with all its lengths: for each length the
 * unit (band-flattened once at plan time when the configuration asks, as v8
 * does) is dechirped and transformed into nspec = n / L spectra and squared,
 * chunk by chunk in a cache-sized buffer (into a block of powers where a
 * power-over-time detector will read them, else one spectrum at a time,
 * searched at once); then, spectrum by spectrum, the spike search (lengths from
 * ceil(spike_thresh) up) and the autocorrelation (at autocorr_fftlen), then
 * the Gaussians over the whole block, then pulses and triplets.  That is v8's
 * order of detections, which matters: v8 stops at its max_signals-th
 * reported signal (overflow), so the list it returns is the first
 * max_signals in this order.  Nothing is merged: every detection is a
 * signal, as in v8's result file.
 *
 * Best of each type: every detection, reported or not, competes on v8's
 * score for its type (oz_seti_hit.score); the first of equal scores stays.
 * The scores are kept beside the signals and saved with the state.
 *
 * FLOPs come from the plan alone: 5 L log2 L + 4 L per spectrum (transform,
 * power, spike mean), the same again for the autocorrelation's transform,
 * 6 per sample per dechirp (one per pair at a rate other than 0), and the
 * band flattening's two transforms.
 */
#include <fftw3.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chirp.h"
#include "seti.h"
#include "seti_gamma.h"
#include "simd.h"

#define SETI_SPIKE_SCORE_HIGH 40.0 /* v8's spike score: log10(peak / this) */

struct seti_pair {
    int32_t ind; /* rate = ind * min_step */
    uint32_t L;
    bool gauss, pulse;
};

struct seti_len {
    uint32_t L, nspec;
    uint32_t batch;   /* spectra per chunk: SETI_CHUNK / L, at least 1 */
    fftwf_plan chunk; /* batch transforms in place in r->row */
};

/* Samples per chunk: each chunk of the unit is dechirped and transformed in
 * a buffer that stays in cache and squared from there, into the block of
 * powers where a power-over-time detector reads them, else into one row
 * searched at once (spikes, autocorrelation). */
#define SETI_CHUNK 32768u

struct oz_seti_run {
    oz_sci_config cfg;
    const float *iq; /* the caller's samples, or flat */
    float *flat;     /* band-flattened copy, owned (NULL: none) */
    size_t n;
    double fs, f0;

    double min_step;         /* Hz/s, every rate is a multiple */
    struct seti_pair *pairs; /* npairs, v8's order */
    size_t npairs;
    size_t *step_first; /* nsteps + 1: step k is pairs[step_first[k] .. step_first[k+1]) */
    size_t nsteps;
    unsigned nlens;
    struct seti_len lens[OZ_SCI_NLENS];
    uint32_t spike_min;
    bool avx2;            /* oz_simd_avx2(&cfg) */
    oz_seti_autocorr *ac; /* NULL when no length is autocorr_fftlen */
    uint64_t flops;

    /* work arrays */
    float *power, *scratch;
    fftwf_complex *row; /* max(SETI_CHUNK, fft_max) transformed samples */
    float *rowp;        /* one spectrum's powers */

    /* the state */
    size_t done;
    oz_signal *list; /* cfg.max_signals */
    size_t nlist;
    bool overflow;
    bool has_best[OZ_SIG_NTYPES];
    oz_signal best[OZ_SIG_NTYPES];
    double rank[OZ_SIG_NTYPES]; /* v8's score of each best */
    double cpu_s, fft_s;
    double chirp; /* the block being searched (for on_hit) */
    uint32_t cur_L;
};

/* ---- the plan -------------------------------------------------------------- */

/* What v8 derives from the unit and its analysis_cfg (chirpfft.cpp). */
struct v8_limits {
    double slew;        /* degrees per second */
    bool slew_ok;       /* within pot_min_slew .. pot_max_slew: Gaussians possible */
    uint32_t gauss_max; /* longest Gaussian length */
    uint32_t pulse_min, pulse_max, triplet_max;
    double beam_s; /* seconds for the beam to cross a point */
    double dur, n; /* the unit's seconds and samples */
};

static struct v8_limits v8_limits(const oz_sci_config *cfg, size_t n, double fs)
{
    const oz_sci_seti *p = &cfg->seti;
    struct v8_limits v;
    double dur = (double)n / fs;
    double beams = p->angle_range / p->beam_width > 1.0 ? p->angle_range / p->beam_width : 1.0;
    v.slew = p->angle_range / dur;
    v.slew_ok = v.slew >= p->pot_min_slew && v.slew <= p->pot_max_slew;
    v.gauss_max = (uint32_t)(n / p->gauss_pot_length);
    v.pulse_min = (uint32_t)ceil((double)n / (p->pulse_max * beams * p->pulse_beams));
    double pmax = floor((double)n / (p->pulse_min * p->pulse_beams * beams));
    v.pulse_max = pmax < (double)p->pulse_fft_max ? (uint32_t)pmax : p->pulse_fft_max;
    v.triplet_max = (uint32_t)(n / p->triplet_min);
    v.beam_s = dur / p->angle_range * p->beam_width; /* inf for a fixed pointing */
    v.dur = dur;
    v.n = (double)n;
    return v;
}

static double chirp_step(const oz_sci_config *cfg, const struct v8_limits *v, uint32_t L, double fs)
{
    (void)fs;
    double t_fft = v->dur / (v->n / L), t; /* v8's arithmetic, for v8's rounding */
    if (L <= v->gauss_max && v->slew_ok)
        t = 2 * v->beam_s;
    else if (L <= v->pulse_max && L <= v->triplet_max)
        t = fmin(v->beam_s, cfg->seti.beam_width / cfg->seti.pot_min_slew);
    else
        t = t_fft;
    return cfg->chirp_resolution / (t * t_fft);
}

/* The longest length at which a pulse could be reported at all (v8's
 * MaxPulseFFTLenAlt): from the longest pulse length down, the first whose
 * segments are long enough that an ideal fold (all power in one point,
 * 3 adds) passes v8's threshold. */
static uint32_t pulse_len_alt(const oz_sci_config *cfg, const struct v8_limits *v, size_t n)
{
    const oz_sci_seti *p = &cfg->seti;
    if (v->pulse_max < cfg->fft_min)
        return v->pulse_max;
    uint32_t L = cfg->fft_max;
    while (L > v->pulse_max && L > cfg->fft_min)
        L /= 2;
    double beams = p->angle_range / p->beam_width > 1.0 ? p->angle_range / p->beam_width : 1.0;
    for (; L > 1; L /= 2) {
        int len = (int)(((double)n / L) / (p->pulse_beams * beams) + 0.5);
        int di = (len / 2 + 1) / 2;
        float y = (float)(-p->pulse_thresh - (double)logf((float)di));
        if (oz_seti_invert_lcgf(y, 3.0f, 0.0001f) <= (float)len)
            break;
    }
    return L;
}

/* v8's order: |ind|, then positive before negative, then L. */
static int pair_order(const void *pa, const void *pb)
{
    const struct seti_pair *a = pa, *b = pb;
    int64_t ka = 2 * (int64_t)llabs(a->ind) + (a->ind < 0),
            kb = 2 * (int64_t)llabs(b->ind) + (b->ind < 0);
    if (ka != kb)
        return ka < kb ? -1 : 1;
    return a->L < b->L ? -1 : a->L > b->L;
}

static int make_plan(oz_seti_run *r, char *why, size_t whylen)
{
    const oz_sci_config *cfg = &r->cfg;
    struct v8_limits v = v8_limits(cfg, r->n, r->fs);
    uint32_t pulse_alt = pulse_len_alt(cfg, &v, r->n);
    double steps[OZ_SCI_NLENS];
    r->min_step = 0;
    unsigned nl = 0;
    for (uint32_t L = cfg->fft_min; L <= cfg->fft_max; L *= 2, nl++) {
        steps[nl] = chirp_step(cfg, &v, L, r->fs);
        if (!(steps[nl] > 0) || !isfinite(steps[nl]))
            return oz_sci_fail(OZ_SCI_EINVAL, why, whylen,
                               "seti mode: no chirp step at length %u (check seti.beam_width "
                               "and seti.pot_min_slew)",
                               L);
        if (r->min_step == 0 || steps[nl] < r->min_step)
            r->min_step = steps[nl];
    }
    /* count first, so that a plan too large is refused before allocating */
    size_t total = 0;
    nl = 0;
    for (uint32_t L = cfg->fft_min; L <= cfg->fft_max; L *= 2, nl++) {
        double lim = oz_sci_chirp_limit(cfg, L);
        double k = floor(lim / steps[nl]) + 2;
        if (k > 1e7 || lim / r->min_step > 1e9)
            return oz_sci_fail(OZ_SCI_EINVAL, why, whylen,
                               "seti mode: chirp limit %g Hz/s at length %u needs %.0f rates", lim,
                               L, k);
        total += 2 * (size_t)k;
    }
    r->pairs = calloc(total, sizeof *r->pairs);
    if (!r->pairs)
        return oz_sci_fail(OZ_SCI_ENOMEM, why, whylen, "out of memory for %zu chirp rates", total);

    size_t np = 0;
    nl = 0;
    for (uint32_t L = cfg->fft_min; L <= cfg->fft_max; L *= 2, nl++) {
        double lim = oz_sci_chirp_limit(cfg, L);
        bool gauss = L <= v.gauss_max && v.slew_ok;
        bool in_pulse = L <= v.pulse_max && L >= v.pulse_min;
        bool pulse = false;
        for (double rate = 0.0; rate <= lim && np + 2 <= total; rate += steps[nl]) {
            pulse = v.slew_ok ? !pulse && gauss && in_pulse : in_pulse;
            int32_t ind = (int32_t)floor(rate / r->min_step + 0.5);
            bool pf = pulse && L <= pulse_alt;
            r->pairs[np++] = (struct seti_pair){ind, L, gauss, pf};
            if (rate != 0.0)
                r->pairs[np++] = (struct seti_pair){-ind, L, gauss, pf};
        }
    }
    qsort(r->pairs, np, sizeof *r->pairs, pair_order);
    /* v8 keys its table by (rate, L): a later duplicate replaces an earlier
     * one, and both come from the same length's run, identical but for the
     * flags of the one generated later. */
    size_t w = 0;
    for (size_t i = 0; i < np; i++) {
        if (w && pair_order(&r->pairs[w - 1], &r->pairs[i]) == 0)
            r->pairs[w - 1] = r->pairs[i];
        else
            r->pairs[w++] = r->pairs[i];
    }
    r->npairs = w;

    r->step_first = calloc(r->npairs + 1, sizeof *r->step_first);
    if (!r->step_first)
        return oz_sci_fail(OZ_SCI_ENOMEM, why, whylen, "out of memory for the plan");
    r->nsteps = 0;
    for (size_t i = 0; i < r->npairs; i++)
        if (i == 0 || r->pairs[i].ind != r->pairs[i - 1].ind)
            r->step_first[r->nsteps++] = i;
    r->step_first[r->nsteps] = r->npairs;

    r->spike_min = (uint32_t)ceil(cfg->spike_thresh);
    r->flops = 0;
    for (size_t i = 0; i < r->npairs; i++) {
        uint32_t L = r->pairs[i].L;
        uint64_t per = (uint64_t)r->n * (5u * oz_log2u(L) + 4u);
        r->flops += per + (r->pairs[i].ind != 0 ? 6u * (uint64_t)r->n : 0u);
        if (L == cfg->seti.autocorr_fftlen)
            r->flops += per;
    }
    if (cfg->bsmooth_boxcar)
        r->flops += (uint64_t)r->n * (10u * oz_log2u(cfg->bsmooth_chunk) + 10u);
    return OZ_SCI_OK;
}

static unsigned fftw_flags(oz_fft_planner p)
{
    return p == OZ_FFT_PATIENT ? FFTW_PATIENT : p == OZ_FFT_MEASURE ? FFTW_MEASURE : FFTW_ESTIMATE;
}

static int make_workspace(oz_seti_run *r, char *why, size_t whylen)
{
    const oz_sci_config *cfg = &r->cfg;
    unsigned flags = fftw_flags(cfg->planner);
    r->power = fftwf_alloc_real(r->n);
    size_t chunk = cfg->fft_max > SETI_CHUNK ? cfg->fft_max : SETI_CHUNK;
    r->row = fftwf_alloc_complex(chunk);
    r->rowp = fftwf_alloc_real(cfg->fft_max);
    r->list = calloc(cfg->max_signals, sizeof *r->list);
    if (!r->power || !r->row || !r->rowp || !r->list)
        return oz_sci_fail(OZ_SCI_ENOMEM, why, whylen, "out of memory for a %zu-sample unit", r->n);
    size_t scratch = 0;
    fftwf_make_planner_thread_safe();
    for (uint32_t L = cfg->fft_min; L <= cfg->fft_max; L *= 2) {
        struct seti_len *sl = &r->lens[r->nlens++];
        sl->L = L;
        sl->nspec = (uint32_t)(r->n / L);
        int len = (int)L;
        sl->batch = L >= SETI_CHUNK ? 1 : SETI_CHUNK / L;
        sl->batch = sl->batch < sl->nspec ? sl->batch : sl->nspec;
        sl->chunk = fftwf_plan_many_dft(1, &len, (int)sl->batch, r->row, NULL, 1, len, r->row, NULL,
                                        1, len, FFTW_FORWARD, flags);
        if (!sl->chunk)
            return oz_sci_fail(OZ_SCI_EFFT, why, whylen, "FFTW made no plan for %u x %u points",
                               sl->batch, L);
        oz_seti_block b = {NULL, L, sl->nspec, r->n, r->fs, &cfg->seti, r->avx2, false};
        size_t g = oz_seti_gauss_scratch(&b), p = oz_seti_pulse_scratch(&b);
        scratch = g > scratch ? g : scratch;
        scratch = p > scratch ? p : scratch;
        if (L == cfg->seti.autocorr_fftlen) {
            int rc = oz_seti_autocorr_new(L, flags, &r->ac);
            if (rc)
                return oz_sci_fail(rc, why, whylen, "autocorrelation at %u points: %s", L,
                                   oz_sci_strerror(rc));
        }
    }
    if (scratch && !(r->scratch = fftwf_alloc_real(scratch)))
        return oz_sci_fail(OZ_SCI_ENOMEM, why, whylen, "out of memory for a %zu-sample unit", r->n);
    if (cfg->bsmooth_boxcar) { /* the unit is a chunk long at least (check_unit) */
        if (!(r->flat = fftwf_alloc_real(2 * r->n)))
            return oz_sci_fail(OZ_SCI_ENOMEM, why, whylen, "out of memory for a %zu-sample unit",
                               r->n);
        int rc = oz_bsmooth(r->iq, r->flat, r->n, cfg->bsmooth_chunk, cfg->bsmooth_boxcar, flags);
        if (rc)
            return oz_sci_fail(rc, why, whylen, "band flattening: %s", oz_sci_strerror(rc));
        r->iq = r->flat;
    }
    return OZ_SCI_OK;
}

/* What v8 takes beyond oz_search_check_unit: units of a power of two
 * samples, at least one band-flattening chunk long. */
static int check_unit(const oz_sci_config *cfg, size_t n, char *why, size_t whylen)
{
    if (n & (n - 1))
        return oz_sci_fail(OZ_SCI_EINVAL, why, whylen,
                           "seti mode: a unit of %zu samples; v8's units are a power of two", n);
    if (cfg->bsmooth_boxcar && n < cfg->bsmooth_chunk)
        return oz_sci_fail(OZ_SCI_EINVAL, why, whylen,
                           "bsmooth_chunk %u is longer than the unit's %zu samples",
                           cfg->bsmooth_chunk, n);
    return OZ_SCI_OK;
}

/* A run with its plan for n samples at fs, and no samples or work arrays
 * yet. */
static int plan_run(const oz_sci_config *cfg, size_t n, double fs, oz_seti_run **out, char *why,
                    size_t whylen)
{
    *out = NULL;
    int rc = check_unit(cfg, n, why, whylen);
    if (rc)
        return rc;
    oz_seti_run *r = calloc(1, sizeof *r);
    if (!r)
        return OZ_SCI_ENOMEM;
    r->cfg = *cfg;
    r->n = n;
    r->fs = fs;
    if ((rc = make_plan(r, why, whylen))) {
        oz_seti_run_free(r);
        return rc;
    }
    *out = r;
    return OZ_SCI_OK;
}

int oz_seti_plan_flops(const oz_sci_config *cfg, size_t n, double fs, uint64_t *flops, char *why,
                       size_t whylen)
{
    oz_seti_run *r;
    int rc = plan_run(cfg, n, fs, &r, why, whylen);
    if (rc == OZ_SCI_OK)
        *flops = r->flops;
    oz_seti_run_free(r);
    return rc;
}

int oz_seti_run_new(const oz_sci_config *cfg, const float *iq, size_t n, double fs, double f0,
                    oz_seti_run **out, char *why, size_t whylen)
{
    int rc = plan_run(cfg, n, fs, out, why, whylen);
    if (rc)
        return rc;
    oz_seti_run *r = *out;
    r->iq = iq;
    r->f0 = f0;
    r->avx2 = oz_simd_avx2(cfg);
    if ((rc = make_workspace(r, why, whylen))) {
        oz_seti_run_free(r);
        *out = NULL;
        return rc;
    }
    return OZ_SCI_OK;
}

void oz_seti_run_free(oz_seti_run *r)
{
    if (!r)
        return;
    for (unsigned i = 0; i < r->nlens; i++) {
        if (r->lens[i].chunk)
            fftwf_destroy_plan(r->lens[i].chunk);
    }
    fftwf_free(r->row);
    fftwf_free(r->rowp);
    oz_seti_autocorr_free(r->ac);
    fftwf_free(r->power);
    fftwf_free(r->scratch);
    fftwf_free(r->flat);
    free(r->pairs);
    free(r->step_first);
    free(r->list);
    free(r);
}

size_t oz_seti_run_steps(const oz_seti_run *r)
{
    return r->nsteps;
}
size_t oz_seti_run_done(const oz_seti_run *r)
{
    return r->done;
}
uint64_t oz_seti_run_flops(const oz_seti_run *r)
{
    return r->flops;
}
double oz_seti_run_min_step(const oz_seti_run *r)
{
    return r->min_step;
}

size_t oz_seti_run_npairs(const oz_seti_run *r)
{
    return r->npairs;
}

void oz_seti_run_pair(const oz_seti_run *r, size_t i, int32_t *ind, uint32_t *L)
{
    *ind = r->pairs[i].ind;
    *L = r->pairs[i].L;
}

size_t oz_seti_run_find(const oz_seti_run *r, int32_t ind)
{
    for (size_t k = 0; k < r->nsteps; k++)
        if (r->pairs[r->step_first[k]].ind == ind)
            return k;
    return r->nsteps;
}

int oz_seti_run_goto(oz_seti_run *r, size_t step)
{
    if (step > r->nsteps)
        return OZ_SCI_EINVAL;
    r->done = step;
    return OZ_SCI_OK;
}

bool oz_seti_run_finished(const oz_seti_run *r)
{
    return r->done >= r->nsteps || r->overflow;
}

/* ---- detections -------------------------------------------------------------- */

/* v8's frequency of a hit at its time (seti_header.cpp): a bin's offset
 * from the samples' zero frequency, positive up to L - L/(2 ifft_len), plus
 * the drift the dechirp removed, wrapped into the band; an autocorrelation
 * has no bin and is at the band's centre (seti.center_offset_hz). */
static double hit_freq(const oz_seti_run *r, const oz_seti_hit *h)
{
    const uint32_t L = r->cur_L, ifft = r->cfg.seti.ifft_len;
    const double lo = r->f0 - 0.5 * r->fs / ifft;
    double k = h->bin < L - L / (2 * ifft) ? (double)h->bin : (double)h->bin - L;
    double f =
        h->type == OZ_SIG_AUTOCORR ? r->f0 + r->cfg.seti.center_offset_hz : r->f0 + r->fs * k / L;
    f += r->chirp * h->time_s;
    while (f < lo)
        f += r->fs;
    while (f > lo + r->fs)
        f -= r->fs;
    return f;
}

/* Whether the unit has reported a Gaussian (v8's gaussian_count > 0). */
static bool gauss_reported(const oz_seti_run *r)
{
    for (size_t i = 0; i < r->nlist; i++)
        if (r->list[i].type == OZ_SIG_GAUSSIAN)
            return true;
    return false;
}

/* Whether a hit replaces the best of its type, by v8's rules: a spike's or
 * autocorrelation's first one always does; a Gaussian's, pulse's or
 * triplet's must beat v8's starting score (-12, 0, 0); after that, a
 * strictly higher score; and once the unit has reported a Gaussian, only
 * reported Gaussians compete (v8 scores the others -13). */
static bool better(const oz_seti_run *r, const oz_seti_hit *h)
{
    static const double start[OZ_SIG_NTYPES] = {
        [OZ_SIG_SPIKE] = -HUGE_VAL, [OZ_SIG_AUTOCORR] = -HUGE_VAL, [OZ_SIG_GAUSSIAN] = -12.0,
        [OZ_SIG_PULSE] = 0.0,       [OZ_SIG_TRIPLET] = 0.0,        [OZ_SIG_LINE] = HUGE_VAL,
    };
    if (h->type == OZ_SIG_GAUSSIAN && !h->report && gauss_reported(r))
        return false;
    return h->score > (r->has_best[h->type] ? r->rank[h->type] : start[h->type]);
}

/* A hit becomes a signal at the block's chirp and length: its frequency at
 * its time (the bin's offset from f0 plus the drift the dechirp removed).
 * It competes for best of its type, and is listed when v8 reports it; the
 * max_signals-th listed signal ends the search, as v8's overflow does. */
static void on_hit(void *ctx, const oz_seti_hit *h)
{
    oz_seti_run *r = ctx;
    if (r->overflow || (unsigned)h->type >= OZ_SIG_NTYPES)
        return;
    const oz_sci_seti *p = &r->cfg.seti;
    double thr = h->type == OZ_SIG_SPIKE      ? r->cfg.spike_thresh
                 : h->type == OZ_SIG_AUTOCORR ? p->autocorr_thresh
                 : h->type == OZ_SIG_GAUSSIAN ? p->gauss_peak_power_thresh
                 : h->type == OZ_SIG_TRIPLET  ? p->triplet_thresh
                                              : 0.0;
    double score =
        h->type == OZ_SIG_PULSE ? (h->thresh > 0 ? h->snr / h->thresh : 0) : h->peak_power / thr;
    oz_signal s = {
        .type = h->type,
        .fft_len = r->cur_L,
        .freq_hz = hit_freq(r, h),
        .chirp_hz_s = r->chirp,
        .time_s = h->time_s,
        .power = h->peak_power,
        .score = isfinite(score) && score > 0 ? score : 0,
        .period_s = h->period_s,
        .sigma_s = h->sigma_s,
        .chisq = h->chisq,
        .mean_power = h->mean_power,
        .delay_s = h->delay_s,
        .null_chisq = h->null_chisq,
        .max_power = h->max_power,
        .snr = h->snr,
        .thresh = h->thresh,
        .len_prof = h->len_prof,
    };
    if (better(r, h)) {
        r->best[s.type] = s;
        r->rank[s.type] = h->score;
        r->has_best[s.type] = true;
    }
    if (h->report) {
        r->list[r->nlist++] = s;
        if (r->nlist >= r->cfg.max_signals)
            r->overflow = true;
    }
}

/* v8's spike search of one spectrum: its mean (float sums over blocks of
 * v8's size), the first strongest bin from 1 up, peak over mean.  X is the
 * spectrum's transformed samples, row gets their powers. */
static void spikes_row(oz_seti_run *r, const float *X, float *row, uint32_t L, uint32_t ifft)
{
    uint32_t at;
    float total,
        peak = oz_seti_power_stats(X, row, L, oz_seti_sum_block(L, 8), r->avx2, &total, &at);
    float mean = total / (float)L;
    peak /= mean;
    oz_seti_hit h = {
        .type = OZ_SIG_SPIKE,
        .bin = at,
        .time_s = ((double)ifft + 0.5) * L / r->fs,
        .peak_power = peak,
        .mean_power = 1.0,
        .score = peak > 0 ? log10(peak / SETI_SPIKE_SCORE_HIGH) : -12.0,
        .report = peak > r->cfg.spike_thresh,
    };
    on_hit(r, &h);
}

/* The chunk of batch spectra from sample `at`, dechirped into r->row and
 * transformed there, in cache: the unit is read once per length and no
 * dechirped copy of it is written. */
static void spectra(oz_seti_run *r, const struct seti_len *sl, size_t at)
{
    const size_t len = (size_t)sl->batch * sl->L;
    if (r->chirp == 0.0)
        memcpy(r->row, r->iq + 2 * at, len * sizeof *r->row);
    else
        oz_dechirp(r->iq + 2 * at, (float *)r->row, at, len, r->fs, r->chirp, 0.0, r->avx2);
    double f0 = oz_thread_cpu_s();
    fftwf_execute(sl->chunk);
    r->fft_s += oz_thread_cpu_s() - f0;
}

/* The count spectra in r->row from spectrum i0 squared, spectrum j into out
 * + j stride (stride 0: all into out, a row's room, each searched before
 * the next), and the spectrum-by-spectrum detectors run on each as it is
 * squared: a spike search, which squares it in the same pass, then an
 * autocorrelation. */
static void square_rows(oz_seti_run *r, const oz_seti_block *b, uint32_t i0, uint32_t count,
                        float *out, size_t stride)
{
    const uint32_t L = b->L;
    const bool spikes = L >= r->spike_min, ac = r->ac && L == r->cfg.seti.autocorr_fftlen;
    if (!spikes && !ac) { /* nothing to search spectrum by spectrum */
        if (stride)
            oz_seti_powers((const float *)r->row, out, (size_t)count * L, r->avx2);
        return;
    }
    for (uint32_t j = 0; j < count && !r->overflow; j++) {
        const float *X = (const float *)(r->row + (size_t)j * L);
        float *row = out + j * stride;
        if (spikes)
            spikes_row(r, X, row, L, i0 + j);
        else
            oz_seti_powers(X, row, L, r->avx2);
        if (ac && !r->overflow)
            r->fft_s += oz_seti_autocorr_search(r->ac, b, row, i0 + j, on_hit, r);
    }
}

/* A length where a power-over-time detector runs: the whole block of
 * powers, searched spectrum by spectrum as it is made, then for Gaussians,
 * then for pulses and triplets. */
static void search_block(oz_seti_run *r, const struct seti_len *sl, const struct seti_pair *pp,
                         const oz_seti_block *b)
{
    const size_t chunk = (size_t)sl->batch * sl->L;
    for (size_t at = 0; at < r->n && !r->overflow; at += chunk) { /* in cache */
        spectra(r, sl, at);
        square_rows(r, b, (uint32_t)(at / sl->L), sl->batch, r->power + at, sl->L);
    }
    if (pp->gauss && !r->overflow)
        oz_seti_gauss_search(b, r->scratch, on_hit, r);
    if (!r->overflow)
        oz_seti_pulse_search(b, pp->pulse, r->scratch, on_hit, r);
}

/* A length where only spikes and autocorrelations are looked for: chunk by
 * chunk, each spectrum squared into one row as it is searched. */
static void search_rows(oz_seti_run *r, const struct seti_len *sl, const oz_seti_block *b)
{
    const uint32_t L = sl->L;
    for (uint32_t i0 = 0; i0 < sl->nspec && !r->overflow; i0 += sl->batch) {
        spectra(r, sl, (size_t)i0 * L);
        square_rows(r, b, i0, sl->batch, r->rowp, 0);
    }
}

int oz_seti_run_step(oz_seti_run *r)
{
    if (oz_seti_run_finished(r))
        return OZ_SCI_EINVAL;
    double t0 = oz_thread_cpu_s();
    const struct seti_pair *first = &r->pairs[r->step_first[r->done]];
    const struct seti_pair *end = &r->pairs[r->step_first[r->done + 1]];
    r->chirp = first->ind * r->min_step;
    for (const struct seti_pair *pp = first; pp < end && !r->overflow; pp++) {
        const struct seti_len *sl = &r->lens[oz_log2u(pp->L) - oz_log2u(r->cfg.fft_min)];
        oz_seti_block b = {.power = r->power,
                           .L = sl->L,
                           .nspec = sl->nspec,
                           .n = r->n,
                           .fs = r->fs,
                           .p = &r->cfg.seti,
                           .avx2 = r->avx2,
                           .gauss_reported_only = gauss_reported(r)};
        r->cur_L = sl->L;
        if (pp->gauss || oz_seti_pulse_runs(&b, pp->pulse))
            search_block(r, sl, pp, &b);
        else
            search_rows(r, sl, &b);
    }
    r->done++;
    r->cpu_s += oz_thread_cpu_s() - t0;
    return OZ_SCI_OK;
}

/* ---- result and state ------------------------------------------------------- */

int oz_seti_run_result(const oz_seti_run *r, oz_sci_result *out)
{
    memset(out, 0, sizeof *out);
    if (r->nlist && !(out->signals = malloc(r->nlist * sizeof *out->signals)))
        return OZ_SCI_ENOMEM;
    if (r->nlist)
        memcpy(out->signals, r->list, r->nlist * sizeof *out->signals);
    out->nsignals = r->nlist;
    out->overflow = r->overflow;
    memcpy(out->has_best, r->has_best, sizeof out->has_best);
    memcpy(out->best, r->best, sizeof out->best);
    out->flops = r->flops;
    out->cpu_s = r->cpu_s;
    out->fft_s = r->fft_s;
    snprintf(out->kernel_version, sizeof out->kernel_version, "%s", OZ_SCI_KERNEL_VERSION);
    return OZ_SCI_OK;
}

json_t *oz_seti_run_save(const oz_seti_run *r)
{
    oz_sci_result res;
    if (oz_seti_run_result(r, &res))
        return NULL;
    json_t *rank = json_array();
    for (int t = 0; rank && t < OZ_SIG_NTYPES; t++)
        if (json_array_append_new(rank, json_real(r->has_best[t] ? r->rank[t] : 0.0))) {
            json_decref(rank);
            rank = NULL;
        }
    json_t *o = rank ? json_pack("{s:I, s:o, s:o}", "done", (json_int_t)r->done, "result",
                                 oz_sci_result_to_json(&res), "rank", rank)
                     : NULL;
    oz_sci_result_clear(&res);
    return o;
}

int oz_seti_run_restore(oz_seti_run *r, const json_t *state, char *why, size_t whylen)
{
    json_error_t jerr;
    json_int_t done = 0;
    json_t *res = NULL, *rank = NULL;
    oz_sci_result parsed = {0};
    double rk[OZ_SIG_NTYPES] = {0};
    int rc;
    if (json_unpack_ex((json_t *)state, &jerr, JSON_STRICT, "{s:I, s:o, s:o}", "done", &done,
                       "result", &res, "rank", &rank))
        return oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "search state: %s", jerr.text);
    if (done < 0 || (uint64_t)done > r->nsteps)
        return oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "search state: %lld steps done of %zu",
                           (long long)done, r->nsteps);
    if (!json_is_array(rank) || json_array_size(rank) != OZ_SIG_NTYPES)
        return oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "search state: rank is malformed");
    for (size_t t = 0; t < OZ_SIG_NTYPES; t++) {
        json_t *v = json_array_get(rank, t);
        if (!json_is_number(v) || !isfinite(json_number_value(v)))
            return oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "search state: rank[%zu] is malformed",
                               t);
        rk[t] = json_number_value(v);
    }
    if ((rc = oz_sci_result_from_json(res, &parsed, why, whylen)))
        return rc;
    /* the list overflows exactly when it is full: a full list that did not
     * would take the next signal past its end */
    if (parsed.nsignals > r->cfg.max_signals ||
        parsed.overflow != (parsed.nsignals == r->cfg.max_signals)) {
        oz_sci_result_clear(&parsed);
        return oz_sci_fail(OZ_SCI_EPARSE, why, whylen,
                           "search state: %zu signals%s does not fit max_signals %u",
                           parsed.nsignals, parsed.overflow ? " and overflow" : " without overflow",
                           r->cfg.max_signals);
    }
    if (parsed.nsignals)
        memcpy(r->list, parsed.signals, parsed.nsignals * sizeof *parsed.signals);
    r->nlist = parsed.nsignals;
    r->overflow = parsed.overflow;
    memcpy(r->has_best, parsed.has_best, sizeof r->has_best);
    memcpy(r->best, parsed.best, sizeof r->best);
    memcpy(r->rank, rk, sizeof rk);
    r->done = (size_t)done;
    r->cpu_s = parsed.cpu_s;
    r->fft_s = parsed.fft_s;
    oz_sci_result_clear(&parsed);
    return OZ_SCI_OK;
}
