/*
 * vfs_fault.c - I/O errors injected below SQLite, for tests only (issue 21,
 * "Tests that stay"; SQLite's own tests do this with their test VFSes).
 *
 * Built as a shared object that a test preloads into ozma-server
 * (LD_PRELOAD); its constructor registers "oz-fault", a VFS that wraps the
 * default one and makes itself the default (vfs_wrap.h), so every database
 * the server opens goes through it.  Nothing in the programs refers to it:
 * a release build is unchanged.
 *
 * Faults: after OZ_VFS_FAULT_AFTER write-side calls (xWrite, xSync,
 * xTruncate) across all files, the next OZ_VFS_FAULT_COUNT of them fail
 * (SQLITE_IOERR_WRITE, _FSYNC, _TRUNCATE) without touching the file; then
 * they pass again.  Unset or 0 AFTER: no faults.  Everything else is
 * passed through.  The counter is an atomic: the server's threads share
 * it, and which call fails is a matter of timing, as a real disk's error
 * would be.
 */
#include <stdatomic.h>
#include <stdlib.h>

#include "vfs_wrap.h"

static long long fault_after, fault_count;
static atomic_llong calls; /* write-side calls so far */

static int faulty(void)
{
    if (fault_after <= 0)
        return 0;
    long long n = atomic_fetch_add(&calls, 1) + 1;
    return n > fault_after && n <= fault_after + fault_count;
}

#define REAL(f) (((oz_vfs_wrap_file *)(f))->real)

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

static long long env_ll(const char *name)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    return *end == '\0' && v > 0 ? v : 0;
}

static const oz_vfs_wrap_hooks hooks = {
    .name = "oz-fault", .write = f_write, .truncate = f_truncate, .sync = f_sync};

void oz_vfs_fault_init(void) __attribute__((constructor));
void oz_vfs_fault_init(void)
{
    fault_after = env_ll("OZ_VFS_FAULT_AFTER");
    fault_count = env_ll("OZ_VFS_FAULT_COUNT");
    (void)oz_vfs_wrap_register(&hooks);
}
