/*
 * fuzz_worker_control.c - libFuzzer target for control.json
 * (oz_wk_control_parse, jansson underneath), the file `ozma-worker suspend`
 * and its siblings write and the running worker reads: any bytes must be
 * refused with a message naming the file, or give an order whose counters
 * are not negative.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "worker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    oz_wk_control c;
    char why[512] = "";
    memset(&c, 0, sizeof c);
    if (oz_wk_control_parse((const char *)data, size, "fuzz/control.json", &c, why, sizeof why) !=
        0) {
        if (!strstr(why, "fuzz/control.json"))
            __builtin_trap(); /* a refusal names the file */
    } else if (c.seq < 0 || c.update_seq < 0) {
        __builtin_trap();
    }
    return 0;
}
