/*
 * sqlite_candidates.c - candidates in the store: grouping a unit's new
 * signals as the assimilator inserts them, and reading candidates for the
 * API (store.h; the rules themselves are candidates.c's).
 *
 * Grouping is union-find over the signals table: signals.candidate_id
 * names the component.  An arriving signal looks up every stored signal it
 * links to (track links through signals_time, persistence links through
 * signals_bary), and all their candidates become one, the lowest id
 * surviving.  Every link is looked at when the later of its two signals
 * arrives, so the partition is the connected components of the link graph
 * whatever the order; a candidate's summary (key, strongest detection,
 * counts) and its RFI verdict and score are recomputed from the stored
 * rows whenever they may have changed, so they too depend only on the set.
 * Row ids are the one thing order decides; the key names a candidate
 * independently of them.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candidates.h"
#include "sqlite_internal.h"

/* A growable list of ids (candidates to merge, to update). */
typedef struct idset {
    int64_t *v;
    size_t n, cap;
} idset;

static int idset_add(idset *s, int64_t id)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        int64_t *v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return OZ_SCHED_ENOMEM;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = id;
    return OZ_SCHED_OK;
}

/* Sorted, without repeats. */
static void idset_uniq(idset *s)
{
    if (s->n < 2)
        return;
    qsort(s->v, s->n, sizeof *s->v, oz_store_id_cmp);
    size_t k = 1;
    for (size_t i = 1; i < s->n; i++)
        if (s->v[i] != s->v[k - 1])
            s->v[k++] = s->v[i];
    s->n = k;
}

typedef struct newsig {
    int64_t id;
    oz_cand_sig g;
    bool has_pixel, has_bary;
    int64_t pixel;
    double freq_bary_hz;
    double fs;
} newsig;

/* The unit's signals, as inserted, into *out (malloc'd). */
static int unit_signals(oz_store *s, int64_t unit, newsig **out, size_t *n, char *why,
                        size_t whylen)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = oz_store_stmt(
        s,
        "SELECT g.id, g.dataset_id, g.freq_hz, g.chirp_hz_s, g.time_s, g.power, g.score,"
        " d.sample_rate, g.fft_len, g.pixel, g.freq_bary_hz FROM signals g"
        " JOIN datasets d ON d.id = g.dataset_id WHERE g.unit_id = ? ORDER BY g.id",
        why, whylen);
    if (!st)
        return OZ_SCHED_EDB;
    sqlite3_bind_int64(st, 1, unit);
    size_t cap = 0;
    int step, rc = OZ_SCHED_OK;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            newsig *v = realloc(*out, cap * sizeof *v);
            if (!v) {
                rc = oz_sched_fail(OZ_SCHED_ENOMEM, why, whylen, "out of memory");
                break;
            }
            *out = v;
        }
        newsig *x = &(*out)[(*n)++];
        int64_t fft = sqlite3_column_int64(st, 8);
        x->id = sqlite3_column_int64(st, 0);
        x->fs = sqlite3_column_double(st, 7);
        x->g = (oz_cand_sig){.dataset_id = sqlite3_column_int64(st, 1),
                             .freq_hz = sqlite3_column_double(st, 2),
                             .chirp_hz_s = sqlite3_column_double(st, 3),
                             .time_s = sqlite3_column_double(st, 4),
                             .power = sqlite3_column_double(st, 5),
                             .score = sqlite3_column_double(st, 6),
                             .bin_hz = x->fs / (double)(fft > 0 ? fft : 1)};
        x->has_pixel = sqlite3_column_type(st, 9) != SQLITE_NULL;
        x->has_bary = x->has_pixel && sqlite3_column_type(st, 10) != SQLITE_NULL;
        x->pixel = sqlite3_column_int64(st, 9);
        x->freq_bary_hz = sqlite3_column_double(st, 10);
    }
    if (rc == OZ_SCHED_OK && step != SQLITE_DONE)
        rc = oz_store_dberr(s, "candidates", why, whylen);
    sqlite3_reset(st);
    return rc;
}

