/*
 * synth.c - synthetic recordings: complex Gaussian noise with injected
 * signals of every type, generated chunk by chunk, and their truth file.
 *
 * The samples come from science/'s oz_rng, oz_sci_add_noise and
 * oz_sci_add_tone, so a seed names the same recording on every machine.  The
 * noise is one random sequence consumed in order, so it does not depend on
 * the chunk size.  oz_sci_add_tone counts time from its buffer's first
 * sample, so a chunk starting at T0 gets each tone re-expressed on the
 * chunk's clock: frequency offset + chirp*T0, envelope times minus T0, and
 * the phase the tone had reached at T0, exp(2 pi i (f T0 + c T0^2 / 2)),
 * applied by one complex rotation of the tone's samples (drawn into a
 * scratch buffer) - so tones stay phase-continuous across chunks.
 *
 * Injection types map onto envelopes:
 *   SPIKE     constant tone, present over [t_start, t_end) (or throughout);
 *             any type not named below (a persistent line) is such a tone;
 *   GAUSSIAN  beam crossing: power exp(-(t-t0)^2 / (2 sigma^2)), drawn over
 *             t0 ± 8 sigma;
 *   PULSE     a pulse of width_s every period_s from t0 until t_end (or the
 *             end of the recording);
 *   TRIPLET   exactly three such pulses.
 * SNR is per-sample power over noise power: a tone of snr s found with an
 * FFT of length L stands about s*L above the noise in its bin.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define TWO_PI 6.28318530717958647692
#define CHUNK 65536u

struct gen_tone {
    oz_tone tone;           /* on the recording's clock; t_start/t_end set */
    bool whole;             /* present throughout */
    double t_first, t_last; /* extent for the truth file */
};

struct oz_wu_synth_gen {
    oz_wu_synth s;
    struct gen_tone *tones;
    oz_rng rng;
    uint64_t pos;
    float *scratch; /* CHUNK samples */
};

static double duration(const oz_wu_synth *s)
{
    return (double)s->nsamples / s->sample_rate;
}

static double amplitude(const oz_wu_synth *s, double snr)
{
    return sqrt(snr * (s->noise_power > 0 ? s->noise_power : 1.0));
}

/* The tone and extent of injection i. */
static void make_tone(const oz_wu_synth *s, const oz_wu_inject *in, struct gen_tone *g)
{
    double T = duration(s);
    memset(g, 0, sizeof *g);
    oz_tone *t = &g->tone;
    t->freq_hz = in->offset_hz;
    t->chirp_hz_s = in->chirp_hz_s;
    t->amp = amplitude(s, in->snr);
    switch (in->type) {
    case OZ_SIG_GAUSSIAN:
        t->env = OZ_ENV_GAUSS;
        t->t0 = in->t0;
        t->sigma_s = in->sigma_s;
        t->t_start = fmax(0.0, in->t0 - 8 * in->sigma_s);
        t->t_end = fmin(T, in->t0 + 8 * in->sigma_s);
        g->t_first = in->t0 - in->sigma_s;
        g->t_last = in->t0 + in->sigma_s;
        break;
    case OZ_SIG_PULSE:
    case OZ_SIG_TRIPLET: {
        t->env = OZ_ENV_PULSES;
        t->t0 = in->t0;
        t->period_s = in->period_s;
        t->width_s = in->width_s;
        t->t_start = in->t0;
        if (in->type == OZ_SIG_TRIPLET)
            t->t_end = in->t0 + 2 * in->period_s + in->width_s;
        else
            t->t_end = in->t_end > in->t_start ? in->t_end : T;
        t->t_end = fmin(t->t_end, T);
        /* the last pulse that starts before t_end */
        double k = floor((t->t_end - in->t0) / in->period_s);
        if (in->t0 + k * in->period_s >= t->t_end && k > 0)
            k -= 1;
        g->t_first = in->t0;
        g->t_last = fmin(in->t0 + k * in->period_s + in->width_s, t->t_end);
        break;
    }
    case OZ_SIG_SPIKE:
    default:
        t->env = OZ_ENV_CONST;
        g->whole = !(in->t_end > in->t_start);
        t->t_start = g->whole ? 0.0 : fmax(0.0, in->t_start);
        t->t_end = g->whole ? T : fmin(T, in->t_end);
        g->t_first = t->t_start;
        g->t_last = t->t_end;
        break;
    }
}

