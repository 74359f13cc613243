/*
 * ozma_search.c - `ozma-search`: run the search kernel on a recording file.
 *
 * The command-line face of science/ (DESIGN.md §2): it reads a headerless
 * file of interleaved complex float32 samples (I then Q, little-endian), builds
 * the analysis configuration from the defaults, an optional JSON file and
 * flags, runs oz_sci_search to the end and prints the result JSON (DESIGN.md
 * §4) to stdout or writes it durably to --out.  Scientists use it to try
 * configurations on their own data; tests use it to drive the kernel as a real
 * process.  Work-unit files (.ozwu) and SigMF come later through workunits/.
 *
 * Exit status: 0 success; 1 a runtime failure (out of memory, I/O error
 * while writing); 2 bad input or usage, always with exactly one line on
 * stderr that starts "ozma-search: " and names the file or flag at fault.
 * Everything is checked before the search starts: the file's size before a
 * byte is allocated, every number with strtod/strtoul and an end check, the
 * configuration with oz_sci_config_check, the samples by oz_sci_search_new.
 *
 * The progress bar goes to stderr only when stderr is a terminal (and not
 * with --quiet), so logs and pipes stay clean.
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

#ifndef OZMA_VERSION
#define OZMA_VERSION "0.1.0" /* keep in step with project() in CMakeLists.txt */
#endif

#define PROG "ozma-search"

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_BADINPUT = 2 };

#define BYTES_PER_SAMPLE 8u /* complex float32: I and Q, 4 bytes each */

typedef struct options {
    const char *input;       /* the recording */
    const char *config_path; /* --config, or NULL */
    const char *out_path;    /* --out, or NULL for stdout */
    double sample_rate;      /* --sample-rate, required (> 0 once parsed) */
    double center_hz;        /* --center-freq */
    bool have_chirp_max;
    double chirp_max;          /* --chirp-max, when have_chirp_max */
    uint32_t fft_min, fft_max; /* --fft-min / --fft-max, 0 when not given */
    bool have_planner;
    oz_fft_planner planner;
    bool quiet;
} options;

static const char usage_text[] =
    "NAME\n"
    "    ozma-search - search a recording for narrowband signals (Ozma kernel)\n"
    "\n"
    "SYNOPSIS\n"
    "    ozma-search --sample-rate HZ [options] FILE\n"
    "\n"
    "DESCRIPTION\n"
    "    Reads FILE, a headerless recording of interleaved complex float32\n"
    "    samples (I then Q, little-endian, 8 bytes per sample), and runs the\n"
    "    SETI@home-style search: for every chirp rate in [-chirp_max, chirp_max]\n"
    "    the samples are dechirped and power spectra at every FFT length from\n"
    "    fft_min to fft_max are searched for spikes, Gaussians, pulses and\n"
    "    triplets.  The result is written as JSON: the signals found (absolute\n"
    "    frequency, chirp rate, time, FFT length, power, score), the best signal\n"
    "    of each type, counts, the FLOP count and CPU time.\n"
    "\n"
    "    The analysis configuration starts from the built-in defaults (FFT 8 to\n"
    "    131072, chirp +-100 Hz/s), then --config, then the flags below.\n"
    "\n"
    "OPTIONS\n"
    "    --sample-rate HZ      sample rate of FILE in Hz (required)\n"
    "    --center-freq HZ      centre frequency in Hz, added to every reported\n"
    "                          frequency (default 0)\n"
    "    --config FILE.json    JSON object of configuration keys to override the\n"
    "                          defaults, e.g. {\"fft_max\": 4096, \"spike_thresh\": 30}\n"
    "    --chirp-max HZ_PER_S  largest drift rate searched, both signs\n"
    "    --fft-min N           smallest FFT length (a power of two, >= 8)\n"
    "    --fft-max N           largest FFT length (a power of two, <= 131072 and\n"
    "                          at most the number of samples in FILE)\n"
    "    --planner P           FFTW planning: estimate (default), measure, patient\n"
    "    -o, --out FILE        write the result to FILE (atomically) instead of\n"
    "                          standard output\n"
    "    -q, --quiet           no progress bar\n"
    "    -h, --help            print this text and exit\n"
    "    -V, --version         print the version and exit\n"
    "\n"
    "EXIT STATUS\n"
    "    0  the search ran and the result was written\n"
    "    1  a runtime failure (out of memory, error writing the result)\n"
    "    2  bad usage or input (unreadable file, bad numbers, bad configuration,\n"
    "       non-finite samples); one line on standard error says what\n"
    "\n"
    "EXAMPLES\n"
    "    ozma-search --sample-rate 9765.625 --center-freq 1420e6 \\\n"
    "        --fft-max 4096 --chirp-max 10 unit.cf32 --out result.json\n";

