/*
 * stats_file.c - GET /stats/FILE: the statistics exports (stats.h), for
 * anyone, as BOINC projects serve theirs.
 *
 * Only the names stats.c writes are served (oz_stats_files): nothing else
 * in the folder, and no path.  Each is opened relative to the folder's
 * descriptor without following a link and sent by the kernel; a file is
 * replaced by rename while it may be being sent, and the open descriptor
 * keeps the old one whole.  Before the first export: 404.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "stats.h"

static const char *content_type(const char *name)
{
    size_t n = strlen(name);
    if (n > 3 && strcmp(name + n - 3, ".gz") == 0)
        return "application/gzip";
    if (n > 4 && strcmp(name + n - 4, ".xml") == 0)
        return "application/xml";
    return "application/json";
}

enum MHD_Result oz_stats_file_get(oz_req *r)
{
    const char *name = NULL;
    for (size_t i = 0; oz_stats_files[i]; i++)
        if (strcmp(r->file, oz_stats_files[i]) == 0)
            name = oz_stats_files[i];
    if (!name)
        return oz_reply_error(r, 404, "no statistics file %.64s (see API.md: /stats/)", r->file);
    int fd = openat(r->srv->stats_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        if (fd < 0 && e != ENOENT && e != ELOOP)
            return oz_reply_error(r, 500, "%s: %s", name, strerror(e));
        return oz_reply_error(r, 404, "%s has not been exported yet", name);
    }
    /* takes ownership of fd */
    struct MHD_Response *resp = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
    if (!resp) {
        close(fd);
        return oz_reply_error(r, 500, "cannot serve %s", name);
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type(name));
    return oz_reply_response(r, MHD_HTTP_OK, resp);
}
