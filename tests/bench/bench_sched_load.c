/*
 * bench_sched_load.c - how many work requests a second the scheduler
 * serves, and how fast, with 10^5 and with 10^6 units loaded (issue 4's
 * targets: >= 10,000 work requests/s each dispatching a unit, p99 < 50 ms,
 * the 10^6 figure within 20 % of the 10^5 one).
 *
 * For each size it makes a real project (`ozma-server init`), fills the
 * database through the store with that many small units (rows only: the
 * benchmark measures dispatch and upload, not file transfer), starts a real
 * `ozma-server serve` on loopback, registers hosts over HTTP (libcurl) and
 * drives it with a lean HTTP/1.1 client of its own over epoll, so that the
 * generator leaves the server most of the 2 cores they share (libcurl-multi
 * took a third of them): every connection is one host that asks for
 * work (POST /api/v1/work) and returns a result for each unit it got, so
 * the validator and assimilator run too.  As ozma-worker does, it returns
 * them in its next work request (DESIGN.md §4); with --put-results it
 * uploads each with its own PUT /api/v1/replicas/ID/result instead.  It
 * prints requests/s, dispatches/s, results returned/s and p50/p99 latency
 * for each kind of request, the server's CPU time per work request (on a
 * shared machine steadier than the rates: compare changes by it too) split
 * into user and system time, with the read- and write-like system calls
 * and the context switches the server made per work request (from /proc,
 * bench_procstat.h: where the time goes when the CPU figure differs from
 * one machine to another), then the ratio of the two sizes.
 *
 *   bench_sched_load [--units N,N...] [--seconds S] [--connections C]
 *                    [--threads T] [--server PATH] [--keep DIR] [--no-upload]
 *                    [--put-results] [--signals S] [--database URI
 *                    [--schedulers N[,N...]] [--pg-pid PID]]
 *
 * Defaults: 256 connections (hosts, two per account), the server's own
 * number of HTTP threads (project.json http_threads, 16; --threads sets
 * it), 10 s per size after a 1 s warm-up.
 *
 * --no-upload: hosts only ask for work (dispatch alone, no uploads, no
 * validation); --keep DIR keeps the projects (and their databases).
 *
 * --signals S (2..30): each result reports S spikes - two steady tones
 * every unit has and S - 2 at random frequencies, each a candidate of its
 * own - on a dataset recorded at a site and pointed at one place, so the
 * assimilator places, groups and judges them as it would a survey's (issue
 * 17: does assimilation with candidates keep up with validation at this
 * load?).  It prints the units assimilated a second and the validated
 * units left waiting for the assimilator at the end.  The generator then
 * makes each result with the library (oz_wu_result_to_json), which costs
 * it more CPU: its share is printed.
 *
 * --database URI: the projects keep their tables in PostgreSQL instead of
 * SQLite.  URI (libpq's) names a server and a database the benchmark may
 * connect to as a user allowed to create databases; for each size it makes
 * a fresh database bench_N there (dropped first if it exists, and at the
 * end unless --keep), runs `ozma-server init DIR --database` on it and
 * fills it through the store.  --schedulers N (default 1) then starts N
 * `ozma-server serve` processes of the one project, all but the first with
 * --no-jobs, and spreads the connections over them in turn; their CPU is
 * shown summed and one by one.  A list (1,2) runs a round with each on
 * the same filled database, in turn with fresh hosts (a 10^6 fill on
 * PostgreSQL takes minutes; a round uses a few per cent of the units).  When the server runs on this host (its
 * postmaster found by DATA/postmaster.pid, or the checkpointer's parent;
 * --pg-pid names it), it also prints the database's CPU time - every
 * process of the cluster, those that ended in the window too - per work
 * request and as a share of the machine (wall time x cores) beside the
 * schedulers' and the load generator's own, and what PostgreSQL counted
 * for the database (pg_stat_database: commits and rollbacks per work
 * request) with the schedulers' write transactions run again after a
 * conflict (/metrics ozma_database_write_conflicts_total).
 * bench_sched_pg.sh runs it against a throwaway cluster.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "ozma_workunits.h"
#include "sky.h"
#include "store.h"

#define BENCH_NAME "bench_sched_load"
#include "bench_proc.h"
#include "bench_procstat.h"
#include "bench_pg.h"

#define CONN_MAX 512
#define LAT_MAX 2000000
#define SCHED_MAX 8

static const char *pg_server; /* --database: the PostgreSQL server's URI */
static int nsignals;          /* --signals: signals in each result (0: none) */
#define SIGNALS_MAX 30        /* the units' max_signals */

/* The units' analysis configuration (fill) and rate. */
#define UNIT_RATE 9765.625
#define UNIT_SAMPLES 1024
#define UNIT_CENTER 1420e6

static void unit_config(oz_sci_config *cfg)
{
    oz_sci_config_default(cfg);
    cfg->fft_min = 8;
    cfg->fft_max = 256;
}

/* ---- project and database ------------------------------------------------------------------ */

/* Raises the limits a benchmark from one address would hit. */
static void tune_config(const char *dir, int connections, int threads)
{
    char path[4200];
    snprintf(path, sizeof path, "%.4100s/project.json", dir);
    json_error_t err;
    json_t *c = json_load_file(path, 0, &err);
    if (!c)
        die("cannot read %s", path);
    json_object_set_new(c, "rate_per_host", json_real(1e6));
    json_object_set_new(c, "rate_burst", json_real(1e6));
    json_object_set_new(c, "max_in_progress_per_cpu", json_integer(1000));
    /* every host counts its 64 CPUs from the start, with no daily quota to
     * speak of: the benchmark measures dispatch, not the hoarding limits */
    json_object_set_new(c, "new_host_ncpus", json_integer(1024));
    json_object_set_new(c, "daily_result_quota", json_integer(1000000));
    json_object_set_new(c, "max_hosts_per_account_day", json_integer(1000000));
    json_object_set_new(c, "connection_limit", json_integer(connections * 2 + 64));
    json_object_set_new(c, "per_ip_connection_limit", json_integer(0)); /* all from 127.0.0.1 */
    if (threads) /* else the project's default */
        json_object_set_new(c, "http_threads", json_integer(threads));
    json_t *t = json_object_get(c, "http_threads");
    if (!json_is_integer(t))
        die("%s has no http_threads", path);
    printf("bench_sched_load: %lld server threads\n", (long long)json_integer_value(t));
    if (json_dump_file(c, path, JSON_INDENT(2)) != 0)
        die("cannot write %s", path);
    json_decref(c);
}

