/*
 * fuzz_resultfile.c - libFuzzer target for the result-file parser
 * (oz_wu_result_parse), the code the scheduler runs on uploads from
 * strangers; a parsed result is written back and must parse again to the
 * same signals.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ozma_workunits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    oz_wu_result r;
    char why[512];
    if (oz_wu_result_parse((const char *)data, size, &r, why, sizeof why) != OZ_WU_OK)
        return 0;
    json_t *j = oz_wu_result_to_json(&r);
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(j);
    if (text) {
        oz_wu_result again;
        if (oz_wu_result_parse(text, strlen(text), &again, why, sizeof why) != OZ_WU_OK ||
            again.result.nsignals != r.result.nsignals ||
            (r.result.nsignals && memcmp(again.result.signals, r.result.signals,
                                         r.result.nsignals * sizeof *r.result.signals) != 0))
            __builtin_trap(); /* what we write, we read back exactly */
        oz_wu_result_clear(&again);
        free(text);
    }
    oz_wu_result_clear(&r);
    return 0;
}
