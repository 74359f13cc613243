/*
 * unitstream.c - streaming the units of a plan out of a reader.
 *
 * The recording is read once, front to back.  One buffer holds the current
 * unit in the reader's stored format; moving to the next unit slides the
 * samples it shares with the current one (the overlap, or more for the tail
 * unit) to the front and reads only the rest.  Memory is one unit of stored
 * samples plus, when a caller asks for floats, one unit of complex float32
 * - whatever the recording's length.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct oz_wu_units {
    oz_wu_reader *r; /* borrowed */
    oz_wu_plan plan;
    size_t bps;
    unsigned char *buf; /* plan.unit samples, stored format */
    float *cf32;        /* 2 * plan.unit floats, made on demand */
    bool cf32_valid;
    uint64_t next;      /* index of the next unit to load */
    uint64_t buf_start; /* recording sample held at buf[0] */
    bool loaded;        /* buf holds unit next-1 */
};

int oz_wu_units_new(oz_wu_reader *r, const oz_wu_plan *p, oz_wu_units **out, char *why,
                    size_t whylen)
{
    *out = NULL;
    if (p->nsamples != r->info.nsamples || p->unit == 0 || p->unit > OZ_WU_UNIT_SAMPLES_MAX ||
        p->nunits == 0)
        return oz_wu_fail(OZ_WU_EINVAL, why, whylen,
                          "%s: the unit plan is for %llu samples but the input has %llu", r->label,
                          (unsigned long long)p->nsamples, (unsigned long long)r->info.nsamples);
    oz_wu_units *u = calloc(1, sizeof *u);
    if (!u)
        return oz_wu_fail(OZ_WU_ENOMEM, why, whylen, "%s: out of memory", r->label);
    u->r = r;
    u->plan = *p;
    u->bps = oz_wu_format_size(r->info.format);
    u->buf = malloc((size_t)p->unit * u->bps);
    if (!u->buf) {
        free(u);
        return oz_wu_fail(OZ_WU_ENOMEM, why, whylen, "%s: out of memory for a unit of %llu samples",
                          r->label, (unsigned long long)p->unit);
    }
    int rc = oz_wu_reader_seek(r, 0, why, whylen);
    if (rc != OZ_WU_OK) {
        oz_wu_units_free(u);
        return rc;
    }
    *out = u;
    return OZ_WU_OK;
}

int oz_wu_units_next(oz_wu_units *u, oz_wu_unit_view *v, char *why, size_t whylen)
{
    if (u->next >= u->plan.nunits)
        return 0;
    uint64_t start = oz_wu_plan_start(&u->plan, u->next);
    uint64_t unit = u->plan.unit;
    uint64_t keep = 0;
    if (u->loaded && start < u->buf_start + unit) {
        keep = u->buf_start + unit - start;
        memmove(u->buf, u->buf + (size_t)(start - u->buf_start) * u->bps, (size_t)keep * u->bps);
    } else if (u->loaded && start != u->buf_start + unit) {
        /* Never happens with oz_wu_plan_make plans; seek for other plans. */
        int rc = oz_wu_reader_seek(u->r, start, why, whylen);
        if (rc != OZ_WU_OK)
            return rc;
    }
    u->loaded = false;
    u->cf32_valid = false;
    uint64_t have = keep;
    while (have < unit) {
        size_t got;
        int rc = oz_wu_reader_read_native(u->r, u->buf + (size_t)have * u->bps,
                                          (size_t)(unit - have), &got, why, whylen);
        if (rc != OZ_WU_OK)
            return rc;
        if (got == 0)
            return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                              "%s: the input ended at sample %llu, inside unit %llu", u->r->label,
                              (unsigned long long)(start + have), (unsigned long long)u->next);
        have += got;
    }
    u->buf_start = start;
    u->loaded = true;
    v->index = u->next;
    v->start_sample = start;
    v->nsamples = unit;
    v->start_s = (double)start / u->r->info.sample_rate;
    v->native = u->buf;
    v->native_bytes = (size_t)unit * u->bps;
    u->next++;
    return 1;
}

const float *oz_wu_units_cf32(oz_wu_units *u)
{
    if (!u->loaded)
        return NULL;
    if (u->r->info.format == OZ_WU_CF32 && OZ_WU_HOST_LE)
        return (const float *)(const void *)u->buf; /* already floats */
    if (!u->cf32) {
        u->cf32 = malloc(2 * (size_t)u->plan.unit * sizeof(float));
        if (!u->cf32)
            return NULL;
    }
    if (!u->cf32_valid) {
        oz_wu_format_to_cf32(u->r->info.format, u->buf, (size_t)u->plan.unit, u->cf32);
        u->cf32_valid = true;
    }
    return u->cf32;
}

void oz_wu_units_free(oz_wu_units *u)
{
    if (!u)
        return;
    free(u->buf);
    free(u->cf32);
    free(u);
}
