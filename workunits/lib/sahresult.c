/*
 * sahresult.c - SETI@home v8's result XML, written from and read into an
 * oz_sci_result.
 *
 * A v8 result file is `<result>`, a copy of the unit's <workunit_header>, the
 * reported signals in the order the client found them (<spike>, <autocorr>,
 * <gaussian>, <pulse>, <triplet>), the best of each type (<best_spike> ...),
 * <setiathome_version> and `</result>`.  Every signal element holds one child
 * element per line, in a fixed order per type (the `order_*` tables below,
 * read from v8's client output and its database schema); v8's validator
 * reads the file line by line, so the writer keeps one element per line.
 *
 * Conventions (the v8 side in brackets):
 *   time_s     <time> = start_jd + time_s / 86400 (a Julian date at the
 *              detection's centre); a double JD holds ~40 us, far under
 *              the 1 ms that matters here.
 *   freq_hz    <detection_freq> (the frequency at the detection).  <freq>
 *              is dechirped to the unit's start, freq_hz - chirp * time_s,
 *              except for autocorr, where v8 writes the subband centre.
 *   power      <peak_power>; the v8 fields travel under their own names.
 *   score      <score> of gaussians and pulses only (v8's client leaves it
 *              0 there: its ranking score is kept out of the file); other
 *              types have no score element and parse back with score 0.
 *   <ra>/<decl> interpolated linearly in the info's track (RA across 24 h
 *              wraps), clamped to its ends; 0 without a track.
 *   <q_pix>, <barycentric_freq>, <rfi_*>, <reserved>: written 0, checked
 *              as numbers and dropped when read.
 *   <pot>      Ozma keeps no power-over-time bytes: not written; skipped
 *              when read (v8's validator never reads it).
 *   numbers    the shortest of %.15g/%.16g/%.17g that reads back as the
 *              same double, so a write/parse round trip is exact except
 *              for time (through the JD) and what v8 has no field for.
 *   version    <setiathome_version>8.00: v8's validator marks a result
 *              invalid unless this is a number in 7.90..8.89, so it names
 *              the format the file follows; <ozma_kernel_version> says
 *              which program wrote it (v8's line reader ignores it).
 *
 * The parser is for files from strangers: the input is bounded (length,
 * signals, text of a number), every element must be known for where it
 * stands, fields may not repeat, required ones must be present, numbers
 * are checked with strtod's end pointer and must be finite.  It scans tags
 * by hand: the format is fixed and flat, and a generic XML library would
 * not take the checks off our hands.  Text is never assumed NUL-terminated.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Julian dates a unit may start at: 1900-01-01 to the start of 2201, the
 * years OZ_WU_TIME_MIN_NS .. OZ_WU_TIME_MAX_NS cover (with a day to spare). */
#define JD_MIN 2415020.5
#define JD_MAX 2524959.5
#define NUM_TEXT_MAX 64u /* characters of a number's text */
#define VERSION_MAX 31u  /* characters of <ozma_kernel_version> */

/* ---- the fields ---------------------------------------------------------------- */

enum field {
    F_PEAK_POWER,
    F_MEAN_POWER,
    F_TIME,
    F_RA,
    F_DECL,
    F_Q_PIX,
    F_DELAY,
    F_FREQ,
    F_DETECTION_FREQ,
    F_BARYCENTRIC_FREQ,
    F_FFT_LEN,
    F_CHIRP_RATE,
    F_RFI_CHECKED,
    F_RFI_FOUND,
    F_RESERVED,
    F_SIGMA,
    F_CHISQR,
    F_NULL_CHISQR,
    F_SCORE,
    F_MAX_POWER,
    F_PERIOD,
    F_SNR,
    F_THRESH,
    F_LEN_PROF,
    F_N
};

struct fieldinfo {
    const char *name;
    bool integer;  /* written and read as an integer */
    bool optional; /* may be absent when read (Ozma does not use it) */
};

