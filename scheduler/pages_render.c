/*
 * pages_render.c - what the server writes into its pages (pages_render.h):
 * the slots' bookkeeping, the navigation, and the home page, leaderboards,
 * signal browser, candidates list and status page.  One account, host,
 * team, unit or candidate is pages_entity.c's.
 */
#include "pages_render.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pages.h"
#include "sched_errors.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

oz_html *oz_page_slot(oz_page *p, const char *key)
{
    for (size_t i = 0; i < p->nslots; i++)
        if (strcmp(p->slot[i].key, key) == 0)
            return &p->slot[i].html;
    if (p->nslots == OZ_PAGE_SLOTS) {
        /* never sent: the last slot is the spare */
        p->slot[OZ_PAGE_SLOTS - 1].key = "";
        oz_html_free(&p->slot[OZ_PAGE_SLOTS - 1].html);
        return &p->slot[OZ_PAGE_SLOTS - 1].html;
    }
    p->slot[p->nslots].key = key;
    return &p->slot[p->nslots++].html;
}

void oz_page_title(oz_page *p, const char *text)
{
    oz_html *h = oz_page_slot(p, "title");
    oz_html_free(h);
    oz_html_text(h, text);
}

void oz_page_not_found(oz_page *p, const char *title, const char *message)
{
    p->file = "notfound.html";
    p->status = 404;
    oz_page_title(p, title);
    oz_html_text(oz_page_slot(p, "message"), message);
}

void oz_page_error(oz_page *p, const char *message)
{
    oz_html *h = oz_page_slot(p, "error");
    oz_html_free(h);
    oz_html_text(h, message);
}

/* The banner for a failed store read; true when rc is one. */
static bool failed(oz_page *p, int rc)
{
    if (rc == OZ_SCHED_OK)
        return false;
    oz_page_error(p, rc == OZ_SCHED_EINVAL ? "after: not a cursor from a previous \"next\""
                                           : "the project's database could not be read just now; "
                                             "try again in a moment");
    if (p->status == 200)
        p->status = rc == OZ_SCHED_EINVAL ? 400 : 503;
    return true;
}

static void nav(oz_req *r, oz_page *p)
{
    static const char *const items[][2] = {{"/", "Home"},
                                           {"/users", "Accounts"},
                                           {"/hosts", "Hosts"},
                                           {"/teams", "Teams"},
                                           {"/signals", "Signals"},
                                           {"/candidates", "Candidates"},
                                           {"/status", "Server status"}};
    oz_html *h = oz_page_slot(p, "nav");
    oz_html_raw(h, "<a href=\"/\" class=\"brand\">Ozma</a>");
    for (size_t i = 0; i < N(items); i++) {
        size_t n = strlen(items[i][0]);
        bool cur = i == 0 ? strcmp(r->url, "/") == 0
                          : strncmp(r->url, items[i][0], n) == 0 &&
                                (r->url[n] == '\0' || r->url[n] == '/');
        oz_html_fmt(h, "<a href=\"%s\"%s>%s</a>", items[i][0], cur ? " aria-current=\"page\"" : "",
                    items[i][1]);
    }
}

static const oz_html_col latest_cols[] = {
    {"Type", OZ_COL_TEXT, "type", 0, 0, 0},
    {"Frequency", OZ_COL_MHZ, "freq_hz", 0, 0, 0},
    {"Chirp (Hz/s)", OZ_COL_FIXED, "chirp_hz_s", 0, 0, 3},
    {"Time", OZ_COL_TEXT, "time_utc", 0, 0, 0},
    {"Score", OZ_COL_FIXED, "score", 0, 0, 2},
    {"Dataset", OZ_COL_LINK, "dataset", "/signals?dataset=", "dataset", 0},
    {"Unit", OZ_COL_UNIT, "unit_id", 0, 0, 0},
};

const oz_html_col oz_pages_signal_cols[] = {
    {"Type", OZ_COL_TEXT, "type", 0, 0, 0},
    {"Frequency", OZ_COL_MHZ, "freq_hz", 0, 0, 0},
    {"Chirp (Hz/s)", OZ_COL_FIXED, "chirp_hz_s", 0, 0, 3},
    {"Time (s)", OZ_COL_FIXED, "time_s", 0, 0, 2},
    {"Score", OZ_COL_FIXED, "score", 0, 0, 2},
    {"FFT", OZ_COL_INT, "fft_len", 0, 0, 0},
    {"Unit", OZ_COL_UNIT, "unit_id", 0, 0, 0},
    {"Candidate", OZ_COL_LINK, "candidate_id", "/candidates/", "candidate_id", 0},
};
const size_t oz_pages_signal_ncols = N(oz_pages_signal_cols);

