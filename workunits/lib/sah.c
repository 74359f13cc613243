/*
 * sah.c - SETI@home work units (.sah): a strict reader.
 *
 * The file is a fixed XML layout, not general XML:
 *
 *   [<workunit> [<app_name>..</app_name>]]
 *   <workunit_header>
 *     <name>..</name>
 *     <group_info> <data_desc> (with <coords>) <receiver_cfg> <recorder_cfg>
 *                  <splitter_cfg> <analysis_cfg> (with <chirps>) </group_info>
 *     <subband_desc> number center base sample_rate </subband_desc>
 *   </workunit_header>
 *   <data length=N encoding="x-setiathome"> PAYLOAD </data>
 *   [</workunit>]
 *
 * read by a small tag scanner (sah_scan.c); the payload's text encoding
 * and its 2-bit samples are decoded in sah_payload.c.
 *
 * The sample rate: <subband_desc><sample_rate> is printed with two decimals
 * (9765.62), while the real rate is the recorder's divided by the
 * splitter's fft_len / ifft_len (2.5 MHz * 8 / 2048 = 9765.625 Hz exactly).
 * v8 computes its chirp steps, times and frequencies from the printed
 * value, so the unit's rate is the printed one: the reference unit's spikes
 * then come out at v8's frequencies to 0.1 mHz (with the exact rate they
 * are 2 mHz off, 5e-7 of their offset from the band's zero).  The 5e-7 it
 * is off by moves nothing else measurably.
 *
 * Bounds: the file (OZ_WU_SAH_MAX), every text field, every count (coords,
 * chirps), nsamples (a power of two, OZ_WU_UNIT_SAMPLES_MIN ..
 * OZ_WU_SAH_SAMPLES_MAX); numbers go through strtod/strtoul with end
 * checks and must be finite; the payload's characters, line structure,
 * length= and nsamples must all agree.  Every refusal is one sentence
 * naming the file, the line and the problem.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sah_scan.h"

/* ---- the header's sections -------------------------------------------------------------- */

static int get_coords(const struct oz_sah_ctx *c, struct oz_sah_span in, oz_wu_sah *h)
{
    const char *pos = in.p, *end = in.p + in.n;
    struct oz_sah_span tag = {0}, attrs = {0}, v = {0};
    int got;
    h->ncoords = 0;
    while ((got = oz_sah_next_child(c, &pos, end, false, &tag, &attrs, &v)) == 1) {
        if (!oz_sah_span_is(tag, "coordinate_t"))
            continue;
        if (h->ncoords == OZ_WU_TRACK_MAX)
            return oz_wu_fail(OZ_WU_ELIMIT, c->why, c->whylen,
                              "%s: line %u: more than %u <coordinate_t> in <coords>", c->name,
                              oz_sah_line_of(c, tag.p), OZ_WU_TRACK_MAX);
        oz_wu_sah_coord *k = &h->coords[h->ncoords];
        struct oz_sah_field f[] = {{"time", F_DBL, &k->time_jd, true},
                                   {"ra", F_DBL, &k->ra_hours, true},
                                   {"dec", F_DBL, &k->dec_deg, true}};
        int rc = oz_sah_get_fields(c, v, "coordinate_t", f, sizeof f / sizeof f[0]);
        if (rc != OZ_WU_OK)
            return rc;
        int64_t ns;
        if (oz_wu_time_from_jd(k->time_jd, &ns) != OZ_WU_OK || !(k->ra_hours >= 0) ||
            !(k->ra_hours < 24) || !(k->dec_deg >= -90) || !(k->dec_deg <= 90))
            return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                              "%s: line %u: coordinate time %.10g, ra %g h, dec %g deg is outside "
                              "1900..2200 x [0, 24) x [-90, 90]",
                              c->name, oz_sah_line_of(c, tag.p), k->time_jd, k->ra_hours,
                              k->dec_deg);
        if (h->ncoords > 0 && k->time_jd < h->coords[h->ncoords - 1].time_jd)
            return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                              "%s: line %u: coordinate times go backwards", c->name,
                              oz_sah_line_of(c, tag.p));
        h->ncoords++;
    }
    if (got < 0)
        return got;
    if (h->ncoords == 0)
        return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                          "%s: line %u: <coords> holds no <coordinate_t>", c->name,
                          oz_sah_line_of(c, in.p));
    return OZ_WU_OK;
}

