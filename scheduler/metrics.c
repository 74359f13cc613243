/*
 * metrics.c - the server's counters, histograms and recent errors, and
 * their Prometheus text exposition (metrics.h explains the model).
 *
 * Layout: requests[route][status slot] and, per histogram, counts per
 * bucket (not cumulative; the exposition sums them), the observation count
 * and the sum in microseconds, all _Atomic uint64_t updated with relaxed
 * additions.  A status outside the fixed slot table is counted under
 * code="other".  The exposition writes only series that have been seen
 * (a zero request counter is left out), all of a histogram's buckets, and
 * the gauges, into one growing buffer.
 */
#include "metrics.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const unsigned status_slots[] = {200, 204, 206, 304, 400, 401, 403, 404,
                                        405, 409, 413, 416, 429, 500, 503};
#define NSLOTS (sizeof status_slots / sizeof status_slots[0] + 2) /* + other + 0 */
#define SLOT_OTHER (NSLOTS - 2)
#define SLOT_NONE (NSLOTS - 1) /* the connection closed before an answer */

static const double bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                0.1,    0.25,  0.5,    1,     2.5,  5,     10};
#define NBUCKETS (sizeof bounds / sizeof bounds[0] + 1) /* + Inf */

static const char *const hist_names[OZ_HIST_COUNT] = {"ozma_dispatch_seconds",
                                                      "ozma_upload_seconds"};
static const char *const hist_help[OZ_HIST_COUNT] = {
    "Time to answer POST /api/v1/work (work dispatch).",
    "Time to answer PUT /api/v1/replicas/{id}/result (result upload, until durable).",
};

struct hist {
    _Atomic uint64_t buckets[NBUCKETS];
    _Atomic uint64_t count, sum_us;
};

struct error_note {
    int64_t time;
    unsigned status;
    char method[16], path[128], message[256];
};

struct oz_metrics {
    size_t nroutes;                   /* + 1 row for unmatched requests */
    const char **methods, **patterns; /* [nroutes], borrowed strings */
    int64_t started;
    _Atomic uint64_t (*requests)[NSLOTS]; /* [nroutes + 1][NSLOTS] */
    struct hist hist[OZ_HIST_COUNT];
    _Atomic uint64_t results[2]; /* accepted: [0] by PUT, [1] in work requests */
    _Atomic uint64_t conns[OZ_CONN_EVENTS];
    pthread_mutex_t errors_lock; /* guards errors, nerrors, next_error */
    struct error_note errors[OZ_METRICS_ERRORS];
    size_t nerrors, next_error;
};

int oz_metrics_new(size_t n, int64_t started, oz_metrics **out)
{
    *out = NULL;
    oz_metrics *m = calloc(1, sizeof *m);
    if (!m)
        return -1;
    m->requests = calloc(n + 1, sizeof *m->requests);
    m->methods = calloc(n + 1, sizeof *m->methods);
    m->patterns = calloc(n + 1, sizeof *m->patterns);
    if (!m->requests || !m->methods || !m->patterns ||
        pthread_mutex_init(&m->errors_lock, NULL) != 0) {
        free(m->requests);
        free(m->methods);
        free(m->patterns);
        free(m);
        return -1;
    }
    for (size_t r = 0; r <= n; r++)
        for (size_t k = 0; k < NSLOTS; k++)
            atomic_init(&m->requests[r][k], 0);
    for (size_t h = 0; h < OZ_HIST_COUNT; h++) {
        for (size_t b = 0; b < NBUCKETS; b++)
            atomic_init(&m->hist[h].buckets[b], 0);
        atomic_init(&m->hist[h].count, 0);
        atomic_init(&m->hist[h].sum_us, 0);
    }
    m->nroutes = n;
    m->started = started;
    *out = m;
    return 0;
}

void oz_metrics_route_label(oz_metrics *m, size_t i, const char *method, const char *pattern)
{
    if (i < m->nroutes) {
        m->methods[i] = method;
        m->patterns[i] = pattern;
    }
}

void oz_metrics_free(oz_metrics *m)
{
    if (!m)
        return;
    pthread_mutex_destroy(&m->errors_lock);
    free(m->requests);
    free(m->methods);
    free(m->patterns);
    free(m);
}

static size_t slot_of(unsigned status)
{
    if (status == 0)
        return SLOT_NONE;
    for (size_t i = 0; i < SLOT_OTHER; i++)
        if (status_slots[i] == status)
            return i;
    return SLOT_OTHER;
}

