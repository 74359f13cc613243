/*
 * test_wu_cli.c - the shared table of recording and analysis flags
 * (workunits/cli/flags.c): every flag the three programs share is parsed
 * alike in each, a bad value or a missing one gets the same one-line
 * complaint whichever program it is, a flag a program does not take is
 * refused, and --help lists exactly the rows a program takes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"
#include "ozma_cli.h"

#define ALL (OZ_CLI_SEARCH | OZ_CLI_SPLIT | OZ_CLI_LOAD)

static const char *const usage[] = {"SYNOPSIS\n    prog [options] FILE\n\n", NULL};
static const char *const epilogue[] = {"EXIT STATUS\n    0, 1 or 2\n", NULL};

/* Each program's own rows, as the programs have them (ids > 0). */
static const oz_cli_opt search_own[] = {
    {"out", 'o', "FILE", OZ_CLI_GENERAL, 0, 1, "write the result to FILE"},
    {"version", 'V', NULL, OZ_CLI_GENERAL, 0, 2, "print the version and exit"},
    {NULL, 0, NULL, OZ_CLI_GENERAL, 0, 0, NULL},
};
static const oz_cli_opt split_own[] = {
    {"out", 0, "DIR", OZ_CLI_GENERAL, 0, 1, "output directory"},
    {"dataset", 0, "ID", OZ_CLI_GENERAL, 0, 2, "dataset id"},
    {NULL, 0, NULL, OZ_CLI_GENERAL, 0, 0, NULL},
};
static const oz_cli_opt load_own[] = {
    {"quorum", 0, "N", OZ_CLI_GENERAL, 0, 1, "valid results that agree"},
    {NULL, 0, NULL, OZ_CLI_GENERAL, 0, 0, NULL},
};

static const oz_cli_program programs[3] = {
    {"ozma-search", OZ_CLI_SEARCH, OZ_CLI_RAW_BY_RATE, search_own, usage, epilogue},
    {"ozma-split", OZ_CLI_SPLIT, OZ_CLI_RAW_BY_FORMAT, split_own, usage, NULL},
    {"ozma-server", OZ_CLI_LOAD, OZ_CLI_RAW_BY_FORMAT, load_own, usage, NULL},
};

/* What a program writes to fd (stderr, stdout) while captured. */
typedef struct capture {
    int fd, saved;
    FILE *tmp;
} capture;

static void capture_start(capture *c, int fd)
{
    c->fd = fd;
    c->tmp = tmpfile();
    assert_non_null(c->tmp);
    fflush(fd == STDOUT_FILENO ? stdout : stderr);
    c->saved = dup(fd);
    dup2(fileno(c->tmp), fd);
}

/* Ends the capture; what was written goes to buf (NUL-terminated), its
 * length is returned. */
static size_t capture_end(capture *c, char *buf, size_t len)
{
    fflush(c->fd == STDOUT_FILENO ? stdout : stderr);
    dup2(c->saved, c->fd);
    close(c->saved);
    rewind(c->tmp);
    size_t n = fread(buf, 1, len - 1, c->tmp);
    buf[n] = '\0';
    fclose(c->tmp);
    return n;
}

/* One parse: argv (the program name first), what came back, stderr. */
typedef struct run {
    char *argv[40];
    oz_cli *cli;
    int status;
    int own; /* the program's own flags seen */
    char err[1024];
} run;

/* Parses args (NULL-terminated, without argv[0]) for p to the end or the
 * first refusal, then applies the configuration over the recording
 * defaults when `config` is set; stderr goes to r->err. */
static void parse(run *r, const oz_cli_program *p, const char *const *args, oz_sci_config *config)
{
    int argc = 0;
    memset(r, 0, sizeof *r);
    r->argv[argc++] = (char *)p->name;
    while (args[argc - 1]) {
        assert_true(argc < 39);
        r->argv[argc] = (char *)args[argc - 1];
        argc++;
    }
    capture cap;
    capture_start(&cap, STDERR_FILENO);
    int id;
    const char *v;
    r->status = oz_cli_new(p, argc, r->argv, &r->cli);
    while (r->status == EXIT_OK && (r->status = oz_cli_next(r->cli, &id, &v)) == EXIT_OK && id)
        r->own++;
    if (r->status == EXIT_OK && config) {
        oz_wu_config_recording(config);
        r->status = oz_cli_config(r->cli, config);
    }
    capture_end(&cap, r->err, sizeof r->err);
}

