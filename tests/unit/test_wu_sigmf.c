/*
 * test_wu_sigmf.c - SigMF recordings (workunits/sigmf.c, raw.c, reader.c):
 * synth -> SigMF -> reader round trips for every datatype within
 * quantisation, the ways to name a recording, and every kind of bad meta
 * file rejected with a message that names the field.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"
#include "ozma_workunits.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/oz_sigmf_XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void path_in(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", dir, name);
}

static void write_text(const char *name, const char *text)
{
    char p[256];
    path_in(p, sizeof p, name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

static void write_bytes(const char *name, size_t n)
{
    char p[256];
    path_in(p, sizeof p, name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    for (size_t i = 0; i < n; i++)
        fputc((int)(i * 7 & 0x7f), f);
    assert_int_equal(fclose(f), 0);
}

/* A recording of noise and three tones, odd length to cross every chunk
 * boundary. */
static const oz_wu_inject injections[] = {
    {.type = OZ_SIG_SPIKE, .offset_hz = 1234.5, .chirp_hz_s = 3.0, .snr = 0.5},
    {.type = OZ_SIG_GAUSSIAN, .offset_hz = -2000, .snr = 0.5, .t0 = 5.0, .sigma_s = 1.0},
    {.type = OZ_SIG_PULSE,
     .offset_hz = 100,
     .snr = 1.0,
     .t0 = 0.5,
     .period_s = 1.5,
     .width_s = 0.2},
};

static oz_wu_synth recording(void)
{
    oz_wu_synth s = {.sample_rate = 9765.625,
                     .center_hz = 1420.4e6,
                     .nsamples = 100003,
                     .seed = 42,
                     .noise_power = 1.0,
                     .inj = injections,
                     .ninj = 3,
                     .has_sky = true,
                     .ra_deg = 83.63,
                     .dec_deg = 22.01};
    return s;
}

static void round_trip(const char *datatype, double full)
{
    oz_wu_synth s = recording();
    char stem[256], why[512] = "";
    path_in(stem, sizeof stem, datatype);
    uint64_t clipped = 99;
    int rc = oz_wu_synth_write(&s, stem, datatype, 0, "2024-05-01T12:00:00.25Z", &clipped, why,
                               sizeof why);
    if (rc != 0)
        fail_msg("%s: %s", datatype, why);
    assert_int_equal(clipped, 0);

    /* The reference: the same generator in other chunk sizes, same scale. */
    float scale = (float)oz_wu_synth_scale(&s, datatype, 0);
    float *ref = malloc(2 * s.nsamples * sizeof *ref);
    float *got = malloc(2 * s.nsamples * sizeof *got);
    assert_non_null(ref);
    assert_non_null(got);
    oz_wu_synth_gen *g;
    assert_int_equal(oz_wu_synth_gen_new(&s, &g, why, sizeof why), 0);
    size_t have = 0, n;
    while (oz_wu_synth_gen_next(g, ref + 2 * have, 10007, scale, &n) == 0 && n > 0)
        have += n;
    assert_int_equal(have, s.nsamples);
    oz_wu_synth_gen_free(g);

    oz_wu_reader *r;
    rc = oz_wu_open(stem, NULL, &r, why, sizeof why);
    if (rc != 0)
        fail_msg("%s: %s", datatype, why);
    const oz_wu_info *info = oz_wu_reader_info(r);
    assert_true(info->sample_rate == 9765.625);
    assert_true(info->center_hz == 1420.4e6);
    assert_int_equal(info->nsamples, s.nsamples);
    assert_true(info->has_time);
    int64_t t;
    assert_int_equal(oz_wu_time_parse("2024-05-01T12:00:00.25Z", &t, NULL, 0), 0);
    assert_true(info->start_ns == t);
    assert_true(info->has_sky && info->ra_deg == 83.63 && info->dec_deg == 22.01);
    assert_string_equal(info->name, datatype);
    have = 0;
    while (oz_wu_reader_read(r, got + 2 * have, 4099, &n, why, sizeof why) == 0 && n > 0)
        have += n;
    assert_int_equal(have, s.nsamples);
    assert_int_equal(oz_wu_reader_read(r, got, 10, &n, why, sizeof why), 0);
    assert_int_equal(n, 0);
    oz_wu_reader_close(r);

    /* Within half an LSB (plus float rounding of the tones). */
    double tol = full > 0 ? (0.5 + 1e-3) / full : 1e-5;
    double rms = 0, worst = 0;
    for (size_t i = 0; i < 2 * s.nsamples; i++) {
        double d = fabs((double)got[i] - (double)ref[i]);
        worst = fmax(worst, d);
        rms += (double)ref[i] * ref[i];
    }
    if (worst > tol)
        fail_msg("%s: worst error %g > %g", datatype, worst, tol);
    /* and the noise sits where the datatype's scale put it: an eighth of
     * full scale per component, plus the signals' power (spike 0.5
     * throughout, Gaussian 0.5 sqrt(2 pi) s and pulses 1.0 * 0.2/1.5 of the
     * time, over 10.24 s) */
    rms = sqrt(rms / (2.0 * (double)s.nsamples));
    if (full > 0) {
        double T = (double)s.nsamples / s.sample_rate;
        double want = full / 8 * sqrt(1.0 + 0.5 + 0.5 * sqrt(2 * 3.14159265358979) / T + 0.2 / 1.5);
        if (fabs(rms * full - want) > 0.05 * want)
            fail_msg("%s: rms %g LSB, expected about %g", datatype, rms * full, want);
    }
    free(ref);
    free(got);
}