/* The candidates of the stored signals x links to, into L. */
static int links(oz_store *s, const oz_cand_config *c, const newsig *x, double gap, idset *L,
                 char *why, size_t whylen)
{
    double span = c->link_gap_units > 0 ? gap / c->link_gap_units : 0; /* the unit length */
    sqlite3_stmt *st =
        oz_store_stmt(s,
                      "SELECT candidate_id, freq_hz, chirp_hz_s, time_s, fft_len FROM signals"
                      " INDEXED BY signals_time WHERE dataset_id = ?1 AND time_s BETWEEN ?2 AND ?3"
                      " AND candidate_id IS NOT NULL",
                      why, whylen);
    if (!st)
        return OZ_SCHED_EDB;
    sqlite3_bind_int64(st, 1, x->g.dataset_id);
    sqlite3_bind_double(st, 2, x->g.time_s - gap);
    sqlite3_bind_double(st, 3, x->g.time_s + gap);
    int step, rc = OZ_SCHED_OK;
    while (rc == OZ_SCHED_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t fft = sqlite3_column_int64(st, 4);
        oz_cand_sig o = {.dataset_id = x->g.dataset_id,
                         .freq_hz = sqlite3_column_double(st, 1),
                         .chirp_hz_s = sqlite3_column_double(st, 2),
                         .time_s = sqlite3_column_double(st, 3),
                         .bin_hz = x->fs / (double)(fft > 0 ? fft : 1)};
        if (oz_cand_track_link(c, &x->g, &o, gap, span))
            rc = idset_add(L, sqlite3_column_int64(st, 0));
    }
    if (rc == OZ_SCHED_OK && step != SQLITE_DONE)
        rc = oz_store_dberr(s, "candidates", why, whylen);
    sqlite3_reset(st);
    if (rc != OZ_SCHED_OK || !x->has_bary)
        return rc;
    if (!(st = oz_store_stmt(s,
                             "SELECT DISTINCT candidate_id FROM signals INDEXED BY signals_bary"
                             " WHERE pixel = ?1 AND freq_bary_hz BETWEEN ?2 AND ?3"
                             " AND dataset_id != ?4 AND candidate_id IS NOT NULL",
                             why, whylen)))
        return OZ_SCHED_EDB;
    sqlite3_bind_int64(st, 1, x->pixel);
    sqlite3_bind_double(st, 2, x->freq_bary_hz - c->bary_tol_hz);
    sqlite3_bind_double(st, 3, x->freq_bary_hz + c->bary_tol_hz);
    sqlite3_bind_int64(st, 4, x->g.dataset_id);
    while (rc == OZ_SCHED_OK && (step = sqlite3_step(st)) == SQLITE_ROW)
        rc = idset_add(L, sqlite3_column_int64(st, 0));
    if (rc == OZ_SCHED_OK && step != SQLITE_DONE)
        rc = oz_store_dberr(s, "candidates", why, whylen);
    sqlite3_reset(st);
    return rc;
}

/* Runs st (bound with the ids a, b) to its end. */
static int exec2(oz_store *s, const char *sql, int64_t a, int64_t b, char *why, size_t whylen)
{
    sqlite3_stmt *st = oz_store_stmt(s, sql, why, whylen);
    if (!st)
        return OZ_SCHED_EDB;
    sqlite3_bind_int64(st, 1, a);
    sqlite3_bind_int64(st, 2, b);
    return oz_store_exec_stmt(s, st, why, whylen);
}

/* x joins the candidates in L (sorted), merged into the lowest; a new one
 * when L is empty.  *cid: the candidate x is in now; *whole: it was made
 * or merged (its summary must be made from all its members). */
static int join(oz_store *s, const newsig *x, const idset *L, int64_t *cid, bool *whole, char *why,
                size_t whylen)
{
    *whole = L->n != 1;
    int rc;
    if (L->n == 0) {
        sqlite3_stmt *st = oz_store_stmt(
            s,
            "INSERT INTO candidates(key, strongest, dataset_id, type, score, freq_hz, chirp_hz_s,"
            " observations, detections, power, best_score, time_s)"
            " VALUES('', ?1, ?2, '', 0, 0, 0, 1, 1, 0, 0, 0)",
            why, whylen);
        if (!st)
            return OZ_SCHED_EDB;
        sqlite3_bind_int64(st, 1, x->id);
        sqlite3_bind_int64(st, 2, x->g.dataset_id);
        if ((rc = oz_store_exec_stmt(s, st, why, whylen)) != OZ_SCHED_OK)
            return rc;
        *cid = sqlite3_last_insert_rowid(s->conn);
    } else {
        *cid = L->v[0];
        for (size_t k = 1; k < L->n; k++) {
            if ((rc = exec2(s, "UPDATE signals SET candidate_id = ?1 WHERE candidate_id = ?2", *cid,
                            L->v[k], why, whylen)) != OZ_SCHED_OK ||
                (rc = exec2(s, "DELETE FROM candidates WHERE id = ?2 AND ?1 IS NOT NULL", *cid,
                            L->v[k], why, whylen)) != OZ_SCHED_OK)
                return rc;
        }
    }
    return exec2(s, "UPDATE signals SET candidate_id = ?1 WHERE id = ?2", *cid, x->id, why, whylen);
}

