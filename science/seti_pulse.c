/*
 * seti_pulse.c - SETI@home v8's pulse and triplet searches (the seti mode's
 * oz_seti_pulse_search, seti.h), detection for detection.
 *
 * Segments.  v8 does not search a bin's whole power over time (PoT): it
 * cuts it into segments of one beam crossing (GetPulsePoTLen), so that a
 * source drifting through the beam is searched while it is in it.  The
 * unit lasts T = n / fs s (rounded to float); the beam moves angle_range /
 * T deg/s, i.e. R = that / beam_width beams/s (both floats); a beam then
 * spans B = nspec / T / R spectra, or the whole PoT when the unit covers
 * less than pulse_beams beams.  Segments are round(B * pulse_beams) spectra
 * long (at most nspec), start every len - round(B * pot_overlap_factor)
 * spectra, and the last is moved back to end at the last spectrum.  For
 * each bin 1 .. L-1, each segment in time order gets the triplet search
 * (when TripletMin <= len <= triplet_max, TripletMin being at least
 * ceil(3 triplet_thresh), the shortest PoT that can hold a reportable
 * triplet), then the pulse search (when the plan marks the pair PulseFind).
 * Each normalises by its segment's mean power, summed in blocks as v8 does.
 *
 * Triplets (find_triplets).  The spectra of the segment at or above
 * triplet_thresh times its mean are "on".  Every pair of on spectra a < c
 * whose span holds an off spectrum strictly between a and floor(mid), and
 * another from floor(mid) + 1 to before c (mid = (a + c) / 2), is a triplet
 * when the spectrum at floor(mid) is on; when mid falls between two spectra
 * each of floor(mid) and floor(mid) + 1 that is on gives one, in that
 * order, its peak the running maximum of the powers involved.  Peak power
 * is that peak over the mean, period (c - a) / 2 spectra, time the
 * midpoint.  v8 reports every triplet and ranks best_triplet by peak power.
 *
 * Pulses (find_pulse).  A segment of len points is folded at periods P =
 * p / (na - 1) for na = 3, 4, 5 adds and p from the largest of 2/3, 3/4,
 * 4/5 of len down to, exclusively, 1/2, 3/5, 2/3 of len: profile point i
 * (i < floor(P)) is the sum of the points i + round(k P), k < na.  Each
 * profile is then folded in half again and again (point i plus point i +
 * floor(P/2^j) + (the previous length's oddness)), doubling the adds, for
 * as many halvings as len has powers of two from 32 up.  A fold's largest
 * sum is compared with tfactor(m, n) times the mean (n adds, m = its
 * profile length, seti_gamma.h): over it, the fold is a candidate (v8
 * hands it to ReportPulseEvent as a best_pulse contender); the candidate
 * whose mean folded power most exceeds the full threshold (tfactor with
 * display 1) is the segment's reported pulse.  Peak power is the mean
 * folded power over the mean, minus 1; snr and thresh are that excess and
 * the threshold's, in units of mean / sqrt(n); v8 ranks best_pulse by snr /
 * thresh.  Its time is the segment's middle spectrum.
 *
 * Hits go out in v8's order: bins in order, segments in time order, within
 * a segment its triplets, then its pulse candidates in fold order and
 * finally its reported pulse (a repeat of one of those candidates, ties
 * in excess going to the first).  Every hit carries v8's ranking score:
 * peak power for triplets (all reported), snr / thresh for pulses (every
 * candidate, report or not).  v8's best of a type starts at score 0 and is
 * replaced only by a strictly higher score, so the caller keeps the first
 * hit of the highest score.  Pulse candidates are plentiful even in noise
 * (thousands per block: the display threshold is half-way to the full
 * one); the reported pulses are not.
 *
 * Where this differs from v8: v8 caches its thresholds in a table indexed
 * by profile length plus an offset per (adds, halving), checking only the
 * adds, so a later segment length could reuse another length's value; for
 * the reference configuration's lengths (17 .. 16913) no two lengths share
 * an entry, so computing every threshold afresh (once per block, into the
 * scratch) gives v8's.  v8 restarts from its checkpoint when a pulse's peak
 * exceeds 1.4 periods or a triplet's its segment length (taken for a
 * hardware fault); neither can happen in exact arithmetic and this search
 * just reports.  v8's folding routines add their odd last point as
 * (a + b) + (c + d) where the rest are ((a + b) + c) + d: this file adds
 * all in the latter order, a difference of float rounding only.
 *
 * Time and period follow ReportPulseEvent and ReportTripletEvent: a time of
 * spectrum t (fractional for triplets) is (t + 0.5) L / fs s from the first
 * sample, a period of P spectra is P L / fs s rounded to float.
 *
 * Speed.  The folds are most of the seti mode's time (quadratic in the
 * segment length), so they run eight sums to a vector, each lane doing the
 * scalar adds in the scalar order (the pulses section says why that keeps
 * every bit): along time for long segments, across eight bins for short
 * ones, whose hits are then put back in v8's bin-by-bin order (the search
 * section); each fold is computed together with its first halving.  The
 * scratch's size depends on which layout the block's segment length takes.
 */
