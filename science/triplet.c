/*
 * triplet.c - the triplet search: three equally spaced power peaks in one
 * bin (SETI@home's triplets, DESIGN.md §2), a pulse train too short to fold.
 *
 * Peaks.  At full time resolution (no rebinning) a peak is a power
 * >= triplet_thresh * block mean in bin k of spectrum s.  One row-wise pass
 * over the block records each bin's peaks in spectrum order, at most
 * triplet_max_peaks per bin; a bin with more is a steady or drifting signal
 * (or interference) rather than three pulses, and is skipped (its count
 * stops at triplet_max_peaks + 1).  DC (k = 0) is never searched.
 *
 * Triplets.  Among a bin's peaks s_a < s_b < s_c with s_b - s_a = s_c - s_b
 * = d, a triplet is three separate pulses of one source over a quiet bin:
 *  1. separate: between consecutive members at least one spectrum is not a
 *     peak (for sorted distinct peaks, a and b lie in one run of consecutive
 *     peak spectra exactly when s_b - s_a == b - a), and each member's run
 *     is at most d/2 long.  Pulses wider than a spectrum still count; one
 *     burst lasting several spectra, or a swell that stays above the
 *     threshold for many spectra with a dip or two, does not.
 *  2. similar: no member is weaker than a TRIPLET_SPREAD_MAX-th (10) of the
 *     bin's strongest peak.  A strong tone drifting through the bin at a
 *     wrong chirp rate passes its sidelobes and main lobe at equal intervals
 *     with nulls between (sinc^2: first sidelobes 0.047, second 0.016 of the
 *     main lobe): equally spaced peaks over a quiet bin, one signal seen
 *     through the FFT's response.  Pulses of one transmitter vary far less,
 *     and noise peaks (T + Exp(1)) never fail.  The price: a bin that also
 *     holds a burst ten times stronger hides its triplets.
 *  3. over the bin's own floor: when the bin's level (the mean of its
 *     non-peak spectra) is above the block mean by more than
 *     TRIPLET_QUIET_SIGMA (3) standard errors, the members must clear the
 *     threshold times that level.  Next to a strong carrier a bin's floor
 *     rises several-fold, and its noise crosses the block-level threshold
 *     many times more often.
 *  4. quiet around: the mean power of the bin's non-peak spectra from one
 *     spacing before s_a to one after s_c (n_in of them) must not exceed
 *     the mean of its other non-peak spectra (n_out) by more than 3
 *     standard errors, a factor 1 + 3 sqrt(1/n_in + 1/n_out) (noise powers
 *     have sd = mean; with n_out = 0 the block mean is the reference).  A
 *     swell whose power only dips below the threshold now and then (a beam
 *     crossing, a tone drifting through the bin) is not read as pulses,
 *     while a bin whose floor sits above or below the block mean (bandpass
 *     ripple) stays searchable.  The window reaches past the triplet so that
 *     even the closest (d = 2) are judged on several spectra; more pulses of
 *     a longer train are peaks and do not count.
 * Rules 1, 2 and 4 came from whole searches of units holding strong tones:
 * each removed a kind of false triplet the others let through; noise
 * triplets pass them nearly always (test_sci_triplet.c: the noise rate still
 * follows the law below).  Tests 3 and 4 use prefix sums of the bin's quiet
 * power, made with one walk down the bin the first time it has a candidate.
 * All pairs (a, c) are tried; the midpoint's peak is found with a pointer
 * that only moves forward as c grows, so a bin with n peaks costs O(n^2).
 * Known gap: a tone so strong (S/N above about 1000 per spectrum) that its
 * far sidelobes alone clear the threshold, in bins it never reaches, can
 * still make triplets there.
 *
 * Reported per bin: its strongest triplet (largest sum of the three powers;
 * the first found on ties), power = mean of the three powers / block mean,
 * score = power / triplet_thresh (>= 1: every member cleared the threshold),
 * period_s = d L / fs, time_s = centre of the middle peak's spectrum,
 * freq_hz at that time.  Only bins with a triplet offer one, so on a quiet
 * unit there is no best triplet.
 *
 * False alarms.  With exponential noise a power clears the threshold T with
 * probability p = e^-T.  A bin of N spectra holds about N^2 / 4 equally
 * spaced triples, so it shows about N^2 p^3 / 4 noise triplets (fewer when
 * N p nears triplet_max_peaks and bins start being skipped), and a block of
 * L bins and N = n / L spectra about n^2 p^3 / (4 L): the short FFTs, with
 * many spectra per bin, dominate.  Summed over a default unit (2^20
 * samples, L = 8 .. 8192 and their chirp rates) that is 0.012 per unit at
 * the default T = 10 and 0.95 at SETI@home's 8.5 (test_sci_triplet.c).
 *
 * Cost per block: one compare per power (n in all, eight to a vector test
 * that lets through only groups holding a peak), O(n_k^2) for each bin
 * with 3 <= n_k <= triplet_max_peaks peaks, and a walk down each bin that
 * has a candidate triplet (at most n reads in all).
 *
 * Scratch (32-bit words, counted as floats): per-bin peak counts (L), peak
 * spectra (L * triplet_max_peaks) and the quiet prefix sums (2 (nspec + 1)).
 * The scratch is allocated memory, so storing uint32_t there is well
 * defined.
 */
