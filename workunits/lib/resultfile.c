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
 * than the unit's cap, and every signal inside what that unit could have
 * produced (FFT lengths, chirps, times and frequencies).
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
    return OZ_WU_OK;
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
    for (int t = 0; t < OZ_SIG_NTYPES; t++) {
        if (!r->result.has_best[t])
            continue;
        snprintf(where, sizeof where, "best.%s", oz_sig_type_name((oz_sig_type)t));
        int rc = check_signal(&r->result.best[t], where, unit, why, whylen);
        if (rc != OZ_WU_OK)
            return rc;
    }
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
