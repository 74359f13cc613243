/*
 * smallfile.c - reading a whole small file (SigMF metadata, a result file,
 * a SETI@home unit's text, an analysis configuration) into memory, bounded:
 * the size is checked against the caller's limit before anything is
 * allocated, and only a regular file is read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

int oz_wu_read_small(const char *path, size_t max, char **out, size_t *len, char *why,
                     size_t whylen)
{
    int rc = OZ_WU_OK;
    char *buf = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return oz_wu_fail(OZ_WU_EIO, why, whylen, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = oz_wu_fail(OZ_WU_EIO, why, whylen, "%s: cannot stat: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "%s: not a regular file", path);
        goto out;
    }
    if (st.st_size < 0 || (uint64_t)st.st_size > max) {
        rc = oz_wu_fail(OZ_WU_ELIMIT, why, whylen, "%s: %lld bytes is more than the limit of %zu",
                        path, (long long)st.st_size, max);
        goto out;
    }
    size_t size = (size_t)st.st_size;
    buf = malloc(size + 1);
    if (!buf) {
        rc = oz_wu_fail(OZ_WU_ENOMEM, why, whylen, "%s: out of memory", path);
        goto out;
    }
    size_t have = 0;
    while (have < size) {
        ssize_t got = read(fd, buf + have, size - have);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            rc = oz_wu_fail(OZ_WU_EIO, why, whylen, "%s: read failed: %s", path, strerror(errno));
            goto out;
        }
        if (got == 0) {
            rc = oz_wu_fail(OZ_WU_EIO, why, whylen, "%s: file shrank while reading", path);
            goto out;
        }
        have += (size_t)got;
    }
    buf[size] = '\0';
    *out = buf;
    *len = size;
    buf = NULL;
out:
    free(buf);
    close(fd);
    return rc;
}
