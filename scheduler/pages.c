/*
 * pages.c - answers the page and /static/ routes from the embedded files
 * (pages.h).  The routes themselves are in http.c's table; by the time a
 * handler runs the path is known to be one of them, and the answer is a
 * constant buffer (MHD_RESPMEM_PERSISTENT: nothing copied or freed).
 */
#include "pages.h"

#include <string.h>

#include "api.h"

const oz_web_asset *oz_pages_asset(const char *name)
{
    for (size_t i = 0; name && i < oz_web_nassets; i++)
        if (strcmp(oz_web_assets[i].name, name) == 0)
            return &oz_web_assets[i];
    return NULL;
}

/* Is s "/" followed by one positive decimal id and nothing else? */
static bool id_tail(const char *s)
{
    return s[0] == '/' && oz_http_id_parse(s + 1, strlen(s + 1)) > 0;
}

const char *oz_pages_file_for(const char *url)
{
    static const char *const boards[] = {"/users", "/hosts", "/teams"};
    if (!url)
        return NULL;
    if (strcmp(url, "/") == 0)
        return "home.html";
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(boards[i]);
        if (strncmp(url, boards[i], n) != 0)
            continue;
        if (url[n] == '\0')
            return "board.html";
        if (id_tail(url + n))
            return "entity.html";
    }
    if (strcmp(url, "/signals") == 0)
        return "signals.html";
    if (strcmp(url, "/candidates") == 0)
        return "candidates.html";
    if (strncmp(url, "/candidates", 11) == 0 && id_tail(url + 11))
        return "candidate.html";
    if (strcmp(url, "/status") == 0)
        return "status.html";
    return NULL;
}

enum MHD_Result oz_pages_get(oz_req *r)
{
    const bool is_static = strncmp(r->url, "/static/", 8) == 0;
    const char *name = is_static ? r->file : oz_pages_file_for(r->url);
    const oz_web_asset *a = oz_pages_asset(name);
    if (!a)
        return oz_reply_error(r, 404, "no such page");
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(a->len, (void *)(uintptr_t)a->data, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return r->ret = MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, a->type);
    MHD_add_response_header(resp, "Content-Security-Policy", OZ_PAGES_CSP);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    /* Pages are small and change with the binary: revalidate each time.
     * chart.js is large and changes only with the package. */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
                            strcmp(a->name, "chart.js") == 0 ? "public, max-age=86400"
                                                             : "no-cache");
    return oz_reply_response(r, 200, resp);
}
