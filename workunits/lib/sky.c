/*
 * sky.c - where a detection was in the sky and what its frequency was at
 * the solar system's barycentre (ozma_workunits.h, "the sky").
 *
 * A dataset has a site (WGS84 geodetic latitude, longitude, height) and a
 * pointing: one ICRS position, or a track of (time, RA, Dec) points between
 * which the beam moved linearly.  A detection at a time gets the pointing's
 * RA/Dec then, the HEALPix pixel holding it (libchealpix, NESTED scheme, so
 * a pixel's number at nside N/2 is its number at N shifted right by two
 * bits) and a barycentric frequency.
 *
 * The barycentric correction is Wright & Eastman (2014) eq. 28 - the
 * model of astropy's radial_velocity_correction(kind='barycentric'), which
 * the unit test's fixtures come from - computed with ERFA:
 *   zb = gamma (1 + beta . n) / (1 + Phi / c),   f_bary = f_topo / zb,
 * beta the observer's barycentric velocity over c (Earth's, eraEpv00, plus
 * the site's about the geocentre: the ITRS site rotated by the Earth
 * rotation angle, polar motion and the CIO-based precession-nutation into
 * GCRS), n the unit vector to the source, Phi/c the gravitational redshift
 * of the Sun, Jupiter, the Moon and the Earth at the observer (in m/s, as
 * astropy sums it).  With the Earth orientation given (UT1-UTC, polar
 * motion) the result agrees with astropy to well under 0.01 Hz at 1.4 GHz;
 * without it (the default, zeros) UT1-UTC up to 0.9 s shifts the site's
 * velocity by up to 3 cm/s: 0.15 Hz at 1.4 GHz, far below a search's bin.
 */
#include <chealpix.h>
#include <erfa.h>
#include <erfam.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define C_M_S 299792458.0
#define AU_M 149597870700.0
#define OMEGA_EARTH (2 * ERFA_DPI * 1.00273781191135448 / 86400.0) /* rad/s */
/* Gravitational parameters, m^3/s^2 (IAU 2015 nominal; the Moon's as astropy
 * takes it, G times its mass). */
#define GM_SUN 1.3271244e20
#define GM_JUPITER 1.2668653e17
#define GM_EARTH 3.986004e14
#define GM_MOON (6.67430e-11 * 7.34767309e22)

bool oz_wu_site_valid(const oz_wu_site *s)
{
    return s && s->lat_deg >= -90 && s->lat_deg <= 90 && s->lon_deg >= -180 &&
           s->lon_deg <= 360 && s->alt_m >= -12000 && s->alt_m <= 1e6;
}

int oz_wu_site_parse(const char *s, oz_wu_site *out, char *why, size_t whylen)
{
    double v[3];
    const char *p = s ? s : "";
    for (int i = 0; i < 3; i++) {
        char *end;
        v[i] = strtod(p, &end);
        if (end == p || !isfinite(v[i]) || (i < 2 ? *end != ',' : *end != '\0'))
            return oz_wu_fail(OZ_WU_EINVAL, why, whylen,
                              "site \"%.40s\" is not LAT,LON,ALT_M (degrees, degrees, metres)",
                              s ? s : "");
        p = end + 1;
    }
    oz_wu_site site = {v[0], v[1], v[2]};
    if (!oz_wu_site_valid(&site))
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen,
                          "site \"%.40s\": latitude must be in [-90, 90], longitude in "
                          "[-180, 360], altitude in [-12000, 1e6] m",
                          s);
    *out = site;
    return OZ_WU_OK;
}

void oz_wu_pointing_at(const oz_wu_pointing *p, size_t n, double t_s, double *ra_deg,
                       double *dec_deg)
{
    size_t i = 0;
    if (n == 0) {
        *ra_deg = *dec_deg = 0;
        return;
    }
    if (n == 1 || t_s <= p[0].t_s) {
        *ra_deg = p[0].ra_deg;
        *dec_deg = p[0].dec_deg;
        return;
    }
    while (i + 1 < n && p[i + 1].t_s < t_s)
        i++;
    if (i + 1 == n) {
        *ra_deg = p[n - 1].ra_deg;
        *dec_deg = p[n - 1].dec_deg;
        return;
    }
    double span = p[i + 1].t_s - p[i].t_s;
    double w = span > 0 ? (t_s - p[i].t_s) / span : 1;
    double dra = p[i + 1].ra_deg - p[i].ra_deg; /* the short way round */
    if (dra > 180)
        dra -= 360;
    else if (dra < -180)
        dra += 360;
    double ra = fmod(p[i].ra_deg + w * dra + 360.0, 360.0);
    *ra_deg = ra >= 360.0 ? 0.0 : ra;
    *dec_deg = p[i].dec_deg + w * (p[i + 1].dec_deg - p[i].dec_deg);
}

bool oz_wu_nside_valid(int nside)
{
    return nside >= 1 && nside <= OZ_WU_NSIDE_MAX && (nside & (nside - 1)) == 0;
}

int64_t oz_wu_sky_pixel(int nside, double ra_deg, double dec_deg)
{
    int64_t pix = 0;
    double theta = (90.0 - dec_deg) * ERFA_DPI / 180.0, phi = ra_deg * ERFA_DPI / 180.0;
    if (theta < 0)
        theta = 0;
    if (theta > ERFA_DPI)
        theta = ERFA_DPI;
    ang2pix_nest64(nside, theta, phi, &pix);
    return pix;
}

