/*
 * search.c - the search plan and its step loop.
 *
 * Plan.  FFT lengths L run over the powers of two fft_min..fft_max.  The
 * chirp step at length L is chirp_resolution * (fs/L)^2, so a tone drifts
 * well under a bin over one spectrum at the nearest searched rate.  Every
 * step is a multiple of the finest one, `base` (at fft_max): step_L =
 * base * (fft_max/L)^2.  Chirp rates are i * base for |i| <= imax =
 * floor(limit / base), visited in the order 0, +1, -1, +2, -2, ...; at
 * rate i the lengths searched are those whose step divides it
 * (i % (fft_max/L)^2 == 0) and whose own chirp limit (chirp_limit, at most
 * fft_max's) reaches it.  One step is one chirp rate: for each of its
 * lengths, the unit is dechirped (chirp.c), transformed by a batched FFTW
 * plan (made once at plan time) and squared chunk by chunk, so that the
 * samples cross memory once per length instead of five times; the squaring
 * also finds each spectrum's peak for the spikes.  Then the detectors run
 * on the block of power spectra; a length that only the spikes search keeps
 * no powers, just each spectrum's mean and peak.
 *
 * Pairs.  Rate -i always follows +i, and fft_max runs at every rate.  Step
 * +i makes the spectra of both rates at fft_max and at every length that
 * keeps no powers (pair_spectra): one dechirp pass (oz_dechirp_pair) gives
 * the chunk at +i and -i, and each of those lengths transforms it in turn,
 * out of place into a work chunk, fft_max last and in place.  Step -i uses
 * what +i left, or makes it again after a restore, so a resumed search
 * computes every rate as an uninterrupted one does, bit for bit.  Lengths
 * below fft_max that keep powers (searched away from rate 0 only for large
 * i) go their own way at each rate.
 *
 * State.  What changes from step to step (steps done, the found list, the
 * best of each type, CPU time) is all there is to save: the samples belong
 * to the caller, and the plans and work arrays are rebuilt by
 * oz_sci_search_new.  A saved state names the unit by a fingerprint of its
 * samples and carries the configuration, so it cannot be restored onto
 * another unit.  Signals are saved with the result JSON writer, whose
 * doubles print with 17 significant digits, so a restored search continues
 * bit-identically.
 *
 * FLOPs are counted from the plan alone (5 L log2 L per FFT, 6 per sample
 * per dechirp, 3 per power), so every host reports the same number for the
 * same unit and configuration.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fftw3.h>

#include "chirp.h"
#include "seti.h"
#include "simd.h"

#define OZ_SEARCH_STATE_FORMAT "ozma-search-state/1"
/* Largest sample magnitude: |X|^2 of a 131072-point FFT, summed over a
 * spectrum, stays well inside float range (receivers give ~1e4 at most). */
#define OZ_SAMPLE_ABS_MAX 1e10
#define OZ_NLENS_MAX 18 /* 8 .. 131072 */

/* Where a block's spectra go: powers (none when no detector reads them),
 * and each spectrum's mean, strongest bin (DC excluded) and its index. */
struct spec_out {
    float *power, *mean, *max;
    uint32_t *argmax;
};

struct len_plan {
    uint32_t L;
    uint32_t nspec;  /* n / L spectra */
    uint32_t batch;  /* spectra per chunk: OZ_CHUNK / L, at least 1 */
    int64_t every;   /* searched at chirp index i when i % every == 0 ... */
    int64_t ilim;    /* ... and |i| <= ilim (its chirp limit) */
    uint64_t runs;   /* steps this length is searched at */
    double line_thr; /* lines (fft_max only): threshold, oz_lines_threshold */
    fftwf_plan plan; /* batch transforms in place on the chunk */
    fftwf_plan tail; /* one transform, for nspec % batch leftover spectra */
    bool power;      /* a detector besides the spikes reads the powers */
    /* Paired lengths (pair_spectra): the spectra at rates +i and -i, made in
     * one dechirp pass at step +i, and (below fft_max) the transforms from
     * the chunk into work that leave the chunk for the next length.  Work
     * arrays, rebuilt by _new; mean NULL when the length is not paired. */
    struct spec_out cur, pair;
    double cur_mean, pair_mean;
    uint32_t obatch;   /* spectra per out-of-place batch */
    fftwf_plan apart;  /* obatch transforms, chunk to work */
    fftwf_plan apart1; /* one transform, chunk to work */
};

/* Samples per chunk: dechirp, FFT and squaring run chunk by chunk so the data
 * stays in cache (256 KiB of complex floats; one spectrum when L is longer). */
#define OZ_CHUNK 32768u

struct oz_sci_search {
    oz_sci_config cfg;
    const float *iq; /* borrowed */
    size_t n;
    double fs, f0;
    uint64_t fingerprint; /* FNV-1a of the sample bytes */
    bool avx2;            /* the AVX2 copies run (oz_simd_avx2) */

    double base; /* finest chirp step, Hz/s */
    int64_t imax;
    size_t nsteps; /* 2 * imax + 1 */
    unsigned nlens;
    struct len_plan lens[OZ_NLENS_MAX];
    uint64_t flops;

    /* work arrays, rebuilt by _new, never saved */
    fftwf_complex *chunk; /* max(OZ_CHUNK, fft_max) samples */
    float *power, *power_half, *spec_mean, *spec_max, *scratch;
    float *row; /* one spectrum's powers when the block keeps none */
    uint32_t *spec_argmax;
    /* For the paired lengths: chunk2, the second dechirp output; work, the
     * out-of-place transforms' output; pair_i, the rate whose spectra each
     * lp->pair holds (0: none). */
    fftwf_complex *chunk2, *work;
    int64_t pair_i;

