/*
 * test_sci_search.c - the kernel end to end on synthetic units: tones found where
 * they were injected (frequency, chirp, time, sign conventions), pure noise
 * quiet, one strong tone reported once, checkpoint/resume bit-identical, FLOP
 * count deterministic, bad input refused with a reason.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

#define N 65536u

static double bin_hz(uint32_t L)
{
    return OZ_TEST_FS / L;
}
static double chirp_step(const oz_sci_config *c, uint32_t L)
{
    return c->chirp_resolution * bin_hz(L) * bin_hz(L);
}

/* Injects one tone into noise, searches, and checks the strongest spike near
 * it: frequency (at its reported time) within one bin of the truth at that
 * time, chirp within one step. */
static void check_tone(double offset, double chirp, double amp, uint64_t seed)
{
    oz_sci_config cfg;
    oz_test_config_small(&cfg);
    float *iq = oz_test_noise(N, seed, 1.0);
    oz_tone tone = {.freq_hz = offset, .chirp_hz_s = chirp, .amp = amp};
    oz_sci_add_tone(iq, N, OZ_TEST_FS, &tone);
    oz_sci_result r;
    oz_test_search(&cfg, iq, N, OZ_TEST_FS, OZ_TEST_F0, &r);

    const oz_signal *s = NULL;
    for (size_t i = 0; i < r.nsignals; i++)
        if (r.signals[i].type == OZ_SIG_SPIKE && (!s || r.signals[i].score > s->score))
            s = &r.signals[i];
    if (!s) {
        oz_test_dump(&r);
        fail_msg("tone at %+.2f Hz, %+.2f Hz/s, amp %.2f: no spike", offset, chirp, amp);
    }
    double truth = OZ_TEST_F0 + offset + chirp * s->time_s;
    double bin = bin_hz(s->fft_len);
    if (fabs(s->freq_hz - truth) > bin ||
        fabs(s->chirp_hz_s - chirp) > chirp_step(&cfg, s->fft_len) || s->time_s < 0 ||
        s->time_s > N / OZ_TEST_FS) {
        oz_test_dump(&r);
        fail_msg("tone at %+.2f Hz, %+.2f Hz/s: spike at %.3f Hz (truth %.3f, bin %.3f), "
                 "chirp %.3f, t %.3f",
                 offset, chirp, s->freq_hz, truth, bin, s->chirp_hz_s, s->time_s);
    }
    /* The tone is one physical signal: reported once as a spike. */
    if (oz_test_count(&r, OZ_SIG_SPIKE) != 1) {
        oz_test_dump(&r);
        fail_msg("tone reported as %zu spikes", oz_test_count(&r, OZ_SIG_SPIKE));
    }
    assert_true(r.flops > 0);
    oz_sci_result_clear(&r);
    free(iq);
}

static void steady_tones_are_found_at_their_frequency(void **state)
{
    (void)state;
    check_tone(1000.3, 0.0, 0.3, 1);
    check_tone(-2345.6, 0.0, 0.15, 2);
    check_tone(37.1, 0.0, 0.1, 3);
    check_tone(4500.0, 0.0, 0.12, 4);
}

static void drifting_tones_are_found_with_their_chirp(void **state)
{
    (void)state;
    check_tone(800.0, 3.3, 0.2, 5);
    check_tone(-1500.0, -2.1, 0.2, 6);
    check_tone(2222.2, 4.6, 0.15, 7);
    check_tone(-10.0, -4.9, 0.25, 8);
}

/* Pins FFTW's sign convention to ours: a tone above the centre rising in
 * frequency is reported above the centre with a positive chirp. */
static void positive_frequency_and_chirp_mean_above_and_rising(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_test_config_small(&cfg);
    float *iq = oz_test_noise(N, 9, 0.0);
    oz_tone tone = {.freq_hz = 500.0, .chirp_hz_s = 3.0, .amp = 1.0};
    oz_sci_add_tone(iq, N, OZ_TEST_FS, &tone);
    oz_sci_result r;
    oz_test_search(&cfg, iq, N, OZ_TEST_FS, OZ_TEST_F0, &r);
    assert_int_equal(oz_test_count(&r, OZ_SIG_SPIKE), 1);
    const oz_signal *s = oz_test_find(&r, OZ_SIG_SPIKE,
                                      OZ_TEST_F0 + 500.0 + 3.0 * r.signals[0].time_s, bin_hz(4096));
    assert_non_null(s);
    assert_true(s->freq_hz > OZ_TEST_F0);
    assert_true(s->chirp_hz_s > 2.0 && s->chirp_hz_s < 4.0);
    oz_sci_result_clear(&r);
    free(iq);
}

