/*
 * test_wu_wisdom.c - FFTW's wisdom kept in a file (workunits/lib/wisdom.c
 * over science/wisdom.c): what a measured plan taught FFTW comes back from
 * the file in a process that has forgotten it (FFTW then plans the same
 * transform from wisdom alone, FFTW_WISDOM_ONLY), an unchanged wisdom is
 * not rewritten, a missing file is no wisdom yet, and a file that is not
 * wisdom - garbage, a NUL byte, too large - is refused with its name and
 * leaves FFTW's wisdom as it was.
 */
#include <fftw3.h>
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
    snprintf(dir, sizeof dir, "/tmp/oz_wisdom_XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Whether FFTW can plan a 1024-point batch from wisdom alone. */
static bool planned_from_wisdom(void)
{
    fftwf_complex *a = fftwf_alloc_complex(8 * 1024);
    int n = 1024;
    fftwf_plan p = fftwf_plan_many_dft(1, &n, 8, a, NULL, 1, n, a, NULL, 1, n, FFTW_FORWARD,
                                       FFTW_MEASURE | FFTW_WISDOM_ONLY);
    bool ok = p != NULL;
    if (p)
        fftwf_destroy_plan(p);
    fftwf_free(a);
    return ok;
}

static void measure_once(void)
{
    fftwf_complex *a = fftwf_alloc_complex(8 * 1024);
    int n = 1024;
    fftwf_plan p = fftwf_plan_many_dft(1, &n, 8, a, NULL, 1, n, a, NULL, 1, n, FFTW_FORWARD,
                                       FFTW_MEASURE);
    assert_non_null(p);
    fftwf_destroy_plan(p);
    fftwf_free(a);
}

static void write_raw(const char *path, const void *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    fclose(f);
}

static void what_a_plan_learned_comes_back_from_the_file(void **state)
{
    (void)state;
    char path[128], why[512] = "";
    snprintf(path, sizeof path, "%s/wisdom", dir);
    fftwf_forget_wisdom();
    assert_false(planned_from_wisdom());
    assert_int_equal(oz_wu_wisdom_load(path, why, sizeof why), OZ_WU_OK); /* none yet */
    measure_once();
    assert_int_equal(oz_wu_wisdom_save(path, why, sizeof why), OZ_WU_OK);
    struct stat st1, st2;
    assert_int_equal(stat(path, &st1), 0);
    assert_true(st1.st_size > 0);

    fftwf_forget_wisdom(); /* a new process, as far as FFTW knows */
    assert_false(planned_from_wisdom());
    assert_int_equal(oz_wu_wisdom_load(path, why, sizeof why), OZ_WU_OK);
    assert_true(planned_from_wisdom());

    /* nothing new learned: the file is not rewritten (same inode) */
    assert_int_equal(oz_wu_wisdom_save(path, why, sizeof why), OZ_WU_OK);
    assert_int_equal(stat(path, &st2), 0);
    assert_int_equal(st1.st_ino, st2.st_ino);
}

static void what_is_not_wisdom_is_refused_and_changes_nothing(void **state)
{
    (void)state;
    char path[128], why[512] = "";
    snprintf(path, sizeof path, "%s/bad", dir);
    fftwf_forget_wisdom();
    measure_once();
    char *before = oz_sci_wisdom_export();
    assert_non_null(before);

    write_raw(path, "(fftw-3.3.10 fftwf_wisdom #x1 garbage", 37);
    assert_int_equal(oz_wu_wisdom_load(path, why, sizeof why), OZ_WU_EFORMAT);
    assert_non_null(strstr(why, path));
    assert_non_null(strstr(why, "not wisdom"));

    write_raw(path, "(fftw\0", 6);
    assert_int_equal(oz_wu_wisdom_load(path, why, sizeof why), OZ_WU_EFORMAT);
    assert_non_null(strstr(why, "NUL"));

    size_t big = OZ_SCI_WISDOM_MAX + 1;
    char *huge = malloc(big);
    assert_non_null(huge);
    memset(huge, ' ', big);
    write_raw(path, huge, big);
    free(huge);
    assert_int_equal(oz_wu_wisdom_load(path, why, sizeof why), OZ_WU_ELIMIT);
    assert_non_null(strstr(why, path));

    char *after = oz_sci_wisdom_export();
    assert_non_null(after);
    assert_string_equal(before, after);
    assert_true(planned_from_wisdom());
    free(before);
    free(after);
}

static void a_directory_is_not_a_wisdom_file(void **state)
{
    (void)state;
    char why[512] = "";
    assert_int_not_equal(oz_wu_wisdom_load(dir, why, sizeof why), OZ_WU_OK);
    assert_non_null(strstr(why, dir));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(what_a_plan_learned_comes_back_from_the_file),
        cmocka_unit_test(what_is_not_wisdom_is_refused_and_changes_nothing),
        cmocka_unit_test(a_directory_is_not_a_wisdom_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
