/*
 * task.c - one assignment on disk: DIR/tasks/REPLICA/task.json.
 *
 * A task is born from an assignment in a work reply (oz_wk_task_from_json,
 * which trusts nothing in it: the replica id becomes a directory name and the
 * url a request path on the scheduler or a file server's URL) and moves
 * DOWNLOADING -> READY -> DONE, or to ERROR from anywhere; the loop is its
 * only writer.  What changes while a task is
 * searched lives beside it in checkpoint.json (compute.c), so task.json is
 * rewritten only at those few transitions.  Once the scheduler has the result
 * or the error, the directory goes.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "worker.h"

static const char *const state_names[] = {"downloading", "ready", "done", "error"};

const char *oz_wk_task_state_name(oz_wk_task_state s)
{
    return (unsigned)s < 4 ? state_names[s] : "unknown";
}

static int state_parse(const char *name, oz_wk_task_state *out)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(name, state_names[i]) == 0) {
            *out = (oz_wk_task_state)i;
            return OZ_WK_OK;
        }
    return OZ_WK_EFORMAT;
}

/* A request path on the scheduler ('/' then characters that need no
 * escaping), or an absolute http:// or https:// URL of the same characters
 * (a project's units_url: a file server), with no ".." anywhere. */
static bool url_ok(const char *u)
{
    size_t scheme = strncmp(u, "http://", 7) == 0 ? 7 : strncmp(u, "https://", 8) == 0 ? 8 : 0;
    if (scheme ? !u[scheme] || u[scheme] == '/' || !strchr(u + scheme, '/') : u[0] != '/')
        return false;
    if (strstr(u, "..") || strlen(u) >= OZ_WK_PATH_MAX)
        return false;
    for (const char *p = u + scheme; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              strchr(scheme ? "/._-~:%[]+" : "/._-", *p)))
            return false;
    return true;
}

int oz_wk_task_from_json(const json_t *a, oz_wk_task *t, char *why, size_t whylen)
{
    json_error_t err;
    json_int_t replica, bytes, deadline, flops = 0;
    const char *unit, *url, *sha;
    memset(t, 0, sizeof *t);
    /* extra keys are allowed: the API adds fields freely */
    if (json_unpack_ex((json_t *)a, &err, 0, "{s:I, s:s, s:s, s:I, s:s, s:I, s?:I}", "replica_id",
                       &replica, "unit_id", &unit, "url", &url, "bytes", &bytes, "sha256", &sha,
                       "deadline", &deadline, "flops", &flops) != 0) {
        /* jansson's text does not name the key: find it */
        static const char *const keys[] = {"replica_id", "unit_id",  "url",  "bytes",
                                           "sha256",     "deadline", "flops"};
        static const char is_int[] = {1, 0, 0, 1, 0, 1, 1};
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            json_t *v = json_object_get(a, keys[i]);
            if ((!v && i < 6) || (v && (is_int[i] ? !json_is_integer(v) : !json_is_string(v))))
                return oz_wk_fail(OZ_WK_EFORMAT, why, whylen, "assignment: %s: expected %s, got %s",
                                  keys[i], is_int[i] ? "an integer" : "a string",
                                  oz_sci_json_type(v));
        }
        return oz_wk_fail(OZ_WK_EFORMAT, why, whylen, "assignment: %s", err.text);
    }
    if (replica <= 0)
        return oz_wk_fail(OZ_WK_EFORMAT, why, whylen, "assignment: replica_id %lld is not positive",
                          (long long)replica);
    if (!oz_wu_id_valid(unit, OZ_WU_ID_MAX))
        return oz_wk_fail(OZ_WK_EFORMAT, why, whylen, "assignment %lld: bad unit_id",
                          (long long)replica);
    if (!url_ok(url))
        return oz_wk_fail(OZ_WK_EFORMAT, why, whylen,
                          "assignment %lld: url \"%.64s\" is neither a plain path on the "
                          "scheduler nor a plain http(s) URL",
                          (long long)replica, url);
    if (bytes <= 0 || (uint64_t)bytes > (uint64_t)OZ_WU_PREFIX_BYTES + OZ_WU_HEADER_MAX +
                                            (uint64_t)OZ_WU_UNIT_SAMPLES_MAX * 8u)
        return oz_wk_fail(OZ_WK_EFORMAT, why, whylen,
                          "assignment %lld: bytes %lld is not a unit's size", (long long)replica,
                          (long long)bytes);
    if (!oz_wu_hex64_valid(sha))
        return oz_wk_fail(OZ_WK_EFORMAT, why, whylen,
                          "assignment %lld: sha256 is not 64 lowercase hex digits",
                          (long long)replica);
    if (flops < 0)
        return oz_wk_fail(OZ_WK_EFORMAT, why, whylen, "assignment %lld: negative flops",
                          (long long)replica);
    t->replica_id = replica;
    snprintf(t->unit_id, sizeof t->unit_id, "%s", unit);
    snprintf(t->url, sizeof t->url, "%s", url);
    snprintf(t->sha256, sizeof t->sha256, "%s", sha);
    t->bytes = (uint64_t)bytes;
    t->deadline = deadline;
    t->flops = (uint64_t)flops;
    t->received = (int64_t)time(NULL);
    t->state = OZ_TASK_DOWNLOADING;
    return OZ_WK_OK;
}

