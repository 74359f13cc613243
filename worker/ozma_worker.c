/*
 * ozma_worker.c - `ozma-worker`, the volunteer's program (DESIGN.md §5).
 *
 *   ozma-worker attach URL (--name NAME [--email E] [--team TEAM] | --key KEY) [--dir DIR]
 *   ozma-worker run [--dir DIR] [--config FILE]
 *   ozma-worker status [--dir DIR] [--json]
 *   ozma-worker detach [--dir DIR] [--force]
 *   ozma-worker suspend | resume | update | nomorework | allowmorework [--dir DIR]
 *   ozma-worker benchmark [--seconds S]
 *
 * This file is the command line only: flags, messages, exit statuses and
 * signals.  The work is in the library (worker.h): run.c is the service
 * loop, status.c what `status` shows, control.c the verbs that steer a
 * running worker through DIR/control.json.
 *
 * Exit status as every Ozma program (ozma_cli.h): 0 success; 1 a runtime
 * failure (the scheduler unreachable or failing, I/O errors);
 * 2 bad usage or input, with exactly one line "ozma-worker: message" on
 * stderr - bad flags, not attached, already attached, a directory another
 * worker holds, a worker.conf that does not parse, an account the scheduler
 * refuses.
 *
 * Signals (run): SIGTERM and SIGINT set the one global stop flag, which the
 * loop and every compute thread watch (checkpoint, exit 0 within a second);
 * SIGHUP sets the reload flag (worker.conf is read again).  They are the
 * only global mutable state (STYLE.md habit 8).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "ozma_cli.h"
#include "worker.h"

#ifndef OZMA_VERSION
#define OZMA_VERSION "0.1.0" /* keep in step with project() in CMakeLists.txt */
#endif

#define PROG "ozma-worker"

static atomic_int stop_flag;   /* SIGTERM, SIGINT */
static atomic_int reload_flag; /* SIGHUP */

static void on_stop(int sig)
{
    (void)sig;
    atomic_store(&stop_flag, 1);
}

static void on_reload(int sig)
{
    (void)sig;
    atomic_store(&reload_flag, 1);
}

