/*
 * store_candidates.c - candidates in the store: grouping a unit's new
 * signals as the assimilator inserts them, and reading candidates for the
 * API (store.h; the rules themselves are candidates.c's).
 *
 * Grouping is union-find over the signals table: signals.candidate_id
 * names the component.  An arriving signal looks up every stored signal it
 * links to (track links through signals_time, persistence links through
 * signals_sky), and all their candidates become one, the lowest id
 * surviving.  Every link is looked at when the later of its two signals
 * arrives, so the partition is the connected components of the link graph
 * whatever the order; a candidate's summary (key, strongest detection,
 * counts) and its RFI verdict and score are recomputed from the stored
 * rows whenever they may have changed, so they too depend only on the set.
 * Row ids are the one thing order decides; the key names a candidate
 * independently of them.
 *
 * Speed (issue 17: the assimilator must keep up with validation): a unit's
 * track links are found in memory, from one read of the stored signals in
 * the time window around the whole unit, with the unit's own earlier
 * signals and the merges made meanwhile followed there; a signal that links
 * to nothing is inserted as a complete one-detection candidate (its summary
 * is itself), so only candidates that grew are summarised from the table.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candidates.h"
#include "store_internal.h"

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

/* Is id in s (sorted by idset_uniq)? */
static bool idset_in(const idset *s, int64_t id)
{
    return s->n > 0 && bsearch(&id, s->v, s->n, sizeof *s->v, oz_store_id_cmp);
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

/* One of the unit's signals, as the rules see it. */
typedef struct newsig {
    const oz_signal_row *r;
    int64_t id; /* the row id it gets */
    oz_cand_sig g;
    bool has_pixel, has_bary;
    double fs;
    int64_t cid;  /* the candidate it joined (0: not yet) */
    size_t epoch; /* the merges made before it joined: see found() */
} newsig;

/* A candidate's key: unit name/type/FFT length/frequency of its strongest
 * detection. */
static void key_of(char *key, size_t len, const char *unit, const char *type, int64_t fft,
                   double freq)
{
    snprintf(key, len, "%s/%s/%lld/%.3f", unit, type, (long long)fft, freq);
}

/* The unit's signals into x[0 .. n), with the row ids they will get:
 * those SQLite would give them (the largest id so far + 1, + 2, ...: the
 * write lock is held), so a signal is inserted once with its candidate.
 * The unit's name into name. */
static int unit_signals(oz_store *s, const oz_assimilate_unit *a, const oz_signal_row *rows,
                        size_t n, newsig *x, char *name, size_t namelen, char *why,
                        size_t whylen)
{
    oz_sql_stmt *st = oz_store_stmt(
        s, "SELECT (SELECT name FROM units WHERE id = ?), (SELECT max(id) FROM signals)", why,
        whylen);
    if (!st)
        return OZ_SCHED_EDB;
    oz_sql_bind_int64(st, 1, a->unit_rowid);
    int step = oz_sql_step(st);
    int64_t last = 0;
    if (step == OZ_SQL_ROW) {
        snprintf(name, namelen, "%s", oz_store_col_text(st, 0));
        last = oz_sql_column_int64(st, 1);
    }
    oz_sql_reset(st);
    if (step != OZ_SQL_ROW)
        return oz_store_dberr(s, "candidates", why, whylen);
    for (size_t i = 0; i < n; i++) {
        const oz_signal_row *r = &rows[i];
        x[i] = (newsig){.r = r,
                        .id = last + 1 + (int64_t)i,
                        .g = {.dataset_id = a->dataset_id,
                              .freq_hz = r->freq_hz,
                              .chirp_hz_s = r->chirp_hz_s,
                              .time_s = r->time_s,
                              .power = r->power,
                              .score = r->score,
                              .bin_hz = a->sample_rate / (double)(r->fft_len > 0 ? r->fft_len : 1)},
                        .has_pixel = r->has_pos,
                        .has_bary = r->has_pos && r->has_bary,
                        .fs = a->sample_rate};
    }
    return OZ_SCHED_OK;
}

/* A stored signal near the unit in time, as the track links read it. */
typedef struct near_sig {
    int64_t cid; /* its candidate when read, before this unit's merges */
    double freq_hz, chirp_hz_s, time_s;
    int64_t fft_len;
} near_sig;

/* The merges made in this unit, in order: candidate from[i] became to[i]
 * (a merged-away id may be reused by a later new candidate, so an id is
 * followed only through the merges made after it was seen). */
typedef struct merges {
    int64_t *from, *to;
    size_t n, cap;
} merges;

/* The candidate that cid, seen after the first `since` merges, is now. */
static int64_t found(const merges *m, int64_t cid, size_t since)
{
    for (size_t i = since; i < m->n; i++)
        if (m->from[i] == cid)
            cid = m->to[i];
    return cid;
}

static int merges_add(merges *m, int64_t from, int64_t to)
{
    if (m->n == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 8;
        int64_t *f = realloc(m->from, cap * sizeof *f);
        if (f)
            m->from = f;
        int64_t *t = f ? realloc(m->to, cap * sizeof *t) : NULL;
        if (!t)
            return OZ_SCHED_ENOMEM;
        m->to = t;
        m->cap = cap;
    }
    m->from[m->n] = from;
    m->to[m->n++] = to;
    return OZ_SCHED_OK;
}

/* The stored signals with a candidate that any of the unit's n signals
 * (of one dataset) may link to: those within gap of the unit's earliest
 * and latest, into *out (malloc'd). */
static int window(oz_store *s, const newsig *x, size_t n, double gap, near_sig **out, size_t *nout,
                  char *why, size_t whylen)
{
    *out = NULL;
    *nout = 0;
    double lo = x[0].g.time_s, hi = x[0].g.time_s;
    for (size_t i = 1; i < n; i++) {
        lo = fmin(lo, x[i].g.time_s);
        hi = fmax(hi, x[i].g.time_s);
    }
    oz_sql_stmt *st = oz_store_stmt(
        s,
        "SELECT candidate_id, freq_hz, chirp_hz_s, time_s, fft_len FROM signals"
        " INDEXED BY signals_time WHERE dataset_id = ?1 AND time_s BETWEEN ?2 AND ?3"
        " AND candidate_id IS NOT NULL",
        why, whylen);
    if (!st)
        return OZ_SCHED_EDB;
    oz_sql_bind_int64(st, 1, x[0].g.dataset_id);
    oz_sql_bind_double(st, 2, lo - gap);
    oz_sql_bind_double(st, 3, hi + gap);
    size_t cap = 0;
    int step, rc = OZ_SCHED_OK;
    while ((step = oz_sql_step(st)) == OZ_SQL_ROW) {
        if (*nout == cap) {
            cap = cap ? 2 * cap : 256;
            near_sig *v = realloc(*out, cap * sizeof *v);
            if (!v) {
                rc = OZ_SCHED_ENOMEM;
                break;
            }
            *out = v;
        }
        (*out)[(*nout)++] = (near_sig){.cid = oz_sql_column_int64(st, 0),
                                       .freq_hz = oz_sql_column_double(st, 1),
                                       .chirp_hz_s = oz_sql_column_double(st, 2),
                                       .time_s = oz_sql_column_double(st, 3),
                                       .fft_len = oz_sql_column_int64(st, 4)};
    }
    if (rc == OZ_SCHED_OK && step != OZ_SQL_DONE)
        rc = oz_store_dberr(s, "candidates", why, whylen);
    oz_sql_reset(st);
    return rc;
}

/* Does x link to the signal o (of x's dataset) at time t?  Exactly the
 * stored query's test: t within [x - gap, x + gap], then the track rule. */
static bool track_link(const oz_cand_config *c, const newsig *x, double freq, double chirp,
                       double t, int64_t fft, double gap)
{
    if (!(t >= x->g.time_s - gap && t <= x->g.time_s + gap))
        return false;
    double span = c->link_gap_units > 0 ? gap / c->link_gap_units : 0; /* the unit length */
    oz_cand_sig o = {.dataset_id = x->g.dataset_id, .freq_hz = freq, .chirp_hz_s = chirp,
                     .time_s = t, .bin_hz = x->fs / (double)(fft > 0 ? fft : 1)};
    return oz_cand_track_link(c, &x->g, &o, gap, span);
}

/* The other datasets with placed signals in the unit's sky pixels: pairs
 * (pixel, dataset), found once per unit (the unit adds only its own
 * dataset's) by walking signals_sky from dataset to dataset. */
typedef struct others {
    int64_t (*v)[2];
    size_t n, cap;
} others;

static int others_find(oz_store *s, const newsig *x, size_t n, others *o, char *why,
                       size_t whylen)
{
    oz_sql_stmt *st = oz_store_stmt(s,
                                     "SELECT min(dataset_id) FROM signals INDEXED BY signals_sky"
                                     " WHERE pixel = ?1 AND dataset_id > ?2"
                                     " AND freq_bary_hz IS NOT NULL",
                                     why, whylen);
    if (!st)
        return OZ_SCHED_EDB;
    for (size_t i = 0; i < n; i++) {
        bool seen = !x[i].has_bary;
        for (size_t k = 0; !seen && k < i; k++)
            seen = x[k].has_bary && x[k].r->pixel == x[i].r->pixel;
        for (int64_t d = 0; !seen;) {
            oz_sql_bind_int64(st, 1, x[i].r->pixel);
            oz_sql_bind_int64(st, 2, d);
            int step = oz_sql_step(st);
            bool none = step == OZ_SQL_ROW && oz_sql_column_type(st, 0) == OZ_SQL_NULL;
            d = oz_sql_column_int64(st, 0);
            oz_sql_reset(st);
            if (step != OZ_SQL_ROW)
                return oz_store_dberr(s, "candidates", why, whylen);
            if (none)
                break;
            if (d == x[i].g.dataset_id)
                continue;
            if (o->n == o->cap) {
                size_t cap = o->cap ? 2 * o->cap : 8;
                int64_t(*v)[2] = realloc(o->v, cap * sizeof *v);
                if (!v)
                    return OZ_SCHED_ENOMEM;
                o->v = v;
                o->cap = cap;
            }
            o->v[o->n][0] = x[i].r->pixel;
            o->v[o->n++][1] = d;
        }
    }
    return OZ_SCHED_OK;
}

/* The candidates x (the unit's signal i) links to, into L: stored signals
 * of the window, the unit's signals before it (each already in a
 * candidate, as the stored query saw them), and across datasets the
 * stored signals of its sky pixel at its barycentric frequency. */
static int links(oz_store *s, const oz_cand_config *c, const newsig *x, size_t i,
                 const near_sig *w, size_t nw, const others *o, const merges *m, double gap,
                 idset *L, char *why, size_t whylen)
{
    int step, rc = OZ_SCHED_OK;
    for (size_t k = 0; rc == OZ_SCHED_OK && k < nw; k++)
        if (track_link(c, &x[i], w[k].freq_hz, w[k].chirp_hz_s, w[k].time_s, w[k].fft_len, gap))
            rc = idset_add(L, found(m, w[k].cid, 0));
    for (size_t k = 0; rc == OZ_SCHED_OK && k < i; k++)
        if (track_link(c, &x[i], x[k].g.freq_hz, x[k].g.chirp_hz_s, x[k].g.time_s,
                       (int64_t)x[k].r->fft_len, gap))
            rc = idset_add(L, found(m, x[k].cid, x[k].epoch));
    /* across datasets: one range of signals_sky per other dataset in
     * the pixel, never the unit's own dataset's signals there */
    for (size_t k = 0; rc == OZ_SCHED_OK && x[i].has_bary && k < o->n; k++) {
        if (o->v[k][0] != x[i].r->pixel)
            continue;
        oz_sql_stmt *st = oz_store_stmt(
            s,
            "SELECT candidate_id FROM signals INDEXED BY signals_sky WHERE pixel = ?1"
            " AND dataset_id = ?4 AND freq_bary_hz BETWEEN ?2 AND ?3 AND candidate_id IS NOT NULL",
            why, whylen);
        if (!st)
            return OZ_SCHED_EDB;
        oz_sql_bind_int64(st, 1, x[i].r->pixel);
        oz_sql_bind_double(st, 2, x[i].r->freq_bary_hz - c->bary_tol_hz);
        oz_sql_bind_double(st, 3, x[i].r->freq_bary_hz + c->bary_tol_hz);
        oz_sql_bind_int64(st, 4, o->v[k][1]);
        while (rc == OZ_SCHED_OK && (step = oz_sql_step(st)) == OZ_SQL_ROW)
            rc = idset_add(L, oz_sql_column_int64(st, 0));
        if (rc == OZ_SCHED_OK && step != OZ_SQL_DONE)
            rc = oz_store_dberr(s, "candidates", why, whylen);
        oz_sql_reset(st);
    }
    return rc;
}

/* Runs st (bound with the ids a, b) to its end. */
static int exec2(oz_store *s, const char *sql, int64_t a, int64_t b, char *why, size_t whylen)
{
    oz_sql_stmt *st = oz_store_stmt(s, sql, why, whylen);
    if (!st)
        return OZ_SCHED_EDB;
    oz_sql_bind_int64(st, 1, a);
    oz_sql_bind_int64(st, 2, b);
    return oz_store_exec_stmt(s, st, why, whylen);
}

/* The frequency bin of f: rfi_freq_tol_hz wide. */
static int64_t bin_of(const oz_cand_config *c, double f)
{
    double w = c->rfi_freq_tol_hz > 0 ? c->rfi_freq_tol_hz : 1;
    return (int64_t)floor(f / w);
}

/* A candidate's RFI verdict (NULL: none) and score from its facts and the
 * distinct pixels in the bins around its frequency, all and not drifting:
 * f->pixels and f->still_pixels are filled in.  The rows are counted here:
 * a few per bin, where count(DISTINCT) would build two temporary b-trees
 * for every candidate. */
static int verdict(oz_store *s, const oz_cand_config *c, oz_cand_facts *f, const char **rule,
                   double *score, char *why, size_t whylen)
{
    oz_sql_stmt *st = oz_store_stmt(s,
                                     "SELECT still, pixel FROM rfi_bins"
                                     " WHERE bin BETWEEN CAST(?1 AS BIGINT) - 1 AND ?1 + 1",
                                     why, whylen);
    if (!st)
        return OZ_SCHED_EDB;
    oz_sql_bind_int64(st, 1, bin_of(c, f->freq_hz));
    idset all = {0}, still = {0};
    int step, rc = OZ_SCHED_OK;
    while (rc == OZ_SCHED_OK && (step = oz_sql_step(st)) == OZ_SQL_ROW)
        rc = idset_add(oz_sql_column_int(st, 0) ? &still : &all, oz_sql_column_int64(st, 1));
    if (rc == OZ_SCHED_OK && step != OZ_SQL_DONE)
        rc = oz_store_dberr(s, "candidates", why, whylen);
    oz_sql_reset(st);
    if (rc == OZ_SCHED_OK) {
        idset_uniq(&all);
        idset_uniq(&still);
        f->pixels = (int64_t)all.n;
        f->still_pixels = (int64_t)still.n;
        *rule = oz_cand_rfi_rule(c, f);
        *score = oz_cand_score(f, *rule != NULL);
    }
    free(all.v);
    free(still.v);
    return rc;
}

/* Records x's pixel in its frequency bin (and, not drifting, among the
 * still ones: one statement either way); *news: it is a pixel the bin had
 * not seen (so the verdicts of candidates near it may change). */
static int bin_add(oz_store *s, const oz_cand_config *c, const newsig *x, bool *news, char *why,
                   size_t whylen)
{
    *news = false;
    if (!x->has_pixel)
        return OZ_SCHED_OK;
    bool still = fabs(x->g.chirp_hz_s) <= c->rfi_zero_drift_hz_s;
    oz_sql_stmt *st = oz_store_stmt(
        s,
        still ? "INSERT INTO rfi_bins(bin, pixel, still) VALUES(?1, ?2, 0), (?1, ?2, 1)"
                " ON CONFLICT DO NOTHING"
              : "INSERT INTO rfi_bins(bin, pixel, still) VALUES(?1, ?2, 0) ON CONFLICT DO NOTHING",
        why, whylen);
    if (!st)
        return OZ_SCHED_EDB;
    oz_sql_bind_int64(st, 1, bin_of(c, x->g.freq_hz));
    oz_sql_bind_int64(st, 2, x->r->pixel);
    int rc = oz_store_exec_stmt(s, st, why, whylen);
    *news = rc == OZ_SCHED_OK && oz_sql_changes(s->conn) > 0;
    return rc;
}

/* A new candidate of x alone, complete: its summary is x itself (what
 * summarise would make of it) and its verdict judge's, the unit's pixels
 * being in rfi_bins already. */
static int fresh(oz_store *s, const oz_cand_config *c, const newsig *x, const char *unit,
                 int64_t *cid, char *why, size_t whylen)
{
    oz_cand_facts f = {.freq_hz = x->g.freq_hz, .chirp_hz_s = x->g.chirp_hz_s,
                       .best_score = x->g.score, .detections = 1, .observations = 1};
    const char *rule;
    double score;
    int rc = verdict(s, c, &f, &rule, &score, why, whylen);
    if (rc != OZ_SCHED_OK)
        return rc;
    oz_sql_stmt *st = oz_store_stmt(
        s,
        "INSERT INTO candidates(key, strongest, dataset_id, type, score, freq_hz, freq_bary_hz,"
        " chirp_hz_s, ra_deg, dec_deg, pixel, observations, detections, power, best_score,"
        " time_s, time_ns, rfi, rfi_pixels) VALUES(?1, ?2, ?3, ?4, ?15, ?5, ?6, ?7, ?8, ?9, ?10,"
        " 1, 1, ?11, ?12, ?13, ?14, ?16, ?17) RETURNING id",
        why, whylen);
    if (!st)
        return OZ_SCHED_EDB;
    char key[OZ_CAND_KEY_MAX];
    key_of(key, sizeof key, unit, x->r->type, (int64_t)x->r->fft_len, x->g.freq_hz);
    oz_sql_bind_text(st, 1, key, -1);
    oz_sql_bind_int64(st, 2, x->id);
    oz_sql_bind_int64(st, 3, x->g.dataset_id);
    oz_sql_bind_text(st, 4, x->r->type, -1);
    oz_sql_bind_double(st, 5, x->g.freq_hz);
    for (int k = 6; k <= 10; k++)
        oz_sql_bind_null(st, k);
    if (x->has_bary)
        oz_sql_bind_double(st, 6, x->r->freq_bary_hz);
    oz_sql_bind_double(st, 7, x->g.chirp_hz_s);
    if (x->has_pixel) {
        oz_sql_bind_double(st, 8, x->r->ra_deg);
        oz_sql_bind_double(st, 9, x->r->dec_deg);
        oz_sql_bind_int64(st, 10, x->r->pixel);
    }
    oz_sql_bind_double(st, 11, x->g.power);
    oz_sql_bind_double(st, 12, x->g.score);
    oz_sql_bind_double(st, 13, x->g.time_s);
    if (x->r->has_time)
        oz_sql_bind_int64(st, 14, x->r->time_ns);
    else
        oz_sql_bind_null(st, 14);
    oz_sql_bind_double(st, 15, score);
    if (rule)
        oz_sql_bind_text(st, 16, rule, -1);
    else
        oz_sql_bind_null(st, 16);
    oz_sql_bind_int64(st, 17, f.pixels);
    return oz_store_insert_id(s, st, cid, why, whylen);
}

/* x joins the candidates in L (sorted), merged into the lowest (each
 * merge recorded in m); a new one when L is empty.  Then x is inserted,
 * in that candidate: *cid. */
static int join(oz_store *s, const oz_cand_config *c, const oz_assimilate_unit *a, newsig *x,
                const char *unit, const idset *L, merges *m, int64_t *cid, char *why,
                size_t whylen)
{
    int rc;
    if (L->n == 0) {
        if ((rc = fresh(s, c, x, unit, cid, why, whylen)) != OZ_SCHED_OK)
            return rc;
    } else {
        *cid = L->v[0];
        for (size_t k = 1; k < L->n; k++) {
            if ((rc = exec2(s, "UPDATE signals SET candidate_id = ?1 WHERE candidate_id = ?2",
                            *cid, L->v[k], why, whylen)) != OZ_SCHED_OK ||
                (rc = exec2(s,
                            "DELETE FROM candidates WHERE id = ?2"
                            " AND CAST(?1 AS BIGINT) IS NOT NULL",
                            *cid, L->v[k], why, whylen)) != OZ_SCHED_OK ||
                (rc = merges_add(m, L->v[k], *cid)) != OZ_SCHED_OK)
                return rc;
        }
    }
    x->cid = *cid;
    x->epoch = m->n;
    return oz_store_signal_insert(s, a, x->r, x->id, *cid, why, whylen);
}

/* 1 when unit's dataset had no member of cid before unit's, else 0; -1 on
 * error. */
static int64_t new_dataset(oz_store *s, int64_t cid, int64_t unit)
{
    oz_sql_stmt *st = oz_store_stmt(
        s,
        "SELECT NOT EXISTS (SELECT 1 FROM signals o INDEXED BY signals_candidate"
        " WHERE o.candidate_id = ?1 AND o.dataset_id = u.dataset_id AND o.unit_id != ?2)"
        " FROM units u WHERE u.id = ?2",
        NULL, 0);
    if (!st)
        return -1;
    oz_sql_bind_int64(st, 1, cid);
    oz_sql_bind_int64(st, 2, unit);
    int64_t v = oz_sql_step(st) == OZ_SQL_ROW ? oz_sql_column_int64(st, 0) : -1;
    oz_sql_reset(st);
    return v;
}

/* A candidate's summary: the strongest member (power, then the lower
 * key) and the counts.  whole: from all its members; otherwise from the
 * stored summary and its members in unit (the only ones it gained), which
 * gives the same (a maximum, sums, and a dataset counted when it is new to
 * the candidate) without reading a long-lived candidate's every detection
 * for each unit.  Gone (merged away): nothing to do. */
static int summarise(oz_store *s, int64_t cid, bool whole, int64_t unit, char *why,
                     size_t whylen)
{
    oz_sql_stmt *st = oz_store_stmt(
        s,
        whole ? "SELECT g.id, g.type, g.freq_hz, g.chirp_hz_s, g.power, g.score, g.fft_len,"
                " g.time_s, g.time_ns, g.ra_deg, g.dec_deg, g.pixel, g.freq_bary_hz,"
                " g.dataset_id, u.name FROM signals g INDEXED BY signals_candidate"
                " JOIN units u ON u.id = g.unit_id WHERE g.candidate_id = ?1 AND g.power = ?3"
                " AND CAST(?2 AS BIGINT) IS NOT NULL"
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
        oz_sql_stmt *c = oz_store_stmt(s,
                                        "SELECT key, power, best_score, detections, observations"
                                        " FROM candidates WHERE id = ?",
                                        why, whylen);
        if (!c)
            return OZ_SCHED_EDB;
        oz_sql_bind_int64(c, 1, cid);
        if ((step = oz_sql_step(c)) == OZ_SQL_ROW) {
            snprintf(best_key, sizeof best_key, "%s", oz_store_col_text(c, 0));
            best_power = oz_sql_column_double(c, 1);
            best_score = oz_sql_column_double(c, 2);
            old_count = oz_sql_column_int64(c, 3);
            old_obs = oz_sql_column_int64(c, 4);
        }
        oz_sql_reset(c);
        if (step == OZ_SQL_DONE)
            return OZ_SCHED_OK;
        if (step != OZ_SQL_ROW)
            return oz_store_dberr(s, "candidates", why, whylen);
    }
    int64_t all = 0; /* whole: the members, counted in the index */
    double top = 0;
    if (whole) { /* the counts from the index alone; then only the strongest rows are read */
        oz_sql_stmt *c = oz_store_stmt(s,
                                        "SELECT count(*), max(power), max(score) FROM signals"
                                        " INDEXED BY signals_candidate WHERE candidate_id = ?",
                                        why, whylen);
        if (!c)
            return OZ_SCHED_EDB;
        oz_sql_bind_int64(c, 1, cid);
        if ((step = oz_sql_step(c)) == OZ_SQL_ROW) {
            all = oz_sql_column_int64(c, 0);
            top = oz_sql_column_double(c, 1);
            best_score = oz_sql_column_double(c, 2);
        }
        oz_sql_reset(c);
        if (step != OZ_SQL_ROW)
            return oz_store_dberr(s, "candidates", why, whylen);
        if (all == 0)
            return OZ_SCHED_OK; /* merged away */
    }
    oz_sql_bind_int64(st, 1, cid);
    oz_sql_bind_int64(st, 2, unit);
    oz_sql_bind_double(st, 3, top);
    struct {
        char type[16];
        double freq, chirp, power, time_s, ra, dec, fb;
        int64_t time_ns, pixel, dataset;
        bool has_ns, has_pos, has_fb;
    } b = {0};
    while ((step = oz_sql_step(st)) == OZ_SQL_ROW) {
        count++;
        double power = oz_sql_column_double(st, 4), score = oz_sql_column_double(st, 5);
        if (score > best_score)
            best_score = score;
        key_of(key, sizeof key, oz_store_col_text(st, 14), oz_store_col_text(st, 1),
               oz_sql_column_int64(st, 6), oz_sql_column_double(st, 2));
        if (power < best_power || (power == best_power && strcmp(key, best_key) >= 0))
            continue;
        best_power = power;
        memcpy(best_key, key, sizeof key);
        best = oz_sql_column_int64(st, 0);
        snprintf(b.type, sizeof b.type, "%s", oz_store_col_text(st, 1));
        b.freq = oz_sql_column_double(st, 2);
        b.chirp = oz_sql_column_double(st, 3);
        b.power = power;
        b.time_s = oz_sql_column_double(st, 7);
        b.has_ns = oz_sql_column_type(st, 8) != OZ_SQL_NULL;
        b.time_ns = oz_sql_column_int64(st, 8);
        b.has_pos = oz_sql_column_type(st, 11) != OZ_SQL_NULL;
        b.ra = oz_sql_column_double(st, 9);
        b.dec = oz_sql_column_double(st, 10);
        b.pixel = oz_sql_column_int64(st, 11);
        b.has_fb = oz_sql_column_type(st, 12) != OZ_SQL_NULL;
        b.fb = oz_sql_column_double(st, 12);
        b.dataset = oz_sql_column_int64(st, 13);
    }
    oz_sql_reset(st);
    if (step != OZ_SQL_DONE)
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
        oz_sql_bind_int64(st, 1, cid);
        oz_sql_bind_int64(st, 2, nobs);
        oz_sql_bind_int64(st, 3, old_count + count);
        oz_sql_bind_double(st, 4, best_score);
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
    oz_sql_bind_int64(st, 1, cid);
    oz_sql_bind_text(st, 2, best_key, -1);
    oz_sql_bind_int64(st, 3, best);
    oz_sql_bind_int64(st, 4, b.dataset);
    oz_sql_bind_text(st, 5, b.type, -1);
    oz_sql_bind_double(st, 6, b.freq);
    if (b.has_fb)
        oz_sql_bind_double(st, 7, b.fb);
    else
        oz_sql_bind_null(st, 7);
    oz_sql_bind_double(st, 8, b.chirp);
    for (int k = 9; k <= 11; k++)
        oz_sql_bind_null(st, k);
    if (b.has_pos) {
        oz_sql_bind_double(st, 9, b.ra);
        oz_sql_bind_double(st, 10, b.dec);
        oz_sql_bind_int64(st, 11, b.pixel);
    }
    oz_sql_bind_int64(st, 12, nobs);
    oz_sql_bind_int64(st, 13, count);
    oz_sql_bind_double(st, 14, b.power);
    oz_sql_bind_double(st, 15, best_score);
    oz_sql_bind_double(st, 16, b.time_s);
    if (b.has_ns)
        oz_sql_bind_int64(st, 17, b.time_ns);
    else
        oz_sql_bind_null(st, 17);
    return oz_store_exec_stmt(s, st, why, whylen);
}

/* A candidate's RFI verdict and score from what is stored now. */
static int judge(oz_store *s, const oz_cand_config *c, int64_t cid, char *why, size_t whylen)
{
    oz_sql_stmt *st = oz_store_stmt(s,
                                     "SELECT freq_hz, chirp_hz_s, best_score, detections,"
                                     " observations FROM candidates WHERE id = ?",
                                     why, whylen);
    if (!st)
        return OZ_SCHED_EDB;
    oz_sql_bind_int64(st, 1, cid);
    int step = oz_sql_step(st);
    oz_cand_facts f = {0};
    if (step == OZ_SQL_ROW)
        f = (oz_cand_facts){.freq_hz = oz_sql_column_double(st, 0),
                            .chirp_hz_s = oz_sql_column_double(st, 1),
                            .best_score = oz_sql_column_double(st, 2),
                            .detections = oz_sql_column_int64(st, 3),
                            .observations = oz_sql_column_int64(st, 4)};
    oz_sql_reset(st);
    if (step == OZ_SQL_DONE)
        return OZ_SCHED_OK; /* merged away */
    if (step != OZ_SQL_ROW)
        return oz_store_dberr(s, "candidates", why, whylen);
    const char *rule;
    double score;
    int rc = verdict(s, c, &f, &rule, &score, why, whylen);
    if (rc != OZ_SCHED_OK)
        return rc;
    if (!(st = oz_store_stmt(s,
                             "UPDATE candidates SET rfi = ?2, score = ?3, rfi_pixels = ?4"
                             " WHERE id = ?1",
                             why, whylen)))
        return OZ_SCHED_EDB;
    oz_sql_bind_int64(st, 1, cid);
    if (rule)
        oz_sql_bind_text(st, 2, rule, -1);
    else
        oz_sql_bind_null(st, 2);
    oz_sql_bind_double(st, 3, score);
    oz_sql_bind_int64(st, 4, f.pixels);
    return oz_store_exec_stmt(s, st, why, whylen);
}

/* The candidates whose topocentric frequency lies in the bins around f's
 * (those whose evidence includes f's bin), into J. */
static int near(oz_store *s, const oz_cand_config *c, double f, idset *J, char *why,
                size_t whylen)
{
    double w = c->rfi_freq_tol_hz > 0 ? c->rfi_freq_tol_hz : 1;
    int64_t b = bin_of(c, f);
    oz_sql_stmt *st = oz_store_stmt(
        s, "SELECT id FROM candidates INDEXED BY candidates_freq WHERE freq_hz BETWEEN ? AND ?",
        why, whylen);
    if (!st)
        return OZ_SCHED_EDB;
    oz_sql_bind_double(st, 1, (double)(b - 1) * w);
    oz_sql_bind_double(st, 2, (double)(b + 2) * w);
    int step, rc = OZ_SCHED_OK;
    while (rc == OZ_SCHED_OK && (step = oz_sql_step(st)) == OZ_SQL_ROW)
        rc = idset_add(J, oz_sql_column_int64(st, 0));
    if (rc == OZ_SCHED_OK && step != OZ_SQL_DONE)
        rc = oz_store_dberr(s, "candidates", why, whylen);
    oz_sql_reset(st);
    return rc;
}

static bool idset_has(const idset *s, int64_t id)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i] == id)
            return true;
    return false;
}

