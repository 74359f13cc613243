/*
 * metrics.h - what the server counts about itself, for `GET /metrics`
 * (Prometheus text format 0.0.4) and the status page.
 *
 * The server owns one oz_metrics (in oz_server); every pool thread records
 * into it.  Recording a request is a few relaxed atomic additions into
 * fixed arrays - no lock, no allocation - because it sits on the path of
 * every work request (the scheduler serves >= 10,000 a second).  Counters
 * only grow; a scrape reads them without stopping writers, so one scrape
 * may see a request's count without its latency (Prometheus tolerates
 * that).  The few things that are not counters - the latest server errors
 * for the status page - sit behind the `errors_lock` mutex and are touched
 * only when a 5xx is answered.
 *
 * Gauges about the project (units by state, backlogs, hosts, credit) are
 * not kept here: they are read from the database at scrape time
 * (oz_store_gauges_read) and passed to oz_metrics_render.
 */
#ifndef OZ_SCHED_METRICS_H
#define OZ_SCHED_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "jobs.h"
#include "store.h"

typedef struct oz_metrics oz_metrics;

/* The latency histograms (seconds, from the request's headers being read
 * to its answer being handed to the socket: libmicrohttpd's "completed"). */
enum oz_metrics_hist {
    OZ_HIST_DISPATCH, /* POST /api/v1/work */
    OZ_HIST_UPLOAD,   /* PUT /api/v1/replicas/{id}/result */
    OZ_HIST_COUNT
};

#define OZ_METRICS_ERRORS 32 /* server errors kept for the status page */

/* Counters for n routes: requests are counted per route index 0..n-1, and
 * index n for requests that matched no route.  started: Unix seconds. */
int oz_metrics_new(size_t n, int64_t started, oz_metrics **out);
/* Route i's labels (borrowed: string literals, or strings that outlive m);
 * unlabelled routes show as method "any", route "?". */
void oz_metrics_route_label(oz_metrics *m, size_t i, const char *method, const char *pattern);
void oz_metrics_free(oz_metrics *m);

/* One request answered with status (0: the connection closed before an
 * answer).  Lock-free. */
void oz_metrics_request(oz_metrics *m, size_t route, unsigned status);
/* n results newly accepted, returned by PUT (carried false) or in a work
 * request (carried true).  Lock-free. */
void oz_metrics_results(oz_metrics *m, bool carried, uint64_t n);
/* Connections the server ended before serving a request (listener.c). */
enum oz_metrics_conn {
    OZ_CONN_REFUSED_ADDR, /* 503 at accept: the address has all it may */
    OZ_CONN_REFUSED_FULL, /* 503 at accept: the server has all it takes */
    OZ_CONN_DEADLINE,     /* closed: headers or body too slow (conns.h) */
    OZ_CONN_EVENTS
};
/* One such connection.  Lock-free. */
void oz_metrics_connection(oz_metrics *m, enum oz_metrics_conn what);
/* One latency observation.  Lock-free. */
void oz_metrics_observe(oz_metrics *m, enum oz_metrics_hist h, double seconds);
/* The number of requests answered with status on route (tests). */
uint64_t oz_metrics_count(const oz_metrics *m, size_t route, unsigned status);

/* Keeps a server error (a log line's fields) for the status page; the
 * oldest of OZ_METRICS_ERRORS is dropped.  Takes a lock: error paths only. */
void oz_metrics_error_note(oz_metrics *m, int64_t now, unsigned status, const char *method,
                           const char *path, const char *message);
/* {"started", "errors": [{"time", "status", "method", "path", "message"}]}
 * newest first, plus "requests": total answered.  NULL when out of memory. */
json_t *oz_metrics_json(oz_metrics *m);

/* The exposition: the counters and histograms, inflight, the background
 * jobs' health (jobs may be NULL: no ozma_job_* series) and the store's
 * gauges (g may be NULL when the database could not be read; then
 * ozma_database_up is 0).  *text is malloc'd. */
int oz_metrics_render(oz_metrics *m, int inflight, const oz_job_health jobs[OZ_JOBS_COUNT],
                      const oz_store_gauges *g, int64_t now, char **text, size_t *len);

#endif
