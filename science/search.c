/*
 * search.c - Ozma's search: its detectors' table, its work arrays and the
 * step loop.
 *
 * One step is one chirp rate of the plan (plan.c): for each of its lengths,
 * the unit is dechirped (chirp.c), transformed by a batched FFTW plan (made
 * once by oz_sci_search_new) and squared chunk by chunk (square.c), so that
 * the samples cross memory once per length instead of five times; the
 * squaring also finds each spectrum's peak for the spikes.  Then the rows of
 * the detectors' table that the plan has run at that length search the
 * block of power spectra, in the table's order; a length that only the
 * spikes search keeps no powers, just each spectrum's mean and peak.
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
 * The state a step changes (steps done, the found list, CPU time) is what
 * checkpoint.c saves; the seti mode hands every call to seti_search.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chirp.h"
#include "search.h"
#include "simd.h"

/* Largest sample magnitude: |X|^2 of a 131072-point FFT, summed over a
 * spectrum, stays well inside float range (receivers give ~1e4 at most). */
#define OZ_SAMPLE_ABS_MAX 1e10

/*
 * The detectors (internal.h: oz_detector), run in this order on every block:
 * the found list merges and caps in the order signals are offered, so the
 * order is part of the result.
 */
const oz_detector oz_detectors[] = {
    {OZ_SIG_SPIKE, NULL, NULL, oz_spikes_search},
    {OZ_SIG_GAUSSIAN, oz_gauss_scratch, NULL, oz_gauss_search},
    {OZ_SIG_PULSE, oz_pulse_scratch, NULL, oz_pulse_search},
    {OZ_SIG_TRIPLET, oz_triplet_scratch, NULL, oz_triplet_search},
    {OZ_SIG_LINE, oz_lines_scratch, oz_lines_plan, oz_lines_search},
};
const size_t oz_ndetectors = sizeof oz_detectors / sizeof oz_detectors[0];
_Static_assert(sizeof oz_detectors / sizeof oz_detectors[0] <= OZ_SIG_NTYPES,
               "struct len_plan holds a detector per signal type at most");

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

/* The spectra half a bin up, for the lengths whose detectors read them:
 * powers and per-spectrum statistics of their own, so that making them
 * leaves the block's untouched. */
static int make_half(oz_sci_search *s)
{
    uint32_t nspec = 0;
    for (unsigned i = 0; i < s->nlens; i++)
        if (s->lens[i].half_bin && s->lens[i].nspec > nspec)
            nspec = s->lens[i].nspec;
    if (!nspec)
        return OZ_SCI_OK;
    struct spec_out *h = &s->half;
    if (!(h->power = fftwf_alloc_real(s->n)) || !(h->mean = fftwf_alloc_real(nspec)) ||
        !(h->max = fftwf_alloc_real(nspec)) || !(h->argmax = calloc(nspec, sizeof *h->argmax)))
        return OZ_SCI_ENOMEM;
    return OZ_SCI_OK;
}

