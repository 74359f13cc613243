/*
 * reply.c - how handlers read a request body and answer (api.h).
 *
 * Every response the server sends is made here: JSON bodies compact
 * (json_dumps with JSON_COMPACT, handed to libmicrohttpd with
 * MHD_RESPMEM_MUST_FREE, so the text is never copied), and every error in
 * API.md's shape {"error": {"code", "message"}} with exactly one log line.
 * Messages may quote what a client sent; unless they are valid UTF-8
 * without control characters they are cut to printable ASCII before they
 * reach the log or the response, so a hostile string can neither forge log
 * lines nor break the JSON.
 *
 * The field readers turn a parsed body into values, refusing (400, naming
 * the key) anything of the wrong type, out of range, or a user string that
 * breaks text.h's rule.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "sched_errors.h"
#include "text.h"

/* Seconds a client is asked to wait when the disk is full: an operator has
 * to free space, which takes longer than a busy database. */
#define DISK_FULL_RETRY_AFTER "60"

const char *oz_reply_code(unsigned status)
{
    switch (status) {
    case 400:
        return "bad_request";
    case 401:
        return "unauthorized";
    case 403:
        return "forbidden";
    case 404:
        return "not_found";
    case 405:
        return "method_not_allowed";
    case 409:
        return "conflict";
    case 410:
        return "gone";
    case 413:
        return "too_large";
    case 416:
        return "range_not_satisfiable";
    case 429:
        return "rate_limited";
    case 501:
        return "not_implemented";
    case 503:
        return "unavailable";
    default:
        return "internal";
    }
}

void oz_reply_clean(char *dst, size_t len, const char *src)
{
    if (src && strlen(src) < len && oz_text_valid(src, len)) {
        memcpy(dst, src, strlen(src) + 1);
        return;
    }
    size_t i = 0;
    for (; src && src[i] && i + 1 < len; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    dst[i] = '\0';
}

static enum MHD_Result queue(oz_req *r, unsigned status, struct MHD_Response *resp)
{
    if (!resp)
        return r->ret = MHD_NO;
    if (r->close || atomic_load_explicit(&r->srv->draining, memory_order_relaxed))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    r->replied = true;
    r->status = status;
    enum MHD_Result ret = MHD_queue_response(r->conn, status, resp);
    MHD_destroy_response(resp);
    return r->ret = ret;
}

enum MHD_Result oz_reply_response(oz_req *r, unsigned status, struct MHD_Response *resp)
{
    return queue(r, status, resp);
}

enum MHD_Result oz_reply_text(oz_req *r, unsigned status, char *text, size_t len)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(text);
        return r->ret = MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    return queue(r, status, resp);
}

enum MHD_Result oz_reply_json(oz_req *r, unsigned status, json_t *obj)
{
    char *text = obj ? json_dumps(obj, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(obj);
    if (!text)
        return oz_reply_error(r, 500, "out of memory");
    return oz_reply_text(r, status, text, strlen(text));
}

/* The error reply: logged at level (-1: by status), with Retry-After
 * retry (NULL: "1" for a 503, none otherwise). */
static enum MHD_Result error_with(oz_req *r, unsigned status, int level_or_default,
                                  const char *retry, const char *message)
{
    char msg[512], method[16], url[128];
    oz_reply_clean(msg, sizeof msg, message);
    oz_reply_clean(method, sizeof method, r->method);
    oz_reply_clean(url, sizeof url, r->url);
    /* Client errors are routine (info); the server's own are errors and are
     * kept for the status page.  501 (a transfer coding the client chose and
     * the server does not do) is the client's. */
    char st[8];
    snprintf(st, sizeof st, "%u", status);
    oz_log_level level = OZ_LOG_INFO;
    if (level_or_default >= 0)
        level = (oz_log_level)level_or_default;
    else if (status == 503 || status == 429)
        level = OZ_LOG_WARN;
    else if (status >= 500 && status != 501)
        level = OZ_LOG_ERROR;
    oz_log(r->srv->log_level, level, "request failed", "method", method, "path", url, "status", st,
           "code", oz_reply_code(status), "error", msg, (const char *)NULL);
    if (status >= 500 && status != 501 && r->srv->metrics)
        oz_metrics_error_note(r->srv->metrics, (int64_t)time(NULL), status, method, url, msg);
    json_t *o = json_pack("{s:{s:s, s:s}}", "error", "code", oz_reply_code(status), "message", msg);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!text)
        return r->ret = MHD_NO;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(text);
        return r->ret = MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    if (!retry && status == 503)
        retry = "1";
    if (retry)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, retry);
    return queue(r, status, resp);
}

enum MHD_Result oz_reply_error(oz_req *r, unsigned status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return error_with(r, status, -1, NULL, msg);
}

