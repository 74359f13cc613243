/*
 * vfs_powercut.c - lost unsynced writes below SQLite, for tests only (issue
 * 21, "Tests that stay"; SQLite's crash tests model a power cut the same
 * way: what was written but not synced may be gone).
 *
 * Built as a shared object that a test preloads into ozma-server
 * (LD_PRELOAD) with OZ_VFS_POWERCUT_LOG naming a log file; its constructor
 * registers "oz-powercut", a VFS that wraps the default one and makes
 * itself the default (vfs_wrap.h).  Without the variable it registers
 * nothing.  Nothing
 * in the programs refers to it: a release build is unchanged.
 *
 * The model is an undo log.  Every xWrite and xTruncate of a named file
 * first appends to the log what it is about to overwrite (the old bytes and
 * the file's old size), then does the real write, so the process and its
 * readers see their writes as usual.  A sync of a file - SQLite's xSync, or
 * fsync/fdatasync of any descriptor of the same inode, which is how the
 * scheduler makes its WAL durable (scheduler/store/sqlite.c, oz_db_wal_sync) -
 * appends a mark: the writes to that file logged before the sync began are
 * durable.  The test kills the server with SIGKILL (the power cut) and then
 * undoes, file by file and newest first, every write logged after that
 * file's last mark (tests/integration/powercut.py): the files are left as a
 * disk that lost its whole page cache would leave them.  Writes reach the
 * log before the file, so a kill between the two undoes a write that did
 * not happen, which changes nothing.
 *
 * Log records: a 40-byte header {u32 type, u32 file id, u64 seq, i64 a,
 * i64 b, u64 n} (native little-endian) and n bytes.  Types: 'O' open (the
 * n bytes are the path; a new id per open), 'W' write at offset a, old
 * size b, the n old bytes at a, 'T' truncate to a from old size b, the n
 * bytes that were beyond a, 'S' sync (writes to the file with seq <= seq
 * are durable), 'D' the file was deleted.  seq numbers every write and
 * truncate of every file in order; one mutex orders the log and the real
 * writes, so the log's order is the files' order.
 *
 * The -shm file is shared memory, not data: SQLite rebuilds it from the
 * WAL when the first connection opens after a crash.  Directory entries are
 * not modelled (a file created and not yet synced keeps its name).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "vfs_wrap.h"

enum { MAX_FILES = 4096 };

typedef struct {
    uint32_t type, id;
    uint64_t seq;
    int64_t a, b;
    uint64_t n;
} rec;

/* One per open of a named file; ids are never reused. */
typedef struct {
    char *path;
    dev_t dev;
    ino_t ino;
    int live; /* not deleted */
} tracked;

static int log_fd = -1;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER; /* guards all below and the log */
static uint64_t seq;
static tracked files[MAX_FILES];
static int nfiles;
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);

/* Appends one record; the caller holds `lock`.  A log that cannot be
 * written ends the process: a test that went on would check nothing. */
static void log_rec(uint32_t type, int id, uint64_t s, int64_t a, int64_t b, const void *data,
                    size_t n)
{
    rec r = {type, (uint32_t)id, s, a, b, n};
    struct iovec v[2] = {{&r, sizeof r}, {(void *)data, n}};
    int cnt = n ? 2 : 1;
    while (cnt > 0) {
        ssize_t w = writev(log_fd, v, cnt);
        if (w < 0)
            abort();
        while (cnt > 0 && (size_t)w >= v[0].iov_len) {
            w -= (ssize_t)v[0].iov_len;
            v[0] = v[1];
            cnt--;
        }
        if (cnt > 0) {
            v[0].iov_base = (char *)v[0].iov_base + w;
            v[0].iov_len -= (size_t)w;
        }
    }
}

/* The file's bytes from `off` up to `end` (clamped to its size `size`) into
 * a new buffer of *n bytes; NULL with *n 0 when there are none. */
static void *old_bytes(sqlite3_file *real, int64_t off, int64_t end, int64_t size, size_t *n)
{
    *n = 0;
    if (end > size)
        end = size;
    if (end <= off)
        return NULL;
    size_t len = (size_t)(end - off);
    void *buf = malloc(len);
    if (!buf || real->pMethods->xRead(real, buf, (int)len, off) != SQLITE_OK)
        abort();
    *n = len;
    return buf;
}

