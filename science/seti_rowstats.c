/*
 * seti_rowstats.c - a spectrum's powers, and their blocked total and first
 * maximum, v8's to the bit, in one pass.
 *
 * Powers: |X|^2 = re^2 + im^2 of every transformed sample, in float, as v8
 * squares them.  The compiler's own vectorisation of that loop fell back to
 * scalar code at run time (it cannot know the rows do not overlap); the
 * AVX2 route deinterleaves eight samples at a time.
 *
 * Every spectrum the seti mode computes is searched for a spike: v8 sums its
 * powers in blocks (each block in float from 0, in order; the blocks' sums
 * added in order: oz_seti_blocked_total) and finds its first strongest bin
 * from 1 up (oz_seti_first_max).  Those two scalar scans, branchy and one
 * chain of adds per block, were an eighth of the reference unit's time.
 *
 * The AVX2 pass reads eight blocks side by side, eight floats of each at a
 * time, and transposes the 8 x 8 tile in registers, so that lane j of the
 * running sum is block j and its floats are added in v8's order: the total
 * is the scalar one to the bit.  The maximum is kept on the transposed
 * tile in two lane sets (even and odd columns), each lane seeing its
 * indices in increasing order, so that strictly greater replaces and each
 * lane holds its first maximum; the lowest index wins among equal maxima,
 * which is the first.  Rows with fewer
 * than eight blocks, or blocks not a multiple of eight floats, take the
 * scalar route, which gives the same answer.
 *
 * oz_seti_power_stats does both in one pass where the row's powers are
 * made: each tile's eight rows of eight powers are squared from the
 * transformed samples as the powers' own pass squares them, stored, and
 * summed and compared from the registers, so the powers are not read back
 * (the row path's squaring and spike statistics were two passes over each
 * spectrum, 6 % of the reference unit).
 */
#include "seti.h"
#include "simd.h"

#ifdef OZ_SIMD_AVX2
OZ_AVX2 static inline void transpose8(__m256 r[8])
{
    __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    __m256 s0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
    __m256 s1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
    __m256 s2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
    __m256 s3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
    __m256 s4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));
    __m256 s5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
    __m256 s6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));
    __m256 s7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
    r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
    r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
    r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
    r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
    r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
    r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
    r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
    r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

OZ_AVX2 static void powers_avx2(const float *restrict iq, float *restrict out, size_t n)
{
    size_t k = 0;
    for (; k + 8 <= n; k += 8) {
        __m256 a = _mm256_loadu_ps(iq + 2 * k), b = _mm256_loadu_ps(iq + 2 * k + 8);
        __m256 a2 = _mm256_mul_ps(a, a), b2 = _mm256_mul_ps(b, b);
        /* hadd pairs (re^2 + im^2) within 128-bit halves: a0 b0 a1 b1 */
        __m256 h = _mm256_hadd_ps(a2, b2);
        h = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(h), 0xd8));
        _mm256_storeu_ps(out + k, h);
    }
    for (; k < n; k++)
        out[k] = iq[2 * k] * iq[2 * k] + iq[2 * k + 1] * iq[2 * k + 1];
}

/* Eight powers from eight interleaved samples, as powers_avx2. */
OZ_AVX2 static inline __m256 power8(const float *iq)
{
    __m256 a = _mm256_loadu_ps(iq), b = _mm256_loadu_ps(iq + 8);
    __m256 h = _mm256_hadd_ps(_mm256_mul_ps(a, a), _mm256_mul_ps(b, b));
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(h), 0xd8));
}

/* The statistics of x, or with iq (x NULL) of iq's powers, stored into out
 * as they are made. */
