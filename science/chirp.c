/*
 * chirp.c - incremental dechirping: out[m] = x[m] * exp(-i*pi*c*t^2) with
 * t = (first + m) / fs, so a unit can be dechirped piece by piece; an
 * optional frequency shift rides along at no extra cost (half-bin spectra).
 *
 * No sin/cos per sample: the phasor is advanced by complex multiplication.
 * Sixteen independent lanes (samples n, n+16, n+32, ...) each keep a phasor
 * p and a step w with p(n+16) = p(n) * w(n) and w(n+16) = w(n) * R, R
 * constant, because the phase difference over 16 samples grows linearly in
 * n.  Where the CPU has AVX2 the lanes run eight to a register (the caller
 * says, simd.h), else four.  The
 * lanes are GCC/clang vector values (real and imaginary parts apart), so the
 * loop is SIMD on any target without intrinsics.
 *
 * Float rounding in the recurrence grows quadratically with the number of
 * steps, so every OZ_DECHIRP_BLOCK samples the float lanes restart from
 * phasors kept in double precision, which advance block to block by the same
 * trick one level up (P(m+B) = P(m) E(m), E(m+B) = E(m) G, W(m+B) = W(m) H)
 * at three double complex products per lane per block; only the first block
 * of a call needs sin/cos.  The error stays below 1e-4 of the sample
 * amplitude over any unit (tests/unit/test_sci_chirp.c).
 *
 * Rates +c and -c: every phasor of -c is exactly the conjugate of +c's (the
 * seeds come from an odd expc, and conjugation commutes with each rounded
 * product), so oz_dechirp_pair makes both outputs from one set of lanes,
 * x*p and x*conj(p) sharing their four products.
 */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "internal.h"
#include "chirp.h"
#include "simd.h"

#define LANES 16
#define OZ_DECHIRP_BLOCK 512

/* A complex number in double precision: the block-to-block phasors. */
typedef struct cplx {
    double re, im;
} cplx;

static cplx cmul(cplx x, cplx y)
{
    return (cplx){x.re * y.re - x.im * y.im, x.re * y.im + x.im * y.re};
}

/* exp(-2*pi*i*cycles), |cycles| reduced to [0, 1) first.  Odd in cycles
 * to the last bit (expc(-c) is exactly the conjugate of expc(c)), so that a
 * negative rate's phasors are exactly the conjugates of the positive one's
 * and oz_dechirp_pair gives what two oz_dechirp calls give. */
static cplx expc(double cycles)
{
    bool neg = cycles < 0;
    double c = neg ? -cycles : cycles;
    c -= floor(c);
    double ph = -2.0 * OZ_PI * c;
    cplx r = {cos(ph), sin(ph)};
    if (neg)
        r.im = -r.im;
    return r;
}

/* Multiplies 4 interleaved complex samples at x by the phasors (pr, pi)
 * into out and, when out2 is not NULL, by their conjugates into out2. */
static inline void apply(const float *restrict x, float *restrict out, float *restrict out2, v4f pr,
                         v4f pi)
{
    v4f lo, hi;
    memcpy(&lo, x, sizeof lo);
    memcpy(&hi, x + 4, sizeof hi);
    v4f xr = __builtin_shufflevector(lo, hi, 0, 2, 4, 6);
    v4f xi = __builtin_shufflevector(lo, hi, 1, 3, 5, 7);
    v4f a = xr * pr, b = xi * pi, c = xr * pi, d = xi * pr;
    v4f yr = a - b, yi = c + d;
    lo = __builtin_shufflevector(yr, yi, 0, 4, 1, 5);
    hi = __builtin_shufflevector(yr, yi, 2, 6, 3, 7);
    memcpy(out, &lo, sizeof lo);
    memcpy(out + 4, &hi, sizeof hi);
    if (out2) { /* x times conj(p): (a + b, d - c), exactly as with -pi */
        v4f zr = a + b, zi = d - c;
        lo = __builtin_shufflevector(zr, zi, 0, 4, 1, 5);
        hi = __builtin_shufflevector(zr, zi, 2, 6, 3, 7);
        memcpy(out2, &lo, sizeof lo);
        memcpy(out2 + 4, &hi, sizeof hi);
    }
}

/* (p, w) <- (p * w, w * R) for four lanes. */
static inline void advance(v4f *pr, v4f *pi, v4f *wr, v4f *wi, float rr, float ri)
{
    v4f npr = *pr * *wr - *pi * *wi;
    v4f npi = *pr * *wi + *pi * *wr;
    v4f nwr = *wr * rr - *wi * ri;
    v4f nwi = *wr * ri + *wi * rr;
    *pr = npr;
    *pi = npi;
    *wr = nwr;
    *wi = nwi;
}

