/*
 * config.c - the analysis configuration: defaults, checks and JSON.
 *
 * A configuration travels inside every work unit (DESIGN.md §3) and comes
 * from files people write, so it is parsed as untrusted input: the JSON is
 * overlaid onto a copy, every key must be one of ours with the right JSON
 * type, and the result must pass oz_sci_config_check before the caller's
 * struct is touched.  oz_sci_config_check is the one place that says what a
 * possible configuration is; oz_sci_search_new relies on it.
 *
 * The JSON keys are the struct's field names.  One constant table (`fields`)
 * maps each key to its kind and offset, so adding a field means adding one
 * line there, a default, and a rule in oz_sci_config_check.
 */
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "internal.h"

void oz_sci_config_default(oz_sci_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);

    /* The search plan: SETI@home v8's FFT lengths and chirp range. */
    cfg->fft_min = 8;
    cfg->fft_max = 131072;
    cfg->chirp_max = 100.0;
    cfg->chirp_resolution = 0.1665;

    /* ---- detector defaults: tuned by the detector owners; edit only these
     * lines when retuning thresholds (tests/unit/test_sci_config.c checks that
     * the defaults pass oz_sci_config_check, not their values). ---- */
    cfg->spike_thresh = 24.0;
    cfg->gauss_fft_max = 16384;
    cfg->gauss_pot_len = 64;
    cfg->gauss_sigma_s = 4.0;
    cfg->gauss_snr_thresh = 7.0;
    cfg->gauss_chisq_max = 1.42;
    cfg->gauss_null_chisq_min = 1.5;
    cfg->pulse_fft_max = 8192;
    cfg->pulse_pot_len = 256;
    cfg->pulse_period_min = 3;
    cfg->pulse_thresh = 6.5;
    cfg->triplet_fft_max = 8192;
    cfg->triplet_thresh = 10.0;
    cfg->triplet_max_peaks = 32;
    cfg->line_pfa = 1e-3;
    cfg->line_half_bin = 0;
    /* ---- end of detector defaults ---- */

    /* The seti mode: SETI@home v8's analysis_cfg as its reference unit has
     * it, for a telescope that does not move (a .sah unit brings its own). */
    cfg->seti = (oz_sci_seti){
        .angle_range = 0.0,
        .beam_width = 0.1,
        .ifft_len = 1,
        .autocorr_thresh = 17.8,
        .autocorr_fftlen = 131072,
        .gauss_null_chi_sq_thresh = 2.1,
        .gauss_chi_sq_thresh = 1.42,
        .gauss_power_thresh = 3.0,
        .gauss_peak_power_thresh = 3.2,
        .gauss_pot_length = 64,
        .pulse_thresh = 20.0,
        .pulse_display_thresh = 0.5,
        .pulse_max = 40960,
        .pulse_min = 16,
        .pulse_fft_max = 8192,
        .pulse_pot_length = 256,
        .pulse_beams = 1.0,
        .triplet_thresh = 8.25,
        .triplet_max = 131072,
        .triplet_min = 16,
        .triplet_pot_length = 256,
        .pot_overlap_factor = 0.5,
        .pot_t_offset = 1.0,
        .pot_min_slew = 0.0021,
        .pot_max_slew = 0.0105,
    };

    cfg->max_signals = 30;
    cfg->compare_power_rel = 0.01;
    cfg->planner = OZ_FFT_ESTIMATE;
}

double oz_sci_chirp_limit(const oz_sci_config *cfg, uint32_t L)
{
    for (unsigned j = 0; j < OZ_SCI_NLENS; j++)
        if ((OZ_SCI_FFT_MIN << j) == L && cfg->chirp_limit[j] > 0.0)
            return cfg->chirp_limit[j];
    return cfg->chirp_max;
}

/* ---- checks ---------------------------------------------------------------- */

static bool is_pow2(uint32_t v)
{
    return v != 0 && (v & (v - 1)) == 0;
}

/* An FFT length: a power of two in [OZ_SCI_FFT_MIN, OZ_SCI_FFT_MAX], or 0
 * when `off_ok` (a detector that is turned off). */
