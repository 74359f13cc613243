/*
 * seti_gamma.c - SETI@home v8's pulse threshold: the inverse of the log of
 * the upper incomplete gamma function (seti_gamma.h says what it is for).
 *
 * v8 computes log Q(a, x) with Lentz's continued fraction for Q (valid for
 * x >= a + 1, where it converges fast) and log Gamma(a) with Lanczos' series
 * (g = 5, six terms), rounds the result to float, and inverts it with a
 * bracketed Newton iteration (Newton steps while they stay inside the
 * bracket and shrink fast enough, else bisection) whose derivative is a
 * central difference over +-0.1 in x.  The iteration stops once the log is
 * within frac_err of its target, so the threshold it returns is not the
 * exact root but where v8's path of iterates stops: this file follows that
 * path operation by operation, in the same float and double precision, so
 * that its thresholds are v8's to float rounding (the reference unit's best
 * pulse has thresh 13.4002161 where the exact root gives 13.40005).
 */
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>

#include "seti_gamma.h"
#include "simd.h"

#define ITMAX 10000

/* log Gamma(a), a > 0: Lanczos' approximation, relative error below 2e-10. */
double oz_seti_gammln(double a)
{
    static const double cof[6] = {76.18009172947146,  -86.50532032941677,    24.01409824083091,
                                  -1.231739572450155, 0.1208650973866179e-2, -0.5395239384953e-5};
    double y = a;
    double tmp = a + 5.5;
    tmp -= (a + 0.5) * log(tmp);
    double ser = 1.000000000190015;
    for (int j = 0; j < 6; j++) {
        y += 1.0;
        ser += cof[j] / y;
    }
    return -tmp + log(2.5066282746310005 * ser / a);
}

double oz_seti_lcgf_g(double a, double x, double gln)
{
    const double eps = DBL_EPSILON, fpmin = DBL_MIN / DBL_EPSILON;
    /* Lentz's method for the continued fraction
     * Q(a,x) Gamma(a) e^x x^-a = 1/(x+1-a-) 1(1-a)/(x+3-a-) 2(2-a)/(x+5-a-) ... */
    double b = x + 1.0 - a, c = 1.0 / fpmin, d = 1.0 / b, h = d;
    for (int i = 1; i <= ITMAX; i++) {
        double an = -i * (i - a);
        b += 2.0;
        d = an * d + b;
        if (fabs(d) < fpmin)
            d = fpmin;
        c = b + an / c;
        if (fabs(c) < fpmin)
            c = fpmin;
        d = 1.0 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1.0) < eps)
            break;
    }
    return (float)(log(h) - x + a * log(x) - gln);
}

/* lcgf_g for eight (a, x, gln) at once, a lane each: every lane does the
 * scalar loop's operations in its order (IEEE, no fused multiply-add) and
 * stops updating its h at the iteration where the scalar loop breaks, so
 * each result is bit for bit the scalar one; the loop runs until every lane
 * has stopped.  The chains of divisions are what the scalar loop waits on;
 * eight side by side (two vectors of four) fill the divider.  Lanes past n
 * are ignored. */