int oz_wu_synth_check(const oz_wu_synth *s, char *why, size_t whylen)
{
    if (!s)
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "no recording described");
    if (!isfinite(s->sample_rate) || s->sample_rate <= 0 || s->sample_rate > OZ_WU_SAMPLE_RATE_MAX)
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "sample rate %g must be in (0, %g] Hz",
                          s->sample_rate, OZ_WU_SAMPLE_RATE_MAX);
    if (!isfinite(s->center_hz) || fabs(s->center_hz) > OZ_WU_FREQ_MAX)
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "centre frequency %g is outside ±%g Hz",
                          s->center_hz, OZ_WU_FREQ_MAX);
    if (s->nsamples == 0 || s->nsamples > ((uint64_t)1 << 40))
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "sample count %llu is outside 1..2^40",
                          (unsigned long long)s->nsamples);
    if (!isfinite(s->noise_power) || s->noise_power < 0)
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "noise power %g must be >= 0", s->noise_power);
    if (s->ninj > 0 && !s->inj)
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "no injections given");
    if (s->has_sky &&
        (!(s->ra_deg >= 0 && s->ra_deg < 360) || !(s->dec_deg >= -90 && s->dec_deg <= 90)))
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen,
                          "sky position %g, %g is outside [0, 360) x "
                          "[-90, 90]",
                          s->ra_deg, s->dec_deg);
    if (s->has_site && !oz_wu_site_valid(&s->site))
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "site %g, %g, %g m is not on Earth",
                          s->site.lat_deg, s->site.lon_deg, s->site.alt_m);
    if (s->ntrack > OZ_WU_POINTING_MAX || (s->ntrack > 0 && !s->track))
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "more than %u pointings",
                          OZ_WU_POINTING_MAX);
    for (size_t i = 0; i < s->ntrack; i++) {
        const oz_wu_pointing *p = &s->track[i];
        if (i == 0 ? p->t_s != 0 : !(p->t_s > s->track[i - 1].t_s && p->t_s < duration(s)))
            return oz_wu_fail(OZ_WU_EINVAL, why, whylen,
                              "pointing %zu at %g s: the first must be at 0 s, the others later "
                              "in turn and inside the recording",
                              i + 1, p->t_s);
        if (!(p->ra_deg >= 0 && p->ra_deg < 360) || !(p->dec_deg >= -90 && p->dec_deg <= 90))
            return oz_wu_fail(OZ_WU_EINVAL, why, whylen,
                              "pointing %zu: %g, %g is outside [0, 360) x [-90, 90]", i + 1,
                              p->ra_deg, p->dec_deg);
    }
    double T = duration(s), nyq = s->sample_rate / 2;
    for (size_t i = 0; i < s->ninj; i++) {
        const oz_wu_inject *in = &s->inj[i];
        const char *tn = oz_sig_type_name(in->type);
        if ((unsigned)in->type >= OZ_SIG_NTYPES)
            return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "signal %zu: unknown type", i + 1);
        if (!isfinite(in->offset_hz) || !isfinite(in->chirp_hz_s) || !isfinite(in->snr) ||
            !isfinite(in->t_start) || !isfinite(in->t_end) || !isfinite(in->t0) ||
            !isfinite(in->sigma_s) || !isfinite(in->period_s) || !isfinite(in->width_s))
            return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "signal %zu (%s): a value is not finite",
                              i + 1, tn);
        if (in->snr < 0)
            return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "signal %zu (%s): snr %g must be >= 0",
                              i + 1, tn, in->snr);
        if (fabs(in->chirp_hz_s) > OZ_SCI_CHIRP_MAX)
            return oz_wu_fail(OZ_WU_EINVAL, why, whylen,
                              "signal %zu (%s): drift %g is beyond ±%g Hz/s", i + 1, tn,
                              in->chirp_hz_s, OZ_SCI_CHIRP_MAX);
        if (in->type == OZ_SIG_GAUSSIAN && !(in->sigma_s > 0))
            return oz_wu_fail(OZ_WU_EINVAL, why, whylen,
                              "signal %zu (gaussian): sigma %g must be > 0", i + 1, in->sigma_s);
        if ((in->type == OZ_SIG_PULSE || in->type == OZ_SIG_TRIPLET) &&
            !(in->period_s > 0 && in->width_s > 0 && in->width_s < in->period_s))
            return oz_wu_fail(OZ_WU_EINVAL, why, whylen,
                              "signal %zu (%s): need 0 < width (%g) < period (%g)", i + 1, tn,
                              in->width_s, in->period_s);
        bool tone =
            in->type != OZ_SIG_GAUSSIAN && in->type != OZ_SIG_PULSE && in->type != OZ_SIG_TRIPLET;
        if (!tone && !(in->t0 >= 0 && in->t0 < T))
            return oz_wu_fail(OZ_WU_EINVAL, why, whylen,
                              "signal %zu (%s): time %g is outside the recording's %g s", i + 1, tn,
                              in->t0, T);
        struct gen_tone g;
        make_tone(s, in, &g);
        if (in->type == OZ_SIG_TRIPLET &&
            !(g.tone.t_end <= T && g.t_last > g.t_first && in->t0 + 2 * in->period_s < T))
            return oz_wu_fail(OZ_WU_EINVAL, why, whylen,
                              "signal %zu (triplet): three pulses from %g s every %g s do not "
                              "fit in %g s",
                              i + 1, in->t0, in->period_s, T);
        double fa = in->offset_hz + in->chirp_hz_s * g.tone.t_start;
        double fb = in->offset_hz + in->chirp_hz_s * g.tone.t_end;
        if (!(fabs(fa) < nyq && fabs(fb) < nyq))
            return oz_wu_fail(OZ_WU_EINVAL, why, whylen,
                              "signal %zu (%s): frequency offset runs from %g to %g Hz, outside "
                              "the band ±%g Hz",
                              i + 1, tn, fa, fb, nyq);
    }
    return OZ_WU_OK;
}

