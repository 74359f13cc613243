/*
 * test_wu_ozwu.c - the .ozwu unit file (workunits/ozwu.c): exact round
 * trips, and a reader that refuses every corruption and every lie before it
 * hands out a sample: each single flipped byte, each truncation, trailing
 * bytes, and headers that lie about counts, lengths, versions or fields
 * while every hash is made to match (so only the lie itself can be caught).
 */
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "support.h"
#include "ozma_workunits.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/oz_ozwu_XXXXXX");
    return mkdtemp(dir) && sodium_init() >= 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void small_config(oz_sci_config *c)
{
    oz_sci_config_default(c);
    c->fft_min = 16;
    c->fft_max = 64;
    c->chirp_max = 2.0;
}

static oz_wu_header sample_header(oz_wu_format f, uint64_t n)
{
    oz_wu_header h;
    memset(&h, 0, sizeof h);
    snprintf(h.dataset, sizeof h.dataset, "obs1");
    snprintf(h.unit_id, sizeof h.unit_id, "obs1-000003");
    h.unit_index = 3;
    h.sample_rate = 9765.625;
    h.center_hz = 1420405751.7667;
    h.start_sample = 3 * 57344;
    h.has_time = true;
    assert_int_equal(oz_wu_time_parse("2024-05-01T12:00:17.6160Z", &h.start_ns, NULL, 0), 0);
    h.has_sky = true;
    h.ra_deg = 266.4168;
    h.dec_deg = -29.0078;
    h.ntrack = 3;
    for (uint32_t i = 0; i < h.ntrack; i++)
        h.track[i] = (oz_wu_track_point){2460432.0 + 1e-4 * i, 266.4168 + 0.01 * i, -29.0078};
    h.format = f;
    h.nsamples = n;
    small_config(&h.config);
    return h;
}

