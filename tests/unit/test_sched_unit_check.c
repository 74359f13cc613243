/*
 * test_sched_unit_check.c - the server's check of its own unit files
 * (scheduler/unit_check.c; issue 21, hole 8): which host reports call for
 * it, and the hash of a file on disk against the recorded SHA-256 - a
 * match, a changed byte, a missing file and a symbolic link, each with the
 * reason an operator reads.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"
#include "ozma_workunits.h"
#include "sched_errors.h"
#include "unit_check.h"

static void a_mismatch_report_is_recognised(void **state)
{
    (void)state;
    assert_true(oz_unit_check_reported(
        "ds-000001: download 2 does not verify: SHA-256 ab, the assignment says cd"));
    assert_true(oz_unit_check_reported("download failed: hash mismatch"));
    assert_false(oz_unit_check_reported("search failed: fftw plan failed"));
    assert_false(oz_unit_check_reported("unit download failed: HTTP 404"));
    assert_false(oz_unit_check_reported(NULL));
}

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static void a_file_is_checked_against_its_recorded_hash(void **state)
{
    (void)state;
    char dir[] = "/tmp/oz-unitcheck-XXXXXX", path[64], reason[400];
    assert_non_null(mkdtemp(dir));
    size_t n = 200000; /* more than one read */
    unsigned char *data = malloc(n), sha[32];
    assert_non_null(data);
    for (size_t i = 0; i < n; i++)
        data[i] = (unsigned char)(i * 7 + 3);
    assert_int_equal(oz_wu_sha256(data, n, sha), OZ_WU_OK);
    snprintf(path, sizeof path, "%s/u-000000.ozwu", dir);
    write_file(path, data, n);
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    assert_true(fd >= 0);

    assert_int_equal(oz_unit_check_file(fd, "u-000000.ozwu", sha, reason, sizeof reason), 0);
    data[n - 1000] ^= 0x55;
    write_file(path, data, n);
    assert_int_equal(oz_unit_check_file(fd, "u-000000.ozwu", sha, reason, sizeof reason), 1);
    char want[65];
    oz_wu_sha256_hex(sha, want);
    assert_non_null(strstr(reason, "units/u-000000.ozwu: SHA-256 "));
    assert_non_null(strstr(reason, want)); /* "the database says" the recorded one */
    assert_non_null(strstr(reason, "the database says"));

    assert_int_equal(oz_unit_check_file(fd, "u-000001.ozwu", sha, reason, sizeof reason), 1);
    assert_non_null(strstr(reason, "units/u-000001.ozwu: cannot open: "));
    /* a link is never followed out of units/ */
    char link[80];
    snprintf(link, sizeof link, "%s/u-000002.ozwu", dir);
    assert_int_equal(symlink(path, link), 0);
    assert_int_equal(oz_unit_check_file(fd, "u-000002.ozwu", sha, reason, sizeof reason), 1);
    assert_non_null(strstr(reason, "cannot open"));

    close(fd);
    unlink(link);
    unlink(path);
    rmdir(dir);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_mismatch_report_is_recognised),
        cmocka_unit_test(a_file_is_checked_against_its_recorded_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
