/*
 * control.c - `ozma-worker suspend | resume | update | nomorework |
 * allowmorework`: the volunteer's say over a running worker (BOINC's
 * boinccmd verbs), both sides.
 *
 * The channel is one file, DIR/control.json: {"version": 1, "seq": N,
 * "suspended": bool, "no_more_work": bool, "update_seq": M}.  A command
 * reads it, changes its field, bumps seq and writes it back durably
 * (temporary file, fsync, rename); the running worker stats it every turn
 * of its loop (about ten a second), reads it again when it changed and
 * acknowledges seq in status.json ("control_seq"), which the command waits
 * for.  A file rather than a socket because the state is a setting, not a
 * message: a worker started later, or restarted by systemd, finds itself
 * still suspended or still taking no more work, and `status` shows it with
 * or without a worker running.
 *
 * Who may: the directory is 0700 and belongs to the worker's user, so only
 * that user (or root) can write in it; the command checks the owner first
 * to say so in a sentence instead of "permission denied", and the worker
 * ignores a control.json owned by anyone else (it cannot happen without
 * root, but the check costs nothing).
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "worker.h"

#define CONTROL_MAX 4096 /* control.json is a few dozen bytes */

static int control_path(const char *dir, char *buf, size_t len)
{
    return oz_wk_path(buf, len, "%s/control.json", dir);
}

int oz_wk_control_parse(const char *text, size_t len, const char *name, oz_wk_control *c,
                        char *why, size_t whylen)
{
    json_error_t err;
    json_t *o = len <= CONTROL_MAX ? json_loadb(text, len, JSON_REJECT_DUPLICATES, &err) : NULL;
    if (len > CONTROL_MAX)
        snprintf(err.text, sizeof err.text, "larger than %d bytes", CONTROL_MAX);
    const char *p = name;
    json_int_t version, seq, update_seq;
    int susp, nmw;
    if (!o || json_unpack_ex(o, &err, JSON_STRICT, "{s:I, s:I, s:b, s:b, s:I}", "version", &version,
                             "seq", &seq, "suspended", &susp, "no_more_work", &nmw, "update_seq",
                             &update_seq) != 0) {
        json_decref(o);
        return oz_wk_fail(OZ_WK_EFORMAT, why, whylen, "%s: %s", p, err.text);
    }
    json_decref(o);
    if (version != 1 || seq < 0 || update_seq < 0)
        return oz_wk_fail(OZ_WK_EFORMAT, why, whylen, "%s: a field is out of range", p);
    c->seq = seq;
    c->update_seq = update_seq;
    c->suspended = susp;
    c->no_more_work = nmw;
    return OZ_WK_OK;
}

int oz_wk_control_load(const char *dir, oz_wk_control *c, char *why, size_t whylen)
{
    memset(c, 0, sizeof *c);
    char p[OZ_WK_PATH_MAX], *text = NULL;
    size_t len = 0;
    if (control_path(dir, p, sizeof p) != OZ_WK_OK)
        return oz_wk_fail(OZ_WK_EINVAL, why, whylen, "%s: path too long", dir);
    if (access(p, F_OK) != 0 && errno == ENOENT)
        return OZ_WK_OK; /* never controlled: computing, taking work */
    int rc = oz_wk_read_file(p, CONTROL_MAX, &text, &len, why, whylen);
    if (rc != OZ_WK_OK)
        return rc;
    oz_wk_control next;
    rc = oz_wk_control_parse(text, len, p, &next, why, whylen);
    free(text);
    if (rc == OZ_WK_OK)
        *c = next;
    return rc;
}

int oz_wk_control_save(const char *dir, const oz_wk_control *c, char *why, size_t whylen)
{
    char p[OZ_WK_PATH_MAX];
    if (control_path(dir, p, sizeof p) != OZ_WK_OK)
        return oz_wk_fail(OZ_WK_EINVAL, why, whylen, "%s: path too long", dir);
    json_t *o = json_pack("{s:i, s:I, s:b, s:b, s:I}", "version", 1, "seq", (json_int_t)c->seq,
                          "suspended", c->suspended, "no_more_work", c->no_more_work, "update_seq",
                          (json_int_t)c->update_seq);
    char *text = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
    json_decref(o);
    if (!text)
        return oz_wk_fail(OZ_WK_ENOMEM, why, whylen, "%s: out of memory", p);
    int rc = oz_wk_file_write(p, text, strlen(text), 0644, why, whylen);
    free(text);
    return rc;
}

static void user_name(uid_t uid, char *buf, size_t len)
{
    struct passwd pw, *res = NULL;
    char tmp[1024];
    if (getpwuid_r(uid, &pw, tmp, sizeof tmp, &res) == 0 && res)
        snprintf(buf, len, "%s", res->pw_name);
    else
        snprintf(buf, len, "uid %u", (unsigned)uid);
}