/* size units of 2^10 samples, loaded through the store in batches into
 * the database at where (a file or a PostgreSQL URI). */
static void fill(const char *where, long nunits)
{
    char why[512];
    oz_db *db;
    oz_store *s;
    if (oz_db_open(where, &db, why, sizeof why) || oz_store_open(db, &s, why, sizeof why))
        die("%s", why);
    oz_sci_config cfg;
    unit_config(&cfg);
    json_t *cj = oz_sci_config_to_json(&cfg);
    char *ctext = json_dumps(cj, JSON_COMPACT);
    json_decref(cj);
    /* With signals: recorded at a site, pointed at one place and timed, so
     * that the assimilator places each signal in the sky and judges it
     * for RFI and persistence, as for a real dataset. */
    char *sky = NULL;
    if (nsignals > 0) {
        oz_sky k;
        memset(&k, 0, sizeof k);
        k.has_site = true;
        k.site = (oz_wu_site){38.4331, -79.8398, 807};
        k.npointing = 1;
        k.pointing[0] = (oz_wu_pointing){0, 83.63, 22.01};
        bool oom;
        if (!(sky = oz_sky_json(&k, &oom)))
            die("%s", "out of memory");
    }
    oz_dataset_info d = {.name = "bench",
                         .recording = "synthetic rows",
                         .sample_rate = UNIT_RATE,
                         .center_hz = UNIT_CENTER,
                         .has_time = sky != NULL,
                         .start_ns = 1700000000LL * 1000000000LL,
                         .sky_json = sky,
                         .config_json = ctext,
                         .min_quorum = 2,
                         .target_nresults = 2,
                         .max_error_results = 3,
                         .max_total_results = 6,
                         .delay_bound = 7 * 86400};
    int64_t id;
    if (oz_store_dataset_begin(s, &d, (int64_t)time(NULL), &id, why, sizeof why))
        die("%s", why);
    /* PostgreSQL: in smaller transactions.  Each unit's insert updates its
     * dataset's row (the class counters' trigger), and within a transaction
     * every update leaves a row version that the next insert's read of the
     * dataset walks past (none can be pruned before the commit): 10,000
     * units in one transaction took 44 s, quadratic in the batch (20,000
     * units: 8 s in batches of 100, 17 s in batches of 1,000). */
    enum { BATCH = 10000, PG_BATCH = 100 };
    size_t batch = pg_server ? PG_BATCH : BATCH;
    static oz_unit_row rows[BATCH];
    static char names[BATCH][32], files[BATCH][40];
    double t0 = now_s();
    for (long base = 0; base < nunits; base += (long)batch) {
        size_t n = 0;
        for (long i = base; i < nunits && n < batch; i++, n++) {
            snprintf(names[n], sizeof names[n], "bench-%07ld", i);
            snprintf(files[n], sizeof files[n], "%s.ozwu", names[n]);
            rows[n] = (oz_unit_row){.name = names[n],
                                    .file = files[n],
                                    .bytes = 9000,
                                    .flops = 3000000000ull,
                                    .index = (uint64_t)i,
                                    .start_s = (double)i * 0.1,
                                    .nsamples = UNIT_SAMPLES};
            memset(rows[n].sha256, (int)(i & 0xff), 32);
        }
        if (oz_store_units_add(s, id, rows, n, why, sizeof why))
            die("%s", why);
    }
    if (oz_store_dataset_finish(s, id, why, sizeof why))
        die("%s", why);
    fprintf(stderr, "bench_sched_load: %ld units loaded in %.1f s\n", nunits, now_s() - t0);
    free(sky);
    free(ctext);
    oz_store_close(s);
    oz_db_close(db);
}

/* ---- the server ------------------------------------------------------------------------------ */

/* Starts `server serve dir --port 0` (with --no-jobs when no_jobs) and
 * reads its ready line for the port. */
static pid_t serve(const char *server, const char *dir, bool no_jobs, int *port)
{
    int fds[2];
    if (pipe(fds) != 0)
        die("%s", strerror(errno));
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* no server left behind when the benchmark dies */
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        execl(server, server, "serve", dir, "--port", "0", "--quiet",
              no_jobs ? "--no-jobs" : (char *)NULL, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    FILE *err = fdopen(fds[0], "r");
    char line[1024];
    *port = 0;
    while (fgets(line, sizeof line, err)) {
        const char *p = strstr(line, "http://");
        if (p && (p = strrchr(p + 7, ':'))) {
            *port = atoi(p + 1);
            break;
        }
    }
    if (!*port)
        die("%s did not say it was serving", server);
    /* Keep draining its stderr so it never blocks on a full pipe. */
    if (fork() == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        while (fgets(line, sizeof line, err))
            fputs(line, stderr);
        _exit(0);
    }
    fclose(err);
    return pid;
}

/* ---- HTTP ------------------------------------------------------------------------------------ */

typedef struct buf {
    char data[65536];
    size_t len;
} buf;

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    buf *b = arg;
    size_t len = size * n;
    if (b->len + len >= sizeof b->data)
        len = sizeof b->data - 1 - b->len;
    memcpy(b->data + b->len, p, len);
    b->len += len;
    b->data[b->len] = 0;
    return size * n;
}

/* One blocking POST for setup; returns the parsed reply. */
static json_t *post(CURL *c, const char *url, const char *auth, const char *body)
{
    for (int attempt = 0; attempt < 200; attempt++) {
        buf b = {.len = 0};
        struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
        char hdr[128];
        if (auth) {
            snprintf(hdr, sizeof hdr, "Authorization: Bearer %s", auth);
            h = curl_slist_append(h, hdr);
        }
        curl_easy_reset(c);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
        CURLcode rc = curl_easy_perform(c);
        long status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        curl_slist_free_all(h);
        if (rc == CURLE_OK && status == 429) {
            nanosleep(&(struct timespec){0, 100000000}, NULL);
            continue;
        }
        if (rc != CURLE_OK || status != 200)
            die("setup request failed: %s", b.data);
        return json_loads(b.data, 0, NULL);
    }
    die("%s", "setup kept being rate limited");
    return NULL;
}

