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
 * so a small tag scanner is enough: it walks the direct children of an
 * element, each child's content ending at the first </name> after it (no
 * element of this format contains one of its own name).  Text between
 * elements is skipped (the reference unit has "# should be seconds" notes
 * there); children we do not read are skipped, known ones may appear once.
 *
 * The x-setiathome encoding (db/xml_util.h in SETI@home's sources): each
 * 3 bytes b0 b1 b2 become four 6-bit values, v0 = b0 & 63,
 * v1 = b0 >> 6 | (b1 & 15) << 2, v2 = b1 >> 4 | (b2 & 3) << 4, v3 = b2 >> 2,
 * written as the characters v + 0x20 (the alphabet is 0x20 ' ' .. 0x5f '_').
 * The text is a newline, lines of 64 characters (48 bytes), a last line of
 * fewer (possibly none), and a final newline; length= counts all of it.  The
 * last group may carry up to two bytes of padding, ignored.
 *
 * The bytes to samples (client/s_util.cpp, bits_to_floats, 2 bits per
 * complex sample): bytes are taken in swapped pairs (byte i is read from
 * i ^ 1), each gives four samples from its low bits up, two bits a sample:
 * the higher bit is I, the lower Q, and a bit 1 is +1, 0 is -1.  Ozma keeps
 * the conjugate (I, -Q) as ci8 ±1 (ozma_workunits.h says why).
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

#include "internal.h"

#define TAG_MAX 64u    /* characters of a tag name */
#define NUMBER_MAX 63u /* characters of a number */
#define LINE_CHARS 64u /* characters of a full payload line */

/* What the scanner reports errors against. */
struct ctx {
    const char *base; /* the whole file */
    size_t len;
    const char *name; /* for messages */
    char *why;
    size_t whylen;
};

/* A piece of the file. */
struct span {
    const char *p;
    size_t n;
};

static unsigned line_of(const struct ctx *c, const char *at)
{
    unsigned line = 1;
    for (const char *q = c->base; q < at; q++)
        line += *q == '\n';
    return line;
}

static unsigned column_of(const struct ctx *c, const char *at)
{
    const char *q = at;
    while (q > c->base && q[-1] != '\n')
        q--;
    return (unsigned)(at - q) + 1;
}

static bool span_is(struct span s, const char *lit)
{
    return s.n == strlen(lit) && memcmp(s.p, lit, s.n) == 0;
}

static bool is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

static struct span trim(struct span s)
{
    while (s.n > 0 && is_space(s.p[0])) {
        s.p++;
        s.n--;
    }
    while (s.n > 0 && is_space(s.p[s.n - 1]))
        s.n--;
    return s;
}

static bool name_char(char ch, bool first)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' ||
           (!first && ((ch >= '0' && ch <= '9') || ch == '-' || ch == '.'));
}

/* Finds lit in [p, end). */
static const char *find(const char *p, const char *end, const char *lit)
{
    size_t m = strlen(lit);
    for (; (size_t)(end - p) >= m; p++)
        if (*p == lit[0] && memcmp(p, lit, m) == 0)
            return p;
    return NULL;
}

/*
 * The next direct child of the content [*pos, end): returns 1 with its tag
 * name, attribute text and content, 0 when there is none left, or
 * OZ_WU_EFORMAT (2 for a <workunit> without its close: content to the end).  Text before it is
 * skipped unless `strict` (then only whitespace may come between elements).  Comments and <?..?>
 * are skipped.
 */
