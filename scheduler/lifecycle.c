/*
 * lifecycle.c - the file deleter, the purge and the thread that runs them
 * (lifecycle.h).
 *
 * The file deleter unlinks first and records after: a crash between the
 * two leaves a dataset whose files are gone but not yet recorded, and the
 * next pass unlinks nothing (a missing file counts as removed) and records
 * it.  The purge walks the units to purge one at a time in the order they
 * finished (store/store_lifecycle.c), gathers each unit's archive lines in
 * memory, and writes them into the archive of the unit's day; the day's
 * file is committed, then the units in it are marked purged, whenever the
 * day changes, PURGE_BATCH units are gathered, or the walk ends.  No write
 * transaction is taken while a read is open on the same connection.
 */
#include "lifecycle.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gzw.h"
#include "periodic.h"
#include "project.h"

#define DONE_MAX 256     /* datasets the file deleter takes per pass */
#define PURGE_BATCH 4096 /* units marked purged per transaction */

void oz_lifecycle_unlink(void *arg, const char *file)
{
    oz_unlinker *u = arg;
    char path[OZ_PROJECT_PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s", u->units, file) >= (int)sizeof path ||
        strchr(file, '/') || (unlink(path) != 0 && errno != ENOENT))
        u->failed++;
    else
        u->removed++;
}

int oz_lifecycle_delete_files(oz_store *s, const char *units_dir, int64_t now, unsigned *datasets,
                              unsigned *files, char *why, size_t whylen)
{
    *datasets = *files = 0;
    int64_t ids[DONE_MAX];
    size_t n;
    int rc = oz_store_datasets_done(s, ids, DONE_MAX, &n, why, whylen), first_err = OZ_SCHED_OK;
    for (size_t i = 0; rc == OZ_SCHED_OK && i < n; i++) {
        oz_unlinker u = {.units = units_dir};
        if ((rc = oz_store_dataset_files(s, ids[i], oz_lifecycle_unlink, &u, why, whylen)) != 0)
            break;
        *files += u.removed;
        if (u.failed) { /* the others go on; this one is tried again */
            if (first_err == OZ_SCHED_OK)
                first_err = oz_sched_fail(OZ_SCHED_EIO, why, whylen,
                                          "dataset %lld: %u unit files in %s could not be removed",
                                          (long long)ids[i], u.failed, units_dir);
            continue;
        }
        if ((rc = oz_store_dataset_files_gone(s, ids[i], now, why, whylen)) == OZ_SCHED_OK)
            (*datasets)++;
    }
    return rc != OZ_SCHED_OK ? rc : first_err;
}

/* ---- the purge ------------------------------------------------------------------------------ */

typedef struct purge_run {
    const char *dir;
    int64_t now;
    oz_purge_report *rep;
    oz_gzw *g; /* the day's archive being written; open when open */
    bool open;
    char day[16]; /* its YYYY-MM-DD */
    char *lines;  /* the current unit's archive lines */
    size_t nlines, cap, nrows;
    int64_t *units; /* gathered for the open archive (or none) */
    size_t nunits;
} purge_run;

static int append(purge_run *p, const char *text, size_t len, char *why, size_t whylen)
{
    if (p->nlines + len > p->cap) {
        size_t cap = p->cap ? p->cap : 1 << 16;
        while (cap < p->nlines + len)
            cap *= 2;
        char *grown = realloc(p->lines, cap);
        if (!grown)
            return oz_sched_fail(OZ_SCHED_ENOMEM, why, whylen, "out of memory");
        p->lines = grown;
        p->cap = cap;
    }
    memcpy(p->lines + p->nlines, text, len);
    p->nlines += len;
    return OZ_SCHED_OK;
}

typedef struct row_ctx {
    purge_run *p;
    char *why;
    size_t whylen;
} row_ctx;

/* One result of the unit being walked, as one archive line. */
static int purge_row(void *arg, const oz_purge_row *r)
{
    row_ctx *c = arg;
    json_t *o = json_pack("{sI ss ss sI sI sI sb ss}", "replica_id", (json_int_t)r->replica_id,
                          "unit_id", r->unit_id, "dataset", r->dataset, "host_id",
                          (json_int_t)r->host_id, "received", (json_int_t)r->received, "finished",
                          (json_int_t)r->finished, "canonical", r->canonical, "result", r->result);
    char *line = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!line)
        return oz_sched_fail(OZ_SCHED_ENOMEM, c->why, c->whylen, "out of memory");
    int rc = append(c->p, line, strlen(line), c->why, c->whylen);
    free(line);
    if (rc == OZ_SCHED_OK)
        rc = append(c->p, "\n", 1, c->why, c->whylen);
    if (rc == OZ_SCHED_OK) {
        c->p->nrows++;
        c->p->rep->bytes += strlen(r->result);
    }
    return rc;
}

