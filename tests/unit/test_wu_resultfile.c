/*
 * test_wu_resultfile.c - result files (workunits/resultfile.c): exact round
 * trips through text and disk, a strict parser for uploads from strangers,
 * and the plausibility check of a result against the unit it claims.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"
#include "ozma_workunits.h"

static oz_wu_header unit_header(void)
{
    oz_wu_header h;
    memset(&h, 0, sizeof h);
    snprintf(h.dataset, sizeof h.dataset, "ds");
    snprintf(h.unit_id, sizeof h.unit_id, "ds-000002");
    h.sample_rate = 9765.625;
    h.center_hz = 1420e6;
    h.nsamples = 1u << 16;
    h.format = OZ_WU_CI8;
    oz_test_config_small(&h.config);
    return h;
}

static void sample(oz_wu_result *r)
{
    memset(r, 0, sizeof *r);
    snprintf(r->unit_id, sizeof r->unit_id, "ds-000002");
    for (int i = 0; i < 32; i++)
        r->unit_sha256[i] = (unsigned char)(i * 9 + 1);
    r->result.nsignals = 2;
    r->result.signals = calloc(2, sizeof(oz_signal));
    assert_non_null(r->result.signals);
    r->result.signals[0] = (oz_signal){.type = OZ_SIG_SPIKE,
                                       .fft_len = 1024,
                                       .freq_hz = 1420001234.5678901,
                                       .chirp_hz_s = 0.25,
                                       .time_s = 3.1,
                                       .power = 50,
                                       .score = 50.0 / 24};
    r->result.signals[1] = (oz_signal){.type = OZ_SIG_PULSE,
                                       .fft_len = 256,
                                       .freq_hz = 1419999000.125,
                                       .time_s = 1.0,
                                       .power = 9,
                                       .score = 1.125,
                                       .period_s = 0.5};
    r->result.has_best[OZ_SIG_SPIKE] = true;
    r->result.best[OZ_SIG_SPIKE] = r->result.signals[0];
    r->result.flops = 123456789012ull;
    r->result.cpu_s = 1.5;
    snprintf(r->result.kernel_version, sizeof r->result.kernel_version, "%s",
             OZ_SCI_KERNEL_VERSION);
}

static char *dump(const oz_wu_result *r)
{
    json_t *j = oz_wu_result_to_json(r);
    assert_non_null(j);
    char *t = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(j);
    assert_non_null(t);
    return t;
}

static void round_trips_exactly_through_text_and_disk(void **state)
{
    (void)state;
    oz_wu_result a, b, c;
    sample(&a);
    char *t = dump(&a);
    char why[512] = "";
    if (oz_wu_result_parse(t, strlen(t), &b, why, sizeof why) != 0)
        fail_msg("%s", why);
    assert_string_equal(b.unit_id, a.unit_id);
    assert_memory_equal(b.unit_sha256, a.unit_sha256, 32);
    assert_int_equal(b.result.nsignals, 2);
    assert_memory_equal(b.result.signals, a.result.signals, 2 * sizeof(oz_signal));
    assert_true(b.result.flops == a.result.flops);

    char dir[] = "/tmp/oz_result_XXXXXX", path[128];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/r.json", dir);
    assert_int_equal(oz_wu_result_write(path, &a, why, sizeof why), 0);
    assert_int_equal(oz_wu_result_read(path, &c, why, sizeof why), 0);
    assert_memory_equal(c.result.signals, a.result.signals, 2 * sizeof(oz_signal));
    unlink(path);
    oz_wu_result_clear(&c);
    assert_int_equal(oz_wu_result_read(path, &c, why, sizeof why), OZ_WU_EIO);
    rmdir(dir);
    free(t);
    oz_wu_result_clear(&a);
    oz_wu_result_clear(&b);
    oz_wu_result_clear(&c);
}

/* Replaces `key` of a valid document (NULL: deletes it) and expects
 * refusal with `needle`. */
static void expect_refused_with(const char *key, json_t *v, int code, const char *needle)
{
    oz_wu_result a;
    sample(&a);
    json_t *j = oz_wu_result_to_json(&a);
    oz_wu_result_clear(&a);
    if (v)
        json_object_set_new(j, key, v);
    else
        json_object_del(j, key);
    char *t = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    oz_wu_result b;
    char why[512] = "";
    int rc = oz_wu_result_parse(t, strlen(t), &b, why, sizeof why);
    if (rc != code || !strstr(why, needle))
        fail_msg("%s: got %d \"%s\"", key, rc, why);
    assert_null(b.result.signals);
    free(t);
}

