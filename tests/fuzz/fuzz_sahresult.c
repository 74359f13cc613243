/*
 * fuzz_sahresult.c - libFuzzer target for the SETI@home result XML reader:
 * any input must either be refused with a message (and nothing handed out)
 * or parse into a bounded result whose signals are all v8 types with finite
 * fields, and which writes back and parses again to as many signals.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "ozma_workunits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[512];
    why[0] = '\0';
    oz_sci_result r = {0};
    oz_wu_sah_result_info info = {.start_jd = 2451606.85836, .subband_hz = 1418920288.09};
    int rc = oz_wu_sah_result_parse((const char *)data, size, &info, &r, why, sizeof why);
    if (rc != OZ_WU_OK) {
        if (!why[0] || r.signals || r.nsignals)
            abort(); /* a refusal always says why, and hands out nothing */
        return 0;
    }
    if (r.nsignals > OZ_SCI_SIGNALS_MAX)
        abort();
    for (size_t i = 0; i < r.nsignals; i++) {
        const oz_signal *s = &r.signals[i];
        if (s->type == OZ_SIG_LINE || (unsigned)s->type >= OZ_SIG_NTYPES ||
            !isfinite(s->freq_hz + s->chirp_hz_s + s->time_s + s->power))
            abort();
    }
    char *xml = NULL;
    size_t len = 0;
    if (oz_wu_sah_result_write(&r, &info, &xml, &len, why, sizeof why) == 0) {
        oz_sci_result back;
        if (oz_wu_sah_result_parse(xml, len, &info, &back, why, sizeof why) != OZ_WU_OK ||
            back.nsignals != r.nsignals)
            abort();
        oz_sci_result_clear(&back);
    }
    free(xml);
    oz_sci_result_clear(&r);
    return 0;
}
