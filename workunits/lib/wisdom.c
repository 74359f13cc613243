/*
 * wisdom.c - FFTW's wisdom kept in a file (the kernel's oz_sci_wisdom_*
 * give and take it as text): ozma-search --fft-wisdom and the worker's
 * directory keep what the planner learned, so a unit after the first plans
 * at once.  Read bounded; written durably (temporary file, fsync, rename),
 * and only when it changed: FFTW exports its entries (one per line) in
 * hash-table order, which differs from process to process, so "changed"
 * means another set of lines.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

int oz_wu_wisdom_load(const char *path, char *why, size_t whylen)
{
    struct stat st;
    if (stat(path, &st) != 0 && errno == ENOENT)
        return OZ_WU_OK; /* nothing learned yet */
    char *text = NULL, sw[256];
    size_t len = 0;
    int rc = oz_wu_read_small(path, OZ_SCI_WISDOM_MAX, &text, &len, why, whylen);
    if (rc != OZ_WU_OK)
        return rc;
    int src = oz_sci_wisdom_import(text, len, sw, sizeof sw);
    free(text);
    if (src == OZ_SCI_ENOMEM)
        return oz_wu_fail(OZ_WU_ENOMEM, why, whylen, "%s: out of memory", path);
    if (src != OZ_SCI_OK)
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "%s: %s", path, sw);
    return OZ_WU_OK;
}

static int line_order(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    size_t nx = strcspn(x, "\n"), ny = strcspn(y, "\n");
    int c = memcmp(x, y, nx < ny ? nx : ny);
    return c ? c : (nx > ny) - (nx < ny);
}

/* The starts of text's lines, sorted (malloc'd; *n of them), or NULL. */
static const char **sorted_lines(const char *text, size_t *n)
{
    size_t count = 1;
    for (const char *p = text; (p = strchr(p, '\n')); p++)
        count++;
    const char **v = malloc(count * sizeof *v);
    if (!v)
        return NULL;
    size_t k = 0;
    for (const char *p = text; p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        v[k++] = p;
    qsort(v, k, sizeof *v, line_order);
    *n = k;
    return v;
}

/* Whether two wisdom texts hold the same lines, whatever their order. */
static bool same_lines(const char *a, const char *b)
{
    size_t na = 0, nb = 0;
    const char **va = sorted_lines(a, &na), **vb = sorted_lines(b, &nb);
    bool same = va && vb && na == nb;
    for (size_t i = 0; same && i < na; i++)
        same = line_order(&va[i], &vb[i]) == 0;
    free(va);
    free(vb);
    return same;
}

int oz_wu_wisdom_save(const char *path, char *why, size_t whylen)
{
    char *text = oz_sci_wisdom_export(), *old = NULL;
    size_t len, oldlen = 0;
    if (!text)
        return oz_wu_fail(OZ_WU_ENOMEM, why, whylen, "%s: out of memory for FFTW wisdom", path);
    len = strlen(text);
    char ow[8];
    int rc = OZ_WU_OK;
    if (oz_wu_read_small(path, OZ_SCI_WISDOM_MAX, &old, &oldlen, ow, sizeof ow) == OZ_WU_OK &&
        oldlen == len && same_lines(old, text))
        goto out; /* nothing new learned: no write */
    rc = oz_wu_write_file(path, text, len, why, whylen);
out:
    free(old);
    free(text);
    return rc;
}
