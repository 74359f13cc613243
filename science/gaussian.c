/*
 * gaussian.c - the Gaussian search: a bin whose power rises and falls over
 * the unit like a source drifting through the telescope beam (SETI@home's
 * Gaussians, DESIGN.md §2).
 *
 * Power over time.  Each bin's power series is rebinned to M = gauss_pot_len
 * points, point j the mean of the m = nspec / M spectra j*m .. j*m+m-1 (a
 * tail of fewer than m spectra, possible only when nspec is not a multiple
 * of M, is left out), and divided by the block mean.  For noise a point is
 * then Gamma(m)/m: mean about 1, variance about 1/m.  The PoT of all bins is
 * built in one row-wise pass (pot[j*L + k]) and every later pass also runs
 * along rows, over chunks of bins small enough to stay in cache.
 *
 * Model and fit.  y_i = b + a g_i, g_i = exp(-(i - t0)^2 / (2 s^2)) with s
 * the configured beam sigma in PoT points, cut to zero beyond 4 s (e^-8),
 * so the kernel sums cost O(8 s) per centre.  Centres t0 run over the PoT
 * grid at least ceil(2 s) points from either end, so the rise and the fall
 * are both seen over two sigma (half a bump at an edge, a tone drifting into
 * the bin as the unit ends, is too easily a Gaussian); sources nearer an
 * edge are seen whole in the neighbouring unit when the splitter's overlap
 * is at least 4 sigma (16 s at the default 4 s).  b and a come from
 * ordinary least squares: with Sg = sum g, Sgg = sum g^2 (per centre, once
 * per block) and D = Sgg - Sg^2 / M,
 *     a = (sum g y - Sg ybar) / D,      b = ybar - a Sg / M.
 *
 * Statistic.  The matched-filter SNR of the amplitude is
 *     snr = a / sd(a) = a sqrt(m D) / max(b, 1),
 * since under noise of level b each point has variance b^2 / m and the OLS
 * amplitude variance b^2 / (m D).  The level is never taken below the
 * block's (1): a bin's fitted baseline scatters by 1/sqrt(M m), and
 * dividing by one that happens to be low was the main source of false
 * alarms at m = 1 (a bin with a steady tone under it has b > 1 and is judged
 * by its own level).  At small m the SNR's noise distribution has a heavy
 * tail (a weighted sum of a handful of exponentials), so one SNR threshold
 * would be far too lax at m = 1 and needlessly strict at m = 64.  power is
 * therefore the Gaussian-equivalent sigma of the SNR: the amplitude is
 * sum_i w_i y_i with w_i proportional to g_i - Sg/M, whose noise cumulants
 * give a shifted Gamma of shape k = m (sum w^2)^3 / (sum w^3)^2 (about
 * 8.8 m for the default beam), turned into sigma by Wilson–Hilferty:
 *     power = (cbrt(1 + snr / sqrt(k)) - 1 + 1/(9k)) * 3 sqrt(k)
 * (snr itself when sum w^3 <= 0, a Gaussian as wide as the PoT).  At m = 16
 * power 7 is SNR 8.4, at m = 1 SNR 13.6.  On pure noise the tails of power
 * then agree for m = 1 and m = 4 (a bin's best exceeds 5.0 with probability
 * about 1.7e-5 and 1.5e-5); test_gaussian.c has the calibration of the
 * default threshold.
 *
 * Tests.  Each bin's best centre (highest SNR, the first on ties) is listed
 * only if it passes all of these; otherwise its score is capped at 0.99, so
 * it can still be the best Gaussian but is never listed:
 *  1. fit (SETI@home): sum (y - b - a g)^2 / var_i / (M - 2) <=
 *     gauss_chisq_max, var_i = (b^2 + 2 b a g_i) / m, the variance of the
 *     mean of m powers of a tone of power a g_i in noise of power b;
 *  2. null (SETI@home): sum (y - ybar)^2 m / ybar^2 / (M - 1) >=
 *     gauss_null_chisq_min, a flat line must fit badly;
 *  3. edge: the centre is not the first or last one searched (the bump most
 *     likely peaks beyond it, and test 5 cannot see a sweep whose bumps all
 *     press against the same edge);
 *  4. peak: the bin's best SNR is at least its neighbours' (bins wrap, FFT
 *     order), so a bump is judged where it is strongest, not through the
 *     leakage of a tone into the bins beside it;
 *  5. sweep: a steady tone searched at a chirp rate away from its own
 *     drifts across the bins, and each bin it crosses sees a bump (one
 *     chirp step off is about one bin per 2.6 sigma at the default beam: a
 *     perfect fake beam crossing).  A real crossing stays in its bin and
 *     what leaks into the neighbours peaks at the same time; a sweep puts a
 *     bump about as strong into the neighbours earlier and later.  So the
 *     test fails when a neighbour's best SNR is at least half the bin's and
 *     centred more than max(s, 2) points away, or when both neighbours' are
 *     and their centres are 2 or more points apart (a bin per point or so);
 *  6. width: one loud point or two (a burst, a tone crossing the bin within
 *     a spectrum or two at a far-off chirp) fits the configured Gaussian
 *     poorly, but at m = 1 test 1, whose variance grows with the model,
 *     barely notices.  So the fit is redone at the same centre with a
 *     Gaussian a third as wide, whose SNR must not be higher: for a crossing
 *     of the configured width it is sqrt(2 s s' / (s^2 + s'^2)) = 0.77 of
 *     the matched SNR (s' = s/3), for a lone point sqrt(s / s') = 1.7 times.
 * Tests 3 to 6 came from running whole searches on units holding strong
 * steady tones: each removed a kind of false Gaussian the others let
 * through.  On crossings injected near threshold (mean power 8-9) they cost
 * 1 to 5 % of the detections.  Test 2 at SETI@home's 2.225 cost half of
 * them at m = 1 (a crossing raises ybar, which the flat line's variance
 * uses), hence the default 1.5: now 91 % of the crossings with power >= 7 at
 * m = 1, and 96 % at m = 16, are listed.
 *
 * Reported: power as above, score = power / gauss_snr_thresh (capped as
 * said), time_s = centre of PoT point t0, freq_hz at that time, sigma_s =
 * the configured sigma, chisq = the fit's reduced chi-square.  Every bin but
 * DC (k = 0) offers its best centre, so the best Gaussian of the unit is the
 * true maximum.
 *
 * The detector does not run at an FFT length where s < 0.5 points (a beam
 * crossing shorter than a PoT point) or s > M/4 (wider than the PoT can
 * show; in practice no centre is 2 s inside both ends a little before
 * that), nor where nspec < M.
 *
 * Cost per block: n adds for the PoT, about (M - 4s) (8s + 1) L
 * multiply-adds for the kernel sums, about 25 M L flops for the per-centre
 * fits and the chi-squares; tests 5 and 6 only for candidates.  With the
 * defaults (M = 64, s = 2.4 points for a 107 s unit) that is about 3000 L
 * flops, 5e7 at L = 16384, where it takes 12-20 ms against the block's 2-5
 * ms of FFTs (one core of a shared 2-core test machine).
 *
 * Scratch (floats): the PoT (M L), seven per-bin rows (L each) and five
 * per-centre tables (M each).  Small integers (centres) are stored in floats,
 * exactly.  Everything is computed in a fixed order: deterministic.
 */
