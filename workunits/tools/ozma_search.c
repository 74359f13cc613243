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
 * The analysis configuration starts from the defaults (or the unit's
 * header), then --config FILE.json, then the flags, whatever their order.
 * Besides --chirp-max, --fft-min, --fft-max and --planner (parsed here, with
 * their own messages), every other configuration key is a flag too
 * (--gauss-sigma-s 0.4): the list is taken from oz_sci_config_to_json, so
 * the kernel stays the only place that knows the keys.  OZ_NO_AVX2 in the
 * environment sets the configuration's no_avx2 (the kernel's portable code;
 * the same result).
 *
 * Exit status: 0 success; 1 a runtime failure (out of memory, I/O error
 * while reading or writing); 2 bad input or usage, always with exactly one
 * line on stderr that starts "ozma-search: " and names the file or flag at
 * fault.  Everything is checked before the search starts: a headerless
 * file's size before it is opened as samples, SigMF metadata and .ozwu
 * headers and hashes by the library, every number with strtod/strtoul and an
 * end check, the configuration with oz_sci_config_check and against the
 * unit length.  Samples are streamed one unit at a time, so memory does not
 * grow with the recording.
 *
 * The progress bar (unit i/n, kernel steps, elapsed time, ETA) goes to
 * stderr only when stderr is a terminal (and not with --quiet), so logs and
 * pipes stay clean.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
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

/* One analysis flag other than the four parsed here: --KEY VALUE. */
typedef struct key_flag {
    const char *key;   /* flag name without "--" (owned by the flag table) */
    const char *value; /* argv text */
} key_flag;

typedef struct options {
    const char *input;       /* the recording or unit */
    const char *config_path; /* --config, or NULL */
    const char *out_path;    /* --out, or NULL for stdout */
    const char *datetime;    /* --datetime, checked, or NULL */
    key_flag *keys;          /* other analysis flags in command-line order */
    size_t nkeys;
    double sample_rate;        /* --sample-rate (> 0 once parsed), when raw */
    double center_hz;          /* --center-freq, when have_center */
    double overlap;            /* --overlap, when have_overlap */
    double chirp_max;          /* --chirp-max, when have_chirp_max */
    uint64_t unit_samples;     /* --unit-samples, 0 when not given */
    uint32_t fft_min, fft_max; /* --fft-min / --fft-max, 0 when not given */
    oz_wu_format format;       /* --format, OZ_WU_CF32 when not given */
    oz_fft_planner planner;    /* --planner, when have_planner */
    oz_sci_mode mode;          /* --report, when have_mode */
    bool sah_out;              /* --result-format sah */
    bool raw;                  /* --sample-rate given: FILE is headerless samples */
    bool have_center, have_format, have_overlap, have_chirp_max, have_planner, have_mode;
    bool quiet;
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
    "OPTIONS\n"
    "    --unit-samples N      unit size for recordings, a power of two from 2^8\n"
    "                          to 2^26, as 65536 or 2^16 (default 2^20)\n"
    "    --overlap F           fraction of a unit shared by consecutive units,\n"
    "                          0 to 0.75 (default 0.125)\n"
    "    -o, --out FILE        write the result to FILE (atomically) instead of\n"
    "                          standard output; a device or FIFO is written\n"
    "                          straight through, a directory is refused\n"
    "    -q, --quiet           no progress bar (otherwise shown on standard error\n"
    "                          when it is a terminal: unit i/n, steps, ETA)\n"
    "    -h, --help            print this text and exit\n"
    "    -V, --version         print the version and exit\n"
    "\n"
    "  Headerless samples (--sample-rate makes FILE headerless):\n"
    "    --sample-rate HZ      sample rate of FILE in Hz\n"
    "    --format F            ci8, ci16 or cf32: int8, int16 or float32 I and Q,\n"
    "                          2, 4 or 8 bytes a sample (default cf32)\n"
    "    --center-freq HZ      centre frequency in Hz, added to every reported\n"
    "                          frequency (default 0)\n"
    "    --datetime ISO8601    UTC of the first sample, e.g. 2024-05-01T12:00:00Z\n"
    "\n"
    "  Analysis:\n"
    "    --config FILE.json    JSON object of configuration keys to override the\n"
    "                          defaults, e.g. {\"fft_max\": 4096, \"spike_thresh\": 30}\n"
    "    --chirp-max HZ_PER_S  largest drift rate searched, both signs\n"
    "    --fft-min N           smallest FFT length (a power of two, >= 8)\n"
    "    --fft-max N           largest FFT length (a power of two, <= 131072 and\n"
    "                          at most the samples in a unit)\n"
    "    --planner P           FFTW planning: estimate (default), measure, patient\n"
    "    --report R            ozma: Ozma's search, each signal reported once at its\n"
    "                          strongest (default for recordings and .ozwu units);\n"
    "                          seti: SETI@home v8's search, every detection as v8\n"
    "                          reports it (default for .sah units)\n"
    "    --result-format F     json (default) or sah: SETI@home's result XML, as\n"
    "                          v8's reference_result_unit.sah (needs a start time)\n"
    "    --KEY VALUE           any other configuration key, '_' written '-', e.g.\n"
    "                          --spike-thresh 30 --gauss-sigma-s 0.4\n"
    "\n",
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
};

