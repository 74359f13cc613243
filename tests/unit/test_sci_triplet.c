/*
 * test_sci_triplet.c - the triplet search: three equally spaced peaks in one bin
 * are found with their spacing, middle time and frequency; unequal spacing,
 * two peaks, steady tones, one long burst, a beam-crossing swell, the
 * sidelobes of a drifting tone and noise over a raised floor are not
 * triplets; the noise rate follows the N^2 p^3 / 4 law that sets the default
 * threshold; results are deterministic; and end to end, three pulses of a
 * tone in a noise unit come back as a triplet.
 *
 * Blocks are built by hand: exponential noise of mean 1, and a tone of power
 * S in noise as |n + sqrt(S)|^2 with n complex Gaussian.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blocks.h"

#define FS OZ_TEST_FS
#define F0 OZ_TEST_F0

/* Runs the detector on a block with a fresh found list. */
static void run(const blk *x, oz_found *f)
{
    static const blk_detector det = {oz_triplet_scratch, oz_triplet_search};
    blk_run(x, &det, f);
}

#define L0 64u
#define NSPEC0 1024u

/* Block of noise with tones of power S in bin k at the given spectra. */
static void make(blk *x, const oz_sci_config *cfg, uint64_t seed, uint32_t k, double S,
                 const uint32_t *at, int nat)
{
    blk_noise(x, cfg, L0, NSPEC0, seed);
    for (int i = 0; i < nat; i++)
        blk_tone(x, k, at[i], S);
    blk_finish(x);
}

static void three_equally_spaced_peaks_are_a_triplet(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_sci_config_default(&cfg);
    const struct {
        uint32_t k, at[3];
    } cases[] = {
        {17, {100, 137, 174}},
        {50, {0, 511, 1022}}, /* negative frequency, widest spacing */
        {1, {600, 602, 604}}, /* closest separate pulses */
        {63, {3, 400, 797}},
    };
    for (int i = 0; i < 4; i++) {
        blk x;
        make(&x, &cfg, 300 + (uint64_t)i, cases[i].k, 40.0, cases[i].at, 3);
        x.b.chirp = 3.0;
        oz_found f;
        run(&x, &f);
        if (f.n != 1)
            fail_msg("case %d: %zu triplets", i, f.n);
        const oz_signal *s = &f.list[0];
        double tfft = L0 / FS, t = (cases[i].at[1] + 0.5) * tfft;
        assert_int_equal(s->type, OZ_SIG_TRIPLET);
        assert_int_equal(s->fft_len, L0);
        assert_true(fabs(s->period_s - (cases[i].at[1] - cases[i].at[0]) * tfft) < 1e-12);
        assert_true(fabs(s->time_s - t) < 1e-12);
        assert_true(fabs(s->freq_hz - (F0 + oz_bin_offset_hz(cases[i].k, L0, FS) + 3.0 * t)) <
                    1e-6);
        /* power: the mean of the three peaks over the block mean */
        double sum = 0;
        for (int j = 0; j < 3; j++)
            sum += x.power[cases[i].at[j] * L0 + cases[i].k];
        assert_true(fabs(s->power - sum / 3 / x.b.mean) < 1e-4 * s->power);
        assert_true(s->score == s->power / cfg.triplet_thresh && s->score >= 1.0);
        assert_true(s->sigma_s == 0.0 && s->chisq == 0.0);
        oz_found_free(&f);
        blk_free(&x);
    }
}

/* Among several peaks the strongest equally spaced three win. */
static void strongest_triplet_of_a_bin_is_reported(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_sci_config_default(&cfg);
    blk x;
    blk_noise(&x, &cfg, L0, NSPEC0, 5);
    const uint32_t weak[] = {10, 30, 50}, strong[] = {200, 260, 320};
    for (int i = 0; i < 3; i++) {
        x.power[weak[i] * L0 + 9] = 12.0f;
        x.power[strong[i] * L0 + 9] = 30.0f;
    }
    x.power[700 * L0 + 9] = 50.0f; /* a lone peak, in no triplet */
    blk_finish(&x);
    oz_found f;
    run(&x, &f);
    assert_int_equal(f.n, 1);
    assert_true(fabs(f.list[0].period_s - 60 * L0 / FS) < 1e-12);
    assert_true(fabs(f.list[0].time_s - 260.5 * L0 / FS) < 1e-12);
    oz_found_free(&f);
    blk_free(&x);
}