/* Prints "ozma-search: <message>" on stderr and returns `status`. */
static int complain(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int complain(int status, const char *fmt, ...)
{
    va_list ap;
    fputs(PROG ": ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return status;
}

/* ---- arguments ------------------------------------------------------------- */

static int parse_double(const char *flag, const char *text, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end != '\0')
        return complain(EXIT_BADINPUT, "%s: \"%s\" is not a number", flag, text);
    if (errno == ERANGE || !isfinite(v))
        return complain(EXIT_BADINPUT, "%s: %s is not a finite number in range", flag, text);
    *out = v;
    return EXIT_OK;
}

/* An FFT length: a decimal power of two in [OZ_SCI_FFT_MIN, OZ_SCI_FFT_MAX]. */
static int parse_fft_len(const char *flag, const char *text, uint32_t *out)
{
    char *end;
    errno = 0;
    /* strtoul accepts a sign and wraps negative numbers; allow digits only. */
    if (text[0] < '0' || text[0] > '9')
        return complain(EXIT_BADINPUT, "%s: \"%s\" is not a positive whole number", flag, text);
    unsigned long v = strtoul(text, &end, 10);
    if (*end != '\0')
        return complain(EXIT_BADINPUT, "%s: \"%s\" is not a positive whole number", flag, text);
    if (errno == ERANGE || v < OZ_SCI_FFT_MIN || v > OZ_SCI_FFT_MAX)
        return complain(EXIT_BADINPUT, "%s: %s is outside the FFT lengths %u to %u", flag, text,
                        OZ_SCI_FFT_MIN, OZ_SCI_FFT_MAX);
    if ((v & (v - 1)) != 0)
        return complain(EXIT_BADINPUT, "%s: %lu is not a power of two", flag, v);
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
        return complain(EXIT_BADINPUT, "--planner: \"%s\" is not estimate, measure or patient",
                        text);
    return EXIT_OK;
}

/* Fills *opt from argv.  Returns EXIT_OK to go on, or an exit status; -1
 * means "done, exit 0" (--help, --version). */
static int parse_args(int argc, char **argv, options *opt)
{
    enum { O_RATE = 256, O_CENTER, O_CONFIG, O_CHIRP, O_FFTMIN, O_FFTMAX, O_PLANNER };
    static const struct option longopts[] = {
        {"sample-rate", required_argument, NULL, O_RATE},
        {"center-freq", required_argument, NULL, O_CENTER},
        {"config", required_argument, NULL, O_CONFIG},
        {"chirp-max", required_argument, NULL, O_CHIRP},
        {"fft-min", required_argument, NULL, O_FFTMIN},
        {"fft-max", required_argument, NULL, O_FFTMAX},
        {"planner", required_argument, NULL, O_PLANNER},
        {"out", required_argument, NULL, 'o'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    bool have_rate = false;
    int c, rc = EXIT_OK;

    memset(opt, 0, sizeof *opt);
    opterr = 0; /* we word the messages ourselves */
    while ((c = getopt_long(argc, argv, ":o:qhV", longopts, NULL)) != -1) {
        switch (c) {
        case O_RATE:
            rc = parse_double("--sample-rate", optarg, &opt->sample_rate);
            if (rc == EXIT_OK && !(opt->sample_rate > 0))
                rc = complain(EXIT_BADINPUT, "--sample-rate: %s must be greater than 0", optarg);
            have_rate = true;
            break;
        case O_CENTER:
            rc = parse_double("--center-freq", optarg, &opt->center_hz);
            if (rc == EXIT_OK && fabs(opt->center_hz) > 1e12)
                rc = complain(EXIT_BADINPUT, "--center-freq: %s is beyond +-1e12 Hz", optarg);
            break;
        case O_CONFIG:
            opt->config_path = optarg;
            break;
        case O_CHIRP:
            rc = parse_double("--chirp-max", optarg, &opt->chirp_max);
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
        case 'o':
            opt->out_path = optarg;
            break;
        case 'q':
            opt->quiet = true;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return -1;
        case 'V':
            printf("%s %s (%s)\n", PROG, OZMA_VERSION, OZ_SCI_KERNEL_VERSION);
            return -1;
        case ':':
            return complain(EXIT_BADINPUT, "%s needs a value (see --help)", argv[optind - 1]);
        default:
            if (strncmp(argv[optind - 1], "--", 2) == 0)
                return complain(EXIT_BADINPUT, "unknown option '%s' (see --help)",
                                argv[optind - 1]);
            return complain(EXIT_BADINPUT, "unknown option '-%c' (see --help)", optopt);
        }
        if (rc != EXIT_OK)
            return rc;
    }
    if (optind >= argc)
        return complain(EXIT_BADINPUT, "no input file given (see --help)");
    if (optind + 1 < argc)
        return complain(EXIT_BADINPUT, "one input file expected, got %d (see --help)",
                        argc - optind);
    if (!have_rate)
        return complain(EXIT_BADINPUT, "--sample-rate is required (see --help)");
    opt->input = argv[optind];
    return EXIT_OK;
}

/* ---- configuration --------------------------------------------------------- */

/* Defaults, then --config, then the flags; checked as a whole at the end. */
static int build_config(const options *opt, oz_sci_config *cfg)
{
    char why[256];
    oz_sci_config_default(cfg);
    if (opt->config_path) {
        json_error_t err;
        json_t *obj = json_load_file(opt->config_path, JSON_REJECT_DUPLICATES, &err);
        if (!obj) {
            if (err.line < 0) /* could not open or read it; the text names the file */
                return complain(EXIT_BADINPUT, "--config: %s", err.text);
            return complain(EXIT_BADINPUT, "%s:%d:%d: %s", opt->config_path, err.line, err.column,
                            err.text);
        }
        int rc = oz_sci_config_from_json(obj, cfg, why, sizeof why);
        json_decref(obj);
        if (rc != OZ_SCI_OK)
            return complain(EXIT_BADINPUT, "%s: %s", opt->config_path, why);
    }
    if (opt->have_chirp_max)
        cfg->chirp_max = opt->chirp_max;
    if (opt->fft_min)
        cfg->fft_min = opt->fft_min;
    if (opt->fft_max)
        cfg->fft_max = opt->fft_max;
    if (opt->have_planner)
        cfg->planner = opt->planner;
    if (oz_sci_config_check(cfg, why, sizeof why) != OZ_SCI_OK)
        return complain(EXIT_BADINPUT, "configuration: %s", why);
    return EXIT_OK;
}

/* ---- samples --------------------------------------------------------------- */

static bool host_is_little_endian(void)
{
    const uint32_t one = 1;
    unsigned char first;
    memcpy(&first, &one, 1);
    return first == 1;
}

static void swap_bytes32(float *v, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        uint32_t u;
        memcpy(&u, &v[i], sizeof u);
        u = (u >> 24) | ((u >> 8) & 0xff00u) | ((u << 8) & 0xff0000u) | (u << 24);
        memcpy(&v[i], &u, sizeof u);
    }
}

/* Reads the whole recording into a new buffer; sizes are checked before the
 * allocation. */
static int read_samples(const char *path, float **iq_out, size_t *n_out)
{
    struct stat st;
    float *iq = NULL;
    int status = EXIT_BADINPUT;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    *iq_out = NULL;
    *n_out = 0;
    if (fd < 0)
        return complain(EXIT_BADINPUT, "%s: %s", path, strerror(errno));
    if (fstat(fd, &st) != 0) {
        complain(EXIT_BADINPUT, "%s: %s", path, strerror(errno));
        goto fail;
    }
    if (S_ISDIR(st.st_mode)) {
        complain(EXIT_BADINPUT, "%s: is a directory", path);
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        complain(EXIT_BADINPUT, "%s: not a regular file (its size must be known)", path);
        goto fail;
    }
    if (st.st_size == 0) {
        complain(EXIT_BADINPUT, "%s: the file is empty", path);
        goto fail;
    }
    if (st.st_size % BYTES_PER_SAMPLE != 0) {
        complain(EXIT_BADINPUT,
                 "%s: %jd bytes is not a whole number of complex float32 samples (8 bytes each)",
                 path, (intmax_t)st.st_size);
        goto fail;
    }
    if ((uintmax_t)st.st_size / BYTES_PER_SAMPLE > OZ_SCI_SAMPLES_MAX) {
        complain(EXIT_BADINPUT, "%s: %jd samples is more than the limit of %u", path,
                 (intmax_t)(st.st_size / BYTES_PER_SAMPLE), OZ_SCI_SAMPLES_MAX);
        goto fail;
    }
    size_t bytes = (size_t)st.st_size;
    iq = malloc(bytes);
    if (!iq) {
        status = complain(EXIT_RUNTIME, "%s: out of memory for %zu bytes", path, bytes);
        goto fail;
    }
    for (size_t got = 0; got < bytes;) {
        ssize_t r = read(fd, (char *)iq + got, bytes - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            status = complain(EXIT_RUNTIME, "%s: read failed: %s", path, strerror(errno));
            goto fail;
        }
        if (r == 0) {
            status =
                complain(EXIT_RUNTIME, "%s: file shrank to %zu bytes while being read", path, got);
            goto fail;
        }
        got += (size_t)r;
    }
    if (!host_is_little_endian())
        swap_bytes32(iq, bytes / sizeof *iq);
    close(fd);
    *iq_out = iq;
    *n_out = bytes / BYTES_PER_SAMPLE;
    return EXIT_OK;
fail:
    free(iq);
    close(fd);
    return status;
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

/* Redraws the bar at most ten times a second, and always at the end. */
static void show_progress(void *arg, size_t done, size_t total)
{
    progress *p = arg;
    double t = now_s();
    if (done < total && t - p->last < 0.1)
        return;
    p->last = t;
    double frac = total ? (double)done / (double)total : 1.0;
    double elapsed = t - p->start;
    char el[32], eta[32], bar[31];
    format_duration(el, sizeof el, elapsed);
    if (done > 0)
        format_duration(eta, sizeof eta, elapsed / frac - elapsed);
    else
        snprintf(eta, sizeof eta, "?");
    size_t fill = (size_t)(frac * (double)(sizeof bar - 1));
    for (size_t i = 0; i < sizeof bar - 1; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[sizeof bar - 1] = '\0';
    fprintf(stderr, "\r%5.1f%% [%s] %zu/%zu steps, %s elapsed, ETA %s ", 100.0 * frac, bar, done,
            total, el, eta);
    if (done >= total)
        fputc('\n', stderr);
    fflush(stderr);
}

/* ---- output ---------------------------------------------------------------- */

static int write_stdout(const json_t *result)
{
    if (json_dumpf(result, stdout, JSON_INDENT(2)) != 0 || fputc('\n', stdout) == EOF ||
        fflush(stdout) != 0 || ferror(stdout))
        return complain(EXIT_RUNTIME, "standard output: write failed: %s", strerror(errno));
    return EXIT_OK;
}

/* Writes to a temporary file beside `path`, syncs it, renames it over path
 * and syncs the directory, so a crash leaves the old file or the new one,
 * never half of one. */
static int write_durably(const json_t *result, const char *path)
{
    size_t len = strlen(path);
    char *tmp = malloc(len + sizeof ".tmp.XXXXXX");
    char *dir = malloc(len + 2);
    FILE *f = NULL;
    int fd = -1, status = EXIT_RUNTIME;
    bool tmp_exists = false; /* the temporary file is on disk and ours to remove */

    if (!tmp || !dir) {
        complain(EXIT_RUNTIME, "%s: out of memory", path);
        goto out;
    }
    memcpy(tmp, path, len);
    memcpy(tmp + len, ".tmp.XXXXXX", sizeof ".tmp.XXXXXX");
    const char *slash = strrchr(path, '/');
    if (slash) {
        size_t dlen = slash == path ? 1 : (size_t)(slash - path);
        memcpy(dir, path, dlen);
        dir[dlen] = '\0';
    } else {
        memcpy(dir, ".", 2);
    }

    fd = mkstemp(tmp);
    if (fd < 0) {
        complain(EXIT_RUNTIME, "%s: cannot create a file beside it: %s", path, strerror(errno));
        goto out;
    }
    tmp_exists = true;
    /* mkstemp makes 0600; give the result the usual mode under the umask. */
    mode_t mask = umask(0);
    umask(mask);
    if (fchmod(fd, 0666 & ~mask) != 0) {
        complain(EXIT_RUNTIME, "%s: chmod: %s", tmp, strerror(errno));
        goto out;
    }
    f = fdopen(fd, "w");
    if (!f) {
        complain(EXIT_RUNTIME, "%s: %s", tmp, strerror(errno));
        goto out;
    }
    fd = -1; /* f owns it now */
    if (json_dumpf(result, f, JSON_INDENT(2)) != 0 || fputc('\n', f) == EOF || fflush(f) != 0 ||
        fsync(fileno(f)) != 0) {
        complain(EXIT_RUNTIME, "%s: write failed: %s", tmp, strerror(errno));
        goto out;
    }
    int rc = fclose(f);
    f = NULL;
    if (rc != 0) {
        complain(EXIT_RUNTIME, "%s: write failed: %s", tmp, strerror(errno));
        goto out;
    }
    if (rename(tmp, path) != 0) {
        complain(EXIT_RUNTIME, "%s: cannot rename %s over it: %s", path, tmp, strerror(errno));
        goto out;
    }
    tmp_exists = false; /* renamed: nothing to clean up */
    int dfd = open(dir, O_RDONLY | O_CLOEXEC);
    if (dfd >= 0) {
        /* Best effort: some file systems refuse fsync on directories. */
        (void)fsync(dfd);
        close(dfd);
    }
    status = EXIT_OK;
out:
    if (f)
        fclose(f);
    if (fd >= 0)
        close(fd);
    if (tmp_exists)
        unlink(tmp);
    free(tmp);
    free(dir);
    return status;
}

/* ---- main ------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    options opt;
    oz_sci_config cfg;
    oz_sci_search *search = NULL;
    oz_sci_result result;
    json_t *json = NULL;
    float *iq = NULL;
    size_t n = 0;
    char why[256] = "";
    progress prog;
    int status, rc;

    memset(&result, 0, sizeof result);
    status = parse_args(argc, argv, &opt);
    if (status != EXIT_OK)
        return status < 0 ? EXIT_OK : status;
    if ((status = build_config(&opt, &cfg)) != EXIT_OK)
        return status;
    if ((status = read_samples(opt.input, &iq, &n)) != EXIT_OK)
        return status;
    if (cfg.fft_max > n) {
        status = complain(EXIT_BADINPUT,
                          "%s: fft_max %u is larger than the file's %zu samples (lower --fft-max)",
                          opt.input, cfg.fft_max, n);
        goto out;
    }

    rc = oz_sci_search_new(&cfg, iq, n, opt.sample_rate, opt.center_hz, &search, why, sizeof why);
    if (rc != OZ_SCI_OK) {
        status = complain(rc == OZ_SCI_EINVAL ? EXIT_BADINPUT : EXIT_RUNTIME, "%s: %s", opt.input,
                          why[0] ? why : oz_sci_strerror(rc));
        goto out;
    }
    prog.start = now_s();
    prog.last = 0;
    rc = oz_sci_search_run(search, !opt.quiet && isatty(STDERR_FILENO) ? show_progress : NULL,
                           &prog);
    if (rc == OZ_SCI_OK)
        rc = oz_sci_search_result(search, &result);
    if (rc != OZ_SCI_OK) {
        status = complain(EXIT_RUNTIME, "%s: search failed: %s", opt.input, oz_sci_strerror(rc));
        goto out;
    }
    json = oz_sci_result_to_json(&result);
    if (!json) {
        status = complain(EXIT_RUNTIME, "out of memory for the result");
        goto out;
    }
    status = opt.out_path ? write_durably(json, opt.out_path) : write_stdout(json);
out:
    json_decref(json);
    oz_sci_result_clear(&result);
    oz_sci_search_free(search);
    free(iq);
    return status;
}