static int next_child(const struct ctx *c, const char **pos, const char *end, bool strict,
                      struct span *tag, struct span *attrs, struct span *content)
{
    const char *p = *pos;
    for (;;) {
        while (p < end && *p != '<') {
            if (strict && !is_space(*p))
                return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                                  "%s: line %u: text outside any element", c->name, line_of(c, p));
            p++;
        }
        if (p == end) {
            *pos = p;
            return 0;
        }
        const char *skip_to = NULL, *close = NULL;
        if (end - p >= 4 && memcmp(p, "<!--", 4) == 0)
            close = "-->", skip_to = find(p + 4, end, close);
        else if (end - p >= 2 && p[1] == '?')
            close = "?>", skip_to = find(p + 2, end, close);
        else
            break;
        if (!skip_to)
            return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen, "%s: line %u: unterminated %s",
                              c->name, line_of(c, p), p[1] == '?' ? "<?" : "comment");
        p = skip_to + strlen(close);
    }
    const char *open = p++;
    if (p < end && *p == '/')
        return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                          "%s: line %u: a closing tag where an element was expected", c->name,
                          line_of(c, open));
    tag->p = p;
    while (p < end && name_char(*p, p == tag->p))
        p++;
    tag->n = (size_t)(p - tag->p);
    if (tag->n == 0 || tag->n > TAG_MAX || p == end || (*p != '>' && *p != '/' && !is_space(*p)))
        return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen, "%s: line %u: a malformed tag", c->name,
                          line_of(c, open));
    attrs->p = p;
    while (p < end && *p != '>' && *p != '<')
        p++;
    if (p == end || *p != '>')
        return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen, "%s: line %u: <%.*s has no '>'",
                          c->name, line_of(c, open), (int)tag->n, tag->p);
    attrs->n = (size_t)(p - attrs->p);
    p++;
    if (attrs->n > 0 && attrs->p[attrs->n - 1] == '/') { /* <tag/> */
        attrs->n--;
        content->p = p;
        content->n = 0;
        *pos = p;
        return 1;
    }
    char closetag[TAG_MAX + 4];
    snprintf(closetag, sizeof closetag, "</%.*s>", (int)tag->n, tag->p);
    const char *q = find(p, end, closetag);
    if (!q && span_is(*tag, "workunit")) {
        /* unclosed: its content runs to the end, so that a truncated
         * payload is reported as such, inside it (the caller checks) */
        content->p = p;
        content->n = (size_t)(end - p);
        *pos = end;
        return 2;
    }
    if (!q)
        return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                          "%s: line %u: <%.*s> has no %s (truncated or damaged)", c->name,
                          line_of(c, open), (int)tag->n, tag->p, closetag);
    content->p = p;
    content->n = (size_t)(q - p);
    *pos = q + strlen(closetag);
    return 1;
}

/* ---- values -------------------------------------------------------------------------- */

enum ftype { F_DBL, F_U32, F_I32, F_TEXT, F_SPAN };

/* One child a section may hold: where its value goes. */
struct field {
    const char *tag;
    enum ftype type;
    void *dst; /* double, uint32_t, int32_t, char[OZ_WU_SAH_TEXT_MAX + 1], struct span */
    bool required;
};

static int bad_value(const struct ctx *c, struct span v, const char *tag, const char *what)
{
    return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen, "%s: line %u: <%s> \"%.*s\" is not %s",
                      c->name, line_of(c, v.p), tag, (int)(v.n > 40 ? 40 : v.n), v.p, what);
}

/* The trimmed content as a NUL-terminated number text. */
static int number_text(const struct ctx *c, struct span v, const char *tag, char *buf)
{
    v = trim(v);
    if (v.n == 0 || v.n > NUMBER_MAX || memchr(v.p, '<', v.n))
        return bad_value(c, v, tag, "a number");
    memcpy(buf, v.p, v.n);
    buf[v.n] = '\0';
    return OZ_WU_OK;
}

static int get_double(const struct ctx *c, struct span v, const char *tag, double *out)
{
    char buf[NUMBER_MAX + 1], *e;
    int rc = number_text(c, trim(v), tag, buf);
    if (rc != OZ_WU_OK)
        return rc;
    errno = 0;
    double d = strtod(buf, &e);
    if (*e != '\0' || e == buf || errno == ERANGE || !isfinite(d))
        return bad_value(c, trim(v), tag, "a finite number");
    *out = d;
    return OZ_WU_OK;
}

