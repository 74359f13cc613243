/*
 * ozma_cli.h - what Ozma's command-line programs share: their exit statuses,
 * the one-line complaint that names the program, the flag and the problem,
 * strict number parsing, and one table of the flags that describe a
 * recording and its analysis.
 *
 * Every program says bad input the same way (exit 2, one line on stderr:
 * "ozma-split: --overlap: ..."), so scripts and people can rely on it.
 *
 * The flag table (flags.c; curl's tool_getparam.c is the model) has one row
 * per flag that ozma-search, ozma-split and ozma-server load share: --format,
 * --sample-rate, --center-freq, --datetime, --unit-samples, --overlap,
 * --config, the analysis keys, --quiet, --help, and the few that only some of
 * them take (--ra/--dec, --report).  Each row says which programs accept it;
 * a program adds a small table of its own rows (ozma-search's --out,
 * ozma-server load's --quorum...).  From the two the parser builds
 * getopt_long's options and --help's OPTIONS section, so a flag is parsed,
 * refused and documented alike in every program that takes it.  The
 * analysis keys other than the four with rows of their own are one row each
 * too, made from the kernel's configuration keys (oz_sci_config_to_json), so
 * the kernel stays the only place that knows them.
 *
 * A program's loop:
 *
 *     oz_cli *cli;
 *     int id, rc = oz_cli_new(&program, argc, argv, &cli);
 *     const char *v;
 *     while (rc == EXIT_OK && (rc = oz_cli_next(cli, &id, &v)) == EXIT_OK && id)
 *         switch (id) { case MY_OUT: out = v; break; ... }   // its own rows
 *     // rc: EXIT_OK, OZ_CLI_DONE (--help printed: exit 0) or an exit status
 *     ... oz_cli_flags_of(cli), oz_cli_config(cli, &cfg), oz_cli_raw(cli, ...)
 *     oz_cli_free(cli);
 */
#ifndef OZMA_CLI_H
#define OZMA_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ozma_workunits.h"

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_BADINPUT = 2 };

