/*
 * flags.c - the one table of recording and analysis flags, and the parser
 * that ozma-search, ozma-split and ozma-server load share (see ozma_cli.h).
 *
 * Each row of `shared` is a flag: its name, its value's name, the programs
 * that take it, its --help words, and an id that parse_shared's switch
 * turns into a value of oz_cli_flags (curl's tool_getparam.c: a table and
 * one switch).  The row named KEY is not a flag: it stands, in --help, for
 * the rows oz_cli_new makes from the kernel's configuration keys, one per
 * key without a row of its own (--gauss-sigma-s, --spike-thresh...).
 *
 * A value is checked when its flag is read, so the first bad flag is the
 * one named; what depends on several flags (headerless samples, the
 * configuration as a whole) is checked by oz_cli_raw and oz_cli_config.
 */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ozma_cli.h"

#define ALL (OZ_CLI_SEARCH | OZ_CLI_SPLIT | OZ_CLI_LOAD)
#define ROW_BASE 256 /* getopt_long's value for row i: ROW_BASE + i, past the short flags */

/* What parse_shared does with a shared row's value. */
enum {
    S_FORMAT = 1,
    S_RATE,
    S_CENTER,
    S_DATETIME,
    S_UNIT,
    S_OVERLAP,
    S_RA,
    S_DEC,
    S_CONFIG,
    S_KEY,  /* an analysis key: the row's name is the key, '_' written '-' */
    S_KEYS, /* the KEY row: one S_KEY row per other configuration key */
    S_REPORT,
    S_QUIET,
    S_HELP,
};

static const oz_cli_opt shared[] = {
    {"unit-samples", 0, "N", OZ_CLI_GENERAL, ALL, S_UNIT,
     "unit size, a power of two from 2^8 to 2^26, as\n65536 or 2^16 (default 2^20)"},
    {"overlap", 0, "F", OZ_CLI_GENERAL, ALL, S_OVERLAP,
     "fraction of a unit shared by consecutive units,\n0 to 0.75 (default 0.125)"},
    {"ra", 0, "DEG", OZ_CLI_GENERAL, OZ_CLI_SPLIT, S_RA,
     "right ascension for the unit headers, 0 to 360\n(with --dec)"},
    {"dec", 0, "DEG", OZ_CLI_GENERAL, OZ_CLI_SPLIT, S_DEC,
     "declination for the unit headers, -90 to 90\n(with --ra)"},
    {"quiet", 'q', NULL, OZ_CLI_GENERAL, ALL, S_QUIET,
     "no progress bar (otherwise shown on standard error\nwhen it is a terminal), no summary"},
    {"help", 'h', NULL, OZ_CLI_GENERAL, ALL, S_HELP, "print this text and exit"},

    {"sample-rate", 0, "HZ", OZ_CLI_RECORDING, ALL, S_RATE, "sample rate in Hz"},
    {"format", 0, "F", OZ_CLI_RECORDING, ALL, S_FORMAT,
     "ci8, ci16 or cf32: int8, int16 or float32 I then Q,\nlittle-endian, 2, 4 or 8 bytes a "
     "sample"},
    {"center-freq", 0, "HZ", OZ_CLI_RECORDING, ALL, S_CENTER,
     "centre frequency in Hz: the frequencies reported\nand stored are absolute"},
    {"datetime", 0, "ISO8601", OZ_CLI_RECORDING, ALL, S_DATETIME,
     "UTC of the first sample, e.g. 2024-05-01T12:00:00Z"},

    {"config", 0, "FILE.json", OZ_CLI_ANALYSIS, ALL, S_CONFIG,
     "JSON object of configuration keys over the defaults,\ne.g. {\"fft_max\": 4096, "
     "\"spike_thresh\": 30}"},
    {"chirp-max", 0, "HZ_PER_S", OZ_CLI_ANALYSIS, ALL, S_KEY,
     "largest drift rate searched, both signs"},
    {"fft-min", 0, "N", OZ_CLI_ANALYSIS, ALL, S_KEY, "smallest FFT length (a power of two, >= 8)"},
    {"fft-max", 0, "N", OZ_CLI_ANALYSIS, ALL, S_KEY,
     "largest FFT length (a power of two, <= 131072 and\nat most the samples in a unit)"},
    {"planner", 0, "P", OZ_CLI_ANALYSIS, ALL, S_KEY,
     "FFTW planning: estimate (default), measure, patient"},
    {"report", 0, "R", OZ_CLI_ANALYSIS, OZ_CLI_SEARCH, S_REPORT,
     "ozma: Ozma's search, each signal reported once at its\nstrongest (default for recordings "
     "and .ozwu units);\nseti: SETI@home v8's search, every detection as v8\nreports it (default "
     "for .sah units)"},
    {"KEY", 0, "VALUE", OZ_CLI_ANALYSIS, ALL, S_KEYS,
     "any other configuration key, '_' written '-', e.g.\n--spike-thresh 30 --gauss-sigma-s 0.4"},
    {NULL, 0, NULL, OZ_CLI_GENERAL, 0, 0, NULL},
};

