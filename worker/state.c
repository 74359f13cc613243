/*
 * state.c - the worker's state directory (see worker.h for its layout):
 * where it is, how it is created, account.json, the lock that keeps two
 * workers out of one directory, and the small file helpers the other files
 * share.
 *
 * account.json holds the account's authenticator and the host key: whoever
 * reads them can act as this volunteer.  It is written mode 0600 through a
 * temporary file created 0600 (never a moment readable by others), in a
 * directory created 0700.
 *
 * The lock is a POSIX record lock (fcntl F_SETLK) on DIR/lock: the kernel
 * drops it when the worker dies, even by kill -9, so a stale lock file never
 * keeps a restarted worker out, and F_GETLK tells `status` and `detach`
 * which process holds it.  (POSIX locks belong to the process and vanish
 * when it closes any descriptor of the file, so the worker never opens
 * DIR/lock a second time; oz_wk_lock_holder is for other processes.)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "worker.h"

int oz_wk_path(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    return n < 0 || (size_t)n >= len ? OZ_WK_EINVAL : OZ_WK_OK;
}

/* Whether this process runs as the service's own user (the packages'
 * ozma-worker), whose directory is the service's whatever HOME says: so
 * `sudo -u ozma-worker ozma-worker attach URL` writes the one account.json
 * the service reads. */
static bool is_service_user(void)
{
    char buf[1024];
    struct passwd pw, *found = NULL;
    return getpwuid_r(geteuid(), &pw, buf, sizeof buf, &found) == 0 && found &&
           strcmp(found->pw_name, OZ_WK_SERVICE_USER) == 0;
}

int oz_wk_dir_default(char *buf, size_t len, char *why, size_t whylen)
{
    const char *sd = getenv("STATE_DIRECTORY"); /* systemd's StateDirectory= */
    const char *xdg = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");
    int rc;
    if (sd && sd[0]) {
        /* several directories are separated by ':'; ours is the first */
        size_t n = strcspn(sd, ":");
        rc = oz_wk_path(buf, len, "%.*s", (int)n, sd);
    } else if (geteuid() == 0 || is_service_user())
        rc = oz_wk_path(buf, len, OZ_WK_SERVICE_DIR);
    else if (xdg && xdg[0] == '/')
        rc = oz_wk_path(buf, len, "%s/ozma-worker", xdg);
    else if (home && home[0] == '/')
        rc = oz_wk_path(buf, len, "%s/.local/share/ozma-worker", home);
    else
        return oz_wk_fail(OZ_WK_EINVAL, why, whylen,
                          "no state directory: HOME is not set (use --dir)");
    if (rc != OZ_WK_OK)
        return oz_wk_fail(rc, why, whylen, "the state directory's path is too long (use --dir)");
    return OZ_WK_OK;
}

static int mkdir_p(char *path, mode_t mode)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = mkdir(path, mode);
        *p = '/';
        if (rc != 0 && errno != EEXIST)
            return -1;
    }
    return mkdir(path, mode) == 0 || errno == EEXIST ? 0 : -1;
}

int oz_wk_dir_prepare(const char *dir, char *why, size_t whylen)
{
    char p[OZ_WK_PATH_MAX];
    if (oz_wk_path(p, sizeof p, "%s/tasks", dir) != OZ_WK_OK)
        return oz_wk_fail(OZ_WK_EINVAL, why, whylen, "%s: path too long", dir);
    if (mkdir_p(p, 0700) != 0)
        return oz_wk_fail(OZ_WK_EIO, why, whylen, "%s: cannot create: %s", p, strerror(errno));
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return oz_wk_fail(OZ_WK_EIO, why, whylen, "%s: not a directory", dir);
    return OZ_WK_OK;
}

int oz_wk_read_file(const char *path, size_t max, char **out, size_t *len, char *why, size_t whylen)
{
    *out = NULL;
    int rc = OZ_WK_EIO;
    char *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return oz_wk_fail(OZ_WK_EIO, why, whylen, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        oz_wk_fail(OZ_WK_EIO, why, whylen, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode) || (uintmax_t)st.st_size > max) {
        rc = oz_wk_fail(OZ_WK_EFORMAT, why, whylen, "%s: not a regular file of at most %zu bytes",
                        path, max);
        goto out;
    }
    size_t n = (size_t)st.st_size;
    buf = malloc(n + 1);
    if (!buf) {
        rc = oz_wk_fail(OZ_WK_ENOMEM, why, whylen, "%s: out of memory", path);
        goto out;
    }
    if (fread(buf, 1, n, f) != n) {
        oz_wk_fail(OZ_WK_EIO, why, whylen, "%s: short read", path);
        goto out;
    }
    buf[n] = '\0';
    *out = buf;
    buf = NULL;
    if (len)
        *len = n;
    rc = OZ_WK_OK;
out:
    free(buf);
    fclose(f);
    return rc;
}

int oz_wk_file_write(const char *path, const void *buf, size_t len, unsigned mode, char *why,
                     size_t whylen)
{
    return oz_wu_write_file_mode(path, buf, len, mode, why, whylen) == OZ_WU_OK ? OZ_WK_OK
                                                                                : OZ_WK_EIO;
}

