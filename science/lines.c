/*
 * lines.c - the semi-coherent line search: persistent narrowband tones that
 * drift, too weak to stand out in any single spectrum.
 *
 * A spike must be strong in one spectrum.  A tone that lasts the whole unit
 * can be found far below that by summing its power along its track across
 * all spectra.  Incoherent drift searches (the Taylor-tree "de-Doppler" of
 * today's SETI surveys) do that on a spectrogram, but a tone drifting more
 * than a bin during one spectrum is smeared and lost.  Ozma has the complex
 * samples, so it does both: the search already dechirps coherently at every
 * chirp step (plan.c); at the longest FFT length the step is
 * chirp_resolution * bin^2, so the residual drift within one spectrum is at
 * most chirp_resolution / 2 bins, and this file sums the power of the block
 * along every residual drift line up to that rate, both signs, with the
 * Taylor tree (dedoppler.c).
 *
 * Scalloping.  A tone half-way between two bins keeps only 41% of its power
 * in either, and a drifting tone crosses bins all the time, so one set of
 * spectra keeps 77% on average.  With line_half_bin the step also computes
 * the spectra shifted by half a bin, and the tree runs on sums of
 * neighbouring points of the two sets, (k, k+1/2) and (k+1/2, k+1): the
 * tone always lies between the two points of one of them, which keep 141%
 * to 162% of a bin's power for 2.81 times the noise variance - about 18%
 * more SNR on average, at twice the cost of the longest length.
 *
 * Statistic.  The noise level mu is robust: the median over bins of the
 * straight (drift 0) sums of the unshifted spectra, divided by the median
 * of a Gamma(n) variable (about n - 1/3), so a few strong signals do not
 * raise it.  Under noise a path's sum / mu over n spectra is Gamma(n, 1) for
 * one set, and 1.64 G1 + 0.36 G2 (G1, G2 independent Gamma(n, 1): the
 * eigenvalues 1 +- 2/pi of two half-bin neighbours' correlation) for pairs.
 * The threshold is the value that sum exceeds with probability
 * line_pfa / trials, where trials counts every (block, combination, bin,
 * drift) the plan searches, so line_pfa is the false-alarm probability per
 * unit; it is computed once per plan (oz_lines_plan) from the exact
 * integer-shape Gamma tail, integrated over G2 for pairs.  A line reports
 * power = its integrated SNR, (sum/mu - mean) / sd, and score = SNR over the
 * threshold's SNR.
 *
 * Start and end.  Along the detected path, the run of spectra whose excess
 * power beats half the path's average excess by the most (a maximum-sum
 * segment) is where the tone is; time_s is its middle and freq_hz the
 * tone's absolute frequency then.  The chirp is the block's dechirp rate plus
 * the residual drift of the path.
 */
#include <math.h>
#include <string.h>

#include "internal.h"
#include "simd.h"

/* Lines need at least 4 spectra to be more than a spike, and at most this
 * many (a unit cut into more, shorter spectra than this is searched by the
 * other detectors only): the tree's tiles grow with the square of it. */
#define OZ_LINES_NSPEC_MAX 1024u

static uint32_t next_pow2(uint32_t v)
{
    uint32_t p = 1;
    while (p < v)
        p *= 2;
    return p;
}

/* Drift rows searched per sign: the residual drift over the unit, in bins,
 * plus one for the tree's rounding. */
static uint32_t drift_rows(const oz_sci_config *cfg, uint32_t nspec, uint32_t n)
{
    /* the tree's drift d spans its n rows (nspec padded to a power of two),
     * so the residual rate chirp_resolution/2 bins per spectrum is d = that
     * times n - 1 */
    (void)nspec;
    double d = ceil(0.5 * cfg->chirp_resolution * (double)(n - 1)) + 1.0;
    return d >= n - 1 ? n - 1 : (uint32_t)d;
}

