/*
 * test_sci_chirp.c - incremental dechirping matches the exact formula, turns a
 * chirped tone into a steady one, works piece by piece, and shifts frequency.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"
#include "chirp.h"
#include "simd.h"

/* Compared with exp(-i pi c t^2) computed per sample in double precision
 * (error at most 1e-4 of the noise rms),
 * over a ragged length (not a multiple of the lanes or the re-seed block). */
static void dechirp_matches_the_exact_phase(void **state)
{
    (void)state;
    const size_t n = 100003;
    const double fs = 9765.625;
    const double rates[] = {0.0, 0.37, -4.2, 99.9, -1000.0};
    float *x = oz_test_noise(n, 1, 1.0);
    float *y = malloc(2 * n * sizeof *y);
    assert_non_null(y);
    for (size_t r = 0; r < sizeof rates / sizeof rates[0]; r++) {
        oz_dechirp(x, y, 0, n, fs, rates[r], 0.0, oz_cpu_avx2());
        double worst = 0;
        for (size_t i = 0; i < n; i++) {
            double t = (double)i / fs;
            double cyc = 0.5 * rates[r] * t * t;
            cyc -= floor(cyc);
            double c = cos(-2 * 3.14159265358979323846 * cyc),
                   s = sin(-2 * 3.14159265358979323846 * cyc);
            double er = x[2 * i] * c - x[2 * i + 1] * s;
            double ei = x[2 * i] * s + x[2 * i + 1] * c;
            double d = hypot(y[2 * i] - er, y[2 * i + 1] - ei); /* noise rms is 1 */
            if (d > worst)
                worst = d;
        }
        if (worst > 1e-4)
            fail_msg("chirp %g: worst error %g", rates[r], worst);
    }
    free(x);
    free(y);
}

/* A tone drifting at c, dechirped at c, is steady: its phase advances by the
 * same angle every sample. */
static void dechirped_tone_is_steady(void **state)
{
    (void)state;
    const size_t n = 65536;
    const double fs = 9765.625;
    float *x = oz_test_noise(n, 2, 0.0);
    float *y = malloc(2 * n * sizeof *y);
    assert_non_null(y);
    oz_tone tone = {.freq_hz = 123.4, .chirp_hz_s = 7.5, .amp = 1.0};
    oz_sci_add_tone(x, n, fs, &tone);
    oz_dechirp(x, y, 0, n, fs, 7.5, 0.0, oz_cpu_avx2());
    double step = 2 * 3.14159265358979323846 * 123.4 / fs;
    for (size_t i = 1; i < n; i++) {
        double a = atan2(y[2 * i + 1], y[2 * i]) - atan2(y[2 * i - 1], y[2 * i - 2]) - step;
        a = remainder(a, 2 * 3.14159265358979323846);
        if (fabs(a) > 1e-3)
            fail_msg("sample %zu: phase step off by %g rad", i, a);
    }
    free(x);
    free(y);
}

/* Dechirping a unit piece by piece (as the search does, chunk by chunk)
 * gives the same samples as dechirping it whole, to float rounding. */
static void dechirp_in_pieces_matches_whole(void **state)
{
    (void)state;
    const size_t n = 50000;
    const double fs = 9765.625;
    float *x = oz_test_noise(n, 3, 1.0);
    float *whole = malloc(2 * n * sizeof *whole), *parts = malloc(2 * n * sizeof *parts);
    assert_non_null(whole);
    assert_non_null(parts);
    oz_dechirp(x, whole, 0, n, fs, -3.3, 1.5, oz_cpu_avx2());
    const size_t cuts[] = {0, 7, 4096, 4097, 33333, n};
    for (size_t c = 0; c + 1 < sizeof cuts / sizeof cuts[0]; c++)
        oz_dechirp(x + 2 * cuts[c], parts + 2 * cuts[c], cuts[c], cuts[c + 1] - cuts[c], fs, -3.3,
                   1.5, oz_cpu_avx2());
    for (size_t i = 0; i < 2 * n; i++)
        if (fabsf(whole[i] - parts[i]) > 2e-4f)
            fail_msg("sample %zu: %g whole, %g in pieces", i / 2, whole[i], parts[i]);
    free(x);
    free(whole);
    free(parts);
}

/* The frequency shift moves a tone down by shift_hz: a tone at 100 Hz shifted
 * by 30 Hz advances its phase at 70 Hz. */
static void shift_moves_a_tone_down(void **state)
{
    (void)state;
    const size_t n = 8192;
    const double fs = 9765.625;
    float *x = oz_test_noise(n, 4, 0.0);
    float *y = malloc(2 * n * sizeof *y);
    assert_non_null(y);
    oz_tone tone = {.freq_hz = 100.0, .amp = 1.0};
    oz_sci_add_tone(x, n, fs, &tone);
    oz_dechirp(x, y, 0, n, fs, 0.0, 30.0, oz_cpu_avx2());
    double step = 2 * 3.14159265358979323846 * 70.0 / fs;
    for (size_t i = 1; i < n; i++) {
        double a = atan2(y[2 * i + 1], y[2 * i]) - atan2(y[2 * i - 1], y[2 * i - 2]) - step;
        if (fabs(remainder(a, 2 * 3.14159265358979323846)) > 1e-3)
            fail_msg("sample %zu: phase step off", i);
    }
    free(x);
    free(y);
}

/* One pass at +c and -c gives, bit for bit, what two oz_dechirp calls
 * give, on both code paths, for whole and ragged lengths anywhere in a unit
 * (the search computes a rate's pair ahead and must match a resumed search
 * that dechirps -c alone). */
static void pair_equals_two_single_rates(void **state)
{
    (void)state;
    const size_t n = 70001;
    const double fs = 9765.625;
    float *x = oz_test_noise(n, 5, 1.0);
    float *y = malloc(2 * n * sizeof *y), *z = malloc(2 * n * sizeof *z);
    float *p = malloc(2 * n * sizeof *p), *q = malloc(2 * n * sizeof *q);
    assert_true(x && y && z && p && q);
    const double rates[] = {0.000924, 0.37, 12.5, 99.9};
    const size_t firsts[] = {0, 3, 131072}, lens[] = {n, 131, 65536};
    for (int path = 0; path < 2; path++) {
        const bool avx2 = path == 0 && oz_cpu_avx2();
        for (size_t r = 0; r < sizeof rates / sizeof rates[0]; r++)
            for (size_t f = 0; f < 3; f++) {
                size_t len = lens[f] < n ? lens[f] : n;
                oz_dechirp(x, y, firsts[f], len, fs, rates[r], 0.0, avx2);
                oz_dechirp(x, z, firsts[f], len, fs, -rates[r], 0.0, avx2);
                oz_dechirp_pair(x, p, q, firsts[f], len, fs, rates[r], avx2);
                if (memcmp(y, p, 2 * len * sizeof *y) || memcmp(z, q, 2 * len * sizeof *z))
                    fail_msg("rate %g, first %zu, %zu samples, %s path: the pair differs", rates[r],
                             firsts[f], len, path ? "portable" : "default");
            }
    }
    free(x);
    free(y);
    free(z);
    free(p);
    free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pair_equals_two_single_rates),
        cmocka_unit_test(dechirp_matches_the_exact_phase),
        cmocka_unit_test(dechirped_tone_is_steady),
        cmocka_unit_test(dechirp_in_pieces_matches_whole),
        cmocka_unit_test(shift_moves_a_tone_down),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
