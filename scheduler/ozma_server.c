/*
 * ozma_server.c - `ozma-server`: the project server's command line.
 *
 *   ozma-server init DIR       create a project directory
 *   ozma-server load DIR REC   a recording becomes a dataset of work units
 *   ozma-server serve DIR      the HTTP API and the background jobs
 *   ozma-server status DIR     progress of the project
 *   ozma-server signals DIR    the canonical signals found, as JSON or CSV
 *   ozma-server candidates DIR the candidates they make, as JSON or CSV
 *   ozma-server verify DIR     unit files against their SHA-256 (verify.c)
 *   ozma-server dataset ...    list, cancel, delete datasets (ozma_server_admin.c)
 *   ozma-server host ban ...   shut a host out (ozma_server_admin.c)
 *
 * status, signals, candidates and verify, which read a project, are in
 * ozma_server_read.c; what the two files share is ozma_server.h.
 * This file only parses arguments and wires the parts together: the
 * project directory (project.c), loading (load.c), the HTTP server
 * (http.c), the jobs (jobs.c) and the store (store.h).  The one global is
 * the signal flag (STYLE.md §8): SIGINT/SIGTERM set it; `serve` waits for
 * it in sigsuspend and then drains, `load` polls it between units and
 * undoes itself.
 *
 * Exit status: 0 done; 1 a runtime failure (I/O, database, memory, a port
 * in use); 2 bad usage or input, with one line on stderr
 * "ozma-server: message".
 */
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ozma_cli.h"
#include "http.h"
#include "jobs.h"
#include "lifecycle.h"
#include "load.h"
#include "project.h"
#include "sched_errors.h"
#include "stats.h"
#include "store.h"
#include "ozma_server.h"

static volatile sig_atomic_t stop_flag; /* set by SIGINT/SIGTERM */

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static const char usage_main[] =
    "NAME\n"
    "    ozma-server - the Ozma project server\n"
    "\n"
    "SYNOPSIS\n"
    "    ozma-server init DIR [--name NAME]\n"
    "    ozma-server load DIR RECORDING|UNIT.sah... [options]\n"
    "    ozma-server serve DIR [--bind ADDR] [--port P] [--threads N]\n"
    "                      [--log-level debug|info|warn|error] [--quiet]\n"
    "    ozma-server status DIR [--json]\n"
    "    ozma-server signals DIR [--format json|csv] [filters]\n"
    "    ozma-server candidates DIR [--format json|csv] [--rfi 0|1] [--dataset ID]\n"
    "    ozma-server verify DIR [--all]\n"
    "    ozma-server dataset list DIR [--json]\n"
    "    ozma-server dataset cancel|delete DIR NAME\n"
    "    ozma-server host ban DIR ID [--reason TEXT]\n"
    "    ozma-server purge DIR [--older-than DAYS]\n"
    "    ozma-server COMMAND --help\n"
    "    ozma-server --version\n"
    "\n"
    "DESCRIPTION\n"
    "    A project is one directory: project.json (configuration), ozma.db (the\n"
    "    database), units/ (the work-unit files served to workers) and secret.key.\n"
    "    `init` makes one, `load` cuts recordings into work units, `serve` runs\n"
    "    the HTTP API (scheduler/API.md) with the transitioner, validator and\n"
    "    assimilator, `status`, `signals` and `candidates` read the results,\n"
    "    `verify` checks the unit files against their SHA-256, `dataset` lists,\n"
    "    cancels and deletes datasets, `host ban` shuts a host out and `purge`\n"
    "    archives old result texts (README: Data lifecycle).\n"
    "\n"
    "EXIT STATUS\n"
    "    0 success, 1 runtime failure, 2 bad usage or input (one line on stderr).\n";

