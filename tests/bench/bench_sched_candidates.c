/*
 * bench_sched_candidates.c - what candidates cost the assimilator, and how
 * fast the candidate table answers at 10^6 signals (issue 17).
 *
 * It makes a real database (oz_db_create) with one dataset recorded at a
 * site and sky position, and units of 2^16 samples at 9765.625 Hz, and
 * assimilates canonical results through the store exactly as the
 * assimilator does (oz_sky_locate per signal, oz_store_assimilate_commit in
 * batches of OZ_STORE_BATCH_MAX units), with the store set up as
 * ozma-server sets it up: the writes run on the store's writer thread
 * (oz_db_batching_start) and a checkpointer thread of the bench's own
 * folds the WAL into the database every 0.2 s (oz_store_compact), off the
 * commits.  Each unit has S signals: two tones
 * drifting through every unit and S - 2 at random frequencies (noise
 * detections, each a candidate of its own: the worst case for the table).
 *
 *  1. units/s assimilated without candidates (the assimilator before issue
 *     17: signal rows only) and with them, on the same fresh start; by the
 *     clock and by the CPU time this process used less the checkpointer's
 *     (on a shared machine the clock also counts the time others ran: the
 *     CPU figures compare builds there), and the checkpointer's CPU per
 *     unit (the server spends it on another thread, off the writer);
 *  2. the database grown to N signals with candidates, the rate over the
 *     last batches;
 *  3. the candidate queries at that size: the first page of the ranked list
 *     (and with rfi=0, a dataset, a pixel), one candidate with its
 *     detections; the median of 21 runs each.
 *
 *   bench_sched_candidates [--signals N] [--per-unit S] [--units U] [--keep DIR]
 *
 * Defaults: N 10^6, S 20, U 2000 (for step 1).
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


#include "ozma_workunits.h"
#include "sky.h"
#include "store.h"

#define BENCH_NAME "bench_sched_candidates"
#include "bench_proc.h"

#define FS 9765.625
#define UNIT (1u << 16)
#define F0 1420e6

typedef struct bench {
    char path[4096];
    oz_db *db;
    oz_store *s;
    int64_t dataset;
    uint64_t nunits; /* rows made so far */
    oz_sky sky;
    unsigned seed;
    pthread_t checkpointer;
    atomic_bool stop;
    _Atomic double checkpoint_cpu; /* seconds the checkpointer used so far */
} bench;

