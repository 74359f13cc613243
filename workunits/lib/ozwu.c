/*
 * ozwu.c - the .ozwu work-unit file: writing, and reading with paranoia.
 *
 * Layout (FORMAT.md has the full description):
 *
 *   offset  size  field
 *        0     4  magic "OZWU"
 *        4     4  format version, uint32 little-endian (1)
 *        8     4  header length H, uint32 LE, 1 .. 65536
 *       12     8  payload length P, uint64 LE
 *       20    32  SHA-256 of the H header bytes
 *       52     H  header: UTF-8 JSON object (no NUL), strict keys
 *     52+H     P  payload: sample_count samples in sample_format, LE
 *   and the file ends exactly at 52 + H + P.
 *
 * The header carries the payload's SHA-256 and the prefix carries the
 * header's, so every byte of the file is covered: a flipped bit in the
 * lengths breaks the length check, anywhere else a hash.  The unit's own
 * hash (what a scheduler hands out and a result quotes) is the SHA-256 of
 * the whole file.
 *
 * A reader trusts nothing: the prefix is checked against the file's length
 * and the limits before anything is allocated, the header's hash is checked
 * before its JSON is parsed, the JSON is parsed with
 * duplicate keys and unknown keys rejected and every field range-checked,
 * sample_count * sample size must equal P, and the payload's hash must
 * match - all before a single sample is converted.  Float payloads must be
 * finite.  Version 1 readers reject any other version: a new field means a
 * new version, and readers of old versions keep working.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define PAYLOAD_MAX ((uint64_t)OZ_WU_UNIT_SAMPLES_MAX * 8u)

struct oz_wu_unit {
    oz_wu_header h;
    float *samples; /* 2 * h.nsamples */
    unsigned char file_sha256[32];
};

/* ---- the header as JSON ------------------------------------------------------------ */

json_t *oz_wu_header_to_json(const oz_wu_header *h)
{
    char hex[65], t[48];
    json_t *obj = json_object();
    json_t *cfg = oz_sci_config_to_json(&h->config);
    if (!obj || !cfg)
        goto fail;
    oz_wu_sha256_hex(h->payload_sha256, hex);
    int bad = 0;
    bad |= json_object_set_new(obj, "version", json_integer(OZ_WU_FORMAT_VERSION));
    bad |= json_object_set_new(obj, "dataset", json_string(h->dataset));
    bad |= json_object_set_new(obj, "unit_id", json_string(h->unit_id));
    bad |= json_object_set_new(obj, "unit_index", json_integer((json_int_t)h->unit_index));
    bad |= json_object_set_new(obj, "sample_rate_hz", json_real(h->sample_rate));
    bad |= json_object_set_new(obj, "center_freq_hz", json_real(h->center_hz));
    bad |= json_object_set_new(obj, "start_sample", json_integer((json_int_t)h->start_sample));
    bad |= json_object_set_new(obj, "start_s", json_real(h->start_s));
    if (h->has_time) {
        if (oz_wu_time_format(h->start_ns, 9, t, sizeof t) != OZ_WU_OK)
            goto fail;
        bad |= json_object_set_new(obj, "start_utc", json_string(t));
    }
    if (h->has_sky)
        bad |= json_object_set_new(
            obj, "sky", json_pack("{s:f, s:f}", "ra_deg", h->ra_deg, "dec_deg", h->dec_deg));
    if (h->ntrack > 0) {
        json_t *track = json_array();
        bad |= json_object_set_new(obj, "sky_track", track);
        for (uint32_t i = 0; track && i < h->ntrack && i < OZ_WU_TRACK_MAX; i++)
            bad |= json_array_append_new(track, json_pack("[f, f, f]", h->track[i].jd,
                                                          h->track[i].ra_deg, h->track[i].dec_deg));
    }
    bad |= json_object_set_new(obj, "sample_format", json_string(oz_wu_format_name(h->format)));
    bad |= json_object_set_new(obj, "sample_count", json_integer((json_int_t)h->nsamples));
    bad |= json_object_set_new(obj, "analysis", cfg);
    cfg = NULL;
    bad |= json_object_set_new(obj, "payload_sha256", json_string(hex));
    if (bad)
        goto fail;
    return obj;
fail:
    json_decref(cfg);
    json_decref(obj);
    return NULL;
}