/* A burst of tone in the middle of the unit is timed within one spectrum. */
static void a_burst_is_timed_within_one_spectrum(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_test_config_small(&cfg);
    float *iq = oz_test_noise(N, 10, 1.0);
    double start = 3.0, len = 0.45; /* just over one 4096-point spectrum */
    oz_tone tone = {.freq_hz = -700.0, .amp = 0.5, .t_start = start, .t_end = start + len};
    oz_sci_add_tone(iq, N, OZ_TEST_FS, &tone);
    oz_sci_result r;
    oz_test_search(&cfg, iq, N, OZ_TEST_FS, OZ_TEST_F0, &r);
    const oz_signal *s =
        oz_test_find(&r, OZ_SIG_SPIKE, OZ_TEST_F0 - 700.0, 2 * bin_hz(cfg.fft_min));
    if (!s) {
        oz_test_dump(&r);
        fail_msg("burst not found");
    }
    double tfft = s->fft_len / OZ_TEST_FS;
    assert_true(s->time_s >= start - tfft && s->time_s <= start + len + tfft);
    oz_sci_result_clear(&r);
    free(iq);
}

/* Pure noise at the default spike threshold: measured 0 units of 40 with a
 * spike above threshold (each unit: 21 chirp rates x 7 FFT lengths, about
 * 4e6 bin trials; the expected rate at 24 x mean is ~1e-4 per unit). */
static void pure_noise_gives_no_spike(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_test_config_small(&cfg);
    int noisy = 0;
    for (uint64_t seed = 100; seed < 140; seed++) {
        float *iq = oz_test_noise(N, seed, 1.0);
        oz_sci_result r;
        oz_test_search(&cfg, iq, N, OZ_TEST_FS, OZ_TEST_F0, &r);
        if (oz_test_count(&r, OZ_SIG_SPIKE)) {
            noisy++;
            oz_test_dump(&r);
        }
        /* the best spike is still reported, below threshold */
        assert_true(r.has_best[OZ_SIG_SPIKE]);
        assert_true(r.best[OZ_SIG_SPIKE].score < 1.0 || oz_test_count(&r, OZ_SIG_SPIKE));
        oz_sci_result_clear(&r);
        free(iq);
    }
    assert_true(noisy <= 1);
}

/* Many strong tones: the reported list is capped and flagged, and once the
 * internal list (OZ_FOUND_SLACK x max_signals) fills, the search ends. */
static void interference_overflows_cleanly(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_test_config_small(&cfg);
    cfg.max_signals = 5;
    float *iq = oz_test_noise(N, 11, 1.0);
    for (int k = 0; k < 30; k++) {
        oz_tone tone = {.freq_hz = -4400.0 + 300.0 * k, .amp = 0.5};
        oz_sci_add_tone(iq, N, OZ_TEST_FS, &tone);
    }
    char why[256];
    oz_sci_search *s = NULL;
    assert_int_equal(oz_sci_search_new(&cfg, iq, N, OZ_TEST_FS, OZ_TEST_F0, &s, why, sizeof why),
                     0);
    assert_int_equal(oz_sci_search_run(s, NULL, NULL), 0);
    assert_true(oz_sci_search_finished(s));
    assert_true(oz_sci_search_done(s) < oz_sci_search_steps(s));
    oz_sci_result r;
    assert_int_equal(oz_sci_search_result(s, &r), 0);
    assert_true(r.overflow);
    assert_int_equal(r.nsignals, 5);
    oz_sci_result_clear(&r);
    oz_sci_search_free(s);
    free(iq);
}

/* A strong tone drifting at 20 Hz/s, searched with the default (SETI@home)
 * configuration: the first steps run at chirps far from the tone's, where it
 * moves 8 Hz per 4096-point spectrum.  Its detections chain into one track
 * instead of filling the list and ending the unit (review finding). */
