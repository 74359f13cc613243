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
 */
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
    char *path; /* final name */
    char *tmp;  /* temporary name, same directory */
};

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
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
    oz_wu_dfile *f = calloc(1, sizeof *f);
    size_t n = strlen(path) + sizeof ".tmp.XXXXXX";
    if (!f || !(f->path = dup_str(path)) || !(f->tmp = malloc(n))) {
        if (f) {
            free(f->path);
            free(f);
        }
        return oz_wu_fail(OZ_WU_ENOMEM, why, whylen, "%s: out of memory", path);
    }
    snprintf(f->tmp, n, "%s.tmp.XXXXXX", path);
    f->fd = mkstemp(f->tmp);
    if (f->fd < 0) {
        int e = errno;
        free(f->tmp);
        free(f->path);
        free(f);
        return oz_wu_fail(OZ_WU_EIO, why, whylen, "%s: cannot create a temporary file: %s", path,
                          strerror(e));
    }
    /* mkstemp makes 0600: the file gets its mode before it has a byte in it. */
    if (fchmod(f->fd, (mode_t)mode) != 0) {
        int e = errno;
        oz_wu_dfile_abort(f);
        return oz_wu_fail(OZ_WU_EIO, why, whylen, "%s: cannot set mode %o: %s", path, mode,
                          strerror(e));
    }
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

int oz_wu_dfile_commit(oz_wu_dfile *f, char *why, size_t whylen)
{
    int rc = OZ_WU_OK;
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