    float *flat;       /* band-flattened copy of the samples, owned (NULL: none) */
    oz_seti_run *seti; /* the seti mode's search; then nothing else above is used */

    /* the state */
    size_t done;
    oz_found found;
    double cpu_s, fft_s;
};

/* Whether length lp is searched at chirp index i. */
static bool runs_at(const struct len_plan *lp, int64_t i)
{
    return i % lp->every == 0 && (i < 0 ? -i : i) <= lp->ilim;
}

static int64_t chirp_index(size_t step)
{
    if (step == 0)
        return 0;
    int64_t k = (int64_t)((step + 1) / 2);
    return step % 2 ? k : -k;
}

/* Checks the samples and fingerprints them in one pass. */
static int scan_samples(const float *iq, size_t n, uint64_t *fp, char *why, size_t whylen)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < 2 * n; i++) {
        if (!isfinite(iq[i]))
            return oz_sci_fail(OZ_SCI_EINVAL, why, whylen,
                               "sample %zu is not a finite number (%s part)", i / 2,
                               i % 2 ? "imaginary" : "real");
        if (fabsf(iq[i]) > OZ_SAMPLE_ABS_MAX)
            return oz_sci_fail(OZ_SCI_EINVAL, why, whylen,
                               "sample %zu is %g, beyond the kernel's range of +-%g (float powers "
                               "of an FFT of it would overflow)",
                               i / 2, (double)iq[i], OZ_SAMPLE_ABS_MAX);
        uint32_t bits;
        memcpy(&bits, &iq[i], sizeof bits);
        for (int b = 0; b < 4; b++) {
            h ^= (bits >> (8 * b)) & 0xffu;
            h *= 0x100000001b3ULL;
        }
    }
    *fp = h;
    return OZ_SCI_OK;
}

static unsigned planner_flags(oz_fft_planner p)
{
    switch (p) {
    case OZ_FFT_MEASURE:
        return FFTW_MEASURE;
    case OZ_FFT_PATIENT:
        return FFTW_PATIENT;
    case OZ_FFT_ESTIMATE:
    default:
        return FFTW_ESTIMATE;
    }
}

static size_t scratch_floats(const oz_sci_config *cfg, uint32_t L, uint32_t nspec)
{
    size_t g = oz_gauss_scratch(cfg, L, nspec);
    size_t p = oz_pulse_scratch(cfg, L, nspec);
    size_t t = oz_triplet_scratch(cfg, L, nspec);
    size_t l = oz_lines_scratch(cfg, L, nspec);
    size_t m = g > p ? g : p;
    m = m > t ? m : t;
    return m > l ? m : l;
}

static int make_plan(oz_sci_search *s, char *why, size_t whylen)
{
    const oz_sci_config *cfg = &s->cfg;
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
        lp->L = L;
        lp->nspec = (uint32_t)(s->n / L);
        int64_t r = (int64_t)(cfg->fft_max / L);
        lp->every = r * r;
        lp->ilim = (int64_t)floor(oz_sci_chirp_limit(cfg, L) / s->base);
        if (lp->ilim > s->imax)
            lp->ilim = s->imax;
        /* steps at which this L runs: i = 0 and +-every, +-2 every, ... up
         * to its limit; all but i = 0 dechirp */
        uint64_t runs = 1 + 2 * (uint64_t)(lp->ilim / lp->every);
        uint64_t samples = (uint64_t)lp->nspec * L;
        lp->runs = runs;
        s->flops += runs * samples * (5u * oz_log2u(L) + 3u) + (runs - 1) * 6u * samples;
        if (oz_lines_scratch(cfg, L, lp->nspec)) {
            /* two Taylor trees (both drift signs) of nspec rounded up to a
             * power of two rows; with half-bin spectra, everything twice,
             * the second pass always dechirping (it shifts frequency) */
            uint64_t rows = 1;
            while (rows < lp->nspec)
                rows *= 2;
            uint64_t tree = 2 * rows * L * oz_log2u((uint32_t)rows);
            s->flops += runs * tree;
            if (cfg->line_half_bin)
                s->flops += runs * (samples * (5u * oz_log2u(L) + 3u + 6u) + tree);
            lp->line_thr = oz_lines_threshold(cfg, L, lp->nspec, runs);
        }
    }
    return OZ_SCI_OK;
}

