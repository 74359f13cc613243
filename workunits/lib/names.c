/*
 * names.c - ids and names: what a dataset or unit id may hold (it becomes a
 * file name and a URL path segment, so [A-Za-z0-9._-], not starting with '.'
 * or '-'), a dataset id made from a recording's file name, and a path's last
 * component.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

const char *oz_wu_basename(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static bool id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

bool oz_wu_id_valid(const char *s, size_t max)
{
    if (!s || !*s || s[0] == '.' || s[0] == '-')
        return false;
    size_t n = 0;
    for (; s[n]; n++)
        if (n >= max || !id_char(s[n]))
            return false;
    return true;
}

void oz_wu_name_from_path(const char *path, char *out, size_t outlen)
{
    static const char *const exts[] = {".sigmf-meta", ".sigmf-data", ".sigmf", ".ozwu",
                                       ".cf32",       ".ci16",       ".ci8",   ".raw",
                                       ".bin",        ".iq",         ".dat",   ".sah"};
    if (outlen == 0)
        return;
    const char *base = oz_wu_basename(path);
    size_t n = strlen(base);
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        size_t e = strlen(exts[i]);
        if (n > e && strcmp(base + n - e, exts[i]) == 0) {
            n -= e;
            break;
        }
    }
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < outlen; i++)
        out[o++] = id_char(base[i]) ? base[i] : '_';
    out[o] = '\0';
    if (o == 0 || out[0] == '.' || out[0] == '-') {
        /* An id must start with a letter, digit or '_'. */
        if (o == 0)
            snprintf(out, outlen, "dataset");
        else
            out[0] = '_';
    }
}