static int check_fft_len(uint32_t v, const char *name, bool off_ok, char *why, size_t whylen)
{
    if (v == 0 && off_ok)
        return OZ_SCI_OK;
    const char *hint = off_ok ? " (or 0 to turn it off)" : "";
    if (v < OZ_SCI_FFT_MIN)
        return oz_sci_fail(OZ_SCI_EINVAL, why, whylen,
                           "%s: %" PRIu32 " is below the smallest FFT length %u%s", name, v,
                           OZ_SCI_FFT_MIN, hint);
    if (v > OZ_SCI_FFT_MAX)
        return oz_sci_fail(OZ_SCI_EINVAL, why, whylen,
                           "%s: %" PRIu32 " is above the largest FFT length %u%s", name, v,
                           OZ_SCI_FFT_MAX, hint);
    if (!is_pow2(v))
        return oz_sci_fail(OZ_SCI_EINVAL, why, whylen, "%s: %" PRIu32 " is not a power of two%s",
                           name, v, hint);
    return OZ_SCI_OK;
}

static int check_u32(uint32_t v, const char *name, uint32_t lo, uint32_t hi, char *why,
                     size_t whylen)
{
    if (v < lo)
        return oz_sci_fail(OZ_SCI_EINVAL, why, whylen, "%s: %" PRIu32 " must be at least %" PRIu32,
                           name, v, lo);
    if (v > hi)
        return oz_sci_fail(OZ_SCI_EINVAL, why, whylen, "%s: %" PRIu32 " must be at most %" PRIu32,
                           name, v, hi);
    return OZ_SCI_OK;
}

/* A finite double in [lo, hi], or (lo, hi] when lo_open. */
static int check_double(double v, const char *name, double lo, bool lo_open, double hi, char *why,
                        size_t whylen)
{
    if (!isfinite(v))
        return oz_sci_fail(OZ_SCI_EINVAL, why, whylen, "%s: %g is not a finite number", name, v);
    if (lo_open ? !(v > lo) : !(v >= lo))
        return oz_sci_fail(OZ_SCI_EINVAL, why, whylen, "%s: %g must be %s %g", name, v,
                           lo_open ? "greater than" : "at least", lo);
    if (v > hi)
        return oz_sci_fail(OZ_SCI_EINVAL, why, whylen, "%s: %g must be at most %g", name, v, hi);
    return OZ_SCI_OK;
}

/* A threshold or statistic bound: finite and > 0. */
static int check_positive(double v, const char *name, char *why, size_t whylen)
{
    return check_double(v, name, 0.0, true, HUGE_VAL, why, whylen);
}

/* The seti mode's parameters: what v8's plan and detectors divide by or
 * size arrays with must be in range. */
static int check_seti(const oz_sci_seti *p, char *why, size_t whylen)
{
    int rc;
#define CHECK(expr)                                                                                \
    do {                                                                                           \
        if ((rc = (expr)) != OZ_SCI_OK)                                                            \
            return rc;                                                                             \
    } while (0)
    CHECK(check_double(p->angle_range, "seti.angle_range", 0.0, false, 360.0, why, whylen));
    CHECK(check_double(p->beam_width, "seti.beam_width", 0.0, true, 180.0, why, whylen));
    CHECK(check_u32(p->ifft_len, "seti.ifft_len", 1, 64, why, whylen));
    CHECK(check_double(p->center_offset_hz, "seti.center_offset_hz", -1e10, false, 1e10, why,
                       whylen));
    CHECK(check_positive(p->autocorr_thresh, "seti.autocorr_thresh", why, whylen));
    CHECK(check_fft_len(p->autocorr_fftlen, "seti.autocorr_fftlen", true, why, whylen));
    CHECK(
        check_positive(p->gauss_null_chi_sq_thresh, "seti.gauss_null_chi_sq_thresh", why, whylen));
    CHECK(check_positive(p->gauss_chi_sq_thresh, "seti.gauss_chi_sq_thresh", why, whylen));
    CHECK(check_positive(p->gauss_power_thresh, "seti.gauss_power_thresh", why, whylen));
    CHECK(check_positive(p->gauss_peak_power_thresh, "seti.gauss_peak_power_thresh", why, whylen));
    CHECK(check_u32(p->gauss_pot_length, "seti.gauss_pot_length", 4, 4096, why, whylen));
    CHECK(check_positive(p->pulse_thresh, "seti.pulse_thresh", why, whylen));
    CHECK(check_double(p->pulse_display_thresh, "seti.pulse_display_thresh", 0.0, true, 1.0, why,
                       whylen));
    CHECK(check_u32(p->pulse_min, "seti.pulse_min", 1, OZ_SCI_SAMPLES_MAX, why, whylen));
    CHECK(check_u32(p->pulse_max, "seti.pulse_max", p->pulse_min, OZ_SCI_SAMPLES_MAX, why, whylen));
    CHECK(check_fft_len(p->pulse_fft_max, "seti.pulse_fft_max", true, why, whylen));
    CHECK(check_u32(p->pulse_pot_length, "seti.pulse_pot_length", 4, 1u << 20, why, whylen));
    CHECK(check_double(p->pulse_beams, "seti.pulse_beams", 0.0, true, 1000.0, why, whylen));
    CHECK(check_positive(p->triplet_thresh, "seti.triplet_thresh", why, whylen));
    CHECK(check_u32(p->triplet_min, "seti.triplet_min", 3, OZ_SCI_SAMPLES_MAX, why, whylen));
    CHECK(check_u32(p->triplet_max, "seti.triplet_max", p->triplet_min, OZ_SCI_SAMPLES_MAX, why,
                    whylen));
    CHECK(check_u32(p->triplet_pot_length, "seti.triplet_pot_length", 4, 1u << 20, why, whylen));
    CHECK(check_double(p->pot_overlap_factor, "seti.pot_overlap_factor", 0.0, false, 0.99, why,
                       whylen));
    CHECK(check_double(p->pot_t_offset, "seti.pot_t_offset", 0.0, false, 1e3, why, whylen));
    CHECK(check_double(p->pot_min_slew, "seti.pot_min_slew", 0.0, true, 1e3, why, whylen));
    CHECK(check_double(p->pot_max_slew, "seti.pot_max_slew", p->pot_min_slew, false, 1e3, why,
                       whylen));
#undef CHECK
    return OZ_SCI_OK;
}