static void done(run *r)
{
    oz_cli_free(r->cli);
    r->cli = NULL;
}

/* r refused with exit 2 and exactly one line "PROG: ...", which is
 * returned past "PROG: ". */
static const char *one_line(const run *r, const oz_cli_program *p)
{
    if (r->status != EXIT_BADINPUT)
        fail_msg("%s: exit %d, not 2 (%s)", p->name, r->status, r->err);
    size_t n = strlen(p->name);
    assert_true(strncmp(r->err, p->name, n) == 0 && strncmp(r->err + n, ": ", 2) == 0);
    const char *nl = strchr(r->err, '\n');
    assert_non_null(nl);
    assert_true(nl[1] == '\0');
    return r->err + n + 2;
}

/* Every flag the three share, with a good value. */
static const char *const good[] = {
    "--format",
    "ci16",
    "--sample-rate",
    "9765.625",
    "--center-freq",
    "1.42e9",
    "--datetime",
    "2024-05-01T12:00:00Z",
    "--unit-samples",
    "2^16",
    "--overlap",
    "0.25",
    "--config",
    "cfg.json",
    "--chirp-max",
    "5",
    "--fft-min",
    "64",
    "REC",
    "--fft-max=4096",
    "--planner",
    "measure",
    "--gauss-sigma-s",
    "0.4",
    "-q",
    NULL,
};

static void shared_flags_parse_alike_in_every_program(void **state)
{
    (void)state;
    run r[3];
    for (int i = 0; i < 3; i++) {
        parse(&r[i], &programs[i], good, NULL);
        assert_int_equal(r[i].status, EXIT_OK);
        assert_string_equal(r[i].err, "");
    }
    const oz_cli_flags *a = oz_cli_flags_of(r[0].cli);
    assert_int_equal(a->format, OZ_WU_CI16);
    assert_true(a->have_format && a->have_sample_rate && a->have_center);
    assert_true(a->sample_rate == 9765.625 && a->center_hz == 1.42e9);
    assert_string_equal(a->datetime, "2024-05-01T12:00:00Z");
    assert_true(a->have_unit_samples && a->unit_samples == 65536);
    assert_true(a->have_overlap && a->overlap == 0.25);
    assert_int_equal(a->nconfigs, 1);
    assert_string_equal(a->configs[0], "cfg.json");
    assert_int_equal(a->nkeys, 5);
    assert_string_equal(a->keys[4].flag, "gauss-sigma-s");
    assert_string_equal(a->keys[2].value, "4096");
    assert_true(a->quiet);
    for (int i = 0; i < 3; i++) {
        const oz_cli_flags *b = oz_cli_flags_of(r[i].cli);
        assert_int_equal(b->format, a->format);
        assert_true(b->sample_rate == a->sample_rate && b->center_hz == a->center_hz);
        assert_string_equal(b->datetime, a->datetime);
        assert_true(b->unit_samples == a->unit_samples && b->overlap == a->overlap);
        assert_true(b->have_format == a->have_format && b->have_sample_rate && b->have_center &&
                    b->have_unit_samples && b->have_overlap && b->quiet);
        assert_int_equal(b->nconfigs, a->nconfigs);
        assert_int_equal(b->nkeys, a->nkeys);
        for (size_t k = 0; k < a->nkeys; k++) {
            assert_string_equal(b->keys[k].flag, a->keys[k].flag);
            assert_string_equal(b->keys[k].value, a->keys[k].value);
        }
        int n;
        char **ops = oz_cli_operands(r[i].cli, &n);
        assert_int_equal(n, 1);
        assert_string_equal(ops[0], "REC");
    }
    for (int i = 0; i < 3; i++)
        done(&r[i]);
    /* the list above covers every row the three share */
    for (const oz_cli_opt *o = oz_cli_table(); o->name; o++) {
        if (o->progs != ALL || strcmp(o->name, "KEY") == 0 || !o->arg)
            continue;
        bool found = false;
        for (size_t i = 0; good[i]; i++)
            found |= strncmp(good[i], "--", 2) == 0 &&
                     strncmp(good[i] + 2, o->name, strlen(o->name)) == 0;
        if (!found)
            fail_msg("--%s is not in the test's list of shared flags", o->name);
    }
}

