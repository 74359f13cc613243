/*
 * ozma_search.c - `ozma-search`: run the search kernel on a recording or a
 * work unit.
 *
 * The command-line face of science/ and workunits/ (DESIGN.md §2-3).  The
 * input is one of three things, told apart before anything is searched:
 *
 *   - a SigMF recording (NAME, NAME.sigmf-meta or NAME.sigmf-data), whose
 *     metadata gives the sample rate, centre frequency and start time;
 *   - an .ozwu work unit (recognised by its magic), verified in full by the
 *     library and searched whole with the analysis configuration in its
 *     header, as a worker would search it;
 *   - a SETI@home work unit (.sah, recognised by its content), searched
 *     whole with the configuration its analysis_cfg gives (oz_wu_sah_config);
 *   - headerless interleaved samples, when --sample-rate is given (--format
 *     ci8|ci16|cf32, cf32 by default: the program's original input).
 *
 * A recording (SigMF or headerless) longer than one unit is searched unit by
 * unit exactly as the splitter would cut it (oz_wu_search_plan): times come
 * back on the recording's clock and a signal seen in two overlapping units
 * is reported once.  A recording of at most one unit is searched whole, as
 * before units existed: a short headerless file still works with no unit
 * options, and nothing is gained by refusing it.  The result is the kernel's
 * JSON plus time_utc/start_utc when the input has a start time
 * (oz_wu_search_json), on stdout or written durably to --out.
 *
 * The flags that describe a recording and its analysis are the rows of
 * ozma_cli.h's shared table, parsed and documented there alike for
 * ozma-split and ozma-server load; this file has only its own (--out,
 * --result-format, --version).  The analysis configuration starts from the
 * defaults (or the unit's header), then --config FILE.json, then the flags,
 * whatever their order (oz_cli_config); every configuration key is a flag
 * (--gauss-sigma-s 0.4).  OZ_NO_AVX2 in the environment sets the
 * configuration's no_avx2 (the kernel's portable code; the same result).
 *
 * Exit status: 0 success; 1 a runtime failure (out of memory, I/O error
 * while reading or writing); 2 bad input or usage, always with exactly one
 * line on stderr that starts "ozma-search: " and names the file or flag at
 * fault.  Everything is checked before the search starts: what the input
 * is, by the library (oz_wu_probe), a headerless file's size before it is
 * opened as samples, SigMF metadata and .ozwu headers and hashes by the
 * library, every number with an end check, the configuration with
 * oz_sci_config_check and against the unit length.  Samples are streamed one unit at a time, so
 * memory does not grow with the recording.
 *
 * The progress bar (unit i/n, kernel steps, elapsed time, ETA) goes to
 * stderr only when stderr is a terminal (and not with --quiet), so logs and
 * pipes stay clean.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ozma_science.h"
#include "ozma_workunits.h"
#include "ozma_cli.h"

#ifndef OZMA_VERSION
#define OZMA_VERSION "0.1.0" /* keep in step with project() in CMakeLists.txt */
#endif

#define PROG "ozma-search"

typedef struct options {
    oz_cli *cli;          /* the shared flags: oz_cli_flags_of(cli) */
    const char *input;    /* the recording or unit */
    const char *out_path; /* --out, or NULL for stdout */
    oz_wu_raw_params raw; /* the headerless samples' parameters, when is_raw */
    bool is_raw;          /* --sample-rate given: the input is headerless samples */
    bool sah_out;         /* --result-format sah */
    const char *wisdom;   /* --fft-wisdom FILE, or NULL */
} options;

