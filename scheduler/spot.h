/*
 * spot.h - spot checks: the server re-runs a few chirp steps of a host's
 * search and compares them with the host's result (DESIGN.md §4b; issue
 * 18).  The kernel's search is a sequence of steps, one chirp rate each
 * (science/: oz_sci_search_seek), so one step costs about 1/N of the
 * unit's search, N the plan's steps.  No SQL and no HTTP here; the
 * validator (jobs.c) runs it off the HTTP threads on every fresh result
 * of an adaptive dataset, before the result may count.
 *
 * Two steps are re-run: the step nearest the rate of a randomly chosen
 * signal the host reports (of its strongest spike when it reports none),
 * and one chosen uniformly among all steps, so a host cannot tell which of
 * its claims, or which part of its search, will be checked.  A mismatch is
 *  - the chosen claim (a spike, Gaussian, pulse or triplet: the detectors
 *    that see one step whole) has no detection of it in the re-run of its
 *    step (oz_sci_signal_same: same type, on its frequency track);
 *  - a detection of either re-run step has no signal in the host's result
 *    that the kernel would merge it into, about as strong (unless the
 *    host's list overflowed, ending its search early; an overflow claimed
 *    with a list not full is itself a mismatch).
 * A mismatch makes the result invalid (validate.c).
 */
#ifndef OZ_SCHED_SPOT_H
#define OZ_SCHED_SPOT_H

#include <stdbool.h>
#include <stddef.h>

#include "ozma_science.h"
#include "store.h"

#define OZ_SPOT_STEPS 2
#define OZ_SPOT_POWER_KEPT 0.5 /* a detection's partner reports at least this share of its power */

typedef struct oz_spot {
    bool pass;
    size_t steps[OZ_SPOT_STEPS], nsteps; /* the steps re-run */
    size_t plan_steps;                   /* of the unit's plan */
    double cpu_s;                        /* the server's CPU time on them */
    char why[256];                       /* a mismatch: the first */
} oz_spot;

/* Re-runs OZ_SPOT_STEPS steps (fewer if they coincide) of the search of the
 * unit's n samples iq (sample_rate, center_hz, cfg) and compares them with
 * the host's result; u0, u1 are independent uniform draws from [0, 1).
 * 0 with out filled, or a science error (OZ_SCI_*: a unit the kernel
 * refuses, memory) with why. */
int oz_spot_check(const oz_sci_config *cfg, const float *iq, size_t n, double sample_rate,
                  double center_hz, const oz_sci_result *host, double u0, double u1, oz_spot *out,
                  char *why, size_t whylen);

/* The validator's side: spot-checks every fresh result (validate_state
 * INIT, spot 0) of unit v, an adaptive dataset's, setting each replica's
 * spot (1 passed, 2 failed; a result that does not parse is left to the
 * validator, which finds it invalid) and adding the CPU time to *cpu_s.
 * The unit's samples come from units_dir/v->file.  0, or an error (the
 * unit file unreadable, memory) with why: the unit waits for the next
 * round. */
int oz_spot_unit(const char *units_dir, oz_validate_unit *v, double *cpu_s, char *why,
                 size_t whylen);

#endif