/* GET base + path into *b (its start, as much as fits); false unless 200. */
static bool get(const char *base, const char *path, buf *b)
{
    CURL *c = curl_easy_init();
    char url[256];
    snprintf(url, sizeof url, "%s%s", base, path);
    b->len = 0;
    b->data[0] = '\0';
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
    long status = 0;
    bool ok = curl_easy_perform(c) == CURLE_OK &&
              curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status == 200;
    curl_easy_cleanup(c);
    return ok;
}

/* Units validated so far, from GET /api/v1/status, and of them those
 * assimilated (*assimilated, may be NULL); -1 when unreadable. */
static long validated_units(const char *base, long *assimilated)
{
    static buf b;
    long n = -1;
    if (assimilated)
        *assimilated = -1;
    if (get(base, "/api/v1/status", &b)) {
        json_t *r = json_loads(b.data, 0, NULL);
        json_t *v = json_object_get(json_object_get(r, "units"), "validated");
        json_t *q = json_object_get(json_object_get(r, "queues"), "assimilate");
        if (json_is_integer(v))
            n = (long)json_integer_value(v);
        if (assimilated && n >= 0 && json_is_integer(q))
            *assimilated = n - (long)json_integer_value(q);
        json_decref(r);
    }
    return n;
}

/* The server's write transactions run again after losing a conflict with
 * another's (its /metrics), or -1 when it does not say. */
static double write_conflicts(const char *base)
{
    static buf b;
    const char *key = "\nozma_database_write_conflicts_total ";
    const char *p = get(base, "/metrics", &b) ? strstr(b.data, key) : NULL;
    return p ? atof(p + strlen(key)) : -1;
}

/* ---- the load ------------------------------------------------------------------------------ */

enum { REQ_WORK, REQ_UPLOAD, REQ_KINDS };

typedef struct pending {
    int64_t replica;
    char unit[OZ_WU_ID_MAX + 1];
    char sha[65];
} pending;

/* One host's keep-alive connection, driven by hand over epoll: the
 * requests are formatted into `out` and the replies read into `in` with
 * nothing in between, so the generator spends little of the CPU it shares
 * with the server (libcurl-multi took a third of this 2-core machine). */
typedef struct conn {
    int fd, port; /* port: its scheduler's */
    char key[65];
    int kind;
    double started;
    char out[131072];
    size_t out_len, out_off;
    char in[16384];
    size_t in_len;
    pending todo[64];
    int ntodo;
} conn;

typedef struct stats {
    double *lat[REQ_KINDS];
    size_t n[REQ_KINDS];
    long dispatched, returned, errors, empty;
} stats;

static bool no_upload;   /* --no-upload: work requests only */
static bool put_results; /* --put-results: a PUT per result, not in work requests */

/* The result file a host uploads for p: the kernel's JSON of an empty
 * result, made once with placeholders by the library (so its shape is the
 * real one) and filled in per upload with two substitutions, keeping the
 * load generator's own CPU cost small on a machine it shares. */
#define UNIT_MARK "@UNIT@"
#define SHA_MARK "@SHA@"
static char result_head[4096], result_mid[4096], result_tail[4096];
/* The same three pieces escaped as a JSON string's content, for results
 * carried in a work request. */
static char carried_head[8192], carried_mid[8192], carried_tail[8192];

static void escape(char *dst, size_t len, const char *src)
{
    size_t o = 0;
    for (; *src && o + 3 < len; src++) {
        if (*src == '"' || *src == '\\')
            dst[o++] = '\\';
        dst[o++] = *src;
    }
    if (*src)
        die("%s", "the result template does not fit");
    dst[o] = 0;
}

static void result_template(void)
{
    oz_wu_result r;
    memset(&r, 0, sizeof r);
    snprintf(r.unit_id, sizeof r.unit_id, "bench-0000000");
    r.result.flops = 3000000000ull;
    r.result.cpu_s = 0.5;
    snprintf(r.result.kernel_version, sizeof r.result.kernel_version, "%s", OZ_SCI_KERNEL_VERSION);
    json_t *j = oz_wu_result_to_json(&r);
    json_object_set_new(j, "unit_id", json_string(UNIT_MARK));
    json_object_set_new(j, "unit_sha256", json_string(SHA_MARK));
    char *t = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    char *u = t ? strstr(t, UNIT_MARK) : NULL, *h = t ? strstr(t, SHA_MARK) : NULL;
    if (!u || !h || u > h)
        die("%s", "cannot make the result template");
    snprintf(result_head, sizeof result_head, "%.*s", (int)(u - t), t);
    snprintf(result_mid, sizeof result_mid, "%.*s", (int)(h - u) - (int)strlen(UNIT_MARK),
             u + strlen(UNIT_MARK));
    snprintf(result_tail, sizeof result_tail, "%s", h + strlen(SHA_MARK));
    free(t);
    escape(carried_head, sizeof carried_head, result_head);
    escape(carried_mid, sizeof carried_mid, result_mid);
    escape(carried_tail, sizeof carried_tail, result_tail);
}

/* ---- results with signals (--signals S) ---- */

