/*
 * load_internal.h - what load.c (`ozma-server load`) and load_sah.c (its
 * SETI@home units) share: the state of one load, the .sah files of one,
 * and the calls between the two files.  Internal to the scheduler's load.
 */
#ifndef OZMA_SCHED_LOAD_INTERNAL_H
#define OZMA_SCHED_LOAD_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "canary.h"
#include "load.h"
#include "sky.h"
#include "store.h"

struct load {
    const oz_load_opts *o;
    const oz_sci_config *config; /* every unit's: the options', or the .sah files' */
    oz_store *store;
    int64_t dataset_id;
    double sample_rate, center_hz;
    oz_unit_row *rows; /* OZ_LOAD_BATCH */
    char (*names)[OZ_WU_ID_MAX + 1];
    char (*files)[OZ_WU_ID_MAX + 8];
    char (*canaries)[OZ_CANARY_JSON_MAX + 1]; /* the rows' canaries' truths */
    char **skies;           /* OZ_LOAD_BATCH, owned: the rows' own pointings (a .sah's track) */
    char *sky_next;         /* owned: the next unit's, taken by on_unit */
    double canary_fraction; /* of the units given one (0: none) */
    size_t nrows;
    uint64_t flops_len, flops; /* the cached count and its unit length */
    uint64_t flops_max;        /* the largest unit's count */
    uint64_t done;
    int rc; /* why the split was stopped */
    char *why;
    size_t whylen;
    double t0;
};

/* The .sah files of a load and what they share.  Each file is one unit as
 * it is; the dataset's row holds one sample rate, centre and configuration
 * (the store rebuilds a unit's header from it to check results), so files
 * that differ in any of them are refused, naming the first that differs. */
struct sah_set {
    char **paths; /* owned, in unit order */
    size_t n;
    double fs, center;
    uint64_t nsamples0; /* the first unit's length */
    int64_t start_ns;   /* the earliest unit's start: the dataset's */
    bool has_site;      /* where they were recorded (oz_sky_sah_site) */
    oz_wu_site site;
    oz_sci_config config;
    char *config_json; /* owned */
    char name[OZ_WU_DATASET_MAX + 1];
};

/* A workunits error as a scheduler one: the input's fault unless the
 * machine's (load.c). */
int oz_load_from_wu(int rc);

/* The splitter's callback for each durable unit (load.c): queues its row,
 * every OZ_LOAD_BATCH rows one transaction; arg is the struct load.
 * Non-zero (L->rc, L->why set) stops the load. */
int oz_load_on_unit(void *arg, const oz_wu_unit_written *w, uint64_t nunits);

/* ---- SETI@home units (load_sah.c) ---------------------------------------------------------- */

/* Is this a load of .sah files (a directory, or files named *.sah)? */
bool oz_load_sah_is(const oz_load_opts *o);

/* Lists and opens every .sah of the load once into *S (so a damaged one
 * is found before anything is written), checking that they share one
 * sample rate, centre, configuration and site. */
int oz_load_sah_check(const oz_load_opts *o, struct sah_set *S, char *why, size_t whylen);

/* Writes each .sah as one unit into units/, with its own start time and
 * sky track, through oz_load_on_unit. */
int oz_load_sah_write(struct load *L, const struct sah_set *S, const char *units, const char *name,
                      char *why, size_t whylen);

void oz_load_sah_set_free(struct sah_set *S);

#endif
