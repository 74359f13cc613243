/*
 * analysis.c - the analysis configuration from command-line flags and files.
 *
 * Programs that take analysis flags (ozma-split, ozma-search, the
 * scheduler's load) accept one flag per configuration key, spelt as the JSON
 * key with '-' for '_' (--fft-max 4096, --chirp-max 5, --planner measure),
 * plus --config FILE.json.  Each flag becomes a one-key JSON object overlaid
 * with oz_sci_config_from_json, so the kernel's parser stays the only place
 * that knows the keys, their types and their ranges, and a new key needs no
 * change here.  A recording's configuration starts from the kernel's
 * defaults with band flattening on (oz_wu_config_recording).
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void oz_wu_config_recording(oz_sci_config *cfg)
{
    oz_sci_config_default(cfg);
    cfg->bsmooth_boxcar = 8192;
    cfg->bsmooth_chunk = 32768;
}

int oz_wu_config_set(oz_sci_config *cfg, const char *key, const char *value, char *why,
                     size_t whylen)
{
    if (!cfg || !key || !value)
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "no configuration key or value given");
    while (*key == '-')
        key++;
    char name[64];
    size_t n = strlen(key);
    if (n == 0 || n >= sizeof name)
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "--%.40s is not an analysis option", key);
    for (size_t i = 0; i <= n; i++)
        name[i] = key[i] == '-' ? '_' : key[i];

    /* Numbers and booleans as JSON; anything else is a string ("measure"). */
    json_t *v = json_loads(value, JSON_DECODE_ANY, NULL);
    if (!v || !(json_is_number(v) || json_is_boolean(v))) {
        json_decref(v);
        v = json_string(value);
    }
    json_t *obj = json_object();
    if (!v || !obj || json_object_set_new(obj, name, v) != 0) {
        json_decref(obj);
        return oz_wu_fail(OZ_WU_ENOMEM, why, whylen, "out of memory");
    }
    char sub[200];
    int rc = oz_sci_config_from_json(obj, cfg, sub, sizeof sub);
    json_decref(obj);
    if (rc != OZ_SCI_OK) {
        if (strstr(sub, "unknown key"))
            return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "--%s is not an analysis option", key);
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "--%s %.40s: %s", key, value, sub);
    }
    return OZ_WU_OK;
}

int oz_wu_config_load(const char *path, oz_sci_config *cfg, char *why, size_t whylen)
{
    char *text;
    size_t len;
    int rc = oz_wu_read_small(path, 1u << 20, &text, &len, why, whylen);
    if (rc != OZ_WU_OK)
        return rc;
    json_error_t err;
    json_t *obj = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
    free(text);
    if (!obj)
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "%s: invalid JSON at line %d column %d: %s",
                          path, err.line, err.column, err.text);
    char sub[200];
    rc = oz_sci_config_from_json(obj, cfg, sub, sizeof sub);
    json_decref(obj);
    if (rc != OZ_SCI_OK)
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "%s: %s", path, sub);
    return OZ_WU_OK;
}
