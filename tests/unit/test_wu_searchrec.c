/*
 * test_wu_searchrec.c - searching whole recordings (workunits/searchrec.c),
 * end to end: a synthetic SigMF recording with one signal of every type is
 * cut into units and searched, and every injected signal is found at the
 * right frequency, drift and time on the recording's clock, once, with no
 * detection where nothing was injected; a tone laid exactly across a unit
 * boundary is found; an .ozwu unit searches like the same stretch of the
 * recording.
 *
 * Units are 2^16 samples (6.7 s at 9765.625 Hz) and the configuration is
 * oz_test_config_small, so each unit searches in well under a second.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "support.h"
#include "ozma_workunits.h"

#define UNIT 65536u

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/oz_wsearch_XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void config(oz_sci_config *cfg)
{
    oz_test_config_small(cfg);
    cfg->gauss_sigma_s = 0.4;
}

static void write_recording(const char *stem, const char *datatype, const oz_wu_inject *inj,
                            size_t ninj, uint64_t n, uint64_t seed)
{
    oz_wu_synth s = {.sample_rate = OZ_TEST_FS,
                     .center_hz = OZ_TEST_F0,
                     .nsamples = n,
                     .seed = seed,
                     .noise_power = 1.0,
                     .inj = inj,
                     .ninj = ninj};
    char why[512] = "";
    if (oz_wu_synth_write(&s, stem, datatype, 0, "2024-05-01T12:00:00Z", NULL, why, sizeof why))
        fail_msg("%s", why);
}

struct progress {
    uint64_t last_unit, nunits, calls;
};

static void on_progress(void *arg, uint64_t unit, uint64_t nunits, size_t step, size_t nsteps)
{
    struct progress *p = arg;
    assert_true(unit < nunits);
    assert_true(step <= nsteps);
    assert_true(unit >= p->last_unit);
    p->last_unit = unit;
    p->nunits = nunits;
    p->calls++;
}

static void search_file(const char *path, oz_sci_result *r, struct progress *pg)
{
    oz_sci_config cfg;
    config(&cfg);
    oz_wu_reader *rd;
    char why[512] = "";
    if (oz_wu_open(path, NULL, &rd, why, sizeof why) != 0)
        fail_msg("%s", why);
    int rc = oz_wu_search(rd, &cfg, UNIT, OZ_WU_OVERLAP_DEFAULT, pg ? on_progress : NULL, pg, r,
                          why, sizeof why);
    if (rc != 0)
        fail_msg("%s", why);
    oz_wu_reader_close(rd);
}

/* The injected signal is in the result: a signal of its type at its
 * absolute frequency (at the signal's own time) within two bins, its drift
 * within tol_c, its time inside [t_lo, t_hi] (± one spectrum); for pulses
 * and triplets also the period, and for pulses the time is the first pulse's
 * phase, anywhere on the train's grid t0 + k * period. */
static const oz_signal *find_injected(const oz_sci_result *r, const oz_wu_inject *in, double t_lo,
                                      double t_hi, double tol_c)
{
    const oz_signal *best = NULL;
    for (size_t i = 0; i < r->nsignals; i++) {
        const oz_signal *s = &r->signals[i];
        if (s->type != in->type)
            continue;
        double bin = OZ_TEST_FS / s->fft_len, tfft = s->fft_len / OZ_TEST_FS;
        double truth = OZ_TEST_F0 + in->offset_hz + in->chirp_hz_s * s->time_s;
        bool ok = fabs(s->freq_hz - truth) <= 2 * bin + 0.5 &&
                  fabs(s->chirp_hz_s - in->chirp_hz_s) <= tol_c;
        /* a PoT point lasts at most UNIT/64 samples (Gaussians) */
        double point = (double)UNIT / 64 / OZ_TEST_FS;
        if (in->type == OZ_SIG_PULSE || in->type == OZ_SIG_TRIPLET)
            ok = ok && fabs(s->period_s - in->period_s) <= 0.05 * in->period_s + point;
        if (in->type == OZ_SIG_PULSE) {
            double k = round((s->time_s - in->t0) / in->period_s);
            ok = ok && fabs(s->time_s - (in->t0 + k * in->period_s)) <= in->width_s + point;
        } else {
            ok = ok && s->time_s >= t_lo - tfft && s->time_s <= t_hi + tfft;
        }
        if (ok && (!best || s->score > best->score))
            best = s;
    }
    return best;
}