static void a_strong_drifting_tone_does_not_flood_the_list(void **state)
{
    (void)state;
    const size_t n = 1u << 20;
    oz_sci_config cfg;
    oz_sci_config_default(&cfg);
    float *iq = oz_test_noise(n, 19, 1.0);
    oz_tone tone = {.freq_hz = 1000.0, .chirp_hz_s = 20.0, .amp = 0.3};
    oz_sci_add_tone(iq, n, OZ_TEST_FS, &tone);
    char why[256];
    oz_sci_search *s = NULL;
    assert_int_equal(oz_sci_search_new(&cfg, iq, n, OZ_TEST_FS, OZ_TEST_F0, &s, why, sizeof why),
                     0);
    for (int i = 0; i < 5; i++)
        assert_int_equal(oz_sci_search_step(s), 0);
    oz_sci_result r;
    assert_int_equal(oz_sci_search_result(s, &r), 0);
    /* before 240 spikes; now one track per FFT length that sees it (their
     * smeared peaks sit up to half a smear apart until the search reaches
     * 20 Hz/s, where the tone's own detections absorb them) */
    if (r.overflow || oz_test_count(&r, OZ_SIG_SPIKE) > 5) {
        oz_test_dump(&r);
        fail_msg("one drifting tone: %zu spikes after 5 steps%s", oz_test_count(&r, OZ_SIG_SPIKE),
                 r.overflow ? ", overflow" : "");
    }
    oz_sci_result_clear(&r);
    oz_sci_search_free(s);
    free(iq);
}

/* Is s on the tone's track: frequency within 1.5 bins of the tone's at
 * s's time, chirp within one step of its length? */
static bool on_track(const oz_sci_config *cfg, const oz_signal *s, const oz_tone *t)
{
    double truth = OZ_TEST_F0 + t->freq_hz + t->chirp_hz_s * s->time_s;
    return fabs(s->freq_hz - truth) <= 1.5 * bin_hz(s->fft_len) &&
           fabs(s->chirp_hz_s - t->chirp_hz_s) <= chirp_step(cfg, s->fft_len);
}

/* A strong tone (spike power 1e3 to 1e5 over the mean at fft_max) leaks into
 * lines beside it (window sidelobes) and into every drift path crossing its
 * track.  It is one physical signal: one signal of each type that fires, on
 * its track, and nothing else anywhere (before: up to 23 stray lines per
 * unit, most within 50 Hz). */
static void a_strong_tone_gives_no_stray_signal(void **state)
{
    (void)state;
    const double amps[] = {0.5, 1.5, 5.0}, offsets[] = {1000.3, -2345.6, 37.1},
                 chirps[] = {0.0, 3.3, -2.1, 4.6};
    oz_sci_config cfg;
    oz_test_config_small(&cfg);
    cfg.max_signals = 200;
    for (unsigned a = 0; a < 3; a++)
        for (unsigned o = 0; o < 3; o++)
            for (unsigned c = 0; c < 4; c++) {
                uint64_t seed = 100 + 10 * o + c + 100 * (a % 2);
                float *iq = oz_test_noise(N, seed, 1.0);
                oz_tone tone = {.freq_hz = offsets[o], .chirp_hz_s = chirps[c], .amp = amps[a]};
                oz_sci_add_tone(iq, N, OZ_TEST_FS, &tone);
                oz_sci_result r;
                oz_test_search(&cfg, iq, N, OZ_TEST_FS, OZ_TEST_F0, &r);
                size_t per[OZ_SIG_NTYPES] = {0};
                bool off = false;
                for (size_t i = 0; i < r.nsignals; i++) {
                    per[r.signals[i].type]++;
                    off |= !on_track(&cfg, &r.signals[i], &tone);
                }
                bool bad = off || per[OZ_SIG_SPIKE] != 1 || per[OZ_SIG_LINE] != 1;
                for (int t = 0; t < OZ_SIG_NTYPES; t++)
                    bad |= per[t] > 1;
                if (bad) {
                    oz_test_dump(&r);
                    fail_msg("tone amp %.1f at %+.1f Hz, %+.1f Hz/s (seed %llu): %zu signals, "
                             "%zu spikes, %zu lines%s",
                             amps[a], offsets[o], chirps[c], (unsigned long long)seed, r.nsignals,
                             per[OZ_SIG_SPIKE], per[OZ_SIG_LINE],
                             off ? ", some off its track" : "");
                }
                oz_sci_result_clear(&r);
                free(iq);
            }
}

