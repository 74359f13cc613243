/*
 * http.c - the libmicrohttpd daemon and the life of a request (http.h,
 * api.h).
 *
 * The daemon runs MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL with a
 * thread pool; each pool thread handles its connections start to finish.
 * It accepts none itself: listener.c accepts them, answers those past the
 * connection limits with 503 and hands the rest over; on_connection,
 * on_request and on_completed keep the connection table (conns.h) told of
 * each connection's end and each request's phase - headers in, body in,
 * answered - so that a client too slow with either is closed.
 * libmicrohttpd calls on_request several times per request:
 *
 *  1. headers read (upload size 0, *con_cls NULL): the request context is
 *     made, its framing checked (http_framing.c: conflicting lengths,
 *     transfer codings, Host; 400/501), the request routed (404/405) and
 *     its declared length checked against the route's limit (413); for a
 *     body that may carry results (a result upload or a work request, up
 *     to 4 MiB) declared longer than the JSON limit, or of unknown length,
 *     the token is authenticated (401) and the host's bucket charged (429)
 *     here too.  These answer at once, before the body is read ("early"
 *     response: libmicrohttpd then closes the connection instead of
 *     reading the body).
 *  2. body pieces: appended to the context's buffer, which grows up to the
 *     route's limit and no further; past it the rest is discarded (for a
 *     chunked body with no length) and the request ends in 413, or the
 *     connection is dropped once the excess passes four limits.
 *  3. upload size 0 again: the request is authenticated and charged (if
 *     not done in 1: small bodies are read first so that the answer, even
 *     a 401 or 429, leaves the connection open for the next request), then
 *     the handler runs and queues one response.  A work request or a result
 *     upload instead hands its writes to the store's writer and suspends
 *     the connection (oz_req_suspend), so that its thread serves others
 *     while the writer batches and fsyncs; the writer's done callback
 *     resumes it, and libmicrohttpd calls on_request once more, which runs
 *     the handler's second half (r->then) to reply.
 *
 * on_completed counts the request in the server's metrics (route, status,
 * and the latency of dispatches and uploads: relaxed atomics, metrics.h)
 * and frees the context.  Requests in flight are counted, so
 * oz_http_drain can wait for them after it stops accepting.
 *
 * Store connections: each pool thread's oz_store sits in a pthread key that
 * the server owns; the key's destructor closes it when the thread ends
 * (MHD_stop_daemon joins the pool before the database is closed).
 */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "listener.h"
#include "sched_errors.h"

struct oz_http {
    oz_server srv;
    struct MHD_Daemon *daemon;
    oz_listener *listener; /* accepts for the daemon (listener.h) */
    int port;
};

/* A_OPERATOR: the server's own machine only (operator(), below). */
enum auth { A_NONE, A_ADDR, A_ACCOUNT, A_HOST, A_OPERATOR };

struct route {
    const char *method;  /* "GET" answers HEAD too */
    const char *pattern; /* "/"-separated; "{id}" an id, "{file}" a last segment */
    oz_handler fn;
    enum auth auth;
    bool result_body; /* the result-upload limit instead of the JSON one */
};

