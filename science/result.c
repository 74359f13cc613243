/*
 * result.c - search results as JSON, both ways (DESIGN.md §4).
 *
 * A result is the contract between a volunteer's worker and the scheduler:
 *
 *   {"signals": [{"type", "freq_hz", "chirp_hz_s", "time_s", "fft_len",
 *                 "power", "score", ...type-specific...}],
 *    "best": {TYPE: signal, ...},          types with a best signal only
 *    "counts": {"spike": n, ...},          all four types, = entries of signals
 *    "overflow": bool, "flops": integer, "cpu_s", "fft_s",
 *    "kernel_version": string}
 *
 * Type-specific signal keys: "period_s" for pulses and triplets, "sigma_s"
 * and "chisq" for Gaussians; no other type carries them.
 *
 * The writer is trivial; the reader is the part that matters.  It runs on
 * uploads from strangers, so it accepts exactly what the writer produces and
 * nothing else: unknown keys and types, missing keys, wrong JSON types,
 * values outside physical ranges, counts that contradict the list and more
 * than OZ_SCI_SIGNALS_MAX signals are all refused with a sentence naming the
 * place ("signals[3].fft_len: 1000 is not a power of two").  Nothing is
 * allocated before the signal count is known to be bounded, and on failure
 * the caller's struct is left zeroed.
 *
 * Both directions are driven by one constant table of signal keys, so they
 * cannot drift apart.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Physical bounds on a signal's fields (no radio telescope observes above a
 * terahertz, no unit lasts four months). */
#define FREQ_ABS_MAX 1e12
#define TIME_MAX 1e7

#define ALL_TYPES ((1u << OZ_SIG_NTYPES) - 1u)
#define TYPE_BIT(t) (1u << (t))

/* The double-valued keys of a signal: which types carry each, and its range. */
static const struct sigfield {
    const char *key;
    size_t off;
    unsigned types; /* TYPE_BIT mask of the types that carry this key */
    double lo, hi;
    bool optional; /* written when not 0, read as 0 when absent (the v8 fields) */
} sigfields[] = {
    {"freq_hz", offsetof(oz_signal, freq_hz), ALL_TYPES, -FREQ_ABS_MAX, FREQ_ABS_MAX, false},
    {"chirp_hz_s", offsetof(oz_signal, chirp_hz_s), ALL_TYPES, -OZ_SCI_CHIRP_MAX, OZ_SCI_CHIRP_MAX,
     false},
    {"time_s", offsetof(oz_signal, time_s), ALL_TYPES, 0.0, TIME_MAX, false},
    {"power", offsetof(oz_signal, power), ALL_TYPES, 0.0, HUGE_VAL, false},
    {"score", offsetof(oz_signal, score), ALL_TYPES, 0.0, HUGE_VAL, false},
    {"period_s", offsetof(oz_signal, period_s), TYPE_BIT(OZ_SIG_PULSE) | TYPE_BIT(OZ_SIG_TRIPLET),
     0.0, HUGE_VAL, false},
    {"sigma_s", offsetof(oz_signal, sigma_s), TYPE_BIT(OZ_SIG_GAUSSIAN), 0.0, HUGE_VAL, false},
    {"chisq", offsetof(oz_signal, chisq), TYPE_BIT(OZ_SIG_GAUSSIAN), 0.0, HUGE_VAL, false},
    {"start_s", offsetof(oz_signal, start_s), TYPE_BIT(OZ_SIG_LINE), 0.0, TIME_MAX, false},
    {"end_s", offsetof(oz_signal, end_s), TYPE_BIT(OZ_SIG_LINE), 0.0, TIME_MAX, false},
    {"mean_power", offsetof(oz_signal, mean_power), ALL_TYPES, 0.0, HUGE_VAL, true},
    {"delay_s", offsetof(oz_signal, delay_s), TYPE_BIT(OZ_SIG_AUTOCORR), 0.0, TIME_MAX, true},
    {"null_chisq", offsetof(oz_signal, null_chisq), TYPE_BIT(OZ_SIG_GAUSSIAN), 0.0, HUGE_VAL, true},
    {"max_power", offsetof(oz_signal, max_power), TYPE_BIT(OZ_SIG_GAUSSIAN), 0.0, HUGE_VAL, true},
    {"snr", offsetof(oz_signal, snr), TYPE_BIT(OZ_SIG_PULSE), 0.0, HUGE_VAL, true},
    {"thresh", offsetof(oz_signal, thresh), TYPE_BIT(OZ_SIG_PULSE), 0.0, HUGE_VAL, true},
    {"len_prof", offsetof(oz_signal, len_prof), TYPE_BIT(OZ_SIG_PULSE), 0.0, 1e9, true},
};
#define NSIGFIELDS (sizeof sigfields / sizeof sigfields[0])