#include <math.h>
#include <string.h>

#include "internal.h"
#include "simd.h"

/* Around a triplet the bin must be quiet: the mean of its non-peak spectra
 * there may exceed the mean elsewhere in the bin by at most this many
 * standard errors (noise powers have sd = mean); and a bin's floor counts as
 * raised above the block mean beyond this many. */
#define TRIPLET_QUIET_SIGMA 3.0

/* The strongest peak of a bin is at most this many times the weakest member
 * of a triplet found there. */
#define TRIPLET_SPREAD_MAX 10.0f

_Static_assert(sizeof(uint32_t) == sizeof(float), "scratch words are floats");

size_t oz_triplet_scratch(const oz_sci_config *cfg, uint32_t L, uint32_t nspec)
{
    /* Three separate pulses need at least 5 spectra: s, s+2, s+4. */
    if (cfg->triplet_fft_max == 0 || L > cfg->triplet_fft_max || cfg->triplet_max_peaks < 3 ||
        nspec < 5)
        return 0;
    return (size_t)L * (1 + (size_t)cfg->triplet_max_peaks) + 2 * ((size_t)nspec + 1);
}

struct trip {
    float sum;       /* sum of the three powers, -1 when none */
    uint32_t mid, d; /* middle spectrum, spacing */
};

/* Prefix sums over one bin's quiet (non-peak) spectra: qsum[i] and qcnt[i]
 * hold the sum and count over spectra 0 .. i-1. */
static void quiet_prefix(const oz_block *b, uint32_t k, float thr, uint32_t upto, float *qsum,
                         float *qcnt)
{
    const float *pw = b->power + k;
    float sum = 0.0f, cnt = 0.0f;
    qsum[0] = qcnt[0] = 0.0f;
    for (uint32_t i = 0; i < upto; i++) {
        float p = pw[(size_t)i * b->L];
        if (p < thr) {
            sum += p;
            cnt += 1.0f;
        }
        qsum[i + 1] = sum;
        qcnt[i + 1] = cnt;
    }
}

/* Is the bin's quiet power in spectra [lo, hi) (at least one quiet
 * spectrum) no louder than elsewhere in the bin, within TRIPLET_QUIET_SIGMA
 * of the noise of both means?  With nothing elsewhere, the block mean is the
 * reference. */
static bool quiet_around(const oz_block *b, const float *qsum, const float *qcnt, uint32_t lo,
                         uint32_t hi)
{
    double in_sum = (double)qsum[hi] - qsum[lo], in_cnt = (double)qcnt[hi] - qcnt[lo];
    double out_sum = (double)qsum[b->nspec] - in_sum, out_cnt = (double)qcnt[b->nspec] - in_cnt;
    double ref = out_cnt > 0 ? out_sum / out_cnt : b->mean;
    double rel = 1.0 / in_cnt + (out_cnt > 0 ? 1.0 / out_cnt : 0.0);
    return in_sum <= in_cnt * ref * (1.0 + TRIPLET_QUIET_SIGMA * sqrt(rel));
}

/* Length of the run of consecutive peak spectra that holds peak i. */
static uint32_t run_len(const uint32_t *s, uint32_t n, uint32_t i)
{
    uint32_t lo = i, hi = i;
    while (lo > 0 && s[lo - 1] + 1 == s[lo])
        lo--;
    while (hi + 1 < n && s[hi] + 1 == s[hi + 1])
        hi++;
    return hi - lo + 1;
}

