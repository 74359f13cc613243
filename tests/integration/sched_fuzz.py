# sched_fuzz.py - the client half of test_sched_fuzz.sh (run by it, not by
# ctest on its own): an HTTP- and JSON-level fuzzer of a live `ozma-server
# serve` on loopback (issue 21, "Tests that stay").  A project of a few
# small units is made, accounts and hosts registered and work handed out;
# then for OZ_FUZZ_SECONDS (20) the fuzzer sends randomized requests, each
# on its own connection, written byte for byte:
#   - HTTP-level: every route of scheduler/API.md with a mutated method,
#     request target (path bytes, percent-escapes, query parameters and
#     values), version and headers (Host, Content-Length, Transfer-Encoding,
#     Authorization, Range, junk, folded, overlong);
#   - JSON-level: a valid body for each POST/PUT endpoint (accounts, teams,
#     joins, hosts, work with results and held, result uploads, error
#     reports), mutated knowing its structure: keys dropped or added or
#     given twice, values of the wrong type, huge or negative numbers, long
#     strings, control and invisible characters, deep nesting, invalid
#     UTF-8, truncation.  Some bodies go unmutated, so rows are made too.
# It checks: no 5xx answer but 503 with Retry-After (and 501 for a
# Transfer-Encoding the server cannot frame, and 505 for an HTTP version
# other than 1.0 and 1.1, API.md); the server answers a
# plain request after every fuzzed one that broke a connection oddly, and
# is alive at the end; SIGTERM ends it with 0; and rows appear exactly for
# 200 answers - the accounts, hosts, accepted results, error reports and
# assignments the database holds are those 200 answers named (answers are
# read whole, however many requests one connection turned out to carry),
# teams only those 200 answers named; PRAGMA integrity_check is ok.  The
# seed is printed (OZ_FUZZ_SEED repeats a run); a failing request is saved
# as WORK/failing-request.bin; OZ_FUZZ_TRACE=1 writes every request and its
# answers to WORK/trace.txt.  Prints "ok: ..." / "FAIL: ..." lines, exits
# 1 on any failure.
#
#   python3 sched_fuzz.py BIN_DIR WORK
import json
import os
import random
import re
import signal
import socket
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sched_project  # noqa: E402

BIN, WORK = sys.argv[1], sys.argv[2]
SECONDS = float(os.environ.get("OZ_FUZZ_SECONDS", "20"))
SEED = int(os.environ.get("OZ_FUZZ_SEED") or random.SystemRandom().randrange(1 << 32))
print("ok: seed %d (OZ_FUZZ_SEED=%d repeats this run)" % (SEED, SEED))
rnd = random.Random(SEED)
check = sched_project.Checks()


# Limits generous enough that the fuzzer reaches the handlers rather than
# the rate limiter all the time (the limiter's 429s still come, and count).
CONFIG = {"per_ip_connection_limit": 0, "rate_per_host": 1e5, "rate_burst": 1e6,
          "read_rate": 1e5, "read_burst": 1e6, "max_ncpus": 64, "new_host_ncpus": 64,
          "daily_result_quota": 1000000, "max_hosts_per_account": 100000,
          "max_hosts_per_account_day": 100000, "max_in_progress_per_cpu": 64}
proj, results = sched_project.make_project(BIN, WORK, 1 << 15, 1 << 12, CONFIG, quorum=1,
                                           replicas=1)
db_path = os.path.join(proj, "ozma.db")
log = os.path.join(WORK, "serve.log")
proc, url = sched_project.serve(BIN, proj, log)
with open(os.path.join(WORK, "server.pid"), "w") as f:
    f.write(str(proc.pid))
HOST, PORT = url.split("//", 1)[1].rsplit(":", 1)
PORT = int(PORT)

# What 200 answers named, gathered from every answer read.
named = {"accounts": set(), "hosts": set(), "teams": set(), "accepted": set(),
         "errored": set(), "assigned": set()}


