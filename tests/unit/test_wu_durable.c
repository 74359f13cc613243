/*
 * test_wu_durable.c - durable files (workunits/durable.c): a write appears
 * whole under its name or not at all, replaces the old file atomically, and
 * an abandoned or failed write leaves no temporary file behind.
 */
#include <dirent.h>
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
    snprintf(dir, sizeof dir, "/tmp/oz_durable_XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int entries(void)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static void read_back(const char *path, const char *want)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char buf[256] = "";
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    assert_string_equal(buf, want);
}

static void a_write_appears_whole_and_replaces_the_old_file(void **state)
{
    (void)state;
    char path[128], why[512] = "";
    snprintf(path, sizeof path, "%s/f.txt", dir);
    assert_int_equal(oz_wu_write_file(path, "first", 5, why, sizeof why), 0);
    read_back(path, "first");
    assert_int_equal(oz_wu_write_file(path, "second!", 7, why, sizeof why), 0);
    read_back(path, "second!");
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    assert_int_equal(entries(), 1);
}

static void a_streamed_write_is_invisible_until_commit(void **state)
{
    (void)state;
    char path[128], why[512] = "";
    snprintf(path, sizeof path, "%s/g.txt", dir);
    oz_wu_dfile *f;
    assert_int_equal(oz_wu_dfile_open(path, &f, why, sizeof why), 0);
    assert_int_equal(oz_wu_dfile_write(f, "ab", 2, why, sizeof why), 0);
    assert_int_not_equal(access(path, F_OK), 0);
    assert_int_equal(oz_wu_dfile_write(f, "cd", 2, why, sizeof why), 0);
    assert_int_equal(oz_wu_dfile_commit(f, why, sizeof why), 0);
    read_back(path, "abcd");
}

static void an_aborted_write_leaves_nothing(void **state)
{
    (void)state;
    int before = entries();
    char path[128], why[512] = "";
    snprintf(path, sizeof path, "%s/h.txt", dir);
    oz_wu_dfile *f;
    assert_int_equal(oz_wu_dfile_open(path, &f, why, sizeof why), 0);
    assert_int_equal(oz_wu_dfile_write(f, "junk", 4, why, sizeof why), 0);
    oz_wu_dfile_abort(f);
    oz_wu_dfile_abort(NULL);
    assert_int_equal(entries(), before);
}

static void writing_where_it_cannot_says_where(void **state)
{
    (void)state;
    char path[128], why[512] = "";
    snprintf(path, sizeof path, "%s/missing/x.txt", dir);
    assert_int_equal(oz_wu_write_file(path, "x", 1, why, sizeof why), OZ_WU_EIO);
    assert_non_null(strstr(why, "missing/x.txt"));
    /* renaming over a directory fails at commit and cleans up */
    snprintf(path, sizeof path, "%s/adir", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    char sub[160];
    snprintf(sub, sizeof sub, "%s/adir/inner", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    int before = entries();
    assert_int_equal(oz_wu_write_file(path, "x", 1, why, sizeof why), OZ_WU_EIO);
    assert_non_null(strstr(why, "rename"));
    assert_int_equal(entries(), before);
    assert_int_equal(oz_wu_write_file("", "x", 1, why, sizeof why), OZ_WU_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_write_appears_whole_and_replaces_the_old_file),
        cmocka_unit_test(a_streamed_write_is_invisible_until_commit),
        cmocka_unit_test(an_aborted_write_leaves_nothing),
        cmocka_unit_test(writing_where_it_cannot_says_where),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
