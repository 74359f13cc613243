/*
 * dedoppler.c - the Taylor tree: power summed along every drift line of a
 * spectrogram in n log2 n row operations instead of n^2.
 *
 * Input: n rows (n a power of two, at least 2) of `width` powers, row s the
 * spectrum at time s, read where they lie (no copy).  Output: row d (0 <= d < n) holds, for each
 * start column k, the sum over s of row s at column k + (a path drifting d columns from the first
 * row to the last).  The path is Taylor's: a group of w rows drifting d is
 * the first half drifting d/2 (rounded down) from k, then the second half
 * drifting d/2 from k + ceil(d/2); it stays within about a column of the
 * straight line.  Paths do not wrap: row d's path from column k ends at
 * column k + d, so output column k of row d is complete for k < width - d,
 * which is why callers feed tiles with a margin of as many columns as the
 * largest drift they read (lines.c); the last columns hold partial sums.
 *
 * Only drifts 0..dmax are wanted by the line search (its residual drift
 * range), and row d of a group needs only row d/2 of its halves, so each
 * pass computes just the rows the next one reads: for dmax = n/2 that is
 * two thirds of the full tree, for small dmax far less.  Callers run it on
 * tiles small enough that all log2 n passes stay in cache.
 *
 * Both drift signs.  The line search also wants the tree of the rows in
 * reverse order (drifting down).  Row 0 (drift 0) of a group is the plain
 * sum of its rows, added in the same pairs in either order, and float
 * addition is commutative, so the reversed tree's drift-0 rows are the
 * forward tree's rows bit for bit: oz_taylor_tree_both computes them once
 * and the reversed tree only adds its rows d >= 1 (for dmax = 2 and n = 8,
 * 4 row operations instead of 11).
 *
 * Eight rows, drifts up to 2 (the default unit and configuration: 2^20
 * samples, 131072-point spectra, chirp_resolution 0.1665) have their own
 * kernel, oz_taylor_tree8: the tree's rows written out are 15 row
 * operations that mostly wait on memory, while its five drift sums per
 * column need only the pair sums of the rows at three neighbouring columns.
 * It computes them straight from the rows, in registers, as the rows stream
 * in - the same additions of the same operands, so bit-identical.
 */
#include <string.h>

#include "internal.h"
#include "simd.h"

/* One row of a pass: o[k] = a[k] + b[k + shift] where column k + shift
 * exists, else a[k] (a partial sum; see the header comment).  Written once
 * and inlined into both entry points below, so each is compiled for its
 * own instruction set. */
static inline __attribute__((always_inline)) void tree_row_body(float *restrict o,
                                                                const float *restrict a,
                                                                const float *restrict b,
                                                                uint32_t shift, uint32_t width)
{
    if (shift > width)
        shift = width;
    const uint32_t len = width - shift;
    b += shift;
    for (uint32_t k = 0; k < len; k++)
        o[k] = a[k] + b[k];
    for (uint32_t k = len; k < width; k++)
        o[k] = a[k];
}

static void tree_row(float *restrict o, const float *restrict a, const float *restrict b,
                     uint32_t shift, uint32_t width)
{
    tree_row_body(o, a, b, shift, width);
}

/* The same with AVX2 (eight columns at a time); the sums are the same
 * single additions, so the result is bit-identical. */
#ifdef OZ_SIMD_AVX2
OZ_AVX2 static void tree_row_avx2(float *restrict o, const float *restrict a,
                                  const float *restrict b, uint32_t shift, uint32_t width)
{
    tree_row_body(o, a, b, shift, width);
}
#endif

/* need[i]: the largest drift row the groups of pass levels - 1 - i (of
 * n >> i rows) must produce; returns the number of passes, log2 n. */
static uint32_t tree_need(uint32_t n, uint32_t dmax, uint32_t need[32])
{
    uint32_t levels = 0;
    /* halving from the top because row d of a group uses row d/2 of its
     * halves */
    for (uint32_t w = n, d = dmax < n ? dmax : n - 1; w >= 2; w /= 2, d /= 2)
        need[levels++] = d;
    return levels;
}

/* Rows a tree may have: lines.c's OZ_LINES_NSPEC_MAX. */
#define TREE_ROWS_MAX 1024u

/* One pass of the tree: groups of w rows from their halves.  in[g + d] is
 * row d of the group starting at g, of the previous pass (or the input
 * rows), and becomes that of this pass; the rows computed go to buf (n x
 * width), out is room for n row pointers.  With `plus` set this is the
 * reversed tree of oz_taylor_tree_both: only rows d >= 1 are computed, and
 * the drift-0 row of the group starting at g is the forward tree's row of
 * the group starting at n - g - w (the same rows), plus[] being the forward
 * tree's in[] after the same pass. */