/*
 * Tiles.  The trees run on tiles of W columns (a power of two, so tiles
 * divide L) plus a margin of D columns for the paths leaving them (the
 * tree's row d is complete for columns k < width - d): TILE_FLOATS / n
 * columns, so that both trees' log2 n passes run in the first levels of
 * cache, but at least four times the margin; TREE8_W for the eight-row
 * kernel, which keeps nothing but its output.  Lines are offered in a fixed
 * order, tile by tile (offer tiles of OFFER_FLOATS / n columns, at least
 * 64), drift by drift, bin by bin: the signal list merges greedily
 * (found.c), so that order is part of the result, and it stays the order of
 * the search's first tiling whatever W is.
 */
#define TILE_FLOATS 8192u
#define TREE8_W 2048u
#define OFFER_FLOATS 65536u

struct tiling {
    uint32_t n, D;       /* tree rows (nspec padded to a power of two), drift rows */
    bool tree8;          /* n = 8, D = 2: oz_taylor_tree8, on tiles of TREE8_W */
    uint32_t W, width;   /* search tiles: columns, row length (with the margin) */
    uint32_t Wo, owidth; /* offer tiles: the same */
    size_t area;         /* floats of tree work: the larger of 5 search and 3 offer tiles */
};

/* Row length of a tile: W columns and the margin, in whole 64-byte lines. */
static uint32_t tile_stride(uint32_t W, uint32_t D)
{
    return (W + D + 15u) & ~15u;
}

static struct tiling tiling(const oz_sci_config *cfg, uint32_t L, uint32_t nspec)
{
    struct tiling t = {.n = next_pow2(nspec)};
    t.D = drift_rows(cfg, nspec, t.n);
    t.tree8 = t.n == 8 && t.D == 2;
    uint32_t w = t.tree8 ? TREE8_W : TILE_FLOATS / t.n, wo = OFFER_FLOATS / t.n;
    if (w < 64)
        w = 64;
    while (w < 4 * t.D)
        w *= 2;
    if (wo < 64)
        wo = 64;
    t.W = w < L ? w : L;
    t.Wo = wo < L ? wo : L;
    t.width = tile_stride(t.W, t.D);
    t.owidth = tile_stride(t.Wo, t.D);
    size_t search = 5 * (size_t)t.n * t.width, offer = 3 * (size_t)t.n * t.owidth;
    t.area = search > offer ? search : offer;
    return t;
}

/* Floats of noise_level's column sums. */
#define NOISE_BINS 8192u
static uint32_t noise_bins(uint32_t L)
{
    return L > NOISE_BINS ? NOISE_BINS : L;
}

size_t oz_lines_scratch(const oz_sci_config *cfg, uint32_t L, uint32_t nspec)
{
    if (!(cfg->line_pfa > 0) || L != cfg->fft_max || nspec < 4 || nspec > OZ_LINES_NSPEC_MAX)
        return 0;
    struct tiling t = tiling(cfg, L, nspec);
    uint32_t zero = t.width > t.owidth ? t.width : t.owidth;
    /* tree work, a zero row, the noise columns, the strongest path of each
     * (combination, sign, search tile) */
    return t.area + zero + noise_bins(L) + 4 * (L / t.W);
}

/* Noise of one path point: one bin (1) or a half-bin pair (2 with variance
 * 2 (1 + 4/pi^2)); the eigenvalues of the pair's covariance are 1 +- 2/pi. */
#define PAIR_VAR (2.0 * (1.0 + 4.0 / (OZ_PI * OZ_PI)))
#define PAIR_HI (1.0 + 2.0 / OZ_PI)
#define PAIR_LO (1.0 - 2.0 / OZ_PI)

/* P(Gamma(n, 1) > z) for integer n: e^-z sum_{k<n} z^k / k!, in logs. */
static double gamma_q(uint32_t n, double z)
{
    if (z <= 0)
        return 1.0;
    double lz = log(z), lmax = -HUGE_VAL;
    for (uint32_t k = 0; k < n; k++) {
        double lt = -z + k * lz - lgamma(k + 1.0);
        if (lt > lmax)
            lmax = lt;
    }
    double sum = 0;
    for (uint32_t k = 0; k < n; k++)
        sum += exp(-z + k * lz - lgamma(k + 1.0) - lmax);
    double q = exp(lmax) * sum;
    return q < 1.0 ? q : 1.0;
}