static int get_chirps(const struct oz_sah_ctx *c, struct oz_sah_span in, oz_wu_sah_analysis *a)
{
    const char *pos = in.p, *end = in.p + in.n;
    struct oz_sah_span tag = {0}, attrs = {0}, v = {0};
    int got;
    a->nchirps = 0;
    while ((got = oz_sah_next_child(c, &pos, end, false, &tag, &attrs, &v)) == 1) {
        if (!oz_sah_span_is(tag, "chirp_parameter_t"))
            continue;
        if (a->nchirps == OZ_WU_SAH_CHIRPS_MAX)
            return oz_wu_fail(OZ_WU_ELIMIT, c->why, c->whylen,
                              "%s: line %u: more than %u <chirp_parameter_t> in <chirps>", c->name,
                              oz_sah_line_of(c, tag.p), OZ_WU_SAH_CHIRPS_MAX);
        oz_wu_sah_chirp *k = &a->chirps[a->nchirps];
        struct oz_sah_field f[] = {{"chirp_limit", F_DBL, &k->chirp_limit, true},
                                   {"fft_len_flags", F_U32, &k->fft_len_flags, true}};
        int rc = oz_sah_get_fields(c, v, "chirp_parameter_t", f, sizeof f / sizeof f[0]);
        if (rc != OZ_WU_OK)
            return rc;
        if (!(k->chirp_limit >= 0))
            return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                              "%s: line %u: chirp_limit %g is negative", c->name,
                              oz_sah_line_of(c, tag.p), k->chirp_limit);
        a->nchirps++;
    }
    if (got < 0)
        return got;
    if (a->nchirps == 0)
        return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                          "%s: line %u: <chirps> holds no <chirp_parameter_t>", c->name,
                          oz_sah_line_of(c, in.p));
    return OZ_WU_OK;
}

static int get_analysis(const struct oz_sah_ctx *c, struct oz_sah_span in, oz_wu_sah_analysis *a)
{
    struct oz_sah_span chirps = {0};
    struct oz_sah_field f[] = {
        {"spike_thresh", F_DBL, &a->spike_thresh, true},
        {"spikes_per_spectrum", F_U32, &a->spikes_per_spectrum, true},
        {"autocorr_thresh", F_DBL, &a->autocorr_thresh, true},
        {"autocorr_per_spectrum", F_U32, &a->autocorr_per_spectrum, true},
        {"autocorr_fftlen", F_U32, &a->autocorr_fftlen, true},
        {"gauss_null_chi_sq_thresh", F_DBL, &a->gauss_null_chi_sq_thresh, true},
        {"gauss_chi_sq_thresh", F_DBL, &a->gauss_chi_sq_thresh, true},
        {"gauss_power_thresh", F_DBL, &a->gauss_power_thresh, true},
        {"gauss_peak_power_thresh", F_DBL, &a->gauss_peak_power_thresh, true},
        {"gauss_pot_length", F_U32, &a->gauss_pot_length, true},
        {"pulse_thresh", F_DBL, &a->pulse_thresh, true},
        {"pulse_display_thresh", F_DBL, &a->pulse_display_thresh, true},
        {"pulse_max", F_U32, &a->pulse_max, true},
        {"pulse_min", F_U32, &a->pulse_min, true},
        {"pulse_fft_max", F_U32, &a->pulse_fft_max, true},
        {"pulse_pot_length", F_U32, &a->pulse_pot_length, true},
        {"triplet_thresh", F_DBL, &a->triplet_thresh, true},
        {"triplet_min", F_U32, &a->triplet_min, true},
        {"triplet_max", F_U32, &a->triplet_max, true},
        {"triplet_pot_length", F_U32, &a->triplet_pot_length, true},
        {"pot_overlap_factor", F_DBL, &a->pot_overlap_factor, true},
        {"pot_t_offset", F_DBL, &a->pot_t_offset, true},
        {"pot_min_slew", F_DBL, &a->pot_min_slew, true},
        {"pot_max_slew", F_DBL, &a->pot_max_slew, true},
        {"chirp_resolution", F_DBL, &a->chirp_resolution, true},
        {"analysis_fft_lengths", F_U32, &a->analysis_fft_lengths, true},
        {"bsmooth_boxcar_length", F_U32, &a->bsmooth_boxcar_length, true},
        {"bsmooth_chunk_size", F_U32, &a->bsmooth_chunk_size, true},
        {"chirps", F_SPAN, &chirps, true},
        {"pulse_beams", F_DBL, &a->pulse_beams, true},
        {"max_signals", F_U32, &a->max_signals, true},
    };
    int rc = oz_sah_get_fields(c, in, "analysis_cfg", f, sizeof f / sizeof f[0]);
    if (rc != OZ_WU_OK)
        return rc;
    if (a->analysis_fft_lengths == 0 || a->max_signals == 0)
        return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                          "%s: line %u: <analysis_cfg>: analysis_fft_lengths and max_signals must "
                          "not be 0",
                          c->name, oz_sah_line_of(c, in.p));
    return get_chirps(c, chirps, a);
}

