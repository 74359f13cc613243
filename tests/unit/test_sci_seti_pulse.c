/*
 * test_sci_seti_pulse.c - the seti mode's pulse and triplet searches (v8's
 * find_pulse and find_triplets over v8's segments): v8's gamma threshold
 * against independently computed values and the reference unit's best
 * pulse; a pulse train in one bin is reported once per segment with its
 * period, at the segment's middle, as a repeat of its best candidate; three
 * equally spaced peaks are a triplet with their period and middle time, in
 * each segment that holds them; segments too short for a triplet are not
 * searched for one; pulses only when the plan asks; pure noise reports
 * nothing.
 *
 * Blocks are built by hand with the reference unit's parameters (2^20
 * samples at 9765.625 Hz, 0.775 deg at 0.1 deg beams: segments of 264
 * spectra every 132 at L = 512): exponential noise of mean 1, plus power
 * added to chosen cells.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"
#include "seti.h"
#include "seti_gamma.h"
#include "simd.h"

#define FS OZ_TEST_FS
#define NSAMP (1u << 20)
#define MAXHITS 4096

static void ref_params(oz_sci_seti *p)
{
    memset(p, 0, sizeof *p);
    p->angle_range = 0.775;
    p->beam_width = 0.1;
    p->pulse_thresh = 20.0;
    p->pulse_display_thresh = 0.5;
    p->pulse_max = 40960;
    p->pulse_min = 16;
    p->pulse_fft_max = 8192;
    p->pulse_pot_length = 256;
    p->pulse_beams = 1.0;
    p->triplet_thresh = 8.25;
    p->triplet_max = 131072;
    p->triplet_min = 16;
    p->triplet_pot_length = 256;
    p->pot_overlap_factor = 0.5;
    p->pot_t_offset = 1.0;
}

/* A block of unit-mean exponential noise (zeros when seed is 0: the
 * caller fills it). */
typedef struct tblk {
    oz_sci_seti p;
    float *power;
    oz_seti_block b;
} tblk;

static void tblk_new(tblk *x, uint32_t L, uint64_t seed)
{
    ref_params(&x->p);
    uint32_t nspec = NSAMP / L;
    x->power = calloc((size_t)NSAMP, sizeof(float));
    assert_non_null(x->power);
    if (seed) {
        oz_rng r;
        oz_rng_seed(&r, seed);
        for (size_t i = 0; i < NSAMP; i++)
            x->power[i] = (float)-log(1.0 - oz_rng_uniform(&r));
    }
    x->b = (oz_seti_block){x->power, L, nspec, NSAMP, FS, &x->p, oz_cpu_avx2(), false};
}

static void tblk_free(tblk *x)
{
    free(x->power);
}

typedef struct hits {
    oz_seti_hit h[MAXHITS];
    size_t n, dropped;
} hits;

static void collect(void *ctx, const oz_seti_hit *h)
{
    hits *c = ctx;
    if (c->n < MAXHITS)
        c->h[c->n++] = *h;
    else
        c->dropped++;
}

/* Runs the search with a scratch of exactly the size asked for (ASan sees
 * any overrun). */
static hits *run(const tblk *x, bool pulse_find)
{
    hits *c = calloc(1, sizeof *c);
    assert_non_null(c);
    size_t ns = oz_seti_pulse_scratch(&x->b);
    float *scratch = malloc((ns ? ns : 1) * sizeof(float));
    assert_non_null(scratch);
    oz_seti_pulse_search(&x->b, pulse_find, scratch, collect, c);
    free(scratch);
    assert_int_equal(c->dropped, 0);
    return c;
}

static size_t count(const hits *c, oz_sig_type t, bool report)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n; i++)
        n += c->h[i].type == t && c->h[i].report == report;
    return n;
}

static bool near(double x, double want, double rel)
{
    return fabs(x - want) <= rel * fabs(want);
}

/* ---- the gamma threshold ----------------------------------------------- */

