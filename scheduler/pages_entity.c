/*
 * pages_entity.c - what the server writes into the pages of one thing
 * (pages_render.h): an account, host or team (/users|hosts|teams/{id}), a
 * unit (/unit/NAME) and a candidate (/candidates/{id}).  An unknown id is
 * the 404 page saying so, not a page waiting for data that never comes.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "pages_render.h"
#include "sched_errors.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

const oz_html_col oz_pages_result_cols[] = {
    {"Result", OZ_COL_TEXT, "replica_id", 0, 0, 0},
    {"Unit", OZ_COL_UNIT, "unit_id", 0, 0, 0},
    {"Dataset", OZ_COL_TEXT, "dataset", 0, 0, 0},
    {"Host", OZ_COL_LINK, "host_name", "/hosts/", "host_id", 0},
    {"Sent", OZ_COL_TIME, "sent", 0, 0, 0},
    {"Returned", OZ_COL_TIME, "received", 0, 0, 0},
    {"State", OZ_COL_STATE, "state", 0, 0, 0},
    {"Credit", OZ_COL_CREDIT, "credit", 0, 0, 0},
};
const size_t oz_pages_result_ncols = N(oz_pages_result_cols);

static const oz_html_col credit_cols[] = {
    {"Name", OZ_COL_LINK, "name", "/hosts/", "id", 0},
    {"Total credit", OZ_COL_CREDIT, "total_credit", 0, 0, 0},
    {"Recent average", OZ_COL_CREDIT, "recent_credit", 0, 0, 0},
};
static const oz_html_col member_cols[] = {
    {"Account", OZ_COL_LINK, "name", "/users/", "id", 0},
    {"Total credit", OZ_COL_CREDIT, "total_credit", 0, 0, 0},
    {"Recent average", OZ_COL_CREDIT, "recent_credit", 0, 0, 0},
};

/* One <dt>label</dt><dd>; the caller writes the value and dd_end(). */
static void dt(oz_html *h, const char *label)
{
    oz_html_raw(h, "<dt>");
    oz_html_text(h, label);
    oz_html_raw(h, "</dt><dd>");
}

static void fact_text(oz_html *h, const char *label, const char *text)
{
    dt(h, label);
    oz_html_text(h, text && *text ? text : "-");
    oz_html_raw(h, "</dd>");
}

static void fact_int(oz_html *h, const char *label, const json_t *v)
{
    dt(h, label);
    oz_html_int(h, (long long)json_integer_value(v));
    oz_html_raw(h, "</dd>");
}

static void fact_time(oz_html *h, const char *label, const json_t *v)
{
    dt(h, label);
    oz_html_time(h, (long long)json_integer_value(v));
    oz_html_raw(h, "</dd>");
}

/* <a href="PREFIX{id}">text</a> as a fact, "-" without an id. */
static void fact_link(oz_html *h, const char *label, const char *prefix, const json_t *id,
                      const char *text)
{
    dt(h, label);
    if (json_is_integer(id)) {
        oz_html_fmt(h, "<a href=\"%s%lld\">", prefix, (long long)json_integer_value(id));
        oz_html_text(h, text);
        oz_html_raw(h, "</a>");
    } else {
        oz_html_raw(h, "-");
    }
    oz_html_raw(h, "</dd>");
}

static void credit_card(oz_html *h, const char *label, const json_t *v)
{
    oz_html value = {0};
    oz_html_credit(&value, json_number_value(v));
    oz_html_card(h, label, value.oom ? "-" : value.buf);
    oz_html_free(&value);
}

