/*
 * stats.c - the statistics exports (stats.h): BOINC's db_dump files, so the
 * stats sites that read every BOINC project read Ozma's too, and the same
 * as JSON for anyone else.
 *
 * Each list is one pass over the store (sqlite_stats.c, in id order) that
 * feeds two gzip streams at once, the XML and the JSON lines, each a
 * durable file (workunits' oz_wu_dfile: temporary file, fsync, rename), so
 * memory stays constant however many users there are and a download never
 * sees a half-written file.  tables.xml, with the counts, is written last.
 * Names are the users' own: escaped for XML (&, <, >, ", ' and control
 * characters, which XML 1.0 cannot carry, as a space) and by jansson for
 * JSON.
 *
 * The thread (oz_stats_start) owns one store connection and sleeps on a
 * condition variable between exports, so stopping the server never waits
 * for an interval.
 */
#include "stats.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zlib.h>

#include "ozma_science.h"
#include "ozma_workunits.h"

const char *const oz_stats_files[] = {"tables.xml",   "user.gz",       "team.gz",
                                      "host.gz",      "tables.json",   "user.jsonl.gz",
                                      "team.jsonl.gz", "host.jsonl.gz", NULL};

/* ---- a durable gzip file ---------------------------------------------------------------- */

/* Rows arrive a few bytes at a time; they are gathered in `in` and
 * deflated 64 KiB at a time (a deflate call per element cost more than the
 * compression). */
typedef struct gzw {
    oz_wu_dfile *f;
    z_stream z;
    bool deflating;
    size_t nin; /* bytes gathered in `in` */
    unsigned char in[1 << 16];
    unsigned char out[1 << 16];
} gzw;

static int gz_open(gzw *g, const char *dir, const char *name, char *why, size_t whylen)
{
    char path[1024];
    memset(&g->z, 0, sizeof g->z);
    g->f = NULL;
    g->deflating = false;
    g->nin = 0;
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen, "%s: path too long", dir);
    if (oz_wu_dfile_open(path, &g->f, why, whylen) != OZ_WU_OK)
        return OZ_SCHED_EIO;
    /* 15 + 16: a gzip header and trailer around the deflate stream */
    if (deflateInit2(&g->z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        oz_wu_dfile_abort(g->f);
        g->f = NULL;
        return oz_sched_fail(OZ_SCHED_ENOMEM, why, whylen, "%s: zlib: out of memory", name);
    }
    g->deflating = true;
    return OZ_SCHED_OK;
}

static int gz_run(gzw *g, int flush, char *why, size_t whylen)
{
    int zr;
    do {
        g->z.next_out = g->out;
        g->z.avail_out = sizeof g->out;
        zr = deflate(&g->z, flush);
        if (zr == Z_STREAM_ERROR)
            return oz_sched_fail(OZ_SCHED_EIO, why, whylen, "zlib: deflate failed");
        size_t have = sizeof g->out - g->z.avail_out;
        if (have && oz_wu_dfile_write(g->f, g->out, have, why, whylen) != OZ_WU_OK)
            return OZ_SCHED_EIO;
    } while (g->z.avail_out == 0 || (flush == Z_FINISH && zr != Z_STREAM_END));
    return OZ_SCHED_OK;
}

/* Deflates what `in` holds. */
static int gz_drain(gzw *g, int flush, char *why, size_t whylen)
{
    g->z.next_in = g->in;
    g->z.avail_in = (uInt)g->nin;
    g->nin = 0;
    return gz_run(g, flush, why, whylen);
}

static int gz_write(gzw *g, const void *buf, size_t len, char *why, size_t whylen)
{
    const unsigned char *p = buf;
    while (len > 0) {
        size_t n = sizeof g->in - g->nin;
        if (n > len)
            n = len;
        memcpy(g->in + g->nin, p, n);
        g->nin += n;
        p += n;
        len -= n;
        if (g->nin == sizeof g->in) {
            int rc = gz_drain(g, Z_NO_FLUSH, why, whylen);
            if (rc != OZ_SCHED_OK)
                return rc;
        }
    }
    return OZ_SCHED_OK;
}

static int gz_printf(gzw *g, char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int gz_printf(gzw *g, char *why, size_t whylen, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof buf)
        return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen, "a statistics line is too long");
    return gz_write(g, buf, (size_t)n, why, whylen);
}