static int get_group(const struct oz_sah_ctx *c, struct oz_sah_span in, oz_wu_sah *h)
{
    struct oz_sah_span data_desc = {0}, receiver = {0}, recorder = {0}, splitter = {0},
                       analysis = {0};
    struct oz_sah_field g[] = {{"data_desc", F_SPAN, &data_desc, true},
                               {"receiver_cfg", F_SPAN, &receiver, true},
                               {"recorder_cfg", F_SPAN, &recorder, false},
                               {"splitter_cfg", F_SPAN, &splitter, true},
                               {"analysis_cfg", F_SPAN, &analysis, true}};
    int rc = oz_sah_get_fields(c, in, "group_info", g, sizeof g / sizeof g[0]);
    if (rc != OZ_WU_OK)
        return rc;

    struct oz_sah_span coords = {0};
    struct oz_sah_field d[] = {{"start_ra", F_DBL, &h->start_ra, false},
                               {"start_dec", F_DBL, &h->start_dec, false},
                               {"end_ra", F_DBL, &h->end_ra, false},
                               {"end_dec", F_DBL, &h->end_dec, false},
                               {"true_angle_range", F_DBL, &h->true_angle_range, true},
                               {"time_recorded", F_TEXT, h->time_recorded, false},
                               {"time_recorded_jd", F_DBL, &h->time_recorded_jd, true},
                               {"nsamples", F_U32, &h->nsamples, true},
                               {"coords", F_SPAN, &coords, true}};
    if ((rc = oz_sah_get_fields(c, data_desc, "data_desc", d, sizeof d / sizeof d[0])) !=
            OZ_WU_OK ||
        (rc = get_coords(c, coords, h)) != OZ_WU_OK)
        return rc;

    struct oz_sah_field r[] = {{"s4_id", F_I32, &h->s4_id, false},
                               {"name", F_TEXT, h->receiver, false},
                               {"beam_width", F_DBL, &h->beam_width, true},
                               {"center_freq", F_DBL, &h->receiver_freq, false},
                               {"latitude", F_DBL, &h->latitude, false},
                               {"longitude", F_DBL, &h->longitude, false},
                               {"elevation", F_DBL, &h->elevation, false},
                               {"diameter", F_DBL, &h->diameter, false}};
    if ((rc = oz_sah_get_fields(c, receiver, "receiver_cfg", r, sizeof r / sizeof r[0])) !=
        OZ_WU_OK)
        return rc;

    if (recorder.p) {
        struct oz_sah_field k[] = {{"name", F_TEXT, h->recorder, false},
                                   {"bits_per_sample", F_U32, &h->recorder_bits, false},
                                   {"sample_rate", F_DBL, &h->recorder_sample_rate, false}};
        if ((rc = oz_sah_get_fields(c, recorder, "recorder_cfg", k, sizeof k / sizeof k[0])) !=
            OZ_WU_OK)
            return rc;
    }

    char data_type[OZ_WU_SAH_TEXT_MAX + 1] = "";
    struct oz_sah_field s[] = {{"version", F_TEXT, h->splitter_version, false},
                               {"data_type", F_TEXT, data_type, true},
                               {"fft_len", F_U32, &h->fft_len, false},
                               {"ifft_len", F_U32, &h->ifft_len, false},
                               {"samples_per_wu", F_U32, &h->samples_per_wu, false},
                               {"wu_bits_per_sample", F_U32, &h->wu_bits_per_sample, false}};
    if ((rc = oz_sah_get_fields(c, splitter, "splitter_cfg", s, sizeof s / sizeof s[0])) !=
        OZ_WU_OK)
        return rc;
    if (strcmp(data_type, "encoded") != 0)
        return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                          "%s: line %u: <data_type> \"%s\" is not \"encoded\", the only one read",
                          c->name, oz_sah_line_of(c, splitter.p), data_type);
    if (h->wu_bits_per_sample == 0) /* v8's default */
        h->wu_bits_per_sample = 2;
    if (h->wu_bits_per_sample != 2)
        return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                          "%s: line %u: wu_bits_per_sample %u is not supported (only 2)", c->name,
                          oz_sah_line_of(c, splitter.p), h->wu_bits_per_sample);
    return get_analysis(c, analysis, &h->analysis);
}

