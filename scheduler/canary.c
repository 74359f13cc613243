/*
 * canary.c - hidden known-answer signals (canary.h): drawing one, adding
 * it to a unit's samples with science/'s synthesis, its truth as JSON, and
 * finding it in a result.
 */
#include "canary.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "sched_errors.h"

static const char *const env_names[] = {"tone", "gaussian", "pulses"};

void oz_canary_draw(const oz_sci_config *cfg, size_t n, double sample_rate, const double u[6],
                    oz_canary *out)
{
    memset(out, 0, sizeof *out);
    double dur = (double)n / sample_rate;
    /* a burst covers whole spectra of the longest length, where the check
     * looks for it (oz_canary_found) */
    double T = (double)cfg->fft_max / sample_rate;
    out->env = (oz_envelope)(int)(u[0] * 3.0);
    if (out->env > OZ_ENV_PULSES)
        out->env = OZ_ENV_PULSES;
    out->offset_hz = (u[1] - 0.5) * 0.8 * sample_rate;
    out->chirp_hz_s = (u[2] - 0.5) * cfg->chirp_max;
    switch (out->env) {
    case OZ_ENV_CONST:
        out->snr = 0.25 + 0.25 * u[3];
        break;
    case OZ_ENV_GAUSS: /* a beam crossing in the unit's middle half */
        out->snr = 2.0 + 2.0 * u[3];
        out->sigma_s = fmax(dur / 16.0, T);
        out->t0 = dur * (0.25 + 0.5 * u[4]);
        break;
    case OZ_ENV_PULSES: /* 4 to 8 pulses, each a 32nd of the unit (or 2 spectra) */
        out->snr = 4.0 + 4.0 * u[3];
        out->width_s = fmax(dur / 32.0, 2.0 * T);
        out->period_s = fmax(dur / (4.0 + 4.0 * u[5]), 2.0 * out->width_s);
        out->t0 = fmin(out->period_s, dur - out->width_s) * 0.5 * u[4];
        break;
    }
    /* keep the drifting track inside the band */
    double end = out->offset_hz + out->chirp_hz_s * dur;
    if (fabs(end) > 0.45 * sample_rate)
        out->chirp_hz_s = -out->chirp_hz_s;
}

void oz_canary_inject(const oz_canary *c, float *iq, size_t n, double sample_rate)
{
    double p = 0;
    for (size_t i = 0; i < 2 * n; i++)
        p += (double)iq[i] * (double)iq[i];
    p = n ? p / (double)n : 0;
    if (!(p > 0))
        p = 1e-4; /* silent samples: a tone a hundredth of full scale */
    oz_tone t = {.freq_hz = c->offset_hz,
                 .chirp_hz_s = c->chirp_hz_s,
                 .amp = sqrt(c->snr * p),
                 .env = c->env,
                 .t0 = c->t0,
                 .sigma_s = c->sigma_s,
                 .period_s = c->period_s,
                 .width_s = c->width_s};
    oz_sci_add_tone(iq, n, sample_rate, &t);
}

int oz_canary_to_text(const oz_canary *c, char *buf, size_t len)
{
    int k = snprintf(buf, len,
                     "{\"kind\":\"%s\",\"offset_hz\":%.17g,\"chirp_hz_s\":%.17g,\"snr\":%.17g,"
                     "\"t0\":%.17g,\"sigma_s\":%.17g,\"period_s\":%.17g,\"width_s\":%.17g}",
                     env_names[c->env], c->offset_hz, c->chirp_hz_s, c->snr, c->t0, c->sigma_s,
                     c->period_s, c->width_s);
    return k > 0 && (size_t)k < len ? OZ_SCHED_OK : OZ_SCHED_ELIMIT;
}

int oz_canary_parse(const char *text, oz_canary *out, char *why, size_t whylen)
{
    json_error_t jerr;
    if (strlen(text) > OZ_CANARY_JSON_MAX)
        return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen, "canary: longer than %d bytes",
                             OZ_CANARY_JSON_MAX);
    json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    const char *kind = NULL;
    oz_canary c;
    memset(&c, 0, sizeof c);
    int rc = j ? json_unpack_ex(j, &jerr, JSON_STRICT, "{s:s, s:F, s:F, s:F, s:F, s:F, s:F, s:F}",
                                "kind", &kind, "offset_hz", &c.offset_hz, "chirp_hz_s",
                                &c.chirp_hz_s, "snr", &c.snr, "t0", &c.t0, "sigma_s", &c.sigma_s,
                                "period_s", &c.period_s, "width_s", &c.width_s)
               : -1;
    int env = -1;
    for (int i = 0; rc == 0 && i < 3; i++)
        if (strcmp(kind, env_names[i]) == 0)
            env = i;
    json_decref(j);
    if (rc != 0)
        return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen, "canary: %s", jerr.text);
    if (env < 0)
        return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen, "canary: unknown kind");
    c.env = (oz_envelope)env;
    *out = c;
    return OZ_SCHED_OK;
}

bool oz_canary_matches(const oz_canary *c, const oz_signal *g, double center_hz, double sample_rate,
                       const oz_sci_config *cfg)
{
    double L = g->fft_len >= 1 ? (double)g->fft_len : 1.0;
    double bin = sample_rate / L, span = L / sample_rate;
    double want = center_hz + c->offset_hz + c->chirp_hz_s * g->time_s;
    /* two bins, the drift over one spectrum, and a chirp step's */
    double tol = 2.0 * bin + fabs(c->chirp_hz_s) * span + cfg->chirp_resolution * bin;
    return fabs(g->freq_hz - want) <= tol;
}

bool oz_canary_found(const oz_canary *c, const oz_sci_result *r, double center_hz,
                     double sample_rate, const oz_sci_config *cfg)
{
    /* Only fine bins prove it: at short lengths a bin is wide enough (fs/8)
     * for a made-up signal to fall on the track by chance.  The kernel
     * reports a canary as a line at the longest length (and as spikes,
     * triplets or pulses besides). */
    for (size_t i = 0; i < r->nsignals; i++)
        if ((uint64_t)r->signals[i].fft_len * 4 >= cfg->fft_max &&
            oz_canary_matches(c, &r->signals[i], center_hz, sample_rate, cfg))
            return true;
    return false;
}