/* 1 when unit's dataset had no member of cid before unit's, else 0; -1 on
 * error. */
static int64_t new_dataset(oz_store *s, int64_t cid, int64_t unit)
{
    sqlite3_stmt *st = oz_store_stmt(
        s,
        "SELECT NOT EXISTS (SELECT 1 FROM signals o INDEXED BY signals_candidate"
        " WHERE o.candidate_id = ?1 AND o.dataset_id = u.dataset_id AND o.unit_id != ?2)"
        " FROM units u WHERE u.id = ?2",
        NULL, 0);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, cid);
    sqlite3_bind_int64(st, 2, unit);
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_reset(st);
    return v;
}

/* A candidate's summary: the strongest member (power, then the lower
 * key) and the counts.  whole: from all its members; otherwise from the
 * stored summary and its members in unit (the only ones it gained), which
 * gives the same (a maximum, sums, and a dataset counted when it is new to
 * the candidate) without reading a long-lived candidate's every detection
 * for each unit.  Gone (merged away): nothing to do. */
static int summarise(oz_store *s, int64_t cid, bool whole, int64_t unit, char *why, size_t whylen)
{
    sqlite3_stmt *st = oz_store_stmt(
        s,
        whole ? "SELECT g.id, g.type, g.freq_hz, g.chirp_hz_s, g.power, g.score, g.fft_len,"
                " g.time_s, g.time_ns, g.ra_deg, g.dec_deg, g.pixel, g.freq_bary_hz,"
                " g.dataset_id, u.name FROM signals g INDEXED BY signals_candidate"
                " JOIN units u ON u.id = g.unit_id WHERE g.candidate_id = ?1 AND g.power = ?3"
              : "SELECT g.id, g.type, g.freq_hz, g.chirp_hz_s, g.power, g.score, g.fft_len,"
                " g.time_s, g.time_ns, g.ra_deg, g.dec_deg, g.pixel, g.freq_bary_hz,"
                " g.dataset_id, u.name FROM signals g INDEXED BY signals_unit"
                " JOIN units u ON u.id = g.unit_id WHERE g.unit_id = ?2 AND g.candidate_id = ?1",
        why, whylen);
    if (!st)
        return OZ_SCHED_EDB;
    char key[OZ_CAND_KEY_MAX], best_key[OZ_CAND_KEY_MAX] = "";
    double best_power = -INFINITY, best_score = -INFINITY;
    int64_t best = 0, count = 0, old_count = 0, old_obs = 0;
    int step;
    if (!whole) { /* the stored summary to start from */
        sqlite3_stmt *c = oz_store_stmt(s,
                                        "SELECT key, power, best_score, detections, observations"
                                        " FROM candidates WHERE id = ?",
                                        why, whylen);
        if (!c)
            return OZ_SCHED_EDB;
        sqlite3_bind_int64(c, 1, cid);
        if ((step = sqlite3_step(c)) == SQLITE_ROW) {
            snprintf(best_key, sizeof best_key, "%s", oz_store_col_text(c, 0));
            best_power = sqlite3_column_double(c, 1);
            best_score = sqlite3_column_double(c, 2);
            old_count = sqlite3_column_int64(c, 3);
            old_obs = sqlite3_column_int64(c, 4);
        }
        sqlite3_reset(c);
        if (step == SQLITE_DONE)
            return OZ_SCHED_OK;
        if (step != SQLITE_ROW)
            return oz_store_dberr(s, "candidates", why, whylen);
    }
    int64_t all = 0; /* whole: the members, counted in the index */
    double top = 0;
    if (whole) { /* the counts from the index alone; then only the strongest rows are read */
        sqlite3_stmt *c = oz_store_stmt(s,
                                        "SELECT count(*), max(power), max(score) FROM signals"
                                        " INDEXED BY signals_candidate WHERE candidate_id = ?",
                                        why, whylen);
        if (!c)
            return OZ_SCHED_EDB;
        sqlite3_bind_int64(c, 1, cid);
        if ((step = sqlite3_step(c)) == SQLITE_ROW) {
            all = sqlite3_column_int64(c, 0);
            top = sqlite3_column_double(c, 1);
            best_score = sqlite3_column_double(c, 2);
        }
        sqlite3_reset(c);
        if (step != SQLITE_ROW)
            return oz_store_dberr(s, "candidates", why, whylen);
        if (all == 0)
            return OZ_SCHED_OK; /* merged away */
    }
    sqlite3_bind_int64(st, 1, cid);
    sqlite3_bind_int64(st, 2, unit);
    sqlite3_bind_double(st, 3, top);
    struct {
        char type[16];
        double freq, chirp, power, time_s, ra, dec, fb;
        int64_t time_ns, pixel, dataset;
        bool has_ns, has_pos, has_fb;
    } b = {0};
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        count++;
        double power = sqlite3_column_double(st, 4), score = sqlite3_column_double(st, 5);
        if (score > best_score)
            best_score = score;
        snprintf(key, sizeof key, "%s/%s/%lld/%.3f", oz_store_col_text(st, 14),
                 oz_store_col_text(st, 1), (long long)sqlite3_column_int64(st, 6),
                 sqlite3_column_double(st, 2));
        if (power < best_power || (power == best_power && strcmp(key, best_key) >= 0))
            continue;
        best_power = power;
        memcpy(best_key, key, sizeof key);
        best = sqlite3_column_int64(st, 0);
        snprintf(b.type, sizeof b.type, "%s", oz_store_col_text(st, 1));
        b.freq = sqlite3_column_double(st, 2);
        b.chirp = sqlite3_column_double(st, 3);
        b.power = power;
        b.time_s = sqlite3_column_double(st, 7);
        b.has_ns = sqlite3_column_type(st, 8) != SQLITE_NULL;
        b.time_ns = sqlite3_column_int64(st, 8);
        b.has_pos = sqlite3_column_type(st, 11) != SQLITE_NULL;
        b.ra = sqlite3_column_double(st, 9);
        b.dec = sqlite3_column_double(st, 10);
        b.pixel = sqlite3_column_int64(st, 11);
        b.has_fb = sqlite3_column_type(st, 12) != SQLITE_NULL;
        b.fb = sqlite3_column_double(st, 12);
        b.dataset = sqlite3_column_int64(st, 13);
    }
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        return oz_store_dberr(s, "candidates", why, whylen);
    if (count == 0)
        return OZ_SCHED_OK;
    if (whole)
        count = all;
    int64_t nobs;
    if (whole)
        nobs = oz_store_one_int(s,
                                "SELECT count(DISTINCT dataset_id) FROM signals"
                                " INDEXED BY signals_candidate WHERE candidate_id = ?",
                                cid, true);
    else if ((nobs = new_dataset(s, cid, unit)) >= 0)
        nobs += old_obs;
    if (nobs < 0)
        return oz_store_dberr(s, "candidates", why, whylen);
    if (!whole && best == 0) { /* nothing stronger: only the counts move */
        if (!(st = oz_store_stmt(s,
                                 "UPDATE candidates SET observations = ?2, detections = ?3,"
                                 " best_score = ?4 WHERE id = ?1",
                                 why, whylen)))
            return OZ_SCHED_EDB;
        sqlite3_bind_int64(st, 1, cid);
        sqlite3_bind_int64(st, 2, nobs);
        sqlite3_bind_int64(st, 3, old_count + count);
        sqlite3_bind_double(st, 4, best_score);
        return oz_store_exec_stmt(s, st, why, whylen);
    }
    count += old_count;
    if (!(st = oz_store_stmt(
              s,
              "UPDATE candidates SET key = ?2, strongest = ?3, dataset_id = ?4, type = ?5,"
              " freq_hz = ?6, freq_bary_hz = ?7, chirp_hz_s = ?8, ra_deg = ?9, dec_deg = ?10,"
              " pixel = ?11, observations = ?12, detections = ?13, power = ?14,"
              " best_score = ?15, time_s = ?16, time_ns = ?17 WHERE id = ?1",
              why, whylen)))
        return OZ_SCHED_EDB;
    sqlite3_bind_int64(st, 1, cid);
    sqlite3_bind_text(st, 2, best_key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, best);
    sqlite3_bind_int64(st, 4, b.dataset);
    sqlite3_bind_text(st, 5, b.type, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(st, 6, b.freq);
    if (b.has_fb)
        sqlite3_bind_double(st, 7, b.fb);
    else
        sqlite3_bind_null(st, 7);
    sqlite3_bind_double(st, 8, b.chirp);
    for (int k = 9; k <= 11; k++)
        sqlite3_bind_null(st, k);
    if (b.has_pos) {
        sqlite3_bind_double(st, 9, b.ra);
        sqlite3_bind_double(st, 10, b.dec);
        sqlite3_bind_int64(st, 11, b.pixel);
    }
    sqlite3_bind_int64(st, 12, nobs);
    sqlite3_bind_int64(st, 13, count);
    sqlite3_bind_double(st, 14, b.power);
    sqlite3_bind_double(st, 15, best_score);
    sqlite3_bind_double(st, 16, b.time_s);
    if (b.has_ns)
        sqlite3_bind_int64(st, 17, b.time_ns);
    else
        sqlite3_bind_null(st, 17);
    return oz_store_exec_stmt(s, st, why, whylen);
}