/* A number in [0, 1) from (unit, i): the same for both replicas of a unit. */
static double unit_rand(long unit, int i)
{
    uint64_t z = (uint64_t)unit * UINT64_C(0x9E3779B97F4A7C15) +
                 (uint64_t)(unsigned)i * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

/* The signal a search of the unit could report (resultfile.c's checks):
 * type t at fft_len 256, frequency f, time t_s and power p. */
static oz_signal unit_signal(const oz_sci_config *cfg, oz_sig_type t, double f, double t_s,
                             double p)
{
    oz_signal g = {.type = t, .fft_len = 256, .freq_hz = f, .time_s = t_s, .power = p};
    double thr = t == OZ_SIG_SPIKE      ? cfg->spike_thresh
                 : t == OZ_SIG_GAUSSIAN ? cfg->gauss_snr_thresh
                                        : cfg->pulse_thresh;
    g.score = p / thr;
    if (t == OZ_SIG_GAUSSIAN)
        g.sigma_s = cfg->gauss_sigma_s;
    if (t == OZ_SIG_PULSE)
        g.period_s = 0.01;
    return g;
}

/* The result text of p's unit with nsignals spikes: two steady tones that
 * every unit reports (each one candidate, growing) and nsignals - 2 at
 * random frequencies and times (noise: each a candidate of its own, the
 * worst case for the candidate table), with the bests the unit's plan
 * reports.  The same for both replicas, so the unit validates.  Made by
 * the library for each upload (malloc'd; NULL on failure). */
static char *signal_result(const pending *p)
{
    oz_sci_config cfg;
    unit_config(&cfg);
    long unit = atol(p->unit + strcspn(p->unit, "0123456789"));
    double dur = UNIT_SAMPLES / UNIT_RATE;
    oz_signal sig[SIGNALS_MAX];
    for (int i = 0; i < nsignals; i++) {
        double f = i == 0   ? UNIT_CENTER + 1500
                   : i == 1 ? UNIT_CENTER - 2000
                            : UNIT_CENTER + (unit_rand(unit, 2 * i) - 0.5) * 0.9 * UNIT_RATE;
        double x = unit_rand(unit, 2 * i + 1);
        sig[i] = unit_signal(&cfg, OZ_SIG_SPIKE, f, i < 2 ? dur / 2 : x * dur,
                             cfg.spike_thresh * (i < 2 ? 6 + x : 1.1 + x));
    }
    oz_wu_result r;
    memset(&r, 0, sizeof r);
    snprintf(r.unit_id, sizeof r.unit_id, "%s", p->unit);
    r.result.signals = sig;
    r.result.nsignals = (size_t)nsignals;
    r.result.flops = 3000000000ull;
    r.result.cpu_s = 0.5;
    snprintf(r.result.kernel_version, sizeof r.result.kernel_version, "%s", OZ_SCI_KERNEL_VERSION);
    unsigned need = oz_sci_best_types(&cfg, UNIT_SAMPLES, UNIT_RATE);
    for (int t = 0; t < OZ_SIG_NTYPES; t++) {
        if (!(need & (1u << t)))
            continue;
        r.result.has_best[t] = true;
        r.result.best[t] = t == OZ_SIG_SPIKE ? sig[0]
                                             : unit_signal(&cfg, (oz_sig_type)t, UNIT_CENTER,
                                                           dur / 2, cfg.pulse_thresh / 2);
    }
    json_t *j = oz_wu_result_to_json(&r);
    if (!j || json_object_set_new(j, "unit_sha256", json_string(p->sha)) != 0) {
        json_decref(j);
        return NULL;
    }
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return text;
}

/* p's result into dst: the template's (no signals) or signal_result's;
 * escaped as a JSON string's content when carried in a work request. */
static int result_into(const pending *p, bool carried, char *dst, size_t len)
{
    if (nsignals == 0)
        return carried ? snprintf(dst, len, "%s%s%s%s%s", carried_head, p->unit, carried_mid,
                                  p->sha, carried_tail)
                       : snprintf(dst, len, "%s%s%s%s%s", result_head, p->unit, result_mid,
                                  p->sha, result_tail);
    char *text = signal_result(p);
    if (!text)
        die("%s", "cannot make a result");
    if (carried)
        escape(dst, len, text);
    else
        snprintf(dst, len, "%s", text);
    free(text);
    return (int)strlen(dst);
}

static int conn_connect(conn *c)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)c->port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0 ||
        fcntl(c->fd, F_SETFL, O_NONBLOCK) != 0)
        return -1;
    return 0;
}

/* Formats the connection's next request: with --put-results an upload of
 * what it holds, else a work request (carrying what it holds). */
static void conn_next(conn *c)
{
    char body[sizeof c->out - 1024], one[sizeof body];
    int n;
    if (put_results && c->ntodo > 0) {
        pending *p = &c->todo[--c->ntodo];
        c->kind = REQ_UPLOAD;
        int blen = result_into(p, false, body, sizeof body);
        n = snprintf(c->out, sizeof c->out,
                     "PUT /api/v1/replicas/%lld/result HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %d\r\n\r\n%s",
                     (long long)p->replica, c->key, blen, body);
    } else {
        c->kind = REQ_WORK;
        size_t blen = (size_t)snprintf(body, sizeof body, "{\"want_seconds\":0.001");
        for (int i = 0; i < c->ntodo; i++) {
            const pending *p = &c->todo[i];
            result_into(p, true, one, sizeof one);
            int k = snprintf(body + blen, sizeof body - blen,
                             "%s{\"replica_id\":%lld,\"result\":\"%s\"}",
                             i ? "," : ",\"results\":[", (long long)p->replica, one);
            if (k < 0 || (size_t)k + 3 >= sizeof body - blen)
                die("%s", "the carried results do not fit the request buffer");
            blen += (size_t)k;
        }
        blen += (size_t)snprintf(body + blen, sizeof body - blen, "%s}", c->ntodo ? "]" : "");
        c->ntodo = 0;
        n = snprintf(c->out, sizeof c->out,
                     "POST /api/v1/work HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     c->key, blen, body);
    }
    if (n < 0 || (size_t)n >= sizeof c->out)
        die("%s", "a request does not fit the connection's buffer");
    c->out_len = (size_t)n;
    c->out_off = 0;
    c->in_len = 0;
    c->started = now_s();
}

/* Sends what is left of the request; -1 when the connection failed. */
static int conn_send(conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t w = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
        if (w < 0 && errno == EAGAIN)
            return 0; /* the reply cannot come before the rest: wait for EPOLLOUT */
        if (w <= 0)
            return -1;
        c->out_off += (size_t)w;
    }
    return 0;
}

/* The length of a whole reply at the start of c->in (headers and body),
 * 0 while incomplete; *status gets its status code. */
