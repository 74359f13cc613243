/*
 * seti_gauss.c - SETI@home v8's Gaussian search, reproduced detection for
 * detection (the "seti" mode, seti.h; DESIGN.md §2).
 *
 * A source drifting through the telescope's beam makes a bin's power rise
 * and fall over the unit with the beam's shape.  v8 looks for that shape in
 * every bin 1 .. L-1 of the (chirp, L) blocks its plan marks GaussFit (its
 * analyze_pot, GetFixedPoT, GaussFit and ChooseGaussEvent); this file does
 * the same arithmetic, in the same float/double mix, so that the same
 * detections come out with the same numbers up to float rounding.
 *
 * Constants of the unit (v8's ComputePoTInfo).  M = gauss_pot_length.
 * sigma = float((beam_width / 2.35482f) / (angle_range / M)), in PoT points
 * (v8 keeps it as a double holding that float); isigma = floor(sigma + 0.5);
 * the trial centres are t = t_start .. M - t_start - 1 with t_start =
 * floor(pot_t_offset * sigma + 0.5).  The model's weights are
 * w[d] = float(exp(-0.693 d^2 / float(sigma^2))), d = |i - t| (v8's EXP
 * macro: 0.693, not ln 2), and the peak scale 1 / (float sum of w[d] over
 * d = -isigma .. isigma).  For the reference unit (angle 0.775, beam 0.1,
 * M = 64): sigma 3.5069, isigma 4, centres 4 .. 59.  With angle_range 0 v8
 * never sets these and the search finds nothing.
 *
 * Power over time (GetFixedPoT).  With m = nspec / M spectra per point (v8
 * runs Gaussians only where nspec >= M; other blocks yield nothing here),
 * point j is the float sum of spectra j*m .. j*m+m-1 of the bin, added in
 * blocks of bs = clamp(next_pow2(floor(sqrt(m / 32)) * 32), 1, 512) (each
 * block summed from 0 then added to the running total, then the leftover),
 * a plain copy when m = 1.  Sums, not means: GaussFit normalises anyway.
 *
 * The fit (GaussFit), per bin:
 *  1. mean = (float sum of the M points) / M; every point *= 1.0 / mean
 *     (in double, stored back as float).  No point over gauss_power_thresh:
 *     the bin is done.
 *  2. total = float sum of the normalised points (about M), max_power = the
 *     largest; the iSigma-point window with the largest float running sum
 *     (first on ties), ending at i, gives loc = i - isigma / 2, clamped to
 *     the centres.  Pre-check: peak(loc) < truemean(loc) * d * 0.5 ends the
 *     bin, d = gauss_peak_power_thresh / 3 (v8's display_power_thresh).
 *  3. For each centre t: truemean(t) = (total - float sum of the points
 *     max(t - 2 isigma, 0) .. min(t + 2 isigma, M - 1)) / (M - their count);
 *     peak(t) = float(sum over |i - t| <= isigma of (p_i - truemean)
 *     w[|i - t|]) * scale.  peak < truemean * d: next centre.
 *  4. With f = truemean + peak w[|i - t|], g = f / truemean (float), noise =
 *     2 sqrtf(max(g, 1) - 1) + 1 and r_i = p_i / truemean,
 *         chisq      = float sum float(m (r_i - g)^2 / noise) / M,
 *         null_chisq = float sum float(m (r_i - 1)^2 / noise) / M.
 *  5. ChooseGaussEvent: report iff chisq <= gauss_chi_sq_thresh and peak >=
 *     truemean * gauss_peak_power_thresh and null_chisq >=
 *     gauss_null_chi_sq_thresh (1.890 when that is 0).  The score, with
 *     lq(a, x) = float(log Q(a, x)) (Q the regularised upper incomplete
 *     gamma function, v8's lcgf) and G = M - 2, N = M - 1 degrees of freedom:
 *         score = lq(N/2, null_thresh M/2) - lq(G/2, chi_thresh M/2)
 *               + lq(G/2, max(chisq M/2, G/2 + 1))
 *               - lq(N/2, max(null_chisq M/2, N/2 + 1)),
 *     0 at the thresholds, higher for a better fit and a worse null.
 *
 * What is emitted: one hit per (bin, centre) that reaches step 5 with chisq
 * <= gauss_chi_sq_thresh, in v8's order (bins up, centres up); report as v8
 * reports it.  Hits failing the chi-square test are not emitted: v8 neither
 * reports them nor lets them be its best Gaussian.  Fields: time_s = ((t +
 * 0.5) / M) * float(n / fs) (v8's time is unit start + this / 86400 days),
 * peak_power = peak, mean_power = truemean, both in units of the bin's PoT
 * mean; sigma_s = sigma in PoT points (not seconds: what v8 reports);
 * chisq, null_chisq, max_power as above; score as above.
 *
 * v8's best_gaussian rule, for the caller.  best starts with score -12 and
 * no signal.  A hit replaces it iff hit.score > best.score, strictly (the
 * earlier wins a tie), and it passed the chi-square test (every emitted hit
 * did).  But v8 computes the score only while no Gaussian has been reported
 * in the unit, or for a reported one: once the unit has one reported
 * Gaussian (gaussian_count > 0, counting reports made earlier in the same
 * block), a non-reported hit's score is -13 and cannot win.  The caller must
 * apply that; the hits carry the true score.  v8 writes <best_gaussian>
 * even when nothing ever replaced the initial one (all fields 0, because
 * its score -12 is not 0).
 *
 * Where this departs from v8.  v8's display_power_thresh starts at 0 for
 * the unit and becomes gauss_peak_power_thresh / 3 at the first centre of
 * the unit that passes step 3; until then the pre-check is skipped and
 * every centre with peak >= 0 reaches step 4.  A detector keeps no state
 * between blocks, so this one always runs in the later, steady state; only
 * the first bin of a unit that gets past step 1 can differ, and only in
 * which weak candidates compete for best_gaussian.  v8 stops the unit
 * ("improbable Gaussian") when a reported peak exceeds M: left to the
 * caller.  v8 reads out of bounds when pot_t_offset < 1 puts a centre
 * within isigma of an end; here terms outside the PoT are left out.
 */