static void tree_level(const float **in, const float *const *plus, const float **out, float *buf,
                       uint32_t n, uint32_t width, uint32_t w, uint32_t top, bool avx2)
{
    const uint32_t h = w / 2;
    if (top > w - 1) /* never: a group of w rows drifts at most w - 1 */
        top = w - 1;
    for (uint32_t g = 0; g + w <= n; g += w) {
        for (uint32_t d = plus ? 1 : 0; d <= top; d++) {
            const float *a = in[g + d / 2], *b = in[g + h + d / 2];
            float *o = buf + (size_t)(g + d) * width;
            uint32_t shift = d / 2 + (d & 1);
#ifdef OZ_SIMD_AVX2
            if (avx2)
                tree_row_avx2(o, a, b, shift, width);
            else
#endif
                tree_row(o, a, b, shift, width);
            out[g + d] = o;
        }
        if (plus)
            out[g] = plus[n - g - w];
    }
    for (uint32_t g = 0; g + w <= n; g += w)
        for (uint32_t d = 0; d <= top; d++)
            in[g + d] = out[g + d];
    (void)avx2;
}

float *oz_taylor_tree(const float *const *rows, float *buf, float *tmp, uint32_t n, uint32_t width,
                      uint32_t dmax, bool avx2)
{
    if (n < 2 || n > TREE_ROWS_MAX)
        return NULL;
    uint32_t need[32] = {0};
    uint32_t level = tree_need(n, dmax, need);
    const float *in[TREE_ROWS_MAX], *out[TREE_ROWS_MAX];
    float *area[2] = {tmp, buf};
    for (uint32_t s = 0; s < n; s++)
        in[s] = rows[s];
    uint32_t pass = 0;
    for (uint32_t w = 2; w <= n; w *= 2, pass++)
        tree_level(in, NULL, out, area[pass % 2], n, width, w, need[--level], avx2);
    return area[(pass - 1) % 2];
}

void oz_taylor_tree_both(const float *const *rows, float *work, uint32_t n, uint32_t width,
                         uint32_t dmax, bool avx2, const float **plus, const float **minus)
{
    if (n < 2 || n > TREE_ROWS_MAX)
        return;
    uint32_t need[32] = {0};
    uint32_t level = tree_need(n, dmax, need);
    const size_t area = (size_t)n * width;
    const float *p[TREE_ROWS_MAX], *m[TREE_ROWS_MAX], *out[TREE_ROWS_MAX];
    for (uint32_t s = 0; s < n; s++) {
        p[s] = rows[s];
        m[s] = rows[n - 1 - s];
    }
    uint32_t pass = 0;
    for (uint32_t w = 2; w <= n; w *= 2, pass++) {
        uint32_t top = need[--level];
        tree_level(p, NULL, out, work + (pass % 2) * area, n, width, w, top, avx2);
        tree_level(m, p, out, work + (2 + pass % 2) * area, n, width, w, top, avx2);
    }
    for (uint32_t d = 0; d <= need[0] && d < n; d++) {
        plus[d] = p[d];
        minus[d] = m[d];
    }
}

/*
 * The eight-row tree for drifts 0..2, written out (r_s = rows[s] at column
 * k, "@j": at column k + j):
 *   t_g = r_2g + r_2g+1                                 (pass 1, drift 0)
 *   forward:  a0 = t0 + t1, a1 = t0 + t1@1; b0 = t2 + t3, b1 = t2 + t3@1
 *             drift 0: a0 + b0, 1: a0 + b0@1, 2: a1 + b1@1
 *   reversed: c1 = t3 + t2@1, e1 = t1 + t0@1 (its drift-0 rows are b0, a0)
 *             drift 1: b0 + a0@1, 2: c1 + e1@1
 * so per column it needs t0 and t3 at k, k+1, k+2 and t1, t2 at k, k+1.
 * The eight rows stream from memory (a power block is 4 MiB): prefetching
 * them, and the samples in chirp.c, took bench_kernel's kernel / FFTW time
 * from 1.244 to 1.215 on a shared machine whose prefetcher alone fell behind.
 * TREE8(name, vector, lanes, attributes) defines the kernel for one vector
 * width; both widths do the same additions, so they agree bit for bit.
 */
