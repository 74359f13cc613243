/*
 * http_framing.c - the request framing rules libmicrohttpd leaves to us
 * (api.h: oz_req_framing_ok).
 *
 * Where a body ends is decided by Content-Length or Transfer-Encoding.  A
 * proxy in front of the server and the server itself must decide it the
 * same way, or what the proxy forwards as one request's body the server
 * reads as a second request (request smuggling).  libmicrohttpd 0.9.75 frames
 * by the first Content-Length when there are several, by chunked when
 * Transfer-Encoding comes beside Content-Length, waits out the connection
 * timeout for a body in a transfer coding it does not know, and serves
 * HTTP/1.1 requests without Host.  So before a request is routed (http.c's
 * first call, headers read, no body yet) every header line is looked at once
 * and, following RFC 9112 (§6.1, §6.3, §3.2):
 *
 *   - Content-Length lines with different values: 400 (equal ones frame the
 *     body the same whichever is believed, and pass);
 *   - Transfer-Encoding beside Content-Length: 400;
 *   - Transfer-Encoding other than exactly "chunked": 501 for a coding the
 *     server does not do ("gzip", "gzip, chunked"), 400 for chunked applied
 *     twice or for two Transfer-Encoding lines;
 *   - HTTP/1.1 without Host, or any request with two Host lines: 400.
 *
 * Every refusal is answered with Connection: close, so nothing after it on
 * the connection is read as a request; libmicrohttpd does not read the body
 * of a request answered before its body.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api.h"

/* What the header lines say about framing; pointers are libmicrohttpd's. */
struct framing {
    unsigned n_cl, n_te, n_host;
    const char *cl;   /* the first Content-Length */
    const char *te;   /* the first Transfer-Encoding */
    bool cl_conflict; /* a Content-Length other than the first */
};

static enum MHD_Result tally(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    struct framing *f = cls;
    if (!key)
        return MHD_YES;
    if (!value)
        value = "";
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
        if (f->n_cl++ == 0)
            f->cl = value;
        else if (strcmp(value, f->cl) != 0)
            f->cl_conflict = true;
    } else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        if (f->n_te++ == 0)
            f->te = value;
    } else if (strcasecmp(key, MHD_HTTP_HEADER_HOST) == 0) {
        f->n_host++;
    }
    return MHD_YES;
}

/* How a Transfer-Encoding value reads: 0 exactly "chunked", 1 chunked more
 * than once and nothing else (400), 2 some other coding (501). */
static int te_kind(const char *v)
{
    unsigned chunked = 0, other = 0;
    const char *p = v;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (n == 7 && strncasecmp(p, "chunked", 7) == 0)
            chunked++;
        else
            other++; /* an empty element too */
        if (!end)
            break;
        p = end + 1;
    }
    return other ? 2 : chunked == 1 ? 0 : 1;
}

static bool refuse(oz_req *r, unsigned status, const char *message, const char *quoted)
{
    r->close = true;
    if (quoted)
        oz_reply_error(r, status, "%s \"%.64s\"", message, quoted);
    else
        oz_reply_error(r, status, "%s", message);
    return false;
}

bool oz_req_framing_ok(oz_req *r, const char *version)
{
    struct framing f = {0};
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, tally, &f);
    if (f.cl_conflict)
        return refuse(r, 400, "conflicting Content-Length headers; the body's end is ambiguous",
                      NULL);
    if (f.n_te && f.n_cl)
        return refuse(r, 400, "Transfer-Encoding and Content-Length together; send one", NULL);
    if (f.n_te > 1)
        return refuse(r, 400, "more than one Transfer-Encoding header", NULL);
    if (f.n_te) {
        int k = te_kind(f.te);
        if (k == 2)
            return refuse(r, 501, "only the chunked transfer coding is implemented, not", f.te);
        if (k == 1)
            return refuse(r, 400, "chunked may be applied once only:", f.te);
    }
    if (f.n_host > 1)
        return refuse(r, 400, "more than one Host header", NULL);
    if (f.n_host == 0 && version && strcmp(version, MHD_HTTP_VERSION_1_1) == 0)
        return refuse(r, 400, "an HTTP/1.1 request needs a Host header", NULL);
    return true;
}
