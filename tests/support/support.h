/*
 * support.h - helpers shared by the test programs: synthetic units, small
 * configurations that run in milliseconds, and finding a signal in a result.
 */
#ifndef OZMA_TEST_SUPPORT_H
#define OZMA_TEST_SUPPORT_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "ozma_science.h"

#define OZ_TEST_FS 9765.625 /* SETI@home's sample rate */
#define OZ_TEST_F0 1420.0e6 /* the hydrogen line, a plausible centre */

/* n complex samples of unit-power complex Gaussian noise from seed (zeros
 * when noise_power is 0); the caller frees. */
float *oz_test_noise(size_t n, uint64_t seed, double noise_power);

/* A small configuration: FFT 64..4096, chirp ±5 Hz/s, Gaussians, pulses and
 * triplets on, FFTW_ESTIMATE.  Searches a 2^16-sample unit in well under a
 * second. */
void oz_test_config_small(oz_sci_config *cfg);

/* A small seti-mode configuration: FFT 64..8192, +-4 Hz/s, v8's spike
 * threshold, a fixed pointing (no Gaussians), pulses and the
 * autocorrelation off, no cap on signals short of OZ_SCI_SIGNALS_MAX. */
void oz_test_config_seti_small(oz_sci_config *cfg);

/* Runs a whole search; fails the test on error. */
void oz_test_search(const oz_sci_config *cfg, const float *iq, size_t n, double fs, double f0,
                    oz_sci_result *out);

/* r as the JSON text of a result file (unit "u-0001"), malloc'd: what a
 * host uploads, for the validator's tests. */
char *oz_test_result_text(const oz_sci_result *r);

/* The strongest reported signal of type t with |freq_hz - freq| <= tol Hz
 * (freq absolute), or NULL. */
const oz_signal *oz_test_find(const oz_sci_result *r, oz_sig_type t, double freq, double tol);

/* Number of reported signals of type t. */
size_t oz_test_count(const oz_sci_result *r, oz_sig_type t);

/* Prints a result's signals to stderr (for failing tests). */
void oz_test_dump(const oz_sci_result *r);

#endif