#define TREE8(NAME, VF, VI, LANES, ATTR)                                                           \
    ATTR static VF NAME##_load(const float *p)                                                     \
    {                                                                                              \
        VF v;                                                                                      \
        memcpy(&v, p, sizeof v);                                                                   \
        return v;                                                                                  \
    }                                                                                              \
    ATTR static VF NAME##_max(VF m, VF v)                                                          \
    {                                                                                              \
        VI gt = v > m;                                                                             \
        return (VF)(((VI)m & ~gt) | ((VI)v & gt));                                                 \
    }                                                                                              \
    ATTR static void NAME(const float *const *r, uint32_t W, float *out, float mx[5])              \
    {                                                                                              \
        const float *r0 = r[0], *r1 = r[1], *r2 = r[2], *r3 = r[3];                                \
        const float *r4 = r[4], *r5 = r[5], *r6 = r[6], *r7 = r[7];                                \
        VF m0 = {0}, m1 = {0}, m2 = {0}, m3 = {0}, m4 = {0};                                       \
        for (uint32_t k = 0; k < W; k += LANES) {                                                  \
            if (k % 16 == 0) /* a cache line of each row, 1 KiB ahead */                           \
                for (int q = 0; q < 8; q++)                                                        \
                    __builtin_prefetch(r[q] + k + 256);                                            \
            VF t0 = NAME##_load(r0 + k) + NAME##_load(r1 + k);                                     \
            VF t0n = NAME##_load(r0 + k + 1) + NAME##_load(r1 + k + 1);                            \
            VF t0nn = NAME##_load(r0 + k + 2) + NAME##_load(r1 + k + 2);                           \
            VF t1 = NAME##_load(r2 + k) + NAME##_load(r3 + k);                                     \
            VF t1n = NAME##_load(r2 + k + 1) + NAME##_load(r3 + k + 1);                            \
            VF t2 = NAME##_load(r4 + k) + NAME##_load(r5 + k);                                     \
            VF t2n = NAME##_load(r4 + k + 1) + NAME##_load(r5 + k + 1);                            \
            VF t3 = NAME##_load(r6 + k) + NAME##_load(r7 + k);                                     \
            VF t3n = NAME##_load(r6 + k + 1) + NAME##_load(r7 + k + 1);                            \
            VF t3nn = NAME##_load(r6 + k + 2) + NAME##_load(r7 + k + 2);                           \
            VF a0 = t0 + t1, a0n = t0n + t1n, a1 = t0 + t1n;                                       \
            VF b0 = t2 + t3, b0n = t2n + t3n, b1n = t2n + t3nn;                                    \
            VF c1 = t3 + t2n, e1n = t1n + t0nn;                                                    \
            VF v0 = a0 + b0, v1 = a0 + b0n, v2 = a1 + b1n, v3 = b0 + a0n, v4 = c1 + e1n;           \
            memcpy(out + k, &v0, sizeof v0);                                                       \
            memcpy(out + W + k, &v1, sizeof v1);                                                   \
            memcpy(out + 2 * (size_t)W + k, &v2, sizeof v2);                                       \
            memcpy(out + 3 * (size_t)W + k, &v3, sizeof v3);                                       \
            memcpy(out + 4 * (size_t)W + k, &v4, sizeof v4);                                       \
            /* sums of powers are >= 0: maxima may start at 0 */                                   \
            m0 = NAME##_max(m0, v0);                                                               \
            m1 = NAME##_max(m1, v1);                                                               \
            m2 = NAME##_max(m2, v2);                                                               \
            m3 = NAME##_max(m3, v3);                                                               \
            m4 = NAME##_max(m4, v4);                                                               \
        }                                                                                          \
        VF m[5] = {m0, m1, m2, m3, m4};                                                            \
        for (int i = 0; i < 5; i++) {                                                              \
            float x = m[i][0];                                                                     \
            for (int j = 1; j < LANES; j++)                                                        \
                x = m[i][j] > x ? m[i][j] : x;                                                     \
            mx[i] = x;                                                                             \
        }                                                                                          \
    }

TREE8(tree8, v4f, v4i, 4, )
#ifdef OZ_SIMD_AVX2
TREE8(tree8_avx2, v8f, v8i, 8, OZ_AVX2)
#endif

void oz_taylor_tree8(const float *const *rows, uint32_t W, bool avx2, float *out, float mx[5])
{
#ifdef OZ_SIMD_AVX2
    if (avx2) {
        tree8_avx2(rows, W, out, mx);
        return;
    }
#endif
    (void)avx2;
    tree8(rows, W, out, mx);
}