#include <math.h>
#include <string.h>

#include "seti.h"
#include "seti_gamma.h"
#include "simd.h"

/* Halvings of a fold: one per power of two from 32 to len; 2^32 bounds it. */
#define MAXDIVS 32u

/* How v8 cuts each bin's PoT of a block (GetPulsePoTLen). */
typedef struct seg_plan {
    uint32_t len;     /* spectra per segment; 0: no segments */
    uint32_t advance; /* spectra from one segment's start to the next (>= 1) */
    bool triplets;    /* v8's segment length admits triplets */
} seg_plan;

/* The folds of one segment length (find_pulse's periods) and where each
 * level's thresholds sit in the table.  na index a = na - 3; level j is the
 * j-th halving; a fold at level j with profile length di has its threshold
 * at thr[base[a][j] + di - dmin[a][j]]. */
typedef struct fold_plan {
    uint32_t ndivs;             /* levels per period, 1 + halvings */
    uint32_t first[3], last[3]; /* p runs from last down to first + 1 */
    uint32_t base[3][MAXDIVS];  /* table offset of each level */
    uint32_t dmin[3][MAXDIVS];  /* smallest profile length of each level */
    uint32_t dmax[3][MAXDIVS];  /* largest */
    size_t nthr;                /* table entries */
    size_t foldlen;             /* floats of each of the two profile buffers */
} fold_plan;

/* Everything one segment's searches need besides its powers. */
typedef struct seg_ctx {
    const oz_seti_block *b;
    uint32_t bin, toff, len;
    oz_seti_emit emit;
    void *ctx;
} seg_ctx;

static uint32_t umax(uint32_t x, uint32_t y)
{
    return x > y ? x : y;
}

static seg_plan plan_segments(const oz_seti_block *b)
{
    seg_plan s = {0, 1, false};
    const oz_sci_seti *p = b->p;
    if (b->nspec == 0 || b->fs <= 0)
        return s;
    double full = (double)b->nspec;
    double wud = (float)((double)b->n / b->fs);
    double beam_rate = 0;
    if (p->angle_range != 0.0 && p->beam_width > 0) {
        double slew = (float)(p->angle_range / wud);
        beam_rate = (float)(slew / p->beam_width);
    }
    double per_beam =
        beam_rate * wud < p->pulse_beams ? (double)(float)full : full / wud / beam_rate;
    double len = per_beam * p->pulse_beams + 0.5f;
    double ovl = per_beam * p->pot_overlap_factor + 0.5f;
    if (!(len >= 1.0))
        return s;
    s.len = len >= full ? b->nspec : (uint32_t)len;
    /* v8 would loop forever on an overlap of a whole segment: step by one */
    uint32_t overlap = ovl >= (double)s.len ? s.len - 1 : ovl > 0 ? (uint32_t)ovl : 0;
    s.advance = s.len - overlap;
    double tmin = ceil(3.0 * p->triplet_thresh);
    uint32_t trip_min = tmin > (double)UINT32_MAX ? UINT32_MAX : (uint32_t)tmin;
    trip_min = umax(p->triplet_min, trip_min);
    s.triplets = s.len >= trip_min && s.len <= p->triplet_max;
    return s;
}