static int make_workspace(oz_sci_search *s, char *why, size_t whylen)
{
    size_t maxscratch = 0;
    for (unsigned i = 0; i < s->nlens; i++) {
        size_t f = scratch_floats(&s->cfg, s->lens[i].L, s->lens[i].nspec);
        s->lens[i].power = f > 0;
        if (f > maxscratch)
            maxscratch = f;
    }
    size_t nspec_max = s->n / s->cfg.fft_min;
    size_t chunk = s->cfg.fft_max > OZ_CHUNK ? s->cfg.fft_max : OZ_CHUNK;
    s->chunk = fftwf_alloc_complex(chunk);
    s->power = fftwf_alloc_real(s->n);
    s->row = fftwf_alloc_real(s->cfg.fft_max);
    if (s->cfg.line_half_bin &&
        oz_lines_scratch(&s->cfg, s->cfg.fft_max, (uint32_t)(s->n / s->cfg.fft_max)) &&
        !(s->power_half = fftwf_alloc_real(s->n)))
        return oz_sci_fail(OZ_SCI_ENOMEM, why, whylen, "out of memory for a %zu-sample unit", s->n);
    s->spec_mean = fftwf_alloc_real(nspec_max);
    s->spec_max = fftwf_alloc_real(nspec_max);
    s->spec_argmax = calloc(nspec_max, sizeof *s->spec_argmax);
    s->scratch = maxscratch ? fftwf_alloc_real(maxscratch) : NULL;
    if (!s->chunk || !s->power || !s->row || !s->spec_mean || !s->spec_max || !s->spec_argmax ||
        (maxscratch && !s->scratch))
        return oz_sci_fail(OZ_SCI_ENOMEM, why, whylen, "out of memory for a %zu-sample unit", s->n);
    if (s->imax > 0 && !(s->chunk2 = fftwf_alloc_complex(chunk))) /* rates come in +-i pairs */
        return oz_sci_fail(OZ_SCI_ENOMEM, why, whylen, "out of memory for a %zu-sample unit", s->n);
    /* Paired: searched at some rate but 0, and fft_max or keeping no powers.
     * fft_max's powers at +i go to s->power, unless a length that uses it
     * at such a rate comes after a paired one: the step runs pair_spectra
     * at its first paired length, and every length in turn. */
    bool paired = false, shared = true;
    for (unsigned i = 0; i < s->nlens; i++) {
        struct len_plan *lp = &s->lens[i];
        bool top = i + 1 == s->nlens;
        if (lp->ilim < lp->every)
            continue;
        if (lp->power && !top) {
            shared &= !paired;
            continue;
        }
        paired = true;
        if (!top && !s->work && !(s->work = fftwf_alloc_complex(chunk)))
            return oz_sci_fail(OZ_SCI_ENOMEM, why, whylen, "out of memory for a %zu-sample unit",
                               s->n);
        for (int neg = 0; neg < 2; neg++) {
            struct spec_out *o = neg ? &lp->pair : &lp->cur;
            if (lp->power && top && !neg && shared)
                o->power = s->power;
            else if (lp->power && !(o->power = fftwf_alloc_real(s->n)))
                return oz_sci_fail(OZ_SCI_ENOMEM, why, whylen,
                                   "out of memory for a %zu-sample unit", s->n);
            if (!(o->mean = fftwf_alloc_real(lp->nspec)) ||
                !(o->max = fftwf_alloc_real(lp->nspec)) ||
                !(o->argmax = calloc(lp->nspec, sizeof *o->argmax)))
                return oz_sci_fail(OZ_SCI_ENOMEM, why, whylen,
                                   "out of memory for a %zu-sample unit", s->n);
        }
    }

    fftwf_make_planner_thread_safe();
    unsigned flags = planner_flags(s->cfg.planner);
    for (unsigned i = 0; i < s->nlens; i++) {
        struct len_plan *lp = &s->lens[i];
        int L = (int)lp->L;
        lp->batch = lp->L >= OZ_CHUNK ? 1 : OZ_CHUNK / lp->L;
        if (lp->batch > lp->nspec)
            lp->batch = lp->nspec;
        lp->plan = fftwf_plan_many_dft(1, &L, (int)lp->batch, s->chunk, NULL, 1, L, s->chunk, NULL,
                                       1, L, FFTW_FORWARD, flags);
        if (lp->nspec % lp->batch)
            lp->tail = fftwf_plan_dft_1d(L, s->chunk, s->chunk, FFTW_FORWARD, flags);
        if (!lp->plan || (lp->nspec % lp->batch && !lp->tail))
            return oz_sci_fail(OZ_SCI_EFFT, why, whylen, "FFTW made no plan for %u x %d points",
                               lp->batch, L);
        if (!lp->cur.mean || i + 1 == s->nlens)
            continue;
        lp->obatch = (uint32_t)(chunk / lp->L < lp->nspec ? chunk / lp->L : lp->nspec);
        lp->apart = fftwf_plan_many_dft(1, &L, (int)lp->obatch, s->chunk, NULL, 1, L, s->work, NULL,
                                        1, L, FFTW_FORWARD, flags);
        if (lp->nspec % lp->obatch)
            lp->apart1 = fftwf_plan_dft_1d(L, s->chunk, s->work, FFTW_FORWARD, flags);
        if (!lp->apart || (lp->nspec % lp->obatch && !lp->apart1))
            return oz_sci_fail(OZ_SCI_EFFT, why, whylen, "FFTW made no plan for %u x %d points",
                               lp->obatch, L);
    }
    return OZ_SCI_OK;
}

/* Band flattening (bsmooth.c) into a copy the search owns, when asked. */
static int flatten(oz_sci_search *s, char *why, size_t whylen)
{
    const oz_sci_config *cfg = &s->cfg;
    if (!cfg->bsmooth_boxcar)
        return OZ_SCI_OK;
    /* a unit shorter than a chunk is one chunk, its boxcar shrunk alike */
    uint32_t chunk = cfg->bsmooth_chunk, boxcar = cfg->bsmooth_boxcar;
    while (chunk > s->n && chunk > 8 && boxcar > 2) {
        chunk /= 2;
        boxcar = (boxcar / 2 + 1) & ~1u;
    }
    if (s->n < chunk)
        return oz_sci_fail(OZ_SCI_EINVAL, why, whylen,
                           "bsmooth_chunk %u is longer than the unit's %zu samples",
                           cfg->bsmooth_chunk, s->n);
    if (!(s->flat = fftwf_alloc_real(2 * s->n)))
        return oz_sci_fail(OZ_SCI_ENOMEM, why, whylen, "out of memory for a %zu-sample unit", s->n);
    fftwf_make_planner_thread_safe();
    int rc = oz_bsmooth(s->iq, s->flat, s->n, chunk, boxcar, planner_flags(cfg->planner));
    if (rc)
        return oz_sci_fail(rc, why, whylen, "band flattening: %s", oz_sci_strerror(rc));
    s->iq = s->flat;
    return OZ_SCI_OK;
}

