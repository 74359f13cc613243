/*
 * ozma_server_read.c - ozma-server's commands that read a project: status
 * (progress, queues, errors), signals (the canonical signals as JSON or
 * CSV) and verify (unit files against their SHA-256, verify.c).  Each opens
 * the project's database with its own connection and prints; ozma_server.c
 * dispatches to them.
 */
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ozma_cli.h"
#include "ozma_server.h"
#include "project.h"
#include "sched_errors.h"
#include "store.h"
#include "verify.h"

static const char usage_status[] =
    "SYNOPSIS\n"
    "    ozma-server status DIR [--json]\n"
    "\n"
    "    Units and replicas by state, hosts active in the last 24 hours, results\n"
    "    returned recently, accounts, teams, signals and credit, and the units\n"
    "    whose file on the server is bad (see verify); --json prints the object of\n"
    "    GET /api/v1/status with those units as \"unit_files_bad\".\n";

static const char usage_verify[] =
    "SYNOPSIS\n"
    "    ozma-server verify DIR [--all]\n"
    "\n"
    "    Hashes the files of the units marked bad (a host's download did not\n"
    "    match and neither did the server's copy), or with --all of every unit,\n"
    "    against the SHA-256 their load recorded.  A marked unit whose file\n"
    "    matches again (restored, or cut again by ozma-split with the load's\n"
    "    options) is cleared and sent again; --all marks any that does not\n"
    "    match.  Prints a line per bad or cleared unit; exit status 1 while any\n"
    "    file checked is bad.  Safe while `serve` runs.\n";

static const char usage_signals[] =
    "SYNOPSIS\n"
    "    ozma-server signals DIR [--format json|csv] [--min-score X] [--dataset ID]\n"
    "                        [--type T] [--limit N]\n"
    "\n"
    "    The canonical signals found so far, oldest first: all of them, or the\n"
    "    first N with --limit (1..500).  --type is spike, gaussian, pulse, triplet,\n"
    "    autocorr or line.  JSON is {\"signals\": [...]} as GET /api/v1/signals; CSV\n"
    "    has a header line.\n";

static const char usage_candidates[] =
    "SYNOPSIS\n"
    "    ozma-server candidates DIR [--format json|csv] [--rfi 0|1] [--dataset ID]\n"
    "\n"
    "    The candidates (README, \"Candidates\"): unflagged first, then RFI, each\n"
    "    by score.  --rfi 0 lists only unflagged ones, --rfi 1 only flagged ones;\n"
    "    --dataset those with a detection in that dataset.  JSON is\n"
    "    {\"candidates\": [...]} as GET /api/v1/candidates; CSV has a header line.\n";

/* Opens DIR's database and one connection; complains on failure. */
int oz_server_open_store(const char *dir, oz_db **db, oz_store **s)
{
    char why[512], path[OZ_PROJECT_PATH_MAX];
    *db = NULL;
    *s = NULL;
    int rc = oz_project_database(dir, path, sizeof path, why, sizeof why);
    if (rc != 0)
        return oz_cli_complain(PROG, oz_server_status_of(rc), "%s", why);
    rc = oz_db_open(path, db, why, sizeof why);
    if (rc == 0 && (rc = oz_store_open(*db, s, why, sizeof why)) != 0) {
        oz_db_close(*db);
        *db = NULL;
    }
    return rc ? oz_cli_complain(PROG, oz_server_status_of(rc), "%s", why) : 0;
}

static void print_value(const json_t *v)
{
    if (json_is_integer(v))
        printf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_real(v))
        printf("%.6g", json_real_value(v));
    else if (json_is_string(v))
        printf("%s", json_string_value(v));
    else if (json_is_null(v))
        printf("-");
    else
        printf("%s", json_is_true(v) ? "yes" : json_is_false(v) ? "no" : "...");
}

