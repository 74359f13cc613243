/*
 * pages.c - answers the page and /static/ routes from the embedded files
 * (pages.h).  The routes themselves are in http.c's table; by the time a
 * handler runs the path is known to be one of them.  A /static/ file is a
 * constant buffer (MHD_RESPMEM_PERSISTENT: nothing copied or freed); a page
 * is its file with each <!--oz:SLOT--> marker replaced by what
 * pages_render.c wrote for it.  A GET of a path nobody serves (outside
 * /api/) is the HTML 404 page (oz_pages_not_found).
 */
#include "pages.h"

#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "pages_render.h"

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
    if (strncmp(url, "/unit/", 6) == 0 && url[6] && !strchr(url + 6, '/'))
        return "unit.html";
    return NULL;
}

/* The headers every page and file answer carries. */
static void headers(struct MHD_Response *resp, const char *type, bool long_cache)
{
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(resp, "Content-Security-Policy", OZ_PAGES_CSP);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    /* Pages are small and change with the data: revalidate each time.
     * chart.js is large and changes only with the package. */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
                            long_cache ? "public, max-age=86400" : "no-cache");
}

/* Appends the page file a (NUL-terminated: embed.cmake ends each file
 * with a 0 byte) with its markers replaced by p's slots. */
static void fill(oz_html *out, const oz_web_asset *a, oz_page *p)
{
    const char *s = (const char *)a->data;
    for (;;) {
        const char *m = strstr(s, "<!--oz:");
        const char *close = m ? strstr(m, "-->") : NULL;
        if (!close)
            break;
        char *piece = strndup(s, (size_t)(m - s));
        if (!piece) {
            out->oom = true;
            return;
        }
        oz_html_raw(out, piece);
        free(piece);
        size_t klen = (size_t)(close - (m + 7));
        for (size_t i = 0; i < p->nslots && i < OZ_PAGE_SLOTS - 1; i++)
            if (strlen(p->slot[i].key) == klen && memcmp(p->slot[i].key, m + 7, klen) == 0 &&
                p->slot[i].html.buf)
                oz_html_raw(out, p->slot[i].html.buf);
        s = close + 3;
    }
    oz_html_raw(out, s);
}

/* Renders and sends the page file `name` for r. */
static enum MHD_Result page(oz_req *r, const char *name)
{
    oz_page p = {.file = name, .status = 200};
    oz_html out = {0};
    enum MHD_Result ret;
    oz_pages_render(r, &p);
    if (r->replied) { /* the store could not be opened: its error is queued */
        ret = r->ret;
        goto done;
    }
    oz_html *err = oz_page_slot(&p, "error");
    if (err->buf) { /* the banner: shown, with the renderer's text */
        oz_html banner = {0};
        oz_html_raw(&banner, "<div id=\"error\" class=\"error\" role=\"alert\">");
        oz_html_raw(&banner, err->buf);
        oz_html_raw(&banner, "</div>");
        oz_html_free(err);
        *err = banner;
    } else {
        oz_html_raw(err, "<div id=\"error\" class=\"error\" role=\"alert\" hidden></div>");
    }
    const oz_web_asset *a = oz_pages_asset(p.file);
    if (a)
        fill(&out, a, &p);
    if (!a || out.oom || !out.buf) {
        ret = oz_reply_error(r, 500, "out of memory");
        goto done;
    }
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(out.len, out.buf, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        ret = r->ret = MHD_NO;
        goto done;
    }
    out = (oz_html){0};  /* the response owns it */
    if (p.status >= 400) /* logged as the API's errors are */
        oz_reply_note_failure(r, p.status,
                              p.status == 404 ? "no such page" : "see the page's banner");
    headers(resp, a->type, false);
    ret = oz_reply_response(r, p.status, resp);
done:
    oz_html_free(&out);
    for (size_t i = 0; i < p.nslots; i++)
        oz_html_free(&p.slot[i].html);
    return ret;
}

enum MHD_Result oz_pages_not_found(oz_req *r)
{
    return page(r, "notfound.html");
}

enum MHD_Result oz_pages_get(oz_req *r)
{
    if (strncmp(r->url, "/static/", 8) != 0) {
        const char *name = oz_pages_file_for(r->url);
        return page(r, name ? name : "notfound.html");
    }
    const oz_web_asset *a = oz_pages_asset(r->file);
    if (!a)
        return oz_reply_error(r, 404, "no such file");
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(a->len, (void *)(uintptr_t)a->data, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return r->ret = MHD_NO;
    headers(resp, a->type, strcmp(a->name, "chart.js") == 0);
    return oz_reply_response(r, 200, resp);
}
