/*
 * sched_errors.h - the scheduler's error codes (STYLE.md §5: one enum per
 * part, 0 ok, negative errors, a strerror to turn them into words).  The
 * HTTP layer maps them onto statuses: ENOTFOUND 404, EEXIST/ECONFLICT 409,
 * EFORBIDDEN 403, EAUTH 401, ELIMIT 413, EINVAL 400, EBUSY and ENOSPC 503 (with
 * Retry-After), the rest 500.
 */
#ifndef OZ_SCHED_ERRORS_H
#define OZ_SCHED_ERRORS_H

#include <stddef.h>

#include "ozma_science.h"

typedef enum oz_sched_err {
    OZ_SCHED_OK = 0,
    OZ_SCHED_EINVAL = -1,     /* bad argument or input */
    OZ_SCHED_ENOMEM = -2,     /* out of memory */
    OZ_SCHED_EDB = -3,        /* the database failed */
    OZ_SCHED_ENOTFOUND = -4,  /* no such row or file */
    OZ_SCHED_EEXIST = -5,     /* already exists */
    OZ_SCHED_EFORBIDDEN = -6, /* not yours */
    OZ_SCHED_ECONFLICT = -7,  /* contradicts what is already recorded */
    OZ_SCHED_EBUSY = -8,      /* the database is locked by another process */
    OZ_SCHED_ELIMIT = -9,     /* a size or count limit */
    OZ_SCHED_EAUTH = -10,     /* missing or unknown credentials */
    OZ_SCHED_EIO = -11,       /* a file operation failed */
    OZ_SCHED_ENOSPC = -12, /* the disk (or the quota) is full: a write failed for want of space */
} oz_sched_err;

const char *oz_sched_strerror(int err);

/* Fills why and returns err: oz_sci_fail (ozma_science.h), the one shape
 * every part fails with, under the scheduler's name. */
#define oz_sched_fail oz_sci_fail

#endif
