/*
 * sahresult.h - what the writer (sahresult.c) and the reader
 * (sahresult_read.c) of SETI@home's result XML share: its fields, each
 * signal type's fields in v8's order, and a few checks.  Internal to
 * workunits/.
 */
#ifndef OZMA_WORKUNITS_SAHRESULT_H
#define OZMA_WORKUNITS_SAHRESULT_H

#include "internal.h"

/* Julian dates a unit may start at: 1900-01-01 to the start of 2201, the
 * years OZ_WU_TIME_MIN_NS .. OZ_WU_TIME_MAX_NS cover (with a day to spare). */
#define JD_MIN 2415020.5
#define JD_MAX 2524959.5
#define NUM_TEXT_MAX 64u /* characters of a number's text */
#define VERSION_MAX 31u  /* characters of <ozma_kernel_version> */

enum field {
    F_PEAK_POWER,
    F_MEAN_POWER,
    F_TIME,
    F_RA,
    F_DECL,
    F_Q_PIX,
    F_DELAY,
    F_FREQ,
    F_DETECTION_FREQ,
    F_BARYCENTRIC_FREQ,
    F_FFT_LEN,
    F_CHIRP_RATE,
    F_RFI_CHECKED,
    F_RFI_FOUND,
    F_RESERVED,
    F_SIGMA,
    F_CHISQR,
    F_NULL_CHISQR,
    F_SCORE,
    F_MAX_POWER,
    F_PERIOD,
    F_SNR,
    F_THRESH,
    F_LEN_PROF,
    F_N
};

struct fieldinfo {
    const char *name;
    bool integer;  /* written and read as an integer */
    bool optional; /* may be absent when read (Ozma does not use it) */
};
extern const struct fieldinfo oz_sahres_fields[F_N];

/* The v8 types, in the order v8 writes its best-of-type elements. */
struct sahtype {
    oz_sig_type type;
    bool has_pot;            /* v8 may attach <pot> */
    const char *name;        /* signal element */
    const char *best;        /* best-of-type element */
    const enum field *order; /* its fields in v8's order, ended by F_N */
};
#define OZ_SAHRES_NTYPES 5u
extern const struct sahtype oz_sahres_types[OZ_SAHRES_NTYPES];

/* The v8 type of an Ozma signal type, or NULL (lines). */
const struct sahtype *oz_sahres_type_of(oz_sig_type t);
/* A kernel version's text: 1..VERSION_MAX of [A-Za-z0-9._-/+:]. */
bool oz_sahres_version_ok(const char *v, size_t n);
/* The first needle (of nn > 0 bytes) in [h, h + n), or NULL: memmem is not POSIX. */
const char *oz_sahres_find(const char *h, size_t n, const char *needle, size_t nn);
bool oz_sahres_jd_ok(double jd);

#endif /* OZMA_WORKUNITS_SAHRESULT_H */
