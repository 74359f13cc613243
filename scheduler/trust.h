/*
 * trust.h - how far the project believes a host, plain C with no database
 * (DESIGN.md §4b; issue 18).  A host's standing is three numbers kept on
 * its hosts row and moved by the validator and by client errors
 * (store_jobs.c, store_work.c):
 *
 *  - consecutive_valid: results judged VALID in a row; an INVALID verdict
 *    or a client error sets it back to 0.  A host with at least the
 *    project's adaptive_trust_after of them is trusted.
 *  - n_valid, n_invalid, n_error: all-time counts, its error rate.
 *  - quota_halvings: how many times its daily quota is halved (BOINC's
 *    daily_result_quota): each INVALID or error adds one (up to
 *    OZ_TRUST_HALVINGS_MAX), each VALID takes one away (down to 0), so a
 *    broken or cheating host's quota falls to one replica a day at once
 *    and comes back by doubling as its results turn good.
 *
 * Adaptive replication (a dataset loaded with --adaptive): the first
 * replica of a unit that goes to a trusted host may go out alone, unless
 * the project's random floor (adaptive_replicate_floor) picks the unit for
 * replication anyway; an untrusted host's unit is always replicated.  A
 * unit out alone is validated alone once its known-answer checks pass
 * (canary.h), and replicated as usual otherwise.
 */
#ifndef OZ_SCHED_TRUST_H
#define OZ_SCHED_TRUST_H

#include <stdbool.h>
#include <stdint.h>

#define OZ_TRUST_HALVINGS_MAX 30 /* enough to take any quota down to 1 */

/* The project's adaptive-replication keys (project.json). */
typedef struct oz_trust_policy {
    int trust_after;        /* consecutive valid results that make a host trusted */
    double replicate_floor; /* 0..1: fraction of a trusted host's units replicated anyway */
} oz_trust_policy;

/* Whether a host with consecutive_valid results valid in a row is trusted. */
bool oz_trust_trusted(const oz_trust_policy *p, int64_t consecutive_valid);

/* Whether the first replica of an adaptive unit, about to go to a host with
 * consecutive_valid valid results in a row, goes out alone; u is a fresh
 * uniform draw from [0, 1) (the random floor: below replicate_floor the
 * unit is replicated whoever gets it). */
bool oz_trust_alone(const oz_trust_policy *p, int64_t consecutive_valid, double u);

/* What dispatch does about an adaptive replication unit as one of its
 * replicas goes to a host (the store reads the facts and records this). */
typedef enum oz_trust_first {
    OZ_TRUST_FIRST_NONE,      /* nothing: not adaptive, decided, or not its first replica */
    OZ_TRUST_FIRST_ALONE,     /* the unit runs alone (single 1, target 1), its other
                               * unsent replicas withdrawn */
    OZ_TRUST_FIRST_REPLICATE, /* a unit that was out alone is replicated (single 0,
                               * its dataset's number of replicas) */
} oz_trust_first;
/* The rule: only a unit of an adaptive dataset (adaptive), not replicated
 * for good (single 2), with no other replica out or holding a result that
 * counts (others 0) - its first - is decided, by oz_trust_alone for a host
 * with consecutive_valid valid results in a row (u as there); a unit out
 * alone (single 1) whose replica goes to a host not trusted is replicated. */
oz_trust_first oz_trust_first_replica(const oz_trust_policy *p, bool adaptive, int single,
                                      int64_t others, int64_t consecutive_valid, double u);

/* The daily quota `full` halved `halvings` times, never below 1 (a host
 * keeps one replica a day to show it has recovered). */
int64_t oz_trust_quota(int64_t full, int64_t halvings);

#endif
