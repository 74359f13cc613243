/*
 * spot.h - spot checks: the server re-runs a few chirp steps of a host's
 * search and compares them with the host's result (DESIGN.md §4b; issue
 * 18).  The kernel's search is a sequence of steps, one chirp rate each
 * (science/: oz_sci_search_seek), so one step costs about 1/N of the
 * unit's search, N the plan's steps.  No SQL and no HTTP here; the
 * validator (jobs.c) runs it off the HTTP threads on every fresh result
 * of an adaptive dataset, before the result may count.
 *
 * The step re-run is the one nearest the rate of a randomly chosen signal
 * of the host's (the rate of its strongest spike when it reports none), so
 * a host cannot tell which of its claims will be checked.  A mismatch is
 *  - the chosen claim, a Gaussian, pulse or triplet (found at one step's
 *    rate), has no detection on its frequency track in the re-run
 *    (oz_sci_signal_same).  A spike's reported rate is fitted over steps
 *    (science/found.c), so a spike claim only chooses the step;
 *  - a detection of the re-run step has no signal in the host's result
 *    that the kernel would merge it into, about as strong (unless the
 *    host's list overflowed, ending its search early; an overflow claimed
 *    with a list not full is itself a mismatch).
 * Only the claim's step is re-run: at steps far from a strong signal's
 * rate the kernel sees smeared detections of it that it later absorbs
 * through its tracks, which one step alone cannot tell from a signal the
 * host left out.  What a spot check cannot see (a spike invented at a rate
 * where nothing is) is left to the canaries and the random replication.
 * A mismatch makes the result invalid (validate.c).
 */
#ifndef OZ_SCHED_SPOT_H
#define OZ_SCHED_SPOT_H

#include <stdbool.h>
#include <stddef.h>

#include "ozma_science.h"
#include "store.h"

#define OZ_SPOT_STEPS 1
#define OZ_SPOT_POWER_KEPT                                                                         \
    0.5 /* a detection's partner reports at least this share of its power                          \
         */

typedef struct oz_spot {
    bool pass;
    size_t steps[OZ_SPOT_STEPS], nsteps; /* the steps re-run */
    size_t plan_steps;                   /* of the unit's plan */
    double cpu_s;                        /* the server's CPU time on them */
    char why[256];                       /* a mismatch: the first */
} oz_spot;

/* Re-runs a step of the search of the unit's n samples iq (sample_rate,
 * center_hz, cfg) chosen as above with u0, a uniform draw from [0, 1), and
 * compares it with the host's result.
 * 0 with out filled, or a science error (OZ_SCI_*: a unit the kernel
 * refuses, memory) with why. */
int oz_spot_check(const oz_sci_config *cfg, const float *iq, size_t n, double sample_rate,
                  double center_hz, const oz_sci_result *host, double u0, oz_spot *out, char *why,
                  size_t whylen);

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