/* A card whose value is one integer from o at path a.b (b may be NULL). */
static void card_int(oz_html *h, const char *label, const json_t *o, const char *a, const char *b)
{
    const json_t *v = json_object_get(o, a);
    if (b)
        v = json_object_get(v, b);
    oz_html value = {0};
    oz_html_int(&value, (long long)json_integer_value(v));
    oz_html_card(h, label, value.oom ? "-" : value.buf);
    oz_html_free(&value);
}

/* The totals both the home and the status page open with. */
static void status_cards(oz_html *h, const json_t *st)
{
    oz_html v = {0};
    oz_html_int(&v, (long long)json_integer_value(
                        json_object_get(json_object_get(st, "units"), "validated")));
    oz_html_raw(&v, " / ");
    oz_html_int(
        &v, (long long)json_integer_value(json_object_get(json_object_get(st, "units"), "total")));
    oz_html_card(h, "units validated", v.oom ? "-" : v.buf);
    oz_html_free(&v);
    card_int(h, "units in error", st, "units", "error");
    card_int(h, "active hosts (24 h)", st, "hosts_active", NULL);
    card_int(h, "results in the last hour", st, "results", "last_hour");
}

static void render_home(oz_req *r, oz_page *p)
{
    static const oz_html_col ds_cols[] = {
        {"Dataset", OZ_COL_LINK, "name", "/signals?dataset=", "name", 0},
        {"Units", OZ_COL_INT, "units", 0, 0, 0},
        {"Validated", OZ_COL_INT, "validated", 0, 0, 0},
        {"Validating", OZ_COL_INT, "validating", 0, 0, 0},
        {"In progress", OZ_COL_INT, "in_progress", 0, 0, 0},
        {"Unsent", OZ_COL_INT, "unsent", 0, 0, 0},
        {"Error", OZ_COL_INT, "error", 0, 0, 0},
        {"Signals", OZ_COL_INT, "signals", 0, 0, 0},
    };
    oz_page_title(p, r->srv->cfg.name);
    json_t *st = NULL, *ds = NULL, *sig = NULL;
    if (oz_reply_cached_json(r, "status", oz_api_status_make, NULL, &st) != 0 ||
        failed(p, oz_store_datasets_json(r->store, 500, NULL, &ds)) ||
        failed(p, oz_store_signals_latest_json(r->store, 10, -DBL_MAX, &sig)))
        goto done;
    oz_html *cards = oz_page_slot(p, "cards");
    status_cards(cards, st);
    card_int(cards, "accounts", st, "accounts", NULL);
    card_int(cards, "signals found", st, "signals", NULL);
    oz_html v = {0};
    oz_html_credit(&v, json_number_value(json_object_get(st, "credit_total")));
    oz_html_card(cards, "credit granted", v.oom ? "-" : v.buf);
    oz_html_free(&v);
    oz_html_table(oz_page_slot(p, "datasets"), ds_cols, N(ds_cols), json_object_get(ds, "datasets"),
                  "No dataset is loaded yet (ozma-server load).");
    oz_html_table(oz_page_slot(p, "signals"), latest_cols, N(latest_cols),
                  json_object_get(sig, "signals"), "No signal has been found yet.");
done:
    json_decref(st);
    json_decref(ds);
    json_decref(sig);
}

