/*
 * load_sah.c - `ozma-server load` of SETI@home work units (.sah): a
 * directory of them, or a list, becomes one dataset, each file one unit
 * taken whole (its 2-bit samples as they are), with its own start time and
 * sky track (units.sky).  load.c does the rest of the load: its lock, the
 * dataset row, the batches of unit rows.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "load_internal.h"
#include "sched_errors.h"

void oz_load_sah_set_free(struct sah_set *S)
{
    for (size_t i = 0; i < S->n; i++)
        free(S->paths[i]);
    free(S->paths);
    free(S->config_json);
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool oz_load_sah_is(const oz_load_opts *o)
{
    return !o->raw &&
           (o->nmore > 0 || is_dir(o->recording) || oz_wu_probe(o->recording) == OZ_WU_KIND_SAH);
}

static int cmp_path(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int sah_add(struct sah_set *S, size_t *cap, const char *dir, const char *file)
{
    if (S->n == OZ_LOAD_SAH_FILES_MAX)
        return OZ_SCHED_ELIMIT;
    if (S->n == *cap) {
        size_t c = *cap ? 2 * *cap : 64;
        char **p = realloc(S->paths, c * sizeof *p);
        if (!p)
            return OZ_SCHED_ENOMEM;
        S->paths = p;
        *cap = c;
    }
    size_t len = (dir ? strlen(dir) + 1 : 0) + strlen(file) + 1;
    char *path = malloc(len);
    if (!path)
        return OZ_SCHED_ENOMEM;
    snprintf(path, len, "%s%s%s", dir ? dir : "", dir ? "/" : "", file);
    S->paths[S->n++] = path;
    return 0;
}

/* The files: every .sah unit in a directory (by name), or the list given. */
static int sah_list(const oz_load_opts *o, struct sah_set *S, char *why, size_t whylen)
{
    size_t cap = 0;
    int rc = 0;
    if (o->nmore == 0 && is_dir(o->recording)) {
        DIR *d = opendir(o->recording);
        if (!d)
            return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen, "%s: %s", o->recording,
                                 strerror(errno));
        struct dirent *e;
        while (rc == 0 && (e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            size_t before = S->n;
            if ((rc = sah_add(S, &cap, o->recording, e->d_name)) == 0 &&
                oz_wu_probe(S->paths[before]) != OZ_WU_KIND_SAH)
                free(S->paths[--S->n]); /* not a .sah: not ours to load */
        }
        closedir(d);
        if (rc == 0 && S->n == 0)
            return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen, "%s: holds no SETI@home .sah units",
                                 o->recording);
        qsort(S->paths, S->n, sizeof *S->paths, cmp_path);
    } else {
        for (size_t i = 0; rc == 0 && i <= o->nmore; i++) {
            const char *p = i == 0 ? o->recording : o->more[i - 1];
            if (oz_wu_probe(p) != OZ_WU_KIND_SAH)
                return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen,
                                     "%s: not a SETI@home .sah unit (a load of several files "
                                     "takes .sah units only)",
                                     p);
            rc = sah_add(S, &cap, NULL, p);
        }
    }
    if (rc == OZ_SCHED_ELIMIT)
        return oz_sched_fail(rc, why, whylen, "more than %d .sah files in one load",
                             OZ_LOAD_SAH_FILES_MAX);
    if (rc != 0)
        return oz_sched_fail(rc, why, whylen, "out of memory");
    return 0;
}

/* Opens every file once (so a damaged one is found before anything is
 * written) and checks that they can share a dataset. */
