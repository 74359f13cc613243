/*
 * autocorr.c - SETI@home v8's autocorrelation search, for the seti mode: an
 * echo, the signal plus a delayed copy of itself, found in one spectrum.
 *
 * An echo x(t) + a x(t - tau) multiplies the power spectrum by
 * 1 + a^2 + 2a cos(2 pi f tau): the powers ripple across the band with a
 * period of N / tau bins.  v8 looks for that ripple by transforming the
 * spectrum's L powers once more, with FFTW's REDFT10 (a DCT-II, unnormalised:
 * Y[k] = 2 sum_n P[n] cos(pi (n + 1/2) k / L)), on the powers in FFTW order
 * just as they come out of the FFT, and takes the strongest delay over the
 * mean.  Y[k] is the autocorrelation of the samples at a lag of k/2 samples,
 * so a ripple of N / tau bins lands on k = 2 tau.  What v8 does, step by step
 * (client/autocorr.cpp, FindAutoCorrelation):
 *
 *  - squares Y[k] for k < L/2 only (positive and negative delays are alike)
 *    and sums the squares in float, in blocks of v8's summing size
 *    (4 <= blksize <= 512, oz_seti_sum_block), zero delay included;
 *  - takes that sum over L, not over the L/2 squares summed, as the mean: the
 *    zero-delay square alone, (2 sum P)^2, is about four fifths of it in
 *    noise, so a noise peak is about 0.4 times the largest of L/2 chi-square
 *    (1 degree) draws, near 7.6 at L = 131072, and v8's threshold of 17.8
 *    sits well above it;
 *  - finds the largest square for 1 <= k < L/2 (first of equals): delays of
 *    up to L/2 bins, so echoes of lags below L/4 samples;
 *  - peak_power = that square / the mean, mean_power = 1, delay = k / fs in
 *    seconds: v8's delay counts DCT bins, which are half-sample lags, so it
 *    is twice the echo's lag (the reference unit's 2.6452 s is k = 25832 at
 *    its 9765.62 Hz, an echo of 12916 samples);
 *  - time = the spectrum's centre, (ifft + 0.5) L / fs, bin 0 (the
 *    subband's centre frequency);
 *  - score = log10(peak_power / 40), or -12 for a zero peak, which ranks its
 *    best autocorr (higher is better); every spectrum's peak is a best-of
 *    candidate;
 *  - reports a signal when peak_power > autocorr_thresh (strictly).
 *
 * v8 loops autocorr_per_spectrum times (1 in every v8 unit); this is the one
 * pass.  Its sanity check that no delayed square exceeds the zero-delay one
 * cannot fail (the powers are non-negative, so |Y[k]| <= Y[0]) and is left
 * out.  A spectrum of zeros, where v8 divides 0 by 0, gives peak_power 0.
 *
 * The DCT-II is not asked of FFTW's REDFT10, whose r2hc route is several
 * times slower than a complex transform of the same length: it is computed
 * as Makhoul (1980) does, from one real-to-complex FFT of the same length.
 * The powers are reordered, v[n] = P[2n] and v[L-1-n] = P[2n+1] for
 * n < L/2; their transform V (FFTW's r2c, with SIMD codelets) gives
 * Y[k] = 2 Re(exp(-i pi k / 2L) V[k]), and only k < L/2 is needed, all of
 * it in the r2c's half spectrum.  The twiddles are kept, L/2 pairs.
 *
 * The object owns one r2c plan, its two aligned buffers and the twiddles;
 * the row is reordered into the plan's input, so the plan's alignment never
 * depends on the caller's array.
 * _search touches nothing else, so searches on different objects may run
 * concurrently.
 *
 * The reordering and the squares run eight at a time where AVX2 runs
 * (simd.h): a copy, and the same multiplications and one addition per
 * square in the same order (hadd adds the same two products), so the
 * results are the scalar loops' to the bit.  They were three fifths of
 * this file's time as scalar loops (the reordering's reversed stores do
 * not vectorise by themselves).
 */
#include <math.h>
#include <string.h>

#include <fftw3.h>

#include "seti.h"
#include "simd.h"

#define AUTOCORR_SCORE_HIGH 40.0 /* v8's "high number" its score is relative to */

struct oz_seti_autocorr {
    uint32_t L;         /* power of two, 8 <= L <= OZ_SCI_FFT_MAX */
    uint32_t blksize;   /* v8's summing block; divides L / 2 */
    float *in;          /* L: the spectrum's powers, reordered; then the
                           squares of their DCT-II below L / 2 */
    fftwf_complex *out; /* L/2 + 1: their transform */
    float *tw;          /* L: cos, sin of pi k / 2L for k < L / 2 */
    fftwf_plan plan;    /* r2c of length L, in -> out */
};

int oz_seti_autocorr_new(uint32_t L, unsigned fftw_flags, oz_seti_autocorr **out)
{
    *out = NULL;
    if (L < 8 || L > OZ_SCI_FFT_MAX || (L & (L - 1)) != 0)
        return OZ_SCI_EINVAL;
    int err = OZ_SCI_ENOMEM;
    oz_seti_autocorr *a = calloc(1, sizeof *a);
    if (!a)
        return OZ_SCI_ENOMEM;
    a->L = L;
    a->blksize = oz_seti_sum_block(L / 2, 4);
    a->in = fftwf_malloc(sizeof(float) * L);
    a->out = fftwf_malloc(sizeof(fftwf_complex) * (L / 2 + 1));
    a->tw = fftwf_malloc(sizeof(float) * L);
    if (!a->in || !a->out || !a->tw)
        goto fail;
    for (uint32_t k = 0; k < L / 2; k++) {
        double th = OZ_PI * (double)k / (2.0 * (double)L);
        a->tw[2 * k] = (float)(2.0 * cos(th)); /* FFTW's REDFT10 factor 2 */
        a->tw[2 * k + 1] = (float)(2.0 * sin(th));
    }
    /* Planning may scribble on the buffers; they are filled per search. */
    a->plan = fftwf_plan_dft_r2c_1d((int)L, a->in, a->out, fftw_flags);
    if (!a->plan) {
        err = OZ_SCI_EFFT;
        goto fail;
    }
    *out = a;
    return OZ_SCI_OK;
fail:
    oz_seti_autocorr_free(a);
    return err;
}