/* Checks and completes what the sections said. */
static int check_header(const struct oz_sah_ctx *c, struct oz_sah_span at, oz_wu_sah *h)
{
    unsigned line = oz_sah_line_of(c, at.p);
    if (h->nsamples < OZ_WU_UNIT_SAMPLES_MIN || h->nsamples > OZ_WU_SAH_SAMPLES_MAX ||
        (h->nsamples & (h->nsamples - 1)) != 0)
        return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                          "%s: line %u: nsamples %u is not a power of two in %u..%u", c->name, line,
                          h->nsamples, OZ_WU_UNIT_SAMPLES_MIN, OZ_WU_SAH_SAMPLES_MAX);
    double fs = h->subband_sample_rate;
    if (!(fs >= OZ_WU_SAMPLE_RATE_MIN && fs <= OZ_WU_SAMPLE_RATE_MAX))
        return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                          "%s: line %u: subband sample_rate %g is outside [%g, %g]", c->name, line,
                          fs, OZ_WU_SAMPLE_RATE_MIN, OZ_WU_SAMPLE_RATE_MAX);
    h->sample_rate = fs;
    if (fabs(h->subband_base) > OZ_WU_FREQ_MAX || fabs(h->subband_center) > OZ_WU_FREQ_MAX)
        return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                          "%s: line %u: subband base %g or center %g is beyond ±%g Hz", c->name,
                          line, h->subband_base, h->subband_center, OZ_WU_FREQ_MAX);
    if (oz_wu_time_from_jd(h->time_recorded_jd, &h->start_ns) != OZ_WU_OK)
        return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                          "%s: line %u: time_recorded_jd %.10g is outside the years 1900..2200",
                          c->name, line, h->time_recorded_jd);
    if (!(h->true_angle_range >= 0) || !(h->beam_width > 0))
        return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                          "%s: line %u: true_angle_range %g must be >= 0 and beam_width %g > 0",
                          c->name, line, h->true_angle_range, h->beam_width);
    return OZ_WU_OK;
}