static void ci8_round_trips_within_quantisation(void **state)
{
    (void)state;
    round_trip("ci8", 128.0);
}

static void ci16_le_round_trips_within_quantisation(void **state)
{
    (void)state;
    round_trip("ci16_le", 32768.0);
}

static void ci16_be_round_trips_within_quantisation(void **state)
{
    (void)state;
    round_trip("ci16_be", 32768.0);
}

static void cf32_le_round_trips(void **state)
{
    (void)state;
    round_trip("cf32_le", 0);
}

static void cf32_be_round_trips(void **state)
{
    (void)state;
    round_trip("cf32_be", 0);
}

static void a_recording_is_named_by_stem_meta_or_data(void **state)
{
    (void)state;
    oz_wu_synth s = recording();
    s.nsamples = 1000;
    s.ninj = 0;
    char stem[256], p[300], why[512] = "";
    path_in(stem, sizeof stem, "named");
    assert_int_equal(oz_wu_synth_write(&s, stem, "ci8", 0, NULL, NULL, why, sizeof why), 0);
    const char *suffixes[] = {"", ".sigmf-meta", ".sigmf-data", ".sigmf-"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s%s", stem, suffixes[i]);
        oz_wu_reader *r;
        if (oz_wu_open(p, NULL, &r, why, sizeof why) != 0)
            fail_msg("%s: %s", p, why);
        assert_int_equal(oz_wu_reader_info(r)->nsamples, 1000);
        assert_false(oz_wu_reader_info(r)->has_time);
        assert_null(oz_wu_reader_unit(r));
        oz_wu_reader_close(r);
    }
    snprintf(p, sizeof p, "%s.sigmf", stem);
    oz_wu_reader *r;
    assert_int_equal(oz_wu_open_sigmf(p, &r, why, sizeof why), OZ_WU_EFORMAT);
    assert_non_null(strstr(why, "archives"));
    /* an unknown file without --format */
    write_bytes("mystery.bin", 64);
    path_in(p, sizeof p, "mystery.bin");
    assert_int_equal(oz_wu_open(p, NULL, &r, why, sizeof why), OZ_WU_EFORMAT);
    assert_non_null(strstr(why, "--format"));
}

