/*
 * seti.h - what the files of the "seti" mode share (internal to science/).
 *
 * The seti mode is SETI@home v8's search, reproduced detection for detection
 * (DESIGN.md §2, the v8 reference): v8's plan of (chirp rate, FFT length)
 * pairs, its band flattening, and its detectors with v8's own statistics and
 * thresholds.  For each pair the search makes a block of nspec = n / L power
 * spectra of L bins (row-major, bin k in FFTW order: k >= L/2 are negative
 * offsets), from samples that were conjugated where needed so that bin k is
 * v8's bin k.  Each detector reads a block and hands what it finds to an
 * emit callback as an oz_seti_hit, in v8's order; the search turns hits into
 * signals (absolute frequency, chirp), keeps v8's best of each type and caps
 * the list where v8 does.
 *
 * Detectors keep no state between calls and allocate only what their
 * *_scratch function asks for; they never read the configuration's Ozma
 * fields, only the v8 parameters in oz_sci_seti and the unit's size.
 */
#ifndef OZMA_SCIENCE_SETI_H
#define OZMA_SCIENCE_SETI_H

#include <math.h>

#include "internal.h"

/* v8's summing block for a mean or total over len values: its pow2()
 * (the largest power of two strictly below its argument) of
 * floor(sqrt(len / 32)) * 32, clamped to [lo, 512].  Every v8 detector sums
 * in such blocks (spike.cpp, autocorr.cpp, analyzePoT.cpp, pulsefind.cpp,
 * each with its own lo), and the float rounding of its means follows. */
static inline uint32_t oz_seti_sum_block(uint32_t len, uint32_t lo)
{
    uint32_t x = (uint32_t)sqrtf((float)(len / 32)) * 32u, p = 1;
    if (x <= 1)
        p = 0;
    else
        while (p <= (x - 1) / 2)
            p *= 2;
    p = p < 512 ? p : 512;
    return p > lo ? p : lo;
}

/* v8's blocked total of x[0 .. nb * blk): each block summed in float from 0
 * in order, the blocks' sums added in order.  Eight blocks at a time, each
 * its own chain of adds in its own lane, so the sum is v8's to the bit and
 * not one long chain of dependent adds. */
static inline float oz_seti_blocked_total(const float *x, uint32_t nb, uint32_t blk)
{
    float total = 0.0f;
    uint32_t b = 0;
    for (; b + 8 <= nb; b += 8) {
        float part[8] = {0};
        for (uint32_t i = 0; i < blk; i++)
            for (uint32_t j = 0; j < 8; j++)
                part[j] += x[(size_t)(b + j) * blk + i];
        for (uint32_t j = 0; j < 8; j++)
            total += part[j];
    }
    for (; b < nb; b++) {
        float part = 0.0f;
        for (uint32_t i = 0; i < blk; i++)
            part += x[(size_t)b * blk + i];
        total += part;
    }
    return total;
}

/* The first strongest of x[1 .. len) above 0, as v8's scans find it (a
 * strictly greater value replaces, starting from 0 at index 0): eight lanes
 * keep their own first maximum, and of equal maxima the lowest index wins,
 * which is the first.  *at is 0 when nothing is above 0. */
static inline float oz_seti_first_max(const float *x, uint32_t len, uint32_t *at)
{
    float top[8] = {0};
    uint32_t idx[8] = {0};
    uint32_t k = 1;
    for (; k < len && k < 8; k++)
        if (x[k] > top[k]) {
            top[k] = x[k];
            idx[k] = k;
        }
    for (; k + 8 <= len; k += 8)
        for (uint32_t j = 0; j < 8; j++)
            if (x[k + j] > top[j]) {
                top[j] = x[k + j];
                idx[j] = k + j;
            }
    for (; k < len; k++)
        if (x[k] > top[k % 8]) {
            top[k % 8] = x[k];
            idx[k % 8] = k;
        }
    float best = 0.0f;
    uint32_t where = 0;
    for (uint32_t j = 0; j < 8; j++)
        if (top[j] > best || (top[j] == best && best > 0.0f && idx[j] < where)) {
            best = top[j];
            where = idx[j];
        }
    *at = where;
    return best;
}

/* out[k] = |iq[k]|^2 (re^2 + im^2 in float) for k < n (seti_rowstats.c);
 * avx2 from oz_cpu_avx2(). */
void oz_seti_powers(const float *restrict iq, float *restrict out, size_t n, bool avx2);

/* Both of the above in one pass over a row of L floats in blocks of blk
 * (seti_rowstats.c): *total = oz_seti_blocked_total(x, L / blk, blk),
 * returns oz_seti_first_max(x, L, at), the same to the bit; avx2 picks the
 * AVX2 pass (simd.h). */
float oz_seti_row_stats(const float *x, uint32_t L, uint32_t blk, bool avx2, float *total,
                        uint32_t *at);

/* oz_seti_powers(iq, out, L, avx2), then oz_seti_row_stats(out, L, blk,
 * avx2, total, at), in one pass where AVX2 runs: the same bits. */
float oz_seti_power_stats(const float *restrict iq, float *restrict out, uint32_t L, uint32_t blk,
                          bool avx2, float *total, uint32_t *at);

/* What a seti detector found, in v8's own units. */
typedef struct oz_seti_hit {
    oz_sig_type type;
    uint32_t bin;      /* frequency bin of the block, FFTW order; autocorr: 0 */
    double time_s;     /* the detection's centre, s from the unit's first sample */
    double peak_power; /* v8's peak_power */
    double mean_power; /* v8's mean_power */
    double period_s;   /* pulse, triplet */
    double sigma_s;    /* gaussian: v8's sigma (in PoT bins, as v8 reports it) */
    double chisq, null_chisq, max_power; /* gaussian */
    double snr, thresh, len_prof;        /* pulse */
    double delay_s;                      /* autocorr */
    double score;                        /* what v8 ranks its best-of-type by (higher is better) */
    bool report; /* v8 reports it as a signal (not only as a best-of candidate) */
} oz_seti_hit;

