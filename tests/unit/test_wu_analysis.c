/*
 * test_wu_analysis.c - analysis configuration from flags and files
 * (workunits/analysis.c): every key is a flag, values keep their JSON type,
 * and mistakes name the flag.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"
#include "ozma_workunits.h"

static void flags_set_keys_of_every_kind(void **state)
{
    (void)state;
    oz_sci_config c;
    oz_sci_config_default(&c);
    char why[256] = "";
    assert_int_equal(oz_wu_config_set(&c, "--fft-max", "4096", why, sizeof why), 0);
    assert_int_equal(c.fft_max, 4096);
    assert_int_equal(oz_wu_config_set(&c, "chirp_max", "5", why, sizeof why), 0);
    assert_true(c.chirp_max == 5.0);
    assert_int_equal(oz_wu_config_set(&c, "--spike-thresh", "30.5", why, sizeof why), 0);
    assert_true(c.spike_thresh == 30.5);
    assert_int_equal(oz_wu_config_set(&c, "--planner", "measure", why, sizeof why), 0);
    assert_int_equal(c.planner, OZ_FFT_MEASURE);
}

static void mistakes_name_the_flag_and_change_nothing(void **state)
{
    (void)state;
    oz_sci_config c, before;
    oz_sci_config_default(&c);
    before = c;
    char why[256] = "";
    assert_int_equal(oz_wu_config_set(&c, "--fft-size", "4096", why, sizeof why), OZ_WU_EINVAL);
    assert_non_null(strstr(why, "--fft-size is not an analysis option"));
    assert_int_equal(oz_wu_config_set(&c, "--fft-max", "1000", why, sizeof why), OZ_WU_EINVAL);
    assert_non_null(strstr(why, "--fft-max 1000"));
    assert_non_null(strstr(why, "power of two"));
    assert_int_equal(oz_wu_config_set(&c, "--fft-max", "big", why, sizeof why), OZ_WU_EINVAL);
    assert_non_null(strstr(why, "integer"));
    assert_int_equal(oz_wu_config_set(&c, "--planner", "fast", why, sizeof why), OZ_WU_EINVAL);
    assert_int_equal(oz_wu_config_set(&c, "--", "1", why, sizeof why), OZ_WU_EINVAL);
    assert_memory_equal(&c, &before, sizeof c);
}

static void flags_set_together_whatever_their_order(void **state)
{
    (void)state;
    oz_sci_config c;
    oz_sci_config_default(&c);
    c.fft_max = 4096; /* as an .ozwu unit's header might say */
    char why[256] = "";
    /* fft_min 8192 alone is above fft_max 4096: one flag at a time would
     * refuse this order; together they are fine. */
    const oz_wu_config_flag up[] = {{"--fft-min", "8192"}, {"--fft-max", "16384"}};
    assert_int_equal(oz_wu_config_set_flags(&c, up, 2, why, sizeof why), OZ_WU_OK);
    assert_int_equal(c.fft_min, 8192);
    assert_int_equal(c.fft_max, 16384);
    /* a later flag overrides an earlier one of the same key */
    const oz_wu_config_flag twice[] = {{"chirp-max", "3"}, {"--chirp-max", "7.5"}};
    assert_int_equal(oz_wu_config_set_flags(&c, twice, 2, why, sizeof why), OZ_WU_OK);
    assert_true(c.chirp_max == 7.5);
    assert_int_equal(oz_wu_config_set_flags(&c, NULL, 0, why, sizeof why), OZ_WU_OK);
}

static void a_refused_set_names_one_flag_and_changes_nothing(void **state)
{
    (void)state;
    oz_sci_config c, before;
    oz_sci_config_default(&c);
    before = c;
    char why[256] = "";
    const oz_wu_config_flag bad[] = {{"--chirp-max", "2"}, {"--fft-max", "1000"}};
    assert_int_equal(oz_wu_config_set_flags(&c, bad, 2, why, sizeof why), OZ_WU_EINVAL);
    assert_non_null(strstr(why, "--fft-max 1000: fft_max: 1000 is not a power of two"));
    const oz_wu_config_flag unknown[] = {{"--fft-size", "4096"}};
    assert_int_equal(oz_wu_config_set_flags(&c, unknown, 1, why, sizeof why), OZ_WU_EINVAL);
    assert_non_null(strstr(why, "--fft-size is not an analysis option"));
    /* the whole is wrong though each flag alone is not */
    const oz_wu_config_flag clash[] = {{"--fft-min", "8192"}, {"--fft-max", "4096"}};
    assert_int_equal(oz_wu_config_set_flags(&c, clash, 2, why, sizeof why), OZ_WU_EINVAL);
    assert_non_null(strstr(why, "--fft-max 4096: fft_min: 8192 is larger than fft_max 4096"));
    const oz_wu_config_flag none[] = {{"--fft-max", NULL}};
    assert_int_equal(oz_wu_config_set_flags(&c, none, 1, why, sizeof why), OZ_WU_EINVAL);
    assert_memory_equal(&c, &before, sizeof c);
}

static void files_overlay_the_configuration(void **state)
{
    (void)state;
    char path[] = "/tmp/oz_cfg_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "{\"fft_max\": 2048, \"chirp_max\": 2.5}";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    oz_sci_config c;
    oz_sci_config_default(&c);
    char why[256] = "";
    assert_int_equal(oz_wu_config_load(path, &c, why, sizeof why), 0);
    assert_int_equal(c.fft_max, 2048);
    assert_true(c.chirp_max == 2.5);
    FILE *f = fopen(path, "w");
    fputs("{\"fft_max\": 2048,}", f);
    fclose(f);
    assert_int_equal(oz_wu_config_load(path, &c, why, sizeof why), OZ_WU_EFORMAT);
    assert_non_null(strstr(why, path));
    f = fopen(path, "w");
    fputs("{\"fft_maximum\": 2048}", f);
    fclose(f);
    assert_int_equal(oz_wu_config_load(path, &c, why, sizeof why), OZ_WU_EFORMAT);
    assert_non_null(strstr(why, "fft_maximum"));
    unlink(path);
    assert_int_equal(oz_wu_config_load(path, &c, why, sizeof why), OZ_WU_EIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(flags_set_keys_of_every_kind),
        cmocka_unit_test(mistakes_name_the_flag_and_change_nothing),
        cmocka_unit_test(flags_set_together_whatever_their_order),
        cmocka_unit_test(a_refused_set_names_one_flag_and_changes_nothing),
        cmocka_unit_test(files_overlay_the_configuration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
