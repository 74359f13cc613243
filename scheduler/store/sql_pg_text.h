/*
 * sql_pg_text.h - the PostgreSQL driver's (sql_pg.c) work on text alone,
 * apart so that it is tested without a server (test_sched_sql_pg_text):
 * SQLite's parameters renumbered as PostgreSQL's, libpq's messages made one
 * line, and a connection URI's password kept out of what is printed.
 */
#ifndef OZ_SCHED_SQL_PG_TEXT_H
#define OZ_SCHED_SQL_PG_TEXT_H

#include <stddef.h>

/* The largest parameter number: SQLite's default SQLITE_MAX_VARIABLE_NUMBER,
 * well under the protocol's 65535. */
#define OZ_SQL_PG_MAX_PARAM 32766

/* The opening of a PostgreSQL-only clause: a block comment whose text
 * starts "PG:", e.g. the comment "PG: FOR UPDATE SKIP LOCKED", is a
 * comment to SQLite and, its marks dropped, SQL (its ? parameters
 * included) to PostgreSQL - row locks, which SQLite's one writer needs
 * none of. */
#define OZ_SQL_PG_ONLY "/*PG:"

/* text with SQLite's parameters as PostgreSQL's: ?N becomes $N, a bare ?
 * $(largest so far + 1), as SQLite numbers them; '...' literals, "..."
 * identifiers and -- and block comments are copied as they are, but for
 * a PostgreSQL-only clause (OZ_SQL_PG_ONLY), whose text is kept without its
 * comment's marks; SQLite's index hints (INDEXED BY name) are dropped.  Returns
 * the new text (the caller frees), *largest the largest number and named
 * (the caller frees) the *nnamed numbers the text names, in order.  NULL
 * with a sentence in why for ?0 or a number past OZ_SQL_PG_MAX_PARAM, or
 * without memory. */
char *oz_sql_pg_rewrite(const char *text, int *largest, int **named, int *nnamed, char *why,
                        size_t whylen);

/* Copies src into dst (cap bytes, cap > 0) as one line: each run of
 * whitespace (libpq's messages carry newlines and tabs) becomes one space,
 * none at either end. */
void oz_sql_pg_one_line(char *dst, size_t cap, const char *src);

/* Blanks out ("***") of text (cap bytes) the password (NULL: none) and any
 * password uri spells (postgresql://user:PASSWORD@..., password=PASSWORD),
 * as written there: libpq's messages may quote the URI's parts. */
void oz_sql_pg_redact(char *text, size_t cap, const char *uri, const char *password);

#endif