/* ---- the file --------------------------------------------------------------------------- */

int oz_wu_sah_parse(const void *buf, size_t len, const char *name, oz_wu_sah *hdr, int8_t **iq,
                    char *why, size_t whylen)
{
    struct oz_sah_ctx c = {.base = buf, .len = len, .name = name, .why = why, .whylen = whylen};
    if (iq)
        *iq = NULL;
    if (len > OZ_WU_SAH_MAX)
        return oz_wu_fail(OZ_WU_ELIMIT, why, whylen, "%s: %zu bytes is more than the limit of %u",
                          name, len, OZ_WU_SAH_MAX);
    if (memchr(buf, '\0', len))
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "%s: line %u: a NUL byte", name,
                          oz_sah_line_of(&c, memchr(buf, '\0', len)));
    oz_wu_sah *h = calloc(1, sizeof *h);
    if (!h)
        return oz_wu_fail(OZ_WU_ENOMEM, why, whylen, "%s: out of memory", name);

    /* The top level: <workunit> around the rest, or the rest alone. */
    struct oz_sah_span tag = {0}, attrs = {0}, v = {0}, header = {0}, data = {0}, data_attrs = {0};
    const char *pos = c.base, *end = c.base + len;
    int rc, got;
    bool wrapped = false;
    bool unclosed = false;
    while ((got = oz_sah_next_child(&c, &pos, end, true, &tag, &attrs, &v)) >= 1) {
        unclosed = got == 2;
        if (oz_sah_span_is(tag, "workunit") && !wrapped && !header.p) {
            wrapped = true;
            const char *wpos = v.p, *wend = v.p + v.n;
            struct oz_sah_span wt, wa, wv;
            while ((got = oz_sah_next_child(&c, &wpos, wend, true, &wt, &wa, &wv)) == 1) {
                if (oz_sah_span_is(wt, "workunit_header") && !header.p)
                    header = wv;
                else if (oz_sah_span_is(wt, "data") && header.p && !data.p)
                    data = wv, data_attrs = wa;
                else if (!oz_sah_span_is(wt, "app_name") || header.p) {
                    rc = oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                                    "%s: line %u: unexpected <%.*s> in <workunit>", name,
                                    oz_sah_line_of(&c, wt.p), (int)wt.n, wt.p);
                    goto out;
                }
            }
            if (got < 0) {
                rc = got;
                goto out;
            }
        } else if (oz_sah_span_is(tag, "workunit_header") && !wrapped && !header.p) {
            header = v;
        } else if (oz_sah_span_is(tag, "data") && !wrapped && header.p && !data.p) {
            data = v, data_attrs = attrs;
        } else {
            rc = oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "%s: line %u: unexpected <%.*s>", name,
                            oz_sah_line_of(&c, tag.p), (int)tag.n, tag.p);
            goto out;
        }
    }
    if (got < 0) {
        rc = got;
        goto out;
    }
    if (unclosed && header.p && data.p) {
        rc = oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "%s: <workunit> has no </workunit>", name);
        goto out;
    }
    if (!header.p || !data.p) {
        rc = oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                        "%s: not a SETI@home work unit: no <workunit_header>%s", name,
                        header.p ? " followed by <data>" : "");
        goto out;
    }

    struct oz_sah_span group = {0}, subband = {0};
    struct oz_sah_field wh[] = {{"name", F_TEXT, h->name, false},
                                {"group_info", F_SPAN, &group, true},
                                {"subband_desc", F_SPAN, &subband, true}};
    struct oz_sah_field sb[] = {{"number", F_I32, &h->subband_number, false},
                                {"center", F_DBL, &h->subband_center, true},
                                {"base", F_DBL, &h->subband_base, true},
                                {"sample_rate", F_DBL, &h->subband_sample_rate, true}};
    if ((rc = oz_sah_get_fields(&c, header, "workunit_header", wh, sizeof wh / sizeof wh[0])) !=
            OZ_WU_OK ||
        (rc = get_group(&c, group, h)) != OZ_WU_OK ||
        (rc = oz_sah_get_fields(&c, subband, "subband_desc", sb, sizeof sb / sizeof sb[0])) !=
            OZ_WU_OK ||
        (rc = check_header(&c, header, h)) != OZ_WU_OK ||
        (rc = oz_sah_get_data(&c, data_attrs, data, h, iq)) != OZ_WU_OK)
        goto out;
    *hdr = *h;
    rc = OZ_WU_OK;
