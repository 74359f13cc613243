/*
 * wisdom.c - FFTW's wisdom as text: what its planner has learned about this
 * machine (which algorithm is fastest for each transform), so that a later
 * process plans at once and a slow planner (measure, patient) is paid once
 * per machine instead of once per unit.  The kernel knows no files: the
 * caller keeps the text (workunits' oz_wu_wisdom_load/_save, for
 * ozma-search --fft-wisdom and the worker's directory).
 *
 * FFTW keeps wisdom process-wide and, unlike its planner (made thread-safe
 * in oz_sci_search_new), does not lock it: callers must not import or
 * export while another thread plans.
 */
#include <fftw3.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int oz_sci_wisdom_import(const char *text, size_t len, char *why, size_t whylen)
{
    if (len > OZ_SCI_WISDOM_MAX)
        return oz_sci_fail(OZ_SCI_EINVAL, why, whylen,
                           "FFTW wisdom of %zu bytes is more than the limit of %u", len,
                           OZ_SCI_WISDOM_MAX);
    if (memchr(text, '\0', len))
        return oz_sci_fail(OZ_SCI_EPARSE, why, whylen, "not FFTW wisdom: it holds a NUL byte");
    char *copy = malloc(len + 1);
    if (!copy)
        return oz_sci_fail(OZ_SCI_ENOMEM, why, whylen, "out of memory for FFTW wisdom");
    memcpy(copy, text, len);
    copy[len] = '\0';
    /* all or nothing: FFTW keeps its old wisdom when the text does not parse */
    int ok = fftwf_import_wisdom_from_string(copy);
    free(copy);
    return ok ? OZ_SCI_OK
              : oz_sci_fail(OZ_SCI_EPARSE, why, whylen,
                            "not wisdom of this FFTW's single precision library");
}

char *oz_sci_wisdom_export(void)
{
    return fftwf_export_wisdom_to_string(); /* malloc'd: FFTW's documented contract */
}