/*
 * log Q(a, x) and its inverse against values computed independently with
 * mpmath (50 digits): log(gammainc(a, x, inf, regularized=True)), and the
 * roots of log Q(a, x) = -20 - log(m).  v8 stops inverting once the log is
 * within 1e-4 of its target, so the roots agree to about 1e-4 of |y| / Q'.
 */
static void gamma_threshold_matches_independent_values(void **state)
{
    (void)state;
    const struct {
        double a, x, logq;
    } q[] = {
        {5, 34.9634231098, -23.806662070},
        {3, 30.8340843914, -24.605170186},
        {48, 104.671576461, -22.302585093},
        {1000, 1207.59732165, -21.791759469},
    };
    for (int i = 0; i < 4; i++) {
        double v = oz_seti_lcgf(q[i].a, q[i].x);
        if (!near(v, q[i].logq, 1e-6))
            fail_msg("log Q(%g, %g) = %.9f, want %.9f", q[i].a, q[i].x, v, q[i].logq);
    }
    const struct {
        uint32_t m, n;
        double x;
    } r[] = {
        {45, 5, 34.9634231098},   {100, 3, 30.8340843914}, {10, 48, 104.671576461},
        {6, 1000, 1207.59732165}, {2, 12, 45.4396434798},  {1000, 3, 33.2848665712},
    };
    for (int i = 0; i < 6; i++) {
        float y = (float)(-20.0 - log((double)r[i].m));
        float x = oz_seti_invert_lcgf(y, (float)r[i].n, 1e-4f);
        if (!near(x, r[i].x, 2e-4))
            fail_msg("root m %u n %u: %.6f, want %.6f", r[i].m, r[i].n, (double)x, r[i].x);
        /* with display 1 the factor is the root itself */
        assert_true(oz_seti_pulse_tfactor(20.0, 1.0, r[i].m, r[i].n) == x);
    }
}

/*
 * The reference unit's best pulse (fft_len 512, mean_power 0.033245835,
 * period 45 spectra, 5 adds) has v8's thresh 13.4002161; the exact root
 * would give 13.40005.  v8's arithmetic from the factor to thresh:
 */
static void gamma_threshold_is_v8s_on_the_reference_pulse(void **state)
{
    (void)state;
    float avg = 0.033245835453272f, na = 5.0f;
    float dis = oz_seti_pulse_tfactor(20.0, 0.5, 45, 5) * avg;
    float cur = (dis / na - avg) * (1.0f / 0.5f) + avg;
    float thresh = (cur - avg) * sqrtf(na) / avg;
    if (!near(thresh, 13.4002161026, 2e-7))
        fail_msg("thresh %.9f, v8 13.4002161026", (double)thresh);
}

/* ---- pulses ---------------------------------------------------------------- */

#define L_REF 512u
#define SEG_LEN 264u
#define SEG_STEP 132u
#define NSEG 15u /* starts 0, 132, ..., 1716, then 1784 */

static double spectra_s(double t)
{
    return t * L_REF / FS;
}

/*
 * Pulses of power 10 over unit noise every 45 spectra in bin 100 for the
 * whole block: each of the 15 segments reports one pulse in that bin, of
 * period 45 spectra (5 adds: snr = peak_power sqrt 5), at its middle
 * spectrum; each report repeats a candidate offered before it with the
 * same score; no pulse reported anywhere else.
 */