int oz_sci_config_check(const oz_sci_config *cfg, char *why, size_t whylen)
{
    int rc;
#define CHECK(expr)                                                                                \
    do {                                                                                           \
        if ((rc = (expr)) != OZ_SCI_OK)                                                            \
            return rc;                                                                             \
    } while (0)

    if (!cfg)
        return oz_sci_fail(OZ_SCI_EINVAL, why, whylen, "no configuration given");

    CHECK(check_fft_len(cfg->fft_min, "fft_min", false, why, whylen));
    CHECK(check_fft_len(cfg->fft_max, "fft_max", false, why, whylen));
    if (cfg->fft_min > cfg->fft_max)
        return oz_sci_fail(OZ_SCI_EINVAL, why, whylen,
                           "fft_min: %" PRIu32 " is larger than fft_max %" PRIu32, cfg->fft_min,
                           cfg->fft_max);
    CHECK(check_double(cfg->chirp_max, "chirp_max", 0.0, false, OZ_SCI_CHIRP_MAX, why, whylen));
    CHECK(check_double(cfg->chirp_resolution, "chirp_resolution", 0.0, true, 10.0, why, whylen));

    CHECK(check_positive(cfg->spike_thresh, "spike_thresh", why, whylen));

    CHECK(check_fft_len(cfg->gauss_fft_max, "gauss_fft_max", true, why, whylen));
    CHECK(check_u32(cfg->gauss_pot_len, "gauss_pot_len", 8, 1024, why, whylen));
    CHECK(check_positive(cfg->gauss_sigma_s, "gauss_sigma_s", why, whylen));
    CHECK(check_positive(cfg->gauss_snr_thresh, "gauss_snr_thresh", why, whylen));
    CHECK(check_positive(cfg->gauss_chisq_max, "gauss_chisq_max", why, whylen));
    CHECK(check_positive(cfg->gauss_null_chisq_min, "gauss_null_chisq_min", why, whylen));

    CHECK(check_fft_len(cfg->pulse_fft_max, "pulse_fft_max", true, why, whylen));
    CHECK(check_u32(cfg->pulse_pot_len, "pulse_pot_len", 16, 4096, why, whylen));
    CHECK(check_u32(cfg->pulse_period_min, "pulse_period_min", 2, UINT32_MAX, why, whylen));
    if (cfg->pulse_period_min > cfg->pulse_pot_len / 3)
        return oz_sci_fail(OZ_SCI_EINVAL, why, whylen,
                           "pulse_period_min: %" PRIu32
                           " must be at most pulse_pot_len/3 = %" PRIu32,
                           cfg->pulse_period_min, cfg->pulse_pot_len / 3);
    CHECK(check_positive(cfg->pulse_thresh, "pulse_thresh", why, whylen));

    CHECK(check_fft_len(cfg->triplet_fft_max, "triplet_fft_max", true, why, whylen));
    CHECK(check_positive(cfg->triplet_thresh, "triplet_thresh", why, whylen));
    CHECK(check_u32(cfg->triplet_max_peaks, "triplet_max_peaks", 3, 4096, why, whylen));

    CHECK(check_double(cfg->line_pfa, "line_pfa", 0.0, false, 0.5, why, whylen));
    CHECK(check_u32(cfg->line_half_bin, "line_half_bin", 0, 1, why, whylen));

    for (unsigned j = 0; j < OZ_SCI_NLENS; j++) {
        char name[32];
        snprintf(name, sizeof name, "chirp_limit.%u", OZ_SCI_FFT_MIN << j);
        CHECK(check_double(cfg->chirp_limit[j], name, 0.0, false, OZ_SCI_CHIRP_MAX, why, whylen));
    }
    if (cfg->bsmooth_boxcar) { /* 0 is off, whatever the chunk */
        CHECK(check_fft_len(cfg->bsmooth_chunk, "bsmooth_chunk", false, why, whylen));
        CHECK(check_u32(cfg->bsmooth_boxcar, "bsmooth_boxcar", 2, cfg->bsmooth_chunk, why, whylen));
        if (cfg->bsmooth_boxcar % 2)
            return oz_sci_fail(OZ_SCI_EINVAL, why, whylen,
                               "bsmooth_boxcar: %" PRIu32 " must be even (its centre is a bin)",
                               cfg->bsmooth_boxcar);
    }
    if (cfg->mode != OZ_MODE_OZMA && cfg->mode != OZ_MODE_SETI)
        return oz_sci_fail(OZ_SCI_EINVAL, why, whylen, "mode: %d is not a known mode",
                           (int)cfg->mode);
    if (cfg->mode == OZ_MODE_SETI)
        CHECK(check_seti(&cfg->seti, why, whylen));
    for (uint32_t L = cfg->fft_min; cfg->mode == OZ_MODE_OZMA && L < cfg->fft_max; L *= 2)
        if (oz_sci_chirp_limit(cfg, L) > oz_sci_chirp_limit(cfg, cfg->fft_max))
            return oz_sci_fail(OZ_SCI_EINVAL, why, whylen,
                               "chirp_limit: %g Hz/s at length %" PRIu32
                               " is wider than the %g Hz/s of fft_max %" PRIu32
                               "; Ozma's own search needs its longest length to have the widest "
                               "range (mode \"seti\" takes any)",
                               oz_sci_chirp_limit(cfg, L), L, oz_sci_chirp_limit(cfg, cfg->fft_max),
                               cfg->fft_max);

    CHECK(check_u32(cfg->max_signals, "max_signals", 1, OZ_SCI_SIGNALS_MAX, why, whylen));
    CHECK(check_double(cfg->compare_power_rel, "compare_power_rel", 0.0, true, 1.0, why, whylen));

    switch (cfg->planner) {
    case OZ_FFT_ESTIMATE:
    case OZ_FFT_MEASURE:
    case OZ_FFT_PATIENT:
        break;
    default:
        return oz_sci_fail(OZ_SCI_EINVAL, why, whylen, "planner: %d is not a known planner",
                           (int)cfg->planner);
    }
#undef CHECK
    return OZ_SCI_OK;
}

