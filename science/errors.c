/*
 * errors.c - error codes, signal-type names and JSON value types as words.
 *
 * Every part of Ozma turns its error enum into sentences here-style
 * (curl_easy_strerror); oz_sci_fail is the one place that formats a `why`
 * message so that callers can say "return oz_sci_fail(...)".
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

const char *oz_sci_strerror(int err)
{
    switch (err) {
    case OZ_SCI_OK:
        return "success";
    case OZ_SCI_ENOMEM:
        return "out of memory";
    case OZ_SCI_EINVAL:
        return "invalid argument or configuration";
    case OZ_SCI_EPARSE:
        return "malformed JSON";
    case OZ_SCI_EMISMATCH:
        return "checkpoint belongs to another unit or configuration";
    case OZ_SCI_EFFT:
        return "FFTW could not make a plan";
    case OZ_SCI_EDISAGREE:
        return "results disagree";
    default:
        return "unknown error";
    }
}

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

int oz_sci_fail(int err, char *why, size_t whylen, const char *fmt, ...)
{
    if (why && whylen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, whylen, fmt, ap);
        va_end(ap);
    }
    return err;
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
