/*
 * sahresult.c - SETI@home v8's result XML: its fields, and writing an
 * oz_sci_result as one (sahresult_read.c reads one back).
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
 * The parser (sahresult_read.c) is for files from strangers: the input is bounded (length,
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

#include "sahresult.h"

/* ---- the fields ---------------------------------------------------------------- */

const struct fieldinfo oz_sahres_fields[F_N] = {
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

const struct sahtype oz_sahres_types[OZ_SAHRES_NTYPES] = {
    {OZ_SIG_SPIKE, false, "spike", "best_spike", order_spike},
    {OZ_SIG_AUTOCORR, false, "autocorr", "best_autocorr", order_autocorr},
    {OZ_SIG_GAUSSIAN, true, "gaussian", "best_gaussian", order_gaussian},
    {OZ_SIG_PULSE, true, "pulse", "best_pulse", order_pulse},
    {OZ_SIG_TRIPLET, false, "triplet", "best_triplet", order_triplet},
};

const struct sahtype *oz_sahres_type_of(oz_sig_type t)
{
    for (size_t i = 0; i < OZ_SAHRES_NTYPES; i++)
        if (oz_sahres_types[i].type == t)
            return &oz_sahres_types[i];
    return NULL;
}

bool oz_sahres_version_ok(const char *v, size_t n)
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

const char *oz_sahres_find(const char *h, size_t n, const char *needle, size_t nn)
{
    for (size_t i = 0; n >= nn && i <= n - nn; i++)
        if (h[i] == needle[0] && memcmp(h + i, needle, nn) == 0)
            return h + i;
    return NULL;
}

bool oz_sahres_jd_ok(double jd)
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
    const struct sahtype *st = oz_sahres_type_of(s->type);
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
                              oz_sahres_fields[*o].name);
        char text[32];
        if (oz_sahres_fields[*o].integer)
            snprintf(text, sizeof text, "%.0f", v);
        else
            num_text(v, text);
        put(b, "  <%s>%s</%s>\n", oz_sahres_fields[*o].name, text, oz_sahres_fields[*o].name);
    }
    put(b, "</%s>\n", elem);
    return OZ_WU_OK;
}

static int check_info(const oz_wu_sah_result_info *info, char *why, size_t whylen)
{
    if (!oz_sahres_jd_ok(info->start_jd))
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen,
                          "start_jd %.17g is not a Julian date in 1900..2200", info->start_jd);
    if (!isfinite(info->subband_hz) || fabs(info->subband_hz) > OZ_WU_FREQ_MAX)
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "subband_hz is not a frequency");
    if (info->coords && info->ncoords > OZ_WU_SAH_COORDS_MAX)
        return oz_wu_fail(OZ_WU_ELIMIT, why, whylen, "%zu coordinates, more than %u", info->ncoords,
                          OZ_WU_SAH_COORDS_MAX);
    for (size_t i = 0; info->coords && i < info->ncoords; i++) {
        const oz_wu_sah_coord *c = &info->coords[i];
        if (!oz_sahres_jd_ok(c->time_jd) || !(c->ra_hours >= 0 && c->ra_hours <= 24) ||
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
        const char *first =
            n >= sizeof close ? oz_sahres_find(h, n, close, sizeof close - 1) : NULL;
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
    if (vlen > 0 && !oz_sahres_version_ok(r->kernel_version, vlen))
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
        const struct sahtype *st = oz_sahres_type_of(s->type);
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
    for (size_t k = 0; k < OZ_SAHRES_NTYPES; k++) {
        const struct sahtype *st = &oz_sahres_types[k];
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
