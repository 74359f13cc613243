/*
 * sky.c - a dataset's site and pointing in the store, and locating a
 * detection in the sky (sky.h).  The astronomy is workunits' sky.c; this
 * file is only the dataset's record of it.
 */
#include "sky.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sched_errors.h"

void oz_sky_from_info(const oz_wu_info *info, const oz_wu_site *site, oz_sky *out)
{
    memset(out, 0, sizeof *out);
    if (site) {
        out->has_site = true;
        out->site = *site;
    } else if (info->has_site) {
        out->has_site = true;
        out->site = info->site;
    }
    if (info->ntrack > 0) {
        out->npointing = info->ntrack;
        memcpy(out->pointing, info->track, info->ntrack * sizeof info->track[0]);
    } else if (info->has_sky) {
        out->npointing = 1;
        out->pointing[0] = (oz_wu_pointing){0, info->ra_deg, info->dec_deg};
    }
}

void oz_sky_from_sah(const oz_wu_sah *sah, int64_t t0_ns, oz_sky *out)
{
    memset(out, 0, sizeof *out);
    uint32_t n = sah->ncoords, m = n < OZ_WU_POINTING_MAX ? n : OZ_WU_POINTING_MAX;
    for (uint32_t k = 0; k < m; k++) {
        const oz_wu_sah_coord *c = &sah->coords[m > 1 ? (uint64_t)k * (n - 1) / (m - 1) : 0];
        int64_t ns;
        if (oz_wu_time_from_jd(c->time_jd, &ns) != OZ_WU_OK) /* the reader checked it */
            continue;
        oz_wu_pointing p = {(double)(ns - t0_ns) * 1e-9, fmod(c->ra_hours * 15.0, 360.0),
                            c->dec_deg};
        if (out->npointing > 0 && !(p.t_s > out->pointing[out->npointing - 1].t_s))
            continue;
        out->pointing[out->npointing++] = p;
    }
}

bool oz_sky_sah_site(const oz_wu_sah *sah, oz_wu_site *out)
{
    oz_wu_site own = {sah->latitude, sah->longitude, sah->elevation};
    if ((own.lat_deg != 0 || own.lon_deg != 0) && oz_wu_site_valid(&own)) {
        *out = own;
        return true;
    }
    if (strncmp(sah->receiver, "ao_", 3) == 0) { /* Arecibo, the 305 m dish */
        *out = (oz_wu_site){18.3442, -66.7527, 497.0};
        return true;
    }
    return false;
}

char *oz_sky_json(const oz_sky *k, bool *oom)
{
    *oom = false;
    if (!k->has_site && k->npointing == 0)
        return NULL;
    json_t *o = json_object(), *p = json_array();
    int bad = !o || !p;
    if (!bad && k->has_site)
        bad |= json_object_set_new(
            o, "site", json_pack("[f, f, f]", k->site.lat_deg, k->site.lon_deg, k->site.alt_m));
    for (uint32_t i = 0; !bad && i < k->npointing; i++)
        bad |= json_array_append_new(p, json_pack("[f, f, f]", k->pointing[i].t_s,
                                                  k->pointing[i].ra_deg, k->pointing[i].dec_deg));
    char *s = NULL;
    if (!bad && k->npointing > 0) {
        bad |= json_object_set(o, "pointing", p);
    }
    if (!bad)
        s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(p);
    json_decref(o);
    *oom = s == NULL;
    return s;
}

/* A JSON array of three numbers into v. */
static bool triple(const json_t *a, double v[3])
{
    if (!json_is_array(a) || json_array_size(a) != 3)
        return false;
    for (size_t i = 0; i < 3; i++) {
        const json_t *x = json_array_get(a, i);
        if (!json_is_number(x))
            return false;
        v[i] = json_number_value(x);
    }
    return true;
}

int oz_sky_parse(const char *json, oz_sky *out)
{
    memset(out, 0, sizeof *out);
    if (!json)
        return OZ_SCHED_OK;
    json_t *o = json_loads(json, JSON_REJECT_DUPLICATES, NULL);
    int rc = OZ_SCHED_EINVAL;
    if (!json_is_object(o))
        goto out;
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        double t[3];
        if (strcmp(key, "site") == 0) {
            if (!triple(v, t))
                goto out;
            out->site = (oz_wu_site){t[0], t[1], t[2]};
            if (!oz_wu_site_valid(&out->site))
                goto out;
            out->has_site = true;
        } else if (strcmp(key, "pointing") == 0) {
            size_t n = json_array_size(v);
            if (!json_is_array(v) || n == 0 || n > OZ_WU_POINTING_MAX)
                goto out;
            for (size_t i = 0; i < n; i++) {
                if (!triple(json_array_get(v, i), t) || !(t[1] >= 0 && t[1] < 360) ||
                    !(t[2] >= -90 && t[2] <= 90) || (i > 0 && !(t[0] > out->pointing[i - 1].t_s)))
                    goto out;
                out->pointing[i] = (oz_wu_pointing){t[0], t[1], t[2]};
            }
            out->npointing = (uint32_t)n;
        } else {
            goto out;
        }
    }
    rc = OZ_SCHED_OK;
out:
    json_decref(o);
    if (rc != OZ_SCHED_OK)
        memset(out, 0, sizeof *out);
    return rc;
}

/* The observer at utc_ns from the cache's grid, refilled when utc_ns
 * leaves it. */
static int observer_at(oz_sky *k, int64_t utc_ns, oz_wu_observer *o)
{
    const int64_t step = (int64_t)OZ_SKY_GRID_S * 1000000000LL;
    int64_t t0 = utc_ns - ((utc_ns % step) + step) % step;
    oz_sky_cache *c = &k->cache;
    if (!c->valid || c->t0_ns != t0) {
        bool next = c->valid && c->t0_ns + step == t0; /* the next cell: slide */
        c->valid = false;
        if (next)
            c->obs[0] = c->obs[1];
        else if (oz_wu_sky_observer(&k->site, NULL, t0, &c->obs[0]) != OZ_WU_OK)
            return OZ_WU_EINVAL;
        if (oz_wu_sky_observer(&k->site, NULL, t0 + step, &c->obs[1]) != OZ_WU_OK)
            return OZ_WU_EINVAL;
        c->valid = true;
        c->t0_ns = t0;
    }
    oz_wu_sky_observer_mix(&c->obs[0], &c->obs[1], (double)(utc_ns - t0) / (double)step, o);
    return OZ_WU_OK;
}

void oz_sky_locate(oz_sky *k, int nside, double t_s, bool has_time, int64_t utc_ns,
                   double freq_hz, oz_sky_at *out)
{
    memset(out, 0, sizeof *out);
    if (k->npointing == 0)
        return;
    oz_wu_pointing_at(k->pointing, k->npointing, t_s, &out->ra_deg, &out->dec_deg);
    out->has_pos = true;
    out->pixel = oz_wu_sky_pixel(nside, out->ra_deg, out->dec_deg);
    double zb;
    oz_wu_observer o;
    if (k->has_site && has_time && observer_at(k, utc_ns, &o) == OZ_WU_OK &&
        oz_wu_sky_zb(&o, out->ra_deg, out->dec_deg, &zb) == OZ_WU_OK) {
        out->has_bary = true;
        out->freq_bary_hz = freq_hz / zb;
    }
}
