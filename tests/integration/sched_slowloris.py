# sched_slowloris.py - the client half of test_sched_slowloris.sh (run by
# it, not by ctest on its own): slow clients against a running
# `ozma-server serve` on loopback whose project.json sets low limits.
#
#   python3 sched_slowloris.py PORT TOTAL PER_ADDR HEADER_S
#
# TOTAL is connection_limit, PER_ADDR per_ip_connection_limit and HEADER_S
# header_timeout_s of the server.  Linux routes all of 127.0.0.0/8 to the
# loopback device, so a client socket bound to 127.0.0.N is a client at
# another address: that is how one machine plays many hosts.
#
# A trickler sends a request line and then one header byte every 0.1 s,
# never finishing its headers: an idle timeout never fires for it.  The
# checks, each against a clock:
#   (c) a connection past the per-address limit, and one past the total
#       limit, is answered at once with 503 and Retry-After and closed (not
#       left waiting in the listen queue, not closed without a word);
#   (a) while one address holds all it may, a client at another address is
#       served at once;
#   (b) every trickler, in its headers or in its body, is closed by the
#       server soon after HEADER_S, however steadily it trickles; then its
#       slots are free again.
# Prints "ok: ..." / "FAIL: ..." lines and exits 1 on any failure.
import json
import select
import socket
import sys
import time

PORT, TOTAL, PER_ADDR, HEADER_S = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), \
    float(sys.argv[4])
failures = 0


def check(cond, msg):
    global failures
    if cond:
        print("ok: " + msg)
    else:
        failures += 1
        print("FAIL: " + msg, file=sys.stderr)
    return cond


def connect(src):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(5)
    s.connect(("127.0.0.1", PORT))
    return s


class Trickler:
    """A connection that never finishes its request."""

    def __init__(self, src, body=False):
        self.s = connect(src)
        self.t0 = time.monotonic()
        self.closed_at = None
        if body:  # headers whole, then a body that trickles
            self.s.sendall(b"POST /api/v1/accounts HTTP/1.1\r\nHost: x\r\n"
                           b"Content-Type: application/json\r\nContent-Length: 4000\r\n\r\n{")
        else:
            self.s.sendall(b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        self.s.setblocking(False)

    def tick(self):
        """One more byte, and notice whether the server has closed."""
        if self.closed_at is not None:
            return
        try:
            r, _, _ = select.select([self.s], [], [], 0)
            if r and not self.s.recv(4096):
                raise ConnectionResetError
            self.s.send(b"a")
        except (ConnectionError, BlockingIOError, OSError):
            self.closed_at = time.monotonic()
            self.s.close()

    def close(self):
        if self.closed_at is None:
            self.s.close()


def trickle(conns, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for t in conns:
            t.tick()
        time.sleep(0.1)


def response(s, wait=3.0):
    """(status, headers, body, seconds) of what comes back, read to EOF or
    for a whole Content-Length; status None when nothing came."""
    s.settimeout(wait)
    t0 = time.monotonic()
    data = b""
    try:
        while True:
            head, sep, rest = data.partition(b"\r\n\r\n")
            if sep:
                n = 0
                for line in head.split(b"\r\n")[1:]:
                    k, _, v = line.partition(b":")
                    if k.strip().lower() == b"content-length":
                        n = int(v.strip())
                if len(rest) >= n:
                    break
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except (socket.timeout, ConnectionError):
        pass
    dt = time.monotonic() - t0
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return None, {}, b"", dt
    lines = head.split(b"\r\n")
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        hdrs[k.strip().lower().decode()] = v.strip().decode()
    return int(lines[0].split()[1]), hdrs, body, dt


def served(src, what):
    """A whole GET from src: 200 within a second."""
    try:
        s = connect(src)
    except OSError as e:
        return check(False, "%s: cannot connect: %s" % (what, e))
    t0 = time.monotonic()
    s.sendall(b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    st, _, body, _ = response(s)
    s.close()
    dt = time.monotonic() - t0
    return check(st == 200 and dt < 1.0, "%s: 200 in %.2f s (got %s)" % (what, dt, st))


def refused(src, what):
    """A new connection from src: 503 with Retry-After, at once, then closed."""
    t0 = time.monotonic()
    try:
        s = connect(src)
        s.sendall(b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\n\r\n")
    except OSError as e:
        return check(False, "%s: cannot even send: %s" % (what, e))
    st, hdrs, body, _ = response(s)
    dt = time.monotonic() - t0
    try:
        code = json.loads(body)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        code = None
    s.close()
    return check(st == 503 and "retry-after" in hdrs and code == "unavailable" and dt < 1.0,
                 "%s: 503 unavailable with Retry-After in %.2f s (got %s %s)"
                 % (what, dt, st, hdrs.get("retry-after")))


# 1. One address takes all it may; more from it are refused at once, and
#    other addresses are still served.
mine = [Trickler("127.0.0.1") for _ in range(PER_ADDR)]
trickle(mine, 0.3)
refused("127.0.0.1", "a connection past the per-address limit")
served("127.0.0.200", "another address while 127.0.0.1 holds %d" % PER_ADDR)

# 2. Many addresses fill every slot: the next connection is refused at once
#    rather than left in the listen queue.  (The served client's slot is
#    free once the server has closed its side, a moment after the answer.)
time.sleep(0.3)
others = []
addr = 2
while len(mine) + len(others) < TOTAL:
    src = "127.0.0.%d" % addr
    for _ in range(min(PER_ADDR, TOTAL - len(mine) - len(others))):
        others.append(Trickler(src))
    addr += 1
trickle(mine + others, 0.3)
check(all(t.closed_at is None for t in mine + others),
      "%d tricklers from %d addresses hold every slot" % (TOTAL, addr - 1))
refused("127.0.0.250", "a connection past the total limit (%d)" % TOTAL)

# 3. The tricklers are closed after the header deadline, however steadily
#    they trickle; a body that trickles is closed too.
trickle(mine + others, HEADER_S + 2.5)
alive = [t for t in mine + others if t.closed_at is None]
check(not alive, "every header trickler closed by the server (%d of %d still open)"
      % (len(alive), len(mine) + len(others)))
late = [t.closed_at - t.t0 for t in mine + others if t.closed_at is not None]
check(late and min(late) >= HEADER_S - 0.5 and max(late) <= HEADER_S + 2.0,
      "closed %.1f..%.1f s after they connected (header deadline %.1f s)"
      % (min(late or [0]), max(late or [0]), HEADER_S))
for t in mine + others:
    t.close()
slow_body = Trickler("127.0.0.1", body=True)
trickle([slow_body], HEADER_S + 2.5)
check(slow_body.closed_at is not None,
      "a body trickling at a byte per 0.1 s closed by the server%s"
      % (" after %.1f s" % (slow_body.closed_at - slow_body.t0) if slow_body.closed_at else ""))
slow_body.close()

# 4. The slots are free again.
served("127.0.0.1", "the first address again, its tricklers gone")
served("127.0.0.250", "the address refused before")

sys.exit(1 if failures else 0)
