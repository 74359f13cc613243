# sched_client.py - the HTTP half of test_sched_api.sh (run by it, not by
# ctest on its own): a real client on loopback against a running
# `ozma-server serve`, checking API.md's statuses and shapes.  Every
# hostile request is made between two dumps of the database, which must be
# equal.  Prints "FAIL: ..." lines and exits 1 on any failure.
#
#   python3 sched_client.py URL PROJECT_DIR UNITS_DIR SEARCH_BIN
import hashlib
import http.client
import json
import os
import secrets
import subprocess
import sys
import urllib.parse

import testdb

URL, PROJECT, UNITS, SEARCH = sys.argv[1:5]
HOSTPORT = urllib.parse.urlparse(URL).netloc
failures = 0


def fail(msg):
    global failures
    failures += 1
    print("FAIL: " + msg, file=sys.stderr)


def ok(msg):
    print("ok: " + msg)


def check(cond, msg):
    if cond:
        ok(msg)
    else:
        fail(msg)
    return cond


class Client:
    """One keep-alive connection; reconnects when the server closed it."""

    def __init__(self):
        self.c = http.client.HTTPConnection(HOSTPORT, timeout=10)

    def req(self, method, path, body=None, token=None, headers=None):
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = "Bearer " + token
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        if body is not None:
            h.setdefault("Content-Type", "application/json")
        for attempt in range(2):
            try:
                self.c.request(method, path, body=body, headers=h)
                r = self.c.getresponse()
                data = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.c.close()
                return r.status, r, data
            except (http.client.HTTPException, ConnectionError, BrokenPipeError):
                self.c.close()
                self.c = http.client.HTTPConnection(HOSTPORT, timeout=10)
                if attempt:
                    raise

    def json(self, method, path, body=None, token=None, headers=None):
        st, r, data = self.req(method, path, body, token, headers)
        try:
            return st, json.loads(data) if data else None
        except ValueError:
            return st, data


cl = Client()


def dump():
    return testdb.dump(PROJECT)


def expect(status, method, path, body=None, token=None, what="", headers=None):
    st, j = cl.json(method, path, body, token, headers)
    good = st == status
    if good and status >= 400:
        good = (isinstance(j, dict) and isinstance(j.get("error"), dict)
                and isinstance(j["error"].get("code"), str)
                and isinstance(j["error"].get("message"), str))
    check(good, "%s: %s %s -> %d (got %d %s)" % (what, method, path, status, st,
                                                 str(j)[:200]))
    return j


# ---- accounts and hosts ----
st, a = cl.json("POST", "/api/v1/accounts", {"name": "alice", "email": "a@example.org"})
check(st == 200 and isinstance(a.get("account_id"), int) and len(a["authenticator"]) == 64,
      "account created")
st, b = cl.json("POST", "/api/v1/accounts", {"name": "bob"})
check(st == 200, "second account created")
A, B = a["authenticator"], b["authenticator"]
st, t = cl.json("POST", "/api/v1/teams", {"name": "seekers", "description": "we look"}, A)
check(st == 200 and isinstance(t.get("team_id"), int), "team created")
expect(409, "POST", "/api/v1/teams", {"name": "seekers"}, B, "taken team name")
st, j = cl.json("POST", "/api/v1/teams/%d/join" % t["team_id"], None, B)
check(st == 200 and j == {"team_id": t["team_id"]}, "bob joins the team")


def host(token, name, ncpus=1):
    st, h = cl.json("POST", "/api/v1/hosts", {"name": name, "os": "Linux x86_64",
                                              "ncpus": ncpus, "flops": 1e9,
                                              "memory_mb": 4096}, token)
    check(st == 200 and len(h.get("host_key", "")) == 64, "host %s registered" % name)
    return h["host_id"], h["host_key"]


HA1_ID, HA1 = host(A, "a1")
HA2_ID, HA2 = host(A, "a2")
HB_ID, HB = host(B, "b1")
HF_ID, HF = host(B, "flood")

# ---- work ----
st, w1 = cl.json("POST", "/api/v1/work", {"want_seconds": 800000}, HA1)
asg1 = w1["assignments"] if st == 200 else []
check(st == 200 and len(asg1) == 4 and isinstance(w1.get("next_rpc_delay"), int),
      "work: a 1-cpu host gets its cap of 4 (got %d)" % len(asg1))
keys = {"replica_id", "unit_id", "url", "bytes", "sha256", "deadline", "flops"}
check(all(set(x) >= keys and x["url"] == "/units/%s.ozwu" % x["unit_id"] for x in asg1),
      "work: assignment shape")