static const char *const usage_text[] = {
    "NAME\n"
    "    ozma-worker - compute Ozma work units on this machine, at idle priority\n"
    "\n"
    "SYNOPSIS\n"
    "    ozma-worker attach URL (--name NAME [--email E] [--team TEAM] | --key KEY) [--dir DIR]\n"
    "    ozma-worker run [--dir DIR] [--config FILE]\n"
    "    ozma-worker status [--dir DIR] [--json]\n"
    "    ozma-worker detach [--dir DIR] [--force]\n"
    "    ozma-worker suspend | resume | update | nomorework | allowmorework [--dir DIR]\n"
    "    ozma-worker benchmark [--seconds S]\n"
    "\n"
    "COMMANDS\n"
    "    attach     Create an account on the scheduler at URL (--name) or use an\n"
    "               existing one (--key, the account's authenticator), measure this\n"
    "               host's speed and register it.  The account and host keys are\n"
    "               saved in DIR/account.json, readable by its owner only.\n"
    "    run        The service loop: keeps work_buffer_s of work, searches one\n"
    "               unit per allowed CPU in threads at nice 19 and SCHED_IDLE,\n"
    "               checkpoints each task every checkpoint_interval_s, uploads\n"
    "               results, retries the scheduler with jittered exponential\n"
    "               backoff and keeps computing through outages.\n"
    "    status     Whether the worker runs, is suspended or takes no more work;\n"
    "               tasks with progress, elapsed and remaining time and state;\n"
    "               the scheduler's credit for this host and account.  Without\n"
    "               --dir, a user with no worker of their own is shown the\n"
    "               service's (/var/lib/ozma-worker), or told to use sudo.\n"
    "    detach     Report unfinished tasks to the scheduler, upload finished ones\n"
    "               and forget the account; worker.conf stays.  With tasks held\n"
    "               and the scheduler unreachable it refuses unless --force.\n"
    "    suspend    Stop computing within a second; each task checkpoints and\n"
    "               holds (results still go up, work still comes).\n"
    "    resume     Compute again, from the checkpoints.\n"
    "    update     Contact the scheduler now: report finished tasks, ask for\n"
    "               work, whatever the retry and next_rpc_delay timers say.\n"
    "    nomorework Fetch no new work; finish and report the tasks held.\n"
    "    allowmorework  Fetch work again.\n"
    "               These five act on the worker running on DIR through\n"
    "               DIR/control.json (only DIR's owner or root may) and last\n"
    "               across restarts; with no worker running they are recorded.\n"
    "    benchmark  Measure and print this host's FLOP/s per core.\n"
    "\n",
    "OPTIONS\n"
    "    --dir DIR       state directory (default: $STATE_DIRECTORY under systemd,\n"
    "                    /var/lib/ozma-worker for root and the ozma-worker user,\n"
    "                    else $XDG_DATA_HOME/ozma-worker or ~/.local/share/ozma-worker)\n"
    "    --name NAME     attach: the new account's name (1..64 characters)\n"
    "    --email E       attach: the new account's e-mail address\n"
    "    --team TEAM     attach: join the team TEAM (its number, or its name)\n"
    "    --key KEY       attach: an existing account's authenticator (64 hex digits)\n"
    "    --config FILE   run: preferences file (default DIR/worker.conf)\n"
    "    --json          status: print JSON instead of a table\n"
    "    --force         detach: even when the scheduler cannot be told\n"
    "    --seconds S     benchmark: CPU seconds to measure for (default 2)\n"
    "    -h, --help      print this text and exit\n"
    "    -V, --version   print the version and exit\n"
    "\n"
    "PREFERENCES (worker.conf, INI, [worker] section; reloaded on SIGHUP)\n"
    "    max_cpus = 100%           cores to use: a count or a percentage\n"
    "    cpu_throttle = 100        percent of each used core's time computing\n"
    "    idle_minutes = 0          compute only after this long without input\n"
    "    idle_watch = /dev/input   paths whose newest atime/mtime is the last input\n"
    "    suspend_on_battery = yes  stop computing on battery power\n"
    "    power_supply_dir = /sys/class/power_supply\n"
    "    disk_limit_mb = 2048      no new work while tasks/ holds this much\n"
    "    work_buffer_s = 3600      seconds of work to keep queued\n"
    "    checkpoint_interval_s = 60\n"
    "    backoff_min_s = 60        first retry delay after a failed call\n"
    "    backoff_max_s = 14400     longest retry delay\n"
    "    status_interval_s = 2     how often status.json is rewritten\n"
    "    net_timeout_s = 60        a scheduler call or download stalled this long fails\n"
    "    keep_results = no         keep uploaded results in DIR/uploaded/\n"
    "\n",
    "SIGNALS\n"
    "    SIGTERM, SIGINT  checkpoint every task and exit 0 within a second\n"
    "    SIGHUP           read the preferences again\n"
    "\n"
    "EXIT STATUS\n"
    "    0  success\n"
    "    1  a runtime failure: the scheduler unreachable or failing, I/O errors\n"
    "    2  bad usage or input: bad flags, not attached or already attached, a\n"
    "       directory in use by another worker, a bad worker.conf, an account or\n"
    "       key the scheduler refuses; one line on standard error says what\n"
    "\n"
    "EXAMPLES\n"
    "    ozma-worker attach https://ozma.example.org --name alice --email a@example.org\n"
    "    ozma-worker run\n"
    "    ozma-worker status\n"
    "    sudo ozma-worker suspend --dir /var/lib/ozma-worker\n",
};

static void usage(void)
{
    for (size_t i = 0; i < sizeof usage_text / sizeof usage_text[0]; i++)
        fputs(usage_text[i], stdout);
}

/* Status for a library error: the user's to fix, or the system's. */
static int status_of(int rc)
{
    return rc == OZ_WK_ESTATE || rc == OZ_WK_EINVAL ? EXIT_BADINPUT : EXIT_RUNTIME;
}