int oz_load_sah_check(const oz_load_opts *o, struct sah_set *S, char *why, size_t whylen)
{
    int rc = sah_list(o, S, why, whylen);
    if (rc != 0)
        return rc;
    if (o->tuned)
        return oz_sched_fail(
            OZ_SCHED_EINVAL, why, whylen,
            "%s: a SETI@home unit is loaded as it is, with its own length and "
            "analysis_cfg: drop --unit-samples, --overlap and the analysis options",
            S->paths[0]);
    char wwhy[512];
    for (size_t i = 0; i < S->n; i++) {
        oz_wu_reader *r = NULL;
        oz_sci_config cfg;
        char *json = NULL;
        int wrc = oz_wu_open_sah(S->paths[i], &r, wwhy, sizeof wwhy);
        if (wrc == OZ_WU_OK)
            wrc = oz_wu_sah_config(oz_wu_reader_sah(r), &cfg, wwhy, sizeof wwhy);
        if (wrc != OZ_WU_OK) {
            oz_wu_reader_close(r);
            return oz_sched_fail(oz_load_from_wu(wrc), why, whylen, "%s", wwhy);
        }
        const oz_wu_info *info = oz_wu_reader_info(r);
        oz_wu_site site;
        bool has_site = oz_sky_sah_site(oz_wu_reader_sah(r), &site);
        json_t *cj = oz_sci_config_to_json(&cfg);
        json = cj ? json_dumps(cj, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17)) : NULL;
        json_decref(cj);
        if (!json)
            rc = oz_sched_fail(OZ_SCHED_ENOMEM, why, whylen, "out of memory");
        else if (i == 0) {
            S->fs = info->sample_rate;
            S->center = info->center_hz;
            S->start_ns = info->start_ns;
            S->nsamples0 = info->nsamples;
            S->config = cfg;
            S->config_json = json;
            S->has_site = has_site;
            S->site = site;
            json = NULL;
            snprintf(S->name, sizeof S->name, "%s", info->name);
        } else if (info->sample_rate != S->fs)
            rc = oz_sched_fail(OZ_SCHED_EINVAL, why, whylen,
                               "%s: sample rate %.17g Hz differs from %s's %.17g Hz; one dataset "
                               "has one sample rate",
                               S->paths[i], info->sample_rate, S->paths[0], S->fs);
        else if (info->center_hz != S->center)
            rc = oz_sched_fail(OZ_SCHED_EINVAL, why, whylen,
                               "%s: centre (subband_base) %.17g Hz differs from %s's %.17g Hz; "
                               "the store keeps one centre per dataset: load it as another one",
                               S->paths[i], info->center_hz, S->paths[0], S->center);
        else if (strcmp(json, S->config_json) != 0)
            rc = oz_sched_fail(OZ_SCHED_EINVAL, why, whylen,
                               "%s: its analysis_cfg gives another configuration than %s's; the "
                               "store keeps one per dataset: load it as another one",
                               S->paths[i], S->paths[0]);
        else if (!o->has_site && (has_site != S->has_site ||
                                  (has_site && memcmp(&site, &S->site, sizeof site) != 0)))
            rc = oz_sched_fail(OZ_SCHED_EINVAL, why, whylen,
                               "%s: its receiver_cfg gives another site than %s's; one dataset "
                               "has one site: give --site or load it as another one",
                               S->paths[i], S->paths[0]);
        else if (info->start_ns < S->start_ns)
            S->start_ns = info->start_ns;
        free(json);
        oz_wu_reader_close(r);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Writes each .sah as one unit, as it is (ci8: the 2-bit values exactly),
 * with its own start time and sky track; start_sample is its start's
 * offset from the dataset's, in samples, so the store's clock agrees. */
int oz_load_sah_write(struct load *L, const struct sah_set *S, const char *units, const char *name,
                      char *why, size_t whylen)
{
    int rc = 0;
    char wwhy[512];
    oz_wu_header *h = malloc(sizeof *h);
    oz_sky *sky = malloc(sizeof *sky);
    size_t pathcap = strlen(units) + OZ_WU_ID_MAX + 16;
    char *path = malloc(pathcap);
    if (!h || !sky || !path) {
        rc = oz_sched_fail(OZ_SCHED_ENOMEM, why, whylen, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < S->n && rc == 0; i++) {
        oz_wu_reader *r = NULL;
        void *buf = NULL;
        int wrc = oz_wu_open_sah(S->paths[i], &r, wwhy, sizeof wwhy);
        const oz_wu_info *info = wrc == OZ_WU_OK ? oz_wu_reader_info(r) : NULL;
        size_t got = 0;
        if (info && !(buf = malloc((size_t)info->nsamples * oz_wu_format_size(info->format))))
            wrc = OZ_WU_ENOMEM;
        if (buf)
            wrc = oz_wu_reader_read_native(r, buf, (size_t)info->nsamples, &got, wwhy, sizeof wwhy);
        if (wrc == OZ_WU_OK) {
            const oz_wu_sah *sah = oz_wu_reader_sah(r);
            memset(h, 0, sizeof *h);
            snprintf(h->dataset, sizeof h->dataset, "%s", name);
            snprintf(h->unit_id, sizeof h->unit_id, "%s-%06zu", name, i);
            h->unit_index = i;
            h->sample_rate = info->sample_rate;
            h->center_hz = info->center_hz;
            h->start_sample =
                (uint64_t)llround((double)(info->start_ns - S->start_ns) * 1e-9 * S->fs);
            h->start_s = (double)h->start_sample / h->sample_rate;
            h->has_time = true;
            h->start_ns = info->start_ns;
            h->has_sky = info->has_sky;
            h->ra_deg = info->ra_deg;
            h->dec_deg = info->dec_deg;
            h->ntrack = sah->ncoords;
            for (uint32_t k = 0; k < sah->ncoords; k++)
                h->track[k] = (oz_wu_track_point){
                    sah->coords[k].time_jd, sah->coords[k].ra_hours * 15.0, sah->coords[k].dec_deg};
            oz_sky_from_sah(sah, S->start_ns, sky); /* the track the assimilator reads */
            bool oom;
            free(L->sky_next);
            L->sky_next = oz_sky_json(sky, &oom);
            h->format = info->format;
            h->nsamples = got;
            h->config = S->config;
            snprintf(path, pathcap, "%s/%s.ozwu", units, h->unit_id);
            oz_wu_unit_written w = {.header = h, .path = path};
            struct stat st;
            wrc = oom ? OZ_WU_ENOMEM
                      : oz_wu_unit_write(path, h, buf, w.file_sha256, wwhy, sizeof wwhy);
            if (wrc == OZ_WU_OK && stat(path, &st) != 0) {
                snprintf(wwhy, sizeof wwhy, "%s: %s", path, strerror(errno));
                wrc = OZ_WU_EIO;
            }
            w.file_bytes = wrc == OZ_WU_OK ? (uint64_t)st.st_size : 0;
            if (wrc == OZ_WU_OK && oz_load_on_unit(L, &w, S->n) != 0)
                rc = L->rc;
        }
        if (wrc != OZ_WU_OK)
            rc = oz_sched_fail(oz_load_from_wu(wrc), why, whylen, "%s",
                               wrc == OZ_WU_ENOMEM ? "out of memory" : wwhy);
        free(buf);
        oz_wu_reader_close(r);
    }
out:
    free(h);
    free(sky);
    free(path);
    return rc;
}
