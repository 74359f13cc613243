/*
 * fuzz_sah.c - libFuzzer target for the SETI@home .sah reader: any input
 * must either be refused with a message or parse into a header whose
 * numbers are in range and samples that are all ±1.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ozma_workunits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static oz_wu_sah h; /* 13 KB: not on the stack */
    int8_t *iq = NULL;
    char why[512];
    why[0] = '\0';
    int rc = oz_wu_sah_parse(data, size, "fuzz.sah", &h, &iq, why, sizeof why);
    if (rc != OZ_WU_OK) {
        if (!why[0] || iq)
            abort(); /* a refusal always says why, and hands out nothing */
        return 0;
    }
    if (h.nsamples < OZ_WU_UNIT_SAMPLES_MIN || h.nsamples > OZ_WU_SAH_SAMPLES_MAX ||
        h.ncoords < 1 || h.ncoords > OZ_WU_TRACK_MAX || h.analysis.nchirps < 1 ||
        h.analysis.nchirps > OZ_WU_SAH_CHIRPS_MAX || !(h.sample_rate > 0))
        abort();
    for (size_t k = 0; k < 2 * (size_t)h.nsamples; k++)
        if (iq[k] != 1 && iq[k] != -1)
            abort();
    free(iq);
    return 0;
}
