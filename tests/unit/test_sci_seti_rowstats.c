/*
 * test_sci_seti_rowstats.c - a spectrum's powers, blocked total and first
 * maximum (seti_rowstats.c), the numbers behind every spike's mean and
 * peak.  The powers are re^2 + im^2 in float on every route, in order.  The
 * one-pass AVX2 route must give v8's scalar answer to the bit, for every
 * length and block size the seti mode uses, on noise, on rows whose maximum
 * repeats (the first must win), whose maximum is bin 0 (not searched), and
 * on a row of zeros (no maximum: bin 0, peak 0); squaring and statistics in
 * one pass (oz_seti_power_stats) give what the two passes give.
 *
 * The reference here is written from v8's description, not from the
 * library: each block summed in float from 0 in order, the block sums added
 * in order; the first strictly greatest of x[1 ..].
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"
#include "seti.h"

static float ref_total(const float *x, uint32_t L, uint32_t blk)
{
    float total = 0.0f;
    for (uint32_t b = 0; b < L / blk; b++) {
        float part = 0.0f;
        for (uint32_t i = 0; i < blk; i++)
            part += x[(size_t)b * blk + i];
        total += part;
    }
    return total;
}

static float ref_max(const float *x, uint32_t L, uint32_t *at)
{
    float best = 0.0f;
    *at = 0;
    for (uint32_t k = 1; k < L; k++)
        if (x[k] > best) {
            best = x[k];
            *at = k;
        }
    return best;
}

static bool have_avx2(void)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    return __builtin_cpu_supports("avx2");
#else
    return false;
#endif
}

/* Both routes against the reference, bit for bit. */
static void check(const float *x, uint32_t L, uint32_t blk)
{
    uint32_t want_at;
    float want_total = ref_total(x, L, blk), want_peak = ref_max(x, L, &want_at);
    for (int v = 0; v < 2; v++) {
        if (v == 1 && !have_avx2())
            continue;
        float total = -1.0f;
        uint32_t at = 12345;
        float peak = oz_seti_row_stats(x, L, blk, v == 1, &total, &at);
        if (memcmp(&total, &want_total, sizeof total) != 0 ||
            memcmp(&peak, &want_peak, sizeof peak) != 0 || at != want_at)
            fail_msg("L %u blk %u %s: total %.9g peak %.9g at %u, want %.9g %.9g at %u", L, blk,
                     v ? "avx2" : "scalar", total, peak, at, want_total, want_peak, want_at);
    }
}

/* exponential powers (chi-square, 2 degrees: a noise spectrum's), to
 * `levels` distinct values when levels > 0, so that maxima repeat */
static void fill(float *x, uint32_t L, oz_rng *rng, int levels)
{
    for (uint32_t k = 0; k < L; k++) {
        double u = oz_rng_uniform(rng);
        double p = -log(1.0 - u);
        x[k] = levels > 0 ? (float)floor(p * levels / 4.0) : (float)p;
    }
}

static void every_length_and_block_size(void **state)
{
    (void)state;
    float *x = malloc(sizeof(float) * 131072);
    assert_non_null(x);
    oz_rng rng;
    oz_rng_seed(&rng, 7);
    for (uint32_t L = 8; L <= 131072; L *= 2) {
        /* the spike's blocks over L, the autocorrelation's over L / 2 */
        uint32_t blks[2] = {oz_seti_sum_block(L, 8), oz_seti_sum_block(L / 2, 4)};
        for (int b = 0; b < 2; b++) {
            if (blks[b] > L)
                continue;
            for (int levels = 0; levels <= 6; levels += 3) {
                fill(x, L, &rng, levels);
                check(x, L, blks[b]);
            }
        }
    }
    free(x);
}

static void the_first_of_equal_maxima_wins(void **state)
{
    (void)state;
    const uint32_t L = 65536, blk = oz_seti_sum_block(L, 8);
    float *x = calloc(L, sizeof(float));
    assert_non_null(x);
    /* the same peak in a later block but an earlier column, and in a later
     * column of an earlier block: the lowest index is the first */
    uint32_t spots[] = {5 * blk + 3, 2 * blk + 7, 9 * blk + 1, 2 * blk + 900 % blk, 40000};
    for (size_t i = 0; i < sizeof spots / sizeof *spots; i++)
        x[spots[i]] = 9.5f;
    check(x, L, blk);
    uint32_t at;
    float total;
    assert_true(oz_seti_row_stats(x, L, blk, have_avx2(), &total, &at) == 9.5f);
    uint32_t first = spots[0];
    for (size_t i = 1; i < sizeof spots / sizeof *spots; i++)
        first = spots[i] < first ? spots[i] : first;
    assert_int_equal(at, first);
    free(x);
}