static void pulse_train_is_reported_per_segment_with_its_period(void **state)
{
    (void)state;
    for (uint64_t seed = 11; seed <= 12; seed++) {
        tblk x;
        tblk_new(&x, L_REF, seed);
        const uint32_t k = 100, P = 45;
        for (uint32_t t = 7; t < x.b.nspec; t += P)
            x.power[(size_t)t * L_REF + k] += 10.0f;
        hits *c = run(&x, true);
        assert_int_equal(count(c, OZ_SIG_PULSE, true), NSEG);
        uint32_t seg = 0;
        for (size_t i = 0; i < c->n; i++) {
            const oz_seti_hit *h = &c->h[i];
            /* candidates (over the display threshold) also come from noise */
            if (h->type != OZ_SIG_PULSE || !h->report)
                continue;
            assert_int_equal(h->bin, k);
            uint32_t toff = seg < NSEG - 1 ? seg * SEG_STEP : x.b.nspec - SEG_LEN;
            seg++;
            if (fabs(h->time_s - spectra_s(toff + SEG_LEN / 2 + 0.5)) > 1e-9)
                fail_msg("pulse %u at %.6f s", seg, h->time_s);
            if (h->period_s != (float)spectra_s(P))
                fail_msg("pulse %u: period %.6f s, want %.6f", seg, h->period_s, spectra_s(P));
            assert_true(h->len_prof == P);
            assert_true(h->snr > h->thresh && h->thresh > 0);
            assert_true(near(h->snr, h->peak_power * sqrt(5.0), 1e-5));
            assert_true(h->score == (float)(h->snr / h->thresh));
            assert_true(near(h->peak_power + 1.0, (10.0 + 1.0) / h->mean_power, 0.25));
            bool seen = false;
            for (size_t j = 0; j < i; j++)
                seen |= c->h[j].type == OZ_SIG_PULSE && !c->h[j].report &&
                        c->h[j].score == h->score && c->h[j].period_s == h->period_s &&
                        c->h[j].time_s == h->time_s;
            assert_true(seen);
        }
        free(c);
        tblk_free(&x);
    }
}

/*
 * A noiseless segment: every cell 1 but bin 9, which holds 1 + 10 every 45
 * spectra from spectrum 7.  The numbers are then exact sums: in the first
 * segment (264 spectra, 6 pulses) the mean is (264 + 60) / 264 and the
 * 5-add fold at period 45 peaks at 5 * 11.
 */
static void noiseless_pulse_has_v8s_numbers(void **state)
{
    (void)state;
    tblk x;
    tblk_new(&x, L_REF, 0);
    for (size_t i = 0; i < NSAMP; i++)
        x.power[i] = 1.0f;
    for (uint32_t t = 7; t < x.b.nspec; t += 45)
        x.power[(size_t)t * L_REF + 9] = 11.0f;
    hits *c = run(&x, true);
    const oz_seti_hit *h = NULL;
    for (size_t i = 0; i < c->n && !h; i++)
        if (c->h[i].type == OZ_SIG_PULSE && c->h[i].report)
            h = &c->h[i];
    assert_non_null(h);
    assert_int_equal(h->bin, 9);
    float avg = (264.0f + 60.0f) / 264.0f;
    float tf = oz_seti_pulse_tfactor(20.0, 0.5, 45, 5);
    float cur = (tf * avg / 5.0f - avg) * 2.0f + avg;
    assert_true(near(h->mean_power, avg, 1e-6));
    assert_true(near(h->peak_power, 11.0 / avg - 1.0, 1e-6));
    assert_true(near(h->snr, (11.0 - avg) * sqrt(5.0) / avg, 1e-6));
    assert_true(near(h->thresh, (cur - avg) * sqrt(5.0) / avg, 1e-6));
    assert_true(fabs(h->time_s - spectra_s(132.5)) < 1e-9);
    /* constant bins hold nothing: every hit is in bin 9 */
    for (size_t i = 0; i < c->n; i++)
        assert_int_equal(c->h[i].bin, 9);
    free(c);
    tblk_free(&x);
}

/* The plan decides PulseFind: without it the same train gives no pulse. */
static void pulses_only_when_the_plan_asks(void **state)
{
    (void)state;
    tblk x;
    tblk_new(&x, L_REF, 5);
    for (uint32_t t = 7; t < x.b.nspec; t += 45)
        x.power[(size_t)t * L_REF + 100] += 10.0f;
    hits *c = run(&x, false);
    assert_int_equal(count(c, OZ_SIG_PULSE, true) + count(c, OZ_SIG_PULSE, false), 0);
    free(c);
    tblk_free(&x);
}

/* ---- triplets -------------------------------------------------------------- */

