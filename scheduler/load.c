/*
 * load.c - `ozma-server load` (see load.h).
 *
 * Order of work, chosen so that a failure at any point leaves nothing:
 *  1. everything that can be checked without touching the project is
 *     checked (options, the recording, the unit plan, the configuration,
 *     the dataset name), so bad input changes nothing at all;
 *  2. the project's load lock is taken (DIR/load.lock, flock: one load at a
 *     time, released by the kernel even when a load is killed), then the
 *     dataset row is begun in state "loading"; since no other load can be
 *     running, a dataset of the same name still "loading" is a stale
 *     half-load and is removed first;
 *  3. the splitter writes units; each durable unit is queued as a row and
 *     every OZ_LOAD_BATCH rows go in as one transaction;
 *  4. the dataset is finished (its replicas made) in one transaction.
 * From step 2 on, a failure or a stop removes the dataset's rows and every
 * file of the name DATASET-<digits>.ozwu (and the splitter's temporary
 * files of those names) from units/: the splitter may have finished units
 * it never reported, so the folder is scanned rather than trusted.
 *
 * FLOP counts: a unit's credit comes from the FLOP count of its search
 * plan, which depends only on the configuration, the sample rate and the
 * unit length.  The kernel counts it from the plan alone (oz_sci_plan_flops:
 * no samples, no FFTW plans), once per distinct length, and the count is
 * reused for every unit; a unit the kernel would refuse is refused here.
 */
#include "load.h"
#include "load_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "canary.h"
#include "project.h"
#include "sched_errors.h"
#include "sky.h"
#include "store.h"

void oz_load_opts_default(oz_load_opts *o)
{
    memset(o, 0, sizeof *o);
    o->min_quorum = 2;
    o->target_nresults = 2;
    o->max_error_results = 3;
    o->max_total_results = 6;
    o->delay_bound = 7 * 86400;
    o->adaptive = -1;
    oz_wu_config_recording(&o->config);
    o->unit_samples = OZ_WU_UNIT_SAMPLES_DEFAULT;
    o->overlap = OZ_WU_OVERLAP_DEFAULT;
}

int oz_load_duration_parse(const char *s, int64_t *seconds)
{
    if (!s || *s < '0' || *s > '9')
        return OZ_SCHED_EINVAL;
    int64_t v = 0;
    const char *p = s;
    while (*p >= '0' && *p <= '9') {
        if (v > OZ_LOAD_DEADLINE_MAX)
            return OZ_SCHED_EINVAL;
        v = v * 10 + (*p++ - '0');
    }
    int64_t mult = 1;
    switch (*p) {
    case '\0':
        break;
    case 's':
        mult = 1;
        break;
    case 'm':
        mult = 60;
        break;
    case 'h':
        mult = 3600;
        break;
    case 'd':
        mult = 86400;
        break;
    default:
        return OZ_SCHED_EINVAL;
    }
    if (*p && p[1])
        return OZ_SCHED_EINVAL;
    if (v < 1 || v > OZ_LOAD_DEADLINE_MAX / mult)
        return OZ_SCHED_EINVAL;
    *seconds = v * mult;
    return 0;
}

/* A workunits error as a scheduler one: the input's fault unless the
 * system or memory failed. */
int oz_load_from_wu(int rc)
{
    return rc == OZ_WU_ENOMEM ? OZ_SCHED_ENOMEM : rc == OZ_WU_EIO ? OZ_SCHED_EIO : OZ_SCHED_EINVAL;
}

/* Is f "NAME-<digits>.ozwu", optionally followed by ".tmp.<anything>"? */
static bool unit_file_of(const char *f, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(f, name, n) != 0 || f[n] != '-')
        return false;
    const char *p = f + n + 1;
    if (*p < '0' || *p > '9')
        return false;
    while (*p >= '0' && *p <= '9')
        p++;
    if (strncmp(p, ".ozwu", 5) != 0)
        return false;
    return p[5] == '\0' || strncmp(p + 5, ".tmp.", 5) == 0;
}

