/*
 * dispatch.c - the dispatch rule (dispatch.h): how much work one request
 * may take.  No SQL here; store_work.c walks the qualifying replicas and
 * asks this when to stop.
 */
#include "dispatch.h"

void oz_dispatch_begin(oz_dispatch *d, int64_t in_progress, int cap, size_t max, double want_s,
                       double flops, int ncpus)
{
    d->room = in_progress >= cap ? 0 : (size_t)(cap - in_progress);
    if (d->room > max)
        d->room = max;
    d->rate = flops * (ncpus > 0 ? ncpus : 1);
    d->want_s = want_s;
    d->covered_s = 0;
    d->got = 0;
}

bool oz_dispatch_wants_more(const oz_dispatch *d)
{
    return d->want_s > 0 && d->got < d->room && d->covered_s < d->want_s;
}

void oz_dispatch_take(oz_dispatch *d, uint64_t unit_flops)
{
    d->covered_s += d->rate > 0 ? (double)unit_flops / d->rate : d->want_s;
    d->got++;
}
