/*
 * support.c - see support.h.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

#include "ozma_workunits.h"

float *oz_test_noise(size_t n, uint64_t seed, double noise_power)
{
    float *iq = calloc(2 * n, sizeof *iq);
    assert_non_null(iq);
    if (noise_power > 0) {
        oz_rng rng;
        oz_rng_seed(&rng, seed);
        oz_sci_add_noise(iq, n, noise_power, &rng);
    }
    return iq;
}

void oz_test_config_small(oz_sci_config *cfg)
{
    oz_sci_config_default(cfg);
    cfg->fft_min = 64;
    cfg->fft_max = 4096;
    cfg->chirp_max = 5.0;
    cfg->gauss_fft_max = 1024;
    cfg->pulse_fft_max = 1024;
    cfg->triplet_fft_max = 1024;
    cfg->planner = OZ_FFT_ESTIMATE;
}

void oz_test_config_seti_small(oz_sci_config *cfg)
{
    oz_sci_config_default(cfg);
    cfg->mode = OZ_MODE_SETI;
    cfg->fft_min = 64;
    cfg->fft_max = 8192;
    cfg->chirp_max = 4.0;
    cfg->chirp_resolution = 0.333;
    cfg->spike_thresh = 22.0;
    cfg->max_signals = OZ_SCI_SIGNALS_MAX;
    cfg->seti.angle_range = 0.0;
    cfg->seti.pulse_fft_max = 0;
    cfg->seti.autocorr_fftlen = 0;
}

void oz_test_search(const oz_sci_config *cfg, const float *iq, size_t n, double fs, double f0,
                    oz_sci_result *out)
{
    char why[256] = "";
    oz_sci_search *s = NULL;
    int rc = oz_sci_search_new(cfg, iq, n, fs, f0, &s, why, sizeof why);
    if (rc != 0)
        fail_msg("oz_sci_search_new: %s (%s)", oz_sci_strerror(rc), why);
    assert_int_equal(oz_sci_search_run(s, NULL, NULL), 0);
    assert_true(oz_sci_search_finished(s));
    assert_int_equal(oz_sci_search_result(s, out), 0);
    oz_sci_search_free(s);
}

const oz_signal *oz_test_find(const oz_sci_result *r, oz_sig_type t, double freq, double tol)
{
    const oz_signal *best = NULL;
    for (size_t i = 0; i < r->nsignals; i++) {
        const oz_signal *s = &r->signals[i];
        if (s->type == t && fabs(s->freq_hz - freq) <= tol && (!best || s->score > best->score))
            best = s;
    }
    return best;
}

size_t oz_test_count(const oz_sci_result *r, oz_sig_type t)
{
    size_t c = 0;
    for (size_t i = 0; i < r->nsignals; i++)
        c += r->signals[i].type == t;
    return c;
}

void oz_test_dump(const oz_sci_result *r)
{
    fprintf(stderr, "%zu signals%s\n", r->nsignals, r->overflow ? " (overflow)" : "");
    for (size_t i = 0; i < r->nsignals; i++) {
        const oz_signal *s = &r->signals[i];
        fprintf(
            stderr,
            "  %-8s L=%-6u f=%.4f c=%.4f t=%.3f power=%.3f score=%.3f P=%.4f sig=%.3f chi=%.3f\n",
            oz_sig_type_name(s->type), s->fft_len, s->freq_hz, s->chirp_hz_s, s->time_s, s->power,
            s->score, s->period_s, s->sigma_s, s->chisq);
    }
    for (int t = 0; t < OZ_SIG_NTYPES; t++)
        if (r->has_best[t])
            fprintf(stderr, "  best %-8s L=%-6u f=%.4f c=%.4f t=%.3f score=%.3f\n",
                    oz_sig_type_name((oz_sig_type)t), r->best[t].fft_len, r->best[t].freq_hz,
                    r->best[t].chirp_hz_s, r->best[t].time_s, r->best[t].score);
}

char *oz_test_result_text(const oz_sci_result *r)
{
    oz_wu_result w;
    memset(&w, 0, sizeof w);
    snprintf(w.unit_id, sizeof w.unit_id, "u-0001");
    w.result = *r; /* borrowed: not cleared here */
    json_t *j = oz_wu_result_to_json(&w);
    assert_non_null(j);
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    assert_non_null(text);
    return text;
}
