/*
 * seti_gauss_chi.h - the Gaussian search's eight-lane vocabulary and its
 * chi-squares, eight (bin, centre) pairs at a time: internal to science/
 * and included by seti_gauss.c alone, which compiles chi_pairs twice, for
 * any CPU and for AVX2 (always-inline, so each copy gets its own
 * instructions; seti_fold.h does the same for the pulse search).
 *
 * Every lane does exactly the scalar code's operations in its order (IEEE
 * add, multiply, divide, square root and conversions round the same in a
 * lane as alone; no fused multiply-add), so a lane's numbers are bit for bit
 * the scalar code's (seti_gauss.c's chi_sq).
 */
#ifndef OZMA_SCIENCE_SETI_GAUSS_CHI_H
#define OZMA_SCIENCE_SETI_GAUSS_CHI_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "simd.h"

#define LANES 8

/* Macros, not functions: a 32-byte vector must not cross a call in code
 * built for the baseline ABI. */
#define SEL(m, a, b) ((v8f)(((v8i)(a) & (m)) | ((v8i)(b) & ~(m)))) /* m ? a : b */
#define LO4D(v) __builtin_convertvector(__builtin_shufflevector((v), (v), 0, 1, 2, 3), v4d)
#define HI4D(v) __builtin_convertvector(__builtin_shufflevector((v), (v), 4, 5, 6, 7), v4d)
#define TO8F(lo, hi)                                                                               \
    __builtin_shufflevector(__builtin_convertvector((lo), v4f),                                    \
                            __builtin_convertvector((hi), v4f), 0, 1, 2, 3, 4, 5, 6, 7)
#define TO8I(lo, hi)                                                                               \
    __builtin_shufflevector(__builtin_convertvector((lo), v4i),                                    \
                            __builtin_convertvector((hi), v4i), 0, 1, 2, 3, 4, 5, 6, 7)

/* r0 .. r7, rows of an 8 x 8 block, become its columns. */
#define SHUF(a, b, ...) __builtin_shufflevector((a), (b), __VA_ARGS__)
#define TRANSPOSE8(r0, r1, r2, r3, r4, r5, r6, r7)                                                 \
    do {                                                                                           \
        v8f t0_ = SHUF(r0, r1, 0, 8, 1, 9, 4, 12, 5, 13),                                          \
            t1_ = SHUF(r0, r1, 2, 10, 3, 11, 6, 14, 7, 15);                                        \
        v8f t2_ = SHUF(r2, r3, 0, 8, 1, 9, 4, 12, 5, 13),                                          \
            t3_ = SHUF(r2, r3, 2, 10, 3, 11, 6, 14, 7, 15);                                        \
        v8f t4_ = SHUF(r4, r5, 0, 8, 1, 9, 4, 12, 5, 13),                                          \
            t5_ = SHUF(r4, r5, 2, 10, 3, 11, 6, 14, 7, 15);                                        \
        v8f t6_ = SHUF(r6, r7, 0, 8, 1, 9, 4, 12, 5, 13),                                          \
            t7_ = SHUF(r6, r7, 2, 10, 3, 11, 6, 14, 7, 15);                                        \
        v8f u0_ = SHUF(t0_, t2_, 0, 1, 8, 9, 4, 5, 12, 13),                                        \
            u1_ = SHUF(t0_, t2_, 2, 3, 10, 11, 6, 7, 14, 15);                                      \
        v8f u2_ = SHUF(t1_, t3_, 0, 1, 8, 9, 4, 5, 12, 13),                                        \
            u3_ = SHUF(t1_, t3_, 2, 3, 10, 11, 6, 7, 14, 15);                                      \
        v8f u4_ = SHUF(t4_, t6_, 0, 1, 8, 9, 4, 5, 12, 13),                                        \
            u5_ = SHUF(t4_, t6_, 2, 3, 10, 11, 6, 7, 14, 15);                                      \
        v8f u6_ = SHUF(t5_, t7_, 0, 1, 8, 9, 4, 5, 12, 13),                                        \
            u7_ = SHUF(t5_, t7_, 2, 3, 10, 11, 6, 7, 14, 15);                                      \
        r0 = SHUF(u0_, u4_, 0, 1, 2, 3, 8, 9, 10, 11);                                             \
        r4 = SHUF(u0_, u4_, 4, 5, 6, 7, 12, 13, 14, 15);                                           \
        r1 = SHUF(u1_, u5_, 0, 1, 2, 3, 8, 9, 10, 11);                                             \
        r5 = SHUF(u1_, u5_, 4, 5, 6, 7, 12, 13, 14, 15);                                           \
        r2 = SHUF(u2_, u6_, 0, 1, 2, 3, 8, 9, 10, 11);                                             \
        r6 = SHUF(u2_, u6_, 4, 5, 6, 7, 12, 13, 14, 15);                                           \
        r3 = SHUF(u3_, u7_, 0, 1, 2, 3, 8, 9, 10, 11);                                             \
        r7 = SHUF(u3_, u7_, 4, 5, 6, 7, 12, 13, 14, 15);                                           \
    } while (0)

/* Eight lanes of square roots (IEEE, as sqrtf). */
#if defined(__SSE__)
#include <immintrin.h>
#define VSQRT8(v)                                                                                  \
    __builtin_shufflevector(                                                                       \
        (v4f)_mm_sqrt_ps((__m128)__builtin_shufflevector((v), (v), 0, 1, 2, 3)),                   \
        (v4f)_mm_sqrt_ps((__m128)__builtin_shufflevector((v), (v), 4, 5, 6, 7)), 0, 1, 2, 3, 4, 5, \
        6, 7)
