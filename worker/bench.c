/*
 * bench.c - the FLOPS benchmark registered with the host and used for
 * estimates (BOINC's Whetstone, but measured on the work we actually do).
 *
 * It searches a fixed unit of synthetic noise (2^16 samples, FFT 64..4096,
 * chirp ±10 Hz/s) with the real kernel, as many times as it takes to spend
 * min_cpu_s of CPU, and divides the kernel's deterministic FLOP count by the
 * kernel's own CPU seconds.  The number is FLOP/s of one core; the scheduler
 * multiplies by the host's cores.  It runs in the calling thread at its
 * priority (attach and `ozma-worker benchmark` run it in the foreground).
 */
#include <stdlib.h>

#include "worker.h"

#define BENCH_SAMPLES (1u << 16)

int oz_wk_benchmark(double min_cpu_s, double *flops, char *why, size_t whylen)
{
    *flops = 0;
    float *iq = calloc(2 * (size_t)BENCH_SAMPLES, sizeof *iq);
    if (!iq)
        return oz_wk_fail(OZ_WK_ENOMEM, why, whylen, "benchmark: out of memory");
    oz_rng rng;
    oz_rng_seed(&rng, 20240501);
    oz_sci_add_noise(iq, BENCH_SAMPLES, 1.0, &rng);
    oz_sci_config cfg;
    oz_sci_config_default(&cfg);
    cfg.fft_min = 64;
    cfg.fft_max = 4096;
    cfg.chirp_max = 10;
    cfg.gauss_fft_max = 1024;
    cfg.pulse_fft_max = 1024;
    cfg.triplet_fft_max = 1024;
    cfg.planner = OZ_FFT_ESTIMATE;
    cfg.no_avx2 = oz_wk_host_no_avx2();
    double total_flops = 0, total_cpu = 0;
    int rc = OZ_WK_OK;
    for (int round = 0; round < 1000 && (round == 0 || total_cpu < min_cpu_s); round++) {
        oz_sci_search *s = NULL;
        oz_sci_result res = {0};
        char w[256] = "";
        if (oz_sci_search_new(&cfg, iq, BENCH_SAMPLES, 9765.625, 1.42e9, &s, w, sizeof w) !=
                OZ_SCI_OK ||
            oz_sci_search_run(s, NULL, NULL) != OZ_SCI_OK ||
            oz_sci_search_result(s, &res) != OZ_SCI_OK) {
            oz_sci_search_free(s);
            rc = oz_wk_fail(OZ_WK_ESCIENCE, why, whylen, "benchmark: %s", w);
            break;
        }
        total_flops += (double)res.flops;
        total_cpu += res.cpu_s;
        oz_sci_result_clear(&res);
        oz_sci_search_free(s);
    }
    free(iq);
    if (rc == OZ_WK_OK) {
        if (total_cpu <= 0)
            total_cpu = 1e-6;
        *flops = total_flops / total_cpu;
    }
    return rc;
}