static double sig_get(const oz_signal *s, const struct sigfield *f)
{
    double v;
    memcpy(&v, (const char *)s + f->off, sizeof v);
    return v;
}

static void sig_set(oz_signal *s, const struct sigfield *f, double v)
{
    memcpy((char *)s + f->off, &v, sizeof v);
}

void oz_sci_result_clear(oz_sci_result *r)
{
    if (!r)
        return;
    free(r->signals);
    memset(r, 0, sizeof *r);
}

/* ---- writing --------------------------------------------------------------- */

static json_t *signal_to_json(const oz_signal *s)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    if (json_object_set_new(o, "type", json_string(oz_sig_type_name(s->type))) ||
        json_object_set_new(o, "fft_len", json_integer((json_int_t)s->fft_len)))
        goto fail;
    for (size_t i = 0; i < NSIGFIELDS; i++) {
        const struct sigfield *f = &sigfields[i];
        if ((unsigned)s->type < OZ_SIG_NTYPES && (f->types & TYPE_BIT(s->type)) &&
            !(f->optional && sig_get(s, f) == 0.0) &&
            json_object_set_new(o, f->key, json_real(sig_get(s, f))))
            goto fail;
    }
    return o;
fail:
    json_decref(o);
    return NULL;
}

json_t *oz_sci_result_to_json(const oz_sci_result *r)
{
    json_t *root = json_object();
    json_t *sigs = json_array();
    json_t *best = json_object();
    json_t *counts = json_object();
    size_t count[OZ_SIG_NTYPES] = {0};

    if (!root || !sigs || !best || !counts)
        goto fail;
    for (size_t i = 0; i < r->nsignals; i++) {
        if ((unsigned)r->signals[i].type < OZ_SIG_NTYPES)
            count[r->signals[i].type]++;
        if (json_array_append_new(sigs, signal_to_json(&r->signals[i])))
            goto fail;
    }
    for (int t = 0; t < OZ_SIG_NTYPES; t++) {
        const char *name = oz_sig_type_name((oz_sig_type)t);
        if (r->has_best[t] && json_object_set_new(best, name, signal_to_json(&r->best[t])))
            goto fail;
        if (json_object_set_new(counts, name, json_integer((json_int_t)count[t])))
            goto fail;
    }
    /* JSON integers are signed 64-bit; 2^63 FLOP is some 10^5 times the
     * largest unit this kernel accepts, so clamping never happens in practice. */
    json_int_t flops =
        r->flops > (uint64_t)INT64_MAX ? (json_int_t)INT64_MAX : (json_int_t)r->flops;
    int rc = json_object_set_new(root, "signals", sigs);
    rc |= json_object_set_new(root, "best", best);
    rc |= json_object_set_new(root, "counts", counts);
    sigs = best = counts = NULL; /* json_object_set_new took them, even on failure */
    if (rc || json_object_set_new(root, "overflow", json_boolean(r->overflow)) ||
        json_object_set_new(root, "flops", json_integer(flops)) ||
        json_object_set_new(root, "cpu_s", json_real(r->cpu_s)) ||
        json_object_set_new(root, "fft_s", json_real(r->fft_s)) ||
        json_object_set_new(
            root, "kernel_version",
            json_stringn(r->kernel_version, strnlen(r->kernel_version, sizeof r->kernel_version))))
        goto fail;
    return root;
fail:
    json_decref(sigs);
    json_decref(best);
    json_decref(counts);
    json_decref(root);
    return NULL;
}