static const char usage_init[] =
    "SYNOPSIS\n"
    "    ozma-server init DIR [--name NAME] [--database URI]\n"
    "\n"
    "    Creates DIR (which must not exist or be empty) with project.json holding\n"
    "    the default configuration, an empty database ozma.db, units/ and\n"
    "    secret.key (32 random bytes, mode 0600, the key of the stored token\n"
    "    hashes).  --name is the project's name (default: DIR's name).\n"
    "    --database puts the tables in an existing, empty PostgreSQL database\n"
    "    instead of ozma.db: a libpq URI, postgresql://HOST[:PORT]/DBNAME[?...],\n"
    "    recorded in project.json; a password comes from PGPASSFILE or\n"
    "    PGPASSWORD, never from the URI.  Several `serve` processes, on this\n"
    "    host or others with a copy of DIR, may then run against it (README).\n";

static const char *const usage_load[] = {
    "SYNOPSIS\n"
    "    ozma-server load DIR RECORDING [options] [analysis options]\n"
    "    ozma-server load DIR UNIT.sah... | SAHDIR [replication options]\n"
    "\n"
    "    Cuts RECORDING (SigMF, or raw with --format) into units of 2^k samples in\n"
    "    DIR/units/ and records them as a dataset; its units are sent out once\n"
    "    the whole load succeeded.  A failed or interrupted load leaves nothing.\n"
    "    An adaptive dataset (--adaptive) lets trusted hosts run units alone:\n"
    "    canary_fraction of its units get a hidden synthetic signal whose truth\n"
    "    only the server keeps, and every result is spot-checked (README).\n"
    "    SETI@home units (.sah, or a directory of them) are not cut: each becomes\n"
    "    one unit with its own samples, rate, centre, start, sky track and the\n"
    "    configuration of its analysis_cfg; they must share the sample rate,\n"
    "    centre and configuration (one dataset has one of each).  The analysis\n"
    "    configuration (as ozma-split's) is stored in every unit.\n"
    "\n",
    NULL,
};

/* load's own rows; its recording and analysis flags are the shared table's
 * (ozma_cli.h), as in ozma-split and ozma-search. */
enum {
    L_NAME = 1,
    L_QUORUM,
    L_REPLICAS,
    L_MAX_ERRORS,
    L_MAX_TOTAL,
    L_DEADLINE,
    L_ADAPTIVE,
    L_NO_ADAPTIVE,
    L_SITE
};

static const oz_cli_opt load_opts[] = {
    {"name", 0, "ID", OZ_CLI_GENERAL, 0, L_NAME, "dataset id (default: the recording's name)"},
    {"quorum", 0, "N", OZ_CLI_GENERAL, 0, L_QUORUM,
     "valid results that agree before a unit is done (2)"},
    {"replicas", 0, "N", OZ_CLI_GENERAL, 0, L_REPLICAS, "replicas sent at first (2)"},
    {"max-errors", 0, "N", OZ_CLI_GENERAL, 0, L_MAX_ERRORS,
     "failed replicas before a unit ends in error (3)"},
    {"max-total", 0, "N", OZ_CLI_GENERAL, 0, L_MAX_TOTAL,
     "replicas before a unit ends in error (6)"},
    {"deadline", 0, "T", OZ_CLI_GENERAL, 0, L_DEADLINE,
     "time a host has for a replica: 3600, 90m, 12h, 7d\n(7d)"},
    {"site", 0, "LAT,LON,ALT_M", OZ_CLI_GENERAL, 0, L_SITE,
     "the observatory (WGS84 degrees, metres), for the\ncandidates' barycentric "
     "frequencies; overrides a\nSigMF recording's core:geolocation or a .sah's\nreceiver_cfg"},
    {"adaptive", 0, NULL, OZ_CLI_GENERAL, 0, L_ADAPTIVE,
     "adaptive replication: trusted hosts run units alone,\nchecked by canaries and spot checks "
     "(default:\nproject.json's "
     "\"adaptive\")"},
    {"no-adaptive", 0, NULL, OZ_CLI_GENERAL, 0, L_NO_ADAPTIVE,
     "every unit replicated, whatever project.json says"},
    {NULL, 0, NULL, OZ_CLI_GENERAL, 0, 0, NULL},
};

static const oz_cli_program load_program = {PROG,      OZ_CLI_LOAD, OZ_CLI_RAW_BY_FORMAT,
                                            load_opts, usage_load,  NULL};

