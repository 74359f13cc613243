/*
 * sah_config.c - the analysis configuration of a SETI@home work unit.
 *
 * A .sah unit is searched in the seti mode (DESIGN.md §2: v8's plan,
 * statistics and reporting), configured by its own <analysis_cfg> and
 * header as v8 configures itself from them:
 *  - FFT lengths from analysis_fft_lengths (bit j: length 2^j), which must
 *    be one unbroken run of powers of two; each length's chirp limit is the
 *    largest chirp_limit of the <chirps> rows whose fft_len_flags name it
 *    (v8 generates every row's rates into one table, so the rows' union is
 *    the widest), and every searched length must be in some row;
 *  - the beam: v8 scales the receiver's beam_width by its centre frequency
 *    over the subband's (seti_header.cpp), and takes the telescope's motion
 *    from true_angle_range;
 *  - the band: ifft_len and the subband centre, for v8's frequencies;
 *  - band flattening with v8's boxcar and chunk;
 *  - FFTW plans measured, not estimated: the plan is long enough to repay it;
 *  - everything else by name.
 * Anything v8 can do that Ozma's seti mode does not (several spikes or
 * autocorrelations per spectrum, gaps in the FFT lengths) is refused with a
 * sentence rather than searched differently.
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
    uint32_t run = (hi == 31 ? 0u : (1u << (hi + 1))) - (1u << lo);
    if (flags != run)
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                          "%s: analysis_fft_lengths 0x%x skips lengths between %u and %u; Ozma "
                          "searches an unbroken range",
                          sah->name, flags, 1u << lo, 1u << hi);
    if (a->spikes_per_spectrum != 1 || a->autocorr_per_spectrum != 1)
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                          "%s: spikes_per_spectrum %u, autocorr_per_spectrum %u: Ozma reports "
                          "one of each per spectrum",
                          sah->name, a->spikes_per_spectrum, a->autocorr_per_spectrum);
    c.mode = OZ_MODE_SETI;
    c.fft_min = 1u << lo;
    c.fft_max = 1u << hi;
    c.chirp_max = 0;
    for (unsigned b = lo; b <= hi; b++) {
        double lim = -1;
        for (uint32_t i = 0; i < a->nchirps; i++)
            if ((a->chirps[i].fft_len_flags & (1u << b)) && a->chirps[i].chirp_limit > lim)
                lim = a->chirps[i].chirp_limit;
        if (lim < 0)
            return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                              "%s: FFT length %u has no row in <chirps>", sah->name, 1u << b);
        c.chirp_limit[b - 3] = lim;
        c.chirp_max = lim > c.chirp_max ? lim : c.chirp_max;
    }
    /* a limit of 0 means "chirp_max" in Ozma's table: say 0 as a tiny one */
    for (unsigned b = lo; b <= hi; b++)
        if (c.chirp_limit[b - 3] == 0)
            c.chirp_limit[b - 3] = 1e-9;
    c.chirp_resolution = a->chirp_resolution;
    c.spike_thresh = a->spike_thresh;
    c.max_signals = a->max_signals;
    /* 31,523 steps of 2^20 samples: seconds of FFTW measuring pay back */
    c.planner = OZ_FFT_MEASURE;
    c.bsmooth_boxcar = a->bsmooth_boxcar_length;
    c.bsmooth_chunk = a->bsmooth_boxcar_length ? a->bsmooth_chunk_size : 0;

    oz_sci_seti *p = &c.seti;
    p->angle_range = sah->true_angle_range;
    p->beam_width = sah->subband_center != 0
                        ? sah->beam_width * (sah->receiver_freq * 1e6 / sah->subband_center)
                        : 0;
    p->ifft_len = sah->ifft_len;
    p->center_offset_hz = sah->subband_center - sah->subband_base;
    p->autocorr_thresh = a->autocorr_thresh;
    p->autocorr_fftlen = a->autocorr_fftlen;
    p->gauss_null_chi_sq_thresh = a->gauss_null_chi_sq_thresh;
    p->gauss_chi_sq_thresh = a->gauss_chi_sq_thresh;
    p->gauss_power_thresh = a->gauss_power_thresh;
    p->gauss_peak_power_thresh = a->gauss_peak_power_thresh;
    p->gauss_pot_length = a->gauss_pot_length;
    p->pulse_thresh = a->pulse_thresh;
    p->pulse_display_thresh = a->pulse_display_thresh;
    p->pulse_max = a->pulse_max;
    p->pulse_min = a->pulse_min;
    p->pulse_fft_max = a->pulse_fft_max;
    p->pulse_pot_length = a->pulse_pot_length;
    p->pulse_beams = a->pulse_beams;
    p->triplet_thresh = a->triplet_thresh;
    p->triplet_max = a->triplet_max;
    p->triplet_min = a->triplet_min;
    p->triplet_pot_length = a->triplet_pot_length;
    p->pot_overlap_factor = a->pot_overlap_factor;
    p->pot_t_offset = a->pot_t_offset;
    p->pot_min_slew = a->pot_min_slew;
    p->pot_max_slew = a->pot_max_slew;

    char swhy[256];
    if (oz_sci_config_check(&c, swhy, sizeof swhy) != OZ_SCI_OK)
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "%s: analysis_cfg: %s", sah->name, swhy);
    *cfg = c;
    return OZ_WU_OK;
}