static const struct route routes[] = {
    {"POST", "/api/v1/work", oz_api_work, A_HOST, true},
    {"PUT", "/api/v1/replicas/{id}/result", oz_api_result_put, A_HOST, true},
    {"POST", "/api/v1/replicas/{id}/error", oz_api_error_post, A_HOST, false},
    {"GET", "/units/{file}", oz_units_file_get, A_NONE, false},
    {"GET", "/stats/{file}", oz_stats_file_get, A_NONE, false},
    {"POST", "/api/v1/accounts", oz_api_accounts_create, A_ADDR, false},
    {"POST", "/api/v1/teams", oz_api_teams_create, A_ACCOUNT, false},
    {"GET", "/api/v1/teams", oz_api_teams_list, A_NONE, false},
    {"GET", "/api/v1/teams/{id}", oz_api_teams_get, A_NONE, false},
    {"POST", "/api/v1/teams/{id}/join", oz_api_teams_join, A_ACCOUNT, false},
    {"POST", "/api/v1/hosts", oz_api_hosts_create, A_ACCOUNT, false},
    {"GET", "/api/v1/hosts/{id}", oz_api_hosts_get, A_NONE, false},
    {"GET", "/api/v1/status", oz_api_status, A_NONE, false},
    {"GET", "/api/v1/users", oz_api_users_list, A_NONE, false},
    {"GET", "/api/v1/users/{id}", oz_api_users_get, A_NONE, false},
    {"GET", "/api/v1/signals", oz_api_signals, A_NONE, false},
    {"GET", "/api/v1/candidates", oz_api_candidates, A_NONE, false},
    {"GET", "/api/v1/candidates/{id}", oz_api_candidate_get, A_NONE, false},
    /* The web pages and operators (pages.h, api_web.c, metrics.h). */
    {"GET", "/api/v1/datasets", oz_api_datasets, A_NONE, false},
    {"GET", "/api/v1/throughput", oz_api_throughput, A_NONE, false},
    {"GET", "/api/v1/hosts", oz_api_hosts_list, A_NONE, false},
    {"GET", "/api/v1/users/{id}/credit", oz_api_users_credit, A_NONE, false},
    {"GET", "/api/v1/hosts/{id}/credit", oz_api_hosts_credit, A_NONE, false},
    {"GET", "/api/v1/teams/{id}/credit", oz_api_teams_credit, A_NONE, false},
    {"GET", "/api/v1/users/{id}/results", oz_api_users_results, A_NONE, false},
    {"GET", "/api/v1/hosts/{id}/results", oz_api_hosts_results, A_NONE, false},
    {"GET", "/api/v1/signals/latest", oz_api_signals_latest, A_NONE, false},
    {"GET", "/api/v1/units/{file}", oz_api_unit_get, A_NONE, false},
    {"GET", "/api/v1/server", oz_api_server, A_OPERATOR, false},
    {"GET", "/metrics", oz_api_metrics, A_NONE, false},
    {"GET", "/", oz_pages_get, A_NONE, false},
    {"GET", "/users", oz_pages_get, A_NONE, false},
    {"GET", "/users/{id}", oz_pages_get, A_NONE, false},
    {"GET", "/hosts", oz_pages_get, A_NONE, false},
    {"GET", "/hosts/{id}", oz_pages_get, A_NONE, false},
    {"GET", "/teams", oz_pages_get, A_NONE, false},
    {"GET", "/teams/{id}", oz_pages_get, A_NONE, false},
    {"GET", "/signals", oz_pages_get, A_NONE, false},
    {"GET", "/candidates", oz_pages_get, A_NONE, false},
    {"GET", "/candidates/{id}", oz_pages_get, A_NONE, false},
    {"GET", "/status", oz_pages_get, A_NONE, false},
    {"GET", "/unit/{file}", oz_pages_get, A_NONE, false},
    {"GET", "/static/{file}", oz_pages_get, A_NONE, false},
};
#define NROUTES (sizeof routes / sizeof routes[0])

int64_t oz_http_id_parse(const char *s, size_t len)
{
    if (len == 0 || len > 16 || s[0] == '0')
        return 0;
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    return v <= ((int64_t)1 << 53) ? v : 0;
}

static bool match(const char *pat, const char *url, int64_t *id, const char **file)
{
    const char *p = pat, *u = url;
    while (*p && *u) {
        if (*p != '/' || *u != '/')
            return false;
        p++, u++;
        const char *pe = strchr(p, '/'), *ue = strchr(u, '/');
        if (!pe)
            pe = p + strlen(p);
        if (!ue)
            ue = u + strlen(u);
        size_t pl = (size_t)(pe - p), ul = (size_t)(ue - u);
        if (pl == 4 && memcmp(p, "{id}", 4) == 0) {
            if (!(*id = oz_http_id_parse(u, ul)))
                return false;
        } else if (pl == 6 && memcmp(p, "{file}", 6) == 0) {
            if (ul == 0 || *ue)
                return false;
            *file = u;
        } else if (pl != ul || memcmp(p, u, pl) != 0) {
            return false;
        }
        p = pe, u = ue;
    }
    return !*p && !*u;
}

