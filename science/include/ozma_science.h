/*
 * ozma_science.h - the public interface of Ozma's signal-search kernel.
 *
 * The kernel is SETI@home's multibeam search (DESIGN.md §2): for every chirp
 * rate in a configured range it dechirps N complex samples, takes power
 * spectra at every FFT length of a configured set and looks for spikes,
 * Gaussians, pulses and triplets; at the longest length it also sums power
 * along drift lines across the whole unit (lines, lines.c).  It knows nothing of files, HTTP or
 * SQL: callers hand it samples and get back a result, which they may turn into JSON (the contract
 * between worker and scheduler) and compare with another replica's result (the validator).
 *
 * The search is a sequence of steps (one per chirp rate) whose whole state
 * lives in one opaque struct; after any step it can be saved to a string and
 * restored into a fresh search of the same unit, and finishes with exactly the
 * result an uninterrupted run gives.
 *
 * Errors are negative oz_sci_err codes; functions that can fail for a reason a
 * user must read also fill a caller-supplied `why` buffer with a sentence that
 * names the field or limit at fault.
 */
#ifndef OZMA_SCIENCE_H
#define OZMA_SCIENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define OZ_SCI_KERNEL_VERSION "ozma-kernel/1"

/* Limits on what the kernel accepts; a unit or configuration beyond them is
 * refused before any memory is allocated. */
#define OZ_SCI_FFT_MIN 8u
#define OZ_SCI_FFT_MAX 131072u
#define OZ_SCI_NLENS 15u              /* FFT lengths 8 .. 131072 */
#define OZ_SCI_SAMPLES_MAX (1u << 26) /* 64 Mi samples, 512 MiB of cf32 */
#define OZ_SCI_SIGNALS_MAX 1000u      /* upper bound for max_signals */
#define OZ_SCI_CHIRP_MAX 1000.0       /* Hz/s, upper bound for chirp_max */

typedef enum oz_sci_err {
    OZ_SCI_OK = 0,
    OZ_SCI_ENOMEM = -1,    /* out of memory */
    OZ_SCI_EINVAL = -2,    /* bad argument or impossible configuration */
    OZ_SCI_EPARSE = -3,    /* malformed JSON: config, result or checkpoint */
    OZ_SCI_EMISMATCH = -4, /* checkpoint belongs to another unit or config */
    OZ_SCI_EFFT = -5,      /* FFTW could not make a plan */
    OZ_SCI_EDISAGREE = -6, /* compare: the two results do not agree */
} oz_sci_err;

/* A sentence for an error code, for messages and logs. */
const char *oz_sci_strerror(int err);

/*
 * How every part of Ozma fails with a reason (STYLE.md §5), written once
 * here, in the layer every other part builds on: writes the printf-style
 * sentence into why (when why is not NULL and whylen > 0; truncated to fit)
 * and returns err, so failures read
 *     return oz_sci_fail(OZ_SCI_EINVAL, why, whylen, "fft_min %u: ...", n);
 * and a caller that must go on to clean up can ignore the value.  The other
 * parts spell it for their own codes: oz_wu_fail (workunits), oz_sched_fail
 * (scheduler), oz_wk_fail (worker) are this function.
 */