st, w = cl.json("POST", "/api/v1/work", {"want_seconds": 800000}, HA1)
check(st == 200 and w["assignments"] == [] and w["next_rpc_delay"] > 0,
      "work: nothing more past the in-progress cap")
st, w2 = cl.json("POST", "/api/v1/work", {"want_seconds": 800000}, HA2)
asg2 = w2["assignments"]
u1 = {x["unit_id"] for x in asg1}
u2 = {x["unit_id"] for x in asg2}
check(len(u1) == 4 and len(u2) == len(asg2) == 2 and not (u1 & u2),
      "work: never two replicas of one unit to one account (%s / %s)" % (sorted(u1), sorted(u2)))
st, wb = cl.json("POST", "/api/v1/work", {"want_seconds": 1}, HB)
asgb = wb["assignments"]
check(st == 200 and len(asgb) >= 1, "work: want_seconds > 0 gets at least one unit")
st, w0 = cl.json("POST", "/api/v1/work", {"want_seconds": 0}, HF)
check(st == 200 and w0["assignments"] == [], "work: want_seconds 0 gets none")

# ---- unit downloads ----
x = asg1[0]
st, r, whole = cl.req("GET", x["url"])
check(st == 200 and len(whole) == x["bytes"] and hashlib.sha256(whole).hexdigest() == x["sha256"],
      "unit download matches the assignment's sha256 and bytes")
half = x["bytes"] // 2
st1, r1, p1 = cl.req("GET", x["url"], headers={"Range": "bytes=0-%d" % (half - 1)})
st2, r2, p2 = cl.req("GET", x["url"], headers={"Range": "bytes=%d-" % half})
check(st1 == 206 and st2 == 206 and r2.getheader("Content-Range") ==
      "bytes %d-%d/%d" % (half, x["bytes"] - 1, x["bytes"]) and
      hashlib.sha256(p1 + p2).hexdigest() == x["sha256"],
      "Range: two halves concatenated hash to the assignment's sha256")
st, r, _ = cl.req("GET", x["url"], headers={"Range": "bytes=%d-" % x["bytes"]})
check(st == 416 and r.getheader("Content-Range") == "bytes */%d" % x["bytes"],
      "Range past the end: 416")
for bad in ["/units/..%2Fozma.db", "/units/..%2F..%2Fetc%2Fpasswd", "/units/secret.key",
            "/units/.hidden.ozwu", "/units/%2Fetc%2Fpasswd.ozwu", "/units/nope.ozwu",
            "/units/a/b.ozwu"]:
    st, r, _ = cl.req("GET", bad)
    check(st == 404, "no path traversal: %s -> 404 (got %d)" % (bad, st))

# ---- a real result ----
unit_path = os.path.join(UNITS, x["unit_id"] + ".ozwu")
res = json.loads(subprocess.run([SEARCH, "--quiet", unit_path], check=True,
                                capture_output=True).stdout)


def strip_utc(o):
    if isinstance(o, dict):
        return {k: strip_utc(v) for k, v in o.items() if k not in ("time_utc", "start_utc")}
    if isinstance(o, list):
        return [strip_utc(v) for v in o]
    return o


result = {"version": 1, "unit_id": x["unit_id"], "unit_sha256": x["sha256"],
          "result": strip_utc(res)}
body = json.dumps(result).encode()

# ---- hostile requests: none may change the database ----
before = dump()
expect(401, "POST", "/api/v1/work", {"want_seconds": 10}, None, "no key")
expect(401, "POST", "/api/v1/work", {"want_seconds": 10}, secrets.token_hex(32), "unknown key")
expect(401, "POST", "/api/v1/work", {"want_seconds": 10}, HA1.upper(), "uppercase key")
expect(401, "POST", "/api/v1/work", {"want_seconds": 10}, HA1 + "0", "key too long")
expect(401, "POST", "/api/v1/work", {"want_seconds": 10}, HA1 + " ", "key with a space")
expect(401, "POST", "/api/v1/work", {"want_seconds": 10}, None, "Basic scheme",
       {"Authorization": "Basic " + HA1})
expect(401, "POST", "/api/v1/hosts", {"name": "h", "os": "o", "ncpus": 1, "flops": 1,
                                      "memory_mb": 1}, HA1, "host key used as authenticator")