/* The route for method and url with its {id} and {file}, or NULL with
 * allow naming the methods the url does answer (empty: no such url). */
static const struct route *route_find(const char *method, const char *url, int64_t *id,
                                      const char **file, char *allow, size_t allowlen)
{
    const bool head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    if (allowlen)
        allow[0] = '\0';
    for (size_t i = 0; i < NROUTES; i++) {
        int64_t rid = 0;
        const char *rfile = NULL;
        if (!match(routes[i].pattern, url, &rid, &rfile))
            continue;
        if (strcmp(routes[i].method, method) == 0 ||
            (head && strcmp(routes[i].method, "GET") == 0)) {
            *id = rid;
            *file = rfile;
            return &routes[i];
        }
        size_t n = strnlen(allow, allowlen);
        if (n + 1 < allowlen)
            snprintf(allow + n, allowlen - n, "%s%s", n ? ", " : "", routes[i].method);
    }
    return NULL;
}

int oz_http_route_status(const char *method, const char *url, int64_t *id, const char **file,
                         char *allow, size_t allowlen)
{
    *id = 0;
    *file = NULL;
    if (route_find(method, url, id, file, allow, allowlen))
        return 200;
    return allowlen && allow[0] ? 405 : 404;
}

static void store_close_cb(void *p)
{
    oz_store_close(p);
}

/* r's store: this pool thread's connection to db (kept under key). */
static oz_store *req_store_of(oz_req *r, oz_db *db, pthread_key_t key)
{
    if (r->store)
        return r->store;
    oz_store *s = pthread_getspecific(key);
    if (!s) {
        char why[256];
        int rc = oz_store_open(db, &s, why, sizeof why);
        if (rc != 0) {
            oz_reply_store(r, rc == OZ_SCHED_EBUSY ? rc : OZ_SCHED_EDB, why);
            return NULL;
        }
        if (pthread_setspecific(key, s) != 0) {
            oz_store_close(s);
            oz_reply_error(r, 500, "cannot keep a store connection for this thread");
            return NULL;
        }
    }
    return r->store = s;
}

oz_store *oz_req_store(oz_req *r)
{
    return req_store_of(r, r->srv->db, r->srv->store_key);
}

oz_store *oz_req_read_store(oz_req *r)
{
    if (!r->srv->read_db)
        return oz_req_store(r);
    return req_store_of(r, r->srv->read_db, r->srv->read_key);
}

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The deadline of r's connection starts over in phase p (conns.h). */
static void conn_phase(oz_req *r, oz_conn_phase p)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (ci)
        oz_conns_phase(r->srv->conns, ci->connect_fd, p, mono_now());
}

static uint64_t addr_hash(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    return oz_ratelimit_addr_hash(ci ? ci->client_addr : NULL);
}

/* A failed authentication: charged to its address's bucket (fails), 401,
 * or 429 once that bucket is empty.  Always false. */
static bool refuse(oz_req *r, uint64_t fails, const char *why)
{
    int retry = 1;
    if (oz_ratelimit_take(r->srv->rl, fails, mono_now(), &retry))
        oz_reply_error(r, 401, "%s", why);
    else
        oz_reply_limited(r, retry);
    return false;
}

/* Is the request an operator's?  It is when it comes over loopback
 * (127.0.0.0/8, ::1, or 127/8 mapped into IPv6) from this machine and was
 * not relayed: a request carrying Forwarded, X-Forwarded-For or X-Real-IP
 * came through a proxy, which on this machine would make every stranger's
 * request a loopback one.  The project has no operator token; operators
 * elsewhere reach the server through an SSH tunnel, or use `ozma-server
 * status`. */