/* /users, /hosts, /teams: the page ?order=, ?after=, ?rank= ask for. */
static void render_board(oz_req *r, oz_page *p)
{
    static const oz_html_col users[] = {
        {"#", OZ_COL_INT, "rank", 0, 0, 0},
        {"Name", OZ_COL_LINK, "name", "/users/", "id", 0},
        {"Team", OZ_COL_LINK, "team_name", "/teams/", "team_id", 0},
        {"Total credit", OZ_COL_CREDIT, "total_credit", 0, 0, 0},
        {"Recent average", OZ_COL_CREDIT, "recent_credit", 0, 0, 0},
    };
    static const oz_html_col hosts[] = {
        {"#", OZ_COL_INT, "rank", 0, 0, 0},
        {"Name", OZ_COL_LINK, "name", "/hosts/", "id", 0},
        {"Owner", OZ_COL_LINK, "user_name", "/users/", "user_id", 0},
        {"CPUs", OZ_COL_INT, "ncpus", 0, 0, 0},
        {"Last contact", OZ_COL_TIME, "last_rpc", 0, 0, 0},
        {"Total credit", OZ_COL_CREDIT, "total_credit", 0, 0, 0},
        {"Recent average", OZ_COL_CREDIT, "recent_credit", 0, 0, 0},
    };
    static const oz_html_col teams[] = {
        {"#", OZ_COL_INT, "rank", 0, 0, 0},
        {"Name", OZ_COL_LINK, "name", "/teams/", "id", 0},
        {"Members", OZ_COL_INT, "nusers", 0, 0, 0},
        {"Total credit", OZ_COL_CREDIT, "total_credit", 0, 0, 0},
        {"Recent average", OZ_COL_CREDIT, "recent_credit", 0, 0, 0},
    };
    const char *kind = r->url + 1; /* users, hosts, teams */
    const char *o = oz_req_arg(r, "order");
    bool rac = o && strcmp(o, "rac") == 0;
    const char *after = oz_req_arg(r, "after");
    long rank0 = 1;
    const char *rank = oz_req_arg(r, "rank");
    if (rank && oz_http_int_parse(rank, 1, 1000000000L, &rank0) != 0)
        rank0 = 1;
    int64_t now = (int64_t)time(NULL);
    oz_page_title(p, kind[0] == 'u' ? "Top accounts" : kind[0] == 'h' ? "Top hosts" : "Top teams");
    if (after && !oz_http_cursor_valid(after)) {
        failed(p, OZ_SCHED_EINVAL);
        return;
    }
    oz_html *tabs = oz_page_slot(p, "tabs");
    oz_html_fmt(tabs, "<a href=\"%s?order=total\"%s>Total credit</a>", r->url,
                rac ? "" : " aria-current=\"page\"");
    oz_html_fmt(tabs, "<a href=\"%s?order=rac\"%s>Recent average credit</a>", r->url,
                rac ? " aria-current=\"page\"" : "");
    json_t *page = NULL;
    int rc = kind[0] == 'u'   ? oz_store_users_json(r->store, rac, 50, after, now, &page)
             : kind[0] == 'h' ? oz_store_hosts_json(r->store, rac, 50, after, now, &page)
             : rac            ? oz_store_teams_rac_json(r->store, 50, after, now, &page)
                              : oz_store_teams_json(r->store, 50, after, now, &page);
    if (failed(p, rc))
        return;
    json_t *rows = json_object_get(page, kind);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
        json_object_set_new(row, "rank", json_integer(rank0 + (long)i));
    oz_html_table(oz_page_slot(p, "board"),
                  kind[0] == 'u'   ? users
                  : kind[0] == 'h' ? hosts
                                   : teams,
                  kind[0] == 'u'   ? N(users)
                  : kind[0] == 'h' ? N(hosts)
                                   : N(teams),
                  rows, "Nobody here yet.");
    oz_html *pager = oz_page_slot(p, "pager");
    if (after)
        oz_html_fmt(pager, "<a href=\"%s?order=%s\">First page</a>", r->url, rac ? "rac" : "total");
    const char *next = json_string_value(json_object_get(page, "next"));
    if (next) {
        oz_html_fmt(pager, "<a href=\"%s?order=%s&amp;after=", r->url, rac ? "rac" : "total");
        oz_html_url(pager, next);
        oz_html_fmt(pager, "&amp;rank=%ld\">Next page</a>", rank0 + (long)json_array_size(rows));
    }
    json_decref(page);
}