typedef void (*oz_seti_emit)(void *ctx, const oz_seti_hit *hit);

/* One block: the powers of nspec spectra of L bins, and the unit around it. */
typedef struct oz_seti_block {
    const float *power; /* nspec * L, row-major */
    uint32_t L, nspec;
    size_t n;  /* samples in the unit (nspec * L) */
    double fs; /* sample rate, Hz */
    const oz_sci_seti *p;
    bool avx2; /* the detectors' AVX2 copies run (oz_simd_avx2 of the configuration) */
    /* The unit has reported a Gaussian already: from then on v8 lets no
     * unreported one be its best, so the Gaussian search emits only hits
     * that are reported, and skips the fits that cannot be. */
    bool gauss_reported_only;
} oz_seti_block;

/* Autocorrelation (autocorr.c), at p->autocorr_fftlen only: v8's
 * autocorrelation of one spectrum's powers, its strongest delay over the
 * mean, one hit per spectrum (report when over p->autocorr_thresh).  The
 * FFTW plan is made in _new (under the caller's planner lock); _search may
 * run concurrently on different objects. */
typedef struct oz_seti_autocorr oz_seti_autocorr;
int oz_seti_autocorr_new(uint32_t L, unsigned fftw_flags, oz_seti_autocorr **out);
void oz_seti_autocorr_free(oz_seti_autocorr *a);
/* Spectrum ifft of block b, whose L powers are at row (b->power need not
 * hold the block: b->L == the length given to _new).  Returns the thread
 * CPU seconds spent inside FFTW (the run's fft_s). */
double oz_seti_autocorr_search(oz_seti_autocorr *a, const oz_seti_block *b, const float *row,
                               uint32_t ifft, oz_seti_emit emit, void *ctx);

/* Gaussians (seti_gauss.c): v8's power-over-time fit for every bin 1..L-1 of
 * a block the plan marks GaussFit (only its reported hits when
 * b->gauss_reported_only). */
size_t oz_seti_gauss_scratch(const oz_seti_block *b);
void oz_seti_gauss_search(const oz_seti_block *b, float *scratch, oz_seti_emit emit, void *ctx);

/* Pulses and triplets (seti_pulse.c): for every bin 1..L-1 and every
 * overlapping power-over-time segment, v8's triplets then pulses; pulses
 * only when the plan marks the pair PulseFind, triplets whenever v8's
 * segment length allows them. */
size_t oz_seti_pulse_scratch(const oz_seti_block *b);
/* Whether oz_seti_pulse_search would search this block at all (so that a
 * block no power-over-time detector reads need not be kept). */
bool oz_seti_pulse_runs(const oz_seti_block *b, bool pulse_find);
void oz_seti_pulse_search(const oz_seti_block *b, bool pulse_find, float *scratch,
                          oz_seti_emit emit, void *ctx);

/* ---- the seti mode's search (seti_search.c), behind oz_sci_search ---------- */

typedef struct oz_seti_run oz_seti_run;
/* Plans v8's search of n samples (borrowed, as oz_sci_search_new's). */
int oz_seti_run_new(const oz_sci_config *cfg, const float *iq, size_t n, double fs, double f0,
                    oz_seti_run **out, char *why, size_t whylen);
void oz_seti_run_free(oz_seti_run *r);
/* The FLOPs of v8's plan for n samples at fs, as oz_seti_run_flops of a
 * run would give, without samples or work arrays (oz_sci_plan_flops). */
int oz_seti_plan_flops(const oz_sci_config *cfg, size_t n, double fs, uint64_t *flops, char *why,
                       size_t whylen);
size_t oz_seti_run_steps(const oz_seti_run *r);
size_t oz_seti_run_done(const oz_seti_run *r);
uint64_t oz_seti_run_flops(const oz_seti_run *r);
bool oz_seti_run_finished(const oz_seti_run *r);
int oz_seti_run_step(oz_seti_run *r);
int oz_seti_run_result(const oz_seti_run *r, oz_sci_result *out);
/* For tests: the step that searches chirp index `ind` (rates are ind times
 * the plan's smallest step), or oz_seti_run_steps() when none does; and
 * moving the search to a step, so that a test can run the few steps that
 * matter (steps skipped are not searched). */
size_t oz_seti_run_find(const oz_seti_run *r, int32_t ind);
double oz_seti_run_min_step(const oz_seti_run *r);
int oz_seti_run_goto(oz_seti_run *r, size_t step);
/* For benchmarks: the plan's (rate, length) pairs in v8's order, pair i at
 * rate *ind times oz_seti_run_min_step() and length *L. */
size_t oz_seti_run_npairs(const oz_seti_run *r);
void oz_seti_run_pair(const oz_seti_run *r, size_t i, int32_t *ind, uint32_t *L);
/* The seti run behind a search in the seti mode, else NULL. */
oz_seti_run *oz_sci_search_seti(oz_sci_search *s);

/* The state's mode-specific part as a JSON object (NULL on ENOMEM), and
 * back; the caller checks that the state belongs to this unit. */
json_t *oz_seti_run_save(const oz_seti_run *r);
int oz_seti_run_restore(oz_seti_run *r, const json_t *state, char *why, size_t whylen);

#endif /* OZMA_SCIENCE_SETI_H */