/* P(PAIR_HI G1 + PAIR_LO G2 > x), G1, G2 independent Gamma(n, 1): the tail
 * of G1 integrated over the density of G2 (Simpson, +-12 sd). */
static double pair_q(uint32_t n, double x)
{
    const int steps = 400;
    double sd = sqrt((double)n), lo = n - 12 * sd, hi = n + 12 * sd;
    if (lo < 0)
        lo = 0;
    double h = (hi - lo) / steps, sum = 0;
    for (int i = 0; i <= steps; i++) {
        double y = lo + i * h;
        double dens = y > 0 ? exp((n - 1.0) * log(y) - y - lgamma((double)n)) : 0;
        double w = (i == 0 || i == steps) ? 1 : (i % 2 ? 4 : 2);
        sum += w * dens * gamma_q(n, (x - PAIR_LO * y) / PAIR_HI);
    }
    return sum * h / 3;
}

static double tail(uint32_t n, bool pairs, double x)
{
    return pairs ? pair_q(n, x) : gamma_q(n, x);
}

static double threshold(const oz_sci_config *cfg, uint32_t L, uint32_t nspec, uint64_t blocks)
{
    const uint32_t D = drift_rows(cfg, nspec, next_pow2(nspec));
    const bool pairs = cfg->line_half_bin != 0;
    double trials = (double)blocks * (pairs ? 2.0 : 1.0) * (double)L * (2.0 * D + 1.0);
    double p = cfg->line_pfa / trials;
    double mean = pairs ? 2.0 * nspec : nspec;
    double sd = sqrt((pairs ? PAIR_VAR : 1.0) * nspec);
    /* bisection on the monotone tail, from the mean up */
    double lo = mean, hi = mean + sd;
    while (tail(nspec, pairs, hi) > p && hi < mean + 1000 * sd)
        hi += 2 * (hi - mean);
    for (int i = 0; i < 60; i++) {
        double mid = 0.5 * (lo + hi);
        if (tail(nspec, pairs, mid) > p)
            lo = mid;
        else
            hi = mid;
    }
    return hi;
}

void oz_lines_plan(const oz_sci_config *cfg, uint32_t L, uint32_t nspec, uint64_t blocks,
                   oz_det_plan *out)
{
    /* two Taylor trees (both drift signs) of nspec rounded up to a power of
     * two rows a block; with half-bin spectra, twice (the search counts
     * those spectra themselves) */
    uint64_t rows = 1;
    while (rows < nspec)
        rows *= 2;
    uint64_t tree = 2 * rows * L * oz_log2u((uint32_t)rows);
    const bool half = cfg->line_half_bin != 0;
    *out = (oz_det_plan){
        .flops = (half ? 2u : 1u) * blocks * tree,
        .thr = threshold(cfg, L, nspec, blocks),
        .half_bin = half,
    };
}

/* Median of v[0..n) (n <= NOISE_BINS): the (n/2)-th smallest.  The values
 * are sums of powers, never negative or NaN, and such floats order as their
 * bit patterns do, so three counting passes over the top 11, middle 11 and
 * low 10 bits find its bits exactly, without the unpredictable branches of
 * a quickselect.  Four interleaved counts keep the increments of a run of
 * equal values from waiting on each other. */
static float median(const float *v, uint32_t n)
{
    static const uint32_t shift[3] = {21, 10, 0}, bits[3] = {11, 11, 10};
    uint16_t count[4][2048]; /* n / 4 <= 2048 per count */
    uint32_t k = n / 2, prefix = 0;
    for (int p = 0; p < 3; p++) {
        const uint32_t sh = shift[p], nb = 1u << bits[p];
        /* bits above this pass's are fixed: elements that differ there do
         * not count (they add 0) */
        const uint32_t fixed = p == 0 ? 0 : ~0u << shift[p - 1];
        for (int j = 0; j < 4; j++)
            memset(count[j], 0, nb * sizeof count[j][0]);
        for (uint32_t i = 0; i < n; i++) {
            uint32_t u;
            memcpy(&u, &v[i], sizeof u);
            uint16_t *c = &count[i & 3][(u >> sh) & (nb - 1)];
            *c = (uint16_t)(*c + ((u & fixed) == prefix));
        }
        uint32_t below = 0, bucket = 0;
        for (; bucket < nb; bucket++) {
            uint32_t c =
                (uint32_t)count[0][bucket] + count[1][bucket] + count[2][bucket] + count[3][bucket];
            if (below + c > k)
                break;
            below += c;
        }
        k -= below;
        prefix |= bucket << sh;
    }
    float x;
    memcpy(&x, &prefix, sizeof x);
    return x;
}

