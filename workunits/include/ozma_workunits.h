/*
 * ozma_workunits.h - recordings, work units and result files (DESIGN.md §3).
 *
 * This is the contract between the operator's data, the scheduler and the
 * worker.  A recording (SigMF, or headerless raw baseband described by flags)
 * is opened behind one reader interface that streams samples in constant
 * memory.  The splitter cuts it into overlapping units of 2^k samples; each
 * unit becomes an .ozwu file (a versioned JSON header and the payload, see
 * workunits/FORMAT.md) that the worker searches, and the worker answers with
 * a result file (the kernel's result plus the unit's id and hash).  Every
 * parser here assumes its input comes from a stranger: sizes are checked
 * against the file's length and hard limits, and hashes are verified, before
 * a single sample is handed out.
 *
 * Errors are negative oz_wu_err codes (oz_wu_strerror turns them into
 * words); functions that can fail for a reason a person must read also fill
 * a caller-supplied `why` buffer with a sentence naming the file, the field
 * and the limit, e.g. "unit.ozwu: header says 1048576 samples but payload
 * holds 1000".  `why` may be NULL.
 *
 * Samples handed out as complex float32 are interleaved I, Q.  Integer
 * formats are scaled so that full scale is 1.0: a ci8 value v reads as
 * v/128, a ci16 value as v/32768 (the usual SigMF/GNU Radio convention);
 * the kernel's thresholds are ratios, so the scale does not matter to it.
 */
#ifndef OZMA_WORKUNITS_H
#define OZMA_WORKUNITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ozma_science.h"

/* ---- errors ---------------------------------------------------------------- */

typedef enum oz_wu_err {
    OZ_WU_OK = 0,
    OZ_WU_ENOMEM = -1,   /* out of memory */
    OZ_WU_EINVAL = -2,   /* bad argument or option */
    OZ_WU_EIO = -3,      /* a system call failed (open, read, write, fsync, rename) */
    OZ_WU_EFORMAT = -4,  /* malformed input: magic, sizes, JSON, SigMF metadata */
    OZ_WU_EVERSION = -5, /* a format version this build does not read */
    OZ_WU_ELIMIT = -6,   /* a size beyond a hard limit */
    OZ_WU_EHASH = -7,    /* the data does not match its SHA-256 */
    OZ_WU_ESCIENCE = -8, /* the kernel refused (configuration, samples) */
} oz_wu_err;

/* A sentence for an error code, for messages and logs. */
const char *oz_wu_strerror(int err);

/* ---- limits ------------------------------------------------------------------ */

#define OZ_WU_FORMAT_VERSION 1u /* .ozwu version written and read */
#define OZ_WU_MAGIC "OZWU"
#define OZ_WU_PREFIX_BYTES 52u  /* magic, version, lengths, header SHA-256 */
#define OZ_WU_HEADER_MAX 65536u /* JSON header bytes */
#define OZ_WU_UNIT_SAMPLES_MAX OZ_SCI_SAMPLES_MAX
#define OZ_WU_UNIT_SAMPLES_MIN 256u
#define OZ_WU_UNIT_SAMPLES_DEFAULT (1u << 20) /* SETI@home's unit */
#define OZ_WU_OVERLAP_DEFAULT 0.125           /* fraction of a unit */
#define OZ_WU_OVERLAP_MAX 0.75
#define OZ_WU_ID_MAX 96u            /* unit id characters */
#define OZ_WU_DATASET_MAX 64u       /* dataset id characters */
#define OZ_WU_META_MAX (1u << 20)   /* .sigmf-meta bytes */
#define OZ_WU_RESULT_MAX (4u << 20) /* result file bytes */
#define OZ_WU_SAMPLE_RATE_MAX 1e10  /* Hz */
#define OZ_WU_SAMPLE_RATE_MIN 1e-3  /* Hz: below, times and bands stop being finite */
/* Start times a unit may carry: 1900-01-01T00:00:00Z .. 2200-12-31T23:59:59.999999999Z,
 * the years start_utc can say, in ns since 1970. */
#define OZ_WU_TIME_MIN_NS (-2208988800LL * 1000000000LL)
#define OZ_WU_TIME_MAX_NS (7289654400LL * 1000000000LL - 1)
#define OZ_WU_FREQ_MAX 1e12 /* Hz, |centre frequency| */

/* ---- sample formats ---------------------------------------------------------- */

/* How samples are stored: interleaved I, Q, little-endian. */
typedef enum oz_wu_format {
    OZ_WU_CI8 = 0, /* int8 I, int8 Q: 2 bytes a sample */
    OZ_WU_CI16,    /* int16 LE I, Q: 4 bytes */
    OZ_WU_CF32,    /* float32 LE I, Q: 8 bytes */
} oz_wu_format;

/* "ci8", "ci16", "cf32" (the .ozwu and --format names). */
const char *oz_wu_format_name(oz_wu_format f);
/* Parses "ci8", "ci16", "cf32" (also "ci16_le", "cf32_le"); OZ_WU_EINVAL
 * for anything else. */
int oz_wu_format_parse(const char *name, oz_wu_format *out);
/* Bytes per complex sample: 2, 4 or 8. */
size_t oz_wu_format_size(oz_wu_format f);
/* Converts n stored samples to complex float32 (integers scaled to full
 * scale 1.0); for cf32, src may be iq itself. */
void oz_wu_format_to_cf32(oz_wu_format f, const void *src, size_t n, float *iq);
/* Quantises n complex float32 samples (full scale 1.0) into format f with
 * round-to-nearest, clipping to the integer range; returns how many values
 * (I or Q) were clipped.  For cf32 it is a plain little-endian copy. */
uint64_t oz_wu_format_from_cf32(oz_wu_format f, const float *iq, size_t n, void *dst);

/* ---- UTC times ----------------------------------------------------------------- */

/* Parses an ISO 8601 UTC time as SigMF writes it, "2024-05-01T12:00:00Z" with
 * optional fraction (up to nanoseconds), into nanoseconds since 1970
 * (years 1900..2200). */