static unsigned char *pattern(oz_wu_format f, size_t n)
{
    size_t bytes = n * oz_wu_format_size(f);
    unsigned char *p = malloc(bytes);
    assert_non_null(p);
    if (f == OZ_WU_CF32) {
        for (size_t i = 0; i < 2 * n; i++) {
            float v = (float)sin((double)i * 0.37) * 3.0f;
            memcpy(p + 4 * i, &v, 4);
        }
    } else {
        for (size_t i = 0; i < bytes; i++)
            p[i] = (unsigned char)(i * 131 + 7);
    }
    return p;
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void write_and_load(oz_wu_format f)
{
    char path[256], why[512] = "";
    snprintf(path, sizeof path, "%s/u-%s.ozwu", dir, oz_wu_format_name(f));
    size_t n = 1000;
    oz_wu_header h = sample_header(f, n);
    unsigned char *payload = pattern(f, n);
    unsigned char fsha[32];
    int rc = oz_wu_unit_write(path, &h, payload, fsha, why, sizeof why);
    if (rc != 0)
        fail_msg("%s", why);
    assert_true(h.start_s == (double)h.start_sample / h.sample_rate);

    size_t len;
    unsigned char *bytes = slurp(path, &len);
    unsigned char sha[32];
    crypto_hash_sha256(sha, bytes, len);
    assert_memory_equal(sha, fsha, 32);
    assert_memory_equal(bytes, "OZWU\x01\x00\x00\x00", 8);
    assert_int_equal(len, OZ_WU_PREFIX_BYTES + ((size_t)bytes[8] | (size_t)bytes[9] << 8) +
                              n * oz_wu_format_size(f));

    oz_wu_unit *u;
    rc = oz_wu_unit_load(path, &u, why, sizeof why);
    if (rc != 0)
        fail_msg("%s", why);
    const oz_wu_header *g = oz_wu_unit_header(u);
    assert_int_equal(g->version, OZ_WU_FORMAT_VERSION);
    assert_string_equal(g->dataset, h.dataset);
    assert_string_equal(g->unit_id, h.unit_id);
    assert_int_equal(g->unit_index, 3);
    assert_true(g->sample_rate == h.sample_rate);
    assert_true(g->center_hz == h.center_hz);
    assert_int_equal(g->start_sample, h.start_sample);
    assert_true(g->start_s == h.start_s);
    assert_true(g->has_time && g->start_ns == h.start_ns);
    assert_true(g->has_sky && g->ra_deg == h.ra_deg && g->dec_deg == h.dec_deg);
    assert_int_equal(g->ntrack, 3);
    assert_memory_equal(g->track, h.track, 3 * sizeof h.track[0]);
    assert_int_equal(g->format, f);
    assert_int_equal(g->nsamples, n);
    assert_memory_equal(&g->config, &h.config, sizeof h.config);
    assert_memory_equal(g->payload_sha256, h.payload_sha256, 32);
    assert_memory_equal(oz_wu_unit_file_sha256(u), fsha, 32);
    float *want = malloc(2 * n * sizeof *want);
    assert_non_null(want);
    oz_wu_format_to_cf32(f, payload, n, want);
    assert_memory_equal(oz_wu_unit_samples(u), want, 2 * n * sizeof *want);

    /* the same from memory, and as a reader */
    oz_wu_unit *m;
    assert_int_equal(oz_wu_unit_parse(bytes, len, "mem", &m, why, sizeof why), 0);
    assert_memory_equal(oz_wu_unit_samples(m), want, 2 * n * sizeof *want);
    oz_wu_unit_free(m);
    oz_wu_reader *r;
    assert_int_equal(oz_wu_open(path, NULL, &r, why, sizeof why), 0);
    assert_non_null(oz_wu_reader_unit(r));
    assert_string_equal(oz_wu_reader_unit(r)->unit_id, "obs1-000003");
    assert_int_equal(oz_wu_reader_info(r)->nsamples, n);
    assert_true(oz_wu_reader_info(r)->start_ns == h.start_ns);
    float *got = malloc(2 * n * sizeof *got);
    assert_non_null(got);
    size_t k;
    assert_int_equal(oz_wu_reader_read(r, got, n + 5, &k, why, sizeof why), 0);
    assert_int_equal(k, n);
    assert_memory_equal(got, want, 2 * n * sizeof *want);
    oz_wu_reader_close(r);

    free(got);
    free(want);
    free(bytes);
    free(payload);
    oz_wu_unit_free(u);
}

static void every_format_round_trips_exactly(void **state)
{
    (void)state;
    write_and_load(OZ_WU_CI8);
    write_and_load(OZ_WU_CI16);
    write_and_load(OZ_WU_CF32);
}

/* A small valid unit image in memory. */
static unsigned char *small_image(size_t *len)
{
    char path[256], why[512] = "";
    snprintf(path, sizeof path, "%s/small.ozwu", dir);
    oz_wu_header h = sample_header(OZ_WU_CI8, 64);
    unsigned char *payload = pattern(OZ_WU_CI8, 64);
    assert_int_equal(oz_wu_unit_write(path, &h, payload, NULL, why, sizeof why), 0);
    free(payload);
    return slurp(path, len);
}

static void every_flipped_byte_is_detected(void **state)
{
    (void)state;
    size_t len;
    unsigned char *img = small_image(&len);
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit += 7) {
            img[i] ^= (unsigned char)(1u << bit);
            oz_wu_unit *u = NULL;
            char why[512] = "";
            int rc = oz_wu_unit_parse(img, len, "flip.ozwu", &u, why, sizeof why);
            if (rc == 0)
                fail_msg("flipping bit %d of byte %zu went unnoticed", bit, i);
            assert_null(u);
            assert_non_null(strstr(why, "flip.ozwu: "));
            img[i] ^= (unsigned char)(1u << bit);
        }
    }
    oz_wu_unit *u;
    assert_int_equal(oz_wu_unit_parse(img, len, "ok", &u, NULL, 0), 0);
    oz_wu_unit_free(u);
    free(img);
}

