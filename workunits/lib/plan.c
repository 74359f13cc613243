/*
 * plan.c - the plan of a recording's units: where each starts, pure
 * arithmetic, no files.
 *
 * Regular unit i covers [i*step, i*step + unit) with step = unit - overlap,
 * for every i whose unit fits inside the recording.  Consecutive regular
 * units share `overlap` samples, so a stretch [a, a+len) with len <= overlap
 * lies whole inside the last regular unit starting at or before a: that unit
 * starts at i*step <= a and a < (i+1)*step, so a + len <= (i+1)*step - 1 +
 * overlap < i*step + unit.  When the last regular unit ends before the
 * recording does, a tail unit [N - unit, N) is added: it starts before the
 * first regular start that no longer fits, so it holds every stretch that
 * unit would have held, and no sample goes unsearched.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static bool is_pow2(uint64_t v)
{
    return v != 0 && (v & (v - 1)) == 0;
}

int oz_wu_plan_make(uint64_t nsamples, uint64_t unit_samples, double overlap_frac, oz_wu_plan *out,
                    char *why, size_t whylen)
{
    memset(out, 0, sizeof *out);
    if (!is_pow2(unit_samples) || unit_samples < OZ_WU_UNIT_SAMPLES_MIN ||
        unit_samples > OZ_WU_UNIT_SAMPLES_MAX)
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen,
                          "unit size %llu must be a power of two from %u to %u samples",
                          (unsigned long long)unit_samples, OZ_WU_UNIT_SAMPLES_MIN,
                          OZ_WU_UNIT_SAMPLES_MAX);
    if (!(overlap_frac >= 0.0 && overlap_frac <= OZ_WU_OVERLAP_MAX))
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "overlap %g must be a fraction in [0, %g]",
                          overlap_frac, OZ_WU_OVERLAP_MAX);
    if (nsamples < unit_samples)
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen,
                          "the recording has %llu samples, fewer than one unit of %llu: use "
                          "smaller units",
                          (unsigned long long)nsamples, (unsigned long long)unit_samples);
    uint64_t overlap = (uint64_t)llround(overlap_frac * (double)unit_samples);
    out->nsamples = nsamples;
    out->unit = unit_samples;
    out->overlap = overlap;
    out->step = unit_samples - overlap;
    out->nregular = (nsamples - unit_samples) / out->step + 1;
    uint64_t end = (out->nregular - 1) * out->step + unit_samples;
    out->nunits = out->nregular + (end < nsamples);
    return OZ_WU_OK;
}

int oz_wu_plan_whole(uint64_t nsamples, oz_wu_plan *out, char *why, size_t whylen)
{
    memset(out, 0, sizeof *out);
    if (nsamples == 0 || nsamples > OZ_WU_UNIT_SAMPLES_MAX)
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "a unit of %llu samples is outside 1..%u",
                          (unsigned long long)nsamples, OZ_WU_UNIT_SAMPLES_MAX);
    out->nsamples = nsamples;
    out->unit = nsamples;
    out->step = nsamples;
    out->nregular = 1;
    out->nunits = 1;
    return OZ_WU_OK;
}

uint64_t oz_wu_plan_start(const oz_wu_plan *p, uint64_t i)
{
    if (i < p->nregular)
        return i * p->step;
    return p->nsamples - p->unit;
}

int oz_wu_parse_unit_samples(const char *s, uint64_t *out, char *why, size_t whylen)
{
    if (!s || !*s)
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "no unit size given");
    char *end;
    uint64_t v;
    errno = 0;
    if (s[0] == '2' && s[1] == '^') {
        unsigned long k = strtoul(s + 2, &end, 10);
        if (errno || end == s + 2 || *end || k > 40)
            goto bad;
        v = (uint64_t)1 << k;
    } else {
        if (s[0] < '0' || s[0] > '9')
            goto bad;
        unsigned long long x = strtoull(s, &end, 10);
        if (errno || *end)
            goto bad;
        v = x;
    }
    if (!is_pow2(v) || v < OZ_WU_UNIT_SAMPLES_MIN || v > OZ_WU_UNIT_SAMPLES_MAX)
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen,
                          "--unit-samples %s must be a power of two from %u (2^8) to %u (2^26)", s,
                          OZ_WU_UNIT_SAMPLES_MIN, OZ_WU_UNIT_SAMPLES_MAX);
    *out = v;
    return OZ_WU_OK;
bad:
    return oz_wu_fail(OZ_WU_EINVAL, why, whylen,
                      "--unit-samples \"%.30s\" is not a number like 1048576 or 2^20", s);
}
