/*
 * pulse.c - the pulse search: a bin whose power repeats with a fixed period
 * (SETI@home's pulses, DESIGN.md §2), found by folding its power over time.
 *
 * Power over time.  Each bin's power series is rebinned to M = min(
 * pulse_pot_len, nspec) points, point i the mean of the m = nspec / M
 * spectra i*m .. i*m+m-1 (a tail of fewer than m spectra is left out) over
 * the block mean, so noise points have mean 1.  Bins go sixteen at a time
 * (one cache line of each spectrum): their PoT is built straight into two
 * small buffers of eight bins, point i of lane w at [i * 8 + w], which stay
 * in L1 while every fold below runs on them across the bins, a vector of
 * lanes at a time (GCC vector extensions: four lanes to an SSE register, or
 * eight to an AVX2 register where the CPU has it, chosen at run time).
 * Every lane does exactly the scalar operations in the scalar order, so both
 * paths give bit-identical results.
 *
 * Folding.  For every integer period P = pulse_period_min .. M/3 (so a pulse
 * repeats at least K = floor(M/P) >= 3 times) the first K P points are
 * folded: F_j = sum_{i<K} y[i P + j], j < P.  The strongest phase is compared
 * with the fold's own level: B = the mean of the K P folded points, but never
 * below the block's level 1, and r = F_max / (K B).  Measuring against the
 * fold's own mean means only power concentrated in phase counts: a steady
 * tone (every point high) or a slow swell that covers every phase does not
 * fold into a pulse, whatever its level.  The floor at 1 matters for noise:
 * a bin's own mean scatters by 1/sqrt(K P m), and a fold whose mean happens
 * to be low would look stronger than it is (without the floor, noise bins
 * reach z = 4 half as often again; test_sci_pulse.c pins the measured tail).  For
 * noise a point is Gamma(m)/m and F_j is Gamma(K m)/m, so r is about
 * Gamma(k)/k with k = K m.
 *
 * Significance.  r is turned into a Gaussian-equivalent sigma with the
 * Wilson–Hilferty cube-root transform, which needs no special functions:
 *     z = (r^(1/3) - 1 + 1/(9k)) * 3 sqrt(k).
 * It errs on the safe side: the exact Gamma tail Q(k, r k) = e^{-rk}
 * sum_{i<k} (rk)^i / i! (k = K m is an integer) is smaller than Phi(-z), so
 * the exact Gaussian-equivalent sigma is larger than z.  The gap is largest
 * for k = 3 (m = 1, K = 3): 6.00 -> 6.27, 8.00 -> 8.59; for k = 10 6.00 ->
 * 6.11; for k >= 100 under 0.05 up to z = 8 (tests/unit/test_sci_pulse.c checks
 * a few of these values).  The per-trial z is not corrected for the number
 * of phases and periods tried (about sum P = M^2 / 18 phases per bin);
 * pulse_thresh absorbs that, calibrated on noise in test_sci_pulse.c: the
 * default 6.5 gives about 0.01 false pulses per default unit.
 *
 * A pulse must repeat.  A single strong burst (a tone drifting through the
 * bin at a wrong chirp, one interference burst) lands in one fold and makes
 * it significant at every period.  So for each bin's best (P, phase) the fold
 * is recomputed without its strongest period's contribution (K - 1 periods,
 * k' = (K-1) m) and must still reach at least half the sigma of the whole
 * fold: an evenly repeating pulse keeps about sqrt((K-1)/K) >= 0.82 of it,
 * a single burst keeps about none.  Otherwise the score is capped at 0.99 (it
 * may still be the best pulse, never a listed one).
 *
 * Reported: power = z of the bin's best period, score = z / pulse_thresh,
 * period_s = P m L / fs, time_s = centre of the first pulse's PoT point
 * (phase j), freq_hz at that time.  Every bin but DC offers its best, so the
 * best pulse of the unit is the true maximum.
 *
 * Cost per block: n adds for the PoT, then per bin about M adds per period,
 * M^2/3 in all (5461 for M = 128, 21845 for M = 256): about 2.2e4 L for
 * M = 256, the order of the block's FFTs (at L = 4096 with 256 spectra: 9e7
 * adds against 6e7 FFT flops), done four or eight bins to a vector.  The
 * cube root is taken only for a period that may beat the bin's best so far:
 * z grows with r, so an r below the cube of the inverted transform at the
 * best z (less a margin far above rounding) cannot win and is passed over.
 * Periods go longest first, as longer periods (more phases to pick the
 * strongest from) tend to score higher: a bin then takes three or four cube
 * roots instead of one per period.  Taking a later period on equal z keeps
 * the result of the increasing order, the shortest period of the best z.
 *
 * Scratch (floats): per-period constants (M/3 of 5 doubles), the PoT of
 * sixteen bins (16 M) and the folded phases of eight (8 M/3).
 * Deterministic: fixed summation order, the first maximum wins ties.
 */