int oz_server_cmd_status(int argc, char **argv)
{
    const char *dir = NULL;
    bool as_json = false;
    for (int i = 2; i < argc; i++) {
        if (oz_server_is_help(argv[i])) {
            fputs(usage_status, stdout);
            return EXIT_OK;
        }
        if (strcmp(argv[i], "--json") == 0)
            as_json = true;
        else if (argv[i][0] == '-')
            return oz_cli_complain(PROG, EXIT_BADINPUT, "status: unknown option %.40s", argv[i]);
        else if (dir)
            return oz_cli_complain(PROG, EXIT_BADINPUT, "status takes one DIR");
        else
            dir = argv[i];
    }
    if (!dir)
        return oz_cli_complain(PROG, EXIT_BADINPUT, "status: no DIR given (see status --help)");
    oz_db *db;
    oz_store *s;
    int rc = oz_server_open_store(dir, &db, &s);
    if (rc)
        return rc;
    json_t *o = NULL;
    int status = EXIT_OK;
    oz_project_config cfg; /* the trust threshold, for the count of trusted hosts */
    oz_project_config_default(&cfg);
    char cpath[OZ_PROJECT_PATH_MAX], cwhy[512];
    if (oz_project_path(dir, "project.json", cpath, sizeof cpath) == 0)
        (void)oz_project_config_load(cpath, &cfg, cwhy, sizeof cwhy); /* defaults otherwise */
    if ((rc = oz_store_status_json(s, (int64_t)time(NULL), cfg.adaptive_trust_after, &o)) != 0) {
        status =
            oz_cli_complain(PROG, EXIT_RUNTIME, "reading the status: %s", oz_sched_strerror(rc));
        goto out;
    }
    json_t *bad = NULL;
    if ((rc = oz_store_unit_files_bad_json(s, 500, &bad)) != 0 ||
        json_object_set_new(o, "unit_files_bad", bad) != 0) {
        status = oz_cli_complain(PROG, EXIT_RUNTIME, "reading the bad unit files: %s",
                                 oz_sched_strerror(rc ? rc : OZ_SCHED_ENOMEM));
        goto out;
    }
    if (as_json) {
        char *text = json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
        if (text)
            puts(text);
        free(text);
    } else {
        const char *k;
        json_t *v;
        json_object_foreach(o, k, v)
        {
            if (json_is_array(v)) /* unit_files_bad, below */
                continue;
            printf("%-14s", k);
            if (json_is_object(v)) {
                const char *k2;
                json_t *v2;
                int first = 1;
                json_object_foreach(v, k2, v2)
                {
                    printf("%s%s ", first ? "" : ", ", k2);
                    print_value(v2);
                    first = 0;
                }
            } else {
                print_value(v);
            }
            putchar('\n');
        }
        size_t i;
        json_array_foreach(bad, i, v)
            printf("file bad      %s (%s): %s\n", json_string_value(json_object_get(v, "unit_id")),
                   json_string_value(json_object_get(v, "dataset")),
                   json_string_value(json_object_get(v, "reason")));
    }
out:
    json_decref(o);
    oz_store_close(s);
    oz_db_close(db);
    return status;
}

/* One object's cols as a CSV line. */
static void csv_row(const json_t *g, const char *const *cols)
{
    for (size_t i = 0; cols[i]; i++) {
        const json_t *v = json_object_get(g, cols[i]);
        if (i)
            putchar(',');
        if (json_is_integer(v))
            printf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
        else if (json_is_real(v))
            printf("%.17g", json_real_value(v));
        else if (json_is_string(v)) { /* quoted, quotes doubled (RFC 4180) */
            putchar('"');
            for (const char *p = json_string_value(v); *p; p++) {
                if (*p == '"')
                    putchar('"');
                putchar(*p);
            }
            putchar('"');
        }
    }
    putchar('\n');
}

/* One page of a list after a cursor (NULL: the first) into *page. */
typedef int (*page_fn)(oz_store *s, void *q, const char *after, json_t **page);

/* Prints the list `key` as {"key": [...], "next"} or as CSV of cols (a
 * header line first): every page through the cursor, or the first only. */