int oz_store_candidates_add(oz_store *s, const oz_cand_config *c, const oz_assimilate_unit *a,
                            const oz_signal_row *rows, size_t n, double gap_s, char *why,
                            size_t whylen)
{
    near_sig *w = NULL;
    size_t nw = 0;
    merges m = {0};
    others o = {0};
    char unit[OZ_WU_ID_MAX + 1] = "";
    /* W: made of more than one signal here (merged, or fresh then joined):
     * summarised from all members; T: grown by this unit's signals alone;
     * F: fresh, one signal, complete as inserted */
    idset L = {0}, T = {0}, W = {0}, F = {0};
    newsig *x = calloc(n ? n : 1, sizeof *x);
    bool *news = calloc(n ? n : 1, sizeof *news);
    /* PostgreSQL: one transaction at a time groups (every scheduler's
     * assimilator), so that each sees the candidates the last one made */
    bool got;
    int rc = x && news
                 ? oz_store_lock(
                       s,
                       "SELECT CAST(?1 AS INTEGER) /*PG: , pg_advisory_xact_lock(" OZ_CAND_LOCK_SQL
                       ", CAST(?1 AS INTEGER)) */",
                       0, &got, why, whylen)
                 : OZ_SCHED_ENOMEM;
    if (rc == OZ_SCHED_OK)
        rc = unit_signals(s, a, rows, n, x, unit, sizeof unit, why, whylen);
    /* the unit's pixels first: a fresh candidate's verdict is made with them */
    for (size_t i = 0; rc == OZ_SCHED_OK && i < n; i++)
        rc = bin_add(s, c, &x[i], &news[i], why, whylen);
    if (rc == OZ_SCHED_OK && n > 0)
        rc = window(s, x, n, gap_s, &w, &nw, why, whylen);
    if (rc == OZ_SCHED_OK)
        rc = others_find(s, x, n, &o, why, whylen);
    for (size_t i = 0; rc == OZ_SCHED_OK && i < n; i++) {
        int64_t cid;
        L.n = 0;
        if ((rc = links(s, c, x, i, w, nw, &o, &m, gap_s, &L, why, whylen)) != OZ_SCHED_OK)
            break;
        idset_uniq(&L);
        /* a candidate fresh in this unit that grows needs its whole summary */
        bool whole = L.n > 1;
        for (size_t k = 0; !whole && k < L.n; k++)
            whole = idset_has(&F, L.v[k]);
        if ((rc = join(s, c, a, &x[i], unit, &L, &m, &cid, why, whylen)) == OZ_SCHED_OK)
            rc = idset_add(L.n == 0 ? &F : whole ? &W : &T, cid);
    }
    /* every candidate grown gets its summary (a fresh id may be one merged
     * away before: its new row is complete); then they and every candidate
     * near a new pixel of a frequency bin get their verdict */
    idset_uniq(&T);
    idset_uniq(&W);
    idset_uniq(&F);
    for (size_t i = 0; rc == OZ_SCHED_OK && i < T.n; i++)
        if (!idset_in(&W, T.v[i]) && !idset_in(&F, T.v[i]))
            rc = summarise(s, T.v[i], false, a->unit_rowid, why, whylen);
    for (size_t i = 0; rc == OZ_SCHED_OK && i < W.n; i++) {
        rc = summarise(s, W.v[i], true, a->unit_rowid, why, whylen);
        if (rc == OZ_SCHED_OK)
            rc = idset_add(&T, W.v[i]);
    }
    for (size_t i = 0; rc == OZ_SCHED_OK && i < n; i++)
        if (news[i])
            rc = near(s, c, x[i].g.freq_hz, &T, why, whylen);
    idset_uniq(&T);
    idset_uniq(&W);
    for (size_t i = 0; rc == OZ_SCHED_OK && i < T.n; i++)
        if (!idset_in(&F, T.v[i]) || idset_in(&W, T.v[i]))
            rc = judge(s, c, T.v[i], why, whylen);
    if (rc == OZ_SCHED_ENOMEM)
        oz_sched_fail(rc, why, whylen, "out of memory");
    free(x);
    free(w);
    free(news);
    free(m.from);
    free(m.to);
    free(o.v);
    free(L.v);
    free(T.v);
    free(W.v);
    free(F.v);
    return rc;
}
