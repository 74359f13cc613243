/*
 * test_wu_sky.c - the sky (workunits/lib/sky.c): barycentric frequencies
 * against astropy's (tests/fixtures/bary/, made once by make_bary.py), the
 * pointing track's interpolation, HEALPix pixels and the --site parser.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "support.h"
#include "ozma_workunits.h"

#include "../fixtures/bary/bary.h"

static int64_t utc(const char *s)
{
    int64_t ns = 0;
    char why[200] = "";
    if (oz_wu_time_parse(s, &ns, why, sizeof why) != OZ_WU_OK)
        fail_msg("%s: %s", s, why);
    return ns;
}

/* With astropy's Earth orientation, every case within 0.01 Hz at 1.42 GHz
 * (the bar; it agrees to about a millihertz). */
static void barycentric_frequency_matches_astropy(void **state)
{
    (void)state;
    size_t n = sizeof bary_cases / sizeof bary_cases[0];
    assert_true(n >= 3);
    for (size_t i = 0; i < n; i++) {
        const struct bary_case *c = &bary_cases[i];
        oz_wu_site site = {c->lat_deg, c->lon_deg, c->alt_m};
        oz_wu_eop eop = {c->dut1_s, c->xp_rad, c->yp_rad};
        double zb = 0;
        assert_int_equal(oz_wu_sky_doppler(&site, &eop, utc(c->utc), c->ra_deg, c->dec_deg, &zb),
                         OZ_WU_OK);
        double f = c->f_topo_hz / zb;
        print_message("%-11s f_bary %.6f, astropy %.6f: %+.6f Hz\n", c->name, f, c->f_bary_hz,
                      f - c->f_bary_hz);
        if (fabs(f - c->f_bary_hz) > 0.01)
            fail_msg("%s: %.6f Hz, astropy says %.6f", c->name, f, c->f_bary_hz);
    }
}

/* Without the Earth orientation (what a load knows), UT1-UTC's error moves
 * the result by centimetres per second: well under a hertz. */
static void without_earth_orientation_within_a_tenth_of_a_hertz(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bary_cases / sizeof bary_cases[0]; i++) {
        const struct bary_case *c = &bary_cases[i];
        oz_wu_site site = {c->lat_deg, c->lon_deg, c->alt_m};
        double zb = 0;
        assert_int_equal(oz_wu_sky_doppler(&site, NULL, utc(c->utc), c->ra_deg, c->dec_deg, &zb),
                         OZ_WU_OK);
        assert_true(fabs(c->f_topo_hz / zb - c->f_bary_hz) < 0.2);
    }
}

/* The sign: an observer moving toward the source sees it bluer, so the
 * barycentric frequency of a source ahead of the Earth's orbit is lower.
 * The Earth moves toward the ecliptic longitude 90 degrees behind the Sun;
 * at the March equinox the Sun is at RA 0, so the apex is near RA 270. */
static void sign_follows_the_earths_motion(void **state)
{
    (void)state;
    oz_wu_site site = {0, 0, 0};
    double ahead = 0, behind = 0;
    int64_t t = utc("2024-03-20T03:06:00Z");
    assert_int_equal(oz_wu_sky_doppler(&site, NULL, t, 270, -23.4, &ahead), OZ_WU_OK);
    assert_int_equal(oz_wu_sky_doppler(&site, NULL, t, 90, 23.4, &behind), OZ_WU_OK);
    assert_true(ahead > 1 + 9e-5 && ahead < 1 + 1.1e-4); /* ~30 km/s */
    assert_true(behind < 1 - 9e-5 && behind > 1 - 1.1e-4);
}

/* Observer states 30 s apart (the assimilator's grid, scheduler/sky.h)
 * mixed linearly agree with the exact one to 2 mHz at 1.42 GHz. */
