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
 * blocks of bs = oz_seti_sum_block(m, 1) (v8's pow2: below, not above; each
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
 * apply that; the hits carry the true score.  Or the caller says so
 * (b->gauss_reported_only) and gets reported hits only: then step 3 also
 * skips a centre whose peak is below truemean * gauss_peak_power_thresh,
 * which can no longer matter, and most chi-squares are never computed (a
 * fifth of the reference unit's Gaussian fits come after its first
 * reported Gaussian).  v8 writes <best_gaussian>
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
#include <string.h>

#include "seti.h"
#include "seti_gamma.h"
#include "simd.h"

/* v8's EXP macro's constant (its "NEG_LN_ONE_HALF"). */
#define LN_HALF_V8 0.693
/* v8's HPBW-to-sigma factor, a float constant. */
#define HPBW_SIGMA 2.35482f
/* v8's limit on continued-fraction terms in lcgf. */

/* lq for one a, what does not depend on x worked out once (lq_a_init). */
typedef struct lq_a {
    double a, lga, at_clamp;
} lq_a;

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
    double report;  /* gauss_peak_power_thresh when only reported hits matter, else 0 */
    double null_thresh;
    double score_offset;
    double duration; /* the unit's length in s, a float value */
    lq_a lq_fit;     /* lq's a for the fit's chi-square, (M - 2) / 2 */
    lq_a lq_null;    /* and for the flat line's, (M - 1) / 2 */
    float over;      /* a float p is over gauss_power_thresh iff p >= over */
} gconst;

static double lq(double a, double x)
{
    return oz_seti_lcgf(a, fmax(x, a + 1.0));
}

/* lq for one a with what does not depend on x worked out once: log Gamma(a),
 * and the value at the clamp (x <= a + 1, or NaN, which fmax also clamps),
 * where most of the fits to noise land. */
static void lq_a_init(lq_a *c, double a)
{
    c->a = a;
    c->lga = oz_seti_gammln(a);
    c->at_clamp = oz_seti_lcgf_g(a, a + 1.0, c->lga);
}

static double lq_at(const lq_a *c, double x)
{
    return x > c->a + 1.0 ? oz_seti_lcgf_g(c->a, x, c->lga) : c->at_clamp;
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
    g->bs = oz_seti_sum_block(g->m, 1);

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
    g->report = b->gauss_reported_only ? p->gauss_peak_power_thresh : 0.0;
    g->null_thresh = p->gauss_null_chi_sq_thresh != 0.0 ? p->gauss_null_chi_sq_thresh : 1.890;
    double bins = (double)(float)M;
    double gdof = bins - 2.0, ndof = bins - 1.0;
    g->score_offset = lq(0.5 * ndof, g->null_thresh * 0.5 * bins) -
                      lq(0.5 * gdof, p->gauss_chi_sq_thresh * 0.5 * bins);
    g->duration = (double)(float)((double)b->n / b->fs);
    lq_a_init(&g->lq_fit, 0.5 * gdof);
    lq_a_init(&g->lq_null, 0.5 * ndof);
    /* (double)p > thresh for a float p, as one float comparison: the
     * nearest float to thresh if it is above, else the next one up (none,
     * NaN, when thresh is NaN or not below the largest float). */
    double thr = p->gauss_power_thresh;
    float over = (float)thr;
    if (!((double)over > thr))
        over = isnan(thr) || over == INFINITY ? NAN : nextafterf(over, INFINITY);
    g->over = over;
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

/* The hit of a pair past ChooseGaussEvent's chi-square test, all but its
 * score. */
static oz_seti_hit gauss_hit(const oz_seti_block *b, const gconst *g, uint32_t k, int t, float peak,
                             float mean, float chisq, float null_chisq, float max_power)
{
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
    h.report = h.peak_power >= h.mean_power * b->p->gauss_peak_power_thresh &&
               h.null_chisq >= g->null_thresh;
    return h;
}

/* ChooseGaussEvent: thresholds and score; emits what can matter to v8. */
static void choose(const oz_seti_block *b, const gconst *g, uint32_t k, int t, float peak,
                   float mean, float chisq, float null_chisq, float max_power, oz_seti_emit emit,
                   void *ctx)
{
    if (!((double)chisq <= b->p->gauss_chi_sq_thresh))
        return;
    double bins = (double)(float)g->M;
    oz_seti_hit h = gauss_hit(b, g, k, t, peak, mean, chisq, null_chisq, max_power);
    if (b->gauss_reported_only && !h.report)
        return;
    h.score = g->score_offset + lq_at(&g->lq_fit, h.chisq * 0.5 * bins) -
              lq_at(&g->lq_null, h.null_chisq * 0.5 * bins);
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
        if ((double)pk < (double)tm * g->display || (double)pk < (double)tm * g->report)
            continue;
        float nul;
        float chi = chi_sq(pot, g, t, pk, tm, w, &nul);
        choose(b, g, k, t, pk, tm, chi, nul, max_power, emit, ctx);
    }
}