int oz_wu_time_parse(const char *iso, int64_t *ns, char *why, size_t whylen);
/* Formats nanoseconds since 1970 as "YYYY-MM-DDTHH:MM:SS.fffffffffZ" with
 * `digits` (0..9) fractional digits; OZ_WU_EINVAL if buf is too small. */
int oz_wu_time_format(int64_t ns, int digits, char *buf, size_t len);
/* The UTC time `offset_s` seconds after `start_ns`, for time_utc fields. */
int64_t oz_wu_time_add(int64_t start_ns, double offset_s);
/* A Julian date (UTC, as SETI@home writes them) as ns since 1970;
 * OZ_WU_EINVAL unless finite and within the years 1900..2200. */
int oz_wu_time_from_jd(double jd, int64_t *ns);

/* Is s a valid dataset or unit id: 1..max characters of [A-Za-z0-9._-],
 * not starting with '.' or '-' (safe in file names and URLs)? */
bool oz_wu_id_valid(const char *s, size_t max);

/* ---- the sky: types (functions in "the sky" below, sky.c) ---------------------------- */

/* An observatory: WGS84 geodetic latitude and longitude (east), height. */
typedef struct oz_wu_site {
    double lat_deg, lon_deg, alt_m;
} oz_wu_site;
/* Earth orientation: UT1-UTC and polar motion (IERS), zeros when unknown. */
typedef struct oz_wu_eop {
    double dut1_s, xp_rad, yp_rad;
} oz_wu_eop;
/* Where the beam pointed t_s seconds after a recording's first sample
 * (ICRS); a track is such points in time order, the beam moving linearly
 * between them. */
typedef struct oz_wu_pointing {
    double t_s, ra_deg, dec_deg;
} oz_wu_pointing;
#define OZ_WU_POINTING_MAX 256u /* pointing track points of a recording or dataset */

/* ---- recordings: the reader interface ------------------------------------------ */

/* What a reader knows about its input.  Times and positions are those of the
 * input's first sample: for an .ozwu file, the unit's first sample. */
typedef struct oz_wu_info {
    oz_wu_format format; /* the stored format (what read_native returns) */
    double sample_rate;  /* Hz, > 0 */
    double center_hz;    /* centre frequency, Hz */
    uint64_t nsamples;   /* complex samples in the input */
    bool has_time;
    int64_t start_ns; /* UTC of sample 0, ns since 1970 (if has_time) */
    bool has_sky;
    double ra_deg, dec_deg;           /* sky position (if has_sky) */
    char name[OZ_WU_DATASET_MAX + 1]; /* a dataset id made from the file name */
    bool has_site;                    /* SigMF global.core:geolocation */
    struct oz_wu_site site;
    /* A SigMF recording's per-capture pointing (ozma:ra_deg/ozma:dec_deg of
     * captures[i], at their sample_start / sample_rate), in time order;
     * 0 when the pointing is fixed (has_sky) or unknown. */
    uint32_t ntrack;
    struct oz_wu_pointing track[OZ_WU_POINTING_MAX];
} oz_wu_info;

/* Parameters of a headerless raw recording (--format --sample-rate
 * --center-freq [--datetime]). */
typedef struct oz_wu_raw_params {
    oz_wu_format format;
    double sample_rate;
    double center_hz;
    const char *datetime; /* ISO 8601 UTC of the first sample, or NULL */
} oz_wu_raw_params;

typedef struct oz_wu_reader oz_wu_reader;

/* Opens a SigMF recording.  `path` may name the .sigmf-meta or .sigmf-data
 * file or their common stem.  Reads datatype (ci8, ci16_le, ci16_be, cf32_le,
 * cf32_be), core:sample_rate, captures[0].core:frequency and
 * captures[0].core:datetime (optional); a missing or unusable field is
 * OZ_WU_EFORMAT naming it.  Optional global keys ozma:ra_deg/ozma:dec_deg
 * give a sky position. */
int oz_wu_open_sigmf(const char *path, oz_wu_reader **out, char *why, size_t whylen);

/* What a .sigmf-meta document says, as oz_wu_open_sigmf reads it. */
typedef struct oz_wu_sigmf_meta {
    oz_wu_format format;
    bool byte_swapped; /* a _be datatype */
    double sample_rate, center_hz;
    bool has_time;
    int64_t start_ns;
    bool has_sky;
    double ra_deg, dec_deg;
    uint64_t header_bytes;
    uint64_t last_start; /* the last capture's core:sample_start */
    bool has_dataset;    /* global.core:dataset names another data file */
} oz_wu_sigmf_meta;

/* Parses and checks a meta document held in memory (name for messages),
 * with every check of oz_wu_open_sigmf that does not need the data file:
 * a parser of strangers' bytes that needs no files (fuzz_sigmf_meta). */
int oz_wu_sigmf_meta_parse(const char *text, size_t len, const char *name, oz_wu_sigmf_meta *out,
                           char *why, size_t whylen);

/* Opens a headerless interleaved raw recording; the file length must be a
 * whole number of samples. */
int oz_wu_open_raw(const char *path, const oz_wu_raw_params *p, oz_wu_reader **out, char *why,
                   size_t whylen);

/* Opens an .ozwu unit file as a reader: it is loaded and fully verified
 * (magic, version, sizes, hashes) here, before any sample can be read.  The
 * verified samples are held as floats, so info->format is OZ_WU_CF32; the
 * payload's own format is in oz_wu_reader_unit(r)->format. */
int oz_wu_open_unit(const char *path, oz_wu_reader **out, char *why, size_t whylen);

/* Opens any input: raw when `raw` is not NULL; otherwise an .ozwu file (by
 * its magic), a SETI@home .sah unit (by its <workunit_header>) or a SigMF
 * recording (by its .sigmf-meta/.sigmf-data name or stem).  Anything else is OZ_WU_EFORMAT
 * suggesting --format for raw data. */
int oz_wu_open(const char *path, const oz_wu_raw_params *raw, oz_wu_reader **out, char *why,
               size_t whylen);

