/*
 * test_sched_candidates.c - the candidate rules (scheduler/candidates.c),
 * a dataset's stored sky (scheduler/sky.c) and the candidate keys of
 * project.json.  The grouping in the store, end to end and under
 * reordering, is test_sched_candidates.sh's.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "support.h"
#include "candidates.h"
#include "project.h"
#include "sched_errors.h"
#include "sky.h"

static oz_cand_sig sig(double f, double c, double t, double bin)
{
    return (oz_cand_sig){.dataset_id = 1, .freq_hz = f, .chirp_hz_s = c, .time_s = t,
                         .power = 1, .score = 1, .bin_hz = bin};
}

/* One tone across overlapping units and FFT lengths, and a wrong-chirp
 * echo at its time, link both ways; another tone, a time too far or
 * another dataset do not. */
static void track_links_are_symmetric_and_physical(void **state)
{
    (void)state;
    oz_cand_config c;
    oz_cand_config_default(&c);
    oz_cand_sig a = sig(1000, 0.5, 1.0, 2.4);
    oz_cand_sig next_unit = sig(1000 + 0.5 * 5, 0.5, 6.0, 2.4);
    oz_cand_sig coarse = sig(1000 + 0.5 * 2 + 30, 0.0, 3.0, 38.1); /* FFT 256: wide bins */
    oz_cand_sig echo = sig(1000.3, -1.7, 1.0, 2.4);
    oz_cand_sig other = sig(1100, 0.5, 1.0, 2.4);
    const oz_cand_sig *yes[] = {&next_unit, &coarse, &echo};
    for (size_t i = 0; i < 3; i++) {
        assert_true(oz_cand_track_link(&c, &a, yes[i], 10, 0));
        assert_true(oz_cand_track_link(&c, yes[i], &a, 10, 0));
    }
    assert_false(oz_cand_track_link(&c, &a, &other, 10, 6.7));
    assert_false(oz_cand_track_link(&c, &other, &a, 10, 6.7));
    assert_false(oz_cand_track_link(&c, &a, &next_unit, 4, 0)); /* beyond the gap */
    oz_cand_sig elsewhere = next_unit;
    elsewhere.dataset_id = 2;
    assert_false(oz_cand_track_link(&c, &a, &elsewhere, 10, 0));
    /* a wrong-chirp echo reported 3 s from where its line crosses the
     * tone's: linked when the unit (6.7 s) holds the crossing, not on a
     * point's tolerance alone */
    oz_cand_sig late = sig(1000 + 0.5 * 2 + 5 * 3, 5.5, 3.0, 2.4);
    assert_false(oz_cand_track_link(&c, &a, &late, 10, 0));
    assert_true(oz_cand_track_link(&c, &a, &late, 10, 6.7));
    assert_true(oz_cand_track_link(&c, &late, &a, 10, 6.7));
}

static void rfi_rules_and_their_order(void **state)
{
    (void)state;
    oz_cand_config c;
    oz_cand_config_default(&c);
    oz_cand_facts sky = {.freq_hz = 1.42e9, .chirp_hz_s = 0.5, .best_score = 3, .detections = 4,
                         .observations = 2, .pixels = 1, .still_pixels = 0};
    assert_null(oz_cand_rfi_rule(&c, &sky));
    oz_cand_facts carrier = sky;
    carrier.chirp_hz_s = 0;
    carrier.still_pixels = 2;
    carrier.pixels = 2;
    assert_string_equal(oz_cand_rfi_rule(&c, &carrier), "zero_drift");
    carrier.pixels = 10;
    assert_string_equal(oz_cand_rfi_rule(&c, &carrier), "many_pixels");
    c.nbands = 1;
    c.bands[0][0] = 1.4199e9;
    c.bands[0][1] = 1.4201e9;
    assert_string_equal(oz_cand_rfi_rule(&c, &carrier), "band");
    assert_string_equal(oz_cand_rfi_rule(&c, &sky), "band");
    /* a drifting tone seen in two pixels is no zero-drift carrier */
    oz_cand_config d;
    oz_cand_config_default(&d);
    oz_cand_facts two = sky;
    two.pixels = 2;
    two.still_pixels = 2;
    assert_null(oz_cand_rfi_rule(&d, &two));
}

