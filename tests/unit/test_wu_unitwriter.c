/*
 * test_wu_unitwriter.c - a recording into .ozwu files (workunits/unitwriter.c): unit
 * count, ids, start samples and times, compact sample formats, payloads equal
 * to the recording's samples, the callback's view of each file, and the
 * errors that stop a split before it writes anything.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support.h"
#include "ozma_workunits.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/oz_split_XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
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
    c->fft_min = 64;
    c->fft_max = 1024;
    c->chirp_max = 1.0;
}

struct seen {
    uint64_t calls;
    uint64_t nunits;
    unsigned char sha[64][32];
    uint64_t bytes[64];
    int stop_at;
};

static int on_unit(void *arg, const oz_wu_unit_written *w, uint64_t nunits)
{
    struct seen *s = arg;
    assert_true(s->calls < 64);
    assert_int_equal(w->header->unit_index, s->calls);
    assert_non_null(strstr(w->path, w->header->unit_id));
    assert_int_equal(access(w->path, R_OK), 0); /* durable before the callback */
    memcpy(s->sha[s->calls], w->file_sha256, 32);
    s->bytes[s->calls] = w->file_bytes;
    s->nunits = nunits;
    s->calls++;
    return s->stop_at && (int)s->calls == s->stop_at ? 7 : 0;
}

static void make_recording(const char *stem, const char *datatype, uint64_t n)
{
    oz_wu_synth s = {
        .sample_rate = 8192, .center_hz = 1e9, .nsamples = n, .seed = 3, .noise_power = 1};
    char why[512] = "";
    if (oz_wu_synth_write(&s, stem, datatype, 0, "2024-05-01T00:00:00Z", NULL, why, sizeof why))
        fail_msg("%s", why);
}

static void split_one(const char *datatype, oz_wu_format want_format, unsigned threads)
{
    char stem[256], out[256], why[512] = "";
    snprintf(stem, sizeof stem, "%s/rec-%s", dir, datatype);
    snprintf(out, sizeof out, "%s/units-%s", dir, datatype);
    assert_int_equal(mkdir(out, 0755), 0);
    const uint64_t n = 3 * 4096 + 1001; /* odd: needs a tail unit */
    make_recording(stem, datatype, n);

    oz_wu_reader *r;
    assert_int_equal(oz_wu_open(stem, NULL, &r, why, sizeof why), 0);
    float *all = malloc(2 * n * sizeof *all);
    assert_non_null(all);
    size_t got;
    assert_int_equal(oz_wu_reader_read(r, all, n, &got, why, sizeof why), 0);
    assert_int_equal(got, n);

    oz_sci_config cfg;
    small_config(&cfg);
    struct seen seen = {0};
    oz_wu_split_opts o = {.out_dir = out,
                          .dataset = "survey-7",
                          .unit_samples = 4096,
                          .overlap = 0.125,
                          .config = &cfg,
                          .on_unit = on_unit,
                          .arg = &seen,
                          .threads = threads};
    uint64_t nunits;
    int rc = oz_wu_split_write(r, &o, &nunits, why, sizeof why);
    if (rc != 0)
        fail_msg("%s", why);
    oz_wu_plan p;
    assert_int_equal(oz_wu_plan_make(n, 4096, 0.125, &p, why, sizeof why), 0);
    assert_int_equal(nunits, p.nunits);
    assert_int_equal(nunits, 4); /* 3 regular, 1 tail */
    assert_int_equal(seen.calls, nunits);
    assert_int_equal(seen.nunits, nunits);

    int64_t t0;
    assert_int_equal(oz_wu_time_parse("2024-05-01T00:00:00Z", &t0, NULL, 0), 0);
    for (uint64_t i = 0; i < nunits; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/survey-7-%06llu.ozwu", out, (unsigned long long)i);
        oz_wu_unit *u;
        if (oz_wu_unit_load(path, &u, why, sizeof why) != 0)
            fail_msg("%s", why);
        const oz_wu_header *h = oz_wu_unit_header(u);
        uint64_t start = oz_wu_plan_start(&p, i);
        assert_string_equal(h->dataset, "survey-7");
        assert_int_equal(h->unit_index, i);
        assert_int_equal(h->start_sample, start);
        assert_true(h->start_s == (double)start / 8192);
        assert_true(h->has_time && h->start_ns == oz_wu_time_add(t0, (double)start / 8192));
        assert_int_equal(h->format, want_format);
        assert_int_equal(h->nsamples, 4096);
        assert_true(h->sample_rate == 8192 && h->center_hz == 1e9);
        assert_memory_equal(&h->config, &cfg, sizeof cfg);
        assert_memory_equal(oz_wu_unit_file_sha256(u), seen.sha[i], 32);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal((uint64_t)st.st_size, seen.bytes[i]);
        assert_memory_equal(oz_wu_unit_samples(u), all + 2 * start, 4096 * 2 * sizeof(float));
        oz_wu_unit_free(u);
    }
    /* the tail unit ends at the recording's end */
    assert_int_equal(oz_wu_plan_start(&p, nunits - 1) + 4096, n);
    free(all);
    oz_wu_reader_close(r);
}