/* The frequency bin of f: rfi_freq_tol_hz wide. */
static int64_t bin_of(const oz_cand_config *c, double f)
{
    double w = c->rfi_freq_tol_hz > 0 ? c->rfi_freq_tol_hz : 1;
    return (int64_t)floor(f / w);
}

/* Distinct pixels in bins b-1 .. b+1 (still: of signals not drifting). */
static int64_t pixels_at(oz_store *s, int64_t b, int still)
{
    sqlite3_stmt *st = oz_store_stmt(s,
                                     "SELECT count(DISTINCT pixel) FROM rfi_bins"
                                     " WHERE bin BETWEEN ?1 - 1 AND ?1 + 1 AND still = ?2",
                                     NULL, 0);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, b);
    sqlite3_bind_int(st, 2, still);
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_reset(st);
    return v;
}

/* Records x's pixel in its frequency bin; *news: it is a pixel the bin had
 * not seen (so the verdicts of candidates near it may change). */
static int bin_add(oz_store *s, const oz_cand_config *c, const newsig *x, bool *news, char *why,
                   size_t whylen)
{
    *news = false;
    if (!x->has_pixel)
        return OZ_SCHED_OK;
    sqlite3_stmt *st = oz_store_stmt(
        s, "INSERT OR IGNORE INTO rfi_bins(bin, pixel, still) VALUES(?, ?, ?)", why, whylen);
    if (!st)
        return OZ_SCHED_EDB;
    for (int still = 0; still < 2; still++) {
        if (still && fabs(x->g.chirp_hz_s) > c->rfi_zero_drift_hz_s)
            break;
        sqlite3_bind_int64(st, 1, bin_of(c, x->g.freq_hz));
        sqlite3_bind_int64(st, 2, x->pixel);
        sqlite3_bind_int(st, 3, still);
        int rc = oz_store_exec_stmt(s, st, why, whylen);
        if (rc != OZ_SCHED_OK)
            return rc;
        *news |= sqlite3_changes(s->conn) > 0;
    }
    return OZ_SCHED_OK;
}

