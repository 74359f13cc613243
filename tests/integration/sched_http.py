# sched_http.py - the raw-socket half of test_sched_http.sh (run by it, not by
# ctest on its own): requests no well-behaved client library will send,
# written byte for byte to a running `ozma-server serve` on loopback.
#
#   python3 sched_http.py HOST PORT
#
# Each case sends one request (maybe with a second one smuggled behind it)
# and reads until the server closes or 5 s pass.  A request whose framing is
# ambiguous - two different Content-Lengths, Transfer-Encoding beside
# Content-Length - must get 400 and the connection closed, so nothing behind
# it is read as a request of its own (request smuggling behind a proxy that
# frames it the other way); an unknown transfer coding gets 501 at once, not
# a wait for a body the server cannot frame; HTTP/1.1 requires Host (RFC
# 9112 §3.2: 400 without one, or with two).  Prints "FAIL: ..." lines and
# exits 1 on any failure.
import json
import socket
import sys
import time

HOST, PORT = sys.argv[1], int(sys.argv[2])
failures = 0


def check(cond, msg):
    global failures
    if cond:
        print("ok: " + msg)
    else:
        failures += 1
        print("FAIL: " + msg, file=sys.stderr)
    return cond


def exchange(raw, wait=5.0):
    """Sends raw bytes; returns (responses as [(status, body)], seconds, closed)."""
    s = socket.create_connection((HOST, PORT), timeout=wait)
    t0 = time.monotonic()
    s.sendall(raw)
    data, closed = b"", False
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                closed = True
                break
            data += chunk
    except socket.timeout:
        pass
    finally:
        s.close()
    return parse(data), time.monotonic() - t0, closed


def parse(data):
    """Splits what came back into responses (Content-Length framed)."""
    out = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep or not head.startswith(b"HTTP/1."):
            out.append((None, data))
            break
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        length = 0
        for line in lines[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                length = int(v.strip())
        out.append((status, rest[:length]))
        data = rest[length:]
    return out


def error_code(body):
    try:
        return json.loads(body)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


SMUGGLED = b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\n\r\n"


def refused(what, raw, status, code):
    """One response, status (with error code `code`, unless None: a refusal
    libmicrohttpd makes itself has its own body), then the connection closed."""
    resp, dt, closed = exchange(raw)
    got = [r[0] for r in resp]
    check(len([s for s in got if s is not None]) == 1 and got[0] == status and
          (code is None or error_code(resp[0][1]) == code),
          "%s: one %d %s (got %s)" % (what, status, code or "", got))
    check(closed, "%s: the connection is closed after it" % what)
    return dt


def post(headers, body):
    return (b"POST /api/v1/accounts HTTP/1.1\r\nHost: x\r\n" +
            b"".join(h + b"\r\n" for h in headers) + b"\r\n" + body)


# The controls: framing done right is still served.
body = b'{"name": "plain"}'
resp, _, _ = exchange(post([b"Content-Type: application/json",
                            b"Content-Length: %d" % len(body), b"Connection: close"], body))
check([r[0] for r in resp] == [200], "a plain POST: 200 (got %s)" % [r[0] for r in resp])
resp, _, _ = exchange(post([b"Content-Length: %d" % len(body),
                            b"Content-Length: %d" % len(body), b"Connection: close"],
                           b'{"name": "twice"}'))
check([r[0] for r in resp] == [200],
      "two equal Content-Lengths: one length, served (got %s)" % [r[0] for r in resp])
chunk = b'{"name": "chunky"}'
resp, _, _ = exchange(post([b"Transfer-Encoding: chunked", b"Connection: close"],
                           b"%x\r\n%s\r\n0\r\n\r\n" % (len(chunk), chunk)))
check([r[0] for r in resp] == [200], "a chunked POST: 200 (got %s)" % [r[0] for r in resp])
resp, _, _ = exchange(b"GET /api/v1/status HTTP/1.0\r\n\r\n")
check([r[0] for r in resp] == [200],
      "HTTP/1.0 without Host: 200 (got %s)" % [r[0] for r in resp])

# Conflicting Content-Lengths: whichever one a proxy believed, the server
# must not frame the body by the other.
body = b'{"name": "cl"}' + SMUGGLED
refused("two different Content-Lengths",
        post([b"Content-Length: 14", b"Content-Length: %d" % len(body)], body),
        400, "bad_request")
refused("two different Content-Lengths, GET",
        b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
        b"Content-Length: %d\r\n\r\n" % len(SMUGGLED) + SMUGGLED, 400, "bad_request")
refused("a Content-Length list with two values",
        post([b"Content-Length: 14, %d" % len(body)], body), 400, None)

# Transfer-Encoding and Content-Length together (RFC 9112 §6.1: a server
# may reject it, and must close the connection if it does not).
refused("Transfer-Encoding: chunked beside Content-Length",
        post([b"Transfer-Encoding: chunked", b"Content-Length: 5"],
             b"0\r\n\r\n" + SMUGGLED), 400, "bad_request")

# A transfer coding the server does not do: 501 at once.
for te in (b"gzip", b"x-unknown", b"gzip, chunked", b"chunked, chunked"):
    want = (400, "bad_request") if te == b"chunked, chunked" else (501, "not_implemented")
    dt = refused("Transfer-Encoding: %s" % te.decode(),
                 post([b"Transfer-Encoding: " + te], b"5\r\nhello\r\n0\r\n\r\n"), *want)
    check(dt < 3, "Transfer-Encoding: %s answered in %.1f s (< 3)" % (te.decode(), dt))
refused("two Transfer-Encoding headers",
        post([b"Transfer-Encoding: chunked", b"Transfer-Encoding: chunked"],
             b"0\r\n\r\n"), 400, "bad_request")

# Host is required in HTTP/1.1, once.
refused("HTTP/1.1 without Host", b"GET /api/v1/status HTTP/1.1\r\n\r\n", 400, "bad_request")
refused("HTTP/1.1 with two Hosts",
        b"GET /api/v1/status HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "bad_request")

sys.exit(1 if failures else 0)