def note(status, body):
    """Records what a 200 answer's JSON says was made."""
    if status != 200:
        return
    try:
        j = json.loads(body)
    except ValueError:
        return
    if not isinstance(j, dict):
        return
    if "authenticator" in j and "account_id" in j:
        named["accounts"].add(j["account_id"])
    if "host_key" in j and "host_id" in j:
        named["hosts"].add(j["host_id"])
    if set(j) == {"team_id"}:
        named["teams"].add(j["team_id"])
    if set(j) == {"replica_id"}:
        named["errored"].add(j["replica_id"])
    if j.get("accepted") is True and "replica_id" in j:
        named["accepted"].add(j["replica_id"])
    if isinstance(j.get("assignments"), list):
        named["assigned"].update(a["replica_id"] for a in j["assignments"])
        for s in j.get("results", []):
            if s.get("accepted") is True:
                named["accepted"].add(s["replica_id"])


def parse_responses(data):
    """The (status, headers, body) answers in DATA, read as HTTP/1.1
    responses one after another; a partial last one is dropped."""
    out = []
    while data.startswith(b"HTTP/"):
        end = data.find(b"\r\n\r\n")
        if end < 0:
            break
        head = data[:end].decode("latin-1").split("\r\n")
        try:
            status = int(head[0].split()[1])
        except (IndexError, ValueError):
            break
        hdrs = {}
        for line in head[1:]:
            k, _, v = line.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        rest = data[end + 4:]
        if 100 <= status < 200 or status in (204, 304):
            body, data = b"", rest
        elif "content-length" in hdrs:
            n = int(hdrs["content-length"])
            if len(rest) < n:
                break
            body, data = rest[:n], rest[n:]
        elif hdrs.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                eol = rest.find(b"\r\n")
                if eol < 0:
                    return out
                size = int(rest[:eol].split(b";")[0], 16)
                rest = rest[eol + 2:]
                if size == 0:
                    rest = rest[rest.find(b"\r\n") + 2:]
                    break
                body, rest = body + rest[:size], rest[size + 2:]
            data = rest
        else:
            body, data = rest, b""
        out.append((status, hdrs, body))
    return out


def exchange(raw, wait=5.0, linger=0.05):
    """Sends RAW on a new connection and reads until the server closes it,
    WAIT seconds pass, or LINGER seconds after a final answer (more may
    follow: one connection may turn out to carry several requests); returns
    the answers read."""
    s = socket.create_connection((HOST, PORT), timeout=wait)
    t0 = time.monotonic()
    data = b""
    try:
        # The sending side stays open, as clients' do: libmicrohttpd takes
        # a half-close for a client gone, and a request being made durable
        # meanwhile (its connection suspended) then gets no answer.
        s.sendall(raw)
        deadline = t0 + wait
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            s.settimeout(left)
            try:
                chunk = s.recv(65536)
            except (socket.timeout, ConnectionResetError):
                break
            if not chunk:
                break
            data += chunk
            if any(st >= 200 for st, _, _ in parse_responses(data)):
                deadline = min(deadline, time.monotonic() + linger)
    except (BrokenPipeError, ConnectionResetError):
        pass
    finally:
        s.close()
    answers = parse_responses(data)
    for st, _, body in answers:
        note(st, body)
    if os.environ.get("OZ_FUZZ_TRACE"):
        with open(os.path.join(WORK, "trace.txt"), "a") as f:
            f.write("%r\n=> %.3f %r\n\n" % (raw[:1500], time.monotonic() - t0,
                                               [(a, b[:300]) for a, _, b in answers]))
    return answers


