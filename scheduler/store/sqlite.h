/*
 * sqlite.h - the SQLite backend of the store (sqlite.c), for store.c, which
 * sends a file location here and a postgresql:// one to pg.c.
 */
#ifndef OZ_SCHED_STORE_SQLITE_H
#define OZ_SCHED_STORE_SQLITE_H

#include <stddef.h>

#include "store_internal.h"

/* Creates a database file at path with the current schema (EEXIST when
 * it exists). */
int oz_sqlite_db_create(const char *path, char *why, size_t whylen);
/* Checks the file's schema version and migrates it to the current one. */
int oz_sqlite_db_migrate(const char *path, char *why, size_t whylen);
/* A connection to db's file, as every one of the store's is set up. */
int oz_sqlite_conn_open(oz_db *db, oz_sql **out, char *why, size_t whylen);
/* A checkpoint that waits for no one (store.h: oz_store_compact). */
int oz_sqlite_compact(oz_store *s, char *why, size_t whylen);

#endif