int oz_wu_synth_gen_new(const oz_wu_synth *s, oz_wu_synth_gen **out, char *why, size_t whylen)
{
    *out = NULL;
    int rc = oz_wu_synth_check(s, why, whylen);
    if (rc != OZ_WU_OK)
        return rc;
    oz_wu_synth_gen *g = calloc(1, sizeof *g);
    if (!g)
        return oz_wu_fail(OZ_WU_ENOMEM, why, whylen, "out of memory");
    g->s = *s;
    g->s.inj = NULL;
    g->tones = calloc(s->ninj ? s->ninj : 1, sizeof *g->tones);
    g->scratch = malloc(2 * CHUNK * sizeof(float));
    if (!g->tones || !g->scratch) {
        oz_wu_synth_gen_free(g);
        return oz_wu_fail(OZ_WU_ENOMEM, why, whylen, "out of memory");
    }
    for (size_t i = 0; i < s->ninj; i++)
        make_tone(s, &s->inj[i], &g->tones[i]);
    oz_rng_seed(&g->rng, s->seed);
    *out = g;
    return OZ_WU_OK;
}

/* First sample index i >= lo with i / fs >= t (t on the recording's clock). */
static uint64_t first_at(double t, double fs, uint64_t lo, uint64_t hi)
{
    if (t <= (double)lo / fs)
        return lo;
    double c = ceil(t * fs);
    uint64_t i = c >= (double)hi ? hi : (uint64_t)c;
    while (i > lo && (double)(i - 1) / fs >= t)
        i--;
    while (i < hi && (double)i / fs < t)
        i++;
    return i;
}

