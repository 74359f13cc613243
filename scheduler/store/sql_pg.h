/*
 * sql_pg.h - the PostgreSQL driver of sql.h: opening a server's database,
 * named by a libpq connection URI, as an oz_sql connection.  Everything
 * else goes through sql.h; libpq-fe.h stays inside sql_pg.c.
 *
 * What the connection promises the store: a statement it commits is durable
 * when the call returns (synchronous_commit = on), times are UTC, doubles
 * come back exactly as they went in, and a statement prepared before a
 * lost connection runs again after oz_sql_revive() (it is prepared anew on
 * the new connection, transparently).  Finalize every statement before
 * oz_sql_close().
 */
#ifndef OZ_SCHED_SQL_PG_H
#define OZ_SCHED_SQL_PG_H

#include <stddef.h>

#include "sql.h"

/* Connects to uri, a libpq connection URI or key=value string
 * ("postgresql:///ozma?host=/run/ozma&user=ozma"; a password comes from
 * the URI, PGPASSWORD or PGPASSFILE) as application_name "ozma-server".
 * 0, or -1 with one line in why that names the server and never the
 * password. */
int oz_sql_pg_open(const char *uri, oz_sql **out, char *why, size_t whylen);

#endif