static int f_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
    oz_vfs_wrap_file *p = (oz_vfs_wrap_file *)f;
    if (p->id < 0)
        return p->real->pMethods->xWrite(p->real, buf, n, off);
    pthread_mutex_lock(&lock);
    sqlite3_int64 size = 0;
    size_t nold;
    if (p->real->pMethods->xFileSize(p->real, &size) != SQLITE_OK)
        abort();
    void *old = old_bytes(p->real, off, off + n, size, &nold);
    log_rec('W', p->id, ++seq, off, size, old, nold);
    free(old);
    int rc = p->real->pMethods->xWrite(p->real, buf, n, off);
    pthread_mutex_unlock(&lock);
    return rc;
}
static int f_truncate(sqlite3_file *f, sqlite3_int64 to)
{
    oz_vfs_wrap_file *p = (oz_vfs_wrap_file *)f;
    if (p->id < 0)
        return p->real->pMethods->xTruncate(p->real, to);
    pthread_mutex_lock(&lock);
    sqlite3_int64 size = 0;
    size_t nold;
    if (p->real->pMethods->xFileSize(p->real, &size) != SQLITE_OK)
        abort();
    void *old = old_bytes(p->real, to, size, size, &nold);
    log_rec('T', p->id, ++seq, to, size, old, nold);
    free(old);
    int rc = p->real->pMethods->xTruncate(p->real, to);
    pthread_mutex_unlock(&lock);
    return rc;
}

/* Marks durable, in every live file on the inode of `st`, what was written
 * up to `upto`. */
static void mark_synced(dev_t dev, ino_t ino, uint64_t upto)
{
    pthread_mutex_lock(&lock);
    for (int i = 0; i < nfiles; i++)
        if (files[i].live && files[i].dev == dev && files[i].ino == ino)
            log_rec('S', i, upto, 0, 0, NULL, 0);
    pthread_mutex_unlock(&lock);
}

static uint64_t seq_now(void)
{
    pthread_mutex_lock(&lock);
    uint64_t s = seq;
    pthread_mutex_unlock(&lock);
    return s;
}

static int f_sync(sqlite3_file *f, int flags)
{
    oz_vfs_wrap_file *p = (oz_vfs_wrap_file *)f;
    uint64_t upto = seq_now();
    int rc = p->real->pMethods->xSync(p->real, flags);
    if (rc == SQLITE_OK && p->id >= 0)
        mark_synced(files[p->id].dev, files[p->id].ino, upto);
    return rc;
}

/* fsync and fdatasync of any descriptor: the kernel flushes the inode's
 * every dirty page, whichever descriptor wrote them. */
static int sync_fd(int (*real)(int), int fd)
{
    uint64_t upto = seq_now();
    int rc = real(fd);
    struct stat st;
    if (rc == 0 && log_fd >= 0 && fstat(fd, &st) == 0)
        mark_synced(st.st_dev, st.st_ino, upto);
    return rc;
}
static int (*next_sym(const char *name))(int)
{
    void *sym = dlsym(RTLD_NEXT, name); /* POSIX's way to a function pointer */
    int (*fn)(int);
    if (!sym)
        abort();
    memcpy(&fn, &sym, sizeof fn);
    return fn;
}
int fsync(int fd)
{
    if (!real_fsync)
        real_fsync = next_sym("fsync");
    return sync_fd(real_fsync, fd);
}
int fdatasync(int fd)
{
    if (!real_fdatasync)
        real_fdatasync = next_sym("fdatasync");
    return sync_fd(real_fdatasync, fd);
}

/* A named file opened: a new id, logged with its path and inode. */
static void opened(oz_vfs_wrap_file *f, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return;
    pthread_mutex_lock(&lock);
    if (nfiles == MAX_FILES)
        abort();
    f->id = nfiles++;
    files[f->id] = (tracked){strdup(path), st.st_dev, st.st_ino, 1};
    log_rec('O', f->id, seq, 0, 0, path, strlen(path));
    pthread_mutex_unlock(&lock);
}

/* A file deleted: its writes went with it. */
static void deleted(const char *path)
{
    pthread_mutex_lock(&lock);
    for (int i = 0; i < nfiles; i++)
        if (files[i].live && strcmp(files[i].path, path) == 0) {
            files[i].live = 0;
            log_rec('D', i, seq, 0, 0, NULL, 0);
        }
    pthread_mutex_unlock(&lock);
}

static const oz_vfs_wrap_hooks hooks = {.name = "oz-powercut",
                                        .write = f_write,
                                        .truncate = f_truncate,
                                        .sync = f_sync,
                                        .opened = opened,
                                        .deleted = deleted};

void oz_vfs_powercut_init(void) __attribute__((constructor));
void oz_vfs_powercut_init(void)
{
    const char *path = getenv("OZ_VFS_POWERCUT_LOG");
    if (!path || !*path || !sqlite3_vfs_find(NULL))
        return;
    log_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
    if (log_fd < 0 || oz_vfs_wrap_register(&hooks) != 0)
        abort();
}