static const char usage_serve[] =
    "SYNOPSIS\n"
    "    ozma-server serve DIR [--bind ADDR] [--port P] [--threads N]\n"
    "                      [--log-level debug|info|warn|error] [--quiet]\n"
    "                      [--no-jobs] [--read-database URI]\n"
    "\n"
    "    Serves the HTTP API of scheduler/API.md, the unit files, the web pages\n"
    "    (/, /users, /hosts, /teams, /signals, /status) and /metrics, and runs the\n"
    "    background jobs.  Prints \"ozma-server: serving DIR on http://ADDR:PORT/\"\n"
    "    on stderr once it accepts connections (with --port 0, the port chosen);\n"
    "    after that, single-line structured logs: ts=... level=... msg=... k=v.\n"
    "    SIGTERM or SIGINT: stop accepting, finish the requests in flight, stop the\n"
    "    jobs, exit 0.\n"
    "\n"
    "OPTIONS\n"
    "    --bind ADDR           IPv4 or IPv6 address (project.json \"bind\")\n"
    "    --port P              TCP port, 0 for any free one (project.json \"port\")\n"
    "    --threads N           HTTP threads (project.json \"http_threads\")\n"
    "    --log-level L         debug (every request), info (default: client errors,\n"
    "                          start, stop), warn, error (server errors, job failures)\n"
    "    -q, --quiet           no log lines at all (the serving line stays)\n"
    "    --no-jobs             answer requests only: no transitioner, validator,\n"
    "                          assimilator, data lifecycle or statistics exports,\n"
    "                          which another serve of the same PostgreSQL database\n"
    "                          runs (README: several schedulers)\n"
    "    --read-database URI   the read-only views (status, leaderboards, signals,\n"
    "                          the pages) read from this PostgreSQL streaming\n"
    "                          replica of the project's database; they show it as\n"
    "                          stale as the replica's replay lag\n";

/* --flag VALUE or --flag=VALUE at argv[*i]: the flag into buf, its value
 * into *value (NULL for a flag that takes none, when want_value is false).
 * Returns 0, or EXIT_BADINPUT after complaining. */
int oz_server_flag_split(int argc, char **argv, int *i, bool want_value, char *buf, size_t len,
                         const char **value)
{
    const char *a = argv[*i];
    const char *eq = strchr(a, '=');
    size_t n = eq ? (size_t)(eq - a) : strlen(a);
    if (n >= len)
        return oz_cli_complain(PROG, EXIT_BADINPUT, "unknown option %.40s", a);
    memcpy(buf, a, n);
    buf[n] = '\0';
    *value = NULL;
    if (!want_value)
        return eq ? oz_cli_complain(PROG, EXIT_BADINPUT, "%s takes no value", buf) : 0;
    if (eq) {
        *value = eq + 1;
    } else {
        if (*i + 1 >= argc)
            return oz_cli_complain(PROG, EXIT_BADINPUT, "%s needs a value", buf);
        *value = argv[++*i];
    }
    return 0;
}

bool oz_server_is_help(const char *a)
{
    return strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0;
}

int oz_server_parse_int(const char *flag, const char *v, long min, long max, int *out)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (end == v || *end || errno || x < min || x > max)
        return oz_cli_complain(PROG, EXIT_BADINPUT, "%s: \"%s\" is not an integer in %ld..%ld",
                               flag, v, min, max);
    *out = (int)x;
    return 0;
}

int oz_server_status_of(int rc)
{
    return rc == OZ_SCHED_EINVAL || rc == OZ_SCHED_EEXIST || rc == OZ_SCHED_ENOTFOUND
               ? EXIT_BADINPUT
               : EXIT_RUNTIME;
}

/* ---- init ---- */