/* ---- eight bins at a time ------------------------------------------------
 *
 * Every bin does the same arithmetic in the same order, and the block is
 * row-major, so eight adjacent bins at one PoT point are eight adjacent
 * floats: one lane each.  Each lane does exactly the scalar code's
 * operations in its order (IEEE add, multiply, divide, square root and
 * conversions round the same in a lane as alone; no fused multiply-add), so
 * a lane's numbers are bit for bit the scalar code's.  The early outs of
 * fit_bin become lane masks; the centres' true means and peaks are worked
 * out for every centre (the pre-check reads its centre's from them).
 *
 * The chi-squares are the costly part, needed only for the (bin, centre)
 * pairs past step 3, about one per bin in noise, scattered over the
 * centres.  Pairs queue in v8's order, each with its own copy of its bin's
 * points, and when eight have queued (or the block ends) their terms are
 * worked out and summed one pair a lane, in the scalar order
 * (seti_gauss_chi.h); the scores' continued fractions of the pairs that
 * pass then run eight side by side (oz_seti_lcgf_many), and the hits go out
 * in queue order.  Bins past the last whole group of eight (none when L is
 * a multiple of 8) go through fit_bin. */

#include "seti_gauss_chi.h"

/* Step 3's test in float.  With d = float(display), prod = fl(tm d) and
 * dlt = fl(pk - prod), dlt = (pk - tm d (1 + e1)) (1 + e2), |e1|, |e2| <=
 * 2^-24, while the exact test compares pk with tm display (1 + e3), |e3| <=
 * 2^-53, and |display - d| <= 2^-24 |d|: the two differences pk - ... are
 * within 2^-22 |tm d| of each other, so where |dlt| >= 2^-18 |prod| (and
 * FLT_MIN, for subnormal rounding) their signs agree and the float test
 * gives the exact one's answer; NaN and infinities fall to the exact test. */
#define PASS_MARGIN 0x1p-18f

/* *ok: the lanes of the true means at tp and peaks at pp where (double)pk <
 * (double)tm * thr is false, tested as above (d = float(thr)).  Pointers,
 * not vectors, cross the call (simd.h). */
static inline __attribute__((always_inline)) void not_below(const float *tp, const float *pp,
                                                            float d, double thr, v8i *res)
{
    const v8i all_ones = ~(v8i){0};
    v8f tm, pk;
    OZ_LOAD(tm, tp);
    OZ_LOAD(pk, pp);
    v8f prod = tm * d;
    v8f dlt = pk - prod;
    v8f marg = (v8f)((v8i)prod & INT32_MAX) * PASS_MARGIN + FLT_MIN;
    v8i ok = dlt >= marg;
    v8i sure = ok | (dlt < -marg);
    if (__builtin_memcmp(&sure, &all_ones, sizeof sure)) {
        v4l flo = LO4D(pk) < LO4D(tm) * thr;
        v4l fhi = HI4D(pk) < HI4D(tm) * thr;
        ok = ~TO8I(flo, fhi);
    }
    *res = ok;
}

/* Step 3's true means and peaks at centres t .. t+3, none of whose windows
 * reaches an end of the PoT. */
