/*
 * fuzz_worker_conf.c - libFuzzer target for worker.conf (oz_wk_prefs_parse,
 * libinih underneath): any text must be refused with a message naming the
 * line or key and leave the preferences as they were, or give preferences whose CPU count resolves within the
 * machine's.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "worker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1); /* the parser reads a C string */
    if (!text)
        return 0;
    if (size)
        memcpy(text, data, size);
    text[size] = '\0';
    oz_wk_prefs p, before;
    oz_wk_prefs_default(&p);
    before = p;
    char why[512] = "";
    if (oz_wk_prefs_parse(text, "fuzz/worker.conf", &p, why, sizeof why) != 0) {
        if (why[0] == '\0' || memcmp(&p, &before, sizeof p) != 0)
            __builtin_trap(); /* a refusal says why and changes nothing */
    } else {
        unsigned n = oz_wk_prefs_ncpus(&p, 8);
        if (n < 1 || n > 8)
            __builtin_trap();
    }
    free(text);
    return 0;
}