struct search_ctx {
    const oz_block *b;
    oz_found *found;
    uint32_t n;        /* tree rows (power of two >= nspec) */
    int combo;         /* 0: one set; 1: pairs (k, k+1/2); 2: pairs (k+1/2, k+1) */
    double mu;         /* noise power per bin per spectrum */
    double mean1, sd1; /* noise mean and sd of one path point, in mu */
};

/* The path point of spectrum s at bin k (true bin order) for the combo:
 * one bin, or a bin and its half-bin neighbour. */
static float point(const oz_block *b, int combo, uint32_t s, uint32_t k)
{
    const uint32_t L = b->L;
    const float *p = b->power + (size_t)s * L, *h = b->power_half + (size_t)s * L;
    switch (combo) {
    case 1:
        return p[k] + h[k];
    case 2:
        return h[k] + p[(k + 1) % L];
    default:
        return p[k];
    }
}

/* out[j] = path point of row s at bin `first + j` for j < len, no wrap. */
static void fill_span(const oz_block *b, int combo, uint32_t s, uint32_t first, uint32_t len,
                      float *restrict out)
{
    const uint32_t L = b->L;
    const float *restrict p = b->power + (size_t)s * L + first;
    const float *restrict h = combo ? b->power_half + (size_t)s * L + first : NULL;
    switch (combo) {
    case 1:
        for (uint32_t j = 0; j < len; j++)
            out[j] = p[j] + h[j];
        break;
    case 2: /* h[k] + p[k+1]; the caller keeps first + len < L */
        for (uint32_t j = 0; j < len; j++)
            out[j] = h[j] + p[j + 1];
        break;
    default:
        memcpy(out, p, len * sizeof *out);
    }
}

/* Columns k0 .. k0+width-1 of row s of path points for the combo; bins
 * wrap modulo L (the FFT's bins are circular). */
static void fill_tile_row(const oz_block *b, int combo, uint32_t s, uint32_t k0, uint32_t width,
                          float *out)
{
    const uint32_t L = b->L;
    uint32_t j = 0, k = k0 % L;
    while (j < width) {
        /* a contiguous run up to the end of the band; combo 2 reads one bin
         * ahead, so its run stops a bin early and the last bin wraps alone */
        uint32_t stop = combo == 2 ? L - 1 : L;
        uint32_t len = k < stop ? stop - k : 0;
        if (len > width - j)
            len = width - j;
        if (len) {
            fill_span(b, combo, s, k, len, out + j);
            j += len;
            k += len;
        }
        if (j < width && k >= stop) {
            if (combo == 2 && k == L - 1) {
                const float *p = b->power + (size_t)s * L, *h = b->power_half + (size_t)s * L;
                out[j++] = h[L - 1] + p[0];
            }
            k = 0;
        }
    }
}

/* The point at spectrum s of the path from bin k drifting dd bins over the
 * tree's n rows. */
static double path_point(const struct search_ctx *c, uint32_t k, int64_t dd, uint32_t s)
{
    const uint32_t L = c->b->L;
    int64_t off = (int64_t)llround((double)dd * s / (double)(c->n - 1));
    int64_t bin = ((int64_t)k + off) % (int64_t)L;
    if (bin < 0)
        bin += L;
    return point(c->b, c->combo, s, (uint32_t)bin);
}

/* Builds and offers the line starting at bin k (true bin order) with total
 * drift dd bins over the tree's rows and sum/mu = x. */