enum { O_DIR = 256, O_NAME, O_EMAIL, O_TEAM, O_KEY, O_CONFIG, O_JSON, O_SECONDS, O_FORCE };

/* The commands; the control verbs (control.c) after "benchmark". */
static const char *const cmds[] = {"attach",  "run",    "status",     "detach",       "benchmark",
                                   "suspend", "resume", "update", "nomorework", "allowmorework"};
#define NCMDS (sizeof cmds / sizeof cmds[0])
#define CMD_LIST "attach, run, status, detach, suspend, resume, update, nomorework, allowmorework or benchmark"

static bool is_control(const char *cmd)
{
    for (size_t i = 5; i < NCMDS; i++)
        if (strcmp(cmd, cmds[i]) == 0)
            return true;
    return false;
}

static const struct option all_opts[] = {
    {"dir", required_argument, NULL, O_DIR},
    {"name", required_argument, NULL, O_NAME},
    {"email", required_argument, NULL, O_EMAIL},
    {"team", required_argument, NULL, O_TEAM},
    {"key", required_argument, NULL, O_KEY},
    {"config", required_argument, NULL, O_CONFIG},
    {"json", no_argument, NULL, O_JSON},
    {"seconds", required_argument, NULL, O_SECONDS},
    {"force", no_argument, NULL, O_FORCE},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

typedef struct args {
    const char *cmd;
    const char *url;
    const char *dir, *name, *email, *team, *key, *config;
    bool json, force;
    double seconds;
    char dirbuf[OZ_WK_PATH_MAX];
} args;

/* Which flags each command takes. */
static bool allowed(const char *cmd, int opt)
{
    switch (opt) {
    case O_DIR:
        return strcmp(cmd, "benchmark") != 0;
    case O_NAME:
    case O_EMAIL:
    case O_TEAM:
    case O_KEY:
        return strcmp(cmd, "attach") == 0;
    case O_CONFIG:
        return strcmp(cmd, "run") == 0;
    case O_JSON:
        return strcmp(cmd, "status") == 0;
    case O_SECONDS:
        return strcmp(cmd, "benchmark") == 0;
    case O_FORCE:
        return strcmp(cmd, "detach") == 0;
    default:
        return true;
    }
}

/*
 * status and the control verbs without --dir, for a user with no worker of
 * their own: the service's directory (OZMA_WORKER_SERVICE_DIR, default
 * /var/lib/ozma-worker: the systemd unit's StateDirectory) when there is an
 * attached worker there.  It is 0700 and the service user's, so usually the
 * answer is to use sudo; a readable one (root, or a shared setup) is used.
 */
static int service_dir(char *dir, size_t len, char *why, size_t whylen)
{
    char p[OZ_WK_PATH_MAX];
    if (getenv("STATE_DIRECTORY") || (oz_wk_path(p, sizeof p, "%s/account.json", dir) == OZ_WK_OK &&
                                      access(p, F_OK) == 0))
        return OZ_WK_OK; /* a worker of this user's own */
    const char *svc = getenv("OZMA_WORKER_SERVICE_DIR");
    if (!svc || svc[0] != '/')
        svc = "/var/lib/ozma-worker";
    if (strcmp(svc, dir) == 0 || oz_wk_path(p, sizeof p, "%s/account.json", svc) != OZ_WK_OK)
        return OZ_WK_OK;
    if (access(p, R_OK) == 0)
        return oz_wk_path(dir, len, "%s", svc);
    if (errno == EACCES)
        return oz_wk_fail(OZ_WK_ESTATE, why, whylen,
                          "no worker of yours in %s; the service's worker in %s is not readable by "
                          "you: use sudo ozma-worker ... --dir %s",
                          dir, svc, svc);
    return OZ_WK_OK; /* no service either: the usual "not attached" follows */
}

/* EXIT_OK to go on, -1 for "done, exit 0", or an exit status. */
static int parse_args(int argc, char **argv, args *a)
{
    memset(a, 0, sizeof *a);
    a->seconds = 2;
    if (argc < 2)
        return oz_cli_complain(PROG, EXIT_BADINPUT, "no command given: " CMD_LIST " (see --help)");
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage();
        return -1;
    }
    if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("%s %s (%s)\n", PROG, OZMA_VERSION, OZ_SCI_KERNEL_VERSION);
        return -1;
    }
    a->cmd = argv[1];
    bool known = false;
    for (size_t i = 0; i < NCMDS; i++)
        known |= strcmp(a->cmd, cmds[i]) == 0;
    if (!known)
        return oz_cli_complain(PROG, EXIT_BADINPUT, "unknown command '%s': " CMD_LIST, a->cmd);
    int c, li = -1;
    optind = 1;
    opterr = 0;
    argc--;
    argv++;
    while ((c = getopt_long(argc, argv, ":hV", all_opts, &li)) != -1) {
        if (c >= O_DIR && !allowed(a->cmd, c))
            return oz_cli_complain(PROG, EXIT_BADINPUT, "%s does not take --%s (see --help)",
                                   a->cmd, all_opts[li].name);
        switch (c) {
        case O_DIR:
            a->dir = optarg;
            break;
        case O_NAME:
            a->name = optarg;
            break;
        case O_EMAIL:
            a->email = optarg;
            break;
        case O_TEAM:
            a->team = optarg;
            break;
        case O_KEY:
            a->key = optarg;
            break;
        case O_CONFIG:
            a->config = optarg;
            break;
        case O_JSON:
            a->json = true;
            break;
        case O_FORCE:
            a->force = true;
            break;
        case O_SECONDS: {
            int rc = oz_cli_parse_double(PROG, "--seconds", optarg, &a->seconds);
            if (rc != EXIT_OK)
                return rc;
            if (!(a->seconds > 0 && a->seconds <= 600))
                return oz_cli_complain(PROG, EXIT_BADINPUT, "--seconds: %s is not in (0, 600]",
                                       optarg);
            break;
        }
        case 'h':
            usage();
            return -1;
        case 'V':
            printf("%s %s (%s)\n", PROG, OZMA_VERSION, OZ_SCI_KERNEL_VERSION);
            return -1;
        default: /* ':' or '?' */
            return oz_cli_getopt_complain(PROG, c, argv);
        }
    }
    int npos = argc - optind;
    if (strcmp(a->cmd, "attach") == 0) {
        if (npos != 1)
            return oz_cli_complain(PROG, EXIT_BADINPUT,
                                   "attach: one scheduler URL expected, got %d (see --help)", npos);
        a->url = argv[optind];
    } else if (npos != 0)
        return oz_cli_complain(PROG, EXIT_BADINPUT, "%s: unexpected argument '%s'", a->cmd,
                               argv[optind]);
    if (strcmp(a->cmd, "benchmark") != 0 && !a->dir) {
        char why[256];
        if (oz_wk_dir_default(a->dirbuf, sizeof a->dirbuf, why, sizeof why) != OZ_WK_OK)
            return oz_cli_complain(PROG, EXIT_BADINPUT, "%s", why);
        a->dir = a->dirbuf;
        if ((strcmp(a->cmd, "status") == 0 || is_control(a->cmd)) &&
            service_dir(a->dirbuf, sizeof a->dirbuf, why, sizeof why) != OZ_WK_OK)
            return oz_cli_complain(PROG, EXIT_BADINPUT, "%s", why);
    }
    if (a->dir && strlen(a->dir) > OZ_WK_PATH_MAX - 64)
        return oz_cli_complain(PROG, EXIT_BADINPUT, "--dir: the path is too long");
    return EXIT_OK;
}