/* Seconds of CPU by clock (the process's or the calling thread's). */
static double cpu_s(clockid_t clock)
{
    struct timespec t;
    clock_gettime(clock, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The server's checkpointer (jobs.c): oz_store_compact every 0.2 s on a
 * connection of its own, until b->stop. */
static void *checkpointer_main(void *arg)
{
    bench *b = arg;
    char why[512];
    oz_store *c;
    if (oz_store_open(b->db, &c, why, sizeof why) != OZ_SCHED_OK)
        die("checkpointer: %s", why);
    while (!atomic_load(&b->stop)) {
        if (oz_store_compact(c, why, sizeof why) != OZ_SCHED_OK)
            die("checkpointer: %s", why);
        atomic_store(&b->checkpoint_cpu, cpu_s(CLOCK_THREAD_CPUTIME_ID));
        struct timespec nap = {0, 200000000};
        nanosleep(&nap, NULL);
    }
    oz_store_close(c);
    return NULL;
}

static double frand(unsigned *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return (double)(*seed >> 8) / (double)(1u << 24);
}

static void open_project(bench *b, const char *dir)
{
    char why[512];
    const char *path = b->path;
    snprintf(b->path, sizeof b->path, "%s/ozma.db", dir);
    if (mkdir(dir, 0755) != 0)
        die("%s: cannot make it", dir);
    if (oz_db_create(path, why, sizeof why) != 0 || oz_db_open(path, &b->db, why, sizeof why) != 0)
        die("%s", why);
    oz_db_compact_deferred(b->db);
    atomic_init(&b->stop, false);
    atomic_init(&b->checkpoint_cpu, 0.0);
    if (oz_db_batching_start(b->db, why, sizeof why) != 0 ||
        oz_store_open(b->db, &b->s, why, sizeof why) != 0)
        die("%s", why);
    if (pthread_create(&b->checkpointer, NULL, checkpointer_main, b) != 0)
        die("%s", "cannot start the checkpointer");
    memset(&b->sky, 0, sizeof b->sky);
    b->sky.has_site = true;
    b->sky.site = (oz_wu_site){38.4331, -79.8398, 807};
    b->sky.npointing = 1;
    b->sky.pointing[0] = (oz_wu_pointing){0, 83.63, 22.01};
    bool oom;
    char *sky = oz_sky_json(&b->sky, &oom);
    oz_dataset_info d = {.name = "bench", .recording = "bench", .sample_rate = FS,
                         .center_hz = F0, .has_time = true,
                         .start_ns = 1700000000LL * 1000000000LL, .config_json = "{}",
                         .min_quorum = 1, .target_nresults = 1, .max_error_results = 3,
                         .max_total_results = 3, .delay_bound = 86400, .sky_json = sky};
    if (oz_store_dataset_begin(b->s, &d, 0, &b->dataset, why, sizeof why) != 0)
        die("%s", why);
    free(sky);
    b->seed = 7;
}

/* Adds n unit rows (ids nunits+1 ..). */
static void add_units(bench *b, uint64_t n)
{
    static oz_unit_row rows[1000];
    static char names[1000][32];
    char why[512];
    while (n > 0) {
        size_t k = n < 1000 ? (size_t)n : 1000;
        for (size_t i = 0; i < k; i++) {
            uint64_t idx = b->nunits + i;
            snprintf(names[i], sizeof names[i], "bench-%08llu", (unsigned long long)idx);
            rows[i] = (oz_unit_row){.name = names[i], .file = names[i], .bytes = 1, .flops = 1,
                                    .index = idx, .start_s = (double)idx * UNIT / FS,
                                    .nsamples = UNIT};
        }
        if (oz_store_units_add(b->s, b->dataset, rows, k, why, sizeof why) != 0)
            die("%s", why);
        b->nunits += k;
        n -= k;
    }
}

/* Assimilates units [first, first + n) with per signals each; with
 * candidates (and the sky placed) or without.  Returns units/s by the
 * clock; *cpu (may be NULL): by the CPU time used but the checkpointer's,
 * *ckpt (may be NULL): the checkpointer's CPU seconds per 1,000 units. */
static double assimilate(bench *b, uint64_t first, uint64_t n, int per, bool cand, double *cpu,
                         double *ckpt)
{
    oz_cand_config cfg;
    oz_cand_config_default(&cfg);
    enum { BATCH = OZ_STORE_BATCH_MAX };
    static oz_assimilate_unit a[BATCH];
    static oz_assimilation items[BATCH];
    oz_signal_row *rows = calloc((size_t)BATCH * (size_t)per, sizeof *rows);
    if (!rows)
        die("%s", "out of memory");
    char why[512];
    double t0 = now_s(), c0 = cpu_s(CLOCK_PROCESS_CPUTIME_ID);
    double k0 = atomic_load(&b->checkpoint_cpu);
    for (uint64_t u = first; u < first + n;) {
        size_t k = 0;
        for (; k < BATCH && u < first + n; k++, u++) {
            double start = (double)u * UNIT / FS;
            a[k] = (oz_assimilate_unit){.unit_rowid = (int64_t)u + 1, .dataset_id = b->dataset,
                                        .replica_id = 1, .unit_start_s = start,
                                        .sample_rate = FS, .nsamples = UNIT};
            oz_signal_row *r = &rows[k * (size_t)per];
            for (int i = 0; i < per; i++) {
                double t = start + 3.3 + frand(&b->seed);
                double f = i < 2 ? F0 + (i ? -2000 : 1500) + 0.05 * t
                                 : F0 + (frand(&b->seed) - 0.5) * FS;
                r[i] = (oz_signal_row){.type = i < 2 ? "spike" : "gaussian", .freq_hz = f,
                                       .chirp_hz_s = i < 2 ? 0.05 : 0, .time_s = t,
                                       .score = 1 + frand(&b->seed) * (i < 2 ? 10 : 1),
                                       .power = 10 + frand(&b->seed) * (i < 2 ? 100 : 5),
                                       .fft_len = 4096, .has_time = true,
                                       .time_ns = oz_wu_time_add(1700000000LL * 1000000000LL, t)};
                if (cand) {
                    oz_sky_at at;
                    oz_sky_locate(&b->sky, cfg.nside, t, true, r[i].time_ns, f, &at);
                    r[i].has_pos = at.has_pos;
                    r[i].ra_deg = at.ra_deg;
                    r[i].dec_deg = at.dec_deg;
                    r[i].pixel = at.pixel;
                    r[i].has_bary = at.has_bary;
                    r[i].freq_bary_hz = at.freq_bary_hz;
                }
            }
            items[k] = (oz_assimilation){.a = &a[k], .rows = r, .n = (size_t)per};
        }
        if (oz_store_assimilate_commit(b->s, items, k, cand ? &cfg : NULL, NULL, why,
                                       sizeof why) != 0)
            die("%s", why);
    }
    double dt = now_s() - t0, k = atomic_load(&b->checkpoint_cpu) - k0;
    if (cpu)
        *cpu = (double)n / (cpu_s(CLOCK_PROCESS_CPUTIME_ID) - c0 - k);
    if (ckpt)
        *ckpt = k * 1000 / (double)n;
    free(rows);
    return (double)n / dt;
}

static void close_project(bench *b)
{
    atomic_store(&b->stop, true);
    pthread_join(b->checkpointer, NULL);
    oz_store_close(b->s);
    oz_db_close(b->db);
}

/* One number from the database, by a connection of its own. */
static long long one_int(const bench *b, const char *sql)
{
    char why[256];
    oz_store *c;
    int64_t v = -1;
    if (oz_store_open(b->db, &c, why, sizeof why) == OZ_SCHED_OK) {
        if (oz_store_sql_int(c, sql, &v, why, sizeof why) != OZ_SCHED_OK)
            v = -1;
        oz_store_close(c);
    }
    return (long long)v;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, c = *(const double *)y;
    return a < c ? -1 : a > c;
}

/* The median of 21 runs of one query, in ms. */
static double query_ms(bench *b, const oz_cand_query *q, int64_t one)
{
    double t[21];
    for (int i = 0; i < 21; i++) {
        json_t *o = NULL;
        double t0 = now_s();
        int rc = q ? oz_store_candidates_json(b->s, q, &o) : oz_store_candidate_json(b->s, one, &o);
        t[i] = (now_s() - t0) * 1e3;
        if (rc != 0 || !o)
            die("query failed: %d", rc);
        json_decref(o);
    }
    qsort(t, 21, sizeof t[0], cmp_double);
    return t[10];
}

int main(int argc, char **argv)
{
    long long nsig = 1000000, per = 20, units = 2000;
    const char *keep = NULL;
    (void)run_or_die;
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--signals") == 0)
            nsig = atoll(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--per-unit") == 0)
            per = atoll(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--units") == 0)
            units = atoll(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--keep") == 0)
            keep = argv[++i];
        else
            die("usage: %s [--signals N] [--per-unit S] [--units U] [--keep DIR]", argv[0]);
    }
    if (nsig < 1 || per < 3 || per > 1000 || units < 1)
        die("%s", "--signals >= 1, --per-unit 3..1000, --units >= 1");
    char tmpl[] = "/tmp/bench_cand.XXXXXX";
    const char *root = keep ? keep : mkdtemp(tmpl);
    if (!root || (keep && mkdir(keep, 0755) != 0))
        die("%s", "cannot make the work folder");
    char dir[4096];

    bench before, after;
    snprintf(dir, sizeof dir, "%s/before", root);
    open_project(&before, dir);
    add_units(&before, (uint64_t)units);
    double c0, c1, k0, k1;
    double r0 = assimilate(&before, 0, (uint64_t)units, (int)per, false, &c0, &k0);
    close_project(&before);
    snprintf(dir, sizeof dir, "%s/after", root);
    open_project(&after, dir);
    add_units(&after, (uint64_t)units);
    double r1 = assimilate(&after, 0, (uint64_t)units, (int)per, true, &c1, &k1);
    printf("%s: %lld units of %lld signals: %.0f units/s assimilated without candidates, %.0f "
           "with (%.2fx the time); by CPU time %.0f and %.0f units/s (%.2fx); the "
           "checkpointer's CPU %.3f and %.3f s per 1000 units\n",
           BENCH_NAME, units, per, r0, r1, r0 / r1, c0, c1, c0 / c1, k0, k1);

    uint64_t total = (uint64_t)(nsig / per), done = (uint64_t)units;
    if (total > done) {
        add_units(&after, total - done);
        double rate = 0, cpu = 0, ckpt = 0;
        while (done < total) {
            uint64_t n = total - done < 5000 ? total - done : 5000;
            rate = assimilate(&after, done, n, (int)per, true, &cpu, &ckpt);
            done += n;
        }
        printf("%s: grown to %llu signals; the last %s units at %.0f units/s (%.0f by CPU time;"
               " the checkpointer's CPU %.3f s per 1000 units)\n",
               BENCH_NAME, (unsigned long long)(done * (uint64_t)per), "5000", rate, cpu, ckpt);
    }
    long long ncand = one_int(&after, "SELECT count(*) FROM candidates");
    oz_cand_query q = {.rfi = -1, .pixel = -1, .limit = 50};
    double all = query_ms(&after, &q, 0);
    q.rfi = 0;
    double clean = query_ms(&after, &q, 0);
    q.rfi = -1;
    q.dataset = "bench";
    double byset = query_ms(&after, &q, 0);
    q.dataset = NULL;
    q.pixel = oz_wu_sky_pixel(256, 83.63, 22.01);
    double bypix = query_ms(&after, &q, 0);
    q.pixel = -1;
    q.after = "10000";
    double deep = query_ms(&after, &q, 0);
    int64_t top = one_int(&after, "SELECT id FROM candidates ORDER BY detections DESC LIMIT 1");
    double one = query_ms(&after, NULL, top);
    printf("%s: %llu signals, %lld candidates; first page of 50 (median of 21): ranked %.2f ms, "
           "rfi=0 %.2f ms, dataset= %.2f ms, pixel= %.2f ms, after=10000 %.2f ms; the "
           "largest candidate with its detections %.2f ms\n",
           BENCH_NAME, (unsigned long long)(done * (uint64_t)per), ncand, all, clean, byset,
           bypix, deep, one);
    close_project(&after);
    if (!keep) {
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
        if (system(cmd) != 0)
            return 1;
    }
    return 0;
}
