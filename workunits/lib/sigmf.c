/*
 * sigmf.c - SigMF recordings (sigmf.org): NAME.sigmf-meta (JSON) beside
 * NAME.sigmf-data (samples), read and written.
 *
 * Reading takes from the meta file exactly what a search needs and checks
 * each of it, naming the key at fault ("rec.sigmf-meta:
 * global.core:sample_rate is missing"):
 *   global.core:datatype     ci8, ci16_le, ci16_be, cf32_le, cf32_be
 *   global.core:version      1.x (or 0.x drafts)
 *   global.core:sample_rate  required here (optional in the spec)
 *   global.core:num_channels 1 if present
 *   global.core:dataset      another data file name in the same directory
 *   global.ozma:ra_deg, ozma:dec_deg   optional sky position (our extension)
 *   global.core:geolocation  optional site: a GeoJSON Point [lon, lat, alt_m]
 *   captures[i].ozma:ra_deg, ozma:dec_deg   optional pointing track: where
 *                            the beam pointed from that capture's sample on
 *   captures[0].core:frequency    required here
 *   captures[0].core:datetime     optional start time (RFC 3339, Z)
 *   captures[0].core:header_bytes bytes to skip at the start of the data
 * Further captures are accepted only when they continue the first one (same
 * frequency, no header bytes, times consistent with the sample rate): a
 * recording with gaps would put every later signal at the wrong time.  Keys
 * we do not use (other namespaces, annotations) are allowed, as the spec
 * requires.  The data file itself is a file stream (raw.c).
 *
 * Writing streams samples into the data file through a durable temporary
 * file and writes the meta last, so a meta file never describes data that is
 * not complete on disk.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

struct datatype {
    const char *name;
    oz_wu_format format;
    bool swap;
};

static const struct datatype datatypes[] = {
    {"ci8", OZ_WU_CI8, false},      {"ci16_le", OZ_WU_CI16, false}, {"ci16_be", OZ_WU_CI16, true},
    {"cf32_le", OZ_WU_CF32, false}, {"cf32_be", OZ_WU_CF32, true},
};
#define NDATATYPES (sizeof datatypes / sizeof datatypes[0])
#define DATATYPE_LIST "ci8, ci16_le, ci16_be, cf32_le, cf32_be"

static const struct datatype *find_datatype(const char *name)
{
    for (size_t i = 0; i < NDATATYPES; i++)
        if (strcmp(name, datatypes[i].name) == 0)
            return &datatypes[i];
    return NULL;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* malloc'd a + b. */
static char *concat(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    char *s = malloc(alen + blen + 1);
    if (s) {
        memcpy(s, a, alen);
        memcpy(s + alen, b, blen + 1);
    }
    return s;
}

/* ---- reading the meta file ------------------------------------------------------ */

struct meta {
    const struct datatype *dt;
    double sample_rate, center_hz;
    bool has_time;
    int64_t start_ns;
    bool has_sky;
    double ra_deg, dec_deg;
    bool has_site;
    oz_wu_site site;
    uint32_t ntrack; /* captures' pointing, t_s = sample_start / sample_rate */
    oz_wu_pointing track[OZ_WU_POINTING_MAX];
    uint64_t header_bytes;
    const char *dataset; /* borrowed from the JSON, or NULL */
    uint64_t last_start; /* the last capture's core:sample_start */
};

/* The member `key` of obj when it exists, with a type check. */
static int get(const json_t *obj, const char *where, const char *key, json_type type, bool required,
               const char *mpath, json_t **out, char *why, size_t whylen)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v) {
        if (required)
            return oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "%s: %s.%s is missing", mpath, where,
                              key);
        return OZ_WU_OK;
    }
    bool ok = json_typeof(v) == type || (type == JSON_REAL && json_is_integer(v)) ||
              (type == JSON_TRUE && json_is_boolean(v));
    if (!ok) {
        const char *want = type == JSON_REAL      ? "a number"
                           : type == JSON_INTEGER ? "an integer"
                           : type == JSON_STRING  ? "a string"
                           : type == JSON_OBJECT  ? "an object"
                           : type == JSON_ARRAY   ? "an array"
                                                  : "a boolean";
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "%s: %s.%s: expected %s, got %s", mpath,
                          where, key, want, oz_sci_json_type(v));
    }
    *out = v;
    return OZ_WU_OK;
}

