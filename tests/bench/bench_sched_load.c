/*
 * bench_sched_load.c - how many work requests a second the scheduler
 * serves, and how fast, with 10^5 and with 10^6 units loaded (issue 4's
 * targets: >= 10,000 work requests/s each dispatching a unit, p99 < 50 ms,
 * the 10^6 figure within 20 % of the 10^5 one).
 *
 * For each size it makes a real project (`ozma-server init`), fills the
 * database through the store with that many small units (rows only: the
 * benchmark measures dispatch and upload, not file transfer), starts a real
 * `ozma-server serve` on loopback, registers hosts over HTTP and drives it
 * with a libcurl-multi client: every connection is one host that asks for
 * work (POST /api/v1/work) and uploads a result for each unit it got (PUT
 * /api/v1/replicas/ID/result), so the validator and assimilator run too.
 * It prints requests/s, dispatches/s and p50/p99 latency for each kind of
 * request, then the ratio of the two sizes.
 *
 *   bench_sched_load [--units N,N...] [--seconds S] [--connections C]
 *                    [--threads T] [--server PATH] [--keep DIR] [--no-upload]
 *
 * Defaults: 256 connections (hosts, two per account), 64 server threads
 * (project.json http_threads), 10 s per size after a 1 s warm-up.
 *
 * --no-upload: hosts only ask for work (dispatch alone, no uploads, no
 * validation); --keep DIR keeps the projects.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "ozma_workunits.h"
#include "store.h"

#define CONN_MAX 512
#define LAT_MAX 2000000

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench_sched_load: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

/* ---- project and database ------------------------------------------------------------------ */

static void run_or_die(char *const argv[])
{
    pid_t pid = fork();
    if (pid == 0) {
        execv(argv[0], argv);
        _exit(127);
    }
    int st;
    if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        die("%s failed", argv[0]);
}

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
    json_object_set_new(c, "connection_limit", json_integer(connections * 2 + 64));
    json_object_set_new(c, "http_threads", json_integer(threads));
    if (json_dump_file(c, path, JSON_INDENT(2)) != 0)
        die("cannot write %s", path);
    json_decref(c);
}

/* size units of 2^10 samples, loaded through the store in batches. */
static void fill(const char *dir, long nunits)
{
    char path[4200], why[512];
    snprintf(path, sizeof path, "%.4100s/ozma.db", dir);
    oz_db *db;
    oz_store *s;
    if (oz_db_open(path, &db, why, sizeof why) || oz_store_open(db, &s, why, sizeof why))
        die("%s", why);
    oz_sci_config cfg;
    oz_sci_config_default(&cfg);
    cfg.fft_min = 8;
    cfg.fft_max = 256;
    json_t *cj = oz_sci_config_to_json(&cfg);
    char *ctext = json_dumps(cj, JSON_COMPACT);
    json_decref(cj);
    oz_dataset_info d = {.name = "bench",
                         .recording = "synthetic rows",
                         .sample_rate = 9765.625,
                         .center_hz = 1420e6,
                         .config_json = ctext,
                         .min_quorum = 2,
                         .target_nresults = 2,
                         .max_error_results = 3,
                         .max_total_results = 6,
                         .delay_bound = 7 * 86400};
    int64_t id;
    if (oz_store_dataset_begin(s, &d, (int64_t)time(NULL), &id, why, sizeof why))
        die("%s", why);
    enum { BATCH = 10000 };
    static oz_unit_row rows[BATCH];
    static char names[BATCH][32], files[BATCH][40];
    double t0 = now_s();
    for (long base = 0; base < nunits; base += BATCH) {
        size_t n = 0;
        for (long i = base; i < nunits && n < BATCH; i++, n++) {
            snprintf(names[n], sizeof names[n], "bench-%07ld", i);
            snprintf(files[n], sizeof files[n], "%s.ozwu", names[n]);
            rows[n] = (oz_unit_row){.name = names[n],
                                    .file = files[n],
                                    .bytes = 9000,
                                    .flops = 3000000000ull,
                                    .index = (uint64_t)i,
                                    .start_s = (double)i * 0.1,
                                    .nsamples = 1024};
            memset(rows[n].sha256, (int)(i & 0xff), 32);
        }
        if (oz_store_units_add(s, id, rows, n, why, sizeof why))
            die("%s", why);
    }
    if (oz_store_dataset_finish(s, id, why, sizeof why))
        die("%s", why);
    fprintf(stderr, "bench_sched_load: %ld units loaded in %.1f s\n", nunits, now_s() - t0);
    free(ctext);
    oz_store_close(s);
    oz_db_close(db);
}