int oz_wk_account_save(const char *dir, const oz_wk_account *a, char *why, size_t whylen)
{
    char path[OZ_WK_PATH_MAX];
    if (oz_wk_path(path, sizeof path, "%s/account.json", dir) != OZ_WK_OK)
        return oz_wk_fail(OZ_WK_EINVAL, why, whylen, "%s: path too long", dir);
    json_t *o = json_pack("{s:i, s:s, s:I, s:s, s:I, s:s, s:s, s:f}", "version", 1, "url", a->url,
                          "account_id", (json_int_t)a->account_id, "authenticator",
                          a->authenticator, "host_id", (json_int_t)a->host_id, "host_key",
                          a->host_key, "host_name", a->host_name, "flops", a->flops);
    char *text = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
    json_decref(o);
    if (!text)
        return oz_wk_fail(OZ_WK_ENOMEM, why, whylen, "%s: out of memory", path);
    int rc = oz_wk_file_write(path, text, strlen(text), 0600, why, whylen);
    free(text);
    return rc;
}

int oz_wk_account_load(const char *dir, oz_wk_account *a, char *why, size_t whylen)
{
    char path[OZ_WK_PATH_MAX];
    memset(a, 0, sizeof *a);
    if (oz_wk_path(path, sizeof path, "%s/account.json", dir) != OZ_WK_OK)
        return oz_wk_fail(OZ_WK_EINVAL, why, whylen, "%s: path too long", dir);
    if (access(path, F_OK) != 0)
        return oz_wk_fail(OZ_WK_ESTATE, why, whylen,
                          "%s: not attached to a project (run ozma-worker attach URL first)", dir);
    json_error_t err;
    json_t *o = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
    if (!o)
        return oz_wk_fail(OZ_WK_EFORMAT, why, whylen, "%s:%d: %s", path, err.line, err.text);
    const char *url, *auth, *key, *name;
    json_int_t version, account_id, host_id;
    double flops;
    int rc = OZ_WK_OK;
    if (json_unpack_ex(o, &err, JSON_STRICT, "{s:I, s:s, s:I, s:s, s:I, s:s, s:s, s:F}", "version",
                       &version, "url", &url, "account_id", &account_id, "authenticator", &auth,
                       "host_id", &host_id, "host_key", &key, "host_name", &name, "flops",
                       &flops) != 0) {
        rc = oz_wk_fail(OZ_WK_EFORMAT, why, whylen, "%s: %s", path, err.text);
        goto out;
    }
    if (version != 1 || host_id <= 0 || account_id < 0 || !oz_wu_hex64_valid(auth) ||
        !oz_wu_hex64_valid(key) || strlen(url) >= sizeof a->url ||
        strlen(name) >= sizeof a->host_name) {
        rc = oz_wk_fail(OZ_WK_EFORMAT, why, whylen, "%s: a field is out of range", path);
        goto out;
    }
    snprintf(a->url, sizeof a->url, "%s", url);
    snprintf(a->authenticator, sizeof a->authenticator, "%s", auth);
    snprintf(a->host_key, sizeof a->host_key, "%s", key);
    snprintf(a->host_name, sizeof a->host_name, "%s", name);
    a->account_id = account_id;
    a->host_id = host_id;
    a->flops = flops;
out:
    json_decref(o);
    return rc;
}

static int lock_path(const char *dir, char *p, size_t len)
{
    return oz_wk_path(p, len, "%s/lock", dir);
}

int oz_wk_lock(const char *dir, int *fd, char *why, size_t whylen)
{
    char p[OZ_WK_PATH_MAX];
    *fd = -1;
    if (lock_path(dir, p, sizeof p) != OZ_WK_OK)
        return oz_wk_fail(OZ_WK_EINVAL, why, whylen, "%s: path too long", dir);
    int f = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (f < 0)
        return oz_wk_fail(OZ_WK_EIO, why, whylen, "%s: %s", p, strerror(errno));
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fcntl(f, F_SETLK, &fl) != 0) {
        close(f);
        long holder = oz_wk_lock_holder(dir);
        return oz_wk_fail(OZ_WK_ESTATE, why, whylen,
                          "%s: another worker (pid %ld) is running on this directory", dir, holder);
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(f, 0) != 0 || pwrite(f, pid, (size_t)n, 0) != n) {
        close(f);
        return oz_wk_fail(OZ_WK_EIO, why, whylen, "%s: %s", p, strerror(errno));
    }
    *fd = f;
    return OZ_WK_OK;
}

long oz_wk_lock_holder(const char *dir)
{
    char p[OZ_WK_PATH_MAX];
    if (lock_path(dir, p, sizeof p) != OZ_WK_OK)
        return 0;
    int f = open(p, O_RDONLY | O_CLOEXEC);
    if (f < 0)
        return 0;
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    long pid = 0;
    if (fcntl(f, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK)
        pid = (long)fl.l_pid;
    close(f);
    return pid;
}

int oz_wk_remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? OZ_WK_OK : OZ_WK_EIO;
    if (!S_ISDIR(st.st_mode))
        return unlink(path) == 0 ? OZ_WK_OK : OZ_WK_EIO;
    DIR *d = opendir(path);
    if (!d)
        return OZ_WK_EIO;
    int rc = OZ_WK_OK;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char sub[OZ_WK_PATH_MAX];
        if (oz_wk_path(sub, sizeof sub, "%s/%s", path, e->d_name) != OZ_WK_OK ||
            oz_wk_remove_tree(sub) != OZ_WK_OK)
            rc = OZ_WK_EIO;
    }
    closedir(d);
    if (rmdir(path) != 0)
        rc = OZ_WK_EIO;
    return rc;
}