#include <math.h>
#include <string.h>

#include "internal.h"
#include "simd.h"

#define LANES OZ_POT_LANES
#define GROUP OZ_POT_GROUP

/* What judging a period needs, computed once a block.  z = (cbrt(r) - 1 +
 * 1/(9k)) 3 sqrt(k) beats a best z0 only if cbrt(r) > t = z0 inv + c with
 * inv = 1 / (3 sqrt(k)), c = 1 - 1/(9k); c is kept 1e-9 lower (rounding
 * moves z by under 1e-13 here, as r <= P), and below t^3 the cube root is
 * not taken: a bin takes a handful of them instead of one a period. */
struct period {
    double n, K, k; /* points folded (K P), periods folded, Gamma shape K m */
    double inv, c;  /* the bound, as above */
};

/* Each lane's best fold so far: sigma (-inf before any), period (0 before
 * any) and phase; lanes side by side for the vector bound. */
struct bests {
    double z[LANES];
    uint32_t P[LANES], j[LANES];
};

/* The PoT length at this block size, or 0 when the detector does not run. */
static uint32_t pot_len(const oz_sci_config *cfg, uint32_t L, uint32_t nspec)
{
    uint32_t M = cfg->pulse_pot_len < nspec ? cfg->pulse_pot_len : nspec;
    uint32_t pmin = cfg->pulse_period_min;
    if (cfg->pulse_fft_max == 0 || L > cfg->pulse_fft_max || pmin < 2 || M / 3 < pmin)
        return 0;
    return M;
}

size_t oz_pulse_scratch(const oz_sci_config *cfg, uint32_t L, uint32_t nspec)
{
    uint32_t M = pot_len(cfg, L, nspec);
    return M ? (size_t)GROUP * M + (size_t)(M / 3) * LANES +
                   (size_t)(M / 3) * (sizeof(struct period) / sizeof(float))
             : 0;
}

/* Gaussian-equivalent sigma of a Gamma(k)/k variate observed at r. */
static double wh_sigma(double r, double k)
{
    return (cbrt(r) - 1.0 + 1.0 / (9.0 * k)) * 3.0 * sqrt(k);
}

/* The noise level of one PoT point, from a sum over n points: their mean,
 * but never below the block's level of 1. */
static double level(double sum, uint32_t n)
{
    double v = sum / n;
    return v > 1.0 ? v : 1.0;
}

/* The first phase of a lane's fold (at fold[j * LANES]) holding v: the
 * scalar argmax, as v is the fold's maximum. */
static uint32_t first_at(const float *fold, uint32_t P, float v)
{
    for (uint32_t j = 0; j < P; j++)
        if (fold[(size_t)j * LANES] == v)
            return j;
    return 0;
}

/* Lane w's period P (strongest phase fm, r from the vector code) may beat
 * its best: compute its sigma; on a tie the shorter period, seen later,
 * wins, as the scalar search in increasing P keeps the first. */
static void settle(double r, float fm, const float *fold, uint32_t w, uint32_t P,
                   const struct period *pp, struct bests *bs)
{
    double z = wh_sigma(r, pp->k);
    if (z >= bs->z[w]) {
        bs->z[w] = z;
        bs->P[w] = P;
        bs->j[w] = first_at(fold + w, P, fm);
    }
}

/* Judges a period for two lanes w, w + 1: s their phase sums, f their
 * strongest phases; r = f / (K level(s)) with the scalar operations. */
