/*
 * seti_gamma.h - SETI@home v8's pulse threshold from the incomplete gamma
 * function (seti_gamma.c), internal to science/: the pulse search uses it,
 * the tests check it against independent values.
 *
 * A fold of a segment adds n powers per profile point; in exponential noise
 * of mean 1 such a sum is Gamma(n, 1) distributed, so the chance that one of
 * a profile's m points exceeds x is about m Q(n, x).  v8 thresholds a fold
 * at the x where log Q(n, x) = -pulse_thresh - log m, found numerically to
 * within 1e-4 of that log, then lowers it towards n by pulse_display_thresh
 * for the candidates it considers (its t_funct).  Every value here is in
 * v8's own float/double mix so that the thresholds come out as v8's do.
 */
#ifndef OZMA_SCIENCE_SETI_GAMMA_H
#define OZMA_SCIENCE_SETI_GAMMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* log Q(a, x), Q the regularised upper incomplete gamma function, for
 * x >= a + 1 (a continued fraction), rounded to float as v8's lcgf is. */
double oz_seti_lcgf(double a, double x);
/* The same with log Gamma(a) given (oz_seti_gammln), for callers that
 * evaluate many x at one a (the Gaussian score). */
double oz_seti_lcgf_g(double a, double x, double gln);
/* oz_seti_lcgf_g for n (a[j], x[j], gln[j]) into out[j], bit for bit the
 * same values, eight at a time side by side (avx2 picks the AVX2 copy). */
void oz_seti_lcgf_many(const double *a, const double *x, const double *gln, double *out, size_t n,
                       bool avx2);
/* log Gamma(a), a > 0, as v8 computes it (Lanczos, six terms). */
double oz_seti_gammln(double a);

/* The x > a + 1 at which log Q(a, x) = y (y < 0), to within |frac_err * y|
 * in y: v8's invert_lcgf, bracketed Newton steps from the same start.
 * 0 when it does not converge. */
float oz_seti_invert_lcgf(float y, float a, float frac_err);

/* v8's t_funct: the display threshold of a fold of n adds over a profile
 * of m points, as a multiple of the segment's mean power (compare the fold's
 * raw sums with it times the mean). */
float oz_seti_pulse_tfactor(double pulse_thresh, double display_thresh, uint32_t m, uint32_t n);

#endif /* OZMA_SCIENCE_SETI_GAMMA_H */
