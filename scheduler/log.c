/*
 * log.c - single-line structured logs (log.h explains the format).
 *
 * The line is assembled left to right in a caller's buffer with an explicit
 * remaining length; nothing here allocates, so logging works when memory
 * has run out, and the only shared object touched is file descriptor 2.
 */
#include "log.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const names[] = {"debug", "info", "warn", "error", "off"};

int oz_log_level_parse(const char *s, oz_log_level *out)
{
    for (int i = 0; s && i <= OZ_LOG_OFF; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (oz_log_level)i;
            return 0;
        }
    return -1;
}

const char *oz_log_level_name(oz_log_level level)
{
    return level >= OZ_LOG_DEBUG && level <= OZ_LOG_OFF ? names[level] : "?";
}

/* The line under construction: text[0..n), n <= limit; past limit there
 * is room for `..."`, the newline and the NUL (limit = cap - 6). */
struct line {
    char *text;
    size_t n, limit;
    bool cut;
};

static void put(struct line *l, const char *s, size_t len)
{
    if (len > l->limit - l->n) {
        len = l->limit - l->n;
        l->cut = true;
    }
    memcpy(l->text + l->n, s, len);
    l->n += len;
}

static void puts_(struct line *l, const char *s)
{
    put(l, s, strlen(s));
}

/* Writes into the reserve past limit (at most 4 bytes a line). */
static void raw(struct line *l, const char *s)
{
    size_t len = strlen(s);
    memcpy(l->text + l->n, s, len);
    l->n += len;
}

static bool bare(const char *v)
{
    if (!*v)
        return false;
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p >= 0x7f)
            return false;
    return true;
}

/* A value, quoted and escaped unless bare(); UTF-8 above 0x7f passes
 * through inside quotes (it cannot break a line).  A value cut short ends
 * in "..." (inside its quotes). */
static void value(struct line *l, const char *v)
{
    if (!v)
        v = "";
    if (bare(v)) {
        puts_(l, v);
        if (l->cut)
            raw(l, "...");
        return;
    }
    put(l, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)v; *p && !l->cut; p++) {
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            put(l, esc, 2);
        } else if (*p == '\n') {
            put(l, "\\n", 2);
        } else if (*p == '\t') {
            put(l, "\\t", 2);
        } else if (*p < 0x20 || *p == 0x7f) {
            snprintf(esc, sizeof esc, "\\x%02x", *p);
            put(l, esc, 4);
        } else {
            put(l, (const char *)p, 1);
        }
    }
    if (l->cut)
        raw(l, "...");
    raw(l, "\"");
}

size_t oz_log_vformat(char *buf, size_t len, int64_t now_ns, oz_log_level level, const char *msg,
                      va_list ap)
{
    if (len < 64) {
        if (len)
            buf[0] = '\0';
        return 0;
    }
    struct line l = {buf, 0, len - 6, false};
    time_t secs = (time_t)(now_ns / 1000000000);
    struct tm tm;
    char ts[48];
    if (!gmtime_r(&secs, &tm) || strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        snprintf(ts, sizeof ts, "1970-01-01T00:00:00");
    char head[96];
    snprintf(head, sizeof head, "ts=%s.%03dZ level=%s msg=", ts, (int)((now_ns / 1000000) % 1000),
             oz_log_level_name(level));
    puts_(&l, head);
    value(&l, msg);
    for (const char *k; (k = va_arg(ap, const char *)) != NULL && !l.cut;) {
        const char *v = va_arg(ap, const char *);
        put(&l, " ", 1);
        puts_(&l, k);
        put(&l, "=", 1);
        value(&l, v);
    }
    raw(&l, "\n");
    buf[l.n] = '\0';
    return l.n;
}

void oz_log(oz_log_level threshold, oz_log_level level, const char *msg, ...)
{
    if (level < threshold || threshold >= OZ_LOG_OFF)
        return;
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    char buf[OZ_LOG_LINE_MAX];
    va_list ap;
    va_start(ap, msg);
    size_t n =
        oz_log_vformat(buf, sizeof buf, (int64_t)t.tv_sec * 1000000000 + t.tv_nsec, level, msg, ap);
    va_end(ap);
    ssize_t w = write(STDERR_FILENO, buf, n);
    (void)w; /* nowhere to report a failed log write */
}