/* ---- attach ----------------------------------------------------------------------- */

static bool text_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

/* A scheduler call for attach/detach: OZ_WK_OK with a 200 reply, or an exit
 * status after one complaint. */
static int call(oz_wk_http *h, const char *method, const char *path, const char *token,
                const json_t *body, json_t **reply, const char *what)
{
    char why[1024] = "";
    long status;
    int rc = oz_wk_http_call(h, method, path, token, body, &status, reply, NULL, why, sizeof why);
    if (rc != OZ_WK_OK)
        return oz_cli_complain(PROG, EXIT_RUNTIME, "%s: %s", what, why);
    if (status != 200) {
        json_decref(*reply);
        *reply = NULL;
        return oz_cli_complain(
            PROG, status >= 400 && status < 500 && status != 429 ? EXIT_BADINPUT : EXIT_RUNTIME,
            "%s: %s", what, why[0] ? why : "unexpected status");
    }
    if (!*reply)
        return oz_cli_complain(PROG, EXIT_RUNTIME, "%s: the reply is not JSON", what);
    return OZ_WK_OK;
}

/* Is url an Ozma scheduler?  GET /api/v1/status must answer JSON with a
 * "units" object; anything else (a web site's HTML, another API) is said in
 * one line, never dumped. */
static int probe_project(oz_wk_http *h, const char *url)
{
    char why[1024] = "";
    long status = 0;
    json_t *reply = NULL;
    int rc = oz_wk_http_call(h, "GET", "/api/v1/status", NULL, NULL, &status, &reply, NULL, why,
                             sizeof why);
    bool ozma = rc == OZ_WK_OK && status == 200 && json_is_object(json_object_get(reply, "units"));
    json_decref(reply);
    if (rc != OZ_WK_OK)
        return oz_cli_complain(PROG, EXIT_RUNTIME, "%s: %s", url, why);
    if (!ozma)
        return oz_cli_complain(PROG, EXIT_BADINPUT,
                               "%s is not an Ozma project (GET /api/v1/status: HTTP %ld, %s)", url,
                               status, reply ? "not Ozma's status" : "not JSON");
    return EXIT_OK;
}

