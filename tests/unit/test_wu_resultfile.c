/*
 * test_wu_resultfile.c - result files (workunits/resultfile.c): exact round
 * trips through text and disk, a strict parser for uploads from strangers,
 * and the plausibility check of a result against the unit it claims: a real
 * search's result passes it, and each field the kernel could not have
 * produced is refused (issue 21: a line starting 923012 s into a 0.1 s
 * unit, a result without best.pulse, a score of 725919).
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
                                       .score = 9 / 6.5,
                                       .period_s = 0.5};
    r->result.has_best[OZ_SIG_SPIKE] = true;
    r->result.best[OZ_SIG_SPIKE] = r->result.signals[0];
    r->result.has_best[OZ_SIG_PULSE] = true;
    r->result.best[OZ_SIG_PULSE] = r->result.signals[1];
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

/* ---- a real search's result, and lies about it ---------------------------- */

#define REAL_N (1u << 16)

/* The header of a 2^16-sample unit searched with the small configuration,
 * Gaussians made narrow enough to run at this length (sigma 0.4 s). */
static oz_wu_header real_header(void)
{
    oz_wu_header h = unit_header();
    h.nsamples = REAL_N;
    h.config.gauss_sigma_s = 0.4;
    return h;
}

/* The kernel's result for noise plus a drifting tone (scale 0 for a unit of
 * zeros), through JSON text and the strict parser as an upload goes. */
static void real_result(const oz_wu_header *h, double scale, oz_wu_result *out)
{
    float *iq = oz_test_noise(REAL_N, 7, scale);
    oz_tone tone = {.freq_hz = 1200.0, .chirp_hz_s = 0.5, .amp = 0.5 * scale, .env = OZ_ENV_CONST};
    oz_sci_add_tone(iq, REAL_N, h->sample_rate, &tone);
    oz_wu_result r;
    memset(&r, 0, sizeof r);
    snprintf(r.unit_id, sizeof r.unit_id, "%s", h->unit_id);
    oz_test_search(&h->config, iq, REAL_N, h->sample_rate, h->center_hz, &r.result);
    free(iq);
    char *text = dump(&r);
    char why[512] = "";
    if (oz_wu_result_parse(text, strlen(text), out, why, sizeof why) != OZ_WU_OK)
        fail_msg("the kernel's own result does not parse: %s", why);
    free(text);
    oz_wu_result_clear(&r);
}

static const oz_signal *first_of(const oz_wu_result *r, oz_sig_type t)
{
    for (size_t i = 0; i < r->result.nsignals; i++)
        if (r->result.signals[i].type == t)
            return &r->result.signals[i];
    return NULL;
}

static void a_real_result_fits_its_unit(void **state)
{
    (void)state;
    oz_wu_header h = real_header();
    oz_wu_result r;
    real_result(&h, 1.0, &r);
    char why[512] = "";
    if (oz_wu_result_check(&r, &h, NULL, why, sizeof why) != OZ_WU_OK) {
        oz_test_dump(&r.result);
        fail_msg("%s", why);
    }
    /* what the lies below edit is there */
    assert_true(r.result.has_best[OZ_SIG_SPIKE] && r.result.has_best[OZ_SIG_GAUSSIAN] &&
                r.result.has_best[OZ_SIG_PULSE]);
    assert_non_null(first_of(&r, OZ_SIG_SPIKE));
    assert_non_null(first_of(&r, OZ_SIG_LINE));
    oz_wu_result_clear(&r);
    /* a unit of zeros: nothing found, not even a best, and that is right */
    real_result(&h, 0.0, &r);
    assert_int_equal(r.result.nsignals, 0);
    if (oz_wu_result_check(&r, &h, NULL, why, sizeof why) != OZ_WU_OK)
        fail_msg("%s", why);
    oz_wu_result_clear(&r);
}

/* The field edit(r) makes impossible is refused, naming `needle`; returns
 * 1 (after printing why) when it is not. */
static int refused_after(const char *what, void (*edit)(oz_wu_result *r), const char *needle)
{
    oz_wu_header h = real_header();
    oz_wu_result r;
    real_result(&h, 1.0, &r);
    edit(&r);
    char why[512] = "";
    int rc = oz_wu_result_check(&r, &h, NULL, why, sizeof why);
    oz_wu_result_clear(&r);
    if (rc != OZ_WU_EFORMAT || !strstr(why, needle)) {
        print_message("%s: got %d \"%s\", expected a refusal naming \"%s\"\n", what, rc, why,
                      needle);
        return 1;
    }
    return 0;
}

