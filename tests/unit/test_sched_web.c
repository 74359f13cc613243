/*
 * test_sched_web.c - the pieces of the web pages and operator tooling that
 * need no server: log lines (log.c), the metrics' counters and exposition
 * (metrics.c), and which page a path gets (pages.c) from the embedded
 * files.  The served behaviour is tested end to end by
 * tests/integration/test_e2e_demo.sh and tests/browser/.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"
#include "metrics.h"
#include "html.h"
#include "pages.h"

static size_t fmt(char *buf, size_t len, const char *msg, ...)
{
    va_list ap;
    va_start(ap, msg);
    /* 2026-11-25T12:00:00.250Z */
    size_t n = oz_log_vformat(buf, len, 1795608000250000000LL, OZ_LOG_WARN, msg, ap);
    va_end(ap);
    return n;
}

static void log_line_is_logfmt_with_bare_and_quoted_values(void **state)
{
    (void)state;
    char buf[512];
    size_t n = fmt(buf, sizeof buf, "request failed", "path", "/api/v1/work", "status", "401",
                   "error", "no \"Authorization\" header", "empty", "", (const char *)NULL);
    assert_string_equal(buf, "ts=2026-11-25T12:00:00.250Z level=warn msg=\"request failed\""
                             " path=/api/v1/work status=401"
                             " error=\"no \\\"Authorization\\\" header\" empty=\"\"\n");
    assert_int_equal(n, strlen(buf));
}

static void log_line_escapes_control_characters(void **state)
{
    (void)state;
    char buf[512];
    fmt(buf, sizeof buf, "x", "name", "a\nlevel=error\tb\x01\\", (const char *)NULL);
    assert_string_equal(buf, "ts=2026-11-25T12:00:00.250Z level=warn msg=x"
                             " name=\"a\\nlevel=error\\tb\\x01\\\\\"\n");
    assert_non_null(strchr(buf, '\n'));
    assert_int_equal(strchr(buf, '\n') - buf, (ptrdiff_t)strlen(buf) - 1);
}

