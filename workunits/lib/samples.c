/*
 * samples.c - sample formats: names, sizes, conversion to and from complex
 * float32, byte order, and SHA-256 digests as hex.
 *
 * Stored formats are always little-endian (.ozwu payloads, what readers'
 * read_at returns); big-endian SigMF data is swapped on the way in.
 * Integer samples scale to full scale 1.0 (v/128, v/32768) so that a ci8
 * recording and its cf32 conversion read alike; quantising is the inverse
 * with round-to-nearest and clipping, and reports what it clipped.
 */
#include <math.h>
#include <string.h>

#include "internal.h"

#define HOST_LE OZ_WU_HOST_LE

static const char *const format_names[] = {
    [OZ_WU_CI8] = "ci8",
    [OZ_WU_CI16] = "ci16",
    [OZ_WU_CF32] = "cf32",
};

const char *oz_wu_format_name(oz_wu_format f)
{
    return (unsigned)f <= OZ_WU_CF32 ? format_names[f] : "unknown";
}

int oz_wu_format_parse(const char *name, oz_wu_format *out)
{
    if (!name)
        return OZ_WU_EINVAL;
    if (strcmp(name, "ci8") == 0)
        *out = OZ_WU_CI8;
    else if (strcmp(name, "ci16") == 0 || strcmp(name, "ci16_le") == 0)
        *out = OZ_WU_CI16;
    else if (strcmp(name, "cf32") == 0 || strcmp(name, "cf32_le") == 0)
        *out = OZ_WU_CF32;
    else
        return OZ_WU_EINVAL;
    return OZ_WU_OK;
}

size_t oz_wu_format_size(oz_wu_format f)
{
    switch (f) {
    case OZ_WU_CI8:
        return 2;
    case OZ_WU_CI16:
        return 4;
    case OZ_WU_CF32:
        return 8;
    }
    return 0;
}

void oz_wu_format_to_cf32(oz_wu_format f, const void *src, size_t n, float *iq)
{
    const unsigned char *p = src;
    switch (f) {
    case OZ_WU_CI8:
        for (size_t i = 0; i < 2 * n; i++) {
            int v = p[i] >= 128 ? (int)p[i] - 256 : (int)p[i];
            iq[i] = (float)v * (1.0f / 128.0f);
        }
        return;
    case OZ_WU_CI16:
        for (size_t i = 0; i < 2 * n; i++) {
            int v = (int)p[2 * i] | (int)p[2 * i + 1] << 8;
            if (v >= 32768)
                v -= 65536;
            iq[i] = (float)v * (1.0f / 32768.0f);
        }
        return;
    case OZ_WU_CF32:
        if (HOST_LE) {
            if ((const void *)iq != src) /* in place is allowed */
                memcpy(iq, src, n * 8);
        } else {
            for (size_t i = 0; i < 2 * n; i++) {
                uint32_t u = oz_wu_get_le32(p + 4 * i);
                memcpy(&iq[i], &u, sizeof u);
            }
        }
        return;
    }
}

/* Rounds x * full to the nearest integer in [lo, hi]; counts clips (NaN is
 * a clip to 0). */
static long quantise(float x, double full, long lo, long hi, uint64_t *clipped)
{
    double y = (double)x * full;
    if (y != y) {
        ++*clipped;
        return 0;
    }
    y = nearbyint(y);
    if (y < (double)lo) {
        ++*clipped;
        return lo;
    }
    if (y > (double)hi) {
        ++*clipped;
        return hi;
    }
    return (long)y;
}

uint64_t oz_wu_format_from_cf32(oz_wu_format f, const float *iq, size_t n, void *dst)
{
    unsigned char *p = dst;
    uint64_t clipped = 0;
    switch (f) {
    case OZ_WU_CI8:
        for (size_t i = 0; i < 2 * n; i++) {
            long v = quantise(iq[i], 128.0, -128, 127, &clipped);
            p[i] = (unsigned char)(v & 0xff);
        }
        break;
    case OZ_WU_CI16:
        for (size_t i = 0; i < 2 * n; i++) {
            long v = quantise(iq[i], 32768.0, -32768, 32767, &clipped);
            unsigned long u = (unsigned long)v & 0xffffu;
            p[2 * i] = (unsigned char)(u & 0xff);
            p[2 * i + 1] = (unsigned char)(u >> 8);
        }
        break;
    case OZ_WU_CF32:
        if (HOST_LE) {
            memcpy(dst, iq, n * 8);
        } else {
            for (size_t i = 0; i < 2 * n; i++) {
                uint32_t u;
                memcpy(&u, &iq[i], sizeof u);
                oz_wu_put_le32(p + 4 * i, u);
            }
        }
        break;
    }
    return clipped;
}

void oz_wu_byteswap(void *buf, size_t nwords, size_t width)
{
    unsigned char *p = buf;
    for (size_t w = 0; w < nwords; w++, p += width) {
        for (size_t i = 0; i < width / 2; i++) {
            unsigned char t = p[i];
            p[i] = p[width - 1 - i];
            p[width - 1 - i] = t;
        }
    }
}

size_t oz_wu_first_nonfinite(const void *cf32_le, size_t n)
{
    const unsigned char *p = cf32_le;
    for (size_t i = 0; i < 2 * n; i++) {
        /* A float is non-finite when its exponent bits are all ones. */
        uint32_t u = oz_wu_get_le32(p + 4 * i);
        if ((u & 0x7f800000u) == 0x7f800000u)
            return i / 2;
    }
    return SIZE_MAX;
}