/* The formats oz_wu_open tells apart on its own. */
typedef enum oz_wu_kind {
    OZ_WU_KIND_UNKNOWN = 0, /* none of these (raw samples need their parameters) */
    OZ_WU_KIND_SIGMF,       /* by its .sigmf-meta/.sigmf-data name or stem */
    OZ_WU_KIND_OZWU,        /* by its magic */
    OZ_WU_KIND_SAH,         /* by its <workunit_header> */
} oz_wu_kind;

/* What oz_wu_open(path, NULL, ...) would open path as, without verifying
 * it (a program's own words for "none of these"); an unreadable file is
 * OZ_WU_KIND_UNKNOWN. */
oz_wu_kind oz_wu_probe(const char *path);

const oz_wu_info *oz_wu_reader_info(const oz_wu_reader *r);

struct oz_wu_header;
/* The verified header when the reader is an .ozwu file, else NULL. */
const struct oz_wu_header *oz_wu_reader_unit(const oz_wu_reader *r);

/* Reads the next up to n samples as complex float32 (2n floats).  *got is
 * less than n only at the end of the input; a file shorter than its metadata
 * promised is OZ_WU_EFORMAT, not a short read. */
int oz_wu_reader_read(oz_wu_reader *r, float *iq, size_t n, size_t *got, char *why, size_t whylen);

/* As oz_wu_reader_read, but in the stored format (info->format,
 * little-endian): n * oz_wu_format_size bytes.  Big-endian SigMF data comes
 * out byte-swapped; cf32 samples are checked to be finite. */
int oz_wu_reader_read_native(oz_wu_reader *r, void *buf, size_t n, size_t *got, char *why,
                             size_t whylen);

/* Moves the read position to sample `sample` (<= nsamples). */
int oz_wu_reader_seek(oz_wu_reader *r, uint64_t sample, char *why, size_t whylen);

void oz_wu_reader_close(oz_wu_reader *r);

/* ---- SETI@home work units (.sah) ------------------------------------------------ */

/*
 * A SETI@home work unit: an XML header (the recording's sky track, receiver,
 * splitter and v8's <analysis_cfg>), then <data encoding="x-setiathome">
 * holding 2-bit complex samples (1 bit I, 1 bit Q) as printable text
 * (sah.c has the encoding).  The reader is strict: every number is checked,
 * every length must agree, and a damaged file is refused with one sentence
 * naming the file, the place and the problem.
 *
 * Conventions (measured against v8): the samples' zero frequency is
 * subband_base (v8's "centre of bin 0"), so a reader's center_hz is
 * subband_base; and v8 transforms with FFTW's backward sign, so a reader
 * hands out the complex conjugate of v8's decoded samples, putting every
 * signal at the frequency v8 reports.  The samples are stored as ci8 with
 * the values ±1 (they read as ±1/128 in cf32): lossless.
 */
#define OZ_WU_SAH_MAX (8u << 20)         /* .sah file bytes */
#define OZ_WU_SAH_SAMPLES_MAX (1u << 22) /* nsamples */
#define OZ_WU_SAH_CHIRPS_MAX 32u         /* <chirp_parameter_t> entries */
#define OZ_WU_SAH_TEXT_MAX 128u          /* names, versions, dates */
#define OZ_WU_TRACK_MAX 512u             /* sky track points (.sah coords, .ozwu sky_track) */

/* One point of a sky track: where the beam pointed, when (an .ozwu
 * header's sky_track). */
typedef struct oz_wu_track_point {
    double jd;      /* Julian date (UTC) */
    double ra_deg;  /* right ascension, degrees [0, 360) */
    double dec_deg; /* declination, degrees [-90, 90] */
} oz_wu_track_point;

/* One point of a .sah's <coords>: where the beam pointed, when. */
typedef struct oz_wu_sah_coord {
    double time_jd;  /* Julian date (UTC) */
    double ra_hours; /* right ascension, hours [0, 24) */
    double dec_deg;  /* declination, degrees [-90, 90] */
} oz_wu_sah_coord;

/* One row of <chirps>: FFT lengths (bit j set: length 2^j) searched up to
 * |chirp| <= chirp_limit Hz/s. */
typedef struct oz_wu_sah_chirp {
    double chirp_limit;
    uint32_t fft_len_flags;
} oz_wu_sah_chirp;

/* <analysis_cfg>, every field v8 reads, named as there. */
typedef struct oz_wu_sah_analysis {
    double spike_thresh;
    uint32_t spikes_per_spectrum;
    double autocorr_thresh;
    uint32_t autocorr_per_spectrum, autocorr_fftlen;
    double gauss_null_chi_sq_thresh, gauss_chi_sq_thresh;
    double gauss_power_thresh, gauss_peak_power_thresh;
    uint32_t gauss_pot_length;
    double pulse_thresh, pulse_display_thresh;
    uint32_t pulse_max, pulse_min, pulse_fft_max, pulse_pot_length;
    double triplet_thresh;
    uint32_t triplet_min, triplet_max, triplet_pot_length;
    double pot_overlap_factor, pot_t_offset, pot_min_slew, pot_max_slew;
    double chirp_resolution;
    uint32_t analysis_fft_lengths; /* bit j set: FFT length 2^j is searched */
    uint32_t bsmooth_boxcar_length, bsmooth_chunk_size;
    double pulse_beams;
    uint32_t max_signals;
    uint32_t nchirps; /* 1 .. OZ_WU_SAH_CHIRPS_MAX */
    oz_wu_sah_chirp chirps[OZ_WU_SAH_CHIRPS_MAX];
} oz_wu_sah_analysis;

