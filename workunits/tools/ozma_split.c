/*
 * ozma_split.c - `ozma-split`: cut a recording into .ozwu work-unit files.
 *
 * The splitter without a scheduler: it opens a SigMF recording (or raw
 * samples described by --format/--sample-rate/--center-freq, or even an
 * .ozwu file), cuts it into overlapping units of 2^k samples exactly as the
 * scheduler's `load` would, writes each unit durably as DIR/UNIT_ID.ozwu
 * with the analysis configuration in its header, and finally writes
 * DIR/manifest.json listing every unit with its file's SHA-256.  One unit is
 * in memory at a time, so recordings of any size split in constant memory.
 *
 * Analysis flags are those of ozma-search: --config FILE.json, and any
 * configuration key as a flag (--fft-max 4096, --chirp-max 5, --planner
 * measure, --spike-thresh 30, ...).
 *
 * Exit status: 0 done; 1 a runtime failure (I/O, memory); 2 bad usage or
 * input, with one line on stderr naming the file or flag.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ozma_workunits.h"
#include "ozma_cli.h"

#define PROG "ozma-split"

static const char usage_text[] =
    "NAME\n"
    "    ozma-split - cut a recording into .ozwu work units\n"
    "\n"
    "SYNOPSIS\n"
    "    ozma-split RECORDING --out DIR [options] [analysis options]\n"
    "\n"
    "DESCRIPTION\n"
    "    RECORDING is a SigMF recording (NAME, NAME.sigmf-meta or NAME.sigmf-data)\n"
    "    or, with --format, headerless interleaved samples.  It is cut into units\n"
    "    of 2^k samples overlapping by a fraction of a unit (a last unit is aligned\n"
    "    to the recording's end, so every sample is covered), each written as\n"
    "    DIR/DATASET-NNNNNN.ozwu, and DIR/manifest.json lists them.\n"
    "\n"
    "OPTIONS\n"
    "    --out DIR             output directory (created if missing)\n"
    "    --unit-samples N      unit size, a power of two: 1048576 or 2^20 (default)\n"
    "    --overlap F           overlap as a fraction of a unit (default 0.125)\n"
    "    --dataset ID          dataset id (default: the recording's name)\n"
    "    --ra DEG --dec DEG    sky position for the unit headers\n"
    "    -q, --quiet           no progress bar\n"
    "    -h, --help            this text\n"
    "  raw recordings:\n"
    "    --format F            ci8, ci16 or cf32 (little-endian, I then Q)\n"
    "    --sample-rate HZ      required with --format\n"
    "    --center-freq HZ      required with --format\n"
    "    --datetime ISO        start time, e.g. 2024-05-01T12:00:00Z\n"
    "  analysis (as ozma-search; stored in every unit):\n"
    "    --config FILE.json    configuration keys over the defaults\n"
    "    --KEY VALUE           any configuration key, '_' written '-', e.g.\n"
    "                          --fft-max 4096 --chirp-max 5 --planner measure\n";

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

struct run {
    json_t *units; /* manifest entries */
    bool bar;
    double t0;
    uint64_t step_bytes; /* input bytes per sample, for the rate */
    int failed;          /* ENOMEM building the manifest */
};