static void unequal_or_too_few_peaks_are_not_a_triplet(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_sci_config_default(&cfg);
    const uint32_t uneven[] = {100, 137, 175}, two[] = {100, 137};
    blk x;
    oz_found f;
    make(&x, &cfg, 20, 17, 40.0, uneven, 3);
    run(&x, &f);
    assert_int_equal(f.n, 0);
    oz_found_free(&f);
    blk_free(&x);
    make(&x, &cfg, 21, 17, 40.0, two, 2);
    run(&x, &f);
    assert_int_equal(f.n, 0);
    assert_false(f.has_best[OZ_SIG_TRIPLET]);
    oz_found_free(&f);
    blk_free(&x);
}

static void steady_tone_is_not_a_triplet(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_sci_config_default(&cfg);
    blk x;
    blk_noise(&x, &cfg, L0, NSPEC0, 22);
    for (uint32_t s = 0; s < NSPEC0; s++)
        blk_tone(&x, 21, s, 40.0);
    blk_finish(&x);
    oz_found f;
    run(&x, &f);
    assert_int_equal(f.n, 0);
    oz_found_free(&f);
    blk_free(&x);
}

/* One burst over consecutive spectra holds equally spaced peaks (s, s+2,
 * s+4, ...) but is one pulse, not three. */
static void one_long_burst_is_not_a_triplet(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_sci_config_default(&cfg);
    uint32_t at[12];
    for (int i = 0; i < 12; i++)
        at[i] = 500 + (uint32_t)i;
    blk x;
    make(&x, &cfg, 23, 30, 60.0, at, 12);
    oz_found f;
    run(&x, &f);
    assert_int_equal(f.n, 0);
    oz_found_free(&f);
    blk_free(&x);
}

/* A beam crossing whose power hovers around the threshold has peaks with
 * quiet-looking dips between them; the dips are not quiet. */
static void gaussian_swell_is_not_a_triplet(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_sci_config_default(&cfg);
    const double peaks[] = {8.0, 15.0, 30.0};
    for (int i = 0; i < 3; i++) {
        for (uint64_t seed = 0; seed < 10; seed++) {
            blk x;
            blk_noise(&x, &cfg, L0, NSPEC0, 400 + seed);
            for (uint32_t s = 0; s < NSPEC0; s++) {
                double d = ((double)s - 500.0) / 15.0;
                blk_tone(&x, 12, s, peaks[i] * exp(-0.5 * d * d));
            }
            blk_finish(&x);
            oz_found f;
            run(&x, &f);
            if (f.n)
                fail_msg("peak %.0f seed %u: a triplet, period %.3f s", peaks[i], (unsigned)seed,
                         f.list[0].period_s);
            oz_found_free(&f);
            blk_free(&x);
        }
    }
}

/* A strong tone drifting through the bin (at a wrong chirp) passes a first
 * sidelobe, the main lobe and the other first sidelobe at equal intervals,
 * with nulls between: symmetric peaks at 0.047 of the main lobe over a
 * quiet bin.  One signal, not three pulses. */
