/*
 * sql_states.h - how the store's SQL names states: by the C enums of
 * store.h, never by their digits.
 *
 * SQL in the store writes a state as a token in braces - `{REPLICA_OVER}`,
 * `{OUTCOME_SUCCESS}`, `{UNIT_ACTIVE}`, `{VALIDATE_INVALID}`: the enum's
 * name without "OZ_" - and oz_sql_states_expand() replaces each token by
 * the enum's value before the statement is prepared (once per statement
 * and connection: the statement cache keeps the prepared result).  A token
 * left unexpanded is a syntax error, never a silent NULL.
 *
 * Why a value in the text and not a bound parameter: the partial indexes
 * (replicas_unsent, replicas_deadline, units_assimilate...) serve only a
 * query whose WHERE repeats the index's own `state = N`, and a planner
 * cannot know a bound value when it plans (SQLite would re-plan on every
 * rebinding, PostgreSQL's generic plans never use such an index).  The
 * schema, its CHECKs, triggers and migrations are written the same way, so
 * that the migrations that shipped produce the same schema text as before.
 */
#ifndef OZ_STORE_SQL_STATES_H
#define OZ_STORE_SQL_STATES_H

#include <stddef.h>

/* The text of sql with every {TOKEN} replaced by its enum's value, in a
 * malloc'd string (the caller frees it); NULL after writing why when a
 * token is unknown or memory runs out. */
char *oz_sql_states_expand(const char *sql, char *why, size_t whylen);

#endif