static void offer_line(const struct search_ctx *c, uint32_t k, int64_t dd, double x)
{
    const oz_block *b = c->b;
    const uint32_t nspec = b->nspec;
    const double tfft = oz_block_tfft(b);
    const double bin = b->fs / b->L;
    const double mean = c->mean1 * nspec, sd = c->sd1 * sqrt((double)nspec);
    double snr = (x - mean) / sd;
    double snr_thr = (b->plan_thr - mean) / sd;

    /* where along the path the tone is: a maximum-sum run of spectra */
    double excess = (x - mean) / nspec, cut = excess > 0 ? 0.5 * excess : 0;
    uint32_t s1 = 0, s2 = nspec - 1;
    if (excess > 0) {
        double best = -HUGE_VAL, run = 0;
        uint32_t start = 0;
        for (uint32_t s = 0; s < nspec; s++) {
            double v = path_point(c, k, dd, s) / c->mu - c->mean1 - cut;
            if (run <= 0) {
                run = v;
                start = s;
            } else {
                run += v;
            }
            if (run > best) {
                best = run;
                s1 = start;
                s2 = s;
            }
        }
    }
    double start_s = s1 * tfft, end_s = (s2 + 1) * tfft;
    double t = 0.5 * (start_s + end_s);
    double drift = (double)dd * bin / ((double)(c->n - 1) * tfft); /* residual, Hz/s */
    /* a pair's tone lies between its two points: a quarter bin up */
    double centre = c->combo == 1 ? 0.25 * bin : c->combo == 2 ? 0.75 * bin : 0;
    /* a residual drift past the searched range is not a line this search
     * looks for (wide bins whose chirp step exceeds chirp_max) */
    double chirp = b->chirp + drift, limit = b->cfg->chirp_max + 0.5 * b->chirp_step;
    if (limit > OZ_SCI_CHIRP_MAX)
        limit = OZ_SCI_CHIRP_MAX;
    if (fabs(chirp) > limit)
        return;
    oz_signal sig = {
        .type = OZ_SIG_LINE,
        .fft_len = b->L,
        .freq_hz = oz_block_freq(b, k, t) + centre + drift * (t - 0.5 * tfft),
        .chirp_hz_s = chirp,
        .time_s = t,
        .power = snr,
        .score = snr_thr > 0 ? snr / snr_thr : 0,
        .start_s = start_s,
        .end_s = end_s,
    };
    oz_found_offer(c->found, &sig);
}

/* Robust noise level: the median over bins of the straight sums of the
 * unshifted spectra, over the median of Gamma(n).  At most NOISE_BINS bins
 * are used, in NOISE_RUNS contiguous runs spread evenly over the band (so
 * memory is read in whole cache lines): plenty for a median, well below the
 * tree's cost, and still robust to strong signals anywhere in the band.
 * The sums are taken tile by tile while the search reads the spectra
 * (noise_add), each bin's spectrum by spectrum. */
#define NOISE_RUNS 64u
struct noise_runs {
    uint32_t runs, len, gap; /* runs of len bins, gap apart */
};

static struct noise_runs noise_runs(uint32_t L)
{
    const uint32_t runs = L > NOISE_BINS ? NOISE_RUNS : 1;
    return (struct noise_runs){
        .runs = runs, .len = L > NOISE_BINS ? NOISE_BINS / NOISE_RUNS : L, .gap = L / runs};
}

/* c[i] += x[i] for i < len. */
static void add_to(float *restrict c, const float *restrict x, uint32_t len)
{
    for (uint32_t i = 0; i < len; i++)
        c[i] += x[i];
}

/* Adds the noise bins among bins k0 .. k0 + W - 1 of every spectrum to col
 * (zeroed before the first tile). */
static void noise_add(const oz_block *b, uint32_t k0, uint32_t W, float *col)
{
    const uint32_t L = b->L;
    const struct noise_runs nr = noise_runs(L);
    for (uint32_t s = 0; s < b->nspec; s++) {
        const float *row = b->power + (size_t)s * L;
        for (uint32_t r = k0 / nr.gap; r < nr.runs && r * nr.gap < k0 + W; r++) {
            uint32_t lo = r * nr.gap > k0 ? r * nr.gap : k0;
            uint32_t hi = r * nr.gap + nr.len < k0 + W ? r * nr.gap + nr.len : k0 + W;
            if (lo < hi)
                add_to(col + r * nr.len + (lo - r * nr.gap), row + lo, hi - lo);
        }
    }
}