#include <float.h>
#include <math.h>

#include "seti.h"

/* v8's EXP macro's constant (its "NEG_LN_ONE_HALF"). */
#define LN_HALF_V8 0.693
/* v8's HPBW-to-sigma factor, a float constant. */
#define HPBW_SIGMA 2.35482f
/* v8's limit on continued-fraction terms in lcgf. */
#define LQ_ITMAX 10000

/* What stays the same for every bin of a block. */
typedef struct gconst {
    uint32_t M;     /* PoT points */
    uint32_t m;     /* spectra per point */
    uint32_t bs;    /* summation block of GetFixedPoT */
    int isigma;     /* half-width of the peak sum; the window of the pre-check */
    int t_start;    /* first centre */
    int t_stop;     /* one past the last centre */
    double sigma;   /* PoT points, a float value */
    float scale;    /* peak scale factor */
    double display; /* v8's display_power_thresh in its steady state */
    double null_thresh;
    double score_offset;
    double duration; /* the unit's length in s, a float value */
} gconst;

/* v8's pow2(): the smallest power of two >= v (1 for 0). */
static uint32_t next_pow2(uint32_t v)
{
    v = v ? v - 1 : 0;
    v |= v >> 1;
    v |= v >> 2;
    v |= v >> 4;
    v |= v >> 8;
    v |= v >> 16;
    return v + 1;
}

/* log Q(a, x), Q the regularised upper incomplete gamma function, by the
 * continued fraction for Gamma(a, x) (modified Lentz), rounded to float as
 * v8's lcgf rounds it.  Valid for x >= a + 1: callers clamp. */
static double log_gamma_q(double a, double x)
{
    const double tiny = DBL_MIN / DBL_EPSILON;
    double b = x + 1.0 - a;
    double c = 1.0 / tiny;
    double d = 1.0 / b;
    double h = d;
    for (int i = 1; i <= LQ_ITMAX; i++) {
        double an = -(double)i * ((double)i - a);
        b += 2.0;
        d = an * d + b;
        if (fabs(d) < tiny)
            d = tiny;
        c = b + an / c;
        if (fabs(c) < tiny)
            c = tiny;
        d = 1.0 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1.0) < DBL_EPSILON)
            break;
    }
    return (double)(float)(log(h) - x + a * log(x) - lgamma(a));
}

static double lq(double a, double x)
{
    return log_gamma_q(a, fmax(x, a + 1.0));
}

/* v8's EXP(d, 0, sq) as a float weight. */
static float weight(int d, float sq)
{
    float fd = (float)d;
    return (float)exp(-(LN_HALF_V8 * (double)(fd * fd)) / (double)sq);
}

