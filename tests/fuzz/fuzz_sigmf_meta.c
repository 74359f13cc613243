/*
 * fuzz_sigmf_meta.c - libFuzzer target for the SigMF meta parser, in memory
 * (oz_wu_sigmf_meta_parse: every check oz_wu_open_sigmf makes before it
 * opens the data file): any bytes must be refused with a message, or give a
 * description whose every figure lies in the range the reader promises.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "ozma_workunits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    oz_wu_sigmf_meta m;
    char why[512] = "";
    if (oz_wu_sigmf_meta_parse((const char *)data, size, "fuzz.sigmf-meta", &m, why,
                               sizeof why) != OZ_WU_OK) {
        if (why[0] == '\0')
            __builtin_trap(); /* every refusal says why */
        return 0;
    }
    if (!(m.sample_rate > 0 && m.sample_rate <= OZ_WU_SAMPLE_RATE_MAX) || !isfinite(m.center_hz))
        __builtin_trap();
    if (m.has_sky && !(m.ra_deg >= 0 && m.ra_deg < 360 && m.dec_deg >= -90 && m.dec_deg <= 90))
        __builtin_trap();
    if (oz_wu_format_size(m.format) == 0)
        __builtin_trap();
    return 0;
}
