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
 * straight line.  Paths do not wrap: output column k is complete for
 * k < width - (n - 1), which is why callers feed tiles with an n - 1 column
 * margin (lines.c); the last columns hold partial sums.
 *
 * Only drifts 0..dmax are wanted by the line search (its residual drift
 * range), and row d of a group needs only row d/2 of its halves, so each
 * pass computes just the rows the next one reads: for dmax = n/2 that is
 * two thirds of the full tree, for small dmax far less.  Callers run it on
 * tiles of a few hundred kilobytes so that all log2 n passes stay in cache.
 */
#include "internal.h"

/* o[k] = a[k] + b[k] for k < len; the rows never overlap. */
static void add_rows(float *restrict o, const float *restrict a, const float *restrict b,
                     uint32_t len)
{
    for (uint32_t k = 0; k < len; k++)
        o[k] = a[k] + b[k];
}

float *oz_taylor_tree(const float *const *rows, float *buf, float *tmp, uint32_t n, uint32_t width,
                      uint32_t dmax)
{
    /* need[w]: the rows a group of w needs, 0..need; halving from the top
     * because row d of a group uses row d/2 of its halves */
    uint32_t need[32] = {0}, levels = 0;
    for (uint32_t w = n, d = dmax < n ? dmax : n - 1; w >= 2; w /= 2, d /= 2)
        need[levels++] = d;
    float *in = NULL, *out = tmp;
    for (uint32_t w = 2, level = levels; w <= n; w *= 2) {
        uint32_t h = w / 2, top = need[--level];
        for (uint32_t g = 0; g < n; g += w) {
            for (uint32_t d = 0; d <= top; d++) {
                /* the first pass reads the caller's rows in place */
                const float *a = in ? in + (size_t)(g + d / 2) * width : rows[g];
                const float *b = in ? in + (size_t)(g + h + d / 2) * width : rows[g + 1];
                uint32_t shift = d / 2 + (d & 1);
                if (shift > width)
                    shift = width;
                float *o = out + (size_t)(g + d) * width;
                add_rows(o, a, b + shift, width - shift);
                for (uint32_t k = width - shift; k < width; k++)
                    o[k] = a[k];
            }
        }
        in = out;
        out = out == tmp ? buf : tmp;
    }
    return in;
}