/* Two drifting tones whose tracks cross (same frequency at t_cross) at
 * clearly different chirps: both are reported as lines, each with its own
 * chirp, although a path along the weaker also picks up the stronger where
 * they cross (before: the weaker was folded into the stronger). */
static void two_crossing_tracks_are_both_reported(void **state)
{
    (void)state;
    static const struct {
        double c1, c2, a1, a2, t_cross;
    } geo[] = {
        {3.0, -2.0, 0.5, 0.2, 3.3}, {2.0, -1.0, 0.3, 0.2, 3.0},  {-1.5, 1.5, 0.5, 0.25, 5.0},
        {4.5, -3.0, 0.4, 0.2, 2.5}, {0.0, -4.0, 0.3, 0.15, 4.0},
    };
    oz_sci_config cfg;
    oz_test_config_small(&cfg);
    cfg.max_signals = 200;
    for (unsigned g = 0; g < sizeof geo / sizeof geo[0]; g++)
        for (uint64_t seed = 1; seed <= 4; seed++) {
            double fc = 1500.0 + 100.0 * (double)seed;
            oz_tone t[2] = {
                {.freq_hz = fc - geo[g].c1 * geo[g].t_cross,
                 .chirp_hz_s = geo[g].c1,
                 .amp = geo[g].a1},
                {.freq_hz = fc - geo[g].c2 * geo[g].t_cross,
                 .chirp_hz_s = geo[g].c2,
                 .amp = geo[g].a2},
            };
            float *iq = oz_test_noise(N, 1000 + 10 * g + seed, 1.0);
            oz_sci_add_tone(iq, N, OZ_TEST_FS, &t[0]);
            oz_sci_add_tone(iq, N, OZ_TEST_FS, &t[1]);
            oz_sci_result r;
            oz_test_search(&cfg, iq, N, OZ_TEST_FS, OZ_TEST_F0, &r);
            bool found[2] = {false, false};
            for (size_t i = 0; i < r.nsignals; i++)
                for (int k = 0; k < 2; k++)
                    found[k] |=
                        r.signals[i].type == OZ_SIG_LINE && on_track(&cfg, &r.signals[i], &t[k]);
            if (!found[0] || !found[1]) {
                oz_test_dump(&r);
                fail_msg("tracks %+.1f and %+.1f Hz/s crossing at %.1f s (seed %llu): %s lost",
                         geo[g].c1, geo[g].c2, geo[g].t_cross, (unsigned long long)seed,
                         found[0] ? "the weaker" : "the stronger");
            }
            oz_sci_result_clear(&r);
            free(iq);
        }
}

static void assert_same_result(const oz_sci_result *a, const oz_sci_result *b)
{
    assert_int_equal(a->nsignals, b->nsignals);
    assert_int_equal(a->overflow, b->overflow);
    for (size_t i = 0; i < a->nsignals; i++)
        assert_memory_equal(&a->signals[i], &b->signals[i], sizeof(oz_signal));
    for (int t = 0; t < OZ_SIG_NTYPES; t++) {
        assert_int_equal(a->has_best[t], b->has_best[t]);
        if (a->has_best[t])
            assert_memory_equal(&a->best[t], &b->best[t], sizeof(oz_signal));
    }
    assert_true(a->flops == b->flops);
}

/* Save after a random step, restore into a fresh search, finish: the result
 * is bit-identical to an uninterrupted run's.  One save falls after step +4
 * (the order is 0, +1, -1, ..., +4), where the rate -4's spectra at fft_max
 * and fft_max / 2 were made with +4's: the restored search makes them
 * itself, and t3 sits at that rate, a burst as long as fft_max / 2, so
 * that they count. */
