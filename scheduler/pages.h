/*
 * pages.h - the web pages (DESIGN.md §6), served from the binary.
 *
 * scheduler/web/ holds static HTML, CSS and JavaScript; the build embeds it
 * and Chart.js into a generated table (web/embed.cmake -> web_assets.c).
 * The server writes the navigation, the headline numbers and the first
 * page of each table into the page it sends (pages_render.h), so every page
 * is useful without JavaScript; the pages' JavaScript then fetches the JSON
 * API, redraws them, and adds charts and paging.  The paths:
 *
 *   /                       home.html     project progress, throughput, latest signals
 *   /users /hosts /teams    board.html    leaderboards (total and recent credit, paged)
 *   /users/{id} /hosts/{id} /teams/{id}   entity.html   one account, host or team
 *   /signals                signals.html  the signal browser
 *   /candidates, /candidates/{id}          the candidates and one candidate
 *   /status                 status.html   server status
 *   /unit/NAME              unit.html     one unit: its replicas, hosts, signals
 *   any other GET (not /api/)  notfound.html  the 404 page, with the navigation
 *   /static/NAME            any embedded file (CSS, JS, chart.js)
 *
 * Every page answer carries a Content-Security-Policy that allows scripts,
 * styles, images and fetches from this origin only and no inline script or
 * style, plus nosniff, no framing and no referrer: a string that slipped
 * past the pages' escaping (they only ever set textContent) still could
 * not run.
 */
#ifndef OZ_SCHED_PAGES_H
#define OZ_SCHED_PAGES_H

#include <stddef.h>

typedef struct oz_web_asset {
    const char *name; /* file name in scheduler/web/ ("chart.js" for Chart.js) */
    const char *type; /* Content-Type */
    const unsigned char *data;
    size_t len;
} oz_web_asset;

/* The generated table (web_assets.c). */
extern const oz_web_asset oz_web_assets[];
extern const size_t oz_web_nassets;

#define OZ_PAGES_CSP                                                                               \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "              \
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

/* The embedded file called name, or NULL. */
const oz_web_asset *oz_pages_asset(const char *name);
/* The page file for an HTML path ("/", "/users/7", ...), or NULL when url
 * is not a page path.  Pure: unit-tested. */
const char *oz_pages_file_for(const char *url);

#endif