/* ---- reading --------------------------------------------------------------- */

static int check_number(const json_t *v, const char *where, const char *key, double lo, double hi,
                        double *out, char *why, size_t whylen)
{
    json_error_t err;
    double d = 0;
    /* json_unpack_ex takes a non-const value; it only reads it. */
    if (json_unpack_ex((json_t *)v, &err, 0, "F", &d) != 0)
        return oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "%s.%s: %s", where, key, err.text);
    if (!isfinite(d))
        return oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "%s.%s: not a finite number", where, key);
    if (lo == 0.0 && d < 0.0)
        return oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "%s.%s: %g is negative", where, key, d);
    if (d < lo || d > hi)
        return oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "%s.%s: %g is outside [%g, %g]", where, key,
                           d, lo, hi);
    *out = d;
    return OZ_SCI_OK;
}

/* A JSON string of at most maxlen bytes, no NUL inside. */
static int check_string(const json_t *v, const char *where, size_t maxlen, const char **out,
                        char *why, size_t whylen)
{
    json_error_t err;
    const char *s;
    size_t len;
    if (json_unpack_ex((json_t *)v, &err, 0, "s%", &s, &len) != 0)
        return oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "%s: %s", where, err.text);
    if (len > maxlen)
        return oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "%s: %zu bytes, more than the limit of %zu",
                           where, len, maxlen);
    if (strlen(s) != len)
        return oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "%s: contains a NUL character", where);
    *out = s;
    return OZ_SCI_OK;
}

static bool is_pow2(json_int_t v)
{
    return v > 0 && (v & (v - 1)) == 0;
}

/* Parses one signal object found at `where` ("signals[3]", "best.spike"). */
static int parse_signal(const json_t *v, const char *where, oz_signal *out, char *why,
                        size_t whylen)
{
    json_error_t err;
    const char *tname = NULL;
    oz_sig_type type;
    json_int_t L = 0;
    int rc;

    memset(out, 0, sizeof *out);
    if (!json_is_object(v))
        return oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "%s: expected an object", where);

    const json_t *tv = json_object_get(v, "type");
    if (!tv)
        return oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "%s: missing key \"type\"", where);
    char tplace[64];
    snprintf(tplace, sizeof tplace, "%s.type", where);
    if ((rc = check_string(tv, tplace, 32, &tname, why, whylen)) != OZ_SCI_OK)
        return rc;
    if (oz_sig_type_parse(tname, &type) != OZ_SCI_OK)
        return oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "%s: unknown signal type \"%s\"", tplace,
                           tname);
    out->type = type;

    /* Every key must be one this type carries. */
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)v, key, value)
    {
        if (strcmp(key, "type") == 0 || strcmp(key, "fft_len") == 0)
            continue;
        const struct sigfield *f = NULL;
        for (size_t i = 0; i < NSIGFIELDS; i++)
            if (strcmp(key, sigfields[i].key) == 0)
                f = &sigfields[i];
        if (!f)
            return oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "%s: unknown key \"%.40s\"", where, key);
        if (!(f->types & TYPE_BIT(type)))
            return oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "%s: a %s signal has no \"%s\"", where,
                               tname, key);
    }

    const json_t *lv = json_object_get(v, "fft_len");
    if (!lv)
        return oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "%s: missing key \"fft_len\"", where);
    if (json_unpack_ex((json_t *)lv, &err, 0, "I", &L) != 0)
        return oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "%s.fft_len: %s", where, err.text);
    if (L < (json_int_t)OZ_SCI_FFT_MIN || L > (json_int_t)OZ_SCI_FFT_MAX)
        return oz_sci_fail(OZ_SCI_EPARSE, why, whylen,
                           "%s.fft_len: %" JSON_INTEGER_FORMAT " is outside [%u, %u]", where, L,
                           OZ_SCI_FFT_MIN, OZ_SCI_FFT_MAX);
    if (!is_pow2(L))
        return oz_sci_fail(OZ_SCI_EPARSE, why, whylen,
                           "%s.fft_len: %" JSON_INTEGER_FORMAT " is not a power of two", where, L);
    out->fft_len = (uint32_t)L;

    for (size_t i = 0; i < NSIGFIELDS; i++) {
        const struct sigfield *f = &sigfields[i];
        if (!(f->types & TYPE_BIT(type)))
            continue;
        const json_t *fv = json_object_get(v, f->key);
        double d = 0;
        if (!fv && f->optional)
            continue;
        if (!fv)
            return oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "%s: missing key \"%s\"", where, f->key);
        if ((rc = check_number(fv, where, f->key, f->lo, f->hi, &d, why, whylen)) != OZ_SCI_OK)
            return rc;
        sig_set(out, f, d);
    }
    return OZ_SCI_OK;
}