/* Checks the fields a header must satisfy whoever wrote it. */
static int check_header(const oz_wu_header *h, const char *name, char *why, size_t whylen)
{
    if (!oz_wu_id_valid(h->dataset, OZ_WU_DATASET_MAX))
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                          "%s: dataset \"%.70s\" must be 1..%u characters of [A-Za-z0-9._-]", name,
                          h->dataset, OZ_WU_DATASET_MAX);
    if (!oz_wu_id_valid(h->unit_id, OZ_WU_ID_MAX))
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                          "%s: unit_id \"%.100s\" must be 1..%u characters of [A-Za-z0-9._-]", name,
                          h->unit_id, OZ_WU_ID_MAX);
    if (!isfinite(h->sample_rate) || h->sample_rate < OZ_WU_SAMPLE_RATE_MIN ||
        h->sample_rate > OZ_WU_SAMPLE_RATE_MAX)
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "%s: sample_rate_hz %g must be in [%g, %g]",
                          name, h->sample_rate, OZ_WU_SAMPLE_RATE_MIN, OZ_WU_SAMPLE_RATE_MAX);
    if (!isfinite(h->center_hz) || fabs(h->center_hz) > OZ_WU_FREQ_MAX)
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "%s: center_freq_hz %g is outside ±%g", name,
                          h->center_hz, OZ_WU_FREQ_MAX);
    if ((unsigned)h->format > OZ_WU_CF32)
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "%s: unknown sample format", name);
    if (h->nsamples == 0 || h->nsamples > OZ_WU_UNIT_SAMPLES_MAX)
        return oz_wu_fail(OZ_WU_ELIMIT, why, whylen, "%s: sample_count %llu is outside 1..%u", name,
                          (unsigned long long)h->nsamples, OZ_WU_UNIT_SAMPLES_MAX);
    if (h->start_sample > ((uint64_t)1 << 62) || h->unit_index > ((uint64_t)1 << 62))
        return oz_wu_fail(OZ_WU_ELIMIT, why, whylen, "%s: start_sample or unit_index is absurd",
                          name);
    double expect = (double)h->start_sample / h->sample_rate;
    if (!isfinite(expect) || !isfinite(h->start_s) ||
        fabs(h->start_s - expect) > 1e-9 * fmax(1.0, expect))
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                          "%s: start_s %.17g disagrees with start_sample / sample_rate_hz = %.17g",
                          name, h->start_s, expect);
    if (h->has_sky &&
        (!(h->ra_deg >= 0 && h->ra_deg < 360) || !(h->dec_deg >= -90 && h->dec_deg <= 90)))
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                          "%s: sky position ra_deg %g, dec_deg %g is outside [0, 360) x [-90, 90]",
                          name, h->ra_deg, h->dec_deg);
    if (h->ntrack > OZ_WU_TRACK_MAX)
        return oz_wu_fail(OZ_WU_ELIMIT, why, whylen, "%s: sky_track has %u points (at most %u)",
                          name, h->ntrack, OZ_WU_TRACK_MAX);
    for (uint32_t i = 0; i < h->ntrack; i++) {
        const oz_wu_track_point *k = &h->track[i];
        int64_t ns;
        if (oz_wu_time_from_jd(k->jd, &ns) != OZ_WU_OK || !(k->ra_deg >= 0 && k->ra_deg < 360) ||
            !(k->dec_deg >= -90 && k->dec_deg <= 90) || (i > 0 && k->jd < h->track[i - 1].jd))
            return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                              "%s: sky_track point %u (%.10g, %g, %g) is not a time in "
                              "1900..2200 after the previous one, ra_deg in [0, 360), dec_deg in "
                              "[-90, 90]",
                              name, i, k->jd, k->ra_deg, k->dec_deg);
    }
    if (h->has_time && (h->start_ns < OZ_WU_TIME_MIN_NS || h->start_ns > OZ_WU_TIME_MAX_NS))
        return oz_wu_fail(OZ_WU_ELIMIT, why, whylen,
                          "%s: start time is outside the years 1900..2200 that start_utc can say",
                          name);
    char sub[200];
    if (oz_sci_config_check(&h->config, sub, sizeof sub) != OZ_SCI_OK)
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "%s: analysis: %s", name, sub);
    return OZ_WU_OK;
}

