/*
 * bench_lines.c - the line search against a Taylor-tree drift search, on
 * the units of issue 7: 2^20 complex samples at 9765.625 Hz (107 s) of
 * unit-variance complex Gaussian noise plus one tone of amplitude a (noise
 * rms units) drifting at d Hz/s, 16384-point resolution (0.6 Hz x 1.68 s),
 * drift range +-5 Hz/s.
 *
 * Ozma: the kernel with fft_min = fft_max = 16384, chirp +-5 Hz/s, spikes
 * and lines only (Gaussians, pulses, triplets off).  Baseline: the same
 * spectrogram without dechirping, a Taylor tree per integer drift rate (rows
 * pre-shifted j bins per spectrum, the tree covering the fraction), SNR =
 * (sum/mu - n)/sqrt(n) with the same robust mu, threshold 10, as drift
 * searches of today's surveys do.
 *
 * Prints recall over seeds for a grid of a x d for both, false `line` and
 * `spike` detections on pure-noise units, and CPU seconds per unit.  A
 * detection counts when its frequency at its time is within two bins of the
 * tone's and its drift within 0.1 Hz/s (Ozma's) or within the baseline's
 * resolution (a bin per unit).
 *
 *   bench_lines [--seeds N] [--noise-units N] [--half-bin 0|1]
 *               [--chirp-resolution R] [--amp A] [--line-pfa P] [--quick]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fftw3.h>

#include "internal.h"
#include "simd.h"
#include "support.h"

#define UNIT (1u << 20)
#define LEN 16384u
#define NSPEC (UNIT / LEN)

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void make_unit(float *iq, uint64_t seed, double amp, double drift, double f)
{
    memset(iq, 0, 2 * (size_t)UNIT * sizeof *iq);
    oz_rng rng;
    oz_rng_seed(&rng, seed);
    oz_sci_add_noise(iq, UNIT, 1.0, &rng);
    if (amp > 0) {
        oz_tone tone = {.freq_hz = f, .chirp_hz_s = drift, .amp = amp};
        oz_sci_add_tone(iq, UNIT, OZ_TEST_FS, &tone);
    }
}

/* ---- Ozma ------------------------------------------------------------------ */

static int ozma_search(const oz_sci_config *cfg, const float *iq, oz_sci_result *r)
{
    char why[256];
    oz_sci_search *s = NULL;
    int rc = oz_sci_search_new(cfg, iq, UNIT, OZ_TEST_FS, 0.0, &s, why, sizeof why);
    if (rc == 0)
        rc = oz_sci_search_run(s, NULL, NULL);
    if (rc == 0)
        rc = oz_sci_search_result(s, r);
    if (rc)
        fprintf(stderr, "bench_lines: %s\n", why);
    oz_sci_search_free(s);
    return rc;
}

static bool ozma_found(const oz_sci_result *r, double f, double d)
{
    const double bin = OZ_TEST_FS / LEN;
    for (size_t i = 0; i < r->nsignals; i++) {
        const oz_signal *s = &r->signals[i];
        if (s->type != OZ_SIG_LINE)
            continue;
        double truth = f + d * s->time_s;
        if (fabs(s->freq_hz - truth) <= 2 * bin && fabs(s->chirp_hz_s - d) <= 0.1)
            return true;
    }
    return false;
}

/* ---- the Taylor-tree baseline ----------------------------------------------- */

struct taylor {
    float *power;     /* NSPEC x LEN */
    float *a, *b, *c; /* NSPEC x LEN: the shifted spectrogram, tree work areas */
    fftwf_complex *buf;
    fftwf_plan plan;
};

static int cmp(const void *x, const void *y)
{
    float a = *(const float *)x, b = *(const float *)y;
    return (a > b) - (a < b);
}

static double taylor_mu(struct taylor *t)
{
    /* the median of straight sums over bins, as Ozma's */
    float *col = malloc(LEN * sizeof *col);
    for (uint32_t k = 0; k < LEN; k++) {
        double sum = 0;
        for (uint32_t s = 0; s < NSPEC; s++)
            sum += t->power[s * LEN + k];
        col[k] = (float)sum;
    }
    qsort(col, LEN, sizeof *col, cmp);
    double mu = col[LEN / 2] / (NSPEC - 1.0 / 3.0);
    free(col);
    return mu;
}

