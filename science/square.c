/*
 * square.c - power spectra from transforms: |X|^2 of each bin, with each
 * spectrum's mean power and strongest bin found in the same pass.
 *
 * Ozma's search (search.c) squares every spectrum it transforms, chunk by
 * chunk while the transform is still in cache, and the spikes need only
 * each spectrum's peak, so the peak is found here rather than by a second
 * scan.  Bin 0 (DC) is left out of the peak.  Eight lane sums and maxima run
 * side by side (bins k = j mod 8 in lane j) and are combined in a fixed
 * order, so the AVX2 copy (simd.h) gives the portable one's numbers to the
 * bit.
 */
#include <string.h>

#include "search.h"
#include "simd.h"

/* Four complex values at x squared into p; returns the powers. */
static inline v4f square4(const float *x, float *p)
{
    v4f lo, hi;
    memcpy(&lo, x, sizeof lo);
    memcpy(&hi, x + 4, sizeof hi);
    v4f re = __builtin_shufflevector(lo, hi, 0, 2, 4, 6);
    v4f im = __builtin_shufflevector(lo, hi, 1, 3, 5, 7);
    v4f v = re * re + im * im;
    memcpy(p, &v, sizeof v);
    return v;
}

static inline v4f vmax4(v4f a, v4f b)
{
    v4i gt = b > a;
    return (v4f)(((v4i)a & ~gt) | ((v4i)b & gt));
}

/* The largest of the eight lane maxima. */
static inline float lane_max(const float mx[8])
{
    float m = mx[0];
    for (int j = 1; j < 8; j++)
        m = mx[j] > m ? mx[j] : m;
    return m;
}

/* One spectrum of L complex values at row squared into p, with eight running
 * sums and maxima: lane j covers bins k = j (mod 8); bin 0 (DC) is left out
 * of the maxima.  Four lanes to a register, two registers apart so that
 * consecutive iterations do not wait on each other.  Returns the first bin
 * holding the maximum (a second pass, four bins at a time). */
static uint32_t square_row(const float *row, float *p, uint32_t L, float acc[8], float mx[8])
{
    v4f a0 = square4(row, p), a1 = square4(row + 8, p + 4);
    v4f m0 = a0, m1 = a1;
    m0[0] = -1;
    for (uint32_t k = 8; k < L; k += 8) { /* L is a power of two >= 8 */
        v4f v0 = square4(row + 2 * k, p + k);
        v4f v1 = square4(row + 2 * k + 8, p + k + 4);
        a0 += v0;
        a1 += v1;
        m0 = vmax4(m0, v0);
        m1 = vmax4(m1, v1);
    }
    memcpy(acc, &a0, sizeof a0);
    memcpy(acc + 4, &a1, sizeof a1);
    memcpy(mx, &m0, sizeof m0);
    memcpy(mx + 4, &m1, sizeof m1);
    float m = lane_max(mx);
    v4f mv = {m, m, m, m};
    for (uint32_t k = 0; k < L; k += 4) {
        v4f v;
        memcpy(&v, p + k, sizeof v);
        v4i eq = v == mv;
        if (eq[0] | eq[1] | eq[2] | eq[3]) {
            for (uint32_t j = 0; j < 4; j++)
                if (eq[j] && k + j != 0)
                    return k + j;
        }
    }
    return 1;
}

#ifdef OZ_SIMD_AVX2
/* square_row with AVX2: the same eight lanes in one register, each lane doing
 * the same operations in the same order, so the sums and maxima are
 * bit-identical to the four-lane path.  The deinterleave uses in-lane
 * shuffles (bins 0 1 4 5 2 3 6 7) and one permute back to bin order; each
 * lane also keeps the first bin holding its maximum, so the peak's bin comes
 * out of the same pass instead of a second scan. */
OZ_AVX2 static uint32_t square_row_avx2(const float *row, float *p, uint32_t L, float acc[8],
                                        float mx[8])
{
    const v8i step = {8, 8, 8, 8, 8, 8, 8, 8};
    v8f a = {0}, m = {0};
    v8i at = {0, 1, 2, 3, 4, 5, 6, 7}, best = at;
    for (uint32_t k = 0; k < L; k += 8) {
        v8f lo, hi;
        memcpy(&lo, row + 2 * k, sizeof lo);
        memcpy(&hi, row + 2 * k + 8, sizeof hi);
        v8f re = __builtin_shufflevector(lo, hi, 0, 2, 8, 10, 4, 6, 12, 14);
        v8f im = __builtin_shufflevector(lo, hi, 1, 3, 9, 11, 5, 7, 13, 15);
        v8f q = re * re + im * im;
        v8f v = __builtin_shufflevector(q, q, 0, 1, 4, 5, 2, 3, 6, 7);
        memcpy(p + k, &v, sizeof v);
        if (k == 0) {
            a = v;
            m = v;
            m[0] = -1;
        } else {
            a += v;
            v8i gt = v > m;
            m = (v8f)(((v8i)m & ~gt) | ((v8i)v & gt));
            best = (best & ~gt) | (at & gt);
        }
        at += step;
    }
    memcpy(acc, &a, sizeof a);
    memcpy(mx, &m, sizeof m);
    float top = lane_max(mx);
    uint32_t km = L;
    for (int j = 0; j < 8; j++)
        if (mx[j] == top && (uint32_t)best[j] < km)
            km = (uint32_t)best[j];
    return km;
}
#endif

/* |X|^2 of `rows` spectra into power (or, when it is NULL, each in turn into
 * row), each spectrum's mean, strongest bin (DC excluded) and its index into
 * the per-spectrum arrays; returns the sum of all powers.  The pass over the
 * bins is SIMD (square_row, AVX2 where the CPU has it); its eight lane sums
 * are combined in double in a fixed order. */
double oz_spectra_square(const float *x, float *power, float *row_out, float *mean, float *max,
                         uint32_t *argmax, uint32_t L, uint32_t rows, bool avx2)
{
    (void)avx2; /* without AVX2 copies (simd.h) */
    double total = 0;
    for (uint32_t s = 0; s < rows; s++) {
        const float *row = x + 2 * (size_t)s * L;
        float *p = power ? power + (size_t)s * L : row_out;
        float acc[8], mx[8];
        uint32_t km;
#ifdef OZ_SIMD_AVX2
        if (avx2)
            km = square_row_avx2(row, p, L, acc, mx);
        else
#endif
            km = square_row(row, p, L, acc, mx);
        for (int j = 0; j < 4; j++)
            acc[j] += acc[j + 4];
        double sum = ((double)acc[0] + acc[1]) + ((double)acc[2] + acc[3]);
        mean[s] = (float)(sum / L);
        max[s] = lane_max(mx);
        argmax[s] = km;
        total += sum;
    }
    return total;
}
