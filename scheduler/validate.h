/*
 * validate.h - the validator's rule, plain C with no database: BOINC's
 * quorum rule with science/'s result comparison as the equality.  jobs.c
 * reads a batch of units (store.h: oz_store_validate_batch), asks this for
 * each, and has the store record the verdicts.
 *
 * Among a unit's successful results that parse, a result agreed with by at
 * least min_quorum results (itself included; the most agreed-with wins,
 * the first on ties) becomes canonical; results that agree with it are
 * VALID (and earn credit), the others INVALID.  Without such a result every
 * parsed result is INCONCLUSIVE (the unit asks for one more replica) and an
 * unparseable one INVALID.  Once a unit has a canonical result, later
 * results are compared with it alone, and results judged before keep their
 * verdict.
 *
 * Around the verdict, the rest of the quorum rule is here too, so that the
 * store only reads and records: how many results a unit waits for
 * (oz_validate_quorum), when a new result calls the validator
 * (oz_validate_due) and what a unit without consensus asks for
 * (oz_validate_retry).
 */
#ifndef OZ_SCHED_VALIDATE_H
#define OZ_SCHED_VALIDATE_H

#include "store.h"

/* A dataset's analysis configuration (its stored JSON) over the defaults
 * into cfg; OZ_SCHED_EINVAL when it does not parse. */
int oz_validate_config(const char *config_json, oz_sci_config *cfg);

/* Fills states[i] for v->replicas[i] (enum oz_validate_state) and
 * *canonical (a replica id, 0: none); *found and *missed count the results
 * not judged before that report and miss the unit's canary (v->canary_json;
 * one that misses it is INVALID and never counts toward a quorum).  A unit
 * out alone (v->min_quorum 1) gets its single result canonical this way.
 * OZ_SCHED_EINVAL when the unit's analysis configuration or its canary
 * does not parse, OZ_SCHED_ENOMEM. */
int oz_validate_decide(const oz_validate_unit *v, int *states, int64_t *canonical, int *found,
                       int *missed);
/* The same under cfg, v's configuration parsed already (oz_validate_config):
 * the validator parses a dataset's once for the units of a batch. */
int oz_validate_decide_in(const oz_validate_unit *v, const oz_sci_config *cfg, int *states,
                          int64_t *canonical, int *found, int *missed);

/* The successful results a unit waits for before it is validated: the
 * dataset's min_quorum, or one for a unit out alone (single 1, trust.h). */
int oz_validate_quorum(int min_quorum, int single);

/* Whether a unit that has just received a successful result is due for
 * the validator: it is validated already (the late result is checked
 * against the canonical one), or `counting` of its results (successful and
 * not judged invalid, the new one included) make a quorum.  Flagging no
 * sooner spares the jobs a transaction per upload. */
bool oz_validate_due(bool validated, int64_t counting, int quorum);

/* No consensus among v's `nresults` results (BOINC): the unit asks for one
 * result more than it has, and a unit out alone whose result failed its
 * checks (single 1) is replicated for good - single 2, and at least its
 * dataset's target_nresults replicas.  Never lowers v's target. */
void oz_validate_retry(const oz_validate_unit *v, size_t nresults, int64_t *target, int *single);

#endif