static void resume_from_any_step_is_bit_identical(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_test_config_small(&cfg);
    float *iq = oz_test_noise(N, 12, 1.0);
    oz_tone t1 = {.freq_hz = 300.0, .chirp_hz_s = 1.7, .amp = 0.15};
    oz_tone t2 = {.freq_hz = -2000.0,
                  .amp = 0.5,
                  .env = OZ_ENV_PULSES,
                  .t0 = 0.5,
                  .period_s = 0.8,
                  .width_s = 0.1};
    oz_tone t3 = {.freq_hz = 1500.0,
                  .chirp_hz_s = -3.78,
                  .amp = 1.0,
                  .env = OZ_ENV_PULSES,
                  .t0 = 3.0,
                  .period_s = 100.0,
                  .width_s = 0.2}; /* one burst, best seen at fft_max / 2 */
    oz_sci_add_tone(iq, N, OZ_TEST_FS, &t1);
    oz_sci_add_tone(iq, N, OZ_TEST_FS, &t2);
    oz_sci_add_tone(iq, N, OZ_TEST_FS, &t3);
    oz_sci_result whole;
    oz_test_search(&cfg, iq, N, OZ_TEST_FS, OZ_TEST_F0, &whole);
    assert_true(whole.nsignals >= 2);

    oz_rng rng;
    oz_rng_seed(&rng, 77);
    char why[256];
    for (int trial = 0; trial < 5; trial++) {
        oz_sci_search *a = NULL, *b = NULL;
        assert_int_equal(
            oz_sci_search_new(&cfg, iq, N, OZ_TEST_FS, OZ_TEST_F0, &a, why, sizeof why), 0);
        size_t total = oz_sci_search_steps(a);
        assert_true(total > 9);
        size_t k = trial == 0   ? 0
                   : trial == 3 ? total
                   : trial == 4 ? 8
                                : (size_t)(oz_rng_uniform(&rng) * (double)total);
        for (size_t i = 0; i < k; i++)
            assert_int_equal(oz_sci_search_step(a), 0);
        char *saved = NULL;
        assert_int_equal(oz_sci_search_save(a, &saved), 0);
        oz_sci_search_free(a);

        assert_int_equal(
            oz_sci_search_new(&cfg, iq, N, OZ_TEST_FS, OZ_TEST_F0, &b, why, sizeof why), 0);
        int rc = oz_sci_search_restore(b, saved, why, sizeof why);
        if (rc)
            fail_msg("restore after step %zu: %s", k, why);
        assert_int_equal(oz_sci_search_done(b), k);
        assert_int_equal(oz_sci_search_run(b, NULL, NULL), 0);
        oz_sci_result r;
        assert_int_equal(oz_sci_search_result(b, &r), 0);
        assert_same_result(&whole, &r);
        oz_sci_result_clear(&r);
        oz_sci_search_free(b);
        free(saved);
    }
    oz_sci_result_clear(&whole);
    free(iq);
}

/* The AVX2 and the portable paths (no_avx2, which OZ_NO_AVX2 sets in the
 * CLIs and the worker) give bit-identical results, so which one a
 * volunteer's CPU takes never shows in validation. */
static void simd_paths_agree_bit_for_bit(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_test_config_small(&cfg);
    float *iq = oz_test_noise(N, 18, 1.0);
    oz_tone t1 = {.freq_hz = -900.0, .chirp_hz_s = 2.3, .amp = 0.2};
    oz_sci_add_tone(iq, N, OZ_TEST_FS, &t1);
    oz_sci_result fast, portable;
    oz_test_search(&cfg, iq, N, OZ_TEST_FS, OZ_TEST_F0, &fast);
    cfg.no_avx2 = true;
    oz_test_search(&cfg, iq, N, OZ_TEST_FS, OZ_TEST_F0, &portable);
    assert_true(fast.nsignals >= 1);
    assert_same_result(&fast, &portable);
    oz_sci_result_clear(&fast);
    oz_sci_result_clear(&portable);
    free(iq);
}

/* A state restores only onto its own unit and configuration, and garbage is
 * refused with a reason. */
