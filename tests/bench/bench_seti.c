/*
 * bench_seti.c - SETI@home's reference unit, the whole v8 plan, every
 * detector: how long does Ozma take, and does it give v8's result?
 *
 * Reads reference_work_unit.sah, configures the seti mode from its
 * analysis_cfg (as `ozma-search UNIT.sah` does) and runs every step of the
 * plan, printing: the plan (steps, FFT work as the plan's deterministic FLOP
 * count), CPU seconds in the kernel, the CPU seconds inside fftwf_execute
 * and their share, and how the signals compare with the reference client's
 * result (reference_result_unit.sah: matched, missing, extra, and whether
 * the best of each type agrees).  The stock v8 client took 1,703 CPU
 * seconds for this unit on this machine (measured for the issue that asked
 * for this benchmark, building SETI@home's client from source); the target
 * is a fifth of that.
 *
 *   bench_seti [--every K [--span S]] [--planner estimate|measure|patient] [--fft-wisdom FILE]
 *              [--dump FILE] [--floor] [UNIT.sah RESULT.sah]
 *
 * --every K runs one step in K (a quick estimate: times scale by K; the
 * signal comparison is then partial); --span S runs S consecutive steps in
 * every K (rates +c and -c are consecutive steps: work shared between them
 * is then measured).  The planner defaults to measure, as
 * the seti configuration asks.  --fft-wisdom FILE keeps FFTW's wisdom in
 * FILE, as ozma-search --fft-wisdom does: the first run with patient plans
 * pays their planning (minutes) and writes it; later runs plan at once.
 * --dump FILE writes the result (every signal and best of type, all fields,
 * doubles to 17 digits) as JSON, so that two builds' results can be compared
 * byte for byte with cmp (the CPU seconds are left out).
 * --floor runs, instead of the search, only what no implementation of the
 * plan with these parts can skip: each (rate, length) pair's dechirp (a
 * copy at rate 0), its FFTs (the kernel's own batched plans, so the same
 * wisdom), the squaring and, at autocorr_fftlen, the autocorrelation (a
 * second transform of each spectrum), with no other detector, timed part
 * by part: how much of the target the plan's bare work leaves for the
 * detectors.
 */
#include <fftw3.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chirp.h"
#include "internal.h"
#include "ozma_workunits.h"
#include "seti.h"
#include "simd.h"
#include "support.h"

#define V8_STOCK_CPU_S 1703.0

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(8u << 20);
    *len = buf ? fread(buf, 1, (8u << 20) - 1, f) : 0;
    fclose(f);
    return buf;
}

/* v8's validator tolerances (as tests/unit/test_sci_seti_reference.c). */
static bool same(const oz_signal *a, const oz_signal *b)
{
    return a->type == b->type && a->fft_len == b->fft_len && fabs(a->time_s - b->time_s) <= 1.0 &&
           fabs(a->freq_hz - b->freq_hz) <= 0.01 && fabs(a->chirp_hz_s - b->chirp_hz_s) <= 0.01 &&
           fabs(a->power - b->power) <= 0.01 * fmax(a->power, b->power);
}

/* The result without its clocks, for cmp between builds. */
static int dump_result(const char *path, const oz_sci_result *res)
{
    oz_sci_result r = *res;
    r.cpu_s = r.fft_s = 0;
    json_t *o = oz_sci_result_to_json(&r);
    int rc = o ? json_dump_file(o, path, JSON_INDENT(1) | JSON_REAL_PRECISION(17)) : -1;
    json_decref(o);
    return rc;
}

#define FLOOR_CHUNK 32768u /* seti_search.c's SETI_CHUNK: the same plans */

static void floor_hit(void *ctx, const oz_seti_hit *h)
{
    (void)ctx;
    (void)h;
}

/* --floor: one pair in every K of the plan, dechirped (copied at rate 0),
 * transformed and squared chunk by chunk as the kernel does; the CPU of
 * each part, scaled by K, printed. */