#define GET(obj, where, key, type, req, var)                                                       \
    do {                                                                                           \
        int rc_ = get(obj, where, key, type, req, mpath, &var, why, whylen);                       \
        if (rc_ != OZ_WU_OK)                                                                       \
            return rc_;                                                                            \
    } while (0)

/* An angle pair at obj's keys ozma:ra_deg/ozma:dec_deg: both or neither,
 * in range; *has says which. */
static int radec(const json_t *obj, const char *where, const char *mpath, bool *has, double *ra,
                 double *dec, char *why, size_t whylen)
{
    json_t *jra, *jdec;
    *has = false;
    GET(obj, where, "ozma:ra_deg", JSON_REAL, false, jra);
    GET(obj, where, "ozma:dec_deg", JSON_REAL, false, jdec);
    if ((jra == NULL) != (jdec == NULL))
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                          "%s: %s.%s is missing (give both ozma:ra_deg and ozma:dec_deg)", mpath,
                          where, jra ? "ozma:dec_deg" : "ozma:ra_deg");
    if (!jra)
        return OZ_WU_OK;
    *ra = json_number_value(jra);
    *dec = json_number_value(jdec);
    if (!(*ra >= 0 && *ra < 360))
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "%s: %s.ozma:ra_deg %g is outside [0, 360)",
                          mpath, where, *ra);
    if (!(*dec >= -90 && *dec <= 90))
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                          "%s: %s.ozma:dec_deg %g is outside [-90, 90]", mpath, where, *dec);
    *has = true;
    return OZ_WU_OK;
}

/* A capture's pointing, a point of the track from its first sample on. */
static int capture_pointing(const json_t *c, const char *where, const char *mpath, json_int_t start,
                            struct meta *m, char *why, size_t whylen)
{
    bool has;
    double ra = 0, dec = 0;
    int rc = radec(c, where, mpath, &has, &ra, &dec, why, whylen);
    if (rc != OZ_WU_OK || !has)
        return rc;
    if (m->ntrack == OZ_WU_POINTING_MAX)
        return oz_wu_fail(OZ_WU_ELIMIT, why, whylen,
                          "%s: more than %u captures give a pointing", mpath, OZ_WU_POINTING_MAX);
    m->track[m->ntrack++] = (oz_wu_pointing){(double)start / m->sample_rate, ra, dec};
    return OZ_WU_OK;
}

/* global.core:geolocation: a GeoJSON Point, [longitude, latitude] or
 * [longitude, latitude, altitude in metres] (RFC 7946 order). */
static int geolocation(const json_t *global, const char *mpath, struct meta *m, char *why,
                       size_t whylen)
{
    json_t *g, *type, *coords;
    GET(global, "global", "core:geolocation", JSON_OBJECT, false, g);
    if (!g)
        return OZ_WU_OK;
    GET(g, "global.core:geolocation", "type", JSON_STRING, true, type);
    GET(g, "global.core:geolocation", "coordinates", JSON_ARRAY, true, coords);
    size_t n = json_array_size(coords);
    if (strcmp(json_string_value(type), "Point") != 0 || n < 2 || n > 3)
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                          "%s: global.core:geolocation must be a GeoJSON Point with coordinates "
                          "[lon, lat] or [lon, lat, alt]",
                          mpath);
    double v[3] = {0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        const json_t *x = json_array_get(coords, i);
        if (!json_is_number(x))
            return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                              "%s: global.core:geolocation.coordinates[%zu]: expected a number, "
                              "got %s",
                              mpath, i, oz_sci_json_type(x));
        v[i] = json_number_value(x);
    }
    m->site = (oz_wu_site){.lat_deg = v[1], .lon_deg = v[0], .alt_m = v[2]};
    if (!oz_wu_site_valid(&m->site) || m->site.lon_deg > 180)
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                          "%s: global.core:geolocation [%g, %g, %g] is not a place on Earth "
                          "(longitude [-180, 180], latitude [-90, 90], altitude [-12 km, 1000 km])",
                          mpath, v[0], v[1], v[2]);
    m->has_site = true;
    return OZ_WU_OK;
}

