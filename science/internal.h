/*
 * internal.h - what the files of science/ share and nobody else may include.
 *
 * The search (search.c) turns each (chirp, FFT length) pair into an oz_block:
 * nspec power spectra of L bins each, row-major, plus what is needed to turn
 * a (spectrum, bin) position back into absolute frequency and time.  Each
 * detector (spikes.c, gaussian.c, pulse.c, triplet.c, lines.c: the rows of
 * search.c's table, oz_detector) reads a block and offers candidate signals
 * to an oz_found (found.c), which keeps the best of each type, merges
 * near-duplicates and caps the list.  Detectors never allocate: the search
 * sizes one scratch buffer for all of them from its plan.
 */
#ifndef OZMA_SCIENCE_INTERNAL_H
#define OZMA_SCIENCE_INTERNAL_H

#include <stdlib.h>
#include <time.h>

#include "ozma_science.h"

#define OZ_PI 3.14159265358979323846

/* CPU seconds this thread has used (the kernel's own cpu_s and fft_s). */
static inline double oz_thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* floor(log2(x)) for x >= 1: an FFT length's exponent. */
static inline unsigned oz_log2u(uint32_t x)
{
    unsigned r = 0;
    while (x > 1) {
        x >>= 1;
        r++;
    }
    return r;
}

/* One (chirp, L) block of power spectra. */
typedef struct oz_block {
    const float *power;          /* nspec rows of L powers, |X[k]|^2 */
    const float *spec_mean;      /* nspec: mean power of each spectrum */
    const float *spec_max;       /* nspec: strongest bin of each spectrum, DC excluded */
    const uint32_t *spec_argmax; /* nspec: which bin that is */
    double mean;                 /* mean power of the whole block (> 0) */
    uint32_t L;                  /* FFT length */
    uint32_t nspec;              /* spectra in the block (n / L) */
    double fs;                   /* sample rate, Hz */
    double f0;                   /* centre frequency, Hz */
    double chirp;                /* the dechirp rate of this block, Hz/s */
    double chirp_step;           /* chirp step at this L (compare tolerance) */
    const float *power_half;     /* the spectra half a bin up (oz_det_plan), or NULL */
    double plan_thr;             /* the running detector's oz_det_plan.thr */
    const oz_sci_config *cfg;
} oz_block;

/* Seconds per spectrum. */
/* Power over time (pot.c) for the Gaussian and pulse searches: bins k0 ..
 * k0 + nb - 1 (nb <= OZ_POT_GROUP) rebinned to M points of m spectra each,
 * over m times the block mean, into column buffers of OZ_POT_LANES bins
 * (point i of lane w at cols[i * OZ_POT_LANES + w]; the second buffer at
 * cols + OZ_POT_LANES * M, written only when nb > OZ_POT_LANES; lanes past nb
 * hold zeros).  sy (may be NULL) gets each lane's sum over the M points. */
#define OZ_POT_LANES 8
#define OZ_POT_GROUP 16
void oz_pot_build(const oz_block *b, uint32_t k0, uint32_t nb, uint32_t M, uint32_t m, float *cols,
                  float *sy);

static inline double oz_block_tfft(const oz_block *b)
{
    return (double)b->L / b->fs;
}

/* Frequency offset from the centre of bin k (FFTW order: k >= L/2 negative). */
static inline double oz_bin_offset_hz(uint32_t k, uint32_t L, double fs)
{
    double kk = k < L / 2 ? (double)k : (double)k - (double)L;
    return kk * fs / (double)L;
}

/* Absolute frequency of bin k at time t (s from unit start) in block b: the
 * dechirped bin frequency plus the drift removed by dechirping. */
static inline double oz_block_freq(const oz_block *b, uint32_t k, double t)
{
    return b->f0 + oz_bin_offset_hz(k, b->L, b->fs) + b->chirp * t;
}

/* ---- found.c: the signal list ---------------------------------------------- */

/* Weighted least-squares sums of the (time, frequency) points merged into
 * one listed spike, weight (L/fs)^2 = 1/bin^2, frequency relative to
 * oz_found.fref.  Their slope is the spike's drift over the whole unit. */
typedef struct oz_track {
    double w, t, f, tt, tf;
    double t_last, f_last, len_last; /* the latest point (time, frequency, FFT length) */
} oz_track;

/* Best-of-type, merged detections, overflow.  Invariant: list holds at most
 * cap = OZ_FOUND_SLACK * cfg->max_signals signals (at most
 * OZ_SCI_SIGNALS_MAX), no two of which match (oz_sci_signal_same);
 * tracks[i] belongs to list[i]. */
#define OZ_FOUND_SLACK 8u
typedef struct oz_found {
    oz_signal *list;
    oz_track *tracks;
    double fref; /* frequency origin of the tracks (first detection) */
    bool has_fref;
    size_t n, cap; /* cap == cfg->max_signals */
    bool overflow;
    bool has_best[OZ_SIG_NTYPES];
    oz_signal best[OZ_SIG_NTYPES];
    double fs; /* for bin widths when merging */
    double chirp_resolution;
    double chirp_max; /* a spike's track slope is kept within the searched range */
} oz_found;

int oz_found_init(oz_found *f, const oz_sci_config *cfg, double fs);
void oz_found_free(oz_found *f);
/* Offers a candidate: updates the best of its type, and when score >= 1
 * merges it into the list (keeping the stronger of two matches) or appends
 * it, setting overflow when the list is full. */
