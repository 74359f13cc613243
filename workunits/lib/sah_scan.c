/*
 * sah_scan.c - the .sah reader's tag scanner and typed values (sah_scan.h).
 *
 * A .sah header is a fixed XML layout, not general XML (sah.c),
 * so a small tag scanner is enough: it walks the direct children of an
 * element, each child's content ending at the first </name> after it (no
 * element of this format contains one of its own name).  Text between
 * elements is skipped (the reference unit has "# should be seconds" notes
 * there); children we do not read are skipped, known ones may appear once.
 *
 * Values are read strictly: numbers through strtod/strtoul with end checks,
 * finite, within the caller's bounds; texts bounded; every refusal one
 * sentence naming the file, the line and the problem.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sah_scan.h"

#define TAG_MAX 64u    /* characters of a tag name */
#define NUMBER_MAX 63u /* characters of a number */

unsigned oz_sah_line_of(const struct oz_sah_ctx *c, const char *at)
{
    unsigned line = 1;
    for (const char *q = c->base; q < at; q++)
        line += *q == '\n';
    return line;
}

unsigned oz_sah_column_of(const struct oz_sah_ctx *c, const char *at)
{
    const char *q = at;
    while (q > c->base && q[-1] != '\n')
        q--;
    return (unsigned)(at - q) + 1;
}

bool oz_sah_span_is(struct oz_sah_span s, const char *lit)
{
    return s.n == strlen(lit) && memcmp(s.p, lit, s.n) == 0;
}

bool oz_sah_is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

struct oz_sah_span oz_sah_trim(struct oz_sah_span s)
{
    while (s.n > 0 && oz_sah_is_space(s.p[0])) {
        s.p++;
        s.n--;
    }
    while (s.n > 0 && oz_sah_is_space(s.p[s.n - 1]))
        s.n--;
    return s;
}

bool oz_sah_name_char(char ch, bool first)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' ||
           (!first && ((ch >= '0' && ch <= '9') || ch == '-' || ch == '.'));
}

/* Finds lit in [p, end). */
const char *oz_sah_find(const char *p, const char *end, const char *lit)
{
    size_t m = strlen(lit);
    for (; (size_t)(end - p) >= m; p++)
        if (*p == lit[0] && memcmp(p, lit, m) == 0)
            return p;
    return NULL;
}

/*
 * The next direct child of the content [*pos, end): returns 1 with its tag
 * name, attribute text and content, 0 when there is none left, or
 * OZ_WU_EFORMAT (2 for a <workunit> without its close: content to the end).  Text before it is
 * skipped unless `strict` (then only whitespace may come between elements).  Comments and <?..?>
 * are skipped.
 */
int oz_sah_next_child(const struct oz_sah_ctx *c, const char **pos, const char *end, bool strict,
                      struct oz_sah_span *tag, struct oz_sah_span *attrs,
                      struct oz_sah_span *content)
{
    const char *p = *pos;
    for (;;) {
        while (p < end && *p != '<') {
            if (strict && !oz_sah_is_space(*p))
                return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                                  "%s: line %u: text outside any element", c->name,
                                  oz_sah_line_of(c, p));
            p++;
        }
        if (p == end) {
            *pos = p;
            return 0;
        }
        const char *skip_to = NULL, *close = NULL;
        if (end - p >= 4 && memcmp(p, "<!--", 4) == 0)
            close = "-->", skip_to = oz_sah_find(p + 4, end, close);
        else if (end - p >= 2 && p[1] == '?')
            close = "?>", skip_to = oz_sah_find(p + 2, end, close);
        else
            break;
        if (!skip_to)
            return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen, "%s: line %u: unterminated %s",
                              c->name, oz_sah_line_of(c, p), p[1] == '?' ? "<?" : "comment");
        p = skip_to + strlen(close);
    }
    const char *open = p++;
    if (p < end && *p == '/')
        return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                          "%s: line %u: a closing tag where an element was expected", c->name,
                          oz_sah_line_of(c, open));
    tag->p = p;
    while (p < end && oz_sah_name_char(*p, p == tag->p))
        p++;
    tag->n = (size_t)(p - tag->p);
    if (tag->n == 0 || tag->n > TAG_MAX || p == end || (*p != '>' && *p != '/' && !oz_sah_is_space(*p)))
        return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen, "%s: line %u: a malformed tag", c->name,
                          oz_sah_line_of(c, open));
    attrs->p = p;
    while (p < end && *p != '>' && *p != '<')
        p++;
    if (p == end || *p != '>')
        return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen, "%s: line %u: <%.*s has no '>'",
                          c->name, oz_sah_line_of(c, open), (int)tag->n, tag->p);
    attrs->n = (size_t)(p - attrs->p);
    p++;
    if (attrs->n > 0 && attrs->p[attrs->n - 1] == '/') { /* <tag/> */
        attrs->n--;
        content->p = p;
        content->n = 0;
        *pos = p;
        return 1;
    }
    char closetag[TAG_MAX + 4];
    snprintf(closetag, sizeof closetag, "</%.*s>", (int)tag->n, tag->p);
    const char *q = oz_sah_find(p, end, closetag);
    if (!q && oz_sah_span_is(*tag, "workunit")) {
        /* unclosed: its content runs to the end, so that a truncated
         * payload is reported as such, inside it (the caller checks) */
        content->p = p;
        content->n = (size_t)(end - p);
        *pos = end;
        return 2;
    }
    if (!q)
        return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen,
                          "%s: line %u: <%.*s> has no %s (truncated or damaged)", c->name,
                          oz_sah_line_of(c, open), (int)tag->n, tag->p, closetag);
    content->p = p;
    content->n = (size_t)(q - p);
    *pos = q + strlen(closetag);
    return 1;
}