/* A row as the parser holds it: a program's own, or shared. */
typedef struct row {
    oz_cli_opt opt;
    bool shared;
} row;

struct oz_cli {
    const oz_cli_program *prog;
    int argc;
    char **argv;
    oz_cli_flags flags;
    row *rows; /* the program's, the shared ones it takes, one per other key */
    size_t nrows;
    struct option *longopts; /* one per row, then a zero entry */
    char *names;             /* the key rows' names, NUL-separated */
    char shortopts[32];      /* ":" then each short flag, ':' after one that takes a value */
    int operands;            /* argv index of the first operand, once done */
    bool done;
};

static bool takes(unsigned progs, const oz_cli_program *p)
{
    return (progs & p->id) != 0;
}

static bool has_row(const oz_cli *c, const char *name)
{
    for (size_t i = 0; i < c->nrows; i++)
        if (strcmp(c->rows[i].opt.name, name) == 0)
            return true;
    return false;
}

/* The configuration keys as flag names ("gauss-sigma-s"), NUL-separated
 * in *names; their number in *n.  NULL names when out of memory. */
static void key_names(char **names, size_t *n)
{
    oz_sci_config def;
    oz_sci_config_default(&def);
    json_t *keys = oz_sci_config_to_json(&def);
    const char *k;
    json_t *v;
    size_t bytes = 1;
    *names = NULL;
    *n = 0;
    json_object_foreach(keys, k, v)
    {
        (void)v;
        bytes += strlen(k) + 1;
    }
    char *p = keys ? malloc(bytes) : NULL;
    *names = p;
    json_object_foreach(keys, k, v)
    {
        if (!p)
            break;
        size_t len = strlen(k);
        for (size_t i = 0; i <= len; i++)
            p[i] = k[i] == '_' ? '-' : k[i];
        p += len + 1;
        (*n)++;
    }
    json_decref(keys);
}

static void add_row(oz_cli *c, const oz_cli_opt *o, bool is_shared)
{
    row *r = &c->rows[c->nrows++];
    r->opt = *o;
    r->shared = is_shared;
    size_t n = strlen(c->shortopts);
    if (o->short_name && n + 3 <= sizeof c->shortopts) {
        c->shortopts[n++] = o->short_name;
        if (o->arg)
            c->shortopts[n++] = ':';
        c->shortopts[n] = '\0';
    }
}