static int floor_run(const oz_seti_run *run, const oz_sci_config *cfg, const float *iq, size_t n,
                     double fs, size_t every)
{
    const unsigned flags = cfg->planner == OZ_FFT_PATIENT   ? FFTW_PATIENT
                           : cfg->planner == OZ_FFT_MEASURE ? FFTW_MEASURE
                                                            : FFTW_ESTIMATE;
    const bool avx2 = oz_simd_avx2(cfg);
    size_t chunk = cfg->fft_max > FLOOR_CHUNK ? cfg->fft_max : FLOOR_CHUNK;
    fftwf_complex *buf = fftwf_alloc_complex(chunk);
    float *pw = fftwf_alloc_real(chunk);
    fftwf_plan plans[32] = {0};
    double part[4] = {0}; /* dechirp, FFT, squaring, autocorrelation */
    const uint32_t acl = cfg->seti.autocorr_fftlen;
    oz_seti_autocorr *ac = NULL;
    int rc = buf && pw && (!acl || oz_seti_autocorr_new(acl, flags, &ac) == 0) ? 0 : 1;
    const double step = oz_seti_run_min_step(run);
    const size_t npairs = oz_seti_run_npairs(run);
    for (size_t i = every / 2; i < npairs && !rc; i += every) {
        int32_t ind;
        uint32_t L;
        oz_seti_run_pair(run, i, &ind, &L);
        unsigned lg = oz_log2u(L);
        /* spectra per chunk, as seti_search.c's batch */
        size_t batch = L >= FLOOR_CHUNK ? 1 : FLOOR_CHUNK / L, per;
        batch = batch < n / L ? batch : n / L;
        per = batch * L;
        if (!plans[lg]) {
            int len = (int)L;
            plans[lg] = fftwf_plan_many_dft(1, &len, (int)batch, buf, NULL, 1, len, buf, NULL, 1,
                                            len, FFTW_FORWARD, flags);
            if (!plans[lg]) {
                rc = 1;
                break;
            }
        }
        for (size_t at = 0; at + per <= n; at += per) {
            double t0 = oz_thread_cpu_s();
            if (ind == 0)
                memcpy(buf, iq + 2 * at, per * sizeof *buf);
            else
                oz_dechirp(iq + 2 * at, (float *)buf, at, per, fs, ind * step, 0.0, avx2);
            double t1 = oz_thread_cpu_s();
            fftwf_execute(plans[lg]);
            double t2 = oz_thread_cpu_s();
            oz_seti_powers((const float *)buf, pw, per, avx2);
            double t3 = oz_thread_cpu_s();
            if (L == acl) { /* v8's one more transform of each spectrum's powers */
                oz_seti_block b = {NULL, L, (uint32_t)(n / L), n, fs, &cfg->seti, avx2, false};
                for (size_t j = 0; j < per / L; j++)
                    oz_seti_autocorr_search(ac, &b, pw + j * L, (uint32_t)(at / L + j), floor_hit,
                                            NULL);
            }
            part[0] += t1 - t0;
            part[1] += t2 - t1;
            part[2] += t3 - t2;
            part[3] += oz_thread_cpu_s() - t3;
        }
    }
    for (size_t i = 0; i < sizeof plans / sizeof plans[0]; i++)
        if (plans[i])
            fftwf_destroy_plan(plans[i]);
    oz_seti_autocorr_free(ac);
    fftwf_free(buf);
    fftwf_free(pw);
    if (rc) {
        fprintf(stderr, "bench_seti: out of memory or no FFTW plan for the floor\n");
        return 1;
    }
    double k = (double)every, total = k * (part[0] + part[1] + part[2] + part[3]);
    printf("floor (%zu pairs%s): dechirp %.1f s, FFTW %.1f s, squaring %.1f s, the "
           "autocorrelation's transform and search %.1f s; %.1f s in all, %.0f %% of the target's "
           "%.0f s, leaving %.1f s for the other detectors\n",
           npairs, every > 1 ? ", estimated from one pair in every K" : "", k * part[0],
           k * part[1], k * part[2], k * part[3], total, 100.0 * total / (V8_STOCK_CPU_S / 5),
           V8_STOCK_CPU_S / 5, V8_STOCK_CPU_S / 5 - total);
    return 0;
}

