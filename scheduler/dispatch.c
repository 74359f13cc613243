/*
 * dispatch.c - the dispatch rule (dispatch.h): how much work one request
 * may take, and how much a host is believed to be able to hold.  No SQL
 * here; store_dispatch.c reads the host's counts, walks the qualifying
 * replicas and asks this when to stop.
 */
#include "dispatch.h"

#include "trust.h"

int oz_dispatch_cpus(const oz_dispatch_limits *l, int ncpus, int64_t returned)
{
    int64_t n = ncpus > 0 ? ncpus : 1;
    if (n > l->ncpus_max)
        n = l->ncpus_max;
    /* new_host_ncpus + returned, compared without the sum (which could
     * overflow); a negative count (a broken row) earns nothing */
    int64_t earned = returned > 0 ? returned : 0;
    if (n - l->new_host_ncpus > earned)
        n = l->new_host_ncpus + earned;
    return n > 0 ? (int)n : 0;
}

int64_t oz_dispatch_allowed(const oz_dispatch_limits *l, const oz_dispatch_host *h)
{
    int64_t cpus = oz_dispatch_cpus(l, h->ncpus, h->returned);
    int64_t left = (int64_t)l->per_cpu * cpus - h->in_progress;
    if (l->daily_per_cpu > 0) {
        int64_t quota =
            oz_trust_quota((int64_t)l->daily_per_cpu * cpus, h->quota_halvings) - h->sent_today;
        if (quota < left)
            left = quota;
    }
    return left > 0 ? left : 0;
}

void oz_dispatch_begin(oz_dispatch *d, const oz_dispatch_limits *l, const oz_dispatch_host *h,
                       size_t max, double want_s)
{
    int64_t allowed = oz_dispatch_allowed(l, h);
    d->room = (uint64_t)allowed > max ? max : (size_t)allowed;
    int ncpus = h->ncpus > 0 ? h->ncpus : 1;
    d->rate = h->flops * (ncpus < l->ncpus_max ? ncpus : l->ncpus_max);
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
    oz_dispatch_cover(d, unit_flops);
    d->got++;
}

void oz_dispatch_cover(oz_dispatch *d, uint64_t unit_flops)
{
    d->covered_s += d->rate > 0 ? (double)unit_flops / d->rate : d->want_s;
}
