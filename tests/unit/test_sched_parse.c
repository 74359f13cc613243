/*
 * test_sched_parse.c - the scheduler's pure parsers and checks: durations
 * (load --deadline), tokens and the Bearer header (auth.c), byte ranges and
 * unit file names (units_file.c), path ids (http.c), user strings (text.c),
 * the project.json loader and in-memory parser (project.c), the routing
 * (oz_http_route_status), query integers and paging cursors (api_read.c)
 * and the rate limiter's buckets (ratelimit.c).  Each accepts exactly one
 * spelling and refuses the rest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"
#include "api.h"
#include "auth.h"
#include "load.h"
#include "project.h"
#include "ratelimit.h"
#include "sched_errors.h"
#include "text.h"

static int64_t dur(const char *s)
{
    int64_t v = -1;
    return oz_load_duration_parse(s, &v) == 0 ? v : -1;
}

static void durations_take_suffixes_and_refuse_the_rest(void **state)
{
    (void)state;
    assert_int_equal(dur("90"), 90);
    assert_int_equal(dur("90s"), 90);
    assert_int_equal(dur("15m"), 900);
    assert_int_equal(dur("12h"), 43200);
    assert_int_equal(dur("7d"), 604800);
    assert_int_equal(dur("365d"), 365 * 86400);
    const char *bad[] = {"",
                         "0",
                         "0d",
                         "-1",
                         "+5",
                         "7x",
                         "7dd",
                         "d",
                         " 7d",
                         "7d ",
                         "1.5h",
                         "366d",
                         "99999999999999999999",
                         "8761h",
                         NULL};
    for (size_t i = 0; bad[i]; i++)
        if (dur(bad[i]) != -1)
            fail_msg("\"%s\" parsed as a duration", bad[i]);
}

static void bearer_tokens_have_one_spelling(void **state)
{
    (void)state;
    const char *hex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    unsigned char tok[32];
    char buf[128];
    snprintf(buf, sizeof buf, "Bearer %s", hex);
    assert_int_equal(oz_auth_bearer_parse(buf, tok, NULL, 0), 0);
    assert_int_equal(tok[0], 0x00);
    assert_int_equal(tok[1], 0x11);
    assert_int_equal(tok[31], 0xff);
    snprintf(buf, sizeof buf, "bearer %s", hex); /* the scheme is case-insensitive */
    assert_int_equal(oz_auth_bearer_parse(buf, tok, NULL, 0), 0);
    const char *bad[] = {
        NULL,
        "",
        "Bearer",
        "Bearer ",
        "Basic 00112233",
        "Bearer  00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
        "Bearer 00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff",
        "Bearer 00112233445566778899aabbccddeeff00112233445566778899aabbccddeef",
        "Bearer 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff0",
        "Bearer 00112233445566778899aabbccddeeff00112233445566778899aabbccddeefg",
        "Bearer 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff ",
        "Bearer\t00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char why[128] = "";
        assert_int_equal(oz_auth_bearer_parse(bad[i], tok, why, sizeof why), OZ_SCHED_EAUTH);
        assert_true(why[0] != '\0');
    }
}

static void token_hashes_depend_on_the_key(void **state)
{
    (void)state;
    assert_int_equal(oz_auth_init(), 0);
    unsigned char k1[32] = {1}, k2[32] = {2}, h1[32], h2[32], h3[32], tok[32];
    char hex[65];
    assert_int_equal(oz_auth_token_new(k1, hex, h1), 0);
    assert_int_equal(strlen(hex), 64);
    assert_int_equal(oz_auth_token_parse(hex, 64, tok), 0);
    oz_auth_token_hash(k1, tok, h2);
    assert_memory_equal(h1, h2, 32);
    oz_auth_token_hash(k2, tok, h3);
    assert_memory_not_equal(h1, h3, 32);
    char hex2[65];
    unsigned char h4[32];
    oz_auth_token_new(k1, hex2, h4);
    assert_string_not_equal(hex, hex2);
}