static int get_long(const struct ctx *c, struct span v, const char *tag, long long lo, long long hi,
                    long long *out)
{
    char buf[NUMBER_MAX + 1], *e;
    int rc = number_text(c, trim(v), tag, buf);
    if (rc != OZ_WU_OK)
        return rc;
    errno = 0;
    long long l = strtoll(buf, &e, 10);
    if (*e != '\0' || e == buf || errno == ERANGE || l < lo || l > hi)
        return bad_value(c, trim(v), tag, "an integer in range");
    *out = l;
    return OZ_WU_OK;
}

static int get_text(const struct ctx *c, struct span v, const char *tag, char *out)
{
    v = trim(v);
    if (v.n > OZ_WU_SAH_TEXT_MAX)
        return bad_value(c, v, tag, "a text of at most 128 characters");
    for (size_t i = 0; i < v.n; i++)
        if ((unsigned char)v.p[i] < 0x20 || (unsigned char)v.p[i] > 0x7e || v.p[i] == '<')
            return bad_value(c, v, tag, "printable text");
    memcpy(out, v.p, v.n);
    out[v.n] = '\0';
    return OZ_WU_OK;
}

/* Reads the children of `section` (content `in`, opened at `at`) into the
 * fields; unknown children are skipped, a known one twice is refused. */
static int get_fields(const struct ctx *c, struct span in, const char *section, struct field *f,
                      size_t nf)
{
    uint64_t seen = 0;
    const char *pos = in.p, *end = in.p + in.n;
    struct span tag, attrs, v;
    int got;
    while ((got = next_child(c, &pos, end, false, &tag, &attrs, &v)) == 1) {
        size_t i = 0;
        while (i < nf && !span_is(tag, f[i].tag))
            i++;
        if (i == nf)
            continue;
        if (seen & (1ull << i))
            return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen, "%s: line %u: <%s> appears twice",
                              c->name, line_of(c, tag.p), f[i].tag);
        seen |= 1ull << i;
        int rc = OZ_WU_OK;
        long long l = 0;
        switch (f[i].type) {
        case F_DBL:
            rc = get_double(c, v, f[i].tag, f[i].dst);
            break;
        case F_U32:
            if ((rc = get_long(c, v, f[i].tag, 0, UINT32_MAX, &l)) == OZ_WU_OK)
                *(uint32_t *)f[i].dst = (uint32_t)l;
            break;
        case F_I32:
            if ((rc = get_long(c, v, f[i].tag, INT32_MIN, INT32_MAX, &l)) == OZ_WU_OK)
                *(int32_t *)f[i].dst = (int32_t)l;
            break;
        case F_TEXT:
            rc = get_text(c, v, f[i].tag, f[i].dst);
            break;
        case F_SPAN:
            *(struct span *)f[i].dst = v;
            break;
        }
        if (rc != OZ_WU_OK)
            return rc;
    }
    if (got < 0)
        return got;
    for (size_t i = 0; i < nf; i++)
        if (f[i].required && !(seen & (1ull << i)))
            return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen, "%s: line %u: <%s> has no <%s>",
                              c->name, line_of(c, in.p), section, f[i].tag);
    return OZ_WU_OK;
}

/* ---- the header's sections -------------------------------------------------------------- */