/* The exact (double) phasors of the eight lanes at a block start: P the
 * sample's phasor, W its 8-sample step, E the factor taking P to the next
 * block.  Phase of sample m: a m^2 + b m cycles. */
struct lanes {
    cplx P[LANES], W[LANES], E[LANES];
    cplx G, H; /* E and W advance by these per block */
};

static void lanes_seed(struct lanes *l, double a, double b, double m0)
{
    const double B = OZ_DECHIRP_BLOCK;
    for (int j = 0; j < LANES; j++) {
        double m = m0 + j;
        l->P[j] = expc(a * m * m + b * m);
        /* (m+16)^2 - m^2 = 32 m + 256 */
        l->W[j] = expc(a * (2.0 * LANES * m + (double)(LANES * LANES)) + b * LANES);
        /* (m+B)^2 - m^2 = 2 m B + B^2 */
        l->E[j] = expc(a * (2.0 * m * B + B * B) + b * B);
    }
    l->G = expc(a * 2.0 * B * B);
    l->H = expc(a * 2.0 * LANES * B);
}

static void lanes_next(struct lanes *l)
{
    for (int j = 0; j < LANES; j++) {
        l->P[j] = cmul(l->P[j], l->E[j]);
        l->E[j] = cmul(l->E[j], l->G);
        l->W[j] = cmul(l->W[j], l->H);
    }
}

/* One block of len samples (len a multiple of LANES) with the lanes' start
 * phasors, as four independent chains of four lanes so the multiplier
 * pipeline stays full; out2 (may be NULL) gets the conjugate rate. */
static void dechirp_block(const float *restrict x, float *restrict out, float *restrict out2,
                          size_t len, const struct lanes *l, float rr, float ri)
{
    v4f pr[4] = {{0}}, pi[4] = {{0}}, wr[4] = {{0}}, wi[4] = {{0}};
    for (int c = 0; c < 4; c++) {
        for (int j = 0; j < 4; j++) {
            pr[c][j] = (float)l->P[4 * c + j].re;
            pi[c][j] = (float)l->P[4 * c + j].im;
            wr[c][j] = (float)l->W[4 * c + j].re;
            wi[c][j] = (float)l->W[4 * c + j].im;
        }
    }
    for (size_t i = 0; i < len; i += LANES) {
        __builtin_prefetch(x + 2 * i + 1024); /* as in the AVX2 block below */
        __builtin_prefetch(x + 2 * i + 1024 + 16);
        for (int c = 0; c < 4; c++) {
            apply(x + 2 * i + 8 * c, out + 2 * i + 8 * c, out2 ? out2 + 2 * i + 8 * c : NULL, pr[c],
                  pi[c]);
            advance(&pr[c], &pi[c], &wr[c], &wi[c], rr, ri);
        }
    }
}

#ifdef OZ_SIMD_AVX2
/* The same block with AVX2: two chains of eight lanes.  Every lane does
 * exactly the operations of the four-lane path in the same order (no fused
 * multiply-add), so both paths give bit-identical samples and a checkpoint
 * taken on one machine resumes identically on the same machine whatever it
 * dispatches to.  Kept in one function: helpers with another target would
 * not inline, and eight-float values must not cross a call. */