static void every_truncation_and_trailing_byte_is_detected(void **state)
{
    (void)state;
    size_t len;
    unsigned char *img = small_image(&len);
    for (size_t cut = 0; cut < len; cut++) {
        oz_wu_unit *u = NULL;
        char why[512] = "";
        int rc = oz_wu_unit_parse(img, cut, "cut.ozwu", &u, why, sizeof why);
        assert_int_equal(rc, OZ_WU_EFORMAT);
        assert_non_null(strstr(why, cut < OZ_WU_PREFIX_BYTES ? "too short" : "truncated"));
    }
    unsigned char *longer = realloc(img, len + 1);
    assert_non_null(longer);
    longer[len] = 0;
    char why[512] = "";
    oz_wu_unit *u = NULL;
    assert_int_equal(oz_wu_unit_parse(longer, len + 1, "long.ozwu", &u, why, sizeof why),
                     OZ_WU_EFORMAT);
    assert_non_null(strstr(why, "trailing bytes"));
    free(longer);
}

/* ---- lies with matching hashes ------------------------------------------------------ */

/* Builds an image from header JSON text and payload bytes with a correct
 * header hash; version and lengths in the prefix as given. */
static unsigned char *craft(const char *header, const void *payload, size_t plen, uint32_t version,
                            uint32_t hlen, uint64_t plen_field, size_t *len)
{
    size_t h = strlen(header);
    *len = OZ_WU_PREFIX_BYTES + h + plen;
    unsigned char *b = malloc(*len);
    assert_non_null(b);
    memcpy(b, "OZWU", 4);
    for (int i = 0; i < 4; i++) {
        b[4 + i] = (unsigned char)(version >> (8 * i));
        b[8 + i] = (unsigned char)(hlen >> (8 * i));
    }
    for (int i = 0; i < 8; i++)
        b[12 + i] = (unsigned char)(plen_field >> (8 * i));
    crypto_hash_sha256(b + 20, (const unsigned char *)header, h);
    memcpy(b + OZ_WU_PREFIX_BYTES, header, h);
    memcpy(b + OZ_WU_PREFIX_BYTES + h, payload, plen);
    return b;
}

/* The header of a valid 64-sample ci8 unit as a JSON object, with its
 * payload hash filled for `payload`. */
static json_t *valid_header(const void *payload, size_t plen)
{
    oz_sci_config c;
    small_config(&c);
    unsigned char sha[32];
    char hex[65];
    crypto_hash_sha256(sha, payload, plen);
    oz_wu_sha256_hex(sha, hex);
    json_t *h =
        json_pack("{s:i, s:s, s:s, s:i, s:f, s:f, s:i, s:f, s:s, s:s, s:i, s:o, s:s}", "version", 1,
                  "dataset", "obs1", "unit_id", "obs1-000001", "unit_index", 1, "sample_rate_hz",
                  1000.0, "center_freq_hz", 1e9, "start_sample", 896, "start_s", 0.896, "start_utc",
                  "2024-05-01T12:00:00Z", "sample_format", "ci8", "sample_count", (int)(plen / 2),
                  "analysis", oz_sci_config_to_json(&c), "payload_sha256", hex);
    assert_non_null(h);
    return h;
}

/* Parses header text + payload (all hashes right, lengths true) and
 * expects `code` with `needle` in the message. */
static void expect_refused(const char *header, const void *payload, size_t plen, int code,
                           const char *needle)
{
    size_t len;
    uint32_t hl = (uint32_t)strlen(header);
    unsigned char *img = craft(header, payload, plen, 1, hl, plen, &len);
    oz_wu_unit *u = NULL;
    char why[512] = "";
    int rc = oz_wu_unit_parse(img, len, "lie.ozwu", &u, why, sizeof why);
    if (rc != code || !strstr(why, needle) || u)
        fail_msg("header %.300s\n got %d \"%s\", wanted %d with \"%s\"", header, rc, why, code,
                 needle);
    free(img);
}

/* Sets key to value (NULL: deletes it) in a fresh valid header and expects
 * refusal. */
static void expect_field_refused(const char *key, json_t *value, int code, const char *needle)
{
    unsigned char payload[128];
    memset(payload, 3, sizeof payload);
    json_t *h = valid_header(payload, sizeof payload);
    if (value)
        json_object_set_new(h, key, value);
    else
        json_object_del(h, key);
    char *text = json_dumps(h, JSON_COMPACT);
    assert_non_null(text);
    expect_refused(text, payload, sizeof payload, code, needle);
    free(text);
    json_decref(h);
}