def request(method, target, body=None, key=None, headers=None):
    """A well-formed request's bytes."""
    h = [("Host", "%s:%d" % (HOST, PORT)), ("Connection", "close")]
    if key:
        h.append(("Authorization", "Bearer " + key))
    if body is not None:
        h += [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    h += headers or []
    head = "%s %s HTTP/1.1\r\n" % (method, target) + "".join("%s: %s\r\n" % kv for kv in h)
    return head.encode("latin-1", "replace") + b"\r\n" + (body or b"")


def call(method, target, obj=None, key=None):
    """A well-formed JSON call for the setup; returns (status, JSON)."""
    body = json.dumps(obj).encode() if obj is not None else None
    answers = exchange(request(method, target, body, key), wait=10)
    if not answers:
        sys.exit("setup: no answer to %s %s" % (method, target))
    st, _, b = answers[0]
    return st, json.loads(b) if b.startswith(b"{") else b


# --- setup: accounts, a team, hosts holding work -------------------------
accounts, hosts = [], []  # (id, key)
for i in range(2):
    st, a = call("POST", "/api/v1/accounts", {"name": "fuzz%d" % i})
    assert st == 200, (st, a)
    accounts.append((a["account_id"], a["authenticator"]))
st, t = call("POST", "/api/v1/teams", {"name": "Fuzzers"}, key=accounts[0][1])
assert st == 200, (st, t)
team_id = t["team_id"]
held = {}  # host key -> {replica id: unit name}
for i in range(3):
    st, h = call("POST", "/api/v1/hosts", {"name": "fh%d" % i, "os": "Linux", "ncpus": 2,
                                           "flops": 1e9, "memory_mb": 1024},
                 key=accounts[i % 2][1])
    assert st == 200, (st, h)
    hosts.append((h["host_id"], h["host_key"]))
    st, w = call("POST", "/api/v1/work", {"want_seconds": 864000}, key=h["host_key"])
    assert st == 200, (st, w)
    held[h["host_key"]] = {a["replica_id"]: a["unit_id"] for a in w["assignments"]}
check(sum(len(v) for v in held.values()) > 0,
      "setup: %d accounts, %d hosts holding %d replicas" %
      (len(accounts), len(hosts), sum(len(v) for v in held.values())))
unit_names = sorted(results)

# --- values and mutations --------------------------------------------------
BIG = [0, -1, 1, 2 ** 31, 2 ** 53 + 1, 2 ** 63 - 1, 2 ** 63, -2 ** 63 - 1, 2 ** 64, 10 ** 30,
       1e308, -1e308, 0.5, -0.0, 1e-320]
STRINGS = ["", " ", "a" * 65, "a" * 1001, "x" * 70000, "\u200bzw", "\u202eevil", "\ufeffbom",
           "Ｏｚｍａ", "\x00nul", "tab\there", "line\nbreak", "\ud800", "é" * 64, "../../etc",
           "%00", "<script>", "null", "1", "-1", "\U0001f600" * 40]
RAW_TOKENS = [b"NaN", b"Infinity", b"-Infinity", b"1e999", b"-1e999", b"01", b"1.", b".5",
              b"0x10", b"true false", b"\"\xff\xfe\"", b"\"\xc0\xaf\"", b"\"\xed\xa0\x80\"",
              b"'single'", b"undefined", b"\"\\u0000\"", b"\"\\uD800\"", b"\"\\x41\""]


class Raw:
    """A JSON token written as it is (possibly not JSON at all)."""

    def __init__(self, b):
        self.b = b


class Pairs:
    """A JSON object as a list of (key, value), so a key may come twice."""

    def __init__(self, pairs):
        self.pairs = pairs


def emit(v):
    """JSON text of V."""
    if isinstance(v, Raw):
        return v.b
    if isinstance(v, Pairs):
        return b"{" + b",".join(emit(k) + b":" + emit(x) for k, x in v.pairs) + b"}"
    if isinstance(v, dict):
        return emit(Pairs(list(v.items())))
    if isinstance(v, list):
        return b"[" + b",".join(emit(x) for x in v) + b"]"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=rnd.random() < 0.5).encode("utf-8", "surrogatepass")
    return json.dumps(v).encode()


def random_value(depth=0):
    r = rnd.random()
    if r < 0.2:
        return rnd.choice(BIG)
    if r < 0.4:
        return rnd.choice(STRINGS)
    if r < 0.5:
        return Raw(rnd.choice(RAW_TOKENS))
    if r < 0.6:
        return rnd.choice([None, True, False])
    if r < 0.7 and depth < 3:
        return [random_value(depth + 1) for _ in range(rnd.randint(0, 4))]
    if r < 0.8 and depth < 3:
        return {rnd.choice(["a", "name", "result", "replica_id", ""]): random_value(depth + 1)}
    if r < 0.9:
        return Raw(b"[" * 5000 + b"]" * 5000)  # deep nesting
    return rnd.randint(-5, 5)