static void header_bytes_and_dataset_name_are_honoured(void **state)
{
    (void)state;
    /* 16 header bytes then 3 ci8 samples, in a data file with another name */
    write_text("odd.dat", "HEADERHEADERHEAD\x01\x02\x03\x04\x05\x06");
    write_text("odd.sigmf-meta",
               "{\"global\": {\"core:datatype\": \"ci8\", \"core:version\": \"1.2.0\","
               " \"core:sample_rate\": 1000, \"core:dataset\": \"odd.dat\","
               " \"antenna:gain\": 3, \"core:author\": \"me\"},"
               " \"captures\": [{\"core:sample_start\": 0, \"core:frequency\": 5e6,"
               "   \"core:header_bytes\": 16},"
               "  {\"core:sample_start\": 2, \"core:frequency\": 5e6}],"
               " \"annotations\": [{\"core:sample_start\": 0}]}");
    char p[256], why[512] = "";
    path_in(p, sizeof p, "odd.sigmf-meta");
    oz_wu_reader *r;
    if (oz_wu_open(p, NULL, &r, why, sizeof why) != 0)
        fail_msg("%s", why);
    assert_int_equal(oz_wu_reader_info(r)->nsamples, 3);
    assert_int_equal(oz_wu_reader_info(r)->format, OZ_WU_CI8);
    unsigned char raw[6];
    size_t n;
    assert_int_equal(oz_wu_reader_read_native(r, raw, 6, &n, why, sizeof why), 0);
    assert_int_equal(n, 3);
    assert_memory_equal(raw, "\x01\x02\x03\x04\x05\x06", 6);
    /* seek back and read floats */
    float iq[2];
    assert_int_equal(oz_wu_reader_seek(r, 2, why, sizeof why), 0);
    assert_int_equal(oz_wu_reader_read(r, iq, 5, &n, why, sizeof why), 0);
    assert_int_equal(n, 1);
    assert_true(iq[0] == 5.0f / 128 && iq[1] == 6.0f / 128);
    assert_int_equal(oz_wu_reader_seek(r, 4, why, sizeof why), OZ_WU_EINVAL);
    oz_wu_reader_close(r);
}

/* A meta file that must be refused with `code` and a message holding
 * `needle`. */
struct bad_meta {
    const char *meta;
    int code;
    const char *needle;
};

#define G_OK "\"core:datatype\": \"ci8\", \"core:version\": \"1.0.0\", \"core:sample_rate\": 1000"
#define C_OK "{\"core:sample_start\": 0, \"core:frequency\": 1e9}"