static int parse_captures(const json_t *caps, const char *mpath, struct meta *m, char *why,
                          size_t whylen)
{
    size_t n = json_array_size(caps);
    if (n == 0)
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                          "%s: captures is empty (captures[0].core:frequency is required)", mpath);
    uint64_t prev_start = 0;
    int rc_sky;
    for (size_t i = 0; i < n; i++) {
        const json_t *c = json_array_get(caps, i);
        char where[32];
        snprintf(where, sizeof where, "captures[%zu]", i);
        if (!json_is_object(c))
            return oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "%s: %s: expected an object, got %s",
                              mpath, where, oz_sci_json_type(c));
        json_t *v;
        GET(c, where, "core:sample_start", JSON_INTEGER, i > 0, v);
        json_int_t start = v ? json_integer_value(v) : 0;
        if (start < 0 || (i == 0 && start != 0) || (i > 0 && (uint64_t)start <= prev_start))
            return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                              "%s: %s.core:sample_start %" JSON_INTEGER_FORMAT " must be %s", mpath,
                              where, start, i == 0 ? "0" : "larger than the previous capture's");
        prev_start = (uint64_t)start;
        m->last_start = prev_start;

        GET(c, where, "core:frequency", JSON_REAL, i == 0, v);
        if (v) {
            double f = json_number_value(v);
            if (!isfinite(f) || fabs(f) > OZ_WU_FREQ_MAX)
                return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                                  "%s: %s.core:frequency %g is outside ±%g Hz", mpath, where, f,
                                  OZ_WU_FREQ_MAX);
            if (i == 0)
                m->center_hz = f;
            else if (f != m->center_hz)
                return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                                  "%s: %s.core:frequency %.17g differs from captures[0]'s "
                                  "%.17g: recordings that retune are not supported, split them",
                                  mpath, where, f, m->center_hz);
        }

        GET(c, where, "core:header_bytes", JSON_INTEGER, false, v);
        if (v) {
            json_int_t hb = json_integer_value(v);
            if (hb < 0 || (i > 0 && hb != 0) || hb > (json_int_t)1 << 40)
                return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                                  "%s: %s.core:header_bytes %" JSON_INTEGER_FORMAT " is not "
                                  "supported (only captures[0] may have header bytes)",
                                  mpath, where, hb);
            if (i == 0)
                m->header_bytes = (uint64_t)hb;
        }

        if ((rc_sky = capture_pointing(c, where, mpath, start, m, why, whylen)) != OZ_WU_OK)
            return rc_sky;

        GET(c, where, "core:datetime", JSON_STRING, false, v);
        if (v) {
            char sub[160];
            int64_t ns;
            if (oz_wu_time_parse(json_string_value(v), &ns, sub, sizeof sub) != OZ_WU_OK)
                return oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "%s: %s.core:datetime: %s", mpath,
                                  where, sub);
            if (i == 0) {
                m->has_time = true;
                m->start_ns = ns;
            } else if (m->has_time && m->sample_rate > 0) {
                int64_t expect = oz_wu_time_add(m->start_ns, (double)start / m->sample_rate);
                int64_t d = ns - expect;
                if (d > 1000000 || d < -1000000)
                    return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                                      "%s: %s.core:datetime is %.3f s off the time implied by "
                                      "the sample rate: recordings with gaps are not supported, "
                                      "split them",
                                      mpath, where, (double)d * 1e-9);
            }
        }
    }
    return OZ_WU_OK;
}