static void sidelobes_of_a_drifting_tone_are_not_a_triplet(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_sci_config_default(&cfg);
    const double main_lobe[] = {250.0, 800.0, 5000.0};
    for (int i = 0; i < 3; i++) {
        blk x;
        blk_noise(&x, &cfg, L0, NSPEC0, 27 + (uint64_t)i);
        /* the tone crosses bin 19 at 0.5 bins per spectrum: offset d bins */
        for (int s = -8; s <= 8; s++) {
            double d = 0.5 * s, sinc = s ? sin(OZ_PI * d) / (OZ_PI * d) : 1.0;
            blk_tone(&x, 19, (uint32_t)(600 + s), main_lobe[i] * sinc * sinc);
        }
        blk_finish(&x);
        oz_found f;
        run(&x, &f);
        if (f.n)
            fail_msg("main lobe %.0f: a triplet, period %.4f s", main_lobe[i], f.list[0].period_s);
        oz_found_free(&f);
        blk_free(&x);
    }
}

/* A tone crossing the bin slowly stays above the threshold for many
 * spectra, with a dip or two on its rising edge and a lone noise peak
 * before it: (49, 61, 73) are equally spaced, in separate runs and over a
 * quiet bin, but 73 lies in a run of 29 peaks, far longer than half the
 * spacing: a swell, not a pulse. */
static void long_run_is_not_a_pulse_of_a_triplet(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_sci_config_default(&cfg);
    blk x;
    blk_noise(&x, &cfg, L0, NSPEC0, 31);
    for (uint32_t s = 40; s < 100; s++)
        x.power[s * L0 + 14] = 0.5f;
    x.power[49 * L0 + 14] = 11.0f;
    x.power[61 * L0 + 14] = x.power[62 * L0 + 14] = 12.0f;
    x.power[63 * L0 + 14] = 8.0f;
    for (uint32_t s = 64; s <= 92; s++)
        x.power[s * L0 + 14] = 60.0f;
    blk_finish(&x);
    oz_found f;
    run(&x, &f);
    if (f.n)
        fail_msg("a triplet at %.4f s, period %.4f s", f.list[0].time_s, f.list[0].period_s);
    oz_found_free(&f);
    blk_free(&x);
}

/* Beside a strong carrier a bin's floor rises (here a steady tone of 6 block
 * means): its noise crosses the block-level threshold a quarter of the time,
 * and equally spaced crossings abound.  Peaks must clear the threshold over
 * the bin's own level. */
static void raised_floor_is_not_a_triplet(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_sci_config_default(&cfg);
    for (uint64_t seed = 0; seed < 10; seed++) {
        blk x;
        blk_noise(&x, &cfg, L0, 64, 30 + seed);
        for (uint32_t s = 0; s < 64; s++)
            blk_tone(&x, 5, s, 6.0);
        blk_finish(&x);
        oz_found f;
        run(&x, &f);
        if (f.n)
            fail_msg("seed %u: a triplet, period %.4f s", (unsigned)seed, f.list[0].period_s);
        oz_found_free(&f);
        blk_free(&x);
    }
}

/* Three strong pulses two spectra wide, over an otherwise quiet bin: still
 * a triplet (each member a separate pulse). */
static void wide_pulses_are_still_a_triplet(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_sci_config_default(&cfg);
    const uint32_t at[] = {100, 101, 140, 141, 180, 181};
    blk x;
    make(&x, &cfg, 24, 44, 60.0, at, 6);
    oz_found f;
    run(&x, &f);
    assert_int_equal(f.n, 1);
    assert_true(fabs(f.list[0].period_s - 40 * L0 / FS) < 1e-12);
    oz_found_free(&f);
    blk_free(&x);
}

static void bins_with_too_many_peaks_are_skipped(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_sci_config_default(&cfg);
    /* a triplet plus 30 scattered lone peaks: 33 > triplet_max_peaks (32) */
    uint32_t at[33] = {100, 140, 180};
    for (uint32_t i = 3; i < 33; i++)
        at[i] = 190 + 25 * i;
    blk x;
    make(&x, &cfg, 25, 8, 60.0, at, 33);
    oz_found f;
    run(&x, &f);
    assert_int_equal(f.n, 0);
    oz_found_free(&f);
    blk_free(&x);
    /* one fewer: searched, found */
    cfg.triplet_max_peaks = 33;
    make(&x, &cfg, 25, 8, 60.0, at, 33);
    run(&x, &f);
    assert_int_equal(f.n, 1);
    oz_found_free(&f);
    blk_free(&x);
}