/*
 * Peaks of 50 at spectra 300, 340, 380 of bin 200: the segments starting at
 * 132 and 264 hold all three and each reports the triplet: period 40
 * spectra, centred on spectrum 340, peak power the peak over the segment's
 * mean, score the peak power.
 */
static void three_peaks_are_a_triplet(void **state)
{
    (void)state;
    for (uint64_t seed = 21; seed <= 22; seed++) {
        tblk x;
        tblk_new(&x, L_REF, seed);
        const uint32_t k = 200;
        for (uint32_t t = 300; t <= 380; t += 40)
            x.power[(size_t)t * L_REF + k] += 50.0f;
        hits *c = run(&x, false);
        assert_int_equal(c->n, 2);
        for (size_t i = 0; i < c->n; i++) {
            const oz_seti_hit *h = &c->h[i];
            assert_int_equal(h->type, OZ_SIG_TRIPLET);
            assert_int_equal(h->bin, k);
            assert_true(h->report);
            if (fabs(h->time_s - spectra_s(340.5)) > 1e-9)
                fail_msg("triplet at %.6f s, want %.6f", h->time_s, spectra_s(340.5));
            assert_true(h->period_s == (float)spectra_s(40));
            assert_true(h->score == h->peak_power);
            assert_true(h->peak_power > 8.25 && h->peak_power < 50.0 / h->mean_power + 10);
            /* the peak is one of the three cells, over the segment mean */
            float best = 0;
            for (uint32_t t = 300; t <= 380; t += 40)
                best = fmaxf(best, x.power[(size_t)t * L_REF + k]);
            assert_true(near(h->peak_power, best / h->mean_power, 1e-6));
        }
        free(c);
        tblk_free(&x);
    }
}

/* Peaks with a gap of one spectrum between them are one on-run with no
 * "off" spectrum in between: not a triplet.  Two peaks alone are none. */
static void peaks_without_gaps_are_no_triplet(void **state)
{
    (void)state;
    tblk x;
    tblk_new(&x, L_REF, 0);
    for (size_t i = 0; i < NSAMP; i++)
        x.power[i] = 1.0f;
    for (uint32_t t = 300; t <= 302; t++)
        x.power[(size_t)t * L_REF + 50] = 60.0f;
    x.power[(size_t)300 * L_REF + 60] = 60.0f;
    x.power[(size_t)360 * L_REF + 60] = 60.0f;
    hits *c = run(&x, false);
    assert_int_equal(c->n, 0);
    free(c);
    tblk_free(&x);
}

/*
 * v8's pair rules spectrum by spectrum, on a background of 1 (every
 * segment's on spectra are those set to 40 or more):
 * - bin 30, on at 300, 301, 303, 305: only the pair (301, 305) has an off
 *   spectrum before and after its middle 303; (300, 305) has none before
 *   302 (its first off spectrum is 302 itself).  One triplet, period 2,
 *   centred on 303.
 * - bin 40, on at 400 (40), 420 (50), 421 (45), 441 (40): the pair (400,
 *   441) has its middle between 420 and 421, both on: two triplets of
 *   period 20.5 centred on 420.5, the second keeping the first's peak 50
 *   (v8's running maximum) although its own cell holds 45.
 * Each in the two segments that hold it (starting at 132 and 264, and at
 * 264 and 396), in v8's order: bins, segments, then pairs.
 */