static int parse_meta(const json_t *root, const char *mpath, struct meta *m, char *why,
                      size_t whylen)
{
    memset(m, 0, sizeof *m);
    if (!json_is_object(root))
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "%s: expected a JSON object, got %s", mpath,
                          oz_sci_json_type(root));
    json_t *global, *caps, *v;
    GET(root, "meta", "global", JSON_OBJECT, true, global);
    GET(root, "meta", "captures", JSON_ARRAY, true, caps);

    GET(global, "global", "core:version", JSON_STRING, true, v);
    const char *ver = json_string_value(v);
    if (strncmp(ver, "1.", 2) != 0 && strncmp(ver, "0.", 2) != 0)
        return oz_wu_fail(OZ_WU_EVERSION, why, whylen,
                          "%s: global.core:version \"%.20s\" is not a SigMF version this reader "
                          "knows (1.x)",
                          mpath, ver);

    GET(global, "global", "core:datatype", JSON_STRING, true, v);
    const char *dtname = json_string_value(v);
    m->dt = find_datatype(dtname);
    if (!m->dt)
        return oz_wu_fail(
            OZ_WU_EFORMAT, why, whylen,
            "%s: global.core:datatype \"%.20s\" is not supported (complex: " DATATYPE_LIST ")",
            mpath, dtname);

    GET(global, "global", "core:sample_rate", JSON_REAL, true, v);
    m->sample_rate = json_number_value(v);
    if (!isfinite(m->sample_rate) || m->sample_rate <= 0 || m->sample_rate > OZ_WU_SAMPLE_RATE_MAX)
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                          "%s: global.core:sample_rate %g must be in (0, %g] Hz", mpath,
                          m->sample_rate, OZ_WU_SAMPLE_RATE_MAX);

    GET(global, "global", "core:num_channels", JSON_INTEGER, false, v);
    if (v && json_integer_value(v) != 1)
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                          "%s: global.core:num_channels %" JSON_INTEGER_FORMAT
                          " is not supported (only 1)",
                          mpath, json_integer_value(v));

    GET(global, "global", "core:metadata_only", JSON_TRUE, false, v);
    if (v && json_is_true(v))
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                          "%s: global.core:metadata_only is true: there are no samples", mpath);

    GET(global, "global", "core:trailing_bytes", JSON_INTEGER, false, v);
    if (v && json_integer_value(v) != 0)
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                          "%s: global.core:trailing_bytes is not supported", mpath);

    GET(global, "global", "core:dataset", JSON_STRING, false, v);
    if (v) {
        m->dataset = json_string_value(v);
        if (!*m->dataset || strchr(m->dataset, '/') || strcmp(m->dataset, "..") == 0 ||
            strcmp(m->dataset, ".") == 0)
            return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                              "%s: global.core:dataset \"%.60s\" must be a file name in the "
                              "meta file's directory",
                              mpath, m->dataset);
    }

    int rc = radec(global, "global", mpath, &m->has_sky, &m->ra_deg, &m->dec_deg, why, whylen);
    if (rc == OZ_WU_OK)
        rc = geolocation(global, mpath, m, why, whylen);
    if (rc == OZ_WU_OK)
        rc = parse_captures(caps, mpath, m, why, whylen);
    if (rc == OZ_WU_OK && m->ntrack > 0 && !m->has_sky) { /* the track's start stands for it */
        m->has_sky = true;
        m->ra_deg = m->track[0].ra_deg;
        m->dec_deg = m->track[0].dec_deg;
    }
    return rc;
}

/* A meta document's bytes into m; *root (which m borrows from) is the
 * caller's to json_decref, even on failure. */
static int meta_load(const char *text, size_t len, const char *mpath, struct meta *m,
                     json_t **root, char *why, size_t whylen)
{
    json_error_t err;
    *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
    if (!*root)
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "%s: invalid JSON at line %d column %d: %s",
                          mpath, err.line, err.column, err.text);
    return parse_meta(*root, mpath, m, why, whylen);
}

int oz_wu_sigmf_meta_parse(const char *text, size_t len, const char *name, oz_wu_sigmf_meta *out,
                           char *why, size_t whylen)
{
    memset(out, 0, sizeof *out);
    if (len > OZ_WU_META_MAX)
        return oz_wu_fail(OZ_WU_ELIMIT, why, whylen, "%s: more than %u bytes", name,
                          OZ_WU_META_MAX);
    json_t *root = NULL;
    struct meta m;
    int rc = meta_load(text, len, name, &m, &root, why, whylen);
    if (rc == OZ_WU_OK) {
        out->format = m.dt->format;
        out->byte_swapped = m.dt->swap;
        out->sample_rate = m.sample_rate;
        out->center_hz = m.center_hz;
        out->has_time = m.has_time;
        out->start_ns = m.start_ns;
        out->has_sky = m.has_sky;
        out->ra_deg = m.ra_deg;
        out->dec_deg = m.dec_deg;
        out->header_bytes = m.header_bytes;
        out->last_start = m.last_start;
        out->has_dataset = m.dataset != NULL;
    }
    json_decref(root);
    return rc;
}

