/*
 * resultfile.c - result files: the kernel's result bound to the unit it was
 * computed on.
 *
 *   {"version": 1, "unit_id": "ds-000003", "unit_sha256": "<64 hex>",
 *    "result": {kernel result JSON, science/result.c}}
 *
 * unit_sha256 is the SHA-256 of the whole .ozwu file, so a result can only
 * be credited to the exact bytes it was computed on.  The scheduler runs the
 * parser on uploads from strangers: the text is bounded (OZ_WU_RESULT_MAX),
 * duplicate keys, unknown keys, wrong types, a bad id or digest are refused,
 * and the kernel's strict parser handles the result itself (unknown types,
 * absurd counts, non-finite numbers).  oz_wu_result_check then holds the
 * result against the unit it claims: the right id and hash, no more signals
 * than the unit's cap, every signal inside what that unit could have
 * produced, and the bests every search of it reports (check_signal,
 * check_bests).
 *
 * What "could have produced" means is read off the kernel (science/), for
 * each listed and each best signal:
 *
 *   - FFT length a searched power of two; chirp within the searched range
 *     (a step beyond for a spike's track or a line's residual drift);
 *     frequency within the band and the drift the unit allows;
 *   - times within the unit and a spectrum's margin: time_s; a line's
 *     start_s <= time_s <= end_s; a pulse's or triplet's period_s; an
 *     autocorrelation's delay_s;
 *   - the types the unit's mode searches: autocorrelations only in the seti
 *     mode, lines only in Ozma's; a Gaussian of Ozma's mode has the unit's
 *     gauss_sigma_s;
 *   - power within what the statistic can reach, from its normalisation: a
 *     spike's or autocorrelation's peak over a mean that includes it is at
 *     most L; a triplet's three peaks over the block mean at most N / 3 (N
 *     samples); Ozma's Gaussian and pulse sigmas at most 3 N + 1 (their SNR
 *     is at most N: an amplitude fitted to power that sums to L M over the
 *     PoT, gaussian.c and pulse.c); 1 % slack for float sums;
 *   - score what the kernel computes from power: power / the type's
 *     threshold in the unit's configuration (Ozma's Gaussians and pulses
 *     may instead be capped at 0.99 when that is above 0.99; the seti
 *     mode's pulses score snr / thresh, and a seti score that is not a
 *     positive number is 0).  Lines score over a threshold the plan derives,
 *     which is not recomputed here: their score is only bounded by the
 *     parser.
 *
 * Bests: a search of data that is not all zero reports a best of the types
 * oz_sci_best_types names (spikes; in Ozma's mode Gaussians and pulses where
 * they are searched), all of them from its first step on; a result with a
 * best or a signal must have them.  A result with neither is a unit of
 * zeros.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

json_t *oz_wu_result_to_json(const oz_wu_result *r)
{
    char hex[65];
    oz_wu_sha256_hex(r->unit_sha256, hex);
    json_t *res = oz_sci_result_to_json(&r->result);
    if (!res)
        return NULL;
    return json_pack("{s:i, s:s, s:s, s:o}", "version", OZ_WU_RESULT_VERSION, "unit_id", r->unit_id,
                     "unit_sha256", hex, "result", res);
}

int oz_wu_result_from_json(const json_t *obj, oz_wu_result *out, char *why, size_t whylen)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(obj))
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "result file: expected an object, got %s",
                          oz_sci_json_type(obj));
    json_int_t version;
    json_t *id, *sha, *res;
    json_error_t err;
    if (json_unpack_ex((json_t *)obj, &err, JSON_STRICT, "{s:I, s:o, s:o, s:o}", "version",
                       &version, "unit_id", &id, "unit_sha256", &sha, "result", &res) != 0)
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "result file: %s", err.text);
    if (version != OZ_WU_RESULT_VERSION)
        return oz_wu_fail(OZ_WU_EVERSION, why, whylen,
                          "result file: version %" JSON_INTEGER_FORMAT " is not %d", version,
                          OZ_WU_RESULT_VERSION);
    if (!json_is_string(id) || json_string_length(id) != strlen(json_string_value(id)) ||
        !oz_wu_id_valid(json_string_value(id), OZ_WU_ID_MAX))
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                          "result file: unit_id must be 1..%u characters of [A-Za-z0-9._-]",
                          OZ_WU_ID_MAX);
    if (!json_is_string(sha) || !oz_wu_hex64_valid(json_string_value(sha)))
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                          "result file: unit_sha256 must be 64 lowercase hex digits");
    oz_wu_result t;
    memset(&t, 0, sizeof t);
    snprintf(t.unit_id, sizeof t.unit_id, "%s", json_string_value(id));
    if (oz_wu_sha256_unhex(json_string_value(sha), t.unit_sha256) != OZ_WU_OK)
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "result file: bad unit_sha256");
    char sub[256];
    int rc = oz_sci_result_from_json(res, &t.result, sub, sizeof sub);
    if (rc != OZ_SCI_OK)
        return oz_wu_fail(rc == OZ_SCI_ENOMEM ? OZ_WU_ENOMEM : OZ_WU_EFORMAT, why, whylen,
                          "result file: result: %s", sub);
    *out = t;
    return OZ_WU_OK;
}

int oz_wu_result_parse(const char *text, size_t len, oz_wu_result *out, char *why, size_t whylen)
{
    memset(out, 0, sizeof *out);
    if (!text)
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "no result text given");
    if (len > OZ_WU_RESULT_MAX)
        return oz_wu_fail(OZ_WU_ELIMIT, why, whylen,
                          "result file: %zu bytes is more than the limit of %u", len,
                          OZ_WU_RESULT_MAX);
    json_error_t err;
    json_t *obj = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
    if (!obj)
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                          "result file: invalid JSON at line %d column %d: %s", err.line,
                          err.column, err.text);
    int rc = oz_wu_result_from_json(obj, out, why, whylen);
    json_decref(obj);
    return rc;
}

/* A float sum's rounding, on a bound reached only by power all in one place. */
#define SUM_SLACK 1.01

