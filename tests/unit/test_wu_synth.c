/*
 * test_wu_synth.c - synthetic recordings (workunits/synth.c): chunking does
 * not change the samples (noise identical, tones phase-continuous), each
 * envelope is where the description puts it, the truth file says what was
 * injected, and impossible descriptions are refused with reasons.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"
#include "ozma_workunits.h"

static float *generate(const oz_wu_synth *s, size_t chunk)
{
    float *iq = malloc(2 * s->nsamples * sizeof *iq);
    assert_non_null(iq);
    oz_wu_synth_gen *g;
    char why[256] = "";
    if (oz_wu_synth_gen_new(s, &g, why, sizeof why) != 0)
        fail_msg("%s", why);
    size_t have = 0, n;
    while (oz_wu_synth_gen_next(g, iq + 2 * have, chunk, 1.0f, &n) == 0 && n > 0)
        have += n;
    assert_int_equal(have, s->nsamples);
    oz_wu_synth_gen_free(g);
    return iq;
}

static void chunk_size_does_not_change_the_recording(void **state)
{
    (void)state;
    oz_wu_inject inj[] = {
        {.type = OZ_SIG_SPIKE, .offset_hz = 1000.3, .chirp_hz_s = 7.5, .snr = 1.0},
        {.type = OZ_SIG_GAUSSIAN,
         .offset_hz = -500,
         .chirp_hz_s = -1,
         .snr = 1.0,
         .t0 = 20,
         .sigma_s = 3},
    };
    oz_wu_synth s = {.sample_rate = 4096,
                     .center_hz = 0,
                     .nsamples = 200000,
                     .seed = 9,
                     .noise_power = 1.0,
                     .inj = inj,
                     .ninj = 2};
    float *a = generate(&s, 1);
    float *b = generate(&s, 65536);
    float *c = generate(&s, 7919);
    double worst = 0;
    for (size_t i = 0; i < 2 * s.nsamples; i++)
        worst = fmax(worst, fmax(fabs(a[i] - b[i]), fabs(a[i] - c[i])));
    assert_true(worst < 1e-4);
    free(a);
    free(b);
    free(c);
}

static void a_tone_is_the_exact_chirp_on_the_recording_clock(void **state)
{
    (void)state;
    oz_wu_inject inj = {.type = OZ_SIG_SPIKE, .offset_hz = 123.25, .chirp_hz_s = 0.75, .snr = 4.0};
    oz_wu_synth s = {
        .sample_rate = 1000, .nsamples = 300001, .noise_power = 0, .inj = &inj, .ninj = 1};
    float *iq = generate(&s, 4096);
    double worst = 0;
    for (size_t i = 0; i < s.nsamples; i += 997) {
        double t = (double)i / 1000;
        double cyc = 123.25 * t + 0.5 * 0.75 * t * t;
        cyc -= floor(cyc);
        worst = fmax(worst, fabs(iq[2 * i] - 2.0 * cos(2 * 3.141592653589793 * cyc)));
        worst = fmax(worst, fabs(iq[2 * i + 1] - 2.0 * sin(2 * 3.141592653589793 * cyc)));
    }
    assert_true(worst < 1e-4);
    free(iq);
}

static void envelopes_are_where_they_are_described(void **state)
{
    (void)state;
    oz_wu_inject inj[] = {
        {.type = OZ_SIG_PULSE,
         .offset_hz = 10,
         .snr = 1.0,
         .t0 = 1.0,
         .period_s = 2.0,
         .width_s = 0.5,
         .t_start = 1.0,
         .t_end = 6.0},
        {.type = OZ_SIG_TRIPLET,
         .offset_hz = 100,
         .snr = 1.0,
         .t0 = 10.0,
         .period_s = 1.0,
         .width_s = 0.25},
        {.type = OZ_SIG_GAUSSIAN, .offset_hz = 200, .snr = 1.0, .t0 = 20.0, .sigma_s = 1.0},
    };
    oz_wu_synth s = {
        .sample_rate = 1000, .nsamples = 30000, .noise_power = 0, .inj = inj, .ninj = 3};
    float *iq = generate(&s, 3001);
    /* power at a few instants: pulses at 1, 3, 5 (not 7); triplet at 10,
     * 11, 12 (not 13); Gaussian 1 at its centre, e^-1/2 at one sigma */
    struct {
        double t, power;
    } at[] = {{0.9, 0},  {1.2, 1},  {1.6, 0},  {3.1, 1},  {5.4, 1},  {7.2, 0},          {10.1, 1},
              {11.2, 1}, {12.1, 1}, {12.3, 0}, {13.1, 0}, {20.0, 1}, {21.0, exp(-0.5)}, {26.0, 0}};
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        size_t k = (size_t)(at[i].t * 1000);
        double p = (double)iq[2 * k] * iq[2 * k] + (double)iq[2 * k + 1] * iq[2 * k + 1];
        if (fabs(p - at[i].power) > 1e-3 && !(at[i].power == 0 && p < 1e-6))
            fail_msg("t=%g: power %g, expected %g", at[i].t, p, at[i].power);
    }
    free(iq);

    json_t *truth = oz_wu_synth_truth(&s, "ci8", "2024-01-01T00:00:00Z");
    assert_non_null(truth);
    json_t *sigs = json_object_get(truth, "signals");
    assert_int_equal(json_array_size(sigs), 3);
    json_t *p = json_array_get(sigs, 0), *tr = json_array_get(sigs, 1),
           *g = json_array_get(sigs, 2);
    assert_string_equal(json_string_value(json_object_get(p, "type")), "pulse");
    assert_true(json_real_value(json_object_get(p, "t_start")) == 1.0);
    assert_true(json_real_value(json_object_get(p, "t_end")) == 5.5);
    assert_true(json_real_value(json_object_get(p, "period_s")) == 2.0);
    assert_true(json_real_value(json_object_get(tr, "t_end")) == 12.25);
    assert_true(json_real_value(json_object_get(tr, "time_s")) == 11.125);
    assert_true(json_real_value(json_object_get(g, "time_s")) == 20.0);
    assert_true(json_real_value(json_object_get(g, "freq_hz")) == 200.0);
    assert_string_equal(json_string_value(json_object_get(truth, "datetime")),
                        "2024-01-01T00:00:00Z");
    json_decref(truth);
}

