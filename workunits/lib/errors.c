/*
 * errors.c - workunits' error codes as sentences (curl_easy_strerror's
 * shape).  Failing with one and its reason is oz_wu_fail (internal.h),
 * which is science's oz_sci_fail: every part fails the same way.
 */
#include "internal.h"

const char *oz_wu_strerror(int err)
{
    switch (err) {
    case OZ_WU_OK:
        return "success";
    case OZ_WU_ENOMEM:
        return "out of memory";
    case OZ_WU_EINVAL:
        return "invalid argument or option";
    case OZ_WU_EIO:
        return "input/output error";
    case OZ_WU_EFORMAT:
        return "malformed input";
    case OZ_WU_EVERSION:
        return "unsupported format version";
    case OZ_WU_ELIMIT:
        return "size beyond a limit";
    case OZ_WU_EHASH:
        return "data does not match its SHA-256";
    case OZ_WU_ESCIENCE:
        return "the search kernel refused";
    default:
        return "unknown error";
    }
}
