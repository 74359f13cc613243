#!/usr/bin/env python3
"""e2e_check.py - what the demo's run must have produced (test_e2e_demo.sh).

Run by deploy/demo.sh --headless --then once its dataset is done, with
OZ_URL (the server), OZ_PROJECT (its directory: ozma.db), OZ_DIR (the
demo's files: server.log) and OZ_TRUTH (the injected signals) set.  Prints
ok:/FAIL: lines; exits 1 when anything failed.
"""
import json
import math
import os
import re
import sys
import urllib.error
import urllib.request

import testdb

URL = os.environ["OZ_URL"]
PROJECT = os.environ["OZ_PROJECT"]
TRUTH = os.environ["OZ_TRUTH"]
LOG = os.path.join(os.environ["OZ_DIR"], "server.log")
FS = 9765.625
FAILURES = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what, file=sys.stdout if cond else sys.stderr)
    if not cond:
        FAILURES.append(what)
    return cond


def fetch(path, data=None, method=None):
    """(status, headers, body bytes) of one request."""
    req = urllib.request.Request(URL + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def get(path):
    status, _, body = fetch(path)
    if status != 200:
        raise SystemExit("GET %s: %d %s" % (path, status, body[:200]))
    return json.loads(body)


# ---- every unit validated ----------------------------------------------------------------------
ds = get("/api/v1/datasets")["datasets"]
check(len(ds) == 1 and ds[0]["name"] == "demo", "one dataset, demo")
d = ds[0]
check(d["units"] == 3 and d["validated"] == 3 and d["error"] == 0,
      "every unit validated (%d of %d, %d in error)" % (d["validated"], d["units"], d["error"]))
status = get("/api/v1/status")
check(status["units"]["validated"] == status["units"]["total"] == 3, "status: 3 of 3 validated")
srv = get("/api/v1/server")
check(all(srv["queues"][k] == 0 for k in ("transition", "validate", "assimilate", "unsent",
                                          "in_progress")),
      "no backlog left: %s" % srv["queues"])
check(srv["name"] == "Ozma demo" and srv["database"]["bytes"] > 0 and srv["errors"] == [],
      "server status: name, database size, no server errors")
jobs = srv.get("jobs") or {}
check(all(jobs.get(k, {}).get("last_pass", 0) >= srv["now"] - 60 and jobs[k]["passes"] > 0 and
          jobs[k]["errors"] == 0 for k in ("transitioner", "validator", "assimilator")) and
      jobs["validator"]["done"] >= 3 and jobs["assimilator"]["done"] >= 3,
      "server status: every job passed lately, without failures, the validator and assimilator"
      " over all 3 units: %s" % jobs)

# ---- the injected signals are in the signal table ----------------------------------------------
truth = json.load(open(TRUTH))["signals"]
found = get("/api/v1/signals?dataset=demo&limit=500")["signals"]
missing = []
for t in truth:
    ok = any(s["type"] == t["type"] and
             abs(s["freq_hz"] - (t["freq_hz"] + t["chirp_hz_s"] * (s["time_s"] - t["time_s"])))
             <= max(1.0, FS / s["fft_len"])
             for s in found)
    if not ok:
        missing.append("%s at %.1f Hz" % (t["type"], t["freq_hz"]))
check(len(truth) == 4 and not missing,
      "every injected signal (%s) is in /api/v1/signals%s" %
      (", ".join(t["type"] for t in truth), ": missing " + ", ".join(missing) if missing else ""))
# ---- one candidate per injected signal ----------------------------------------------------------
cands = get("/api/v1/candidates?limit=500")["candidates"]
ids_of = {}
for s in found:
    for t in truth:
        if s["type"] == t["type"] and abs(s["freq_hz"] - (t["freq_hz"] + t["chirp_hz_s"] * (
                s["time_s"] - t["time_s"]))) <= max(1.0, FS / s["fft_len"]):
            ids_of.setdefault(t["type"], set()).add(s["candidate_id"])
by_id = {c["id"]: c for c in cands}
per = {t: sorted(i for i in ids if by_id.get(i) and by_id[i]["rfi"] is None)
       for t, ids in ids_of.items()}
check(len(per) == 4 and all(len(v) == 1 for v in per.values()),
      "each injected signal's detections make one unflagged candidate: %s" % per)
recovered = {v[0] for v in per.values() if v}
noise = [c for c in cands if c["id"] not in recovered]
check(len(recovered) == 4 and len(noise) <= 4 and
      all(c["score"] < min(by_id[i]["score"] for i in recovered) for c in noise),
      "the demo's 4 signals give 4 candidates, ranked above %d noise candidates (of %d signals)"
      % (len(noise), len(found)))
check(all(s["candidate_id"] in by_id for s in found) and
      sum(c["detections"] for c in cands) == len(found),
      "every signal is a detection of exactly one candidate")
top = cands[0]
one = get("/api/v1/candidates/%d" % top["id"])
check(one["detections"] == len(one["signals"]) and one["datasets"][0]["dataset"] == "demo" and
      one["ra_deg"] is not None and abs(one["ra_deg"] - 83.63) < 1e-9 and
      one["freq_bary_hz"] is not None and abs(one["freq_bary_hz"] - one["freq_hz"]) > 1,
      "the top candidate has its detections, its observation, its place and a barycentric "
      "frequency")
latest = get("/api/v1/signals/latest?limit=5")["signals"]
check(len(latest) == min(5, len(found)) and latest[0]["id"] == max(s["id"] for s in found),
      "signals/latest: the newest first")

# ---- credit -----------------------------------------------------------------------------------
flops = testdb.query(PROJECT, "SELECT sum(flops) FROM units")[0][0]
expect = flops / 1e9 / 86400 * 200
users = {u["name"]: u for u in get("/api/v1/users")["users"]}
for name in ("alice", "bob"):
    u = users.get(name)
    check(u is not None and math.isclose(u["total_credit"], expect, rel_tol=1e-9),
          "%s's credit is sum(flops)/1e9/86400*200 = %.9g (got %s)" %
          (name, expect, u and u["total_credit"]))
alice, bob = users["alice"], users["bob"]
check(alice["team_id"] is not None and alice["team_id"] == bob["team_id"],
      "alice and bob are in one team")
team = get("/api/v1/teams/%d" % alice["team_id"])
check(math.isclose(team["total_credit"], 2 * expect, rel_tol=1e-9) and team["nusers"] == 2,
      "the team's credit is both accounts' (%.9g)" % team["total_credit"])
for kind, oid, total in (("users", alice["id"], expect), ("teams", team["id"], 2 * expect)):
    hist = get("/api/v1/%s/%d/credit?days=7" % (kind, oid))
    check(len(hist["days"]) == 7 and math.isclose(sum(x["credit"] for x in hist["days"]), total,
                                                  rel_tol=1e-9),
          "%s/%d/credit: the history adds up to the total" % (kind, oid))

# ---- leaderboards, hosts, results --------------------------------------------------------------
for order in ("total", "rac"):
    names = [u["name"] for u in get("/api/v1/users?order=" + order)["users"]]
    check({"alice", "bob"} <= set(names), "users?order=%s lists alice and bob" % order)
    hosts = get("/api/v1/hosts?order=" + order)["hosts"]
    check(sorted(h["user_name"] for h in hosts) == ["alice", "bob"],
          "hosts?order=%s: one host of each" % order)
    teams = get("/api/v1/teams?order=" + order)["teams"]
    check([t["name"] for t in teams] == ["Demo team"], "teams?order=%s" % order)
page1 = get("/api/v1/users?limit=1")
page2 = get("/api/v1/users?limit=1&after=" + page1["next"])
check(page1["users"][0]["id"] != page2["users"][0]["id"], "the leaderboard pages")
res = get("/api/v1/users/%d/results" % alice["id"])["results"]
check(len(res) == 3 and all(r["validate_state"] == "valid" and r["outcome"] == "success" and
                            math.isclose(sum(x["credit"] for x in res), expect, rel_tol=1e-9)
                            for r in res),
      "alice's recent results: 3, valid, with her credit")
hres = get("/api/v1/hosts/%d/results?limit=2" % res[0]["host_id"])
check(len(hres["results"]) == 2 and hres["next"] is not None, "host results page by 2")
check(fetch("/api/v1/users/999999/results")[0] == 404 and
      fetch("/api/v1/hosts/999999/credit")[0] == 404, "an unknown owner is 404")
check(fetch("/api/v1/throughput?bucket=5")[0] == 400 and fetch("/api/v1/hosts?order=x")[0] == 400
      and fetch("/api/v1/datasets?limit=0")[0] == 400, "bad parameters are 400")
tp = get("/api/v1/throughput?bucket=3600&n=2")
check(sum(b["results"] for b in tp["buckets"]) == 6, "throughput: 6 results in the last 2 hours")

# ---- pages -------------------------------------------------------------------------------------
for path in ("/", "/users", "/users/%d" % alice["id"], "/hosts", "/hosts/1", "/teams",
             "/teams/%d" % team["id"], "/signals", "/status", "/users?order=rac", "/candidates",
             "/candidates/%d" % top["id"]):
    st, h, body = fetch(path)
    csp = h.get("Content-Security-Policy", "")
    check(st == 200 and h.get("Content-Type", "").startswith("text/html") and
          "script-src 'self'" in csp and "default-src 'none'" in csp and
          h.get("X-Content-Type-Options") == "nosniff" and b"<script src=\"/static/app.js\"" in body,
          "page %s: HTML with the CSP and nosniff" % path)
st, h, body = fetch("/static/chart.js")
check(st == 200 and b"Chart.js v3" in body[:200] and "javascript" in h.get("Content-Type", ""),
      "/static/chart.js is Chart.js 3, embedded")
for path in ("/static/app.js", "/static/style.css", "/static/favicon.svg"):
    check(fetch(path)[0] == 200, path)
for path in ("/static/nope.js", "/users/abc", "/users/", "/signal", "/static/../ozma.db"):
    check(fetch(path)[0] == 404, "%s is 404" % path)
check(fetch("/users", data=b"{}", method="POST")[0] == 405, "POST /users is 405")

# ---- /metrics ---------------------------------------------------------------------------------
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"'
                    r'(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*)?\})? '
                    r'(-?[0-9.eE+-]+|NaN|[+-]Inf)$')