static int gz_commit(gzw *g, char *why, size_t whylen)
{
    int rc = gz_drain(g, Z_FINISH, why, whylen);
    deflateEnd(&g->z);
    g->deflating = false;
    oz_wu_dfile *f = g->f;
    g->f = NULL;
    if (rc != OZ_SCHED_OK) {
        oz_wu_dfile_abort(f);
        return rc;
    }
    return oz_wu_dfile_commit(f, why, whylen) == OZ_WU_OK ? OZ_SCHED_OK : OZ_SCHED_EIO;
}

static void gz_abort(gzw *g)
{
    if (g->deflating)
        deflateEnd(&g->z);
    g->deflating = false;
    oz_wu_dfile_abort(g->f);
    g->f = NULL;
}

/* <tag>text</tag> with text escaped for XML. */
static int xml_elem(gzw *g, const char *tag, const char *text, char *why, size_t whylen)
{
    char buf[1024];
    size_t n = 0;
    int rc = gz_printf(g, why, whylen, " <%s>", tag);
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
            rc = gz_write(g, buf, n, why, whylen);
            n = 0;
        }
        memcpy(buf + n, e, l);
        n += l;
    }
    if (rc == OZ_SCHED_OK && n)
        rc = gz_write(g, buf, n, why, whylen);
    return rc == OZ_SCHED_OK ? gz_printf(g, why, whylen, "</%s>\n", tag) : rc;
}

/* ---- the lists ----------------------------------------------------------------------------- */

typedef struct list {
    oz_credit_owner kind;
    int64_t now;
    gzw *xml, *jl;
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
    gzw *x = l->xml;
    const char *tag = list_tag[l->kind];
    char osname[65];
    const char *osver = "";
    int rc = gz_printf(x, why, wl, "<%s>\n <id>%lld</id>\n", tag, (long long)r->id);
    json_t *o = json_pack("{sI}", "id", (json_int_t)r->id);
    if (!o)
        return OZ_SCHED_ENOMEM;
    if (l->kind != OZ_CREDIT_HOST) {
        if (rc == OZ_SCHED_OK)
            rc = xml_elem(x, "name", r->name, why, wl);
        json_object_set_new(o, "name", json_string(r->name));
    }
    if (l->kind == OZ_CREDIT_USER && rc == OZ_SCHED_OK) /* BOINC's order of elements */
        rc = gz_printf(x, why, wl, " <create_time>%lld</create_time>\n", (long long)r->created);
    if (l->kind != OZ_CREDIT_USER && r->user_id > 0) {
        if (rc == OZ_SCHED_OK)
            rc = gz_printf(x, why, wl, " <userid>%lld</userid>\n", (long long)r->user_id);
        json_object_set_new(o, "userid", json_integer((json_int_t)r->user_id));
    }
    if (rc == OZ_SCHED_OK)
        rc = gz_printf(x, why, wl,
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
            rc = gz_printf(x, why, wl, " <teamid>%lld</teamid>\n", (long long)r->team_id);
        json_object_set_new(o, "teamid", json_integer((json_int_t)r->team_id));
    }
    if (l->kind == OZ_CREDIT_TEAM) {
        if (r->founder_name) {
            if (rc == OZ_SCHED_OK)
                rc = xml_elem(x, "founder_name", r->founder_name, why, wl);
            json_object_set_new(o, "founder_name", json_string(r->founder_name));
        }
        if (rc == OZ_SCHED_OK)
            rc = gz_printf(x, why, wl, " <create_time>%lld</create_time>\n",
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
            rc = gz_printf(x, why, wl,
                           " <create_time>%lld</create_time>\n <ncpus>%d</ncpus>\n"
                           " <p_fpops>%f</p_fpops>\n",
                           (long long)r->created, r->ncpus, r->flops);
        json_object_set_new(o, "os_name", json_string(osname));
        json_object_set_new(o, "os_version", json_string(osver));
        json_object_set_new(o, "ncpus", json_integer(r->ncpus));
        json_object_set_new(o, "p_fpops", json_real(r->flops));
    }
    if (rc == OZ_SCHED_OK)
        rc = gz_printf(x, why, wl, "</%s>\n", tag);
    char *line = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!line)
        return rc == OZ_SCHED_OK ? OZ_SCHED_ENOMEM : rc;
    if (rc == OZ_SCHED_OK)
        rc = gz_write(l->jl, line, strlen(line), why, wl);
    if (rc == OZ_SCHED_OK)
        rc = gz_write(l->jl, "\n", 1, why, wl);
    free(line);
    l->n++;
    l->total += r->total_credit;
    return rc;
}

