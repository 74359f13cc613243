/*
 * searchrec.c - searching a whole input: every unit the splitter would cut,
 * one result on the recording's clock.
 *
 * Each unit is searched by the kernel exactly as a worker would search its
 * .ozwu file (same samples, same configuration), one unit of samples in
 * memory at a time.  Signal times (and a line's start_s/end_s) are shifted
 * by the unit's start, so every time counts from the input's first sample;
 * frequencies are absolute and need no shift.  Merging follows the kernel's
 * own rule (found.c): a signal that oz_sci_signal_same pairs with a listed
 * one replaces it when stronger and is dropped otherwise, and a replacement
 * absorbs any other listed signal it now matches - so a signal seen in two
 * overlapping units, or a persistent tone seen in every unit, is reported
 * once, at its strongest.  The seti mode merges nothing: v8 lists every
 * detection, and so does Ozma in that mode.
 * The merged list is not capped (each unit is); overflow says whether any
 * unit was cut short.  A one-unit plan (an .ozwu file) returns exactly the
 * kernel's result, signal order included, as a worker would report it;
 * several units' signals are sorted by time.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct merged {
    oz_signal *list;
    size_t n, cap;
    double fs, chirp_resolution;
    bool keep_all; /* the seti mode: every detection is a signal, as in v8 */
};

/* Folds list entries that now match list[i] into it. */
static void absorb(struct merged *m, size_t i)
{
    for (size_t j = 0; j < m->n;) {
        if (j != i && oz_sci_signal_same(&m->list[i], &m->list[j], m->fs, m->chirp_resolution)) {
            if (m->list[j].score > m->list[i].score)
                m->list[i] = m->list[j];
            m->list[j] = m->list[m->n - 1];
            if (i == m->n - 1)
                i = j;
            m->n--;
            j = 0;
            continue;
        }
        j++;
    }
}

static int merge_one(struct merged *m, const oz_signal *s)
{
    for (size_t i = 0; i < m->n && !m->keep_all; i++) {
        if (oz_sci_signal_same(&m->list[i], s, m->fs, m->chirp_resolution)) {
            if (s->score > m->list[i].score) {
                m->list[i] = *s;
                absorb(m, i);
            }
            return OZ_WU_OK;
        }
    }
    if (m->n == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 64;
        oz_signal *l = realloc(m->list, cap * sizeof *l);
        if (!l)
            return OZ_WU_ENOMEM;
        m->list = l;
        m->cap = cap;
    }
    m->list[m->n++] = *s;
    return OZ_WU_OK;
}

static int by_time(const void *pa, const void *pb)
{
    const oz_signal *a = pa, *b = pb;
    if (a->time_s != b->time_s)
        return a->time_s < b->time_s ? -1 : 1;
    if (a->freq_hz != b->freq_hz)
        return a->freq_hz < b->freq_hz ? -1 : 1;
    if (a->type != b->type)
        return a->type < b->type ? -1 : 1;
    return a->fft_len < b->fft_len ? -1 : a->fft_len > b->fft_len;
}

struct progress_ctx {
    oz_wu_progress_fn fn;
    void *arg;
    uint64_t unit, nunits;
};

static void on_step(void *arg, size_t done, size_t total)
{
    struct progress_ctx *p = arg;
    p->fn(p->arg, p->unit, p->nunits, done, total);
}

/* Moves a unit's signal onto the input's clock: its time and, for a line,
 * the stretch it spans (all counted from the unit's first sample). */
static void shift_time(oz_signal *s, double t0)
{
    s->time_s += t0;
    if (s->type == OZ_SIG_LINE) {
        s->start_s += t0;
        s->end_s += t0;
    }
}

/* Searches n samples of one unit and folds its result into the totals. */
static int search_unit(const oz_sci_config *cfg, const float *iq, size_t n, const oz_wu_info *info,
                       double t0, struct progress_ctx *pc, struct merged *m, oz_sci_result *out,
                       const char *label, char *why, size_t whylen)
{
    char sub[256];
    oz_sci_search *s = NULL;
    oz_sci_result ur;
    memset(&ur, 0, sizeof ur);
    int rc = oz_sci_search_new(cfg, iq, n, info->sample_rate, info->center_hz, &s, sub, sizeof sub);
    if (rc != OZ_SCI_OK)
        return oz_wu_fail(rc == OZ_SCI_ENOMEM ? OZ_WU_ENOMEM : OZ_WU_ESCIENCE, why, whylen,
                          "%s: unit %llu: %s", label, (unsigned long long)pc->unit,
                          sub[0] ? sub : oz_sci_strerror(rc));
    rc = oz_sci_search_run(s, pc->fn ? on_step : NULL, pc);
    if (rc == OZ_SCI_OK)
        rc = oz_sci_search_result(s, &ur);
    oz_sci_search_free(s);
    if (rc != OZ_SCI_OK)
        return oz_wu_fail(rc == OZ_SCI_ENOMEM ? OZ_WU_ENOMEM : OZ_WU_ESCIENCE, why, whylen,
                          "%s: unit %llu: %s", label, (unsigned long long)pc->unit,
                          oz_sci_strerror(rc));
    for (size_t i = 0; i < ur.nsignals && rc == OZ_WU_OK; i++) {
        oz_signal sig = ur.signals[i];
        shift_time(&sig, t0);
        rc = merge_one(m, &sig);
    }
    for (int t = 0; t < OZ_SIG_NTYPES; t++) {
        if (!ur.has_best[t])
            continue;
        oz_signal b = ur.best[t];
        shift_time(&b, t0);
        if (!out->has_best[t] || b.score > out->best[t].score) {
            out->best[t] = b;
            out->has_best[t] = true;
        }
    }
    out->overflow |= ur.overflow;
    out->flops += ur.flops;
    out->cpu_s += ur.cpu_s;
    out->fft_s += ur.fft_s;
    if (!out->kernel_version[0])
        memcpy(out->kernel_version, ur.kernel_version, sizeof out->kernel_version);
    oz_sci_result_clear(&ur);
    if (rc != OZ_WU_OK)
        return oz_wu_fail(rc, why, whylen, "%s: out of memory merging signals", label);
    return OZ_WU_OK;
}