static void bad_meta_files_are_refused_naming_the_field(void **state)
{
    (void)state;
    static const struct bad_meta cases[] = {
        {"{\"global\": {" G_OK "}", OZ_WU_EFORMAT, "invalid JSON"},
        {"[1, 2]", OZ_WU_EFORMAT, "expected a JSON object"},
        {"{\"captures\": [" C_OK "]}", OZ_WU_EFORMAT, "global is missing"},
        {"{\"global\": {" G_OK "}}", OZ_WU_EFORMAT, "captures is missing"},
        {"{\"global\": {" G_OK "}, \"captures\": []}", OZ_WU_EFORMAT, "captures is empty"},
        {"{\"global\": {" G_OK "}, \"captures\": [1]}", OZ_WU_EFORMAT, "captures[0]"},
        {"{\"global\": {\"core:version\": \"1.0.0\", \"core:sample_rate\": 1000},"
         " \"captures\": [" C_OK "]}",
         OZ_WU_EFORMAT, "global.core:datatype is missing"},
        {"{\"global\": {\"core:datatype\": \"cu8\", \"core:version\": \"1.0.0\","
         " \"core:sample_rate\": 1000}, \"captures\": [" C_OK "]}",
         OZ_WU_EFORMAT, "core:datatype \"cu8\" is not supported"},
        {"{\"global\": {\"core:datatype\": \"rf32_le\", \"core:version\": \"1.0.0\","
         " \"core:sample_rate\": 1000}, \"captures\": [" C_OK "]}",
         OZ_WU_EFORMAT, "core:datatype"},
        {"{\"global\": {\"core:datatype\": \"ci8\", \"core:version\": \"1.0.0\"},"
         " \"captures\": [" C_OK "]}",
         OZ_WU_EFORMAT, "global.core:sample_rate is missing"},
        {"{\"global\": {\"core:datatype\": \"ci8\", \"core:version\": \"1.0.0\","
         " \"core:sample_rate\": \"fast\"}, \"captures\": [" C_OK "]}",
         OZ_WU_EFORMAT, "core:sample_rate: expected a number, got a string"},
        {"{\"global\": {\"core:datatype\": \"ci8\", \"core:version\": \"1.0.0\","
         " \"core:sample_rate\": -5}, \"captures\": [" C_OK "]}",
         OZ_WU_EFORMAT, "core:sample_rate -5"},
        {"{\"global\": {\"core:datatype\": \"ci8\", \"core:sample_rate\": 1000},"
         " \"captures\": [" C_OK "]}",
         OZ_WU_EFORMAT, "global.core:version is missing"},
        {"{\"global\": {\"core:datatype\": \"ci8\", \"core:version\": \"2.0.0\","
         " \"core:sample_rate\": 1000}, \"captures\": [" C_OK "]}",
         OZ_WU_EVERSION, "core:version \"2.0.0\""},
        {"{\"global\": {" G_OK ", \"core:num_channels\": 2}, \"captures\": [" C_OK "]}",
         OZ_WU_EFORMAT, "core:num_channels 2"},
        {"{\"global\": {" G_OK ", \"core:metadata_only\": true}, \"captures\": [" C_OK "]}",
         OZ_WU_EFORMAT, "core:metadata_only"},
        {"{\"global\": {" G_OK ", \"core:dataset\": \"../etc/passwd\"}, \"captures\": [" C_OK "]}",
         OZ_WU_EFORMAT, "core:dataset"},
        {"{\"global\": {" G_OK ", \"ozma:ra_deg\": 10}, \"captures\": [" C_OK "]}", OZ_WU_EFORMAT,
         "ozma:dec_deg is missing"},
        {"{\"global\": {" G_OK ", \"ozma:ra_deg\": 400, \"ozma:dec_deg\": 0}, \"captures\": [" C_OK
         "]}",
         OZ_WU_EFORMAT, "ozma:ra_deg 400"},
        {"{\"global\": {" G_OK "}, \"captures\": [{\"core:sample_start\": 0}]}", OZ_WU_EFORMAT,
         "captures[0].core:frequency is missing"},
        {"{\"global\": {" G_OK "}, \"captures\": [{\"core:frequency\": \"1 GHz\"}]}", OZ_WU_EFORMAT,
         "captures[0].core:frequency: expected a number"},
        {"{\"global\": {" G_OK "}, \"captures\": [{\"core:frequency\": 1e30}]}", OZ_WU_EFORMAT,
         "captures[0].core:frequency"},
        {"{\"global\": {" G_OK "}, \"captures\": [{\"core:sample_start\": 5, "
         "\"core:frequency\": 1e9}]}",
         OZ_WU_EFORMAT, "captures[0].core:sample_start 5"},
        {"{\"global\": {" G_OK "}, \"captures\": [{\"core:frequency\": 1e9, "
         "\"core:datetime\": \"yesterday\"}]}",
         OZ_WU_EFORMAT, "captures[0].core:datetime"},
        {"{\"global\": {" G_OK "}, \"captures\": [" C_OK
         ", {\"core:sample_start\": 2, \"core:frequency\": 2e9}]}",
         OZ_WU_EFORMAT, "captures[1].core:frequency"},
        {"{\"global\": {" G_OK "}, \"captures\": [{\"core:sample_start\": 0, "
         "\"core:frequency\": 1e9, \"core:datetime\": \"2024-01-01T00:00:00Z\"},"
         " {\"core:sample_start\": 2, \"core:datetime\": \"2024-01-01T01:00:00Z\"}]}",
         OZ_WU_EFORMAT, "gaps"},
        {"{\"global\": {" G_OK "}, \"captures\": [" C_OK ", {\"core:frequency\": 1e9}]}",
         OZ_WU_EFORMAT, "captures[1].core:sample_start is missing"},
        {"{\"global\": {" G_OK ", \"core:sample_rate\": 2000}, \"captures\": [" C_OK "]}",
         OZ_WU_EFORMAT, "invalid JSON"}, /* duplicate key */
        /* review finding: a capture past the end of the data (64 bytes of
         * ci8 are 32 samples) */
        {"{\"global\": {" G_OK "}, \"captures\": [" C_OK
         ", {\"core:sample_start\": 9999999}]}",
         OZ_WU_EFORMAT, "a capture starts at sample 9999999"},
        {"{\"global\": {" G_OK ", \"core:geolocation\": {\"type\": \"Point\","
         " \"coordinates\": [200, 10]}}, \"captures\": [" C_OK "]}",
         OZ_WU_EFORMAT, "global.core:geolocation [200, 10, 0] is not a place on Earth"},
        {"{\"global\": {" G_OK ", \"core:geolocation\": {\"type\": \"Polygon\","
         " \"coordinates\": [1, 2]}}, \"captures\": [" C_OK "]}",
         OZ_WU_EFORMAT, "must be a GeoJSON Point"},
        {"{\"global\": {" G_OK ", \"core:geolocation\": {\"type\": \"Point\","
         " \"coordinates\": [1, \"x\"]}}, \"captures\": [" C_OK "]}",
         OZ_WU_EFORMAT, "coordinates[1]: expected a number"},
        {"{\"global\": {" G_OK "}, \"captures\": [{\"core:sample_start\": 0,"
         " \"core:frequency\": 1e6, \"ozma:ra_deg\": 10}]}",
         OZ_WU_EFORMAT, "captures[0].ozma:dec_deg is missing"},
        {"{\"global\": {" G_OK "}, \"captures\": [{\"core:sample_start\": 0,"
         " \"core:frequency\": 1e6, \"ozma:ra_deg\": 10, \"ozma:dec_deg\": 91}]}",
         OZ_WU_EFORMAT, "captures[0].ozma:dec_deg 91 is outside"},
    };
    write_bytes("bad.sigmf-data", 64);
    char p[256];
    path_in(p, sizeof p, "bad");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_text("bad.sigmf-meta", cases[i].meta);
        oz_wu_reader *r = NULL;
        char why[512] = "";
        int rc = oz_wu_open_sigmf(p, &r, why, sizeof why);
        if (rc != cases[i].code || !strstr(why, cases[i].needle) || r)
            fail_msg("case %zu: got %d \"%s\", wanted %d with \"%s\"", i, rc, why, cases[i].code,
                     cases[i].needle);
        assert_non_null(strstr(why, "bad.sigmf-meta"));
    }
}