static void bin_zero_is_not_searched_and_zeros_have_no_peak(void **state)
{
    (void)state;
    const uint32_t L = 16384, blk = oz_seti_sum_block(L, 8);
    float *x = calloc(L, sizeof(float));
    assert_non_null(x);
    uint32_t at = 1;
    float total = 1.0f;
    assert_true(oz_seti_row_stats(x, L, blk, have_avx2(), &total, &at) == 0.0f);
    assert_int_equal(at, 0);
    assert_true(total == 0.0f);
    check(x, L, blk);

    x[0] = 100.0f; /* the largest, but bin 0: the peak is the next */
    x[77] = 3.0f;
    assert_true(oz_seti_row_stats(x, L, blk, have_avx2(), &total, &at) == 3.0f);
    assert_int_equal(at, 77);
    assert_true(total == 103.0f);
    check(x, L, blk);
    free(x);
}

static void powers_are_the_squares_in_order(void **state)
{
    (void)state;
    const size_t n = 1000 + 5; /* not a multiple of eight */
    float *iq = oz_test_noise(n, 3, 1.0), *out = malloc(sizeof(float) * n);
    assert_non_null(out);
    for (int v = 0; v < 2; v++) {
        if (v == 1 && !have_avx2())
            continue;
        memset(out, 0, sizeof(float) * n);
        oz_seti_powers(iq, out, n, v == 1);
        for (size_t k = 0; k < n; k++) {
            volatile float re2 = iq[2 * k] * iq[2 * k], im2 = iq[2 * k + 1] * iq[2 * k + 1];
            float want = re2 + im2;
            if (memcmp(&out[k], &want, sizeof want) != 0)
                fail_msg("%s: power %zu is %.9g, want %.9g", v ? "avx2" : "scalar", k, out[k],
                         want);
        }
    }
    free(iq);
    free(out);
}

/* The squaring and the statistics in one pass: the powers each gives alone,
 * and their statistics, bit for bit, at every length the spike search runs,
 * with maxima repeating (samples of a few levels) and not. */
static void powers_and_statistics_in_one_pass(void **state)
{
    (void)state;
    const uint32_t N = 131072;
    float *iq = oz_test_noise(N, 11, 1.0), *want = malloc(sizeof(float) * N);
    float *out = malloc(sizeof(float) * N);
    assert_non_null(want);
    assert_non_null(out);
    for (int levels = 0; levels < 2; levels++) {
        if (levels)
            for (size_t k = 0; k < 2 * (size_t)N; k++)
                iq[k] = floorf(iq[k] * 2.0f);
        for (uint32_t L = 8; L <= N; L *= 2) {
            uint32_t blk = oz_seti_sum_block(L, 8), want_at;
            oz_seti_powers(iq, want, L, false);
            float want_total = ref_total(want, L, blk), want_peak = ref_max(want, L, &want_at);
            for (int v = 0; v < 2; v++) {
                if (v == 1 && !have_avx2())
                    continue;
                float total = -1.0f;
                uint32_t at = 12345;
                memset(out, 0, sizeof(float) * L);
                float peak = oz_seti_power_stats(iq, out, L, blk, v == 1, &total, &at);
                if (memcmp(out, want, sizeof(float) * L) != 0 ||
                    memcmp(&total, &want_total, sizeof total) != 0 ||
                    memcmp(&peak, &want_peak, sizeof peak) != 0 || at != want_at)
                    fail_msg("L %u %s: total %.9g peak %.9g at %u, want %.9g %.9g at %u%s", L,
                             v ? "avx2" : "scalar", total, peak, at, want_total, want_peak, want_at,
                             memcmp(out, want, sizeof(float) * L) ? ", powers differ" : "");
            }
        }
    }
    free(iq);
    free(want);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(powers_are_the_squares_in_order),
        cmocka_unit_test(powers_and_statistics_in_one_pass),
        cmocka_unit_test(every_length_and_block_size),
        cmocka_unit_test(the_first_of_equal_maxima_wins),
        cmocka_unit_test(bin_zero_is_not_searched_and_zeros_have_no_peak),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
