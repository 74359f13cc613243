/*
 * stats.c - the statistics exports (stats.h): BOINC's db_dump files, so the
 * stats sites that read every BOINC project read Ozma's too, and the same
 * as JSON for anyone else.
 *
 * Each list is one pass over the store (store_stats.c, in id order) that
 * feeds two gzip streams at once, the XML and the JSON lines, each a
 * durable file (gzw.h: temporary file, fsync, rename), so
 * memory stays constant however many users there are and a download never
 * sees a half-written file.  tables.xml, with the counts, is written last.
 * Names are the users' own: escaped for XML (&, <, >, ", ' and control
 * characters, which XML 1.0 cannot carry, as a space) and by jansson for
 * JSON.
 *
 * The thread (periodic.h) owns one store connection and sleeps between
 * exports, so stopping the server never waits for an interval.
 */
#include "stats.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gzw.h"
#include "periodic.h"
#include "ozma_science.h"
#include "ozma_workunits.h"

const char *const oz_stats_files[] = {"tables.xml",   "user.gz",       "team.gz",
                                      "host.gz",      "tables.json",   "user.jsonl.gz",
                                      "team.jsonl.gz", "host.jsonl.gz", NULL};

/* <tag>text</tag> with text escaped for XML. */
static int xml_elem(oz_gzw *g, const char *tag, const char *text, char *why, size_t whylen)
{
    char buf[1024];
    size_t n = 0;
    int rc = oz_gzw_printf(g, why, whylen, " <%s>", tag);
    for (const unsigned char *p = (const unsigned char *)text; rc == OZ_SCHED_OK && *p; p++) {
        const char *e = NULL;
        char c[2] = {(char)*p, 0};
        switch (*p) {
        case '&':
            e = "&amp;";
            break;
        case '<':
            e = "&lt;";
            break;
        case '>':
            e = "&gt;";
            break;
        case '"':
            e = "&quot;";
            break;
        case '\'':
            e = "&apos;";
            break;
        default:
            c[0] = *p < 0x20 ? ' ' : (char)*p;
            e = c;
        }
        size_t l = strlen(e);
        if (n + l > sizeof buf) {
            rc = oz_gzw_write(g, buf, n, why, whylen);
            n = 0;
        }
        memcpy(buf + n, e, l);
        n += l;
    }
    if (rc == OZ_SCHED_OK && n)
        rc = oz_gzw_write(g, buf, n, why, whylen);
    return rc == OZ_SCHED_OK ? oz_gzw_printf(g, why, whylen, "</%s>\n", tag) : rc;
}

/* ---- the lists ----------------------------------------------------------------------------- */

typedef struct list {
    oz_credit_owner kind;
    int64_t now;
    oz_gzw *xml, *jl;
    uint64_t n;
    double total;
    char *why;
    size_t whylen;
} list;

static const char *const list_tag[] = {[OZ_CREDIT_USER] = "user", [OZ_CREDIT_TEAM] = "team",
                                       [OZ_CREDIT_HOST] = "host"};

/* "Linux 6.1.0 x86_64" as BOINC's os_name ("Linux") and os_version (the rest). */
static void os_split(const char *os, char *name, size_t nl, const char **version)
{
    size_t k = strcspn(os, " ");
    snprintf(name, nl, "%.*s", (int)k, os);
    *version = os[k] ? os + k + 1 : "";
}