/* The type-specific times: within the unit (dur seconds) and a spectrum
 * (tspec) around it. */
static int check_times(const oz_signal *s, const char *where, double dur, double tspec, char *why,
                       size_t whylen)
{
    if (s->type == OZ_SIG_LINE) {
        if (!(s->start_s <= s->end_s))
            return oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "%s: start_s %g is after end_s %g", where,
                              s->start_s, s->end_s);
        if (!(s->end_s <= dur + tspec))
            return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                              "%s: start_s %.9g .. end_s %.9g is past the unit's %g s", where,
                              s->start_s, s->end_s, dur);
        double eps = 1e-9 * (dur + tspec);
        if (!(s->time_s >= s->start_s - eps && s->time_s <= s->end_s + eps))
            return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                              "%s: time_s %g is outside the line's start_s %g .. end_s %g", where,
                              s->time_s, s->start_s, s->end_s);
    }
    if ((s->type == OZ_SIG_PULSE || s->type == OZ_SIG_TRIPLET) && !(s->period_s <= dur + tspec))
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                          "%s: period_s %g is longer than the unit's %g s", where, s->period_s,
                          dur);
    if (s->type == OZ_SIG_AUTOCORR && !(s->delay_s <= dur))
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                          "%s: delay_s %g is longer than the unit's %g s", where, s->delay_s, dur);
    return OZ_WU_OK;
}

/* The types the unit's mode searches, and what its configuration fixes. */
static int check_kind(const oz_signal *s, const char *where, const oz_sci_config *c, char *why,
                      size_t whylen)
{
    const bool seti = c->mode == OZ_MODE_SETI;
    if (s->type == OZ_SIG_AUTOCORR && !seti)
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                          "%s: an autocorr signal, but autocorrelations are searched in the seti "
                          "mode only",
                          where);
    if (s->type == OZ_SIG_LINE && seti)
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                          "%s: a line, but the seti mode searches no lines", where);
    if (s->type == OZ_SIG_GAUSSIAN && !seti &&
        !(fabs(s->sigma_s - c->gauss_sigma_s) <= 1e-9 * c->gauss_sigma_s))
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                          "%s: sigma_s %g is not the unit's gauss_sigma_s %g", where, s->sigma_s,
                          c->gauss_sigma_s);
    return OZ_WU_OK;
}