/* A SETI@home unit's track survives the header whole, up to the largest
 * one the header may hold; anything else in sky_track is refused. */
static void the_sky_track_round_trips_and_is_checked(void **state)
{
    (void)state;
    char path[256], why[512] = "";
    snprintf(path, sizeof path, "%s/track.ozwu", dir);
    size_t n = 256;
    oz_wu_header *h = malloc(sizeof *h);
    assert_non_null(h);
    *h = sample_header(OZ_WU_CI8, n);
    h->ntrack = OZ_WU_TRACK_MAX;
    for (uint32_t i = 0; i < h->ntrack; i++)
        h->track[i] = (oz_wu_track_point){2451606.85836 + 1e-5 * i, 359.999999999, -89.123456789};
    unsigned char *payload = pattern(OZ_WU_CI8, n);
    if (oz_wu_unit_write(path, h, payload, NULL, why, sizeof why) != 0)
        fail_msg("%s", why);
    oz_wu_unit *u;
    if (oz_wu_unit_load(path, &u, why, sizeof why) != 0)
        fail_msg("%s", why);
    assert_int_equal(oz_wu_unit_header(u)->ntrack, OZ_WU_TRACK_MAX);
    assert_memory_equal(oz_wu_unit_header(u)->track, h->track, sizeof h->track);
    oz_wu_unit_free(u);
    h->ntrack = OZ_WU_TRACK_MAX + 1;
    assert_int_equal(oz_wu_unit_write(path, h, payload, NULL, why, sizeof why), OZ_WU_ELIMIT);
    free(payload);
    free(h);

    expect_field_refused("sky_track", json_array(), OZ_WU_EFORMAT, "array of 1..512 points");
    expect_field_refused("sky_track", json_pack("{s:i}", "a", 1), OZ_WU_EFORMAT, "sky_track");
    expect_field_refused("sky_track", json_pack("[[f, f]]", 2451545.0, 1.0), OZ_WU_EFORMAT,
                         "point 0 must be [jd, ra_deg, dec_deg]");
    expect_field_refused("sky_track", json_pack("[[f, f, f]]", 2451545.0, 360.0, 0.0),
                         OZ_WU_EFORMAT, "sky_track point 0");
    expect_field_refused("sky_track", json_pack("[[f, f, f]]", 2451545.0, 1.0, 90.5), OZ_WU_EFORMAT,
                         "sky_track point 0");
    expect_field_refused("sky_track", json_pack("[[f, f, f]]", 1e9, 1.0, 0.0), OZ_WU_EFORMAT,
                         "sky_track point 0");
    expect_field_refused(
        "sky_track", json_pack("[[f, f, f], [f, f, f]]", 2451545.0, 1.0, 0.0, 2451544.0, 1.0, 0.0),
        OZ_WU_EFORMAT, "sky_track point 1");
    json_t *big = json_array();
    for (unsigned i = 0; i <= OZ_WU_TRACK_MAX; i++)
        json_array_append_new(big, json_pack("[f, f, f]", 2451545.0, 1.0, 0.0));
    expect_field_refused("sky_track", big, OZ_WU_EFORMAT, "array of 1..512 points");
}

static void a_crafted_valid_unit_is_accepted(void **state)
{
    (void)state;
    unsigned char payload[128];
    memset(payload, 3, sizeof payload);
    json_t *h = valid_header(payload, sizeof payload);
    char *text = json_dumps(h, JSON_COMPACT);
    size_t len;
    unsigned char *img =
        craft(text, payload, sizeof payload, 1, (uint32_t)strlen(text), sizeof payload, &len);
    oz_wu_unit *u;
    char why[512] = "";
    if (oz_wu_unit_parse(img, len, "crafted", &u, why, sizeof why) != 0)
        fail_msg("%s", why);
    assert_int_equal(oz_wu_unit_header(u)->nsamples, 64);
    oz_wu_unit_free(u);
    free(img);
    free(text);
    json_decref(h);
}

