/*
 * backoff.c - when to call the scheduler again after a failure.
 *
 * BOINC's lesson: a project that comes back after an outage must not be hit
 * by every client at once.  Delays double from backoff_min_s (1 minute by
 * default) to backoff_max_s (4 hours), each stretched by a random factor in
 * [1, 1.5) so clients that failed together drift apart.  The factor only
 * lengthens, so a delay never drops below the minimum and each is at least
 * 4/3 of the one before until the cap: the growth is visible however the
 * jitter falls (the integration test watches it).  The scheduler's own
 * next_rpc_delay and Retry-After are honoured on top (fetch.c takes the later).
 */
#include <math.h>

#include <sodium.h>

#include "worker.h"

double oz_wk_backoff_delay(double min_s, double max_s, unsigned failures, double u)
{
    if (failures == 0)
        return 0;
    if (!(u >= 0 && u < 1))
        u = 0;
    unsigned e = failures - 1;
    if (e > 60)
        e = 60; /* 2^60 minutes is past any cap */
    double d = ldexp(min_s, (int)e) * (1.0 + 0.5 * u);
    if (d > max_s)
        d = max_s;
    if (d < min_s)
        d = min_s;
    return d;
}

double oz_wk_backoff_random(void)
{
    /* sodium_init is idempotent and thread-safe once it returned */
    if (sodium_init() < 0)
        return 0.5;
    return (double)randombytes_uniform(1u << 30) / (double)(1u << 30);
}