expect(401, "POST", "/api/v1/work", {"want_seconds": 10}, A, "authenticator used as host key")
expect(403, "PUT", "/api/v1/replicas/%d/result" % x["replica_id"], body, HB,
       "another host's replica")
expect(403, "POST", "/api/v1/replicas/%d/error" % x["replica_id"], {"message": "no"}, HB,
       "error on another host's replica")
expect(404, "PUT", "/api/v1/replicas/987654/result", body, HA1, "unknown replica")
expect(404, "POST", "/api/v1/replicas/987654/error", {"message": "x"}, HA1, "unknown replica")
expect(404, "PUT", "/api/v1/replicas/0/result", body, HA1, "replica id 0")
expect(404, "PUT", "/api/v1/replicas/-1/result", body, HA1, "negative replica id")
expect(405, "GET", "/api/v1/work", None, HA1, "GET on work")
expect(404, "GET", "/api/v1/nothing", None, None, "unknown path")
expect(413, "POST", "/api/v1/replicas/%d/error" % x["replica_id"], "{" + " " * 70000 + "}", HA1,
       "oversized JSON body")
# bodies that may carry results (an upload, a work request) may be up to the
# result limit: 5 MiB is refused from its Content-Length, before it is sent
for method, path, what in (("PUT", "/api/v1/replicas/%d/result" % x["replica_id"], "upload"),
                           ("POST", "/api/v1/work", "work request")):
    c = http.client.HTTPConnection(HOSTPORT, timeout=10)
    c.putrequest(method, path)
    c.putheader("Authorization", "Bearer " + HA1)
    c.putheader("Content-Length", str(5 << 20))
    c.endheaders()
    rr = c.getresponse()
    check(rr.status == 413 and json.loads(rr.read())["error"]["code"] == "too_large",
          "5 MiB %s: 413 before the body is read" % what)
    c.close()
# a chunked body past the limit
c = http.client.HTTPConnection(HOSTPORT, timeout=10)
try:
    c.request("POST", "/api/v1/replicas/%d/error" % x["replica_id"],
              body=iter([b"{" + b" " * 40000] * 2 + [b"}"]),
              headers={"Authorization": "Bearer " + HA1, "Transfer-Encoding": "chunked"},
              encode_chunked=True)
    rr = c.getresponse()
    check(rr.status == 413, "chunked body past the limit: 413 (got %d)" % rr.status)
except (ConnectionError, http.client.HTTPException) as e:
    fail("chunked body past the limit: connection failed: %s" % e)
c.close()
expect(400, "POST", "/api/v1/work", "{\"want_seconds\": ", HA1, "malformed JSON")
expect(400, "POST", "/api/v1/work", "[1]", HA1, "JSON array")
expect(400, "POST", "/api/v1/work", "", HA1, "empty body")
expect(400, "POST", "/api/v1/work", '{"want_seconds": 1, "want_seconds": 2}', HA1,
       "duplicate keys")
expect(400, "POST", "/api/v1/work", {"want_seconds": 1, "extra": 1}, HA1, "unknown key")
expect(400, "POST", "/api/v1/work", {"want_seconds": -1}, HA1, "negative want_seconds")
expect(400, "POST", "/api/v1/work", {"want_seconds": 1e9}, HA1, "huge want_seconds")
expect(400, "POST", "/api/v1/work", {"want_seconds": "10"}, HA1, "string want_seconds")
expect(400, "POST", "/api/v1/work", '{"want_seconds": NaN}', HA1, "NaN")
for name, what in [("", "empty name"), ("x" * 65, "65-character name"),
                   ("a\u0001b", "control character"), ("a\nb", "newline"),
                   ("a\u007fb", "DEL"), ("a\u0085b", "C1 control"), ("a\u0000b", "NUL")]:
    expect(400, "POST", "/api/v1/accounts", {"name": name}, None, "account: " + what)
expect(400, "POST", "/api/v1/accounts", b'{"name": "a\xffb"}', None, "invalid UTF-8")
expect(400, "POST", "/api/v1/accounts", b'{"name": "\xc0\xaf"}', None, "overlong UTF-8")
expect(400, "POST", "/api/v1/accounts", '{"name": "\\ud800"}', None, "lone surrogate")
expect(400, "POST", "/api/v1/accounts", {"name": 5}, None, "name not a string")
expect(400, "POST", "/api/v1/accounts", {"name": "n", "team": [1]}, None, "team neither id nor name")
expect(400, "POST", "/api/v1/accounts", {"name": "n", "team": "a\tb"}, None, "team name with a tab")
expect(404, "POST", "/api/v1/accounts", {"name": "n", "team": 999}, None, "unknown team")
expect(404, "POST", "/api/v1/accounts", {"name": "n", "team": "no such team"}, None,
       "unknown team name")
