/*
 * analysis.c - the analysis configuration from command-line flags and files.
 *
 * Programs that take analysis flags (ozma-split, ozma-search, the
 * scheduler's load) accept one flag per configuration key, spelt as the JSON
 * key with '-' for '_' (--fft-max 4096, --chirp-max 5, --planner measure),
 * plus --config FILE.json.  Each flag becomes a one-key JSON object overlaid
 * with oz_sci_config_from_json, so the kernel's parser stays the only place
 * that knows the keys, their types and their ranges, and a new key needs no
 * change here.  A program's flags are set together (oz_wu_config_set_flags):
 * one object, checked once as a whole, so --fft-min 8192 --fft-max 16384
 * works in either order; only a refusal is traced back, flag by flag, to
 * the one to name.  A recording's configuration starts from the kernel's
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

/* A flag's name ("--fft-max", "fft-max" or "fft_max") as its JSON key. */
static int key_of(const char *flag, char *name, size_t len, char *why, size_t whylen)
{
    while (*flag == '-')
        flag++;
    size_t n = strlen(flag);
    if (n == 0 || n >= len)
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "--%.40s is not an analysis option", flag);
    for (size_t i = 0; i <= n; i++)
        name[i] = flag[i] == '-' ? '_' : flag[i];
    return OZ_WU_OK;
}

/* A flag's text as JSON: numbers and booleans as themselves, anything else
 * as a string ("measure"). */
static json_t *value_of(const char *text)
{
    json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
    if (!v || !(json_is_number(v) || json_is_boolean(v))) {
        json_decref(v);
        v = json_string(text);
    }
    return v;
}

int oz_wu_config_set(oz_sci_config *cfg, const char *key, const char *value, char *why,
                     size_t whylen)
{
    if (!cfg || !key || !value)
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "no configuration key or value given");
    char name[64];
    int rc = key_of(key, name, sizeof name, why, whylen);
    if (rc != OZ_WU_OK)
        return rc;
    while (*key == '-')
        key++;
    json_t *v = value_of(value);
    json_t *obj = json_object();
    if (!v || !obj || json_object_set_new(obj, name, v) != 0) {
        json_decref(obj);
        return oz_wu_fail(OZ_WU_ENOMEM, why, whylen, "out of memory");
    }
    char sub[200];
    rc = oz_sci_config_from_json(obj, cfg, sub, sizeof sub);
    json_decref(obj);
    if (rc != OZ_SCI_OK) {
        if (strstr(sub, "unknown key"))
            return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "--%s is not an analysis option", key);
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "--%s %.40s: %s", key, value, sub);
    }
    return OZ_WU_OK;
}

int oz_wu_config_set_flags(oz_sci_config *cfg, const oz_wu_config_flag *flags, size_t n, char *why,
                           size_t whylen)
{
    if (!cfg || (n && !flags))
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "no configuration or flags given");
    if (n == 0)
        return OZ_WU_OK;
    json_t *obj = json_object();
    if (!obj)
        return oz_wu_fail(OZ_WU_ENOMEM, why, whylen, "out of memory");
    for (size_t i = 0; i < n; i++) { /* a later flag overrides an earlier one */
        char name[64];
        int rc = key_of(flags[i].flag, name, sizeof name, why, whylen);
        if (rc != OZ_WU_OK) {
            json_decref(obj);
            return rc;
        }
        if (!flags[i].value) {
            json_decref(obj);
            return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "--%s needs a value", name);
        }
        json_t *v = value_of(flags[i].value);
        if (!v || json_object_set_new(obj, name, v) != 0) {
            json_decref(obj);
            return oz_wu_fail(OZ_WU_ENOMEM, why, whylen, "out of memory");
        }
    }
    char sub[200];
    int rc = oz_sci_config_from_json(obj, cfg, sub, sizeof sub);
    json_decref(obj);
    if (rc == OZ_SCI_OK)
        return OZ_WU_OK;
    /* Refused as a whole: one at a time, in order, until one is refused, to
     * say which.  Whatever the whole refuses, some step of the sequence
     * refuses too: its end state is the whole's. */
    oz_sci_config t = *cfg;
    for (size_t i = 0; i < n; i++) {
        rc = oz_wu_config_set(&t, flags[i].flag, flags[i].value, why, whylen);
        if (rc != OZ_WU_OK)
            return rc;
    }
    return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "analysis flags: %s", sub);
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
