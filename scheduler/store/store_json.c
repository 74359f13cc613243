/*
 * store_json.c - what the read-only views (store_read.c, store_web.c)
 * share: list limits, the opaque pagination cursor, turning a statement's
 * rows into a JSON array, one-number queries and the signal row.
 *
 * Cursors are decimal: an offset for lists ordered by credit, the last id
 * for lists ordered by id.  Clients treat them as opaque strings.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

#define CURSOR_DIGITS 13
#define CURSOR_MAX 1000000000000LL

int oz_store_clamp(int v, int lo, int hi, int dflt)
{
    return v < lo ? dflt : v > hi ? hi : v;
}

long long oz_store_cursor_parse(const char *after)
{
    if (!after || !*after)
        return 0;
    if (strlen(after) > CURSOR_DIGITS)
        return -1;
    for (const char *p = after; *p; p++)
        if (*p < '0' || *p > '9')
            return -1;
    long long v = strtoll(after, NULL, 10);
    return v > CURSOR_MAX ? -1 : v;
}

int oz_store_rows_json(oz_sql_stmt *st, int limit, oz_store_row_fn make, int64_t now, json_t **arr,
                       bool *more, long long *last)
{
    *more = false;
    json_t *a = json_array();
    if (!a) {
        oz_sql_reset(st);
        return OZ_SCHED_ENOMEM;
    }
    int n = 0, step;
    while ((step = oz_sql_step(st)) == OZ_SQL_ROW) {
        if (n == limit) {
            *more = true;
            break;
        }
        if (last)
            *last = oz_sql_column_int64(st, 0);
        json_t *row = make(st, now);
        if (!row || json_array_append_new(a, row)) {
            oz_sql_reset(st);
            json_decref(a);
            return OZ_SCHED_ENOMEM;
        }
        n++;
    }
    oz_sql_reset(st);
    if (step != OZ_SQL_ROW && step != OZ_SQL_DONE) {
        json_decref(a);
        return OZ_SCHED_EDB;
    }
    *arr = a;
    return OZ_SCHED_OK;
}

int oz_store_paged(const char *key, json_t *arr, bool more, long long next, json_t **out)
{
    json_t *cursor = json_null();
    if (more) {
        char buf[24];
        snprintf(buf, sizeof buf, "%lld", next);
        cursor = json_string(buf);
    }
    *out = json_pack("{so so}", key, arr, "next", cursor);
    return *out ? OZ_SCHED_OK : OZ_SCHED_ENOMEM;
}

int64_t oz_store_one_int(oz_store *s, const char *sql, int64_t arg, bool bind)
{
    oz_sql_stmt *st = oz_store_stmt(s, sql, NULL, 0);
    if (!st)
        return -1;
    if (bind)
        oz_sql_bind_int64(st, 1, arg);
    int64_t v = oz_sql_step(st) == OZ_SQL_ROW ? oz_sql_column_int64(st, 0) : -1;
    oz_sql_reset(st);
    return v;
}

json_t *oz_store_signal_row(oz_sql_stmt *st, int64_t now)
{
    (void)now;
    json_t *utc = json_null();
    if (oz_sql_column_type(st, 6) != OZ_SQL_NULL) {
        char buf[48];
        if (oz_wu_time_format(oz_sql_column_int64(st, 6), 6, buf, sizeof buf) == OZ_WU_OK)
            utc = json_string(buf);
    }
    return json_pack(
        "{sI ss sf sf sf so sf sf sI ss ss sf so so so so so}", "id",
        (json_int_t)oz_sql_column_int64(st, 0), "type", oz_store_col_text(st, 1), "freq_hz",
        oz_sql_column_double(st, 2), "chirp_hz_s", oz_sql_column_double(st, 3), "time_s",
        oz_sql_column_double(st, 4), "time_utc", utc, "score", oz_sql_column_double(st, 7),
        "power", oz_sql_column_double(st, 8), "fft_len", (json_int_t)oz_sql_column_int64(st, 9),
        "unit_id", oz_store_col_text(st, 10), "dataset", oz_store_col_text(st, 11), "period_s",
        oz_sql_column_double(st, 5), "candidate_id", oz_store_col_json(st, 12), "ra_deg",
        oz_store_col_json(st, 13), "dec_deg", oz_store_col_json(st, 14), "pixel",
        oz_store_col_json(st, 15), "freq_bary_hz", oz_store_col_json(st, 16));
}

json_t *oz_store_col_json(oz_sql_stmt *st, int col)
{
    switch (oz_sql_column_type(st, col)) {
    case OZ_SQL_INTEGER:
        return json_integer((json_int_t)oz_sql_column_int64(st, col));
    case OZ_SQL_FLOAT:
        return json_real(oz_sql_column_double(st, col));
    case OZ_SQL_TEXT:
        return json_string(oz_store_col_text(st, col));
    default:
        return json_null();
    }
}