int oz_sci_search_new(const oz_sci_config *cfg, const float *iq, size_t n, double sample_rate,
                      double center_hz, oz_sci_search **out, char *why, size_t whylen)
{
    *out = NULL;
    int rc = oz_sci_config_check(cfg, why, whylen);
    if (rc)
        return rc;
    if (!iq)
        return oz_sci_fail(OZ_SCI_EINVAL, why, whylen, "no samples");
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

    oz_sci_search *s = calloc(1, sizeof *s);
    if (!s)
        return OZ_SCI_ENOMEM;
    s->cfg = *cfg;
    s->iq = iq;
    s->n = n;
    s->fs = sample_rate;
    s->f0 = center_hz;
    s->avx2 = oz_simd_avx2(cfg);
    if ((rc = scan_samples(iq, n, &s->fingerprint, why, whylen)))
        goto fail;
    if (cfg->mode == OZ_MODE_SETI) { /* flattens the band itself, as v8 does */
        if ((rc = oz_seti_run_new(cfg, iq, n, sample_rate, center_hz, &s->seti, why, whylen)))
            goto fail;
        *out = s;
        return OZ_SCI_OK;
    }
    if ((rc = flatten(s, why, whylen)) || (rc = make_plan(s, why, whylen)) ||
        (rc = oz_found_init(&s->found, cfg, sample_rate)) || (rc = make_workspace(s, why, whylen)))
        goto fail;
    *out = s;
    return OZ_SCI_OK;
fail:
    oz_sci_search_free(s);
    return rc;
}

void oz_sci_search_free(oz_sci_search *s)
{
    if (!s)
        return;
    oz_seti_run_free(s->seti);
    fftwf_free(s->flat);
    for (unsigned i = 0; i < s->nlens; i++) {
        struct len_plan *lp = &s->lens[i];
        if (lp->plan)
            fftwf_destroy_plan(lp->plan);
        if (lp->tail)
            fftwf_destroy_plan(lp->tail);
        if (lp->apart)
            fftwf_destroy_plan(lp->apart);
        if (lp->apart1)
            fftwf_destroy_plan(lp->apart1);
        for (int neg = 0; neg < 2; neg++) {
            struct spec_out *o = neg ? &lp->pair : &lp->cur;
            if (o->power != s->power)
                fftwf_free(o->power);
            fftwf_free(o->mean);
            fftwf_free(o->max);
            free(o->argmax);
        }
    }
    fftwf_free(s->chunk);
    fftwf_free(s->power);
    fftwf_free(s->power_half);
    fftwf_free(s->row);
    fftwf_free(s->spec_mean);
    fftwf_free(s->spec_max);
    free(s->spec_argmax);
    fftwf_free(s->scratch);
    fftwf_free(s->chunk2);
    fftwf_free(s->work);
    oz_found_free(&s->found);
    free(s);
}

oz_seti_run *oz_sci_search_seti(oz_sci_search *s)
{
    return s->seti;
}

size_t oz_sci_search_steps(const oz_sci_search *s)
{
    return s->seti ? oz_seti_run_steps(s->seti) : s->nsteps;
}
size_t oz_sci_search_done(const oz_sci_search *s)
{
    return s->seti ? oz_seti_run_done(s->seti) : s->done;
}
uint64_t oz_sci_search_flops(const oz_sci_search *s)
{
    return s->seti ? oz_seti_run_flops(s->seti) : s->flops;
}

bool oz_sci_search_finished(const oz_sci_search *s)
{
    if (s->seti)
        return oz_seti_run_finished(s->seti);
    return s->done >= s->nsteps || s->found.overflow;
}

/* Four complex values at x squared into p; returns the powers. */
static inline v4f square4(const float *x, float *p)
{
    v4f lo, hi;
    memcpy(&lo, x, sizeof lo);
    memcpy(&hi, x + 4, sizeof hi);
    v4f re = __builtin_shufflevector(lo, hi, 0, 2, 4, 6);
    v4f im = __builtin_shufflevector(lo, hi, 1, 3, 5, 7);
    v4f v = re * re + im * im;
    memcpy(p, &v, sizeof v);
    return v;
}

static inline v4f vmax4(v4f a, v4f b)
{
    v4i gt = b > a;
    return (v4f)(((v4i)a & ~gt) | ((v4i)b & gt));
}

/* The largest of the eight lane maxima. */
static inline float lane_max(const float mx[8])
{
    float m = mx[0];
    for (int j = 1; j < 8; j++)
        m = mx[j] > m ? mx[j] : m;
    return m;
}

/* One spectrum of L complex values at row squared into p, with eight running
 * sums and maxima: lane j covers bins k = j (mod 8); bin 0 (DC) is left out
 * of the maxima.  Four lanes to a register, two registers apart so that
 * consecutive iterations do not wait on each other.  Returns the first bin
 * holding the maximum (a second pass, four bins at a time). */
static uint32_t square_row(const float *row, float *p, uint32_t L, float acc[8], float mx[8])
{
    v4f a0 = square4(row, p), a1 = square4(row + 8, p + 4);
    v4f m0 = a0, m1 = a1;
    m0[0] = -1;
    for (uint32_t k = 8; k < L; k += 8) { /* L is a power of two >= 8 */
        v4f v0 = square4(row + 2 * k, p + k);
        v4f v1 = square4(row + 2 * k + 8, p + k + 4);
        a0 += v0;
        a1 += v1;
        m0 = vmax4(m0, v0);
        m1 = vmax4(m1, v1);
    }
    memcpy(acc, &a0, sizeof a0);
    memcpy(acc + 4, &a1, sizeof a1);
    memcpy(mx, &m0, sizeof m0);
    memcpy(mx + 4, &m1, sizeof m1);
    float m = lane_max(mx);
    v4f mv = {m, m, m, m};
    for (uint32_t k = 0; k < L; k += 4) {
        v4f v;
        memcpy(&v, p + k, sizeof v);
        v4i eq = v == mv;
        if (eq[0] | eq[1] | eq[2] | eq[3]) {
            for (uint32_t j = 0; j < 4; j++)
                if (eq[j] && k + j != 0)
                    return k + j;
        }
    }
    return 1;
}