void oz_metrics_request(oz_metrics *m, size_t route, unsigned status)
{
    if (route > m->nroutes)
        route = m->nroutes;
    atomic_fetch_add_explicit(&m->requests[route][slot_of(status)], 1, memory_order_relaxed);
}

uint64_t oz_metrics_count(const oz_metrics *m, size_t route, unsigned status)
{
    if (route > m->nroutes)
        route = m->nroutes;
    return atomic_load_explicit(&m->requests[route][slot_of(status)], memory_order_relaxed);
}

void oz_metrics_results(oz_metrics *m, bool carried, uint64_t n)
{
    atomic_fetch_add_explicit(&m->results[carried], n, memory_order_relaxed);
}

void oz_metrics_connection(oz_metrics *m, enum oz_metrics_conn what)
{
    if (what >= 0 && what < OZ_CONN_EVENTS)
        atomic_fetch_add_explicit(&m->conns[what], 1, memory_order_relaxed);
}

void oz_metrics_observe(oz_metrics *m, enum oz_metrics_hist h, double seconds)
{
    if (h < 0 || h >= OZ_HIST_COUNT)
        return;
    if (!(seconds >= 0))
        seconds = 0;
    size_t b = 0;
    while (b < NBUCKETS - 1 && seconds > bounds[b])
        b++;
    struct hist *x = &m->hist[h];
    atomic_fetch_add_explicit(&x->buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&x->count, 1, memory_order_relaxed);
    double us = seconds * 1e6;
    atomic_fetch_add_explicit(&x->sum_us, us < 1e15 ? (uint64_t)us : (uint64_t)1e15,
                              memory_order_relaxed);
}

static void copy(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src ? src : "");
}

void oz_metrics_error_note(oz_metrics *m, int64_t now, unsigned status, const char *method,
                           const char *path, const char *message)
{
    pthread_mutex_lock(&m->errors_lock);
    struct error_note *e = &m->errors[m->next_error];
    e->time = now;
    e->status = status;
    copy(e->method, sizeof e->method, method);
    copy(e->path, sizeof e->path, path);
    copy(e->message, sizeof e->message, message);
    m->next_error = (m->next_error + 1) % OZ_METRICS_ERRORS;
    if (m->nerrors < OZ_METRICS_ERRORS)
        m->nerrors++;
    pthread_mutex_unlock(&m->errors_lock);
}

static uint64_t requests_total(const oz_metrics *m)
{
    uint64_t t = 0;
    for (size_t r = 0; r <= m->nroutes; r++)
        for (size_t k = 0; k < NSLOTS; k++)
            t += atomic_load_explicit(&m->requests[r][k], memory_order_relaxed);
    return t;
}

json_t *oz_metrics_json(oz_metrics *m)
{
    json_t *errors = json_array();
    if (!errors)
        return NULL;
    pthread_mutex_lock(&m->errors_lock);
    for (size_t i = 0; i < m->nerrors; i++) {
        const struct error_note *e =
            &m->errors[(m->next_error + OZ_METRICS_ERRORS - 1 - i) % OZ_METRICS_ERRORS];
        if (json_array_append_new(errors,
                                  json_pack("{sI sI ss ss ss}", "time", (json_int_t)e->time,
                                            "status", (json_int_t)e->status, "method", e->method,
                                            "path", e->path, "message", e->message))) {
            pthread_mutex_unlock(&m->errors_lock);
            json_decref(errors);
            return NULL;
        }
    }
    pthread_mutex_unlock(&m->errors_lock);
    return json_pack("{sI sI so}", "started", (json_int_t)m->started, "requests",
                     (json_int_t)requests_total(m), "errors", errors);
}

/* ---- exposition ---------------------------------------------------------------------------- */

struct buf {
    char *text;
    size_t len, cap;
    bool failed;
};

static void add(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct buf *b, const char *fmt, ...)
{
    if (b->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->text + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = true;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap * 2 + (size_t)n;
        char *t = cap < ((size_t)1 << 26) ? realloc(b->text, cap) : NULL;
        if (!t) {
            b->failed = true;
            return;
        }
        b->text = t;
        b->cap = cap;
    }
}