/* Fills g from the block; false when v8 would not search it. */
static bool gconst_init(const oz_seti_block *b, gconst *g)
{
    const oz_sci_seti *p = b->p;
    uint32_t M = p->gauss_pot_length;
    if (M < 2 || b->nspec < M || p->angle_range == 0.0 || b->fs <= 0.0)
        return false;
    g->M = M;
    g->m = b->nspec / M;
    g->bs = next_pow2((uint32_t)sqrtf((float)(g->m / 32)) * 32);
    g->bs = g->bs > 512 ? 512 : g->bs < 1 ? 1 : g->bs;

    double deg_per_point = p->angle_range / (double)M;
    g->sigma = (double)(float)((p->beam_width / (double)HPBW_SIGMA) / deg_per_point);
    g->isigma = (int)floor(g->sigma + 0.5);
    g->t_start = (int)floor(p->pot_t_offset * g->sigma + 0.5);
    g->t_stop = (int)M - g->t_start;

    float fsig = (float)g->sigma;
    float fsq = fsig * fsig;
    int is = (int)floor(fsig + 0.5);
    float sum = 0.0f;
    for (int i = -is; i <= is; i++)
        sum += weight(i, fsq);
    g->scale = 1.0f / sum;

    g->display = p->gauss_peak_power_thresh / 3.0;
    g->null_thresh = p->gauss_null_chi_sq_thresh != 0.0 ? p->gauss_null_chi_sq_thresh : 1.890;
    double bins = (double)(float)M;
    double gdof = bins - 2.0, ndof = bins - 1.0;
    g->score_offset = lq(0.5 * ndof, g->null_thresh * 0.5 * bins) -
                      lq(0.5 * gdof, p->gauss_chi_sq_thresh * 0.5 * bins);
    g->duration = (double)(float)((double)b->n / b->fs);
    return true;
}

/* GetFixedPoT: bin k's M points of m spectra each. */
static void pot_build(const oz_seti_block *b, const gconst *g, uint32_t k, float *pot)
{
    const float *col = b->power + k;
    size_t L = b->L;
    size_t s = 0;
    for (uint32_t j = 0; j < g->M; j++) {
        if (g->m == 1) {
            pot[j] = col[s++ * L];
            continue;
        }
        size_t lim = s + g->m;
        float total = 0.0f;
        for (uint32_t blk = 0; blk < g->m / g->bs; blk++) {
            float part = 0.0f;
            for (uint32_t c = 0; c < g->bs; c++)
                part += col[(s + c) * L];
            s += g->bs;
            total += part;
        }
        for (; s < lim; s++)
            total += col[s * L];
        pot[j] = total;
    }
}

/* v8's f_GetTrueMean: the mean of the points beyond ex of t. */
static float true_mean(const float *pot, int M, float total, int t, int ex)
{
    int i0 = t - ex > 0 ? t - ex : 0;
    int i1 = t + ex + 1 < M ? t + ex + 1 : M;
    float excl = 0.0f;
    for (int i = i0; i < i1; i++)
        excl += pot[i];
    return (total - excl) / (float)(M - (i1 - i0));
}

/* v8's f_GetPeak: the Gaussian-weighted excess over mean within h of t. */
static float peak_at(const float *pot, int M, int t, int h, float mean, const float *w, float scale)
{
    float sum = 0.0f;
    for (int i = t - h; i <= t + h; i++) {
        if (i < 0 || i >= M)
            continue;
        sum += (pot[i] - mean) * w[abs(i - t)];
    }
    return sum * scale;
}

/* v8's f_GetChiSq: the fit's and the flat model's chi-square per point. */
static float chi_sq(const float *pot, const gconst *g, int t, float peak, float mean,
                    const float *w, float *null_out)
{
    double rebin = (double)g->m;
    float chi = 0.0f, nul = 0.0f;
    for (int i = 0; i < (int)g->M; i++) {
        float pred = mean + peak * w[abs(i - t)];
        pred /= mean;
        double signal = (double)pred;
        double noise = 2.0 * (double)sqrtf(fmaxf(pred, 1.0f) - 1.0f) + 1.0;
        float r = pot[i] / mean;
        double dfit = (double)r - signal;
        float dnul = r - 1.0f;
        chi += (float)(rebin * (dfit * dfit) / noise);
        nul += (float)(rebin * (double)(dnul * dnul) / noise);
    }
    *null_out = nul / (float)g->M;
    return chi / (float)g->M;
}