static size_t reply_length(conn *c, int *status)
{
    c->in[c->in_len] = '\0';
    char *end = strstr(c->in, "\r\n\r\n");
    if (!end)
        return 0;
    size_t head = (size_t)(end - c->in) + 4, body = 0;
    *status = c->in_len > 12 ? atoi(c->in + 9) : 0;
    for (char *h = strstr(c->in, "\r\n"); h && h < end; h = strstr(h + 2, "\r\n"))
        if (!strncasecmp(h + 2, "Content-Length:", 15))
            body = strtoul(h + 17, NULL, 10);
    return c->in_len >= head + body ? head + body : 0;
}

/* Counts a whole reply and keeps the assignments of a work reply (the
 * server's compact JSON, read with strstr: this is a load generator). */
static void conn_done(conn *c, stats *st, int status, double lat)
{
    if (status != 200) {
        if (st->errors++ < 5)
            fprintf(stderr, "bench_sched_load: HTTP %d: %.300s\n", status, c->in);
        return;
    }
    if (st->n[c->kind] < LAT_MAX)
        st->lat[c->kind][st->n[c->kind]++] = lat;
    if (c->kind != REQ_WORK) {
        st->returned++;
        return;
    }
    /* "results" (what it carried) follows "assignments" */
    char *carried = strstr(c->in, "],\"results\":[");
    if (carried) {
        for (const char *a = strstr(carried, "\"accepted\":true"); a;
             a = strstr(a + 1, "\"accepted\":true"))
            st->returned++;
        *carried = 0;
    }
    long got = 0;
    for (const char *a = strstr(c->in, "\"replica_id\":"); a;
         a = strstr(a + 1, "\"replica_id\":")) {
        got++;
        const char *u = strstr(a, "\"unit_id\":\""), *h = strstr(a, "\"sha256\":\"");
        if (no_upload || !u || !h || c->ntodo >= 64)
            continue;
        pending *p = &c->todo[c->ntodo++];
        p->replica = strtoll(a + 13, NULL, 10);
        snprintf(p->unit, sizeof p->unit, "%.*s", (int)strcspn(u + 11, "\""), u + 11);
        snprintf(p->sha, sizeof p->sha, "%.64s", h + 10);
    }
    st->dispatched += got;
    st->empty += got == 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
    if (!n)
        return 0;
    size_t i = (size_t)(p * (double)(n - 1));
    return v[i];
}

/* A process whose use of the machine the run measures: a scheduler, the
 * database server (tree: with its children) or the load generator. */
typedef struct watch {
    pid_t pid;
    bool tree;
    proc_sample before, used; /* used: in the measured window */
    bool known;               /* both samples could be taken */
    bool io_known;            /* and used's system calls too (/proc/PID/io) */
    int nprocs;               /* a tree's processes at the end */
} watch;

static void watch_begin(watch *w)
{
    int n;
    w->known = (w->tree ? proc_tree_take(w->pid, &w->before, &n)
                        : proc_sample_take(w->pid, &w->before)) == 0;
}

static void watch_end(watch *w)
{
    proc_sample after;
    w->known = w->known && (w->tree ? proc_tree_take(w->pid, &after, &w->nprocs)
                                    : proc_sample_take(w->pid, &after)) == 0;
    w->used = proc_sample_minus(&after, &w->before);
    w->io_known = w->known && w->before.syscr >= 0 && after.syscr >= 0;
}

typedef struct figures {
    double work_rps, dispatch_rps, returned_rps, work_p50, work_p99, up_p50, up_p99;
    double dt;           /* the measured window's wall time */
    double nwork;        /* work requests answered in the window */
    double nwork_all;    /* and since the start, the warm-up's too */
    long errors, empty;
} figures;

/* Drives the connections for seconds after a second's warm-up, sampling
 * watch[0..nwatch) over the measured window. */
static figures drive(conn *conns, int nconn, double seconds, watch *watched, int nwatch)
{
    long all = 0; /* work requests answered, the warm-up's too */
    stats st = {.dispatched = 0};
    for (int k = 0; k < REQ_KINDS; k++)
        st.lat[k] = malloc(LAT_MAX * sizeof(double));
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        die("epoll: %s", strerror(errno));
    for (int i = 0; i < nconn; i++) {
        conn *c = &conns[i];
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = c};
        if (conn_connect(c) != 0 || epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) != 0)
            die("connection %d: %s", i, strerror(errno));
        conn_next(c);
        if (conn_send(c) != 0)
            die("connection %d: %s", i, strerror(errno));
    }
    double t0 = now_s(), end = t0 + seconds, warm = t0 + 1.0;
    int running = nconn;
    bool measuring = false;
    struct epoll_event evs[256];
    while (running > 0) {
        int n = epoll_wait(ep, evs, 256, 1000);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            die("epoll_wait: %s", strerror(errno));
        for (int e = 0; e < n; e++) {
            conn *c = evs[e].data.ptr;
            if (c->fd < 0)
                continue;
            bool dead = conn_send(c) != 0;
            for (;;) { /* edge-triggered: read until EAGAIN */
                if (dead || c->in_len + 1 >= sizeof c->in)
                    break;
                ssize_t r = read(c->fd, c->in + c->in_len, sizeof c->in - 1 - c->in_len);
                if (r < 0 && errno == EAGAIN)
                    break;
                if (r <= 0) {
                    dead = true;
                    break;
                }
                c->in_len += (size_t)r;
                int status;
                size_t whole = reply_length(c, &status);
                if (!whole)
                    continue;
                double t = now_s();
                if (!measuring && t >= warm) { /* the first second warms caches up */
                    measuring = true;
                    memset(st.n, 0, sizeof st.n);
                    st.dispatched = st.returned = st.errors = st.empty = 0;
                    t0 = t;
                    for (int w = 0; w < nwatch; w++)
                        watch_begin(&watched[w]);
                }
                all += c->kind == REQ_WORK && status == 200;
                conn_done(c, &st, status, t - c->started);
                if (t >= end) {
                    close(c->fd);
                    c->fd = -1;
                    running--;
                    break;
                }
                conn_next(c);
                dead = conn_send(c) != 0;
            }
            if (dead && c->fd >= 0) { /* the server closed it (or failed): a fresh one */
                if (st.errors++ < 5)
                    fprintf(stderr, "bench_sched_load: connection closed: %.200s\n", c->in);
                close(c->fd);
                struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = c};
                if (conn_connect(c) != 0 || epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) != 0)
                    die("reconnect: %s", strerror(errno));
                conn_next(c);
                if (conn_send(c) != 0)
                    die("reconnect: %s", strerror(errno));
            }
        }
    }
    double dt = now_s() - t0;
    for (int w = 0; w < nwatch; w++)
        watch_end(&watched[w]);
    close(ep);
    figures f = {.errors = st.errors, .empty = st.empty, .dt = dt};
    f.nwork = (double)st.n[REQ_WORK];
    f.nwork_all = (double)all;
    f.work_rps = (double)st.n[REQ_WORK] / dt;
    f.dispatch_rps = (double)st.dispatched / dt;
    f.returned_rps = (double)st.returned / dt;
    for (int k = 0; k < REQ_KINDS; k++)
        qsort(st.lat[k], st.n[k], sizeof(double), cmp_double);
    f.work_p50 = pct(st.lat[REQ_WORK], st.n[REQ_WORK], 0.50) * 1e3;
    f.work_p99 = pct(st.lat[REQ_WORK], st.n[REQ_WORK], 0.99) * 1e3;
    f.up_p50 = pct(st.lat[REQ_UPLOAD], st.n[REQ_UPLOAD], 0.50) * 1e3;
    f.up_p99 = pct(st.lat[REQ_UPLOAD], st.n[REQ_UPLOAD], 0.99) * 1e3;
    for (int k = 0; k < REQ_KINDS; k++)
        free(st.lat[k]);
    return f;
}