static oz_signal *listed(oz_wu_result *r, oz_sig_type t)
{
    oz_signal *s = (oz_signal *)first_of(r, t);
    assert_non_null(s);
    return s;
}

static void line_starts_after_the_unit(oz_wu_result *r)
{
    listed(r, OZ_SIG_LINE)->start_s = 923012;
}
static void line_ends_after_the_unit(oz_wu_result *r)
{
    listed(r, OZ_SIG_LINE)->end_s = 923012;
}
static void line_ends_before_it_starts(oz_wu_result *r)
{
    oz_signal *s = listed(r, OZ_SIG_LINE);
    double t = s->start_s;
    s->start_s = s->end_s;
    s->end_s = t;
}
static void no_best_pulse(oz_wu_result *r)
{
    r->result.has_best[OZ_SIG_PULSE] = false;
}
static void no_best_spike(oz_wu_result *r)
{
    r->result.has_best[OZ_SIG_SPIKE] = false;
}
static void spike_score_725919(oz_wu_result *r)
{
    listed(r, OZ_SIG_SPIKE)->score = 725919;
}
static void best_gaussian_score_725919(oz_wu_result *r)
{
    r->result.best[OZ_SIG_GAUSSIAN].score = 725919;
}
static void spike_power_and_score_725919(oz_wu_result *r)
{
    oz_signal *s = listed(r, OZ_SIG_SPIKE);
    s->power = 725919 * r->result.best[OZ_SIG_SPIKE].power / r->result.best[OZ_SIG_SPIKE].score;
    s->score = 725919;
}
static void pulse_power_and_score_huge(oz_wu_result *r)
{
    oz_signal *s = &r->result.best[OZ_SIG_PULSE];
    s->power = 1e9;
    s->score = 1e9 / 6.5;
}
static void pulse_period_past_the_unit(oz_wu_result *r)
{
    r->result.best[OZ_SIG_PULSE].period_s = 100;
}
static void gaussian_of_another_width(oz_wu_result *r)
{
    r->result.best[OZ_SIG_GAUSSIAN].sigma_s = 7;
}
static void autocorr_in_ozmas_mode(oz_wu_result *r)
{
    r->result.best[OZ_SIG_AUTOCORR] = *listed(r, OZ_SIG_SPIKE);
    r->result.best[OZ_SIG_AUTOCORR].type = OZ_SIG_AUTOCORR;
    r->result.has_best[OZ_SIG_AUTOCORR] = true;
}

static void what_the_kernel_cannot_produce_is_refused(void **state)
{
    (void)state;
    int accepted = 0;
    accepted += refused_after("a line starting at 923012 s", line_starts_after_the_unit, "start_s");
    accepted += refused_after("a line ending at 923012 s", line_ends_after_the_unit, "end_s");
    accepted +=
        refused_after("a line ending before it starts", line_ends_before_it_starts, "start_s");
    accepted += refused_after("no best pulse", no_best_pulse, "best.pulse");
    accepted += refused_after("no best spike", no_best_spike, "best.spike");
    accepted += refused_after("a spike scored 725919", spike_score_725919, "score");
    accepted += refused_after("a best Gaussian scored 725919", best_gaussian_score_725919, "score");
    accepted +=
        refused_after("a spike of power 725919 thresholds", spike_power_and_score_725919, "power");
    accepted += refused_after("a pulse of power 1e9", pulse_power_and_score_huge, "power");
    accepted +=
        refused_after("a pulse period past the unit", pulse_period_past_the_unit, "period_s");
    accepted += refused_after("a Gaussian of another width", gaussian_of_another_width, "sigma_s");
    accepted +=
        refused_after("an autocorrelation in Ozma's mode", autocorr_in_ozmas_mode, "autocorr");
    assert_int_equal(accepted, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trips_exactly_through_text_and_disk),
        cmocka_unit_test(the_parser_refuses_what_a_stranger_might_send),
        cmocka_unit_test(the_check_holds_a_result_to_its_unit),
        cmocka_unit_test(a_real_result_fits_its_unit),
        cmocka_unit_test(what_the_kernel_cannot_produce_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