static void header_lies_are_refused(void **state)
{
    (void)state;
    expect_field_refused("sample_count", json_integer(100), OZ_WU_EFORMAT,
                         "lie.ozwu: header says 100 samples but payload holds 64");
    expect_field_refused("sample_count", json_integer(1LL << 40), OZ_WU_ELIMIT, "sample_count");
    expect_field_refused("sample_count", json_integer(-1), OZ_WU_ELIMIT, "sample_count");
    expect_field_refused("sample_count", json_integer(0), OZ_WU_ELIMIT, "sample_count 0");
    expect_field_refused("version", json_integer(2), OZ_WU_EVERSION, "header version 2");
    expect_field_refused("sample_format", json_string("ci4"), OZ_WU_EFORMAT, "sample_format");
    expect_field_refused("sample_format", json_string("ci16_le"), OZ_WU_EFORMAT, "sample_format");
    expect_field_refused("sample_rate_hz", json_real(-1000), OZ_WU_EFORMAT, "sample_rate_hz");
    expect_field_refused("sample_rate_hz", json_string("1000"), OZ_WU_EFORMAT,
                         "sample_rate_hz: expected a number");
    expect_field_refused("center_freq_hz", json_real(1e13), OZ_WU_EFORMAT, "center_freq_hz");
    expect_field_refused("start_s", json_real(5.0), OZ_WU_EFORMAT, "start_s");
    expect_field_refused("start_utc", json_string("2024-05-01"), OZ_WU_EFORMAT, "start_utc");
    expect_field_refused("unit_id", json_string("../../etc/passwd"), OZ_WU_EFORMAT, "unit_id");
    expect_field_refused("dataset", json_string(""), OZ_WU_EFORMAT, "dataset");
    expect_field_refused("payload_sha256", json_string("abc"), OZ_WU_EFORMAT, "payload_sha256");
    expect_field_refused("payload_sha256",
                         json_string("00000000000000000000000000000000"
                                     "00000000000000000000000000000000"),
                         OZ_WU_EHASH, "payload SHA-256");
    expect_field_refused("analysis", json_pack("{s:i}", "fft_min", 3), OZ_WU_EFORMAT,
                         "analysis: fft_min");
    expect_field_refused("analysis", json_pack("{s:i}", "fft_size", 3), OZ_WU_EFORMAT,
                         "analysis: configuration: unknown key");
    expect_field_refused("sky", json_pack("{s:f, s:f}", "ra_deg", 10.0, "dec_deg", 95.0),
                         OZ_WU_EFORMAT, "sky position");
    expect_field_refused("sky", json_pack("{s:f}", "ra_deg", 10.0), OZ_WU_EFORMAT, "sky");
    expect_field_refused("comment", json_string("hello"), OZ_WU_EFORMAT,
                         "unknown header key \"comment\"");
    expect_field_refused("unit_index", json_real(1.5), OZ_WU_EFORMAT, "unit_index");
    expect_field_refused("analysis", NULL, OZ_WU_EFORMAT, "header key \"analysis\" is missing");
    expect_field_refused("payload_sha256", NULL, OZ_WU_EFORMAT, "\"payload_sha256\" is missing");
    /* review findings: a partial analysis would take each kernel's own
     * defaults; a vanishing rate makes times infinite; a start the header's
     * start_utc cannot say */
    oz_sci_config def;
    oz_sci_config_default(&def);
    json_t *partial = oz_sci_config_to_json(&def);
    json_object_del(partial, "line_pfa");
    expect_field_refused("analysis", partial, OZ_WU_EFORMAT,
                         "analysis: key \"line_pfa\" is missing");
    expect_field_refused("sample_rate_hz", json_real(5e-324), OZ_WU_EFORMAT, "sample_rate_hz");
}

/* A unit starting in 2200 whose time would run past the years start_utc can
 * say: the header is refused before anything is written. */
