/*
 * sah_scan.h - what the three files of the .sah reader share, and nothing
 * else includes: the error context, pieces of the file, the tag scanner and
 * typed values (sah_scan.c), and the payload's decoder (sah_payload.c), for
 * the header's sections and the file itself (sah.c).
 */
#ifndef OZMA_WORKUNITS_SAH_SCAN_H
#define OZMA_WORKUNITS_SAH_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* What the scanner reports errors against. */
struct oz_sah_ctx {
    const char *base; /* the whole file */
    size_t len;
    const char *name; /* for messages */
    char *why;
    size_t whylen;
};

/* A piece of the file. */
struct oz_sah_span {
    const char *p;
    size_t n;
};

/* What a field's value is read as. */
enum oz_sah_ftype { F_DBL, F_U32, F_I32, F_TEXT, F_SPAN };

/* One child a section may hold: where its value goes. */
struct oz_sah_field {
    const char *tag;
    enum oz_sah_ftype type;
    void *dst; /* double, uint32_t, int32_t, char[OZ_WU_SAH_TEXT_MAX + 1], struct oz_sah_span */
    bool required;
};

/* Line and column (from 1) of `at` in the file, for messages. */
unsigned oz_sah_line_of(const struct oz_sah_ctx *c, const char *at);
unsigned oz_sah_column_of(const struct oz_sah_ctx *c, const char *at);

/* XML's whitespace; a tag name's characters (the first or a later one). */
bool oz_sah_is_space(char ch);
bool oz_sah_name_char(char ch, bool first);

/* Whether the span is exactly lit; the span without surrounding whitespace. */
bool oz_sah_span_is(struct oz_sah_span s, const char *lit);
struct oz_sah_span oz_sah_trim(struct oz_sah_span s);

/* Finds lit in [p, end). */
const char *oz_sah_find(const char *p, const char *end, const char *lit);

/*
 * The next direct child of the content [*pos, end): returns 1 with its tag
 * name, attribute text and content, 0 when there is none left, or
 * OZ_WU_EFORMAT (2 for a <workunit> without its close: content to the end).  Text before it is
 * skipped unless `strict` (then only whitespace may come between elements).  Comments and <?..?>
 * are skipped.
 */
int oz_sah_next_child(const struct oz_sah_ctx *c, const char **pos, const char *end, bool strict,
                      struct oz_sah_span *tag, struct oz_sah_span *attrs,
                      struct oz_sah_span *content);

/* "FILE: line N: <tag> \"value\" is not `what`": OZ_WU_EFORMAT. */
int oz_sah_bad_value(const struct oz_sah_ctx *c, struct oz_sah_span v, const char *tag,
                     const char *what);

/* The span's value, strictly: a finite number, an integer within lo .. hi,
 * or a text of at most OZ_WU_SAH_TEXT_MAX characters (out holds one more);
 * refused with oz_sah_bad_value. */
int oz_sah_get_double(const struct oz_sah_ctx *c, struct oz_sah_span v, const char *tag,
                      double *out);
int oz_sah_get_long(const struct oz_sah_ctx *c, struct oz_sah_span v, const char *tag, long long lo,
                    long long hi, long long *out);
int oz_sah_get_text(const struct oz_sah_ctx *c, struct oz_sah_span v, const char *tag, char *out);

/* Reads the children of `section` (content `in`, opened at `at`) into the
 * fields; unknown children are skipped, a known one twice is refused. */
int oz_sah_get_fields(const struct oz_sah_ctx *c, struct oz_sah_span in, const char *section,
                      struct oz_sah_field *f, size_t nf);

/* The <data> element (sah_payload.c): its attributes (length=, encoding)
 * and text checked against the header h, decoded into *iq (2 h->nsamples
 * int8 values, ±1, conjugated; the caller frees). */
int oz_sah_get_data(const struct oz_sah_ctx *c, struct oz_sah_span attrs, struct oz_sah_span text,
                    const oz_wu_sah *h, int8_t **iq);

#endif
