/*
 * bench_sched_reads.c - what a public read costs the server: GET
 * /api/v1/status (which counts the day's returned replicas) and GET
 * /api/v1/throughput, with and without the server's cache of public answers
 * (issue 21, hole 4: 118 ms of CPU per status call at 164 k replicas).
 *
 * It makes a real project (`ozma-server init`), fills it through the store
 * with units whose replicas are then marked returned during the last day
 * (rows only, one UPDATE), and for read_cache_s 0 (every call computed, as
 * before the cache) and 1 (the default) starts a real `ozma-server serve`
 * on loopback and times back-to-back calls of each kind from one
 * keep-alive connection - C calls uncached; as many as fit in S seconds
 * cached, so that the answers made again each second are in the figure -
 * as wall time per call and the server's CPU time per call (utime + stime
 * from /proc), then the ratios.  The rate limit on reads is raised for the
 * run.
 *
 *   bench_sched_reads [--replicas N] [--calls C] [--seconds S] [--server PATH]
 *                     [--keep DIR]
 *
 * Defaults: 164,000 replicas (82,000 units of two), 30 calls, 3 s.
 */
#include <errno.h>
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

#include "ozma_science.h"
#include "store.h"

#define BENCH_NAME "bench_sched_reads"
#include "bench_proc.h"
#include "bench_procstat.h"

/* project.json: reads unlimited, and the cache as asked. */
static void tune_config(const char *dir, double cache_s)
{
    char path[4200];
    snprintf(path, sizeof path, "%.4100s/project.json", dir);
    json_error_t err;
    json_t *c = json_load_file(path, 0, &err);
    if (!c)
        die("cannot read %s", path);
    json_object_set_new(c, "read_rate", json_real(1e6));
    json_object_set_new(c, "read_burst", json_real(1e7));
    json_object_set_new(c, "read_cache_s", json_real(cache_s));
    if (json_dump_file(c, path, JSON_INDENT(2)) != 0)
        die("cannot write %s", path);
    json_decref(c);
}

/* nunits units through the store, then every replica returned in the last
 * day (spread over it), as the status counts them. */
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
    int64_t id, now = (int64_t)time(NULL);
    if (oz_store_dataset_begin(s, &d, now, &id, why, sizeof why))
        die("%s", why);
    enum { BATCH = 10000 };
    static oz_unit_row rows[BATCH];
    static char names[BATCH][32], files[BATCH][40];
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
    free(ctext);
    oz_store_close(s);
    oz_db_close(db);

    /* The replicas returned: a benchmark's shortcut past the HTTP path. */
    char sql[256];
    snprintf(sql, sizeof sql,
             "UPDATE replicas SET state = {REPLICA_OVER}, outcome = {OUTCOME_SUCCESS},"
             " sent = %lld - 86400, received = %lld - (id * 7919) %% 86000",
             (long long)now, (long long)now);
    if (oz_db_open(path, &db, why, sizeof why) || oz_store_open(db, &s, why, sizeof why) ||
        oz_store_sql_exec(s, sql, why, sizeof why))
        die("marking replicas returned: %s", why);
    oz_store_close(s);
    oz_db_close(db);
}

/* Starts `server serve dir --port 0 --quiet` and reads its ready line. */
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
    fclose(err);
    if (!*port)
        die("%s did not say it was serving", server);
    return pid;
}

static size_t sink(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    *(size_t *)arg += size * n;
    return size * n;
}

typedef struct figure {
    double wall_ms, cpu_ms; /* per call */
    long calls;
} figure;

/* GETs of url back to back on one connection: calls of them, or as many
 * as fit in seconds when seconds > 0. */
