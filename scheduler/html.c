/*
 * html.c - the HTML buffer, escaping and tables of html.h.
 */
#include "html.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void oz_html_free(oz_html *h)
{
    free(h->buf);
    *h = (oz_html){0};
}

static bool grow(oz_html *h, size_t n)
{
    if (h->oom)
        return false;
    if (h->len + n + 1 <= h->cap)
        return true;
    size_t cap = h->cap ? h->cap : 1024;
    while (cap < h->len + n + 1)
        cap *= 2;
    char *b = realloc(h->buf, cap);
    if (!b) {
        h->oom = true;
        return false;
    }
    h->buf = b;
    h->cap = cap;
    return true;
}

static void add(oz_html *h, const char *s, size_t n)
{
    if (!grow(h, n))
        return;
    memcpy(h->buf + h->len, s, n);
    h->len += n;
    h->buf[h->len] = '\0';
}

void oz_html_raw(oz_html *h, const char *s)
{
    add(h, s, strlen(s));
}

void oz_html_text(oz_html *h, const char *s)
{
    for (const char *p = s; p && *p; p++) {
        size_t n = strcspn(p, "&<>\"'");
        add(h, p, n);
        p += n;
        if (!*p)
            break;
        const char *e = *p == '&'   ? "&amp;"
                        : *p == '<' ? "&lt;"
                        : *p == '>' ? "&gt;"
                        : *p == '"' ? "&quot;"
                                    : "&#39;";
        oz_html_raw(h, e);
    }
}

void oz_html_url(oz_html *h, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~", *p))
            add(h, (const char *)p, 1);
        else
            oz_html_fmt(h, "%%%02X", *p);
    }
}

