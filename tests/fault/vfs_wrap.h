/*
 * vfs_wrap.h - what the test VFS shims share (vfs_fault.c fails writes,
 * vfs_powercut.c logs them to undo): a VFS that wraps SQLite's default one
 * and makes itself the default, so every database a program opens goes
 * through it, passing every call through but the write-side ones a shim
 * gives.  Compiled into each shim's shared object (each has its own copy
 * of the state below); tests only.
 */
#ifndef OZ_VFS_WRAP_H
#define OZ_VFS_WRAP_H

#include <sqlite3.h>

/* A file of the wrapping VFS: SQLite sees `base`; `real` is the default
 * VFS's file, allocated just after this struct. */
typedef struct oz_vfs_wrap_file {
    sqlite3_file base; /* must be first */
    sqlite3_file *real;
    int id; /* the shim's: -1 unless its `opened` sets it */
} oz_vfs_wrap_file;

/* A shim's write-side methods (each may call through to f->real) and its
 * hooks after a successful open of a named file and a successful delete
 * (either may be NULL). */
typedef struct oz_vfs_wrap_hooks {
    const char *name;
    int (*write)(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off);
    int (*truncate)(sqlite3_file *f, sqlite3_int64 size);
    int (*sync)(sqlite3_file *f, int flags);
    void (*opened)(oz_vfs_wrap_file *f, const char *path);
    void (*deleted)(const char *path);
} oz_vfs_wrap_hooks;

/* Registers the wrapping VFS as the default, with hooks (kept, not
 * copied); 0, or -1 when SQLite has no default VFS to wrap. */
int oz_vfs_wrap_register(const oz_vfs_wrap_hooks *hooks);

#endif
