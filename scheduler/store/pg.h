/*
 * pg.h - the PostgreSQL side of the store's database (pg.c), for sqlite.c,
 * which sends a postgresql:// location here and keeps files to itself.
 */
#ifndef OZ_SCHED_STORE_PG_H
#define OZ_SCHED_STORE_PG_H

#include <stdbool.h>
#include <stddef.h>

#include "sql.h"
#include "store.h"

/* Is where a PostgreSQL URI (postgresql:// or postgres://)? */
bool oz_pg_is_uri(const char *where);
/* Creates the schema in uri's database, which must hold none. */
int oz_pg_db_create(const char *uri, char *why, size_t whylen);
/* Checks the schema's version and migrates it to the current one. */
int oz_pg_db_migrate(const char *uri, char *why, size_t whylen);
/* Checks that uri's schema is this program's version, without writing
 * (uri may be a read-only replica). */
int oz_pg_db_check(const char *uri, char *why, size_t whylen);
/* The database's size on the server's disk, bytes (0 when unknown). */
int64_t oz_pg_database_bytes(oz_store *s);
/* A connection; OZ_SCHED_EBUSY (the server unreachable) with why. */
int oz_pg_conn_open(const char *uri, oz_sql **out, char *why, size_t whylen);

#endif
