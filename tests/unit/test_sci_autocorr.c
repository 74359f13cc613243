/*
 * test_sci_autocorr.c - the seti mode's autocorrelation (v8's FindAutoCorrelation):
 * an echo x(t) + a x(t - tau) in complex Gaussian noise is reported at v8's
 * delay, 2 tau / fs (v8 counts half-sample lags), up to lags of L/4; noise
 * alone is not reported and peaks where v8's statistics put it; the
 * statistic matches a direct cosine sum at small lengths; time is the
 * spectrum's centre; fields are finite and the score grows with the peak.
 *
 * Powers are |X|^2 of FFTW forward transforms of oz_sci_add_noise samples,
 * the way the seti search makes them.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <fftw3.h>

#include "support.h"
#include "seti.h"
#include "simd.h"

#define FS OZ_TEST_FS
#define N 131072u   /* v8's autocorr_fftlen */
#define THRESH 17.8 /* v8's autocorr_thresh */
#define MAX_HITS 16

typedef struct hits {
    int n;
    oz_seti_hit h[MAX_HITS];
} hits;

static void collect(void *ctx, const oz_seti_hit *hit)
{
    hits *hs = ctx;
    if (hs->n < MAX_HITS)
        hs->h[hs->n] = *hit;
    hs->n++;
}

/* Powers |X[k]|^2 (FFTW order) of the forward transforms of nspec rows of L
 * samples; the caller frees. */
static float *powers(const float *iq, uint32_t L, uint32_t nspec)
{
    fftwf_complex *buf = fftwf_malloc(sizeof(fftwf_complex) * L);
    float *p = malloc(sizeof(float) * L * nspec);
    assert_non_null(buf);
    assert_non_null(p);
    fftwf_plan plan = fftwf_plan_dft_1d((int)L, buf, buf, FFTW_FORWARD, FFTW_ESTIMATE);
    assert_non_null(plan);
    for (uint32_t s = 0; s < nspec; s++) {
        memcpy(buf, iq + 2 * (size_t)s * L, sizeof(fftwf_complex) * L);
        fftwf_execute(plan);
        for (uint32_t k = 0; k < L; k++)
            p[(size_t)s * L + k] = buf[k][0] * buf[k][0] + buf[k][1] * buf[k][1];
    }
    fftwf_destroy_plan(plan);
    fftwf_free(buf);
    return p;
}

/* L samples of unit-power noise plus an echo a x(t - lag), the noise running
 * from lag samples before the first. */
static float *echo(uint32_t L, uint64_t seed, double a, uint32_t lag)
{
    size_t m = (size_t)L + lag;
    float *x = calloc(2 * m, sizeof(float));
    float *y = malloc(sizeof(float) * 2 * L);
    assert_non_null(x);
    assert_non_null(y);
    oz_rng rng;
    oz_rng_seed(&rng, seed);
    oz_sci_add_noise(x, m, 1.0, &rng);
    for (size_t t = 0; t < 2 * (size_t)L; t++)
        y[t] = x[t + 2 * (size_t)lag] + (float)a * x[t];
    free(x);
    return y;
}

/* Runs the search on row ifft of nspec rows of powers, expecting one hit;
 * avx2: whether it may take the AVX2 route. */
static oz_seti_hit search_with(const float *power, uint32_t L, uint32_t nspec, uint32_t ifft,
                               bool avx2)
{
    oz_sci_seti p;
    memset(&p, 0, sizeof p);
    p.autocorr_thresh = THRESH;
    p.autocorr_fftlen = L;
    oz_seti_block b = {.power = power,
                       .L = L,
                       .nspec = nspec,
                       .n = (size_t)L * nspec,
                       .fs = FS,
                       .p = &p,
                       .avx2 = avx2};
    oz_seti_autocorr *a;
    assert_int_equal(oz_seti_autocorr_new(L, FFTW_ESTIMATE, &a), OZ_SCI_OK);
    hits hs = {0};
    assert_true(oz_seti_autocorr_search(a, &b, power + (size_t)ifft * L, ifft, collect, &hs) >=
                0.0);
    oz_seti_autocorr_free(a);
    assert_int_equal(hs.n, 1);
    return hs.h[0];
}

static oz_seti_hit search(const float *power, uint32_t L, uint32_t nspec, uint32_t ifft)
{
    return search_with(power, L, nspec, ifft, oz_cpu_avx2());
}

static oz_seti_hit search_echo(uint64_t seed, double a, uint32_t lag)
{
    float *y = echo(N, seed, a, lag);
    float *p = powers(y, N, 1);
    oz_seti_hit h = search(p, N, 1, 0);
    free(p);
    free(y);
    return h;
}