void oz_html_fmt(oz_html *h, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !grow(h, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(h->buf + h->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    h->len += (size_t)n;
}

void oz_html_int(oz_html *h, long long v)
{
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%lld", v < 0 ? -v : v);
    if (v < 0)
        oz_html_raw(h, "-");
    for (int i = 0; i < n; i++) {
        add(h, digits + i, 1);
        if (i < n - 1 && (n - 1 - i) % 3 == 0)
            oz_html_raw(h, ",");
    }
}

void oz_html_credit(oz_html *h, double v)
{
    if (!isfinite(v))
        oz_html_raw(h, "-");
    else if (v >= 100)
        oz_html_int(h, llround(v));
    else
        oz_html_fmt(h, "%.*f", v >= 1 ? 2 : 4, v);
}

void oz_html_time(oz_html *h, long long unix_s)
{
    struct tm tm;
    time_t t = (time_t)unix_s;
    char buf[40];
    if (unix_s <= 0 || !gmtime_r(&t, &tm) ||
        !strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm))
        oz_html_raw(h, "-");
    else
        oz_html_raw(h, buf);
}

void oz_html_card(oz_html *h, const char *label, const char *value)
{
    oz_html_raw(h, "<div class=\"card\"><div class=\"value\">");
    oz_html_raw(h, value);
    oz_html_raw(h, "</div><div class=\"label\">");
    oz_html_text(h, label);
    oz_html_raw(h, "</div></div>");
}

/* A replica's state in words and its CSS class (app.js resultState). */
static void state_words(const json_t *row, const char **words, const char **cls)
{
    const char *state = json_string_value(json_object_get(row, "state"));
    const char *outcome = json_string_value(json_object_get(row, "outcome"));
    const char *v = json_string_value(json_object_get(row, "validate_state"));
    static const char *const table[][3] = {{"init", "Pending validation", "state-pending"},
                                           {"valid", "Valid", "state-valid"},
                                           {"invalid", "Invalid", "state-invalid"},
                                           {"inconclusive", "Inconclusive", "state-pending"},
                                           {"client_error", "Error", "state-error"},
                                           {"no_reply", "Timed out", "state-error"},
                                           {"didnt_need", "Not needed", ""}};
    *cls = "";
    *words = outcome ? outcome : "-";
    if (state && strcmp(state, "unsent") == 0) {
        *words = "Unsent";
        return;
    }
    if (state && strcmp(state, "in_progress") == 0) {
        *words = "In progress";
        *cls = "state-pending";
        return;
    }
    const char *key = outcome && strcmp(outcome, "success") == 0 ? v : outcome;
    for (size_t i = 0; key && i < sizeof table / sizeof table[0]; i++)
        if (strcmp(table[i][0], key) == 0) {
            *words = table[i][1];
            *cls = table[i][2];
        }
}

/* A JSON scalar as text: strings as they are, numbers in decimal. */
static void scalar(oz_html *h, const json_t *v)
{
    if (json_is_string(v))
        oz_html_text(h, json_string_value(v));
    else if (json_is_integer(v))
        oz_html_fmt(h, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        oz_html_fmt(h, "%g", json_real_value(v));
    else
        oz_html_raw(h, "-");
}

static void cell(oz_html *h, const oz_html_col *c, const json_t *row)
{
    const json_t *v = json_object_get(row, c->key);
    switch (c->kind) {
    case OZ_COL_TEXT:
        scalar(h, v);
        break;
    case OZ_COL_INT:
        if (json_is_integer(v))
            oz_html_int(h, (long long)json_integer_value(v));
        else
            oz_html_raw(h, "-");
        break;
    case OZ_COL_CREDIT:
        oz_html_credit(h, json_is_number(v) ? json_number_value(v) : NAN);
        break;
    case OZ_COL_FIXED:
        if (json_is_number(v))
            oz_html_fmt(h, "%.*f", c->digits, json_number_value(v));
        else
            oz_html_raw(h, "-");
        break;
    case OZ_COL_MHZ:
        if (json_is_number(v))
            oz_html_fmt(h, "%.6f MHz", json_number_value(v) / 1e6);
        else
            oz_html_raw(h, "-");
        break;
    case OZ_COL_TIME:
        oz_html_time(h, json_is_integer(v) ? (long long)json_integer_value(v) : 0);
        break;
    case OZ_COL_LINK:
    case OZ_COL_UNIT: {
        const json_t *target = c->kind == OZ_COL_UNIT ? v : json_object_get(row, c->link_key);
        if (json_is_null(target) || !target || json_is_null(v) || !v) {
            oz_html_raw(h, "-");
            break;
        }
        oz_html_raw(h, "<a href=\"");
        oz_html_raw(h, c->kind == OZ_COL_UNIT ? "/unit/" : c->href);
        if (json_is_string(target))
            oz_html_url(h, json_string_value(target));
        else
            scalar(h, target);
        oz_html_raw(h, "\">");
        scalar(h, v);
        oz_html_raw(h, "</a>");
        break;
    }
    case OZ_COL_STATE: {
        const char *words, *cls;
        state_words(row, &words, &cls);
        oz_html_fmt(h, "<span class=\"%s\">", cls);
        oz_html_text(h, words);
        oz_html_raw(h, "</span>");
        break;
    }
    }
}

static bool numeric(oz_html_col_kind k)
{
    return k == OZ_COL_INT || k == OZ_COL_CREDIT || k == OZ_COL_FIXED || k == OZ_COL_MHZ;
}

void oz_html_table(oz_html *h, const oz_html_col *cols, size_t ncols, const json_t *rows,
                   const char *empty)
{
    oz_html_raw(h, "<div class=\"scroll\"><table><thead><tr>");
    for (size_t i = 0; i < ncols; i++) {
        oz_html_raw(h, numeric(cols[i].kind) ? "<th class=\"num\">" : "<th>");
        oz_html_text(h, cols[i].label);
        oz_html_raw(h, "</th>");
    }
    oz_html_raw(h, "</tr></thead><tbody>");
    size_t i;
    const json_t *row;
    json_array_foreach(rows, i, row)
    {
        oz_html_raw(h, "<tr>");
        for (size_t c = 0; c < ncols; c++) {
            oz_html_raw(h, numeric(cols[c].kind) ? "<td class=\"num\">" : "<td>");
            cell(h, &cols[c], row);
            oz_html_raw(h, "</td>");
        }
        oz_html_raw(h, "</tr>");
    }
    if (json_array_size(rows) == 0) {
        oz_html_fmt(h, "<tr><td colspan=\"%zu\" class=\"muted\">", ncols);
        oz_html_text(h, empty);
        oz_html_raw(h, "</td></tr>");
    }
    oz_html_raw(h, "</tbody></table></div>");
}
