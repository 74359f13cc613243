/*
 * log.h - the server's log: single-line, structured, to stderr.
 *
 * Every line is `ts=2026-11-25T12:00:00.123Z level=info msg="..." key=value
 * ...`: logfmt, which people read and grep and which Loki, Vector or
 * `jq -R` take apart without a grammar.  Values are written bare when they
 * are made of safe characters and quoted otherwise, with `"` and `\`
 * escaped and control characters written \n, \t or \xHH, so a hostile
 * string (a URL, an account name, a message from a host) can neither split
 * a line nor forge a key.  A line is built in one bounded buffer and
 * written with one write(2), so lines from the pool threads never
 * interleave; a value that does not fit is cut and marked with "...".
 *
 * There is no global logger (STYLE.md §8): the threshold travels with the
 * configuration (oz_server, oz_jobs) and each call passes it.
 */
#ifndef OZ_SCHED_LOG_H
#define OZ_SCHED_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef enum oz_log_level {
    OZ_LOG_DEBUG = 0, /* every request */
    OZ_LOG_INFO = 1,  /* client errors (4xx), start and stop */
    OZ_LOG_WARN = 2,  /* 503s, rate limits, things that may need a look */
    OZ_LOG_ERROR = 3, /* 5xx, job failures: something is wrong here */
    OZ_LOG_OFF = 4,   /* nothing (--quiet) */
} oz_log_level;

#define OZ_LOG_LINE_MAX 2048 /* bytes in one line, newline included */

/* "debug", "info", "warn", "error" (and "off") to a level; -1 for anything
 * else. */
int oz_log_level_parse(const char *s, oz_log_level *out);
const char *oz_log_level_name(oz_log_level level);

/* Writes one line when level >= threshold.  The variable part is pairs of
 * const char *key, const char *value (a NULL value is written as an empty
 * string), ended by one NULL key.  Keys are the caller's literals and are
 * written as they are. */
void oz_log(oz_log_level threshold, oz_log_level level, const char *msg, ...)
    __attribute__((sentinel));

/* The line oz_log would write at wall-clock time now_ns, into buf (at most
 * len bytes with the newline and the NUL); returns its length.  For tests
 * and for callers that keep lines (the status page's recent errors). */
size_t oz_log_vformat(char *buf, size_t len, int64_t now_ns, oz_log_level level, const char *msg,
                      va_list ap);

#endif