static int cmd_init(int argc, char **argv)
{
    const char *dir = NULL, *name = NULL, *database = NULL;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v;
        char flag[32];
        if (oz_server_is_help(a)) {
            fputs(usage_init, stdout);
            return EXIT_OK;
        }
        if (a[0] != '-') {
            if (dir)
                return oz_cli_complain(PROG, EXIT_BADINPUT, "init takes one DIR");
            dir = a;
            continue;
        }
        int rc = oz_server_flag_split(argc, argv, &i, true, flag, sizeof flag, &v);
        if (rc)
            return rc;
        if (strcmp(flag, "--name") == 0)
            name = v;
        else if (strcmp(flag, "--database") == 0)
            database = v;
        else
            return oz_cli_complain(PROG, EXIT_BADINPUT, "init: unknown option %s", flag);
    }
    if (!dir)
        return oz_cli_complain(PROG, EXIT_BADINPUT, "init: no DIR given (see init --help)");
    char why[512];
    int rc = oz_project_init(dir, name, database, why, sizeof why);
    if (rc != 0)
        return oz_cli_complain(PROG, oz_server_status_of(rc), "%s", why);
    printf("created project %s\n", dir);
    return EXIT_OK;
}

/* ---- load ---- */

static int set_sigint(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    return sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL) ? -1 : 0;
}

static int load_args(int argc, char **argv, oz_load_opts *op, const char **more);

static int cmd_load(int argc, char **argv)
{
    oz_load_opts o;
    oz_load_opts_default(&o);
    int rc;

    /* at most argc - 4 further files (after the command, DIR and the first) */
    const char **more = calloc((size_t)argc, sizeof *more);
    if (!more)
        return oz_cli_complain(PROG, EXIT_RUNTIME, "out of memory");
    rc = load_args(argc, argv, &o, more);
    free(more);
    return rc;
}

/* One of load's own flags into *o. */
static int load_flag(int id, const char *v, oz_load_opts *o)
{
    switch (id) {
    case L_NAME:
        o->name = v;
        return EXIT_OK;
    case L_QUORUM:
        return oz_server_parse_int("--quorum", v, 1, OZ_LOAD_REPLICAS_MAX, &o->min_quorum);
    case L_REPLICAS:
        return oz_server_parse_int("--replicas", v, 1, OZ_LOAD_REPLICAS_MAX, &o->target_nresults);
    case L_MAX_ERRORS:
        return oz_server_parse_int("--max-errors", v, 1, OZ_LOAD_REPLICAS_MAX,
                                   &o->max_error_results);
    case L_MAX_TOTAL:
        return oz_server_parse_int("--max-total", v, 1, OZ_LOAD_REPLICAS_MAX,
                                   &o->max_total_results);
    case L_SITE: {
        char why[256];
        if (oz_wu_site_parse(v, &o->site, why, sizeof why) != OZ_WU_OK)
            return oz_cli_complain(PROG, EXIT_BADINPUT, "--site: %s", why);
        o->has_site = true;
        return EXIT_OK;
    }
    case L_ADAPTIVE:
    case L_NO_ADAPTIVE:
        o->adaptive = id == L_ADAPTIVE;
        return EXIT_OK;
    case L_DEADLINE:
        if (oz_load_duration_parse(v, &o->delay_bound) != 0)
            return oz_cli_complain(PROG, EXIT_BADINPUT,
                                   "--deadline: \"%s\" is not a duration in 1s..365d "
                                   "(e.g. 3600, 90m, 12h, 7d)",
                                   v);
        return EXIT_OK;
    }
    return oz_cli_complain(PROG, EXIT_RUNTIME, "load: flag %d has no parser (a bug)", id);
}