/* The analysis object must name every configuration key (unknown keys are
 * refused by oz_sci_config_from_json). */
static int require_every_key(const json_t *analysis, const char *name, char *why, size_t whylen)
{
    oz_sci_config def;
    oz_sci_config_default(&def);
    json_t *all = oz_sci_config_to_json(&def);
    if (!all)
        return oz_wu_fail(OZ_WU_ENOMEM, why, whylen, "%s: out of memory", name);
    const char *key;
    json_t *v;
    int rc = OZ_WU_OK;
    json_object_foreach(all, key, v)
    {
        if (!json_object_get(analysis, key)) {
            rc = oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "%s: analysis: key \"%s\" is missing", name,
                            key);
            break;
        }
    }
    json_decref(all);
    return rc;
}

/* A JSON integer in [0, max] into *out. */
static int get_count(const json_t *v, const char *name, const char *key, uint64_t max,
                     uint64_t *out, char *why, size_t whylen)
{
    if (!json_is_integer(v))
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "%s: %s: expected an integer, got %s", name,
                          key, oz_sci_json_type(v));
    json_int_t i = json_integer_value(v);
    if (i < 0 || (uint64_t)i > max)
        return oz_wu_fail(OZ_WU_ELIMIT, why, whylen,
                          "%s: %s %" JSON_INTEGER_FORMAT " is outside 0..%llu", name, key, i,
                          (unsigned long long)max);
    *out = (uint64_t)i;
    return OZ_WU_OK;
}

static int get_number(const json_t *v, const char *name, const char *key, double *out, char *why,
                      size_t whylen)
{
    if (!json_is_number(v))
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "%s: %s: expected a number, got %s", name,
                          key, oz_sci_json_type(v));
    *out = json_number_value(v);
    return OZ_WU_OK;
}

static int get_id(const json_t *v, const char *name, const char *key, char *out, size_t max,
                  char *why, size_t whylen)
{
    if (!json_is_string(v))
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "%s: %s: expected a string, got %s", name,
                          key, oz_sci_json_type(v));
    const char *s = json_string_value(v);
    if (json_string_length(v) != strlen(s) || !oz_wu_id_valid(s, max))
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                          "%s: %s \"%.100s\" must be 1..%zu characters of [A-Za-z0-9._-]", name,
                          key, s, max);
    memcpy(out, s, strlen(s) + 1);
    return OZ_WU_OK;
}

/* "sky_track": [[jd, ra_deg, dec_deg], ...], 1 .. OZ_WU_TRACK_MAX points of
 * three numbers (their ranges are check_header's). */
static int get_track(const json_t *v, const char *name, oz_wu_header *t, char *why, size_t whylen)
{
    if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > OZ_WU_TRACK_MAX)
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                          "%s: sky_track must be an array of 1..%u points", name, OZ_WU_TRACK_MAX);
    size_t i;
    json_t *p;
    json_array_foreach(v, i, p)
    {
        oz_wu_track_point *k = &t->track[i];
        json_error_t err;
        if (json_unpack_ex(p, &err, JSON_STRICT, "[F, F, F]", &k->jd, &k->ra_deg, &k->dec_deg) != 0)
            return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                              "%s: sky_track point %zu must be [jd, ra_deg, dec_deg]: %s", name, i,
                              err.text);
    }
    t->ntrack = (uint32_t)json_array_size(v);
    return OZ_WU_OK;
}

