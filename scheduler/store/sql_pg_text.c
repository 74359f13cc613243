/*
 * sql_pg_text.c - the PostgreSQL driver's work on text alone
 * (sql_pg_text.h): parameters renumbered, messages made one line,
 * passwords blanked out.  No libpq here.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sql_pg_text.h"

/* The length of SQLite's index hint "INDEXED BY name" at text (at a word's
 * start), 0 when there is none. */
static size_t index_hint_len(const char *text)
{
    if (strncasecmp(text, "INDEXED", 7) != 0 || !isspace((unsigned char)text[7]))
        return 0;
    size_t k = 7;
    while (isspace((unsigned char)text[k]))
        k++;
    if (strncasecmp(text + k, "BY", 2) != 0 || !isspace((unsigned char)text[k + 2]))
        return 0;
    k += 2;
    while (isspace((unsigned char)text[k]))
        k++;
    size_t name = k;
    while (isalnum((unsigned char)text[k]) || text[k] == '_')
        k++;
    return k > name ? k : 0;
}

char *oz_sql_pg_rewrite(const char *text, int *largest, int **named, int *nnamed, char *why,
                        size_t whylen)
{
    size_t len = strlen(text), marks = 0;
    for (size_t i = 0; i < len; i++)
        marks += text[i] == '?';
    *largest = 0;
    *nnamed = 0;
    *named = malloc((marks ? marks : 1) * sizeof **named);
    /* each ? grows by at most 5 bytes: "$32766" */
    char *out = marks <= (SIZE_MAX - len - 1) / 6 ? malloc(len + 5 * marks + 1) : NULL;
    if (!out || !*named) {
        snprintf(why, whylen, "out of memory");
        goto fail;
    }
    size_t o = 0;
    bool in_pg = false; /* inside a PostgreSQL-only clause, OZ_SQL_PG_ONLY */
    for (size_t i = 0; i < len;) {
        char ch = text[i];
        size_t end = i + 1;
        if (!strncmp(text + i, OZ_SQL_PG_ONLY, sizeof OZ_SQL_PG_ONLY - 1)) {
            in_pg = true; /* its text is SQL here: the comment's marks go */
            i += sizeof OZ_SQL_PG_ONLY - 1;
            continue;
        } else if (in_pg && ch == '*' && text[end] == '/') {
            in_pg = false;
            i += 2;
            continue;
        } else if (ch == '\'' || ch == '"') { /* '' inside a literal: two literals back to back */
            while (end < len && text[end] != ch)
                end++;
            end += end < len;
        } else if (ch == '-' && text[end] == '-') {
            while (end < len && text[end] != '\n')
                end++;
        } else if (ch == '/' && text[end] == '*') {
            const char *close = strstr(text + end + 1, "*/");
            end = close ? (size_t)(close - text) + 2 : len;
        } else if ((ch == 'I' || ch == 'i') &&
                   (i == 0 || !(isalnum((unsigned char)text[i - 1]) || text[i - 1] == '_')) &&
                   index_hint_len(text + i) > 0) {
            i += index_hint_len(text + i);
            continue;
        } else if (ch == '?') {
            long n = 0;
            bool digits = isdigit((unsigned char)text[end]);
            for (; isdigit((unsigned char)text[end]); end++)
                n = n > OZ_SQL_PG_MAX_PARAM ? n : n * 10 + (text[end] - '0');
            if (!digits)
                n = *largest + 1;
            if (n < 1 || n > OZ_SQL_PG_MAX_PARAM) {
                snprintf(why, whylen, "parameter %.*s is out of range (?1 to ?%d) in: %.60s",
                         (int)(end - i > 24 ? 24 : end - i), text + i, OZ_SQL_PG_MAX_PARAM, text);
                goto fail;
            }
            *largest = n > *largest ? (int)n : *largest;
            (*named)[(*nnamed)++] = (int)n;
            o += (size_t)snprintf(out + o, 7, "$%ld", n);
            i = end;
            continue;
        }
        memcpy(out + o, text + i, end - i);
        o += end - i;
        i = end;
    }
    out[o] = '\0';
    return out;
fail:
    free(out);
    free(*named);
    *named = NULL;
    *nnamed = 0;
    return NULL;
}

void oz_sql_pg_one_line(char *dst, size_t cap, const char *src)
{
    size_t o = 0;
    bool space = false;
    for (; *src && o + 1 < cap; src++) {
        if (isspace((unsigned char)*src)) {
            space = o > 0;
            continue;
        }
        if (space && o + 2 >= cap)
            break; /* no room for the space and what follows it */
        if (space)
            dst[o++] = ' ';
        space = false;
        dst[o++] = *src;
    }
    dst[o] = '\0';
}

/* Replaces every copy of secret[0..slen) in text with "***" (or, where
 * text has no room to grow, with as many '*'). */
static void blank(char *text, size_t cap, const char *secret, size_t slen)
{
    char key[256];
    if (!slen || slen >= sizeof key)
        return;
    memcpy(key, secret, slen);
    key[slen] = '\0';
    for (char *hit = strstr(text, key); hit; hit = strstr(hit, key)) {
        size_t stars = strlen(text) - slen + 3 < cap ? 3 : slen;
        memmove(hit + stars, hit + slen, strlen(hit + slen) + 1);
        memset(hit, '*', stars);
        hit += stars; /* a password of stars is not found in its own blanks */
    }
}

void oz_sql_pg_redact(char *text, size_t cap, const char *uri, const char *password)
{
    if (password)
        blank(text, cap, password, strlen(password));
    /* postgresql://user:PASSWORD@host/... (the last @ before the path) */
    const char *auth = strstr(uri, "://");
    if (auth) {
        auth += 3;
        const char *stop = auth + strcspn(auth, "/?"), *at = NULL;
        for (const char *p = auth; p < stop; p++)
            at = *p == '@' ? p : at;
        const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
        if (colon)
            blank(text, cap, colon + 1, (size_t)(at - colon - 1));
    }
    /* ...?password=PASSWORD&..., or password=PASSWORD in key=value form */
    for (const char *p = strstr(uri, "password="); p; p = strstr(p + 1, "password="))
        blank(text, cap, p + 9, strcspn(p + 9, "& \t"));
}