/* cmd_load's work, with `more` (argc entries) for the further files. */
static int load_args(int argc, char **argv, oz_load_opts *op, const char **more)
{
    oz_load_opts o = *op;
    oz_wu_raw_params raw;
    oz_cli *cli = NULL;
    const char *v;
    char why[512] = "";
    bool is_raw;
    int id, n, rc;
    o.more = more;

    /* "load" is the flags' argv[0] */
    rc = oz_cli_new(&load_program, argc - 1, argv + 1, &cli);
    while (rc == EXIT_OK && (rc = oz_cli_next(cli, &id, &v)) == EXIT_OK && id)
        rc = load_flag(id, v, &o);
    if (rc != EXIT_OK)
        goto out;
    const oz_cli_flags *f = oz_cli_flags_of(cli);
    char **operands = oz_cli_operands(cli, &n);
    if (n < 2) {
        rc = oz_cli_complain(PROG, EXIT_BADINPUT, "load: give DIR and RECORDING (see load --help)");
        goto out;
    }
    o.dir = operands[0];
    o.recording = operands[1];
    for (int i = 2; i < n; i++) /* further .sah units (load.c checks that they are) */
        more[o.nmore++] = operands[i];
    /* a .sah carries its own unit and configuration: load.c refuses these */
    o.tuned = f->have_unit_samples || f->have_overlap || f->nconfigs || f->nkeys;
    o.unit_samples = f->have_unit_samples ? f->unit_samples : o.unit_samples;
    o.overlap = f->have_overlap ? f->overlap : o.overlap;
    if ((rc = oz_cli_config(cli, &o.config)) != EXIT_OK || (rc = oz_cli_raw(cli, &raw, &is_raw)))
        goto out;
    o.raw = is_raw ? &raw : NULL;
    o.progress = !f->quiet && isatty(STDERR_FILENO);
    o.stop = &stop_flag;
    if (set_sigint() != 0) {
        rc = oz_cli_complain(PROG, EXIT_RUNTIME, "cannot install signal handlers");
        goto out;
    }
    uint64_t units = 0, flops = 0;
    rc = oz_load_run(&o, &units, &flops, why, sizeof why);
    if (rc == OZ_SCHED_ECONFLICT && stop_flag)
        rc = oz_cli_complain(PROG, EXIT_RUNTIME, "interrupted; nothing was loaded");
    else if (rc != 0)
        rc = oz_cli_complain(PROG, oz_server_status_of(rc), "%s", why);
    else if (!f->quiet) {
        double s = (double)flops / OZ_LOAD_TYPICAL_FLOPS;
        char t[64];
        if (s < 1)
            snprintf(t, sizeof t, "under a second");
        else if (s < 120)
            snprintf(t, sizeof t, "%.0f seconds", s);
        else if (s < 7200)
            snprintf(t, sizeof t, "%.0f minutes", s / 60);
        else
            snprintf(t, sizeof t, "%.1f hours", s / 3600);
        printf("loaded %" PRIu64 " units into %s\n", units, o.dir);
        printf("one unit: %.3g GFLOP, about %s of CPU on a typical core (%.0f GFLOPS; "
               "ozma-worker benchmark measures this machine's)\n",
               (double)flops / 1e9, t, OZ_LOAD_TYPICAL_FLOPS / 1e9);
    }
out:
    oz_cli_free(cli);
    return rc == OZ_CLI_DONE ? EXIT_OK : rc;
}

/* ---- serve ---- */