static const struct fieldinfo fields[F_N] = {
    [F_PEAK_POWER] = {"peak_power", false, false},
    [F_MEAN_POWER] = {"mean_power", false, false},
    [F_TIME] = {"time", false, false},
    [F_RA] = {"ra", false, true},
    [F_DECL] = {"decl", false, true},
    [F_Q_PIX] = {"q_pix", true, true},
    [F_DELAY] = {"delay", false, false},
    [F_FREQ] = {"freq", false, false},
    [F_DETECTION_FREQ] = {"detection_freq", false, false},
    [F_BARYCENTRIC_FREQ] = {"barycentric_freq", false, true},
    [F_FFT_LEN] = {"fft_len", true, false},
    [F_CHIRP_RATE] = {"chirp_rate", false, false},
    [F_RFI_CHECKED] = {"rfi_checked", true, true},
    [F_RFI_FOUND] = {"rfi_found", true, true},
    [F_RESERVED] = {"reserved", true, true},
    [F_SIGMA] = {"sigma", false, false},
    [F_CHISQR] = {"chisqr", false, false},
    [F_NULL_CHISQR] = {"null_chisqr", false, false},
    [F_SCORE] = {"score", false, false},
    [F_MAX_POWER] = {"max_power", false, false},
    [F_PERIOD] = {"period", false, false},
    [F_SNR] = {"snr", false, false},
    [F_THRESH] = {"thresh", false, false},
    [F_LEN_PROF] = {"len_prof", false, false},
};

/* Each type's fields in v8's order, ended by F_N.  Autocorr puts <delay>
 * after <q_pix>; the other types append theirs after <reserved>. */
#define COMMON_HEAD F_PEAK_POWER, F_MEAN_POWER, F_TIME, F_RA, F_DECL, F_Q_PIX
#define COMMON_TAIL                                                                                \
    F_FREQ, F_DETECTION_FREQ, F_BARYCENTRIC_FREQ, F_FFT_LEN, F_CHIRP_RATE, F_RFI_CHECKED,          \
        F_RFI_FOUND, F_RESERVED
static const enum field order_spike[] = {COMMON_HEAD, COMMON_TAIL, F_N};
static const enum field order_autocorr[] = {COMMON_HEAD, F_DELAY, COMMON_TAIL, F_N};
static const enum field order_gaussian[] = {COMMON_HEAD,   COMMON_TAIL, F_SIGMA,     F_CHISQR,
                                            F_NULL_CHISQR, F_SCORE,     F_MAX_POWER, F_N};
static const enum field order_pulse[] = {COMMON_HEAD, COMMON_TAIL, F_PERIOD,   F_SNR,
                                         F_THRESH,    F_SCORE,     F_LEN_PROF, F_N};
static const enum field order_triplet[] = {COMMON_HEAD, COMMON_TAIL, F_PERIOD, F_N};

/* The v8 types, in the order v8 writes its best-of-type elements. */
struct sahtype {
    oz_sig_type type;
    bool has_pot;     /* v8 may attach <pot> */
    const char *name; /* signal element */
    const char *best; /* best-of-type element */
    const enum field *order;
};

static const struct sahtype types[] = {
    {OZ_SIG_SPIKE, false, "spike", "best_spike", order_spike},
    {OZ_SIG_AUTOCORR, false, "autocorr", "best_autocorr", order_autocorr},
    {OZ_SIG_GAUSSIAN, true, "gaussian", "best_gaussian", order_gaussian},
    {OZ_SIG_PULSE, true, "pulse", "best_pulse", order_pulse},
    {OZ_SIG_TRIPLET, false, "triplet", "best_triplet", order_triplet},
};
#define NTYPES (sizeof types / sizeof types[0])

static const struct sahtype *type_of(oz_sig_type t)
{
    for (size_t i = 0; i < NTYPES; i++)
        if (types[i].type == t)
            return &types[i];
    return NULL;
}

static bool version_ok(const char *v, size_t n)
{
    if (n == 0 || n > VERSION_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == '/' || c == '+' || c == ':'))
            return false;
    }
    return true;
}

/* The first needle (of nn > 0 bytes) in [h, h + n), or NULL: memmem is not POSIX. */
static const char *find(const char *h, size_t n, const char *needle, size_t nn)
{
    for (size_t i = 0; n >= nn && i <= n - nn; i++)
        if (h[i] == needle[0] && memcmp(h + i, needle, nn) == 0)
            return h + i;
    return NULL;
}

static bool jd_ok(double jd)
{
    return isfinite(jd) && jd >= JD_MIN && jd <= JD_MAX;
}

/* ---- writing ---------------------------------------------------------------------- */

/* A growing text buffer; `oom` sticks once an allocation fails. */
struct buf {
    char *p;
    size_t len, cap;
    bool oom;
};