/* ---- JSON ------------------------------------------------------------------ */

typedef enum field_kind { K_U32, K_DOUBLE, K_PLANNER, K_MODE, K_LIMITS, K_SETI } field_kind;

/* Every configuration field, in the order to_json writes them. */
static const struct field {
    const char *name;
    field_kind kind;
    size_t off;
} fields[] = {
#define F(name, kind)                                                                              \
    {                                                                                              \
#name, kind, offsetof(oz_sci_config, name)                                                 \
    }
    F(fft_min, K_U32),
    F(fft_max, K_U32),
    F(chirp_max, K_DOUBLE),
    F(chirp_resolution, K_DOUBLE),
    F(spike_thresh, K_DOUBLE),
    F(gauss_fft_max, K_U32),
    F(gauss_pot_len, K_U32),
    F(gauss_sigma_s, K_DOUBLE),
    F(gauss_snr_thresh, K_DOUBLE),
    F(gauss_chisq_max, K_DOUBLE),
    F(gauss_null_chisq_min, K_DOUBLE),
    F(pulse_fft_max, K_U32),
    F(pulse_pot_len, K_U32),
    F(pulse_period_min, K_U32),
    F(pulse_thresh, K_DOUBLE),
    F(triplet_fft_max, K_U32),
    F(triplet_thresh, K_DOUBLE),
    F(triplet_max_peaks, K_U32),
    F(line_pfa, K_DOUBLE),
    F(line_half_bin, K_U32),
    F(chirp_limit, K_LIMITS),
    F(bsmooth_boxcar, K_U32),
    F(bsmooth_chunk, K_U32),
    F(mode, K_MODE),
    F(seti, K_SETI),
    F(max_signals, K_U32),
    F(compare_power_rel, K_DOUBLE),
    F(planner, K_PLANNER),
#undef F
};
#define NFIELDS (sizeof fields / sizeof fields[0])