int oz_wu_header_from_json(const json_t *obj, const char *name, oz_wu_header *h, char *why,
                           size_t whylen)
{
    if (!json_is_object(obj))
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "%s: header: expected an object, got %s",
                          name, oz_sci_json_type(obj));
    oz_wu_header t;
    memset(&t, 0, sizeof t);
    oz_sci_config_default(&t.config);
    enum {
        K_VERSION = 1 << 0,
        K_DATASET = 1 << 1,
        K_UNIT_ID = 1 << 2,
        K_UNIT_INDEX = 1 << 3,
        K_RATE = 1 << 4,
        K_CENTER = 1 << 5,
        K_START_SAMPLE = 1 << 6,
        K_START_S = 1 << 7,
        K_FORMAT = 1 << 8,
        K_COUNT = 1 << 9,
        K_ANALYSIS = 1 << 10,
        K_SHA = 1 << 11,
        K_REQUIRED = (1 << 12) - 1,
        K_UTC = 1 << 12,
        K_SKY = 1 << 13,
        K_TRACK = 1 << 14,
    };
    static const char *const required[] = {"version",      "dataset",        "unit_id",
                                           "unit_index",   "sample_rate_hz", "center_freq_hz",
                                           "start_sample", "start_s",        "sample_format",
                                           "sample_count", "analysis",       "payload_sha256"};
    unsigned seen = 0;
    const char *key;
    json_t *v;
    int rc = OZ_WU_OK;
    json_object_foreach((json_t *)obj, key, v)
    {
        uint64_t u = 0;
        char sub[200];
        if (strcmp(key, "version") == 0) {
            if ((rc = get_count(v, name, key, UINT32_MAX, &u, why, whylen)) != OZ_WU_OK)
                return rc;
            if (u != OZ_WU_FORMAT_VERSION)
                return oz_wu_fail(OZ_WU_EVERSION, why, whylen, "%s: header version %llu is not %u",
                                  name, (unsigned long long)u, OZ_WU_FORMAT_VERSION);
            t.version = (uint32_t)u;
            seen |= K_VERSION;
        } else if (strcmp(key, "dataset") == 0) {
            if ((rc = get_id(v, name, key, t.dataset, OZ_WU_DATASET_MAX, why, whylen)) != 0)
                return rc;
            seen |= K_DATASET;
        } else if (strcmp(key, "unit_id") == 0) {
            if ((rc = get_id(v, name, key, t.unit_id, OZ_WU_ID_MAX, why, whylen)) != 0)
                return rc;
            seen |= K_UNIT_ID;
        } else if (strcmp(key, "unit_index") == 0) {
            if ((rc = get_count(v, name, key, (uint64_t)1 << 62, &t.unit_index, why, whylen)))
                return rc;
            seen |= K_UNIT_INDEX;
        } else if (strcmp(key, "sample_rate_hz") == 0) {
            if ((rc = get_number(v, name, key, &t.sample_rate, why, whylen)) != OZ_WU_OK)
                return rc;
            seen |= K_RATE;
        } else if (strcmp(key, "center_freq_hz") == 0) {
            if ((rc = get_number(v, name, key, &t.center_hz, why, whylen)) != OZ_WU_OK)
                return rc;
            seen |= K_CENTER;
        } else if (strcmp(key, "start_sample") == 0) {
            if ((rc = get_count(v, name, key, (uint64_t)1 << 62, &t.start_sample, why, whylen)))
                return rc;
            seen |= K_START_SAMPLE;
        } else if (strcmp(key, "start_s") == 0) {
            if ((rc = get_number(v, name, key, &t.start_s, why, whylen)) != OZ_WU_OK)
                return rc;
            seen |= K_START_S;
        } else if (strcmp(key, "start_utc") == 0) {
            if (!json_is_string(v))
                return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                                  "%s: start_utc: expected a string, got %s", name,
                                  oz_sci_json_type(v));
            if (oz_wu_time_parse(json_string_value(v), &t.start_ns, sub, sizeof sub) != 0)
                return oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "%s: start_utc: %s", name, sub);
            t.has_time = true;
            seen |= K_UTC;
        } else if (strcmp(key, "sky") == 0) {
            json_error_t err;
            if (json_unpack_ex(v, &err, JSON_STRICT, "{s:F, s:F}", "ra_deg", &t.ra_deg, "dec_deg",
                               &t.dec_deg) != 0)
                return oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "%s: sky: %s", name, err.text);
            t.has_sky = true;
            seen |= K_SKY;
        } else if (strcmp(key, "sky_track") == 0) {
            if ((rc = get_track(v, name, &t, why, whylen)) != OZ_WU_OK)
                return rc;
            seen |= K_TRACK;
        } else if (strcmp(key, "sample_format") == 0) {
            if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v) ||
                oz_wu_format_parse(json_string_value(v), &t.format) != OZ_WU_OK ||
                strcmp(json_string_value(v), oz_wu_format_name(t.format)) != 0)
                return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                                  "%s: sample_format must be \"ci8\", \"ci16\" or \"cf32\"", name);
            seen |= K_FORMAT;
        } else if (strcmp(key, "sample_count") == 0) {
            if ((rc = get_count(v, name, key, OZ_WU_UNIT_SAMPLES_MAX, &t.nsamples, why, whylen)))
                return rc;
            seen |= K_COUNT;
        } else if (strcmp(key, "analysis") == 0) {
            if (oz_sci_config_from_json(v, &t.config, sub, sizeof sub) != OZ_SCI_OK)
                return oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "%s: analysis: %s", name, sub);
            /* every key: a unit fixes its search, whatever a kernel's defaults */
            if ((rc = require_every_key(v, name, why, whylen)) != OZ_WU_OK)
                return rc;
            seen |= K_ANALYSIS;
        } else if (strcmp(key, "payload_sha256") == 0) {
            if (!json_is_string(v) ||
                oz_wu_sha256_unhex(json_string_value(v), t.payload_sha256) != OZ_WU_OK)
                return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                                  "%s: payload_sha256 must be 64 hex digits", name);
            seen |= K_SHA;
        } else {
            return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                              "%s: unknown header key \"%.60s\" (format version %u)", name, key,
                              OZ_WU_FORMAT_VERSION);
        }
    }
    if ((seen & K_REQUIRED) != K_REQUIRED) {
        for (unsigned i = 0; i < sizeof required / sizeof required[0]; i++)
            if (!(seen & (1u << i)))
                return oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "%s: header key \"%s\" is missing",
                                  name, required[i]);
    }
    rc = check_header(&t, name, why, whylen);
    if (rc != OZ_WU_OK)
        return rc;
    *h = t;
    return OZ_WU_OK;
}