static bool operator(struct MHD_Connection *c)
{
    static const char *const relayed[] = {"Forwarded", "X-Forwarded-For", "X-Real-IP"};
    for (size_t i = 0; i < sizeof relayed / sizeof relayed[0]; i++)
        if (MHD_lookup_connection_value(c, MHD_HEADER_KIND, relayed[i]))
            return false;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr)
        return false;
    if (ci->client_addr->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)ci->client_addr;
        return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
    }
    if (ci->client_addr->sa_family == AF_INET6) {
        const struct in6_addr *a =
            &((const struct sockaddr_in6 *)(const void *)ci->client_addr)->sin6_addr;
        return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
    }
    return false;
}

bool oz_req_operator(oz_req *r)
{
    return r->conn && operator(r->conn);
}

/* Authenticates r for its route and charges its bucket; false once an
 * error is queued.  An address that has failed authentication rate_burst
 * times lately is refused before its token is even looked up.  A public
 * read is charged to its address's read bucket (read_rate, read_burst). */
static bool admit(oz_req *r, const struct route *rt)
{
    oz_server *srv = r->srv;
    uint64_t key = 0;
    int retry = 1;
    if (rt->auth == A_ACCOUNT || rt->auth == A_HOST) {
        unsigned char token[OZ_AUTH_TOKEN_BYTES], hash[OZ_AUTH_HASH_BYTES];
        char why[128];
        uint64_t fails = OZ_RL_AUTHFAIL(addr_hash(r->conn));
        if (!oz_ratelimit_peek(srv->rl, fails, mono_now(), &retry)) {
            oz_reply_limited(r, retry);
            return false;
        }
        const char *h =
            MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
        if (oz_auth_bearer_parse(h, token, why, sizeof why) != 0)
            return refuse(r, fails, why);
        oz_auth_token_hash(srv->secret, token, hash);
        oz_store *s = oz_req_store(r);
        if (!s)
            return false;
        int rc;
        if (rt->auth == A_ACCOUNT) {
            rc = oz_store_account_by_auth(s, hash, &r->account_id);
            key = OZ_RL_ACCOUNT(r->account_id);
        } else {
            rc = oz_store_host_by_key(s, hash, &r->host);
            key = OZ_RL_HOST(r->host.host_id);
        }
        if (rc == OZ_SCHED_ENOTFOUND)
            return refuse(r, fails,
                          rt->auth == A_ACCOUNT ? "unknown authenticator" : "unknown host key");
        if (rc == OZ_SCHED_EFORBIDDEN && rt->auth == A_HOST) { /* ozma-server host ban */
            oz_reply_error(r, 403, "host %lld is banned by the project",
                           (long long)r->host.host_id);
            return false;
        }
        if (rc != 0) {
            oz_reply_store(r, rc, "authentication lookup failed");
            return false;
        }
    } else if (rt->auth == A_ADDR) {
        key = OZ_RL_ADDR(addr_hash(r->conn));
    } else if (rt->auth == A_NONE && rt->fn != oz_units_file_get) {
        /* a public read: the address's own bucket of reads (unit downloads,
         * a worker's, are bounded by the connection limits instead) */
        if (!oz_ratelimit_take(srv->rl_read, OZ_RL_ADDR(addr_hash(r->conn)), mono_now(), &retry)) {
            oz_reply_limited(r, retry);
            return false;
        }
    } else if (rt->auth == A_OPERATOR && !operator(r->conn)) {
        oz_reply_error(r, 403,
                       "operators only: ask from the server's own machine (loopback, not through "
                       "a proxy), or run `ozma-server status`");
        return false;
    }
    if (key && !oz_ratelimit_take(srv->rl, key, mono_now(), &retry)) {
        oz_reply_limited(r, retry);
        return false;
    }
    return true;
}

/* First call: framing, route, bound, authenticate.  Returns MHD's
 * verdict. */
