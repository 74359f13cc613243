/*
 * pg.c - the PostgreSQL side of the store's database (store.h): a project
 * whose project.json names a postgresql:// URI keeps its tables in that
 * server's database.  This file opens connections there and has the schema
 * created or migrated (pg_schema.c); sqlite.c does the same for an embedded
 * SQLite file and holds what both share (the statement cache,
 * transactions).
 */
#include <string.h>

#include "pg.h"
#include "pg_schema.h"
#include "sql_pg.h"
#include "store_internal.h"

bool oz_pg_is_uri(const char *where)
{
    return strncmp(where, "postgresql://", 13) == 0 || strncmp(where, "postgres://", 11) == 0;
}

int64_t oz_pg_database_bytes(oz_store *s)
{
    int64_t n = oz_store_one_int(s, "SELECT pg_database_size(current_database())", 0, false);
    return n < 0 ? 0 : n;
}

int oz_pg_conn_open(const char *uri, oz_sql **out, char *why, size_t whylen)
{
    return oz_sql_pg_open(uri, out, why, whylen) == 0 ? OZ_SCHED_OK : OZ_SCHED_EBUSY;
}

/* Has uri's schema created (create) or brought up to date. */
static int schema(const char *uri, bool create, char *why, size_t whylen)
{
    oz_sql *c = NULL;
    int rc = oz_pg_conn_open(uri, &c, why, whylen);
    if (rc == OZ_SCHED_OK)
        rc = oz_pg_schema_migrate(c, create, why, whylen);
    oz_sql_close(c);
    return rc;
}

int oz_pg_db_create(const char *uri, char *why, size_t whylen)
{
    return schema(uri, true, why, whylen);
}

int oz_pg_db_migrate(const char *uri, char *why, size_t whylen)
{
    return schema(uri, false, why, whylen);
}

int oz_pg_db_check(const char *uri, char *why, size_t whylen)
{
    oz_sql *c = NULL;
    oz_sql_stmt *st = NULL;
    int rc = oz_pg_conn_open(uri, &c, why, whylen);
    if (rc != OZ_SCHED_OK)
        return rc;
    if (oz_sql_prepare(c, "SELECT version FROM schema_version", false, &st) != 0 ||
        oz_sql_step(st) != OZ_SQL_ROW)
        rc = oz_sched_fail(OZ_SCHED_EDB, why, whylen, "%s: not an Ozma database: %s", uri,
                           oz_sql_errmsg(c));
    else if (oz_sql_column_int(st, 0) != OZ_STORE_SCHEMA_VERSION)
        rc = oz_sched_fail(OZ_SCHED_EDB, why, whylen,
                           "%s: schema version %d, this program's is %d (migrate the primary "
                           "first)",
                           uri, oz_sql_column_int(st, 0), OZ_STORE_SCHEMA_VERSION);
    oz_sql_finalize(st);
    oz_sql_close(c);
    return rc;
}
