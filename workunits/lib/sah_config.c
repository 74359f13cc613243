/*
 * sah_config.c - the analysis configuration of a SETI@home work unit.
 *
 * A stand-in until the seti mode's own mapping lands (the lead's): Ozma's
 * defaults, then what <analysis_cfg> says that Ozma's search already has -
 * the FFT lengths (lowest and highest bit of analysis_fft_lengths), the chirp
 * range (the largest chirp_limit), chirp_resolution, spike_thresh and
 * max_signals.  Kept small and self-contained so it can be replaced whole.
 */
#include <stdio.h>

#include "internal.h"

int oz_wu_sah_config(const oz_wu_sah *sah, oz_sci_config *cfg, char *why, size_t whylen)
{
    const oz_wu_sah_analysis *a = &sah->analysis;
    oz_sci_config c;
    oz_sci_config_default(&c);
    uint32_t flags = a->analysis_fft_lengths;
    if (flags == 0)
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "%s: analysis_fft_lengths is 0", sah->name);
    unsigned lo = (unsigned)__builtin_ctz(flags), hi = 31u - (unsigned)__builtin_clz(flags);
    if ((1u << lo) < OZ_SCI_FFT_MIN || hi >= 31 || (1u << hi) > OZ_SCI_FFT_MAX)
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                          "%s: analysis_fft_lengths 0x%x asks for FFT lengths outside %u..%u",
                          sah->name, flags, OZ_SCI_FFT_MIN, OZ_SCI_FFT_MAX);
    c.fft_min = 1u << lo;
    c.fft_max = 1u << hi;
    double chirp_max = 0;
    for (uint32_t i = 0; i < a->nchirps; i++)
        if (a->chirps[i].chirp_limit > chirp_max)
            chirp_max = a->chirps[i].chirp_limit;
    c.chirp_max = chirp_max;
    c.chirp_resolution = a->chirp_resolution;
    c.spike_thresh = a->spike_thresh;
    c.max_signals = a->max_signals;
    char sub[200];
    if (oz_sci_config_check(&c, sub, sizeof sub) != OZ_SCI_OK)
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "%s: analysis_cfg: %s", sah->name, sub);
    *cfg = c;
    return OZ_WU_OK;
}