/* ---- writing ---------------------------------------------------------------------- */

int oz_wu_unit_write(const char *path, oz_wu_header *h, const void *payload,
                     unsigned char file_sha256[32], char *why, size_t whylen)
{
    return oz_wu_unit_write_ex(path, h, payload, file_sha256, NULL, why, whylen);
}

int oz_wu_unit_write_ex(const char *path, oz_wu_header *h, const void *payload,
                        unsigned char file_sha256[32], uint64_t *file_bytes, char *why,
                        size_t whylen)
{
    if (!path || !h || !payload)
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "no unit file, header or payload given");
    h->version = OZ_WU_FORMAT_VERSION;
    if (isfinite(h->sample_rate) && h->sample_rate > 0)
        h->start_s = (double)h->start_sample / h->sample_rate;
    int rc = check_header(h, path, why, whylen);
    if (rc != OZ_WU_OK)
        return rc == OZ_WU_EFORMAT ? OZ_WU_EINVAL : rc;

    uint64_t plen = h->nsamples * oz_wu_format_size(h->format);
    if (oz_wu_sha256(payload, plen, h->payload_sha256) != OZ_WU_OK)
        return oz_wu_fail(OZ_WU_ENOMEM, why, whylen, "%s: out of memory", path);

    json_t *obj = oz_wu_header_to_json(h);
    char *text = obj ? json_dumps(obj, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(obj);
    if (!text)
        return oz_wu_fail(OZ_WU_ENOMEM, why, whylen, "%s: out of memory", path);
    size_t hlen = strlen(text);
    if (hlen > OZ_WU_HEADER_MAX) {
        free(text);
        return oz_wu_fail(OZ_WU_ELIMIT, why, whylen, "%s: header of %zu bytes exceeds %u", path,
                          hlen, OZ_WU_HEADER_MAX);
    }
    unsigned char prefix[OZ_WU_PREFIX_BYTES];
    memcpy(prefix, OZ_WU_MAGIC, 4);
    oz_wu_put_le32(prefix + 4, OZ_WU_FORMAT_VERSION);
    oz_wu_put_le32(prefix + 8, (uint32_t)hlen);
    oz_wu_put_le64(prefix + 12, plen);
    unsigned char fsha[32];
    oz_wu_sha256_ctx *st = oz_wu_sha256_begin();
    if (st && oz_wu_sha256(text, hlen, prefix + 20) == OZ_WU_OK) {
        oz_wu_sha256_add(st, prefix, sizeof prefix);
        oz_wu_sha256_add(st, text, hlen);
        oz_wu_sha256_add(st, payload, plen);
        rc = oz_wu_sha256_end(st, fsha);
    } else {
        oz_wu_sha256_end(st, NULL);
        rc = OZ_WU_ENOMEM;
    }
    if (rc != OZ_WU_OK) {
        free(text);
        return oz_wu_fail(OZ_WU_ENOMEM, why, whylen, "%s: out of memory", path);
    }

    oz_wu_dfile *f;
    rc = oz_wu_dfile_open(path, &f, why, whylen);
    if (rc == OZ_WU_OK) {
        if ((rc = oz_wu_dfile_write(f, prefix, sizeof prefix, why, whylen)) != OZ_WU_OK ||
            (rc = oz_wu_dfile_write(f, text, hlen, why, whylen)) != OZ_WU_OK ||
            (rc = oz_wu_dfile_write(f, payload, (size_t)plen, why, whylen)) != OZ_WU_OK)
            oz_wu_dfile_abort(f);
        else
            rc = oz_wu_dfile_commit(f, why, whylen);
    }
    free(text);
    if (rc == OZ_WU_OK && file_sha256)
        memcpy(file_sha256, fsha, 32);
    if (rc == OZ_WU_OK && file_bytes)
        *file_bytes = OZ_WU_PREFIX_BYTES + hlen + plen;
    return rc;
}