static inline __attribute__((always_inline)) void centres4(const float *potv, const v8f *total,
                                                           const float *w, int t, int ex, int h,
                                                           int M, float scale, float *tmv,
                                                           float *pkv)
{
    v8f e0 = {0}, e1 = {0}, e2 = {0}, e3 = {0};
    const float *pc = potv + (size_t)(t - ex) * LANES;
    for (int d = 0; d <= 2 * ex; d++) {
        v8f p0, p1, p2, p3;
        OZ_LOAD(p0, pc + (size_t)d * LANES);
        OZ_LOAD(p1, pc + (size_t)(d + 1) * LANES);
        OZ_LOAD(p2, pc + (size_t)(d + 2) * LANES);
        OZ_LOAD(p3, pc + (size_t)(d + 3) * LANES);
        e0 += p0;
        e1 += p1;
        e2 += p2;
        e3 += p3;
    }
    const float cnt = (float)(M - (2 * ex + 1));
    v8f tm0 = (*total - e0) / cnt, tm1 = (*total - e1) / cnt;
    v8f tm2 = (*total - e2) / cnt, tm3 = (*total - e3) / cnt;
    v8f s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
    pc = potv + (size_t)(t - h) * LANES;
    for (int d = 0; d <= 2 * h; d++) {
        const float wd = w[abs(d - h)];
        v8f p0, p1, p2, p3;
        OZ_LOAD(p0, pc + (size_t)d * LANES);
        OZ_LOAD(p1, pc + (size_t)(d + 1) * LANES);
        OZ_LOAD(p2, pc + (size_t)(d + 2) * LANES);
        OZ_LOAD(p3, pc + (size_t)(d + 3) * LANES);
        s0 += (p0 - tm0) * wd;
        s1 += (p1 - tm1) * wd;
        s2 += (p2 - tm2) * wd;
        s3 += (p3 - tm3) * wd;
    }
    s0 *= scale;
    s1 *= scale;
    s2 *= scale;
    s3 *= scale;
    float *tp = tmv + (size_t)t * LANES, *pp = pkv + (size_t)t * LANES;
    OZ_STORE(tp, tm0);
    OZ_STORE(tp + LANES, tm1);
    OZ_STORE(tp + 2 * LANES, tm2);
    OZ_STORE(tp + 3 * LANES, tm3);
    OZ_STORE(pp, s0);
    OZ_STORE(pp + LANES, s1);
    OZ_STORE(pp + 2 * LANES, s2);
    OZ_STORE(pp + 3 * LANES, s3);
}

/* Steps 1 to 3 for bins k0 .. k0+7: potv gets their normalised points,
 * tmv and pkv every centre's true mean and peak, pass[t] the lanes whose
 * centre t reaches the chi-square, maxp their largest points.  Returns
 * whether any lane got that far. */