/* The parsed header of a .sah work unit. */
typedef struct oz_wu_sah {
    char name[OZ_WU_SAH_TEXT_MAX + 1]; /* <workunit_header><name> */
    /* <subband_desc> */
    int32_t subband_number;
    double subband_center;      /* Hz */
    double subband_base;        /* Hz: the samples' zero frequency */
    double subband_sample_rate; /* Hz, as written (9765.62) */
    double sample_rate;         /* Hz, used: the printed one, as v8 (sah.c) */
    /* <data_desc> */
    double start_ra, start_dec, end_ra, end_dec; /* hours, degrees */
    double true_angle_range;                     /* degrees the beam moved */
    char time_recorded[OZ_WU_SAH_TEXT_MAX + 1];
    double time_recorded_jd;
    int64_t start_ns; /* time_recorded_jd as UTC ns since 1970 */
    uint32_t nsamples;
    uint32_t ncoords; /* 1 .. OZ_WU_TRACK_MAX */
    oz_wu_sah_coord coords[OZ_WU_TRACK_MAX];
    /* <receiver_cfg> */
    char receiver[OZ_WU_SAH_TEXT_MAX + 1];
    int32_t s4_id;
    double beam_width;    /* degrees */
    double receiver_freq; /* MHz (<center_freq>) */
    double latitude;      /* degrees north */
    double longitude;     /* degrees east */
    double elevation;     /* m */
    double diameter;      /* m */
    /* <recorder_cfg> */
    char recorder[OZ_WU_SAH_TEXT_MAX + 1];
    double recorder_sample_rate; /* Hz */
    uint32_t recorder_bits;
    /* <splitter_cfg> */
    char splitter_version[OZ_WU_SAH_TEXT_MAX + 1];
    uint32_t fft_len, ifft_len, samples_per_wu;
    uint32_t wu_bits_per_sample; /* 2: the only encoding read */
    oz_wu_sah_analysis analysis;
} oz_wu_sah;

/* Parses and decodes a .sah image held in memory (`name` labels messages):
 * fills *hdr and, when iq is not NULL, *iq with 2 * hdr->nsamples int8
 * values (I, Q: ±1, already conjugated), malloc'd, the caller's to free. */
int oz_wu_sah_parse(const void *buf, size_t len, const char *name, oz_wu_sah *hdr, int8_t **iq,
                    char *why, size_t whylen);

/* Opens a .sah work unit as a reader (read whole and verified here, at most
 * OZ_WU_SAH_MAX bytes): format ci8, sample_rate and start time of the unit,
 * center_hz = subband_base, the first coordinate as the sky position. */
int oz_wu_open_sah(const char *path, oz_wu_reader **out, char *why, size_t whylen);

/* The parsed header when r reads a .sah, else NULL. */
const oz_wu_sah *oz_wu_reader_sah(const oz_wu_reader *r);

/* The analysis configuration of a .sah unit, derived from its
 * <analysis_cfg> (sah_config.c); OZ_WU_EFORMAT with a sentence when it has
 * no Ozma equivalent. */
int oz_wu_sah_config(const oz_wu_sah *sah, oz_sci_config *cfg, char *why, size_t whylen);

/* ---- SigMF writing (ozma-synth, tests) ------------------------------------------ */

typedef struct oz_wu_sigmf_writer oz_wu_sigmf_writer;

/* Starts STEM.sigmf-data (through a temporary file) for a recording
 * described by `info` (sample_rate, center_hz, start time and sky position
 * if set; nsamples and format are ignored) in SigMF datatype `datatype`
 * ("ci8", "ci16_le", "ci16_be", "cf32_le", "cf32_be"). */
int oz_wu_sigmf_create(const char *stem, const char *datatype, const oz_wu_info *info,
                       const char *description, oz_wu_sigmf_writer **out, char *why, size_t whylen);
/* Appends n samples (full scale 1.0), quantising for integer datatypes. */
int oz_wu_sigmf_append(oz_wu_sigmf_writer *w, const float *iq, size_t n, char *why, size_t whylen);
/* Values (I or Q) clipped so far. */
uint64_t oz_wu_sigmf_clipped(const oz_wu_sigmf_writer *w);
/* Makes the data durable, then writes the .sigmf-meta (so a meta file never
 * describes missing data), and frees w in every case. */
int oz_wu_sigmf_finish(oz_wu_sigmf_writer *w, char *why, size_t whylen);
/* Drops a recording being written (removes the temporary file), frees w. */
void oz_wu_sigmf_abort(oz_wu_sigmf_writer *w);

/* ---- the splitter ---------------------------------------------------------------- */

/*
 * Unit boundaries of a recording: pure arithmetic.  Regular units start at
 * multiples of step = unit - overlap; when they do not end exactly at the
 * recording's end, one more unit is aligned to the end, so every sample is
 * searched and any stretch of at most `overlap` samples lies whole inside
 * some unit.  A recording shorter than one unit is an error (use smaller
 * units).
 */
typedef struct oz_wu_plan {
    uint64_t nsamples; /* recording length */
    uint64_t unit;     /* samples per unit */
    uint64_t overlap;  /* samples shared by consecutive regular units */
    uint64_t step;     /* unit - overlap, > 0 */
    uint64_t nregular; /* units at multiples of step */
    uint64_t nunits;   /* nregular, plus one tail unit if needed */
} oz_wu_plan;

/* Plans units of unit_samples (a power of two in [OZ_WU_UNIT_SAMPLES_MIN,
 * OZ_WU_UNIT_SAMPLES_MAX]) overlapping by round(overlap_frac * unit) samples
 * (overlap_frac in [0, OZ_WU_OVERLAP_MAX]). */
int oz_wu_plan_make(uint64_t nsamples, uint64_t unit_samples, double overlap_frac, oz_wu_plan *out,
                    char *why, size_t whylen);
/* One unit covering the whole input (searching one .ozwu file). */
int oz_wu_plan_whole(uint64_t nsamples, oz_wu_plan *out, char *why, size_t whylen);
/* First sample of unit i (i < nunits). */
uint64_t oz_wu_plan_start(const oz_wu_plan *p, uint64_t i);
/* Parses "65536" or "2^16" into a unit size; OZ_WU_EINVAL otherwise. */
int oz_wu_parse_unit_samples(const char *s, uint64_t *out, char *why, size_t whylen);

/* Streams the units of a plan out of a reader, holding one unit in memory
 * (plus its float conversion when asked).  Reads the recording once, in
 * order: the overlap is kept from the previous unit. */