def mutate(v, depth=0):
    """V with one structure-aware mutation somewhere in it."""
    if isinstance(v, dict) and v and rnd.random() < 0.7:
        v = dict(v)
        k = rnd.choice(sorted(v))
        r = rnd.random()
        if r < 0.2:
            del v[k]
        elif r < 0.35:
            v["zz_unknown"] = random_value()
        elif r < 0.5:
            return Pairs(list(v.items()) + [(k, random_value())])  # the key twice
        elif r < 0.75 and depth < 4:
            v[k] = mutate(v[k], depth + 1)
        else:
            v[k] = random_value()
        return v
    if isinstance(v, list) and v and rnd.random() < 0.7:
        v = list(v)
        i = rnd.randrange(len(v))
        r = rnd.random()
        if r < 0.3:
            del v[i]
        elif r < 0.5:
            v.append(v[i])
        elif r < 0.5 + 0.5 * (depth < 4):
            v[i] = mutate(v[i], depth + 1)
        else:
            v[i] = random_value()
        return v
    if isinstance(v, str) and rnd.random() < 0.5:
        i = rnd.randint(0, len(v))
        return v[:i] + rnd.choice(STRINGS)[:rnd.choice([1, 5, 100000])] + v[i:]
    if isinstance(v, (int, float)) and not isinstance(v, bool) and rnd.random() < 0.6:
        return rnd.choice(BIG)
    return random_value(depth)


def mutate_bytes(b):
    """Byte-level damage to a body: truncation, a stray or invalid byte."""
    if not b:
        return bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 20)))
    i = rnd.randrange(len(b))
    r = rnd.random()
    if r < 0.3:
        return b[:i]
    if r < 0.6:
        return b[:i] + bytes([rnd.choice([0, 0x80, 0xc0, 0xff, 0x22, 0x5c, 0x7b, 0x7d])]) + b[i:]
    if r < 0.8:
        return b[:i] + b[i + 1:]
    return b + rnd.choice([b"x", b"}", b",", b"\x00", b" {}"])


# --- the endpoints: (method, path, valid body or None, key) ----------------
def some_key(kind):
    r = rnd.random()
    if r < 0.08:
        return None
    if r < 0.14:
        return rnd.choice(["0" * 64, "g" * 64, "A" * 64, "1", "x" * 5000,
                           hosts[0][1].upper(), hosts[0][1][:-1]])
    return rnd.choice(hosts if kind == "host" or (kind is None and rnd.random() < 0.5)
                      else accounts)[1]


def host_replica():
    key = rnd.choice(sorted(held))
    if not held[key]:
        return key, rnd.randint(1, 50), rnd.choice(unit_names)
    rid = rnd.choice(sorted(held[key]))
    return key, rid, held[key][rid]


def post_case():
    """One JSON call: (method, path, body object, key)."""
    n = rnd.randrange(8)
    if n == 0:
        body = {"name": "f%d" % rnd.randrange(10 ** 6), "email": "a@b.c",
                "team": rnd.choice([team_id, "Fuzzers", "ｆｕｚｚｅｒｓ", 99999])}
        return "POST", "/api/v1/accounts", body, None
    if n == 1:
        body = {"name": "T%d" % rnd.randrange(10 ** 6), "description": "fuzz"}
        return "POST", "/api/v1/teams", body, some_key("account")
    if n == 2:
        return ("POST", "/api/v1/teams/%d/join" % rnd.choice([team_id, 0, 2 ** 63]), None,
                some_key("account"))
    if n == 3:
        body = {"name": "h%d" % rnd.randrange(10 ** 6), "os": "Linux", "ncpus": 4,
                "flops": 2e9, "memory_mb": 2048}
        return "POST", "/api/v1/hosts", body, some_key("account")
    if n in (4, 5):
        key, rid, unit = host_replica()
        body = {"want_seconds": rnd.choice([0, 10, 864000]), "held": sorted(held[key])}
        if rnd.random() < 0.5:
            body["results"] = [{"replica_id": rid, "result": results[unit]}]
        return "POST", "/api/v1/work", body, key if rnd.random() < 0.9 else some_key("host")
    if n == 6:
        key, rid, unit = host_replica()
        return ("PUT", "/api/v1/replicas/%d/result" % rid, json.loads(results[unit]),
                key if rnd.random() < 0.9 else some_key("host"))
    key, rid, unit = host_replica()
    return ("POST", "/api/v1/replicas/%d/error" % rid,
            {"message": rnd.choice(["crashed", "download does not verify", "x"])},
            key if rnd.random() < 0.9 else some_key("host"))