int oz_wu_open_sigmf(const char *path, oz_wu_reader **out, char *why, size_t whylen)
{
    *out = NULL;
    if (!path || !*path)
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "no SigMF recording given");
    if (ends_with(path, ".sigmf") && !ends_with(path, "/.sigmf"))
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                          "%s: SigMF archives are not supported; extract the .sigmf-meta and "
                          ".sigmf-data files first",
                          path);
    size_t stem = strlen(path);
    if (ends_with(path, ".sigmf-meta") || ends_with(path, ".sigmf-data"))
        stem -= strlen(".sigmf-meta");
    else if (ends_with(path, ".sigmf-"))
        stem -= strlen(".sigmf-");

    int rc;
    char *mpath = concat(path, stem, ".sigmf-meta");
    char *dpath = NULL, *text = NULL;
    json_t *root = NULL;
    if (!mpath) {
        rc = oz_wu_fail(OZ_WU_ENOMEM, why, whylen, "%s: out of memory", path);
        goto out;
    }
    size_t len;
    rc = oz_wu_read_small(mpath, OZ_WU_META_MAX, &text, &len, why, whylen);
    if (rc != OZ_WU_OK)
        goto out;
    struct meta m;
    rc = meta_load(text, len, mpath, &m, &root, why, whylen);
    if (rc != OZ_WU_OK)
        goto out;
    if (m.dataset) {
        const char *slash = strrchr(mpath, '/');
        size_t dirlen = slash ? (size_t)(slash - mpath + 1) : 0;
        dpath = concat(mpath, dirlen, m.dataset);
    } else {
        dpath = concat(path, stem, ".sigmf-data");
    }
    if (!dpath) {
        rc = oz_wu_fail(OZ_WU_ENOMEM, why, whylen, "%s: out of memory", path);
        goto out;
    }
    struct oz_wu_reader *r;
    rc = oz_wu_filestream_open(dpath, dpath, m.header_bytes, m.dt->format, m.dt->swap, &r, why,
                               whylen);
    if (rc != OZ_WU_OK)
        goto out;
    if (m.last_start > 0 && m.last_start >= r->info.nsamples) {
        rc = oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                        "%s: a capture starts at sample %llu but %s holds %llu samples", mpath,
                        (unsigned long long)m.last_start, dpath,
                        (unsigned long long)r->info.nsamples);
        oz_wu_reader_close(r);
        goto out;
    }
    r->info.sample_rate = m.sample_rate;
    r->info.center_hz = m.center_hz;
    r->info.has_time = m.has_time;
    r->info.start_ns = m.start_ns;
    r->info.has_sky = m.has_sky;
    r->info.ra_deg = m.ra_deg;
    r->info.dec_deg = m.dec_deg;
    r->info.has_site = m.has_site;
    r->info.site = m.site;
    r->info.ntrack = m.ntrack;
    memcpy(r->info.track, m.track, m.ntrack * sizeof m.track[0]);
    oz_wu_name_from_path(mpath, r->info.name, sizeof r->info.name);
    *out = r;
out:
    json_decref(root);
    free(text);
    free(mpath);
    free(dpath);
    return rc;
}

/* ---- writing ---------------------------------------------------------------------- */

#define WRITE_CHUNK 16384u

struct oz_wu_sigmf_writer {
    const struct datatype *dt;
    oz_wu_dfile *data;
    char *mpath, *dpath;
    json_t *meta;       /* written at finish */
    unsigned char *buf; /* WRITE_CHUNK samples in the datatype */
    uint64_t clipped;
    uint64_t nsamples;
};