/* <option>s of every dataset, the one ?dataset= names selected. */
static void dataset_options(oz_req *r, oz_page *p)
{
    json_t *ds = NULL;
    if (failed(p, oz_store_datasets_json(r->store, 500, NULL, &ds)))
        return;
    const char *want = oz_req_arg(r, "dataset");
    oz_html *h = oz_page_slot(p, "dataset-options");
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(ds, "datasets"), i, d)
    {
        const char *name = json_string_value(json_object_get(d, "name"));
        oz_html_raw(h, "<option value=\"");
        oz_html_text(h, name);
        oz_html_raw(h, want && name && strcmp(want, name) == 0 ? "\" selected>" : "\">");
        oz_html_text(h, name);
        oz_html_raw(h, "</option>");
    }
    json_decref(ds);
}

/* The count line of a list page. */
static void count_line(oz_page *p, size_t n, bool more, const char *noun)
{
    oz_html *h = oz_page_slot(p, "count");
    oz_html_int(h, (long long)n);
    oz_html_fmt(h, " %s%s%s", noun, n == 1 ? "" : "s",
                more ? " on this first page; with JavaScript the page fetches the rest" : "");
}

/* /signals: the filters the API accepts, then the first page of signals. */
static void render_signals(oz_req *r, oz_page *p)
{
    oz_signal_query q = {.min_score = -DBL_MAX, .limit = 100};
    q.dataset = oz_req_arg(r, "dataset");
    q.type = oz_req_arg(r, "type");
    const char *ms = oz_req_arg(r, "min_score");
    oz_html *types = oz_page_slot(p, "type-options");
    for (int t = 0; t < OZ_SIG_NTYPES; t++) {
        const char *name = oz_sig_type_name((oz_sig_type)t);
        oz_html_fmt(types, "<option%s>%s</option>",
                    q.type && strcmp(q.type, name) == 0 ? " selected" : "", name);
    }
    dataset_options(r, p);
    oz_sig_type t;
    char *end = NULL;
    if (ms && *ms) {
        errno = 0;
        q.min_score = strtod(ms, &end);
    }
    if (q.type && !*q.type)
        q.type = NULL;
    if (q.dataset && !*q.dataset)
        q.dataset = NULL;
    if ((q.dataset && !oz_wu_id_valid(q.dataset, OZ_WU_DATASET_MAX)) ||
        (q.type && oz_sig_type_parse(q.type, &t) != OZ_SCI_OK) ||
        (end && (*end || errno || !isfinite(q.min_score)))) {
        oz_page_error(p, "these filters are not valid: a dataset id, a signal type and a number");
        p->status = 400;
        return;
    }
    json_t *page = NULL;
    if (failed(p, oz_store_signals_json(r->store, &q, &page)))
        return;
    json_t *rows = json_object_get(page, "signals");
    count_line(p, json_array_size(rows), json_is_string(json_object_get(page, "next")), "signal");
    const char *none = q.dataset || q.type || ms ? "No signals match these filters yet."
                                                 : "No signals yet.";
    oz_html_table(oz_page_slot(p, "table"), oz_pages_signal_cols, oz_pages_signal_ncols, rows,
                  none);
    if (!json_array_size(rows))
        oz_html_raw(oz_page_slot(p, "plot-empty"), none); /* signals.js says the same */
    json_decref(page);
}

/* /candidates: the first page, ranked. */
static void render_candidates(oz_req *r, oz_page *p)
{
    static const oz_html_col cols[] = {
        {"#", OZ_COL_LINK, "id", "/candidates/", "id", 0},
        {"Type", OZ_COL_TEXT, "type", 0, 0, 0},
        {"Score", OZ_COL_FIXED, "score", 0, 0, 3},
        {"RFI", OZ_COL_TEXT, "rfi", 0, 0, 0},
        {"Frequency", OZ_COL_MHZ, "freq_hz", 0, 0, 0},
        {"Chirp (Hz/s)", OZ_COL_FIXED, "chirp_hz_s", 0, 0, 3},
        {"RA", OZ_COL_FIXED, "ra_deg", 0, 0, 3},
        {"Dec", OZ_COL_FIXED, "dec_deg", 0, 0, 3},
        {"Observations", OZ_COL_INT, "observations", 0, 0, 0},
        {"Detections", OZ_COL_INT, "detections", 0, 0, 0},
    };
    dataset_options(r, p);
    oz_cand_query q = {.rfi = -1, .pixel = -1, .limit = 100};
    const char *rfi = oz_req_arg(r, "rfi");
    if (rfi && (strcmp(rfi, "0") == 0 || strcmp(rfi, "1") == 0))
        q.rfi = rfi[0] - '0';
    q.dataset = oz_req_arg(r, "dataset");
    if (q.dataset && !oz_wu_id_valid(q.dataset, OZ_WU_DATASET_MAX))
        q.dataset = NULL;
    json_t *page = NULL;
    if (failed(p, oz_store_candidates_json(r->store, &q, &page)))
        return;
    json_t *rows = json_object_get(page, "candidates");
    count_line(p, json_array_size(rows), json_is_string(json_object_get(page, "next")),
               "candidate");
    oz_html_table(oz_page_slot(p, "table"), cols, N(cols), rows, "No candidate yet.");
    json_decref(page);
}