static int cmd_serve(int argc, char **argv)
{
    const char *dir = NULL, *bind = NULL, *read_uri = NULL;
    int port = -1, threads = -1;
    bool quiet = false, no_jobs = false;
    oz_log_level level = OZ_LOG_INFO;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v;
        char flag[32];
        int rc;
        if (oz_server_is_help(a)) {
            fputs(usage_serve, stdout);
            return EXIT_OK;
        }
        if (strcmp(a, "--no-jobs") == 0) {
            no_jobs = true;
            continue;
        }
        if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            quiet = true;
            continue;
        }
        if (a[0] != '-') {
            if (dir)
                return oz_cli_complain(PROG, EXIT_BADINPUT, "serve takes one DIR");
            dir = a;
            continue;
        }
        if ((rc = oz_server_flag_split(argc, argv, &i, true, flag, sizeof flag, &v)) != 0)
            return rc;
        if (strcmp(flag, "--bind") == 0)
            bind = v;
        else if (strcmp(flag, "--read-database") == 0)
            read_uri = v;
        else if (strcmp(flag, "--port") == 0) {
            if ((rc = oz_server_parse_int(flag, v, 0, 65535, &port)))
                return rc;
        } else if (strcmp(flag, "--threads") == 0) {
            if ((rc = oz_server_parse_int(flag, v, 1, 256, &threads)))
                return rc;
        } else if (strcmp(flag, "--log-level") == 0) {
            if (oz_log_level_parse(v, &level) != 0 || level == OZ_LOG_OFF)
                return oz_cli_complain(PROG, EXIT_BADINPUT,
                                       "--log-level: \"%.20s\" is not debug, info, warn or error",
                                       v);
        } else
            return oz_cli_complain(PROG, EXIT_BADINPUT, "serve: unknown option %s", flag);
    }
    if (!dir)
        return oz_cli_complain(PROG, EXIT_BADINPUT, "serve: no DIR given (see serve --help)");

    char why[512], path[OZ_PROJECT_PATH_MAX];
    oz_project_config cfg;
    oz_project_config_default(&cfg);
    if (oz_project_path(dir, "project.json", path, sizeof path) != 0)
        return oz_cli_complain(PROG, EXIT_BADINPUT, "%.64s...: path too long", dir);
    int rc = oz_project_config_load(path, &cfg, why, sizeof why);
    if (rc != 0)
        return oz_cli_complain(PROG, EXIT_BADINPUT, "%s", why);
    if (bind) {
        json_t *ov = json_pack("{s:s}", "bind", bind);
        char w2[256];
        rc = ov ? oz_project_config_from_json(ov, &cfg, w2, sizeof w2) : OZ_SCHED_ENOMEM;
        json_decref(ov);
        if (rc != 0)
            return oz_cli_complain(PROG, EXIT_BADINPUT,
                                   "--bind: \"%s\" is not an IPv4 or IPv6 address", bind);
    }
    if (port >= 0)
        cfg.port = port;
    if (threads > 0)
        cfg.http_threads = threads;

    oz_http_opts ho = {.dir = dir, .cfg = &cfg, .quiet = quiet, .log_level = level};
    if (oz_auth_init() != 0)
        return oz_cli_complain(PROG, EXIT_RUNTIME, "libsodium failed to initialise");
    if ((rc = oz_project_secret_load(dir, ho.secret, why, sizeof why)) != 0)
        return oz_cli_complain(PROG, oz_server_status_of(rc), "%s", why);
    if ((rc = oz_project_database(dir, path, sizeof path, why, sizeof why)) != 0)
        return oz_cli_complain(PROG, oz_server_status_of(rc), "%s", why);

    /* SIGINT/SIGTERM blocked in every thread (the pool and the jobs inherit
     * the mask); the main thread takes them in sigsuspend below. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    signal(SIGPIPE, SIG_IGN);
    if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL) ||
        pthread_sigmask(SIG_BLOCK, &block, &old) != 0)
        return oz_cli_complain(PROG, EXIT_RUNTIME, "cannot install signal handlers");

    int status = EXIT_OK;
    oz_db *db = NULL, *read_db = NULL;
    oz_jobs *jobs = NULL;
    oz_stats *stats = NULL;
    oz_lifecycle *life = NULL;
    oz_http *http = NULL;
    if ((rc = oz_db_open(path, &db, why, sizeof why)) != 0) {
        status = oz_cli_complain(PROG, oz_server_status_of(rc), "%s", why);
        goto out;
    }
    oz_db_log_level_set(db, quiet ? OZ_LOG_OFF : level); /* "disk full", and back */
    if (read_uri && (rc = oz_db_open_read(read_uri, &read_db, why, sizeof why)) != 0) {
        status = oz_cli_complain(PROG, oz_server_status_of(rc), "--read-database: %s", why);
        goto out;
    }
    char units_dir[OZ_PROJECT_PATH_MAX];
    if (oz_project_path(dir, "units", units_dir, sizeof units_dir) != 0) {
        status = oz_cli_complain(PROG, EXIT_BADINPUT, "path too long");
        goto out;
    }
    oz_jobs_opts jo = {.db = db,
                       .tick_s = cfg.job_tick_s,
                       .quiet = quiet,
                       .log_level = level,
                       .units_dir = units_dir,
                       .cand = &cfg.cand};
    if (!no_jobs && (rc = oz_jobs_start(&jo, &jobs, why, sizeof why)) != 0) {
        status = oz_cli_complain(PROG, EXIT_RUNTIME, "%s", why);
        goto out;
    }
    ho.db = db;
    ho.read_db = read_db;
    ho.jobs = jobs;
    if ((rc = oz_http_start(&ho, &http, why, sizeof why)) != 0) {
        status = oz_cli_complain(PROG, EXIT_RUNTIME, "%s", why);
        goto out;
    }
    char archive_dir[OZ_PROJECT_PATH_MAX];
    oz_lifecycle_opts lo = {.db = db,
                            .units_dir = units_dir,
                            .archive_dir = archive_dir,
                            .keep_units = cfg.keep_units != 0,
                            .purge_after_days = cfg.purge_after_days,
                            .interval_s = cfg.lifecycle_interval_s,
                            .log_level = quiet ? OZ_LOG_OFF : level};
    if (oz_project_path(dir, "archive", archive_dir, sizeof archive_dir) != 0 ||
        (!no_jobs && oz_lifecycle_start(&lo, &life, why, sizeof why) != 0)) {
        status = oz_cli_complain(PROG, EXIT_RUNTIME, "data lifecycle: %s", why);
        goto out;
    }
    bool v6 = strchr(cfg.bind, ':') != NULL;
    char stats_dir[OZ_PROJECT_PATH_MAX];
    if (oz_project_path(dir, "stats", stats_dir, sizeof stats_dir) != 0 ||
        (!no_jobs && oz_stats_start(db, stats_dir, cfg.stats_interval_s, quiet ? OZ_LOG_OFF : level,
                                    &stats, why, sizeof why) != 0)) {
        status = oz_cli_complain(PROG, EXIT_RUNTIME, "statistics exports: %s", why);
        goto out;
    }
    fprintf(stderr, PROG ": serving %s on http://%s%s%s:%d/\n", dir, v6 ? "[" : "", cfg.bind,
            v6 ? "]" : "", oz_http_port(http));
    fflush(stderr);
    sigset_t waitmask = old; /* as before, but SIGINT/SIGTERM surely open */
    sigdelset(&waitmask, SIGINT);
    sigdelset(&waitmask, SIGTERM);
    while (!stop_flag)
        sigsuspend(&waitmask);
    oz_log(quiet ? OZ_LOG_OFF : level, OZ_LOG_INFO, "stopping: finishing requests in flight",
           (const char *)NULL);
    oz_http_drain(http, cfg.drain_timeout_s);

