/*
 * fuzz_http_path.c - libFuzzer target for what the scheduler makes of a
 * request line: "METHOD URL[?QUERY]" with the routing of begin()
 * (oz_http_route_status: the {id} and {file} segments), and each query
 * value, unescaped as libmicrohttpd does, through the checks the handlers
 * apply to it (integers in a range, paging cursors, Range headers, unit
 * file names).  Nothing may crash, and what is accepted must be what the
 * checks promise: an id in 1..2^53, a file that is the URL's last segment,
 * 405 only with the methods that are allowed.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_value(const char *v)
{
    long x;
    if (oz_http_int_parse(v, 1, 500, &x) == 0 && (x < 1 || x > 500))
        __builtin_trap();
    if (oz_http_cursor_valid(v) && (strlen(v) == 0 || strlen(v) > 64))
        __builtin_trap();
    uint64_t first, last;
    int rc = oz_http_range_parse(v, 1000, &first, &last);
    if (rc == 1 && (first > last || last >= 1000))
        __builtin_trap();
    if (oz_units_file_name_valid(v) && (v[0] == '.' || strchr(v, '/')))
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = malloc(size + 1);
    if (!line)
        return 0;
    if (size)
        memcpy(line, data, size);
    line[size] = '\0';
    char *url = strchr(line, ' ');
    const char *method = "GET";
    if (url) {
        *url++ = '\0';
        method = line;
    } else {
        url = line;
    }
    char *query = strchr(url, '?');
    if (query)
        *query++ = '\0';

    int64_t id;
    const char *file;
    char allow[32];
    int status = oz_http_route_status(method, url, &id, &file, allow, sizeof allow);
    if (status == 200) {
        if (id < 0 || id > ((int64_t)1 << 53))
            __builtin_trap();
        if (file && (file < url || file >= url + strlen(url) || strchr(file, '/')))
            __builtin_trap();
    } else if ((status == 405) != (allow[0] != '\0') || (status != 404 && status != 405)) {
        __builtin_trap();
    }
    check_value(url);

    for (char *arg = query, *next; arg; arg = next) {
        next = strchr(arg, '&');
        if (next)
            *next++ = '\0';
        char *val = strchr(arg, '=');
        if (val)
            *val++ = '\0';
        MHD_http_unescape(arg);
        check_value(arg);
        if (val) {
            MHD_http_unescape(val);
            check_value(val);
        }
    }
    free(line);
    return 0;
}