#else
#define VSQRT8(v)                                                                                  \
    __extension__({                                                                                \
        v8f r_ = (v);                                                                              \
        for (int j_ = 0; j_ < LANES; j_++)                                                         \
            r_[j_] = sqrtf(r_[j_]);                                                                \
        r_;                                                                                        \
    })
#endif

/* chi_sq for n <= 8 pairs of M points of rebin spectra each: pair q's
 * points at x + q M, its weights at wt[q] (wt[q][i] = w[|i - t|]), its true
 * mean and peak in mean[q] and peak[q]; terms scratch for 2 LANES M floats.  Each pair's terms are
 * worked out eight points to a vector; the sums over points then run with one pair a lane (eight 8
 * x 8 blocks of terms turned over), in the scalar order, eight chains side by side instead of one.
 * Where no point of eight has pred > 1, noise is exactly 1 and dividing by it changes nothing: the
 * divisions are left out. */
static inline __attribute__((always_inline)) void
chi_pairs(int M, double rebin, size_t n, const float *x, const float *const *wt, const float *mean,
          const float *peak, float *terms, float *chi_out, float *null_out)
{
    for (size_t q = 0; q < LANES; q++) {
        float *tc = terms + q * (size_t)M, *tn = tc + (size_t)LANES * (size_t)M;
        if (q >= n) {
            memset(tc, 0, sizeof(float) * (size_t)M);
            memset(tn, 0, sizeof(float) * (size_t)M);
            continue;
        }
        const float *xq = x + q * (size_t)M, *wq = wt[q];
        const float mn = mean[q], pk = peak[q];
        int i = 0;
        for (; i + LANES <= M; i += LANES) {
            v8f wv, xv;
            OZ_LOAD(wv, wq + i);
            OZ_LOAD(xv, xq + i);
            v8f pred = mn + pk * wv;
            pred /= mn;
            v8i gt = pred > 1.0f;
            v8f r = xv / mn;
            v4d dlo = LO4D(r) - LO4D(pred), dhi = HI4D(r) - HI4D(pred);
            v8f dn = r - 1.0f;
            dn = dn * dn;
            v8f c, nv;
            v8i none = {0};
            if (__builtin_memcmp(&gt, &none, sizeof gt)) {
                v8f root = SEL(gt, pred, (v8f){0} + 1.0f) - 1.0f;
                root = VSQRT8(root);
                v4d nlo = 2.0 * LO4D(root) + 1.0, nhi = 2.0 * HI4D(root) + 1.0;
                c = TO8F(rebin * (dlo * dlo) / nlo, rebin * (dhi * dhi) / nhi);
                nv = TO8F(rebin * LO4D(dn) / nlo, rebin * HI4D(dn) / nhi);
            } else {
                c = TO8F(rebin * (dlo * dlo), rebin * (dhi * dhi));
                nv = TO8F(rebin * LO4D(dn), rebin * HI4D(dn));
            }
            OZ_STORE(tc + i, c);
            OZ_STORE(tn + i, nv);
        }
        for (; i < M; i++) { /* chi_sq's own steps */
            float pred = mn + pk * wq[i];
            pred /= mn;
            double signal = (double)pred;
            double noise = 2.0 * (double)sqrtf(fmaxf(pred, 1.0f) - 1.0f) + 1.0;
            float r = xq[i] / mn;
            double dfit = (double)r - signal;
            float dnul = r - 1.0f;
            tc[i] = (float)(rebin * (dfit * dfit) / noise);
            tn[i] = (float)(rebin * (double)(dnul * dnul) / noise);
        }
    }
    v8f sum[2] = {{0}, {0}};
    for (int k = 0; k < 2; k++) {
        const float *tk = terms + (size_t)k * LANES * (size_t)M;
        v8f acc = {0};
        int i = 0;
        for (; i + LANES <= M; i += LANES) {
            v8f r0, r1, r2, r3, r4, r5, r6, r7;
            OZ_LOAD(r0, tk + i);
            OZ_LOAD(r1, tk + (size_t)M + i);
            OZ_LOAD(r2, tk + 2 * (size_t)M + i);
            OZ_LOAD(r3, tk + 3 * (size_t)M + i);
            OZ_LOAD(r4, tk + 4 * (size_t)M + i);
            OZ_LOAD(r5, tk + 5 * (size_t)M + i);
            OZ_LOAD(r6, tk + 6 * (size_t)M + i);
            OZ_LOAD(r7, tk + 7 * (size_t)M + i);
            TRANSPOSE8(r0, r1, r2, r3, r4, r5, r6, r7);
            acc += r0;
            acc += r1;
            acc += r2;
            acc += r3;
            acc += r4;
            acc += r5;
            acc += r6;
            acc += r7;
        }
        for (; i < M; i++) {
            v8f col;
            for (int q = 0; q < LANES; q++)
                col[q] = tk[(size_t)q * (size_t)M + (size_t)i];
            acc += col;
        }
        sum[k] = acc / (float)M;
    }
    OZ_STORE(chi_out, sum[0]);
    OZ_STORE(null_out, sum[1]);
}

#endif /* OZMA_SCIENCE_SETI_GAUSS_CHI_H */
