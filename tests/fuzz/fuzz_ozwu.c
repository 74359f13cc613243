/*
 * fuzz_ozwu.c - libFuzzer target for the .ozwu reader (oz_wu_unit_parse):
 * any bytes must be refused with a message or parsed into a unit whose
 * every size agrees with the image, never crash, leak or read out of
 * bounds.  A fuzzer cannot forge SHA-256, so for inputs of odd length the
 * header's hash in the prefix is recomputed first: those reach the JSON
 * header's checks.  Build: see tests/fuzz/CMakeLists.txt.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ozma_workunits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = NULL;
    if (size % 2 == 1 && size >= OZ_WU_PREFIX_BYTES) {
        size_t hlen = (size_t)data[8] | (size_t)data[9] << 8 | (size_t)data[10] << 16 |
                      (size_t)data[11] << 24;
        if (hlen <= size - OZ_WU_PREFIX_BYTES && (copy = malloc(size)) != NULL) {
            memcpy(copy, data, size);
            oz_wu_sha256(copy + OZ_WU_PREFIX_BYTES, hlen, copy + 20);
            data = copy;
        }
    }
    oz_wu_unit *u = NULL;
    char why[512] = "";
    if (oz_wu_unit_parse(data, size, "fuzz.ozwu", &u, why, sizeof why) == OZ_WU_OK) {
        const oz_wu_header *h = oz_wu_unit_header(u);
        const float *iq = oz_wu_unit_samples(u);
        volatile float sink = 0;
        for (uint64_t i = 0; i < 2 * h->nsamples; i++)
            sink += iq[i];
        (void)sink;
        oz_wu_unit_free(u);
    } else if (why[0] == '\0' || u != NULL) {
        __builtin_trap(); /* every refusal says why and hands out nothing */
    }
    free(copy);
    return 0;
}
