/*
 * vfs_fault.c - I/O errors injected below SQLite, for tests only (issue 21,
 * "Tests that stay"; SQLite's own tests do this with their test VFSes).
 *
 * Built as a shared object that a test preloads into ozma-server
 * (LD_PRELOAD); its constructor registers "oz-fault", a VFS that wraps the
 * default one and makes itself the default, so every database the server
 * opens goes through it.  Nothing in the programs refers to it: a release
 * build is unchanged.
 *
 * Faults: after OZ_VFS_FAULT_AFTER write-side calls (xWrite, xSync,
 * xTruncate) across all files, the next OZ_VFS_FAULT_COUNT of them fail
 * (SQLITE_IOERR_WRITE, _FSYNC, _TRUNCATE) without touching the file; then
 * they pass again.  Unset or 0 AFTER: no faults.  Everything else is
 * passed through.  The counter is an atomic: the server's threads share
 * it, and which call fails is a matter of timing, as a real disk's error
 * would be.
 */
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    sqlite3_file base; /* must be first: SQLite sees this */
    sqlite3_file *real; /* the wrapped VFS's file, allocated just after */
} ffile;

static sqlite3_vfs *orig;
static sqlite3_vfs shim;
static sqlite3_io_methods methods;
static long long fault_after, fault_count;
static atomic_llong calls; /* write-side calls so far */

static int faulty(void)
{
    if (fault_after <= 0)
        return 0;
    long long n = atomic_fetch_add(&calls, 1) + 1;
    return n > fault_after && n <= fault_after + fault_count;
}

#define REAL(f) (((ffile *)(f))->real)

static int f_close(sqlite3_file *f)
{
    int rc = REAL(f)->pMethods ? REAL(f)->pMethods->xClose(REAL(f)) : SQLITE_OK;
    return rc;
}
static int f_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
    return REAL(f)->pMethods->xRead(REAL(f), buf, n, off);
}
static int f_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
    if (faulty())
        return SQLITE_IOERR_WRITE;
    return REAL(f)->pMethods->xWrite(REAL(f), buf, n, off);
}
static int f_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    if (faulty())
        return SQLITE_IOERR_TRUNCATE;
    return REAL(f)->pMethods->xTruncate(REAL(f), size);
}
static int f_sync(sqlite3_file *f, int flags)
{
    if (faulty())
        return SQLITE_IOERR_FSYNC;
    return REAL(f)->pMethods->xSync(REAL(f), flags);
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
    ffile *f = (ffile *)file;
    f->real = (sqlite3_file *)(f + 1);
    memset(f->real, 0, (size_t)orig->szOsFile);
    int rc = orig->xOpen(orig, name, f->real, flags, out);
    /* The methods are set even on failure when the real file has some,
     * so that SQLite's xClose reaches it. */
    file->pMethods = f->real->pMethods ? &methods : NULL;
    return rc;
}
static int v_delete(sqlite3_vfs *vfs, const char *name, int sync)
{
    (void)vfs;
    return orig->xDelete(orig, name, sync);
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

static long long env_ll(const char *name)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    return *end == '\0' && v > 0 ? v : 0;
}

void oz_vfs_fault_init(void) __attribute__((constructor));
void oz_vfs_fault_init(void)
{
    fault_after = env_ll("OZ_VFS_FAULT_AFTER");
    fault_count = env_ll("OZ_VFS_FAULT_COUNT");
    orig = sqlite3_vfs_find(NULL);
    if (!orig)
        return;
    methods = (sqlite3_io_methods){
        .iVersion = 3,
        .xClose = f_close,
        .xRead = f_read,
        .xWrite = f_write,
        .xTruncate = f_truncate,
        .xSync = f_sync,
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
        .szOsFile = (int)sizeof(ffile) + orig->szOsFile,
        .mxPathname = orig->mxPathname,
        .zName = "oz-fault",
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
    sqlite3_vfs_register(&shim, 1);
}