static int cmd_attach(const args *a)
{
    char why[1024];
    oz_wk_account acct;
    oz_wk_http *h = NULL;
    json_t *body = NULL, *reply = NULL;
    int st;

    if (!!a->name == !!a->key)
        return oz_cli_complain(PROG, EXIT_BADINPUT,
                               "attach: give --name NAME (a new account) or --key KEY (an "
                               "existing one)");
    if (a->key && (a->email || a->team))
        return oz_cli_complain(PROG, EXIT_BADINPUT,
                               "attach: --email and --team are for a new account (--name)");
    if (a->key && !oz_wu_hex64_valid(a->key))
        return oz_cli_complain(PROG, EXIT_BADINPUT,
                               "--key: expected the account's 64 lowercase hex digits");
    if (a->name && !text_ok(a->name, 64))
        return oz_cli_complain(PROG, EXIT_BADINPUT,
                               "--name: 1 to 64 characters without control characters");
    if (a->email && !text_ok(a->email, 64))
        return oz_cli_complain(PROG, EXIT_BADINPUT,
                               "--email: 1 to 64 characters without control characters");
    long team = 0; /* --team: a number is a team's id, anything else its name */
    if (a->team) {
        char *end;
        errno = 0;
        team = strtol(a->team, &end, 10);
        if (end == a->team || *end || errno || team <= 0)
            team = 0;
        if (!team && !text_ok(a->team, 64))
            return oz_cli_complain(PROG, EXIT_BADINPUT,
                                   "--team: a team's number, or its name of 1 to 64 characters "
                                   "without control characters");
    }
    if (oz_wk_account_load(a->dir, &acct, why, sizeof why) == OZ_WK_OK)
        return oz_cli_complain(PROG, EXIT_BADINPUT,
                               "%s: already attached to %s (run ozma-worker detach first)", a->dir,
                               acct.url);
    memset(&acct, 0, sizeof acct);
    if (oz_wk_http_new(a->url, 30, &h, why, sizeof why) != OZ_WK_OK)
        return oz_cli_complain(PROG, EXIT_BADINPUT, "%s", why);
    if ((st = probe_project(h, a->url)) != EXIT_OK)
        goto out;
    if (oz_wk_dir_prepare(a->dir, why, sizeof why) != OZ_WK_OK) {
        st = oz_cli_complain(PROG, EXIT_RUNTIME, "%s", why);
        goto out;
    }
    size_t ul = strlen(a->url);
    while (ul && a->url[ul - 1] == '/')
        ul--;
    snprintf(acct.url, sizeof acct.url, "%.*s", (int)ul, a->url);

    if (a->name) {
        body = json_pack("{s:s}", "name", a->name);
        if (body && a->email)
            json_object_set_new(body, "email", json_string(a->email));
        if (body && a->team)
            json_object_set_new(body, "team", team ? json_integer(team) : json_string(a->team));
        if ((st = call(h, "POST", "/api/v1/accounts", NULL, body, &reply, "creating the account")))
            goto out;
        json_int_t id;
        const char *auth;
        if (json_unpack(reply, "{s:I, s:s}", "account_id", &id, "authenticator", &auth) != 0 ||
            !oz_wu_hex64_valid(auth)) {
            st = oz_cli_complain(PROG, EXIT_RUNTIME, "creating the account: unexpected reply");
            goto out;
        }
        acct.account_id = id;
        snprintf(acct.authenticator, sizeof acct.authenticator, "%s", auth);
        json_decref(body);
        json_decref(reply);
        body = reply = NULL;
    } else
        snprintf(acct.authenticator, sizeof acct.authenticator, "%s", a->key);

    oz_wk_host_info host;
    oz_wk_host_probe(&host);
    printf("measuring this host's speed...\n");
    fflush(stdout);
    if (oz_wk_benchmark(1.0, &acct.flops, why, sizeof why) != OZ_WK_OK) {
        st = oz_cli_complain(PROG, EXIT_RUNTIME, "%s", why);
        goto out;
    }
    snprintf(acct.host_name, sizeof acct.host_name, "%s", host.name);
    body = json_pack("{s:s, s:s, s:i, s:f, s:I}", "name", host.name, "os", host.os, "ncpus",
                     (int)host.ncpus, "flops", acct.flops, "memory_mb", (json_int_t)host.memory_mb);
    if ((st = call(h, "POST", "/api/v1/hosts", acct.authenticator, body, &reply,
                   "registering the host")))
        goto out;
    json_int_t hid;
    const char *hkey;
    if (json_unpack(reply, "{s:I, s:s}", "host_id", &hid, "host_key", &hkey) != 0 || hid <= 0 ||
        !oz_wu_hex64_valid(hkey)) {
        st = oz_cli_complain(PROG, EXIT_RUNTIME, "registering the host: unexpected reply");
        goto out;
    }
    acct.host_id = hid;
    snprintf(acct.host_key, sizeof acct.host_key, "%s", hkey);
    json_decref(reply);
    reply = NULL;
    if (!acct.account_id) { /* --key: learn the account's id from the host (best effort) */
        char path[64];
        long status;
        snprintf(path, sizeof path, "/api/v1/hosts/%lld", (long long)hid);
        if (oz_wk_http_call(h, "GET", path, NULL, NULL, &status, &reply, NULL, why, sizeof why) ==
                OZ_WK_OK &&
            status == 200) {
            json_t *u = json_object_get(reply, "user_id");
            if (json_is_integer(u) && json_integer_value(u) > 0)
                acct.account_id = json_integer_value(u);
        }
    }
    if (oz_wk_account_save(a->dir, &acct, why, sizeof why) != OZ_WK_OK) {
        st = oz_cli_complain(PROG, EXIT_RUNTIME, "%s", why);
        goto out;
    }
    char conf[OZ_WK_PATH_MAX];
    if (oz_wk_path(conf, sizeof conf, "%s/worker.conf", a->dir) == OZ_WK_OK &&
        access(conf, F_OK) != 0) {
        const char *t = oz_wk_prefs_template();
        if (oz_wk_file_write(conf, t, strlen(t), 0644, why, sizeof why) != OZ_WK_OK)
            fprintf(stderr, "%s: %s\n", PROG, why);
    }
    printf("attached to %s: account %lld, host %lld (%s, %u CPUs, %.2f GFLOPS per core)\n",
           acct.url, (long long)acct.account_id, (long long)acct.host_id, host.name, host.ncpus,
           acct.flops / 1e9);
    if (a->name)
        printf("account key (keep it to attach more hosts): %s\n", acct.authenticator);
    printf("state in %s; start computing with: ozma-worker run%s%s\n", a->dir,
           a->dirbuf[0] ? "" : " --dir ", a->dirbuf[0] ? "" : a->dir);
    st = EXIT_OK;
out:
    json_decref(body);
    json_decref(reply);
    oz_wk_http_free(h);
    return st;
}

