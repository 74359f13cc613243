/*
 * load.h - `ozma-server load`: a recording becomes a dataset of units.
 *
 * The recording is cut by the workunits splitter into DIR/units/ (SETI@home
 * .sah units are taken whole, one unit per file, in load.c) and every
 * unit durably written is recorded in the database, in batches of
 * OZ_LOAD_BATCH rows per transaction, with its file hash, size and the
 * deterministic FLOP count of its search (the basis of its credit).  The
 * dataset stays in state "loading" (nothing is sent) until the last unit is
 * in; only then are its replicas created.  A load that fails or is
 * interrupted removes its rows and unit files again, so there is never a
 * half-loaded dataset; one left by a crash is found and removed, with a
 * message, by the next load of the same name.
 */
#ifndef OZ_SCHED_LOAD_H
#define OZ_SCHED_LOAD_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ozma_workunits.h"

#define OZ_LOAD_BATCH 1000
#define OZ_LOAD_DEADLINE_MAX (365LL * 86400) /* seconds */
#define OZ_LOAD_REPLICAS_MAX 100
#define OZ_LOAD_SAH_FILES_MAX 100000 /* .sah files in one dataset */

typedef struct oz_load_opts {
    const char *dir;             /* the project directory */
    const char *recording;       /* path as given */
    const oz_wu_raw_params *raw; /* raw input, or NULL */
    const char *name;            /* dataset id; NULL: from the recording's name */
    int min_quorum, target_nresults, max_error_results, max_total_results;
    int64_t delay_bound; /* deadline, seconds */
    /* Adaptive replication (trust.h, canary.h): 1 on, 0 off, -1 (the
     * default) as project.json's "adaptive" says.  An adaptive load gives
     * canary_fraction (project.json) of its units a hidden canary.  Only
     * the ozma mode's search can be spot-checked: a seti-mode dataset
     * (every .sah load) is never adaptive, and 1 is refused for it. */
    int adaptive;
    oz_sci_config config;  /* analysis configuration for every unit */
    uint64_t unit_samples; /* 0: default */
    double overlap;        /* fraction of a unit */
    /* SETI@home units: `recording` is a directory of .sah files or the first
     * of `more` further .sah files; each file becomes one unit as it is (its
     * samples, rate, centre, start, sky track and oz_wu_sah_config), so
     * `tuned` (unit size, overlap or analysis options given) is refused. */
    const char *const *more; /* further .sah paths */
    size_t nmore;
    bool tuned;
    bool has_site; /* --site: overrides the recording's core:geolocation */
    oz_wu_site site;
    bool progress; /* a progress bar on stderr */
    /* Polled between units; non-zero stops the load (which is undone). */
    const volatile sig_atomic_t *stop;
} oz_load_opts;

/* Fills the defaults of DESIGN.md §4 (2, 2, 3, 6, 7 days) and the
 * workunits defaults for the rest. */
void oz_load_opts_default(oz_load_opts *o);

/*
 * Loads a recording.  On success *nunits (may be NULL) counts the units
 * and *unit_flops_max (may be NULL) is the largest unit's FLOP count (the
 * kernel's plan: oz_sci_plan_flops).
 * Errors: OZ_SCHED_EINVAL for bad input (recording, options, a dataset name
 * already loaded), OZ_SCHED_ECONFLICT when stopped, others for the
 * database and the system; in every error case the database and units/ are
 * as they were.
 */
int oz_load_run(const oz_load_opts *o, uint64_t *nunits, uint64_t *unit_flops_max, char *why,
                size_t whylen);

/* The FLOP rate `load` states for "a typical core" when it estimates a
 * unit's CPU time: what `ozma-worker benchmark` measures on a mid-range
 * x86-64 core of the last decade with AVX2 (the kernel's own count, FFTs as
 * 5 N log2 N). */
#define OZ_LOAD_TYPICAL_FLOPS 5e9

/* "90", "90s", "15m", "12h", "7d" into seconds (1 .. OZ_LOAD_DEADLINE_MAX);
 * OZ_SCHED_EINVAL otherwise. */
int oz_load_duration_parse(const char *s, int64_t *seconds);

#endif