/* Adds tone g to samples [a, b) of the chunk that starts at sample `first`. */
static void add_span(const oz_wu_synth_gen *gen, const struct gen_tone *g, float *iq,
                     uint64_t first, uint64_t a, uint64_t b)
{
    double fs = gen->s.sample_rate;
    while (a < b) {
        size_t n = b - a > CHUNK ? CHUNK : (size_t)(b - a);
        double T0 = (double)a / fs;
        oz_tone t = g->tone;
        t.freq_hz = g->tone.freq_hz + g->tone.chirp_hz_s * T0;
        t.t0 = g->tone.t0 - T0;
        t.t_start = 0;
        t.t_end = 0; /* whole span: [a, b) is already the tone's extent */
        memset(gen->scratch, 0, 2 * n * sizeof(float));
        oz_sci_add_tone(gen->scratch, n, fs, &t);
        double cyc = g->tone.freq_hz * T0 + 0.5 * g->tone.chirp_hz_s * T0 * T0;
        cyc -= floor(cyc);
        float cr = (float)cos(TWO_PI * cyc), ci = (float)sin(TWO_PI * cyc);
        float *dst = iq + 2 * (a - first);
        for (size_t i = 0; i < n; i++) {
            float re = gen->scratch[2 * i], im = gen->scratch[2 * i + 1];
            dst[2 * i] += re * cr - im * ci;
            dst[2 * i + 1] += re * ci + im * cr;
        }
        a += n;
    }
}

int oz_wu_synth_gen_next(oz_wu_synth_gen *g, float *iq, size_t n, float scale, size_t *got)
{
    uint64_t left = g->s.nsamples - g->pos;
    if (n > left)
        n = (size_t)left;
    *got = n;
    if (n == 0)
        return OZ_WU_OK;
    memset(iq, 0, 2 * n * sizeof(float));
    if (g->s.noise_power > 0)
        oz_sci_add_noise(iq, n, g->s.noise_power, &g->rng);
    double fs = g->s.sample_rate;
    uint64_t lo = g->pos, hi = g->pos + n;
    for (size_t k = 0; k < g->s.ninj; k++) {
        const struct gen_tone *t = &g->tones[k];
        if (t->tone.amp == 0)
            continue;
        uint64_t a = first_at(t->tone.t_start, fs, lo, hi);
        uint64_t b = t->whole ? hi : first_at(t->tone.t_end, fs, lo, hi);
        if (a < b)
            add_span(g, t, iq, lo, a, b);
    }
    if (scale != 1.0f)
        for (size_t i = 0; i < 2 * n; i++)
            iq[i] *= scale;
    g->pos = hi;
    return OZ_WU_OK;
}

void oz_wu_synth_gen_free(oz_wu_synth_gen *g)
{
    if (!g)
        return;
    free(g->tones);
    free(g->scratch);
    free(g);
}

json_t *oz_wu_synth_truth(const oz_wu_synth *s, const char *datatype, const char *datetime)
{
    json_t *sigs = json_array();
    json_t *root =
        json_pack("{s:i, s:f, s:f, s:I, s:f, s:I, s:f, s:s}", "version", 1, "sample_rate_hz",
                  s->sample_rate, "center_freq_hz", s->center_hz, "nsamples",
                  (json_int_t)s->nsamples, "duration_s", duration(s), "seed", (json_int_t)s->seed,
                  "noise_power", s->noise_power, "datatype", datatype ? datatype : "cf32_le");
    if (!sigs || !root)
        goto fail;
    if (datetime && json_object_set_new(root, "datetime", json_string(datetime)) != 0)
        goto fail;
    for (size_t i = 0; i < s->ninj; i++) {
        const oz_wu_inject *in = &s->inj[i];
        struct gen_tone g;
        make_tone(s, in, &g);
        double tref = 0.5 * (g.t_first + g.t_last);
        if (in->type == OZ_SIG_GAUSSIAN)
            tref = in->t0;
        json_t *o = json_pack(
            "{s:s, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "type", oz_sig_type_name(in->type),
            "freq_hz", s->center_hz + in->offset_hz + in->chirp_hz_s * tref, "offset_hz",
            in->offset_hz, "chirp_hz_s", in->chirp_hz_s, "time_s", tref, "t_start", g.t_first,
            "t_end", g.t_last, "snr", in->snr, "amp", g.tone.amp);
        if (!o || json_array_append_new(sigs, o) != 0)
            goto fail;
        int bad = 0;
        if (in->type == OZ_SIG_GAUSSIAN)
            bad |= json_object_set_new(o, "sigma_s", json_real(in->sigma_s));
        if (in->type == OZ_SIG_PULSE || in->type == OZ_SIG_TRIPLET) {
            bad |= json_object_set_new(o, "period_s", json_real(in->period_s));
            bad |= json_object_set_new(o, "width_s", json_real(in->width_s));
        }
        if (bad)
            goto fail;
    }
    if (json_object_set_new(root, "signals", sigs) != 0) {
        sigs = NULL;
        goto fail;
    }
    return root;
fail:
    json_decref(sigs);
    json_decref(root);
    return NULL;
}

