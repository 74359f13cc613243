/*
 * api.h - what the HTTP layer's files share (internal to scheduler/).
 *
 * http.c owns the libmicrohttpd daemon: it routes each request (method and
 * path, per the table there), bounds and collects its body, authenticates
 * it, applies the rate limits and then calls one handler from api_*.c or
 * units_file.c.  A handler reads the request from an oz_req and queues
 * exactly one response with the oz_reply_* functions; every error reply
 * has API.md's shape {"error": {"code", "message"}} and one log line.
 *
 * Invariants: a handler runs on a pool thread with r->store that thread's
 * own store connection; r->body holds r->len bytes plus a NUL; for host
 * routes r->host is the authenticated host, for account routes
 * r->account_id the authenticated account.
 */
#ifndef OZ_SCHED_API_H
#define OZ_SCHED_API_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>

#include <jansson.h>
#include <microhttpd.h>

#include "auth.h"
#include "cache.h"
#include "conns.h"
#include "jobs.h"
#include "log.h"
#include "metrics.h"
#include "project.h"
#include "ratelimit.h"
#include "store.h"

#define OZ_WORK_BATCH_MAX 64 /* assignments in one reply */

/* The state every request shares; read-only after start except where noted. */
typedef struct oz_server {
    oz_project_config cfg;
    oz_db *db;
    oz_jobs *jobs;
    unsigned char secret[OZ_AUTH_KEY_BYTES];
    int units_fd;            /* DIR/units, opened once (O_DIRECTORY) */
    int stats_fd;            /* DIR/stats (stats.h), made if missing and opened once */
    oz_ratelimit *rl;        /* hosts, accounts, sign-ups, failed auth; its own mutex */
    oz_ratelimit *rl_read;   /* public reads per client address; its own mutex */
    oz_cache *cache;         /* public answers kept read_cache_s (cache.h); its own mutex */
    pthread_key_t store_key; /* each pool thread's oz_store */
    oz_db *read_db;          /* NULL, or the replica the read-only views read */
    pthread_key_t read_key;  /* each pool thread's oz_store of read_db */
    atomic_int inflight;     /* requests begun and not completed */
    atomic_int suspended;    /* requests waiting for the store (oz_req_suspend) */
    atomic_bool stopping;    /* set once by oz_http_stop: no more suspending */
    atomic_bool draining;    /* set once by oz_http_drain */
    bool quiet;
    oz_log_level log_level; /* lines below it are not written (OZ_LOG_OFF when quiet) */
    oz_metrics *metrics;    /* lock-free counters (metrics.h) */
    oz_conns *conns;        /* open connections and their deadlines (conns.h); its own mutex */
    int64_t started;        /* Unix seconds */
} oz_server;

typedef struct oz_req oz_req;
typedef enum MHD_Result (*oz_handler)(oz_req *r);

struct oz_req {
    oz_server *srv;
    struct MHD_Connection *conn;
    const char *method, *url; /* MHD's, valid for the request */
    const void *route;        /* http.c's route, NULL until routed */
    int64_t id;               /* the {id} of the path, or 0 */
    const char *file;         /* the {file} of the path (in url), or NULL */
    oz_store *store;
    int64_t account_id;
    oz_host_auth host;
    char *body; /* small, or the heap once it grows; NUL-terminated */
    size_t len, cap, limit;
    size_t discarded; /* bytes dropped after the limit was passed */
    bool too_large;
    bool replied;                  /* a response is queued */
    bool admitted;                 /* authenticated and charged */
    bool close;                    /* the response says Connection: close */
    enum MHD_Result ret;           /* what the last oz_reply_* returned */
    unsigned status;               /* of the queued response (for /metrics and the log) */
    double t0;                     /* monotonic seconds when the request began */
    oz_handler then;               /* runs when a suspended request is resumed */
    void *work;                    /* the handler's state while suspended */
    void (*work_free)(void *work); /* frees work when the request ends */
    char small[1024];
};

/* For a handler whose store work is queued (oz_store_visit_submit): stops
 * serving r's connection, so that its thread serves others meanwhile,
 * until oz_req_resume(r) - the store's done callback, called once from any
 * thread; then then(r) runs on the connection's thread and replies.  Call
 * it before submitting.  False when the server is stopping (libmicrohttpd
 * must not stop with a connection suspended): then the handler waits for
 * the store itself and replies at once. */
bool oz_req_suspend(oz_req *r, oz_handler then);
void oz_req_resume(void *r);