static void restore_refuses_other_units_and_garbage(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_test_config_small(&cfg);
    float *iq = oz_test_noise(N, 13, 1.0);
    float *other = oz_test_noise(N, 14, 1.0);
    char why[256] = "";
    oz_sci_search *a = NULL, *b = NULL, *c = NULL;
    assert_int_equal(oz_sci_search_new(&cfg, iq, N, OZ_TEST_FS, OZ_TEST_F0, &a, why, sizeof why),
                     0);
    assert_int_equal(oz_sci_search_step(a), 0);
    char *saved = NULL;
    assert_int_equal(oz_sci_search_save(a, &saved), 0);

    assert_int_equal(oz_sci_search_new(&cfg, other, N, OZ_TEST_FS, OZ_TEST_F0, &b, why, sizeof why),
                     0);
    assert_int_equal(oz_sci_search_restore(b, saved, why, sizeof why), OZ_SCI_EMISMATCH);
    assert_non_null(strstr(why, "another unit"));

    oz_sci_config cfg2 = cfg;
    cfg2.spike_thresh = 30;
    assert_int_equal(oz_sci_search_new(&cfg2, iq, N, OZ_TEST_FS, OZ_TEST_F0, &c, why, sizeof why),
                     0);
    assert_int_equal(oz_sci_search_restore(c, saved, why, sizeof why), OZ_SCI_EMISMATCH);
    assert_non_null(strstr(why, "configuration"));

    assert_int_equal(oz_sci_search_restore(a, "{\"format\": 3", why, sizeof why), OZ_SCI_EPARSE);
    assert_int_equal(oz_sci_search_restore(a, "[]", why, sizeof why), OZ_SCI_EPARSE);
    /* a truncated state is refused, and the search is untouched */
    saved[strlen(saved) / 2] = '\0';
    assert_int_equal(oz_sci_search_restore(a, saved, why, sizeof why), OZ_SCI_EPARSE);
    assert_int_equal(oz_sci_search_done(a), 1);

    free(saved);
    oz_sci_search_free(a);
    oz_sci_search_free(b);
    oz_sci_search_free(c);
    free(iq);
    free(other);
}

/* A state with one bad track entry is refused and leaves the search as it
 * was: saving again gives the same state (review finding). */