def metrics():
    """{(name, labels): value} of a strictly parsed exposition."""
    st, h, body = fetch("/metrics")
    assert st == 200 and h.get("Content-Type", "").startswith("text/plain; version=0.0.4"), st
    types, out = {}, {}
    for n, line in enumerate(body.decode().split("\n")):
        if line == "":
            continue
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("counter", "gauge", "histogram", "summary", "untyped"), line
            assert name not in types, "TYPE twice: " + name
            types[name] = kind
            continue
        m = SAMPLE.match(line)
        assert m, "line %d is not a sample: %r" % (n + 1, line)
        name, labels, value = m.group(1), (m.group(2) or "{}")[1:-1], float(m.group(3))
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        assert name in types or base in types, "sample before its TYPE: " + name
        assert (name, labels) not in out, "duplicate series: %s{%s}" % (name, labels)
        out[(name, labels)] = value
    return types, out


try:
    types, m1 = metrics()
    parsed = True
except AssertionError as e:
    parsed = False
    check(False, "/metrics parses as Prometheus text: %s" % e)
if parsed:
    check(True, "/metrics parses as Prometheus text (%d series)" % len(m1))
    key = ("ozma_http_requests_total", 'method="GET",route="/api/v1/status",code="200"')
    key404 = ("ozma_http_requests_total", 'method="any",route="unmatched",code="404"')
    for _ in range(3):
        get("/api/v1/status")
    fetch("/no/such/thing")
    _, m2 = metrics()
    check(m2.get(key, 0) - m1.get(key, 0) == 3, "3 GETs of /api/v1/status move its counter by 3")
    check(m2.get(key404, 0) - m1.get(key404, 0) == 1, "a 404 moves the unmatched counter by 1")
    work = sum(v for (n, l), v in m2.items()
               if n == "ozma_http_requests_total" and 'route="/api/v1/work"' in l)
    check(work > 0 and m2[("ozma_dispatch_seconds_count", "")] == work and
          m2[("ozma_dispatch_seconds_bucket", 'le="+Inf"')] == work,
          "the dispatch histogram counts every POST /api/v1/work (%d)" % work)
    buckets = [v for (n, l), v in sorted(m2.items(), key=lambda kv: float(
        kv[0][1][4:-1].replace("+Inf", "inf")) if kv[0][0] == "ozma_upload_seconds_bucket" else 0)
        if n == "ozma_upload_seconds_bucket"]
    uploads = m2[("ozma_upload_seconds_count", "")]
    by_put = m2[("ozma_results_accepted_total", 'via="upload"')]
    carried = m2[("ozma_results_accepted_total", 'via="work"')]
    check(buckets == sorted(buckets) and uploads == by_put and by_put + carried == 6,
          "6 results accepted (%d carried in work requests, %d by PUT, each in the upload "
          "histogram), cumulative buckets" % (carried, by_put))
    check(m2[("ozma_units", 'state="validated"')] == 3 and
          m2[("ozma_backlog", 'job="validator"')] == 0 and m2[("ozma_hosts_active", "")] == 2 and
          math.isclose(m2[("ozma_credit_granted_total", "")], 2 * expect, rel_tol=1e-9) and
          m2[("ozma_database_up", "")] == 1,
          "gauges: units validated, backlog, active hosts, credit granted")
    check(m2[("ozma_job_passes_total", 'job="validator"')] >= 1 and
          m2[("ozma_job_items_total", 'job="validator"')] >= 3 and
          m2[("ozma_job_errors_total", 'job="assimilator"')] == 0 and
          m2[("ozma_job_last_pass_seconds", 'job="transitioner"')] > 0,
          "job health series: the validator's passes and items, no assimilator errors")
    check(types.get("ozma_http_requests_total") == "counter" and
          types.get("ozma_dispatch_seconds") == "histogram", "metric types")