static void bad_values_get_one_line_alike(void **state)
{
    (void)state;
    static const char *const cases[][3] = {
        {"--format", "cu8", "--format: \"cu8\" is not ci8, ci16 or cf32"},
        {"--sample-rate", "10k", "--sample-rate: \"10k\" is not a number"},
        {"--sample-rate", "-5", "--sample-rate: -5 must be greater than 0"},
        {"--center-freq", "2e12", "--center-freq: 2e12 is not within +-1e12 Hz"},
        {"--datetime", "yesterday", "--datetime: "},
        {"--unit-samples", "3000", "--unit-samples 3000 must be a power of two"},
        {"--overlap", "0.9", "--overlap: 0.9 is not a fraction from 0 to 0.75"},
        {"--fft-max", "3000", "--fft-max 3000: fft_max: 3000 is not a power of two"},
        {"--fft-min", "-64", "--fft-min -64: fft_min: -64 is negative"},
        {"--planner", "fast", "--planner fast: planner: \"fast\" is not"},
        {"--spike-thresh", "lots", "--spike-thresh lots: spike_thresh: expected a number"},
        {"--config", "/nonexistent/cfg.json", "--config: /nonexistent/cfg.json: cannot open"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char first[1024] = "";
        for (int i = 0; i < 3; i++) {
            const char *args[] = {"REC", cases[c][0], cases[c][1], NULL};
            oz_sci_config cfg;
            run r;
            parse(&r, &programs[i], args, &cfg);
            const char *msg = one_line(&r, &programs[i]);
            if (!strstr(msg, cases[c][2]))
                fail_msg("%s %s %s: \"%s\" lacks \"%s\"", programs[i].name, cases[c][0],
                         cases[c][1], msg, cases[c][2]);
            if (i == 0)
                snprintf(first, sizeof first, "%s", msg);
            else
                assert_string_equal(msg, first);
            done(&r);
        }
    }
}

static void flags_a_program_does_not_take_are_refused(void **state)
{
    (void)state;
    static const struct {
        int prog;
        const char *flag, *value, *complaint;
    } cases[] = {
        {0, "--ra", "10", "unknown option '--ra' (see --help)\n"},
        {2, "--dec", "10", "unknown option '--dec' (see --help)\n"},
        {1, "--report", "seti", "unknown option '--report' (see --help)\n"},
        {2, "--report", "seti", "unknown option '--report' (see --help)\n"},
        {2, "--out", "x", "unknown option '--out' (see --help)\n"},
        {0, "--dataset", "x", "unknown option '--dataset' (see --help)\n"},
        {1, "--frobnicate", "1", "unknown option '--frobnicate' (see --help)\n"},
        {1, "-V", NULL, "unknown option '-V' (see --help)\n"},
        {0, "--KEY", "1", "unknown option '--KEY' (see --help)\n"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const char *args[] = {cases[c].flag, cases[c].value, NULL};
        run r;
        parse(&r, &programs[cases[c].prog], args, NULL);
        assert_string_equal(one_line(&r, &programs[cases[c].prog]), cases[c].complaint);
        done(&r);
    }
    /* and taken where the table says */
    const char *args[] = {"--ra", "83.6", "--dec", "22", NULL};
    run r;
    parse(&r, &programs[1], args, NULL);
    assert_int_equal(r.status, EXIT_OK);
    assert_true(oz_cli_flags_of(r.cli)->have_ra && oz_cli_flags_of(r.cli)->dec_deg == 22);
    done(&r);
    const char *seti[] = {"--report", "seti", NULL};
    oz_sci_config cfg;
    parse(&r, &programs[0], seti, &cfg);
    assert_int_equal(r.status, EXIT_OK);
    assert_int_equal(cfg.mode, OZ_MODE_SETI);
    done(&r);
}

static void missing_values_are_refused(void **state)
{
    (void)state;
    static const char *const flags[] = {"--fft-max", "--format", "--config", "--gauss-sigma-s",
                                        "--unit-samples"};
    for (size_t f = 0; f < sizeof flags / sizeof flags[0]; f++) {
        for (int i = 0; i < 3; i++) {
            const char *args[] = {"REC", flags[f], NULL};
            run r;
            parse(&r, &programs[i], args, NULL);
            char want[128];
            snprintf(want, sizeof want, "%s needs a value (see --help)\n", flags[f]);
            assert_string_equal(one_line(&r, &programs[i]), want);
            done(&r);
        }
    }
    const char *out[] = {"REC", "-o", NULL};
    run r;
    parse(&r, &programs[0], out, NULL);
    assert_string_equal(one_line(&r, &programs[0]), "-o needs a value (see --help)\n");
    done(&r);
}

static void own_rows_come_back_to_the_program(void **state)
{
    (void)state;
    const char *args[] = {"-o", "r.json", "REC", "--fft-max", "4096", "-Vq", NULL};
    run r;
    parse(&r, &programs[0], args, NULL);
    assert_int_equal(r.status, EXIT_OK);
    assert_int_equal(r.own, 2);
    assert_true(oz_cli_flags_of(r.cli)->quiet);
    done(&r);
}

static char *help_of(const oz_cli_program *p)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    oz_cli_help(p, f);
    fclose(f);
    return text;
}

/* "--name ARG" as --help writes it. */
static void lead(const oz_cli_opt *o, char *buf, size_t len)
{
    snprintf(buf, len, "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
}

static void help_lists_every_row_a_program_takes(void **state)
{
    (void)state;
    for (int i = 0; i < 3; i++) {
        char *help = help_of(&programs[i]);
        char want[128];
        assert_non_null(strstr(help, "SYNOPSIS"));
        assert_non_null(strstr(help, "\nOPTIONS\n"));
        for (const oz_cli_opt *o = oz_cli_table(); o->name; o++) {
            lead(o, want, sizeof want);
            bool takes = (o->progs & programs[i].id) != 0;
            if (takes != (strstr(help, want) != NULL))
                fail_msg("%s --help %s \"%s\"", programs[i].name, takes ? "lacks" : "has", want);
            char first[128]; /* the help's first line (the others come indented) */
            snprintf(first, sizeof first, "%.*s", (int)strcspn(o->help, "\n"), o->help);
            if (takes && !strstr(help, first))
                fail_msg("%s --help lacks \"%s\"", programs[i].name, first);
        }
        for (int j = 0; j < 3; j++)
            for (const oz_cli_opt *o = programs[j].opts; o->name; o++) {
                lead(o, want, sizeof want);
                if (i == j && !strstr(help, want))
                    fail_msg("%s --help lacks its own \"%s\"", programs[i].name, want);
            }
        assert_non_null(strstr(help, "-q, --quiet"));
        for (const char *line = help; *line; line += strcspn(line, "\n") + 1) {
            if (strcspn(line, "\n") > 80)
                fail_msg("%s --help: a line over 80 columns: %.80s", programs[i].name, line);
            if (!line[strcspn(line, "\n")])
                break;
        }
        assert_true((strstr(help, "EXIT STATUS") != NULL) == (programs[i].epilogue != NULL));
        assert_non_null(strstr(help, i == 0 ? "--sample-rate makes the input headerless"
                                            : "--format makes the input headerless"));
        free(help);
    }
    char *help = help_of(&programs[0]);
    assert_non_null(strstr(help, "    -o, --out FILE        write the result to FILE\n"));
    free(help);
}

static void help_flag_prints_and_says_done(void **state)
{
    (void)state;
    const char *args[] = {"--fft-max", "4096", "--help", "--frobnicate", NULL};
    capture cap;
    char out[8192];
    capture_start(&cap, STDOUT_FILENO);
    run r;
    parse(&r, &programs[1], args, NULL);
    capture_end(&cap, out, sizeof out);
    assert_int_equal(r.status, OZ_CLI_DONE);
    assert_string_equal(r.err, "");
    assert_non_null(strstr(out, "--fft-max N"));
    done(&r);
}

static void raw_rules(void **state)
{
    (void)state;
    static const struct {
        int prog;
        const char *args[8];
        bool raw;
        const char *complaint; /* NULL: accepted */
    } cases[] = {
        {0, {"--sample-rate", "1000", NULL}, true, NULL},
        {0, {NULL}, false, NULL},
        {0, {"--format", "ci8", NULL}, false, "give --sample-rate too"},
        {0, {"--datetime", "2024-05-01T12:00:00Z", NULL}, false, "give --sample-rate too"},
        {1, {"--format", "ci8", "--sample-rate", "1", "--center-freq", "0", NULL}, true, NULL},
        {1,
         {"--format", "ci8", "--sample-rate", "1", NULL},
         false,
         "--format needs --sample-rate and --center-freq"},
        {2,
         {"--sample-rate", "1000", NULL},
         false,
         "--sample-rate, --center-freq and --datetime describe headerless samples: give --format "
         "too"},
        {2, {"--center-freq", "1e9", NULL}, false, "give --format too"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const oz_cli_program *p = &programs[cases[c].prog];
        run r;
        parse(&r, p, cases[c].args, NULL);
        assert_int_equal(r.status, EXIT_OK);
        oz_wu_raw_params raw;
        bool is_raw = !cases[c].raw;
        capture cap;
        capture_start(&cap, STDERR_FILENO);
        int rc = oz_cli_raw(r.cli, &raw, &is_raw);
        capture_end(&cap, r.err, sizeof r.err);
        if (cases[c].complaint) {
            r.status = rc;
            assert_non_null(strstr(one_line(&r, p), cases[c].complaint));
        } else {
            assert_int_equal(rc, EXIT_OK);
            assert_true(is_raw == cases[c].raw);
        }
        if (cases[c].raw && !cases[c].complaint) {
            assert_int_equal(raw.format, cases[c].prog == 0 ? OZ_WU_CF32 : OZ_WU_CI8);
            assert_true(raw.center_hz == 0);
        }
        done(&r);
    }
}

static void config_then_flags_in_any_order(void **state)
{
    (void)state;
    char path[] = "/tmp/oz_cli_cfg_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "{\"fft_max\": 4096, \"chirp_max\": 2}";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    /* fft_min 8192 is above the file's fft_max until --fft-max raises it */
    const char *args[] = {"--fft-min", "8192", "--config", path, "--fft-max", "16384", NULL};
    for (int i = 0; i < 3; i++) {
        oz_sci_config cfg;
        run r;
        parse(&r, &programs[i], args, &cfg);
        assert_int_equal(r.status, EXIT_OK);
        assert_int_equal(cfg.fft_min, 8192);
        assert_int_equal(cfg.fft_max, 16384);
        assert_true(cfg.chirp_max == 2);
        done(&r);
    }
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shared_flags_parse_alike_in_every_program),
        cmocka_unit_test(bad_values_get_one_line_alike),
        cmocka_unit_test(flags_a_program_does_not_take_are_refused),
        cmocka_unit_test(missing_values_are_refused),
        cmocka_unit_test(own_rows_come_back_to_the_program),
        cmocka_unit_test(help_lists_every_row_a_program_takes),
        cmocka_unit_test(help_flag_prints_and_says_done),
        cmocka_unit_test(raw_rules),
        cmocka_unit_test(config_then_flags_in_any_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