static void log_line_is_cut_within_its_buffer(void **state)
{
    (void)state;
    char big[4000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    char buf[128];
    size_t n = fmt(buf, sizeof buf, "long", "v", big, "w", "never", (const char *)NULL);
    assert_true(n < sizeof buf);
    assert_int_equal(strlen(buf), n);
    assert_true(buf[n - 1] == '\n');
    assert_non_null(strstr(buf, "...\n"));
    assert_null(strstr(buf, "never"));
    big[10] = ' '; /* quoted: the quote is closed after the cut */
    n = fmt(buf, sizeof buf, "long", "v", big, (const char *)NULL);
    assert_true(n < sizeof buf);
    assert_string_equal(buf + n - 5, "...\"\n");
}

static void log_levels_parse(void **state)
{
    (void)state;
    oz_log_level l;
    assert_int_equal(oz_log_level_parse("debug", &l), 0);
    assert_int_equal(l, OZ_LOG_DEBUG);
    assert_int_equal(oz_log_level_parse("error", &l), 0);
    assert_int_equal(l, OZ_LOG_ERROR);
    assert_int_equal(oz_log_level_parse("loud", &l), -1);
    assert_int_equal(oz_log_level_parse(NULL, &l), -1);
    assert_string_equal(oz_log_level_name(OZ_LOG_INFO), "info");
}

static void metrics_count_routes_statuses_and_latency(void **state)
{
    (void)state;
    oz_metrics *m;
    assert_int_equal(oz_metrics_new(2, 1000, &m), 0);
    oz_metrics_route_label(m, 0, "POST", "/api/v1/work");
    oz_metrics_route_label(m, 1, "GET", "/api/v1/users/{id}");
    oz_metrics_request(m, 0, 200);
    oz_metrics_request(m, 0, 200);
    oz_metrics_request(m, 1, 404);
    oz_metrics_request(m, 1, 418); /* counted as "other" */
    oz_metrics_request(m, 7, 404); /* no route */
    assert_int_equal(oz_metrics_count(m, 0, 200), 2);
    assert_int_equal(oz_metrics_count(m, 1, 404), 1);
    assert_int_equal(oz_metrics_count(m, 2, 404), 1);
    oz_metrics_observe(m, OZ_HIST_DISPATCH, 0.0004);
    oz_metrics_observe(m, OZ_HIST_DISPATCH, 0.003);
    oz_metrics_observe(m, OZ_HIST_DISPATCH, 100);
    oz_store_gauges g;
    memset(&g, 0, sizeof g);
    g.units[1] = 3;
    g.credit_total = 1.5;
    g.write_conflicts = 4;
    oz_job_health jobs[OZ_JOBS_COUNT] = {
        {.name = "transitioner", .last_pass = 1059, .passes = 60, .done = 4},
        {.name = "validator", .last_pass = 1058, .passes = 59, .done = 7, .errors = 2},
        {.name = "assimilator"},
        {.name = "checkpointer", .last_pass = 1000, .passes = 1, .done = 1},
    };
    char *text;
    size_t len;
    assert_int_equal(oz_metrics_render(m, 1, jobs, &g, 1060, &text, &len), 0);
    assert_int_equal(strlen(text), len);
    assert_non_null(strstr(text, "# TYPE ozma_http_requests_total counter\n"));
    assert_non_null(strstr(
        text, "ozma_http_requests_total{method=\"POST\",route=\"/api/v1/work\",code=\"200\"} 2\n"));
    assert_non_null(strstr(text, "route=\"/api/v1/users/{id}\",code=\"other\"} 1\n"));
    assert_non_null(strstr(text, "{method=\"any\",route=\"unmatched\",code=\"404\"} 1\n"));
    assert_non_null(strstr(text, "ozma_dispatch_seconds_bucket{le=\"0.0005\"} 1\n"));
    assert_non_null(strstr(text, "ozma_dispatch_seconds_bucket{le=\"0.005\"} 2\n"));
    assert_non_null(strstr(text, "ozma_dispatch_seconds_bucket{le=\"10\"} 2\n"));
    assert_non_null(strstr(text, "ozma_dispatch_seconds_bucket{le=\"+Inf\"} 3\n"));
    assert_non_null(strstr(text, "ozma_dispatch_seconds_count 3\n"));
    assert_non_null(strstr(text, "ozma_upload_seconds_count 0\n"));
    assert_non_null(strstr(text, "ozma_units{state=\"validated\"} 3\n"));
    assert_non_null(strstr(text, "ozma_credit_granted_total 1.5\n"));
    assert_non_null(strstr(text, "# TYPE ozma_database_write_conflicts_total counter\n"));
    assert_non_null(strstr(text, "ozma_database_write_conflicts_total 4\n"));
    assert_non_null(strstr(text, "ozma_uptime_seconds 60\n"));
    assert_non_null(strstr(text, "ozma_database_up 1\n"));
    assert_non_null(strstr(text, "# TYPE ozma_job_errors_total counter\n"));
    assert_non_null(strstr(text, "ozma_job_errors_total{job=\"validator\"} 2\n"));
    assert_non_null(strstr(text, "ozma_job_items_total{job=\"validator\"} 7\n"));
    assert_non_null(strstr(text, "ozma_job_passes_total{job=\"transitioner\"} 60\n"));
    assert_non_null(strstr(text, "ozma_job_last_pass_seconds{job=\"assimilator\"} 0\n"));
    assert_non_null(strstr(text, "ozma_job_last_pass_seconds{job=\"checkpointer\"} 1000\n"));
    free(text);
    assert_int_equal(oz_metrics_render(m, 0, NULL, NULL, 1060, &text, &len), 0);
    assert_non_null(strstr(text, "ozma_database_up 0\n"));
    assert_null(strstr(text, "ozma_units"));
    assert_null(strstr(text, "ozma_job_"));
    free(text);
    oz_metrics_free(m);
}

static void metrics_keep_the_newest_errors(void **state)
{
    (void)state;
    oz_metrics *m;
    assert_int_equal(oz_metrics_new(1, 0, &m), 0);
    char msg[32];
    for (int i = 0; i < OZ_METRICS_ERRORS + 5; i++) {
        snprintf(msg, sizeof msg, "error %d", i);
        oz_metrics_error_note(m, i, 500, "GET", "/x", msg);
    }
    json_t *j = oz_metrics_json(m);
    assert_non_null(j);
    json_t *errors = json_object_get(j, "errors");
    assert_int_equal(json_array_size(errors), OZ_METRICS_ERRORS);
    snprintf(msg, sizeof msg, "error %d", OZ_METRICS_ERRORS + 4);
    assert_string_equal(json_string_value(json_object_get(json_array_get(errors, 0), "message")),
                        msg);
    json_decref(j);
    oz_metrics_free(m);
}

static void pages_map_paths_to_files(void **state)
{
    (void)state;
    assert_string_equal(oz_pages_file_for("/"), "home.html");
    assert_string_equal(oz_pages_file_for("/users"), "board.html");
    assert_string_equal(oz_pages_file_for("/teams"), "board.html");
    assert_string_equal(oz_pages_file_for("/hosts/12"), "entity.html");
    assert_string_equal(oz_pages_file_for("/users/1"), "entity.html");
    assert_string_equal(oz_pages_file_for("/signals"), "signals.html");
    assert_string_equal(oz_pages_file_for("/status"), "status.html");
    assert_null(oz_pages_file_for("/users/0"));
    assert_null(oz_pages_file_for("/users/1/x"));
    assert_null(oz_pages_file_for("/userss"));
    assert_null(oz_pages_file_for("/users/"));
    assert_null(oz_pages_file_for(NULL));
    assert_string_equal(oz_pages_file_for("/unit/demo-000001"), "unit.html");
    assert_null(oz_pages_file_for("/unit/"));
    assert_null(oz_pages_file_for("/unit/a/b"));
}

/* What the server writes into its pages: names are escaped, ids in links
 * percent-encoded, numbers grouped, and a table is drawn from JSON rows. */
static void html_escapes_and_draws_tables(void **state)
{
    (void)state;
    oz_html h = {0};
    oz_html_text(&h, "<script>alert('x') & \"y\"</script>");
    assert_string_equal(h.buf, "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;");
    oz_html_free(&h);
    oz_html_url(&h, "a b/<c>");
    assert_string_equal(h.buf, "a%20b%2F%3Cc%3E");
    oz_html_free(&h);
    oz_html_int(&h, 1234567);
    oz_html_raw(&h, " ");
    oz_html_int(&h, -999);
    oz_html_raw(&h, " ");
    oz_html_credit(&h, 1234.6);
    oz_html_raw(&h, " ");
    oz_html_credit(&h, 0.00018);
    oz_html_raw(&h, " ");
    oz_html_time(&h, 86400);
    assert_string_equal(h.buf, "1,234,567 -999 1,235 0.0002 1970-01-02 00:00:00 UTC");
    oz_html_free(&h);

    static const oz_html_col cols[] = {
        {"Name", OZ_COL_LINK, "name", "/users/", "id", 0},
        {"Credit", OZ_COL_CREDIT, "credit", 0, 0, 0},
        {"Unit", OZ_COL_UNIT, "unit", 0, 0, 0},
        {"State", OZ_COL_STATE, "state", 0, 0, 0},
    };
    json_t *rows = json_pack("[{sI ss sf ss ss ss ss}]", "id", (json_int_t)7, "name", "<b>", "credit",
                             2.5, "unit", "u-1", "state", "over", "outcome", "success",
                             "validate_state", "valid");
    assert_non_null(rows);
    oz_html_table(&h, cols, 4, rows, "none");
    assert_non_null(strstr(h.buf, "<td><a href=\"/users/7\">&lt;b&gt;</a></td>"));
    assert_non_null(strstr(h.buf, "<td class=\"num\">2.50</td>"));
    assert_non_null(strstr(h.buf, "<a href=\"/unit/u-1\">u-1</a>"));
    assert_non_null(strstr(h.buf, "<span class=\"state-valid\">Valid</span>"));
    assert_non_null(strstr(h.buf, "<div class=\"scroll\"><table>"));
    assert_null(strstr(h.buf, "none"));
    oz_html_free(&h);
    json_array_clear(rows);
    oz_html_table(&h, cols, 4, rows, "Nobody <here>");
    assert_non_null(strstr(h.buf, "<td colspan=\"4\" class=\"muted\">Nobody &lt;here&gt;</td>"));
    oz_html_free(&h);
    json_decref(rows);
}

static void pages_are_embedded(void **state)
{
    (void)state;
    static const char *const names[] = {"home.html",   "board.html",    "entity.html", "signals.html",
                                        "status.html", "unit.html",     "notfound.html", "app.js",
                                        "style.css",   "chart.js",      "favicon.svg"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const oz_web_asset *a = oz_pages_asset(names[i]);
        assert_non_null(a);
        assert_true(a->len > 0);
    }
    const oz_web_asset *home = oz_pages_asset("home.html");
    assert_string_equal(home->type, "text/html; charset=utf-8");
    /* the pages load scripts from this origin only and have no inline script */
    char *text = strndup((const char *)home->data, home->len);
    assert_non_null(strstr(text, "<script src=\"/static/app.js\" defer></script>"));
    assert_null(strstr(text, "<script>"));
    assert_null(strstr(text, "style=\""));
    free(text);
    assert_null(oz_pages_asset("embed.cmake"));
    assert_null(oz_pages_asset("../store.c"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(log_line_is_logfmt_with_bare_and_quoted_values),
        cmocka_unit_test(log_line_escapes_control_characters),
        cmocka_unit_test(log_line_is_cut_within_its_buffer),
        cmocka_unit_test(log_levels_parse),
        cmocka_unit_test(metrics_count_routes_statuses_and_latency),
        cmocka_unit_test(metrics_keep_the_newest_errors),
        cmocka_unit_test(pages_map_paths_to_files),
        cmocka_unit_test(pages_are_embedded),
        cmocka_unit_test(html_escapes_and_draws_tables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
