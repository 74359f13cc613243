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

#include "seti_gamma.h"

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