double oz_wu_synth_scale(const oz_wu_synth *s, const char *datatype, double rms_lsb)
{
    double full;
    if (datatype && strcmp(datatype, "ci8") == 0)
        full = 128.0;
    else if (datatype && strncmp(datatype, "ci16", 4) == 0)
        full = 32768.0;
    else
        return 1.0;
    if (!(rms_lsb > 0))
        rms_lsb = full / 8;
    double rms = sqrt((s->noise_power > 0 ? s->noise_power : 1.0) / 2);
    return rms_lsb / full / rms;
}

int oz_wu_synth_write(const oz_wu_synth *s, const char *stem, const char *datatype, double rms_lsb,
                      const char *datetime, uint64_t *clipped, char *why, size_t whylen)
{
    if (clipped)
        *clipped = 0;
    oz_wu_info info;
    memset(&info, 0, sizeof info);
    int rc = oz_wu_synth_check(s, why, whylen);
    if (rc != OZ_WU_OK)
        return rc;
    info.sample_rate = s->sample_rate;
    info.center_hz = s->center_hz;
    info.has_sky = s->has_sky;
    info.ra_deg = s->ra_deg;
    info.dec_deg = s->dec_deg;
    info.has_site = s->has_site;
    info.site = s->site;
    info.ntrack = s->ntrack < OZ_WU_POINTING_MAX ? (uint32_t)s->ntrack : OZ_WU_POINTING_MAX;
    if (info.ntrack)
        memcpy(info.track, s->track, info.ntrack * sizeof info.track[0]);
    if (datetime) {
        char sub[200];
        if (oz_wu_time_parse(datetime, &info.start_ns, sub, sizeof sub) != OZ_WU_OK)
            return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "--datetime: %s", sub);
        info.has_time = true;
    }
    oz_wu_sigmf_writer *w = NULL;
    oz_wu_synth_gen *g = NULL;
    float *buf = malloc(2 * CHUNK * sizeof(float));
    if (!buf) {
        rc = oz_wu_fail(OZ_WU_ENOMEM, why, whylen, "out of memory");
        goto fail;
    }
    rc = oz_wu_sigmf_create(stem, datatype, &info, "ozma-synth: noise with injected signals", &w,
                            why, whylen);
    if (rc != OZ_WU_OK)
        goto fail;
    rc = oz_wu_synth_gen_new(s, &g, why, whylen);
    if (rc != OZ_WU_OK)
        goto fail;
    float scale = (float)oz_wu_synth_scale(s, datatype, rms_lsb);
    uint64_t done = 0;
    for (;;) {
        size_t got;
        oz_wu_synth_gen_next(g, buf, CHUNK, scale, &got);
        if (got == 0)
            break;
        rc = oz_wu_sigmf_append(w, buf, got, why, whylen);
        if (rc != OZ_WU_OK)
            goto fail;
        done += got;
        if (s->progress)
            s->progress(s->progress_arg, done, s->nsamples);
    }
    if (clipped)
        *clipped = oz_wu_sigmf_clipped(w);
    rc = oz_wu_sigmf_finish(w, why, whylen);
    w = NULL;
fail:
    oz_wu_sigmf_abort(w);
    oz_wu_synth_gen_free(g);
    free(buf);
    return rc;
}