static fold_plan plan_folds(uint32_t len)
{
    fold_plan f;
    memset(&f, 0, sizeof f);
    f.ndivs = 1;
    for (uint64_t i = 32; i <= len; i *= 2)
        f.ndivs++;
    /* p ranges: (len/2, 2len/3], (3len/5, 3len/4], (2len/3, 4len/5] */
    static const uint32_t lo_num[3] = {1, 3, 4}, lo_den[3] = {2, 5, 6};
    static const uint32_t hi_num[3] = {2, 3, 4}, hi_den[3] = {3, 4, 5};
    size_t n = 0;
    for (uint32_t a = 0; a < 3; a++) {
        uint32_t div = a + 2;
        f.first[a] = (uint32_t)((uint64_t)len * lo_num[a] / lo_den[a]);
        f.last[a] = (uint32_t)((uint64_t)len * hi_num[a] / hi_den[a]);
        if (f.last[a] <= f.first[a])
            continue;
        uint32_t d0 = (f.first[a] + 1) / div, d1 = f.last[a] / div;
        for (uint32_t j = 0; j < f.ndivs; j++) {
            f.base[a][j] = (uint32_t)n;
            f.dmin[a][j] = d0 >> j;
            f.dmax[a][j] = d1 >> j;
            n += (d1 >> j) - (d0 >> j) + 1;
        }
    }
    f.nthr = n;
    f.foldlen = len / 3 + 1;
    return f;
}

/* The mean of x[0..len), summed in v8's blocks (their size grows with
 * sqrt(len), at least minblk, at most 512) so that it rounds as v8's. */
static uint32_t mean_block(uint32_t len, uint32_t minblk)
{
    return oz_seti_sum_block(len, minblk);
}

static float blocked_mean(const float *x, uint32_t len, uint32_t minblk)
{
    uint32_t blk = mean_block(len, minblk);
    float total = 0.0f;
    uint32_t i = 0;
    for (; i + blk <= len; i += blk) {
        float partial = 0.0f;
        for (uint32_t k = 0; k < blk; k++)
            partial += x[i + k];
        total += partial;
    }
    for (; i < len; i++)
        total += x[i];
    return total / (float)len;
}

static double seg_seconds(const seg_ctx *s, double spectra)
{
    return spectra * (double)s->b->L / s->b->fs;
}

/* ---- triplets ------------------------------------------------------------ */

static void emit_triplet(const seg_ctx *s, float peak, float mean, float period, float mid)
{
    oz_seti_hit h;
    memset(&h, 0, sizeof h);
    h.type = OZ_SIG_TRIPLET;
    h.bin = s->bin;
    float power = peak / mean;
    h.time_s = seg_seconds(s, (double)mid + s->toff + 0.5);
    h.peak_power = power;
    h.mean_power = mean;
    h.period_s = (float)seg_seconds(s, period);
    h.score = power;
    h.report = true;
    s->emit(s->ctx, &h);
}

/* One segment's triplets.  on and next hold len and len + 1 entries:
 * next[x] is the first off spectrum at or after x (len if none), which
 * answers v8's two scans for an off spectrum in constant time. */
static void triplet_segment(const seg_ctx *s, const float *pot, uint32_t *on, uint32_t *next)
{
    uint32_t len = s->len;
    float mean = blocked_mean(pot, len, 1);
    float thr = (float)s->b->p->triplet_thresh * mean;
    uint32_t non = 0;
    for (uint32_t i = 0; i < len; i++)
        if (pot[i] >= thr)
            on[non++] = i;
    if (non <= 2)
        return;
    next[len] = len;
    for (uint32_t x = len; x-- > 0;)
        next[x] = pot[x] >= thr ? next[x + 1] : x;
    for (uint32_t i = 0; i + 1 < non; i++) {
        for (uint32_t n = i + 1; n < non; n++) {
            uint32_t a = on[i], c = on[n];
            float mid = (float)(a + c) / 2.0f;
            float period = (float)(c - a) / 2.0f;
            float peak = pot[c] > pot[a] ? pot[c] : pot[a];
            uint32_t fm = (a + c) / 2;
            /* an off spectrum in (a, fm) and another in (fm, c) */
            if (next[a] >= fm || next[fm + 1] >= c)
                continue;
            uint32_t last = (a + c) % 2 ? fm + 1 : fm;
            for (uint32_t m = fm; m <= last; m++) {
                if (pot[m] >= thr) {
                    if (pot[m] > peak)
                        peak = pot[m];
                    emit_triplet(s, peak, mean, period, mid);
                }
            }
        }
    }
}

