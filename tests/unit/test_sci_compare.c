/*
 * test_sci_compare.c - the validator's comparison (science/compare.c).
 *
 * First on hand-made results, where each tolerance (one bin, one chirp step,
 * one spectrum, compare_power_rel) is probed just inside and just outside;
 * then on real searches: one synthetic unit searched with FFTW_ESTIMATE and
 * FFTW_MEASURE plans (different arithmetic, same science) must agree, and
 * the same result with one signal moved, removed or added must not.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

#define FS OZ_TEST_FS

static double bin_hz(uint32_t L)
{
    return FS / L;
}
static double chirp_step(const oz_sci_config *c, uint32_t L)
{
    return c->chirp_resolution * bin_hz(L) * bin_hz(L);
}
static double tspec(uint32_t L)
{
    return L / FS;
}

/* A result of one signal of each type (two spikes), built by hand. */
static void sample(oz_sci_result *r)
{
    memset(r, 0, sizeof *r);
    r->nsignals = 5;
    r->signals = calloc(r->nsignals, sizeof *r->signals);
    assert_non_null(r->signals);
    oz_signal *s = r->signals;
    s[0] = (oz_signal){.type = OZ_SIG_SPIKE,
                       .fft_len = 4096,
                       .freq_hz = 1420000123.4,
                       .chirp_hz_s = 0.5,
                       .time_s = 3.2,
                       .power = 40.0,
                       .score = 40.0 / 24};
    s[1] = (oz_signal){.type = OZ_SIG_SPIKE,
                       .fft_len = 64,
                       .freq_hz = 1419998000.0,
                       .chirp_hz_s = -20.0,
                       .time_s = 50.1,
                       .power = 30.0,
                       .score = 30.0 / 24};
    s[2] = (oz_signal){.type = OZ_SIG_GAUSSIAN,
                       .fft_len = 1024,
                       .freq_hz = 1420001000.0,
                       .chirp_hz_s = 0.0,
                       .time_s = 60.0,
                       .power = 10.0,
                       .score = 1.25,
                       .sigma_s = 4.0,
                       .chisq = 1.1};
    s[3] = (oz_signal){.type = OZ_SIG_PULSE,
                       .fft_len = 256,
                       .freq_hz = 1419999000.0,
                       .chirp_hz_s = 3.0,
                       .time_s = 20.0,
                       .power = 9.0,
                       .score = 1.125,
                       .period_s = 0.5};
    s[4] = (oz_signal){.type = OZ_SIG_TRIPLET,
                       .fft_len = 512,
                       .freq_hz = 1420002000.0,
                       .chirp_hz_s = -1.0,
                       .time_s = 10.0,
                       .power = 12.0,
                       .score = 1.4,
                       .period_s = 1.5};
    r->has_best[OZ_SIG_SPIKE] = true;
    r->best[OZ_SIG_SPIKE] = s[0];
    r->flops = 123456789;
    r->cpu_s = 1.0;
    snprintf(r->kernel_version, sizeof r->kernel_version, "%s", OZ_SCI_KERNEL_VERSION);
}

static void copy(oz_sci_result *dst, const oz_sci_result *src)
{
    *dst = *src;
    dst->signals = calloc(src->nsignals + 1, sizeof *dst->signals); /* room to add one */
    assert_non_null(dst->signals);
    memcpy(dst->signals, src->signals, src->nsignals * sizeof *src->signals);
}

static void expect_agree(const oz_sci_result *a, const oz_sci_result *b, const oz_sci_config *cfg)
{
    char why[512] = "";
    int rc = oz_sci_result_compare(a, b, cfg, FS, why, sizeof why);
    if (rc != 0)
        fail_msg("expected agreement, got %d: %s", rc, why);
    rc = oz_sci_result_compare(b, a, cfg, FS, why, sizeof why);
    if (rc != 0)
        fail_msg("expected agreement (B vs A), got %d: %s", rc, why);
}