static inline __attribute__((always_inline)) void lcgf8(const double *a, const double *x,
                                                        const double *gln, double *out, size_t n)
{
    const double eps = DBL_EPSILON, fpmin = DBL_MIN / DBL_EPSILON;
    v4d va[2], b[2], c[2], d[2], h[2];
    v4l done[2];
    for (int v = 0; v < 2; v++)
        for (size_t l = 0; l < 4; l++) {
            size_t j = 4 * (size_t)v + l;
            va[v][l] = j < n ? a[j] : 1.0;
            b[v][l] = j < n ? x[j] : 3.0;
            done[v][l] = j < n ? 0 : -1;
        }
    const v4l sign = (v4l){0} + INT64_MAX;
    const v4d vmin = (v4d){0} + fpmin;
    for (int v = 0; v < 2; v++) {
        b[v] = b[v] + 1.0 - va[v];
        c[v] = (v4d){0} + 1.0 / fpmin;
        d[v] = 1.0 / b[v];
        h[v] = d[v];
    }
    for (int i = 1; i <= ITMAX; i++) {
        v4l all = done[0] & done[1];
        for (int v = 0; v < 2; v++) {
            v4d an = (double)-i * ((double)i - va[v]);
            b[v] += 2.0;
            v4d dv = an * d[v] + b[v];
            v4l small = (v4d)((v4l)dv & sign) < fpmin;
            dv = (v4d)(((v4l)vmin & small) | ((v4l)dv & ~small));
            v4d cv = b[v] + an / c[v];
            small = (v4d)((v4l)cv & sign) < fpmin;
            c[v] = (v4d)(((v4l)vmin & small) | ((v4l)cv & ~small));
            d[v] = 1.0 / dv;
            v4d del = d[v] * c[v];
            v4d hd = h[v] * del;
            h[v] = (v4d)(((v4l)h[v] & done[v]) | ((v4l)hd & ~done[v]));
            done[v] |= (v4d)((v4l)(del - 1.0) & sign) < eps;
        }
        all = done[0] & done[1];
        if ((all[0] & all[1] & all[2] & all[3]) != 0)
            break;
    }
    for (size_t j = 0; j < n && j < 8; j++) {
        double hj = h[j / 4][j % 4];
        out[j] = (float)(log(hj) - x[j] + a[j] * log(x[j]) - gln[j]);
    }
}

static void lcgf8_base(const double *a, const double *x, const double *gln, double *out, size_t n)
{
    lcgf8(a, x, gln, out, n);
}

#ifdef OZ_SIMD_AVX2
OZ_AVX2 static void lcgf8_avx2(const double *a, const double *x, const double *gln, double *out,
                               size_t n)
{
    lcgf8(a, x, gln, out, n);
}
#endif

void oz_seti_lcgf_many(const double *a, const double *x, const double *gln, double *out, size_t n,
                       bool avx2)
{
    (void)avx2;
    for (size_t j = 0; j < n; j += 8) {
#ifdef OZ_SIMD_AVX2
        if (avx2)
            lcgf8_avx2(a + j, x + j, gln + j, out + j, n - j);
        else
#endif
            lcgf8_base(a + j, x + j, gln + j, out + j, n - j);
    }
}

double oz_seti_lcgf(double a, double x)
{
    return oz_seti_lcgf_g(a, x, oz_seti_gammln(a));
}

/* d/dx log Q(a, x) by a central difference, as v8 takes it. */
static float dlcgf(float a, float x)
{
    return (float)((oz_seti_lcgf(a, x + 0.1f) - oz_seti_lcgf(a, x - 0.1f)) / 0.2f);
}

float oz_seti_invert_lcgf(float y, float a, float frac_err)
{
    /* "hi" is where log Q is above y (close to the mean a), "lo" where it
     * is below (far out in the tail): v8's names, kept for its update rule. */
    float xh = a + 1.5f;
    float xl = (float)(a - 2.0 * y * sqrt(a));
    float rts = 0.5f * (xh + xl);
    float dxold = (float)fabs(xh - xl);
    float dx = dxold;
    float f = (float)(oz_seti_lcgf(a, rts) - y);
    float df = dlcgf(a, rts);
    for (int j = 1; j <= ITMAX; j++) {
        if (((rts - xh) * df - f) * ((rts - xl) * df - f) >= 0.0 ||
            fabs(2.0 * f) > fabs(dxold * df)) {
            /* Newton would leave the bracket or converge slowly: bisect */
            dxold = dx;
            dx = 0.5f * (xh - xl);
            rts = xl + dx;
            if (xl == rts || xh == rts)
                return rts;
        } else {
            dxold = dx;
            dx = f / df;
            float prev = rts;
            rts -= dx;
            if (prev == rts)
                return rts;
        }
        f = (float)(oz_seti_lcgf(a, rts) - y);
        df = dlcgf(a, rts);
        if (fabs(f) < fabs(frac_err * y))
            return rts;
        if (f < 0.0)
            xl = rts;
        else
            xh = rts;
    }
    return 0.0f;
}

float oz_seti_pulse_tfactor(double pulse_thresh, double display_thresh, uint32_t m, uint32_t n)
{
    float nf = (float)n;
    float y = (float)(-pulse_thresh - log((float)m));
    float x = oz_seti_invert_lcgf(y, nf, 1e-4f);
    return (x - nf) * (float)display_thresh + nf;
}