/* ---- pulses: the folds (seti_fold.h) --------------------------------------- */

#include "seti_fold.h"

/* ---- pulses: candidates and the reported pulse ----------------------------- */

/* The segment's reported pulse so far (v8's maxp ... fthresh). */
typedef struct pulse_best {
    float excess; /* mean folded power over the full threshold; 0: none yet */
    float max, period, snr, thresh;
} pulse_best;

static void emit_pulse(const seg_ctx *s, float max, float avg, float period, float snr,
                       float thresh, bool report)
{
    oz_seti_hit h;
    memset(&h, 0, sizeof h);
    h.type = OZ_SIG_PULSE;
    h.bin = s->bin;
    h.time_s = seg_seconds(s, (double)(s->toff + s->len / 2) + 0.5);
    h.peak_power = max / avg - 1.0f;
    h.mean_power = avg;
    h.period_s = (float)seg_seconds(s, period);
    h.snr = snr;
    h.thresh = thresh;
    h.len_prof = floor(period);
    h.score = snr / thresh;
    h.report = report;
    s->emit(s->ctx, &h);
}

/* A fold's largest sum tmax of n adds at period (in spectra), against its
 * display threshold factor tf: a candidate when over it, and the segment's
 * pulse when furthest over the full threshold. */
static void pulse_check(const seg_ctx *s, float tmax, float tf, uint32_t n, float period, float avg,
                        pulse_best *best)
{
    float dis = tf * avg;
    if (!(tmax > dis))
        return;
    float nf = (float)n, rootn = (float)sqrt((double)(float)n);
    float rdis = 1.0f / (float)s->b->p->pulse_display_thresh;
    tmax /= nf;
    float cur = (dis / nf - avg) * rdis + avg;
    float snr = (tmax - avg) * rootn / avg;
    float thresh = (cur - avg) * rootn / avg;
    emit_pulse(s, tmax, avg, period, snr, thresh, false);
    float t1;
    if (tmax > cur && (t1 = tmax - cur) > best->excess) {
        best->excess = t1;
        best->max = tmax;
        best->period = period;
        best->snr = snr;
        best->thresh = thresh;
    }
}

static void pulse_report(const seg_ctx *s, float avg, const pulse_best *best)
{
    if (best->period != 0)
        emit_pulse(s, best->max, avg, best->period, best->snr, best->thresh, true);
}

/* Offsets round(k p / div) of a fold at p, in v8's twelfths. */
static void fold_offsets(uint32_t p, uint32_t a, uint32_t off[5])
{
    uint32_t na = a + 3, div = a + 2;
    uint64_t mper = (uint64_t)p * (12 / div);
    off[0] = 0;
    for (uint32_t k = 1; k < 5; k++)
        off[k] = k < na ? (uint32_t)((mper * k + 6) / 12) : 0;
}

/* Threshold factor, adds and period of the fold at (a, p, level j), whose
 * profile is di points long. */
static float fold_tf(const fold_plan *fp, const float *thr, uint32_t a, uint32_t j, uint32_t di)
{
    return thr[fp->base[a][j] + di - fp->dmin[a][j]];
}

static float fold_period(uint32_t p, uint32_t a, uint32_t j)
{
    return (float)p / (float)((a + 2) << j);
}