static enum MHD_Result begin(oz_req *r, const char *version)
{
    oz_server *srv = r->srv;
    if (!oz_req_framing_ok(r, version))
        return r->ret;
    if (atomic_load_explicit(&srv->draining, memory_order_relaxed))
        return oz_reply_error(r, 503, "the server is shutting down");
    char allow[32] = "";
    int64_t id = 0;
    const char *file = NULL;
    const struct route *rt = route_find(r->method, r->url, &id, &file, allow, sizeof allow);
    if (!rt) {
        /* a browser's GET of a page that is not there: the HTML 404 */
        if (!*allow && (strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0) &&
            strncmp(r->url, "/api/", 5) != 0 && strcmp(r->url, "/metrics") != 0)
            return oz_pages_not_found(r);
        if (!*allow)
            return oz_reply_error(r, 404, "no such resource");
        oz_reply_error(r, 405, "method %s is not allowed here (allowed: %s)", r->method, allow);
        return r->ret;
    }
    r->id = id;
    r->file = file;
    r->route = rt;
    r->limit = (size_t)(rt->result_body ? srv->cfg.body_limit_result : srv->cfg.body_limit_json);
    const char *cl =
        MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    unsigned long long declared = 0;
    if (cl) {
        char *end;
        errno = 0;
        declared = strtoull(cl, &end, 10);
        if (end == cl || *end || errno || declared > r->limit)
            return oz_reply_error(r, 413, "the body is larger than %zu bytes", r->limit);
    }
    /* A body with results may be megabytes: refuse a stranger before
     * reading it.  Small bodies are read first, since answering after the
     * body keeps the connection open (libmicrohttpd closes it after an
     * early answer). */
    if (rt->result_body && (!cl || declared > (unsigned long long)srv->cfg.body_limit_json)) {
        if (!admit(r, rt))
            return r->ret;
        r->admitted = true;
    }
    return MHD_YES;
}

/* Appends a body piece; false when the connection should be dropped. */
static bool append(oz_req *r, const char *data, size_t n)
{
    if (r->too_large || n > r->limit - r->len) {
        r->too_large = true;
        r->discarded += n;
        return r->discarded <= 4 * r->limit;
    }
    if (r->len + n + 1 > r->cap) {
        size_t cap = r->cap * 2;
        if (cap < r->len + n + 1)
            cap = r->len + n + 1;
        if (cap > r->limit + 1)
            cap = r->limit + 1;
        char *b = r->body == r->small ? malloc(cap) : realloc(r->body, cap);
        if (!b)
            return false;
        if (r->body == r->small)
            memcpy(b, r->small, r->len);
        r->body = b;
        r->cap = cap;
    }
    memcpy(r->body + r->len, data, n);
    r->len += n;
    return true;
}

bool oz_req_suspend(oz_req *r, oz_handler then)
{
    /* Counted before stopping is read, as oz_http_stop sets it before it
     * reads the count (both sequentially consistent): one of the two sees
     * the other. */
    atomic_fetch_add(&r->srv->suspended, 1);
    if (atomic_load(&r->srv->stopping)) {
        atomic_fetch_sub(&r->srv->suspended, 1);
        return false;
    }
    r->then = then;
    MHD_suspend_connection(r->conn);
    return true;
}

void oz_req_resume(void *arg)
{
    oz_req *r = arg;
    oz_server *srv = r->srv;
    MHD_resume_connection(r->conn); /* r may be gone once this returns */
    atomic_fetch_sub_explicit(&srv->suspended, 1, memory_order_release);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    oz_server *srv = cls;
    oz_req *r = *con_cls;
    if (!r) {
        r = malloc(sizeof *r);
        if (!r)
            return MHD_NO;
        memset(r, 0, offsetof(oz_req, small));
        r->small[0] = '\0';
        r->srv = srv;
        r->conn = conn;
        r->method = method;
        r->url = url;
        r->body = r->small;
        r->cap = sizeof r->small;
        r->ret = MHD_YES;
        r->t0 = mono_now();
        *con_cls = r;
        atomic_fetch_add_explicit(&srv->inflight, 1, memory_order_relaxed);
        conn_phase(r, OZ_CONN_BODY); /* the headers are in */
        enum MHD_Result ret = begin(r, version);
        if (r->replied)
            conn_phase(r, OZ_CONN_BUSY);
        return ret;
    }
    if (r->then) { /* resumed: its handler's second half */
        oz_handler then = r->then;
        r->then = NULL;
        return then(r);
    }
    if (r->replied) { /* an early answer is queued: nothing more to read */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (ci)
            oz_conns_body(srv->conns, ci->connect_fd, n);
        return append(r, upload_data, n) ? MHD_YES : MHD_NO;
    }
    conn_phase(r, OZ_CONN_BUSY); /* the body is in */
    if (r->too_large)
        return oz_reply_error(r, 413, "the body is larger than %zu bytes", r->limit);
    r->body[r->len] = '\0';
    const struct route *rt = r->route;
    if (!r->admitted && !admit(r, rt))
        return r->ret;
    return rt->fn(r);
}

