/*
 * ozma_server_admin.c - ozma-server's operator commands that change a
 * project: `dataset list | cancel | delete`, `host ban` and `purge`.  Each opens the
 * project's database with its own connection (safe while `serve` runs: the
 * store's transactions are short, and the server's jobs pick up what
 * changed on their next tick) and prints one line saying what it did.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ozma_cli.h"
#include "lifecycle.h"
#include "ozma_server.h"
#include "project.h"
#include "sched_errors.h"
#include "store.h"

static const char usage_dataset[] =
    "SYNOPSIS\n"
    "    ozma-server dataset list DIR [--json]\n"
    "    ozma-server dataset cancel DIR NAME\n"
    "    ozma-server dataset delete DIR NAME\n"
    "\n"
    "    list    Every dataset with its units by state: validated, validating\n"
    "            (a result is in), in progress, unsent, error; and its signals.\n"
    "            --json prints {\"datasets\": [...]} as GET /api/v1/datasets.\n"
    "    cancel  Stops a dataset: its units not yet validated end in error\n"
    "            (\"cancelled by the operator\"), its unsent replicas are dropped\n"
    "            and those in progress are taken back (their uploads are\n"
    "            refused).  Validated units and their signals stay; the credit\n"
    "            granted stays.\n"
    "    delete  Removes a dataset and everything of it: units, replicas,\n"
    "            signals and its unit files in DIR/units.  Credit granted for it\n"
    "            stays with the hosts, users and teams.\n"
    "    Both are one transaction each and safe while `serve` runs.\n";

static const char usage_host[] =
    "SYNOPSIS\n"
    "    ozma-server host ban DIR ID [--reason TEXT]\n"
    "\n"
    "    Shuts host ID out: it gets no more work (its work requests are answered\n"
    "    403), its replicas in progress are taken back and its results on units\n"
    "    not yet validated are ignored; those units are sent to other hosts.\n"
    "    Units already validated, and the credit granted, stay as they are.\n"
    "    The reason (default \"banned by the operator\") is kept.  Safe while\n"
    "    `serve` runs; banning a banned host again changes nothing.\n";

static const char usage_purge[] =
    "SYNOPSIS\n"
    "    ozma-server purge DIR [--older-than DAYS]\n"
    "\n"
    "    Moves the result texts of units finished more than DAYS ago (default:\n"
    "    project.json's purge_after_days, or 7 when that is 0; 0 takes every\n"
    "    finished unit) out of the database into DIR/archive/\n"
    "    results-YYYY-MM-DD.jsonl.gz, by the day each unit finished: one JSON\n"
    "    object per result, read back with zcat.  A unit is purged only when\n"
    "    nothing can change it any more (no replica out, validation and\n"
    "    assimilation done).  Its rows stay, less the text.  `serve` does the\n"
    "    same every lifecycle_interval_s; this is for doing it now.  Safe while\n"
    "    `serve` runs.  Prints what it moved.\n";

/* The operands of a command after argv[2] (the verb): DIR and up to one
 * more; --json and --reason TEXT where allowed. */
typedef struct admin_args {
    const char *dir, *operand, *reason;
    bool json;
} admin_args;

static int parse(int argc, char **argv, const char *usage, const char *what, bool want_operand,
                 bool json_ok, bool reason_ok, admin_args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 3; i < argc; i++) {
        const char *v = argv[i];
        if (oz_server_is_help(v)) {
            fputs(usage, stdout);
            return -1;
        }
        if (json_ok && strcmp(v, "--json") == 0)
            a->json = true;
        else if (reason_ok && strcmp(v, "--reason") == 0) {
            if (i + 1 >= argc)
                return oz_cli_complain(PROG, EXIT_BADINPUT, "%s: --reason needs a text", what);
            a->reason = argv[++i];
            size_t n = strlen(a->reason);
            if (n == 0 || n > 200)
                return oz_cli_complain(PROG, EXIT_BADINPUT, "%s: --reason: 1 to 200 characters",
                                       what);
        } else if (v[0] == '-')
            return oz_cli_complain(PROG, EXIT_BADINPUT, "%s: unknown option %.40s (see --help)",
                                   what, v);
        else if (!a->dir)
            a->dir = v;
        else if (want_operand && !a->operand)
            a->operand = v;
        else
            return oz_cli_complain(PROG, EXIT_BADINPUT, "%s: unexpected argument %.40s", what, v);
    }
    if (!a->dir || (want_operand && !a->operand))
        return oz_cli_complain(PROG, EXIT_BADINPUT, "%s: give DIR%s (see --help)", what,
                               want_operand ? (reason_ok ? " and ID" : " and NAME") : "");
    return 0;
}