static json_t *build_meta(const struct datatype *dt, const oz_wu_info *info,
                          const char *description)
{
    json_t *global = json_object(), *cap = json_object(), *caps = json_array();
    json_t *root = json_object();
    if (!global || !cap || !caps || !root)
        goto fail;
    if (json_object_set_new(root, "global", global) != 0) {
        global = NULL;
        goto fail;
    }
    json_t *g = global;
    global = NULL;
    if (json_object_set_new(root, "captures", caps) != 0) {
        caps = NULL;
        goto fail;
    }
    json_t *cs = caps;
    caps = NULL;
    if (json_array_append_new(cs, cap) != 0) {
        cap = NULL;
        goto fail;
    }
    json_t *c = cap;
    cap = NULL;
    int bad = 0;
    bad |= json_object_set_new(root, "annotations", json_array());
    bad |= json_object_set_new(g, "core:datatype", json_string(dt->name));
    bad |= json_object_set_new(g, "core:sample_rate", json_real(info->sample_rate));
    bad |= json_object_set_new(g, "core:version", json_string("1.0.0"));
    bad |= json_object_set_new(g, "core:num_channels", json_integer(1));
    bad |= json_object_set_new(g, "core:recorder", json_string("ozma"));
    if (description)
        bad |= json_object_set_new(g, "core:description", json_string(description));
    if (info->has_sky && info->ntrack == 0) {
        bad |= json_object_set_new(g, "ozma:ra_deg", json_real(info->ra_deg));
        bad |= json_object_set_new(g, "ozma:dec_deg", json_real(info->dec_deg));
    }
    if (info->has_sky || info->ntrack > 0) {
        bad |= json_object_set_new(
            g, "core:extensions",
            json_pack("[{s:s, s:s, s:b}]", "name", "ozma", "version", "1.0.0", "optional", 1));
    }
    if (info->has_site)
        bad |= json_object_set_new(
            g, "core:geolocation",
            json_pack("{s:s, s:[f, f, f]}", "type", "Point", "coordinates", info->site.lon_deg,
                      info->site.lat_deg, info->site.alt_m));
    bad |= json_object_set_new(c, "core:sample_start", json_integer(0));
    bad |= json_object_set_new(c, "core:frequency", json_real(info->center_hz));
    /* a track: one capture per point (the first at sample 0) */
    for (uint32_t i = 0; i < info->ntrack && i < OZ_WU_POINTING_MAX; i++) {
        json_t *ci = c;
        if (i > 0) {
            json_int_t at = (json_int_t)llround(info->track[i].t_s * info->sample_rate);
            if (!(ci = json_pack("{s:I, s:f}", "core:sample_start", at, "core:frequency",
                                 info->center_hz)) ||
                json_array_append_new(cs, ci) != 0)
                goto fail;
        }
        bad |= json_object_set_new(ci, "ozma:ra_deg", json_real(info->track[i].ra_deg));
        bad |= json_object_set_new(ci, "ozma:dec_deg", json_real(info->track[i].dec_deg));
    }
    if (info->has_time) {
        char t[48];
        int digits = info->start_ns % 1000000000 == 0 ? 0 : 9;
        if (oz_wu_time_format(info->start_ns, digits, t, sizeof t) != OZ_WU_OK)
            goto fail;
        bad |= json_object_set_new(c, "core:datetime", json_string(t));
    }
    if (bad)
        goto fail;
    return root;
fail:
    json_decref(global);
    json_decref(cap);
    json_decref(caps);
    json_decref(root);
    return NULL;
}