/* The keys of the "seti" object (oz_sci_seti), named as in v8's analysis_cfg. */
static const struct field seti_fields[] = {
#define S(name, kind)                                                                              \
    {                                                                                              \
        "seti." #name, kind, offsetof(oz_sci_config, seti.name)                                    \
    }
    S(angle_range, K_DOUBLE),
    S(beam_width, K_DOUBLE),
    S(ifft_len, K_U32),
    S(center_offset_hz, K_DOUBLE),
    S(autocorr_thresh, K_DOUBLE),
    S(autocorr_fftlen, K_U32),
    S(gauss_null_chi_sq_thresh, K_DOUBLE),
    S(gauss_chi_sq_thresh, K_DOUBLE),
    S(gauss_power_thresh, K_DOUBLE),
    S(gauss_peak_power_thresh, K_DOUBLE),
    S(gauss_pot_length, K_U32),
    S(pulse_thresh, K_DOUBLE),
    S(pulse_display_thresh, K_DOUBLE),
    S(pulse_max, K_U32),
    S(pulse_min, K_U32),
    S(pulse_fft_max, K_U32),
    S(pulse_pot_length, K_U32),
    S(pulse_beams, K_DOUBLE),
    S(triplet_thresh, K_DOUBLE),
    S(triplet_max, K_U32),
    S(triplet_min, K_U32),
    S(triplet_pot_length, K_U32),
    S(pot_overlap_factor, K_DOUBLE),
    S(pot_t_offset, K_DOUBLE),
    S(pot_min_slew, K_DOUBLE),
    S(pot_max_slew, K_DOUBLE),
#undef S
};
#define NSETI_FIELDS (sizeof seti_fields / sizeof seti_fields[0])

static const char *const mode_names[] = {
    [OZ_MODE_OZMA] = "ozma",
    [OZ_MODE_SETI] = "seti",
};
#define NMODES (sizeof mode_names / sizeof mode_names[0])

static const char *const planner_names[] = {
    [OZ_FFT_ESTIMATE] = "estimate",
    [OZ_FFT_MEASURE] = "measure",
    [OZ_FFT_PATIENT] = "patient",
};
#define NPLANNERS (sizeof planner_names / sizeof planner_names[0])

/* Field access by offset; memcpy keeps it free of aliasing and alignment
 * questions. */
static uint32_t u32_get(const oz_sci_config *cfg, const struct field *f)
{
    uint32_t v;
    memcpy(&v, (const char *)cfg + f->off, sizeof v);
    return v;
}

static void u32_set(oz_sci_config *cfg, const struct field *f, uint32_t v)
{
    memcpy((char *)cfg + f->off, &v, sizeof v);
}

static double double_get(const oz_sci_config *cfg, const struct field *f)
{
    double v;
    memcpy(&v, (const char *)cfg + f->off, sizeof v);
    return v;
}

static void double_set(oz_sci_config *cfg, const struct field *f, double v)
{
    memcpy((char *)cfg + f->off, &v, sizeof v);
}

static int set_limits(oz_sci_config *cfg, const json_t *v, char *why, size_t whylen);
static int set_seti(oz_sci_config *cfg, const json_t *v, char *why, size_t whylen);

/* Stores one JSON value into the field it names, checking its JSON type and
 * that it fits the C type; ranges are oz_sci_config_check's business. */