void oz_wu_sky_pixel_centre(int nside, int64_t pix, double *ra_deg, double *dec_deg)
{
    double theta, phi;
    pix2ang_nest64(nside, pix, &theta, &phi);
    *ra_deg = phi * 180.0 / ERFA_DPI;
    *dec_deg = 90.0 - theta * 180.0 / ERFA_DPI;
}

static double norm3(const double v[3])
{
    return sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
}

static double dist3(const double a[3], const double b[3])
{
    double d[3] = {a[0] - b[0], a[1] - b[1], a[2] - b[2]};
    return norm3(d);
}

int oz_wu_sky_doppler(const oz_wu_site *site, const oz_wu_eop *eop, int64_t utc_ns,
                      double ra_deg, double dec_deg, double *zb)
{
    oz_wu_observer o;
    int rc = oz_wu_sky_observer(site, eop, utc_ns, &o);
    if (rc != OZ_WU_OK)
        return rc;
    return oz_wu_sky_zb(&o, ra_deg, dec_deg, zb);
}

int oz_wu_sky_zb(const oz_wu_observer *o, double ra_deg, double dec_deg, double *zb)
{
    if (!(dec_deg >= -90 && dec_deg <= 90) || !isfinite(ra_deg))
        return OZ_WU_EINVAL;
    double n[3], b[3] = {o->beta[0], o->beta[1], o->beta[2]};
    eraS2c(ra_deg * ERFA_DD2R, dec_deg * ERFA_DD2R, n);
    double gamma = 1.0 / sqrt(1.0 - eraPdp(b, b));
    *zb = gamma * (1.0 + eraPdp(b, n)) / (1.0 + o->gr_m_s / C_M_S);
    return OZ_WU_OK;
}

void oz_wu_sky_observer_mix(const oz_wu_observer *a, const oz_wu_observer *b, double w,
                            oz_wu_observer *out)
{
    for (int k = 0; k < 3; k++)
        out->beta[k] = a->beta[k] + w * (b->beta[k] - a->beta[k]);
    out->gr_m_s = a->gr_m_s + w * (b->gr_m_s - a->gr_m_s);
}

int oz_wu_sky_observer(const oz_wu_site *site, const oz_wu_eop *eop, int64_t utc_ns,
                       oz_wu_observer *out)
{
    static const oz_wu_eop none = {0, 0, 0};
    if (!eop)
        eop = &none;
    if (!oz_wu_site_valid(site))
        return OZ_WU_EINVAL;
    /* UTC as a two-part Julian date, whole days in the first part */
    int64_t day = utc_ns / 86400000000000LL, rem = utc_ns % 86400000000000LL;
    if (rem < 0) {
        day--;
        rem += 86400000000000LL;
    }
    double utc1 = 2440587.5 + (double)day, utc2 = (double)rem / 86400e9;
    double tai1, tai2, tt1, tt2, ut11, ut12;
    if (eraUtctai(utc1, utc2, &tai1, &tai2) < 0 || eraTaitt(tai1, tai2, &tt1, &tt2) != 0 ||
        eraUtcut1(utc1, utc2, eop->dut1_s, &ut11, &ut12) < 0)
        return OZ_WU_EINVAL;
    /* TDB at the geocentre, as astropy takes it for the ephemerides */
    double tdb1 = tt1, tdb2 = tt2 + eraDtdb(tt1, tt2, ut12, 0, 0, 0) / 86400.0;

    double pvh[2][3], pvb[2][3];
    if (eraEpv00(tdb1, tdb2, pvh, pvb) < 0)
        return OZ_WU_EINVAL;

    /* the site in GCRS: ITRS -> CIRS (polar motion, Earth rotation angle) -> GCRS */
    double itrs[3];
    if (eraGd2gc(ERFA_WGS84, site->lon_deg * ERFA_DD2R, site->lat_deg * ERFA_DD2R, site->alt_m,
                 itrs) != 0)
        return OZ_WU_EINVAL;
    double rc2i[3][3], rpom[3][3], rc2t[3][3], id[3][3];
    eraC2i06a(tt1, tt2, rc2i);
    eraPom00(eop->xp_rad, eop->yp_rad, eraSp00(tt1, tt2), rpom);
    eraIr(id);
    eraC2tcio(id, eraEra00(ut11, ut12), rpom, rc2t); /* CIRS -> ITRS */
    double cirs[3], gcrs[3], axis[3], vsite[3];
    eraTrxp(rc2t, itrs, cirs);
    eraTrxp(rc2i, cirs, gcrs);
    for (int k = 0; k < 3; k++) /* the CIP in GCRS: the third row of rc2i */
        axis[k] = rc2i[2][k] * OMEGA_EARTH;
    eraPxp(axis, gcrs, vsite);

    for (int k = 0; k < 3; k++)
        out->beta[k] = (pvb[1][k] * AU_M / 86400.0 + vsite[k]) / C_M_S;

    /* gravitational redshift at the observer, m/s, smallest first as astropy sums */
    double moon[2][3], jup[2][3], zero[3] = {0, 0, 0};
    eraMoon98(tdb1, tdb2, moon);
    if (eraPlan94(tdb1, tdb2, 5, jup) < 0)
        return OZ_WU_EINVAL;
    double gr = -GM_EARTH / C_M_S / norm3(itrs);
    gr += -GM_MOON / C_M_S / (norm3(moon[0]) * AU_M);
    gr += -GM_JUPITER / C_M_S / (dist3(jup[0], pvh[0]) * AU_M);
    gr += -GM_SUN / C_M_S / (dist3(pvh[0], zero) * AU_M);
    out->gr_m_s = gr;
    return OZ_WU_OK;
}
