/*
 * errors.c - science's error codes as sentences (curl_easy_strerror's
 * shape), and oz_sci_fail: the one way every part of Ozma fails with a
 * reason (its contract is in ozma_science.h; workunits, the scheduler and
 * the worker call it under their own names).
 */
#include <stdarg.h>
#include <stdio.h>

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