typedef struct oz_wu_units oz_wu_units;

typedef struct oz_wu_unit_view {
    uint64_t index;        /* 0 .. nunits-1 */
    uint64_t start_sample; /* in the recording */
    uint64_t nsamples;     /* plan->unit */
    double start_s;        /* start_sample / sample_rate */
    const void *native;    /* the samples in the reader's stored format */
    size_t native_bytes;
} oz_wu_unit_view;

/* Borrows r (positioned at sample 0 by this call) until oz_wu_units_free. */
int oz_wu_units_new(oz_wu_reader *r, const oz_wu_plan *p, oz_wu_units **out, char *why,
                    size_t whylen);
/* Loads the next unit: returns 1 with *v filled, 0 after the last, < 0 on
 * error.  The view is valid until the next call. */
int oz_wu_units_next(oz_wu_units *u, oz_wu_unit_view *v, char *why, size_t whylen);
/* The current unit as complex float32 (2 * unit floats, owned by u). */
const float *oz_wu_units_cf32(oz_wu_units *u);
void oz_wu_units_free(oz_wu_units *u);

/* ---- .ozwu unit files (FORMAT.md) ------------------------------------------------ */

typedef struct oz_wu_header {
    uint32_t version;                    /* OZ_WU_FORMAT_VERSION */
    char dataset[OZ_WU_DATASET_MAX + 1]; /* dataset id */
    char unit_id[OZ_WU_ID_MAX + 1];      /* unit id, unique in the project */
    uint64_t unit_index;                 /* position in the dataset's plan */
    double sample_rate;                  /* Hz */
    double center_hz;                    /* Hz */
    uint64_t start_sample;               /* first sample's index in the recording */
    double start_s;                      /* start_sample / sample_rate */
    bool has_time;
    int64_t start_ns; /* UTC of the unit's first sample */
    bool has_sky;
    double ra_deg, dec_deg;
    uint32_t ntrack;                          /* sky_track points, 0 (none) .. OZ_WU_TRACK_MAX */
    oz_wu_track_point track[OZ_WU_TRACK_MAX]; /* in time order (a .sah's coords) */
    oz_wu_format format;
    uint64_t nsamples;                /* samples in the payload */
    oz_sci_config config;             /* the analysis configuration */
    unsigned char payload_sha256[32]; /* SHA-256 of the payload bytes */
} oz_wu_header;

/* Writes an .ozwu file durably (temporary file, fsync, rename, fsync of the
 * directory).  Computes and stores h->payload_sha256 and h->version;
 * checks every field first.  `payload` holds h->nsamples samples in
 * h->format.  file_sha256 (may be NULL) receives the hash of the whole file,
 * the unit's hash that schedulers hand out and results quote. */
int oz_wu_unit_write(const char *path, oz_wu_header *h, const void *payload,
                     unsigned char file_sha256[32], char *why, size_t whylen);

/* A loaded, verified unit. */
typedef struct oz_wu_unit oz_wu_unit;

/* Parses and verifies an .ozwu image held in memory: magic, version, header
 * and payload lengths against len and the limits, the header's every field,
 * and the payload hash, before any sample is converted.  `name` labels
 * messages.  The unit does not keep buf. */
int oz_wu_unit_parse(const void *buf, size_t len, const char *name, oz_wu_unit **out, char *why,
                     size_t whylen);
/* Reads and verifies an .ozwu file (its size is checked against the limits
 * before anything is allocated). */
int oz_wu_unit_load(const char *path, oz_wu_unit **out, char *why, size_t whylen);
const oz_wu_header *oz_wu_unit_header(const oz_wu_unit *u);
/* The samples as complex float32, 2 * nsamples floats owned by u. */
const float *oz_wu_unit_samples(const oz_wu_unit *u);
/* SHA-256 of the whole file (the unit's hash). */
const unsigned char *oz_wu_unit_file_sha256(const oz_wu_unit *u);
void oz_wu_unit_free(oz_wu_unit *u);

/* SHA-256 (sha256.c: libcrypto, on the CPU's SHA instructions where it has
 * them) of n bytes; OZ_WU_ENOMEM when libcrypto cannot allocate. */
int oz_wu_sha256(const void *data, size_t n, unsigned char out[32]);
/* A running SHA-256 over pieces: begin (NULL when out of memory), add, end
 * (writes out unless out is NULL, frees c either way; OZ_WU_ENOMEM for a
 * NULL c or a failed step). */
typedef struct oz_wu_sha256_ctx oz_wu_sha256_ctx;
oz_wu_sha256_ctx *oz_wu_sha256_begin(void);
void oz_wu_sha256_add(oz_wu_sha256_ctx *c, const void *data, size_t n);
int oz_wu_sha256_end(oz_wu_sha256_ctx *c, unsigned char out[32]);
/* Constant-time comparison of two digests. */
bool oz_wu_sha256_equal(const unsigned char a[32], const unsigned char b[32]);
/* SHA-256 as 64 lowercase hex digits (out holds 65 bytes), and back
 * (OZ_WU_EFORMAT unless exactly 64 hex digits). */
void oz_wu_sha256_hex(const unsigned char sha[32], char out[65]);
int oz_wu_sha256_unhex(const char *hex, unsigned char sha[32]);
/* Is s (may be NULL) exactly 64 lowercase hex digits: a SHA-256 or a
 * 32-byte token as every part of Ozma writes them? */
bool oz_wu_hex64_valid(const char *s);

/* ---- splitting a recording into .ozwu files -------------------------------------- */

typedef struct oz_wu_unit_written {
    const oz_wu_header *header;
    const char *path; /* OUT_DIR/UNIT_ID.ozwu */
    unsigned char file_sha256[32];
    uint64_t file_bytes;
} oz_wu_unit_written;