static inline void judge2(v2d s, v2d f, const float *fold, uint32_t w, uint32_t P,
                          const struct period *pp, struct bests *bs)
{
    const v2d zero = {0.0, 0.0}, one = {1.0, 1.0};
    v2d z0, lev = s / (v2d){pp->n, pp->n};
    v2l over = lev > one; /* level(): never below 1 */
    lev = (v2d)(((v2l)lev & over) | ((v2l)one & ~over));
    v2d r = f / ((v2d){pp->K, pp->K} * lev);
    OZ_LOAD(z0, bs->z + w);
    v2d t = z0 * (v2d){pp->inv, pp->inv} + (v2d){pp->c, pp->c};
    v2l need = (s > zero) & ~((t > zero) & (r < t * t * t));
    for (uint32_t e = 0; e < 2; e++)
        if (need[e])
            settle(r[e], (float)f[e], fold, w + e, P, pp, bs);
}

/* One folded phase of four lanes is stored at fold and joins the running
 * phase sums (double, in phase order) and the maxima (f > max ? f : max). */
static inline void take4(v4f f, float *fold, v2d *s0, v2d *s1, v4f *fmax)
{
    memcpy(fold, &f, sizeof f);
    *s0 += __builtin_convertvector(__builtin_shufflevector(f, f, 0, 1), v2d);
    *s1 += __builtin_convertvector(__builtin_shufflevector(f, f, 2, 3), v2d);
    v4i gt = f > *fmax;
    *fmax = (v4f)(((v4i)*fmax & ~gt) | ((v4i)f & gt));
}

/* Folds lanes w0 .. w0 + 3 of a column buffer at every period (longest
 * first); bs gets each lane's best (P, phase) by sigma.  Each lane adds the
 * K periods of a phase in period order and sums the phases in phase order,
 * as a scalar fold of its column would; four phases go at once so that
 * their additions do not wait on each other.  per[P - pmin] is period P's
 * constants; fold is scratch for M/3 phases of LANES. */
static void fold4(const float *buf, uint32_t w0, uint32_t M, uint32_t pmin,
                  const struct period *per, float *fold, struct bests *bs)
{
    const float *col = buf + w0;
    for (uint32_t n = M / 3 + 1 - pmin; n-- > 0;) { /* P = M/3 down to pmin >= 2 */
        const uint32_t P = pmin + n;
        const uint32_t K = M / P;
        const size_t step = (size_t)P * LANES;
        v2d s0 = {0}, s1 = {0};
        v4f f, x, fmax;
        OZ_LOAD(f, col);
        for (uint32_t i = 1; i < K; i++) {
            OZ_LOAD(x, col + i * step);
            f += x;
        }
        fmax = f;
        take4(f, fold + w0, &s0, &s1, &fmax);
        uint32_t j = 1;
        for (; j + 4 <= P; j += 4) {
            const float *c = col + (size_t)j * LANES;
            v4f f0, f1, f2, f3, x0, x1, x2, x3;
            OZ_LOAD(f0, c);
            OZ_LOAD(f1, c + LANES);
            OZ_LOAD(f2, c + 2 * LANES);
            OZ_LOAD(f3, c + 3 * LANES);
            for (uint32_t i = 1; i < K; i++) {
                c += step;
                OZ_LOAD(x0, c);
                OZ_LOAD(x1, c + LANES);
                OZ_LOAD(x2, c + 2 * LANES);
                OZ_LOAD(x3, c + 3 * LANES);
                f0 += x0;
                f1 += x1;
                f2 += x2;
                f3 += x3;
            }
            float *fo = fold + (size_t)j * LANES + w0;
            take4(f0, fo, &s0, &s1, &fmax);
            take4(f1, fo + LANES, &s0, &s1, &fmax);
            take4(f2, fo + 2 * LANES, &s0, &s1, &fmax);
            take4(f3, fo + 3 * LANES, &s0, &s1, &fmax);
        }
        for (; j < P; j++) {
            const float *c = col + (size_t)j * LANES;
            OZ_LOAD(f, c);
            for (uint32_t i = 1; i < K; i++) {
                OZ_LOAD(x, c + i * step);
                f += x;
            }
            take4(f, fold + (size_t)j * LANES + w0, &s0, &s1, &fmax);
        }
        const struct period *pp = per + n;
        judge2(s0, __builtin_convertvector(__builtin_shufflevector(fmax, fmax, 0, 1), v2d), fold,
               w0, P, pp, bs);
        judge2(s1, __builtin_convertvector(__builtin_shufflevector(fmax, fmax, 2, 3), v2d), fold,
               w0 + 2, P, pp, bs);
    }
}

