/*
 * trust.c - the trust rule (trust.h): when a host is trusted, when a unit
 * may go out alone, and a host's daily quota after its bad results.  The
 * counters themselves are moved in SQL where the verdicts are written
 * (store_jobs.c) and where client errors arrive (store_work.c).
 */
#include "trust.h"

bool oz_trust_trusted(const oz_trust_policy *p, int64_t consecutive_valid)
{
    return p->trust_after > 0 && consecutive_valid >= p->trust_after;
}

bool oz_trust_alone(const oz_trust_policy *p, int64_t consecutive_valid, double u)
{
    return oz_trust_trusted(p, consecutive_valid) && u >= p->replicate_floor;
}

oz_trust_first oz_trust_first_replica(const oz_trust_policy *p, bool adaptive, int single,
                                      int64_t others, int64_t consecutive_valid, double u)
{
    if (!adaptive || single == 2 || others > 0)
        return OZ_TRUST_FIRST_NONE;
    if (oz_trust_alone(p, consecutive_valid, u))
        return OZ_TRUST_FIRST_ALONE;
    return single == 1 ? OZ_TRUST_FIRST_REPLICATE : OZ_TRUST_FIRST_NONE;
}

int64_t oz_trust_quota(int64_t full, int64_t halvings)
{
    if (full <= 1)
        return full;
    if (halvings <= 0)
        return full;
    if (halvings >= 62)
        return 1;
    int64_t q = full >> halvings;
    return q > 1 ? q : 1;
}
