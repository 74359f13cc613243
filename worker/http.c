/*
 * http.c - the worker's side of the scheduler's HTTP API v1 (scheduler/API.md)
 * over libcurl: JSON calls with bearer tokens, and unit downloads that resume
 * where a broken one stopped, from the scheduler or from the file server an
 * assignment's absolute URL names (never with the token).
 *
 * One oz_wk_http per thread owns one easy handle (connections are reused
 * between calls) driven through a multi handle, so a transfer can be watched
 * every 100 ms: the tick callback lets the loop keep its compute threads fed
 * while a download runs, and abort the transfer when SIGTERM arrives - the
 * worker promises to exit within a second, which a blocking
 * curl_easy_perform cannot keep.
 *
 * Replies are bounded: JSON bodies at 4 MiB (the largest thing the API sends
 * is far smaller), downloads at the assignment's byte count, so a confused or
 * hostile server cannot fill the disk or the memory.  Error statuses keep
 * their body so the caller can log the scheduler's own sentence.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "worker.h"

#define REPLY_MAX (4u << 20)
#define ERROR_BODY_MAX 4096u

struct oz_wk_http {
    CURL *easy;
    CURLM *multi;
    char base[OZ_WK_PATH_MAX]; /* no trailing '/' */
    double timeout_s;
    oz_wk_tick_fn tick;
    void *tick_arg;
};

typedef struct body {
    char *p;
    size_t len, cap, max;
    bool over; /* more than max arrived */
} body;

static size_t body_write(char *data, size_t size, size_t n, void *arg)
{
    body *b = arg;
    size_t len = size * n;
    if (b->len + len > b->max) {
        b->over = true;
        return 0; /* aborts the transfer */
    }
    if (b->len + len + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 4096;
        while (nc < b->len + len + 1)
            nc *= 2;
        char *np = realloc(b->p, nc);
        if (!np)
            return 0;
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->len, data, len);
    b->len += len;
    b->p[b->len] = '\0';
    return len;
}

static size_t header_cb(char *data, size_t size, size_t n, void *arg)
{
    double *retry_after = arg;
    size_t len = size * n;
    static const char name[] = "retry-after:";
    if (retry_after && len > sizeof name - 1 && strncasecmp(data, name, sizeof name - 1) == 0) {
        char v[32];
        size_t vl = len - (sizeof name - 1);
        if (vl >= sizeof v)
            vl = sizeof v - 1;
        memcpy(v, data + sizeof name - 1, vl);
        v[vl] = '\0';
        char *end;
        double s = strtod(v, &end);
        if (end != v && s >= 0 && s < 86400 * 7)
            *retry_after = s;
    }
    return len;
}

int oz_wk_http_new(const char *base_url, double timeout_s, oz_wk_http **out, char *why,
                   size_t whylen)
{
    *out = NULL;
    size_t n = strlen(base_url);
    while (n && base_url[n - 1] == '/')
        n--;
    if (n == 0 || n >= OZ_WK_PATH_MAX ||
        (strncmp(base_url, "http://", 7) != 0 && strncmp(base_url, "https://", 8) != 0))
        return oz_wk_fail(OZ_WK_EINVAL, why, whylen, "\"%s\" is not an http:// or https:// URL",
                          base_url);
    oz_wk_http *h = calloc(1, sizeof *h);
    if (!h)
        return oz_wk_fail(OZ_WK_ENOMEM, why, whylen, "out of memory");
    memcpy(h->base, base_url, n);
    h->base[n] = '\0';
    h->timeout_s = timeout_s;
    /* curl_global_init is done once by the program (ozma_worker.c); a test
     * that skips it still works as curl_easy_init initialises lazily. */
    h->easy = curl_easy_init();
    h->multi = curl_multi_init();
    if (!h->easy || !h->multi) {
        oz_wk_http_free(h);
        return oz_wk_fail(OZ_WK_ENOMEM, why, whylen, "libcurl could not make a handle");
    }
    *out = h;
    return OZ_WK_OK;
}

void oz_wk_http_free(oz_wk_http *h)
{
    if (!h)
        return;
    if (h->multi)
        curl_multi_cleanup(h->multi);
    if (h->easy)
        curl_easy_cleanup(h->easy);
    free(h);
}

