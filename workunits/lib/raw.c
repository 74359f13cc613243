/*
 * raw.c - headerless interleaved baseband files, and the file stream that
 * SigMF data files share.
 *
 * A file stream is a regular file read with pread at sample positions: the
 * reader holds an fd and a few numbers, never the samples, so a recording
 * far larger than memory streams in constant memory.  The sample count comes
 * from the file's length at open time (which must be a whole number of
 * samples past the data offset); a file that shrinks afterwards is reported
 * as truncated, never returned short.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

struct filestream {
    int fd;
    uint64_t data_offset;
    size_t bps;
    bool swap;
};

static int fs_read_at(struct oz_wu_reader *r, uint64_t pos, void *buf, size_t n, char *why,
                      size_t whylen)
{
    struct filestream *fs = r->impl;
    unsigned char *p = buf;
    size_t want = n * fs->bps;
    uint64_t off = fs->data_offset + pos * fs->bps;
    size_t have = 0;
    while (have < want) {
        ssize_t got = pread(fs->fd, p + have, want - have, (off_t)(off + have));
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return oz_wu_fail(OZ_WU_EIO, why, whylen, "%s: read failed at byte %llu: %s", r->label,
                              (unsigned long long)(off + have), strerror(errno));
        if (got == 0)
            return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                              "%s: truncated: file ends at byte %llu but %llu samples were "
                              "promised",
                              r->label, (unsigned long long)(off + have),
                              (unsigned long long)r->info.nsamples);
        have += (size_t)got;
    }
    if (fs->swap && fs->bps > 2)
        oz_wu_byteswap(buf, 2 * n, fs->bps / 2);
    return OZ_WU_OK;
}

static void fs_close(struct oz_wu_reader *r)
{
    struct filestream *fs = r->impl;
    if (fs) {
        close(fs->fd);
        free(fs);
    }
}

static const struct oz_wu_reader_ops fs_ops = {fs_read_at, fs_close};

int oz_wu_filestream_open(const char *path, const char *label, uint64_t data_offset, oz_wu_format f,
                          bool swap, struct oz_wu_reader **out, char *why, size_t whylen)
{
    *out = NULL;
    int rc;
    struct oz_wu_reader *r = NULL;
    struct filestream *fs = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return oz_wu_fail(OZ_WU_EIO, why, whylen, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = oz_wu_fail(OZ_WU_EIO, why, whylen, "%s: cannot stat: %s", path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "%s: not a regular file", path);
        goto fail;
    }
    uint64_t size = (uint64_t)st.st_size;
    size_t bps = oz_wu_format_size(f);
    if (size < data_offset) {
        rc = oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                        "%s: %llu bytes is shorter than its %llu header bytes", path,
                        (unsigned long long)size, (unsigned long long)data_offset);
        goto fail;
    }
    uint64_t avail = size - data_offset;
    if (avail % bps != 0) {
        rc = oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                        "%s: %llu bytes of samples is not a whole number of %s samples "
                        "(%zu bytes each)",
                        path, (unsigned long long)avail, oz_wu_format_name(f), bps);
        goto fail;
    }
    if (avail == 0) {
        rc = oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "%s: holds no samples", path);
        goto fail;
    }
    r = oz_wu_reader_alloc(&fs_ops, label);
    fs = calloc(1, sizeof *fs);
    if (!r || !fs) {
        rc = oz_wu_fail(OZ_WU_ENOMEM, why, whylen, "%s: out of memory", path);
        goto fail;
    }
    fs->fd = fd;
    fs->data_offset = data_offset;
    fs->bps = bps;
    fs->swap = swap;
    r->impl = fs;
    r->info.format = f;
    r->info.nsamples = avail / bps;
    oz_wu_name_from_path(path, r->info.name, sizeof r->info.name);
    *out = r;
    return OZ_WU_OK;
fail:
    free(fs);
    if (r) {
        r->ops = NULL;
        oz_wu_reader_close(r);
    }
    close(fd);
    return rc;
}

/* Sample rate and centre frequency limits shared with SigMF (sigmf.c has
 * its own messages naming the meta keys). */
static int check_rate_freq(const char *path, double fs, double f0, char *why, size_t whylen)
{
    if (!isfinite(fs) || fs <= 0 || fs > OZ_WU_SAMPLE_RATE_MAX)
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen,
                          "%s: --sample-rate %g must be a number in (0, %g] Hz", path, fs,
                          OZ_WU_SAMPLE_RATE_MAX);
    if (!isfinite(f0) || fabs(f0) > OZ_WU_FREQ_MAX)
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen,
                          "%s: --center-freq %g must be a number within ±%g Hz", path, f0,
                          OZ_WU_FREQ_MAX);
    return OZ_WU_OK;
}

int oz_wu_open_raw(const char *path, const oz_wu_raw_params *p, oz_wu_reader **out, char *why,
                   size_t whylen)
{
    *out = NULL;
    if (!path || !p)
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "no raw input or parameters given");
    if ((unsigned)p->format > OZ_WU_CF32)
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "%s: unknown --format", path);
    int rc = check_rate_freq(path, p->sample_rate, p->center_hz, why, whylen);
    if (rc != OZ_WU_OK)
        return rc;
    int64_t start_ns = 0;
    if (p->datetime) {
        char sub[200];
        rc = oz_wu_time_parse(p->datetime, &start_ns, sub, sizeof sub);
        if (rc != OZ_WU_OK)
            return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "%s: --datetime: %s", path, sub);
    }
    struct oz_wu_reader *r;
    rc = oz_wu_filestream_open(path, path, 0, p->format, false, &r, why, whylen);
    if (rc != OZ_WU_OK)
        return rc;
    r->info.sample_rate = p->sample_rate;
    r->info.center_hz = p->center_hz;
    r->info.has_time = p->datetime != NULL;
    r->info.start_ns = start_ns;
    *out = r;
    return OZ_WU_OK;
}