/* The run's settings beyond the sizes. */
typedef struct plan {
    const char *server, *root;
    int nconn, nthreads;
    int scheds[SCHED_MAX], nscheds; /* --schedulers: how many in each round */
    double seconds;
    pid_t pg_pid; /* the database server's postmaster here, or -1 */
    bool keep;
} plan;

/* Registers the hosts (two per account, so quorum-2 units find a second
 * account) through url and gives each connection its key, and its port
 * from ports[] in turn. */
static void hosts_register(const char *url, conn *conns, int nconn, const int *ports, int nports,
                           int round)
{
    CURL *setup = curl_easy_init();
    char u[128], body[256], acct_key[65] = "";
    for (int i = 0; i < nconn; i++) {
        if (i % 2 == 0) {
            snprintf(u, sizeof u, "%s/api/v1/accounts", url);
            snprintf(body, sizeof body, "{\"name\":\"bench%d-%d\"}", round, i / 2);
            json_t *r = post(setup, u, NULL, body);
            snprintf(acct_key, sizeof acct_key, "%s",
                     json_string_value(json_object_get(r, "authenticator")));
            json_decref(r);
        }
        snprintf(u, sizeof u, "%s/api/v1/hosts", url);
        snprintf(body, sizeof body,
                 "{\"name\":\"h%d\",\"os\":\"Linux\",\"ncpus\":64,\"flops\":1e9,"
                 "\"memory_mb\":8192}",
                 i);
        json_t *r = post(setup, u, acct_key, body);
        conn *c = &conns[i];
        memset(c, 0, sizeof *c);
        snprintf(c->key, sizeof c->key, "%s", json_string_value(json_object_get(r, "host_key")));
        c->port = ports[i % nports];
        json_decref(r);
    }
    curl_easy_cleanup(setup);
}

/* A process's CPU in the window: cores, its share of the machine, and
 * microseconds per work request. */
static void print_cpu(const char *who, const watch *w, const figures *f)
{
    double cpu = w->used.user_s + w->used.sys_s;
    printf("%8s %s CPU: %.2f cores (%.0f %% of %ld), %.0f us per work request\n", "", who,
           cpu / f->dt, 100 * cpu / f->dt / (double)sysconf(_SC_NPROCESSORS_ONLN),
           sysconf(_SC_NPROCESSORS_ONLN), cpu / f->nwork * 1e6);
}

/* Where the server side's time went (schedulers and database). */
static void print_use(int nsched, const watch *w, const figures *f, const pg_counts *pg,
                      double conflicts)
{
    if (f->nwork <= 0)
        return;
    double per = 1.0 / f->nwork;
    watch sum = {.known = true, .io_known = true};
    for (int i = 0; i < nsched; i++) {
        sum.known &= w[i].known;
        sum.io_known &= w[i].io_known;
        sum.used.user_s += w[i].used.user_s;
        sum.used.sys_s += w[i].used.sys_s;
        sum.used.syscr += w[i].used.syscr;
        sum.used.syscw += w[i].used.syscw;
        sum.used.vcsw += w[i].used.vcsw;
        sum.used.ivcsw += w[i].used.ivcsw;
        sum.used.minflt += w[i].used.minflt;
    }
    if (!sum.known)
        return;
    /* per work request (with --put-results, the uploads' cost is in it too) */
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    double cores = (sum.used.user_s + sum.used.sys_s) / f->dt;
    printf("%8s server CPU: %.2f cores (%.0f %% of %ld), %.0f us per work request (%.0f us"
           " user, %.0f us system)\n",
           "", cores, 100 * cores / (double)ncpu, ncpu,
           (sum.used.user_s + sum.used.sys_s) * per * 1e6, sum.used.user_s * per * 1e6,
           sum.used.sys_s * per * 1e6);
    if (sum.io_known)
        printf("%8s per work request: %.1f read-like + %.1f write-like system calls,"
               " %.2f voluntary + %.2f involuntary context switches, %.2f minor page"
               " faults\n",
               "", (double)sum.used.syscr * per, (double)sum.used.syscw * per,
               (double)sum.used.vcsw * per, (double)sum.used.ivcsw * per,
               (double)sum.used.minflt * per);
    for (int i = 0; nsched > 1 && i < nsched; i++) {
        char who[64];
        snprintf(who, sizeof who, "scheduler %d%s", i + 1, i ? " (--no-jobs)" : "");
        print_cpu(who, &w[i], f);
    }
    print_cpu("load generator", &w[nsched + 1], f);
    if (!pg_server)
        return;
    const watch *db = &w[nsched];
    if (!db->known)
        printf("%8s database CPU: unknown (its server is not on this host; --pg-pid PID)\n", "");
    else {
        char who[64];
        snprintf(who, sizeof who, "database (%d processes)", db->nprocs);
        print_cpu(who, db, f);
        if (db->io_known)
            printf("%8s database per work request: %.1f read-like + %.1f write-like system"
                   " calls, %.2f voluntary + %.2f involuntary context switches\n",
                   "", (double)db->used.syscr * per, (double)db->used.syscw * per,
                   (double)db->used.vcsw * per, (double)db->used.ivcsw * per);
    }
    double all = 1.0 / f->nwork_all; /* the counters cover the warm-up too */
    printf("%8s per work request: %.2f commits, %.3f rollbacks, %.1f blocks read from the"
           " OS, %.0f from shared buffers, %.1f rows changed (pg_stat_database)",
           "", pg->commits * all, pg->rollbacks * all, pg->blks_read * all, pg->blks_hit * all,
           pg->tup_changed * all);
    if (conflicts >= 0)
        printf("; %.4f write transactions run again after a conflict (%.0f)", conflicts * all,
               conflicts);
    if (pg->deadlocks > 0)
        printf("; %.0f deadlocks", pg->deadlocks);
    printf("\n");
}