/* The last 30 days of credit in words: the charts' text alternative. */
static void credit_text(oz_req *r, oz_page *p, oz_credit_owner kind, const json_t *o)
{
    json_t *hist = NULL;
    if (oz_store_credit_history_json(r->store, kind, r->id, (int64_t)time(NULL), 30, &hist) !=
        OZ_SCHED_OK)
        return;
    double sum = 0, best = 0;
    const char *best_day = NULL;
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(hist, "days"), i, d)
    {
        double c = json_number_value(json_object_get(d, "credit"));
        sum += c;
        if (c > best) {
            best = c;
            best_day = json_string_value(json_object_get(d, "date"));
        }
    }
    oz_html *h = oz_page_slot(p, "credit-text");
    oz_html_raw(h, "In the last 30 days: ");
    oz_html_credit(h, sum);
    oz_html_raw(h, " credit");
    if (best_day) {
        oz_html_raw(h, ", most on ");
        oz_html_text(h, best_day);
        oz_html_raw(h, " (");
        oz_html_credit(h, best);
        oz_html_raw(h, ")");
    }
    oz_html_raw(h, "; ");
    oz_html_credit(h, json_number_value(json_object_get(o, "total_credit")));
    oz_html_raw(h, " in all.");
    json_decref(hist);
}

static void results(oz_req *r, oz_page *p, bool of_host)
{
    json_t *res = NULL;
    oz_html *h = oz_page_slot(p, "results");
    oz_html_raw(h, "<h2 id=\"results-title\">Recent results</h2><div id=\"results\">");
    if (oz_store_results_json(r->store, of_host, r->id, 20, NULL, &res) == OZ_SCHED_OK)
        oz_html_table(h, oz_pages_result_cols, oz_pages_result_ncols,
                      json_object_get(res, "results"), "No results yet.");
    oz_html_raw(h, "</div>");
    json_decref(res);
}

void oz_pages_render_entity(oz_req *r, oz_page *p)
{
    const char kind = r->url[1]; /* u, h, t */
    const char *noun = kind == 'u' ? "Account" : kind == 'h' ? "Host" : "Team";
    int64_t now = (int64_t)time(NULL);
    json_t *o = NULL, *owner = NULL;
    int rc = kind == 'u'   ? oz_store_user_json(r->store, r->id, now, &o)
             : kind == 'h' ? oz_store_host_json(r->store, r->id, now, &o)
                           : oz_store_team_json(r->store, r->id, now, &o);
    char msg[96], title[96];
    if (rc == OZ_SCHED_ENOTFOUND) {
        snprintf(title, sizeof title, "No such %s", kind == 'u' ? "account" : noun);
        snprintf(msg, sizeof msg, "There is no %s %lld.",
                 kind == 'u'   ? "account"
                 : kind == 'h' ? "host"
                               : "team",
                 (long long)r->id);
        oz_page_not_found(p, title, msg);
        return;
    }
    if (rc != OZ_SCHED_OK) {
        oz_page_error(p, "the project's database could not be read just now; try again");
        p->status = 503;
        return;
    }
    oz_html t = {0};
    oz_html_fmt(&t, "%s: ", noun);
    oz_html_text(&t, json_string_value(json_object_get(o, "name")));
    oz_html *ts = oz_page_slot(p, "title");
    *ts = t; /* already escaped */
    oz_html *cards = oz_page_slot(p, "cards");
    credit_card(cards, "total credit", json_object_get(o, "total_credit"));
    credit_card(cards, "recent average credit", json_object_get(o, "recent_credit"));
    oz_html *about = oz_page_slot(p, "about");
    oz_html_raw(about, "<dl class=\"details\">");
    oz_html *list = oz_page_slot(p, "list");
    if (kind == 'u') {
        fact_link(about, "Team", "/teams/", json_object_get(o, "team_id"),
                  json_string_value(json_object_get(o, "team_name")));
        fact_time(about, "Joined", json_object_get(o, "created"));
        dt(about, "Hosts");
        oz_html_int(about, (long long)json_array_size(json_object_get(o, "hosts")));
        oz_html_raw(about, "</dd>");
        oz_html_raw(oz_page_slot(p, "list-title"), "Hosts");
        oz_html_table(list, credit_cols, N(credit_cols), json_object_get(o, "hosts"),
                      "No host attached yet.");
        results(r, p, false);
        credit_text(r, p, OZ_CREDIT_USER, o);
    } else if (kind == 'h') {
        json_t *uid = json_object_get(o, "user_id");
        oz_store_user_json(r->store, json_integer_value(uid), now, &owner);
        fact_link(about, "Owner", "/users/", uid,
                  owner ? json_string_value(json_object_get(owner, "name")) : "?");
        fact_text(about, "Operating system", json_string_value(json_object_get(o, "os")));
        fact_int(about, "CPUs", json_object_get(o, "ncpus"));
        dt(about, "Speed");
        oz_html_fmt(about, "%.2f GFLOPS per core</dd>",
                    json_number_value(json_object_get(o, "flops")) / 1e9);
        fact_time(about, "Last contact", json_object_get(o, "last_rpc"));
        fact_int(about, "Results in progress", json_object_get(o, "in_progress"));
        fact_time(about, "Registered", json_object_get(o, "created"));
        results(r, p, true);
        credit_text(r, p, OZ_CREDIT_HOST, o);
    } else {
        fact_text(about, "Description", json_string_value(json_object_get(o, "description")));
        fact_int(about, "Members", json_object_get(o, "nusers"));
        oz_html_raw(oz_page_slot(p, "list-title"), "Members");
        oz_html_table(list, member_cols, N(member_cols), json_object_get(o, "users"),
                      "No members.");
        oz_html_raw(oz_page_slot(p, "results"),
                    "<h2 id=\"results-title\" hidden>Recent results</h2><div id=\"results\" "
                    "hidden></div>");
        credit_text(r, p, OZ_CREDIT_TEAM, o);
    }
    oz_html_raw(about, "</dl>");
    json_decref(owner);
    json_decref(o);
}

