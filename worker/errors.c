/*
 * errors.c - the worker's error codes as sentences (failing with one is
 * oz_wk_fail, worker.h), and the single-line log (DESIGN.md §6: logs are one
 * line each, to stderr, so journald and `2>file` both keep them whole).
 *
 * Also the two clocks and the interruptible nap the loop and the compute
 * threads share: the monotonic clock schedules, the wall clock is only ever
 * shown to people or sent to the scheduler.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "worker.h"

const char *oz_wk_strerror(int err)
{
    switch (err) {
    case OZ_WK_OK:
        return "success";
    case OZ_WK_ENOMEM:
        return "out of memory";
    case OZ_WK_EINVAL:
        return "invalid argument or preference";
    case OZ_WK_EIO:
        return "input/output error";
    case OZ_WK_EFORMAT:
        return "malformed state file or scheduler reply";
    case OZ_WK_ENET:
        return "the scheduler could not be reached";
    case OZ_WK_EHTTP:
        return "the scheduler refused the request";
    case OZ_WK_EHASH:
        return "the download does not match its SHA-256";
    case OZ_WK_ESTATE:
        return "the state directory is not in the right state";
    case OZ_WK_ESTOPPED:
        return "stopped";
    case OZ_WK_ESCIENCE:
        return "the unit could not be searched";
    default:
        return "unknown error";
    }
}

void oz_wk_log(const char *fmt, ...)
{
    char stamp[32] = "";
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm))
        strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* one line whatever the message holds */
    for (char *p = line; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    fprintf(stderr, "%s ozma-worker: %s\n", stamp, line);
    fflush(stderr);
}

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
