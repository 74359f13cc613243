/*
 * test_wu_unitstream.c - streaming units out of a reader (workunits/unitstream.c):
 * each unit holds exactly the recording's samples at its plan position,
 * tail included, and a recording far larger than a memory bound streams
 * through with flat peak memory (VmHWM measured).
 */
#include <fcntl.h>
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
    snprintf(dir, sizeof dir, "/tmp/oz_units_XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* A raw ci16 file whose sample k holds I = k mod 2^15, Q = k / 2^15. */
static void write_indexed(const char *path, uint64_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (uint64_t k = 0; k < n; k++) {
        unsigned i = (unsigned)(k % 32768), q = (unsigned)(k / 32768);
        unsigned char b[4] = {(unsigned char)(i & 0xff), (unsigned char)(i >> 8),
                              (unsigned char)(q & 0xff), (unsigned char)(q >> 8)};
        assert_int_equal(fwrite(b, 4, 1, f), 1);
    }
    assert_int_equal(fclose(f), 0);
}

static void units_hold_the_samples_at_their_plan_positions(void **state)
{
    (void)state;
    char path[256], why[512] = "";
    snprintf(path, sizeof path, "%s/idx.ci16", dir);
    const uint64_t n = 3 * 1024 + 517;
    write_indexed(path, n);
    oz_wu_raw_params rp = {.format = OZ_WU_CI16, .sample_rate = 1000, .center_hz = 0};
    oz_wu_reader *r;
    assert_int_equal(oz_wu_open_raw(path, &rp, &r, why, sizeof why), 0);
    const double overlaps[] = {0.0, 0.125, 0.5, 0.75};
    for (size_t o = 0; o < 4; o++) {
        oz_wu_plan p;
        assert_int_equal(oz_wu_plan_make(n, 1024, overlaps[o], &p, why, sizeof why), 0);
        oz_wu_units *u;
        assert_int_equal(oz_wu_units_new(r, &p, &u, why, sizeof why), 0);
        oz_wu_unit_view v;
        uint64_t count = 0;
        int rc;
        while ((rc = oz_wu_units_next(u, &v, why, sizeof why)) == 1) {
            assert_int_equal(v.index, count);
            assert_int_equal(v.start_sample, oz_wu_plan_start(&p, count));
            assert_int_equal(v.nsamples, 1024);
            assert_true(v.start_s == (double)v.start_sample / 1000);
            assert_int_equal(v.native_bytes, 4096);
            const unsigned char *b = v.native;
            const float *iq = oz_wu_units_cf32(u);
            assert_non_null(iq);
            for (uint64_t k = 0; k < 1024; k++) {
                uint64_t idx = v.start_sample + k;
                unsigned i = b[4 * k] | b[4 * k + 1] << 8, q = b[4 * k + 2] | b[4 * k + 3] << 8;
                if (i != idx % 32768 || q != idx / 32768)
                    fail_msg("unit %llu sample %llu holds %u,%u", (unsigned long long)count,
                             (unsigned long long)k, i, q);
                assert_true(iq[2 * k] == (float)(idx % 32768) / 32768.0f);
            }
            count++;
        }
        assert_int_equal(rc, 0);
        assert_int_equal(count, p.nunits);
        assert_int_equal(oz_wu_units_next(u, &v, why, sizeof why), 0);
        oz_wu_units_free(u);
    }
    /* a plan for another length is refused */
    oz_wu_plan p;
    assert_int_equal(oz_wu_plan_make(n - 1, 1024, 0.125, &p, why, sizeof why), 0);
    oz_wu_units *u;
    assert_int_equal(oz_wu_units_new(r, &p, &u, why, sizeof why), OZ_WU_EINVAL);
    oz_wu_reader_close(r);
}

static void float_recordings_are_handed_out_without_copies(void **state)
{
    (void)state;
    char path[256], why[512] = "";
    snprintf(path, sizeof path, "%s/f.cf32", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (int k = 0; k < 2 * 700; k++) {
        float v = (float)k;
        fwrite(&v, 4, 1, f);
    }
    fclose(f);
    oz_wu_raw_params rp = {.format = OZ_WU_CF32, .sample_rate = 1000, .center_hz = 0};
    oz_wu_reader *r;
    assert_int_equal(oz_wu_open_raw(path, &rp, &r, why, sizeof why), 0);
    oz_wu_plan p;
    assert_int_equal(oz_wu_plan_make(700, 256, 0.25, &p, why, sizeof why), 0);
    oz_wu_units *u;
    assert_int_equal(oz_wu_units_new(r, &p, &u, why, sizeof why), 0);
    oz_wu_unit_view v;
    while (oz_wu_units_next(u, &v, why, sizeof why) == 1) {
        const float *iq = oz_wu_units_cf32(u);
        for (uint64_t k = 0; k < 256; k++)
            assert_true(iq[2 * k] == (float)(2 * (v.start_sample + k)));
    }
    oz_wu_units_free(u);
    oz_wu_reader_close(r);
}

/* Peak and current resident memory of this process, in KiB. */
static long status_kib(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long v = -1;
    size_t n = strlen(key);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, key, n) == 0)
            v = strtol(line + n + 1, NULL, 10);
    fclose(f);
    return v;
}

static void a_recording_larger_than_the_bound_streams_in_flat_memory(void **state)
{
    (void)state;
    /* 512 MiB of ci8 (a sparse file: no disk, reads as zeros), 32 times the
     * 16 MiB bound; units of 2^16 samples. */
    char path[256], why[512] = "";
    snprintf(path, sizeof path, "%s/big.ci8", dir);
    const uint64_t n = 256ull << 20;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)(2 * n)), 0);
    close(fd);
    long before = status_kib("VmRSS:");
    if (before < 0)
        skip();
    oz_wu_raw_params rp = {.format = OZ_WU_CI8, .sample_rate = 1e6, .center_hz = 0};
    oz_wu_reader *r;
    assert_int_equal(oz_wu_open_raw(path, &rp, &r, why, sizeof why), 0);
    oz_wu_plan p;
    assert_int_equal(oz_wu_plan_make(n, 1u << 16, 0.125, &p, why, sizeof why), 0);
    oz_wu_units *u;
    assert_int_equal(oz_wu_units_new(r, &p, &u, why, sizeof why), 0);
    oz_wu_unit_view v;
    uint64_t units = 0, sum = 0;
    while (oz_wu_units_next(u, &v, why, sizeof why) == 1) {
        const float *iq = oz_wu_units_cf32(u);
        sum += (uint64_t)(iq[0] != 0);
        units++;
    }
    assert_int_equal(units, p.nunits);
    assert_int_equal(sum, 0);
    oz_wu_units_free(u);
    oz_wu_reader_close(r);
    long peak = status_kib("VmHWM:");
    long grew = peak - before;
    print_message("streamed %llu MiB in %llu units; peak RSS %ld KiB, %ld KiB over the start\n",
                  (unsigned long long)(2 * n >> 20), (unsigned long long)units, peak, grew);
    assert_true(grew < 16 * 1024);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(units_hold_the_samples_at_their_plan_positions),
        cmocka_unit_test(float_recordings_are_handed_out_without_copies),
        cmocka_unit_test(a_recording_larger_than_the_bound_streams_in_flat_memory),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