int oz_wu_search_plan(oz_wu_reader *r, const oz_wu_plan *p, const oz_sci_config *cfg,
                      oz_wu_progress_fn progress, void *arg, oz_sci_result *out, char *why,
                      size_t whylen)
{
    memset(out, 0, sizeof *out);
    if (!r || !p || !cfg)
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "no input, plan or configuration given");
    struct merged m = {.fs = r->info.sample_rate,
                       .chirp_resolution = cfg->chirp_resolution,
                       .keep_all = cfg->mode == OZ_MODE_SETI};
    struct progress_ctx pc = {progress, arg, 0, p->nunits};
    oz_wu_units *units = NULL;
    int rc;
    const float *whole = oz_wu_reader_unit_samples(r);
    if (whole && p->nunits == 1 && p->unit == r->info.nsamples) {
        /* An .ozwu file: search its verified samples in place. */
        rc = search_unit(cfg, whole, (size_t)p->unit, &r->info, 0.0, &pc, &m, out, r->label, why,
                         whylen);
        goto out;
    }
    rc = oz_wu_units_new(r, p, &units, why, whylen);
    if (rc != OZ_WU_OK)
        goto out;
    oz_wu_unit_view v;
    while ((rc = oz_wu_units_next(units, &v, why, whylen)) == 1) {
        const float *iq = oz_wu_units_cf32(units);
        if (!iq) {
            rc = oz_wu_fail(OZ_WU_ENOMEM, why, whylen, "%s: out of memory", r->label);
            goto out;
        }
        pc.unit = v.index;
        rc = search_unit(cfg, iq, (size_t)v.nsamples, &r->info, v.start_s, &pc, &m, out, r->label,
                         why, whylen);
        if (rc != OZ_WU_OK)
            goto out;
    }
out:
    oz_wu_units_free(units);
    if (rc != OZ_WU_OK) {
        free(m.list);
        memset(out, 0, sizeof *out);
        return rc;
    }
    /* One unit: exactly the kernel's result, in its order.  Several: one
     * list on the recording's clock, by time. */
    if (p->nunits > 1 && m.n > 1)
        qsort(m.list, m.n, sizeof *m.list, by_time);
    out->signals = m.list;
    out->nsignals = m.n;
    return OZ_WU_OK;
}

int oz_wu_search(oz_wu_reader *r, const oz_sci_config *cfg, uint64_t unit_samples, double overlap,
                 oz_wu_progress_fn progress, void *arg, oz_sci_result *out, char *why,
                 size_t whylen)
{
    memset(out, 0, sizeof *out);
    if (!r)
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen, "no input given");
    oz_sci_config c;
    oz_wu_plan plan;
    char sub[256];
    int rc;
    if (r->unit) {
        c = cfg ? *cfg : r->unit->config;
        rc = oz_wu_plan_whole(r->info.nsamples, &plan, sub, sizeof sub);
    } else {
        if (cfg)
            c = *cfg;
        else
            oz_sci_config_default(&c);
        uint64_t unit = unit_samples ? unit_samples : OZ_WU_UNIT_SAMPLES_DEFAULT;
        if (unit < c.fft_max)
            return oz_wu_fail(OZ_WU_EINVAL, why, whylen,
                              "units of %llu samples are shorter than the largest FFT (fft_max "
                              "%u)",
                              (unsigned long long)unit, c.fft_max);
        rc = oz_wu_plan_make(r->info.nsamples, unit, overlap < 0 ? OZ_WU_OVERLAP_DEFAULT : overlap,
                             &plan, sub, sizeof sub);
    }
    if (rc != OZ_WU_OK)
        return oz_wu_fail(rc, why, whylen, "%s: %s", r->label, sub);
    return oz_wu_search_plan(r, &plan, &c, progress, arg, out, why, whylen);
}

/* Adds "time_utc" for signal s to obj. */
static int add_utc(json_t *obj, const oz_signal *s, int64_t start_ns)
{
    char t[48];
    if (oz_wu_time_format(oz_wu_time_add(start_ns, s->time_s), 6, t, sizeof t) != OZ_WU_OK)
        return -1;
    return json_object_set_new(obj, "time_utc", json_string(t));
}

json_t *oz_wu_search_json(const oz_sci_result *res, const oz_wu_reader *r)
{
    json_t *j = oz_sci_result_to_json(res);
    if (!j || !r || !r->info.has_time)
        return j;
    int64_t t0 = r->info.start_ns;
    json_t *sigs = json_object_get(j, "signals");
    if (json_array_size(sigs) != res->nsignals)
        goto fail;
    for (size_t i = 0; i < res->nsignals; i++)
        if (add_utc(json_array_get(sigs, i), &res->signals[i], t0) != 0)
            goto fail;
    json_t *best = json_object_get(j, "best");
    const char *key;
    json_t *v;
    json_object_foreach(best, key, v)
    {
        oz_sig_type t;
        if (oz_sig_type_parse(key, &t) != OZ_SCI_OK || !res->has_best[t] ||
            add_utc(v, &res->best[t], t0) != 0)
            goto fail;
    }
    char start[48];
    if (oz_wu_time_format(t0, 6, start, sizeof start) != OZ_WU_OK ||
        json_object_set_new(j, "start_utc", json_string(start)) != 0)
        goto fail;
    return j;
fail:
    json_decref(j);
    return NULL;
}