/* ---- run ------------------------------------------------------------------------------ */

static int cmd_run(const args *a)
{
    char why[1024];
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_stop; /* no SA_RESTART: naps end early */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_reload;
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    oz_wk_run_opts o = {
        .dir = a->dir, .config_path = a->config, .stop = &stop_flag, .reload = &reload_flag};
    int rc = oz_wk_run(&o, why, sizeof why);
    if (rc != OZ_WK_OK)
        return oz_cli_complain(PROG, status_of(rc), "%s", why);
    return EXIT_OK;
}

/* ---- status ----------------------------------------------------------------------------- */

static int cmd_status(const args *a)
{
    char why[1024];
    json_t *st;
    int rc = oz_wk_status_collect(a->dir, 3.0, &st, why, sizeof why);
    if (rc != OZ_WK_OK)
        return oz_cli_complain(PROG, status_of(rc), "%s", why);
    if (a->json) {
        if (json_dumpf(st, stdout, JSON_INDENT(2)) != 0)
            rc = -1;
        putchar('\n');
    } else
        oz_wk_status_print(st, stdout);
    json_decref(st);
    if (fflush(stdout) != 0 || rc != 0)
        return oz_cli_complain(PROG, EXIT_RUNTIME, "standard output: %s", strerror(errno));
    return EXIT_OK;
}