/* In parts: C99 promises string literals of 4095 characters only. */
static const char *const usage_text[] = {
    "NAME\n"
    "    ozma-search - search a recording or a work unit for narrowband signals\n"
    "\n"
    "SYNOPSIS\n"
    "    ozma-search [options] RECORDING\n"
    "    ozma-search [options] UNIT.ozwu\n"
    "    ozma-search [options] UNIT.sah\n"
    "    ozma-search --sample-rate HZ [--format F] [options] FILE\n"
    "\n"
    "DESCRIPTION\n"
    "    Runs the Ozma kernel's SETI@home-style search: for every chirp rate in\n"
    "    [-chirp_max, chirp_max] the samples are dechirped and power spectra at\n"
    "    every FFT length from fft_min to fft_max are searched for spikes,\n"
    "    Gaussians, pulses, triplets and persistent drifting lines.  The result\n"
    "    is written as JSON: the signals found (absolute frequency, chirp rate,\n"
    "    time, FFT length, power, score), the best signal of each type, counts,\n"
    "    the FLOP count and CPU time.\n"
    "\n"
    "    The input is one of:\n",
    "\n"
    "    RECORDING   a SigMF recording, named by NAME, NAME.sigmf-meta or\n"
    "                NAME.sigmf-data (datatypes ci8, ci16_le/be, cf32_le/be);\n"
    "                the sample rate, centre frequency and start time come from\n"
    "                its metadata.\n"
    "    UNIT.ozwu   a work unit written by ozma-split (recognised by its\n"
    "                contents, whatever its name).  Its sizes and SHA-256 hashes\n"
    "                are verified, then it is searched whole with the analysis\n"
    "                configuration in its header, as a worker would; time_s\n"
    "                counts from the unit's first sample.\n"
    "    UNIT.sah    a SETI@home work unit (recognised by its <workunit_header>,\n"
    "                whatever its name), checked strictly and searched whole: its\n"
    "                2-bit samples, sample rate, start time, subband_base as the\n"
    "                centre, and the configuration derived from its analysis_cfg.\n"
    "    FILE        headerless interleaved samples (I then Q, little-endian),\n"
    "                when --sample-rate is given; --format says how they are\n"
    "                stored (cf32 by default).\n"
    "\n"
    "    A recording (SigMF or headerless) longer than one unit is searched as\n"
    "    the splitter cuts it: units of --unit-samples samples, consecutive ones\n"
    "    sharing --overlap of a unit, the last aligned to the recording's end.\n"
    "    Each unit is searched on its own, exactly as a worker searches its\n"
    "    .ozwu file; the signals are put on the recording's clock (time_s from\n"
    "    its first sample) and a signal found in two overlapping units, or a\n"
    "    tone found in every unit, is reported once, at its strongest.  A\n"
    "    recording of at most one unit is searched whole, as one unit.\n"
    "\n"
    "    When the input has a start time (SigMF core:datetime, --datetime, an\n"
    "    .ozwu start_utc), every signal also carries time_utc, the UTC of its\n"
    "    time_s, and the result carries start_utc.\n"
    "\n"
    "    The analysis configuration starts from the built-in defaults (FFT 8 to\n"
    "    131072, chirp +-100 Hz/s), the .ozwu header or the .sah analysis_cfg,\n"
    "    then --config, then the flags below, whatever their order.\n"
    "\n",
    NULL,
};

static const char *const epilogue_text[] = {
    "ENVIRONMENT\n"
    "    OZ_NO_AVX2            when set, the kernel runs its portable vector code\n"
    "                          even where the CPU has AVX2 (the same result)\n"
    "\n"
    "EXIT STATUS\n"
    "    0  the search ran and the result was written\n"
    "    1  a runtime failure (out of memory, error reading the input or writing\n"
    "       the result)\n"
    "    2  bad usage or input (unreadable or malformed file, bad SigMF metadata,\n"
    "       a damaged .ozwu or .sah unit, bad numbers, bad configuration, non-finite\n"
    "       samples); one line on standard error says what\n"
    "\n"
    "EXAMPLES\n"
    "    ozma-search --fft-max 4096 --chirp-max 10 rec.sigmf-meta --out result.json\n"
    "    ozma-search --unit-samples 2^16 --fft-max 4096 --chirp-max 5 rec\n"
    "    ozma-search units/rec-000003.ozwu > result.json\n"
    "    ozma-search --sample-rate 9765.625 --center-freq 1420e6 --format ci16 \\\n"
    "        --datetime 2024-05-01T12:00:00Z --fft-max 4096 capture.bin\n",
    NULL,
};

/* ---- arguments ------------------------------------------------------------- */

/* This program's own rows; the rest are the shared table's (ozma_cli.h). */
enum { O_OUT = 1, O_RESULT_FORMAT, O_WISDOM, O_VERSION };