/* ---- arguments ------------------------------------------------------------- */

/* An FFT length: a decimal power of two in [OZ_SCI_FFT_MIN, OZ_SCI_FFT_MAX]. */
static int parse_fft_len(const char *flag, const char *text, uint32_t *out)
{
    char *end;
    errno = 0;
    /* strtoul accepts a sign and wraps negative numbers; allow digits only. */
    if (text[0] < '0' || text[0] > '9')
        return oz_cli_complain(PROG, EXIT_BADINPUT, "%s: \"%s\" is not a positive whole number",
                               flag, text);
    unsigned long v = strtoul(text, &end, 10);
    if (*end != '\0')
        return oz_cli_complain(PROG, EXIT_BADINPUT, "%s: \"%s\" is not a positive whole number",
                               flag, text);
    if (errno == ERANGE || v < OZ_SCI_FFT_MIN || v > OZ_SCI_FFT_MAX)
        return oz_cli_complain(PROG, EXIT_BADINPUT, "%s: %s is outside the FFT lengths %u to %u",
                               flag, text, OZ_SCI_FFT_MIN, OZ_SCI_FFT_MAX);
    if ((v & (v - 1)) != 0)
        return oz_cli_complain(PROG, EXIT_BADINPUT, "%s: %lu is not a power of two", flag, v);
    *out = (uint32_t)v;
    return EXIT_OK;
}

static int parse_planner(const char *text, oz_fft_planner *out)
{
    if (strcmp(text, "estimate") == 0)
        *out = OZ_FFT_ESTIMATE;
    else if (strcmp(text, "measure") == 0)
        *out = OZ_FFT_MEASURE;
    else if (strcmp(text, "patient") == 0)
        *out = OZ_FFT_PATIENT;
    else
        return oz_cli_complain(PROG, EXIT_BADINPUT,
                               "--planner: \"%s\" is not estimate, measure or patient", text);
    return EXIT_OK;
}

/* --format, once parsed. */
static int parse_format(const char *text, oz_wu_format *out)
{
    if (oz_wu_format_parse(text, out) != OZ_WU_OK)
        return oz_cli_complain(PROG, EXIT_BADINPUT, "--format: \"%s\" is not ci8, ci16 or cf32",
                               text);
    return EXIT_OK;
}

enum {
    O_RATE = 256,
    O_CENTER,
    O_FORMAT,
    O_DATETIME,
    O_UNIT,
    O_OVERLAP,
    O_CONFIG,
    O_CHIRP,
    O_FFTMIN,
    O_FFTMAX,
    O_PLANNER,
    O_REPORT,
    O_RESULT_FORMAT,
    O_KEY, /* any other analysis key */
};