static int list_print(oz_store *s, page_fn fetch, void *q, const char *key,
                      const char *const *cols, bool csv, bool first_only)
{
    int status = EXIT_OK, rc;
    json_t *all = json_array(), *page = NULL;
    char cursor[64] = "";
    if (!all)
        return oz_cli_complain(PROG, EXIT_RUNTIME, "out of memory");
    for (size_t i = 0; csv && cols[i]; i++)
        printf("%s%s", i ? "," : "", cols[i]);
    if (csv)
        putchar('\n');
    for (;;) {
        if ((rc = fetch(s, q, *cursor ? cursor : NULL, &page)) != 0) {
            status = oz_cli_complain(PROG, EXIT_RUNTIME, "reading %s: %s", key,
                                     oz_sched_strerror(rc));
            goto out;
        }
        json_t *arr = json_object_get(page, key), *next = json_object_get(page, "next");
        size_t i;
        json_t *g;
        json_array_foreach(arr, i, g)
        {
            if (csv)
                csv_row(g, cols);
            else
                json_array_append(all, g);
        }
        const char *nx = json_string_value(next);
        if (first_only || !nx || !*nx || strlen(nx) >= sizeof cursor)
            break;
        snprintf(cursor, sizeof cursor, "%s", nx);
        json_decref(page);
        page = NULL;
    }
    if (!csv) {
        json_t *o = json_pack("{s:O, s:O}", key, all, "next",
                              first_only ? json_object_get(page, "next") : json_null());
        char *text = o ? json_dumps(o, JSON_INDENT(1) | JSON_REAL_PRECISION(17)) : NULL;
        json_decref(o);
        if (!text) {
            status = oz_cli_complain(PROG, EXIT_RUNTIME, "out of memory");
            goto out;
        }
        puts(text);
        free(text);
    }
out:
    json_decref(page);
    json_decref(all);
    return status;
}

static int signals_page(oz_store *s, void *q, const char *after, json_t **page)
{
    oz_signal_query *sq = q;
    sq->after = after;
    return oz_store_signals_json(s, sq, page);
}

static int candidates_page(oz_store *s, void *q, const char *after, json_t **page)
{
    oz_cand_query *cq = q;
    cq->after = after;
    return oz_store_candidates_json(s, cq, page);
}

/* The --format value, or a complaint. */
static int format_flag(const char *v, bool *csv)
{
    if (strcmp(v, "json") != 0 && strcmp(v, "csv") != 0)
        return oz_cli_complain(PROG, EXIT_BADINPUT, "--format must be json or csv");
    *csv = strcmp(v, "csv") == 0;
    return EXIT_OK;
}

/* The next argument of a list command (signals, candidates): its DIR
 * (kept in *dir), --help (prints usage), or a flag with its value (*flag,
 * *v): returns 1 for a flag to look at, 0 when done with this argument,
 * OZ_CLI_DONE after --help, or an exit status. */
static int list_arg(int argc, char **argv, int *i, const char *cmd, const char *usage,
                    const char **dir, char *flag, size_t flaglen, const char **v)
{
    const char *a = argv[*i];
    if (oz_server_is_help(a)) {
        fputs(usage, stdout);
        return OZ_CLI_DONE;
    }
    if (a[0] != '-') {
        if (*dir)
            return oz_cli_complain(PROG, EXIT_BADINPUT, "%s takes one DIR", cmd);
        *dir = a;
        return 0;
    }
    int rc = oz_server_flag_split(argc, argv, i, true, flag, flaglen, v);
    return rc ? rc : 1;
}

int oz_server_cmd_signals(int argc, char **argv)
{
    static const char *const cols[] = {"id",      "type",    "freq_hz",  "chirp_hz_s",
                                       "time_s",  "time_utc", "score",   "power",
                                       "fft_len", "unit_id", "dataset", "candidate_id",
                                       NULL};
    const char *dir = NULL;
    bool csv = false;
    oz_signal_query q = {.min_score = -DBL_MAX};
    int limit = 0;
    for (int i = 2; i < argc; i++) {
        const char *v;
        char flag[32];
        int rc = list_arg(argc, argv, &i, "signals", usage_signals, &dir, flag, sizeof flag, &v);
        if (rc == 0)
            continue;
        if (rc != 1)
            return rc == OZ_CLI_DONE ? EXIT_OK : rc;
        if (strcmp(flag, "--format") == 0) {
            if ((rc = format_flag(v, &csv)) != EXIT_OK)
                return rc;
        } else if (strcmp(flag, "--min-score") == 0) {
            if ((rc = oz_cli_parse_double(PROG, flag, v, &q.min_score)) != EXIT_OK)
                return rc;
        } else if (strcmp(flag, "--dataset") == 0) {
            if (!oz_wu_id_valid(v, OZ_WU_DATASET_MAX))
                return oz_cli_complain(PROG, EXIT_BADINPUT,
                                       "--dataset: \"%.64s\" is not a dataset id", v);
            q.dataset = v;
        } else if (strcmp(flag, "--type") == 0) {
            oz_sig_type t;
            if (oz_sig_type_parse(v, &t) != OZ_SCI_OK)
                return oz_cli_complain(
                    PROG, EXIT_BADINPUT,
                    "--type: \"%.20s\" is not spike, gaussian, pulse, triplet, autocorr or line",
                    v);
            q.type = v;
        } else if (strcmp(flag, "--limit") == 0) {
            if ((rc = oz_server_parse_int(flag, v, 1, 500, &limit)))
                return rc;
        } else
            return oz_cli_complain(PROG, EXIT_BADINPUT, "signals: unknown option %s", flag);
    }
    if (!dir)
        return oz_cli_complain(PROG, EXIT_BADINPUT, "signals: no DIR given (see signals --help)");
    oz_db *db;
    oz_store *s;
    int rc = oz_server_open_store(dir, &db, &s);
    if (rc)
        return rc;
    q.limit = limit ? limit : 500;
    int status = list_print(s, signals_page, &q, "signals", cols, csv, limit != 0);
    oz_store_close(s);
    oz_db_close(db);
    return status;
}

