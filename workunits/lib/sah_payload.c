/*
 * sah_payload.c - the payload of a .sah unit: its text, checked line by
 * line, decoded to bytes and unpacked to samples (sah_scan.h).
 *
 * The x-setiathome encoding (db/xml_util.h in SETI@home's sources): each
 * 3 bytes b0 b1 b2 become four 6-bit values, v0 = b0 & 63,
 * v1 = b0 >> 6 | (b1 & 15) << 2, v2 = b1 >> 4 | (b2 & 3) << 4, v3 = b2 >> 2,
 * written as the characters v + 0x20 (the alphabet is 0x20 ' ' .. 0x5f '_').
 * The text is a newline, lines of 64 characters (48 bytes), a last line of
 * fewer (possibly none), and a final newline; length= counts all of it.  The
 * last group may carry up to two bytes of padding, ignored.
 *
 * The bytes to samples (client/s_util.cpp, bits_to_floats, 2 bits per
 * complex sample): bytes are taken in swapped pairs (byte i is read from
 * i ^ 1), each gives four samples from its low bits up, two bits a sample:
 * the higher bit is I, the lower Q, and a bit 1 is +1, 0 is -1.  Ozma keeps
 * the conjugate (I, -Q) as ci8 ±1 (ozma_workunits.h says why).
 *
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sah_scan.h"

#define LINE_CHARS 64u /* characters of a full payload line */

/* ---- the payload ------------------------------------------------------------------------ */

/* The value of attribute `key` in the attribute text (quoted or bare). */
static int get_attrs(const struct oz_sah_ctx *c, struct oz_sah_span a, uint64_t *length,
                     bool *encoding)
{
    const char *p = a.p, *end = a.p + a.n;
    bool have_length = false;
    *encoding = false;
    for (;;) {
        while (p < end && oz_sah_is_space(*p))
            p++;
        if (p == end)
            break;
        const char *k = p;
        while (p < end && oz_sah_name_char(*p, p == k))
            p++;
        struct oz_sah_span key = {k, (size_t)(p - k)};
        if (key.n == 0 || p == end || *p != '=')
            return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                              "%s: line %u: <data> has a malformed attribute", c->name,
                              oz_sah_line_of(c, k));
        p++;
        struct oz_sah_span v;
        if (p < end && *p == '"') {
            v.p = ++p;
            while (p < end && *p != '"')
                p++;
            if (p == end)
                return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                                  "%s: line %u: <data>: unterminated quote", c->name,
                                  oz_sah_line_of(c, k));
            v.n = (size_t)(p++ - v.p);
        } else {
            v.p = p;
            while (p < end && !oz_sah_is_space(*p))
                p++;
            v.n = (size_t)(p - v.p);
        }
        if (oz_sah_span_is(key, "length") && !have_length) {
            if (v.n == 0 || v.n > 10)
                return oz_sah_bad_value(c, v, "data length", "a length");
            uint64_t n = 0;
            for (size_t i = 0; i < v.n; i++) {
                if (v.p[i] < '0' || v.p[i] > '9')
                    return oz_sah_bad_value(c, v, "data length", "a length");
                n = n * 10 + (uint64_t)(v.p[i] - '0');
            }
            *length = n;
            have_length = true;
        } else if (oz_sah_span_is(key, "encoding") && !*encoding) {
            if (!oz_sah_span_is(v, "x-setiathome"))
                return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                                  "%s: line %u: <data> encoding \"%.*s\" is not x-setiathome",
                                  c->name, oz_sah_line_of(c, k), (int)(v.n > 40 ? 40 : v.n), v.p);
            *encoding = true;
        } else {
            return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                              "%s: line %u: <data> has an unexpected or repeated attribute "
                              "\"%.*s\"",
                              c->name, oz_sah_line_of(c, k), (int)(key.n > 40 ? 40 : key.n), key.p);
        }
    }
    if (!have_length || !*encoding)
        return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                          "%s: line %u: <data> needs length= and encoding=\"x-setiathome\"",
                          c->name, oz_sah_line_of(c, a.p));
    return OZ_WU_OK;
}

/* Checks the payload text's characters and lines; counts its characters of
 * data (newlines excluded) into *nchar. */