/* Both orders must disagree; the A-vs-B message must contain `word`. */
static void expect_disagree(const oz_sci_result *a, const oz_sci_result *b,
                            const oz_sci_config *cfg, const char *word)
{
    char why[512] = "";
    int rc = oz_sci_result_compare(a, b, cfg, FS, why, sizeof why);
    if (rc != OZ_SCI_EDISAGREE)
        fail_msg("expected disagreement mentioning \"%s\", got %d (%s)", word, rc, why);
    if (!strstr(why, word))
        fail_msg("message \"%s\" does not mention \"%s\"", why, word);
    assert_int_equal(oz_sci_result_compare(b, a, cfg, FS, why, sizeof why), OZ_SCI_EDISAGREE);
}

/* Applies `nudge` to signal i of a copy of the sample and compares. */
typedef void (*nudge_fn)(oz_signal *s, const oz_sci_config *cfg, double k);

static void nudge_freq(oz_signal *s, const oz_sci_config *cfg, double k)
{
    (void)cfg;
    s->freq_hz += k * bin_hz(s->fft_len);
}
static void nudge_chirp(oz_signal *s, const oz_sci_config *cfg, double k)
{
    s->chirp_hz_s += k * chirp_step(cfg, s->fft_len);
}
static void nudge_time(oz_signal *s, const oz_sci_config *cfg, double k)
{
    (void)cfg;
    s->time_s += k * tspec(s->fft_len);
}
static void nudge_power(oz_signal *s, const oz_sci_config *cfg, double k)
{
    s->power *= 1.0 + k * cfg->compare_power_rel;
}

static int compare_nudged(nudge_fn nudge, size_t i, double k, char *why, size_t whylen)
{
    oz_sci_config cfg;
    oz_sci_result a, b;
    oz_sci_config_default(&cfg);
    sample(&a);
    copy(&b, &a);
    nudge(&b.signals[i], &cfg, k);
    int rc = oz_sci_result_compare(&a, &b, &cfg, FS, why, whylen);
    int rc2 = oz_sci_result_compare(&b, &a, &cfg, FS, NULL, 0);
    assert_int_equal(rc, rc2); /* the relation is symmetric */
    oz_sci_result_clear(&a);
    oz_sci_result_clear(&b);
    return rc;
}

/* For every signal: k_in of a tolerance agrees, k_out disagrees. */
static void probe(nudge_fn nudge, double k_in, double k_out, const char *what)
{
    char why[512] = "";
    for (size_t i = 0; i < 5; i++) {
        for (int sign = -1; sign <= 1; sign += 2) {
            int rc = compare_nudged(nudge, i, sign * k_in, why, sizeof why);
            if (rc != 0)
                fail_msg("%s by %+.3g tolerances, signal %zu: rejected: %s", what, sign * k_in, i,
                         why);
            rc = compare_nudged(nudge, i, sign * k_out, why, sizeof why);
            if (rc != OZ_SCI_EDISAGREE)
                fail_msg("%s by %+.3g tolerances, signal %zu: accepted", what, sign * k_out, i);
            if (!strstr(why, "has no partner"))
                fail_msg("%s: message \"%s\" does not say which signal", what, why);
        }
    }
}

/* ---- hand-made results ------------------------------------------------------- */

static void identical_results_agree(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_sci_result a, b;
    oz_sci_config_default(&cfg);
    sample(&a);
    copy(&b, &a);
    expect_agree(&a, &b, &cfg);
    expect_agree(&a, &a, &cfg);
    oz_sci_result_clear(&a);
    oz_sci_result_clear(&b);
}

static void empty_results_agree(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_sci_result a, b;
    oz_sci_config_default(&cfg);
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    expect_agree(&a, &b, &cfg);
}

static void order_of_signals_does_not_matter(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_sci_result a, b;
    oz_sci_config_default(&cfg);
    sample(&a);
    copy(&b, &a);
    for (size_t i = 0; i < b.nsignals / 2; i++) {
        oz_signal t = b.signals[i];
        b.signals[i] = b.signals[b.nsignals - 1 - i];
        b.signals[b.nsignals - 1 - i] = t;
    }
    expect_agree(&a, &b, &cfg);
    oz_sci_result_clear(&a);
    oz_sci_result_clear(&b);
}