/* The score grows with observations, detections and detection score, and
 * falls with RFI evidence and when flagged. */
static void score_grows_with_evidence(void **state)
{
    (void)state;
    oz_cand_facts f = {.best_score = 2, .detections = 1, .observations = 1, .pixels = 1};
    double base = oz_cand_score(&f, false);
    assert_true(fabs(base - 2) < 1e-12);
    oz_cand_facts g = f;
    g.observations = 2;
    assert_true(fabs(oz_cand_score(&g, false) - 4 * base) < 1e-12);
    g = f;
    g.detections = 10;
    assert_true(oz_cand_score(&g, false) > base);
    g = f;
    g.best_score = 3;
    assert_true(oz_cand_score(&g, false) > base);
    g = f;
    g.pixels = 3;
    assert_true(fabs(oz_cand_score(&g, false) - base / 3) < 1e-12);
    assert_true(oz_cand_score(&f, true) < base / 10);
}

static void dataset_sky_round_trips_and_refuses_garbage(void **state)
{
    (void)state;
    oz_sky k, back;
    memset(&k, 0, sizeof k);
    bool oom;
    assert_null(oz_sky_json(&k, &oom));
    assert_false(oom);
    k.has_site = true;
    k.site = (oz_wu_site){-33, 148.26, 415};
    k.npointing = 2;
    k.pointing[0] = (oz_wu_pointing){0, 266.4, -28.9};
    k.pointing[1] = (oz_wu_pointing){10, 266.5, -28.8};
    char *text = oz_sky_json(&k, &oom);
    assert_non_null(text);
    assert_int_equal(oz_sky_parse(text, &back), OZ_SCHED_OK);
    assert_memory_equal(&k, &back, sizeof k);
    free(text);
    const char *bad[] = {"[]", "{\"site\": [1, 2]}", "{\"site\": [95, 0, 0]}",
                         "{\"pointing\": []}", "{\"pointing\": [[0, 400, 0]]}",
                         "{\"pointing\": [[1, 1, 1], [1, 2, 2]]}", "{\"x\": 1}", "{"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(oz_sky_parse(bad[i], &back), OZ_SCHED_EINVAL);
        assert_false(back.has_site);
        assert_int_equal(back.npointing, 0);
    }
    /* a located detection: the track interpolated, a pixel, and a barycentric
     * frequency only with a UTC time */
    oz_sky_at at;
    oz_sky_locate(&k, 256, 5, false, 0, 1.42e9, &at);
    assert_true(at.has_pos && fabs(at.ra_deg - 266.45) < 1e-9 && !at.has_bary);
    assert_true(at.pixel == oz_wu_sky_pixel(256, at.ra_deg, at.dec_deg));
    oz_sky_locate(&k, 256, 5, true, 1700000000LL * 1000000000LL, 1.42e9, &at);
    assert_true(at.has_bary && fabs(at.freq_bary_hz - 1.42e9) > 100 &&
                fabs(at.freq_bary_hz - 1.42e9) < 2e5);
}

/* A .sah's track as a unit's pointing: thinned evenly to
 * OZ_WU_POINTING_MAX with its first and last points, a repeated time
 * dropped, RA across 24 h kept in [0, 360), times from t0; and its site. */
