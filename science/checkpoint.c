/*
 * checkpoint.c - a search's state saved to a string and restored into a
 * fresh search of the same unit (oz_sci_search_save, _restore).
 *
 * What changes from step to step (steps done, the found list with its
 * tracks, the best of each type, CPU time) is all there is to save: the
 * samples belong to the caller, and the plan, FFTW plans and work arrays are
 * rebuilt by oz_sci_search_new.  A saved state names the unit by a
 * fingerprint of its samples and carries the configuration, so it cannot be
 * restored onto another unit.  Signals are saved with the result JSON
 * writer, whose doubles print with 17 significant digits, so a restored
 * search continues bit-identically.  The found list is saved whole and in
 * merge order (oz_search_result_make's unreported form): later merges depend
 * on it.  The seti mode saves the same identity around what seti_search.c
 * saves.  A state that does not parse, or belongs elsewhere, leaves the
 * search untouched.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "search.h"

#define OZ_SEARCH_STATE_FORMAT "ozma-search-state/1"
#define OZ_SETI_STATE_FORMAT "ozma-seti-state/1"

/* The seti mode's state: the unit's identity and configuration, as Ozma's,
 * with what seti_search.c saves. */
static int save_seti(const oz_sci_search *s, char **out)
{
    char fp[17];
    snprintf(fp, sizeof fp, "%016llx", (unsigned long long)s->fingerprint);
    json_t *state =
        json_pack("{s:s, s:I, s:f, s:f, s:s, s:o, s:o}", "format", OZ_SETI_STATE_FORMAT, "samples",
                  (json_int_t)s->n, "sample_rate", s->fs, "center_hz", s->f0, "fingerprint", fp,
                  "config", oz_sci_config_to_json(&s->cfg), "seti", oz_seti_run_save(s->seti));
    if (!state)
        return OZ_SCI_ENOMEM;
    *out = json_dumps(state, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(state);
    return *out ? OZ_SCI_OK : OZ_SCI_ENOMEM;
}

/* Whether a saved state's unit and configuration are this search's. */
static int check_unit(const oz_sci_search *s, json_int_t n, double fs, double f0, const char *fp,
                      const json_t *cfg, char *why, size_t whylen)
{
    char fp_now[17];
    snprintf(fp_now, sizeof fp_now, "%016llx", (unsigned long long)s->fingerprint);
    if (n != (json_int_t)s->n || fs != s->fs || f0 != s->f0 || strcmp(fp, fp_now) != 0)
        return oz_sci_fail(OZ_SCI_EMISMATCH, why, whylen,
                           "search state is for another unit (%lld samples, fingerprint %s; "
                           "this one has %zu, %s)",
                           (long long)n, fp, s->n, fp_now);
    json_t *cfg_now = oz_sci_config_to_json(&s->cfg);
    if (!cfg_now)
        return OZ_SCI_ENOMEM;
    bool same = json_equal(cfg, cfg_now);
    json_decref(cfg_now);
    if (!same)
        return oz_sci_fail(OZ_SCI_EMISMATCH, why, whylen,
                           "search state was made with another analysis configuration");
    return OZ_SCI_OK;
}

static int restore_seti(oz_sci_search *s, json_t *state, char *why, size_t whylen)
{
    json_error_t jerr;
    const char *format = NULL, *fp = NULL;
    json_int_t n = 0;
    double fs = 0, f0 = 0;
    json_t *cfg = NULL, *seti = NULL;
    if (json_unpack_ex(state, &jerr, JSON_STRICT, "{s:s, s:I, s:F, s:F, s:s, s:o, s:o}", "format",
                       &format, "samples", &n, "sample_rate", &fs, "center_hz", &f0, "fingerprint",
                       &fp, "config", &cfg, "seti", &seti))
        return oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "search state: %s", jerr.text);
    if (strcmp(format, OZ_SETI_STATE_FORMAT) != 0)
        return oz_sci_fail(OZ_SCI_EPARSE, why, whylen,
                           "search state: format \"%s\", expected \"%s\"", format,
                           OZ_SETI_STATE_FORMAT);
    int rc = check_unit(s, n, fs, f0, fp, cfg, why, whylen);
    return rc ? rc : oz_seti_run_restore(s->seti, seti, why, whylen);
}

