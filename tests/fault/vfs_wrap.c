/*
 * vfs_wrap.c - the pass-through half of the test VFS shims (vfs_wrap.h):
 * every method of the default VFS and of its files, called through, but
 * the write-side ones and the open and delete hooks a shim registers.
 */
#include "vfs_wrap.h"

#include <string.h>

static sqlite3_vfs *orig;
static sqlite3_vfs shim;
static sqlite3_io_methods methods;
static const oz_vfs_wrap_hooks *hooks;

#define REAL(f) (((oz_vfs_wrap_file *)(f))->real)

static int f_close(sqlite3_file *f)
{
    return REAL(f)->pMethods ? REAL(f)->pMethods->xClose(REAL(f)) : SQLITE_OK;
}
static int f_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
    return REAL(f)->pMethods->xRead(REAL(f), buf, n, off);
}
static int f_size(sqlite3_file *f, sqlite3_int64 *size)
{
    return REAL(f)->pMethods->xFileSize(REAL(f), size);
}
static int f_lock(sqlite3_file *f, int level)
{
    return REAL(f)->pMethods->xLock(REAL(f), level);
}
static int f_unlock(sqlite3_file *f, int level)
{
    return REAL(f)->pMethods->xUnlock(REAL(f), level);
}
static int f_check(sqlite3_file *f, int *out)
{
    return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}
static int f_fcntl(sqlite3_file *f, int op, void *arg)
{
    return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}
static int f_sector(sqlite3_file *f)
{
    return REAL(f)->pMethods->xSectorSize(REAL(f));
}
static int f_devchar(sqlite3_file *f)
{
    return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}
static int f_shmmap(sqlite3_file *f, int pg, int pgsz, int extend, void volatile **pp)
{
    return REAL(f)->pMethods->xShmMap(REAL(f), pg, pgsz, extend, pp);
}
static int f_shmlock(sqlite3_file *f, int offset, int n, int flags)
{
    return REAL(f)->pMethods->xShmLock(REAL(f), offset, n, flags);
}
static void f_shmbarrier(sqlite3_file *f)
{
    REAL(f)->pMethods->xShmBarrier(REAL(f));
}
static int f_shmunmap(sqlite3_file *f, int del)
{
    return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}
static int f_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp)
{
    return REAL(f)->pMethods->xFetch(REAL(f), off, n, pp);
}
static int f_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
    return REAL(f)->pMethods->xUnfetch(REAL(f), off, p);
}

static int v_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags, int *out)
{
    (void)vfs;
    oz_vfs_wrap_file *f = (oz_vfs_wrap_file *)file;
    f->real = (sqlite3_file *)(f + 1);
    f->id = -1;
    memset(f->real, 0, (size_t)orig->szOsFile);
    int rc = orig->xOpen(orig, name, f->real, flags, out);
    /* The methods are set even on failure when the real file has some,
     * so that SQLite's xClose reaches it. */
    file->pMethods = f->real->pMethods ? &methods : NULL;
    if (rc == SQLITE_OK && name && hooks->opened)
        hooks->opened(f, name);
    return rc;
}
static int v_delete(sqlite3_vfs *vfs, const char *name, int dirsync)
{
    (void)vfs;
    int rc = orig->xDelete(orig, name, dirsync);
    if (rc == SQLITE_OK && hooks->deleted)
        hooks->deleted(name);
    return rc;
}
static int v_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
    (void)vfs;
    return orig->xAccess(orig, name, flags, out);
}
static int v_full(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
    (void)vfs;
    return orig->xFullPathname(orig, name, n, out);
}
static int v_random(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return orig->xRandomness(orig, n, out);
}
static int v_sleep(sqlite3_vfs *vfs, int us)
{
    (void)vfs;
    return orig->xSleep(orig, us);
}
static int v_time(sqlite3_vfs *vfs, double *out)
{
    (void)vfs;
    return orig->xCurrentTime(orig, out);
}
static int v_error(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return orig->xGetLastError(orig, n, out);
}
static int v_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
    (void)vfs;
    return orig->xCurrentTimeInt64(orig, out);
}

int oz_vfs_wrap_register(const oz_vfs_wrap_hooks *h)
{
    if (!(orig = sqlite3_vfs_find(NULL)))
        return -1;
    hooks = h;
    methods = (sqlite3_io_methods){
        .iVersion = 3,
        .xClose = f_close,
        .xRead = f_read,
        .xWrite = h->write,
        .xTruncate = h->truncate,
        .xSync = h->sync,
        .xFileSize = f_size,
        .xLock = f_lock,
        .xUnlock = f_unlock,
        .xCheckReservedLock = f_check,
        .xFileControl = f_fcntl,
        .xSectorSize = f_sector,
        .xDeviceCharacteristics = f_devchar,
        .xShmMap = f_shmmap,
        .xShmLock = f_shmlock,
        .xShmBarrier = f_shmbarrier,
        .xShmUnmap = f_shmunmap,
        .xFetch = f_fetch,
        .xUnfetch = f_unfetch,
    };
    shim = (sqlite3_vfs){
        .iVersion = 2,
        .szOsFile = (int)sizeof(oz_vfs_wrap_file) + orig->szOsFile,
        .mxPathname = orig->mxPathname,
        .zName = h->name,
        .xOpen = v_open,
        .xDelete = v_delete,
        .xAccess = v_access,
        .xFullPathname = v_full,
        .xDlOpen = orig->xDlOpen,
        .xDlError = orig->xDlError,
        .xDlSym = orig->xDlSym,
        .xDlClose = orig->xDlClose,
        .xRandomness = v_random,
        .xSleep = v_sleep,
        .xCurrentTime = v_time,
        .xGetLastError = v_error,
        .xCurrentTimeInt64 = v_time64,
    };
    return sqlite3_vfs_register(&shim, 1) == SQLITE_OK ? 0 : -1;
}