/* ---- the server ------------------------------------------------------------------------------ */

/* Starts `server serve dir --port 0` and reads its ready line for the port. */
static pid_t serve(const char *server, const char *dir, int *port)
{
    int fds[2];
    if (pipe(fds) != 0)
        die("%s", strerror(errno));
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        execl(server, server, "serve", dir, "--port", "0", "--quiet", (char *)NULL);
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
        while (fgets(line, sizeof line, err))
            fputs(line, stderr);
        _exit(0);
    }
    fclose(err);
    return pid;
}

/* ---- HTTP ------------------------------------------------------------------------------------ */

typedef struct buf {
    char data[16384];
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

/* ---- the load ------------------------------------------------------------------------------ */

enum { REQ_WORK, REQ_UPLOAD, REQ_KINDS };

typedef struct pending {
    int64_t replica;
    char unit[OZ_WU_ID_MAX + 1];
    char sha[65];
} pending;

typedef struct conn {
    CURL *easy;
    struct curl_slist *headers;
    char key[65];
    buf reply;
    int kind;
    char *body;
    char url[256];
    pending todo[64];
    int ntodo;
} conn;

typedef struct stats {
    double *lat[REQ_KINDS];
    size_t n[REQ_KINDS];
    long dispatched, errors, empty;
} stats;

static const char *base_url;
static bool no_upload; /* --no-upload: work requests only */

/* The result file a host uploads for p: the kernel's JSON of an empty
 * result, made once with placeholders by the library (so its shape is the
 * real one) and filled in per upload with two substitutions, keeping the
 * load generator's own CPU cost small on a machine it shares. */
#define UNIT_MARK "@UNIT@"
#define SHA_MARK "@SHA@"
static char result_head[4096], result_mid[4096], result_tail[4096];

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
}

static char *result_body(const pending *p)
{
    size_t n =
        strlen(result_head) + strlen(p->unit) + strlen(result_mid) + 64 + strlen(result_tail) + 1;
    char *t = malloc(n);
    if (t)
        snprintf(t, n, "%s%s%s%s%s", result_head, p->unit, result_mid, p->sha, result_tail);
    return t;
}

static void conn_next(conn *c)
{
    free(c->body);
    c->body = NULL;
    c->reply.len = 0;
    c->reply.data[0] = 0;
    curl_easy_setopt(c->easy, CURLOPT_CUSTOMREQUEST, NULL);
    if (c->ntodo > 0) {
        pending *p = &c->todo[--c->ntodo];
        c->kind = REQ_UPLOAD;
        c->body = result_body(p);
        snprintf(c->url, sizeof c->url, "%s/api/v1/replicas/%lld/result", base_url,
                 (long long)p->replica);
        curl_easy_setopt(c->easy, CURLOPT_CUSTOMREQUEST, "PUT");
    } else {
        c->kind = REQ_WORK;
        c->body = strdup("{\"want_seconds\":0.001}");
        snprintf(c->url, sizeof c->url, "%s/api/v1/work", base_url);
    }
    curl_easy_setopt(c->easy, CURLOPT_URL, c->url);
    curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, c->body);
}