expect(400, "POST", "/api/v1/accounts", {"name": "n", "email": "e" * 100}, None, "long email")
expect(400, "POST", "/api/v1/teams", {"name": "t\tt"}, A, "team name with a tab")
expect(400, "POST", "/api/v1/teams", {"name": "t", "description": "d" * 1001}, A,
       "long description")
expect(404, "POST", "/api/v1/teams/999/join", None, A, "join an unknown team")
for k, v in [("ncpus", 0), ("ncpus", 1025), ("ncpus", 1.5), ("flops", 0), ("flops", -1),
             ("memory_mb", 0), ("os", "")]:
    h = {"name": "h", "os": "o", "ncpus": 1, "flops": 1e9, "memory_mb": 1}
    h[k] = v
    expect(400, "POST", "/api/v1/hosts", h, A, "host %s=%r" % (k, v))
expect(400, "POST", "/api/v1/hosts", {"name": "h"}, A, "host missing fields")
expect(400, "PUT", "/api/v1/replicas/%d/result" % x["replica_id"], "not json", HA1,
       "result: not JSON")
expect(400, "PUT", "/api/v1/replicas/%d/result" % x["replica_id"],
       dict(result, unit_id=asg1[1]["unit_id"]), HA1, "result: another unit's id")
expect(400, "PUT", "/api/v1/replicas/%d/result" % x["replica_id"],
       dict(result, unit_sha256="0" * 64), HA1, "result: wrong unit hash")
expect(400, "PUT", "/api/v1/replicas/%d/result" % x["replica_id"],
       dict(result, version=2), HA1, "result: wrong version")
bad_sig = json.loads(json.dumps(result))
bad_sig["result"]["signals"].append({"type": "spike", "fft_len": 256, "freq_hz": 1.0,
                                     "chirp_hz_s": 0.0, "time_s": 0.1, "power": 30.0,
                                     "score": 1.25})
counts = bad_sig["result"].get("counts", {})
counts["spike"] = counts.get("spike", 0) + 1
expect(400, "PUT", "/api/v1/replicas/%d/result" % x["replica_id"], bad_sig, HA1,
       "result: a signal outside the unit's band")


# Results that mean nothing (issue 21): each edit of the real result is one
# the kernel cannot produce, and must be refused naming the field.
def lie(what, edit, needle):
    r = json.loads(json.dumps(result))
    edit(r["result"])
    j = expect(400, "PUT", "/api/v1/replicas/%d/result" % x["replica_id"], r, HA1, "result: " + what)
    msg = j["error"]["message"] if isinstance(j, dict) and isinstance(j.get("error"), dict) else ""
    check(needle in msg, "result: %s: the refusal names %s (%s)" % (what, needle, msg[:160]))


def late_line(res):
    s0 = res["best"]["spike"]
    res["signals"].append({"type": "line", "fft_len": s0["fft_len"], "freq_hz": s0["freq_hz"],
                           "chirp_hz_s": 0.0, "time_s": s0["time_s"], "power": 10.0, "score": 1.5,
                           "start_s": 923012.0, "end_s": 923012.1})
    res["counts"]["line"] = res["counts"].get("line", 0) + 1


check("pulse" in result["result"]["best"] and "spike" in result["result"]["best"],
      "the real result has a best spike and a best pulse")
lie("a line starting at 923012 s in a 3.4 s unit", late_line, "start_s")
lie("no best.pulse", lambda res: res["best"].pop("pulse"), "best.pulse")
lie("a score of 725919", lambda res: res["best"]["spike"].update(score=725919.0), "score")
expect(400, "POST", "/api/v1/replicas/%d/error" % x["replica_id"], {"message": ""}, HA1,
       "error: empty message")
expect(400, "POST", "/api/v1/replicas/%d/error" % x["replica_id"], {"message": "m" * 1001},
       HA1, "error: message too long")
for q in ["limit=0", "limit=501", "limit=abc", "limit=", "limit=1x", "after=%01", "bogus=1",
          "order=up"]:
    expect(400, "GET", "/api/v1/users?" + q, None, None, "users ?" + q)
for q in ["min_score=nan", "min_score=inf", "min_score=x", "dataset=..%2Fx", "dataset=",
          "type=bogus", "limit=1000"]:
    expect(400, "GET", "/api/v1/signals?" + q, None, None, "signals ?" + q)
