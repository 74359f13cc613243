/*
 * result_bin.h - a result file's parsed form as bytes, kept beside its
 * JSON in replicas.result_bin (migration 17), so that the validator and
 * the assimilator read each result without parsing its text again.
 *
 * An upload is parsed once by the strict parser (oz_wu_result_parse); the
 * result it yields is packed here and written with the JSON in the same
 * UPDATE, so the two never disagree: unpacking gives back exactly that
 * oz_wu_result, every double bit for bit.  The JSON stays what the API,
 * the exports and the science database serve; the packed form is the
 * jobs' cache of it.  A row without it (received before migration 17) is
 * read from its JSON (oz_result_bin_read).
 *
 * Layout, little-endian: "OZR1", the unit id (a length byte and its
 * characters), its 32-byte hash, flops (8), cpu_s and fft_s (8 each), the
 * kernel version (a length byte and its characters), overflow (1), a byte
 * per signal type (1: a best of that type follows, in type order), the
 * best signals, the signal count (4) and the signals, each a type byte,
 * its FFT length (4), a mask (3) of which of its 17 doubles (oz_signal's
 * order) are not zero, bit i for the i-th, and those doubles: a spike's
 * 48 bytes where its JSON takes some 150 (each result is kept twice, so
 * its size is written twice to the WAL and the database).
 */
#ifndef OZ_SCHED_RESULT_BIN_H
#define OZ_SCHED_RESULT_BIN_H

#include <stddef.h>

#include "ozma_workunits.h"
#include "sched_errors.h"

/* r packed into *out (malloc'd, *len bytes); OZ_SCHED_ENOMEM. */
int oz_result_bin_pack(const oz_wu_result *r, unsigned char **out, size_t *len);

/* The packed bytes p[0 .. len) back into *out (which then owns its
 * signals); OZ_SCHED_EINVAL with a sentence when they are not a packed
 * result (wrong magic, a count or length past its bound, bytes left
 * over), OZ_SCHED_ENOMEM. */
int oz_result_bin_unpack(const unsigned char *p, size_t len, oz_wu_result *out, char *why,
                         size_t whylen);

/* A stored result into *out: its packed form when it has one (bin not
 * NULL), else its JSON through the strict parser. */
int oz_result_bin_read(const unsigned char *bin, size_t binlen, const char *json, oz_wu_result *out,
                       char *why, size_t whylen);

#endif
