/*
 * clock.c - the two clocks and the interruptible nap that the loop and the
 * compute threads share.  The monotonic clock schedules (retries, status
 * rewrites, checkpoints); the wall clock is only ever shown to people or
 * sent to the scheduler, so a clock step never stalls or hurries the worker.
 * The nap wakes within 50 ms of a stop request, which is what lets SIGTERM
 * end the worker within a second.
 */
#include <time.h>

#include "worker.h"

double oz_wk_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double oz_wk_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void oz_wk_nap(double seconds, const atomic_int *stop, const atomic_int *quit)
{
    double end = oz_wk_mono() + seconds;
    for (;;) {
        if ((stop && atomic_load(stop)) || (quit && atomic_load(quit)))
            return;
        double left = end - oz_wk_mono();
        if (left <= 0)
            return;
        if (left > 0.05)
            left = 0.05;
        struct timespec ts = {0, (long)(left * 1e9)};
        nanosleep(&ts, NULL);
    }
}