static double noise_level(const oz_block *b, float *col)
{
    const struct noise_runs nr = noise_runs(b->L);
    return median(col, nr.runs * nr.len) / ((double)b->nspec - 1.0 / 3.0);
}

static inline v4f vmax4(v4f a, v4f b)
{
    v4i gt = b > a;
    return (v4f)(((v4i)a & ~gt) | ((v4i)b & gt));
}

/* Largest value of row[0..len): four independent maxima, so the loop is
 * not one long dependency chain (powers are never NaN, so the order in
 * which maxima are taken does not change the result). */
static float row_max(const float *row, uint32_t len)
{
    float x = row[0];
    uint32_t k = 0;
    if (len >= 16) {
        v4f m0, m1, m2, m3;
        memcpy(&m0, row, sizeof m0);
        memcpy(&m1, row + 4, sizeof m1);
        memcpy(&m2, row + 8, sizeof m2);
        memcpy(&m3, row + 12, sizeof m3);
        for (k = 16; k + 16 <= len; k += 16) {
            v4f v0, v1, v2, v3;
            memcpy(&v0, row + k, sizeof v0);
            memcpy(&v1, row + k + 4, sizeof v1);
            memcpy(&v2, row + k + 8, sizeof v2);
            memcpy(&v3, row + k + 12, sizeof v3);
            m0 = vmax4(m0, v0);
            m1 = vmax4(m1, v1);
            m2 = vmax4(m2, v2);
            m3 = vmax4(m3, v3);
        }
        m0 = vmax4(vmax4(m0, m1), vmax4(m2, m3));
        for (int j = 0; j < 4; j++)
            x = m0[j] > x ? m0[j] : x;
    }
    for (; k < len; k++)
        x = row[k] > x ? row[k] : x;
    return x;
}

#ifdef OZ_SIMD_AVX2
/* row_max with AVX2; the same largest value. */
OZ_AVX2 static float row_max_avx2(const float *row, uint32_t len)
{
    float x = row[0];
    uint32_t k = 0;
    if (len >= 32) {
        v8f m[4];
        memcpy(m, row, sizeof m);
        for (k = 32; k + 32 <= len; k += 32) {
            for (int i = 0; i < 4; i++) {
                v8f v;
                memcpy(&v, row + k + 8 * i, sizeof v);
                v8i gt = v > m[i];
                m[i] = (v8f)(((v8i)m[i] & ~gt) | ((v8i)v & gt));
            }
        }
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 8; j++)
                x = m[i][j] > x ? m[i][j] : x;
    }
    for (; k < len; k++)
        x = row[k] > x ? row[k] : x;
    return x;
}
#endif

static float row_max_any(const float *row, uint32_t len, bool avx2)
{
#ifdef OZ_SIMD_AVX2
    if (avx2)
        return row_max_avx2(row, len);
#endif
    (void)avx2;
    return row_max(row, len);
}

/* Is any of v[0..len) (len <= 16) over thr?  Whole vectors when len is 16. */
static bool any_over(const float *v, uint32_t len, float thr)
{
    if (len == 16) {
        v4f a, b, c, d, t = {thr, thr, thr, thr};
        memcpy(&a, v, sizeof a);
        memcpy(&b, v + 4, sizeof b);
        memcpy(&c, v + 8, sizeof c);
        memcpy(&d, v + 12, sizeof d);
        v4i over = (a > t) | (b > t) | (c > t) | (d > t);
        return (over[0] | over[1] | over[2] | over[3]) != 0;
    }
    for (uint32_t j = 0; j < len; j++)
        if (v[j] > thr)
            return true;
    return false;
}

/* The tree's input rows for the tile at k0 of the combination: single bins
 * inside the band are read in place; pairs, the band's wrap-around and
 * padding rows (zero) are built in A. */