static void put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct buf *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = true;
            return;
        }
        if (b->p && (size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t need = b->len + (size_t)n + 1, cap = b->cap ? b->cap : 4096;
        while (cap < need)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) {
            b->oom = true;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
}

static void put_bytes(struct buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->cap - b->len <= n) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap - b->len <= n)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) {
            b->oom = true;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* The shortest %g text that reads back as v: a JD or a frequency in GHz
 * needs 15-17 significant digits, v8's own 14 lose milliseconds. */
static void num_text(double v, char out[32])
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, 32, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            return;
    }
}

/* RA (hours) and Dec (degrees) at jd, linear in the track's segment around
 * it (v8's choice of segment), clamped to the track's ends. */
static void radec_at(const oz_wu_sah_result_info *info, double jd, double *ra, double *dec)
{
    const oz_wu_sah_coord *c = info->coords;
    size_t n = info->coords ? info->ncoords : 0;
    *ra = *dec = 0;
    if (n == 0)
        return;
    if (n == 1) {
        *ra = c[0].ra_hours;
        *dec = c[0].dec_deg;
        return;
    }
    size_t i = 0;
    while (i + 2 < n && c[i + 1].time_jd < jd)
        i++;
    double span = c[i + 1].time_jd - c[i].time_jd;
    double t = span > 0 ? (jd - c[i].time_jd) / span : 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    double dra = c[i + 1].ra_hours - c[i].ra_hours;
    if (dra > 12)
        dra -= 24;
    else if (dra < -12)
        dra += 24;
    double r = c[i].ra_hours + t * dra;
    if (r < 0)
        r += 24;
    else if (r >= 24)
        r -= 24;
    *ra = r;
    *dec = c[i].dec_deg + t * (c[i + 1].dec_deg - c[i].dec_deg);
}

static double field_value(const oz_signal *s, const oz_wu_sah_result_info *info, enum field f,
                          double ra, double dec)
{
    switch (f) {
    case F_PEAK_POWER:
        return s->power;
    case F_MEAN_POWER:
        return s->mean_power;
    case F_TIME:
        return info->start_jd + s->time_s / 86400.0;
    case F_RA:
        return ra;
    case F_DECL:
        return dec;
    case F_DELAY:
        return s->delay_s;
    case F_FREQ:
        return s->type == OZ_SIG_AUTOCORR ? info->subband_hz
                                          : s->freq_hz - s->chirp_hz_s * s->time_s;
    case F_DETECTION_FREQ:
        return s->freq_hz;
    case F_FFT_LEN:
        return (double)s->fft_len;
    case F_CHIRP_RATE:
        return s->chirp_hz_s;
    case F_SIGMA:
        return s->sigma_s;
    case F_CHISQR:
        return s->chisq;
    case F_NULL_CHISQR:
        return s->null_chisq;
    case F_SCORE:
        return s->score;
    case F_MAX_POWER:
        return s->max_power;
    case F_PERIOD:
        return s->period_s;
    case F_SNR:
        return s->snr;
    case F_THRESH:
        return s->thresh;
    case F_LEN_PROF:
        return s->len_prof;
    case F_Q_PIX:
    case F_BARYCENTRIC_FREQ:
    case F_RFI_CHECKED:
    case F_RFI_FOUND:
    case F_RESERVED:
    case F_N:
        break;
    }
    return 0;
}

static int write_signal(struct buf *b, const oz_signal *s, const char *elem, const char *label,
                        const oz_wu_sah_result_info *info, char *why, size_t whylen)
{
    const struct sahtype *st = type_of(s->type);
    if (s->fft_len == 0)
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "%s: fft_len is 0", label);
    if (!isfinite(s->time_s) || !isfinite(s->freq_hz) || !isfinite(s->chirp_hz_s))
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "%s: time, frequency or chirp is not finite",
                          label);
    double ra, dec;
    radec_at(info, info->start_jd + s->time_s / 86400.0, &ra, &dec);
    put(b, "<%s>\n", elem);
    for (const enum field *o = st->order; *o != F_N; o++) {
        double v = field_value(s, info, *o, ra, dec);
        if (!isfinite(v))
            return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "%s: <%s> would not be finite", label,
                              fields[*o].name);
        char text[32];
        if (fields[*o].integer)
            snprintf(text, sizeof text, "%.0f", v);
        else
            num_text(v, text);
        put(b, "  <%s>%s</%s>\n", fields[*o].name, text, fields[*o].name);
    }
    put(b, "</%s>\n", elem);
    return OZ_WU_OK;
}