static void slightly_perturbed_results_agree(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_sci_result a, b;
    oz_sci_config_default(&cfg);
    sample(&a);
    copy(&b, &a);
    /* Everything at once, each at 90 % of its tolerance. */
    for (size_t i = 0; i < b.nsignals; i++) {
        double k = i % 2 ? 0.9 : -0.9;
        nudge_freq(&b.signals[i], &cfg, k);
        nudge_chirp(&b.signals[i], &cfg, -k);
        nudge_time(&b.signals[i], &cfg, k);
        nudge_power(&b.signals[i], &cfg, 0.9);
        b.signals[i].score *= 1.001;
        b.signals[i].period_s *= 1.3; /* not a compared field */
    }
    b.cpu_s = 99.0;                      /* nor are timings, */
    b.best[OZ_SIG_SPIKE].freq_hz += 1e6; /* nor the best entries */
    b.has_best[OZ_SIG_PULSE] = true;
    expect_agree(&a, &b, &cfg);
    oz_sci_result_clear(&a);
    oz_sci_result_clear(&b);
}

static void frequency_tolerance_is_one_bin(void **state)
{
    (void)state;
    probe(nudge_freq, 0.99, 2.0, "frequency");
    probe(nudge_freq, 0.99, 1.01, "frequency");
}

static void chirp_tolerance_is_one_step(void **state)
{
    (void)state;
    probe(nudge_chirp, 0.99, 2.0, "chirp");
    probe(nudge_chirp, 0.99, 1.01, "chirp");
}

static void time_tolerance_is_one_spectrum(void **state)
{
    (void)state;
    probe(nudge_time, 0.99, 2.0, "time");
    probe(nudge_time, 0.99, 1.05, "time");
}

static void power_tolerance_is_relative(void **state)
{
    (void)state;
    probe(nudge_power, 0.95, 2.0, "power");
    probe(nudge_power, 0.95, 1.1, "power");
}

static void message_names_the_signal_without_partner(void **state)
{
    (void)state;
    char why[512] = "";
    int rc = compare_nudged(nudge_freq, 0, 2.0, why, sizeof why);
    assert_int_equal(rc, OZ_SCI_EDISAGREE);
    if (!strstr(why, "spike at 1420000123.4 Hz (L=4096, t=3.2 s) in A has no partner in B"))
        fail_msg("message: %s", why);
}

static void removed_signal_is_rejected(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_sci_result a, b;
    oz_sci_config_default(&cfg);
    for (size_t i = 0; i < 5; i++) {
        sample(&a);
        copy(&b, &a);
        b.signals[i] = b.signals[b.nsignals - 1];
        b.nsignals--;
        expect_disagree(&a, &b, &cfg, "in A has no partner in B");
        oz_sci_result_clear(&a);
        oz_sci_result_clear(&b);
    }
}

static void added_signal_is_rejected(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_sci_result a, b;
    oz_sci_config_default(&cfg);
    sample(&a);
    copy(&b, &a);
    b.signals[b.nsignals] = (oz_signal){.type = OZ_SIG_TRIPLET,
                                        .fft_len = 128,
                                        .freq_hz = 1420003000.0,
                                        .time_s = 5.0,
                                        .power = 10,
                                        .score = 1.2,
                                        .period_s = 0.3};
    b.nsignals++;
    expect_disagree(&a, &b, &cfg,
                    "triplet at 1420003000.0 Hz (L=128, t=5.0 s) in B has no "
                    "partner in A");
    oz_sci_result_clear(&a);
    oz_sci_result_clear(&b);
}

/* A duplicate next to a signal has partners both ways; only the counts
 * tell the results apart. */
static void added_duplicate_is_caught_by_counts(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_sci_result a, b;
    oz_sci_config_default(&cfg);
    sample(&a);
    copy(&b, &a);
    b.signals[b.nsignals] = b.signals[2];
    b.signals[b.nsignals].freq_hz += 0.5 * bin_hz(b.signals[2].fft_len);
    b.nsignals++;
    expect_disagree(&a, &b, &cfg, "counts differ: A has 1 gaussian signals, B has 2");
    oz_sci_result_clear(&a);
    oz_sci_result_clear(&b);
}