static void a_refused_restore_changes_nothing(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_test_config_small(&cfg);
    float *iq = oz_test_noise(N, 20, 1.0);
    oz_tone tone = {.freq_hz = 700.0, .chirp_hz_s = 1.3, .amp = 0.3};
    oz_sci_add_tone(iq, N, OZ_TEST_FS, &tone);
    char why[256];
    oz_sci_search *s = NULL;
    assert_int_equal(oz_sci_search_new(&cfg, iq, N, OZ_TEST_FS, OZ_TEST_F0, &s, why, sizeof why),
                     0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(oz_sci_search_step(s), 0);
    char *early = NULL, *before = NULL, *after = NULL;
    assert_int_equal(oz_sci_search_save(s, &early), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(oz_sci_search_step(s), 0);
    assert_int_equal(oz_sci_search_save(s, &before), 0);

    json_error_t jerr;
    json_t *j = json_loads(early, 0, &jerr);
    assert_non_null(j);
    json_t *tracks = json_object_get(j, "tracks");
    assert_true(json_array_size(tracks) >= 1);
    json_array_set_new(tracks, json_array_size(tracks) - 1, json_string("x"));
    char *bad = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    assert_int_equal(oz_sci_search_restore(s, bad, why, sizeof why), OZ_SCI_EPARSE);
    assert_int_equal(oz_sci_search_save(s, &after), 0);
    assert_string_equal(before, after);
    free(bad);
    free(early);
    free(before);
    free(after);
    oz_sci_search_free(s);
    free(iq);
}

/* Wide bins make the chirp step far larger than a small chirp_max; nothing
 * reported may lie outside what the result parser accepts, and the search's
 * own state must restore (review finding). */
static void results_stay_within_the_searched_chirp_range(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_test_config_small(&cfg);
    cfg.fft_min = 8;
    cfg.fft_max = 64;
    cfg.chirp_max = 5;
    float *iq = oz_test_noise(N, 21, 1.0);
    oz_tone tone = {.freq_hz = -1200.0, .amp = 0.2};
    oz_sci_add_tone(iq, N, OZ_TEST_FS, &tone);
    oz_sci_result r, back;
    oz_test_search(&cfg, iq, N, OZ_TEST_FS, OZ_TEST_F0, &r);
    double step = cfg.chirp_resolution * pow(OZ_TEST_FS / cfg.fft_max, 2);
    for (size_t i = 0; i < r.nsignals; i++)
        assert_true(fabs(r.signals[i].chirp_hz_s) <= cfg.chirp_max + step);
    json_t *j = oz_sci_result_to_json(&r);
    assert_non_null(j);
    char why[256] = "";
    if (oz_sci_result_from_json(j, &back, why, sizeof why) != 0)
        fail_msg("the kernel's own result is refused: %s", why);
    oz_sci_result_clear(&back);
    json_decref(j);
    oz_sci_result_clear(&r);
    free(iq);
}

/* FLOPs depend on the plan only: same unit size and configuration, same count,
 * whatever the samples; and the count matches the documented formula. */
static void flop_count_is_deterministic(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_test_config_small(&cfg);
    float *a = oz_test_noise(N, 15, 1.0), *b = oz_test_noise(N, 16, 3.0);
    char why[256];
    oz_sci_search *sa = NULL, *sb = NULL;
    assert_int_equal(oz_sci_search_new(&cfg, a, N, OZ_TEST_FS, 0, &sa, why, sizeof why), 0);
    assert_int_equal(oz_sci_search_new(&cfg, b, N, OZ_TEST_FS, 5e9, &sb, why, sizeof why), 0);
    assert_true(oz_sci_search_flops(sa) == oz_sci_search_flops(sb));

    double base = cfg.chirp_resolution * pow(OZ_TEST_FS / cfg.fft_max, 2);
    long imax = (long)floor(cfg.chirp_max / base);
    assert_int_equal(oz_sci_search_steps(sa), 2 * imax + 1);
    uint64_t expect = 0;
    for (uint32_t L = cfg.fft_min; L <= cfg.fft_max; L *= 2) {
        long every = (long)(cfg.fft_max / L) * (long)(cfg.fft_max / L);
        uint64_t runs = 1 + 2 * (uint64_t)(imax / every);
        expect += runs * (uint64_t)N * (uint64_t)(5 * log2(L) + 3) + (runs - 1) * 6u * N;
        if (L == cfg.fft_max) /* lines: two Taylor trees of N/L rows */
            expect += runs * 2u * N * (uint64_t)log2(N / L);
    }
    assert_true(oz_sci_search_flops(sa) == expect);
    oz_sci_search_free(sa);
    oz_sci_search_free(sb);
    free(a);
    free(b);
}

static void bad_input_is_refused_with_a_reason(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_test_config_small(&cfg);
    float *iq = oz_test_noise(N, 17, 1.0);
    char why[256] = "";
    oz_sci_search *s = NULL;

    iq[2 * 1234 + 1] = NAN;
    assert_int_equal(oz_sci_search_new(&cfg, iq, N, OZ_TEST_FS, 0, &s, why, sizeof why),
                     OZ_SCI_EINVAL);
    assert_null(s);
    assert_non_null(strstr(why, "sample 1234"));
    iq[2 * 1234 + 1] = INFINITY;
    assert_int_equal(oz_sci_search_new(&cfg, iq, N, OZ_TEST_FS, 0, &s, why, sizeof why),
                     OZ_SCI_EINVAL);
    iq[2 * 1234 + 1] = 0;

    assert_int_equal(oz_sci_search_new(&cfg, iq, 1000, OZ_TEST_FS, 0, &s, why, sizeof why),
                     OZ_SCI_EINVAL);
    assert_non_null(strstr(why, "fft_max"));
    assert_int_equal(oz_sci_search_new(&cfg, iq, N, 0.0, 0, &s, why, sizeof why), OZ_SCI_EINVAL);
    assert_non_null(strstr(why, "sample rate"));
    assert_int_equal(oz_sci_search_new(&cfg, iq, N, NAN, 0, &s, why, sizeof why), OZ_SCI_EINVAL);
    assert_int_equal(oz_sci_search_new(&cfg, iq, N, OZ_TEST_FS, INFINITY, &s, why, sizeof why),
                     OZ_SCI_EINVAL);
    /* a sample so large its FFT powers would overflow float */
    iq[2 * 77] = 1e12f;
    assert_int_equal(oz_sci_search_new(&cfg, iq, N, OZ_TEST_FS, 0, &s, why, sizeof why),
                     OZ_SCI_EINVAL);
    assert_non_null(strstr(why, "sample 77"));
    iq[2 * 77] = 0;
    assert_int_equal(oz_sci_search_new(&cfg, NULL, N, OZ_TEST_FS, 0, &s, why, sizeof why),
                     OZ_SCI_EINVAL);

    oz_sci_config bad = cfg;
    bad.fft_max = 3000;
    assert_int_equal(oz_sci_search_new(&bad, iq, N, OZ_TEST_FS, 0, &s, why, sizeof why),
                     OZ_SCI_EINVAL);
    assert_non_null(strstr(why, "fft_max"));
    /* a chirp range needing more rates than the limit */
    bad = cfg;
    bad.fft_max = 131072;
    bad.chirp_max = 10; /* at 100 Hz sampling the finest step is 1e-7 Hz/s */
    float *big = oz_test_noise(131072, 1, 0.0);
    assert_int_equal(oz_sci_search_new(&bad, big, 131072, 100.0, 0, &s, why, sizeof why),
                     OZ_SCI_EINVAL);
    assert_non_null(strstr(why, "chirp"));
    free(big);

    /* stepping a finished search is an error, not a crash */
    assert_int_equal(oz_sci_search_new(&cfg, iq, N, OZ_TEST_FS, 0, &s, why, sizeof why), 0);
    assert_int_equal(oz_sci_search_run(s, NULL, NULL), 0);
    assert_int_equal(oz_sci_search_step(s), OZ_SCI_EINVAL);
    oz_sci_search_free(s);
    free(iq);
}

/* The samples are the caller's: the search leaves them as they were, and
 * a copy 8 bytes off FFTW's alignment gives the same result bit for bit. */
static void the_samples_are_read_only_and_alignment_does_not_matter(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_test_config_small(&cfg);
    float *iq = oz_test_noise(N, 21, 1.0);
    oz_tone t1 = {.freq_hz = 700.0, .amp = 0.2};
    oz_sci_add_tone(iq, N, OZ_TEST_FS, &t1);
    float *before = malloc(2 * (size_t)N * sizeof *before);
    float *shifted = malloc((2 * (size_t)N + 2) * sizeof *shifted);
    assert_non_null(before);
    assert_non_null(shifted);
    memcpy(before, iq, 2 * (size_t)N * sizeof *iq);
    memcpy(shifted + 2, iq, 2 * (size_t)N * sizeof *iq);

    oz_sci_result aligned, misaligned;
    oz_test_search(&cfg, iq, N, OZ_TEST_FS, OZ_TEST_F0, &aligned);
    assert_memory_equal(iq, before, 2 * (size_t)N * sizeof *iq);
    oz_test_search(&cfg, shifted + 2, N, OZ_TEST_FS, OZ_TEST_F0, &misaligned);
    assert_true(aligned.nsignals >= 1);
    assert_same_result(&aligned, &misaligned);
    oz_sci_result_clear(&aligned);
    oz_sci_result_clear(&misaligned);
    free(shifted);
    free(before);
    free(iq);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(steady_tones_are_found_at_their_frequency),
        cmocka_unit_test(drifting_tones_are_found_with_their_chirp),
        cmocka_unit_test(positive_frequency_and_chirp_mean_above_and_rising),
        cmocka_unit_test(a_burst_is_timed_within_one_spectrum),
        cmocka_unit_test(pure_noise_gives_no_spike),
        cmocka_unit_test(interference_overflows_cleanly),
        cmocka_unit_test(a_strong_drifting_tone_does_not_flood_the_list),
        cmocka_unit_test(a_strong_tone_gives_no_stray_signal),
        cmocka_unit_test(two_crossing_tracks_are_both_reported),
        cmocka_unit_test(resume_from_any_step_is_bit_identical),
        cmocka_unit_test(simd_paths_agree_bit_for_bit),
        cmocka_unit_test(restore_refuses_other_units_and_garbage),
        cmocka_unit_test(a_refused_restore_changes_nothing),
        cmocka_unit_test(results_stay_within_the_searched_chirp_range),
        cmocka_unit_test(flop_count_is_deterministic),
        cmocka_unit_test(bad_input_is_refused_with_a_reason),
        cmocka_unit_test(the_samples_are_read_only_and_alignment_does_not_matter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