void oz_wk_http_set_tick(oz_wk_http *h, oz_wk_tick_fn tick, void *arg)
{
    h->tick = tick;
    h->tick_arg = arg;
}

void oz_wk_http_set_timeout(oz_wk_http *h, double timeout_s)
{
    h->timeout_s = timeout_s;
}

/* The URL of path: base + path, or path itself when it is an absolute
 * http(s) URL (a unit on a file server: the project's units_url). */
static int full_url(const oz_wk_http *h, const char *path, char *url, size_t len)
{
    bool absolute = strncmp(path, "http://", 7) == 0 || strncmp(path, "https://", 8) == 0;
    return oz_wk_path(url, len, "%s%s", absolute ? "" : h->base, path);
}

/* Options every request gets; the URL is full_url's. */
static int setup(oz_wk_http *h, const char *path, char *why, size_t whylen)
{
    char url[2 * OZ_WK_PATH_MAX];
    if (full_url(h, path, url, sizeof url) != OZ_WK_OK)
        return oz_wk_fail(OZ_WK_EINVAL, why, whylen, "URL too long");
    curl_easy_reset(h->easy);
    long t = (long)(h->timeout_s + 0.999);
    curl_easy_setopt(h->easy, CURLOPT_URL, url);
    curl_easy_setopt(h->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h->easy, CURLOPT_CONNECTTIMEOUT, t < 10 ? t : 10L);
    /* a stall, not a slow line, is what gives up */
    curl_easy_setopt(h->easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h->easy, CURLOPT_LOW_SPEED_TIME, t);
    curl_easy_setopt(h->easy, CURLOPT_FAILONERROR, 0L); /* we read error bodies */
    curl_easy_setopt(h->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h->easy, CURLOPT_USERAGENT, "ozma-worker/0.1");
    return OZ_WK_OK;
}

/* Drives the transfer through the multi handle, ticking every 100 ms.
 * OZ_WK_OK with *cc the transfer's CURLcode, or OZ_WK_ESTOPPED. */
static int perform(oz_wk_http *h, CURLcode *cc)
{
    *cc = CURLE_OK;
    if (curl_multi_add_handle(h->multi, h->easy) != CURLM_OK) {
        *cc = CURLE_OUT_OF_MEMORY;
        return OZ_WK_OK;
    }
    int running = 1, rc = OZ_WK_OK;
    double last = oz_wk_mono();
    while (running) {
        if (curl_multi_perform(h->multi, &running) != CURLM_OK) {
            *cc = CURLE_COULDNT_CONNECT;
            break;
        }
        if (!running)
            break;
        curl_multi_poll(h->multi, NULL, 0, 100, NULL);
        double now = oz_wk_mono();
        if (h->tick && now - last >= 0.1) {
            last = now;
            if (h->tick(h->tick_arg)) {
                rc = OZ_WK_ESTOPPED;
                break;
            }
        }
    }
    if (rc == OZ_WK_OK) {
        int left;
        CURLMsg *m;
        while ((m = curl_multi_info_read(h->multi, &left)))
            if (m->msg == CURLMSG_DONE)
                *cc = m->data.result;
    }
    curl_multi_remove_handle(h->multi, h->easy);
    return rc;
}

/* "HTTP 409 conflict: a sentence" from an error reply. */
static void error_words(long status, const json_t *reply, const char *raw, char *why, size_t whylen)
{
    const char *code = NULL, *msg = NULL;
    if (reply)
        json_unpack((json_t *)reply, "{s:{s?:s, s?:s}}", "error", "code", &code, "message", &msg);
    if (msg)
        oz_wk_fail(0, why, whylen, "HTTP %ld %s: %s", status, code ? code : "", msg);
    else
        oz_wk_fail(0, why, whylen, "HTTP %ld: %.200s", status, raw ? raw : "");
}

