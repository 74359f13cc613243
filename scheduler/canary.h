/*
 * canary.h - known-answer checks hidden in units (DESIGN.md §4b; issue 18).
 *
 * At load, a configured fraction (canary_fraction) of an adaptive
 * dataset's units get a synthetic signal added to their samples: a tone of
 * random kind (constant, a Gaussian beam crossing or a pulse train: what
 * the kernel's spike, line, Gaussian and pulse detectors find), frequency,
 * drift and time, at an amplitude well above every detector's threshold.
 * The unit file keeps its format and size, so nothing tells a host which
 * units carry one; its truth is kept by the server alone (the canaries
 * table, which no public view reads).
 *
 * A result of such a unit must report the canary: some signal at an FFT
 * length of at least a quarter of fft_max on its track (frequency at the
 * signal's time within two bins of that length, plus the drift over one
 * spectrum and a chirp step's worth).  One that does not was not
 * computed, and is invalid whether it was out alone or replicated
 * (validate.c).  Before assimilation every signal on the track is removed
 * (jobs.c), so a canary never reaches the signal table, the API or the
 * pages.  No SQL and no HTTP here.
 */
#ifndef OZ_SCHED_CANARY_H
#define OZ_SCHED_CANARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ozma_science.h"

#define OZ_CANARY_JSON_MAX 1024 /* bytes of a canary's truth as JSON */

typedef struct oz_canary {
    oz_envelope env;                       /* OZ_ENV_CONST, OZ_ENV_GAUSS or OZ_ENV_PULSES */
    double offset_hz;                      /* from the unit's centre, at t = 0 */
    double chirp_hz_s;                     /* drift */
    double snr;                            /* amplitude squared over the unit's sample power */
    double t0, sigma_s, period_s, width_s; /* as oz_tone */
} oz_canary;

/* Draws a canary for a unit of n samples at sample_rate searched under
 * cfg: kind, frequency (inside +-0.4 fs), drift (inside half the searched
 * range), time and strength.  u[0..5] are independent uniform draws from
 * [0, 1) (the caller's random source). */
void oz_canary_draw(const oz_sci_config *cfg, size_t n, double sample_rate, const double u[6],
                    oz_canary *out);

/* Adds the canary to n complex samples (2n floats); its amplitude is set
 * from the samples' own power, so it stands out of any noise level. */
void oz_canary_inject(const oz_canary *c, float *iq, size_t n, double sample_rate);

/* The canary as one JSON object text into buf; OZ_SCHED_ELIMIT when it
 * does not fit. */
int oz_canary_to_text(const oz_canary *c, char *buf, size_t len);

/* Parses a canary's truth (oz_canary_to_text); OZ_SCHED_EINVAL with why. */
int oz_canary_parse(const char *text, oz_canary *out, char *why, size_t whylen);

/* Whether signal g of a unit centred at center_hz lies on the canary's
 * track. */
bool oz_canary_matches(const oz_canary *c, const oz_signal *g, double center_hz, double sample_rate,
                       const oz_sci_config *cfg);

/* Whether result r reports the canary (a signal of it on its track). */
bool oz_canary_found(const oz_canary *c, const oz_sci_result *r, double center_hz,
                     double sample_rate, const oz_sci_config *cfg);

#endif