/* Opens the archive of day: a new file holding the old one's bytes, to
 * which this run's lines are a new gzip member. */
static int archive_open(purge_run *p, const char *day, char *why, size_t whylen)
{
    char name[64], path[OZ_PROJECT_PATH_MAX];
    snprintf(name, sizeof name, "results-%s.jsonl.gz", day);
    if (snprintf(path, sizeof path, "%s/%s", p->dir, name) >= (int)sizeof path)
        return oz_sched_fail(OZ_SCHED_ELIMIT, why, whylen, "%s: path too long", p->dir);
    int rc = oz_gzw_open(p->g, p->dir, name, why, whylen);
    if (rc != OZ_SCHED_OK)
        return rc;
    p->open = true;
    snprintf(p->day, sizeof p->day, "%s", day);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT
                   ? OZ_SCHED_OK
                   : oz_sched_fail(OZ_SCHED_EIO, why, whylen, "%s: %s", path, strerror(errno));
    unsigned char buf[1 << 16];
    ssize_t got;
    while (rc == OZ_SCHED_OK && (got = read(fd, buf, sizeof buf)) != 0) {
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            rc = oz_sched_fail(OZ_SCHED_EIO, why, whylen, "%s: %s", path, strerror(errno));
        else
            rc = oz_gzw_raw(p->g, buf, (size_t)got, why, whylen);
    }
    close(fd);
    return rc;
}

/* The open archive made durable, then its units marked purged. */
static int purge_flush(purge_run *p, oz_store *s, char *why, size_t whylen)
{
    int rc = OZ_SCHED_OK;
    if (p->open) {
        p->open = false;
        if ((rc = oz_gzw_commit(p->g, why, whylen)) != OZ_SCHED_OK)
            return rc;
    }
    if ((rc = oz_store_purge_commit(s, p->units, p->nunits, p->now, why, whylen)) == OZ_SCHED_OK)
        p->rep->units += p->nunits;
    p->nunits = 0;
    return rc;
}

/* Takes the unit just walked (its lines gathered) into the run. */
static int purge_take(purge_run *p, oz_store *s, int64_t unit, int64_t finished, char *why,
                      size_t whylen)
{
    int rc;
    if (p->nrows) {
        time_t t = (time_t)finished;
        struct tm tm;
        char day[16];
        gmtime_r(&t, &tm);
        strftime(day, sizeof day, "%Y-%m-%d", &tm);
        if (p->open && strcmp(day, p->day) != 0 &&
            (rc = purge_flush(p, s, why, whylen)) != OZ_SCHED_OK)
            return rc;
        if (!p->open && (rc = archive_open(p, day, why, whylen)) != OZ_SCHED_OK)
            return rc;
        if ((rc = oz_gzw_write(p->g, p->lines, p->nlines, why, whylen)) != OZ_SCHED_OK)
            return rc;
        p->rep->results += p->nrows;
    }
    p->nlines = p->nrows = 0;
    p->units[p->nunits++] = unit;
    return p->nunits == PURGE_BATCH ? purge_flush(p, s, why, whylen) : OZ_SCHED_OK;
}

