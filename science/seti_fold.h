/*
 * seti_fold.h - the pulse search's folds, eight lanes at a time: internal to
 * science/ and included by seti_pulse.c alone, which compiles them twice,
 * for any CPU and for AVX2 (always-inline functions, so each copy of the
 * search gets its own instructions).
 *
 * The folds run eight lanes to a vector (GCC/clang vector extensions; an
 * AVX2 copy of the same code is chosen at run time, simd.h).  Each
 * lane does the scalar sum's adds in the scalar order, and a fold's largest
 * sum is the largest of a set whatever the order of comparison (strict >
 * from 0, so NaN and -0 never win), so every lane is bit-identical to one
 * scalar fold.  Two layouts:
 * - along time (tfold_*): one bin's segment, lanes are eight consecutive
 *   profile points; for long segments (small L), whose profiles are long;
 * - across bins (xfold_*): a segment of eight adjacent bins interleaved
 *   (point t of lane l at 8 t + l), lanes are bins; for short segments
 *   (large L), where one bin's profiles are too short to fill vectors.
 */
#ifndef OZMA_SCIENCE_SETI_FOLD_H
#define OZMA_SCIENCE_SETI_FOLD_H

#include <stdint.h>
#include <string.h>

#include "simd.h"

#define AI static inline __attribute__((always_inline))
/* Vectors pass by value only between always_inline functions, never through
 * a call, so GCC's note that the 32-byte vector ABI depends on AVX is moot. */
#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

AI v8f ld(const float *p)
{
    v8f v;
    memcpy(&v, p, sizeof v);
    return v;
}

AI void st(float *p, v8f v)
{
    memcpy(p, &v, sizeof v);
}

/* Lane by lane, s where s > m, else m. */
AI v8f vmax(v8f m, v8f s)
{
    v8i gt = s > m;
    return (v8f)(((v8i)m & ~gt) | ((v8i)s & gt));
}

AI float hmax(v8f m, float mx)
{
    for (int l = 0; l < 8; l++)
        if (m[l] > mx)
            mx = m[l];
    return mx;
}

/* The sums of na (2 .. 5) points at q[0..na) + i, in v8's order. */
AI v8f addn(const float *const q[5], uint32_t na, size_t i)
{
    v8f s = ld(q[0] + i) + ld(q[1] + i);
    if (na > 2)
        s += ld(q[2] + i);
    if (na > 3)
        s += ld(q[3] + i);
    if (na > 4)
        s += ld(q[4] + i);
    return s;
}

/* dest[i] = the sums at q + i for i < n (floats, a multiple of 8), and their
 * lane maxima (four running maxima, so that iterations do not wait on each
 * other's comparisons). */
AI v8f vfold_n(const float *const q[5], uint32_t na, size_t n, float *dest)
{
    v8f m0 = {0}, m1 = {0}, m2 = {0}, m3 = {0};
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        v8f s0 = addn(q, na, i), s1 = addn(q, na, i + 8);
        v8f s2 = addn(q, na, i + 16), s3 = addn(q, na, i + 24);
        st(dest + i, s0);
        st(dest + i + 8, s1);
        st(dest + i + 16, s2);
        st(dest + i + 24, s3);
        m0 = vmax(m0, s0);
        m1 = vmax(m1, s1);
        m2 = vmax(m2, s2);
        m3 = vmax(m3, s3);
    }
    for (; i < n; i += 8) {
        v8f s0 = addn(q, na, i);
        st(dest + i, s0);
        m0 = vmax(m0, s0);
    }
    return vmax(vmax(m0, m1), vmax(m2, m3));
}

/* vfold_n with na a constant in each copy. */
AI v8f vfold(const float *const q[5], uint32_t na, size_t n, float *dest)
{
    switch (na) {
    case 2:
        return vfold_n(q, 2, n, dest);
    case 3:
        return vfold_n(q, 3, n, dest);
    case 4:
        return vfold_n(q, 4, n, dest);
    default:
        return vfold_n(q, 5, n, dest);
    }
}

/* A fold and its first halving in one pass: the level-0 sums at q + i and
 * q + sh + i (sh = the halving's shift) go into the running maxima mx[0..3]
 * and their sum into dest[i] (i < n floats, a multiple of 8) and mx[4..5];
 * level 0 is never stored. */
AI void vfold01_n(const float *const q[5], uint32_t na, size_t sh, size_t n, float *dest, v8f mx[6])
{
    v8f a0 = mx[0], a1 = mx[1], a2 = mx[2], a3 = mx[3], b0 = mx[4], b1 = mx[5];
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        v8f x0 = addn(q, na, i), y0 = addn(q, na, i + sh);
        v8f x1 = addn(q, na, i + 8), y1 = addn(q, na, i + 8 + sh);
        v8f h0 = x0 + y0, h1 = x1 + y1;
        st(dest + i, h0);
        st(dest + i + 8, h1);
        a0 = vmax(a0, x0);
        a1 = vmax(a1, y0);
        a2 = vmax(a2, x1);
        a3 = vmax(a3, y1);
        b0 = vmax(b0, h0);
        b1 = vmax(b1, h1);
    }
    for (; i < n; i += 8) {
        v8f x0 = addn(q, na, i), y0 = addn(q, na, i + sh);
        v8f h0 = x0 + y0;
        st(dest + i, h0);
        a0 = vmax(a0, x0);
        a1 = vmax(a1, y0);
        b0 = vmax(b0, h0);
    }
    mx[0] = a0;
    mx[1] = a1;
    mx[2] = a2;
    mx[3] = a3;
    mx[4] = b0;
    mx[5] = b1;
}

