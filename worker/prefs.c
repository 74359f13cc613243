/*
 * prefs.c - the volunteer's preferences, worker.conf (INI, read with
 * libinih).  Keys sit at the top level or under [worker]; every key has a
 * default (oz_wk_prefs_default, repeated in oz_wk_prefs_template and
 * deploy/worker.conf), so an empty or missing file is a valid one.
 *
 * Parsing is all or nothing: values go into a copy, and only a file whose
 * every line parsed replaces the caller's preferences.  That is what makes
 * SIGHUP safe - a typo in an edited file is logged and the worker carries on
 * with what it had.
 *
 * max_cpus takes a count ("2") or a share of the online cores ("50%").
 * Booleans are yes/no, true/false, on/off, 1/0.  Times are seconds.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ini.h>

#include "worker.h"

void oz_wk_prefs_default(oz_wk_prefs *p)
{
    memset(p, 0, sizeof *p);
    p->max_cpus = 0;
    p->max_cpus_pct = 100;
    p->cpu_throttle = 100;
    p->idle_minutes = 0;
    snprintf(p->idle_watch, sizeof p->idle_watch, "/dev/input");
    p->suspend_on_battery = true;
    snprintf(p->power_supply_dir, sizeof p->power_supply_dir, "/sys/class/power_supply");
    p->disk_limit_mb = 2048;
    p->work_buffer_s = 3600;
    p->checkpoint_interval_s = 60;
    p->backoff_min_s = 60;
    p->backoff_max_s = 4 * 3600;
    p->status_interval_s = 2;
    p->net_timeout_s = 60;
    p->keep_results = false;
}

static const char template_text[] =
    "# worker.conf - ozma-worker preferences (INI).  Reloaded on SIGHUP.\n"
    "# Every key is optional; the values shown are the defaults.\n"
    "[worker]\n"
    "# Cores to compute on: a count (2) or a share of the online cores (50%).\n"
    "max_cpus = 100%\n"
    "# Percent of each used core's time spent computing (a run/sleep duty cycle).\n"
    "cpu_throttle = 100\n"
    "# Compute only when nobody has used the keyboard or mouse for this many\n"
    "# minutes (0: always).  Activity is the newest access/modification time of\n"
    "# the paths in idle_watch (a directory stands for its entries).\n"
    "idle_minutes = 0\n"
    "idle_watch = /dev/input\n"
    "# Stop computing while the machine runs on battery.\n"
    "suspend_on_battery = yes\n"
    "power_supply_dir = /sys/class/power_supply\n"
    "# Ask for no new work while the task directory holds this many MB.\n"
    "disk_limit_mb = 2048\n"
    "# Seconds of work to keep queued.\n"
    "work_buffer_s = 3600\n"
    "# Seconds between checkpoints of each running task.\n"
    "checkpoint_interval_s = 60\n"
    "# Retry delays after a failed scheduler call: doubling from min to max,\n"
    "# jittered.\n"
    "backoff_min_s = 60\n"
    "backoff_max_s = 14400\n"
    "# Seconds between rewrites of status.json (what `ozma-worker status` reads).\n"
    "status_interval_s = 2\n"
    "# Seconds without progress before a scheduler call or download is abandoned.\n"
    "net_timeout_s = 60\n"
    "# Keep a copy of every uploaded result in uploaded/.\n"
    "keep_results = no\n";

const char *oz_wk_prefs_template(void)
{
    return template_text;
}

typedef struct parse_ctx {
    oz_wk_prefs p;
    char why[256]; /* the first problem */
} parse_ctx;

static int bad(parse_ctx *c, const char *name, const char *value, const char *what)
{
    if (!c->why[0])
        snprintf(c->why, sizeof c->why, "%s: \"%s\" %s", name, value, what);
    return 0;
}

/* A finite number in [lo, hi], the whole of the text. */
static int number(parse_ctx *c, const char *name, const char *value, double lo, double hi,
                  double *out)
{
    char *end;
    errno = 0;
    double v = strtod(value, &end);
    if (end == value || *end != '\0' || errno == ERANGE || !isfinite(v))
        return bad(c, name, value, "is not a number");
    if (v < lo || v > hi) {
        char what[96];
        snprintf(what, sizeof what, "is outside %g to %g", lo, hi);
        return bad(c, name, value, what);
    }
    *out = v;
    return 1;
}

static int boolean(parse_ctx *c, const char *name, const char *value, bool *out)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(value, yes[i]) == 0) {
            *out = true;
            return 1;
        }
        if (strcasecmp(value, no[i]) == 0) {
            *out = false;
            return 1;
        }
    }
    return bad(c, name, value, "is not yes or no");
}

static int path(parse_ctx *c, const char *name, const char *value, char *out, size_t len)
{
    size_t n = strlen(value);
    if (n == 0 || n >= len)
        return bad(c, name, value, "is empty or too long");
    memcpy(out, value, n + 1);
    return 1;
}