GET_ROUTES = ["/", "/users", "/users/1", "/hosts", "/hosts/1", "/teams", "/teams/1", "/signals",
              "/status", "/static/style.css", "/metrics", "/api/v1/status", "/api/v1/users",
              "/api/v1/users/1", "/api/v1/users/1/credit", "/api/v1/users/1/results",
              "/api/v1/hosts", "/api/v1/hosts/1", "/api/v1/hosts/1/credit",
              "/api/v1/hosts/1/results", "/api/v1/teams", "/api/v1/teams/1",
              "/api/v1/teams/1/credit", "/api/v1/signals", "/api/v1/signals/latest",
              "/api/v1/datasets", "/api/v1/throughput", "/api/v1/server",
              "/units/%s.ozwu" % unit_names[0], "/api/v1/replicas/1/result", "/api/v1/work"]
PARAMS = ["limit", "after", "order", "days", "dataset", "min_score", "type", "bucket", "n",
          "zz", ""]
PARAM_VALUES = ["1", "0", "-1", "500", "501", "99999999999999999999", "1e3", "total", "rac",
                "", "%00", "%zz", "%", "abc", "1.5", "nan", "inf", "spike", "rec", "MTA",
                "eyJ9", "x" * 5000, "%C0%AF", "%FF", "1%202"]


def mutate_target(path):
    r = rnd.random()
    if r < 0.15:
        path = path.replace("1", rnd.choice(["0", "-1", "01", "9" * 25, "1a", "%31", "",
                                             "18446744073709551616"]))
    elif r < 0.25:
        i = rnd.randint(0, len(path))
        path = path[:i] + rnd.choice(["/", "//", "/..", "%2e%2e", "%00", "%2F", ";", "#",
                                      "\u00e9", "*", "?", "&", "%"]) + path[i:]
    elif r < 0.3:
        path = path + "/" + "a" * rnd.choice([100, 5000, 70000])
    if rnd.random() < 0.6:
        qs = "&".join("%s=%s" % (rnd.choice(PARAMS), rnd.choice(PARAM_VALUES))
                      for _ in range(rnd.randint(1, 4)))
        path += "?" + qs
    return path


