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
 * The recording and analysis flags are the rows of ozma_cli.h's shared
 * table, as in ozma-search and ozma-server load: --config FILE.json, and
 * any configuration key as a flag (--fft-max 4096, --chirp-max 5, --planner
 * measure, --spike-thresh 30, ...).  This file has only --out and
 * --dataset.
 *
 * Exit status: 0 done; 1 a runtime failure (I/O, memory); 2 bad usage or
 * input, with one line on stderr naming the file or flag.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ozma_workunits.h"
#include "ozma_cli.h"

#define PROG "ozma-split"

static const char *const usage_text[] = {
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
    "    DIR/DATASET-NNNNNN.ozwu, and DIR/manifest.json lists them.  The analysis\n"
    "    configuration (as ozma-search's) is stored in every unit.\n"
    "\n",
    NULL,
};

/* This program's own rows; the rest are the shared table's (ozma_cli.h). */
enum { O_OUT = 1, O_DATASET };

static const oz_cli_opt own_opts[] = {
    {"out", 0, "DIR", OZ_CLI_GENERAL, 0, O_OUT, "output directory (created if missing)"},
    {"dataset", 0, "ID", OZ_CLI_GENERAL, 0, O_DATASET,
     "dataset id (default: the recording's name)"},
    {NULL, 0, NULL, OZ_CLI_GENERAL, 0, 0, NULL},
};

static const oz_cli_program program = {PROG,     OZ_CLI_SPLIT, OZ_CLI_RAW_BY_FORMAT,
                                       own_opts, usage_text,   NULL};

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

/* The split itself, once the flags are read. */
static int split(const oz_cli *cli, const char *out_dir, const char *dataset)
{
    const oz_cli_flags *f = oz_cli_flags_of(cli);
    oz_wu_raw_params raw;
    oz_sci_config cfg;
    char why[512] = "";
    bool is_raw;
    int rc, nops;

    char **operands = oz_cli_operands(cli, &nops);
    if (nops == 0)
        return oz_cli_complain(PROG, EXIT_BADINPUT, "no recording given (see --help)");
    if (nops > 1)
        return oz_cli_complain(PROG, EXIT_BADINPUT, "more than one recording given (\"%s\")",
                               operands[1]);
    const char *input = operands[0];
    if (!out_dir)
        return oz_cli_complain(PROG, EXIT_BADINPUT, "--out DIR is required");
    if ((rc = oz_cli_out_dir_check(PROG, "--out", out_dir)) != EXIT_OK)
        return rc;
    if (f->have_ra != f->have_dec)
        return oz_cli_complain(PROG, EXIT_BADINPUT, "give both --ra and --dec");
    oz_wu_config_recording(&cfg);
    if ((rc = oz_cli_config(cli, &cfg)) != EXIT_OK || (rc = oz_cli_raw(cli, &raw, &is_raw)))
        return rc;

    oz_wu_reader *r = NULL;
    rc = oz_wu_open(input, is_raw ? &raw : NULL, &r, why, sizeof why);
    if (rc != OZ_WU_OK) /* an unreadable input is bad input */
        return oz_cli_complain(PROG, rc == OZ_WU_ENOMEM ? EXIT_RUNTIME : EXIT_BADINPUT, "%s", why);
    if (mkdir(out_dir, 0755) != 0 && errno != EEXIST) {
        oz_wu_reader_close(r);
        return oz_cli_complain(PROG, EXIT_RUNTIME, "%s: cannot create directory: %s", out_dir,
                               strerror(errno));
    }
    const oz_wu_info *info = oz_wu_reader_info(r);
    struct run run = {.units = json_array(),
                      .bar = !f->quiet && isatty(STDERR_FILENO),
                      .t0 = now_s(),
                      .step_bytes = oz_wu_format_size(info->format)};
    oz_wu_split_opts o = {.out_dir = out_dir,
                          .dataset = dataset,
                          .unit_samples = f->unit_samples,
                          .overlap = f->overlap,
                          .config = &cfg,
                          .has_sky = f->have_ra,
                          .ra_deg = f->ra_deg,
                          .dec_deg = f->dec_deg,
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
        oz_wu_plan_make(info->nsamples, f->unit_samples, f->overlap, &plan, NULL, 0);
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
    if (!f->quiet)
        printf("%llu units of %llu samples written to %s\n", (unsigned long long)nunits,
               (unsigned long long)f->unit_samples, out_dir);
out:
    json_decref(run.units);
    oz_wu_reader_close(r);
    return status;
}

int main(int argc, char **argv)
{
    const char *out_dir = NULL, *dataset = NULL, *v;
    oz_cli *cli = NULL;
    int id;

    int status = oz_cli_new(&program, argc, argv, &cli);
    while (status == EXIT_OK && (status = oz_cli_next(cli, &id, &v)) == EXIT_OK && id) {
        if (id == O_OUT)
            out_dir = v;
        else
            dataset = v;
    }
    if (status == EXIT_OK)
        status = split(cli, out_dir, dataset);
    oz_cli_free(cli);
    return status == OZ_CLI_DONE ? EXIT_OK : status;
}
