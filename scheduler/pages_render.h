/*
 * pages_render.h - the part of each page the server writes itself
 * (internal to pages*.c).  A page file (scheduler/web/NAME.html) holds
 * markers <!--oz:SLOT-->; pages.c replaces each with that slot's HTML, which
 * the renderers here fill from the same store reads the JSON API answers
 * with: the navigation, the headline numbers and the first page of each
 * table, so that a page is useful before (or without) its JavaScript, which
 * then redraws them and adds charts and paging.  A slot nobody filled
 * becomes nothing.
 */
#ifndef OZ_SCHED_PAGES_RENDER_H
#define OZ_SCHED_PAGES_RENDER_H

#include "api.h"
#include "html.h"

#define OZ_PAGE_SLOTS 16

typedef struct oz_page {
    const char *file; /* the page file; a renderer may switch it (to notfound.html) */
    unsigned status;  /* 200 unless a renderer says otherwise */
    size_t nslots;
    struct {
        const char *key;
        oz_html html;
    } slot[OZ_PAGE_SLOTS];
} oz_page;

/* The slot called key (made on first use; a static string), or a spare
 * that is never sent when all are taken. */
oz_html *oz_page_slot(oz_page *p, const char *key);
/* Sets the title slot (the <title> and the <h1>) to text (escaped). */
void oz_page_title(oz_page *p, const char *text);
/* Switches p to the 404 page with its heading and one sentence (text). */
void oz_page_not_found(oz_page *p, const char *title, const char *message);
/* The error banner's text, shown (store failures while rendering). */
void oz_page_error(oz_page *p, const char *message);

/* Fills p's slots for its file from r (its path, query, store).  Store
 * failures become the page's error banner. */
void oz_pages_render(oz_req *r, oz_page *p);
/* The renderers of pages_entity.c: /users|hosts|teams/{id}, /unit/NAME,
 * /candidates/{id}. */
void oz_pages_render_entity(oz_req *r, oz_page *p);
void oz_pages_render_unit(oz_req *r, oz_page *p);
void oz_pages_render_candidate(oz_req *r, oz_page *p);

/* The column lists both renderers share. */
extern const oz_html_col oz_pages_result_cols[];
extern const size_t oz_pages_result_ncols;
extern const oz_html_col oz_pages_signal_cols[];
extern const size_t oz_pages_signal_ncols;

#endif