static int get_coords(const struct ctx *c, struct span in, oz_wu_sah *h)
{
    const char *pos = in.p, *end = in.p + in.n;
    struct span tag, attrs, v;
    int got;
    h->ncoords = 0;
    while ((got = next_child(c, &pos, end, false, &tag, &attrs, &v)) == 1) {
        if (!span_is(tag, "coordinate_t"))
            continue;
        if (h->ncoords == OZ_WU_TRACK_MAX)
            return oz_wu_fail(OZ_WU_ELIMIT, c->why, c->whylen,
                              "%s: line %u: more than %u <coordinate_t> in <coords>", c->name,
                              line_of(c, tag.p), OZ_WU_TRACK_MAX);
        oz_wu_sah_coord *k = &h->coords[h->ncoords];
        struct field f[] = {{"time", F_DBL, &k->time_jd, true},
                            {"ra", F_DBL, &k->ra_hours, true},
                            {"dec", F_DBL, &k->dec_deg, true}};
        int rc = get_fields(c, v, "coordinate_t", f, sizeof f / sizeof f[0]);
        if (rc != OZ_WU_OK)
            return rc;
        int64_t ns;
        if (oz_wu_time_from_jd(k->time_jd, &ns) != OZ_WU_OK || !(k->ra_hours >= 0) ||
            !(k->ra_hours < 24) || !(k->dec_deg >= -90) || !(k->dec_deg <= 90))
            return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                              "%s: line %u: coordinate time %.10g, ra %g h, dec %g deg is outside "
                              "1900..2200 x [0, 24) x [-90, 90]",
                              c->name, line_of(c, tag.p), k->time_jd, k->ra_hours, k->dec_deg);
        if (h->ncoords > 0 && k->time_jd < h->coords[h->ncoords - 1].time_jd)
            return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                              "%s: line %u: coordinate times go backwards", c->name,
                              line_of(c, tag.p));
        h->ncoords++;
    }
    if (got < 0)
        return got;
    if (h->ncoords == 0)
        return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                          "%s: line %u: <coords> holds no <coordinate_t>", c->name,
                          line_of(c, in.p));
    return OZ_WU_OK;
}

static int get_chirps(const struct ctx *c, struct span in, oz_wu_sah_analysis *a)
{
    const char *pos = in.p, *end = in.p + in.n;
    struct span tag, attrs, v;
    int got;
    a->nchirps = 0;
    while ((got = next_child(c, &pos, end, false, &tag, &attrs, &v)) == 1) {
        if (!span_is(tag, "chirp_parameter_t"))
            continue;
        if (a->nchirps == OZ_WU_SAH_CHIRPS_MAX)
            return oz_wu_fail(OZ_WU_ELIMIT, c->why, c->whylen,
                              "%s: line %u: more than %u <chirp_parameter_t> in <chirps>", c->name,
                              line_of(c, tag.p), OZ_WU_SAH_CHIRPS_MAX);
        oz_wu_sah_chirp *k = &a->chirps[a->nchirps];
        struct field f[] = {{"chirp_limit", F_DBL, &k->chirp_limit, true},
                            {"fft_len_flags", F_U32, &k->fft_len_flags, true}};
        int rc = get_fields(c, v, "chirp_parameter_t", f, sizeof f / sizeof f[0]);
        if (rc != OZ_WU_OK)
            return rc;
        if (!(k->chirp_limit >= 0))
            return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                              "%s: line %u: chirp_limit %g is negative", c->name, line_of(c, tag.p),
                              k->chirp_limit);
        a->nchirps++;
    }
    if (got < 0)
        return got;
    if (a->nchirps == 0)
        return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                          "%s: line %u: <chirps> holds no <chirp_parameter_t>", c->name,
                          line_of(c, in.p));
    return OZ_WU_OK;
}

static int get_analysis(const struct ctx *c, struct span in, oz_wu_sah_analysis *a)
{
    struct span chirps = {0};
    struct field f[] = {
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
    int rc = get_fields(c, in, "analysis_cfg", f, sizeof f / sizeof f[0]);
    if (rc != OZ_WU_OK)
        return rc;
    if (a->analysis_fft_lengths == 0 || a->max_signals == 0)
        return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                          "%s: line %u: <analysis_cfg>: analysis_fft_lengths and max_signals must "
                          "not be 0",
                          c->name, line_of(c, in.p));
    return get_chirps(c, chirps, a);
}

