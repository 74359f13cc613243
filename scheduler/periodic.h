/*
 * periodic.h - a thread that does one thing now and then every interval,
 * with a store connection of its own: the statistics exports (stats.c) and
 * the data lifecycle (lifecycle.c).  It sleeps on a condition variable, so
 * stopping it never waits for an interval, only for the pass under way.
 */
#ifndef OZ_SCHED_PERIODIC_H
#define OZ_SCHED_PERIODIC_H

#include <stddef.h>

#include "log.h"
#include "store.h"

/* One pass: logs its own failures; the next pass comes anyway. */
typedef void (*oz_periodic_fn)(void *arg, oz_store *s);

typedef struct oz_periodic oz_periodic;
/* Starts the thread: fn(arg, s) at once and then every interval_s (> 0).
 * name is for the log line when the thread cannot open its connection. */
int oz_periodic_start(oz_db *db, double interval_s, const char *name, oz_log_level log_level,
                      oz_periodic_fn fn, void *arg, oz_periodic **out, char *why, size_t whylen);
/* Stops it after the pass under way (NULL is fine). */
void oz_periodic_stop(oz_periodic *p);

#endif /* OZ_SCHED_PERIODIC_H */