/* Checks what libmicrohttpd leaves unchecked in a request's framing
 * (http_framing.c): Content-Length, Transfer-Encoding and Host.  True when
 * the request may be served; false once a 400 or 501 is queued, with
 * Connection: close. */
bool oz_req_framing_ok(oz_req *r, const char *version);

/* Replies: each queues the response and returns MHD's verdict (also kept in
 * r->ret).  oz_reply_json steals obj; oz_reply_text takes a malloc'd
 * buffer. */
enum MHD_Result oz_reply_json(oz_req *r, unsigned status, json_t *obj);
enum MHD_Result oz_reply_text(oz_req *r, unsigned status, char *text, size_t len);
enum MHD_Result oz_reply_error(oz_req *r, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The status for a store error (sched_errors.h's table), with why. */
enum MHD_Result oz_reply_store(oz_req *r, int err, const char *why);
/* src itself when it is valid UTF-8 without control characters and fits;
 * otherwise printable ASCII only (anything else becomes '?'), at most
 * len - 1 bytes: what a message may quote of a client's input. */
void oz_reply_clean(char *dst, size_t len, const char *src);
/* That status alone, and API.md's error code for a status. */
unsigned oz_reply_store_status(int err);
const char *oz_reply_code(unsigned status);
/* The answer to a public read that is the same for everyone for a moment:
 * the server's kept copy under key (cache.h) while younger than
 * read_cache_s, else made by make(r, arg, &obj) - 0 with a JSON object, or
 * -1 with an error queued (not kept) - then kept and sent. */
enum MHD_Result oz_reply_cached(oz_req *r, const char *key,
                                int (*make)(oz_req *r, const void *arg, json_t **out),
                                const void *arg);
/* The same kept answer as a JSON object, for a caller that draws it
 * (the pages): 0 with *out (a new reference), or -1 with an error queued. */
int oz_reply_cached_json(oz_req *r, const char *key,
                         int (*make)(oz_req *r, const void *arg, json_t **out), const void *arg,
                         json_t **out);
/* GET /api/v1/status's object (its make function, kept under "status"). */
int oz_api_status_make(oz_req *r, const void *arg, json_t **out);
/* Logs a failed request as oz_reply_error does, for an answer made
 * otherwise (an HTML error page). */
void oz_reply_note_failure(oz_req *r, unsigned status, const char *message);
/* 429 with Retry-After. */
enum MHD_Result oz_reply_limited(oz_req *r, int retry_after);
/* Queues a response the caller made (and destroys it): for bodies other
 * than JSON (pages, /metrics).  NULL resp: MHD_NO. */
enum MHD_Result oz_reply_response(oz_req *r, unsigned status, struct MHD_Response *resp);

/* The body as a JSON object: NULL after a 400 has been queued (malformed,
 * invalid UTF-8, not an object, duplicate keys, keys other than `allowed`,
 * a NULL-terminated list).  Flags: OZ_REQ_EMPTY_OK, an empty body is {};
 * OZ_REQ_ALLOW_NUL, strings may hold \u0000 (for a caller that reads them
 * with their length and judges them itself, like carried results). */
#define OZ_REQ_EMPTY_OK 1u
#define OZ_REQ_ALLOW_NUL 2u
json_t *oz_req_json(oz_req *r, unsigned flags, const char *const *allowed);
/* Field readers: each returns 0 with the value, 1 when the key is absent
 * and !required, or queues a 400 naming the key and returns -1.  Strings
 * follow text.h's rule with max_chars; numbers must lie in [min, max]. */
int oz_req_str(oz_req *r, const json_t *obj, const char *key, bool required, size_t max_chars,
               const char **out);
int oz_req_int(oz_req *r, const json_t *obj, const char *key, bool required, int64_t min,
               int64_t max, int64_t *out);
int oz_req_num(oz_req *r, const json_t *obj, const char *key, bool required, double min, double max,
               double *out);

/* Query parameters: 0, or -1 with a 400 queued for a parameter not in
 * allowed (NULL-terminated). */
int oz_req_args_check(oz_req *r, const char *const *allowed);
/* limit (1..500, default 50) and after (an opaque cursor); -1 after a 400. */
int oz_req_args_page(oz_req *r, int *limit, const char **after);
/* A query parameter's value, or NULL. */
const char *oz_req_arg(oz_req *r, const char *key);

/* Is r an operator's (loopback, not relayed through a proxy; http.c)? */
bool oz_req_operator(oz_req *r);

/* The calling thread's store connection, opened on first use; NULL after a
 * 503/500 has been queued. */
oz_store *oz_req_store(oz_req *r);
/* The same for a read-only view: a connection to the server's read
 * database (--read-database) when it has one. */
oz_store *oz_req_read_store(oz_req *r);

/* ---- handlers ---- */
enum MHD_Result oz_api_accounts_create(oz_req *r);
enum MHD_Result oz_api_teams_create(oz_req *r);
enum MHD_Result oz_api_teams_join(oz_req *r);
enum MHD_Result oz_api_hosts_create(oz_req *r);
enum MHD_Result oz_api_work(oz_req *r);
enum MHD_Result oz_api_result_put(oz_req *r);
enum MHD_Result oz_api_error_post(oz_req *r);
enum MHD_Result oz_api_status(oz_req *r);
enum MHD_Result oz_api_users_list(oz_req *r);
enum MHD_Result oz_api_users_get(oz_req *r);
enum MHD_Result oz_api_hosts_get(oz_req *r);
enum MHD_Result oz_api_teams_list(oz_req *r);
enum MHD_Result oz_api_teams_get(oz_req *r);
enum MHD_Result oz_api_signals(oz_req *r);
/* GET /api/v1/candidates?order=score&rfi=0|1&dataset=&pixel=&limit=&after=,
 * GET /api/v1/candidates/{id} (API.md). */
enum MHD_Result oz_api_candidates(oz_req *r);
enum MHD_Result oz_api_candidate_get(oz_req *r);
enum MHD_Result oz_units_file_get(oz_req *r);
/* GET /stats/FILE: the statistics exports (stats.h, stats_file.c) */
enum MHD_Result oz_stats_file_get(oz_req *r);
/* the web pages and operators (pages.c, api_web.c; API.md "Web pages") */
enum MHD_Result oz_pages_get(oz_req *r);
/* The HTML 404 page, with the navigation (a GET of a path outside /api/
 * that no route serves). */
enum MHD_Result oz_pages_not_found(oz_req *r);
/* GET /api/v1/units/NAME: one unit, its replicas and signals (API.md). */
enum MHD_Result oz_api_unit_get(oz_req *r);
enum MHD_Result oz_api_metrics(oz_req *r);
enum MHD_Result oz_api_datasets(oz_req *r);
enum MHD_Result oz_api_throughput(oz_req *r);
enum MHD_Result oz_api_hosts_list(oz_req *r);
enum MHD_Result oz_api_users_credit(oz_req *r);
enum MHD_Result oz_api_hosts_credit(oz_req *r);
enum MHD_Result oz_api_teams_credit(oz_req *r);
enum MHD_Result oz_api_users_results(oz_req *r);
enum MHD_Result oz_api_hosts_results(oz_req *r);
enum MHD_Result oz_api_signals_latest(oz_req *r);
enum MHD_Result oz_api_server(oz_req *r);

/* ---- pure pieces, unit-tested ---- */

/* A Range header against a file of `size` bytes.  Returns 1 with
 * [*first, *last] for one satisfiable range ("bytes=N-", "bytes=N-M",
 * "bytes=-N"), 0 when the header should be ignored (absent, malformed,
 * several ranges: the whole file is sent), -1 when unsatisfiable (416). */
int oz_http_range_parse(const char *value, uint64_t size, uint64_t *first, uint64_t *last);
/* Is name a unit file name: [A-Za-z0-9._-]+ ending ".ozwu", not starting
 * with '.', at most OZ_WU_ID_MAX + 5 characters? */
bool oz_units_file_name_valid(const char *name);
/* A positive decimal id (no sign, no leading zero, <= 2^53); 0 otherwise. */
int64_t oz_http_id_parse(const char *s, size_t len);
/* The routing of begin() (http.c) alone: 200 with *id and *file for the
 * route that answers method on url, 405 with allow naming the methods that
 * url answers, or 404.  Pure, so that it can be fuzzed (fuzz_http_path). */
int oz_http_route_status(const char *method, const char *url, int64_t *id, const char **file,
                         char *allow, size_t allowlen);
/* A query parameter's decimal integer in [min, max] (no sign, no space):
 * 0 with *out, or -1. */
int oz_http_int_parse(const char *v, long min, long max, long *out);
/* Is s a paging cursor (1..64 printable ASCII characters, no space)? */
bool oz_http_cursor_valid(const char *s);

#endif
