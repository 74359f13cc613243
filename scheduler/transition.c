/*
 * transition.c - the transitioner's rule (transition.h): from the tally of
 * an active unit's replicas to what the store must do.  No SQL here; the
 * store reads the tally and records the answer (store_jobs.c).
 */
#include "transition.h"

#include <stdio.h>
#include <string.h>

void oz_transition_decide(const oz_unit_tally *t, const char *last_error, oz_transition *out)
{
    memset(out, 0, sizeof *out);
    int64_t need = t->target - t->live;
    if (t->errors >= t->max_error) {
        out->kind = OZ_TRANSITION_ERROR;
        snprintf(out->reason, sizeof out->reason,
                 "%lld client errors reached max_error_results %lld; last: %s",
                 (long long)t->errors, (long long)t->max_error,
                 last_error && last_error[0] ? last_error : "(no message)");
    } else if (need > 0 && t->total + need > t->max_total) {
        out->kind = OZ_TRANSITION_ERROR;
        snprintf(out->reason, sizeof out->reason,
                 "no consensus after %lld replicas (max_total_results %lld)", (long long)t->total,
                 (long long)t->max_total);
    } else if (need > 0) {
        out->kind = OZ_TRANSITION_ADD;
        out->add = need;
    }
}