/* ---- reading ---------------------------------------------------------------------- */

/* Checks the prefix against the image's total length `len` and the limits;
 * fills the header and payload lengths. */
static int check_prefix(const unsigned char *p, uint64_t len, const char *name, uint32_t *hlen,
                        uint64_t *plen, char *why, size_t whylen)
{
    if (len < OZ_WU_PREFIX_BYTES)
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                          "%s: %llu bytes is too short for an .ozwu file (%u-byte prefix)", name,
                          (unsigned long long)len, OZ_WU_PREFIX_BYTES);
    if (memcmp(p, OZ_WU_MAGIC, 4) != 0)
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "%s: not an .ozwu file (bad magic)", name);
    uint32_t version = oz_wu_get_le32(p + 4);
    if (version != OZ_WU_FORMAT_VERSION)
        return oz_wu_fail(OZ_WU_EVERSION, why, whylen,
                          "%s: format version %u is not supported (this build reads %u)", name,
                          version, OZ_WU_FORMAT_VERSION);
    *hlen = oz_wu_get_le32(p + 8);
    *plen = oz_wu_get_le64(p + 12);
    if (*hlen == 0 || *hlen > OZ_WU_HEADER_MAX)
        return oz_wu_fail(OZ_WU_ELIMIT, why, whylen, "%s: header length %u is outside 1..%u", name,
                          *hlen, OZ_WU_HEADER_MAX);
    if (*plen > PAYLOAD_MAX)
        return oz_wu_fail(OZ_WU_ELIMIT, why, whylen,
                          "%s: payload length %llu exceeds the limit of %llu bytes", name,
                          (unsigned long long)*plen, (unsigned long long)PAYLOAD_MAX);
    uint64_t want = OZ_WU_PREFIX_BYTES + (uint64_t)*hlen + *plen;
    if (want != len)
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                          "%s: header and payload lengths add up to %llu bytes but the file "
                          "has %llu (%s)",
                          name, (unsigned long long)want, (unsigned long long)len,
                          want > len ? "truncated" : "trailing bytes");
    return OZ_WU_OK;
}

/* Parses an image; when `owned`, buf is the caller's malloc'd block, which
 * this function takes over (and frees or reuses) in every case. */