/* power within what its statistic can reach in a unit of n samples. */
static int check_power(const oz_signal *s, const char *where, double n, char *why, size_t whylen)
{
    double L = (double)s->fft_len, most = HUGE_VAL;
    const char *what = "";
    switch (s->type) {
    case OZ_SIG_SPIKE:
    case OZ_SIG_AUTOCORR:
        most = L * SUM_SLACK;
        what = "a peak over a mean that includes it reaches L";
        break;
    case OZ_SIG_TRIPLET:
        most = n / 3 * SUM_SLACK;
        what = "three peaks over the block's mean reach a third of its samples";
        break;
    case OZ_SIG_GAUSSIAN:
    case OZ_SIG_PULSE:
        most = 3 * n + 1;
        what = "the SNR of power summing to the unit's samples reaches their number";
        break;
    default:
        break;
    }
    if (!(s->power <= most))
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                          "%s: power %g is more than the kernel can compute, %g (%s)", where,
                          s->power, most, what);
    return OZ_WU_OK;
}

/* score as the kernel computes it from power (or, for the seti mode's
 * pulses, from snr and thresh). */
static int check_score(const oz_signal *s, const char *where, const oz_sci_config *c, char *why,
                       size_t whylen)
{
    const bool seti = c->mode == OZ_MODE_SETI;
    double thr = 0, want;
    bool capped = false; /* 0.99 allowed too (gaussian.c, pulse.c) */
    switch (s->type) {
    case OZ_SIG_SPIKE:
        thr = c->spike_thresh;
        break;
    case OZ_SIG_GAUSSIAN:
        thr = seti ? c->seti.gauss_peak_power_thresh : c->gauss_snr_thresh;
        capped = !seti;
        break;
    case OZ_SIG_PULSE:
        thr = seti ? 0 : c->pulse_thresh;
        capped = !seti;
        break;
    case OZ_SIG_TRIPLET:
        thr = seti ? c->seti.triplet_thresh : c->triplet_thresh;
        break;
    case OZ_SIG_AUTOCORR:
        thr = c->seti.autocorr_thresh;
        break;
    default:
        return OZ_WU_OK; /* lines: over the plan's own threshold */
    }
    if (seti) {
        want = s->type == OZ_SIG_PULSE ? (s->thresh > 0 ? s->snr / s->thresh : 0) : s->power / thr;
        if (!(isfinite(want) && want > 0))
            want = 0;
    } else {
        want = s->power / thr;
    }
    if (fabs(s->score - want) <= 1e-9 * fabs(want) || (capped && s->score == 0.99 && want > 0.99))
        return OZ_WU_OK;
    if (seti && s->type == OZ_SIG_PULSE)
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                          "%s: score %.17g is not snr %g over thresh %g (%.17g)", where, s->score,
                          s->snr, s->thresh, want);
    return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                      "%s: score %.17g is not power %g over the unit's %s threshold %g (%.17g)",
                      where, s->score, s->power, oz_sig_type_name(s->type), thr, want);
}

/* Is one signal possible in this unit? */
static int check_signal(const oz_signal *s, const char *where, const oz_wu_header *u, char *why,
                        size_t whylen)
{
    const oz_sci_config *c = &u->config;
    double fs = u->sample_rate;
    double dur = (double)u->nsamples / fs;
    uint32_t L = s->fft_len;
    if (L < c->fft_min || L > c->fft_max || (L & (L - 1)) != 0)
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                          "%s: fft_len %u is not a searched length (%u..%u)", where, L, c->fft_min,
                          c->fft_max);
    /* Every searched rate is within ±chirp_max; a spike's track slope or a
     * line's residual drift may go one chirp step (at its length) beyond,
     * never past OZ_SCI_CHIRP_MAX - the bound the kernel keeps to. */
    double bin_min = fs / c->fft_min, bin = fs / L;
    double chirp_lim = c->chirp_max + c->chirp_resolution * bin * bin;
    if (chirp_lim > OZ_SCI_CHIRP_MAX)
        chirp_lim = OZ_SCI_CHIRP_MAX;
    chirp_lim *= 1 + 1e-9;
    if (!isfinite(dur) || !isfinite(bin_min))
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "%s: the unit's rate %g Hz is unusable",
                          where, fs);
    if (!(fabs(s->chirp_hz_s) <= chirp_lim))
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                          "%s: chirp_hz_s %g is beyond the searched ±%g Hz/s", where, s->chirp_hz_s,
                          c->chirp_max);
    double tspec = (double)L / fs;
    if (!(s->time_s >= -tspec && s->time_s <= dur + tspec))
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "%s: time_s %g is outside the unit's %g s",
                          where, s->time_s, dur);
    double band = fs / 2 + chirp_lim * dur + bin_min;
    if (!(fabs(s->freq_hz - u->center_hz) <= band))
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                          "%s: freq_hz %.17g is outside the unit's band %.17g ± %g Hz", where,
                          s->freq_hz, u->center_hz, band);
    int rc = check_times(s, where, dur, tspec, why, whylen);
    if (rc == OZ_WU_OK)
        rc = check_kind(s, where, c, why, whylen);
    if (rc == OZ_WU_OK)
        rc = check_power(s, where, (double)u->nsamples, why, whylen);
    if (rc == OZ_WU_OK)
        rc = check_score(s, where, c, why, whylen);
    return rc;
}