static void start_times_beyond_2200_are_refused(void **state)
{
    (void)state;
    oz_wu_header h = sample_header(OZ_WU_CF32, 64);
    h.has_time = true;
    h.start_ns = OZ_WU_TIME_MAX_NS;
    h.start_ns = oz_wu_time_add(h.start_ns, 3.0e9); /* saturates, no overflow */
    assert_true(h.start_ns == INT64_MAX);
    unsigned char *payload = pattern(OZ_WU_CF32, 64);
    char path[128], why[256] = "";
    snprintf(path, sizeof path, "%s/late.ozwu", dir);
    assert_int_equal(oz_wu_unit_write(path, &h, payload, NULL, why, sizeof why), OZ_WU_ELIMIT);
    assert_non_null(strstr(why, "1900..2200"));
    assert_int_equal(access(path, F_OK), -1);
    free(payload);
}

static void malformed_headers_are_refused(void **state)
{
    (void)state;
    unsigned char payload[128] = {0};
    expect_refused("not json at all", payload, sizeof payload, OZ_WU_EFORMAT, "not valid JSON");
    expect_refused("[1,2,3]", payload, sizeof payload, OZ_WU_EFORMAT, "expected an object");
    expect_refused("{\"version\":1,\"version\":1}", payload, sizeof payload, OZ_WU_EFORMAT,
                   "not valid JSON");
    /* a NUL inside the header */
    char withnul[] = "{\"version\":1}";
    size_t len;
    unsigned char *img =
        craft(withnul, payload, sizeof payload, 1, (uint32_t)strlen(withnul), sizeof payload, &len);
    img[OZ_WU_PREFIX_BYTES + 3] = '\0';
    crypto_hash_sha256(img + 20, img + OZ_WU_PREFIX_BYTES, strlen(withnul));
    oz_wu_unit *u = NULL;
    char why[512] = "";
    assert_int_equal(oz_wu_unit_parse(img, len, "nul.ozwu", &u, why, sizeof why), OZ_WU_EFORMAT);
    assert_non_null(strstr(why, "NUL"));
    free(img);
}

static void prefix_lies_are_refused_before_allocating(void **state)
{
    (void)state;
    unsigned char payload[128];
    memset(payload, 3, sizeof payload);
    json_t *h = valid_header(payload, sizeof payload);
    char *text = json_dumps(h, JSON_COMPACT);
    uint32_t hl = (uint32_t)strlen(text);
    struct {
        uint32_t version, hlen;
        uint64_t plen;
        int code;
        const char *needle;
    } cases[] = {
        {2, hl, 128, OZ_WU_EVERSION, "format version 2 is not supported"},
        {0, hl, 128, OZ_WU_EVERSION, "format version 0"},
        {1, 0, 128, OZ_WU_ELIMIT, "header length 0"},
        {1, 1u << 20, 128, OZ_WU_ELIMIT, "header length 1048576"},
        {1, hl, 1ull << 62, OZ_WU_ELIMIT, "payload length"},
        {1, hl, 129, OZ_WU_EFORMAT, "truncated"},
        {1, hl + 1, 128, OZ_WU_EFORMAT, "truncated"},
        {1, hl, 127, OZ_WU_EFORMAT, "trailing bytes"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len;
        unsigned char *img = craft(text, payload, sizeof payload, cases[i].version, cases[i].hlen,
                                   cases[i].plen, &len);
        oz_wu_unit *u = NULL;
        char why[512] = "";
        int rc = oz_wu_unit_parse(img, len, "lie.ozwu", &u, why, sizeof why);
        if (rc != cases[i].code || !strstr(why, cases[i].needle))
            fail_msg("case %zu: got %d \"%s\"", i, rc, why);
        free(img);
    }
    /* bad magic */
    size_t len;
    unsigned char *img = craft(text, payload, sizeof payload, 1, hl, 128, &len);
    img[0] = 'X';
    char why[512] = "";
    oz_wu_unit *u = NULL;
    assert_int_equal(oz_wu_unit_parse(img, len, "m.ozwu", &u, why, sizeof why), OZ_WU_EFORMAT);
    assert_non_null(strstr(why, "bad magic"));
    free(img);
    free(text);
    json_decref(h);
}

static void huge_claimed_file_is_refused_by_size_first(void **state)
{
    (void)state;
    /* A sparse file whose prefix and length agree on a 600 MB payload: the
     * limit stops it before anything the size of the file is allocated. */
    char path[256], why[512] = "";
    snprintf(path, sizeof path, "%s/huge.ozwu", dir);
    unsigned char prefix[OZ_WU_PREFIX_BYTES] = "OZWU\x01\x00\x00\x00\x10\x00\x00\x00";
    uint64_t plen = 600ull << 20;
    for (int i = 0; i < 8; i++)
        prefix[12 + i] = (unsigned char)(plen >> (8 * i));
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, prefix, sizeof prefix), (ssize_t)sizeof prefix);
    assert_int_equal(ftruncate(fd, (off_t)(OZ_WU_PREFIX_BYTES + 16 + plen)), 0);
    close(fd);
    oz_wu_unit *u = NULL;
    assert_int_equal(oz_wu_unit_load(path, &u, why, sizeof why), OZ_WU_ELIMIT);
    assert_non_null(strstr(why, "exceeds the limit"));
    snprintf(path, sizeof path, "%s/absent.ozwu", dir);
    assert_int_equal(oz_wu_unit_load(path, &u, why, sizeof why), OZ_WU_EIO);
    assert_non_null(strstr(why, "absent.ozwu"));
}