/* A site and a pointing track written by the writer (one capture per
 * point) come back from the reader as they were. */
static void site_and_track_round_trip(void **state)
{
    (void)state;
    oz_wu_info info;
    memset(&info, 0, sizeof info);
    info.sample_rate = 1000;
    info.center_hz = 1.42e9;
    info.has_site = true;
    info.site = (oz_wu_site){38.4331, -79.8398, 807};
    info.ntrack = 3;
    info.track[0] = (oz_wu_pointing){0, 350, 10};
    info.track[1] = (oz_wu_pointing){0.25, 355.5, 11};
    info.track[2] = (oz_wu_pointing){0.5, 1, 12};
    char p[256], why[512] = "";
    path_in(p, sizeof p, "track");
    oz_wu_sigmf_writer *w = NULL;
    assert_int_equal(oz_wu_sigmf_create(p, "ci8", &info, NULL, &w, why, sizeof why), OZ_WU_OK);
    static float iq[2 * 1000];
    assert_int_equal(oz_wu_sigmf_append(w, iq, 1000, why, sizeof why), OZ_WU_OK);
    assert_int_equal(oz_wu_sigmf_finish(w, why, sizeof why), OZ_WU_OK);
    oz_wu_reader *r = NULL;
    if (oz_wu_open_sigmf(p, &r, why, sizeof why) != OZ_WU_OK)
        fail_msg("%s", why);
    const oz_wu_info *in = oz_wu_reader_info(r);
    assert_true(in->has_site && in->site.lat_deg == 38.4331 && in->site.lon_deg == -79.8398 &&
                in->site.alt_m == 807);
    assert_int_equal(in->ntrack, 3);
    for (int i = 0; i < 3; i++)
        assert_true(in->track[i].t_s == info.track[i].t_s &&
                    in->track[i].ra_deg == info.track[i].ra_deg &&
                    in->track[i].dec_deg == info.track[i].dec_deg);
    assert_true(in->has_sky && in->ra_deg == 350 && in->dec_deg == 10); /* the track's start */
    oz_wu_reader_close(r);
}

/* oz_wu_sigmf_meta_parse: the meta document alone, from memory. */
static int meta(const char *text, size_t len, oz_wu_sigmf_meta *m, char *why, size_t whylen)
{
    return oz_wu_sigmf_meta_parse(text, len, "m.sigmf-meta", m, why, whylen);
}

