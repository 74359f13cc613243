/*
 * pg_schema_sql - prints the PostgreSQL schema (scheduler/store/pg_schema.c)
 * as psql reads it: every migration with its states expanded and the
 * version it records, so that test_sched_pg_schema.sh can apply it to a
 * throwaway cluster without a driver.  With --decay RAC THEN NOW it prints
 * instead what credit.c's oz_credit_decay gives, for comparing with the
 * schema's SQL decay(); with --expand, the statements on stdin (each ended
 * by a NUL) with their state tokens expanded (sql_states.h), each ended by
 * a NUL, for pg_statements.py; with --rewrite, each as the PostgreSQL
 * driver sends it (sql_pg_text.h: $N parameters, no index hints) after its
 * largest parameter number and a tab.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "credit.h"
#include "pg_schema.h"
#include "sql_pg_text.h"
#include "sql_states.h"

static int usage(FILE *f)
{
    fprintf(f, "usage: pg_schema_sql            the PostgreSQL schema, as SQL\n"
               "       pg_schema_sql --decay RAC THEN NOW\n"
               "                                oz_credit_decay(RAC, THEN, NOW), %%.17g\n"
               "       pg_schema_sql --expand   NUL-ended SQL on stdin, its states expanded\n"
               "       pg_schema_sql --rewrite  the same, as the PostgreSQL driver sends it\n");
    return f == stdout ? 0 : 2;
}

static int decay(char **argv)
{
    char *end[3];
    errno = 0;
    double rac = strtod(argv[0], &end[0]);
    long long then = strtoll(argv[1], &end[1], 10), now = strtoll(argv[2], &end[2], 10);
    for (int i = 0; i < 3; i++)
        if (end[i] == argv[i] || *end[i] || errno) {
            fprintf(stderr, "pg_schema_sql: not a number: %s\n", argv[i]);
            return 2;
        }
    printf("%.17g\n", oz_credit_decay(rac, then, now));
    return 0;
}

/* text, expanded, as the PostgreSQL driver rewrites it: "LARGEST\tTEXT". */
static int rewrite_one(const char *text)
{
    char why[256];
    int largest = 0, nnamed = 0, *named = NULL;
    char *pg = oz_sql_pg_rewrite(text, &largest, &named, &nnamed, why, sizeof why);
    free(named);
    if (!pg) {
        fprintf(stderr, "pg_schema_sql: %s\n", why);
        return 1;
    }
    printf("%d\t%s%c", largest, pg, '\0');
    free(pg);
    return 0;
}

/* Each NUL-ended statement of stdin, expanded (and with rewrite, as the
 * driver sends it), to stdout. */
static int expand(bool rewrite)
{
    static char sql[1 << 16];
    size_t n = 0;
    for (int ch; (ch = getchar()) != EOF;) {
        if (n == sizeof sql - 1) {
            fprintf(stderr, "pg_schema_sql: a statement over %zu bytes\n", sizeof sql - 1);
            return 1;
        }
        sql[n++] = (char)ch;
        if (ch != '\0')
            continue;
        char why[256], *text = oz_sql_states_expand(sql, why, sizeof why);
        if (!text) {
            fprintf(stderr, "pg_schema_sql: %s\n", why);
            return 1;
        }
        int rc = rewrite ? rewrite_one(text) : (fwrite(text, 1, strlen(text) + 1, stdout), 0);
        free(text);
        if (rc != 0)
            return rc;
        n = 0;
    }
    return n == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--help") == 0)
        return usage(stdout);
    if (argc == 5 && strcmp(argv[1], "--decay") == 0)
        return decay(argv + 2);
    if (argc == 2 && (strcmp(argv[1], "--expand") == 0 || strcmp(argv[1], "--rewrite") == 0))
        return expand(strcmp(argv[1], "--rewrite") == 0);
    if (argc != 1)
        return usage(stderr);
    for (size_t i = 0; i < oz_pg_nmigrations; i++) {
        for (const char *const *sql = oz_pg_migrations[i]; *sql; sql++) {
            char why[256], *text = oz_sql_states_expand(*sql, why, sizeof why);
            if (!text) {
                fprintf(stderr, "pg_schema_sql: %s\n", why);
                return 1;
            }
            printf("%s\n", text);
            free(text);
        }
        printf("UPDATE schema_version SET version = %d;\n", OZ_PG_SCHEMA_BASE + (int)i);
    }
    return 0;
}