static int range(const char *v, uint64_t size, uint64_t *a, uint64_t *b)
{
    *a = *b = 12345;
    return oz_http_range_parse(v, size, a, b);
}

static void ranges_resume_downloads(void **state)
{
    (void)state;
    uint64_t a, b;
    assert_int_equal(range("bytes=0-", 100, &a, &b), 1);
    assert_true(a == 0 && b == 99);
    assert_int_equal(range("bytes=50-", 100, &a, &b), 1);
    assert_true(a == 50 && b == 99);
    assert_int_equal(range("bytes=10-19", 100, &a, &b), 1);
    assert_true(a == 10 && b == 19);
    assert_int_equal(range("bytes=10-1000", 100, &a, &b), 1); /* clamped */
    assert_true(a == 10 && b == 99);
    assert_int_equal(range("bytes=-10", 100, &a, &b), 1);
    assert_true(a == 90 && b == 99);
    assert_int_equal(range("bytes=-1000", 100, &a, &b), 1);
    assert_true(a == 0 && b == 99);
    /* unsatisfiable: 416 */
    assert_int_equal(range("bytes=100-", 100, &a, &b), -1);
    assert_int_equal(range("bytes=100-200", 100, &a, &b), -1);
    assert_int_equal(range("bytes=-0", 100, &a, &b), -1);
    assert_int_equal(range("bytes=0-", 0, &a, &b), -1);
    /* ignored: the whole file */
    const char *ignored[] = {NULL,
                             "",
                             "bytes=",
                             "bytes=a-",
                             "bytes=5-4",
                             "bytes=0-1,5-6",
                             "items=0-",
                             "bytes=0-1 ",
                             "bytes= 0-1",
                             "bytes=--1",
                             "bytes=99999999999999999999-",
                             NULL};
    for (size_t i = 1; ignored[i]; i++)
        if (range(ignored[i], 100, &a, &b) != 0)
            fail_msg("\"%s\" was not ignored", ignored[i]);
    assert_int_equal(range(NULL, 100, &a, &b), 0);
}

static void unit_file_names_cannot_leave_the_folder(void **state)
{
    (void)state;
    assert_true(oz_units_file_name_valid("rec-000001.ozwu"));
    assert_true(oz_units_file_name_valid("A.b_c-9.ozwu"));
    const char *bad[] = {".ozwu",      "..ozwu",   ".hidden.ozwu", "../x.ozwu", "a/b.ozwu", "x.ozw",
                         "x.ozwu.tmp", "x y.ozwu", "x%2f.ozwu",    "x\n.ozwu",  "",         "ozwu",
                         NULL};
    for (size_t i = 0; bad[i]; i++)
        if (oz_units_file_name_valid(bad[i]))
            fail_msg("\"%s\" accepted", bad[i]);
    char longname[OZ_WU_ID_MAX + 7];
    memset(longname, 'a', OZ_WU_ID_MAX + 1);
    strcpy(longname + OZ_WU_ID_MAX + 1, ".ozwu");
    assert_false(oz_units_file_name_valid(longname));
    longname[OZ_WU_ID_MAX] = '\0';
    strcat(longname, ".ozwu");
    assert_true(oz_units_file_name_valid(longname));
}

static void path_ids_are_plain_positive_decimals(void **state)
{
    (void)state;
    assert_int_equal(oz_http_id_parse("1", 1), 1);
    assert_int_equal(oz_http_id_parse("42x", 2), 42); /* only len bytes are read */
    assert_int_equal(oz_http_id_parse("9007199254740992", 16), 9007199254740992LL);
    const char *bad[] = {
        "0", "01", "-1", "+1", "1a", "", " 1", "9007199254740993", "99999999999999999", NULL};
    for (size_t i = 0; bad[i]; i++)
        if (oz_http_id_parse(bad[i], strlen(bad[i])) != 0)
            fail_msg("\"%s\" parsed as an id", bad[i]);
}