/* Removes every unit file (and temporary) of dataset `name` from units/. */
static void remove_files(const char *units, const char *name)
{
    DIR *d = opendir(units);
    if (!d)
        return;
    int dfd = dirfd(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (unit_file_of(e->d_name, name))
            unlinkat(dfd, e->d_name, 0);
    closedir(d);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int unit_flops(struct load *L, uint64_t nsamples, uint64_t *out)
{
    if (L->flops_len == nsamples) {
        *out = L->flops;
        return 0;
    }
    if (nsamples > SIZE_MAX / (2 * sizeof(float)))
        return oz_sched_fail(OZ_SCHED_ELIMIT, L->why, L->whylen, "unit too large");
    char why[256];
    uint64_t flops;
    int rc = oz_sci_plan_flops(L->config, (size_t)nsamples, L->sample_rate, L->center_hz, &flops,
                               why, sizeof why);
    if (rc != OZ_SCI_OK)
        return oz_sched_fail(rc == OZ_SCI_ENOMEM ? OZ_SCHED_ENOMEM : OZ_SCHED_EINVAL, L->why,
                             L->whylen, "planning the search of a unit: %s", why);
    L->flops = flops;
    L->flops_len = nsamples;
    *out = flops;
    return 0;
}

static int flush(struct load *L)
{
    int rc = L->nrows
                 ? oz_store_units_add(L->store, L->dataset_id, L->rows, L->nrows, L->why, L->whylen)
                 : 0;
    for (; L->nrows > 0; L->nrows--) {
        free(L->skies[L->nrows - 1]);
        L->skies[L->nrows - 1] = NULL;
    }
    return rc;
}

/* Hides a canary (canary.h) in the unit just written: its samples read
 * back, the signal added, the file written again in its own format (so
 * nothing about it differs from its neighbours but the samples), and the
 * row's hash, size and canary truth (into truth) updated. */
static int canary_add(struct load *L, const oz_wu_unit_written *w, oz_unit_row *row,
                      char truth[OZ_CANARY_JSON_MAX + 1])
{
    oz_wu_unit *u = NULL;
    float *iq = NULL;
    void *payload = NULL;
    char wwhy[512];
    int rc = oz_wu_unit_load(w->path, &u, wwhy, sizeof wwhy);
    if (rc != OZ_WU_OK) {
        rc = oz_sched_fail(oz_load_from_wu(rc), L->why, L->whylen, "%s", wwhy);
        goto out;
    }
    oz_wu_header h = *oz_wu_unit_header(u);
    size_t n = (size_t)h.nsamples;
    iq = malloc(2 * n * sizeof *iq + 1);
    payload = malloc(n * oz_wu_format_size(h.format) + 1);
    if (!iq || !payload) {
        rc = oz_sched_fail(OZ_SCHED_ENOMEM, L->why, L->whylen, "out of memory");
        goto out;
    }
    memcpy(iq, oz_wu_unit_samples(u), 2 * n * sizeof *iq);
    double draw[6];
    for (int k = 0; k < 6; k++)
        draw[k] = (double)randombytes_uniform(1u << 30) / (double)(1u << 30);
    oz_canary c;
    oz_canary_draw(L->config, n, h.sample_rate, draw, &c);
    oz_canary_inject(&c, iq, n, h.sample_rate);
    oz_wu_format_from_cf32(h.format, iq, n, payload);
    if ((rc = oz_canary_to_text(&c, truth, OZ_CANARY_JSON_MAX + 1)) != 0) {
        rc = oz_sched_fail(rc, L->why, L->whylen, "canary: too long");
        goto out;
    }
    if ((rc = oz_wu_unit_write(w->path, &h, payload, row->sha256, wwhy, sizeof wwhy)) != OZ_WU_OK) {
        rc = oz_sched_fail(oz_load_from_wu(rc), L->why, L->whylen, "%s", wwhy);
        goto out;
    }
    struct stat st;
    if (stat(w->path, &st) != 0) {
        rc = oz_sched_fail(OZ_SCHED_EIO, L->why, L->whylen, "%s: %s", w->path, strerror(errno));
        goto out;
    }
    row->bytes = (uint64_t)st.st_size;
    row->canary = truth;
    rc = 0;
out:
    free(payload);
    free(iq);
    oz_wu_unit_free(u);
    return rc;
}

int oz_load_on_unit(void *arg, const oz_wu_unit_written *w, uint64_t nunits)
{
    struct load *L = arg;
    if (L->o->stop && *L->o->stop) {
        L->rc = oz_sched_fail(OZ_SCHED_ECONFLICT, L->why, L->whylen, "interrupted");
        return 1;
    }
    const oz_wu_header *h = w->header;
    size_t i = L->nrows;
    oz_unit_row *row = &L->rows[i];
    memset(row, 0, sizeof *row);
    snprintf(L->names[i], sizeof L->names[i], "%s", h->unit_id);
    snprintf(L->files[i], sizeof L->files[i], "%s.ozwu", h->unit_id);
    row->name = L->names[i];
    row->file = L->files[i];
    row->bytes = w->file_bytes;
    memcpy(row->sha256, w->file_sha256, sizeof row->sha256);
    row->index = h->unit_index;
    row->start_s = h->start_s;
    row->nsamples = h->nsamples;
    row->sky = L->skies[i] = L->sky_next;
    L->sky_next = NULL;
    int rc = unit_flops(L, h->nsamples, &row->flops);
    if (rc == 0 && row->flops > L->flops_max)
        L->flops_max = row->flops;
    if (rc == 0 && L->canary_fraction > 0 &&
        (double)randombytes_uniform(1u << 30) < L->canary_fraction * (double)(1u << 30))
        rc = canary_add(L, w, row, L->canaries[i]);
    if (rc == 0 && ++L->nrows == OZ_LOAD_BATCH)
        rc = flush(L);
    if (rc != 0) {
        L->rc = rc;
        return 1;
    }
    L->done++;
    if (L->o->progress) {
        int width = 30, fill = (int)((double)width * (double)L->done / (double)nunits);
        double dt = now_s() - L->t0;
        fprintf(stderr, "\rozma-server: load [%.*s%*s] %" PRIu64 "/%" PRIu64 " units  %.0f/s ",
                fill, "##############################", width - fill, "", L->done, nunits,
                dt > 0 ? (double)L->done / dt : 0.0);
        fflush(stderr);
    }
    return 0;
}

static int check_name(const char *name, char *why, size_t whylen)
{
    if (oz_wu_id_valid(name, OZ_WU_DATASET_MAX))
        return 0;
    return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen,
                         "dataset name \"%.64s\" must be 1..%u of [A-Za-z0-9._-], not starting "
                         "with '.' or '-'",
                         name, OZ_WU_DATASET_MAX);
}

/* Takes the project's load lock into *fd (the lock lives as long as the
 * descriptor is open). */
static int load_lock(const char *dir, int *fd, char *why, size_t whylen)
{
    char path[OZ_PROJECT_PATH_MAX];
    if (oz_project_path(dir, "load.lock", path, sizeof path))
        return oz_sched_fail(OZ_SCHED_ELIMIT, why, whylen, "project path too long");
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (*fd < 0)
        return oz_sched_fail(OZ_SCHED_EIO, why, whylen, "%s: %s", path, strerror(errno));
    if (flock(*fd, LOCK_EX | LOCK_NB) == 0)
        return 0;
    int e = errno;
    if (e == EWOULDBLOCK)
        return oz_sched_fail(OZ_SCHED_EBUSY, why, whylen,
                             "another `ozma-server load` is running on %s; load one recording at "
                             "a time",
                             dir);
    return oz_sched_fail(OZ_SCHED_EIO, why, whylen, "%s: %s", path, strerror(e));
}

int oz_load_run(const oz_load_opts *o, uint64_t *nunits, uint64_t *unit_flops_max, char *why,
                size_t whylen)
{
    int rc;
    oz_wu_reader *r = NULL;
    oz_db *db = NULL;
    struct load L = {.o = o, .why = why, .whylen = whylen, .t0 = now_s()};
    char *config_json = NULL, *sky_json = NULL;
    oz_sky sky;
    bool begun = false, oom = false;
    int lock = -1;
    char dbpath[OZ_PROJECT_PATH_MAX], units[OZ_PROJECT_PATH_MAX], wwhy[512];
    struct sah_set S;
    memset(&S, 0, sizeof S);
    if (nunits)
        *nunits = 0;

    /* 1. everything that can be checked before the project is touched */
    if (o->min_quorum < 1 || o->target_nresults < o->min_quorum ||
        o->target_nresults > OZ_LOAD_REPLICAS_MAX)
        return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen,
                             "--replicas %d must be at least --quorum %d (1..%d)",
                             o->target_nresults, o->min_quorum, OZ_LOAD_REPLICAS_MAX);
    if (o->max_error_results < 1 || o->max_error_results > OZ_LOAD_REPLICAS_MAX)
        return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen, "--max-errors %d is outside 1..%d",
                             o->max_error_results, OZ_LOAD_REPLICAS_MAX);
    if (o->max_total_results < o->target_nresults || o->max_total_results > OZ_LOAD_REPLICAS_MAX)
        return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen,
                             "--max-total %d must be at least --replicas %d (..%d)",
                             o->max_total_results, o->target_nresults, OZ_LOAD_REPLICAS_MAX);
    if (o->delay_bound < 1 || o->delay_bound > OZ_LOAD_DEADLINE_MAX)
        return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen, "--deadline is outside 1s..365d");
    if (oz_sci_config_check(&o->config, wwhy, sizeof wwhy) != OZ_SCI_OK)
        return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen, "analysis configuration: %s", wwhy);
    if (oz_project_path(o->dir, "units", units, sizeof units))
        return oz_sched_fail(OZ_SCHED_ELIMIT, why, whylen, "project path too long");
    int prc = oz_project_database(o->dir, dbpath, sizeof dbpath, why, whylen);
    if (prc != 0)
        return prc;
    bool sah = oz_load_sah_is(o);

    /* The units' source: .sah files taken whole, or a recording to cut. */
    const char *name;
    oz_wu_plan plan;
    oz_dataset_info d = {.recording = o->recording,
                         .min_quorum = o->min_quorum,
                         .target_nresults = o->target_nresults,
                         .max_error_results = o->max_error_results,
                         .max_total_results = o->max_total_results,
                         .delay_bound = o->delay_bound};
    oz_project_config pcfg;
    oz_project_config_default(&pcfg);
    char cfgpath[OZ_PROJECT_PATH_MAX];
    if (oz_project_path(o->dir, "project.json", cfgpath, sizeof cfgpath) ||
        oz_project_config_load(cfgpath, &pcfg, wwhy, sizeof wwhy) != 0)
        return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen, "%s", wwhy);

    if (sah) {
        if ((rc = oz_load_sah_check(o, &S, why, whylen)) != 0)
            goto out;
        name = o->name ? o->name : S.name;
        d.sample_rate = S.fs;
        d.center_hz = S.center;
        d.has_time = true;
        d.start_ns = S.start_ns;
        L.config = &S.config;
        /* each .sah's track goes with its unit (units.sky); the dataset
         * records only the site: --site, or the files' own */
        memset(&sky, 0, sizeof sky);
        sky.has_site = o->has_site || S.has_site;
        sky.site = o->has_site ? o->site : S.site;
        config_json = S.config_json; /* taken */
        S.config_json = NULL;
        plan.unit = S.nsamples0;
    } else {
        if ((rc = oz_wu_open(o->recording, o->raw, &r, wwhy, sizeof wwhy)) != OZ_WU_OK)
            return oz_sched_fail(rc == OZ_WU_ENOMEM ? OZ_SCHED_ENOMEM : OZ_SCHED_EINVAL, why,
                                 whylen, "%s", wwhy); /* an unreadable recording is bad input */
        const oz_wu_info *info = oz_wu_reader_info(r);
        name = o->name ? o->name : info->name;
        if ((rc = check_name(name, why, whylen)) != 0)
            goto out;
        if ((rc = oz_wu_plan_make(info->nsamples,
                                  o->unit_samples ? o->unit_samples : OZ_WU_UNIT_SAMPLES_DEFAULT,
                                  o->overlap, &plan, wwhy, sizeof wwhy)) != OZ_WU_OK) {
            rc = oz_sched_fail(oz_load_from_wu(rc), why, whylen, "%s", wwhy);
            goto out;
        }
        d.sample_rate = info->sample_rate;
        d.center_hz = info->center_hz;
        d.has_time = info->has_time;
        d.start_ns = info->start_ns;
        oz_sky_from_info(info, o->has_site ? &o->site : NULL, &sky);
        L.config = &o->config;
        json_t *cj = oz_sci_config_to_json(&o->config);
        config_json =
            cj ? json_dumps(cj, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17)) : NULL;
        json_decref(cj);
    }
    if ((rc = check_name(name, why, whylen)) != 0)
        goto out;
    /* Adaptive replication checks single results by re-running steps of
     * the ozma mode's search (spot.h): the seti mode (every .sah load) runs
     * its own plan and is always replicated. */
    bool steps = L.config->mode == OZ_MODE_OZMA;
    if (o->adaptive > 0 && !steps) {
        rc = oz_sched_fail(OZ_SCHED_EINVAL, why, whylen,
                           "--adaptive needs the ozma mode's search (spot checks re-run its "
                           "steps); this dataset is analysed in the seti mode");
        goto out;
    }
    d.adaptive = steps && (o->adaptive < 0 ? pcfg.adaptive != 0 : o->adaptive != 0);
    L.canary_fraction = d.adaptive && !sah ? pcfg.canary_fraction : 0.0;
    d.name = name;
    d.config_json = config_json;
    d.sky_json = sky_json = oz_sky_json(&sky, &oom);
    L.sample_rate = d.sample_rate;
    L.center_hz = d.center_hz;
    L.rows = calloc(OZ_LOAD_BATCH, sizeof *L.rows);
    L.names = calloc(OZ_LOAD_BATCH, sizeof *L.names);
    L.files = calloc(OZ_LOAD_BATCH, sizeof *L.files);
    L.canaries = calloc(OZ_LOAD_BATCH, sizeof *L.canaries);
    L.skies = calloc(OZ_LOAD_BATCH, sizeof *L.skies);
    if (!config_json || oom || !L.rows || !L.names || !L.files || !L.canaries || !L.skies) {
        rc = oz_sched_fail(OZ_SCHED_ENOMEM, why, whylen, "out of memory");
        goto out;
    }
    /* The first unit's FLOP count now: a configuration the kernel refuses
     * for this sample rate is bad input, found before anything is written. */
    uint64_t f0;
    if ((rc = unit_flops(&L, plan.unit, &f0)) != 0)
        goto out;

    /* 2. the lock, then the dataset row */
    if ((rc = load_lock(o->dir, &lock, why, whylen)) != 0 ||
        (rc = oz_db_open(dbpath, &db, why, whylen)) != 0 ||
        (rc = oz_store_open(db, &L.store, why, whylen)) != 0)
        goto out;
    rc = oz_store_dataset_begin(L.store, &d, (int64_t)time(NULL), &L.dataset_id, wwhy, sizeof wwhy);
    if (rc == OZ_SCHED_ECONFLICT) {
        fprintf(stderr,
                "ozma-server: removing dataset \"%s\" left half-loaded by an earlier load\n", name);
        if ((rc = oz_store_dataset_remove(L.store, name, NULL, NULL, why, whylen)) != 0)
            goto out;
        remove_files(units, name);
        rc = oz_store_dataset_begin(L.store, &d, (int64_t)time(NULL), &L.dataset_id, wwhy,
                                    sizeof wwhy);
    }
    if (rc != 0) {
        rc = oz_sched_fail(rc == OZ_SCHED_EEXIST ? OZ_SCHED_EINVAL : rc, why, whylen, "%s", wwhy);
        goto out;
    }
    begun = true;

    /* 3. the units */
    uint64_t n = 0;
    if (sah) {
        rc = oz_load_sah_write(&L, &S, units, name, why, whylen);
        n = L.done;
    } else {
        oz_wu_split_opts so = {.out_dir = units,
                               .dataset = name,
                               .unit_samples = plan.unit,
                               .overlap = o->overlap,
                               .config = &o->config,
                               .on_unit = oz_load_on_unit,
                               .arg = &L};
        rc = oz_wu_split_write(r, &so, &n, wwhy, sizeof wwhy);
        if (rc != OZ_WU_OK)
            rc = L.rc ? L.rc : oz_sched_fail(oz_load_from_wu(rc), why, whylen, "%s", wwhy);
    }
    if (o->progress && L.done)
        fputc('\n', stderr);
    if (rc != 0)
        goto out;
    if (o->stop && *o->stop) {
        rc = oz_sched_fail(OZ_SCHED_ECONFLICT, why, whylen, "interrupted");
        goto out;
    }
    if ((rc = flush(&L)) != 0)
        goto out;

    /* 4. ready to send */
    if ((rc = oz_store_dataset_finish(L.store, L.dataset_id, why, whylen)) != 0)
        goto out;
    begun = false;
    if (nunits)
        *nunits = n;
    if (unit_flops_max)
        *unit_flops_max = L.flops_max;

out:
    if (begun) { /* undo: rows, then every file of the name */
        char rwhy[256];
        if (oz_store_dataset_remove(L.store, name, NULL, NULL, rwhy, sizeof rwhy) != 0)
            fprintf(stderr, "ozma-server: could not remove the failed load's rows: %s\n", rwhy);
        remove_files(units, name);
    }
    if (L.store)
        oz_store_close(L.store);
    oz_db_close(db);
    free(L.rows);
    free(L.names);
    free(L.files);
    free(L.canaries);
    for (size_t i = 0; L.skies && i < OZ_LOAD_BATCH; i++)
        free(L.skies[i]);
    free(L.skies);
    free(L.sky_next);
    free(config_json);
    free(sky_json);
    oz_load_sah_set_free(&S);
    oz_wu_reader_close(r);
    if (lock >= 0)
        close(lock);
    return rc;
}
