/*
 * text.c - see text.h.  A small UTF-8 decoder that only validates: jansson
 * already refuses invalid UTF-8 in the JSON it parses, but this function
 * is also used on command-line text and must not rely on that.
 */
#include "text.h"

#include <stdint.h>

bool oz_text_valid(const char *s, size_t max_chars)
{
    if (!s || !*s)
        return false;
    size_t chars = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        uint32_t cp;
        size_t n;
        unsigned char c = *p;
        if (c < 0x80) {
            cp = c;
            n = 1;
        } else if (c >= 0xC2 && c <= 0xDF) {
            cp = c & 0x1Fu;
            n = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            cp = c & 0x0Fu;
            n = 3;
        } else if (c >= 0xF0 && c <= 0xF4) {
            cp = c & 0x07u;
            n = 4;
        } else {
            return false;
        }
        for (size_t k = 1; k < n; k++) {
            if ((p[k] & 0xC0) != 0x80)
                return false; /* also stops at the NUL */
            cp = cp << 6 | (p[k] & 0x3Fu);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false; /* overlong, out of range, surrogate */
        if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F))
            return false;
        if (++chars > max_chars)
            return false;
        p += n;
    }
    return true;
}
