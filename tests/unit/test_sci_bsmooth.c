/*
 * test_sci_bsmooth.c - band flattening (bsmooth.c, SETI@home v8's baseline
 * smoothing): noise through a receiver's band shape comes out flat at v8's
 * level of 2 per bin; a narrow tone survives it; bad arguments are refused
 * without touching the output, and flattening in place gives what a copy
 * does, and a boxcar longer than half a chunk wraps around the band; in
 * Ozma's own search, flattening keeps a band's bright end from raising
 * false signals.
 *
 * The band shape is made here with FFTW, chunk by chunk on the same chunks
 * the flattening uses: every bin's power is multiplied by 10^x, x running
 * from 0 at the lowest negative frequency to 1 at the highest positive one
 * (a 10x slope across the band, as a receiver's filter and gain ripple
 * might leave it).
 */
#include <fftw3.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"
#include "internal.h"
#include "ozma_workunits.h"

#define N (1u << 17)
#define CHUNK 8192u
#define BOXCAR 512u

/* The band's power gain at bin k of a chunk (FFTW order): `decades`
 * powers of ten from the lowest negative frequency to the highest positive
 * one. */
static double gain(uint32_t k, uint32_t chunk, double decades)
{
    double x = (double)((k + chunk / 2) % chunk) / chunk;
    return pow(10.0, decades * x);
}

/* Multiplies each chunk's spectrum by the band shape (amplitude sqrt(gain)). */
static void shape_band(float *iq, size_t n, uint32_t chunk, double decades)
{
    fftwf_complex *buf = fftwf_alloc_complex(chunk);
    assert_non_null(buf);
    fftwf_plan fwd = fftwf_plan_dft_1d((int)chunk, buf, buf, FFTW_FORWARD, FFTW_ESTIMATE);
    fftwf_plan back = fftwf_plan_dft_1d((int)chunk, buf, buf, FFTW_BACKWARD, FFTW_ESTIMATE);
    assert_non_null(fwd);
    assert_non_null(back);
    for (size_t c = 0; c < n / chunk; c++) {
        memcpy(buf, iq + 2 * c * chunk, chunk * sizeof *buf);
        fftwf_execute(fwd);
        for (uint32_t k = 0; k < chunk; k++) {
            float g = (float)(sqrt(gain(k, chunk, decades)) / chunk);
            buf[k][0] *= g;
            buf[k][1] *= g;
        }
        fftwf_execute(back);
        memcpy(iq + 2 * c * chunk, buf, chunk * sizeof *buf);
    }
    fftwf_destroy_plan(fwd);
    fftwf_destroy_plan(back);
    fftwf_free(buf);
}

/* The power spectrum of chunk c (FFTW's unnormalised transform). */
static void chunk_power(const float *iq, size_t c, uint32_t chunk, double *power)
{
    fftwf_complex *buf = fftwf_alloc_complex(chunk);
    assert_non_null(buf);
    fftwf_plan fwd = fftwf_plan_dft_1d((int)chunk, buf, buf, FFTW_FORWARD, FFTW_ESTIMATE);
    assert_non_null(fwd);
    memcpy(buf, iq + 2 * c * chunk, chunk * sizeof *buf);
    fftwf_execute(fwd);
    for (uint32_t k = 0; k < chunk; k++)
        power[k] = (double)buf[k][0] * buf[k][0] + (double)buf[k][1] * buf[k][1];
    fftwf_destroy_plan(fwd);
    fftwf_free(buf);
}

static float *copy_of(const float *iq, size_t n)
{
    float *c = malloc(2 * n * sizeof *c);
    assert_non_null(c);
    memcpy(c, iq, 2 * n * sizeof *c);
    return c;
}

static float *flattened(const float *iq, size_t n)
{
    float *out = malloc(2 * n * sizeof *out);
    assert_non_null(out);
    assert_int_equal(oz_bsmooth(iq, out, n, CHUNK, BOXCAR, FFTW_ESTIMATE), OZ_SCI_OK);
    return out;
}

/* Per chunk, the power averaged over 1024-bin blocks (noise alone moves a
 * block's mean by 3%) varies 10x before flattening, and after it every
 * block is within 20% of v8's level of 2 per bin, the chunk's mean within
 * 5%. */