/* ---- values -------------------------------------------------------------------------- */

int oz_sah_bad_value(const struct oz_sah_ctx *c, struct oz_sah_span v, const char *tag,
                     const char *what)
{
    return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen, "%s: line %u: <%s> \"%.*s\" is not %s",
                      c->name, oz_sah_line_of(c, v.p), tag, (int)(v.n > 40 ? 40 : v.n), v.p, what);
}

/* The trimmed content as a NUL-terminated number text. */
static int number_text(const struct oz_sah_ctx *c, struct oz_sah_span v, const char *tag, char *buf)
{
    v = oz_sah_trim(v);
    if (v.n == 0 || v.n > NUMBER_MAX || memchr(v.p, '<', v.n))
        return oz_sah_bad_value(c, v, tag, "a number");
    memcpy(buf, v.p, v.n);
    buf[v.n] = '\0';
    return OZ_WU_OK;
}

int oz_sah_get_double(const struct oz_sah_ctx *c, struct oz_sah_span v, const char *tag,
                      double *out)
{
    char buf[NUMBER_MAX + 1], *e;
    int rc = number_text(c, oz_sah_trim(v), tag, buf);
    if (rc != OZ_WU_OK)
        return rc;
    errno = 0;
    double d = strtod(buf, &e);
    if (*e != '\0' || e == buf || errno == ERANGE || !isfinite(d))
        return oz_sah_bad_value(c, oz_sah_trim(v), tag, "a finite number");
    *out = d;
    return OZ_WU_OK;
}

int oz_sah_get_long(const struct oz_sah_ctx *c, struct oz_sah_span v, const char *tag, long long lo,
                    long long hi, long long *out)
{
    char buf[NUMBER_MAX + 1], *e;
    int rc = number_text(c, oz_sah_trim(v), tag, buf);
    if (rc != OZ_WU_OK)
        return rc;
    errno = 0;
    long long l = strtoll(buf, &e, 10);
    if (*e != '\0' || e == buf || errno == ERANGE || l < lo || l > hi)
        return oz_sah_bad_value(c, oz_sah_trim(v), tag, "an integer in range");
    *out = l;
    return OZ_WU_OK;
}

int oz_sah_get_text(const struct oz_sah_ctx *c, struct oz_sah_span v, const char *tag, char *out)
{
    v = oz_sah_trim(v);
    if (v.n > OZ_WU_SAH_TEXT_MAX)
        return oz_sah_bad_value(c, v, tag, "a text of at most 128 characters");
    for (size_t i = 0; i < v.n; i++)
        if ((unsigned char)v.p[i] < 0x20 || (unsigned char)v.p[i] > 0x7e || v.p[i] == '<')
            return oz_sah_bad_value(c, v, tag, "printable text");
    memcpy(out, v.p, v.n);
    out[v.n] = '\0';
    return OZ_WU_OK;
}

/* Reads the children of `section` (content `in`, opened at `at`) into the
 * fields; unknown children are skipped, a known one twice is refused. */
int oz_sah_get_fields(const struct oz_sah_ctx *c, struct oz_sah_span in, const char *section,
                      struct oz_sah_field *f, size_t nf)
{
    uint64_t seen = 0;
    const char *pos = in.p, *end = in.p + in.n;
    struct oz_sah_span tag = {0}, attrs = {0}, v = {0};
    int got;
    while ((got = oz_sah_next_child(c, &pos, end, false, &tag, &attrs, &v)) == 1) {
        size_t i = 0;
        while (i < nf && !oz_sah_span_is(tag, f[i].tag))
            i++;
        if (i == nf)
            continue;
        if (seen & (1ull << i))
            return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen, "%s: line %u: <%s> appears twice",
                              c->name, oz_sah_line_of(c, tag.p), f[i].tag);
        seen |= 1ull << i;
        int rc = OZ_WU_OK;
        long long l = 0;
        switch (f[i].type) {
        case F_DBL:
            rc = oz_sah_get_double(c, v, f[i].tag, f[i].dst);
            break;
        case F_U32:
            if ((rc = oz_sah_get_long(c, v, f[i].tag, 0, UINT32_MAX, &l)) == OZ_WU_OK)
                *(uint32_t *)f[i].dst = (uint32_t)l;
            break;
        case F_I32:
            if ((rc = oz_sah_get_long(c, v, f[i].tag, INT32_MIN, INT32_MAX, &l)) == OZ_WU_OK)
                *(int32_t *)f[i].dst = (int32_t)l;
            break;
        case F_TEXT:
            rc = oz_sah_get_text(c, v, f[i].tag, f[i].dst);
            break;
        case F_SPAN:
            *(struct oz_sah_span *)f[i].dst = v;
            break;
        }
        if (rc != OZ_WU_OK)
            return rc;
    }
    if (got < 0)
        return got;
    for (size_t i = 0; i < nf; i++)
        if (f[i].required && !(seen & (1ull << i)))
            return oz_wu_fail(OZ_WU_EFORMAT, c->why, c->whylen, "%s: line %u: <%s> has no <%s>",
                              c->name, oz_sah_line_of(c, in.p), section, f[i].tag);
    return OZ_WU_OK;
}