/* A candidate's RFI verdict and score from what is stored now. */
static int judge(oz_store *s, const oz_cand_config *c, int64_t cid, char *why, size_t whylen)
{
    sqlite3_stmt *st = oz_store_stmt(s,
                                     "SELECT freq_hz, chirp_hz_s, best_score, detections,"
                                     " observations FROM candidates WHERE id = ?",
                                     why, whylen);
    if (!st)
        return OZ_SCHED_EDB;
    sqlite3_bind_int64(st, 1, cid);
    int step = sqlite3_step(st);
    oz_cand_facts f = {0};
    if (step == SQLITE_ROW)
        f = (oz_cand_facts){.freq_hz = sqlite3_column_double(st, 0),
                            .chirp_hz_s = sqlite3_column_double(st, 1),
                            .best_score = sqlite3_column_double(st, 2),
                            .detections = sqlite3_column_int64(st, 3),
                            .observations = sqlite3_column_int64(st, 4)};
    sqlite3_reset(st);
    if (step == SQLITE_DONE)
        return OZ_SCHED_OK; /* merged away */
    if (step != SQLITE_ROW)
        return oz_store_dberr(s, "candidates", why, whylen);
    f.pixels = pixels_at(s, bin_of(c, f.freq_hz), 0);
    f.still_pixels = pixels_at(s, bin_of(c, f.freq_hz), 1);
    if (f.pixels < 0 || f.still_pixels < 0)
        return oz_store_dberr(s, "candidates", why, whylen);
    const char *rule = oz_cand_rfi_rule(c, &f);
    if (!(st = oz_store_stmt(s,
                             "UPDATE candidates SET rfi = ?2, score = ?3, rfi_pixels = ?4"
                             " WHERE id = ?1",
                             why, whylen)))
        return OZ_SCHED_EDB;
    sqlite3_bind_int64(st, 1, cid);
    if (rule)
        sqlite3_bind_text(st, 2, rule, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 2);
    sqlite3_bind_double(st, 3, oz_cand_score(&f, rule != NULL));
    sqlite3_bind_int64(st, 4, f.pixels);
    return oz_store_exec_stmt(s, st, why, whylen);
}