/* One segment's folds along time; fa and fb are fp->foldlen floats each. */
AI void pulse_segment_t(const seg_ctx *s, const fold_plan *fp, const float *thr, const float *pot,
                        float *fa, float *fb)
{
    float avg = blocked_mean(pot, s->len, 4);
    pulse_best best = {0};
    for (uint32_t a = 0; a < 3; a++) {
        uint32_t na = a + 3, div = a + 2;
        for (uint32_t p = fp->last[a]; p > fp->first[a]; p--) {
            uint32_t off[5];
            fold_offsets(p, a, off);
            uint32_t di = p / div;
            float m[2] = {0, 0};
            if (fp->ndivs > 1)
                tfold01(pot, na, off, di, fa, m);
            else
                m[0] = tfold_adds(pot, na, off, di, fa);
            pulse_check(s, m[0], fold_tf(fp, thr, a, 0, di), na, fold_period(p, a, 0), avg, &best);
            if (fp->ndivs == 1)
                continue;
            di /= 2;
            pulse_check(s, m[1], fold_tf(fp, thr, a, 1, di), na << 1, fold_period(p, a, 1), avg,
                        &best);
            float *src = fa, *dst = fb;
            for (uint32_t j = 2; j < fp->ndivs; j++) {
                uint32_t half = di / 2, shift = (di & 1) + half;
                di = half;
                float tmax = tfold_half(src, shift, di, dst);
                pulse_check(s, tmax, fold_tf(fp, thr, a, j, di), na << j, fold_period(p, a, j), avg,
                            &best);
                float *t = src;
                src = dst;
                dst = t;
            }
        }
    }
    pulse_report(s, avg, &best);
}

/* Every threshold factor a segment of this length can ask for. */
static void fill_thresholds(const oz_seti_block *b, const fold_plan *fp, float *thr)
{
    for (uint32_t a = 0; a < 3; a++) {
        if (fp->last[a] <= fp->first[a])
            continue;
        for (uint32_t j = 0; j < fp->ndivs; j++)
            for (uint32_t d = fp->dmin[a][j]; d <= fp->dmax[a][j]; d++)
                thr[fp->base[a][j] + d - fp->dmin[a][j]] = oz_seti_pulse_tfactor(
                    b->p->pulse_thresh, b->p->pulse_display_thresh, d, (a + 3) << j);
    }
}

/* ---- the search ------------------------------------------------------------ */

/*
 * Across bins, a group of eight bins (g .. g + 7, g a multiple of 8) is
 * folded segment by segment, but v8's order is bin by bin: the candidates
 * (fold, lane, largest sum) are kept in the scratch, segment after segment,
 * and handed out bin by bin once the group is done, each bin's segments
 * getting their triplet search (when the group pass saw at least three on
 * spectra, as find_triplets needs) and their pulse checks in v8's order.
 * Noise gives up to a few thousand candidates per group at the lengths that
 * take this path (segments of 2200 spectra at most: L >= 64 in the reference
 * unit); a group with more than the scratch holds (a strong signal) is
 * searched again along time, bin by bin, to the same hits.
 */
#define ACROSS_MAX_LEN 2200u /* longest segment searched across bins */
#define MAXCAND 16384u       /* candidates a group may keep */

typedef struct cand {
    float tmax;
    uint32_t p;
    uint8_t a, j, lane;
} cand;

/* Where the scratch's parts start (oz_seti_pulse_scratch sums them). */
typedef struct layout {
    bool across;              /* the group path is taken */
    uint32_t nseg;            /* segments per bin */
    size_t col, fa, fb, thr;  /* float offsets: the bin's PoT, profiles, thresholds */
    size_t seg8, avg8, tflag; /* across: interleaved segment, means, triplet flags */
    size_t start, cands, on;  /* across: candidates' segment starts, candidates; on/next */
    size_t total;
} layout;

static uint32_t seg_count(const seg_plan *sp, uint32_t nspec)
{
    if ((uint64_t)sp->len >= nspec)
        return 1;
    /* starts 0, advance, ... while start + len < nspec, then the last */
    return (nspec - sp->len - 1) / sp->advance + 2;
}

