/*
 * internal.h - what the files of workunits/ share and nobody else includes.
 *
 * A reader is a struct oz_wu_reader with an ops table: each format (sigmf.c,
 * raw.c, ozwu.c, sah.c) supplies read_at/close, and reader.c builds the
 * float interface and the position bookkeeping on top.  File-backed formats
 * (SigMF data, raw) share one implementation, the file stream in raw.c,
 * parameterised by data offset, stored format and byte order.
 */
#ifndef OZMA_WORKUNITS_INTERNAL_H
#define OZMA_WORKUNITS_INTERNAL_H

#include "ozma_workunits.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define OZ_WU_HOST_LE 1
#else
#define OZ_WU_HOST_LE 0
#endif

struct oz_wu_reader;

struct oz_wu_reader_ops {
    /* Reads exactly n samples (the caller clamps n to what is left) at
     * sample position `pos` into buf, in info.format, little-endian. */
    int (*read_at)(struct oz_wu_reader *r, uint64_t pos, void *buf, size_t n, char *why,
                   size_t whylen);
    void (*close)(struct oz_wu_reader *r);
};

struct oz_wu_reader {
    const struct oz_wu_reader_ops *ops;
    oz_wu_info info;
    const oz_wu_header *unit; /* .ozwu readers only */
    uint64_t pos;             /* next sample, <= info.nsamples */
    char *label;              /* file name for messages (owned) */
    void *impl;               /* the format's state (owned via ops->close) */
    unsigned char *chunk;     /* conversion buffer for oz_wu_reader_read */
    size_t chunk_samples;
};

/* Allocates a reader with a copy of `label`; NULL on ENOMEM. */
struct oz_wu_reader *oz_wu_reader_alloc(const struct oz_wu_reader_ops *ops, const char *label);

/* Opens `path` as a stream of samples starting data_offset bytes in, in
 * format f, big-endian when `swap`.  The samples after the offset must be a
 * whole number, at least one.  Fills r->info.format and nsamples; the
 * caller fills the rest of info. */
int oz_wu_filestream_open(const char *path, const char *label, uint64_t data_offset, oz_wu_format f,
                          bool swap, struct oz_wu_reader **out, char *why, size_t whylen);

/* Fills why and returns err: oz_sci_fail (ozma_science.h), the one shape
 * every part fails with, under workunits' name. */
#define oz_wu_fail oz_sci_fail

/* The last path component of a path (no allocation). */
const char *oz_wu_basename(const char *path);

/* A dataset id made from a file name: its last component without the
 * extensions we know, with other characters replaced by '_'. */
void oz_wu_name_from_path(const char *path, char *out, size_t outlen);

/* Byte order helpers: little-endian encodings independent of the host. */
static inline void oz_wu_put_le32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static inline uint32_t oz_wu_get_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void oz_wu_put_le64(unsigned char *p, uint64_t v)
{
    oz_wu_put_le32(p, (uint32_t)v);
    oz_wu_put_le32(p + 4, (uint32_t)(v >> 32));
}

static inline uint64_t oz_wu_get_le64(const unsigned char *p)
{
    return (uint64_t)oz_wu_get_le32(p) | (uint64_t)oz_wu_get_le32(p + 4) << 32;
}

/* Swaps each `width`-byte word of n words in place (big-endian data). */
void oz_wu_byteswap(void *buf, size_t nwords, size_t width);

/* Index of the first non-finite float among 2n, or SIZE_MAX. */
size_t oz_wu_first_nonfinite(const void *cf32_le, size_t n);

/* Reads a whole small file (at most max bytes, NUL-terminated). */
int oz_wu_read_small(const char *path, size_t max, char **out, size_t *len, char *why,
                     size_t whylen);

/* Does the start of a file look like a SETI@home work unit (<workunit> or
 * <workunit_header> first, after whitespace and an <?xml ..?>)? */
bool oz_wu_sah_sniff(const void *head, size_t n);

/* The loaded samples of an .ozwu reader (searched in place), or NULL. */
const float *oz_wu_reader_unit_samples(const oz_wu_reader *r);

/* oz_wu_unit_write, also saying how many bytes the file has. */
int oz_wu_unit_write_ex(const char *path, oz_wu_header *h, const void *payload,
                        unsigned char file_sha256[32], uint64_t *file_bytes, char *why,
                        size_t whylen);

/* The .ozwu header's JSON (used by ozwu.c and its tests). */
json_t *oz_wu_header_to_json(const oz_wu_header *h);
int oz_wu_header_from_json(const json_t *obj, const char *name, oz_wu_header *h, char *why,
                           size_t whylen);

#endif /* OZMA_WORKUNITS_INTERNAL_H */