/* Is a reported signal about some injected signal: does its track (its
 * frequency moved along its chirp) pass within a few bins of an injected
 * signal's track during the unit it was found in?  A strong pulsed signal
 * also shows up as lines at neighbouring drifts that cross it. */
static bool near_injection(const oz_signal *s, const oz_wu_inject *inj, size_t ninj)
{
    double D = (double)UNIT / OZ_TEST_FS, tol = 4 * OZ_TEST_FS / s->fft_len + 1.0;
    for (size_t k = 0; k < ninj; k++) {
        /* the gap between the tracks is linear in time: check the ends and
         * whether it changes sign between them */
        double g[2];
        for (int e = 0; e < 2; e++) {
            double t = s->time_s + (e ? D : -D);
            g[e] = s->freq_hz + s->chirp_hz_s * (t - s->time_s) -
                   (OZ_TEST_F0 + inj[k].offset_hz + inj[k].chirp_hz_s * t);
        }
        if (fabs(g[0]) <= tol || fabs(g[1]) <= tol || (g[0] < 0) != (g[1] < 0))
            return true;
    }
    return false;
}

static void every_type_is_found_at_its_frequency_drift_and_time(void **state)
{
    (void)state;
    /* 2.5 units' worth: two regular units and a tail.  Times are on the
     * recording's clock; the Gaussian and the triplet sit in the second and
     * third units so the unit time shift is exercised. */
    const uint64_t n = 2 * UNIT + UNIT / 2;
    const oz_wu_inject inj[] = {
        {.type = OZ_SIG_SPIKE, .offset_hz = 1500.0, .chirp_hz_s = 0.7, .snr = 0.0225},
        {.type = OZ_SIG_GAUSSIAN, .offset_hz = -2500.0, .snr = 0.0225, .t0 = 9.5, .sigma_s = 0.4},
        {.type = OZ_SIG_PULSE,
         .offset_hz = -1000.0,
         .snr = 0.3,
         .t0 = 1.0,
         .period_s = 0.8,
         .width_s = 0.1,
         .t_start = 1.0,
         .t_end = 5.9},
        {.type = OZ_SIG_TRIPLET,
         .offset_hz = 3000.0,
         .snr = 0.25,
         .t0 = 14.0,
         .period_s = 1.1,
         .width_s = 0.1},
    };
    const size_t ninj = sizeof inj / sizeof inj[0];
    char stem[256];
    snprintf(stem, sizeof stem, "%s/every", dir);
    write_recording(stem, "ci16_le", inj, ninj, n, 2024);

    oz_sci_result r;
    struct progress pg = {0};
    search_file(stem, &r, &pg);
    assert_int_equal(pg.nunits, 3);
    assert_int_equal(pg.last_unit, 2);
    assert_true(pg.calls > 3);

    double T = (double)n / OZ_TEST_FS;
    struct {
        double lo, hi, tol_c;
    } extent[] = {
        {0, T, 0.2},
        {9.5 - 2 * 0.4, 9.5 + 2 * 0.4, 1.0},
        {1.0, 5.9, 1.0},
        {14.0, 14.0 + 2.2 + 0.1, 1.0},
    };
    for (size_t k = 0; k < ninj; k++) {
        const oz_signal *s =
            find_injected(&r, &inj[k], extent[k].lo, extent[k].hi, extent[k].tol_c);
        if (!s) {
            oz_test_dump(&r);
            fail_msg("injected %s at %+.1f Hz not found", oz_sig_type_name(inj[k].type),
                     inj[k].offset_hz);
        }
    }
    /* The drifting tone is also a persistent line (when the kernel has that
     * type), at its drift. */
    oz_sig_type line;
    if (oz_sig_type_parse("line", &line) == 0) {
        oz_wu_inject as_line = inj[0];
        as_line.type = line;
        if (!find_injected(&r, &as_line, 0, T, 0.5)) {
            oz_test_dump(&r);
            fail_msg("the drifting tone is not reported as a line");
        }
    }
    /* Found once per type: the spike seen in all three units is merged. */
    size_t spikes_at_tone = 0;
    for (size_t i = 0; i < r.nsignals; i++) {
        const oz_signal *s = &r.signals[i];
        if (!near_injection(s, inj, ninj)) {
            oz_test_dump(&r);
            fail_msg("a %s at %.3f Hz, %.2f s where nothing was injected",
                     oz_sig_type_name(s->type), s->freq_hz, s->time_s);
        }
        if (s->type == OZ_SIG_SPIKE && near_injection(s, inj, 1))
            spikes_at_tone++;
    }
    assert_int_equal(spikes_at_tone, 1);
    /* times on the recording's clock, sorted, sums over units; a line's
     * stretch is on that clock too and holds its time */
    for (size_t i = 1; i < r.nsignals; i++)
        assert_true(r.signals[i - 1].time_s <= r.signals[i].time_s);
    for (size_t i = 0; i < r.nsignals; i++)
        if (r.signals[i].end_s > 0) {
            const oz_signal *s = &r.signals[i];
            assert_true(s->start_s <= s->time_s && s->time_s <= s->end_s && s->end_s <= T);
        }
    assert_true(r.flops > 0 && r.cpu_s > 0);
    assert_string_equal(r.kernel_version, OZ_SCI_KERNEL_VERSION);
    assert_false(r.overflow);
    for (int t = 0; t < OZ_SIG_NTYPES; t++) /* Ozma's mode has no autocorrelation */
        assert_true(r.has_best[t] == (t != OZ_SIG_AUTOCORR));
    oz_sci_result_clear(&r);
}

