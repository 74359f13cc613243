/*
 * search.h - Ozma's search as its files share it (internal to science/).
 *
 * A search (oz_sci_search, opaque to everyone else) is
 *   - its plan (plan.c): the chirp rates, the FFT lengths searched at each,
 *     the detectors at each length, the FLOPs;
 *   - its work arrays and FFTW plans, and the step loop that runs the
 *     detectors' table on each block (search.c), squaring transforms into
 *     powers on the way (square.c);
 *   - its state, all that a checkpoint saves (checkpoint.c);
 *   - in the seti mode, a seti run (seti_search.c) that stands in for all of
 *     the above but the unit's identity.
 * Work arrays and plans are rebuilt by oz_sci_search_new and never saved.
 */
#ifndef OZMA_SCIENCE_SEARCH_H
#define OZMA_SCIENCE_SEARCH_H

#include <fftw3.h>

#include "internal.h"
#include "seti.h"

#define OZ_NLENS_MAX 18 /* 8 .. 131072 */

/* Samples per chunk: dechirp, FFT and squaring run chunk by chunk so the data
 * stays in cache (256 KiB of complex floats; one spectrum when L is longer). */
#define OZ_CHUNK 32768u

/* Where a block's spectra go: powers (none when no detector reads them),
 * and each spectrum's mean, strongest bin (DC excluded) and its index. */
struct spec_out {
    float *power, *mean, *max;
    uint32_t *argmax;
};

/* One FFT length: its plan (plan.c), then its FFTW plans and work arrays. */
struct len_plan {
    uint32_t L;
    uint32_t nspec; /* n / L spectra */
    int64_t every;  /* searched at chirp index i when i % every == 0 ... */
    int64_t ilim;   /* ... and |i| <= ilim (its chirp limit) */
    uint64_t runs;  /* steps this length is searched at */
    /* The detectors here, by row of oz_detectors (at most one a signal
     * type): det_on[d] whether row d runs, det[d] what its plan gave. */
    bool det_on[OZ_SIG_NTYPES];
    oz_det_plan det[OZ_SIG_NTYPES];
    size_t scratch; /* floats of scratch the largest of them needs */
    bool power;     /* a detector besides the spikes reads the powers */
    bool half_bin;  /* a detector reads the spectra half a bin up */

    uint32_t batch;  /* spectra per chunk: OZ_CHUNK / L, at least 1 */
    fftwf_plan plan; /* batch transforms in place on the chunk */
    fftwf_plan tail; /* one transform, for nspec % batch leftover spectra */
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

struct oz_sci_search {
    oz_sci_config cfg;
    const float *iq; /* borrowed */
    size_t n;
    double fs, f0;
    uint64_t fingerprint; /* FNV-1a of the sample bytes */
    bool avx2;            /* the AVX2 copies run (oz_simd_avx2) */

    /* the plan (plan.c) */
    double base; /* finest chirp step, Hz/s */
    int64_t imax;
    size_t nsteps; /* 2 * imax + 1 */
    unsigned nlens;
    struct len_plan lens[OZ_NLENS_MAX];
    uint32_t bsmooth_chunk, bsmooth_boxcar; /* band flattening as fitted to the unit */
    uint64_t flops;

    /* work arrays, rebuilt by _new, never saved */
    fftwf_complex *chunk; /* max(OZ_CHUNK, fft_max) samples */
    float *power, *spec_mean, *spec_max, *scratch;
    float *row; /* one spectrum's powers when the block keeps none */
    uint32_t *spec_argmax;
    struct spec_out half; /* spectra half a bin up (len_plan.half_bin; power NULL: none) */
    /* For the paired lengths: chunk2, the second dechirp output; work, the
     * out-of-place transforms' output; pair_i, the rate whose spectra each
     * lp->pair holds (0: none). */
    fftwf_complex *chunk2, *work;
    int64_t pair_i;

    float *flat;       /* band-flattened copy of the samples, owned (NULL: none) */
    oz_seti_run *seti; /* the seti mode's search; then nothing else above is used */

    /* the state (checkpoint.c) */
    size_t done;
    oz_found found;
    double cpu_s, fft_s;
};

/* The detectors' table (search.c): oz_ndetectors rows, run in order. */
extern const oz_detector oz_detectors[];
extern const size_t oz_ndetectors;

/* Whether a unit of n samples at sample_rate around center_hz can be
 * searched with cfg at all: the configuration and the limits on units.
 * 0, or OZ_SCI_EINVAL with a sentence. */
int oz_search_check_unit(const oz_sci_config *cfg, size_t n, double sample_rate, double center_hz,
                         char *why, size_t whylen);

/* Fills the plan fields of s from s->cfg, s->n and s->fs (plan.c);
 * allocates nothing.  0, or OZ_SCI_EINVAL with a sentence. */
int oz_search_plan_make(oz_sci_search *s, char *why, size_t whylen);

/* |X|^2 of `rows` transforms of L bins at x into power (or, when it is NULL,
 * each in turn into row_out), each spectrum's mean, strongest bin (DC
 * excluded) and its index into the per-spectrum arrays; returns the sum of
 * all powers (square.c).  avx2: oz_simd_avx2. */
double oz_spectra_square(const float *x, float *power, float *row_out, float *mean, float *max,
                         uint32_t *argmax, uint32_t L, uint32_t rows, bool avx2);

/* The result so far: the found list as it stands (all of it, in merge
 * order, which a restore must rebuild exactly or later merges could differ)
 * or as reported (the strongest max_signals, canonical order). */
int oz_search_result_make(const oz_sci_search *s, oz_sci_result *out, bool reported);

#endif /* OZMA_SCIENCE_SEARCH_H */