expect(404, "GET", "/api/v1/users/999999", None, None, "unknown user")
expect(404, "GET", "/api/v1/hosts/999999", None, None, "unknown host")
expect(404, "GET", "/api/v1/teams/999999", None, None, "unknown team")
expect(404, "GET", "/api/v1/users/01", None, None, "id with a leading zero")
# a flood from one host (requests that would fail anyway, so nothing is written)
codes = []
retry = None
for i in range(160):
    st, r, _ = cl.req("POST", "/api/v1/work", "{}", HF)
    codes.append(st)
    if st == 429 and retry is None:
        retry = r.getheader("Retry-After")
check(codes.count(429) >= 20 and codes[0] == 400 and retry is not None and int(retry) >= 1,
      "flood from one host: 429 with Retry-After (%d of 160)" % codes.count(429))
st, _, _ = cl.req("POST", "/api/v1/work", "{}", HA1)
check(st == 400, "another host is not limited by the flood (got %d)" % st)
after = dump()
check(before == after, "hostile requests left the database unchanged")

# ---- the real result, idempotent ----
path = "/api/v1/replicas/%d/result" % x["replica_id"]
st, j = cl.json("PUT", path, body, HA1)
check(st == 200 and j == {"replica_id": x["replica_id"], "accepted": True},
      "result accepted (%d %s)" % (st, str(j)[:300]))
st, j = cl.json("PUT", path, body, HA1)
check(st == 200 and j.get("accepted") is True, "the same result again: 200")
other = json.loads(body)
other["result"]["cpu_s"] = other["result"].get("cpu_s", 0) + 1.0
st, j = cl.json("PUT", path, other, HA1)
check(st == 409, "a different result after one was accepted: 409 (got %d)" % st)
y = asg1[1]
st, j = cl.json("POST", "/api/v1/replicas/%d/error" % y["replica_id"],
                {"message": "download failed: hash mismatch"}, HA1)
check(st == 200 and j == {"replica_id": y["replica_id"]}, "error report accepted")

# ---- read-only shapes and pagination ----
st, s = cl.json("GET", "/api/v1/status")
check(st == 200 and set(s["units"]) >= {"total", "pending", "validated", "error"} and
      set(s["replicas"]) >= {"unsent", "in_progress", "over"} and s["units"]["total"] == 6 and
      all(k in s for k in ("hosts_active", "accounts", "teams", "signals", "datasets",
                           "credit_total")), "status shape")
for i in range(3):
    cl.json("POST", "/api/v1/accounts", {"name": "user%d" % i})
seen, cursor, pages = [], None, 0
while True:
    q = "/api/v1/users?limit=2" + ("&after=" + urllib.parse.quote(cursor) if cursor else "")
    st, p = cl.json("GET", q)
    if not check(st == 200 and isinstance(p.get("users"), list) and "next" in p,
                 "users page %d" % pages):
        break
    pages += 1
    seen += [u["id"] for u in p["users"]]
    if not all(set(u) >= {"id", "name", "team_id", "total_credit", "recent_credit", "created"}
               for u in p["users"]):
        fail("user shape: %s" % p["users"])
    cursor = p["next"]
    if cursor is None or pages > 10:
        break
check(len(seen) == 5 and len(set(seen)) == 5 and pages == 3,
      "users: 5 accounts in 3 pages of 2 (%s)" % seen)
st, p = cl.json("GET", "/api/v1/users?order=rac&limit=500")
check(st == 200 and len(p["users"]) == 5 and p["next"] is None, "users by rac, one page")
st, u = cl.json("GET", "/api/v1/users/%d" % a["account_id"])
check(st == 200 and u["id"] == a["account_id"] and len(u.get("hosts", [])) == 2 and
      all(set(h) >= {"id", "name", "total_credit", "recent_credit"} for h in u["hosts"]),
      "user with hosts")
st, h = cl.json("GET", "/api/v1/hosts/%d" % HA1_ID)
check(st == 200 and set(h) >= {"id", "name", "os", "ncpus", "flops", "user_id", "total_credit",
                               "recent_credit", "last_rpc", "in_progress"} and
      h["user_id"] == a["account_id"], "host shape")
st, ts = cl.json("GET", "/api/v1/teams")
check(st == 200 and len(ts["teams"]) == 1 and ts["next"] is None and
      set(ts["teams"][0]) >= {"id", "name", "nusers", "total_credit", "recent_credit"} and
      ts["teams"][0]["nusers"] == 2, "teams list")