/*
 * Noise triplets follow the law triplet.c gives: a bin of N spectra shows
 * about N^2 p^3 / 4 of them, p = e^-T.  At T = 6 and N = 1024 that is 4.1e-3
 * per bin (the bin's best is what is counted; two in one bin are rare).
 * Measured here: 226 in 63000 bins against 252 (within 2 sigma of counting
 * noise; the rules against swells and bursts cost almost nothing on noise).
 * At the default T = 10 the law
 * gives, summed over a default unit (2^20 samples, L = 8 .. 8192 with their
 * chirp counts), about 0.012 noise triplets per unit (0.95 at SETI's 8.5).
 */
static void noise_triplets_follow_the_law(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_sci_config_default(&cfg);
    cfg.triplet_thresh = 6.0;
    cfg.max_signals = 1000;
    size_t found = 0, bins = 0;
    for (uint64_t seed = 0; seed < 1000; seed++) {
        blk x;
        blk_noise(&x, &cfg, L0, NSPEC0, 5000 + seed);
        blk_finish(&x);
        oz_found f;
        run(&x, &f);
        found += f.n;
        bins += L0 - 1;
        oz_found_free(&f);
        blk_free(&x);
    }
    double p = exp(-6.0), expect = (double)bins * NSPEC0 * NSPEC0 * p * p * p / 4;
    if (fabs((double)found - expect) > 0.2 * expect)
        fail_msg("%zu noise triplets in %zu bins, law says %.0f", found, bins, expect);
}

/* At the default threshold pure noise has no triplet, even in the shortest
 * FFTs where bins hold the most spectra (L = 8, 131072 spectra: the law
 * gives 0.003 per block). */
static void pure_noise_gives_no_triplets(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_sci_config_default(&cfg);
    size_t listed = 0;
    for (uint64_t seed = 0; seed < 8; seed++) {
        blk x;
        blk_noise(&x, &cfg, 8, 131072, 7000 + seed);
        blk_finish(&x);
        oz_found f;
        run(&x, &f);
        listed += f.n;
        oz_found_free(&f);
        blk_free(&x);
    }
    assert_int_equal(listed, 0);
}

static void detector_runs_only_where_configured(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_sci_config_default(&cfg);
    assert_true(oz_triplet_scratch(&cfg, 64, 1024) > 0);
    assert_true(oz_triplet_scratch(&cfg, 64, 5) > 0);
    assert_int_equal(oz_triplet_scratch(&cfg, 64, 4), 0);
    assert_int_equal(oz_triplet_scratch(&cfg, cfg.triplet_fft_max * 2, 1024), 0);
    cfg.triplet_fft_max = 0;
    assert_int_equal(oz_triplet_scratch(&cfg, 64, 1024), 0);
}

static void same_block_gives_identical_results(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_sci_config_default(&cfg);
    cfg.triplet_thresh = 6.0; /* plenty of noise triplets */
    blk x;
    blk_noise(&x, &cfg, L0, NSPEC0, 26);
    blk_finish(&x);
    oz_found a, b;
    run(&x, &a);
    run(&x, &b);
    assert_int_equal(a.n, b.n);
    assert_memory_equal(a.list, b.list, a.n * sizeof *a.list);
    assert_int_equal(a.has_best[OZ_SIG_TRIPLET], b.has_best[OZ_SIG_TRIPLET]);
    assert_memory_equal(&a.best[OZ_SIG_TRIPLET], &b.best[OZ_SIG_TRIPLET], sizeof(oz_signal));
    oz_found_free(&a);
    oz_found_free(&b);
    blk_free(&x);
}

/* ---- end to end ----------------------------------------------------------- */

#define N 65536u /* 6.7 s */