static int parse_image(unsigned char *buf, size_t len, bool owned, const char *name,
                       oz_wu_unit **out, char *why, size_t whylen)
{
    *out = NULL;
    int rc;
    json_t *obj = NULL;
    oz_wu_unit *u = NULL;
    uint32_t hlen;
    uint64_t plen;
    rc = check_prefix(buf, len, name, &hlen, &plen, why, whylen);
    if (rc != OZ_WU_OK)
        goto out;
    const char *htext = (const char *)buf + OZ_WU_PREFIX_BYTES;
    unsigned char hsha[32];
    if (oz_wu_sha256(htext, hlen, hsha) != OZ_WU_OK) {
        rc = oz_wu_fail(OZ_WU_ENOMEM, why, whylen, "%s: out of memory", name);
        goto out;
    }
    if (!oz_wu_sha256_equal(hsha, buf + 20)) {
        rc = oz_wu_fail(OZ_WU_EHASH, why, whylen,
                        "%s: header does not match its SHA-256: the file is corrupt or was "
                        "tampered with",
                        name);
        goto out;
    }
    if (memchr(htext, '\0', hlen)) {
        rc = oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "%s: header contains a NUL byte", name);
        goto out;
    }
    json_error_t err;
    obj = json_loadb(htext, hlen, JSON_REJECT_DUPLICATES, &err);
    if (!obj) {
        rc = oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "%s: header is not valid JSON: %s (column %d)",
                        name, err.text, err.column);
        goto out;
    }
    u = calloc(1, sizeof *u);
    if (!u) {
        rc = oz_wu_fail(OZ_WU_ENOMEM, why, whylen, "%s: out of memory", name);
        goto out;
    }
    rc = oz_wu_header_from_json(obj, name, &u->h, why, whylen);
    if (rc != OZ_WU_OK)
        goto out;
    size_t bps = oz_wu_format_size(u->h.format);
    if (u->h.nsamples * bps != plen) {
        rc = oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                        "%s: header says %llu samples but payload holds %llu", name,
                        (unsigned long long)u->h.nsamples, (unsigned long long)(plen / bps));
        goto out;
    }
    const unsigned char *payload = buf + OZ_WU_PREFIX_BYTES + hlen;
    unsigned char sha[32];
    if (oz_wu_sha256(payload, plen, sha) != OZ_WU_OK ||
        oz_wu_sha256(buf, len, u->file_sha256) != OZ_WU_OK) {
        rc = oz_wu_fail(OZ_WU_ENOMEM, why, whylen, "%s: out of memory", name);
        goto out;
    }
    if (!oz_wu_sha256_equal(sha, u->h.payload_sha256)) {
        char got[65], want[65];
        oz_wu_sha256_hex(sha, got);
        oz_wu_sha256_hex(u->h.payload_sha256, want);
        rc = oz_wu_fail(OZ_WU_EHASH, why, whylen,
                        "%s: payload SHA-256 is %.16s... but the header says %.16s...: the file "
                        "is corrupt or was tampered with",
                        name, got, want);
        goto out;
    }
    size_t n = (size_t)u->h.nsamples;
    if (u->h.format == OZ_WU_CF32) {
        size_t bad = oz_wu_first_nonfinite(payload, n);
        if (bad != SIZE_MAX) {
            rc = oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "%s: sample %zu is not a finite number",
                            name, bad);
            goto out;
        }
    }
    if (owned && u->h.format == OZ_WU_CF32) {
        /* Reuse the file's block for the floats: slide the payload down. */
        memmove(buf, payload, plen);
        oz_wu_format_to_cf32(OZ_WU_CF32, buf, n, (float *)(void *)buf);
        float *shrunk = realloc(buf, plen);
        u->samples = shrunk ? shrunk : (float *)(void *)buf;
        buf = NULL;
    } else {
        u->samples = malloc(2 * n * sizeof(float));
        if (!u->samples) {
            rc =
                oz_wu_fail(OZ_WU_ENOMEM, why, whylen, "%s: out of memory for %zu samples", name, n);
            goto out;
        }
        oz_wu_format_to_cf32(u->h.format, payload, n, u->samples);
    }
    *out = u;
    u = NULL;
out:
    if (owned)
        free(buf);
    json_decref(obj);
    oz_wu_unit_free(u);
    return rc;
}

int oz_wu_unit_parse(const void *buf, size_t len, const char *name, oz_wu_unit **out, char *why,
                     size_t whylen)
{
    *out = NULL;
    if (!buf && len > 0)
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "no unit image given");
    return parse_image((unsigned char *)(uintptr_t)buf, len, false, name ? name : "unit", out, why,
                       whylen);
}

