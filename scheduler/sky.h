/*
 * sky.h - a dataset's site and pointing, as the store keeps them, and where
 * a detection on that dataset's clock was in the sky.
 *
 * `ozma-server load` records what the recording says (SigMF
 * core:geolocation, a fixed ozma:ra_deg/ozma:dec_deg or a per-capture
 * track) or what --site gives, as one JSON text in datasets.sky:
 *   {"site": [lat_deg, lon_deg, alt_m], "pointing": [[t_s, ra_deg, dec_deg], ...]}
 * (either key may be absent; t_s from the recording's first sample).  The
 * assimilator reads it back and locates every canonical signal: RA/Dec at
 * its time (the track interpolated), its HEALPix pixel and, when the site
 * and the UTC time are known, its barycentric frequency (workunits' sky.c).
 * A SETI@home dataset's units each keep their own track in the same shape
 * (units.sky, pointing only, t_s on the dataset's clock); the assimilator
 * takes a unit's pointing over its dataset's and the site from the dataset.
 */
#ifndef OZ_SCHED_SKY_H
#define OZ_SCHED_SKY_H

#include <stdbool.h>
#include <stdint.h>

#include "ozma_workunits.h"

/* The observer's state at two grid times OZ_SKY_GRID_S apart, mixed
 * linearly for the times between (workunits' oz_wu_sky_observer_mix): the
 * ephemerides once per grid step, not once per signal. */
#define OZ_SKY_GRID_S 30
typedef struct oz_sky_cache {
    bool valid;
    int64_t t0_ns; /* grid time of obs[0]; obs[1] is OZ_SKY_GRID_S later */
    oz_wu_observer obs[2];
} oz_sky_cache;

typedef struct oz_sky {
    bool has_site;
    oz_wu_site site;
    uint32_t npointing; /* 0: the pointing is unknown */
    oz_wu_pointing pointing[OZ_WU_POINTING_MAX];
    oz_sky_cache cache; /* oz_sky_locate's; not stored */
} oz_sky;

/* What a recording's info says (site, fixed position or track), with the
 * site replaced by *site when not NULL. */
void oz_sky_from_info(const oz_wu_info *info, const oz_wu_site *site, oz_sky *out);
/* A SETI@home unit's own track (its <coords>) as a pointing, times from
 * t0_ns (the dataset's start): SETI@home units are loaded whole, each with
 * its track, kept per unit (units.sky) since the dataset has many.  A track
 * longer than OZ_WU_POINTING_MAX is decimated evenly, first and last points
 * kept; a point at the time of the one before is dropped. */
void oz_sky_from_sah(const oz_wu_sah *sah, int64_t t0_ns, oz_sky *out);
/* Where a .sah was recorded: its <receiver_cfg> latitude/longitude/
 * elevation, or, when they are absent (0, 0), Arecibo for an Arecibo
 * receiver (a name starting "ao_": every SETI@home receiver); false when
 * neither says. */
bool oz_sky_sah_site(const oz_wu_sah *sah, oz_wu_site *out);
/* The JSON text above (malloc'd), or NULL when nothing is known or out of
 * memory (*oom says which). */
char *oz_sky_json(const oz_sky *k, bool *oom);
/* Parses the stored text (NULL: nothing known) strictly; OZ_SCHED_EINVAL
 * for anything else. */
int oz_sky_parse(const char *json, oz_sky *out);

/* Where a detection at t_s (dataset clock; utc_ns when has_time) of
 * topocentric frequency freq_hz was. */
typedef struct oz_sky_at {
    bool has_pos;
    double ra_deg, dec_deg;
    int64_t pixel; /* HEALPix NESTED at the nside asked for */
    bool has_bary;
    double freq_bary_hz;
} oz_sky_at;
void oz_sky_locate(oz_sky *k, int nside, double t_s, bool has_time, int64_t utc_ns,
                   double freq_hz, oz_sky_at *out);

#endif