static void a_meta_document_parses_from_memory_exactly(void **state)
{
    (void)state;
    oz_wu_sigmf_meta m;
    char why[512];
    static const char min[] = "{\"global\": {" G_OK "}, \"captures\": [" C_OK "]}";
    assert_int_equal(meta(min, strlen(min), &m, why, sizeof why), OZ_WU_OK);
    assert_int_equal(m.format, OZ_WU_CI8);
    assert_false(m.byte_swapped);
    assert_true(m.sample_rate == 1000 && m.center_hz == 1e9);
    assert_false(m.has_time);
    assert_false(m.has_sky);
    assert_false(m.has_dataset);
    assert_int_equal(m.header_bytes, 0);
    assert_int_equal(m.last_start, 0);

    static const char full[] =
        "{\"global\": {\"core:datatype\": \"ci16_be\", \"core:version\": \"1.0.0\","
        " \"core:sample_rate\": 2.5e6, \"ozma:ra_deg\": 0, \"ozma:dec_deg\": -90},"
        " \"captures\": [{\"core:sample_start\": 0, \"core:frequency\": 1420e6,"
        " \"core:datetime\": \"2024-01-01T00:00:01.5Z\", \"core:header_bytes\": 16},"
        " {\"core:sample_start\": 100, \"core:frequency\": 1420e6}]}";
    assert_int_equal(meta(full, strlen(full), &m, why, sizeof why), OZ_WU_OK);
    assert_int_equal(m.format, OZ_WU_CI16);
    assert_true(m.byte_swapped);
    assert_true(m.sample_rate == 2.5e6 && m.center_hz == 1420e6);
    assert_true(m.has_time);
    assert_int_equal(m.start_ns, INT64_C(1704067201500000000));
    assert_true(m.has_sky && m.ra_deg == 0 && m.dec_deg == -90);
    assert_int_equal(m.header_bytes, 16);
    assert_int_equal(m.last_start, 100);

    /* only len bytes are read: a document cut short is refused, and what
     * follows it is never looked at */
    char buf[sizeof min + 8];
    memcpy(buf, min, sizeof min - 1);
    memcpy(buf + sizeof min - 1, "garbage!", 8);
    assert_int_equal(meta(buf, sizeof min - 1, &m, why, sizeof why), OZ_WU_OK);
    assert_int_equal(meta(buf, sizeof min - 2, &m, why, sizeof why), OZ_WU_EFORMAT);
    assert_int_equal(strncmp(why, "m.sigmf-meta", 12), 0);

    /* boundaries of the sky position: [0, 360) and [-90, 90] */
    static const char ra360[] =
        "{\"global\": {" G_OK ", \"ozma:ra_deg\": 360, \"ozma:dec_deg\": 0},"
        " \"captures\": [" C_OK "]}";
    assert_int_equal(meta(ra360, strlen(ra360), &m, why, sizeof why), OZ_WU_EFORMAT);
    assert_non_null(strstr(why, "ozma:ra_deg 360"));
    static const char dec91[] =
        "{\"global\": {" G_OK ", \"ozma:ra_deg\": 1, \"ozma:dec_deg\": 90.5},"
        " \"captures\": [" C_OK "]}";
    assert_int_equal(meta(dec91, strlen(dec91), &m, why, sizeof why), OZ_WU_EFORMAT);
    assert_non_null(strstr(why, "ozma:dec_deg"));

    /* garbage: each refused with a message naming the document, and the
     * output zeroed */
    static const struct {
        const char *text;
        size_t len;
    } bad[] = {{"", 0},         {"null", 4},        {"\xff\xfe{}", 4},
               {"{}", 2},       {"{\"global\"", 9}, {"{\"a\":1}\0{}", 10},
               {"[[[[[[[[", 8}, {"1e999", 5}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&m, 0x5a, sizeof m);
        why[0] = '\0';
        int rc = meta(bad[i].text, bad[i].len, &m, why, sizeof why);
        if (rc != OZ_WU_EFORMAT || strncmp(why, "m.sigmf-meta", 12) != 0)
            fail_msg("case %zu: %d \"%s\"", i, rc, why);
        assert_int_equal(m.sample_rate, 0);
        assert_int_equal(m.header_bytes, 0);
    }
    /* the size limit comes before any parsing */
    char *big = malloc(OZ_WU_META_MAX + 1);
    assert_non_null(big);
    memset(big, ' ', OZ_WU_META_MAX + 1);
    assert_int_equal(meta(big, OZ_WU_META_MAX + 1, &m, why, sizeof why), OZ_WU_ELIMIT);
    assert_string_equal(why, "m.sigmf-meta: more than 1048576 bytes");
    memcpy(big, min, strlen(min));
    assert_int_equal(meta(big, OZ_WU_META_MAX, &m, why, sizeof why), OZ_WU_OK);
    free(big);
}