/* /status: what everyone may see; the operator's JavaScript adds the rest. */
static void render_status(oz_req *r, oz_page *p)
{
    static const char *const jobs[][3] = {
        {"transitioner", "deadlines, reissues, units ending in error", "transition"},
        {"validator", "quorum, canonical result, credit", "validate"},
        {"assimilator", "canonical signals into the signals table", "assimilate"},
    };
    static const oz_html_col cols[] = {
        {"Job", OZ_COL_TEXT, "job", 0, 0, 0},
        {"What it does", OZ_COL_TEXT, "what", 0, 0, 0},
        {"Backlog", OZ_COL_TEXT, "backlog", 0, 0, 0},
    };
    bool op = oz_req_operator(r);
    oz_html_fmt(oz_page_slot(p, "operator-note"), "<p id=\"operator-only\" class=\"muted\"%s>",
                op ? " hidden" : "");
    oz_html_fmt(oz_page_slot(p, "operator-open"), "<div id=\"operator-sections\"%s>",
                op ? "" : " hidden");
    json_t *st = NULL;
    if (oz_reply_cached_json(r, "status", oz_api_status_make, NULL, &st) != 0)
        return;
    oz_html *cards = oz_page_slot(p, "cards");
    status_cards(cards, st);
    card_int(cards, "trusted hosts", st, "adaptive", "trusted_hosts");
    json_t *queues = json_object_get(st, "queues"), *rows = json_array();
    for (size_t i = 0; rows && i < N(jobs); i++) {
        long long n = (long long)json_integer_value(json_object_get(queues, jobs[i][2]));
        char backlog[48];
        snprintf(backlog, sizeof backlog, n ? "%lld waiting" : "idle", n);
        json_array_append_new(rows, json_pack("{ss ss ss}", "job", jobs[i][0], "what", jobs[i][1],
                                              "backlog", backlog));
    }
    oz_html_table(oz_page_slot(p, "jobs"), cols, N(cols), rows, "");
    json_decref(rows);
    oz_html *q = oz_page_slot(p, "queues");
    oz_html_raw(q, "<div class=\"scroll\"><table><thead><tr><th>What</th><th class=\"num\">Size"
                   "</th></tr></thead><tbody><tr><td>replicas waiting to be sent</td>"
                   "<td class=\"num\">");
    oz_html_int(q, (long long)json_integer_value(json_object_get(queues, "unsent")));
    oz_html_raw(q, "</td></tr><tr><td>replicas in progress on hosts</td><td class=\"num\">");
    oz_html_int(q, (long long)json_integer_value(json_object_get(queues, "in_progress")));
    oz_html_raw(q, "</td></tr></tbody></table></div>");
    json_decref(st);
}

void oz_pages_render(oz_req *r, oz_page *p)
{
    nav(r, p);
    if (strcmp(p->file, "notfound.html") == 0) {
        oz_page_not_found(p, "Page not found",
                          "There is no page here. The sections above list "
                          "what this project shows.");
        return;
    }
    if (!oz_req_read_store(r))
        return; /* its error is queued (r->replied) */
    static const struct {
        const char *file;
        void (*fn)(oz_req *, oz_page *);
    } pages[] = {
        {"home.html", render_home},
        {"board.html", render_board},
        {"entity.html", oz_pages_render_entity},
        {"signals.html", render_signals},
        {"candidates.html", render_candidates},
        {"candidate.html", oz_pages_render_candidate},
        {"status.html", render_status},
        {"unit.html", oz_pages_render_unit},
    };
    for (size_t i = 0; i < N(pages); i++)
        if (strcmp(p->file, pages[i].file) == 0)
            pages[i].fn(r, p);
}