static inline __attribute__((always_inline)) bool
scan_group(const oz_seti_block *b, const gconst *g, uint32_t k0, const float *w, float *potv,
           float *tmv, float *pkv, uint8_t *pass, float *maxp)
{
    const int M = (int)g->M;
    const size_t L = b->L;
    const float *col = b->power + k0;
    v8f total = {0};
    size_t s = 0;
    for (int j = 0; j < M; j++) {
        v8f v;
        if (g->m == 1) {
            /* the next line of this row, two groups on: the rows are far
             * apart and the hardware's prefetch does not follow */
            __builtin_prefetch(col + s * L + 2 * LANES);
            OZ_LOAD(v, col + s++ * L);
        } else {
            size_t lim = s + g->m;
            v8f tot = {0};
            for (uint32_t blk = 0; blk < g->m / g->bs; blk++) {
                v8f part = {0};
                for (uint32_t c = 0; c < g->bs; c++) {
                    __builtin_prefetch(col + (s + c) * L + 2 * LANES);
                    OZ_LOAD(v, col + (s + c) * L);
                    part += v;
                }
                s += g->bs;
                tot += part;
            }
            for (; s < lim; s++) {
                __builtin_prefetch(col + s * L + 2 * LANES);
                OZ_LOAD(v, col + s * L);
                tot += v;
            }
            v = tot;
        }
        OZ_STORE(potv + (size_t)j * LANES, v);
        total += v;
    }
    v8i alive = total > 0.0f;
    if (k0 == 0)
        alive[0] = 0; /* DC */
    v8i none = {0};
    if (!__builtin_memcmp(&alive, &none, sizeof alive))
        return false;

    /* step 1: normalise in double, as v8 does */
    v8f mean = total / (float)M;
    v4d rlo = 1.0 / LO4D(mean), rhi = 1.0 / HI4D(mean);
    v8i any = {0};
    for (int i = 0; i < M; i++) {
        v8f p;
        OZ_LOAD(p, potv + (size_t)i * LANES);
        p = TO8F(LO4D(p) * rlo, HI4D(p) * rhi);
        OZ_STORE(potv + (size_t)i * LANES, p);
        any |= p >= g->over;
    }
    alive &= any;
    if (!__builtin_memcmp(&alive, &none, sizeof alive))
        return false;

    /* step 2 */
    v8f mx = {0}, gsum = {0}, gmax = {0};
    v8i loc = {0};
    total = (v8f){0};
    for (int i = 0; i < M; i++) {
        v8f p, prev = {0};
        OZ_LOAD(p, potv + (size_t)i * LANES);
        if (i - g->isigma >= 0)
            OZ_LOAD(prev, potv + (size_t)(i - g->isigma) * LANES);
        total += p;
        mx = SEL(p > mx, p, mx);
        gsum += p - prev;
        v8i up = gsum > gmax;
        gmax = SEL(up, gsum, gmax);
        loc = (loc & ~up) | ((i - g->isigma / 2) & up);
    }
    OZ_STORE(maxp, mx);

    /* step 3's numbers for every centre */
    const int ex = 2 * g->isigma, h = g->isigma;
    for (int t = g->t_start; t < g->t_stop;) {
        /* four centres at a time where no window is cut by the ends: the
         * same sums, four chains side by side */
        if (t + 3 < g->t_stop && t - ex >= 0 && t + 3 + ex < M) {
            centres4(potv, &total, w, t, ex, h, M, g->scale, tmv, pkv);
            t += 4;
            continue;
        }
        int i0 = t - ex > 0 ? t - ex : 0;
        int i1 = t + ex + 1 < M ? t + ex + 1 : M;
        v8f excl = {0}, p;
        for (int i = i0; i < i1; i++) {
            OZ_LOAD(p, potv + (size_t)i * LANES);
            excl += p;
        }
        v8f tm = (total - excl) / (float)(M - (i1 - i0));
        v8f sum = {0};
        for (int i = t - h; i <= t + h; i++) {
            if (i < 0 || i >= M)
                continue;
            OZ_LOAD(p, potv + (size_t)i * LANES);
            sum += (p - tm) * w[abs(i - t)];
        }
        v8f pk = sum * g->scale;
        OZ_STORE(tmv + (size_t)t * LANES, tm);
        OZ_STORE(pkv + (size_t)t * LANES, pk);
        t++;
    }

    /* the pre-check, at each lane's own centre */
    if (g->display != 0.0) {
        for (int j = 0; j < LANES; j++) {
            int c = loc[j] < g->t_stop - 1 ? loc[j] : g->t_stop - 1;
            c = c > g->t_start ? c : g->t_start;
            double tm = (double)tmv[(size_t)c * LANES + (size_t)j];
            double pk = (double)pkv[(size_t)c * LANES + (size_t)j];
            if (pk < tm * g->display * 0.5)
                alive[j] = 0;
        }
    }
    /* step 3's test, (double)pk < (double)tm * display, first in float:
     * outside the margin the float test decides (see PASS_MARGIN); and the
     * peak a report needs, when only reports matter */
    const float df = (float)g->display, dr = (float)g->report;
    const v8i lane_bit = {1, 2, 4, 8, 16, 32, 64, 128};
    v8i out = {0};
    for (int t = g->t_start; t < g->t_stop; t++) {
        const float *tp = tmv + (size_t)t * LANES, *pp = pkv + (size_t)t * LANES;
        v8i ok, rep;
        not_below(tp, pp, df, g->display, &ok);
        ok &= alive;
        if (g->report != 0.0 && __builtin_memcmp(&ok, &none, sizeof ok)) {
            not_below(tp, pp, dr, g->report, &rep);
            ok &= rep;
        }
        v8i m = ok & lane_bit;
        m |= __builtin_shufflevector(m, m, 4, 5, 6, 7, 0, 1, 2, 3);
        m |= __builtin_shufflevector(m, m, 2, 3, 0, 1, 6, 7, 4, 5);
        m |= __builtin_shufflevector(m, m, 1, 0, 3, 2, 5, 4, 7, 6);
        pass[t] = (uint8_t)m[0];
        out |= ok;
    }
    return __builtin_memcmp(&out, &none, sizeof out) != 0;
}

