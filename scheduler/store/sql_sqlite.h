/*
 * sql_sqlite.h - the SQLite driver of sql.h: opening a database file as an
 * oz_sql connection, and the SQLite handle beneath it for the few things
 * only SQLite has (PRAGMAs, the WAL, functions in C), which sqlite.c and
 * store_writer.c alone use.
 */
#ifndef OZ_SCHED_SQL_SQLITE_H
#define OZ_SCHED_SQL_SQLITE_H

#include <sqlite3.h>

#include "sql.h"

/* Opens path with sqlite3_open_v2's flags (SQLITE_OPEN_NOMUTEX added) and
 * defines greatest() and least() as PostgreSQL has them (NULLs ignored).
 * -1 with a sentence in why. */
int oz_sql_sqlite_open(const char *path, int flags, oz_sql **out, char *why, size_t whylen);
/* The SQLite connection beneath c (a connection oz_sql_sqlite_open made). */
sqlite3 *oz_sql_sqlite_handle(oz_sql *c);

#endif