int oz_server_cmd_candidates(int argc, char **argv)
{
    static const char *const cols[] = {
        "id",         "key",     "type",   "score",        "rfi",          "freq_hz",
        "freq_bary_hz", "chirp_hz_s", "ra_deg", "dec_deg", "pixel", "observations",
        "detections", "power",   "time_utc", "dataset", NULL};
    const char *dir = NULL;
    bool csv = false;
    oz_cand_query q = {.rfi = -1, .pixel = -1, .limit = 500};
    for (int i = 2; i < argc; i++) {
        const char *v;
        char flag[32];
        int rc =
            list_arg(argc, argv, &i, "candidates", usage_candidates, &dir, flag, sizeof flag, &v);
        if (rc == 0)
            continue;
        if (rc != 1)
            return rc == OZ_CLI_DONE ? EXIT_OK : rc;
        if (strcmp(flag, "--format") == 0) {
            if ((rc = format_flag(v, &csv)) != EXIT_OK)
                return rc;
        } else if (strcmp(flag, "--rfi") == 0) {
            if ((rc = oz_server_parse_int(flag, v, 0, 1, &q.rfi)))
                return rc;
        } else if (strcmp(flag, "--dataset") == 0) {
            if (!oz_wu_id_valid(v, OZ_WU_DATASET_MAX))
                return oz_cli_complain(PROG, EXIT_BADINPUT,
                                       "--dataset: \"%.64s\" is not a dataset id", v);
            q.dataset = v;
        } else
            return oz_cli_complain(PROG, EXIT_BADINPUT, "candidates: unknown option %s", flag);
    }
    if (!dir)
        return oz_cli_complain(PROG, EXIT_BADINPUT,
                               "candidates: no DIR given (see candidates --help)");
    oz_db *db;
    oz_store *s;
    int rc = oz_server_open_store(dir, &db, &s);
    if (rc)
        return rc;
    int status = list_print(s, candidates_page, &q, "candidates", cols, csv, false);
    oz_store_close(s);
    oz_db_close(db);
    return status;
}

int oz_server_cmd_verify(int argc, char **argv)
{
    const char *dir = NULL;
    bool all = false;
    for (int i = 2; i < argc; i++) {
        if (oz_server_is_help(argv[i])) {
            fputs(usage_verify, stdout);
            return EXIT_OK;
        }
        if (strcmp(argv[i], "--all") == 0)
            all = true;
        else if (argv[i][0] == '-')
            return oz_cli_complain(PROG, EXIT_BADINPUT, "verify: unknown option %.40s", argv[i]);
        else if (dir)
            return oz_cli_complain(PROG, EXIT_BADINPUT, "verify takes one DIR");
        else
            dir = argv[i];
    }
    if (!dir)
        return oz_cli_complain(PROG, EXIT_BADINPUT, "verify: no DIR given (see verify --help)");
    char why[512];
    oz_verify_report rep;
    int rc = oz_verify_run(dir, all, stdout, &rep, why, sizeof why);
    if (rc != 0)
        return oz_cli_complain(PROG, oz_server_status_of(rc), "%s", why);
    if (rep.bad)
        return oz_cli_complain(PROG, EXIT_RUNTIME, "%zu of %zu unit files checked do not match",
                               rep.bad, rep.checked);
    printf("%zu unit files checked, all match; %zu units cleared\n", rep.checked, rep.cleared);
    return EXIT_OK;
}