static void non_finite_payloads_are_refused(void **state)
{
    (void)state;
    float payload[8] = {1, 2, 3, 4, INFINITY, 6, 7, 8};
    json_t *h = valid_header(payload, sizeof payload);
    json_object_set_new(h, "sample_format", json_string("cf32"));
    json_object_set_new(h, "sample_count", json_integer(4));
    char *text = json_dumps(h, JSON_COMPACT);
    expect_refused(text, payload, sizeof payload, OZ_WU_EFORMAT, "sample 2 is not a finite");
    free(text);
    json_decref(h);
}

static void writer_refuses_bad_headers_and_leaves_nothing(void **state)
{
    (void)state;
    char path[256], why[512] = "";
    snprintf(path, sizeof path, "%s/sub", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/sub/bad.ozwu", dir);
    unsigned char payload[256] = {0};
    oz_wu_header h = sample_header(OZ_WU_CI8, 100);
    snprintf(h.unit_id, sizeof h.unit_id, "a/b");
    assert_int_equal(oz_wu_unit_write(path, &h, payload, NULL, why, sizeof why), OZ_WU_EINVAL);
    assert_non_null(strstr(why, "unit_id"));
    h = sample_header(OZ_WU_CI8, 0);
    assert_int_equal(oz_wu_unit_write(path, &h, payload, NULL, why, sizeof why), OZ_WU_ELIMIT);
    h = sample_header(OZ_WU_CI8, 100);
    h.config.fft_max = 100;
    assert_int_equal(oz_wu_unit_write(path, &h, payload, NULL, why, sizeof why), OZ_WU_EINVAL);
    assert_non_null(strstr(why, "analysis"));
    /* a good write leaves exactly one file, no temporary */
    h = sample_header(OZ_WU_CI8, 100);
    assert_int_equal(oz_wu_unit_write(path, &h, payload, NULL, why, sizeof why), 0);
    assert_int_equal(oz_wu_unit_write(path, &h, payload, NULL, why, sizeof why), 0);
    snprintf(path, sizeof path, "%s/sub", dir);
    DIR *d = opendir(path);
    assert_non_null(d);
    int files = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') {
            files++;
            assert_string_equal(e->d_name, "bad.ozwu");
        }
    closedir(d);
    assert_int_equal(files, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_format_round_trips_exactly),
        cmocka_unit_test(every_flipped_byte_is_detected),
        cmocka_unit_test(every_truncation_and_trailing_byte_is_detected),
        cmocka_unit_test(a_crafted_valid_unit_is_accepted),
        cmocka_unit_test(the_sky_track_round_trips_and_is_checked),
        cmocka_unit_test(header_lies_are_refused),
        cmocka_unit_test(start_times_beyond_2200_are_refused),
        cmocka_unit_test(malformed_headers_are_refused),
        cmocka_unit_test(prefix_lies_are_refused_before_allocating),
        cmocka_unit_test(huge_claimed_file_is_refused_by_size_first),
        cmocka_unit_test(non_finite_payloads_are_refused),
        cmocka_unit_test(writer_refuses_bad_headers_and_leaves_nothing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
