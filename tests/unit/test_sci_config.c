/*
 * test_sci_config.c - the analysis configuration (science/config.c): defaults,
 * the range checks, and the strict JSON overlay.
 *
 * Every check rule has a case that breaks exactly one field and expects a
 * message naming that field, so a rule that stops firing fails a test.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

/* Asserts that cfg fails the check with a message containing each of the
 * given words. */
static void expect_bad(const oz_sci_config *cfg, const char *word1, const char *word2)
{
    char why[256] = "";
    int rc = oz_sci_config_check(cfg, why, sizeof why);
    if (rc != OZ_SCI_EINVAL)
        fail_msg("expected EINVAL for %s, got %d (%s)", word1, rc, why);
    if (!strstr(why, word1) || (word2 && !strstr(why, word2)))
        fail_msg("message \"%s\" does not mention \"%s\" and \"%s\"", why, word1,
                 word2 ? word2 : "");
}

/* Field by field: struct padding makes memcmp unreliable. */
static void assert_same_config(const oz_sci_config *a, const oz_sci_config *b)
{
#define SAME_U(f) assert_int_equal(a->f, b->f)
#define SAME_D(f)                                                                                  \
    do {                                                                                           \
        if (a->f != b->f)                                                                          \
            fail_msg(#f ": %.17g != %.17g", a->f, b->f);                                           \
    } while (0)
    SAME_U(fft_min);
    SAME_U(fft_max);
    SAME_D(chirp_max);
    SAME_D(chirp_resolution);
    SAME_D(spike_thresh);
    SAME_U(gauss_fft_max);
    SAME_U(gauss_pot_len);
    SAME_D(gauss_sigma_s);
    SAME_D(gauss_snr_thresh);
    SAME_D(gauss_chisq_max);
    SAME_D(gauss_null_chisq_min);
    SAME_U(pulse_fft_max);
    SAME_U(pulse_pot_len);
    SAME_U(pulse_period_min);
    SAME_D(pulse_thresh);
    SAME_U(triplet_fft_max);
    SAME_D(triplet_thresh);
    SAME_U(triplet_max_peaks);
    SAME_U(max_signals);
    SAME_D(compare_power_rel);
    SAME_U(planner);
    for (unsigned j = 0; j < OZ_SCI_NLENS; j++)
        SAME_D(chirp_limit[j]);
    SAME_U(bsmooth_boxcar);
    SAME_U(bsmooth_chunk);
    SAME_U(mode);
    SAME_D(seti.angle_range);
    SAME_D(seti.beam_width);
    SAME_D(seti.autocorr_thresh);
    SAME_U(seti.autocorr_fftlen);
    SAME_D(seti.gauss_null_chi_sq_thresh);
    SAME_D(seti.gauss_chi_sq_thresh);
    SAME_D(seti.gauss_power_thresh);
    SAME_D(seti.gauss_peak_power_thresh);
    SAME_U(seti.gauss_pot_length);
    SAME_D(seti.pulse_thresh);
    SAME_D(seti.pulse_display_thresh);
    SAME_U(seti.pulse_max);
    SAME_U(seti.pulse_min);
    SAME_U(seti.pulse_fft_max);
    SAME_U(seti.pulse_pot_length);
    SAME_D(seti.pulse_beams);
    SAME_D(seti.triplet_thresh);
    SAME_U(seti.triplet_max);
    SAME_U(seti.triplet_min);
    SAME_U(seti.triplet_pot_length);
    SAME_D(seti.pot_overlap_factor);
    SAME_D(seti.pot_t_offset);
    SAME_D(seti.pot_min_slew);
    SAME_D(seti.pot_max_slew);
#undef SAME_U
#undef SAME_D
}

/* Breaks the defaults with `change` (an expression on a config named c) and
 * expects the check to fail naming word1 (and word2). */
#define EXPECT_BAD(change, word1, word2)                                                           \
    do {                                                                                           \
        oz_sci_config c;                                                                           \
        oz_sci_config_default(&c);                                                                 \
        change;                                                                                    \
        expect_bad(&c, word1, word2);                                                              \
    } while (0)

/* Changes the defaults and expects the check to pass. */
#define EXPECT_GOOD(change)                                                                        \
    do {                                                                                           \
        oz_sci_config c;                                                                           \
        char why_[256] = "";                                                                       \
        oz_sci_config_default(&c);                                                                 \
        change;                                                                                    \
        if (oz_sci_config_check(&c, why_, sizeof why_) != 0)                                       \
            fail_msg("%s rejected: %s", #change, why_);                                            \
    } while (0)

/* Overlays JSON text onto the defaults; returns the code and leaves why. */
static int overlay(const char *text, oz_sci_config *cfg, char *why, size_t whylen)
{
    json_error_t err;
    json_t *obj = json_loads(text, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    if (!obj)
        fail_msg("test JSON does not parse: %s: %s", text, err.text);
    int rc = oz_sci_config_from_json(obj, cfg, why, whylen);
    json_decref(obj);
    return rc;
}

/* Overlays text onto the defaults, expects rejection with code and a message
 * naming `word`, and the config left unchanged. */
static void expect_json_bad(const char *text, int code, const char *word)
{
    oz_sci_config cfg, before;
    char why[256] = "";
    oz_sci_config_default(&cfg);
    before = cfg;
    int rc = overlay(text, &cfg, why, sizeof why);
    if (rc != code)
        fail_msg("%s: expected %d, got %d (%s)", text, code, rc, why);
    if (!strstr(why, word))
        fail_msg("%s: message \"%s\" does not mention \"%s\"", text, why, word);
    assert_same_config(&cfg, &before);
}

static void defaults_are_seti_like_and_pass_check(void **state)
{
    (void)state;
    oz_sci_config cfg;
    char why[256] = "";
    oz_sci_config_default(&cfg);
    assert_int_equal(cfg.fft_min, 8);
    assert_int_equal(cfg.fft_max, 131072);
    assert_true(cfg.chirp_max == 100.0);
    assert_true(cfg.chirp_resolution == 0.1665);
    assert_int_equal(cfg.max_signals, 30);
    assert_true(cfg.compare_power_rel == 0.01);
    assert_int_equal(cfg.planner, OZ_FFT_ESTIMATE);
    if (oz_sci_config_check(&cfg, why, sizeof why) != 0)
        fail_msg("defaults rejected: %s", why);
}

static void small_test_config_passes_check(void **state)
{
    (void)state;
    oz_sci_config cfg;
    char why[256] = "";
    oz_test_config_small(&cfg);
    if (oz_sci_config_check(&cfg, why, sizeof why) != 0)
        fail_msg("small config rejected: %s", why);
}

static void defaults_round_trip_through_json(void **state)
{
    (void)state;
    oz_sci_config cfg, back;
    char why[256] = "";
    oz_sci_config_default(&cfg);
    json_t *obj = oz_sci_config_to_json(&cfg);
    assert_non_null(obj);
    /* Through text too, as a config travels in a unit header. */
    char *text = json_dumps(obj, JSON_COMPACT);
    assert_non_null(text);
    json_decref(obj);
    json_error_t err;
    obj = json_loads(text, 0, &err);
    assert_non_null(obj);
    free(text);

    /* Overlay onto a different config: every key must be written and read. */
    oz_test_config_small(&back);
    back.planner = OZ_FFT_PATIENT;
    back.max_signals = 5;
    if (oz_sci_config_from_json(obj, &back, why, sizeof why) != 0)
        fail_msg("round trip rejected: %s", why);
    json_decref(obj);
    assert_same_config(&back, &cfg);
}

static void non_default_values_round_trip_through_json(void **state)
{
    (void)state;
    oz_sci_config cfg, back;
    char why[256] = "";
    oz_sci_config_default(&cfg);
    cfg.fft_min = 32;
    cfg.fft_max = 2048;
    cfg.chirp_max = 0.1 + 0.2; /* not exactly representable */
    cfg.gauss_fft_max = 0;
    cfg.pulse_period_min = 7;
    cfg.planner = OZ_FFT_MEASURE;
    cfg.compare_power_rel = 1.0 / 3.0;
    json_t *obj = oz_sci_config_to_json(&cfg);
    assert_non_null(obj);
    assert_string_equal(json_string_value(json_object_get(obj, "planner")), "measure");
    oz_sci_config_default(&back);
    if (oz_sci_config_from_json(obj, &back, why, sizeof why) != 0)
        fail_msg("round trip rejected: %s", why);
    json_decref(obj);
    assert_same_config(&back, &cfg);
}

static void to_json_writes_every_key(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_sci_config_default(&cfg);
    json_t *obj = oz_sci_config_to_json(&cfg);
    assert_non_null(obj);
    const char *keys[] = {"fft_min",
                          "fft_max",
                          "chirp_max",
                          "chirp_resolution",
                          "spike_thresh",
                          "gauss_fft_max",
                          "gauss_pot_len",
                          "gauss_sigma_s",
                          "gauss_snr_thresh",
                          "gauss_chisq_max",
                          "gauss_null_chisq_min",
                          "pulse_fft_max",
                          "pulse_pot_len",
                          "pulse_period_min",
                          "pulse_thresh",
                          "triplet_fft_max",
                          "triplet_thresh",
                          "triplet_max_peaks",
                          "line_pfa",
                          "line_half_bin",
                          "max_signals",
                          "compare_power_rel",
                          "bsmooth_boxcar",
                          "bsmooth_chunk",
                          "mode",
                          "planner"};
    size_t nkeys = sizeof keys / sizeof keys[0];
    for (size_t i = 0; i < nkeys; i++)
        if (!json_object_get(obj, keys[i]))
            fail_msg("to_json lacks %s", keys[i]);
    assert_int_equal(json_object_size(obj), nkeys);
    json_decref(obj);
}

/* jansson's allocator, failing after a budget of allocations. */
static int alloc_budget;
static void *failing_malloc(size_t n)
{
    return alloc_budget-- > 0 ? malloc(n) : NULL;
}

static void to_json_returns_null_when_any_allocation_fails(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_sci_config_default(&cfg);
    int budget;
    for (budget = 0; budget < 10000; budget++) {
        alloc_budget = budget;
        json_set_alloc_funcs(failing_malloc, free);
        json_t *j = oz_sci_config_to_json(&cfg);
        json_set_alloc_funcs(malloc, free);
        if (j) { /* enough allocations at last; under ASan no earlier try leaked */
            json_decref(j);
            break;
        }
    }
    assert_true(budget > 10 && budget < 10000);
}

static void fft_lengths_must_be_powers_of_two_in_range(void **state)
{
    (void)state;
    EXPECT_BAD(c.fft_max = 3000, "fft_max", "3000 is not a power of two");
    EXPECT_BAD(c.fft_min = 48, "fft_min", "power of two");
    EXPECT_BAD(c.fft_min = 4, "fft_min", "smallest");
    EXPECT_BAD(c.fft_min = 0, "fft_min", NULL);
    EXPECT_BAD(c.fft_max = 262144, "fft_max", "largest");
    EXPECT_BAD((c.fft_min = 4096, c.fft_max = 1024), "fft_min", "larger than fft_max");
}

static void chirp_range_and_resolution_are_bounded(void **state)
{
    (void)state;
    EXPECT_BAD(c.chirp_max = -1, "chirp_max", NULL);
    EXPECT_BAD(c.chirp_max = 1000.5, "chirp_max", "at most 1000");
    EXPECT_BAD(c.chirp_max = INFINITY, "chirp_max", "finite");
    EXPECT_BAD(c.chirp_max = NAN, "chirp_max", NULL);
    EXPECT_BAD(c.chirp_resolution = 0, "chirp_resolution", NULL);
    EXPECT_BAD(c.chirp_resolution = 10.5, "chirp_resolution", NULL);
    EXPECT_BAD(c.chirp_resolution = NAN, "chirp_resolution", NULL);
    /* The edges are allowed. */
    EXPECT_GOOD((c.chirp_max = 0, c.chirp_resolution = 10));
    EXPECT_GOOD(c.chirp_max = OZ_SCI_CHIRP_MAX);
}

static void thresholds_must_be_finite_and_positive(void **state)
{
    (void)state;
    EXPECT_BAD(c.spike_thresh = 0, "spike_thresh", "greater than 0");
    EXPECT_BAD(c.spike_thresh = -24, "spike_thresh", NULL);
    EXPECT_BAD(c.spike_thresh = INFINITY, "spike_thresh", NULL);
    EXPECT_BAD(c.gauss_snr_thresh = NAN, "gauss_snr_thresh", NULL);
    EXPECT_BAD(c.gauss_chisq_max = 0, "gauss_chisq_max", NULL);
    EXPECT_BAD(c.gauss_null_chisq_min = -1, "gauss_null_chisq_min", NULL);
    EXPECT_BAD(c.pulse_thresh = 0, "pulse_thresh", NULL);
    EXPECT_BAD(c.triplet_thresh = -0.5, "triplet_thresh", NULL);
    EXPECT_BAD(c.gauss_sigma_s = 0, "gauss_sigma_s", NULL);
}

static void detector_lengths_are_zero_or_powers_of_two(void **state)
{
    (void)state;
    EXPECT_GOOD((c.gauss_fft_max = 0, c.pulse_fft_max = 0, c.triplet_fft_max = 0));
    EXPECT_BAD(c.gauss_fft_max = 1000, "gauss_fft_max", "power of two");
    EXPECT_BAD(c.pulse_fft_max = 4, "pulse_fft_max", NULL);
    EXPECT_BAD(c.triplet_fft_max = 1u << 20, "triplet_fft_max", NULL);
}

static void detector_sizes_are_bounded(void **state)
{
    (void)state;
    EXPECT_BAD(c.gauss_pot_len = 7, "gauss_pot_len", "at least 8");
    EXPECT_BAD(c.gauss_pot_len = 1025, "gauss_pot_len", "1024");
    EXPECT_BAD(c.pulse_pot_len = 15, "pulse_pot_len", "16");
    EXPECT_BAD(c.pulse_pot_len = 4097, "pulse_pot_len", "4096");
    EXPECT_BAD(c.pulse_period_min = 1, "pulse_period_min", "at least 2");
    EXPECT_BAD((c.pulse_pot_len = 30, c.pulse_period_min = 11), "pulse_period_min",
               "pulse_pot_len/3 = 10");
    EXPECT_GOOD((c.pulse_pot_len = 30, c.pulse_period_min = 10));
    EXPECT_BAD(c.triplet_max_peaks = 2, "triplet_max_peaks", NULL);
    EXPECT_BAD(c.triplet_max_peaks = 4097, "triplet_max_peaks", NULL);
}

static void signal_cap_and_compare_tolerance_are_bounded(void **state)
{
    (void)state;
    EXPECT_BAD(c.max_signals = 0, "max_signals", NULL);
    EXPECT_BAD(c.max_signals = OZ_SCI_SIGNALS_MAX + 1, "max_signals", "1000");
    EXPECT_BAD(c.compare_power_rel = 0, "compare_power_rel", NULL);
    EXPECT_BAD(c.compare_power_rel = 1.5, "compare_power_rel", NULL);
    EXPECT_BAD(c.planner = (oz_fft_planner)7, "planner", NULL);
}

static void json_overlay_changes_only_present_keys(void **state)
{
    (void)state;
    oz_sci_config cfg, want;
    char why[256] = "";
    oz_sci_config_default(&cfg);
    want = cfg;
    want.fft_max = 4096;
    want.chirp_max = 2.0; /* given as an integer: accepted for a double */
    want.spike_thresh = 30.5;
    want.planner = OZ_FFT_MEASURE;
    int rc = overlay("{\"fft_max\": 4096, \"chirp_max\": 2, \"spike_thresh\": 30.5,"
                     " \"planner\": \"measure\"}",
                     &cfg, why, sizeof why);
    if (rc != 0)
        fail_msg("overlay rejected: %s", why);
    assert_same_config(&cfg, &want);
    /* The empty object changes nothing. */
    assert_int_equal(overlay("{}", &cfg, why, sizeof why), 0);
    assert_same_config(&cfg, &want);
}

static void json_unknown_key_is_rejected(void **state)
{
    (void)state;
    expect_json_bad("{\"fft_mxa\": 4096}", OZ_SCI_EPARSE, "unknown key \"fft_mxa\"");
    expect_json_bad("{\"fft_max\": 4096, \"extra\": 1}", OZ_SCI_EPARSE, "extra");
}

static void json_wrong_types_are_rejected(void **state)
{
    (void)state;
    expect_json_bad("{\"fft_max\": \"4096\"}", OZ_SCI_EPARSE, "fft_max: expected an integer");
    expect_json_bad("{\"fft_max\": 4096.0}", OZ_SCI_EPARSE, "fft_max");
    expect_json_bad("{\"max_signals\": true}", OZ_SCI_EPARSE, "max_signals");
    expect_json_bad("{\"chirp_max\": \"2\"}", OZ_SCI_EPARSE, "chirp_max: expected a number");
    expect_json_bad("{\"chirp_max\": null}", OZ_SCI_EPARSE, "chirp_max");
    expect_json_bad("{\"planner\": 1}", OZ_SCI_EPARSE, "planner");
    expect_json_bad("{\"planner\": \"fast\"}", OZ_SCI_EINVAL, "\"fast\"");
    expect_json_bad("{\"planner\": \"estimate\\u0000x\"}", OZ_SCI_EINVAL, "planner");
}

static void json_negative_and_huge_integers_are_rejected(void **state)
{
    (void)state;
    expect_json_bad("{\"fft_min\": -8}", OZ_SCI_EINVAL, "fft_min: -8 is negative");
    expect_json_bad("{\"fft_max\": 4294967296}", OZ_SCI_EINVAL, "fft_max: 4294967296 is too large");
    expect_json_bad("{\"max_signals\": 9223372036854775807}", OZ_SCI_EINVAL, "max_signals");
    /* Wraps to 64 if truncated to 32 bits; must not be accepted. */
    expect_json_bad("{\"fft_min\": 4294967360}", OZ_SCI_EINVAL, "fft_min");
}

static void json_values_are_range_checked(void **state)
{
    (void)state;
    expect_json_bad("{\"fft_max\": 3000}", OZ_SCI_EINVAL, "fft_max: 3000 is not a power of two");
    expect_json_bad("{\"chirp_max\": 1e300}", OZ_SCI_EINVAL, "chirp_max");
    expect_json_bad("{\"fft_min\": 8192, \"fft_max\": 4096}", OZ_SCI_EINVAL, "fft_min");
    /* A later valid key does not rescue an earlier bad one. */
    expect_json_bad("{\"spike_thresh\": -1, \"fft_max\": 4096}", OZ_SCI_EINVAL, "spike_thresh");
}

static void json_non_object_is_rejected(void **state)
{
    (void)state;
    expect_json_bad("[1, 2]", OZ_SCI_EPARSE, "object");
    expect_json_bad("42", OZ_SCI_EPARSE, "object");
    oz_sci_config cfg;
    char why[128] = "";
    oz_sci_config_default(&cfg);
    assert_int_equal(oz_sci_config_from_json(NULL, &cfg, why, sizeof why), OZ_SCI_EPARSE);
}

/* The seti mode's keys: a whole v8 configuration survives JSON, an Ozma one
 * carries none of them. */
static void seti_mode_round_trips_and_ozma_mode_omits_it(void **state)
{
    (void)state;
    oz_sci_config cfg, back;
    char why[256] = "";
    oz_sci_config_default(&cfg);
    json_t *plain = oz_sci_config_to_json(&cfg);
    assert_null(json_object_get(plain, "seti"));
    assert_string_equal(json_string_value(json_object_get(plain, "mode")), "ozma");
    assert_null(json_object_get(plain, "chirp_limit"));
    json_decref(plain);

    cfg.mode = OZ_MODE_SETI;
    cfg.seti.angle_range = 0.775;
    cfg.seti.pulse_thresh = 19.5;
    cfg.seti.triplet_min = 17;
    cfg.chirp_limit[14] = 20.0; /* 131072 */
    cfg.chirp_limit[12] = 50.0; /* 32768 */
    cfg.bsmooth_boxcar = 8192;
    cfg.bsmooth_chunk = 32768;
    assert_int_equal(oz_sci_config_check(&cfg, why, sizeof why), 0);
    json_t *obj = oz_sci_config_to_json(&cfg);
    assert_non_null(obj);
    assert_string_equal(json_string_value(json_object_get(obj, "mode")), "seti");
    assert_true(json_real_value(json_object_get(json_object_get(obj, "chirp_limit"), "32768")) ==
                50.0);
    oz_sci_config_default(&back);
    assert_int_equal(oz_sci_config_from_json(obj, &back, why, sizeof why), 0);
    assert_same_config(&cfg, &back);
    assert_true(oz_sci_chirp_limit(&back, 131072) == 20.0);
    assert_true(oz_sci_chirp_limit(&back, 8) == back.chirp_max);
    json_decref(obj);
}

static void seti_mode_keys_are_checked(void **state)
{
    (void)state;
    expect_json_bad("{\"mode\": \"boinc\"}", OZ_SCI_EINVAL, "mode");
    expect_json_bad("{\"mode\": 1}", OZ_SCI_EPARSE, "mode");
    expect_json_bad("{\"chirp_limit\": {\"1000\": 5}}", OZ_SCI_EINVAL, "\"1000\"");
    expect_json_bad("{\"chirp_limit\": {\"64\": \"x\"}}", OZ_SCI_EPARSE, "chirp_limit.64");
    expect_json_bad("{\"chirp_limit\": {\"64\": -1}}", OZ_SCI_EINVAL, "chirp_limit.64");
    expect_json_bad("{\"seti\": {\"spike_thresh\": 3}}", OZ_SCI_EPARSE, "seti: unknown key");
    expect_json_bad("{\"mode\": \"seti\", \"seti\": {\"beam_width\": 0}}", OZ_SCI_EINVAL,
                    "seti.beam_width");
    expect_json_bad("{\"mode\": \"seti\", \"seti\": {\"pulse_min\": 50000}}", OZ_SCI_EINVAL,
                    "seti.pulse_max");
    EXPECT_GOOD(c.bsmooth_boxcar = 0; c.bsmooth_chunk = 32768); /* off */
    expect_json_bad("{\"bsmooth_boxcar\": 8192, \"bsmooth_chunk\": 1000}", OZ_SCI_EINVAL,
                    "bsmooth_chunk");
    expect_json_bad("{\"bsmooth_boxcar\": 65536, \"bsmooth_chunk\": 32768}", OZ_SCI_EINVAL,
                    "bsmooth_boxcar");
    /* Ozma's own search pairs its rates on fft_max: it must reach furthest. */
    expect_json_bad("{\"chirp_limit\": {\"8\": 150}}", OZ_SCI_EINVAL, "chirp_limit");
    EXPECT_GOOD(c.mode = OZ_MODE_SETI; c.chirp_limit[0] = 150);
    EXPECT_GOOD(c.chirp_limit[0] = 50);
}

static void why_may_be_null_or_short(void **state)
{
    (void)state;
    oz_sci_config c;
    char tiny[8];
    oz_sci_config_default(&c);
    c.fft_max = 3000;
    assert_int_equal(oz_sci_config_check(&c, NULL, 0), OZ_SCI_EINVAL);
    assert_int_equal(oz_sci_config_check(&c, tiny, sizeof tiny), OZ_SCI_EINVAL);
    assert_int_equal(strlen(tiny), sizeof tiny - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_are_seti_like_and_pass_check),
        cmocka_unit_test(small_test_config_passes_check),
        cmocka_unit_test(defaults_round_trip_through_json),
        cmocka_unit_test(non_default_values_round_trip_through_json),
        cmocka_unit_test(to_json_writes_every_key),
        cmocka_unit_test(to_json_returns_null_when_any_allocation_fails),
        cmocka_unit_test(fft_lengths_must_be_powers_of_two_in_range),
        cmocka_unit_test(chirp_range_and_resolution_are_bounded),
        cmocka_unit_test(thresholds_must_be_finite_and_positive),
        cmocka_unit_test(detector_lengths_are_zero_or_powers_of_two),
        cmocka_unit_test(detector_sizes_are_bounded),
        cmocka_unit_test(signal_cap_and_compare_tolerance_are_bounded),
        cmocka_unit_test(json_overlay_changes_only_present_keys),
        cmocka_unit_test(json_unknown_key_is_rejected),
        cmocka_unit_test(json_wrong_types_are_rejected),
        cmocka_unit_test(json_negative_and_huge_integers_are_rejected),
        cmocka_unit_test(json_values_are_range_checked),
        cmocka_unit_test(json_non_object_is_rejected),
        cmocka_unit_test(seti_mode_round_trips_and_ozma_mode_omits_it),
        cmocka_unit_test(seti_mode_keys_are_checked),
        cmocka_unit_test(why_may_be_null_or_short),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