static void tile_rows(const oz_block *b, int combo, uint32_t n, uint32_t k0, uint32_t width,
                      float *A, const float *zero, const float **rows)
{
    for (uint32_t s = 0; s < n; s++) {
        if (s >= b->nspec) {
            rows[s] = zero;
        } else if (combo == 0 && k0 + width <= b->L) {
            rows[s] = b->power + (size_t)s * b->L + k0;
        } else {
            float *row = A + (size_t)s * width;
            fill_tile_row(b, combo, s, k0, width, row);
            rows[s] = row;
        }
    }
}

/* The strongest path of one (combination, sign), offered whatever its
 * value: the first in the offer order among equals. */
struct path_best {
    float v; /* -1: none yet */
    uint32_t d, k;
};

/* Is the path (d, k) before pb's in the offer order? */
static bool offered_before(const struct path_best *pb, uint32_t d, uint32_t k, uint32_t Wo)
{
    if (k / Wo != pb->k / Wo)
        return k / Wo < pb->k / Wo;
    return d != pb->d ? d < pb->d : k < pb->k;
}

/* Offers the paths over thr of one (combination, sign) in the offer tile
 * at k0 (c->combo set). */
static void offer_tile(const struct search_ctx *c, const struct tiling *t, bool neg, uint32_t k0,
                       float thr, bool avx2, float *area, const float *zero)
{
    const uint32_t L = c->b->L, n = t->n, width = t->owidth;
    const size_t tile = (size_t)n * width;
    const float *rows[OZ_LINES_NSPEC_MAX];
    const float *R; /* row d at R + d * stride */
    size_t stride;
    tile_rows(c->b, c->combo, n, k0, width, area, zero, rows);
    if (t->tree8) {
        float mx[5], *out = area + tile;
        oz_taylor_tree8(rows, t->Wo, avx2, out, mx);
        /* rows 3 and 4 are the reversed drifts 1 and 2 */
        R = neg ? out + 2 * (size_t)t->Wo : out;
        stride = t->Wo;
    } else {
        if (neg)
            for (uint32_t s = 0; s < n / 2; s++) {
                const float *r = rows[s];
                rows[s] = rows[n - 1 - s];
                rows[n - 1 - s] = r;
            }
        R = oz_taylor_tree(rows, area + tile, area + 2 * tile, n, width, t->D, avx2);
        stride = width;
    }
    for (uint32_t d = neg ? 1 : 0; d <= t->D; d++) {
        const float *row = R + d * stride;
        for (uint32_t j0 = 0; j0 < t->Wo; j0 += 16) {
            if (!any_over(row + j0, t->Wo - j0 < 16 ? t->Wo - j0 : 16, thr))
                continue;
            for (uint32_t j = j0; j < j0 + 16 && j < t->Wo; j++) {
                if (row[j] > thr) {
                    uint32_t k = k0 + j;
                    uint32_t start = neg ? (k + d) % L : k;
                    offer_line(c, start, (neg ? -1 : 1) * (int64_t)d, row[j] / c->mu);
                }
            }
        }
    }
}

/*
 * Two phases.  The first runs the trees of every combination and both signs
 * on each search tile while its rows are in cache (the spectra are read from
 * memory once, the noise bins summed on the way), keeping the strongest path
 * of each (combination, sign) and of each tile.  The noise level then gives
 * the threshold, and the second phase offers the paths over it,
 * (combination, sign) after (combination, sign) in the offer order,
 * recomputing the offer tiles that hold search tiles with such paths - few,
 * unless the unit is full of signals.
 */