#ifdef OZ_SIMD_AVX2
/* square_row with AVX2: the same eight lanes in one register, each lane doing
 * the same operations in the same order, so the sums and maxima are
 * bit-identical to the four-lane path.  The deinterleave uses in-lane
 * shuffles (bins 0 1 4 5 2 3 6 7) and one permute back to bin order; each
 * lane also keeps the first bin holding its maximum, so the peak's bin comes
 * out of the same pass instead of a second scan. */
OZ_AVX2 static uint32_t square_row_avx2(const float *row, float *p, uint32_t L, float acc[8],
                                        float mx[8])
{
    const v8i step = {8, 8, 8, 8, 8, 8, 8, 8};
    v8f a = {0}, m = {0};
    v8i at = {0, 1, 2, 3, 4, 5, 6, 7}, best = at;
    for (uint32_t k = 0; k < L; k += 8) {
        v8f lo, hi;
        memcpy(&lo, row + 2 * k, sizeof lo);
        memcpy(&hi, row + 2 * k + 8, sizeof hi);
        v8f re = __builtin_shufflevector(lo, hi, 0, 2, 8, 10, 4, 6, 12, 14);
        v8f im = __builtin_shufflevector(lo, hi, 1, 3, 9, 11, 5, 7, 13, 15);
        v8f q = re * re + im * im;
        v8f v = __builtin_shufflevector(q, q, 0, 1, 4, 5, 2, 3, 6, 7);
        memcpy(p + k, &v, sizeof v);
        if (k == 0) {
            a = v;
            m = v;
            m[0] = -1;
        } else {
            a += v;
            v8i gt = v > m;
            m = (v8f)(((v8i)m & ~gt) | ((v8i)v & gt));
            best = (best & ~gt) | (at & gt);
        }
        at += step;
    }
    memcpy(acc, &a, sizeof a);
    memcpy(mx, &m, sizeof m);
    float top = lane_max(mx);
    uint32_t km = L;
    for (int j = 0; j < 8; j++)
        if (mx[j] == top && (uint32_t)best[j] < km)
            km = (uint32_t)best[j];
    return km;
}
#endif

/* |X|^2 of `rows` spectra into power (or, when it is NULL, each in turn into
 * row), each spectrum's mean, strongest bin (DC excluded) and its index into
 * the per-spectrum arrays; returns the sum of all powers.  The pass over the
 * bins is SIMD (square_row, AVX2 where the CPU has it); its eight lane sums
 * are combined in double in a fixed order. */
static double square(const float *x, float *power, float *row_out, float *mean, float *max,
                     uint32_t *argmax, uint32_t L, uint32_t rows, bool avx2)
{
    (void)avx2; /* without AVX2 copies (simd.h) */
    double total = 0;
    for (uint32_t s = 0; s < rows; s++) {
        const float *row = x + 2 * (size_t)s * L;
        float *p = power ? power + (size_t)s * L : row_out;
        float acc[8], mx[8];
        uint32_t km;
#ifdef OZ_SIMD_AVX2
        if (avx2)
            km = square_row_avx2(row, p, L, acc, mx);
        else
#endif
            km = square_row(row, p, L, acc, mx);
        for (int j = 0; j < 4; j++)
            acc[j] += acc[j + 4];
        double sum = ((double)acc[0] + acc[1]) + ((double)acc[2] + acc[3]);
        mean[s] = (float)(sum / L);
        max[s] = lane_max(mx);
        argmax[s] = km;
        total += sum;
    }
    return total;
}

/* Runs plan on in and out (the plan's own arrays or ones aligned alike),
 * adding its CPU time to the FFTW time. */
static void fft_run(oz_sci_search *s, fftwf_plan plan, fftwf_complex *in, fftwf_complex *out)
{
    double f0 = oz_thread_cpu_s();
    fftwf_execute_dft(plan, in, out);
    s->fft_s += oz_thread_cpu_s() - f0;
}

/* Dechirps (and shifts by shift_hz), transforms and squares the unit at
 * length lp->L into o, chunk by chunk; returns the block's mean power. */
static double spectra(oz_sci_search *s, const struct len_plan *lp, double chirp, double shift_hz,
                      const struct spec_out *o)
{
    const uint32_t L = lp->L;
    double total = 0;
    for (uint32_t first = 0; first < lp->nspec;) {
        uint32_t rows = lp->nspec - first >= lp->batch ? lp->batch : 1;
        size_t at = (size_t)first * L;
        oz_dechirp(s->iq + 2 * at, (float *)s->chunk, at, (size_t)rows * L, s->fs, chirp, shift_hz,
                   s->avx2);
        fft_run(s, rows == lp->batch ? lp->plan : lp->tail, s->chunk, s->chunk);
        total += square((const float *)s->chunk, o->power ? o->power + at : NULL, s->row,
                        o->mean + first, o->max + first, o->argmax + first, L, rows, s->avx2);
        first += rows;
    }
    return total / ((double)L * lp->nspec);
}

/* Transforms `rows` spectra of x (a chunk's worth or fewer) at the paired
 * length lp: out of place into work, leaving x for the next length, or in
 * place at fft_max, the last.  Returns where the spectra are. */
static const float *pair_transform(oz_sci_search *s, const struct len_plan *lp, bool top,
                                   fftwf_complex *x, uint32_t rows)
{
    fftwf_complex *y = top ? x : s->work;
    if (rows == (top ? lp->batch : lp->obatch)) {
        fft_run(s, top ? lp->plan : lp->apart, x, y);
    } else {
        for (uint32_t r = 0; r < rows; r++)
            fft_run(s, top ? lp->tail : lp->apart1, x + (size_t)r * lp->L, y + (size_t)r * lp->L);
    }
    return (const float *)y;
}