int oz_wk_control_permitted(const char *dir, char *why, size_t whylen)
{
    struct stat st;
    if (stat(dir, &st) != 0 && errno == EACCES)
        return oz_wk_fail(OZ_WK_ESTATE, why, whylen,
                          "%s: permission denied: only the worker's user or root may control it "
                          "(try sudo)",
                          dir);
    if (stat(dir, &st) != 0)
        return oz_wk_fail(errno == ENOENT ? OZ_WK_ESTATE : OZ_WK_EIO, why, whylen, "%s: %s", dir,
                          strerror(errno));
    uid_t me = geteuid();
    if (me != 0 && st.st_uid != me) {
        char owner[64];
        user_name(st.st_uid, owner, sizeof owner);
        return oz_wk_fail(OZ_WK_ESTATE, why, whylen,
                          "%s belongs to %s: only that user or root may control its worker (try "
                          "sudo)",
                          dir, owner);
    }
    return OZ_WK_OK;
}

int oz_wk_control_watch(const char *dir, oz_wk_control_stamp *stamp, oz_wk_control *c, char *why,
                        size_t whylen)
{
    char p[OZ_WK_PATH_MAX];
    struct stat st;
    if (control_path(dir, p, sizeof p) != OZ_WK_OK || stat(p, &st) != 0) {
        if (!stamp->seen)
            return 0;
        memset(stamp, 0, sizeof *stamp); /* removed: back to the defaults */
        memset(c, 0, sizeof *c);
        return 1;
    }
    if (stamp->seen && stamp->ino == st.st_ino && stamp->mtime_s == st.st_mtim.tv_sec &&
        stamp->mtime_ns == st.st_mtim.tv_nsec && stamp->size == st.st_size)
        return 0;
    stamp->seen = true;
    stamp->ino = st.st_ino;
    stamp->mtime_s = st.st_mtim.tv_sec;
    stamp->mtime_ns = st.st_mtim.tv_nsec;
    stamp->size = st.st_size;
    if (st.st_uid != geteuid() && st.st_uid != 0)
        return oz_wk_fail(OZ_WK_ESTATE, why, whylen, "%s: owned by uid %u, not this worker's user",
                          p, (unsigned)st.st_uid);
    oz_wk_control next;
    int rc = oz_wk_control_load(dir, &next, why, whylen);
    if (rc != OZ_WK_OK)
        return rc;
    *c = next;
    return 1;
}

/* The seq the running worker last acknowledged in status.json, or -1. */
static int64_t acknowledged(const char *dir)
{
    char p[OZ_WK_PATH_MAX];
    if (oz_wk_status_path(dir, p, sizeof p) != OZ_WK_OK)
        return -1;
    json_t *st = json_load_file(p, 0, NULL);
    json_t *v = json_object_get(st, "control_seq");
    int64_t seq = json_is_integer(v) ? (int64_t)json_integer_value(v) : -1;
    json_decref(st);
    return seq;
}

int oz_wk_control_send(const char *dir, const char *verb, double wait_s, char *msg, size_t msglen,
                       char *why, size_t whylen)
{
    oz_wk_account a;
    oz_wk_control c;
    int rc;
    if ((rc = oz_wk_control_permitted(dir, why, whylen)) != OZ_WK_OK ||
        (rc = oz_wk_account_load(dir, &a, why, whylen)) != OZ_WK_OK)
        return rc;
    /* a damaged control.json is replaced whole by this order (the worker
     * kept the last good one meanwhile) */
    if ((rc = oz_wk_control_load(dir, &c, why, whylen)) == OZ_WK_EFORMAT)
        memset(&c, 0, sizeof c);
    else if (rc != OZ_WK_OK)
        return rc;
    const char *done;
    if (strcmp(verb, "suspend") == 0) {
        c.suspended = true;
        done = "computing suspended; tasks hold at their checkpoints";
    } else if (strcmp(verb, "resume") == 0) {
        c.suspended = false;
        done = "computing resumed";
    } else if (strcmp(verb, "update") == 0) {
        c.update_seq++;
        done = "the worker is contacting the scheduler now";
    } else if (strcmp(verb, "nomorework") == 0) {
        c.no_more_work = true;
        done = "no more work will be fetched; the tasks held will finish and be reported";
    } else if (strcmp(verb, "allowmorework") == 0) {
        c.no_more_work = false;
        done = "fetching work again";
    } else
        return oz_wk_fail(OZ_WK_EINVAL, why, whylen, "unknown control verb '%s'", verb);
    c.seq++;
    if ((rc = oz_wk_control_save(dir, &c, why, whylen)) != OZ_WK_OK)
        return rc;
    long pid = oz_wk_lock_holder(dir);
    if (pid <= 0) {
        if (strcmp(verb, "update") == 0)
            snprintf(msg, msglen, "no worker is running on %s; it contacts the scheduler when it "
                                  "starts", dir);
        else
            snprintf(msg, msglen, "no worker is running on %s; recorded: it starts %s", dir,
                     c.suspended ? (c.no_more_work ? "suspended, taking no more work"
                                                   : "suspended")
                                 : (c.no_more_work ? "taking no more work" : "normally"));
        return OZ_WK_OK;
    }
    double end = oz_wk_mono() + wait_s;
    while (acknowledged(dir) < c.seq) {
        if (oz_wk_mono() >= end) {
            snprintf(msg, msglen, "recorded, but the worker (pid %ld) has not acknowledged it "
                                  "within %.0f s",
                     pid, wait_s);
            return OZ_WK_OK;
        }
        oz_wk_nap(0.05, NULL, NULL);
    }
    snprintf(msg, msglen, "worker (pid %ld): %s", pid, done);
    return OZ_WK_OK;
}
