/*
 * test_sci_found.c - the signal list: duplicates of one signal merge into the
 * strongest, distinct signals stay apart, the best of each type is kept even
 * below threshold, the cap sets overflow, and a spike's chirp comes from the
 * track of its merged detections.
 */
#include <math.h>
#include <string.h>

#include "support.h"
#include "internal.h"

#define FS 9765.625

static oz_signal spike(double f, double c, double t, uint32_t L, double score)
{
    oz_signal s = {.type = OZ_SIG_SPIKE,
                   .fft_len = L,
                   .freq_hz = f,
                   .chirp_hz_s = c,
                   .time_s = t,
                   .power = 24 * score,
                   .score = score};
    return s;
}

static void detections_on_one_track_are_the_same_signal(void **state)
{
    (void)state;
    /* a tone at 1000 Hz drifting +2 Hz/s, seen at t=1 (L=4096) and t=5 (L=256) */
    oz_signal a = spike(1002.0, 2.0, 1.0, 4096, 3), b = spike(1010.0, 0.0, 5.0, 256, 2);
    assert_true(oz_sci_signal_same(&a, &b, FS, 0.1665));
    assert_true(oz_sci_signal_same(&b, &a, FS, 0.1665));
    /* 20 bins away at the same time: another signal */
    oz_signal c = spike(1002.0 + 20 * FS / 4096, 2.0, 1.0, 4096, 3);
    assert_false(oz_sci_signal_same(&a, &c, FS, 0.1665));
    /* same place, other type: never the same */
    oz_signal d = a;
    d.type = OZ_SIG_PULSE;
    assert_false(oz_sci_signal_same(&a, &d, FS, 0.1665));
}

static void the_strongest_detection_represents_the_signal(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_test_config_small(&cfg);
    oz_found f;
    assert_int_equal(oz_found_init(&f, &cfg, FS), 0);
    oz_signal weak = spike(500.0, 0.0, 1.0, 4096, 1.5), strong = spike(500.5, 0.0, 2.0, 4096, 9);
    oz_signal sub = spike(3000.0, 0.0, 1.0, 4096, 0.5);
    oz_found_offer(&f, &weak);
    oz_found_offer(&f, &strong);
    oz_found_offer(&f, &sub);
    assert_int_equal(f.n, 1);
    assert_true(f.list[0].score == 9);
    assert_true(f.has_best[OZ_SIG_SPIKE]);
    assert_true(f.best[OZ_SIG_SPIKE].score == 9);
    assert_false(f.has_best[OZ_SIG_TRIPLET]);
    oz_found_free(&f);

    /* below threshold everywhere: nothing listed, the best still known */
    assert_int_equal(oz_found_init(&f, &cfg, FS), 0);
    oz_found_offer(&f, &sub);
    assert_int_equal(f.n, 0);
    assert_true(f.has_best[OZ_SIG_SPIKE]);
    assert_true(f.best[OZ_SIG_SPIKE].freq_hz == 3000.0);
    oz_found_free(&f);
}

/* A strong signal bridging two listed ones folds them into one entry. */
static void a_stronger_detection_absorbs_what_it_matches(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_test_config_small(&cfg);
    oz_found f;
    assert_int_equal(oz_found_init(&f, &cfg, FS), 0);
    oz_signal a = spike(1000.0, 0.0, 1.0, 256, 2), b = spike(1100.0, 0.0, 1.0, 256, 2);
    oz_found_offer(&f, &a);
    oz_found_offer(&f, &b);
    assert_int_equal(f.n, 2);                        /* 100 Hz apart at 38 Hz bins: distinct */
    oz_signal wide = spike(1050.0, 0.0, 1.0, 64, 5); /* 152 Hz bins cover both */
    oz_found_offer(&f, &wide);
    assert_int_equal(f.n, 1);
    assert_true(f.list[0].score == 5);
    oz_found_free(&f);
}

static void the_cap_sets_overflow(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_test_config_small(&cfg);
    cfg.max_signals = 3;
    oz_found f;
    assert_int_equal(oz_found_init(&f, &cfg, FS), 0);
    /* the list keeps OZ_FOUND_SLACK times max_signals before giving up */
    for (unsigned i = 0; i < 3 * OZ_FOUND_SLACK; i++) {
        oz_signal s = spike(100.0 * i, 0.0, 1.0, 4096, 2);
        oz_found_offer(&f, &s);
    }
    assert_int_equal(f.n, 3 * OZ_FOUND_SLACK);
    assert_false(f.overflow);
    oz_signal one_more = spike(-100.0, 0.0, 1.0, 4096, 2);
    oz_found_offer(&f, &one_more);
    assert_int_equal(f.n, 3 * OZ_FOUND_SLACK);
    assert_true(f.overflow);
    oz_found_free(&f);
}

/* Detections along a drifting track give the spike the track's slope, even
 * when each detection was made at a wrong chirp step. */
static void a_spike_chirp_is_its_track_slope(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_test_config_small(&cfg);
    oz_found f;
    assert_int_equal(oz_found_init(&f, &cfg, FS), 0);
    const double bin = FS / 4096, tfft = 4096 / FS;
    for (int k = 0; k < 16; k++) {
        double t = (k + 0.5) * tfft;
        double truth = 2000.0 + 3.3 * t;
        double quantised = round(truth / bin) * bin; /* what a bin centre reports */
        oz_signal s = spike(quantised, 1.9, t, 4096, 5 + 0.01 * (k % 3));
        oz_found_offer(&f, &s);
    }
    assert_int_equal(f.n, 1);
    assert_true(fabs(f.list[0].chirp_hz_s - 3.3) < 0.3);
    oz_found_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(detections_on_one_track_are_the_same_signal),
        cmocka_unit_test(the_strongest_detection_represents_the_signal),
        cmocka_unit_test(a_stronger_detection_absorbs_what_it_matches),
        cmocka_unit_test(the_cap_sets_overflow),
        cmocka_unit_test(a_spike_chirp_is_its_track_slope),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