/* Metrics and the debug log of a finished request: a few relaxed atomic
 * additions (metrics.h); the debug line is built only when asked for. */
static void observe(oz_server *srv, const oz_req *r)
{
    const struct route *rt = r->route;
    double dt = mono_now() - r->t0;
    oz_metrics_request(srv->metrics, rt ? (size_t)(rt - routes) : NROUTES, r->status);
    if (rt && rt->fn == oz_api_work)
        oz_metrics_observe(srv->metrics, OZ_HIST_DISPATCH, dt);
    else if (rt && rt->fn == oz_api_result_put)
        oz_metrics_observe(srv->metrics, OZ_HIST_UPLOAD, dt);
    if (srv->log_level <= OZ_LOG_DEBUG) {
        char st[8], ms[32];
        snprintf(st, sizeof st, "%u", r->status);
        snprintf(ms, sizeof ms, "%.3f", dt * 1e3);
        oz_log(srv->log_level, OZ_LOG_DEBUG, "request", "method", r->method, "path", r->url,
               "status", st, "ms", ms, (const char *)NULL);
    }
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn, (void)toe;
    oz_server *srv = cls;
    oz_req *r = *con_cls;
    if (!r)
        return;
    conn_phase(r, OZ_CONN_HEADERS); /* the next request's, if the connection is kept */
    observe(srv, r);
    if (r->work_free)
        r->work_free(r->work);
    if (r->body != r->small)
        free(r->body);
    free(r);
    *con_cls = NULL;
    atomic_fetch_sub_explicit(&srv->inflight, 1, memory_order_relaxed);
}

/* libmicrohttpd's word that a connection began or closed: closing releases
 * it in the connection table (before libmicrohttpd closes the socket). */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    (void)socket_context;
    oz_server *srv = cls;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci)
        return;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED)
        oz_conns_begun(srv->conns, ci->connect_fd);
    else
        oz_conns_release(srv->conns, ci->connect_fd);
}