static int check_info(const oz_wu_sah_result_info *info, char *why, size_t whylen)
{
    if (!jd_ok(info->start_jd))
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen,
                          "start_jd %.17g is not a Julian date in 1900..2200", info->start_jd);
    if (!isfinite(info->subband_hz) || fabs(info->subband_hz) > OZ_WU_FREQ_MAX)
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "subband_hz is not a frequency");
    if (info->coords && info->ncoords > OZ_WU_SAH_COORDS_MAX)
        return oz_wu_fail(OZ_WU_ELIMIT, why, whylen, "%zu coordinates, more than %u", info->ncoords,
                          OZ_WU_SAH_COORDS_MAX);
    for (size_t i = 0; info->coords && i < info->ncoords; i++) {
        const oz_wu_sah_coord *c = &info->coords[i];
        if (!jd_ok(c->time_jd) || !(c->ra_hours >= 0 && c->ra_hours <= 24) ||
            !(c->dec_deg >= -90 && c->dec_deg <= 90))
            return oz_wu_fail(OZ_WU_EINVAL, why, whylen,
                              "coords[%zu]: jd, RA (0..24 h) or Dec (-90..90 deg) out of range", i);
        if (i > 0 && c->time_jd < info->coords[i - 1].time_jd)
            return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "coords[%zu]: jd goes backwards", i);
    }
    if (info->workunit_header) {
        static const char open[] = "<workunit_header>", close[] = "</workunit_header>";
        const char *h = info->workunit_header;
        size_t n = info->workunit_header_len;
        while (n > 0 && (h[n - 1] == '\n' || h[n - 1] == ' ' || h[n - 1] == '\r'))
            n--;
        const char *first = n >= sizeof close ? find(h, n, close, sizeof close - 1) : NULL;
        if (n < sizeof open + sizeof close - 2 || memcmp(h, open, sizeof open - 1) != 0 ||
            first != h + n - (sizeof close - 1) || memchr(h, '\0', n))
            return oz_wu_fail(OZ_WU_EINVAL, why, whylen,
                              "workunit_header is not one <workunit_header> element");
    }
    return OZ_WU_OK;
}

int oz_wu_sah_result_write(const oz_sci_result *r, const oz_wu_sah_result_info *info, char **out,
                           size_t *len, char *why, size_t whylen)
{
    struct buf b = {0};
    int err = OZ_WU_OK, skipped = 0;
    if (out)
        *out = NULL;
    if (len)
        *len = 0;
    if (!r || !info || !out || !len || (r->nsignals && !r->signals))
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "sah result: missing argument");
    if (r->nsignals > OZ_SCI_SIGNALS_MAX)
        return oz_wu_fail(OZ_WU_ELIMIT, why, whylen, "%zu signals, more than %u", r->nsignals,
                          OZ_SCI_SIGNALS_MAX);
    if ((err = check_info(info, why, whylen)) != OZ_WU_OK)
        return err;
    size_t vlen = strnlen(r->kernel_version, sizeof r->kernel_version);
    if (vlen > 0 && !version_ok(r->kernel_version, vlen))
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "kernel_version has characters not allowed");

    put(&b, "<result>\n");
    if (info->workunit_header) {
        put_bytes(&b, info->workunit_header, info->workunit_header_len);
        if (info->workunit_header_len &&
            info->workunit_header[info->workunit_header_len - 1] != '\n')
            put(&b, "\n");
    }
    for (size_t i = 0; i < r->nsignals; i++) {
        const oz_signal *s = &r->signals[i];
        const struct sahtype *st = type_of(s->type);
        char label[40];
        snprintf(label, sizeof label, "signals[%zu]", i);
        if (s->type == OZ_SIG_LINE) {
            skipped++;
            continue;
        }
        if (!st) {
            err = oz_wu_fail(OZ_WU_EINVAL, why, whylen, "%s: unknown type %d", label, (int)s->type);
            goto fail;
        }
        if ((err = write_signal(&b, s, st->name, label, info, why, whylen)) != OZ_WU_OK)
            goto fail;
    }
    for (size_t k = 0; k < NTYPES; k++) {
        const struct sahtype *st = &types[k];
        if (!r->has_best[st->type])
            continue;
        char label[40];
        snprintf(label, sizeof label, "best.%s", st->name);
        if ((err = write_signal(&b, &r->best[st->type], st->best, label, info, why, whylen)) !=
            OZ_WU_OK)
            goto fail;
    }
    if (r->has_best[OZ_SIG_LINE])
        skipped++;
    if (skipped)
        put(&b, "<!-- %d line signal%s left out: SETI@home v8 has no such type -->\n", skipped,
            skipped == 1 ? "" : "s");
    if (vlen)
        put(&b, "<ozma_kernel_version>%.*s</ozma_kernel_version>\n", (int)vlen, r->kernel_version);
    put(&b, "<setiathome_version>" OZ_WU_SAH_VERSION "</setiathome_version>\n</result>\n");
    if (b.oom) {
        err = oz_wu_fail(OZ_WU_ENOMEM, why, whylen, "sah result: out of memory");
        goto fail;
    }
    *out = b.p;
    *len = b.len;
    return skipped;
