/*
 * http.h - the scheduler's HTTP server (API.md), as one handle.
 *
 * oz_http_start binds the address, starts libmicrohttpd's thread pool and
 * returns; requests are then served until oz_http_drain (stop accepting,
 * let requests in flight finish) and oz_http_stop.  The server borrows the
 * database handle, the jobs and the configuration, which must outlive it.
 * Each pool thread opens its own store connection on its first request and
 * closes it when the thread ends (STYLE.md §9).
 */
#ifndef OZ_SCHED_HTTP_H
#define OZ_SCHED_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "auth.h"
#include "jobs.h"
#include "log.h"
#include "project.h"
#include "store.h"

typedef struct oz_http oz_http;

typedef struct oz_http_opts {
    const char *dir;              /* the project directory (its units/ are served) */
    const oz_project_config *cfg; /* copied; bind, port, http_threads as given here win */
    oz_db *db;                    /* borrowed */
    /* borrowed, may be NULL: the read-only views (API.md "Read-only", "Web
     * pages and operators", the pages) read here instead, a streaming
     * replica of db */
    oz_db *read_db;
    oz_jobs *jobs;                /* borrowed, may be NULL: kicked when results arrive */
    unsigned char secret[OZ_AUTH_KEY_BYTES];
    bool quiet;             /* no log lines at all (log_level is then OZ_LOG_OFF) */
    oz_log_level log_level; /* log.h: lines below it are not written */
} oz_http_opts;

int oz_http_start(const oz_http_opts *o, oz_http **out, char *why, size_t whylen);
/* The port actually bound (the configured one, or the one chosen for 0). */
int oz_http_port(const oz_http *h);
/* Stops accepting connections, answers new requests on open connections
 * with 503, and waits up to timeout_s for the requests in flight. */
void oz_http_drain(oz_http *h, double timeout_s);
/* Stops the threads (closing their store connections) and frees h. */
void oz_http_stop(oz_http *h);

#endif