int oz_cli_new(const oz_cli_program *prog, int argc, char **argv, oz_cli **out)
{
    size_t nown = 0, nkeys = 0, nshared = sizeof shared / sizeof shared[0] - 1;
    oz_cli *c = calloc(1, sizeof *c);
    *out = NULL;
    if (!c)
        goto nomem;
    c->prog = prog;
    c->argc = argc;
    c->argv = argv;
    c->flags.format = OZ_WU_CF32;
    c->flags.unit_samples = OZ_WU_UNIT_SAMPLES_DEFAULT;
    c->flags.overlap = OZ_WU_OVERLAP_DEFAULT;
    /* at most one --config or analysis flag per argument */
    c->flags.configs = calloc((size_t)argc + 1, sizeof *c->flags.configs);
    c->flags.keys = calloc((size_t)argc + 1, sizeof *c->flags.keys);
    while (prog->opts && prog->opts[nown].name)
        nown++;
    key_names(&c->names, &nkeys);
    c->rows = calloc(nown + nshared + nkeys, sizeof *c->rows);
    c->longopts = calloc(nown + nshared + nkeys + 1, sizeof *c->longopts);
    if (!c->flags.configs || !c->flags.keys || !c->names || !c->rows || !c->longopts)
        goto nomem;

    c->shortopts[0] = ':'; /* getopt_long: ':' for a missing value, '?' for an unknown flag */
    for (size_t i = 0; i < nown; i++)
        add_row(c, &prog->opts[i], false);
    for (size_t i = 0; i < nshared; i++)
        if (takes(shared[i].progs, prog) && shared[i].id != S_KEYS)
            add_row(c, &shared[i], true);
    const char *name = c->names;
    for (size_t i = 0; i < nkeys; i++, name += strlen(name) + 1) {
        if (has_row(c, name))
            continue; /* --fft-max and the like have rows of their own */
        oz_cli_opt key = {name, 0, "VALUE", OZ_CLI_ANALYSIS, ALL, S_KEY, NULL};
        add_row(c, &key, true);
    }
    for (size_t i = 0; i < c->nrows; i++)
        c->longopts[i] = (struct option){c->rows[i].opt.name,
                                         c->rows[i].opt.arg ? required_argument : no_argument, NULL,
                                         ROW_BASE + (int)i};
    /* 0 makes glibc's getopt start afresh, even after another parse */
    optind = 0;
    opterr = 0; /* the messages are ours */
    *out = c;
    return EXIT_OK;
nomem:
    oz_cli_free(c);
    return oz_cli_complain(prog->name, EXIT_RUNTIME, "out of memory");
}

void oz_cli_free(oz_cli *cli)
{
    if (!cli)
        return;
    free(cli->flags.configs);
    free(cli->flags.keys);
    free(cli->rows);
    free(cli->longopts);
    free(cli->names);
    free(cli);
}

const oz_cli_flags *oz_cli_flags_of(const oz_cli *cli)
{
    return &cli->flags;
}

char **oz_cli_operands(const oz_cli *cli, int *n)
{
    int first = cli->done ? cli->operands : cli->argc;
    *n = cli->argc - first;
    return cli->argv + first;
}

/* A double for `flag` within [lo, hi] (or [lo, hi) when hi_open),
 * complaining "FLAG: TEXT is not WHAT" otherwise. */
static int parse_range(const char *prog, const char *flag, const char *text, double lo, double hi,
                       bool hi_open, const char *what, double *out)
{
    int rc = oz_cli_parse_double(prog, flag, text, out);
    if (rc != EXIT_OK)
        return rc;
    if (!(*out >= lo) || (hi_open ? !(*out < hi) : !(*out <= hi)))
        return oz_cli_complain(prog, EXIT_BADINPUT, "%s: %s is not %s", flag, text, what);
    return EXIT_OK;
}

