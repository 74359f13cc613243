/*
 * pulse.c - the pulse search: a bin whose power repeats with a fixed period
 * (SETI@home's pulses, DESIGN.md §2), found by folding its power over time.
 *
 * Power over time.  Each bin's power series is rebinned to M = min(
 * pulse_pot_len, nspec) points, point i the mean of the m = nspec / M
 * spectra i*m .. i*m+m-1 (a tail of fewer than m spectra is left out) over
 * the block mean, so noise points have mean 1.  The PoT of all bins is built
 * in one row-wise pass; each bin's column is then copied into a short
 * contiguous buffer and folded there (it stays in L1).
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
 * reach z = 4 half as often again; test_pulse.c pins the measured tail).  For
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
 * 6.11; for k >= 100 under 0.05 up to z = 8 (tests/unit/test_pulse.c checks
 * a few of these values).  The per-trial z is not corrected for the number
 * of phases and periods tried (about sum P = M^2 / 18 phases per bin);
 * pulse_thresh absorbs that, calibrated on noise in test_pulse.c: the
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
 * M^2/3 in all (5461 for M = 128, 21845 for M = 256), plus a cube root per
 * period: about 2.2e4 L for M = 256, the order of the block's FFTs (at
 * L = 4096 with 256 spectra: 9e7 adds against 6e7 FFT flops).
 *
 * Scratch (floats): the PoT (M L), one column (M), one fold (M/3).
 * Deterministic: fixed summation order, the first maximum wins ties.
 */
#include <math.h>

#include "internal.h"

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
    return M ? (size_t)M * L + M + M / 3 : 0;
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

struct best {
    double z;
    uint32_t P, j;
};

/* Folds y (M points) at every period; the best (P, phase) by sigma. */
static struct best fold_all(const float *y, uint32_t M, uint32_t m, uint32_t pmin, float *fold)
{
    struct best b = {-INFINITY, 0, 0};
    for (uint32_t P = pmin; P <= M / 3; P++) {
        const uint32_t K = M / P;
        for (uint32_t j = 0; j < P; j++)
            fold[j] = y[j];
        for (uint32_t i = 1; i < K; i++) {
            const float *row = y + (size_t)i * P;
            for (uint32_t j = 0; j < P; j++)
                fold[j] += row[j];
        }
        double sum = 0;
        uint32_t jmax = 0;
        for (uint32_t j = 0; j < P; j++) {
            sum += fold[j];
            if (fold[j] > fold[jmax])
                jmax = j;
        }
        if (!(sum > 0))
            continue;
        double z = wh_sigma((double)fold[jmax] / (K * level(sum, K * P)), (double)K * m);
        if (z > b.z)
            b = (struct best){z, P, jmax};
    }
    return b;
}

/* Sigma of the best fold without its strongest period. */
static double without_strongest(const float *y, uint32_t M, uint32_t m, struct best b)
{
    const uint32_t K = M / b.P;
    double sum = 0, f = 0;
    float cmax = y[b.j];
    for (uint32_t i = 0; i < K * b.P; i++)
        sum += y[i];
    for (uint32_t i = 0; i < K; i++) {
        float c = y[(size_t)i * b.P + b.j];
        f += c;
        if (c > cmax)
            cmax = c;
    }
    return wh_sigma((f - cmax) / ((K - 1) * level(sum, K * b.P)), (double)(K - 1) * m);
}

void oz_pulse_search(const oz_block *b, float *scratch, oz_found *found)
{
    const oz_sci_config *cfg = b->cfg;
    const uint32_t L = b->L, M = pot_len(cfg, L, b->nspec);
    if (M == 0)
        return;
    const uint32_t m = b->nspec / M;
    const double tpoint = (double)m * oz_block_tfft(b);
    float *pot = scratch, *col = pot + (size_t)M * L, *fold = col + M;

    for (size_t i = 0; i < (size_t)M * L; i++)
        pot[i] = 0.0f;
    for (uint32_t s = 0; s < M * m; s++) {
        const float *row = b->power + (size_t)s * L;
        float *p = pot + (size_t)(s / m) * L;
        for (uint32_t k = 0; k < L; k++)
            p[k] += row[k];
    }
    const float scale = (float)(1.0 / ((double)m * b->mean));
    for (size_t i = 0; i < (size_t)M * L; i++)
        pot[i] *= scale;

    for (uint32_t k = 1; k < L; k++) {
        for (uint32_t i = 0; i < M; i++)
            col[i] = pot[(size_t)i * L + k];
        struct best bp = fold_all(col, M, m, cfg->pulse_period_min, fold);
        if (bp.P == 0)
            continue; /* an all-zero bin */
        double score = bp.z / cfg->pulse_thresh;
        if (score > 0.99 && !(without_strongest(col, M, m, bp) >= 0.5 * bp.z))
            score = 0.99;
        double t = ((double)bp.j + 0.5) * tpoint;
        oz_signal s = {
            .type = OZ_SIG_PULSE,
            .fft_len = L,
            .freq_hz = oz_block_freq(b, k, t),
            .chirp_hz_s = b->chirp,
            .time_s = t,
            .power = bp.z,
            .score = score,
            .period_s = (double)bp.P * tpoint,
        };
        oz_found_offer(found, &s);
    }
}
