/*
 * result_bin.c - packs and unpacks a parsed result (result_bin.h): a
 * fixed little-endian layout written by the upload's thread and read by
 * the validator and the assimilator, bounded as any parser of stored bytes.
 */
#include "result_bin.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC "OZR1"
#define SIG_DOUBLES 17
#define SIG_MIN (1 + 4 + 3)                   /* a signal's bytes with no double */
#define SIG_BYTES (SIG_MIN + 8 * SIG_DOUBLES) /* with every one */

/* A new field in oz_signal must be packed too (sig_doubles below). */
_Static_assert(sizeof(oz_signal) == 8 + 8 * SIG_DOUBLES, "oz_signal's fields are all packed");

/* The signal's doubles in oz_signal's order, to pack or unpack. */
static void sig_doubles(oz_signal *g, double **d)
{
    double *f[SIG_DOUBLES] = {
        &g->freq_hz,    &g->chirp_hz_s, &g->time_s,  &g->power,  &g->score,      &g->period_s,
        &g->sigma_s,    &g->chisq,      &g->start_s, &g->end_s,  &g->mean_power, &g->delay_s,
        &g->null_chisq, &g->max_power,  &g->snr,     &g->thresh, &g->len_prof};
    memcpy(d, f, sizeof f);
}

static unsigned char *put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        *p++ = (unsigned char)(v >> (8 * i));
    return p;
}

static unsigned char *put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        *p++ = (unsigned char)(v >> (8 * i));
    return p;
}

static unsigned char *put_f64(unsigned char *p, double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return put_u64(p, u);
}

static unsigned char *put_str(unsigned char *p, const char *s, size_t max)
{
    size_t n = strnlen(s, max);
    *p++ = (unsigned char)n;
    memcpy(p, s, n);
    return p + n;
}

/* Is v's bit pattern zero (-0.0 is not: it is kept as it was)? */
static bool zero(double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return u == 0;
}

static unsigned char *put_sig(unsigned char *p, const oz_signal *g)
{
    oz_signal copy = *g;
    double *d[SIG_DOUBLES];
    sig_doubles(&copy, d);
    uint32_t mask = 0;
    for (int i = 0; i < SIG_DOUBLES; i++)
        mask |= (uint32_t)!zero(*d[i]) << i;
    *p++ = (unsigned char)g->type;
    p = put_u32(p, g->fft_len);
    for (int i = 0; i < 3; i++)
        *p++ = (unsigned char)(mask >> (8 * i));
    for (int i = 0; i < SIG_DOUBLES; i++)
        if (mask >> i & 1)
            p = put_f64(p, *d[i]);
    return p;
}

int oz_result_bin_pack(const oz_wu_result *r, unsigned char **out, size_t *len)
{
    const oz_sci_result *s = &r->result;
    size_t nbest = 0;
    for (int t = 0; t < OZ_SIG_NTYPES; t++)
        nbest += s->has_best[t];
    size_t n = 4 + 1 + OZ_WU_ID_MAX + 32 + 8 + 8 + 8 + 1 + sizeof s->kernel_version + 1 +
               OZ_SIG_NTYPES + (nbest + s->nsignals) * SIG_BYTES + 4;
    unsigned char *b = malloc(n), *p = b;
    *out = NULL;
    *len = 0;
    if (!b)
        return OZ_SCHED_ENOMEM;
    memcpy(p, MAGIC, 4);
    p = put_str(p + 4, r->unit_id, OZ_WU_ID_MAX);
    memcpy(p, r->unit_sha256, 32);
    p = put_u64(p + 32, s->flops);
    p = put_f64(p, s->cpu_s);
    p = put_f64(p, s->fft_s);
    p = put_str(p, s->kernel_version, sizeof s->kernel_version - 1);
    *p++ = s->overflow;
    for (int t = 0; t < OZ_SIG_NTYPES; t++)
        *p++ = s->has_best[t];
    for (int t = 0; t < OZ_SIG_NTYPES; t++)
        if (s->has_best[t])
            p = put_sig(p, &s->best[t]);
    p = put_u32(p, (uint32_t)s->nsignals);
    for (size_t i = 0; i < s->nsignals; i++)
        p = put_sig(p, &s->signals[i]);
    *out = b;
    *len = (size_t)(p - b);
    return OZ_SCHED_OK;
}

/* A cursor over the packed bytes: each take fails (false) past the end. */
typedef struct cursor {
    const unsigned char *p;
    size_t left;
} cursor;