static int parse_signals(const json_t *arr, oz_sci_result *r, char *why, size_t whylen)
{
    if (!json_is_array(arr))
        return oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "signals: expected an array");
    size_t n = json_array_size(arr);
    if (n > OZ_SCI_SIGNALS_MAX)
        return oz_sci_fail(OZ_SCI_EPARSE, why, whylen,
                           "signals: %zu entries, more than the limit of %u", n,
                           OZ_SCI_SIGNALS_MAX);
    if (n == 0)
        return OZ_SCI_OK;
    r->signals = calloc(n, sizeof *r->signals);
    if (!r->signals)
        return oz_sci_fail(OZ_SCI_ENOMEM, why, whylen, "signals: out of memory");
    for (size_t i = 0; i < n; i++) {
        char where[32];
        snprintf(where, sizeof where, "signals[%zu]", i);
        int rc = parse_signal(json_array_get(arr, i), where, &r->signals[i], why, whylen);
        if (rc != OZ_SCI_OK)
            return rc;
        r->nsignals = i + 1;
    }
    return OZ_SCI_OK;
}

static int parse_best(const json_t *obj, oz_sci_result *r, char *why, size_t whylen)
{
    if (!json_is_object(obj))
        return oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "best: expected an object");
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)obj, key, value)
    {
        oz_sig_type t;
        if (oz_sig_type_parse(key, &t) != OZ_SCI_OK)
            return oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "best: unknown signal type \"%.40s\"",
                               key);
        char where[32];
        snprintf(where, sizeof where, "best.%s", oz_sig_type_name(t));
        int rc = parse_signal(value, where, &r->best[t], why, whylen);
        if (rc != OZ_SCI_OK)
            return rc;
        if (r->best[t].type != t)
            return oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "%s.type: \"%s\" is not \"%s\"", where,
                               oz_sig_type_name(r->best[t].type), key);
        r->has_best[t] = true;
    }
    return OZ_SCI_OK;
}

/* counts must name every type once, each equal to the entries of signals;
 * "autocorr", younger than the rest, may be left out when there are none. */
