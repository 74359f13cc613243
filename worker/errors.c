/*
 * errors.c - the worker's error codes as sentences (curl_easy_strerror's
 * shape).  Failing with one and its reason is oz_wk_fail (worker.h).
 */
#include "worker.h"

const char *oz_wk_strerror(int err)
{
    switch (err) {
    case OZ_WK_OK:
        return "success";
    case OZ_WK_ENOMEM:
        return "out of memory";
    case OZ_WK_EINVAL:
        return "invalid argument or preference";
    case OZ_WK_EIO:
        return "input/output error";
    case OZ_WK_EFORMAT:
        return "malformed state file or scheduler reply";
    case OZ_WK_ENET:
        return "the scheduler could not be reached";
    case OZ_WK_EHTTP:
        return "the scheduler refused the request";
    case OZ_WK_EHASH:
        return "the download does not match its SHA-256";
    case OZ_WK_ESTATE:
        return "the state directory is not in the right state";
    case OZ_WK_ESTOPPED:
        return "stopped";
    case OZ_WK_ESCIENCE:
        return "the unit could not be searched";
    default:
        return "unknown error";
    }
}