#include <math.h>

#include "internal.h"

#define GAUSS_TAIL 4.0           /* the kernel is cut at this many sigma */
#define GAUSS_CHUNK_FLOATS 32768 /* PoT floats per bin chunk: 128 KiB, in L2 */

size_t oz_gauss_scratch(const oz_sci_config *cfg, uint32_t L, uint32_t nspec)
{
    uint32_t M = cfg->gauss_pot_len;
    if (cfg->gauss_fft_max == 0 || L > cfg->gauss_fft_max || M < 8 || nspec < M)
        return 0;
    return ((size_t)M + 7) * L + 5 * (size_t)M;
}

/* The PoT of every bin, divided by the block mean, and its per-bin sums. */
static void build_pot(const oz_block *b, uint32_t M, uint32_t m, float *pot, float *sy)
{
    const uint32_t L = b->L;
    for (size_t i = 0; i < (size_t)M * L; i++)
        pot[i] = 0.0f;
    for (uint32_t s = 0; s < M * m; s++) {
        const float *row = b->power + (size_t)s * L;
        float *p = pot + (size_t)(s / m) * L;
        for (uint32_t k = 0; k < L; k++)
            p[k] += row[k];
    }
    const float scale = (float)(1.0 / ((double)m * b->mean));
    for (uint32_t k = 0; k < L; k++)
        sy[k] = 0.0f;
    for (uint32_t j = 0; j < M; j++) {
        float *p = pot + (size_t)j * L;
        for (uint32_t k = 0; k < L; k++) {
            p[k] *= scale;
            sy[k] += p[k];
        }
    }
}

static uint32_t udist(uint32_t a, uint32_t b)
{
    return a > b ? a - b : b - a;
}

/* Gaussian-equivalent sigma of an SNR whose noise distribution is Gamma of
 * shape k, standardised (Wilson–Hilferty); the SNR itself for k = inf. */
static double sigma(double snr, double k)
{
    if (!isfinite(k))
        return snr;
    return (cbrt(1.0 + snr / sqrt(k)) - 1.0 + 1.0 / (9.0 * k)) * 3.0 * sqrt(k);
}