static void the_parser_refuses_what_a_stranger_might_send(void **state)
{
    (void)state;
    expect_refused_with("extra", json_true(), OZ_WU_EFORMAT, "extra");
    expect_refused_with("version", json_integer(2), OZ_WU_EVERSION, "version 2");
    expect_refused_with("version", NULL, OZ_WU_EFORMAT, "version");
    expect_refused_with("unit_id", json_string("a b"), OZ_WU_EFORMAT, "unit_id");
    expect_refused_with("unit_id", json_integer(5), OZ_WU_EFORMAT, "unit_id");
    expect_refused_with("unit_sha256",
                        json_string("ABCDEF0123456789ABCDEF0123456789"
                                    "ABCDEF0123456789ABCDEF0123456789"),
                        OZ_WU_EFORMAT, "unit_sha256");
    expect_refused_with("unit_sha256", json_string("00"), OZ_WU_EFORMAT, "unit_sha256");
    expect_refused_with("result", json_pack("{s:[{s:s}]}", "signals", "type", "wow"), OZ_WU_EFORMAT,
                        "result: ");
    expect_refused_with("result", json_string("fine"), OZ_WU_EFORMAT, "result: ");

    const char *texts[] = {
        "",
        "{",
        "null",
        "[]",
        "{\"version\":1,\"version\":1}",
        "{\"version\": NaN}",
        "{\"version\": 1e999}",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        oz_wu_result b;
        char why[512] = "";
        assert_int_equal(oz_wu_result_parse(texts[i], strlen(texts[i]), &b, why, sizeof why),
                         OZ_WU_EFORMAT);
        assert_non_null(strstr(why, "result file"));
    }
    /* more than the size limit is refused before parsing */
    size_t big = OZ_WU_RESULT_MAX + 1;
    char *huge = malloc(big);
    assert_non_null(huge);
    memset(huge, ' ', big);
    oz_wu_result b;
    char why[512] = "";
    assert_int_equal(oz_wu_result_parse(huge, big, &b, why, sizeof why), OZ_WU_ELIMIT);
    free(huge);
    /* deep nesting is bounded by the JSON parser */
    size_t depth = 100000;
    char *deep = malloc(2 * depth + 1);
    assert_non_null(deep);
    memset(deep, '[', depth);
    memset(deep + depth, ']', depth);
    assert_int_equal(oz_wu_result_parse(deep, 2 * depth, &b, why, sizeof why), OZ_WU_EFORMAT);
    free(deep);
}

static void the_check_holds_a_result_to_its_unit(void **state)
{
    (void)state;
    oz_wu_header h = unit_header();
    oz_wu_result a;
    sample(&a);
    char why[512] = "";
    if (oz_wu_result_check(&a, &h, a.unit_sha256, why, sizeof why) != 0)
        fail_msg("%s", why);
    unsigned char other[32] = {0};
    assert_int_equal(oz_wu_result_check(&a, &h, other, why, sizeof why), OZ_WU_EHASH);
    snprintf(h.unit_id, sizeof h.unit_id, "ds-000003");
    assert_int_equal(oz_wu_result_check(&a, &h, a.unit_sha256, why, sizeof why), OZ_WU_EFORMAT);
    assert_non_null(strstr(why, "ds-000003"));
    h = unit_header();

    oz_signal keep = a.result.signals[0];
    struct {
        double freq, chirp, time;
        uint32_t L;
        const char *needle;
    } lies[] = {
        {1430e6, 0.25, 3.1, 1024, "freq_hz"},          {1420001234.5, 0.25, 3.1, 8192, "fft_len"},
        {1420001234.5, 0.25, 3.1, 32, "fft_len"},      {1420001234.5, 0.25, 3.1, 1000, "fft_len"},
        {1420001234.5, 50.0, 3.1, 1024, "chirp_hz_s"}, {1420001234.5, 0.25, 100.0, 1024, "time_s"},
    };
    for (size_t i = 0; i < sizeof lies / sizeof lies[0]; i++) {
        a.result.signals[0] = keep;
        a.result.signals[0].freq_hz = lies[i].freq;
        a.result.signals[0].chirp_hz_s = lies[i].chirp;
        a.result.signals[0].time_s = lies[i].time;
        a.result.signals[0].fft_len = lies[i].L;
        assert_int_equal(oz_wu_result_check(&a, &h, a.unit_sha256, why, sizeof why), OZ_WU_EFORMAT);
        assert_non_null(strstr(why, lies[i].needle));
        assert_non_null(strstr(why, "signals[0]"));
    }
    a.result.signals[0] = keep;
    a.result.best[OZ_SIG_SPIKE].freq_hz = 1e9;
    assert_int_equal(oz_wu_result_check(&a, &h, a.unit_sha256, why, sizeof why), OZ_WU_EFORMAT);
    assert_non_null(strstr(why, "best.spike"));
    a.result.best[OZ_SIG_SPIKE] = keep;
    h.config.max_signals = 1;
    assert_int_equal(oz_wu_result_check(&a, &h, a.unit_sha256, why, sizeof why), OZ_WU_ELIMIT);
    oz_wu_result_clear(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trips_exactly_through_text_and_disk),
        cmocka_unit_test(the_parser_refuses_what_a_stranger_might_send),
        cmocka_unit_test(the_check_holds_a_result_to_its_unit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