/* A title "PREFIX NAME" (NAME escaped) for the <title> and the <h1>. */
static void title2(oz_page *p, const char *prefix, const char *name)
{
    oz_html *h = oz_page_slot(p, "title");
    oz_html_text(h, prefix);
    oz_html_text(h, name);
}

/* /unit/NAME: the unit, its replicas (hosts by name) and its signals. */
void oz_pages_render_unit(oz_req *r, oz_page *p)
{
    static const oz_html_col replica_cols[] = {
        {"Result", OZ_COL_TEXT, "replica_id", 0, 0, 0},
        {"Host", OZ_COL_LINK, "host_name", "/hosts/", "host_id", 0},
        {"Sent", OZ_COL_TIME, "sent", 0, 0, 0},
        {"Returned", OZ_COL_TIME, "received", 0, 0, 0},
        {"State", OZ_COL_STATE, "state", 0, 0, 0},
        {"Credit", OZ_COL_CREDIT, "credit", 0, 0, 0},
    };
    json_t *u = NULL;
    int rc = oz_wu_id_valid(r->file, OZ_WU_ID_MAX) ? oz_store_unit_json(r->store, r->file, &u)
                                                   : OZ_SCHED_ENOTFOUND;
    if (rc == OZ_SCHED_ENOTFOUND) {
        oz_page_not_found(p, "No such unit", "There is no unit ");
        oz_html *h = oz_page_slot(p, "message");
        oz_html_text(h, r->file);
        oz_html_raw(h, ".");
        return;
    }
    if (rc != OZ_SCHED_OK) {
        oz_page_error(p, "the project's database could not be read just now; try again");
        p->status = 503;
        return;
    }
    title2(p, "Unit ", r->file);
    oz_html *about = oz_page_slot(p, "about");
    oz_html_raw(about, "<dl class=\"details\">");
    const char *ds = json_string_value(json_object_get(u, "dataset"));
    dt(about, "Dataset");
    oz_html_raw(about, "<a href=\"/signals?dataset=");
    oz_html_url(about, ds);
    oz_html_raw(about, "\">");
    oz_html_text(about, ds);
    oz_html_raw(about, "</a></dd>");
    fact_text(about, "State", json_string_value(json_object_get(u, "state")));
    if (json_is_string(json_object_get(u, "error")))
        fact_text(about, "Why it ended in error", json_string_value(json_object_get(u, "error")));
    fact_int(about, "Results wanted", json_object_get(u, "target"));
    dt(about, "Canonical result");
    const json_t *canon = json_object_get(u, "canonical_replica_id");
    if (json_is_integer(canon))
        oz_html_fmt(about, "%lld", (long long)json_integer_value(canon));
    else
        oz_html_raw(about, "none yet");
    oz_html_raw(about, "</dd>");
    fact_time(about, "Finished", json_object_get(u, "finished"));
    oz_html_raw(about, "</dl>");
    oz_html_table(oz_page_slot(p, "replicas"), replica_cols, N(replica_cols),
                  json_object_get(u, "replicas"), "No replica yet.");
    oz_html_table(oz_page_slot(p, "signals"), oz_pages_signal_cols, oz_pages_signal_ncols,
                  json_object_get(u, "signals"),
                  json_is_integer(canon) ? "The canonical result holds no signal."
                                         : "No canonical result yet, so no signals.");
    json_decref(u);
}