static void a_tone_across_a_unit_boundary_is_found_once(void **state)
{
    (void)state;
    /* Unit 0 ends at sample 65536; a tone as long as the overlap (8192
     * samples) centred on that boundary is whole only in unit 1. */
    const uint64_t n = 2 * UNIT + UNIT / 4;
    double t_on = (double)(UNIT - UNIT / 16) / OZ_TEST_FS;
    double t_off = (double)(UNIT + UNIT / 16) / OZ_TEST_FS;
    const oz_wu_inject inj = {.type = OZ_SIG_SPIKE,
                              .offset_hz = -777.0,
                              .chirp_hz_s = 0.0,
                              .snr = 0.0225,
                              .t_start = t_on,
                              .t_end = t_off};
    char stem[256];
    snprintf(stem, sizeof stem, "%s/boundary", dir);
    write_recording(stem, "ci8", &inj, 1, n, 7);

    oz_sci_result r;
    search_file(stem, &r, NULL);
    /* a 0.84 s tone pins its drift only to about a bin per its length */
    double tol_c = (OZ_TEST_FS / 4096) / (t_off - t_on) * 1.5;
    const oz_signal *s = find_injected(&r, &inj, t_on, t_off, tol_c);
    if (!s) {
        oz_test_dump(&r);
        fail_msg("the tone across the boundary at %.3f s was not found", (double)UNIT / OZ_TEST_FS);
    }
    assert_int_equal(oz_test_count(&r, OZ_SIG_SPIKE), 1);
    /* time_utc = the recording's start time + time_s (12:00:00Z + 6.9 s) */
    oz_wu_reader *rd;
    char why[512] = "";
    assert_int_equal(oz_wu_open(stem, NULL, &rd, why, sizeof why), 0);
    json_t *j = oz_wu_search_json(&r, rd);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "start_utc")),
                        "2024-05-01T12:00:00.000000Z");
    json_t *sigs = json_object_get(j, "signals");
    for (size_t i = 0; i < r.nsignals; i++) {
        char want[48];
        int64_t t0;
        assert_int_equal(oz_wu_time_parse("2024-05-01T12:00:00Z", &t0, NULL, 0), 0);
        oz_wu_time_format(oz_wu_time_add(t0, r.signals[i].time_s), 6, want, sizeof want);
        assert_string_equal(json_string_value(json_object_get(json_array_get(sigs, i), "time_utc")),
                            want);
        assert_non_null(strstr(want, "2024-05-01T12:00:0"));
    }
    json_t *bs = json_object_get(json_object_get(j, "best"), "spike");
    assert_non_null(json_object_get(bs, "time_utc"));
    json_decref(j);
    oz_wu_reader_close(rd);
    for (size_t i = 0; i < r.nsignals; i++)
        if (!near_injection(&r.signals[i], &inj, 1)) {
            oz_test_dump(&r);
            fail_msg("a detection where nothing was injected");
        }
    oz_sci_result_clear(&r);
}

static void pure_noise_has_no_detections(void **state)
{
    (void)state;
    char stem[256];
    snprintf(stem, sizeof stem, "%s/noise", dir);
    write_recording(stem, "cf32_le", NULL, 0, 2 * UNIT, 99);
    oz_sci_result r;
    search_file(stem, &r, NULL);
    if (r.nsignals) {
        oz_test_dump(&r);
        fail_msg("%zu detections in pure noise", r.nsignals);
    }
    oz_sci_result_clear(&r);
}

