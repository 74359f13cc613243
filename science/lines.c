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
 * chirp step (search.c); at the longest FFT length the step is
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
 * unit; it is computed once per plan (oz_lines_threshold) from the exact
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

/* Columns per tree tile: two tiles of n rows stay within a few hundred KiB
 * so the tree's passes run in cache; each tile carries n - 1 columns of
 * margin for the paths leaving it. */
static uint32_t tile_width(uint32_t n, uint32_t L)
{
    uint32_t w = 65536u / n;
    if (w < 64)
        w = 64;
    return w < L ? w : L;
}

size_t oz_lines_scratch(const oz_sci_config *cfg, uint32_t L, uint32_t nspec)
{
    if (!(cfg->line_pfa > 0) || L != cfg->fft_max || nspec < 4 || nspec > OZ_LINES_NSPEC_MAX)
        return 0;
    uint32_t n = next_pow2(nspec);
    size_t tile = (size_t)n * (tile_width(n, L) + n - 1);
    return 3 * tile + L;
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

double oz_lines_threshold(const oz_sci_config *cfg, uint32_t L, uint32_t nspec, uint64_t blocks)
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

/* Median of v[0..n) by quickselect; reorders v. */
static float median(float *v, uint32_t n)
{
    uint32_t lo = 0, hi = n - 1, k = n / 2;
    while (lo < hi) {
        float pivot = v[lo + (hi - lo) / 2];
        uint32_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i <= j) {
                float t = v[i];
                v[i] = v[j];
                v[j] = t;
                i++;
                if (j == 0)
                    break;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            break;
    }
    return v[k];
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
    double snr_thr = (b->line_thr - mean) / sd;

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
 * tree's cost, and still robust to strong signals anywhere in the band. */
#define NOISE_BINS 8192u
#define NOISE_RUNS 64u
static double noise_level(const oz_block *b, float *col)
{
    const uint32_t L = b->L;
    const uint32_t runs = L > NOISE_BINS ? NOISE_RUNS : 1;
    const uint32_t len = L > NOISE_BINS ? NOISE_BINS / NOISE_RUNS : L, gap = L / runs;
    const uint32_t m = runs * len;
    memset(col, 0, m * sizeof *col);
    for (uint32_t s = 0; s < b->nspec; s++) {
        const float *row = b->power + (size_t)s * L;
        for (uint32_t r = 0; r < runs; r++)
            for (uint32_t i = 0; i < len; i++)
                col[r * len + i] += row[(size_t)r * gap + i];
    }
    return median(col, m) / ((double)b->nspec - 1.0 / 3.0);
}

typedef float v4f __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));

/* Largest value of row[0..L). */
static float row_max(const float *row, uint32_t L)
{
    v4f m;
    memcpy(&m, row, sizeof m);
    for (uint32_t k = 4; k < L; k += 4) {
        v4f v;
        memcpy(&v, row + k, sizeof v);
        v4i gt = v > m;
        m = (v4f)(((v4i)m & ~gt) | ((v4i)v & gt));
    }
    float x = m[0];
    for (int j = 1; j < 4; j++)
        x = m[j] > x ? m[j] : x;
    return x;
}

void oz_lines_search(const oz_block *b, float *scratch, oz_found *found)
{
    const uint32_t L = b->L, nspec = b->nspec;
    const uint32_t n = next_pow2(nspec);
    const uint32_t D = drift_rows(b->cfg, nspec, n);
    const uint32_t W = tile_width(n, L), width = W + n - 1;
    const size_t tile = (size_t)n * width;
    float *A = scratch, *B = scratch + tile, *C = scratch + 2 * tile, *col = scratch + 3 * tile;
    const float *rows[OZ_LINES_NSPEC_MAX];
    struct search_ctx c = {.b = b, .found = found, .n = n};

    c.mu = noise_level(b, col);
    if (!(c.mu > 0))
        return;
    const bool pairs = b->power_half != NULL;
    c.mean1 = pairs ? 2.0 : 1.0;
    c.sd1 = pairs ? sqrt(PAIR_VAR) : 1.0;
    const float thr = (float)(b->line_thr * c.mu);

    for (c.combo = pairs ? 1 : 0; c.combo <= (pairs ? 2 : 0); c.combo++) {
        /* sign +1: rows in time order, tree drift d is +d; sign -1: rows in
         * reverse time order, so the tree's path from column k drifting d
         * is, forwards in time, a path from bin k + d drifting -d */
        for (int sign = 1; sign >= -1; sign -= 2) {
            float vbest = -1; /* the strongest path, offered whatever its value */
            uint32_t dbest = 0, kbest = 0;
            for (uint32_t k0 = 0; k0 < L; k0 += W) {
                /* single bins inside the band are read in place; pairs,
                 * the band's wrap-around and padding rows are built in A */
                for (uint32_t s = 0; s < n; s++) {
                    uint32_t slot = sign > 0 ? s : n - 1 - s;
                    float *row = A + (size_t)slot * width;
                    if (s >= nspec) {
                        memset(row, 0, width * sizeof *row);
                        rows[slot] = row;
                    } else if (c.combo == 0 && k0 + width <= L) {
                        rows[slot] = b->power + (size_t)s * L + k0;
                    } else {
                        fill_tile_row(b, c.combo, s, k0, width, row);
                        rows[slot] = row;
                    }
                }
                const float *R = oz_taylor_tree(rows, B, C, n, width, D);
                for (uint32_t d = sign > 0 ? 0 : 1; d <= D; d++) {
                    const float *row = R + (size_t)d * width;
                    float m = row_max(row, W);
                    if (m > vbest) {
                        vbest = m;
                        dbest = d;
                        kbest = k0;
                        while (row[kbest - k0] != m)
                            kbest++;
                    }
                    if (!(m > thr))
                        continue;
                    for (uint32_t j = 0; j < W; j++) {
                        if (row[j] > thr) {
                            uint32_t k = k0 + j;
                            uint32_t start = sign > 0 ? k : (k + d) % L;
                            offer_line(&c, start, sign * (int64_t)d, row[j] / c.mu);
                        }
                    }
                }
            }
            if (vbest >= 0 && !(vbest > thr))
                offer_line(&c, sign > 0 ? kbest : (kbest + dbest) % L, sign * (int64_t)dbest,
                           vbest / c.mu);
        }
    }
}