/* The spectra at rates +i and -i (i > 0) of every paired length searched at
 * i, into each one's cur and pair, from one dechirp pass (oz_dechirp_pair):
 * chunk by chunk, the lengths in turn transform the chunk (pair_transform),
 * so the samples are read and dechirped once for all of them. */
static void pair_spectra(oz_sci_search *s, int64_t i)
{
    const size_t G = s->cfg.fft_max > OZ_CHUNK ? s->cfg.fft_max : OZ_CHUNK;
    double total[OZ_NLENS_MAX][2] = {{0}};
    size_t end = 0; /* the samples that some length transforms */
    for (unsigned li = 0; li < s->nlens; li++) {
        const struct len_plan *lp = &s->lens[li];
        if (lp->cur.mean && runs_at(lp, i) && (size_t)lp->nspec * lp->L > end)
            end = (size_t)lp->nspec * lp->L;
    }
    for (size_t at = 0; at < end; at += G) {
        size_t len = end - at < G ? end - at : G;
        oz_dechirp_pair(s->iq + 2 * at, (float *)s->chunk, (float *)s->chunk2, at, len, s->fs,
                        (double)i * s->base, s->avx2);
        for (unsigned li = 0; li < s->nlens; li++) {
            const struct len_plan *lp = &s->lens[li];
            size_t have = (size_t)lp->nspec * lp->L;
            if (!lp->cur.mean || !runs_at(lp, i) || at >= have)
                continue;
            const uint32_t L = lp->L, first = (uint32_t)(at / L);
            const uint32_t rows = (uint32_t)((have - at < G ? have - at : G) / L);
            for (int neg = 0; neg < 2; neg++) {
                const struct spec_out *o = neg ? &lp->pair : &lp->cur;
                const float *y =
                    pair_transform(s, lp, li + 1 == s->nlens, neg ? s->chunk2 : s->chunk, rows);
                total[li][neg] +=
                    square(y, o->power ? o->power + at : NULL, s->row, o->mean + first,
                           o->max + first, o->argmax + first, L, rows, s->avx2);
            }
        }
    }
    for (unsigned li = 0; li < s->nlens; li++) {
        struct len_plan *lp = &s->lens[li];
        if (!lp->cur.mean || !runs_at(lp, i))
            continue;
        lp->cur_mean = total[li][0] / ((double)lp->L * lp->nspec);
        lp->pair_mean = total[li][1] / ((double)lp->L * lp->nspec);
    }
    s->pair_i = -i;
}

int oz_sci_search_step(oz_sci_search *s)
{
    if (s->seti)
        return oz_seti_run_step(s->seti);
    if (oz_sci_search_finished(s))
        return OZ_SCI_EINVAL;
    double t0 = oz_thread_cpu_s();
    int64_t i = chirp_index(s->done);
    double chirp = (double)i * s->base;
    bool made = i == 0 || (i < 0 && s->pair_i == i); /* else -i after a restore */
    for (unsigned li = 0; li < s->nlens; li++) {
        struct len_plan *lp = &s->lens[li];
        if (!runs_at(lp, i))
            continue;
        double bin = s->fs / lp->L;
        struct spec_out o = {lp->power ? s->power : NULL, s->spec_mean, s->spec_max,
                             s->spec_argmax};
        double mean;
        if (i != 0 && lp->cur.mean) { /* made by pair_spectra */
            if (!made)
                pair_spectra(s, i > 0 ? i : -i);
            made = true;
            o = i > 0 ? lp->cur : lp->pair;
            mean = i > 0 ? lp->cur_mean : lp->pair_mean;
        } else {
            mean = spectra(s, lp, chirp, 0.0, &o);
        }
        oz_block b = {
            .power = o.power,
            .spec_mean = o.mean,
            .spec_max = o.max,
            .spec_argmax = o.argmax,
            .mean = mean,
            .L = lp->L,
            .nspec = lp->nspec,
            .fs = s->fs,
            .f0 = s->f0,
            .chirp = chirp,
            .chirp_step = s->cfg.chirp_resolution * bin * bin,
            .cfg = &s->cfg,
            .line_thr = lp->line_thr,
        };
        if (!(b.mean > 0) || !isfinite(b.mean)) /* all zero: nothing to find */
            continue;
        oz_spikes_search(&b, &s->found);
        if (oz_gauss_scratch(&s->cfg, lp->L, lp->nspec))
            oz_gauss_search(&b, s->scratch, &s->found);
        if (oz_pulse_scratch(&s->cfg, lp->L, lp->nspec))
            oz_pulse_search(&b, s->scratch, &s->found);
        if (oz_triplet_scratch(&s->cfg, lp->L, lp->nspec))
            oz_triplet_search(&b, s->scratch, &s->found);
        if (oz_lines_scratch(&s->cfg, lp->L, lp->nspec)) {
            if (s->power_half) { /* the same spectra half a bin up (lines.c) */
                struct spec_out h = {s->power_half, s->spec_mean, s->spec_max, s->spec_argmax};
                spectra(s, lp, chirp, 0.5 * bin, &h);
                b.power_half = s->power_half;
            }
            oz_lines_search(&b, s->scratch, &s->found);
        }
    }
    if (i < 0)
        s->pair_i = 0;
    s->done++;
    s->cpu_s += oz_thread_cpu_s() - t0;
    return OZ_SCI_OK;
}

int oz_sci_search_run(oz_sci_search *s, void (*progress)(void *arg, size_t done, size_t total),
                      void *arg)
{
    while (!oz_sci_search_finished(s)) {
        int rc = oz_sci_search_step(s);
        if (rc)
            return rc;
        if (progress)
            progress(arg, oz_sci_search_done(s), oz_sci_search_steps(s));
    }
    return OZ_SCI_OK;
}