/* A shared row's value into c->flags. */
static int parse_shared(oz_cli *c, const oz_cli_opt *o, const char *v)
{
    oz_cli_flags *f = &c->flags;
    const char *p = c->prog->name;
    char flag[72], why[256];
    int64_t ns;
    int rc = EXIT_OK;

    snprintf(flag, sizeof flag, "--%s", o->name);
    switch (o->id) {
    case S_FORMAT:
        if (oz_wu_format_parse(v, &f->format) != OZ_WU_OK)
            return oz_cli_complain(p, EXIT_BADINPUT, "%s: \"%s\" is not ci8, ci16 or cf32", flag,
                                   v);
        f->have_format = true;
        break;
    case S_RATE:
        if ((rc = oz_cli_parse_double(p, flag, v, &f->sample_rate)) != EXIT_OK)
            return rc;
        if (!(f->sample_rate > 0))
            return oz_cli_complain(p, EXIT_BADINPUT, "%s: %s must be greater than 0", flag, v);
        f->have_sample_rate = true;
        break;
    case S_CENTER:
        rc = parse_range(p, flag, v, -OZ_WU_FREQ_MAX, OZ_WU_FREQ_MAX, false, "within +-1e12 Hz",
                         &f->center_hz);
        f->have_center = rc == EXIT_OK;
        break;
    case S_DATETIME:
        if (oz_wu_time_parse(v, &ns, why, sizeof why) != OZ_WU_OK)
            return oz_cli_complain(p, EXIT_BADINPUT, "%s: %s", flag, why);
        f->datetime = v;
        break;
    case S_UNIT:
        if (oz_wu_parse_unit_samples(v, &f->unit_samples, why, sizeof why) != OZ_WU_OK)
            return oz_cli_complain(p, EXIT_BADINPUT, "%s", why);
        f->have_unit_samples = true;
        break;
    case S_OVERLAP:
        rc = parse_range(p, flag, v, 0, OZ_WU_OVERLAP_MAX, false, "a fraction from 0 to 0.75",
                         &f->overlap);
        f->have_overlap = rc == EXIT_OK;
        break;
    case S_RA:
        rc = parse_range(p, flag, v, 0, 360, true, "an angle from 0 to 360", &f->ra_deg);
        f->have_ra = rc == EXIT_OK;
        break;
    case S_DEC:
        rc = parse_range(p, flag, v, -90, 90, false, "an angle from -90 to 90", &f->dec_deg);
        f->have_dec = rc == EXIT_OK;
        break;
    case S_CONFIG:
        f->configs[f->nconfigs++] = v;
        break;
    case S_KEY: /* applied by oz_cli_config, the configuration as a whole */
        f->keys[f->nkeys++] = (oz_wu_config_flag){o->name, v};
        break;
    case S_REPORT: /* the configuration's mode, named for what a person sees */
        if (strcmp(v, "ozma") != 0 && strcmp(v, "seti") != 0)
            return oz_cli_complain(p, EXIT_BADINPUT, "%s: \"%s\" is not ozma or seti", flag, v);
        f->keys[f->nkeys++] = (oz_wu_config_flag){"mode", v};
        break;
    case S_QUIET:
        f->quiet = true;
        break;
    case S_HELP:
        oz_cli_help(c->prog, stdout);
        return OZ_CLI_DONE;
    default:
        return oz_cli_complain(p, EXIT_RUNTIME, "%s: no parser (a bug)", flag);
    }
    return rc;
}

/* The row getopt_long's answer stands for: ROW_BASE + its index, or its
 * short flag; NULL for ':' and '?'. */
static const row *row_of(const oz_cli *c, int ch)
{
    if (ch >= ROW_BASE)
        return (size_t)(ch - ROW_BASE) < c->nrows ? &c->rows[ch - ROW_BASE] : NULL;
    for (size_t i = 0; ch != ':' && ch != '?' && i < c->nrows; i++)
        if (c->rows[i].opt.short_name == ch)
            return &c->rows[i];
    return NULL;
}

int oz_cli_next(oz_cli *cli, int *id, const char **value)
{
    *id = 0;
    *value = NULL;
    while (!cli->done) {
        int li = -1;
        int ch = getopt_long(cli->argc, cli->argv, cli->shortopts, cli->longopts, &li);
        if (ch == -1) {
            cli->operands = optind;
            cli->done = true;
            break;
        }
        const row *r = row_of(cli, ch);
        if (!r)
            return oz_cli_getopt_complain(cli->prog->name, ch, cli->argv);
        if (!r->shared) {
            *id = r->opt.id;
            *value = r->opt.arg ? optarg : NULL;
            return EXIT_OK;
        }
        int rc = parse_shared(cli, &r->opt, optarg);
        if (rc != EXIT_OK)
            return rc;
    }
    return EXIT_OK;
}

int oz_cli_config(const oz_cli *cli, oz_sci_config *cfg)
{
    const oz_cli_flags *f = &cli->flags;
    const char *p = cli->prog->name;
    char why[512];
    for (size_t i = 0; i < f->nconfigs; i++) {
        int rc = oz_wu_config_load(f->configs[i], cfg, why, sizeof why);
        if (rc != OZ_WU_OK)
            return oz_cli_complain(p, rc == OZ_WU_ENOMEM ? EXIT_RUNTIME : EXIT_BADINPUT,
                                   "--config: %s", why);
    }
    int rc = oz_wu_config_set_flags(cfg, f->keys, f->nkeys, why, sizeof why);
    if (rc != OZ_WU_OK)
        return oz_cli_complain(p, rc == OZ_WU_ENOMEM ? EXIT_RUNTIME : EXIT_BADINPUT, "%s", why);
    return EXIT_OK;
}

