/*
 * bench_kernel.c - how fast is the search kernel, and where does its time go?
 *
 * Runs the kernel on a 2^20-sample unit (noise plus a drifting tone, the size
 * of a SETI@home unit) with a stated configuration and prints: CPU seconds
 * in the kernel, CPU seconds inside fftwf_execute (measured by the kernel
 * itself), their ratio (target <= 1.25: dechirping and detection cost at most
 * a quarter on top of the FFTs), and the FLOP rate of the deterministic
 * count.  Then it searches two units concurrently in two threads and
 * compares wall-clock throughput with one unit alone (target >= 1.8x: the
 * worker runs one unit per core).  Ratios within one run, never absolute
 * times, because the machines are shared.
 *
 *   bench_kernel [--chirp-max HZ_S] [--fft-min N] [--fft-max N] [--measure] [--no-lines]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "support.h"

#define UNIT (1u << 20)

struct job {
    const oz_sci_config *cfg;
    float *iq;
    oz_sci_result res;
    double wall_s;
    int rc;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void *run_job(void *arg)
{
    struct job *j = arg;
    char why[256];
    oz_sci_search *s = NULL;
    double t0 = now();
    j->rc = oz_sci_search_new(j->cfg, j->iq, UNIT, OZ_TEST_FS, OZ_TEST_F0, &s, why, sizeof why);
    if (j->rc == 0)
        j->rc = oz_sci_search_run(s, NULL, NULL);
    if (j->rc == 0)
        j->rc = oz_sci_search_result(s, &j->res);
    if (j->rc)
        fprintf(stderr, "bench_kernel: %s %s\n", oz_sci_strerror(j->rc), why);
    oz_sci_search_free(s);
    j->wall_s = now() - t0;
    return NULL;
}

static float *make_unit(uint64_t seed)
{
    float *iq = calloc(2 * (size_t)UNIT, sizeof *iq);
    if (!iq)
        exit(1);
    oz_rng rng;
    oz_rng_seed(&rng, seed);
    oz_sci_add_noise(iq, UNIT, 1.0, &rng);
    oz_tone tone = {.freq_hz = 1234.5, .chirp_hz_s = 0.05, .amp = 0.05};
    oz_sci_add_tone(iq, UNIT, OZ_TEST_FS, &tone);
    return iq;
}

int main(int argc, char **argv)
{
    oz_sci_config cfg;
    oz_sci_config_default(&cfg);
    cfg.chirp_max = 0.1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--chirp-max") && i + 1 < argc)
            cfg.chirp_max = strtod(argv[++i], NULL);
        else if (!strcmp(argv[i], "--fft-min") && i + 1 < argc)
            cfg.fft_min = (uint32_t)strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--fft-max") && i + 1 < argc)
            cfg.fft_max = (uint32_t)strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--measure"))
            cfg.planner = OZ_FFT_MEASURE;
        else if (!strcmp(argv[i], "--no-lines"))
            cfg.line_pfa = 0;
        else {
            fprintf(stderr, "usage: bench_kernel [--chirp-max HZ_S] [--fft-min N] [--fft-max N] "
                            "[--measure] [--no-lines]\n");
            return 2;
        }
    }
    char why[256];
    if (oz_sci_config_check(&cfg, why, sizeof why)) {
        fprintf(stderr, "bench_kernel: %s\n", why);
        return 2;
    }
    printf("unit: 2^20 complex samples at %.3f Hz; FFT %u..%u; chirp +-%g Hz/s; planner %s; "
           "lines %s\n",
           OZ_TEST_FS, cfg.fft_min, cfg.fft_max, cfg.chirp_max,
           cfg.planner == OZ_FFT_MEASURE ? "measure" : "estimate", cfg.line_pfa > 0 ? "on" : "off");

    struct job one = {.cfg = &cfg, .iq = make_unit(1)};
    run_job(&one);
    if (one.rc)
        return 1;
    printf("single unit: %.3f s wall, %.3f s CPU in kernel, %.3f s CPU in fftwf_execute\n",
           one.wall_s, one.res.cpu_s, one.res.fft_s);
    printf("kernel / FFTW time: %.3f (target <= 1.25)\n", one.res.cpu_s / one.res.fft_s);
    printf("FLOPs (plan count): %.4g; rate %.3f GFLOP/s of kernel CPU time\n",
           (double)one.res.flops, (double)one.res.flops / one.res.cpu_s * 1e-9);
    printf("signals: %zu\n", one.res.nsignals);
    if (getenv("OZ_BENCH_DUMP"))
        oz_test_dump(&one.res);

    struct job pair[2] = {{.cfg = &cfg, .iq = one.iq}, {.cfg = &cfg, .iq = make_unit(2)}};
    pthread_t th[2];
    double t0 = now();
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, run_job, &pair[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    double pair_wall = now() - t0;
    if (pair[0].rc || pair[1].rc)
        return 1;
    printf("two units concurrently: %.3f s wall\n", pair_wall);
    printf("throughput two/one: %.3f (target >= 1.8)\n", 2.0 * one.wall_s / pair_wall);

    oz_sci_result_clear(&one.res);
    oz_sci_result_clear(&pair[0].res);
    oz_sci_result_clear(&pair[1].res);
    free(one.iq);
    free(pair[1].iq);
    return 0;
}