typedef struct oz_wu_split_opts {
    const char *out_dir;         /* must exist */
    const char *dataset;         /* dataset id; NULL: info->name */
    uint64_t unit_samples;       /* 0: OZ_WU_UNIT_SAMPLES_DEFAULT */
    double overlap;              /* fraction of a unit */
    const oz_sci_config *config; /* stored in every header; checked */
    bool has_sky;                /* overrides the recording's sky position */
    double ra_deg, dec_deg;
    /* Called in unit order, from the calling thread, after each unit is
     * durable; a non-zero return stops the split with that value (units
     * already being written when it stops are finished but not reported). */
    int (*on_unit)(void *arg, const oz_wu_unit_written *w, uint64_t nunits);
    void *arg;
    unsigned threads; /* hashing/writing threads; 0: one per CPU */
} oz_wu_split_opts;

/* Cuts the recording into units and writes OUT_DIR/DATASET-NNNNNN.ozwu for
 * each.  The recording is read once, in order, by the calling thread; units
 * are hashed and written by `threads` threads, so at most threads + 1 units
 * are in memory.  Unit ids are DATASET-%06u.  *nunits (may be NULL) counts
 * units written and reported. */
int oz_wu_split_write(oz_wu_reader *r, const oz_wu_split_opts *o, uint64_t *nunits, char *why,
                      size_t whylen);

/* ---- searching a whole input ----------------------------------------------------- */

/* Progress: unit `unit` of `nunits`, kernel step `step` of `nsteps`. */
typedef void (*oz_wu_progress_fn)(void *arg, uint64_t unit, uint64_t nunits, size_t step,
                                  size_t nsteps);

/*
 * Searches every unit of plan p with the kernel, one unit of samples in memory
 * at a time, and returns one result on the recording's clock: time_s counts
 * from the input's first sample, signals found twice in overlapping units
 * are merged (oz_sci_signal_same, the stronger kept), best-of-type is the
 * best over all units, flops/cpu_s/fft_s are sums and overflow is set when
 * any unit overflowed.  The list is not capped across units (each unit is,
 * by cfg->max_signals).  For an .ozwu reader use oz_wu_plan_whole.
 */
int oz_wu_search_plan(oz_wu_reader *r, const oz_wu_plan *p, const oz_sci_config *cfg,
                      oz_wu_progress_fn progress, void *arg, oz_sci_result *out, char *why,
                      size_t whylen);

/* The one call for a search program: an .ozwu reader is searched whole with
 * its header's configuration unless `cfg` is given; any other input is cut as
 * the splitter would (unit_samples 0: default size; overlap < 0: default
 * overlap) and searched with cfg (NULL: defaults). */
int oz_wu_search(oz_wu_reader *r, const oz_sci_config *cfg, uint64_t unit_samples, double overlap,
                 oz_wu_progress_fn progress, void *arg, oz_sci_result *out, char *why,
                 size_t whylen);

/* The result of a search of r's input as JSON: the kernel's shape
 * (oz_sci_result_to_json), plus "time_utc" (microseconds, Z) in every signal
 * and best entry and a top-level "start_utc" when the input has a start
 * time.  NULL on ENOMEM. */
json_t *oz_wu_search_json(const oz_sci_result *res, const oz_wu_reader *r);

/* The configuration a real recording (SigMF, headerless samples) starts
 * from: the kernel's defaults with band flattening on, as SETI@home's v8
 * (boxcar 8192 bins of 32768-sample chunks): receivers have a bandpass and
 * the thresholds assume flat noise.  --bsmooth-boxcar 0 turns it off. */
void oz_wu_config_recording(oz_sci_config *cfg);

/* Sets one analysis configuration key from a command-line flag: `key` is a
 * configuration JSON key with '-' or '_' ("fft-max"), `value` its text
 * ("4096", "5.5", "measure").  OZ_WU_EINVAL naming the flag otherwise. */
int oz_wu_config_set(oz_sci_config *cfg, const char *key, const char *value, char *why,
                     size_t whylen);
/* One analysis flag as given: "--fft-max" (or "fft-max", "fft_max") and
 * its text "4096". */
typedef struct oz_wu_config_flag {
    const char *flag;
    const char *value;
} oz_wu_config_flag;

/* Sets a program's analysis flags together: a later flag overrides an
 * earlier one of the same key, and the configuration is checked once, as a
 * whole, so their order does not matter (--fft-min 8192 --fft-max 16384
 * over fft_max 4096 is fine either way).  A refusal names one flag, as
 * oz_wu_config_set would; *cfg is unchanged then. */
int oz_wu_config_set_flags(oz_sci_config *cfg, const oz_wu_config_flag *flags, size_t n, char *why,
                           size_t whylen);
/* Overlays a JSON configuration file onto *cfg (oz_sci_config_from_json). */
int oz_wu_config_load(const char *path, oz_sci_config *cfg, char *why, size_t whylen);

/* ---- result files ------------------------------------------------------------------ */

/* {"version": 1, "unit_id": ..., "unit_sha256": HEX, "result": KERNEL RESULT} */
#define OZ_WU_RESULT_VERSION 1

typedef struct oz_wu_result {
    char unit_id[OZ_WU_ID_MAX + 1];
    unsigned char unit_sha256[32]; /* the unit file's hash */
    oz_sci_result result;          /* owned */
} oz_wu_result;

/* New JSON object for a result file, or NULL on ENOMEM. */
json_t *oz_wu_result_to_json(const oz_wu_result *r);
/* Strict: exactly the keys above, a valid id, 64 hex digits, the kernel's
 * strict result parser.  On success *out owns its signals. */
int oz_wu_result_from_json(const json_t *obj, oz_wu_result *out, char *why, size_t whylen);
/* Parses result-file text from a stranger: at most OZ_WU_RESULT_MAX bytes,
 * duplicate keys rejected. */
int oz_wu_result_parse(const char *text, size_t len, oz_wu_result *out, char *why, size_t whylen);
/* Is the result plausible for this unit?  Same id and hash, every signal's
 * FFT length within the configured range, frequency within the band the
 * unit can hold (centre ± fs/2 plus the largest drift over the unit), chirp
 * within ±chirp_max, time within the unit. */