int oz_wk_http_call(oz_wk_http *h, const char *method, const char *path, const char *token,
                    const json_t *payload, long *status, json_t **reply, double *retry_after,
                    char *why, size_t whylen)
{
    *status = 0;
    *reply = NULL;
    if (retry_after)
        *retry_after = 0;
    char *text = NULL;
    struct curl_slist *hdrs = NULL;
    body b = {.max = REPLY_MAX};
    int rc = setup(h, path, why, whylen);
    if (rc != OZ_WK_OK)
        return rc;
    if (payload) {
        text = json_dumps(payload, JSON_COMPACT);
        if (!text) {
            rc = oz_wk_fail(OZ_WK_ENOMEM, why, whylen, "out of memory");
            goto out;
        }
        curl_easy_setopt(h->easy, CURLOPT_POSTFIELDS, text);
        curl_easy_setopt(h->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(text));
    }
    curl_easy_setopt(h->easy, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "GET") == 0)
        curl_easy_setopt(h->easy, CURLOPT_HTTPGET, 1L);
    char auth[128];
    hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    hdrs = curl_slist_append(hdrs, "Accept: application/json");
    hdrs = curl_slist_append(hdrs, "Expect:"); /* no 100-continue round trip */
    if (token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        hdrs = curl_slist_append(hdrs, auth);
    }
    if (!hdrs) {
        rc = oz_wk_fail(OZ_WK_ENOMEM, why, whylen, "out of memory");
        goto out;
    }
    curl_easy_setopt(h->easy, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h->easy, CURLOPT_TIMEOUT, (long)(h->timeout_s + 0.999));
    curl_easy_setopt(h->easy, CURLOPT_WRITEFUNCTION, body_write);
    curl_easy_setopt(h->easy, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h->easy, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(h->easy, CURLOPT_HEADERDATA, retry_after);
    CURLcode cc;
    rc = perform(h, &cc);
    if (rc != OZ_WK_OK) {
        oz_wk_fail(rc, why, whylen, "%s %s: stopped", method, path);
        goto out;
    }
    if (cc != CURLE_OK) {
        rc = oz_wk_fail(b.over ? OZ_WK_EFORMAT : OZ_WK_ENET, why, whylen, "%s %s%s: %s", method,
                        h->base, path, b.over ? "reply larger than 4 MiB" : curl_easy_strerror(cc));
        goto out;
    }
    curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, status);
    if (b.len) {
        json_error_t err;
        *reply = json_loadb(b.p, b.len, JSON_REJECT_DUPLICATES, &err);
    }
    if (*status >= 400)
        error_words(*status, *reply, b.p, why, whylen);
    rc = OZ_WK_OK;
out:
    curl_slist_free_all(hdrs);
    free(text);
    free(b.p);
    return rc;
}

typedef struct dl {
    CURL *easy;
    int fd;
    uint64_t offset;  /* bytes in the part file before this transfer */
    uint64_t written; /* bytes appended by this transfer */
    uint64_t bytes;   /* the whole file */
    bool checked;     /* the status was looked at */
    bool too_big, io_error;
    body err; /* an error status's body */
} dl;

static size_t dl_write(char *data, size_t size, size_t n, void *arg)
{
    dl *d = arg;
    size_t len = size * n;
    long code = 0;
    curl_easy_getinfo(d->easy, CURLINFO_RESPONSE_CODE, &code);
    if (code >= 300)
        return body_write(data, size, n, &d->err) == len || d->err.over ? len : 0;
    if (!d->checked) {
        d->checked = true;
        if (code == 200 && d->offset > 0) { /* the range was ignored: start over */
            if (ftruncate(d->fd, 0) != 0) {
                d->io_error = true;
                return 0;
            }
            d->offset = 0;
        }
    }
    if (d->offset + d->written + len > d->bytes) {
        d->too_big = true;
        return 0;
    }
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t w = write(d->fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            d->io_error = true;
            return 0;
        }
        p += w;
        left -= (size_t)w;
    }
    d->written += len;
    return len;
}