/* Prints "PROG: <message>" on stderr and returns `status`. */
int oz_cli_complain(const char *prog, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The exit status for a workunits error: the input's fault unless memory or
 * the system failed. */
int oz_cli_status_of(int rc);

/* getopt_long returned ':' (a flag without its value) or '?' (an unknown
 * flag) for argv: complains naming the flag, returns EXIT_BADINPUT. */
int oz_cli_getopt_complain(const char *prog, int c, char **argv);

/* An output file path given by `flag`: complains (EXIT_BADINPUT) when it
 * names a directory, block device or socket (oz_wu_out_check), so a program
 * refuses it before its work rather than after. */
int oz_cli_out_file_check(const char *prog, const char *flag, const char *path);

/* An output directory given by `flag`: complains (EXIT_BADINPUT) when it
 * exists and is not a directory ("is a character device, not a
 * directory"). */
int oz_cli_out_dir_check(const char *prog, const char *flag, const char *dir);

/* A finite double, the whole of `text`; complains naming `flag` otherwise. */
int oz_cli_parse_double(const char *prog, const char *flag, const char *text, double *out);

/* ---- the recording and analysis flags ------------------------------------ */

/* The programs that share the table; a shared row names those it is for. */
enum { OZ_CLI_SEARCH = 1u << 0, OZ_CLI_SPLIT = 1u << 1, OZ_CLI_LOAD = 1u << 2 };

/* The sections of --help's OPTIONS, in order. */
typedef enum oz_cli_group {
    OZ_CLI_GENERAL = 0, /* no heading */
    OZ_CLI_RECORDING,   /* "Headerless samples (...):" */
    OZ_CLI_ANALYSIS,    /* "Analysis (...):" */
    OZ_CLI_NGROUPS
} oz_cli_group;

/* What makes the input headerless samples rather than a file that
 * describes itself (SigMF, .ozwu, .sah). */
typedef enum oz_cli_raw_rule {
    OZ_CLI_RAW_BY_RATE,   /* --sample-rate; --format cf32 and --center-freq 0 unless given */
    OZ_CLI_RAW_BY_FORMAT, /* --format, which needs --sample-rate and --center-freq */
} oz_cli_raw_rule;

/* One row: a flag of the shared table or of a program's own. */
typedef struct oz_cli_opt {
    const char *name;   /* long name without "--"; NULL ends a table */
    char short_name;    /* 'q' for -q, or 0 */
    const char *arg;    /* its value's name in --help ("HZ"), or NULL: it takes none */
    oz_cli_group group; /* the --help section that lists it */
    unsigned progs;     /* shared rows: the programs that take it (OZ_CLI_SEARCH | ...) */
    int id;             /* a program's rows: what oz_cli_next hands back, > 0 */
    const char *help;   /* --help's words; '\n' starts another indented line */
} oz_cli_opt;

/* A program that parses with the table. */
typedef struct oz_cli_program {
    const char *name;            /* "ozma-split": starts every complaint */
    unsigned id;                 /* OZ_CLI_SEARCH, OZ_CLI_SPLIT or OZ_CLI_LOAD */
    oz_cli_raw_rule raw_rule;    /* what oz_cli_raw holds the recording flags to */
    const oz_cli_opt *opts;      /* its own rows, ending with a NULL name; may be NULL */
    const char *const *usage;    /* --help before OPTIONS (NULL-terminated parts) */
    const char *const *epilogue; /* --help after OPTIONS, or NULL */
} oz_cli_program;

/* What the shared rows said; defaults where a flag was not given. */
typedef struct oz_cli_flags {
    /* the recording */
    oz_wu_format format;    /* --format (have_format), else OZ_WU_CF32 */
    double sample_rate;     /* --sample-rate (have_sample_rate), > 0 */
    double center_hz;       /* --center-freq (have_center), else 0 */
    const char *datetime;   /* --datetime, a valid ISO 8601 UTC time, or NULL */
    uint64_t unit_samples;  /* --unit-samples, else OZ_WU_UNIT_SAMPLES_DEFAULT */
    double overlap;         /* --overlap in [0, OZ_WU_OVERLAP_MAX], else the default */
    double ra_deg, dec_deg; /* --ra in [0, 360), --dec in [-90, 90] (have_ra, have_dec) */
    bool have_format, have_sample_rate, have_center, have_unit_samples, have_overlap;
    bool have_ra, have_dec;
    /* the analysis, applied by oz_cli_config */
    const char **configs; /* --config files, in order */
    size_t nconfigs;
    oz_wu_config_flag *keys; /* --KEY VALUE flags (and --report), in order */
    size_t nkeys;
    bool quiet; /* -q, --quiet */
} oz_cli_flags;

typedef struct oz_cli oz_cli;

/* oz_cli_next's "--help was printed: exit 0". */
#define OZ_CLI_DONE (-1)

/* Readies argv's parsing for `prog` (which must outlive it): its own rows,
 * the shared rows it takes, one row per other configuration key.  EXIT_OK,
 * or EXIT_RUNTIME after complaining (out of memory). */
int oz_cli_new(const oz_cli_program *prog, int argc, char **argv, oz_cli **out);

/* The next flag of one of the program's own rows: EXIT_OK with *id its row's
 * id and *value its value (NULL for a flag that takes none), or *id 0 when
 * the flags are done.  Shared rows on the way are parsed into
 * oz_cli_flags(cli) and checked as they come; a bad one, an unknown flag or a
 * missing value is complained of and its exit status returned.  --help
 * prints oz_cli_help and returns OZ_CLI_DONE. */
int oz_cli_next(oz_cli *cli, int *id, const char **value);

/* The shared rows' values (complete once oz_cli_next has said *id 0; the
 * strings are argv's or the parser's, valid until oz_cli_free). */
const oz_cli_flags *oz_cli_flags_of(const oz_cli *cli);

/* The arguments that are not flags (getopt_long moves them last). */
char **oz_cli_operands(const oz_cli *cli, int *n);

/* The analysis configuration: *cfg (the defaults, or a unit's own), then
 * every --config file in order, then the analysis flags together
 * (oz_wu_config_set_flags), whatever their order.  EXIT_OK, or an exit
 * status after complaining. */
int oz_cli_config(const oz_cli *cli, oz_sci_config *cfg);

/* Whether the input is headerless samples, by the program's raw_rule, and
 * their parameters in *raw when it is.  EXIT_OK, or EXIT_BADINPUT after
 * complaining of flags the rule does not allow together. */
int oz_cli_raw(const oz_cli *cli, oz_wu_raw_params *raw, bool *is_raw);

void oz_cli_free(oz_cli *cli);

/* Writes prog's --help: its usage, OPTIONS made from the rows it takes (its
 * own and the shared ones), its epilogue. */
void oz_cli_help(const oz_cli_program *prog, FILE *out);

/* The shared table, ending with a NULL name: for tests and documents.  The
 * row named KEY stands for one row per configuration key without a row of
 * its own. */
const oz_cli_opt *oz_cli_table(void);

#endif