static int check_text(const struct oz_sah_ctx *c, struct oz_sah_span t, size_t *nchar)
{
    const char *p = t.p, *end = t.p + t.n;
    *nchar = 0;
    if (p == end || *p != '\n')
        return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                          "%s: line %u: the <data> payload must begin with a new line", c->name,
                          oz_sah_line_of(c, p));
    p++;
    for (;;) {
        const char *line = p;
        while (p < end && *p != '\n') {
            unsigned char ch = (unsigned char)*p;
            if (ch < 0x20 || ch > 0x5f)
                return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                                  "%s: line %u, column %u: character %s%c%s(0x%02x) is outside the "
                                  "x-setiathome alphabet (0x20-0x5f)",
                                  c->name, oz_sah_line_of(c, p), oz_sah_column_of(c, p),
                                  ch >= 0x20 && ch < 0x7f ? "'" : "",
                                  ch >= 0x20 && ch < 0x7f ? ch : ' ',
                                  ch >= 0x20 && ch < 0x7f ? "' " : "", ch);
            p++;
        }
        size_t n = (size_t)(p - line);
        if (p == end)
            return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                              "%s: line %u: the <data> payload does not end with a new line",
                              c->name, oz_sah_line_of(c, line));
        p++; /* the newline */
        *nchar += n;
        if (n > LINE_CHARS)
            return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                              "%s: line %u: a payload line of %zu characters (at most %u)", c->name,
                              oz_sah_line_of(c, line), n, LINE_CHARS);
        if (n == LINE_CHARS)
            continue;
        /* the last line: shorter (possibly empty), whole groups of 4 */
        if (p != end)
            return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                              "%s: line %u: a short payload line (%zu characters) before the "
                              "last",
                              c->name, oz_sah_line_of(c, line), n);
        if (n % 4 != 0)
            return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                              "%s: line %u: a payload line of %zu characters, not whole groups of "
                              "4",
                              c->name, oz_sah_line_of(c, line), n);
        return OZ_WU_OK;
    }
}

/* Decodes the checked payload text into nbytes bytes (the last group's
 * padding dropped). */
static void decode_text(struct oz_sah_span t, unsigned char *out, size_t nbytes)
{
    size_t o = 0;
    unsigned v[4];
    unsigned k = 0;
    for (size_t i = 0; i < t.n && o < nbytes; i++) {
        if (t.p[i] == '\n')
            continue;
        v[k++] = (unsigned)((unsigned char)t.p[i] - 0x20);
        if (k < 4)
            continue;
        k = 0;
        unsigned char b[3] = {(unsigned char)(v[0] | v[1] << 6),
                              (unsigned char)(v[1] >> 2 | v[2] << 4),
                              (unsigned char)(v[2] >> 4 | v[3] << 2)};
        for (int j = 0; j < 3 && o < nbytes; j++)
            out[o++] = b[j];
    }
}

/* Bytes to conjugated ci8 samples, v8's bit order (file comment). */
static void unpack(const unsigned char *raw, size_t nbytes, int8_t *iq)
{
    size_t k = 0;
    for (size_t i = 0; i < nbytes; i++) {
        unsigned b = raw[i ^ 1];
        for (int j = 0; j < 4; j++, k++) {
            iq[2 * k] = (b & 2) ? 1 : -1;
            iq[2 * k + 1] = (b & 1) ? -1 : 1; /* conjugate: -Q */
            b >>= 2;
        }
    }
}

int oz_sah_get_data(const struct oz_sah_ctx *c, struct oz_sah_span attrs, struct oz_sah_span text,
                    const oz_wu_sah *h, int8_t **iq)
{
    uint64_t length = 0;
    bool enc;
    int rc = get_attrs(c, attrs, &length, &enc);
    if (rc != OZ_WU_OK)
        return rc;
    size_t nchar;
    if ((rc = check_text(c, text, &nchar)) != OZ_WU_OK)
        return rc;
    unsigned line = oz_sah_line_of(c, attrs.p);
    if (length != text.n)
        return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                          "%s: line %u: <data length=%llu> but the payload holds %zu characters",
                          c->name, line, (unsigned long long)length, text.n);
    size_t nbytes = h->nsamples / 4;
    size_t want = (nbytes + 2) / 3 * 4;
    if (nchar != want)
        return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                          "%s: line %u: nsamples %u needs %zu encoded characters but the payload "
                          "holds %zu",
                          c->name, line, h->nsamples, want, nchar);
    if (!iq)
        return OZ_WU_OK;
    unsigned char *raw = malloc(nbytes);
    int8_t *out = malloc(2 * (size_t)h->nsamples);
    if (!raw || !out) {
        free(raw);
        free(out);
        return oz_wu_fail(OZ_WU_ENOMEM, c->why, c->whylen, "%s: out of memory", c->name);
    }
    decode_text(text, raw, nbytes);
    unpack(raw, nbytes, out);
    free(raw);
    *iq = out;
    return OZ_WU_OK;
}