def http_case():
    """One request with its request line and headers mutated."""
    if rnd.random() < 0.5:
        method, target, obj, key = post_case()
        body = emit(obj) if obj is not None else None
    else:
        method, target, body, key = "GET", rnd.choice(GET_ROUTES), None, some_key(None)
    method = rnd.choice([method] * 6 + ["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS",
                                        "PATCH", "get", "TRACE", "CONNECT", "G\x00T", "",
                                        "X" * 300])
    target = mutate_target(target)
    version = rnd.choice(["HTTP/1.1"] * 8 + ["HTTP/1.0", "HTTP/1.2", "HTTP/2.0", "HTTP/0.9",
                                             "HTTP/1.1x", "http/1.1", ""])
    h = [("Host", "%s:%d" % (HOST, PORT)), ("Connection", "close")]
    if key:
        h.append(("Authorization", "Bearer " + key))
    if body is not None:
        h += [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    for _ in range(rnd.randint(1, 3)):
        r = rnd.random()
        if r < 0.15 and h:
            del h[rnd.randrange(len(h))]
        elif r < 0.3:
            h.append(("Content-Length", rnd.choice(["0", "-1", "abc", "99999999999999999999",
                                                    str(len(body or b"")), "1", " 5"])))
        elif r < 0.4:
            h.append(("Transfer-Encoding", rnd.choice(["chunked", "gzip", "identity", "x",
                                                       "chunked, chunked"])))
        elif r < 0.5:
            h.append(("Authorization", rnd.choice(["Bearer", "Basic YTpi", "Bearer  " + "0" * 64,
                                                   "bearer " + hosts[0][1], "\x01"])))
        elif r < 0.6:
            h.append(("Range", rnd.choice(["bytes=0-", "bytes=5-1", "bytes=-5", "bytes=0-0",
                                           "bytes=99999999999-", "bytes=1-2,3-4", "items=1"])))
        elif r < 0.7:
            h.append(("X-Junk", "v" * rnd.choice([1, 1000, 20000])))
        elif r < 0.75:
            h.append((" folded", "value"))
        elif r < 0.8:
            h.append(("Host", rnd.choice(["other", "", "a" * 300])))
        elif r < 0.85:
            h.append(("Expect", "100-continue"))
        elif r < 0.9:
            h.append(("X-Forwarded-For", "203.0.113.9"))
        else:
            h.append((rnd.choice(["No-Colon", "Bad\x00Name", "\u00e9t\u00e9", ""]), "x"))
    head = "%s %s %s\r\n" % (method, target, version)
    head += "".join("%s: %s\r\n" % kv if not kv[0].startswith(" ") else "%s\r\n" % kv[0]
                    for kv in h)
    raw = head.encode("utf-8", "surrogatepass") + b"\r\n"
    if body is not None:
        raw += body if rnd.random() < 0.8 else mutate_bytes(body)
    return raw


def json_case():
    """One well-framed request whose JSON body is mutated."""
    method, target, obj, key = post_case()
    if obj is None:
        obj = {}
    r = rnd.random()
    if r < 0.15:
        body = emit(obj)  # unmutated: rows are made
    elif r < 0.8:
        for _ in range(rnd.randint(1, 3)):
            obj = mutate(obj)
        body = emit(obj)
    else:
        body = mutate_bytes(emit(obj))
    return request(method, target, body, key)


# What requests with no final answer might have made: the server may have
# made it and the answer not come (yet); rows for those are in flight.
unanswered = {"accounts": 0, "hosts": 0, "teams": 0, "work": 0, "replicas": set()}


def in_flight(raw):
    line = raw.split(b"\r\n", 1)[0]
    for kind in ("accounts", "hosts", "teams", "work"):
        if b"/api/v1/" + kind.encode() in line:
            unanswered[kind] += 1
    unanswered["replicas"].update(int(m) for m in re.findall(rb"/replicas/(\d{1,18})/", line))
    unanswered["replicas"].update(int(m) for m in re.findall(rb'"replica_id":\s*(\d{1,18})', raw))


def acceptable(answers, raw):
    """None, or why these answers break the rules."""
    te = b"\r\ntransfer-encoding:" in raw.lower()
    line = raw.split(b"\r\n", 1)[0]
    version = line.rsplit(b" ", 1)[-1] if line.count(b" ") >= 2 else b""
    for st, hdrs, _ in answers:
        if st < 500:
            continue
        if st == 503 and hdrs.get("retry-after", "").isdigit():
            continue
        if st == 501 and te:
            continue
        if st == 505 and version not in (b"HTTP/1.0", b"HTTP/1.1"):
            continue  # RFC 9110 15.6.6: a version the server does not speak
        return "status %d" % st
    return None


def alive():
    try:
        a = exchange(request("GET", "/api/v1/status"), wait=10)
        return bool(a) and a[0][0] == 200
    except OSError:
        return False


sent = 0
counts = {}
t_end = time.monotonic() + SECONDS
while time.monotonic() < t_end:
    kind = "json" if rnd.random() < 0.5 else "http"
    raw = json_case() if kind == "json" else http_case()
    sent += 1
    try:
        # a well-framed request is answered at once; a mutated one may
        # leave the server waiting for a body that never comes
        answers = exchange(raw, wait=5.0 if kind == "json" else 0.3)
    except OSError as e:
        answers, err = [], e
    else:
        err = None
    if not any(st >= 200 for st, _, _ in answers):
        in_flight(raw)
    why = acceptable(answers, raw)
    if why is None and not answers and (err or not alive()):
        why = "no answer, and the server %s" % ("refused: %s" % err if err else "is down")
    for st, _, _ in answers:
        counts[st] = counts.get(st, 0) + 1
    if why:
        with open(os.path.join(WORK, "failing-request.bin"), "wb") as f:
            f.write(raw)
        check(False, "request %d (%s, seed %d): %s; request saved as %s: %r" %
              (sent, kind, SEED, why, os.path.join(WORK, "failing-request.bin"), raw[:300]))
        if proc.poll() is not None:
            break
        if check.failures >= 5:
            break
check(proc.poll() is None and alive(), "the server is up after %d fuzzed requests" % sent)
print("answers by status: %s" % ", ".join("%d: %d" % kv for kv in sorted(counts.items())))
check(counts.get(200, 0) > 0 and sum(v for k, v in counts.items() if 400 <= k < 500) > 0,
      "both accepted (200) and refused (4xx) requests among them")
time.sleep(0.5)  # connections the fuzzer gave up on end
m = exchange(request("GET", "/metrics"))
if m:
    print("server: " + "; ".join(l for l in m[0][2].decode().splitlines()
                                 if l.startswith("ozma_connections_ended_total")))
proc.send_signal(signal.SIGTERM)
rc = proc.wait(timeout=60)
os.unlink(os.path.join(WORK, "server.pid"))
check(rc == 0, "SIGTERM after the fuzzing: exit %d" % rc)

db = sqlite3.connect(db_path)
check(db.execute("PRAGMA integrity_check").fetchone()[0] == "ok", "integrity_check ok")


def ids(sql):
    return {r[0] for r in db.execute(sql)}


def same(kind, stored, expect, may):
    """STORED must be EXPECT (what 200 answers named) plus at most rows
    that requests without an answer may have made (MAY: a set of ids, or a
    number of rows)."""
    extra, missing = stored - expect, expect - stored
    ok = not missing and (extra <= may if isinstance(may, set) else len(extra) <= may)
    check(ok, "the %s stored are those 200 answers named: %d stored, %d named, %d missing %s, "
          "%d more %s (requests without an answer: %s)" %
          (kind, len(stored), len(expect), len(missing), sorted(missing)[:5], len(extra),
           sorted(extra)[:5], len(may) if isinstance(may, set) else may))


same("accounts", ids("SELECT id FROM accounts"), named["accounts"], unanswered["accounts"])
same("hosts", ids("SELECT id FROM hosts"), named["hosts"], unanswered["hosts"])
same("accepted results", ids("SELECT id FROM replicas WHERE result IS NOT NULL"),
     named["accepted"], unanswered["replicas"])
same("error reports", ids("SELECT id FROM replicas WHERE outcome = 2"), named["errored"],
     unanswered["replicas"])
same("assignments", ids("SELECT id FROM replicas WHERE sent IS NOT NULL"), named["assigned"],
     64 * unanswered["work"])
teams = ids("SELECT id FROM teams")
check(len(teams - named["teams"]) <= unanswered["teams"],
      "every team stored is one a 200 answer named (%d stored, %d not; requests without an "
      "answer: %d)" % (len(teams), len(teams - named["teams"]), unanswered["teams"]))
db.close()
with open(log, errors="replace") as f:
    text = f.read()
check("Sanitizer" not in text and "runtime error" not in text, "no sanitizer report")
print("figures: seed=%d requests=%d seconds=%.0f" % (SEED, sent, SECONDS))
sys.exit(1 if check.failures else 0)
