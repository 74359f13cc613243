/*
 * test_worker_http.c - the worker writes its downloads only into regular
 * files (worker/http.c, issue 21's hole 0 for the worker's own files): a
 * symbolic link at the partial download's name is not followed (the file it
 * points to, longer than the unit, was truncated by a resume before), a
 * FIFO there is refused at once instead of blocking the worker forever, and
 * a character device is refused and left a device.  Each is refused with
 * OZ_WK_EIO before any request: the scheduler here (127.0.0.1:9) is never
 * contacted.
 */
/* mknod and S_IFCHR are XSI, makedev a glibc macro */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "support.h"
#include "worker.h"

typedef struct fixture {
    char dir[64];
    oz_wk_http *h;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/oz-wk-http-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    char why[256];
    assert_int_equal(oz_wk_http_new("http://127.0.0.1:9", 2.0, &f->h, why, sizeof why), OZ_WK_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    oz_wk_http_free(f->h);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static int download(fixture *f, const char *part, char *why, size_t whylen)
{
    long status = 0;
    return oz_wk_http_download(f->h, "/units/u.ozwu", part, 10, &status, why, whylen);
}

static void a_symbolic_link_is_not_followed(void **state)
{
    fixture *f = *state;
    char target[128], part[128], why[512];
    snprintf(target, sizeof target, "%s/precious", f->dir);
    snprintf(part, sizeof part, "%s/unit.ozwu.part", f->dir);
    FILE *t = fopen(target, "w");
    assert_non_null(t);
    fputs("one hundred bytes of someone's file, longer than the ten-byte unit being downloaded\n", t);
    fclose(t);
    assert_int_equal(symlink(target, part), 0);
    assert_int_equal(download(f, part, why, sizeof why), OZ_WK_EIO);
    struct stat st;
    assert_int_equal(stat(target, &st), 0);
    assert_true(st.st_size > 10); /* not truncated for a "restart" */
}

static void a_fifo_is_refused_at_once(void **state)
{
    fixture *f = *state;
    char part[128], why[512];
    snprintf(part, sizeof part, "%s/unit.ozwu.part", f->dir);
    assert_int_equal(mkfifo(part, 0600), 0);
    assert_int_equal(download(f, part, why, sizeof why), OZ_WK_EIO); /* no reader: no hang */
}

static void a_device_is_refused_and_left_a_device(void **state)
{
    fixture *f = *state;
    char part[128], why[512];
    snprintf(part, sizeof part, "%s/unit.ozwu.part", f->dir);
    if (mknod(part, S_IFCHR | 0666, makedev(1, 3)) != 0) {
        print_message("skipped: mknod needs root (%s)\n", strerror(errno));
        skip();
    }
    assert_int_equal(download(f, part, why, sizeof why), OZ_WK_EIO);
    assert_non_null(strstr(why, "not a regular file"));
    struct stat st;
    assert_int_equal(lstat(part, &st), 0);
    assert_true(S_ISCHR(st.st_mode));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_symbolic_link_is_not_followed, setup, teardown),
        cmocka_unit_test_setup_teardown(a_fifo_is_refused_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(a_device_is_refused_and_left_a_device, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