static int make_workspace(oz_sci_search *s, char *why, size_t whylen)
{
    size_t maxscratch = 0;
    for (unsigned i = 0; i < s->nlens; i++)
        if (s->lens[i].scratch > maxscratch)
            maxscratch = s->lens[i].scratch;
    size_t nspec_max = s->n / s->cfg.fft_min;
    size_t chunk = s->cfg.fft_max > OZ_CHUNK ? s->cfg.fft_max : OZ_CHUNK;
    s->chunk = fftwf_alloc_complex(chunk);
    s->power = fftwf_alloc_real(s->n);
    s->row = fftwf_alloc_real(s->cfg.fft_max);
    if (make_half(s))
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

/* Band flattening (bsmooth.c) into a copy the search owns, when asked,
 * with the chunk and boxcar the plan fitted to the unit. */
static int flatten(oz_sci_search *s, char *why, size_t whylen)
{
    if (!s->bsmooth_boxcar)
        return OZ_SCI_OK;
    if (!(s->flat = fftwf_alloc_real(2 * s->n)))
        return oz_sci_fail(OZ_SCI_ENOMEM, why, whylen, "out of memory for a %zu-sample unit", s->n);
    fftwf_make_planner_thread_safe();
    int rc = oz_bsmooth(s->iq, s->flat, s->n, s->bsmooth_chunk, s->bsmooth_boxcar,
                        planner_flags(s->cfg.planner));
    if (rc)
        return oz_sci_fail(rc, why, whylen, "band flattening: %s", oz_sci_strerror(rc));
    s->iq = s->flat;
    return OZ_SCI_OK;
}

int oz_sci_search_new(const oz_sci_config *cfg, const float *iq, size_t n, double sample_rate,
                      double center_hz, oz_sci_search **out, char *why, size_t whylen)
{
    *out = NULL;
    int rc = oz_search_check_unit(cfg, n, sample_rate, center_hz, why, whylen);
    if (rc)
        return rc;
    if (!iq)
        return oz_sci_fail(OZ_SCI_EINVAL, why, whylen, "no samples");

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
    if ((rc = oz_search_plan_make(s, why, whylen)) || (rc = flatten(s, why, whylen)) ||
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
    fftwf_free(s->half.power);
    fftwf_free(s->half.mean);
    fftwf_free(s->half.max);
    free(s->half.argmax);
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

int oz_sci_search_seek(oz_sci_search *s, size_t step)
{
    if (s->seti || step >= s->nsteps)
        return OZ_SCI_EINVAL;
    oz_found_free(&s->found);
    int rc = oz_found_init(&s->found, &s->cfg, s->fs);
    if (rc != OZ_SCI_OK)
        return rc;
    s->done = step;
    s->pair_i = 0; /* a negative rate makes its pair afresh */
    return OZ_SCI_OK;
}

size_t oz_sci_search_step_of(const oz_sci_search *s, double chirp_hz_s, uint32_t fft_len)
{
    if (s->seti || !(s->base > 0) || !isfinite(chirp_hz_s))
        return 0;
    int64_t every = 1, ilim = s->imax;
    for (unsigned li = 0; li < s->nlens; li++)
        if (s->lens[li].L == fft_len) {
            every = s->lens[li].every > 0 ? s->lens[li].every : 1;
            ilim = s->lens[li].ilim;
        }
    double r = round(chirp_hz_s / (s->base * (double)every));
    double lim = floor((double)ilim / (double)every);
    int64_t i = (int64_t)(r > lim ? lim : r < -lim ? -lim : r) * every;
    return i == 0 ? 0 : i > 0 ? (size_t)(2 * i - 1) : (size_t)(-2 * i);
}

double oz_sci_search_step_chirp(const oz_sci_search *s, size_t step)
{
    return s->seti ? 0.0 : (double)chirp_index(step) * s->base;
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
        total +=
            oz_spectra_square((const float *)s->chunk, o->power ? o->power + at : NULL, s->row,
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
                    oz_spectra_square(y, o->power ? o->power + at : NULL, s->row, o->mean + first,
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

/* Runs the detectors the plan has at length lp on its block b, in the
 * table's order, making the spectra half a bin up for the first that reads
 * them. */
static void detect(oz_sci_search *s, const struct len_plan *lp, oz_block *b)
{
    for (size_t d = 0; d < oz_ndetectors; d++) {
        if (!lp->det_on[d])
            continue;
        if (lp->det[d].half_bin && !b->power_half) {
            spectra(s, lp, b->chirp, 0.5 * (s->fs / lp->L), &s->half);
            b->power_half = s->half.power;
        }
        b->plan_thr = lp->det[d].thr;
        oz_detectors[d].search(b, s->scratch, &s->found);
    }
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
        };
        if (!(b.mean > 0) || !isfinite(b.mean)) /* all zero: nothing to find */
            continue;
        detect(s, lp, &b);
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

int oz_search_result_make(const oz_sci_search *s, oz_sci_result *out, bool reported)
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
    return s->seti ? oz_seti_run_result(s->seti, out) : oz_search_result_make(s, out, true);
}