static int check_counts(const json_t *obj, const oz_sci_result *r, char *why, size_t whylen)
{
    if (!json_is_object(obj))
        return oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "counts: expected an object");
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)obj, key, value)
    {
        oz_sig_type t;
        if (oz_sig_type_parse(key, &t) != OZ_SCI_OK)
            return oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "counts: unknown signal type \"%.40s\"",
                               key);
    }
    for (int t = 0; t < OZ_SIG_NTYPES; t++) {
        const char *name = oz_sig_type_name((oz_sig_type)t);
        const json_t *v = json_object_get(obj, name);
        json_error_t err;
        json_int_t c = 0;
        size_t have = 0;
        for (size_t i = 0; i < r->nsignals; i++)
            have += r->signals[i].type == (oz_sig_type)t;
        if (!v && t == OZ_SIG_AUTOCORR && have == 0)
            continue;
        if (!v)
            return oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "counts: missing key \"%s\"", name);
        if (json_unpack_ex((json_t *)v, &err, 0, "I", &c) != 0)
            return oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "counts.%s: %s", name, err.text);
        if (c < 0 || (uint64_t)c != have)
            return oz_sci_fail(OZ_SCI_EPARSE, why, whylen,
                               "counts.%s: %" JSON_INTEGER_FORMAT
                               " does not match the %zu %s signals listed",
                               name, c, have, name);
    }
    return OZ_SCI_OK;
}

int oz_sci_result_from_json(const json_t *obj, oz_sci_result *out, char *why, size_t whylen)
{
    oz_sci_result r;
    json_error_t err;
    json_t *sigs = NULL, *best = NULL, *counts = NULL, *ov = NULL, *fl = NULL, *cpu = NULL,
           *fft = NULL, *kv = NULL;
    int overflow = 0;
    json_int_t flops = 0;
    const char *version = "";
    int rc;

    memset(&r, 0, sizeof r);
    if (!out)
        return oz_sci_fail(OZ_SCI_EINVAL, why, whylen, "no result given");
    memset(out, 0, sizeof *out);
    if (!obj || !json_is_object(obj)) {
        rc = oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "result: expected an object");
        goto fail;
    }
    /* Presence and no stray keys first ('!'), then each value on its own so
     * that a type error names its key.  (json_unpack_ex takes a non-const
     * value; it only reads it.) */
    if (json_unpack_ex((json_t *)obj, &err, 0, "{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o !}",
                       "signals", &sigs, "best", &best, "counts", &counts, "overflow", &ov, "flops",
                       &fl, "cpu_s", &cpu, "fft_s", &fft, "kernel_version", &kv) != 0) {
        rc = oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "result: %s", err.text);
        goto fail;
    }
    if (json_unpack_ex(ov, &err, 0, "b", &overflow) != 0) {
        rc = oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "result.overflow: %s", err.text);
        goto fail;
    }
    if (json_unpack_ex(fl, &err, 0, "I", &flops) != 0) {
        rc = oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "result.flops: %s", err.text);
        goto fail;
    }
    if (flops < 0) {
        rc = oz_sci_fail(OZ_SCI_EPARSE, why, whylen,
                         "result.flops: %" JSON_INTEGER_FORMAT " is negative", flops);
        goto fail;
    }
    r.flops = (uint64_t)flops;
    r.overflow = overflow != 0;
    if ((rc = check_number(cpu, "result", "cpu_s", 0.0, HUGE_VAL, &r.cpu_s, why, whylen)) ||
        (rc = check_number(fft, "result", "fft_s", 0.0, HUGE_VAL, &r.fft_s, why, whylen)))
        goto fail;
    if ((rc = check_string(kv, "result.kernel_version", sizeof r.kernel_version - 1, &version, why,
                           whylen)))
        goto fail;
    for (const char *c = version; *c; c++) {
        if (*c < 0x20 || *c > 0x7e) {
            rc = oz_sci_fail(OZ_SCI_EPARSE, why, whylen,
                             "result.kernel_version: contains a character outside printable ASCII");
            goto fail;
        }
    }
    memcpy(r.kernel_version, version, strlen(version) + 1);

    if ((rc = parse_signals(sigs, &r, why, whylen)) || (rc = parse_best(best, &r, why, whylen)) ||
        (rc = check_counts(counts, &r, why, whylen)))
        goto fail;

    *out = r;
    return OZ_SCI_OK;
fail:
    oz_sci_result_clear(&r);
    return rc;
}