out:
    free(h);
    return rc;
}

bool oz_wu_sah_sniff(const void *head, size_t n)
{
    const char *p = head, *end = p + n;
    while (p < end && oz_sah_is_space(*p))
        p++;
    if (end - p >= 5 && memcmp(p, "<?xml", 5) == 0) {
        const char *q = oz_sah_find(p, end, "?>");
        if (!q)
            return false;
        for (p = q + 2; p < end && oz_sah_is_space(*p);)
            p++;
    }
    if (!((size_t)(end - p) >= strlen("<workunit>") && memcmp(p, "<workunit", 9) == 0))
        return false;
    return oz_sah_find(p, end, "<workunit_header>") != NULL;
}

/* ---- the reader ------------------------------------------------------------------------- */

struct sah_impl {
    oz_wu_sah h;
    int8_t *iq; /* 2 * nsamples, conjugated */
};

static int sah_read_at(struct oz_wu_reader *r, uint64_t pos, void *buf, size_t n, char *why,
                       size_t whylen)
{
    (void)why;
    (void)whylen;
    const struct sah_impl *s = r->impl;
    memcpy(buf, s->iq + 2 * pos, 2 * n);
    return OZ_WU_OK;
}

static void sah_close(struct oz_wu_reader *r)
{
    struct sah_impl *s = r->impl;
    if (s) {
        free(s->iq);
        free(s);
    }
}

static const struct oz_wu_reader_ops sah_ops = {sah_read_at, sah_close};

int oz_wu_open_sah(const char *path, oz_wu_reader **out, char *why, size_t whylen)
{
    *out = NULL;
    char *text = NULL;
    size_t len = 0;
    struct oz_wu_reader *r = NULL;
    struct sah_impl *s = NULL;
    int rc = oz_wu_read_small(path, OZ_WU_SAH_MAX, &text, &len, why, whylen);
    if (rc != OZ_WU_OK)
        return rc;
    s = calloc(1, sizeof *s);
    r = s ? oz_wu_reader_alloc(&sah_ops, path) : NULL;
    if (!r) {
        rc = oz_wu_fail(OZ_WU_ENOMEM, why, whylen, "%s: out of memory", path);
        goto fail;
    }
    if ((rc = oz_wu_sah_parse(text, len, path, &s->h, &s->iq, why, whylen)) != OZ_WU_OK)
        goto fail;
    free(text);
    r->impl = s;
    oz_wu_info *info = &r->info;
    info->format = OZ_WU_CI8;
    info->sample_rate = s->h.sample_rate;
    info->center_hz = s->h.subband_base;
    info->nsamples = s->h.nsamples;
    info->has_time = true;
    info->start_ns = s->h.start_ns;
    info->has_sky = true;
    info->ra_deg = s->h.coords[0].ra_hours * 15.0;
    info->dec_deg = s->h.coords[0].dec_deg;
    oz_wu_name_from_path(path, info->name, sizeof info->name);
    *out = r;
    return OZ_WU_OK;
fail:
    free(text);
    if (s) {
        free(s->iq);
        free(s);
    }
    oz_wu_reader_close(r);
    return rc;
}

const oz_wu_sah *oz_wu_reader_sah(const oz_wu_reader *r)
{
    return r && r->ops == &sah_ops ? &((const struct sah_impl *)r->impl)->h : NULL;
}