static int max_cpus(parse_ctx *c, const char *name, const char *value)
{
    size_t n = strlen(value);
    if (n > 1 && value[n - 1] == '%') {
        char num[32];
        if (n - 1 >= sizeof num)
            return bad(c, name, value, "is not a count or a percentage");
        memcpy(num, value, n - 1);
        num[n - 1] = '\0';
        double pct;
        if (!number(c, name, num, 1, 100, &pct))
            return 0;
        c->p.max_cpus = 0;
        c->p.max_cpus_pct = pct;
        return 1;
    }
    double v;
    if (!number(c, name, value, 1, 1024, &v))
        return 0;
    if (v != floor(v))
        return bad(c, name, value, "is not a whole number of cores");
    c->p.max_cpus = (unsigned)v;
    return 1;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
    parse_ctx *c = user;
    oz_wk_prefs *p = &c->p;
    if (section[0] && strcmp(section, "worker") != 0) {
        if (!c->why[0])
            snprintf(c->why, sizeof c->why, "[%s]: unknown section (keys go in [worker])", section);
        return 0;
    }
    if (strcmp(name, "max_cpus") == 0)
        return max_cpus(c, name, value);
    if (strcmp(name, "cpu_throttle") == 0)
        return number(c, name, value, 1, 100, &p->cpu_throttle);
    if (strcmp(name, "idle_minutes") == 0)
        return number(c, name, value, 0, 1e6, &p->idle_minutes);
    if (strcmp(name, "idle_watch") == 0)
        return path(c, name, value, p->idle_watch, sizeof p->idle_watch);
    if (strcmp(name, "suspend_on_battery") == 0)
        return boolean(c, name, value, &p->suspend_on_battery);
    if (strcmp(name, "power_supply_dir") == 0)
        return path(c, name, value, p->power_supply_dir, sizeof p->power_supply_dir);
    if (strcmp(name, "disk_limit_mb") == 0)
        return number(c, name, value, 1, 1e9, &p->disk_limit_mb);
    if (strcmp(name, "work_buffer_s") == 0)
        return number(c, name, value, 0, 864000, &p->work_buffer_s);
    if (strcmp(name, "checkpoint_interval_s") == 0)
        return number(c, name, value, 0.1, 86400, &p->checkpoint_interval_s);
    if (strcmp(name, "backoff_min_s") == 0)
        return number(c, name, value, 0.1, 86400, &p->backoff_min_s);
    if (strcmp(name, "backoff_max_s") == 0)
        return number(c, name, value, 0.1, 7 * 86400, &p->backoff_max_s);
    if (strcmp(name, "status_interval_s") == 0)
        return number(c, name, value, 0.1, 3600, &p->status_interval_s);
    if (strcmp(name, "net_timeout_s") == 0)
        return number(c, name, value, 1, 3600, &p->net_timeout_s);
    if (strcmp(name, "keep_results") == 0)
        return boolean(c, name, value, &p->keep_results);
    return bad(c, name, value, "is not a known key (see ozma-worker --help)");
}

int oz_wk_prefs_parse(const char *text, const char *name, oz_wk_prefs *p, char *why, size_t whylen)
{
    parse_ctx c;
    c.p = *p;
    c.why[0] = '\0';
    int line = ini_parse_string(text, handler, &c);
    if (line != 0) {
        if (!c.why[0])
            snprintf(c.why, sizeof c.why, "not a key = value line");
        return oz_wk_fail(OZ_WK_EINVAL, why, whylen, "%s:%d: %s", name, line, c.why);
    }
    if (c.p.backoff_max_s < c.p.backoff_min_s)
        return oz_wk_fail(OZ_WK_EINVAL, why, whylen,
                          "%s: backoff_max_s (%g) is less than backoff_min_s (%g)", name,
                          c.p.backoff_max_s, c.p.backoff_min_s);
    *p = c.p;
    return OZ_WK_OK;
}

int oz_wk_prefs_load(const char *path_, oz_wk_prefs *p, char *why, size_t whylen)
{
    oz_wk_prefs_default(p);
    char *text = NULL;
    size_t len;
    FILE *f = fopen(path_, "rb");
    if (!f) {
        if (errno == ENOENT)
            return OZ_WK_OK;
        return oz_wk_fail(OZ_WK_EIO, why, whylen, "%s: %s", path_, strerror(errno));
    }
    fclose(f);
    int rc = oz_wk_read_file(path_, 1u << 20, &text, &len, why, whylen);
    if (rc != OZ_WK_OK)
        return rc;
    if (strlen(text) != len) {
        free(text);
        return oz_wk_fail(OZ_WK_EINVAL, why, whylen, "%s: holds a NUL byte", path_);
    }
    rc = oz_wk_prefs_parse(text, path_, p, why, whylen);
    free(text);
    return rc;
}

unsigned oz_wk_prefs_ncpus(const oz_wk_prefs *p, unsigned online)
{
    if (online == 0)
        online = 1;
    unsigned n;
    if (p->max_cpus)
        n = p->max_cpus;
    else
        n = (unsigned)floor((double)online * p->max_cpus_pct / 100.0 + 1e-9);
    if (n < 1)
        n = 1;
    if (n > online)
        n = online;
    return n;
}