/* Is bin k's best SNR at least its neighbours'?  (Bins wrap: FFT order.) */
static bool peak(const float *best, uint32_t L, uint32_t k)
{
    return best[k] >= best[(k + L - 1) % L] && best[k] >= best[(k + 1) % L];
}

/* Does bin k's bump belong to a tone sweeping across bins?  Then its
 * neighbours hold bumps about as strong (SNR at least half), centred
 * earlier in one and later in the other: either one of them more than
 * max(s, 2) points away (a slow sweep), or both and 2 points or more apart
 * from each other (a fast one).  best and bt0 are the per-bin best SNR and
 * centre; bins wrap (FFT order). */
static bool sweeps(const float *best, const float *bt0, uint32_t L, uint32_t k, double sig)
{
    const uint32_t lo = (k + L - 1) % L, hi = (k + 1) % L;
    const double far = sig > 2.0 ? sig : 2.0, half = 0.5 * best[k];
    bool slo = best[lo] >= half, shi = best[hi] >= half;
    if (slo && fabs((double)bt0[lo] - bt0[k]) > far)
        return true;
    if (shi && fabs((double)bt0[hi] - bt0[k]) > far)
        return true;
    return slo && shi && fabs((double)bt0[hi] - bt0[lo]) >= 2.0;
}

/* The SNR of bin k's fit at centre t0 with a Gaussian of sigma sn points
 * instead of the configured one (the same least squares; column access,
 * only for candidates). */
static double narrow_snr(const float *pot, uint32_t L, uint32_t k, uint32_t M, uint32_t m,
                         uint32_t t0, double sn)
{
    double sy = 0, sgy = 0, s1 = 0, s2 = 0;
    uint32_t h = (uint32_t)ceil(GAUSS_TAIL * sn);
    for (uint32_t i = 0; i < M; i++) {
        double y = pot[(size_t)i * L + k];
        sy += y;
        uint32_t d = udist(i, t0);
        if (d > h)
            continue;
        double g = exp(-0.5 * (double)d * d / (sn * sn));
        sgy += g * y;
        s1 += g;
        s2 += g * g;
    }
    double dn = s2 - s1 * s1 / M, ybar = sy / M;
    double a = (sgy - s1 * ybar) / dn, base = ybar - a * s1 / M;
    return base > 0 ? a * sqrt(m * dn) / (base > 1.0 ? base : 1.0) : -INFINITY;
}

