/*
 * units_file.c - GET /units/NAME.ozwu: the unit files, for anyone.
 *
 * Files are sent by the kernel (libmicrohttpd's sendfile path,
 * MHD_create_response_from_fd_at_offset64), never read into memory.  The
 * name must be a plain unit file name ([A-Za-z0-9._-]+.ozwu, no leading
 * dot): no '/', so no path can leave the units folder, and it is opened
 * with openat relative to that folder's descriptor, without following a
 * symbolic link.  A single byte range (bytes=N-, bytes=N-M, bytes=-N) gets
 * 206 with Content-Range so a broken download resumes; a range past the end
 * gets 416; anything else in Range is ignored and the whole file is sent
 * (RFC 9110 allows a server to ignore Range).  A file the file deleter
 * removed with its finished dataset (lifecycle.h) is 410 Gone.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"

bool oz_units_file_name_valid(const char *name)
{
    static const char sfx[] = ".ozwu";
    size_t n = strlen(name), s = sizeof sfx - 1;
    if (n <= s || n > OZ_WU_ID_MAX + s || name[0] == '.' || strcmp(name + n - s, sfx) != 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* Decimal digits at *p (at most 19, so no overflow); advances *p. */
static bool number(const char **p, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    size_t n = 0;
    while (*s >= '0' && *s <= '9') {
        if (++n > 19)
            return false;
        v = v * 10 + (uint64_t)(*s++ - '0');
    }
    if (n == 0)
        return false;
    *p = s;
    *out = v;
    return true;
}

int oz_http_range_parse(const char *value, uint64_t size, uint64_t *first, uint64_t *last)
{
    if (!value || strncmp(value, "bytes=", 6) != 0)
        return 0;
    const char *p = value + 6;
    uint64_t a, b;
    if (*p == '-') { /* suffix: the last N bytes */
        p++;
        if (!number(&p, &b) || *p)
            return 0;
        if (b == 0 || size == 0)
            return -1;
        *first = b >= size ? 0 : size - b;
        *last = size - 1;
        return 1;
    }
    if (!number(&p, &a) || *p != '-')
        return 0;
    p++;
    if (*p == '\0') {
        b = UINT64_MAX;
    } else {
        if (!number(&p, &b) || *p || b < a)
            return 0; /* malformed or several ranges: ignored */
    }
    if (a >= size)
        return -1;
    *first = a;
    *last = b >= size ? size - 1 : b;
    return 1;
}

/* No such file: 410 Gone when the file deleter took it (its dataset is
 * finished, lifecycle.h), else 404. */
static enum MHD_Result file_missing(oz_req *r)
{
    char unit[OZ_WU_ID_MAX + 1], why[256] = "";
    snprintf(unit, sizeof unit, "%.*s", (int)(strlen(r->file) - 5), r->file); /* less .ozwu */
    oz_store *s = oz_req_store(r);
    if (!s)
        return r->ret; /* answered */
    int64_t when = 0;
    int rc = oz_store_unit_file_gone(s, unit, &when, why, sizeof why);
    if (rc != OZ_SCHED_OK)
        return oz_reply_store(r, rc, why);
    if (when)
        return oz_reply_error(r, 410,
                              "unit file %s was deleted: its dataset is finished (%lld)",
                              r->file, (long long)when);
    return oz_reply_error(r, 404, "no unit file %s", r->file);
}

enum MHD_Result oz_units_file_get(oz_req *r)
{
    if (!oz_units_file_name_valid(r->file))
        return oz_reply_error(r, 404, "no such unit file");
    int fd = openat(r->srv->units_fd, r->file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT)
            return file_missing(r);
        if (errno == ELOOP)
            return oz_reply_error(r, 404, "no unit file %s", r->file);
        return oz_reply_error(r, 500, "%s: %s", r->file, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return oz_reply_error(r, 404, "no unit file %s", r->file);
    }
    uint64_t size = (uint64_t)st.st_size, first = 0, last = size ? size - 1 : 0;
    const char *range =
        MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_RANGE);
    int rr = oz_http_range_parse(range, size, &first, &last);
    if (rr < 0) {
        close(fd);
        struct MHD_Response *resp =
            MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        if (!resp)
            return r->ret = MHD_NO;
        char cr[48];
        snprintf(cr, sizeof cr, "bytes */%" PRIu64, size);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
        return oz_reply_response(r, MHD_HTTP_RANGE_NOT_SATISFIABLE, resp);
    }
    uint64_t len = rr > 0 ? last - first + 1 : size;
    /* takes ownership of fd */
    struct MHD_Response *resp = MHD_create_response_from_fd_at_offset64(len, fd, first);
    if (!resp) {
        close(fd);
        return oz_reply_error(r, 500, "cannot serve %s", r->file);
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
    unsigned status = MHD_HTTP_OK;
    if (rr > 0) {
        char cr[80];
        snprintf(cr, sizeof cr, "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, first, last, size);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
        status = MHD_HTTP_PARTIAL_CONTENT;
    }
    return oz_reply_response(r, status, resp);
}