/* /candidates/{id}: its summary, observations and detections. */
void oz_pages_render_candidate(oz_req *r, oz_page *p)
{
    static const oz_html_col obs_cols[] = {
        {"Dataset", OZ_COL_LINK, "dataset", "/signals?dataset=", "dataset", 0},
        {"Detections", OZ_COL_INT, "detections", 0, 0, 0},
        {"First (UTC)", OZ_COL_TEXT, "time_utc", 0, 0, 0},
    };
    static const oz_html_col det_cols[] = {
        {"Signal", OZ_COL_TEXT, "id", 0, 0, 0},
        {"Type", OZ_COL_TEXT, "type", 0, 0, 0},
        {"Frequency", OZ_COL_MHZ, "freq_hz", 0, 0, 0},
        {"Chirp (Hz/s)", OZ_COL_FIXED, "chirp_hz_s", 0, 0, 3},
        {"Time (s)", OZ_COL_FIXED, "time_s", 0, 0, 2},
        {"Power", OZ_COL_FIXED, "power", 0, 0, 1},
        {"Score", OZ_COL_FIXED, "score", 0, 0, 2},
        {"FFT", OZ_COL_INT, "fft_len", 0, 0, 0},
        {"Unit", OZ_COL_UNIT, "unit_id", 0, 0, 0},
    };
    json_t *c = NULL;
    int rc = oz_store_candidate_json(r->store, r->id, &c);
    char msg[64];
    if (rc == OZ_SCHED_ENOTFOUND) {
        snprintf(msg, sizeof msg, "There is no candidate %lld.", (long long)r->id);
        oz_page_not_found(p, "No such candidate", msg);
        return;
    }
    if (rc != OZ_SCHED_OK) {
        oz_page_error(p, "the project's database could not be read just now; try again");
        p->status = 503;
        return;
    }
    snprintf(msg, sizeof msg, "Candidate %lld", (long long)r->id);
    oz_page_title(p, msg);
    oz_html *d = oz_page_slot(p, "detail");
    oz_html_raw(d, "<dl class=\"details\">");
    fact_text(d, "Type", json_string_value(json_object_get(c, "type")));
    dt(d, "Score");
    oz_html_fmt(d, "%.4g</dd>", json_number_value(json_object_get(c, "score")));
    fact_text(d, "RFI",
              json_is_string(json_object_get(c, "rfi"))
                  ? json_string_value(json_object_get(c, "rfi"))
                  : "no");
    dt(d, "Frequency (topocentric)");
    oz_html_fmt(d, "%.6f MHz</dd>", json_number_value(json_object_get(c, "freq_hz")) / 1e6);
    fact_int(d, "Observations", json_object_get(c, "observations"));
    fact_int(d, "Detections", json_object_get(c, "detections"));
    oz_html_raw(d, "</dl>");
    oz_html_table(oz_page_slot(p, "observations"), obs_cols, N(obs_cols),
                  json_object_get(c, "datasets"), "None.");
    oz_html_table(oz_page_slot(p, "table"), det_cols, N(det_cols), json_object_get(c, "signals"),
                  "None.");
    json_decref(c);
}
