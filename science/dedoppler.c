/*
 * dedoppler.c - the Taylor tree: power summed along every drift line of a
 * spectrogram in n log2 n row operations instead of n^2.
 *
 * Input: n rows (n a power of two) of L powers, row s the spectrum at time s.
 * Output: row d (0 <= d < n) holds, for each start bin k, the sum over s of
 * row s at bin k + (a path drifting d bins from the first row to the last).
 * The path is Taylor's: a group of w rows drifting d is the first half
 * drifting d/2 (rounded down) from k, then the second half drifting d/2 from
 * k + ceil(d/2); it stays within half a bin of the straight line.  Bins wrap
 * modulo L: FFT bins are circular (bin L-1 is the neighbour of bin 0), so a
 * drift across the band edge is summed correctly.  Negative drifts are the
 * same tree on the bin-mirrored spectrogram (lines.c).
 */
#include "internal.h"

float *oz_taylor_tree(float *buf, float *tmp, uint32_t n, uint32_t L)
{
    float *in = buf, *out = tmp;
    for (uint32_t w = 2; w <= n; w *= 2) {
        uint32_t h = w / 2;
        for (uint32_t g = 0; g < n; g += w) {
            for (uint32_t d = 0; d < w; d++) {
                const float *a = in + (size_t)(g + d / 2) * L;
                const float *b = in + (size_t)(g + h + d / 2) * L;
                uint32_t shift = (d / 2 + (d & 1)) % L;
                float *o = out + (size_t)(g + d) * L;
                for (uint32_t k = 0; k < L - shift; k++)
                    o[k] = a[k] + b[k + shift];
                for (uint32_t k = L - shift; k < L; k++)
                    o[k] = a[k] + b[k + shift - L];
            }
        }
        float *t = in;
        in = out;
        out = t;
    }
    return in;
}