static const oz_cli_opt own_opts[] = {
    {"out", 'o', "FILE", OZ_CLI_GENERAL, 0, O_OUT,
     "write the result to FILE (atomically) instead of\nstandard output; a device or FIFO is "
     "written\nstraight through, a directory is refused"},
    {"result-format", 0, "F", OZ_CLI_GENERAL, 0, O_RESULT_FORMAT,
     "json (default) or sah: SETI@home's result XML, as\nv8's reference_result_unit.sah (needs a "
     "start time)"},
    {"fft-wisdom", 0, "FILE", OZ_CLI_GENERAL, 0, O_WISDOM,
     "keep FFTW's wisdom in FILE: read before planning\n(when it exists), written back after "
     "the search\nwhen the planner learned more, so a slow planner\n(\"planner\": \"patient\") "
     "is paid once per machine"},
    {"version", 'V', NULL, OZ_CLI_GENERAL, 0, O_VERSION, "print the version and exit"},
    {NULL, 0, NULL, OZ_CLI_GENERAL, 0, 0, NULL},
};

static const oz_cli_program program = {PROG,     OZ_CLI_SEARCH, OZ_CLI_RAW_BY_RATE,
                                       own_opts, usage_text,    epilogue_text};

/* Fills *opt from argv.  Returns EXIT_OK to go on, OZ_CLI_DONE after --help
 * or --version, or an exit status.  opt->cli is the caller's to free,
 * whatever the return. */
static int parse_args(int argc, char **argv, options *opt)
{
    const char *v;
    int id, n, rc;

    memset(opt, 0, sizeof *opt);
    if ((rc = oz_cli_new(&program, argc, argv, &opt->cli)) != EXIT_OK)
        return rc;
    while ((rc = oz_cli_next(opt->cli, &id, &v)) == EXIT_OK && id) {
        switch (id) {
        case O_OUT:
            opt->out_path = v;
            break;
        case O_RESULT_FORMAT:
            if (strcmp(v, "sah") != 0 && strcmp(v, "json") != 0)
                return oz_cli_complain(PROG, EXIT_BADINPUT,
                                       "--result-format: \"%s\" is not json or sah", v);
            opt->sah_out = v[0] == 's';
            break;
        case O_WISDOM:
            opt->wisdom = v;
            break;
        case O_VERSION:
            printf("%s %s (%s)\n", PROG, OZMA_VERSION, OZ_SCI_KERNEL_VERSION);
            return OZ_CLI_DONE;
        }
    }
    if (rc != EXIT_OK)
        return rc;
    char **operands = oz_cli_operands(opt->cli, &n);
    if (n == 0)
        return oz_cli_complain(PROG, EXIT_BADINPUT, "no input file given (see --help)");
    if (n > 1)
        return oz_cli_complain(PROG, EXIT_BADINPUT, "one input file expected, got %d (see --help)",
                               n);
    opt->input = operands[0];
    return oz_cli_raw(opt->cli, &opt->raw, &opt->is_raw);
}

/* ---- the input ------------------------------------------------------------- */

/* "complex float32 samples (8 bytes each)", for size messages. */
static const char *format_words(oz_wu_format f)
{
    switch (f) {
    case OZ_WU_CI8:
        return "complex int8 samples (2 bytes each)";
    case OZ_WU_CI16:
        return "complex int16 samples (4 bytes each)";
    default:
        return "complex float32 samples (8 bytes each)";
    }
}

/* Headerless samples (--sample-rate): the file is checked here, with this
 * program's words, before the library opens it - it is none of the inputs
 * the library tells apart on its own (oz_wu_probe: SigMF, .ozwu, .sah),
 * whose own metadata would contradict the flags, and it exists and is a
 * regular non-empty file of whole samples. */