static uint32_t seg_start(const seg_plan *sp, uint32_t nspec, uint32_t k, uint32_t nseg)
{
    return k + 1 == nseg ? nspec - sp->len : k * sp->advance;
}

static layout plan_layout(const oz_seti_block *b, const seg_plan *sp, const fold_plan *fp)
{
    layout y;
    memset(&y, 0, sizeof y);
    y.nseg = seg_count(sp, b->nspec);
    y.across = b->L % 8 == 0 && b->L >= 16 && sp->len <= ACROSS_MAX_LEN;
    size_t lanes = y.across ? 8 : 1, n = 0;
    y.col = n;
    n += b->nspec;
    y.fa = n;
    n += lanes * fp->foldlen;
    y.fb = n;
    n += lanes * fp->foldlen;
    y.thr = n;
    n += fp->nthr;
    if (y.across) {
        y.seg8 = n;
        n += 8 * (size_t)b->nspec;
        y.avg8 = n;
        n += 8 * (size_t)y.nseg;
        y.tflag = n;
        n += y.nseg;
        y.start = n;
        n += (size_t)y.nseg + 1;
        y.cands = n;
        n += (MAXCAND * sizeof(cand) + sizeof(float) - 1) / sizeof(float);
    }
    y.on = n;
    n += 2 * (size_t)sp->len + 1;
    y.total = n;
    return y;
}

/* The means of eight interleaved lanes, each as blocked_mean's. */
AI v8f blocked_mean8(const float *x, uint32_t len, uint32_t minblk)
{
    uint32_t blk = mean_block(len, minblk);
    v8f total = {0};
    uint32_t i = 0;
    for (; i + blk <= len; i += blk) {
        v8f partial = {0};
        for (uint32_t k = 0; k < blk; k++)
            partial += ld(x + 8 * (size_t)(i + k));
        total += partial;
    }
    for (; i < len; i++)
        total += ld(x + 8 * (size_t)i);
    return total / (float)len;
}

/* Everything the per-bin and per-group passes share. */
typedef struct search {
    const oz_seti_block *b;
    seg_plan sp;
    fold_plan fp;
    layout y;
    bool pulse_find;
    float *scratch;
    oz_seti_emit emit;
    void *ctx;
} search;

static float *part(const search *x, size_t off)
{
    return x->scratch + off;
}

/* The scratch is the caller's allocation, whose words take the type they
 * are written with: the uint32_t and cand arrays may live in it. */
static void *part_raw(const search *x, size_t off)
{
    return x->scratch + off;
}

static void gather_column(const oz_seti_block *b, uint32_t bin, float *col)
{
    for (uint32_t t = 0; t < b->nspec; t++)
        col[t] = b->power[(size_t)t * b->L + bin];
}

/* Bins [lo, hi) one at a time, folding along time. */
AI void search_bins(const search *x, uint32_t lo, uint32_t hi)
{
    const oz_seti_block *b = x->b;
    float *col = part(x, x->y.col), *fa = part(x, x->y.fa), *fb = part(x, x->y.fb);
    const float *thr = part(x, x->y.thr);
    uint32_t *on = part_raw(x, x->y.on);
    uint32_t *next = on + x->sp.len;
    seg_ctx s = {b, 0, 0, x->sp.len, x->emit, x->ctx};
    for (uint32_t bin = lo; bin < hi; bin++) {
        gather_column(b, bin, col);
        s.bin = bin;
        for (uint32_t k = 0; k < x->y.nseg; k++) {
            s.toff = seg_start(&x->sp, b->nspec, k, x->y.nseg);
            const float *pot = col + s.toff;
            if (x->sp.triplets)
                triplet_segment(&s, pot, on, next);
            if (x->pulse_find)
                pulse_segment_t(&s, &x->fp, thr, pot, fa, fb);
        }
    }
}

/* The group pass over one segment of bins g .. g + 7: its means, whether
 * each lane needs a triplet search, and its candidates appended at cands +
 * *nc.  False when they do not fit. */