static bool take(cursor *c, void *dst, size_t n)
{
    if (c->left < n)
        return false;
    memcpy(dst, c->p, n);
    c->p += n;
    c->left -= n;
    return true;
}

static bool take_u64(cursor *c, uint64_t *v)
{
    unsigned char b[8];
    if (!take(c, b, 8))
        return false;
    *v = 0;
    for (int i = 7; i >= 0; i--)
        *v = *v << 8 | b[i];
    return true;
}

static bool take_u32(cursor *c, uint32_t *v)
{
    unsigned char b[4];
    if (!take(c, b, 4))
        return false;
    *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return true;
}

static bool take_f64(cursor *c, double *v)
{
    uint64_t u;
    if (!take_u64(c, &u))
        return false;
    memcpy(v, &u, sizeof *v);
    return true;
}

/* A length byte (at most max) and that many characters into s. */
static bool take_str(cursor *c, char *s, size_t max)
{
    unsigned char n;
    if (!take(c, &n, 1) || n > max || !take(c, s, n))
        return false;
    s[n] = '\0';
    return strlen(s) == n;
}

static bool take_sig(cursor *c, oz_signal *g)
{
    unsigned char type, m[3];
    memset(g, 0, sizeof *g);
    if (!take(c, &type, 1) || type >= OZ_SIG_NTYPES || !take_u32(c, &g->fft_len) || !take(c, m, 3))
        return false;
    uint32_t mask = (uint32_t)m[0] | (uint32_t)m[1] << 8 | (uint32_t)m[2] << 16;
    if (mask >> SIG_DOUBLES)
        return false;
    g->type = (oz_sig_type)type;
    double *d[SIG_DOUBLES];
    sig_doubles(g, d);
    for (int i = 0; i < SIG_DOUBLES; i++)
        if (mask >> i & 1 && (!take_f64(c, d[i]) || zero(*d[i])))
            return false;
    return true;
}

int oz_result_bin_unpack(const unsigned char *p, size_t len, oz_wu_result *out, char *why,
                         size_t whylen)
{
    memset(out, 0, sizeof *out);
    oz_sci_result *s = &out->result;
    cursor c = {p, len};
    char magic[4];
    unsigned char flag, best[OZ_SIG_NTYPES];
    uint32_t n;
    if (!take(&c, magic, 4) || memcmp(magic, MAGIC, 4) != 0)
        return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen, "packed result: no %s magic", MAGIC);
    if (!take_str(&c, out->unit_id, OZ_WU_ID_MAX) || !take(&c, out->unit_sha256, 32) ||
        !take_u64(&c, &s->flops) || !take_f64(&c, &s->cpu_s) || !take_f64(&c, &s->fft_s) ||
        !take_str(&c, s->kernel_version, sizeof s->kernel_version - 1) || !take(&c, &flag, 1) ||
        flag > 1 || !take(&c, best, sizeof best))
        goto bad;
    s->overflow = flag;
    for (int t = 0; t < OZ_SIG_NTYPES; t++) {
        if (best[t] > 1)
            goto bad;
        s->has_best[t] = best[t];
        if (best[t] && (!take_sig(&c, &s->best[t]) || s->best[t].type != (oz_sig_type)t))
            goto bad;
    }
    if (!take_u32(&c, &n) || n > OZ_SCI_SIGNALS_MAX || (size_t)n * SIG_MIN > c.left)
        goto bad;
    if (n && !(s->signals = calloc(n, sizeof *s->signals)))
        return oz_sched_fail(OZ_SCHED_ENOMEM, why, whylen, "out of memory");
    s->nsignals = n;
    for (uint32_t i = 0; i < n; i++)
        if (!take_sig(&c, &s->signals[i]))
            goto bad;
    if (c.left) /* bytes after the last signal */
        goto bad;
    return OZ_SCHED_OK;
bad:
    oz_wu_result_clear(out);
    return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen,
                         "packed result: malformed at byte %zu of %zu", len - c.left, len);
}

int oz_result_bin_read(const unsigned char *bin, size_t binlen, const char *json, oz_wu_result *out,
                       char *why, size_t whylen)
{
    if (bin)
        return oz_result_bin_unpack(bin, binlen, out, why, whylen);
    memset(out, 0, sizeof *out);
    if (!json)
        return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen, "no result");
    char sub[256] = "";
    if (oz_wu_result_parse(json, strlen(json), out, sub, sizeof sub) != OZ_WU_OK)
        return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen, "result: %s", sub);
    return OZ_SCHED_OK;
}