static int check_headerless(const char *path, oz_wu_format f)
{
    static const char *const kinds[] = {
        [OZ_WU_KIND_SIGMF] = "a SigMF recording",
        [OZ_WU_KIND_OZWU] = "an .ozwu unit",
        [OZ_WU_KIND_SAH] = "a SETI@home .sah unit",
    };
    struct stat st;
    int status = EXIT_BADINPUT;

    oz_wu_kind kind = oz_wu_probe(path);
    if (kind != OZ_WU_KIND_UNKNOWN)
        return oz_cli_complain(PROG, EXIT_BADINPUT,
                               "%s: %s carries its own sample rate and format: drop --sample-rate",
                               path, kinds[kind]);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return oz_cli_complain(PROG, EXIT_BADINPUT, "%s: %s", path, strerror(errno));
    if (fstat(fd, &st) != 0) {
        oz_cli_complain(PROG, EXIT_BADINPUT, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (S_ISDIR(st.st_mode)) {
        oz_cli_complain(PROG, EXIT_BADINPUT, "%s: is a directory", path);
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        oz_cli_complain(PROG, EXIT_BADINPUT, "%s: not a regular file (its size must be known)",
                        path);
        goto out;
    }
    if (st.st_size == 0) {
        oz_cli_complain(PROG, EXIT_BADINPUT, "%s: the file is empty", path);
        goto out;
    }
    if ((uintmax_t)st.st_size % oz_wu_format_size(f) != 0) {
        oz_cli_complain(PROG, EXIT_BADINPUT, "%s: %jd bytes is not a whole number of %s", path,
                        (intmax_t)st.st_size, format_words(f));
        goto out;
    }
    status = EXIT_OK;
out:
    close(fd);
    return status;
}

/* Without --sample-rate the input must be SigMF, an .ozwu unit or a
 * SETI@home .sah unit: the library tells them apart (oz_wu_probe) and
 * checks them (oz_wu_open); this only catches what it would refuse as
 * none of them, to say it in this program's terms (its own refusal names
 * ozma-split's raw flags). */
static int check_recorded(const char *path)
{
    struct stat st;
    if (oz_wu_probe(path) != OZ_WU_KIND_UNKNOWN)
        return EXIT_OK;
    if (stat(path, &st) != 0)
        return oz_cli_complain(PROG, EXIT_BADINPUT, "%s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return oz_cli_complain(PROG, EXIT_BADINPUT, "%s: is a directory", path);
    return oz_cli_complain(PROG, EXIT_BADINPUT,
                           "%s: neither a SigMF recording (no .sigmf-meta beside it) nor an .ozwu "
                           "unit; for headerless samples --sample-rate is required (and --format "
                           "unless cf32)",
                           path);
}

/* ---- progress -------------------------------------------------------------- */

typedef struct progress {
    double start; /* monotonic seconds */
    double last;  /* last redraw */
} progress;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void format_duration(char *buf, size_t len, double s)
{
    if (!isfinite(s) || s < 0)
        s = 0;
    unsigned long t = (unsigned long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, len, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, len, "%lu:%02lu", t / 60, t % 60);
}

/* Redraws the bar at most ten times a second, and always at the end.  Every
 * unit has the same number of steps, so the fraction done is
 * (unit + step/nsteps) / nunits and the ETA is linear in it. */
static void show_progress(void *arg, uint64_t unit, uint64_t nunits, size_t done, size_t total)
{
    progress *p = arg;
    double t = now_s();
    bool end = unit + 1 >= nunits && done >= total;
    if (!end && t - p->last < 0.1)
        return;
    p->last = t;
    double in_unit = total ? (double)done / (double)total : 1.0;
    double frac = nunits ? ((double)unit + in_unit) / (double)nunits : 1.0;
    double elapsed = t - p->start;
    char el[32], eta[32], bar[31], units[48] = "";
    format_duration(el, sizeof el, elapsed);
    if (frac > 0)
        format_duration(eta, sizeof eta, elapsed / frac - elapsed);
    else
        snprintf(eta, sizeof eta, "?");
    /* a narrower bar when the unit count shares the line */
    size_t width = nunits > 1 ? 20 : sizeof bar - 1;
    size_t fill = (size_t)(frac * (double)width);
    for (size_t i = 0; i < width; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[width] = '\0';
    if (nunits > 1)
        snprintf(units, sizeof units, "unit %llu/%llu, ", (unsigned long long)(unit + 1),
                 (unsigned long long)nunits);
    fprintf(stderr, "\r%5.1f%% [%s] %s%zu/%zu steps, %s elapsed, ETA %s ", 100.0 * frac, bar, units,
            done, total, el, eta);
    if (end)
        fputc('\n', stderr);
    fflush(stderr);
}

/* ---- output ---------------------------------------------------------------- */

static int write_stdout(const json_t *result)
{
    if (json_dumpf(result, stdout, JSON_INDENT(2)) != 0 || fputc('\n', stdout) == EOF ||
        fflush(stdout) != 0 || ferror(stdout))
        return oz_cli_complain(PROG, EXIT_RUNTIME, "standard output: write failed: %s",
                               strerror(errno));
    return EXIT_OK;
}

/* Writes the result durably (oz_wu_write_file: a temporary file beside
 * `path`, fsync, rename over it, fsync of the directory), so a crash leaves
 * the old file or the new one, never half of one. */
static int write_text(char *text, const char *path);

static int write_durably(const json_t *result, const char *path)
{
    char *text = json_dumps(result, JSON_INDENT(2));
    if (!text)
        return oz_cli_complain(PROG, EXIT_RUNTIME, "%s: out of memory", path);
    return write_text(text, path);
}

/* Writes text (malloc'd, taken) and a newline to path durably, or to
 * standard output when path is NULL. */
static int write_text(char *text, const char *path)
{
    char why[512];
    if (!path) {
        int bad = fputs(text, stdout) == EOF || fflush(stdout) != 0 || ferror(stdout);
        free(text);
        return bad ? oz_cli_complain(PROG, EXIT_RUNTIME, "standard output: write failed: %s",
                                     strerror(errno))
                   : EXIT_OK;
    }
    size_t len = strlen(text);
    char *line = realloc(text, len + 2);
    if (!line) {
        free(text);
        return oz_cli_complain(PROG, EXIT_RUNTIME, "%s: out of memory", path);
    }
    line[len] = '\n';
    line[len + 1] = '\0';
    int rc = oz_wu_write_file(path, line, len + 1, why, sizeof why);
    free(line);
    if (rc != OZ_WU_OK)
        return oz_cli_complain(PROG, EXIT_RUNTIME, "%s", why);
    return EXIT_OK;
}

/* The result as SETI@home's result XML (oz_wu_sah_result_write): times as
 * Julian dates from the input's start, the sky track of a .sah unit. */
static int write_sah(const oz_sci_result *result, const oz_wu_reader *r, const char *path)
{
    char why[512];
    const oz_wu_info *info = oz_wu_reader_info(r);
    const oz_wu_sah *sah = oz_wu_reader_sah(r);
    oz_wu_sah_result_info ri = {0};
    if (sah) {
        ri.start_jd = sah->time_recorded_jd;
        ri.subband_hz = sah->subband_center;
        ri.coords = sah->coords;
        ri.ncoords = sah->ncoords;
    } else if (info->has_time) {
        ri.start_jd = 2440587.5 + (double)info->start_ns / 86400e9;
        ri.subband_hz = info->center_hz;
    } else {
        return oz_cli_complain(PROG, EXIT_BADINPUT,
                               "--result-format sah: %s has no start time for <time> (give "
                               "--datetime)",
                               info->name);
    }
    char *text = NULL;
    size_t len = 0;
    int rc = oz_wu_sah_result_write(result, &ri, &text, &len, why, sizeof why);
    if (rc < 0)
        return oz_cli_complain(PROG, oz_cli_status_of(rc), "--result-format sah: %s", why);
    return write_text(text, path);
}

/* ---- main ------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    options opt;
    const oz_cli_flags *f;
    oz_sci_config base, cfg;
    oz_wu_reader *r = NULL;
    const oz_wu_header *unit_header;
    const oz_wu_sah *sah;
    oz_wu_plan plan;
    oz_sci_result result;
    json_t *json = NULL;
    char why[512] = "";
    progress prog;
    uint64_t n, unit;
    int status, rc;

    memset(&result, 0, sizeof result);
    status = parse_args(argc, argv, &opt);
    if (status != EXIT_OK) {
        status = status == OZ_CLI_DONE ? EXIT_OK : status;
        goto out;
    }
    f = oz_cli_flags_of(opt.cli);
    /* A bad --out (a directory, a socket) is refused before the search, not
     * after it. */
    if (opt.out_path && (status = oz_cli_out_file_check(PROG, "--out", opt.out_path)) != EXIT_OK)
        goto out;

    /* The input: what it is, then opened (and for a unit, verified). */
    status = opt.is_raw ? check_headerless(opt.input, opt.raw.format) : check_recorded(opt.input);
    if (status != EXIT_OK)
        goto out;
    rc = oz_wu_open(opt.input, opt.is_raw ? &opt.raw : NULL, &r, why, sizeof why);
    if (rc != OZ_WU_OK) { /* an unreadable input is bad input */
        status =
            oz_cli_complain(PROG, rc == OZ_WU_ENOMEM ? EXIT_RUNTIME : EXIT_BADINPUT, "%s", why);
        goto out;
    }
    unit_header = oz_wu_reader_unit(r);
    sah = oz_wu_reader_sah(r);
    if ((unit_header || sah) && (f->have_unit_samples || f->have_overlap)) {
        status = oz_cli_complain(PROG, EXIT_BADINPUT,
                                 "%s: %s is searched whole; --unit-samples and --overlap "
                                 "cut recordings",
                                 opt.input, unit_header ? "an .ozwu unit" : "a .sah unit");
        goto out;
    }

    /* The configuration: a unit's own (an .ozwu header's, a .sah's
     * analysis_cfg), or the defaults, under the flags. */
    if (unit_header) {
        base = unit_header->config;
    } else if (sah) {
        if ((rc = oz_wu_sah_config(sah, &base, why, sizeof why)) != OZ_WU_OK) {
            status = oz_cli_complain(PROG, oz_cli_status_of(rc), "%s: %s", opt.input, why);
            goto out;
        }
    } else {
        oz_wu_config_recording(&base);
    }
    cfg = base;
    cfg.no_avx2 = getenv("OZ_NO_AVX2") != NULL;
    if ((status = oz_cli_config(opt.cli, &cfg)) != EXIT_OK)
        goto out;
    if (oz_sci_config_check(&cfg, why, sizeof why) != OZ_SCI_OK) {
        status = oz_cli_complain(PROG, EXIT_BADINPUT, "configuration: %s", why);
        goto out;
    }

    /* The plan: a unit, or a recording of at most one unit, whole; a longer
     * recording as the splitter cuts it. */
    n = oz_wu_reader_info(r)->nsamples;
    unit = f->unit_samples;
    if (unit_header || sah || n <= unit) {
        if (cfg.fft_max > n) {
            status = oz_cli_complain(PROG, EXIT_BADINPUT,
                                     "%s: fft_max %u is larger than the file's %llu samples (lower "
                                     "--fft-max)",
                                     opt.input, cfg.fft_max, (unsigned long long)n);
            goto out;
        }
        rc = oz_wu_plan_whole(n, &plan, why, sizeof why);
    } else {
        if (cfg.fft_max > unit) {
            status = oz_cli_complain(PROG, EXIT_BADINPUT,
                                     "%s: units of %llu samples are shorter than fft_max %u (raise "
                                     "--unit-samples or lower --fft-max)",
                                     opt.input, (unsigned long long)unit, cfg.fft_max);
            goto out;
        }
        rc = oz_wu_plan_make(n, unit, f->overlap, &plan, why, sizeof why);
    }
    if (rc != OZ_WU_OK) {
        status = oz_cli_complain(PROG, oz_cli_status_of(rc), "%s: %s", opt.input, why);
        goto out;
    }

    if (opt.wisdom && (rc = oz_wu_wisdom_load(opt.wisdom, why, sizeof why)) != OZ_WU_OK) {
        status = oz_cli_complain(PROG, oz_cli_status_of(rc), "--fft-wisdom: %s", why);
        goto out;
    }
    prog.start = now_s();
    prog.last = 0;
    rc =
        oz_wu_search_plan(r, &plan, &cfg, !f->quiet && isatty(STDERR_FILENO) ? show_progress : NULL,
                          &prog, &result, why, sizeof why);
    if (rc != OZ_WU_OK) {
        status = oz_cli_complain(PROG, oz_cli_status_of(rc), "%s", why);
        goto out;
    }
    if (opt.wisdom && (rc = oz_wu_wisdom_save(opt.wisdom, why, sizeof why)) != OZ_WU_OK) {
        status = oz_cli_complain(PROG, EXIT_RUNTIME, "--fft-wisdom: %s", why);
        goto out;
    }
    if (opt.sah_out) {
        status = write_sah(&result, r, opt.out_path);
        goto out;
    }
    json = oz_wu_search_json(&result, r);
    if (!json) {
        status = oz_cli_complain(PROG, EXIT_RUNTIME, "out of memory for the result");
        goto out;
    }
    status = opt.out_path ? write_durably(json, opt.out_path) : write_stdout(json);
out:
    json_decref(json);
    oz_sci_result_clear(&result);
    oz_wu_reader_close(r);
    oz_cli_free(opt.cli);
    return status;
}
