/*
 * test_sci_plan.c - the FLOP count of a plan without a search
 * (oz_sci_plan_flops, what the scheduler asks when it loads units) is the
 * count a real search of the same unit reports, in Ozma's mode and the seti
 * mode, for configurations that exercise each part of the plan; and it
 * refuses what oz_sci_search_new refuses, with the same sentence.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

#define N 65536u
#define FS OZ_TEST_FS
#define F0 OZ_TEST_F0

/* oz_sci_search_new on n samples of noise: its return code, its sentence,
 * and the search's FLOP count when it made one. */
static int search_flops(const oz_sci_config *cfg, size_t n, double fs, double f0, uint64_t *flops,
                        char *why, size_t whylen)
{
    float *iq = oz_test_noise(n, 7, 1.0);
    oz_sci_search *s = NULL;
    int rc = oz_sci_search_new(cfg, iq, n, fs, f0, &s, why, whylen);
    *flops = rc == OZ_SCI_OK ? oz_sci_search_flops(s) : 0;
    oz_sci_search_free(s);
    free(iq);
    return rc;
}

/* The plan's count, checked against a search's. */
static uint64_t assert_plan_matches(const oz_sci_config *cfg, size_t n, double fs, const char *what)
{
    char why[256] = "", swhy[256] = "";
    uint64_t planned = 0, searched = 0;
    int rc = oz_sci_plan_flops(cfg, n, fs, F0, &planned, why, sizeof why);
    if (rc != OZ_SCI_OK)
        fail_msg("%s: oz_sci_plan_flops: %s (%s)", what, oz_sci_strerror(rc), why);
    rc = search_flops(cfg, n, fs, F0, &searched, swhy, sizeof swhy);
    if (rc != OZ_SCI_OK)
        fail_msg("%s: oz_sci_search_new: %s (%s)", what, oz_sci_strerror(rc), swhy);
    if (planned == 0 || planned != searched)
        fail_msg("%s: the plan counts %llu FLOPs, the search %llu", what,
                 (unsigned long long)planned, (unsigned long long)searched);
    return planned;
}

static void assert_both_refuse(const oz_sci_config *cfg, size_t n, double fs, double f0,
                               const char *what)
{
    char why[256] = "", swhy[256] = "";
    uint64_t planned = 1, searched = 0;
    int rc = oz_sci_plan_flops(cfg, n, fs, f0, &planned, why, sizeof why);
    int src = search_flops(cfg, n, fs, f0, &searched, swhy, sizeof swhy);
    if (src == OZ_SCI_OK || rc != src || strcmp(why, swhy) != 0)
        fail_msg("%s: the plan says %d (%s), the search %d (%s)", what, rc, why, src, swhy);
    assert_true(planned == 0);
}

/* Ozma's mode: every length and rate, the detectors' own work (the lines'
 * Taylor trees, with half-bin spectra or not, or no lines), per-length
 * limits, a unit long enough for the default plan, and other rates. */
static void ozma_mode_plan_counts_what_a_search_counts(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_test_config_small(&cfg);
    uint64_t small = assert_plan_matches(&cfg, N, FS, "small");

    oz_sci_config half = cfg;
    half.line_half_bin = 1;
    assert_true(assert_plan_matches(&half, N, FS, "lines with half-bin spectra") > small);

    oz_sci_config nolines = cfg;
    nolines.line_pfa = 0;
    nolines.chirp_limit[8] = 1.0; /* 2048: rate 0 only */
    assert_true(assert_plan_matches(&nolines, N, FS, "no lines, 2048 limited") < small);

    oz_sci_config flat = cfg;
    flat.bsmooth_boxcar = 8192;
    flat.bsmooth_chunk = 131072; /* longer than the unit: fitted to it */
    assert_plan_matches(&flat, N, FS, "band flattening");

    oz_sci_config ragged = cfg;
    assert_plan_matches(&ragged, N + 1000, FS, "a unit not a power of two");
    assert_plan_matches(&ragged, N, 2.5e6, "a wide band (rate 0 only)");

    oz_sci_config def;
    oz_sci_config_default(&def);
    def.line_half_bin = 1;
    assert_plan_matches(&def, 2 * N, FS, "the default plan, 8..131072, +-100 Hz/s");
}

/* The seti mode: v8's plan, with the autocorrelation, with Gaussians and
 * pulses (a telescope slewing within v8's range), with band flattening. */
static void seti_mode_plan_counts_what_a_search_counts(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_test_config_seti_small(&cfg);
    cfg.seti.autocorr_fftlen = 8192;
    uint64_t fixed = assert_plan_matches(&cfg, N, FS, "seti, fixed pointing");

    oz_sci_config slew = cfg;               /* Gaussians' and pulses' own chirp steps */
    slew.seti.angle_range = 0.005 * N / FS; /* 0.005 degrees a second */
    slew.seti.pulse_fft_max = 8192;
    assert_true(assert_plan_matches(&slew, N, FS, "seti, Gaussians and pulses") != fixed);

    oz_sci_config flat = cfg;
    flat.bsmooth_boxcar = 512;
    flat.bsmooth_chunk = 8192;
    assert_true(assert_plan_matches(&flat, N, FS, "seti, band flattening") > fixed);
}

/* What a search refuses for its configuration and size alone, the plan
 * refuses in the same words; and the seti mode's own limits. */
static void the_plan_refuses_what_a_search_refuses(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_test_config_small(&cfg);
    assert_both_refuse(&cfg, 2048, FS, F0, "fft_max longer than the unit");
    assert_both_refuse(&cfg, N, 0.0, F0, "no sample rate");
    assert_both_refuse(&cfg, N, FS, 1e12 - 1000.0, "a band reaching past 1e12 Hz");
    oz_sci_config bad = cfg;
    bad.fft_min = 100;
    assert_both_refuse(&bad, N, FS, F0, "a bad configuration");
    oz_sci_config many = cfg;
    many.chirp_max = 1000.0;
    many.chirp_resolution = 1e-6;
    assert_both_refuse(&many, N, FS, F0, "too many chirp rates");

    oz_sci_config seti = cfg;
    seti.mode = OZ_MODE_SETI;
    assert_both_refuse(&seti, N + 4096, FS, F0, "seti, a unit not a power of two");
    seti.bsmooth_boxcar = 512;
    seti.bsmooth_chunk = 2 * N;
    assert_both_refuse(&seti, N, FS, F0, "seti, band flattening longer than the unit");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ozma_mode_plan_counts_what_a_search_counts),
        cmocka_unit_test(seti_mode_plan_counts_what_a_search_counts),
        cmocka_unit_test(the_plan_refuses_what_a_search_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
