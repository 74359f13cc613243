/*
 * chirp.h - dechirping, internal to science/ (see chirp.c).
 */
#ifndef OZMA_SCIENCE_CHIRP_H
#define OZMA_SCIENCE_CHIRP_H

#include <stdbool.h>
#include <stddef.h>

/* out[m] = x[m] * exp(-i*pi*chirp*t^2 - 2*pi*i*shift_hz*t), t = (first+m)/fs,
 * for n complex samples (interleaved floats), x holding samples
 * first..first+n-1 of the unit; x and out must not overlap.  A tone drifting
 * at +chirp Hz/s comes out steady at its frequency at t = 0 minus shift_hz.
 * avx2 (oz_simd_avx2) picks the AVX2 copy; the samples are the same. */
void oz_dechirp(const float *x, float *out, size_t first, size_t n, double fs, double chirp,
                double shift_hz, bool avx2);
/* x dechirped at +chirp into out and at -chirp into out_neg in one pass (the
 * second rate's phasors are the first's conjugates), bit-identical to
 * oz_dechirp at each rate with no shift, for half the reads and about half
 * the arithmetic. */
void oz_dechirp_pair(const float *x, float *out, float *out_neg, size_t first, size_t n, double fs,
                     double chirp, bool avx2);

#endif
