/*
 * test_sched_sql_pg_text.c - the PostgreSQL driver's work on text alone
 * (scheduler/store/sql_pg_text.c), no server needed: SQLite's parameters
 * renumbered as PostgreSQL's exactly as SQLite numbers them, messages made
 * one line, passwords blanked out of what is printed.  The driver against a
 * real server is test_sched_sql_pg.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql_pg_text.h"

/* text rewritten is want, its largest number largest and the numbers it
 * names, in order, those of names (nnames of them). */
static void rewrites_as(const char *text, const char *want, int largest, const int *names,
                        int nnames)
{
    int big = -1, *named = NULL, nnamed = -1;
    char why[160] = "";
    char *out = oz_sql_pg_rewrite(text, &big, &named, &nnamed, why, sizeof why);
    if (!out)
        fail_msg("%s: %s", text, why);
    assert_string_equal(out, want);
    assert_int_equal(big, largest);
    assert_int_equal(nnamed, nnames);
    for (int i = 0; i < nnames; i++)
        assert_int_equal(named[i], names[i]);
    free(out);
    free(named);
}

static void refused(const char *text, const char *says)
{
    int big, *named = (int *)&big, nnamed;
    char why[160] = "";
    assert_null(oz_sql_pg_rewrite(text, &big, &named, &nnamed, why, sizeof why));
    assert_null(named);
    if (!strstr(why, says))
        fail_msg("%s: '%s' does not say '%s'", text, why, says);
}

static void parameters_are_numbered_as_sqlite_numbers_them(void **state)
{
    (void)state;
    rewrites_as("SELECT 1", "SELECT 1", 0, NULL, 0);
    rewrites_as("", "", 0, NULL, 0);
    rewrites_as("INSERT INTO t VALUES (?, ?, ?)", "INSERT INTO t VALUES ($1, $2, $3)", 3,
                (const int[]){1, 2, 3}, 3);
    /* a bare ? is the largest so far plus one; ?N may come back */
    rewrites_as("?2, ?, ?1, ?, ?2", "$2, $3, $1, $4, $2", 4, (const int[]){2, 3, 1, 4, 2}, 5);
    rewrites_as("a = ?7", "a = $7", 7, (const int[]){7}, 1);
    rewrites_as("x=?1+?10", "x=$1+$10", 10, (const int[]){1, 10}, 2);
    rewrites_as("?32766", "$32766", 32766, (const int[]){32766}, 1);
}

static void quoted_text_and_comments_are_left_alone(void **state)
{
    (void)state;
    rewrites_as("SELECT '?', 'it''s ?1', \"col?\", \"a\"\"?\" , ?",
                "SELECT '?', 'it''s ?1', \"col?\", \"a\"\"?\" , $1", 1, (const int[]){1}, 1);
    rewrites_as("SELECT ? -- what ?\n, ? /* ?3 ? */ , ?",
                "SELECT $1 -- what ?\n, $2 /* ?3 ? */ , $3", 3, (const int[]){1, 2, 3}, 3);
    /* unterminated: copied to the end, for the server to refuse */
    rewrites_as("SELECT ?, 'oops ?", "SELECT $1, 'oops ?", 1, (const int[]){1}, 1);
    rewrites_as("SELECT ? /* ?", "SELECT $1 /* ?", 1, (const int[]){1}, 1);
    rewrites_as("SELECT 4-?-?", "SELECT 4-$1-$2", 2, (const int[]){1, 2}, 2);
    rewrites_as("SELECT 4/?", "SELECT 4/$1", 1, (const int[]){1}, 1);
    /* SQLite's index hints go; a word that merely starts so stays */
    rewrites_as("SELECT a FROM t INDEXED BY t_by_x WHERE x = ?", "SELECT a FROM t  WHERE x = $1", 1,
                (const int[]){1}, 1);
    rewrites_as("SELECT indexed_by, 'INDEXED BY q' FROM t indexed  by\n q2",
                "SELECT indexed_by, 'INDEXED BY q' FROM t ", 0, NULL, 0);
}