static void user_strings_follow_the_api_rule(void **state)
{
    (void)state;
    assert_true(oz_text_valid("alice", 64));
    assert_true(oz_text_valid("Zoë Ångström 日本", 64));
    assert_true(oz_text_valid("\xf0\x9f\x93\xa1", 1)); /* one 4-byte character */
    char s65[66];
    memset(s65, 'x', 65);
    s65[65] = '\0';
    assert_false(oz_text_valid(s65, 64));
    s65[64] = '\0';
    assert_true(oz_text_valid(s65, 64));
    const char *bad[] = {"",
                         "a\tb",
                         "a\nb",
                         "\x7f",
                         "\xc2\x85",
                         "\xff",
                         "\xc0\xaf",
                         "\xe0\x80\xaf",
                         "\xed\xa0\x80",
                         "\xf4\x90\x80\x80",
                         "\xc3",
                         "a\xe6\x97",
                         NULL};
    for (size_t i = 0; bad[i]; i++)
        if (oz_text_valid(bad[i], 64))
            fail_msg("bad string %zu accepted", i);
    assert_false(oz_text_valid(NULL, 64));
}

static int load_text(const char *text, oz_project_config *c, char *why, size_t whylen)
{
    char path[] = "/tmp/test_sched_parse_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    int rc = oz_project_config_load(path, c, why, whylen);
    unlink(path);
    return rc;
}