static void sah_track_thinned_and_site(void **state)
{
    (void)state;
    oz_wu_sah *sah = calloc(1, sizeof *sah);
    oz_sky *k = calloc(1, sizeof *k), *back = calloc(1, sizeof *back);
    assert_true(sah && k && back);
    sah->ncoords = OZ_WU_TRACK_MAX;
    for (uint32_t i = 0; i < sah->ncoords; i++)
        sah->coords[i] = (oz_wu_sah_coord){2451606.5 + (i < 3 ? 0 : i) * 1e-4,
                                           fmod(23.5 + i * 0.01, 24.0), -25 + i * 0.1};
    int64_t t0;
    assert_int_equal(oz_wu_time_from_jd(2451606.5, &t0), OZ_WU_OK);
    oz_sky_from_sah(sah, t0 - 2000000000LL, k);
    /* indices i * 511 / 255: 0, 2 (the time of 0: dropped), 4, ..., 511 */
    assert_int_equal(k->npointing, OZ_WU_POINTING_MAX - 1);
    assert_true(fabs(k->pointing[0].t_s - 2) < 1e-6 && k->pointing[0].ra_deg == 23.5 * 15);
    assert_true(fabs(k->pointing[1].t_s - (2 + 4 * 8.64)) < 1e-4);
    const oz_wu_pointing *last = &k->pointing[k->npointing - 1];
    assert_true(fabs(last->ra_deg - fmod(23.5 + 511 * 0.01, 24.0) * 15) < 1e-9 &&
                fabs(last->dec_deg - (-25 + 511 * 0.1)) < 1e-9);
    for (uint32_t i = 0; i < k->npointing; i++)
        assert_true(k->pointing[i].ra_deg >= 0 && k->pointing[i].ra_deg < 360 &&
                    (i == 0 || k->pointing[i].t_s > k->pointing[i - 1].t_s));
    bool oom;
    char *text = oz_sky_json(k, &oom);
    assert_non_null(text);
    assert_int_equal(oz_sky_parse(text, back), OZ_SCHED_OK);
    assert_int_equal(back->npointing, k->npointing);
    free(text);

    oz_wu_site site;
    snprintf(sah->receiver, sizeof sah->receiver, "ao_1420");
    assert_true(oz_sky_sah_site(sah, &site) && site.lat_deg == 18.3442 &&
                site.lon_deg == -66.7527 && site.alt_m == 497);
    sah->latitude = 38.4331;
    sah->longitude = -79.8398;
    sah->elevation = 807;
    assert_true(oz_sky_sah_site(sah, &site) && site.lat_deg == 38.4331 && site.alt_m == 807);
    sah->latitude = sah->longitude = 0;
    snprintf(sah->receiver, sizeof sah->receiver, "gbt_800");
    assert_false(oz_sky_sah_site(sah, &site));
    free(back);
    free(k);
    free(sah);
}

static void project_json_candidate_keys(void **state)
{
    (void)state;
    oz_project_config c;
    oz_project_config_default(&c);
    assert_int_equal(c.cand.nside, 256);
    char why[256];
    const char *good = "{\"candidate_nside\": 64, \"rfi_min_pixels\": 5,"
                       " \"rfi_bands\": [[1.4e9, 1.41e9], [1.6e9, 1.61e9]]}";
    assert_int_equal(oz_project_config_parse(good, strlen(good), "p.json", &c, why, sizeof why),
                     0);
    assert_true(c.cand.nside == 64 && c.cand.rfi_min_pixels == 5 && c.cand.nbands == 2 &&
                c.cand.bands[1][0] == 1.6e9);
    json_t *j = oz_project_config_to_json(&c);
    assert_int_equal(json_array_size(json_object_get(j, "rfi_bands")), 2);
    json_decref(j);
    const char *bad[][2] = {
        {"{\"candidate_nside\": 100}", "not a power of two"},
        {"{\"rfi_bands\": [[2, 1]]}", "rfi_bands[0]"},
        {"{\"rfi_bands\": 3}", "rfi_bands: expected an array"},
        {"{\"rfi_min_pixels\": 1}", "rfi_min_pixels"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why[0] = 0;
        assert_int_not_equal(
            oz_project_config_parse(bad[i][0], strlen(bad[i][0]), "p.json", &c, why, sizeof why), 0);
        if (!strstr(why, bad[i][1]))
            fail_msg("%s: \"%s\" lacks \"%s\"", bad[i][0], why, bad[i][1]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(track_links_are_symmetric_and_physical),
        cmocka_unit_test(rfi_rules_and_their_order),
        cmocka_unit_test(score_grows_with_evidence),
        cmocka_unit_test(dataset_sky_round_trips_and_refuses_garbage),
        cmocka_unit_test(sah_track_thinned_and_site),
        cmocka_unit_test(project_json_candidate_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