static bool scan_group_base(const oz_seti_block *b, const gconst *g, uint32_t k0, const float *w,
                            float *potv, float *tmv, float *pkv, uint8_t *pass, float *maxp)
{
    return scan_group(b, g, k0, w, potv, tmv, pkv, pass, maxp);
}

static void chi_pairs_base(const gconst *g, size_t n, const float *x, const float *const *wt,
                           const float *mean, const float *peak, float *terms, float *chi_out,
                           float *null_out)
{
    chi_pairs((int)g->M, (double)g->m, n, x, wt, mean, peak, terms, chi_out, null_out);
}

#ifdef OZ_SIMD_AVX2
/* The same code built for AVX2: eight lanes to a register. */
OZ_AVX2 static bool scan_group_avx2(const oz_seti_block *b, const gconst *g, uint32_t k0,
                                    const float *w, float *potv, float *tmv, float *pkv,
                                    uint8_t *pass, float *maxp)
{
    return scan_group(b, g, k0, w, potv, tmv, pkv, pass, maxp);
}

OZ_AVX2 static void chi_pairs_avx2(const gconst *g, size_t n, const float *x,
                                   const float *const *wt, const float *mean, const float *peak,
                                   float *terms, float *chi_out, float *null_out)
{
    chi_pairs((int)g->M, (double)g->m, n, x, wt, mean, peak, terms, chi_out, null_out);
}
#endif

/* Pairs past step 3 waiting for their chi-squares, in v8's order, each with
 * its own copy of its bin's points. */
typedef struct pairq {
    size_t n;
    float *x; /* LANES M */
    uint32_t k[LANES];
    int t[LANES];
    float tm[LANES], pk[LANES], mx[LANES];
} pairq;

/* The queue's chi-squares, then ChooseGaussEvent for each pair in order,
 * the scores' continued fractions for all of them at once. */
static void flush(const oz_seti_block *b, const gconst *g, pairq *q, const float *wm, float *terms,
                  bool avx2, oz_seti_emit emit, void *ctx)
{
    if (!q->n)
        return;
    const size_t M = g->M;
    const float *wt[LANES];
    for (size_t j = 0; j < q->n; j++)
        wt[j] = wm + (M - 1 - (size_t)q->t[j]);
    float chi[LANES], nul[LANES];
#ifdef OZ_SIMD_AVX2
    if (avx2)
        chi_pairs_avx2(g, q->n, q->x, wt, q->tm, q->pk, terms, chi, nul);
    else
#endif
        chi_pairs_base(g, q->n, q->x, wt, q->tm, q->pk, terms, chi, nul);
    const double bins = (double)(float)g->M;
    oz_seti_hit h[LANES];
    double a[2 * LANES], x[2 * LANES], gln[2 * LANES], lq_v[2 * LANES];
    size_t nh = 0, nj = 0;
    int slot[2 * LANES]; /* which job gives each lq, -1 when at the clamp */
    for (size_t j = 0; j < q->n; j++) {
        if (!((double)chi[j] <= b->p->gauss_chi_sq_thresh))
            continue;
        h[nh] = gauss_hit(b, g, q->k[j], q->t[j], q->pk[j], q->tm[j], chi[j], nul[j], q->mx[j]);
        if (b->gauss_reported_only && !h[nh].report)
            continue;
        const lq_a *c[2] = {&g->lq_fit, &g->lq_null};
        double xs[2] = {h[nh].chisq * 0.5 * bins, h[nh].null_chisq * 0.5 * bins};
        for (int f = 0; f < 2; f++) {
            slot[2 * nh + (size_t)f] = -1;
            lq_v[2 * nh + (size_t)f] = c[f]->at_clamp;
            if (xs[f] > c[f]->a + 1.0) {
                a[nj] = c[f]->a;
                x[nj] = xs[f];
                gln[nj] = c[f]->lga;
                slot[2 * nh + (size_t)f] = (int)nj++;
            }
        }
        nh++;
    }
    double out[2 * LANES];
    oz_seti_lcgf_many(a, x, gln, out, nj, avx2);
    for (size_t j = 0; j < nh; j++) {
        double lf = slot[2 * j] < 0 ? lq_v[2 * j] : out[slot[2 * j]];
        double ln = slot[2 * j + 1] < 0 ? lq_v[2 * j + 1] : out[slot[2 * j + 1]];
        h[j].score = g->score_offset + lf - ln;
        emit(ctx, &h[j]);
    }
    q->n = 0;
}