void oz_seti_autocorr_free(oz_seti_autocorr *a)
{
    if (!a)
        return;
    if (a->plan)
        fftwf_destroy_plan(a->plan);
    fftwf_free(a->in);
    fftwf_free(a->out);
    fftwf_free(a->tw);
    free(a);
}

/* v[n] = row[2n], v[L-1-n] = row[2n+1] for n < L/2. */
static void reorder(const float *restrict row, float *restrict v, uint32_t L)
{
    for (uint32_t n = 0; n < L / 2; n++) {
        v[n] = row[2 * n];
        v[L - 1 - n] = row[2 * n + 1];
    }
}

/* y[k] = (tw[2k] V[2k] + tw[2k+1] V[2k+1])^2 for k < len. */
static void squares(const float *restrict tw, const float *restrict V, float *restrict y,
                    uint32_t len)
{
    for (uint32_t k = 0; k < len; k++) {
        float re = tw[2 * k] * V[2 * k] + tw[2 * k + 1] * V[2 * k + 1];
        y[k] = re * re;
    }
}

#ifdef OZ_SIMD_AVX2
/* reorder, eight n at a time (L a multiple of 16, as every L here is). */
OZ_AVX2 static void reorder_avx2(const float *restrict row, float *restrict v, uint32_t L)
{
    const __m256i rev = _mm256_setr_epi32(7, 6, 5, 4, 3, 2, 1, 0);
    for (uint32_t n = 0; n < L / 2; n += 8) {
        __m256 a = _mm256_loadu_ps(row + 2 * n), b = _mm256_loadu_ps(row + 2 * n + 8);
        /* in-lane: a0 a2 b0 b2 | a4 a6 b4 b6, then the middle quarters swapped */
        __m256 ev = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
        __m256 od = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
        ev = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(ev), 0xd8));
        od = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(od), 0xd8));
        _mm256_storeu_ps(v + n, ev);
        _mm256_storeu_ps(v + L - 8 - n, _mm256_permutevar8x32_ps(od, rev));
    }
}

/* squares, eight k at a time (len a multiple of 8). */
OZ_AVX2 static void squares_avx2(const float *restrict tw, const float *restrict V,
                                 float *restrict y, uint32_t len)
{
    for (uint32_t k = 0; k < len; k += 8) {
        __m256 a = _mm256_mul_ps(_mm256_loadu_ps(tw + 2 * k), _mm256_loadu_ps(V + 2 * k));
        __m256 b = _mm256_mul_ps(_mm256_loadu_ps(tw + 2 * k + 8), _mm256_loadu_ps(V + 2 * k + 8));
        __m256 re = _mm256_hadd_ps(a, b); /* k 0 1 4 5 | 2 3 6 7 */
        re = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(re), 0xd8));
        _mm256_storeu_ps(y + k, _mm256_mul_ps(re, re));
    }
}
#endif

double oz_seti_autocorr_search(oz_seti_autocorr *a, const oz_seti_block *b, const float *row,
                               uint32_t ifft, oz_seti_emit emit, void *ctx)
{
    const uint32_t L = a->L, len = L / 2;
    const bool avx2 = b->avx2 && L % 16 == 0;
    (void)avx2; /* without AVX2 copies (simd.h) */
#ifdef OZ_SIMD_AVX2
    if (avx2)
        reorder_avx2(row, a->in, L);
    else
#endif
        reorder(row, a->in, L);
    double f0 = oz_thread_cpu_s();
    fftwf_execute(a->plan);
    double fft_s = oz_thread_cpu_s() - f0;

    /* Y[k] = 2 Re(exp(-i pi k / 2L) V[k]), squared, over the input. */
    const float *V = (const float *)a->out;
    float *y = a->in;
#ifdef OZ_SIMD_AVX2
    if (avx2)
        squares_avx2(a->tw, V, y, len);
    else
#endif
        squares(a->tw, V, y, len);

    /* v8's mean: float squares summed per block, then over blocks, over L. */
    uint32_t kpeak;
    float total, peak = oz_seti_row_stats(y, len, a->blksize, b->avx2, &total, &kpeak);
    float mean = total / (float)L;
    float ratio = mean > 0.0f ? peak / mean : 0.0f;

    double score = -12.0; /* v8's score of a zero peak */
    if (ratio > 0.0f)
        score = log10((double)ratio / AUTOCORR_SCORE_HIGH);
    oz_seti_hit hit = {
        .type = OZ_SIG_AUTOCORR,
        .bin = 0,
        .time_s = ((double)ifft + 0.5) * (double)L / b->fs,
        .peak_power = (double)ratio,
        .mean_power = 1.0,
        .delay_s = (double)kpeak / b->fs,
        .score = score,
        .report = (double)ratio > b->p->autocorr_thresh,
    };
    emit(ctx, &hit);
    return fft_s;
}