static int list_row(void *arg, const oz_stats_row *r)
{
    list *l = arg;
    char *why = l->why;
    size_t wl = l->whylen;
    oz_gzw *x = l->xml;
    const char *tag = list_tag[l->kind];
    char osname[65];
    const char *osver = "";
    int rc = oz_gzw_printf(x, why, wl, "<%s>\n <id>%lld</id>\n", tag, (long long)r->id);
    json_t *o = json_pack("{sI}", "id", (json_int_t)r->id);
    if (!o)
        return OZ_SCHED_ENOMEM;
    if (l->kind != OZ_CREDIT_HOST) {
        if (rc == OZ_SCHED_OK)
            rc = xml_elem(x, "name", r->name, why, wl);
        json_object_set_new(o, "name", json_string(r->name));
    }
    if (l->kind == OZ_CREDIT_USER && rc == OZ_SCHED_OK) /* BOINC's order of elements */
        rc = oz_gzw_printf(x, why, wl, " <create_time>%lld</create_time>\n", (long long)r->created);
    if (l->kind != OZ_CREDIT_USER && r->user_id > 0) {
        if (rc == OZ_SCHED_OK)
            rc = oz_gzw_printf(x, why, wl, " <userid>%lld</userid>\n", (long long)r->user_id);
        json_object_set_new(o, "userid", json_integer((json_int_t)r->user_id));
    }
    if (rc == OZ_SCHED_OK)
        rc = oz_gzw_printf(x, why, wl,
                       " <total_credit>%.9f</total_credit>\n"
                       " <expavg_credit>%.9f</expavg_credit>\n"
                       " <expavg_time>%lld</expavg_time>\n",
                       r->total_credit, r->expavg_credit, (long long)l->now);
    json_object_set_new(o, "total_credit", json_real(r->total_credit));
    json_object_set_new(o, "expavg_credit", json_real(r->expavg_credit));
    json_object_set_new(o, "expavg_time", json_integer((json_int_t)l->now));
    json_object_set_new(o, "create_time", json_integer((json_int_t)r->created));
    if (l->kind == OZ_CREDIT_USER && r->team_id > 0) {
        if (rc == OZ_SCHED_OK)
            rc = oz_gzw_printf(x, why, wl, " <teamid>%lld</teamid>\n", (long long)r->team_id);
        json_object_set_new(o, "teamid", json_integer((json_int_t)r->team_id));
    }
    if (l->kind == OZ_CREDIT_TEAM) {
        if (r->founder_name) {
            if (rc == OZ_SCHED_OK)
                rc = xml_elem(x, "founder_name", r->founder_name, why, wl);
            json_object_set_new(o, "founder_name", json_string(r->founder_name));
        }
        if (rc == OZ_SCHED_OK)
            rc = oz_gzw_printf(x, why, wl, " <create_time>%lld</create_time>\n",
                           (long long)r->created);
        if (r->description && r->description[0]) {
            if (rc == OZ_SCHED_OK)
                rc = xml_elem(x, "description", r->description, why, wl);
            json_object_set_new(o, "description", json_string(r->description));
        }
    }
    if (l->kind == OZ_CREDIT_HOST) {
        os_split(r->os, osname, sizeof osname, &osver);
        if (rc == OZ_SCHED_OK)
            rc = xml_elem(x, "os_name", osname, why, wl);
        if (rc == OZ_SCHED_OK)
            rc = xml_elem(x, "os_version", osver, why, wl);
        if (rc == OZ_SCHED_OK)
            rc = oz_gzw_printf(x, why, wl,
                           " <create_time>%lld</create_time>\n <ncpus>%d</ncpus>\n"
                           " <p_fpops>%f</p_fpops>\n",
                           (long long)r->created, r->ncpus, r->flops);
        json_object_set_new(o, "os_name", json_string(osname));
        json_object_set_new(o, "os_version", json_string(osver));
        json_object_set_new(o, "ncpus", json_integer(r->ncpus));
        json_object_set_new(o, "p_fpops", json_real(r->flops));
    }
    if (rc == OZ_SCHED_OK)
        rc = oz_gzw_printf(x, why, wl, "</%s>\n", tag);
    char *line = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!line)
        return rc == OZ_SCHED_OK ? OZ_SCHED_ENOMEM : rc;
    if (rc == OZ_SCHED_OK)
        rc = oz_gzw_write(l->jl, line, strlen(line), why, wl);
    if (rc == OZ_SCHED_OK)
        rc = oz_gzw_write(l->jl, "\n", 1, why, wl);
    free(line);
    l->n++;
    l->total += r->total_credit;
    return rc;
}

/* user.gz and user.jsonl.gz (or team, host): *n rows, *total credit. */
static int list_write(oz_store *s, const char *dir, oz_credit_owner kind, int64_t now,
                      uint64_t *n, double *total, char *why, size_t whylen)
{
    oz_gzw *x = malloc(sizeof *x), *j = malloc(sizeof *j);
    char xn[32], jn[32];
    int rc = OZ_SCHED_ENOMEM;
    bool xo = false, jo = false;
    if (!x || !j)
        goto out;
    snprintf(xn, sizeof xn, "%s.gz", list_tag[kind]);
    snprintf(jn, sizeof jn, "%s.jsonl.gz", list_tag[kind]);
    if ((rc = oz_gzw_open(x, dir, xn, why, whylen)) != OZ_SCHED_OK)
        goto out;
    xo = true;
    if ((rc = oz_gzw_open(j, dir, jn, why, whylen)) != OZ_SCHED_OK)
        goto out;
    jo = true;
    if ((rc = oz_gzw_printf(x, why, whylen, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<%ss>\n",
                        list_tag[kind])) != OZ_SCHED_OK)
        goto out;
    list l = {.kind = kind, .now = now, .xml = x, .jl = j, .why = why, .whylen = whylen};
    if ((rc = oz_store_stats_each(s, kind, now, list_row, &l, why, whylen)) != OZ_SCHED_OK ||
        (rc = oz_gzw_printf(x, why, whylen, "</%ss>\n", list_tag[kind])) != OZ_SCHED_OK)
        goto out;
    xo = false;
    if ((rc = oz_gzw_commit(x, why, whylen)) != OZ_SCHED_OK)
        goto out;
    jo = false;
    if ((rc = oz_gzw_commit(j, why, whylen)) != OZ_SCHED_OK)
        goto out;
    *n = l.n;
    *total = l.total;
out:
    if (xo)
        oz_gzw_abort(x);
    if (jo)
        oz_gzw_abort(j);
    free(x);
    free(j);
    return rc;
}

