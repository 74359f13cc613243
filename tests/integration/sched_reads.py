# sched_reads.py - the client half of test_sched_reads.sh (run by it, not by
# ctest on its own): public reads against a running `ozma-server serve` on
# loopback whose project.json sets read_burst 5 and read_rate 0.2.
#
#   python3 sched_reads.py PORT BURST
#
# One address hammering GET /api/v1/status gets its BURST answers and then
# 429 with Retry-After, while a client at another loopback address (a
# socket bound to 127.0.0.N: Linux routes all of 127/8 to the loopback
# device) is still served; a unit download is not a public read and is not
# limited.  Prints "ok: ..." / "FAIL: ..." lines and exits 1 on any failure.
import json
import socket
import sys

PORT, BURST = int(sys.argv[1]), int(sys.argv[2])
failures = 0


def check(cond, msg):
    global failures
    if cond:
        print("ok: " + msg)
    else:
        failures += 1
        print("FAIL: " + msg, file=sys.stderr)
    return cond


def get(src, path):
    """(status, headers, body) of one GET from address src."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(5)
    s.connect(("127.0.0.1", PORT))
    s.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path.encode())
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        hdrs[k.strip().lower().decode()] = v.strip().decode()
    return int(lines[0].split()[1]), hdrs, body


got = [get("127.0.0.1", "/api/v1/status") for _ in range(BURST + 5)]
codes = [g[0] for g in got]
check(codes[:BURST] == [200] * BURST, "the first %d reads from 127.0.0.1: 200 (got %s)"
      % (BURST, codes[:BURST]))
check(set(codes[BURST:]) == {429}, "the reads after the burst: 429 (got %s)" % codes[BURST:])
last = got[-1]
try:
    code = json.loads(last[2])["error"]["code"]
except (ValueError, KeyError, TypeError):
    code = None
check(code == "rate_limited" and int(last[1].get("retry-after", "0")) >= 1,
      "429 rate_limited with Retry-After %s" % last[1].get("retry-after"))
st, _, _ = get("127.0.0.1", "/api/v1/throughput")
check(st == 429, "other public reads from that address share its bucket: %d" % st)

st, _, body = get("127.0.0.2", "/api/v1/status")
check(st == 200 and "units" in json.loads(body), "another address is served: %d" % st)
st, _, _ = get("127.0.0.2", "/api/v1/throughput?bucket=60&n=5")
check(st == 200, "another address reads throughput: %d" % st)

st, _, _ = get("127.0.0.1", "/units/none.ozwu")
check(st == 404, "a unit download is not charged as a public read: %d" % st)

sys.exit(1 if failures else 0)