int oz_cli_raw(const oz_cli *cli, oz_wu_raw_params *raw, bool *is_raw)
{
    const oz_cli_flags *f = &cli->flags;
    bool by_rate = cli->prog->raw_rule == OZ_CLI_RAW_BY_RATE;
    memset(raw, 0, sizeof *raw);
    *is_raw = by_rate ? f->have_sample_rate : f->have_format;
    if (!*is_raw) {
        if ((by_rate ? f->have_format : f->have_sample_rate) || f->have_center || f->datetime)
            return oz_cli_complain(cli->prog->name, EXIT_BADINPUT,
                                   "%s, --center-freq and --datetime describe headerless samples: "
                                   "give %s too",
                                   by_rate ? "--format" : "--sample-rate",
                                   by_rate ? "--sample-rate" : "--format");
        return EXIT_OK;
    }
    if (!by_rate && !(f->have_sample_rate && f->have_center))
        return oz_cli_complain(cli->prog->name, EXIT_BADINPUT,
                               "--format needs --sample-rate and --center-freq");
    raw->format = f->format;
    raw->sample_rate = f->sample_rate;
    raw->center_hz = f->center_hz;
    raw->datetime = f->datetime;
    return EXIT_OK;
}

/* ---- --help ------------------------------------------------------------------ */

static const char *const headings[OZ_CLI_NGROUPS][2] = {
    /* [group][raw_rule] */
    {NULL, NULL},
    {"  Headerless samples (--sample-rate makes the input headerless; --format is\n"
     "  cf32 and --center-freq 0 unless given):\n",
     "  Headerless samples (--format makes the input headerless; it needs\n"
     "  --sample-rate and --center-freq):\n"},
    {"  Analysis (--config over the defaults, the flags over both, in any order):\n",
     "  Analysis (--config over the defaults, the flags over both, in any order):\n"},
};

/* "    -q, --quiet           no progress bar ..." with the help's further
 * lines under its first. */
static void put_row(FILE *out, const oz_cli_opt *o)
{
    enum { INDENT = 4, COLUMN = 26 };
    char lead[80];
    int n = o->short_name ? snprintf(lead, sizeof lead, "-%c, --%s%s%s", o->short_name, o->name,
                                     o->arg ? " " : "", o->arg ? o->arg : "")
                          : snprintf(lead, sizeof lead, "--%s%s%s", o->name, o->arg ? " " : "",
                                     o->arg ? o->arg : "");
    if (INDENT + n + 2 > COLUMN)
        fprintf(out, "%*s%s\n%*s", INDENT, "", lead, COLUMN, "");
    else
        fprintf(out, "%*s%-*s", INDENT, "", COLUMN - INDENT, lead);
    for (const char *h = o->help; *h; h++) {
        fputc(*h, out);
        if (*h == '\n')
            fprintf(out, "%*s", COLUMN, "");
    }
    fputc('\n', out);
}

void oz_cli_help(const oz_cli_program *prog, FILE *out)
{
    for (size_t i = 0; prog->usage && prog->usage[i]; i++)
        fputs(prog->usage[i], out);
    fputs("OPTIONS\n", out);
    for (int g = 0; g < OZ_CLI_NGROUPS; g++) {
        const char *heading = headings[g][prog->raw_rule];
        for (size_t i = 0; prog->opts && prog->opts[i].name; i++) {
            if (prog->opts[i].group != (oz_cli_group)g)
                continue;
            if (heading)
                fprintf(out, "\n%s", heading);
            heading = NULL;
            put_row(out, &prog->opts[i]);
        }
        for (size_t i = 0; shared[i].name; i++) {
            if (shared[i].group != (oz_cli_group)g || !takes(shared[i].progs, prog))
                continue;
            if (heading)
                fprintf(out, "\n%s", heading);
            heading = NULL;
            put_row(out, &shared[i]);
        }
    }
    if (prog->epilogue) {
        fputc('\n', out);
        for (size_t i = 0; prog->epilogue[i]; i++)
            fputs(prog->epilogue[i], out);
    }
}

const oz_cli_opt *oz_cli_table(void)
{
    return shared;
}