static void check_fields(const oz_seti_hit *h)
{
    assert_int_equal(h->type, OZ_SIG_AUTOCORR);
    assert_int_equal(h->bin, 0);
    assert_true(isfinite(h->time_s) && isfinite(h->peak_power) && isfinite(h->delay_s) &&
                isfinite(h->score));
    assert_true(h->mean_power == 1.0);
    assert_true(h->peak_power >= 0.0 && h->delay_s >= 0.0);
    assert_true(h->delay_s < (double)(N / 2) / FS);
    assert_true(h->report == (h->peak_power > THRESH));
    assert_true(h->period_s == 0.0 && h->sigma_s == 0.0 && h->chisq == 0.0);
}

static void an_echo_is_reported_at_twice_its_lag(void **state)
{
    (void)state;
    /* the last is the reference unit's autocorr: delay 2.6452 s at 9765.62 Hz */
    const uint32_t lags[] = {1, 37, 1000, 5001, 20000, 32767, 12916};
    for (int i = 0; i < 7; i++) {
        oz_seti_hit h = search_echo(100 + (uint64_t)i, 0.05, lags[i]);
        check_fields(&h);
        if (!h.report || fabs(h.delay_s - 2.0 * lags[i] / FS) > 0.5 / FS)
            fail_msg("lag %u: peak %g, delay %.6f s (%g bins), want %.6f s", lags[i], h.peak_power,
                     h.delay_s, h.delay_s * FS, 2.0 * lags[i] / FS);
        assert_true(fabs(h.time_s - 0.5 * N / FS) < 1e-12);
    }
    assert_true(fabs(2.0 * 12916 / 9765.62 - 2.6451981543415) < 1e-9);
}

static void an_echo_past_a_quarter_spectrum_is_not_searched(void **state)
{
    (void)state;
    /* Lags from L/4 up make delays past L/2 bins, which v8 does not look at.
     * (At exactly L/4 the DCT's odd bin just below, 2 tau - 1, still catches
     * a share of the ripple, and v8 reports the echo at the edge.) */
    const uint32_t lags[] = {33000, 40000, 60000};
    for (int i = 0; i < 3; i++) {
        oz_seti_hit h = search_echo(200 + (uint64_t)i, 0.05, lags[i]);
        check_fields(&h);
        if (h.report)
            fail_msg("lag %u: reported, peak %g at %g bins", lags[i], h.peak_power, h.delay_s * FS);
    }
}

static void the_avx2_route_gives_the_scalar_result_to_the_bit(void **state)
{
    (void)state;
    if (!oz_cpu_avx2())
        skip();
    const uint32_t Ls[] = {16, 64, 4096, N};
    for (int i = 0; i < 4; i++) {
        float *y = echo(Ls[i], 400 + (uint64_t)i, 0.05, Ls[i] / 8);
        float *p = powers(y, Ls[i], 1);
        oz_seti_hit s = search_with(p, Ls[i], 1, 0, false);
        oz_seti_hit v = search_with(p, Ls[i], 1, 0, true);
        if (memcmp(&s.peak_power, &v.peak_power, sizeof s.peak_power) || s.delay_s != v.delay_s ||
            memcmp(&s.score, &v.score, sizeof s.score))
            fail_msg("L %u: scalar peak %.9g at %g s, AVX2 %.9g at %g s", Ls[i], s.peak_power,
                     s.delay_s, v.peak_power, v.delay_s);
        free(p);
        free(y);
    }
}

static void noise_alone_is_not_reported(void **state)
{
    (void)state;
    /* The zero-delay square is 4/5 of v8's mean, so a noise peak is 0.4 times
     * the largest of 65535 chi-square(1) draws: about 7.6. */
    double sum = 0;
    for (uint64_t seed = 1; seed <= 8; seed++) {
        oz_seti_hit h = search_echo(seed, 0.0, 0);
        check_fields(&h);
        if (h.report || h.peak_power < 4.0 || h.peak_power > 14.0)
            fail_msg("seed %u: peak %g at %g bins", (unsigned)seed, h.peak_power, h.delay_s * FS);
        sum += h.peak_power;
    }
    assert_true(sum / 8 > 6.0 && sum / 8 < 10.0);
}

/* v8's statistic straight from its definition, in double: the REDFT10 by a
 * direct cosine sum, squares below L/2 over L, the largest past delay 0. */