static int get_group(const struct ctx *c, struct span in, oz_wu_sah *h)
{
    struct span data_desc = {0}, receiver = {0}, recorder = {0}, splitter = {0}, analysis = {0};
    struct field g[] = {{"data_desc", F_SPAN, &data_desc, true},
                        {"receiver_cfg", F_SPAN, &receiver, true},
                        {"recorder_cfg", F_SPAN, &recorder, false},
                        {"splitter_cfg", F_SPAN, &splitter, true},
                        {"analysis_cfg", F_SPAN, &analysis, true}};
    int rc = get_fields(c, in, "group_info", g, sizeof g / sizeof g[0]);
    if (rc != OZ_WU_OK)
        return rc;

    struct span coords = {0};
    struct field d[] = {{"start_ra", F_DBL, &h->start_ra, false},
                        {"start_dec", F_DBL, &h->start_dec, false},
                        {"end_ra", F_DBL, &h->end_ra, false},
                        {"end_dec", F_DBL, &h->end_dec, false},
                        {"true_angle_range", F_DBL, &h->true_angle_range, true},
                        {"time_recorded", F_TEXT, h->time_recorded, false},
                        {"time_recorded_jd", F_DBL, &h->time_recorded_jd, true},
                        {"nsamples", F_U32, &h->nsamples, true},
                        {"coords", F_SPAN, &coords, true}};
    if ((rc = get_fields(c, data_desc, "data_desc", d, sizeof d / sizeof d[0])) != OZ_WU_OK ||
        (rc = get_coords(c, coords, h)) != OZ_WU_OK)
        return rc;

    struct field r[] = {{"s4_id", F_I32, &h->s4_id, false},
                        {"name", F_TEXT, h->receiver, false},
                        {"beam_width", F_DBL, &h->beam_width, true},
                        {"center_freq", F_DBL, &h->receiver_freq, false},
                        {"latitude", F_DBL, &h->latitude, false},
                        {"longitude", F_DBL, &h->longitude, false},
                        {"elevation", F_DBL, &h->elevation, false},
                        {"diameter", F_DBL, &h->diameter, false}};
    if ((rc = get_fields(c, receiver, "receiver_cfg", r, sizeof r / sizeof r[0])) != OZ_WU_OK)
        return rc;

    if (recorder.p) {
        struct field k[] = {{"name", F_TEXT, h->recorder, false},
                            {"bits_per_sample", F_U32, &h->recorder_bits, false},
                            {"sample_rate", F_DBL, &h->recorder_sample_rate, false}};
        if ((rc = get_fields(c, recorder, "recorder_cfg", k, sizeof k / sizeof k[0])) != OZ_WU_OK)
            return rc;
    }

    char data_type[OZ_WU_SAH_TEXT_MAX + 1] = "";
    struct field s[] = {{"version", F_TEXT, h->splitter_version, false},
                        {"data_type", F_TEXT, data_type, true},
                        {"fft_len", F_U32, &h->fft_len, false},
                        {"ifft_len", F_U32, &h->ifft_len, false},
                        {"samples_per_wu", F_U32, &h->samples_per_wu, false},
                        {"wu_bits_per_sample", F_U32, &h->wu_bits_per_sample, false}};
    if ((rc = get_fields(c, splitter, "splitter_cfg", s, sizeof s / sizeof s[0])) != OZ_WU_OK)
        return rc;
    if (strcmp(data_type, "encoded") != 0)
        return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                          "%s: line %u: <data_type> \"%s\" is not \"encoded\", the only one read",
                          c->name, line_of(c, splitter.p), data_type);
    if (h->wu_bits_per_sample == 0) /* v8's default */
        h->wu_bits_per_sample = 2;
    if (h->wu_bits_per_sample != 2)
        return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                          "%s: line %u: wu_bits_per_sample %u is not supported (only 2)", c->name,
                          line_of(c, splitter.p), h->wu_bits_per_sample);
    return get_analysis(c, analysis, &h->analysis);
}