static void triplet_pairs_follow_v8s_rules(void **state)
{
    (void)state;
    tblk x;
    tblk_new(&x, L_REF, 0);
    for (size_t i = 0; i < NSAMP; i++)
        x.power[i] = 1.0f;
    const uint32_t t30[] = {300, 301, 303, 305};
    for (int i = 0; i < 4; i++)
        x.power[(size_t)t30[i] * L_REF + 30] = 40.0f;
    const uint32_t t40[] = {400, 420, 421, 441};
    const float p40[] = {40, 50, 45, 40};
    for (int i = 0; i < 4; i++)
        x.power[(size_t)t40[i] * L_REF + 40] = p40[i];
    hits *c = run(&x, false);
    assert_int_equal(c->n, 6);
    const struct {
        uint32_t bin; /* segments starting at 132, 264 (bin 30), 264, 396 (bin 40) */
        double mid, period;
        float peak, total;
    } want[] = {
        {30, 303, 2, 40, 264 + 4 * 39},   {30, 303, 2, 40, 264 + 4 * 39},
        {40, 420.5, 20.5, 50, 264 + 171}, {40, 420.5, 20.5, 50, 264 + 171},
        {40, 420.5, 20.5, 50, 264 + 171}, {40, 420.5, 20.5, 50, 264 + 171},
    };
    for (int i = 0; i < 6; i++) {
        const oz_seti_hit *h = &c->h[i];
        float mean = want[i].total / 264.0f;
        assert_int_equal(h->type, OZ_SIG_TRIPLET);
        assert_int_equal(h->bin, want[i].bin);
        if (fabs(h->time_s - spectra_s(want[i].mid + 0.5)) > 1e-9 ||
            h->period_s != (float)spectra_s(want[i].period) || !near(h->mean_power, mean, 1e-6) ||
            !near(h->peak_power, want[i].peak / mean, 1e-6))
            fail_msg("triplet %d: bin %u at %.4f s, period %.4f s, peak %.4f, mean %.4f", i, h->bin,
                     h->time_s, h->period_s, h->peak_power, h->mean_power);
    }
    free(c);
    tblk_free(&x);
}

/* At L = 8192 a segment is 17 spectra, under v8's TripletMin
 * (ceil(3 * 8.25) = 25): no triplet search, however clear the peaks. */
static void short_segments_get_no_triplet_search(void **state)
{
    (void)state;
    tblk x;
    tblk_new(&x, 8192, 3);
    for (uint32_t t = 40; t <= 48; t += 4)
        x.power[(size_t)t * 8192 + 77] += 80.0f;
    hits *c = run(&x, false);
    assert_int_equal(c->n, 0);
    /* the same peaks at L = 512 (264-spectrum segments) are found */
    tblk y;
    tblk_new(&y, L_REF, 3);
    for (uint32_t t = 40; t <= 48; t += 4)
        y.power[(size_t)t * L_REF + 77] += 80.0f;
    hits *d = run(&y, false);
    assert_true(count(d, OZ_SIG_TRIPLET, true) >= 1);
    free(d);
    tblk_free(&y);
    free(c);
    tblk_free(&x);
}

/* ---- noise ----------------------------------------------------------------- */

/* Pure noise, several seeds and lengths, pulses on: nothing reported. */
static void pure_noise_reports_nothing(void **state)
{
    (void)state;
    const uint32_t Ls[] = {512, 2048, 8192};
    for (int i = 0; i < 3; i++) {
        for (uint64_t seed = 100; seed < 103; seed++) {
            tblk x;
            tblk_new(&x, Ls[i], seed + (uint64_t)i * 10);
            hits *c = run(&x, true);
            size_t np = count(c, OZ_SIG_PULSE, true), nt = count(c, OZ_SIG_TRIPLET, true);
            if (np || nt)
                fail_msg("L %u seed %llu: %zu pulses, %zu triplets", Ls[i],
                         (unsigned long long)seed, np, nt);
            free(c);
            tblk_free(&x);
        }
    }
}

/* ---- the SIMD paths -------------------------------------------------------- */

/* Every hit of a search, however many. */
typedef struct hitlist {
    oz_seti_hit *h;
    size_t n, cap;
} hitlist;

static void collect_all(void *ctx, const oz_seti_hit *h)
{
    hitlist *c = ctx;
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 1024;
        c->h = realloc(c->h, c->cap * sizeof *c->h);
        assert_non_null(c->h);
    }
    c->h[c->n++] = *h;
}

