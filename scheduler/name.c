/*
 * name.c - see name.h.  libunistring does the Unicode: u8_normalize and
 * u8_casefold allocate their results (freed here), u8_mbtouc walks the
 * text, which u8_check has found well formed.
 */
#include "name.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <unicase.h>
#include <unictype.h>
#include <uniname.h>
#include <uninorm.h>
#include <unistr.h>

#include "sched_errors.h"

/* General categories refused anywhere in a name: controls, format
 * characters, surrogates, private use, unassigned, line and paragraph
 * separators. */
#define REFUSED_CATEGORIES                                                                         \
    (UC_CATEGORY_MASK_Cc | UC_CATEGORY_MASK_Cf | UC_CATEGORY_MASK_Cs | UC_CATEGORY_MASK_Co |       \
     UC_CATEGORY_MASK_Cn | UC_CATEGORY_MASK_Zl | UC_CATEGORY_MASK_Zp)

static bool refused(ucs4_t c)
{
    return uc_is_general_category_withtable(c, REFUSED_CATEGORIES) ||
           uc_is_property_default_ignorable_code_point(c) ||
           c == 0x2800; /* BRAILLE PATTERN BLANK: a symbol that shows nothing */
}

static int refuse(ucs4_t c, char *why, size_t whylen)
{
    char name[UNINAME_MAX];
    const char *n = unicode_character_name(c, name);
    return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen,
                         "U+%04X%s%s%s is not allowed (no invisible, format, direction-changing "
                         "or control characters)",
                         (unsigned)c, n ? " (" : "", n ? n : "", n ? ")" : "");
}

int oz_name_normalize(const char *in, char *out, size_t outlen, char *why, size_t whylen)
{
    size_t n = in ? strlen(in) : 0, nlen = 0, o = 0, chars = 0;
    if (n > OZ_NAME_BYTES * 4) /* far more than any name a caller lets through */
        return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen, "is longer than %d characters",
                             OZ_TEXT_NAME_MAX);
    if (n && u8_check((const uint8_t *)in, n) != NULL)
        return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen, "is not valid UTF-8");
    /* checked as sent, so the message names what the client sent, and
     * again once normalised, in case NFKC made one */
    for (const uint8_t *p = (const uint8_t *)in; *p;) {
        ucs4_t c;
        p += u8_mbtouc(&c, p, (size_t)((const uint8_t *)in + n - p));
        if (refused(c))
            return refuse(c, why, whylen);
    }
    uint8_t *nf = n ? u8_normalize(UNINORM_NFKC, (const uint8_t *)in, n, NULL, &nlen) : NULL;
    if (n && !nf)
        return oz_sched_fail(OZ_SCHED_ENOMEM, why, whylen, "out of memory");
    int rc = 0;
    bool space = false;
    for (const uint8_t *p = nf, *end = nf + nlen; p < end;) {
        ucs4_t c;
        size_t k = (size_t)u8_mbtouc(&c, p, (size_t)(end - p));
        if (refused(c)) {
            rc = refuse(c, why, whylen);
            goto out;
        }
        if (uc_is_general_category_withtable(c, UC_CATEGORY_MASK_Zs)) {
            space = o > 0; /* leading spaces are dropped, inner runs become one */
            p += k;
            continue;
        }
        if (chars + space + 1 > OZ_TEXT_NAME_MAX || o + space + k + 1 > outlen) {
            rc = oz_sched_fail(OZ_SCHED_EINVAL, why, whylen,
                               "is longer than %d characters once normalised", OZ_TEXT_NAME_MAX);
            goto out;
        }
        if (space) {
            out[o++] = ' ';
            chars++;
            space = false;
        }
        memcpy(out + o, p, k);
        o += k;
        chars++;
        p += k;
    }
    if (o == 0) {
        rc = oz_sched_fail(OZ_SCHED_EINVAL, why, whylen, "is empty or only spaces");
        goto out;
    }
    out[o] = '\0';
out:
    free(nf);
    return rc;
}

int oz_name_key(const char *name, char *out, size_t outlen)
{
    size_t klen = 0;
    uint8_t *k = u8_casefold((const uint8_t *)name, strlen(name), NULL, UNINORM_NFKC, NULL, &klen);
    if (!k)
        return OZ_SCHED_ENOMEM;
    int rc = 0;
    if (klen + 1 > outlen) {
        rc = OZ_SCHED_ELIMIT;
    } else {
        memcpy(out, k, klen);
        out[klen] = '\0';
    }
    free(k);
    return rc;
}