/* Checks and completes what the sections said. */
static int check_header(const struct ctx *c, struct span at, oz_wu_sah *h)
{
    unsigned line = line_of(c, at.p);
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

/* ---- the payload ------------------------------------------------------------------------ */

/* The value of attribute `key` in the attribute text (quoted or bare). */
static int get_attrs(const struct ctx *c, struct span a, uint64_t *length, bool *encoding)
{
    const char *p = a.p, *end = a.p + a.n;
    bool have_length = false;
    *encoding = false;
    for (;;) {
        while (p < end && is_space(*p))
            p++;
        if (p == end)
            break;
        const char *k = p;
        while (p < end && name_char(*p, p == k))
            p++;
        struct span key = {k, (size_t)(p - k)};
        if (key.n == 0 || p == end || *p != '=')
            return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                              "%s: line %u: <data> has a malformed attribute", c->name,
                              line_of(c, k));
        p++;
        struct span v;
        if (p < end && *p == '"') {
            v.p = ++p;
            while (p < end && *p != '"')
                p++;
            if (p == end)
                return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                                  "%s: line %u: <data>: unterminated quote", c->name,
                                  line_of(c, k));
            v.n = (size_t)(p++ - v.p);
        } else {
            v.p = p;
            while (p < end && !is_space(*p))
                p++;
            v.n = (size_t)(p - v.p);
        }
        if (span_is(key, "length") && !have_length) {
            if (v.n == 0 || v.n > 10)
                return bad_value(c, v, "data length", "a length");
            uint64_t n = 0;
            for (size_t i = 0; i < v.n; i++) {
                if (v.p[i] < '0' || v.p[i] > '9')
                    return bad_value(c, v, "data length", "a length");
                n = n * 10 + (uint64_t)(v.p[i] - '0');
            }
            *length = n;
            have_length = true;
        } else if (span_is(key, "encoding") && !*encoding) {
            if (!span_is(v, "x-setiathome"))
                return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                                  "%s: line %u: <data> encoding \"%.*s\" is not x-setiathome",
                                  c->name, line_of(c, k), (int)(v.n > 40 ? 40 : v.n), v.p);
            *encoding = true;
        } else {
            return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                              "%s: line %u: <data> has an unexpected or repeated attribute "
                              "\"%.*s\"",
                              c->name, line_of(c, k), (int)(key.n > 40 ? 40 : key.n), key.p);
        }
    }
    if (!have_length || !*encoding)
        return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                          "%s: line %u: <data> needs length= and encoding=\"x-setiathome\"",
                          c->name, line_of(c, a.p));
    return OZ_WU_OK;
}

/* Checks the payload text's characters and lines; counts its characters of
 * data (newlines excluded) into *nchar. */
static int check_text(const struct ctx *c, struct span t, size_t *nchar)
{
    const char *p = t.p, *end = t.p + t.n;
    *nchar = 0;
    if (p == end || *p != '\n')
        return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                          "%s: line %u: the <data> payload must begin with a new line", c->name,
                          line_of(c, p));
    p++;
    for (;;) {
        const char *line = p;
        while (p < end && *p != '\n') {
            unsigned char ch = (unsigned char)*p;
            if (ch < 0x20 || ch > 0x5f)
                return oz_wu_fail(
                    OZ_WU_EFORMAT, c->why, c->whylen,
                    "%s: line %u, column %u: character %s%c%s(0x%02x) is outside the "
                    "x-setiathome alphabet (0x20-0x5f)",
                    c->name, line_of(c, p), column_of(c, p), ch >= 0x20 && ch < 0x7f ? "'" : "",
                    ch >= 0x20 && ch < 0x7f ? ch : ' ', ch >= 0x20 && ch < 0x7f ? "' " : "", ch);
            p++;
        }
        size_t n = (size_t)(p - line);
        if (p == end)
            return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                              "%s: line %u: the <data> payload does not end with a new line",
                              c->name, line_of(c, line));
        p++; /* the newline */
        *nchar += n;
        if (n > LINE_CHARS)
            return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                              "%s: line %u: a payload line of %zu characters (at most %u)", c->name,
                              line_of(c, line), n, LINE_CHARS);
        if (n == LINE_CHARS)
            continue;
        /* the last line: shorter (possibly empty), whole groups of 4 */
        if (p != end)
            return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                              "%s: line %u: a short payload line (%zu characters) before the "
                              "last",
                              c->name, line_of(c, line), n);
        if (n % 4 != 0)
            return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                              "%s: line %u: a payload line of %zu characters, not whole groups of "
                              "4",
                              c->name, line_of(c, line), n);
        return OZ_WU_OK;
    }
}