/* Makes the project for a size in dir (on PostgreSQL, its database dbname)
 * and fills it. */
static void one_project(const plan *pl, long nunits, const char *dir, const char *dbname)
{
    char where[4200];
    if (pg_server) {
        pg_database_fresh(pg_server, dbname, where, sizeof where);
        char *init[] = {(char *)pl->server, "init", (char *)dir, "--database", where, NULL};
        run_or_die(init);
    } else {
        snprintf(where, sizeof where, "%.4100s/ozma.db", dir);
        char *init[] = {(char *)pl->server, "init", (char *)dir, NULL};
        run_or_die(init);
    }
    tune_config(dir, pl->nconn, pl->nthreads);
    fill(where, nunits);
}

/* One round of the load on the project in dir (its database dbname on
 * PostgreSQL) with nsched schedulers; the figures printed and returned. */
static figures one_run(const plan *pl, const char *dir, const char *dbname, long nunits,
                       int nsched, int round)
{
    /* watched: the schedulers, then the database server and this program */
    watch watched[SCHED_MAX + 2] = {{0}};
    int ports[SCHED_MAX];
    for (int i = 0; i < nsched; i++)
        watched[i].pid = serve(pl->server, dir, i > 0, &ports[i]);
    watched[nsched] = (watch){.pid = pl->pg_pid, .tree = true};
    watched[nsched + 1] = (watch){.pid = getpid()};
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", ports[0]);

    static conn conns[CONN_MAX];
    hosts_register(url, conns, pl->nconn, ports, nsched, round);
    long assimilated0, assimilated;
    long validated0 = validated_units(url, &assimilated0);
    pg_counts pg0 = {0}, pg1 = {0};
    double conflicts0 = 0, conflicts = pg_server ? 0 : -1;
    if (pg_server) {
        pg0 = pg_counts_read(pg_server, dbname);
        for (int i = 0; i < nsched; i++) {
            snprintf(url, sizeof url, "http://127.0.0.1:%d", ports[i]);
            conflicts0 += write_conflicts(url);
        }
    }
    double t0 = now_s();
    figures f = drive(conns, pl->nconn, pl->seconds, watched, nsched + 2);
    double run_s = now_s() - t0;
    snprintf(url, sizeof url, "http://127.0.0.1:%d", ports[0]);
    long validated = validated_units(url, &assimilated);
    long backlog = validated >= 0 && assimilated >= 0 ? validated - assimilated : -1;
    validated = validated >= 0 && validated0 >= 0 ? validated - validated0 : -1;
    assimilated = assimilated >= 0 && assimilated0 >= 0 ? assimilated - assimilated0 : -1;
    if (pg_server) {
        for (int i = 0; i < nsched && conflicts >= 0; i++) {
            snprintf(url, sizeof url, "http://127.0.0.1:%d", ports[i]);
            double c = write_conflicts(url);
            conflicts = c >= 0 ? conflicts + c : -1;
        }
        conflicts = conflicts >= 0 ? conflicts - conflicts0 : -1;
        nanosleep(&(struct timespec){1, 500000000}, NULL); /* the backends report each second */
        pg1 = pg_counts_read(pg_server, dbname);
    }
    for (int i = 0; i < nsched; i++) {
        kill(watched[i].pid, SIGTERM);
        int st;
        waitpid(watched[i].pid, &st, 0);
    }
    if (nsched > 1 || pl->nscheds > 1)
        printf("%8ld units, %d scheduler%s:\n", nunits, nsched, nsched > 1 ? "s" : "");
    printf("%8ld units  work %8.0f req/s  dispatch %8.0f units/s  p50 %6.2f ms  p99 %6.2f ms",
           nunits, f.work_rps, f.dispatch_rps, f.work_p50, f.work_p99);
    if (put_results)
        printf("  | results returned %7.0f/s by PUT: p50 %6.2f ms  p99 %6.2f ms", f.returned_rps,
               f.up_p50, f.up_p99);
    else if (!no_upload)
        printf("  | results returned %7.0f/s in the work requests", f.returned_rps);
    printf("  | errors %ld, empty %ld\n", f.errors, f.empty);
    pg_counts used = {pg1.commits - pg0.commits,         pg1.rollbacks - pg0.rollbacks,
                      pg1.deadlocks - pg0.deadlocks,     pg1.blks_read - pg0.blks_read,
                      pg1.blks_hit - pg0.blks_hit,       pg1.tup_returned - pg0.tup_returned,
                      pg1.tup_fetched - pg0.tup_fetched, pg1.tup_changed - pg0.tup_changed};
    print_use(nsched, watched, &f, &used, conflicts);
    if (f.returned_rps > 0 && validated >= 0)
        printf("%8s validator: %.0f units/s validated during the run, while hosts returned"
               " results for %.0f units/s (quorum 2)%s\n",
               "", (double)validated / run_s, f.returned_rps / 2,
               (double)validated / run_s < 0.9 * f.returned_rps / 2
                   ? ": validation lags, and the rest waits for it"
                   : "");
    if (f.returned_rps > 0 && assimilated >= 0)
        printf("%8s assimilator: %.0f units/s assimilated during the run (results of %d signals"
               " each), %ld validated units waiting for it at the end%s\n",
               "", (double)assimilated / run_s, nsignals, backlog,
               validated > 0 && (double)assimilated < 0.9 * (double)validated
                   ? ": assimilation lags validation"
                   : ": it keeps up with validation");
    if (f.empty)
        printf("%8s note: %ld work requests got no unit (every replica was sent): the figures"
               " above are not all dispatches; run fewer --seconds or load more --units\n",
               "", f.empty);
    fflush(stdout);
    return f;
}