/* ChooseGaussEvent: thresholds and score; emits what can matter to v8. */
static void choose(const oz_seti_block *b, const gconst *g, uint32_t k, int t, float peak,
                   float mean, float chisq, float null_chisq, float max_power, oz_seti_emit emit,
                   void *ctx)
{
    const oz_sci_seti *p = b->p;
    if (!((double)chisq <= p->gauss_chi_sq_thresh))
        return;
    double bins = (double)(float)g->M;
    double gdof = bins - 2.0, ndof = bins - 1.0;
    oz_seti_hit h = {0};
    h.type = OZ_SIG_GAUSSIAN;
    h.bin = k;
    h.time_s = (((double)t + 0.5) / (double)g->M) * g->duration;
    h.peak_power = (double)peak;
    h.mean_power = (double)mean;
    h.sigma_s = (double)(float)g->sigma;
    h.chisq = (double)chisq;
    h.null_chisq = (double)null_chisq;
    h.max_power = (double)max_power;
    h.score = g->score_offset + lq(0.5 * gdof, h.chisq * 0.5 * bins) -
              lq(0.5 * ndof, h.null_chisq * 0.5 * bins);
    h.report =
        h.peak_power >= h.mean_power * p->gauss_peak_power_thresh && h.null_chisq >= g->null_thresh;
    emit(ctx, &h);
}

/* GaussFit on one bin's PoT (normalised in place). */
static void fit_bin(const oz_seti_block *b, const gconst *g, uint32_t k, float *pot, const float *w,
                    oz_seti_emit emit, void *ctx)
{
    int M = (int)g->M;
    float total = 0.0f;
    for (int i = 0; i < M; i++)
        total += pot[i];
    if (!(total > 0.0f))
        return; /* v8: 0 * inf is NaN, no point passes */
    float mean = total / (float)M;
    double rmean = 1.0 / (double)mean;
    bool any = false;
    for (int i = 0; i < M; i++) {
        pot[i] = (float)((double)pot[i] * rmean);
        if ((double)pot[i] > b->p->gauss_power_thresh)
            any = true;
    }
    if (!any)
        return;

    float max_power = 0.0f, gsum = 0.0f, gmax = 0.0f;
    int loc = 0;
    total = 0.0f;
    for (int i = 0; i < M; i++) {
        total += pot[i];
        if (pot[i] > max_power)
            max_power = pot[i];
        gsum += pot[i] - (i - g->isigma < 0 ? 0.0f : pot[i - g->isigma]);
        if (gsum > gmax) {
            gmax = gsum;
            loc = i - g->isigma / 2;
        }
    }

    if (g->display != 0.0) {
        loc = loc < g->t_stop - 1 ? loc : g->t_stop - 1;
        loc = loc > g->t_start ? loc : g->t_start;
        float tm = true_mean(pot, M, total, loc, 2 * g->isigma);
        float pk = peak_at(pot, M, loc, g->isigma, tm, w, g->scale);
        if ((double)pk < (double)tm * g->display * 0.5)
            return;
    }

    for (int t = g->t_start; t < g->t_stop; t++) {
        float tm = true_mean(pot, M, total, t, 2 * g->isigma);
        float pk = peak_at(pot, M, t, g->isigma, tm, w, g->scale);
        if ((double)pk < (double)tm * g->display)
            continue;
        float nul;
        float chi = chi_sq(pot, g, t, pk, tm, w, &nul);
        choose(b, g, k, t, pk, tm, chi, nul, max_power, emit, ctx);
    }
}

size_t oz_seti_gauss_scratch(const oz_seti_block *b)
{
    return 2 * (size_t)b->p->gauss_pot_length;
}

void oz_seti_gauss_search(const oz_seti_block *b, float *scratch, oz_seti_emit emit, void *ctx)
{
    gconst g;
    if (!gconst_init(b, &g))
        return;
    float *pot = scratch;
    float *w = scratch + g.M;
    float fsq = (float)(g.sigma * g.sigma);
    for (uint32_t d = 0; d < g.M; d++)
        w[d] = weight((int)d, fsq);
    for (uint32_t k = 1; k < b->L; k++) {
        pot_build(b, &g, k, pot);
        fit_bin(b, &g, k, pot, w, emit, ctx);
    }
}