#ifdef OZ_SIMD_AVX2
/* fold4 over all eight lanes with AVX2: every lane does exactly the
 * operations of fold4 and judge2 in the same order (no fused multiply-add;
 * max_ps(f, m) is f > m ? f : m), so both paths give bit-identical results.
 * Kept in one function: helpers with another target would not inline, and
 * eight-float values must not cross a call.  GCC widens floats to doubles
 * piecewise; the intrinsic converts four at once, exactly as well. */
OZ_AVX2 static void fold8_avx2(const float *col, uint32_t M, uint32_t pmin,
                               const struct period *per, float *fold, struct bests *bs)
{
#define TAKE8(f, at)                                                                               \
    do {                                                                                           \
        memcpy((at), &(f), sizeof(v8f));                                                           \
        s0 += (v4d)_mm256_cvtps_pd(_mm256_castps256_ps128((__m256)(f)));                           \
        s1 += (v4d)_mm256_cvtps_pd(_mm256_extractf128_ps((__m256)(f), 1));                         \
        fmax = (v8f)_mm256_max_ps((__m256)(f), (__m256)fmax);                                      \
    } while (0)
    const v4d zero = {0.0, 0.0, 0.0, 0.0}, one = {1.0, 1.0, 1.0, 1.0};
    for (uint32_t n = M / 3 + 1 - pmin; n-- > 0;) { /* P = M/3 down to pmin >= 2 */
        const uint32_t P = pmin + n;
        const uint32_t K = M / P;
        const size_t step = (size_t)P * LANES;
        v4d s0 = {0}, s1 = {0};
        v8f f, x, fmax;
        OZ_LOAD(f, col);
        for (uint32_t i = 1; i < K; i++) {
            OZ_LOAD(x, col + i * step);
            f += x;
        }
        fmax = f;
        TAKE8(f, fold);
        uint32_t j = 1;
        for (; j + 4 <= P; j += 4) {
            const float *c = col + (size_t)j * LANES;
            v8f f0, f1, f2, f3, x0, x1, x2, x3;
            OZ_LOAD(f0, c);
            OZ_LOAD(f1, c + LANES);
            OZ_LOAD(f2, c + 2 * LANES);
            OZ_LOAD(f3, c + 3 * LANES);
            for (uint32_t i = 1; i < K; i++) {
                c += step;
                OZ_LOAD(x0, c);
                OZ_LOAD(x1, c + LANES);
                OZ_LOAD(x2, c + 2 * LANES);
                OZ_LOAD(x3, c + 3 * LANES);
                f0 += x0;
                f1 += x1;
                f2 += x2;
                f3 += x3;
            }
            float *fo = fold + (size_t)j * LANES;
            TAKE8(f0, fo);
            TAKE8(f1, fo + LANES);
            TAKE8(f2, fo + 2 * LANES);
            TAKE8(f3, fo + 3 * LANES);
        }
        for (; j < P; j++) {
            const float *c = col + (size_t)j * LANES;
            OZ_LOAD(f, c);
            for (uint32_t i = 1; i < K; i++) {
                OZ_LOAD(x, c + i * step);
                f += x;
            }
            TAKE8(f, fold + (size_t)j * LANES);
        }
        /* judge2 for four lanes at a time */
        const struct period *pp = per + n;
        const v4d npt = {pp->n, pp->n, pp->n, pp->n}, kk = {pp->K, pp->K, pp->K, pp->K};
        const v4d inv = {pp->inv, pp->inv, pp->inv, pp->inv}, c = {pp->c, pp->c, pp->c, pp->c};
        const v4d s[2] = {s0, s1};
        v4d r[2];
        v4l need[2];
        for (int h = 0; h < 2; h++) {
            v4d z0, fd = (v4d)_mm256_cvtps_pd(h ? _mm256_extractf128_ps((__m256)fmax, 1)
                                                : _mm256_castps256_ps128((__m256)fmax));
            v4d lev = s[h] / npt;
            v4l over = lev > one;
            lev = (v4d)(((v4l)lev & over) | ((v4l)one & ~over));
            r[h] = fd / (kk * lev);
            OZ_LOAD(z0, bs->z + 4 * h);
            v4d t = z0 * inv + c;
            need[h] = (s[h] > zero) & ~((t > zero) & (r[h] < t * t * t));
        }
        if (_mm256_testz_si256((__m256i)(need[0] | need[1]), (__m256i)(need[0] | need[1])))
            continue;
        for (uint32_t w = 0; w < LANES; w++)
            if (need[w / 4][w % 4])
                settle(r[w / 4][w % 4], fmax[w], fold, w, P, pp, bs);
    }
#undef TAKE8
}
#endif