/* Decodes the checked payload text into nbytes bytes (the last group's
 * padding dropped). */
static void decode_text(struct span t, unsigned char *out, size_t nbytes)
{
    size_t o = 0;
    unsigned v[4];
    unsigned k = 0;
    for (size_t i = 0; i < t.n && o < nbytes; i++) {
        if (t.p[i] == '\n')
            continue;
        v[k++] = (unsigned)((unsigned char)t.p[i] - 0x20);
        if (k < 4)
            continue;
        k = 0;
        unsigned char b[3] = {(unsigned char)(v[0] | v[1] << 6),
                              (unsigned char)(v[1] >> 2 | v[2] << 4),
                              (unsigned char)(v[2] >> 4 | v[3] << 2)};
        for (int j = 0; j < 3 && o < nbytes; j++)
            out[o++] = b[j];
    }
}

/* Bytes to conjugated ci8 samples, v8's bit order (file comment). */
static void unpack(const unsigned char *raw, size_t nbytes, int8_t *iq)
{
    size_t k = 0;
    for (size_t i = 0; i < nbytes; i++) {
        unsigned b = raw[i ^ 1];
        for (int j = 0; j < 4; j++, k++) {
            iq[2 * k] = (b & 2) ? 1 : -1;
            iq[2 * k + 1] = (b & 1) ? -1 : 1; /* conjugate: -Q */
            b >>= 2;
        }
    }
}

static int get_data(const struct ctx *c, struct span attrs, struct span text, const oz_wu_sah *h,
                    int8_t **iq)
{
    uint64_t length = 0;
    bool enc;
    int rc = get_attrs(c, attrs, &length, &enc);
    if (rc != OZ_WU_OK)
        return rc;
    size_t nchar;
    if ((rc = check_text(c, text, &nchar)) != OZ_WU_OK)
        return rc;
    unsigned line = line_of(c, attrs.p);
    if (length != text.n)
        return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                          "%s: line %u: <data length=%llu> but the payload holds %zu characters",
                          c->name, line, (unsigned long long)length, text.n);
    size_t nbytes = h->nsamples / 4;
    size_t want = (nbytes + 2) / 3 * 4;
    if (nchar != want)
        return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                          "%s: line %u: nsamples %u needs %zu encoded characters but the payload "
                          "holds %zu",
                          c->name, line, h->nsamples, want, nchar);
    if (!iq)
        return OZ_WU_OK;
    unsigned char *raw = malloc(nbytes);
    int8_t *out = malloc(2 * (size_t)h->nsamples);
    if (!raw || !out) {
        free(raw);
        free(out);
        return oz_wu_fail(OZ_WU_ENOMEM, c->why, c->whylen, "%s: out of memory", c->name);
    }
    decode_text(text, raw, nbytes);
    unpack(raw, nbytes, out);
    free(raw);
    *iq = out;
    return OZ_WU_OK;
}

/* ---- the file --------------------------------------------------------------------------- */