int oz_sci_fail(int err, char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

typedef enum oz_sig_type {
    OZ_SIG_SPIKE = 0,
    OZ_SIG_GAUSSIAN,
    OZ_SIG_PULSE,
    OZ_SIG_TRIPLET,
    OZ_SIG_LINE,
    OZ_SIG_AUTOCORR, /* an echo at a fixed delay (SETI@home v8's autocorrelation) */
    OZ_SIG_NTYPES
} oz_sig_type;

/* "spike", "gaussian", "pulse", "triplet", "line", "autocorr" (the JSON names, DESIGN.md §4). */
const char *oz_sig_type_name(oz_sig_type t);
/* Parses a JSON type name; OZ_SCI_EINVAL for an unknown one. */
int oz_sig_type_parse(const char *name, oz_sig_type *out);

/* "an object", "a string", ... ("nothing" for NULL): for the messages of
 * every strict JSON parser ("fft_max: expected an integer, got a string"). */
const char *oz_sci_json_type(const json_t *v);

typedef enum oz_fft_planner {
    OZ_FFT_ESTIMATE = 0, /* FFTW_ESTIMATE: instant plans (tests, one-off runs) */
    OZ_FFT_MEASURE,      /* FFTW_MEASURE: faster FFTs after seconds of planning */
    OZ_FFT_PATIENT       /* FFTW_PATIENT */
} oz_fft_planner;

/*
 * SETI@home v8's analysis parameters, for the "seti" mode (mode ==
 * OZ_MODE_SETI), named as in a work unit's <analysis_cfg> and read from one
 * by workunits/ (.sah reader).  Together with the unit's length and sample
 * rate they decide v8's whole plan: which chirp rates each FFT length is
 * searched at, where Gaussians, pulses and triplets are looked for, and their
 * thresholds.  The mode's spike threshold, chirp resolution, FFT lengths and
 * signal cap are the configuration's own fields.
 */
typedef struct oz_sci_seti {
    /* the telescope's motion over the unit (the work unit's header) */
    double angle_range; /* degrees the beam moved (true_angle_range) */
    double beam_width;  /* degrees */
    /* The band: the samples' zero frequency is the configuration's centre
     * (a .sah's subband_base), and bins below L - L/(2 ifft_len) are
     * positive offsets (v8's splitter leaves 1/(2 ifft_len) of the band below
     * zero; 1: the usual halves). */
    uint32_t ifft_len;
    double center_offset_hz; /* the band's centre minus the zero frequency, where
                                autocorrelations are reported (subband_center - base) */

    double autocorr_thresh;
    uint32_t autocorr_fftlen; /* autocorrelation runs at this length only */

    double gauss_null_chi_sq_thresh, gauss_chi_sq_thresh;
    double gauss_power_thresh, gauss_peak_power_thresh;
    uint32_t gauss_pot_length;

    double pulse_thresh, pulse_display_thresh;
    uint32_t pulse_max, pulse_min, pulse_fft_max, pulse_pot_length;
    double pulse_beams;

    double triplet_thresh;
    uint32_t triplet_max, triplet_min, triplet_pot_length;

    double pot_overlap_factor, pot_t_offset, pot_min_slew, pot_max_slew;
} oz_sci_seti;

/* What a search looks for and how it reports it. */
typedef enum oz_sci_mode {
    OZ_MODE_OZMA = 0, /* Ozma's plan and statistics; detections of one signal merged */
    OZ_MODE_SETI      /* SETI@home v8's plan, statistics and reporting, detection by detection */
} oz_sci_mode;

/*
 * The analysis configuration.  Every field but no_avx2 has a JSON key of the
 * same name (oz_sci_config_from_json).  Thresholds are in the units of each type's
 * detection statistic; a signal's `score` is statistic / threshold, so
 * score >= 1 means "detected" whatever the type.
 */
typedef struct oz_sci_config {
    uint32_t fft_min;        /* smallest FFT length, power of two >= 8 */
    uint32_t fft_max;        /* largest FFT length, power of two <= 131072 */
    double chirp_max;        /* Hz/s, the search covers [-chirp_max, +chirp_max] */
    double chirp_resolution; /* chirp step at length L is this * (fs/L)^2 */

    double spike_thresh; /* peak power / spectrum mean (SETI: 24) */

    uint32_t gauss_fft_max; /* Gaussians searched at L <= this (0: off) */
    uint32_t gauss_pot_len; /* power-over-time rebinned to this many points */
    double gauss_sigma_s;   /* beam-crossing sigma in seconds */
    double
        gauss_snr_thresh;   /* fitted Gaussian's matched-filter SNR, as Gaussian-equivalent sigma */
    double gauss_chisq_max; /* reduced chi-square of the fit must be <= this */
    double gauss_null_chisq_min; /* reduced chi-square of a flat fit must be >= this */

    uint32_t pulse_fft_max;    /* pulses searched at L <= this (0: off) */
    uint32_t pulse_pot_len;    /* power-over-time rebinned to at most this many points */
    uint32_t pulse_period_min; /* shortest folding period, in PoT points (>= 2) */
    double pulse_thresh;       /* folded peak, as Gaussian-equivalent sigma */

    uint32_t triplet_fft_max;   /* triplets searched at L <= this (0: off) */
    double triplet_thresh;      /* a peak is power >= this * block mean */
    uint32_t triplet_max_peaks; /* a bin with more peaks is a steady signal, skipped */

    double line_pfa;        /* lines: false-alarm probability per unit (0: off) */
    uint32_t line_half_bin; /* lines: also search spectra shifted half a bin (1) or not (0) */

    /* Per-length chirp limits, Hz/s: chirp_limit[j] caps the rates searched
     * at length 8 << j, as well as chirp_max (0: chirp_max alone).  v8's
     * <chirps> table.  JSON: {"LENGTH": limit, ...}. */
    double chirp_limit[OZ_SCI_NLENS];

    /* Band flattening (v8's baseline smoothing): the spectrum of each chunk
     * of bsmooth_chunk samples is divided by the square root of a running
     * mean of bsmooth_boxcar bins of its power (0: off). */
    uint32_t bsmooth_boxcar, bsmooth_chunk;

    oz_sci_mode mode;
    oz_sci_seti seti; /* the seti mode's parameters */

    uint32_t max_signals;     /* reported signals cap; more sets overflow (SETI: 30) */
    double compare_power_rel; /* compare: relative tolerance on power (0.01) */
    oz_fft_planner planner;

    /* The host's choice, not the analysis's (no JSON key, not saved with a
     * checkpoint): true runs the portable vector code even where the CPU
     * has AVX2.  Both give bit-identical results; the CLIs and the worker
     * set it when OZ_NO_AVX2 is in their environment (default false). */
    bool no_avx2;
} oz_sci_config;

/* The chirp range searched at FFT length L: chirp_limit's entry for L when
 * it has one, else chirp_max. */
double oz_sci_chirp_limit(const oz_sci_config *cfg, uint32_t L);

/* Fills the SETI@home-like defaults (FFT 8..131072, chirp ±100 Hz/s). */
void oz_sci_config_default(oz_sci_config *cfg);

/* Checks a configuration on its own (sizes, ranges, powers of two).
 * Returns 0 or OZ_SCI_EINVAL with a sentence in why. */
int oz_sci_config_check(const oz_sci_config *cfg, char *why, size_t whylen);

/* Overlays the keys present in `obj` onto *cfg (absent keys keep their
 * value).  Unknown keys, wrong types and out-of-range values are rejected
 * with OZ_SCI_EPARSE / OZ_SCI_EINVAL and a sentence naming the key; *cfg is
 * left untouched on failure. */
int oz_sci_config_from_json(const json_t *obj, oz_sci_config *cfg, char *why, size_t whylen);

/* The whole configuration as a new JSON object (every key), or NULL on ENOMEM. */
json_t *oz_sci_config_to_json(const oz_sci_config *cfg);

/* One reported signal.  Frequencies are absolute and in double precision:
 * freq_hz is the signal's frequency at time_s, which counts from the unit's
 * first sample. */
typedef struct oz_signal {
    oz_sig_type type;
    uint32_t fft_len;
    double freq_hz;    /* absolute, at time_s */
    double chirp_hz_s; /* drift rate the signal was found at */
    double time_s;     /* seconds from unit start (spike: centre of its spectrum) */
    double power;      /* the type's detection statistic */
    double score;      /* power / the type's threshold; >= 1 is a detection */
    double period_s;   /* pulse, triplet: repetition period; 0 otherwise */
    double sigma_s;    /* gaussian: fitted beam sigma; 0 otherwise */
    double chisq;      /* gaussian: reduced chi-square of the fit; 0 otherwise */
    double start_s;    /* line: when it starts, s from unit start; 0 otherwise */
    double end_s;      /* line: when it ends; 0 otherwise */
    /* The fields SETI@home v8 reports besides those above (the "seti" mode
     * fills them; 0 when absent).  In that mode `power` is v8's peak_power. */
    double mean_power; /* v8's mean_power: the mean the peak was measured against */
    double delay_s;    /* autocorr: the echo's delay */
    double null_chisq; /* gaussian: reduced chi-square of a flat fit */
    double max_power;  /* gaussian: the largest point of its power-over-time */
    double snr;        /* pulse: v8's folded signal-to-noise */
    double thresh;     /* pulse: v8's threshold for that fold */
    double len_prof;   /* pulse: points in the folded profile */
} oz_signal;

typedef struct oz_sci_result {
    oz_signal *signals; /* nsignals reported signals, owned */
    size_t nsignals;
    bool overflow;                 /* more than max_signals: search ended early */
    bool has_best[OZ_SIG_NTYPES];  /* whether best[t] holds a signal */
    oz_signal best[OZ_SIG_NTYPES]; /* strongest of each type, even below threshold */
    uint64_t flops;                /* deterministic FLOP count of the search plan */
    double cpu_s;                  /* CPU seconds spent in the kernel */
    double fft_s;                  /* of which inside fftwf_execute */
    char kernel_version[32];
} oz_sci_result;

/* Frees the signals of a result (not the struct itself) and zeroes it. */
void oz_sci_result_clear(oz_sci_result *r);

/* The result as JSON (DESIGN.md §4 shape), or NULL on ENOMEM. */
json_t *oz_sci_result_to_json(const oz_sci_result *r);

/* Strict parser for results from strangers: unknown types, absurd counts,
 * non-finite numbers and out-of-range values are rejected with a sentence.
 * On success *out owns its signals (free with oz_sci_result_clear). */
int oz_sci_result_from_json(const json_t *obj, oz_sci_result *out, char *why, size_t whylen);

/* Could a and b be the same physical signal?  Same type, and each lies on the
 * other's frequency track (frequency extrapolated along the chirp of the one
 * with the finer resolution) within the bin widths and chirp steps involved.
 * The kernel merges such pairs into the stronger; callers merging results of
 * overlapping units (times on one clock) use it too. */
bool oz_sci_signal_same(const oz_signal *a, const oz_signal *b, double fs, double chirp_resolution);

/* Do two results of the same unit agree (DESIGN.md §2)?  Every signal of each
 * must have a partner in the other (same type and FFT length, frequency within
 * one bin, chirp within one step, time within one spectrum, power within
 * cfg->compare_power_rel) and the per-type counts and overflow flags must
 * match.  Returns 0, or OZ_SCI_EDISAGREE with the first difference in why. */
int oz_sci_result_compare(const oz_sci_result *a, const oz_sci_result *b, const oz_sci_config *cfg,
                          double sample_rate, char *why, size_t whylen);

/* ---- the search ---------------------------------------------------------- */

typedef struct oz_sci_search oz_sci_search;

/*
 * Plans a search of n complex samples (2n interleaved floats, I then Q) at
 * sample_rate Hz around center_hz.  The search borrows `iq`: it must stay
 * valid and unchanged until oz_sci_search_free.  FFTW plans are made here,
 * once per FFT length.  Samples must be finite (checked here).
 */
int oz_sci_search_new(const oz_sci_config *cfg, const float *iq, size_t n, double sample_rate,
                      double center_hz, oz_sci_search **out, char *why, size_t whylen);
void oz_sci_search_free(oz_sci_search *s);

/* Steps in the plan, and steps done so far. */
size_t oz_sci_search_steps(const oz_sci_search *s);
size_t oz_sci_search_done(const oz_sci_search *s);
/* True once every step ran or the signal list overflowed. */
bool oz_sci_search_finished(const oz_sci_search *s);

/* The types (bit 1u << type) whose best a search of n samples at
 * sample_rate under cfg always reports, unless the samples give the
 * detectors nothing at all (all zero): every spectrum offers its strongest
 * bin as a spike, and in Ozma's mode every bin but DC its best Gaussian and
 * pulse at the lengths where the plan searches them.  Triplets, lines and
 * autocorrelations (and the seti mode's Gaussians and pulses) have a best
 * only when one was found.  For checking uploads: a result of data that
 * lacks one of these was not computed by this kernel. */
unsigned oz_sci_best_types(const oz_sci_config *cfg, uint64_t n, double sample_rate);

/* Spot checks (a server re-running a few steps of a host's search,
 * scheduler/spot.c): forgets what the search found so far and positions it
 * at `step`, so that the next oz_sci_search_step runs that step alone and
 * oz_sci_search_result then holds that step's detections only (merged
 * within the step as ever).  OZ_SCI_EINVAL when step is past the plan or
 * in the seti mode, OZ_SCI_ENOMEM. */
int oz_sci_search_seek(oz_sci_search *s, size_t step);
/* The step nearest the chirp rate chirp_hz_s among those that search FFT
 * length fft_len (any length the plan lacks: all steps; clamped to the
 * plan), and the rate step `step` searches (Hz/s); 0 in the seti mode. */
size_t oz_sci_search_step_of(const oz_sci_search *s, double chirp_hz_s, uint32_t fft_len);
double oz_sci_search_step_chirp(const oz_sci_search *s, size_t step);

/* Runs the next step; 0, or OZ_SCI_EINVAL when already finished. */
int oz_sci_search_step(oz_sci_search *s);

/* Runs all remaining steps, calling progress(arg, done, total) after each
 * step when progress is not NULL. */
int oz_sci_search_run(oz_sci_search *s, void (*progress)(void *arg, size_t done, size_t total),
                      void *arg);

/* A copy of the result so far (complete once finished); free with
 * oz_sci_result_clear. */
int oz_sci_search_result(const oz_sci_search *s, oz_sci_result *out);

/* The deterministic FLOP count of the whole plan (same on every machine). */
uint64_t oz_sci_search_flops(const oz_sci_search *s);

/* The same count without a search: what oz_sci_search_flops would give for
 * a unit of n samples at sample_rate around center_hz, in either mode, from
 * the plan alone (no samples, FFTW plans or work arrays: for a scheduler
 * pricing units).  Refuses, with the same sentence in why, what
 * oz_sci_search_new would refuse for such a unit whatever its samples;
 * 0, OZ_SCI_EINVAL or OZ_SCI_ENOMEM. */
int oz_sci_plan_flops(const oz_sci_config *cfg, size_t n, double sample_rate, double center_hz,
                      uint64_t *flops, char *why, size_t whylen);

/* Serialises the search state (not the samples) as a NUL-terminated JSON
 * string, malloc'd into *out; the caller frees it. */
int oz_sci_search_save(const oz_sci_search *s, char **out);

/* Restores a state saved by oz_sci_search_save into a search made for the
 * same samples and configuration (checked: OZ_SCI_EMISMATCH otherwise). */
int oz_sci_search_restore(oz_sci_search *s, const char *state, char *why, size_t whylen);

/* ---- FFTW wisdom ------------------------------------------------------------- */

/* What FFTW's planner learned of this machine, as text (wisdom.c), so a
 * later process plans at once.  Process-wide, and not locked by FFTW: call
 * these only while no other thread is in oz_sci_search_new.  Import merges
 * (all or nothing: OZ_SCI_EPARSE leaves the wisdom as it was); export
 * returns a malloc'd NUL-terminated string (NULL: out of memory). */
#define OZ_SCI_WISDOM_MAX (4u << 20)
int oz_sci_wisdom_import(const char *text, size_t len, char *why, size_t whylen);
char *oz_sci_wisdom_export(void);

/* ---- test signals --------------------------------------------------------- */

/* A deterministic random source (xoshiro256**) for noise and injections, so a
 * seed names one recording on every machine. */
typedef struct oz_rng {
    uint64_t s[4];
} oz_rng;
void oz_rng_seed(oz_rng *r, uint64_t seed);
uint64_t oz_rng_next(oz_rng *r);
double oz_rng_uniform(oz_rng *r); /* [0, 1) */
double oz_rng_gauss(oz_rng *r);   /* N(0, 1) */

/* Adds complex Gaussian noise of total power `power` (E|z|^2) to n samples. */
void oz_sci_add_noise(float *iq, size_t n, double power, oz_rng *rng);

/*
 * Adds a tone of amplitude `amp` (noise rms units are up to the caller) at
 * offset `freq_hz` from the centre at time 0, drifting at chirp_hz_s, present
 * from t_start to t_end seconds, multiplied by an envelope:
 *  - OZ_ENV_CONST: constant;
 *  - OZ_ENV_GAUSS: exp(-(t-t0)^2 / (2 sigma^2)) in power (a beam crossing);
 *  - OZ_ENV_PULSES: on for `width_s` every `period_s`, first pulse at t0.
 */
typedef enum oz_envelope { OZ_ENV_CONST = 0, OZ_ENV_GAUSS, OZ_ENV_PULSES } oz_envelope;
typedef struct oz_tone {
    double freq_hz, chirp_hz_s, amp;
    double t_start, t_end; /* seconds; t_end <= t_start means whole unit */
    oz_envelope env;
    double t0, sigma_s;       /* OZ_ENV_GAUSS centre/sigma; OZ_ENV_PULSES first pulse */
    double period_s, width_s; /* OZ_ENV_PULSES */
} oz_tone;
void oz_sci_add_tone(float *iq, size_t n, double sample_rate, const oz_tone *tone);

#endif /* OZMA_SCIENCE_H */