int oz_stats_write(oz_store *s, const char *dir, int64_t now, oz_stats_counts *out, char *why,
                   size_t whylen)
{
    oz_stats_counts c = {0};
    double tt, th;
    int rc;
    if ((rc = list_write(s, dir, OZ_CREDIT_USER, now, &c.users, &c.total_credit, why, whylen)) ||
        (rc = list_write(s, dir, OZ_CREDIT_TEAM, now, &c.teams, &tt, why, whylen)) ||
        (rc = list_write(s, dir, OZ_CREDIT_HOST, now, &c.hosts, &th, why, whylen)))
        return rc;
    char xml[1024], path[1024];
    int n = snprintf(xml, sizeof xml,
                     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<tables>\n"
                     "    <update_time>%lld</update_time>\n"
                     "    <nusers_total>%llu</nusers_total>\n"
                     "    <nteams_total>%llu</nteams_total>\n"
                     "    <nhosts_total>%llu</nhosts_total>\n"
                     "    <total_credit>%.9f</total_credit>\n"
                     "    <applications>\n"
                     "        <application>\n"
                     "            <name>%s</name>\n"
                     "        </application>\n"
                     "    </applications>\n"
                     "</tables>\n",
                     (long long)now, (unsigned long long)c.users, (unsigned long long)c.teams,
                     (unsigned long long)c.hosts, c.total_credit, OZ_SCI_KERNEL_VERSION);
    if (n < 0 || (size_t)n >= sizeof xml)
        return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen, "tables.xml: too long");
    json_t *t = json_pack("{sI sI sI sI sf s[s]}", "update_time", (json_int_t)now, "nusers_total",
                          (json_int_t)c.users, "nteams_total", (json_int_t)c.teams,
                          "nhosts_total", (json_int_t)c.hosts, "total_credit", c.total_credit,
                          "applications", OZ_SCI_KERNEL_VERSION);
    char *text = t ? json_dumps(t, JSON_INDENT(2)) : NULL;
    json_decref(t);
    if (!text)
        return oz_sched_fail(OZ_SCHED_ENOMEM, why, whylen, "out of memory");
    rc = OZ_SCHED_OK;
    if (snprintf(path, sizeof path, "%s/tables.json", dir) >= (int)sizeof path ||
        oz_wu_write_file(path, text, strlen(text), why, whylen) != OZ_WU_OK ||
        snprintf(path, sizeof path, "%s/tables.xml", dir) >= (int)sizeof path ||
        oz_wu_write_file(path, xml, (size_t)n, why, whylen) != OZ_WU_OK)
        rc = OZ_SCHED_EIO;
    free(text);
    if (rc == OZ_SCHED_OK && out)
        *out = c;
    return rc;
}

/* ---- the thread ---------------------------------------------------------------------------- */

struct oz_stats {
    char dir[1024];
    oz_log_level log_level;
    oz_periodic *thread;
};

static void export_once(oz_stats *st, oz_store *s)
{
    char why[512] = "", a[32], b[32], c[32], d[32], ms[32];
    oz_stats_counts n;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = oz_stats_write(s, st->dir, (int64_t)time(NULL), &n, why, sizeof why);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (rc != OZ_SCHED_OK) {
        oz_log(st->log_level, OZ_LOG_ERROR, "statistics export failed", "dir", st->dir, "error",
               why[0] ? why : oz_sched_strerror(rc), (const char *)NULL);
        return;
    }
    snprintf(a, sizeof a, "%llu", (unsigned long long)n.users);
    snprintf(b, sizeof b, "%llu", (unsigned long long)n.teams);
    snprintf(c, sizeof c, "%llu", (unsigned long long)n.hosts);
    snprintf(d, sizeof d, "%.2f", n.total_credit);
    snprintf(ms, sizeof ms, "%.0f",
             (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
    oz_log(st->log_level, OZ_LOG_INFO, "statistics exported", "dir", st->dir, "users", a, "teams",
           b, "hosts", c, "total_credit", d, "ms", ms, (const char *)NULL);
}

static void export_pass(void *arg, oz_store *s)
{
    export_once(arg, s);
}

int oz_stats_start(oz_db *db, const char *dir, double interval_s, oz_log_level log_level,
                   oz_stats **out, char *why, size_t whylen)
{
    *out = NULL;
    oz_stats *st = calloc(1, sizeof *st);
    if (!st)
        return oz_sched_fail(OZ_SCHED_ENOMEM, why, whylen, "out of memory");
    if (snprintf(st->dir, sizeof st->dir, "%s", dir) >= (int)sizeof st->dir) {
        free(st);
        return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen, "%s: path too long", dir);
    }
    st->log_level = log_level;
    int rc = oz_periodic_start(db, interval_s > 0 ? interval_s : 86400, "statistics exporter",
                               log_level, export_pass, st, &st->thread, why, whylen);
    if (rc != OZ_SCHED_OK) {
        free(st);
        return rc;
    }
    *out = st;
    return OZ_SCHED_OK;
}

void oz_stats_stop(oz_stats *st)
{
    if (!st)
        return;
    oz_periodic_stop(st->thread);
    free(st);
}