static void bad_data_files_are_refused(void **state)
{
    (void)state;
    char p[256], why[512];
    oz_wu_reader *r;
    path_in(p, sizeof p, "d");
    write_text("d.sigmf-meta",
               "{\"global\": {\"core:datatype\": \"ci16_le\", \"core:version\": \"1.0.0\","
               " \"core:sample_rate\": 1000}, \"captures\": [" C_OK "]}");
    /* missing */
    assert_int_equal(oz_wu_open_sigmf(p, &r, why, sizeof why), OZ_WU_EIO);
    assert_non_null(strstr(why, "d.sigmf-data"));
    /* not a whole number of 4-byte samples */
    write_bytes("d.sigmf-data", 4001);
    assert_int_equal(oz_wu_open_sigmf(p, &r, why, sizeof why), OZ_WU_EFORMAT);
    assert_non_null(strstr(why, "whole number of ci16 samples"));
    /* empty */
    write_bytes("d.sigmf-data", 0);
    assert_int_equal(oz_wu_open_sigmf(p, &r, why, sizeof why), OZ_WU_EFORMAT);
    assert_non_null(strstr(why, "no samples"));
    /* missing meta */
    path_in(p, sizeof p, "nothing-here");
    assert_int_equal(oz_wu_open_sigmf(p, &r, why, sizeof why), OZ_WU_EIO);
    assert_non_null(strstr(why, "nothing-here.sigmf-meta"));
}

static void a_file_truncated_while_reading_is_an_error_not_a_short_read(void **state)
{
    (void)state;
    char p[256], data[256], why[512] = "";
    path_in(p, sizeof p, "t");
    path_in(data, sizeof data, "t.sigmf-data");
    write_text("t.sigmf-meta",
               "{\"global\": {\"core:datatype\": \"ci8\", \"core:version\": \"1.0.0\","
               " \"core:sample_rate\": 1000}, \"captures\": [" C_OK "]}");
    write_bytes("t.sigmf-data", 2000);
    oz_wu_reader *r;
    assert_int_equal(oz_wu_open_sigmf(p, &r, why, sizeof why), 0);
    assert_int_equal(truncate(data, 1000), 0);
    float iq[2000];
    size_t n;
    assert_int_equal(oz_wu_reader_read(r, iq, 1000, &n, why, sizeof why), OZ_WU_EFORMAT);
    assert_non_null(strstr(why, "truncated"));
    oz_wu_reader_close(r);
}

static void non_finite_float_samples_are_refused(void **state)
{
    (void)state;
    char p[256], why[512] = "";
    write_text("nan.sigmf-meta",
               "{\"global\": {\"core:datatype\": \"cf32_le\", \"core:version\": \"1.0.0\","
               " \"core:sample_rate\": 1000}, \"captures\": [" C_OK "]}");
    float v[8] = {1, 2, 3, 4, 5, NAN, 7, 8};
    path_in(p, sizeof p, "nan.sigmf-data");
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(v, sizeof v, 1, f), 1);
    fclose(f);
    path_in(p, sizeof p, "nan");
    oz_wu_reader *r;
    assert_int_equal(oz_wu_open_sigmf(p, &r, why, sizeof why), 0);
    float iq[8];
    size_t n;
    assert_int_equal(oz_wu_reader_read(r, iq, 4, &n, why, sizeof why), OZ_WU_EFORMAT);
    assert_non_null(strstr(why, "sample 2 is not a finite number"));
    oz_wu_reader_close(r);
}