enum MHD_Result oz_reply_cached(oz_req *r, const char *key,
                                int (*make)(oz_req *r, const void *arg, json_t **out),
                                const void *arg)
{
    oz_cache *cache = r->srv->cache;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double now = (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
    char *text = NULL;
    size_t len = 0;
    if (cache && oz_cache_get(cache, key, now, &text, &len) == OZ_CACHE_HIT)
        return oz_reply_text(r, 200, text, len);
    json_t *o = NULL;
    if (make(r, arg, &o) != 0) {
        if (cache)
            oz_cache_abandon(cache, key);
        return r->ret;
    }
    text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(o);
    if (!text) {
        if (cache)
            oz_cache_abandon(cache, key);
        return oz_reply_error(r, 500, "out of memory");
    }
    len = strlen(text);
    if (cache) /* made as of now: its age counts from before it was read */
        oz_cache_put(cache, key, text, len, now);
    return oz_reply_text(r, 200, text, len);
}

enum MHD_Result oz_reply_limited(oz_req *r, int retry_after)
{
    char v[16];
    snprintf(v, sizeof v, "%d", retry_after);
    return error_with(r, 429, -1, v, "too many requests; retry after the Retry-After seconds");
}

unsigned oz_reply_store_status(int err)
{
    switch (err) {
    case OZ_SCHED_ENOTFOUND:
        return 404;
    case OZ_SCHED_EEXIST:
    case OZ_SCHED_ECONFLICT:
        return 409;
    case OZ_SCHED_EFORBIDDEN:
        return 403;
    case OZ_SCHED_EAUTH:
        return 401;
    case OZ_SCHED_ELIMIT:
        return 413;
    case OZ_SCHED_EINVAL:
        return 400;
    case OZ_SCHED_EBUSY:
    case OZ_SCHED_ENOSPC:
        return 503;
    default:
        return 500;
    }
}

enum MHD_Result oz_reply_store(oz_req *r, int err, const char *why)
{
    const char *m = why && *why ? why : oz_sched_strerror(err);
    unsigned status = oz_reply_store_status(err);
    if (err == OZ_SCHED_ENOSPC) /* the state's change is logged once, by the store */
        return error_with(r, 503, OZ_LOG_DEBUG, DISK_FULL_RETRY_AFTER,
                          "the server's disk is full; nothing was changed: send it again after "
                          "the Retry-After seconds");
    if (status == 503)
        return oz_reply_error(r, 503, "the database is busy: %s", m);
    if (status == 500)
        return oz_reply_error(r, 500, "%s: %s", oz_sched_strerror(err), m);
    return oz_reply_error(r, status, "%s", m);
}

json_t *oz_req_json(oz_req *r, unsigned flags, const char *const *allowed)
{
    if (r->len == 0) {
        if (flags & OZ_REQ_EMPTY_OK)
            return json_object();
        oz_reply_error(r, 400, "the body must be a JSON object");
        return NULL;
    }
    json_error_t err;
    json_t *o = json_loadb(
        r->body, r->len,
        JSON_REJECT_DUPLICATES | ((flags & OZ_REQ_ALLOW_NUL) ? (size_t)JSON_ALLOW_NUL : 0), &err);
    if (!o) {
        oz_reply_error(r, 400, "body: %s (byte %d)", err.text, err.position);
        return NULL;
    }
    if (!json_is_object(o)) {
        oz_reply_error(r, 400, "the body must be a JSON object, not %s", oz_sci_json_type(o));
        json_decref(o);
        return NULL;
    }
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        size_t i = 0;
        while (allowed && allowed[i] && strcmp(allowed[i], k) != 0)
            i++;
        if (!allowed || !allowed[i]) {
            char key[48];
            oz_reply_clean(key, sizeof key, k);
            oz_reply_error(r, 400, "unknown key \"%s\"", key);
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

static int field(oz_req *r, const json_t *obj, const char *key, bool required, json_t **v)
{
    *v = json_object_get(obj, key);
    if (*v && !json_is_null(*v))
        return 0;
    if (!required)
        return 1;
    oz_reply_error(r, 400, "%s is required", key);
    return -1;
}

int oz_req_str(oz_req *r, const json_t *obj, const char *key, bool required, size_t max_chars,
               const char **out)
{
    json_t *v;
    int rc = field(r, obj, key, required, &v);
    if (rc != 0)
        return rc;
    const char *s = json_string_value(v);
    if (!s) {
        oz_reply_error(r, 400, "%s: expected a string, got %s", key, oz_sci_json_type(v));
        return -1;
    }
    if (strlen(s) != json_string_length(v) || !oz_text_valid(s, max_chars)) {
        oz_reply_error(r, 400, "%s: must be 1..%zu characters without control characters", key,
                       max_chars);
        return -1;
    }
    *out = s;
    return 0;
}

int oz_req_int(oz_req *r, const json_t *obj, const char *key, bool required, int64_t min,
               int64_t max, int64_t *out)
{
    json_t *v;
    int rc = field(r, obj, key, required, &v);
    if (rc != 0)
        return rc;
    if (!json_is_integer(v)) {
        oz_reply_error(r, 400, "%s: expected an integer, got %s", key, oz_sci_json_type(v));
        return -1;
    }
    json_int_t x = json_integer_value(v);
    if (x < min || x > max) {
        oz_reply_error(r, 400, "%s: %lld is outside %lld..%lld", key, (long long)x, (long long)min,
                       (long long)max);
        return -1;
    }
    *out = x;
    return 0;
}

int oz_req_num(oz_req *r, const json_t *obj, const char *key, bool required, double min, double max,
               double *out)
{
    json_t *v;
    int rc = field(r, obj, key, required, &v);
    if (rc != 0)
        return rc;
    if (!json_is_number(v)) {
        oz_reply_error(r, 400, "%s: expected a number, got %s", key, oz_sci_json_type(v));
        return -1;
    }
    double x = json_number_value(v);
    if (!isfinite(x) || x < min || x > max) {
        oz_reply_error(r, 400, "%s: %g is outside %g..%g", key, x, min, max);
        return -1;
    }
    *out = x;
    return 0;
}
