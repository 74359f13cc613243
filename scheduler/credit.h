/*
 * credit.h - how much a unit is worth, and BOINC's recent average credit.
 * Credit comes from the unit's deterministic FLOP count (never a host's
 * claim): one cobblestone is 1/200 of a day at 1 GFLOPS.  Recent average
 * credit (RAC) decays exponentially with a 7-day half-life.
 */
#ifndef OZ_SCHED_CREDIT_H
#define OZ_SCHED_CREDIT_H

#include <stdint.h>

#define OZ_CREDIT_PER_GFLOPS_DAY 200.0
#define OZ_CREDIT_HALF_LIFE_S (7.0 * 86400.0)

/* Credit for one valid replica of a unit of `flops` floating-point operations. */
double oz_credit_from_flops(uint64_t flops);

/* RAC last updated at `then`, seen at `now` (no new credit): decayed. */
double oz_credit_decay(double rac, int64_t then, int64_t now);

/* RAC (credit per day) after granting `credit` at `now`: decayed to now,
 * plus the impulse's share credit * ln 2 * 86400 / half-life, so that
 * earning R a day steadily converges to a RAC of R. */
double oz_credit_rac_add(double rac, int64_t then, int64_t now, double credit);

#endif