int oz_lifecycle_purge(oz_store *s, const char *archive_dir, int64_t cutoff, int64_t now,
                       oz_purge_report *rep, char *why, size_t whylen)
{
    memset(rep, 0, sizeof *rep);
    purge_run p = {.dir = archive_dir, .now = now, .rep = rep};
    int rc, lock = -1;
    if (mkdir(archive_dir, 0755) != 0 && errno != EEXIST)
        return oz_sched_fail(OZ_SCHED_EIO, why, whylen, "%s: %s", archive_dir, strerror(errno));
    if ((lock = open(archive_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
        flock(lock, LOCK_EX) != 0) {
        rc = oz_sched_fail(OZ_SCHED_EIO, why, whylen, "%s: %s", archive_dir, strerror(errno));
        goto out;
    }
    if (!(p.g = malloc(sizeof *p.g)) || !(p.units = malloc(PURGE_BATCH * sizeof *p.units))) {
        rc = oz_sched_fail(OZ_SCHED_ENOMEM, why, whylen, "out of memory");
        goto out;
    }
    int64_t after_finished = INT64_MIN, after_id = 0, unit, finished;
    row_ctx c = {.p = &p, .why = why, .whylen = whylen};
    for (;;) {
        p.nlines = p.nrows = 0;
        rc = oz_store_purge_next(s, cutoff, after_finished, after_id, purge_row, &c, &unit,
                                 &finished, why, whylen);
        if (rc == OZ_SCHED_ENOTFOUND)
            break;
        if (rc != OZ_SCHED_OK || (rc = purge_take(&p, s, unit, finished, why, whylen)) != 0)
            goto out;
        after_finished = finished;
        after_id = unit;
    }
    rc = purge_flush(&p, s, why, whylen);
out:
    if (p.open)
        oz_gzw_abort(p.g);
    free(p.g);
    free(p.units);
    free(p.lines);
    if (lock >= 0)
        close(lock); /* and the lock with it */
    return rc;
}

/* ---- the thread ----------------------------------------------------------------------------- */

struct oz_lifecycle {
    oz_lifecycle_opts o;
    char units_dir[OZ_PROJECT_PATH_MAX], archive_dir[OZ_PROJECT_PATH_MAX];
    oz_periodic *thread;
};

static void pass_once(void *arg, oz_store *s)
{
    oz_lifecycle *l = arg;
    char why[512] = "", a[32], b[32], c[32];
    int64_t now = (int64_t)time(NULL);
    int rc;
    if (!l->o.keep_units) {
        unsigned datasets, files;
        rc = oz_lifecycle_delete_files(s, l->units_dir, now, &datasets, &files, why, sizeof why);
        if (datasets) {
            snprintf(a, sizeof a, "%u", datasets);
            snprintf(b, sizeof b, "%u", files);
            oz_log(l->o.log_level, OZ_LOG_INFO, "unit files of finished datasets deleted",
                   "datasets", a, "files", b, (const char *)NULL);
        }
        if (rc != OZ_SCHED_OK)
            oz_log(l->o.log_level, OZ_LOG_ERROR, "file deleter failed", "error",
                   why[0] ? why : oz_sched_strerror(rc), (const char *)NULL);
    }
    if (l->o.purge_after_days <= 0)
        return;
    oz_purge_report rep;
    int64_t cutoff = now - (int64_t)(l->o.purge_after_days * 86400.0);
    rc = oz_lifecycle_purge(s, l->archive_dir, cutoff, now, &rep, why, sizeof why);
    if (rep.units) {
        snprintf(a, sizeof a, "%llu", (unsigned long long)rep.units);
        snprintf(b, sizeof b, "%llu", (unsigned long long)rep.results);
        snprintf(c, sizeof c, "%llu", (unsigned long long)rep.bytes);
        oz_log(l->o.log_level, OZ_LOG_INFO, "result texts archived", "units", a, "results", b,
               "bytes", c, "dir", l->archive_dir, (const char *)NULL);
    }
    if (rc != OZ_SCHED_OK)
        oz_log(l->o.log_level, OZ_LOG_ERROR, "purge failed", "error",
               why[0] ? why : oz_sched_strerror(rc), (const char *)NULL);
}

int oz_lifecycle_start(const oz_lifecycle_opts *o, oz_lifecycle **out, char *why, size_t whylen)
{
    *out = NULL;
    oz_lifecycle *l = calloc(1, sizeof *l);
    if (!l)
        return oz_sched_fail(OZ_SCHED_ENOMEM, why, whylen, "out of memory");
    l->o = *o;
    if (snprintf(l->units_dir, sizeof l->units_dir, "%s", o->units_dir) >=
            (int)sizeof l->units_dir ||
        snprintf(l->archive_dir, sizeof l->archive_dir, "%s", o->archive_dir) >=
            (int)sizeof l->archive_dir) {
        free(l);
        return oz_sched_fail(OZ_SCHED_ELIMIT, why, whylen, "path too long");
    }
    l->o.units_dir = l->units_dir;
    l->o.archive_dir = l->archive_dir;
    int rc = oz_periodic_start(o->db, o->interval_s > 0 ? o->interval_s : 600, "data lifecycle",
                               o->log_level, pass_once, l, &l->thread, why, whylen);
    if (rc != OZ_SCHED_OK) {
        free(l);
        return rc;
    }
    *out = l;
    return OZ_SCHED_OK;
}

void oz_lifecycle_stop(oz_lifecycle *l)
{
    if (!l)
        return;
    oz_periodic_stop(l->thread);
    free(l);
}