static void conn_done(conn *c, stats *st, double lat)
{
    long status = 0;
    curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        if (st->errors++ < 5)
            fprintf(stderr, "bench_sched_load: HTTP %ld: %s\n", status, c->reply.data);
        return;
    }
    if (st->n[c->kind] < LAT_MAX)
        st->lat[c->kind][st->n[c->kind]++] = lat;
    if (c->kind != REQ_WORK)
        return;
    json_t *r = json_loads(c->reply.data, 0, NULL);
    json_t *as = json_object_get(r, "assignments");
    st->dispatched += (long)json_array_size(as);
    st->empty += json_array_size(as) == 0;
    if (no_upload) {
        json_decref(r);
        return;
    }
    size_t i;
    json_t *a;
    json_array_foreach(as, i, a)
    {
        if (c->ntodo >= 64)
            break;
        pending *p = &c->todo[c->ntodo++];
        p->replica = json_integer_value(json_object_get(a, "replica_id"));
        snprintf(p->unit, sizeof p->unit, "%s", json_string_value(json_object_get(a, "unit_id")));
        snprintf(p->sha, sizeof p->sha, "%s", json_string_value(json_object_get(a, "sha256")));
    }
    json_decref(r);
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

typedef struct figures {
    double work_rps, dispatch_rps, upload_rps, work_p50, work_p99, up_p50, up_p99;
    long errors, empty;
} figures;

static figures drive(conn *conns, int nconn, double seconds)
{
    stats st = {.dispatched = 0};
    for (int k = 0; k < REQ_KINDS; k++)
        st.lat[k] = malloc(LAT_MAX * sizeof(double));
    CURLM *m = curl_multi_init();
    double *started = calloc((size_t)nconn, sizeof *started);
    for (int i = 0; i < nconn; i++) {
        conn_next(&conns[i]);
        curl_easy_setopt(conns[i].easy, CURLOPT_PRIVATE, &conns[i]);
        started[i] = now_s();
        curl_multi_add_handle(m, conns[i].easy);
    }
    double t0 = now_s(), end = t0 + seconds, warm = t0 + 1.0;
    int running = nconn;
    bool measuring = false;
    while (running > 0) {
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            conn *c;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c);
            int idx = (int)(c - conns);
            double t = now_s();
            if (!measuring && t >= warm) { /* the first second warms caches up */
                measuring = true;
                memset(st.n, 0, sizeof st.n);
                st.dispatched = st.errors = st.empty = 0;
                t0 = t;
            }
            if (msg->data.result == CURLE_OK)
                conn_done(c, &st, t - started[idx]);
            else if (st.errors++ < 5)
                fprintf(stderr, "bench_sched_load: %s\n", curl_easy_strerror(msg->data.result));
            curl_multi_remove_handle(m, c->easy);
            if (t < end) {
                conn_next(c);
                started[idx] = now_s();
                curl_multi_add_handle(m, c->easy);
                running++;
            }
        }
        if (running > 0)
            curl_multi_poll(m, NULL, 0, 100, NULL);
    }
    double dt = now_s() - t0;
    figures f = {.errors = st.errors, .empty = st.empty};
    f.work_rps = (double)st.n[REQ_WORK] / dt;
    f.upload_rps = (double)st.n[REQ_UPLOAD] / dt;
    f.dispatch_rps = (double)st.dispatched / dt;
    for (int k = 0; k < REQ_KINDS; k++)
        qsort(st.lat[k], st.n[k], sizeof(double), cmp_double);
    f.work_p50 = pct(st.lat[REQ_WORK], st.n[REQ_WORK], 0.50) * 1e3;
    f.work_p99 = pct(st.lat[REQ_WORK], st.n[REQ_WORK], 0.99) * 1e3;
    f.up_p50 = pct(st.lat[REQ_UPLOAD], st.n[REQ_UPLOAD], 0.50) * 1e3;
    f.up_p99 = pct(st.lat[REQ_UPLOAD], st.n[REQ_UPLOAD], 0.99) * 1e3;
    curl_multi_cleanup(m);
    free(started);
    for (int k = 0; k < REQ_KINDS; k++)
        free(st.lat[k]);
    return f;
}