/* ---- detach ----------------------------------------------------------------------------- */

static int cmd_detach(const args *a)
{
    char why[1024];
    oz_wk_account acct;
    int rc = oz_wk_account_load(a->dir, &acct, why, sizeof why);
    if (rc != OZ_WK_OK)
        return oz_cli_complain(PROG, status_of(rc), "%s", why);
    long pid = oz_wk_lock_holder(a->dir);
    if (pid > 0)
        return oz_cli_complain(PROG, EXIT_BADINPUT,
                               "%s: a worker (pid %ld) is running on it; stop it first", a->dir,
                               pid);
    oz_wk_task *t = NULL;
    size_t n = 0;
    oz_wk_http *h = NULL;
    unsigned told = 0;
    bool reachable = false;
    if (oz_wk_tasks_scan(a->dir, &t, &n, why, sizeof why) == OZ_WK_OK && n &&
        oz_wk_http_new(acct.url, 5, &h, why, sizeof why) == OZ_WK_OK) {
        json_t *reply = NULL;
        long status = 0;
        reachable = oz_wk_http_call(h, "GET", "/api/v1/status", NULL, NULL, &status, &reply, NULL,
                                    why, sizeof why) == OZ_WK_OK &&
                    status == 200;
        json_decref(reply);
    }
    if (n && !reachable && !a->force) {
        free(t);
        oz_wk_http_free(h);
        return oz_cli_complain(PROG, EXIT_RUNTIME,
                               "%s: the scheduler cannot be told (%s); %zu task%s would wait for "
                               "%s deadline before being sent to others: try later, or detach "
                               "--force",
                               acct.url, why[0] ? why : "no answer", n, n == 1 ? "" : "s",
                               n == 1 ? "its" : "their");
    }
    if (reachable) {
        for (size_t i = 0; i < n; i++) {
            char path[96], td[OZ_WK_PATH_MAX], rp[OZ_WK_PATH_MAX];
            json_t *body = NULL, *reply = NULL;
            char *text = NULL;
            long status = 0;
            oz_wk_task_dir(a->dir, t[i].replica_id, td, sizeof td);
            if (t[i].state == OZ_TASK_DONE &&
                oz_wk_path(rp, sizeof rp, "%s/result.json", td) == OZ_WK_OK &&
                oz_wk_read_file(rp, OZ_WU_RESULT_MAX, &text, NULL, why, sizeof why) == OZ_WK_OK &&
                (body = json_loads(text, 0, NULL))) {
                snprintf(path, sizeof path, "/api/v1/replicas/%lld/result",
                         (long long)t[i].replica_id);
                oz_wk_http_call(h, "PUT", path, acct.host_key, body, &status, &reply, NULL, why,
                                sizeof why);
            } else {
                body = json_pack("{s:s}", "message",
                                 t[i].state == OZ_TASK_ERROR && t[i].error[0]
                                     ? t[i].error
                                     : "the host was detached before finishing it");
                snprintf(path, sizeof path, "/api/v1/replicas/%lld/error",
                         (long long)t[i].replica_id);
                oz_wk_http_call(h, "POST", path, acct.host_key, body, &status, &reply, NULL, why,
                                sizeof why);
            }
            told += status == 200;
            free(text);
            json_decref(body);
            json_decref(reply);
        }
    }
    oz_wk_http_free(h);
    free(t);
    char p[OZ_WK_PATH_MAX];
    if (oz_wk_path(p, sizeof p, "%s/tasks", a->dir) == OZ_WK_OK)
        oz_wk_remove_tree(p);
    if (oz_wk_status_path(a->dir, p, sizeof p) == OZ_WK_OK)
        unlink(p);
    if (oz_wk_path(p, sizeof p, "%s/account.json", a->dir) != OZ_WK_OK || unlink(p) != 0)
        return oz_cli_complain(PROG, EXIT_RUNTIME, "%s: %s", p, strerror(errno));
    p[0] = '\0';
    if (oz_wk_path(p, sizeof p, "%s/control.json", a->dir) == OZ_WK_OK)
        unlink(p); /* a new attachment starts computing and taking work */
    printf("detached from %s (host %lld); %zu task%s dropped, %u reported to the scheduler\n",
           acct.url, (long long)acct.host_id, n, n == 1 ? "" : "s", told);
    if (told < n)
        printf("%zu task%s will wait for %s deadline on the scheduler before going to another "
               "host\n",
               n - told, n - told == 1 ? "" : "s", n - told == 1 ? "its" : "their");
    return EXIT_OK;
}