/* Signals in a canonical order (type, then frequency, then time), so that two
 * runs that found the same signals list them the same way. */
static int signal_order(const void *pa, const void *pb)
{
    const oz_signal *a = pa, *b = pb;
    if (a->type != b->type)
        return a->type < b->type ? -1 : 1;
    if (a->freq_hz != b->freq_hz)
        return a->freq_hz < b->freq_hz ? -1 : 1;
    if (a->time_s != b->time_s)
        return a->time_s < b->time_s ? -1 : 1;
    return 0;
}

/* Signals by score, strongest first (ties by the canonical order). */
static int score_order(const void *pa, const void *pb)
{
    const oz_signal *a = pa, *b = pb;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return signal_order(pa, pb);
}

/* The result: the found list as it stands (all of it, in merge order, which
 * restore must rebuild exactly or later merges could differ) or as reported
 * (the strongest max_signals, canonical order). */
static int make_result(const oz_sci_search *s, oz_sci_result *out, bool reported)
{
    memset(out, 0, sizeof *out);
    size_t n = s->found.n;
    if (n) {
        out->signals = malloc(n * sizeof *out->signals);
        if (!out->signals)
            return OZ_SCI_ENOMEM;
        memcpy(out->signals, s->found.list, n * sizeof *out->signals);
    }
    out->overflow = s->found.overflow;
    if (reported) {
        if (n > s->cfg.max_signals) {
            qsort(out->signals, n, sizeof *out->signals, score_order);
            n = s->cfg.max_signals;
            out->overflow = true;
        }
        if (n)
            qsort(out->signals, n, sizeof *out->signals, signal_order);
    }
    out->nsignals = n;
    memcpy(out->has_best, s->found.has_best, sizeof out->has_best);
    memcpy(out->best, s->found.best, sizeof out->best);
    out->flops = s->flops;
    out->cpu_s = s->cpu_s;
    out->fft_s = s->fft_s;
    snprintf(out->kernel_version, sizeof out->kernel_version, "%s", OZ_SCI_KERNEL_VERSION);
    return OZ_SCI_OK;
}

int oz_sci_search_result(const oz_sci_search *s, oz_sci_result *out)
{
    return s->seti ? oz_seti_run_result(s->seti, out) : make_result(s, out, true);
}

#define OZ_SETI_STATE_FORMAT "ozma-seti-state/1"

/* The seti mode's state: the unit's identity and configuration, as Ozma's,
 * with what seti_search.c saves. */
static int save_seti(const oz_sci_search *s, char **out)
{
    char fp[17];
    snprintf(fp, sizeof fp, "%016llx", (unsigned long long)s->fingerprint);
    json_t *state =
        json_pack("{s:s, s:I, s:f, s:f, s:s, s:o, s:o}", "format", OZ_SETI_STATE_FORMAT, "samples",
                  (json_int_t)s->n, "sample_rate", s->fs, "center_hz", s->f0, "fingerprint", fp,
                  "config", oz_sci_config_to_json(&s->cfg), "seti", oz_seti_run_save(s->seti));
    if (!state)
        return OZ_SCI_ENOMEM;
    *out = json_dumps(state, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(state);
    return *out ? OZ_SCI_OK : OZ_SCI_ENOMEM;
}

/* Whether a saved state's unit and configuration are this search's. */
static int check_unit(const oz_sci_search *s, json_int_t n, double fs, double f0, const char *fp,
                      const json_t *cfg, char *why, size_t whylen)
{
    char fp_now[17];
    snprintf(fp_now, sizeof fp_now, "%016llx", (unsigned long long)s->fingerprint);
    if (n != (json_int_t)s->n || fs != s->fs || f0 != s->f0 || strcmp(fp, fp_now) != 0)
        return oz_sci_fail(OZ_SCI_EMISMATCH, why, whylen,
                           "search state is for another unit (%lld samples, fingerprint %s; "
                           "this one has %zu, %s)",
                           (long long)n, fp, s->n, fp_now);
    json_t *cfg_now = oz_sci_config_to_json(&s->cfg);
    if (!cfg_now)
        return OZ_SCI_ENOMEM;
    bool same = json_equal(cfg, cfg_now);
    json_decref(cfg_now);
    if (!same)
        return oz_sci_fail(OZ_SCI_EMISMATCH, why, whylen,
                           "search state was made with another analysis configuration");
    return OZ_SCI_OK;
}

static int restore_seti(oz_sci_search *s, json_t *state, char *why, size_t whylen)
{
    json_error_t jerr;
    const char *format = NULL, *fp = NULL;
    json_int_t n = 0;
    double fs = 0, f0 = 0;
    json_t *cfg = NULL, *seti = NULL;
    if (json_unpack_ex(state, &jerr, JSON_STRICT, "{s:s, s:I, s:F, s:F, s:s, s:o, s:o}", "format",
                       &format, "samples", &n, "sample_rate", &fs, "center_hz", &f0, "fingerprint",
                       &fp, "config", &cfg, "seti", &seti))
        return oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "search state: %s", jerr.text);
    if (strcmp(format, OZ_SETI_STATE_FORMAT) != 0)
        return oz_sci_fail(OZ_SCI_EPARSE, why, whylen,
                           "search state: format \"%s\", expected \"%s\"", format,
                           OZ_SETI_STATE_FORMAT);
    int rc = check_unit(s, n, fs, f0, fp, cfg, why, whylen);
    return rc ? rc : oz_seti_run_restore(s->seti, seti, why, whylen);
}

