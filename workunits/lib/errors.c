/*
 * errors.c - error codes as words, the `why` formatter, and the small
 * helpers every file of workunits/ uses for names and small files.
 *
 * Failing with a sentence is oz_wu_fail (internal.h), which is science's
 * oz_sci_fail: every part fails the same way.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

const char *oz_wu_strerror(int err)
{
    switch (err) {
    case OZ_WU_OK:
        return "success";
    case OZ_WU_ENOMEM:
        return "out of memory";
    case OZ_WU_EINVAL:
        return "invalid argument or option";
    case OZ_WU_EIO:
        return "input/output error";
    case OZ_WU_EFORMAT:
        return "malformed input";
    case OZ_WU_EVERSION:
        return "unsupported format version";
    case OZ_WU_ELIMIT:
        return "size beyond a limit";
    case OZ_WU_EHASH:
        return "data does not match its SHA-256";
    case OZ_WU_ESCIENCE:
        return "the search kernel refused";
    default:
        return "unknown error";
    }
}

const char *oz_wu_basename(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static bool id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

bool oz_wu_id_valid(const char *s, size_t max)
{
    if (!s || !*s || s[0] == '.' || s[0] == '-')
        return false;
    size_t n = 0;
    for (; s[n]; n++)
        if (n >= max || !id_char(s[n]))
            return false;
    return true;
}

void oz_wu_name_from_path(const char *path, char *out, size_t outlen)
{
    static const char *const exts[] = {".sigmf-meta", ".sigmf-data", ".sigmf", ".ozwu",
                                       ".cf32",       ".ci16",       ".ci8",   ".raw",
                                       ".bin",        ".iq",         ".dat",   ".sah"};
    if (outlen == 0)
        return;
    const char *base = oz_wu_basename(path);
    size_t n = strlen(base);
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        size_t e = strlen(exts[i]);
        if (n > e && strcmp(base + n - e, exts[i]) == 0) {
            n -= e;
            break;
        }
    }
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < outlen; i++)
        out[o++] = id_char(base[i]) ? base[i] : '_';
    out[o] = '\0';
    if (o == 0 || out[0] == '.' || out[0] == '-') {
        /* An id must start with a letter, digit or '_'. */
        if (o == 0)
            snprintf(out, outlen, "dataset");
        else
            out[0] = '_';
    }
}

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