static figure time_calls(pid_t pid, const char *url, int calls, double seconds)
{
    CURL *c = curl_easy_init();
    size_t got = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &got);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    long status = 0;
    if (curl_easy_perform(c) != CURLE_OK) /* warm: connection, statements, pages */
        die("GET %s failed", url);
    double t0 = now_s(), c0 = proc_cpu_s(pid);
    long done = 0;
    while (seconds > 0 ? now_s() - t0 < seconds : done < calls) {
        if (curl_easy_perform(c) != CURLE_OK ||
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK || status != 200)
            die("GET %s: %ld", url, status);
        done++;
    }
    figure f = {(now_s() - t0) / (double)done * 1e3, (proc_cpu_s(pid) - c0) / (double)done * 1e3,
                done};
    curl_easy_cleanup(c);
    return f;
}

int main(int argc, char **argv)
{
    long replicas = 164000;
    int calls = 30;
    double seconds = 3;
    const char *keep = NULL;
    char server[4096] = "";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--replicas") && i + 1 < argc)
            replicas = atol(argv[++i]);
        else if (!strcmp(argv[i], "--calls") && i + 1 < argc)
            calls = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--server") && i + 1 < argc)
            snprintf(server, sizeof server, "%s", argv[++i]);
        else if (!strcmp(argv[i], "--keep") && i + 1 < argc)
            keep = argv[++i];
        else {
            fprintf(stderr, "usage: bench_sched_reads [--replicas N] [--calls C] [--seconds S]"
                            " [--server PATH] [--keep DIR]\n");
            return 2;
        }
    }
    if (replicas < 2 || calls < 1 || !(seconds > 0))
        die("%s", "--replicas >= 2, --calls >= 1 and --seconds > 0");
    if (!server[0]) {
        char self[4000];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0)
            die("%s", "cannot find myself; pass --server");
        self[n] = 0;
        *strrchr(self, '/') = 0;
        snprintf(server, sizeof server, "%s/../bin/ozma-server", self);
    }
    char root[4096], dir[4200];
    if (keep) {
        snprintf(root, sizeof root, "%s", keep);
        mkdir(root, 0755);
    } else {
        snprintf(root, sizeof root, "/tmp/oz-bench-reads-XXXXXX");
        if (!mkdtemp(root))
            die("%s", strerror(errno));
    }
    snprintf(dir, sizeof dir, "%.4000s/p", root);
    char *init[] = {server, "init", dir, NULL};
    run_or_die(init);
    double t0 = now_s();
    fill(dir, replicas / 2);
    printf("bench_sched_reads: %ld replicas returned in the last day, loaded in %.1f s; %d calls"
           " uncached, %.0f s of calls cached\n",
           replicas / 2 * 2, now_s() - t0, calls, seconds);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    static const char *const paths[] = {"/api/v1/status", "/api/v1/throughput"};
    figure f[2][2]; /* [cache off, on][path] */
    for (int cached = 0; cached < 2; cached++) {
        tune_config(dir, cached ? 1.0 : 0.0);
        int port;
        pid_t pid = serve(server, dir, &port);
        for (int k = 0; k < 2; k++) {
            char url[128];
            snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, paths[k]);
            f[cached][k] = time_calls(pid, url, calls, cached ? seconds : 0);
            printf("  %-20s read_cache_s %d: %6ld calls, %8.3f ms per call, server CPU %8.3f ms"
                   " per call\n",
                   paths[k], cached, f[cached][k].calls, f[cached][k].wall_ms, f[cached][k].cpu_ms);
        }
        kill(pid, SIGTERM);
        int st;
        waitpid(pid, &st, 0);
    }
    for (int k = 0; k < 2; k++) {
        printf("  %-20s uncached/cached: %.0fx wall", paths[k], f[0][k].wall_ms / f[1][k].wall_ms);
        if (f[1][k].cpu_ms > 0)
            printf(", %.0fx server CPU\n", f[0][k].cpu_ms / f[1][k].cpu_ms);
        else
            printf(", server CPU below the clock's tick when cached\n");
    }
    curl_global_cleanup();
    if (!keep) {
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
        if (system(cmd) != 0)
            fprintf(stderr, "bench_sched_reads: could not remove %s\n", root);
    }
    return 0;
}