static void direct(const float *P, uint32_t L, double *ratio, uint32_t *kpeak)
{
    double total = 0, peak = 0;
    *kpeak = 0;
    for (uint32_t k = 0; k < L / 2; k++) {
        double y = 0;
        for (uint32_t n = 0; n < L; n++)
            y += 2.0 * P[n] * cos(OZ_PI * (n + 0.5) * k / L);
        total += y * y;
        if (k > 0 && y * y > peak) {
            peak = y * y;
            *kpeak = k;
        }
    }
    *ratio = peak / (total / L);
}

static void the_statistic_matches_a_direct_cosine_sum(void **state)
{
    (void)state;
    const uint32_t Ls[] = {8, 64, 1024, 4096};
    for (int i = 0; i < 4; i++) {
        uint32_t L = Ls[i];
        float *y = echo(L, 300 + (uint64_t)i, 0.3, L / 16);
        float *p = powers(y, L, 1);
        double ratio;
        uint32_t kpeak;
        direct(p, L, &ratio, &kpeak);
        oz_seti_hit h = search(p, L, 1, 0);
        if (fabs(h.peak_power - ratio) > 1e-4 * ratio || fabs(h.delay_s * FS - kpeak) > 1e-6)
            fail_msg("L %u: peak %g at %g, direct %g at %u", L, h.peak_power, h.delay_s * FS, ratio,
                     kpeak);
        assert_true(fabs(h.score - log10(h.peak_power / 40.0)) < 1e-12);
        free(p);
        free(y);
    }
}

static void time_is_the_centre_of_the_spectrum(void **state)
{
    (void)state;
    /* three spectra; only the middle one echoes */
    const uint32_t L = 4096, lag = 300;
    float *iq = calloc(2 * (size_t)L * 3, sizeof(float));
    assert_non_null(iq);
    oz_rng rng;
    oz_rng_seed(&rng, 7);
    oz_sci_add_noise(iq, (size_t)L * 3, 1.0, &rng);
    float *y = echo(L, 8, 0.5, lag);
    memcpy(iq + 2 * (size_t)L, y, sizeof(float) * 2 * L);
    float *p = powers(iq, L, 3);
    for (uint32_t s = 0; s < 3; s++) {
        oz_seti_hit h = search(p, L, 3, s);
        check_fields(&h);
        assert_true(fabs(h.time_s - (s + 0.5) * L / FS) < 1e-12);
        assert_true(h.report == (s == 1));
        if (s == 1)
            assert_true(fabs(h.delay_s - 2.0 * lag / FS) < 1e-12);
    }
    free(p);
    free(y);
    free(iq);
}

static void score_grows_with_the_echo(void **state)
{
    (void)state;
    /* echo power a^2 ~ 4a^2 N / 5 over the mean: about 3, 42, 260 */
    const double amps[] = {0.005, 0.02, 0.05};
    double last = -1e300;
    for (int i = 0; i < 3; i++) {
        oz_seti_hit h = search_echo(400, amps[i], 2500);
        check_fields(&h);
        assert_true(h.score > last);
        assert_true(fabs(h.score - log10(h.peak_power / 40.0)) < 1e-12);
        assert_true(h.report == (i > 0));
        last = h.score;
    }
    /* a spectrum of zeros: v8 would divide 0 by 0; here a finite nothing */
    float *z = calloc(N, sizeof(float));
    assert_non_null(z);
    oz_seti_hit h = search(z, N, 1, 0);
    check_fields(&h);
    assert_true(h.peak_power == 0.0 && h.score == -12.0 && !h.report);
    free(z);
}

static void new_refuses_lengths_it_cannot_search(void **state)
{
    (void)state;
    const uint32_t bad[] = {0, 4, 7, 100, 3u << 10, 2 * OZ_SCI_FFT_MAX};
    for (int i = 0; i < 6; i++) {
        oz_seti_autocorr *a = (oz_seti_autocorr *)1;
        assert_int_equal(oz_seti_autocorr_new(bad[i], FFTW_ESTIMATE, &a), OZ_SCI_EINVAL);
        assert_null(a);
    }
    oz_seti_autocorr_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(an_echo_is_reported_at_twice_its_lag),
        cmocka_unit_test(an_echo_past_a_quarter_spectrum_is_not_searched),
        cmocka_unit_test(noise_alone_is_not_reported),
        cmocka_unit_test(the_avx2_route_gives_the_scalar_result_to_the_bit),
        cmocka_unit_test(the_statistic_matches_a_direct_cosine_sum),
        cmocka_unit_test(time_is_the_centre_of_the_spectrum),
        cmocka_unit_test(score_grows_with_the_echo),
        cmocka_unit_test(new_refuses_lengths_it_cannot_search),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