st, tm = cl.json("GET", "/api/v1/teams/%d" % t["team_id"])
check(st == 200 and len(tm.get("users", [])) == 2, "team with users")
# (after the counts above) an account made with a team's name joins it
st, c = cl.json("POST", "/api/v1/accounts", {"name": "carol", "team": "seekers"})
st2, cu = cl.json("GET", "/api/v1/users/%d" % c.get("account_id", 0)) if st == 200 else (st, {})
check(st == 200 and st2 == 200 and cu.get("team_id") == t["team_id"],
      "an account made with a team's name is in that team")
st, sg = cl.json("GET", "/api/v1/signals?dataset=rec&min_score=1&type=spike&limit=10")
check(st == 200 and isinstance(sg.get("signals"), list) and "next" in sg, "signals shape")
st, r, _ = cl.req("HEAD", x["url"])
check(st == 200 and int(r.getheader("Content-Length")) == x["bytes"], "HEAD on a unit")

# ---- results carried in a work request ----
# Checked against the database itself (testdb.py: a connection beside the
# server's), not only against the replies.


def result_text(a):
    """The result file's text for assignment a, computed for real."""
    path = os.path.join(UNITS, a["unit_id"] + ".ozwu")
    res = json.loads(subprocess.run([SEARCH, "--quiet", path], check=True,
                                    capture_output=True).stdout)
    return json.dumps({"version": 1, "unit_id": a["unit_id"], "unit_sha256": a["sha256"],
                       "result": strip_utc(res)})


def db(sql, *args):
    return testdb.query(PROJECT, sql, args, timeout=10)


def replica(rid):
    """(state, outcome, host_id, received, result) of replica rid."""
    return db("SELECT state, outcome, host_id, received, result FROM replicas WHERE id = ?", rid)[0]


def successes(rid):
    """The SUCCESS replicas of rid's unit, as the replicas and the unit's counter have them."""
    return db("SELECT (SELECT count(*) FROM replicas o"
              "         WHERE o.unit_id = r.unit_id AND o.outcome = 1), u.n_success"
              " FROM replicas r JOIN units u ON u.id = r.unit_id WHERE r.id = ?", rid)[0]


def work(key, results=None):
    req = {"want_seconds": 800000}
    if results is not None:
        req["results"] = results
    return cl.json("POST", "/api/v1/work", req, key)


def refused(e, rid, status, code):
    return (e.get("replica_id") == rid and e.get("accepted") is False and
            isinstance(e.get("error"), dict) and e["error"].get("status") == status and
            e["error"].get("code") == code and isinstance(e["error"].get("message"), str))


IN_PROGRESS, OVER, SUCCESS = 1, 2, 1
# b1 fills up to its cap of 4, which leaves two units for its account
st, w = work(HB)
mine = asgb + (w["assignments"] if st == 200 else [])
_, h = cl.json("GET", "/api/v1/hosts/%d" % HB_ID)
if not check(st == 200 and "results" not in w and len(mine) == 4 and h.get("in_progress") == 4,
             "work without \"results\": no \"results\" in the reply, b1 at its cap of 4 (%d %s)"
             % (st, str(w)[:200])):
    sys.exit(1)
# results first for units whose other replica has no result yet, so no
# validation moves their rows under the checks below
mine.sort(key=lambda a: a["unit_id"] in (x["unit_id"], y["unit_id"]))
r1, r2, r3 = mine[0]["replica_id"], mine[1]["replica_id"], mine[2]["replica_id"]
t1, t2 = result_text(mine[0]), result_text(mine[1])
item1 = {"replica_id": r1, "result": t1}

# structural garbage: a 400 for the whole request, nothing changes (each
# carries r1's valid result, which would be accepted and free a slot for a
# new unit if any of it were acted on)
before = dump()
for results, what in [
        (item1, "results not an array"),
        ([item1] + [{"replica_id": 900000 + i, "result": "x"} for i in range(64)], "65 results"),
        ([dict(item1, extra=1)], "a result with an extra key"),
        ([{"result": t1}], "a result without replica_id"),
        ([item1, 5], "a result that is not an object"),
        ([item1, {"replica_id": 0, "result": t2}], "replica_id 0"),
        ([item1, {"replica_id": -r2, "result": t2}], "negative replica_id"),
        ([item1, {"replica_id": r2 + 0.5, "result": t2}], "fractional replica_id"),
        ([item1, {"replica_id": str(r2), "result": t2}], "replica_id a string"),
        ([item1, {"replica_id": r2, "result": json.loads(t2)}], "result an object"),
        ([item1, {"replica_id": r2, "result": None}], "result null"),
        ([item1, dict(item1)], "the same replica twice"),
        ([item1, {"replica_id": r2, "result": t2}, {"replica_id": r1, "result": "x"}],
         "the same replica twice, apart")]:
    expect(400, "POST", "/api/v1/work", {"want_seconds": 800000, "results": results}, HB,
           "work: " + what)
