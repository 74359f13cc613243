/*
 * transition.h - the transitioner's rule, plain C with no database: what
 * happens to an active unit given the tally of its replicas (BOINC's
 * transitioner: max_error_results, max_total_results, the target number of
 * live replicas).  store_jobs.c reads the tally, asks this, and records the
 * answer.
 */
#ifndef OZ_SCHED_TRANSITION_H
#define OZ_SCHED_TRANSITION_H

#include <stddef.h>
#include <stdint.h>

/* An active unit's replicas, as the transitioner counts them. */
typedef struct oz_unit_tally {
    int64_t target;    /* live replicas the unit should have (its quorum, or more) */
    int64_t max_error; /* the dataset's max_error_results */
    int64_t max_total; /* the dataset's max_total_results */
    int64_t total;     /* replicas made so far */
    int64_t errors;    /* of them, ended in a client error */
    int64_t live;      /* unsent, in progress, or returned and still counting toward a quorum */
} oz_unit_tally;

typedef enum oz_transition_kind {
    OZ_TRANSITION_NONE,  /* enough replicas live: nothing to do */
    OZ_TRANSITION_ADD,   /* make `add` more replicas */
    OZ_TRANSITION_ERROR, /* the unit ends in error, for `reason` */
} oz_transition_kind;

typedef struct oz_transition {
    oz_transition_kind kind;
    int64_t add;
    char reason[320]; /* ERROR: why, for the operator; `last_error` quoted */
} oz_transition;

/* The rule: max_error_results reached ends the unit (quoting last_error,
 * the newest client error, or "(no message)"); else replicas short of the
 * target are added, unless that would pass max_total_results, which ends
 * the unit for lack of consensus. */
void oz_transition_decide(const oz_unit_tally *t, const char *last_error, oz_transition *out);

#endif
