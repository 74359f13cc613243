/*
 * gaussian.c - the Gaussian search: a bin whose power rises and falls over
 * the unit like a source drifting through the telescope beam (SETI@home's
 * Gaussians, DESIGN.md §2).
 *
 * Power over time.  Each bin's power series is rebinned to M = gauss_pot_len
 * points, point j the mean of the m = nspec / M spectra j*m .. j*m+m-1 (a
 * tail of fewer than m spectra, possible only when nspec is not a multiple
 * of M, is left out), and divided by the block mean.  For noise a point is
 * then Gamma(m)/m: mean about 1, variance about 1/m.  It is built and
 * searched sixteen bins at a time (see How it runs).
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
 * about 1.7e-5 and 1.5e-5); test_sci_gaussian.c has the calibration of the
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
 * How it runs.  Bins go sixteen at a time (one cache line of each
 * spectrum): their PoT is built straight into two buffers of eight bins,
 * point i of lane w at [i * 8 + w], and while those are in L1 every centre's
 * kernel sums, fit and best-so-far update run across the bins, a vector of
 * lanes at a time (GCC vector extensions: four lanes to an SSE register, or
 * eight to an AVX2 register where the CPU has it, chosen at run time).  Each
 * lane does the scalar operations in the scalar order, so both paths give
 * bit-identical results.  The buffers, kept side by side, are the PoT (bin
 * k's column at (k - k % 8) M + k % 8, every eighth float).
 *
 * An offer changes the found list only when it beats the best Gaussian so
 * far or is listed (oz_found_offer, internal.h), so a bin whose score can do
 * neither is passed over before its cube root (a bound on its SNR, with a
 * margin far above rounding), its chi-squares (one walk down its column) and
 * its offer: the list comes out exactly as if every bin had been offered.
 *
 * Cost per block: n adds for the PoT, about (M - 4s) (8s + 1) L
 * multiply-adds for the kernel sums and about 12 (M - 4s) L flops for the
 * per-centre fits, four or eight bins to a vector; the chi-squares (about
 * 15 M flops), the tests and the offer only for the few bins that can
 * matter.  With the defaults (M = 64, s = 2.4 points for a 107 s unit) that
 * is about 2800 L flops, 4.6e7 at L = 16384, where it takes about 2 ms with
 * AVX2 and 5 ms without, against the block's 2-5 ms of FFTs (one core of a
 * shared 2-core test machine).
 *
 * Scratch (floats): the PoT (M L), five per-bin rows (L each; both with L
 * rounded up to a multiple of 8) and five per-centre tables (M each).  Small
 * integers (centres) are stored in floats, exactly.  Everything is computed
 * in a fixed order: deterministic.
 */
#include <math.h>
#include <string.h>

#include "internal.h"
#include "simd.h"

#define GAUSS_TAIL 4.0 /* the kernel is cut at this many sigma */
#define LANES OZ_POT_LANES
#define GROUP OZ_POT_GROUP