int main(int argc, char **argv)
{
    const char *sizes = "100000,1000000", *keep = NULL;
    double seconds = 10;
    int nconn = 256, nthreads = 0, pg_pid = 0;
    const char *scheds = "1";
    char server[4096] = "";
    static const char usage[] =
        "usage: bench_sched_load [--units N,N...] [--seconds S] [--connections C]"
        " [--threads T] [--server PATH] [--keep DIR] [--no-upload] [--put-results] [--signals S]"
        " [--database URI [--schedulers N[,N...]] [--pg-pid PID]]\n";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--units") && i + 1 < argc)
            sizes = argv[++i];
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--connections") && i + 1 < argc)
            nconn = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            nthreads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--server") && i + 1 < argc)
            snprintf(server, sizeof server, "%s", argv[++i]);
        else if (!strcmp(argv[i], "--keep") && i + 1 < argc)
            keep = argv[++i];
        else if (!strcmp(argv[i], "--no-upload"))
            no_upload = true;
        else if (!strcmp(argv[i], "--put-results"))
            put_results = true;
        else if (!strcmp(argv[i], "--signals") && i + 1 < argc)
            nsignals = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--database") && i + 1 < argc)
            pg_server = argv[++i];
        else if (!strcmp(argv[i], "--schedulers") && i + 1 < argc)
            scheds = argv[++i];
        else if (!strcmp(argv[i], "--pg-pid") && i + 1 < argc)
            pg_pid = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage, stdout);
            return 0;
        } else {
            fputs(usage, stderr);
            return 2;
        }
    }
    if (nconn < 2 || nconn > CONN_MAX || !(seconds > 0) || nthreads < 0 || nthreads > 256 ||
        (nsignals != 0 && (nsignals < 2 || nsignals > SIGNALS_MAX)))
        die("%s", "--connections 2..512, --threads 1..256, --seconds > 0, --signals 0 or 2..30");
    plan pl = {.nscheds = 0};
    for (const char *p = scheds; *p;) {
        char *end;
        long n = strtol(p, &end, 10);
        if (end == p || n < 1 || n > SCHED_MAX || (n > 1 && !pg_server) ||
            pl.nscheds == SCHED_MAX || (*end && *end != ','))
            die("--schedulers N[,N...]: each 1..%d, more than 1 only with --database",
                SCHED_MAX);
        pl.scheds[pl.nscheds++] = (int)n;
        p = *end ? end + 1 : end;
    }
    if (pg_pid < 0 || (pg_pid && !pg_server))
        die("%s", "--pg-pid PID only with --database");
    if (!server[0]) {
        char self[4000];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0)
            die("%s", "cannot find myself; pass --server");
        self[n] = 0;
        *strrchr(self, '/') = 0;
        snprintf(server, sizeof server, "%s/../bin/ozma-server", self);
    }
    char root[4096];
    if (keep) {
        snprintf(root, sizeof root, "%s", keep);
        mkdir(root, 0755);
    } else {
        snprintf(root, sizeof root, "/tmp/oz-bench-load-XXXXXX");
        if (!mkdtemp(root))
            die("%s", strerror(errno));
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    result_template();
    pl.server = server;
    pl.root = root;
    pl.nconn = nconn;
    pl.nthreads = nthreads;
    pl.seconds = seconds;
    pl.pg_pid = pg_pid ? pg_pid : -1;
    pl.keep = keep != NULL;
    if (pg_server && !pg_pid)
        pl.pg_pid = pg_postmaster(pg_server);
    printf("bench_sched_load: %d connections (hosts), %.0f s per size%s,"
           " server %s\n",
           nconn, seconds,
           no_upload     ? ", no uploads"
           : put_results ? ", results by PUT"
                         : ", results in work requests",
           server);
    if (pg_server)
        printf("bench_sched_load: PostgreSQL %s, schedulers %s, its postmaster %s\n", pg_server,
               scheds, pl.pg_pid > 0 ? "found here" : "not on this host");
    figures first[SCHED_MAX] = {{0}}, last[SCHED_MAX] = {{0}};
    int nsizes = 0;
    for (const char *p = sizes; *p;) {
        long n = strtol(p, (char **)&p, 10);
        if (n <= 0)
            die("bad --units %s", sizes);
        char dir[4200], dbname[64];
        snprintf(dir, sizeof dir, "%.4000s/p%ld", root, n);
        snprintf(dbname, sizeof dbname, "bench_%ld", n);
        one_project(&pl, n, dir, dbname);
        for (int k = 0; k < pl.nscheds; k++) {
            figures f = one_run(&pl, dir, dbname, n, pl.scheds[k], k);
            if (nsizes == 0)
                first[k] = f;
            last[k] = f;
        }
        if (pg_server && !pl.keep)
            pg_database_drop(pg_server, dbname);
        nsizes++;
        if (*p == ',')
            p++;
    }
    for (int k = 0; nsizes > 1 && k < pl.nscheds; k++)
        printf("largest/smallest work req/s%s: %.3f (target >= 0.8)\n",
               pl.nscheds > 1 ? (pl.scheds[k] > 1 ? ", several schedulers" : ", 1 scheduler") : "",
               last[k].work_rps / first[k].work_rps);
    if (!keep) {
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
        if (system(cmd) != 0)
            fprintf(stderr, "bench_sched_load: could not remove %s\n", root);
    }
    curl_global_cleanup();
    return 0;
}