static void three_pulses_in_a_unit_are_a_triplet(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_test_config_small(&cfg);
    const struct {
        double f, c, amp, t0, period;
    } cases[] = {{2100.0, 0.0, 0.5, 2.0, 1.0}, {-3333.3, -1.5, 0.5, 0.7, 2.5}};
    for (int i = 0; i < 2; i++) {
        float *iq = oz_test_noise(N, 80 + (uint64_t)i, 1.0);
        /* pulses at t0, t0 + P, t0 + 2P only */
        oz_tone tone = {.freq_hz = cases[i].f,
                        .chirp_hz_s = cases[i].c,
                        .amp = cases[i].amp,
                        .env = OZ_ENV_PULSES,
                        .t0 = cases[i].t0,
                        .period_s = cases[i].period,
                        .width_s = 0.02,
                        .t_start = cases[i].t0 - 0.1,
                        .t_end = cases[i].t0 + 2 * cases[i].period + 0.1};
        oz_sci_add_tone(iq, N, FS, &tone);
        oz_sci_result r;
        oz_test_search(&cfg, iq, N, FS, F0, &r);
        double mid = cases[i].t0 + cases[i].period;
        const oz_signal *s =
            oz_test_find(&r, OZ_SIG_TRIPLET, F0 + cases[i].f + cases[i].c * mid, 80.0);
        if (!s) {
            oz_test_dump(&r);
            fail_msg("case %d: no triplet", i);
        }
        double truth = F0 + cases[i].f + cases[i].c * s->time_s, tfft = s->fft_len / FS;
        if (fabs(s->freq_hz - truth) > FS / s->fft_len ||
            fabs(s->period_s - cases[i].period) > tfft || fabs(s->time_s - (mid + 0.01)) > tfft) {
            oz_test_dump(&r);
            fail_msg("case %d: triplet at %.3f Hz, period %.4f s, middle %.3f s (truth %.3f Hz, "
                     "%.4f s, %.3f s)",
                     i, s->freq_hz, s->period_s, s->time_s, truth, cases[i].period, mid);
        }
        assert_int_equal(oz_test_count(&r, OZ_SIG_TRIPLET), 1);
        oz_sci_result_clear(&r);
        free(iq);
    }
}

static void noise_unit_has_no_triplet(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_test_config_small(&cfg);
    for (uint64_t seed = 0; seed < 3; seed++) {
        float *iq = oz_test_noise(N, 700 + seed, 1.0);
        oz_sci_result r;
        oz_test_search(&cfg, iq, N, FS, F0, &r);
        if (oz_test_count(&r, OZ_SIG_TRIPLET)) {
            oz_test_dump(&r);
            fail_msg("seed %u: triplets in pure noise", (unsigned)seed);
        }
        oz_sci_result_clear(&r);
        free(iq);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(three_equally_spaced_peaks_are_a_triplet),
        cmocka_unit_test(strongest_triplet_of_a_bin_is_reported),
        cmocka_unit_test(unequal_or_too_few_peaks_are_not_a_triplet),
        cmocka_unit_test(steady_tone_is_not_a_triplet),
        cmocka_unit_test(one_long_burst_is_not_a_triplet),
        cmocka_unit_test(gaussian_swell_is_not_a_triplet),
        cmocka_unit_test(sidelobes_of_a_drifting_tone_are_not_a_triplet),
        cmocka_unit_test(long_run_is_not_a_pulse_of_a_triplet),
        cmocka_unit_test(raised_floor_is_not_a_triplet),
        cmocka_unit_test(wide_pulses_are_still_a_triplet),
        cmocka_unit_test(bins_with_too_many_peaks_are_skipped),
        cmocka_unit_test(noise_triplets_follow_the_law),
        cmocka_unit_test(pure_noise_gives_no_triplets),
        cmocka_unit_test(detector_runs_only_where_configured),
        cmocka_unit_test(same_block_gives_identical_results),
        cmocka_unit_test(three_pulses_in_a_unit_are_a_triplet),
        cmocka_unit_test(noise_unit_has_no_triplet),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