static void postgresql_only_clauses_are_unwrapped(void **state)
{
    (void)state;
    /* SQLite reads a comment; PostgreSQL the clause, its parameters numbered */
    rewrites_as("SELECT id FROM t WHERE a = ? /*PG: FOR UPDATE SKIP LOCKED*/ LIMIT ?",
                "SELECT id FROM t WHERE a = $1  FOR UPDATE SKIP LOCKED LIMIT $2", 2,
                (const int[]){1, 2}, 2);
    rewrites_as("x /*PG: AND b = ?2 */, ?1 /* ?9 */", "x  AND b = $2 , $1 /* ?9 */", 2,
                (const int[]){2, 1}, 2);
    /* only the exact mark: any other comment stays one */
    rewrites_as("x /*pg: y */ /* PG: z */", "x /*pg: y */ /* PG: z */", 0, NULL, 0);
}

static void numbers_sqlite_refuses_are_refused(void **state)
{
    (void)state;
    refused("SELECT ?0", "?0 is out of range");
    refused("SELECT ?32767", "?32767 is out of range");
    refused("SELECT ?99999999999999999999999999999999", "out of range");
    char text[32767 * 2 + 1]; /* 32767 bare ?: one too many */
    for (int i = 0; i < 32767; i++)
        memcpy(text + 2 * i, "?,", 2);
    text[2 * 32767 - 1] = '\0';
    refused(text, "out of range");
    text[2 * 32766 - 1] = '\0';
    int big, *named, nnamed;
    char why[160];
    char *out = oz_sql_pg_rewrite(text, &big, &named, &nnamed, why, sizeof why);
    assert_non_null(out);
    assert_int_equal(big, 32766);
    assert_string_equal(out + strlen(out) - 6, "$32766");
    free(out);
    free(named);
}

static void messages_become_one_line(void **state)
{
    (void)state;
    char line[64];
    oz_sql_pg_one_line(line, sizeof line,
                       "server closed the connection unexpectedly\n\tThis probably means\n");
    assert_string_equal(line, "server closed the connection unexpectedly This probably means");
    oz_sql_pg_one_line(line, sizeof line, "  \n ");
    assert_string_equal(line, "");
    oz_sql_pg_one_line(line, 5, "abc def");
    assert_string_equal(line, "abc");
    oz_sql_pg_one_line(line, 4, "abcdef");
    assert_string_equal(line, "abc");
}

/* text, redacted for uri (and password), reads want. */
static void redacts(const char *text, const char *uri, const char *password, const char *want)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", text);
    oz_sql_pg_redact(buf, sizeof buf, uri, password);
    assert_string_equal(buf, want);
}

static void passwords_are_blanked_out(void **state)
{
    (void)state;
    redacts("fails for s3cret and s3cret", "postgresql://ozma:s3cret@db.example:5432/ozma", NULL,
            "fails for *** and ***");
    redacts("bad token \"p%zz\"", "postgresql://u:p%zz@/ozma?host=/run", NULL, "bad token \"***\"");
    redacts("option hunter2 and p@ss", "postgresql:///ozma?password=hunter2&user=u", "p@ss",
            "option *** and ***");
    redacts("x pw2 y", "host=/run password=pw2 dbname=ozma", NULL, "x *** y");
    /* no password: nothing touched, an @ in a socket path is no user */
    redacts("at /a@b:5432", "postgresql:///ozma?host=/a@b", NULL, "at /a@b:5432");
    /* a one-letter password grows the text; bounded by its buffer */
    char small[8];
    snprintf(small, sizeof small, "a a a a");
    oz_sql_pg_redact(small, sizeof small, "postgresql://u:a@h/d", NULL);
    assert_true(strlen(small) < sizeof small);
    assert_null(strchr(small, 'a'));
    /* a password of stars */
    redacts("x * y", "postgresql://u:*@h/d", NULL, "x *** y");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parameters_are_numbered_as_sqlite_numbers_them),
        cmocka_unit_test(quoted_text_and_comments_are_left_alone),
        cmocka_unit_test(postgresql_only_clauses_are_unwrapped),
        cmocka_unit_test(numbers_sqlite_refuses_are_refused),
        cmocka_unit_test(messages_become_one_line),
        cmocka_unit_test(passwords_are_blanked_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