static void same_place_other_type_or_length_is_rejected(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_sci_result a, b;
    oz_sci_config_default(&cfg);
    sample(&a);
    copy(&b, &a);
    b.signals[3].type = OZ_SIG_TRIPLET; /* the pulse, as a triplet */
    expect_disagree(&a, &b, &cfg, "pulse at");
    oz_sci_result_clear(&b);
    copy(&b, &a);
    b.signals[0].fft_len = 2048;
    expect_disagree(&a, &b, &cfg, "L=4096");
    oz_sci_result_clear(&a);
    oz_sci_result_clear(&b);
}

static void overflow_mismatch_is_rejected(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_sci_result a, b;
    oz_sci_config_default(&cfg);
    sample(&a);
    copy(&b, &a);
    b.overflow = true;
    expect_disagree(&a, &b, &cfg, "overflow");
    a.overflow = true;
    expect_agree(&a, &b, &cfg);
    oz_sci_result_clear(&a);
    oz_sci_result_clear(&b);
}

static void tolerances_follow_the_configuration(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_sci_result a, b;
    oz_sci_config_default(&cfg);
    sample(&a);
    copy(&b, &a);
    b.signals[1].power *= 1.05;
    expect_disagree(&a, &b, &cfg, "spike at");
    cfg.compare_power_rel = 0.1;
    expect_agree(&a, &b, &cfg);
    b.signals[1].chirp_hz_s += 1.5 * chirp_step(&cfg, 64);
    expect_disagree(&a, &b, &cfg, "spike at");
    cfg.chirp_resolution *= 2;
    expect_agree(&a, &b, &cfg);
    oz_sci_result_clear(&a);
    oz_sci_result_clear(&b);
}

static void bad_arguments_are_einval(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_sci_result a;
    char why[256];
    oz_sci_config_default(&cfg);
    memset(&a, 0, sizeof a);
    assert_int_equal(oz_sci_result_compare(&a, &a, &cfg, 0.0, why, sizeof why), OZ_SCI_EINVAL);
    assert_int_equal(oz_sci_result_compare(&a, &a, &cfg, NAN, why, sizeof why), OZ_SCI_EINVAL);
    assert_int_equal(oz_sci_result_compare(&a, NULL, &cfg, FS, why, sizeof why), OZ_SCI_EINVAL);
    assert_int_equal(oz_sci_result_compare(&a, &a, NULL, FS, why, sizeof why), OZ_SCI_EINVAL);
}

/* ---- real searches ----------------------------------------------------------- */

#define N 65536u

/* A unit with two steady tones and one drifting tone in unit noise. */
static float *unit_with_tones(void)
{
    float *iq = oz_test_noise(N, 42, 1.0);
    oz_tone t1 = {.freq_hz = 1234.5, .amp = 0.25};
    oz_tone t2 = {.freq_hz = -2500.25, .amp = 0.2};
    oz_tone t3 = {.freq_hz = 300.0, .chirp_hz_s = 2.5, .amp = 0.3};
    oz_sci_add_tone(iq, N, FS, &t1);
    oz_sci_add_tone(iq, N, FS, &t2);
    oz_sci_add_tone(iq, N, FS, &t3);
    return iq;
}

static void search(oz_fft_planner planner, const float *iq, oz_sci_config *cfg, oz_sci_result *r)
{
    oz_test_config_small(cfg);
    cfg->planner = planner;
    oz_test_search(cfg, iq, N, FS, OZ_TEST_F0, r);
}