static void observer_mixed_between_grid_points_is_exact_enough(void **state)
{
    (void)state;
    const struct bary_case *c = &bary_cases[0];
    oz_wu_site site = {c->lat_deg, c->lon_deg, c->alt_m};
    int64_t t0 = utc(c->utc);
    oz_wu_observer a, b, m;
    assert_int_equal(oz_wu_sky_observer(&site, NULL, t0, &a), OZ_WU_OK);
    assert_int_equal(oz_wu_sky_observer(&site, NULL, t0 + 30000000000LL, &b), OZ_WU_OK);
    for (int k = 1; k < 30; k++) {
        double exact, mixed;
        oz_wu_sky_observer_mix(&a, &b, k / 30.0, &m);
        assert_int_equal(oz_wu_sky_doppler(&site, NULL, t0 + k * 1000000000LL, c->ra_deg,
                                           c->dec_deg, &exact),
                         OZ_WU_OK);
        assert_int_equal(oz_wu_sky_zb(&m, c->ra_deg, c->dec_deg, &mixed), OZ_WU_OK);
        assert_true(fabs(c->f_topo_hz / exact - c->f_topo_hz / mixed) < 2e-3);
    }
}

static void refuses_impossible_sites(void **state)
{
    (void)state;
    oz_wu_site s;
    char why[200];
    assert_int_equal(oz_wu_site_parse("18.34,-66.75,497", &s, why, sizeof why), OZ_WU_OK);
    assert_true(s.lat_deg == 18.34 && s.lon_deg == -66.75 && s.alt_m == 497);
    const char *bad[] = {"", "1,2", "1,2,3,4", "91,0,0", "0,400,0", "0,0,x", "nan,0,0", "0,0,3e6"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why[0] = 0;
        assert_int_equal(oz_wu_site_parse(bad[i], &s, why, sizeof why), OZ_WU_EINVAL);
        assert_non_null(strstr(why, "site"));
    }
    double zb;
    oz_wu_site far = {100, 0, 0};
    assert_int_equal(oz_wu_sky_doppler(&far, NULL, 0, 0, 0, &zb), OZ_WU_EINVAL);
}

static void track_interpolates_linearly_and_wraps_ra(void **state)
{
    (void)state;
    const oz_wu_pointing t[] = {{0, 350, 10}, {10, 10, 20}, {20, 20, 20}};
    double ra, dec;
    oz_wu_pointing_at(t, 3, -5, &ra, &dec);
    assert_true(ra == 350 && dec == 10);
    oz_wu_pointing_at(t, 3, 5, &ra, &dec); /* 350 -> 10 the short way: through 0 */
    assert_true(fabs(ra - 0) < 1e-9 && fabs(dec - 15) < 1e-9);
    oz_wu_pointing_at(t, 3, 15, &ra, &dec);
    assert_true(fabs(ra - 15) < 1e-9 && fabs(dec - 20) < 1e-9);
    oz_wu_pointing_at(t, 3, 99, &ra, &dec);
    assert_true(ra == 20 && dec == 20);
    oz_wu_pointing_at(t, 1, 99, &ra, &dec);
    assert_true(ra == 350 && dec == 10);
}

/* Nested pixels: a point is in the pixel whose centre is nearest at that
 * resolution, and the pixel at nside/2 is the parent (>> 2). */
static void healpix_pixels_nest(void **state)
{
    (void)state;
    assert_true(oz_wu_nside_valid(256) && !oz_wu_nside_valid(100) && !oz_wu_nside_valid(0));
    int64_t p = oz_wu_sky_pixel(256, 83.63, 22.01);
    assert_true(p >= 0 && p < 12LL * 256 * 256);
    assert_true(oz_wu_sky_pixel(128, 83.63, 22.01) == p >> 2);
    double ra, dec;
    oz_wu_sky_pixel_centre(256, p, &ra, &dec);
    assert_true(fabs(ra - 83.63) < 0.3 && fabs(dec - 22.01) < 0.3);
    assert_true(oz_wu_sky_pixel(256, ra, dec) == p);
    assert_true(oz_wu_sky_pixel(256, 83.63, 22.01) != oz_wu_sky_pixel(256, 84.5, 22.01));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(barycentric_frequency_matches_astropy),
        cmocka_unit_test(without_earth_orientation_within_a_tenth_of_a_hertz),
        cmocka_unit_test(sign_follows_the_earths_motion),
        cmocka_unit_test(observer_mixed_between_grid_points_is_exact_enough),
        cmocka_unit_test(refuses_impossible_sites),
        cmocka_unit_test(track_interpolates_linearly_and_wraps_ra),
        cmocka_unit_test(healpix_pixels_nest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