AI bool group_segment(const search *x, uint32_t g, uint32_t k, cand *cands, uint32_t *nc)
{
    const oz_seti_block *b = x->b;
    const fold_plan *fp = &x->fp;
    uint32_t len = x->sp.len, toff = seg_start(&x->sp, b->nspec, k, x->y.nseg);
    const float *seg = part(x, x->y.seg8) + 8 * (size_t)toff;
    float *fa = part(x, x->y.fa), *fb = part(x, x->y.fb);
    const float *thr = part(x, x->y.thr);
    uint32_t *tflag = part_raw(x, x->y.tflag);
    tflag[k] = 0;
    v8f mean = {0};
    if (x->sp.triplets) {
        /* find_triplets' first test: more than two on spectra */
        mean = blocked_mean8(seg, len, 1);
        v8f thr8 = (float)b->p->triplet_thresh * mean;
        v8i non = {0};
        for (uint32_t t = 0; t < len; t++)
            non -= ld(seg + 8 * (size_t)t) >= thr8;
        for (uint32_t l = 0; l < 8; l++)
            tflag[k] |= (uint32_t)(non[l] > 2) << l;
    }
    if (!x->pulse_find)
        return true;
    /* the pulses' mean sums in blocks of at least 4: often the same blocks */
    v8f avg = x->sp.triplets && mean_block(len, 1) == mean_block(len, 4)
                  ? mean
                  : blocked_mean8(seg, len, 4);
    st(part(x, x->y.avg8) + 8 * (size_t)k, avg);
    unsigned live = g == 0 ? 0xfeu : 0xffu; /* bin 0 is not searched */
    for (uint32_t a = 0; a < 3; a++) {
        uint32_t na = a + 3, div = a + 2;
        for (uint32_t p = fp->last[a]; p > fp->first[a]; p--) {
            uint32_t off[5];
            fold_offsets(p, a, off);
            uint32_t di = p / div;
            v8f m[2];
            if (fp->ndivs > 1)
                xfold01(seg, na, off, di, fa, m);
            else
                m[0] = xfold_adds(seg, na, off, di, fa);
            const uint32_t d01[2] = {di, di / 2};
            float *src = fa, *dst = fb;
            for (uint32_t j = 0; j < fp->ndivs; j++) {
                v8f tmax;
                if (j < 2) {
                    tmax = m[j];
                    di = d01[j];
                } else {
                    uint32_t half = di / 2, shift = (di & 1) + half;
                    di = half;
                    tmax = xfold_half(src, shift, di, dst);
                    float *t = src;
                    src = dst;
                    dst = t;
                }
                v8i over = tmax > fold_tf(fp, thr, a, j, di) * avg;
                uint64_t w[4];
                memcpy(w, &over, sizeof w);
                if (!(w[0] | w[1] | w[2] | w[3]))
                    continue;
                unsigned bits = 0;
                for (uint32_t l = 0; l < 8; l++)
                    bits |= (unsigned)(over[l] & 1) << l;
                bits &= live;
                for (uint32_t l = 0; bits; l++, bits >>= 1) {
                    if (!(bits & 1))
                        continue;
                    if (*nc == MAXCAND)
                        return false;
                    cands[(*nc)++] = (cand){tmax[l], p, (uint8_t)a, (uint8_t)j, (uint8_t)l};
                }
            }
        }
    }
    return true;
}