size_t oz_seti_gauss_scratch(const oz_seti_block *b)
{
    /* w, wm, pot; terms; potv, tmv, pkv, pott, queue; ts; pass */
    size_t M = b->p->gauss_pot_length;
    return 5 * M + 2 * LANES * M + 5 * LANES * M + M / sizeof(float) + 1;
}

void oz_seti_gauss_search(const oz_seti_block *b, float *scratch, oz_seti_emit emit, void *ctx)
{
    gconst g;
    if (!gconst_init(b, &g))
        return;
    const size_t M = g.M;
    float *w = scratch;
    float *wm = w + M; /* 2 M - 1: wm[M - 1 + d] = w[|d|] */
    float *pot = wm + 2 * M;
    float *terms = pot + M;
    float *potv = terms + 2 * LANES * M;
    float *tmv = potv + LANES * M;
    float *pkv = tmv + LANES * M;
    float *pott = pkv + LANES * M; /* potv, lane by lane */
    pairq q = {.x = pott + LANES * M};
    int *ts = (int *)(q.x + LANES * M); /* M: centres with a pass */
    uint8_t *pass = (uint8_t *)(ts + M);
    float fsq = (float)(g.sigma * g.sigma);
    for (uint32_t d = 0; d < g.M; d++)
        w[d] = weight((int)d, fsq);
    for (size_t j = 0; j + 1 < 2 * M; j++)
        wm[j] = w[j < M ? M - 1 - j : j - (M - 1)];
    const bool avx2 = b->avx2;
    uint32_t k = 0;
    if (g.t_start < g.t_stop) {
        for (; k + LANES <= b->L; k += LANES) {
            float maxp[LANES];
            bool some;
#ifdef OZ_SIMD_AVX2
            if (avx2)
                some = scan_group_avx2(b, &g, k, w, potv, tmv, pkv, pass, maxp);
            else
#endif
                some = scan_group_base(b, &g, k, w, potv, tmv, pkv, pass, maxp);
            if (!some)
                continue;
            /* the centres some lane passes, then each lane's, in order */
            int nt = 0;
            unsigned lanes = 0;
            for (int t = g.t_start; t < g.t_stop; t++) {
                ts[nt] = t;
                nt += pass[t] != 0;
                lanes |= pass[t];
            }
            for (size_t j = 0; j < LANES; j++) {
                if (!(lanes >> j & 1))
                    continue;
                float *x = pott + j * M;
                for (size_t i = 0; i < M; i++)
                    x[i] = potv[i * LANES + j];
                for (int c = 0; c < nt; c++) {
                    int t = ts[c];
                    if (!(pass[t] >> j & 1))
                        continue;
                    size_t n = q.n++;
                    memcpy(q.x + n * M, x, sizeof(float) * M);
                    q.k[n] = k + (uint32_t)j;
                    q.t[n] = t;
                    q.tm[n] = tmv[(size_t)t * LANES + j];
                    q.pk[n] = pkv[(size_t)t * LANES + j];
                    q.mx[n] = maxp[j];
                    if (q.n == LANES)
                        flush(b, &g, &q, wm, terms, avx2, emit, ctx);
                }
            }
        }
    }
    flush(b, &g, &q, wm, terms, avx2, emit, ctx);
    for (k = k ? k : 1; k < b->L; k++) {
        pot_build(b, &g, k, pot);
        fit_bin(b, &g, k, pot, w, emit, ctx);
    }
}
