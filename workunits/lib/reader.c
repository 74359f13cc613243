/*
 * reader.c - the one interface behind which every input format sits.
 *
 * A format supplies read_at (exactly n samples at a position, stored format,
 * little-endian) and close; this file keeps the read position, clamps reads
 * to the input's end, checks float samples for NaN/Inf (a recording with
 * them would poison every spectrum it touches), converts to complex float32
 * through a fixed-size chunk buffer (so reading any amount takes constant
 * memory), and picks the format for oz_wu_open: by name for SigMF, by the
 * first bytes for .ozwu (its magic) and .sah (its <workunit_header>).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define CHUNK_SAMPLES 16384u
#define SNIFF_BYTES 4096u /* a .sah's <workunit_header> lies within them */

struct oz_wu_reader *oz_wu_reader_alloc(const struct oz_wu_reader_ops *ops, const char *label)
{
    struct oz_wu_reader *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    size_t n = strlen(label) + 1;
    r->label = malloc(n);
    if (!r->label) {
        free(r);
        return NULL;
    }
    memcpy(r->label, label, n);
    r->ops = ops;
    return r;
}

const oz_wu_info *oz_wu_reader_info(const oz_wu_reader *r)
{
    return &r->info;
}

const oz_wu_header *oz_wu_reader_unit(const oz_wu_reader *r)
{
    return r->unit;
}

int oz_wu_reader_read_native(oz_wu_reader *r, void *buf, size_t n, size_t *got, char *why,
                             size_t whylen)
{
    *got = 0;
    uint64_t left = r->info.nsamples - r->pos;
    size_t m = left < n ? (size_t)left : n;
    if (m == 0)
        return OZ_WU_OK;
    int rc = r->ops->read_at(r, r->pos, buf, m, why, whylen);
    if (rc != OZ_WU_OK)
        return rc;
    if (r->info.format == OZ_WU_CF32) {
        size_t bad = oz_wu_first_nonfinite(buf, m);
        if (bad != SIZE_MAX)
            return oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "%s: sample %llu is not a finite number",
                              r->label, (unsigned long long)(r->pos + bad));
    }
    r->pos += m;
    *got = m;
    return OZ_WU_OK;
}

int oz_wu_reader_read(oz_wu_reader *r, float *iq, size_t n, size_t *got, char *why, size_t whylen)
{
    *got = 0;
    size_t bps = oz_wu_format_size(r->info.format);
    if (r->info.format == OZ_WU_CF32) {
        /* Stored as floats already: read straight into the caller's buffer,
         * then fix the byte order in place where the host needs it. */
        int rc = oz_wu_reader_read_native(r, iq, n, got, why, whylen);
        if (rc == OZ_WU_OK)
            oz_wu_format_to_cf32(OZ_WU_CF32, iq, *got, iq);
        return rc;
    }
    if (!r->chunk) {
        r->chunk = malloc(CHUNK_SAMPLES * bps);
        if (!r->chunk)
            return oz_wu_fail(OZ_WU_ENOMEM, why, whylen, "%s: out of memory", r->label);
        r->chunk_samples = CHUNK_SAMPLES;
    }
    while (*got < n) {
        size_t want = n - *got < r->chunk_samples ? n - *got : r->chunk_samples;
        size_t g;
        int rc = oz_wu_reader_read_native(r, r->chunk, want, &g, why, whylen);
        if (rc != OZ_WU_OK)
            return rc;
        if (g == 0)
            break;
        oz_wu_format_to_cf32(r->info.format, r->chunk, g, iq + 2 * *got);
        *got += g;
    }
    return OZ_WU_OK;
}

int oz_wu_reader_seek(oz_wu_reader *r, uint64_t sample, char *why, size_t whylen)
{
    if (sample > r->info.nsamples)
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "%s: cannot seek to sample %llu of %llu",
                          r->label, (unsigned long long)sample,
                          (unsigned long long)r->info.nsamples);
    r->pos = sample;
    return OZ_WU_OK;
}

void oz_wu_reader_close(oz_wu_reader *r)
{
    if (!r)
        return;
    if (r->ops && r->ops->close)
        r->ops->close(r);
    free(r->chunk);
    free(r->label);
    free(r);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Does PATH.sigmf-meta exist? */
static bool has_meta(const char *path)
{
    size_t n = strlen(path) + sizeof ".sigmf-meta";
    char *p = malloc(n);
    if (!p)
        return false;
    memcpy(p, path, strlen(path));
    memcpy(p + strlen(path), ".sigmf-meta", sizeof ".sigmf-meta");
    struct stat st;
    bool ok = stat(p, &st) == 0;
    free(p);
    return ok;
}

oz_wu_kind oz_wu_probe(const char *path)
{
    if (ends_with(path, ".sigmf-meta") || ends_with(path, ".sigmf-data") ||
        ends_with(path, ".sigmf-") || ends_with(path, ".sigmf") || has_meta(path))
        return OZ_WU_KIND_SIGMF;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return OZ_WU_KIND_UNKNOWN;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return OZ_WU_KIND_UNKNOWN;
    }
    /* The first bytes say the format: the .ozwu magic, or a .sah's
     * <workunit_header> near the top (whatever the file's name). */
    unsigned char head[SNIFF_BYTES];
    size_t have = 0;
    while (have < sizeof head) {
        ssize_t got = read(fd, head + have, sizeof head - have);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        have += (size_t)got;
    }
    close(fd);
    if (have >= 4 && memcmp(head, OZ_WU_MAGIC, 4) == 0)
        return OZ_WU_KIND_OZWU;
    if (oz_wu_sah_sniff(head, have))
        return OZ_WU_KIND_SAH;
    return OZ_WU_KIND_UNKNOWN;
}

int oz_wu_open(const char *path, const oz_wu_raw_params *raw, oz_wu_reader **out, char *why,
               size_t whylen)
{
    *out = NULL;
    if (!path || !*path)
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "no input file given");
    if (raw)
        return oz_wu_open_raw(path, raw, out, why, whylen);
    switch (oz_wu_probe(path)) {
    case OZ_WU_KIND_SIGMF:
        return oz_wu_open_sigmf(path, out, why, whylen);
    case OZ_WU_KIND_OZWU:
        return oz_wu_open_unit(path, out, why, whylen);
    case OZ_WU_KIND_SAH:
        return oz_wu_open_sah(path, out, why, whylen);
    case OZ_WU_KIND_UNKNOWN:
        break;
    }
    if (access(path, R_OK) != 0)
        return oz_wu_fail(OZ_WU_EIO, why, whylen, "%s: cannot open: %s", path, strerror(errno));
    return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                      "%s: neither a SigMF recording (.sigmf-meta/.sigmf-data), an .ozwu unit nor "
                      "a SETI@home .sah unit; for raw samples give --format, --sample-rate and "
                      "--center-freq",
                      path);
}