OZ_AVX2 static inline __attribute__((always_inline)) float stats_avx2(const float *x,
                                                                      const float *iq, float *out,
                                                                      uint32_t L, uint32_t blk,
                                                                      float *total, uint32_t *at)
{
    const __m256i jb =
        _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32((int)blk));
    __m256 top[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    __m256i idx[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};
    float sum = 0.0f;
    for (uint32_t base = 0; base < L; base += 8 * blk) {
        __m256 part = _mm256_setzero_ps();
        for (uint32_t i = 0; i < blk; i += 8) {
            __m256 r[8];
            for (uint32_t j = 0; j < 8; j++) {
                size_t o = (size_t)base + (size_t)j * blk + i;
                if (iq) {
                    r[j] = power8(iq + 2 * o);
                    _mm256_storeu_ps(out + o, r[j]);
                } else {
                    r[j] = _mm256_loadu_ps(x + o);
                }
            }
            transpose8(r); /* r[t], lane j: x[base + j blk + i + t] */
            for (uint32_t t = 0; t < 8; t++) {
                part = _mm256_add_ps(part, r[t]);
                __m256 m = r[t];
                if (base + i + t == 0) /* bin 0 is not searched: 0 never replaces */
                    m = _mm256_blend_ps(m, _mm256_setzero_ps(), 1);
                __m256 gt = _mm256_cmp_ps(m, top[t & 1], _CMP_GT_OQ);
                __m256i k = _mm256_add_epi32(jb, _mm256_set1_epi32((int)(base + i + t)));
                top[t & 1] = _mm256_blendv_ps(top[t & 1], m, gt);
                idx[t & 1] = _mm256_castps_si256(
                    _mm256_blendv_ps(_mm256_castsi256_ps(idx[t & 1]), _mm256_castsi256_ps(k), gt));
            }
        }
        float p[8];
        _mm256_storeu_ps(p, part);
        for (uint32_t j = 0; j < 8; j++)
            sum += p[j];
    }
    *total = sum;

    /* each lane saw its indices in increasing order, so holds its first
     * maximum; of equal maxima the lowest index is the row's first */
    float best = 0.0f;
    uint32_t where = 0;
    for (int a = 0; a < 2; a++) {
        float v[8];
        uint32_t k[8];
        _mm256_storeu_ps(v, top[a]);
        _mm256_storeu_si256((__m256i *)k, idx[a]);
        for (int j = 0; j < 8; j++)
            if (v[j] > best || (v[j] == best && best > 0.0f && k[j] < where)) {
                best = v[j];
                where = k[j];
            }
    }
    *at = where;
    return best;
}

OZ_AVX2 static float row_stats_avx2(const float *x, uint32_t L, uint32_t blk, float *total,
                                    uint32_t *at)
{
    return stats_avx2(x, NULL, NULL, L, blk, total, at);
}

OZ_AVX2 static float power_stats_avx2(const float *iq, float *out, uint32_t L, uint32_t blk,
                                      float *total, uint32_t *at)
{
    return stats_avx2(NULL, iq, out, L, blk, total, at);
}
#endif

void oz_seti_powers(const float *restrict iq, float *restrict out, size_t n, bool avx2)
{
#ifdef OZ_SIMD_AVX2
    if (avx2) {
        powers_avx2(iq, out, n);
        return;
    }
#else
    (void)avx2;
#endif
    for (size_t k = 0; k < n; k++)
        out[k] = iq[2 * k] * iq[2 * k] + iq[2 * k + 1] * iq[2 * k + 1];
}

float oz_seti_row_stats(const float *x, uint32_t L, uint32_t blk, bool avx2, float *total,
                        uint32_t *at)
{
#ifdef OZ_SIMD_AVX2
    if (avx2 && blk % 8 == 0 && L % (8 * blk) == 0)
        return row_stats_avx2(x, L, blk, total, at);
#else
    (void)avx2;
#endif
    *total = oz_seti_blocked_total(x, L / blk, blk);
    return oz_seti_first_max(x, L, at);
}

float oz_seti_power_stats(const float *restrict iq, float *restrict out, uint32_t L, uint32_t blk,
                          bool avx2, float *total, uint32_t *at)
{
#ifdef OZ_SIMD_AVX2
    if (avx2 && blk % 8 == 0 && L % (8 * blk) == 0)
        return power_stats_avx2(iq, out, L, blk, total, at);
#endif
    oz_seti_powers(iq, out, L, avx2);
    return oz_seti_row_stats(out, L, blk, avx2, total, at);
}