out:
    oz_lifecycle_stop(life);
    oz_stats_stop(stats);
    oz_http_stop(http);
    if (jobs)
        oz_jobs_stop(jobs);
    oz_db_close(read_db);
    oz_db_close(db);
    return status;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return oz_cli_complain(PROG, EXIT_BADINPUT, "no command given (see --help)");
    const char *cmd = argv[1];
    if (oz_server_is_help(cmd) || strcmp(cmd, "help") == 0) {
        fputs(usage_main, stdout);
        return EXIT_OK;
    }
    if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
        printf("%s %s (%s, database schema %d)\n", PROG, OZMA_VERSION, OZ_SCI_KERNEL_VERSION,
               OZ_STORE_SCHEMA_VERSION);
        return EXIT_OK;
    }
    if (strcmp(cmd, "init") == 0)
        return cmd_init(argc, argv);
    if (strcmp(cmd, "load") == 0)
        return cmd_load(argc, argv);
    if (strcmp(cmd, "serve") == 0)
        return cmd_serve(argc, argv);
    if (strcmp(cmd, "status") == 0)
        return oz_server_cmd_status(argc, argv);
    if (strcmp(cmd, "signals") == 0)
        return oz_server_cmd_signals(argc, argv);
    if (strcmp(cmd, "candidates") == 0)
        return oz_server_cmd_candidates(argc, argv);
    if (strcmp(cmd, "verify") == 0)
        return oz_server_cmd_verify(argc, argv);
    if (strcmp(cmd, "dataset") == 0)
        return oz_server_cmd_dataset(argc, argv);
    if (strcmp(cmd, "host") == 0)
        return oz_server_cmd_host(argc, argv);
    if (strcmp(cmd, "purge") == 0)
        return oz_server_cmd_purge(argc, argv);
    return oz_cli_complain(PROG, EXIT_BADINPUT, "unknown command \"%.40s\" (see --help)", cmd);
}