static void print_datasets(const json_t *list)
{
    printf("%-6s %-24s %8s %9s %10s %11s %7s %6s %8s  %s\n", "ID", "NAME", "UNITS", "VALIDATED",
           "VALIDATING", "IN PROGRESS", "UNSENT", "ERROR", "SIGNALS", "CREATED");
    size_t i;
    json_t *d;
    json_array_foreach(list, i, d)
    {
        char when[32] = "?";
        time_t t = (time_t)json_integer_value(json_object_get(d, "created"));
        struct tm tm;
        if (gmtime_r(&t, &tm))
            strftime(when, sizeof when, "%Y-%m-%d %H:%MZ", &tm);
#define N(k) (long long)json_integer_value(json_object_get(d, k))
        printf("%-6lld %-24s %8lld %9lld %10lld %11lld %7lld %6lld %8lld  %s\n", N("id"),
               json_string_value(json_object_get(d, "name")), N("units"), N("validated"),
               N("validating"), N("in_progress"), N("unsent"), N("error"), N("signals"), when);
#undef N
    }
    if (json_array_size(list) == 0)
        printf("(no datasets: load one with ozma-server load)\n");
}

static int dataset_list(oz_store *s, bool as_json)
{
    json_t *all = json_array(), *page = NULL;
    char cursor[32] = "";
    int rc;
    if (!all)
        return oz_cli_complain(PROG, EXIT_RUNTIME, "out of memory");
    for (;;) {
        if ((rc = oz_store_datasets_json(s, 500, cursor[0] ? cursor : NULL, &page)) != 0) {
            json_decref(all);
            return oz_cli_complain(PROG, EXIT_RUNTIME, "reading the datasets: %s",
                                   oz_sched_strerror(rc));
        }
        json_array_extend(all, json_object_get(page, "datasets"));
        json_t *next = json_object_get(page, "next");
        bool more = json_is_string(next);
        if (more)
            snprintf(cursor, sizeof cursor, "%s", json_string_value(next));
        json_decref(page);
        if (!more)
            break;
    }
    if (as_json) {
        json_t *o = json_pack("{s:o}", "datasets", all);
        if (!o || json_dumpf(o, stdout, JSON_INDENT(2)) != 0)
            rc = -1;
        putchar('\n');
        json_decref(o);
    } else {
        print_datasets(all);
        json_decref(all);
    }
    if (fflush(stdout) != 0 || rc != 0)
        return oz_cli_complain(PROG, EXIT_RUNTIME, "standard output: %s", strerror(errno));
    return EXIT_OK;
}

int oz_server_cmd_dataset(int argc, char **argv)
{
    const char *verb = argc > 2 ? argv[2] : "";
    if (oz_server_is_help(verb)) {
        fputs(usage_dataset, stdout);
        return EXIT_OK;
    }
    bool list = strcmp(verb, "list") == 0, cancel = strcmp(verb, "cancel") == 0,
         del = strcmp(verb, "delete") == 0;
    if (!list && !cancel && !del)
        return oz_cli_complain(PROG, EXIT_BADINPUT,
                               "dataset: give list, cancel or delete (see dataset --help)");
    admin_args a;
    char what[32];
    snprintf(what, sizeof what, "dataset %s", verb);
    int rc = parse(argc, argv, usage_dataset, what, !list, list, false, &a);
    if (rc)
        return rc < 0 ? EXIT_OK : rc;
    oz_db *db;
    oz_store *s;
    if ((rc = oz_server_open_store(a.dir, &db, &s)) != 0)
        return rc;
    char why[512] = "";
    int status = EXIT_OK;
    if (list)
        status = dataset_list(s, a.json);
    else if (cancel) {
        int64_t units = 0, recalled = 0;
        rc = oz_store_dataset_cancel(s, a.operand, "cancelled by the operator",
                                     (int64_t)time(NULL), &units, &recalled, why, sizeof why);
        if (rc)
            status = oz_cli_complain(PROG, oz_server_status_of(rc), "%s", why);
        else
            printf("cancelled dataset %s: %lld unit%s ended, %lld replica%s in progress taken "
                   "back\n",
                   a.operand, (long long)units, units == 1 ? "" : "s", (long long)recalled,
                   recalled == 1 ? "" : "s");
    } else {
        char units[OZ_PROJECT_PATH_MAX];
        oz_unlinker u = {.units = units};
        if (oz_project_path(a.dir, "units", units, sizeof units) != 0)
            status = oz_cli_complain(PROG, EXIT_BADINPUT, "path too long");
        else if ((rc = oz_store_dataset_remove(s, a.operand, oz_lifecycle_unlink, &u, why, sizeof why)))
            status = oz_cli_complain(PROG, oz_server_status_of(rc), "%s", why);
        else if (u.failed)
            status = oz_cli_complain(PROG, EXIT_RUNTIME,
                                     "deleted dataset %s, but %u of its unit files in %s could "
                                     "not be removed",
                                     a.operand, u.failed, units);
        else
            printf("deleted dataset %s and its %u unit file%s\n", a.operand, u.removed,
                   u.removed == 1 ? "" : "s");
    }
    oz_store_close(s);
    oz_db_close(db);
    return status;
}