int oz_wu_sigmf_create(const char *stem, const char *datatype, const oz_wu_info *info,
                       const char *description, oz_wu_sigmf_writer **out, char *why, size_t whylen)
{
    *out = NULL;
    if (!stem || !*stem || !info)
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "no recording name given");
    const struct datatype *dt = datatype ? find_datatype(datatype) : NULL;
    if (!dt)
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen,
                          "datatype \"%.20s\" is not one of " DATATYPE_LIST,
                          datatype ? datatype : "");
    if (!isfinite(info->sample_rate) || info->sample_rate <= 0 ||
        info->sample_rate > OZ_WU_SAMPLE_RATE_MAX)
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "sample rate %g must be in (0, %g] Hz",
                          info->sample_rate, OZ_WU_SAMPLE_RATE_MAX);
    if (!isfinite(info->center_hz) || fabs(info->center_hz) > OZ_WU_FREQ_MAX)
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "centre frequency %g is outside ±%g Hz",
                          info->center_hz, OZ_WU_FREQ_MAX);
    int rc;
    oz_wu_sigmf_writer *w = calloc(1, sizeof *w);
    if (!w)
        return oz_wu_fail(OZ_WU_ENOMEM, why, whylen, "%s: out of memory", stem);
    w->dt = dt;
    w->mpath = concat(stem, strlen(stem), ".sigmf-meta");
    w->dpath = concat(stem, strlen(stem), ".sigmf-data");
    w->buf = malloc(WRITE_CHUNK * oz_wu_format_size(dt->format));
    w->meta = build_meta(dt, info, description);
    if (!w->mpath || !w->dpath || !w->buf || !w->meta) {
        rc = oz_wu_fail(OZ_WU_ENOMEM, why, whylen, "%s: out of memory", stem);
        goto fail;
    }
    /* the meta file is written last: a path it cannot take is refused now,
     * before the samples */
    if ((rc = oz_wu_out_check(w->mpath, why, whylen)) != OZ_WU_OK)
        goto fail;
    rc = oz_wu_dfile_open(w->dpath, &w->data, why, whylen);
    if (rc != OZ_WU_OK)
        goto fail;
    *out = w;
    return OZ_WU_OK;
fail:
    oz_wu_sigmf_abort(w);
    return rc;
}

int oz_wu_sigmf_append(oz_wu_sigmf_writer *w, const float *iq, size_t n, char *why, size_t whylen)
{
    size_t bps = oz_wu_format_size(w->dt->format);
    while (n > 0) {
        size_t m = n < WRITE_CHUNK ? n : WRITE_CHUNK;
        w->clipped += oz_wu_format_from_cf32(w->dt->format, iq, m, w->buf);
        if (w->dt->swap && bps > 2)
            oz_wu_byteswap(w->buf, 2 * m, bps / 2);
        int rc = oz_wu_dfile_write(w->data, w->buf, m * bps, why, whylen);
        if (rc != OZ_WU_OK)
            return rc;
        w->nsamples += m;
        iq += 2 * m;
        n -= m;
    }
    return OZ_WU_OK;
}

uint64_t oz_wu_sigmf_clipped(const oz_wu_sigmf_writer *w)
{
    return w->clipped;
}

int oz_wu_sigmf_finish(oz_wu_sigmf_writer *w, char *why, size_t whylen)
{
    int rc;
    char *text = NULL;
    if (w->nsamples == 0) {
        rc = oz_wu_fail(OZ_WU_EINVAL, why, whylen, "%s: a recording needs at least one sample",
                        w->mpath);
        goto fail;
    }
    text = json_dumps(w->meta, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    if (!text) {
        rc = oz_wu_fail(OZ_WU_ENOMEM, why, whylen, "%s: out of memory", w->mpath);
        goto fail;
    }
    /* The metadata is written (to its temporary file) before the data is
     * put in place, so a failure leaves no data without its metadata; if
     * the metadata's own rename fails after the data's, the new data is
     * removed rather than left beside an older, different metadata file. */
    oz_wu_dfile *mf = NULL;
    rc = oz_wu_dfile_open(w->mpath, &mf, why, whylen);
    if (rc != OZ_WU_OK)
        goto fail;
    if ((rc = oz_wu_dfile_write(mf, text, strlen(text), why, whylen)) != OZ_WU_OK ||
        (rc = oz_wu_dfile_write(mf, "\n", 1, why, whylen)) != OZ_WU_OK) {
        oz_wu_dfile_abort(mf);
        goto fail;
    }
    rc = oz_wu_dfile_commit(w->data, why, whylen);
    w->data = NULL;
    if (rc != OZ_WU_OK) {
        oz_wu_dfile_abort(mf);
        goto fail;
    }
    rc = oz_wu_dfile_commit(mf, why, whylen);
    if (rc != OZ_WU_OK && w->dpath)
        unlink(w->dpath);
fail:
    free(text);
    oz_wu_sigmf_abort(w);
    return rc;
}

void oz_wu_sigmf_abort(oz_wu_sigmf_writer *w)
{
    if (!w)
        return;
    oz_wu_dfile_abort(w->data);
    json_decref(w->meta);
    free(w->buf);
    free(w->mpath);
    free(w->dpath);
    free(w);
}