int oz_wk_http_download(oz_wk_http *h, const char *path, const char *part_file, uint64_t bytes,
                        long *status, char *why, size_t whylen)
{
    *status = 0;
    dl d = {.easy = h->easy, .bytes = bytes, .err = {.max = ERROR_BODY_MAX}};
    /* Only ever a regular file: not through a symbolic link (O_NOFOLLOW), not
     * into a device, and never blocked on a FIFO (O_NONBLOCK; a regular
     * file ignores it). */
    d.fd = open(part_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK,
                0644);
    if (d.fd < 0)
        return oz_wk_fail(OZ_WK_EIO, why, whylen, "%s: %s", part_file, strerror(errno));
    int rc;
    struct stat st;
    if (fstat(d.fd, &st) != 0) {
        rc = oz_wk_fail(OZ_WK_EIO, why, whylen, "%s: %s", part_file, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = oz_wk_fail(OZ_WK_EIO, why, whylen, "%s is not a regular file", part_file);
        goto out;
    }
    d.offset = (uint64_t)st.st_size;
    if (d.offset > bytes) {
        if (ftruncate(d.fd, 0) != 0) {
            rc = oz_wk_fail(OZ_WK_EIO, why, whylen, "%s: %s", part_file, strerror(errno));
            goto out;
        }
        d.offset = 0;
    }
    if (d.offset == bytes) {
        rc = OZ_WK_OK;
        goto out;
    }
    rc = setup(h, path, why, whylen);
    if (rc != OZ_WK_OK)
        goto out;
    curl_easy_setopt(h->easy, CURLOPT_HTTPGET, 1L);
    if (d.offset)
        curl_easy_setopt(h->easy, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)d.offset);
    curl_easy_setopt(h->easy, CURLOPT_WRITEFUNCTION, dl_write);
    curl_easy_setopt(h->easy, CURLOPT_WRITEDATA, &d);
    CURLcode cc;
    rc = perform(h, &cc);
    if (rc != OZ_WK_OK) {
        oz_wk_fail(rc, why, whylen, "GET %s: stopped", path);
        goto out;
    }
    curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, status);
    if (d.io_error) {
        rc = oz_wk_fail(OZ_WK_EIO, why, whylen, "%s: write failed: %s", part_file, strerror(errno));
        goto out;
    }
    if (d.too_big) {
        rc = oz_wk_fail(OZ_WK_EFORMAT, why, whylen,
                        "GET %s: the server sent more than the %llu bytes assigned", path,
                        (unsigned long long)bytes);
        goto out;
    }
    if (*status >= 300) {
        json_error_t err;
        json_t *reply = d.err.len ? json_loadb(d.err.p, d.err.len, 0, &err) : NULL;
        char words[600];
        error_words(*status, reply, d.err.p, words, sizeof words);
        json_decref(reply);
        rc = oz_wk_fail(OZ_WK_EHTTP, why, whylen, "GET %s: %s", path, words);
        goto out;
    }
    if (cc != CURLE_OK) {
        char url[2 * OZ_WK_PATH_MAX];
        full_url(h, path, url, sizeof url);
        rc = oz_wk_fail(OZ_WK_ENET, why, whylen, "GET %s: %s (%llu of %llu bytes here)", url,
                        curl_easy_strerror(cc), (unsigned long long)(d.offset + d.written),
                        (unsigned long long)bytes);
        goto out;
    }
    if (d.offset + d.written != bytes) {
        rc =
            oz_wk_fail(OZ_WK_ENET, why, whylen, "GET %s: the reply ended after %llu of %llu bytes",
                       path, (unsigned long long)(d.offset + d.written), (unsigned long long)bytes);
        goto out;
    }
    if (fsync(d.fd) != 0) {
        rc = oz_wk_fail(OZ_WK_EIO, why, whylen, "%s: fsync: %s", part_file, strerror(errno));
        goto out;
    }
    rc = OZ_WK_OK;
out:
    free(d.err.p);
    close(d.fd);
    return rc;
}

int oz_wk_file_sha256(const char *path, char hex[65], char *why, size_t whylen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return oz_wk_fail(OZ_WK_EIO, why, whylen, "%s: %s", path, strerror(errno));
    oz_wu_sha256_ctx *st = oz_wu_sha256_begin();
    if (!st) {
        close(fd);
        return oz_wk_fail(OZ_WK_ENOMEM, why, whylen, "%s: out of memory", path);
    }
    unsigned char buf[1 << 16];
    for (;;) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            oz_wu_sha256_end(st, NULL);
            return oz_wk_fail(OZ_WK_EIO, why, whylen, "%s: %s", path, strerror(e));
        }
        if (r == 0)
            break;
        oz_wu_sha256_add(st, buf, (size_t)r);
    }
    close(fd);
    unsigned char sha[32];
    if (oz_wu_sha256_end(st, sha) != OZ_WU_OK)
        return oz_wk_fail(OZ_WK_ENOMEM, why, whylen, "%s: out of memory", path);
    oz_wu_sha256_hex(sha, hex);
    return OZ_WK_OK;
}
