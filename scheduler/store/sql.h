/*
 * sql.h - the one SQL interface the store's query files (store_*.c) use,
 * whichever database is behind it: a connection, statements prepared from
 * text, bound, stepped row by row and read by column.  Two drivers
 * implement it: sql_sqlite.c (an embedded SQLite file) and sql_pg.c (a
 * PostgreSQL server through libpq); nothing else in the scheduler sees
 * sqlite3.h or libpq-fe.h.
 *
 * The SQL text is the dialect SQLite (>= 3.35) and PostgreSQL (>= 15)
 * share: parameters are written ? or ?N (numbered from 1; the PostgreSQL
 * driver rewrites them as $N), new ids come back with RETURNING, upserts
 * are ON CONFLICT, and the SQLite driver adds the functions PostgreSQL has
 * and SQLite lacks (greatest, least).  A clause only PostgreSQL runs (row
 * locks: FOR UPDATE, SKIP LOCKED) is written as a block comment whose text
 * starts "PG:", which SQLite ignores and the PostgreSQL driver unwraps
 * (sql_pg_text.h: OZ_SQL_PG_ONLY).  Columns are numbered from 0.
 *
 * A connection and its statements belong to one thread at a time.
 * Bound text and blobs are not copied: they must stay valid until the
 * statement is stepped for the first time after binding.  What a column
 * read returns stays valid until the next step or reset of its statement.
 */
#ifndef OZ_SCHED_SQL_H
#define OZ_SCHED_SQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct oz_sql oz_sql;           /* a connection */
typedef struct oz_sql_stmt oz_sql_stmt; /* a prepared statement of one connection */

/* What oz_sql_step returns. */
enum { OZ_SQL_FAIL = -1, OZ_SQL_DONE = 0, OZ_SQL_ROW = 1 };

/* A column's value type as the database reports it (oz_sql_column_type). */
typedef enum oz_sql_type {
    OZ_SQL_NULL,
    OZ_SQL_INTEGER,
    OZ_SQL_FLOAT,
    OZ_SQL_TEXT,
    OZ_SQL_BLOB,
} oz_sql_type;

/* The kind of the connection's last failure (oz_sql_errkind). */
typedef enum oz_sql_errkind {
    OZ_SQL_EOTHER, /* a constraint, a syntax error, anything not below */
    OZ_SQL_EBUSY,  /* locked by another, or a serialisation failure: try again */
    OZ_SQL_ENOSPC, /* the disk (or a quota) is full */
    OZ_SQL_EDOWN,  /* the server cannot be reached: the connection is lost */
} oz_sql_errkind;

/* ---- statements ---- */

/* Prepares text (one statement).  persistent: it will be kept and run many
 * times.  OZ_SQL_FAIL with the connection's error set. */
int oz_sql_prepare(oz_sql *c, const char *text, bool persistent, oz_sql_stmt **out);
void oz_sql_finalize(oz_sql_stmt *st);
/* Makes st ready to run again (its bindings kept). */
void oz_sql_reset(oz_sql_stmt *st);
/* Unbinds every parameter (NULL). */
void oz_sql_clear_bindings(oz_sql_stmt *st);
/* The number of the largest parameter in st's text. */
int oz_sql_bind_parameter_count(oz_sql_stmt *st);

int oz_sql_bind_int64(oz_sql_stmt *st, int i, int64_t v);
int oz_sql_bind_int(oz_sql_stmt *st, int i, int v);
int oz_sql_bind_double(oz_sql_stmt *st, int i, double v);
/* len < 0: up to the terminating NUL. */
int oz_sql_bind_text(oz_sql_stmt *st, int i, const char *text, int len);
int oz_sql_bind_blob(oz_sql_stmt *st, int i, const void *p, int len);
int oz_sql_bind_null(oz_sql_stmt *st, int i);

/* Runs st on its first call after binding or reset and moves to its next
 * row: OZ_SQL_ROW while there is one, then OZ_SQL_DONE; OZ_SQL_FAIL with
 * the connection's error set. */
int oz_sql_step(oz_sql_stmt *st);

oz_sql_type oz_sql_column_type(oz_sql_stmt *st, int col);
int64_t oz_sql_column_int64(oz_sql_stmt *st, int col);
int oz_sql_column_int(oz_sql_stmt *st, int col);
double oz_sql_column_double(oz_sql_stmt *st, int col);
/* NULL for SQL NULL. */
const unsigned char *oz_sql_column_text(oz_sql_stmt *st, int col);
const void *oz_sql_column_blob(oz_sql_stmt *st, int col);
int oz_sql_column_bytes(oz_sql_stmt *st, int col);

/* ---- connections ---- */

void oz_sql_close(oz_sql *c);
/* Runs text, one or more statements with no parameters and no rows
 * wanted.  OZ_SQL_FAIL with the connection's error set. */
int oz_sql_exec(oz_sql *c, const char *text);
/* Rows changed by the connection's last INSERT, UPDATE or DELETE. */
int64_t oz_sql_changes(oz_sql *c);
/* Rows changed by every statement since the connection opened. */
int64_t oz_sql_total_changes(oz_sql *c);
/* Is a transaction open on the connection, and usable?  False after an
 * error that ended it (SQLite rolled it back; PostgreSQL aborted it, and
 * only a rollback, to a savepoint or of the whole, is left). */
bool oz_sql_in_transaction(oz_sql *c);
/* The last failure: a sentence, and its kind. */
const char *oz_sql_errmsg(oz_sql *c);
oz_sql_errkind oz_sql_errkind_get(oz_sql *c);
/* After OZ_SQL_EDOWN: tries once to connect again (a no-op for a
 * connection that is up, and for an embedded database).  Statements
 * prepared before stay usable.  OZ_SQL_FAIL while the server is still
 * unreachable.  Never call it inside a transaction: the server has already
 * rolled that back. */
int oz_sql_revive(oz_sql *c);

#endif