static void a_shaped_band_comes_out_flat_at_two_per_bin(void **state)
{
    (void)state;
    const uint32_t blk = 1024, nblk = CHUNK / blk;
    float *iq = oz_test_noise(N, 1, 1.0);
    shape_band(iq, N, CHUNK, 1.0);
    float *out = flattened(iq, N);
    double *power = malloc(CHUNK * sizeof *power);
    assert_non_null(power);
    for (size_t c = 0; c < N / CHUNK; c++) {
        double lo = HUGE_VAL, hi = 0;
        chunk_power(iq, c, CHUNK, power);
        for (uint32_t b = 0; b < nblk; b++) {
            double m = 0;
            for (uint32_t k = 0; k < blk; k++)
                m += power[b * blk + k] / blk;
            lo = fmin(lo, m);
            hi = fmax(hi, m);
        }
        if (hi / lo < 5.0)
            fail_msg("chunk %zu: the shaped band varies only %.2fx", c, hi / lo);

        chunk_power(out, c, CHUNK, power);
        double all = 0;
        for (uint32_t b = 0; b < nblk; b++) {
            double m = 0;
            for (uint32_t k = 0; k < blk; k++)
                m += power[b * blk + k] / blk;
            all += m / nblk;
            if (fabs(m / 2.0 - 1.0) > 0.2)
                fail_msg("chunk %zu, bins %u..%u: %.3f per bin after flattening, not ~2", c,
                         b * blk, (b + 1) * blk - 1, m);
        }
        if (fabs(all / 2.0 - 1.0) > 0.05)
            fail_msg("chunk %zu: mean %.3f per bin after flattening, not 2", c, all);
    }
    free(power);
    free(out);
    free(iq);
}

/* Two tones on exact bins of each chunk (one at a positive, one at a
 * negative frequency, 50 times the noise per bin) in a flat band: after
 * flattening each is still the strongest bin of its half of the band, and
 * its peak over the chunk's mean is within 1.5x of what it was (the tone
 * raises its own boxcar's mean by about a tenth). */
static void a_narrow_tone_survives_flattening(void **state)
{
    (void)state;
    const uint32_t kpos = 1000, kneg = CHUNK - 2500;
    float *iq = oz_test_noise(N, 2, 1.0);
    double amp = sqrt(50.0 / CHUNK);
    /* at a sample rate of CHUNK Hz, 1 Hz is one bin of a chunk */
    oz_tone a = {.freq_hz = kpos, .amp = amp}, b = {.freq_hz = -2500.0, .amp = amp};
    oz_sci_add_tone(iq, N, CHUNK, &a);
    oz_sci_add_tone(iq, N, CHUNK, &b);
    float *out = flattened(iq, N);
    double *before = malloc(CHUNK * sizeof *before), *after = malloc(CHUNK * sizeof *after);
    assert_non_null(before);
    assert_non_null(after);
    for (size_t c = 0; c < N / CHUNK; c++) {
        chunk_power(iq, c, CHUNK, before);
        chunk_power(out, c, CHUNK, after);
        double mb = 0, ma = 0;
        for (uint32_t k = 0; k < CHUNK; k++) {
            mb += before[k] / CHUNK;
            ma += after[k] / CHUNK;
        }
        uint32_t top_pos = 1, top_neg = CHUNK / 2;
        for (uint32_t k = 1; k < CHUNK; k++) {
            if (k < CHUNK / 2 && after[k] > after[top_pos])
                top_pos = k;
            if (k >= CHUNK / 2 && after[k] > after[top_neg])
                top_neg = k;
        }
        if (top_pos != kpos || top_neg != kneg)
            fail_msg("chunk %zu: strongest bins %u and %u after flattening, tones at %u and %u", c,
                     top_pos, top_neg, kpos, kneg);
        for (int t = 0; t < 2; t++) {
            uint32_t k = t ? kneg : kpos;
            double rb = before[k] / mb, ra = after[k] / ma;
            if (!(rb > 20.0) || ra / rb > 1.5 || rb / ra > 1.5)
                fail_msg("chunk %zu, bin %u: peak/mean %.1f before, %.1f after", c, k, rb, ra);
        }
    }
    free(before);
    free(after);
    free(out);
    free(iq);
}

/* Bad arguments are refused before anything is written; in == out gives
 * the same samples as a separate output. */