int oz_wu_result_check(const oz_wu_result *r, const oz_wu_header *unit,
                       const unsigned char unit_sha256[32], char *why, size_t whylen)
{
    if (!r || !unit)
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "no result or unit given");
    if (strcmp(r->unit_id, unit->unit_id) != 0)
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "result is for unit \"%s\", not \"%s\"",
                          r->unit_id, unit->unit_id);
    if (unit_sha256 && !oz_wu_sha256_equal(r->unit_sha256, unit_sha256))
        return oz_wu_fail(OZ_WU_EHASH, why, whylen,
                          "result for unit \"%s\" quotes another unit file's SHA-256",
                          unit->unit_id);
    if (r->result.nsignals > unit->config.max_signals)
        return oz_wu_fail(OZ_WU_ELIMIT, why, whylen,
                          "result has %zu signals, more than the unit's max_signals %u",
                          r->result.nsignals, unit->config.max_signals);
    char where[48];
    for (size_t i = 0; i < r->result.nsignals; i++) {
        snprintf(where, sizeof where, "signals[%zu]", i);
        int rc = check_signal(&r->result.signals[i], where, unit, why, whylen);
        if (rc != OZ_WU_OK)
            return rc;
    }
    bool any = r->result.nsignals > 0;
    for (int t = 0; t < OZ_SIG_NTYPES; t++) {
        if (!r->result.has_best[t])
            continue;
        any = true;
        snprintf(where, sizeof where, "best.%s", oz_sig_type_name((oz_sig_type)t));
        int rc = check_signal(&r->result.best[t], where, unit, why, whylen);
        if (rc != OZ_WU_OK)
            return rc;
    }
    /* the bests every search of this unit reports, unless its data is all
     * zero (then nothing at all is reported) */
    unsigned need = oz_sci_best_types(&unit->config, unit->nsamples, unit->sample_rate);
    for (int t = 0; t < OZ_SIG_NTYPES && any; t++)
        if ((need & (1u << t)) && !r->result.has_best[t])
            return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                              "result has no best.%s, which every search of unit \"%s\" reports",
                              oz_sig_type_name((oz_sig_type)t), unit->unit_id);
    return OZ_WU_OK;
}

int oz_wu_result_write(const char *path, const oz_wu_result *r, char *why, size_t whylen)
{
    json_t *obj = oz_wu_result_to_json(r);
    char *text = obj ? json_dumps(obj, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(obj);
    if (!text)
        return oz_wu_fail(OZ_WU_ENOMEM, why, whylen, "%s: out of memory", path);
    size_t len = strlen(text);
    oz_wu_dfile *f;
    int rc = oz_wu_dfile_open(path, &f, why, whylen);
    if (rc == OZ_WU_OK) {
        if ((rc = oz_wu_dfile_write(f, text, len, why, whylen)) != OZ_WU_OK ||
            (rc = oz_wu_dfile_write(f, "\n", 1, why, whylen)) != OZ_WU_OK)
            oz_wu_dfile_abort(f);
        else
            rc = oz_wu_dfile_commit(f, why, whylen);
    }
    free(text);
    return rc;
}

int oz_wu_result_read(const char *path, oz_wu_result *out, char *why, size_t whylen)
{
    memset(out, 0, sizeof *out);
    char *text;
    size_t len;
    int rc = oz_wu_read_small(path, OZ_WU_RESULT_MAX, &text, &len, why, whylen);
    if (rc != OZ_WU_OK)
        return rc;
    char sub[256];
    rc = oz_wu_result_parse(text, len, out, sub, sizeof sub);
    free(text);
    if (rc != OZ_WU_OK)
        return oz_wu_fail(rc, why, whylen, "%s: %s", path, sub);
    return OZ_WU_OK;
}

void oz_wu_result_clear(oz_wu_result *r)
{
    if (!r)
        return;
    oz_sci_result_clear(&r->result);
    memset(r, 0, sizeof *r);
}