void oz_lines_search(const oz_block *b, float *scratch, oz_found *found)
{
    const uint32_t L = b->L;
    const struct tiling t = tiling(b->cfg, L, b->nspec);
    const uint32_t n = t.n, D = t.D, W = t.W, width = t.width, ntiles = L / W;
    const size_t tile = (size_t)n * width;
    float *work = scratch, *A = scratch + 4 * tile, *zero = scratch + t.area;
    float *col = zero + (width > t.owidth ? width : t.owidth);
    float *tmax = col + noise_bins(L); /* [combination, sign][tile]: strongest path */
    const float *rows[OZ_LINES_NSPEC_MAX], *plus[OZ_LINES_NSPEC_MAX], *minus[OZ_LINES_NSPEC_MAX];
    const bool avx2 = oz_simd_avx2(b->cfg);
    const bool pairs = b->power_half != NULL;
    const bool tree8 = t.tree8; /* the default unit's tree (dedoppler.c) */
    /* combinations 0 (one set) or 1 and 2 (pairs); index (combo - c0) * 2
     * + (sign < 0) */
    const int c0 = pairs ? 1 : 0, c1 = pairs ? 2 : 0;
    struct path_best best[4];
    for (int i = 0; i < 4; i++)
        best[i] = (struct path_best){.v = -1};
    memset(zero, 0, (width > t.owidth ? width : t.owidth) * sizeof *zero);
    memset(col, 0, noise_bins(L) * sizeof *col);

    for (uint32_t ti = 0; ti < ntiles; ti++) {
        const uint32_t k0 = ti * W;
        for (int combo = c0; combo <= c1; combo++) {
            tile_rows(b, combo, n, k0, width, A, zero, rows);
            float mx[5];
            if (tree8) {
                oz_taylor_tree8(rows, W, avx2, work, mx);
                for (uint32_t d = 0; d < 3; d++)
                    plus[d] = work + (size_t)d * W;
                minus[1] = work + 3 * (size_t)W;
                minus[2] = work + 4 * (size_t)W;
            } else {
                oz_taylor_tree_both(rows, work, n, width, D, avx2, plus, minus);
            }
            /* sign +1: rows in time order, tree drift d is +d; sign -1: rows
             * in reverse time order, so the tree's path from column k
             * drifting d is, forwards in time, a path from bin k + d
             * drifting -d (and d = 0 is sign +1's) */
            for (int neg = 0; neg < 2; neg++) {
                const int i = (combo - c0) * 2 + neg;
                const float *const *R = neg ? minus : plus;
                struct path_best *pb = &best[i];
                float top = 0;
                for (uint32_t d = neg ? 1 : 0; d <= D; d++) {
                    const float *row = R[d];
                    float m = tree8 ? mx[neg ? 2 + d : d] : row_max_any(row, W, avx2);
                    if (m >= pb->v) {
                        uint32_t j = 0;
                        while (row[j] != m)
                            j++;
                        if (m > pb->v || offered_before(pb, d, k0 + j, t.Wo))
                            *pb = (struct path_best){.v = m, .d = d, .k = k0 + j};
                    }
                    top = m > top ? m : top;
                }
                tmax[(size_t)i * ntiles + ti] = top;
            }
        }
        noise_add(b, k0, W, col);
    }

    struct search_ctx c = {.b = b, .found = found, .n = n};
    c.mu = noise_level(b, col);
    if (!(c.mu > 0))
        return;
    c.mean1 = pairs ? 2.0 : 1.0;
    c.sd1 = pairs ? sqrt(PAIR_VAR) : 1.0;
    const float thr = (float)(b->plan_thr * c.mu);
    for (c.combo = c0; c.combo <= c1; c.combo++) {
        for (int neg = 0; neg < 2; neg++) {
            const int i = (c.combo - c0) * 2 + neg;
            const float *tm = tmax + (size_t)i * ntiles;
            for (uint32_t k0 = 0; k0 < L; k0 += t.Wo) {
                /* the search tiles overlapping this offer tile */
                bool over = false;
                for (uint32_t ti = k0 / W; ti <= (k0 + t.Wo - 1) / W; ti++)
                    over |= tm[ti] > thr;
                if (over)
                    offer_tile(&c, &t, neg, k0, thr, avx2, scratch, zero);
            }
            const struct path_best *pb = &best[i];
            if (pb->v >= 0 && !(pb->v > thr))
                offer_line(&c, neg ? (pb->k + pb->d) % L : pb->k, (neg ? -1 : 1) * (int64_t)pb->d,
                           pb->v / c.mu);
        }
    }
}