after = dump()
check(before == after and replica(r1)[0] == IN_PROGRESS,
      "refused work requests left the database unchanged (no result, no assignment)")

# a valid result in the next work request: accepted, durable, and the slot
# it frees is filled in the same request
st, w = work(HB, [item1])
check(st == 200 and w.get("results") == [{"replica_id": r1, "accepted": True}] and
      isinstance(w.get("next_rpc_delay"), int),
      "work with a result: 200, accepted (%d %s)" % (st, str(w)[:300]))
row = replica(r1)
check(row[:3] == (OVER, SUCCESS, HB_ID) and row[3] is not None and row[4] == t1,
      "the result is in the database, OVER/success with its exact text, by the reply")
new = w.get("assignments", []) if st == 200 else []
st, h = cl.json("GET", "/api/v1/hosts/%d" % HB_ID)
check(len(new) == 1 and new[0]["unit_id"] not in {a["unit_id"] for a in mine} and
      h.get("in_progress") == 4,
      "a host at its cap that returns a result gets a new unit in the same request (%s, %s)"
      % ([a["unit_id"] for a in new], h.get("in_progress")))

# repeated: accepted again by either way, counted once; a different text is
# a conflict, for that result only
st, w = work(HB, [item1])
check(st == 200 and w.get("results") == [{"replica_id": r1, "accepted": True}],
      "the same result in another work request: accepted again (%d %s)" % (st, str(w)[:300]))
st, j = cl.json("PUT", "/api/v1/replicas/%d/result" % r1, t1, HB)
check(st == 200 and j == {"replica_id": r1, "accepted": True},
      "then the same bytes by PUT: 200 (%d %s)" % (st, str(j)[:300]))
changed = json.loads(t1)
changed["result"]["cpu_s"] = changed["result"].get("cpu_s", 0) + 1.0
st, w = work(HB, [{"replica_id": r1, "result": json.dumps(changed)}])
check(st == 200 and len(w.get("results", [])) == 1 and
      refused(w["results"][0], r1, 409, "conflict") and isinstance(w.get("assignments"), list),
      "a different result in a work request: 409 conflict for it, the request 200 (%d %s)"
      % (st, str(w)[:300]))
st, h = cl.json("GET", "/api/v1/hosts/%d" % HB_ID)
check(replica(r1) == row and successes(r1) == (1, 1) and h.get("in_progress") == 4,
      "the repeated result is counted once, the conflicting one not at all (%s, %s)"
      % (successes(r1), h.get("in_progress")))
xrow = replica(x["replica_id"])
st, w = work(HA1, [{"replica_id": x["replica_id"], "result": body.decode()}])
check(st == 200 and w.get("results") == [{"replica_id": x["replica_id"], "accepted": True}] and
      replica(x["replica_id"]) == xrow and successes(x["replica_id"]) == (1, 1),
      "a result first accepted by PUT, again in a work request: accepted, counted once "
      "(%d %s)" % (st, str(w)[:300]))

# each result stands alone: refusals are named in order, the valid one among
# them is accepted
theirs = asg1[2]["replica_id"]
theirs_row = replica(theirs)
st, w = work(HB, [{"replica_id": 987654, "result": t2}, {"replica_id": r2, "result": t2},
                   {"replica_id": theirs, "result": result_text(asg1[2])},
                   {"replica_id": r3, "result": "not json"}])
res = w.get("results", []) if st == 200 else []
check(len(res) == 4 and refused(res[0], 987654, 404, "not_found") and
      res[1] == {"replica_id": r2, "accepted": True} and
      refused(res[2], theirs, 403, "forbidden") and refused(res[3], r3, 400, "bad_request"),
      "work with an unknown, a valid, another host's and a garbage result: 404, accepted, "
      "403, 400, in order (%d %s)" % (st, str(w)[:600]))
