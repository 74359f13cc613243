/*
 * durable.c - files that are either wholly there or not at all.
 *
 * Everything workunits/ writes (unit files, recordings, result files)
 * goes through here: the bytes go to PATH.tmp.XXXXXX in the target's
 * directory (so rename stays on one file system), are fsynced, the file is
 * renamed over PATH, and the directory is fsynced so the rename itself
 * survives a crash.  A reader therefore sees the old file or the complete
 * new one, never a torn one; an abandoned write leaves only a .tmp file,
 * which the owner removes on abort.
 *
 * That holds only where PATH is a file, or nothing yet.  Output paths come
 * from users (--out of every program), and renaming over what is not a file
 * destroys it: run as root, `ozma-search --out /dev/null` once replaced the
 * machine's /dev/null with a regular file.  So what PATH names decides how
 * it is written (out_kind, on the path as stat sees it, links followed):
 *
 *   - nothing, or a regular file: temporary file, fsync, rename, as above.
 *     A symbolic link to a file is resolved first (realpath) and the file
 *     replaced, so the link stays a link: /dev/stdout is such a link when
 *     output is redirected to a file.
 *   - a character device or a FIFO (pipes included: /dev/stdout, /dev/fd/N
 *     and /proc/self/fd/N name them through /proc's links): opened with
 *     O_WRONLY and written straight through; no temporary file, no rename,
 *     no mode change, and an fsync the device cannot do (EINVAL, ENOTSUP)
 *     is not a failure.  Such a write is not atomic, nor can it be.
 *   - a directory, block device, socket or anything else: refused with one
 *     sentence naming the path and what it is, before a byte is written.
 *
 * The descriptor of a written-through target is fstat'ed after open, so a
 * path that became something else in between is refused, not truncated.
 */
/* realpath: POSIX.1-2008, which glibc declares only for X/Open. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

struct oz_wu_dfile {
    int fd;
    char *path; /* final name (a link's target when the path was a link to a file) */
    char *tmp;  /* temporary name, same directory; NULL when written straight through */
};

/* How a path is written (see the top of the file). */
enum out_kind { OUT_FILE, OUT_THROUGH };

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* What a mode is, for a refusal: "a directory", "a socket"... */
static const char *what_is(mode_t m)
{
    return S_ISDIR(m)    ? "a directory"
           : S_ISBLK(m)  ? "a block device"
           : S_ISSOCK(m) ? "a socket"
           : S_ISLNK(m)  ? "a symbolic link"
                         : "not a regular file";
}

/* Decides how path is written: *kind, and in *real the name to rename over
 * when path is a link to a file (malloc'd; NULL otherwise).  Refuses what
 * must not be written to.  A path stat cannot see (missing, a dangling link,
 * no permission) is a new name: creating it says what is wrong, if anything. */
static int out_kind(const char *path, enum out_kind *kind, char **real, char *why, size_t whylen)
{
    struct stat st, lst;
    *kind = OUT_FILE;
    *real = NULL;
    if (stat(path, &st) != 0)
        return OZ_WU_OK;
    if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) {
        *kind = OUT_THROUGH;
        return OZ_WU_OK;
    }
    if (!S_ISREG(st.st_mode))
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "%s: is %s; give a file name", path,
                          what_is(st.st_mode));
    if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode)) {
        *real = realpath(path, NULL);
        if (!*real)
            return oz_wu_fail(errno == ENOMEM ? OZ_WU_ENOMEM : OZ_WU_EIO, why, whylen,
                              "%s: cannot resolve the link: %s", path, strerror(errno));
    }
    return OZ_WU_OK;
}

int oz_wu_out_check(const char *path, char *why, size_t whylen)
{
    if (!path || !*path)
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "no output file name given");
    enum out_kind kind;
    char *real;
    int rc = out_kind(path, &kind, &real, why, whylen);
    free(real);
    return rc;
}