/* The strongest triplet among one bin's n sorted peak spectra s[]. */
static struct trip best_triplet(const oz_block *b, uint32_t k, const uint32_t *s, uint32_t n,
                                float thr, float *qsum, float *qcnt)
{
    struct trip t = {-1.0f, 0, 0};
    const float *pw = b->power;
    const size_t L = b->L;
    float pmax = 0.0f;
    for (uint32_t i = 0; i < n; i++)
        pmax = fmaxf(pmax, pw[s[i] * L + k]);
    bool have_prefix = false;
    float bin_thr = thr; /* thr, raised once the bin's level is known */
    for (uint32_t a = 0; a + 2 < n; a++) {
        uint32_t m = a + 1;
        for (uint32_t c = a + 2; c < n; c++) {
            uint32_t span = s[c] - s[a];
            if (span % 2)
                continue;
            uint32_t want = s[a] + span / 2;
            while (m < c && s[m] < want)
                m++;
            if (m == c || s[m] != want || s[m] - s[a] == m - a || s[c] - s[m] == c - m)
                continue; /* no peak there, or not separate pulses */
            float pa = pw[s[a] * L + k], pm = pw[s[m] * L + k], pc = pw[s[c] * L + k];
            float sum = pa + pm + pc;
            if (!(sum > t.sum))
                continue;
            if (!(fminf(pa, fminf(pm, pc)) * TRIPLET_SPREAD_MAX >= pmax))
                continue; /* sidelobes of a far stronger signal */
            uint32_t d = span / 2;
            if (2 * run_len(s, n, a) > d || 2 * run_len(s, n, m) > d || 2 * run_len(s, n, c) > d)
                continue; /* pulses longer than half the period: a swell */
            if (!have_prefix) {
                quiet_prefix(b, k, thr, b->nspec, qsum, qcnt);
                have_prefix = true;
                double nq = qcnt[b->nspec], level = (double)qsum[b->nspec] / nq;
                if (level > b->mean * (1.0 + TRIPLET_QUIET_SIGMA / sqrt(nq)))
                    bin_thr = (float)(thr / b->mean * level);
            }
            if (!(fminf(pa, fminf(pm, pc)) >= bin_thr))
                continue; /* not peaks over this bin's own, higher floor */
            if (!quiet_around(b, qsum, qcnt, s[a] > d ? s[a] - d : 0,
                              s[c] + d < b->nspec ? s[c] + d + 1 : b->nspec))
                continue; /* a swell, not pulses over a quiet bin */
            t = (struct trip){sum, s[m], d};
        }
    }
    return t;
}

void oz_triplet_search(const oz_block *b, float *scratch, oz_found *found)
{
    const oz_sci_config *cfg = b->cfg;
    const uint32_t L = b->L, maxp = cfg->triplet_max_peaks;
    if (oz_triplet_scratch(cfg, L, b->nspec) == 0)
        return;
    uint32_t *cnt = (uint32_t *)scratch, *idx = cnt + L;
    float *qsum = scratch + (size_t)L * (1 + maxp), *qcnt = qsum + b->nspec + 1;
    const float thr = (float)(cfg->triplet_thresh * b->mean);
    const double tfft = oz_block_tfft(b);

    for (uint32_t k = 0; k < L; k++)
        cnt[k] = 0;
    const v4f vthr = {thr, thr, thr, thr};
    for (uint32_t s = 0; s < b->nspec; s++) {
        const float *row = b->power + (size_t)s * L;
        for (uint32_t k0 = 0; k0 < L; k0 += 8) {
            const uint32_t k1 = k0 + 8 < L ? k0 + 8 : L;
            if (k1 == k0 + 8) { /* eight at a time: peaks are rare */
                v4f lo, hi;
                memcpy(&lo, row + k0, sizeof lo);
                memcpy(&hi, row + k0 + 4, sizeof hi);
                v4i any = (lo >= vthr) | (hi >= vthr);
                if (!(any[0] | any[1] | any[2] | any[3]))
                    continue;
            }
            for (uint32_t k = k0 > 0 ? k0 : 1; k < k1; k++) {
                if (row[k] >= thr) {
                    uint32_t c = cnt[k];
                    if (c < maxp)
                        idx[(size_t)k * maxp + c] = s;
                    if (c <= maxp)
                        cnt[k] = c + 1; /* stops at maxp + 1: "too many" */
                }
            }
        }
    }

    for (uint32_t k = 1; k < L; k++) {
        if (cnt[k] < 3 || cnt[k] > maxp)
            continue;
        struct trip t = best_triplet(b, k, idx + (size_t)k * maxp, cnt[k], thr, qsum, qcnt);
        if (t.sum < 0)
            continue;
        double power = (double)t.sum / 3.0 / b->mean;
        double time = ((double)t.mid + 0.5) * tfft;
        oz_signal sig = {
            .type = OZ_SIG_TRIPLET,
            .fft_len = L,
            .freq_hz = oz_block_freq(b, k, time),
            .chirp_hz_s = b->chirp,
            .time_s = time,
            .power = power,
            .score = power / cfg->triplet_thresh,
            .period_s = (double)t.d * tfft,
        };
        oz_found_offer(found, &sig);
    }
}