static void estimate_and_measure_plans_agree(void **state)
{
    (void)state;
    float *iq = unit_with_tones();
    oz_sci_config cfg;
    oz_sci_result a, b;
    char why[512] = "";
    search(OZ_FFT_ESTIMATE, iq, &cfg, &a);
    search(OZ_FFT_MEASURE, iq, &cfg, &b);
    if (a.nsignals < 3) {
        oz_test_dump(&a);
        fail_msg("expected at least the three tones, got %zu signals", a.nsignals);
    }
    int rc = oz_sci_result_compare(&a, &b, &cfg, FS, why, sizeof why);
    if (rc != 0) {
        oz_test_dump(&a);
        oz_test_dump(&b);
        fail_msg("ESTIMATE and MEASURE disagree: %s", why);
    }
    /* And through the wire format, as the validator sees them. */
    json_t *ja = oz_sci_result_to_json(&a);
    assert_non_null(ja);
    oz_sci_result a2;
    if (oz_sci_result_from_json(ja, &a2, why, sizeof why) != 0)
        fail_msg("the kernel's own result is refused by the parser: %s", why);
    json_decref(ja);
    if (oz_sci_result_compare(&a2, &b, &cfg, FS, why, sizeof why) != 0)
        fail_msg("after JSON: %s", why);
    oz_sci_result_clear(&a2);
    oz_sci_result_clear(&a);
    oz_sci_result_clear(&b);
    free(iq);
}

static void search_result_with_a_changed_signal_is_rejected(void **state)
{
    (void)state;
    float *iq = unit_with_tones();
    oz_sci_config cfg;
    oz_sci_result a, b;
    search(OZ_FFT_ESTIMATE, iq, &cfg, &a);
    assert_true(a.nsignals >= 1);
    const oz_signal *s0 = &a.signals[0];

    /* Moved by two bins. */
    copy(&b, &a);
    b.signals[0].freq_hz += 2 * bin_hz(s0->fft_len);
    expect_disagree(&a, &b, &cfg, "has no partner");
    oz_sci_result_clear(&b);

    /* Moved in time by two spectra, in chirp by two steps, in power by 5 %. */
    copy(&b, &a);
    b.signals[0].time_s += 2 * tspec(s0->fft_len);
    expect_disagree(&a, &b, &cfg, "has no partner");
    oz_sci_result_clear(&b);
    copy(&b, &a);
    b.signals[0].chirp_hz_s += 2 * chirp_step(&cfg, s0->fft_len);
    expect_disagree(&a, &b, &cfg, "has no partner");
    oz_sci_result_clear(&b);
    copy(&b, &a);
    b.signals[0].power *= 1.05;
    expect_disagree(&a, &b, &cfg, "has no partner");
    oz_sci_result_clear(&b);

    /* Removed. */
    copy(&b, &a);
    b.signals[0] = b.signals[b.nsignals - 1];
    b.nsignals--;
    expect_disagree(&a, &b, &cfg, "in A has no partner in B");
    oz_sci_result_clear(&b);

    /* Added: a copy of the first, 100 bins away. */
    copy(&b, &a);
    b.signals[b.nsignals] = b.signals[0];
    b.signals[b.nsignals].freq_hz += 100 * bin_hz(s0->fft_len);
    b.nsignals++;
    expect_disagree(&a, &b, &cfg, "in B has no partner in A");
    oz_sci_result_clear(&b);

    oz_sci_result_clear(&a);
    free(iq);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(identical_results_agree),
        cmocka_unit_test(empty_results_agree),
        cmocka_unit_test(order_of_signals_does_not_matter),
        cmocka_unit_test(slightly_perturbed_results_agree),
        cmocka_unit_test(frequency_tolerance_is_one_bin),
        cmocka_unit_test(chirp_tolerance_is_one_step),
        cmocka_unit_test(time_tolerance_is_one_spectrum),
        cmocka_unit_test(power_tolerance_is_relative),
        cmocka_unit_test(message_names_the_signal_without_partner),
        cmocka_unit_test(removed_signal_is_rejected),
        cmocka_unit_test(added_signal_is_rejected),
        cmocka_unit_test(added_duplicate_is_caught_by_counts),
        cmocka_unit_test(same_place_other_type_or_length_is_rejected),
        cmocka_unit_test(overflow_mismatch_is_rejected),
        cmocka_unit_test(tolerances_follow_the_configuration),
        cmocka_unit_test(bad_arguments_are_einval),
        cmocka_unit_test(estimate_and_measure_plans_agree),
        cmocka_unit_test(search_result_with_a_changed_signal_is_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
