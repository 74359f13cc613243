/*
 * spikes.c - the spike search: the strongest bin of each spectrum over that
 * spectrum's mean power (SETI@home's spikes, one per spectrum).
 *
 * Bin 0 (DC, where receivers leave their offset) is never a spike.  The mean
 * includes the peak, so the statistic cannot exceed L: spikes at threshold 24
 * need L > 24.  The peak of each spectrum is found while squaring (square.c),
 * so this file only turns peaks into signals.  Every spectrum's peak is offered, so the best spike
 * of the unit is known even when nothing crosses the threshold.
 */
#include "internal.h"

void oz_spikes_search(const oz_block *b, float *scratch, oz_found *found)
{
    (void)scratch;
    const double tfft = oz_block_tfft(b);
    for (uint32_t s = 0; s < b->nspec; s++) {
        if (!(b->spec_mean[s] > 0.0f))
            continue;
        double t = ((double)s + 0.5) * tfft;
        double ratio = (double)b->spec_max[s] / (double)b->spec_mean[s];
        oz_signal sig = {
            .type = OZ_SIG_SPIKE,
            .fft_len = b->L,
            .freq_hz = oz_block_freq(b, b->spec_argmax[s], t),
            .chirp_hz_s = b->chirp,
            .time_s = t,
            .power = ratio,
            .score = ratio / b->cfg->spike_thresh,
        };
        oz_found_offer(found, &sig);
    }
}