/* user.gz and user.jsonl.gz (or team, host): *n rows, *total credit. */
static int list_write(oz_store *s, const char *dir, oz_credit_owner kind, int64_t now,
                      uint64_t *n, double *total, char *why, size_t whylen)
{
    gzw *x = malloc(sizeof *x), *j = malloc(sizeof *j);
    char xn[32], jn[32];
    int rc = OZ_SCHED_ENOMEM;
    bool xo = false, jo = false;
    if (!x || !j)
        goto out;
    snprintf(xn, sizeof xn, "%s.gz", list_tag[kind]);
    snprintf(jn, sizeof jn, "%s.jsonl.gz", list_tag[kind]);
    if ((rc = gz_open(x, dir, xn, why, whylen)) != OZ_SCHED_OK)
        goto out;
    xo = true;
    if ((rc = gz_open(j, dir, jn, why, whylen)) != OZ_SCHED_OK)
        goto out;
    jo = true;
    if ((rc = gz_printf(x, why, whylen, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<%ss>\n",
                        list_tag[kind])) != OZ_SCHED_OK)
        goto out;
    list l = {.kind = kind, .now = now, .xml = x, .jl = j, .why = why, .whylen = whylen};
    if ((rc = oz_store_stats_each(s, kind, now, list_row, &l, why, whylen)) != OZ_SCHED_OK ||
        (rc = gz_printf(x, why, whylen, "</%ss>\n", list_tag[kind])) != OZ_SCHED_OK)
        goto out;
    xo = false;
    if ((rc = gz_commit(x, why, whylen)) != OZ_SCHED_OK)
        goto out;
    jo = false;
    if ((rc = gz_commit(j, why, whylen)) != OZ_SCHED_OK)
        goto out;
    *n = l.n;
    *total = l.total;
out:
    if (xo)
        gz_abort(x);
    if (jo)
        gz_abort(j);
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
    oz_db *db;
    char dir[1024];
    double interval_s;
    oz_log_level log_level;
    pthread_t thread;
    pthread_mutex_t lock; /* guards stop */
    pthread_cond_t wake;
    bool stop;
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

static void *stats_main(void *arg)
{
    oz_stats *st = arg;
    oz_store *s = NULL;
    char why[512];
    if (oz_store_open(st->db, &s, why, sizeof why) != OZ_SCHED_OK) {
        oz_log(st->log_level, OZ_LOG_ERROR, "statistics exporter: no database connection",
               "error", why, (const char *)NULL);
        return NULL;
    }
    pthread_mutex_lock(&st->lock);
    while (!st->stop) {
        pthread_mutex_unlock(&st->lock);
        export_once(st, s);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        double sec = (double)until.tv_sec + (double)until.tv_nsec * 1e-9 + st->interval_s;
        until.tv_sec = (time_t)sec;
        until.tv_nsec = (long)((sec - (double)until.tv_sec) * 1e9);
        pthread_mutex_lock(&st->lock);
        while (!st->stop && pthread_cond_timedwait(&st->wake, &st->lock, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&st->lock);
    oz_store_close(s);
    return NULL;
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
    st->db = db;
    st->interval_s = interval_s > 0 ? interval_s : 86400;
    st->log_level = log_level;
    pthread_mutex_init(&st->lock, NULL);
    pthread_cond_init(&st->wake, NULL);
    int e = pthread_create(&st->thread, NULL, stats_main, st);
    if (e != 0) {
        pthread_cond_destroy(&st->wake);
        pthread_mutex_destroy(&st->lock);
        free(st);
        return oz_sched_fail(OZ_SCHED_EIO, why, whylen, "statistics thread: %s", strerror(e));
    }
    *out = st;
    return OZ_SCHED_OK;
}

void oz_stats_stop(oz_stats *st)
{
    if (!st)
        return;
    pthread_mutex_lock(&st->lock);
    st->stop = true;
    pthread_cond_signal(&st->wake);
    pthread_mutex_unlock(&st->lock);
    pthread_join(st->thread, NULL);
    pthread_cond_destroy(&st->wake);
    pthread_mutex_destroy(&st->lock);
    free(st);
}
