#!/usr/bin/env python3
"""lossy_proxy.py - an HTTP proxy that loses work replies, for
test_worker_lost_reply.sh (not a test itself).

    python3 lossy_proxy.py UPSTREAM_URL LOG_FILE [--lose N] [--old]

Listens on a free loopback port, prints "listening on PORT" on stdout, and
forwards every request to UPSTREAM_URL as it came (method, path, body,
Authorization, Content-Type, Range) and the answer back.  The first N
(default 1) replies to POST /api/v1/work that carry assignments are lost
after the scheduler has committed them: the proxy closes the client's
connection without answering, as a timeout, a dropped connection or a
crash between commit and reply would.  Each lost reply's replica ids go to
LOG_FILE as one line of JSON.  --old plays a scheduler from before "held"
instead: a work request that lists it gets the 400 such a scheduler gives
(logged as the line "refused held"), and no reply is lost.  --spoil turns
every result the worker returns (in a work request or by PUT) into "{}",
which the scheduler refuses (400), and loses nothing.
"""
import argparse
import http.client
import http.server
import json
import threading
import urllib.parse

ap = argparse.ArgumentParser()
ap.add_argument("upstream")
ap.add_argument("log")
ap.add_argument("--lose", type=int, default=1)
ap.add_argument("--old", action="store_true")
ap.add_argument("--spoil", action="store_true")
ARGS = ap.parse_args()
UPSTREAM = urllib.parse.urlparse(ARGS.upstream)
LOG = ARGS.log
LOSE = 0 if ARGS.old or ARGS.spoil else ARGS.lose
lock = threading.Lock()
lost = 0


def log(line):
    with lock, open(LOG, "a") as f:
        f.write(line + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def forward(self):
        global lost
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        headers = {k: self.headers[k] for k in ("Authorization", "Content-Type", "Range")
                   if self.headers.get(k) is not None}
        if ARGS.spoil and self.command == "PUT" and self.path.endswith("/result"):
            body = b"{}"
        if ARGS.spoil and self.command == "POST" and self.path == "/api/v1/work":
            req = json.loads(body)
            for item in req.get("results", []):
                item["result"] = "{}"
            body = json.dumps(req).encode()
        if (ARGS.old and self.command == "POST" and self.path == "/api/v1/work" and
                "held" in json.loads(body)):
            log("refused held")
            self.answer(400, b'{"error": {"code": "bad_request", '
                        b'"message": "unknown key \\"held\\""}}', "application/json")
            return
        up = http.client.HTTPConnection(UPSTREAM.hostname, UPSTREAM.port, timeout=60)
        try:
            up.request(self.command, self.path, body=body, headers=headers)
            r = up.getresponse()
            data = r.read()
        finally:
            up.close()
        if self.command == "POST" and self.path == "/api/v1/work" and r.status == 200:
            ids = [a["replica_id"] for a in json.loads(data).get("assignments", [])]
            with lock:
                lose = ids and lost < LOSE
                lost += 1 if lose else 0
            if lose:
                log(json.dumps(ids))
                self.close_connection = True  # no answer at all
                return
        self.answer(r.status, data, *(r.getheader(k) for k in
                                      ("Content-Type", "Content-Range", "Accept-Ranges",
                                       "Retry-After")))

    def answer(self, status, data, ctype, crange=None, ranges=None, retry=None):
        self.send_response(status)
        for k, v in (("Content-Type", ctype), ("Content-Range", crange),
                     ("Accept-Ranges", ranges), ("Retry-After", retry)):
            if v is not None:
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_HEAD = forward


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print("listening on %d" % srv.server_address[1], flush=True)
srv.serve_forever()
