/*
 * pg_schema.h - the PostgreSQL backend's schema: its versioned migrations
 * and the runner that applies them.
 *
 * The versions are SQLite's (store.h's OZ_STORE_SCHEMA_VERSION): a
 * PostgreSQL database begins life at OZ_PG_SCHEMA_BASE, the version SQLite
 * had reached when PostgreSQL arrived, with the whole schema created at
 * once by the first entry of oz_pg_migrations; every later entry is the
 * PostgreSQL twin of the SQLite migration of the same number (a new schema
 * version adds one to each list: pg_schema.c fails to compile until it
 * has).  PostgreSQL has no user_version: the version lives in the one-row
 * table schema_version.  The SQL names states as the store's does
 * ({REPLICA_UNSENT}: sql_states.h); the runner expands them.
 */
#ifndef OZ_STORE_PG_SCHEMA_H
#define OZ_STORE_PG_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include "sql.h"

/* The version the first migration creates. */
#define OZ_PG_SCHEMA_BASE 15

/* oz_pg_migrations[i] takes a database to version OZ_PG_SCHEMA_BASE + i:
 * its statements, run in order (each may hold several, separated by ';').
 * The list ends with NULL. */
extern const char *const *const oz_pg_migrations[];
extern const size_t oz_pg_nmigrations;

/* Brings the database of connection c to OZ_STORE_SCHEMA_VERSION in one
 * transaction, under an advisory lock so that servers starting together
 * migrate once.  create: the database must hold no Ozma schema yet (init);
 * else it must hold one (open).  OZ_SCHED_EDB with a sentence in why when
 * it cannot, and for a version this program does not know. */
int oz_pg_schema_migrate(oz_sql *c, bool create, char *why, size_t whylen);

#endif