static void help(struct buf *b, const char *name, const char *type, const char *text)
{
    add(b, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

static void gauge(struct buf *b, const char *name, const char *text, double v)
{
    help(b, name, "gauge", text);
    add(b, "%s %.17g\n", name, v);
}

/* The ozma_job_* series: one per job for each field of its health. */
static const struct {
    const char *name, *type, *help;
} job_series[] = {
    {"ozma_job_passes_total", "counter", "Passes each background job made over its work."},
    {"ozma_job_items_total", "counter",
     "Items (units, replicas, checkpoints) each background job handled."},
    {"ozma_job_errors_total", "counter",
     "Failed steps of each background job (the status page shows the last)."},
    {"ozma_job_last_pass_seconds", "gauge",
     "When each job last finished a pass, Unix seconds (0: not yet); a job whose last pass lags "
     "its tick while it has a backlog is stuck."},
};

static long long job_field(const oz_job_health *h, size_t series)
{
    switch (series) {
    case 0:
        return (long long)h->passes;
    case 1:
        return (long long)h->done;
    case 2:
        return (long long)h->errors;
    default:
        return (long long)h->last_pass;
    }
}

int oz_metrics_render(oz_metrics *m, int inflight, const oz_job_health jobs[OZ_JOBS_COUNT],
                      const oz_store_gauges *g, int64_t now, char **text, size_t *len)
{
    struct buf b = {malloc(16384), 0, 16384, false};
    if (!b.text)
        return -1;
    b.text[0] = '\0';

    help(&b, "ozma_http_requests_total", "counter",
         "HTTP requests answered, by method, route pattern and status code.");
    for (size_t r = 0; r <= m->nroutes; r++)
        for (size_t k = 0; k < NSLOTS; k++) {
            uint64_t v = atomic_load_explicit(&m->requests[r][k], memory_order_relaxed);
            if (!v)
                continue;
            char code[16];
            if (k < SLOT_OTHER)
                snprintf(code, sizeof code, "%u", status_slots[k]);
            else
                snprintf(code, sizeof code, "%s", k == SLOT_OTHER ? "other" : "none");
            add(&b, "ozma_http_requests_total{method=\"%s\",route=\"%s\",code=\"%s\"} %llu\n",
                r < m->nroutes && m->methods[r] ? m->methods[r] : "any",
                r == m->nroutes  ? "unmatched"
                : m->patterns[r] ? m->patterns[r]
                                 : "?",
                code, (unsigned long long)v);
        }
    gauge(&b, "ozma_http_requests_in_flight", "HTTP requests begun and not yet completed.",
          inflight);
    help(&b, "ozma_results_accepted_total", "counter",
         "Results newly accepted, by how they came: a PUT upload, or carried in a work request.");
    for (int k = 0; k < 2; k++)
        add(&b, "ozma_results_accepted_total{via=\"%s\"} %llu\n", k ? "work" : "upload",
            (unsigned long long)atomic_load_explicit(&m->results[k], memory_order_relaxed));
    static const char *const conn_reasons[OZ_CONN_EVENTS] = {"address_limit", "limit", "deadline"};
    help(&b, "ozma_connections_ended_total", "counter",
         "Connections ended before a request was served: refused with 503 at accept because "
         "their address (address_limit) or the server (limit) had all the connections allowed, "
         "or closed because their headers or body came too slowly (deadline).");
    for (int k = 0; k < OZ_CONN_EVENTS; k++)
        add(&b, "ozma_connections_ended_total{reason=\"%s\"} %llu\n", conn_reasons[k],
            (unsigned long long)atomic_load_explicit(&m->conns[k], memory_order_relaxed));

    for (size_t h = 0; h < OZ_HIST_COUNT; h++) {
        const struct hist *x = &m->hist[h];
        help(&b, hist_names[h], "histogram", hist_help[h]);
        uint64_t cum = 0;
        for (size_t i = 0; i < NBUCKETS; i++) {
            cum += atomic_load_explicit(&x->buckets[i], memory_order_relaxed);
            if (i < NBUCKETS - 1)
                add(&b, "%s_bucket{le=\"%g\"} %llu\n", hist_names[h], bounds[i],
                    (unsigned long long)cum);
            else
                add(&b, "%s_bucket{le=\"+Inf\"} %llu\n", hist_names[h], (unsigned long long)cum);
        }
        add(&b, "%s_sum %.6f\n%s_count %llu\n", hist_names[h],
            (double)atomic_load_explicit(&x->sum_us, memory_order_relaxed) / 1e6, hist_names[h],
            (unsigned long long)cum);
    }

    gauge(&b, "ozma_start_time_seconds", "When this server started, Unix seconds.",
          (double)m->started);
    gauge(&b, "ozma_uptime_seconds", "Seconds since this server started.",
          (double)(now - m->started));
    for (size_t f = 0; jobs && f < sizeof job_series / sizeof job_series[0]; f++) {
        help(&b, job_series[f].name, job_series[f].type, job_series[f].help);
        for (int k = 0; k < OZ_JOBS_COUNT; k++)
            add(&b, "%s{job=\"%s\"} %lld\n", job_series[f].name, jobs[k].name,
                job_field(&jobs[k], f));
    }
    gauge(&b, "ozma_database_up", "1 when the gauges below could be read from the database.",
          g ? 1 : 0);
    if (g) {
        static const char *const ustate[] = {"active", "validated", "error"};
        static const char *const rstate[] = {"unsent", "in_progress", "over"};
        help(&b, "ozma_units", "gauge", "Work units by state.");
        for (int i = 0; i < 3; i++)
            add(&b, "ozma_units{state=\"%s\"} %lld\n", ustate[i], (long long)g->units[i]);
        gauge(&b, "ozma_unit_files_bad",
              "Units whose file on the server does not match its SHA-256 (withheld; "
              "ozma-server verify).",
              (double)g->units_file_bad);
        help(&b, "ozma_replicas", "gauge", "Replicas by state.");
        for (int i = 0; i < 3; i++)
            add(&b, "ozma_replicas{state=\"%s\"} %lld\n", rstate[i], (long long)g->replicas[i]);
        help(&b, "ozma_backlog", "gauge", "Units waiting for each background job.");
        add(&b, "ozma_backlog{job=\"transitioner\"} %lld\n", (long long)g->need_transition);
        add(&b, "ozma_backlog{job=\"validator\"} %lld\n", (long long)g->need_validate);
        add(&b, "ozma_backlog{job=\"assimilator\"} %lld\n", (long long)g->need_assimilate);
        gauge(&b, "ozma_hosts_active", "Hosts that contacted the scheduler in the last 24 hours.",
              (double)g->hosts_active);
        gauge(&b, "ozma_hosts", "Hosts registered.", (double)g->hosts);
        gauge(&b, "ozma_accounts", "Accounts.", (double)g->accounts);
        gauge(&b, "ozma_teams", "Teams.", (double)g->teams);
        gauge(&b, "ozma_datasets", "Datasets loaded.", (double)g->datasets);
        gauge(&b, "ozma_signals", "Canonical signals in the signals table.", (double)g->signals);
        gauge(&b, "ozma_replicas_per_validated_unit",
              "Successful results per validated unit: the replication factor.",
              g->units[1] > 0 ? (double)g->results_validated / (double)g->units[1] : 0.0);
        gauge(&b, "ozma_hosts_trusted",
              "Hosts with adaptive_trust_after or more valid results in a row.",
              (double)g->hosts_trusted);
        help(&b, "ozma_canary_results_total", "counter",
             "Results of units with a hidden canary, by whether they reported it.");
        add(&b, "ozma_canary_results_total{outcome=\"found\"} %lld\n",
            (long long)g->canaries_found);
        add(&b, "ozma_canary_results_total{outcome=\"missed\"} %lld\n",
            (long long)g->canaries_missed);
        help(&b, "ozma_spot_checks_total", "counter", "Spot checks of results, by outcome.");
        add(&b, "ozma_spot_checks_total{outcome=\"passed\"} %lld\n", (long long)g->spot_passed);
        add(&b, "ozma_spot_checks_total{outcome=\"failed\"} %lld\n", (long long)g->spot_failed);
        help(&b, "ozma_spot_check_cpu_seconds_total", "counter",
             "Server CPU time spent on spot checks.");
        add(&b, "ozma_spot_check_cpu_seconds_total %.6f\n", g->spot_cpu_s);
        help(&b, "ozma_credit_granted_total", "counter",
             "Credit granted to accounts, all time (cobblestones).");
        add(&b, "ozma_credit_granted_total %.17g\n", g->credit_total);
        help(&b, "ozma_database_bytes", "gauge", "Size of the database files.");
        add(&b, "ozma_database_bytes{file=\"db\"} %lld\n", (long long)g->db_bytes);
        add(&b, "ozma_database_bytes{file=\"wal\"} %lld\n", (long long)g->log_bytes);
        help(&b, "ozma_database_write_conflicts_total", "counter",
             "This process's write transactions that lost a conflict with another scheduler's "
             "(PostgreSQL: a serialization failure, a deadlock) and ran again.");
        add(&b, "ozma_database_write_conflicts_total %lld\n", (long long)g->write_conflicts);
    }
    if (b.failed) {
        free(b.text);
        return -1;
    }
    *text = b.text;
    *len = b.len;
    return 0;
}