AI void vfold01(const float *const q[5], uint32_t na, size_t sh, size_t n, float *dest, v8f mx[6])
{
    switch (na) {
    case 3:
        vfold01_n(q, 3, sh, n, dest, mx);
        break;
    case 4:
        vfold01_n(q, 4, sh, n, dest, mx);
        break;
    default:
        vfold01_n(q, 5, sh, n, dest, mx);
        break;
    }
}

/* One level-0 sum along time, as v8 adds it. */
AI float tsum(const float *const q[5], uint32_t na, size_t i)
{
    float sum = q[0][i] + q[1][i];
    for (uint32_t k = 2; k < na; k++)
        sum += q[k][i];
    return sum;
}

/* Along time, a fold of di points and its first halving (into dest, di / 2
 * points): their largest sums in m[0] and m[1]. */
AI void tfold01(const float *src, uint32_t na, const uint32_t off[5], uint32_t di, float *dest,
                float m[2])
{
    const float *q[5];
    for (uint32_t k = 0; k < 5; k++)
        q[k] = src + off[k < na ? k : 0];
    uint32_t half = di / 2, sh = di - half, i = half & ~7u;
    v8f mx[6] = {{0}, {0}, {0}, {0}, {0}, {0}};
    vfold01(q, na, sh, i, dest, mx);
    float m0 = hmax(vmax(vmax(mx[0], mx[1]), vmax(mx[2], mx[3])), 0.0f);
    float m1 = hmax(vmax(mx[4], mx[5]), 0.0f);
    for (; i < half; i++) {
        float x = tsum(q, na, i), y = tsum(q, na, i + sh), h = x + y;
        dest[i] = h;
        m0 = x > m0 ? x : m0;
        m0 = y > m0 ? y : m0;
        m1 = h > m1 ? h : m1;
    }
    if (di & 1) {
        float x = tsum(q, na, half);
        m0 = x > m0 ? x : m0;
    }
    m[0] = m0;
    m[1] = m1;
}

/* Across bins, the same: lane maxima of the fold in m[0], of its halving in
 * m[1]. */
AI void xfold01(const float *src, uint32_t na, const uint32_t off[5], uint32_t di, float *dest,
                v8f m[2])
{
    const float *q[5];
    for (uint32_t k = 0; k < 5; k++)
        q[k] = src + 8 * (size_t)off[k < na ? k : 0];
    uint32_t half = di / 2, sh = di - half;
    v8f mx[6] = {{0}, {0}, {0}, {0}, {0}, {0}};
    vfold01(q, na, 8 * (size_t)sh, 8 * (size_t)half, dest, mx);
    if (di & 1)
        mx[0] = vmax(mx[0], addn(q, na, 8 * (size_t)half));
    m[0] = vmax(vmax(mx[0], mx[1]), vmax(mx[2], mx[3]));
    m[1] = vmax(mx[4], mx[5]);
}

/* A fold of src by na adds at offsets off[0..na) (off[0] = 0) into dest[0..di);
 * returns the largest sum (0 if none is larger).  Sums in v8's order.  A
 * profile folded in half is the same with na = 2 and off[1] the shift. */
AI float tfold(const float *src, uint32_t na, const uint32_t off[5], uint32_t di, float *dest)
{
    const float *q[5];
    for (uint32_t k = 0; k < 5; k++)
        q[k] = src + off[k < na ? k : 0];
    uint32_t i = di & ~7u;
    float mx = hmax(vfold(q, na, i, dest), 0.0f);
    for (; i < di; i++) {
        float sum = q[0][i] + q[1][i];
        for (uint32_t k = 2; k < na; k++)
            sum += q[k][i];
        dest[i] = sum;
        if (sum > mx)
            mx = sum;
    }
    return mx;
}

AI float tfold_adds(const float *src, uint32_t na, const uint32_t off[5], uint32_t di, float *dest)
{
    return tfold(src, na, off, di, dest);
}

AI float tfold_half(const float *src, uint32_t shift, uint32_t di, float *dest)
{
    const uint32_t off[5] = {0, shift, 0, 0, 0};
    return tfold(src, 2, off, di, dest);
}

/* The same across bins: src and dest hold eight lanes per point. */
AI v8f xfold(const float *src, uint32_t na, const uint32_t off[5], uint32_t di, float *dest)
{
    const float *q[5];
    for (uint32_t k = 0; k < 5; k++)
        q[k] = src + 8 * (size_t)off[k < na ? k : 0];
    return vfold(q, na, 8 * (size_t)di, dest);
}

AI v8f xfold_adds(const float *src, uint32_t na, const uint32_t off[5], uint32_t di, float *dest)
{
    return xfold(src, na, off, di, dest);
}

AI v8f xfold_half(const float *src, uint32_t shift, uint32_t di, float *dest)
{
    const uint32_t off[5] = {0, shift, 0, 0, 0};
    return xfold(src, 2, off, di, dest);
}

#endif /* OZMA_SCIENCE_SETI_FOLD_H */