int oz_sci_search_save(const oz_sci_search *s, char **out)
{
    *out = NULL;
    if (s->seti)
        return save_seti(s, out);
    oz_sci_result r;
    char fp[17];
    int rc = make_result(s, &r, false);
    if (rc)
        return rc;
    snprintf(fp, sizeof fp, "%016llx", (unsigned long long)s->fingerprint);
    json_t *res = oz_sci_result_to_json(&r);
    json_t *cfg = oz_sci_config_to_json(&s->cfg);
    json_t *state = NULL, *tracks = NULL;
    rc = OZ_SCI_ENOMEM;
    if (!res || !cfg)
        goto out;
    tracks = json_array();
    for (size_t i = 0; tracks && i < s->found.n; i++) {
        const oz_track *t = &s->found.tracks[i];
        if (json_array_append_new(tracks, json_pack("[f,f,f,f,f,f,f,f]", t->w, t->t, t->f, t->tt,
                                                    t->tf, t->t_last, t->f_last, t->len_last)))
            goto out;
    }
    if (!tracks)
        goto out;
    state = json_pack("{s:s, s:I, s:f, s:f, s:s, s:I, s:O, s:O, s:f, s:b, s:O}", "format",
                      OZ_SEARCH_STATE_FORMAT, "samples", (json_int_t)s->n, "sample_rate", s->fs,
                      "center_hz", s->f0, "fingerprint", fp, "done", (json_int_t)s->done, "config",
                      cfg, "result", res, "fref", s->found.fref, "has_fref", s->found.has_fref,
                      "tracks", tracks);
    if (!state)
        goto out;
    *out = json_dumps(state, JSON_COMPACT | JSON_REAL_PRECISION(17));
    rc = *out ? OZ_SCI_OK : OZ_SCI_ENOMEM;
out:
    json_decref(state);
    json_decref(tracks);
    json_decref(cfg);
    json_decref(res);
    oz_sci_result_clear(&r);
    return rc;
}

int oz_sci_search_restore(oz_sci_search *s, const char *text, char *why, size_t whylen)
{
    json_error_t jerr;
    oz_sci_result r = {0};
    oz_track *parsed = NULL;
    json_t *state = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    int rc;
    if (!state) {
        rc = oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "search state: %s (line %d, column %d)",
                         jerr.text, jerr.line, jerr.column);
        goto out;
    }
    if (s->seti) {
        rc = restore_seti(s, state, why, whylen);
        goto out;
    }
    const char *format = NULL, *fp = NULL;
    json_int_t n = 0, done = 0;
    double fs = 0, f0 = 0;
    double fref = 0;
    int has_fref = 0;
    json_t *cfg = NULL, *res = NULL, *tracks = NULL;
    if (json_unpack_ex(state, &jerr, JSON_STRICT,
                       "{s:s, s:I, s:F, s:F, s:s, s:I, s:o, s:o, s:F, s:b, s:o}", "format", &format,
                       "samples", &n, "sample_rate", &fs, "center_hz", &f0, "fingerprint", &fp,
                       "done", &done, "config", &cfg, "result", &res, "fref", &fref, "has_fref",
                       &has_fref, "tracks", &tracks)) {
        rc = oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "search state: %s", jerr.text);
        goto out;
    }
    if (strcmp(format, OZ_SEARCH_STATE_FORMAT) != 0) {
        rc = oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "search state: format \"%s\", expected \"%s\"",
                         format, OZ_SEARCH_STATE_FORMAT);
        goto out;
    }
    if ((rc = check_unit(s, n, fs, f0, fp, cfg, why, whylen)))
        goto out;
    if (done < 0 || (uint64_t)done > s->nsteps) {
        rc = oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "search state: %lld steps done of %zu",
                         (long long)done, s->nsteps);
        goto out;
    }
    if ((rc = oz_sci_result_from_json(res, &r, why, whylen)))
        goto out;
    if (r.nsignals > s->found.cap) {
        rc = oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "search state: %zu signals, cap is %zu",
                         r.nsignals, s->found.cap);
        goto out;
    }
    if (!json_is_array(tracks) || json_array_size(tracks) != r.nsignals) {
        rc = oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "search state: tracks do not match signals");
        goto out;
    }
    if (r.nsignals && !has_fref) {
        rc = oz_sci_fail(OZ_SCI_EPARSE, why, whylen,
                         "search state: signals listed but no track origin");
        goto out;
    }
    /* parsed aside, so that a bad entry leaves the search untouched */
    if (r.nsignals && !(parsed = calloc(r.nsignals, sizeof *parsed))) {
        rc = OZ_SCI_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < r.nsignals; i++) {
        oz_track *t = &parsed[i];
        if (json_unpack_ex(json_array_get(tracks, i), &jerr, JSON_STRICT, "[F,F,F,F,F,F,F,F]",
                           &t->w, &t->t, &t->f, &t->tt, &t->tf, &t->t_last, &t->f_last,
                           &t->len_last) ||
            !isfinite(t->w + t->t + t->f + t->tt + t->tf + t->t_last + t->f_last + t->len_last)) {
            rc = oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "search state: tracks[%zu] is malformed",
                             i);
            goto out;
        }
    }
    if (r.nsignals)
        memcpy(s->found.tracks, parsed, r.nsignals * sizeof *parsed);
    s->found.fref = fref;
    s->found.has_fref = has_fref;
    if (r.nsignals)
        memcpy(s->found.list, r.signals, r.nsignals * sizeof *r.signals);
    s->found.n = r.nsignals;
    s->found.overflow = r.overflow;
    memcpy(s->found.has_best, r.has_best, sizeof r.has_best);
    memcpy(s->found.best, r.best, sizeof r.best);
    s->done = (size_t)done;
    s->pair_i = 0;
    s->cpu_s = r.cpu_s;
    s->fft_s = r.fft_s;
    rc = OZ_SCI_OK;
out:
    free(parsed);
    oz_sci_result_clear(&r);
    json_decref(state);
    return rc;
}