OZ_AVX2 static void dechirp_block_avx2(const float *restrict x, float *restrict out,
                                       float *restrict out2, size_t len, const struct lanes *l,
                                       float rr, float ri)
{
    /* Register position q holds sample 8c + order[q]: the order that the
     * in-lane shuffles below produce, so no shuffle crosses 128-bit halves. */
    static const int order[8] = {0, 1, 4, 5, 2, 3, 6, 7};
    v8f pr[2] = {{0}}, pi[2] = {{0}}, wr[2] = {{0}}, wi[2] = {{0}};
    for (int c = 0; c < 2; c++) {
        for (int q = 0; q < 8; q++) {
            int j = 8 * c + order[q];
            pr[c][q] = (float)l->P[j].re;
            pi[c][q] = (float)l->P[j].im;
            wr[c][q] = (float)l->W[j].re;
            wi[c][q] = (float)l->W[j].im;
        }
    }
    for (size_t i = 0; i < len; i += LANES) {
        /* 4 KiB ahead: on a loaded machine the hardware's own prefetch
         * alone leaves the loop waiting on memory (bench_kernel) */
        __builtin_prefetch(x + 2 * i + 1024);
        __builtin_prefetch(x + 2 * i + 1024 + 16);
        for (int c = 0; c < 2; c++) {
            /* lanes 8c..8c+7 are samples i+8c .. i+8c+7: 16 floats */
            const float *xs = x + 2 * i + 16 * c;
            float *os = out + 2 * i + 16 * c;
            v8f lo, hi;
            memcpy(&lo, xs, sizeof lo);
            memcpy(&hi, xs + 8, sizeof hi);
            /* xr = samples 0 1 4 5 | 2 3 6 7 (shufps), and back (unpck) */
            v8f xr = __builtin_shufflevector(lo, hi, 0, 2, 8, 10, 4, 6, 12, 14);
            v8f xi = __builtin_shufflevector(lo, hi, 1, 3, 9, 11, 5, 7, 13, 15);
            v8f a = xr * pr[c], b = xi * pi[c], d = xi * pr[c], e = xr * pi[c];
            v8f yr = a - b, yi = e + d;
            lo = __builtin_shufflevector(yr, yi, 0, 8, 1, 9, 4, 12, 5, 13);
            hi = __builtin_shufflevector(yr, yi, 2, 10, 3, 11, 6, 14, 7, 15);
            memcpy(os, &lo, sizeof lo);
            memcpy(os + 8, &hi, sizeof hi);
            if (out2) { /* the conjugate rate: (a + b, d - e), as apply() */
                v8f zr = a + b, zi = d - e;
                lo = __builtin_shufflevector(zr, zi, 0, 8, 1, 9, 4, 12, 5, 13);
                hi = __builtin_shufflevector(zr, zi, 2, 10, 3, 11, 6, 14, 7, 15);
                memcpy(out2 + 2 * i + 16 * c, &lo, sizeof lo);
                memcpy(out2 + 2 * i + 16 * c + 8, &hi, sizeof hi);
            }
            v8f npr = pr[c] * wr[c] - pi[c] * wi[c];
            v8f npi = pr[c] * wi[c] + pi[c] * wr[c];
            v8f nwr = wr[c] * rr - wi[c] * ri;
            v8f nwi = wr[c] * ri + wi[c] * rr;
            pr[c] = npr;
            pi[c] = npi;
            wr[c] = nwr;
            wi[c] = nwi;
        }
    }
}
#endif

/* oz_dechirp, and with out2 (shift 0 only) the rate -chirp as well. */
static void dechirp(const float *x, float *out, float *out2, size_t first, size_t n, double fs,
                    double chirp, double shift_hz, bool avx2)
{
    if (chirp == 0.0 && shift_hz == 0.0) {
        memcpy(out, x, 2 * n * sizeof *x);
        if (out2)
            memcpy(out2, x, 2 * n * sizeof *x);
        return;
    }
    /* phase in cycles of sample m: a m^2 + b m, a = c / (2 fs^2), b = shift / fs */
    const double a = chirp / (2.0 * fs * fs), b = shift_hz / fs;
    cplx r = expc(a * 2.0 * LANES * LANES);
    const float rr = (float)r.re, ri = (float)r.im;
    size_t whole = n / LANES * LANES;
    struct lanes l;
    lanes_seed(&l, a, b, (double)first);
    (void)avx2; /* without AVX2 copies (simd.h) */
    for (size_t m = 0; m < whole; m += OZ_DECHIRP_BLOCK) {
        size_t len = whole - m < OZ_DECHIRP_BLOCK ? whole - m : OZ_DECHIRP_BLOCK;
        float *o2 = out2 ? out2 + 2 * m : NULL;
#ifdef OZ_SIMD_AVX2
        if (avx2)
            dechirp_block_avx2(x + 2 * m, out + 2 * m, o2, len, &l, rr, ri);
        else
#endif
            dechirp_block(x + 2 * m, out + 2 * m, o2, len, &l, rr, ri);
        lanes_next(&l);
    }
    for (size_t m = whole; m < n; m++) { /* a ragged end, exactly */
        double t = (double)(first + m);
        cplx p = expc(a * t * t + b * t);
        float pr = (float)p.re, pi = (float)p.im;
        float xr = x[2 * m], xi = x[2 * m + 1];
        float pa = xr * pr, pb = xi * pi, pc = xr * pi, pd = xi * pr;
        out[2 * m] = pa - pb;
        out[2 * m + 1] = pc + pd;
        if (out2) {
            out2[2 * m] = pa + pb;
            out2[2 * m + 1] = pd - pc;
        }
    }
}

void oz_dechirp(const float *x, float *out, size_t first, size_t n, double fs, double chirp,
                double shift_hz, bool avx2)
{
    dechirp(x, out, NULL, first, n, fs, chirp, shift_hz, avx2);
}

void oz_dechirp_pair(const float *x, float *out, float *out_neg, size_t first, size_t n, double fs,
                     double chirp, bool avx2)
{
    dechirp(x, out, out_neg, first, n, fs, chirp, 0.0, avx2);
}