static int set_field(oz_sci_config *cfg, const struct field *f, const json_t *v, char *why,
                     size_t whylen)
{
    switch (f->kind) {
    case K_U32: {
        if (!json_is_integer(v))
            return oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "%s: expected an integer, got %s",
                               f->name, oz_sci_json_type(v));
        json_int_t i = json_integer_value(v);
        if (i < 0)
            return oz_sci_fail(OZ_SCI_EINVAL, why, whylen,
                               "%s: %" JSON_INTEGER_FORMAT " is negative", f->name, i);
        if (i > (json_int_t)UINT32_MAX)
            return oz_sci_fail(OZ_SCI_EINVAL, why, whylen,
                               "%s: %" JSON_INTEGER_FORMAT " is too large", f->name, i);
        u32_set(cfg, f, (uint32_t)i);
        return OZ_SCI_OK;
    }
    case K_DOUBLE: {
        if (!json_is_number(v))
            return oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "%s: expected a number, got %s", f->name,
                               oz_sci_json_type(v));
        double_set(cfg, f, json_number_value(v));
        return OZ_SCI_OK;
    }
    case K_PLANNER: {
        if (!json_is_string(v))
            return oz_sci_fail(OZ_SCI_EPARSE, why, whylen,
                               "%s: expected \"estimate\", \"measure\" or \"patient\", got %s",
                               f->name, oz_sci_json_type(v));
        const char *s = json_string_value(v);
        for (size_t p = 0; p < NPLANNERS; p++) {
            if (strlen(planner_names[p]) == json_string_length(v) &&
                strcmp(s, planner_names[p]) == 0) {
                cfg->planner = (oz_fft_planner)p;
                return OZ_SCI_OK;
            }
        }
        return oz_sci_fail(OZ_SCI_EINVAL, why, whylen,
                           "%s: \"%.40s\" is not \"estimate\", \"measure\" or \"patient\"", f->name,
                           s);
    }
    case K_MODE: {
        const char *m = json_is_string(v) ? json_string_value(v) : NULL;
        for (size_t i = 0; m && i < NMODES; i++) {
            if (strlen(mode_names[i]) == json_string_length(v) && strcmp(m, mode_names[i]) == 0) {
                cfg->mode = (oz_sci_mode)i;
                return OZ_SCI_OK;
            }
        }
        if (!m)
            return oz_sci_fail(OZ_SCI_EPARSE, why, whylen,
                               "%s: expected \"ozma\" or \"seti\", got %s", f->name,
                               oz_sci_json_type(v));
        return oz_sci_fail(OZ_SCI_EINVAL, why, whylen, "%s: \"%.40s\" is not \"ozma\" or \"seti\"",
                           f->name, m);
    }
    case K_LIMITS:
        return set_limits(cfg, v, why, whylen);
    case K_SETI:
        return set_seti(cfg, v, why, whylen);
    }
    return oz_sci_fail(OZ_SCI_EINVAL, why, whylen, "%s: internal error", f->name);
}

/* "chirp_limit": {"LENGTH": Hz/s, ...}; lengths not named keep no limit of
 * their own. */
static int set_limits(oz_sci_config *cfg, const json_t *v, char *why, size_t whylen)
{
    if (!json_is_object(v))
        return oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "chirp_limit: expected an object, got %s",
                           oz_sci_json_type(v));
    double lim[OZ_SCI_NLENS] = {0};
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)v, key, value)
    {
        char *end;
        unsigned long L = strtoul(key, &end, 10);
        unsigned j = 0;
        while (j < OZ_SCI_NLENS && (OZ_SCI_FFT_MIN << j) != L)
            j++;
        if (*key < '0' || *key > '9' || *end || j == OZ_SCI_NLENS)
            return oz_sci_fail(OZ_SCI_EINVAL, why, whylen,
                               "chirp_limit: \"%.20s\" is not an FFT length (a power of two from "
                               "%u to %u)",
                               key, OZ_SCI_FFT_MIN, OZ_SCI_FFT_MAX);
        if (!json_is_number(value))
            return oz_sci_fail(OZ_SCI_EPARSE, why, whylen,
                               "chirp_limit.%s: expected a number, got %s", key,
                               oz_sci_json_type(value));
        lim[j] = json_number_value(value);
    }
    memcpy(cfg->chirp_limit, lim, sizeof lim);
    return OZ_SCI_OK;
}

