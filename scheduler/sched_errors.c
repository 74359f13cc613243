/*
 * sched_errors.c - words for the scheduler's error codes.  Failing with a
 * sentence is oz_sched_fail (sched_errors.h), which is science's
 * oz_sci_fail: every part fails the same way.
 */
#include "sched_errors.h"

const char *oz_sched_strerror(int err)
{
    switch (err) {
    case OZ_SCHED_OK:
        return "ok";
    case OZ_SCHED_EINVAL:
        return "invalid argument";
    case OZ_SCHED_ENOMEM:
        return "out of memory";
    case OZ_SCHED_EDB:
        return "database error";
    case OZ_SCHED_ENOTFOUND:
        return "not found";
    case OZ_SCHED_EEXIST:
        return "already exists";
    case OZ_SCHED_EFORBIDDEN:
        return "forbidden";
    case OZ_SCHED_ECONFLICT:
        return "conflict";
    case OZ_SCHED_EBUSY:
        return "database busy";
    case OZ_SCHED_ELIMIT:
        return "limit exceeded";
    case OZ_SCHED_EAUTH:
        return "not authenticated";
    case OZ_SCHED_EIO:
        return "input/output error";
    case OZ_SCHED_ENOSPC:
        return "no space left on the disk";
    default:
        return "unknown error";
    }
}