static void raw_files_need_a_whole_number_of_samples_and_sane_flags(void **state)
{
    (void)state;
    char p[256], why[512] = "";
    path_in(p, sizeof p, "raw.ci16");
    write_bytes("raw.ci16", 4 * 1000);
    oz_wu_raw_params rp = {.format = OZ_WU_CI16,
                           .sample_rate = 2e6,
                           .center_hz = 100e6,
                           .datetime = "2024-01-01T00:00:00Z"};
    oz_wu_reader *r;
    assert_int_equal(oz_wu_open(p, &rp, &r, why, sizeof why), 0);
    assert_int_equal(oz_wu_reader_info(r)->nsamples, 1000);
    assert_true(oz_wu_reader_info(r)->has_time);
    assert_string_equal(oz_wu_reader_info(r)->name, "raw");
    oz_wu_reader_close(r);
    rp.format = OZ_WU_CF32; /* 4000 bytes = 500 cf32 samples */
    assert_int_equal(oz_wu_open_raw(p, &rp, &r, why, sizeof why), 0);
    assert_int_equal(oz_wu_reader_info(r)->nsamples, 500);
    oz_wu_reader_close(r);
    write_bytes("raw.ci16", 4 * 1000 + 2);
    rp.format = OZ_WU_CI16;
    assert_int_equal(oz_wu_open_raw(p, &rp, &r, why, sizeof why), OZ_WU_EFORMAT);
    assert_non_null(strstr(why, "whole number"));
    rp.sample_rate = 0;
    assert_int_equal(oz_wu_open_raw(p, &rp, &r, why, sizeof why), OZ_WU_EINVAL);
    assert_non_null(strstr(why, "--sample-rate"));
    rp.sample_rate = 1000;
    rp.center_hz = NAN;
    assert_int_equal(oz_wu_open_raw(p, &rp, &r, why, sizeof why), OZ_WU_EINVAL);
    assert_non_null(strstr(why, "--center-freq"));
    rp.center_hz = 0;
    rp.datetime = "noon";
    assert_int_equal(oz_wu_open_raw(p, &rp, &r, why, sizeof why), OZ_WU_EINVAL);
    assert_non_null(strstr(why, "--datetime"));
}

static void writer_refuses_bad_descriptions(void **state)
{
    (void)state;
    char stem[256], why[512] = "";
    path_in(stem, sizeof stem, "w");
    oz_wu_info info = {.sample_rate = 1000, .center_hz = 1e9};
    oz_wu_sigmf_writer *w;
    assert_int_equal(oz_wu_sigmf_create(stem, "cu8", &info, NULL, &w, why, sizeof why),
                     OZ_WU_EINVAL);
    assert_non_null(strstr(why, "cu8"));
    info.sample_rate = -1;
    assert_int_equal(oz_wu_sigmf_create(stem, "ci8", &info, NULL, &w, why, sizeof why),
                     OZ_WU_EINVAL);
    info.sample_rate = 1000;
    /* an empty recording is refused and leaves no files */
    assert_int_equal(oz_wu_sigmf_create(stem, "ci8", &info, NULL, &w, why, sizeof why), 0);
    assert_int_equal(oz_wu_sigmf_finish(w, why, sizeof why), OZ_WU_EINVAL);
    char p[300];
    snprintf(p, sizeof p, "%s.sigmf-meta", stem);
    assert_int_not_equal(access(p, F_OK), 0);
    snprintf(p, sizeof p, "%s.sigmf-data", stem);
    assert_int_not_equal(access(p, F_OK), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ci8_round_trips_within_quantisation),
        cmocka_unit_test(ci16_le_round_trips_within_quantisation),
        cmocka_unit_test(ci16_be_round_trips_within_quantisation),
        cmocka_unit_test(cf32_le_round_trips),
        cmocka_unit_test(cf32_be_round_trips),
        cmocka_unit_test(a_recording_is_named_by_stem_meta_or_data),
        cmocka_unit_test(header_bytes_and_dataset_name_are_honoured),
        cmocka_unit_test(bad_meta_files_are_refused_naming_the_field),
        cmocka_unit_test(a_meta_document_parses_from_memory_exactly),
        cmocka_unit_test(bad_data_files_are_refused),
        cmocka_unit_test(site_and_track_round_trip),
        cmocka_unit_test(a_file_truncated_while_reading_is_an_error_not_a_short_read),
        cmocka_unit_test(non_finite_float_samples_are_refused),
        cmocka_unit_test(raw_files_need_a_whole_number_of_samples_and_sane_flags),
        cmocka_unit_test(writer_refuses_bad_descriptions),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