fail:
    free(b.p);
    return err;
}

/* ---- reading ---------------------------------------------------------------------- */

struct scan {
    const char *base, *p, *end;
    char *why;
    size_t whylen;
};

static unsigned line_at(const struct scan *s, const char *at)
{
    unsigned n = 1;
    for (const char *q = s->base; q < at; q++)
        n += *q == '\n';
    return n;
}

static int bad(const struct scan *s, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int bad(const struct scan *s, const char *at, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return oz_wu_fail(OZ_WU_EFORMAT, s->why, s->whylen, "sah result, line %u: %s", line_at(s, at),
                      msg);
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_name(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static bool at_lit(const struct scan *s, const char *lit)
{
    size_t n = strlen(lit);
    return (size_t)(s->end - s->p) >= n && memcmp(s->p, lit, n) == 0;
}

/* Skips white space and, where allowed, comments. */
static int skip_blank(struct scan *s, bool comments)
{
    for (;;) {
        while (s->p < s->end && is_space(*s->p))
            s->p++;
        if (!comments || !at_lit(s, "<!--"))
            return OZ_WU_OK;
        const char *c = find(s->p + 4, (size_t)(s->end - s->p - 4), "-->", 3);
        if (!c)
            return bad(s, s->p, "comment never ends");
        s->p = c + 3;
    }
}

/* Reads "<name>" (or "<name attrs>" when attrs is allowed) at s->p, after
 * the caller has seen '<' is not "</".  The name is [name, name + *n). */
static int open_tag(struct scan *s, bool attrs_ok, const char **name, size_t *n, bool *attrs)
{
    const char *at = s->p;
    *name = s->p;
    *n = 0;
    *attrs = false;
    if (s->p >= s->end || *s->p != '<')
        return bad(s, at, s->p >= s->end ? "the text ends early" : "expected an element");
    s->p++;
    *name = s->p;
    while (s->p < s->end && is_name(*s->p))
        s->p++;
    *n = (size_t)(s->p - *name);
    if (*n == 0)
        return bad(s, at, "expected an element name");
    if (*n > 40)
        return bad(s, at, "element name longer than 40 characters");
    *attrs = false;
    if (s->p < s->end && *s->p == ' ') {
        if (!attrs_ok)
            return bad(s, at, "<%.*s> takes no attributes", (int)*n, *name);
        while (s->p < s->end && *s->p != '>' && *s->p != '<')
            s->p++;
        *attrs = true;
    }
    if (s->p >= s->end || *s->p != '>')
        return bad(s, at, "<%.*s is not closed by '>'", (int)*n, *name);
    s->p++;
    return OZ_WU_OK;
}

/* Expects "</name>" at s->p. */
static int close_tag(struct scan *s, const char *name, size_t n)
{
    if ((size_t)(s->end - s->p) < n + 3 || s->p[0] != '<' || s->p[1] != '/' ||
        memcmp(s->p + 2, name, n) != 0 || s->p[2 + n] != '>')
        return bad(s, s->p, "expected </%.*s>", (int)n, name);
    s->p += n + 3;
    return OZ_WU_OK;
}

/* The text of a simple element up to its closing tag, trimmed. */
static int elem_text(struct scan *s, const char *name, size_t n, const char **t, size_t *tn)
{
    const char *a = s->p;
    while (s->p < s->end && *s->p != '<')
        s->p++;
    const char *b = s->p;
    while (a < b && is_space(*a))
        a++;
    while (b > a && is_space(b[-1]))
        b--;
    *t = a;
    *tn = (size_t)(b - a);
    return close_tag(s, name, n);
}

/* Up to 24 characters of a stranger's text for a message, anything outside
 * printable ASCII shown as '?', so that a message stays one line. */
static const char *shown(const char *t, size_t n, char out[28])
{
    size_t k = 0;
    for (; k < n && k < 24; k++)
        out[k] = t[k] >= 0x20 && t[k] < 0x7f ? t[k] : '?';
    if (k < n)
        out[k++] = '.', out[k++] = '.', out[k++] = '.';
    out[k] = '\0';
    return out;
}

/* A finite number from the text of <name>: only the characters a decimal
 * number has, at most NUM_TEXT_MAX of them, all consumed by strtod. */
static int number(const struct scan *s, const char *at, const char *name, size_t n, const char *t,
                  size_t tn, double *v)
{
    char text[NUM_TEXT_MAX + 1], show[28];
    if (tn == 0 || tn > NUM_TEXT_MAX)
        return bad(s, at, "<%.*s> holds %s", (int)n, name, tn ? "a text too long" : "no number");
    for (size_t i = 0; i < tn; i++) {
        char c = t[i];
        if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E'))
            return bad(s, at, "<%.*s> holds \"%s\", not a number", (int)n, name,
                       shown(t, tn, show));
    }
    memcpy(text, t, tn);
    text[tn] = '\0';
    char *endp;
    *v = strtod(text, &endp);
    if (endp != text + tn || !isfinite(*v))
        return bad(s, at, "<%.*s> holds \"%s\", not a finite number", (int)n, name,
                   shown(t, tn, show));
    return OZ_WU_OK;
}

/* Skips <pot ...>...</pot>: comma-separated byte values (or hex bytes, as
 * older clients wrote them). */
static int skip_pot(struct scan *s, const char *at)
{
    const char *e = find(s->p, (size_t)(s->end - s->p), "</pot>", 6);
    if (!e)
        return bad(s, at, "<pot> never ends");
    for (const char *q = s->p; q < e; q++) {
        char c = *q;
        if (!(is_space(c) || c == ',' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
              (c >= 'A' && c <= 'F')))
            return bad(s, q, "<pot> holds '%c', not a byte value", c >= 0x20 && c < 0x7f ? c : '?');
    }
    s->p = e + 6;
    return OZ_WU_OK;
}

/* One signal element's body, after its opening tag, through its closing
 * tag.  The JD stays in time_s until the unit's start is known. */
static int parse_signal(struct scan *s, const struct sahtype *st, const char *elem, const char *at,
                        oz_signal *sig)
{
    double v[F_N] = {0};
    bool seen[F_N] = {false}, pot = false;
    size_t elen = strlen(elem);
    int err;
    for (;;) {
        skip_blank(s, false);
        if (s->p >= s->end)
            return bad(s, at, "<%s> never ends", elem);
        if (at_lit(s, "</")) {
            if ((err = close_tag(s, elem, elen)) != OZ_WU_OK)
                return err;
            break;
        }
        const char *tag = s->p, *name;
        size_t n;
        bool attrs;
        if ((err = open_tag(s, true, &name, &n, &attrs)) != OZ_WU_OK)
            return err;
        if (st->has_pot && n == 3 && memcmp(name, "pot", 3) == 0) {
            if (pot)
                return bad(s, tag, "<%s> has <pot> twice", elem);
            pot = true;
            if ((err = skip_pot(s, tag)) != OZ_WU_OK)
                return err;
            continue;
        }
        enum field f = F_N;
        for (const enum field *o = st->order; *o != F_N; o++)
            if (strlen(fields[*o].name) == n && memcmp(fields[*o].name, name, n) == 0)
                f = *o;
        if (f == F_N)
            return bad(s, tag, "<%s> has unknown element <%.*s>", elem, (int)n, name);
        if (attrs)
            return bad(s, tag, "<%.*s> takes no attributes", (int)n, name);
        if (seen[f])
            return bad(s, tag, "<%s> has <%.*s> twice", elem, (int)n, name);
        const char *t;
        size_t tn;
        if ((err = elem_text(s, name, n, &t, &tn)) != OZ_WU_OK ||
            (err = number(s, tag, name, n, t, tn, &v[f])) != OZ_WU_OK)
            return err;
        if (fields[f].integer && (v[f] != floor(v[f]) || fabs(v[f]) > 9007199254740992.0))
            return bad(s, tag, "<%.*s> is not an integer", (int)n, name);
        seen[f] = true;
    }
    for (const enum field *o = st->order; *o != F_N; o++)
        if (!seen[*o] && !fields[*o].optional)
            return bad(s, at, "<%s> lacks <%s>", elem, fields[*o].name);
    double L = v[F_FFT_LEN];
    if (L < OZ_SCI_FFT_MIN || L > OZ_SCI_FFT_MAX || ((uint32_t)L & ((uint32_t)L - 1)) != 0)
        return bad(s, at, "<%s>: fft_len %.0f is not a power of two in %u..%u", elem, L,
                   OZ_SCI_FFT_MIN, OZ_SCI_FFT_MAX);
    if (!jd_ok(v[F_TIME]))
        return bad(s, at, "<%s>: <time> %.17g is not a Julian date in 1900..2200", elem, v[F_TIME]);
    memset(sig, 0, sizeof *sig);
    sig->type = st->type;
    sig->fft_len = (uint32_t)L;
    sig->freq_hz = v[F_DETECTION_FREQ];
    sig->chirp_hz_s = v[F_CHIRP_RATE];
    sig->time_s = v[F_TIME];
    sig->power = v[F_PEAK_POWER];
    sig->mean_power = v[F_MEAN_POWER];
    sig->score = v[F_SCORE];
    sig->period_s = v[F_PERIOD];
    sig->sigma_s = v[F_SIGMA];
    sig->chisq = v[F_CHISQR];
    sig->null_chisq = v[F_NULL_CHISQR];
    sig->max_power = v[F_MAX_POWER];
    sig->delay_s = v[F_DELAY];
    sig->snr = v[F_SNR];
    sig->thresh = v[F_THRESH];
    sig->len_prof = v[F_LEN_PROF];
    return OZ_WU_OK;
}

static bool name_is(const char *name, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(name, lit, n) == 0;
}

/* <time_recorded_jd> inside the header text [h, h + n). */
static int header_jd(const struct scan *s, const char *h, size_t n, double *jd)
{
    static const char open[] = "<time_recorded_jd>";
    const char *a = find(h, n, open, sizeof open - 1);
    if (!a)
        return bad(s, h, "<workunit_header> has no <time_recorded_jd> (and no info was given)");
    struct scan sub = *s;
    sub.p = a + sizeof open - 1;
    sub.end = h + n;
    const char *t;
    size_t tn;
    int err = elem_text(&sub, "time_recorded_jd", sizeof open - 3, &t, &tn);
    if (err == OZ_WU_OK)
        err = number(&sub, a, "time_recorded_jd", sizeof open - 3, t, tn, jd);
    if (err == OZ_WU_OK && !jd_ok(*jd))
        err = bad(s, a, "<time_recorded_jd> %.17g is not a Julian date in 1900..2200", *jd);
    return err;
}

/* The top level: <result> and what it may hold. */
static int parse_result(struct scan *s, const oz_wu_sah_result_info *info, oz_sci_result *out)
{
    const char *header = NULL;
    size_t header_len = 0, cap = 0;
    bool have_version = false;
    int err;

    if ((err = skip_blank(s, true)) != OZ_WU_OK)
        return err;
    if (at_lit(s, "<?xml")) {
        const char *e = find(s->p, (size_t)(s->end - s->p), "?>", 2);
        if (!e)
            return bad(s, s->p, "the XML declaration never ends");
        s->p = e + 2;
        if ((err = skip_blank(s, true)) != OZ_WU_OK)
            return err;
    }
    if (!at_lit(s, "<result>"))
        return bad(s, s->p, "expected <result>");
    s->p += 8;
    for (;;) {
        if ((err = skip_blank(s, true)) != OZ_WU_OK)
            return err;
        if (s->p >= s->end)
            return bad(s, s->p, "the text ends before </result>");
        if (at_lit(s, "</"))
            break;
        const char *tag = s->p, *name;
        size_t n;
        bool attrs;
        if ((err = open_tag(s, false, &name, &n, &attrs)) != OZ_WU_OK)
            return err;
        if (name_is(name, n, "workunit_header")) {
            const char *e = find(s->p, (size_t)(s->end - s->p), "</workunit_header>", 18);
            if (header)
                return bad(s, tag, "a second <workunit_header>");
            if (!e)
                return bad(s, tag, "<workunit_header> never ends");
            header = s->p;
            header_len = (size_t)(e - s->p);
            s->p = e + 18;
            continue;
        }
        if (name_is(name, n, "setiathome_version") || name_is(name, n, "ozma_kernel_version")) {
            bool ours = name[0] == 'o';
            const char *t;
            size_t tn;
            double ver;
            if ((err = elem_text(s, name, n, &t, &tn)) != OZ_WU_OK)
                return err;
            if (ours) {
                if (out->kernel_version[0])
                    return bad(s, tag, "a second <ozma_kernel_version>");
                if (!version_ok(t, tn))
                    return bad(s, tag, "<ozma_kernel_version> is not a version name");
                memcpy(out->kernel_version, t, tn);
                out->kernel_version[tn] = '\0';
            } else {
                if (have_version)
                    return bad(s, tag, "a second <setiathome_version>");
                if ((err = number(s, tag, name, n, t, tn, &ver)) != OZ_WU_OK)
                    return err;
                have_version = true;
            }
            continue;
        }
        const struct sahtype *st = NULL;
        bool best = false;
        for (size_t k = 0; k < NTYPES && !st; k++) {
            if (name_is(name, n, types[k].name))
                st = &types[k];
            else if (name_is(name, n, types[k].best))
                st = &types[k], best = true;
        }
        if (!st)
            return bad(s, tag, "unknown element <%.*s> in <result>", (int)n, name);
        if (best) {
            if (out->has_best[st->type])
                return bad(s, tag, "a second <%s>", st->best);
            if ((err = parse_signal(s, st, st->best, tag, &out->best[st->type])) != OZ_WU_OK)
                return err;
            out->has_best[st->type] = true;
            continue;
        }
        if (out->nsignals == OZ_SCI_SIGNALS_MAX)
            return oz_wu_fail(OZ_WU_ELIMIT, s->why, s->whylen,
                              "sah result, line %u: more than %u signals", line_at(s, tag),
                              OZ_SCI_SIGNALS_MAX);
        if (out->nsignals == cap) {
            size_t ncap = cap ? cap * 2 : 32;
            ncap = ncap > OZ_SCI_SIGNALS_MAX ? OZ_SCI_SIGNALS_MAX : ncap;
            oz_signal *q = realloc(out->signals, ncap * sizeof *q);
            if (!q)
                return oz_wu_fail(OZ_WU_ENOMEM, s->why, s->whylen, "sah result: out of memory");
            out->signals = q;
            cap = ncap;
        }
        if ((err = parse_signal(s, st, st->name, tag, &out->signals[out->nsignals])) != OZ_WU_OK)
            return err;
        out->nsignals++;
    }
    if ((err = close_tag(s, "result", 6)) != OZ_WU_OK || (err = skip_blank(s, true)) != OZ_WU_OK)
        return err;
    if (s->p != s->end)
        return bad(s, s->p, "text after </result>");
    if (!have_version)
        return bad(s, s->p, "<result> lacks <setiathome_version>");

    bool any = out->nsignals > 0;
    for (size_t t = 0; t < OZ_SIG_NTYPES; t++)
        any = any || out->has_best[t];
    double jd0 = 0;
    if (info)
        jd0 = info->start_jd;
    else if (!any)
        return OZ_WU_OK;
    else if (!header)
        return bad(s, s->base, "no <workunit_header> to take the unit's start from");
    else if ((err = header_jd(s, header, header_len, &jd0)) != OZ_WU_OK)
        return err;
    for (size_t i = 0; i < out->nsignals; i++)
        out->signals[i].time_s = (out->signals[i].time_s - jd0) * 86400.0;
    for (size_t t = 0; t < OZ_SIG_NTYPES; t++)
        if (out->has_best[t])
            out->best[t].time_s = (out->best[t].time_s - jd0) * 86400.0;
    return OZ_WU_OK;
}

int oz_wu_sah_result_parse(const char *xml, size_t len, const oz_wu_sah_result_info *info,
                           oz_sci_result *out, char *why, size_t whylen)
{
    if (!out)
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "sah result: missing argument");
    memset(out, 0, sizeof *out);
    if (!xml && len)
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "sah result: missing argument");
    if (len > OZ_WU_RESULT_MAX)
        return oz_wu_fail(OZ_WU_ELIMIT, why, whylen, "sah result: %zu bytes, more than %u", len,
                          OZ_WU_RESULT_MAX);
    if (info && !jd_ok(info->start_jd))
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen,
                          "start_jd %.17g is not a Julian date in 1900..2200", info->start_jd);
    struct scan s = {xml ? xml : "", xml ? xml : "", (xml ? xml : "") + len, why, whylen};
    int err = parse_result(&s, info, out);
    if (err != OZ_WU_OK) {
        oz_sci_result_clear(out);
        return err;
    }
    if (out->nsignals == 0) {
        free(out->signals);
        out->signals = NULL;
    }
    return OZ_WU_OK;
}