/* "seti": {...}: overlays the keys present onto cfg->seti. */
static int set_seti(oz_sci_config *cfg, const json_t *v, char *why, size_t whylen)
{
    if (!json_is_object(v))
        return oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "seti: expected an object, got %s",
                           oz_sci_json_type(v));
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)v, key, value)
    {
        const struct field *f = NULL;
        for (size_t i = 0; i < NSETI_FIELDS && !f; i++)
            if (strcmp(key, seti_fields[i].name + 5) == 0)
                f = &seti_fields[i];
        if (!f)
            return oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "seti: unknown key \"%.60s\"", key);
        int rc = set_field(cfg, f, value, why, whylen);
        if (rc != OZ_SCI_OK)
            return rc;
    }
    return OZ_SCI_OK;
}

int oz_sci_config_from_json(const json_t *obj, oz_sci_config *cfg, char *why, size_t whylen)
{
    if (!cfg)
        return oz_sci_fail(OZ_SCI_EINVAL, why, whylen, "no configuration given");
    if (!obj || !json_is_object(obj))
        return oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "configuration: expected an object, got %s",
                           oz_sci_json_type(obj));

    oz_sci_config tmp = *cfg;
    const char *key;
    json_t *value;
    /* jansson's iteration API takes a non-const object; it does not modify it. */
    json_object_foreach((json_t *)obj, key, value)
    {
        const struct field *f = NULL;
        for (size_t i = 0; i < NFIELDS; i++) {
            if (strcmp(key, fields[i].name) == 0) {
                f = &fields[i];
                break;
            }
        }
        if (!f)
            return oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "configuration: unknown key \"%.60s\"",
                               key);
        int rc = set_field(&tmp, f, value, why, whylen);
        if (rc != OZ_SCI_OK)
            return rc;
    }
    int rc = oz_sci_config_check(&tmp, why, whylen);
    if (rc != OZ_SCI_OK)
        return rc;
    *cfg = tmp;
    return OZ_SCI_OK;
}

/* One field's value as JSON; *skip when the field is left out (the seti
 * object in an Ozma configuration and an empty chirp_limit, which would only
 * bloat unit headers). */
static json_t *field_to_json(const oz_sci_config *cfg, const struct field *f, bool *skip)
{
    json_t *v = NULL;
    *skip = false;
    switch (f->kind) {
    case K_U32:
        return json_integer((json_int_t)u32_get(cfg, f));
    case K_DOUBLE:
        return json_real(double_get(cfg, f));
    case K_PLANNER:
        return (unsigned)cfg->planner < NPLANNERS ? json_string(planner_names[cfg->planner]) : NULL;
    case K_MODE:
        return (unsigned)cfg->mode < NMODES ? json_string(mode_names[cfg->mode]) : NULL;
    case K_LIMITS:
        *skip = true;
        if (!(v = json_object()))
            return NULL;
        for (unsigned j = 0; j < OZ_SCI_NLENS; j++) {
            char key[16];
            if (cfg->chirp_limit[j] == 0.0)
                continue;
            *skip = false;
            snprintf(key, sizeof key, "%u", OZ_SCI_FFT_MIN << j);
            if (json_object_set_new(v, key, json_real(cfg->chirp_limit[j]))) {
                json_decref(v);
                return NULL;
            }
        }
        return v;
    case K_SETI:
        *skip = cfg->mode != OZ_MODE_SETI;
        if (!(v = json_object()))
            return NULL;
        for (size_t i = 0; i < NSETI_FIELDS; i++) {
            bool ignored;
            if (json_object_set_new(v, seti_fields[i].name + 5,
                                    field_to_json(cfg, &seti_fields[i], &ignored))) {
                json_decref(v);
                return NULL;
            }
        }
        return v;
    }
    return NULL;
}

json_t *oz_sci_config_to_json(const oz_sci_config *cfg)
{
    json_t *obj = json_object();
    if (!obj)
        return NULL;
    for (size_t i = 0; i < NFIELDS; i++) {
        const struct field *f = &fields[i];
        bool skip;
        json_t *v = field_to_json(cfg, f, &skip);
        if (skip) {
            json_decref(v);
            continue;
        }
        /* json_object_set_new fails on a NULL value and releases v otherwise. */
        if (json_object_set_new(obj, f->name, v) != 0)
            goto fail;
    }
    return obj;
fail:
    json_decref(obj);
    return NULL;
}