check(replica(r2)[:3] == (OVER, SUCCESS, HB_ID) and replica(r2)[4] == t2 and
      replica(theirs) == theirs_row and theirs_row[0] == IN_PROGRESS and
      replica(r3)[:2] == (IN_PROGRESS, 0) and replica(r3)[4] is None,
      "only the valid one changed the database")
# a NUL in a result's text is that result's own 400, not the whole request's
st, w = work(HB, [{"replica_id": r2, "result": t2},
                  {"replica_id": r3, "result": result_text(mine[2]) + "\u0000"}])
res = w.get("results", []) if st == 200 else []
check(len(res) == 2 and res[0] == {"replica_id": r2, "accepted": True} and
      refused(res[1], r3, 400, "bad_request") and replica(r3)[4] is None,
      "a result text holding a NUL: its own 400, the other accepted (%d %s)"
      % (st, str(w)[:400]))

# 64 results is not too many
st, w = work(HB, [{"replica_id": r2, "result": t2}] +
             [{"replica_id": 900000 + i, "result": "x"} for i in range(63)])
res = w.get("results", []) if st == 200 else []
check(len(res) == 64 and res[0] == {"replica_id": r2, "accepted": True} and
      all(refused(e, 900000 + i, 404, "not_found") for i, e in enumerate(res[1:])),
      "64 results in one request: each answered (%d %s)" % (st, str(w)[:200]))

# ---- pages without JavaScript (issue 20): the server's HTML, 404s, the unit, no paths ----
PUB = {"X-Forwarded-For": "203.0.113.5"}  # relayed: a stranger's, not the loopback operator's
st, r, body = cl.req("GET", "/no/such/page")
check(st == 404 and r.getheader("Content-Type", "").startswith("text/html") and
      b'<a href="/signals">Signals</a>' in body and b"Page not found" in body,
      "an unknown path: an HTML 404 page with the navigation (%d)" % st)
expect(404, "GET", "/api/v1/no/such", what="an unknown API path: still JSON")
st, r, body = cl.req("GET", "/users/999999")
check(st == 404 and b"There is no account 999999." in body,
      "an unknown account: a 404 page that says so (%d)" % st)
st, r, body = cl.req("GET", "/users/%d" % a["account_id"])
check(st == 200 and b'<h1 id="title">Account: alice</h1>' in body and b">seekers</a>" in body,
      "an account page: its name and team are in the HTML")
st, r, body = cl.req("GET", "/users")
check(st == 200 and b">alice</a>" in body and b">seekers</a>" in body,
      "the leaderboard names each account's team in the HTML")
uname = db("SELECT u.name FROM replicas r JOIN units u ON u.id = r.unit_id"
           " WHERE r.id = ?", r2)[0][0]
st, u = cl.json("GET", "/api/v1/units/" + uname)
check(st == 200 and u["unit_id"] == uname and u["state"] in ("pending", "validated", "error") and
      any(x["replica_id"] == r2 and x["host_name"] and x["outcome"] == "success"
          for x in u["replicas"]) and isinstance(u["signals"], list),
      "GET /api/v1/units/NAME: the unit and its replicas with host names (%d %s)"
      % (st, str(u)[:300]))
expect(404, "GET", "/api/v1/units/no-such-unit", what="an unknown unit")
expect(400, "GET", "/api/v1/units/not%20an%20id", what="not a unit id")
st, r, body = cl.req("GET", "/unit/" + uname)
check(st == 200 and ("Unit " + uname).encode() in body and b'href="/hosts/' in body,
      "the unit page: its replicas and their hosts in the HTML")
st, pub = cl.json("GET", "/api/v1/datasets", headers=PUB)
st2, op = cl.json("GET", "/api/v1/datasets")
check(st == 200 and pub["datasets"] and all("recording" not in d for d in pub["datasets"]) and
      st2 == 200 and all(d["recording"] for d in op["datasets"]),
      "a dataset's recording path: for the operator only")
leaks = [p for p in ("/", "/status", "/signals", "/api/v1/status", "/api/v1/datasets",
                     "/api/v1/units/" + uname)
         if PROJECT.encode() in cl.req("GET", p, headers=PUB)[2]]
check(not leaks, "no public page or JSON holds the project's path (%s)" % leaks)

# ---- account creation is limited per address ----
codes = [cl.req("POST", "/api/v1/accounts", "{}")[0] for i in range(160)]
check(codes.count(429) >= 20, "account creation flood from one address: 429 (%d of 160)"
      % codes.count(429))

sys.exit(1 if failures else 0)