int oz_http_start(const oz_http_opts *o, oz_http **out, char *why, size_t whylen)
{
    int rc = 0;
    bool key_made = false;
    oz_http *h = calloc(1, sizeof *h);
    if (!h)
        return oz_sched_fail(OZ_SCHED_ENOMEM, why, whylen, "out of memory");
    oz_server *srv = &h->srv;
    srv->cfg = *o->cfg;
    srv->db = o->db;
    srv->read_db = o->read_db;
    srv->jobs = o->jobs;
    memcpy(srv->secret, o->secret, sizeof srv->secret);
    srv->quiet = o->quiet;
    srv->log_level = o->quiet ? OZ_LOG_OFF : o->log_level;
    srv->started = (int64_t)time(NULL);
    srv->units_fd = -1;
    srv->stats_fd = -1;
    atomic_init(&srv->inflight, 0);
    atomic_init(&srv->suspended, 0);
    atomic_init(&srv->stopping, false);
    atomic_init(&srv->draining, false);

    char units[OZ_PROJECT_PATH_MAX];
    if (oz_project_path(o->dir, "units", units, sizeof units) != 0) {
        rc = oz_sched_fail(OZ_SCHED_ELIMIT, why, whylen, "project path too long");
        goto fail;
    }
    srv->units_fd = open(units, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (srv->units_fd < 0) {
        rc = oz_sched_fail(OZ_SCHED_EIO, why, whylen, "%s: %s", units, strerror(errno));
        goto fail;
    }
    char stats[OZ_PROJECT_PATH_MAX];
    if (oz_project_path(o->dir, "stats", stats, sizeof stats) != 0) {
        rc = oz_sched_fail(OZ_SCHED_ELIMIT, why, whylen, "project path too long");
        goto fail;
    }
    if ((mkdir(stats, 0755) != 0 && errno != EEXIST) ||
        (srv->stats_fd = open(stats, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        rc = oz_sched_fail(OZ_SCHED_EIO, why, whylen, "%s: %s", stats, strerror(errno));
        goto fail;
    }
    if (oz_ratelimit_new(srv->cfg.rate_per_host, srv->cfg.rate_burst, 1 << 16, &srv->rl) != 0) {
        rc = oz_sched_fail(OZ_SCHED_ENOMEM, why, whylen, "out of memory");
        goto fail;
    }
    if (oz_ratelimit_new(srv->cfg.read_rate, srv->cfg.read_burst, 1 << 16, &srv->rl_read) != 0 ||
        oz_cache_new(64, srv->cfg.read_cache_s, &srv->cache) != 0) {
        rc = oz_sched_fail(OZ_SCHED_ENOMEM, why, whylen, "out of memory");
        goto fail;
    }
    if (oz_metrics_new(NROUTES, srv->started, &srv->metrics) != 0) {
        rc = oz_sched_fail(OZ_SCHED_ENOMEM, why, whylen, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < NROUTES; i++)
        oz_metrics_route_label(srv->metrics, i, routes[i].method, routes[i].pattern);
    if (pthread_key_create(&srv->store_key, store_close_cb) != 0) {
        rc = oz_sched_fail(OZ_SCHED_ENOMEM, why, whylen, "cannot create a thread key");
        goto fail;
    }
    if (pthread_key_create(&srv->read_key, store_close_cb) != 0) {
        pthread_key_delete(srv->store_key);
        rc = oz_sched_fail(OZ_SCHED_ENOMEM, why, whylen, "cannot create a thread key");
        goto fail;
    }
    key_made = true;

    oz_conns_limits lim = {.total = (size_t)srv->cfg.connection_limit,
                           .per_addr = (size_t)srv->cfg.per_ip_connection_limit,
                           .header_s = srv->cfg.header_timeout_s,
                           .body_rate = srv->cfg.body_min_rate};
    if (oz_conns_new(&lim, &srv->conns) != 0) {
        rc = oz_sched_fail(OZ_SCHED_ENOMEM, why, whylen, "out of memory");
        goto fail;
    }

    struct sockaddr_in a4;
    struct sockaddr_in6 a6;
    const struct sockaddr *sa;
    socklen_t salen;
    memset(&a4, 0, sizeof a4);
    memset(&a6, 0, sizeof a6);
    if (inet_pton(AF_INET, srv->cfg.bind, &a4.sin_addr) == 1) {
        a4.sin_family = AF_INET;
        a4.sin_port = htons((uint16_t)srv->cfg.port);
        sa = (const struct sockaddr *)&a4;
        salen = sizeof a4;
    } else if (inet_pton(AF_INET6, srv->cfg.bind, &a6.sin6_addr) == 1) {
        a6.sin6_family = AF_INET6;
        a6.sin6_port = htons((uint16_t)srv->cfg.port);
        sa = (const struct sockaddr *)&a6;
        salen = sizeof a6;
    } else {
        rc = oz_sched_fail(OZ_SCHED_EINVAL, why, whylen, "\"%s\" is not an IPv4 or IPv6 address",
                           srv->cfg.bind);
        goto fail;
    }
    char lwhy[128];
    if (oz_listener_open(sa, salen, &h->listener, lwhy, sizeof lwhy) != 0) {
        rc = oz_sched_fail(OZ_SCHED_EIO, why, whylen,
                           "cannot listen on %s port %d (in use, or not an address of this "
                           "host): %s",
                           srv->cfg.bind, srv->cfg.port, lwhy);
        goto fail;
    }
    /* libmicrohttpd never accepts (listener.h): the connections the
     * listener admits are within connection_limit, and libmicrohttpd's own
     * limit, split between its threads, is set well above it so that it
     * never refuses one of them silently. */
    unsigned int mhd_limit =
        2u * (unsigned int)srv->cfg.connection_limit + 8u * (unsigned int)srv->cfg.http_threads;
    h->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME, 0,
        NULL, NULL, on_request, srv, MHD_OPTION_LISTEN_SOCKET,
        (MHD_socket)oz_listener_placeholder(h->listener), MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned int)srv->cfg.http_threads, MHD_OPTION_CONNECTION_LIMIT, mhd_limit,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)srv->cfg.connection_timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)srv->cfg.connection_memory_limit,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_NOTIFY_CONNECTION, on_connection,
        srv, MHD_OPTION_END);
    if (!h->daemon) {
        rc = oz_sched_fail(OZ_SCHED_EIO, why, whylen, "cannot start the HTTP server's threads");
        goto fail;
    }
    oz_listener_quiesce(h->listener, h->daemon);
    if (oz_listener_start(h->listener, h->daemon, srv->conns, srv->metrics, why, whylen) != 0) {
        rc = OZ_SCHED_ENOMEM;
        goto fail;
    }
    h->port = oz_listener_port(h->listener);
    *out = h;
    return 0;

fail:
    if (h->listener && !h->daemon)
        oz_listener_quiesce(h->listener, NULL);
    oz_listener_close(h->listener);
    if (h->daemon)
        MHD_stop_daemon(h->daemon);
    oz_conns_free(srv->conns);
    if (key_made) {
        pthread_key_delete(srv->store_key);
        pthread_key_delete(srv->read_key);
    }
    oz_ratelimit_free(srv->rl);
    oz_ratelimit_free(srv->rl_read);
    oz_cache_free(srv->cache);
    oz_metrics_free(srv->metrics);
    if (srv->units_fd >= 0)
        close(srv->units_fd);
    if (srv->stats_fd >= 0)
        close(srv->stats_fd);
    free(h);
    return rc;
}