int oz_sci_search_save(const oz_sci_search *s, char **out)
{
    *out = NULL;
    if (s->seti)
        return save_seti(s, out);
    oz_sci_result r;
    char fp[17];
    int rc = oz_search_result_make(s, &r, false);
    if (rc)
        return rc;
    snprintf(fp, sizeof fp, "%016llx", (unsigned long long)s->fingerprint);
    json_t *res = oz_sci_result_to_json(&r);
    json_t *cfg = oz_sci_config_to_json(&s->cfg);
    json_t *state = NULL, *tracks = NULL;
    rc = OZ_SCI_ENOMEM;
    if (!res || !cfg)
        goto out;
    tracks = json_array();
    for (size_t i = 0; tracks && i < s->found.n; i++) {
        const oz_track *t = &s->found.tracks[i];
        if (json_array_append_new(tracks, json_pack("[f,f,f,f,f,f,f,f]", t->w, t->t, t->f, t->tt,
                                                    t->tf, t->t_last, t->f_last, t->len_last)))
            goto out;
    }
    if (!tracks)
        goto out;
    state = json_pack("{s:s, s:I, s:f, s:f, s:s, s:I, s:O, s:O, s:f, s:b, s:O}", "format",
                      OZ_SEARCH_STATE_FORMAT, "samples", (json_int_t)s->n, "sample_rate", s->fs,
                      "center_hz", s->f0, "fingerprint", fp, "done", (json_int_t)s->done, "config",
                      cfg, "result", res, "fref", s->found.fref, "has_fref", s->found.has_fref,
                      "tracks", tracks);
    if (!state)
        goto out;
    *out = json_dumps(state, JSON_COMPACT | JSON_REAL_PRECISION(17));
    rc = *out ? OZ_SCI_OK : OZ_SCI_ENOMEM;
out:
    json_decref(state);
    json_decref(tracks);
    json_decref(cfg);
    json_decref(res);
    oz_sci_result_clear(&r);
    return rc;
}

int oz_sci_search_restore(oz_sci_search *s, const char *text, char *why, size_t whylen)
{
    json_error_t jerr;
    oz_sci_result r = {0};
    oz_track *parsed = NULL;
    json_t *state = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    int rc;
    if (!state) {
        rc = oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "search state: %s (line %d, column %d)",
                         jerr.text, jerr.line, jerr.column);
        goto out;
    }
    if (s->seti) {
        rc = restore_seti(s, state, why, whylen);
        goto out;
    }
    const char *format = NULL, *fp = NULL;
    json_int_t n = 0, done = 0;
    double fs = 0, f0 = 0;
    double fref = 0;
    int has_fref = 0;
    json_t *cfg = NULL, *res = NULL, *tracks = NULL;
    if (json_unpack_ex(state, &jerr, JSON_STRICT,
                       "{s:s, s:I, s:F, s:F, s:s, s:I, s:o, s:o, s:F, s:b, s:o}", "format", &format,
                       "samples", &n, "sample_rate", &fs, "center_hz", &f0, "fingerprint", &fp,
                       "done", &done, "config", &cfg, "result", &res, "fref", &fref, "has_fref",
                       &has_fref, "tracks", &tracks)) {
        rc = oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "search state: %s", jerr.text);
        goto out;
    }
    if (strcmp(format, OZ_SEARCH_STATE_FORMAT) != 0) {
        rc = oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "search state: format \"%s\", expected \"%s\"",
                         format, OZ_SEARCH_STATE_FORMAT);
        goto out;
    }
    if ((rc = check_unit(s, n, fs, f0, fp, cfg, why, whylen)))
        goto out;
    if (done < 0 || (uint64_t)done > s->nsteps) {
        rc = oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "search state: %lld steps done of %zu",
                         (long long)done, s->nsteps);
        goto out;
    }
    if ((rc = oz_sci_result_from_json(res, &r, why, whylen)))
        goto out;
    if (r.nsignals > s->found.cap) {
        rc = oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "search state: %zu signals, cap is %zu",
                         r.nsignals, s->found.cap);
        goto out;
    }
    if (!json_is_array(tracks) || json_array_size(tracks) != r.nsignals) {
        rc = oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "search state: tracks do not match signals");
        goto out;
    }
    if (r.nsignals && !has_fref) {
        rc = oz_sci_fail(OZ_SCI_EPARSE, why, whylen,
                         "search state: signals listed but no track origin");
        goto out;
    }
    /* parsed aside, so that a bad entry leaves the search untouched */
    if (r.nsignals && !(parsed = calloc(r.nsignals, sizeof *parsed))) {
        rc = OZ_SCI_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < r.nsignals; i++) {
        oz_track *t = &parsed[i];
        if (json_unpack_ex(json_array_get(tracks, i), &jerr, JSON_STRICT, "[F,F,F,F,F,F,F,F]",
                           &t->w, &t->t, &t->f, &t->tt, &t->tf, &t->t_last, &t->f_last,
                           &t->len_last) ||
            !isfinite(t->w + t->t + t->f + t->tt + t->tf + t->t_last + t->f_last + t->len_last)) {
            rc = oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "search state: tracks[%zu] is malformed",
                             i);
            goto out;
        }
    }
    if (r.nsignals)
        memcpy(s->found.tracks, parsed, r.nsignals * sizeof *parsed);
    s->found.fref = fref;
    s->found.has_fref = has_fref;
    if (r.nsignals)
        memcpy(s->found.list, r.signals, r.nsignals * sizeof *r.signals);
    s->found.n = r.nsignals;
    s->found.overflow = r.overflow;
    memcpy(s->found.has_best, r.has_best, sizeof r.has_best);
    memcpy(s->found.best, r.best, sizeof r.best);
    s->done = (size_t)done;
    s->pair_i = 0;
    s->cpu_s = r.cpu_s;
    s->fft_s = r.fft_s;
    rc = OZ_SCI_OK;
out:
    free(parsed);
    oz_sci_result_clear(&r);
    json_decref(state);
    return rc;
}