static void bad_arguments_are_refused_and_in_place_works(void **state)
{
    (void)state;
    const size_t n = 4 * 1024;
    float *iq = oz_test_noise(n, 3, 1.0);
    float *out = malloc(2 * n * sizeof *out), *sentinel = malloc(2 * n * sizeof *sentinel);
    assert_non_null(out);
    assert_non_null(sentinel);
    for (size_t i = 0; i < 2 * n; i++)
        sentinel[i] = (float)i;
    static const struct {
        size_t n;
        uint32_t chunk, boxcar;
    } bad[] = {
        {4 * 1024, 1000, 100},  /* chunk not a power of two */
        {4 * 1024, 4, 2},       /* chunk below 8 */
        {4 * 1024, 1024, 65},   /* boxcar odd */
        {4 * 1024, 1024, 2048}, /* boxcar longer than the chunk */
        {4 * 1024, 1024, 0},    /* no boxcar */
        {1000, 1024, 64},       /* fewer samples than one chunk */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memcpy(out, sentinel, 2 * n * sizeof *out);
        int rc = oz_bsmooth(iq, out, bad[i].n, bad[i].chunk, bad[i].boxcar, FFTW_ESTIMATE);
        if (rc != OZ_SCI_EINVAL)
            fail_msg("n %zu, chunk %u, boxcar %u: %d, not OZ_SCI_EINVAL", bad[i].n, bad[i].chunk,
                     bad[i].boxcar, rc);
        assert_memory_equal(out, sentinel, 2 * n * sizeof *out);
    }

    assert_int_equal(oz_bsmooth(iq, out, n, 1024, 64, FFTW_ESTIMATE), OZ_SCI_OK);
    float *in_place = copy_of(iq, n);
    assert_int_equal(oz_bsmooth(in_place, in_place, n, 1024, 64, FFTW_ESTIMATE), OZ_SCI_OK);
    assert_memory_equal(in_place, out, 2 * n * sizeof *out);
    free(in_place);

    /* not a whole number of chunks: the last window overlaps the one
     * before, and only its new samples are written, in place as well */
    const size_t m = n - 300;
    float *tail = malloc(2 * n * sizeof *tail);
    assert_non_null(tail);
    memcpy(tail, sentinel, 2 * n * sizeof *tail);
    assert_int_equal(oz_bsmooth(iq, tail, m, 1024, 64, FFTW_ESTIMATE), OZ_SCI_OK);
    assert_memory_equal(tail, out, 2 * 3 * 1024 * sizeof *out); /* the whole chunks */
    assert_memory_equal(tail + 2 * m, sentinel + 2 * m, 2 * 300 * sizeof *tail);
    double p = 0;
    for (size_t k = 3 * 1024; k < m; k++)
        p += (double)tail[2 * k] * tail[2 * k] + (double)tail[2 * k + 1] * tail[2 * k + 1];
    p /= (double)(m - 3 * 1024);
    if (!(p > 1.5 / 1024 && p < 2.5 / 1024)) /* 2 per bin over a 1024-point chunk */
        fail_msg("the tail's power per sample is %g, not about %g", p, 2.0 / 1024);
    in_place = copy_of(iq, m);
    assert_int_equal(oz_bsmooth(in_place, in_place, m, 1024, 64, FFTW_ESTIMATE), OZ_SCI_OK);
    assert_memory_equal(in_place, tail, 2 * m * sizeof *tail);
    free(in_place);
    free(tail);
    free(sentinel);
    free(out);
    free(iq);
}

/* A boxcar longer than half the chunk (allowed: up to the chunk) wraps
 * around the band like a shorter one.  As long as the chunk, it is one
 * mean for the whole band: every bin is scaled alike, so the samples come
 * out multiplied by 1 / sqrt(mean / 2).  Three quarters of the chunk still
 * flattens to 2 per bin. */
static void a_boxcar_longer_than_half_the_chunk_wraps(void **state)
{
    (void)state;
    const size_t n = 4 * 1024;
    const uint32_t chunk = 1024;
    float *iq = oz_test_noise(n, 6, 1.0);
    float *out = malloc(2 * n * sizeof *out);
    double *power = malloc(chunk * sizeof *power);
    assert_non_null(out);
    assert_non_null(power);

    assert_int_equal(oz_bsmooth(iq, out, n, chunk, chunk, FFTW_ESTIMATE), OZ_SCI_OK);
    for (size_t c = 0; c < n / chunk; c++) {
        chunk_power(iq, c, chunk, power);
        double mean = 0;
        for (uint32_t k = 0; k < chunk; k++)
            mean += power[k] / chunk;
        double scale = 1.0 / sqrt(mean / 2);
        for (size_t i = 2 * c * chunk; i < 2 * (c + 1) * chunk; i++)
            if (!(fabs(out[i] - iq[i] * scale) <= 1e-3 * scale * (fabs(iq[i]) + 0.1)))
                fail_msg("boxcar = chunk: sample %zu is %g, expected %g", i / 2, out[i],
                         iq[i] * scale);
    }

    assert_int_equal(oz_bsmooth(iq, out, n, chunk, 768, FFTW_ESTIMATE), OZ_SCI_OK);
    for (size_t c = 0; c < n / chunk; c++) {
        chunk_power(out, c, chunk, power);
        double mean = 0;
        for (uint32_t k = 0; k < chunk; k++)
            mean += power[k] / chunk;
        if (!(fabs(mean / 2 - 1) < 0.1))
            fail_msg("boxcar 768 of 1024: chunk %zu has %.3f per bin, not ~2", c, mean);
    }
    free(power);
    free(out);
    free(iq);
}