static void an_ozwu_unit_searches_like_its_stretch_of_the_recording(void **state)
{
    (void)state;
    const uint64_t n = 2 * UNIT;
    const oz_wu_inject inj = {
        .type = OZ_SIG_SPIKE, .offset_hz = 2222.0, .chirp_hz_s = -1.3, .snr = 0.0225};
    char stem[256], out[256], why[512] = "";
    snprintf(stem, sizeof stem, "%s/asunit", dir);
    snprintf(out, sizeof out, "%s/asunit-units", dir);
    assert_int_equal(mkdir(out, 0755), 0);
    write_recording(stem, "ci16_le", &inj, 1, n, 5);

    oz_sci_config cfg;
    config(&cfg);
    oz_wu_reader *rd;
    assert_int_equal(oz_wu_open(stem, NULL, &rd, why, sizeof why), 0);
    oz_wu_split_opts o = {.out_dir = out, .unit_samples = UNIT, .overlap = 0.125, .config = &cfg};
    uint64_t nunits;
    assert_int_equal(oz_wu_split_write(rd, &o, &nunits, why, sizeof why), 0);
    assert_int_equal(nunits, 3);
    oz_wu_reader_close(rd);

    /* unit 1 on its own: its header's configuration, times from its start */
    char path[512];
    snprintf(path, sizeof path, "%s/asunit-000001.ozwu", out);
    assert_int_equal(oz_wu_open(path, NULL, &rd, why, sizeof why), 0);
    assert_non_null(oz_wu_reader_unit(rd));
    double unit_start_s = oz_wu_reader_unit(rd)->start_s;
    oz_sci_result ru;
    if (oz_wu_search(rd, NULL, 0, -1, NULL, NULL, &ru, why, sizeof why) != 0)
        fail_msg("%s", why);
    oz_wu_reader_close(rd);
    oz_wu_inject shifted = inj;
    shifted.offset_hz = inj.offset_hz + inj.chirp_hz_s * unit_start_s;
    const oz_signal *s = find_injected(&ru, &shifted, 0, (double)UNIT / OZ_TEST_FS, 0.2);
    if (!s) {
        oz_test_dump(&ru);
        fail_msg("tone not found in the unit");
    }
    /* the same unit searched directly with the kernel gives the same result */
    oz_wu_unit *u;
    assert_int_equal(oz_wu_unit_load(path, &u, why, sizeof why), 0);
    oz_sci_result direct;
    oz_test_search(&cfg, oz_wu_unit_samples(u), UNIT, OZ_TEST_FS, OZ_TEST_F0, &direct);
    assert_int_equal(direct.nsignals, ru.nsignals);
    assert_memory_equal(direct.signals, ru.signals, ru.nsignals * sizeof(oz_signal));
    assert_memory_equal(direct.best, ru.best, sizeof ru.best);
    assert_true(direct.flops == ru.flops);
    oz_sci_result_clear(&direct);
    oz_wu_unit_free(u);
    oz_sci_result_clear(&ru);
}

static void refuses_units_shorter_than_the_largest_fft(void **state)
{
    (void)state;
    char stem[256], why[512] = "";
    snprintf(stem, sizeof stem, "%s/short", dir);
    write_recording(stem, "ci8", NULL, 0, 8192, 1);
    oz_wu_reader *rd;
    assert_int_equal(oz_wu_open(stem, NULL, &rd, why, sizeof why), 0);
    oz_sci_config cfg;
    config(&cfg);
    oz_sci_result r;
    assert_int_equal(oz_wu_search(rd, &cfg, 2048, 0.125, NULL, NULL, &r, why, sizeof why),
                     OZ_WU_EINVAL);
    assert_non_null(strstr(why, "fft_max"));
    assert_int_equal(oz_wu_search(rd, &cfg, UNIT, 0.125, NULL, NULL, &r, why, sizeof why),
                     OZ_WU_EINVAL);
    assert_non_null(strstr(why, "fewer than one unit"));
    oz_wu_reader_close(rd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_type_is_found_at_its_frequency_drift_and_time),
        cmocka_unit_test(a_tone_across_a_unit_boundary_is_found_once),
        cmocka_unit_test(pure_noise_has_no_detections),
        cmocka_unit_test(an_ozwu_unit_searches_like_its_stretch_of_the_recording),
        cmocka_unit_test(refuses_units_shorter_than_the_largest_fft),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