static void ci8_recording_splits_into_ci8_units(void **state)
{
    (void)state;
    split_one("ci8", OZ_WU_CI8, 0); /* one thread per CPU */
}

static void ci16_recording_splits_into_ci16_units(void **state)
{
    (void)state;
    split_one("ci16_be", OZ_WU_CI16, 1); /* in the calling thread */
}

static void cf32_recording_splits_into_cf32_units(void **state)
{
    (void)state;
    split_one("cf32_le", OZ_WU_CF32, 3); /* more threads than CPUs */
}

static void the_callback_can_stop_a_split(void **state)
{
    (void)state;
    char stem[256], out[256], why[512] = "";
    snprintf(stem, sizeof stem, "%s/stop", dir);
    snprintf(out, sizeof out, "%s/stop-units", dir);
    assert_int_equal(mkdir(out, 0755), 0);
    make_recording(stem, "ci8", 5 * 4096);
    oz_wu_reader *r;
    assert_int_equal(oz_wu_open(stem, NULL, &r, why, sizeof why), 0);
    oz_sci_config cfg;
    small_config(&cfg);
    struct seen seen = {.stop_at = 2};
    oz_wu_split_opts o = {.out_dir = out,
                          .unit_samples = 4096,
                          .overlap = 0.125,
                          .config = &cfg,
                          .on_unit = on_unit,
                          .arg = &seen};
    uint64_t nunits;
    assert_int_equal(oz_wu_split_write(r, &o, &nunits, why, sizeof why), 7);
    assert_int_equal(nunits, 2);
    /* default dataset id: the recording's name */
    char path[512];
    snprintf(path, sizeof path, "%s/stop-000001.ozwu", out);
    assert_int_equal(access(path, R_OK), 0);
    oz_wu_reader_close(r);
}

static void bad_options_stop_the_split_before_it_writes(void **state)
{
    (void)state;
    char stem[256], out[256], why[512] = "";
    snprintf(stem, sizeof stem, "%s/opts", dir);
    snprintf(out, sizeof out, "%s/opts-units", dir);
    assert_int_equal(mkdir(out, 0755), 0);
    make_recording(stem, "ci8", 3 * 4096);
    oz_wu_reader *r;
    assert_int_equal(oz_wu_open(stem, NULL, &r, why, sizeof why), 0);
    oz_sci_config cfg;
    small_config(&cfg);
    oz_wu_split_opts o = {.out_dir = out, .unit_samples = 4096, .overlap = 0.125, .config = &cfg};

    o.dataset = "bad/name";
    assert_int_equal(oz_wu_split_write(r, &o, NULL, why, sizeof why), OZ_WU_EINVAL);
    assert_non_null(strstr(why, "dataset id"));
    o.dataset = NULL;
    o.unit_samples = 512; /* shorter than fft_max 1024 */
    assert_int_equal(oz_wu_split_write(r, &o, NULL, why, sizeof why), OZ_WU_EINVAL);
    assert_non_null(strstr(why, "fft_max"));
    o.unit_samples = 1u << 14; /* longer than the recording */
    assert_int_equal(oz_wu_split_write(r, &o, NULL, why, sizeof why), OZ_WU_EINVAL);
    assert_non_null(strstr(why, "fewer than one unit"));
    o.unit_samples = 4096;
    cfg.fft_min = 3;
    assert_int_equal(oz_wu_split_write(r, &o, NULL, why, sizeof why), OZ_WU_EINVAL);
    assert_non_null(strstr(why, "fft_min"));
    small_config(&cfg);
    o.overlap = 0.95;
    assert_int_equal(oz_wu_split_write(r, &o, NULL, why, sizeof why), OZ_WU_EINVAL);
    assert_non_null(strstr(why, "overlap"));
    o.overlap = 0.125;
    snprintf(out, sizeof out, "%s/no-such-dir", dir);
    assert_int_equal(oz_wu_split_write(r, &o, NULL, why, sizeof why), OZ_WU_EIO);
    assert_non_null(strstr(why, "no-such-dir"));
    oz_wu_reader_close(r);
    /* nothing was written by the refused splits */
    snprintf(out, sizeof out, "%s/opts-units/opts-000000.ozwu", dir);
    assert_int_not_equal(access(out, F_OK), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ci8_recording_splits_into_ci8_units),
        cmocka_unit_test(ci16_recording_splits_into_ci16_units),
        cmocka_unit_test(cf32_recording_splits_into_cf32_units),
        cmocka_unit_test(the_callback_can_stop_a_split),
        cmocka_unit_test(bad_options_stop_the_split_before_it_writes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