int oz_wu_sah_parse(const void *buf, size_t len, const char *name, oz_wu_sah *hdr, int8_t **iq,
                    char *why, size_t whylen)
{
    struct ctx c = {.base = buf, .len = len, .name = name, .why = why, .whylen = whylen};
    if (iq)
        *iq = NULL;
    if (len > OZ_WU_SAH_MAX)
        return oz_wu_fail(OZ_WU_ELIMIT, why, whylen, "%s: %zu bytes is more than the limit of %u",
                          name, len, OZ_WU_SAH_MAX);
    if (memchr(buf, '\0', len))
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "%s: line %u: a NUL byte", name,
                          line_of(&c, memchr(buf, '\0', len)));
    oz_wu_sah *h = calloc(1, sizeof *h);
    if (!h)
        return oz_wu_fail(OZ_WU_ENOMEM, why, whylen, "%s: out of memory", name);

    /* The top level: <workunit> around the rest, or the rest alone. */
    struct span tag, attrs, v, header = {0}, data = {0}, data_attrs = {0};
    const char *pos = c.base, *end = c.base + len;
    int rc, got;
    bool wrapped = false;
    bool unclosed = false;
    while ((got = next_child(&c, &pos, end, true, &tag, &attrs, &v)) >= 1) {
        unclosed = got == 2;
        if (span_is(tag, "workunit") && !wrapped && !header.p) {
            wrapped = true;
            const char *wpos = v.p, *wend = v.p + v.n;
            struct span wt, wa, wv;
            while ((got = next_child(&c, &wpos, wend, true, &wt, &wa, &wv)) == 1) {
                if (span_is(wt, "workunit_header") && !header.p)
                    header = wv;
                else if (span_is(wt, "data") && header.p && !data.p)
                    data = wv, data_attrs = wa;
                else if (!span_is(wt, "app_name") || header.p) {
                    rc = oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                                    "%s: line %u: unexpected <%.*s> in <workunit>", name,
                                    line_of(&c, wt.p), (int)wt.n, wt.p);
                    goto out;
                }
            }
            if (got < 0) {
                rc = got;
                goto out;
            }
        } else if (span_is(tag, "workunit_header") && !wrapped && !header.p) {
            header = v;
        } else if (span_is(tag, "data") && !wrapped && header.p && !data.p) {
            data = v, data_attrs = attrs;
        } else {
            rc = oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "%s: line %u: unexpected <%.*s>", name,
                            line_of(&c, tag.p), (int)tag.n, tag.p);
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

    struct span group = {0}, subband = {0};
    struct field wh[] = {{"name", F_TEXT, h->name, false},
                         {"group_info", F_SPAN, &group, true},
                         {"subband_desc", F_SPAN, &subband, true}};
    struct field sb[] = {{"number", F_I32, &h->subband_number, false},
                         {"center", F_DBL, &h->subband_center, true},
                         {"base", F_DBL, &h->subband_base, true},
                         {"sample_rate", F_DBL, &h->subband_sample_rate, true}};
    if ((rc = get_fields(&c, header, "workunit_header", wh, sizeof wh / sizeof wh[0])) !=
            OZ_WU_OK ||
        (rc = get_group(&c, group, h)) != OZ_WU_OK ||
        (rc = get_fields(&c, subband, "subband_desc", sb, sizeof sb / sizeof sb[0])) != OZ_WU_OK ||
        (rc = check_header(&c, header, h)) != OZ_WU_OK ||
        (rc = get_data(&c, data_attrs, data, h, iq)) != OZ_WU_OK)
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
    while (p < end && is_space(*p))
        p++;
    if (end - p >= 5 && memcmp(p, "<?xml", 5) == 0) {
        const char *q = find(p, end, "?>");
        if (!q)
            return false;
        for (p = q + 2; p < end && is_space(*p);)
            p++;
    }
    if (!((size_t)(end - p) >= strlen("<workunit>") && memcmp(p, "<workunit", 9) == 0))
        return false;
    return find(p, end, "<workunit_header>") != NULL;
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