static void project_config_is_strict(void **state)
{
    (void)state;
    oz_project_config c, d;
    char why[256];
    oz_project_config_default(&c);
    assert_string_equal(c.bind, "127.0.0.1");
    assert_int_equal(c.port, 8080);
    assert_int_equal(c.http_threads, 16);
    assert_int_equal(c.max_in_progress_per_cpu, 4);
    assert_int_equal(c.max_hosts_per_account, 100);
    assert_int_equal(c.max_ncpus, 64);
    assert_int_equal(c.new_host_ncpus, 4);
    assert_int_equal(c.daily_result_quota, 100);
    assert_int_equal(c.max_hosts_per_account_day, 10);
    assert_true(c.rate_per_host == 20 && c.rate_burst == 100);
    /* slow clients are bounded by default (issue 21) */
    assert_int_equal(c.per_ip_connection_limit, 64);
    assert_int_equal(c.header_timeout_s, 10);
    assert_int_equal(c.body_min_rate, 8192);
    /* public reads limited per address, status and throughput kept 1 s */
    assert_true(c.read_rate == 20 && c.read_burst == 200 && c.read_cache_s == 1);

    /* what init writes reads back the same */
    json_t *j = oz_project_config_to_json(&c);
    char *text = json_dumps(j, 0);
    json_decref(j);
    oz_project_config_default(&d);
    d.port = 1;
    assert_int_equal(load_text(text, &d, why, sizeof why), 0);
    free(text);
    assert_memory_equal(&c, &d, sizeof c);

    assert_int_equal(load_text("{\"port\": 0, \"bind\": \"::1\", \"rate_per_host\": 1e4,"
                               " \"per_ip_connection_limit\": 0, \"header_timeout_s\": 3,"
                               " \"body_min_rate\": 0, \"name\": \"SETI ☆\"}",
                               &d, why, sizeof why),
                     0);
    assert_int_equal(d.port, 0);
    assert_string_equal(d.bind, "::1");
    assert_true(d.rate_per_host == 1e4);
    assert_int_equal(d.per_ip_connection_limit, 0);
    assert_int_equal(d.header_timeout_s, 3);
    assert_int_equal(d.body_min_rate, 0);
    assert_string_equal(d.name, "SETI ☆");
    assert_string_equal(c.units_url, ""); /* the scheduler serves the files */

    /* units_url: http(s), a '/' added at the end when missing; "" again
     * for the scheduler's own /units/ */
    assert_int_equal(load_text("{\"units_url\": \"https://files.example.org:8443/ozma/units\"}", &d,
                               why, sizeof why),
                     0);
    assert_string_equal(d.units_url, "https://files.example.org:8443/ozma/units/");
    assert_int_equal(load_text("{\"units_url\": \"http://[::1]/u/\"}", &d, why, sizeof why), 0);
    assert_string_equal(d.units_url, "http://[::1]/u/");
    assert_int_equal(load_text("{\"units_url\": \"\"}", &d, why, sizeof why), 0);
    assert_string_equal(d.units_url, "");
    char longest[OZ_PROJECT_URL_MAX + 32];
    int k = snprintf(longest, sizeof longest, "{\"units_url\": \"http://h/");
    memset(longest + k, 'a', OZ_PROJECT_URL_MAX - 10);
    snprintf(longest + k + OZ_PROJECT_URL_MAX - 10, 8, "\"}");
    assert_int_equal(load_text(longest, &d, why, sizeof why), 0); /* 9 + 502 + '/' */
    assert_int_equal(strlen(d.units_url), OZ_PROJECT_URL_MAX);
    snprintf(longest + k + OZ_PROJECT_URL_MAX - 10, 8, "a\"}");
    assert_int_not_equal(load_text(longest, &d, why, sizeof why), 0);

    struct {
        const char *text, *names;
    } bad[] = {
        {"{\"prot\": 80}", "prot"},
        {"{\"port\": 65536}", "port"},
        {"{\"port\": \"80\"}", "port"},
        {"{\"port\": 80.5}", "port"},
        {"{\"http_threads\": 0}", "http_threads"},
        {"{\"header_timeout_s\": 0}", "header_timeout_s"},
        {"{\"body_min_rate\": -1}", "body_min_rate"},
        {"{\"read_rate\": 0}", "read_rate"},
        {"{\"read_burst\": 0.5}", "read_burst"},
        {"{\"read_cache_s\": -1}", "read_cache_s"},
        {"{\"max_hosts_per_account\": 0}", "max_hosts_per_account"},
        {"{\"max_hosts_per_account_day\": 0}", "max_hosts_per_account_day"},
        {"{\"max_ncpus\": 1025}", "max_ncpus"},
        {"{\"new_host_ncpus\": 0}", "new_host_ncpus"},
        {"{\"daily_result_quota\": 0}", "daily_result_quota"},
        {"{\"rate_per_host\": 0}", "rate_per_host"},
        {"{\"rate_burst\": 0.5}", "rate_burst"},
        {"{\"bind\": \"localhost\"}", "bind"},
        {"{\"bind\": \"1.2.3.4.5\"}", "bind"},
        {"{\"units_url\": \"ftp://files.example.org/units/\"}", "units_url"},
        {"{\"units_url\": \"files.example.org/units/\"}", "units_url"},
        {"{\"units_url\": \"http://\"}", "units_url"},
        {"{\"units_url\": \"http:///units/\"}", "units_url"},
        {"{\"units_url\": \"http://h/units/?sig=1\"}", "units_url"},
        {"{\"units_url\": \"http://h/a b/\"}", "units_url"},
        {"{\"units_url\": \"http://h/\\\"x/\"}", "units_url"},
        {"{\"units_url\": \"http://h/../etc/\"}", "units_url"},
        {"{\"units_url\": \"http://user@h/units/\"}", "units_url"},
        {"{\"units_url\": 1}", "units_url"},
        {"{\"name\": \"\"}", "name"},
        {"{\"name\": \"a\\u0001\"}", "name"},
        {"{\"version\": 2}", "version"},
        {"{\"body_limit_json\": 1000000}", "body_limit_json"},
        {"{\"port\": 1, \"port\": 2}", "port"},
        {"[1]", "object"},
        {"{", "line"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        oz_project_config_default(&d);
        oz_project_config keep = d;
        why[0] = '\0';
        if (load_text(bad[i].text, &d, why, sizeof why) == 0)
            fail_msg("accepted %s", bad[i].text);
        if (!strstr(why, bad[i].names))
            fail_msg("%s: message \"%s\" does not name %s", bad[i].text, why, bad[i].names);
        assert_memory_equal(&d, &keep, sizeof d); /* untouched on failure */
    }
    assert_int_equal(oz_project_config_load("/nonexistent/project.json", &d, why, sizeof why),
                     OZ_SCHED_ENOTFOUND);
}

static int route(const char *method, const char *url, int64_t *id, const char **file, char *allow,
                 size_t allowlen)
{
    return oz_http_route_status(method, url, id, file, allow, allowlen);
}

static void routes_answer_their_methods_and_name_the_others(void **state)
{
    (void)state;
    int64_t id;
    const char *file;
    char allow[64];
    assert_int_equal(route("POST", "/api/v1/work", &id, &file, allow, sizeof allow), 200);
    assert_int_equal(id, 0);
    assert_null(file);
    assert_int_equal(route("PUT", "/api/v1/replicas/42/result", &id, &file, allow, sizeof allow),
                     200);
    assert_int_equal(id, 42);
    assert_int_equal(route("POST", "/api/v1/teams/7/join", &id, &file, allow, sizeof allow), 200);
    assert_int_equal(id, 7);
    /* HEAD is answered wherever GET is */
    assert_int_equal(route("HEAD", "/api/v1/status", &id, &file, allow, sizeof allow), 200);
    assert_int_equal(route("GET", "/units/rec-000001.ozwu", &id, &file, allow, sizeof allow), 200);
    assert_string_equal(file, "rec-000001.ozwu");
    assert_int_equal(route("GET", "/static/app.js", &id, &file, allow, sizeof allow), 200);
    assert_string_equal(file, "app.js");
    /* ids: 1 .. 2^53, plain decimals */
    assert_int_equal(
        route("GET", "/api/v1/hosts/9007199254740992", &id, &file, allow, sizeof allow), 200);
    assert_int_equal(id, INT64_C(9007199254740992));

    /* a known path with another method: 405 naming the methods it has */
    assert_int_equal(route("GET", "/api/v1/replicas/42/result", &id, &file, allow, sizeof allow),
                     405);
    assert_string_equal(allow, "PUT");
    assert_int_equal(route("DELETE", "/api/v1/teams", &id, &file, allow, sizeof allow), 405);
    assert_string_equal(allow, "POST, GET");
    assert_int_equal(route("get", "/api/v1/status", &id, &file, allow, sizeof allow), 405);
    assert_string_equal(allow, "GET");
    /* a short allow buffer is cut, never overrun, and still 405 */
    char small[3] = {'x', 'x', 'x'};
    assert_int_equal(route("GET", "/api/v1/work", &id, &file, small, 3), 405);
    assert_string_equal(small, "PO");

    /* what is not a route: 404, with nothing allowed */
    assert_int_equal(route("GET", "/", &id, &file, allow, sizeof allow), 200); /* home page */
    const char *none[] = {"",
                          "/api/v1/status/",
                          "//api/v1/status",
                          "/api/v1/STATUS",
                          "/api/v1/status?x=1", /* the query is never part of the url */
                          "/api/v1/hosts/0",
                          "/api/v1/hosts/01",
                          "/api/v1/hosts/-1",
                          "/api/v1/hosts/+1",
                          "/api/v1/hosts/1x",
                          "/api/v1/hosts/9007199254740993",
                          "/api/v1/hosts/99999999999999999999",
                          "/api/v1/hosts/",
                          "/api/v1/replicas//result",
                          "/units/",
                          "/units/a/b.ozwu",
                          "/api/v1/work/x",
                          "api/v1/work"};
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
        memset(allow, 'x', sizeof allow);
        int st = route("GET", none[i], &id, &file, allow, sizeof allow);
        if (st != 404 || allow[0] != '\0')
            fail_msg("\"%s\": %d, allow \"%.20s\"", none[i], st, allow);
        assert_int_equal(route("POST", none[i], &id, &file, allow, sizeof allow), 404);
    }
}

