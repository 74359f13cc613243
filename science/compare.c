/*
 * compare.c - do two replicas' results of one unit agree? (DESIGN.md §2)
 *
 * The validator's question.  Floating point differs between CPUs, compilers
 * and FFTW plans, so results are never compared bitwise: two results agree
 * when every reported signal of each has a partner in the other, and the
 * per-type counts and overflow flags are equal.  Partners have the same type
 * and FFT length L and lie within the resolution of the search at L:
 *
 *   |Δfreq|  <= fs / L                          one bin
 *   |Δchirp| <= chirp_resolution * (fs / L)^2   one chirp step at L
 *   |Δtime|  <= L / fs                          one spectrum
 *   |Δpower| <= compare_power_rel * max(|pa|, |pb|)
 *
 * (SETI@home's validator meant to do the same but its parser silently
 * dropped chirp and power, so they compared zeros; these checks are real.)
 * The "best" entries are diagnostics, often below threshold and decided by
 * noise, and are not compared.  Partnering is existence in both directions,
 * not a one-to-one matching: the kernel merges near-duplicates, so with equal
 * counts the two coincide.
 *
 * Lists are at most OZ_SCI_SIGNALS_MAX long, so the quadratic search costs
 * at most a million cheap tests.
 */
#include <math.h>

#include "internal.h"

/* Slack on every tolerance so that a difference of exactly one bin is not
 * decided by the last bit of a subtraction. */
#define TOL_SLACK (1.0 + 1e-9)

static bool within(double a, double b, double tol)
{
    return fabs(a - b) <= tol * TOL_SLACK;
}

static bool partners(const oz_signal *a, const oz_signal *b, const oz_sci_config *cfg, double fs)
{
    if (a->type != b->type || a->fft_len != b->fft_len || a->fft_len == 0)
        return false;
    double bin = fs / (double)a->fft_len;
    double pmax = fmax(fabs(a->power), fabs(b->power));
    return within(a->freq_hz, b->freq_hz, bin) &&
           within(a->chirp_hz_s, b->chirp_hz_s, cfg->chirp_resolution * bin * bin) &&
           within(a->time_s, b->time_s, 1.0 / bin) &&
           within(a->power, b->power, cfg->compare_power_rel * pmax);
}

/* The signal of `in` of s's type and length nearest to s in frequency, to
 * show what came closest when s has no partner; NULL when there is none. */
static const oz_signal *nearest(const oz_signal *s, const oz_sci_result *in)
{
    const oz_signal *best = NULL;
    for (size_t i = 0; i < in->nsignals; i++) {
        const oz_signal *c = &in->signals[i];
        if (c->type == s->type && c->fft_len == s->fft_len &&
            (!best || fabs(c->freq_hz - s->freq_hz) < fabs(best->freq_hz - s->freq_hz)))
            best = c;
    }
    return best;
}

/* Checks that every signal of x has a partner in y; names the first that has
 * none (x is called xname, y yname). */
static int all_partnered(const oz_sci_result *x, const char *xname, const oz_sci_result *y,
                         const char *yname, const oz_sci_config *cfg, double fs, char *why,
                         size_t whylen)
{
    for (size_t i = 0; i < x->nsignals; i++) {
        const oz_signal *s = &x->signals[i];
        bool found = false;
        for (size_t j = 0; j < y->nsignals && !found; j++)
            found = partners(s, &y->signals[j], cfg, fs);
        if (found)
            continue;
        const oz_signal *n = nearest(s, y);
        if (!n)
            return oz_sci_fail(OZ_SCI_EDISAGREE, why, whylen,
                               "%s at %.1f Hz (L=%u, t=%.1f s) in %s has no partner in %s "
                               "(%s has no %s at L=%u)",
                               oz_sig_type_name(s->type), s->freq_hz, s->fft_len, s->time_s, xname,
                               yname, yname, oz_sig_type_name(s->type), s->fft_len);
        return oz_sci_fail(OZ_SCI_EDISAGREE, why, whylen,
                           "%s at %.1f Hz (L=%u, t=%.1f s) in %s has no partner in %s "
                           "(nearest: %.1f Hz, chirp %.4g vs %.4g Hz/s, t=%.1f s, "
                           "power %.4g vs %.4g)",
                           oz_sig_type_name(s->type), s->freq_hz, s->fft_len, s->time_s, xname,
                           yname, n->freq_hz, s->chirp_hz_s, n->chirp_hz_s, n->time_s, s->power,
                           n->power);
    }
    return OZ_SCI_OK;
}

int oz_sci_result_compare(const oz_sci_result *a, const oz_sci_result *b, const oz_sci_config *cfg,
                          double sample_rate, char *why, size_t whylen)
{
    if (!a || !b || !cfg)
        return oz_sci_fail(OZ_SCI_EINVAL, why, whylen, "compare: missing result or configuration");
    if (!isfinite(sample_rate) || !(sample_rate > 0))
        return oz_sci_fail(OZ_SCI_EINVAL, why, whylen, "compare: sample rate %g is not positive",
                           sample_rate);
    if (!isfinite(cfg->chirp_resolution) || !(cfg->chirp_resolution > 0) ||
        !isfinite(cfg->compare_power_rel) || !(cfg->compare_power_rel > 0))
        return oz_sci_fail(OZ_SCI_EINVAL, why, whylen,
                           "compare: chirp_resolution and compare_power_rel must be positive");

    if (a->overflow != b->overflow)
        return oz_sci_fail(OZ_SCI_EDISAGREE, why, whylen, "overflow: %s in A but %s in B",
                           a->overflow ? "true" : "false", b->overflow ? "true" : "false");

    int rc = all_partnered(a, "A", b, "B", cfg, sample_rate, why, whylen);
    if (rc == OZ_SCI_OK)
        rc = all_partnered(b, "B", a, "A", cfg, sample_rate, why, whylen);
    if (rc != OZ_SCI_OK)
        return rc;

    for (int t = 0; t < OZ_SIG_NTYPES; t++) {
        size_t ca = 0, cb = 0;
        for (size_t i = 0; i < a->nsignals; i++)
            ca += a->signals[i].type == (oz_sig_type)t;
        for (size_t i = 0; i < b->nsignals; i++)
            cb += b->signals[i].type == (oz_sig_type)t;
        if (ca != cb)
            return oz_sci_fail(OZ_SCI_EDISAGREE, why, whylen,
                               "counts differ: A has %zu %s signals, B has %zu", ca,
                               oz_sig_type_name((oz_sig_type)t), cb);
    }
    return OZ_SCI_OK;
}
