/*
 * gzw.c - a durable gzip file written a little at a time (gzw.h).
 */
#include "gzw.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int oz_gzw_open(oz_gzw *g, const char *dir, const char *name, char *why, size_t whylen)
{
    char path[1024];
    memset(&g->z, 0, sizeof g->z);
    g->f = NULL;
    g->deflating = false;
    g->nin = 0;
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen, "%s: path too long", dir);
    if (oz_wu_dfile_open(path, &g->f, why, whylen) != OZ_WU_OK)
        return OZ_SCHED_EIO;
    /* 15 + 16: a gzip header and trailer around the deflate stream */
    if (deflateInit2(&g->z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        oz_wu_dfile_abort(g->f);
        g->f = NULL;
        return oz_sched_fail(OZ_SCHED_ENOMEM, why, whylen, "%s: zlib: out of memory", name);
    }
    g->deflating = true;
    return OZ_SCHED_OK;
}

static int gz_run(oz_gzw *g, int flush, char *why, size_t whylen)
{
    int zr;
    do {
        g->z.next_out = g->out;
        g->z.avail_out = sizeof g->out;
        zr = deflate(&g->z, flush);
        if (zr == Z_STREAM_ERROR)
            return oz_sched_fail(OZ_SCHED_EIO, why, whylen, "zlib: deflate failed");
        size_t have = sizeof g->out - g->z.avail_out;
        if (have && oz_wu_dfile_write(g->f, g->out, have, why, whylen) != OZ_WU_OK)
            return OZ_SCHED_EIO;
    } while (g->z.avail_out == 0 || (flush == Z_FINISH && zr != Z_STREAM_END));
    return OZ_SCHED_OK;
}

/* Deflates what `in` holds. */
static int gz_drain(oz_gzw *g, int flush, char *why, size_t whylen)
{
    g->z.next_in = g->in;
    g->z.avail_in = (uInt)g->nin;
    g->nin = 0;
    return gz_run(g, flush, why, whylen);
}

int oz_gzw_raw(oz_gzw *g, const void *buf, size_t len, char *why, size_t whylen)
{
    return oz_wu_dfile_write(g->f, buf, len, why, whylen) == OZ_WU_OK ? OZ_SCHED_OK : OZ_SCHED_EIO;
}

int oz_gzw_write(oz_gzw *g, const void *buf, size_t len, char *why, size_t whylen)
{
    const unsigned char *p = buf;
    while (len > 0) {
        size_t n = sizeof g->in - g->nin;
        if (n > len)
            n = len;
        memcpy(g->in + g->nin, p, n);
        g->nin += n;
        p += n;
        len -= n;
        if (g->nin == sizeof g->in) {
            int rc = gz_drain(g, Z_NO_FLUSH, why, whylen);
            if (rc != OZ_SCHED_OK)
                return rc;
        }
    }
    return OZ_SCHED_OK;
}

int oz_gzw_printf(oz_gzw *g, char *why, size_t whylen, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof buf)
        return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen, "a statistics line is too long");
    return oz_gzw_write(g, buf, (size_t)n, why, whylen);
}

int oz_gzw_commit(oz_gzw *g, char *why, size_t whylen)
{
    int rc = gz_drain(g, Z_FINISH, why, whylen);
    deflateEnd(&g->z);
    g->deflating = false;
    oz_wu_dfile *f = g->f;
    g->f = NULL;
    if (rc != OZ_SCHED_OK) {
        oz_wu_dfile_abort(f);
        return rc;
    }
    return oz_wu_dfile_commit(f, why, whylen) == OZ_WU_OK ? OZ_SCHED_OK : OZ_SCHED_EIO;
}

void oz_gzw_abort(oz_gzw *g)
{
    if (g->deflating)
        deflateEnd(&g->z);
    g->deflating = false;
    oz_wu_dfile_abort(g->f);
    g->f = NULL;
}