int oz_server_cmd_host(int argc, char **argv)
{
    const char *verb = argc > 2 ? argv[2] : "";
    if (oz_server_is_help(verb)) {
        fputs(usage_host, stdout);
        return EXIT_OK;
    }
    if (strcmp(verb, "ban") != 0)
        return oz_cli_complain(PROG, EXIT_BADINPUT, "host: give ban (see host --help)");
    admin_args a;
    int rc = parse(argc, argv, usage_host, "host ban", true, false, true, &a);
    if (rc)
        return rc < 0 ? EXIT_OK : rc;
    char *end;
    errno = 0;
    long long id = strtoll(a.operand, &end, 10);
    if (end == a.operand || *end || errno || id <= 0)
        return oz_cli_complain(PROG, EXIT_BADINPUT, "host ban: \"%.40s\" is not a host id",
                               a.operand);
    oz_db *db;
    oz_store *s;
    if ((rc = oz_server_open_store(a.dir, &db, &s)) != 0)
        return rc;
    char why[512] = "";
    int64_t recalled = 0, ignored = 0;
    int status = EXIT_OK;
    rc = oz_store_host_ban(s, id, a.reason ? a.reason : "banned by the operator",
                           (int64_t)time(NULL), &recalled, &ignored, why, sizeof why);
    if (rc)
        status = oz_cli_complain(PROG, oz_server_status_of(rc), "%s", why);
    else
        printf("banned host %lld: %lld replica%s in progress taken back, %lld result%s on open "
               "units ignored; their units go to other hosts\n",
               id, (long long)recalled, recalled == 1 ? "" : "s", (long long)ignored,
               ignored == 1 ? "" : "s");
    oz_store_close(s);
    oz_db_close(db);
    return status;
}

int oz_server_cmd_purge(int argc, char **argv)
{
    const char *dir = NULL;
    double days = -1;
    for (int i = 2; i < argc; i++) {
        const char *v = argv[i];
        if (oz_server_is_help(v)) {
            fputs(usage_purge, stdout);
            return EXIT_OK;
        }
        if (strcmp(v, "--older-than") == 0) {
            char *end;
            if (i + 1 >= argc)
                return oz_cli_complain(PROG, EXIT_BADINPUT, "purge: --older-than needs DAYS");
            errno = 0;
            days = strtod(argv[++i], &end);
            if (end == argv[i] || *end || errno || !(days >= 0 && days <= 36500))
                return oz_cli_complain(PROG, EXIT_BADINPUT,
                                       "purge: --older-than: \"%.40s\" is not 0..36500 days",
                                       argv[i]);
        } else if (v[0] == '-')
            return oz_cli_complain(PROG, EXIT_BADINPUT, "purge: unknown option %.40s (see --help)",
                                   v);
        else if (!dir)
            dir = v;
        else
            return oz_cli_complain(PROG, EXIT_BADINPUT, "purge: unexpected argument %.40s", v);
    }
    if (!dir)
        return oz_cli_complain(PROG, EXIT_BADINPUT, "purge: give DIR (see --help)");
    char path[OZ_PROJECT_PATH_MAX], why[512] = "";
    oz_project_config cfg;
    if (oz_project_path(dir, "project.json", path, sizeof path) != 0)
        return oz_cli_complain(PROG, EXIT_BADINPUT, "path too long");
    if (days < 0) {
        if (oz_project_config_load(path, &cfg, why, sizeof why) != 0)
            return oz_cli_complain(PROG, EXIT_BADINPUT, "%s", why);
        days = cfg.purge_after_days > 0 ? cfg.purge_after_days : 7;
    }
    if (oz_project_path(dir, "archive", path, sizeof path) != 0)
        return oz_cli_complain(PROG, EXIT_BADINPUT, "path too long");
    oz_db *db;
    oz_store *s;
    int rc, status = EXIT_OK;
    if ((rc = oz_server_open_store(dir, &db, &s)) != 0)
        return rc;
    oz_purge_report rep;
    int64_t now = (int64_t)time(NULL);
    rc = oz_lifecycle_purge(s, path, now - (int64_t)(days * 86400.0), now, &rep, why, sizeof why);
    if (rc)
        status = oz_cli_complain(PROG, oz_server_status_of(rc), "purge: %s (%llu units done "
                                 "before that)", why, (unsigned long long)rep.units);
    else
        printf("purged %llu unit%s finished more than %g days ago: %llu result text%s "
               "(%llu bytes) moved to %s\n",
               (unsigned long long)rep.units, rep.units == 1 ? "" : "s", days,
               (unsigned long long)rep.results, rep.results == 1 ? "" : "s",
               (unsigned long long)rep.bytes, path);
    oz_store_close(s);
    oz_db_close(db);
    return status;
}