/* The candidates whose topocentric frequency lies in the bins around f's
 * (those whose evidence includes f's bin), into J. */
static int near(oz_store *s, const oz_cand_config *c, double f, idset *J, char *why, size_t whylen)
{
    double w = c->rfi_freq_tol_hz > 0 ? c->rfi_freq_tol_hz : 1;
    int64_t b = bin_of(c, f);
    sqlite3_stmt *st = oz_store_stmt(
        s, "SELECT id FROM candidates INDEXED BY candidates_freq WHERE freq_hz BETWEEN ? AND ?",
        why, whylen);
    if (!st)
        return OZ_SCHED_EDB;
    sqlite3_bind_double(st, 1, (double)(b - 1) * w);
    sqlite3_bind_double(st, 2, (double)(b + 2) * w);
    int step, rc = OZ_SCHED_OK;
    while (rc == OZ_SCHED_OK && (step = sqlite3_step(st)) == SQLITE_ROW)
        rc = idset_add(J, sqlite3_column_int64(st, 0));
    if (rc == OZ_SCHED_OK && step != SQLITE_DONE)
        rc = oz_store_dberr(s, "candidates", why, whylen);
    sqlite3_reset(st);
    return rc;
}

int oz_store_candidates_add(oz_store *s, const oz_cand_config *c, int64_t unit_rowid, double gap_s,
                            char *why, size_t whylen)
{
    newsig *x = NULL;
    size_t n = 0;
    idset L = {0}, T = {0}, W = {0}; /* W: made or merged in this unit */
    int rc = unit_signals(s, unit_rowid, &x, &n, why, whylen);
    for (size_t i = 0; rc == OZ_SCHED_OK && i < n; i++) {
        int64_t cid;
        bool whole;
        L.n = 0;
        if ((rc = links(s, c, &x[i], gap_s, &L, why, whylen)) != OZ_SCHED_OK)
            break;
        idset_uniq(&L);
        if ((rc = join(s, &x[i], &L, &cid, &whole, why, whylen)) == OZ_SCHED_OK)
            rc = idset_add(whole ? &W : &T, cid);
    }
    /* every candidate touched gets its summary; then they and every
     * candidate near a new signal's frequency get their verdict */
    idset_uniq(&T);
    idset_uniq(&W);
    for (size_t i = 0; rc == OZ_SCHED_OK && i < T.n; i++)
        if (W.n == 0 || !bsearch(&T.v[i], W.v, W.n, sizeof *W.v, oz_store_id_cmp))
            rc = summarise(s, T.v[i], false, unit_rowid, why, whylen);
    for (size_t i = 0; rc == OZ_SCHED_OK && i < W.n; i++) {
        rc = summarise(s, W.v[i], true, unit_rowid, why, whylen);
        if (rc == OZ_SCHED_OK)
            rc = idset_add(&T, W.v[i]);
    }
    for (size_t i = 0; rc == OZ_SCHED_OK && i < n; i++) {
        bool news;
        if ((rc = bin_add(s, c, &x[i], &news, why, whylen)) == OZ_SCHED_OK && news)
            rc = near(s, c, x[i].g.freq_hz, &T, why, whylen);
    }
    idset_uniq(&T);
    for (size_t i = 0; rc == OZ_SCHED_OK && i < T.n; i++)
        rc = judge(s, c, T.v[i], why, whylen);
    if (rc == OZ_SCHED_ENOMEM)
        oz_sched_fail(rc, why, whylen, "out of memory");
    free(x);
    free(L.v);
    free(T.v);
    free(W.v);
    return rc;
}