/* Runs the baseline; returns whether a hit with SNR >= 10 is near (f, d);
 * counts hits anywhere in *nhits. */
static bool taylor_search(struct taylor *t, const float *iq, double f, double d, int *nhits)
{
    const double bin = OZ_TEST_FS / LEN, tfft = LEN / OZ_TEST_FS;
    memcpy(t->buf, iq, 2 * (size_t)UNIT * sizeof(float));
    fftwf_execute(t->plan);
    for (size_t i = 0; i < UNIT; i++)
        t->power[i] = t->buf[i][0] * t->buf[i][0] + t->buf[i][1] * t->buf[i][1];
    double mu = taylor_mu(t);
    const float thr = (float)((NSPEC + 10.0 * sqrt(NSPEC)) * mu);
    int jmax = (int)ceil(5.0 * tfft / bin); /* bins per spectrum at 5 Hz/s */
    bool near = false;
    *nhits = 0;
    for (int j = -jmax - 1; j <= jmax; j++) {
        /* rows pre-shifted by j bins per spectrum: the tree adds 0..1 more */
        for (uint32_t s = 0; s < NSPEC; s++) {
            int64_t sh = ((int64_t)j * s) % (int64_t)LEN;
            if (sh < 0)
                sh += LEN;
            for (uint32_t k = 0; k < LEN; k++)
                t->a[s * LEN + k] = t->power[s * LEN + (k + (uint32_t)sh) % LEN];
        }
        const float *rows[NSPEC];
        for (uint32_t s = 0; s < NSPEC; s++)
            rows[s] = t->a + (size_t)s * LEN;
        const float *R = oz_taylor_tree(rows, t->b, t->c, NSPEC, LEN, NSPEC - 1, oz_cpu_avx2());
        for (uint32_t dd = 0; dd < NSPEC; dd++) {
            for (uint32_t k = 0; k < LEN; k++) {
                if (R[dd * LEN + k] < thr)
                    continue;
                (*nhits)++;
                double rate = (j + dd / (NSPEC - 1.0)) * bin / tfft;
                double fk = (k < LEN / 2 ? (double)k : (double)k - LEN) * bin;
                if (fabs(fk - (f + d * 0.5 * tfft)) <= 2 * bin &&
                    fabs(rate - d) <= bin / (NSPEC * tfft) + 0.05)
                    near = true;
            }
        }
    }
    return near;
}