static const struct option fixed_opts[] = {
    {"sample-rate", required_argument, NULL, O_RATE},
    {"center-freq", required_argument, NULL, O_CENTER},
    {"format", required_argument, NULL, O_FORMAT},
    {"datetime", required_argument, NULL, O_DATETIME},
    {"unit-samples", required_argument, NULL, O_UNIT},
    {"overlap", required_argument, NULL, O_OVERLAP},
    {"config", required_argument, NULL, O_CONFIG},
    {"chirp-max", required_argument, NULL, O_CHIRP},
    {"fft-min", required_argument, NULL, O_FFTMIN},
    {"fft-max", required_argument, NULL, O_FFTMAX},
    {"planner", required_argument, NULL, O_PLANNER},
    {"report", required_argument, NULL, O_REPORT},
    {"mode", required_argument, NULL, O_REPORT},
    {"result-format", required_argument, NULL, O_RESULT_FORMAT},
    {"out", required_argument, NULL, 'o'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
};

/* The long options: the fixed ones above, then one O_KEY option per other
 * key of the kernel's configuration, spelt with '-' for '_'. */
typedef struct flag_table {
    struct option *opts; /* ends with a zero entry */
    char *names;         /* the O_KEY options' names, NUL-separated */
} flag_table;

static void flag_table_free(flag_table *t)
{
    free(t->opts);
    free(t->names);
    t->opts = NULL;
    t->names = NULL;
}

static int flag_table_make(flag_table *t)
{
    const size_t nfixed = sizeof fixed_opts / sizeof fixed_opts[0];
    oz_sci_config def;
    oz_sci_config_default(&def);
    json_t *keys = oz_sci_config_to_json(&def);
    const char *k;
    json_t *v;
    size_t bytes = 1;

    t->opts = NULL;
    t->names = NULL;
    json_object_foreach(keys, k, v)
    {
        (void)v;
        bytes += strlen(k) + 1;
    }
    if (keys) {
        t->opts = calloc(nfixed + json_object_size(keys) + 1, sizeof *t->opts);
        t->names = malloc(bytes);
    }
    if (!keys || !t->opts || !t->names) {
        json_decref(keys);
        flag_table_free(t);
        return oz_cli_complain(PROG, EXIT_RUNTIME, "out of memory");
    }
    memcpy(t->opts, fixed_opts, sizeof fixed_opts);
    size_t n = nfixed;
    char *p = t->names;
    json_object_foreach(keys, k, v)
    {
        size_t len = strlen(k);
        bool fixed = false;
        for (size_t i = 0; i <= len; i++)
            p[i] = k[i] == '_' ? '-' : k[i];
        for (size_t i = 0; i < nfixed; i++)
            fixed |= strcmp(fixed_opts[i].name, p) == 0;
        if (!fixed)
            t->opts[n++] = (struct option){p, required_argument, NULL, O_KEY};
        p += len + 1;
    }
    json_decref(keys);
    return EXIT_OK;
}

/* Fills *opt from argv.  Returns EXIT_OK to go on, or an exit status; -1
 * means "done, exit 0" (--help, --version).  opt->keys is allocated here
 * and freed by the caller, whatever the return. */
static int parse_args(int argc, char **argv, const flag_table *t, options *opt)
{
    char why[256];
    int c, li = 0, rc = EXIT_OK;

    memset(opt, 0, sizeof *opt);
    opt->format = OZ_WU_CF32;
    opt->keys = calloc((size_t)argc + 1, sizeof *opt->keys); /* at most one per argument */
    if (!opt->keys)
        return oz_cli_complain(PROG, EXIT_RUNTIME, "out of memory");
    opterr = 0; /* we word the messages ourselves */
    while ((c = getopt_long(argc, argv, ":o:qhV", t->opts, &li)) != -1) {
        switch (c) {
        case O_RATE:
            rc = oz_cli_parse_double(PROG, "--sample-rate", optarg, &opt->sample_rate);
            if (rc == EXIT_OK && !(opt->sample_rate > 0))
                rc = oz_cli_complain(PROG, EXIT_BADINPUT,
                                     "--sample-rate: %s must be greater than 0", optarg);
            opt->raw = true;
            break;
        case O_CENTER:
            rc = oz_cli_parse_double(PROG, "--center-freq", optarg, &opt->center_hz);
            if (rc == EXIT_OK && fabs(opt->center_hz) > OZ_WU_FREQ_MAX)
                rc = oz_cli_complain(PROG, EXIT_BADINPUT, "--center-freq: %s is beyond +-1e12 Hz",
                                     optarg);
            opt->have_center = true;
            break;
        case O_FORMAT:
            rc = parse_format(optarg, &opt->format);
            opt->have_format = true;
            break;
        case O_DATETIME: {
            int64_t ns;
            if (oz_wu_time_parse(optarg, &ns, why, sizeof why) != OZ_WU_OK)
                rc = oz_cli_complain(PROG, EXIT_BADINPUT, "--datetime: %s", why);
            opt->datetime = optarg;
            break;
        }
        case O_UNIT:
            if (oz_wu_parse_unit_samples(optarg, &opt->unit_samples, why, sizeof why) != OZ_WU_OK)
                rc = oz_cli_complain(PROG, EXIT_BADINPUT, "%s", why);
            break;
        case O_OVERLAP:
            rc = oz_cli_parse_double(PROG, "--overlap", optarg, &opt->overlap);
            if (rc == EXIT_OK && !(opt->overlap >= 0 && opt->overlap <= OZ_WU_OVERLAP_MAX))
                rc = oz_cli_complain(PROG, EXIT_BADINPUT,
                                     "--overlap: %s is not a fraction from 0 to %g", optarg,
                                     OZ_WU_OVERLAP_MAX);
            opt->have_overlap = true;
            break;
        case O_CONFIG:
            opt->config_path = optarg;
            break;
        case O_CHIRP:
            rc = oz_cli_parse_double(PROG, "--chirp-max", optarg, &opt->chirp_max);
            opt->have_chirp_max = true;
            break;
        case O_FFTMIN:
            rc = parse_fft_len("--fft-min", optarg, &opt->fft_min);
            break;
        case O_FFTMAX:
            rc = parse_fft_len("--fft-max", optarg, &opt->fft_max);
            break;
        case O_PLANNER:
            rc = parse_planner(optarg, &opt->planner);
            opt->have_planner = true;
            break;
        case O_REPORT:
            if (strcmp(optarg, "seti") == 0 || strcmp(optarg, "ozma") == 0) {
                opt->mode = optarg[0] == 's' ? OZ_MODE_SETI : OZ_MODE_OZMA;
                opt->have_mode = true;
            } else {
                rc = oz_cli_complain(PROG, EXIT_BADINPUT, "--report: \"%s\" is not ozma or seti",
                                     optarg);
            }
            break;
        case O_RESULT_FORMAT:
            if (strcmp(optarg, "sah") == 0 || strcmp(optarg, "json") == 0)
                opt->sah_out = optarg[0] == 's';
            else
                rc = oz_cli_complain(PROG, EXIT_BADINPUT,
                                     "--result-format: \"%s\" is not json or sah", optarg);
            break;
        case O_KEY: /* applied after --config, in build_config */
            opt->keys[opt->nkeys].key = t->opts[li].name;
            opt->keys[opt->nkeys].value = optarg;
            opt->nkeys++;
            break;
        case 'o':
            opt->out_path = optarg;
            break;
        case 'q':
            opt->quiet = true;
            break;
        case 'h':
            for (size_t i = 0; i < sizeof usage_text / sizeof usage_text[0]; i++)
                fputs(usage_text[i], stdout);
            return -1;
        case 'V':
            printf("%s %s (%s)\n", PROG, OZMA_VERSION, OZ_SCI_KERNEL_VERSION);
            return -1;
        default: /* ':' or '?' */
            return oz_cli_getopt_complain(PROG, c, argv);
        }
        if (rc != EXIT_OK)
            return rc;
    }
    if (optind >= argc)
        return oz_cli_complain(PROG, EXIT_BADINPUT, "no input file given (see --help)");
    if (optind + 1 < argc)
        return oz_cli_complain(PROG, EXIT_BADINPUT, "one input file expected, got %d (see --help)",
                               argc - optind);
    if (!opt->raw && (opt->have_format || opt->have_center || opt->datetime))
        return oz_cli_complain(PROG, EXIT_BADINPUT,
                               "--format, --center-freq and --datetime describe "
                               "headerless samples: give --sample-rate too");
    opt->input = argv[optind];
    return EXIT_OK;
}

/* ---- configuration --------------------------------------------------------- */

/* `base` (the defaults, or an .ozwu unit's header), then --config, then the
 * flags; checked as a whole at the end. */
static int build_config(const options *opt, const oz_sci_config *base, oz_sci_config *cfg)
{
    char why[256];
    *cfg = *base;
    cfg->no_avx2 = getenv("OZ_NO_AVX2") != NULL;
    if (opt->config_path) {
        json_error_t err;
        json_t *obj = json_load_file(opt->config_path, JSON_REJECT_DUPLICATES, &err);
        if (!obj) {
            if (err.line < 0) /* could not open or read it; the text names the file */
                return oz_cli_complain(PROG, EXIT_BADINPUT, "--config: %s", err.text);
            return oz_cli_complain(PROG, EXIT_BADINPUT, "%s:%d:%d: %s", opt->config_path, err.line,
                                   err.column, err.text);
        }
        int rc = oz_sci_config_from_json(obj, cfg, why, sizeof why);
        json_decref(obj);
        if (rc != OZ_SCI_OK)
            return oz_cli_complain(PROG, EXIT_BADINPUT, "%s: %s", opt->config_path, why);
    }
    if (opt->have_chirp_max)
        cfg->chirp_max = opt->chirp_max;
    if (opt->fft_min)
        cfg->fft_min = opt->fft_min;
    if (opt->fft_max)
        cfg->fft_max = opt->fft_max;
    if (opt->have_planner)
        cfg->planner = opt->planner;
    if (opt->have_mode)
        cfg->mode = opt->mode;
    for (size_t i = 0; i < opt->nkeys; i++)
        if (oz_wu_config_set(cfg, opt->keys[i].key, opt->keys[i].value, why, sizeof why) !=
            OZ_WU_OK)
            return oz_cli_complain(PROG, EXIT_BADINPUT, "%s", why);
    if (oz_sci_config_check(cfg, why, sizeof why) != OZ_SCI_OK)
        return oz_cli_complain(PROG, EXIT_BADINPUT, "configuration: %s", why);
    return EXIT_OK;
}

/* ---- the input ------------------------------------------------------------- */

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

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
 * program's words, before the library opens it - it exists, is a regular
 * non-empty file of whole samples, and is not a SigMF or .ozwu file whose
 * own metadata would contradict the flags. */
static int check_headerless(const char *path, oz_wu_format f)
{
    struct stat st;
    int status = EXIT_BADINPUT;

    if (ends_with(path, ".sigmf-meta") || ends_with(path, ".sigmf-data"))
        return oz_cli_complain(PROG, EXIT_BADINPUT,
                               "%s: a SigMF file's metadata gives its sample rate and format: drop "
                               "--sample-rate",
                               path);
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
    oz_wu_kind kind = oz_wu_probe(path);
    if (kind == OZ_WU_KIND_OZWU || kind == OZ_WU_KIND_SAH) {
        oz_cli_complain(PROG, EXIT_BADINPUT,
                        "%s: %s carries its own sample rate and format: drop --sample-rate", path,
                        kind == OZ_WU_KIND_OZWU ? "an .ozwu unit" : "a SETI@home .sah unit");
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
    flag_table flags;
    oz_sci_config base, cfg;
    oz_wu_raw_params raw;
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
    if ((status = flag_table_make(&flags)) != EXIT_OK)
        return status;
    status = parse_args(argc, argv, &flags, &opt);
    if (status != EXIT_OK) {
        status = status < 0 ? EXIT_OK : status;
        goto out;
    }
    /* A bad --out (a directory, a socket) is refused before the search, not
     * after it. */
    if (opt.out_path && (status = oz_cli_out_file_check(PROG, "--out", opt.out_path)) != EXIT_OK)
        goto out;

    /* The input: what it is, then opened (and for a unit, verified). */
    status = opt.raw ? check_headerless(opt.input, opt.format) : check_recorded(opt.input);
    if (status != EXIT_OK)
        goto out;
    raw = (oz_wu_raw_params){.format = opt.format,
                             .sample_rate = opt.sample_rate,
                             .center_hz = opt.center_hz,
                             .datetime = opt.datetime};
    rc = oz_wu_open(opt.input, opt.raw ? &raw : NULL, &r, why, sizeof why);
    if (rc != OZ_WU_OK) { /* an unreadable input is bad input */
        status =
            oz_cli_complain(PROG, rc == OZ_WU_ENOMEM ? EXIT_RUNTIME : EXIT_BADINPUT, "%s", why);
        goto out;
    }
    unit_header = oz_wu_reader_unit(r);
    sah = oz_wu_reader_sah(r);
    if ((unit_header || sah) && (opt.unit_samples || opt.have_overlap)) {
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
    if ((status = build_config(&opt, &base, &cfg)) != EXIT_OK)
        goto out;

    /* The plan: a unit, or a recording of at most one unit, whole; a longer
     * recording as the splitter cuts it. */
    n = oz_wu_reader_info(r)->nsamples;
    unit = opt.unit_samples ? opt.unit_samples : OZ_WU_UNIT_SAMPLES_DEFAULT;
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
        rc = oz_wu_plan_make(n, unit, opt.have_overlap ? opt.overlap : OZ_WU_OVERLAP_DEFAULT, &plan,
                             why, sizeof why);
    }
    if (rc != OZ_WU_OK) {
        status = oz_cli_complain(PROG, oz_cli_status_of(rc), "%s: %s", opt.input, why);
        goto out;
    }

    prog.start = now_s();
    prog.last = 0;
    rc = oz_wu_search_plan(r, &plan, &cfg,
                           !opt.quiet && isatty(STDERR_FILENO) ? show_progress : NULL, &prog,
                           &result, why, sizeof why);
    if (rc != OZ_WU_OK) {
        status = oz_cli_complain(PROG, oz_cli_status_of(rc), "%s", why);
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
    free(opt.keys);
    flag_table_free(&flags);
    return status;
}
