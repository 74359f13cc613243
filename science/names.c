/*
 * names.c - words for science's enumerations: the signal types' JSON names
 * (DESIGN.md §4), one table read both ways, and JSON value types as a
 * person would say them, for the messages of every strict parser ("fft_max:
 * expected an integer, got a string").
 */
#include <string.h>

#include "internal.h"

static const char *const type_names[OZ_SIG_NTYPES] = {
    [OZ_SIG_SPIKE] = "spike",     [OZ_SIG_GAUSSIAN] = "gaussian", [OZ_SIG_PULSE] = "pulse",
    [OZ_SIG_TRIPLET] = "triplet", [OZ_SIG_LINE] = "line",         [OZ_SIG_AUTOCORR] = "autocorr",
};

const char *oz_sig_type_name(oz_sig_type t)
{
    return (unsigned)t < OZ_SIG_NTYPES ? type_names[t] : "unknown";
}

int oz_sig_type_parse(const char *name, oz_sig_type *out)
{
    for (int t = 0; t < OZ_SIG_NTYPES; t++) {
        if (name && strcmp(name, type_names[t]) == 0) {
            *out = (oz_sig_type)t;
            return OZ_SCI_OK;
        }
    }
    return OZ_SCI_EINVAL;
}

const char *oz_sci_json_type(const json_t *v)
{
    if (!v)
        return "nothing";
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a real number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "an unknown value";
}