int main(int argc, char **argv)
{
    int seeds = 10, noise_units = 100;
    uint32_t half_bin = 1;
    double res = 1.0;
    bool quick = false;
    double only_amp = 0, pfa = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seeds") && i + 1 < argc)
            seeds = (int)strtol(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--noise-units") && i + 1 < argc)
            noise_units = (int)strtol(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--half-bin") && i + 1 < argc)
            half_bin = (uint32_t)strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--chirp-resolution") && i + 1 < argc)
            res = strtod(argv[++i], NULL);
        else if (!strcmp(argv[i], "--line-pfa") && i + 1 < argc)
            pfa = strtod(argv[++i], NULL);
        else if (!strcmp(argv[i], "--amp") && i + 1 < argc)
            only_amp = strtod(argv[++i], NULL);
        else if (!strcmp(argv[i], "--quick"))
            quick = true;
        else {
            fprintf(stderr, "usage: bench_lines [--seeds N] [--noise-units N] [--half-bin 0|1] "
                            "[--chirp-resolution R] [--amp A] [--line-pfa P] [--quick]\n");
            return 2;
        }
    }
    oz_sci_config cfg;
    oz_sci_config_default(&cfg);
    cfg.fft_min = cfg.fft_max = LEN;
    cfg.chirp_max = 5.0;
    cfg.chirp_resolution = res;
    cfg.gauss_fft_max = cfg.pulse_fft_max = cfg.triplet_fft_max = 0;
    cfg.line_half_bin = half_bin;
    cfg.planner = OZ_FFT_MEASURE;
    if (pfa > 0)
        cfg.line_pfa = pfa;

    float *iq = fftwf_alloc_real(2 * (size_t)UNIT);
    struct taylor t = {
        .power = fftwf_alloc_real(UNIT),
        .a = fftwf_alloc_real(UNIT),
        .b = fftwf_alloc_real(UNIT),
        .c = fftwf_alloc_real(UNIT),
        .buf = fftwf_alloc_complex(UNIT),
    };
    int L = LEN;
    t.plan = fftwf_plan_many_dft(1, &L, NSPEC, t.buf, NULL, 1, L, t.buf, NULL, 1, L, FFTW_FORWARD,
                                 FFTW_MEASURE);

    printf("units: 2^20 samples at %.3f Hz; resolution %u points; drift range +-5 Hz/s\n",
           OZ_TEST_FS, LEN);
    printf("ozma: chirp_resolution %g, half-bin spectra %s, line_pfa %g; baseline: Taylor tree, "
           "SNR 10\n",
           res, half_bin ? "on" : "off", cfg.line_pfa);

    /* false alarms and time on pure noise */
    int ozma_false_lines = 0, ozma_false_spikes = 0, taylor_false = 0;
    double ozma_cpu = 0, taylor_cpu = 0;
    int nnoise = quick ? 5 : noise_units;
    for (int u = 0; u < nnoise; u++) {
        make_unit(iq, 1000 + (uint64_t)u, 0, 0, 0);
        oz_sci_result r;
        double c0 = cpu_now();
        if (ozma_search(&cfg, iq, &r))
            return 1;
        double c1 = cpu_now();
        int hits;
        taylor_search(&t, iq, 0, 0, &hits);
        double c2 = cpu_now();
        ozma_cpu += c1 - c0;
        taylor_cpu += c2 - c1;
        ozma_false_lines += (int)oz_test_count(&r, OZ_SIG_LINE);
        ozma_false_spikes += (int)oz_test_count(&r, OZ_SIG_SPIKE);
        taylor_false += hits > 0;
        oz_sci_result_clear(&r);
    }
    printf("pure noise, %d units: ozma false lines %d, false spikes %d; baseline units with a hit "
           "%d\n",
           nnoise, ozma_false_lines, ozma_false_spikes, taylor_false);
    printf("CPU seconds per unit: ozma %.3f (lines + spikes), baseline %.3f\n", ozma_cpu / nnoise,
           taylor_cpu / nnoise);

    const double amps[] = {0.006, 0.008, 0.010, 0.015, 0.020, 0.050};
    const double drifts[] = {0.0, 0.4, 1.3, 2.6, 4.1, 5.0};
    size_t na = quick ? 3 : sizeof amps / sizeof amps[0];
    int nseeds = quick ? 2 : seeds;
    printf(
        "\nrecall over %d seeds (random frequency, sign of drift alternating): ozma / baseline\n",
        nseeds);
    printf("   a \\ |d|");
    for (size_t j = 0; j < sizeof drifts / sizeof drifts[0]; j++)
        printf("   %4.1f Hz/s", drifts[j]);
    printf("\n");
    for (size_t i = 0; i < na; i++) {
        if (only_amp > 0 && fabs(amps[i] - only_amp) > 1e-9)
            continue;
        printf("  %6.3f  ", amps[i]);
        for (size_t j = 0; j < sizeof drifts / sizeof drifts[0]; j++) {
            int ok = 0, base_ok = 0;
            for (int sd = 0; sd < nseeds; sd++) {
                oz_rng rng;
                oz_rng_seed(&rng, 7000 + 100 * i + 10 * j + (uint64_t)sd);
                double f = (oz_rng_uniform(&rng) - 0.5) * 0.6 * OZ_TEST_FS;
                double d = (sd % 2 ? -1 : 1) * drifts[j];
                make_unit(iq, 5000 + (uint64_t)(100 * i + 10 * j) + (uint64_t)sd, amps[i], d, f);
                oz_sci_result r;
                if (ozma_search(&cfg, iq, &r))
                    return 1;
                ok += ozma_found(&r, f, d);
                oz_sci_result_clear(&r);
                int hits;
                base_ok += taylor_search(&t, iq, f, d, &hits);
            }
            printf("   %4.2f/%4.2f", (double)ok / nseeds, (double)base_ok / nseeds);
        }
        printf("\n");
        fflush(stdout);
    }
    fftwf_destroy_plan(t.plan);
    fftwf_free(t.buf);
    fftwf_free(t.a);
    fftwf_free(t.b);
    fftwf_free(t.c);
    fftwf_free(t.power);
    fftwf_free(iq);
    return 0;
}