int oz_wu_unit_load(const char *path, oz_wu_unit **out, char *why, size_t whylen)
{
    *out = NULL;
    int rc = OZ_WU_OK;
    unsigned char *buf = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return oz_wu_fail(OZ_WU_EIO, why, whylen, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = oz_wu_fail(OZ_WU_EIO, why, whylen, "%s: not a readable regular file", path);
        goto out;
    }
    uint64_t size = (uint64_t)st.st_size;
    /* Check the prefix against the real length before allocating anything
     * the size of the file. */
    unsigned char prefix[OZ_WU_PREFIX_BYTES];
    size_t plen = size < sizeof prefix ? (size_t)size : sizeof prefix;
    ssize_t got;
    do
        got = pread(fd, prefix, plen, 0);
    while (got < 0 && errno == EINTR);
    if (got < 0 || (size_t)got != plen) {
        rc = oz_wu_fail(OZ_WU_EIO, why, whylen, "%s: read failed", path);
        goto out;
    }
    uint32_t hl;
    uint64_t pl;
    rc = check_prefix(prefix, size, path, &hl, &pl, why, whylen);
    if (rc != OZ_WU_OK)
        goto out;
    buf = malloc((size_t)size);
    if (!buf) {
        rc = oz_wu_fail(OZ_WU_ENOMEM, why, whylen, "%s: out of memory for %llu bytes", path,
                        (unsigned long long)size);
        goto out;
    }
    size_t have = 0;
    while (have < size) {
        got = pread(fd, buf + have, (size_t)size - have, (off_t)have);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            rc = oz_wu_fail(got < 0 ? OZ_WU_EIO : OZ_WU_EFORMAT, why, whylen, "%s: %s at byte %zu",
                            path, got < 0 ? strerror(errno) : "file shrank while reading", have);
            goto out;
        }
        have += (size_t)got;
    }
    close(fd);
    fd = -1;
    rc = parse_image(buf, (size_t)size, true, path, out, why, whylen);
    buf = NULL;
out:
    free(buf);
    if (fd >= 0)
        close(fd);
    return rc;
}

const oz_wu_header *oz_wu_unit_header(const oz_wu_unit *u)
{
    return &u->h;
}

const float *oz_wu_unit_samples(const oz_wu_unit *u)
{
    return u->samples;
}

const unsigned char *oz_wu_unit_file_sha256(const oz_wu_unit *u)
{
    return u->file_sha256;
}

void oz_wu_unit_free(oz_wu_unit *u)
{
    if (!u)
        return;
    free(u->samples);
    free(u);
}

/* ---- an .ozwu file as a reader -------------------------------------------------------- */

static int unit_read_at(struct oz_wu_reader *r, uint64_t pos, void *buf, size_t n, char *why,
                        size_t whylen)
{
    (void)why;
    (void)whylen;
    const oz_wu_unit *u = r->impl;
    oz_wu_format_from_cf32(OZ_WU_CF32, u->samples + 2 * pos, n, buf);
    return OZ_WU_OK;
}

static void unit_close(struct oz_wu_reader *r)
{
    oz_wu_unit_free(r->impl);
}

static const struct oz_wu_reader_ops unit_ops = {unit_read_at, unit_close};

int oz_wu_open_unit(const char *path, oz_wu_reader **out, char *why, size_t whylen)
{
    *out = NULL;
    oz_wu_unit *u;
    int rc = oz_wu_unit_load(path, &u, why, whylen);
    if (rc != OZ_WU_OK)
        return rc;
    struct oz_wu_reader *r = oz_wu_reader_alloc(&unit_ops, path);
    if (!r) {
        oz_wu_unit_free(u);
        return oz_wu_fail(OZ_WU_ENOMEM, why, whylen, "%s: out of memory", path);
    }
    r->impl = u;
    r->unit = &u->h;
    /* The samples are held as floats after verification. */
    r->info.format = OZ_WU_CF32;
    r->info.sample_rate = u->h.sample_rate;
    r->info.center_hz = u->h.center_hz;
    r->info.nsamples = u->h.nsamples;
    r->info.has_time = u->h.has_time;
    r->info.start_ns = u->h.start_ns;
    r->info.has_sky = u->h.has_sky;
    r->info.ra_deg = u->h.ra_deg;
    r->info.dec_deg = u->h.dec_deg;
    snprintf(r->info.name, sizeof r->info.name, "%s", u->h.dataset);
    *out = r;
    return OZ_WU_OK;
}

const float *oz_wu_reader_unit_samples(const oz_wu_reader *r)
{
    return r->unit ? ((const oz_wu_unit *)r->impl)->samples : NULL;
}
