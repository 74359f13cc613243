/*
 * html.h - building the HTML the server sends with its pages (pages.c,
 * page_render.c): a growing buffer, text escaped on the way in, and a table
 * drawn from a JSON array by a column list, in the same shape the pages'
 * JavaScript draws (app.js table()), so a page reads the same with and
 * without JavaScript.
 *
 * The rule: anything from the database (names, messages, unit ids) goes in
 * through oz_html_text() or a column, never oz_html_raw().  Allocation
 * failure is remembered (oom) and the buffer stays valid; the caller checks
 * oom once at the end.
 */
#ifndef OZ_SCHED_HTML_H
#define OZ_SCHED_HTML_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

typedef struct oz_html {
    char *buf; /* NUL-terminated once anything was added; NULL before */
    size_t len, cap;
    bool oom;
} oz_html;

void oz_html_free(oz_html *h);
/* Appends trusted markup (a literal of the caller's). */
void oz_html_raw(oz_html *h, const char *s);
/* Appends s with & < > " ' escaped. */
void oz_html_text(oz_html *h, const char *s);
/* Appends s percent-encoded for a path segment or query value. */
void oz_html_url(oz_html *h, const char *s);
/* Appends formatted trusted markup (numbers, literals). */
void oz_html_fmt(oz_html *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Numbers as the pages write them: 12,345; credit with 2 or 4 decimals
 * below 100; a Unix time as "YYYY-MM-DD HH:MM:SS UTC" ("-" for 0). */
void oz_html_int(oz_html *h, long long v);
void oz_html_credit(oz_html *h, double v);
void oz_html_time(oz_html *h, long long unix_s);
/* <div class="card"> with value (markup from the caller) and label. */
void oz_html_card(oz_html *h, const char *label, const char *value);

typedef enum oz_html_col_kind {
    OZ_COL_TEXT,   /* key's string (or number) as text */
    OZ_COL_INT,    /* key's integer, grouped */
    OZ_COL_CREDIT, /* key's number as credit */
    OZ_COL_FIXED,  /* key's number with `digits` decimals */
    OZ_COL_MHZ,    /* key's frequency in Hz, as MHz */
    OZ_COL_TIME,   /* key's Unix time */
    OZ_COL_LINK,   /* key's text linked to href followed by link_key's value */
    OZ_COL_UNIT,   /* key's unit name linked to /unit/NAME */
    OZ_COL_STATE,  /* a replica's state in words (state, outcome, validate_state) */
} oz_html_col_kind;

typedef struct oz_html_col {
    const char *label;
    oz_html_col_kind kind;
    const char *key;
    const char *href;     /* OZ_COL_LINK: "/users/" */
    const char *link_key; /* OZ_COL_LINK: "id" */
    int digits;           /* OZ_COL_FIXED */
} oz_html_col;

/* A <div class="scroll"><table> of rows (a JSON array of objects), or one
 * row saying `empty` when there are none. */
void oz_html_table(oz_html *h, const oz_html_col *cols, size_t ncols, const json_t *rows,
                   const char *empty);

#endif