static void truth_gives_absolute_frequency_at_the_reference_time(void **state)
{
    (void)state;
    oz_wu_inject inj = {.type = OZ_SIG_SPIKE,
                        .offset_hz = 100,
                        .chirp_hz_s = 2,
                        .snr = 1,
                        .t_start = 2,
                        .t_end = 6};
    oz_wu_synth s = {.sample_rate = 1000,
                     .center_hz = 1e9,
                     .nsamples = 10000,
                     .noise_power = 1,
                     .inj = &inj,
                     .ninj = 1};
    json_t *truth = oz_wu_synth_truth(&s, "cf32_le", NULL);
    json_t *sig = json_array_get(json_object_get(truth, "signals"), 0);
    assert_true(json_real_value(json_object_get(sig, "time_s")) == 4.0);
    assert_true(json_real_value(json_object_get(sig, "freq_hz")) == 1e9 + 100 + 2 * 4.0);
    assert_true(json_real_value(json_object_get(sig, "amp")) == 1.0);
    assert_null(json_object_get(truth, "datetime"));
    json_decref(truth);
}

static void impossible_descriptions_are_refused(void **state)
{
    (void)state;
    struct {
        oz_wu_inject in;
        const char *needle;
    } bad[] = {
        {{.type = OZ_SIG_SPIKE, .offset_hz = 600, .snr = 1}, "outside the band"},
        {{.type = OZ_SIG_SPIKE, .offset_hz = 400, .chirp_hz_s = 20, .snr = 1}, "outside the band"},
        {{.type = OZ_SIG_SPIKE, .offset_hz = 0, .snr = -1}, "snr"},
        {{.type = OZ_SIG_SPIKE, .offset_hz = NAN, .snr = 1}, "not finite"},
        {{.type = OZ_SIG_GAUSSIAN, .snr = 1, .t0 = 5, .sigma_s = 0}, "sigma"},
        {{.type = OZ_SIG_GAUSSIAN, .snr = 1, .t0 = 50, .sigma_s = 1}, "outside the recording"},
        {{.type = OZ_SIG_PULSE, .snr = 1, .t0 = 1, .period_s = 1, .width_s = 1}, "width"},
        {{.type = OZ_SIG_TRIPLET, .snr = 1, .t0 = 8, .period_s = 1, .width_s = 0.1}, "do not fit"},
        {{.type = OZ_SIG_SPIKE, .snr = 1, .chirp_hz_s = 5000}, "drift"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        oz_wu_synth s = {
            .sample_rate = 1000, .nsamples = 10000, .noise_power = 1, .inj = &bad[i].in, .ninj = 1};
        char why[256] = "";
        assert_int_equal(oz_wu_synth_check(&s, why, sizeof why), OZ_WU_EINVAL);
        if (!strstr(why, bad[i].needle))
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, why, bad[i].needle);
        assert_non_null(strstr(why, "signal 1"));
    }
    oz_wu_synth s = {.sample_rate = 0, .nsamples = 10};
    assert_int_equal(oz_wu_synth_check(&s, NULL, 0), OZ_WU_EINVAL);
    s.sample_rate = 10;
    s.nsamples = 0;
    assert_int_equal(oz_wu_synth_check(&s, NULL, 0), OZ_WU_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(chunk_size_does_not_change_the_recording),
        cmocka_unit_test(a_tone_is_the_exact_chirp_on_the_recording_clock),
        cmocka_unit_test(envelopes_are_where_they_are_described),
        cmocka_unit_test(truth_gives_absolute_frequency_at_the_reference_time),
        cmocka_unit_test(impossible_descriptions_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
