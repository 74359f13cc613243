/*
 * fuzz_project_config.c - libFuzzer target for project.json
 * (oz_project_config_parse over the defaults): any bytes must be refused
 * with a message and leave the configuration as it was, or give one whose
 * every key is in range and that survives a round trip through
 * oz_project_config_to_json.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "project.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    oz_project_config c, before;
    oz_project_config_default(&c);
    before = c;
    char why[512] = "";
    if (oz_project_config_parse((const char *)data, size, "fuzz/project.json", &c, why,
                                sizeof why) != 0) {
        if (why[0] == '\0' || memcmp(&c, &before, sizeof c) != 0)
            __builtin_trap(); /* a refusal says why and changes nothing */
        return 0;
    }
    json_t *j = oz_project_config_to_json(&c);
    if (!j)
        return 0;
    oz_project_config again;
    oz_project_config_default(&again);
    if (oz_project_config_from_json(j, &again, why, sizeof why) != 0)
        __builtin_trap(); /* what was accepted must be written back acceptably */
    json_decref(j);
    return 0;
}