void oz_found_offer(oz_found *f, const oz_signal *s);

/* ---- detectors ------------------------------------------------------------ */

/* What a detector adds to the plan at a length it runs at (all zero when it
 * has no plan function). */
typedef struct oz_det_plan {
    uint64_t flops; /* its own work over all the plan's blocks at this length */
    double thr;     /* a constant of the plan, read back as oz_block.plan_thr */
    bool half_bin;  /* it also reads the spectra half a bin up (oz_block.power_half) */
} oz_det_plan;

/*
 * A detector of Ozma's search: one row of search.c's table (oz_detectors),
 * which runs the rows in order on every block, so adding one is its own
 * file, a row, its configuration fields and its signal type.
 *   - type: the signals it offers (their fields: oz_signal);
 *   - scratch: the floats of scratch it needs for a block of L bins and
 *     nspec spectra, 0 where the configuration has it not run; NULL for one
 *     that runs at every length reading only each spectrum's mean and peak
 *     (the spikes), so that a length only it searches keeps no powers;
 *   - plan: what it adds to the plan (oz_det_plan), blocks being how many
 *     blocks of length L the plan searches; NULL for nothing;
 *   - search: reads a block and offers what it finds.
 */
typedef struct oz_detector {
    oz_sig_type type;
    size_t (*scratch)(const oz_sci_config *cfg, uint32_t L, uint32_t nspec);
    void (*plan)(const oz_sci_config *cfg, uint32_t L, uint32_t nspec, uint64_t blocks,
                 oz_det_plan *out);
    void (*search)(const oz_block *b, float *scratch, oz_found *found);
} oz_detector;

/* Spikes: per spectrum, the strongest bin (DC excluded) over the spectrum
 * mean (no scratch: it takes the row's argument and ignores it). */
void oz_spikes_search(const oz_block *b, float *scratch, oz_found *found);

/* Each PoT detector says how many floats of scratch it needs for a block of
 * L bins and nspec spectra (0 when it does not run at this L), then searches. */
size_t oz_gauss_scratch(const oz_sci_config *cfg, uint32_t L, uint32_t nspec);
/* Whether Gaussians are searched at length L (the beam's sigma fits the
 * unit's PoT there), so that every bin offers its best. */
bool oz_gauss_runs(const oz_sci_config *cfg, uint32_t L, uint32_t nspec, double fs);
void oz_gauss_search(const oz_block *b, float *scratch, oz_found *found);

size_t oz_pulse_scratch(const oz_sci_config *cfg, uint32_t L, uint32_t nspec);
void oz_pulse_search(const oz_block *b, float *scratch, oz_found *found);

size_t oz_triplet_scratch(const oz_sci_config *cfg, uint32_t L, uint32_t nspec);
void oz_triplet_search(const oz_block *b, float *scratch, oz_found *found);

/* Lines (lines.c) run on the fft_max block only.  Their threshold depends on
 * the plan alone (blocks: how many blocks of length L it searches), so the
 * plan computes it once (oz_lines_plan: also the Taylor trees' FLOPs, and
 * the half-bin spectra when line_half_bin asks). */
size_t oz_lines_scratch(const oz_sci_config *cfg, uint32_t L, uint32_t nspec);
void oz_lines_plan(const oz_sci_config *cfg, uint32_t L, uint32_t nspec, uint64_t blocks,
                   oz_det_plan *out);
void oz_lines_search(const oz_block *b, float *scratch, oz_found *found);

/* The Taylor tree (dedoppler.c): n rows (a power of two, 2 to 1024) of
 * `width` floats, rows[s] each, become drift sums (row d: drift d columns
 * over the n rows, for d <= dmax; other rows are scratch), complete for
 * columns k < width - d; buf and tmp are n x width work areas.  Returns
 * whichever of them holds the sums. */
float *oz_taylor_tree(const float *const *rows, float *buf, float *tmp, uint32_t n, uint32_t width,
                      uint32_t dmax, bool avx2);
/* Both signs at once: plus[d] and minus[d] (d <= dmax, d < n) point at the
 * drift sums of the rows in order and in reverse order, bit-identical to
 * oz_taylor_tree's; work is 4 n x width floats.  avx2 (oz_simd_avx2) picks
 * the AVX2 copies in all three trees; the sums are the same. */
void oz_taylor_tree_both(const float *const *rows, float *work, uint32_t n, uint32_t width,
                         uint32_t dmax, bool avx2, const float **plus, const float **minus);
/* The same for n = 8, dmax = 2 in one pass: out receives W columns (W a
 * multiple of 8; rows read W + 2 columns) of forward drifts 0, 1, 2 and
 * reversed drifts 1, 2 as five rows of W floats, mx the largest of each
 * (the rows hold powers: never negative). */
void oz_taylor_tree8(const float *const *rows, uint32_t W, bool avx2, float *out, float mx[5]);

/* Band flattening (bsmooth.c, v8's baseline smoothing): n >= chunk complex
 * samples in, flattened copies out (in == out allowed), chunk by chunk, the
 * last chunk overlapping the one before when n is not a multiple; plans made
 * here with fftw_flags (call where planning is allowed).  0, or
 * OZ_SCI_EINVAL / ENOMEM / EFFT. */
int oz_bsmooth(const float *in, float *out, size_t n, uint32_t chunk, uint32_t boxcar,
               unsigned fftw_flags);

#endif /* OZMA_SCIENCE_INTERNAL_H */
