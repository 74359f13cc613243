/*
 * bench_sched_spot.c - what does a spot check (scheduler/spot.c) cost the
 * server, as a share of the unit's search?  For each unit shape it makes a
 * unit (noise and three drifting tones), runs the whole search as a host
 * would (plans, band flattening and every step: the process CPU time of it
 * all), then spot-checks that honest result with 20 draws and prints the
 * mean CPU time of one check over the search's (target <= 1 %) and how
 * many checks passed (all must: an honest host is never blamed).
 *
 *   bench_sched_spot            the simulation's units and a larger one
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "spot.h"
#include "support.h"

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct shape {
    const char *name;
    size_t n;
    uint32_t fft_max;
    double chirp_max;
} shape;

static int bench(const shape *sh)
{
    oz_sci_config cfg;
    oz_sci_config_default(&cfg);
    cfg.fft_max = sh->fft_max;
    cfg.chirp_max = sh->chirp_max;
    cfg.line_pfa = 0;
    cfg.planner = OZ_FFT_ESTIMATE;
    float *iq = oz_test_noise(sh->n, 3, 1.0);
    oz_tone tones[3] = {{.freq_hz = 1000.5, .chirp_hz_s = 0.5, .amp = 0.25},
                        {.freq_hz = -2000.25, .chirp_hz_s = -3, .amp = 0.25},
                        {.freq_hz = -4000, .chirp_hz_s = 3, .amp = 0.3}};
    for (int k = 0; k < 3; k++)
        oz_sci_add_tone(iq, sh->n, OZ_TEST_FS, &tones[k]);
    char why[256];
    oz_sci_search *s = NULL;
    oz_sci_result r;
    double t0 = cpu_now();
    int rc = oz_sci_search_new(&cfg, iq, sh->n, OZ_TEST_FS, OZ_TEST_F0, &s, why, sizeof why);
    if (rc == 0)
        rc = oz_sci_search_run(s, NULL, NULL);
    if (rc == 0)
        rc = oz_sci_search_result(s, &r);
    double search_s = cpu_now() - t0;
    size_t steps = rc == 0 ? oz_sci_search_steps(s) : 0;
    oz_sci_search_free(s);
    if (rc) {
        fprintf(stderr, "bench_sched_spot: %s: %s\n", sh->name, why);
        free(iq);
        return 1;
    }
    int passed = 0, draws = 20;
    double spot_s = 0;
    for (int i = 0; i < draws; i++) {
        oz_spot out;
        if (oz_spot_check(&cfg, iq, sh->n, OZ_TEST_FS, OZ_TEST_F0, &r, (i + 0.5) / draws, &out, why,
                          sizeof why) != 0) {
            fprintf(stderr, "bench_sched_spot: %s: %s\n", sh->name, why);
            break;
        }
        passed += out.pass;
        spot_s += out.cpu_s;
    }
    printf("%-28s %8zu samples %6zu steps  search %.4f s  spot check %.5f s  = %.2f %% of the "
           "unit  (%d/%d honest checks passed)\n",
           sh->name, sh->n, steps, search_s, spot_s / draws, 100.0 * spot_s / draws / search_s,
           passed, draws);
    oz_sci_result_clear(&r);
    free(iq);
    return passed == draws ? 0 : 1;
}

int main(void)
{
    static const shape shapes[] = {
        {"simulation (2^13, 2048, 500)", 1u << 13, 2048, 500.0},
        {"larger (2^17, 16384, 10)", 1u << 17, 16384, 10.0},
        {"larger (2^17, 8192, 60)", 1u << 17, 8192, 60.0},
    };
    int rc = 0;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        rc |= bench(&shapes[i]);
    return rc;
}