int oz_wk_task_dir(const char *dir, int64_t replica_id, char *buf, size_t len)
{
    return oz_wk_path(buf, len, "%s/tasks/%lld", dir, (long long)replica_id);
}

int oz_wk_task_save(const char *taskdir, const oz_wk_task *t, char *why, size_t whylen)
{
    char path[OZ_WK_PATH_MAX];
    if (oz_wk_path(path, sizeof path, "%s/task.json", taskdir) != OZ_WK_OK)
        return oz_wk_fail(OZ_WK_EINVAL, why, whylen, "%s: path too long", taskdir);
    json_t *o = json_pack("{s:i, s:I, s:s, s:s, s:I, s:s, s:I, s:I, s:I, s:s, s:i, s:s}", "version",
                          1, "replica_id", (json_int_t)t->replica_id, "unit_id", t->unit_id, "url",
                          t->url, "bytes", (json_int_t)t->bytes, "sha256", t->sha256, "deadline",
                          (json_int_t)t->deadline, "flops", (json_int_t)t->flops, "received",
                          (json_int_t)t->received, "state", oz_wk_task_state_name(t->state),
                          "bad_downloads", (int)t->bad_downloads, "error", t->error);
    char *text = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
    json_decref(o);
    if (!text)
        return oz_wk_fail(OZ_WK_ENOMEM, why, whylen, "%s: out of memory", path);
    int rc = oz_wk_file_write(path, text, strlen(text), 0644, why, whylen);
    free(text);
    return rc;
}

int oz_wk_task_load(const char *taskdir, oz_wk_task *t, char *why, size_t whylen)
{
    char path[OZ_WK_PATH_MAX];
    if (oz_wk_path(path, sizeof path, "%s/task.json", taskdir) != OZ_WK_OK)
        return oz_wk_fail(OZ_WK_EINVAL, why, whylen, "%s: path too long", taskdir);
    json_error_t err;
    json_t *o = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
    if (!o)
        return oz_wk_fail(OZ_WK_EFORMAT, why, whylen, "%s:%d: %s", path, err.line, err.text);
    int version, bad;
    const char *state, *error;
    int rc = OZ_WK_EFORMAT;
    json_int_t received;
    if (json_unpack_ex(o, &err, 0, "{s:i, s:s, s:i, s:s, s:I}", "version", &version, "state",
                       &state, "bad_downloads", &bad, "error", &error, "received",
                       &received) != 0) {
        oz_wk_fail(rc, why, whylen, "%s: %s", path, err.text);
        goto out;
    }
    rc = oz_wk_task_from_json(o, t, why, whylen);
    if (rc != OZ_WK_OK)
        goto out;
    rc = OZ_WK_EFORMAT;
    if (version != 1 || state_parse(state, &t->state) != OZ_WK_OK || bad < 0 ||
        strlen(error) >= sizeof t->error) {
        oz_wk_fail(rc, why, whylen, "%s: bad version, state or error", path);
        goto out;
    }
    t->bad_downloads = (unsigned)bad;
    t->received = received;
    snprintf(t->error, sizeof t->error, "%s", error);
    rc = OZ_WK_OK;
out:
    json_decref(o);
    return rc;
}

static int by_deadline(const void *x, const void *y)
{
    const oz_wk_task *a = x, *b = y;
    if (a->deadline != b->deadline)
        return a->deadline < b->deadline ? -1 : 1;
    return a->replica_id < b->replica_id ? -1 : a->replica_id > b->replica_id;
}

int oz_wk_tasks_scan(const char *dir, oz_wk_task **out, size_t *n, char *why, size_t whylen)
{
    char tasks[OZ_WK_PATH_MAX];
    *out = NULL;
    *n = 0;
    if (oz_wk_path(tasks, sizeof tasks, "%s/tasks", dir) != OZ_WK_OK)
        return oz_wk_fail(OZ_WK_EINVAL, why, whylen, "%s: path too long", dir);
    DIR *d = opendir(tasks);
    if (!d) {
        if (errno == ENOENT)
            return OZ_WK_OK;
        return oz_wk_fail(OZ_WK_EIO, why, whylen, "%s: %s", tasks, strerror(errno));
    }
    oz_wk_task *v = NULL;
    size_t cap = 0, count = 0;
    int rc = OZ_WK_OK;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        char td[OZ_WK_PATH_MAX], w[512];
        if (oz_wk_path(td, sizeof td, "%s/%s", tasks, e->d_name) != OZ_WK_OK)
            continue;
        if (count == cap) {
            size_t nc = cap ? 2 * cap : 16;
            oz_wk_task *nv = realloc(v, nc * sizeof *nv);
            if (!nv) {
                rc = oz_wk_fail(OZ_WK_ENOMEM, why, whylen, "out of memory");
                break;
            }
            v = nv;
            cap = nc;
        }
        if (oz_wk_task_load(td, &v[count], w, sizeof w) != OZ_WK_OK) {
            oz_wk_log("skipping task directory %s: %s", td, w);
            continue;
        }
        count++;
    }
    closedir(d);
    if (rc != OZ_WK_OK) {
        free(v);
        return rc;
    }
    if (count)
        qsort(v, count, sizeof *v, by_deadline);
    *out = v;
    *n = count;
    return OZ_WK_OK;
}