/* Hands out a finished group's hits bin by bin, in v8's order. */
static void group_emit(const search *x, uint32_t g, const cand *cands)
{
    const oz_seti_block *b = x->b;
    const fold_plan *fp = &x->fp;
    float *col = part(x, x->y.col);
    const float *thr = part(x, x->y.thr), *avg8 = part(x, x->y.avg8);
    const uint32_t *tflag = part_raw(x, x->y.tflag), *start = part_raw(x, x->y.start);
    uint32_t *on = part_raw(x, x->y.on);
    uint32_t *next = on + x->sp.len;
    seg_ctx s = {b, 0, 0, x->sp.len, x->emit, x->ctx};
    for (uint32_t l = g == 0 ? 1 : 0; l < 8; l++) {
        s.bin = g + l;
        bool have_col = false;
        for (uint32_t k = 0; k < x->y.nseg; k++) {
            s.toff = seg_start(&x->sp, b->nspec, k, x->y.nseg);
            if (tflag[k] >> l & 1) {
                if (!have_col)
                    gather_column(b, s.bin, col);
                have_col = true;
                triplet_segment(&s, col + s.toff, on, next);
            }
            if (!x->pulse_find)
                continue;
            float avg = avg8[8 * (size_t)k + l];
            pulse_best best = {0};
            for (uint32_t c = start[k]; c < start[k + 1]; c++) {
                const cand *cd = &cands[c];
                if (cd->lane != l)
                    continue;
                uint32_t di = (cd->p / (cd->a + 2u)) >> cd->j;
                pulse_check(&s, cd->tmax, fold_tf(fp, thr, cd->a, cd->j, di), (cd->a + 3u) << cd->j,
                            fold_period(cd->p, cd->a, cd->j), avg, &best);
            }
            pulse_report(&s, avg, &best);
        }
    }
}

/* Bins g .. g + 7 of every spectrum into blk, eight lanes per spectrum;
 * the next group's columns are fetched meanwhile (a spectrum a line). */
AI void copy_group(const oz_seti_block *b, uint32_t g, float *blk)
{
    bool more = g + 16 < b->L;
    for (uint32_t t = 0; t < b->nspec; t++) {
        const float *row = b->power + (size_t)t * b->L + g;
        if (more)
            __builtin_prefetch(row + 16);
        st(blk + 8 * (size_t)t, ld(row));
    }
}

/* Bins 1 .. L-1 in groups of eight folded across bins. */
AI void search_groups(const search *x)
{
    cand *cands = part_raw(x, x->y.cands);
    uint32_t *start = part_raw(x, x->y.start);
    for (uint32_t g = 0; g < x->b->L; g += 8) {
        uint32_t nc = 0;
        bool fit = true;
        copy_group(x->b, g, part(x, x->y.seg8));
        for (uint32_t k = 0; k < x->y.nseg && fit; k++) {
            start[k] = nc;
            fit = group_segment(x, g, k, cands, &nc);
        }
        start[x->y.nseg] = nc;
        if (fit)
            group_emit(x, g, cands);
        else
            search_bins(x, g == 0 ? 1 : g, g + 8);
    }
}

static void search_generic(const search *x)
{
    if (x->y.across)
        search_groups(x);
    else
        search_bins(x, 1, x->b->L);
}

#ifdef OZ_SIMD_AVX2
/* The same code compiled for AVX2: the same operations lane by lane. */
OZ_AVX2 static void search_avx2(const search *x)
{
    if (x->y.across)
        search_groups(x);
    else
        search_bins(x, 1, x->b->L);
}
#endif

size_t oz_seti_pulse_scratch(const oz_seti_block *b)
{
    seg_plan sp = plan_segments(b);
    if (sp.len == 0 || b->L < 2)
        return 0;
    fold_plan fp = plan_folds(sp.len);
    return plan_layout(b, &sp, &fp).total;
}

void oz_seti_pulse_search(const oz_seti_block *b, bool pulse_find, float *scratch,
                          oz_seti_emit emit, void *ctx)
{
    search x;
    x.sp = plan_segments(b);
    if (x.sp.len == 0 || b->L < 2 || (!pulse_find && !x.sp.triplets))
        return;
    x.b = b;
    x.fp = plan_folds(x.sp.len);
    x.y = plan_layout(b, &x.sp, &x.fp);
    x.pulse_find = pulse_find;
    x.scratch = scratch;
    x.emit = emit;
    x.ctx = ctx;
    if (pulse_find)
        fill_thresholds(b, &x.fp, part(&x, x.y.thr));
#ifdef OZ_SIMD_AVX2
    if (b->avx2) {
        search_avx2(&x);
        return;
    }
#endif
    search_generic(&x);
}

bool oz_seti_pulse_runs(const oz_seti_block *b, bool pulse_find)
{
    seg_plan sp = plan_segments(b);
    return sp.len != 0 && b->L >= 2 && (pulse_find || sp.triplets);
}