/* Opens a device or FIFO for writing straight through into *out. */
static int open_through(const char *path, oz_wu_dfile **out, char *why, size_t whylen)
{
    oz_wu_dfile *f = calloc(1, sizeof *f);
    if (!f || !(f->path = dup_str(path))) {
        free(f);
        return oz_wu_fail(OZ_WU_ENOMEM, why, whylen, "%s: out of memory", path);
    }
    /* No O_CREAT: the path exists; a FIFO's open waits for its reader. */
    f->fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
    struct stat st;
    int e = errno, rc = OZ_WU_OK;
    if (f->fd < 0) {
        rc = oz_wu_fail(OZ_WU_EIO, why, whylen, "%s: cannot open for writing: %s", path,
                        strerror(e));
    } else if (fstat(f->fd, &st) != 0) {
        rc = oz_wu_fail(OZ_WU_EIO, why, whylen, "%s: %s", path, strerror(errno));
    } else if (!S_ISCHR(st.st_mode) && !S_ISFIFO(st.st_mode)) {
        rc = oz_wu_fail(OZ_WU_EINVAL, why, whylen,
                        "%s: changed while being opened: now %s, not a device or FIFO", path,
                        S_ISREG(st.st_mode) ? "a regular file" : what_is(st.st_mode));
    }
    if (rc != OZ_WU_OK) {
        if (f->fd >= 0)
            close(f->fd);
        free(f->path);
        free(f);
        return rc;
    }
    *out = f;
    return OZ_WU_OK;
}

int oz_wu_dfile_open(const char *path, oz_wu_dfile **out, char *why, size_t whylen)
{
    return oz_wu_dfile_open_mode(path, 0644, out, why, whylen);
}

int oz_wu_dfile_open_mode(const char *path, unsigned mode, oz_wu_dfile **out, char *why,
                          size_t whylen)
{
    *out = NULL;
    if (!path || !*path)
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "no output file name given");
    enum out_kind kind;
    char *real;
    int rc = out_kind(path, &kind, &real, why, whylen);
    if (rc != OZ_WU_OK)
        return rc;
    if (kind == OUT_THROUGH)
        return open_through(path, out, why, whylen);
    if (real)
        path = real; /* the link's file is replaced; the link stays */
    oz_wu_dfile *f = calloc(1, sizeof *f);
    size_t n = strlen(path) + sizeof ".tmp.XXXXXX";
    if (!f || !(f->path = dup_str(path)) || !(f->tmp = malloc(n))) {
        rc = oz_wu_fail(OZ_WU_ENOMEM, why, whylen, "%s: out of memory", path);
        if (f) {
            free(f->path);
            free(f);
        }
        free(real);
        return rc;
    }
    snprintf(f->tmp, n, "%s.tmp.XXXXXX", path);
    f->fd = mkstemp(f->tmp);
    if (f->fd < 0) {
        int e = errno;
        rc = oz_wu_fail(OZ_WU_EIO, why, whylen, "%s: cannot create a temporary file: %s", path,
                        strerror(e));
        free(f->tmp);
        free(f->path);
        free(f);
        free(real);
        return rc;
    }
    /* mkstemp makes 0600: the file gets its mode before it has a byte in it. */
    if (fchmod(f->fd, (mode_t)mode) != 0) {
        int e = errno;
        rc = oz_wu_fail(OZ_WU_EIO, why, whylen, "%s: cannot set mode %o: %s", path, mode,
                        strerror(e));
        oz_wu_dfile_abort(f);
        free(real);
        return rc;
    }
    free(real);
    *out = f;
    return OZ_WU_OK;
}