# ---- structured logs ---------------------------------------------------------------------------
fetch("/nope%0Aforged=1%20level=error")
fetch("/api/v1/work", data=b"{}", method="POST")  # no token: 401
lines = open(LOG, encoding="utf-8", errors="replace").read().splitlines()
check(lines and lines[0].startswith("ozma-server: serving "), "the first line is the ready line")
LOGLINE = re.compile(r'^ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=(debug|info|warn|error) '
                     r'msg=("([^"\\]|\\.)*"|\S+)( [a-z_]+=("([^"\\]|\\.)*"|\S*))*$')
bad = [l for l in lines[1:] if not LOGLINE.match(l)]
check(not bad, "every other line is ts=... level=... msg=... key=value%s" %
      (": " + repr(bad[:3]) if bad else ""))
check(any('msg="request failed" method=POST path=/api/v1/work status=401 code=unauthorized' in l
          for l in lines), "a 401 is logged at info with method, path, status and code")
check(not any(l.startswith("forged") for l in lines) and
      any('path="/nope?forged=1 level=error"' in l for l in lines),
      "a newline in a path stays inside one quoted value, not a new line")

# ---- an account named <script>alert(1)</script> ------------------------------------------------
XSS = "<script>alert(1)</script>"
st, _, body = fetch("/api/v1/accounts", data=json.dumps({"name": XSS}).encode(), method="POST")
if check(st == 200, "an account named %s can be created" % XSS):
    acct = json.loads(body)["account_id"]
    check(get("/api/v1/users/%d" % acct)["name"] == XSS, "its name is served as the exact text")

if FAILURES:
    print("%d failure(s)" % len(FAILURES), file=sys.stderr)
    sys.exit(1)
print("all end-to-end checks passed")