size_t oz_gauss_scratch(const oz_sci_config *cfg, uint32_t L, uint32_t nspec)
{
    uint32_t M = cfg->gauss_pot_len;
    if (cfg->gauss_fft_max == 0 || L > cfg->gauss_fft_max || M < 8 || nspec < M)
        return 0;
    return ((size_t)M + 5) * (((size_t)L + LANES - 1) / LANES * LANES) + 5 * (size_t)M;
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

/* Is sigma(snr, k) surely at most z?  sigma grows with snr and inverts
 * without a cube root; z is lowered by a margin far above the rounding of
 * either side.  False when unsure (then sigma is computed). */
static bool sigma_below(double snr, double k, double z)
{
    if (!isfinite(k) || !isfinite(z))
        return false;
    z -= 1e-6 * (1.0 + fabs(z));
    double sk = sqrt(k), u = z / (3.0 * sk) + 1.0 - 1.0 / (9.0 * k);
    return u >= 0.5 && snr <= (u * u * u - 1.0) * sk; /* u >= 0.5: cbrt's slope is tame */
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

/* The SNR of a bin's fit at centre t0 with a Gaussian of sigma sn points
 * instead of the configured one (the same least squares; only for
 * candidates).  y is the bin's column, point i at y[i * LANES]. */
static double narrow_snr(const float *y, uint32_t M, uint32_t m, uint32_t t0, double sn)
{
    double sy = 0, sgy = 0, s1 = 0, s2 = 0;
    uint32_t h = (uint32_t)ceil(GAUSS_TAIL * sn);
    for (uint32_t i = 0; i < M; i++) {
        double yi = y[(size_t)i * LANES];
        sy += yi;
        uint32_t d = udist(i, t0);
        if (d > h)
            continue;
        double g = exp(-0.5 * (double)d * d / (sn * sn));
        sgy += g * yi;
        s1 += g;
        s2 += g * g;
    }
    double dn = s2 - s1 * s1 / M, ybar = sy / M;
    double a = (sgy - s1 * ybar) / dn, base = ybar - a * s1 / M;
    return base > 0 ? a * sqrt(m * dn) / (base > 1.0 ? base : 1.0) : -INFINITY;
}

/* Sums of a bin's fit with amplitude a and baseline base at centre t0: the
 * weighted squared residuals (fit chi-square) and the squared deviations
 * from the mean (flat line).  y is the bin's column, point i at
 * y[i * LANES], walked in row order. */
static void chisqs(const float *y, uint32_t M, uint32_t m, const float *gk, float sy, float a,
                   float base, uint32_t t0, float *fit, float *flat)
{
    const float fm = (float)m, invM = 1.0f / (float)M;
    float acc = 0.0f, nul = 0.0f;
    for (uint32_t i = 0; i < M; i++) {
        const float p = y[(size_t)i * LANES];
        float g = gk[udist(i, t0)];
        float sgl = a * g;
        float r = p - (base + sgl);
        float var = base * (base + 2.0f * (sgl > 0.0f ? sgl : 0.0f));
        acc += fm * r * r / var;
        float dy = p - sy * invM;
        nul += dy * dy;
    }
    *fit = acc;
    *flat = nul;
}

/* The per-centre tables of one block. */
struct centres {
    const float *gk;           /* g at distance d, 0 beyond the cut */
    const float *sg, *id, *cs; /* per centre: Sg, 1/D, sqrt(m D) */
    uint32_t M, h, lo, hi;     /* PoT length, kernel half-width, centre range */
};

/* Fits four lanes of a column buffer (col points at the first; sy their
 * sums) at every centre and keeps each lane's best SNR (the first centre on
 * ties), its centre, amplitude and baseline: out[q * LANES + w], q = 0..3.
 * Centres go four at a time, so that their kernel sums (each over its own
 * window, in row order) do not wait on each other; their fits then update
 * the best in centre order (past the last centre, a sum is left unused). */
static void fit4(const float *col, const float *sy, const struct centres *c, float *out)
{
#define SPLAT4(x) ((v4f){(x), (x), (x), (x)})
#define SEL4(mask, a, b) ((v4f)(((v4i)(a) & (mask)) | ((v4i)(b) & ~(mask))))
#define TAP4(acc, q)                                                                               \
    do {                                                                                           \
        const uint32_t d_ = udist(i, t0 + (q));                                                    \
        if (d_ <= c->h)                                                                            \
            acc += SPLAT4(c->gk[d_]) * p;                                                          \
    } while (0)
#define FIT4(acc, q)                                                                               \
    do {                                                                                           \
        const uint32_t t_ = t0 + (q);                                                              \
        const v4f g1 = SPLAT4(c->sg[t_]);                                                          \
        v4f a = (acc - g1 * ybar) * SPLAT4(c->id[t_]);                                             \
        v4f base = ybar - a * g1 * SPLAT4(invM);                                                   \
        v4f snr = a * SPLAT4(c->cs[t_]) / SEL4(base > SPLAT4(1.0f), base, SPLAT4(1.0f));           \
        snr = SEL4(base > SPLAT4(0.0f), snr, SPLAT4(-INFINITY));                                   \
        v4i up = snr > best;                                                                       \
        best = SEL4(up, snr, best);                                                                \
        bt0 = SEL4(up, SPLAT4((float)t_), bt0);                                                    \
        ba = SEL4(up, a, ba);                                                                      \
        bb = SEL4(up, base, bb);                                                                   \
    } while (0)
    const float invM = 1.0f / (float)c->M;
    v4f ybar, best = SPLAT4(-INFINITY), bt0 = SPLAT4((float)c->lo), ba = SPLAT4(0.0f),
              bb = SPLAT4(1.0f), p;
    OZ_LOAD(ybar, sy);
    ybar *= SPLAT4(invM);
    for (uint32_t t0 = c->lo; t0 <= c->hi; t0 += 4) {
        const uint32_t nc = c->hi - t0 < 3 ? c->hi - t0 + 1 : 4; /* centres t0 .. t0 + nc - 1 */
        const uint32_t i0 = t0 > c->h ? t0 - c->h : 0;
        const uint32_t i1 = t0 + nc - 1 + c->h < c->M - 1 ? t0 + nc - 1 + c->h : c->M - 1;
        v4f acc0 = SPLAT4(0.0f), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        for (uint32_t i = i0; i <= i1; i++) {
            OZ_LOAD(p, col + (size_t)i * LANES);
            TAP4(acc0, 0u);
            TAP4(acc1, 1u);
            TAP4(acc2, 2u);
            TAP4(acc3, 3u);
        }
        FIT4(acc0, 0u);
        if (nc > 1)
            FIT4(acc1, 1u);
        if (nc > 2)
            FIT4(acc2, 2u);
        if (nc > 3)
            FIT4(acc3, 3u);
    }
    memcpy(out, &best, sizeof best);
    memcpy(out + LANES, &bt0, sizeof bt0);
    memcpy(out + 2 * LANES, &ba, sizeof ba);
    memcpy(out + 3 * LANES, &bb, sizeof bb);
#undef SPLAT4
#undef SEL4
#undef TAP4
#undef FIT4
}

#ifdef OZ_SIMD_AVX2
/* fit4 over all eight lanes with AVX2: every lane does exactly the
 * operations of fit4 in the same order (no fused multiply-add), so both
 * paths give bit-identical results.  Kept in one function: helpers with
 * another target would not inline, and eight-float values must not cross a
 * call. */
OZ_AVX2 static void fit8_avx2(const float *col, const float *sy, const struct centres *c,
                              float *out)
{
#define SPLAT8(x) ((v8f){(x), (x), (x), (x), (x), (x), (x), (x)})
#define SEL8(mask, a, b) ((v8f)(((v8i)(a) & (mask)) | ((v8i)(b) & ~(mask))))
#define TAP8(acc, q)                                                                               \
    do {                                                                                           \
        const uint32_t d_ = udist(i, t0 + (q));                                                    \
        if (d_ <= c->h)                                                                            \
            acc += SPLAT8(c->gk[d_]) * p;                                                          \
    } while (0)
#define FIT8(acc, q)                                                                               \
    do {                                                                                           \
        const uint32_t t_ = t0 + (q);                                                              \
        const v8f g1 = SPLAT8(c->sg[t_]);                                                          \
        v8f a = (acc - g1 * ybar) * SPLAT8(c->id[t_]);                                             \
        v8f base = ybar - a * g1 * SPLAT8(invM);                                                   \
        v8f snr = a * SPLAT8(c->cs[t_]) / SEL8(base > SPLAT8(1.0f), base, SPLAT8(1.0f));           \
        snr = SEL8(base > SPLAT8(0.0f), snr, SPLAT8(-INFINITY));                                   \
        v8i up = snr > best;                                                                       \
        best = SEL8(up, snr, best);                                                                \
        bt0 = SEL8(up, SPLAT8((float)t_), bt0);                                                    \
        ba = SEL8(up, a, ba);                                                                      \
        bb = SEL8(up, base, bb);                                                                   \
    } while (0)
    const float invM = 1.0f / (float)c->M;
    v8f ybar, best = SPLAT8(-INFINITY), bt0 = SPLAT8((float)c->lo), ba = SPLAT8(0.0f),
              bb = SPLAT8(1.0f), p;
    OZ_LOAD(ybar, sy);
    ybar *= SPLAT8(invM);
    for (uint32_t t0 = c->lo; t0 <= c->hi; t0 += 4) {
        const uint32_t nc = c->hi - t0 < 3 ? c->hi - t0 + 1 : 4;
        const uint32_t i0 = t0 > c->h ? t0 - c->h : 0;
        const uint32_t i1 = t0 + nc - 1 + c->h < c->M - 1 ? t0 + nc - 1 + c->h : c->M - 1;
        v8f acc0 = SPLAT8(0.0f), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        for (uint32_t i = i0; i <= i1; i++) {
            OZ_LOAD(p, col + (size_t)i * LANES);
            TAP8(acc0, 0u);
            TAP8(acc1, 1u);
            TAP8(acc2, 2u);
            TAP8(acc3, 3u);
        }
        FIT8(acc0, 0u);
        if (nc > 1)
            FIT8(acc1, 1u);
        if (nc > 2)
            FIT8(acc2, 2u);
        if (nc > 3)
            FIT8(acc3, 3u);
    }
    memcpy(out, &best, sizeof best);
    memcpy(out + LANES, &bt0, sizeof bt0);
    memcpy(out + 2 * LANES, &ba, sizeof ba);
    memcpy(out + 3 * LANES, &bb, sizeof bb);
#undef SPLAT8
#undef SEL8
#undef TAP8
#undef FIT8
}
#endif

/* sigma in PoT points at length L, or 0 where the detector does not run
 * (the header's last paragraph before "How it runs"). */
static double sigma_points(const oz_sci_config *cfg, uint32_t L, uint32_t nspec, double fs)
{
    const uint32_t M = cfg->gauss_pot_len;
    if (oz_gauss_scratch(cfg, L, nspec) == 0)
        return 0;
    const double tpoint = (double)(nspec / M) * ((double)L / fs); /* seconds per PoT point */
    const double sig = cfg->gauss_sigma_s / tpoint;
    if (!(sig >= 0.5 && sig <= (double)M / 4.0))
        return 0;
    const uint32_t lo = (uint32_t)ceil(2.0 * sig);
    if (lo > M - 1 - lo)
        return 0; /* no centre 2 sigma inside both ends */
    return sig;
}

bool oz_gauss_runs(const oz_sci_config *cfg, uint32_t L, uint32_t nspec, double fs)
{
    return sigma_points(cfg, L, nspec, fs) > 0;
}

void oz_gauss_search(const oz_block *b, float *scratch, oz_found *found)
{
    const oz_sci_config *cfg = b->cfg;
    const uint32_t L = b->L, M = cfg->gauss_pot_len;
    const double sig = sigma_points(cfg, L, b->nspec, b->fs); /* sigma in PoT points */
    if (!(sig > 0))
        return;
    const uint32_t m = b->nspec / M;
    const double tpoint = (double)m * oz_block_tfft(b); /* seconds per PoT point */

    /* Per-bin rows are padded to whole buffers of LANES bins. */
    const size_t Lp = ((size_t)L + LANES - 1) / LANES * LANES;
    float *pot = scratch;             /* bin k's column at pot + (k - k % 8) M + k % 8 */
    float *sy = pot + (size_t)M * Lp; /* sum_i y_i */
    float *best = sy + Lp;            /* best SNR */
    float *bt0 = best + Lp;           /* its centre */
    float *ba = bt0 + Lp;             /* its amplitude */
    float *bb = ba + Lp;              /* its baseline */
    float *gk = bb + Lp;              /* g at distance d, 0 beyond the cut */
    float *sg = gk + M, *id = sg + M; /* per-centre Sg and 1/D */
    float *cs = id + M;               /* per-centre sqrt(m D) */
    float *ck = cs + M;               /* per-centre Gamma shape of the SNR / m */

    uint32_t h = (uint32_t)ceil(GAUSS_TAIL * sig);
    if (h > M - 1)
        h = M - 1;
    for (uint32_t d = 0; d < M; d++)
        gk[d] = d <= h ? (float)exp(-0.5 * (double)d * d / (sig * sig)) : 0.0f;
    const uint32_t lo = (uint32_t)ceil(2.0 * sig); /* sigma_points: lo <= M - 1 - lo */
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
        id[t0] = 1.0f / (float)(s2 - s1 * s1 / M);
        cs[t0] = (float)sqrt((double)m * (s2 - s1 * s1 / M));
        ck[t0] = w3 > 0 ? (float)(w2 * w2 * w2 / (w3 * w3)) : INFINITY;
    }
    const struct centres cen = {gk, sg, id, cs, M, h, lo, hi};

    /* Every centre, every bin: fit and keep each bin's best SNR (see the
     * header).  A lane past the last bin fits zeros: its best stays -inf. */
#ifdef OZ_SIMD_AVX2
    const bool avx2 = oz_simd_avx2(b->cfg);
#endif
    for (uint32_t k0 = 0; k0 < L; k0 += GROUP) {
        oz_pot_build(b, k0, L - k0 < GROUP ? L - k0 : GROUP, M, m, pot + (size_t)k0 * M, sy + k0);
        for (uint32_t kb = k0; kb < k0 + GROUP && kb < L; kb += LANES) {
            const float *col = pot + (size_t)kb * M;
            float out[4 * LANES];
#ifdef OZ_SIMD_AVX2
            if (avx2)
                fit8_avx2(col, sy + kb, &cen, out);
            else
#endif
            {
                fit4(col, sy + kb, &cen, out);
                fit4(col + 4, sy + kb + 4, &cen, out + 4);
            }
            memcpy(best + kb, out, LANES * sizeof *out);
            memcpy(bt0 + kb, out + LANES, LANES * sizeof *out);
            memcpy(ba + kb, out + 2 * LANES, LANES * sizeof *out);
            memcpy(bb + kb, out + 3 * LANES, LANES * sizeof *out);
        }
    }

    for (uint32_t k = 1; k < L; k++) {
        if (!(best[k] > -INFINITY))
            continue; /* an all-zero bin */
        const uint32_t t0 = (uint32_t)bt0[k];
        const double shape = (double)m * ck[t0];
        /* An offer that neither beats the best Gaussian so far nor can be
         * listed (score <= 0.99) changes nothing: skip the bin. */
        const oz_signal *top = &found->best[OZ_SIG_GAUSSIAN];
        const bool has_top = found->has_best[OZ_SIG_GAUSSIAN];
        if (has_top &&
            sigma_below((double)best[k], shape, fmin(0.99, top->score) * cfg->gauss_snr_thresh))
            continue;
        double z = sigma((double)best[k], shape);
        double score = z / cfg->gauss_snr_thresh;
        if (has_top && !(score > 0.99) && !(score > top->score))
            continue;
        const float *col = pot + (size_t)(k - k % LANES) * M + k % LANES;
        float fit, flat;
        chisqs(col, M, m, gk, sy[k], ba[k], bb[k], t0, &fit, &flat);
        double ybar = (double)sy[k] / M;
        double chisq = (double)fit / (M - 2);
        double null = (double)flat * m / (ybar * ybar * (M - 1));
        if (score > 0.99) { /* the tests, cheapest first (header, 1-6) */
            bool ok = chisq <= cfg->gauss_chisq_max && null >= cfg->gauss_null_chisq_min &&
                      t0 != lo && t0 != hi && peak(best, L, k) && !sweeps(best, bt0, L, k, sig) &&
                      narrow_snr(col, M, m, t0, sig / 3.0) <= best[k];
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
