/*
 * gzw.h - a durable gzip file written a little at a time: the statistics
 * exports (stats.c) and the result archives (lifecycle.c).
 *
 * The file is written as workunits' oz_wu_dfile (PATH.tmp.XXXXXX, fsynced
 * and renamed over PATH on commit, then the directory fsynced), so a
 * reader never sees half a file and a crash leaves the old one whole.
 * Before any compressed data, bytes may be copied into it as they are
 * (oz_gzw_raw): an existing .gz file, to which the new data then becomes
 * one more gzip member (zcat and gzip -d read concatenated members as one
 * stream).
 */
#ifndef OZ_SCHED_GZW_H
#define OZ_SCHED_GZW_H

#include <stdbool.h>
#include <stddef.h>

#include <zlib.h>

#include "ozma_workunits.h"
#include "sched_errors.h"

/* Rows arrive a few bytes at a time; they are gathered in `in` and
 * deflated 64 KiB at a time (a deflate call per element cost more than the
 * compression). */
typedef struct oz_gzw {
    oz_wu_dfile *f;
    z_stream z;
    bool deflating;
    size_t nin; /* bytes gathered in `in` */
    unsigned char in[1 << 16];
    unsigned char out[1 << 16];
} oz_gzw;

/* Opens DIR/NAME.tmp.XXXXXX for writing (g's own memory is the caller's:
 * it is large, so better not on a thread's stack). */
int oz_gzw_open(oz_gzw *g, const char *dir, const char *name, char *why, size_t whylen);
/* Copies len bytes into the file as they are: only before the first
 * oz_gzw_write or oz_gzw_printf. */
int oz_gzw_raw(oz_gzw *g, const void *buf, size_t len, char *why, size_t whylen);
/* Compresses len bytes into it; printf: a formatted piece of at most 511
 * bytes. */
int oz_gzw_write(oz_gzw *g, const void *buf, size_t len, char *why, size_t whylen);
int oz_gzw_printf(oz_gzw *g, char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Ends the gzip stream and makes the file durable under its name. */
int oz_gzw_commit(oz_gzw *g, char *why, size_t whylen);
/* Drops the temporary file. */
void oz_gzw_abort(oz_gzw *g);

#endif /* OZ_SCHED_GZW_H */
