/*
 * jobs.h - the server's background work: the transitioner (deadlines,
 * reissue, units ending in error), the validator (quorum, canonical result
 * by science/ compare, credit) and the assimilator (canonical signals into
 * the signals table), plus the WAL checkpointer.  Each is one thread with its own store connection,
 * woken by a timer and by oz_jobs_kick() when an upload or error report
 * arrives; each step is one short transaction, so a crash at any point
 * loses nothing and counts nothing twice.
 */
#ifndef OZ_SCHED_JOBS_H
#define OZ_SCHED_JOBS_H

#include <stddef.h>

#include "log.h"
#include "store.h"

typedef struct oz_jobs oz_jobs;

typedef struct oz_jobs_opts {
    oz_db *db;
    double tick_s; /* timer period of every job (deadlines are checked this often); 0: 1 s */
    /* Log lines (log.h) go to stderr at log_level and above, none when
     * quiet. */
    int quiet;
    oz_log_level log_level;
    const char *units_dir; /* the project's units/: the validator's spot checks read them */
    /* How the assimilator groups signals into candidates (project.json);
     * NULL: the defaults. */
    const oz_cand_config *cand;
} oz_jobs_opts;

int oz_jobs_start(const oz_jobs_opts *o, oz_jobs **out, char *why, size_t whylen);
/* One job's health (a copy, taken under the jobs' lock). */
#define OZ_JOBS_COUNT 4
typedef struct oz_job_health {
    const char *name;      /* "transitioner", "validator", "assimilator", "checkpointer" */
    int64_t last_pass;     /* Unix time its last pass ended; 0 until the first */
    uint64_t passes, done; /* passes made, items done in them */
    uint64_t errors;       /* failed steps */
    int64_t last_error_at; /* Unix time of the last failure; 0: none */
    char last_error[256];
} oz_job_health;

/* Copies each job's health into h (for /metrics and the status page). */
void oz_jobs_health(oz_jobs *j, oz_job_health h[OZ_JOBS_COUNT]);
/* Each job's health for the status page, a new object
 * {NAME: {"last_pass", "passes", "done", "errors"[, "last_error",
 * "last_error_at"]}} (times in Unix seconds; last_pass 0 until the first
 * pass ends), or NULL on ENOMEM.  A job whose last_pass falls behind its
 * tick while it has a backlog is stuck, not busy. */
json_t *oz_jobs_health_json(oz_jobs *j);

/* Something changed (a result or error arrived): run the jobs now. */
void oz_jobs_kick(oz_jobs *j);
/* Stops the threads after their current transaction and frees j. */
void oz_jobs_stop(oz_jobs *j);

#endif