int oz_wu_dfile_write(oz_wu_dfile *f, const void *buf, size_t len, char *why, size_t whylen)
{
    const unsigned char *p = buf;
    while (len > 0) {
        ssize_t w = write(f->fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return oz_wu_fail(OZ_WU_EIO, why, whylen, "%s: write failed: %s", f->path,
                              strerror(errno));
        p += w;
        len -= (size_t)w;
    }
    return OZ_WU_OK;
}

static void dfile_free(oz_wu_dfile *f)
{
    free(f->path);
    free(f->tmp);
    free(f);
}

/* fsyncs the directory holding path, so a rename into it is durable. */
static int sync_dir(const char *path, char *why, size_t whylen)
{
    const char *slash = strrchr(path, '/');
    char *dir;
    if (!slash) {
        dir = dup_str(".");
    } else if (slash == path) {
        dir = dup_str("/");
    } else {
        size_t n = (size_t)(slash - path);
        dir = malloc(n + 1);
        if (dir) {
            memcpy(dir, path, n);
            dir[n] = '\0';
        }
    }
    if (!dir)
        return oz_wu_fail(OZ_WU_ENOMEM, why, whylen, "%s: out of memory", path);
    int rc = OZ_WU_OK;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        rc = oz_wu_fail(OZ_WU_EIO, why, whylen, "%s: cannot open directory: %s", dir,
                        strerror(errno));
    } else {
        /* Some file systems refuse fsync on directories (EINVAL); nothing
         * more can be done there. */
        if (fsync(fd) != 0 && errno != EINVAL)
            rc = oz_wu_fail(OZ_WU_EIO, why, whylen, "%s: fsync of directory failed: %s", dir,
                            strerror(errno));
        close(fd);
    }
    free(dir);
    return rc;
}

/* Commit of a target written straight through: its fsync, where it has one. */
static int commit_through(oz_wu_dfile *f, char *why, size_t whylen)
{
    int rc = OZ_WU_OK;
    if (fsync(f->fd) != 0 && errno != EINVAL && errno != ENOTSUP && errno != EROFS)
        rc = oz_wu_fail(OZ_WU_EIO, why, whylen, "%s: fsync failed: %s", f->path, strerror(errno));
    if (close(f->fd) != 0 && rc == OZ_WU_OK)
        rc = oz_wu_fail(OZ_WU_EIO, why, whylen, "%s: close failed: %s", f->path, strerror(errno));
    dfile_free(f);
    return rc;
}

int oz_wu_dfile_commit(oz_wu_dfile *f, char *why, size_t whylen)
{
    int rc = OZ_WU_OK;
    if (!f->tmp)
        return commit_through(f, why, whylen);
    if (fsync(f->fd) != 0) {
        rc = oz_wu_fail(OZ_WU_EIO, why, whylen, "%s: fsync failed: %s", f->path, strerror(errno));
        close(f->fd);
        goto fail;
    }
    if (close(f->fd) != 0) {
        rc = oz_wu_fail(OZ_WU_EIO, why, whylen, "%s: close failed: %s", f->path, strerror(errno));
        goto fail;
    }
    if (rename(f->tmp, f->path) != 0) {
        rc = oz_wu_fail(OZ_WU_EIO, why, whylen, "%s: rename from %s failed: %s", f->path,
                        oz_wu_basename(f->tmp), strerror(errno));
        goto fail;
    }
    rc = sync_dir(f->path, why, whylen);
    dfile_free(f);
    return rc;
fail:
    unlink(f->tmp);
    dfile_free(f);
    return rc;
}

void oz_wu_dfile_abort(oz_wu_dfile *f)
{
    if (!f)
        return;
    close(f->fd);
    if (f->tmp) /* never the target itself: a device or FIFO stays */
        unlink(f->tmp);
    dfile_free(f);
}

int oz_wu_write_file(const char *path, const void *buf, size_t len, char *why, size_t whylen)
{
    return oz_wu_write_file_mode(path, buf, len, 0644, why, whylen);
}

int oz_wu_write_file_mode(const char *path, const void *buf, size_t len, unsigned mode, char *why,
                          size_t whylen)
{
    oz_wu_dfile *f;
    int rc = oz_wu_dfile_open_mode(path, mode, &f, why, whylen);
    if (rc != OZ_WU_OK)
        return rc;
    rc = oz_wu_dfile_write(f, buf, len, why, whylen);
    if (rc != OZ_WU_OK) {
        oz_wu_dfile_abort(f);
        return rc;
    }
    return oz_wu_dfile_commit(f, why, whylen);
}