static hitlist run_all(const oz_seti_block *b, bool pulse_find)
{
    hitlist c = {0};
    size_t ns = oz_seti_pulse_scratch(b);
    float *scratch = malloc((ns ? ns : 1) * sizeof(float));
    assert_non_null(scratch);
    oz_seti_pulse_search(b, pulse_find, scratch, collect_all, &c);
    free(scratch);
    return c;
}

/* One block searched with the AVX2 path and with the portable one
 * (b.avx2 false): the same hits in the same order, bit for bit. */
static void assert_paths_agree(const oz_seti_block *b, bool pulse_find, size_t min_hits)
{
    oz_seti_block fast_b = *b, portable_b = *b;
    fast_b.avx2 = oz_cpu_avx2();
    portable_b.avx2 = false;
    hitlist fast = run_all(&fast_b, pulse_find);
    hitlist portable = run_all(&portable_b, pulse_find);
    if (fast.n < min_hits || fast.n != portable.n)
        fail_msg("L %u: %zu hits with AVX2, %zu without (want >= %zu)", b->L, fast.n, portable.n,
                 min_hits);
    for (size_t i = 0; i < fast.n; i++)
        if (memcmp(&fast.h[i], &portable.h[i], sizeof fast.h[i]))
            fail_msg("L %u: hit %zu differs between the paths", b->L, i);
    free(fast.h);
    free(portable.h);
}

/*
 * The folds run eight lanes to a vector, along time for long segments and
 * across bins for short ones, with an AVX2 copy of the code chosen at run
 * time; each lane adds as the scalar fold does, so both paths give the same
 * hits bit for bit: on noise with pulse trains and triplets at a length of
 * each layout (16 bins of 16384 spectra: 2114-spectrum segments, along
 * time; 512 and 4096 bins: across), with and without pulses, and on a
 * group of bins so full of candidates (a huge spike in each) that it is
 * searched again along time.
 */
static void simd_paths_agree_bit_for_bit(void **state)
{
    (void)state;
    const struct {
        uint32_t L;
        size_t n;
    } blocks[] = {{16, NSAMP / 4}, {512, NSAMP}, {4096, NSAMP}};
    for (int i = 0; i < 3; i++) {
        tblk x;
        tblk_new(&x, blocks[i].L, 40 + (uint64_t)i);
        uint32_t L = blocks[i].L, nspec = (uint32_t)(blocks[i].n / L);
        x.b.nspec = nspec;
        x.b.n = blocks[i].n;
        for (uint32_t k = 3; k < L; k += 5) {
            uint32_t P = 7 + k % 40;
            for (uint32_t t = k % P; t < nspec; t += P)
                x.power[(size_t)t * L + k] += 1.0f + (float)(k % 7);
        }
        for (uint32_t t = 100; t <= 116; t += 8)
            x.power[(size_t)t * L + 6] += 60.0f;
        assert_paths_agree(&x.b, true, 10);
        assert_paths_agree(&x.b, false, 1);
        tblk_free(&x);
    }
    tblk x;
    tblk_new(&x, L_REF, 44);
    for (uint32_t k = 1; k < 8; k++)
        for (uint32_t t = 5; t < x.b.nspec; t += x.b.nspec / 7)
            x.power[(size_t)t * L_REF + k] += 1e4f;
    assert_paths_agree(&x.b, true, 20000);
    tblk_free(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gamma_threshold_matches_independent_values),
        cmocka_unit_test(gamma_threshold_is_v8s_on_the_reference_pulse),
        cmocka_unit_test(pulse_train_is_reported_per_segment_with_its_period),
        cmocka_unit_test(noiseless_pulse_has_v8s_numbers),
        cmocka_unit_test(pulses_only_when_the_plan_asks),
        cmocka_unit_test(three_peaks_are_a_triplet),
        cmocka_unit_test(peaks_without_gaps_are_no_triplet),
        cmocka_unit_test(triplet_pairs_follow_v8s_rules),
        cmocka_unit_test(short_segments_get_no_triplet_search),
        cmocka_unit_test(pure_noise_reports_nothing),
        cmocka_unit_test(simd_paths_agree_bit_for_bit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