int main(int argc, char **argv)
{
    const char *unit = OZ_TEST_SETI_DIR "/reference_work_unit.sah";
    const char *ref = OZ_TEST_SETI_DIR "/reference_result_unit.sah";
    size_t every = 1, span = 1;
    oz_fft_planner planner = OZ_FFT_MEASURE;
    const char *wisdom = NULL, *dump = NULL;
    bool floor_only = false;
    int pos = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--every") == 0 && i + 1 < argc) {
            every = (size_t)strtoul(argv[++i], NULL, 10);
            every = every ? every : 1;
        } else if (strcmp(argv[i], "--span") == 0 && i + 1 < argc) {
            span = (size_t)strtoul(argv[++i], NULL, 10);
            span = span ? span : 1;
        } else if (strcmp(argv[i], "--planner") == 0 && i + 1 < argc) {
            const char *p = argv[++i];
            planner = strcmp(p, "estimate") == 0  ? OZ_FFT_ESTIMATE
                      : strcmp(p, "patient") == 0 ? OZ_FFT_PATIENT
                                                  : OZ_FFT_MEASURE;
        } else if (strcmp(argv[i], "--fft-wisdom") == 0 && i + 1 < argc) {
            wisdom = argv[++i];
        } else if (strcmp(argv[i], "--dump") == 0 && i + 1 < argc) {
            dump = argv[++i];
        } else if (strcmp(argv[i], "--floor") == 0) {
            floor_only = true;
        } else if (argv[i][0] != '-' && pos < 2) {
            *(pos++ ? &ref : &unit) = argv[i];
        } else {
            fprintf(stderr, "usage: bench_seti [--every K [--span S]] [--planner P] "
                            "[--fft-wisdom FILE] [--dump FILE] [--floor] [UNIT.sah RESULT.sah]\n");
            return 2;
        }
    }

    char why[512] = "";
    oz_wu_reader *r = NULL;
    if (oz_wu_open(unit, NULL, &r, why, sizeof why)) {
        fprintf(stderr, "bench_seti: %s\n", why);
        return 1;
    }
    oz_sci_config cfg;
    if (!oz_wu_reader_sah(r) || oz_wu_sah_config(oz_wu_reader_sah(r), &cfg, why, sizeof why)) {
        fprintf(stderr, "bench_seti: %s: %s\n", unit, why[0] ? why : "not a .sah unit");
        return 1;
    }
    cfg.planner = planner;
    const oz_wu_info *info = oz_wu_reader_info(r);
    size_t n = (size_t)info->nsamples, got = 0;
    float *iq = malloc(2 * n * sizeof *iq);
    if (!iq || oz_wu_reader_read(r, iq, n, &got, why, sizeof why) || got != n) {
        fprintf(stderr, "bench_seti: %s: %s\n", unit, why);
        return 1;
    }

    if (wisdom && oz_wu_wisdom_load(wisdom, why, sizeof why)) {
        fprintf(stderr, "bench_seti: %s\n", why);
        return 1;
    }
    double t0 = cpu_now();
    oz_sci_search *s = NULL;
    if (oz_sci_search_new(&cfg, iq, n, info->sample_rate, info->center_hz, &s, why, sizeof why)) {
        fprintf(stderr, "bench_seti: %s\n", why);
        return 1;
    }
    double plan_s = cpu_now() - t0;
    if (wisdom && oz_wu_wisdom_save(wisdom, why, sizeof why)) {
        fprintf(stderr, "bench_seti: %s\n", why);
        return 1;
    }
    oz_seti_run *run = oz_sci_search_seti(s);
    size_t steps = oz_sci_search_steps(s);
    printf("plan: %zu chirp steps, %.3e FLOP of FFT work and detection (deterministic), "
           "planning %.1f s (%s%s)\n",
           steps, (double)oz_sci_search_flops(s), plan_s,
           planner == OZ_FFT_ESTIMATE  ? "estimate"
           : planner == OZ_FFT_PATIENT ? "patient"
                                       : "measure",
           wisdom ? ", with FFTW wisdom kept in the file" : "");
    fflush(stdout);
    if (floor_only) {
        int rc = floor_run(run, &cfg, iq, n, info->sample_rate, every);
        oz_sci_search_free(s);
        oz_wu_reader_close(r);
        free(iq);
        return rc;
    }
    span = span < every ? span : every;
    /* not always step 0: it holds every length; a span starts at an odd
     * step, a rate +c (step 0 is rate 0, then +c and -c by |c|) */
    bool stop = false;
    for (size_t k = every / 2 + (span > 1 && every / 2 % 2 == 0); k < steps && !stop; k += every) {
        oz_seti_run_goto(run, k);
        for (size_t j = 0; j < span && k + j < steps && !stop; j++)
            stop = oz_sci_search_step(s) != 0;
        if (k % (every * 1000) == 0) {
            fprintf(stderr, "\rbench_seti: step %zu of %zu", k, steps);
            fflush(stderr);
        }
    }
    fprintf(stderr, "\n");
    oz_sci_result res;
    oz_sci_search_result(s, &res);
    double scale = (double)every / (double)span;
    printf("kernel CPU: %.1f s%s, of which FFTW %.1f s (%.0f %%)\n", res.cpu_s * scale,
           every > 1 ? " (estimated from one step in every K)" : "", res.fft_s * scale,
           100.0 * res.fft_s / res.cpu_s);
    if (dump && dump_result(dump, &res)) {
        fprintf(stderr, "bench_seti: cannot write %s\n", dump);
        return 1;
    }
    printf("against the stock v8 client's %.0f s: %.2fx faster (target 5x, <= %.0f s)\n",
           V8_STOCK_CPU_S, V8_STOCK_CPU_S / (res.cpu_s * scale), V8_STOCK_CPU_S / 5);

    size_t len = 0;
    char *xml = slurp(ref, &len);
    oz_sci_result want;
    if (!xml || oz_wu_sah_result_parse(xml, len, NULL, &want, why, sizeof why)) {
        printf("reference result %s: %s\n", ref, why[0] ? why : "unreadable");
    } else {
        size_t matched = 0, extra = 0;
        for (size_t i = 0; i < want.nsignals; i++)
            for (size_t j = 0; j < res.nsignals; j++)
                if (same(&want.signals[i], &res.signals[j])) {
                    matched++;
                    break;
                }
        for (size_t j = 0; j < res.nsignals; j++) {
            bool found = false;
            for (size_t i = 0; i < want.nsignals && !found; i++)
                found = same(&want.signals[i], &res.signals[j]);
            if (!found) {
                extra++;
                printf("  extra: %s L=%u t=%.3f f=%.4f chirp=%.6f power=%.5g\n",
                       oz_sig_type_name(res.signals[j].type), res.signals[j].fft_len,
                       res.signals[j].time_s, res.signals[j].freq_hz, res.signals[j].chirp_hz_s,
                       res.signals[j].power);
            }
        }
        int bests = 0, agree = 0;
        for (int t = 0; t < OZ_SIG_NTYPES; t++) {
            if (!want.has_best[t])
                continue;
            bests++;
            agree += res.has_best[t] && same(&want.best[t], &res.best[t]);
        }
        printf("signals: %zu of v8's %zu matched, %zu missing, %zu extra; best of type: %d of %d "
               "agree%s\n",
               matched, want.nsignals, want.nsignals - matched, extra, agree, bests,
               every > 1 ? " (partial run)" : "");
        oz_sci_result_clear(&want);
    }
    free(xml);
    oz_sci_result_clear(&res);
    oz_sci_search_free(s);
    oz_wu_reader_close(r);
    free(iq);
    return 0;
}