int oz_wu_result_check(const oz_wu_result *r, const oz_wu_header *unit,
                       const unsigned char unit_sha256[32], char *why, size_t whylen);
/* Writes and reads result files (write is durable). */
int oz_wu_result_write(const char *path, const oz_wu_result *r, char *why, size_t whylen);
int oz_wu_result_read(const char *path, oz_wu_result *out, char *why, size_t whylen);
void oz_wu_result_clear(oz_wu_result *r);

/* ---- durable files ------------------------------------------------------------------ */

/* A file being written: PATH.tmp.XXXXXX in the same directory, renamed over
 * PATH on commit after fsync, then the directory is fsynced.  Mode 0644.
 * Only a regular file or a new name is replaced so (through a symbolic link,
 * its file); a character device or FIFO (/dev/null, /dev/stdout on a pipe)
 * is written straight through, and a directory, block device or socket is
 * refused with OZ_WU_EINVAL: nothing but a file is ever renamed over. */
typedef struct oz_wu_dfile oz_wu_dfile;
int oz_wu_dfile_open(const char *path, oz_wu_dfile **out, char *why, size_t whylen);
/* The same with the file's permission bits (0600 for secrets). */
int oz_wu_dfile_open_mode(const char *path, unsigned mode, oz_wu_dfile **out, char *why,
                          size_t whylen);
int oz_wu_dfile_write(oz_wu_dfile *f, const void *buf, size_t len, char *why, size_t whylen);
/* Makes the file durable under its final name; frees f in every case. */
int oz_wu_dfile_commit(oz_wu_dfile *f, char *why, size_t whylen);
/* Removes the temporary file and frees f (NULL is fine). */
void oz_wu_dfile_abort(oz_wu_dfile *f);
/* The whole of buf as PATH, durably. */
int oz_wu_write_file(const char *path, const void *buf, size_t len, char *why, size_t whylen);
int oz_wu_write_file_mode(const char *path, const void *buf, size_t len, unsigned mode, char *why,
                          size_t whylen);
/* Whether path may be written as above (OZ_WU_EINVAL and a sentence naming
 * the path and what it is when not): for programs to refuse a bad output
 * path before their work, not after it. */
int oz_wu_out_check(const char *path, char *why, size_t whylen);

/* ---- the sky: site, pointing, HEALPix pixel, barycentric frequency (sky.c) ------------- */


#define OZ_WU_NSIDE_MAX 8192 /* HEALPix resolution: a power of two up to this */

/* Is the site possible: latitude [-90, 90], longitude [-180, 360], height
 * [-12 km, 1000 km]? */
bool oz_wu_site_valid(const oz_wu_site *s);
/* "LAT,LON,ALT_M" (load --site, ozma-synth --site) into *out. */
int oz_wu_site_parse(const char *s, oz_wu_site *out, char *why, size_t whylen);
/* The track's position at t_s: held before the first and after the last
 * point, linear between (RA the short way round). */
void oz_wu_pointing_at(const oz_wu_pointing *p, size_t n, double t_s, double *ra_deg,
                       double *dec_deg);
bool oz_wu_nside_valid(int nside);
/* The HEALPix pixel (NESTED) holding (ra, dec) at nside, and a pixel's centre. */
int64_t oz_wu_sky_pixel(int nside, double ra_deg, double dec_deg);
void oz_wu_sky_pixel_centre(int nside, int64_t pix, double *ra_deg, double *dec_deg);
/* The barycentric Doppler factor zb at UTC utc_ns for a source at (ra, dec)
 * seen from site: f_bary = f_topo / zb (Wright & Eastman 2014 eq. 28, as
 * astropy's radial_velocity_correction; eop may be NULL).  OZ_WU_EINVAL for
 * an impossible site or position or a time ERFA cannot take. */
int oz_wu_sky_doppler(const oz_wu_site *site, const oz_wu_eop *eop, int64_t utc_ns, double ra_deg,
                      double dec_deg, double *zb);
/* The same in two steps, for many directions or times: the observer's
 * barycentric velocity over c and gravitational redshift (m/s) at a time
 * (the costly part: ephemerides, precession-nutation), then zb for a
 * direction.  Both change slowly, so states seconds apart may be mixed
 * linearly (oz_wu_sky_observer_mix, w in [0, 1]): between states 30 s apart
 * the error is below 3e-4 m/s, 0.0015 Hz at 1.42 GHz. */
typedef struct oz_wu_observer {
    double beta[3];
    double gr_m_s;
} oz_wu_observer;
int oz_wu_sky_observer(const oz_wu_site *site, const oz_wu_eop *eop, int64_t utc_ns,
                       oz_wu_observer *out);
int oz_wu_sky_zb(const oz_wu_observer *o, double ra_deg, double dec_deg, double *zb);
void oz_wu_sky_observer_mix(const oz_wu_observer *a, const oz_wu_observer *b, double w,
                            oz_wu_observer *out);

/* ---- FFTW wisdom in a file (wisdom.c) ------------------------------------------------ */

/* Merges the wisdom in path into FFTW's (a missing file is no wisdom yet,
 * OZ_WU_OK; OZ_WU_EFORMAT: not wisdom of this FFTW; the wisdom stays as it
 * was).  oz_wu_wisdom_save writes FFTW's wisdom to path durably when it
 * differs from the file's.  Neither while another thread plans a search
 * (oz_sci_wisdom_import). */
int oz_wu_wisdom_load(const char *path, char *why, size_t whylen);
int oz_wu_wisdom_save(const char *path, char *why, size_t whylen);

/* ---- synthetic recordings (ozma-synth) ------------------------------------------------ */

/* One injected signal.  Frequencies are offsets from the centre at t = 0 of
 * the recording; the signal's frequency at time t is
 * center + offset_hz + chirp_hz_s * t. */