static figures one_size(const char *server, const char *root, long nunits, int nconn, int nthreads,
                        double seconds)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%.4000s/p%ld", root, nunits);
    char *init[] = {(char *)server, "init", dir, NULL};
    run_or_die(init);
    tune_config(dir, nconn, nthreads);
    fill(dir, nunits);
    int port;
    pid_t pid = serve(server, dir, &port);
    static char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    base_url = url;

    /* Hosts: two per account, so quorum-2 units find a second account. */
    CURL *setup = curl_easy_init();
    static conn conns[CONN_MAX];
    char u[128], body[256], acct_key[65] = "";
    for (int i = 0; i < nconn; i++) {
        if (i % 2 == 0) {
            snprintf(u, sizeof u, "%s/api/v1/accounts", url);
            snprintf(body, sizeof body, "{\"name\":\"bench%d\"}", i / 2);
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
        json_decref(r);
        c->easy = curl_easy_init();
        char hdr[128];
        snprintf(hdr, sizeof hdr, "Authorization: Bearer %s", c->key);
        c->headers = curl_slist_append(NULL, "Content-Type: application/json");
        c->headers = curl_slist_append(c->headers, hdr);
        curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, c->headers);
        curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, &c->reply);
        curl_easy_setopt(c->easy, CURLOPT_TCP_NODELAY, 1L);
    }
    curl_easy_cleanup(setup);

    figures f = drive(conns, nconn, seconds);
    for (int i = 0; i < nconn; i++) {
        curl_easy_cleanup(conns[i].easy);
        curl_slist_free_all(conns[i].headers);
        free(conns[i].body);
    }
    kill(pid, SIGTERM);
    int st;
    waitpid(pid, &st, 0);
    printf("%8ld units  work %8.0f req/s  dispatch %8.0f units/s  p50 %6.2f ms  p99 %6.2f ms"
           "  | upload %7.0f req/s  p50 %6.2f ms  p99 %6.2f ms  | errors %ld, empty %ld\n",
           nunits, f.work_rps, f.dispatch_rps, f.work_p50, f.work_p99, f.upload_rps, f.up_p50,
           f.up_p99, f.errors, f.empty);
    fflush(stdout);
    return f;
}

int main(int argc, char **argv)
{
    const char *sizes = "100000,1000000", *keep = NULL;
    double seconds = 10;
    int nconn = 256, nthreads = 64;
    char server[4096] = "";
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
        else {
            fprintf(stderr, "usage: bench_sched_load [--units N,N...] [--seconds S]"
                            " [--connections C] [--threads T] [--server PATH] [--keep DIR]"
                            " [--no-upload]\n");
            return 2;
        }
    }
    if (nconn < 2 || nconn > CONN_MAX || !(seconds > 0) || nthreads < 1 || nthreads > 256)
        die("%s", "--connections 2..512, --threads 1..256 and --seconds > 0");
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
    printf("bench_sched_load: %d connections (hosts), %d server threads, %.0f s per size%s,"
           " server %s\n",
           nconn, nthreads, seconds, no_upload ? ", no uploads" : "", server);
    figures first = {0}, last = {0};
    int nsizes = 0;
    for (const char *p = sizes; *p;) {
        long n = strtol(p, (char **)&p, 10);
        if (n <= 0)
            die("bad --units %s", sizes);
        figures f = one_size(server, root, n, nconn, nthreads, seconds);
        if (nsizes++ == 0)
            first = f;
        last = f;
        if (*p == ',')
            p++;
    }
    if (nsizes > 1)
        printf("largest/smallest work req/s: %.3f (target >= 0.8)\n",
               last.work_rps / first.work_rps);
    if (!keep) {
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
        if (system(cmd) != 0)
            fprintf(stderr, "bench_sched_load: could not remove %s\n", root);
    }
    curl_global_cleanup();
    return 0;
}
