/*
 * test_wu_durable.c - durable files (workunits/durable.c): a write appears
 * whole under its name or not at all, replaces the old file atomically, and
 * an abandoned or failed write leaves no temporary file behind; what is not
 * a file is never renamed over: a character device, a FIFO or a pipe
 * (/dev/stdout) is written straight through, a directory, block device or
 * socket is refused, and a symbolic link to a file stays a link.
 */
/* mknod and S_IFCHR are XSI, makedev a glibc macro: beyond the POSIX base
 * the build asks for. */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
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
    /* a directory is refused before anything is written, naming it */
    snprintf(path, sizeof path, "%s/adir", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    char sub[160];
    snprintf(sub, sizeof sub, "%s/adir/inner", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    int before = entries();
    assert_int_equal(oz_wu_write_file(path, "x", 1, why, sizeof why), OZ_WU_EINVAL);
    assert_non_null(strstr(why, "adir: is a directory"));
    assert_int_equal(entries(), before);
    assert_int_equal(oz_wu_out_check(path, why, sizeof why), OZ_WU_EINVAL);
    assert_int_equal(oz_wu_write_file("", "x", 1, why, sizeof why), OZ_WU_EINVAL);
}

/* reads what a FIFO or pipe holds now (the writer has finished) */
static void drain(int fd, const char *want)
{
    char buf[256] = "";
    ssize_t n = read(fd, buf, sizeof buf - 1);
    assert_true(n >= 0);
    buf[n] = '\0';
    assert_string_equal(buf, want);
}

static void a_fifo_is_written_through_not_replaced(void **state)
{
    (void)state;
    char path[128], why[512] = "";
    snprintf(path, sizeof path, "%s/fifo", dir);
    assert_int_equal(mkfifo(path, 0644), 0);
    /* a reader first, so the writer's open does not wait */
    int rd = open(path, O_RDONLY | O_NONBLOCK);
    assert_true(rd >= 0);
    int before = entries();
    assert_int_equal(oz_wu_out_check(path, why, sizeof why), OZ_WU_OK);
    assert_int_equal(oz_wu_write_file(path, "through", 7, why, sizeof why), OZ_WU_OK);
    drain(rd, "through");
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
    assert_int_equal(entries(), before);
    /* an abandoned write leaves the FIFO where it was */
    oz_wu_dfile *f;
    assert_int_equal(oz_wu_dfile_open(path, &f, why, sizeof why), OZ_WU_OK);
    assert_int_equal(oz_wu_dfile_write(f, "ab", 2, why, sizeof why), OZ_WU_OK);
    oz_wu_dfile_abort(f);
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
    drain(rd, "ab");
    close(rd);
    assert_int_equal(entries(), before);
}

/* /dev/stdout is /proc/self/fd/1: a pipe when output is piped */
static void a_pipe_named_through_proc_is_written_through(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    char path[64], why[512] = "";
    snprintf(path, sizeof path, "/proc/self/fd/%d", p[1]);
    assert_int_equal(oz_wu_write_file(path, "piped", 5, why, sizeof why), OZ_WU_OK);
    close(p[1]);
    drain(p[0], "piped");
    close(p[0]);
}

static void a_character_device_is_written_through_not_replaced(void **state)
{
    (void)state;
    char path[128], why[512] = "";
    snprintf(path, sizeof path, "%s/null", dir);
    if (mknod(path, S_IFCHR | 0666, makedev(1, 3)) != 0) {
        assert_true(errno == EPERM || errno == EACCES);
        skip(); /* not root: no device node to test with */
    }
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    mode_t made = st.st_mode;
    int before = entries();
    assert_int_equal(oz_wu_write_file(path, "gone", 4, why, sizeof why), OZ_WU_OK);
    assert_int_equal(oz_wu_write_file_mode(path, "gone", 4, 0600, why, sizeof why), OZ_WU_OK);
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISCHR(st.st_mode));
    assert_true(st.st_rdev == makedev(1, 3));
    assert_int_equal(st.st_mode, made); /* no fchmod of a device */
    assert_int_equal(entries(), before);
    unlink(path);
}

static void a_socket_is_refused(void **state)
{
    (void)state;
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s/sock", dir);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(s >= 0);
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    char why[512] = "";
    int before = entries();
    assert_int_equal(oz_wu_write_file(a.sun_path, "x", 1, why, sizeof why), OZ_WU_EINVAL);
    assert_non_null(strstr(why, "sock: is a socket"));
    struct stat st;
    assert_int_equal(lstat(a.sun_path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(entries(), before);
    close(s);
    unlink(a.sun_path);
}

static void a_link_to_a_file_stays_a_link(void **state)
{
    (void)state;
    char target[128], link[128], why[512] = "";
    snprintf(target, sizeof target, "%s/target.txt", dir);
    snprintf(link, sizeof link, "%s/link.txt", dir);
    assert_int_equal(oz_wu_write_file(target, "old", 3, why, sizeof why), OZ_WU_OK);
    assert_int_equal(symlink("target.txt", link), 0);
    int before = entries();
    assert_int_equal(oz_wu_write_file(link, "new", 3, why, sizeof why), OZ_WU_OK);
    struct stat st;
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    read_back(target, "new");
    assert_int_equal(entries(), before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_write_appears_whole_and_replaces_the_old_file),
        cmocka_unit_test(a_streamed_write_is_invisible_until_commit),
        cmocka_unit_test(an_aborted_write_leaves_nothing),
        cmocka_unit_test(writing_where_it_cannot_says_where),
        cmocka_unit_test(a_fifo_is_written_through_not_replaced),
        cmocka_unit_test(a_pipe_named_through_proc_is_written_through),
        cmocka_unit_test(a_character_device_is_written_through_not_replaced),
        cmocka_unit_test(a_socket_is_refused),
        cmocka_unit_test(a_link_to_a_file_stays_a_link),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