typedef struct oz_wu_inject {
    oz_sig_type type; /* SPIKE: drifting tone; GAUSSIAN: beam crossing;
                         PULSE: pulse train; TRIPLET: three pulses */
    double offset_hz;
    double chirp_hz_s;
    double snr;            /* per-sample power over noise power (linear) */
    double t_start, t_end; /* SPIKE, PULSE: when present (t_end <= t_start: all) */
    double t0;             /* GAUSSIAN: centre; PULSE, TRIPLET: first pulse */
    double sigma_s;        /* GAUSSIAN: beam sigma in power */
    double period_s;       /* PULSE, TRIPLET: spacing of pulses */
    double width_s;        /* PULSE, TRIPLET: length of one pulse */
} oz_wu_inject;

typedef struct oz_wu_synth {
    double sample_rate, center_hz;
    uint64_t nsamples;
    uint64_t seed;
    double noise_power; /* E|z|^2 of the noise (0: none; SNRs then relative to 1) */
    const oz_wu_inject *inj;
    size_t ninj;
    bool has_sky; /* written as ozma:ra_deg/ozma:dec_deg */
    double ra_deg, dec_deg;
    bool has_site; /* written as core:geolocation */
    oz_wu_site site;
    const oz_wu_pointing *track; /* a pointing track (the first point at 0 s), or NULL */
    size_t ntrack;

    /* oz_wu_synth_write calls this (when set) after each chunk written, with
     * the samples written so far: ozma-synth's progress bar. */
    void (*progress)(void *arg, uint64_t done, uint64_t total);
    void *progress_arg;
} oz_wu_synth;

/* Checks a synth description: positive rates, SNRs, periods, offsets inside
 * the band, times inside the recording. */
int oz_wu_synth_check(const oz_wu_synth *s, char *why, size_t whylen);

/* A generator of the recording's samples, chunk by chunk, in constant memory
 * (the same samples, up to float rounding, whatever the chunk sizes: the
 * noise is one random sequence and tones keep their phase across chunks). */
typedef struct oz_wu_synth_gen oz_wu_synth_gen;
int oz_wu_synth_gen_new(const oz_wu_synth *s, oz_wu_synth_gen **out, char *why, size_t whylen);
/* The next n samples (at most the remaining ones; *got says how many), all
 * multiplied by `scale`. */
int oz_wu_synth_gen_next(oz_wu_synth_gen *g, float *iq, size_t n, float scale, size_t *got);
void oz_wu_synth_gen_free(oz_wu_synth_gen *g);

/* The factor oz_wu_synth_write applies to the generator's samples for a
 * datatype: integer types put the noise at rms_lsb LSBs per component
 * (0: an eighth of full scale) in full-scale-1.0 floats; cf32 is 1. */
double oz_wu_synth_scale(const oz_wu_synth *s, const char *datatype, double rms_lsb);

/* The truth file: recording parameters and every injected signal with its
 * absolute frequency at its reference time (time_s), extent and SNR. */
json_t *oz_wu_synth_truth(const oz_wu_synth *s, const char *datatype, const char *datetime);

/* Writes STEM.sigmf-{meta,data} in `datatype` at oz_wu_synth_scale;
 * datetime (may be NULL) is the start time; *clipped (may be NULL) counts
 * values clipped by quantisation. */
int oz_wu_synth_write(const oz_wu_synth *s, const char *stem, const char *datatype, double rms_lsb,
                      const char *datetime, uint64_t *clipped, char *why, size_t whylen);

/* ---- SETI@home v8 result files (sahresult.c) -------------------------------------- */

/* Ozma's result as SETI@home v8's result XML and back, so v8's tools can read
 * what Ozma finds and Ozma can compare itself with v8's reference results.
 * v8 counts time as a Julian date at the detection's centre and reports two
 * frequencies: <detection_freq> (at the detection: Ozma's freq_hz) and <freq>
 * (dechirped to the unit's start, freq_hz - chirp * time_s; for autocorr the
 * subband centre, as v8 does).  The <pot> bytes are not kept by Ozma: the
 * writer omits them and the parser skips them. */

#define OZ_WU_SAH_VERSION "8.00" /* what v8's validator requires in <setiathome_version> */
#define OZ_WU_SAH_COORDS_MAX 100000u /* track points a result's info may give */


/* What the signals alone do not say about the unit. */
typedef struct oz_wu_sah_result_info {
    double start_jd;               /* the unit's first sample (v8's time_recorded_jd) */
    double subband_hz;             /* centre of the band (v8's subband_desc/center) */
    const oz_wu_sah_coord *coords; /* track in ascending jd, or NULL: <ra>, <decl> are 0 */
    size_t ncoords;
    /* "<workunit_header>...</workunit_header>" to copy verbatim after
     * <result>, or NULL for none. */
    const char *workunit_header;
    size_t workunit_header_len;
} oz_wu_sah_result_info;

/* Writes r as v8 result XML into *out (malloc'd, NUL-terminated, *len bytes
 * without the NUL; the caller frees it): signals in list order, the best of
 * each type present, <ozma_kernel_version>, <setiathome_version>.  Lines
 * have no v8 element: they are left out, counted, and noted in a comment.
 * Returns how many were left out (>= 0; the best line counts too), or a
 * negative oz_wu_err (OZ_WU_EINVAL naming a non-finite field or a bad info;
 * *out is NULL then). */
int oz_wu_sah_result_write(const oz_sci_result *r, const oz_wu_sah_result_info *info, char **out,
                           size_t *len, char *why, size_t whylen);

/* Parses v8 result XML from a stranger (at most OZ_WU_RESULT_MAX bytes and
 * OZ_SCI_SIGNALS_MAX signals; unknown elements, duplicate or missing fields
 * and malformed numbers are OZ_WU_EFORMAT naming the line and element) into
 * Ozma's conventions: time_s from info's start_jd, or when info is NULL from
 * the file's <workunit_header><time_recorded_jd>; freq_hz = <detection_freq>;
 * score from <score> where v8 has one (gaussian, pulse), else 0.  On success
 * *out owns its signals (free with oz_sci_result_clear). */
int oz_wu_sah_result_parse(const char *xml, size_t len, const oz_wu_sah_result_info *info,
                           oz_sci_result *out, char *why, size_t whylen);

#endif /* OZMA_WORKUNITS_H */
