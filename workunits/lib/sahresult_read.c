/*
 * sahresult_read.c - SETI@home v8's result XML read into an oz_sci_result
 * (sahresult.c has the format, its conventions and the writer).
 *
 * The input comes from strangers: it is bounded (length, signals, text of a
 * number), every element must be known for where it stands, fields may not
 * repeat, required ones must be present, numbers are checked with strtod's
 * end pointer and must be finite.  Tags are scanned by hand: the format is
 * fixed and flat, and a generic XML library would not take the checks off
 * our hands.  Text is never assumed NUL-terminated.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sahresult.h"

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
        const char *c = oz_sahres_find(s->p + 4, (size_t)(s->end - s->p - 4), "-->", 3);
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
    const char *e = oz_sahres_find(s->p, (size_t)(s->end - s->p), "</pot>", 6);
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
            if (strlen(oz_sahres_fields[*o].name) == n &&
                memcmp(oz_sahres_fields[*o].name, name, n) == 0)
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
        if (oz_sahres_fields[f].integer && (v[f] != floor(v[f]) || fabs(v[f]) > 9007199254740992.0))
            return bad(s, tag, "<%.*s> is not an integer", (int)n, name);
        seen[f] = true;
    }
    for (const enum field *o = st->order; *o != F_N; o++)
        if (!seen[*o] && !oz_sahres_fields[*o].optional)
            return bad(s, at, "<%s> lacks <%s>", elem, oz_sahres_fields[*o].name);
    double L = v[F_FFT_LEN];
    if (L < OZ_SCI_FFT_MIN || L > OZ_SCI_FFT_MAX || ((uint32_t)L & ((uint32_t)L - 1)) != 0)
        return bad(s, at, "<%s>: fft_len %.0f is not a power of two in %u..%u", elem, L,
                   OZ_SCI_FFT_MIN, OZ_SCI_FFT_MAX);
    if (!oz_sahres_jd_ok(v[F_TIME]))
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
    const char *a = oz_sahres_find(h, n, open, sizeof open - 1);
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
    if (err == OZ_WU_OK && !oz_sahres_jd_ok(*jd))
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
        const char *e = oz_sahres_find(s->p, (size_t)(s->end - s->p), "?>", 2);
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
            const char *e = oz_sahres_find(s->p, (size_t)(s->end - s->p), "</workunit_header>", 18);
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
                if (!oz_sahres_version_ok(t, tn))
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
        for (size_t k = 0; k < OZ_SAHRES_NTYPES && !st; k++) {
            if (name_is(name, n, oz_sahres_types[k].name))
                st = &oz_sahres_types[k];
            else if (name_is(name, n, oz_sahres_types[k].best))
                st = &oz_sahres_types[k], best = true;
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
    if (info && !oz_sahres_jd_ok(info->start_jd))
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