/* Sigma of the best fold without its strongest period; y is the bin's
 * column, point i at y[i * LANES]. */
static double without_strongest(const float *y, uint32_t M, uint32_t m, uint32_t P, uint32_t j)
{
    const uint32_t K = M / P;
    double sum = 0, f = 0;
    float cmax = y[(size_t)j * LANES];
    for (uint32_t i = 0; i < K * P; i++)
        sum += y[(size_t)i * LANES];
    for (uint32_t i = 0; i < K; i++) {
        float c = y[((size_t)i * P + j) * LANES];
        f += c;
        if (c > cmax)
            cmax = c;
    }
    return wh_sigma((f - cmax) / ((K - 1) * level(sum, K * P)), (double)(K - 1) * m);
}

void oz_pulse_search(const oz_block *b, float *scratch, oz_found *found)
{
    const oz_sci_config *cfg = b->cfg;
    const uint32_t L = b->L, M = pot_len(cfg, L, b->nspec);
    if (M == 0)
        return;
    const uint32_t m = b->nspec / M, pmin = cfg->pulse_period_min;
    const double tpoint = (double)m * oz_block_tfft(b);
    /* the period table first: scratch is allocated memory, aligned for
     * doubles, and only ever read here as what was stored */
    struct period *per = (struct period *)(void *)scratch;
    float *cols = scratch + (M / 3 - pmin + 1) * (sizeof *per / sizeof *scratch);
    float *fold = cols + (size_t)GROUP * M;
    for (uint32_t P = pmin; P <= M / 3; P++) {
        const uint32_t K = M / P;
        const double k = (double)K * m;
        per[P - pmin] = (struct period){.n = (double)(K * P),
                                        .K = K,
                                        .k = k,
                                        .inv = 1.0 / (3.0 * sqrt(k)),
                                        .c = 1.0 - 1.0 / (9.0 * k) - 1e-9};
    }
#ifdef OZ_SIMD_AVX2
    const bool avx2 = oz_simd_avx2(b->cfg);
#endif

    for (uint32_t k0 = 0; k0 < L; k0 += GROUP) {
        oz_pot_build(b, k0, L - k0 < GROUP ? L - k0 : GROUP, M, m, cols, NULL);
        for (uint32_t kb = k0; kb < k0 + GROUP && kb < L; kb += LANES) {
            const float *col = cols + (size_t)(kb - k0) * M;
            struct bests bs;
            for (uint32_t w = 0; w < LANES; w++) {
                bs.z[w] = -INFINITY;
                bs.P[w] = bs.j[w] = 0;
            }
#ifdef OZ_SIMD_AVX2
            if (avx2)
                fold8_avx2(col, M, pmin, per, fold, &bs);
            else
#endif
            {
                fold4(col, 0, M, pmin, per, fold, &bs);
                fold4(col, 4, M, pmin, per, fold, &bs);
            }
            for (uint32_t w = 0; w < LANES && kb + w < L; w++) {
                const uint32_t k = kb + w, P = bs.P[w], j = bs.j[w];
                if (k == 0 || P == 0)
                    continue; /* DC, or an all-zero bin */
                const double z = bs.z[w];
                double score = z / cfg->pulse_thresh;
                if (score > 0.99 && !(without_strongest(col + w, M, m, P, j) >= 0.5 * z))
                    score = 0.99;
                double t = ((double)j + 0.5) * tpoint;
                oz_signal s = {
                    .type = OZ_SIG_PULSE,
                    .fft_len = L,
                    .freq_hz = oz_block_freq(b, k, t),
                    .chirp_hz_s = b->chirp,
                    .time_s = t,
                    .power = z,
                    .score = score,
                    .period_s = (double)P * tpoint,
                };
                oz_found_offer(found, &s);
            }
        }
    }
}