/* Ozma's own search of noise through a band shaped 30x: its bright end is
 * 3.5 times the spectra's mean, so bins there pass the spike threshold
 * (24 / 3.5 times their own level, once in a thousand) and the lines'
 * sums along drift tracks stand out: the list fills with false signals,
 * all in the brightest quarter of the band (where the gain is over 1.5
 * times the mean).  With bsmooth_boxcar set the
 * search flattens first and reports nothing; its best spike is below
 * threshold. */
static void flattening_keeps_a_bright_band_edge_from_raising_signals(void **state)
{
    (void)state;
    const size_t n = 1u << 16;
    for (uint64_t seed = 4; seed <= 5; seed++) {
        oz_sci_config cfg;
        oz_test_config_small(&cfg);
        float *iq = oz_test_noise(n, seed, 1.0);
        shape_band(iq, n, CHUNK, 1.5);
        oz_sci_result raw, flat;
        oz_test_search(&cfg, iq, n, OZ_TEST_FS, OZ_TEST_F0, &raw);
        cfg.bsmooth_boxcar = BOXCAR;
        cfg.bsmooth_chunk = CHUNK;
        oz_test_search(&cfg, iq, n, OZ_TEST_FS, OZ_TEST_F0, &flat);
        if (raw.nsignals == 0 || !(raw.best[OZ_SIG_SPIKE].score >= 1.0))
            fail_msg("seed %llu: the shaped band raised %zu signals, best spike %.2f",
                     (unsigned long long)seed, raw.nsignals, raw.best[OZ_SIG_SPIKE].power);
        for (size_t i = 0; i < raw.nsignals; i++) {
            /* from the band's top edge, wrapped (a track may cross it) */
            double d =
                remainder(raw.signals[i].freq_hz - (OZ_TEST_F0 + OZ_TEST_FS / 2), OZ_TEST_FS);
            if (fabs(d) > OZ_TEST_FS / 4) {
                oz_test_dump(&raw);
                fail_msg("seed %llu: signal %zu %.0f Hz from the band's bright end",
                         (unsigned long long)seed, i, d);
            }
        }
        if (flat.nsignals != 0 || !(flat.best[OZ_SIG_SPIKE].score < 1.0)) {
            oz_test_dump(&flat);
            fail_msg("seed %llu: %zu signals after flattening", (unsigned long long)seed,
                     flat.nsignals);
        }
        oz_sci_result_clear(&raw);
        oz_sci_result_clear(&flat);
        free(iq);
    }
}

/* What a user gets: a recording's configuration (oz_wu_config_recording,
 * what ozma-search, ozma-split and ozma-server load start from) flattens
 * the band, so a band whose gain falls 6x across it, which raises a list
 * full of signals without flattening, raises none; --bsmooth-boxcar 0 gives
 * the old behaviour back.  (A steeper edge still leaves the line search a
 * few false lines at the band's bright end: v8's boxcar is a quarter of the
 * band.) */
static void a_recording_is_flattened_by_default(void **state)
{
    (void)state;
    const size_t n = 1u << 16;
    oz_sci_config rec, small;
    oz_wu_config_recording(&rec);
    assert_true(rec.bsmooth_boxcar == 8192 && rec.bsmooth_chunk == 32768);
    oz_test_config_small(&small);
    rec.fft_min = small.fft_min;
    rec.fft_max = small.fft_max;
    rec.chirp_max = small.chirp_max;
    rec.gauss_fft_max = small.gauss_fft_max;
    rec.pulse_fft_max = small.pulse_fft_max;
    rec.triplet_fft_max = small.triplet_fft_max;
    float *iq = oz_test_noise(n, 4, 1.0);
    shape_band(iq, n, CHUNK, 0.8);
    char why[200];
    oz_sci_result flat, raw;
    oz_test_search(&rec, iq, n, OZ_TEST_FS, OZ_TEST_F0, &flat);
    assert_int_equal(oz_wu_config_set(&rec, "bsmooth-boxcar", "0", why, sizeof why), 0);
    oz_test_search(&rec, iq, n, OZ_TEST_FS, OZ_TEST_F0, &raw);
    if (flat.nsignals != 0 || raw.nsignals == 0) {
        oz_test_dump(&flat);
        fail_msg("%zu signals by default, %zu with flattening off", flat.nsignals, raw.nsignals);
    }
    oz_sci_result_clear(&flat);
    oz_sci_result_clear(&raw);
    free(iq);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_shaped_band_comes_out_flat_at_two_per_bin),
        cmocka_unit_test(a_narrow_tone_survives_flattening),
        cmocka_unit_test(bad_arguments_are_refused_and_in_place_works),
        cmocka_unit_test(a_boxcar_longer_than_half_the_chunk_wraps),
        cmocka_unit_test(flattening_keeps_a_bright_band_edge_from_raising_signals),
        cmocka_unit_test(a_recording_is_flattened_by_default),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