static int on_unit(void *arg, const oz_wu_unit_written *w, uint64_t nunits)
{
    struct run *run = arg;
    const oz_wu_header *h = w->header;
    char hex[65];
    oz_wu_sha256_hex(w->file_sha256, hex);
    char file[OZ_WU_ID_MAX + 8];
    snprintf(file, sizeof file, "%s.ozwu", h->unit_id);
    json_t *e = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:f}", "unit_id", h->unit_id, "file",
                          file, "sha256", hex, "bytes", (json_int_t)w->file_bytes, "unit_index",
                          (json_int_t)h->unit_index, "start_sample", (json_int_t)h->start_sample,
                          "start_s", h->start_s);
    if (!e || json_array_append_new(run->units, e) != 0) {
        run->failed = 1;
        return OZ_WU_ENOMEM;
    }
    if (run->bar) {
        uint64_t done = h->unit_index + 1;
        int width = 30, fill = (int)((double)width * (double)done / (double)nunits);
        double dt = now_s() - run->t0;
        double mb = (double)(h->start_sample + h->nsamples) * (double)run->step_bytes / 1e6;
        fprintf(stderr, "\r" PROG ": [%.*s%*s] %llu/%llu units  %.1f MB/s ", fill,
                "##############################", width - fill, "", (unsigned long long)done,
                (unsigned long long)nunits, dt > 0 ? mb / dt : 0.0);
        fflush(stderr);
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *input = NULL, *out_dir = NULL, *dataset = NULL, *format = NULL, *datetime = NULL;
    uint64_t unit_samples = OZ_WU_UNIT_SAMPLES_DEFAULT;
    double overlap = OZ_WU_OVERLAP_DEFAULT, rate = NAN, center = NAN, ra = 0, dec = 0;
    bool have_ra = false, have_dec = false, quiet = false;
    oz_sci_config cfg;
    oz_wu_config_recording(&cfg);
    char why[512] = "";
    int rc;

    /* --config first, so flags override it whatever their order. */
    for (int i = 1; i < argc; i++) {
        const char *file = NULL;
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            file = argv[++i];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            file = argv[i] + 9;
        if (file && oz_wu_config_load(file, &cfg, why, sizeof why) != OZ_WU_OK)
            return oz_cli_complain(PROG, EXIT_BADINPUT, "--config: %s", why);
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage_text, stdout);
            return EXIT_OK;
        }
        if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            quiet = true;
            continue;
        }
        if (a[0] != '-' || strcmp(a, "-") == 0) {
            if (input)
                return oz_cli_complain(PROG, EXIT_BADINPUT,
                                       "more than one recording given (\"%s\")", a);
            input = a;
            continue;
        }
        /* --flag value or --flag=value */
        char flag[64];
        const char *v;
        const char *eq = strchr(a, '=');
        if (eq) {
            size_t n = (size_t)(eq - a);
            if (n >= sizeof flag)
                return oz_cli_complain(PROG, EXIT_BADINPUT, "unknown option %.40s", a);
            memcpy(flag, a, n);
            flag[n] = '\0';
            v = eq + 1;
        } else {
            if (strlen(a) >= sizeof flag)
                return oz_cli_complain(PROG, EXIT_BADINPUT, "unknown option %.40s", a);
            memcpy(flag, a, strlen(a) + 1);
            if (i + 1 >= argc)
                return oz_cli_complain(PROG, EXIT_BADINPUT, "%s needs a value", a);
            v = argv[++i];
        }
        if (strcmp(flag, "--out") == 0) {
            out_dir = v;
        } else if (strcmp(flag, "--unit-samples") == 0) {
            if (oz_wu_parse_unit_samples(v, &unit_samples, why, sizeof why) != OZ_WU_OK)
                return oz_cli_complain(PROG, EXIT_BADINPUT, "%s", why);
        } else if (strcmp(flag, "--overlap") == 0) {
            if ((rc = oz_cli_parse_double(PROG, flag, v, &overlap)) != EXIT_OK)
                return rc;
        } else if (strcmp(flag, "--dataset") == 0) {
            dataset = v;
        } else if (strcmp(flag, "--format") == 0) {
            format = v;
        } else if (strcmp(flag, "--sample-rate") == 0) {
            if ((rc = oz_cli_parse_double(PROG, flag, v, &rate)) != EXIT_OK)
                return rc;
        } else if (strcmp(flag, "--center-freq") == 0) {
            if ((rc = oz_cli_parse_double(PROG, flag, v, &center)) != EXIT_OK)
                return rc;
        } else if (strcmp(flag, "--datetime") == 0) {
            datetime = v;
        } else if (strcmp(flag, "--ra") == 0) {
            if ((rc = oz_cli_parse_double(PROG, flag, v, &ra)) != EXIT_OK)
                return rc;
            have_ra = true;
        } else if (strcmp(flag, "--dec") == 0) {
            if ((rc = oz_cli_parse_double(PROG, flag, v, &dec)) != EXIT_OK)
                return rc;
            have_dec = true;
        } else if (strcmp(flag, "--config") == 0) {
            /* loaded above */
        } else if (oz_wu_config_set(&cfg, flag, v, why, sizeof why) != OZ_WU_OK) {
            return oz_cli_complain(PROG, EXIT_BADINPUT, "%s", why);
        }
    }
    if (!input)
        return oz_cli_complain(PROG, EXIT_BADINPUT, "no recording given (see --help)");
    if (!out_dir)
        return oz_cli_complain(PROG, EXIT_BADINPUT, "--out DIR is required");
    if ((rc = oz_cli_out_dir_check(PROG, "--out", out_dir)) != EXIT_OK)
        return rc;
    if (have_ra != have_dec)
        return oz_cli_complain(PROG, EXIT_BADINPUT, "give both --ra and --dec");
    if (have_ra && (!(ra >= 0 && ra < 360) || !(dec >= -90 && dec <= 90)))
        return oz_cli_complain(PROG, EXIT_BADINPUT,
                               "--ra %g --dec %g is outside [0, 360) x [-90, 90]", ra, dec);
    if (!(overlap >= 0 && overlap <= OZ_WU_OVERLAP_MAX))
        return oz_cli_complain(PROG, EXIT_BADINPUT, "--overlap %g must be in [0, %g]", overlap,
                               OZ_WU_OVERLAP_MAX);
    oz_wu_raw_params raw, *rawp = NULL;
    if (format) {
        memset(&raw, 0, sizeof raw);
        if (oz_wu_format_parse(format, &raw.format) != OZ_WU_OK)
            return oz_cli_complain(PROG, EXIT_BADINPUT, "--format \"%s\" is not ci8, ci16 or cf32",
                                   format);
        if (isnan(rate) || isnan(center))
            return oz_cli_complain(PROG, EXIT_BADINPUT,
                                   "--format needs --sample-rate and --center-freq");
        raw.sample_rate = rate;
        raw.center_hz = center;
        raw.datetime = datetime;
        rawp = &raw;
    } else if (!isnan(rate) || !isnan(center) || datetime) {
        return oz_cli_complain(
            PROG, EXIT_BADINPUT,
            "--sample-rate, --center-freq and --datetime describe raw input: give "
            "--format too");
    }

    oz_wu_reader *r = NULL;
    rc = oz_wu_open(input, rawp, &r, why, sizeof why);
    if (rc != OZ_WU_OK) /* an unreadable input is bad input */
        return oz_cli_complain(PROG, rc == OZ_WU_ENOMEM ? EXIT_RUNTIME : EXIT_BADINPUT, "%s", why);
    if (mkdir(out_dir, 0755) != 0 && errno != EEXIST) {
        oz_wu_reader_close(r);
        return oz_cli_complain(PROG, EXIT_RUNTIME, "%s: cannot create directory: %s", out_dir,
                               strerror(errno));
    }
    const oz_wu_info *info = oz_wu_reader_info(r);
    struct run run = {.units = json_array(),
                      .bar = !quiet && isatty(STDERR_FILENO),
                      .t0 = now_s(),
                      .step_bytes = oz_wu_format_size(info->format)};
    oz_wu_split_opts o = {.out_dir = out_dir,
                          .dataset = dataset,
                          .unit_samples = unit_samples,
                          .overlap = overlap,
                          .config = &cfg,
                          .has_sky = have_ra,
                          .ra_deg = ra,
                          .dec_deg = dec,
                          .on_unit = on_unit,
                          .arg = &run};
    uint64_t nunits = 0;
    int status = EXIT_OK;
    rc = run.units ? oz_wu_split_write(r, &o, &nunits, why, sizeof why) : OZ_WU_ENOMEM;
    if (run.bar)
        fputc('\n', stderr);
    if (rc != OZ_WU_OK) {
        status = run.failed || !run.units ? oz_cli_complain(PROG, EXIT_RUNTIME, "out of memory")
                                          : oz_cli_complain(PROG, oz_cli_status_of(rc), "%s", why);
        goto out;
    }

    /* The manifest: what was written, for people and scripts. */
    {
        oz_wu_plan plan;
        oz_wu_plan_make(info->nsamples, unit_samples, overlap, &plan, NULL, 0);
        json_t *m = json_pack("{s:i, s:s, s:s, s:I, s:f, s:f, s:s, s:I, s:I, s:o, s:O}", "version",
                              1, "dataset", dataset ? dataset : info->name, "recording", input,
                              "nsamples", (json_int_t)info->nsamples, "sample_rate_hz",
                              info->sample_rate, "center_freq_hz", info->center_hz, "sample_format",
                              oz_wu_format_name(info->format), "unit_samples",
                              (json_int_t)plan.unit, "overlap_samples", (json_int_t)plan.overlap,
                              "analysis", oz_sci_config_to_json(&cfg), "units", run.units);
        if (m && info->has_time) {
            char t[48];
            oz_wu_time_format(info->start_ns, 9, t, sizeof t);
            json_object_set_new(m, "start_utc", json_string(t));
        }
        char *text = m ? json_dumps(m, JSON_INDENT(1) | JSON_REAL_PRECISION(17)) : NULL;
        json_decref(m);
        if (!text) {
            status = oz_cli_complain(PROG, EXIT_RUNTIME, "out of memory");
            goto out;
        }
        size_t n = strlen(out_dir) + sizeof "/manifest.json";
        char *path = malloc(n);
        if (!path) {
            free(text);
            status = oz_cli_complain(PROG, EXIT_RUNTIME, "out of memory");
            goto out;
        }
        snprintf(path, n, "%s/manifest.json", out_dir);
        size_t len = strlen(text);
        text[len] = '\0';
        rc = oz_wu_write_file(path, text, len, why, sizeof why);
        free(text);
        free(path);
        if (rc != OZ_WU_OK) {
            status = oz_cli_complain(PROG, EXIT_RUNTIME, "%s", why);
            goto out;
        }
    }
    if (!quiet)
        printf("%llu units of %llu samples written to %s\n", (unsigned long long)nunits,
               (unsigned long long)unit_samples, out_dir);
out:
    json_decref(run.units);
    oz_wu_reader_close(r);
    return status;
}