/* ---- suspend, resume, update, nomorework, allowmorework (control.c) --------------------- */

static int cmd_control(const args *a)
{
    char why[1024], msg[512];
    int rc = oz_wk_control_send(a->dir, a->cmd, 5.0, msg, sizeof msg, why, sizeof why);
    if (rc != OZ_WK_OK)
        return oz_cli_complain(PROG, status_of(rc), "%s", why);
    printf("%s\n", msg);
    return EXIT_OK;
}

/* ---- benchmark ---------------------------------------------------------------------------- */

static int cmd_benchmark(const args *a)
{
    char why[512];
    double flops;
    if (oz_wk_benchmark(a->seconds, &flops, why, sizeof why) != OZ_WK_OK)
        return oz_cli_complain(PROG, EXIT_RUNTIME, "%s", why);
    printf("%.3f GFLOPS per core (%s, %.0f FLOP/s)\n", flops / 1e9, OZ_SCI_KERNEL_VERSION, flops);
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    args a;
    int st = parse_args(argc, argv, &a);
    if (st == -1)
        return EXIT_OK;
    if (st != EXIT_OK)
        return st;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return oz_cli_complain(PROG, EXIT_RUNTIME, "libcurl failed to initialise");
    if (strcmp(a.cmd, "attach") == 0)
        st = cmd_attach(&a);
    else if (strcmp(a.cmd, "run") == 0)
        st = cmd_run(&a);
    else if (strcmp(a.cmd, "status") == 0)
        st = cmd_status(&a);
    else if (strcmp(a.cmd, "detach") == 0)
        st = cmd_detach(&a);
    else if (is_control(a.cmd))
        st = cmd_control(&a);
    else
        st = cmd_benchmark(&a);
    curl_global_cleanup();
    return st;
}
