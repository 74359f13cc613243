/*
 * log.c - the worker's log line (DESIGN.md §6: logs are one line each, to
 * stderr, so journald and `2>file` both keep them whole): a UTC timestamp,
 * the program's name, the message with any line breaks flattened.  Called
 * from the loop and from compute threads alike; each line is flushed at
 * once.
 */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "worker.h"

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