void oz_gauss_search(const oz_block *b, float *scratch, oz_found *found)
{
    const oz_sci_config *cfg = b->cfg;
    const uint32_t L = b->L, M = cfg->gauss_pot_len;
    if (oz_gauss_scratch(cfg, L, b->nspec) == 0)
        return;
    const uint32_t m = b->nspec / M;
    const double tpoint = (double)m * oz_block_tfft(b); /* seconds per PoT point */
    const double sig = cfg->gauss_sigma_s / tpoint;     /* sigma in PoT points */
    if (!(sig >= 0.5 && sig <= (double)M / 4.0))
        return;

    float *pot = scratch;
    float *sy = pot + (size_t)M * L;  /* sum_i y_i */
    float *acc = sy + L;              /* sum_i g_i y_i for one centre; then fit chi^2 */
    float *best = acc + L;            /* best SNR so far */
    float *bt0 = best + L;            /* its centre */
    float *ba = bt0 + L;              /* its amplitude */
    float *bb = ba + L;               /* its baseline */
    float *nul = bb + L;              /* sum_i (y_i - ybar)^2 */
    float *gk = nul + L;              /* g at distance d, 0 beyond the cut */
    float *sg = gk + M, *dd = sg + M; /* per-centre Sg and D */
    float *cs = dd + M;               /* per-centre sqrt(m D) */
    float *ck = cs + M;               /* per-centre Gamma shape of the SNR / m */

    uint32_t h = (uint32_t)ceil(GAUSS_TAIL * sig);
    if (h > M - 1)
        h = M - 1;
    for (uint32_t d = 0; d < M; d++)
        gk[d] = d <= h ? (float)exp(-0.5 * (double)d * d / (sig * sig)) : 0.0f;
    const uint32_t lo = (uint32_t)ceil(2.0 * sig);
    if (lo > M - 1 - lo)
        return; /* no centre 2 sigma inside both ends */
    const uint32_t hi = M - 1 - lo;
    for (uint32_t t0 = lo; t0 <= hi; t0++) {
        double s1 = 0, s2 = 0, w2 = 0, w3 = 0;
        for (uint32_t i = 0; i < M; i++) {
            double g = gk[udist(i, t0)];
            s1 += g;
            s2 += g * g;
        }
        for (uint32_t i = 0; i < M; i++) {
            double w = gk[udist(i, t0)] - s1 / M;
            w2 += w * w;
            w3 += w * w * w;
        }
        sg[t0] = (float)s1;
        dd[t0] = (float)(s2 - s1 * s1 / M);
        cs[t0] = (float)sqrt((double)m * (s2 - s1 * s1 / M));
        ck[t0] = w3 > 0 ? (float)(w2 * w2 * w2 / (w3 * w3)) : INFINITY;
    }

    build_pot(b, M, m, pot, sy);
    for (uint32_t k = 0; k < L; k++) {
        best[k] = -INFINITY; /* stays so only for an all-zero bin */
        bt0[k] = (float)lo;
        ba[k] = 0.0f;
        bb[k] = 1.0f;
    }

    /* Every centre, every bin: fit and keep each bin's best SNR.  Bins go in
     * chunks whose PoT columns stay in cache across all centres; within a
     * chunk the loops run along rows (the kernel sums vectorise). */
    const float invM = 1.0f / (float)M;
    uint32_t chunk = GAUSS_CHUNK_FLOATS / M;
    if (chunk < 8)
        chunk = 8;
    if (chunk > L)
        chunk = L;
    for (uint32_t k0 = 0; k0 < L; k0 += chunk) {
        const uint32_t k1 = k0 + chunk < L ? k0 + chunk : L;
        for (uint32_t t0 = lo; t0 <= hi; t0++) {
            for (uint32_t k = k0; k < k1; k++)
                acc[k] = 0.0f;
            uint32_t i0 = t0 > h ? t0 - h : 0, i1 = t0 + h < M - 1 ? t0 + h : M - 1;
            for (uint32_t i = i0; i <= i1; i++) {
                const float g = gk[udist(i, t0)];
                const float *p = pot + (size_t)i * L;
                for (uint32_t k = k0; k < k1; k++)
                    acc[k] += g * p[k];
            }
            const float g1 = sg[t0], invD = 1.0f / dd[t0], c = cs[t0], ft0 = (float)t0;
            for (uint32_t k = k0; k < k1; k++) {
                float ybar = sy[k] * invM;
                float a = (acc[k] - g1 * ybar) * invD;
                float base = ybar - a * g1 * invM;
                float snr = a * c / (base > 1.0f ? base : 1.0f);
                snr = base > 0.0f ? snr : -INFINITY;
                bool up = snr > best[k];
                best[k] = up ? snr : best[k];
                bt0[k] = up ? ft0 : bt0[k];
                ba[k] = up ? a : ba[k];
                bb[k] = up ? base : bb[k];
            }
        }
    }

    /* Chi-squares of each bin's best fit and of the flat line, row-wise. */
    const float fm = (float)m;
    for (uint32_t k = 0; k < L; k++)
        acc[k] = nul[k] = 0.0f;
    for (uint32_t i = 0; i < M; i++) {
        const float *p = pot + (size_t)i * L;
        for (uint32_t k = 0; k < L; k++) {
            float g = gk[udist(i, (uint32_t)bt0[k])];
            float sgl = ba[k] * g;
            float r = p[k] - (bb[k] + sgl);
            float var = bb[k] * (bb[k] + 2.0f * (sgl > 0.0f ? sgl : 0.0f));
            acc[k] += fm * r * r / var;
            float dy = p[k] - sy[k] * invM;
            nul[k] += dy * dy;
        }
    }

    for (uint32_t k = 1; k < L; k++) {
        if (!(best[k] > -INFINITY))
            continue;
        double ybar = (double)sy[k] / M;
        double chisq = (double)acc[k] / (M - 2);
        double null = (double)nul[k] * m / (ybar * ybar * (M - 1));
        const uint32_t t0 = (uint32_t)bt0[k];
        double z = sigma((double)best[k], (double)m * ck[t0]);
        double score = z / cfg->gauss_snr_thresh;
        if (score > 0.99) { /* the tests, cheapest first (header, 1-6) */
            bool ok = chisq <= cfg->gauss_chisq_max && null >= cfg->gauss_null_chisq_min &&
                      t0 != lo && t0 != hi && peak(best, L, k) && !sweeps(best, bt0, L, k, sig) &&
                      narrow_snr(pot, L, k, M, m, t0, sig / 3.0) <= best[k];
            if (!ok)
                score = 0.99;
        }
        double t = ((double)t0 + 0.5) * tpoint;
        oz_signal s = {
            .type = OZ_SIG_GAUSSIAN,
            .fft_len = L,
            .freq_hz = oz_block_freq(b, k, t),
            .chirp_hz_s = b->chirp,
            .time_s = t,
            .power = z,
            .score = score,
            .sigma_s = cfg->gauss_sigma_s,
            .chisq = chisq,
        };
        oz_found_offer(found, &s);
    }
}