static long qint(const char *v, long min, long max)
{
    long out = -12345;
    return oz_http_int_parse(v, min, max, &out) == 0 ? out : -12345;
}

static void query_integers_are_plain_decimals_in_range(void **state)
{
    (void)state;
    assert_int_equal(qint("1", 1, 500), 1);
    assert_int_equal(qint("500", 1, 500), 500);
    assert_int_equal(qint("60", 60, 86400), 60);
    assert_int_equal(qint("86400", 60, 86400), 86400);
    assert_int_equal(qint("007", 1, 500), 7); /* leading zeros are the same number */
    const char *bad[] = {"0",
                         "501",
                         "",
                         " 1",
                         "1 ",
                         "\t5",
                         "\n5",
                         "+1",
                         "-1",
                         "-0",
                         "1.0",
                         "1e2",
                         "0x10",
                         "1,2",
                         "one",
                         "５",
                         "1\x01",
                         "99999999999999999999",
                         "-99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (qint(bad[i], 1, 500) != -12345)
            fail_msg("\"%s\" accepted as %ld", bad[i], qint(bad[i], 1, 500));
    /* no sign even where the range would hold it (the API's rule); before
     * the fix strtol's leading white space passed: ?limit=%095 was 5 */
    assert_int_equal(qint("-1", -5, 5), -12345);
    long out = 77;
    assert_int_equal(oz_http_int_parse("x", 1, 500, &out), -1);
    assert_int_equal(out, 77); /* untouched on failure */
}

static void paging_cursors_are_short_printable_ascii(void **state)
{
    (void)state;
    char c64[65], c65[66];
    memset(c64, 'a', 64);
    c64[64] = '\0';
    memset(c65, 'a', 65);
    c65[65] = '\0';
    assert_true(oz_http_cursor_valid("a"));
    assert_true(oz_http_cursor_valid("eyJ0IjoxLCJpZCI6Mn0"));
    assert_true(oz_http_cursor_valid("!~"));
    assert_true(oz_http_cursor_valid(c64));
    assert_false(oz_http_cursor_valid(c65));
    assert_false(oz_http_cursor_valid(""));
    assert_false(oz_http_cursor_valid("a b"));
    assert_false(oz_http_cursor_valid("a\tb"));
    assert_false(oz_http_cursor_valid("a\x7f"));
    assert_false(oz_http_cursor_valid("caf\xc3\xa9"));
}

static void project_config_parses_only_the_bytes_it_is_given(void **state)
{
    (void)state;
    oz_project_config c, keep;
    char why[256];
    /* len bounds the read: what follows is not looked at */
    static const char text[] = "{\"port\": 81}trailing garbage";
    oz_project_config_default(&c);
    assert_int_equal(oz_project_config_parse(text, 12, "mem.json", &c, why, sizeof why), 0);
    assert_int_equal(c.port, 81);
    /* ... and nothing past it is read, a document cut short is refused */
    oz_project_config_default(&c);
    keep = c;
    assert_int_not_equal(oz_project_config_parse(text, 11, "mem.json", &c, why, sizeof why), 0);
    assert_memory_equal(&c, &keep, sizeof c);
    assert_true(strncmp(why, "mem.json", 8) == 0);
    /* a NUL inside the document, empty input, not JSON */
    static const char nul[] = "{\"port\": 81}\0";
    assert_int_not_equal(
        oz_project_config_parse(nul, sizeof nul - 1, "n.json", &c, why, sizeof why), 0);
    assert_true(strncmp(why, "n.json", 6) == 0);
    assert_int_not_equal(oz_project_config_parse("", 0, "e.json", &c, why, sizeof why), 0);
    assert_int_not_equal(oz_project_config_parse("\xff\xfe{}", 4, "b.json", &c, why, sizeof why),
                         0);
    assert_memory_equal(&c, &keep, sizeof c);
    /* the size limit: exactly OZ_PROJECT_CONFIG_MAX bytes is read, one more is not */
    char *big = malloc(OZ_PROJECT_CONFIG_MAX + 1);
    assert_non_null(big);
    memset(big, ' ', OZ_PROJECT_CONFIG_MAX + 1);
    memcpy(big, "{\"port\": 82}", 12);
    assert_int_equal(
        oz_project_config_parse(big, OZ_PROJECT_CONFIG_MAX, "big.json", &c, why, sizeof why), 0);
    assert_int_equal(c.port, 82);
    oz_project_config_default(&c);
    assert_int_equal(
        oz_project_config_parse(big, OZ_PROJECT_CONFIG_MAX + 1, "big.json", &c, why, sizeof why),
        OZ_SCHED_EINVAL);
    assert_string_equal(why, "big.json: more than 65536 bytes");
    free(big);
}

static void rate_limits_refill_and_separate_clients(void **state)
{
    (void)state;
    oz_ratelimit *rl;
    assert_int_equal(oz_ratelimit_new(10, 5, 64, &rl), 0);
    int retry = 0;
    for (int i = 0; i < 5; i++)
        assert_true(oz_ratelimit_take(rl, OZ_RL_HOST(1), 100.0, &retry));
    assert_false(oz_ratelimit_take(rl, OZ_RL_HOST(1), 100.0, &retry));
    assert_int_equal(retry, 1);
    assert_true(oz_ratelimit_take(rl, OZ_RL_HOST(2), 100.0, &retry));    /* another host */
    assert_true(oz_ratelimit_take(rl, OZ_RL_ACCOUNT(1), 100.0, &retry)); /* another space */
    assert_false(oz_ratelimit_take(rl, OZ_RL_HOST(1), 100.05, &retry));
    assert_true(oz_ratelimit_take(rl, OZ_RL_HOST(1), 100.1, &retry)); /* one token back */
    assert_false(oz_ratelimit_take(rl, OZ_RL_HOST(1), 100.1, &retry));
    /* many clients in a tiny table: nobody is refused on a first request */
    for (uint64_t k = 10; k < 10000; k++)
        assert_true(oz_ratelimit_take(rl, OZ_RL_HOST(k), 200.0, &retry));
    oz_ratelimit_free(rl);

    assert_int_equal(oz_ratelimit_new(0.01, 1, 64, &rl), 0); /* slow refill: long Retry-After */
    assert_true(oz_ratelimit_take(rl, 7, 0.0, &retry));
    assert_false(oz_ratelimit_take(rl, 7, 0.0, &retry));
    assert_int_equal(retry, 100);
    oz_ratelimit_free(rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(durations_take_suffixes_and_refuse_the_rest),
        cmocka_unit_test(bearer_tokens_have_one_spelling),
        cmocka_unit_test(token_hashes_depend_on_the_key),
        cmocka_unit_test(ranges_resume_downloads),
        cmocka_unit_test(unit_file_names_cannot_leave_the_folder),
        cmocka_unit_test(path_ids_are_plain_positive_decimals),
        cmocka_unit_test(user_strings_follow_the_api_rule),
        cmocka_unit_test(project_config_is_strict),
        cmocka_unit_test(routes_answer_their_methods_and_name_the_others),
        cmocka_unit_test(query_integers_are_plain_decimals_in_range),
        cmocka_unit_test(paging_cursors_are_short_printable_ascii),
        cmocka_unit_test(project_config_parses_only_the_bytes_it_is_given),
        cmocka_unit_test(rate_limits_refill_and_separate_clients),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