int oz_http_port(const oz_http *h)
{
    return h->port;
}

void oz_http_drain(oz_http *h, double timeout_s)
{
    atomic_store(&h->srv.draining, true);
    oz_listener_pause(h->listener);
    double end = mono_now() + timeout_s;
    while (atomic_load(&h->srv.inflight) > 0 && mono_now() < end) {
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

void oz_http_stop(oz_http *h)
{
    if (!h)
        return;
    /* libmicrohttpd aborts when stopped with a connection suspended: none
     * is suspended from now on, and the writer, still running, resumes
     * those that are.  Then the requests resumed get a moment to reply
     * (a second: one whose writes take longer is committed, but its host
     * may hear nothing and send its results again, taken as re-sent). */
    atomic_store(&h->srv.stopping, true);
    while (atomic_load(&h->srv.suspended) > 0) {
        struct timespec ts = {0, 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    double end = mono_now() + 1.0;
    while (atomic_load(&h->srv.inflight) > 0 && mono_now() < end) {
        struct timespec ts = {0, 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    oz_listener_close(h->listener); /* before the daemon it hands connections to */
    MHD_stop_daemon(h->daemon);     /* joins the pool: their store connections close */
    oz_conns_free(h->srv.conns);
    pthread_key_delete(h->srv.store_key);
    pthread_key_delete(h->srv.read_key);
    oz_ratelimit_free(h->srv.rl);
    oz_ratelimit_free(h->srv.rl_read);
    oz_cache_free(h->srv.cache);
    oz_metrics_free(h->srv.metrics);
    close(h->srv.units_fd);
    close(h->srv.stats_fd);
    free(h);
}
